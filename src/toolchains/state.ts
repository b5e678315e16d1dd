// The durable position of `witness sumdb scan`, in the witness state folder:
//
//   <state>/sumdb-scan/<hex sha256 of the database's verifier key>/
//     scan.json     {schema, verifierKey, start, position, treeSize, treeRoot, updated}: records
//                   [start, position) have been scanned, against tree head (treeSize, treeRoot)
//     modules.idx   8 bytes per scanned record, records start … position-1 (module-index.ts)
//     scan.lock     one scan at a time (src/log/lock.ts)
//
// What the scan finds goes into the witness log first, the position after it (commit): scan.json is
// replaced by rename (writeFileAtomic) after checking, under the lock, that it still holds the position
// the batch started from (compare-and-swap), and it never moves backwards. modules.idx is written before
// scan.json and cut back to the committed position when opened. A kill -9 at any moment therefore leaves
// either the old position (the batch is scanned again; what it appended to the log is found there and not
// appended twice: scan.ts reconciles) or the new one: no gap, no duplicate.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import { fsyncDirectory, writeFileAtomic } from '../infra/files.js';
import { type HeldLock, acquireLock } from '../infra/lock.js';
import { formatTime } from '../infra/time.js';
import { ModuleVersionIndex } from './module-index.js';
import type { ScanRecord } from './scan-record.js';

export const SCAN_STATE_SCHEMA = 'go-source-witness/sumdb-scan/v1';
const STATE_FILE = 'scan.json';
const INDEX_FILE = 'modules.idx';
const LOCK_FILE = 'scan.lock';

export interface ScanPosition {
  /** The first record this scan covers (its --from). */
  readonly start: bigint;
  /** The next record to scan. */
  readonly position: bigint;
  /** The verified tree head the position was reached in (0 and empty before the first batch). */
  readonly treeSize: bigint;
  readonly treeRoot: string;
}

const UINT = /^(0|[1-9][0-9]{0,17})$/;

/**
 * Named points of a scan where tests make the process die (SIGKILL), as src/log/crash-points.ts does for
 * appends: set GO_SOURCE_WITNESS_CRASH_POINT to one of these.
 */
export const SCAN_CRASH_POINTS = ['scan-after-append', 'scan-after-index', 'scan-before-record'] as const;

export function scanCrashPoint(name: (typeof SCAN_CRASH_POINTS)[number]): void {
  if (process.env.GO_SOURCE_WITNESS_CRASH_POINT === name) process.kill(process.pid, 'SIGKILL');
}

function corrupt(file: string, why: string): never {
  throw new EnvironmentError('SCAN_STATE_CORRUPT', `${file}: ${why}; the scan state is damaged (move the folder away to scan again from --from)`);
}

export class ScanState {
  private constructor(
    readonly dir: string,
    readonly verifierKey: string,
    private current: ScanPosition | undefined,
    private readonly lock: HeldLock,
  ) {}

  /** The folder of one database's scan state. */
  static folder(stateDir: string, verifierKey: string): string {
    return path.join(path.resolve(stateDir), 'sumdb-scan', createHash('sha256').update(verifierKey).digest('hex'));
  }

  /** Opens (and locks) the scan state of a database; `current` is undefined before its first scan. */
  static async open(stateDir: string, verifierKey: string): Promise<ScanState> {
    const dir = ScanState.folder(stateDir, verifierKey);
    const info = await stat(stateDir).catch(() => undefined);
    if (info && !info.isDirectory()) throw new UsageError('STATE_NOT_A_FOLDER', `--state ${stateDir} is not a folder`);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const lock = await acquireLock(path.join(dir, LOCK_FILE), 5_000);
    try {
      const current = await readPosition(path.join(dir, STATE_FILE), verifierKey);
      return new ScanState(dir, verifierKey, current, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  get position(): ScanPosition | undefined {
    return this.current;
  }

  async close(): Promise<void> {
    await this.lock.release();
  }

  /** Starts a scan at `start` (first use only). */
  async initialize(start: bigint): Promise<ScanPosition> {
    if (this.current) throw new Error('internal: scan state already initialized');
    // Whatever was there goes (never followed: a link is removed, not its target), an empty file is made.
    const file = path.join(this.dir, INDEX_FILE);
    await rm(file, { recursive: true, force: true });
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    await handle.sync();
    await handle.close();
    const position = { start, position: start, treeSize: 0n, treeRoot: '' };
    await this.write(position);
    this.current = position;
    return position;
  }

  /**
   * Which of the witness log's scan records of this database (newest first; scan-record.ts) the module
   * index in this folder continues: the newest whose 8 × (position - start) first bytes hash to the SHA-256
   * it signs (a longer file is a run that died before its record; a shorter one may still be an earlier
   * record's). The index must be in this folder already, put there from wherever it was kept (a CI
   * artifact, a backup). Reads only: `applyRestore` then writes. `why` says why none matched (missing, not
   * a regular file, a symbolic link, which is never followed, or no digest matches).
   */
  async findRestorable(candidates: readonly ScanRecord[]): Promise<{ scan: ScanRecord } | { why: string }> {
    const file = path.join(this.dir, INDEX_FILE);
    if (candidates.length === 0) return { why: 'no scan record' };
    let handle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { why: `no module index (${INDEX_FILE}) in ${this.dir}` };
      if (code === 'ELOOP') return { why: `${file} is a symbolic link (never followed)` };
      return { why: `${file} cannot be read (${code ?? (error as Error).message})` };
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) return { why: `${file} is not a regular file` };
      const newest = candidates[0]!;
      let why = `the module index holds ${Math.floor(info.size / 8)} records, the log's scan record ${Number(newest.position - newest.start)}`;
      let tried = 0;
      for (const scan of candidates) {
        if (scan.database !== this.verifierKey) throw new Error('internal: a scan record of another database');
        const want = Number(scan.position - scan.start) * 8;
        if (want > info.size) continue;
        if (tried++ >= 8) break; // each try reads the index once
        const digest = await sha256Prefix(handle, want);
        if (digest === scan.moduleIndex) return { scan };
        if (scan === newest) why = `the module index's first ${want / 8} records hash to sha256:${digest}, not to the sha256:${scan.moduleIndex} the log signs`;
        else if (tried === 1) why = `the module index matches none of the log's ${candidates.length} scan records of this scan`;
      }
      return { why };
    } finally {
      await handle.close();
    }
  }

  /** Takes the position of a scan record that findRestorable matched, cutting the index back to it. */
  async applyRestore(scan: ScanRecord): Promise<ScanPosition> {
    if (this.current) throw new Error('internal: restore with a scan position');
    const handle = await open(path.join(this.dir, INDEX_FILE), constants.O_RDWR | constants.O_NOFOLLOW);
    try {
      const want = Number(scan.position - scan.start) * 8;
      if ((await handle.stat()).size > want) await handle.truncate(want);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const position = { start: scan.start, position: scan.position, treeSize: scan.treeSize, treeRoot: scan.treeRoot };
    await this.write(position);
    this.current = position;
    return position;
  }

  /**
   * Forgets the position (scan.json; the index stays for findRestorable): for a position the witness log
   * does not vouch for, with --restore-state-from-log.
   */
  async discard(): Promise<void> {
    await rm(path.join(this.dir, STATE_FILE), { force: true });
    await fsyncDirectory(this.dir);
    this.current = undefined;
  }

  /** Lowercase hex SHA-256 of the module index of the committed records [start, position). */
  async indexDigest(): Promise<string> {
    const current = this.requireCurrent();
    const handle = await open(path.join(this.dir, INDEX_FILE), constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      return await sha256Prefix(handle, Number(current.position - current.start) * 8);
    } finally {
      await handle.close();
    }
  }

  /** The module-version index of records [start, position), cut back to that if it holds more. */
  async loadIndex(): Promise<ModuleVersionIndex> {
    const current = this.requireCurrent();
    const file = path.join(this.dir, INDEX_FILE);
    const want = Number(current.position - current.start) * 8;
    const handle = await open(file, constants.O_RDWR | constants.O_NOFOLLOW).catch(() => corrupt(file, 'missing, or not a file (a symbolic link is never followed)'));
    try {
      const { size } = await handle.stat();
      if (size < want) corrupt(file, `holds ${size / 8} records, the position says ${want / 8}`);
      if (size > want) {
        // Written by a batch whose position was never committed: that batch is scanned again.
        await handle.truncate(want);
        await handle.sync();
      }
      const bytes = new Uint8Array(want);
      if (want > 0) await handle.read(bytes, 0, want, 0);
      return ModuleVersionIndex.fromBytes(current.start, bytes);
    } finally {
      await handle.close();
    }
  }

  /**
   * Commits a batch: appends the index entries of records [expected.position, next.position) (given as
   * the index and the entry it was saved up to), then moves the position, compare-and-swap.
   */
  async commit(expected: ScanPosition, next: Omit<ScanPosition, 'start'>, index: ModuleVersionIndex, savedEntries: number): Promise<ScanPosition> {
    const current = this.requireCurrent();
    const onDisk = await readPosition(path.join(this.dir, STATE_FILE), this.verifierKey);
    if (!onDisk || onDisk.position !== expected.position || current.position !== expected.position || onDisk.treeSize !== current.treeSize) {
      throw new EnvironmentError('SCAN_STATE_CHANGED', `the scan position changed under this scan (expected ${expected.position}, found ${onDisk?.position}); run again`);
    }
    if (next.position < expected.position) throw new Error(`internal: the scan position may not go back (${expected.position} -> ${next.position})`);
    if (index.end !== next.position || Number(expected.position - current.start) !== savedEntries) {
      throw new Error('internal: the index does not cover the batch being committed');
    }
    const file = path.join(this.dir, INDEX_FILE);
    const handle = await open(file, constants.O_RDWR | constants.O_NOFOLLOW);
    try {
      const bytes = index.bytesFrom(savedEntries);
      await handle.write(bytes, 0, bytes.length, savedEntries * 8);
      await handle.datasync();
    } finally {
      await handle.close();
    }
    scanCrashPoint('scan-after-index');
    const position = { start: current.start, ...next };
    await this.write(position);
    this.current = position;
    return position;
  }

  private requireCurrent(): ScanPosition {
    if (!this.current) throw new Error('internal: scan state not initialized');
    return this.current;
  }

  private async write(position: ScanPosition): Promise<void> {
    const json = {
      schema: SCAN_STATE_SCHEMA,
      verifierKey: this.verifierKey,
      start: String(position.start),
      position: String(position.position),
      treeSize: String(position.treeSize),
      treeRoot: position.treeRoot,
      updated: formatTime(new Date()),
    };
    // Temp file, fsync, rename, fsync of the folder (src/log/files.ts).
    await writeFileAtomic(path.join(this.dir, STATE_FILE), `${JSON.stringify(json, null, 2)}\n`, 0o600);
  }
}

async function readPosition(file: string, verifierKey: string): Promise<ScanPosition | undefined> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new EnvironmentError('STATE_IO', `${file}: ${error.message}`, { cause: error });
  });
  if (text === undefined) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return corrupt(file, 'not JSON');
  }
  const keys = ['schema', 'verifierKey', 'start', 'position', 'treeSize', 'treeRoot', 'updated'];
  if (typeof json !== 'object' || json === null || Object.keys(json).sort().join() !== [...keys].sort().join()) corrupt(file, `want exactly the fields ${keys.join(', ')}`);
  if (json.schema !== SCAN_STATE_SCHEMA) corrupt(file, `schema is not ${SCAN_STATE_SCHEMA}`);
  if (json.verifierKey !== verifierKey) corrupt(file, 'it is the state of another database');
  for (const key of ['start', 'position', 'treeSize']) if (typeof json[key] !== 'string' || !UINT.test(json[key] as string)) corrupt(file, `${key} is not a decimal string`);
  if (typeof json.treeRoot !== 'string' || !/^([A-Za-z0-9+/]{43}=)?$/.test(json.treeRoot)) corrupt(file, 'treeRoot is not base64 of 32 bytes');
  const position: ScanPosition = { start: BigInt(json.start as string), position: BigInt(json.position as string), treeSize: BigInt(json.treeSize as string), treeRoot: json.treeRoot };
  if (position.position < position.start || (position.treeSize > 0n && position.position > position.treeSize) || (position.treeSize === 0n) !== (position.treeRoot === '')) {
    corrupt(file, 'start <= position <= treeSize does not hold');
  }
  return position;
}

/** Lowercase hex SHA-256 of the first `length` bytes of an open file (which holds at least that many). */
async function sha256Prefix(handle: import('node:fs/promises').FileHandle, length: number): Promise<string> {
  const digest = createHash('sha256');
  const buffer = new Uint8Array(Math.min(Math.max(length, 1), 4 * 1024 * 1024));
  for (let at = 0; at < length; ) {
    const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, length - at), at);
    if (bytesRead === 0) throw new EnvironmentError('SCAN_STATE_CORRUPT', `the module index ended at byte ${at}, before ${length}`);
    digest.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
  return digest.digest('hex');
}
