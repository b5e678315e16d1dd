// The witness: c2sp.org/tlog-witness "add-checkpoint" semantics (v1.0.0 with the main branch's status code
// fixes: 422, not 409, for an equal size with another root, and 422 for a size-0 checkpoint whose root is
// not the empty tree's), shared by pull mode (`witness sumdb cosign`) and push mode (`witness serve`). It
// cosigns a checkpoint only if it is signed by the log's key and provably extends the last checkpoint it
// cosigned for that origin; the state is durable before the cosignature is made.
import { type ErrorCode, FormatError, VerificationError, WitnessError } from '../errors.js';
import { type Checkpoint, parseCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual, encodeBase64, utf8 } from '../tlog/encoding.js';
import { EMPTY_TREE_HASH, type Hash, verifyConsistency } from '../tlog/merkle.js';
import { type Signer, type Verifier, formatSignatureLine, openNote, splitNote } from '../tlog/note.js';
import { type CosignedState, WitnessStateStore } from './state.js';

/** A log this witness cosigns for. */
export interface WitnessedLog {
  readonly origin: string;
  /** Verifiers of the log's own signature (its key name may differ from the origin, as for the Go sumdb). */
  readonly verifiers: readonly Verifier[];
}

/** Two checkpoints validly signed by a log that cannot both be true: the material to prove it. */
export interface SplitViewEvidence {
  readonly origin: string;
  readonly reason: string;
  /** The checkpoint we had cosigned (signed note). */
  readonly cosigned: string;
  /** The conflicting checkpoint (signed note). */
  readonly presented: string;
  /** Consistency proof hashes (base64) that failed, when there was one. */
  readonly proof: readonly string[];
  /** Tiles used to build the proof (path -> base64), when they were authenticated against `presented`. */
  readonly tiles?: Readonly<Record<string, string>>;
}

export type AddCheckpointOutcome =
  | { readonly status: 200; readonly cosignature: string; readonly state: CosignedState; readonly firstUse: boolean }
  | { readonly status: 409; readonly size: bigint; readonly message: string }
  | {
      readonly status: 400 | 403 | 404 | 422;
      readonly code: ErrorCode;
      readonly message: string;
      readonly evidence?: SplitViewEvidence;
    };

export interface WitnessOptions {
  /** Called (and awaited) with evidence of a split view before the request is answered. */
  readonly onEvidence?: (evidence: SplitViewEvidence) => Promise<void>;
}

export class Witness {
  private readonly logs: Map<string, WitnessedLog>;

  constructor(
    readonly store: WitnessStateStore,
    readonly cosigner: Signer,
    logs: readonly WitnessedLog[],
    private readonly options: WitnessOptions = {},
  ) {
    this.logs = new Map(logs.map((log) => [log.origin, log]));
  }

  get origins(): string[] {
    return [...this.logs.keys()];
  }

  /** A cosignature/v1 line for checkpoint note text (fresh timestamp). */
  private cosign(text: string): string {
    return formatSignatureLine(this.cosigner.name, this.cosigner.keyId, this.cosigner.sign(utf8(text)));
  }

  /**
   * Whether `message` presents a checkpoint this witness already knows: the same size and root as the
   * latest one it cosigned for that origin, or a smaller size. Answering it (409, or 200 with a fresh
   * cosignature) tells nobody anything new, and anyone can replay a log's public checkpoint, so the
   * server does not charge it to the log's budget. Not verified here: addCheckpoint still checks it.
   */
  async isKnownCheckpoint(message: string): Promise<boolean> {
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(splitNote(message).text);
    } catch {
      return false;
    }
    if (!this.logs.has(checkpoint.origin)) return false;
    const current = await this.store.read(checkpoint.origin);
    if (!current) return false;
    const stored = current.checkpoint;
    return checkpoint.size < stored.size || (checkpoint.size === stored.size && bytesEqual(checkpoint.rootHash, stored.rootHash));
  }

  /**
   * c2sp.org/tlog-witness "add-checkpoint": `oldSize` is the size the client believes we last cosigned,
   * `proof` the consistency proof from it, `message` the signed checkpoint. Never throws for bad input:
   * every outcome is a status.
   */
  async addCheckpoint(oldSize: bigint, proof: readonly Hash[], message: string): Promise<AddCheckpointOutcome> {
    let checkpoint: Checkpoint;
    let text: string;
    try {
      text = splitNote(message).text;
      checkpoint = parseCheckpoint(text);
    } catch (error) {
      return { status: 400, code: (error as WitnessError).code ?? 'MALFORMED', message: (error as Error).message };
    }
    const log = this.logs.get(checkpoint.origin);
    if (!log) return { status: 404, code: 'UNKNOWN_LOG', message: `unknown log origin ${JSON.stringify(checkpoint.origin)}` };
    let logSignatures: string;
    try {
      const opened = openNote(message, log.verifiers);
      logSignatures = opened.signatures.map((s) => `\u2014 ${s.name} ${s.base64}\n`).join('');
    } catch (error) {
      if (error instanceof WitnessError) return { status: 403, code: error.code, message: error.message };
      throw error;
    }
    if (oldSize > checkpoint.size) {
      return { status: 400, code: 'OLD_SIZE_TOO_LARGE', message: `old size ${oldSize} is larger than the checkpoint size ${checkpoint.size}` };
    }
    return this.store.update(checkpoint.origin, async (current): Promise<{ next?: CosignedState; result: AddCheckpointOutcome }> => {
      const stored = current?.checkpoint.size ?? 0n;
      // The check and the write are one atomic step (state.update), so a slow request cannot roll back.
      if (oldSize !== stored) {
        return { result: { status: 409, size: stored, message: `old size ${oldSize} is not the size ${stored} this witness last cosigned` } };
      }
      if (checkpoint.size === 0n && !bytesEqual(checkpoint.rootHash, EMPTY_TREE_HASH)) {
        return { result: { status: 422, code: 'BAD_EMPTY_ROOT', message: 'a checkpoint of size 0 must have the empty tree hash as root' } };
      }
      if (current && checkpoint.size === stored) {
        if (!bytesEqual(checkpoint.rootHash, current.checkpoint.rootHash)) {
          const evidence: SplitViewEvidence = {
            origin: checkpoint.origin,
            reason: `two checkpoints of size ${stored} with different roots`,
            cosigned: current.note,
            presented: message,
            proof: [],
          };
          await this.options.onEvidence?.(evidence);
          return { result: { status: 422, code: 'SPLIT_VIEW', message: evidence.reason, evidence } };
        }
        if (proof.length !== 0) return { result: { status: 422, code: 'BAD_PROOF', message: 'a proof between equal sizes must be empty' } };
      } else if (stored === 0n) {
        // First checkpoint of this log: nothing to be consistent with (trust on first use).
        if (proof.length !== 0) return { result: { status: 422, code: 'BAD_PROOF', message: 'old size 0 takes an empty proof' } };
      } else {
        try {
          verifyConsistency(stored, checkpoint.size, proof, current!.checkpoint.rootHash, checkpoint.rootHash);
        } catch (error) {
          if (!(error instanceof VerificationError || error instanceof FormatError)) throw error;
          return { result: { status: 422, code: 'BAD_PROOF', message: error.message } };
        }
      }
      // Same size and root: cosign again with a fresh timestamp (fresh cosignatures are a feature).
      const cosignature = this.cosign(text);
      const state: CosignedState = { origin: checkpoint.origin, checkpoint, note: `${text}\n${logSignatures}${cosignature}` };
      return { next: state, result: { status: 200, cosignature, state, firstUse: current === undefined } };
    });
  }
}

/** The proof hashes as base64, for evidence and records. */
export function proofToBase64(proof: readonly Hash[]): string[] {
  return proof.map((hash) => encodeBase64(hash));
}
