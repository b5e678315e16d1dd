// --vkey (src/cli/vkey.ts): a signing key given where a verifier key belongs is refused and never
// printed. A regression test from code review: it reproduces the original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runWitness, testSignerKey, writeKeyFile } from './helpers/fixtures.js';

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
});
