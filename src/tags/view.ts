// tags.txt, the log's view of its tag records (registered with the log in src/witness-schema.ts): the tags
// the log holds now, in the format of `git show-ref --tags`, so that
// `diff <(git show-ref --tags) witness-log/tags.txt` needs no tool. Folding the tag records checks their
// invariants (a moved, vanished or reappeared tag names its previous record).
import type { RecordFold } from '../log/schema.js';
import { TAG_RECORD_TYPE } from './record.js';
import { type TagState, tagStateFromRecords } from './state.js';

export const TAGS_FILE = 'tags.txt';

export const TAGS_VIEW: RecordFold<TagState> = {
  name: 'tags',
  recordTypes: [TAG_RECORD_TYPE],
  viewFiles: [{ name: TAGS_FILE, always: true, maxBytes: 64 * 1024 * 1024 }],
  fold: (records) => tagStateFromRecords(records),
  views: (tags) => [[TAGS_FILE, tags.toShowRef()]],
};
