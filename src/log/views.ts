// Derived views: files next to the tiles, regenerated from the log's entries on every append that
// affects them, and checked by `witness verify` against the verified entries. They are for people and
// plain tools (`diff <(git show-ref --tags) witness-log/tags.txt`), never trusted by this tool.
import type { LogRecord } from './record.js';
import { TAG_RECORD_TYPE } from '../tags/record.js';
import { tagStateFromRecords } from '../tags/state.js';

export const TAGS_FILE = 'tags.txt';

/** Record types that views are derived from; only these need to be kept when deriving views. */
export const VIEW_RECORD_TYPES: ReadonlySet<string> = new Set([TAG_RECORD_TYPE]);

export const VIEW_FILES: readonly string[] = [TAGS_FILE];

/**
 * Every view's content from the log's records (given with their log indexes; records of other types may
 * be omitted). Throws VerificationError when records break their invariants.
 */
export function deriveViews(records: Iterable<{ index: bigint; record: LogRecord }>): Map<string, string> {
  const tags = tagStateFromRecords(records);
  return new Map([[TAGS_FILE, tags.toShowRef()]]);
}
