import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { WitnessError } from '../src/errors.js';
import { WitnessLog } from '../src/log/log.js';
import { formatRecord, parseRecord } from '../src/log/record.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { openCheckpoint, formatCheckpoint } from '../src/tlog/checkpoint.js';
import { decodeBase64 } from '../src/tlog/encoding.js';
import { MemoryTree, leafHash, verifyConsistency, verifyInclusion } from '../src/tlog/merkle.js';
import { noteVerifier, signNote } from '../src/tlog/note.js';
import { noteSigner } from '../src/tlog-node/signer.js';
import { encodeHashTile, tilePath, tilesForSize } from '../src/tlog/tile.js';
import { flipByte, git, runWitness, tempDir, testRecords, testSignerKey, writeKeyFile } from './helpers/fixtures.js';

const { signerKey, vkey } = testSignerKey();

async function newLog(): Promise<{ dir: string; log: WitnessLog }> {
  const dir = path.join(tempDir(), 'log');
  const { log } = await WitnessLog.init(dir, signerKey);
  return { dir, log };
}

async function assertFails(dir: string, pattern: RegExp, code?: string, verifierKey = vkey): Promise<void> {
  await assert.rejects(verifyLogFolder(dir, { verifierKey }), (error: unknown) => {
    assert.ok(error instanceof WitnessError, `not a WitnessError: ${String(error)}`);
    assert.match(error.message, pattern);
    if (code) assert.equal(error.code, code);
    return true;
  });
}

describe('log records', () => {
  test('format and parse round-trip byte for byte', () => {
    const record = { type: 'tag', version: 1, fields: [{ key: 'ref', value: 'refs/tags/go1.21.0' }, { key: 'ref', value: 'twice ok' }] };
    const bytes = formatRecord(record);
    assert.equal(Buffer.from(bytes).toString(), 'go-source-witness tag/v1\nref refs/tags/go1.21.0\nref twice ok\n');
    assert.deepEqual(parseRecord(bytes), record);
  });
  test('rejects malformed records with typed errors', () => {
    for (const text of [
      '',
      'go-source-witness tag/v1',
      'go-source-witness Tag/v1\n',
      'go-source-witness tag/v0\n',
      'other tag/v1\n',
      'go-source-witness tag/v1\nkey\n',
      'go-source-witness tag/v1\nkey \n',
      'go-source-witness tag/v1\nkey  leading\n',
      'go-source-witness tag/v1\nKey value\n',
      'go-source-witness tag/v1\nkey va\tlue\n',
      'go-source-witness tag/v1\nkey value\n\n',
      'go-source-witness tag/v1\nkey v\u2028\n',
    ]) {
      assert.throws(() => parseRecord(Buffer.from(text)), WitnessError, JSON.stringify(text));
    }
    assert.throws(() => parseRecord(new Uint8Array([0xff, 0x0a])), WitnessError);
    assert.throws(() => formatRecord({ type: 'tag', version: 1, fields: [{ key: 'ref', value: 'a\nb' }] }), WitnessError);
    assert.throws(() => formatRecord({ type: 'tag', version: 1, fields: [{ key: 'ref', value: 'x'.repeat(70_000) }] }), WitnessError);
  });
});

describe('witness log in git', () => {
  test('init writes a signed empty checkpoint, the verifier key and one commit carrying the checkpoint', async () => {
    const { dir, log } = await newLog();
    const checkpoint = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    const opened = openCheckpoint(checkpoint, [noteVerifier(vkey)], 'example.com/test-log');
    assert.equal(opened.checkpoint.size, 0n);
    assert.equal(Buffer.from(opened.checkpoint.rootHash).toString('base64'), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    assert.equal(readFileSync(path.join(dir, 'log.vkey'), 'utf8'), `${vkey}\n`);
    assert.equal(log.origin, 'example.com/test-log');
    const message = git(dir, 'log', '-1', '--format=%B');
    assert.ok(message.includes(checkpoint), message);
    assert.equal(git(dir, 'status', '--porcelain'), '');
    const report = await verifyLogFolder(dir);
    assert.equal(report.size, 0n);
    assert.equal(report.history.checkpoints.length, 1);
    await assert.rejects(WitnessLog.init(dir, signerKey), /not empty/);
  });

  test('appends across tile boundaries produce exactly the tiles and roots of an independent tree', async () => {
    const { dir, log } = await newLog();
    const tree = new MemoryTree();
    let offset = 0;
    for (const batch of [1, 254, 1, 1, 300, 255, 1, 700]) {
      const records = testRecords(batch, offset);
      offset += batch;
      const result = await log.append(records, signerKey);
      for (const record of records) tree.append(formatRecord(record));
      assert.equal(result.newSize, tree.size);
      const { checkpoint } = await log.readCheckpoint();
      assert.ok(Buffer.from(checkpoint.rootHash).equals(tree.root()), `root after ${offset} entries`);
    }
    // Every tile the size implies exists with the right content; nothing else but stale partials.
    const size = tree.size;
    for (const ref of tilesForSize(size)) {
      const file = path.join(dir, ...tilePath(ref).split('/'));
      if (ref.level === 'entries') continue;
      const start = Number(ref.index) * 256;
      const expected = encodeHashTile(tree.hashesAt(8 * ref.level, start, start + ref.width));
      assert.deepEqual(new Uint8Array(readFileSync(file)), expected, tilePath(ref));
    }
    const entries = await log.readEntries(0n, size);
    assert.equal(entries.length, offset);
    assert.equal(parseRecord(entries[1000]!).fields[0]!.value, '1000');
    // Inclusion proofs from tiles verify against the signed root.
    for (const index of [0n, 255n, 256n, 1000n, size - 1n]) {
      const { checkpoint, entry, proof } = await log.proveInclusion(index);
      verifyInclusion(index, size, leafHash(entry), proof, checkpoint.checkpoint.rootHash);
    }
    const old = tree.root(300n);
    const { checkpoint, proof } = await log.proveConsistency(300n);
    verifyConsistency(300n, size, proof, old, checkpoint.checkpoint.rootHash);
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.size, size);
    assert.equal(report.history.checkpoints.length, 9);
    assert.deepEqual(report.warnings, []);
    assert.equal(git(dir, 'status', '--porcelain'), '');
    // Partial tiles whose full tile exists were removed; later partials kept for clients.
    // Sizes went 1, 255, 256, 257, 557, 812, 813, 1513: every partial tile of level 0 got filled but the last.
    assert.equal(existsSync(path.join(dir, 'tile/0/000.p/1')), false);
    assert.deepEqual(git(dir, 'ls-files', 'tile/0').trim().split('\n'), ['tile/0/000', 'tile/0/001', 'tile/0/002', 'tile/0/003', 'tile/0/004', 'tile/0/005.p/233']);
  });

  test('a log of 65,600 entries has a full level-1 tile and a partial level-2 tile and verifies', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(65_600), signerKey);
    assert.ok(existsSync(path.join(dir, 'tile/1/000')));
    assert.ok(existsSync(path.join(dir, 'tile/2/000.p/1')));
    assert.ok(existsSync(path.join(dir, 'tile/entries/256.p/64')));
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.size, 65_600n);
    // Level 0: 256 full + .p/64; level 1: one full tile (256 hashes); level 2: .p/1.
    assert.equal(report.hashTiles, 256 + 1 + 1 + 1);
  });

  describe('verify names the file that was tampered with', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(300), signerKey);
    await log.append(testRecords(40, 300), signerKey);
    const pristine = path.join(tempDir(), 'pristine');
    cpSync(dir, pristine, { recursive: true });
    const restore = () => {
      rmSync(dir, { recursive: true, force: true });
      cpSync(pristine, dir, { recursive: true });
    };
    const files = ['tile/entries/000', 'tile/entries/001.p/84', 'tile/0/000', 'tile/0/001.p/84', 'tile/1/000.p/1', 'tile/0/001.p/44', 'tile/entries/001.p/44', 'checkpoint'];
    for (const file of files) {
      test(`any byte of ${file}`, async () => {
        const size = statSync(path.join(dir, file)).size;
        const offsets = [0, 1, 2, 31, 32, Math.floor(size / 2), size - 2, size - 1].filter((o) => o >= 0 && o < size);
        for (const offset of offsets) {
          flipByte(path.join(dir, file), offset);
          try {
            await assertFails(dir, file === 'checkpoint' ? /checkpoint/ : new RegExp(file.replace(/[.]/g, '\\.')));
          } finally {
            restore();
          }
        }
      });
    }
    test('a missing tile', async () => {
      rmSync(path.join(dir, 'tile/0/000'));
      try {
        await assertFails(dir, /tile\/0\/000 is missing/);
      } finally {
        restore();
      }
    });
    test('the CLI exits 1 and names the file', () => {
      flipByte(path.join(dir, 'tile/entries/000'), 100);
      try {
        const result = runWitness(['verify', '--log', dir]);
        assert.equal(result.code, 1, result.stderr);
        assert.match(result.stderr, /FAILED: .*tile\/entries\/000 entry \d+/);
      } finally {
        restore();
      }
      const ok = runWitness(['verify', '--log', dir, '--vkey', vkey]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /OK: the log verifies/);
      assert.match(ok.stdout, /size 340/);
    });
    test('a different pinned key fails', async () => {
      await assertFails(dir, /no signature from a trusted key/, 'UNVERIFIED_NOTE', testSignerKey('example.com/test-log', 9).vkey);
    });
  });

  test('history: a rolled-back checkpoint and a forked checkpoint are caught', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(10), signerKey);
    const atTen = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    await log.append(testRecords(10, 10), signerKey);
    // Roll back: put the size-10 checkpoint back and commit it.
    writeFileSync(path.join(dir, 'checkpoint'), atTen);
    git(dir, 'commit', '-qam', `roll back\n\n${atTen}`);
    await assertFails(dir, /larger than the current size 10: the log was rolled back/, 'LOG_ROLLED_BACK');
    git(dir, 'reset', '-q', '--hard', 'HEAD~1');
    await verifyLogFolder(dir, { verifierKey: vkey });
    // Fork: a validly signed checkpoint of size 5 whose root is not the prefix of this log, committed in
    // the past and overwritten later. Re-create history: commit it, then restore the real one.
    const real = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    const other = new MemoryTree();
    for (const record of testRecords(5, 1000)) other.append(formatRecord(record));
    const forged = signNote(formatCheckpoint({ origin: 'example.com/test-log', size: 5n, rootHash: other.root(), extensions: [] }), [noteSigner(signerKey)]);
    writeFileSync(path.join(dir, 'checkpoint'), forged);
    git(dir, 'commit', '-qam', `fork\n\n${forged}`);
    writeFileSync(path.join(dir, 'checkpoint'), real);
    git(dir, 'commit', '-qam', `back\n\n${real}`);
    await assertFails(dir, /size 5 root .* is not consistent with the current log/, 'INCONSISTENT_CHECKPOINT');
  });

  test('history: a commit message carrying another signed checkpoint is evidence of a fork', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(3), signerKey);
    const other = new MemoryTree();
    for (const record of testRecords(3, 50)) other.append(formatRecord(record));
    const forged = signNote(formatCheckpoint({ origin: 'example.com/test-log', size: 3n, rootHash: other.root(), extensions: [] }), [noteSigner(signerKey)]);
    git(dir, 'commit', '-q', '--amend', '-m', `witness-log: append\n\n${forged}`);
    await assertFails(dir, /two signed views of the log/, 'FORKED_CHECKPOINT');
  });

  test('append refuses a wrong key and changes nothing', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(2), signerKey);
    const head = git(dir, 'rev-parse', 'HEAD');
    const other = testSignerKey('example.com/test-log', 3).signerKey;
    await assert.rejects(log.append(testRecords(1), other), /does not match the log's verifier key/);
    assert.equal(git(dir, 'rev-parse', 'HEAD'), head);
    assert.equal(git(dir, 'status', '--porcelain'), '');
  });

  test('append refuses to extend a log whose tiles were tampered with', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(20), signerKey);
    const head = git(dir, 'rev-parse', 'HEAD');
    flipByte(path.join(dir, 'tile/0/000.p/20'), 5);
    await assert.rejects(log.append(testRecords(1), signerKey), (error: unknown) => error instanceof WitnessError);
    assert.equal(git(dir, 'rev-parse', 'HEAD'), head);
  });

  test('a log folder inside a larger repository commits only the log folder', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q');
    writeFileSync(path.join(repo, 'README'), 'hello\n');
    git(repo, 'add', 'README');
    git(repo, 'commit', '-qm', 'first');
    const dir = path.join(repo, 'witness-log');
    const { log } = await WitnessLog.init(dir, signerKey);
    writeFileSync(path.join(repo, 'README'), 'staged change\n');
    git(repo, 'add', 'README');
    writeFileSync(path.join(repo, 'other'), 'untracked\n');
    await log.append(testRecords(3), signerKey);
    assert.equal(git(repo, 'show', '--name-only', '--format=', 'HEAD').trim().split('\n').every((f) => f.startsWith('witness-log/')), true);
    assert.equal(git(repo, 'show', 'HEAD:README'), 'hello\n');
    assert.equal(git(repo, 'status', '--porcelain'), 'M  README\n?? other\n');
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.history.checkpoints.length, 2);
  });

  test('concurrent appends are serialised by the lock and lose nothing', async () => {
    const { dir } = await newLog();
    const a = await WitnessLog.open(dir);
    const b = await WitnessLog.open(dir);
    await Promise.all([a.append(testRecords(50, 0), signerKey), b.append(testRecords(70, 50), signerKey), a.append(testRecords(30, 120), signerKey)]);
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.size, 150n);
    const values = (await a.readEntries(0n, 150n)).map((e) => Number(parseRecord(e).fields[0]!.value)).sort((x, y) => x - y);
    assert.deepEqual(values, Array.from({ length: 150 }, (_, i) => i));
  });

  test('recovery: leftovers of an append interrupted before its checkpoint are discarded', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(5), signerKey);
    mkdirSync(path.join(dir, 'tile/entries'), { recursive: true });
    writeFileSync(path.join(dir, 'tile/entries/000.p/9'), 'junk');
    writeFileSync(path.join(dir, 'tile/0/.witness-tmp-abc'), 'junk');
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.warnings.length, 2, report.warnings.join('\n'));
    await log.append(testRecords(1, 5), signerKey);
    assert.equal(existsSync(path.join(dir, 'tile/entries/000.p/9')), false);
    assert.equal(git(dir, 'status', '--porcelain', '--ignored'), '');
    assert.deepEqual((await verifyLogFolder(dir, { verifierKey: vkey })).warnings, []);
  });

  test('recovery: an append interrupted after its checkpoint is committed, not rolled back', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(5), signerKey);
    await log.append(testRecords(5, 5), signerKey);
    git(dir, 'reset', '-q', '--soft', 'HEAD~1'); // as if killed before the commit
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    assert.equal(report.size, 10n);
    assert.match(report.warnings.join('\n'), /newer than the committed one/);
    await log.append(testRecords(1, 10), signerKey);
    const sizes = git(dir, 'log', '--format=%s').trim().split('\n');
    assert.match(sizes[1]!, /complete interrupted append \(size 10\)/);
    assert.equal((await verifyLogFolder(dir, { verifierKey: vkey })).size, 11n);
  });

  test('recovery refuses a committed file modified by someone else', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(5), signerKey);
    writeFileSync(path.join(dir, 'log.vkey'), 'changed\n');
    await assert.rejects(log.append(testRecords(1), signerKey), /log\.vkey in the log folder differs from the committed log/);
  });
});

describe('signing keys', () => {
  test('a key file readable by others is refused; one in the repository too', async () => {
    const { skey } = testSignerKey('example.com/k');
    const loose = writeKeyFile(skey, 0o644);
    const dir = path.join(tempDir(), 'log');
    const result = runWitness(['init', '--log', dir, '--origin', 'example.com/k', '--key', loose]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /accessible by group or others \(mode 644\); run: chmod 600/);
    assert.equal(existsSync(path.join(dir, 'checkpoint')), false);
    const repo = tempDir();
    git(repo, 'init', '-q');
    writeFileSync(path.join(repo, 'k'), `${skey}\n`, { mode: 0o600 });
    const inside = runWitness(['init', '--log', path.join(repo, 'log'), '--origin', 'example.com/k', '--key', path.join(repo, 'k')]);
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /inside the log's repository/);
    assert.doesNotMatch(inside.stderr + result.stderr, /PRIVATE/);
  });

  test('init --generate-key writes a 0600 key outside the repository and a log that verifies', () => {
    const keyFile = path.join(tempDir(), 'new.key');
    const dir = path.join(tempDir(), 'log');
    const result = runWitness(['init', '--log', dir, '--origin', 'example.com/gen', '--key', keyFile, '--generate-key', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const out = JSON.parse(result.stdout) as { verifierKey: string };
    assert.match(out.verifierKey, /^example\.com\/gen\+[0-9a-f]{8}\+/);
    assert.doesNotMatch(result.stdout, /PRIVATE/);
    const again = runWitness(['init', '--log', path.join(tempDir(), 'log2'), '--origin', 'example.com/gen', '--key', keyFile, '--generate-key']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    const verify = runWitness(['verify', '--log', dir, '--vkey', out.verifierKey, '--json']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.equal((JSON.parse(verify.stdout) as { size: string }).size, '0');
  });

  test('the key may come from WITNESS_SIGNING_KEY; a key named differently from the origin is refused', () => {
    const { skey } = testSignerKey('example.com/env');
    const dir = path.join(tempDir(), 'log');
    const wrong = runWitness(['init', '--log', dir, '--origin', 'example.com/other'], { env: { ...process.env, WITNESS_SIGNING_KEY: skey } });
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /key is named example\.com\/env/);
    const ok = runWitness(['init', '--log', dir, '--origin', 'example.com/env'], { env: { ...process.env, WITNESS_SIGNING_KEY: skey } });
    assert.equal(ok.code, 0, ok.stderr);
  });
});

describe('CLI usage errors exit 2', () => {
  test('unknown command, missing log, bad option', () => {
    assert.equal(runWitness(['frobnicate']).code, 2);
    const missing = runWitness(['verify', '--log', '/nonexistent/log']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no log folder at \/nonexistent\/log/);
    assert.equal(runWitness(['log', '--log', '/nonexistent', '--limit', '-1']).code, 2);
    const help = runWitness(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes/);
  });
});

test('checkpoint helpers agree with the spec root encoding', () => {
  assert.equal(decodeBase64('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=').length, 32);
});

describe('history walk sees every commit (review findings)', () => {
  test('a fork merged with -s ours is caught', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(2), signerKey);
    git(dir, 'checkout', '-q', '-b', 'side');
    await log.append(testRecords(1, 100), signerKey);
    git(dir, 'checkout', '-q', '-');
    await log.append(testRecords(1, 200), signerKey);
    git(dir, 'merge', '-q', '-s', 'ours', '-m', 'merge side', 'side');
    await assertFails(dir, /not consistent with the current log/);
  });

  test('a log moved to another folder with an older state is caught as rolled back', async () => {
    const repo = tempDir();
    git(repo, 'init', '-q');
    const first = path.join(repo, 'wl');
    const { log } = await WitnessLog.init(first, signerKey);
    await log.append(testRecords(1), signerKey);
    const atOne = path.join(tempDir(), 'one');
    cpSync(first, atOne, { recursive: true });
    await log.append(testRecords(1, 1), signerKey);
    git(repo, 'rm', '-rq', 'wl');
    cpSync(atOne, path.join(repo, 'wl2'), { recursive: true });
    git(repo, 'add', 'wl2');
    git(repo, 'commit', '-qm', 'move');
    await assertFails(path.join(repo, 'wl2'), /larger than the current size 1: the log was rolled back/, 'LOG_ROLLED_BACK');
  });

  test('a user commit message that merely mentions the origin is not evidence', async () => {
    const { dir, log } = await newLog();
    await log.append(testRecords(1), signerKey);
    git(dir, 'commit', '-q', '--allow-empty', '-m', `note\n\nexample.com/test-log\nwhatever\n\u2014 example.com/test-log not-a-signature\ntrailing`);
    const report = await verifyLogFolder(dir, { verifierKey: vkey });
    // Demonstrably not a checkpoint (no size and root lines, no blank line): neither an error nor a warning.
    assert.deepEqual(report.warnings, []);
  });
});
