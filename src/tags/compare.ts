// `witness compare`: a developer's tags (from their checkout, or `git show-ref --tags` text) against the
// witness log's tags. The log is verified first (pinned key, every entry against the signed root); its
// tags.txt is only checked against the entries, never used.
import { VerificationError, WitnessError } from '../errors.js';
import { type ShowRefTag, compareRefs } from '../gitsrc/show-ref.js';
import { type RejectedRef, readRepoTags } from '../gitsrc/tags.js';
import { LogReader } from '../log/reader.js';
import { parseRecord } from '../log/record.js';
import type { LogSource } from '../log/source.js';
import { CHECKPOINT_FILE } from '../log/layout.js';
import { TAGS_FILE } from './view.js';
import { type TagState, tagStateFromRecords } from './state.js';

export interface WitnessTag {
  readonly object: string;
  readonly target: string;
  readonly firstSeen: string;
  readonly index: bigint;
}

export interface TagDifference {
  readonly ref: string;
  readonly yours: ShowRefTag;
  readonly witness: WitnessTag;
}

export interface TagComparison {
  readonly equal: number;
  readonly differ: TagDifference[];
  /** Tags only the developer has; `vanished` when the witness saw the tag and then saw it disappear. */
  readonly onlyYours: Array<{ ref: string; yours: ShowRefTag; vanished?: { firstSeen: string; index: bigint } }>;
  readonly onlyWitness: Array<{ ref: string; witness: WitnessTag }>;
}

/** Tags are equal when they point at the same object and, where the developer's side knows it, peel to the same object. */
export function compareTags(local: ReadonlyMap<string, ShowRefTag>, state: TagState): TagComparison {
  let equal = 0;
  const differ: TagDifference[] = [];
  const onlyYours: TagComparison['onlyYours'] = [];
  const onlyWitness: TagComparison['onlyWitness'] = [];
  for (const [ref, yours] of local) {
    const present = state.present.get(ref);
    if (!present) {
      const latest = state.latest.get(ref);
      onlyYours.push({ ref, yours, ...(latest ? { vanished: { firstSeen: latest.record.firstSeen, index: latest.index } } : {}) });
      continue;
    }
    const witness: WitnessTag = {
      object: present.pointer.object,
      target: present.pointer.target,
      firstSeen: present.record.firstSeen,
      index: present.index,
    };
    if (yours.object === witness.object && (yours.peeled === undefined || yours.peeled === witness.target)) equal++;
    else differ.push({ ref, yours, witness });
  }
  for (const [ref, present] of state.present) {
    if (local.has(ref)) continue;
    onlyWitness.push({
      ref,
      witness: { object: present.pointer.object, target: present.pointer.target, firstSeen: present.record.firstSeen, index: present.index },
    });
  }
  const byRef = (a: { ref: string }, b: { ref: string }) => compareRefs(a.ref, b.ref);
  return { equal, differ: differ.sort(byRef), onlyYours: onlyYours.sort(byRef), onlyWitness: onlyWitness.sort(byRef) };
}

export interface VerifiedTagLog {
  readonly origin: string;
  readonly location: string;
  readonly verifierKey: string;
  readonly size: bigint;
  readonly state: TagState;
}

/**
 * Reads a witness log (folder, URL or LogSource) and returns its tag state after verifying: the
 * checkpoint against the pinned key, every entry against the signed root, the record invariants, and
 * that tags.txt says exactly what the entries say.
 */
export async function readVerifiedTagLog(location: string | LogSource, verifierKey: string): Promise<VerifiedTagLog> {
  const reader = await LogReader.open(location, { verifierKey });
  // A published log may be updated while we read it (checkpoint, bundles and tags.txt are separate
  // requests). If a check fails and the checkpoint changed meanwhile, read again; a log that fails
  // against one unchanged checkpoint is refused.
  for (let attempt = 1; ; attempt++) {
    const before = await reader.source.read(CHECKPOINT_FILE);
    try {
      return await readTagLogOnce(reader);
    } catch (error) {
      const after = await reader.source.read(CHECKPOINT_FILE).catch(() => undefined);
      const changed = before !== undefined && after !== undefined && !Buffer.from(before).equals(after);
      if (!changed || attempt === 3 || !(error instanceof WitnessError)) throw error;
    }
  }
}

async function readTagLogOnce(reader: LogReader): Promise<VerifiedTagLog> {
  const { checkpoint, entries } = await reader.readVerifiedEntries();
  const state = tagStateFromRecords(
    entries.map((entry, i) => {
      try {
        return { index: BigInt(i), record: parseRecord(entry) };
      } catch (error) {
        throw new VerificationError('MALFORMED_RECORD', `log index ${i}: ${(error as Error).message}`, { cause: error });
      }
    }),
  );
  const tagsTxt = await reader.source.read(TAGS_FILE);
  if (!tagsTxt) throw new VerificationError('VIEW_MISSING', `${TAGS_FILE} is missing at ${reader.source.location}`);
  if (!Buffer.from(tagsTxt).equals(Buffer.from(state.toShowRef(), 'utf8'))) {
    throw new VerificationError(
      'VIEW_MISMATCH',
      `${TAGS_FILE} at ${reader.source.location} does not match the log's verified entries: it was modified (or an append to this folder was interrupted; run witness verify)`,
    );
  }
  return { origin: reader.origin, location: reader.source.location, verifierKey: reader.verifierKey.text, size: checkpoint.checkpoint.size, state };
}

/**
 * The developer's side from a repository: every tag with its object and peeled object, and the tags
 * whose names the witness would never record (reported, not compared).
 */
export async function localTagsFromRepository(repository: string): Promise<{ tags: Map<string, ShowRefTag>; rejected: RejectedRef[] }> {
  const { tags, rejected } = await readRepoTags(repository, { trees: false });
  return {
    tags: new Map(tags.map((tag) => [tag.ref, { ref: tag.ref, object: tag.object, ...(tag.objectType === 'tag' ? { peeled: tag.target } : {}) }])),
    rejected,
  };
}
