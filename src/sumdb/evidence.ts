// Evidence that the checksum database presented two signed tree heads that cannot both be true: the two
// heads (with their signed notes when known), the RFC 6962 consistency proof computed from the newer
// tree's tiles, and those tiles, all authenticated against the newer signed root. Self-contained: anyone
// can check it offline (RFC 9162 §2.1.4.2) without asking the database again.
import { VerificationError } from '../errors.js';
import type { Checkpoint, SignedCheckpoint } from '../tlog/checkpoint.js';
import { encodeBase64 } from '../tlog/encoding.js';

/** A tree head as given to the client: a bare checkpoint or a signed one (its note is then evidence). */
export type TreeHead = Checkpoint | SignedCheckpoint;

/** Evidence that two signed tree heads of one log cannot both be true (a fork). JSON-ready. */
export interface InconsistencyEvidence {
  readonly origin: string;
  readonly old: EvidenceHead;
  readonly next: EvidenceHead;
  /**
   * The RFC 6962 consistency proof old -> next computed from `tiles`, base64, leaf side first. Empty when
   * the sizes are equal (then the roots differ) or old is empty (then old's root is not the empty hash).
   */
  readonly proof: readonly string[];
  /** The hash tiles of tree `next` the proof was computed from, all authenticated against next's root. */
  readonly tiles: ReadonlyArray<{ readonly path: string; readonly data: string }>;
}

export interface EvidenceHead {
  readonly size: string;
  readonly rootHash: string;
  /** The signed note, when the head was given as a SignedCheckpoint. */
  readonly note?: string;
}

/** VerificationError INCONSISTENT_TREE: the database presented two heads that are not one history. */
export class InconsistentTreeError extends VerificationError {
  constructor(
    message: string,
    readonly evidence: InconsistencyEvidence,
    options?: { cause?: unknown },
  ) {
    super('INCONSISTENT_TREE', message, options);
  }
}

/** The checkpoint of a tree head, and its signed note when it has one. */
export function headOf(head: TreeHead): { checkpoint: Checkpoint; note?: string } {
  return 'checkpoint' in head ? { checkpoint: head.checkpoint, note: head.message } : { checkpoint: head };
}

export function evidenceHead(head: TreeHead): EvidenceHead {
  const { checkpoint, note } = headOf(head);
  return { size: String(checkpoint.size), rootHash: encodeBase64(checkpoint.rootHash), ...(note === undefined ? {} : { note }) };
}
