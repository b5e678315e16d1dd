// The witness lock (src/log/lock.ts): a stale lock is taken over by one contender at a time; a lock of
// our own pid, or from an earlier boot, is stale. Regression tests from code review: each reproduces the
// original failure.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { acquireLock } from '../src/infra/lock.js';
import { tempDir } from './helpers/fixtures.js';

describe('lock takeover', () => {
  test('many contenders for a stale lock never hold it at the same time', async () => {
    const file = path.join(tempDir(), 'race.lock');
    for (let round = 0; round < 40; round++) {
      // A lock left by a process that no longer exists (pid 2^22+: above Linux's default pid_max).
      writeFileSync(file, `${4_194_304 + round}\n${hostname()}\n`);
      let holders = 0;
      let overlap = false;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const lock = await acquireLock(file, 10_000);
          holders++;
          if (holders > 1) overlap = true;
          await new Promise((resolve) => setTimeout(resolve, 2));
          holders--;
          await lock.release();
        }),
      );
      assert.equal(overlap, false, `round ${round}: two holders at once`);
      assert.equal(existsSync(file), false);
    }
  });
});

describe('stale locks after a restart', () => {
  test('a lock naming our own pid that we do not hold, or from an earlier boot, is stale', async () => {
    const file = path.join(tempDir(), 'own.lock');
    writeFileSync(file, `${process.pid}\n${hostname()}\n`);
    const lock = await acquireLock(file, 2_000);
    await lock.release();
    writeFileSync(file, `1\n${hostname()}\nan-earlier-boot\n`); // pid 1 is alive, but that boot is over
    const again = await acquireLock(file, 2_000);
    await again.release();
  });
});
