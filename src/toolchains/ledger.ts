// What the log says about the checksum database's toolchains: the fold of toolchain, toolchain-alarm and
// sumdb-scan records in log order. Folding checks their invariants (`witness verify` relies on it, through
// TOOLCHAINS_VIEW, registered with the log in src/witness-schema.ts): a sumdb record number is recorded once, an alarm key once, an alarm that names
// other records names earlier ones of the right type, and a scan never goes back (scan-record.ts).
import { VerificationError } from '../errors.js';
import type { LogRecord } from '../log/record.js';
import type { RecordFold } from '../log/schema.js';
import {
  TOOLCHAIN_ALARM_RECORD_TYPE,
  TOOLCHAIN_RECORD_TYPE,
  type ToolchainAlarm,
  type ToolchainRecord,
  alarmField,
  alarmKey,
  parseToolchainAlarm,
  parseToolchainRecord,
} from './record.js';
import { SCAN_RECORD_TYPE, ScanRecords } from './scan-record.js';

export interface IndexedToolchain {
  readonly index: bigint;
  readonly toolchain: ToolchainRecord;
}

export interface IndexedAlarm {
  readonly index: bigint;
  readonly alarm: ToolchainAlarm;
}

export class ToolchainLedger {
  /** Toolchain records in log order. */
  readonly toolchains: IndexedToolchain[] = [];
  readonly byRecord = new Map<bigint, IndexedToolchain>();
  /** By module version (more than one only when sumdb published a module version twice). */
  readonly byModuleVersion = new Map<string, IndexedToolchain[]>();
  readonly byGoVersion = new Map<string, IndexedToolchain[]>();
  readonly alarms: IndexedAlarm[] = [];
  readonly alarmKeys = new Set<string>();
  /** How far each scan has read (sumdb-scan records: scan-record.ts). */
  readonly scans = new ScanRecords();

  apply(index: bigint, record: LogRecord, types: ReadonlyMap<bigint, string>): void {
    if (record.type === SCAN_RECORD_TYPE) {
      this.scans.apply(index, record);
      return;
    }
    const fail = (why: string): never => {
      throw new VerificationError('TOOLCHAIN_RECORD_INVALID', `log index ${index}: ${why}`);
    };
    if (record.type === TOOLCHAIN_RECORD_TYPE) {
      let toolchain: ToolchainRecord;
      try {
        toolchain = parseToolchainRecord(record);
      } catch (error) {
        return fail((error as Error).message);
      }
      const earlier = this.byRecord.get(toolchain.record);
      if (earlier) fail(`sumdb record ${toolchain.record} was already recorded at log index ${earlier.index}`);
      const entry = { index, toolchain };
      this.toolchains.push(entry);
      this.byRecord.set(toolchain.record, entry);
      this.byModuleVersion.set(toolchain.moduleVersion, [...(this.byModuleVersion.get(toolchain.moduleVersion) ?? []), entry]);
      if (toolchain.goVersion !== undefined) this.byGoVersion.set(toolchain.goVersion, [...(this.byGoVersion.get(toolchain.goVersion) ?? []), entry]);
      return;
    }
    if (record.type !== TOOLCHAIN_ALARM_RECORD_TYPE) return;
    let alarm: ToolchainAlarm;
    try {
      alarm = parseToolchainAlarm(record);
    } catch (error) {
      return fail((error as Error).message);
    }
    const key = alarmKey(alarm);
    if (this.alarmKeys.has(key)) fail(`alarm ${key} was already recorded`);
    const names = (field: string, type: string) => {
      const at = BigInt(alarmField(alarm, field));
      if (at >= index || types.get(at) !== type) fail(`${alarm.kind}: ${field} ${at} is not an earlier ${type} record`);
    };
    if (alarm.kind === 'build-disagrees') {
      names('build-index', 'build');
      names('toolchain-index', TOOLCHAIN_RECORD_TYPE);
    } else if (alarm.kind === 'tag-without-toolchain') {
      names('tag-index', 'tag');
    }
    this.alarmKeys.add(key);
    this.alarms.push({ index, alarm });
  }
}

/** Folds the toolchain and toolchain-alarm records among `records` (other types only give their type). */
export function toolchainLedgerFromRecords(records: Iterable<{ index: bigint; record: LogRecord }>): ToolchainLedger {
  const ledger = new ToolchainLedger();
  const types = new Map<bigint, string>();
  for (const { index, record } of records) {
    types.set(index, record.type);
    ledger.apply(index, record, types);
  }
  return ledger;
}

/**
 * toolchains.txt: `<log index> <sumdb record> <module version> <distpack> <zip h1>` per toolchain record,
 * then `alarm <log index> <kind> <key>` per alarm. Undefined while there are none.
 */
export function toolchainsView(ledger: ToolchainLedger): string | undefined {
  const scans = ledger.scans.all();
  if (ledger.toolchains.length === 0 && ledger.alarms.length === 0 && scans.length === 0) return undefined;
  const lines = ledger.toolchains.map(({ index, toolchain }) =>
    [String(index), String(toolchain.record), toolchain.moduleVersion, toolchain.reproducible ? 'reproducible' : 'not-reproducible', toolchain.goSum[0].split(' ')[2]!].join(' '),
  );
  for (const { index, alarm } of ledger.alarms) lines.push(`alarm ${index} ${alarmKey(alarm)}`);
  for (const { index, scan } of scans) lines.push(`scan ${index} ${scan.database.split('+')[0]} ${scan.start} ${scan.position} ${scan.treeSize}`);
  // The header of logs without scan records is the one they were written with (views are verified byte for byte).
  const scanHeader = scans.length > 0 ? '; scan <log index> <database> <start> <position> <tree size> (the last scan record of each)' : '';
  return `# go-source-witness toolchains in the checksum database: <log index> <sumdb record> <module version> <distpack> <zip h1>; alarm <log index> <kind> <about>${scanHeader}\n${lines.join('\n')}\n`;
}

/** The readable index of toolchain records and their alarms (exists once there is one). */
export const TOOLCHAINS_FILE = 'toolchains.txt';

/**
 * The log's view of its toolchain records (registered in src/witness-schema.ts). Alarms name build and
 * tag records by log index, so the fold is given those too (their type is all it reads of them).
 */
export const TOOLCHAINS_VIEW: RecordFold<string | undefined> = {
  name: 'toolchains',
  recordTypes: [TOOLCHAIN_RECORD_TYPE, TOOLCHAIN_ALARM_RECORD_TYPE, SCAN_RECORD_TYPE, 'tag', 'build'],
  viewFiles: [{ name: TOOLCHAINS_FILE, maxBytes: 1024 * 1024 }],
  // Folding toolchain records checks them (one record per sumdb record number, alarms name earlier records).
  fold: (records) => toolchainsView(toolchainLedgerFromRecords(records)),
  views: (content) => (content === undefined ? [] : [[TOOLCHAINS_FILE, content]]),
};
