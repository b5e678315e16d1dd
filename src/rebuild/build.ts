// `witness build`: one release, one or more targets, from the Go git repository.
//
// Per target: check the tag against the witness log's tag record; export the tag's tree into a fresh
// folder; run make.bash -distpack there under a scrubbed environment (make.ts); hash pkg/distpack
// (distpack.ts); check the source tarball against the tag's git tree (source-check.ts); write a
// content-addressed build result (result.ts) with the build log beside it. No signing key is read,
// and none can reach the build.
import { spawn } from 'node:child_process';
import { appendFile, copyFile, mkdir, mkdtemp, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError, UsageError, VerificationError } from '../errors.js';
import { writeFileAtomic } from '../infra/files.js';
import { resolveRevision } from '../gitsrc/tree.js';
import { formatTime } from '../infra/time.js';
import type { VerifiedTagLog } from '../tags/compare.js';
import { describeBootstrap, formatSeconds } from './bootstrap.js';
import { hashDistpack, hashFile } from './distpack.js';
import { copyFilesOut } from '../infra/safe-open.js';
import { assertNoKeyInEnvironment, BUILD_PATH, buildUserFor, exportTree, giveToBuildUser, printableLine, runMakeBash, runSandboxed, scrubbedEnvironment, takeBackFromBuildUser } from './make.js';
import { HOST_PHASE_TARGET, hashHostState, hostKey, hostPhaseProblem, hostTarget, supportsSharedHost, targetPhaseSteps } from './shared-host.js';
import { assertBuildUserMayEnter, type Sandbox } from './sandbox.js';
import { BUILD_RESULT_SCHEMA, buildResultFileName, serializeBuildResult, type BuildResult, type BootstrapToolchain } from './result.js';
import { checkSourceTarball } from './source-check.js';
import { portsFromSourceTree } from './plan.js';
import { DARWIN_STRIP } from './macho.js';
import { runOverlapped } from './pipeline.js';
import { distpackFileNames, extraEnvironment, formatTarget, isDistpackVersion, requireGoVersion, type Target } from '../release/target.js';

export const BUILDER_NAME = 'go-source-witness';

/** The tag's commit and tree in the repository, refused unless the witness log records exactly them. */
export async function checkTagAgainstLog(repository: string, version: string, tagLog: VerifiedTagLog): Promise<{ commit: string; tree: string; object: string; logIndex: bigint }> {
  const ref = `refs/tags/${version}`;
  const recorded = tagLog.state.present.get(ref);
  if (!recorded) {
    throw new UsageError('TAG_NOT_IN_LOG', `the witness log has no record of ${ref}: record the repository's tags first (witness tags --go-repo ...)`);
  }
  const object = await resolveRevision(repository, ref);
  const commit = await resolveRevision(repository, `${ref}^{commit}`);
  const tree = await resolveRevision(repository, `${ref}^{tree}`);
  if (!object || !commit || !tree) throw new EnvironmentError('TAG_NOT_FOUND', `${ref} is not in ${repository} (or does not point at a commit)`);
  const want = recorded.pointer;
  if (object !== want.object || commit !== want.target || (want.tree !== undefined && tree !== want.tree)) {
    throw new VerificationError(
      'TAG_MISMATCH',
      `${ref} in ${repository} is ${object} (commit ${commit}, tree ${tree}), but the witness log (index ${recorded.index}, first seen ${recorded.record.firstSeen}) records ${want.object} (commit ${want.target}${want.tree ? `, tree ${want.tree}` : ''}): refusing to build a tag that differs from the log`,
    );
  }
  return { commit, tree, object, logIndex: recorded.index };
}

export interface BuildOptions {
  readonly version: string;
  readonly targets: readonly Target[];
  readonly repository: string;
  /** GOROOT_BOOTSTRAP (a root toolchain, or one made by `witness bootstrap`). */
  readonly bootstrap: string;
  readonly out: string;
  readonly tagLog: VerifiedTagLog;
  /** Where to export and build (default: a new folder in the system temp dir); removed afterwards unless keepWork. */
  readonly workDir?: string;
  readonly keepWork?: boolean;
  /** How make.bash is isolated (sandbox.ts prepareSandbox); each target gets a user of its own. */
  readonly sandbox: Sandbox;
  /** The witness's own version, recorded as the builder. */
  readonly builderVersion: string;
  readonly onProgress?: (message: string) => void;
  /** Extra make.bash arguments for tests; never set by the CLI. */
  readonly environmentForTests?: Readonly<Record<string, string>>;
  /**
   * `full` (default): one make.bash -distpack per target. `shared-host`: the host phases once for the
   * targets that can share them (shared-host.ts), each target's phase from a copy; targets that cannot
   * (the host itself, a release whose cmd/dist is not reproduced) are built the full way, and each
   * result says how it was built. A target alone in its group costs what a full build does.
   */
  readonly method?: BuildMethod;
}

export type BuildMethod = 'full' | 'shared-host';

export interface TargetBuild {
  readonly target: string;
  readonly outcome: BuildResult['outcome'];
  /** Path of the result file. */
  readonly resultFile: string;
  readonly result: BuildResult;
  /** Folder holding the distpack files (built only). */
  readonly distpackDir?: string;
  readonly seconds: number;
  readonly makeSeconds: number;
}

export async function buildRelease(options: BuildOptions): Promise<TargetBuild[]> {
  assertNoKeyInEnvironment();
  const version = requireGoVersion(options.version);
  if (!isDistpackVersion(version)) {
    throw new UsageError('NOT_REPRODUCIBLE_VERSION', `${options.version} is older than go1.21.0: make.bash -distpack does not exist there, so it is not reproducible by distpack`);
  }
  if (options.targets.length === 0) throw new UsageError('NO_TARGET', 'no target given');
  const say = options.onProgress ?? (() => {});
  const tag = await checkTagAgainstLog(options.repository, options.version, options.tagLog);
  // Every target must be a port of this release (its own src/cmd/dist/build.go), before anything is exported.
  const ports = new Set((await portsFromSourceTree(options.repository, options.version)).map(formatTarget));
  const notPorts = options.targets.map(formatTarget).filter((target) => !ports.has(target));
  if (notPorts.length > 0) {
    throw new UsageError(
      'NOT_A_PORT',
      `${notPorts.join(', ')} ${notPorts.length === 1 ? 'is not a port' : 'are not ports'} of ${options.version} (its src/cmd/dist/build.go lists ${ports.size}, as go tool dist list prints them at the tag)`,
    );
  }
  // The build's own user must reach the work folder and the bootstrap GOROOT its sandbox mounts (refused
  // here, once, before anything is written; every target's tree is made under that folder).
  if (options.sandbox.freshUsers) {
    await assertBuildUserMayEnter(workParent(options), '--work');
    await assertBuildUserMayEnter(options.bootstrap, '--bootstrap');
  }
  say(`${options.version}: tag matches the witness log (index ${tag.logIndex}): commit ${tag.commit}, tree ${tag.tree}`);
  const bootstrap = await describeBootstrap(options.bootstrap);
  say(`bootstrap: ${bootstrap.map((b) => b.version).join(' <- ')} (${bootstrap[0]!.hash})`);
  await mkdir(options.out, { recursive: true });
  const done = new Map<string, TargetBuild>();
  const host = hostTarget();
  const groups = new Map<string, Target[]>();
  for (const target of options.targets) {
    const shareable = options.method === 'shared-host' && supportsSharedHost(version) && host !== undefined && formatTarget(target) !== formatTarget(host);
    if (!shareable) continue;
    const key = hostKey(extraEnvironment(version, target));
    groups.set(key, [...(groups.get(key) ?? []), target]);
  }
  for (const [key, group] of groups) {
    for (const build of await buildSharedHost(options, group, key, host!, tag, bootstrap, say)) done.set(build.target, build);
  }
  const builds: TargetBuild[] = [];
  for (const target of options.targets) {
    const name = formatTarget(target);
    if (!done.has(name)) done.set(name, await buildTarget(options, target, tag, bootstrap, say));
    builds.push(done.get(name)!);
  }
  return builds;
}

interface TagFacts {
  readonly commit: string;
  readonly tree: string;
  readonly logIndex: bigint;
}

async function buildTarget(
  options: BuildOptions,
  target: Target,
  tag: TagFacts,
  bootstrap: BootstrapToolchain[],
  say: (message: string) => void,
): Promise<TargetBuild> {
  const { platform, extra, started, work, user, goroot, home, tmp, logTemp, label } = await openTargetWork(options, target);
  // Cleared when processes of the build may still be alive: then nothing of its tree is touched again.
  let buildIsGone = true;
  say(`${label}: exporting ${tag.tree} to ${goroot}`);
  try {
    await exportTree(options.repository, tag.tree, goroot);
    await mkdir(home);
    await mkdir(tmp);
    // Before any process of the fresh user exists: nothing can race this walk.
    await giveToBuildUser(work, user);
    const env = { ...scrubbedEnvironment({ home, tmp, bootstrap: options.bootstrap, target, extra }), ...(options.environmentForTests ?? {}) };
    say(`  make.bash -distpack as ${user.name}, sandbox: ${options.sandbox.description}; log: ${logTemp}`);
    buildIsGone = false;
    const run = await runMakeBash({
      goroot,
      args: ['-distpack'],
      env,
      user,
      sandbox: options.sandbox,
      work,
      readOnly: [options.bootstrap],
      logFile: logTemp,
      onProgress: (line, seconds) => say(`  [${formatSeconds(seconds)}] ${line}`),
    });
    buildIsGone = true;
    return await finishTarget(options, target, tag, bootstrap, say, { work, user, run, logTemp, started, method: 'full' });
  } finally {
    await closeTargetWork(options, { platform, work, logTemp }, buildIsGone);
  }
}

/**
 * The shared-host path (shared-host.ts) for targets with the same host key: the host phases once, as a
 * make.bash that stops at the end of them; then per target, from a copy of that state (the last target
 * takes the state itself), cmd/dist's target phase command by command, each in the sandbox as the
 * target's own fresh user. If the host phases do not stop where they must, every target is built the
 * full way instead (and says so).
 */
async function buildSharedHost(
  options: BuildOptions,
  targets: readonly Target[],
  key: string,
  host: Target,
  tag: TagFacts,
  bootstrap: BootstrapToolchain[],
  say: (message: string) => void,
): Promise<TargetBuild[]> {
  const extra = Object.fromEntries(key ? key.split(' ').map((item) => item.split('=') as [string, string]) : []);
  const parent = workParent(options);
  const hostWork = await mkdtemp(path.join(parent, `witness-host-${options.version}-`));
  const stateRoot = path.join(hostWork, 'go');
  const hostLog = path.join(options.out, `.${options.version}.host.${process.pid}.log.tmp`);
  const user = buildUserFor(options.sandbox);
  let hostIsGone = true;
  let stateTaken = false;
  const builds: TargetBuild[] = [];
  try {
    say(`${options.version} host phases once for ${targets.map(formatTarget).join(', ')}${key ? ` (${key})` : ''}: exporting ${tag.tree} to ${stateRoot}`);
    const hostStarted = Date.now();
    await exportTree(options.repository, tag.tree, stateRoot);
    await mkdir(path.join(hostWork, 'home'));
    await mkdir(path.join(hostWork, 'tmp'));
    await giveToBuildUser(hostWork, user);
    const env = {
      ...scrubbedEnvironment({ home: path.join(hostWork, 'home'), tmp: path.join(hostWork, 'tmp'), bootstrap: options.bootstrap, target: HOST_PHASE_TARGET, extra }),
      ...(options.environmentForTests ?? {}),
    };
    say(`  host phases: make.bash -distpack with GOOS=${HOST_PHASE_TARGET.goos} GOARCH=${HOST_PHASE_TARGET.goarch} (stops at its target phase) as ${user.name}; log: ${hostLog}`);
    hostIsGone = false;
    const run = await runSandboxed({
      argv: ['/bin/bash', 'make.bash', '-distpack'],
      cwd: path.join(stateRoot, 'src'),
      env,
      user,
      sandbox: options.sandbox,
      work: hostWork,
      readOnly: [options.bootstrap],
      logFile: hostLog,
      onProgress: (line, seconds) => say(`  [${formatSeconds(seconds)}] ${line}`),
    });
    hostIsGone = true;
    const problem = run.code === 0 ? 'make.bash succeeded' : hostPhaseProblem(run.output, host);
    if (problem) {
      say(`  the host phases did not stop where the shared host needs (${problem}): building each target the full way`);
      for (const target of targets) builds.push(await buildTarget(options, target, tag, bootstrap, say));
      return builds;
    }
    // From here the state is ours: no later build's user can change it.
    await takeBackFromBuildUser(hostWork, user);
    // dist's setup made pkg/linux_wasm (empty); a full build of a target has pkg/<goos>_<goarch> instead.
    await rmdir(path.join(stateRoot, 'pkg', `${HOST_PHASE_TARGET.goos}_${HOST_PHASE_TARGET.goarch}`));
    const stateHash = await hashHostState(stateRoot);
    const hostSeconds = (Date.now() - hostStarted) / 1000;
    say(`  host state ${stateHash} after ${formatSeconds(hostSeconds)}`);
    await appendToLog(hostLog, [`witness: host state ${stateHash} (the host phases above, stopped at go_bootstrap refusing ${formatTarget(HOST_PHASE_TARGET)})`]);
    // Each target starts when the one before it has compiled (pipeline.ts): two at most at once.
    const overlapped = await runOverlapped(targets, 2, async (target, i, ready) => {
      const last = i === targets.length - 1;
      if (last) stateTaken = true;
      // Two targets' progress interleaves: each indented line names its target.
      const sayAs = (line: string) => say(line.startsWith('  ') ? `  ${formatTarget(target)}: ${line.trimStart()}` : line);
      return buildSharedTarget(options, target, tag, bootstrap, sayAs, { host, stateRoot, stateHash, hostLog, take: last, ready });
    });
    builds.push(...overlapped);
    return builds;
  } finally {
    await rm(hostLog, { force: true });
    if (!options.keepWork && hostIsGone) await rm(hostWork, { recursive: true, force: true });
    else if (stateTaken) await rm(hostWork, { recursive: true, force: true });
  }
}

/** One target of the shared host: a copy of the host state, then cmd/dist's target phase in it. */
async function buildSharedTarget(
  options: BuildOptions,
  target: Target,
  tag: TagFacts,
  bootstrap: BootstrapToolchain[],
  say: (message: string) => void,
  shared: { host: Target; stateRoot: string; stateHash: string; hostLog: string; take: boolean; /** Called when its compiling is over (its first staleness check): the next target may start. */ ready: () => void },
): Promise<TargetBuild> {
  const { platform, extra, started, work, user, goroot, home, tmp, logTemp, label } = await openTargetWork(options, target);
  let buildIsGone = true;
  try {
    say(`${label}: ${shared.take ? 'taking' : 'copying'} the host state to ${goroot}`);
    if (shared.take) await rename(shared.stateRoot, goroot);
    else await copyTree(shared.stateRoot, goroot);
    await mkdir(home);
    await mkdir(tmp);
    // What dist's setup and xinit make before the target phase: pkg/<goos>_<goarch>, the build cache
    // folder (its exit handler removed it in the host phases), and its work folder with go.mod.
    await mkdir(path.join(goroot, 'pkg', `${target.goos}_${target.goarch}`), { recursive: true });
    await mkdir(path.join(goroot, 'pkg', 'obj', 'go-build'), { recursive: true });
    const workdir = path.join(tmp, 'go-tool-dist-witness');
    await mkdir(workdir);
    await writeFile(path.join(workdir, 'go.mod'), 'module bootstrap', { mode: 0o644 });
    await giveToBuildUser(work, user);
    await copyFile(shared.hostLog, logTemp);
    const base = { ...scrubbedEnvironment({ home, tmp, bootstrap: options.bootstrap, target, extra }), ...(options.environmentForTests ?? {}) };
    const steps = targetPhaseSteps({ base, goroot, target, host: shared.host, workdir });
    const line = `Building packages and commands for target, ${formatTarget(target)}.`;
    await appendToLog(logTemp, [`witness: target phase of ${formatTarget(target)} from a copy of host state ${shared.stateHash}, as ${user.name}`, line]);
    say(`  ${line}`);
    let run = { code: 0, seconds: 0, lastLines: [] as string[] };
    let failedPhase: string | undefined;
    const phaseStarted = Date.now();
    // The compiling is over at the first staleness check: what is left (go list five times, distpack's
    // compression, then hashing and the source check) runs on about one core, so the next target starts.
    const compiled = steps.findIndex((step) => step.staleCheck || step.packaging);
    buildIsGone = false;
    for (const [i, step] of steps.entries()) {
      await appendToLog(logTemp, [`witness: ${step.title}: ${step.argv.map((arg) => arg.replace(work, '<work>')).join(' ')}`]);
      if (i === compiled) shared.ready();
      if (step.packaging) say(`  [${formatSeconds((Date.now() - phaseStarted) / 1000)}] ${step.title}`);
      const stepStarted = Date.now();
      const result = await runSandboxed({ argv: step.argv, cwd: step.cwd, env: { ...step.env }, user, sandbox: options.sandbox, work, readOnly: [options.bootstrap], logFile: logTemp });
      say(`    ${step.title.replace(/\.$/, '')}: ${formatSeconds((Date.now() - stepStarted) / 1000)}`);
      const stale = step.staleCheck && result.output.includes('\tSTALE ');
      if (result.code !== 0 || stale) {
        failedPhase = 'target-phase';
        run = { code: result.code === 0 ? 1 : result.code, seconds: (Date.now() - phaseStarted) / 1000, lastLines: [`${step.title}${stale ? ': unexpected stale targets' : ''}`, ...result.lastLines] };
        break;
      }
    }
    buildIsGone = true;
    if (!failedPhase) run = { code: 0, seconds: (Date.now() - phaseStarted) / 1000, lastLines: [] };
    return await finishTarget(options, target, tag, bootstrap, say, { work, user, run, logTemp, started, method: `shared-host ${shared.stateHash}`, ...(failedPhase ? { failedPhase } : {}) });
  } finally {
    await closeTargetWork(options, { platform, work, logTemp }, buildIsGone);
  }
}

/**
 * Copies a host state (owned by us, no build process alive) with `cp -a` (links copied as links, modes
 * kept; reflinks where the file system has them). The copy is then given to the target's own user.
 */
async function copyTree(from: string, to: string): Promise<void> {
  if ((await readdir(path.dirname(to))).includes(path.basename(to))) throw new EnvironmentError('COPY_FAILED', `${to} exists`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('cp', ['-a', '--reflink=auto', '--no-target-directory', from, to], { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: BUILD_PATH, LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (exit) => (exit === 0 ? resolve() : reject(new EnvironmentError('COPY_FAILED', `cp -a ${from} ${to} failed: ${stderr.trim().slice(0, 300)}`))));
  });
}

/** What a target's build left to finish: its tree (every process gone), its log so far, how it ran. */
interface FinishedRun {
  readonly work: string;
  readonly user: { readonly name: string };
  readonly run: { readonly code: number; readonly seconds: number; readonly lastLines: readonly string[] };
  readonly logTemp: string;
  readonly started: Date;
  /** `full`, or `shared-host <host state hash>`. */
  readonly method: string;
  /** The phase named when the build failed (default make-bash). */
  readonly failedPhase?: string;
}

/** Copies pkg/distpack out of a finished build, hashes and checks it, writes its result and log. */
async function finishTarget(options: BuildOptions, target: Target, tag: TagFacts, bootstrap: BootstrapToolchain[], say: (message: string) => void, finished: FinishedRun): Promise<TargetBuild> {
  const { work, user, run, logTemp, started } = finished;
  const platform = `${target.goos}-${target.goarch}`;
  const extra = extraEnvironment(requireGoVersion(options.version), target);
  const common = {
    schema: BUILD_RESULT_SCHEMA,
    version: options.version,
    target: formatTarget(target),
    env: Object.fromEntries(Object.entries(extra).sort(([a], [b]) => (a < b ? -1 : 1))),
    tag: { ref: `refs/tags/${options.version}`, commit: tag.commit, tree: tag.tree, logIndex: String(tag.logIndex), logOrigin: options.tagLog.origin },
    bootstrap,
    builder: {
      name: BUILDER_NAME,
      version: options.builderVersion,
      node: process.version,
      platform: `${process.platform}/${process.arch}`,
      user: user.name,
    },
    sandbox: options.sandbox.description,
    method: finished.method,
    started: formatTime(started),
  } as const;
  const expected = distpackFileNames(options.version, target);
  // The distpack files are copied out of the build's tree (no link followed, regular files only) into a
  // folder of ours, and everything after this reads the copy.
  const copy = path.join(options.out, `.${options.version}.${platform}.${process.pid}.distpack.tmp`);
  await rm(copy, { recursive: true, force: true });
  let failure: { phase: string; reason: string } | undefined;
  if (run.code !== 0) {
    failure = { phase: finished.failedPhase ?? 'make-bash', reason: `${finished.failedPhase ? 'the target phase' : 'make.bash'} exited with status ${run.code}: ${lastMeaningfulLine(run.lastLines)}` };
  } else {
    const present = new Set(
      await copyFilesOut(work, 'go/pkg/distpack', copy).catch((error: unknown) => {
        if (error instanceof EnvironmentError && error.code === 'UNSAFE_BUILD_OUTPUT' && !/does not exist/.test(error.message)) {
          failure = { phase: 'distpack', reason: printableLine(error.message.replace(work, '<work>')) };
        }
        return [] as string[];
      }),
    );
    const missing = [expected.source, expected.archive, `${expected.module}.zip`, `${expected.module}.mod`, `${expected.module}.info`].filter((name) => !present.has(name));
    if (!failure && missing.length > 0) failure = { phase: 'distpack', reason: printableLine(`make.bash -distpack succeeded but did not write ${missing.join(', ')}`) };
  }
  const distpack = copy;
  // Everything after this reads the copy: the build's tree (every process of it gone) is removed
  // meanwhile (about 1 s for a go1.21 tree), not after. A failure of this rm is closeTargetWork's to
  // repeat and report; it runs after this one has settled, on every path, so that two recursive rms
  // never walk one tree at once.
  const removing = (options.keepWork ? Promise.resolve() : rm(work, { recursive: true, force: true })).catch(() => {});
  try {
    let result: BuildResult;
    let distpackDir: string | undefined;
    if (failure) {
      say(`  FAILED (${failure.phase}): ${failure.reason}`);
      const log = await finishLog(logTemp, options.out, options.version, platform);
      result = { ...common, outcome: 'failed', seconds: Math.round((Date.now() - started.getTime()) / 1000), log, failure };
    } else {
      say(`  hashing ${distpack}; source check: ${expected.source} against ${tag.tree}`);
      // Both read the copy, side by side: the zip's h1 inflates in worker threads, the source check
      // gunzips in the thread pool. darwin: Google signs the binaries; keep the h1 with signatures
      // stripped for comparisons (witness check), computed in the same read of the zip as the plain h1.
      const [hashes, check] = await Promise.all([
        hashDistpack(distpack, target.goos === 'darwin' ? { transform: DARWIN_STRIP } : {}),
        checkSourceTarball(path.join(distpack, expected.source), options.repository, options.version, { commit: tag.commit, tree: tag.tree }),
      ]);
      if (!hashes.goSum || hashes.moduleVersion !== expected.module) throw new EnvironmentError('DISTPACK_INCOMPLETE', `no toolchain module ${expected.module} in ${distpack}`);
      const strippedH1 = hashes.transformedH1;
      const problems = [
        ...check.differ.map((d) => `${d.path}: ${d.reason}`),
        ...check.onlyInTarball.map((name) => `${name}: only in the tarball`),
        ...check.onlyInGit.map((name) => `${name}: only in git`),
      ];
      await appendToLog(logTemp, [
        `witness: source check of ${expected.source} against tree ${tag.tree}: ${check.equal ? 'SAME' : 'DIFFERENT'} (${check.files} files)`,
        ...problems.map((problem) => `witness: source check: ${problem}`),
        ...hashes.files.map((file) => `witness: ${file.sha256} ${file.size} ${file.name}`),
        ...hashes.goSum,
      ]);
      const log = await finishLog(logTemp, options.out, options.version, platform);
      distpackDir = path.join(options.out, `${options.version}.${platform}.${log.sha256.slice(0, 16)}.distpack`);
      await rm(distpackDir, { recursive: true, force: true });
      await rename(distpack, distpackDir);
      result = {
        ...common,
        outcome: 'built',
        seconds: Math.round((Date.now() - started.getTime()) / 1000),
        log,
        files: hashes.files,
        goSum: hashes.goSum,
        ...(strippedH1 ? { strippedH1 } : {}),
        sourceCheck: { equal: check.equal, files: check.files, problems: problems.slice(0, 50).map((p) => p.slice(0, 300)) },
      };
      say(`  built: ${hashes.goSum[0]}`);
      if (!check.equal) say(`  SOURCE CHECK FAILED: ${problems.length} differences between ${expected.source} and the git tree`);
    }
    const bytes = serializeBuildResult(result);
    const resultFile = path.join(options.out, buildResultFileName(result, bytes));
    await writeFileAtomic(resultFile, bytes);
    await removing; // the result line comes once the tree is gone, as before this rm ran beside the hashing
    say(`  result: ${resultFile}`);
    return { target: formatTarget(target), outcome: result.outcome, resultFile, result, ...(distpackDir ? { distpackDir } : {}), seconds: (Date.now() - started.getTime()) / 1000, makeSeconds: run.seconds };
  } finally {
    await removing;
  }
}

/** Where the work folders of builds are made (--work, else the system's temporary folder). */
function workParent(options: BuildOptions): string {
  return path.resolve(options.workDir ?? os.tmpdir());
}

/** The work folder, the build user and the temporary log of one target's build, full or shared-host. */
async function openTargetWork(options: BuildOptions, target: Target) {
  const platform = `${target.goos}-${target.goarch}`;
  const extra = extraEnvironment(requireGoVersion(options.version), target);
  const started = new Date();
  const work = await mkdtemp(path.join(workParent(options), `witness-build-${options.version}.${platform}-`));
  const user = buildUserFor(options.sandbox);
  const goroot = path.join(work, 'go');
  const home = path.join(work, 'home');
  const tmp = path.join(work, 'tmp');
  const logTemp = path.join(options.out, `.${options.version}.${platform}.${process.pid}.log.tmp`);
  const label = `${options.version} ${formatTarget(target)}${Object.keys(extra).length ? ` (${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}`;
  return { platform, extra, started, work, user, goroot, home, tmp, logTemp, label };
}

/**
 * Removes what openTargetWork made (the work folder only when `buildIsGone`: once every process of the
 * build is gone, as runMakeBash and runSandboxed prove, none can swap what rm walks).
 */
async function closeTargetWork(options: BuildOptions, opened: { platform: string; work: string; logTemp: string }, buildIsGone: boolean): Promise<void> {
  await rm(opened.logTemp, { force: true });
  await rm(path.join(options.out, `.${options.version}.${opened.platform}.${process.pid}.distpack.tmp`), { recursive: true, force: true });
  if (!options.keepWork && buildIsGone) await rm(opened.work, { recursive: true, force: true });
}

function lastMeaningfulLine(lines: readonly string[]): string {
  const meaningful = lines.map((line) => printableLine(line)).filter((line) => line !== 'no output');
  return printableLine(meaningful.slice(-3).join(' | '));
}

async function appendToLog(file: string, lines: readonly string[]): Promise<void> {
  await appendFile(file, `${lines.join('\n')}\n`);
}

/** Names the build log by its content (like the result) and returns its description. */
async function finishLog(temp: string, out: string, version: string, platform: string): Promise<{ name: string; size: number; sha256: string }> {
  const { size, sha256 } = await hashFile(temp);
  const name = `${version}.${platform}.${sha256}.log`;
  await rename(temp, path.join(out, name));
  return { name, size, sha256 };
}

