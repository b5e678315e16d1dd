// The crash-test harness shared by the kill -9 tests (test/cosign-crash.test.ts,
// test/sumdb-scan-crash.test.ts): run the witness CLI in a process group of its own, SIGKILL the whole
// group (the witness and its git children) after a given time, then check the log it left.
import { spawn } from 'node:child_process';
import type { LogRecord } from '../../src/log/record.js';
import { parseRecord } from '../../src/log/record.js';
import { type VerifyReport, verifyLogFolder } from '../../src/log/verify.js';
import { WitnessLog } from '../../src/log/log.js';
import { ROOT, WITNESS_BIN } from './fixtures.js';

export interface KilledRun {
  /** SIGKILL ended it (the timer fired, or a crash point killed it). */
  readonly killed: boolean;
  /** It exited on its own (with `code`). */
  readonly finished: boolean;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `witness ...args` and kills its process group after `killAfterMs` unless it finished first. */
export function runWitnessAndMaybeKill(args: readonly string[], killAfterMs: number, env: NodeJS.ProcessEnv = process.env): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WITNESS_BIN, ...args], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', finished: signal === null && code !== null, code, stdout, stderr });
    });
  });
}

/** Verifies the log a killed run left; the failure names the trial. */
export function verifyAfterKill(dir: string, verifierKey: string, trial: string): Promise<VerifyReport> {
  return verifyLogFolder(dir, { verifierKey }).catch((error: unknown) => {
    throw new Error(`${trial}: the witness log does not verify: ${String(error)}`);
  });
}

/** The records of the log's first `size` entries, with their indexes. */
export async function logRecords(dir: string, size: bigint): Promise<Array<{ index: bigint; record: LogRecord }>> {
  const entries = await (await WitnessLog.open(dir)).readEntries(0n, size);
  return entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
}
