// An exclusive lock against concurrent writers of one log: a file created with O_EXCL holding the
// holder's pid and host. A lock whose holder is gone (killed, machine rebooted) is taken over.
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { open, readFile, rm, stat } from 'node:fs/promises';
import { EnvironmentError } from '../errors.js';

export interface HeldLock {
  readonly path: string;
  /** Set when the previous holder died without releasing the lock: its recorded start time (ms). */
  readonly tookOverFrom?: { pid: number; sinceMs: number };
  release(): Promise<void>;
}

/** Lock files this process holds (a lock naming our own pid that we do not hold is stale: pid reuse). */
const held = new Set<string>();

export function holdLock(path: string): void {
  held.add(path);
}

export function releaseLockHold(path: string): void {
  held.delete(path);
}

/** The boot this machine is in: a lock from an earlier boot is stale whatever its pid (Linux; else ''). */
function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
const BOOT_ID = bootId();

/** What a lock file holds: pid, host, boot id. */
export function lockContent(): string {
  return `${process.pid}\n${hostname()}\n${BOOT_ID}\n`;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockInfo {
  pid: number;
  host: string;
  boot: string;
}

async function readLockInfo(path: string): Promise<LockInfo | undefined> {
  try {
    const [pid, host, boot] = (await readFile(path, 'utf8')).split('\n');
    return { pid: Number(pid), host: host ?? '', boot: boot ?? '' };
  } catch {
    return undefined;
  }
}

async function isStale(path: string, info: LockInfo | undefined): Promise<boolean> {
  if (info === undefined) return false;
  if (Number.isInteger(info.pid) && info.pid > 0) {
    if (info.host !== hostname()) return false;
    // From an earlier boot of this machine (pids restart), or naming us though we do not hold it.
    if (info.boot !== '' && BOOT_ID !== '' && info.boot !== BOOT_ID) return true;
    if (info.pid === process.pid) return !held.has(path);
    return !processAlive(info.pid);
  }
  // Killed between creating the file and writing its pid into it.
  const ageMs = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
  return ageMs > 5_000;
}

/**
 * Removes a stale lock. Only the holder of `<lock>.takeover` (O_EXCL) may remove the lock, and it checks
 * staleness again while holding it: a fresh lock created by a live process can only exist after the
 * stale one is gone, so it can never be the file removed here.
 */
async function takeOverStaleLock(path: string): Promise<{ pid: number; sinceMs: number } | undefined> {
  const takeover = `${path}.takeover`;
  let handle;
  try {
    handle = await open(takeover, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Someone else is taking over; a takeover file older than 10 s was left by a dead process.
    const age = await stat(takeover).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > 10_000) await rm(takeover, { force: true });
    await new Promise((resolve) => setTimeout(resolve, 10));
    return undefined;
  }
  try {
    await handle.close();
    const info = await readLockInfo(path);
    if (!(await isStale(path, info))) return undefined;
    const sinceMs = await stat(path).then((s) => s.mtimeMs, () => Date.now());
    await rm(path, { force: true });
    return { pid: info!.pid, sinceMs };
  } finally {
    await rm(takeover, { force: true });
  }
}

/**
 * Takes the lock at `path`, waiting up to `waitMs` for a live holder to release it. A lock left by a
 * process of this host that no longer exists is stale and taken over.
 */
export async function acquireLock(path: string, waitMs = 30_000): Promise<HeldLock> {
  const deadline = Date.now() + waitMs;
  let tookOverFrom: { pid: number; sinceMs: number } | undefined;
  for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
    try {
      const handle = await open(path, 'wx', 0o644);
      // No fsync: after a crash the lock only needs to be recognisable as stale, and an empty one is.
      holdLock(path);
      try {
        await handle.writeFile(lockContent());
      } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(path, { force: true });
        releaseLockHold(path);
        throw new EnvironmentError('LOCK_FAILED', `cannot write lock ${path}: ${(error as Error).message}`, { cause: error });
      }
      await handle.close();
      return {
        path,
        ...(tookOverFrom ? { tookOverFrom } : {}),
        release: async () => {
          // Remove the file before dropping the hold: while our pid is in the file and the hold is gone, a
          // contender in this process would judge the lock stale (pid reuse) and take it over, and our late
          // rm could then delete the next holder's fresh lock (two holders at once).
          await rm(path, { force: true });
          releaseLockHold(path);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new EnvironmentError('LOCK_FAILED', `cannot create lock ${path}: ${(error as Error).message}`, { cause: error });
      }
    }
    const info = await readLockInfo(path);
    if (await isStale(path, info)) {
      const takenOver = await takeOverStaleLock(path);
      if (takenOver) tookOverFrom = takenOver;
      continue;
    }
    if (Date.now() >= deadline) {
      throw new EnvironmentError(
        'LOG_LOCKED',
        `the log is locked by process ${info?.pid ?? '?'} on ${info?.host ?? '?'} (${path}); wait for it to finish, or remove the lock file if that process is gone`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}
