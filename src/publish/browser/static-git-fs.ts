// A read-only filesystem for isomorphic-git over the static files of a published site: the git directory
// that `witness publish` writes (src/publish/git-objects.ts). Plain HTTP has no directory listing, so the
// files that exist are the ones git/history.json lists; anything else is "not found" without a request,
// as isomorphic-git probes many paths (loose objects, packed-refs, config). Each file is fetched once, at
// most `maxBytes`, and kept. Every write is refused (EROFS). isomorphic-git calls the `promises` object
// (isomorphic-git.org/docs/en/fs: readFile, writeFile, unlink, readdir, mkdir, rmdir, stat, lstat,
// readlink, symlink).
import type { PromiseFsClient } from 'isomorphic-git';

/** A file fetched by its path relative to the site root, or why not (the shape of verify.ts's fetcher). */
export type StaticFetchResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly status?: number; readonly error?: string };
export type StaticFetchFile = (path: string) => Promise<StaticFetchResult>;

/** An error as Node's fs makes them: isomorphic-git looks at `code`. */
class FsError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EROFS' | 'EINVAL' | 'EISDIR' | 'ENOTDIR' | 'EIO' | 'EFBIG',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

interface Stats {
  readonly type: 'file' | 'dir';
  readonly mode: number;
  readonly size: number;
  readonly ino: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly uid: number;
  readonly gid: number;
  readonly dev: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

function stats(type: 'file' | 'dir', size: number): Stats {
  return {
    type,
    mode: type === 'dir' ? 0o40755 : 0o100644,
    size,
    ino: 0,
    mtimeMs: 0,
    ctimeMs: 0,
    uid: 1,
    gid: 1,
    dev: 1,
    isFile: () => type === 'file',
    isDirectory: () => type === 'dir',
    isSymbolicLink: () => false,
  };
}

/** `a/./b//c/` -> `a/b/c`; refuses `..` (nothing above the git directory is served). */
function normalize(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new FsError('ENOENT', `${path}: no parent folders`);
    parts.push(part);
  }
  return parts.join('/');
}

export interface StaticGitFs {
  /** The object isomorphic-git takes as `fs`. */
  readonly fs: PromiseFsClient;
  /** Files fetched so far and their bytes. */
  readonly fetched: () => { files: number; bytes: number };
}

/**
 * A filesystem holding `files` (site-relative paths, e.g. `git/HEAD`), each fetched with `fetchFile` when
 * first read. Folders are the files' parent paths.
 */
export function staticGitFs(fetchFile: StaticFetchFile, files: readonly string[], maxBytes: number): StaticGitFs {
  const known = new Set(files.map(normalize));
  const folders = new Map<string, Set<string>>([['', new Set()]]);
  for (const file of known) {
    const parts = file.split('/');
    for (let i = 0; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (!folders.has(parent)) folders.set(parent, new Set());
      folders.get(parent)!.add(parts[i]!);
    }
  }
  const cache = new Map<string, Promise<Uint8Array>>();
  let fetchedFiles = 0;
  let fetchedBytes = 0;
  const read = (path: string): Promise<Uint8Array> => {
    const file = normalize(path);
    if (folders.has(file)) return Promise.reject(new FsError('EISDIR', path));
    if (!known.has(file)) return Promise.reject(new FsError('ENOENT', path));
    let pending = cache.get(file);
    if (!pending) {
      pending = fetchFile(file).then((result) => {
        if (!result.ok) {
          const why = result.status !== undefined ? `HTTP ${result.status}` : (result.error ?? 'fetch failed');
          throw new FsError(result.status === 404 ? 'ENOENT' : 'EIO', `${file} could not be fetched (${why})`);
        }
        if (result.bytes.length > maxBytes) throw new FsError('EFBIG', `${file} is ${result.bytes.length} bytes, more than the ${maxBytes} accepted`);
        fetchedFiles++;
        fetchedBytes += result.bytes.length;
        return result.bytes;
      });
      cache.set(file, pending);
    }
    return pending;
  };
  const refuse = (name: string) => async (path: unknown) => {
    throw new FsError('EROFS', `${name} ${String(path)}: the published git directory is read-only`);
  };
  const stat = async (path: string): Promise<Stats> => {
    const file = normalize(path);
    if (folders.has(file)) return stats('dir', 0);
    return stats('file', (await read(file)).length);
  };
  const promises = {
    async readFile(path: string, options?: string | { encoding?: string }) {
      const bytes = await read(path);
      const encoding = typeof options === 'string' ? options : options?.encoding;
      return encoding === 'utf8' || encoding === 'utf-8' ? new TextDecoder().decode(bytes) : bytes;
    },
    async readdir(path: string) {
      const names = folders.get(normalize(path));
      if (!names) throw new FsError(known.has(normalize(path)) ? 'ENOTDIR' : 'ENOENT', path);
      return [...names].sort();
    },
    stat,
    lstat: stat,
    async readlink(path: string) {
      await stat(path);
      throw new FsError('EINVAL', `${path} is not a symbolic link`);
    },
    writeFile: refuse('writeFile'),
    mkdir: refuse('mkdir'),
    rmdir: refuse('rmdir'),
    unlink: refuse('unlink'),
    symlink: refuse('symlink'),
    rm: refuse('rm'),
    chmod: refuse('chmod'),
  };
  return { fs: { promises }, fetched: () => ({ files: fetchedFiles, bytes: fetchedBytes }) };
}
