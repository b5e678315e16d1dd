// The rules a log's git history must keep, as `witness verify` checks them (README "Verify the log
// itself"): every checkpoint ever committed is signed by the log's key and is a prefix (consistent) of the
// current tree; along every parent edge, merges included, the checkpoint never shrinks and is never
// deleted; a signed checkpoint of this log quoted in any commit message is consistent too, or it is a
// fork. Pure (no I/O, no node built-ins): src/log/verify.ts feeds it commits read with the git binary,
// the published verify page (src/publish/browser/history.ts) commits read with isomorphic-git from the
// site's copy of the objects.
import { FormatError, VerificationError, WitnessError } from '../errors.js';
import { type SignedCheckpoint, openCheckpoint, parseCheckpoint } from '../tlog/checkpoint.js';
import type { Hash } from '../tlog/merkle.js';
import type { Verifier } from '../tlog/note.js';

/** One commit as the history walk needs it. */
export interface HistoryCommit {
  readonly commit: string;
  /** Its parents as the walk sees them (none for a root commit or a shallow boundary). */
  readonly parents: readonly string[];
  /** The text of the log's checkpoint file in this commit, if it has one. */
  readonly checkpoint: string | undefined;
  /** The commit message (the raw commit object after its headers). */
  readonly message: string;
}

export interface HistoryReportCheckpoints {
  /** Commits that changed the checkpoint, parents first. */
  readonly checkpoints: Array<{ commit: string; size: bigint }>;
  /** The checkpoint text of the last commit, undefined when it has none. */
  readonly last: string | undefined;
}

const textDecoder = new TextDecoder('utf-8');

/** The message of a raw commit object (after the headers), decoded as UTF-8 with replacement characters. */
export function commitMessage(commitObject: Uint8Array | undefined): string {
  const text = commitObject ? textDecoder.decode(commitObject) : '';
  const end = text.indexOf('\n\n');
  return end < 0 ? '' : text.slice(end + 2);
}

/** Re-throws a WitnessError with `where` in front (a FormatError stays one), anything else as is. */
export function wrapError(error: unknown, where: string): never {
  if (error instanceof WitnessError) {
    const Kind = error instanceof FormatError ? FormatError : VerificationError;
    throw new Kind(error.code, `${where}: ${error.message}`, { cause: error });
  }
  throw error;
}

/**
 * A checker of signed checkpoints of this log against the current tree (size `currentSize`): the note must
 * be signed by `verifier` with origin `origin`, not larger than the current size, and consistent with the
 * current tree: `inconsistency(size, root)` says why not (text for the message), or undefined when it is.
 * Results are cached by note text. Errors name `where`.
 */
export function signedCheckpointChecker(
  verifier: Verifier,
  origin: string,
  currentSize: bigint,
  inconsistency: (size: bigint, rootHash: Hash, opened: SignedCheckpoint) => string | undefined,
): (note: string, where: string) => bigint {
  const checked = new Map<string, bigint>();
  return (note, where) => {
    const known = checked.get(note);
    if (known !== undefined) return known;
    try {
      const opened = openCheckpoint(note, [verifier], origin);
      const size = opened.checkpoint.size;
      if (size > currentSize) {
        throw new VerificationError('LOG_ROLLED_BACK', `has size ${size}, larger than the current size ${currentSize}: the log was rolled back`);
      }
      const why = inconsistency(size, opened.checkpoint.rootHash, opened);
      if (why !== undefined) throw new VerificationError('INCONSISTENT_CHECKPOINT', why);
      checked.set(note, size);
      return size;
    } catch (error) {
      return wrapError(error, where);
    }
  };
}

/**
 * Walks `commits` (every commit reachable from the head, each after its parents) and throws the first
 * broken rule as a typed error naming the commit; harmless oddities go to `warnings`.
 * `checkSigned` is a signedCheckpointChecker.
 */
export function checkCheckpointHistory(
  commits: Iterable<HistoryCommit>,
  options: {
    readonly checkpointPath: string;
    readonly origin: string;
    readonly keyName: string;
    readonly checkSigned: (note: string, where: string) => bigint;
    readonly warnings: string[];
    readonly onCommit?: (done: number) => void;
  },
): HistoryReportCheckpoints {
  const { checkpointPath, checkSigned, warnings } = options;
  const state = new Map<string, { text?: string; size?: bigint }>();
  const checkpoints: Array<{ commit: string; size: bigint }> = [];
  let last: string | undefined;
  let done = 0;
  for (const { commit, parents, checkpoint: text, message } of commits) {
    const short = commit.slice(0, 12);
    const size = text === undefined ? undefined : checkSigned(text, `${checkpointPath} in commit ${short}`);
    for (const parent of parents) {
      const before = state.get(parent);
      if (before?.size === undefined) continue;
      if (size === undefined) throw new VerificationError('CHECKPOINT_DELETED', `commit ${short} deletes ${checkpointPath}`);
      if (before.size > size) {
        throw new VerificationError('LOG_ROLLED_BACK', `commit ${short} shrinks the log from size ${before.size} to ${size}: the log was rolled back`);
      }
    }
    state.set(commit, { ...(text !== undefined ? { text } : {}), ...(size !== undefined ? { size } : {}) });
    // Checkpoints carried in any commit message (e.g. from before the log moved folder) are evidence too.
    for (const note of checkpointsInMessage(message, options.origin, options.keyName)) {
      try {
        checkSigned(note, `a checkpoint in the message of commit ${short}`);
      } catch (error) {
        if (error instanceof VerificationError && error.code === 'INCONSISTENT_CHECKPOINT') {
          throw new VerificationError('FORKED_CHECKPOINT', `${error.message}: two signed views of the log`, { cause: error });
        }
        if (error instanceof VerificationError && error.code === 'LOG_ROLLED_BACK') throw error;
        // A checkpoint of this log with a signature line of its key that does not verify: someone made it
        // look like the log's, which is no accident.
        throw new VerificationError(
          'MESSAGE_CHECKPOINT_INVALID',
          `${(error as Error).message}: the message of commit ${short} holds a checkpoint of this log whose signature by ${options.keyName} does not verify`,
          { cause: error },
        );
      }
    }
    if (size !== undefined && parents.every((parent) => state.get(parent)?.text !== text)) {
      checkpoints.push({ commit, size });
      if (!message.endsWith(text!)) warnings.push(`commit ${short} changes the checkpoint but its message does not carry it`);
    }
    last = text;
    options.onCommit?.(++done);
  }
  return { checkpoints, last };
}

/**
 * The checkpoints of this log quoted in a commit message, each cut out as a signed note of its own: an
 * origin line (at the start of a line), the checkpoint's lines up to the blank line, then the signature
 * lines after it ("— " lines, c2sp.org/signed-note), up to the first line that is not one. Text before
 * or after (a Signed-off-by trailer, a blank line, more prose) does not hide one. Text that is
 * demonstrably not a checkpoint of this log is left out: one whose lines do not parse as a checkpoint
 * (origin, size, root hash), or that no signature line of the log's key name follows.
 */
export function checkpointsInMessage(message: string, origin: string, keyName: string): string[] {
  const keyLine = `\u2014 ${keyName} `;
  if (!message.includes(keyLine)) return [];
  const lines = message.split('\n');
  const notes: string[] = [];
  for (let start = 0; start < lines.length; start++) {
    if (lines[start] !== origin) continue;
    let blank = start + 1;
    while (blank < lines.length && lines[blank] !== '') blank++;
    if (blank >= lines.length) break; // no blank line after it: no signatures, and none further on
    const text = `${lines.slice(start, blank).join('\n')}\n`;
    let end = blank + 1;
    while (end < lines.length && lines[end]!.startsWith('\u2014 ')) end++;
    const signatures = lines.slice(blank + 1, end);
    if (!signatures.some((line) => line.startsWith(keyLine))) continue;
    try {
      parseCheckpoint(text);
    } catch {
      continue;
    }
    notes.push(`${text}\n${signatures.map((line) => `${line}\n`).join('')}`);
  }
  return notes;
}
