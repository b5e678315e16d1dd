// Benchmark: SHA-256 through node:crypto (src/tlog/sha256.ts, what Node uses) against @noble/hashes (the
// browser's path), on the inputs a tlog hashes: 65-byte interior nodes (0x01 || left || right), ~120-byte
// leaves (0x00 || a record), and 8 MiB of bulk data. Each side runs 5 times, alternating; medians and the
// ratio noble time / node:crypto time are printed (above 1: node:crypto is faster).
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256 } from '../../src/tlog/sha256.js';
import { median } from './stats.js';

const RUNS = 5;

function timed(inputs: readonly Uint8Array[], hash: (data: Uint8Array) => Uint8Array): number {
  const start = performance.now();
  let sink = 0;
  for (const input of inputs) sink ^= hash(input)[0]!;
  const ms = performance.now() - start;
  if (sink === 256) throw new Error('unreachable');
  return ms;
}

export async function benchSha256(): Promise<void> {
  console.log(`sha256: node:crypto (src/tlog/sha256.ts) vs @noble/hashes; load average ${loadavg()[0]!.toFixed(1)}`);
  const cases: Array<[string, Uint8Array[]]> = [
    ['200,000 interior nodes (65 bytes)', Array.from({ length: 200_000 }, () => randomBytes(65))],
    ['200,000 leaves (121 bytes)', Array.from({ length: 200_000 }, () => randomBytes(121))],
    ['8 MiB bulk (one input)', [randomBytes(8 << 20)]],
  ];
  for (const [what, inputs] of cases) {
    timed(inputs, sha256);
    timed(inputs, nobleSha256);
    const node: number[] = [];
    const noble: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      node.push(timed(inputs, sha256));
      noble.push(timed(inputs, nobleSha256));
    }
    const [a, b] = [median(node), median(noble)];
    console.log(`  ${what.padEnd(36)} node:crypto ${a.toFixed(1).padStart(7)} ms   @noble ${b.toFixed(1).padStart(7)} ms   node:crypto is ${(b / a).toFixed(1)}x faster`);
  }
}
