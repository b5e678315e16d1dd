// Benchmark (opt-in; over an hour on 2 cores: 2 bare make.bash, N full builds, 1 shared-host build of
// N targets, 2 one-target builds): the shared host (src/rebuild/shared-host.ts) against full builds of
// the same release and targets, in the same run, and every distpack file compared byte for byte
// (SHA-256). (a) and (d) run as two pairs, one before (b) (bare first) and one after (c) ((d) first), so
// that each pair's builds are minutes apart; the first-target goal is their median.
//
//   (a) bare:   make.bash -distpack of the first target, as scripts/bench/build.ts runs it (no witness)
//   (b) full:   node bin/witness.js build RELEASE --full --target T, once per target (wall time each)
//   (c) shared: node bin/witness.js build RELEASE --target T1 ... --target TN, once; its progress lines
//               time the host phases (start to "host state ... after") and each target (the wall time it
//               adds: from the result line before it, or the host state line, to its own "T: result:")
//   (d) first:  node bin/witness.js build RELEASE --target T1 alone (shared host, one target: what the
//               first target of a release costs, with no second target overlapping its distpack)
//
// Prints: each target after the first as a ratio of its full build (goal <= 0.45x); the whole set
// against the sum of the full builds (goal <= 0.5x for a release's ~40 ports; with N targets the
// measured set and the same costs extrapolated to 40 are both printed); (d) over the bare make.bash
// (goal within 5%); each target phase's steps with the machine's CPU use during each (/proc/stat; 2.00
// = both cores of this machine busy); and whether every file is identical.
//
// Run: WITNESS_GO_REPO=/path/to/go npm run bench -- shared-host
// Optional: WITNESS_BENCH_RELEASE (default go1.21.0), WITNESS_BENCH_TARGETS (comma-separated; default
// darwin/arm64,windows/amd64,linux/arm,linux/386), WITNESS_BOOTSTRAP (default /usr/lib/go-1.19),
// WITNESS_BENCH_WORK (parent folder of the build folders; default the system temp folder),
// WITNESS_BENCH_NO_BARE=1 (skip (a)), WITNESS_BENCH_FIRST_ONLY=N (only the first-target goal: N
// pairs of (a) and (d), in alternating order, each pair's overhead and their median, the bare builds'
// spread, and (d)'s own work beside Go's build; one pair of builds varies by more than 5%). `uptime`'s
// load is printed before and after each build.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bareBuild, benchUser, firstLineAt, git, milestoneBreakdown, runWitnessTimed, sameFiles, signedPercent } from './build.js';
import { median } from './stats.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXTRA_GOAL = 0.45;
const SET_GOAL = 0.5;
const FIRST_GOAL_PERCENT = 5;
const PORTS = 40;

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const load = () => loadavg().map((n) => n.toFixed(2)).join(' ');

interface Run {
  readonly ms: number;
  readonly lines: Array<[number, string]>;
  readonly out: string;
  /** [ms since start, busy ticks, total ticks] of /proc/stat, about each second. */
  readonly cpu: Array<[number, number, number]>;
}

/** The machine's busy and total CPU time (/proc/stat's first line, in clock ticks). */
function cpuTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    return { busy: total - fields[3]! - fields[4]!, total }; // idle and iowait are not busy
  } catch {
    return undefined;
  }
}

/** `witness build` with progress on stderr (no --json), each stderr line with its time since start; the CPU sampled each second. */
async function witnessBuild(args: readonly string[], out: string): Promise<Run> {
  const t0 = performance.now();
  const samples: Run['cpu'] = [];
  const sample = () => {
    const ticks = cpuTicks();
    if (ticks) samples.push([performance.now() - t0, ticks.busy, ticks.total]);
  };
  sample();
  const timer = setInterval(sample, 1000);
  try {
    const { code, ms, lines } = await runWitnessTimed([path.join(ROOT, 'bin', 'witness.js'), 'build', ...args, '--out', out]);
    if (code !== 0) throw new Error(`witness build ${args.join(' ')} exited ${code}:\n${lines.map(([, line]) => line).slice(-20).join('\n')}`);
    sample();
    return { ms, lines, out, cpu: samples };
  } finally {
    clearInterval(timer);
  }
}

/** The time of the first progress line of a run that matches, at or after `from` ms. */
function lineAt(run: Run, pattern: RegExp, from = 0): number {
  const hit = firstLineAt(run.lines, pattern, from);
  if (hit === undefined) throw new Error(`no progress line ${pattern} in the build`);
  return hit;
}

/** The line a shared-host build prints when its host phases are done. */
const HOST_STATE_LINE = /^ {2}host state sha256:/;

/** Cores busy on average between two times of a run (from its samples nearest to them). */
function coresBusy(run: Run, from: number, to: number): number {
  const nearest = (ms: number) => run.cpu.reduce((best, s) => (Math.abs(s[0] - ms) < Math.abs(best[0] - ms) ? s : best), run.cpu[0]!);
  const [, busyA, totalA] = nearest(from);
  const [, busyB, totalB] = nearest(to);
  return totalB > totalA ? ((busyB - busyA) / (totalB - totalA)) * cpus().length : 0;
}

/**
 * One target's phase, step by step: each step's wall time (from the line before it: the phase's start
 * line or the step before) and the cores busy meanwhile (the whole machine's: in (c) another target may
 * be under way).
 */
function targetSteps(run: Run, target: string): string {
  const prefix = `  ${target}: `;
  const start = run.lines.find(([, line]) => line.startsWith(`${prefix}Building packages and commands for target`));
  if (!start) return '(no target phase line)';
  let previous = start[0];
  const parts: string[] = [];
  for (const [ms, line] of run.lines) {
    if (ms <= start[0] || !line.startsWith(prefix)) continue;
    const step = /^(.+): \d[\d.]* (?:ms|s)$|^(.+): \d+ min \d+ s$/.exec(line.slice(prefix.length));
    if (!step) continue;
    parts.push(`${(step[1] ?? step[2])!.replace(/^go_bootstrap |^checkNotStale /, '')} ${s(ms - previous)} (${coresBusy(run, previous, ms).toFixed(2)})`);
    previous = ms;
  }
  return parts.join(', ');
}

/** The distpack folder of the result for `target` in `out` (one build per target per folder). */
function distpackOf(out: string, version: string, target: string): string {
  const platform = target.replace('/', '-');
  const result = readdirSync(out).find((name) => name.startsWith(`${version}.${platform}.`) && name.endsWith('.build.json'));
  if (!result) throw new Error(`no result for ${target} in ${out}`);
  const parsed = JSON.parse(readFileSync(path.join(out, result), 'utf8')) as { log: { sha256: string }; method?: string; outcome: string };
  if (parsed.outcome !== 'built') throw new Error(`${target}: ${parsed.outcome}`);
  return path.join(out, `${version}.${platform}.${parsed.log.sha256.slice(0, 16)}.distpack`);
}

interface Sources {
  readonly repository: string;
  readonly tree: string;
  readonly bootstrap: string;
  readonly parent: string;
  readonly version: string;
  /** The options every `witness build` of the bench takes (repository, bootstrap, log, work folder). */
  readonly common: readonly string[];
}

/** (a): a bare make.bash -distpack of `target`, its tree removed after; its wall time in ms. */
async function bareOnce(o: Sources, user: ReturnType<typeof benchUser>, target: string, label: string): Promise<{ ms: number; makeMs: number; phases?: { hostMs: number; targetMs: number } }> {
  console.log(`  ${label} bare make.bash -distpack ${target} (load ${load()})`);
  const run = await bareBuild(o.repository, o.tree, o.bootstrap, o.parent, user, o.version, target);
  rmSync(run.work, { recursive: true, force: true });
  console.log(`      ${s(run.total)} (load after ${load()})`);
  const phases = run.phases ? ` (host phases ${s(run.phases.hostMs)}, target phase ${s(run.phases.targetMs)})` : '';
  console.log(`      ${run.parts.map(([what, ms]) => `${what} ${s(ms)}`).join(', ')}${phases}`);
  return { ms: run.total, makeMs: run.makeMs, ...(run.phases ? { phases: run.phases } : {}) };
}

/**
 * (d): `witness build --target target` alone (the shared host with one target), into a new folder `out`;
 * `note` adds to the line of its wall time.
 */
async function firstAlone(o: Sources, target: string, label: string, out: string, note: (ms: number) => string = () => ''): Promise<Run & { buildingMs: number; hostMs: number; targetMs: number }> {
  console.log(`  ${label} witness build --target ${target} (load ${load()})`);
  const run = await witnessBuild([o.version, '--target', target, ...o.common], out);
  console.log(`      ${s(run.ms)} (load after ${load()})${note(run.ms)}`);
  const parts = milestoneBreakdown(run.lines, run.ms, firstMilestones(target));
  const building = parts.filter(([what]) => BUILDING.has(what)).reduce((sum, [, ms]) => sum + ms, 0);
  console.log(`      building ${s(building)}, the witness's own work ${s(run.ms - building)}: ${parts.map(([what, ms]) => `${what} ${s(ms)}`).join(', ')}`);
  const part = (what: string) => parts.find(([name]) => name === what)?.[1] ?? Number.NaN;
  return { ...run, buildingMs: building, hostMs: part(HOST_PART), targetMs: part(TARGET_PART) };
}

/** The parts of (d) that are Go's build (the host phases' make.bash, the target phase's commands); the rest is the witness's own. */
const HOST_PART = 'host phases (make.bash up to its target phase)';
const TARGET_PART = 'target phase (its sandboxed commands)';
const BUILDING = new Set([HOST_PART, TARGET_PART]);

/** The progress lines that end each part of a one-target shared-host build (milestoneBreakdown). */
function firstMilestones(target: string): ReadonlyArray<readonly [RegExp, string]> {
  const t = target.replace('/', '\\/');
  return [
    [/: tag matches the witness log/, 'start-up, log verification, tag check'],
    [/^bootstrap: /, 'bootstrap hash'],
    [/ host phases once for .*: exporting /, 'work folder'],
    [/^ {2}host phases: make\.bash/, 'export, chown'],
    [/^ {2}\[.*\] Building packages and commands for target, linux\/wasm\./, HOST_PART],
    [HOST_STATE_LINE, 'refusal of linux/wasm, take back, state hash'],
    [new RegExp(`^ {2}${t}: Building packages and commands for target`), 'take the state, chown'],
    [new RegExp(`^ {2}${t}: hashing `), TARGET_PART],
    [new RegExp(`^ {2}${t}: built: `), 'hashing beside the source check'],
    [new RegExp(`^ {2}${t}: result: `), 'result, the work tree removed'],
  ];
}

export async function benchSharedHost(): Promise<void> {
  const repository = process.env.WITNESS_GO_REPO;
  if (!repository || !process.argv.slice(2).includes('shared-host')) {
    console.log('shared-host: skipped: runs only when selected by name with WITNESS_GO_REPO set (`WITNESS_GO_REPO=go npm run bench -- shared-host`): 1 + 2N Go builds, hours on 2 cores');
    return;
  }
  const version = process.env.WITNESS_BENCH_RELEASE ?? 'go1.21.0';
  const targets = (process.env.WITNESS_BENCH_TARGETS ?? 'darwin/arm64,windows/amd64,linux/arm,linux/386').split(',').filter(Boolean);
  const bootstrap = process.env.WITNESS_BOOTSTRAP ?? '/usr/lib/go-1.19';
  const parent = process.env.WITNESS_BENCH_WORK ?? tmpdir();
  if (!existsSync(path.join(bootstrap, 'bin', 'go'))) throw new Error(`no bootstrap toolchain at ${bootstrap} (set WITNESS_BOOTSTRAP)`);
  const tree = git(repository, ['rev-parse', '--verify', `refs/tags/${version}^{tree}`]);
  const common = ['--go-repo', repository, '--bootstrap', bootstrap, '--log', path.join(ROOT, 'witness-log'), '--work', parent];
  const busy = spawnSync('pgrep', ['-f', 'make.bash'], { encoding: 'utf8' });
  if (busy.status === 0) console.log(`  WARNING: make.bash is already running (pid ${busy.stdout.trim().split('\n').join(', ')}): the numbers will be meaningless`);
  console.log(`shared-host: ${version} for ${targets.join(', ')} from ${repository}, bootstrap ${bootstrap}, in ${parent}`);
  const outs: string[] = [];
  const sources: Sources = { repository, tree, bootstrap, parent, version, common };
  const firstOnly = Number(process.env.WITNESS_BENCH_FIRST_ONLY ?? 0);
  if (firstOnly > 0) {
    await firstTargetPairs(sources, targets[0]!, firstOnly);
    return;
  }
  try {
    // The first-target goal from two pairs of (a) and (d), one before the other builds (bare first) and
    // one after them ((d) first): each pair's two builds are minutes apart, never an hour.
    const withBare = !process.env.WITNESS_BENCH_NO_BARE;
    const user = benchUser();
    const firstOut = mkdtempSync(path.join(parent, 'witness-bench-first-'));
    outs.push(firstOut);
    const pairs: Pair[] = [];
    // (d) alone when there is no bare build to pair it with.
    const alone = withBare ? undefined : await firstAlone(sources, targets[0]!, '(d)', firstOut);
    if (withBare) pairs.push(await firstTargetPair(sources, user, targets[0]!, 1, firstOut));
    const full = new Map<string, { ms: number; distpack: string }>();
    for (const target of targets) {
      const out = mkdtempSync(path.join(parent, 'witness-bench-full-'));
      outs.push(out);
      console.log(`  (b) witness build --full ${target} (load ${load()})`);
      const run = await witnessBuild([version, '--full', '--target', target, ...common], out);
      full.set(target, { ms: run.ms, distpack: distpackOf(out, version, target) });
      console.log(`      ${s(run.ms)} (load after ${load()})`);
    }
    const out = mkdtempSync(path.join(parent, 'witness-bench-shared-'));
    outs.push(out);
    console.log(`  (c) witness build ${targets.map((t) => `--target ${t}`).join(' ')} (load ${load()})`);
    const shared = await witnessBuild([version, ...targets.flatMap((t) => ['--target', t]), ...common], out);
    console.log(`      ${s(shared.ms)} (load after ${load()})`);
    if (withBare) {
      const out2 = mkdtempSync(path.join(parent, 'witness-bench-first-'));
      outs.push(out2);
      pairs.push(await firstTargetPair(sources, user, targets[0]!, 2, out2));
    }
    const host = lineAt(shared, HOST_STATE_LINE);
    // Targets overlap (src/rebuild/pipeline.ts: the next starts when one reaches distpack), so what a
    // target costs is the wall time it adds: from the result before it (the host state, for the first)
    // to its own result.
    const perTarget = new Map<string, number>();
    let previous = host;
    for (const target of targets) {
      const done = lineAt(shared, new RegExp(`^ {2}${target.replace('/', '\\/')}: result: `));
      perTarget.set(target, done - previous);
      previous = done;
    }
    console.log(`  host phases once: ${s(host)}`);
    let allSame = true;
    for (const [i, target] of targets.entries()) {
      const f = full.get(target)!;
      const t = perTarget.get(target)!;
      const same = await sameFiles(f.distpack, distpackOf(out, version, target));
      if (!same.startsWith('identical')) allSame = false;
      const ratio = t / f.ms;
      const goal = i === 0 ? '' : ` (goal <= ${EXTRA_GOAL}x) ${ratio <= EXTRA_GOAL ? 'MET' : 'NOT MET'}`;
      console.log(`  ${target}: full ${s(f.ms)}, shared-host time added ${s(t)} = ${ratio.toFixed(2)}x${goal}; distpack files: ${same}`);
      console.log(`    steps in (c) (cores busy): ${targetSteps(shared, target)}`);
    }
    for (const [i, run] of (alone ? [alone] : pairs.map((pair) => pair.first)).entries()) {
      const firstSame = await sameFiles(full.get(targets[0]!)!.distpack, distpackOf(run.out, version, targets[0]!));
      if (!firstSame.startsWith('identical')) allSame = false;
      const label = alone ? '(d)' : `(d) of pair ${i + 1}`;
      console.log(`  ${label}, ${targets[0]} alone: ${s(run.ms)} (host phases ${s(lineAt(run, HOST_STATE_LINE))}); distpack files: ${firstSame}`);
      console.log(`    steps in ${label} (cores busy): ${targetSteps(run, targets[0]!)}`);
    }
    const sumFull = [...full.values()].reduce((a, b) => a + b.ms, 0);
    const setRatio = shared.ms / sumFull;
    console.log(`  whole set: shared-host ${s(shared.ms)} vs sum of full builds ${s(sumFull)} = ${setRatio.toFixed(2)}x (goal <= ${SET_GOAL}x for a release's ports) ${setRatio <= SET_GOAL ? 'MET' : 'NOT MET'}`);
    const meanFull = sumFull / targets.length;
    const meanTarget = [...perTarget.values()].reduce((a, b) => a + b, 0) / targets.length;
    const extrapolated = (host + PORTS * meanTarget) / (PORTS * meanFull);
    console.log(`  extrapolated to ${PORTS} ports (these mean costs): ${extrapolated.toFixed(2)}x ${extrapolated <= SET_GOAL ? 'MET' : 'NOT MET'}`);
    if (withBare) {
      firstPairsReport(pairs);
      const bare = median(pairs.map((pair) => pair.bareMs));
      console.log(`  (for reference: the full build of ${targets[0]} ${signedPercent(((full.get(targets[0]!)!.ms - bare) / bare) * 100)} over the median bare build)`);
    }
    console.log(`  every distpack file identical: ${allSame ? 'yes' : 'NO: a bug in the shared host'}`);
  } finally {
    for (const out of outs) rmSync(out, { recursive: true, force: true });
  }
}

/** One pair of (a) and (d), and what firstPairsReport needs of it. */
interface Pair {
  /** (d)'s run. */
  readonly first: Run;
  readonly overhead: number;
  readonly bareMs: number;
  /** (d)'s wall time outside Go's build. */
  readonly ownMs: number;
  /** Go's build inside (d) against the bare make.bash, percent. */
  readonly building: number;
  /** The same for its host phases and its target phase apart (cmd/dist's "Building packages and commands for target" line splits the bare one), percent. */
  readonly hostPhases?: number;
  readonly targetPhase?: number;
}

/**
 * Pair `i` of a bare make.bash -distpack of `target` and `witness build --target target` alone (d), into
 * `out`: bare first in odd pairs, (d) first in even ones (a drift of the machine's speed over a run then
 * counts against each side alike).
 */
async function firstTargetPair(o: Sources, user: ReturnType<typeof benchUser>, target: string, i: number, out: string): Promise<Pair> {
  const bareFirst = i % 2 === 1;
  const before = bareFirst ? await bareOnce(o, user, target, `pair ${i}: (a)`) : undefined;
  const first = await firstAlone(o, target, `pair ${i}: (d)`, out, (ms) => (before ? `: ${signedPercent(((ms - before.ms) / before.ms) * 100)} over bare` : ''));
  const bare = before ?? (await bareOnce(o, user, target, `pair ${i}: (a)`));
  const overhead = ((first.ms - bare.ms) / bare.ms) * 100;
  if (!before) console.log(`      pair ${i}: (d) ${signedPercent(overhead)} over bare`);
  const phases = bare.phases
    ? { hostPhases: ((first.hostMs - bare.phases.hostMs) / bare.phases.hostMs) * 100, targetPhase: ((first.targetMs - bare.phases.targetMs) / bare.phases.targetMs) * 100 }
    : {};
  return { first, overhead, bareMs: bare.ms, ownMs: first.ms - first.buildingMs, building: ((first.buildingMs - bare.makeMs) / bare.makeMs) * 100, ...phases };
}

/**
 * The first-target goal from pairs: each pair's overhead and their median; the spread of the bare
 * builds themselves (how much the same command varies here within one run); and what (d) spends
 * outside Go's build (its own work, from its progress lines) as a share of the bare build, which no
 * drift between two builds minutes apart enters.
 */
function firstPairsReport(pairs: readonly Pair[]): void {
  const wall = median(pairs.map((pair) => pair.overhead));
  const bares = pairs.map((pair) => pair.bareMs);
  const own = pairs.map((pair) => pair.ownMs);
  console.log(`  first target over bare, median of ${pairs.length} pairs (${pairs.map((pair) => signedPercent(pair.overhead)).join(', ')}): ${signedPercent(wall)} (goal within ${FIRST_GOAL_PERCENT}%) ${wall <= FIRST_GOAL_PERCENT ? 'MET' : 'NOT MET'}`);
  console.log(`    the bare builds alone: ${bares.map(s).join(', ')}: the slowest ${signedPercent((Math.max(...bares) / Math.min(...bares) - 1) * 100)} over the fastest, the same command within this run`);
  console.log(`    Go's build inside (d) against the bare make.bash of its pair: ${pairs.map((pair) => signedPercent(pair.building)).join(', ')}`);
  const apart = (pair: Pair) => (pair.hostPhases === undefined || pair.targetPhase === undefined ? 'not split' : `host phases ${signedPercent(pair.hostPhases)}, target phase ${signedPercent(pair.targetPhase)}`);
  console.log(`      apart: ${pairs.map(apart).join('; ')}`);
  const ownShare = (median(own) / median(bares)) * 100;
  console.log(`    the witness's own work in (d): ${own.map(s).join(', ')}; median ${s(median(own))} = ${signedPercent(ownShare)} of the median bare build (goal within ${FIRST_GOAL_PERCENT}%) ${ownShare <= FIRST_GOAL_PERCENT ? 'MET' : 'NOT MET'}`);
}

/** WITNESS_BENCH_FIRST_ONLY=N: N pairs (firstTargetPair), then firstPairsReport. */
async function firstTargetPairs(o: Sources, target: string, count: number): Promise<void> {
  const user = benchUser();
  const pairs: Pair[] = [];
  for (let i = 1; i <= count; i++) {
    const out = mkdtempSync(path.join(o.parent, 'witness-bench-first-'));
    try {
      pairs.push(await firstTargetPair(o, user, target, i, out));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  firstPairsReport(pairs);
}
