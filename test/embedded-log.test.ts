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

test('witness-log/ holds real build records: go1.21.0 (amd64, arm64 cross), go1.22.1 and go1.23.1 with a bootstrap chain', async () => {
  const { LogReader } = await import('../src/log/reader.js');
  const { parseRecord } = await import('../src/log/record.js');
  const { BUILD_RECORD_TYPE, buildRecordFromLogRecord, moduleZipHash } = await import('../src/build/record.js');
  const { readFileSync } = await import('node:fs');
  const reader = await LogReader.open(path.join(ROOT, 'witness-log'), { verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
  const { entries } = await reader.readVerifiedEntries();
  const builds = entries.map((entry) => parseRecord(entry)).filter((record) => record.type === BUILD_RECORD_TYPE).map(buildRecordFromLogRecord);
  const find = (version: string, target: string) => builds.find((build) => build.version === version && build.target === target && build.outcome === 'built');
  for (const [version, target] of [['go1.21.0', 'linux/amd64'], ['go1.21.0', 'linux/arm64'], ['go1.22.1', 'linux/amd64'], ['go1.23.1', 'linux/amd64']] as const) {
    const build = find(version, target);
    assert.ok(build, `a build record for ${version} ${target}`);
    assert.equal(build.sourceCheck?.equal, true);
    // Offline there was no sumdb: the verdicts say so instead of inventing expected values.
    assert.ok(build.verdicts.every((verdict) => verdict.status !== 'unequal'));
    assert.ok(build.verdicts.some((verdict) => verdict.source === 'sumdb' && verdict.status === 'unchecked' && /offline/.test(verdict.detail)));
  }
  // go1.22 and go1.23 were bootstrapped by go1.20.14, itself built from its git tag by Debian's go1.19.8.
  for (const version of ['go1.22.1', 'go1.23.1']) {
    const chain = find(version, 'linux/amd64')!.bootstrap.map((toolchain) => toolchain.version);
    assert.deepEqual(chain, ['go1.20.14', 'go1.19.8']);
    assert.ok(find(version, 'linux/amd64')!.bootstrap[0]!.commit);
  }
  // The rebuilt module zips' h1 equal the real sum.golang.org records in the public vectors (checked here,
  // not recorded as "equal" in the log: the log only records comparisons it made with verified sources).
  const published = readFileSync(path.join(ROOT, 'test', 'vectors', 'toolchain-records.txt'), 'utf8');
  for (const version of ['go1.22.1', 'go1.23.1']) {
    const line = published.split('\n').find((l) => l.startsWith(`golang.org/toolchain v0.0.1-${version}.linux-amd64 `));
    assert.ok(line);
    assert.equal(moduleZipHash(find(version, 'linux/amd64')!), line.split(' ')[2]);
  }
  // The source tarball does not depend on the target.
  const sources = ['linux/amd64', 'linux/arm64'].map((target) => find('go1.21.0', target)!.files!.find((file) => file.name === 'go1.21.0.src.tar.gz')!.sha256);
  assert.equal(sources[0], sources[1]);
});
