// The one bounded HTTP GET (src/infra/http.ts) and the fetchers that use it (the sumdb client, a published
// log, the go.dev listing), against real HTTP servers on 127.0.0.1: bodies are cut at the cap while they
// stream (an endless body is cancelled, not read to the end), Content-Length above the cap is refused,
// timeouts cover the body, retries follow the sumdb rules.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EnvironmentError, FormatError } from '../src/errors.js';
import { type HttpFailure, getBounded } from '../src/infra/http.js';
import { loadPublishedListing } from '../src/rebuild/expected.js';
import { httpSource } from '../src/log/source.js';

const MiB = 1024 * 1024;

interface Served {
  /** Bytes of body handed to the socket per request path, counted while streaming. */
  sent: Map<string, number>;
  /** How each endless response ended: 'closed' (the client hung up) or 'limit' (the safety stop). */
  ended: Map<string, 'closed' | 'limit'>;
  hits: Map<string, number>;
}

let server: Server;
let base: string;
const served: Served = { sent: new Map(), ended: new Map(), hits: new Map() };

/**
 * Streams 64 KiB chunks without a Content-Length until the client goes away, with backpressure, so what
 * was sent is what the client read plus the socket buffers. A safety stop at `limit` bytes (so a client
 * that does not stop reading ends the test instead of the machine's memory).
 */
function streamEndless(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const key = req.url!;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  served.sent.set(key, 0);
  res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
  let stopped = false;
  res.on('close', () => {
    if (!stopped) served.ended.set(key, 'closed');
    stopped = true;
  });
  const pump = () => {
    while (!stopped) {
      if (served.sent.get(key)! >= limit) {
        stopped = true;
        served.ended.set(key, 'limit');
        res.end();
        return;
      }
      served.sent.set(key, served.sent.get(key)! + chunk.length);
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

before(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    served.hits.set(url, (served.hits.get(url) ?? 0) + 1);
    if (url.startsWith('/endless')) return streamEndless(req, res, 160 * MiB);
    if (url === '/declared') {
      res.writeHead(200, { 'Content-Length': String(5 * MiB) });
      res.end(Buffer.alloc(5 * MiB));
      return;
    }
    if (url === '/small') return void res.end('hello');
    if (url === '/stall-body') {
      res.writeHead(200);
      res.write('partial');
      return; // never ends
    }
    if (url === '/flaky') {
      if (served.hits.get(url)! <= 2) return void res.writeHead(503).end();
      return void res.end('ok');
    }
    if (url === '/rate-limited') return void res.writeHead(429, { 'Retry-After': '3600' }).end();
    if (url === '/gone') return void res.writeHead(410).end();
    if (url === '/forbidden') return void res.writeHead(403).end();
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The caller's error for a failed fetch (getBounded takes it from the caller): the failure kept beside it. */
class TestError extends EnvironmentError {
  constructor(readonly failure: HttpFailure) {
    super('LOG_FETCH_FAILED', `${failure.url}: ${failure.kind}`);
  }
}
const error = (failure: HttpFailure) => new TestError(failure);

async function failure(promise: Promise<unknown>): Promise<HttpFailure> {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof TestError, String(e));
    return e.failure;
  }
  assert.fail('expected a failure');
}

/** Waits until the server saw the endless response to `path` end, and says how. */
async function endOf(path: string): Promise<{ how: 'closed' | 'limit'; sent: number }> {
  for (let i = 0; i < 200 && !served.ended.has(path); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  return { how: served.ended.get(path) ?? 'closed', sent: served.sent.get(path) ?? 0 };
}

describe('getBounded', () => {
  test('an endless body is cancelled as soon as it passes the cap', async () => {
    const got = await failure(getBounded(`${base}/endless-1`, { maxBytes: MiB, timeoutMs: 20_000, error }));
    assert.equal(got.kind, 'too-large');
    assert.equal(got.kind === 'too-large' && got.declared, undefined);
    const end = await endOf('/endless-1');
    assert.equal(end.how, 'closed', 'the client hung up');
    assert.ok(end.sent < MiB + 16 * MiB, `the server sent ${end.sent} bytes for a cap of ${MiB}`);
  });

  test('a Content-Length above the cap is refused before the body is read', async () => {
    const got = await failure(getBounded(`${base}/declared`, { maxBytes: MiB, timeoutMs: 20_000, error }));
    assert.deepEqual(got, { kind: 'too-large', url: `${base}/declared`, maxBytes: MiB, declared: 5 * MiB });
  });

  test('a body within the cap; absent statuses; other statuses', async () => {
    assert.equal(new TextDecoder().decode(await getBounded(`${base}/small`, { maxBytes: 5, timeoutMs: 20_000, error })), 'hello');
    assert.equal((await failure(getBounded(`${base}/small`, { maxBytes: 4, timeoutMs: 20_000, error }))).kind, 'too-large');
    assert.equal(await getBounded(`${base}/gone`, { maxBytes: 5, timeoutMs: 20_000, error, absent: [404, 410] }), undefined);
    const forbidden = await failure(getBounded(`${base}/forbidden`, { maxBytes: 5, timeoutMs: 20_000, error, retries: 3, retryBaseMs: 1 }));
    assert.deepEqual(forbidden, { kind: 'status', url: `${base}/forbidden`, status: 403 });
    assert.equal(served.hits.get('/forbidden'), 1, 'a 403 is not retried');
  });

  test('the timeout covers the body', async () => {
    const started = Date.now();
    const got = await failure(getBounded(`${base}/stall-body`, { maxBytes: MiB, timeoutMs: 200, error }));
    assert.equal(got.kind, 'timeout');
    assert.equal(got.kind === 'timeout' && got.phase, 'body');
    assert.ok(Date.now() - started < 5_000);
  });

  test('503 is retried with backoff; a refused connection is a network failure after the retries', async () => {
    const retries: number[] = [];
    const body = await getBounded(`${base}/flaky`, { maxBytes: 5, timeoutMs: 20_000, error, retries: 3, retryBaseMs: 1, onRetry: ({ attempt }) => retries.push(attempt) });
    assert.equal(new TextDecoder().decode(body), 'ok');
    assert.deepEqual(retries, [1, 2]);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/x`;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let attempts = 0;
    const refused = await failure(getBounded(url, { maxBytes: 5, timeoutMs: 20_000, error, retries: 2, retryBaseMs: 1, onRequest: () => attempts++ }));
    assert.equal(refused.kind, 'network');
    assert.equal(attempts, 3);
  });

  test('a Retry-After longer than accepted fails at once, saying so', async () => {
    const started = Date.now();
    const got = await failure(getBounded(`${base}/rate-limited`, { maxBytes: 5, timeoutMs: 20_000, error, retries: 3, maxRetryAfterMs: 1000 }));
    assert.deepEqual(got, { kind: 'status', url: `${base}/rate-limited`, status: 429, retryAfter: { waitMs: 3_600_000, acceptedMs: 1000 } });
    assert.equal(served.hits.get('/rate-limited'), 1);
    assert.ok(Date.now() - started < 5_000);
  });
});

describe('the fetchers that use it', () => {
  test('loadPublishedListing: an endless listing is cut at its 64 MiB cap while it streams', async () => {
    // Before the bounded GET, the whole body was read first and its size checked after.
    await assert.rejects(loadPublishedListing(`${base}/endless-listing`), (e: unknown) => e instanceof FormatError && e.code === 'BAD_PUBLISHED_LISTING');
    const end = await endOf('/endless-listing');
    assert.equal(end.how, 'closed', `the client read to the server's safety stop (${end.sent} bytes)`);
    assert.ok(end.sent < 64 * MiB + 16 * MiB, `the server sent ${end.sent} bytes for a cap of ${64 * MiB}`);
  });

  test('loadPublishedListing: an HTTP error and a refused connection are PUBLISHED_UNREACHABLE', async () => {
    for (const url of [`${base}/forbidden`, 'http://127.0.0.1:9/listing.json']) {
      await assert.rejects(loadPublishedListing(url), (e: unknown) => e instanceof EnvironmentError && e.code === 'PUBLISHED_UNREACHABLE');
    }
  });

  test('httpSource: an endless checkpoint is cut at what a checkpoint can hold', async () => {
    const source = httpSource(`${base}/endless-log/`);
    await assert.rejects(source.read('checkpoint'), (e: unknown) => e instanceof FormatError && e.code === 'FILE_TOO_LARGE');
    const end = await endOf('/endless-log/checkpoint');
    assert.equal(end.how, 'closed');
    assert.ok(end.sent < 16 * MiB, `the server sent ${end.sent} bytes`);
    assert.equal(await httpSource(`${base}/missing/`).read('checkpoint'), undefined, '404: absent');
    await assert.rejects(httpSource(`${base}/`).read('forbidden'), (e: unknown) => e instanceof EnvironmentError && e.code === 'LOG_FETCH_FAILED');
  });
});
