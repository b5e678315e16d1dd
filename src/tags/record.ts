// Tag records (type `tag`, version 1): one per tag state the witness observed. A tag that moves,
// vanishes or comes back gets a new record naming the previous one by log index; nothing is rewritten.
//
//   go-source-witness tag/v1
//   event new|moved|vanished|reappeared
//   ref refs/tags/<name>
//   object <oid>                 what the ref points at (commit, or tag object if annotated)   } absent
//   object-type commit|tag|...                                                                   } for
//   commit <oid> + tree <oid>    the peeled commit and its tree, or                              } vanished
//   target <oid> + target-type   the peeled object when it is not a commit                       }
//   previous <log index>         the previous record of this ref (not for "new")
//   repository <url>             where the repository was read from
//   first-seen <RFC 3339 UTC>    when the witness first saw this state
import { FormatError } from '../errors.js';
import { OBJECT_ID, tagRefProblem } from '../gitsrc/refname.js';
import type { ObjectType } from '../gitsrc/tags.js';
import { type LogRecord, type RecordField } from '../log/record.js';
import { formatTime } from '../infra/time.js';

export const TAG_RECORD_TYPE = 'tag';
export const TAG_RECORD_VERSION = 1;

export type TagEvent = 'new' | 'moved' | 'vanished' | 'reappeared';

export interface TagPointer {
  readonly object: string;
  readonly objectType: ObjectType;
  /** The peeled object (`object^{}`); equals `object` for a lightweight tag. */
  readonly target: string;
  readonly targetType: ObjectType;
  /** Tree of the target commit. */
  readonly tree?: string;
}

export interface TagRecord {
  readonly event: TagEvent;
  readonly ref: string;
  /** Absent for `vanished`. */
  readonly pointer?: TagPointer;
  readonly previous?: bigint;
  readonly repository: string;
  readonly firstSeen: string;
}

const EVENTS = new Set<TagEvent>(['new', 'moved', 'vanished', 'reappeared']);
const TYPES = new Set<ObjectType>(['commit', 'tag', 'tree', 'blob']);
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

export function tagRecordToLogRecord(tag: TagRecord): LogRecord {
  const fields: RecordField[] = [
    { key: 'event', value: tag.event },
    { key: 'ref', value: tag.ref },
  ];
  if (tag.pointer) {
    const p = tag.pointer;
    fields.push({ key: 'object', value: p.object }, { key: 'object-type', value: p.objectType });
    if (p.targetType === 'commit') {
      fields.push({ key: 'commit', value: p.target });
      if (p.tree) fields.push({ key: 'tree', value: p.tree });
    } else {
      fields.push({ key: 'target', value: p.target }, { key: 'target-type', value: p.targetType });
    }
  }
  if (tag.previous !== undefined) fields.push({ key: 'previous', value: String(tag.previous) });
  fields.push({ key: 'repository', value: tag.repository }, { key: 'first-seen', value: tag.firstSeen });
  const record = { type: TAG_RECORD_TYPE, version: TAG_RECORD_VERSION, fields };
  checkTagRecord(tag);
  return record;
}

function checkTagRecord(tag: TagRecord): void {
  const bad = (why: string): never => {
    throw new FormatError('MALFORMED_TAG_RECORD', `tag record: ${why}`);
  };
  if (!EVENTS.has(tag.event)) bad(`unknown event ${JSON.stringify(tag.event)}`);
  const problem = tagRefProblem(tag.ref);
  if (problem) bad(`ref ${JSON.stringify(tag.ref)} ${problem}`);
  if ((tag.event === 'vanished') !== (tag.pointer === undefined)) bad('object fields must be present exactly when the tag exists');
  if ((tag.event === 'new') !== (tag.previous === undefined)) bad('every event but "new" names its previous record');
  if (tag.previous !== undefined && tag.previous < 0n) bad('negative previous index');
  if (tag.pointer) {
    const p = tag.pointer;
    if (!OBJECT_ID.test(p.object) || !OBJECT_ID.test(p.target)) bad('object ids must be lowercase hex');
    if (!TYPES.has(p.objectType) || !TYPES.has(p.targetType)) bad('unknown object type');
    if (p.objectType !== 'tag' && (p.target !== p.object || p.targetType !== p.objectType)) bad('a lightweight tag peels to itself');
    if (p.targetType === 'tag') bad('a tag must peel to a non-tag object');
    if (p.tree !== undefined && (p.targetType !== 'commit' || !OBJECT_ID.test(p.tree))) bad('tree only for commits');
    if (p.targetType === 'commit' && p.tree === undefined) bad('a commit target needs its tree');
  }
  if (tag.repository === '' || /\s/.test(tag.repository)) bad('repository must be a URL without spaces');
  // Date.parse rolls 02-30 over to 03-02: the time must format back to itself.
  if (!TIME.test(tag.firstSeen) || Number.isNaN(Date.parse(tag.firstSeen)) || formatTime(new Date(tag.firstSeen)) !== tag.firstSeen) {
    bad(`first-seen ${JSON.stringify(tag.firstSeen)} is not an RFC 3339 UTC time`);
  }
}

/**
 * Whether `tag` records `ref` at peeled commit `commit` and (when it recorded a tree) tree `tree`: the tag
 * record a build of that commit may cite (ingest, the builds.txt view and the site all check it).
 */
export function tagRecordNames(tag: TagRecord | undefined, ref: string, commit: string, tree: string): boolean {
  return tag !== undefined && tag.ref === ref && tag.pointer?.target === commit && (tag.pointer.tree === undefined || tag.pointer.tree === tree);
}

/** Parses a `tag/v1` log record strictly: only the canonical field set and order is accepted. */
export function parseTagRecord(record: LogRecord): TagRecord {
  if (record.type !== TAG_RECORD_TYPE || record.version !== TAG_RECORD_VERSION) {
    throw new FormatError('MALFORMED_TAG_RECORD', `not a ${TAG_RECORD_TYPE}/v${TAG_RECORD_VERSION} record`);
  }
  const values = new Map<string, string>();
  for (const { key, value } of record.fields) {
    if (values.has(key)) throw new FormatError('MALFORMED_TAG_RECORD', `tag record: field ${key} repeated`);
    values.set(key, value);
  }
  const get = (key: string) => values.get(key);
  const event = get('event') as TagEvent;
  const objectType = get('object-type') as ObjectType | undefined;
  const commit = get('commit');
  const previous = get('previous');
  if (previous !== undefined && !/^(?:0|[1-9][0-9]{0,18})$/.test(previous)) {
    throw new FormatError('MALFORMED_TAG_RECORD', `tag record: previous ${JSON.stringify(previous)} is not a log index`);
  }
  const tree = get('tree');
  const pointer: TagPointer | undefined =
    get('object') === undefined
      ? undefined
      : {
          object: get('object')!,
          objectType: objectType!,
          target: commit ?? get('target') ?? '',
          targetType: commit !== undefined ? 'commit' : ((get('target-type') ?? '') as ObjectType),
          ...(tree !== undefined ? { tree } : {}),
        };
  const tag: TagRecord = {
    event,
    ref: get('ref') ?? '',
    ...(pointer ? { pointer } : {}),
    ...(previous !== undefined ? { previous: BigInt(previous) } : {}),
    repository: get('repository') ?? '',
    firstSeen: get('first-seen') ?? '',
  };
  // Canonical form only: formatting the parsed record must give back exactly the same fields.
  const canonical = tagRecordToLogRecord(tag).fields;
  if (canonical.length !== record.fields.length || canonical.some((f, i) => f.key !== record.fields[i]!.key || f.value !== record.fields[i]!.value)) {
    throw new FormatError('MALFORMED_TAG_RECORD', 'tag record: fields are not in the canonical set and order');
  }
  return tag;
}
