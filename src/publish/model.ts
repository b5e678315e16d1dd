// What the site shows, derived from the verified entries of a log: tags (the fold of tag records),
// builds (parsed build records, the latest one per release and target), cosigned sumdb heads and
// split-view evidence, and the alarms. Pure: the same entries always give the same model.
import { parseSumdbRecordDetail } from '../rebuild/expected.js';
import { parsePublishedFileDetail } from '../rebuild/published.js';
import { type BuildRecord, type BuildStatus, buildRecordFromLogRecord, buildStatus, BUILD_RECORD_TYPE } from '../rebuild/record.js';
import { FIRST_CLASS_TARGETS, compareGoVersions, formatTarget, isPlannedVersion, parseGoVersion } from '../release/target.js';
import { COSIGNED_RECORD_TYPE, EVIDENCE_RECORD_TYPE, cosignedCheckpointPath, noteOfCosignedRecord } from '../cosign/records.js';
import { TAG_PREFIX } from '../gitsrc/refname.js';
import { type LogRecord, parseRecord, recordValue } from '../log/record.js';
import { decodeBase64 } from '../tlog/encoding.js';
import type { Alarm } from './alarm.js';
import { type IndexedAgreement, type IndexedBootstrap, rootRecords } from './agreements.js';
import { type TagRecord, tagRecordNames } from '../tags/record.js';
import { type PresentTag, type TagState, tagStateFromRecords } from '../tags/state.js';

export interface IndexedBuild {
  readonly index: bigint;
  readonly build: BuildRecord;
  readonly status: BuildStatus;
}

/** What Google published, as a build record's verdicts name it: for the release page beside our values. */
export interface PublishedEvidence {
  /** The module's checksum database record (from the zip's sumdb verdict): number, tree size, root. */
  readonly sumdbRecord?: { readonly id: bigint; readonly treeSize: bigint; readonly root: string; readonly located: boolean; readonly status: string };
  /** Per distpack file name: the published SHA-256 and size (proxy verdicts), or SHA-256 (go.dev verdicts). */
  readonly files: ReadonlyMap<string, { readonly sha256: string; readonly size?: number; readonly source: string; readonly status: string }>;
}

export function publishedEvidence(build: BuildRecord): PublishedEvidence {
  const files = new Map<string, { sha256: string; size?: number; source: string; status: string }>();
  let sumdbRecord: PublishedEvidence['sumdbRecord'];
  for (const verdict of build.verdicts) {
    if (verdict.source === 'sumdb' && verdict.file.endsWith('.zip') && sumdbRecord === undefined) {
      const record = parseSumdbRecordDetail(verdict.detail);
      if (record) sumdbRecord = { ...record, located: verdict.detail.includes('(located by leaf hash)'), status: verdict.status };
    } else if (verdict.source === 'proxy') {
      // .info: the go command re-encodes it, so the verdict names the bytes cmd/distpack writes for it.
      const infoMatch = /as cmd\/distpack writes it\)?:? sha256:([0-9a-f]{64}) size (0|[1-9][0-9]{0,15})/.exec(verdict.detail);
      const file = parsePublishedFileDetail(verdict.detail) ?? (infoMatch ? { sha256: infoMatch[1]!, size: Number(infoMatch[2]) } : undefined);
      if (file) files.set(verdict.file, { ...file, source: 'proxy', status: verdict.status });
    } else if (verdict.source === 'go.dev' && !files.has(verdict.file)) {
      const sha256 = /sha256:([0-9a-f]{64})/.exec(verdict.detail)?.[1];
      if (sha256) files.set(verdict.file, { sha256, source: 'go.dev', status: verdict.status });
    }
  }
  return { ...(sumdbRecord ? { sumdbRecord } : {}), files };
}

export interface CosignedHead {
  readonly index: bigint;
  readonly origin: string;
  readonly size: bigint;
  readonly root: string;
  readonly extensions: readonly string[];
  readonly logSignatures: readonly string[];
  readonly cosignature: string;
  /** Undefined on first use (trust on first use). */
  readonly previousSize?: bigint;
  readonly source: string;
  readonly time: string;
  /** The tlog-witness monitoring path of the latest cosigned note of this origin, in the log folder. */
  readonly path: string;
}

export interface SplitView {
  readonly index: bigint;
  readonly origin: string;
  readonly reason: string;
  /** The notes, decoded from base64 (text as stored; shown escaped). */
  readonly cosignedNote: string;
  readonly presentedNote: string;
  readonly proof: readonly string[];
  readonly tiles: readonly string[];
  readonly source: string;
  readonly time: string;
}

export type { Alarm, AlarmKind } from './alarm.js';

export interface ReleaseRow {
  readonly version: string;
  /** The present tag refs/tags/<version>, if any. */
  readonly tag?: PresentTag;
  /** Every build record of this version, in log order. */
  readonly builds: readonly IndexedBuild[];
}

export interface SiteModel {
  readonly origin: string;
  readonly size: bigint;
  readonly recordTypes: Readonly<Record<string, number>>;
  readonly tags: TagState;
  readonly builds: readonly IndexedBuild[];
  /** Rows of the verdict table, newest version first. */
  readonly releases: readonly ReleaseRow[];
  /** Columns of the verdict table. */
  readonly targets: readonly string[];
  readonly cosigned: readonly CosignedHead[];
  /** The latest cosigned head of each origin, by origin. */
  readonly latestCosigned: readonly CosignedHead[];
  readonly evidence: readonly SplitView[];
  /** Agreement records of independent bootstrap roots and bootstrap records (agreements.ts). */
  readonly agreements: readonly IndexedAgreement[];
  readonly bootstraps: readonly IndexedBootstrap[];
  readonly alarms: readonly Alarm[];
  /** The time of the newest record that has one (RFC 3339 UTC), if any. */
  readonly newestRecordTime?: string;
  /** Time of each record that has one, by log index. */
  readonly recordTimes: ReadonlyMap<bigint, string>;
}

/** The tag name of a ref (refs/tags/<name>). */
export function tagName(ref: string): string {
  return ref.startsWith(TAG_PREFIX) ? ref.slice(TAG_PREFIX.length) : ref;
}

/** The version string of a release page, or undefined when `name` is not a Go release version. */
export function releaseVersion(name: string): string | undefined {
  return parseGoVersion(name) ? name : undefined;
}

/** Latest build of a version and target: the one with the highest log index. */
export function latestBuild(row: ReleaseRow, target: string): IndexedBuild | undefined {
  let latest: IndexedBuild | undefined;
  for (const build of row.builds) if (build.build.target === target) latest = build;
  return latest;
}

function describeTagEvent(record: TagRecord): string {
  const pointer = record.pointer;
  if (!pointer) return 'vanished';
  return `${pointer.objectType} ${pointer.object}${pointer.target !== pointer.object ? ` -> ${pointer.targetType} ${pointer.target}` : ''}`;
}

/** Sorted file list of a built record: what two builds of the same inputs must agree on. */
function fileSignature(build: BuildRecord): string {
  return (build.files ?? [])
    .map((file) => `${file.name} ${file.size} ${file.sha256}`)
    .sort()
    .join('\n');
}

export function buildSiteModel(origin: string, entries: readonly Uint8Array[]): SiteModel {
  const records: Array<{ index: bigint; record: LogRecord }> = entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) }));
  // Counted in a Map: a record type is untrusted text ("constructor" must not meet Object.prototype).
  const recordTypeCounts = new Map<string, number>();
  for (const { record } of records) recordTypeCounts.set(record.type, (recordTypeCounts.get(record.type) ?? 0) + 1);
  const recordTypes: Record<string, number> = Object.fromEntries(recordTypeCounts);
  const alarms: Alarm[] = [];
  const recordTimes = new Map<bigint, string>();

  // Tags: the fold checks the invariants again (the log verified, so it cannot fail here).
  const tags = tagStateFromRecords(records);
  const tagRecordAt = new Map(tags.history.map((entry) => [entry.index, entry]));
  for (const entry of tags.history) {
    recordTimes.set(entry.index, entry.record.firstSeen);
    const { record } = entry;
    if (record.event !== 'moved' && record.event !== 'vanished') continue;
    const previous = record.previous === undefined ? undefined : tagRecordAt.get(record.previous);
    const before = previous ? describeTagEvent(previous.record) : 'unknown';
    const name = tagName(record.ref);
    alarms.push({
      kind: record.event === 'moved' ? 'tag-moved' : 'tag-vanished',
      index: entry.index,
      related: record.previous === undefined ? [] : [record.previous],
      title: record.event === 'moved' ? `Tag ${name} moved` : `Tag ${name} vanished`,
      detail:
        record.event === 'moved'
          ? `was ${before} (log index ${record.previous}), now ${describeTagEvent(record)}; seen ${record.firstSeen} in ${record.repository}`
          : `was ${before} (log index ${record.previous}); gone from ${record.repository} as of ${record.firstSeen}`,
      time: record.firstSeen,
      ...(releaseVersion(name) ? { version: name } : {}),
    });
  }

  // Builds.
  const builds: IndexedBuild[] = [];
  for (const { index, record } of records) {
    if (record.type !== BUILD_RECORD_TYPE) continue;
    let build: BuildRecord;
    try {
      build = buildRecordFromLogRecord(record);
    } catch (error) {
      alarms.push(malformed(index, record, error));
      continue;
    }
    recordTimes.set(index, build.ingested);
    const status = buildStatus(build);
    builds.push({ index, build, status });
    const where = `${build.version} ${build.target}${build.env.length ? ` (${build.env.join(' ')})` : ''}`;
    if (status === 'unequal') {
      const unequal = build.verdicts.filter((v) => v.status === 'unequal');
      const why = [
        ...(build.sourceCheck && !build.sourceCheck.equal ? [`the source tarball differs from the tag's tree (${build.sourceCheck.problems} problems)`] : []),
        ...unequal.map((v) => `${v.file} differs from ${v.source}: ${v.detail}`),
      ];
      alarms.push({
        kind: 'build-unequal',
        index,
        related: [],
        title: `Build of ${where} is not equal to the published toolchain`,
        detail: why.join('; '),
        time: build.ingested,
        version: build.version,
        target: build.target,
      });
    }
    // The tag record a build cites must be a tag record of this version naming the same commit and tree.
    const cited = tagRecordAt.get(build.tagIndex);
    const citedPointer = cited?.record.pointer;
    if (!tagRecordNames(cited?.record, `${TAG_PREFIX}${build.version}`, build.commit, build.tree)) {
      alarms.push({
        kind: 'build-tag-mismatch',
        index,
        related: [build.tagIndex],
        title: `Build of ${where} does not match the tag record it cites`,
        detail: cited
          ? `log index ${build.tagIndex} is ${cited.record.ref} at ${citedPointer ? `${citedPointer.target} tree ${citedPointer.tree ?? '?'}` : 'nothing (vanished)'}; the build used commit ${build.commit} tree ${build.tree}`
          : `log index ${build.tagIndex} is not a tag record; the build used commit ${build.commit} tree ${build.tree}`,
        time: build.ingested,
        version: build.version,
        target: build.target,
      });
    }
  }
  // Reproducibility: every built record of the same version, target and environment must list the same files.
  const groups = new Map<string, IndexedBuild[]>();
  for (const item of builds) {
    if (item.build.outcome !== 'built') continue;
    const key = `${item.build.version} ${item.build.target} ${item.build.env.join(',')}`;
    const group = groups.get(key) ?? [];
    const first = group[0];
    if (first && fileSignature(first.build) !== fileSignature(item.build)) {
      const differing = group.filter((other) => fileSignature(other.build) !== fileSignature(item.build)).map((other) => other.index);
      const mine = new Map((item.build.files ?? []).map((f) => [f.name, f.sha256]));
      const theirs = new Map((first.build.files ?? []).map((f) => [f.name, f.sha256]));
      const names = [...new Set([...mine.keys(), ...theirs.keys()])].sort().filter((name) => mine.get(name) !== theirs.get(name));
      const b = item.build;
      alarms.push({
        kind: 'build-not-reproducible',
        index: item.index,
        related: differing,
        title: `Builds of ${b.version} ${b.target}${b.env.length ? ` (${b.env.join(' ')})` : ''} differ: not reproducible`,
        detail: `the build at log index ${item.index} (${b.builder}) and the build at log index ${first.index} (${first.build.builder}) disagree on ${names.join(', ')}`,
        time: b.ingested,
        version: b.version,
        target: b.target,
      });
    }
    group.push(item);
    groups.set(key, group);
  }

  // Independent bootstrap roots: agreements, bootstrap toolchains.
  const roots = rootRecords(records, malformed);
  alarms.push(...roots.alarms);
  for (const { index, agreement } of roots.agreements) recordTimes.set(index, agreement.ingested);
  for (const { index, bootstrap } of roots.bootstraps) recordTimes.set(index, bootstrap.ingested);

  // Cosigned heads and evidence.
  const cosigned: CosignedHead[] = [];
  const evidence: SplitView[] = [];
  for (const { index, record } of records) {
    if (record.type === COSIGNED_RECORD_TYPE) {
      try {
        const head = cosignedHead(index, record);
        cosigned.push(head);
        recordTimes.set(index, head.time);
      } catch (error) {
        alarms.push(malformed(index, record, error));
      }
    } else if (record.type === EVIDENCE_RECORD_TYPE) {
      const view = splitView(index, record);
      evidence.push(view);
      if (TIME.test(view.time)) recordTimes.set(index, view.time);
      alarms.push({
        kind: 'split-view',
        index,
        related: [],
        title: `Split view of ${view.origin}`,
        detail: `${view.reason} (presented by ${view.source})`,
        ...(TIME.test(view.time) ? { time: view.time } : {}),
      });
    }
  }
  const latestByOrigin = new Map<string, CosignedHead>();
  for (const head of cosigned) latestByOrigin.set(head.origin, head);
  const latestCosigned = [...latestByOrigin.values()].sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));

  // The verdict table: planned releases (go1.21.0 on, no pre-releases) that are tagged, and every version
  // that has a build; columns: the first-class ports and every target built.
  const versions = new Set<string>();
  for (const { record } of tags.present.values()) {
    const version = parseGoVersion(tagName(record.ref));
    if (version && isPlannedVersion(version)) versions.add(version.text);
  }
  for (const { build } of builds) versions.add(build.version);
  const releases: ReleaseRow[] = [...versions]
    .map((version) => parseGoVersion(version)!)
    .sort((a, b) => compareGoVersions(b, a))
    .map((version) => {
      const tag = tags.present.get(`${TAG_PREFIX}${version.text}`);
      return { version: version.text, ...(tag ? { tag } : {}), builds: builds.filter((b) => b.build.version === version.text) };
    });
  const targets = [...new Set([...FIRST_CLASS_TARGETS.map(formatTarget), ...builds.map((b) => b.build.target)])].sort();

  alarms.sort((a, b) => (a.index < b.index ? 1 : a.index > b.index ? -1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  let newestRecordTime: string | undefined;
  for (const time of recordTimes.values()) if (newestRecordTime === undefined || time > newestRecordTime) newestRecordTime = time;
  return {
    origin,
    size: BigInt(entries.length),
    recordTypes,
    tags,
    builds,
    releases,
    targets,
    cosigned,
    latestCosigned,
    evidence,
    agreements: roots.agreements,
    bootstraps: roots.bootstraps,
    alarms,
    ...(newestRecordTime !== undefined ? { newestRecordTime } : {}),
    recordTimes,
  };
}

const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

function malformed(index: bigint, record: LogRecord, error: unknown): Alarm {
  return {
    kind: 'malformed-record',
    index,
    related: [],
    title: `Malformed ${record.type}/v${record.version} record`,
    detail: error instanceof Error ? error.message : String(error),
  };
}

function cosignedHead(index: bigint, record: LogRecord): CosignedHead {
  const { origin } = noteOfCosignedRecord(record); // checks the record describes a well-formed note
  const values = (key: string) => record.fields.filter((f) => f.key === key).map((f) => f.value);
  const previous = recordValue(record, 'previous-size');
  const time = recordValue(record, 'time') ?? '';
  return {
    index,
    origin,
    size: BigInt(recordValue(record, 'size') ?? '0'),
    root: recordValue(record, 'root') ?? '',
    extensions: values('extension'),
    logSignatures: values('log-signature'),
    cosignature: recordValue(record, 'cosignature') ?? '',
    ...(previous !== undefined && /^[0-9]{1,20}$/.test(previous) ? { previousSize: BigInt(previous) } : {}),
    source: recordValue(record, 'source') ?? '',
    time,
    path: cosignedCheckpointPath(origin),
  };
}

function splitView(index: bigint, record: LogRecord): SplitView {
  const values = (key: string) => record.fields.filter((f) => f.key === key).map((f) => f.value);
  const decode = (value: string | undefined): string => {
    if (value === undefined) return '';
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(decodeBase64(value));
    } catch {
      return `(not base64 UTF-8 text: ${value})`;
    }
  };
  return {
    index,
    origin: recordValue(record, 'origin') ?? '(no origin)',
    reason: recordValue(record, 'reason') ?? '(no reason)',
    cosignedNote: decode(recordValue(record, 'cosigned-note')),
    presentedNote: decode(recordValue(record, 'presented-note')),
    proof: values('proof'),
    tiles: values('tile'),
    source: recordValue(record, 'source') ?? '',
    time: recordValue(record, 'time') ?? '',
  };
}
