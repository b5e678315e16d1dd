// Witness state: for each log origin, the latest checkpoint this witness cosigned, as the signed note it
// verified plus our cosignature. Updates are compare-and-swap (c2sp.org/tlog-witness: the check that
// `old` equals the stored size and the write are one atomic step), serialised within the process and
// across processes (a lock file), and durable (temp file, fsync, rename, fsync dir) before the update
// returns, so no cosignature can leave the process ahead of its state. The size never goes backwards.
import { createHash } from 'node:crypto';
import { closeSync, fsync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { VerificationError } from '../errors.js';
import { acquireLock } from '../log/lock.js';
import { type Checkpoint, parseCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual } from '../tlog/encoding.js';
import { splitNote } from '../tlog/note.js';

export interface CosignedState {
  readonly origin: string;
  readonly checkpoint: Checkpoint;
  /** The checkpoint note as cosigned: the log's signature(s) and ours. */
  readonly note: string;
}

/** Lowercase hex SHA-256 of the origin: the file name here and the tlog-witness monitoring path. */
const fsyncAsync = promisify(fsync);

export function originHash(origin: string): string {
  return createHash('sha256').update(origin, 'utf8').digest('hex');
}

export function parseCosignedState(note: string): CosignedState {
  const { text } = splitNote(note);
  const checkpoint = parseCheckpoint(text);
  return { origin: checkpoint.origin, checkpoint, note };
}

export class WitnessStateStore {
  private readonly queues = new Map<string, Promise<unknown>>();
  private writes = 0;

  private constructor(readonly dir: string) {}

  /** Opens (creating, mode 0700) the state folder. */
  static async open(dir: string): Promise<WitnessStateStore> {
    const absolute = path.resolve(dir);
    await mkdir(absolute, { recursive: true, mode: 0o700 });
    return new WitnessStateStore(absolute);
  }

  private file(origin: string): string {
    return path.join(this.dir, `${originHash(origin)}.checkpoint`);
  }

  /** The latest cosigned state of `origin`, read from disk (another process may have updated it). */
  async read(origin: string): Promise<CosignedState | undefined> {
    return this.readNow(origin);
  }

  private readNow(origin: string): CosignedState | undefined {
    let note: string;
    try {
      note = readFileSync(this.file(origin), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const state = parseCosignedState(note);
    if (state.origin !== origin) {
      throw new VerificationError('STATE_CORRUPT', `${this.file(origin)} holds origin ${JSON.stringify(state.origin)}, not ${JSON.stringify(origin)}`);
    }
    return state;
  }

  /**
   * Compare-and-swap: `decide` sees the current state and returns the next one (or a value that is not a
   * state, to change nothing). The next state must not be smaller, nor the same size with another root.
   * It is on disk durably before this returns. The small file operations are synchronous (each is a few
   * microseconds; as promises they dominated a request), the fsyncs are not.
   */
  async update<T>(
    origin: string,
    decide: (current: CosignedState | undefined) => Promise<{ next?: CosignedState; result: T }> | { next?: CosignedState; result: T },
  ): Promise<T> {
    const previous = this.queues.get(origin) ?? Promise.resolve();
    const run = previous.then(async () => {
      const release = await this.lock(origin);
      try {
        const current = this.readNow(origin);
        const { next, result } = await decide(current);
        if (next) {
          if (next.origin !== origin) throw new Error(`internal: state for ${next.origin} written as ${origin}`);
          if (current) {
            const before = current.checkpoint;
            const after = next.checkpoint;
            if (after.size < before.size || (after.size === before.size && !bytesEqual(after.rootHash, before.rootHash))) {
              throw new VerificationError('STATE_ROLLBACK', `refusing to move ${origin} from size ${before.size} to ${after.size} with another root`);
            }
          }
          await this.writeDurably(this.file(origin), next.note);
        }
        return result;
      } finally {
        release();
      }
    });
    const settled = run.catch(() => undefined);
    this.queues.set(origin, settled);
    void settled.then(() => {
      if (this.queues.get(origin) === settled) this.queues.delete(origin);
    });
    return run;
  }

  /** The cross-process lock of one origin: O_EXCL create; a held or stale lock goes the slow way. */
  private async lock(origin: string): Promise<() => void> {
    const path = `${this.file(origin)}.lock`;
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n${hostname()}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await acquireLock(path);
    return () => void held.release();
  }

  /** Temp file, write, fsync, rename over the target, fsync the folder: old or new content after any crash. */
  private async writeDurably(file: string, content: string): Promise<void> {
    const temp = `${file}.tmp-${process.pid}-${++this.writes}`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, content);
      await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, file);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    await this.syncDirectory();
  }

  private dirSync?: Promise<void>;
  private dirSyncQueued?: Promise<void>;

  /**
   * fsync of the state folder, shared: an fsync that starts after our rename makes it durable, so
   * concurrent updates (other origins) wait for one sync instead of each running their own.
   */
  private syncDirectory(): Promise<void> {
    if (this.dirSyncQueued) return this.dirSyncQueued;
    const start = async (): Promise<void> => {
      const fd = openSync(this.dir, 'r');
      try {
        await fsyncAsync(fd);
      } finally {
        closeSync(fd);
      }
    };
    if (!this.dirSync) {
      const sync = start().finally(() => {
        if (this.dirSync === sync) this.dirSync = undefined;
      });
      this.dirSync = sync;
      return sync;
    }
    // A sync is running, but it may have started before our rename: queue one to start after it.
    const queued = this.dirSync
      .catch(() => undefined)
      .then(() => {
        this.dirSyncQueued = undefined;
        const sync = start().finally(() => {
          if (this.dirSync === sync) this.dirSync = undefined;
        });
        this.dirSync = sync;
        return sync;
      });
    this.dirSyncQueued = queued;
    return queued;
  }
}
