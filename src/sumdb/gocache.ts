// The checksum database as the go command left it on disk, read by our own client (SumdbClient with an
// injected fetch): nothing here is trusted because it is cached. Notes are verified with the database's
// key, every tile is authenticated against a signed root, every record proven by its inclusion proof,
// exactly as when they come over the network.
//
// Where the go command keeps it (golang/go src/cmd/go/internal/modfetch/sumdb.go, dbClient):
//   $GOPATH/pkg/sumdb/<name>/latest                         ReadConfig: the newest signed tree head it has seen
//   $GOMODCACHE/cache/download/sumdb/<name>/lookup/<m>@<v>  ReadCache: /lookup answers (record + signed note)
//   $GOMODCACHE/cache/download/sumdb/<name>/tile/8/...      ReadCache: hash tiles it has authenticated
// An empty file is treated as absent, as the go command does (lockedfile writes are not atomic).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { EnvironmentError } from '../errors.js';
import { SumdbClient, type SumdbClientOptions } from './client.js';

export interface GoSumdbCache {
  /** The module cache (GOMODCACHE) holding cache/download/sumdb/<name>/. */
  readonly gomodcache: string;
  /** The GOPATH holding pkg/sumdb/<name>/latest; default: the module cache's GOPATH when it is <GOPATH>/pkg/mod. */
  readonly gopath?: string;
  /** The database's name (its key name): default sum.golang.org. */
  readonly name?: string;
}

const MAX_FILE = 2 * 1024 * 1024;

/** The GOPATH of a module cache at <GOPATH>/pkg/mod, or undefined. */
export function gopathOfModuleCache(gomodcache: string): string | undefined {
  const resolved = path.resolve(gomodcache);
  return path.basename(resolved) === 'mod' && path.basename(path.dirname(resolved)) === 'pkg' ? path.dirname(path.dirname(resolved)) : undefined;
}

/** Where each file of the go command's sumdb cache lives. */
export function goSumdbCachePaths(cache: GoSumdbCache): { base: string; latest: string | undefined } {
  const name = cache.name ?? 'sum.golang.org';
  const gopath = cache.gopath ?? gopathOfModuleCache(cache.gomodcache);
  return {
    base: path.join(path.resolve(cache.gomodcache), 'cache', 'download', 'sumdb', ...name.split('/')),
    latest: gopath === undefined ? undefined : path.join(path.resolve(gopath), 'pkg', 'sumdb', ...name.split('/'), 'latest'),
  };
}

/**
 * A fetch over the go command's cache: `<base>/latest` is GOPATH's latest note, `<base>/lookup/…` and
 * `<base>/tile/…` the cached files. Anything absent answers 404 (so SumdbClient reports it as not found),
 * a symbolic link or a path with ".." 403. Only GET.
 */
export function goCacheFetch(cache: GoSumdbCache): typeof fetch {
  const { base, latest } = goSumdbCachePaths(cache);
  const baseUrl = pathToFileURL(base).href.replace(/\/*$/, '/');
  const answer = (status: number, body: Uint8Array | string) => new Response(typeof body === 'string' ? body : Buffer.from(body), { status });
  return (async (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(baseUrl)) return answer(404, 'not in the go command cache\n');
    let relative: string;
    try {
      relative = decodeURIComponent(url.slice(baseUrl.length));
    } catch {
      return answer(400, 'malformed path\n');
    }
    const parts = relative.split('/');
    if (parts.some((part) => part === '' || part === '.' || part === '..')) return answer(403, 'forbidden path\n');
    let file: string;
    if (relative === 'latest') {
      if (latest === undefined) return answer(404, 'no GOPATH for the latest note\n');
      file = latest;
    } else if (parts[0] === 'lookup' || parts[0] === 'tile') {
      file = path.join(base, ...parts);
    } else {
      return answer(404, 'not a file the go command caches\n');
    }
    let handle;
    try {
      // O_NOFOLLOW: never read through a link planted in the cache.
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return answer(404, `${file}: not in the go command's cache\n`);
      if (code === 'ELOOP') return answer(403, `${file} is a symbolic link\n`);
      throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return answer(403, `${file} is not a regular file\n`);
      if (info.size > MAX_FILE) return answer(413, `${file} is too large\n`);
      const data = await handle.readFile();
      return data.length === 0 ? answer(404, `${file} is empty (treated as absent, as the go command does)\n`) : answer(200, data);
    } finally {
      await handle.close();
    }
  }) as typeof fetch;
}

/** A SumdbClient reading the go command's cache instead of the network; no retries (files do not heal). */
export function goCacheSumdbClient(cache: GoSumdbCache, options: Omit<SumdbClientOptions, 'baseUrl' | 'fetch'> = {}): SumdbClient {
  const { base } = goSumdbCachePaths(cache);
  return new SumdbClient({ retries: 0, ...options, baseUrl: pathToFileURL(base).href, fetch: goCacheFetch(cache) });
}
