// The CLI paths of real evidence, end to end against a loopback module proxy and test checksum database
// (test/helpers/toolchain-proxy.ts) with the real go command (/usr/local/go/bin/go):
//   witness ingest --recheck all --go-download --sumdb-via-goproxy        (re-evaluating recorded builds)
//   witness ingest --recheck all --go-download --gomodcache DIR --sumdb-from-gomodcache
//   witness sumdb cosign --via-goproxy / --from-gomodcache DIR             (consistency-proved rounds)
//   witness check --download golang.org/toolchain@...
// and `witness verify` on what they wrote.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BUILD_RECORD_TYPE, type BuildRecord, buildRecordFromLogRecord, buildRecordToLogRecord } from '../src/rebuild/record.js';
import { WitnessLog } from '../src/log/log.js';
import { parseRecord } from '../src/log/record.js';
import { tagRecordToLogRecord } from '../src/tags/record.js';
import { generateKeyPair } from '../src/tlog-node/signer.js';
import { type CliResult, tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { runWitnessAsync } from './helpers/tag-repo.js';
import { type ToolchainModule, type ToolchainProxy, linuxEntries, startToolchainProxy, toolchainModule } from './helpers/toolchain-proxy.js';

const GO = '/usr/local/go/bin/go';
const COMMIT = 'c19c4c566c63818dfd059b352e52c4710eecf14d';
const TREE = 'f73e33fc4cba14472feb6f6ad43e3e5523e74e84';
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function buildRecordOf(module: ToolchainModule, release: string, target: string, tagIndex: bigint): BuildRecord {
  const files = [
    { name: `${module.version}.info`, size: module.info.length, sha256: sha256(module.info) },
    { name: `${module.version}.mod`, size: module.mod.length, sha256: sha256(module.mod) },
    { name: `${module.version}.zip`, size: module.zip.length, sha256: sha256(module.zip) },
  ];
  return {
    version: release,
    target,
    env: [],
    outcome: 'built',
    tagIndex,
    commit: COMMIT,
    tree: TREE,
    result: sha256(Buffer.from(`result of ${module.version}`)),
    builder: 'go-source-witness/0.1.0 node/v20.20.2 linux/x64',
    bootstrap: [{ version: 'go1.20.14', hash: `h1:${Buffer.alloc(32, 1).toString('base64')}` }],
    started: '2026-11-22T19:11:40Z',
    seconds: 443,
    buildLog: { sha256: 'a'.repeat(64), size: 10 },
    sourceCheck: { equal: true, files: 10, problems: 0 },
    files,
    goSum: [`golang.org/toolchain ${module.version} ${module.h1}`, `golang.org/toolchain ${module.version}/go.mod ${module.modH1}`],
    verdicts: [
      { file: `${module.version}.zip`, status: 'unchecked', source: 'sumdb', detail: 'offline: the checksum database was not consulted' },
      { file: `${module.version}.mod`, status: 'unchecked', source: 'sumdb', detail: 'offline: the checksum database was not consulted' },
    ],
    evidence: [],
    ingested: '2026-11-22T19:32:19Z',
  };
}

async function builds(logDir: string): Promise<Array<{ index: bigint; build: BuildRecord }>> {
  const log = await WitnessLog.open(logDir);
  const { entries } = await log.readVerifiedEntries();
  return entries
    .map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }))
    .filter(({ record }) => record.type === BUILD_RECORD_TYPE)
    .map(({ index, record }) => ({ index, build: buildRecordFromLogRecord(record) }));
}

function describeRun(result: CliResult): string {
  return `exit ${result.code}\n--- stderr\n${result.stderr.slice(-3000)}\n--- stdout\n${result.stdout.slice(-4000)}`;
}

describe('witness ingest --recheck, sumdb cosign and check --download against a loopback proxy', { skip: existsSync(GO) ? false : `${GO} not found` }, () => {
  let proxy: ToolchainProxy;
  let env: NodeJS.ProcessEnv;
  let logDir: string;
  let keyFile: string;
  let vkey: string;
  let module: ToolchainModule;
  let recordIndex: number;
  const release = 'go1.21.0';
  const version = 'v0.0.1-go1.21.0.linux-amd64';
  const witness = (args: string[], extraEnv: Record<string, string> = {}) => runWitnessAsync(args, { env: { ...env, ...extraEnv } });

  before(async () => {
    proxy = await startToolchainProxy();
    proxy.grow(500);
    module = await toolchainModule(version, linuxEntries(release));
    recordIndex = proxy.add(module);
    proxy.grow(600);
    const home = tempDir('witness-evidence-home-');
    env = { ...proxy.operatorEnv(home), PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` };
    const key = testSignerKey('example.com/evidence-log', 23);
    keyFile = writeKeyFile(key.skey);
    vkey = key.vkey;
    logDir = path.join(tempDir('witness-evidence-log-'), 'log');
    const { log } = await WitnessLog.init(logDir, key.signerKey);
    await log.append(
      [
        tagRecordToLogRecord({
          event: 'new',
          ref: `refs/tags/${release}`,
          pointer: { object: COMMIT, objectType: 'commit', target: COMMIT, targetType: 'commit', tree: TREE },
          repository: 'https://go.googlesource.com/go',
          firstSeen: '2026-11-22T16:43:42Z',
        }),
        buildRecordToLogRecord(buildRecordOf(module, release, 'linux/amd64', 0n)),
      ],
      key.signerKey,
    );
  });
  after(async () => {
    await proxy?.close();
  });

  test('--recheck all with --go-download and --sumdb-via-goproxy appends an equal record citing the old one', async () => {
    const result = await witness(['ingest', '--recheck', 'all', '--go-download', '--go', GO, '--sumdb-via-goproxy', '--log', logDir, '--key', keyFile]);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /go1\.21\.0 linux\/amd64: EQUAL \(log index 2, recheck of log index 1\)/);
    assert.match(result.stdout, new RegExp(`evidence sumdb: sumdb\\.test\\.example via \\$GOPROXY record ${recordIndex} in tree 600 `));
    assert.match(result.stderr, /checksum database: sumdb\.test\.example via \$GOPROXY/);
    const all = await builds(logDir);
    assert.equal(all.length, 2);
    const rechecked = all[1]!.build;
    assert.equal(rechecked.recheckOf, 1n);
    const statuses = Object.fromEntries(rechecked.verdicts.map((v) => [`${v.source} ${v.file.slice(version.length)}`, v.status]));
    assert.deepEqual(statuses, { 'sumdb .zip': 'equal', 'sumdb .mod': 'equal', 'proxy .zip': 'equal', 'proxy .mod': 'equal', 'proxy .info': 'equal' });
    assert.ok(!JSON.stringify(rechecked, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes('127.0.0.1'), 'no proxy URL in the record');
    const verify = await witness(['verify', '--log', logDir, '--vkey', vkey]);
    assert.equal(verify.code, 0, describeRun(verify));
    const lines = readFileSync(path.join(logDir, 'builds.txt'), 'utf8').split('\n');
    assert.ok(lines.includes(`1 ${release} linux/amd64 unchecked ${module.h1}`) && lines.includes(`2 ${release} linux/amd64 equal ${module.h1}`), lines.join('\n'));

    // Again, after the database grew: the same record proven in a newer head is nothing new.
    proxy.grow(650);
    const again = await witness(['ingest', '--recheck', 'all', '--go-download', '--go', GO, '--sumdb-via-goproxy', '--log', logDir, '--key', keyFile]);
    assert.equal(again.code, 0, describeRun(again));
    assert.match(again.stdout, /nothing new since log index 2/);
    assert.match(again.stdout, /Nothing new to append\./);
  });

  test('--recheck refuses what it cannot do before anything is fetched or written', async () => {
    const before = readFileSync(path.join(logDir, 'checkpoint'));
    const requests = proxy.moduleRequests.length;
    // A file that exists (the strict command line checks that result files exist before anything else).
    const resultFileThere = path.join(tempDir(), 'x.build.json');
    writeFileSync(resultFileThere, '{}\n');
    const existingFolder = tempDir();
    const cases = [
      [['--recheck', '0', '--recheck', '99'], /log index 0 is not a build record/],
      [['--recheck', 'some'], /want a log index or "all"/],
      [[resultFileThere, '--recheck', 'all'], /not both/],
      [['--recheck', 'all', '--offline', '--go-download'], /--offline consults nothing/],
      [['--recheck', 'all', '--gomodcache', existingFolder], /add --go-download/],
      [['--recheck', 'all', '--go-download', '--gomodcache', '/nonexistent'], /--gomodcache \/nonexistent: no such folder/],
    ] as const;
    // At once: each is a process start, and they must not interfere with each other anyway.
    const sumdbRequests = proxy.sumdb.requests.length;
    const results = await Promise.all(cases.map(([args], i) => witness(['ingest', ...args, '--go', GO, ...(i === 0 ? ['--go-download', '--sumdb-via-goproxy'] : []), '--log', logDir, '--key', keyFile])));
    cases.forEach(([args, pattern], i) => {
      assert.equal(results[i]!.code, 2, `${args.join(' ')}: ${describeRun(results[i]!)}`);
      assert.match(results[i]!.stderr, pattern);
    });
    assert.equal(proxy.moduleRequests.length, requests, 'nothing downloaded');
    assert.equal(proxy.sumdb.requests.length, sumdbRequests, 'not even the proxy probed');
    assert.ok(readFileSync(path.join(logDir, 'checkpoint')).equals(before), 'nothing written');
  });

  test('a recheck-of that cites another build is refused by append (and so by verify)', async () => {
    const log = await WitnessLog.open(logDir);
    const key = testSignerKey('example.com/evidence-log', 23).signerKey;
    const other = await toolchainModule('v0.0.1-go1.21.0.linux-arm64', linuxEntries(release, 'arm64'));
    const forged: BuildRecord = { ...buildRecordOf(other, release, 'linux/arm64', 0n), recheckOf: 1n };
    await assert.rejects(log.append([buildRecordToLogRecord(forged)], key), /recheck-of 1 is not an earlier build record of the same build/);
    const ahead: BuildRecord = { ...buildRecordOf(module, release, 'linux/amd64', 0n), recheckOf: 9n };
    await assert.rejects(log.append([buildRecordToLogRecord(ahead)], key), /recheck-of 9 is not an earlier build record/);
  });

  test('sumdb from the go command\'s cache: ingest, cosign twice with a consistency proof from cached tiles, check --download', async () => {
    const gopath = tempDir('witness-evidence-gopath-');
    const cache = path.join(gopath, 'pkg', 'mod');
    mkdirSync(cache, { recursive: true });
    // The record is proven from the lookup and tiles the download left in the cache.
    const sumdbRequests = proxy.sumdb.requests.length;
    const ingest = await witness(['ingest', '--recheck', '1', '--go-download', '--go', GO, '--gomodcache', cache, '--sumdb-from-gomodcache', '--sumdb-vkey', proxy.log.verifierKey, '--log', logDir, '--dry-run', '--json']);
    assert.equal(ingest.code, 0, describeRun(ingest));
    const report = JSON.parse(ingest.stdout) as { builds: Array<{ status: string; record: { evidence: Array<{ source: string; detail: string }> } }> };
    assert.equal(report.builds[0]!.status, 'equal');
    assert.ok(report.builds[0]!.record.evidence.some((e) => e.source === 'sumdb' && e.detail.startsWith('sumdb.test.example from the go command\'s cache record')), ingest.stdout);
    // Our client read nothing from the server: the go command's lookup and tiles are all it used.
    const ours = proxy.sumdb.requests.slice(sumdbRequests);
    assert.equal(ours.filter((p) => p.includes('/lookup/')).length, 1, `one lookup, by the go command: ${ours.join(' ')}`);
    assert.ok(existsSync(path.join(gopath, 'pkg', 'sumdb', proxy.log.keyName, 'latest')), 'the go command kept its tree head in the GOPATH beside the cache');

    const cosignerKey = writeKeyFile(generateKeyPair('example.com/evidence-witness', new Uint8Array(32).fill(5)).signerKey);
    const state = tempDir('witness-evidence-state-');
    const cosign = (...extra: string[]) =>
      witness(['sumdb', 'cosign', '--from-gomodcache', cache, '--sumdb-vkey', proxy.log.verifierKey, '--cosigner-key', cosignerKey, '--state', state, '--log', logDir, '--key', keyFile, ...extra]);
    const first = await cosign();
    assert.equal(first.code, 0, describeRun(first));
    assert.match(first.stdout, /size 650 from sumdb\.test\.example from the go command's cache: FIRST USE/);
    // The database grows; the go command sees it (a download of another toolchain into the same cache).
    const arm64 = await toolchainModule('v0.0.1-go1.21.0.linux-arm64', linuxEntries(release, 'arm64'));
    proxy.add(arm64);
    proxy.grow(900);
    const check = await witness(['check', '--download', `golang.org/toolchain@${arm64.version}`, '--download-into', cache, '--go', GO, '--log', logDir, '--vkey', vkey]);
    assert.equal(check.code, 0, describeRun(check));
    assert.match(check.stdout, new RegExp(`golang.org/toolchain@${arm64.version}: downloaded with go1\\.[0-9.]+ \\(checked by the go command against sumdb\\.test\\.example\\): sha256 ${sha256(arm64.zip)}`));
    assert.match(check.stdout, /not rebuilt yet/);
    const requests = proxy.sumdb.requests.length;
    const second = await cosign();
    assert.equal(second.code, 0, describeRun(second));
    assert.match(second.stdout, /size 650 -> 900 from sumdb\.test\.example from the go command's cache: consistency proven from tiles/);
    assert.equal(proxy.sumdb.requests.length, requests, 'cosigned from the cache alone');
    // And through $GOPROXY/sumdb/<name>/: the same database, proven consistent with what was cosigned.
    proxy.grow(950);
    const viaProxy = await witness(['sumdb', 'cosign', '--via-goproxy', '--go', GO, '--cosigner-key', cosignerKey, '--state', state, '--log', logDir, '--key', keyFile]);
    assert.equal(viaProxy.code, 0, describeRun(viaProxy));
    assert.match(viaProxy.stdout, /size 900 -> 950 from sumdb\.test\.example via \$GOPROXY: consistency proven from tiles/);
    const verify = await witness(['verify', '--log', logDir, '--vkey', vkey]);
    assert.equal(verify.code, 0, describeRun(verify));
    assert.match(verify.stdout, /cosigned/);
  });

  test('check --download: the published zip equal to the rebuild, byte for byte; a 403 exits 2 quoting it', async () => {
    const result = await witness(['check', '--download', `golang.org/toolchain@${version}`, '--go', GO, '--log', logDir, '--vkey', vkey]);
    assert.equal(result.code, 0, describeRun(result));
    assert.match(result.stdout, /EQUAL: independently rebuilt from git with the same h1 \(build record 1, 2\)/);
    assert.match(result.stdout, /byte for byte the rebuilt zip \(build record 1, 2\)/);
    proxy.status.set('v0.0.1-go1.21.0.darwin-amd64', { status: 403, body: 'Forbidden\n' });
    const missing = await witness(['check', '--download', 'golang.org/toolchain@v0.0.1-go1.21.0.darwin-amd64', '--go', GO, '--log', logDir, '--vkey', vkey]);
    assert.equal(missing.code, 2, describeRun(missing));
    assert.match(missing.stdout, /NOT DOWNLOADED: .*403 Forbidden/);
    assert.ok(!missing.stdout.includes('127.0.0.1'), missing.stdout);
  });

  test('publish: the grid cell is green, the release page shows the sumdb record and the published hash beside ours', async () => {
    const site = path.join(tempDir('witness-evidence-site-'), 'site');
    const result = await witness(['publish', '--out', site, '--log', logDir, '--vkey', vkey]);
    assert.equal(result.code, 0, describeRun(result));
    const index = readFileSync(path.join(site, 'index.html'), 'utf8');
    assert.match(index, /<td class="cell" data-version="go1\.21\.0" data-target="linux\/amd64" data-status="equal"><a class="badge s-equal"/);
    const page = readFileSync(path.join(site, 'releases', 'go1.21.0.html'), 'utf8');
    const latest = page.slice(page.indexOf('id="b-2"'));
    assert.match(latest, new RegExp(`<th>Checksum database</th><td class="sumdb-record"><span class="badge s-equal"[^>]*>[^<]*</span> record <strong>${recordIndex}</strong> in tree 600 `));
    assert.match(latest, /<th>Re-evaluates<\/th><td><a href="#b-1">log index 1<\/a>/);
    const zipSha = sha256(module.zip);
    assert.match(latest, new RegExp(`<td class="mono">${version}\\.zip</td><td>${module.zip.length} bytes[^<]*</td><td class="mono">${zipSha}</td><td class="published"><span class="badge s-equal"[^>]*>[^<]*</span> <span class="mono">${zipSha}</span> <span class="muted small">proxy</span>`));
    const api = JSON.parse(readFileSync(path.join(site, 'api', 'builds.json'), 'utf8')) as { builds: Array<{ index: number; status: string; recheckOf: number | null; sumdbRecord: { id: number; treeSize: number } | null; published: Array<{ file: string; sha256: string }> }> };
    const rechecked = api.builds.find((b) => b.index === 2)!;
    assert.equal(rechecked.status, 'equal');
    assert.equal(rechecked.recheckOf, 1);
    assert.deepEqual(rechecked.sumdbRecord && [rechecked.sumdbRecord.id, rechecked.sumdbRecord.treeSize], [recordIndex, 600]);
    assert.ok(rechecked.published.some((p) => p.file === `${version}.zip` && p.sha256 === zipSha));
    assert.match(readFileSync(path.join(site, 'feed.atom'), 'utf8'), /go1\.21\.0 linux\/amd64/);
  });
});
