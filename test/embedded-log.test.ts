// The embedded log committed in witness-log/ verifies with the key pinned in the package, through the
// library and through the README's first command.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
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
  const { BUILD_RECORD_TYPE, buildRecordFromLogRecord, moduleZipHash } = await import('../src/rebuild/record.js');
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

// go1.21.0's ports built here through the shared host (host phases once, then each target) on 2026-12-01,
// each found by its leaf hash in sum.golang.org's authenticated hash tiles: their record numbers.
const GO121_PORT_RECORDS: Record<string, number> = {
  'aix/ppc64': 18938528,
  'dragonfly/amd64': 18938532,
  'freebsd/386': 18938498,
  'freebsd/amd64': 18938539,
  'freebsd/arm': 18938549,
  'freebsd/arm64': 18938516,
  'freebsd/riscv64': 18938566,
  'illumos/amd64': 18938567,
  'linux/arm64': 18938537,
  'linux/loong64': 18938554,
  'linux/mips': 18938538,
  'linux/mips64': 18938509,
  'linux/mips64le': 18938560,
  'linux/mipsle': 18938520,
  'linux/ppc64': 18938536,
  'linux/ppc64le': 18938507,
  'linux/riscv64': 18938497,
  'linux/s390x': 18938511,
  'netbsd/386': 18938553,
  'netbsd/amd64': 18938490,
  'netbsd/arm': 18938542,
  'netbsd/arm64': 18938491,
  'openbsd/386': 18938544,
  'openbsd/amd64': 18938550,
  'openbsd/arm': 18938568,
  'openbsd/arm64': 18938487,
  'plan9/386': 18938548,
  'plan9/amd64': 18938496,
  'plan9/arm': 18938523,
  'solaris/amd64': 18938527,
  'windows/386': 18938486,
  'windows/arm': 18938504,
  'windows/arm64': 18938534,
};
// go1.21.0's darwin ports: Google signs darwin binaries, so a rebuild's h1 is not the record's, and the
// published zips (whose signatures would be stripped to compare) are refused by the proxy here.
const GO121_DARWIN = ['darwin/amd64', 'darwin/arm64'];

test('witness-log/ holds real evidence: the latest record of every build is equal to sum.golang.org, proven, and to the published zip where the proxy serves it', async () => {
  const { LogReader } = await import('../src/log/reader.js');
  const { parseRecord } = await import('../src/log/record.js');
  const { BUILD_RECORD_TYPE, buildRecordFromLogRecord, buildStatus } = await import('../src/rebuild/record.js');
  const reader = await LogReader.open(path.join(ROOT, 'witness-log'), { verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
  const { entries } = await reader.readVerifiedEntries();
  const records = entries.map((entry) => parseRecord(entry));
  const latest = new Map<string, ReturnType<typeof buildRecordFromLogRecord>>();
  for (const record of records) {
    if (record.type !== BUILD_RECORD_TYPE) continue;
    const build = buildRecordFromLogRecord(record);
    latest.set(`${build.version} ${build.target}`, build);
  }
  // Record numbers in sum.golang.org (public: anyone can look them up); "located" ones were found by their
  // leaf hash in authenticated hash tiles (the proxy here filters their lookups), proven by inclusion.
  const expected: Record<string, { record: number; located: boolean; proxy: boolean }> = {
    'go1.21.0 linux/amd64': { record: 18938547, located: false, proxy: true },
    'go1.21.0 linux/arm64': { record: 18938537, located: true, proxy: false },
    'go1.21.0 linux/386': { record: 18938505, located: true, proxy: false },
    'go1.21.0 linux/arm': { record: 18938558, located: true, proxy: false },
    'go1.21.0 windows/amd64': { record: 18938563, located: true, proxy: false },
    'go1.21.1 linux/arm': { record: 19455826, located: true, proxy: false },
    'go1.21.5 linux/amd64': { record: 21037323, located: false, proxy: true },
    'go1.21.5 windows/amd64': { record: 21037362, located: true, proxy: false },
    'go1.22.1 linux/amd64': { record: 23370198, located: false, proxy: true },
    'go1.23.1 linux/amd64': { record: 29517969, located: false, proxy: true },
    'go1.23.2 linux/amd64': { record: 30510518, located: false, proxy: true },
    ...Object.fromEntries(Object.entries(GO121_PORT_RECORDS).map(([target, record]) => [`go1.21.0 ${target}`, { record, located: true, proxy: false }])),
  };
  for (const [name, want] of Object.entries(expected)) {
    const build = latest.get(name);
    assert.ok(build, name);
    assert.equal(buildStatus(build), 'equal', name);
    const zip = build.verdicts.filter((verdict) => verdict.file.endsWith('.zip') && verdict.file.startsWith('v0.0.1-'));
    assert.ok(zip.some((verdict) => verdict.source === 'sumdb' && verdict.status === 'equal' && verdict.detail.startsWith(`record ${want.record} in tree `)), `${name}: sumdb record ${want.record}`);
    const evidence = build.evidence.find((e) => e.source === 'sumdb')!.detail;
    assert.equal(/located by leaf hash/.test(evidence), want.located, `${name}: ${evidence}`);
    assert.equal(zip.some((verdict) => verdict.source === 'proxy' && verdict.status === 'equal'), want.proxy, `${name}: published zip`);
    assert.ok(!build.verdicts.some((verdict) => verdict.status === 'unequal'), name);
  }
  // darwin: unchecked, with what was tried and what answered (never an invented expected value).
  for (const target of GO121_DARWIN) {
    const build = latest.get(`go1.21.0 ${target}`);
    assert.ok(build, target);
    assert.equal(buildStatus(build), 'unchecked', target);
    const zip = (source: string) => build.verdicts.find((verdict) => verdict.file === `v0.0.1-go1.21.0.${target.replace('/', '-')}.zip` && verdict.source === source)!;
    assert.equal(zip('sumdb').status, 'unchecked', target);
    assert.match(zip('sumdb').detail, /NOT_FOUND.*HTTP 404.*Google signs darwin binaries/, target);
    assert.equal(zip('proxy').status, 'unchecked', target);
    assert.match(zip('proxy').detail, /go mod download -json golang\.org\/toolchain@v0\.0\.1-go1\.21\.0\.darwin-.*403 Forbidden.*This module version is not available/, target);
  }
  // The builds made this session ran in the sandbox, and say so.
  assert.deepEqual(latest.get('go1.21.1 linux/arm')!.env, ['GOARM=6']);
  for (const name of ['go1.21.1 linux/arm', 'go1.21.5 linux/amd64', 'go1.21.5 windows/amd64', 'go1.23.2 linux/amd64']) assert.match(latest.get(name)!.sandbox ?? '', /^bubblewrap [0-9.]+: user mount pid net ipc uts cgroup namespaces/, name);
  // go1.21.0 windows/amd64, linux/386 and linux/arm (GOARM=7, go1.21.0's default) were built through the shared host (host phases once, then each
  // target's phase), and are byte-identical to their full builds and equal to sum.golang.org.
  for (const name of ['go1.21.0 windows/amd64', 'go1.21.0 linux/386', 'go1.21.0 linux/arm', ...[...Object.keys(GO121_PORT_RECORDS), ...GO121_DARWIN].map((target) => `go1.21.0 ${target}`)]) {
    assert.match(latest.get(name)!.method ?? '', /^shared-host sha256:[0-9a-f]{64}$/, name);
  }
  // go1.21.0 and go1.22.1 linux/amd64 from three independent bootstrap roots (Debian's go1.19.8, Go 1.4
  // from C by gcc and by clang), all agreeing (diverse double compilation).
  const agreement = records.filter((record) => record.type === 'agreement').map((record) => Object.fromEntries(record.fields.map((f) => [f.key, f.value])));
  for (const version of ['go1.21.0', 'go1.22.1']) {
    assert.ok(agreement.some((fields) => fields.version === version && fields.target === 'linux/amd64' && fields.status === 'agree'), `${version}: ${JSON.stringify(agreement)}`);
  }
  // A real sum.golang.org tree head, verified and cosigned by the embedded witness.
  assert.ok(records.filter((record) => record.type === 'cosigned').length >= 1);
});

