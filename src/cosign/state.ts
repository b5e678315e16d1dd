// Witness state: for each log origin, the latest checkpoint this witness cosigned, as the signed note it
// verified plus our cosignature. Updates are compare-and-swap (c2sp.org/tlog-witness: the check that
// `old` equals the stored size and the write are one atomic step) and durable before they return, so no
// cosignature can leave the process ahead of its state. The size never goes backwards.
//
// Storage: one append-only journal, `state.journal`, for all origins:
//     entry <byte length> <sha256 hex>\n<cosigned note>\n
// Concurrent updates (of different origins) are committed together: one lock, one write, one fdatasync
// (group commit). An entry counts only once complete with a matching checksum; a torn tail left by a
// crash was never acknowledged and is cut off by the next writer. When the journal grows, it is rewritten
// with the latest entry per origin (temp file, fsync, rename, fsync dir); other processes notice the new
// file (inode) and read it again. Processes share the journal under a lock file.
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fstatSync, fsync, ftruncateSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { VerificationError } from '../errors.js';
import { acquireLock } from '../log/lock.js';
import { type Checkpoint, parseCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual } from '../tlog/encoding.js';
import { splitNote } from '../tlog/note.js';

const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

export interface CosignedState {
  readonly origin: string;
  readonly checkpoint: Checkpoint;
  /** The checkpoint note as cosigned: the log's signature(s) and ours. */
  readonly note: string;
}

/** Lowercase hex SHA-256 of the origin: the tlog-witness monitoring path. */
export function originHash(origin: string): string {
  return createHash('sha256').update(origin, 'utf8').digest('hex');
}

export function parseCosignedState(note: string): CosignedState {
  const { text } = splitNote(note);
  const checkpoint = parseCheckpoint(text);
  return { origin: checkpoint.origin, checkpoint, note };
}

export const JOURNAL_FILE = 'state.journal';
/** Rewrite the journal (latest entry per origin) once it is this large. */
const COMPACT_BYTES = 8 * 1024 * 1024;

export interface StateStoreOptions {
  /** Journal size that triggers a rewrite (default 8 MiB). */
  readonly compactBytes?: number;
}

type Decide<T> = (current: CosignedState | undefined) => Promise<{ next?: CosignedState; result: T }> | { next?: CosignedState; result: T };

interface Pending {
  readonly origin: string;
  readonly decide: Decide<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Whether a complete entry with a matching checksum starts somewhere at or after `from`. */
function validEntryAfter(data: Buffer, from: number): boolean {
  for (let at = data.indexOf('\nentry ', from - 1); at >= 0; at = data.indexOf('\nentry ', at + 1)) {
    const start = at + 1;
    const newline = data.indexOf(0x0a, start);
    const match = newline < 0 ? null : /^entry (0|[1-9][0-9]{0,7}) ([0-9a-f]{64})$/.exec(data.subarray(start, newline).toString('latin1'));
    if (!match) continue;
    const end = newline + 1 + Number(match[1]);
    if (end < data.length && data[end] === 0x0a && createHash('sha256').update(data.subarray(newline + 1, end)).digest('hex') === match[2]) return true;
  }
  return false;
}

function encodeEntry(note: string): Buffer {
  const body = Buffer.from(note, 'utf8');
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.concat([Buffer.from(`entry ${body.length} ${digest}\n`), body, Buffer.from('\n')]);
}

export class WitnessStateStore {
  private readonly states = new Map<string, CosignedState>();
  private fd = -1;
  private inode = -1;
  /** Bytes of the journal read and applied (all complete entries). */
  private offset = 0;
  private pending: Pending[] = [];
  private committing?: Promise<void>;
  /** True while a commit holds the lock and may have written entries that are not yet synced. */
  private writing = false;

  private constructor(
    readonly dir: string,
    private readonly compactBytes: number,
  ) {}

  /** Opens (creating, mode 0700) the state folder and reads the journal. */
  static async open(dir: string, options: StateStoreOptions = {}): Promise<WitnessStateStore> {
    const absolute = path.resolve(dir);
    await mkdir(absolute, { recursive: true, mode: 0o700 });
    const store = new WitnessStateStore(absolute, options.compactBytes ?? COMPACT_BYTES);
    store.refresh();
    return store;
  }

  private get journal(): string {
    return path.join(this.dir, JOURNAL_FILE);
  }

  /** Reopens the journal if it was replaced (compaction by another process), then applies new entries. */
  private refresh(): { tornAt?: number } {
    const current = (() => {
      try {
        return statSync(this.journal);
      } catch {
        return undefined;
      }
    })();
    if (this.fd < 0 || !current || current.ino !== this.inode) {
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = openSync(this.journal, 'a+', 0o600);
      this.inode = fstatSync(this.fd).ino;
      this.offset = 0;
      this.states.clear();
    }
    const size = fstatSync(this.fd).size;
    if (size <= this.offset) return {};
    const data = Buffer.alloc(size - this.offset);
    let read = 0;
    while (read < data.length) {
      const n = readSync(this.fd, data, read, data.length - read, this.offset + read);
      if (n === 0) break;
      read += n;
    }
    let at = 0;
    while (at < read) {
      const newline = data.indexOf(0x0a, at);
      const header = newline < 0 ? '' : data.subarray(at, newline).toString('latin1');
      const match = /^entry (0|[1-9][0-9]{0,7}) ([0-9a-f]{64})$/.exec(header);
      const length = match ? Number(match[1]) : -1;
      const end = newline + 1 + length;
      const complete = match !== null && end + 1 <= read && data[end] === 0x0a;
      const body = complete ? data.subarray(newline + 1, end) : undefined;
      if (!body || createHash('sha256').update(body).digest('hex') !== match![2]) {
        // Incomplete or unchecked: a torn tail of a writer that crashed (it was never acknowledged) -
        // unless a valid entry follows: then bytes in the middle changed, and cutting the journal there
        // would roll the state back. Refuse instead.
        if (validEntryAfter(data.subarray(0, read), at + 1)) {
          throw new VerificationError(
            'STATE_CORRUPT',
            `${this.journal} is damaged at byte ${this.offset + at} and valid entries follow; refusing to cut it (restore it from a backup)`,
          );
        }
        return { tornAt: this.offset + at };
      }
      const state = parseCosignedState(body.toString('utf8'));
      this.states.set(state.origin, state);
      at = end + 1;
    }
    this.offset += at;
    return {};
  }

  /** The latest cosigned state of `origin` (entries appended by other processes included). */
  async read(origin: string): Promise<CosignedState | undefined> {
    // During a commit the map holds only durable states; reading the file then could pick up our own
    // entries before they are synced, so it waits for the next read.
    if (!this.writing) this.refresh();
    return this.states.get(origin);
  }

  /**
   * Compare-and-swap: `decide` sees the current state and returns the next one (or no state, to change
   * nothing). The next state must not be smaller, nor the same size with another root. It is in the
   * journal durably before this returns. Updates of one origin run in order; updates arriving while a
   * commit is under way are committed together in the next one.
   */
  update<T>(origin: string, decide: Decide<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ origin, decide: decide as Decide<unknown>, resolve: resolve as (value: unknown) => void, reject });
      void this.commitLoop();
    });
  }

  private async commitLoop(): Promise<void> {
    if (this.committing) return;
    this.committing = (async () => {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        await this.commit(batch);
      }
    })().finally(() => {
      this.committing = undefined;
      // Updates queued while the loop was finishing (e.g. by a caller resumed by this batch) start a new one.
      if (this.pending.length > 0) void this.commitLoop();
    });
    return this.committing;
  }

  private async commit(batch: Pending[]): Promise<void> {
    let lock;
    try {
      lock = await acquireLock(path.join(this.dir, 'state.lock'));
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    const done: Array<{ item: Pending; result: unknown }> = [];
    // States decided in this batch: visible to later items of the batch, published only once synced.
    const staged = new Map<string, CosignedState>();
    this.writing = true;
    try {
      const { tornAt } = this.refresh();
      if (tornAt !== undefined) {
        ftruncateSync(this.fd, tornAt);
        this.refresh();
      }
      const entries: Buffer[] = [];
      for (const item of batch) {
        try {
          const current = staged.get(item.origin) ?? this.states.get(item.origin);
          const { next, result } = await item.decide(current);
          if (next) {
            if (next.origin !== item.origin) throw new Error(`internal: state for ${next.origin} written as ${item.origin}`);
            if (current) {
              const before = current.checkpoint;
              const after = next.checkpoint;
              if (after.size < before.size || (after.size === before.size && !bytesEqual(after.rootHash, before.rootHash))) {
                throw new VerificationError('STATE_ROLLBACK', `refusing to move ${item.origin} from size ${before.size} to ${after.size} with another root`);
              }
            }
            staged.set(item.origin, next);
            entries.push(encodeEntry(next.note));
          }
          done.push({ item, result });
        } catch (error) {
          item.reject(error);
        }
      }
      if (entries.length > 0) {
        const data = Buffer.concat(entries);
        let written = 0;
        while (written < data.length) written += writeSync(this.fd, data, written);
        await fdatasyncAsync(this.fd);
        this.offset += data.length;
        for (const [origin, state] of staged) this.states.set(origin, state);
        if (this.offset > this.compactBytes) await this.compact();
      }
    } catch (error) {
      // The write or sync failed: nothing of this batch is acknowledged; forget what we applied.
      this.states.clear();
      this.offset = 0;
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
      for (const { item } of done) item.reject(error);
      return;
    } finally {
      this.writing = false;
      await lock.release();
    }
    for (const { item, result } of done) item.resolve(result);
  }

  /** Rewrites the journal with the latest entry per origin (under the lock). */
  private async compact(): Promise<void> {
    const temp = `${this.journal}.compact-${process.pid}`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      for (const state of this.states.values()) {
        const entry = encodeEntry(state.note);
        let written = 0;
        while (written < entry.length) written += writeSync(fd, entry, written);
      }
      await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      renameSync(temp, this.journal);
    } catch (error) {
      rmSync(temp, { force: true });
      throw error;
    }
    const dirFd = openSync(this.dir, 'r');
    try {
      await fsyncAsync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    closeSync(this.fd);
    this.fd = -1;
    this.refresh();
  }
}
