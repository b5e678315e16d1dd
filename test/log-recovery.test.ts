// Recovery after a killed writer (src/log/log.ts): git's HEAD.lock and index.lock left by a dead writer
// are cleared, an older one is not. A regression test from code review: it reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, utimesSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WitnessLog } from '../src/log/log.js';
import { git, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';

/** A witness log in a new git repository (its folder wl/), its key, and the repository's .git. */
async function logInRepository() {
  const { signerKey } = testSignerKey('example.com/locks', 6);
  const repo = tempDir();
  git(repo, 'init', '-q');
  const { log } = await WitnessLog.init(path.join(repo, 'wl'), signerKey);
  return { signerKey, repo, log, gitDir: path.join(repo, '.git') };
}

describe('git locks left by a killed witness', () => {
  test('a HEAD.lock and index.lock left while a dead writer held the witness lock are cleared; an older one is not', async () => {
    const { signerKey, log, gitDir } = await logInRepository();
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

  test('a git command of the dead writer still running (it was killed alone): the append waits for it, then recovers', { timeout: 60_000 }, async () => {
    // Found by test/log-crash.test.ts: `git reset` failed on index.lock while the killed witness's git ran on.
    const { signerKey, repo, log, gitDir } = await logInRepository();
    writeFileSync(path.join(gitDir, 'go-source-witness.lock'), `${4_194_002}\n${hostname()}\n`);
    // A live git process in the repository holding index.lock for 1.5 s, then releasing it, as a git
    // command does: a shell named git-… (what /proc/PID/comm shows) that removes the lock when done.
    writeFileSync(path.join(gitDir, 'index.lock'), '');
    const holder = path.join(tempDir(), 'git-holder');
    copyFileSync('/bin/sh', holder);
    chmodSync(holder, 0o755);
    const held = spawn(holder, ['-c', 'sleep 1.5; rm -f .git/index.lock'], { cwd: repo, stdio: 'ignore' });
    const exited = new Promise((resolve) => held.on('exit', resolve));
    const result = await log.append(testRecords(1), signerKey);
    assert.equal(result.newSize, 1n);
    assert.equal(existsSync(path.join(gitDir, 'index.lock')), false);
    await exited;
  });
});
