// `witness ingest`: from build results to signed build records.
//
// Each result is validated strictly (result.ts: schema, formats, canonical bytes, content address), its
// tag checked against the log (same origin; the tag record it names is a record of that tag with the
// same commit and tree, and the tag has not moved since), its build log present and intact. Then every
// file is compared with what is available: the checksum database (go.sum lines), go.dev's listing
// (archive SHA-256s), and earlier builds of the same release and target in the log (reproducibility).
// Verdicts say equal / unequal / unchecked, with the evidence; nothing unverified becomes "equal".
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FormatError, UsageError, VerificationError } from '../errors.js';
import { buildLogPath } from '../log/layout.js';
import type { WitnessLog } from '../log/log.js';
import { parseRecord, type LogRecord } from '../log/record.js';
import type { SumdbClient } from '../sumdb/client.js';
import { formatTime, tagRecordNames } from '../tags/record.js';
import { tagStateFromRecords } from '../tags/state.js';
import type { SignerKey } from '../tlog/note.js';
import { lookupToolchainModule, type PublishedListing, type SumdbExpectation } from './expected.js';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, buildRecordToLogRecord, buildStatus, type BuildRecord, type BuildStatus, type Evidence, type Verdict } from './record.js';
import { environmentList, parseBuildResult, type BuildResult } from './result.js';
import { hashFile } from './distpack.js';
import { distpackFileNames, parseTarget, publishedArchiveName, toolchainModuleVersion } from './target.js';
import { createHash } from 'node:crypto';
import { bootstrapRecordToLogRecord, deriveBootstrapRecords, type DerivedBootstrap } from './bootstrap-record.js';
import { agreementRecordToLogRecord, deriveAgreementRecords, type AgreementRecord } from './agreement.js';

const MAX_RESULT_BYTES = 1024 * 1024;
const MAX_BUILD_LOG_BYTES = 16 * 1024 * 1024;

export interface IngestOptions {
  /** The checksum database to compare with; undefined: not consulted (verdicts say so). */
  readonly sumdb?: SumdbClient;
  /** Why sumdb is not consulted, when it is not (e.g. "offline"). */
  readonly sumdbSkipped?: string;
  readonly published?: PublishedListing;
  readonly now?: Date;
  readonly dryRun?: boolean;
}

export interface IngestedBuild {
  readonly resultFile: string;
  readonly record: BuildRecord;
  readonly status: BuildStatus;
  /** Set when an identical record (same result, same verdicts) is already in the log: nothing appended for it. */
  readonly alreadyAt?: bigint;
  /** Log index of the new record. */
  readonly index?: bigint;
}

export interface IngestReport {
  readonly builds: IngestedBuild[];
  readonly appended?: { readonly oldSize: bigint; readonly newSize: bigint; readonly commit: string };
  /** Reproducibility failures: two results for the same release, target and env with different hashes. */
  readonly conflicts: string[];
  /** Bootstrap toolchains of the results' chains not logged before (bootstrap-record.ts), with their log indexes. */
  readonly bootstraps: ReadonlyArray<DerivedBootstrap & { readonly index: bigint }>;
  /** Agreements of independent bootstrap roots (agreement.ts), new or changed, with their log indexes. */
  readonly agreements: ReadonlyArray<{ readonly record: AgreementRecord; readonly index: bigint }>;
}

interface LoadedResult {
  readonly file: string;
  readonly result: BuildResult;
  readonly sha256: string;
  readonly log: Uint8Array;
}

/** Reads and validates a result file and its build log (named in it, beside it). */
export async function loadBuildResult(file: string): Promise<LoadedResult> {
  const bytes = await readFile(file).catch((error: Error) => {
    throw new UsageError(`cannot read build result ${file}: ${error.message}`, 'RESULT_UNREADABLE');
  });
  if (bytes.length > MAX_RESULT_BYTES) throw new FormatError('BAD_BUILD_RESULT', `${file} is larger than ${MAX_RESULT_BYTES} bytes`);
  const result = parseBuildResult(bytes, path.basename(file));
  const logFile = path.join(path.dirname(file), result.log.name);
  const missing = () => {
    throw new UsageError(`the build log ${logFile} named by ${path.basename(file)} is missing: keep it beside the result`, 'BUILD_LOG_MISSING');
  };
  const modified = () => new VerificationError('BUILD_LOG_MODIFIED', `${logFile} does not match the hash in ${path.basename(file)} (modified)`);
  const { size } = await stat(logFile).catch(missing);
  if (size !== result.log.size) throw modified();
  if (size > MAX_BUILD_LOG_BYTES) {
    // Too large to hold: stream it only to tell a modified log from an oversized one.
    if ((await hashFile(logFile).catch(missing)).sha256 !== result.log.sha256) throw modified();
    throw new FormatError('BAD_BUILD_RESULT', `${logFile} is larger than ${MAX_BUILD_LOG_BYTES} bytes`);
  }
  // Read once, hash what was read: what is checked is what gets stored in the log.
  const log = await readFile(logFile).catch(missing);
  if (createHash('sha256').update(log).digest('hex') !== result.log.sha256 || log.length !== result.log.size) throw modified();
  // build.ts ends every built log with the hashes it put in the result: they must agree (an edited result
  // that was given a new content address still disagrees with the log it names).
  if (result.outcome === 'built') {
    const tail = `${result.files.map((f) => `witness: ${f.sha256} ${f.size} ${f.name}`).join('\n')}\n${result.goSum.join('\n')}\n`;
    if (!Buffer.from(log).toString('utf8').endsWith(tail)) {
      throw new VerificationError('RESULT_DISAGREES_WITH_LOG', `${file}: its file hashes and go.sum lines are not the ones its build log ends with (edited after the build)`);
    }
  }
  return { file, result, sha256: createHash('sha256').update(bytes).digest('hex'), log };
}

export async function ingestBuildResults(log: WitnessLog, files: readonly string[], signer: SignerKey | undefined, options: IngestOptions = {}): Promise<IngestReport> {
  if (files.length === 0) throw new UsageError('no build result given', 'NO_RESULTS');
  const loaded: LoadedResult[] = [];
  for (const file of files) loaded.push(await loadBuildResult(file));

  const { checkpoint, entries } = await log.readVerifiedEntries();
  const records: Array<{ index: bigint; record: LogRecord }> = entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
  const tags = tagStateFromRecords(records);
  const tagRecordAt = new Map(tags.history.map((entry) => [entry.index, entry.record]));
  const previousBuilds = records
    .filter(({ record }) => record.type === BUILD_RECORD_TYPE)
    .map(({ index, record }) => ({ index, build: buildRecordFromLogRecord(record) }));

  const now = formatTime(options.now ?? new Date());
  const builds: IngestedBuild[] = [];
  const conflicts: string[] = [];
  const newRecords: LogRecord[] = [];
  const attachments = new Map<string, Uint8Array>();
  const pending: Array<{ index: bigint; build: BuildRecord }> = [];
  for (const item of loaded) {
    const { result } = item;
    // The tag: same log, a tag record of this release at this commit and tree, and still current.
    if (result.tag.logOrigin !== log.origin) {
      throw new VerificationError('RESULT_WRONG_LOG', `${item.file}: built against log ${result.tag.logOrigin}, not ${log.origin}`);
    }
    const tagIndex = BigInt(result.tag.logIndex);
    if (!tagRecordNames(tagRecordAt.get(tagIndex), result.tag.ref, result.tag.commit, result.tag.tree)) {
      throw new VerificationError('RESULT_TAG_MISMATCH', `${item.file}: log index ${tagIndex} is not a record of ${result.tag.ref} at commit ${result.tag.commit}, tree ${result.tag.tree}`);
    }
    const present = tags.present.get(result.tag.ref);
    if (!present || present.pointer.target !== result.tag.commit) {
      throw new VerificationError('RESULT_TAG_MOVED', `${item.file}: ${result.tag.ref} has ${present ? `moved (log index ${present.index})` : 'vanished'} since this build; rebuild it`);
    }

    const { verdicts, evidence } = result.outcome === 'built' ? await compare(result, item.sha256, options, [...previousBuilds, ...pending]) : { verdicts: [], evidence: [] };
    const record: BuildRecord = {
      version: result.version,
      target: result.target,
      env: environmentList(result.env),
      outcome: result.outcome,
      tagIndex,
      commit: result.tag.commit,
      tree: result.tag.tree,
      result: item.sha256,
      builder: `${result.builder.name}/${result.builder.version} node/${result.builder.node} ${result.builder.platform}`,
      ...(result.sandbox !== undefined ? { sandbox: result.sandbox } : {}),
      bootstrap: result.bootstrap,
      started: result.started,
      seconds: result.seconds,
      buildLog: { sha256: result.log.sha256, size: result.log.size },
      ...(result.outcome === 'built'
        ? {
            sourceCheck: { equal: result.sourceCheck.equal, files: result.sourceCheck.files, problems: result.sourceCheck.problems.length },
            files: result.files,
            goSum: result.goSum,
            ...(result.strippedH1 ? { strippedH1: result.strippedH1 } : {}),
          }
        : { failure: `${result.failure.phase}: ${result.failure.reason}` }),
      verdicts,
      evidence,
      ingested: now,
    };
    for (const verdict of verdicts) {
      if (verdict.source === 'log' && verdict.status === 'unequal') conflicts.push(`${result.version} ${result.target}: ${verdict.file} differs from ${verdict.detail}`);
    }
    // The same result with the same verdicts is already recorded: nothing new to say.
    const same = [...previousBuilds, ...pending].find(({ build }) => build.result === item.sha256 && sameVerdicts(build.verdicts, verdicts));
    if (same) {
      builds.push({ resultFile: item.file, record, status: buildStatus(record), alreadyAt: same.index });
      continue;
    }
    const index = checkpoint.checkpoint.size + BigInt(newRecords.length);
    newRecords.push(buildRecordToLogRecord(record));
    pending.push({ index, build: record });
    attachments.set(buildLogPath(result.log.sha256), item.log);
    builds.push({ resultFile: item.file, record, status: buildStatus(record), index });
  }
  // The bootstrap toolchains of the chains, and the agreement of independent roots (after the build
  // records they name).
  const bootstraps = deriveBootstrapRecords({
    existing: records,
    tags,
    results: [
      ...loaded.map((item) => ({ file: item.file, sha256: item.sha256, bootstrap: item.result.bootstrap })),
      // And the chains of the build records already logged for the same releases and targets (builds
      // ingested before bootstrap records existed), so that every root of an agreement has its toolchains.
      ...previousBuilds
        .filter(({ build }) => loaded.some((item) => item.result.version === build.version && item.result.target === build.target))
        .map(({ index, build }) => ({ file: `build record ${index}`, sha256: build.result, bootstrap: build.bootstrap, logged: true })),
    ],
    firstIndex: checkpoint.checkpoint.size + BigInt(newRecords.length),
    now,
  }).map((derived, i) => ({ ...derived, index: checkpoint.checkpoint.size + BigInt(newRecords.length + i) }));
  const buildCount = newRecords.length;
  newRecords.push(...bootstraps.map(({ record }) => bootstrapRecordToLogRecord(record)));
  const agreements = deriveAgreementRecords({
    existing: records,
    builds: [...previousBuilds, ...pending],
    touched: builds.filter((b) => b.record.outcome === 'built').map((b) => b.record),
    now,
  }).map((record, i) => ({ record, index: checkpoint.checkpoint.size + BigInt(newRecords.length + i) }));
  newRecords.push(...agreements.map(({ record }) => agreementRecordToLogRecord(record)));
  for (const { record } of agreements) {
    if (record.status === 'differ') conflicts.push(`${record.version} ${record.target}: independent bootstrap roots disagree on ${record.differ.map((d) => d.name).join(', ')}`);
  }
  if (newRecords.length === 0 || options.dryRun) return { builds, conflicts, bootstraps, agreements };
  if (!signer) throw new UsageError('a signing key is needed to append build records', 'KEY_REQUIRED');
  const counts = [
    buildCount ? `${buildCount} build ${buildCount === 1 ? 'record' : 'records'}` : '',
    bootstraps.length ? `${bootstraps.length} bootstrap ${bootstraps.length === 1 ? 'record' : 'records'}` : '',
    agreements.length ? `${agreements.length} agreement ${agreements.length === 1 ? 'record' : 'records'}` : '',
  ].filter(Boolean);
  const appended = await log.append(newRecords, signer, {
    summary: counts.join(', '),
    expectedSize: checkpoint.checkpoint.size,
    attachments: [...attachments].map(([file, content]) => ({ path: file, content })),
  });
  return { builds, conflicts, bootstraps, agreements, appended: { oldSize: appended.oldSize, newSize: appended.newSize, commit: appended.commit } };
}

/**
 * Whether a new record of an already recorded result would say nothing new: the same verdicts against
 * Google's published values (sumdb, go.dev). Comparisons with our own builds ("log") change as builds of
 * other targets arrive; those builds' own records carry them.
 */
function sameVerdicts(a: readonly Verdict[], b: readonly Verdict[]): boolean {
  const key = (v: Verdict) => `${v.file} ${v.status} ${v.source} ${v.detail}`;
  const external = (verdicts: readonly Verdict[]) => verdicts.filter((v) => v.source !== 'log').map(key).join('\n');
  return external(a) === external(b);
}

async function compare(
  result: Extract<BuildResult, { outcome: 'built' }>,
  resultSha256: string,
  options: IngestOptions,
  earlier: ReadonlyArray<{ index: bigint; build: BuildRecord }>,
): Promise<{ verdicts: Verdict[]; evidence: Evidence[] }> {
  const target = parseTarget(result.target);
  const darwin = target.goos === 'darwin';
  const names = distpackFileNames(result.version, target);
  const module = toolchainModuleVersion(result.version, target);
  const verdicts: Verdict[] = [];
  const evidence: Evidence[] = [];
  const signedNote = 'Google signs darwin binaries, so its files differ from an unsigned rebuild; witness check compares them with signatures stripped';

  // 1. The checksum database: the module zip's h1 and the .mod's h1.
  let expectation: SumdbExpectation | undefined;
  let sumdbProblem = options.sumdbSkipped ?? 'not consulted';
  if (options.sumdb) {
    try {
      expectation = await lookupToolchainModule(options.sumdb, module);
      evidence.push({ source: 'sumdb', detail: expectation.evidence });
    } catch (error) {
      // Not found, unreachable or failing verification: say so; never treat it as a match.
      const code = (error as { code?: string }).code ?? 'ERROR';
      sumdbProblem = `lookup failed (${code}): ${(error as Error).message.replace(/\s+/g, ' ').slice(0, 200)}`;
      if ((error as { category?: string }).category === 'verification') {
        evidence.push({ source: 'sumdb', detail: `VERIFICATION FAILED for golang.org/toolchain@${module}: ${sumdbProblem}` });
      }
    }
  }
  const sumdbPairs: Array<[string, string, string | undefined]> = [
    [`${module}.zip`, result.goSum[0], expectation?.zipLine],
    [`${module}.mod`, result.goSum[1], expectation?.modLine],
  ];
  for (const [file, ours, theirs] of sumdbPairs) {
    const ourHash = ours.split(' ')[2]!;
    if (!expectation) verdicts.push({ file, status: 'unchecked', source: 'sumdb', detail: sumdbProblem });
    else if (theirs === undefined) verdicts.push({ file, status: 'unchecked', source: 'sumdb', detail: 'the database record has no such line' });
    else if (theirs === ours) verdicts.push({ file, status: 'equal', source: 'sumdb', detail: ourHash });
    else if (darwin && file.endsWith('.zip')) verdicts.push({ file, status: 'unchecked', source: 'sumdb', detail: `differs from ${theirs.split(' ')[2]}: ${signedNote}` });
    else verdicts.push({ file, status: 'unequal', source: 'sumdb', detail: `expected ${theirs.split(' ')[2]}, built ${ourHash}` });
  }

  // 2. go.dev's listing: the source tarball and the binary archive, by SHA-256.
  for (const [file, published] of [
    [names.source, names.source],
    [names.archive, publishedArchiveName(names.archive)],
  ] as const) {
    const ours = result.files.find((f) => f.name === file);
    if (!ours) continue;
    if (!options.published) {
      verdicts.push({ file, status: 'unchecked', source: 'go.dev', detail: 'no published listing given' });
      continue;
    }
    const theirs = options.published.files.get(published);
    if (!theirs) verdicts.push({ file, status: 'unchecked', source: 'go.dev', detail: `${published} is not in the listing` });
    else if (theirs.sha256 === ours.sha256) verdicts.push({ file, status: 'equal', source: 'go.dev', detail: `${published} sha256:${theirs.sha256}` });
    else if (darwin && file === names.archive) verdicts.push({ file, status: 'unchecked', source: 'go.dev', detail: `differs from ${published} sha256:${theirs.sha256}: ${signedNote}` });
    else verdicts.push({ file, status: 'unequal', source: 'go.dev', detail: `${published} expected sha256:${theirs.sha256}, built ${ours.sha256}` });
  }
  if (options.published) evidence.push({ source: 'go.dev', detail: `${options.published.source} sha256:${options.published.sha256}` });

  // 3. Earlier builds of the same release, target and environment in this log: reproducibility.
  const env = environmentList(result.env).join(' ');
  const same = earlier.filter(({ build }) => build.outcome === 'built' && build.version === result.version && build.target === result.target && build.env.join(' ') === env);
  const byResult = new Map<string, { index: bigint; build: BuildRecord }>();
  // Records of this very result say nothing about reproducibility.
  for (const entry of same) if (entry.build.result !== resultSha256 && !byResult.has(entry.build.result)) byResult.set(entry.build.result, entry);
  for (const { index, build } of byResult.values()) {
    for (const file of result.files) {
      const theirs = build.files?.find((f) => f.name === file.name);
      if (!theirs) continue;
      verdicts.push(
        theirs.sha256 === file.sha256
          ? { file: file.name, status: 'equal', source: 'log', detail: `build record ${index}` }
          : { file: file.name, status: 'unequal', source: 'log', detail: `build record ${index} (sha256 ${theirs.sha256}, now ${file.sha256})` },
      );
    }
  }
  // The source tarball does not depend on the target: every build of the release must have made the same one.
  const sourceFile = result.files.find((f) => f.name === names.source);
  const otherTargets = new Map<string, { index: bigint; build: BuildRecord }>();
  for (const entry of earlier) {
    const { build } = entry;
    if (build.outcome !== 'built' || build.version !== result.version || build.result === resultSha256 || (build.target === result.target && build.env.join(' ') === env)) continue;
    const key = build.files?.find((f) => f.name === names.source)?.sha256;
    if (key !== undefined && !otherTargets.has(key)) otherTargets.set(key, entry);
  }
  if (sourceFile) {
    for (const [sha256, { index, build }] of otherTargets) {
      verdicts.push(
        sha256 === sourceFile.sha256
          ? { file: sourceFile.name, status: 'equal', source: 'log', detail: `build record ${index} (${build.target})` }
          : { file: sourceFile.name, status: 'unequal', source: 'log', detail: `build record ${index} (${build.target}) has sha256 ${sha256}, now ${sourceFile.sha256}` },
      );
    }
  }
  return { verdicts, evidence };
}
