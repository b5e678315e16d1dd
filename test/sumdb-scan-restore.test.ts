// The scan record (sumdb-scan/v1, src/toolchains/scan-record.ts) and `sumdb scan --restore-state-from-log`:
// every run that moves the position signs it into the log with the SHA-256 of its module index; a lost
// state (a new CI runner) continues from the log only with the very index that record signs, so a cache
// that hands back another index (stale, cut short, altered, a link) makes the scan start afresh, never
// skip records or lose what finds a module version published twice.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, copyFileSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WitnessLog } from '../src/log/log.js';
import { parseRecord } from '../src/log/record.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { toolchainLedgerFromRecords } from '../src/toolchains/ledger.js';
import { type ScanRecord, parseScanRecord, scanRecordToLogRecord } from '../src/toolchains/scan-record.js';
import { ScanState } from '../src/toolchains/state.js';
import { tempDir, writeKeyFile } from './helpers/fixtures.js';
import { SumdbTestLog, type SumdbTestServer, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';
import { toolchainText, witness, witnessLogWithTags } from './helpers/toolchains.js';

interface Report {
  start: string;
  from: string;
  position: string;
  tilesRead: number;
  recordsScanned: number;
  toolchains: unknown[];
  alarms: Array<{ alarm: { kind: string } }>;
  restore?: { restored: boolean; index?: string; position?: string; why?: string };
  scanRecord?: { index: string; scan: { position: string; treeSize: string; moduleIndex: string; start: string } };
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('sumdb scan records and --restore-state-from-log', () => {
  let sumdb: SumdbTestLog;
  let server: SumdbTestServer;
  let filler = 0;
  const grow = (count: number) => {
    for (let i = 0; i < count; i++) sumdb.append(syntheticGoSumRecord(filler++, 'r'));
  };
  before(async () => {
    sumdb = new SumdbTestLog();
    grow(100);
    sumdb.append(toolchainText('go1.21.0', 'linux/amd64'));
    grow(600);
    sumdb.append(toolchainText('go1.21.0', 'linux/arm64'));
    grow(20);
    server = await startSumdbServer(sumdb);
  });
  after(() => server.close());

  /** A log with tags and one scan of the database as it is now, from record `from`. */
  const scanned = async (from = 0) => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    const keyFile = writeKeyFile(key.skey);
    const args = (state: string) => ['sumdb', 'scan', '--log', log.dir, '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--key', keyFile, '--state', path.join(dir, state), '--batch-tiles', '1', '--tag-grace-days', '100000', '--json'];
    const run = await witness([...args('state'), '--from', String(from)]);
    assert.ok(run.code === 0 || run.code === 1, run.stderr); // 1: the duplicate planted by a test before
    const index = path.join(ScanState.folder(path.join(dir, 'state'), sumdb.verifierKey), 'modules.idx');
    return { dir, log, key, args, report: JSON.parse(run.stdout) as Report, index };
  };
  /** A new state folder holding only a module index (as a CI cache would give it back). */
  const stateWithIndex = (dir: string, name: string, put: (index: string) => void) => {
    const folder = ScanState.folder(path.join(dir, name), sumdb.verifierKey);
    mkdirSync(folder, { recursive: true });
    put(path.join(folder, 'modules.idx'));
    return path.join(folder, 'modules.idx');
  };
  const logSize = async (dir: string, vkey: string) => (await verifyLogFolder(dir, { verifierKey: vkey })).size;

  test('a run that moves the position signs it into the log with its module index; a run with nothing new appends nothing', async () => {
    const { dir, log, key, args, report, index } = await scanned(40);
    const size = BigInt(sumdb.size);
    assert.equal(report.scanRecord?.scan.position, String(size));
    assert.equal(report.scanRecord?.scan.start, '40');
    assert.equal(report.scanRecord?.scan.moduleIndex, sha256(index));
    assert.equal(statSync(index).size, (sumdb.size - 40) * 8);
    // In the log, after the toolchain records it vouches for, and in toolchains.txt.
    const entries = await (await WitnessLog.open(log.dir)).readEntries(0n, await logSize(log.dir, key.vkey));
    const records = entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
    const last = records[records.length - 1]!;
    assert.equal(last.record.type, 'sumdb-scan');
    assert.equal(String(last.index), report.scanRecord?.index);
    const ledger = toolchainLedgerFromRecords(records);
    assert.ok(ledger.toolchains.every(({ index: at }) => at < last.index));
    assert.match(readFileSync(path.join(log.dir, 'toolchains.txt'), 'utf8'), new RegExp(`\\nscan ${last.index} sumdb\\.test\\.example 40 ${size} ${size}\\n`));
    const before = await logSize(log.dir, key.vkey);
    const again = await witness(args('state'));
    assert.equal(again.code, 0, again.stderr);
    assert.equal((JSON.parse(again.stdout) as Report).scanRecord, undefined);
    assert.equal(await logSize(log.dir, key.vkey), before);
    void dir;
  });

  test('a lost state continues from the log with the signed index: only the new tiles are read, and a module version published before the position is still found twice', async () => {
    const { dir, log, key, args, index } = await scanned(0);
    const position = sumdb.size;
    grow(300);
    // Record 7's module version again, after the restored position: only the restored index knows record 7.
    const duplicate = sumdb.append(syntheticGoSumRecord(7, 'r').replace(/ h1:[^\n]+\n/, ` h1:${Buffer.alloc(32, 9).toString('base64')}\n`), { duplicate: true });
    grow(10);
    stateWithIndex(dir, 'restored', (file) => copyFileSync(index, file));
    const run = await witness([...args('restored'), '--restore-state-from-log']);
    assert.equal(run.code, 1, run.stderr); // the duplicate
    const report = JSON.parse(run.stdout) as Report;
    assert.equal(report.restore?.restored, true, JSON.stringify(report.restore));
    assert.equal(report.from, String(position));
    assert.equal(report.recordsScanned, sumdb.size - position);
    assert.equal(report.tilesRead, Math.floor((sumdb.size - 1) / 256) - Math.floor(position / 256) + 1);
    assert.deepEqual(report.alarms.map(({ alarm }) => alarm.kind), ['duplicate-module-version']);
    assert.equal(report.scanRecord?.scan.position, String(sumdb.size));
    assert.ok(duplicate > position);
    await verifyLogFolder(log.dir, { verifierKey: key.vkey });
    // The human-readable form says where it continued from.
    const fresh = stateWithIndex(dir, 'restored-again', (file) => copyFileSync(path.join(ScanState.folder(path.join(dir, 'restored'), sumdb.verifierKey), 'modules.idx'), file));
    const text = await witness([...args('restored-again').filter((a) => a !== '--json'), '--restore-state-from-log']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /restored +position \d+ from the witness log's scan record \(log index \d+\); module index checked against its SHA-256/);
    void fresh;
  });

  test('an index that is not the signed one is never used: the scan starts afresh where the logged scan started, finds nothing twice, and a link is not followed', async () => {
    const { dir, log, key, args, index } = await scanned(40);
    const good = readFileSync(index);
    const outside = path.join(dir, 'outside.idx');
    writeFileSync(outside, good); // it would match, if it were followed
    const cases: Array<[string, (file: string) => void, RegExp]> = [
      ['missing', () => undefined, /no module index \(modules\.idx\)/],
      ['altered', (file) => writeFileSync(file, Buffer.concat([good.subarray(0, 8), Buffer.from([good[8]! ^ 1]), good.subarray(9)])), /hash to sha256:[0-9a-f]{64}, not to the sha256:[0-9a-f]{64} the log signs/],
      ['short', (file) => writeFileSync(file, good.subarray(0, good.length - 8)), /the module index holds \d+ records, the log's scan record \d+/],
      ['link', (file) => symlinkSync(outside, file), /is a symbolic link \(never followed\)/],
    ];
    for (const [name, put, why] of cases) {
      const before = await logSize(log.dir, key.vkey);
      const file = stateWithIndex(dir, name, put);
      const run = await witness([...args(name), '--restore-state-from-log']);
      assert.equal(run.code, 0, `${name}: ${run.stderr}`);
      const report = JSON.parse(run.stdout) as Report;
      assert.equal(report.restore?.restored, false, name);
      assert.match(report.restore?.why ?? '', why, name);
      assert.equal(report.start, '40', name);
      assert.equal(report.recordsScanned, sumdb.size - 40, name);
      assert.equal(report.toolchains.length, 0, `${name}: found again, not appended again`);
      assert.equal(await logSize(log.dir, key.vkey), before, `${name}: nothing appended`);
      assert.ok(!lstatSync(file).isSymbolicLink(), `${name}: the new index is a file of its own`);
      assert.equal(sha256(file), sha256(index), `${name}: the fresh scan rebuilt the same index`);
    }
    assert.deepEqual(readFileSync(outside), good, 'the link\'s target was not touched');
  });

  test('a longer index (a run that died before its scan record) is cut back to the records the log signs', async () => {
    const { dir, args, index } = await scanned(0);
    const file = stateWithIndex(dir, 'longer', (at) => {
      copyFileSync(index, at);
      appendFileSync(at, Buffer.alloc(24, 0xab));
    });
    const run = await witness([...args('longer'), '--restore-state-from-log']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    assert.equal(report.restore?.restored, true, JSON.stringify(report.restore));
    assert.equal(report.recordsScanned, 0);
    assert.equal(statSync(file).size, sumdb.size * 8);
    assert.equal(sha256(file), sha256(index));
  });

  test('with the flag the log bounds the state: a planted position ahead of the log is cut back to the logged one, so the records after it are read (hostile review: they were skipped)', async () => {
    const { dir, log, key, args, index } = await scanned(0);
    const logged = sumdb.size;
    const toolchain = sumdb.append(toolchainText('go1.21.0', 'linux/riscv64'));
    grow(50);
    // A folder as a poisoned cache could leave it: scan.json at the new head, the real index plus zeros.
    const folder = ScanState.folder(path.join(dir, 'planted'), sumdb.verifierKey);
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'modules.idx'), Buffer.concat([readFileSync(index), Buffer.alloc((sumdb.size - logged) * 8)]));
    const latest = JSON.parse(readFileSync(path.join(ScanState.folder(path.join(dir, 'state'), sumdb.verifierKey), 'scan.json'), 'utf8')) as Record<string, string>;
    writeFileSync(path.join(folder, 'scan.json'), JSON.stringify({ ...latest, position: String(sumdb.size), treeSize: String(sumdb.size), treeRoot: Buffer.alloc(32, 1).toString('base64') }));
    const run = await witness([...args('planted'), '--restore-state-from-log']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    const report = JSON.parse(run.stdout) as Omit<Report, 'toolchains'> & { toolchains: Array<{ toolchain: { record: string } }> };
    assert.equal(report.restore?.restored, true, JSON.stringify(report.restore));
    assert.match(report.restore?.why ?? '', /ahead of the log's last scan record of it/);
    assert.equal(report.from, String(logged));
    assert.deepEqual(report.toolchains.map((t) => Number(t.toolchain.record)), [toolchain]);
    assert.equal(report.scanRecord?.scan.position, String(sumdb.size));
    await verifyLogFolder(log.dir, { verifierKey: key.vkey });
    // Without the flag the state folder is the operator's own, and trusted as before.
  });

  test('a stale index (the cache missed a run) continues from the older scan record it matches, not from the start', async () => {
    const { dir, args, index } = await scanned(0);
    const stale = readFileSync(index);
    const older = sumdb.size;
    grow(400);
    const next = await witness(args('state'));
    assert.ok(next.code === 0 || next.code === 1, next.stderr);
    stateWithIndex(dir, 'stale', (file) => writeFileSync(file, stale));
    const run = await witness([...args('stale'), '--restore-state-from-log']);
    assert.ok(run.code === 0 || run.code === 1, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    assert.equal(report.restore?.restored, true, JSON.stringify(report.restore));
    assert.equal(report.from, String(older));
    assert.equal(report.recordsScanned, sumdb.size - older);
    assert.equal(report.scanRecord, undefined, 'the log already holds this position');
  });

  test('a module index that is a folder is not used (it exited 2 before): the scan starts afresh', async () => {
    const { dir, args } = await scanned(40);
    const file = stateWithIndex(dir, 'folder', (at) => mkdirSync(at));
    const run = await witness([...args('folder'), '--restore-state-from-log']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    assert.equal(report.restore?.restored, false);
    assert.match(report.restore?.why ?? '', /is not a regular file/);
    assert.ok(statSync(file).isFile());
  });

  test('a scan record whose tree head the database contradicts is refused before anything is written (exit 1)', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    const size = BigInt(sumdb.size);
    await log.append([scanRecordToLogRecord({ database: sumdb.verifierKey, start: 0n, position: size, treeSize: size, treeRoot: Buffer.alloc(32, 5).toString('base64'), moduleIndex: 'cd'.repeat(32), time: '2026-12-02T10:00:00Z' })], key.signerKey);
    const before = await logSize(log.dir, key.vkey);
    const run = await witness(['sumdb', 'scan', '--log', log.dir, '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--key', writeKeyFile(key.skey), '--state', path.join(dir, 'state'), '--restore-state-from-log']);
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.equal(await logSize(log.dir, key.vkey), before);
    const state = await ScanState.open(path.join(dir, 'state'), sumdb.verifierKey);
    try {
      assert.equal(state.position, undefined, 'no position written');
    } finally {
      await state.close();
    }
  });

  test('without the flag, or with nothing in the log, a state folder without a position starts at --from', async () => {
    const { dir, args, index } = await scanned(0);
    stateWithIndex(dir, 'no-flag', (file) => copyFileSync(index, file));
    const run = await witness([...args('no-flag'), '--from', '100']);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as Report;
    assert.equal(report.restore, undefined);
    assert.equal(report.start, '100');
    assert.equal(report.recordsScanned, sumdb.size - 100);
    // A scan from another record is another scan: its own record, beside the first.
    assert.equal(report.scanRecord?.scan.start, '100');
    const other = tempDir();
    const { log: empty, key } = await witnessLogWithTags(other);
    const first = await witness(['sumdb', 'scan', '--log', empty.dir, '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--key', writeKeyFile(key.skey), '--state', path.join(other, 'state'), '--tag-grace-days', '100000', '--restore-state-from-log', '--json']);
    assert.ok(first.code === 0 || first.code === 1, first.stderr);
    assert.deepEqual((JSON.parse(first.stdout) as Report).restore, { restored: false, why: 'the witness log has no scan record of this database' });
  });
});

describe('sumdb-scan/v1 records', () => {
  const database = new SumdbTestLog().verifierKey;
  const scan: ScanRecord = { database, start: 10n, position: 600n, treeSize: 700n, treeRoot: Buffer.alloc(32, 3).toString('base64'), moduleIndex: 'ab'.repeat(32), time: '2026-12-02T10:00:00Z' };

  test('round trip, and every malformed field refused', () => {
    const record = scanRecordToLogRecord(scan);
    assert.deepEqual(parseScanRecord(record), scan);
    const field = (key: string, value: string) => ({ ...record, fields: record.fields.map((f) => (f.key === key ? { key, value } : f)) });
    const refused: Array<[string, ReturnType<typeof field> | typeof record]> = [
      ['start after position', field('start', '601')],
      ['position beyond the tree', field('position', '701')],
      ['not a number', field('tree-size', '7e2')],
      ['leading zero', field('start', '010')],
      ['not a key', field('database', 'sumdb.test.example')],
      ['a private key', field('database', 'PRIVATE+KEY+x')],
      ['root of 31 bytes', field('tree-root', Buffer.alloc(31).toString('base64'))],
      ['upper-case digest', field('module-index', `sha256:${'AB'.repeat(32)}`)],
      ['another digest', field('module-index', `sha512:${'ab'.repeat(32)}`)],
      ['local time', field('time', '2026-12-02T10:00:00+01:00')],
      ['a field missing', { ...record, fields: record.fields.slice(1) }],
      ['a field more', { ...record, fields: [...record.fields, { key: 'note', value: 'x' }] }],
      ['version 2', { ...record, version: 2 }],
    ];
    for (const [name, bad] of refused) assert.throws(() => parseScanRecord(bad), (error: Error & { code?: string }) => error.code === 'MALFORMED_SCAN_RECORD', name);
  });

  test('the log refuses a scan that goes back (append and verify fold the same invariants); another start is another scan', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    await log.append([scanRecordToLogRecord(scan)], key.signerKey);
    for (const back of [{ position: 599n }, { treeSize: 699n }]) {
      await assert.rejects(log.append([scanRecordToLogRecord({ ...scan, ...back })], key.signerKey), (error: Error & { code?: string }) => error.code === 'SCAN_RECORD_INVALID', JSON.stringify(back, (_, v) => (typeof v === 'bigint' ? String(v) : v)));
    }
    await assert.rejects(log.append([scanRecordToLogRecord({ ...scan, position: 650n, treeRoot: Buffer.alloc(32, 4).toString('base64') })], key.signerKey), (error: Error & { code?: string }) => error.code === 'SCAN_RECORD_INVALID' && /a fork/.test(error.message));
    await log.append([scanRecordToLogRecord({ ...scan, start: 0n, position: 5n }), scanRecordToLogRecord({ ...scan, position: 650n, treeSize: 800n })], key.signerKey);
    const report = await verifyLogFolder(log.dir, { verifierKey: key.vkey });
    assert.equal(report.recordTypes['sumdb-scan'], 3);
  });
});
