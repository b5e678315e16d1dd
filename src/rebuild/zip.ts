// A strict reader for the layout of a module zip (APPNOTE.TXT, the PKWARE .ZIP File Format
// Specification, §4.3: local file headers, data descriptors, central directory, end of central
// directory record): which entries a zip holds and where their bytes are, checked from both sides. It
// reads the central directory with positional reads on an open file descriptor; each entry's own
// records are checked from bytes its reader passes in, and nothing here decompresses (zip-digest.ts does).
//
// Strict where Go's archive/zip is lenient, so that one zip cannot mean two things: every entry's local
// header must repeat its central directory record (name, method, flags; CRC-32 and sizes, or zeros when
// a data descriptor follows, which must then repeat them); entries must tile the file from offset 0 to
// the central directory with nothing between them, and the end record must end the file; names must be
// clean relative UTF-8 paths, each once. Refused as well: encryption, compression other than
// stored/deflate, zip64 and multi-disk archives, and zips or contents over golang.org/x/mod/zip's
// MaxZipFile (500 MiB), which the go command enforces for every module zip.
import { readSync } from 'node:fs';
import { FormatError } from '../errors.js';

/** golang.org/x/mod/zip MaxZipFile: the most a module zip, and the most its extracted content, may be. */
export const MAX_ZIP_FILE = 500 * 1024 * 1024;

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const DATA_DESCRIPTOR = 0x08074b50;
const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const END_SIZE = 22;
const MAX_COMMENT = 0xffff;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;
const FLAG_MASKED_DIRECTORY = 0x2000;

export const METHOD_STORED = 0;
export const METHOD_DEFLATED = 8;

export interface ZipEntry {
  /** The name as stored (UTF-8), e.g. `golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64/bin/go`. */
  readonly name: string;
  readonly method: typeof METHOD_STORED | typeof METHOD_DEFLATED;
  readonly flags: number;
  /** CRC-32 of the content, as an unsigned 32-bit number. */
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of the entry's local file header. */
  readonly headerOffset: number;
  /** The name's bytes as stored, for comparing with the local header. */
  readonly rawName: Buffer;
  /** Where the entry's bytes must end: the next entry's header offset, or the central directory's. */
  readonly limit: number;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** How errors name an entry (only built for an error: JSON.stringify of every name costs more than parsing). */
function entryName(name: string): string {
  return `entry ${JSON.stringify(name)}`;
}

function malformed(file: string, message: string): FormatError {
  return new FormatError('MALFORMED_ZIP', `${file}: ${message}`);
}

/** Reads exactly `length` bytes at `position` (regular files return short reads only at the end). */
export function readExactly(fd: number, length: number, position: number, file: string): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) throw malformed(file, `ends at ${position + done}, inside a record that needs ${length} bytes at ${position}`);
    done += n;
  }
  return buffer;
}

const SLASH = 0x2f;
const DOT = 0x2e;
const BACKSLASH = 0x5c;

/**
 * Why a stored name is not one a module zip may hold, or undefined: it must be a relative
 * slash-separated path without empty, `.` or `..` elements, backslashes or control characters. A trailing
 * `/` (an empty directory entry, which golang.org/x/mod/zip allows and dirhash.HashZip hashes as an empty
 * file) is allowed. One pass over the bytes (all the characters checked are ASCII, so this holds for
 * UTF-8 too); `ascii` says whether every byte is, so that decoding can skip the UTF-8 decoder.
 */
function checkNameBytes(raw: Buffer): { reason?: string; ascii: boolean } {
  if (raw.length === 0) return { reason: 'is empty', ascii: true };
  if (raw[0] === SLASH) return { reason: 'is absolute', ascii: true };
  let ascii = true;
  let start = 0;
  for (let i = 0; i <= raw.length; i++) {
    const b = i < raw.length ? raw[i]! : SLASH;
    if (b >= 0x80) {
      ascii = false;
      continue;
    }
    if (b < 0x20 || b === 0x7f) return { reason: 'contains a control character', ascii };
    if (b === BACKSLASH) return { reason: 'contains a backslash', ascii };
    if (b !== SLASH) continue;
    const length = i - start;
    const trailingSlash = i === raw.length && length === 0;
    if (!trailingSlash && (length === 0 || (length === 1 && raw[start] === DOT) || (length === 2 && raw[start] === DOT && raw[start + 1] === DOT))) {
      return { reason: 'has an empty, "." or ".." element', ascii };
    }
    start = i + 1;
  }
  return { ascii };
}

/** The end of central directory record: where the central directory is and how many entries it holds. */
function readEnd(fd: number, fileSize: number, file: string): { entries: number; directoryOffset: number; directorySize: number; endOffset: number } {
  if (fileSize < END_SIZE) throw malformed(file, `is ${fileSize} bytes, too short for a zip`);
  const tailSize = Math.min(fileSize, END_SIZE + MAX_COMMENT);
  const tail = readExactly(fd, tailSize, fileSize - tailSize, file);
  // The record that ends the file exactly: its comment runs to the last byte.
  let at = -1;
  for (let i = tailSize - END_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY && i + END_SIZE + tail.readUInt16LE(i + 20) === tailSize) {
      at = i;
      break;
    }
  }
  if (at < 0) throw malformed(file, 'has no end of central directory record at its end (not a zip, or bytes after it)');
  const endOffset = fileSize - tailSize + at;
  const disk = tail.readUInt16LE(at + 4);
  const directoryDisk = tail.readUInt16LE(at + 6);
  const entriesHere = tail.readUInt16LE(at + 8);
  const entries = tail.readUInt16LE(at + 10);
  const directorySize = tail.readUInt32LE(at + 12);
  const directoryOffset = tail.readUInt32LE(at + 16);
  if (entries === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff || (endOffset >= 20 && readExactly(fd, 4, endOffset - 20, file).readUInt32LE(0) === ZIP64_LOCATOR)) {
    throw malformed(file, 'is a zip64 archive: not supported (a module zip is at most 500 MiB)');
  }
  if (disk !== 0 || directoryDisk !== 0 || entriesHere !== entries) throw malformed(file, 'spans several disks: not supported');
  if (directoryOffset + directorySize !== endOffset) {
    throw malformed(file, `its central directory (${directorySize} bytes at ${directoryOffset}) does not end where the end record starts (${endOffset})`);
  }
  return { entries, directoryOffset, directorySize, endOffset };
}

/**
 * Every entry of the zip open on `fd`, in central directory order, checked against the end record, for
 * names, and for tiling the file (see entryLimits); each entry's local header is checked later by
 * checkEntryRecord. `file` only names the zip in errors.
 */
export function readCentralDirectory(fd: number, fileSize: number, file: string): ZipEntry[] {
  if (fileSize > MAX_ZIP_FILE) throw malformed(file, `is ${fileSize} bytes, over the ${MAX_ZIP_FILE}-byte limit for a module zip`);
  const end = readEnd(fd, fileSize, file);
  const directory = readExactly(fd, end.directorySize, end.directoryOffset, file);
  const entries: Array<{ -readonly [K in keyof ZipEntry]: ZipEntry[K] }> = [];
  const names = new Set<string>();
  let totalSize = 0;
  let p = 0;
  for (let i = 0; i < end.entries; i++) {
    if (p + CENTRAL_HEADER_SIZE > directory.length || directory.readUInt32LE(p) !== CENTRAL_HEADER) {
      throw malformed(file, `central directory record ${i + 1} of ${end.entries} is missing or malformed`);
    }
    const flags = directory.readUInt16LE(p + 8);
    const method = directory.readUInt16LE(p + 10);
    const crc32 = directory.readUInt32LE(p + 16);
    const compressedSize = directory.readUInt32LE(p + 20);
    const size = directory.readUInt32LE(p + 24);
    const nameLength = directory.readUInt16LE(p + 28);
    const extraLength = directory.readUInt16LE(p + 30);
    const commentLength = directory.readUInt16LE(p + 32);
    const disk = directory.readUInt16LE(p + 34);
    const headerOffset = directory.readUInt32LE(p + 42);
    const recordSize = CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
    if (p + recordSize > directory.length) throw malformed(file, `central directory record ${i + 1} runs past the central directory`);
    const rawName = directory.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength);
    const checked = checkNameBytes(rawName);
    let name: string;
    if (checked.ascii) name = rawName.toString('latin1');
    else {
      try {
        name = strictUtf8.decode(rawName);
      } catch {
        throw malformed(file, `entry ${i + 1}'s name is not UTF-8`);
      }
    }
    if (checked.reason) throw malformed(file, `${entryName(name)}: the name ${checked.reason}`);
    if (names.has(name)) throw malformed(file, `${entryName(name)} appears twice`);
    names.add(name);
    if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_DIRECTORY)) throw malformed(file, `${entryName(name)} is encrypted`);
    if (method !== METHOD_STORED && method !== METHOD_DEFLATED) throw malformed(file, `${entryName(name)} uses compression method ${method} (only stored and deflate are supported)`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || headerOffset === 0xffffffff) throw malformed(file, `${entryName(name)} needs zip64: not supported`);
    if (disk !== 0) throw malformed(file, `${entryName(name)} is on another disk`);
    if (method === METHOD_STORED && compressedSize !== size) throw malformed(file, `${entryName(name)} is stored but its compressed size ${compressedSize} differs from its size ${size}`);
    if (name.endsWith('/') && size !== 0) throw malformed(file, `${entryName(name)} is a directory with ${size} bytes of content`);
    totalSize += size;
    if (totalSize > MAX_ZIP_FILE) throw malformed(file, `its content is over the ${MAX_ZIP_FILE}-byte limit for a module zip`);
    entries.push({ name, method, flags, crc32, compressedSize, size, headerOffset, rawName, limit: 0 });
    p += recordSize;
  }
  if (p !== directory.length) throw malformed(file, `${directory.length - p} bytes in the central directory after its ${end.entries} records`);
  const limits = entryLimits(entries, end.directoryOffset, file);
  for (let i = 0; i < entries.length; i++) entries[i]!.limit = limits[i]!;
  return entries;
}

/**
 * The offsets at which each entry must end: entries sorted by header offset must tile
 * [0, central directory): the first at 0, each ending where the next begins. Returns, per entry (in
 * the given order), the offset its bytes must end at.
 */
function entryLimits(entries: ReadonlyArray<Omit<ZipEntry, 'limit'>>, directoryOffset: number, file: string): number[] {
  const order = entries.map((_, i) => i).sort((a, b) => entries[a]!.headerOffset - entries[b]!.headerOffset);
  const limits = new Array<number>(entries.length);
  for (let k = 0; k < order.length; k++) {
    const entry = entries[order[k]!]!;
    if (k === 0 && entry.headerOffset !== 0) throw malformed(file, `${entry.headerOffset} bytes before the first entry`);
    if (k > 0 && entry.headerOffset === entries[order[k - 1]!]!.headerOffset) throw malformed(file, `entries ${JSON.stringify(entries[order[k - 1]!]!.name)} and ${JSON.stringify(entry.name)} share one local header`);
    limits[order[k]!] = k + 1 < order.length ? entries[order[k + 1]!]!.headerOffset : directoryOffset;
  }
  if (entries.length === 0 && directoryOffset !== 0) throw malformed(file, `${directoryOffset} bytes before the central directory of an empty zip`);
  return limits;
}

/** How many bytes of an entry's region checkEntryRecord needs from its start: the fixed header and the name. */
export function localHeaderLength(entry: ZipEntry): number {
  return LOCAL_HEADER_SIZE + entry.rawName.length;
}

/** Where an entry's compressed bytes start, from the start of its region (the local header's extra length is read there). */
export function dataStart(entry: ZipEntry, header: Buffer): number {
  return LOCAL_HEADER_SIZE + entry.rawName.length + header.readUInt16LE(28);
}

/**
 * Checks the bytes of one entry's region [headerOffset, limit) around its data against its central
 * directory record: `header` is the region's first localHeaderLength(entry) bytes, `trailer` every
 * byte after the compressed data up to the limit (its data descriptor when flagged, else nothing).
 * Whoever read the region sliced the data at dataStart(entry, header): the same bytes.
 */
export function checkEntryRecord(entry: ZipEntry, header: Buffer, trailer: Buffer, file: string): void {
  if (header.length < localHeaderLength(entry) || header.readUInt32LE(0) !== LOCAL_HEADER) throw malformed(file, `${entryName(entry.name)}: no local file header at ${entry.headerOffset}`);
  const flags = header.readUInt16LE(6);
  const method = header.readUInt16LE(8);
  const crc32 = header.readUInt32LE(14);
  const compressedSize = header.readUInt32LE(18);
  const size = header.readUInt32LE(22);
  const nameLength = header.readUInt16LE(26);
  if (nameLength !== entry.rawName.length || !header.subarray(LOCAL_HEADER_SIZE, LOCAL_HEADER_SIZE + nameLength).equals(entry.rawName)) {
    throw malformed(file, `${entryName(entry.name)}: the local header names another file`);
  }
  if (flags !== entry.flags) throw malformed(file, `${entryName(entry.name)}: the local header's flags 0x${flags.toString(16)} differ from the central directory's 0x${entry.flags.toString(16)}`);
  if (method !== entry.method) throw malformed(file, `${entryName(entry.name)}: the local header's compression method ${method} differs from the central directory's ${entry.method}`);
  const descriptor = (entry.flags & FLAG_DATA_DESCRIPTOR) !== 0;
  // With a data descriptor, the local header may leave CRC-32 and sizes zero (Go's archive/zip writer does).
  const agrees = (local: number, central: number) => local === central || (descriptor && local === 0);
  if (!agrees(crc32, entry.crc32) || !agrees(compressedSize, entry.compressedSize) || !agrees(size, entry.size)) {
    throw malformed(file, `${entryName(entry.name)}: the local header's CRC-32 or sizes differ from the central directory's`);
  }
  if (!descriptor) {
    if (trailer.length > 0) throw malformed(file, `${entryName(entry.name)}: ${trailer.length} unaccounted bytes after it`);
    return;
  }
  // APPNOTE 4.3.9: [signature] crc-32, compressed size, uncompressed size (4 bytes each without zip64).
  const repeats = (at: number) => trailer.readUInt32LE(at) === entry.crc32 && trailer.readUInt32LE(at + 4) === entry.compressedSize && trailer.readUInt32LE(at + 8) === entry.size;
  const signed = trailer.length === 16 && trailer.readUInt32LE(0) === DATA_DESCRIPTOR && repeats(4);
  if (!signed && !(trailer.length === 12 && repeats(0))) {
    throw malformed(file, `${entryName(entry.name)}: no data descriptor repeating the central directory's CRC-32 and sizes right after its data (${trailer.length} bytes there)`);
  }
}
