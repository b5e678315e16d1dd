// `witness sumdb cosign` end to end against the sumdb test server: repeated rounds cosign a growing log;
// a forked head produces an evidence record and exit 1 (issue "sumdb witness", done-when).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
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
