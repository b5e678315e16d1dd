// Crash safety of `witness sumdb scan`: killed (SIGKILL, with its git children) at random moments, at
// the two points between an append and the position commit, and before the scan record, while the
// database grows. After each kill
// the witness log verifies, the position never goes back, and at the end every toolchain record of the
// database is in the log exactly once (no gap, no duplicate) and each alarm once.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { verifyLogFolder } from '../src/log/verify.js';
import { toolchainLedgerFromRecords } from '../src/toolchains/ledger.js';
import { alarmKey } from '../src/toolchains/record.js';
import { SCAN_CRASH_POINTS, ScanState } from '../src/toolchains/state.js';
import { logRecords, runWitnessAndMaybeKill, verifyAfterKill } from './helpers/crash.js';
import { tempDir, writeKeyFile } from './helpers/fixtures.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';
import { toolchainText, witnessLogWithTags } from './helpers/toolchains.js';

const TRIALS = Number(process.env.WITNESS_SCAN_CRASH_TRIALS ?? 20);

test(`kill -9 during sumdb scans, ${TRIALS} trials: no gap, no duplicate, no rollback`, { timeout: 300_000 }, async () => {
  const sumdb = new SumdbTestLog();
  const expected: number[] = [];
  let filler = 0;
  const targets = ['linux/amd64', 'linux/arm64', 'darwin/arm64', 'windows/amd64', 'linux/386', 'freebsd/amd64'];
  let toolchains = 0;
  const grow = (records: number) => {
    for (let i = 0; i < records; i++) {
      if (i % 97 === 50) {
        const n = toolchains++;
        // Tagged and untagged versions (the latter raise an alarm once per version).
        const version = n % 5 === 4 ? `go1.99.${n}` : 'go1.21.0';
        expected.push(sumdb.append(toolchainText(version, `${targets[n % targets.length]!}x${n}`, String(n))));
      } else {
        sumdb.append(syntheticGoSumRecord(filler++, 'k'));
      }
    }
  };
  grow(3000);
  const server = await startSumdbServer(sumdb);
  after(() => server.close());
  const dir = tempDir();
  const { log, key } = await witnessLogWithTags(dir);
  const stateDir = path.join(dir, 'state');
  const args = ['sumdb', 'scan', '--log', log.dir, '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--key', writeKeyFile(key.skey), '--state', stateDir, '--batch-tiles', '1', '--commit-seconds', '0', '--concurrency', '2', '--tag-grace-days', '100000'];

  let lastPosition = 0n;
  let lastSize = 0n;
  let kills = 0;
  for (let trial = 0; trial < TRIALS; trial++) {
    if (trial % 3 !== 0) grow(500 + Math.floor(Math.random() * 800));
    // Every third trial dies at a named point between an append and the position commit.
    const point = trial % 3 === 2 ? SCAN_CRASH_POINTS[(trial / 3) % SCAN_CRASH_POINTS.length | 0] : undefined;
    const env = point ? { ...process.env, GO_SOURCE_WITNESS_CRASH_POINT: point } : process.env;
    const run = await runWitnessAndMaybeKill(args, point ? 60_000 : 900 + Math.floor(Math.random() * 1500), env);
    if (point) assert.ok(run.killed, `trial ${trial}: did not reach ${point}: ${run.stderr}`);
    if (run.killed) kills++;
    else assert.ok(run.code === 0 || run.code === 1, `trial ${trial}: exit ${run.code}: ${run.stderr}`);
    const report = await verifyAfterKill(log.dir, key.vkey, `trial ${trial}`);
    assert.ok(report.size >= lastSize, `trial ${trial}: the log shrank`);
    lastSize = report.size;
    const state = await ScanState.open(stateDir, sumdb.verifierKey);
    const position = state.position?.position ?? 0n;
    await state.close();
    assert.ok(position >= lastPosition, `trial ${trial}: the position went back from ${lastPosition} to ${position}`);
    lastPosition = position;
    // The log's scan record never claims more than the state has scanned.
    const logged = toolchainLedgerFromRecords(await logRecords(log.dir, report.size)).scans.lastOf(sumdb.verifierKey);
    assert.ok(!logged || logged.scan.position <= position, `trial ${trial}: the log's scan record is at ${logged?.scan.position}, ahead of the state's ${position}`);
    // Everything below the position is in the log (no gap); verify already refuses a record twice.
    const ledger = toolchainLedgerFromRecords(await logRecords(log.dir, report.size));
    for (const record of expected) if (BigInt(record) < position) assert.ok(ledger.byRecord.has(BigInt(record)), `trial ${trial}: record ${record} below position ${position} is missing`);
  }
  assert.ok(kills >= TRIALS / 3, `only ${kills} of ${TRIALS} trials were killed`);
  const final = await runWitnessAndMaybeKill(args, 120_000);
  assert.ok(!final.killed && (final.code === 0 || final.code === 1), final.stderr);
  const report = await verifyLogFolder(log.dir, { verifierKey: key.vkey });
  const ledger = toolchainLedgerFromRecords(await logRecords(log.dir, report.size));
  assert.deepEqual(ledger.toolchains.map(({ toolchain }) => Number(toolchain.record)), expected);
  // The last run left the log's scan record where the state is, with the state's module index.
  const state = await ScanState.open(stateDir, sumdb.verifierKey);
  try {
    const logged = ledger.scans.lastOf(sumdb.verifierKey);
    assert.equal(logged?.scan.position, state.position?.position);
    assert.equal(logged?.scan.position, BigInt(sumdb.size));
    assert.equal(logged?.scan.moduleIndex, await state.indexDigest());
  } finally {
    await state.close();
  }
  const untagged = new Set(expected.map((_, n) => (n % 5 === 4 ? `go1.99.${n}` : undefined)).filter((v) => v !== undefined));
  assert.deepEqual(ledger.alarms.map(({ alarm }) => alarmKey(alarm)).sort(), [...untagged].map((v) => `toolchain-without-source ${v}`).sort());
});
