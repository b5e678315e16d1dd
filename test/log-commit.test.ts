// Committing an append to the log's git repository (src/log/log.ts): only the log's own files are staged.
// A regression test from code review: it reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WitnessLog } from '../src/log/log.js';
import { git, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';

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
