// The log's git history on the published site: src/publish/git-objects.ts (what `publish` writes under
// git/), src/publish/browser/history.ts (the check verify.html runs, here in Node over the site folder)
// and the real page in headless Chromium served on 127.0.0.1: the embedded log's history verified, a
// history with a rolled-back checkpoint, an inconsistent (forked) one, and tampered objects FAILED, each
// as `witness verify` judges the same repository.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { EMBEDDED_LOG_DIR, EMBEDDED_LOG_ORIGIN, EMBEDDED_LOG_VERIFIER_KEY } from '../src/embedded.js';
import { WitnessError } from '../src/errors.js';
import { WitnessLog } from '../src/log/log.js';
import { formatRecord } from '../src/log/record.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { type HistoryResult, verifyGitHistory } from '../src/publish/browser/history.js';
import { GIT_HISTORY_DIR, GIT_HISTORY_MANIFEST, exportGitHistory } from '../src/publish/git-objects.js';
import { publishSite } from '../src/publish/site.js';
import { formatCheckpoint } from '../src/tlog/checkpoint.js';
import { MemoryTree } from '../src/tlog/merkle.js';
import { signNote } from '../src/tlog/note.js';
import { noteSigner } from '../src/tlog-node/signer.js';
import { chromiumMissing, dumpDom } from './helpers/chromium.js';
import { flipByte, git, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';

const { signerKey, vkey } = testSignerKey('example.com/history-log', 21);
const ORIGIN = signerKey.name;

/** The site's files to history.ts, as a web server gives them (missing: 404). */
function siteFetcher(site: string) {
  return async (relative: string) => {
    try {
      return { ok: true as const, bytes: new Uint8Array(await readFile(path.join(site, ...relative.split('/')))) };
    } catch {
      return { ok: false as const, status: 404 };
    }
  };
}

function checkSite(site: string, origin = ORIGIN, verifierKey = vkey): Promise<HistoryResult> {
  return verifyGitHistory(siteFetcher(site), { origin, verifierKey });
}

/** A log repository (WitnessLog.init: its own git work tree) with 10 then 20 entries: 3 commits. */
async function twoAppends(): Promise<{ dir: string; atTen: string }> {
  const dir = path.join(tempDir('history-log-'), 'log');
  const { log } = await WitnessLog.init(dir, signerKey);
  await log.append(testRecords(10), signerKey);
  const atTen = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
  await log.append(testRecords(10, 10), signerKey);
  return { dir, atTen };
}

/** Publishes `dir` into a new site folder. */
async function publish(dir: string, verifierKey = vkey): Promise<string> {
  const site = path.join(tempDir('history-site-'), 'site');
  await publishSite({ logDir: dir, outDir: site, verifierKey });
  return site;
}

/** Replaces the site's git/ with the history of `dir` as it is now (which publish would refuse to write). */
async function replaceHistory(site: string, dir: string): Promise<void> {
  const result = await exportGitHistory(dir);
  assert.ok('exported' in result, JSON.stringify(result));
  rmSync(path.join(site, GIT_HISTORY_DIR), { recursive: true, force: true });
  for (const [file, content] of result.exported.files) {
    mkdirSync(path.dirname(path.join(site, file)), { recursive: true });
    writeFileSync(path.join(site, file), content);
  }
}

/** `witness verify` of the repository fails with `code`. */
async function verifyFails(dir: string, code: string): Promise<string> {
  let message = '';
  await assert.rejects(verifyLogFolder(dir, { verifierKey: vkey }), (error: unknown) => {
    assert.ok(error instanceof WitnessError && error.code === code, `${String(error)}`);
    message = error.message;
    return true;
  });
  return message;
}

function packFiles(site: string): { pack: string; idx: string } {
  const manifest = JSON.parse(readFileSync(path.join(site, GIT_HISTORY_MANIFEST), 'utf8')) as { files: string[] };
  const pack = manifest.files.find((file) => file.endsWith('.pack'))!;
  return { pack: path.join(site, GIT_HISTORY_DIR, pack), idx: path.join(site, GIT_HISTORY_DIR, pack.replace(/\.pack$/, '.idx')) };
}

/** Swaps the pack offsets of two objects in a pack index (v2, git-scm.com/docs/gitformat-pack) and re-seals it. */
function swapOffsets(idxFile: string, a: number, b: number): void {
  const idx = readFileSync(idxFile);
  const count = idx.readUInt32BE(8 + 255 * 4);
  const offsets = 8 + 256 * 4 + count * 20 + count * 4;
  const at = (i: number) => offsets + i * 4;
  const first = idx.readUInt32BE(at(a));
  idx.writeUInt32BE(idx.readUInt32BE(at(b)), at(a));
  idx.writeUInt32BE(first, at(b));
  createHash('sha1').update(idx.subarray(0, idx.length - 20)).digest().copy(idx, idx.length - 20);
  writeFileSync(idxFile, idx);
}

/** The positions in the pack index (objects sorted by id) of two commits, from git verify-pack. */
function twoCommitPositions(site: string, dir: string): [number, number] {
  const objects = git(dir, 'verify-pack', '-v', packFiles(site).idx).split('\n').filter((line) => /^[0-9a-f]{40} /.test(line)).map((line) => line.split(' ') as [string, string]);
  const sorted = objects.map(([oid]) => oid).sort();
  const commits = objects.filter(([, type]) => type === 'commit').map(([oid]) => oid);
  return [sorted.indexOf(commits[0]!), sorted.indexOf(commits[1]!)];
}

describe('the git history export (git/ in the site)', () => {
  test('the embedded log: every commit witness verify walks, only trees down to the log and checkpoint blobs, the same bytes twice', async () => {
    const [first, second] = await Promise.all([exportGitHistory(EMBEDDED_LOG_DIR), exportGitHistory(EMBEDDED_LOG_DIR)]);
    assert.ok('exported' in first && 'exported' in second);
    const files = [...first.exported.files.keys()];
    assert.deepEqual(files.sort(), [...second.exported.files.keys()].sort());
    for (const file of files) assert.ok(Buffer.from(first.exported.files.get(file)!).equals(second.exported.files.get(file)!), `${file} differs between runs`);
    const root = git(EMBEDDED_LOG_DIR, 'rev-parse', '--show-toplevel').trim();
    assert.equal(first.exported.manifest.commits, Number(git(root, 'rev-list', '--count', 'HEAD').trim()));
    assert.equal(first.exported.manifest.checkpoint, 'witness-log/checkpoint');
    // What the pack holds, as git itself lists it.
    const site = tempDir('history-export-');
    for (const [file, content] of first.exported.files) {
      mkdirSync(path.dirname(path.join(site, file)), { recursive: true });
      writeFileSync(path.join(site, file), content);
    }
    const objects = git(root, 'verify-pack', '-v', packFiles(site).idx).split('\n').filter((line) => /^[0-9a-f]{40} /.test(line)).map((line) => line.split(' ').slice(0, 2) as [string, string]);
    const checkpointBlobs = new Set(
      git(root, 'log', '--format=%H', 'HEAD').trim().split('\n').flatMap((commit) => {
        const entry = git(root, 'ls-tree', commit, 'witness-log/checkpoint').trim();
        return entry === '' ? [] : [entry.split(/\s+/)[2]!];
      }),
    );
    assert.equal(objects.filter(([, type]) => type === 'commit').length, first.exported.manifest.commits);
    assert.deepEqual(new Set(objects.filter(([, type]) => type === 'blob').map(([oid]) => oid)), checkpointBlobs);
    assert.equal(first.exported.manifest.objects, objects.length);
    // The history check of the page, in Node, over that copy (the checkpoint file it needs is the log's).
    cpSync(path.join(EMBEDDED_LOG_DIR, 'tile'), path.join(site, 'tile'), { recursive: true });
    writeFileSync(path.join(site, 'checkpoint'), readFileSync(path.join(EMBEDDED_LOG_DIR, 'checkpoint')));
    const result = await checkSite(site, EMBEDDED_LOG_ORIGIN, EMBEDDED_LOG_VERIFIER_KEY);
    assert.equal(result.status, 'verified', result.headline);
    const report = await verifyLogFolder(EMBEDDED_LOG_DIR, { verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
    assert.equal(result.checkpoints, report.history.checkpoints.length, 'the page and witness verify count the same committed checkpoints');
    assert.equal(result.commits, first.exported.manifest.commits);
  });

  test('publish writes git/ into the site, and the page check of that site says verified', async () => {
    const { dir } = await twoAppends();
    const site = await publish(dir);
    for (const file of ['git/HEAD', GIT_HISTORY_MANIFEST]) assert.ok(existsSync(path.join(site, file)), file);
    assert.equal(readFileSync(path.join(site, 'git/HEAD'), 'utf8'), `${git(dir, 'rev-parse', 'HEAD').trim()}\n`);
    const result = await checkSite(site);
    assert.equal(result.status, 'verified', result.headline);
    assert.equal(result.headline, 'Git history verified: 3 commits, 3 committed checkpoints, each signed, consistent with the current tree, never rolled back');
    assert.deepEqual(result.warnings, []);
  });

  test('a log outside git: no git/ in the site, and the page says the history is not published', async () => {
    const { dir } = await twoAppends();
    const copy = path.join(tempDir('history-nogit-'), 'log');
    git(path.dirname(copy), 'clone', '-q', dir, copy);
    rmSync(path.join(copy, '.git'), { recursive: true, force: true });
    const site = await publish(copy);
    assert.ok(!existsSync(path.join(site, GIT_HISTORY_DIR)));
    const result = await checkSite(site);
    assert.equal(result.status, 'absent', result.headline);
  });
});

describe('the page check FAILS where witness verify fails', () => {
  test('a commit whose checkpoint is smaller than its parent\'s (rolled back, then restored)', async () => {
    const { dir, atTen } = await twoAppends();
    const site = await publish(dir);
    const current = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    writeFileSync(path.join(dir, 'checkpoint'), atTen);
    git(dir, 'commit', '-qam', `roll back\n\n${atTen}`);
    const rollback = git(dir, 'rev-parse', 'HEAD').trim().slice(0, 12);
    writeFileSync(path.join(dir, 'checkpoint'), current);
    git(dir, 'commit', '-qam', `restore\n\n${current}`);
    const message = await verifyFails(dir, 'LOG_ROLLED_BACK');
    assert.equal(message, `commit ${rollback} shrinks the log from size 20 to 10: the log was rolled back`);
    await replaceHistory(site, dir);
    const result = await checkSite(site);
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.problem, { code: 'LOG_ROLLED_BACK', message });
    assert.equal(result.headline, `FAILED: git history: ${message}`);
  });

  test('a committed checkpoint that is signed but not a prefix of the log (a fork), and one in a commit message', async () => {
    const { dir } = await twoAppends();
    const site = await publish(dir);
    const real = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    const other = new MemoryTree();
    for (const record of testRecords(5, 1000)) other.append(formatRecord(record));
    const forged = signNote(formatCheckpoint({ origin: ORIGIN, size: 5n, rootHash: other.root(), extensions: [] }), [noteSigner(signerKey)]);
    writeFileSync(path.join(dir, 'checkpoint'), forged);
    git(dir, 'commit', '-qam', `fork\n\n${forged}`);
    writeFileSync(path.join(dir, 'checkpoint'), real);
    git(dir, 'commit', '-qam', `back\n\n${real}`);
    const message = await verifyFails(dir, 'INCONSISTENT_CHECKPOINT');
    await replaceHistory(site, dir);
    const result = await checkSite(site);
    assert.equal(result.status, 'failed');
    assert.equal(result.problem?.code, 'INCONSISTENT_CHECKPOINT');
    // Both name the commit, the size and the root; the page proves it with a consistency proof.
    assert.equal(result.problem?.message.split(' is not consistent')[0], message.split(' is not consistent')[0]);
    assert.match(result.problem!.message, /^checkpoint in commit [0-9a-f]{12}: size 5 root \S+ is not consistent with the current log/);

    // The same forged checkpoint only quoted in a commit message: a fork, for both.
    git(dir, 'reset', '-q', '--hard', 'HEAD~2');
    git(dir, 'commit', '-q', '--allow-empty', '-m', `note\n\n${forged}`);
    await verifyFails(dir, 'FORKED_CHECKPOINT');
    await replaceHistory(site, dir);
    const forked = await checkSite(site);
    assert.equal(forked.problem?.code, 'FORKED_CHECKPOINT', forked.headline);
  });

  test('tampered objects: a byte of the pack, and an index that maps one commit id to another commit', async () => {
    const { dir } = await twoAppends();
    const site = await publish(dir);
    const { pack, idx } = packFiles(site);
    const packBytes = readFileSync(pack);
    flipByte(pack, 40);
    const flipped = await checkSite(site);
    assert.equal(flipped.status, 'failed');
    assert.match(flipped.headline, /^FAILED: git history: git object [0-9a-f]{40} cannot be read from the published pack: .*(corrupted|tampered)/);
    writeFileSync(pack, packBytes);
    assert.equal((await checkSite(site)).status, 'verified');
    // The pack intact and matching its index's checksum, but the index sealed again with two commits'
    // offsets swapped: only the object id check sees it.
    const [a, b] = twoCommitPositions(site, dir);
    swapOffsets(idx, a, b);
    const swapped = await checkSite(site);
    assert.equal(swapped.status, 'failed');
    assert.equal(swapped.problem?.code, 'HISTORY_OBJECT_CORRUPT');
    assert.match(swapped.headline, /^FAILED: git history: git object [0-9a-f]{40} holds bytes whose id is [0-9a-f]{40}: the published copy was modified$/);
  });

  test('a manifest that claims more commits than the page walks, or files outside the git directory, is refused', async () => {
    const { dir } = await twoAppends();
    const site = await publish(dir);
    const file = path.join(site, GIT_HISTORY_MANIFEST);
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...manifest, commits: 10_000_000 }));
    assert.equal((await checkSite(site)).problem?.code, 'HISTORY_TOO_LARGE');
    writeFileSync(file, JSON.stringify({ ...manifest, files: ['HEAD', '../checkpoint'] }));
    assert.equal((await checkSite(site)).problem?.code, 'BAD_HISTORY_MANIFEST');
    writeFileSync(file, JSON.stringify({ ...manifest, commits: 2 }));
    assert.equal((await checkSite(site)).problem?.code, 'HISTORY_TOO_LARGE');
  });
});

// ------------------------------------------------------------------------------------------------
// Chromium

const servers: Server[] = [];
after(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.json': 'application/json' };

/** Serves a site folder on 127.0.0.1 under /site/; `hide` paths answer 404. */
async function serve(site: string, hide: (relative: string) => boolean = () => false): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    requests.push(url.pathname);
    const relative = url.pathname.startsWith('/site/') ? decodeURIComponent(url.pathname.slice('/site/'.length)) : '';
    const file = path.join(site, ...relative.split('/'));
    if (relative === '' || relative.split('/').includes('..') || hide(relative) || !existsSync(file) || !statSync(file).isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/site/`, requests };
}

/** The two verdicts in a DOM dump: the log's (#status) and the history's (#history). */
function verdicts(dom: string): { log: string; history: string; historyText: string } {
  const decode = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return {
    log: /<div id="status" class="status (\w+)"/.exec(dom)?.[1] ?? '(no status)',
    history: /<div id="history" class="status (\w+)"/.exec(dom)?.[1] ?? '(no history box)',
    historyText: decode(/<p id="history-text">([\s\S]*?)<\/p>/.exec(dom)?.[1] ?? '(no history text)'),
  };
}

describe('verify.html in headless Chromium: the git history', { skip: chromiumMissing() ?? false }, () => {
  test('the embedded log published into a temp site: history verified; without git/: not published; timing', async (t) => {
    const site = path.join(tempDir('history-embedded-'), 'site');
    await publishSite({ logDir: EMBEDDED_LOG_DIR, outDir: site, verifierKey: EMBEDDED_LOG_VERIFIER_KEY });
    const served = await serve(site);
    const root = git(EMBEDDED_LOG_DIR, 'rev-parse', '--show-toplevel').trim();
    const commits = Number(git(root, 'rev-list', '--count', 'HEAD').trim());
    const timed = async (url: string) => {
      const started = performance.now();
      const dom = await dumpDom(url);
      return { dom, ms: performance.now() - started };
    };
    const withHistory = await timed(`${served.url}verify.html`);
    const verdict = verdicts(withHistory.dom);
    assert.equal(verdict.log, 'verified');
    assert.equal(verdict.history, 'verified', verdict.historyText);
    assert.match(verdict.historyText, new RegExp(`^Git history verified: ${commits} commits, \\d+ committed checkpoints, each signed, consistent with the current tree, never rolled back$`));
    for (const file of ['git/history.json', 'git/HEAD']) assert.ok(served.requests.includes(`/site/${file}`), file);
    assert.ok(!served.requests.some((request) => request.startsWith('/site/git/objects/') && !request.includes('/pack/')), 'no loose object was fetched');
    const hidden = await serve(site, (relative) => relative.startsWith('git/'));
    const without = await timed(`${hidden.url}verify.html`);
    assert.equal(verdicts(without.dom).log, 'verified');
    assert.equal(verdicts(without.dom).history, 'unavailable', verdicts(without.dom).historyText);
    // Wall time of Chromium with the history check and without it (start-up included in both).
    const again = await timed(`${served.url}verify.html`);
    const againWithout = await timed(`${hidden.url}verify.html`);
    const stats = /<p id="stats" class="muted">([^<]*)<\/p>/.exec(withHistory.dom)?.[1];
    t.diagnostic(`Chromium with the history check: ${withHistory.ms.toFixed(0)} / ${again.ms.toFixed(0)} ms, without: ${without.ms.toFixed(0)} / ${againWithout.ms.toFixed(0)} ms; the page says: ${stats}`);
  });

  test('a site whose history holds a rolled-back checkpoint: FAILED', async () => {
    const { dir, atTen } = await twoAppends();
    const site = await publish(dir);
    const current = readFileSync(path.join(dir, 'checkpoint'), 'utf8');
    writeFileSync(path.join(dir, 'checkpoint'), atTen);
    git(dir, 'commit', '-qam', `roll back\n\n${atTen}`);
    const rollback = git(dir, 'rev-parse', 'HEAD').trim().slice(0, 12);
    writeFileSync(path.join(dir, 'checkpoint'), current);
    git(dir, 'commit', '-qam', `restore\n\n${current}`);
    await replaceHistory(site, dir);
    const verdict = verdicts(await dumpDom(`${(await serve(site)).url}verify.html`));
    assert.equal(verdict.log, 'verified');
    assert.equal(verdict.history, 'failed');
    assert.equal(verdict.historyText, `FAILED: git history: commit ${rollback} shrinks the log from size 20 to 10: the log was rolled back`);
  });

  test('a site with a tampered git object (two commits swapped in the pack index): FAILED', async () => {
    const { dir } = await twoAppends();
    const site = await publish(dir);
    const [a, b] = twoCommitPositions(site, dir);
    swapOffsets(packFiles(site).idx, a, b);
    const verdict = verdicts(await dumpDom(`${(await serve(site)).url}verify.html`));
    assert.equal(verdict.history, 'failed');
    assert.match(verdict.historyText, /^FAILED: git history: git object [0-9a-f]{40} holds bytes whose id is [0-9a-f]{40}: the published copy was modified$/);
  });
});
