// Recording a repository's tags (src/tags/update.ts): no credential of a repository URL is recorded; a
// recorded tag that cannot be read is not recorded as vanished. Regression tests from code review: each
// reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { recordRepoTags, repositoryUrlToRecord } from '../src/tags/update.js';
import { git } from './helpers/fixtures.js';
import { TEST_KEY, commit, makeRepo, newTagLog } from './helpers/tag-repo.js';

describe('secrets', () => {
  test('credentials in a repository URL are never recorded', () => {
    assert.equal(repositoryUrlToRecord('https://user:token@example.com/go'), 'https://example.com/go');
    assert.equal(repositoryUrlToRecord('git@example.com:go.git'), 'example.com:go.git');
    assert.throws(() => repositoryUrlToRecord('https://example.com/a b'), (error: unknown) => error instanceof WitnessError && exitCodeOf(error) === 2);
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
