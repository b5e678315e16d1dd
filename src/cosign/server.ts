// `witness serve`: the c2sp.org/tlog-witness HTTP protocol on node:http.
//
//   POST /add-checkpoint                 -> Witness.addCheckpoint (c2sp.org/tlog-witness "add-checkpoint")
//   GET  /<hex sha256(origin)>/checkpoint -> the latest cosigned checkpoint of a served log (monitoring)
//
// Requests are bounded (body size, header and request timeouts), each log's requests are budgeted by
// its `qpd` (a token bucket refilled continuously at qpd per day, holding at most one day's budget; only
// requests signed by the log that present a checkpoint newer than the one cosigned count),
// every request is logged as one JSON line, and close() shuts down gracefully: it stops accepting, lets
// in-flight requests finish (their state writes always finish), then closes what is left.
import { isMetadataFile, tryParseTilePath } from '../log/layout.js';
import { folderSource } from '../log/source.js';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EnvironmentError, WitnessError } from '../errors.js';
import { parseAddCheckpointRequest, TLOG_SIZE_CONTENT_TYPE } from './protocol.js';
import { originHash } from './state.js';
import type { Witness } from './witness.js';

export const DEFAULT_BODY_LIMIT = 16 * 1024;
const DAY_MS = 86_400_000;

/** One line of the request log. */
export interface RequestLogEntry {
  readonly time: string;
  readonly method: string;
  readonly path: string;
  status: number;
  ms: number;
  /** The origin line of the checkpoint presented (claimed until the log's signature verifies). */
  origin?: string;
  old?: string;
  /** The size of the checkpoint presented. */
  size?: string;
  /** 409: the size this witness last cosigned. */
  stored?: string;
  /** The error code of a refusal (e.g. BAD_PROOF, QPD_EXCEEDED). */
  code?: string;
  message?: string;
  remote?: string;
  /** The client went away before the response was complete. */
  aborted?: true;
}

export interface WitnessServerOptions {
  readonly witness: Witness;
  readonly listen: { readonly host: string; readonly port: number };
  /** Requests per day allowed per origin (from the log list); origins not in it are not limited. */
  readonly qpd?: ReadonlyMap<string, number>;
  /** Largest accepted request body, bytes (default 16 KiB, as omniwitness). */
  readonly bodyLimit?: number;
  /** Time to receive the request headers, ms (default 10 s). */
  readonly headersTimeout?: number;
  /** Time to receive the whole request, ms (default 30 s). */
  readonly requestTimeout?: number;
  /** Idle keep-alive connections are closed after this, ms (default 30 s). */
  readonly keepAliveTimeout?: number;
  /** close(): how long in-flight requests may take before their connections are closed, ms (default 10 s). */
  readonly shutdownGrace?: number;
  readonly logger?: (entry: RequestLogEntry) => void;
  /** Milliseconds clock for the qpd buckets (tests). */
  readonly now?: () => number;
  /** A witness log folder to serve read-only under /log/ (a static tlog-tiles log: checkpoint, tiles, views). */
  readonly logFolder?: string;
}

export interface WitnessServer {
  /** http://host:port (IPv6 hosts in brackets). */
  readonly url: string;
  readonly address: AddressInfo;
  /** Graceful shutdown; resolves when every connection is closed and every request handler has finished. */
  close(): Promise<void>;
}

/** A log line writer: one JSON object per line on `stream`. */
export function jsonLineLogger(stream: { write(text: string): unknown }): (entry: RequestLogEntry) => void {
  return (entry) => {
    stream.write(`${JSON.stringify(entry)}\n`);
  };
}

/** Token bucket: `capacity` tokens, refilled at capacity per day. */
class DailyBucket {
  private tokens: number;
  private last: number;
  constructor(
    readonly qpd: number,
    now: number,
  ) {
    this.tokens = qpd;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.qpd, this.tokens + ((now - this.last) * this.qpd) / DAY_MS);
      this.last = now;
    }
  }

  /** Takes a token; false (and the seconds until one is available) when there is none. */
  take(now: number): { ok: true } | { ok: false; retryAfter: number } {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfter: Math.max(1, Math.ceil((((1 - this.tokens) * DAY_MS) / this.qpd) / 1000)) };
  }

  /** Gives a token back (a request that turned out not to come from the log). */
  refund(): void {
    this.tokens = Math.min(this.qpd, this.tokens + 1);
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const onData = (chunk: Buffer): void => {
      length += chunk.length;
      if (length > limit) {
        done = true;
        req.off('data', onData);
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!done) resolve(Buffer.concat(chunks, length));
      done = true;
    });
    req.once('error', (error) => {
      if (!done) reject(error);
      done = true;
    });
    req.once('close', () => {
      if (!done) reject(new Error('the client closed the connection before sending the whole body'));
      done = true;
    });
  });
}

const MONITORING_PATH = /^\/([0-9a-f]{64})\/checkpoint$/;

/** Starts the tlog-witness HTTP server; resolves once it listens. */
export async function startWitnessServer(options: WitnessServerOptions): Promise<WitnessServer> {
  const { witness } = options;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const headersTimeout = options.headersTimeout ?? 10_000;
  const requestTimeout = Math.max(options.requestTimeout ?? 30_000, headersTimeout);
  const shutdownGrace = options.shutdownGrace ?? 10_000;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? (() => {});
  const byHash = new Map(witness.origins.map((origin) => [originHash(origin), origin]));
  const buckets = new Map<string, DailyBucket>();
  for (const [origin, qpd] of options.qpd ?? []) {
    if (Number.isFinite(qpd) && qpd > 0) buckets.set(origin, new DailyBucket(qpd, now()));
  }
  const logFiles = options.logFolder === undefined ? undefined : folderSource(options.logFolder);
  const inFlight = new Set<Promise<void>>();
  let closing = false;

  const send = (res: ServerResponse, entry: RequestLogEntry, status: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void => {
    entry.status = status;
    if (res.headersSent || res.destroyed) return;
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': String(bytes.length),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      ...(closing ? { Connection: 'close' } : {}),
      ...headers,
    });
    res.end(bytes);
  };

  async function addCheckpoint(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry): Promise<void> {
    let body: Buffer;
    try {
      body = await readBody(req, bodyLimit);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        entry.code = 'BODY_TOO_LARGE';
        // The rest of the body is not read: close the connection after this response.
        send(res, entry, 413, `request body larger than ${bodyLimit} bytes\n`, undefined, { Connection: 'close' });
        req.resume();
        return;
      }
      throw error;
    }
    let request;
    try {
      request = parseAddCheckpointRequest(body);
    } catch (error) {
      entry.code = (error as WitnessError).code ?? 'MALFORMED_REQUEST';
      send(res, entry, 400, `${(error as Error).message}\n`);
      return;
    }
    entry.old = String(request.oldSize);
    // The origin and size lines as presented, for the budget and the log (the witness parses the note).
    const [firstLine = '', sizeLine = ''] = request.checkpoint.split('\n', 2);
    entry.origin = firstLine.slice(0, 200);
    if (/^[0-9]{1,20}$/.test(sizeLine)) entry.size = sizeLine;
    // Replays of a checkpoint already known (public data anyone can send) are not charged to the log.
    const bucket = buckets.has(firstLine) && !(await witness.isKnownCheckpoint(request.checkpoint)) ? buckets.get(firstLine) : undefined;
    if (bucket) {
      const taken = bucket.take(now());
      if (!taken.ok) {
        entry.code = 'QPD_EXCEEDED';
        entry.message = `more than ${bucket.qpd} requests per day`;
        send(res, entry, 429, `too many requests for this log: its budget is ${bucket.qpd} per day\n`, undefined, { 'Retry-After': String(taken.retryAfter) });
        return;
      }
    }
    const outcome = await witness.addCheckpoint(request.oldSize, request.proof, request.checkpoint);
    // Only requests signed by the log count against its budget: anyone can claim an origin.
    if (bucket && (outcome.status === 403 || (outcome.status === 400 && outcome.code !== 'OLD_SIZE_TOO_LARGE'))) bucket.refund();
    if (outcome.status === 200) {
      entry.origin = outcome.state.origin;
      entry.size = String(outcome.state.checkpoint.size);
      send(res, entry, 200, outcome.cosignature);
      return;
    }
    if (outcome.status === 409) {
      entry.stored = String(outcome.size);
      entry.code = 'OLD_SIZE_MISMATCH';
      send(res, entry, 409, `${outcome.size}\n`, TLOG_SIZE_CONTENT_TYPE);
      return;
    }
    entry.code = outcome.code;
    entry.message = outcome.message;
    send(res, entry, outcome.status, `${outcome.message}\n`);
  }

  async function monitoring(res: ServerResponse, entry: RequestLogEntry, hash: string, head: boolean): Promise<void> {
    const origin = byHash.get(hash);
    const state = origin === undefined ? undefined : await witness.store.read(origin);
    if (!state) {
      send(res, entry, 404, 'no cosigned checkpoint for this log\n');
      return;
    }
    entry.origin = state.origin;
    entry.size = String(state.checkpoint.size);
    if (head) {
      entry.status = 200;
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(state.note)), 'Cache-Control': 'no-cache' });
      res.end();
      return;
    }
    send(res, entry, 200, state.note, undefined, { 'Cache-Control': 'no-cache' });
  }

  /** Only files the log layout defines are served: never an arbitrary path under the folder. */
  async function staticLogFile(res: ServerResponse, entry: RequestLogEntry, relative: string, head: boolean): Promise<void> {
    const tile = tryParseTilePath(relative);
    if (!tile && !isMetadataFile(relative)) {
      send(res, entry, 404, 'not found\n');
      return;
    }
    // Never through a symbolic link, never a FIFO or device, never more than such a file can hold.
    const data = await logFiles!.read(relative).catch((error: unknown) => {
      if (error instanceof WitnessError) entry.code = error.code;
      return undefined;
    });
    if (!data) {
      send(res, entry, 404, 'not found\n');
      return;
    }
    // Full tiles never change; partial tiles and the checkpoint do.
    const cache = tile && tile.width === 256 ? 'public, max-age=31536000, immutable' : 'no-cache';
    const type = tile ? 'application/octet-stream' : 'text/plain; charset=utf-8';
    entry.status = 200;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': String(data.length), 'Cache-Control': cache });
    res.end(head ? undefined : data);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const rawPath = req.url ?? '/';
    const query = rawPath.indexOf('?');
    const path = query < 0 ? rawPath : rawPath.slice(0, query);
    const method = req.method ?? 'GET';
    const entry: RequestLogEntry = { time: new Date().toISOString(), method, path: path.slice(0, 200), status: 0, ms: 0 };
    if (req.socket.remoteAddress) entry.remote = req.socket.remoteAddress;
    res.once('close', () => {
      entry.ms = Math.round((performance.now() - started) * 100) / 100;
      if (!res.writableFinished) entry.aborted = true;
      logger(entry);
    });
    try {
      const monitored = MONITORING_PATH.exec(path);
      if (path === '/add-checkpoint') {
        if (method !== 'POST') {
          send(res, entry, 405, 'use POST\n', undefined, { Allow: 'POST' });
          req.resume();
          return;
        }
        await addCheckpoint(req, res, entry);
      } else if (monitored) {
        if (method !== 'GET' && method !== 'HEAD') {
          send(res, entry, 405, 'use GET\n', undefined, { Allow: 'GET, HEAD' });
          req.resume();
          return;
        }
        req.resume();
        await monitoring(res, entry, monitored[1]!, method === 'HEAD');
      } else if (options.logFolder !== undefined && path.startsWith('/log/') && (method === 'GET' || method === 'HEAD')) {
        req.resume();
        await staticLogFile(res, entry, path.slice('/log/'.length), method === 'HEAD');
      } else {
        req.resume();
        send(res, entry, 404, 'not found\n');
      }
    } catch (error) {
      entry.code = error instanceof WitnessError ? error.code : 'INTERNAL';
      entry.message = (error as Error).message;
      // E.g. the state lock held by another process for too long: try again later.
      if (error instanceof EnvironmentError) send(res, entry, 503, 'the witness is busy; try again\n', undefined, { 'Retry-After': '5' });
      else send(res, entry, 500, 'internal error\n');
    }
  }

  const server: Server = createServer(
    {
      headersTimeout,
      requestTimeout,
      // Timeouts are enforced by a periodic check; make it fine enough for the limits asked for.
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      const task = handle(req, res).finally(() => inFlight.delete(task));
      inFlight.add(task);
    },
  );
  server.keepAliveTimeout = options.keepAliveTimeout ?? 30_000;
  server.maxHeadersCount = 64;
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    logger({ time: new Date().toISOString(), method: '-', path: '-', status, ms: 0, code: error.code ?? 'CLIENT_ERROR', ...(socket.remoteAddress ? { remote: socket.remoteAddress } : {}) });
    socket.end(`HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(options.listen.port, options.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      closing = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, shutdownGrace);
        timer.unref();
      });
      // Let in-flight requests finish, each answered with "Connection: close".
      await Promise.race([Promise.allSettled([...inFlight]).then(() => undefined), grace]);
      clearTimeout(timer);
      server.closeAllConnections();
      await serverClosed;
      // State writes of abandoned requests still complete before close() resolves.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    })());

  return { url: `http://${host}:${address.port}`, address, close };
}
