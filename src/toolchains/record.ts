// Records of `witness sumdb scan` (types `toolchain` and `toolchain-alarm`, version 1).
//
// toolchain/v1: one golang.org/toolchain record of the Go checksum database, recorded once (by its
// sumdb record number), with the signed tree head it was authenticated against.
//
//   go-source-witness toolchain/v1
//   module-version v0.0.1-go1.21.0.linux-amd64
//   go-version go1.21.0                  } absent when the module version is not v0.0.1-<go>.<goos>-<goarch>
//   target linux/amd64                   }
//   record <sumdb record number>         the leaf index in the checksum database
//   go-sum <go.sum line>                 the record's two lines: zip, then /go.mod
//   go-sum <go.sum line>
//   tree-size <n>                        the signed tree head whose tiles authenticated the record
//   tree-root <base64>
//   distpack reproducible|not-reproducible   whether make.bash -distpack can rebuild it (go1.21.0 and later
//                                        releases and release candidates parsed by build/target.ts)
//   scanned <RFC 3339 UTC>
//
// toolchain-alarm/v1: something the checksum database published that the witness cannot explain.
//
//   alarm toolchain-without-source       go-version, record, module-version, repository, tags-recorded
//   alarm duplicate-module-version       module, version, record, go-sum x2, first-record, first-go-sum x2,
//                                        same-hashes yes|no, tree-size, tree-root
//   alarm build-disagrees                version, target, build-index, toolchain-index, record, built-go-sum,
//                                        recorded-go-sum (the lines that differ)
//   alarm tag-without-toolchain          ref, tag-index, first-seen, days
//   time <RFC 3339 UTC>
//
// Each alarm has a key (alarmKey) that says what it is about; the scan and ingest never append an alarm
// whose key the log already holds, so a crash and a re-run cannot duplicate one.
import { FormatError } from '../errors.js';
import type { LogRecord, RecordField } from '../log/record.js';
import { parseGoSumRecord } from '../sumdb/record.js';
import { decodeBase64 } from '../tlog/encoding.js';
import { formatTarget, isDistpackVersion, parseGoVersion } from '../release/target.js';

export const TOOLCHAIN_RECORD_TYPE = 'toolchain';
export const TOOLCHAIN_ALARM_RECORD_TYPE = 'toolchain-alarm';
/** The module path of Go toolchains in the checksum database (golang.org/toolchain, cmd/go/internal/toolchain). */
export const TOOLCHAIN_MODULE = 'golang.org/toolchain';

export interface ToolchainRecord {
  readonly moduleVersion: string;
  readonly goVersion?: string;
  readonly target?: string;
  readonly record: bigint;
  readonly goSum: readonly [string, string];
  readonly treeSize: bigint;
  readonly treeRoot: string;
  readonly reproducible: boolean;
  readonly scanned: string;
}

export type ToolchainAlarmKind = 'toolchain-without-source' | 'duplicate-module-version' | 'build-disagrees' | 'tag-without-toolchain';
export const TOOLCHAIN_ALARM_KINDS: readonly ToolchainAlarmKind[] = ['toolchain-without-source', 'duplicate-module-version', 'build-disagrees', 'tag-without-toolchain'];

/** An alarm: its kind, its fields in record order (after `alarm`, before `time`), and its time. */
export interface ToolchainAlarm {
  readonly kind: ToolchainAlarmKind;
  readonly fields: readonly RecordField[];
  readonly time: string;
}

const UINT = /^(0|[1-9][0-9]{0,17})$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
/** v0.0.1-<go version>.<goos>-<goarch> (cmd/go/internal/toolchain: "v0.0.1-" + gover + "." + GOOS + "-" + GOARCH). */
const MODULE_VERSION = /^v0\.0\.1-(go[0-9A-Za-z.]+)\.([a-z0-9]{1,16})-([a-z0-9]{1,16})$/;

function bad(what: string, why: string): never {
  throw new FormatError('MALFORMED_TOOLCHAIN_RECORD', `${what}: ${why}`);
}

/** The Go version and target a toolchain module version names, if it has the usual form. */
export function toolchainVersionParts(moduleVersion: string): { goVersion: string; target: string } | undefined {
  const match = MODULE_VERSION.exec(moduleVersion);
  if (!match) return undefined;
  return { goVersion: match[1]!, target: formatTarget({ goos: match[2]!, goarch: match[3]! }) };
}

/** Whether make.bash -distpack can reproduce this Go version (go1.21.0 on; odd versions such as go1.9.2rc2 not). */
export function distpackReproducible(goVersion: string | undefined): boolean {
  const parsed = goVersion === undefined ? undefined : parseGoVersion(goVersion);
  return parsed !== undefined && isDistpackVersion(parsed);
}

export function toolchainRecordToLogRecord(toolchain: ToolchainRecord): LogRecord {
  const fields: RecordField[] = [
    { key: 'module-version', value: toolchain.moduleVersion },
    ...(toolchain.goVersion !== undefined ? [{ key: 'go-version', value: toolchain.goVersion }] : []),
    ...(toolchain.target !== undefined ? [{ key: 'target', value: toolchain.target }] : []),
    { key: 'record', value: String(toolchain.record) },
    { key: 'go-sum', value: toolchain.goSum[0] },
    { key: 'go-sum', value: toolchain.goSum[1] },
    { key: 'tree-size', value: String(toolchain.treeSize) },
    { key: 'tree-root', value: toolchain.treeRoot },
    { key: 'distpack', value: toolchain.reproducible ? 'reproducible' : 'not-reproducible' },
    { key: 'scanned', value: toolchain.scanned },
  ];
  const record = { type: TOOLCHAIN_RECORD_TYPE, version: 1, fields };
  parseToolchainRecord(record); // the same checks as on reading
  return record;
}

/** Parses a toolchain/v1 record strictly: fields in order, values well-formed and consistent. */
export function parseToolchainRecord(record: LogRecord): ToolchainRecord {
  const what = 'toolchain record';
  if (record.type !== TOOLCHAIN_RECORD_TYPE || record.version !== 1) bad(what, `not a ${TOOLCHAIN_RECORD_TYPE}/v1 record`);
  const fields = [...record.fields];
  const take = (key: string, optional = false): string | undefined => {
    if (fields[0]?.key !== key) {
      if (optional) return undefined;
      bad(what, `expected field ${key}, found ${fields[0]?.key ?? 'the end'}`);
    }
    return fields.shift()!.value;
  };
  const moduleVersion = take('module-version')!;
  const goVersion = take('go-version', true);
  const target = take('target', true);
  const recordText = take('record')!;
  const goSum: [string, string] = [take('go-sum')!, take('go-sum')!];
  const treeSize = take('tree-size')!;
  const treeRoot = take('tree-root')!;
  const distpack = take('distpack')!;
  const scanned = take('scanned')!;
  if (fields.length > 0) bad(what, `unexpected field ${fields[0]!.key}`);
  const parts = toolchainVersionParts(moduleVersion);
  if (parts ? parts.goVersion !== goVersion || parts.target !== target : goVersion !== undefined || target !== undefined) {
    bad(what, `go-version and target must be those of module version ${moduleVersion}`);
  }
  if (!UINT.test(recordText) || !UINT.test(treeSize)) bad(what, 'record and tree-size are decimal numbers');
  if (BigInt(recordText) >= BigInt(treeSize)) bad(what, `record ${recordText} is not in the tree of size ${treeSize}`);
  let sum;
  try {
    sum = parseGoSumRecord(`${goSum[0]}\n${goSum[1]}\n`);
  } catch (error) {
    bad(what, (error as Error).message);
  }
  if (sum.path !== TOOLCHAIN_MODULE || sum.version !== moduleVersion) bad(what, `go-sum lines are not for ${TOOLCHAIN_MODULE}@${moduleVersion}`);
  if (decodeBase64(treeRoot, 'MALFORMED_TOOLCHAIN_RECORD', 'tree-root').length !== 32) bad(what, 'tree-root is not 32 bytes');
  if (distpack !== 'reproducible' && distpack !== 'not-reproducible') bad(what, `distpack ${JSON.stringify(distpack)}`);
  if ((distpack === 'reproducible') !== distpackReproducible(goVersion)) bad(what, `distpack ${distpack} is wrong for ${goVersion ?? moduleVersion}`);
  if (!TIME.test(scanned)) bad(what, 'scanned is not an RFC 3339 UTC time');
  return {
    moduleVersion,
    ...(goVersion !== undefined ? { goVersion } : {}),
    ...(target !== undefined ? { target } : {}),
    record: BigInt(recordText),
    goSum,
    treeSize: BigInt(treeSize),
    treeRoot,
    reproducible: distpack === 'reproducible',
    scanned,
  };
}

/** The fields each alarm kind must have, in order (`go-sum`-like keys appear twice). */
const ALARM_FIELDS: Record<ToolchainAlarmKind, readonly string[]> = {
  'toolchain-without-source': ['go-version', 'record', 'module-version', 'repository', 'tags-recorded'],
  'duplicate-module-version': ['module', 'version', 'record', 'go-sum', 'go-sum', 'first-record', 'first-go-sum', 'first-go-sum', 'same-hashes', 'tree-size', 'tree-root'],
  'build-disagrees': ['version', 'target', 'build-index', 'toolchain-index', 'record', 'built-go-sum', 'recorded-go-sum'],
  'tag-without-toolchain': ['ref', 'tag-index', 'first-seen', 'days'],
};
const NUMERIC = new Set(['record', 'first-record', 'tree-size', 'build-index', 'toolchain-index', 'tag-index', 'days']);

export function toolchainAlarmToLogRecord(alarm: ToolchainAlarm): LogRecord {
  const record = { type: TOOLCHAIN_ALARM_RECORD_TYPE, version: 1, fields: [{ key: 'alarm', value: alarm.kind }, ...alarm.fields, { key: 'time', value: alarm.time }] };
  parseToolchainAlarm(record);
  return record;
}

export function parseToolchainAlarm(record: LogRecord): ToolchainAlarm {
  const what = 'toolchain alarm record';
  if (record.type !== TOOLCHAIN_ALARM_RECORD_TYPE || record.version !== 1) bad(what, `not a ${TOOLCHAIN_ALARM_RECORD_TYPE}/v1 record`);
  const [first, ...rest] = record.fields;
  const last = rest.pop();
  if (first?.key !== 'alarm' || !(TOOLCHAIN_ALARM_KINDS as readonly string[]).includes(first.value)) bad(what, 'the first field must be alarm <kind>');
  if (last?.key !== 'time' || !TIME.test(last.value)) bad(what, 'the last field must be time <RFC 3339 UTC>');
  const kind = first.value as ToolchainAlarmKind;
  const keys = ALARM_FIELDS[kind];
  if (rest.length !== keys.length || rest.some((field, i) => field.key !== keys[i])) bad(what, `${kind} needs the fields ${keys.join(', ')}`);
  for (const field of rest) if (NUMERIC.has(field.key) && !UINT.test(field.value)) bad(what, `${field.key} is not a decimal number`);
  if (kind === 'duplicate-module-version') {
    const value = (key: string) => rest.find((f) => f.key === key)!.value;
    if (value('same-hashes') !== 'yes' && value('same-hashes') !== 'no') bad(what, 'same-hashes is yes or no');
    if (BigInt(value('first-record')) >= BigInt(value('record'))) bad(what, 'first-record must be before record');
  }
  return { kind, fields: rest, time: last.value };
}

/** The value of an alarm field. */
export function alarmField(alarm: ToolchainAlarm, key: string): string {
  const field = alarm.fields.find((f) => f.key === key);
  if (!field) throw new Error(`internal: alarm ${alarm.kind} has no ${key}`);
  return field.value;
}

/** What an alarm is about: one alarm per key is ever appended. */
export function alarmKey(alarm: ToolchainAlarm): string {
  switch (alarm.kind) {
    case 'toolchain-without-source':
      return `${alarm.kind} ${alarmField(alarm, 'go-version')}`;
    case 'duplicate-module-version':
      return `${alarm.kind} ${alarmField(alarm, 'record')}`;
    case 'build-disagrees':
      return `${alarm.kind} ${alarmField(alarm, 'build-index')}`;
    case 'tag-without-toolchain':
      return `${alarm.kind} ${alarmField(alarm, 'tag-index')}`;
  }
}
