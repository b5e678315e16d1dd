// The machine's processes from /proc (src/infra/procfs.ts): what the sandbox's reaping and the log's
// recovery conclude from, so a listing that cannot be read must never read as "no process".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { WitnessError } from '../src/errors.js';
import { hasExited, listProcesses, workingDirectoryOf } from '../src/infra/procfs.js';
import { tempDir } from './helpers/fixtures.js';

function fakeProcess(root: string, pid: number, status: Record<string, string>): void {
  mkdirSync(path.join(root, String(pid)));
  writeFileSync(path.join(root, String(pid), 'status'), Object.entries(status).map(([key, value]) => `${key}:\t${value}`).join('\n') + '\n');
}

test('a /proc that cannot be listed is an error (PROC_UNREADABLE, exit 2), never an empty machine', () => {
  const missing = path.join(tempDir('witness-proc-'), 'none');
  assert.throws(() => listProcesses(missing), (error: unknown) => error instanceof WitnessError && error.code === 'PROC_UNREADABLE' && exitCodeOf(error) === 2);
});

test('processes are read from their status; a zombie with one task has exited, a zombie leader with live threads has not', () => {
  const root = tempDir('witness-proc-');
  fakeProcess(root, 10, { Name: 'git', State: 'S (sleeping)', Uid: '1000\t1000\t1000\t1000', Threads: '1' });
  fakeProcess(root, 11, { Name: 'sh', State: 'Z (zombie)', Uid: '70001\t70001\t70001\t70001', Threads: '1' });
  fakeProcess(root, 12, { Name: 'go', State: 'Z (zombie)', Uid: '70001\t70001\t70001\t70001', Threads: '3' });
  fakeProcess(root, 13, { Name: 'x', State: 'X (dead)', Uid: '0\t0\t0\t0', Threads: '1' });
  mkdirSync(path.join(root, '14')); // exited between the listing and the read: left out
  mkdirSync(path.join(root, 'self'));
  const processes = listProcesses(root).sort((a, b) => a.pid - b.pid);
  assert.deepEqual(
    processes.map((p) => [p.pid, p.name, p.state, p.uids, p.threads, hasExited(p)]),
    [
      [10, 'git', 'S', [1000, 1000, 1000, 1000], 1, false],
      [11, 'sh', 'Z', [70001, 70001, 70001, 70001], 1, true],
      [12, 'go', 'Z', [70001, 70001, 70001, 70001], 3, false],
      [13, 'x', 'X', [0, 0, 0, 0], 1, true],
    ],
  );
});

test('on this machine: a live child is listed with its uid and working directory, and is gone after it exits', async () => {
  const cwd = tempDir('witness-proc-cwd-');
  const child = spawn('sleep', ['30'], { cwd, stdio: 'ignore' });
  try {
    await new Promise((resolve) => child.once('spawn', resolve));
    const found = listProcesses().find((p) => p.pid === child.pid);
    assert.ok(found, 'the child is listed');
    assert.equal(found.name, 'sleep');
    assert.ok(found.uids.includes(process.getuid!()));
    assert.equal(hasExited(found), false);
    assert.equal(workingDirectoryOf(child.pid!), cwd);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
  assert.equal(listProcesses().find((p) => p.pid === child.pid), undefined, 'collected: no longer listed');
  assert.equal(workingDirectoryOf(child.pid!), undefined);
});
