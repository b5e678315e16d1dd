// How the sumdb client reads the database: golang/mod sumdb ClientOps.ReadRemote, with a size cap per
// read. The default is HTTP(S) through the one bounded fetcher (src/infra/http.ts), with the retry rules
// the checksum database needs (429 and 503 with Retry-After, 5xx, network errors and timeouts); the go
// command's cache (gocache.ts) is the same remote over an injected fetch of file: URLs.
import { EnvironmentError, UsageError, type WitnessError } from '../errors.js';
import { type HttpFailure, describeNetworkError, getBounded } from '../infra/http.js';
import type { OnProgress } from '../progress.js';

/** The database as the client reads it. Paths are relative to `baseUrl` (`latest`, `tile/8/0/000`, …). */
export interface SumdbRemote {
  /** The base URL, ending in "/"; messages name `<baseUrl><path>`. */
  readonly baseUrl: string;
  /**
   * GET `<baseUrl><path>`: the body, at most `maxBytes` (EnvironmentError RESPONSE_TOO_LARGE beyond), or
   * undefined for a 404/410 when `notFoundOk`. Failures are EnvironmentErrors naming the URL.
   */
  read(path: string, maxBytes: number, options?: { readonly notFoundOk?: boolean }): Promise<Uint8Array | undefined>;
}

export interface HttpRemoteOptions {
  /** The database: `https://sum.golang.org`, or a proxy's `<proxy>/sumdb/sum.golang.org`. */
  readonly baseUrl: string;
  /** file: URLs are accepted only with an injected fetch that reads them (gocache.ts). */
  readonly fetch?: typeof fetch;
  /** Per-request timeout, body included (default 20,000 ms). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt on network errors, timeouts, 5xx and 429 (default 3). */
  readonly retries?: number;
  /** First backoff delay; doubled per retry, with jitter (default 500 ms). */
  readonly retryBaseMs?: number;
  /** Largest backoff delay (default 30,000 ms). */
  readonly maxRetryDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the request fails (default 60,000 ms). */
  readonly maxRetryAfterMs?: number;
  /** Called before every HTTP request (retries included) with the full URL. */
  readonly onRequest?: (url: string) => void;
  readonly userAgent?: string;
  /** Told of each retry (reason and wait). */
  readonly onProgress?: OnProgress;
}

/** The checksum database over HTTP(S) (or file: with an injected fetch). */
export function httpRemote(options: HttpRemoteOptions): SumdbRemote {
  const base = options.baseUrl;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError('INVALID_URL', `${JSON.stringify(base)} is not a URL`);
  }
  const fileWithFetch = url.protocol === 'file:' && options.fetch !== undefined;
  if (url.protocol !== 'https:' && url.protocol !== 'http:' && !fileWithFetch) throw new UsageError('INVALID_URL', `${base}: only http(s) URLs are supported`);
  if (url.search !== '' || url.hash !== '') throw new UsageError('INVALID_URL', `${base}: a sumdb base URL has no query or fragment`);
  const baseUrl = url.href.replace(/\/+$/, '') + '/';
  const timeoutMs = positive(options.timeoutMs, 20_000, 'timeoutMs');
  const retries = nonNegativeInteger(options.retries, 3, 'retries');
  const retryBaseMs = nonNegative(options.retryBaseMs, 500, 'retryBaseMs');
  const maxRetryDelayMs = nonNegative(options.maxRetryDelayMs, 30_000, 'maxRetryDelayMs');
  const maxRetryAfterMs = nonNegative(options.maxRetryAfterMs, 60_000, 'maxRetryAfterMs');
  const headers = { 'User-Agent': options.userAgent ?? 'go-source-witness' };
  const error = (failure: HttpFailure) => sumdbHttpError(failure, timeoutMs);
  return {
    baseUrl,
    read(path, maxBytes, { notFoundOk = false } = {}) {
      const target = baseUrl + path;
      return getBounded(target, {
        maxBytes,
        timeoutMs,
        retries,
        retryBaseMs,
        maxRetryDelayMs,
        maxRetryAfterMs,
        headers,
        error,
        ...(notFoundOk ? { absent: [404, 410] } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.onRequest ? { onRequest: options.onRequest } : {}),
        onRetry: ({ error: why, waitMs, attempt }) =>
          options.onProgress?.({ phase: `fetching from ${new URL(target).host}`, retry: { reason: why.message, waitMs, attempt } }),
      });
    },
  };
}

/** The errors of the sumdb client's reads: EnvironmentErrors naming the URL, with stable codes. */
function sumdbHttpError(failure: HttpFailure, timeoutMs: number): WitnessError {
  const { url } = failure;
  switch (failure.kind) {
    case 'timeout':
      return new EnvironmentError('SUMDB_TIMEOUT', `${url}: no complete response within ${timeoutMs} ms`, { cause: failure.cause });
    case 'network':
      return new EnvironmentError('SUMDB_FETCH_FAILED', `${url}: ${describeNetworkError(failure.cause)}`, { cause: failure.cause });
    case 'too-large':
      return new EnvironmentError(
        'RESPONSE_TOO_LARGE',
        failure.declared === undefined ? `${url}: more than the ${failure.maxBytes} bytes accepted` : `${url}: ${failure.declared} bytes, more than the ${failure.maxBytes} accepted`,
      );
    case 'status': {
      const { status } = failure;
      if (status === 404 || status === 410) return new EnvironmentError('NOT_FOUND', `${url}: not found (HTTP ${status})`);
      const code = status === 429 ? 'RATE_LIMITED' : status >= 500 ? 'SUMDB_UNAVAILABLE' : 'HTTP_ERROR';
      const wait = failure.retryAfter;
      return new EnvironmentError(
        code,
        `${url}: HTTP ${status}${wait ? `; Retry-After of ${Math.ceil(wait.waitMs / 1000)} s is longer than the ${Math.ceil(wait.acceptedMs / 1000)} s accepted` : ''}`,
      );
    }
  }
}

export function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new UsageError('INVALID_OPTION', `${name} must be a non-negative number, not ${v}`);
  return v;
}

export function positive(value: number | undefined, fallback: number, name: string): number {
  const v = nonNegative(value, fallback, name);
  if (v === 0) throw new UsageError('INVALID_OPTION', `${name} must be positive`);
  return v;
}

export function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  const v = nonNegative(value, fallback, name);
  if (!Number.isInteger(v)) throw new UsageError('INVALID_OPTION', `${name} must be an integer, not ${v}`);
  return v;
}
