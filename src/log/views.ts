// Derived views: files next to the tiles, regenerated from the log's entries on every append that
// affects them, and checked by `witness verify` against the verified entries. They are for people and
// plain tools (`diff <(git show-ref --tags) witness-log/tags.txt`), never trusted by this tool. Which
// views exist and what they say is the installed LogSchema's business (src/log/schema.ts); this module is
// what the rest of src/log/ asks.
import { type IndexedRecord, logSchema } from './schema.js';

/** Record types that views are derived from; only these need to be kept when deriving views. */
export const VIEW_RECORD_TYPES: { has(type: string): boolean } = {
  has: (type) => logSchema().recordTypes.has(type),
};

/** Views every log has (others, like cosigned checkpoints, exist once their records do). */
export function requiredViewFiles(): readonly string[] {
  return logSchema().requiredViewFiles;
}

/** Whether `file` (relative to the log folder) is a derived view. */
export function isViewFile(file: string): boolean {
  return logSchema().isViewFile(file);
}

/**
 * Every view's content from the log's records (given with their log indexes; records of other types may
 * be omitted). Throws VerificationError when records break their invariants.
 */
export function deriveViews(records: Iterable<IndexedRecord>): Map<string, string> {
  return logSchema().deriveViews(records);
}
