// One bounded HTTP GET for everything the witness fetches (the checksum database, a published log, the
// go.dev listing). Everything a server sends is untrusted, so:
//
// - the body is size-checked WHILE it streams: a declared Content-Length above the cap is refused before
//   the body is read, and a body that grows past the cap is cancelled as soon as it does (the connection
//   is dropped; nothing more is read or kept);
// - every attempt has a timeout that covers the body too;
// - retries (when the caller asks for them) follow the rule of the sumdb client: network errors, timeouts,
//   5xx and 429 are retried with exponential backoff and "equal jitter"; Retry-After (RFC 9110 §10.2.3)
//   is honoured on 429 and 503, and one longer than the caller accepts fails at once; other statuses are
//   never retried.
//
// Callers decide what a failure is called: `error` turns an HttpFailure into the typed error thrown (and
// shown in retry progress), so each caller keeps its own codes and messages. Messages name the URL as the
// caller gave it; callers that may hold credentials in a URL redact them (src/goenv.ts sanitizeGoMessage).
import type { WitnessError } from '../errors.js';

/** Why one GET failed. `url` is the URL as given (string form). */
export type HttpFailure =
  /** fetch() or reading the body failed (refused, reset, DNS, …); `phase` says which. */
  | { readonly kind: 'network'; readonly phase: 'request' | 'body'; readonly url: string; readonly cause: unknown }
  /** No complete response within `timeoutMs` (the body included). */
  | { readonly kind: 'timeout'; readonly phase: 'request' | 'body'; readonly url: string; readonly timeoutMs: number; readonly cause: unknown }
  /** The body is larger than `maxBytes`: by its Content-Length (`declared`), or while streaming. */
  | { readonly kind: 'too-large'; readonly url: string; readonly maxBytes: number; readonly declared?: number }
  /**
   * A status that is not a success (and not one of `absent`). `retryAfter` is set when a retry was due
   * but the server asked for a longer wait than the caller accepts (maxRetryAfterMs): it is not waited for.
   */
  | {
      readonly kind: 'status';
      readonly url: string;
      readonly status: number;
      readonly retryAfter?: { readonly waitMs: number; readonly acceptedMs: number };
      /** The first `errorBodyBytes` bytes of the response's body, when asked for. */
      readonly body?: Uint8Array;
    };

export interface BoundedGetOptions {
  /** The largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Per attempt, body included. */
  readonly timeoutMs: number;
  /** Turns a failure into the error thrown (and the reason shown for a retry). */
  readonly error: (failure: HttpFailure) => WitnessError;
  /** Statuses that mean "not there": the GET resolves to undefined (e.g. [404, 410]). Default none. */
  readonly absent?: readonly number[];
  /** Any 2xx status is a success, as Response.ok says (default: only 200). */
  readonly anyOk?: boolean;
  /** Keep the first this many bytes of the body of a failed status for the message (default 0: none). */
  readonly errorBodyBytes?: number;
  /** Retries after the first attempt on network errors, timeouts, 5xx and 429 (default 0). */
  readonly retries?: number;
  /** First backoff delay; doubled per retry, with jitter (default 500 ms). */
  readonly retryBaseMs?: number;
  /** Largest backoff delay (default 30,000 ms). */
  readonly maxRetryDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the GET fails (default 60,000 ms). */
  readonly maxRetryAfterMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  /** Called before every attempt (retries included) with the URL. */
  readonly onRequest?: (url: string) => void;
  /** Told of each retry: the error the attempt ended with, the wait, and the retry's number (1, 2, …). */
  readonly onRetry?: (retry: { readonly error: WitnessError; readonly waitMs: number; readonly attempt: number }) => void;
}

/** Undici and AbortSignal.timeout name a timeout so; a DOMException made here too (see attempt). */
const TIMEOUT_MESSAGE = 'The operation was aborted due to timeout';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * GET `url` with a timeout, a bounded body and the retries asked for. Resolves to the body, or to
 * undefined for a status in `absent`; throws `options.error(failure)` otherwise.
 */
export async function getBounded(url: string | URL, options: BoundedGetOptions): Promise<Uint8Array | undefined> {
  const href = typeof url === 'string' ? url : url.href;
  const retries = options.retries ?? 0;
  for (let attempt = 0; ; attempt++) {
    const outcome = await attemptGet(href, options);
    if (!(outcome instanceof Retryable)) return outcome;
    const { failure } = outcome;
    const error = options.error(failure);
    if (attempt >= retries) throw error;
    let delay: number;
    if (outcome.retryAfterMs !== undefined) {
      const acceptedMs = options.maxRetryAfterMs ?? 60_000;
      if (outcome.retryAfterMs > acceptedMs && failure.kind === 'status') {
        throw options.error({ ...failure, retryAfter: { waitMs: outcome.retryAfterMs, acceptedMs } });
      }
      delay = outcome.retryAfterMs;
    } else {
      // Exponential backoff with "equal jitter": half fixed, half random.
      const ceiling = Math.min(options.maxRetryDelayMs ?? 30_000, (options.retryBaseMs ?? 500) * 2 ** attempt);
      delay = ceiling / 2 + Math.random() * (ceiling / 2);
    }
    options.onRetry?.({ error, waitMs: delay, attempt: attempt + 1 });
    await sleep(delay);
  }
}

/** A failure worth another attempt, with the delay the server asked for (if any). */
class Retryable {
  constructor(
    readonly failure: HttpFailure,
    readonly retryAfterMs?: number,
  ) {}
}

async function attemptGet(url: string, options: BoundedGetOptions): Promise<Uint8Array | undefined | Retryable> {
  options.onRequest?.(url);
  const { timeoutMs } = options;
  // One timer per attempt, cleared when the attempt ends (AbortSignal.timeout would keep one alive for
  // timeoutMs after every request). Aborted with the same TimeoutError AbortSignal.timeout uses.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(TIMEOUT_MESSAGE, 'TimeoutError')), timeoutMs);
  timer.unref?.();
  const failed = (phase: 'request' | 'body', cause: unknown): Retryable =>
    new Retryable(
      isTimeout(cause) || controller.signal.aborted
        ? { kind: 'timeout', phase, url, timeoutMs, cause }
        : { kind: 'network', phase, url, cause },
    );
  try {
    let response: Response;
    try {
      response = await (options.fetch ?? fetch)(url, { signal: controller.signal, redirect: 'follow', ...(options.headers ? { headers: { ...options.headers } } : {}) });
    } catch (error) {
      return failed('request', error);
    }
    const { status } = response;
    if (!(status === 200 || (options.anyOk === true && status >= 200 && status <= 299))) {
      const body = options.errorBodyBytes && !options.absent?.includes(status) ? await readPrefix(response, options.errorBodyBytes) : undefined;
      await response.body?.cancel().catch(() => undefined);
      if (options.absent?.includes(status)) return undefined;
      const failure: HttpFailure = { kind: 'status', url, status, ...(body ? { body } : {}) };
      if (status === 429 || status === 503) return new Retryable(failure, retryAfterMs(response.headers.get('retry-after')));
      if (status >= 500) return new Retryable(failure);
      throw options.error(failure);
    }
    const body = await readBody(response, url, options.maxBytes);
    if (body instanceof Error) return failed('body', body.cause);
    if (!(body instanceof Uint8Array)) throw options.error(body);
    return body;
  } finally {
    clearTimeout(timer);
  }
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

/**
 * The body, at most `maxBytes`, checked while it streams: a declared length above the cap is refused
 * unread, and the stream is cancelled as soon as the bytes received pass the cap. A stream error comes
 * back as an Error whose cause is what the stream threw.
 */
async function readBody(response: Response, url: string, maxBytes: number): Promise<Uint8Array | HttpFailure | Error> {
  const header = response.headers.get('content-length');
  const declared = header !== null && /^[0-9]+$/.test(header.trim()) ? Number(header.trim()) : undefined;
  if (declared !== undefined && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { kind: 'too-large', url, maxBytes, declared };
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  // With a Content-Length, one buffer of that size is filled in place (a server that sends more than it
  // declared is cut at the cap all the same).
  let out = new Uint8Array(declared ?? 0);
  let total = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.length > maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { kind: 'too-large', url, maxBytes };
      }
      if (total + value.length > out.length) {
        const grown = new Uint8Array(Math.min(maxBytes, Math.max(out.length * 2, total + value.length, 16 * 1024)));
        grown.set(out.subarray(0, total));
        out = grown;
      }
      out.set(value, total);
      total += value.length;
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    return new Error('body', { cause: error });
  }
  return total === out.length ? out : out.subarray(0, total);
}

/** Up to `max` bytes of the body (what arrives first), the rest cancelled; empty if the body fails. */
async function readPrefix(response: Response, max: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const out = new Uint8Array(max);
  let total = 0;
  try {
    while (total < max) {
      const { done, value } = await reader.read();
      if (done) break;
      const take = Math.min(value.length, max - total);
      out.set(value.subarray(0, take), total);
      total += take;
    }
  } catch {
    // The message goes without the body.
  }
  await reader.cancel().catch(() => undefined);
  return out.subarray(0, total);
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; undefined if absent or unreadable. */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** "<message> (<code>)" of a failed fetch: undici reports "fetch failed" with the reason in `cause`. */
export function describeNetworkError(error: unknown): string {
  const e = error as Error | undefined;
  const cause = (e as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message;
  const message = e?.message ?? String(error);
  return `${message}${detail ? ` (${detail})` : ''}`;
}
