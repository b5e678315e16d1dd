// Crash safety (README.md "Development"): kill -9 at random moments of an append, many times; after each,
// the log verifies, no acknowledged record is lost and the log never shrinks.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, test } from 'node:test';
import { CRASH_POINTS } from '../src/log/crash-points.js';
import { WitnessLog } from '../src/log/log.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { ROOT, git, tempDir, testRecords, testSignerKey } from './helpers/fixtures.js';

const ROUNDS = Number(process.env.WITNESS_CRASH_ROUNDS ?? 24);
const CHILD = path.join(ROOT, 'test', 'helpers', 'append-child.ts');

interface ChildRun {
  acknowledged: bigint;
  finished: boolean;
}

function runAndKill(dir: string, skey: string, seed: number, killAfterMs: number, wholeGroup: boolean): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(seed), '12'], {
      cwd: ROOT,
      env: { ...process.env, WITNESS_SIGNING_KEY: skey },
      detached: wholeGroup, // its own process group, so git children die with it
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { acknowledged: -1n, finished: false };
    let stderr = '';
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith('ok ')) run.acknowledged = BigInt(line.slice(3));
        if (line === 'done') run.finished = true;
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      try {
        if (wholeGroup) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        /* already exited */
      }
    }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0 && signal !== 'SIGKILL') reject(new Error(`append child failed (${code}): ${stderr}`));
      else resolve(run);
    });
  });
}

test(`kill -9 during appends, ${ROUNDS} times: the log always verifies and never loses or rolls back`, { timeout: 600_000 }, async () => {
  const { signerKey, skey, vkey } = testSignerKey('example.com/crash-log', 11);
  const dir = path.join(tempDir(), 'log');
  await WitnessLog.init(dir, signerKey);
  let verifiedSize = 0n;
  let kills = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Start-up of a tsx child takes a few hundred ms; kill anywhere from start-up to mid-way through its appends.
    const killAfterMs = 300 + Math.floor(Math.random() * 1500);
    const run = await runAndKill(dir, skey, round + 1, killAfterMs, round % 2 === 1);
    if (!run.finished) kills++;
    const report = await verifyLogFolder(dir, { verifierKey: vkey }).catch((error: unknown) => {
      throw new Error(`round ${round}: the log does not verify after kill at ${killAfterMs} ms: ${String(error)}`);
    });
    assert.ok(report.size >= verifiedSize, `round ${round}: size went back from ${verifiedSize} to ${report.size}`);
    assert.ok(report.size >= run.acknowledged, `round ${round}: acknowledged size ${run.acknowledged} lost (log has ${report.size})`);
    verifiedSize = report.size;
  }
  assert.ok(kills >= ROUNDS / 2, `only ${kills} of ${ROUNDS} rounds were killed mid-way; the test did not exercise crashes`);
  // After all that, an append still works, commits everything and leaves a clean tree.
  const log = await WitnessLog.open(dir);
  const result = await log.append(testRecords(3, 999_999), signerKey);
  assert.ok(result.newSize >= verifiedSize + 3n);
  const report = await verifyLogFolder(dir, { verifierKey: vkey });
  assert.deepEqual(report.warnings, []);
  assert.equal(git(dir, 'status', '--porcelain', '--ignored'), '');
  git(dir, 'fsck', '--no-progress');
});

describe('a crash at each step of an append', () => {
  for (const point of CRASH_POINTS) {
    test(`killed ${point}: the log verifies, a user commit cannot roll it back, the next append completes it`, async () => {
      const { signerKey, skey, vkey } = testSignerKey('example.com/crash-points', 12);
      const repo = tempDir();
      git(repo, 'init', '-q');
      const dir = path.join(repo, 'wl');
      const { log } = await WitnessLog.init(dir, signerKey);
      await log.append(testRecords(3), signerKey);
      const child = spawnSync(process.execPath, ['--import', 'tsx', CHILD, dir, '7', '1', 'tags'], {
        cwd: ROOT,
        env: { ...process.env, WITNESS_SIGNING_KEY: skey, GO_SOURCE_WITNESS_CRASH_POINT: point },
        encoding: 'utf8',
      });
      assert.equal(child.signal, 'SIGKILL', `the child did not reach ${point}: ${child.stderr}`);
      const afterCrash = await verifyLogFolder(dir, { verifierKey: vkey });
      const onDisk = afterCrash.size;
      assert.equal(onDisk > 3n, point !== 'after-tiles', `size on disk after a crash ${point}: ${onDisk}`);
      // A user who commits everything staged right now must never record a rollback.
      git(repo, 'commit', '-q', '--allow-empty', '-m', 'user commit');
      const afterUserCommit = await verifyLogFolder(dir, { verifierKey: vkey });
      assert.ok(afterUserCommit.size >= onDisk);
      // The next append recovers (rolls forward or discards) and completes.
      const result = await log.append(testRecords(2, 100), signerKey);
      assert.equal(result.newSize, onDisk + 2n);
      const final = await verifyLogFolder(dir, { verifierKey: vkey });
      assert.equal(final.size, onDisk + 2n);
      assert.equal(git(repo, 'status', '--porcelain', '--ignored'), '');
    });
  }
});
