// `witness sumdb scan` against a fake checksum database on loopback: toolchain records interleaved with
// other modules, a toolchain no tag explains, odd versions, a module version published twice, a release
// tag with no toolchain record, tiles that do not match the signed head, cheap catch-up, and plan.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WitnessLog } from '../src/log/log.js';
import { parseRecord } from '../src/log/record.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { toolchainLedgerFromRecords } from '../src/toolchains/ledger.js';
import { ScanState } from '../src/toolchains/state.js';
import { alarmKey } from '../src/toolchains/record.js';
import { SumdbClient } from '../src/sumdb/client.js';
import { scanSumdb } from '../src/toolchains/scan.js';
import { publishSite } from '../src/publish/site.js';
import { runWitness, tempDir, writeKeyFile } from './helpers/fixtures.js';
import { h1, toolchainText, witness, witnessLogWithTags } from './helpers/toolchains.js';
import { SumdbTestLog, type SumdbTestServer, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';

/** Planted: toolchains of go1.21.0 (tagged) for three targets, go1.23.99 (no tag), go1.9.2rc2 (odd), one duplicate. */
function plantedDatabase(): { sumdb: SumdbTestLog; toolchainRecords: number[]; duplicate: number; first: number } {
  const sumdb = new SumdbTestLog();
  const toolchainRecords: number[] = [];
  let n = 0;
  const filler = (count: number) => {
    for (let i = 0; i < count; i++) sumdb.append(syntheticGoSumRecord(n++, 's'));
  };
  filler(300);
  toolchainRecords.push(sumdb.append(toolchainText('go1.21.0', 'linux/amd64')));
  filler(10);
  toolchainRecords.push(sumdb.append(toolchainText('go1.21.0', 'darwin/arm64')));
  filler(200);
  toolchainRecords.push(sumdb.append(toolchainText('go1.21.0', 'linux/riscv64')));
  filler(5);
  toolchainRecords.push(sumdb.append(toolchainText('go1.23.99', 'linux/amd64')));
  toolchainRecords.push(sumdb.append(toolchainText('go1.9.2rc2', 'linux/amd64')));
  filler(100);
  // A module version published twice, with another hash.
  const first = 42;
  const duplicate = sumdb.append(syntheticGoSumRecord(first, 's').replace(/h1:[^\n]+\n/, `${h1('d')}\n`), { duplicate: true });
  filler(77);
  return { sumdb, toolchainRecords, duplicate, first };
}

describe('sumdb scan', () => {
  let server: SumdbTestServer;
  let planted: ReturnType<typeof plantedDatabase>;
  before(async () => {
    planted = plantedDatabase();
    server = await startSumdbServer(planted.sumdb);
  });
  after(() => server.close());

  test('finds every toolchain record, raises the alarms once, resumes where it stopped', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    const stateDir = path.join(dir, 'state');
    const args = ['sumdb', 'scan', '--log', log.dir, '--url', server.url, '--sumdb-vkey', planted.sumdb.verifierKey, '--key', writeKeyFile(key.skey), '--state', stateDir, '--batch-tiles', '2'];
    const first = await witness([...args, '--json']);
    assert.equal(first.code, 1, first.stderr);
    const report = JSON.parse(first.stdout) as { position: string; toolchains: Array<{ toolchain: { record: string; reproducible: boolean; moduleVersion: string } }>; alarms: Array<{ alarm: { kind: string } }> };
    assert.equal(report.position, String(planted.sumdb.size));
    assert.deepEqual(report.toolchains.map((t) => Number(t.toolchain.record)), planted.toolchainRecords);
    assert.deepEqual(
      report.toolchains.map((t) => [t.toolchain.moduleVersion, t.toolchain.reproducible]),
      [
        ['v0.0.1-go1.21.0.linux-amd64', true],
        ['v0.0.1-go1.21.0.darwin-arm64', true],
        ['v0.0.1-go1.21.0.linux-riscv64', true],
        ['v0.0.1-go1.23.99.linux-amd64', true],
        ['v0.0.1-go1.9.2rc2.linux-amd64', false],
      ],
    );
    const entries = await (await WitnessLog.open(log.dir)).readEntries(0n, (await verifyLogFolder(log.dir, { verifierKey: key.vkey })).size);
    const ledger = toolchainLedgerFromRecords(entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) })));
    assert.deepEqual(ledger.alarms.map(({ alarm }) => alarmKey(alarm)).sort(), [
      `duplicate-module-version ${planted.duplicate}`,
      'tag-without-toolchain 1', // go1.22.0: a release first seen long ago with no toolchain record
      'toolchain-without-source go1.23.99',
      'toolchain-without-source go1.9.2rc2',
    ]);
    const duplicate = ledger.alarms.find(({ alarm }) => alarm.kind === 'duplicate-module-version')!.alarm;
    assert.equal(duplicate.fields.find((f) => f.key === 'first-record')!.value, String(planted.first));
    assert.equal(duplicate.fields.find((f) => f.key === 'same-hashes')!.value, 'no');
    const untagged = ledger.alarms.find(({ alarm }) => alarmKey(alarm) === 'toolchain-without-source go1.23.99')!.alarm;
    assert.equal(untagged.fields.find((f) => f.key === 'repository')!.value, 'https://go.googlesource.com/go');
    assert.match(readFileSync(path.join(log.dir, 'toolchains.txt'), 'utf8'), /v0\.0\.1-go1\.9\.2rc2\.linux-amd64 not-reproducible/);
    // A second run: nothing new, exit 0, one `latest` and no data tile.
    const before = server.count('/tile/8/data/');
    const again = await witness(args);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stdout, /0 new toolchain records/);
    assert.equal(server.count('/tile/8/data/'), before);
    // The database grows: only the new tiles are read (the partial last tile again, then the new ones).
    planted.toolchainRecords.push(planted.sumdb.append(toolchainText('go1.22.0', 'linux/amd64')));
    for (let i = 0; i < 600; i++) planted.sumdb.append(syntheticGoSumRecord(100_000 + i, 's'));
    const grown = await witness([...args, '--json']);
    assert.equal(grown.code, 0, grown.stderr);
    const third = JSON.parse(grown.stdout) as { tilesRead: number; toolchains: unknown[] };
    assert.equal(third.toolchains.length, 1);
    // The last tile read before (2, partial) again, then the new ones.
    assert.equal(third.tilesRead, Math.floor((planted.sumdb.size - 1) / 256) - 2 + 1);
    assert.equal((await verifyLogFolder(log.dir, { verifierKey: key.vkey })).recordTypes['toolchain'], 6);
  });

  test('a tile that does not match the tree head is refused and changes nothing', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    const stateDir = path.join(dir, 'state');
    const args = ['sumdb', 'scan', '--log', log.dir, '--url', server.url, '--sumdb-vkey', planted.sumdb.verifierKey, '--key', writeKeyFile(key.skey), '--state', stateDir];
    const sizeBefore = (await verifyLogFolder(log.dir, { verifierKey: key.vkey })).size;
    const forged = toolchainText('go1.21.0', 'linux/amd64', 'forged');
    // A record's text; the level-1 tile that vouches for full data tiles; the partial level-0 tile at the edge.
    const edge = BigInt(Math.floor(planted.sumdb.size / 256));
    for (const tamper of [{ record: { id: planted.toolchainRecords[0]!, text: forged } }, { hashTile: { level: 1, index: 0n, byteOffset: 40 } }, { hashTile: { level: 0, index: edge, byteOffset: 3 } }]) {
      server.tamper = tamper;
      try {
        const run = await witness(args);
        assert.equal(run.code, 2, run.stdout + run.stderr);
        assert.match(run.stderr, /BAD_TILES/);
      } finally {
        server.tamper = {};
      }
      assert.equal((await verifyLogFolder(log.dir, { verifierKey: key.vkey })).size, sizeBefore);
      // The position did not move (a first scan: state initialized at 0, nothing committed).
      const state = await ScanState.open(stateDir, planted.sumdb.verifierKey);
      try {
        assert.equal(state.position?.position ?? 0n, 0n);
      } finally {
        await state.close();
      }
    }
    const clean = await witness(args);
    assert.equal(clean.code, 1, clean.stderr);
  });

  test('a scan from a configured record reads only the tiles it needs', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    const requested: string[] = [];
    const counting = new SumdbClient({ baseUrl: server.url, verifierKey: planted.sumdb.verifierKey, onRequest: (url) => requested.push(url) });
    const report = await scanSumdb({ client: counting, log, signer: key.signerKey, stateDir: path.join(dir, 'state'), from: 515n, tagGraceDays: 100_000 });
    const dataTiles = requested.filter((url) => url.includes('/tile/8/data/')).map((url) => url.slice(url.indexOf('/tile/8/data/') + 13));
    assert.ok(!dataTiles.some((p) => p.startsWith('000') || p.startsWith('001')), dataTiles.join(' '));
    assert.equal(report.recordsScanned, planted.sumdb.size - 515);
    assert.deepEqual(report.toolchains.map((t) => Number(t.toolchain.record)), planted.toolchainRecords.filter((r) => r >= 515));
    // --from cannot move an existing scan.
    await assert.rejects(
      scanSumdb({ client: counting, log, signer: key.signerKey, stateDir: path.join(dir, 'state'), from: 0n }),
      (error: Error & { code?: string }) => error.code === 'SCAN_FROM_MISMATCH',
    );
  });

  test('--from and --to through the command line (bootstrap\'s --from check once refused them: "--from 515: no such folder")', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    const args = ['sumdb', 'scan', '--log', log.dir, '--url', server.url, '--sumdb-vkey', planted.sumdb.verifierKey, '--key', writeKeyFile(key.skey), '--state', path.join(dir, 'state'), '--tag-grace-days', '100000'];
    const size = planted.sumdb.size;
    const run = await witness([...args, '--from', '515', '--to', String(size), '--json']);
    assert.equal(run.code, 1, run.stderr); // the planted alarms at and after record 515
    const report = JSON.parse(run.stdout) as { start: string; position: string; recordsScanned: number };
    assert.equal(report.start, '515');
    assert.equal(report.position, String(size));
    assert.equal(report.recordsScanned, size - 515);
    for (const [flag, value] of [['--from', '5x'], ['--from', '-1'], ['--to', '1e3'], ['--to', '9223372036854775808']] as const) {
      const refused = await witness([...args, flag, value]);
      assert.equal(refused.code, 2, `${flag} ${value}`);
      assert.match(refused.stderr, new RegExp(`^witness: ${flag} takes a whole number >= 0`), `${flag} ${value}`);
    }
  });

  test('the site: a toolchains page with alarms first, feed entries and JSON', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    await scanSumdb({ client: new SumdbClient({ baseUrl: server.url, verifierKey: planted.sumdb.verifierKey }), log, signer: key.signerKey, stateDir: path.join(dir, 'state') });
    const out = path.join(dir, 'site');
    await publishSite({ logDir: log.dir, outDir: out, verifierKey: key.vkey });
    const page = readFileSync(path.join(out, 'toolchains.html'), 'utf8');
    const alarmsAt = page.indexOf('id="alarms"');
    assert.ok(alarmsAt > 0 && alarmsAt < page.indexOf('<tbody>'), 'alarms come before the releases');
    assert.match(page, /Toolchain without source: v0\.0\.1-go1\.23\.99\.linux-amd64/);
    assert.match(page, /go1\.9\.2rc2<\/th>|go1\.9\.2rc2 <span class="muted small">not reproducible by distpack/);
    assert.match(readFileSync(path.join(out, 'index.html'), 'utf8'), /<a href="toolchains.html">Toolchains<\/a>/);
    const feed = readFileSync(path.join(out, 'feed.atom'), 'utf8');
    const api = JSON.parse(readFileSync(path.join(out, 'api', 'toolchains.json'), 'utf8')) as { alarms: Array<{ kind: string }>; releases: Array<{ version: string; counts: { published: number; pending: number } }> };
    // go1.23.99 and go1.9.2rc2 without a tag, the duplicate (go1.22.0 got its toolchain in the first test).
    assert.deepEqual(api.alarms.map((a) => a.kind).sort(), ['duplicate-module-version', 'toolchain-without-source', 'toolchain-without-source']);
    assert.equal(feed.match(/<title>ALARM: (Toolchain without source|Two records for|No toolchain in sumdb)/g)?.length, 3);
    const go121 = api.releases.find((r) => r.version === 'go1.21.0')!;
    assert.deepEqual(go121.counts, { published: 3, built: 0, equal: 0, pending: 3 });
    // How far the scan read: the log's scan record, on the page and in the JSON.
    const size = planted.sumdb.size;
    assert.match(page, new RegExp(`Scanned sumdb\\.test\\.example: records 0 to ${size - 1} of the signed tree of size ${size} `));
    const scans = (JSON.parse(readFileSync(path.join(out, 'api', 'toolchains.json'), 'utf8')) as { scans: Array<{ start: number; position: number; database: string; moduleIndex: string }> }).scans;
    assert.deepEqual(scans.map(({ start, position, database }) => ({ start, position, database })), [{ start: 0, position: size, database: planted.sumdb.verifierKey }]);
    assert.match(scans[0]!.moduleIndex, /^sha256:[0-9a-f]{64}$/);
  });

  test('plan covers every target sumdb published for a tagged release; odd versions never', async () => {
    const dir = tempDir();
    const { log, key } = await witnessLogWithTags(dir);
    await scanSumdb({ client: new SumdbClient({ baseUrl: server.url, verifierKey: planted.sumdb.verifierKey }), log, signer: key.signerKey, stateDir: path.join(dir, 'state') });
    const plan = runWitness(['plan', '--log', log.dir, '--json']);
    assert.equal(plan.code, 0, plan.stderr);
    const matrix = JSON.parse(plan.stdout) as { include: Array<{ version: string; target: string }> };
    const go121 = matrix.include.filter((b) => b.version === 'go1.21.0').map((b) => b.target);
    assert.ok(go121.includes('linux/riscv64'), go121.join(' '));
    assert.ok(go121.includes('windows/amd64'));
    assert.ok(!matrix.include.some((b) => b.version === 'go1.9.2rc2' || b.version === 'go1.23.99'));
    const limited = runWitness(['plan', '--log', log.dir, '--json', '--limit', '3']);
    assert.equal((JSON.parse(limited.stdout) as { include: unknown[] }).include.length, 3);
    const tooMany = runWitness(['plan', '--log', log.dir, '--json', '--limit', '300']);
    assert.equal(tooMany.code, 2);
  });
});
