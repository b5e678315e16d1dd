// Deploying a site folder: (a) git push to a local bare repository, (b) the GitHub Git Data + Pages API
// against an in-memory fake on 127.0.0.1. No network beyond loopback.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EnvironmentError, UsageError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import {
  DEPLOY_AUTHOR,
  GitHubApiError,
  deploySiteToGitHub,
  gitTreeSha,
  pushSiteToBranch,
  readSiteFolder,
  redactCredentials,
} from '../src/publish/deploy.js';
import { git, tempDir } from './helpers/fixtures.js';

const BINARY = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7 + 3) % 256));

/** A generated-looking site: dotfile, nested folders, binary bytes, a non-ASCII name, an empty folder. */
function makeSite(dir = path.join(tempDir('witness-site-'), 'site')): string {
  const files: Record<string, Buffer | string> = {
    '.nojekyll': '',
    'index.html': '<!doctype html><title>witness</title>\n',
    checkpoint: 'example.com/log\n3\nAAAA\n\n— example.com/log sig\n',
    'tile/0/000': BINARY,
    'tile/0/x001/002': Buffer.from([0, 1, 2, 255, 0, 13, 10, 13]),
    'tile/entries/000.p/2': 'partial\r\nline\n',
    'docs/ünïcode name.txt': 'utf-8 name\n',
    'docs/a.b': 'sorts before a/\n',
    'docs/a/c': 'nested\n',
  };
  for (const [name, data] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), data);
  }
  chmodSync(path.join(dir, 'index.html'), 0o755); // published as 100644 all the same
  mkdirSync(path.join(dir, 'empty'), { recursive: true });
  return dir;
}

function bareRepo(): string {
  const dir = path.join(tempDir('witness-remote-'), 'site.git');
  git(path.dirname(dir), 'init', '--quiet', '--bare', '--initial-branch=main', dir);
  return dir;
}

function gitBuffer(gitDir: string, ...args: string[]): Buffer {
  // A fixed identity: CI runs with an empty HOME and no git config.
  const identity = { GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@example.invalid', GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@example.invalid' };
  return execFileSync('git', [`--git-dir=${gitDir}`, ...args], { maxBuffer: 64 << 20, env: { ...process.env, ...identity } });
}

/** The branch's tree as path → { mode, bytes }. */
function branchFiles(gitDir: string, rev: string): Map<string, { mode: string; data: Buffer }> {
  const out = new Map<string, { mode: string; data: Buffer }>();
  for (const record of gitBuffer(gitDir, 'ls-tree', '-r', '-z', '--full-tree', rev).toString('utf8').split('\0')) {
    if (record === '') continue;
    const [meta, name] = record.split('\t') as [string, string];
    const [mode, type, sha] = meta.split(' ') as [string, string, string];
    assert.equal(type, 'blob');
    out.set(name, { mode, data: gitBuffer(gitDir, 'cat-file', 'blob', sha) });
  }
  return out;
}

async function assertSameAsFolder(actual: Map<string, { mode: string; data: Buffer }>, siteDir: string): Promise<void> {
  const expected = await readSiteFolder(siteDir);
  assert.deepEqual([...actual.keys()].sort(), expected.map((f) => f.path).sort());
  for (const file of expected) {
    const got = actual.get(file.path)!;
    assert.equal(got.mode, '100644', file.path);
    assert.ok(got.data.equals(file.data), `bytes of ${file.path}`);
  }
}

const rev = (gitDir: string, spec: string) => gitBuffer(gitDir, 'rev-parse', '--verify', spec).toString('utf8').trim();

describe('readSiteFolder / gitTreeSha', () => {
  test('lists every file, dotfiles included, and matches git write-tree', async () => {
    const site = makeSite();
    const files = await readSiteFolder(site);
    assert.deepEqual(
      files.map((f) => f.path),
      ['.nojekyll', 'checkpoint', 'docs/a.b', 'docs/a/c', 'docs/ünïcode name.txt', 'index.html', 'tile/0/000', 'tile/0/x001/002', 'tile/entries/000.p/2'],
    );
    const scratch = tempDir('witness-index-');
    git(scratch, 'init', '--quiet');
    const input = files.map((f) => `100644 ${git(scratch, 'hash-object', '-w', '--no-filters', path.join(site, f.path)).trim()}\t${f.path}\0`).join('');
    execFileSync('git', ['update-index', '--add', '-z', '--index-info'], { cwd: scratch, input });
    assert.equal(gitTreeSha(files), git(scratch, 'write-tree').trim());
  });
});

describe('pushSiteToBranch (git)', () => {
  test('publishes byte-identical content, skips unchanged, grows history', async () => {
    const remote = bareRepo();
    const site = makeSite();
    const emptyHome = tempDir('witness-home-');
    // No git config at all: the fixed identity must suffice.
    const env = { HOME: emptyHome, XDG_CONFIG_HOME: emptyHome, GIT_CONFIG_NOSYSTEM: '1' };

    const first = await pushSiteToBranch({ siteDir: site, remote, message: 'publish 1', env });
    assert.equal(first.changed, true);
    assert.equal(rev(remote, 'refs/heads/gh-pages'), first.commit);
    await assertSameAsFolder(branchFiles(remote, first.commit), site);
    const info = gitBuffer(remote, 'log', '-1', '--format=%P|%an <%ae>|%cn <%ce>|%B', first.commit).toString('utf8');
    const identity = `${DEPLOY_AUTHOR.name} <${DEPLOY_AUTHOR.email}>`;
    assert.equal(info.trim(), `|${identity}|${identity}|publish 1`);

    // Unchanged: no commit, nothing pushed.
    const again = await pushSiteToBranch({ siteDir: site, remote, env });
    assert.deepEqual(again, { commit: first.commit, changed: false });
    assert.equal(gitBuffer(remote, 'rev-list', '--count', 'refs/heads/gh-pages').toString('utf8').trim(), '1');

    // One file removed, one changed, one added: a new commit on top of the previous one.
    rmSync(path.join(site, 'tile/0/x001/002'));
    writeFileSync(path.join(site, 'checkpoint'), 'example.com/log\n4\nBBBB\n');
    writeFileSync(path.join(site, 'tile/0/001'), Buffer.from([0xff, 0xfe, 0]));
    const second = await pushSiteToBranch({ siteDir: site, remote, branch: 'gh-pages', message: 'publish 2' });
    assert.equal(second.changed, true);
    assert.notEqual(second.commit, first.commit);
    assert.equal(rev(remote, 'refs/heads/gh-pages'), second.commit);
    assert.equal(rev(remote, `${second.commit}^`), first.commit);
    const files = branchFiles(remote, second.commit);
    assert.equal(files.has('tile/0/x001/002'), false);
    await assertSameAsFolder(files, site);
    assert.equal(gitBuffer(remote, 'rev-list', '--count', 'refs/heads/gh-pages').toString('utf8').trim(), '2');
    // The remote's other branches are untouched; so is the relative-path form of the remote.
    const third = await pushSiteToBranch({ siteDir: site, remote: path.relative(process.cwd(), remote), branch: 'preview/pages' });
    assert.equal(third.changed, true);
    assert.equal(rev(remote, 'refs/heads/preview/pages'), third.commit);
    assert.equal(rev(remote, 'refs/heads/gh-pages'), second.commit);
  });

  test('a remote that moved meanwhile: REMOTE_MOVED, nothing overwritten', async () => {
    const remote = bareRepo();
    const site = makeSite();
    const first = await pushSiteToBranch({ siteDir: site, remote });
    // Someone else's deploy, made while ours runs: the remote's upload-pack (serving our fetch) runs this
    // hook, which moves gh-pages to a child of the tip just after advertising the old tip to us.
    const theirs = gitBuffer(remote, 'commit-tree', `${first.commit}^{tree}`, '-p', first.commit, '-m', 'concurrent deploy').toString('utf8').trim();
    const hook = path.join(tempDir('witness-hook-'), 'move-remote.sh');
    writeFileSync(hook, `#!/bin/sh\ngit --git-dir='${remote}' update-ref refs/heads/gh-pages ${theirs} ${first.commit} || exit 1\nexec "$@"\n`, { mode: 0o755 });
    const globalConfig = path.join(path.dirname(hook), 'gitconfig');
    writeFileSync(globalConfig, `[uploadpack]\n\tpackObjectsHook = ${hook}\n`);
    writeFileSync(path.join(site, 'checkpoint'), 'changed\n');
    await assert.rejects(
      pushSiteToBranch({ siteDir: site, remote, env: { GIT_CONFIG_GLOBAL: globalConfig } }),
      (error: unknown) => {
        assert.ok(error instanceof EnvironmentError);
        assert.equal(error.code, 'REMOTE_MOVED');
        assert.match(error.message, /moved while publishing/);
        assert.match(error.message, /run the deploy again/);
        return true;
      },
    );
    assert.equal(rev(remote, 'refs/heads/gh-pages'), theirs);
    // Re-running publishes on top of their commit.
    const rerun = await pushSiteToBranch({ siteDir: site, remote });
    assert.equal(rerun.changed, true);
    assert.equal(rev(remote, `${rerun.commit}^`), theirs);
  });

  test('refuses symlinks, .git, an empty site and bad branch names', async () => {
    const remote = bareRepo();
    const site = makeSite();
    symlinkSync('/etc/passwd', path.join(site, 'docs', 'passwd'));
    await assert.rejects(pushSiteToBranch({ siteDir: site, remote }), (error: unknown) => {
      assert.ok(error instanceof EnvironmentError);
      assert.equal(error.code, 'SITE_SYMLINK');
      assert.match(error.message, /docs\/passwd is a symbolic link/);
      return true;
    });
    rmSync(path.join(site, 'docs', 'passwd'));
    symlinkSync(path.dirname(site), path.join(site, 'up'));
    await assert.rejects(pushSiteToBranch({ siteDir: site, remote }), { code: 'SITE_SYMLINK' });
    rmSync(path.join(site, 'up'));
    mkdirSync(path.join(site, 'x', '.GIT'), { recursive: true });
    writeFileSync(path.join(site, 'x', '.GIT', 'config'), '');
    await assert.rejects(pushSiteToBranch({ siteDir: site, remote }), { code: 'SITE_BAD_NAME' });
    const empty = tempDir('witness-empty-site-');
    mkdirSync(path.join(empty, 'only-folders'));
    await assert.rejects(pushSiteToBranch({ siteDir: empty, remote }), (error: unknown) => error instanceof UsageError && error.code === 'EMPTY_SITE');
    for (const branch of ['-f', 'a..b', 'x.lock', '.hidden', 'a b', 'refs//x', '']) {
      await assert.rejects(pushSiteToBranch({ siteDir: site, remote, branch }), { code: 'BAD_BRANCH' }, branch);
    }
    await assert.rejects(pushSiteToBranch({ siteDir: site, remote: '--upload-pack=touch /tmp/x' }), { code: 'BAD_REMOTE' });
    assert.equal(gitBuffer(remote, 'for-each-ref').length, 0, 'nothing was pushed');
  });

  test('credentials in the remote URL never appear in errors', async () => {
    const site = makeSite();
    const secret = 'ghs_S3cr3tT0kenValue0123456789';
    const remote = `https://x-access-token:${secret}@127.0.0.1:1/owner/repo.git`;
    await assert.rejects(pushSiteToBranch({ siteDir: site, remote }), (error: unknown) => {
      assert.ok(error instanceof EnvironmentError);
      assert.equal(error.code, 'REMOTE_FAILED');
      assert.ok(!error.message.includes(secret), error.message);
      assert.ok(!String(error.stack).includes(secret));
      assert.match(error.message, /https:\/\/\*\*\*@127\.0\.0\.1:1\/owner\/repo\.git/);
      return true;
    });
    assert.equal(redactCredentials(`fatal: https://u:${secret}@h/x and ${secret}`, [secret]), 'fatal: https://***@h/x and ***');
  });
});

// ---------------------------------------------------------------------------------------------------
// (b) The GitHub API, faked in memory on 127.0.0.1: just the Git Data and Pages endpoints a deploy uses.

interface ApiCall {
  readonly method: string;
  /** Path after /repos/OWNER/REPO, decoded, without the query. */
  readonly path: string;
  readonly body: unknown;
}

interface FakeTreeEntry {
  readonly mode: string;
  readonly type: 'blob' | 'tree';
  readonly sha: string;
}

/** An injected failure: the next call matching method and path prefix gets this answer. */
interface Failure {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly message: string;
}

class FakeGitHub {
  readonly blobs = new Map<string, Buffer>();
  readonly trees = new Map<string, Map<string, FakeTreeEntry>>();
  readonly commits = new Map<string, { tree: string; parents: string[]; message: string }>();
  readonly refs = new Map<string, string>();
  pages: { branch: string; path: string; build_type: string } | undefined;
  readonly calls: ApiCall[] = [];
  readonly failures: Failure[] = [];
  /** Runs before a ref update is applied (to simulate a concurrent deploy). */
  beforeRefUpdate: (() => void) | undefined;
  url = '';
  private server: http.Server | undefined;

  constructor(
    readonly owner: string,
    readonly repo: string,
    readonly token: string,
  ) {}

  async start(): Promise<void> {
    this.server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        let status = 500;
        let body: unknown = { message: 'fake server error' };
        try {
          [status, body] = this.handle(request, Buffer.concat(chunks));
        } catch (error) {
          body = { message: `fake server: ${(error as Error).message}` };
        }
        if (status === 204) response.writeHead(204).end();
        else response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }

  /** The calls as "METHOD path" lines, then forgotten. */
  takeCalls(): string[] {
    return this.calls.splice(0).map((c) => `${c.method} ${c.path}`);
  }

  /** The files of a commit, reconstructed from the store: path → bytes. */
  filesOf(commit: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    const walk = (tree: string, prefix: string) => {
      for (const [name, entry] of this.trees.get(tree)!) {
        assert.equal(entry.mode, entry.type === 'tree' ? '040000' : '100644');
        if (entry.type === 'tree') walk(entry.sha, `${prefix}${name}/`);
        else out.set(`${prefix}${name}`, this.blobs.get(entry.sha)!);
      }
    };
    walk(this.commits.get(commit)!.tree, '');
    return out;
  }

  private handle(request: http.IncomingMessage, raw: Buffer): [number, unknown] {
    const method = request.method ?? 'GET';
    const url = new URL(request.url ?? '/', 'http://x');
    const prefix = `/repos/${this.owner}/${this.repo}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return [404, { message: 'Not Found' }];
    // Octokit may percent-encode the slash of `heads/<branch>`; GitHub accepts both.
    const route = decodeURIComponent(url.pathname.slice(prefix.length));
    const body: unknown = raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined;
    this.calls.push({ method, path: route, body });

    const auth = request.headers.authorization ?? '';
    if (auth !== `token ${this.token}` && auth !== `Bearer ${this.token}`) {
      // Hostile on purpose: echoes the credential it got, so redaction is tested.
      return [401, { message: `Bad credentials (got ${JSON.stringify(auth)})`, documentation_url: 'https://docs.github.com/rest' }];
    }
    const failure = this.failures.findIndex((f) => f.method === method && route.startsWith(f.path));
    if (failure >= 0) {
      const [f] = this.failures.splice(failure, 1);
      return [f!.status, { message: f!.message }];
    }
    const b = body as Record<string, unknown> | undefined;
    let m: RegExpExecArray | null;

    if (method === 'GET' && (m = /^\/git\/ref\/(heads\/.+)$/.exec(route))) {
      const sha = this.refs.get(`refs/${m[1]}`);
      return sha ? [200, { ref: `refs/${m[1]}`, object: { sha, type: 'commit' } }] : [404, { message: 'Not Found' }];
    }
    if (method === 'GET' && (m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(route))) {
      const commit = this.commits.get(m[1]!);
      return commit ? [200, { sha: m[1], tree: { sha: commit.tree }, parents: commit.parents.map((sha) => ({ sha })) }] : [404, { message: 'Not Found' }];
    }
    if (method === 'GET' && (m = /^\/git\/trees\/([0-9a-f]{40})$/.exec(route))) {
      if (!this.trees.has(m[1]!)) return [404, { message: 'Not Found' }];
      assert.equal(url.searchParams.get('recursive'), '1');
      const tree: Array<{ path: string; mode: string; type: string; sha: string }> = [];
      const walk = (sha: string, at: string) => {
        for (const [name, entry] of this.trees.get(sha)!) {
          tree.push({ path: `${at}${name}`, mode: entry.mode, type: entry.type, sha: entry.sha });
          if (entry.type === 'tree') walk(entry.sha, `${at}${name}/`);
        }
      };
      walk(m[1]!, '');
      return [200, { sha: m[1], tree, truncated: false }];
    }
    if (method === 'POST' && route === '/git/blobs') {
      assert.equal(b?.encoding, 'base64');
      assert.equal(typeof b?.content, 'string');
      assert.match(b!.content as string, /^[A-Za-z0-9+/]*={0,2}$/);
      const data = Buffer.from(b!.content as string, 'base64');
      const sha = createHash('sha1').update(Buffer.concat([Buffer.from(`blob ${data.length}\0`), data])).digest('hex');
      this.blobs.set(sha, data);
      return [201, { sha, url: `${this.url}${prefix}/git/blobs/${sha}` }];
    }
    if (method === 'POST' && route === '/git/trees') {
      assert.equal(b?.base_tree, undefined, 'a full tree, no base_tree');
      assert.ok(Array.isArray(b?.tree));
      const root = new Map<string, unknown>();
      for (const entry of b!.tree as Array<Record<string, unknown>>) {
        assert.deepEqual(Object.keys(entry).sort(), ['mode', 'path', 'sha', 'type']);
        assert.equal(entry.mode, '100644');
        assert.equal(entry.type, 'blob');
        if (!this.blobs.has(entry.sha as string)) return [422, { message: `tree.sha ${String(entry.sha)} is not a valid blob` }];
        const parts = (entry.path as string).split('/');
        assert.ok(parts.every((p) => p !== '' && p !== '.' && p !== '..'), `path ${String(entry.path)}`);
        let node = root;
        for (const part of parts.slice(0, -1)) {
          if (!node.has(part)) node.set(part, new Map<string, unknown>());
          node = node.get(part) as Map<string, unknown>;
        }
        assert.ok(!node.has(parts[parts.length - 1]!), `duplicate path ${String(entry.path)}`);
        node.set(parts[parts.length - 1]!, entry.sha);
      }
      return [201, { sha: this.storeTree(root), truncated: false }];
    }
    if (method === 'POST' && route === '/git/commits') {
      assert.equal(typeof b?.message, 'string');
      assert.ok(this.trees.has(b!.tree as string), 'commit tree exists');
      const parents = b!.parents as string[];
      assert.ok(Array.isArray(parents) && parents.every((p) => this.commits.has(p)), 'parents exist');
      const author = b!.author as { name?: string; email?: string } | undefined;
      assert.deepEqual(author, { ...DEPLOY_AUTHOR });
      const text = `tree ${String(b!.tree)}\n${parents.map((p) => `parent ${p}\n`).join('')}author ${author.name}\n\n${String(b!.message)}`;
      const sha = createHash('sha1').update(`commit ${Buffer.byteLength(text)}\0${text}`).digest('hex');
      this.commits.set(sha, { tree: b!.tree as string, parents, message: b!.message as string });
      return [201, { sha, tree: { sha: b!.tree }, parents: parents.map((p) => ({ sha: p })) }];
    }
    if (method === 'POST' && route === '/git/refs') {
      const ref = b?.ref as string;
      assert.match(ref, /^refs\/heads\//);
      assert.ok(this.commits.has(b!.sha as string));
      this.beforeRefUpdate?.();
      if (this.refs.has(ref)) return [422, { message: 'Reference already exists' }];
      this.refs.set(ref, b!.sha as string);
      return [201, { ref, object: { sha: b!.sha, type: 'commit' } }];
    }
    if (method === 'PATCH' && (m = /^\/git\/refs\/(heads\/.+)$/.exec(route))) {
      const ref = `refs/${m[1]}`;
      assert.equal(b?.force, false, 'never forced');
      assert.ok(this.commits.has(b!.sha as string));
      this.beforeRefUpdate?.();
      const current = this.refs.get(ref);
      if (!current) return [422, { message: 'Reference does not exist' }];
      if (!this.ancestors(b!.sha as string).has(current)) return [422, { message: 'Update is not a fast forward' }];
      this.refs.set(ref, b!.sha as string);
      return [200, { ref, object: { sha: b!.sha, type: 'commit' } }];
    }
    const site = () => ({
      url: `${this.url}${prefix}/pages`,
      html_url: `https://${this.owner}.github.io/${this.repo}/`,
      build_type: this.pages!.build_type,
      source: { branch: this.pages!.branch, path: this.pages!.path },
    });
    if (route === '/pages' && method === 'GET') return this.pages ? [200, site()] : [404, { message: 'Not Found' }];
    if (route === '/pages' && (method === 'POST' || method === 'PUT')) {
      const source = b?.source as { branch?: unknown; path?: unknown } | undefined;
      assert.equal(typeof source?.branch, 'string');
      assert.ok(source!.path === '/' || source!.path === '/docs');
      if (method === 'POST' && this.pages) return [409, { message: 'GitHub Pages is already enabled.' }];
      if (method === 'PUT' && !this.pages) return [404, { message: 'Not Found' }];
      this.pages = { branch: source!.branch as string, path: source!.path as string, build_type: (b!.build_type as string | undefined) ?? 'legacy' };
      return method === 'POST' ? [201, site()] : [204, undefined];
    }
    return [404, { message: `Not Found (${method} ${route})` }];
  }

  /** Stores a nested tree (name → blob sha | subtree) the way git hashes it; returns its id. */
  private storeTree(node: Map<string, unknown>): string {
    const entries = new Map<string, FakeTreeEntry>();
    for (const [name, value] of node) {
      entries.set(name, typeof value === 'string' ? { mode: '100644', type: 'blob', sha: value } : { mode: '040000', type: 'tree', sha: this.storeTree(value as Map<string, unknown>) });
    }
    const sorted = [...entries].sort(([a, x], [b, y]) => Buffer.compare(Buffer.from(x.type === 'tree' ? `${a}/` : a), Buffer.from(y.type === 'tree' ? `${b}/` : b)));
    const body = Buffer.concat(sorted.map(([name, e]) => Buffer.concat([Buffer.from(`${e.type === 'tree' ? '40000' : '100644'} ${name}\0`), Buffer.from(e.sha, 'hex')])));
    const sha = createHash('sha1').update(Buffer.concat([Buffer.from(`tree ${body.length}\0`), body])).digest('hex');
    this.trees.set(sha, new Map(sorted));
    return sha;
  }

  private ancestors(commit: string): Set<string> {
    const seen = new Set<string>();
    const stack = [commit];
    while (stack.length > 0) {
      const sha = stack.pop()!;
      if (seen.has(sha)) continue;
      seen.add(sha);
      stack.push(...(this.commits.get(sha)?.parents ?? []));
    }
    return seen;
  }
}

describe('deploySiteToGitHub (fake API on 127.0.0.1)', () => {
  const TOKEN = 'ghp_FAKEtoken0123456789abcdefABCDEF';
  let gh: FakeGitHub;
  before(async () => {
    gh = new FakeGitHub('octo', 'witness', TOKEN);
    await gh.start();
  });
  after(() => gh.close());
  const options = (siteDir: string) => ({ siteDir, owner: 'octo', repo: 'witness', token: TOKEN, baseUrl: gh.url, throttle: false });

  const sameAsFolder = async (files: Map<string, Buffer>, siteDir: string) => {
    const expected = await readSiteFolder(siteDir);
    assert.deepEqual([...files.keys()].sort(), expected.map((f) => f.path).sort());
    for (const file of expected) assert.ok(files.get(file.path)!.equals(file.data), `bytes of ${file.path}`);
  };

  test('first deploy: orphan branch, every blob, Pages enabled; then unchanged; then incremental', async () => {
    const site = makeSite();
    const fileCount = (await readSiteFolder(site)).length;
    const seen: string[] = [];
    const fetchSpy: typeof fetch = (input, init) => {
      seen.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };

    const first = await deploySiteToGitHub({ ...options(site), message: 'publish 1', fetch: fetchSpy });
    assert.equal(first.changed, true);
    assert.equal(first.uploadedBlobs, fileCount);
    assert.equal(first.pagesUrl, 'https://octo.github.io/witness/');
    assert.ok(seen.length > 0 && seen.every((u) => u.startsWith(`${gh.url}/`)), 'the injected fetch was used');
    assert.deepEqual(gh.takeCalls(), [
      'GET /git/ref/heads/gh-pages',
      ...Array<string>(fileCount).fill('POST /git/blobs'),
      'POST /git/trees',
      'POST /git/commits',
      'POST /git/refs',
      'GET /pages',
      'POST /pages',
    ]);
    assert.equal(gh.refs.get('refs/heads/gh-pages'), first.commit);
    assert.deepEqual(gh.commits.get(first.commit)!.parents, []);
    assert.equal(gh.commits.get(first.commit)!.message, 'publish 1\n');
    assert.deepEqual(gh.pages, { branch: 'gh-pages', path: '/', build_type: 'legacy' });
    await sameAsFolder(gh.filesOf(first.commit), site);
    // GitHub's tree id is git's: the same folder pushed with git gives the same tree.
    const remote = bareRepo();
    const pushed = await pushSiteToBranch({ siteDir: site, remote });
    assert.equal(rev(remote, `${pushed.commit}^{tree}`), gh.commits.get(first.commit)!.tree);

    // Unchanged: read-only calls; Pages untouched.
    const again = await deploySiteToGitHub(options(site));
    assert.deepEqual(again, { commit: first.commit, changed: false, uploadedBlobs: 0, pagesUrl: 'https://octo.github.io/witness/' });
    assert.deepEqual(gh.takeCalls(), ['GET /git/ref/heads/gh-pages', `GET /git/commits/${first.commit}`, 'GET /pages']);

    // One file changed, one removed: one blob uploaded, a full tree (the removed file is gone), a child commit.
    writeFileSync(path.join(site, 'checkpoint'), 'example.com/log\n4\nCCCC\n');
    rmSync(path.join(site, 'docs', 'a', 'c'));
    const third = await deploySiteToGitHub(options(site));
    assert.equal(third.changed, true);
    assert.equal(third.uploadedBlobs, 1);
    const firstTree = gh.commits.get(first.commit)!.tree;
    assert.deepEqual(gh.takeCalls(), [
      'GET /git/ref/heads/gh-pages',
      `GET /git/commits/${first.commit}`,
      `GET /git/trees/${firstTree}`,
      'POST /git/blobs',
      'POST /git/trees',
      'POST /git/commits',
      'PATCH /git/refs/heads/gh-pages',
      'GET /pages',
    ]);
    assert.deepEqual(gh.commits.get(third.commit)!.parents, [first.commit]);
    assert.equal(gh.refs.get('refs/heads/gh-pages'), third.commit);
    const files = gh.filesOf(third.commit);
    assert.equal(files.has('docs/a/c'), false);
    await sameAsFolder(files, site);
  });

  test('Pages serving another source is switched with PUT', async () => {
    gh.pages = { branch: 'main', path: '/docs', build_type: 'legacy' };
    gh.takeCalls();
    const result = await deploySiteToGitHub({ ...options(makeSite()), branch: 'site' });
    assert.equal(result.changed, true);
    const calls = gh.takeCalls();
    assert.deepEqual(calls.slice(-2), ['GET /pages', 'PUT /pages']);
    assert.deepEqual(gh.pages, { branch: 'site', path: '/', build_type: 'legacy' });
    assert.ok(gh.refs.has('refs/heads/site'));
  });

  test('a branch moved meanwhile: REMOTE_MOVED, not forced', async () => {
    const site = makeSite();
    const base = await deploySiteToGitHub(options(site));
    writeFileSync(path.join(site, 'index.html'), 'new\n');
    // Someone else's deploy lands between our read of the branch and our ref update.
    let moved = '';
    gh.beforeRefUpdate = () => {
      gh.beforeRefUpdate = undefined;
      const tree = gh.commits.get(base.commit)!.tree;
      moved = createHash('sha1').update(`concurrent deploy on ${base.commit}`).digest('hex');
      gh.commits.set(moved, { tree, parents: [base.commit], message: 'concurrent\n' });
      gh.refs.set('refs/heads/gh-pages', moved);
    };
    await assert.rejects(deploySiteToGitHub(options(site)), (error: unknown) => {
      assert.ok(error instanceof GitHubApiError);
      assert.ok(error instanceof EnvironmentError);
      assert.equal(error.status, 422);
      assert.equal(error.code, 'REMOTE_MOVED');
      assert.match(error.message, /run the deploy again/);
      return true;
    });
    assert.equal(gh.refs.get('refs/heads/gh-pages'), moved);
    const rerun = await deploySiteToGitHub(options(site));
    assert.deepEqual(gh.commits.get(rerun.commit)!.parents, [moved]);
  });

  test('API errors are typed, carry status and message, never the token', async () => {
    const site = makeSite();
    // 401 (with octokit's default throttling and retries on: a 401 is not retried).
    await assert.rejects(deploySiteToGitHub({ siteDir: site, owner: 'octo', repo: 'witness', token: 'ghp_WRONGtoken9876543210zyxwvu', baseUrl: gh.url }), (error: unknown) => {
      assert.ok(error instanceof GitHubApiError);
      assert.equal(error.status, 401);
      assert.equal(error.code, 'GITHUB_HTTP_401');
      assert.equal(exitCodeOf(error), 2);
      assert.match(error.message, /HTTP 401: Bad credentials/);
      assert.match(error.message, /invalid or expired/);
      for (const text of [error.message, error.githubMessage, String(error.stack), JSON.stringify(error)]) {
        assert.ok(!text.includes('ghp_WRONGtoken9876543210zyxwvu'), text);
      }
      return true;
    });
    // 422 on tree creation, GitHub's message echoing the token.
    gh.failures.push({ method: 'POST', path: '/git/trees', status: 422, message: `Invalid tree info (token ${TOKEN})` });
    writeFileSync(path.join(site, 'index.html'), 'make it change\n');
    await assert.rejects(deploySiteToGitHub(options(site)), (error: unknown) => {
      assert.ok(error instanceof GitHubApiError);
      assert.equal(error.status, 422);
      assert.equal(error.code, 'GITHUB_HTTP_422');
      assert.match(error.message, /could not create tree on octo\/witness: HTTP 422: Invalid tree info/);
      for (const text of [error.message, error.githubMessage, String(error.stack), JSON.stringify(error)]) assert.ok(!text.includes(TOKEN), text);
      return true;
    });
    // 403 when enabling Pages: the hint says how to enable it by hand.
    gh.pages = undefined;
    gh.failures.push({ method: 'POST', path: '/pages', status: 403, message: 'Resource not accessible by integration' });
    await assert.rejects(deploySiteToGitHub(options(site)), (error: unknown) => {
      assert.ok(error instanceof GitHubApiError);
      assert.equal(error.status, 403);
      assert.match(error.message, /Settings > Pages/);
      return true;
    });
    // Nothing listening: status 0, typed.
    await assert.rejects(deploySiteToGitHub({ ...options(site), baseUrl: 'http://127.0.0.1:1', retries: 0 }), (error: unknown) => {
      assert.ok(error instanceof GitHubApiError);
      assert.equal(error.status, 0);
      assert.equal(error.code, 'GITHUB_UNREACHABLE');
      return true;
    });
    await assert.rejects(deploySiteToGitHub({ ...options(site), repo: '../x' }), { code: 'BAD_GITHUB_REPO' });
    await assert.rejects(deploySiteToGitHub({ ...options(site), token: '' }), { code: 'TOKEN_REQUIRED' });
  });
});
