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
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../infra/files.js';
import { type HeldLock, acquireLock } from '../infra/lock.js';
import { formatTime } from '../infra/time.js';
import { ModuleVersionIndex } from './module-index.js';

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
export const SCAN_CRASH_POINTS = ['scan-after-append', 'scan-after-index'] as const;

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
    const handle = await open(path.join(this.dir, INDEX_FILE), 'w', 0o600);
    await handle.sync();
    await handle.close();
    const position = { start, position: start, treeSize: 0n, treeRoot: '' };
    await this.write(position);
    this.current = position;
    return position;
  }

  /** The module-version index of records [start, position), cut back to that if it holds more. */
  async loadIndex(): Promise<ModuleVersionIndex> {
    const current = this.requireCurrent();
    const file = path.join(this.dir, INDEX_FILE);
    const want = Number(current.position - current.start) * 8;
    const handle = await open(file, 'r+').catch(() => corrupt(file, 'missing'));
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
    const handle = await open(file, 'r+');
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
