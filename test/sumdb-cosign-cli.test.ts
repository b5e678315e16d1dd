// `witness sumdb cosign` end to end against the sumdb test server: repeated rounds cosign a growing log;
// a forked head produces an evidence record and exit 1 (issue "sumdb witness", done-when).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { cosignedCheckpointPath } from '../src/cosign/records.js';
import { WitnessLog } from '../src/log/log.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { cosignatureVerifier } from '../src/tlog/cosignature.js';
import { noteVerifier, openNote } from '../src/tlog/note.js';
import { tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';
import { runWitnessAsync } from './helpers/tag-repo.js';

test('repeated cosign rounds follow a growing sumdb; a fork is evidence (exit 1)', async () => {
  const sumdb = new SumdbTestLog();
  const record = (i: number) => syntheticGoSumRecord(i, 'm');
  for (let i = 0; i < 300; i++) sumdb.append(record(i));
  const server = await startSumdbServer(sumdb);
  after(() => server.close());

  const witnessLog = testSignerKey('example.com/witness-log', 31);
  const cosigner = testSignerKey('witness.example.com/w', 32);
  const dir = tempDir();
  const { log } = await WitnessLog.init(path.join(dir, 'log'), witnessLog.signerKey);
  const args = [
    'sumdb', 'cosign',
    '--log', log.dir,
    '--url', server.url,
    '--sumdb-vkey', sumdb.verifierKey,
    '--cosigner-key', writeKeyFile(cosigner.skey),
    '--key', writeKeyFile(witnessLog.skey),
    '--state', path.join(dir, 'state'),
  ];

  let result = await runWitnessAsync(args);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /size 300 .*FIRST USE/);
  for (const grow of [1, 255, 700]) {
    for (let i = 0; i < grow; i++) sumdb.append(record(sumdb.size));
    result = await runWitnessAsync(args);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /consistency proven from tiles/);
  }
  result = await runWitnessAsync(args);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /unchanged, cosigned again/);

  // The published cosigned checkpoint (monitoring path) verifies with the log key and our 0x04 key.
  const json = await runWitnessAsync([...args, '--json']);
  const cosignerVkey = (JSON.parse(json.stdout) as { cosigner: string }).cosigner;
  const view = readFileSync(path.join(log.dir, cosignedCheckpointPath('go.sum database tree')), 'utf8');
  assert.equal(openNote(view, [noteVerifier(sumdb.verifierKey), cosignatureVerifier(cosignerVkey)]).signatures.length, 2);

  // A fork: the same key signs a different history that is longer.
  const fork = new SumdbTestLog({ keyName: sumdb.keyName, signerKey: sumdb.signerKey });
  for (let i = 0; i < 1400; i++) fork.append(record(i + 5_000));
  server.log = fork;
  result = await runWitnessAsync(args);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /EVIDENCE OF A SPLIT VIEW/);
  const report = await verifyLogFolder(log.dir, { verifierKey: witnessLog.vkey });
  assert.equal(report.recordTypes.evidence, 1);
  assert.equal(report.recordTypes.cosigned, 4);
});

test('a state folder missing or behind the witness log is refused, not trusted on first use again; --restore-state-from-log continues from the log', async () => {
  const sumdb = new SumdbTestLog();
  const record = (i: number) => syntheticGoSumRecord(i, 'r');
  for (let i = 0; i < 40; i++) sumdb.append(record(i));
  const server = await startSumdbServer(sumdb);
  after(() => server.close());
  const witnessLog = testSignerKey('example.com/witness-log', 41);
  const cosigner = testSignerKey('witness.example.com/w', 42);
  const dir = tempDir();
  const { log } = await WitnessLog.init(path.join(dir, 'log'), witnessLog.signerKey);
  const common = ['sumdb', 'cosign', '--log', log.dir, '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--key', writeKeyFile(witnessLog.skey)];
  const cosignerKey = writeKeyFile(cosigner.skey);
  const round = (state: string, ...extra: string[]) => runWitnessAsync([...common, '--cosigner-key', cosignerKey, '--state', path.join(dir, state), ...extra]);
  const logSize = async () => (await verifyLogFolder(log.dir, { verifierKey: witnessLog.vkey })).size;

  let result = await round('state-a');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /size 40 .*FIRST USE/);
  cpSync(path.join(dir, 'state-a'), path.join(dir, 'state-old'), { recursive: true }); // a backup at size 40
  for (let i = 0; i < 30; i++) sumdb.append(record(sumdb.size));
  result = await round('state-a');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /size 40 -> 70 .*consistency proven/);
  const size = await logSize();

  // A new, empty state folder (an evicted cache): refused before anything is fetched or appended.
  server.requests.length = 0;
  result = await round('state-b');
  assert.equal(result.code, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /has nothing for "go.sum database tree", but the witness log cosigned size 70 .*refusing to trust on first use again.*--restore-state-from-log.*\[STATE_BEHIND_LOG\]/);
  assert.deepEqual(server.requests, []);
  assert.equal(await logSize(), size);
  // The old backup (size 40 while the log says 70) is refused too.
  result = await round('state-old');
  assert.equal(result.code, 2, result.stdout + result.stderr);
  assert.match(result.stderr, /is at size 40 for "go.sum database tree", but the witness log cosigned size 70/);

  // With --restore-state-from-log: continues from the log's checkpoint with a consistency proof.
  for (let i = 0; i < 5; i++) sumdb.append(record(sumdb.size));
  result = await round('state-b', '--restore-state-from-log');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /restored +"go.sum database tree" size none -> 70 from the witness log/);
  assert.match(result.stdout, /size 70 -> 75 .*consistency proven/);
  assert.doesNotMatch(result.stdout, /FIRST USE/);
  result = await round('state-old', '--restore-state-from-log');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /restored +"go.sum database tree" size 40 -> 75 from the witness log/);
  assert.match(result.stdout, /unchanged, cosigned again/);

  // Another cosigner's records do not count as this one's state: it starts with first use.
  const other = testSignerKey('witness.example.com/other', 43);
  result = await runWitnessAsync([...common, '--cosigner-key', writeKeyFile(other.skey), '--state', path.join(dir, 'state-other')]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /size 75 .*FIRST USE/);
});
