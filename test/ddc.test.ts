// Diverse double compilation, end to end through the CLI against the Go-like fixture repository
// (test/helpers/go-fixture.ts): Go 1.4 built from C (release-branch.go1.4, its stand-in make.bash compiling
// with the real gcc and clang), the chain 1.4 -> 1.17.13 -> 1.20.14 built from it, releases built from
// three roots (a binary go1.19.8, gcc, clang) that agree, a trojaned root whose release differs (the
// alarm), a moved branch head (refused, accepted with the flag, logged), and verify rejecting agreement
// records that do not say what their builds say. The opt-in real test at the end builds the real go1.4
// from C with gcc:
//
//   WITNESS_E2E_BUILD=1 WITNESS_GO_REPO=<a Go repository with release-branch.go1.4>
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { AGREEMENT_RECORD_TYPE, agreementRecordFromLogRecord, agreementRecordToLogRecord, checkAgreementRecords, type AgreementRecord } from '../src/rebuild/agreement.js';
import { BOOTSTRAP_RECORD_TYPE, bootstrapRecordFromLogRecord, deriveBootstrapRecords, type BootstrapRecord } from '../src/rebuild/bootstrap-record.js';
import { tagStateFromRecords } from '../src/tags/state.js';
import { buildRecordFromLogRecord, buildRecordToLogRecord } from '../src/rebuild/record.js';
import { checkBuildResult, type BuildResult } from '../src/rebuild/result.js';
import { WitnessLog } from '../src/log/log.js';
import { parseRecord, type LogRecord } from '../src/log/record.js';
import { ROOT, WITNESS_BIN, tempDir } from './helpers/fixtures.js';
import { GO14_VERSION, addGo14Branch, makeRootToolchain, worldTempDir } from './helpers/go-fixture.js';
import { buildArgs, builtResult, cleanEnv, describeRun, expectCode, ingestArgs, newScenario, parseBuilds, witness, type Scenario } from './helpers/build-scenario.js';

const HAVE_CLANG = existsSync('/usr/bin/clang');
const HAVE_GCC = existsSync('/usr/bin/gcc');

interface BootstrapJson {
  goroot: string;
  chain: Array<{ version: string; hash: string; commit?: string; tree?: string; root?: string; compiler?: string; branch?: string }>;
  built: string[];
  branchHead?: string;
}

interface IngestJson {
  builds: Array<{ status: string; index?: string; alreadyAt?: string }>;
  conflicts: string[];
  bootstraps: Array<{ index: string; record: { version: string; hash: string; branch?: string; previousHead?: { commit: string; index: string } }; moved?: { from: string; index: string } }>;
  agreements: Array<{ index: string; record: { status: string; roots: Array<{ kind: string; compiler?: string; chain: string[] }>; differ: Array<{ name: string }> } }>;
}

async function allRecords(logDir: string): Promise<Array<{ index: bigint; record: LogRecord }>> {
  const log = await WitnessLog.open(logDir);
  const { entries } = await log.readVerifiedEntries();
  return entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
}

async function bootstrapRecords(logDir: string): Promise<Array<{ index: bigint; b: BootstrapRecord }>> {
  return (await allRecords(logDir)).filter(({ record }) => record.type === BOOTSTRAP_RECORD_TYPE).map(({ index, record }) => ({ index, b: bootstrapRecordFromLogRecord(record) }));
}

async function agreements(logDir: string): Promise<Array<{ index: bigint; a: AgreementRecord }>> {
  return (await allRecords(logDir)).filter(({ record }) => record.type === AGREEMENT_RECORD_TYPE).map(({ index, record }) => ({ index, a: agreementRecordFromLogRecord(record) }));
}

describe('diverse double compilation: bootstrap roots from C, agreement records', { concurrency: 1, skip: HAVE_GCC ? false : 'needs /usr/bin/gcc' }, () => {
  let s: Scenario;
  let out: string;
  let head: { commit: string; tree: string };
  const gorootOf: Record<string, string> = {};
  const results: Record<string, string> = {};
  let gccChain: BootstrapJson;

  before(async () => {
    s = await newScenario({ origin: 'example.com/ddc-log', seed: 61, releases: [{ version: 'go1.17.13' }, { version: 'go1.20.14' }, { version: 'go1.21.0' }, { version: 'go1.22.0' }] });
    head = addGo14Branch(s.repo);
    out = path.join(worldTempDir('witness-ddc-'), 'toolchains');
  });

  const bootstrap = (release: string, ...root: string[]) => witness(['bootstrap', release, '--log', s.logDir, '--go-repo', s.repo.dir, '--out', out, '--json', ...root]);

  test('--root c refuses a branch head the log has not recorded, before building anything (exit 2)', { timeout: 60_000 }, async () => {
    const [run, misuse, bad] = await Promise.all([
      bootstrap('go1.22.0', '--root', 'c', '--cc', 'gcc'),
      bootstrap('go1.22.0', '--cc', 'gcc'),
      bootstrap('go1.22.0', '--root', 'c', '--cc', 'tcc'),
    ]);
    expectCode(run, 2, 'bootstrap from C without a recorded head');
    assert.match(run.stderr, new RegExp(`recorded no head of release-branch\\.go1\\.4 yet; its head here is ${head.commit} .*--accept-branch-head .*\\[BRANCH_HEAD_UNRECORDED\\]`));
    assert.deepEqual(existsSync(out) ? readdirSync(out) : [], []);
    expectCode(misuse, 2, '--cc without --root c');
    assert.match(misuse.stderr, /--cc and --accept-branch-head are for --root c/);
    expectCode(bad, 2, '--cc tcc');
  });

  test('go1.22.0 from C with gcc: go1.4 from release-branch.go1.4 (CC, CGO_ENABLED=0, no GOROOT_BOOTSTRAP), then go1.17.13 and go1.20.14; manifests say root, compiler, chain; a second run reuses them', { timeout: 120_000 }, async () => {
    const run = await bootstrap('go1.22.0', '--root', 'c', '--cc', 'gcc', '--accept-branch-head');
    expectCode(run, 0, 'bootstrap from gcc');
    const report = JSON.parse(run.stdout) as BootstrapJson;
    assert.deepEqual(report.built, [GO14_VERSION, 'go1.17.13', 'go1.20.14']);
    assert.deepEqual(report.chain.map((b) => b.version), ['go1.20.14', 'go1.17.13', GO14_VERSION]);
    const root = report.chain[2]!;
    assert.deepEqual({ ...root, hash: undefined, compiler: undefined }, { version: GO14_VERSION, hash: undefined, commit: head.commit, tree: head.tree, root: 'c', compiler: undefined, branch: 'release-branch.go1.4' });
    const gccVersion = execFileSync('/usr/bin/gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
    assert.equal(root.compiler, `gcc ${gccVersion}`);
    assert.match(report.branchHead!, /ACCEPTED \(--accept-branch-head; the log recorded no head yet/);
    const go14 = path.join(out, readdirSync(out).find((name) => name.startsWith(`${GO14_VERSION}-`) && !name.includes('.bootstrap'))!);
    assert.match(path.basename(go14), /^go1\.4-bootstrap-20170531-[0-9a-f]{12}$/);
    assert.equal(execFileSync(path.join(go14, 'bin', 'go'), ['version'], { encoding: 'utf8' }), `go version ${GO14_VERSION} linux/amd64\n`);
    const log = readFileSync(`${go14}.bootstrap.log`, 'utf8');
    assert.match(log, /^fixture: CC=\/usr\/bin\/gcc: gcc /m);
    const manifest = JSON.parse(readFileSync(`${go14}.bootstrap.json`, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(manifest.root, { kind: 'c', compiler: `gcc ${gccVersion}`, compilerVersion: execFileSync('/usr/bin/gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim(), compilerPath: '/usr/bin/gcc', branch: 'release-branch.go1.4' });
    assert.deepEqual([manifest.commit, manifest.tree, manifest.builtWith], [head.commit, head.tree, []]);
    const go117 = JSON.parse(readFileSync(path.join(out, readdirSync(out).find((n) => n.startsWith('go1.17.13-') && n.endsWith('.bootstrap.json'))!), 'utf8')) as { builtWith: unknown[] };
    assert.deepEqual(go117.builtWith, [root]);
    gorootOf.gcc = report.goroot;
    gccChain = report;

    const again = await bootstrap('go1.22.0', '--root', 'c', '--cc', 'gcc', '--accept-branch-head');
    expectCode(again, 0, 'bootstrap from gcc again');
    assert.deepEqual((JSON.parse(again.stdout) as BootstrapJson).built, []);
    assert.deepEqual((JSON.parse(again.stdout) as BootstrapJson).chain, report.chain);
  });

  test('clang and the binary root: each chain in its own folders; go1.17.13 and go1.20.14 differ between roots (their bytes depend on their bootstrap)', { timeout: 180_000, skip: HAVE_CLANG ? false : 'needs /usr/bin/clang' }, async () => {
    const [clang, binary] = await Promise.all([bootstrap('go1.22.0', '--root', 'c', '--cc', 'clang', '--accept-branch-head'), bootstrap('go1.22.0', '--root', s.root)]);
    expectCode(clang, 0, 'bootstrap from clang');
    expectCode(binary, 0, 'bootstrap from the binary root (--root GOROOT)');
    const c = JSON.parse(clang.stdout) as BootstrapJson;
    const b = JSON.parse(binary.stdout) as BootstrapJson;
    const g = gccChain;
    assert.deepEqual(c.built, [GO14_VERSION, 'go1.17.13', 'go1.20.14']);
    assert.deepEqual(b.chain.map((t) => [t.version, t.root]), [['go1.20.14', undefined], ['go1.19.8', 'binary']]);
    assert.match(c.chain[2]!.compiler!, /^clang [0-9]/);
    assert.notEqual(c.chain[2]!.hash, g.chain[2]!.hash, 'go1.4 from clang and from gcc');
    assert.notEqual(c.chain[1]!.hash, g.chain[1]!.hash, 'go1.17.13 from the two go1.4s');
    assert.equal(new Set([c.chain[0]!.hash, g.chain[0]!.hash, b.chain[0]!.hash]).size, 3, 'go1.20.14 from three roots');
    assert.equal(new Set([c.goroot, g.goroot, b.goroot]).size, 3);
    gorootOf.clang = c.goroot;
    gorootOf.binary = b.goroot;
  });

  test('go1.21.0 and go1.22.0 built from three roots agree: ingest logs the bootstrap toolchains and agreement records; verify passes', { timeout: 240_000, skip: HAVE_CLANG ? false : 'needs /usr/bin/clang' }, async () => {
    // go1.21.0 needs go1.17: the binary go1.19.8 builds it directly; the C roots through their go1.17.13.
    const go117 = async (cc: string) => (JSON.parse((await bootstrap('go1.21.0', '--root', 'c', '--cc', cc, '--accept-branch-head')).stdout) as BootstrapJson).goroot;
    const [gcc117, clang117] = await Promise.all([go117('gcc'), go117('clang')]);
    assert.match(path.basename(gcc117), /^go1\.17\.13-/);
    const builds = await Promise.all([
      witness(buildArgs(s, 'go1.21.0', tempDir('witness-ddc-b-'), { bootstrap: s.root })),
      witness(buildArgs(s, 'go1.21.0', tempDir('witness-ddc-g-'), { bootstrap: gcc117 })),
      witness(buildArgs(s, 'go1.21.0', tempDir('witness-ddc-c-'), { bootstrap: clang117 })),
      witness(buildArgs(s, 'go1.22.0', tempDir('witness-ddc-b2-'), { bootstrap: gorootOf.binary! })),
      witness(buildArgs(s, 'go1.22.0', tempDir('witness-ddc-g2-'), { bootstrap: gorootOf.gcc! })),
      witness(buildArgs(s, 'go1.22.0', tempDir('witness-ddc-c2-'), { bootstrap: gorootOf.clang! })),
    ]);
    builds.forEach((run, i) => expectCode(run, 0, `build ${i}`));
    const files = builds.map((run) => parseBuilds(run)[0]!.resultFile);
    results.binary = files[0]!;
    results.gcc = files[1]!;
    results.clang = files[2]!;
    const gccResult = builtResult(files[1]!);
    assert.deepEqual(gccResult.bootstrap.map((b) => b.version), ['go1.17.13', GO14_VERSION]);
    assert.equal(gccResult.bootstrap[1]!.root, 'c');

    const ingest = await witness(ingestArgs(s, files, '--offline', '--json'));
    expectCode(ingest, 0, 'ingest');
    const report = JSON.parse(ingest.stdout) as IngestJson;
    assert.deepEqual(report.conflicts, []);
    assert.deepEqual(report.agreements.map((a) => [a.record.status, a.record.roots.map((r) => (r.kind === 'c' ? r.compiler!.split(' ')[0] : r.kind))]), [
      ['agree', ['binary', 'gcc', 'clang']],
      ['agree', ['binary', 'gcc', 'clang']],
    ]);

    const records = await bootstrapRecords(s.logDir);
    const by = (version: string) => records.filter(({ b }) => b.version === version).map(({ b }) => b);
    assert.equal(by(GO14_VERSION).length, 2, 'go1.4 from gcc and from clang');
    assert.deepEqual(by(GO14_VERSION).map((b) => [b.branch, b.commit, b.tree, b.root.kind, b.builtWith.length, b.previousHead]), [
      ['release-branch.go1.4', head.commit, head.tree, 'c', 0, undefined],
      ['release-branch.go1.4', head.commit, head.tree, 'c', 0, undefined],
    ]);
    assert.equal(by('go1.17.13').length, 2);
    // go1.20.14 from three roots: three toolchains, three hashes; the release they build is one.
    assert.equal(new Set(by('go1.20.14').map((b) => b.hash)).size, 3);
    assert.deepEqual(by('go1.20.14').map((b) => b.root.kind).sort(), ['binary', 'c', 'c']);
    const tag117 = s.repo.tags.get('go1.17.13')!;
    for (const b of by('go1.17.13')) assert.deepEqual([b.commit, b.tree, b.builtWith.map((t) => t.version)], [tag117.commit, tag117.tree, [GO14_VERSION]]);

    const [a121, a122] = await agreements(s.logDir);
    assert.equal(a121!.a.version, 'go1.21.0');
    assert.equal(a121!.a.files.length, 5);
    assert.deepEqual(a121!.a.roots.map((r) => r.chain.map((w) => w.split('=')[0])), [['go1.19.8'], ['go1.17.13', GO14_VERSION], ['go1.17.13', GO14_VERSION]]);
    assert.deepEqual(a122!.a.roots.map((r) => r.chain.length), [2, 3, 3]);

    // Ingesting the same results again records nothing new.
    const [verify, again] = await Promise.all([witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), witness(ingestArgs(s, files, '--offline', '--json'))]);
    expectCode(verify, 0, 'verify');
    expectCode(again, 0, 'ingest again');
    const second = JSON.parse(again.stdout) as IngestJson;
    assert.deepEqual([second.bootstraps.length, second.agreements.length], [0, 0]);
  });

  test('chains of build records already in the log give bootstrap records too; a toolchain no tag record names is refused in a result, skipped in an old record', { timeout: 60_000 }, async () => {
    const records = await allRecords(s.logDir);
    const tags = tagStateFromRecords(records);
    const tag = s.repo.tags.get('go1.17.13')!;
    const chain = (commit: string) => [{ version: 'go1.17.13', hash: `h1:${'A'.repeat(43)}=`, commit, tree: tag.tree }, { version: 'go1.19.8', hash: `h1:${'B'.repeat(43)}=`, root: 'binary' as const }];
    const derive = (commit: string, logged: boolean) =>
      deriveBootstrapRecords({ existing: [], tags, results: [{ file: 'r', sha256: 'c'.repeat(64), bootstrap: chain(commit), logged }], firstIndex: 100n, now: '2024-01-01T00:00:00Z' });
    assert.deepEqual(derive(tag.commit, true).map((d) => [d.record.version, d.record.tagIndex, d.record.builtWith.map((b) => b.version)]), [['go1.17.13', tags.present.get('refs/tags/go1.17.13')!.index, ['go1.19.8']]]);
    assert.deepEqual(derive('d'.repeat(40), true), []);
    assert.throws(() => derive('d'.repeat(40), false), /no tag record of refs\/tags\/go1\.17\.13 in this log names/);
  });

  test('verify refuses an agreement record that does not say what its build records say', { timeout: 60_000, skip: HAVE_CLANG ? false : 'needs /usr/bin/clang' }, async () => {
    const records = await allRecords(s.logDir);
    const [{ a }] = [(await agreements(s.logDir))[0]!];
    const next = BigInt(records.length);
    const forge = (change: (a: AgreementRecord) => AgreementRecord) => [...records, { index: next, record: agreementRecordToLogRecord(change(a)) }];
    assert.doesNotThrow(() => checkAgreementRecords(forge((x) => x)));
    const cases: Array<[string, (a: AgreementRecord) => AgreementRecord]> = [
      ['a file hash the builds do not have', (x) => ({ ...x, files: x.files.map((f, i) => (i === 0 ? { ...f, sha256: 'f'.repeat(64) } : f)) })],
      ['a root chain that is not the build record\'s', (x) => ({ ...x, roots: x.roots.map((r, i) => (i === 1 ? { ...r, chain: [r.chain[1]!] } : r)) })],
      ['a compiler the build record does not name', (x) => ({ ...x, roots: x.roots.map((r) => (r.kind === 'c' ? { ...r, compiler: 'gcc 1.0' } : r)) })],
      ['the same root twice', (x) => ({ ...x, roots: [x.roots[1]!, x.roots[1]!] })],
      ['a result the build record is not of', (x) => ({ ...x, roots: x.roots.map((r, i) => (i === 0 ? { ...r, result: '0'.repeat(64) } : r)) })],
      ['a later build record', (x) => ({ ...x, roots: x.roots.map((r, i) => (i === 0 ? { ...r, buildIndex: next + 5n } : r)) })],
    ];
    for (const [what, change] of cases) assert.throws(() => checkAgreementRecords(forge(change)), /AGREEMENT_RECORD_INVALID|does not say|not an earlier|same root|not a built|of result/, what);
  });

  test('a trojaned binary root (it copies itself into what it builds) differs from the C roots: ingest raises the alarm (exit 1) and logs the disagreement with both results', { timeout: 120_000, skip: HAVE_CLANG ? false : 'needs /usr/bin/clang' }, async () => {
    const trojan = makeRootToolchain('go1.19.8', worldTempDir('witness-trojan-'), { trojan: 'hidden in every go command it builds' });
    const run = await witness(buildArgs(s, 'go1.21.0', tempDir('witness-ddc-t-'), { bootstrap: trojan }));
    expectCode(run, 0, 'build from the trojaned root');
    const file = parseBuilds(run)[0]!.resultFile;
    const text = await witness(ingestArgs(s, [file], '--offline', '--dry-run'));
    expectCode(text, 1, 'ingest of a differing root, dry run');
    assert.match(text.stdout, /^ALARM: go1\.21\.0 linux\/amd64: independent bootstrap roots DIFFER \(binary go1\.19\.8, C \(gcc [^)]+\), C \(clang [^)]+\), binary go1\.19\.8\) on go1\.21\.0\.linux-amd64\.tar\.gz, v0\.0\.1-go1\.21\.0\.linux-amd64\.zip/m);
    const ingest = await witness(ingestArgs(s, [file], '--offline', '--json'));
    expectCode(ingest, 1, 'ingest of a differing root');
    const report = JSON.parse(ingest.stdout) as IngestJson;
    const [agreement] = report.agreements;
    assert.equal(agreement!.record.status, 'differ');
    assert.equal(agreement!.record.roots.length, 4);
    assert.deepEqual(agreement!.record.differ.map((d) => d.name), ['go1.21.0.linux-amd64.tar.gz', 'v0.0.1-go1.21.0.linux-amd64.zip']);
    assert.ok(report.conflicts.some((c) => /independent bootstrap roots disagree/.test(c)), report.conflicts.join('\n'));
    const last = (await agreements(s.logDir)).at(-1)!.a;
    const trojanRoot = last.roots.find((r) => r.kind === 'binary' && r.result !== last.roots[0]!.result)!;
    // Both results are named: each differing file with every root's hash.
    for (const d of last.differ) assert.equal(new Set(d.hashes.map((h) => h.sha256)).size, 2, describeRun(ingest));
    assert.ok(last.differ[0]!.hashes.some((h) => h.buildIndex === trojanRoot.buildIndex));

    // The site says it: the alarm, and on go1.22.0 the three roots that agree. (publish verifies the log
    // first: the alarm is evidence, not a broken log.)
    const site = path.join(tempDir('witness-ddc-site-'), 'site');
    expectCode(await witness(['publish', '--log', s.logDir, '--vkey', s.vkey, '--out', site]), 0, 'publish');
    const page = readFileSync(path.join(site, 'releases', 'go1.22.0.html'), 'utf8');
    assert.match(page, /3 independent bootstrap roots agree/);
    assert.match(page, /C \(gcc [0-9.]+\)/);
    assert.match(page, /go1\.4-bootstrap-20170531/);
    const page121 = readFileSync(path.join(site, 'releases', 'go1.21.0.html'), 'utf8');
    assert.match(page121, /bootstrap roots disagree/i);
    assert.match(readFileSync(path.join(site, 'feed.atom'), 'utf8'), /ALARM: [^<]*bootstrap roots disagree/i);
  });

  test('a moved release-branch.go1.4 head is refused (exit 1); accepted with --accept-branch-head, built, and logged at ingest naming the previous head', { timeout: 120_000, skip: HAVE_CLANG ? false : 'needs /usr/bin/clang' }, async () => {
    const moved = addGo14Branch(s.repo, 'cmd/dist: a new commit on the branch');
    const refused = await bootstrap('go1.21.0', '--root', 'c', '--cc', 'gcc');
    expectCode(refused, 1, 'bootstrap from a moved head');
    const recorded = (await bootstrapRecords(s.logDir)).filter(({ b }) => b.branch).at(-1)!;
    assert.match(refused.stderr, new RegExp(`release-branch\\.go1\\.4 in the repository is at ${moved.commit}, but the witness log \\(index ${recorded.index}\\) records its head at ${head.commit}.*\\[BRANCH_HEAD_MOVED\\]`));
    const accepted = await bootstrap('go1.21.0', '--root', 'c', '--cc', 'gcc', '--accept-branch-head');
    expectCode(accepted, 0, 'bootstrap from a moved head, accepted');
    const report = JSON.parse(accepted.stdout) as BootstrapJson;
    assert.deepEqual(report.built, [GO14_VERSION, 'go1.17.13']);
    assert.equal(report.chain[1]!.commit, moved.commit);
    assert.match(report.branchHead!, new RegExp(`ACCEPTED .*the log recorded ${head.commit}`));
    const run = await witness(buildArgs(s, 'go1.21.0', tempDir('witness-ddc-m-'), { bootstrap: report.goroot }));
    expectCode(run, 0, 'build');
    const ingest = await witness(ingestArgs(s, [parseBuilds(run)[0]!.resultFile], '--offline', '--json'));
    // (exit 1: the trojaned root of the previous test still disagrees.)
    const result = JSON.parse(ingest.stdout) as IngestJson;
    const go14 = result.bootstraps.find((b) => b.record.version === GO14_VERSION)!;
    assert.deepEqual(go14.moved, { from: head.commit, index: String(recorded.index) });
    assert.deepEqual(go14.record.previousHead, { commit: head.commit, index: String(recorded.index) });
    // The log now records the new head: no flag needed.
    const [verify, again] = await Promise.all([witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), bootstrap('go1.21.0', '--root', 'c', '--cc', 'gcc')]);
    expectCode(verify, 0, 'verify');
    expectCode(again, 0, 'bootstrap from the recorded head');
  });
});

describe('bootstrap roots in results and build records', () => {
  const H = (n: number) => `h1:${String(n).repeat(43).slice(0, 43)}=`;
  const C = 'a'.repeat(40);
  test('root fields only on the chain\'s last toolchain, complete for c; the record line round-trips; records without it parse as before', () => {
    const check = (bootstrap: unknown[]) => {
      const result = { schema: 'go-source-witness/build-result/v1', version: 'go1.21.0', target: 'linux/amd64', env: {}, tag: { ref: 'refs/tags/go1.21.0', commit: C, tree: C, logIndex: '1', logOrigin: 'x' }, bootstrap, builder: { name: 'a', version: '1', node: 'v20', platform: 'linux/x64', user: 'u' }, started: '2024-01-01T00:00:00Z', seconds: 1, log: { name: 'a.log', size: 1, sha256: 'b'.repeat(64) }, outcome: 'failed', failure: { phase: 'make-bash', reason: 'x' } };
      checkBuildResult(result as unknown as BuildResult);
    };
    const go14 = { version: GO14_VERSION, hash: H(2), commit: C, tree: C, root: 'c', compiler: 'gcc 12.2.0', branch: 'release-branch.go1.4' };
    assert.doesNotThrow(() => check([{ version: 'go1.17.13', hash: H(1), commit: C, tree: C }, go14]));
    assert.doesNotThrow(() => check([{ version: 'go1.19.8', hash: H(1), root: 'binary' }]));
    assert.doesNotThrow(() => check([{ version: 'go1.19.8', hash: H(1) }]));
    assert.throws(() => check([go14, { version: 'go1.19.8', hash: H(1) }]), /not the last toolchain/);
    assert.throws(() => check([{ ...go14, compiler: undefined }]), /without a compiler/);
    assert.throws(() => check([{ ...go14, branch: 'bad branch' }]), /without its branch/);
    assert.throws(() => check([{ version: 'go1.19.8', hash: H(1), commit: C, tree: C, root: 'binary' }]), /binary root with a commit/);
    assert.throws(() => check([{ version: 'go1.19.8', hash: H(1), root: 'cc' }]), /neither "binary" nor "c"/);

    const fields = [
      ['version', 'go1.21.0'], ['target', 'linux/amd64'], ['outcome', 'failed'], ['tag-index', '1'], ['commit', C], ['tree', C], ['result', 'b'.repeat(64)],
      ['builder', 'go-source-witness/0.1.0 node/v20 linux/x64'], ['bootstrap', `go1.17.13 ${H(1)} ${C} ${C}`], ['bootstrap', `${GO14_VERSION} ${H(2)} ${C} ${C}`],
      ['bootstrap-root', 'c gcc 12.2.0 release-branch.go1.4'], ['started', '2024-01-01T00:00:00Z'], ['seconds', '1'], ['build-log', `${'c'.repeat(64)} 1`], ['failure', 'make-bash: x'], ['ingested', '2024-01-01T00:00:00Z'],
    ].map(([key, value]) => ({ key: key!, value: value! }));
    const record = { type: 'build', version: 1, fields };
    const parsed = buildRecordFromLogRecord(record);
    assert.deepEqual(parsed.bootstrap[1], go14);
    assert.deepEqual(buildRecordToLogRecord(parsed), record);
    const old = { ...record, fields: fields.filter((f) => f.key !== 'bootstrap-root') };
    assert.equal(buildRecordFromLogRecord(old).bootstrap[1]!.root, undefined);
    assert.deepEqual(buildRecordToLogRecord(buildRecordFromLogRecord(old)), old);
    assert.throws(() => buildRecordFromLogRecord({ ...record, fields: fields.map((f) => (f.key === 'bootstrap-root' ? { ...f, value: 'c gcc release-branch.go1.4' } : f)) }), /bootstrap-root/);
  });
});

// The real go1.4 from C, opt-in (about 30 s on 2 cores): `witness bootstrap go1.17.13 --root c --cc gcc`
// needs nothing but go1.4 (go1.17 is built by go1.4), so only go1.4 is built.
const repository = process.env.WITNESS_GO_REPO;
const realEnabled = process.env.WITNESS_E2E_BUILD === '1' && repository !== undefined && repository !== '';
test('a real go1.4 built from C with gcc from release-branch.go1.4', { skip: realEnabled ? false : 'set WITNESS_E2E_BUILD=1 and WITNESS_GO_REPO=<Go repository> to build the real go1.4 from C (~30 s)', timeout: 10 * 60_000 }, async () => {
  const out = path.join(worldTempDir('witness-real-go14-'), 'toolchains');
  const headCommit = execFileSync('git', ['rev-parse', 'refs/heads/release-branch.go1.4^{commit}'], { cwd: repository, encoding: 'utf8' }).trim();
  // The embedded log (read only): it records the repository's tags, and no head of the branch yet.
  const args = ['bootstrap', 'go1.17.13', '--go-repo', repository!, '--root', 'c', '--cc', 'gcc', '--out', out, '--json'];
  const refused = await witness(args);
  expectCode(refused, 2, 'without --accept-branch-head');
  const started = Date.now();
  // Not runWitnessAsync: it kills the command after 2 minutes.
  const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [WITNESS_BIN, ...args, '--accept-branch-head'], { cwd: ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  expectCode(run, 0, 'real go1.4 from C');
  const report = JSON.parse(run.stdout) as BootstrapJson;
  assert.deepEqual(report.built, ['go1.4-bootstrap-20170531']);
  const [go14] = report.chain;
  assert.deepEqual([go14!.version, go14!.commit, go14!.root, go14!.branch], ['go1.4-bootstrap-20170531', headCommit, 'c', 'release-branch.go1.4']);
  assert.match(go14!.compiler!, /^gcc [0-9]+\.[0-9]+/);
  assert.equal(execFileSync(path.join(report.goroot, 'bin', 'go'), ['version'], { encoding: 'utf8' }), 'go version go1.4-bootstrap-20170531 linux/amd64\n');
  assert.ok(existsSync(path.join(report.goroot, 'pkg', 'tool', 'linux_amd64', '6g')), 'the C-built compiler 6g');
  process.stderr.write(`real go1.4 from C: ${Math.round((Date.now() - started) / 1000)} s, ${go14!.hash}\n`);
});
