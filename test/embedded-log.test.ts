// The embedded log committed in witness-log/ verifies with the key pinned in the package, through the
// library and through the README's first command.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { EMBEDDED_LOG_ORIGIN, EMBEDDED_LOG_VERIFIER_KEY } from '../src/embedded.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { ROOT, runWitness } from './helpers/fixtures.js';

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
