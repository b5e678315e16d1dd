// Signing key files (src/keyfile.ts): --generate-key never writes a key into the log's repository, even
// through a symlink. A regression test from code review: it reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { git, runWitness, tempDir } from './helpers/fixtures.js';

describe('secrets', () => {
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
});
