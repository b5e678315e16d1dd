// The embedded log committed in witness-log/ verifies with the key pinned in the package, through the
// library and through the README's first command.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { EMBEDDED_LOG_ORIGIN, EMBEDDED_LOG_VERIFIER_KEY } from '../src/embedded.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { execFileSync } from 'node:child_process';
import { ROOT, runWitness, tempDir } from './helpers/fixtures.js';

test('witness-log/ verifies against the pinned embedded key, history included', async () => {
  const report = await verifyLogFolder(path.join(ROOT, 'witness-log'), { verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
  assert.equal(report.origin, EMBEDDED_LOG_ORIGIN);
  assert.equal(report.verifierKeyPinned, true);
  assert.deepEqual(report.warnings.filter((w) => !w.includes('shallow')), []);
  if (report.history.checked) assert.ok(report.history.checkpoints.length >= 1);
});

test('`witness verify` with no arguments verifies the embedded log and pins its key', () => {
  const result = runWitness(['verify']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /go-source-witness\.example\/log\+a7e0835e\+\S+ \(pinned\)/);
  assert.match(result.stdout, /OK: the log verifies\./);
});

test('opt-in: a real Go repository compares equal to the embedded log (WITNESS_GO_REPO)', (t) => {
  const repository = process.env.WITNESS_GO_REPO;
  if (!repository) {
    t.skip('set WITNESS_GO_REPO=/path/to/a/clone/of/go to run this test');
    return;
  }
  const result = runWitness(['compare', '--repo', repository], { cwd: tempDir() });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /SAME: all 430 tags equal the witness log\./);
  const piped = runWitness(['compare', '-'], { cwd: tempDir(), input: execFileSync('git', ['-C', repository, 'show-ref', '--tags', '-d'], { encoding: 'utf8' }) });
  assert.equal(piped.code, 0, piped.stdout + piped.stderr);
});
