// Reproductions of the holes a hostile review found (issue 10, items 2-9): each test failed on the code
// before its fix.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { VerificationError, WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { publishSite } from '../src/publish/site.js';
import { recordRepoTags, repositoryUrlToRecord } from '../src/tags/update.js';
import { signNote, splitNote } from '../src/tlog/note.js';
import { generateKeyPair, noteSigner, cosignatureSigner } from '../src/tlog-node/signer.js';
import { startWitnessServer } from '../src/cosign/server.js';
import { WitnessStateStore } from '../src/cosign/state.js';
import { Witness } from '../src/cosign/witness.js';
import { noteVerifier } from '../src/tlog/note.js';
import { ROOT, WITNESS_BIN, git, runWitness, tempDir, testSignerKey } from './helpers/fixtures.js';
import { TestLog, post } from './helpers/serve-client.js';
import { TEST_KEY, commit, makeRepo, newTagLog, runWitnessAsync, serveFolder } from './helpers/tag-repo.js';
import { decodeBase64 } from '../src/tlog/encoding.js';
import { openNote } from '../src/tlog/note.js';
import { formatCheckpoint } from '../src/tlog/checkpoint.js';
import { MemoryTree } from '../src/tlog/merkle.js';
import { formatRecord } from '../src/log/record.js';
import { WitnessLog } from '../src/log/log.js';
import { testRecords } from './helpers/fixtures.js';
import { FormatError } from '../src/errors.js';

const { vkey } = TEST_KEY;

/** A log holding three tag records, in a git repository (committed). */
async function taggedLog(parent = tempDir('witness-hostile-')): Promise<{ repo: string; dir: string }> {
  const repo = makeRepo(parent);
  git(repo, 'tag', 'v1');
  commit(repo, 'second');
  git(repo, 'tag', 'v2');
  const { dir, log } = await newTagLog(parent);
  await recordRepoTags(log, repo, TEST_KEY.signerKey);
  return { repo, dir };
}

const forgedTags = (dir: string) => `${'f'.repeat(40)} refs/tags/go1.99.0\n${readFileSync(path.join(dir, 'tags.txt'), 'utf8')}`;

describe('item 2: views are checked against the entries whatever the checkpoint state', () => {
  test('a forged tags.txt fails verify although the checkpoint carries an extra or duplicate signature line', async () => {
    const stranger = noteSigner(generateKeyPair('stranger.example/key', new Uint8Array(32).fill(99)).signerKey);
    for (const variant of ['extra', 'duplicate'] as const) {
      const { dir } = await taggedLog();
      const file = path.join(dir, 'checkpoint');
      const checkpoint = readFileSync(file, 'utf8');
      const { text, signatures } = splitNote(checkpoint);
      const line = variant === 'extra' ? signNote(text, [stranger]).slice(text.length + 1) : `\u2014 ${signatures[0]!.name} ${signatures[0]!.base64}\n`;
      appendFileSync(file, line);
      writeFileSync(path.join(dir, 'tags.txt'), forgedTags(dir));
      await assert.rejects(
        verifyLogFolder(dir, { verifierKey: vkey }),
        (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH',
        variant,
      );
      const cli = runWitness(['verify', '--log', dir, '--vkey', vkey]);
      assert.equal(cli.code, 1, `${variant}: ${cli.stdout}${cli.stderr}`);
      assert.doesNotMatch(cli.stdout + cli.stderr, /newer/, variant);
      // The views restored, the extra line is ignored as c2sp.org/signed-note says, and reported.
      git(dir, 'checkout', '--', 'tags.txt');
      const report = await verifyLogFolder(dir, { verifierKey: vkey });
      assert.equal(report.history.uncommittedCheckpoint, undefined);
      assert.match(report.warnings.join('\n'), /signature lines/);
      assert.doesNotMatch(report.warnings.join('\n'), /newer|interrupted/);
    }
  });

  test('a view that exists although no record derives it fails verify', async () => {
    const { dir } = await taggedLog();
    writeFileSync(path.join(dir, 'builds.txt'), '# go-source-witness builds: forged\n0 go1.21.0 linux/amd64 equal h1:x\n');
    await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey }), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH' && /builds\.txt/.test(error.message));
  });

  test('an interrupted append still verifies with the old views; a forged view does not', async () => {
    const parent = tempDir('witness-hostile-');
    const { repo, dir } = await taggedLog(parent);
    commit(repo, 'third');
    git(repo, 'tag', 'v3');
    const oldTags = readFileSync(path.join(dir, 'tags.txt'), 'utf8');
    const { WitnessLog } = await import('../src/log/log.js');
    await recordRepoTags(await WitnessLog.open(dir), repo, TEST_KEY.signerKey);
    git(dir, 'reset', '-q', '--soft', 'HEAD~1'); // killed before the commit, after the checkpoint...
    writeFileSync(path.join(dir, 'tags.txt'), oldTags); // ...and before the views
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.history.uncommittedCheckpoint, true);
    assert.match(report.warnings.join('\n'), /newer than the committed one/);
    writeFileSync(path.join(dir, 'tags.txt'), forgedTags(dir));
    await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey }), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH');
  });

  test('a checkpoint that is neither the committed one nor a newer signed one fails verify', async () => {
    const { dir } = await taggedLog();
    const previous = git(dir, 'show', 'HEAD~1:./checkpoint');
    // The log's own older checkpoint, on disk: an older state, not an interrupted append.
    writeFileSync(path.join(dir, 'checkpoint'), previous);
    await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey, history: false }), (error: unknown) => error instanceof WitnessError && exitCodeOf(error) === 1);
  });

  test('publish inside a git work tree re-derives the views: a forged view is never copied', async () => {
    const parent = tempDir('witness-hostile-');
    const { dir } = await taggedLog(parent);
    const pristine = readFileSync(path.join(dir, 'tags.txt'), 'utf8');
    // The site goes into another git work tree (a pages repository), where it is not committed.
    const pages = path.join(parent, 'pages');
    git(parent, 'init', '-q', pages);
    const out = path.join(pages, 'site');
    // A forged tags.txt with an extra signature line in the checkpoint: verify must refuse it first.
    const stranger = noteSigner(generateKeyPair('stranger.example/key', new Uint8Array(32).fill(98)).signerKey);
    const checkpoint = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    appendFileSync(path.join(dir, 'checkpoint'), signNote(splitNote(checkpoint).text, [stranger]).slice(splitNote(checkpoint).text.length + 1));
    writeFileSync(path.join(dir, 'tags.txt'), forgedTags(dir));
    await assert.rejects(publishSite({ logDir: dir, outDir: out, verifierKey: vkey }), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH');
    // A clean log: the site's views are the derived ones.
    writeFileSync(path.join(dir, 'tags.txt'), pristine);
    await publishSite({ logDir: dir, outDir: out, verifierKey: vkey });
    assert.equal(readFileSync(path.join(out, 'tags.txt'), 'utf8'), pristine);
    const copy = path.join(parent, 'copy');
    cpSync(out, copy, { recursive: true });
    writeFileSync(path.join(copy, 'tags.txt'), forgedTags(copy));
    await assert.rejects(verifyLogFolder(copy, { verifierKey: vkey, history: false }), (error: unknown) => error instanceof VerificationError && error.code === 'VIEW_MISMATCH');
  });
});

describe('item 3: replays of a known checkpoint do not use up the log\'s qpd budget', () => {
  test('replaying the latest cosigned checkpoint (409 and 200) or an older one leaves the budget to the log', async () => {
    const log = new TestLog('example.com/replayed', 57).grow(3);
    const store = await WitnessStateStore.open(path.join(tempDir('witness-serve-'), 'state'));
    const witness = new Witness(store, cosignatureSigner(testSignerKey('witness.test.example/w9', 32).signerKey), [
      { origin: log.origin, verifiers: [noteVerifier(log.vkey)] },
    ]);
    const server = await startWitnessServer({ witness, listen: { host: '127.0.0.1', port: 0 }, qpd: new Map([[log.origin, 3]]), now: () => 1_000_000 });
    try {
      const older = log.note(2n);
      assert.equal((await post(server.url, log.body(0n))).status, 200); // the log: 1 of 3
      const latest = log.body(3n);
      const stale = log.body(0n);
      for (let i = 0; i < 10; i++) {
        assert.equal((await post(server.url, stale)).status, 409, `replay ${i} (old 0)`);
        assert.equal((await post(server.url, latest)).status, 200, `replay ${i} (old 3)`);
        assert.equal((await post(server.url, `old 0\n\n${older}`)).status, 409, `replay ${i} (older)`);
      }
      log.grow(3);
      assert.equal((await post(server.url, log.body(3n))).status, 200, 'the log: 2 of 3');
      log.grow(3);
      assert.equal((await post(server.url, log.body(6n))).status, 200, 'the log: 3 of 3');
      log.grow(3);
      assert.equal((await post(server.url, log.body(9n))).status, 429, 'the budget still applies to new checkpoints');
    } finally {
      await server.close();
    }
  });
});

/** A node process with a hard time limit (SIGKILL past it), run asynchronously so several run at once. */
function spawnBounded(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut });
    });
  });
}

/** The CLI with a hard time limit: a read that hangs or grows without end fails the test. */
function runWitnessBounded(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return spawnBounded([WITNESS_BIN, ...args], timeoutMs);
}

/** The level-0 hash tile of a small log (tile/0/000.p/<size>). */
function levelZeroTile(dir: string): string {
  return path.join(dir, 'tile/0/000.p', readdirSync(path.join(dir, 'tile/0/000.p'))[0]!);
}

const SECRET = 'aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('item 4: a hostile log clone cannot make a reader follow links, block or grow', () => {
  test('log.vkey -> a credentials file: refused, and nothing of the file is printed', async () => {
    const { dir } = await taggedLog();
    const credentials = path.join(tempDir('witness-home-'), 'credentials');
    writeFileSync(credentials, `[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n${SECRET}\n`);
    rmSync(path.join(dir, 'log.vkey'));
    symlinkSync(credentials, path.join(dir, 'log.vkey'));
    const commands = [['verify'], ['log']];
    const results = await Promise.all(commands.map((command) => runWitnessBounded([...command, '--log', dir])));
    for (const [i, command] of commands.entries()) {
      const result = results[i]!;
      assert.ok(result.code === 1 || result.code === 2, `${command[0]}: ${result.out}`);
      assert.doesNotMatch(result.out, /AKIA|wJalr|aws_/, command[0]);
      assert.match(result.out, /symbolic link/, command[0]);
    }
    // A regular log.vkey holding a secret by mistake: the error never echoes the file.
    rmSync(path.join(dir, 'log.vkey'));
    writeFileSync(path.join(dir, 'log.vkey'), `${SECRET}\n`);
    const result = await runWitnessBounded(['verify', '--log', dir]);
    assert.equal(result.code, 1, result.out);
    assert.match(result.out, /MALFORMED_VERIFIER_KEY/);
    assert.doesNotMatch(result.out, /wJalr|aws_/);
  });

  test('a tile -> /dev/zero, a FIFO checkpoint, a FIFO build log, a symlinked folder: refused at once', async () => {
    const cases: Array<[string, (dir: string) => void]> = [
      ['tile -> /dev/zero', (dir) => {
        const tile = levelZeroTile(dir);
        rmSync(tile);
        symlinkSync('/dev/zero', tile);
      }],
      ['FIFO checkpoint', (dir) => {
        rmSync(path.join(dir, 'checkpoint'));
        assert.equal(spawnSync('mkfifo', [path.join(dir, 'checkpoint')]).status, 0);
      }],
      ['FIFO build log', (dir) => {
        mkdirSync(path.join(dir, 'build-logs'));
        assert.equal(spawnSync('mkfifo', [path.join(dir, 'build-logs', `${'a'.repeat(64)}.log`)]).status, 0);
      }],
      ['symlinked tile folder', (dir) => {
        renameSync(path.join(dir, 'tile'), path.join(dir, '..', 'elsewhere'));
        symlinkSync(path.join(dir, '..', 'elsewhere'), path.join(dir, 'tile'));
      }],
    ];
    const dirs: string[] = [];
    for (const [, spoil] of cases) {
      const { dir } = await taggedLog();
      spoil(dir);
      dirs.push(dir);
    }
    const results = await Promise.all(dirs.map((dir) => runWitnessBounded(['verify', '--log', dir, '--vkey', vkey])));
    for (const [i, [why]] of cases.entries()) {
      const result = results[i]!;
      assert.equal(result.timedOut, false, `${why}: the read hung or grew without end`);
      assert.equal(result.code, 1, `${why}: ${result.out}`);
      assert.match(result.out, /symbolic link|not a regular file/, why);
    }
  });

  test('serve --log never serves what a symlink in the log points at', async () => {
    const { dir } = await taggedLog();
    const secret = path.join(tempDir('witness-home-'), 'secret');
    writeFileSync(secret, `${SECRET}\n`);
    const tile = levelZeroTile(dir);
    rmSync(tile);
    symlinkSync(secret, tile);
    const store = await WitnessStateStore.open(path.join(tempDir('witness-serve-'), 'state'));
    const witness = new Witness(store, cosignatureSigner(testSignerKey('witness.test.example/w9', 32).signerKey), []);
    const server = await startWitnessServer({ witness, listen: { host: '127.0.0.1', port: 0 }, logFolder: dir });
    try {
      const response = await fetch(`${server.url}/log/${path.relative(dir, tile)}`);
      const body = await response.text();
      assert.equal(response.status, 404);
      assert.doesNotMatch(body, /wJalr/);
    } finally {
      await server.close();
    }
  });
});

describe('item 5: base64 decoding is linear and bounded', () => {
  const big = 'AAAA'.repeat(1_600_000); // 6.4 MB: the regular expression overflowed its stack from about 5 MB
  test('decodeBase64 of 6 MB decodes, and rejects a bad one, with typed errors only', () => {
    assert.equal(decodeBase64(big).length, 4_800_000);
    for (const text of [`${big}!`, `${big}A`, `${big}AA=A`, `${big.slice(0, -3)}===`, `${big.slice(0, -4)}AAB=`]) {
      assert.throws(() => decodeBase64(text), FormatError);
    }
    assert.equal(decodeBase64(`${big.slice(0, -1)}=`).length, 4_799_999);
    assert.throws(() => decodeBase64(big, 'MALFORMED_BASE64', 'signature', 1024), (error: unknown) => error instanceof FormatError && /longer than/.test(error.message));
    // The browser runs this same decoder (the one core): test/tlog-parity.test.ts runs it in Chromium.
  });

  test('a note with a 6 MB signature line is refused or opened, never a RangeError', () => {
    const key = testSignerKey('example.com/big', 33);
    const note = `${signNote('example.com/big\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', [noteSigner(key.signerKey)])}\u2014 stranger ${big}\n`;
    const opened = openNote(note, [noteVerifier(key.vkey)]);
    assert.equal(opened.unverifiedSignatures.length, 1);
  });

  test('verify over HTTP of a checkpoint carrying a 6 MB signature line fails with one typed line', async () => {
    const { dir } = await taggedLog();
    appendFileSync(path.join(dir, 'checkpoint'), `\u2014 stranger ${big}\n`);
    const server = await serveFolder(dir);
    try {
      const result = await runWitnessAsync(['verify', '--log', server.url, '--vkey', vkey]);
      assert.equal(result.code, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /RangeError|    at /);
      assert.match(result.stderr, /^witness: .*\[[A-Z_]+\]\n$/);
    } finally {
      await server.close();
    }
  });
});

describe('item 6: a checkpoint anywhere in a commit message is found and checked', () => {
  const key = testSignerKey('example.com/message-log', 34);
  async function logWithFork(): Promise<{ dir: string; forged: string; real: string }> {
    const dir = path.join(tempDir('witness-hostile-'), 'log');
    const { log } = await WitnessLog.init(dir, key.signerKey);
    await log.append(testRecords(3), key.signerKey);
    const other = new MemoryTree();
    for (const record of testRecords(3, 50)) other.append(formatRecord(record));
    const forged = signNote(formatCheckpoint({ origin: key.signerKey.name, size: 3n, rootHash: other.root(), extensions: [] }), [noteSigner(key.signerKey)]);
    return { dir, forged, real: readFileSync(path.join(dir, 'checkpoint'), 'utf8') };
  }
  const fails = (dir: string, code: string) =>
    assert.rejects(verifyLogFolder(dir, { verifierKey: key.vkey }), (error: unknown) => error instanceof WitnessError && error.code === code && exitCodeOf(error) === 1);

  test('a fork followed by a Signed-off-by line, a blank line or text, or preceded by text, is FORKED_CHECKPOINT', async () => {
    const { dir, forged } = await logWithFork();
    for (const message of [
      `witness-log: append\n\n${forged}Signed-off-by: Mallory <m@example.com>\n`,
      `witness-log: append\n\n${forged}\n`,
      `witness-log: append\n\n${forged}\nMore text after the checkpoint.\n`,
      `Some words first\n\n${forged}\nand after\n`,
    ]) {
      git(dir, 'commit', '-q', '--allow-empty', '-m', message);
      await fails(dir, 'FORKED_CHECKPOINT');
      git(dir, 'reset', '-q', '--hard', 'HEAD~1');
    }
  });

  test('a checkpoint of this log in a message whose signature does not verify is an error, not a warning', async () => {
    const { dir, real } = await logWithFork();
    const { text, signatures } = splitNote(real);
    const sig = Buffer.from(signatures[0]!.base64, 'base64');
    sig[10] = sig[10]! ^ 1;
    git(dir, 'commit', '-q', '--allow-empty', '-m', `note\n\n${text}\n\u2014 ${signatures[0]!.name} ${sig.toString('base64')}\nSigned-off-by: x <x@example.com>\n`);
    await fails(dir, 'MESSAGE_CHECKPOINT_INVALID');
  });

  test('text that is demonstrably not a checkpoint (the origin on a line of its own) is not reported', async () => {
    const { dir, real } = await logWithFork();
    git(dir, 'commit', '-q', '--allow-empty', '-m', `about\n\n${key.signerKey.name}\nis the origin of this log; its key signs lines like\n\n\u2014 ${key.signerKey.name} AAAA\n`);
    const report = await verifyLogFolder(dir, { verifierKey: key.vkey });
    assert.deepEqual(report.warnings, []);
    // The real checkpoint quoted again later in a message, with text after it, is fine.
    git(dir, 'commit', '-q', '--allow-empty', '-m', `again\n\n${real}\nSigned-off-by: x <x@example.com>\n`);
    assert.deepEqual((await verifyLogFolder(dir, { verifierKey: key.vkey })).warnings, []);
  });
});

describe('item 7: credentials never survive in the recorded repository URL', () => {
  test('userinfo is removed even where WHATWG URL parsing fails; query and fragment are dropped', () => {
    const cases: Array<[string, string]> = [
      ['https://user:s3cr3t@github.com:99999/golang/go', 'https://github.com:99999/golang/go'],
      ['https://github.com/golang/go?access_token=s3cr3t', 'https://github.com/golang/go'],
      ['https://github.com/golang/go.git#s3cr3t', 'https://github.com/golang/go.git'],
      ['https://x-access-token:s3cr3t@github.com/golang/go?private_token=s3cr3t#s3cr3t', 'https://github.com/golang/go'],
      ['https://us%40er:s3cr3t@[::1]:8080/go', 'https://[::1]:8080/go'],
      ['https://a@b:s3cr3t@github.com/go', 'https://github.com/go'],
      ['ssh://git:s3cr3t@github.com:22/golang/go.git', 'ssh://github.com:22/golang/go.git'],
      ['HTTPS://user:s3cr3t@GitHub.com/go', 'HTTPS://GitHub.com/go'],
      ['git:s3cr3t@github.com:golang/go.git', 'github.com:golang/go.git'],
      ['git@github.com:golang/go.git', 'github.com:golang/go.git'],
      ['file:///srv/git/go', 'file:///srv/git/go'],
      ['/srv/git/go', '/srv/git/go'],
    ];
    for (const [url, recorded] of cases) assert.equal(repositoryUrlToRecord(url), recorded, url);
  });

  test('a refused URL is not echoed with its credentials', () => {
    for (const url of ['https://user:s3cr3t@example.com/a b', 'https://user:s3cr3t@example.com/a\u0001b', 'https://user:s3/cr3t@example.com/go', 'https://user:s3#cr3t@example.com/go', '\u00a1https://user:s3cr3t@example.com/go', 'x/https://user:s3cr3t@example.com/go']) {
      assert.throws(() => repositoryUrlToRecord(url), (error: unknown) => error instanceof WitnessError && exitCodeOf(error) === 2 && !/s3\/?cr3t/.test(error.message), url);
    }
  });

  test('witness tags with a token in remote.origin.url signs no credential into the log', async () => {
    const parent = tempDir('witness-hostile-');
    const repo = makeRepo(parent);
    git(repo, 'tag', 'v1');
    git(repo, 'remote', 'add', 'origin', 'https://oauth2:s3cr3t@github.com:99999/golang/go?access_token=s3cr3t');
    const { dir, log } = await newTagLog(parent);
    await recordRepoTags(log, repo, TEST_KEY.signerKey);
    const entries = (await log.readVerifiedEntries()).entries.map((entry) => Buffer.from(entry).toString('utf8')).join('');
    assert.match(entries, /repository https:\/\/github\.com:99999\/golang\/go\n/);
    assert.doesNotMatch(entries + readFileSync(path.join(dir, 'tags.txt'), 'utf8'), /s3cr3t|oauth2/);
  });
});

describe('item 8: ingest never hangs or grows on a FIFO or a /dev/zero link', () => {
  /** loadBuildResult in a child process, killed after 8 s: prints the error code, or "loaded". */
  function loadInChild(file: string): Promise<{ out: string; timedOut: boolean }> {
    const script = `import { loadBuildResult } from './src/rebuild/ingest.ts';
      loadBuildResult(${JSON.stringify(file)}).then(() => console.log('loaded'), (e) => console.log(e.code ?? e.name, e.message));`;
    return spawnBounded(['--import', 'tsx', '--input-type=module', '-e', script], 8_000);
  }

  test('a result or build log that is a FIFO or a link to /dev/zero is refused at once', async () => {
    const { BUILD_RESULT_SCHEMA, buildResultFileName, serializeBuildResult } = await import('../src/rebuild/result.js');
    const empty = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    const result = {
      schema: BUILD_RESULT_SCHEMA,
      version: 'go1.21.1',
      target: 'linux/amd64',
      env: {},
      tag: { ref: 'refs/tags/go1.21.1', commit: 'a'.repeat(40), tree: 'b'.repeat(40), logIndex: '3', logOrigin: 'example.com/build-log' },
      bootstrap: [{ version: 'go1.20.14', hash: `h1:${Buffer.alloc(32, 1).toString('base64')}` }],
      builder: { name: 'go-source-witness', version: '0.1.0', node: 'v20.20.2', platform: 'linux/x64', user: 'nobody' },
      started: '2024-05-06T07:08:09Z',
      outcome: 'failed',
      seconds: 12,
      log: { name: `go1.21.1.linux-amd64.${empty}.log`, size: 0, sha256: empty },
      failure: { phase: 'make-bash', reason: 'make.bash exited with status 2' },
    } as const;
    const bytes = serializeBuildResult(result as never);
    const name = buildResultFileName(result as never, bytes);
    const cases: Array<[string, (dir: string) => void, string]> = [
      ['result is a FIFO', (dir) => assert.equal(spawnSync('mkfifo', [path.join(dir, name)]).status, 0), name],
      ['result -> /dev/zero', (dir) => symlinkSync('/dev/zero', path.join(dir, name)), name],
      ['build log is a FIFO', (dir) => {
        writeFileSync(path.join(dir, name), bytes);
        assert.equal(spawnSync('mkfifo', [path.join(dir, result.log.name)]).status, 0);
      }, name],
      ['build log -> /dev/zero', (dir) => {
        writeFileSync(path.join(dir, name), bytes);
        symlinkSync('/dev/zero', path.join(dir, result.log.name));
      }, name],
    ];
    // And regular files still load.
    const regular = tempDir('witness-ingest-');
    writeFileSync(path.join(regular, name), bytes);
    writeFileSync(path.join(regular, result.log.name), '');
    const files = cases.map(([, make, file]) => {
      const dir = tempDir('witness-ingest-');
      make(dir);
      return path.join(dir, file);
    });
    const runs = await Promise.all([...files, path.join(regular, name)].map((file) => loadInChild(file)));
    for (const [i, [why]] of cases.entries()) {
      assert.equal(runs[i]!.timedOut, false, `${why}: hung or grew without end`);
      assert.match(runs[i]!.out, /symbolic link|not a regular file/, `${why}: ${runs[i]!.out}`);
    }
    assert.match(runs.at(-1)!.out, /^loaded/);
  });
});

describe('item 9: minor holes', () => {
  test('a record type named "constructor" is counted as one, in verify --json and api/index.json', async () => {
    const parent = tempDir('witness-hostile-');
    const { dir } = await taggedLog(parent);
    const log = await WitnessLog.open(dir);
    await log.append(testRecords(2, 0, 'constructor'), TEST_KEY.signerKey);
    const cli = runWitness(['verify', '--log', dir, '--vkey', vkey, '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual((JSON.parse(cli.stdout) as { recordTypes: unknown }).recordTypes, { tag: 2, constructor: 2 });
    const text = runWitness(['verify', '--log', dir, '--vkey', vkey]);
    assert.doesNotMatch(text.stdout, /function|native code/);
    const out = path.join(parent, 'site');
    await publishSite({ logDir: dir, outDir: out, verifierKey: vkey });
    const index = JSON.parse(readFileSync(path.join(out, 'api/index.json'), 'utf8')) as { recordTypes: unknown };
    assert.deepEqual(index.recordTypes, { tag: 2, constructor: 2 });
  });

  test('compare - lists names git accepts but a record cannot hold as unrecordable (exit 1), as repo mode does', async () => {
    const { repo, dir } = await taggedLog();
    const oid = git(repo, 'rev-parse', 'HEAD').trim();
    const showRef = git(repo, 'show-ref', '--tags');
    const compare = (input: string) => runWitnessAsync(['compare', '-', '--log', dir, '--vkey', vkey], { input });
    const names = ['go1.21.0\u0085', 'go1.21.0\u00a0'];
    // Text that is not show-ref output (or a name git refuses) is still a usage error.
    const [nel, nbsp, refused, junk] = await Promise.all([...names.map((name) => compare(`${showRef}${oid} refs/tags/${name}\n`)), compare(`${oid} refs/tags/a..b\n`), compare('not show-ref\n')]);
    for (const [i, stdin] of [nel!, nbsp!].entries()) {
      assert.equal(stdin.code, 1, `${JSON.stringify(names[i])}: ${stdin.stdout}${stdin.stderr}`);
      assert.match(stdin.stdout, /unrecordable +1/);
      assert.match(stdin.stdout, /the witness never records such a tag/);
    }
    assert.equal(refused!.code, 2);
    assert.equal(junk!.code, 2);
  });

  test('bidi and zero-width characters in tag names render visibly escaped in HTML and Atom', async () => {
    const parent = tempDir('witness-hostile-');
    const repo = makeRepo(parent);
    const tricky = 'go1.21.0\u202elmth.exe';
    const zeroWidth = 'go1.22\u200b.0';
    git(repo, 'tag', tricky);
    git(repo, 'tag', zeroWidth);
    const { dir, log } = await newTagLog(parent);
    await recordRepoTags(log, repo, TEST_KEY.signerKey);
    const out = path.join(parent, 'site');
    const result = await publishSite({ logDir: dir, outDir: out, verifierKey: vkey });
    const pages = result.files.filter((file) => file.endsWith('.html') || file.endsWith('.atom'));
    assert.ok(pages.length >= 3);
    for (const page of pages) {
      const content = readFileSync(path.join(out, page), 'utf8');
      assert.doesNotMatch(content, /[\u202e\u200b]/u, `${page} holds a raw bidi or zero-width character`);
    }
    const tags = readFileSync(path.join(out, 'tags.html'), 'utf8');
    assert.match(tags, /go1\.21\.0<span class="invisible"[^>]*>&lt;U\+202E&gt;<\/span>lmth\.exe/);
    assert.match(tags, /go1\.22<span class="invisible"[^>]*>&lt;U\+200B&gt;<\/span>\.0/);
    assert.match(readFileSync(path.join(out, 'feed.atom'), 'utf8'), /go1\.21\.0&lt;U\+202E&gt;lmth\.exe/);
    assert.doesNotMatch(readFileSync(path.join(out, 'api/index.json'), 'utf8'), /[\u202e\u200b]/u);
    // Failure reasons and any other text go through the same template: in an attribute, the label alone.
    const { html } = await import('../src/publish/html.js');
    assert.equal(
      html`<td title="${'make.bash: \u202eerror'}">${'exit\u200d 2'}</td>`.markup,
      '<td title="make.bash: &lt;U+202E&gt;error">exit<span class="invisible" title="an invisible character, shown as its code point">&lt;U+200D&gt;</span> 2</td>',
    );
    // And the CLI's text output.
    const listed = runWitness(['log', '--log', dir, '--vkey', vkey]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /[\u202e\u200b]/u);
    assert.match(listed.stdout, /go1\.21\.0<U\+202E>lmth\.exe/);
  });
});
