// The published verify page: the browser verification core (src/publish/browser/verify.ts) run in Node
// against logs made by the project's own code, tampered in every way that matters; the page HTML
// (src/publish/verify-page.ts); the committed bundle against a fresh esbuild build; and the real page
// in headless Chromium, served over HTTP under a sub-path (skipped when /usr/bin/chromium is absent).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { generatedFiles, BUNDLE_JS, BUNDLE_MODULE } from '../scripts/build-verify-bundle.js';
import { EMBEDDED_LOG_DIR, EMBEDDED_LOG_ORIGIN, EMBEDDED_LOG_VERIFIER_KEY } from '../src/embedded.js';
import { WitnessLog } from '../src/log/log.js';
import { LogReader } from '../src/log/reader.js';
import { formatRecord } from '../src/log/record.js';
import { formatCheckpoint } from '../src/tlog/checkpoint.js';
import { leafHash as nodeLeafHash } from '../src/tlog/merkle.js';
import { type SignerKey, signNote } from '../src/tlog/note.js';
import { noteSigner } from '../src/tlog-node/signer.js';
import { cosignatureVerifierKey } from '../src/tlog/cosignature.js';
import { TileBuilder, encodeEntryBundle, encodeHashTile, tilePath as nodeTilePath, tilesForSize } from '../src/tlog/tile.js';
import { encodeBase64 } from '../src/tlog/encoding.js';
import { type FetchFile, type Progress, type VerifyResult, verifyLog } from '../src/publish/browser/verify.js';
import { VERIFY_JS, VERIFY_PAGE_FILE, VERIFY_SCRIPT_FILE, renderVerifyPage, writeVerifyPage } from '../src/publish/verify-page.js';
import { ROOT, flipByte, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';

const { signerKey, vkey } = testSignerKey('example.com/verify-page-log', 11);
const ORIGIN = signerKey.name;
const other = testSignerKey('example.com/verify-page-log', 12);
const CHROMIUM = '/usr/bin/chromium';

// ------------------------------------------------------------------------------------------------
// Fixtures

/** Changes made to a file as it is served (instead of copying a large log to tamper with it). */
type Tamper = Record<string, (bytes: Uint8Array) => Uint8Array | undefined>;

/** Flips the low bit of byte `offset` (negative: from the end), like fixtures' flipByte. */
const flip = (offset: number) => (bytes: Uint8Array) => {
  const out = bytes.slice();
  const at = offset < 0 ? out.length + offset : offset;
  out[at] = out[at]! ^ 0x01;
  return out;
};

/** Serves a folder to verifyLog like a web server: missing files are HTTP 404. Records the paths asked. */
function folderFetcher(dir: string, asked: string[] = [], tamper: Tamper = {}): FetchFile {
  return async (relative) => {
    asked.push(relative);
    let bytes: Uint8Array | undefined;
    try {
      bytes = new Uint8Array(await readFile(path.join(dir, ...relative.split('/'))));
    } catch {
      bytes = undefined;
    }
    if (bytes && tamper[relative]) bytes = tamper[relative](bytes);
    return bytes ? { ok: true, bytes } : { ok: false, status: 404 };
  };
}

function verify(
  dir: string,
  options: { verifierKey?: string; origin?: string; asked?: string[]; tamper?: Tamper; onProgress?: (p: Progress) => void } = {},
) {
  return verifyLog(folderFetcher(dir, options.asked, options.tamper), {
    verifierKey: options.verifierKey ?? vkey,
    origin: options.origin ?? ORIGIN,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
}

/** A log made by WitnessLog.init + one append of `size` test records (a git repository). */
async function witnessLog(size: number): Promise<string> {
  const dir = path.join(tempDir('verify-page-log-'), 'log');
  const { log } = await WitnessLog.init(dir, signerKey);
  if (size > 0) await log.append(testRecords(size), signerKey);
  return dir;
}

/**
 * A large log written directly with the project's tile code (TileBuilder, encodeEntryBundle, signNote):
 * the same files WitnessLog writes, without its per-append git commit (70000 entries in ~1 s, not 6).
 */
function tiledLog(entries: readonly Uint8Array[], key: SignerKey = signerKey, keyText = vkey): string {
  const dir = path.join(tempDir('verify-page-biglog-'), 'log');
  const write = (relative: string, data: Uint8Array | string) => {
    const file = path.join(dir, ...relative.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, data);
  };
  const builder = new TileBuilder(0n);
  const full = builder.append(entries.map((entry) => nodeLeafHash(entry)));
  for (const tile of [...full, ...builder.partialTiles()]) write(nodeTilePath(tile.ref), encodeHashTile(tile.hashes));
  for (let i = 0; i < entries.length; i += 256) {
    const chunk = entries.slice(i, i + 256);
    write(nodeTilePath({ level: 'entries', index: BigInt(i / 256), width: chunk.length }), encodeEntryBundle(chunk));
  }
  const text = formatCheckpoint({ origin: key.name, size: BigInt(entries.length), rootHash: builder.root(), extensions: [] });
  write('checkpoint', signNote(text, [noteSigner(key)]));
  write('log.vkey', `${keyText}\n`);
  return dir;
}

/** A copy of a log folder (without .git) to tamper with. */
function copyLog(dir: string): string {
  const copy = path.join(tempDir('verify-page-copy-'), 'log');
  cpSync(dir, copy, { recursive: true, filter: (source) => path.basename(source) !== '.git' });
  return copy;
}

function assertVerified(result: VerifyResult, size: number, root?: string): void {
  assert.equal(result.status, 'verified', `${result.headline}\n${JSON.stringify(result.problems, null, 1)}`);
  assert.deepEqual(result.problems, []);
  assert.equal(result.size, size);
  assert.equal(
    result.headline,
    `Verified: ${size} ${size === 1 ? 'entry' : 'entries'}, root ${root ?? result.root}, signed by ${ORIGIN}`,
  );
}

function assertFailed(result: VerifyResult, code: string, pattern: RegExp, path?: string): void {
  assert.equal(result.status, 'failed', result.headline);
  assert.match(result.headline, /^FAILED: /);
  assert.match(result.headline, pattern);
  assert.equal(result.problems[0]?.code, code, JSON.stringify(result.problems));
  if (path !== undefined) assert.equal(result.problems[0]?.path, path);
}

const records = (count: number) => testRecords(count).map((record) => formatRecord(record));

// Logs shared by several tests (made once; tests that tamper work on copies).
const logs = new Map<number, string>();
let big: string;
let bigMs = 0;
before(async () => {
  for (const size of [0, 1, 255, 256, 257]) logs.set(size, await witnessLog(size));
  const started = performance.now();
  big = tiledLog(records(70_000));
  bigMs = performance.now() - started;
});

// ------------------------------------------------------------------------------------------------
// Formats

describe('verify page: the checkpoint and the pinned key (the core\'s checks, the page\'s words)', () => {
  /** verifyLog over a log that is just this checkpoint (and no tiles). */
  const verifyCheckpoint = (checkpoint: string, verifierKey: string, origin?: string) =>
    verifyLog(async (relative) => (relative === 'checkpoint' ? { ok: true, bytes: new Uint8Array(Buffer.from(checkpoint)) } : { ok: false, status: 404 }), {
      verifierKey,
      ...(origin !== undefined ? { origin } : {}),
    });

  test('the real sum.golang.org note verifies (then is too large); tampering, other keys and malformed keys do not', async () => {
    const sumdb = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
    const note =
      'go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n\n' +
      '— sum.golang.org Az3grpukl5AXaVfYkLiDGORx/DN2nlcS5kZHR5uYOBV2KA2HgXpD+gu9HHONebHLAyaKbbTM75QTtPydhKCExixSfwQ=\n';
    // The signature verifies; only then does the size (beyond what a browser verifies) stop it.
    assertFailed(await verifyCheckpoint(note, sumdb), 'TOO_LARGE', /the log has 35225469 entries, more than this page verifies in a browser/, 'checkpoint');
    assertFailed(await verifyCheckpoint(note.replace('35225469', '35225468'), sumdb), 'BAD_SIGNATURE', /^FAILED: the checkpoint signature of the pinned key sum\.golang\.org\+033de0ae is invalid$/);
    assertFailed(
      await verifyCheckpoint(note, vkey),
      'NOT_SIGNED_BY_PINNED_KEY',
      /not signed by the pinned key example\.com\/verify-page-log\+[0-9a-f]{8} \(it is signed by: sum\.golang\.org\+033de0ae\)/,
    );
    // A second signature (another key, e.g. a cosigner) is ignored; the pinned one is checked.
    const text = formatCheckpoint({ origin: ORIGIN, size: 0n, rootHash: new Uint8Array(createHash('sha256').digest()), extensions: [] });
    const cosigned = signNote(text, [noteSigner(testSignerKey('example.com/other', 3).signerKey), noteSigner(signerKey)]);
    const empty = await verifyCheckpoint(cosigned, vkey, ORIGIN);
    assert.equal(empty.status, 'verified', empty.headline);
    assert.equal(empty.size, 0);
    assertFailed(await verifyCheckpoint(cosigned, vkey, 'example.com/else'), 'WRONG_ORIGIN', /origin "example\.com\/verify-page-log" is not the pinned origin "example\.com\/else"/);
    assertFailed(await verifyCheckpoint(`${text}\n— ${ORIGIN} AAAA\n`, vkey), 'MALFORMED_CHECKPOINT', /^FAILED: the checkpoint is not a well-formed signed note: /);
    assertFailed(await verifyCheckpoint(signNote(`${ORIGIN}\n01\n${encodeBase64(new Uint8Array(32))}\n`, [noteSigner(signerKey)]), vkey), 'MALFORMED_CHECKPOINT', /^FAILED: the signed checkpoint is malformed: tree size "01" is not a canonical decimal number$/);
    // Keys: Go NewVerifier rules (hash must match; Ed25519 only).
    assert.equal((await verifyCheckpoint(note, 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).problems[0]?.code, 'NOT_SIGNED_BY_PINNED_KEY');
    for (const bad of [
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      cosignatureVerifierKey(signerKey),
      'no-plus-signs',
    ]) {
      assertFailed(await verifyCheckpoint(note, bad), 'BAD_PINNED_KEY', /^FAILED: the pinned verifier key ".*" is malformed: /);
    }
  });
});

// ------------------------------------------------------------------------------------------------
// Whole logs

describe('verify core: logs made by the project', () => {
  for (const size of [0, 1, 255, 256, 257]) {
    test(`WitnessLog of ${size} entries: Verified, every tile of the tree fetched and checked`, async () => {
      const dir = logs.get(size)!;
      const asked: string[] = [];
      const result = await verify(dir, { asked });
      const reader = await LogReader.open(dir, { verifierKey: vkey });
      const { checkpoint } = await reader.readVerifiedEntries();
      assertVerified(result, size, Buffer.from(checkpoint.checkpoint.rootHash).toString('base64'));
      const want = tilesForSize(BigInt(size)).map(nodeTilePath);
      assert.deepEqual(asked.filter((p) => p.startsWith('tile/')).sort(), want.sort());
      assert.deepEqual(result.warnings, []);
    });
  }

  test('70000 entries (levels 0-2, full and partial tiles): Verified in well under a few seconds, with progress', async (t) => {
    const asked: string[] = [];
    const events: Progress[] = [];
    const started = performance.now();
    const result = await verify(big, { asked, onProgress: (p) => events.push(p) });
    const ms = performance.now() - started;
    const reader = await LogReader.open(big, { verifierKey: vkey });
    const root = Buffer.from((await reader.readCheckpoint()).checkpoint.rootHash).toString('base64');
    assertVerified(result, 70_000, root);
    assert.ok(asked.includes('tile/2/000.p/1') && asked.includes('tile/1/001.p/17') && asked.includes('tile/0/273.p/112'));
    assert.equal(asked.length, 2 + 274 + 277);
    assert.match(result.checks.join('\n'), /All 277 hash tiles \(levels 0–2, full and partial\) match/);
    for (const phase of ['checkpoint', 'fetching', 'checking', 'done'] as const) {
      assert.ok(events.some((e) => e.phase === phase), `no ${phase} progress`);
    }
    const fractions = events.map((e) => e.fraction);
    assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), 'progress never goes backwards');
    assert.equal(fractions.at(-1), 1);
    assert.ok(events.some((e) => e.phase === 'fetching' && e.entriesHashed > 0 && e.entriesHashed < 70_000), 'no progress while hashing');
    assert.ok(events.every((e) => e.filesFetched <= e.filesTotal && e.entriesHashed <= e.entriesTotal));
    assert.ok(ms < 10_000, `took ${ms} ms`);
    t.diagnostic(`fixture written in ${bigMs.toFixed(0)} ms; verified 70000 entries in ${ms.toFixed(0)} ms (Node, @noble/hashes)`);
  });

  test('a tampered hash tile byte: FAILED naming the tile and the hash (level 0 full, level 0 partial, level 2)', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [logs.get(257)!, 'tile/0/000', /tile\/0\/000 does not match the tree recomputed from the entries: hash 0 \(entry 0\) differs/],
      [logs.get(257)!, 'tile/0/001.p/1', /tile\/0\/001\.p\/1 does not match .*hash 0 \(entry 256\)/],
      [logs.get(256)!, 'tile/1/000.p/1', /tile\/1\/000\.p\/1 does not match .*hash 0 \(entries 0–255\)/],
    ];
    for (const [dir, tile, pattern] of cases) {
      const copy = copyLog(dir);
      flipByte(path.join(copy, ...tile.split('/')), 5);
      assertFailed(await verify(copy), 'TILE_MISMATCH', pattern, tile);
    }
    // Two tiles of the big log at once: both are named, in tile order.
    const result = await verify(big, { tamper: { 'tile/1/000': flip(32 * 200 + 7), 'tile/2/000.p/1': flip(31) } });
    assertFailed(result, 'TILE_MISMATCH', /tile\/1\/000 does not match .*hash 200 \(entries 51200–51455\)/, 'tile/1/000');
    assert.match(result.problems[1]!.message, /^tile\/2\/000\.p\/1 does not match .*hash 0 \(entries 0–65535\)/);
    assert.equal(result.problems.length, 2);
  });

  test('a tampered entry byte: FAILED naming the entry and its bundle', async () => {
    const copy = copyLog(logs.get(257)!);
    flipByte(path.join(copy, 'tile', 'entries', '001.p', '1'), -1);
    assertFailed(
      await verify(copy),
      'ENTRY_MISMATCH',
      /^FAILED: entry 256 \(number 0 in tile\/entries\/001\.p\/1\) does not match the signed tree: its leaf hash differs from hash 0 of tile\/0\/001\.p\/1$/,
      'tile/entries/001.p/1',
    );
    const result = await verify(big, { tamper: { 'tile/entries/273.p/112': flip(100), 'tile/entries/000': flip(-1) } });
    assertFailed(result, 'ENTRY_MISMATCH', /^FAILED: entry 255 \(number 255 in tile\/entries\/000\)/, 'tile/entries/000');
    assert.match(result.problems[1]!.message, /^entry 69\d\d\d \(number \d+ in tile\/entries\/273\.p\/112\)/);
  });

  test('entries and tiles rewritten consistently (a different log under the old checkpoint): FAILED, root mismatch', async () => {
    const forged = records(300);
    forged[7] = formatRecord({ type: 'test', version: 1, fields: [{ key: 'n', value: 'forged' }] });
    const dir = tiledLog(forged);
    const honest = tiledLog(records(300));
    writeFileSync(path.join(dir, 'checkpoint'), readFileSync(path.join(honest, 'checkpoint')));
    const result = await verify(dir);
    assertFailed(result, 'ROOT_MISMATCH', /^FAILED: the entries hash to root \S+, but the checkpoint is signed for root \S+$/);
  });

  test('missing and malformed files: FAILED naming the file', async () => {
    let copy = copyLog(logs.get(257)!);
    rmSync(path.join(copy, 'tile', '0', '001.p', '1'));
    assertFailed(await verify(copy), 'FETCH_FAILED', /^FAILED: tile\/0\/001\.p\/1 is missing \(HTTP 404\)$/, 'tile/0/001.p/1');
    copy = copyLog(logs.get(257)!);
    rmSync(path.join(copy, 'tile', 'entries', '000'));
    assertFailed(await verify(copy), 'FETCH_FAILED', /tile\/entries\/000 is missing/, 'tile/entries/000');
    copy = copyLog(logs.get(257)!);
    truncateSync(path.join(copy, 'tile', 'entries', '000'), statSync(path.join(copy, 'tile', 'entries', '000')).size - 1);
    assertFailed(await verify(copy), 'MALFORMED_BUNDLE', /tile\/entries\/000 is malformed: entry 255 runs past the end/, 'tile/entries/000');
    copy = copyLog(logs.get(257)!);
    truncateSync(path.join(copy, 'tile', '0', '000'), 8000);
    assertFailed(await verify(copy), 'MALFORMED_TILE', /tile\/0\/000 has 8000 bytes, want 8192/, 'tile/0/000');
    copy = copyLog(logs.get(1)!);
    rmSync(path.join(copy, 'checkpoint'));
    assertFailed(await verify(copy), 'FETCH_FAILED', /^FAILED: checkpoint is missing \(HTTP 404\)$/, 'checkpoint');
  });

  test('a tampered checkpoint signature, a tampered checkpoint, a wrong pinned key or origin: FAILED', async () => {
    const dir = logs.get(255)!;
    let copy = copyLog(dir);
    const checkpointFile = path.join(copy, 'checkpoint');
    const original = readFileSync(checkpointFile, 'utf8');
    const [body, line] = [original.slice(0, original.lastIndexOf('— ')), original.slice(original.lastIndexOf('— '))];
    const [dash, name, b64] = line.trim().split(' ') as [string, string, string];
    const sig = Buffer.from(b64, 'base64');
    sig[20] = sig[20]! ^ 0x01;
    writeFileSync(checkpointFile, `${body}${dash} ${name} ${sig.toString('base64')}\n`);
    assertFailed(await verify(copy), 'BAD_SIGNATURE', /^FAILED: the checkpoint signature of the pinned key example\.com\/verify-page-log\+[0-9a-f]{8} is invalid$/, 'checkpoint');
    copy = copyLog(dir);
    writeFileSync(path.join(copy, 'checkpoint'), original.replace('\n255\n', '\n254\n'));
    assertFailed(await verify(copy), 'BAD_SIGNATURE', /signature .* is invalid/);
    assertFailed(await verify(dir, { verifierKey: other.vkey }), 'NOT_SIGNED_BY_PINNED_KEY', /not signed by the pinned key example\.com\/verify-page-log\+/);
    assertFailed(await verify(dir, { origin: 'example.com/another-log' }), 'WRONG_ORIGIN', /origin "example\.com\/verify-page-log" is not the pinned origin "example\.com\/another-log"/);
    assertFailed(await verify(dir, { verifierKey: 'garbage' }), 'BAD_PINNED_KEY', /pinned verifier key "garbage" is malformed/);
  });

  test('log.vkey differing from the pinned key (or missing) is a warning; only the pinned key is trusted', async () => {
    let copy = copyLog(logs.get(1)!);
    writeFileSync(path.join(copy, 'log.vkey'), `${other.vkey}\n`);
    let result = await verify(copy);
    assertVerified(result, 1);
    assert.equal(result.warnings.length, 1);
    assert.match(result.warnings[0]!, /log\.vkey published with this log .* differs from the key pinned in this page .*trusts only the pinned key/);
    copy = copyLog(logs.get(1)!);
    rmSync(path.join(copy, 'log.vkey'));
    result = await verify(copy);
    assertVerified(result, 1);
    assert.match(result.warnings[0]!, /log\.vkey is missing \(HTTP 404\)/);
  });

  test('an unreachable server or a server error is "unavailable", not a verdict on the log', async () => {
    const result = await verifyLog(async () => {
      throw new TypeError('Failed to fetch');
    }, { verifierKey: vkey, origin: ORIGIN });
    assert.equal(result.status, 'unavailable');
    assert.equal(result.headline, 'Cannot verify: checkpoint could not be fetched: Failed to fetch; try again later');
    // A server error on one tile mid-way is not a verdict either; a 404 is (the log lacks a file).
    const dir = logs.get(257)!;
    const flaky: FetchFile = async (relative) =>
      relative === 'tile/0/001.p/1' ? { ok: false, status: 503 } : folderFetcher(dir)(relative);
    const flakyResult = await verifyLog(flaky, { verifierKey: vkey, origin: ORIGIN });
    assert.equal(flakyResult.status, 'unavailable');
    assert.equal(flakyResult.headline, 'Cannot verify: tile/0/001.p/1 could not be fetched (HTTP 503); try again later');
  });
});

// ------------------------------------------------------------------------------------------------
// The page

describe('verify page: HTML, script and bundle', () => {
  test('verify.html: CSP without inline script, escaped pinned values, relative URLs only', () => {
    const origin = `example.com/log <b>"quoted" & 'single'</script><!--`;
    const html = renderVerifyPage({ origin, verifierKey: `${vkey}\n` });
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1]?.replaceAll('&#39;', "'");
    assert.ok(csp, 'no CSP meta');
    assert.match(csp, /^default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'sha256-[A-Za-z0-9+/]+=*'; /);
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    assert.ok(csp.includes(`'sha256-${createHash('sha256').update(style).digest('base64')}'`), 'style hash');
    // Every <script> is either the external bundle or a JSON data block: nothing inline to execute.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.equal(scripts.length, 2);
    assert.deepEqual(scripts.map((m) => m[1]), [' type="application/json" id="config"', ' src="assets/verify.js" defer']);
    assert.equal(scripts[1]![2], '');
    assert.deepEqual(JSON.parse(scripts[0]![2]!), { origin, verifierKey: vkey });
    assert.ok(!scripts[0]![2]!.includes('<'), 'config JSON must not contain <');
    assert.ok(html.includes('<code>example.com/log &lt;b&gt;&quot;quoted&quot; &amp; &#39;single&#39;&lt;/script&gt;&lt;!--</code>'));
    assert.ok(!html.includes('<b>'));
    // Relative URLs (the site may live under a sub-path); the only absolute link is the spec's.
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) {
      if (url === 'https://c2sp.org/tlog-tiles') continue;
      assert.ok(!/^(?:[a-z]+:|\/)/i.test(url!), `absolute URL ${url}`);
    }
    assert.match(html, /<meta name="viewport" content="width=device-width, initial-scale=1">/);
  });

  test('the page refuses keys it cannot pin', () => {
    for (const verifierKey of ['nonsense', other.skey, cosignatureVerifierKey(signerKey), vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')]) {
      assert.throws(() => renderVerifyPage({ origin: ORIGIN, verifierKey }), { code: 'BAD_VERIFIER_KEY' });
    }
    assert.throws(() => renderVerifyPage({ origin: '', verifierKey: vkey }), { code: 'BAD_ORIGIN' });
    assert.throws(() => renderVerifyPage({ origin: 'a\nb', verifierKey: vkey }), { code: 'BAD_ORIGIN' });
    assert.throws(() => renderVerifyPage({ origin: ORIGIN, verifierKey: other.skey }), (error: Error) => !error.message.includes(other.skey));
  });

  test('writeVerifyPage writes verify.html and assets/verify.js (the committed bundle)', async () => {
    const out = tempDir('verify-page-out-');
    await writeVerifyPage(out, { origin: ORIGIN, verifierKey: vkey });
    assert.equal(readFileSync(path.join(out, VERIFY_PAGE_FILE), 'utf8'), renderVerifyPage({ origin: ORIGIN, verifierKey: vkey }));
    assert.equal(readFileSync(path.join(out, VERIFY_SCRIPT_FILE), 'utf8'), VERIFY_JS);
    assert.equal(VERIFY_JS, readFileSync(path.join(ROOT, BUNDLE_JS), 'utf8'));
  });

  test('the committed bundle equals a fresh esbuild build (run `npm run build:verify` after editing src/publish/browser/)', async () => {
    for (const [file, fresh] of await generatedFiles()) {
      const committed = readFileSync(path.join(ROOT, file), 'utf8');
      assert.ok(committed === fresh, `${file} is stale: regenerate it with npm run build:verify (node --import tsx scripts/build-verify-bundle.ts)`);
    }
    const js = readFileSync(path.join(ROOT, BUNDLE_JS), 'utf8');
    assert.match(js, /^\/\* GENERATED by scripts\/build-verify-bundle\.ts .*regenerate with npm run build:verify/);
    assert.ok(!/\brequire\(|["']node:/.test(js), 'the browser bundle must not use node built-ins');
    assert.ok(/^[\x00-\x7f]*$/.test(js), 'ASCII only');
    assert.ok(readFileSync(path.join(ROOT, BUNDLE_MODULE), 'utf8').startsWith('// GENERATED by scripts/build-verify-bundle.ts'));
  });
});

// ------------------------------------------------------------------------------------------------
// Chromium

interface Site {
  readonly url: string;
  /** Paths the browser asked for. */
  readonly requests: string[];
}

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

/**
 * A site served on 127.0.0.1 under /site/: the verify page (written to its own folder) over the log's
 * files, as the site generator lays them out in one folder. `logDir` is served in place: tamper copies.
 */
async function serveSite(logDir: string, options: { origin: string; verifierKey: string }): Promise<Site> {
  const pageDir = tempDir('verify-page-site-');
  await writeVerifyPage(pageDir, options);
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    const relative = url.pathname.startsWith('/site/') ? decodeURIComponent(url.pathname.slice('/site/'.length)) : '';
    const file = [pageDir, logDir]
      .map((root) => path.join(root, ...relative.split('/')))
      .find((candidate) => relative !== '' && !relative.split('/').includes('..') && existsSync(candidate) && statSync(candidate).isFile());
    if (!file) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? (relative === 'checkpoint' || relative === 'log.vkey' ? 'text/plain; charset=utf-8' : 'application/octet-stream');
    response.writeHead(200, { 'content-type': type }).end(readFileSync(file));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/site/`, requests };
}

/** Runs headless Chromium (asynchronously: the server lives in this process) and returns its output. */
function chromium(args: string[]): Promise<{ stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${tempDir('verify-page-chromium-')}`,
      '--virtual-time-budget=10000',
      '--enable-logging=stderr',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // The process group of the Chromium started here (its renderer and GPU helpers).
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`chromium timed out after 45 s; stderr:\n${stderr.slice(-3000)}`));
    }, 45_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** The verdict shown in a DOM dump: status class and the status text. */
function pageVerdict(dom: string): { state: string; text: string; problems: string[] } {
  const state = /<div id="status" class="status (\w+)"/.exec(dom)?.[1] ?? '(no status)';
  const decode = (s: string) =>
    s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  const text = decode(/<p id="status-text">([\s\S]*?)<\/p>/.exec(dom)?.[1] ?? '(no status text)');
  const list = /<ul id="problems">([\s\S]*?)<\/ul>/.exec(dom)?.[1] ?? '';
  return { state, text, problems: [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) => decode(m[1]!)) };
}

function cspViolations(stderr: string): string[] {
  return stderr.split('\n').filter((line) => /Content Security Policy|Refused to/i.test(line));
}

// Screenshots are kept (outside the test's temporary folders, which are removed) so people can look.
let screenshots: string | undefined;
const screenshotDir = () => (screenshots ??= mkdtempSync(path.join(tmpdir(), 'verify-page-screenshots-')));

describe('verify page in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install Debian's chromium to run the browser tests` }, () => {
  test('a 70000-entry log (tile levels 0-2) under /site/: Verified', async (t) => {
    const site = await serveSite(big, { origin: ORIGIN, verifierKey: vkey });
    const run = await chromium(['--dump-dom', `${site.url}verify.html`]);
    const verdict = pageVerdict(run.stdout);
    assert.equal(verdict.state, 'verified', `${verdict.text}\n${run.stderr.slice(-2000)}`);
    assert.match(verdict.text, /^Verified: 70000 entries, root [A-Za-z0-9+/]{43}=, signed by example\.com\/verify-page-log$/);
    assert.deepEqual(cspViolations(run.stderr), []);
    for (const file of ['verify.html', 'assets/verify.js', 'checkpoint', 'log.vkey', 'tile/entries/273.p/112', 'tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']) {
      assert.ok(site.requests.includes(`/site/${file}`), `the browser did not fetch /site/${file}`);
    }
    t.diagnostic(`Chromium verified 70000 entries (${site.requests.length} requests) in ${run.ms.toFixed(0)} ms, browser start-up included`);
  });

  test('a WitnessLog of 257 entries under /site/: Verified; one tampered tile byte: FAILED naming the tile; screenshot', async (t) => {
    const dir = copyLog(logs.get(257)!);
    const site = await serveSite(dir, { origin: ORIGIN, verifierKey: vkey });
    const run = await chromium(['--dump-dom', `${site.url}verify.html`]);
    assert.match(pageVerdict(run.stdout).text, /^Verified: 257 entries, root /);
    flipByte(path.join(dir, 'tile', '0', '000'), 32 * 17 + 3);
    const tampered = await chromium(['--dump-dom', `${site.url}verify.html`]);
    const failed = pageVerdict(tampered.stdout);
    assert.equal(failed.state, 'failed', failed.text);
    assert.equal(failed.text, 'FAILED: tile/0/000 does not match the tree recomputed from the entries: hash 17 (entry 17) differs');
    assert.deepEqual(cspViolations(tampered.stderr), []);
    const shot = path.join(screenshotDir(), 'verify-failed.png');
    await chromium([`--screenshot=${shot}`, '--window-size=1000,700', `${site.url}verify.html`]);
    assert.ok(existsSync(shot) && statSync(shot).size > 1000, 'no screenshot');
    t.diagnostic(`screenshot of the FAILED page: ${shot}`);
  });

  test('the committed witness-log/ (the embedded log) served under /site/: Verified with the embedded key; screenshot', async (t) => {
    const site = await serveSite(EMBEDDED_LOG_DIR, { origin: EMBEDDED_LOG_ORIGIN, verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
    const run = await chromium(['--dump-dom', `${site.url}verify.html`]);
    const verdict = pageVerdict(run.stdout);
    const checkpoint = readFileSync(path.join(EMBEDDED_LOG_DIR, 'checkpoint'), 'utf8').split('\n');
    assert.equal(verdict.state, 'verified', `${verdict.text}\n${run.stderr.slice(-2000)}`);
    assert.equal(verdict.text, `Verified: ${checkpoint[1]} entries, root ${checkpoint[2]}, signed by ${EMBEDDED_LOG_ORIGIN}`);
    assert.deepEqual(cspViolations(run.stderr), []);
    const shot = path.join(screenshotDir(), 'verify-verified.png');
    await chromium([`--screenshot=${shot}`, '--window-size=1000,700', `${site.url}verify.html`]);
    assert.ok(existsSync(shot) && statSync(shot).size > 1000, 'no screenshot');
    t.diagnostic(`screenshot of the Verified page: ${shot}`);
    const mobile = path.join(screenshotDir(), 'verify-mobile.png');
    await chromium([`--screenshot=${mobile}`, '--window-size=390,844', `${site.url}verify.html`]);
    t.diagnostic(`screenshot at a phone's width: ${mobile}`);
  });

  test('opened from file://: says to open it over http(s) instead of failing cryptically', async () => {
    const root = copyLog(logs.get(1)!);
    await writeVerifyPage(root, { origin: ORIGIN, verifierKey: vkey });
    const run = await chromium(['--dump-dom', pathToFileURL(path.join(root, VERIFY_PAGE_FILE)).href]);
    const verdict = pageVerdict(run.stdout);
    assert.equal(verdict.state, 'unavailable', verdict.text);
    assert.match(verdict.text, /open this page over http\(s\) — e\.g\. GitHub Pages — to verify; file:\/\/ forbids fetching the log/);
  });
});
