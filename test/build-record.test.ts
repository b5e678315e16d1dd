// Build records (src/rebuild/record.ts): `build/v1` in the log format, the strict parser, buildStatus, and
// the builds.txt view.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildRecordFromLogRecord,
  buildRecordToLogRecord,
  buildStatus,
  moduleZipHash,
  type BuildRecord,
} from '../src/rebuild/record.js';
import { WitnessError } from '../src/errors.js';
import { type LogRecord, formatRecord, parseRecord } from '../src/log/record.js';
import { deriveViews } from '../src/log/views.js';
import { tagRecordToLogRecord } from '../src/tags/record.js';
import { COMMIT, TREE, SHA_C, SHA_D, h1, TOOLCHAIN_MOD_H1, sampleBuilt } from './helpers/build-samples.js';

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
