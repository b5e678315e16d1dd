// `witness ingest --recheck INDEX|all`: re-evaluates build records already in the log against the
// published evidence available now (the published module, the checksum database, go.dev), without their
// build result files: a build record holds everything the comparisons need (files, go.sum lines, the
// stripped h1). Each re-evaluation is a new build record repeating the build and citing the record it
// re-evaluates (`recheck-of`); nothing else changes, nothing is rewritten. `witness verify` checks that
// the cited record is an earlier build record of the very same build (src/log/views.ts).
import { UsageError } from '../errors.js';
import type { WitnessLog } from '../log/log.js';
import { parseRecord, type LogRecord } from '../log/record.js';
import { formatTime } from '../infra/time.js';
import type { SignerKey } from '../tlog/note.js';
import { Comparer, claimOfRecord } from './compare.js';
import { type IngestOptions, type IngestReport, type IngestedBuild, sameVerdicts } from './ingest.js';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, buildRecordToLogRecord, buildStatus, type BuildRecord } from './record.js';

/** Which records to recheck: `all` (the latest record of every built result) or log indexes. */
export type RecheckSelection = 'all' | readonly bigint[];

/** Parses `--recheck` values: "all" or log indexes (UsageError otherwise). */
export function parseRecheckSelection(values: readonly string[]): RecheckSelection {
  if (values.length === 1 && values[0] === 'all') return 'all';
  return values.map((value) => {
    if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) throw new UsageError('BAD_RECHECK', `--recheck ${JSON.stringify(value)}: want a log index or "all"`);
    return BigInt(value);
  });
}

/**
 * The build records a selection names, checked against the verified log (UsageError for an index that is
 * not a built build record): callers may check before they fetch anything.
 */
export async function resolveRecheckSelection(log: WitnessLog, selection: RecheckSelection) {
  const { checkpoint, entries } = await log.readVerifiedEntries();
  const builds: Array<{ index: bigint; build: BuildRecord }> = [];
  entries.forEach((entry, i) => {
    const record = parseRecord(entry);
    if (record.type === BUILD_RECORD_TYPE) builds.push({ index: BigInt(i), build: buildRecordFromLogRecord(record) });
  });
  let chosen: Array<{ index: bigint; build: BuildRecord }>;
  if (selection === 'all') {
    // The latest record of each built result: what its build currently says.
    const latest = new Map<string, { index: bigint; build: BuildRecord }>();
    for (const entry of builds) if (entry.build.outcome === 'built') latest.set(entry.build.result, entry);
    chosen = [...latest.values()].sort((a, b) => (a.index < b.index ? -1 : 1));
    if (chosen.length === 0) throw new UsageError('NOTHING_TO_RECHECK', 'the log holds no built build record to recheck');
  } else {
    if (selection.length === 0) throw new UsageError('NOTHING_TO_RECHECK', 'name build records to recheck (log indexes) or "all"');
    chosen = [];
    for (const index of new Set(selection)) {
      const entry = builds.find((b) => b.index === index);
      if (!entry) throw new UsageError('NOT_A_BUILD_RECORD', `log index ${index} is not a build record (log size ${checkpoint.checkpoint.size})`);
      if (entry.build.outcome !== 'built') throw new UsageError('NOT_A_BUILD_RECORD', `log index ${index} is a failed build: nothing to compare`);
      chosen.push(entry);
    }
  }
  return { checkpoint, builds, chosen };
}

export async function recheckBuildRecords(log: WitnessLog, selection: RecheckSelection, signer: SignerKey | undefined, options: IngestOptions = {}): Promise<IngestReport> {
  const { checkpoint, builds, chosen } = await resolveRecheckSelection(log, selection);
  const now = formatTime(options.now ?? new Date());
  const comparer = new Comparer(options);
  const report: IngestedBuild[] = [];
  const conflicts: string[] = [];
  const newRecords: LogRecord[] = [];
  const pending: Array<{ index: bigint; build: BuildRecord }> = [];
  for (const { index, build } of chosen) {
    const claim = claimOfRecord(build)!;
    const { verdicts, evidence } = await comparer.compare(claim, [...builds, ...pending]);
    const { recheckOf: _previous, ...rest } = build;
    const record: BuildRecord = { ...rest, verdicts, evidence, recheckOf: index, ingested: now };
    for (const verdict of verdicts) {
      if (verdict.source === 'log' && verdict.status === 'unequal') conflicts.push(`${build.version} ${build.target}: ${verdict.file} differs from ${verdict.detail}`);
    }
    const resultFile = `log index ${index}`;
    if (sameVerdicts(build.verdicts, verdicts)) {
      report.push({ resultFile, record, status: buildStatus(record), alreadyAt: index });
      continue;
    }
    const newIndex = checkpoint.checkpoint.size + BigInt(newRecords.length);
    newRecords.push(buildRecordToLogRecord(record));
    pending.push({ index: newIndex, build: record });
    report.push({ resultFile, record, status: buildStatus(record), index: newIndex });
  }
  if (newRecords.length === 0 || options.dryRun) return { builds: report, conflicts, toolchainAlarms: [], bootstraps: [], agreements: [] };
  if (!signer) throw new UsageError('KEY_REQUIRED', 'a signing key is needed to append build records');
  const appended = await log.append(newRecords, signer, {
    summary: `${newRecords.length} build ${newRecords.length === 1 ? 'record' : 'records'} (recheck)`,
    expectedSize: checkpoint.checkpoint.size,
  });
  return { builds: report, conflicts, toolchainAlarms: [], bootstraps: [], agreements: [], appended: { oldSize: appended.oldSize, newSize: appended.newSize, commit: appended.commit } };
}
