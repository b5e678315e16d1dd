// `witness plan`: the (release, target) pairs still to build. Releases are the log's present tags that
// are plain releases from go1.21.0 on (isPlannedVersion); targets are Go's first-class ports by
// default, a given list, or every port `go tool dist list` would print for the release (read from the
// tag's own src/cmd/dist/build.go: the cgoEnabled map's keys minus the broken map's).
import { UsageError } from '../errors.js';
import { git } from '../infra/git.js';
import type { LogRecord } from '../log/record.js';
import { tagStateFromRecords } from '../tags/state.js';
import { toolchainLedgerFromRecords } from '../toolchains/ledger.js';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, buildStatus } from './record.js';
import { compareGoVersions, formatTarget, hasPublishedToolchain, isPlannedVersion, parseGoVersion, parseTarget, type GoVersion, type Target } from '../release/target.js';

export interface PlannedBuild {
  readonly version: string;
  readonly target: string;
  readonly goos: string;
  readonly goarch: string;
}

export interface PlanOptions {
  /** Targets per release; called once per release (so ports can depend on it). */
  readonly targetsFor: (version: string) => Promise<readonly Target[]>;
  /** Also plan pairs whose only build records are failures. */
  readonly retryFailed?: boolean;
  /** At most this many pairs, oldest release first (GitHub Actions allows 256 jobs per matrix). */
  readonly limit?: number;
  /**
   * Also plan every target the checksum database published a toolchain for (the log's toolchain records,
   * src/toolchains/), for releases that have a tag (default true).
   */
  readonly publishedTargets?: boolean;
}

export async function planBuilds(records: ReadonlyArray<{ index: bigint; record: LogRecord }>, options: PlanOptions): Promise<{ builds: PlannedBuild[]; done: number; more: number }> {
  const tags = tagStateFromRecords(records);
  const built = new Map<string, boolean>();
  for (const { record } of records) {
    if (record.type !== BUILD_RECORD_TYPE) continue;
    const build = buildRecordFromLogRecord(record);
    const key = `${build.version} ${build.target}`;
    const succeeded = buildStatus(build) !== 'failed';
    built.set(key, (built.get(key) ?? false) || succeeded);
  }
  const versions: GoVersion[] = [];
  for (const ref of tags.present.keys()) {
    const version = parseGoVersion(ref.replace(/^refs\/tags\//, ''));
    if (version && isPlannedVersion(version)) versions.push(version);
  }
  versions.sort(compareGoVersions);
  const published = options.publishedTargets === false ? new Map<string, Target[]>() : publishedTargets(records);
  const all: PlannedBuild[] = [];
  let done = 0;
  for (const version of versions) {
    const targets = new Map((await options.targetsFor(version.text)).map((target) => [formatTarget(target), target]));
    for (const target of published.get(version.text) ?? []) if (!targets.has(formatTarget(target))) targets.set(formatTarget(target), target);
    for (const target of targets.values()) {
      const key = `${version.text} ${formatTarget(target)}`;
      const state = built.get(key);
      if (state === true || (state === false && !options.retryFailed)) {
        done++;
        continue;
      }
      all.push({ version: version.text, target: formatTarget(target), goos: target.goos, goarch: target.goarch });
    }
  }
  const limit = options.limit ?? all.length;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new UsageError('BAD_LIMIT', '--limit must be a non-negative integer');
  return { builds: all.slice(0, limit), done, more: Math.max(0, all.length - limit) };
}

/** Targets of the log's toolchain records that distpack can reproduce, by Go version, sorted. */
function publishedTargets(records: ReadonlyArray<{ index: bigint; record: LogRecord }>): Map<string, Target[]> {
  const byVersion = new Map<string, Target[]>();
  for (const { toolchain } of toolchainLedgerFromRecords(records).toolchains) {
    if (!toolchain.reproducible || toolchain.goVersion === undefined || toolchain.target === undefined) continue;
    const targets = byVersion.get(toolchain.goVersion) ?? [];
    if (!targets.some((t) => formatTarget(t) === toolchain.target)) targets.push(parseTarget(toolchain.target));
    byVersion.set(toolchain.goVersion, targets);
  }
  for (const targets of byVersion.values()) targets.sort((a, b) => (formatTarget(a) < formatTarget(b) ? -1 : 1));
  return byVersion;
}

/** The ports `go tool dist list` prints for a release: cgoEnabled's keys minus broken's, from the tag's src/cmd/dist/build.go. */
export async function portsFromSourceTree(repository: string, version: string): Promise<Target[]> {
  const result = await git(['show', `refs/tags/${version}:src/cmd/dist/build.go`], { cwd: repository, okCodes: [128] });
  if (result.code !== 0) throw new UsageError('NO_DIST_SOURCE', `cannot read src/cmd/dist/build.go at ${version} in ${repository}`);
  const source = result.stdout.toString('utf8');
  const mapKeys = (name: string): Set<string> => {
    const start = source.search(new RegExp(`var ${name} = map\\[string\\]bool\\{`));
    if (start < 0) return new Set();
    const end = source.indexOf('\n}', start);
    const body = source.slice(start, end < 0 ? undefined : end);
    return new Set([...body.matchAll(/"([a-z0-9]+\/[a-z0-9]+)"\s*:/g)].map((match) => match[1]!));
  };
  const ports = mapKeys('cgoEnabled');
  if (ports.size === 0) throw new UsageError('NO_DIST_SOURCE', `no cgoEnabled port map in src/cmd/dist/build.go at ${version}`);
  for (const broken of mapKeys('broken')) ports.delete(broken);
  return [...ports].sort().map(parseTarget);
}

/**
 * The ports of a release that Go publishes a toolchain for (what `--all-ports` builds and plans): the
 * tag's `go tool dist list` without the systems that get no distribution (hasPublishedToolchain).
 */
export async function publishedPortsFromSourceTree(repository: string, version: string): Promise<Target[]> {
  return (await portsFromSourceTree(repository, version)).filter(hasPublishedToolchain);
}

/** One job of a grouped plan: one release, up to `perJob` of its targets (`witness build` takes several --target). */
export interface PlannedJob {
  readonly version: string;
  /** Space-separated GOOS/GOARCH targets (a matrix value must be a string or number). */
  readonly targets: string;
  readonly count: number;
  /** 1-based index of this job among its release's jobs, and how many there are. */
  readonly part: number;
  readonly parts: number;
}

/**
 * Groups planned pairs into jobs: each release's targets (in plan order) split into the fewest jobs of
 * at most `perJob` targets, as even as possible (41 targets by 8: 7,7,7,7,7,6). At most `limit` jobs,
 * oldest release first (a GitHub Actions matrix holds 256); `more` counts the pairs left out.
 */
export function planJobs(builds: readonly PlannedBuild[], perJob: number, limit?: number): { jobs: PlannedJob[]; more: number } {
  if (!Number.isSafeInteger(perJob) || perJob < 1) throw new UsageError('BAD_PER_JOB', '--per-job must be a positive integer');
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 0)) throw new UsageError('BAD_LIMIT', '--limit must be a non-negative integer');
  const byRelease = new Map<string, string[]>();
  for (const build of builds) byRelease.set(build.version, [...(byRelease.get(build.version) ?? []), build.target]);
  const jobs: PlannedJob[] = [];
  for (const [version, targets] of byRelease) {
    const parts = Math.ceil(targets.length / perJob);
    let at = 0;
    for (let part = 1; part <= parts; part++) {
      const size = Math.ceil((targets.length - at) / (parts - part + 1));
      const chunk = targets.slice(at, at + size);
      at += size;
      jobs.push({ version, targets: chunk.join(' '), count: chunk.length, part, parts });
    }
  }
  const kept = jobs.slice(0, limit ?? jobs.length);
  return { jobs: kept, more: jobs.slice(kept.length).reduce((sum, job) => sum + job.count, 0) };
}

/** GitHub Actions matrix: {"include": [{version, target, goos, goarch}, ...]}. */
export function actionsMatrix<T extends PlannedBuild | PlannedJob>(builds: readonly T[]): { include: T[] } {
  return { include: [...builds] };
}
