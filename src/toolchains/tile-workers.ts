// Worker threads that check data tiles (tile-check.ts: strict decoding, leaf and node hashing against
// what vouches for the tile, the records' module-version keys) while the main thread fetches the next
// tiles and indexes the records of the last ones. Hashing is most of a scan's work and needs nothing but
// the tile's bytes, so it parallelizes without changing what is checked: every record of every tile is
// hashed and compared exactly as in the main thread (workers: 0 does it there).
//
// The workers run this very module. Its URL is the TypeScript source under tsx (the worker registers tsx
// first), the compiled file in dist/, or the single-file bundle, which holds this module too: each loads
// it and, seeing the worker marker in workerData, serves jobs. A tile's bytes are transferred to the
// worker and back (no copy).
import { availableParallelism } from 'node:os';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { EnvironmentError } from '../errors.js';
import { type TileCheckJob, type TileCheckResult, checkDataTile } from './tile-check.js';

const MARKER = 'go-source-witness/tile-check-worker';

/** Starts the worker's module (registering tsx first for a .ts source), as CommonJS from a string. */
const BOOTSTRAP = String.raw`'use strict';
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.module);
})().catch((error) => {
  setImmediate(() => {
    throw error;
  });
});
`;

interface Request {
  readonly id: number;
  readonly job: TileCheckJob;
}

interface Reply {
  readonly id: number;
  readonly result?: TileCheckResult;
  /** The tile's bytes, given back. */
  readonly body: Uint8Array;
  readonly error?: string;
}

/** Jobs sent to a worker in one message at most: those queued when it asks for more. */
const MAX_JOBS_PER_MESSAGE = 16;

/** The default number of workers: one per CPU beyond the main thread's, at least 1, at most 4. */
export function defaultTileWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Checks tiles in `size` worker threads (in this thread when size is 0), as checkDataTile does. */
export class TileCheckPool {
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ request: Request; resolve: (reply: Reply) => void }> = [];
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void }>();
  private nextId = 0;
  private failure: Error | undefined;

  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`internal: ${size} tile workers`);
  }

  /**
   * The result of checkDataTile(job) and the tile's bytes (the same bytes: with workers, job.body's
   * buffer is transferred there and back, so it must not be used meanwhile).
   */
  async check(job: TileCheckJob): Promise<{ result: TileCheckResult; body: Uint8Array }> {
    if (this.size === 0) return { result: checkDataTile(job), body: job.body };
    if (this.failure) throw this.failure;
    // The bytes go to the worker by transferring their buffer: a view of a larger one is copied first.
    const body = job.body.byteOffset === 0 && job.body.byteLength === job.body.buffer.byteLength ? job.body : job.body.slice();
    const reply = await new Promise<Reply>((resolve) => {
      this.queue.push({ request: { id: this.nextId++, job: { ...job, body } }, resolve });
      this.dispatch();
    });
    if (reply.error !== undefined) throw new EnvironmentError('SCAN_WORKER_FAILED', `a tile-checking worker failed: ${reply.error}`);
    return { result: reply.result!, body: reply.body };
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let worker = this.idle.pop();
      if (!worker && this.workers.length < this.size) worker = this.start();
      if (!worker) return;
      // Everything queued (up to a limit) in one message: a message costs a thread wake-up each way.
      const batch = this.queue.splice(0, MAX_JOBS_PER_MESSAGE);
      for (const { request, resolve } of batch) this.waiting.set(request.id, { resolve });
      busy.set(worker, batch.map(({ request }) => request.id));
      worker.postMessage(
        batch.map(({ request }) => request),
        [...new Set(batch.map(({ request }) => request.job.body.buffer as ArrayBuffer))],
      );
    }
  }

  private start(): Worker {
    const module = import.meta.url;
    const tsx = module.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { [MARKER]: true, module, tsx }, execArgv: [], stdout: false, stderr: false });
    this.workers.push(worker);
    worker.on('message', (replies: Reply[]) => {
      busy.delete(worker);
      this.idle.push(worker);
      for (const reply of replies) {
        const waiter = this.waiting.get(reply.id);
        this.waiting.delete(reply.id);
        waiter?.resolve(reply);
      }
      this.dispatch();
    });
    const fail = (why: string) => {
      this.failure = new EnvironmentError('SCAN_WORKER_FAILED', `a tile-checking worker ${why}`);
      for (const id of busy.get(worker) ?? []) {
        const waiter = this.waiting.get(id);
        this.waiting.delete(id);
        waiter?.resolve({ id, body: new Uint8Array(0), error: why });
      }
      busy.delete(worker);
      for (const { request, resolve } of this.queue.splice(0)) resolve({ id: request.id, body: new Uint8Array(0), error: why });
    };
    worker.on('error', (error) => fail(`failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (this.workers.includes(worker)) fail(`exited (code ${code})`);
    });
    return worker;
  }
}

/** The ids of the jobs each worker holds. */
const busy = new WeakMap<Worker, number[]>();

// The worker side: serve jobs when this module is loaded as a tile-checking worker.
if (!isMainThread && parentPort && (workerData as Record<string, unknown> | undefined)?.[MARKER] === true) {
  const port = parentPort;
  port.on('message', (requests: Request[]) => {
    const replies: Reply[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const { id, job } of requests) {
      try {
        const result = checkDataTile(job);
        replies.push({ id, result, body: job.body });
        if (result.ok) transfer.push(result.offsets.buffer as ArrayBuffer, result.keys.buffer as ArrayBuffer, result.ends.buffer as ArrayBuffer);
      } catch (error) {
        replies.push({ id, body: job.body, error: error instanceof Error ? error.message : String(error) });
      }
      transfer.push(job.body.buffer as ArrayBuffer);
    }
    port.postMessage(replies, [...new Set(transfer)]);
  });
}
