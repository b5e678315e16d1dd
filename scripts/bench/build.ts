// Benchmark (opt-in; ~10+ minutes of every core per build, two builds per run): `witness build` against
// a bare make.bash -distpack of the same tree, measured in the same run. Goal (issue): the witness's
// wall time at most 5% over the bare build's.
//
//   (a) bare:    git archive <tree of go1.21.0> | tar -x; chown to the build user (when root);
//                cd src && env -i <scrubbedEnvironment, as src/rebuild/make.ts> bash make.bash -distpack,
//                as a fresh uid via setpriv when root (the user the witness would use), without the sandbox
//   (b) witness: node bin/witness.js build go1.21.0 (in its bubblewrap sandbox, src/rebuild/sandbox.ts) --go-repo $WITNESS_GO_REPO --target linux/amd64
//                --log witness-log (the committed log, which records the tags of the Go repository)
//
// Run: WITNESS_GO_REPO=/path/to/go npm run bench -- build
// It runs only when selected by name (so `npm run bench` with WITNESS_GO_REPO set for `compare` does not
// start two Go builds). Optional: WITNESS_BOOTSTRAP (default /usr/lib/go-1.19, the witness's default),
// WITNESS_BENCH_WORK (parent folder of the build folders; default the system temp folder, as the witness),
// WITNESS_BENCH_BUILD_RUNS (pairs; default 1: bare first, then witness; more pairs alternate the order).
//
// Page cache: before timing, both the tag's tree (git archive to /dev/null) and the bootstrap toolchain
// are read once, so neither side pays for a cold cache that the other then enjoys. The second build of a
// pair still finds the first's compiler outputs gone (fresh folders) but the bootstrap and sources warm.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { hashFile } from '../../src/rebuild/distpack.js';
import { scrubbedEnvironment } from '../../src/rebuild/make.js';
import { allocateBuildUser, type BuildUser } from '../../src/rebuild/sandbox.js';
import { extraEnvironment, parseTarget, requireGoVersion } from '../../src/release/target.js';
import { COSIGNER_KEY_ENV, SIGNING_KEY_ENV } from '../../src/keyfile.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VERSION = 'go1.21.0';
const TARGET = 'linux/amd64';
const GOAL_PERCENT = 5;

/** The user a bench's builds run as: a fresh build uid as root (src/rebuild/sandbox.ts), else ourselves. */
export function benchUser(): BuildUser {
  return process.getuid?.() === 0 ? allocateBuildUser() : { name: `uid-${process.getuid?.()}` };
}

/** A percentage with its sign, one decimal: "+5.3%", "-6.2%". */
export function signedPercent(value: number): string {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}%`;
}

export function git(repository: string, args: readonly string[]): string {
  const result = spawnSync('git', ['-C', repository, ...args], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')} in ${repository}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** Runs a command with inherited-nothing stdio (output to `logFd` or ignored); resolves with the exit code. */
export function runCommand(command: string, args: readonly string[], options: { cwd?: string; env?: Record<string, string>; logFd?: number; onLine?: (line: string) => void } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const { logFd, onLine } = options;
    const output = onLine ? 'pipe' : (logFd ?? 'ignore');
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', output, output] });
    if (onLine) {
      // Both streams to the log as they come, and each complete line of either to onLine when it arrives.
      for (const stream of [child.stdout!, child.stderr!]) {
        let partial = '';
        stream.on('data', (chunk: Buffer) => {
          if (logFd !== undefined) writeSync(logFd, chunk);
          const lines = (partial + chunk.toString('utf8')).split('\n');
          partial = lines.pop()!;
          for (const line of lines) onLine(line);
        });
        stream.on('end', () => partial && onLine(partial));
      }
    }
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
  });
}

function which(command: string): string {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} not found (util-linux): needed to run make.bash as another user`);
  return result.stdout.trim();
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface Timed {
  readonly total: number;
  readonly parts: Array<[string, number]>;
  readonly distpack: string;
}

/** (a) The bare build, in a fresh folder under `parent` (removed if the build fails; its log is kept). */
export async function bareBuild(repository: string, tree: string, bootstrap: string, parent: string, user: BuildUser, version = VERSION, targetText = TARGET): Promise<Timed & { work: string; makeMs: number; phases?: { hostMs: number; targetMs: number } }> {
  const work = mkdtempSync(path.join(parent, 'witness-bench-bare-'));
  try {
    return await bareBuildIn(work, repository, tree, bootstrap, parent, user, version, targetText);
  } catch (error) {
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
}

async function bareBuildIn(work: string, repository: string, tree: string, bootstrap: string, parent: string, user: BuildUser, versionText: string, targetText: string): Promise<Timed & { work: string; makeMs: number; phases?: { hostMs: number; targetMs: number } }> {
  const goroot = path.join(work, 'go');
  const home = path.join(work, 'home');
  const tmp = path.join(work, 'tmp');
  const log = path.join(parent, `${path.basename(work)}.log`);
  const parts: Array<[string, number]> = [];
  const start = performance.now();
  let mark = start;
  const lap = (what: string) => {
    const now = performance.now();
    parts.push([what, now - mark]);
    mark = now;
  };
  for (const dir of [goroot, home, tmp]) mkdirSync(dir);
  const exported = await runCommand('bash', ['-c', 'set -o pipefail; git -C "$1" archive --format=tar "$2" | tar -x --no-same-owner -f - -C "$3"', 'bash', repository, tree, goroot]);
  if (exported !== 0) throw new Error(`bare: git archive | tar -x exited ${exported}`);
  lap('git archive | tar -x');
  if (user.uid !== undefined) {
    const chowned = await runCommand('chown', ['-R', `${user.uid}:${user.gid}`, work]);
    if (chowned !== 0) throw new Error(`bare: chown -R exited ${chowned}`);
    lap(`chown -R ${user.name}`);
  }
  const version = requireGoVersion(versionText);
  const target = parseTarget(targetText);
  const env = scrubbedEnvironment({ home, tmp, bootstrap, target, extra: extraEnvironment(version, target) });
  const envArgs = ['-i', ...Object.entries(env).map(([key, value]) => `${key}=${value}`), '/bin/bash', 'make.bash', '-distpack'];
  const asUser = user.uid !== undefined ? [which('setpriv'), `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '/usr/bin/env'] : ['/usr/bin/env'];
  const logFd = openSync(log, 'w');
  let code: number;
  const makeStart = performance.now();
  let targetPhaseAt: number | undefined;
  try {
    code = await runCommand(asUser[0]!, [...asUser.slice(1), ...envArgs], {
      cwd: path.join(goroot, 'src'),
      env: {},
      logFd,
      // cmd/dist's line between the host phases and the target's (as in the witness's split).
      onLine: (line) => {
        if (targetPhaseAt === undefined && line.startsWith('Building packages and commands for target, ')) targetPhaseAt = performance.now();
      },
    });
  } finally {
    closeSync(logFd);
  }
  if (code !== 0) throw new Error(`bare: make.bash -distpack exited ${code}; see ${log}`);
  lap(`make.bash -distpack as ${user.name}`);
  rmSync(log, { force: true });
  const end = performance.now();
  const phases = targetPhaseAt === undefined ? undefined : { hostMs: targetPhaseAt - makeStart, targetMs: end - targetPhaseAt };
  return { total: end - start, parts, makeMs: parts.at(-1)![1], ...(phases ? { phases } : {}), distpack: path.join(goroot, 'pkg', 'distpack'), work };
}

/**
 * Runs `node ARGS` (a witness command) in the repository without the key variables (a key in the
 * environment makes `witness build` refuse: assertNoKeyInEnvironment), each stderr line with its time
 * since start. Shared by this bench and shared-host.ts.
 */
export async function runWitnessTimed(args: readonly string[]): Promise<{ code: number; ms: number; lines: Array<[number, string]>; stdout: string }> {
  const env = { ...process.env };
  delete env[SIGNING_KEY_ENV];
  delete env[COSIGNER_KEY_ENV];
  const start = performance.now();
  const lines: Array<[number, string]> = [];
  let stdout = '';
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      const split = (partial + chunk.toString('utf8')).split('\n');
      partial = split.pop() ?? '';
      for (const line of split) lines.push([performance.now() - start, line]);
    });
    child.on('error', reject);
    child.on('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : -1)));
  });
  return { code, ms: performance.now() - start, lines, stdout };
}

/** A build's progress lines that end each part of its wall time, each with what the part did (the full path). */
const FULL_MILESTONES: ReadonlyArray<readonly [RegExp, string]> = [
  [/: tag matches the witness log/, 'start-up, log verification, tag check'],
  [/^bootstrap: /, 'describe bootstrap'],
  [/: exporting [0-9a-f]+ to /, 'work folder'],
  [/^ {2}make\.bash -distpack as /, 'export tree + chown'],
  [/^ {2}hashing /, 'make.bash -distpack, copy pkg/distpack out'],
  [/^ {2}built: /, 'hash pkg/distpack beside the source check, log, move distpack'],
  [/^ {2}result: /, 'write result, remove the work tree (begun at the copy)'],
];

/** The time of a build's first progress line matching `pattern` at or after `from` ms, if any. */
export function firstLineAt(lines: ReadonlyArray<readonly [number, string]>, pattern: RegExp, from = 0): number | undefined {
  return lines.find(([ms, line]) => ms >= from && pattern.test(line))?.[0];
}

/**
 * The wall time of a build split at its progress lines: each milestone's first line after the one
 * before ends a part (a milestone that never printed is skipped), and what follows the last is `exit`.
 */
export function milestoneBreakdown(lines: ReadonlyArray<readonly [number, string]>, total: number, milestones: ReadonlyArray<readonly [RegExp, string]>): Array<[string, number]> {
  const parts: Array<[string, number]> = [];
  let previous = 0;
  for (const [pattern, label] of milestones) {
    const hit = firstLineAt(lines, pattern, previous);
    if (hit === undefined) continue;
    parts.push([label, hit - previous]);
    previous = hit;
  }
  parts.push(['exit', total - previous]);
  return parts;
}

/** (b) `witness build`, timing its progress lines (stderr) as they arrive. */
async function witnessBuild(repository: string, bootstrap: string, parent: string): Promise<Timed & { out: string; makeSeconds?: number }> {
  const out = mkdtempSync(path.join(parent, 'witness-bench-out-'));
  const args = [
    path.join(ROOT, 'bin', 'witness.js'), 'build', VERSION,
    '--go-repo', repository, '--target', TARGET, '--bootstrap', bootstrap,
    '--log', path.join(ROOT, 'witness-log'), '--out', out, '--work', parent, '--json',
  ];
  const { code, ms: total, lines, stdout } = await runWitnessTimed(args);
  if (code !== 0) throw new Error(`witness build exited ${code}:\n${lines.map(([, line]) => line).slice(-15).join('\n')}\n${stdout.slice(0, 2000)}`);
  let makeSeconds: number | undefined;
  let distpackDir: string | undefined;
  try {
    const first = (JSON.parse(stdout) as Array<{ makeSeconds?: number; distpackDir?: string }>)[0];
    makeSeconds = first?.makeSeconds;
    distpackDir = first?.distpackDir;
  } catch {
    // not JSON: leave the make.bash time out of the breakdown
  }
  const parts = milestoneBreakdown(lines, total, FULL_MILESTONES);
  return { total, parts, distpack: distpackDir ?? path.join(out, 'no-distpack-folder-reported'), out, ...(makeSeconds !== undefined ? { makeSeconds } : {}) };
}

export async function sameFiles(a: string, b: string): Promise<string> {
  const names = readdirSync(a).filter((name) => /\.(tar\.gz|zip|mod|info)$/.test(name)).sort();
  const differ: string[] = [];
  for (const name of names) {
    if (!existsSync(path.join(b, name))) differ.push(`${name} (missing)`);
    else if ((await hashFile(path.join(a, name))).sha256 !== (await hashFile(path.join(b, name))).sha256) differ.push(name);
  }
  return differ.length === 0 ? `identical (${names.join(', ')})` : `DIFFER: ${differ.join(', ')}`;
}

export async function benchBuild(): Promise<void> {
  const repository = process.env.WITNESS_GO_REPO;
  if (!repository) {
    console.log('build: skipped: set WITNESS_GO_REPO=<a Go git repository with tag go1.21.0, as recorded in witness-log/> and run `npm run bench -- build` (two full Go builds: ~20+ minutes of every core)');
    return;
  }
  if (!process.argv.slice(2).includes('build')) {
    console.log('build: skipped: runs only when selected by name (`npm run bench -- build`): two full Go builds, ~20+ minutes of every core');
    return;
  }
  const bootstrap = process.env.WITNESS_BOOTSTRAP ?? '/usr/lib/go-1.19';
  const parent = process.env.WITNESS_BENCH_WORK ?? tmpdir();
  const pairs = Math.max(1, Number(process.env.WITNESS_BENCH_BUILD_RUNS ?? '1') || 1);
  if (!existsSync(path.join(bootstrap, 'bin', 'go'))) throw new Error(`no bootstrap toolchain at ${bootstrap} (set WITNESS_BOOTSTRAP)`);
  const tree = git(repository, ['rev-parse', '--verify', `refs/tags/${VERSION}^{tree}`]);
  const user = benchUser();
  const busy = spawnSync('pgrep', ['-f', 'make.bash'], { encoding: 'utf8' });
  if (busy.status === 0) console.log(`  WARNING: make.bash is already running (pid ${busy.stdout.trim().split('\n').join(', ')}): the numbers will be meaningless`);

  console.log(`build: ${VERSION} ${TARGET} from ${repository} (tree ${tree}), bootstrap ${bootstrap}, as ${user.name}, in ${parent}; ${pairs} pair(s)`);
  // Warm the page cache for both sides: the tree's objects and the bootstrap toolchain.
  const warm = performance.now();
  await runCommand('bash', ['-c', 'git -C "$1" archive --format=tar "$2" >/dev/null && tar -c -f /dev/null -C "$3" .', 'bash', repository, tree, bootstrap]);
  console.log(`  page cache warmed (git archive of the tree, bootstrap read): ${seconds(performance.now() - warm)}`);

  const bare: number[] = [];
  const witness: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const order = i % 2 === 0 ? (['bare', 'witness'] as const) : (['witness', 'bare'] as const);
    let bareRun: Awaited<ReturnType<typeof bareBuild>> | undefined;
    let witnessRun: Awaited<ReturnType<typeof witnessBuild>> | undefined;
    try {
      for (const side of order) {
        if (side === 'bare') {
          bareRun = await bareBuild(repository, tree, bootstrap, parent, user);
          bare.push(bareRun.total);
          console.log(`  [${i + 1}] bare:    ${seconds(bareRun.total)}  (${bareRun.parts.map(([what, ms]) => `${what} ${seconds(ms)}`).join(', ')})`);
        } else {
          witnessRun = await witnessBuild(repository, bootstrap, parent);
          witness.push(witnessRun.total);
          console.log(`  [${i + 1}] witness: ${seconds(witnessRun.total)}  (${witnessRun.parts.map(([what, ms]) => `${what} ${seconds(ms)}`).join(', ')})`);
        }
      }
      if (bareRun && witnessRun) {
        console.log(`  [${i + 1}] distpack files, bare vs witness: ${await sameFiles(bareRun.distpack, witnessRun.distpack)}`);
        const bareMake = bareRun.makeMs;
        if (witnessRun.makeSeconds !== undefined) {
          const makeOverhead = ((witnessRun.makeSeconds * 1000 - bareMake) / bareMake) * 100;
          console.log(`  [${i + 1}] make.bash alone: bare ${seconds(bareMake)}, witness ${witnessRun.makeSeconds.toFixed(1)} s (${signedPercent(makeOverhead)}: build-to-build noise plus log piping)`);
        }
      }
    } finally {
      if (bareRun) rmSync(bareRun.work, { recursive: true, force: true });
      if (witnessRun) rmSync(witnessRun.out, { recursive: true, force: true });
    }
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  const bareMean = sum(bare) / bare.length;
  const witnessMean = sum(witness) / witness.length;
  const overhead = ((witnessMean - bareMean) / bareMean) * 100;
  console.log(
    `  wall time${pairs > 1 ? ` (mean of ${pairs})` : ''}: bare ${seconds(bareMean)}, witness ${seconds(witnessMean)}: overhead ${signedPercent(overhead)} (goal <= ${GOAL_PERCENT}%) ${overhead <= GOAL_PERCENT ? 'MET' : 'NOT MET'}`,
  );
  if (pairs === 1) console.log('  (one pair, bare first: a single pair is within build-to-build noise of a few %; WITNESS_BENCH_BUILD_RUNS=2+ alternates the order)');
}
