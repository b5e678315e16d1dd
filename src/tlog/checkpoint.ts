// C2SP tlog-checkpoint (c2sp.org/tlog-checkpoint@v1.0.0): the note text of a signed tree head.
import { FormatError } from '../errors.js';
import { MAX_INT64, decodeBase64, encodeBase64, parseCanonicalUint } from './encoding.js';
import { type Hash, HASH_SIZE } from './merkle.js';
import { type Note, type Verifier, checkNoteText, openNote } from './note.js';

export interface Checkpoint {
  /** Log identity; any non-empty line (may contain spaces: `go.sum database tree`). */
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: Hash;
  /** Optional extension lines, each non-empty, without their newline. */
  readonly extensions: readonly string[];
}

const MAX_CHECKPOINT_TEXT = 1_000_000;

/** Parses checkpoint note text (torchwood ParseCheckpoint rules; Go tlog.ParseTree for the sumdb). */
export function parseCheckpoint(text: string): Checkpoint {
  const bad = (why: string): never => {
    throw new FormatError('MALFORMED_CHECKPOINT', `malformed checkpoint: ${why}`);
  };
  if (text.length > MAX_CHECKPOINT_TEXT) bad('text is too long');
  if (!text.endsWith('\n')) bad('text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) bad('want origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') bad('empty origin line');
  const size = parseCanonicalUint(sizeLine, MAX_INT64, 'MALFORMED_CHECKPOINT', 'tree size');
  const rootHash = decodeBase64(rootLine, 'MALFORMED_CHECKPOINT', 'root hash');
  if (rootHash.length !== HASH_SIZE) bad(`root hash is ${rootHash.length} bytes, want ${HASH_SIZE}`);
  if (extensions.some((line) => line === '')) bad('empty extension line');
  return { origin, size, rootHash, extensions };
}

export function formatCheckpoint(checkpoint: Checkpoint): string {
  const text = [checkpoint.origin, String(checkpoint.size), encodeBase64(checkpoint.rootHash), ...checkpoint.extensions]
    .map((line) => `${line}\n`)
    .join('');
  checkNoteText(text);
  // Round-trip so a checkpoint we write is always one we can read back.
  parseCheckpoint(text);
  return text;
}

export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: Note;
  /** The signed note as received. */
  readonly message: string;
}

/**
 * Opens a signed checkpoint: the note must carry a valid signature from one of `verifiers` and, when
 * `origin` is given, its origin line must equal it (key name and origin may differ, as in the Go sumdb).
 */
export function openCheckpoint(message: string, verifiers: readonly Verifier[], origin?: string): SignedCheckpoint {
  const note = openNote(message, verifiers);
  const checkpoint = parseCheckpoint(note.text);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new FormatError(
      'WRONG_ORIGIN',
      `checkpoint origin ${JSON.stringify(checkpoint.origin)} is not the expected ${JSON.stringify(origin)}`,
    );
  }
  return { checkpoint, note, message };
}
