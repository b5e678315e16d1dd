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

/**
 * Messages a worker holds at once: while it checks one, the next waits in its port. With one, a worker
 * that finished sat idle until the main thread, busy fetching and indexing, took its reply and sent more:
 * about half of the time in `npm run bench -- scan` (2 CPUs).
 */
const MESSAGES_IN_FLIGHT = 2;

/**
 * The default number of workers: none on one CPU; one on two, where the main thread keeps the network
 * and the index (measured with `npm run bench -- scan` on 2 idle CPUs: 19.7-20.6 s with one worker
 * against 26.9-28.9 s in this thread; beside a real build, at load 3-5: 37.0 s against 41.3 s); one per CPU beyond two, at
 * most 4, on more.
 */
export function defaultTileWorkers(cpus: number = availableParallelism()): number {
  if (cpus <= 1) return 0;
  return cpus === 2 ? 1 : Math.min(4, cpus - 2);
}

/** Checks tiles in `size` worker threads (in this thread when size is 0), as checkDataTile does. */
export class TileCheckPool {
  /** Workers started and not yet gone (ready or starting). */
  private readonly workers: Worker[] = [];
  /** A worker once for each further message it may be sent now (MESSAGES_IN_FLIGHT at most). */
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ request: Request; resolve: (reply: Reply) => void }> = [];
  private readonly waiting = new Map<number, { resolve: (reply: Reply) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  /** No worker could start (e.g. a bundle without the compiled module beside it): check in this thread. */
  private inThread: boolean;
  /** A worker ended before it served: no more are started. */
  private startFailed = false;

  constructor(
    readonly size: number,
    /** The module the workers load (default: this one; tests give one that cannot load). */
    private readonly moduleUrl: string = workerModuleUrl(),
  ) {
    if (!Number.isSafeInteger(size) || size < 0) throw new Error(`internal: ${size} tile workers`);
    this.inThread = size === 0;
  }

  /** Whether the checks run in worker threads (false before the first check, or after none could start). */
  get threaded(): boolean {
    return !this.inThread && this.workers.length > 0;
  }

  /**
   * The result of checkDataTile(job) and the tile's bytes (the same bytes: with workers, job.body's
   * buffer is transferred there and back, so it must not be used meanwhile).
   */
  async check(job: TileCheckJob): Promise<{ result: TileCheckResult; body: Uint8Array }> {
    if (this.inThread) return { result: checkDataTile(job), body: job.body };
    if (this.failure) throw this.failure;
    // The bytes go to the worker by transferring their buffer: a view of a larger one is copied first.
    const body = job.body.byteOffset === 0 && job.body.byteLength === job.body.buffer.byteLength ? job.body : job.body.slice();
    const reply = await new Promise<Reply>((resolve) => {
      this.queue.push({ request: { id: this.nextId++, job: { ...job, body } }, resolve });
      this.dispatch();
    });
    if (reply.error !== undefined) throw new EnvironmentError('SCAN_WORKER_FAILED', `a tile-checking worker failed: ${reply.error}`);
    if (reply.result === undefined) return { result: checkDataTile({ ...job, body: reply.body }), body: reply.body }; // no worker could start
    return { result: reply.result, body: reply.body };
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private dispatch(): void {
    while (!this.inThread && !this.startFailed && this.workers.length < this.size && this.workers.length < this.queue.length + this.waiting.size) this.start();
    while (this.queue.length > 0) {
      if (this.inThread) {
        // Jobs queued while the workers failed to start: given back, to be checked here.
        for (const { request, resolve } of this.queue.splice(0)) resolve({ id: request.id, body: request.job.body });
        return;
      }
      if (this.idle.length === 0) return;
      // The worker holding the fewest jobs: with several, each gets its first message before any gets a second.
      let pick = 0;
      for (let i = 1; i < this.idle.length; i++) if ((busy.get(this.idle[i]!)?.length ?? 0) < (busy.get(this.idle[pick]!)?.length ?? 0)) pick = i;
      const worker = this.idle.splice(pick, 1)[0]!;
      // Everything queued (up to a limit) in one message: a message costs a thread wake-up each way.
      const batch = this.queue.splice(0, MAX_JOBS_PER_MESSAGE);
      for (const { request, resolve } of batch) this.waiting.set(request.id, { resolve });
      busy.set(worker, [...(busy.get(worker) ?? []), ...batch.map(({ request }) => request.id)]);
      worker.postMessage(
        batch.map(({ request }) => request),
        [...new Set(batch.map(({ request }) => request.job.body.buffer as ArrayBuffer))],
      );
    }
  }

  private start(): void {
    const module = this.moduleUrl;
    const tsx = module.endsWith('.ts') ? import.meta.resolve('tsx/esm/api') : undefined;
    const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { [MARKER]: true, module, tsx }, execArgv: [], stdout: false, stderr: false });
    this.workers.push(worker);
    let ready = false;
    worker.on('message', (message: Reply[] | 'ready') => {
      if (message === 'ready') {
        ready = true;
        for (let i = 0; i < MESSAGES_IN_FLIGHT; i++) this.idle.push(worker);
      } else {
        const answered = new Set(message.map((reply) => reply.id));
        busy.set(worker, (busy.get(worker) ?? []).filter((id) => !answered.has(id)));
        for (const reply of message) {
          const waiter = this.waiting.get(reply.id);
          this.waiting.delete(reply.id);
          waiter?.resolve(reply);
        }
        this.idle.push(worker);
      }
      this.dispatch();
    });
    const gone = (why: string) => {
      const at = this.workers.indexOf(worker);
      if (at < 0) return; // closed
      this.workers.splice(at, 1);
      for (let at = this.idle.indexOf(worker); at >= 0; at = this.idle.indexOf(worker)) this.idle.splice(at, 1);
      if (!ready) {
        // It never served: the module could not be loaded here. Without any worker, check in this thread.
        this.startFailed = true;
        if (this.workers.length === 0) this.inThread = true;
        this.dispatch();
        return;
      }
      this.failure = new EnvironmentError('SCAN_WORKER_FAILED', `a tile-checking worker ${why}`);
      for (const id of busy.get(worker) ?? []) {
        const waiter = this.waiting.get(id);
        this.waiting.delete(id);
        waiter?.resolve({ id, body: new Uint8Array(0), error: why });
      }
      busy.delete(worker);
      for (const { request, resolve } of this.queue.splice(0)) resolve({ id: request.id, body: new Uint8Array(0), error: why });
    };
    worker.on('error', (error) => gone(`failed: ${error.message}`));
    worker.on('exit', (code) => gone(`exited (code ${code})`));
  }
}

/** The ids of the jobs each worker holds. */
const busy = new WeakMap<Worker, number[]>();

/**
 * The URL of this module for a worker to load: this file (TypeScript under tsx, or compiled), or from the
 * single-file bundle (dist/witness.mjs, which cannot start one module of its own alone) the compiled
 * module that `npm run build` writes beside it (dist/toolchains/tile-workers.js). If that is missing, the
 * worker cannot start and the pool checks in this thread.
 */
function workerModuleUrl(): string {
  const here = import.meta.url;
  return /\/tile-workers\.[jt]s$/.test(here) ? here : new URL('./toolchains/tile-workers.js', here).href;
}

// The worker side: serve jobs when this module is loaded as a tile-checking worker.
if (!isMainThread && parentPort && (workerData as Record<string, unknown> | undefined)?.[MARKER] === true) {
  const port = parentPort;
  port.postMessage('ready');
  port.on('message', (requests: Request[]) => {
    const replies: Reply[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const { id, job } of requests) {
      try {
        const result = checkDataTile(job);
        replies.push({ id, result, body: job.body });
        if (result.ok) transfer.push(result.offsets.buffer as ArrayBuffer);
      } catch (error) {
        replies.push({ id, body: job.body, error: error instanceof Error ? error.message : String(error) });
      }
      transfer.push(job.body.buffer as ArrayBuffer);
    }
    port.postMessage(replies, [...new Set(transfer)]);
  });
}
