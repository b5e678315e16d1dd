// Witness state: for each log origin, the latest checkpoint this witness cosigned, as the signed note it
// verified plus our cosignature. Updates are compare-and-swap (c2sp.org/tlog-witness: the check that
// `old` equals the stored size and the write are one atomic step), serialised within the process and
// across processes (a lock file), and durable (temp file, fsync, rename, fsync dir) before the update
// returns, so no cosignature can leave the process ahead of its state. The size never goes backwards.
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { VerificationError } from '../errors.js';
import { acquireLock } from '../log/lock.js';
import { writeFileAtomic } from '../log/files.js';
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
    const note = await readFile(this.file(origin), 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (note === undefined) return undefined;
    const state = parseCosignedState(note);
    if (state.origin !== origin) {
      throw new VerificationError('STATE_CORRUPT', `${this.file(origin)} holds origin ${JSON.stringify(state.origin)}, not ${JSON.stringify(origin)}`);
    }
    return state;
  }

  /**
   * Compare-and-swap: `decide` sees the current state and returns the next one (or a value that is not a
   * state, to change nothing). The next state must not be smaller, nor the same size with another root.
   * It is on disk durably before this returns.
   */
  async update<T>(
    origin: string,
    decide: (current: CosignedState | undefined) => Promise<{ next?: CosignedState; result: T }> | { next?: CosignedState; result: T },
  ): Promise<T> {
    const previous = this.queues.get(origin) ?? Promise.resolve();
    const run = previous.then(async () => {
      const lock = await acquireLock(`${this.file(origin)}.lock`);
      try {
        const current = await this.read(origin);
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
          await writeFileAtomic(this.file(origin), next.note, 0o600);
        }
        return result;
      } finally {
        await lock.release();
      }
    });
    const settled = run.catch(() => undefined);
    this.queues.set(origin, settled);
    void settled.then(() => {
      if (this.queues.get(origin) === settled) this.queues.delete(origin);
    });
    return run;
  }
}
