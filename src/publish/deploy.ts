// Deploying a generated site folder (see site.ts) as the tree of a new commit on a branch, e.g. gh-pages.
//
// Two ways, same result: the branch's new tip holds exactly the folder's files (byte for byte, mode
// 100644, nothing else: files removed from the folder disappear), with the previous tip as parent, so
// the branch's history only grows (never force-pushed); an unchanged folder makes no commit.
//   - pushSiteToBranch: git plumbing in a temporary bare repository (fast-import for the blobs, a
//     temporary index, write-tree, commit-tree) and one non-forced `git push`. It never touches the
//     caller's repository, index or working tree, and runs no hooks.
//   - deploySiteToGitHub: the GitHub Git Data API (blobs, tree, commit, ref), uploading only blobs the
//     branch's tip does not have yet, then makes sure GitHub Pages serves the branch.
// Secrets: credentials in a remote URL and the GitHub token never appear in an error message.
import { gitBlobId, gitObjectId } from '../git-object.js';
import { constants } from 'node:fs';
import { lstat, mkdtemp, open, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Octokit, RequestError } from 'octokit';
import { EnvironmentError, type ErrorCode, UsageError, VerificationError } from '../errors.js';
import { git } from '../infra/git.js';

/** The identity of deploy commits: fixed, so a deploy works with an empty HOME and no git config. */
export const DEPLOY_AUTHOR = { name: 'go-source-witness', email: 'witness@go-source-witness.invalid' } as const;
export const DEFAULT_DEPLOY_BRANCH = 'gh-pages';
export const DEFAULT_DEPLOY_MESSAGE = 'witness: publish site';

/** One file of a site folder. */
export interface SiteFile {
  /** Slash-separated path relative to the site folder, e.g. `tile/0/000`. */
  readonly path: string;
  readonly data: Buffer;
  /** Git blob id (SHA-1 of `blob <size>\0<data>`), lowercase hex. */
  readonly sha: string;
}

// ---------------------------------------------------------------------------------------------------
// The site folder and git object ids

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every regular file under `siteDir` (dotfiles included), sorted by path. Refuses symbolic links (none is
 * followed, so nothing outside the folder can be published), other non-regular files, names that are not
 * UTF-8, and `.git` path components. Empty folders are left out: git has no empty trees in a commit.
 */
export async function readSiteFolder(siteDir: string): Promise<SiteFile[]> {
  const root = path.resolve(siteDir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new EnvironmentError('NOT_FOUND', `site folder ${root} does not exist or is not a folder`);
  const files: SiteFile[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const raw of await readdir(dir, { encoding: 'buffer' })) {
      let name: string;
      try {
        name = utf8.decode(raw);
      } catch {
        throw new EnvironmentError('SITE_BAD_NAME', `site folder ${root}: a name in ${prefix || '.'} is not valid UTF-8`);
      }
      const relative = prefix === '' ? name : `${prefix}/${name}`;
      if (name.toLowerCase() === '.git') {
        throw new EnvironmentError('SITE_BAD_NAME', `site folder ${root}: ${relative} cannot be published (git reserves .git)`);
      }
      const absolute = path.join(dir, name);
      const entry = await lstat(absolute);
      if (entry.isSymbolicLink()) {
        throw new EnvironmentError('SITE_SYMLINK', `site folder ${root}: ${relative} is a symbolic link; a site must hold regular files only`);
      }
      if (entry.isDirectory()) await walk(absolute, relative);
      else if (entry.isFile()) {
        const data = await readRegularFile(absolute, relative, root);
        files.push({ path: relative, data, sha: gitBlobSha(data) });
      } else {
        throw new EnvironmentError('SITE_NOT_REGULAR', `site folder ${root}: ${relative} is not a regular file or folder`);
      }
    }
  };
  await walk(root, '');
  files.sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  return files;
}

/** Reads a file without following a symlink swapped in after the walk saw a regular file. */
async function readRegularFile(absolute: string, relative: string, root: string): Promise<Buffer> {
  const handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ELOOP') {
      throw new EnvironmentError('SITE_SYMLINK', `site folder ${root}: ${relative} is a symbolic link; a site must hold regular files only`);
    }
    throw error;
  });
  try {
    if (!(await handle.stat()).isFile()) throw new EnvironmentError('SITE_NOT_REGULAR', `site folder ${root}: ${relative} is not a regular file`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Git's object id of a blob holding `data` (src/git-object.ts). */
export function gitBlobSha(data: Uint8Array): string {
  return gitBlobId(data);
}

interface TreeNode {
  readonly files: Map<string, string>;
  readonly dirs: Map<string, TreeNode>;
}

/**
 * Git's object id of the root tree holding `files` (all mode 100644), computed locally: what `git
 * write-tree` gives for the same index. Lets a deploy see "unchanged" without uploading anything.
 */
export function gitTreeSha(files: ReadonlyArray<{ readonly path: string; readonly sha: string }>): string {
  const root: TreeNode = { files: new Map(), dirs: new Map() };
  for (const file of files) {
    const parts = file.path.split('/');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let next = node.dirs.get(part);
      if (!next) node.dirs.set(part, (next = { files: new Map(), dirs: new Map() }));
      node = next;
    }
    node.files.set(parts[parts.length - 1]!, file.sha);
  }
  const hashNode = (node: TreeNode): string => {
    // Git sorts entries by name bytes, comparing a folder's name as if it ended in '/'.
    const entries: Array<{ key: Buffer; mode: string; name: string; sha: string }> = [];
    for (const [name, sha] of node.files) entries.push({ key: Buffer.from(name), mode: '100644', name, sha });
    for (const [name, child] of node.dirs) entries.push({ key: Buffer.from(`${name}/`), mode: '40000', name, sha: hashNode(child) });
    entries.sort((a, b) => Buffer.compare(a.key, b.key));
    const body = Buffer.concat(entries.map((e) => Buffer.concat([Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.sha, 'hex')])));
    return gitObjectId('tree', body);
  };
  return hashNode(root);
}

/** A branch name both git and GitHub accept (a conservative subset of git check-ref-format). */
function checkBranch(branch: string): void {
  const ok =
    /^[A-Za-z0-9._/-]+$/.test(branch) &&
    !branch.startsWith('-') &&
    !branch.includes('..') &&
    !branch.includes('//') &&
    !branch.endsWith('.lock') &&
    branch.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.'));
  if (!ok) throw new UsageError('BAD_BRANCH', `invalid branch name ${JSON.stringify(branch)}`);
}

async function readSiteForDeploy(siteDir: string): Promise<SiteFile[]> {
  const files = await readSiteFolder(siteDir);
  if (files.length === 0) throw new UsageError('EMPTY_SITE', `site folder ${path.resolve(siteDir)} holds no files; refusing to publish an empty site`);
  return files;
}

// ---------------------------------------------------------------------------------------------------
// Redaction

/** A URL with any user:password@ part replaced by `***@` (also inside longer text). */
export function redactCredentials(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]*@/gi, '$1***@');
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/** The user:password part of a remote URL (raw and percent-decoded), to scrub from any git output. */
function remoteSecrets(remote: string): string[] {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@]*)@/i.exec(remote);
  if (!match?.[1]) return [];
  const secrets = [match[1]];
  for (const part of match[1].split(':')) {
    secrets.push(part);
    try {
      secrets.push(decodeURIComponent(part));
    } catch {
      /* not percent-encoded */
    }
  }
  // The user name alone (e.g. x-access-token) is not secret, but scrubbing it is harmless; keep long ones only.
  return secrets.filter((s) => s.length >= 8);
}

// ---------------------------------------------------------------------------------------------------
// git push

export interface PushSiteOptions {
  /** The folder to publish (e.g. from site.ts). */
  readonly siteDir: string;
  /** Where to push: a URL (https, ssh, file) or a path to a repository (relative paths from the current folder). */
  readonly remote: string;
  /** Branch to commit on; default gh-pages. */
  readonly branch?: string;
  /** Commit message; default DEFAULT_DEPLOY_MESSAGE. */
  readonly message?: string;
  /**
   * Extra environment for git (e.g. GIT_SSH_COMMAND, GIT_ASKPASS, GIT_CONFIG_GLOBAL, a fixed
   * GIT_COMMITTER_DATE); it may override the fixed commit identity.
   */
  readonly env?: Record<string, string | undefined>;
}

export interface DeployResult {
  /** The branch's tip after the deploy: the new commit, or the unchanged tip. */
  readonly commit: string;
  /** False when the folder equals the tip's tree: no commit was made, nothing pushed. */
  readonly changed: boolean;
}

/** Every exit code: run() reports failures itself (git()'s message would name the -c options, not the command). */
const ANY_EXIT = Array.from({ length: 255 }, (_, i) => i + 1);

/** A URL stays as is; a local path is made absolute (git runs in a temporary folder). */
function resolveRemote(remote: string): string {
  if (remote === '' || remote.startsWith('-')) throw new UsageError('BAD_REMOTE', `invalid remote ${JSON.stringify(redactCredentials(remote))}`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remote)) return remote; // scheme://
  if (/^[^/]*:/.test(remote)) return remote; // scp-like user@host:path
  return path.resolve(remote);
}

/**
 * Commits the exact content of `siteDir` as the tree of a new commit on `branch` of `remote` (parent: the
 * branch's current tip, if any) and pushes it without force. Unchanged content: no commit, `changed: false`.
 * A remote that moved meanwhile rejects the push: EnvironmentError REMOTE_MOVED (re-run to deploy on top).
 */
export async function pushSiteToBranch(options: PushSiteOptions): Promise<DeployResult> {
  const branch = options.branch ?? DEFAULT_DEPLOY_BRANCH;
  checkBranch(branch);
  const remote = resolveRemote(options.remote);
  const secrets = remoteSecrets(remote);
  const shownRemote = redactCredentials(remote, secrets);
  const files = await readSiteForDeploy(options.siteDir);

  const work = await mkdtemp(path.join(tmpdir(), 'witness-deploy-'));
  try {
    const gitDir = path.join(work, 'repo.git');
    const env: Record<string, string | undefined> = {
      GIT_AUTHOR_NAME: DEPLOY_AUTHOR.name,
      GIT_AUTHOR_EMAIL: DEPLOY_AUTHOR.email,
      GIT_COMMITTER_NAME: DEPLOY_AUTHOR.name,
      GIT_COMMITTER_EMAIL: DEPLOY_AUTHOR.email,
      ...options.env,
      GIT_DIR: gitDir,
      GIT_INDEX_FILE: path.join(work, 'index'),
    };
    // No hooks (ours or a global core.hooksPath), no signing prompt, no background maintenance.
    const config = ['-c', `core.hooksPath=${path.join(work, 'no-hooks')}`, '-c', 'commit.gpgSign=false', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false'];
    /**
     * One git command. Failures carry git's own message, scrubbed of remote credentials; `what` names a
     * command that talks to the remote ("could not <what> <remote>: ...").
     */
    const run = async (args: string[], extra: { input?: Uint8Array | string; allow?: number[]; what?: string } = {}) => {
      let result;
      try {
        result = await git([...config, ...args], { cwd: work, env, input: extra.input ?? '', okCodes: ANY_EXIT });
      } catch (error) {
        throw new EnvironmentError('GIT_FAILED', redactCredentials(error instanceof Error ? error.message : String(error), secrets));
      }
      if (result.code === 0 || extra.allow?.includes(result.code)) return result;
      const detail = redactCredentials(result.stderr.trim(), secrets) || `exit ${result.code}`;
      if (extra.what) throw new EnvironmentError('REMOTE_FAILED', `could not ${extra.what} ${shownRemote}: ${detail}`);
      throw new EnvironmentError('GIT_FAILED', `git ${args[0]} failed (exit ${result.code}): ${detail}`);
    };

    await git(['init', '--quiet', '--bare', gitDir], { cwd: work, env: { ...env, GIT_DIR: undefined } });

    // The branch's tip, if the branch exists; fetched shallowly (only the tip's tree is needed).
    const ref = `refs/heads/${branch}`;
    const listed = (await run(['ls-remote', '--refs', '--', remote, ref], { what: 'list the branches of' })).stdout.toString('utf8');
    let parent: string | undefined;
    if (listed.split('\n').some((line) => line.split('\t')[1] === ref)) {
      await run(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--depth=1', '--', remote, `+${ref}:refs/witness/tip`], { what: 'fetch from' });
      parent = (await run(['rev-parse', '--verify', 'refs/witness/tip^{commit}'])).stdout.toString('utf8').trim();
    }

    // Blobs: one fast-import stream for all files; ids computed locally and cross-checked by the index.
    const chunks: Buffer[] = [];
    const seen = new Set<string>();
    for (const file of files) {
      if (seen.has(file.sha)) continue;
      seen.add(file.sha);
      chunks.push(Buffer.from(`blob\ndata ${file.data.length}\n`), file.data, Buffer.from('\n'));
    }
    await run(['fast-import', '--quiet'], { input: Buffer.concat(chunks) });
    const indexInfo = files.map((file) => `100644 ${file.sha}\t${file.path}\0`).join('');
    await run(['update-index', '--add', '-z', '--index-info'], { input: indexInfo });
    const tree = (await run(['write-tree'])).stdout.toString('utf8').trim();
    if (tree !== gitTreeSha(files)) {
      throw new VerificationError('TREE_MISMATCH', `git wrote tree ${tree} for ${options.siteDir}, expected ${gitTreeSha(files)}`);
    }

    if (parent !== undefined) {
      const parentTree = (await run(['rev-parse', '--verify', `${parent}^{tree}`])).stdout.toString('utf8').trim();
      if (parentTree === tree) return { commit: parent, changed: false };
    }

    const commitArgs = ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-F', '-'];
    const message = options.message ?? DEFAULT_DEPLOY_MESSAGE;
    const commit = (await run(commitArgs, { input: message.endsWith('\n') ? message : `${message}\n` })).stdout.toString('utf8').trim();

    const pushed = await run(['push', '--porcelain', '--no-verify', '--', remote, `${commit}:${ref}`], { what: 'push to', allow: [1] });
    if (pushed.code !== 0) {
      const output = `${pushed.stdout.toString('utf8')}\n${pushed.stderr}`;
      const rejected = output.split('\n').find((line) => line.startsWith('!'));
      const reason = redactCredentials((rejected?.split('\t')[2] ?? pushed.stderr.trim()) || 'rejected', secrets);
      if (/non-fast-forward|fetch first|stale info|already exists/.test(reason)) {
        throw new EnvironmentError(
          'REMOTE_MOVED',
          `branch ${branch} of ${shownRemote} moved while publishing (${reason}); nothing was overwritten: run the deploy again to publish on top of the new tip`,
        );
      }
      throw new EnvironmentError('PUSH_REJECTED', `${shownRemote} refused the push to ${branch}: ${reason}`);
    }
    return { commit, changed: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// GitHub API

/**
 * A GitHub API call that failed: the HTTP status and GitHub's message (the token never included). Its
 * `name` stays 'EnvironmentError' (the base class fixes it): tell it apart with instanceof or `status`.
 */
export class GitHubApiError extends EnvironmentError {
  constructor(
    /** HTTP status; 0 when no response arrived. */
    readonly status: number,
    /** GitHub's own message (`message` of the error body), redacted. */
    readonly githubMessage: string,
    message: string,
    code: ErrorCode = status === 0 ? 'GITHUB_UNREACHABLE' : `GITHUB_HTTP_${status}`,
  ) {
    super(code, message);
  }
}

export interface GitHubDeployOptions {
  readonly siteDir: string;
  readonly owner: string;
  readonly repo: string;
  /** Default gh-pages. */
  readonly branch?: string;
  /** A token with contents:write (and pages:write, administration:write to enable Pages); never logged. */
  readonly token: string;
  /** API root; default https://api.github.com (GitHub Enterprise: https://HOST/api/v3). */
  readonly baseUrl?: string;
  readonly message?: string;
  /** fetch implementation for the API client (tests, proxies). */
  readonly fetch?: typeof globalThis.fetch;
  /** Make sure GitHub Pages serves the branch (GET, then POST or PUT if needed); default true. */
  readonly enablePages?: boolean;
  /**
   * Spread write requests (octokit's throttling: one write per second, as GitHub asks of API clients);
   * default true. Turn off only for servers without GitHub's limits (tests, some Enterprise servers).
   */
  readonly throttle?: boolean;
  /** How often to retry a request that failed with a server error or no response (back-off 1 s, 4 s, 9 s…); default 3. */
  readonly retries?: number;
}

export interface GitHubDeployResult extends DeployResult {
  /** The Pages site's URL, when GitHub reported it. */
  readonly pagesUrl?: string;
  /** How many blobs were uploaded (the others were already in the branch's tip). */
  readonly uploadedBlobs: number;
}

interface TreeListing {
  readonly tree: ReadonlyArray<{ readonly path?: string; readonly type?: string; readonly sha?: string | null }>;
  readonly truncated?: boolean;
}

interface PagesSite {
  readonly html_url?: string;
  readonly build_type?: string | null;
  readonly source?: { readonly branch?: string; readonly path?: string };
}

/**
 * Publishes `siteDir` as a new commit on `branch` of GitHub repository owner/repo through the Git Data API
 * (only blobs missing from the tip are uploaded; the tree is complete, so removed files disappear; the ref
 * moves without force), then makes sure Pages serves `branch` at `/`. Unchanged content: no commit.
 */
export async function deploySiteToGitHub(options: GitHubDeployOptions): Promise<GitHubDeployResult> {
  const branch = options.branch ?? DEFAULT_DEPLOY_BRANCH;
  checkBranch(branch);
  for (const [what, value] of [['owner', options.owner], ['repo', options.repo]] as const) {
    if (!/^[A-Za-z0-9_.-]+$/.test(value) || value === '.' || value === '..') {
      throw new UsageError('BAD_GITHUB_REPO', `invalid GitHub ${what} ${JSON.stringify(value)}`);
    }
  }
  if (options.token.trim() === '') throw new UsageError('TOKEN_REQUIRED', 'no GitHub token: set GITHUB_TOKEN');
  const files = await readSiteForDeploy(options.siteDir);
  const tree = gitTreeSha(files);
  const { owner, repo, token } = options;
  const where = `${owner}/${repo}`;

  const octokit = new Octokit({
    auth: token,
    baseUrl: (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: 'go-source-witness',
    request: options.fetch ? { fetch: options.fetch } : {},
    log: { debug: () => {}, info: () => {}, warn: (m: string) => console.warn(redactCredentials(m, [token])), error: (m: string) => console.error(redactCredentials(m, [token])) },
    ...(options.throttle === false ? { throttle: { enabled: false } } : {}),
    ...(options.retries !== undefined ? { retry: { retries: options.retries } } : {}),
  });
  /** One API call; failures become GitHubApiError (statuses in `allow` are returned instead). */
  const call = async <T>(what: string, route: string, params: Record<string, unknown>, allow: number[] = []): Promise<{ status: number; data: T }> => {
    try {
      const response = await octokit.request(route, { owner, repo, ...params });
      return { status: response.status, data: response.data as T };
    } catch (error) {
      if (error instanceof RequestError && allow.includes(error.status)) return { status: error.status, data: undefined as T };
      throw apiError(error, what, where, token);
    }
  };

  // The branch's tip and its tree.
  const refResponse = await call<{ object?: { sha?: string; type?: string } }>('read branch', 'GET /repos/{owner}/{repo}/git/ref/{ref}', { ref: `heads/${branch}` }, [404]);
  const parent = refResponse.status === 404 ? undefined : refResponse.data.object?.sha;
  if (refResponse.status !== 404 && (!parent || refResponse.data.object?.type !== 'commit')) {
    throw new GitHubApiError(refResponse.status, 'unexpected reference', `GitHub: refs/heads/${branch} of ${where} does not point at a commit`, 'GITHUB_BAD_RESPONSE');
  }
  let commit = parent;
  let changed = false;
  let uploadedBlobs = 0;
  let parentTree: string | undefined;
  if (parent !== undefined) {
    const parentCommit = await call<{ tree?: { sha?: string } }>('read commit', 'GET /repos/{owner}/{repo}/git/commits/{commit_sha}', { commit_sha: parent });
    parentTree = parentCommit.data.tree?.sha;
  }

  if (parentTree !== tree) {
    // Blobs the tip already has need no upload (a truncated listing only means more uploads).
    const known = new Set<string>();
    if (parentTree !== undefined) {
      const listing = await call<TreeListing>('list tree', 'GET /repos/{owner}/{repo}/git/trees/{tree_sha}', { tree_sha: parentTree, recursive: '1' });
      for (const entry of listing.data.tree) if (entry.type === 'blob' && entry.sha) known.add(entry.sha);
    }
    // One request at a time, as GitHub asks of API clients.
    for (const file of files) {
      if (known.has(file.sha)) continue;
      const blob = await call<{ sha?: string }>(`upload ${file.path}`, 'POST /repos/{owner}/{repo}/git/blobs', { content: file.data.toString('base64'), encoding: 'base64' });
      if (blob.data.sha !== file.sha) {
        throw new VerificationError('BLOB_MISMATCH', `GitHub stored ${file.path} as blob ${String(blob.data.sha)}, expected ${file.sha}`);
      }
      known.add(file.sha);
      uploadedBlobs++;
    }
    const created = await call<{ sha?: string }>('create tree', 'POST /repos/{owner}/{repo}/git/trees', {
      tree: files.map((file) => ({ path: file.path, mode: '100644', type: 'blob', sha: file.sha })),
    });
    if (created.data.sha !== tree) {
      throw new VerificationError('TREE_MISMATCH', `GitHub created tree ${String(created.data.sha)} for ${options.siteDir}, expected ${tree}`);
    }
    const message = options.message ?? DEFAULT_DEPLOY_MESSAGE;
    const newCommit = await call<{ sha?: string }>('create commit', 'POST /repos/{owner}/{repo}/git/commits', {
      message: message.endsWith('\n') ? message : `${message}\n`,
      tree,
      parents: parent ? [parent] : [],
      author: { ...DEPLOY_AUTHOR },
      committer: { ...DEPLOY_AUTHOR },
    });
    commit = newCommit.data.sha;
    if (!commit || !/^[0-9a-f]{40}$/.test(commit)) {
      throw new GitHubApiError(201, 'unexpected response', `GitHub: creating the commit on ${where} returned no commit id`, 'GITHUB_BAD_RESPONSE');
    }
    try {
      if (parent) await octokit.request('PATCH /repos/{owner}/{repo}/git/refs/{ref}', { owner, repo, ref: `heads/${branch}`, sha: commit, force: false });
      else await octokit.request('POST /repos/{owner}/{repo}/git/refs', { owner, repo, ref: `refs/heads/${branch}`, sha: commit });
    } catch (error) {
      // 422: "Update is not a fast forward" or "Reference already exists": someone else moved the branch.
      if (error instanceof RequestError && error.status === 422) {
        const base = apiError(error, 'update branch', where, token);
        throw new GitHubApiError(
          422,
          base.githubMessage,
          `branch ${branch} of ${where} moved while publishing (${base.githubMessage}); nothing was overwritten: run the deploy again to publish on top of the new tip`,
          'REMOTE_MOVED',
        );
      }
      throw apiError(error, 'update branch', where, token);
    }
    changed = true;
  }

  const pagesUrl = options.enablePages === false ? undefined : await ensurePages(call, branch, where);
  return { commit: commit!, changed, uploadedBlobs, ...(pagesUrl ? { pagesUrl } : {}) };
}

type ApiCall = <T>(what: string, route: string, params: Record<string, unknown>, allow?: number[]) => Promise<{ status: number; data: T }>;

/** Makes GitHub Pages serve `branch` at `/` (legacy branch build): GET; 404 → POST; other source → PUT. */
async function ensurePages(call: ApiCall, branch: string, where: string): Promise<string | undefined> {
  const wanted = { branch, path: '/' };
  const hint = (error: unknown) => {
    if (error instanceof GitHubApiError && (error.status === 403 || error.status === 404)) {
      return new GitHubApiError(
        error.status,
        error.githubMessage,
        `${error.message}. The branch was published, but enabling Pages needs a token with Pages and Administration write ` +
          `access (an Actions GITHUB_TOKEN has not): enable it once in ${where} Settings > Pages > Deploy from a branch: ${branch} /`,
      );
    }
    return error;
  };
  const current = await call<PagesSite>('read Pages settings', 'GET /repos/{owner}/{repo}/pages', {}, [404]);
  try {
    if (current.status === 404) {
      const created = await call<PagesSite>('enable Pages', 'POST /repos/{owner}/{repo}/pages', { build_type: 'legacy', source: wanted });
      return created.data.html_url;
    }
    const source = current.data.source;
    if (source?.branch !== branch || source.path !== '/' || (current.data.build_type != null && current.data.build_type !== 'legacy')) {
      await call('set the Pages source', 'PUT /repos/{owner}/{repo}/pages', { build_type: 'legacy', source: wanted });
    }
    return current.data.html_url;
  } catch (error) {
    throw hint(error);
  }
}

/** A typed error for a failed API call; never carries the token (nor the request, which holds it). */
function apiError(error: unknown, what: string, where: string, token: string): GitHubApiError {
  if (error instanceof GitHubApiError) return error;
  if (error instanceof RequestError) {
    const data = error.response?.data as { message?: unknown; errors?: unknown } | undefined;
    const raw = typeof data?.message === 'string' ? data.message : error.message;
    const githubMessage = redactCredentials(raw, [token]);
    const status = error.status;
    const advice =
      status === 401 ? ' (the token is invalid or expired)' : status === 403 ? ' (the token lacks permission, or a rate limit was hit)' : status === 404 ? ` (no repository ${where}, or the token cannot see it)` : status === 409 ? ' (an empty repository: push a first commit to it)' : '';
    // Octokit turns a failed connection into status 500 without a response.
    if (error.response === undefined && status === 500) {
      return new GitHubApiError(0, githubMessage, `GitHub API: could not ${what} on ${where}: ${githubMessage}`);
    }
    return new GitHubApiError(status, githubMessage, `GitHub API: could not ${what} on ${where}: HTTP ${status}: ${githubMessage}${advice}`);
  }
  const detail = redactCredentials(error instanceof Error ? error.message : String(error), [token]);
  return new GitHubApiError(0, detail, `GitHub API: could not ${what} on ${where}: ${detail}`);
}
