// A cosign round of `witness sumdb cosign`: pull the head from every vantage point (sum.golang.org and,
// with --via, module proxies serving /sumdb/sum.golang.org/), cosign what extends our state, keep any
// evidence of a split view (files in the state folder + an evidence record), and append one cosigned
// record per new size to the witness log.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { WitnessError } from '../errors.js';
import { writeFileAtomic } from '../infra/files.js';
import type { AppendResult, WitnessLog } from '../log/log.js';
import type { LogRecord } from '../log/record.js';
import { decodeBase64 } from '../tlog/encoding.js';
import type { SignerKey } from '../tlog/note.js';
import { formatTime } from '../infra/time.js';
import { type HeadSource, type PullOutcome, pullAndCosign } from './pull.js';
import { cosignedRecord, evidenceRecord } from './records.js';
import { originHash } from './state.js';
import type { SplitViewEvidence, Witness } from './witness.js';

export type SourceOutcome = PullOutcome | { readonly kind: 'error'; readonly source: string; readonly code: string; readonly message: string };

export interface CosignRoundOptions {
  readonly witness: Witness;
  readonly sources: readonly HeadSource[];
  /** Append records here (needs logKey). */
  readonly log?: WitnessLog;
  readonly logKey?: SignerKey;
  readonly now?: () => Date;
}

export interface CosignRoundReport {
  readonly outcomes: SourceOutcome[];
  /** Folders in the state's evidence/ folder written this round. */
  readonly evidenceFolders: string[];
  readonly appended?: AppendResult;
}

/** Keeps a split view's material as files: both notes, the proof, the tiles (durable before returning). */
export async function saveEvidence(stateDir: string, evidence: SplitViewEvidence, time: Date): Promise<string> {
  const id = createHash('sha256').update(evidence.cosigned).update(evidence.presented).digest('hex').slice(0, 16);
  const dir = path.join(stateDir, 'evidence', `${formatTime(time).replaceAll(':', '')}-${originHash(evidence.origin).slice(0, 12)}-${id}`);
  await writeFileAtomic(path.join(dir, 'cosigned.note'), evidence.cosigned);
  await writeFileAtomic(path.join(dir, 'presented.note'), evidence.presented);
  await writeFileAtomic(path.join(dir, 'reason.txt'), `${evidence.origin}\n${evidence.reason}\n`);
  await writeFileAtomic(path.join(dir, 'proof.txt'), evidence.proof.map((hash) => `${hash}\n`).join(''));
  for (const [tile, data] of Object.entries(evidence.tiles ?? {})) {
    await writeFileAtomic(path.join(dir, 'tiles', ...tile.split('/').filter((part) => part !== '..' && part !== '')), decodeBase64(data));
  }
  return dir;
}

export async function runCosignRound(options: CosignRoundOptions): Promise<CosignRoundReport> {
  const now = options.now ?? (() => new Date());
  const outcomes: SourceOutcome[] = [];
  const records: LogRecord[] = [];
  const evidenceFolders: string[] = [];
  const recordedSizes = new Set<string>();
  for (const source of options.sources) {
    let outcome: SourceOutcome;
    try {
      outcome = await pullAndCosign(options.witness, source);
    } catch (error) {
      if (!(error instanceof WitnessError)) throw error;
      outcome = { kind: 'error', source: source.location, code: error.code, message: error.message };
    }
    outcomes.push(outcome);
    if (outcome.kind === 'evidence') {
      evidenceFolders.push(await saveEvidence(options.witness.store.dir, outcome.evidence, now()));
      records.push(evidenceRecord(outcome.evidence, { source: source.location, time: now() }));
    } else if (outcome.kind === 'cosigned') {
      const key = `${outcome.state.origin}\n${outcome.state.checkpoint.size}`;
      const advanced = outcome.previous === undefined || outcome.previous.checkpoint.size !== outcome.state.checkpoint.size;
      if (advanced && !recordedSizes.has(key)) {
        recordedSizes.add(key);
        records.push(
          cosignedRecord(outcome.state, {
            ...(outcome.previous ? { previousSize: outcome.previous.checkpoint.size } : {}),
            source: source.location,
            time: now(),
          }),
        );
      }
    }
  }
  if (records.length > 0 && options.log && options.logKey) {
    const cosigned = records.filter((record) => record.type === 'cosigned').length;
    const evidence = records.length - cosigned;
    const summary = [cosigned ? `${cosigned} cosigned checkpoint${cosigned === 1 ? '' : 's'}` : '', evidence ? `${evidence} EVIDENCE of a split view` : '']
      .filter(Boolean)
      .join(', ');
    const appended = await options.log.append(records, options.logKey, { summary: `sumdb witness: ${summary}` });
    return { outcomes, evidenceFolders, appended };
  }
  return { outcomes, evidenceFolders };
}
