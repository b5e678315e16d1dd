// The witness network's log list, format `logs/v0` (transparency-dev/witness-network
// docs/log-list-format.md): the logs a witness cosigns for, with each log's request budget.
//
//   # comments and blank lines are ignored (lines are trimmed, a trailing CR dropped)
//   logs/v0                        the header: the first line that is not blank or a comment
//   vkey <name+hash+key>           starts a log stanza
//   origin <origin line>|none      optional; none (or absent) = the vkey's key name
//   qpd <n>                        optional; add-checkpoint requests per day (a positive integer)
//   bastion <url>|none             optional
//   contact <text>                 optional
//
// Unknown keywords are tolerated (kept out of the result), so a newer list still loads. Several vkeys
// may name one origin (key rotation): they become one log with several verifiers. Stanzas with a valid
// vkey of an algorithm this witness cannot verify (anything but Ed25519, type 0x01) are skipped and
// reported, so one such log does not stop the witness from serving the others.
import { FormatError } from '../errors.js';
import { type Verifier, formatKeyId, noteVerifier, parseVerifierKey } from '../tlog/note.js';
import type { WitnessedLog } from './witness.js';

export const LOG_LIST_HEADER = 'logs/v0';

/** A malformed log list; `line` is 1-based (0 when the problem is the whole file). */
export class LogListError extends FormatError<'MALFORMED_LOG_LIST'> {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super('MALFORMED_LOG_LIST', line > 0 ? `log list line ${line}: ${message}` : `log list: ${message}`);
  }
}

/** One `vkey` stanza as written. */
export interface LogListStanza {
  readonly line: number;
  readonly vkey: string;
  readonly origin: string;
  readonly qpd?: number;
  readonly bastion?: string;
  readonly contact?: string;
}

export interface SkippedLog {
  readonly line: number;
  readonly vkey: string;
  readonly reason: string;
}

export interface LogList {
  /** One entry per origin, with a verifier for each of its keys. */
  readonly logs: WitnessedLog[];
  /** Requests per day per origin; absent = no limit. When several stanzas of one origin give a qpd, the largest. */
  readonly qpd: Map<string, number>;
  readonly stanzas: LogListStanza[];
  readonly skipped: SkippedLog[];
  /** Unknown keywords seen (line numbers), tolerated. */
  readonly unknownKeywords: Array<{ line: number; keyword: string }>;
}

interface Draft {
  line: number;
  vkey: string;
  verifier?: Verifier;
  skipped?: string;
  keyName: string;
  origin?: string;
  qpd?: number;
  bastion?: string;
  contact?: string;
  seen: Set<string>;
}

const KNOWN = new Set(['vkey', 'origin', 'qpd', 'bastion', 'contact']);

/** Parses a `logs/v0` log list. Throws LogListError (with the line number) on malformed input. */
export function parseLogList(text: string): LogList {
  if (text.includes('\u0000')) throw new LogListError(0, 'contains a NUL byte (not a text file?)');
  const lines = text.split('\n');
  let header = false;
  const drafts: Draft[] = [];
  const unknownKeywords: Array<{ line: number; keyword: string }> = [];
  let current: Draft | undefined;
  for (let index = 0; index < lines.length; index++) {
    const number = index + 1;
    let raw = lines[index]!;
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!header) {
      if (line !== LOG_LIST_HEADER) {
        throw new LogListError(number, `the list must start with "${LOG_LIST_HEADER}", got ${JSON.stringify(line.slice(0, 60))}`);
      }
      header = true;
      continue;
    }
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(line)) throw new LogListError(number, 'contains a control character');
    const space = line.search(/[ \t]/);
    const keyword = space < 0 ? line : line.slice(0, space);
    const value = space < 0 ? '' : line.slice(space + 1).trim();
    if (!KNOWN.has(keyword)) {
      if (keyword === LOG_LIST_HEADER) throw new LogListError(number, `a second "${LOG_LIST_HEADER}" header`);
      unknownKeywords.push({ line: number, keyword });
      continue;
    }
    if (value === '') throw new LogListError(number, `"${keyword}" needs a value`);
    if (keyword === 'vkey') {
      if (/\s/.test(value)) throw new LogListError(number, 'a vkey is one word');
      let key;
      try {
        key = parseVerifierKey(value);
      } catch (error) {
        throw new LogListError(number, (error as Error).message);
      }
      current = { line: number, vkey: value, keyName: key.name, seen: new Set(['vkey']) };
      try {
        current.verifier = noteVerifier(key);
      } catch (error) {
        current.skipped = `${key.name}+${formatKeyId(key.keyId)}: ${(error as Error).message}`;
      }
      drafts.push(current);
      continue;
    }
    if (!current) throw new LogListError(number, `"${keyword}" before any "vkey" line`);
    if (current.seen.has(keyword)) throw new LogListError(number, `a second "${keyword}" line for the vkey of line ${current.line}`);
    current.seen.add(keyword);
    if (keyword === 'origin') {
      current.origin = value === 'none' ? current.keyName : value;
    } else if (keyword === 'qpd') {
      if (!/^[1-9][0-9]{0,14}$/.test(value)) throw new LogListError(number, `qpd ${JSON.stringify(value)} is not a positive integer`);
      current.qpd = Number(value);
    } else if (keyword === 'bastion') {
      if (value !== 'none') current.bastion = value;
    } else {
      current.contact = value;
    }
  }
  if (!header) throw new LogListError(0, `no "${LOG_LIST_HEADER}" header (empty file?)`);

  const stanzas: LogListStanza[] = [];
  const skipped: SkippedLog[] = [];
  const verifiers = new Map<string, Verifier[]>();
  const qpd = new Map<string, number>();
  for (const draft of drafts) {
    const origin = draft.origin ?? draft.keyName;
    stanzas.push({
      line: draft.line,
      vkey: draft.vkey,
      origin,
      ...(draft.qpd !== undefined ? { qpd: draft.qpd } : {}),
      ...(draft.bastion !== undefined ? { bastion: draft.bastion } : {}),
      ...(draft.contact !== undefined ? { contact: draft.contact } : {}),
    });
    if (!draft.verifier) {
      skipped.push({ line: draft.line, vkey: draft.vkey, reason: draft.skipped ?? 'unsupported key' });
      continue;
    }
    const list = verifiers.get(origin) ?? [];
    // The same key listed twice for one origin is one verifier.
    if (!list.some((v) => v.name === draft.verifier!.name && v.keyId === draft.verifier!.keyId)) list.push(draft.verifier);
    verifiers.set(origin, list);
    if (draft.qpd !== undefined) qpd.set(origin, Math.max(qpd.get(origin) ?? 0, draft.qpd));
  }
  // A log with a qpd on one stanza but none on another (same origin) has no limit: the list allows it.
  for (const draft of drafts) {
    const origin = draft.origin ?? draft.keyName;
    if (draft.verifier && draft.qpd === undefined) qpd.delete(origin);
  }
  const logs: WitnessedLog[] = [...verifiers].map(([origin, list]) => ({ origin, verifiers: list }));
  return { logs, qpd, stanzas, skipped, unknownKeywords };
}
