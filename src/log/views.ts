// Derived views: files next to the tiles, regenerated from the log's entries on every append that
// affects them, and checked by `witness verify` against the verified entries. They are for people and
// plain tools (`diff <(git show-ref --tags) witness-log/tags.txt`), never trusted by this tool.
import { VerificationError } from '../errors.js';
import { COSIGNED_RECORD_TYPE, cosignedCheckpointPath, noteOfCosignedRecord } from '../cosign/records.js';
import type { LogRecord } from './record.js';
import { TAG_RECORD_TYPE } from '../tags/record.js';
import { tagStateFromRecords } from '../tags/state.js';

export const TAGS_FILE = 'tags.txt';

/** Record types that views are derived from; only these need to be kept when deriving views. */
export const VIEW_RECORD_TYPES: ReadonlySet<string> = new Set([TAG_RECORD_TYPE, COSIGNED_RECORD_TYPE]);

/** Views every log has (others, like cosigned checkpoints, exist once their records do). */
export const VIEW_FILES: readonly string[] = [TAGS_FILE];

/** Whether `file` (relative to the log folder) is a derived view. */
export function isViewFile(file: string): boolean {
  return file === TAGS_FILE || /^cosigned\/[0-9a-f]{64}\/checkpoint$/.test(file);
}

/**
 * Every view's content from the log's records (given with their log indexes; records of other types may
 * be omitted). Throws VerificationError when records break their invariants.
 */
export function deriveViews(records: Iterable<{ index: bigint; record: LogRecord }>): Map<string, string> {
  const all = [...records];
  const views = new Map([[TAGS_FILE, tagStateFromRecords(all).toShowRef()]]);
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
