// Go checksum database records (golang.org/design/25530-sumdb "Checksum Database"; golang/mod
// sumdb/tlog/note.go FormatRecord, ParseRecord, isValidRecordText; sumdb/server.go).
//
// A record (one tlog leaf) is the text of the go.sum lines for one module version:
//
//   <module path> <version> h1:<base64 sha256>\n
//   <module path> <version>/go.mod h1:<base64 sha256>\n
//
// and its leaf hash is SHA-256(0x00 || text). A /lookup response is `<id>\n<text>\n` followed by the signed
// tree note. A data tile `/tile/8/data/<N>[.p/<W>]` holds the texts of records N·256 … N·256+W-1.
import { isUtf8 } from 'node:buffer';
import { FormatError } from '../errors.js';
import { MAX_INT64, decodeBase64, decodeUtf8, parseCanonicalUint, utf8 } from '../tlog/encoding.js';
import { type Hash, leafHash } from '../tlog/merkle.js';
import { TILE_WIDTH } from '../tlog/tile.js';

const MALFORMED_RECORD = 'MALFORMED_RECORD';
const MALFORMED_DATA_TILE = 'MALFORMED_DATA_TILE';

function toBytes(text: Uint8Array | string): Uint8Array {
  return typeof text === 'string' ? utf8(text) : text;
}

/** Why `text` is not valid record text, or undefined if it is. */
function recordTextProblem(text: Uint8Array | string): string | undefined {
  let decoded: string;
  if (typeof text === 'string') {
    // A lone surrogate would be written as U+FFFD by TextEncoder: not the text the caller holds.
    if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text)) {
      return 'record text is not valid Unicode';
    }
    decoded = text;
  } else {
    try {
      decoded = decodeUtf8(text, MALFORMED_RECORD);
    } catch {
      return 'record text is not valid UTF-8';
    }
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(decoded)) return 'record text contains a control character';
  if (!decoded.endsWith('\n')) return 'record text does not end with a newline';
  // Go's isValidRecordText only refuses "\n\n", so it accepts text that *starts* with an empty line (e.g.
  // "\n"). That is an empty line too, and it would make the blank-line-separated data tiles ambiguous, so
  // it is refused here (stricter than Go; no real record starts with a newline).
  if (decoded.startsWith('\n') || decoded.includes('\n\n')) return 'record text contains an empty line';
  return undefined;
}

/**
 * Go isValidRecordText: valid UTF-8, no control characters other than "\n", no empty line, ends in "\n"
 * (and non-empty). Stricter than Go in one way: a leading empty line is refused as well.
 */
export function isValidRecordText(text: Uint8Array | string): boolean {
  return recordTextProblem(text) === undefined;
}

/** Throws FormatError MALFORMED_RECORD unless `text` is valid record text. */
export function checkRecordText(text: Uint8Array | string): void {
  const problem = recordTextProblem(text);
  if (problem !== undefined) throw new FormatError(MALFORMED_RECORD, `malformed record: ${problem}`);
}

/** The tlog leaf hash of a record: SHA-256(0x00 || text) (Go tlog.RecordHash). */
export function recordLeafHash(text: Uint8Array | string): Hash {
  checkRecordText(text);
  return leafHash(toBytes(text));
}

/** Go tlog.FormatRecord: `<id>\n<text>\n`, the start of a /lookup response (the signed note follows). */
export function formatRecord(id: bigint | number, text: Uint8Array | string): Uint8Array {
  const n = BigInt(id);
  if (n < 0n || n > MAX_INT64) throw new FormatError(MALFORMED_RECORD, `record id ${n} is out of range`);
  checkRecordText(text);
  const head = utf8(`${n}\n`);
  const body = toBytes(text);
  const out = new Uint8Array(head.length + body.length + 1);
  out.set(head, 0);
  out.set(body, head.length);
  out[out.length - 1] = 0x0a;
  return out;
}

export interface ParsedRecord {
  readonly id: bigint;
  readonly text: Uint8Array;
  /** What follows the record's terminating blank line: in a /lookup response, the signed tree note. */
  readonly rest: Uint8Array;
}

/**
 * Go tlog.ParseRecord: a record id line, the record text, a blank line, then the rest (the signed note).
 * Stricter than Go on the id: Go's strconv.ParseInt would also take "+5" or "007"; only canonical decimal
 * in 0..2^63-1 is accepted here.
 */
export function parseRecord(msg: Uint8Array): ParsedRecord {
  const bad = (why: string): never => {
    throw new FormatError(MALFORMED_RECORD, `malformed record data: ${why}`);
  };
  const newline = msg.indexOf(0x0a);
  if (newline < 0) bad('no record id line');
  let idText: string;
  try {
    idText = decodeUtf8(msg.subarray(0, newline));
  } catch {
    return bad('record id is not text');
  }
  const id = parseCanonicalUint(idText, MAX_INT64, MALFORMED_RECORD, 'record id');
  const body = msg.subarray(newline + 1);
  const end = indexOfBlankLine(body);
  if (end < 0) bad('no blank line after the record text');
  const text = body.subarray(0, end + 1);
  checkRecordText(text);
  return { id, text, rest: body.subarray(end + 2) };
}

/** Index of the first "\n\n" in `bytes`, or -1. */
function indexOfBlankLine(bytes: Uint8Array, from = 0): number {
  for (let i = bytes.indexOf(0x0a, from); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0x0a, i + 1)) {
    if (bytes[i + 1] === 0x0a) return i;
  }
  return -1;
}

/**
 * Encodes a Go sumdb data tile (`/tile/8/data/<N>[.p/<W>]`): the record texts in leaf order joined with
 * "\n", i.e. a blank line between two records (each text already ends in "\n") and none after the last.
 * No record ids.
 *
 * This is the one spelling accepted (decodeDataTile). Sources, which do not all agree on the last byte:
 * - Clients run against sum.golang.org split exactly this: SSLMate/sourcespotter sumdb/download.go
 *   `splitRecords` takes the text after the last "\n\n" as the last record and demands exactly W records
 *   (a final blank line would make W+1); google/trillian-examples sumdbaudit `dataToLeaves` and
 *   FiloSottile/torchwood tlogclient.go `WithSumDBEntries` (which also refuses leftover bytes) read it so.
 * - golang/mod sumdb/server.go, since commit dec0365 ("make data tiles by Server compatible with
 *   sum.golang.org", golang/go#69348), writes FormatRecord without its id line per record, i.e. one more
 *   "\n" after the last record. Before that commit it wrote the ids too. Neither is accepted here: the
 *   clients above are what has been checked against the real database, every tile of it.
 * The framing never reaches a leaf hash (SHA-256(0x00 || text)), so the choice cannot make a forged
 * record pass; it only decides which servers' tiles are refused (BAD_TILES, an environment error).
 */
export function encodeDataTile(texts: readonly (Uint8Array | string)[]): Uint8Array {
  if (texts.length === 0 || texts.length > TILE_WIDTH) {
    throw new FormatError(MALFORMED_DATA_TILE, `a data tile holds 1..${TILE_WIDTH} records, not ${texts.length}`);
  }
  const parts = texts.map((text) => {
    checkRecordText(text);
    return toBytes(text);
  });
  const length = parts.reduce((sum, part) => sum + part.length, 0) + parts.length - 1;
  const out = new Uint8Array(length);
  let offset = 0;
  parts.forEach((part, i) => {
    out.set(part, offset);
    offset += part.length;
    if (i < parts.length - 1) out[offset++] = 0x0a;
  });
  return out;
}

/**
 * Decodes a Go sumdb data tile into its record texts (each ending in "\n"), strictly: exactly the bytes
 * encodeDataTile writes. Every record must be valid record text, records are separated by exactly one
 * blank line, nothing follows the last record's "\n", and when `width` is given the tile must hold exactly
 * that many records.
 */
export function decodeDataTile(data: Uint8Array, width?: number): Uint8Array[] {
  const offsets = dataTileOffsets(data, width);
  return Array.from({ length: offsets.length - 1 }, (_, i) => data.subarray(offsets[i]!, offsets[i + 1]! - 1));
}

/**
 * decodeDataTile as offsets, without a view per record: record i is data[offsets[i], offsets[i + 1] - 1)
 * (offsets has one entry more than the tile has records; the last is data.length + 1).
 */
export function dataTileOffsets(data: Uint8Array, width?: number): Uint32Array {
  if (width === undefined || (Number.isInteger(width) && width >= 1 && width <= TILE_WIDTH)) {
    const offsets = splitDataTile(data);
    if (offsets !== undefined && (width === undefined || offsets.length === width + 1)) return offsets;
  }
  // Not well-formed (or a bad width): the byte-by-byte decoder says exactly why.
  const texts = decodeDataTileByteByByte(data, width);
  const offsets = new Uint32Array(texts.length + 1);
  texts.forEach((text, i) => (offsets[i] = text.byteOffset - data.byteOffset));
  offsets[texts.length] = data.length + 1;
  return offsets;
}

/**
 * The record offsets of a well-formed data tile (as dataTileOffsets); undefined for anything else, which
 * decodeDataTileByteByByte then refuses with its reason. Accepts exactly what that decoder accepts, with
 * the same records (test/sumdb-dirhash.test.ts checks both on generated tiles, at every alignment).
 *
 * Fast because bytes below 0x20 are rare (the newlines, three per record): the tile is read four bytes at
 * a time, and only a word holding such a byte is looked at byte by byte. A word x holds a byte below 0x20
 * exactly when (x - 0x20202020) & ~x & 0x80808080 is not 0 ("determine if a word has a byte less than n",
 * n <= 128: graphics.stanford.edu/~seander/bithacks.html#HasLessInWord); it may flag more bytes than those,
 * but never misses one, and every byte of a flagged word is checked. Either byte order gives the same answer.
 */
function splitDataTile(data: Uint8Array): Uint32Array | undefined {
  const n = data.length;
  // Not empty, ends in "\n" but not in a blank line, does not start with an empty line.
  if (n === 0 || data[n - 1] !== 0x0a || data[0] === 0x0a || (n >= 2 && data[n - 2] === 0x0a)) return undefined;
  if (!isUtf8(data)) return undefined;
  const offsets = new Uint32Array(TILE_WIDTH + 1);
  let count = 1; // offsets[0] = 0: the first record
  // Byte i is below 0x20: it must be "\n"; "\n\n" ends a record, "\n\n\n" starts one with an empty line.
  // The second "\n" of a pair is seen again on its own, and passes (it is followed by a record's first byte).
  const below = (i: number): boolean => {
    if (data[i] !== 0x0a) return false;
    if (data[i + 1] === 0x0a) {
      if (data[i + 2] === 0x0a || count >= TILE_WIDTH) return false;
      offsets[count++] = i + 2;
    }
    return true;
  };
  const aligned = Math.min(n, (4 - (data.byteOffset & 3)) & 3); // bytes before the first 4-byte boundary
  for (let i = 0; i < aligned; i++) if (data[i]! < 0x20 && !below(i)) return undefined;
  const wordCount = (n - aligned) >>> 2;
  // (A short tile may end before the boundary, where a view cannot start.)
  const words = wordCount === 0 ? new Uint32Array(0) : new Uint32Array(data.buffer, data.byteOffset + aligned, wordCount);
  for (let w = 0; w < wordCount; w++) {
    const x = words[w]!;
    if (((x - 0x20202020) & ~x & 0x80808080) === 0) continue;
    for (let i = aligned + 4 * w, stop = i + 4; i < stop; i++) if (data[i]! < 0x20 && !below(i)) return undefined;
  }
  for (let i = aligned + 4 * wordCount; i < n; i++) if (data[i]! < 0x20 && !below(i)) return undefined;
  offsets[count] = n + 1;
  return offsets.subarray(0, count + 1);
}

/** decodeDataTile one byte at a time, with the reason for any refusal. Exported for tests. */
export function decodeDataTileByteByByte(data: Uint8Array, width?: number): Uint8Array[] {
  const bad = (why: string): never => {
    throw new FormatError(MALFORMED_DATA_TILE, `malformed data tile: ${why}`);
  };
  if (width !== undefined && (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH)) {
    bad(`width ${width} is not in 1..${TILE_WIDTH}`);
  }
  if (data.length === 0) bad('empty');
  if (data.length >= 2 && data[data.length - 1] === 0x0a && data[data.length - 2] === 0x0a) {
    bad('a blank line after the last record (sum.golang.org ends a data tile with the last record)');
  }
  // One pass over the bytes, with the rules of checkRecordText for every record: valid UTF-8 (checked for
  // the whole tile at once: records are cut at ASCII newlines, never inside a character), no control
  // character but "\n", each record non-empty, not starting with "\n", ending in "\n"; records are cut
  // at each blank line.
  if (!isUtf8(data)) bad('record text is not valid UTF-8');
  const texts: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    if (byte >= 0x20) continue;
    if (byte !== 0x0a) bad(`record ${texts.length}: malformed record: record text contains a control character`);
    if (i === start) bad(`record ${texts.length}: malformed record: record text contains an empty line`);
    if (data[i + 1] === 0x0a) {
      texts.push(data.subarray(start, i + 1));
      if (texts.length > TILE_WIDTH) bad(`more than ${TILE_WIDTH} records`);
      start = i + 2;
      i++;
    }
  }
  if (start >= data.length) bad(`record ${texts.length}: malformed record: record text is empty`);
  if (data[data.length - 1] !== 0x0a) bad(`record ${texts.length}: malformed record: record text does not end with a newline`);
  texts.push(data.subarray(start));
  if (texts.length > TILE_WIDTH) bad(`more than ${TILE_WIDTH} records`);
  if (width !== undefined && texts.length !== width) bad(`holds ${texts.length} records, want ${width}`);
  return texts;
}

/** The two go.sum lines of one sumdb record. */
export interface GoSumRecord {
  readonly path: string;
  readonly version: string;
  /** `h1:` hash of the module zip (dirhash Hash1). */
  readonly hash: string;
  /** `h1:` hash of the go.mod file (Hash1 over one file named `go.mod`). */
  readonly goModHash: string;
}

/** Checks an `h1:` hash: "h1:" + padded base64 of 32 bytes; returns the 32 bytes. */
export function parseH1(hash: string): Uint8Array {
  if (!hash.startsWith('h1:')) throw new FormatError(MALFORMED_RECORD, `hash ${JSON.stringify(hash)} is not an h1: hash`);
  const bytes = decodeBase64(hash.slice(3), MALFORMED_RECORD, 'h1: hash');
  if (bytes.length !== 32) throw new FormatError(MALFORMED_RECORD, `h1: hash is ${bytes.length} bytes, want 32`);
  return bytes;
}

function checkField(value: string, what: string): void {
  // Fields are separated by single spaces and lines by "\n"; go.sum module paths and versions never
  // contain white space or control characters.
  // eslint-disable-next-line no-control-regex
  if (value === '' || /[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new FormatError(MALFORMED_RECORD, `${what} ${JSON.stringify(value)} is empty or contains white space`);
  }
}

/** The record text for a module version: its two go.sum lines. */
export function formatGoSumRecord(record: GoSumRecord): string {
  checkField(record.path, 'module path');
  checkField(record.version, 'version');
  if (record.version.endsWith('/go.mod')) {
    throw new FormatError(MALFORMED_RECORD, `version ${JSON.stringify(record.version)} ends in /go.mod`);
  }
  parseH1(record.hash);
  parseH1(record.goModHash);
  const text =
    `${record.path} ${record.version} ${record.hash}\n` + `${record.path} ${record.version}/go.mod ${record.goModHash}\n`;
  checkRecordText(text);
  return text;
}

/**
 * Parses the text of a sumdb record strictly: exactly two go.sum lines for one module version, the zip
 * hash line first and the /go.mod line second, both `h1:` hashes of 32 bytes.
 */
export function parseGoSumRecord(text: Uint8Array | string): GoSumRecord {
  checkRecordText(text);
  const decoded = typeof text === 'string' ? text : decodeUtf8(text, MALFORMED_RECORD);
  const lines = decoded.slice(0, -1).split('\n');
  const bad = (why: string): never => {
    throw new FormatError(MALFORMED_RECORD, `malformed go.sum record: ${why}`);
  };
  if (lines.length !== 2) bad(`${lines.length} lines, want 2`);
  const [zipFields, modFields] = lines.map((line) => line.split(' ')) as [string[], string[]];
  if (zipFields.length !== 3 || modFields.length !== 3) bad('a line does not have exactly three fields');
  const [path, version, hash] = zipFields as [string, string, string];
  const [modPath, modVersion, goModHash] = modFields as [string, string, string];
  if (modPath !== path || modVersion !== `${version}/go.mod`) bad('the /go.mod line is not for the same module version');
  const record = { path, version, hash, goModHash };
  if (formatGoSumRecord(record) !== decoded) bad('not in canonical form');
  return record;
}
