// The log's git history for the published site: the objects `witness verify` reads when it walks the
// history of the checkpoint (src/log/verify.ts, src/log/checkpoint-history.ts), so that verify.html can
// check the same history in the reader's browser with isomorphic-git (src/publish/browser/history.ts).
//
// What is exported: every commit reachable from HEAD (the same walk as verify: all parents, not a
// path-limited log), its root tree, the trees down to the log folder, and the checkpoint blob. Nothing
// else of the repository (other files, other branches) leaves it. The objects go into one pack with its
// index under git/objects/pack/, written by isomorphic-git (undeltified objects, deflated, the pack's
// SHA-1 in its name; git-scm.com/docs/gitformat-pack), next to git/HEAD (the head commit, detached) and
// git/history.json, which lists the files so that a reader over plain HTTP needs no directory listing.
// The same history gives the same bytes. A history over MAX_GIT_HISTORY_BYTES is not exported (a warning
// says so, and the page says the history was not published).
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as isogit from 'isomorphic-git';
import { EnvironmentError } from '../errors.js';
import { git, gitText, headCommit, locateGit, repositoryPath } from '../infra/git.js';
import { CHECKPOINT_FILE } from '../log/layout.js';
import { verifyGitHistory } from './browser/history.js';

/** The site folder that holds the copy of the git objects (a bare git directory). */
export const GIT_HISTORY_DIR = 'git';
/** What the copy holds, for readers over HTTP (no directory listings there). */
export const GIT_HISTORY_MANIFEST = `${GIT_HISTORY_DIR}/history.json`;
export const GIT_HISTORY_SCHEMA = 'go-source-witness/git-history/v1';
/** Largest pack exported (and fetched by the page): the browser holds it in memory. */
export const MAX_GIT_HISTORY_BYTES = 32 * 1024 * 1024;
/** Most commits exported (and walked by the page). */
export const MAX_GIT_HISTORY_COMMITS = 100_000;

/** git/history.json. */
export interface GitHistoryManifest {
  readonly schema: typeof GIT_HISTORY_SCHEMA;
  /** The checkpoint file's path in the repository (the log folder's prefix + `checkpoint`). */
  readonly checkpoint: string;
  readonly commits: number;
  readonly objects: number;
  /** Files of the git directory, relative to it, sorted. */
  readonly files: readonly string[];
  /** Commits whose parents a shallow clone lacks: their parents are not walked (a warning says so). */
  readonly shallow: readonly string[];
}

export interface GitHistoryExport {
  /** Site-relative path -> bytes. */
  readonly files: ReadonlyMap<string, Uint8Array>;
  readonly manifest: GitHistoryManifest;
  readonly head: string;
  readonly bytes: number;
}

/** Why there is nothing to export, or what to write. */
export type GitHistoryResult = { readonly exported: GitHistoryExport } | { readonly skipped: string; readonly warn: boolean };

interface ObjectInfo {
  readonly oid: string;
  readonly type: string;
  readonly size: number;
}

/** `git cat-file --batch-check` for many specs: undefined for a missing one. */
async function objectInfos(cwd: string, specs: readonly string[]): Promise<Array<ObjectInfo | undefined>> {
  if (specs.some((spec) => spec.includes('\n'))) throw new EnvironmentError('GIT_FAILED', 'an object spec contains a newline');
  const { stdout } = await git(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], { cwd, input: specs.map((spec) => `${spec}\n`).join('') });
  const lines = stdout.toString('utf8').split('\n');
  return specs.map((_, i) => {
    const match = /^([0-9a-f]{40}) (commit|tree|blob|tag) ([0-9]+)$/.exec(lines[i] ?? '');
    return match ? { oid: match[1]!, type: match[2]!, size: Number(match[3]) } : undefined;
  });
}

/** `git cat-file --batch` for object ids known to exist: their contents in order. */
async function objectContents(cwd: string, oids: readonly string[]): Promise<Uint8Array[]> {
  const { stdout } = await git(['cat-file', '--batch'], { cwd, input: oids.map((oid) => `${oid}\n`).join('') });
  const out: Uint8Array[] = [];
  let offset = 0;
  for (const oid of oids) {
    const newline = stdout.indexOf(0x0a, offset);
    const header = stdout.subarray(offset, newline).toString('utf8').split(' ');
    if (header[0] !== oid || header.length !== 3) throw new EnvironmentError('GIT_FAILED', `git cat-file --batch: unexpected answer for ${oid}`);
    const size = Number(header[2]);
    out.push(stdout.subarray(newline + 1, newline + 1 + size));
    offset = newline + 1 + size + 1;
  }
  return out;
}

/**
 * The objects of the checkpoint's history in the git work tree that holds `logDir`, as site files under
 * git/. Skipped (with the reason) outside git, on an unborn branch, or over the size bounds.
 */
export async function exportGitHistory(logDir: string): Promise<GitHistoryResult> {
  const location = await locateGit(logDir);
  if (!location) return { skipped: 'the log folder is not in a git work tree', warn: false };
  const cwd = location.topLevel;
  const head = await headCommit(cwd);
  if (!head) return { skipped: 'the repository has no commits yet', warn: false };
  const checkpointPath = repositoryPath(location, CHECKPOINT_FILE);

  // The walk of src/log/verify.ts: every commit reachable from HEAD with its parents as git sees them.
  const commits = (await gitText(['rev-list', '--topo-order', '--reverse', '--parents', head], { cwd }))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit, ...parents] = line.split(' ');
      return { commit: commit!, parents };
    });
  if (commits.length > MAX_GIT_HISTORY_COMMITS) {
    return { skipped: `the git history has ${commits.length} commits, more than the ${MAX_GIT_HISTORY_COMMITS} the verify page walks: not published (witness verify checks it)`, warn: true };
  }
  // Per commit: the commit, its root tree, each folder down to the log folder, the checkpoint file.
  const folders = checkpointPath.split('/').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  const specsPer = 2 + folders.length + 1;
  const specs = commits.flatMap(({ commit }) => [commit, `${commit}^{tree}`, ...folders.map((folder) => `${commit}:${folder}`), `${commit}:${checkpointPath}`]);
  const infos = await objectInfos(cwd, specs);
  const wanted = new Map<string, ObjectInfo>();
  commits.forEach((_, i) => {
    const row = infos.slice(i * specsPer, (i + 1) * specsPer);
    // A path component that is not a tree ends the path: the page, like git, finds no checkpoint there.
    for (const [j, info] of row.entries()) {
      if (!info) break;
      const last = j === row.length - 1;
      if (j === 0 ? info.type !== 'commit' : !last && info.type !== 'tree') break;
      wanted.set(info.oid, info);
    }
  });
  const bytes = [...wanted.values()].reduce((sum, info) => sum + info.size, 0);
  if (bytes > MAX_GIT_HISTORY_BYTES) {
    return { skipped: `the git history's objects take ${bytes} bytes, more than the ${MAX_GIT_HISTORY_BYTES} the verify page reads: not published (witness verify checks it)`, warn: true };
  }

  const oids = [...wanted.keys()].sort();
  const contents = await objectContents(cwd, oids);
  const content = new Map(oids.map((oid, i) => [oid, contents[i]!]));
  // Shallow boundaries: commits whose own parents git does not walk (rev-list shows none for them).
  const shallow = commits
    .filter(({ commit, parents }) => {
      const headers = new TextDecoder().decode(content.get(commit)).split('\n\n')[0]!;
      return [...headers.matchAll(/^parent ([0-9a-f]{40})$/gm)].map((m) => m[1]).join(' ') !== parents.join(' ');
    })
    .map(({ commit }) => commit)
    .sort();

  const temp = await mkdtemp(path.join(tmpdir(), 'witness-git-history-'));
  try {
    const gitdir = path.join(temp, 'git');
    for (const oid of oids) {
      const written = await isogit.writeObject({ fs, gitdir, type: wanted.get(oid)!.type as 'commit' | 'tree' | 'blob', object: content.get(oid)!, format: 'content' });
      if (written !== oid) throw new EnvironmentError('GIT_FAILED', `object ${oid} hashes to ${written}: the repository is damaged`);
    }
    const { filename, packfile } = await isogit.packObjects({ fs, gitdir, oids, write: false });
    if (!packfile) throw new EnvironmentError('GIT_FAILED', 'isomorphic-git wrote no pack');
    const packPath = `objects/pack/${filename}`;
    await fs.promises.mkdir(path.join(gitdir, 'objects', 'pack'), { recursive: true });
    await fs.promises.writeFile(path.join(gitdir, packPath), packfile);
    await isogit.indexPack({ fs, dir: gitdir, gitdir, filepath: packPath });
    const indexPath = packPath.replace(/\.pack$/, '.idx');
    const index = new Uint8Array(await fs.promises.readFile(path.join(gitdir, indexPath)));
    if (packfile.length > MAX_GIT_HISTORY_BYTES) {
      return { skipped: `the git history's pack takes ${packfile.length} bytes, more than the ${MAX_GIT_HISTORY_BYTES} the verify page reads: not published (witness verify checks it)`, warn: true };
    }
    const gitFiles = new Map<string, Uint8Array>([
      ['HEAD', new TextEncoder().encode(`${head}\n`)],
      [indexPath, index],
      [packPath, packfile],
    ]);
    const manifest: GitHistoryManifest = {
      schema: GIT_HISTORY_SCHEMA,
      checkpoint: checkpointPath,
      commits: commits.length,
      objects: oids.length,
      files: [...gitFiles.keys()].sort(),
      shallow,
    };
    const files = new Map<string, Uint8Array>();
    for (const [name, content] of gitFiles) files.set(`${GIT_HISTORY_DIR}/${name}`, content);
    files.set(GIT_HISTORY_MANIFEST, new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`));
    return { exported: { files, manifest, head, bytes: packfile.length + index.length } };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Exports the history (exportGitHistory) into the site being written, through `write` (site-relative path,
 * bytes), then checks the copy as the page will (src/publish/browser/history.ts over the site folder), so
 * a published page never says FAILED for a history `witness verify` accepted. Returns a warning when the
 * history is not published (over the bounds).
 */
export async function publishGitHistory(
  logDir: string,
  siteDir: string,
  write: (relative: string, content: Uint8Array) => Promise<void>,
  pinned: { readonly verifierKey: string; readonly origin: string },
): Promise<{ readonly published: boolean; readonly warning?: string }> {
  const result = await exportGitHistory(logDir);
  if ('skipped' in result) return { published: false, ...(result.warn ? { warning: `git history: ${result.skipped}` } : {}) };
  for (const [file, content] of [...result.exported.files].sort(([a], [b]) => (a < b ? -1 : 1))) await write(file, content);
  const check = await verifyGitHistory(async (relative) => {
    try {
      return { ok: true, bytes: new Uint8Array(await fs.promises.readFile(path.join(siteDir, ...relative.split('/')))) };
    } catch {
      return { ok: false, status: 404 };
    }
  }, pinned);
  if (check.status !== 'verified') {
    throw new EnvironmentError('LOG_CHANGED', `the site's copy of the git history does not verify as the page checks it (${check.headline}); run witness publish again`);
  }
  return { published: true };
}
