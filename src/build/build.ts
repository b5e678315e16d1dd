// `witness build`: one release, one or more targets, from the Go git repository.
//
// Per target: check the tag against the witness log's tag record; export the tag's tree into a fresh
// folder; run make.bash -distpack there under a scrubbed environment (make.ts); hash pkg/distpack
// (distpack.ts); check the source tarball against the tag's git tree (source-check.ts); write a
// content-addressed build result (result.ts) with the build log beside it. No signing key is read,
// and none can reach the build.
import { appendFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
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
import { assertNoKeyInEnvironment, buildUserFor, exportTree, giveToBuildUser, printableLine, runMakeBash, scrubbedEnvironment } from './make.js';
import type { Sandbox } from './sandbox.js';
import { BUILD_RESULT_SCHEMA, buildResultFileName, serializeBuildResult, type BuildResult, type BootstrapToolchain } from './result.js';
import { checkSourceTarball } from './source-check.js';
import { portsFromSourceTree } from './plan.js';
import { DARWIN_STRIP } from './macho.js';
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
}

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
      `${notPorts.join(', ')} ${notPorts.length === 1 ? 'is not a port' : 'are not ports'} of ${options.version} (its src/cmd/dist/build.go lists ${ports.size}; witness plan --all-ports REPO shows them)`,
    );
  }
  say(`${options.version}: tag matches the witness log (index ${tag.logIndex}): commit ${tag.commit}, tree ${tag.tree}`);
  const bootstrap = await describeBootstrap(options.bootstrap);
  say(`bootstrap: ${bootstrap.map((b) => b.version).join(' <- ')} (${bootstrap[0]!.hash})`);
  await mkdir(options.out, { recursive: true });
  const builds: TargetBuild[] = [];
  for (const target of options.targets) builds.push(await buildTarget(options, target, tag, bootstrap, say));
  return builds;
}

async function buildTarget(
  options: BuildOptions,
  target: Target,
  tag: { commit: string; tree: string; logIndex: bigint },
  bootstrap: BootstrapToolchain[],
  say: (message: string) => void,
): Promise<TargetBuild> {
  const version = requireGoVersion(options.version);
  const platform = `${target.goos}-${target.goarch}`;
  const extra = extraEnvironment(version, target);
  const started = new Date();
  const parent = path.resolve(options.workDir ?? os.tmpdir());
  if (options.sandbox.freshUsers) await assertOthersMayEnter(parent);
  const work = await mkdtemp(path.join(parent, `witness-build-${options.version}.${platform}-`));
  const user = buildUserFor(options.sandbox);
  // Cleared when processes of the build may still be alive: then nothing of its tree is touched again.
  let buildIsGone = true;
  const goroot = path.join(work, 'go');
  const home = path.join(work, 'home');
  const tmp = path.join(work, 'tmp');
  const logTemp = path.join(options.out, `.${options.version}.${platform}.${process.pid}.log.tmp`);
  say(`${options.version} ${formatTarget(target)}${Object.keys(extra).length ? ` (${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ')})` : ''}: exporting ${tag.tree} to ${goroot}`);
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
      started: formatTime(started),
    } as const;
    const expected = distpackFileNames(options.version, target);
    // The distpack files are copied out of the build's tree (no link followed, regular files only) into a
    // folder of ours, and everything after this reads the copy.
    const copy = path.join(options.out, `.${options.version}.${platform}.${process.pid}.distpack.tmp`);
    await rm(copy, { recursive: true, force: true });
    let failure: { phase: string; reason: string } | undefined;
    if (run.code !== 0) {
      failure = { phase: 'make-bash', reason: `make.bash exited with status ${run.code}: ${lastMeaningfulLine(run.lastLines)}` };
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

    let result: BuildResult;
    let distpackDir: string | undefined;
    if (failure) {
      say(`  FAILED (${failure.phase}): ${failure.reason}`);
      const log = await finishLog(logTemp, options.out, options.version, platform);
      result = { ...common, outcome: 'failed', seconds: Math.round((Date.now() - started.getTime()) / 1000), log, failure };
    } else {
      say(`  hashing ${distpack}`);
      // darwin: Google signs the binaries; keep the h1 with signatures stripped for comparisons (witness check),
      // computed in the same read of the zip as the plain h1.
      const hashes = await hashDistpack(distpack, target.goos === 'darwin' ? { transform: DARWIN_STRIP } : {});
      if (!hashes.goSum || hashes.moduleVersion !== expected.module) throw new EnvironmentError('DISTPACK_INCOMPLETE', `no toolchain module ${expected.module} in ${distpack}`);
      const strippedH1 = hashes.transformedH1;
      say(`  source check: ${expected.source} against ${tag.tree}`);
      const check = await checkSourceTarball(path.join(distpack, expected.source), options.repository, options.version, { commit: tag.commit, tree: tag.tree });
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
    say(`  result: ${resultFile}`);
    return { target: formatTarget(target), outcome: result.outcome, resultFile, result, ...(distpackDir ? { distpackDir } : {}), seconds: (Date.now() - started.getTime()) / 1000, makeSeconds: run.seconds };
  } finally {
    await rm(logTemp, { force: true });
    await rm(path.join(options.out, `.${options.version}.${platform}.${process.pid}.distpack.tmp`), { recursive: true, force: true });
    // Only once every process of the build is gone (runMakeBash proved it): none can swap what rm walks.
    if (!options.keepWork && buildIsGone) await rm(work, { recursive: true, force: true });
  }
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

/** The build's fresh user must reach its work tree: every folder above it must let others search it. */
async function assertOthersMayEnter(dir: string): Promise<void> {
  for (let current = dir; ; current = path.dirname(current)) {
    const info = await stat(current).catch(() => undefined);
    if (!info) throw new UsageError('WORK_NOT_FOUND', `the work folder ${current} does not exist`);
    if ((info.mode & 0o001) === 0) {
      throw new UsageError('WORK_NOT_REACHABLE', `the build's own user cannot reach ${dir}: ${current} does not let others enter it (mode ${(info.mode & 0o777).toString(8)}); choose a --work folder whose parents have o+x`);
    }
    if (path.dirname(current) === current) return;
  }
}
