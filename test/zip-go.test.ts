// hashModuleZip against the real go command (Debian's Go 1.19, else `go` on PATH), on zips of both makers:
//   - one the go command writes itself: `go mod download` of a module from a git repository (GOPROXY=direct;
//     a path ending in `.git` names the repository without a go-get lookup, and git's url.<base>.insteadOf
//     turns https://example.com/m into the local repository), zipped by golang.org/x/mod/zip with
//     archive/zip's data descriptors, hashed by dirhash.HashZip into `Sum` (and the .ziphash file);
//   - one of ours (test/helpers/zip-bytes.ts, descriptors without signature, a stored entry) served from a
//     file:// GOPROXY: what our strict reader accepts, the go command hashes the same way.
// No network: git reads the local repository; the file proxy is a folder.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { hashModuleZip } from '../src/rebuild/distpack.js';
import { tempDir } from './helpers/fixtures.js';
import { rawZip } from './helpers/zip-bytes.js';

const DEBIAN_GO = '/usr/lib/go-1.19/bin/go';

function findGo(): string | undefined {
  if (existsSync(DEBIAN_GO)) return DEBIAN_GO;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'go'))) return join(dir, 'go');
  }
  return undefined;
}

function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('hashModuleZip equals the go command\'s h1 on a zip the go command wrote and on one we wrote', async (t) => {
  const go = findGo();
  if (!go) {
    t.skip(`go not found at ${DEBIAN_GO} or on PATH`);
    return;
  }
  const root = tempDir('witness-zip-go-');
  t.after(() => run('chmod', ['-R', 'u+w', root], { cwd: root })); // the module cache is read-only

  // A git repository with a tag: big random content (several MiB, over one read buffer), an empty file,
  // non-ASCII names that sort differently in UTF-8 and UTF-16.
  const repo = join(root, 'repo');
  mkdirSync(join(repo, 'sub'), { recursive: true });
  writeFileSync(join(repo, 'go.mod'), 'module example.com/m.git\n\ngo 1.19\n');
  writeFileSync(join(repo, 'm.go'), 'package m\n'.repeat(2000));
  writeFileSync(join(repo, 'big.bin'), randomBytes(5 * 1024 * 1024 + 17));
  writeFileSync(join(repo, 'sub', 'empty.txt'), '');
  writeFileSync(join(repo, 'sub', '\uff21.txt'), 'fullwidth\n');
  writeFileSync(join(repo, 'sub', '\u{1d49c}.txt'), 'script\n');
  const git = (...args: string[]) => run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-qm', 'v1'], ['tag', 'v1.0.0']]) assert.equal((await git(...args)).code, 0, args.join(' '));

  // Our zip, in a file:// proxy.
  const proxy = join(root, 'proxy', 'example.com', 'raw', '@v');
  mkdirSync(proxy, { recursive: true });
  const prefix = 'example.com/raw@v1.0.0/';
  writeFileSync(join(proxy, 'list'), 'v1.0.0\n');
  writeFileSync(join(proxy, 'v1.0.0.info'), '{"Version":"v1.0.0","Time":"2024-01-02T03:04:05Z"}\n');
  writeFileSync(join(proxy, 'v1.0.0.mod'), 'module example.com/raw\n');
  writeFileSync(join(proxy, 'v1.0.0.zip'), rawZip([
    { name: `${prefix}go.mod`, content: Buffer.from('module example.com/raw\n'), descriptor: 'unsigned' },
    { name: `${prefix}data.bin`, content: randomBytes(300_000), method: 0, descriptor: 'none' },
    { name: `${prefix}x.go`, content: Buffer.from('package raw\n'.repeat(500)) },
  ]));

  const modcache = join(root, 'modcache');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(root, 'home'),
    GOPATH: join(root, 'gopath'),
    GOMODCACHE: modcache,
    GOCACHE: join(root, 'gocache'),
    // The file proxy first; a 404 there (example.com/m.git) falls back to git.
    GOPROXY: `${pathToFileURL(join(root, 'proxy')).href},direct`,
    GOSUMDB: 'off',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-modcacherw',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_COUNT: '1',
    GIT_CONFIG_KEY_0: `url.${pathToFileURL(repo).href}.insteadOf`,
    GIT_CONFIG_VALUE_0: 'https://example.com/m',
  };
  const result = await run(go, ['mod', 'download', '-json', 'example.com/m.git@v1.0.0', 'example.com/raw@v1.0.0'], { cwd: root, env });
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const downloads = JSON.parse(`[${result.stdout.replace(/\}\s*\{/g, '},{')}]`) as Array<{ Path: string; Zip: string; Sum: string; Error?: string }>;
  assert.equal(downloads.length, 2);
  for (const download of downloads) {
    assert.equal(download.Error, undefined, download.Error);
    assert.match(download.Sum, /^h1:/);
    assert.equal(await hashModuleZip(download.Zip), download.Sum, `${download.Path}: our h1 vs the go command's`);
    assert.equal(readFileSync(download.Zip.replace(/\.zip$/, '.ziphash'), 'utf8').trim(), download.Sum);
  }
  // The go command's zip has archive/zip's layout: every entry deflated, followed by a data descriptor.
  const goZip = readFileSync(downloads.find((d) => d.Path === 'example.com/m.git')!.Zip);
  assert.equal(goZip.readUInt16LE(6) & 0x8, 0x8, 'the first entry has a data descriptor');
});

test('opt-in: real golang.org/toolchain zips in WITNESS_GOMODCACHE hash as the go command recorded them (.ziphash)', async (t) => {
  const modcache = process.env['WITNESS_GOMODCACHE'];
  if (!modcache) {
    t.skip('set WITNESS_GOMODCACHE to a module cache where `go mod download golang.org/toolchain@v0.0.1-go1.21.5.linux-amd64` ran');
    return;
  }
  const { toolchainZipsInModuleCache } = await import('../src/rebuild/check.js');
  const zips = await toolchainZipsInModuleCache(modcache);
  assert.ok(zips.length > 0, `no toolchain zips under ${modcache}`);
  for (const zip of zips) {
    const recorded = readFileSync(zip.replace(/\.zip$/, '.ziphash'), 'utf8').trim();
    assert.equal(await hashModuleZip(zip), recorded, zip);
  }
});
