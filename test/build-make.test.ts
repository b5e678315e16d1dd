// The make.bash environment (src/rebuild/make.ts): a scrubbed environment, no key in it, the build user,
// and exportTree.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  assertNoKeyInEnvironment,
  buildUserFor,
  exportTree,
  giveToBuildUser,
  scrubbedEnvironment,
  takeBackFromBuildUser,
  BUILD_PATH,
} from '../src/rebuild/make.js';
import { prepareSandbox } from '../src/rebuild/sandbox.js';
import { parseTarget } from '../src/release/target.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { git, tempDir } from './helpers/fixtures.js';
import { makeGoRepo, runningAsRoot } from './helpers/go-fixture.js';

const AS_ROOT = runningAsRoot();
/** The build user: a fresh uid per build when root (sandbox.ts allocateBuildUser), else ourselves. */
const BUILD_USER = AS_ROOT ? /^uid-(19|20)[0-9]{8}$/ : new RegExp(`^uid-${process.getuid?.()}$`);

describe('the make.bash sandbox (make.ts)', () => {
  test('the build environment is made from scratch: only these variables', () => {
    const env = scrubbedEnvironment({ home: '/w/home', tmp: '/w/tmp', bootstrap: '/usr/lib/go-1.19', target: parseTarget('linux/arm'), extra: { GOARM: '6' } });
    assert.deepEqual(env, {
      HOME: '/w/home',
      TMPDIR: '/w/tmp',
      LANG: 'C',
      PATH: BUILD_PATH,
      SHELL: '/bin/sh',
      GOROOT_BOOTSTRAP: '/usr/lib/go-1.19',
      GOTOOLCHAIN: 'local',
      GOOS: 'linux',
      GOARCH: 'arm',
      GOARM: '6',
    });
    assert.deepEqual(Object.keys(scrubbedEnvironment({ home: 'h', tmp: 't', bootstrap: 'b' })).sort(), ['GOROOT_BOOTSTRAP', 'GOTOOLCHAIN', 'HOME', 'LANG', 'PATH', 'SHELL', 'TMPDIR']);
  });

  test('a signing or cosigner key in the environment stops a build; the build user is a fresh uid when root', () => {
    assert.doesNotThrow(() => assertNoKeyInEnvironment({ PATH: '/bin', GITHUB_TOKEN: 'x' }));
    for (const name of ['WITNESS_SIGNING_KEY', 'WITNESS_COSIGNER_KEY']) {
      assert.throws(() => assertNoKeyInEnvironment({ [name]: '' }), (error: unknown) => error instanceof WitnessError && error.code === 'KEY_IN_BUILD_ENVIRONMENT' && exitCodeOf(error) === 2 && !error.message.includes('PRIVATE'));
    }
    const user = buildUserFor(prepareSandbox({ noSandbox: true }));
    if (AS_ROOT) {
      assert.ok(user.uid !== undefined && user.uid >= 1_900_000_000 && user.gid === user.uid, `fresh uid: ${JSON.stringify(user)}`);
      assert.equal(user.name, `uid-${user.uid}`);
      assert.notEqual(buildUserFor(prepareSandbox({ noSandbox: true })).uid, user.uid, 'each build gets a uid of its own');
    } else assert.match(user.name, BUILD_USER);
  });

  test('giving a tree to the build user and taking it back changes every entry and nothing a link points to', { skip: !AS_ROOT && 'needs root (lchown to another uid)' }, async () => {
    const outside = tempDir('witness-chown-outside-');
    writeFileSync(path.join(outside, 'secret'), 'x\n', { mode: 0o600 });
    mkdirSync(path.join(outside, 'folder'));
    writeFileSync(path.join(outside, 'folder', 'inner'), 'y\n');
    const work = tempDir('witness-chown-');
    const entries: string[] = [];
    // Wide and deep, so that the concurrent walk has several folders per level and more entries than calls in flight.
    for (let a = 0; a < 5; a++) {
      for (let b = 0; b < 4; b++) {
        const folder = path.join(work, `a${a}`, `b${b}`, 'c');
        mkdirSync(folder, { recursive: true });
        for (let f = 0; f < 6; f++) writeFileSync(path.join(folder, `f${f}`), `${a}${b}${f}`);
      }
    }
    symlinkSync(path.join(outside, 'secret'), path.join(work, 'a0', 'to-file'));
    symlinkSync(path.join(outside, 'folder'), path.join(work, 'a1', 'b1', 'to-folder'));
    symlinkSync('dangling', path.join(work, 'a2', 'dangling'));
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        entries.push(full);
        if (lstatSync(full).isDirectory()) walk(full);
      }
    };
    walk(work);
    const user = { name: 'uid-1999999991', uid: 1_999_999_991, gid: 1_999_999_992 };
    const outsideOwners = () => [outside, path.join(outside, 'secret'), path.join(outside, 'folder'), path.join(outside, 'folder', 'inner')].map((f) => `${lstatSync(f).uid}:${lstatSync(f).gid}`);
    const before = outsideOwners();
    await giveToBuildUser(work, user);
    assert.deepEqual([work, ...entries].filter((f) => lstatSync(f).uid !== user.uid || lstatSync(f).gid !== user.gid), [], 'every entry, links included, belongs to the build user');
    assert.deepEqual(outsideOwners(), before, 'what the links point to is unchanged');
    await takeBackFromBuildUser(work, user);
    assert.deepEqual([work, ...entries].filter((f) => lstatSync(f).uid !== process.getuid!() || lstatSync(f).gid !== process.getgid!()), [], 'every entry is ours again');
    assert.deepEqual(outsideOwners(), before);
  });

  test('exportTree writes a tree\'s files without .git, into an empty folder only', async () => {
    const repo = makeGoRepo({ releases: [{ version: 'go1.21.0' }] });
    const { tree } = repo.tags.get('go1.21.0')!;
    const dir = path.join(tempDir(), 'go');
    await exportTree(repo.dir, tree, dir);
    assert.equal(existsSync(path.join(dir, '.git')), false);
    assert.equal(readFileSync(path.join(dir, 'VERSION'), 'utf8').split('\n')[0], 'go1.21.0');
    assert.equal(readlinkSync(path.join(dir, 'misc/README.link')), '../README.md');
    assert.equal(statSync(path.join(dir, 'src/make.bash')).mode & 0o100, 0o100);
    await assert.rejects(exportTree(repo.dir, tree, dir), (error: unknown) => error instanceof WitnessError && error.code === 'WORK_NOT_EMPTY');
    await assert.rejects(exportTree(repo.dir, 'f'.repeat(40), path.join(tempDir(), 'go')), (error: unknown) => error instanceof WitnessError && error.code === 'EXPORT_FAILED');
  });

  test('exportTree writes every file of the tree, whatever the tree\'s .gitattributes says', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q');
    writeFileSync(path.join(repo, '.gitattributes'), 'hidden.go export-ignore\nsubst.go export-subst\n');
    writeFileSync(path.join(repo, 'hidden.go'), 'package hidden\n');
    writeFileSync(path.join(repo, 'subst.go'), 'package subst // $Format:%H$\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'attributes');
    const dir = path.join(tempDir(), 'out');
    await exportTree(repo, git(repo, 'rev-parse', 'HEAD^{tree}').trim(), dir);
    assert.equal(readFileSync(path.join(dir, 'subst.go'), 'utf8'), 'package subst // $Format:%H$\n');
    assert.deepEqual(readdirSync(dir).sort(), ['.gitattributes', 'hidden.go', 'subst.go']);
  });
});
