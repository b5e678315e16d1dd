// Derived views: files next to the tiles, regenerated from the log's entries on every append that
// affects them, and checked by `witness verify` against the verified entries. They are for people and
// plain tools (`diff <(git show-ref --tags) witness-log/tags.txt`), never trusted by this tool.
import { VerificationError } from '../errors.js';
import { COSIGNED_RECORD_TYPE, cosignedCheckpointPath, noteOfCosignedRecord } from '../cosign/records.js';
import type { LogRecord } from './record.js';
import { TAG_RECORD_TYPE, tagRecordNames } from '../tags/record.js';
import { type TagState, tagStateFromRecords } from '../tags/state.js';
import { BUILD_RECORD_TYPE, type BuildRecord, buildRecordFromLogRecord, buildStatus, moduleZipHash, sameBuild } from '../build/record.js';
import { TOOLCHAIN_ALARM_RECORD_TYPE, TOOLCHAIN_RECORD_TYPE } from '../toolchains/record.js';
import { toolchainLedgerFromRecords, toolchainsView } from '../toolchains/ledger.js';
import { BOOTSTRAP_RECORD_TYPE, checkBootstrapRecords } from '../build/bootstrap-record.js';
import { AGREEMENT_RECORD_TYPE, checkAgreementRecords } from '../build/agreement.js';

export const TAGS_FILE = 'tags.txt';
/** The readable index of builds: one line per build record, in log order (exists once there is one). */
export const BUILDS_FILE = 'builds.txt';
/** The readable index of toolchain records and their alarms (src/toolchains/ledger.ts; exists once there is one). */
export const TOOLCHAINS_FILE = 'toolchains.txt';

/** Record types that views are derived from; only these need to be kept when deriving views. */
export const VIEW_RECORD_TYPES: ReadonlySet<string> = new Set([
  TAG_RECORD_TYPE,
  COSIGNED_RECORD_TYPE,
  BUILD_RECORD_TYPE,
  TOOLCHAIN_RECORD_TYPE,
  TOOLCHAIN_ALARM_RECORD_TYPE,
  BOOTSTRAP_RECORD_TYPE,
  AGREEMENT_RECORD_TYPE,
]);

/** Views every log has (others, like cosigned checkpoints, exist once their records do). */
export const VIEW_FILES: readonly string[] = [TAGS_FILE];

/** Whether `file` (relative to the log folder) is a derived view. */
export function isViewFile(file: string): boolean {
  return file === TAGS_FILE || file === BUILDS_FILE || file === TOOLCHAINS_FILE || /^cosigned\/[0-9a-f]{64}\/checkpoint$/.test(file);
}

/**
 * Every view's content from the log's records (given with their log indexes; records of other types may
 * be omitted). Throws VerificationError when records break their invariants.
 */
export function deriveViews(records: Iterable<{ index: bigint; record: LogRecord }>): Map<string, string> {
  const all = [...records];
  const tags = tagStateFromRecords(all);
  const views = new Map([[TAGS_FILE, tags.toShowRef()]]);
  const builds = buildsView(all, tags);
  if (builds !== undefined) views.set(BUILDS_FILE, builds);
  // Folding toolchain records checks them (one record per sumdb record number, alarms name earlier records).
  const toolchains = toolchainsView(toolchainLedgerFromRecords(all));
  if (toolchains !== undefined) views.set(TOOLCHAINS_FILE, toolchains);
  // No view of their own: bootstrap records must cite their tag records and fold by branch head, and
  // agreement records must say what the build records they name say.
  checkBootstrapRecords(all, new Map(tags.history.map((entry) => [entry.index, entry.record])));
  checkAgreementRecords(all);
  // The latest cosigned checkpoint of each origin, at the tlog-witness monitoring path.
  for (const { index, record } of all) {
    if (record.type !== COSIGNED_RECORD_TYPE) continue;
    try {
      const { origin, note } = noteOfCosignedRecord(record);
      views.set(cosignedCheckpointPath(origin), note);
    } catch (error) {
      throw new VerificationError('COSIGNED_RECORD_INVALID', `log index ${index}: ${(error as Error).message}`, { cause: error });
    }
  }
  return views;
}

/**
 * builds.txt: `<log index> <version> <target> [<env>...] <status> <module zip h1 | failure phase>` per build
 * record. Parsing each record checks its format, and that its tag-index names a tag record of the same
 * release tag with the same commit and tree (the tag the build was checked against).
 */
function buildsView(all: ReadonlyArray<{ index: bigint; record: LogRecord }>, tags: TagState): string | undefined {
  const lines: string[] = [];
  const tagRecords = new Map(tags.history.map((entry) => [entry.index, entry.record]));
  const builds = new Map<bigint, BuildRecord>();
  for (const { index, record } of all) {
    if (record.type !== BUILD_RECORD_TYPE) continue;
    let build;
    try {
      build = buildRecordFromLogRecord(record);
    } catch (error) {
      throw new VerificationError('BUILD_RECORD_INVALID', `log index ${index}: ${(error as Error).message}`, { cause: error });
    }
    const tag = tagRecords.get(build.tagIndex);
    if (build.tagIndex >= index || !tagRecordNames(tag, `refs/tags/${build.version}`, build.commit, build.tree)) {
      throw new VerificationError('BUILD_RECORD_INVALID', `log index ${index}: build of ${build.version} names tag record ${build.tagIndex}, which is not an earlier record of refs/tags/${build.version} at commit ${build.commit}`);
    }
    // A re-evaluation (`witness ingest --recheck`) must cite an earlier build record of the very same build.
    if (build.recheckOf !== undefined) {
      const cited = builds.get(build.recheckOf);
      if (build.recheckOf >= index || !cited || !sameBuild(cited, build)) {
        throw new VerificationError('BUILD_RECORD_INVALID', `log index ${index}: recheck-of ${build.recheckOf} is not an earlier build record of the same build`);
      }
    }
    builds.set(index, build);
    const status = buildStatus(build);
    lines.push([String(index), build.version, build.target, ...build.env, status, status === 'failed' ? `failed:${build.failure!.split(':')[0]}` : moduleZipHash(build)!].join(' '));
  }
  if (lines.length === 0) return undefined;
  return `# go-source-witness builds: <log index> <version> <target> [<env>] <equal|unequal|unchecked|failed> <module zip h1>\n${lines.join('\n')}\n`;
}
