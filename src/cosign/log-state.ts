// The witness log as the cosigner's memory. Every checkpoint `witness sumdb cosign` cosigns is appended
// to the witness log as a cosigned/v1 record (records.ts), and the log is append-only, signed and kept in
// git, where `witness verify` refuses any rollback. So the last cosigned record of an origin that carries
// *this* cosigner's valid cosignature is a floor for the state: a state folder that is missing (a new
// machine, an evicted CI cache) or older than it would make the witness trust on first use again, or
// check consistency against an older tree than the one it vouched for, without anyone noticing.
//
// reconcileStateWithLog compares the two before a round: behind the log is refused (exit 2) unless the
// caller asks to restore, in which case the log's checkpoint becomes the state (it is the one we
// published; a cosignature made later but never recorded never left this witness in pull mode).
import { EnvironmentError, VerificationError } from '../errors.js';
import type { LogRecord } from '../log/record.js';
import { bytesEqual } from '../tlog/encoding.js';
import { openNote, type Verifier } from '../tlog/note.js';
import { COSIGNED_RECORD_TYPE, noteOfCosignedRecord } from './records.js';
import { type CosignedState, parseCosignedState, type WitnessStateStore } from './state.js';

export interface LoggedCheckpoint {
  readonly state: CosignedState;
  /** Log index of the cosigned record. */
  readonly index: bigint;
}

/**
 * For each origin, the largest checkpoint of the log's cosigned records whose note verifies with both
 * the origin's log key(s) (`verifiers`, by origin) and our cosigner (`cosigner`). Records of other
 * cosigners or other origins are ignored.
 */
export function lastCosignedInLog(
  records: Iterable<{ index: bigint; record: LogRecord }>,
  verifiers: ReadonlyMap<string, readonly Verifier[]>,
  cosigner: Verifier,
): Map<string, LoggedCheckpoint> {
  const last = new Map<string, LoggedCheckpoint>();
  for (const { index, record } of records) {
    if (record.type !== COSIGNED_RECORD_TYPE) continue;
    const { origin, note } = noteOfCosignedRecord(record);
    const logVerifiers = verifiers.get(origin);
    if (!logVerifiers) continue;
    try {
      const signed = openNote(note, [...logVerifiers, cosigner]);
      if (!signed.signatures.some((signature) => signature.name === cosigner.name && signature.keyId === cosigner.keyId)) continue;
      if (!signed.signatures.some((signature) => logVerifiers.some((v) => v.name === signature.name && v.keyId === signature.keyId))) continue;
    } catch {
      continue; // not signed by both: another witness's record, or another key of the log
    }
    const state = parseCosignedState(note);
    const known = last.get(origin);
    if (!known || state.checkpoint.size > known.state.checkpoint.size) last.set(origin, { state, index });
  }
  return last;
}

export interface Reconciled {
  readonly origin: string;
  /** The state's size before (undefined: none). */
  readonly from?: bigint;
  readonly to: bigint;
  readonly index: bigint;
}

/**
 * Refuses (EnvironmentError STATE_BEHIND_LOG, exit 2) when the state of an origin is missing or smaller
 * than the log's last cosigned checkpoint of it, unless `restore`; then that checkpoint is written to
 * the state and reported. A state with the log's size but another root is refused as corrupt
 * (VerificationError STATE_CONFLICTS_LOG, exit 1). A state ahead of the log is fine (rounds run with
 * --no-record).
 */
export async function reconcileStateWithLog(store: WitnessStateStore, logged: ReadonlyMap<string, LoggedCheckpoint>, options: { restore: boolean }): Promise<Reconciled[]> {
  const restored: Reconciled[] = [];
  for (const [origin, { state: fromLog, index }] of logged) {
    const size = fromLog.checkpoint.size;
    let had: bigint | undefined;
    const outcome = await store.update(origin, (current): { next?: CosignedState; result: 'ok' | 'conflict' | 'behind' | 'restored' } => {
      had = current?.checkpoint.size;
      if (current && current.checkpoint.size > size) return { result: 'ok' };
      if (current && current.checkpoint.size === size) return { result: bytesEqual(current.checkpoint.rootHash, fromLog.checkpoint.rootHash) ? 'ok' : 'conflict' };
      if (!options.restore) return { result: 'behind' };
      return { next: fromLog, result: 'restored' };
    });
    if (outcome === 'conflict') {
      throw new VerificationError(
        'STATE_CONFLICTS_LOG',
        `witness state ${store.dir}: ${JSON.stringify(origin)} at size ${size} has another root than the checkpoint the witness log cosigned (log index ${index}); refusing to cosign (check both)`,
      );
    }
    if (outcome === 'behind') {
      throw new EnvironmentError(
        'STATE_BEHIND_LOG',
        `witness state ${store.dir} ${had !== undefined ? `is at size ${had} for` : 'has nothing for'} ${JSON.stringify(origin)}, but the witness log cosigned size ${size} ` +
          `(log index ${index}): refusing to trust on first use again. Restore the state folder, or pass --restore-state-from-log to continue from the log's checkpoint`,
      );
    }
    if (outcome === 'restored') restored.push({ origin, to: size, index, ...(had !== undefined ? { from: had } : {}) });
  }
  return restored;
}
