// End to end through the CLI: builds that fail, differ, move, or attack (a nondeterministic or failing
// make.bash, a source tarball unlike the tree, moved tags, a hostile make.bash looking for secrets),
// against the Go-like fixture repository (helpers/go-fixture.ts).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { type CliResult, tempDir, testSignerKey } from './helpers/fixtures.js';
import {
  DAEMON_SECONDS,
  addRelease,
  makeGoRepo,
  moveTag,
  runningAsRoot,
  worldTempDir,
} from './helpers/go-fixture.js';
import {
  cleanEnv,
  witness,
  expectCode,
  type Scenario,
  logState,
  buildRecords,
  buildArgs,
  ingestArgs,
  parseBuilds,
  readResult,
  builtResult,
  buildLogText,
  buildsTxt,
  newScenario,
  walk,
  secretsBelow,
} from './helpers/build-scenario.js';

const AS_ROOT = runningAsRoot();
/** The build user: a fresh uid per build when root (sandbox.ts allocateBuildUser), else ourselves. */
const BUILD_USER = AS_ROOT ? /^uid-(19|20)[0-9]{8}$/ : new RegExp(`^uid-${process.getuid?.()}$`);

describe('witness plan, build, ingest, bootstrap (end to end)', { concurrency: true }, () => {
  describe('builds that fail, differ, move, or attack', { concurrency: 1 }, () => {
    let s: Scenario;
    let world: string;
    let decoy: string;
    const DECOY_SECRET = `decoy-secret-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
    const ENV_SECRETS = {
      GITHUB_TOKEN: `ghs_${createHash('sha256').update(`t${Math.random()}`).digest('hex').slice(0, 36)}`,
      AWS_SECRET_ACCESS_KEY: `aws-${createHash('sha256').update(`a${Math.random()}`).digest('hex').slice(0, 40)}`,
      DEPLOY_PASSWORD: `pw-${createHash('sha256').update(`p${Math.random()}`).digest('hex').slice(0, 20)}`,
    };
    const KEY = testSignerKey('example.com/special-log', 31);
    const keyMaterial = KEY.skey.split('+').at(-1)!;

    before(async () => {
      world = worldTempDir('witness-special-');
      s = await newScenario({
        origin: 'example.com/special-log',
        seed: 31,
        world,
        repo: ({ keyFile, logDir }) => {
          decoy = path.join(path.dirname(keyFile), 'decoy-secret.txt');
          writeFileSync(decoy, `${DECOY_SECRET}\n`, { mode: 0o600 });
          chmodSync(decoy, 0o600);
          return makeGoRepo({
            releases: [
              { version: 'go1.21.0', mode: 'random' },
              { version: 'go1.21.1', mode: 'fail' },
              { version: 'go1.21.2', mode: 'empty' },
              { version: 'go1.21.3', mode: 'hostile' },
              { version: 'go1.21.4', mode: 'badsource' },
              { version: 'go1.21.5', mode: 'symlink' },
              { version: 'go1.21.6', mode: 'ok', annotated: true },
              { version: 'go1.21.7', mode: 'daemon' },
              { version: 'go1.21.8', mode: 'garbled' },
              { version: 'go1.21.10', mode: 'handshake' },
            ],
            hostile: { paths: [keyFile, logDir, path.dirname(keyFile)], linkTarget: decoy },
          });
        },
      });
    });

    test('a nondeterministic make.bash: two builds differ, and ingesting both is a REPRODUCIBILITY FAILURE (exit 1)', { timeout: 120_000 }, async () => {
      const [out1, out2] = [tempDir('witness-r1-'), tempDir('witness-r2-')];
      const [first, second] = await Promise.all([witness(buildArgs(s, 'go1.21.0', out1)), witness(buildArgs(s, 'go1.21.0', out2))]);
      expectCode(first, 0, 'first build');
      expectCode(second, 0, 'second build');
      const [f1, f2] = [parseBuilds(first)[0]!.resultFile, parseBuilds(second)[0]!.resultFile];
      const [r1, r2] = [builtResult(f1), builtResult(f2)];
      const differ = r1.files.filter((f, i) => f.sha256 !== r2.files[i]!.sha256).map((f) => f.name);
      assert.deepEqual(differ, ['go1.21.0.linux-amd64.tar.gz', 'v0.0.1-go1.21.0.linux-amd64.zip']);
      const before = await logState(s.logDir);
      const run = await witness(ingestArgs(s, [f1, f2], '--offline'));
      expectCode(run, 1, 'ingest of two differing builds');
      const conflicts = run.stdout.split('\n').filter((line) => line.startsWith('REPRODUCIBILITY FAILURE: '));
      assert.equal(conflicts.length, 2, run.stdout);
      assert.match(conflicts[0]!, new RegExp(`^REPRODUCIBILITY FAILURE: go1\\.21\\.0 linux/amd64: go1\\.21\\.0\\.linux-amd64\\.tar\\.gz differs from build record ${before.size} \\(sha256 ${r1.files[0]!.sha256}, now ${r2.files[0]!.sha256}\\)$`));
      assert.match(conflicts[1]!, /v0\.0\.1-go1\.21\.0\.linux-amd64\.zip differs from build record/);
      assert.equal((await logState(s.logDir)).size, before.size + 2n, 'both are recorded');
      const records = await buildRecords(s.logDir);
      const second_ = records.at(-1)!.build;
      assert.deepEqual(
        second_.verdicts.filter((v) => v.source === 'log').map((v) => [v.file, v.status]),
        r2.files.map((f) => [f.name, differ.includes(f.name) ? 'unequal' : 'equal']),
      );
      assert.deepEqual(buildsTxt(s.logDir).slice(-2).map((line) => line.split(' ')[3]), ['unchecked', 'unequal']);
    });

    test('make.bash failing, or writing no distpack files: exit 1, a failed result; ingest records it; plan retries it only with --retry-failed', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-fail-');
      const [fail, empty] = await Promise.all([witness(buildArgs(s, 'go1.21.1', out)), witness(buildArgs(s, 'go1.21.2', out))]);
      expectCode(fail, 1, 'failing make.bash');
      expectCode(empty, 1, 'make.bash writing nothing');
      const failed = readResult(parseBuilds(fail)[0]!.resultFile);
      assert.ok(failed.outcome === 'failed');
      assert.equal(failed.failure.phase, 'make-bash');
      assert.match(failed.failure.reason, /^make\.bash exited with status 2: .*internal compiler error: failing on purpose$/);
      assert.ok(buildLogText(parseBuilds(fail)[0]!.resultFile).includes('internal compiler error: failing on purpose'));
      assert.equal(parseBuilds(fail)[0]!.distpackDir, undefined);
      const nothing = readResult(parseBuilds(empty)[0]!.resultFile);
      assert.ok(nothing.outcome === 'failed');
      assert.equal(nothing.failure.phase, 'distpack');
      assert.equal(nothing.failure.reason, 'make.bash -distpack succeeded but did not write go1.21.2.src.tar.gz, go1.21.2.linux-amd64.tar.gz, v0.0.1-go1.21.2.linux-amd64.zip, v0.0.1-go1.21.2.linux-amd64.mod, v0.0.1-go1.21.2.linux-amd64.info');
      const text = await witness(['build', 'go1.21.1', '--log', s.logDir, '--go-repo', s.repo.dir, '--bootstrap', s.root, '--out', out]);
      expectCode(text, 1, 'failing make.bash (text output)');
      assert.match(text.stdout, /linux\/amd64 +FAILED in [0-9.]+ (ms|s) \(make\.bash [0-9.]+ (ms|s)\)/);

      const ingest = await witness(ingestArgs(s, [parseBuilds(fail)[0]!.resultFile, parseBuilds(empty)[0]!.resultFile], '--offline'));
      expectCode(ingest, 0, 'ingest of failed builds');
      assert.match(ingest.stdout, /^go1\.21\.1 linux\/amd64: FAILED \(log index [0-9]+\)\n {4}build failed: make-bash: make\.bash exited with status 2: /m);
      const records = await buildRecords(s.logDir);
      assert.deepEqual(records.slice(-2).map((r) => [r.build.outcome, r.build.verdicts.length, r.build.files]), [['failed', 0, undefined], ['failed', 0, undefined]]);
      assert.match(buildsTxt(s.logDir).at(-2)!, /^[0-9]+ go1\.21\.1 linux\/amd64 failed failed:make-bash$/);
      assert.match(buildsTxt(s.logDir).at(-1)!, /^[0-9]+ go1\.21\.2 linux\/amd64 failed failed:distpack$/);
      const [plan, retry] = await Promise.all([
        witness(['plan', '--log', s.logDir, '--target', 'linux/amd64']),
        witness(['plan', '--log', s.logDir, '--target', 'linux/amd64', '--retry-failed']),
      ]);
      expectCode(plan, 0, 'plan');
      expectCode(retry, 0, 'plan --retry-failed');
      const planned = (r: CliResult) => r.stdout.split('\n').filter((line) => / linux\/amd64$/.test(line)).map((line) => line.split(' ')[0]);
      assert.deepEqual(planned(plan).filter((v) => ['go1.21.0', 'go1.21.1', 'go1.21.2'].includes(v!)), []);
      assert.deepEqual(planned(retry).filter((v) => ['go1.21.0', 'go1.21.1', 'go1.21.2'].includes(v!)), ['go1.21.1', 'go1.21.2']);
    });

    test('make.bash failing with control characters in its last lines still gives a failed result', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-garbled-');
      const run = await witness(buildArgs(s, 'go1.21.8', out));
      expectCode(run, 1, 'garbled failing make.bash');
      const result = readResult(parseBuilds(run)[0]!.resultFile);
      assert.ok(result.outcome === 'failed');
      assert.match(result.failure.reason, /^make\.bash exited with status 2: .*unrecognized option/);
    });

    test('a source tarball that differs from the git tree: built, but the source check fails and ingest says unequal (exit 1)', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-badsource-');
      const run = await witness(buildArgs(s, 'go1.21.4', out));
      expectCode(run, 0, 'build with a bad source tarball');
      const file = parseBuilds(run)[0]!.resultFile;
      const result = builtResult(file);
      assert.equal(result.sourceCheck.equal, false);
      assert.deepEqual(result.sourceCheck.problems, ['README.md: mode 755, but cmd/distpack gives 644 (git has 100644)', 'NOT-IN-GIT.txt: only in the tarball']);
      assert.match(buildLogText(file), /^witness: source check of go1\.21\.4\.src\.tar\.gz against tree [0-9a-f]{40}: DIFFERENT \(12 files\)$/m);
      const ingest = await witness(ingestArgs(s, [file], '--offline'));
      expectCode(ingest, 1, 'ingest of a build whose source check failed');
      assert.match(ingest.stdout, /^go1\.21\.4 linux\/amd64: UNEQUAL \(log index [0-9]+\)\n {4}source check: DIFFERS from the git tree \(2 problems\) \(12 files\)$/m);
      assert.match(buildsTxt(s.logDir).at(-1)!, /^[0-9]+ go1\.21\.4 linux\/amd64 unequal h1:/);
    });

    test('a tag moved after it was recorded: build refuses (TAG_MISMATCH); after witness tags records the move, an older result is refused (RESULT_TAG_MOVED)', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-moved-');
      const early = await witness(buildArgs(s, 'go1.21.6', out));
      expectCode(early, 0, 'build before the move');
      const earlyResult = parseBuilds(early)[0]!.resultFile;
      const recorded = s.repo.tags.get('go1.21.6')!;
      assert.notEqual(recorded.object, recorded.commit, 'go1.21.6 is annotated');
      moveTag(s.repo, 'go1.21.6');
      const moved = await witness(buildArgs(s, 'go1.21.6', tempDir('witness-moved2-')));
      expectCode(moved, 1, 'build of a moved tag');
      assert.match(moved.stderr, /refs\/tags\/go1\.21\.6 in .* is [0-9a-f]{40} \(commit [0-9a-f]{40}, tree [0-9a-f]{40}\), but the witness log \(index [0-9]+, .*\) records .*: refusing to build a tag that differs from the log \[TAG_MISMATCH\]/);
      const before = await logState(s.logDir);
      expectCode(await witness(['tags', '--log', s.logDir, '--go-repo', s.repo.dir, '--key', s.keyFile]), 1, 'witness tags (a tag moved)');
      const afterTags = await logState(s.logDir);
      assert.equal(afterTags.size, before.size + 1n);
      const ingest = await witness(ingestArgs(s, [earlyResult], '--offline'));
      expectCode(ingest, 1, 'ingest of a result built before the move');
      assert.match(ingest.stderr, /refs\/tags\/go1\.21\.6 has moved \(log index [0-9]+\) since this build; rebuild it \[RESULT_TAG_MOVED\]/);
      assert.deepEqual(await logState(s.logDir), afterTags);
      // Now the log and the repository agree again: the moved tag builds.
      const rebuilt = await witness(buildArgs(s, 'go1.21.6', tempDir('witness-moved3-')));
      expectCode(rebuilt, 0, 'build of the moved tag once recorded');
      assert.equal(builtResult(parseBuilds(rebuilt)[0]!.resultFile).tag.commit, s.repo.tags.get('go1.21.6')!.commit);
    });

    test('a tag moved in the repository while make.bash runs: the source check is still against the tree that was checked and built', { timeout: 120_000 }, async () => {
      const recorded = s.repo.tags.get('go1.21.10')!;
      const out = tempDir('witness-race-');
      const work = worldTempDir('witness-race-work-');
      const running = witness(buildArgs(s, 'go1.21.10', out, { work }));
      const started = Date.now();
      const home = () => readdirSync(work).map((name) => path.join(work, name, 'home')).find((dir) => existsSync(path.join(dir, 'handshake-started')));
      while (!home()) {
        if (Date.now() - started > 60_000) throw new Error('make.bash did not start');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      moveTag(s.repo, 'go1.21.10');
      writeFileSync(path.join(home()!, 'handshake-go'), '');
      const run = await running;
      expectCode(run, 0, 'build while the tag moved');
      const result = builtResult(parseBuilds(run)[0]!.resultFile);
      assert.deepEqual([result.tag.commit, result.tag.tree], [recorded.commit, recorded.tree]);
      assert.deepEqual(result.sourceCheck.problems, []);
      assert.match(buildLogText(parseBuilds(run)[0]!.resultFile), new RegExp(`^witness: source check of go1\\.21\\.10\\.src\\.tar\\.gz against tree ${recorded.tree}: SAME`, 'm'));
    });

    test('a tag that is not in the log: exit 2 (TAG_NOT_IN_LOG); nothing built', { timeout: 120_000 }, async () => {
      addRelease(s.repo, { version: 'go1.21.9' });
      const out = tempDir('witness-unrecorded-');
      const run = await witness(buildArgs(s, 'go1.21.9', out));
      expectCode(run, 2, 'build of an unrecorded tag');
      assert.match(run.stderr, /the witness log has no record of refs\/tags\/go1\.21\.9: record the repository's tags first .* \[TAG_NOT_IN_LOG\]/);
      assert.deepEqual(readdirSync(out), []);
    });

    test('a hostile make.bash finds no secret: not the key file, not the log, not the caller\'s environment; it runs in the sandbox, as a fresh uid when the witness is root', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-hostile-');
      const run = await witness(buildArgs(s, 'go1.21.3', out), cleanEnv(ENV_SECRETS));
      assert.equal(run.code, 0, `hostile build: exit ${run.code}`); // its output is not printed: it may hold what it found
      const file = parseBuilds(run)[0]!.resultFile;
      const result = builtResult(file);
      const leak = readFileSync(path.join(parseBuilds(run)[0]!.distpackDir!, 'LEAK'), 'utf8');
      assert.ok(leak.includes('--- processes') && leak.includes(`path ${s.keyFile}:`), 'the hostile make.bash ran');
      // Its own environment is the scrubbed one, whoever the witness runs as.
      const environment = leak.slice(leak.indexOf('--- environment'), leak.indexOf('--- key-like variables'));
      for (const [name, value] of Object.entries(ENV_SECRETS)) {
        assert.ok(!environment.includes(value) && !environment.includes(name), `${name} reached make.bash's environment`);
      }
      assert.doesNotMatch(environment, /WITNESS|KEY|TOKEN|SECRET/);
      // In the sandbox, root or not: the key, its folder and the log do not exist for make.bash at all.
      assert.match(result.builder.user, BUILD_USER);
      const uid = /^uid=([0-9]+) gid=([0-9]+) groups=(.*)$/m.exec(leak);
      assert.ok(uid, 'make.bash said who it is');
      if (AS_ROOT) {
        assert.equal(`uid-${uid[1]}`, result.builder.user, 'make.bash ran as the fresh uid of its result');
        assert.equal(uid[2], uid[1]);
        assert.doesNotMatch(uid[3]!, /(^| )0( |$)/, 'no root group');
      }
      const found = secretsBelow(out, { 'the signing key': keyMaterial, ...ENV_SECRETS });
      assert.deepEqual(found, [], 'secrets in the build output');
      for (const [name, value] of Object.entries({ 'the signing key': keyMaterial, ...ENV_SECRETS })) {
        assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), `${name} in the witness's output`);
      }
      assert.match(leak, new RegExp(`^cat: ${s.keyFile.replace(/[.+]/g, '\\$&')}: No such file or directory$`, 'm'));
      assert.match(leak, new RegExp(`^ls: cannot access '${s.logDir.replace(/[.+]/g, '\\$&')}': No such file or directory$`, 'm'));
      assert.equal(existsSync(path.join(s.logDir, 'HOSTILE-WAS-HERE')), false, 'make.bash wrote into the log folder');
      assert.equal(existsSync(path.join(path.dirname(s.keyFile), 'HOSTILE-WAS-HERE')), false, 'make.bash wrote beside the key');
      assert.equal(readFileSync(s.keyFile, 'utf8'), `${KEY.skey}\n`);
      assert.equal(statSync(s.keyFile).uid, 0);
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify after the hostile build');
    });

    test('a symbolic link in the tag\'s tree does not hand its target to the build user; links make.bash leaves in pkg/distpack are not kept', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-symlink-');
      const run = await witness(buildArgs(s, 'go1.21.5', out));
      // cmd/distpack writes regular files only: a link in pkg/distpack makes the build a failure, never followed.
      assert.equal(run.code, 1, `symlink build: exit ${run.code}`);
      const problems: string[] = [];
      if (AS_ROOT) {
        if (statSync(decoy).uid !== 0) problems.push(`the target of src/hostile-link was given to uid ${statSync(decoy).uid}`);
        for (const where of secretsBelow(out, { 'the secret behind the link': DECOY_SECRET })) problems.push(where);
      }
      const result = readResult(parseBuilds(run)[0]!.resultFile);
      assert.equal(result.outcome, 'failed');
      if (result.outcome === 'failed') assert.match(result.failure.reason, /not regular files: LEAK-link/);
      for (const { file, target } of walk(out).links) {
        if (path.relative(out, path.resolve(path.dirname(file), target)).startsWith('..')) problems.push(`${path.relative(out, file)} in --out links out of it`);
      }
      assert.deepEqual(problems, []);
    });

    test('a background process left by make.bash does not hold the build up', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-daemon-');
      const run = await witness(buildArgs(s, 'go1.21.7', out));
      expectCode(run, 0, 'build with a background process');
      const build = parseBuilds(run)[0]!;
      assert.ok(build.seconds < DAEMON_SECONDS - 3, `the build took ${build.seconds.toFixed(1)} s, waiting for make.bash's background process (${DAEMON_SECONDS} s)`);
    });
  });
});
