// The witness's view of a repository's tags: the fold of all tag records in log order. Folding checks
// the record-level invariants (`witness verify` relies on it): a "new" tag was never seen; "moved" and
// "vanished" name the current record of a present tag; "reappeared" names the record of a vanished one.
import { VerificationError } from '../errors.js';
import { formatShowRef } from '../gitsrc/show-ref.js';
import type { LogRecord } from '../log/record.js';
import { TAG_RECORD_TYPE, type TagPointer, type TagRecord, parseTagRecord } from './record.js';

export interface TagEntry {
  readonly index: bigint;
  readonly record: TagRecord;
}

/** A present tag: its latest record, which carries a pointer. */
export interface PresentTag extends TagEntry {
  readonly pointer: TagPointer;
}

export class TagState {
  /** Tags present now, by ref. */
  readonly present = new Map<string, PresentTag>();
  /** The latest record of every ref ever seen (present or vanished). */
  readonly latest = new Map<string, TagEntry>();
  /** Every tag record, in log order. */
  readonly history: TagEntry[] = [];

  apply(index: bigint, record: TagRecord): void {
    const fail = (why: string): never => {
      throw new VerificationError('TAG_RECORD_INVALID', `log index ${index}: tag record for ${record.ref} ${why}`);
    };
    const latest = this.latest.get(record.ref);
    const present = this.present.get(record.ref);
    switch (record.event) {
      case 'new':
        if (latest) fail(`says "new" but the tag was recorded before at log index ${latest.index}`);
        break;
      case 'moved':
        if (!present) fail('says "moved" but the tag is not present');
        if (record.previous !== present!.index) fail(`names previous ${record.previous}, want ${present!.index}`);
        if (record.pointer!.object === present!.pointer.object) fail('says "moved" but points at the same object');
        break;
      case 'vanished':
        if (!present) fail('says "vanished" but the tag is not present');
        if (record.previous !== present!.index) fail(`names previous ${record.previous}, want ${present!.index}`);
        break;
      case 'reappeared':
        if (!latest || present) fail('says "reappeared" but the tag had not vanished');
        if (record.previous !== latest!.index) fail(`names previous ${record.previous}, want ${latest!.index}`);
        break;
    }
    const entry = { index, record };
    this.history.push(entry);
    this.latest.set(record.ref, entry);
    if (record.pointer) this.present.set(record.ref, { index, record, pointer: record.pointer });
    else this.present.delete(record.ref);
  }

  /** The current tag map in the exact format of `git show-ref --tags` (the log's tags.txt). */
  toShowRef(): string {
    return formatShowRef([...this.present.values()].map(({ record, pointer }) => ({ ref: record.ref, object: pointer.object })));
  }
}

/** Folds the tag records among `records` (other types are skipped). */
export function tagStateFromRecords(records: Iterable<{ index: bigint; record: LogRecord }>): TagState {
  const state = new TagState();
  for (const { index, record } of records) {
    if (record.type !== TAG_RECORD_TYPE) continue;
    let tag: TagRecord;
    try {
      tag = parseTagRecord(record);
    } catch (error) {
      throw new VerificationError('TAG_RECORD_INVALID', `log index ${index}: ${(error as Error).message}`, { cause: error });
    }
    state.apply(index, tag);
  }
  return state;
}
