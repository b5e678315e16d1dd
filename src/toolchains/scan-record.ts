// The scan record (type `sumdb-scan`, version 1): how far `witness sumdb scan` has read one checksum
// database, signed into the witness log at the end of every run that moved the position.
//
//   go-source-witness sumdb-scan/v1
//   database <verifier key>          the database scanned (a Go note verifier key: name+hash+key)
//   start <record>                   the scan's first record (its --from)
//   position <record>                records start … position-1 were read, authenticated against the head
//                                    below, and every toolchain record and alarm among them is in the log
//                                    before this record
//   tree-size <n>                    the signed tree head the position was reached in
//   tree-root <base64>
//   module-index sha256:<hex>        SHA-256 of modules.idx for records start … position-1: their 8-byte
//                                    module-version keys in record order (module-index.ts), the index
//                                    that finds a module version published twice
//   time <RFC 3339 UTC>
//
// It is two things. Evidence: anyone can check that the log holds every toolchain record of the window
// it claims, by scanning the same window of the database. And the scan's memory, as cosigned/v1 records
// are the cosigner's (src/cosign/log-state.ts): a state folder that is lost (a new CI runner) is restored
// from the last scan record of its database (--restore-state-from-log), with the module index taken from
// wherever it was kept only if its SHA-256 is one signed here (state.ts, findRestorable).
//
// Invariants (checked by the toolchains fold, so by every append and `witness verify`): for one database
// and start, position and tree-size never decrease; start <= position <= tree-size.
import { FormatError, VerificationError } from '../errors.js';
import type { LogRecord } from '../log/record.js';
import { decodeBase64 } from '../tlog/encoding.js';
import { parseVerifierKey } from '../tlog/note.js';

export const SCAN_RECORD_TYPE = 'sumdb-scan';

export interface ScanRecord {
  /** The database's verifier key. */
  readonly database: string;
  readonly start: bigint;
  readonly position: bigint;
  readonly treeSize: bigint;
  readonly treeRoot: string;
  /** Lowercase hex SHA-256 of the module index of records start … position-1. */
  readonly moduleIndex: string;
  readonly time: string;
}

const UINT = /^(0|[1-9][0-9]{0,17})$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
const SHA256 = /^sha256:([0-9a-f]{64})$/;
const FIELDS = ['database', 'start', 'position', 'tree-size', 'tree-root', 'module-index', 'time'] as const;

function bad(why: string): never {
  throw new FormatError('MALFORMED_SCAN_RECORD', `scan record: ${why}`);
}

export function scanRecordToLogRecord(scan: ScanRecord): LogRecord {
  const record: LogRecord = {
    type: SCAN_RECORD_TYPE,
    version: 1,
    fields: [
      { key: 'database', value: scan.database },
      { key: 'start', value: String(scan.start) },
      { key: 'position', value: String(scan.position) },
      { key: 'tree-size', value: String(scan.treeSize) },
      { key: 'tree-root', value: scan.treeRoot },
      { key: 'module-index', value: `sha256:${scan.moduleIndex}` },
      { key: 'time', value: scan.time },
    ],
  };
  parseScanRecord(record); // the same checks as on reading
  return record;
}

/** Parses a sumdb-scan/v1 record strictly: exactly its fields, in order, each well-formed. */
export function parseScanRecord(record: LogRecord): ScanRecord {
  if (record.type !== SCAN_RECORD_TYPE || record.version !== 1) bad(`not a ${SCAN_RECORD_TYPE}/v1 record`);
  if (record.fields.length !== FIELDS.length || record.fields.some((field, i) => field.key !== FIELDS[i])) bad(`want exactly the fields ${FIELDS.join(', ')}`);
  const [database, start, position, treeSize, treeRoot, moduleIndex, time] = record.fields.map((field) => field.value) as [string, string, string, string, string, string, string];
  try {
    parseVerifierKey(database);
  } catch (error) {
    bad(`database is not a verifier key: ${(error as Error).message}`);
  }
  for (const [name, value] of [['start', start], ['position', position], ['tree-size', treeSize]] as const) if (!UINT.test(value)) bad(`${name} is not a decimal number`);
  if (!(BigInt(start) <= BigInt(position) && BigInt(position) <= BigInt(treeSize))) bad('start <= position <= tree-size does not hold');
  let root: Uint8Array;
  try {
    root = decodeBase64(treeRoot, 'MALFORMED_SCAN_RECORD', 'tree-root');
  } catch (error) {
    return bad((error as Error).message);
  }
  if (root.length !== 32) bad('tree-root is not 32 bytes');
  const digest = SHA256.exec(moduleIndex);
  if (!digest) bad('module-index is not sha256:<64 lowercase hex digits>');
  if (!TIME.test(time)) bad('time is not an RFC 3339 UTC time');
  return { database, start: BigInt(start), position: BigInt(position), treeSize: BigInt(treeSize), treeRoot, moduleIndex: digest[1]!, time };
}

export interface IndexedScan {
  readonly index: bigint;
  readonly scan: ScanRecord;
}

/**
 * The scan records of a log, by database and start, in log order, after checking that each moves neither
 * its position nor its tree size back (VerificationError SCAN_RECORD_INVALID).
 */
export class ScanRecords {
  /** `${database} ${start}` -> its records in log order (never empty). */
  private readonly history = new Map<string, IndexedScan[]>();

  apply(index: bigint, record: LogRecord): void {
    if (record.type !== SCAN_RECORD_TYPE) return;
    const fail = (why: string): never => {
      throw new VerificationError('SCAN_RECORD_INVALID', `log index ${index}: ${why}`);
    };
    let scan: ScanRecord;
    try {
      scan = parseScanRecord(record);
    } catch (error) {
      return fail((error as Error).message);
    }
    const key = `${scan.database} ${scan.start}`;
    const records = this.history.get(key);
    const earlier = records?.at(-1);
    if (earlier && (scan.position < earlier.scan.position || scan.treeSize < earlier.scan.treeSize)) {
      fail(`the scan of ${scan.database} from record ${scan.start} goes back: position ${earlier.scan.position} -> ${scan.position}, tree size ${earlier.scan.treeSize} -> ${scan.treeSize} (log index ${earlier.index})`);
    }
    if (earlier && scan.treeSize === earlier.scan.treeSize && scan.treeRoot !== earlier.scan.treeRoot) {
      fail(`the scan of ${scan.database} from record ${scan.start} names two roots for tree size ${scan.treeSize} (log index ${earlier.index}): a fork`);
    }
    if (records) records.push({ index, scan });
    else this.history.set(key, [{ index, scan }]);
  }

  /** Every scan record of `database` from `start`, newest first. */
  recordsOf(database: string, start: bigint): IndexedScan[] {
    return [...(this.history.get(`${database} ${start}`) ?? [])].reverse();
  }

  /** The last scan record of `database` (from `start`, if given; else the one furthest along). */
  lastOf(database: string, start?: bigint): IndexedScan | undefined {
    let best: IndexedScan | undefined;
    for (const entry of this.lasts()) {
      if (entry.scan.database !== database || (start !== undefined && entry.scan.start !== start)) continue;
      if (!best || entry.scan.position > best.scan.position) best = entry;
    }
    return best;
  }

  /** Every (database, start)'s last record, in log order. */
  all(): IndexedScan[] {
    return [...this.lasts()].sort((a, b) => (a.index < b.index ? -1 : 1));
  }

  private *lasts(): Generator<IndexedScan> {
    for (const records of this.history.values()) yield records.at(-1)!;
  }
}
