// Recovery after a killed writer (src/log/log.ts): git's HEAD.lock and index.lock left by a dead writer
// are cleared, an older one is not. A regression test from code review: it reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WitnessLog } from '../src/log/log.js';
import { git, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';

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
