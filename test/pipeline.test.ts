// runOverlapped (src/rebuild/pipeline.ts): how the shared host overlaps its targets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runOverlapped } from '../src/rebuild/pipeline.js';

/** A controllable task: ready() and finish()/fail() from the test, and what happened, in order. */
function harness() {
  const events: string[] = [];
  const tasks = new Map<number, { ready: () => void; finish: (value: string) => void; fail: (error: Error) => void }>();
  const start = (item: string, index: number, ready: () => void) =>
    new Promise<string>((resolve, reject) => {
      events.push(`start ${item}`);
      tasks.set(index, {
        ready: () => {
          events.push(`ready ${item}`);
          ready();
        },
        finish: (value) => {
          events.push(`end ${item}`);
          resolve(value);
        },
        fail: (error) => {
          events.push(`fail ${item}`);
          reject(error);
        },
      });
    });
  return { events, tasks, start };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('the next item starts when the one before is ready, two at most at once; results in order', async () => {
  const { events, tasks, start } = harness();
  const all = runOverlapped(['a', 'b', 'c', 'd'], 2, start);
  await tick();
  assert.deepEqual(events, ['start a'], 'b waits for a to be ready');
  tasks.get(0)!.ready();
  await tick();
  assert.deepEqual(events, ['start a', 'ready a', 'start b']);
  tasks.get(1)!.ready();
  await tick();
  assert.deepEqual(events.slice(3), ['ready b'], 'c waits: a and b are both under way');
  tasks.get(1)!.finish('B'); // b ends before a: c may start now
  await tick();
  assert.deepEqual(events.slice(4), ['end b', 'start c']);
  tasks.get(2)!.finish('C'); // c ends without ever saying ready: d starts
  await tick();
  assert.deepEqual(events.slice(6), ['end c', 'start d']);
  tasks.get(3)!.finish('D');
  tasks.get(0)!.finish('A');
  assert.deepEqual(await all, ['A', 'B', 'C', 'D']);
});

test('after a failure nothing more starts, and what was started settles before the error is thrown', async () => {
  const { events, tasks, start } = harness();
  const all = runOverlapped(['a', 'b', 'c'], 2, start);
  let rejected: unknown;
  all.catch((error: unknown) => (rejected = error));
  await tick();
  tasks.get(0)!.ready();
  await tick();
  tasks.get(1)!.fail(new Error('b broke'));
  await tick();
  await tick();
  assert.equal(rejected, undefined, 'a is still running: no error yet');
  assert.ok(!events.includes('start c'), 'c never starts');
  tasks.get(0)!.finish('A');
  await assert.rejects(all, /b broke/);
  assert.deepEqual(events, ['start a', 'ready a', 'start b', 'fail b', 'end a']);
});

test('width 1 is one at a time; an empty list is empty', async () => {
  const order: string[] = [];
  const results = await runOverlapped(['x', 'y'], 1, async (item, _i, ready) => {
    order.push(`start ${item}`);
    ready();
    await new Promise((resolve) => setTimeout(resolve, 10));
    order.push(`end ${item}`);
    return item.toUpperCase();
  });
  assert.deepEqual(order, ['start x', 'end x', 'start y', 'end y']);
  assert.deepEqual(results, ['X', 'Y']);
  assert.deepEqual(await runOverlapped([], 2, async () => 1), []);
  await assert.rejects(runOverlapped(['x'], 0, async () => 1), /overlap width 0/);
});
