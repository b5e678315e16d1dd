// Log records of the sumdb witness.
//
// cosigned/v1: a checkpoint of another log (e.g. sum.golang.org) that we verified and cosigned.
//   origin <origin line>            size <n>            root <base64>
//   extension <line>                (repeatable; checkpoint extension lines)
//   log-signature <"— name sig">    (repeatable; the log's signatures we verified)
//   cosignature <"— name sig">      our cosignature/v1 line
//   previous-size <n> | first-use   what it was checked against (first use = trust on first use)
//   source <url>                    where the checkpoint was fetched
//   time <RFC 3339 UTC>
//
// evidence/v1: two signed checkpoints of one log that cannot both be true (a split view).
//   origin, reason, cosigned-note <base64 of the note we had cosigned>, presented-note <base64>,
//   proof <base64 hash> (repeatable), tile <path> <sha256 hex> (repeatable), source, time
import { createHash } from 'node:crypto';
import { FormatError, VerificationError } from '../errors.js';
import type { LogRecord, RecordField } from '../log/record.js';
import type { RecordFold } from '../log/schema.js';
import { parseCheckpoint } from '../tlog/checkpoint.js';
import { decodeBase64, encodeBase64 } from '../tlog/encoding.js';
import { splitNote } from '../tlog/note.js';
import { formatTime } from '../infra/time.js';
import type { CosignedState } from './state.js';
import { originHash } from './state.js';
import type { SplitViewEvidence } from './witness.js';

export const COSIGNED_RECORD_TYPE = 'cosigned';
export const EVIDENCE_RECORD_TYPE = 'evidence';

export function cosignedRecord(state: CosignedState, options: { previousSize?: bigint; source: string; time: Date }): LogRecord {
  const { text, signatures } = splitNote(state.note);
  const checkpoint = parseCheckpoint(text);
  const lines = signatures.map((s) => `\u2014 ${s.name} ${s.base64}`);
  const fields: RecordField[] = [
    { key: 'origin', value: checkpoint.origin },
    { key: 'size', value: String(checkpoint.size) },
    { key: 'root', value: encodeBase64(checkpoint.rootHash) },
    ...checkpoint.extensions.map((value) => ({ key: 'extension', value })),
    ...lines.slice(0, -1).map((value) => ({ key: 'log-signature', value })),
    { key: 'cosignature', value: lines[lines.length - 1]! },
    options.previousSize === undefined ? { key: 'first-use', value: 'true' } : { key: 'previous-size', value: String(options.previousSize) },
    { key: 'source', value: options.source },
    { key: 'time', value: formatTime(options.time) },
  ];
  return { type: COSIGNED_RECORD_TYPE, version: 1, fields };
}

/** The cosigned note a cosigned/v1 record describes: checkpoint text, the log's signatures, then ours. */
export function noteOfCosignedRecord(record: LogRecord): { origin: string; note: string } {
  const values = (key: string) => record.fields.filter((f) => f.key === key).map((f) => f.value);
  const one = (key: string) => {
    const all = values(key);
    if (all.length !== 1) throw new FormatError('MALFORMED_COSIGNED_RECORD', `cosigned record needs exactly one ${key}`);
    return all[0]!;
  };
  const origin = one('origin');
  const text = [origin, one('size'), one('root'), ...values('extension')].map((line) => `${line}\n`).join('');
  parseCheckpoint(text);
  const signatures = [...values('log-signature'), one('cosignature')].map((line) => `${line}\n`).join('');
  const note = `${text}\n${signatures}`;
  splitNote(note);
  return { origin, note };
}

export function evidenceRecord(evidence: SplitViewEvidence, options: { source: string; time: Date }): LogRecord {
  const fields: RecordField[] = [
    { key: 'origin', value: evidence.origin },
    { key: 'reason', value: evidence.reason },
    { key: 'cosigned-note', value: encodeBase64(new TextEncoder().encode(evidence.cosigned)) },
    { key: 'presented-note', value: encodeBase64(new TextEncoder().encode(evidence.presented)) },
    ...evidence.proof.map((value) => ({ key: 'proof', value })),
    ...Object.entries(evidence.tiles ?? {}).map(([path, data]) => ({
      key: 'tile',
      value: `${path} ${createHash('sha256').update(decodeBase64(data)).digest('hex')}`,
    })),
    { key: 'source', value: options.source },
    { key: 'time', value: formatTime(options.time) },
  ];
  return { type: EVIDENCE_RECORD_TYPE, version: 1, fields };
}

/** `cosigned/<hex sha256 of origin>/checkpoint`: the tlog-witness monitoring path of a cosigned checkpoint. */
export function cosignedCheckpointPath(origin: string): string {
  return `cosigned/${originHash(origin)}/checkpoint`;
}

/**
 * The latest cosigned checkpoint of each origin, at the tlog-witness monitoring path (the log's view of its
 * cosigned records, registered in src/witness-schema.ts).
 */
export const COSIGNED_VIEW: RecordFold<Map<string, string>> = {
  name: 'cosigned',
  recordTypes: [COSIGNED_RECORD_TYPE],
  viewFiles: [{ name: /^cosigned\/[0-9a-f]{64}\/checkpoint$/, maxBytes: 2 * 1024 * 1024 }],
  fold: (records) => {
    const views = new Map<string, string>();
    for (const { index, record } of records) {
      try {
        const { origin, note } = noteOfCosignedRecord(record);
        views.set(cosignedCheckpointPath(origin), note);
      } catch (error) {
        throw new VerificationError('COSIGNED_RECORD_INVALID', `log index ${index}: ${(error as Error).message}`, { cause: error });
      }
    }
    return views;
  },
  views: (views) => views,
};
