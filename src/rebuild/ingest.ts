// `witness ingest`: from build results to signed build records.
//
// Each result is validated strictly (result.ts: schema, formats, canonical bytes, content address), its
// tag checked against the log (same origin; the tag record it names is a record of that tag with the
// same commit and tree, and the tag has not moved since), its build log present and intact. Then every
// file is compared with what is available: the checksum database (go.sum lines), go.dev's listing
// (archive SHA-256s), and earlier builds of the same release and target in the log (reproducibility).
// Verdicts say equal / unequal / unchecked, with the evidence; nothing unverified becomes "equal".
import path from 'node:path';
import { FormatError, UsageError, VerificationError } from '../errors.js';
import { buildLogPath } from '../log/layout.js';
import type { WitnessLog } from '../log/log.js';
import { parseRecord, type LogRecord } from '../log/record.js';
import { formatTime } from '../infra/time.js';
import { tagRecordNames } from '../tags/record.js';
import { tagStateFromRecords } from '../tags/state.js';
import type { SignerKey } from '../tlog/note.js';
import { Comparer, type ComparisonSources } from './compare.js';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, buildRecordToLogRecord, buildStatus, type BuildRecord, type BuildStatus, type Verdict } from './record.js';
import { environmentList, parseBuildResult, type BuildResult } from './result.js';
import { RefusedFileError, openUntrustedFile, readBounded } from '../infra/safe-open.js';
import { createHash } from 'node:crypto';
import type { OnProgress } from '../progress.js';
import { toolchainLedgerFromRecords } from '../toolchains/ledger.js';
import { buildDisagreement } from '../toolchains/ingest-hook.js';
import { type ToolchainAlarm, toolchainAlarmToLogRecord } from '../toolchains/record.js';
import { bootstrapRecordToLogRecord, deriveBootstrapRecords, type DerivedBootstrap } from './bootstrap-record.js';
import { agreementRecordToLogRecord, deriveAgreementRecords, type AgreementRecord } from './agreement.js';

const MAX_RESULT_BYTES = 1024 * 1024;
const MAX_BUILD_LOG_BYTES = 16 * 1024 * 1024;

export interface IngestOptions extends ComparisonSources {
  readonly now?: Date;
  readonly dryRun?: boolean;
  readonly onProgress?: OnProgress;
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
  /** Builds whose go.sum lines differ from the checksum database's toolchain record in the log (src/toolchains/ingest-hook.ts). */
  readonly toolchainAlarms: ToolchainAlarm[];
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
  // Neither file is read through a symbolic link, nor unless it is a regular file (a FIFO would hang,
  // /dev/zero never end), nor beyond its limit (src/infra/safe-open.ts).
  const refusedResult = (error: unknown): never => {
    if (error instanceof RefusedFileError && error.reason === 'too-large') throw new FormatError('BAD_BUILD_RESULT', `${file} is larger than ${MAX_RESULT_BYTES} bytes`);
    throw new UsageError('RESULT_UNREADABLE', `cannot read build result ${file}: ${(error as Error).message}`);
  };
  const opened = await openUntrustedFile(path.dirname(file), path.basename(file), MAX_RESULT_BYTES, file).catch(refusedResult);
  if (!opened) return refusedResult(new Error('no such file'));
  const bytes = Buffer.from(await readBounded(opened.handle, MAX_RESULT_BYTES, file).catch(refusedResult).finally(() => opened.handle.close()));
  const result = parseBuildResult(bytes, path.basename(file));
  const logFile = path.join(path.dirname(file), result.log.name);
  const missing = () => {
    throw new UsageError('BUILD_LOG_MISSING', `the build log ${logFile} named by ${path.basename(file)} is missing: keep it beside the result`);
  };
  const modified = () => new VerificationError('BUILD_LOG_MODIFIED', `${logFile} does not match the hash in ${path.basename(file)} (modified)`);
  const logOpened = await openUntrustedFile(path.dirname(file), result.log.name, Number.MAX_SAFE_INTEGER, logFile).catch((error: unknown) => {
    if (error instanceof RefusedFileError) throw new FormatError('BAD_BUILD_RESULT', error.message);
    throw error;
  });
  if (!logOpened) return missing();
  let log: Uint8Array;
  try {
    if (logOpened.size !== result.log.size) throw modified();
    if (logOpened.size > MAX_BUILD_LOG_BYTES) {
      // Too large to hold: stream it only to tell a modified log from an oversized one.
      const hash = createHash('sha256');
      for await (const chunk of logOpened.handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
      if (hash.digest('hex') !== result.log.sha256) throw modified();
      throw new FormatError('BAD_BUILD_RESULT', `${logFile} is larger than ${MAX_BUILD_LOG_BYTES} bytes`);
    }
    // Read once, hash what was read: what is checked is what gets stored in the log.
    log = await readBounded(logOpened.handle, MAX_BUILD_LOG_BYTES, logFile);
  } finally {
    await logOpened.handle.close();
  }
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
  if (files.length === 0) throw new UsageError('NO_RESULTS', 'no build result given');
  const say = options.onProgress ?? (() => {});
  const loaded: LoadedResult[] = [];
  for (const file of files) {
    loaded.push(await loadBuildResult(file));
    say({ phase: 'reading build results', done: loaded.length, total: files.length, unit: 'results' });
  }

  const { checkpoint, entries } = await log.readVerifiedEntries();
  const records: Array<{ index: bigint; record: LogRecord }> = entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
  const tags = tagStateFromRecords(records);
  const tagRecordAt = new Map(tags.history.map((entry) => [entry.index, entry.record]));
  const previousBuilds = records
    .filter(({ record }) => record.type === BUILD_RECORD_TYPE)
    .map(({ index, record }) => ({ index, build: buildRecordFromLogRecord(record) }));

  const toolchains = toolchainLedgerFromRecords(records);
  const toolchainAlarms: ToolchainAlarm[] = [];
  const now = formatTime(options.now ?? new Date());
  const comparer = new Comparer(options);
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

    say({ phase: 'comparing builds', done: builds.length, total: loaded.length, unit: 'results' });
    const { verdicts, evidence } =
      result.outcome === 'built'
        ? await comparer.compare(
            { version: result.version, target: result.target, env: environmentList(result.env), files: result.files, goSum: result.goSum, result: item.sha256, ...(result.strippedH1 ? { strippedH1: result.strippedH1 } : {}) },
            [...previousBuilds, ...pending],
          )
        : { verdicts: [], evidence: [] };
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
      ...(result.method !== undefined ? { method: result.method } : {}),
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
    const disagreement = buildDisagreement(toolchains, index, record, now);
    if (disagreement) {
      newRecords.push(toolchainAlarmToLogRecord(disagreement));
      toolchainAlarms.push(disagreement);
    }
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
  const buildCount = newRecords.length - toolchainAlarms.length;
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
  if (newRecords.length === 0 || options.dryRun) return { builds, conflicts, toolchainAlarms, bootstraps, agreements };
  if (!signer) throw new UsageError('KEY_REQUIRED', 'a signing key is needed to append build records');
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
  return { builds, conflicts, toolchainAlarms, bootstraps, agreements, appended: { oldSize: appended.oldSize, newSize: appended.newSize, commit: appended.commit } };
}

/**
 * Whether a new record of an already recorded result would say nothing new: the same verdicts against
 * Google's published values (sumdb, proxy, go.dev). Comparisons with our own builds ("log") change as builds of
 * other targets arrive; those builds' own records carry them.
 */
export function sameVerdicts(a: readonly Verdict[], b: readonly Verdict[]): boolean {
  // The same record proven in a newer tree head says nothing new.
  const key = (v: Verdict) => `${v.file} ${v.status} ${v.source} ${v.detail.replace(/^record ([0-9]+) in tree [0-9]+ \S+/, 'record $1')}`;
  const external = (verdicts: readonly Verdict[]) => verdicts.filter((v) => v.source !== 'log').map(key).join('\n');
  return external(a) === external(b);
}
