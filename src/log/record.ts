// Log entries: UTF-8 text records, deterministic byte for byte (README.md "The log on disk"):
//
//   go-source-witness <type>/v<version>\n
//   <key> <value>\n
//   ...
//
// Keys are lowercase words; values are non-empty single-line UTF-8 without control characters. Keys may
// repeat (e.g. one `file` line per distpack file); order is significant and preserved.
import { FormatError } from '../errors.js';
import { decodeUtf8, utf8 } from '../tlog/encoding.js';

export const RECORD_MAGIC = 'go-source-witness';
/** An entry bundle stores each entry behind a uint16 length (c2sp.org/tlog-tiles). */
export const MAX_RECORD_BYTES = 0xffff;

export interface RecordField {
  readonly key: string;
  readonly value: string;
}

export interface LogRecord {
  readonly type: string;
  readonly version: number;
  readonly fields: readonly RecordField[];
}

const TYPE = /^[a-z][a-z0-9-]{0,31}$/;
const KEY = /^[a-z][a-z0-9-]{0,63}$/;
// No C0/C1 controls, DEL, or Unicode line/paragraph separators in values.
// eslint-disable-next-line no-control-regex
const BAD_VALUE_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why `value` cannot be a record value, or undefined if it can. */
export function recordValueProblem(value: string): string | undefined {
  if (value === '') return 'is empty';
  if (BAD_VALUE_CHARACTER.test(value)) return 'contains a control character';
  if (value !== value.trim()) return 'has leading or trailing white space';
  return undefined;
}

function checkValue(key: string, value: string): void {
  const problem = recordValueProblem(value);
  if (problem) throw new FormatError('MALFORMED_RECORD', `record field ${key} ${problem}`);
}

export function formatRecord(record: LogRecord): Uint8Array {
  if (!TYPE.test(record.type)) throw new FormatError('MALFORMED_RECORD', `invalid record type ${JSON.stringify(record.type)}`);
  if (!Number.isSafeInteger(record.version) || record.version < 1) {
    throw new FormatError('MALFORMED_RECORD', `invalid record version ${record.version}`);
  }
  let text = `${RECORD_MAGIC} ${record.type}/v${record.version}\n`;
  for (const { key, value } of record.fields) {
    if (!KEY.test(key)) throw new FormatError('MALFORMED_RECORD', `invalid record key ${JSON.stringify(key)}`);
    checkValue(key, value);
    text += `${key} ${value}\n`;
  }
  const bytes = utf8(text);
  if (bytes.length > MAX_RECORD_BYTES) {
    throw new FormatError('RECORD_TOO_LARGE', `record of ${bytes.length} bytes exceeds ${MAX_RECORD_BYTES}`);
  }
  return bytes;
}

const HEADER = /^go-source-witness ([a-z][a-z0-9-]{0,31})\/v([1-9][0-9]{0,8})$/;

/**
 * Parses a record strictly: the result formats back to exactly the same bytes. One pass of indexOf over
 * the text (`witness verify` parses every entry of the log: a split and a spread cost a third more).
 */
export function parseRecord(bytes: Uint8Array): LogRecord {
  if (bytes.length > MAX_RECORD_BYTES) throw new FormatError('RECORD_TOO_LARGE', `record of ${bytes.length} bytes`);
  const text = decodeUtf8(bytes, 'MALFORMED_RECORD');
  if (!text.endsWith('\n')) throw new FormatError('MALFORMED_RECORD', 'record does not end with a newline');
  let end = text.indexOf('\n');
  const header = text.slice(0, end);
  const match = HEADER.exec(header);
  if (!match) {
    throw new FormatError('MALFORMED_RECORD', `record header ${JSON.stringify(header.slice(0, 80))} is not "${RECORD_MAGIC} <type>/v<N>"`);
  }
  const fields: RecordField[] = [];
  for (let start = end + 1; start < text.length; start = end + 1) {
    end = text.indexOf('\n', start);
    const space = text.indexOf(' ', start);
    const hasSpace = space >= 0 && space < end;
    const key = text.slice(start, hasSpace ? space : end);
    if (!hasSpace || !KEY.test(key)) {
      throw new FormatError('MALFORMED_RECORD', `record line ${JSON.stringify(text.slice(start, end).slice(0, 80))} is not "<key> <value>"`);
    }
    const value = text.slice(space + 1, end);
    checkValue(key, value);
    fields.push({ key, value });
  }
  return { type: match[1]!, version: Number(match[2]), fields };
}

/** The value of the first field named `key`. */
export function recordValue(record: LogRecord, key: string): string | undefined {
  return record.fields.find((field) => field.key === key)?.value;
}

/**
 * Reads a record's fields in order, for the strict parsers of each record type: `one` takes the next
 * field, which must have `key`; `many` takes every next field with `key`; `has` says whether the next
 * field has it; `end` refuses a field left over. Problems go to `bad` (the type's own FormatError).
 * The record's type and version are checked first.
 */
export function fieldCursor(
  record: LogRecord,
  type: string,
  version: number,
  bad: (why: string) => never,
): { one(key: string): string; many(key: string): string[]; has(key: string): boolean; end(): void } {
  if (record.type !== type || record.version !== version) bad(`type ${record.type}/v${record.version} is not ${type}/v${version}`);
  const fields = record.fields;
  let position = 0;
  return {
    one(key) {
      const field = fields[position];
      if (!field || field.key !== key) bad(`expected field "${key}" at line ${position + 2}, found ${field ? `"${field.key}"` : 'the end'}`);
      position++;
      return field!.value;
    },
    many(key) {
      const values: string[] = [];
      while (fields[position]?.key === key) values.push(fields[position++]!.value);
      return values;
    },
    has: (key) => fields[position]?.key === key,
    end() {
      if (position !== fields.length) bad(`unexpected field "${fields[position]!.key}" at line ${position + 2}`);
    },
  };
}
