// Builds: Go versions and targets (target.ts), build result files (result.ts), build records (record.ts),
// the make.bash sandbox (make.ts), and end to end through the CLI: `witness plan`, `build`, `ingest`,
// `bootstrap`, `verify` and the builds.txt view, against a small Go-like repository whose stand-in
// make.bash writes real distpack files in milliseconds (helpers/go-fixture.ts). Offline: the checksum
// database is a test server on loopback, the go.dev listing a file.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, readFileSync, readdirSync, readlinkSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { hashDistpack } from '../src/build/distpack.js';
import { assertNoKeyInEnvironment, buildUserFor, exportTree, scrubbedEnvironment, BUILD_PATH } from '../src/build/make.js';
import { prepareSandbox } from '../src/build/sandbox.js';
import {
  buildRecordFromLogRecord,
  buildRecordToLogRecord,
  buildStatus,
  moduleZipHash,
  type BuildRecord,
} from '../src/build/record.js';
import {
  BUILD_RESULT_SCHEMA,
  buildResultFileName,
  parseBuildResult,
  serializeBuildResult,
  type BuildResult,
  type BuiltResult,
  type FailedResult,
} from '../src/build/result.js';
import {
  FIRST_CLASS_TARGETS,
  bootstrapMinor,
  compareGoVersions,
  distpackFileNames,
  extraEnvironment,
  isDistpackVersion,
  isPlannedVersion,
  parseGoVersion,
  parseTarget,
  publishedArchiveName,
  requireGoVersion,
  toolchainModuleVersion,
} from '../src/release/target.js';
import { WitnessError } from '../src/errors.js';
import { encodeBase64 } from '../src/tlog/encoding.js';
import { WitnessLog } from '../src/log/log.js';
import { type LogRecord, formatRecord, parseRecord } from '../src/log/record.js';
import { deriveViews } from '../src/log/views.js';
import { tagRecordToLogRecord } from '../src/tags/record.js';
import { WITNESS_VERSION } from '../src/version.js';
import { type CliResult, ROOT, git, tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import {
  DAEMON_SECONDS,
  addRelease,
  makeGoRepo,
  moveTag,
  runningAsRoot,
  worldTempDir,
} from './helpers/go-fixture.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';
import {
  type IngestJson,
  cleanEnv,
  witness,
  describeRun,
  expectCode,
  type Scenario,
  logState,
  buildRecords,
  buildArgs,
  ingestArgs,
  parseBuilds,
  readResult,
  builtResult,
  buildLogText,
  buildsTxt,
  sha256File,
  expectedEnvironmentNames,
  copyResult,
  newScenario,
  walk,
  secretsBelow,
} from './helpers/build-scenario.js';

const COMMIT = 'a'.repeat(40);
const TREE = 'b'.repeat(40);
const SHA_C = 'c'.repeat(64);
const SHA_D = 'd'.repeat(64);
const h1 = (byte: number) => `h1:${Buffer.alloc(32, byte).toString('base64')}`;
/** The real go.mod h1 of every golang.org/toolchain version (module golang.org/toolchain\n). */
const TOOLCHAIN_MOD_H1 = 'h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=';
const AS_ROOT = runningAsRoot();
/** The build user: a fresh uid per build when root (sandbox.ts allocateBuildUser), else ourselves. */
const BUILD_USER = AS_ROOT ? /^uid-(19|20)[0-9]{8}$/ : new RegExp(`^uid-${process.getuid?.()}$`);

// ---------------------------------------------------------------------------------------------------
// target.ts

describe('Go versions and targets (target.ts)', () => {
  test('parseGoVersion: releases, release candidates, pre-go1.21 minor releases; not go1.21 or sumdb oddities', () => {
    assert.deepEqual(parseGoVersion('go1.21.0'), { text: 'go1.21.0', major: 1, minor: 21, patch: 0 });
    assert.deepEqual(parseGoVersion('go1.22.12'), { text: 'go1.22.12', major: 1, minor: 22, patch: 12 });
    assert.deepEqual(parseGoVersion('go1.21rc2'), { text: 'go1.21rc2', major: 1, minor: 21, patch: 0, prerelease: { kind: 'rc', number: 2 } });
    assert.deepEqual(parseGoVersion('go1.22beta1'), { text: 'go1.22beta1', major: 1, minor: 22, patch: 0, prerelease: { kind: 'beta', number: 1 } });
    assert.deepEqual(parseGoVersion('go1.20'), { text: 'go1.20', major: 1, minor: 20, patch: 0 });
    for (const junk of ['go1.9.2rc2', 'go1.21', 'go1.23', '', 'go', 'go1', 'go2.0.0', 'go1.21.0 ', ' go1.21.0', 'go1.021.0', 'go1.21.01', 'go1.21rc0', 'go1.21.0rc1', 'go1.21.0-foo', 'Go1.21.0', 'go1.21.0\n', 'v1.21.0', 'go1.21.0.linux-amd64', 'go1..0', 'go1.21.x']) {
      assert.equal(parseGoVersion(junk), undefined, JSON.stringify(junk));
    }
    assert.throws(() => requireGoVersion('go1.21'), (error: unknown) => error instanceof WitnessError && error.code === 'BAD_VERSION' && error.exitCode === 2);
  });

  test('compareGoVersions orders like go/version: beta < rc < release < patch releases, by minor first', () => {
    const order = ['go1.9', 'go1.19rc1', 'go1.19', 'go1.19.1', 'go1.19.13', 'go1.20', 'go1.20.14', 'go1.21rc2', 'go1.21rc3', 'go1.21.0', 'go1.21.1', 'go1.21.10', 'go1.22beta1', 'go1.22rc1', 'go1.22.0', 'go1.22.2', 'go1.100.0'];
    const parsed = order.map((v) => requireGoVersion(v));
    const shuffled = [...parsed].reverse();
    shuffled.sort(compareGoVersions);
    assert.deepEqual(shuffled.map((v) => v.text), order);
    for (let i = 1; i < parsed.length; i++) assert.ok(compareGoVersions(parsed[i - 1]!, parsed[i]!) < 0, `${order[i - 1]} < ${order[i]}`);
    assert.equal(compareGoVersions(requireGoVersion('go1.21.3'), requireGoVersion('go1.21.3')), 0);
  });

  test("bootstrapMinor follows gorebuild's BootstrapVersion", () => {
    const table: Array<[string, number | undefined]> = [
      ['go1.4', undefined],
      ['go1.5', 4],
      ['go1.19.13', 4],
      ['go1.20', 17],
      ['go1.21.0', 17],
      ['go1.21rc2', 17],
      ['go1.22.0', 20],
      ['go1.22rc1', 20],
      ['go1.23.4', 20],
      ['go1.24.0', 22],
      ['go1.25.1', 22],
      ['go1.26.0', 24],
      ['go1.27.0', 24],
      ['go1.28.0', 26],
    ];
    for (const [version, minor] of table) assert.equal(bootstrapMinor(requireGoVersion(version)), minor, version);
  });

  test('extraEnvironment: linux/arm is GOARM=6 from go1.21.1 on (not go1.21.0 or its release candidates); nothing elsewhere', () => {
    const arm = parseTarget('linux/arm');
    for (const version of ['go1.21.0', 'go1.21rc2', 'go1.21rc3', 'go1.20.14']) assert.deepEqual(extraEnvironment(requireGoVersion(version), arm), {}, version);
    for (const version of ['go1.21.1', 'go1.21.13', 'go1.22.0', 'go1.22rc1', 'go1.25.3']) assert.deepEqual(extraEnvironment(requireGoVersion(version), arm), { GOARM: '6' }, version);
    for (const target of ['linux/arm64', 'linux/amd64', 'freebsd/arm', 'windows/arm', 'darwin/arm64']) {
      assert.deepEqual(extraEnvironment(requireGoVersion('go1.22.0'), parseTarget(target)), {}, target);
    }
  });

  test('distpack file names, go.dev names (linux-armv6l) and module versions (linux-arm)', () => {
    assert.deepEqual(distpackFileNames('go1.21.1', parseTarget('linux/arm')), {
      source: 'go1.21.1.src.tar.gz',
      archive: 'go1.21.1.linux-arm.tar.gz',
      module: 'v0.0.1-go1.21.1.linux-arm',
    });
    assert.equal(distpackFileNames('go1.22.0', parseTarget('windows/amd64')).archive, 'go1.22.0.windows-amd64.zip');
    assert.equal(publishedArchiveName('go1.21.1.linux-arm.tar.gz'), 'go1.21.1.linux-armv6l.tar.gz');
    assert.equal(publishedArchiveName('go1.21.1.linux-arm64.tar.gz'), 'go1.21.1.linux-arm64.tar.gz');
    assert.equal(publishedArchiveName('go1.21.1.freebsd-arm.tar.gz'), 'go1.21.1.freebsd-arm.tar.gz');
    assert.equal(publishedArchiveName('v0.0.1-go1.21.1.linux-arm.zip'), 'v0.0.1-go1.21.1.linux-arm.zip');
    assert.equal(toolchainModuleVersion('go1.21.1', parseTarget('linux/arm')), 'v0.0.1-go1.21.1.linux-arm');
  });

  test('distpack versions are go1.21 and later; plan schedules plain releases only; targets parse strictly', () => {
    assert.equal(isDistpackVersion(requireGoVersion('go1.20.14')), false);
    assert.equal(isDistpackVersion(requireGoVersion('go1.21rc2')), true);
    assert.equal(isPlannedVersion(requireGoVersion('go1.21rc2')), false);
    assert.equal(isPlannedVersion(requireGoVersion('go1.21.0')), true);
    assert.deepEqual(parseTarget('linux/amd64'), { goos: 'linux', goarch: 'amd64' });
    for (const junk of ['linux', 'linux/', '/amd64', 'linux/amd64/x', 'Linux/amd64', 'linux-amd64', 'linux/amd 64', '../amd64']) {
      assert.throws(() => parseTarget(junk), (error: unknown) => error instanceof WitnessError && error.code === 'BAD_TARGET', junk);
    }
    assert.equal(FIRST_CLASS_TARGETS.length, 8);
  });

  test('WITNESS_VERSION (recorded as the builder) equals package.json\'s version', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(WITNESS_VERSION, pkg.version);
  });
});

// ---------------------------------------------------------------------------------------------------
// result.ts

function sampleBuilt(): BuiltResult {
  const module = 'v0.0.1-go1.21.1.linux-arm';
  return {
    schema: BUILD_RESULT_SCHEMA,
    version: 'go1.21.1',
    target: 'linux/arm',
    env: { GOARM: '6' },
    tag: { ref: 'refs/tags/go1.21.1', commit: COMMIT, tree: TREE, logIndex: '3', logOrigin: 'example.com/build-log' },
    bootstrap: [
      { version: 'go1.20.14', hash: h1(1), commit: COMMIT, tree: TREE },
      { version: 'go1.19.8', hash: h1(2) },
    ],
    builder: { name: 'go-source-witness', version: '0.1.0', node: 'v20.20.2', platform: 'linux/x64', user: 'nobody' },
    started: '2024-05-06T07:08:09Z',
    outcome: 'built',
    seconds: 12,
    log: { name: `go1.21.1.linux-arm.${SHA_C}.log`, size: 100, sha256: SHA_C },
    files: [
      { name: 'go1.21.1.linux-arm.tar.gz', size: 10, sha256: SHA_C },
      { name: 'go1.21.1.src.tar.gz', size: 11, sha256: SHA_D },
      { name: `${module}.info`, size: 12, sha256: SHA_C },
      { name: `${module}.mod`, size: 28, sha256: SHA_D },
      { name: `${module}.zip`, size: 14, sha256: SHA_C },
    ],
    goSum: [`golang.org/toolchain ${module} ${h1(3)}`, `golang.org/toolchain ${module}/go.mod ${TOOLCHAIN_MOD_H1}`],
    sourceCheck: { equal: true, files: 11, problems: [] },
  };
}

function sampleFailed(): FailedResult {
  const { files: _f, goSum: _g, sourceCheck: _s, outcome: _o, ...common } = sampleBuilt();
  return { ...common, outcome: 'failed', failure: { phase: 'make-bash', reason: 'make.bash exited with status 2: internal compiler error' } };
}

/** A result as written by build: its canonical bytes and content-addressed name. */
function written(result: BuildResult): { bytes: Buffer; name: string } {
  const bytes = serializeBuildResult(result);
  return { bytes, name: buildResultFileName(result, bytes) };
}

/** Re-serializes an edited result the way build would (canonical bytes, new content address). */
function edited(mutate: (value: Record<string, unknown>) => void, base: BuildResult = sampleBuilt()): { bytes: Buffer; name: string } {
  const value = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  mutate(value);
  let bytes: Buffer;
  try {
    bytes = serializeBuildResult(value as unknown as BuildResult); // still valid: canonical bytes
  } catch {
    bytes = Buffer.from(`${JSON.stringify(value, null, 2)}\n`); // invalid on purpose: as written
  }
  return { bytes, name: `${base.version}.${base.target.replace('/', '-')}.${createHash('sha256').update(bytes).digest('hex')}.build.json` };
}

function assertBadResult(bytes: Buffer, name: string | undefined, why: RegExp): void {
  assert.throws(
    () => parseBuildResult(bytes, name),
    (error: unknown) => error instanceof WitnessError && error.code === 'BAD_BUILD_RESULT' && error.exitCode === 1 && why.test(error.message),
    `expected BAD_BUILD_RESULT matching ${why}`,
  );
}

describe('build result files (result.ts)', () => {
  test('a built and a failed result round-trip: canonical bytes, content-addressed name', () => {
    for (const result of [sampleBuilt(), sampleFailed()]) {
      const { bytes, name } = written(result);
      assert.equal(name, `go1.21.1.linux-arm.${createHash('sha256').update(bytes).digest('hex')}.build.json`);
      assert.ok(bytes.toString('utf8').endsWith('}\n'));
      assert.deepEqual(parseBuildResult(bytes, name), result);
      assert.deepEqual(parseBuildResult(bytes), result);
    }
    // darwin: a stripped h1 is allowed (and only there).
    const darwin = edited((r) => {
      r.target = 'darwin/arm64';
      r.env = {};
      const module = 'v0.0.1-go1.21.1.darwin-arm64';
      r.files = [
        { name: 'go1.21.1.darwin-arm64.tar.gz', size: 1, sha256: SHA_C },
        { name: `${module}.mod`, size: 28, sha256: SHA_D },
        { name: `${module}.zip`, size: 1, sha256: SHA_C },
      ];
      r.goSum = [`golang.org/toolchain ${module} ${h1(3)}`, `golang.org/toolchain ${module}/go.mod ${TOOLCHAIN_MOD_H1}`];
      r.strippedH1 = h1(4);
    });
    assert.equal(parseBuildResult(darwin.bytes, darwin.name.replace('linux-arm', 'darwin-arm64')).target, 'darwin/arm64');
  });

  test('an altered result is refused: content that no longer matches the hash in its name', () => {
    const { bytes, name } = written(sampleBuilt());
    const altered = Buffer.from(bytes.toString('utf8').replace(SHA_D, 'e'.repeat(64)));
    assertBadResult(altered, name, /does not match the SHA-256 in its file name/);
    // Renamed to another release or target: the name must say what is inside.
    const { bytes: other } = written(sampleBuilt());
    const digest = createHash('sha256').update(other).digest('hex');
    assertBadResult(other, `go1.21.2.linux-arm.${digest}.build.json`, /does not match the version and target/);
    assertBadResult(other, `go1.21.1.linux-arm64.${digest}.build.json`, /does not match the version and target/);
    assertBadResult(other, `go1.21.1.linux-arm.${digest}.json`, /file name is not/);
  });

  test('non-canonical JSON is refused (reformatted, no final newline, CRLF, BOM), even under a matching name', () => {
    const result = sampleBuilt();
    const variants = [
      `${JSON.stringify(result)}\n`,
      JSON.stringify(result, null, 2),
      `${JSON.stringify(result, null, 4)}\n`,
      `${JSON.stringify(result, null, 2).replace(/\n/g, '\r\n')}\r\n`,
      `\ufeff${JSON.stringify(result, null, 2)}\n`,
      `${JSON.stringify(result, null, 2)}\n\n`,
    ];
    for (const text of variants) {
      const bytes = Buffer.from(text);
      const name = `go1.21.1.linux-arm.${createHash('sha256').update(bytes).digest('hex')}.build.json`;
      assertBadResult(bytes, name, /canonical|not UTF-8 JSON/);
    }
    assertBadResult(Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), undefined, /not UTF-8 JSON/);
  });

  test('keys in another order are not canonical', {}, () => {
    const result = sampleBuilt();
    const { schema, ...rest } = result;
    const reordered = { ...rest, schema };
    const bytes = Buffer.from(`${JSON.stringify(reordered, null, 2)}\n`);
    const name = `go1.21.1.linux-arm.${createHash('sha256').update(bytes).digest('hex')}.build.json`;
    assertBadResult(bytes, name, /canonical/);
  });

  test('malformed results are refused, each with the first problem named', () => {
    const cases: Array<[string, (r: Record<string, unknown>) => void, RegExp, BuildResult?]> = [
      ['an unknown field', (r) => (r.comment = 'hello'), /comment is not a known field/],
      ['an unknown nested field', (r) => ((r.tag as Record<string, unknown>).signed = 'yes'), /tag\.signed is not a known field/],
      ['a bad sha256', (r) => ((r.files as Array<Record<string, unknown>>)[1]!.sha256 = 'D'.repeat(64)), /files\[1\]\.sha256/],
      ['a short sha256', (r) => ((r.files as Array<Record<string, unknown>>)[0]!.sha256 = 'c'.repeat(63)), /files\[0\]\.sha256/],
      ['a bad log hash', (r) => ((r.log as Record<string, unknown>).sha256 = 'x'), /log\.sha256/],
      ['goSum of another module', (r) => (r.goSum = [`golang.org/toolchain v0.0.1-go1.21.1.linux-arm64 ${h1(3)}`, `golang.org/toolchain v0.0.1-go1.21.1.linux-arm64/go.mod ${TOOLCHAIN_MOD_H1}`]), /goSum\[0\]/],
      ['goSum of another module path', (r) => (r.goSum = [`golang.org/x/toolchain v0.0.1-go1.21.1.linux-arm ${h1(3)}`, `golang.org/toolchain v0.0.1-go1.21.1.linux-arm/go.mod ${TOOLCHAIN_MOD_H1}`]), /goSum\[0\]/],
      ['goSum lines swapped', (r) => (r.goSum = [...(r.goSum as string[])].reverse()), /goSum\[0\]/],
      ['a malformed h1', (r) => (r.goSum = ['golang.org/toolchain v0.0.1-go1.21.1.linux-arm h1:short=', `golang.org/toolchain v0.0.1-go1.21.1.linux-arm/go.mod ${TOOLCHAIN_MOD_H1}`]), /goSum\[0\]/],
      ['a built result with a failure too', (r) => (r.failure = { phase: 'make-bash', reason: 'x' }), /built result has a failure/],
      ['a failed result with files too', (r) => (r.files = sampleBuilt().files), /failed result has files/, sampleFailed()],
      ['neither built nor failed', (r) => (r.outcome = 'unknown'), /neither "built" nor "failed"/],
      ['a built result without files', (r) => delete r.files, /files is missing/],
      ['a failed result without a failure', (r) => delete r.failure, /failure is not an object/, sampleFailed()],
      ['env not sorted', (r) => (r.env = { GOARM: '6', GOAMD64: 'v1' }), /env is not sorted/],
      ['env setting GOOS', (r) => (r.env = { GOOS: 'linux' }), /not an extra Go setting/],
      ['env not a Go setting', (r) => (r.env = { LD_PRELOAD: '/x.so' }), /not an extra Go setting/],
      ['a tag ref of another version', (r) => ((r.tag as Record<string, unknown>).ref = 'refs/tags/go1.21.0'), /tag\.ref is not refs\/tags\/go1\.21\.1/],
      ['a tag ref outside refs/tags', (r) => ((r.tag as Record<string, unknown>).ref = 'refs/heads/go1.21.1'), /tag\.ref/],
      ['a bad commit id', (r) => ((r.tag as Record<string, unknown>).commit = 'z'.repeat(40)), /tag\.commit/],
      ['an empty bootstrap chain', (r) => (r.bootstrap = []), /bootstrap is not a chain/],
      ['a bootstrap commit without a tree', (r) => delete (r.bootstrap as Array<Record<string, unknown>>)[0]!.tree, /commit without a tree/],
      ['files not sorted', (r) => (r.files = [...(r.files as unknown[])].reverse()), /not sorted by unique name/],
      ['a file twice', (r) => (r.files = [...(r.files as unknown[]), (r.files as unknown[])[4]]), /not sorted by unique name/],
      ['no module zip among the files', (r) => (r.files = (r.files as Array<{ name: string }>).filter((f) => !f.name.endsWith('.zip'))), /files lacks v0\.0\.1-go1\.21\.1\.linux-arm\.zip/],
      ['a file name with a slash', (r) => ((r.files as Array<Record<string, unknown>>)[0]!.name = '../go1.21.1.linux-arm.tar.gz'), /files\[0\]\.name/],
      ['a stripped h1 for linux', (r) => (r.strippedH1 = h1(4)), /only for darwin/],
      ['source check equal with problems', (r) => (r.sourceCheck = { equal: true, files: 1, problems: ['x: differs'] }), /disagrees/],
      ['a negative size', (r) => ((r.files as Array<Record<string, unknown>>)[0]!.size = -1), /files\[0\]\.size/],
      ['seconds not an integer', (r) => (r.seconds = 1.5), /seconds/],
      ['a local started time', (r) => (r.started = '2024-05-06T07:08:09+02:00'), /started/],
      ['another schema', (r) => (r.schema = 'go-source-witness/build-result/v2'), /schema is not/],
      ['a version that is not a release', (r) => (r.version = 'go1.21'), /not a Go release version/],
      ['a control character in a value', (r) => ((r.failure as Record<string, unknown>).reason = 'a\u001b[31mb'), /control character/, sampleFailed()],
      ['a log name with a slash', (r) => ((r.log as Record<string, unknown>).name = '../x.log'), /log\.name/],
    ];
    for (const [what, mutate, why, base] of cases) {
      const { bytes, name } = edited(mutate, base);
      assert.throws(
        () => parseBuildResult(bytes, name),
        (error: unknown) => error instanceof WitnessError && error.code === 'BAD_BUILD_RESULT' && why.test(error.message),
        `${what}: expected ${why}`,
      );
    }
    assert.throws(() => serializeBuildResult({ ...sampleBuilt(), env: { GOOS: 'linux' } }), /not an extra Go setting/);
    assertBadResult(Buffer.from('[]\n'), undefined, /result is not an object/);
    assertBadResult(Buffer.from('null\n'), undefined, /result is not an object/);
  });
});

// ---------------------------------------------------------------------------------------------------
// record.ts

function sampleRecord(): BuildRecord {
  const result = sampleBuilt();
  return {
    version: 'go1.21.1',
    target: 'linux/arm',
    env: ['GOARM=6'],
    outcome: 'built',
    tagIndex: 3n,
    commit: COMMIT,
    tree: TREE,
    result: SHA_D,
    builder: 'go-source-witness/0.1.0 node/v20.20.2 linux/x64',
    bootstrap: result.bootstrap,
    started: '2024-05-06T07:08:09Z',
    seconds: 12,
    buildLog: { sha256: SHA_C, size: 100 },
    sourceCheck: { equal: true, files: 11, problems: 0 },
    files: result.files,
    goSum: result.goSum,
    verdicts: [
      { file: 'v0.0.1-go1.21.1.linux-arm.zip', status: 'equal', source: 'sumdb', detail: h1(3) },
      { file: 'v0.0.1-go1.21.1.linux-arm.mod', status: 'equal', source: 'sumdb', detail: TOOLCHAIN_MOD_H1 },
      { file: 'go1.21.1.linux-arm.tar.gz', status: 'unchecked', source: 'go.dev', detail: 'no published listing given' },
      { file: 'go1.21.1.src.tar.gz', status: 'unequal', source: 'log', detail: `build record 7 (sha256 ${SHA_C}, now ${SHA_D})` },
    ],
    evidence: [{ source: 'sumdb', detail: 'https://sum.golang.org record 5 in tree 10 AAAA' }],
    ingested: '2024-05-07T00:00:00Z',
  };
}

function sampleFailedRecord(): BuildRecord {
  const { sourceCheck: _s, files: _f, goSum: _g, ...rest } = sampleRecord();
  return { ...rest, outcome: 'failed', failure: 'make-bash: make.bash exited with status 2: internal compiler error', verdicts: [], evidence: [] };
}

function sampleDarwinRecord(): BuildRecord {
  const module = 'v0.0.1-go1.22.0.darwin-arm64';
  return {
    ...sampleRecord(),
    version: 'go1.22.0',
    target: 'darwin/arm64',
    env: [],
    files: [
      { name: 'go1.22.0.darwin-arm64.tar.gz', size: 1, sha256: SHA_C },
      { name: `${module}.mod`, size: 28, sha256: SHA_D },
      { name: `${module}.zip`, size: 1, sha256: SHA_C },
    ],
    goSum: [`golang.org/toolchain ${module} ${h1(3)}`, `golang.org/toolchain ${module}/go.mod ${TOOLCHAIN_MOD_H1}`],
    strippedH1: h1(9),
    verdicts: [{ file: `${module}.zip`, status: 'unchecked', source: 'sumdb', detail: `differs from ${h1(8)}: Google signs darwin binaries` }],
  };
}

/** Through the log's byte format and back. */
function roundTrip(record: BuildRecord): BuildRecord {
  return buildRecordFromLogRecord(parseRecord(formatRecord(buildRecordToLogRecord(record))));
}

function withFields(record: BuildRecord, edit: (fields: Array<{ key: string; value: string }>) => void): LogRecord {
  const log = buildRecordToLogRecord(record);
  const fields = log.fields.map((f) => ({ ...f }));
  edit(fields);
  return { ...log, fields };
}

function assertBadRecord(record: LogRecord, why: RegExp, what: string): void {
  assert.throws(
    () => buildRecordFromLogRecord(record),
    (error: unknown) => error instanceof WitnessError && error.code === 'MALFORMED_BUILD_RECORD' && why.test(error.message),
    `${what}: expected ${why}`,
  );
}

describe('build records (record.ts)', () => {
  test('built, failed and darwin (stripped h1) records round-trip through the log format', () => {
    for (const record of [sampleRecord(), sampleFailedRecord(), sampleDarwinRecord()]) assert.deepEqual(roundTrip(record), record);
    const text = Buffer.from(formatRecord(buildRecordToLogRecord(sampleRecord()))).toString('utf8');
    assert.equal(
      text,
      [
        'go-source-witness build/v1',
        'version go1.21.1',
        'target linux/arm',
        'env GOARM=6',
        'outcome built',
        'tag-index 3',
        `commit ${COMMIT}`,
        `tree ${TREE}`,
        `result ${SHA_D}`,
        'builder go-source-witness/0.1.0 node/v20.20.2 linux/x64',
        `bootstrap go1.20.14 ${h1(1)} ${COMMIT} ${TREE}`,
        `bootstrap go1.19.8 ${h1(2)}`,
        'started 2024-05-06T07:08:09Z',
        'seconds 12',
        `build-log ${SHA_C} 100`,
        'source-check equal 11 0',
        `file go1.21.1.linux-arm.tar.gz 10 ${SHA_C}`,
        `file go1.21.1.src.tar.gz 11 ${SHA_D}`,
        `file v0.0.1-go1.21.1.linux-arm.info 12 ${SHA_C}`,
        `file v0.0.1-go1.21.1.linux-arm.mod 28 ${SHA_D}`,
        `file v0.0.1-go1.21.1.linux-arm.zip 14 ${SHA_C}`,
        `go-sum golang.org/toolchain v0.0.1-go1.21.1.linux-arm ${h1(3)}`,
        `go-sum golang.org/toolchain v0.0.1-go1.21.1.linux-arm/go.mod ${TOOLCHAIN_MOD_H1}`,
        `verdict v0.0.1-go1.21.1.linux-arm.zip equal sumdb ${h1(3)}`,
        `verdict v0.0.1-go1.21.1.linux-arm.mod equal sumdb ${TOOLCHAIN_MOD_H1}`,
        'verdict go1.21.1.linux-arm.tar.gz unchecked go.dev no published listing given',
        `verdict go1.21.1.src.tar.gz unequal log build record 7 (sha256 ${SHA_C}, now ${SHA_D})`,
        'evidence sumdb https://sum.golang.org record 5 in tree 10 AAAA',
        'ingested 2024-05-07T00:00:00Z',
        '',
      ].join('\n'),
    );
    const failed = Buffer.from(formatRecord(buildRecordToLogRecord(sampleFailedRecord()))).toString('utf8');
    assert.match(failed, /\nbuild-log [0-9a-f]{64} 100\nfailure make-bash: make\.bash exited with status 2: internal compiler error\ningested /);
    assert.match(Buffer.from(formatRecord(buildRecordToLogRecord(sampleDarwinRecord()))).toString('utf8'), new RegExp(`\nstripped-h1 ${h1(9).replace(/[+/]/g, '\\$&')}\nverdict `));
    assert.equal(moduleZipHash(sampleRecord()), h1(3));
    assert.equal(moduleZipHash(sampleFailedRecord()), undefined);
  });

  test('the parser is strict: order, repetition, trailing fields, verdicts on failures, formats', () => {
    const built = sampleRecord();
    assertBadRecord(withFields(built, (f) => ([f[0], f[1]] = [f[1]!, f[0]!])), /expected field "version"/, 'version and target swapped');
    assertBadRecord(withFields(built, (f) => f.splice(6, 0, { key: 'commit', value: COMMIT })), /expected field "tree"/, 'commit twice');
    assertBadRecord(withFields(built, (f) => f.splice(1, 0, { key: 'version', value: 'go1.21.1' })), /expected field "target"/, 'version twice');
    assertBadRecord(withFields(built, (f) => f.push({ key: 'note', value: 'extra' })), /unexpected field "note"/, 'an extra trailing field');
    assertBadRecord(withFields(built, (f) => f.push({ key: 'ingested', value: '2024-05-07T00:00:00Z' })), /unexpected field "ingested"/, 'ingested twice');
    assertBadRecord(withFields(built, (f) => f.splice(f.findIndex((x) => x.key === 'evidence') + 1, 0, { key: 'verdict', value: `x equal sumdb ${h1(3)}` })), /expected field "ingested" .*found "verdict"/, 'a verdict after evidence');
    assertBadRecord(withFields(sampleFailedRecord(), (f) => f.splice(f.length - 1, 0, { key: 'verdict', value: 'go1.21.1.src.tar.gz equal log build record 1' })), /failed build has verdicts/, 'a failed record with a verdict');
    assertBadRecord(withFields(sampleFailedRecord(), (f) => f.splice(f.findIndex((x) => x.key === 'failure'), 0, { key: 'source-check', value: 'equal 1 0' })), /expected field "failure"/, 'a failed record with a source check');
    assertBadRecord(withFields(built, (f) => f.splice(f.findIndex((x) => x.key === 'go-sum'), 1)), /exactly two go-sum lines/, 'one go-sum line');
    assertBadRecord(withFields(built, (f) => f.splice(f.findIndex((x) => x.key === 'verdict'), 0, { key: 'stripped-h1', value: h1(9) })), /only for darwin/, 'a stripped h1 for linux');
    assertBadRecord(withFields(built, (f) => f.splice(3, 0, { key: 'env', value: 'GOAMD64=v1' })), /env is not sorted/, 'env not sorted');
    assertBadRecord(withFields(built, (f) => f.splice(3, 0, { key: 'env', value: 'GOARM=7' })), /env is not sorted and unique/, 'env GOARM twice');
    assertBadRecord(withFields(built, (f) => (f[f.findIndex((x) => x.key === 'source-check')] = { key: 'source-check', value: 'equal 11 2' })), /disagrees/, 'equal with problems');
    assertBadRecord(withFields(built, (f) => (f[f.findIndex((x) => x.key === 'go-sum')] = { key: 'go-sum', value: `golang.org/toolchain v0.0.1-go1.21.0.linux-arm ${h1(3)}` })), /not for golang\.org\/toolchain/, 'go.sum of another version');
    assertBadRecord(withFields(built, (f) => f.splice(f.findIndex((x) => x.key === 'bootstrap'), 2)), /no bootstrap toolchain/, 'no bootstrap');
    assertBadRecord(withFields(built, (f) => (f[f.findIndex((x) => x.key === 'verdict')] = { key: 'verdict', value: 'x maybe sumdb y' })), /verdict .* is malformed/, 'an unknown verdict status');
    assertBadRecord(withFields(built, (f) => (f[f.findIndex((x) => x.key === 'verdict')] = { key: 'verdict', value: 'x equal rumour y' })), /verdict .* is malformed/, 'an unknown verdict source');
    assertBadRecord(withFields(built, (f) => f.splice(f.findIndex((x) => x.key === 'file'), 5)), /lists no files/, 'a built record without files');
    assertBadRecord({ ...buildRecordToLogRecord(built), version: 2 }, /is not build\/v1/, 'another record version');
    assertBadRecord(withFields(built, (f) => (f[0] = { key: 'version', value: 'go1.21' })), /not a Go release version/, 'version go1.21');
    assertBadRecord(withFields(built, (f) => (f[5] = { key: 'tag-index', value: '03' })), /tag-index/, 'a tag index with a leading zero');
  });

  test('buildStatus: failed, unequal (a source check difference or any unequal verdict), equal, unchecked', () => {
    assert.equal(buildStatus(sampleFailedRecord()), 'failed');
    assert.equal(buildStatus(sampleRecord()), 'unequal');
    const equal = { ...sampleRecord(), verdicts: sampleRecord().verdicts.filter((v) => v.status !== 'unequal') };
    assert.equal(buildStatus(equal), 'equal');
    assert.equal(buildStatus({ ...equal, sourceCheck: { equal: false, files: 11, problems: 1 } }), 'unequal');
    assert.equal(buildStatus({ ...equal, verdicts: equal.verdicts.filter((v) => v.status === 'unchecked') }), 'unchecked');
    assert.equal(buildStatus({ ...equal, verdicts: [] }), 'unchecked');
    // Agreeing only with our own earlier builds is reproducibility, not confirmation.
    assert.equal(buildStatus({ ...equal, verdicts: [{ file: 'go1.21.1.src.tar.gz', status: 'equal', source: 'log', detail: 'build record 1' }] }), 'unchecked');
  });

  test('builds.txt: one line per build record; a build naming a tag record that does not match is refused', () => {
    const tag = tagRecordToLogRecord({
      event: 'new',
      ref: 'refs/tags/go1.21.1',
      pointer: { object: COMMIT, objectType: 'commit', target: COMMIT, targetType: 'commit', tree: TREE },
      repository: 'https://go.googlesource.com/go',
      firstSeen: '2024-05-01T00:00:00Z',
    });
    const other = tagRecordToLogRecord({
      event: 'new',
      ref: 'refs/tags/go1.21.0',
      pointer: { object: COMMIT, objectType: 'commit', target: COMMIT, targetType: 'commit', tree: TREE },
      repository: 'https://go.googlesource.com/go',
      firstSeen: '2024-05-01T00:00:00Z',
    });
    const build = (record: BuildRecord) => buildRecordToLogRecord(record);
    const records = [
      { index: 0n, record: other },
      { index: 1n, record: tag },
      { index: 2n, record: build({ ...sampleRecord(), tagIndex: 1n }) },
      { index: 3n, record: build({ ...sampleFailedRecord(), tagIndex: 1n }) },
    ];
    assert.equal(
      deriveViews(records).get('builds.txt'),
      `# go-source-witness builds: <log index> <version> <target> [<env>] <equal|unequal|unchecked|failed> <module zip h1>\n2 go1.21.1 linux/arm GOARM=6 unequal ${h1(3)}\n3 go1.21.1 linux/arm GOARM=6 failed failed:make-bash\n`,
    );
    assert.equal(deriveViews(records.slice(0, 2)).has('builds.txt'), false);
    const refused = (record: BuildRecord, index = 2n) =>
      assert.throws(
        () => deriveViews([...records.slice(0, 2), { index, record: build(record) }]),
        (error: unknown) => error instanceof WitnessError && error.code === 'BUILD_RECORD_INVALID',
      );
    refused({ ...sampleRecord(), tagIndex: 0n }); // a tag record of go1.21.0
    refused({ ...sampleRecord(), tagIndex: 7n }); // no such record
    refused({ ...sampleRecord(), tagIndex: 1n, commit: 'f'.repeat(40) }); // another commit
    refused({ ...sampleRecord(), tagIndex: 1n, tree: 'f'.repeat(40) }); // another tree
    refused({ ...sampleRecord(), tagIndex: 1n }, 1n); // not after its tag record
  });
});

// ---------------------------------------------------------------------------------------------------
// make.ts

describe('the make.bash sandbox (make.ts)', () => {
  test('the build environment is made from scratch: only these variables', () => {
    const env = scrubbedEnvironment({ home: '/w/home', tmp: '/w/tmp', bootstrap: '/usr/lib/go-1.19', target: parseTarget('linux/arm'), extra: { GOARM: '6' } });
    assert.deepEqual(env, {
      HOME: '/w/home',
      TMPDIR: '/w/tmp',
      LANG: 'C',
      PATH: BUILD_PATH,
      SHELL: '/bin/sh',
      GOROOT_BOOTSTRAP: '/usr/lib/go-1.19',
      GOTOOLCHAIN: 'local',
      GOOS: 'linux',
      GOARCH: 'arm',
      GOARM: '6',
    });
    assert.deepEqual(Object.keys(scrubbedEnvironment({ home: 'h', tmp: 't', bootstrap: 'b' })).sort(), ['GOROOT_BOOTSTRAP', 'GOTOOLCHAIN', 'HOME', 'LANG', 'PATH', 'SHELL', 'TMPDIR']);
  });

  test('a signing or cosigner key in the environment stops a build; the build user is a fresh uid when root', () => {
    assert.doesNotThrow(() => assertNoKeyInEnvironment({ PATH: '/bin', GITHUB_TOKEN: 'x' }));
    for (const name of ['WITNESS_SIGNING_KEY', 'WITNESS_COSIGNER_KEY']) {
      assert.throws(() => assertNoKeyInEnvironment({ [name]: '' }), (error: unknown) => error instanceof WitnessError && error.code === 'KEY_IN_BUILD_ENVIRONMENT' && error.exitCode === 2 && !error.message.includes('PRIVATE'));
    }
    const user = buildUserFor(prepareSandbox({ noSandbox: true }));
    if (AS_ROOT) {
      assert.ok(user.uid !== undefined && user.uid >= 1_900_000_000 && user.gid === user.uid, `fresh uid: ${JSON.stringify(user)}`);
      assert.equal(user.name, `uid-${user.uid}`);
      assert.notEqual(buildUserFor(prepareSandbox({ noSandbox: true })).uid, user.uid, 'each build gets a uid of its own');
    } else assert.match(user.name, BUILD_USER);
  });

  test('exportTree writes a tree\'s files without .git, into an empty folder only', async () => {
    const repo = makeGoRepo({ releases: [{ version: 'go1.21.0' }] });
    const { tree } = repo.tags.get('go1.21.0')!;
    const dir = path.join(tempDir(), 'go');
    await exportTree(repo.dir, tree, dir);
    assert.equal(existsSync(path.join(dir, '.git')), false);
    assert.equal(readFileSync(path.join(dir, 'VERSION'), 'utf8').split('\n')[0], 'go1.21.0');
    assert.equal(readlinkSync(path.join(dir, 'misc/README.link')), '../README.md');
    assert.equal(statSync(path.join(dir, 'src/make.bash')).mode & 0o100, 0o100);
    await assert.rejects(exportTree(repo.dir, tree, dir), (error: unknown) => error instanceof WitnessError && error.code === 'WORK_NOT_EMPTY');
    await assert.rejects(exportTree(repo.dir, 'f'.repeat(40), path.join(tempDir(), 'go')), (error: unknown) => error instanceof WitnessError && error.code === 'EXPORT_FAILED');
  });

  test('exportTree writes every file of the tree, whatever the tree\'s .gitattributes says', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q');
    writeFileSync(path.join(repo, '.gitattributes'), 'hidden.go export-ignore\nsubst.go export-subst\n');
    writeFileSync(path.join(repo, 'hidden.go'), 'package hidden\n');
    writeFileSync(path.join(repo, 'subst.go'), 'package subst // $Format:%H$\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-qm', 'attributes');
    const dir = path.join(tempDir(), 'out');
    await exportTree(repo, git(repo, 'rev-parse', 'HEAD^{tree}').trim(), dir);
    assert.equal(readFileSync(path.join(dir, 'subst.go'), 'utf8'), 'package subst // $Format:%H$\n');
    assert.deepEqual(readdirSync(dir).sort(), ['.gitattributes', 'hidden.go', 'subst.go']);
  });
});

// ---------------------------------------------------------------------------------------------------
// End to end through the CLI.

describe('witness plan, build, ingest, bootstrap (end to end)', { concurrency: true }, () => {
  // -------------------------------------------------------------------------------------------------
  describe('a release from tag to signed build records', { concurrency: 1 }, () => {
    let s: Scenario;
    const out = tempDir('witness-build-out-');
    let amd64: string;
    let arm: string;

    before(async () => {
      s = await newScenario({ origin: 'example.com/build-log', seed: 23, viaCli: true });
    });

    test('plan lists the distpack releases (not go1.20.14) per target, oldest first; --limit, --all-ports', { timeout: 120_000 }, async () => {
      const [json, limited, allPorts, firstClass] = await Promise.all([
        witness(['plan', '--log', s.logDir, '--json', '--target', 'linux/amd64', '--target', 'linux/arm']),
        witness(['plan', '--log', s.logDir, '--target', 'linux/amd64', '--target', 'linux/arm', '--limit', '2']),
        witness(['plan', '--log', s.logDir, '--json', '--all-ports', s.repo.dir]),
        witness(['plan', '--log', s.logDir, '--json']),
      ]);
      expectCode(json, 0, 'plan --json');
      assert.deepEqual(JSON.parse(json.stdout), {
        include: ['go1.21.0', 'go1.21.1', 'go1.22.0'].flatMap((version) =>
          [['linux', 'amd64'], ['linux', 'arm']].map(([goos, goarch]) => ({ version, target: `${goos}/${goarch}`, goos, goarch })),
        ),
      });
      expectCode(limited, 0, 'plan --limit');
      assert.equal(limited.stdout, 'go1.21.0 linux/amd64\ngo1.21.0 linux/arm\n2 to build (4 more beyond --limit); 0 already built.\n');
      expectCode(allPorts, 0, 'plan --all-ports');
      const ports = (JSON.parse(allPorts.stdout) as { include: Array<{ version: string; target: string }> }).include;
      const base = ['darwin/amd64', 'darwin/arm64', 'freebsd/amd64', 'linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64', 'windows/386', 'windows/amd64'];
      assert.deepEqual(ports.filter((p) => p.version === 'go1.21.0').map((p) => p.target), base, 'cgoEnabled keys minus broken (linux/sparc64)');
      assert.deepEqual(ports.filter((p) => p.version === 'go1.22.0').map((p) => p.target), [...base, 'wasip1/wasm'].sort());
      expectCode(firstClass, 0, 'plan (first-class ports)');
      assert.equal((JSON.parse(firstClass.stdout) as { include: unknown[] }).include.length, 3 * FIRST_CLASS_TARGETS.length);
    });

    test('build go1.21.0 for linux/amd64 and linux/arm: content-addressed results, build logs, distpack files, source check equal', { timeout: 120_000 }, async () => {
      const run = await witness(buildArgs(s, 'go1.21.0', out, { targets: ['linux/amd64', 'linux/arm'] }));
      expectCode(run, 0, 'build');
      const builds = parseBuilds(run);
      assert.deepEqual(builds.map((b) => [b.target, b.outcome]), [['linux/amd64', 'built'], ['linux/arm', 'built']]);
      [amd64, arm] = builds.map((b) => b.resultFile) as [string, string];
      const tag = s.repo.tags.get('go1.21.0')!;
      for (const build of builds) {
        const platform = build.target.replace('/', '-');
        const bytes = readFileSync(build.resultFile);
        assert.equal(path.dirname(build.resultFile), out);
        assert.equal(path.basename(build.resultFile), `go1.21.0.${platform}.${createHash('sha256').update(bytes).digest('hex')}.build.json`);
        const result = builtResult(build.resultFile);
        assert.equal(result.version, 'go1.21.0');
        assert.equal(result.target, build.target);
        assert.deepEqual(result.env, {}, 'go1.21.0 linux/arm was built with the default GOARM');
        assert.deepEqual(
          { ...result.tag, logIndex: undefined },
          { ref: 'refs/tags/go1.21.0', commit: tag.commit, tree: tag.tree, logIndex: undefined, logOrigin: s.origin },
        );
        assert.match(result.tag.logIndex, /^[0-9]+$/);
        assert.equal(result.bootstrap.length, 1);
        assert.equal(result.bootstrap[0]!.version, 'go1.19.8');
        assert.match(result.bootstrap[0]!.hash, /^h1:[A-Za-z0-9+/]{43}=$/);
        const { user, ...builder } = result.builder;
        assert.deepEqual(builder, { name: 'go-source-witness', version: WITNESS_VERSION, node: process.version, platform: `${process.platform}/${process.arch}` });
        assert.match(user, BUILD_USER);
        assert.match(result.sandbox ?? '', /^bubblewrap [0-9.]+: user mount pid net ipc uts cgroup namespaces/);
        assert.deepEqual(result.sourceCheck, { equal: true, files: 11, problems: [] });
        // The build log, named by its content, beside the result.
        const logFile = path.join(out, result.log.name);
        assert.equal(result.log.name, `go1.21.0.${platform}.${sha256File(logFile)}.log`);
        assert.equal(result.log.size, statSync(logFile).size);
        const log = readFileSync(logFile, 'utf8');
        assert.match(log, /^Building Go cmd\/dist using .*go-1\.19\.8\. \(go1\.19\.8 linux\/amd64\)$/m);
        assert.ok(log.includes(`fixture: environment ${expectedEnvironmentNames()} \n`), 'make.bash saw only the scrubbed environment');
        assert.ok(log.includes(`fixture: target ${build.target} GOARM=\n`));
        if (AS_ROOT) assert.ok(log.includes(`fixture: id uid=${user.slice(4)} gid=${user.slice(4)} groups=`), 'make.bash ran as its fresh uid');
        assert.match(log, /^witness: source check of go1\.21\.0\.src\.tar\.gz against tree [0-9a-f]{40}: SAME \(11 files\)$/m);
        assert.ok(log.includes(`${result.goSum[0]}\n${result.goSum[1]}\n`));
        // The distpack files, moved out of the work folder, hash to what the result says.
        assert.equal(build.distpackDir, path.join(out, `go1.21.0.${platform}.${result.log.sha256.slice(0, 16)}.distpack`));
        const hashes = await hashDistpack(build.distpackDir!);
        assert.deepEqual(hashes.files, result.files);
        assert.deepEqual(hashes.goSum, result.goSum);
        assert.deepEqual(result.files.map((f) => f.name), [`go1.21.0.${platform}.tar.gz`, 'go1.21.0.src.tar.gz', `v0.0.1-go1.21.0.${platform}.info`, `v0.0.1-go1.21.0.${platform}.mod`, `v0.0.1-go1.21.0.${platform}.zip`]);
        assert.equal(result.goSum[1], `golang.org/toolchain v0.0.1-go1.21.0.${platform}/go.mod ${TOOLCHAIN_MOD_H1}`);
      }
      const [a, b] = [builtResult(amd64), builtResult(arm)];
      assert.equal(a.files[1]!.sha256, b.files[1]!.sha256, 'one source tarball for every target');
      assert.notEqual(a.goSum[0].split(' ')[2], b.goSum[0].split(' ')[2], 'targets differ');
      // Nothing of the work folder is left behind; the out folder holds results, logs and distpack folders.
      assert.deepEqual(readdirSync(out).filter((name) => name.startsWith('.')), []);
    });

    test('ingest --offline appends unchecked build records with their build logs; verify passes; builds.txt lists them', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const run = await witness(ingestArgs(s, [amd64, arm], '--offline', '--json'));
      expectCode(run, 0, 'ingest --offline');
      const report = JSON.parse(run.stdout) as IngestJson;
      assert.deepEqual(report.conflicts, []);
      // Agreeing with our own builds (linux/arm's source tarball with linux/amd64's) is not "equal".
      assert.deepEqual(report.builds.map((b) => b.status), ['unchecked', 'unchecked']);
      assert.deepEqual(report.appended && [report.appended.oldSize, report.appended.newSize], [String(before.size), String(before.size + 2n)]);
      for (const [i, b] of report.builds.entries()) {
        const platform = b.record.target.replace('/', '-');
        assert.deepEqual(b.record.verdicts.map((v) => [v.file, v.status, v.source, v.source === 'log' ? v.detail : '']), [
          [`v0.0.1-go1.21.0.${platform}.zip`, 'unchecked', 'sumdb', ''],
          [`v0.0.1-go1.21.0.${platform}.mod`, 'unchecked', 'sumdb', ''],
          ['go1.21.0.src.tar.gz', 'unchecked', 'go.dev', ''],
          [`go1.21.0.${platform}.tar.gz`, 'unchecked', 'go.dev', ''],
          // The source tarball does not depend on the target: linux/arm's is compared with linux/amd64's.
          ...(i === 1 ? [['go1.21.0.src.tar.gz', 'equal', 'log', `build record ${before.size} (linux/amd64)`]] : []),
        ]);
        assert.match(b.record.verdicts[0]!.detail, /offline/);
        assert.equal(b.record.verdicts[2]!.detail, 'no published listing given');
        assert.deepEqual(b.record.evidence, []);
      }
      const records = await buildRecords(s.logDir);
      assert.equal(records.length, 2);
      for (const [i, file] of [amd64, arm].entries()) {
        const { index, build, text } = records[i]!;
        const result = builtResult(file);
        assert.equal(build.result, sha256File(file));
        assert.deepEqual(build.goSum, result.goSum);
        assert.deepEqual(build.files, result.files);
        assert.deepEqual(build.bootstrap, result.bootstrap);
        assert.equal(build.tagIndex, BigInt(result.tag.logIndex));
        assert.equal(build.builder, `go-source-witness/${WITNESS_VERSION} node/${process.version} ${process.platform}/${process.arch}`);
        assert.match(text, /^go-source-witness build\/v1\nversion go1\.21\.0\n/);
        // The build log is in the log folder, named by its hash.
        assert.equal(readFileSync(path.join(s.logDir, 'build-logs', `${result.log.sha256}.log`), 'utf8'), buildLogText(file));
        assert.equal(buildsTxt(s.logDir)[i], `${index} go1.21.0 ${result.target} unchecked ${result.goSum[0].split(' ')[2]}`);
      }
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify');
      assert.equal(git(s.logDir, 'status', '--porcelain'), '');
    });

    test('plan no longer lists go1.21.0', { timeout: 120_000 }, async () => {
      const run = await witness(['plan', '--log', s.logDir, '--target', 'linux/amd64', '--target', 'linux/arm']);
      expectCode(run, 0, 'plan');
      assert.equal(run.stdout, 'go1.21.1 linux/amd64\ngo1.21.1 linux/arm\ngo1.22.0 linux/amd64\ngo1.22.0 linux/arm\n4 to build; 2 already built.\n');
    });

    test('ingesting the same results again appends nothing: already recorded', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const run = await witness(ingestArgs(s, [amd64, arm], '--offline'));
      expectCode(run, 0, 'ingest again');
      assert.match(run.stdout, /^go1\.21\.0 linux\/amd64: UNCHECKED \(already recorded at log index [0-9]+\)$/m);
      assert.match(run.stdout, /^go1\.21\.0 linux\/arm: UNCHECKED \(already recorded at log index [0-9]+\)$/m);
      assert.match(run.stdout, /^Nothing new to append\.$/m);
      assert.deepEqual(await logState(s.logDir), before);
    });

    test('tampered results and build logs are refused, and the log is unchanged', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const result = builtResult(amd64);
      const digest = result.files[0]!.sha256;
      const forged = 'f'.repeat(64);
      // (a) a file hash edited, the name kept: the content address no longer matches.
      const keptName = copyResult(amd64);
      writeFileSync(keptName, readFileSync(keptName, 'utf8').replace(digest, forged));
      // (b) a reformatted result, renamed to its new hash: not canonical.
      const reformatted = copyResult(amd64);
      const reformattedBytes = Buffer.from(JSON.stringify(JSON.parse(readFileSync(reformatted, 'utf8'))));
      const reformattedName = path.join(path.dirname(reformatted), `go1.21.0.linux-amd64.${createHash('sha256').update(reformattedBytes).digest('hex')}.build.json`);
      writeFileSync(reformattedName, reformattedBytes);
      // (c) the build log modified (same size).
      const logModified = copyResult(amd64);
      const logFile = path.join(path.dirname(logModified), result.log.name);
      const logText = readFileSync(logFile, 'utf8');
      writeFileSync(logFile, logText.replace('SAME', 'SAMF'));
      // (d) the build log missing.
      const logMissing = copyResult(amd64);
      renameSync(path.join(path.dirname(logMissing), result.log.name), path.join(path.dirname(logMissing), 'elsewhere.log'));
      // (e) a result of another log (same files, another origin).
      const otherKey = testSignerKey('example.com/other-log', 29);
      const otherLog = path.join(tempDir(), 'log');
      await WitnessLog.init(otherLog, otherKey.signerKey);
      const [a, b, c, d, e] = await Promise.all([
        witness(ingestArgs(s, [keptName], '--offline')),
        witness(ingestArgs(s, [reformattedName], '--offline')),
        witness(ingestArgs(s, [logModified], '--offline')),
        witness(ingestArgs(s, [logMissing], '--offline')),
        witness(['ingest', amd64, '--log', otherLog, '--key', writeKeyFile(otherKey.skey), '--offline']),
      ]);
      expectCode(a, 1, 'altered result');
      assert.match(a.stderr, /content does not match the SHA-256 in its file name \(altered\) \[BAD_BUILD_RESULT\]/);
      expectCode(b, 1, 'reformatted result');
      assert.match(b.stderr, /not in canonical form .* \[BAD_BUILD_RESULT\]/);
      expectCode(c, 1, 'modified build log');
      assert.match(c.stderr, /\[BUILD_LOG_MODIFIED\]/);
      expectCode(d, 2, 'missing build log');
      assert.match(d.stderr, /\[BUILD_LOG_MISSING\]/);
      expectCode(e, 1, 'result of another log');
      assert.match(e.stderr, /built against log example\.com\/build-log, not example\.com\/other-log \[RESULT_WRONG_LOG\]/);
      assert.deepEqual(await logState(s.logDir), before);
      assert.equal((await logState(otherLog)).size, 0n);
    });

    test('a result whose hashes were altered and that was renamed to its new content address is refused', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const result = builtResult(amd64);
      const renamed = copyResult(amd64);
      const bytes = Buffer.from(readFileSync(renamed, 'utf8').replace(result.files[0]!.sha256, 'f'.repeat(64)));
      const name = path.join(path.dirname(renamed), `go1.21.0.linux-amd64.${createHash('sha256').update(bytes).digest('hex')}.build.json`);
      writeFileSync(name, bytes);
      const run = await witness(ingestArgs(s, [name], '--offline', '--dry-run'));
      // Refused as a result, not merely found to differ from the genuine build in the log (exit 1 too).
      assert.match(run.stderr, /^witness: FAILED: .* \[[A-Z_]+\]$/m, `a forged result was accepted: ${describeRun(run)}`);
      assert.deepEqual(await logState(s.logDir), before);
    });

    test('ingest with a checksum database: equal when it holds our h1; a module it lacks stays unchecked', { timeout: 120_000 }, async () => {
      const result = builtResult(amd64);
      const sumdb = new SumdbTestLog({ keyName: 'sumdb.test.example' });
      for (let i = 0; i < 5; i++) sumdb.append(syntheticGoSumRecord(i));
      const id = sumdb.append(`${result.goSum[0]}\n${result.goSum[1]}\n`);
      sumdb.append(syntheticGoSumRecord(5));
      const server = await startSumdbServer(sumdb);
      try {
        const before = await logState(s.logDir);
        const run = await witness(ingestArgs(s, [amd64, arm], '--sumdb-url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--json'));
        expectCode(run, 0, 'ingest with sumdb');
        const report = JSON.parse(run.stdout) as IngestJson;
        const [a, b] = report.builds as [IngestJson['builds'][0], IngestJson['builds'][0]];
        assert.equal(a.status, 'equal');
        const sumdbVerdicts = (build: typeof a) => build.record.verdicts.filter((v) => v.source === 'sumdb').map((v) => [v.file, v.status, v.detail]);
        // The verdict names the record, the tree size and the root it was proven in.
        const proven = `record ${id} in tree 7 ${encodeBase64(sumdb.rootHash())}`;
        assert.deepEqual(sumdbVerdicts(a), [
          ['v0.0.1-go1.21.0.linux-amd64.zip', 'equal', `${proven}: ${result.goSum[0].split(' ')[2]}`],
          ['v0.0.1-go1.21.0.linux-amd64.mod', 'equal', `${proven}: ${TOOLCHAIN_MOD_H1}`],
        ]);
        assert.equal(a.record.evidence.length, 1);
        assert.match(a.record.evidence[0]!.detail, new RegExp(`^${server.url.replace(/[.]/g, '\\.')} record ${id} in tree 7 [A-Za-z0-9+/]{43}=$`));
        // linux/arm is not in this database: unchecked, with the reason.
        for (const [, status, detail] of sumdbVerdicts(b)) {
          assert.equal(status, 'unchecked');
          assert.match(detail ?? '', /^lookup failed \(/);
        }
        assert.notEqual(b.status, 'unequal');
        // New comparisons are new records about the same results.
        assert.equal((await logState(s.logDir)).size, before.size + 2n);
        const records = await buildRecords(s.logDir);
        assert.equal(records.at(-2)!.build.result, sha256File(amd64));
        assert.match(records.at(-2)!.text, new RegExp(`\nverdict v0\\.0\\.1-go1\\.21\\.0\\.linux-amd64\\.zip equal sumdb record ${id} in tree 7 [A-Za-z0-9+/]{43}=: h1:`));
      } finally {
        await server.close();
      }
    });

    test('ingest with a checksum database holding another h1: unequal, exit 1, recorded all the same', { timeout: 120_000 }, async () => {
      const result = builtResult(amd64);
      const sumdb = new SumdbTestLog({ keyName: 'sumdb.test.example' });
      const theirs = h1(0x5a);
      sumdb.append(`golang.org/toolchain v0.0.1-go1.21.0.linux-amd64 ${theirs}\n${result.goSum[1]}\n`);
      const server = await startSumdbServer(sumdb);
      try {
        const before = await logState(s.logDir);
        const run = await witness(ingestArgs(s, [amd64], '--sumdb-url', server.url, '--sumdb-vkey', sumdb.verifierKey));
        expectCode(run, 1, 'ingest with a disagreeing sumdb');
        assert.match(run.stdout, /^go1\.21\.0 linux\/amd64: UNEQUAL \(log index [0-9]+\)$/m);
        assert.ok(run.stdout.includes(`sumdb unequal: record 0 in tree 1 ${encodeBase64(sumdb.rootHash())}: expected ${theirs}, built ${result.goSum[0].split(' ')[2]}`), run.stdout);
        assert.equal((await logState(s.logDir)).size, before.size + 1n);
        assert.match(buildsTxt(s.logDir).at(-1)!, new RegExp(`^${before.size} go1\\.21\\.0 linux/amd64 unequal h1:`));
        // A database signed by another key is not evidence at all.
        const wrongKey = new SumdbTestLog({ keyName: 'sumdb.test.example' }).verifierKey;
        const unverified = await witness(ingestArgs(s, [amd64], '--sumdb-url', server.url, '--sumdb-vkey', wrongKey, '--json', '--dry-run'));
        expectCode(unverified, 0, 'ingest with the wrong sumdb key (dry run)');
        const zip = (JSON.parse(unverified.stdout) as IngestJson).builds[0]!.record.verdicts.find((v) => v.source === 'sumdb')!;
        assert.equal(zip.status, 'unchecked');
        assert.match(zip.detail, /^lookup failed/);
      } finally {
        await server.close();
      }
    });

    test('build go1.21.1 for linux/arm (GOARM=6); ingest --published compares with go.dev\'s linux-armv6l archive', { timeout: 120_000 }, async () => {
      const run = await witness(buildArgs(s, 'go1.21.1', out, { targets: ['linux/arm'] }));
      expectCode(run, 0, 'build go1.21.1 linux/arm');
      const file = parseBuilds(run)[0]!.resultFile;
      const result = builtResult(file);
      assert.deepEqual(result.env, { GOARM: '6' });
      assert.ok(buildLogText(file).includes('fixture: target linux/arm GOARM=6\n'));
      assert.ok(buildLogText(file).includes(`fixture: environment ${expectedEnvironmentNames(['GOARM'])} \n`));
      assert.notEqual(s.repo.tags.get('go1.21.1')!.object, s.repo.tags.get('go1.21.1')!.commit, 'go1.21.1 is an annotated tag');
      assert.equal(result.tag.commit, s.repo.tags.get('go1.21.1')!.commit);
      const src = result.files.find((f) => f.name === 'go1.21.1.src.tar.gz')!;
      const archive = result.files.find((f) => f.name === 'go1.21.1.linux-arm.tar.gz')!;
      const listing = (archiveSha: string) => [
        { version: 'go1.21.1', stable: true, files: [
          { filename: 'go1.21.1.src.tar.gz', os: '', arch: '', version: 'go1.21.1', sha256: src.sha256, size: src.size, kind: 'source' },
          { filename: 'go1.21.1.linux-armv6l.tar.gz', os: 'linux', arch: 'armv6l', version: 'go1.21.1', sha256: archiveSha, size: archive.size, kind: 'archive' },
          { filename: 'go1.21.1.linux-arm64.tar.gz', os: 'linux', arch: 'arm64', version: 'go1.21.1', sha256: SHA_C, size: 1, kind: 'archive' },
        ] },
        { version: 'go1.21.0', stable: true, files: [] },
      ];
      const dir = tempDir('witness-listing-');
      const good = path.join(dir, 'good.json');
      const bad = path.join(dir, 'bad.json');
      writeFileSync(good, JSON.stringify(listing(archive.sha256)));
      writeFileSync(bad, JSON.stringify(listing(SHA_D)));
      const equal = await witness(ingestArgs(s, [file], '--offline', '--published', good, '--json'));
      expectCode(equal, 0, 'ingest with a matching listing');
      const record = (JSON.parse(equal.stdout) as IngestJson).builds[0]!;
      assert.equal(record.status, 'equal');
      assert.deepEqual(record.record.env, ['GOARM=6']);
      assert.deepEqual(
        record.record.verdicts.filter((v) => v.source === 'go.dev'),
        [
          { file: 'go1.21.1.src.tar.gz', status: 'equal', source: 'go.dev', detail: `go1.21.1.src.tar.gz sha256:${src.sha256}` },
          { file: 'go1.21.1.linux-arm.tar.gz', status: 'equal', source: 'go.dev', detail: `go1.21.1.linux-armv6l.tar.gz sha256:${archive.sha256}` },
        ],
      );
      assert.deepEqual(record.record.evidence, [{ source: 'go.dev', detail: `${good} sha256:${sha256File(good)}` }]);
      const unequal = await witness(ingestArgs(s, [file], '--offline', '--published', bad, '--json'));
      expectCode(unequal, 1, 'ingest with a disagreeing listing');
      const verdicts = (JSON.parse(unequal.stdout) as IngestJson).builds[0]!.record.verdicts.filter((v) => v.source === 'go.dev');
      assert.deepEqual(verdicts.map((v) => [v.file, v.status]), [['go1.21.1.src.tar.gz', 'equal'], ['go1.21.1.linux-arm.tar.gz', 'unequal']]);
      assert.equal(verdicts[1]!.detail, `go1.21.1.linux-armv6l.tar.gz expected sha256:${SHA_D}, built ${archive.sha256}`);
      const lines = buildsTxt(s.logDir);
      assert.match(lines.at(-2)!, /^[0-9]+ go1\.21\.1 linux\/arm GOARM=6 equal h1:/);
      assert.match(lines.at(-1)!, /^[0-9]+ go1\.21\.1 linux\/arm GOARM=6 unequal h1:/);
      // A listing that is not go.dev's format is refused before anything is compared.
      writeFileSync(path.join(dir, 'junk.json'), '{"files": []}');
      const junk = await witness(ingestArgs(s, [file], '--offline', '--published', path.join(dir, 'junk.json')));
      expectCode(junk, 1, 'a malformed listing');
      assert.match(junk.stderr, /\[BAD_PUBLISHED_LISTING\]/);
    });

    test('refused before building: go1.20.14 (no distpack), a signing or cosigner key in the environment', { timeout: 120_000 }, async () => {
      const refusedOut = tempDir('witness-refused-');
      const [old, signing, cosigner, junk] = await Promise.all([
        witness(buildArgs(s, 'go1.20.14', refusedOut)),
        witness(buildArgs(s, 'go1.21.1', refusedOut), cleanEnv({ WITNESS_SIGNING_KEY: testSignerKey('example.com/build-log', 23).skey })),
        witness(buildArgs(s, 'go1.21.1', refusedOut), cleanEnv({ WITNESS_COSIGNER_KEY: 'anything' })),
        witness(buildArgs(s, 'go1.21', refusedOut)),
      ]);
      expectCode(old, 2, 'go1.20.14');
      assert.match(old.stderr, /not reproducible by distpack \[NOT_REPRODUCIBLE_VERSION\]/);
      expectCode(signing, 2, 'WITNESS_SIGNING_KEY set');
      assert.match(signing.stderr, /WITNESS_SIGNING_KEY is set: .* \[KEY_IN_BUILD_ENVIRONMENT\]/);
      assert.doesNotMatch(signing.stderr + signing.stdout, /PRIVATE/);
      expectCode(cosigner, 2, 'WITNESS_COSIGNER_KEY set');
      assert.match(cosigner.stderr, /\[KEY_IN_BUILD_ENVIRONMENT\]/);
      expectCode(junk, 2, 'go1.21');
      assert.match(junk.stderr, /\[BAD_VERSION\]/);
      assert.deepEqual(readdirSync(refusedOut), []);
    });

    test('the log verifies at the end, and builds.txt has one line per build record', { timeout: 120_000 }, async () => {
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify');
      const records = await buildRecords(s.logDir);
      assert.deepEqual(buildsTxt(s.logDir).map((line) => line.split(' ')[0]), records.map((r) => String(r.index)));
    });
  });

  // -------------------------------------------------------------------------------------------------
  describe('builds that fail, differ, move, or attack', { concurrency: 1 }, () => {
    let s: Scenario;
    let world: string;
    let decoy: string;
    const DECOY_SECRET = `decoy-secret-${createHash('sha256').update(String(Math.random())).digest('hex').slice(0, 24)}`;
    const ENV_SECRETS = {
      GITHUB_TOKEN: `ghs_${createHash('sha256').update(`t${Math.random()}`).digest('hex').slice(0, 36)}`,
      AWS_SECRET_ACCESS_KEY: `aws-${createHash('sha256').update(`a${Math.random()}`).digest('hex').slice(0, 40)}`,
      DEPLOY_PASSWORD: `pw-${createHash('sha256').update(`p${Math.random()}`).digest('hex').slice(0, 20)}`,
    };
    const KEY = testSignerKey('example.com/special-log', 31);
    const keyMaterial = KEY.skey.split('+').at(-1)!;

    before(async () => {
      world = worldTempDir('witness-special-');
      s = await newScenario({
        origin: 'example.com/special-log',
        seed: 31,
        world,
        repo: ({ keyFile, logDir }) => {
          decoy = path.join(path.dirname(keyFile), 'decoy-secret.txt');
          writeFileSync(decoy, `${DECOY_SECRET}\n`, { mode: 0o600 });
          chmodSync(decoy, 0o600);
          return makeGoRepo({
            releases: [
              { version: 'go1.21.0', mode: 'random' },
              { version: 'go1.21.1', mode: 'fail' },
              { version: 'go1.21.2', mode: 'empty' },
              { version: 'go1.21.3', mode: 'hostile' },
              { version: 'go1.21.4', mode: 'badsource' },
              { version: 'go1.21.5', mode: 'symlink' },
              { version: 'go1.21.6', mode: 'ok', annotated: true },
              { version: 'go1.21.7', mode: 'daemon' },
              { version: 'go1.21.8', mode: 'garbled' },
              { version: 'go1.21.10', mode: 'handshake' },
            ],
            hostile: { paths: [keyFile, logDir, path.dirname(keyFile)], linkTarget: decoy },
          });
        },
      });
    });

    test('a nondeterministic make.bash: two builds differ, and ingesting both is a REPRODUCIBILITY FAILURE (exit 1)', { timeout: 120_000 }, async () => {
      const [out1, out2] = [tempDir('witness-r1-'), tempDir('witness-r2-')];
      const [first, second] = await Promise.all([witness(buildArgs(s, 'go1.21.0', out1)), witness(buildArgs(s, 'go1.21.0', out2))]);
      expectCode(first, 0, 'first build');
      expectCode(second, 0, 'second build');
      const [f1, f2] = [parseBuilds(first)[0]!.resultFile, parseBuilds(second)[0]!.resultFile];
      const [r1, r2] = [builtResult(f1), builtResult(f2)];
      const differ = r1.files.filter((f, i) => f.sha256 !== r2.files[i]!.sha256).map((f) => f.name);
      assert.deepEqual(differ, ['go1.21.0.linux-amd64.tar.gz', 'v0.0.1-go1.21.0.linux-amd64.zip']);
      const before = await logState(s.logDir);
      const run = await witness(ingestArgs(s, [f1, f2], '--offline'));
      expectCode(run, 1, 'ingest of two differing builds');
      const conflicts = run.stdout.split('\n').filter((line) => line.startsWith('REPRODUCIBILITY FAILURE: '));
      assert.equal(conflicts.length, 2, run.stdout);
      assert.match(conflicts[0]!, new RegExp(`^REPRODUCIBILITY FAILURE: go1\\.21\\.0 linux/amd64: go1\\.21\\.0\\.linux-amd64\\.tar\\.gz differs from build record ${before.size} \\(sha256 ${r1.files[0]!.sha256}, now ${r2.files[0]!.sha256}\\)$`));
      assert.match(conflicts[1]!, /v0\.0\.1-go1\.21\.0\.linux-amd64\.zip differs from build record/);
      assert.equal((await logState(s.logDir)).size, before.size + 2n, 'both are recorded');
      const records = await buildRecords(s.logDir);
      const second_ = records.at(-1)!.build;
      assert.deepEqual(
        second_.verdicts.filter((v) => v.source === 'log').map((v) => [v.file, v.status]),
        r2.files.map((f) => [f.name, differ.includes(f.name) ? 'unequal' : 'equal']),
      );
      assert.deepEqual(buildsTxt(s.logDir).slice(-2).map((line) => line.split(' ')[3]), ['unchecked', 'unequal']);
    });

    test('make.bash failing, or writing no distpack files: exit 1, a failed result; ingest records it; plan retries it only with --retry-failed', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-fail-');
      const [fail, empty] = await Promise.all([witness(buildArgs(s, 'go1.21.1', out)), witness(buildArgs(s, 'go1.21.2', out))]);
      expectCode(fail, 1, 'failing make.bash');
      expectCode(empty, 1, 'make.bash writing nothing');
      const failed = readResult(parseBuilds(fail)[0]!.resultFile);
      assert.ok(failed.outcome === 'failed');
      assert.equal(failed.failure.phase, 'make-bash');
      assert.match(failed.failure.reason, /^make\.bash exited with status 2: .*internal compiler error: failing on purpose$/);
      assert.ok(buildLogText(parseBuilds(fail)[0]!.resultFile).includes('internal compiler error: failing on purpose'));
      assert.equal(parseBuilds(fail)[0]!.distpackDir, undefined);
      const nothing = readResult(parseBuilds(empty)[0]!.resultFile);
      assert.ok(nothing.outcome === 'failed');
      assert.equal(nothing.failure.phase, 'distpack');
      assert.equal(nothing.failure.reason, 'make.bash -distpack succeeded but did not write go1.21.2.src.tar.gz, go1.21.2.linux-amd64.tar.gz, v0.0.1-go1.21.2.linux-amd64.zip, v0.0.1-go1.21.2.linux-amd64.mod, v0.0.1-go1.21.2.linux-amd64.info');
      const text = await witness(['build', 'go1.21.1', '--log', s.logDir, '--go-repo', s.repo.dir, '--bootstrap', s.root, '--out', out]);
      expectCode(text, 1, 'failing make.bash (text output)');
      assert.match(text.stdout, /linux\/amd64 +FAILED in [0-9.]+ (ms|s) \(make\.bash [0-9.]+ (ms|s)\)/);

      const ingest = await witness(ingestArgs(s, [parseBuilds(fail)[0]!.resultFile, parseBuilds(empty)[0]!.resultFile], '--offline'));
      expectCode(ingest, 0, 'ingest of failed builds');
      assert.match(ingest.stdout, /^go1\.21\.1 linux\/amd64: FAILED \(log index [0-9]+\)\n {4}build failed: make-bash: make\.bash exited with status 2: /m);
      const records = await buildRecords(s.logDir);
      assert.deepEqual(records.slice(-2).map((r) => [r.build.outcome, r.build.verdicts.length, r.build.files]), [['failed', 0, undefined], ['failed', 0, undefined]]);
      assert.match(buildsTxt(s.logDir).at(-2)!, /^[0-9]+ go1\.21\.1 linux\/amd64 failed failed:make-bash$/);
      assert.match(buildsTxt(s.logDir).at(-1)!, /^[0-9]+ go1\.21\.2 linux\/amd64 failed failed:distpack$/);
      const [plan, retry] = await Promise.all([
        witness(['plan', '--log', s.logDir, '--target', 'linux/amd64']),
        witness(['plan', '--log', s.logDir, '--target', 'linux/amd64', '--retry-failed']),
      ]);
      expectCode(plan, 0, 'plan');
      expectCode(retry, 0, 'plan --retry-failed');
      const planned = (r: CliResult) => r.stdout.split('\n').filter((line) => / linux\/amd64$/.test(line)).map((line) => line.split(' ')[0]);
      assert.deepEqual(planned(plan).filter((v) => ['go1.21.0', 'go1.21.1', 'go1.21.2'].includes(v!)), []);
      assert.deepEqual(planned(retry).filter((v) => ['go1.21.0', 'go1.21.1', 'go1.21.2'].includes(v!)), ['go1.21.1', 'go1.21.2']);
    });

    test('make.bash failing with control characters in its last lines still gives a failed result', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-garbled-');
      const run = await witness(buildArgs(s, 'go1.21.8', out));
      expectCode(run, 1, 'garbled failing make.bash');
      const result = readResult(parseBuilds(run)[0]!.resultFile);
      assert.ok(result.outcome === 'failed');
      assert.match(result.failure.reason, /^make\.bash exited with status 2: .*unrecognized option/);
    });

    test('a source tarball that differs from the git tree: built, but the source check fails and ingest says unequal (exit 1)', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-badsource-');
      const run = await witness(buildArgs(s, 'go1.21.4', out));
      expectCode(run, 0, 'build with a bad source tarball');
      const file = parseBuilds(run)[0]!.resultFile;
      const result = builtResult(file);
      assert.equal(result.sourceCheck.equal, false);
      assert.deepEqual(result.sourceCheck.problems, ['README.md: mode 755, but cmd/distpack gives 644 (git has 100644)', 'NOT-IN-GIT.txt: only in the tarball']);
      assert.match(buildLogText(file), /^witness: source check of go1\.21\.4\.src\.tar\.gz against tree [0-9a-f]{40}: DIFFERENT \(12 files\)$/m);
      const ingest = await witness(ingestArgs(s, [file], '--offline'));
      expectCode(ingest, 1, 'ingest of a build whose source check failed');
      assert.match(ingest.stdout, /^go1\.21\.4 linux\/amd64: UNEQUAL \(log index [0-9]+\)\n {4}source check: DIFFERS from the git tree \(2 problems\) \(12 files\)$/m);
      assert.match(buildsTxt(s.logDir).at(-1)!, /^[0-9]+ go1\.21\.4 linux\/amd64 unequal h1:/);
    });

    test('a tag moved after it was recorded: build refuses (TAG_MISMATCH); after witness tags records the move, an older result is refused (RESULT_TAG_MOVED)', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-moved-');
      const early = await witness(buildArgs(s, 'go1.21.6', out));
      expectCode(early, 0, 'build before the move');
      const earlyResult = parseBuilds(early)[0]!.resultFile;
      const recorded = s.repo.tags.get('go1.21.6')!;
      assert.notEqual(recorded.object, recorded.commit, 'go1.21.6 is annotated');
      moveTag(s.repo, 'go1.21.6');
      const moved = await witness(buildArgs(s, 'go1.21.6', tempDir('witness-moved2-')));
      expectCode(moved, 1, 'build of a moved tag');
      assert.match(moved.stderr, /refs\/tags\/go1\.21\.6 in .* is [0-9a-f]{40} \(commit [0-9a-f]{40}, tree [0-9a-f]{40}\), but the witness log \(index [0-9]+, .*\) records .*: refusing to build a tag that differs from the log \[TAG_MISMATCH\]/);
      const before = await logState(s.logDir);
      expectCode(await witness(['tags', '--log', s.logDir, '--go-repo', s.repo.dir, '--key', s.keyFile]), 1, 'witness tags (a tag moved)');
      const afterTags = await logState(s.logDir);
      assert.equal(afterTags.size, before.size + 1n);
      const ingest = await witness(ingestArgs(s, [earlyResult], '--offline'));
      expectCode(ingest, 1, 'ingest of a result built before the move');
      assert.match(ingest.stderr, /refs\/tags\/go1\.21\.6 has moved \(log index [0-9]+\) since this build; rebuild it \[RESULT_TAG_MOVED\]/);
      assert.deepEqual(await logState(s.logDir), afterTags);
      // Now the log and the repository agree again: the moved tag builds.
      const rebuilt = await witness(buildArgs(s, 'go1.21.6', tempDir('witness-moved3-')));
      expectCode(rebuilt, 0, 'build of the moved tag once recorded');
      assert.equal(builtResult(parseBuilds(rebuilt)[0]!.resultFile).tag.commit, s.repo.tags.get('go1.21.6')!.commit);
    });

    test('a tag moved in the repository while make.bash runs: the source check is still against the tree that was checked and built', { timeout: 120_000 }, async () => {
      const recorded = s.repo.tags.get('go1.21.10')!;
      const out = tempDir('witness-race-');
      const work = worldTempDir('witness-race-work-');
      const running = witness(buildArgs(s, 'go1.21.10', out, { work }));
      const started = Date.now();
      const home = () => readdirSync(work).map((name) => path.join(work, name, 'home')).find((dir) => existsSync(path.join(dir, 'handshake-started')));
      while (!home()) {
        if (Date.now() - started > 60_000) throw new Error('make.bash did not start');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      moveTag(s.repo, 'go1.21.10');
      writeFileSync(path.join(home()!, 'handshake-go'), '');
      const run = await running;
      expectCode(run, 0, 'build while the tag moved');
      const result = builtResult(parseBuilds(run)[0]!.resultFile);
      assert.deepEqual([result.tag.commit, result.tag.tree], [recorded.commit, recorded.tree]);
      assert.deepEqual(result.sourceCheck.problems, []);
      assert.match(buildLogText(parseBuilds(run)[0]!.resultFile), new RegExp(`^witness: source check of go1\\.21\\.10\\.src\\.tar\\.gz against tree ${recorded.tree}: SAME`, 'm'));
    });

    test('a tag that is not in the log: exit 2 (TAG_NOT_IN_LOG); nothing built', { timeout: 120_000 }, async () => {
      addRelease(s.repo, { version: 'go1.21.9' });
      const out = tempDir('witness-unrecorded-');
      const run = await witness(buildArgs(s, 'go1.21.9', out));
      expectCode(run, 2, 'build of an unrecorded tag');
      assert.match(run.stderr, /the witness log has no record of refs\/tags\/go1\.21\.9: record the repository's tags first .* \[TAG_NOT_IN_LOG\]/);
      assert.deepEqual(readdirSync(out), []);
    });

    test('a hostile make.bash finds no secret: not the key file, not the log, not the caller\'s environment; it runs in the sandbox, as a fresh uid when the witness is root', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-hostile-');
      const run = await witness(buildArgs(s, 'go1.21.3', out), cleanEnv(ENV_SECRETS));
      assert.equal(run.code, 0, `hostile build: exit ${run.code}`); // its output is not printed: it may hold what it found
      const file = parseBuilds(run)[0]!.resultFile;
      const result = builtResult(file);
      const leak = readFileSync(path.join(parseBuilds(run)[0]!.distpackDir!, 'LEAK'), 'utf8');
      assert.ok(leak.includes('--- processes') && leak.includes(`path ${s.keyFile}:`), 'the hostile make.bash ran');
      // Its own environment is the scrubbed one, whoever the witness runs as.
      const environment = leak.slice(leak.indexOf('--- environment'), leak.indexOf('--- key-like variables'));
      for (const [name, value] of Object.entries(ENV_SECRETS)) {
        assert.ok(!environment.includes(value) && !environment.includes(name), `${name} reached make.bash's environment`);
      }
      assert.doesNotMatch(environment, /WITNESS|KEY|TOKEN|SECRET/);
      // In the sandbox, root or not: the key, its folder and the log do not exist for make.bash at all.
      assert.match(result.builder.user, BUILD_USER);
      const uid = /^uid=([0-9]+) gid=([0-9]+) groups=(.*)$/m.exec(leak);
      assert.ok(uid, 'make.bash said who it is');
      if (AS_ROOT) {
        assert.equal(`uid-${uid[1]}`, result.builder.user, 'make.bash ran as the fresh uid of its result');
        assert.equal(uid[2], uid[1]);
        assert.doesNotMatch(uid[3]!, /(^| )0( |$)/, 'no root group');
      }
      const found = secretsBelow(out, { 'the signing key': keyMaterial, ...ENV_SECRETS });
      assert.deepEqual(found, [], 'secrets in the build output');
      for (const [name, value] of Object.entries({ 'the signing key': keyMaterial, ...ENV_SECRETS })) {
        assert.ok(!run.stdout.includes(value) && !run.stderr.includes(value), `${name} in the witness's output`);
      }
      assert.match(leak, new RegExp(`^cat: ${s.keyFile.replace(/[.+]/g, '\\$&')}: No such file or directory$`, 'm'));
      assert.match(leak, new RegExp(`^ls: cannot access '${s.logDir.replace(/[.+]/g, '\\$&')}': No such file or directory$`, 'm'));
      assert.equal(existsSync(path.join(s.logDir, 'HOSTILE-WAS-HERE')), false, 'make.bash wrote into the log folder');
      assert.equal(existsSync(path.join(path.dirname(s.keyFile), 'HOSTILE-WAS-HERE')), false, 'make.bash wrote beside the key');
      assert.equal(readFileSync(s.keyFile, 'utf8'), `${KEY.skey}\n`);
      assert.equal(statSync(s.keyFile).uid, 0);
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify after the hostile build');
    });

    test('a symbolic link in the tag\'s tree does not hand its target to the build user; links make.bash leaves in pkg/distpack are not kept', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-symlink-');
      const run = await witness(buildArgs(s, 'go1.21.5', out));
      // cmd/distpack writes regular files only: a link in pkg/distpack makes the build a failure, never followed.
      assert.equal(run.code, 1, `symlink build: exit ${run.code}`);
      const problems: string[] = [];
      if (AS_ROOT) {
        if (statSync(decoy).uid !== 0) problems.push(`the target of src/hostile-link was given to uid ${statSync(decoy).uid}`);
        for (const where of secretsBelow(out, { 'the secret behind the link': DECOY_SECRET })) problems.push(where);
      }
      const result = readResult(parseBuilds(run)[0]!.resultFile);
      assert.equal(result.outcome, 'failed');
      if (result.outcome === 'failed') assert.match(result.failure.reason, /not regular files: LEAK-link/);
      for (const { file, target } of walk(out).links) {
        if (path.relative(out, path.resolve(path.dirname(file), target)).startsWith('..')) problems.push(`${path.relative(out, file)} in --out links out of it`);
      }
      assert.deepEqual(problems, []);
    });

    test('a background process left by make.bash does not hold the build up', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-daemon-');
      const run = await witness(buildArgs(s, 'go1.21.7', out));
      expectCode(run, 0, 'build with a background process');
      const build = parseBuilds(run)[0]!;
      assert.ok(build.seconds < DAEMON_SECONDS - 3, `the build took ${build.seconds.toFixed(1)} s, waiting for make.bash's background process (${DAEMON_SECONDS} s)`);
    });
  });

  // -------------------------------------------------------------------------------------------------
  describe('bootstrap toolchains', { concurrency: 1 }, () => {
    let s: Scenario;
    let bootstrapOut: string;
    let goroot: string;
    interface BootstrapJson {
      goroot: string;
      chain: Array<{ version: string; hash: string; commit?: string; tree?: string }>;
      built: string[];
    }

    before(async () => {
      s = await newScenario({ origin: 'example.com/bootstrap-log', seed: 37 });
      bootstrapOut = path.join(worldTempDir('witness-bootstrap-'), 'toolchains');
    });

    const bootstrap = (release: string) => witness(['bootstrap', release, '--log', s.logDir, '--go-repo', s.repo.dir, '--from', s.root, '--out', bootstrapOut, '--json']);

    test('bootstrap go1.22.0 builds go1.20.14 from the root go1.19.8; a second run reuses it', { timeout: 120_000 }, async () => {
      const first = await bootstrap('go1.22.0');
      expectCode(first, 0, 'bootstrap');
      const report = JSON.parse(first.stdout) as BootstrapJson;
      // Kept by what built it: <version>-<id>, so that chains from other roots can live beside it.
      goroot = report.goroot;
      assert.match(path.relative(bootstrapOut, goroot), /^go1\.20\.14-[0-9a-f]{12}$/);
      assert.deepEqual(report.built, ['go1.20.14']);
      const tag = s.repo.tags.get('go1.20.14')!;
      assert.deepEqual(report.chain.map((b) => [b.version, b.commit, b.tree]), [['go1.20.14', tag.commit, tag.tree], ['go1.19.8', undefined, undefined]]);
      assert.equal((report.chain[1] as { root?: string }).root, 'binary');
      assert.equal(execFileSync(path.join(goroot, 'bin', 'go'), ['version'], { encoding: 'utf8' }), 'go version go1.20.14 linux/amd64\n');
      const manifest = JSON.parse(readFileSync(`${goroot}.bootstrap.json`, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(
        { ...manifest, built: undefined, seconds: undefined },
        { schema: 'go-source-witness/bootstrap/v1', version: 'go1.20.14', commit: tag.commit, tree: tag.tree, hash: report.chain[0]!.hash, builtWith: [report.chain[1]], built: undefined, seconds: undefined },
      );
      assert.match(readFileSync(`${goroot}.bootstrap.log`, 'utf8'), /^Installed Go for linux\/amd64 in /m);
      const name = path.basename(goroot);
      assert.deepEqual(readdirSync(bootstrapOut).sort(), [name, `${name}.bootstrap.json`, `${name}.bootstrap.log`]);

      const [again, go121] = await Promise.all([bootstrap('go1.22.0'), bootstrap('go1.21.0')]);
      expectCode(again, 0, 'bootstrap again');
      const second = JSON.parse(again.stdout) as BootstrapJson;
      assert.deepEqual(second.built, []);
      assert.deepEqual(second.chain, report.chain);
      expectCode(go121, 0, 'bootstrap go1.21.0 (the root is enough)');
      const direct = JSON.parse(go121.stdout) as BootstrapJson;
      assert.deepEqual({ goroot: direct.goroot, built: direct.built, chain: direct.chain.map((b) => b.version) }, { goroot: s.root, built: [], chain: ['go1.19.8'] });
    });

    test('the bootstrap toolchain is not left writable by the build user', { timeout: 120_000, skip: AS_ROOT ? false : 'only when root (builds run as a fresh uid)' }, () => {
      const { files } = walk(goroot);
      const writable = files.filter((file) => statSync(file).uid !== 0 || (statSync(file).mode & 0o002) !== 0);
      assert.deepEqual(writable.map((f) => path.relative(goroot, f)), []);
      assert.equal(statSync(goroot).uid, 0);
    });

    test('go1.22.0 fails with the root go1.19.8 (make.bash wants go1.20), and builds with the bootstrap; result and record carry the chain', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-bootstrap-build-');
      const [direct, chained] = await Promise.all([
        witness(buildArgs(s, 'go1.22.0', tempDir('witness-direct-'))),
        witness(buildArgs(s, 'go1.22.0', out, { bootstrap: goroot })),
      ]);
      expectCode(direct, 1, 'go1.22.0 with go1.19.8');
      const failed = readResult(parseBuilds(direct)[0]!.resultFile);
      assert.ok(failed.outcome === 'failed');
      assert.match(failed.failure.reason, /go1\.19\.8 .*is too old: go1\.22\.0 needs Go 1\.20 or newer/);
      expectCode(chained, 0, 'go1.22.0 with go1.20.14');
      const file = parseBuilds(chained)[0]!.resultFile;
      const result = builtResult(file);
      const tag = s.repo.tags.get('go1.20.14')!;
      assert.deepEqual(result.bootstrap.map((b) => [b.version, b.commit, b.tree]), [['go1.20.14', tag.commit, tag.tree], ['go1.19.8', undefined, undefined]]);
      assert.match(buildLogText(file), /^Building Go cmd\/dist using .*\/go1\.20\.14-[0-9a-f]{12}\. \(go1\.20\.14 linux\/amd64\)$/m);
      const ingest = await witness(ingestArgs(s, [file], '--offline'));
      expectCode(ingest, 0, 'ingest');
      const record = (await buildRecords(s.logDir)).at(-1)!;
      assert.deepEqual(record.build.bootstrap, result.bootstrap);
      assert.deepEqual(
        record.text.split('\n').filter((line) => line.startsWith('bootstrap ')),
        [`bootstrap go1.20.14 ${result.bootstrap[0]!.hash} ${tag.commit} ${tag.tree}`, `bootstrap go1.19.8 ${result.bootstrap[1]!.hash}`],
      );
      assert.match(record.text, /^bootstrap-root binary$/m);
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify');
    });

    test('a bootstrap toolchain modified after it was built is refused (BOOTSTRAP_MODIFIED), by build and by bootstrap', { timeout: 120_000 }, async () => {
      appendFileSync(path.join(goroot, 'bin', 'go'), '# changed\n');
      const out = tempDir('witness-modified-');
      const [build, again] = await Promise.all([witness(buildArgs(s, 'go1.22.0', out, { bootstrap: goroot })), bootstrap('go1.22.0')]);
      expectCode(build, 2, 'build with a modified bootstrap');
      assert.match(build.stderr, /no longer matches its manifest .* \[BOOTSTRAP_MODIFIED\]/);
      assert.deepEqual(readdirSync(out), []);
      expectCode(again, 2, 'bootstrap with a modified toolchain');
      assert.match(again.stderr, /\[BOOTSTRAP_MODIFIED\]/);
      // A GOROOT that is not a toolchain at all.
      const missing = await witness(buildArgs(s, 'go1.22.0', out, { bootstrap: path.join(bootstrapOut, 'nothing') }));
      expectCode(missing, 2, 'build with no toolchain');
      assert.match(missing.stderr, /\[BAD_BOOTSTRAP\]/);
    });
  });
});
