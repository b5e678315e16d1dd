// source-check: a Go source tarball against the tag's git tree, file by file.
import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { test } from 'node:test';
import tar from 'tar-stream';
import { checkSourceTarball, distpackMatch } from '../src/rebuild/source-check.js';
import { git, runWitness, tempDir } from './helpers/fixtures.js';

interface Entry {
  name: string;
  content?: string;
  mode?: number;
  symlink?: string;
}

async function writeTarball(file: string, entries: Entry[]): Promise<void> {
  const pack = tar.pack();
  const done = pipeline(pack, createGzip(), createWriteStream(file));
  pack.entry({ name: 'go/', type: 'directory', mode: 0o755, mtime: new Date(0) });
  for (const entry of entries) {
    if (entry.symlink !== undefined) pack.entry({ name: `go/${entry.name}`, type: 'symlink', linkname: entry.symlink, mtime: new Date(0) });
    else pack.entry({ name: `go/${entry.name}`, mode: entry.mode ?? 0o644, mtime: new Date(0) }, entry.content ?? '');
  }
  pack.finalize();
  await done;
}

function makeGoRepo(): string {
  const repo = path.join(tempDir(), 'go');
  mkdirSync(path.join(repo, 'src', 'cmd'), { recursive: true });
  mkdirSync(path.join(repo, '.github'), { recursive: true });
  git(repo, 'init', '-q');
  writeFileSync(path.join(repo, 'VERSION'), 'go1.99.0\ntime 2026-01-01T00:00:00Z\n');
  writeFileSync(path.join(repo, 'src', 'make.bash'), '#!/bin/sh\necho build\n');
  chmodSync(path.join(repo, 'src', 'make.bash'), 0o755);
  writeFileSync(path.join(repo, 'src', 'cmd', 'main.go'), 'package main\n');
  writeFileSync(path.join(repo, '.gitignore'), 'bin/\n');
  writeFileSync(path.join(repo, '.github', 'ci.yml'), 'x\n');
  symlinkSync('main.go', path.join(repo, 'src', 'cmd', 'link.go'));
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'release');
  git(repo, 'tag', 'go1.99.0');
  return repo;
}

const GOOD: Entry[] = [
  { name: 'VERSION', content: 'go1.99.0\ntime 2026-01-01T00:00:00Z\n' },
  { name: 'src/make.bash', content: '#!/bin/sh\necho build\n', mode: 0o755 },
  { name: 'src/cmd/main.go', content: 'package main\n' },
  { name: 'src/cmd/link.go', symlink: 'main.go' },
];

test('distpack patterns match like cmd/distpack amatch', () => {
  assert.ok(distpackMatch('**/.DS_Store', '.DS_Store'));
  assert.ok(distpackMatch('**/.DS_Store', 'a/b/.DS_Store'));
  assert.ok(distpackMatch('misc/cgo/*/_obj/**', 'misc/cgo/x/_obj/a/b'));
  assert.ok(!distpackMatch('misc/cgo/*/_obj/**', 'misc/cgo/x/y/_obj/a'));
  assert.ok(distpackMatch('.gitignore', '.gitignore'));
  assert.ok(!distpackMatch('.gitignore', 'src/.gitignore'));
  assert.ok(distpackMatch('**/*.exe~', 'bin/go.exe~'));
  assert.ok(distpackMatch('**/go_?*_?*_exec', 'misc/wasm/go_js_wasm_exec'));
  assert.ok(!distpackMatch('**/go_?*_?*_exec', 'misc/go__exec'));
  // `**` is any number of components, none included; `*` and `?` stay within one; `.` is literal; a
  // pattern matches the whole name (each pattern is one compiled expression: these pin its edges).
  assert.ok(distpackMatch('bin/**', 'bin'));
  assert.ok(distpackMatch('bin/**', 'bin/go'));
  assert.ok(!distpackMatch('bin/**', 'binx/go'));
  assert.ok(!distpackMatch('bin/**', 'src/bin/go'));
  assert.ok(distpackMatch('a/**/b', 'a/b'));
  assert.ok(distpackMatch('a/**/b', 'a/x/y/b'));
  assert.ok(!distpackMatch('a/**/b', 'a/x/c'));
  assert.ok(!distpackMatch('.gitignore', 'xgitignore'));
  assert.ok(!distpackMatch('.gitignore', '.gitignore\n'));
  assert.ok(!distpackMatch('VERSION.cache', 'VERSION.cachex'));
  assert.ok(!distpackMatch('**/*.exe~', 'bin/go.exe~/x'));
  assert.ok(!distpackMatch('src/cmd/dist/dist', 'src/cmd/dist/dist/x'));
});

test('modes follow cmd/distpack, not git', async () => {
  const { distpackMode } = await import('../src/rebuild/source-check.js');
  assert.equal(distpackMode('src/make.bash'), 0o755);
  assert.equal(distpackMode('src/cmp.bash'), 0o755);
  assert.equal(distpackMode('pkg/tool/linux_amd64/compile'), 0o755);
  assert.equal(distpackMode('misc/wasm/go_js_wasm_exec'), 0o755);
  assert.equal(distpackMode('src/runtime/pprof/testdata/test64'), 0o644);
});

test('a tarball holding exactly the tag tree (minus .git*, .github) is the same; any change is named', async () => {
  const repo = makeGoRepo();
  const dir = tempDir();
  const good = path.join(dir, 'good.tar.gz');
  await writeTarball(good, GOOD);
  const same = await checkSourceTarball(good, repo, 'go1.99.0');
  assert.equal(same.equal, true, JSON.stringify(same));
  assert.equal(same.files, 4);

  const cases: Array<[string, Entry[], (r: Awaited<ReturnType<typeof checkSourceTarball>>) => void]> = [
    ['content', GOOD.map((e) => (e.name === 'src/cmd/main.go' ? { ...e, content: 'package evil\n' } : e)), (r) => assert.deepEqual(r.differ, [{ path: 'src/cmd/main.go', reason: 'content differs' }])],
    ['extra', [...GOOD, { name: 'src/backdoor.go', content: 'package x\n' }], (r) => assert.deepEqual(r.onlyInTarball, ['src/backdoor.go'])],
    ['missing', GOOD.filter((e) => e.name !== 'VERSION'), (r) => assert.deepEqual(r.onlyInGit, ['VERSION'])],
    ['mode', GOOD.map((e) => (e.name === 'src/make.bash' ? { ...e, mode: 0o644 } : e)), (r) => assert.match(r.differ[0]!.reason, /mode 644, but cmd\/distpack gives 755/)],
    ['mode by name', GOOD.map((e) => (e.name === 'src/cmd/main.go' ? { ...e, mode: 0o755 } : e)), (r) => assert.match(r.differ[0]!.reason, /mode 755, but cmd\/distpack gives 644/)],
    ['symlink', GOOD.map((e) => (e.name === 'src/cmd/link.go' ? { ...e, symlink: '/etc/passwd' } : e)), (r) => assert.match(r.differ[0]!.reason, /symlink target/)],
  ];
  for (const [what, entries, check] of cases) {
    const file = path.join(dir, `${what}.tar.gz`);
    await writeTarball(file, entries);
    const result = await checkSourceTarball(file, repo, 'go1.99.0');
    assert.equal(result.equal, false, what);
    check(result);
  }

  const cli = runWitness(['source-check', good, '--tag', 'go1.99.0', '--go-repo', repo]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /SAME: the tarball holds exactly the git tree of go1\.99\.0/);
  const bad = runWitness(['source-check', path.join(dir, 'extra.tar.gz'), '--tag', 'go1.99.0', '--go-repo', repo]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /src\/backdoor\.go/);
  writeFileSync(path.join(dir, 'junk.tar.gz'), 'not a tarball');
  assert.equal(runWitness(['source-check', path.join(dir, 'junk.tar.gz'), '--tag', 'go1.99.0', '--go-repo', repo]).code, 1);
  assert.equal(runWitness(['source-check', good, '--tag', 'go9', '--go-repo', repo]).code, 2);
});
