// `witness compare`: a developer's tags (a checkout, or `git show-ref --tags [-d]` text on stdin) against a
// verified witness log, read from a folder or over HTTP. Exit 0 all equal, 1 any difference, 2 any error.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FormatError, VerificationError, WitnessError } from '../src/errors.js';
import { EMBEDDED_LOG_DIR } from '../src/embedded.js';
import { printableRef } from '../src/gitsrc/refname.js';
import { parseShowRef } from '../src/gitsrc/show-ref.js';
import { WitnessLog } from '../src/log/log.js';
import { folderSource } from '../src/log/source.js';
import { signNote } from '../src/tlog/note.js';
import { noteSigner } from '../src/tlog-node/signer.js';
import { compareTags, localTagsFromRepository, readVerifiedTagLog } from '../src/tags/compare.js';
import { recordRepoTags } from '../src/tags/update.js';
import { type CliResult, flipByte, git, runWitness, tempDir, testSignerKey } from './helpers/fixtures.js';
import { TEST_KEY, commit, makeRepo, newTagLog, readTagsTxt, revParse, runWitnessAsync, serveFolder, showRefTags } from './helpers/tag-repo.js';

const { signerKey, vkey } = TEST_KEY;
const OTHER_KEY = testSignerKey('example.com/tag-log', 99);

interface Fixture {
  readonly repo: string;
  readonly dir: string;
  readonly log: WitnessLog;
  /** Commits: the first (v1, v2) and the second (v3). */
  readonly first: string;
  readonly second: string;
}

/** A repository with v1 (lightweight), v2 (annotated) and v3 (lightweight, second commit), all recorded. */
async function recordedRepo(): Promise<Fixture> {
  const repo = makeRepo();
  const first = revParse(repo, 'HEAD');
  git(repo, 'tag', 'v1');
  git(repo, 'tag', '-a', '-m', 'release v2', 'v2');
  const second = commit(repo, 'second');
  git(repo, 'tag', 'v3');
  const { dir, log } = await newTagLog();
  await recordRepoTags(log, repo, signerKey);
  return { repo, dir, log, first, second };
}

function compareArgs(dir: string, ...extra: string[]): string[] {
  return ['compare', '--log', dir, '--vkey', vkey, ...extra];
}

function assertExit(result: CliResult, code: number, why = ''): void {
  assert.equal(result.code, code, `${why} exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
}

/** An error run: exit 2, a message on stderr, and nothing on stdout (no comparison was reported). */
function assertError(result: CliResult, pattern: RegExp, why = ''): void {
  assertExit(result, 2, why);
  assert.match(result.stderr, pattern, why);
  assert.equal(result.stdout, '', `${why}: nothing may be reported from an untrusted log`);
}

describe('witness compare with a repository', () => {
  test('equal tags: exit 0 and SAME; a moved tag: exit 1 naming the ref and both object ids', async () => {
    const { repo, dir, first, second } = await recordedRepo();
    const same = runWitness(compareArgs(dir, '--repo', repo));
    assertExit(same, 0);
    assert.match(same.stdout, /equal\s+3\n/);
    assert.match(same.stdout, /SAME: all 3 tags equal the witness log\./);
    assert.equal(same.stderr, '');

    git(repo, 'tag', '-f', 'v1', second);
    const moved = runWitness(compareArgs(dir, '--repo', repo));
    assertExit(moved, 1);
    assert.match(moved.stdout, /differ\s+1\n\s+refs\/tags\/v1\n/);
    assert.match(moved.stdout, new RegExp(`yours    ${second}\\n`));
    assert.match(moved.stdout, new RegExp(`witness  ${first}  first seen \\d{4}-[0-9-]+T[0-9:]+Z, log index 0\\n`));
    assert.match(moved.stdout, /DIFFERENT: 1 tag differs from the witness log\./);
  });

  test('a tag only in your repository, then a tag only in the witness log: exit 1', async () => {
    const { repo, dir } = await recordedRepo();
    const clone = path.join(tempDir(), 'clone.git');
    git(path.dirname(clone), 'clone', '--quiet', '--bare', repo, clone);
    git(repo, 'tag', 'v9');
    const v9 = revParse(repo, 'v9');
    git(clone, 'tag', '-d', 'v3');
    const [yours, witness] = await Promise.all([
      runWitnessAsync(compareArgs(dir, '--repo', repo)),
      runWitnessAsync(compareArgs(dir, '--repo', clone)),
    ]);
    assertExit(yours, 1);
    assert.match(yours.stdout, new RegExp(`only yours\\s+1\\n\\s+refs/tags/v9 ${v9}\\n`));
    assert.match(yours.stdout, /equal\s+3\n/);

    assertExit(witness, 1);
    assert.match(witness.stdout, /only yours\s+0\n/);
    assert.match(witness.stdout, /only witness\s+1\n\s+refs\/tags\/v3 [0-9a-f]{40}  first seen /);
    assert.match(witness.stdout, /equal\s+2\n/);
  });

  test('a tag the witness saw vanish that you still have', async () => {
    const { repo, dir, log } = await recordedRepo();
    // The witness's repository lost v3; the developer's clone still has it.
    const clone = path.join(tempDir(), 'clone');
    git(path.dirname(clone), 'clone', '--quiet', '--bare', repo, clone);
    git(repo, 'tag', '-d', 'v3');
    const result = await recordRepoTags(log, repo, signerKey);
    assert.deepEqual(result.alarms.map((alarm) => alarm.event), ['vanished']);
    const out = runWitness(compareArgs(dir, '--repo', clone));
    assertExit(out, 1);
    assert.match(out.stdout, /only yours\s+1\n\s+refs\/tags\/v3 [0-9a-f]{40}  \(the witness saw it vanish \d{4}-[0-9-]+T[0-9:]+Z, log index 3\)\n/);
    assert.match(out.stdout, /only witness\s+0\n/);
    // The library says the same.
    const { state } = await readVerifiedTagLog(dir, vkey);
    const { tags } = await localTagsFromRepository(clone);
    const comparison = compareTags(tags, state);
    assert.deepEqual(comparison.onlyYours.map(({ ref, vanished }) => [ref, vanished?.index]), [['refs/tags/v3', 3n]]);
    assert.equal(comparison.equal, 2);
  });

  test('--json: equal, differ[], onlyYours[], onlyWitness[], same', async () => {
    const { repo, dir, first, second } = await recordedRepo();
    const pristine = path.join(tempDir(), 'pristine.git');
    git(path.dirname(pristine), 'clone', '--quiet', '--bare', repo, pristine);
    git(repo, 'tag', '-f', 'v1', second);
    git(repo, 'tag', '-d', 'v3');
    git(repo, 'tag', 'v9');
    const [equalRun, run] = await Promise.all([
      runWitnessAsync(compareArgs(dir, '--repo', pristine, '--json')),
      runWitnessAsync(compareArgs(dir, '--repo', repo, '--json')),
    ]);
    assertExit(equalRun, 0);
    const equal = JSON.parse(equalRun.stdout) as Record<string, unknown>;
    assert.deepEqual(
      { equal: equal.equal, differ: equal.differ, onlyYours: equal.onlyYours, onlyWitness: equal.onlyWitness, same: equal.same },
      { equal: 3, differ: [], onlyYours: [], onlyWitness: [], same: true },
    );
    assert.deepEqual(equal.log, { origin: 'example.com/tag-log', location: dir, verifierKey: vkey, size: '3' });
    assert.deepEqual(equal.yours, { source: pristine, tags: 3, skipped: [] });
    assertExit(run, 1);
    const out = JSON.parse(run.stdout) as {
      equal: number;
      same: boolean;
      differ: Array<{ ref: string; yours: { ref: string; object: string; peeled?: string }; witness: { object: string; target: string; firstSeen: string; index: string } }>;
      onlyYours: Array<{ ref: string; yours: { ref: string; object: string } }>;
      onlyWitness: Array<{ ref: string; witness: { object: string; target: string; firstSeen: string; index: string } }>;
    };
    assert.equal(out.equal, 1);
    assert.equal(out.same, false);
    assert.equal(out.differ.length, 1);
    assert.deepEqual(out.differ[0]!.yours, { ref: 'refs/tags/v1', object: second });
    assert.deepEqual({ ...out.differ[0]!.witness, firstSeen: 'x' }, { object: first, target: first, firstSeen: 'x', index: '0' });
    assert.match(out.differ[0]!.witness.firstSeen, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(out.onlyYours, [{ ref: 'refs/tags/v9', yours: { ref: 'refs/tags/v9', object: second } }]);
    assert.deepEqual(out.onlyWitness.map(({ ref, witness }) => [ref, witness.object, witness.index]), [['refs/tags/v3', second, '2']]);
  });

  test('not a git repository: exit 2', async () => {
    const { dir } = await recordedRepo();
    const empty = tempDir('witness-not-a-repo-');
    const [result, stray] = await Promise.all([runWitnessAsync(compareArgs(dir, '--repo', empty)), runWitnessAsync(compareArgs(dir, 'extra'))]);
    assertError(result, /is not a git repository \[NOT_A_GIT_REPOSITORY\]/);
    assertError(stray, /unexpected argument extra/);
  });
});

describe('witness compare - (show-ref text on stdin)', () => {
  test('with and without -d, CRLF line ends, plain git show-ref including branches', async () => {
    const { repo, dir } = await recordedRepo();
    git(repo, 'branch', 'feature');
    const plain = showRefTags(repo);
    const dereferenced = showRefTags(repo, '-d');
    assert.match(dereferenced, /refs\/tags\/v2\^\{\}\n/);
    const all = git(repo, 'show-ref');
    assert.match(all, /refs\/heads\/main\n/);
    const inputs: Array<[string, string]> = [
      ['show-ref --tags', plain],
      ['show-ref --tags -d', dereferenced],
      ['CRLF', dereferenced.replace(/\n/g, '\r\n')],
      ['show-ref (heads too), no final newline', all.trimEnd()],
    ];
    const results = await Promise.all(inputs.map(([, input]) => runWitnessAsync(compareArgs(dir, '-'), { input })));
    results.forEach((result, i) => {
      const [why] = inputs[i]!;
      assertExit(result, 0, why);
      assert.match(result.stdout, /^Tags of the show-ref input \(3\) vs the witness log example\.com\/tag-log\n/, why);
      assert.match(result.stdout, /SAME: all 3 tags equal the witness log\./, why);
    });
  });

  test('an annotated tag whose ^{} differs from the witness\'s peeled commit is a difference', async () => {
    const { repo, dir, first, second } = await recordedRepo();
    const dereferenced = showRefTags(repo, '-d');
    const v2 = revParse(repo, 'v2');
    assert.ok(dereferenced.includes(`${first} refs/tags/v2^{}\n`));
    const doctored = dereferenced.replace(`${first} refs/tags/v2^{}\n`, `${second} refs/tags/v2^{}\n`);
    const local = parseShowRef(doctored);
    assert.deepEqual(local.get('refs/tags/v2'), { ref: 'refs/tags/v2', object: v2, peeled: second });
    const { state } = await readVerifiedTagLog(dir, vkey);
    const comparison = compareTags(local, state);
    assert.equal(comparison.equal, 2);
    assert.deepEqual(comparison.differ.map(({ ref, yours, witness }) => [ref, yours.peeled, witness.object, witness.target]), [['refs/tags/v2', second, v2, first]]);
    const result = runWitness(compareArgs(dir, '-'), { input: doctored });
    assertExit(result, 1);
    assert.match(result.stdout, new RegExp(`refs/tags/v2\\n\\s+yours    ${v2} \\(peeled ${second}\\)\\n\\s+witness  ${v2} \\(peeled ${first}\\)`));
    // Without -d the same tag object compares equal (its peeled commit is not stated).
    assert.equal(compareTags(parseShowRef(showRefTags(repo)), state).equal, 3);
  });

  test('malformed input: parseShowRef throws FormatError naming the line; the CLI exits 2', async () => {
    const { dir } = await recordedRepo();
    const id = 'a'.repeat(40);
    const good = `${id} refs/tags/ok\n`;
    const cases: Array<[string, string, RegExp]> = [
      ['bad hex', `${good}${'g'.repeat(40)} refs/tags/x\n`, /line 2 of the show-ref input: not a lowercase hex object id/],
      ['uppercase hex', `${'A'.repeat(40)} refs/tags/x\n`, /line 1 .*not a lowercase hex object id/],
      ['short id', `${'a'.repeat(39)} refs/tags/x\n`, /line 1 .*not a lowercase hex object id/],
      ['missing space', `${good}${id}refs/tags/x\n`, /line 2 .*want "<object id> <ref>"/],
      ['tab instead of space', `${id}\trefs/tags/x\n`, /line 1 .*want "<object id> <ref>"/],
      ['blank line', `${good}\n${good.replace('ok', 'ok2')}`, /line 2 /],
      ['two spaces', `${id}  refs/tags/x\n`, /line 1 .*not a ref name/],
      ['not a ref', `${id} v1\n`, /line 1 .*not a ref name/],
      ['duplicate ref', `${good}${'b'.repeat(40)} refs/tags/ok\n`, /line 2 .*refs\/tags\/ok appears twice/],
      ['^{} before its ref', `${id} refs/tags/x^{}\n${id} refs/tags/x\n`, /line 1 .*refs\/tags\/x\^\{\} comes before refs\/tags\/x/],
      ['^{} twice', `${good}${id} refs/tags/ok^{}\n${id} refs/tags/ok^{}\n`, /line 3 .*appears twice/],
      ['space in the name', `${good}${id} refs/tags/has space\n`, /line 2 .*invalid tag name \(contains a space or control character\)/],
      ['..', `${id} refs/tags/a..b\n`, /line 1 .*invalid tag name \(contains "\.\."\)/],
      ['control character', `${id} refs/tags/a\x01b\n`, /line 1 .*invalid tag name.*refs\/tags\/a\\u0001b"/],
      ['DEL', `${id} refs/tags/a\x7fb\n`, /line 1 .*invalid tag name/],
      ['ESC sequence', `${id} refs/tags/a\x1b[31mb\n`, /line 1 .*invalid tag name/],
      ['.lock', `${id} refs/tags/x.lock\n`, /line 1 .*ending with "\.lock"/],
      ['refs/tags/ alone', `${id} refs/tags/\n`, /line 1 .*invalid tag name/],
      ['a 2000-byte name', `${id} refs/tags/${'x'.repeat(2000)}\n`, /line 1 .*longer than 1024 bytes/],
      ['a replacement character (invalid UTF-8 on stdin)', `${id} refs/tags/a\uFFFDb\n`, /line 1 .*not valid UTF-8/],
      ['a lone CR line', `${good}\r\n\r\n`, /line 2 /],
    ];
    for (const [why, text, pattern] of cases) {
      assert.throws(
        () => parseShowRef(text),
        (error: unknown) => {
          assert.ok(error instanceof FormatError, `${why}: ${String(error)}`);
          assert.equal(error.code, 'MALFORMED_SHOW_REF', why);
          assert.match(error.message, pattern, why);
          assert.doesNotMatch(error.message, /[\x00-\x1f]/, `${why}: raw control characters in the message`);
          return true;
        },
        why,
      );
    }
    // The CLI: exit 2 and the message names the line, for a few of them (and for raw invalid UTF-8).
    const cli: Array<[string, string, RegExp]> = [
      ['bad hex', cases[0]![1], /^witness: FAILED: line 2 of the show-ref input: not a lowercase hex object id: .*\[MALFORMED_SHOW_REF\]\n$/],
      ['duplicate ref', cases[8]![1], /line 2 of the show-ref input: refs\/tags\/ok appears twice/],
      ['space', cases[11]![1], /line 2 of the show-ref input: invalid tag name/],
    ];
    const results = await Promise.all(cli.map(([, input]) => runWitnessAsync(compareArgs(dir, '-'), { input })));
    results.forEach((result, i) => assertError(result, cli[i]![2], cli[i]![0]));
  });

  test('parseShowRef: what is accepted', () => {
    const a = 'a'.repeat(40);
    const b = 'b'.repeat(40);
    const sha256 = 'c'.repeat(64);
    const tags = parseShowRef(`${a} refs/heads/main\r\n${a} refs/tags/v1\r\n${b} refs/tags/v2\n${a} refs/tags/v2^{}\n${sha256} refs/tags/ünï\n${a} refs/remotes/origin/x y\n`);
    assert.deepEqual([...tags.values()], [
      { ref: 'refs/tags/v1', object: a },
      { ref: 'refs/tags/v2', object: b, peeled: a },
      { ref: 'refs/tags/ünï', object: sha256 },
    ]);
    assert.equal(parseShowRef('').size, 0);
    assert.throws(() => parseShowRef('\n'), /line 1 of the show-ref input/);
  });
});

test('printableRef escapes DEL and C1 controls too', () => {
  for (const ref of ['refs/tags/a\x7fb', 'refs/tags/a\u009b31mb', 'refs/tags/a\u0085b']) {
    assert.doesNotMatch(printableRef(ref), /[\x7f-\x9f]/, JSON.stringify(ref));
  }
});

describe('witness compare against a log served over HTTP', () => {
  test('a good log works; a tampered checkpoint, key, tags.txt or entry bundle, or a missing tags.txt, is exit 2', async () => {
    const { repo, dir } = await recordedRepo();
    const variants: Array<[string, (copy: string) => void, RegExp | undefined]> = [
      ['good', () => {}, undefined],
      ['checkpoint with a flipped byte', (copy) => flipByte(path.join(copy, 'checkpoint'), 25), /FAILED: checkpoint: .*\[[A-Z_]+\]/],
      [
        'checkpoint signed by another key',
        (copy) => {
          const text = readFileSync(path.join(copy, 'checkpoint'), 'utf8');
          writeFileSync(path.join(copy, 'checkpoint'), signNote(text.slice(0, text.indexOf('\n\n') + 1), [noteSigner(OTHER_KEY.signerKey)]));
        },
        /FAILED: checkpoint: note has no signature from a trusted key \(signed by: example\.com\/tag-log\+[0-9a-f]{8}\) \[UNVERIFIED_NOTE\]/,
      ],
      [
        'doctored tags.txt',
        (copy) => {
          const file = path.join(copy, 'tags.txt');
          const text = readFileSync(file, 'utf8');
          writeFileSync(file, text.replace(/^[0-9a-f]/, (c) => (c === 'f' ? 'e' : 'f')));
        },
        /FAILED: tags\.txt at http:\/\/127\.0\.0\.1:\d+\/ does not match the log's verified entries.*\[VIEW_MISMATCH\]/,
      ],
      ['tampered entry bundle', (copy) => flipByte(path.join(copy, 'tile/entries/000.p/3'), 60), /FAILED: the entries at http:\/\/127\.0\.0\.1:\d+\/ hash to .*not the signed root .*\[ROOT_MISMATCH\]/],
      ['tags.txt missing (404)', () => {}, /FAILED: tags\.txt is missing at http:\/\/127\.0\.0\.1:\d+\/ \[VIEW_MISSING\]/],
    ];
    const servers = await Promise.all(
      variants.map(async ([why, tamper]) => {
        const copy = path.join(tempDir('witness-served-'), 'log');
        cpSync(dir, copy, { recursive: true });
        tamper(copy);
        const server = await serveFolder(copy);
        if (why === 'tags.txt missing (404)') server.hidden.add('tags.txt');
        return server;
      }),
    );
    try {
      const results = await Promise.all(servers.map((server) => runWitnessAsync(['compare', '--log', server.url, '--vkey', vkey, '--repo', repo])));
      results.forEach((result, i) => {
        const [why, , pattern] = variants[i]!;
        if (!pattern) {
          assertExit(result, 0, why);
          assert.match(result.stdout, new RegExp(`witness log\\s+${servers[i]!.url.replace(/[.]/g, '\\.')}, size 3, every entry verified`), why);
          assert.match(result.stdout, /SAME: all 3 tags equal/, why);
        } else {
          assertError(result, pattern, why);
        }
      });
      // The library over HTTP, for the good log.
      const verified = await readVerifiedTagLog(servers[0]!.url, vkey);
      assert.equal(verified.size, 3n);
      assert.equal(verified.state.toShowRef(), readTagsTxt(dir));
    } finally {
      await Promise.all(servers.map((server) => server.close()));
    }
  });
});

describe('which key compare trusts', () => {
  test('without --vkey the embedded log key is pinned, so a test log fails (exit 2); with --vkey it works', async () => {
    const { repo, dir } = await recordedRepo();
    // --vkey takes the key itself (as every other test here does) or a file holding it.
    const [noKey, withKeyFile] = await Promise.all([
      runWitnessAsync(['compare', '--log', dir, '--repo', repo]),
      runWitnessAsync(['compare', '--log', dir, '--repo', repo, '--vkey', path.join(dir, 'log.vkey')]),
    ]);
    assertError(noKey, /FAILED: checkpoint: note has no signature from a trusted key .*\[UNVERIFIED_NOTE\]/);
    assertExit(withKeyFile, 0);
    assert.match(withKeyFile.stdout, /SAME: all 3 tags equal/);
    // The library: the wrong key, and a log whose tags.txt was doctored on disk.
    await assert.rejects(readVerifiedTagLog(dir, OTHER_KEY.vkey), (error: unknown) => error instanceof WitnessError && /checkpoint/.test(error.message));
    const file = path.join(dir, 'tags.txt');
    writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(1).join('\n'));
    await assert.rejects(readVerifiedTagLog(folderSource(dir), vkey), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH');
  });
});

describe('the embedded log', () => {
  test('its own tags.txt on stdin compares equal (430 tags); one changed object id is named (exit 1)', async () => {
    const tagsTxt = readFileSync(path.join(EMBEDDED_LOG_DIR, 'tags.txt'), 'utf8');
    const lines = tagsTxt.trimEnd().split('\n');
    assert.equal(lines.length, 430);
    const cwd = tempDir('witness-elsewhere-');
    const target = lines[123]!;
    const ref = target.slice(41);
    const changedId = `${target[0] === '0' ? '1' : '0'}${target.slice(1, 40)}`;
    const doctored = tagsTxt.replace(`${target}\n`, `${changedId} ${ref}\n`);
    const [same, different] = await Promise.all([
      runWitnessAsync(['compare', '-'], { cwd, input: tagsTxt }),
      runWitnessAsync(['compare', '-'], { cwd, input: doctored }),
    ]);
    assertExit(same, 0);
    assert.match(same.stdout, /vs the witness log go-source-witness\.example\/log\n/);
    assert.match(same.stdout, new RegExp(`witness log\\s+${EMBEDDED_LOG_DIR.replace(/\/$/, '').replace(/[.]/g, '\\.')}/?, size \\d+, every entry verified against the checkpoint signed by go-source-witness\\.example/log\\+a7e0835e\\n`));
    assert.match(same.stdout, /equal\s+430\n/);
    assert.match(same.stdout, /SAME: all 430 tags equal the witness log\./);
    assertExit(different, 1);
    assert.match(different.stdout, /equal\s+429\n\s+differ\s+1\n/);
    assert.ok(different.stdout.includes(`    ${ref}\n      yours    ${changedId}\n`), different.stdout);
    assert.ok(different.stdout.includes(`      witness  ${target.slice(0, 40)}`), different.stdout);
  });
});
