// Regression tests for problems found in code review: each reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WitnessError } from '../src/errors.js';
import { acquireLock } from '../src/infra/lock.js';
import { WitnessLog } from '../src/log/log.js';
import { recordRepoTags, repositoryUrlToRecord } from '../src/tags/update.js';
import { git, runWitness, tempDir, testRecords, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { TEST_KEY, commit, makeRepo, newTagLog } from './helpers/tag-repo.js';

describe('lock takeover', () => {
  test('many contenders for a stale lock never hold it at the same time', async () => {
    const file = path.join(tempDir(), 'race.lock');
    for (let round = 0; round < 40; round++) {
      // A lock left by a process that no longer exists (pid 2^22+: above Linux's default pid_max).
      writeFileSync(file, `${4_194_304 + round}\n${hostname()}\n`);
      let holders = 0;
      let overlap = false;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const lock = await acquireLock(file, 10_000);
          holders++;
          if (holders > 1) overlap = true;
          await new Promise((resolve) => setTimeout(resolve, 2));
          holders--;
          await lock.release();
        }),
      );
      assert.equal(overlap, false, `round ${round}: two holders at once`);
      assert.equal(existsSync(file), false);
    }
  });
});

describe('git index after an append', () => {
  // The index ordering itself is proven by the crash-point tests in log-crash.test.ts.
  test('a log folder whose name is a glob does not sweep in other files', async () => {
    const { signerKey } = testSignerKey('example.com/glob', 4);
    const repo = tempDir();
    git(repo, 'init', '-q');
    writeFileSync(path.join(repo, '.gitignore'), 'wallet/\n');
    mkdirSync(path.join(repo, 'wallet'));
    writeFileSync(path.join(repo, 'wallet', 'secret.txt'), 'secret\n');
    const { log } = await WitnessLog.init(path.join(repo, 'w*'), signerKey);
    await log.append(testRecords(1), signerKey);
    assert.doesNotMatch(git(repo, 'ls-files'), /wallet/);
  });
});

describe('secrets', () => {
  test('a signing key passed as --vkey is never printed', () => {
    const { skey } = testSignerKey('example.com/secret', 5);
    const keyFile = writeKeyFile(skey);
    for (const vkey of [keyFile, skey]) {
      const result = runWitness(['verify', '--vkey', vkey]);
      assert.equal(result.code, 2, 'a malformed --vkey is refused as a usage error');
      assert.match(result.stderr, /private signing key, not a verifier key/);
      assert.ok(!result.stderr.includes(skey.split('+')[4]!), 'secret printed');
    }
  });

  test('--generate-key refuses a path that reaches into the repository through a symlink', () => {
    const repo = tempDir();
    git(repo, 'init', '-q');
    const link = path.join(tempDir(), 'link');
    symlinkSync(repo, link);
    const result = runWitness(['init', '--log', path.join(repo, 'log'), '--origin', 'example.com/s', '--key', path.join(link, 'k.key'), '--generate-key']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /inside the log's repository/);
    assert.equal(existsSync(path.join(repo, 'k.key')), false);
  });

  test('credentials in a repository URL are never recorded', () => {
    assert.equal(repositoryUrlToRecord('https://user:token@example.com/go'), 'https://example.com/go');
    assert.equal(repositoryUrlToRecord('git@example.com:go.git'), 'example.com:go.git');
    assert.throws(() => repositoryUrlToRecord('https://example.com/a b'), (error: unknown) => error instanceof WitnessError && error.exitCode === 2);
  });
});

describe('tags', () => {
  test('a recorded tag that cannot be read is not recorded as vanished', async () => {
    const repo = makeRepo();
    commit(repo, 'second');
    git(repo, 'tag', '-a', '-m', 'annotated', 'v1');
    const { log } = await newTagLog();
    await recordRepoTags(log, repo, TEST_KEY.signerKey);
    // Point v1 at a tag object whose target commit does not exist.
    const body = `object ${'deadbeef'.repeat(5)}\ntype commit\ntag v1\ntagger T <t@t> 0 +0000\n\nbroken\n`;
    const tagObject = execFileSync('git', ['hash-object', '-t', 'tag', '-w', '--literally', '--stdin'], { cwd: repo, input: body, encoding: 'utf8' }).trim();
    git(repo, 'update-ref', 'refs/tags/v1', tagObject);
    const head = git(log.dir, 'rev-parse', 'HEAD');
    await assert.rejects(recordRepoTags(log, repo, TEST_KEY.signerKey), /refs\/tags\/v1 \(its object cannot be read\): recorded in the log but unreadable/);
    assert.equal(git(log.dir, 'rev-parse', 'HEAD'), head);
  });
});

describe('git locks left by a killed witness', () => {
  test('a HEAD.lock and index.lock left while a dead writer held the witness lock are cleared; an older one is not', async () => {
    const { signerKey } = testSignerKey('example.com/locks', 6);
    const repo = tempDir();
    git(repo, 'init', '-q');
    const { log } = await WitnessLog.init(path.join(repo, 'wl'), signerKey);
    const gitDir = path.join(repo, '.git');
    // A writer that died holding the witness lock, after its git created HEAD.lock and index.lock.
    writeFileSync(path.join(gitDir, 'go-source-witness.lock'), `${4_194_000}\n${hostname()}\n`);
    writeFileSync(path.join(gitDir, 'HEAD.lock'), '');
    writeFileSync(path.join(gitDir, 'index.lock'), '');
    await log.append(testRecords(1), signerKey);
    assert.equal(existsSync(path.join(gitDir, 'HEAD.lock')), false);
    // A git lock older than the dead writer's witness lock is not ours to remove.
    writeFileSync(path.join(gitDir, 'index.lock'), '');
    utimesSync(path.join(gitDir, 'index.lock'), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    writeFileSync(path.join(gitDir, 'go-source-witness.lock'), `${4_194_001}\n${hostname()}\n`);
    await assert.rejects(log.append(testRecords(1, 1), signerKey), /index\.lock/);
  });
});

describe('stale locks after a restart', () => {
  test('a lock naming our own pid that we do not hold, or from an earlier boot, is stale', async () => {
    const file = path.join(tempDir(), 'own.lock');
    writeFileSync(file, `${process.pid}\n${hostname()}\n`);
    const lock = await acquireLock(file, 2_000);
    await lock.release();
    writeFileSync(file, `1\n${hostname()}\nan-earlier-boot\n`); // pid 1 is alive, but that boot is over
    const again = await acquireLock(file, 2_000);
    await again.release();
  });
});
