// Benchmark: build a log of N synthetic entries (default 1,000,000), then time `verify` (every entry,
// tile, signature and the git history) against a baseline measured in the same run: hashing the same
// leaves and all interior nodes with node:crypto alone. Quality bar (PRODUCT.md): verify <= 2x baseline.
import { createHash, hash as oneShot } from 'node:crypto';

const hash256 = (data: Buffer): Buffer => oneShot('sha256', data, 'buffer');
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { WitnessLog } from '../../src/log/log.js';
import { formatRecord } from '../../src/log/record.js';
import { verifyLogFolder } from '../../src/log/verify.js';
import { generateKeyPair, parseSignerKey } from '../../src/tlog-node/signer.js';

const entries = Number(process.env.BENCH_ENTRIES ?? 1_000_000);

function syntheticEntry(i: number): Uint8Array {
  return formatRecord({
    type: 'bench',
    version: 1,
    fields: [
      { key: 'n', value: String(i) },
      { key: 'ref', value: `refs/tags/bench${i}` },
      { key: 'commit', value: createHash('sha1').update(String(i)).digest('hex') },
    ],
  });
}

/** The floor: SHA-256 of every leaf (0x00 || entry) and interior node (0x01 || l || r), nothing else. */
function hashLeavesAndNodes(data: Uint8Array[]): number {
  // The fastest plain node:crypto path: one-shot crypto.hash over one buffer per hash.
  let hashes = 0;
  const stack: Buffer[] = [];
  const sizes: number[] = [];
  const node = Buffer.alloc(65);
  node[0] = 1;
  const leaf = Buffer.alloc(1 + 0xffff);
  for (const entry of data) {
    leaf.set(entry, 1);
    let hash = hash256(leaf.subarray(0, 1 + entry.length));
    hashes++;
    let size = 1;
    while (sizes.length > 0 && sizes[sizes.length - 1] === size) {
      stack.pop()!.copy(node, 1);
      hash.copy(node, 33);
      hash = hash256(node);
      hashes++;
      sizes.pop();
      size *= 2;
    }
    stack.push(hash);
    sizes.push(size);
  }
  return hashes;
}

export async function benchVerifyLog(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'witness-bench-'));
  try {
    const { signerKey } = generateKeyPair('bench.example/log');
    const key = parseSignerKey(signerKey);
    const dir = path.join(work, 'log');
    const { log } = await WitnessLog.init(dir, key);
    const data = Array.from({ length: entries }, (_, i) => syntheticEntry(i));

    let start = performance.now();
    await log.append(data.slice(0, Math.floor(entries / 2)), key);
    await log.append(data.slice(Math.floor(entries / 2)), key);
    const buildMs = performance.now() - start;

    start = performance.now();
    const hashes = hashLeavesAndNodes(data);
    const baselineMs = performance.now() - start;

    start = performance.now();
    const report = await verifyLogFolder(dir);
    const verifyMs = performance.now() - start;
    if (report.size !== BigInt(entries)) throw new Error(`verify saw ${report.size} entries`);

    const ratio = verifyMs / baselineMs;
    console.log(`verify-log: ${entries.toLocaleString('en')} entries, ${report.hashTiles} hash tiles, ${report.entryBundles} entry bundles, ${report.history.checkpoints.length} checkpoints in git`);
    console.log(`  build (2 appends, incl. git commits)      ${(buildMs / 1000).toFixed(2)} s`);
    console.log(`  baseline: ${hashes.toLocaleString('en')} SHA-256 leaf+node hashes ${(baselineMs / 1000).toFixed(2)} s`);
    console.log(`  witness verify (entries, tiles, history)  ${(verifyMs / 1000).toFixed(2)} s`);
    console.log(`  ratio verify / baseline: ${ratio.toFixed(2)}x (goal <= 2x) ${ratio <= 2 ? 'MET' : 'NOT MET'}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
