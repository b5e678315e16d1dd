// Interop with the real go command (Debian's Go 1.19): a checksum database built by our tlog code and
// served by test/helpers/sumdb-server.ts must satisfy `go mod download`, and a lying one must not.
//
// How the go command is pointed at the test server (Go 1.19 src/cmd/go/internal/modfetch/sumdb.go dbDial
// and src/cmd/go/internal/web/http.go, read on this machine): GOSUMDB may be "<vkey>" or "<vkey> <url>".
// The key name must be host[/path] ("invalid sumdb name (must be host[/path])" otherwise). An explicit URL
// bypasses the proxy's /sumdb/<name>/supported probe, and it is fetched with web.DefaultSecurity ("allow
// plain HTTP if explicit"), so `GOSUMDB="<vkey> http://127.0.0.1:PORT"` works without GOINSECURE.
// `go help module-auth` only points at https://golang.org/ref/mod#authenticating.
//
// What the go command does with the server (golang/mod sumdb/client.go as vendored in Go 1.19): it never
// fetches /latest or data tiles during `go mod download`; it fetches /lookup/<m>@<v> (whose signed note it
// merges into GOPATH/pkg/sumdb/<name>/latest, checking consistency with the tree remembered there by
// recomputing the old root from the new tree's tiles), then the hash tiles that authenticate the record's
// leaf hash against the signed root. Tiles are cached under GOMODCACHE/cache/download/sumdb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ZipFile } from 'yazl';
import { goModHash, hash1 } from '../src/sumdb/dirhash.js';
import { decodeDataTile, formatGoSumRecord, formatRecord, recordLeafHash } from '../src/sumdb/record.js';
import { bytesEqual, concatBytes, decodeUtf8, utf8 } from '../src/tlog/encoding.js';
import { decodeHashTile } from '../src/tlog/tile.js';
import { SumdbTestLog, type SumdbTestServer, escapeModulePath, startSumdbServer } from './helpers/sumdb-server.js';

const DEBIAN_GO = '/usr/lib/go-1.19/bin/go';

function findGo(): string | undefined {
  if (existsSync(DEBIAN_GO)) return DEBIAN_GO;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// A file:// GOPROXY holding real (tiny) modules.

interface ModuleSpec {
  readonly path: string;
  readonly version: string;
  /** Files by path inside the module; must include go.mod. */
  readonly files: Record<string, string>;
}

interface BuiltModule extends ModuleSpec {
  /** h1: of the zip, computed by our dirhash from the names `<path>@<version>/<file>` and contents. */
  readonly hash: string;
  readonly goModHash: string;
  readonly record: string;
}

async function zipBytes(entries: Array<{ name: string; content: Uint8Array }>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const entry of entries) {
    zip.addBuffer(Buffer.from(entry.content), entry.name, { mtime: new Date('2024-01-02T03:04:05Z'), mode: 0o644 });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function writeProxyModule(proxyDir: string, spec: ModuleSpec): Promise<BuiltModule> {
  const prefix = `${spec.path}@${spec.version}/`;
  const entries = Object.entries(spec.files).map(([name, content]) => ({ name: prefix + name, content: utf8(content) }));
  const goMod = utf8(spec.files['go.mod'] ?? '');
  const dir = join(proxyDir, escapeModulePath(spec.path), '@v');
  const base = join(dir, escapeModulePath(spec.version));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'list'), `${spec.version}\n`);
  await writeFile(`${base}.info`, JSON.stringify({ Version: spec.version, Time: '2024-01-02T03:04:05Z' }));
  await writeFile(`${base}.mod`, goMod);
  await writeFile(`${base}.zip`, await zipBytes(entries));
  const hash = hash1(entries);
  const modHash = goModHash(goMod);
  return { ...spec, hash, goModHash: modHash, record: formatGoSumRecord({ path: spec.path, version: spec.version, hash, goModHash: modHash }) };
}

// Three real modules. example.com/Greet has an upper-case path (escaped "!greet" in URLs and the proxy)
// and file names where UTF-16 and UTF-8 order disagree: U+FF46 (fullwidth f, EF BD 86) sorts before
// U+10428 (Deseret small long I, F0 90 90 A8) byte-wise, after it as UTF-16 (FF46 > D801). Both are
// letters, which module zips allow; if our dirhash sorted JS strings, go would report a different Sum.
const MODULES: ModuleSpec[] = [
  {
    path: 'example.com/hello',
    version: 'v1.0.0',
    files: {
      'go.mod': 'module example.com/hello\n\ngo 1.19\n',
      'hello.go': 'package hello\n\n// Hello returns a greeting.\nfunc Hello() string { return "hello, world" }\n',
    },
  },
  {
    path: 'example.com/Greet',
    version: 'v0.2.0',
    files: {
      'go.mod': 'module example.com/Greet\n\ngo 1.19\n',
      'greet.go': 'package greet\n\nfunc Greet(name string) string { return "hi " + name }\n',
      'Zebra.txt': 'upper-case first\n',
      'data/\uFF46ull.txt': 'fullwidth\n',
      'data/\u{10428}.txt': 'deseret\n',
    },
  },
  {
    path: 'example.com/later',
    version: 'v1.0.0',
    files: {
      'go.mod': 'module example.com/later\n\ngo 1.19\n',
      'later.go': 'package later\n\nconst Later = true\n',
    },
  },
];

// Where the real modules sit in the log: hello in the full level-0 tile 000, Greet in the partial
// tile 002.p/88 of the 600-record tree, later (appended when the log grows) in 004.p/76 of 1100.
const HELLO_ID = 100;
const GREET_ID = 590;
const LATER_ID = 1050;

function syntheticRecord(i: number): string {
  const path = `example.com/fake/m${i}`;
  const version = `v1.${i % 7}.${i}`;
  return formatGoSumRecord({
    path,
    version,
    hash: hash1([{ name: `${path}@${version}/fake.go`, content: utf8(`package fake // ${i}\n`) }]),
    goModHash: goModHash(utf8(`module ${path}\n`)),
  });
}

/** Appends records to `log` until it has `size`, putting `special` texts at their indexes. */
function growLog(log: SumdbTestLog, size: number, special: Map<number, string>): SumdbTestLog {
  while (log.size < size) log.append(special.get(log.size) ?? syntheticRecord(log.size));
  return log;
}

// ---------------------------------------------------------------------------------------------------
// Running the go command.

interface GoResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The objects of `go mod download -json` output. */
  readonly json: Array<Record<string, unknown>>;
}

interface GoEnv {
  readonly home: string;
  readonly gopath: string;
  readonly gomodcache: string;
  readonly proxyDir: string;
  readonly server: SumdbTestServer;
  readonly vkey: string;
}

function runGo(go: string, env: GoEnv, args: string[]): Promise<GoResult> {
  // A clean environment: nothing from the developer's go env (GOFLAGS, GOPRIVATE, GONOSUMDB, GOINSECURE…).
  const childEnv: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: env.home,
    GOPATH: env.gopath,
    GOMODCACHE: env.gomodcache,
    GOCACHE: join(env.home, 'gocache'),
    GOPROXY: pathToFileURL(env.proxyDir).href,
    GOSUMDB: `${env.vkey} ${env.server.url}`,
    GOFLAGS: '-mod=mod',
    GONOSUMDB: '',
    GONOSUMCHECK: '',
    GOPRIVATE: '',
    GONOPROXY: '',
    GOTOOLCHAIN: 'local',
    GO111MODULE: 'on',
    GOENV: 'off',
  };
  return new Promise((resolve, reject) => {
    // Asynchronous: the sumdb server answers from this same event loop.
    const child = spawn(go, args, { cwd: env.home, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      let json: Array<Record<string, unknown>> = [];
      if (stdout.trim() !== '') {
        try {
          json = JSON.parse(`[${stdout.trim().replace(/\}\n\{/g, '},{')}]`) as Array<Record<string, unknown>>;
        } catch {
          json = [];
        }
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

function describeRun(result: GoResult): string {
  return `exit ${result.code}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
}

/** What go reported: stderr plus the "Error" fields of the -json output (where download errors go). */
function errorText(result: GoResult): string {
  const errors = result.json.map((o) => o['Error']).filter((e): e is string => typeof e === 'string');
  return [result.stderr, ...errors].join('\n');
}

// ---------------------------------------------------------------------------------------------------

test('the test sumdb server serves data tiles that match its hash tiles and lookups', async () => {
  const log = growLog(new SumdbTestLog(), 600, new Map());
  const server = await startSumdbServer(log);
  try {
    for (const [path, index, width] of [['000', 0n, 256], ['002.p/88', 2n, 88]] as const) {
      const data = new Uint8Array(await (await fetch(`${server.url}/tile/8/data/${path}`)).arrayBuffer());
      const hashes = new Uint8Array(await (await fetch(`${server.url}/tile/8/0/${path}`)).arrayBuffer());
      const texts = decodeDataTile(data, width);
      const leaves = decodeHashTile(hashes, { level: 0, index, width });
      assert.equal(texts.length, width);
      texts.forEach((text, i) => assert.ok(bytesEqual(recordLeafHash(text), leaves[i]!), `record ${i} of ${path}`));
    }
    // Any width whose hashes exist is served (prefixes of full tiles, older partials); nothing beyond.
    const bytesOf = async (path: string) => new Uint8Array(await (await fetch(`${server.url}${path}`)).arrayBuffer());
    assert.ok(bytesEqual(await bytesOf('/tile/8/0/001.p/5'), (await bytesOf('/tile/8/0/001')).subarray(0, 5 * 32)));
    assert.ok(bytesEqual(await bytesOf('/tile/8/0/002.p/87'), (await bytesOf('/tile/8/0/002.p/88')).subarray(0, 87 * 32)));
    assert.equal((await fetch(`${server.url}/tile/8/0/002.p/89`)).status, 404);
    assert.equal((await fetch(`${server.url}/tile/8/0/002`)).status, 404);
    assert.equal((await fetch(`${server.url}/tile/8/0/003.p/1`)).status, 404);
    assert.equal((await fetch(`${server.url}/tile/8/1/000.p/2`)).status, 200);
    assert.equal((await fetch(`${server.url}/tile/8/1/000.p/3`)).status, 404);
    assert.equal((await fetch(`${server.url}/tile/8/2/000.p/1`)).status, 404);
    assert.equal((await fetch(`${server.url}/tile/8/data/002.p/89`)).status, 404);
    assert.equal((await fetch(`${server.url}/tile/8/0/x001`)).status, 400);
    assert.equal((await fetch(`${server.url}/tile/8/0/002.p/256`)).status, 400);
    assert.equal((await fetch(`${server.url}/tile/4/0/000`)).status, 404);
    // Lookups: escaped paths, 404 for unknown modules, 400 for bad syntax.
    const lookup = await fetch(`${server.url}/lookup/example.com/fake/m7@v1.0.7`);
    assert.equal(lookup.status, 200);
    const expected = concatBytes(formatRecord(7, log.recordText(7)), utf8(log.signedTree()));
    assert.ok(bytesEqual(new Uint8Array(await lookup.arrayBuffer()), expected));
    assert.equal((await fetch(`${server.url}/lookup/example.com/fake/m7@v9.9.9`)).status, 404);
    assert.equal((await fetch(`${server.url}/lookup/example.com/fake/m7@latest`)).status, 400);
    assert.equal((await fetch(`${server.url}/lookup/example.com/Fake@v1.0.0`)).status, 400);
    assert.equal((await fetch(`${server.url}/lookup/example.com/!fake@v1.0.0`)).status, 404);
    assert.equal(await (await fetch(`${server.url}/latest`)).text(), log.signedTree());
    // Tampering with a record changes what /lookup and the data tile say, not the tree.
    const forged = syntheticRecord(1_000_007).replaceAll('example.com/fake/m1000007 v1.1.1000007', 'example.com/fake/m7 v1.0.7');
    server.tamper = { record: { id: 7, text: forged } };
    const tamperedLookup = new Uint8Array(await (await fetch(`${server.url}/lookup/example.com/fake/m7@v1.0.7`)).arrayBuffer());
    assert.ok(bytesEqual(tamperedLookup, concatBytes(formatRecord(7, forged), utf8(log.signedTree()))));
    const tamperedTile = decodeDataTile(await bytesOf('/tile/8/data/000'), 256);
    assert.equal(decodeUtf8(tamperedTile[7]!), forged);
    assert.ok(!bytesEqual(recordLeafHash(tamperedTile[7]!), decodeHashTile(await bytesOf('/tile/8/0/000'), { level: 0, index: 0n, width: 256 })[7]!));
    server.tamper = { hashTile: { level: 0, index: 0n, byteOffset: 33 } };
    const flipped = await bytesOf('/tile/8/0/000.p/2');
    assert.equal(flipped[33], log.hashTile({ level: 0, index: 0n, width: 2 })![33]! ^ 1);
  } finally {
    await server.close();
  }
  // A server that keeps only the current partial tiles (as a static tlog-tiles log may).
  const strict = await startSumdbServer(log, {}, { onlyCurrentPartials: true });
  try {
    assert.equal((await fetch(`${strict.url}/tile/8/0/002.p/87`)).status, 404);
    assert.equal((await fetch(`${strict.url}/tile/8/data/002.p/87`)).status, 404);
    assert.equal((await fetch(`${strict.url}/tile/8/0/002.p/88`)).status, 200);
    assert.equal((await fetch(`${strict.url}/tile/8/0/001.p/5`)).status, 200);
  } finally {
    await strict.close();
  }
});

test('go mod download (Go 1.19) against a sumdb built by our tlog code', async (t) => {
  const go = findGo();
  if (!go) {
    t.skip(`go not found at ${DEBIAN_GO} or on PATH`);
    return;
  }
  const root = await mkdtemp(join(tmpdir(), 'go-interop-'));
  const proxyDir = join(root, 'proxy');
  const built = await Promise.all(MODULES.map((spec) => writeProxyModule(proxyDir, spec)));
  const [hello, greet, later] = built as [BuiltModule, BuiltModule, BuiltModule];
  const special = new Map([
    [HELLO_ID, hello.record],
    [GREET_ID, greet.record],
    [LATER_ID, later.record],
  ]);
  const log = growLog(new SumdbTestLog({ keyName: 'sumdb.test.example' }), 600, special);
  const server = await startSumdbServer(log);
  const vkey = log.verifierKey;
  let envCount = 0;
  /**
   * A fresh HOME with its own GOPATH and GOMODCACHE unless given: GOPATH/pkg/sumdb/<name>/latest is
   * where go remembers the tree; GOMODCACHE/cache/download/sumdb caches lookups and verified tiles.
   */
  const freshEnv = async (options: { gopath?: string; gomodcache?: string; server?: SumdbTestServer } = {}): Promise<GoEnv> => {
    const home = join(root, `home${envCount++}`);
    await mkdir(home, { recursive: true });
    return {
      home,
      gopath: options.gopath ?? join(home, 'gopath'),
      gomodcache: options.gomodcache ?? join(home, 'modcache'),
      proxyDir,
      server: options.server ?? server,
      vkey,
    };
  };
  const latestFile = (env: GoEnv) => join(env.gopath, 'pkg', 'sumdb', log.keyName, 'latest');
  t.after(async () => {
    await server.close();
    // The module cache is read-only; make it writable before removing the temp tree.
    await new Promise((resolve) => spawn('chmod', ['-R', 'u+w', root]).on('close', resolve));
    await rm(root, { recursive: true, force: true });
  });

  let sharedGopath = '';
  let note600 = '';
  let growthModcache = '';

  await t.test('verifies a module in a full tile and one in the partial tile', async () => {
    const env = await freshEnv();
    sharedGopath = env.gopath;
    server.requests.length = 0;
    const result = await runGo(go, env, ['mod', 'download', '-json', 'example.com/hello@v1.0.0', 'example.com/Greet@v0.2.0']);
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.json.length, 2, describeRun(result));
    for (const [got, want] of [[result.json[0]!, hello], [result.json[1]!, greet]] as const) {
      assert.equal(got['Path'], want.path);
      assert.equal(got['Error'], undefined, describeRun(result));
      assert.equal(got['Sum'], want.hash, `go's zip hash for ${want.path} vs our dirhash`);
      assert.equal(got['GoModSum'], want.goModHash, `go's go.mod hash for ${want.path} vs our goModHash`);
    }
    // The lookups (escaped path for Greet) and the tiles: 0/000 (full, holds record 100) authenticated
    // by its parent 1/000.p/2; 0/002.p/88 (partial, holds record 590) authenticated by the root.
    for (const path of [
      '/lookup/example.com/hello@v1.0.0',
      '/lookup/example.com/!greet@v0.2.0',
      '/tile/8/0/000',
      '/tile/8/0/002.p/88',
      '/tile/8/1/000.p/2',
    ]) {
      assert.ok(server.requests.includes(path), `go requested ${path} (requests: ${server.requests.join(' ')})`);
    }
    // go remembered our signed tree, byte for byte, and cached the lookup response.
    note600 = log.signedTree();
    assert.equal(await readFile(latestFile(env), 'utf8'), note600);
    const cachedLookup = await readFile(join(env.gomodcache, 'cache/download/sumdb', log.keyName, 'lookup/example.com/hello@v1.0.0'));
    assert.ok(bytesEqual(cachedLookup, concatBytes(formatRecord(HELLO_ID, hello.record), utf8(log.signedTree()))));
  });

  await t.test('accepts the grown log after checking it is consistent with the remembered tree', async () => {
    assert.notEqual(note600, '', 'needs the first subtest');
    growLog(log, 1100, special);
    const env = await freshEnv({ gopath: sharedGopath }); // go remembers tree 600; new module cache
    growthModcache = env.gomodcache;
    assert.equal(await readFile(latestFile(env), 'utf8'), note600);
    server.requests.length = 0;
    const result = await runGo(go, env, ['mod', 'download', '-json', 'example.com/later@v1.0.0']);
    assert.equal(result.code, 0, describeRun(result));
    assert.equal(result.json[0]?.['Sum'], later.hash);
    assert.equal(result.json[0]?.['GoModSum'], later.goModHash);
    assert.match(log.signedTree(), /^go\.sum database tree\n1100\n/);
    assert.equal(await readFile(latestFile(env), 'utf8'), log.signedTree());
    // Tile 0/002 was partial (.p/88) in tree 600 and is full in tree 1100; record 1050 does not need it,
    // only recomputing the old root 600 from the new tree's tiles does (client.go checkTrees). Before
    // that, go re-authenticates its remembered tree 600 itself, with that tree's own partial tiles.
    for (const path of ['/tile/8/1/000.p/2', '/tile/8/0/002.p/88', '/tile/8/0/002', '/tile/8/0/004.p/76', '/tile/8/1/000.p/4']) {
      assert.ok(server.requests.includes(path), `go requested ${path} (requests: ${server.requests.join(' ')})`);
    }
  });

  await t.test('needs the partial tiles of the remembered tree size, not only the current ones', async () => {
    // A server that, like a static tlog-tiles log deleting old partials, serves partial tiles only at
    // the current width: go, remembering tree 600 but with an empty tile cache, asks for 1/000.p/2
    // (still partial at 1100, as 1/000.p/4), so its fallback to the full tile cannot help.
    assert.notEqual(note600, '', 'needs the first subtest');
    const strict = await startSumdbServer(log, {}, { onlyCurrentPartials: true });
    try {
      const env = await freshEnv({ server: strict });
      await mkdir(join(env.gopath, 'pkg', 'sumdb', log.keyName), { recursive: true });
      await writeFile(latestFile(env), note600);
      const result = await runGo(go, env, ['mod', 'download', '-json', 'example.com/later@v1.0.0']);
      assert.notEqual(result.code, 0, describeRun(result));
      assert.match(
        errorText(result),
        /initializing sumdb\.Client: checking tree#600: reading http:\/\/127\.0\.0\.1:\d+\/tile\/8\/1\/000\.p\/2: 404 Not Found/,
        describeRun(result),
      );
    } finally {
      await strict.close();
    }
  });

  await t.test('detects a forked log signed by the same key', async () => {
    // Same key and records, except record 7, grown past the remembered 1100 (to 1300, so that no tile
    // of the fork's tree has the path of a tile go cached for tree 1100: 1/000.p/5, not .p/4): the
    // fork's tiles are consistent with its own signed root but cannot give the remembered root of 1100.
    assert.notEqual(growthModcache, '', 'needs the growth subtest');
    const fork = new SumdbTestLog({ signerKey: log.signerKey });
    growLog(fork, 1300, new Map(special).set(7, syntheticRecord(100_007)));
    const forkServer = await startSumdbServer(fork);
    try {
      // (1) Empty tile cache: go first re-authenticates its remembered tree 1100 with tiles fetched
      // from the server, which now come from the fork.
      const cold = await runGo(go, await freshEnv({ gopath: sharedGopath, server: forkServer }), [
        'mod', 'download', '-json', 'example.com/later@v1.0.0',
      ]);
      assert.notEqual(cold.code, 0, describeRun(cold));
      assert.ok(
        errorText(cold).includes('initializing sumdb.Client: checking tree#1100: downloaded inconsistent tile'),
        describeRun(cold),
      );
      // (2) With the tiles of tree 1100 verified and cached by the growth run, a new lookup brings the
      // fork's signed tree 1300, and the old root cannot be rebuilt from its tiles: a proven fork.
      const warm = await runGo(go, await freshEnv({ gopath: sharedGopath, gomodcache: growthModcache, server: forkServer }), [
        'mod', 'download', '-json', 'example.com/Greet@v0.2.0',
      ]);
      assert.notEqual(warm.code, 0, describeRun(warm));
      const output = errorText(warm);
      assert.ok(output.includes('SECURITY ERROR\ngo.sum database server misbehavior detected!\n'), describeRun(warm));
      // The report quotes both signed notes: the remembered tree 1100 and the fork's 1300.
      assert.ok(output.includes(`old database:\n\t${log.signedTree().replaceAll('\n', '\n\t')}`), describeRun(warm));
      assert.ok(output.includes(`new database:\n\t${fork.signedTree().replaceAll('\n', '\n\t')}`), describeRun(warm));
      // The remembered tree is left alone.
      assert.equal(await readFile(latestFile(await freshEnv({ gopath: sharedGopath })), 'utf8'), log.signedTree());
    } finally {
      await forkServer.close();
    }
  });

  await t.test('rejects a hash tile with a flipped byte', async () => {
    // 1/000.p/2 and 0/002.p/88 are on the right edge of tree 600: go recomputes the signed root from
    // them (tlog.TileHashReader). A flipped leaf hash in the full tile 0/000 is reported by go's
    // comparison of the record's leaf hash (client.go checkRecord).
    const small = growLog(new SumdbTestLog({ signerKey: log.signerKey }), 600, special);
    const cases = [
      { module: 'example.com/Greet@v0.2.0', tile: { level: 0, index: 2n, byteOffset: 3 }, error: 'downloaded inconsistent tile' },
      { module: 'example.com/hello@v1.0.0', tile: { level: 1, index: 0n, byteOffset: 40 }, error: 'downloaded inconsistent tile' },
      {
        module: 'example.com/hello@v1.0.0',
        tile: { level: 0, index: 0n, byteOffset: HELLO_ID * 32 + 5 },
        error: 'cannot authenticate record data in server response',
      },
    ];
    for (const c of cases) {
      const tampered = await startSumdbServer(small, { hashTile: c.tile });
      try {
        const env = await freshEnv({ server: tampered });
        const result = await runGo(go, env, ['mod', 'download', '-json', c.module]);
        assert.notEqual(result.code, 0, describeRun(result));
        // go checks the go.mod hash first, with the same lookup and tiles.
        assert.ok(errorText(result).includes(`${c.module}: verifying go.mod: ${c.module}/go.mod: ${c.error}`), describeRun(result));
        assert.equal(result.json[0]?.['Sum'], undefined);
      } finally {
        await tampered.close();
      }
    }
  });

  await t.test('rejects a lookup whose record is not the logged leaf', async () => {
    // The server answers /lookup with a record claiming a different h1 than the one in the tree.
    const small = growLog(new SumdbTestLog({ signerKey: log.signerKey }), 600, special);
    const forged = formatGoSumRecord({ path: hello.path, version: hello.version, hash: later.hash, goModHash: hello.goModHash });
    const tampered = await startSumdbServer(small, { record: { id: HELLO_ID, text: forged } });
    try {
      const env = await freshEnv({ server: tampered });
      const result = await runGo(go, env, ['mod', 'download', '-json', 'example.com/hello@v1.0.0']);
      assert.notEqual(result.code, 0, describeRun(result));
      assert.ok(
        errorText(result).includes(
          'example.com/hello@v1.0.0: verifying go.mod: example.com/hello@v1.0.0/go.mod: cannot authenticate record data in server response',
        ),
        describeRun(result),
      );
    } finally {
      await tampered.close();
    }
  });

  await t.test('rejects a zip whose hash differs from the logged one (checksum mismatch, SECURITY ERROR)', async () => {
    // A log that is honest about its tree but logged a different h1 for hello's zip.
    const lying = formatGoSumRecord({ path: hello.path, version: hello.version, hash: later.hash, goModHash: hello.goModHash });
    const badLog = growLog(new SumdbTestLog({ signerKey: log.signerKey }), 600, new Map(special).set(HELLO_ID, lying));
    const badServer = await startSumdbServer(badLog);
    try {
      const env = await freshEnv({ server: badServer });
      const result = await runGo(go, env, ['mod', 'download', '-json', 'example.com/hello@v1.0.0']);
      assert.notEqual(result.code, 0, describeRun(result));
      const output = errorText(result);
      assert.ok(
        output.includes(
          `example.com/hello@v1.0.0: verifying module: checksum mismatch\n\tdownloaded: ${hello.hash}\n\t${log.keyName}: ${later.hash}\n\nSECURITY ERROR\n`,
        ),
        describeRun(result),
      );
      // The go.mod hash was right, so go got that far.
      assert.equal(result.json[0]?.['GoModSum'], hello.goModHash);
      assert.equal(result.json[0]?.['Sum'], undefined);
    } finally {
      await badServer.close();
    }
  });
});
