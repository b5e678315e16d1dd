// Witness state: for each log origin, the latest checkpoint this witness cosigned, as the signed note it
// verified plus our cosignature. Updates are compare-and-swap (c2sp.org/tlog-witness: the check that
// `old` equals the stored size and the write are one atomic step) and durable before they return, so no
// cosignature can leave the process ahead of its state. The size never goes backwards.
//
// Storage: one append-only journal, `state.journal`, shared by all origins and processes (lock file
// `state.lock`). Each commit appends one record holding a batch of updates:
//     batch <entries> <payload bytes> <sha256 hex of payload>\n<payload>\n
// where the payload is one line per entry, base64 of the cosigned note (so no note can look like journal
// syntax). One write and one fdatasync per batch (group commit). Rules that keep it safe:
//   - The journal is read only while holding the lock, and bytes written by another process are
//     fdatasynced before they are trusted: nothing not durable is ever served.
//   - A damaged record with no valid record after it is a torn tail (never synced, never acknowledged):
//     the next writer cuts it. Damage followed by a valid record is refused: cutting would roll back.
//   - A failed write or fdatasync is undone (truncate + sync); if that fails too, the store refuses all use.
//   - A journal that disappears or shrinks under a running store is refused, not recreated.
//   - When the journal grows past a size, it is rewritten (latest entry per origin) by temp file, fsync,
//     rename and directory fsync; other processes notice the new inode, fsync the directory, re-read.
import { createHash } from 'node:crypto';
import {
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { EnvironmentError, VerificationError, WitnessError } from '../errors.js';
import { fsyncDirectory, writeFileAtomic } from '../infra/files.js';
import { acquireLock, holdLock, lockContent, releaseLockHold } from '../infra/lock.js';
import { type Checkpoint, parseCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual, decodeBase64 } from '../tlog/encoding.js';
import { splitNote } from '../tlog/note.js';

const fdatasyncAsync = promisify(fdatasync);

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
const LOCK_FILE = 'state.lock';
/** Rewrite the journal (latest entry per origin) once it is this large. */
const COMPACT_BYTES = 8 * 1024 * 1024;
const HEADER = /^batch ([1-9][0-9]{0,5}) ([1-9][0-9]{0,9}) ([0-9a-f]{64})$/;

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

function ioError(what: string, error: unknown): WitnessError {
  if (error instanceof WitnessError) return error;
  return new EnvironmentError('STATE_IO', `witness state: ${what}: ${(error as Error).message}`, { cause: error });
}

function encodeBatch(notes: readonly string[]): Buffer {
  const payload = Buffer.from(notes.map((note) => `${Buffer.from(note, 'utf8').toString('base64')}\n`).join(''), 'latin1');
  const digest = createHash('sha256').update(payload).digest('hex');
  return Buffer.concat([Buffer.from(`batch ${notes.length} ${payload.length} ${digest}\n`), payload, Buffer.from('\n')]);
}

/** The record at `at`: its states and where it ends, or undefined if it is not a complete valid record. */
function decodeBatch(data: Buffer, at: number): { states: CosignedState[]; end: number } | undefined {
  const newline = data.indexOf(0x0a, at);
  if (newline < 0) return undefined;
  const match = HEADER.exec(data.subarray(at, newline).toString('latin1'));
  if (!match) return undefined;
  const end = newline + 1 + Number(match[2]);
  if (end + 1 > data.length || data[end] !== 0x0a) return undefined;
  const payload = data.subarray(newline + 1, end);
  if (createHash('sha256').update(payload).digest('hex') !== match[3]) return undefined;
  const lines = payload.toString('latin1').split('\n');
  if (lines.pop() !== '' || lines.length !== Number(match[1])) return undefined;
  try {
    const states = lines.map((line) => parseCosignedState(Buffer.from(decodeBase64(line, 'STATE_CORRUPT')).toString('utf8')));
    return { states, end: end + 1 };
  } catch {
    return undefined;
  }
}

/** Whether a complete valid record starts anywhere after `from` ("batch " cannot occur in base64). */
function validBatchAfter(data: Buffer, from: number): boolean {
  for (let at = data.indexOf('batch ', from); at >= 0; at = data.indexOf('batch ', at + 1)) {
    if (decodeBatch(data, at)) return true;
  }
  return false;
}

export class WitnessStateStore {
  /** Durable states only. */
  private readonly states = new Map<string, CosignedState>();
  private fd = -1;
  private inode = -1;
  /** Bytes of the journal read and applied (all complete valid records). */
  private offset = 0;
  private pending: Pending[] = [];
  private committing?: Promise<void>;
  /** True while this store holds the lock in a commit. */
  private writing = false;
  /** Set when a failed write could not be undone: the store refuses all use. */
  private broken?: WitnessError;

  private constructor(
    readonly dir: string,
    private readonly compactBytes: number,
  ) {}

  /** Opens (creating, mode 0700) the state folder and reads the journal, under the lock. */
  static async open(dir: string, options: StateStoreOptions = {}): Promise<WitnessStateStore> {
    const absolute = path.resolve(dir);
    await mkdir(absolute, { recursive: true, mode: 0o700 });
    const store = new WitnessStateStore(absolute, options.compactBytes ?? COMPACT_BYTES);
    const lock = await acquireLock(path.join(absolute, LOCK_FILE));
    try {
      await store.refresh(true);
      await store.importLegacyFiles();
    } catch (error) {
      store.closeJournal();
      throw ioError('opening the journal', error);
    } finally {
      await lock.release().catch(() => undefined);
    }
    return store;
  }

  private get journal(): string {
    return path.join(this.dir, JOURNAL_FILE);
  }

  private closeJournal(): void {
    const fd = this.fd;
    this.fd = -1;
    this.inode = -1;
    if (fd >= 0) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
  }

  /**
   * Brings the in-memory states up to the journal. Must hold the lock. Returns where a torn tail starts.
   * New records written by other processes are made durable (fdatasync) before they are applied.
   */
  private async refresh(creating = false): Promise<{ tornAt?: number }> {
    let info;
    try {
      info = statSync(this.journal);
    } catch {
      info = undefined;
    }
    if (!info && !creating) {
      throw new VerificationError('STATE_CORRUPT', `${this.journal} disappeared while the witness was running; refusing to start over (restore it)`);
    }
    // Reopened (another process compacted): read it all into a fresh map and swap it in at the end, so
    // concurrent readers keep seeing the durable states they had meanwhile.
    let reopened = false;
    if (this.fd < 0 || !info || info.ino !== this.inode) {
      const replaced = this.fd >= 0;
      this.closeJournal();
      this.fd = openSync(this.journal, 'a+', 0o600);
      this.inode = fstatSync(this.fd).ino;
      this.offset = 0;
      reopened = true;
      // Another process rewrote the journal: make its rename durable before we build on it.
      if (replaced || creating) await fsyncDirectory(this.dir);
    }
    const size = fstatSync(this.fd).size;
    if (size < this.offset) {
      throw new VerificationError('STATE_CORRUPT', `${this.journal} shrank from ${this.offset} to ${size} bytes; refusing to continue (restore it)`);
    }
    if (size === this.offset) {
      if (reopened) this.states.clear();
      return {};
    }
    const data = Buffer.alloc(size - this.offset);
    let read = 0;
    while (read < data.length) {
      const n = readSync(this.fd, data, read, data.length - read, this.offset + read);
      if (n === 0) break;
      read += n;
    }
    const complete = data.subarray(0, read);
    const found: CosignedState[] = [];
    let at = 0;
    let tornAt: number | undefined;
    while (at < complete.length) {
      const batch = decodeBatch(complete, at);
      if (!batch) {
        if (validBatchAfter(complete, at + 1)) {
          throw new VerificationError(
            'STATE_CORRUPT',
            `${this.journal} is damaged at byte ${this.offset + at} and valid records follow; refusing to cut it (restore it from a backup)`,
          );
        }
        tornAt = this.offset + at;
        break;
      }
      found.push(...batch.states);
      at = batch.end;
    }
    if (found.length > 0) {
      try {
        await fdatasyncAsync(this.fd);
      } catch (error) {
        // Linux reports a writeback error once; a retry could "succeed" on data that never reached disk.
        this.broken = ioError('syncing records written by another process; restart the witness after checking the journal', error);
        throw this.broken;
      }
    }
    // One synchronous step: readers never see a half-applied journal.
    if (reopened) this.states.clear();
    for (const state of found) this.states.set(state.origin, state);
    this.offset += at;
    return tornAt === undefined ? {} : { tornAt };
  }

  /** States kept by an earlier version, one `<sha256(origin)>.checkpoint` file per origin: imported once. */
  private async importLegacyFiles(): Promise<void> {
    const notes: string[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^[0-9a-f]{64}\.checkpoint$/.test(name)) continue;
      const state = parseCosignedState(readFileSync(path.join(this.dir, name), 'utf8'));
      const current = this.states.get(state.origin);
      if (!current || current.checkpoint.size < state.checkpoint.size) notes.push(state.note);
    }
    if (notes.length === 0) return;
    const { tornAt } = await this.refresh();
    if (tornAt !== undefined) this.cut(tornAt);
    await this.append(encodeBatch(notes));
    for (const note of notes) {
      const state = parseCosignedState(note);
      this.states.set(state.origin, state);
    }
  }

  private cut(at: number): void {
    ftruncateSync(this.fd, at);
    this.offset = at;
  }

  /** Appends a record and syncs it; on failure undoes it (or, if that fails, breaks the store). */
  private async append(record: Buffer): Promise<void> {
    const before = this.offset;
    try {
      let written = 0;
      while (written < record.length) written += writeSync(this.fd, record, written);
      await fdatasyncAsync(this.fd);
    } catch (error) {
      try {
        ftruncateSync(this.fd, before);
        await fdatasyncAsync(this.fd);
      } catch (undo) {
        this.broken = ioError('a failed write could not be undone; restart the witness after checking the journal', undo);
      }
      throw ioError('writing the journal', error);
    }
    this.offset = before + record.length;
  }

  /**
   * The latest durable cosigned state of `origin`. The journal is read only under the lock (taken without
   * waiting); when another process holds it, the states this process already knows are returned.
   */
  async read(origin: string): Promise<CosignedState | undefined> {
    if (this.broken) throw this.broken;
    if (!this.writing) {
      const lockPath = path.join(this.dir, LOCK_FILE);
      let fd = -1;
      try {
        fd = openSync(lockPath, 'wx', 0o644);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('locking', error);
      }
      if (fd >= 0) {
        holdLock(lockPath);
        try {
          try {
            writeSync(fd, lockContent());
          } finally {
            closeSync(fd);
          }
          await this.refresh(); // a torn tail is left for the next writer to cut
        } catch (error) {
          if (this.broken || error instanceof WitnessError) throw ioError('reading the journal', error);
          // E.g. a full disk while writing the lock: the durable states known here are still right.
        } finally {
          rmSync(lockPath, { force: true });
          releaseLockHold(lockPath);
        }
      }
    }
    return this.states.get(origin);
  }

  /**
   * Compare-and-swap: `decide` sees the current state and returns the next one (or no state, to change
   * nothing). The next state must not be smaller, nor the same size with another root. It is in the
   * journal durably before this returns. Updates run in arrival order; those arriving during a commit are
   * committed together in the next one.
   */
  update<T>(origin: string, decide: Decide<T>): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
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
    const settled = new Set<Pending>();
    const fail = (item: Pending, error: unknown) => {
      settled.add(item);
      item.reject(error);
    };
    let lock;
    try {
      if (this.broken) throw this.broken;
      lock = await acquireLock(path.join(this.dir, LOCK_FILE));
    } catch (error) {
      for (const item of batch) fail(item, ioError('locking', error));
      return;
    }
    const done: Array<{ item: Pending; result: unknown }> = [];
    // States decided in this batch: visible to later items of the batch, published only once synced.
    const staged = new Map<string, CosignedState>();
    this.writing = true;
    try {
      const { tornAt } = await this.refresh();
      if (tornAt !== undefined) this.cut(tornAt);
      const notes: string[] = [];
      for (const item of batch) {
        try {
          const current = staged.get(item.origin) ?? this.states.get(item.origin);
          const { next, result } = await item.decide(current);
          if (next) {
            if (next.origin !== item.origin) throw new EnvironmentError('STATE_MISUSE', `internal: state for ${next.origin} written as ${item.origin}`);
            if (current) {
              const before = current.checkpoint;
              const after = next.checkpoint;
              if (after.size < before.size || (after.size === before.size && !bytesEqual(after.rootHash, before.rootHash))) {
                throw new VerificationError('STATE_ROLLBACK', `refusing to move ${item.origin} from size ${before.size} to ${after.size} with another root`);
              }
            }
            staged.set(item.origin, next);
            notes.push(next.note);
          }
          done.push({ item, result });
        } catch (error) {
          fail(item, error);
        }
      }
      if (notes.length > 0) {
        await this.append(encodeBatch(notes));
        for (const [origin, state] of staged) this.states.set(origin, state);
        if (this.offset > this.compactBytes) await this.compact();
      }
    } catch (error) {
      // Nothing of this batch is acknowledged; what was written was undone (or the store is broken).
      const wrapped = ioError('committing', error);
      for (const item of batch) if (!settled.has(item)) fail(item, wrapped);
      return;
    } finally {
      this.writing = false;
      await lock.release().catch(() => undefined);
    }
    for (const { item, result } of done) item.resolve(result);
  }

  /** Rewrites the journal with the latest entry per origin (under the lock). A failure only postpones it. */
  private async compact(): Promise<void> {
    try {
      // Temp file, fsync, rename, fsync dir; a failure leaves the current journal as it is.
      await writeFileAtomic(this.journal, encodeBatch([...this.states.values()].map((state) => state.note)), 0o600);
    } catch {
      return;
    }
    this.closeJournal();
    await this.refresh();
  }
}
