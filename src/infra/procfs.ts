// The processes of this machine, from /proc (proc(5): /proc/PID/status Name, State, Uid, Threads). One
// reading of them for the build sandbox (sandbox.ts: which uids are in use, which processes of a build
// user are left) and for log recovery (recovery.ts: is a git still running in the log's repository).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';

export interface ProcessInfo {
  readonly pid: number;
  /** The command name (status Name, as /proc/PID/comm: at most 15 bytes). */
  readonly name: string;
  /** The state letter (R, S, D, Z, X, ...). */
  readonly state: string;
  /** Real, effective, saved and file-system uids. */
  readonly uids: readonly number[];
  readonly threads: number;
}

/**
 * Every process in `root` (/proc) now. A process that exits while it is read is left out. Throws
 * PROC_UNREADABLE when the folder cannot be listed: callers decide what no process is left, or which
 * uid is free, and must never conclude it from a listing they could not read.
 */
export function listProcesses(root = '/proc'): ProcessInfo[] {
  let names: string[];
  try {
    names = readdirSync(root).filter((name) => /^[0-9]+$/.test(name));
  } catch (error) {
    throw new EnvironmentError('PROC_UNREADABLE', `cannot list the processes in ${root}: ${(error as Error).message}`, { cause: error });
  }
  const found: ProcessInfo[] = [];
  for (const name of names) {
    let status: string;
    try {
      status = readFileSync(path.join(root, name, 'status'), 'utf8');
    } catch {
      continue; // exited since the listing
    }
    const lines = status.split('\n');
    const field = (key: string) => lines.find((line) => line.startsWith(key))?.slice(key.length).trim();
    found.push({
      pid: Number(name),
      name: field('Name:') ?? '',
      state: (field('State:') ?? '').slice(0, 1),
      uids: (field('Uid:') ?? '').split(/\s+/).filter((n) => /^[0-9]+$/.test(n)).map(Number),
      threads: Number(field('Threads:') ?? '1'),
    });
  }
  return found;
}

/**
 * Whether a process has exited for good: a zombie or dead (State Z or X) with one task left. Its files
 * and memory are released, it holds no lock and can run nothing; it only waits for its parent to
 * collect its status (an orphan's parent is init, which may take seconds). A zombie leader whose other
 * threads still run is alive.
 */
export function hasExited(proc: ProcessInfo): boolean {
  return (proc.state === 'Z' || proc.state === 'X') && proc.threads === 1;
}

/** A process's working directory, or undefined if it exited meanwhile; throws if it cannot be read. */
export function workingDirectoryOf(pid: number, root = '/proc'): string | undefined {
  try {
    return readlinkSync(path.join(root, String(pid), 'cwd'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EnvironmentError('PROC_UNREADABLE', `cannot read the working directory of process ${pid}: ${(error as Error).message}`, { cause: error });
  }
}
