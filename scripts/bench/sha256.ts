// Benchmark: SHA-256 through node:crypto (src/tlog/sha256.ts, what Node uses) against @noble/hashes (the
// browser's path), on the inputs a tlog hashes: 65-byte interior nodes (0x01 || left || right), ~120-byte
// leaves (0x00 || a record), and 8 MiB of bulk data. Each side runs 5 times, alternating; medians and the
// ratio noble time / node:crypto time are printed (above 1: node:crypto is faster).
import { hash, randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256 } from '../../src/tlog/sha256.js';
import { perfectSubtreeDigest } from '../../src/toolchains/tile-check.js';
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
  // The scan's node digests (src/toolchains/tile-check.ts nodeDigest): latin1 children copied into the
  // 65-byte input character by character, against Buffer.write of left + right (what it did before).
  const input = Buffer.alloc(65);
  input[0] = 0x01;
  const written = (left: string, right: string): string => {
    input.write(left + right, 1, 64, 'latin1');
    return hash('sha256', input, 'binary');
  };
  const leaves = Array.from({ length: 256 }, () => randomBytes(32).toString('latin1'));
  const fold = (node: (left: string, right: string) => string): string => {
    const digests = [...leaves];
    for (let width = 256; width > 1; width >>= 1) for (let i = 0; i < width >> 1; i++) digests[i] = node(digests[2 * i]!, digests[2 * i + 1]!);
    return digests[0]!;
  };
  const TREES = 2_000;
  const time = (run: () => string): number => {
    const start = performance.now();
    for (let i = 0; i < TREES; i++) run();
    return performance.now() - start;
  };
  if (fold(written) !== perfectSubtreeDigest([...leaves])) throw new Error('the two node digests differ');
  const byChar: number[] = [];
  const byWrite: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    byChar.push(time(() => perfectSubtreeDigest([...leaves])));
    byWrite.push(time(() => fold(written)));
  }
  const [c, w] = [median(byChar), median(byWrite)];
  console.log(`  ${`${TREES} tiles, 255 node digests each`.padEnd(36)} charCodeAt ${c.toFixed(1).padStart(7)} ms   Buffer.write ${w.toFixed(1).padStart(7)} ms   charCodeAt is ${(w / c).toFixed(2)}x faster`);
}
