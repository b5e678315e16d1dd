// Published evidence, offline and real: the real go command (/usr/local/go/bin/go) downloads toolchain
// modules from a loopback module proxy with a checksum database signed by a test key
// (test/helpers/toolchain-proxy.ts), and our code compares them with rebuilds (src/rebuild/published.ts,
// compare.ts), proves their records with our own client through $GOPROXY/sumdb/<name>/ and from the go
// command's cache (src/sumdb/routes.ts, gocache.ts), and locates records /lookup does not find by their
// leaf hash (src/sumdb/locate.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { type BuildClaim, Comparer } from '../src/rebuild/compare.js';
import { comparePublishedModule, GoModuleDownloader, TOOLCHAIN_MODULE } from '../src/rebuild/published.js';
import type { Verdict } from '../src/rebuild/record.js';
import { type GoEnvironment, readGoEnvironment } from '../src/goenv.js';
import { SumdbClient } from '../src/sumdb/client.js';
import { locateRecord, toolchainRecordText } from '../src/sumdb/locate.js';
import { recordLeafHash } from '../src/sumdb/record.js';
import { directRoute, goCacheRoute, goProxyRoute } from '../src/sumdb/routes.js';
import { verifyInclusion } from '../src/tlog/merkle.js';
import { encodeBase64 } from '../src/tlog/encoding.js';
import { tempDir } from './helpers/fixtures.js';
import { buildMachO } from './helpers/macho-builder.js';
import { type ToolchainModule, type ToolchainProxy, linuxEntries, startToolchainProxy, toolchainModule } from './helpers/toolchain-proxy.js';

const GO = '/usr/local/go/bin/go';
const HAVE_GO = existsSync(GO);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** What a rebuild of `module` would claim (its files and go.sum lines), optionally from other zip bytes. */
function claimOf(module: ToolchainModule, release: string, target: string, rebuilt: { zip: Buffer; h1: string; strippedH1?: string } = module): BuildClaim {
  const names = { zip: `${module.version}.zip`, mod: `${module.version}.mod`, info: `${module.version}.info` };
  return {
    version: release,
    target,
    env: [],
    result: 'e'.repeat(64),
    files: [
      { name: names.info, size: module.info.length, sha256: sha256(module.info) },
      { name: names.mod, size: module.mod.length, sha256: sha256(module.mod) },
      { name: names.zip, size: rebuilt.zip.length, sha256: sha256(rebuilt.zip) },
    ].sort((a, b) => (a.name < b.name ? -1 : 1)),
    goSum: [`golang.org/toolchain ${module.version} ${rebuilt.h1}`, `golang.org/toolchain ${module.version}/go.mod ${module.modH1}`],
    ...(rebuilt.strippedH1 ? { strippedH1: rebuilt.strippedH1 } : {}),
  };
}

const byFile = (verdicts: readonly Verdict[], source: string) =>
  Object.fromEntries(verdicts.filter((v) => v.source === source).map((v) => [v.file.replace(/^v0\.0\.1-go[^.]+\.[0-9]+(\.[0-9]+)?\.[a-z0-9]+-[a-z0-9]+/, ''), v.status]));

describe('published toolchain modules through the real go command', { skip: HAVE_GO ? false : `${GO} not found` }, () => {
  let proxy: ToolchainProxy;
  let home: string;
  let goEnv: GoEnvironment;
  const linux = { release: 'go1.21.0', version: 'v0.0.1-go1.21.0.linux-amd64' };
  let linuxModule: ToolchainModule;
  let linuxIndex: number;

  before(async () => {
    proxy = await startToolchainProxy();
    home = tempDir('witness-published-home-');
    proxy.grow(300);
    linuxModule = await toolchainModule(linux.version, linuxEntries('go1.21.0'));
    linuxIndex = proxy.add(linuxModule);
    proxy.grow(700);
    // The operator's environment carries settings that must never reach the download: GOINSECURE, GOFLAGS.
    goEnv = await readGoEnvironment(GO, proxy.operatorEnv(home, { GOINSECURE: '*', GOFLAGS: '-mod=mod' }));
  });
  after(async () => {
    await proxy?.close();
  });

  test('a linux toolchain: downloaded, checked by the go command, equal byte for byte and in sumdb by both routes', async () => {
    const downloader = await GoModuleDownloader.open(goEnv);
    try {
      const env = downloader.environment();
      assert.equal(env.GOFLAGS, '-modcacherw');
      assert.equal(env.GOTOOLCHAIN, 'local');
      assert.ok(!('GOINSECURE' in env), 'GOINSECURE is never passed on');
      assert.equal(env.GOPROXY, proxy.url);
      const outcome = await downloader.download(TOOLCHAIN_MODULE, linux.version);
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
      const { module } = outcome;
      assert.equal(module.zip.sha256, sha256(linuxModule.zip));
      assert.equal(module.zip.size, linuxModule.zip.length);
      assert.equal(module.zip.h1, linuxModule.h1);
      assert.equal(module.mod.h1, linuxModule.modH1);
      assert.equal(module.goVersion, goEnv.version);
      assert.deepEqual(module.sumdbChecked, { by: proxy.log.keyName });
      // The go command itself looked the module up in the checksum database before writing the files.
      assert.ok(proxy.sumdb.requests.includes(`/sumdb/${proxy.log.keyName}/lookup/golang.org/toolchain@${linux.version}`), proxy.sumdb.requests.join(' '));
      // The go command re-encodes .info; its content is what cmd/distpack wrote.
      assert.notEqual(module.info.sha256, sha256(linuxModule.info));

      const route = await goProxyRoute(goEnv);
      assert.equal(route.label, `${proxy.log.keyName} via $GOPROXY`);
      const comparer = new Comparer({ sumdb: route.client, sumdbLabel: route.label, goDownload: downloader });
      const { verdicts, evidence } = await comparer.compare(claimOf(linuxModule, linux.release, 'linux/amd64'), []);
      assert.deepEqual(byFile(verdicts, 'sumdb'), { '.zip': 'equal', '.mod': 'equal' });
      assert.deepEqual(byFile(verdicts, 'proxy'), { '.zip': 'equal', '.mod': 'equal', '.info': 'equal' });
      const zip = verdicts.find((v) => v.source === 'sumdb' && v.file.endsWith('.zip'))!;
      const root = encodeBase64(proxy.log.rootHash());
      assert.equal(zip.detail, `record ${linuxIndex} in tree 700 ${root}: ${linuxModule.h1}`);
      const published = verdicts.find((v) => v.source === 'proxy' && v.file.endsWith('.zip'))!;
      assert.equal(published.detail, `published sha256:${sha256(linuxModule.zip)} size ${linuxModule.zip.length} ${linuxModule.h1}`);
      assert.ok(evidence.some((e) => e.source === 'sumdb' && e.detail === `${route.label} record ${linuxIndex} in tree 700 ${root}`), JSON.stringify(evidence));
      const proxyEvidence = evidence.find((e) => e.source === 'proxy')!.detail;
      assert.match(proxyEvidence, new RegExp(`^go mod download -json golang.org/toolchain@${linux.version} with ${goEnv.version} from \\$GOPROXY, checked by the go command against ${proxy.log.keyName}: zip sha256:${sha256(linuxModule.zip)}`));
      assert.ok(!JSON.stringify({ verdicts, evidence }).includes('127.0.0.1'), 'no proxy URL in a record');

      // From the go command's cache: no request reaches the server, every tile is re-authenticated.
      const cached = goCacheRoute({ gomodcache: downloader.gomodcache, gopath: downloader.gopath, name: proxy.log.keyName }, proxy.log.verifierKey);
      const requests = proxy.sumdb.requests.length;
      const fromCache = await new Comparer({ sumdb: cached.client, sumdbLabel: cached.label }).compare(claimOf(linuxModule, linux.release, 'linux/amd64'), []);
      assert.equal(proxy.sumdb.requests.length, requests, 'nothing fetched');
      assert.deepEqual(byFile(fromCache.verdicts, 'sumdb'), { '.zip': 'equal', '.mod': 'equal' });
      assert.ok(cached.client.stats.tilesFetched > 0, 'tiles read (from the cache) and authenticated');
    } finally {
      await downloader.close();
    }
  });

  test('darwin: the published signed zip equals an unsigned rebuild once both are stripped, in proxy and sumdb verdicts', async () => {
    const version = 'v0.0.1-go1.21.0.darwin-arm64';
    const common = [
      { name: 'src/runtime/proc.go', content: Buffer.from('package runtime\n') },
      { name: 'VERSION', content: Buffer.from('go1.21.0\n') },
    ];
    const signed = [...common, { name: 'bin/go', content: buildMachO({ signed: true }).data }, { name: 'pkg/tool/darwin_arm64/vet', content: buildMachO({ signed: true, sigSize: 0x300 }).data }];
    const unsigned = [...common, { name: 'bin/go', content: buildMachO({ signed: false }).data }, { name: 'pkg/tool/darwin_arm64/vet', content: buildMachO({ signed: false }).data }];
    const published = await toolchainModule(version, signed);
    const rebuilt = await toolchainModule(version, unsigned);
    assert.notEqual(published.h1, rebuilt.h1);
    const index = proxy.add(published);
    proxy.grow(proxy.log.size + 5);
    const downloader = await GoModuleDownloader.open(goEnv);
    try {
      const outcome = await downloader.download(TOOLCHAIN_MODULE, version);
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
      // Stripped, the published zip hashes as the unsigned one does (our h1 of an unsigned zip is its stripped h1).
      assert.equal(outcome.module.zip.strippedH1, rebuilt.h1);
      const route = await goProxyRoute(goEnv);
      const claim = claimOf(published, 'go1.21.0', 'darwin/arm64', { zip: rebuilt.zip, h1: rebuilt.h1, strippedH1: rebuilt.h1 });
      const { verdicts } = await new Comparer({ sumdb: route.client, sumdbLabel: route.label, goDownload: downloader }).compare(claim, []);
      assert.deepEqual(byFile(verdicts, 'proxy'), { '.zip': 'equal', '.mod': 'equal', '.info': 'equal' });
      assert.deepEqual(byFile(verdicts, 'sumdb'), { '.zip': 'equal', '.mod': 'equal' });
      const proxyZip = verdicts.find((v) => v.source === 'proxy' && v.file.endsWith('.zip'))!.detail;
      assert.ok(proxyZip.includes(published.h1) && proxyZip.includes(`stripped ${rebuilt.h1}`), proxyZip);
      const sumdbZip = verdicts.find((v) => v.source === 'sumdb' && v.file.endsWith('.zip'))!.detail;
      assert.match(sumdbZip, new RegExp(`^record ${index} in tree ${proxy.log.size} `));
      assert.ok(sumdbZip.includes(`${published.h1} is the published zip's`) && sumdbZip.includes(rebuilt.h1), sumdbZip);

      // A proxy whose .info Time is its own (as the real one's is): unchecked, never unequal.
      const own = await comparePublishedModule(claim, { ...outcome.module, info: { ...outcome.module.info, infoTime: '2023-08-08T15:08:17Z' } }, published.h1);
      const info = own.verdicts.find((v) => v.file.endsWith('.info'))!;
      assert.equal(info.status, 'unchecked');
      assert.match(info.detail, /not cmd\/distpack's \.info/);
      // A rebuild whose binaries differ (not only by the signature) is unequal on both counts.
      const other = [...common, { name: 'bin/go', content: buildMachO({ signed: false, textSize: 0x210 }).data }, { name: 'pkg/tool/darwin_arm64/vet', content: buildMachO({ signed: false }).data }];
      const wrong = await toolchainModule(version, other);
      const bad = await new Comparer({ sumdb: route.client, goDownload: downloader }).compare(claimOf(published, 'go1.21.0', 'darwin/arm64', { zip: wrong.zip, h1: wrong.h1, strippedH1: wrong.h1 }), []);
      assert.deepEqual(byFile(bad.verdicts, 'proxy'), { '.zip': 'unequal', '.mod': 'equal', '.info': 'equal' });
      assert.deepEqual(byFile(bad.verdicts, 'sumdb'), { '.zip': 'unequal', '.mod': 'equal' });
      // Without the published zip, the signed record cannot vouch for an unsigned rebuild: unchecked.
      const alone = await new Comparer({ sumdb: route.client }).compare(claim, []);
      assert.deepEqual(byFile(alone.verdicts, 'sumdb'), { '.zip': 'unchecked', '.mod': 'equal' });
    } finally {
      await downloader.close();
    }
  });

  test('a target the proxy does not serve (403): unchecked, quoting what answered, naming no URL', async () => {
    const version = 'v0.0.1-go1.21.0.windows-amd64';
    const module = await toolchainModule(version, linuxEntries('go1.21.0', 'windows'));
    proxy.add(module, false);
    proxy.status.set(version, { status: 403, body: 'Forbidden\n' });
    const downloader = await GoModuleDownloader.open(goEnv);
    try {
      const outcome = await downloader.download(TOOLCHAIN_MODULE, version);
      assert.ok(!outcome.ok);
      assert.match(outcome.reason, /403 Forbidden/);
      assert.ok(outcome.reason.includes('$GOPROXY') && !outcome.reason.includes('127.0.0.1'), outcome.reason);
      assert.ok(!/[\n\r\t]/.test(outcome.reason));
      const { verdicts } = await new Comparer({ goDownload: downloader, sumdbSkipped: 'offline' }).compare(claimOf(module, 'go1.21.0', 'windows/amd64'), []);
      const proxied = verdicts.filter((v) => v.source === 'proxy');
      assert.deepEqual(proxied.map((v) => v.status), ['unchecked', 'unchecked', 'unchecked']);
      assert.ok(proxied.every((v) => v.detail === outcome.reason), JSON.stringify(proxied));
    } finally {
      await downloader.close();
    }
  });

  test('a tampered zip: the go command refuses it, and where it does not check (file:// GOPROXY, GONOSUMDB) our own check catches it', async () => {
    const version = 'v0.0.1-go1.21.0.linux-386';
    const module = await toolchainModule(version, linuxEntries('go1.21.0', '386'));
    proxy.add(module);
    proxy.grow(proxy.log.size + 3);
    const tampered = await toolchainModule(version, linuxEntries('go1.21.0', '386 with a backdoor'));
    proxy.zipOverride.set(version, tampered.zip);
    const claim = claimOf(module, 'go1.21.0', 'linux/386');
    const route = await goProxyRoute(goEnv);
    const checking = await GoModuleDownloader.open(goEnv);
    try {
      const outcome = await checking.download(TOOLCHAIN_MODULE, version);
      assert.ok(!outcome.ok);
      assert.match(outcome.reason, /SECURITY ERROR|checksum mismatch/);
      assert.ok(!existsSync(checking.cachePaths(TOOLCHAIN_MODULE, version).zip), 'the go command kept no tampered zip');
      const { verdicts } = await new Comparer({ sumdb: route.client, goDownload: checking }).compare(claim, []);
      assert.deepEqual(byFile(verdicts, 'proxy'), { '.zip': 'unchecked', '.mod': 'unchecked', '.info': 'unchecked' });
      assert.deepEqual(byFile(verdicts, 'sumdb'), { '.zip': 'equal', '.mod': 'equal' });
    } finally {
      await checking.close();
    }
    // GONOSUMDB does not stop the go command checking toolchains (cmd/go/internal/modfetch/sumdb.go useSumDB)…
    const noSumdb = await GoModuleDownloader.open(await readGoEnvironment(GO, proxy.operatorEnv(home, { GONOSUMDB: 'golang.org/toolchain' })));
    try {
      const outcome = await noSumdb.download(TOOLCHAIN_MODULE, version);
      assert.ok(!outcome.ok && /SECURITY ERROR/.test(outcome.reason), outcome.ok ? 'downloaded' : outcome.reason);
    } finally {
      await noSumdb.close();
    }
    // …but with a single file:// GOPROXY it does: the go command writes what it was given, and our own check,
    // against the record our client proves, refuses to compare with it.
    const dir = tempDir('witness-file-proxy-');
    const base = path.join(dir, 'golang.org', 'toolchain', '@v');
    await mkdir(base, { recursive: true });
    await writeFile(path.join(base, 'list'), `${version}\n`);
    await writeFile(path.join(base, `${version}.info`), JSON.stringify({ Version: version, Time: '2023-08-08T15:10:25Z' }));
    await writeFile(path.join(base, `${version}.mod`), module.mod);
    await writeFile(path.join(base, `${version}.zip`), tampered.zip);
    const fileEnv = await readGoEnvironment(GO, proxy.operatorEnv(home, { GOPROXY: pathToFileURL(dir).href, GONOSUMDB: 'golang.org/toolchain' }));
    const blind = await GoModuleDownloader.open(fileEnv);
    try {
      const outcome = await blind.download(TOOLCHAIN_MODULE, version);
      assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason);
      assert.deepEqual(outcome.module.sumdbChecked, { skipped: 'GOPROXY is a file:// URL and GONOSUMDB matches golang.org/toolchain' });
      assert.equal(outcome.module.zip.h1, tampered.h1);
      const direct = directRoute(proxy.sumdbUrl, proxy.log.verifierKey);
      const { verdicts, evidence } = await new Comparer({ sumdb: direct.client, goDownload: blind }).compare(claim, []);
      assert.deepEqual(byFile(verdicts, 'proxy'), { '.zip': 'unchecked', '.mod': 'unchecked', '.info': 'unchecked' });
      assert.match(verdicts.find((v) => v.source === 'proxy')!.detail, /is not the one the checksum database records/);
      assert.ok(evidence.some((e) => e.source === 'proxy' && e.detail.startsWith('PUBLISHED ZIP DISAGREES WITH THE CHECKSUM DATABASE')));
      assert.ok(evidence.some((e) => e.source === 'proxy' && e.detail.includes('NOT checked by the go command (GOPROXY is a file:// URL and GONOSUMDB matches golang.org/toolchain)')));
      // Our rebuild still equals the record: the build is not blamed for the proxy's file.
      assert.deepEqual(byFile(verdicts, 'sumdb'), { '.zip': 'equal', '.mod': 'equal' });
      // Without our sumdb check, the byte comparison alone says unequal (the files differ).
      const naive = comparePublishedModule(claim, outcome.module);
      assert.deepEqual(byFile(naive.verdicts, 'proxy'), { '.zip': 'unequal', '.mod': 'equal', '.info': 'equal' });
    } finally {
      await blind.close();
    }
  });

  test('an unequal rebuild: unequal against the published zip and the record', async () => {
    const route = await goProxyRoute(goEnv);
    const downloader = await GoModuleDownloader.open(goEnv);
    try {
      const other = await toolchainModule(linux.version, linuxEntries('go1.21.0', 'rebuilt differently'));
      const { verdicts } = await new Comparer({ sumdb: route.client, goDownload: downloader }).compare(claimOf(linuxModule, linux.release, 'linux/amd64', other), []);
      assert.deepEqual(byFile(verdicts, 'sumdb'), { '.zip': 'unequal', '.mod': 'equal' });
      assert.deepEqual(byFile(verdicts, 'proxy'), { '.zip': 'unequal', '.mod': 'equal', '.info': 'equal' });
      assert.match(verdicts.find((v) => v.source === 'sumdb' && v.status === 'unequal')!.detail, new RegExp(`expected ${linuxModule.h1.replace(/[+/]/g, '\\$&')}, built ${other.h1.replace(/[+/]/g, '\\$&')}$`));
    } finally {
      await downloader.close();
    }
  });
});

describe('locating a record by its leaf hash, where /lookup does not find it', () => {
  let proxy: ToolchainProxy;
  let amd64: ToolchainModule;
  let arm64: ToolchainModule;
  let far: ToolchainModule;
  let amd64Index: number;
  let arm64Index: number;
  const release = 'go1.22.0';
  const module = (target: string) => `v0.0.1-${release}.${target}`;

  before(async () => {
    proxy = await startToolchainProxy({ keyName: 'sumdb.locate.example' });
    proxy.grow(1000);
    amd64 = await toolchainModule(module('linux-amd64'), linuxEntries(release, 'amd64'));
    arm64 = await toolchainModule(module('linux-arm64'), linuxEntries(release, 'arm64'));
    far = await toolchainModule(module('linux-386'), linuxEntries(release, '386'));
    amd64Index = proxy.add(amd64);
    proxy.grow(1003);
    arm64Index = proxy.add(arm64);
    proxy.grow(1700);
    proxy.add(far); // 700 records away: outside a window of 300
    proxy.grow(2000);
    // As the real proxy does: /lookup of non-linux-amd64 toolchains answers 404.
    proxy.sumdb.faults = { fail: { count: Infinity, status: 404, paths: /^\/lookup\/golang\.org\/toolchain@v0\.0\.1-go[^/]*\.(?!linux-amd64$)[a-z0-9]+-[a-z0-9]+$/ } };
  });
  after(async () => {
    await proxy?.close();
  });

  const route = () => directRoute(proxy.sumdbUrl, proxy.log.verifierKey);

  test('locateRecord: found beside the neighbour, with a verified inclusion proof; not found outside the window', async () => {
    const { client } = route();
    const head = (await client.lookup('golang.org/toolchain', amd64.version)).checkpoint;
    const found = await locateRecord(client, head, toolchainRecordText(arm64.version, arm64.h1, arm64.modH1), { near: BigInt(amd64Index), window: 300 });
    assert.ok(found.found);
    assert.equal(found.index, BigInt(arm64Index));
    assert.equal(found.tilesSearched, 1, 'the neighbour\'s tile first');
    verifyInclusion(found.index, head.checkpoint.size, found.leafHash, found.proof, head.checkpoint.rootHash);
    const missing = await locateRecord(client, head, toolchainRecordText(far.version, far.h1, far.modH1), { near: BigInt(amd64Index), window: 300 });
    assert.ok(!missing.found);
    assert.equal(missing.from, BigInt(amd64Index - 300));
    assert.equal(missing.to, BigInt(amd64Index + 301));
    assert.equal(missing.tilesSearched, 4, 'tiles 2..5 hold records 700..1300');
    // A wider window finds it.
    const wide = await locateRecord(client, head, toolchainRecordText(far.version, far.h1, far.modH1), { near: BigInt(amd64Index), window: 800 });
    assert.ok(wide.found && wide.index === BigInt(amd64Index + 700));
  });

  test('ingest verdicts: located = equal with the record, outside the window = unchecked saying what was searched', async () => {
    const { client, label } = route();
    const comparer = new Comparer({ sumdb: client, sumdbLabel: label, locateWindow: 300 });
    const located = await comparer.compare(claimOf(arm64, release, 'linux/arm64'), []);
    assert.deepEqual(byFile(located.verdicts, 'sumdb'), { '.zip': 'equal', '.mod': 'equal' });
    const size = proxy.log.size;
    const root = encodeBase64(proxy.log.rootHash());
    assert.equal(located.verdicts[0]!.detail, `record ${arm64Index} in tree ${size} ${root} (located by leaf hash): ${arm64.h1}`);
    assert.match(located.evidence[0]!.detail, new RegExp(`record ${arm64Index} in tree ${size} .*: located by leaf hash .* near golang.org/toolchain@${amd64.version} \\(record ${amd64Index}\\), inclusion proof verified$`));

    const outside = await comparer.compare(claimOf(far, release, 'linux/386'), []);
    assert.deepEqual(byFile(outside.verdicts, 'sumdb'), { '.zip': 'unchecked', '.mod': 'unchecked' });
    const why = outside.verdicts[0]!.detail;
    assert.match(why, /^lookup failed \(NOT_FOUND\)/);
    assert.ok(why.includes(`not among records ${amd64Index - 300}..${amd64Index + 300} of tree ${size}`) && why.includes('absence in a window proves nothing'), why);
    // A rebuild that differs from Google's is never located, and never called unequal by this route.
    const other = await toolchainModule(arm64.version, linuxEntries(release, 'arm64, rebuilt differently'));
    const differs = await comparer.compare(claimOf(arm64, release, 'linux/arm64', other), []);
    assert.deepEqual(byFile(differs.verdicts, 'sumdb'), { '.zip': 'unchecked', '.mod': 'unchecked' });
    // Window 0: no search at all.
    const none = await new Comparer({ sumdb: client, locateWindow: 0 }).compare(claimOf(arm64, release, 'linux/arm64'), []);
    assert.ok(none.verdicts.filter((v) => v.source === 'sumdb').every((v) => v.status === 'unchecked' && !v.detail.includes('leaf hash')));
  });

  test('a tile that was made to hold a forged leaf hash does not authenticate: never equal', async () => {
    // A forged record for a target Google never published, its leaf planted in the neighbour's tile.
    const forged = await toolchainModule(module('linux-ppc64le'), linuxEntries(release, 'forged'));
    const leaf = recordLeafHash(toolchainRecordText(forged.version, forged.h1, forged.modH1));
    // Tile 4 (records 1024..1279): in the window, not on the neighbour's own inclusion path.
    const tileIndex = 4;
    const lying: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const url = String(input);
      if (!url.endsWith(`/tile/8/0/${String(tileIndex).padStart(3, '0')}`)) return response;
      const body = Buffer.from(await response.arrayBuffer());
      Buffer.from(leaf).copy(body, 6 * 32);
      return new Response(body, { status: 200 });
    };
    const client = new SumdbClient({ baseUrl: proxy.sumdbUrl, verifierKey: proxy.log.verifierKey, fetch: lying, retries: 0 });
    const { verdicts } = await new Comparer({ sumdb: client, locateWindow: 300 }).compare(claimOf(forged, release, 'linux/ppc64le'), []);
    const sumdb = verdicts.filter((v) => v.source === 'sumdb');
    assert.deepEqual(sumdb.map((v) => v.status), ['unchecked', 'unchecked']);
    assert.match(sumdb[0]!.detail, /locating it by leaf hash failed \((TILE_HASH_MISMATCH|BAD_TILES|TILE_ROOT_MISMATCH)\)/);
  });
});
