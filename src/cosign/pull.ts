// Pull mode, as transparency-dev/witness internal/feeder/sumdb does it: sum.golang.org never calls
// witnesses, so the witness fetches the signed tree head itself, proves it consistent with the last one it
// cosigned (from tiles), and cosigns it through the same add-checkpoint path as push mode. A smaller head
// than the one cosigned comes from a lagging cache or CDN and is skipped, not evidence; a head that
// provably contradicts it is evidence.
import { VerificationError } from '../errors.js';
import { InconsistentTreeError } from '../sumdb/client.js';
import type { Checkpoint, SignedCheckpoint } from '../tlog/checkpoint.js';
import type { Hash } from '../tlog/merkle.js';
import type { CosignedState } from './state.js';
import type { SplitViewEvidence, Witness } from './witness.js';

/** Where heads come from: a sumdb client (directly, or through a module proxy's /sumdb/ path). */
export interface HeadSource {
  /** For messages and records: the base URL. */
  readonly location: string;
  latest(): Promise<SignedCheckpoint>;
  /** A verified consistency proof from `old` to `next`, built from tiles; InconsistentTreeError when there is none. */
  proveConsistency(old: Checkpoint, next: Checkpoint): Promise<{ proof: Hash[] }>;
}

export type PullOutcome =
  | { readonly kind: 'cosigned'; readonly source: string; readonly state: CosignedState; readonly previous?: CosignedState; readonly cosignature: string }
  | { readonly kind: 'lagging'; readonly source: string; readonly size: bigint; readonly cosignedSize: bigint }
  | { readonly kind: 'evidence'; readonly source: string; readonly evidence: SplitViewEvidence };

/** The evidence a HeadSource attaches to a failed proof whose tiles were authenticated against the new root. */
function evidenceFromError(error: InconsistentTreeError): { proof: string[]; tiles: Record<string, string> } {
  return { proof: [...error.evidence.proof], tiles: Object.fromEntries(error.evidence.tiles.map((tile) => [tile.path, tile.data])) };
}

/**
 * One pull round against one source. Retries (at most 3 times) when another process advanced the state.
 * Evidence is returned, never cosigned; the caller keeps it.
 */
export async function pullAndCosign(witness: Witness, source: HeadSource): Promise<PullOutcome> {
  for (let attempt = 1; ; attempt++) {
    const head = await source.latest();
    const origin = head.checkpoint.origin;
    const current = await witness.store.read(origin);
    if (current && head.checkpoint.size < current.checkpoint.size) {
      return { kind: 'lagging', source: source.location, size: head.checkpoint.size, cosignedSize: current.checkpoint.size };
    }
    let proof: Hash[] = [];
    if (current && head.checkpoint.size > current.checkpoint.size) {
      try {
        proof = (await source.proveConsistency(current.checkpoint, head.checkpoint)).proof;
      } catch (error) {
        if (error instanceof InconsistentTreeError) {
          const material = evidenceFromError(error);
          const evidence: SplitViewEvidence = {
            origin,
            reason: `size ${head.checkpoint.size} is not consistent with the cosigned size ${current.checkpoint.size} (tiles authenticated against the new signed root)`,
            cosigned: current.note,
            presented: head.message,
            proof: material.proof,
            tiles: material.tiles,
          };
          return { kind: 'evidence', source: source.location, evidence };
        }
        throw error;
      }
    }
    const outcome = await witness.addCheckpoint(current?.checkpoint.size ?? 0n, proof, head.message);
    if (outcome.status === 200) {
      return { kind: 'cosigned', source: source.location, state: outcome.state, cosignature: outcome.cosignature, ...(current ? { previous: current } : {}) };
    }
    if (outcome.status === 409 && attempt < 3) continue;
    if (outcome.status === 422 && outcome.evidence) return { kind: 'evidence', source: source.location, evidence: outcome.evidence };
    const code = 'code' in outcome ? outcome.code : 'CONFLICT';
    throw new VerificationError(code, `${source.location}: the witness refused the head of size ${head.checkpoint.size}: ${outcome.message}`);
  }
}
