// Overlapping the targets of one shared host (build.ts): what a target runs after compiling (the five
// staleness checks, cmd/distpack's compression, then the witness's hashing and source check) uses about
// one core, while the next target's `go_bootstrap install std cmd` compiles on all of them. So the next
// target starts when the one before it has compiled (it calls `ready`), and at most `width` targets are
// under way at once. Each target
// still has its own tree and its own fresh uid (sandbox.ts); nothing is shared but the read-only host
// state they copy at their start.

/**
 * Runs `start(item, i, ready)` for each item in order: item i+1 starts once item i has called `ready`
 * or settled, and once fewer than `width` items are unsettled. Results come back in the items' order.
 * After a rejection nothing more starts; every started item settles before the first error is thrown
 * (no build left running unobserved).
 */
export async function runOverlapped<T, R>(items: readonly T[], width: number, start: (item: T, index: number, ready: () => void) => Promise<R>): Promise<R[]> {
  if (!Number.isSafeInteger(width) || width < 1) throw new Error(`internal: overlap width ${width}`);
  const started: Array<Promise<R>> = [];
  const unsettled = new Set<Promise<R>>();
  let failed = false;
  for (const [index, item] of items.entries()) {
    while (unsettled.size >= width) await Promise.race([...unsettled].map((p) => p.then(() => undefined, () => undefined)));
    if (failed) break;
    let ready!: () => void;
    const readied = new Promise<void>((resolve) => (ready = resolve));
    const run = Promise.resolve().then(() => start(item, index, ready));
    started.push(run);
    unsettled.add(run);
    run.then(
      () => unsettled.delete(run),
      () => {
        failed = true;
        unsettled.delete(run);
      },
    );
    await Promise.race([readied, run.then(() => undefined, () => undefined)]);
    if (failed) break;
  }
  const settled = await Promise.allSettled(started);
  const rejected = settled.find((outcome) => outcome.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<R>).value);
}
