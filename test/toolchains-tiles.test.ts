// Checking data tiles for the scan (src/toolchains/tile-check.ts) in this thread and in worker threads
// (tile-workers.ts): its latin1 digests are the hashes of src/tlog, a tile is accepted exactly when its
// records hash to what vouches for it, and a worker answers exactly as this thread does, down to a whole
// scan.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { SumdbClient } from '../src/sumdb/client.js';
import { decodeDataTile, encodeDataTile, formatGoSumRecord } from '../src/sumdb/record.js';
import { encodeBase64 } from '../src/tlog/encoding.js';
import { leafHash, nodeHash } from '../src/tlog/merkle.js';
import { perfectSubtreeHash } from '../src/tlog/tile.js';
import { moduleVersionKeyInto } from '../src/toolchains/module-index.js';
import { type TileCheckJob, checkDataTile, leafDigest, nodeDigest, perfectSubtreeDigest } from '../src/toolchains/tile-check.js';
import { alarmKey } from '../src/toolchains/record.js';
import { scanSumdb } from '../src/toolchains/scan.js';
import { TileCheckPool, defaultTileWorkers } from '../src/toolchains/tile-workers.js';
import { tempDir } from './helpers/fixtures.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';
import { h1, toolchainText, witnessLogWithTags } from './helpers/toolchains.js';

const latin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
const H1 = `h1:${encodeBase64(new Uint8Array(32).fill(7))}`;

function texts(n: number, seed = 0): string[] {
  return Array.from({ length: n }, (_, i) =>
    i % 50 === 3 ? `not two go.sum lines ${seed} ${i}\n` : formatGoSumRecord({ path: `example.com/m${seed}/${i}`, version: `v1.${i}.0`, hash: H1, goModHash: H1 }),
  );
}

test('the latin1 digests are the leaf, node and subtree hashes of src/tlog', () => {
  for (let n = 0; n < 300; n += 7) {
    const text = Buffer.from('x'.repeat(n) + '\n');
    assert.equal(leafDigest(text), latin1(leafHash(text)));
  }
  const big = Buffer.alloc(10_000, 0x61);
  assert.equal(leafDigest(big), latin1(leafHash(big)), 'longer than the scratch buffer');
  const a = leafHash(Buffer.from('a\n'));
  const b = leafHash(Buffer.from('b\n'));
  assert.equal(nodeDigest(latin1(a), latin1(b)), latin1(nodeHash(a, b)));
  for (const width of [1, 2, 4, 256]) {
    const leaves = texts(width).map((text) => leafHash(Buffer.from(text)));
    assert.equal(perfectSubtreeDigest(leaves.map(latin1)), latin1(perfectSubtreeHash(leaves)), `${width} leaves`);
  }
  assert.throws(() => perfectSubtreeDigest(['x'.repeat(32), 'x'.repeat(32), 'x'.repeat(32)]));
  assert.throws(() => nodeDigest('short', 'x'.repeat(32)));
});

/** A full tile with its level-1 entry, and a partial one with its level-0 hashes. */
function jobs(): { full: TileCheckJob; partial: TileCheckJob; records: { full: string[]; partial: string[] } } {
  const fullTexts = texts(256, 1);
  const partialTexts = texts(37, 2);
  const full = encodeDataTile(fullTexts);
  const partial = encodeDataTile(partialTexts);
  return {
    full: { body: full, served: 256, width: 256, voucher: 1, expected: perfectSubtreeHash(fullTexts.map((t) => leafHash(Buffer.from(t)))) },
    partial: { body: partial, served: 37, width: 37, voucher: 0, expected: Buffer.concat(partialTexts.map((t) => leafHash(Buffer.from(t)))) },
    records: { full: fullTexts, partial: partialTexts },
  };
}

const copy = (job: TileCheckJob, change: Partial<TileCheckJob> = {}): TileCheckJob => ({ ...job, body: Uint8Array.from(job.body), expected: Uint8Array.from(job.expected), ...change });

/** What checkDataTile says, with the records cut out of the body by the offsets. */
function outcome(result: ReturnType<typeof checkDataTile>, body: Uint8Array): unknown {
  if (!result.ok) return result;
  const records = Array.from({ length: result.ends.length }, (_, i) => latin1(body.subarray(result.offsets[i]!, result.offsets[i + 1]! - 1)));
  return { records, keys: [...result.keys], ends: [...result.ends] };
}

test('checkDataTile: records, keys and ends of a tile that authenticates; refusals of one that does not', () => {
  const { full, partial, records } = jobs();
  const key = new Uint32Array(2);
  for (const [job, want] of [[full, records.full], [partial, records.partial]] as const) {
    const result = checkDataTile(copy(job));
    assert.ok(result.ok);
    const texts = decodeDataTile(job.body, job.served);
    const keys: number[] = [];
    const ends = texts.map((text) => {
      const end = moduleVersionKeyInto(text, key);
      keys.push(key[0]!, key[1]!);
      return end;
    });
    assert.deepEqual(outcome(result, job.body), { records: want, keys, ends });
  }
  // A full tile served for a deleted partial one: only the tree's records are kept.
  const first37 = checkDataTile(copy(full, { width: 37, voucher: 0, expected: Buffer.concat(records.full.slice(0, 37).map((t) => leafHash(Buffer.from(t)))) }));
  assert.ok(first37.ok && first37.ends.length === 37);
  assert.deepEqual((outcome(first37, full.body) as { records: string[] }).records, records.full.slice(0, 37));
  // One byte of one record changed (in a full and in a partial tile), or the wrong voucher: a mismatch.
  for (const job of [full, partial]) {
    const body = Uint8Array.from(job.body);
    body[100] = body[100] === 0x61 ? 0x62 : 0x61;
    assert.deepEqual(checkDataTile(copy(job, { body })), { ok: false, mismatch: true });
  }
  assert.deepEqual(checkDataTile(copy(full, { expected: new Uint8Array(32) })), { ok: false, mismatch: true });
  // Not a data tile: decodeDataTile's reason.
  const blank = Uint8Array.from([...partial.body, 0x0a]);
  const malformed = checkDataTile(copy(partial, { body: blank }));
  assert.ok(!malformed.ok && 'malformed' in malformed);
  assert.throws(() => decodeDataTile(blank, 37), (error: Error) => error.message === malformed.malformed);
  assert.ok(!checkDataTile(copy(partial, { served: 36, width: 36, expected: partial.expected.subarray(0, 36 * 32) })).ok, 'a record too many');
});

test('a worker thread answers exactly as this thread, and gives the bytes back', async () => {
  const { full, partial } = jobs();
  const tampered = Uint8Array.from(full.body);
  tampered[5000] = tampered[5000]! ^ 0x01;
  const cases = [full, partial, copy(full, { body: tampered }), copy(partial, { body: Uint8Array.from([...partial.body, 0x0a]) })];
  const pool = new TileCheckPool(1);
  try {
    const answers = await Promise.all(cases.map((job) => pool.check(copy(job))));
    assert.equal(pool.threaded, true);
    answers.forEach(({ result, body }, i) => {
      assert.deepEqual(latin1(body), latin1(cases[i]!.body), `case ${i}: the bytes come back`);
      assert.deepEqual(outcome(result, body), outcome(checkDataTile(copy(cases[i]!)), cases[i]!.body), `case ${i}`);
    });
    // A job the worker cannot run (expected hashes of the wrong length) fails that job, typed.
    await assert.rejects(pool.check(copy(full, { expected: new Uint8Array(5) })), (error: Error & { code?: string }) => error.code === 'SCAN_WORKER_FAILED');
    assert.ok((await pool.check(copy(partial))).result.ok, 'the worker serves on');
  } finally {
    await pool.close();
  }
});

test('two workers, two messages in flight each: 200 jobs, each answered with its own result and bytes', async () => {
  const { full, partial } = jobs();
  const tampered = Uint8Array.from(full.body);
  tampered[77] = tampered[77]! ^ 0x02;
  const cases = Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? copy(full, { body: tampered }) : copy(i % 2 ? full : partial)));
  const pool = new TileCheckPool(2);
  try {
    const answers = await Promise.all(cases.map((job) => pool.check(copy(job))));
    assert.equal(pool.threaded, true);
    answers.forEach(({ result, body }, i) => {
      assert.deepEqual(latin1(body), latin1(cases[i]!.body), `job ${i}: its own bytes come back`);
      assert.deepEqual(outcome(result, body), outcome(checkDataTile(copy(cases[i]!)), cases[i]!.body), `job ${i}`);
    });
  } finally {
    await pool.close();
  }
});

test('a worker that dies holding two messages fails the jobs of both, typed, and the pool refuses more', async () => {
  const { full, partial } = jobs();
  const pool = new TileCheckPool(1, new URL('./helpers/dying-tile-worker.mjs', import.meta.url).href);
  try {
    // The first check starts the worker; once it is ready it is sent up to 16 jobs per message, two messages.
    const first = pool.check(copy(full));
    const settled = await Promise.allSettled([first, ...Array.from({ length: 40 }, (_, i) => pool.check(copy(i % 2 ? full : partial)))]);
    assert.ok(settled.every((outcome) => outcome.status === 'rejected' && (outcome.reason as { code?: string }).code === 'SCAN_WORKER_FAILED'), 'every job fails: none is left waiting');
    await assert.rejects(pool.check(copy(partial)), (error: Error & { code?: string }) => error.code === 'SCAN_WORKER_FAILED' && /exited \(code 3\)/.test(error.message));
  } finally {
    await pool.close();
  }
});

test('workers that cannot load their module: the pool checks in this thread instead', async () => {
  const { full, partial } = jobs();
  const pool = new TileCheckPool(2, new URL('./no-such-tile-worker.js', import.meta.url).href);
  try {
    const answers = await Promise.all([full, partial, full].map((job) => pool.check(copy(job))));
    assert.ok(answers.every(({ result }) => result.ok));
    assert.equal(pool.threaded, false);
    assert.ok((await pool.check(copy(partial))).result.ok);
  } finally {
    await pool.close();
  }
});

test('a scan with a hashing worker finds what a scan in one thread finds, and refuses a tampered tile the same way', async () => {
  const sumdb = new SumdbTestLog();
  const toolchains: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    if (i % 211 === 7) toolchains.push(sumdb.append(toolchainText(i % 3 ? 'go1.21.0' : 'go1.99.1', `linux/amd64x${i}`, String(i))));
    else if (i === 1_500) sumdb.append(syntheticGoSumRecord(42, 'w').replace(/h1:[^\n]+\n/, `${h1('d')}\n`), { duplicate: true }); // record 42's module version again
    else sumdb.append(syntheticGoSumRecord(i, 'w'));
  }
  const server = await startSumdbServer(sumdb);
  try {
    const scan = async (workers: number) => {
      const dir = tempDir();
      const { log, key } = await witnessLogWithTags(dir);
      const client = new SumdbClient({ baseUrl: server.url, verifierKey: sumdb.verifierKey });
      return scanSumdb({ client, log, signer: key.signerKey, stateDir: path.join(dir, 'state'), batchTiles: 2, workers, tagGraceDays: 100_000, now: () => new Date('2026-01-01T00:00:00Z') });
    };
    const summary = (report: Awaited<ReturnType<typeof scanSumdb>>) => ({
      position: report.position,
      records: report.recordsScanned,
      malformed: report.malformedRecords,
      toolchains: report.toolchains.map(({ toolchain }) => [toolchain.record, toolchain.moduleVersion, toolchain.goSum]),
      alarms: report.alarms.map(({ alarm }) => alarmKey(alarm)),
    });
    const inThread = summary(await scan(0));
    assert.deepEqual(inThread.toolchains.map(([record]) => Number(record)), toolchains);
    assert.ok(inThread.alarms.includes('duplicate-module-version 1500'), inThread.alarms.join());
    assert.deepEqual(summary(await scan(1)), inThread);
    server.tamper = { record: { id: toolchains[1]!, text: toolchainText('go1.21.0', 'linux/amd64', 'forged') } };
    for (const workers of [0, 1]) await assert.rejects(scan(workers), (error: Error & { code?: string }) => error.code === 'BAD_TILES', `workers: ${workers}`);
  } finally {
    server.tamper = {};
    await server.close();
  }
});

test('defaultTileWorkers: none on one CPU, one on two (measured faster there), one per CPU beyond two up to 4', () => {
  assert.deepEqual([1, 2, 3, 4, 6, 16].map(defaultTileWorkers), [0, 1, 1, 2, 4, 4]);
});
