// Recording a repository's tags: readRepoTags, planTagUpdate, tag records and their invariants, the
// tags.txt view, and `witness tags`. Every repository here is a small one made with `git init`.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { VerificationError, WitnessError } from '../src/errors.js';
import { printableRef } from '../src/gitsrc/refname.js';
import { compareRefs, formatShowRef } from '../src/gitsrc/show-ref.js';
import { type RepoTag, readRepoTags } from '../src/gitsrc/tags.js';
import { WitnessLog } from '../src/log/log.js';
import { type LogRecord, formatRecord, parseRecord } from '../src/log/record.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { type TagRecord, parseTagRecord, tagRecordToLogRecord } from '../src/tags/record.js';
import { tagStateFromRecords } from '../src/tags/state.js';
import { planTagUpdate, recordRepoTags } from '../src/tags/update.js';
import { git, runWitness, tempDir, testRecords, writeKeyFile } from './helpers/fixtures.js';
import {
  TEST_KEY,
  commit,
  envWithoutKey,
  injectPackedRefs,
  logHead,
  makeRepo,
  newTagLog,
  readTagsTxt,
  revParse,
  runWitnessAsync,
  showRefTags,
  tagRecords,
} from './helpers/tag-repo.js';

const { signerKey, skey, vkey } = TEST_KEY;
const NOW = new Date('2024-05-06T07:08:09.999Z');
const SEEN = '2024-05-06T07:08:09Z';
const HEX_A = 'a'.repeat(40);
const HEX_B = 'b'.repeat(40);
const HEX_C = 'c'.repeat(40);

function tagsArgs(logDir: string, repo: string, ...extra: string[]): string[] {
  return ['tags', '--log', logDir, '--go-repo', repo, ...extra];
}

async function assertVerifies(logDir: string): Promise<void> {
  const report = await verifyLogFolder(logDir, { verifierKey: vkey });
  assert.deepEqual(report.warnings, []);
}

describe('readRepoTags and tag records', () => {
  test('lightweight, annotated, tree, blob and nested tags are read and recorded fully peeled', async () => {
    const repo = makeRepo();
    const first = revParse(repo, 'HEAD');
    git(repo, 'tag', 'light');
    git(repo, 'tag', '-a', '-m', 'annotated', 'annotated');
    const second = commit(repo, 'second');
    git(repo, 'tag', '-a', '-m', 'inner', 'inner', first);
    git(repo, '-c', 'advice.nestedTag=false', 'tag', '-a', '-m', 'outer', 'nested', 'inner');
    git(repo, 'tag', 'on-tree', revParse(repo, 'HEAD^{tree}'));
    git(repo, 'tag', '-a', '-m', 'tree', 'annotated-tree', revParse(repo, 'HEAD^{tree}'));
    const blob = git(repo, 'hash-object', '-w', '--stdin').trim();
    git(repo, 'tag', 'on-blob', blob);

    const { tags, rejected } = await readRepoTags(repo);
    assert.deepEqual(rejected, []);
    const byName = new Map(tags.map((tag) => [tag.ref.slice('refs/tags/'.length), tag]));
    assert.deepEqual([...byName.keys()].sort(), ['annotated', 'annotated-tree', 'inner', 'light', 'nested', 'on-blob', 'on-tree']);
    const expectCommitTag = (name: string, objectType: 'commit' | 'tag') => {
      const tag = byName.get(name)!;
      assert.deepEqual(tag, {
        ref: `refs/tags/${name}`,
        object: revParse(repo, `refs/tags/${name}`),
        objectType,
        target: revParse(repo, `refs/tags/${name}^{}`),
        targetType: 'commit',
        tree: revParse(repo, `refs/tags/${name}^{tree}`),
      }, name);
    };
    expectCommitTag('light', 'commit');
    expectCommitTag('annotated', 'tag');
    expectCommitTag('inner', 'tag');
    expectCommitTag('nested', 'tag');
    assert.equal(byName.get('light')!.object, first);
    assert.notEqual(byName.get('annotated')!.object, first, 'an annotated tag points at its tag object');
    assert.equal(byName.get('annotated')!.target, first);
    // Nested: the outer tag object points at the inner tag object, and peels all the way to the commit.
    assert.equal(git(repo, 'cat-file', '-p', 'nested').split('\n')[0], `object ${byName.get('inner')!.object}`);
    assert.equal(byName.get('nested')!.target, first);
    assert.notEqual(byName.get('nested')!.target, second);
    const tree = revParse(repo, 'HEAD^{tree}');
    assert.deepEqual(byName.get('on-tree'), { ref: 'refs/tags/on-tree', object: tree, objectType: 'tree', target: tree, targetType: 'tree' });
    assert.deepEqual(byName.get('annotated-tree'), {
      ref: 'refs/tags/annotated-tree',
      object: revParse(repo, 'refs/tags/annotated-tree'),
      objectType: 'tag',
      target: tree,
      targetType: 'tree',
    });
    assert.deepEqual(byName.get('on-blob'), { ref: 'refs/tags/on-blob', object: blob, objectType: 'blob', target: blob, targetType: 'blob' });

    // Recorded: commit + tree for commits, target + target-type otherwise; all "new", in byte order.
    const { dir, log } = await newTagLog();
    const result = await recordRepoTags(log, repo, signerKey, { now: NOW });
    assert.equal(result.appended?.newSize, 7n);
    assert.deepEqual(result.alarms, []);
    const records = await tagRecords(dir);
    assert.deepEqual(records.map(({ tag }) => tag.ref), [...tags.map((tag) => tag.ref)].sort(compareRefs));
    for (const { tag } of records) {
      assert.equal(tag.event, 'new');
      assert.equal(tag.previous, undefined);
      assert.equal(tag.firstSeen, SEEN);
      assert.deepEqual(tag.pointer, pointerOf(byName.get(tag.ref.slice('refs/tags/'.length))!));
    }
    const raw = (await log.readEntries(0n, 7n)).map((entry) => Buffer.from(entry).toString('utf8'));
    const annotated = raw.find((text) => text.includes('ref refs/tags/annotated\n'))!;
    assert.equal(
      annotated,
      'go-source-witness tag/v1\nevent new\nref refs/tags/annotated\n' +
        `object ${byName.get('annotated')!.object}\nobject-type tag\ncommit ${first}\ntree ${revParse(repo, 'annotated^{tree}')}\n` +
        `repository ${pathToFileURL(repo).href}\nfirst-seen ${SEEN}\n`,
    );
    const onTree = raw.find((text) => text.includes('ref refs/tags/on-tree\n'))!;
    assert.match(onTree, new RegExp(`\nobject ${tree}\nobject-type tree\ntarget ${tree}\ntarget-type tree\nrepository `));
    assert.doesNotMatch(onTree, /\ncommit |\ntree /);
    assert.equal(readTagsTxt(dir), showRefTags(repo));
    await assertVerifies(dir);
  });

  test('an empty repository and an empty log: nothing appended, tags.txt and show-ref both empty', async () => {
    const repo = makeRepo();
    const { dir, log } = await newTagLog();
    const head = logHead(dir);
    const result = await recordRepoTags(log, repo, signerKey);
    assert.equal(result.tagsRead, 0);
    assert.equal(result.appended, undefined);
    assert.equal(logHead(dir), head);
    assert.equal(readTagsTxt(dir), '');
    assert.equal(showRefTags(repo), '');
  });

  test('unusual but valid names are recorded, and tags.txt is ordered exactly as git orders them', async () => {
    const repo = makeRepo();
    const names = ['v1.0/rc-1', 'v1.0-rc', 'v1.00', 'v1.0.1', 'a@b', 'ünïcode', 'UPPER', 'upper', 'x.y.z', '\uFF61', '\u{1F600}', 'z', 'Z', '0', 'a/b/c', 'a-b', 'a+b', 'a.b', 'a./b'];
    names.forEach((name, i) => {
      if (i % 3 === 0) git(repo, 'tag', '-a', '-m', name, name);
      else git(repo, 'tag', name);
      if (i % 5 === 0) commit(repo, `c${i}`);
    });
    // UTF-16 (JavaScript) order puts U+1F600 (surrogates D83D...) before U+FF61; byte order the reverse.
    assert.ok('\u{1F600}' < '\uFF61');
    assert.ok(compareRefs('refs/tags/\uFF61', 'refs/tags/\u{1F600}') < 0);
    const { dir, log } = await newTagLog();
    const result = await recordRepoTags(log, repo, signerKey);
    assert.deepEqual(result.rejected, []);
    assert.equal(result.plan.changes.length, names.length);
    const gitOrder = showRefTags(repo);
    assert.equal(readTagsTxt(dir), gitOrder);
    const refs = gitOrder.trimEnd().split('\n').map((line) => line.slice(41));
    assert.ok(refs.indexOf('refs/tags/\uFF61') < refs.indexOf('refs/tags/\u{1F600}'), 'git sorts by bytes');
    assert.deepEqual((await tagRecords(dir)).map(({ tag }) => tag.ref), refs, 'records are appended in git order');
    assert.deepEqual([...names].map((name) => `refs/tags/${name}`).sort(compareRefs), refs);
    await assertVerifies(dir);
  });

  test('hostile names injected into packed-refs are skipped, never recorded, and the log still verifies', async () => {
    const repo = makeRepo();
    const head = revParse(repo, 'HEAD');
    git(repo, 'tag', 'v1');
    git(repo, 'tag', '-a', '-m', 'v2', 'v2');
    const longest = 'b'.repeat(1014); // refs/tags/ + 1014 bytes = 1024 bytes: the longest name accepted
    const hostile: Array<Buffer | string> = [
      'refs/tags/has space',
      'refs/tags/a..b',
      'refs/tags/ctl\x01x',
      'refs/tags/foo.lock',
      'refs/tags/dir.lock/x',
      'refs/tags/ends.',
      'refs/tags/col:on',
      'refs/tags/a@{b',
      'refs/tags/.hidden',
      `refs/tags/${'x'.repeat(2000)}`,
      `refs/tags/${'y'.repeat(1015)}`,
      Buffer.concat([Buffer.from('refs/tags/bad'), Buffer.from([0xff, 0xfe]), Buffer.from('utf8')]),
    ];
    injectPackedRefs(repo, [...hostile.map((ref) => ({ ref, object: head })), { ref: `refs/tags/${longest}`, object: head }]);
    // git may warn about (and skip) broken names; what it lists is what the witness reads.
    const listed = spawnSync('git', ['for-each-ref', '--format=%(refname)', 'refs/tags/'], { cwd: repo, encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    assert.ok(listed.includes('refs/tags/v1') && listed.includes('refs/tags/v2'));

    const { tags, rejected } = await readRepoTags(repo);
    assert.deepEqual(tags.map((tag) => tag.ref).sort(compareRefs), ['refs/tags/v1', 'refs/tags/v2', `refs/tags/${longest}`].sort(compareRefs));
    // Whatever git lists of the hostile names is rejected with a reason.
    for (const ref of listed) {
      if (tags.some((tag) => tag.ref === ref)) continue;
      const found = rejected.find((r) => r.ref === ref || r.ref.replace(/\uFFFD/g, '') === ref.replace(/\uFFFD/g, ''));
      assert.ok(found, `listed by git but neither recorded nor rejected: ${JSON.stringify(ref.slice(0, 40))}`);
      assert.ok(found.reason.length > 0);
    }
    if (listed.includes(`refs/tags/${'x'.repeat(2000)}`)) {
      assert.match(rejected.find((r) => r.ref.endsWith('x'.repeat(2000)))!.reason, /longer than 1024 bytes/);
    }
    if (listed.some((ref) => ref.startsWith('refs/tags/bad'))) {
      assert.match(rejected.find((r) => r.ref.startsWith('refs/tags/bad'))!.reason, /UTF-8/);
    }

    const { dir, log } = await newTagLog();
    const dry = runWitness(tagsArgs(dir, repo, '--dry-run'), { env: envWithoutKey() });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /: 3 read/);
    for (const { ref, reason } of rejected) {
      assert.ok(dry.stdout.includes(`  skipped ${printableRef(ref)}: ${reason}\n`), `no "skipped" line for ${printableRef(ref).slice(0, 40)}`);
    }
    assert.doesNotMatch(dry.stdout, /[\x00-\x08\x0b-\x1f\x7f]/, 'no raw control characters printed');

    const result = await recordRepoTags(log, repo, signerKey);
    assert.equal(result.appended?.newSize, 3n);
    const recorded = (await tagRecords(dir)).map(({ tag }) => tag.ref);
    assert.deepEqual(recorded, ['refs/tags/v1', 'refs/tags/v2', `refs/tags/${longest}`].sort(compareRefs));
    assert.deepEqual(
      readTagsTxt(dir).trimEnd().split('\n').map((line) => line.slice(41)),
      recorded,
    );
    await assertVerifies(dir);
  });

  test('a tag name with a C1 control or line separator (valid for git) is skipped, not fatal', async () => {
    const repo = makeRepo();
    git(repo, 'tag', 'v1');
    git(repo, 'tag', 'c1\u0085x');
    git(repo, 'tag', 'ls\u2028x');
    const { dir, log } = await newTagLog();
    const result = await recordRepoTags(log, repo, signerKey);
    assert.deepEqual(result.rejected.map((r) => r.ref).sort(), ['refs/tags/c1\u0085x', 'refs/tags/ls\u2028x']);
    assert.deepEqual((await tagRecords(dir)).map(({ tag }) => tag.ref), ['refs/tags/v1']);
  });
});

describe('the tag lifecycle: new, unchanged, moved, vanished, reappeared', () => {
  test('witness tags records every change once, raises alarms, and tags.txt always equals git show-ref --tags', async () => {
    const repo = makeRepo();
    const first = revParse(repo, 'HEAD');
    git(repo, 'tag', 'v1');
    git(repo, 'tag', '-a', '-m', 'v2', 'v2');
    git(repo, 'tag', 'v3');
    const { dir } = await newTagLog();
    const keyFile = writeKeyFile(skey);
    const run = () => runWitness(tagsArgs(dir, repo, '--key', keyFile));

    // 1. Everything is new: exit 0, no alarm.
    const created = run();
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /new\s+3\n/);
    assert.match(created.stdout, /Appended 3 tag records: log size 0 -> 3/);
    assert.doesNotMatch(created.stdout, /ALARM/);
    assert.equal(readTagsTxt(dir), showRefTags(repo));

    // 2. Nothing new: nothing appended, the log's HEAD does not move, exit 0.
    const head = logHead(dir);
    const quiet = run();
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /unchanged\s+3\n/);
    assert.match(quiet.stdout, /Nothing new: the log \(size 3\) already records every tag\./);
    assert.equal(logHead(dir), head);

    // 3. v1 moves: a "moved" record naming v1's record; ALARM MOVED with both object ids; exit 1.
    const second = commit(repo, 'second');
    git(repo, 'tag', '-f', 'v1');
    const moved = run();
    assert.equal(moved.code, 1, moved.stderr);
    assert.match(moved.stdout, /ALARM MOVED refs\/tags\/v1\n/);
    assert.match(moved.stdout, new RegExp(`was ${first} \\(witness first saw it \\d{4}-\\d\\d-\\d\\dT[0-9:]+Z\\)\\n\\s+now ${second}\\n`));
    assert.match(moved.stdout, /Appended 1 tag records: log size 3 -> 4/);
    let records = await tagRecords(dir);
    const v1New = records.find(({ tag }) => tag.ref === 'refs/tags/v1' && tag.event === 'new')!;
    assert.deepEqual(
      { event: records[3]!.tag.event, ref: records[3]!.tag.ref, previous: records[3]!.tag.previous, object: records[3]!.tag.pointer?.object },
      { event: 'moved', ref: 'refs/tags/v1', previous: BigInt(v1New.index), object: second },
    );
    assert.equal(readTagsTxt(dir), showRefTags(repo));

    // 4. v2 is deleted: "vanished" (no object fields) naming its record; exit 1.
    git(repo, 'tag', '-d', 'v2');
    const vanished = run();
    assert.equal(vanished.code, 1, vanished.stderr);
    assert.match(vanished.stdout, /ALARM VANISHED refs\/tags\/v2\n\s+was [0-9a-f]{40} \(witness first saw it /);
    records = await tagRecords(dir);
    const v2New = records.find(({ tag }) => tag.ref === 'refs/tags/v2')!;
    assert.deepEqual(records[4]!.tag.event, 'vanished');
    assert.deepEqual(records[4]!.tag.previous, BigInt(v2New.index));
    assert.equal(records[4]!.tag.pointer, undefined);
    assert.equal(readTagsTxt(dir), showRefTags(repo));

    // 5. v2 comes back (lightweight this time): "reappeared" naming the vanished record; exit 1.
    git(repo, 'tag', 'v2', first);
    const back = run();
    assert.equal(back.code, 1, back.stderr);
    assert.match(back.stdout, new RegExp(`ALARM REAPPEARED refs/tags/v2\\n\\s+now ${first}\\n`));
    records = await tagRecords(dir);
    assert.equal(records[5]!.tag.event, 'reappeared');
    assert.equal(records[5]!.tag.previous, 4n);
    assert.equal(records[5]!.tag.pointer?.objectType, 'commit');
    assert.equal(readTagsTxt(dir), showRefTags(repo));

    // 6. Quiet again.
    const head6 = logHead(dir);
    const again = run();
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /ALARM/);
    assert.equal(logHead(dir), head6);

    // 7. Every tag deleted: three "vanished", tags.txt empty like show-ref's output.
    for (const name of ['v1', 'v2', 'v3']) git(repo, 'tag', '-d', name);
    const allGone = run();
    assert.equal(allGone.code, 1, allGone.stderr);
    assert.equal((allGone.stdout.match(/ALARM VANISHED/g) ?? []).length, 3);
    assert.equal(readTagsTxt(dir), '');
    assert.equal(showRefTags(repo), '');

    // The library agrees with the CLI about the final state, and the log verifies (also through the CLI).
    const state = tagStateFromRecords((await tagRecords(dir)).map(({ index, tag }) => ({ index: BigInt(index), record: tagRecordToLogRecord(tag) })));
    assert.equal(state.present.size, 0);
    assert.equal(state.latest.size, 3);
    assert.equal(state.history.length, 9);
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.deepEqual(report.recordTypes, { tag: 9 });
    assert.deepEqual(report.warnings, []);
  });

  test('planTagUpdate: events, previous indexes, byte order, unchanged count', () => {
    const commitTag = (name: string, id: string): RepoTag => ({ ref: `refs/tags/${name}`, object: id, objectType: 'commit', target: id, targetType: 'commit', tree: HEX_C });
    const repository = 'https://example.com/go';
    // Log: 0 another record type, 1 new a, 2 new b, 3 new c, 4 new d, 5 vanished c.
    const history: TagRecord[] = [
      { event: 'new', ref: 'refs/tags/a', pointer: pointerOf(commitTag('a', HEX_A)), repository, firstSeen: SEEN },
      { event: 'new', ref: 'refs/tags/b', pointer: pointerOf(commitTag('b', HEX_A)), repository, firstSeen: SEEN },
      { event: 'new', ref: 'refs/tags/c', pointer: pointerOf(commitTag('c', HEX_A)), repository, firstSeen: SEEN },
      { event: 'new', ref: 'refs/tags/d', pointer: pointerOf(commitTag('d', HEX_A)), repository, firstSeen: SEEN },
      { event: 'vanished', ref: 'refs/tags/c', previous: 3n, repository, firstSeen: SEEN },
    ];
    const state = tagStateFromRecords([
      { index: 0n, record: { type: 'other', version: 1, fields: [{ key: 'x', value: 'y' }] } },
      ...history.map((tag, i) => ({ index: BigInt(i + 1), record: tagRecordToLogRecord(tag) })),
    ]);
    // Now: a unchanged, b moved, c reappeared, d vanished, e and \uFF61 and \u{1F600} new.
    const plan = planTagUpdate(
      state,
      [commitTag('\u{1F600}', HEX_B), commitTag('e', HEX_B), commitTag('c', HEX_B), commitTag('b', HEX_B), commitTag('a', HEX_A), commitTag('\uFF61', HEX_B)],
      repository,
      NOW,
    );
    assert.equal(plan.unchanged, 1);
    assert.deepEqual(
      plan.records.map(({ event, ref, previous }) => [event, ref.slice(10), previous]),
      [
        ['moved', 'b', 2n],
        ['reappeared', 'c', 5n],
        ['vanished', 'd', 4n],
        ['new', 'e', undefined],
        ['new', '\uFF61', undefined],
        ['new', '\u{1F600}', undefined],
      ],
    );
    assert.deepEqual(plan.changes.map((change) => change.event), ['moved', 'reappeared', 'vanished', 'new', 'new', 'new']);
    assert.equal(plan.changes[0]!.before?.object, HEX_A);
    assert.equal(plan.changes[0]!.after?.object, HEX_B);
    assert.equal(plan.changes[2]!.after, undefined);
    assert.ok(plan.records.every((record) => record.firstSeen === SEEN));
    // The plan applies cleanly on top of the history.
    const next = tagStateFromRecords(
      [...history, ...plan.records].map((tag, i) => ({ index: BigInt(i + 1), record: tagRecordToLogRecord(tag) })),
    );
    assert.deepEqual([...next.present.keys()].sort(compareRefs), ['a', 'b', 'c', 'e', '\uFF61', '\u{1F600}'].map((n) => `refs/tags/${n}`));
    assert.equal(next.toShowRef(), formatShowRef([...next.present.values()].map((p) => ({ ref: p.record.ref, object: p.pointer.object }))));
    // Nothing to do when the repository equals the state.
    const same = planTagUpdate(next, [...next.present.values()].map((p) => ({ ref: p.record.ref, ...p.pointer })), repository, NOW);
    assert.deepEqual(same.records, []);
    assert.equal(same.unchanged, 6);
  });
});

function pointerOf(tag: RepoTag) {
  return { object: tag.object, objectType: tag.objectType, target: tag.target, targetType: tag.targetType, ...(tag.tree ? { tree: tag.tree } : {}) };
}

describe('tag record format and invariants', () => {
  const repository = 'https://example.com/go';
  const lightweight = { object: HEX_A, objectType: 'commit', target: HEX_A, targetType: 'commit', tree: HEX_B } as const;
  const newRecord = (): LogRecord => tagRecordToLogRecord({ event: 'new', ref: 'refs/tags/v1', pointer: lightweight, repository, firstSeen: SEEN });
  const withFields = (record: LogRecord, edit: (fields: Array<{ key: string; value: string }>) => void): LogRecord => {
    const fields = record.fields.map((f) => ({ ...f }));
    edit(fields);
    return { ...record, fields };
  };
  const setField = (key: string, value: string) => (fields: Array<{ key: string; value: string }>) => {
    const field = fields.find((f) => f.key === key);
    assert.ok(field, key);
    field.value = value;
  };
  const removeField = (key: string) => (fields: Array<{ key: string; value: string }>) => {
    const i = fields.findIndex((f) => f.key === key);
    assert.ok(i >= 0, key);
    fields.splice(i, 1);
  };

  test('canonical records round-trip through the entry format', () => {
    const tags: TagRecord[] = [
      { event: 'new', ref: 'refs/tags/v1', pointer: lightweight, repository, firstSeen: SEEN },
      { event: 'moved', ref: 'refs/tags/v1', pointer: { object: HEX_C, objectType: 'tag', target: HEX_A, targetType: 'commit', tree: HEX_B }, previous: 0n, repository, firstSeen: SEEN },
      { event: 'vanished', ref: 'refs/tags/v1', previous: 1n, repository, firstSeen: SEEN },
      { event: 'reappeared', ref: 'refs/tags/v1', pointer: { object: HEX_C, objectType: 'tag', target: HEX_B, targetType: 'tree' }, previous: 2n, repository, firstSeen: SEEN },
      { event: 'new', ref: 'refs/tags/ünï/\uFF61', pointer: { object: HEX_B, objectType: 'blob', target: HEX_B, targetType: 'blob' }, repository: 'file:///x/y', firstSeen: '1970-01-01T00:00:00Z' },
    ];
    for (const tag of tags) {
      const record = tagRecordToLogRecord(tag);
      assert.deepEqual(parseTagRecord(record), tag);
      assert.deepEqual(parseTagRecord(parseRecord(formatRecord(record))), tag);
      assert.equal(Buffer.from(formatRecord(record)).toString('utf8'), formatRecordText(record));
    }
    assert.equal(
      formatRecordText(tagRecordToLogRecord(tags[2]!)),
      `go-source-witness tag/v1\nevent vanished\nref refs/tags/v1\nprevious 1\nrepository ${repository}\nfirst-seen ${SEEN}\n`,
    );
    // SHA-256 object ids are accepted too.
    const sha256 = { object: 'd'.repeat(64), objectType: 'commit', target: 'd'.repeat(64), targetType: 'commit', tree: 'e'.repeat(64) } as const;
    const t = { event: 'new', ref: 'refs/tags/v2', pointer: sha256, repository, firstSeen: SEEN } as const;
    assert.deepEqual(parseTagRecord(tagRecordToLogRecord(t)), t);
  });

  test('parseTagRecord rejects every non-canonical record with a WitnessError', () => {
    const base = newRecord();
    const vanished = tagRecordToLogRecord({ event: 'vanished', ref: 'refs/tags/v1', previous: 0n, repository, firstSeen: SEEN });
    const bad: Array<[string, LogRecord]> = [
      ['fields reordered', withFields(base, (f) => f.reverse())],
      ['ref before event', withFields(base, (f) => f.splice(0, 2, f[1]!, f[0]!))],
      ['extra field', withFields(base, (f) => f.push({ key: 'note', value: 'hello' }))],
      ['extra field in the middle', withFields(base, (f) => f.splice(2, 0, { key: 'signer', value: 'me' }))],
      ['repeated field', withFields(base, (f) => f.splice(1, 0, { key: 'ref', value: 'refs/tags/v1' }))],
      ['missing tree for a commit', withFields(base, removeField('tree'))],
      ['missing event', withFields(base, removeField('event'))],
      ['missing ref', withFields(base, removeField('ref'))],
      ['missing object-type', withFields(base, removeField('object-type'))],
      ['missing repository', withFields(base, removeField('repository'))],
      ['missing first-seen', withFields(base, removeField('first-seen'))],
      ['unknown event', withFields(base, setField('event', 'created'))],
      ['unknown object type', withFields(base, setField('object-type', 'commits'))],
      ['uppercase object id', withFields(base, setField('object', HEX_A.toUpperCase()))],
      ['short object id', withFields(base, setField('object', HEX_A.slice(1)))],
      ['lightweight tag whose commit differs from its object', withFields(base, setField('commit', HEX_C))],
      ['bad tree id', withFields(base, setField('tree', 'x'.repeat(40)))],
      ['time with a space', withFields(base, setField('first-seen', '2024-05-06 07:08:09Z'))],
      ['time with milliseconds', withFields(base, setField('first-seen', '2024-05-06T07:08:09.123Z'))],
      ['time with an offset', withFields(base, setField('first-seen', '2024-05-06T07:08:09+00:00'))],
      ['time without Z', withFields(base, setField('first-seen', '2024-05-06T07:08:09'))],
      ['time of month 13', withFields(base, setField('first-seen', '2024-13-06T07:08:09Z'))],
      ['time as a date', withFields(base, setField('first-seen', '2024-05-06'))],
      ['previous on a new record', withFields(base, (f) => f.splice(6, 0, { key: 'previous', value: '0' }))],
      ['no previous on a moved record', withFields(base, setField('event', 'moved'))],
      ['previous with a leading zero', withFields(vanished, setField('previous', '01'))],
      ['negative previous', withFields(vanished, setField('previous', '-1'))],
      ['previous too large', withFields(vanished, setField('previous', '1'.repeat(20)))],
      ['object fields on vanished', withFields(vanished, (f) => f.splice(2, 0, { key: 'object', value: HEX_A }, { key: 'object-type', value: 'commit' }, { key: 'commit', value: HEX_A }, { key: 'tree', value: HEX_B }))],
      ['a ref outside refs/tags', withFields(base, setField('ref', 'refs/heads/main'))],
      ['an invalid tag name', withFields(base, setField('ref', 'refs/tags/a..b'))],
      ['a tag name ending in .lock', withFields(base, setField('ref', 'refs/tags/x.lock'))],
      ['a repository with a space', withFields(base, setField('repository', 'https://example.com/a b'))],
      ['wrong version', { ...base, version: 2 }],
      ['wrong type', { ...base, type: 'tags' }],
      ['commit and target both', withFields(base, (f) => f.splice(5, 0, { key: 'target', value: HEX_A }))],
      ['target-type tag', withFields(tagRecordToLogRecord({ event: 'new', ref: 'refs/tags/t', pointer: { object: HEX_C, objectType: 'tag', target: HEX_B, targetType: 'tree' }, repository, firstSeen: SEEN }), setField('target-type', 'tag'))],
      ['tree for a tree target', withFields(tagRecordToLogRecord({ event: 'new', ref: 'refs/tags/t', pointer: { object: HEX_C, objectType: 'tag', target: HEX_B, targetType: 'tree' }, repository, firstSeen: SEEN }), (f) => f.splice(6, 0, { key: 'tree', value: HEX_B }))],
    ];
    for (const [why, record] of bad) {
      assert.throws(() => parseTagRecord(record), (error: unknown) => error instanceof WitnessError && error.code === 'MALFORMED_TAG_RECORD', why);
    }
    assert.deepEqual(parseTagRecord(base).ref, 'refs/tags/v1');
  });

  test('parseTagRecord rejects impossible calendar times', () => {
    for (const time of ['2023-02-30T00:00:00Z', '2023-04-31T00:00:00Z', '2023-01-01T24:00:00Z']) {
      assert.throws(() => parseTagRecord(withFields(newRecord(), setField('first-seen', time))), WitnessError, time);
    }
  });

  test('tagStateFromRecords enforces the invariants with TAG_RECORD_INVALID', () => {
    const commitPointer = (id: string) => ({ object: id, objectType: 'commit', target: id, targetType: 'commit', tree: HEX_C }) as const;
    const rec = (tag: Partial<TagRecord> & Pick<TagRecord, 'event'>): LogRecord =>
      tagRecordToLogRecord({ ref: 'refs/tags/v1', repository, firstSeen: SEEN, ...tag } as TagRecord);
    const fold = (records: LogRecord[]) => tagStateFromRecords(records.map((record, i) => ({ index: BigInt(i), record })));
    const newV1 = rec({ event: 'new', pointer: commitPointer(HEX_A) });
    const cases: Array<[string, LogRecord[], RegExp]> = [
      ['a second "new" for the same ref', [newV1, rec({ event: 'new', pointer: commitPointer(HEX_B) })], /log index 1: .*says "new" but the tag was recorded before at log index 0/],
      ['"new" again after vanishing', [newV1, rec({ event: 'vanished', previous: 0n }), rec({ event: 'new', pointer: commitPointer(HEX_A) })], /log index 2: .*"new"/],
      ['"moved" with the wrong previous', [newV1, rec({ event: 'moved', pointer: commitPointer(HEX_B), previous: 1n })], /names previous 1, want 0/],
      ['"moved" to the same object', [newV1, rec({ event: 'moved', pointer: commitPointer(HEX_A), previous: 0n })], /same object/],
      ['"moved" of an absent tag', [rec({ event: 'moved', pointer: commitPointer(HEX_B), previous: 0n })], /not present/],
      ['"moved" of a vanished tag', [newV1, rec({ event: 'vanished', previous: 0n }), rec({ event: 'moved', pointer: commitPointer(HEX_B), previous: 1n })], /not present/],
      ['"vanished" of an absent tag', [rec({ event: 'vanished', previous: 0n })], /log index 0: .*"vanished" but the tag is not present/],
      ['"vanished" twice', [newV1, rec({ event: 'vanished', previous: 0n }), rec({ event: 'vanished', previous: 1n })], /not present/],
      ['"vanished" with the wrong previous', [newV1, rec({ event: 'moved', pointer: commitPointer(HEX_B), previous: 0n }), rec({ event: 'vanished', previous: 0n })], /names previous 0, want 1/],
      ['"reappeared" of a present tag', [newV1, rec({ event: 'reappeared', pointer: commitPointer(HEX_B), previous: 0n })], /had not vanished/],
      ['"reappeared" of a never seen tag', [rec({ event: 'reappeared', pointer: commitPointer(HEX_B), previous: 0n })], /had not vanished/],
      ['"reappeared" with the wrong previous', [newV1, rec({ event: 'vanished', previous: 0n }), rec({ event: 'reappeared', pointer: commitPointer(HEX_B), previous: 0n })], /names previous 0, want 1/],
      ['a malformed tag record', [newV1, withFields(newV1, (f) => f.push({ key: 'x', value: 'y' }))], /log index 1: .*canonical/],
    ];
    for (const [why, records, message] of cases) {
      assert.throws(
        () => fold(records),
        (error: unknown) => {
          assert.ok(error instanceof VerificationError, `${why}: ${String(error)}`);
          assert.equal(error.code, 'TAG_RECORD_INVALID', why);
          assert.match(error.message, message, why);
          return true;
        },
        why,
      );
    }
    // Records of other refs and types do not interfere.
    const ok = fold([
      newV1,
      { type: 'test', version: 1, fields: [{ key: 'n', value: '1' }] },
      rec({ event: 'new', ref: 'refs/tags/v2', pointer: commitPointer(HEX_A) }),
      rec({ event: 'moved', pointer: commitPointer(HEX_B), previous: 0n }),
      rec({ event: 'vanished', previous: 3n }),
      rec({ event: 'reappeared', pointer: commitPointer(HEX_A), previous: 4n }),
    ]);
    assert.deepEqual([...ok.present.keys()].sort(), ['refs/tags/v1', 'refs/tags/v2']);
    assert.equal(ok.present.get('refs/tags/v1')!.index, 5n);
    assert.equal(ok.toShowRef(), `${HEX_A} refs/tags/v1\n${HEX_A} refs/tags/v2\n`);
  });
});

function formatRecordText(record: LogRecord): string {
  return `go-source-witness ${record.type}/v${record.version}\n${record.fields.map((f) => `${f.key} ${f.value}\n`).join('')}`;
}

describe('the log guards its tag records and tags.txt', () => {
  async function loggedRepo(): Promise<{ repo: string; dir: string; log: WitnessLog }> {
    const repo = makeRepo();
    git(repo, 'tag', 'v1');
    git(repo, 'tag', '-a', '-m', 'v2', 'v2');
    commit(repo, 'second');
    git(repo, 'tag', 'v3');
    const { dir, log } = await newTagLog();
    await recordRepoTags(log, repo, signerKey);
    return { repo, dir, log };
  }

  test('witness verify fails and names tags.txt when it is edited', async () => {
    const { dir } = await loggedRepo();
    const file = path.join(dir, 'tags.txt');
    const pristine = readFileSync(file, 'utf8');
    const lines = pristine.split('\n');
    const edits: Array<[string, string]> = [
      ['one character of an object id', pristine.replace(/^(.{5})(.)/, (_, head: string, c: string) => head + (c === '0' ? '1' : '0'))],
      ['a line removed', lines.slice(1).join('\n')],
      ['a line added', `${pristine}${'f'.repeat(40)} refs/tags/v4\n`],
    ];
    // Each edit in its own copy of the log, verified in parallel.
    const copies = edits.map(([, text]) => {
      assert.notEqual(text, pristine);
      const copy = path.join(tempDir('witness-edited-'), 'log');
      cpSync(dir, copy, { recursive: true });
      writeFileSync(path.join(copy, 'tags.txt'), text);
      return copy;
    });
    const results = await Promise.all(copies.map((copy) => runWitnessAsync(['verify', '--log', copy, '--vkey', vkey])));
    results.forEach((result, i) => {
      const [why] = edits[i]!;
      assert.equal(result.code, 1, `${why}: ${result.stderr}`);
      assert.match(result.stderr, /FAILED: tags\.txt does not match the log's entries \(first difference at line [1-9]\d*\): it was modified \[VIEW_MISMATCH\]/, why);
    });
    // More edits through the library: a blank line, CRLF line ends, a missing file.
    for (const text of [`${pristine}\n`, pristine.replace(/\n/g, '\r\n'), pristine.trimEnd()]) {
      writeFileSync(file, text);
      await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey }), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH' && /tags\.txt/.test(error.message));
    }
    rmSync(file);
    await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey }), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISSING');
    writeFileSync(file, pristine);
    await assertVerifies(dir);
  });

  test('the VIEW_MISMATCH message names a real line when tags.txt only gained a trailing blank line', async () => {
    const { dir } = await loggedRepo();
    writeFileSync(path.join(dir, 'tags.txt'), `${readTagsTxt(dir)}\n`);
    await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey }), /first difference at line [1-9]/);
  });

  test('an appended tag record that breaks the invariants is refused before anything is written', async () => {
    const { dir, log } = await loggedRepo();
    const head = logHead(dir);
    const checkpoint = readFileSync(path.join(dir, 'checkpoint'));
    const tagsTxt = readTagsTxt(dir);
    const records = await tagRecords(dir);
    const v1 = records.find(({ tag }) => tag.ref === 'refs/tags/v1')!;
    const pointer = { object: HEX_A, objectType: 'commit', target: HEX_A, targetType: 'commit', tree: HEX_B } as const;
    const base = { repository: 'https://example.com/go', firstSeen: SEEN };
    const attempts: Array<[string, Array<LogRecord | Uint8Array>]> = [
      ['a second "new"', [tagRecordToLogRecord({ event: 'new', ref: 'refs/tags/v1', pointer, ...base })]],
      ['"moved" naming the wrong record', [tagRecordToLogRecord({ event: 'moved', ref: 'refs/tags/v1', pointer, previous: BigInt(v1.index + 1), ...base })]],
      ['"moved" to the same object', [tagRecordToLogRecord({ event: 'moved', ref: 'refs/tags/v1', pointer: v1.tag.pointer!, previous: BigInt(v1.index), ...base })]],
      ['"vanished" of an unknown tag', [tagRecordToLogRecord({ event: 'vanished', ref: 'refs/tags/nope', previous: 0n, ...base })]],
      ['"reappeared" of a present tag', [tagRecordToLogRecord({ event: 'reappeared', ref: 'refs/tags/v3', pointer, previous: 2n, ...base })]],
      ['a valid record followed by an invalid one', [
        tagRecordToLogRecord({ event: 'new', ref: 'refs/tags/v9', pointer, ...base }),
        tagRecordToLogRecord({ event: 'new', ref: 'refs/tags/v9', pointer, ...base }),
      ]],
      ['a non-canonical tag record as raw bytes', [Buffer.from(`go-source-witness tag/v1\nref refs/tags/v8\nevent new\nobject ${HEX_A}\nobject-type commit\ncommit ${HEX_A}\ntree ${HEX_B}\nrepository x\nfirst-seen ${SEEN}\n`)]],
    ];
    for (const [why, entries] of attempts) {
      await assert.rejects(log.append(entries, signerKey), (error: unknown) => {
        assert.ok(error instanceof VerificationError, `${why}: ${String(error)}`);
        assert.equal(error.code, 'TAG_RECORD_INVALID', why);
        return true;
      }, why);
      assert.equal(logHead(dir), head, why);
      assert.ok(readFileSync(path.join(dir, 'checkpoint')).equals(checkpoint), why);
      assert.equal(readTagsTxt(dir), tagsTxt, why);
      assert.equal(git(dir, 'status', '--porcelain', '--untracked-files=all'), '', why);
    }
    await assertVerifies(dir);
    // Other record types are still accepted, and tags.txt is unchanged by them.
    await log.append(testRecords(2), signerKey);
    assert.equal(readTagsTxt(dir), tagsTxt);
    await assertVerifies(dir);
  });

  test('expectedSize: an append planned against an older log is refused (LOG_CHANGED) and writes nothing', async () => {
    const { repo, dir, log } = await loggedRepo();
    git(repo, 'tag', 'v4');
    git(repo, 'tag', '-d', 'v3');
    const { checkpoint, entries } = await log.readVerifiedEntries();
    const state = tagStateFromRecords(entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) })));
    const plan = planTagUpdate(state, (await readRepoTags(repo)).tags, 'https://example.com/go', NOW);
    assert.deepEqual(plan.records.map((r) => r.event), ['vanished', 'new']);
    const oldSize = checkpoint.checkpoint.size;
    // Someone else appends in between.
    await log.append(testRecords(1), signerKey);
    const head = logHead(dir);
    const checkpointBytes = readFileSync(path.join(dir, 'checkpoint'));
    const tagsTxt = readTagsTxt(dir);
    await assert.rejects(
      log.append(plan.records.map(tagRecordToLogRecord), signerKey, { expectedSize: oldSize }),
      (error: unknown) => error instanceof WitnessError && error.code === 'LOG_CHANGED' && /grew from size 3 to 4/.test(error.message),
    );
    assert.equal(logHead(dir), head);
    assert.ok(readFileSync(path.join(dir, 'checkpoint')).equals(checkpointBytes));
    assert.equal(readTagsTxt(dir), tagsTxt);
    assert.equal(git(dir, 'status', '--porcelain', '--untracked-files=all'), '');
    await assertVerifies(dir);
    // Planned again against the current log, it goes through.
    const result = await recordRepoTags(log, repo, signerKey);
    assert.deepEqual(result.appended && [result.appended.oldSize, result.appended.newSize], [4n, 6n]);
    assert.equal(readTagsTxt(dir), showRefTags(repo));
  });
});

describe('witness tags options', () => {
  test('--dry-run appends nothing and needs no key; --json parses and carries the counts', async () => {
    const repo = makeRepo();
    git(repo, 'tag', 'v1');
    git(repo, 'tag', '-a', '-m', 'v2', 'v2');
    const { dir } = await newTagLog();
    const head = logHead(dir);
    const env = envWithoutKey();

    const [dry, dryJson, noKey] = await Promise.all([
      runWitnessAsync(tagsArgs(dir, repo, '--dry-run'), { env }),
      runWitnessAsync(tagsArgs(dir, repo, '--dry-run', '--json', '--remote', 'https://example.com/go'), { env }),
      // Without --dry-run a key is required: exit 2, nothing written.
      runWitnessAsync(tagsArgs(dir, repo), { env }),
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /new\s+2\n/);
    assert.match(dry.stdout, /Dry run: 2 tag records would be appended\./);
    assert.equal(logHead(dir), head);
    assert.equal(readTagsTxt(dir), '');

    assert.equal(dryJson.code, 0, dryJson.stderr);
    const planned = JSON.parse(dryJson.stdout) as Record<string, unknown> & { plan: { changes: Array<{ event: string; ref: string }>; unchanged: number } };
    assert.equal(planned.repository, 'https://example.com/go');
    assert.equal(planned.tagsRead, 2);
    assert.deepEqual(planned.rejected, []);
    assert.deepEqual(planned.alarms, []);
    assert.equal(planned.logSize, '0');
    assert.equal(planned.plan.unchanged, 0);
    assert.deepEqual(planned.plan.changes.map((c) => [c.event, c.ref]), [['new', 'refs/tags/v1'], ['new', 'refs/tags/v2']]);
    assert.equal(planned.appended, undefined);
    assert.equal(logHead(dir), head);

    assert.equal(noKey.code, 2, noKey.stderr);
    assert.match(noKey.stderr, /no signing key.*\[KEY_REQUIRED\]/);
    assert.equal(logHead(dir), head);

    // A key from the environment, --remote recorded, --json with the append.
    const real = runWitness(tagsArgs(dir, repo, '--json', '--remote', 'https://example.com/go'), { env: { ...env, WITNESS_SIGNING_KEY: skey } });
    assert.equal(real.code, 0, real.stderr);
    const appended = JSON.parse(real.stdout) as { appended: { oldSize: string; newSize: string; commit: string }; plan: { changes: unknown[] } };
    assert.deepEqual([appended.appended.oldSize, appended.appended.newSize], ['0', '2']);
    assert.equal(appended.appended.commit, logHead(dir));
    assert.equal(appended.plan.changes.length, 2);
    assert.deepEqual((await tagRecords(dir)).map(({ tag }) => tag.repository), ['https://example.com/go', 'https://example.com/go']);
  });

  test('the repository field: --remote, else remote.origin.url, else a file:// URL', async () => {
    const repo = makeRepo();
    git(repo, 'tag', 'v1');
    const { dir, log } = await newTagLog();
    const fileUrl = (await recordRepoTags(log, repo, undefined, { dryRun: true })).repository;
    assert.equal(fileUrl, pathToFileURL(repo).href);
    assert.match(fileUrl, /^file:\/\//);
    git(repo, 'remote', 'add', 'origin', 'https://example.com/go');
    assert.equal((await recordRepoTags(log, repo, undefined, { dryRun: true })).repository, 'https://example.com/go');
    assert.equal((await recordRepoTags(log, repo, undefined, { dryRun: true, repositoryUrl: 'https://go.googlesource.com/go' })).repository, 'https://go.googlesource.com/go');
    // What is recorded: the origin URL (no --remote), then a file:// URL for a later change in another clone.
    await recordRepoTags(log, repo, signerKey);
    const clone = path.join(tempDir(), 'clone');
    git(path.dirname(clone), 'clone', '--quiet', '--no-checkout', repo, clone);
    git(clone, 'remote', 'remove', 'origin');
    git(clone, 'tag', 'v2', 'v1');
    await recordRepoTags(log, clone, signerKey);
    const records = await tagRecords(dir);
    assert.deepEqual(records.map(({ tag }) => [tag.ref, tag.repository]), [
      ['refs/tags/v1', 'https://example.com/go'],
      ['refs/tags/v2', pathToFileURL(clone).href],
    ]);
  });

  test('errors: a folder that is not a git repository, a missing log', async () => {
    const { dir } = await newTagLog();
    const notRepo = tempDir('witness-not-a-repo-');
    const [result, missing] = await Promise.all([
      runWitnessAsync(tagsArgs(dir, notRepo, '--dry-run')),
      runWitnessAsync(tagsArgs(path.join(notRepo, 'no-log'), makeRepo(), '--dry-run')),
    ]);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /is not a git repository \[NOT_A_GIT_REPOSITORY\]/);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /LOG_NOT_FOUND/);
  });

  test('a repository path that does not exist is reported as such', async () => {
    await assert.rejects(readRepoTags(path.join(tempDir(), 'missing')), (error: unknown) => {
      assert.ok(error instanceof WitnessError);
      assert.equal(error.code, 'NOT_A_GIT_REPOSITORY');
      assert.doesNotMatch(error.message, /git is not installed/);
      return true;
    });
  });

  test('a real Go repository (opt-in: WITNESS_GO_REPO)', async (t) => {
    const goRepo = process.env.WITNESS_GO_REPO;
    if (!goRepo) {
      t.skip('set WITNESS_GO_REPO=/path/to/a/clone/of/go.googlesource.com/go to run');
      return;
    }
    assert.ok(existsSync(goRepo), `WITNESS_GO_REPO=${goRepo} does not exist`);
    const { dir } = await newTagLog();
    const result = runWitness(tagsArgs(dir, goRepo, '--dry-run', '--json'), { env: envWithoutKey() });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { tagsRead: number; rejected: unknown[]; plan: { changes: Array<{ event: string }> } };
    assert.ok(out.tagsRead > 400, `only ${out.tagsRead} tags read`);
    assert.deepEqual(out.rejected, []);
    assert.equal(out.plan.changes.length, out.tagsRead);
    assert.ok(out.plan.changes.every((change) => change.event === 'new'));
  });
});
