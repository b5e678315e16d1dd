// `witness plan --per-job N`: each release's targets grouped into jobs (one `witness build` with several
// --target), --limit counting jobs (a GitHub Actions matrix holds 256), `more` counting the pairs left out.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PlannedBuild, planJobs } from '../src/rebuild/plan.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';

const pairs = (version: string, n: number): PlannedBuild[] =>
  Array.from({ length: n }, (_, i) => ({ version, target: `os${i}/arch`, goos: `os${i}`, goarch: 'arch' }));

test('targets of one release split into the fewest, most even jobs, in plan order; releases never mix', () => {
  const { jobs, more } = planJobs([...pairs('go1.21.0', 41), ...pairs('go1.21.1', 3), ...pairs('go1.22.0', 8)], 8);
  assert.deepEqual(jobs.map((job) => [job.version, job.count, job.part, job.parts]), [
    ['go1.21.0', 7, 1, 6], ['go1.21.0', 7, 2, 6], ['go1.21.0', 7, 3, 6], ['go1.21.0', 7, 4, 6], ['go1.21.0', 7, 5, 6], ['go1.21.0', 6, 6, 6],
    ['go1.21.1', 3, 1, 1],
    ['go1.22.0', 8, 1, 1],
  ]);
  assert.equal(more, 0);
  assert.equal(jobs[0]!.targets, 'os0/arch os1/arch os2/arch os3/arch os4/arch os5/arch os6/arch');
  assert.deepEqual(jobs.filter((job) => job.version === 'go1.21.0').flatMap((job) => job.targets.split(' ')), pairs('go1.21.0', 41).map((p) => p.target));
});

test('--limit counts jobs, oldest release first; more counts the pairs of the jobs left out', () => {
  const builds = [...pairs('go1.21.0', 10), ...pairs('go1.21.1', 10)];
  const { jobs, more } = planJobs(builds, 4, 4);
  assert.deepEqual(jobs.map((job) => `${job.version} ${job.part}/${job.parts} ${job.count}`), ['go1.21.0 1/3 4', 'go1.21.0 2/3 3', 'go1.21.0 3/3 3', 'go1.21.1 1/3 4']);
  assert.equal(more, 6);
  assert.deepEqual(planJobs(builds, 4, 0), { jobs: [], more: 20 });
  assert.deepEqual(planJobs([], 4, 256), { jobs: [], more: 0 });
});

test('a per-job size or limit that is not a usable integer is a usage error', () => {
  for (const [perJob, limit] of [[0, undefined], [-1, undefined], [1.5, undefined], [8, -1], [8, 2.5]] as const) {
    assert.throws(() => planJobs(pairs('go1.21.0', 3), perJob, limit), (error: unknown) => error instanceof WitnessError && exitCodeOf(error) === 2);
  }
});
