// Where a log is read from: a local folder or a published copy over HTTP(S) (e.g. GitHub Pages). Both
// are untrusted byte stores; everything read is verified against a pinned key by the caller.
import path from 'node:path';
import { EnvironmentError, FormatError, UsageError, WitnessError } from '../errors.js';
import { getBounded } from '../infra/http.js';
import { readUntrustedFile, readUntrustedFileSync } from '../infra/safe-open.js';
import { maxLogFileBytes } from './layout.js';

export interface LogSource {
  /** For messages: the folder path or base URL. */
  readonly location: string;
  /** The folder, when the log is local (git history and file listing are only checked there). */
  readonly folder?: string;
  /** Reads a file of the log, e.g. `checkpoint` or `tile/0/000`; undefined if it does not exist. */
  read(relative: string): Promise<Uint8Array | undefined>;
  /** The same, synchronously, where that is cheaper (a local folder): for reading thousands of tiles. */
  readSync?(relative: string): Uint8Array | undefined;
}

/**
 * A log in a local folder. The folder may be a hostile clone (git stores symlinks): no symbolic link inside
 * it is ever followed, only regular files are read, each at most maxLogFileBytes (src/infra/safe-open.ts).
 */
export function folderSource(dir: string): LogSource {
  const folder = path.resolve(dir);
  const failed = (relative: string, error: unknown): never => {
    if (error instanceof WitnessError) throw error;
    throw new EnvironmentError('LOG_READ_FAILED', `cannot read ${relative} in ${folder}: ${(error as Error).message}`);
  };
  return {
    location: folder,
    folder,
    async read(relative) {
      try {
        return await readUntrustedFile(folder, relative, maxLogFileBytes(relative), `${relative} in ${folder}`);
      } catch (error) {
        return failed(relative, error);
      }
    },
    readSync(relative) {
      try {
        return readUntrustedFileSync(folder, relative, maxLogFileBytes(relative), `${relative} in ${folder}`);
      } catch (error) {
        return failed(relative, error);
      }
    },
  };
}

export interface HttpSourceOptions {
  /** Per-request timeout (default 20 s). */
  readonly timeoutMs?: number;
  /** Largest response accepted (default 16 MiB; a full entry bundle is at most 256 × 64 KiB). */
  readonly maxBytes?: number;
  readonly fetch?: typeof fetch;
}

/** A log published over HTTP(S): `<base>/checkpoint`, `<base>/tile/...`. */
export function httpSource(baseUrl: string, options: HttpSourceOptions = {}): LogSource {
  let base: URL;
  try {
    base = new URL(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
  } catch {
    throw new UsageError('USAGE', `${baseUrl} is not a URL`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new UsageError('USAGE', `${baseUrl}: only http(s) URLs are supported`);
  const timeoutMs = options.timeoutMs ?? 20_000;
  // A full entry bundle of 256 maximum-size entries is 256 × (2 + 65,535) bytes, just over 16 MiB.
  const maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
  const doFetch = options.fetch ?? fetch;
  return {
    location: base.href,
    async read(relative) {
      const url = new URL(relative, base);
      // The smaller of the limit asked for and what a file of this kind can hold (a FormatError: the log
      // is malformed, not the network).
      const kindLimit = maxLogFileBytes(relative);
      const limit = Math.min(maxBytes, kindLimit);
      const tooLarge = (declared?: number) => {
        const size = declared === undefined ? 'is larger' : `is ${declared} bytes`;
        return limit < maxBytes
          ? new FormatError('FILE_TOO_LARGE', `${url.href} ${size}, more than a ${relative} can hold (${limit} bytes)`)
          : new EnvironmentError('LOG_FETCH_FAILED', `${url.href} ${size}, more than the ${maxBytes} bytes accepted`);
      };
      // One bounded GET (src/infra/http.ts): the size is checked while the body streams, no retries.
      return getBounded(url, {
        maxBytes: limit,
        timeoutMs,
        fetch: doFetch,
        absent: [404],
        anyOk: true,
        error: (failure) => {
          switch (failure.kind) {
            case 'too-large':
              return tooLarge(failure.declared);
            case 'status':
              return new EnvironmentError('LOG_FETCH_FAILED', `fetching ${url.href}: HTTP ${failure.status}`);
            default:
              // A stalled (timeout) or reset body surfaces while reading, not at fetch().
              return new EnvironmentError(
                'LOG_FETCH_FAILED',
                failure.phase === 'request'
                  ? `cannot fetch ${url.href}: ${(failure.cause as Error)?.message ?? String(failure.cause)}`
                  : `reading ${url.href} failed: ${(failure.cause as Error)?.message ?? String(failure.cause)}`,
                { cause: failure.cause },
              );
          }
        },
      });
    },
  };
}

/** `--log` may be a folder or an http(s) URL. */
export function logSource(location: string): LogSource {
  return /^https?:\/\//i.test(location) ? httpSource(location) : folderSource(location);
}
