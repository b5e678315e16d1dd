// Build result files (src/rebuild/result.ts): canonical JSON, content-addressed names, strict parsing.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  buildResultFileName,
  parseBuildResult,
  serializeBuildResult,
  type BuildResult,
  type FailedResult,
} from '../src/rebuild/result.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { SHA_C, SHA_D, h1, TOOLCHAIN_MOD_H1, sampleBuilt } from './helpers/build-samples.js';

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
    (error: unknown) => error instanceof WitnessError && error.code === 'BAD_BUILD_RESULT' && exitCodeOf(error) === 1 && why.test(error.message),
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
