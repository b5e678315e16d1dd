// Crash safety of pull-mode cosigning: `witness sumdb cosign` killed (SIGKILL, with its git children) at
// random moments while the database grows. Afterwards the state parses and only grows, the witness log
// verifies, and the state is never behind a cosignature that left a process (a cosigned record in the
// log, or one printed by a round that finished).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, test } from 'node:test';
import { WitnessStateStore } from '../src/cosign/state.js';
import { WitnessLog } from '../src/log/log.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { logRecords, runWitnessAndMaybeKill, verifyAfterKill } from './helpers/crash.js';
import { tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';

const ROUNDS = Number(process.env.WITNESS_COSIGN_CRASH_ROUNDS ?? 16);

test(`kill -9 during sumdb cosign rounds, ${ROUNDS} times: the state is never behind a cosignature`, { timeout: 300_000 }, async () => {
  const sumdb = new SumdbTestLog();
  const record = (i: number) => syntheticGoSumRecord(i, 'c');
  for (let i = 0; i < 50; i++) sumdb.append(record(i));
  const server = await startSumdbServer(sumdb);
  after(() => server.close());
  const witnessLog = testSignerKey('example.com/crash-witness-log', 41);
  const cosigner = testSignerKey('witness.example.com/crash', 42);
  const dir = tempDir();
  const { log } = await WitnessLog.init(path.join(dir, 'log'), witnessLog.signerKey);
  const stateDir = path.join(dir, 'state');
  const args = ['sumdb', 'cosign', '--log', log.dir, '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--cosigner-key', writeKeyFile(cosigner.skey), '--key', writeKeyFile(witnessLog.skey), '--state', stateDir];
  let lastState = 0n;
  let maxPrinted = 0n;
  let kills = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0, n = 1 + Math.floor(Math.random() * 400); i < n; i++) sumdb.append(record(sumdb.size));
    const run = await runWitnessAndMaybeKill(args, 250 + Math.floor(Math.random() * 900));
    if (!run.finished) kills++;
    for (const match of run.stdout.matchAll(/-> (\d+) from|size (\d+) from/g)) {
      const size = BigInt(match[1] ?? match[2]!);
      if (size > maxPrinted) maxPrinted = size;
    }
    const state = await (await WitnessStateStore.open(stateDir)).read('go.sum database tree');
    const stateSize = state?.checkpoint.size ?? 0n;
    assert.ok(stateSize >= lastState, `round ${round}: state went back from ${lastState} to ${stateSize}`);
    assert.ok(stateSize >= maxPrinted, `round ${round}: a cosignature for size ${maxPrinted} left a process but the state is at ${stateSize}`);
    lastState = stateSize;
    const report = await verifyAfterKill(log.dir, witnessLog.vkey, `round ${round}`);
    for (const { record: cosigned } of await logRecords(log.dir, report.size)) {
      if (cosigned.type !== 'cosigned') continue;
      const size = BigInt(cosigned.fields.find((f) => f.key === 'size')!.value);
      assert.ok(stateSize >= size, `round ${round}: the log records a cosignature at size ${size}, the state is at ${stateSize}`);
    }
  }
  assert.ok(kills >= 3, `only ${kills} of ${ROUNDS} rounds were killed mid-way`);
  // A final round completes cleanly.
  const final = await runWitnessAndMaybeKill(args, 60_000);
  assert.ok(final.finished);
  const report = await verifyLogFolder(log.dir, { verifierKey: witnessLog.vkey });
  assert.ok((report.recordTypes.cosigned ?? 0) >= 1);
});
