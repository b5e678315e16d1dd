// Zip files written byte by byte (APPNOTE.TXT §4.3), so that tests can build the layouts Go's
// archive/zip writes (data descriptors, zeros in the local header) and break any one field of them.
import { crc32, deflateRawSync } from 'node:zlib';

export interface RawEntry {
  readonly name: string | Buffer;
  readonly content: Buffer;
  /** 0 stored, 8 deflate (default). */
  readonly method?: number;
  /** Write a data descriptor (flag 0x8) after the data; `signed` adds its optional signature. Default: signed. */
  readonly descriptor?: 'signed' | 'unsigned' | 'none';
  /** Changes to this entry's records before they are written. */
  readonly local?: Partial<Fields> & { name?: Buffer; extra?: Buffer };
  readonly central?: Partial<Fields> & { name?: Buffer; offset?: number };
  readonly dataDescriptor?: Partial<Pick<Fields, 'crc32' | 'compressedSize' | 'size'>>;
  /** Bytes written instead of the compressed data (e.g. with trailing junk). */
  readonly data?: Buffer;
  /** Bytes written after the entry (and its descriptor), before the next. */
  readonly gap?: Buffer;
}

interface Fields {
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
}

export interface RawZipOptions {
  /** Bytes before the first entry. */
  readonly prefix?: Buffer;
  /** Bytes after the end of central directory record. */
  readonly suffix?: Buffer;
  /** Overrides of end record fields. */
  readonly end?: { entries?: number; directorySize?: number; directoryOffset?: number };
  /** Extra central directory records pointing at entries already written (by index). */
  readonly aliases?: ReadonlyArray<{ of: number; name: string }>;
}

export function rawZip(entries: readonly RawEntry[], options: RawZipOptions = {}): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (buffer: Buffer) => {
    parts.push(buffer);
    offset += buffer.length;
  };
  if (options.prefix) push(options.prefix);
  const central: Buffer[] = [];
  const written: Array<{ name: Buffer; fields: Fields; offset: number }> = [];
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const method = entry.method ?? 8;
    const data = entry.data ?? (method === 8 ? deflateRawSync(entry.content) : entry.content);
    const descriptor = entry.descriptor ?? 'signed';
    const real: Fields = {
      flags: (descriptor === 'none' ? 0 : 0x8) | (/[^\x00-\x7f]/.test(name.toString('latin1')) ? 0x800 : 0),
      method,
      crc32: crc32(entry.content) >>> 0,
      compressedSize: (entry.data ?? data).length,
      size: entry.content.length,
    };
    const headerOffset = offset;
    const localFields: Fields = descriptor === 'none' ? { ...real } : { ...real, crc32: 0, compressedSize: 0, size: 0 };
    Object.assign(localFields, entry.local);
    const localName = entry.local?.name ?? name;
    const localExtra = entry.local?.extra ?? Buffer.alloc(0);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(localFields.flags, 6);
    header.writeUInt16LE(localFields.method, 8);
    header.writeUInt32LE(localFields.crc32, 14);
    header.writeUInt32LE(localFields.compressedSize, 18);
    header.writeUInt32LE(localFields.size, 22);
    header.writeUInt16LE(localName.length, 26);
    header.writeUInt16LE(localExtra.length, 28);
    push(Buffer.concat([header, localName, localExtra, data]));
    if (descriptor !== 'none') {
      const d = { crc32: real.crc32, compressedSize: real.compressedSize, size: real.size, ...entry.dataDescriptor };
      const bytes = Buffer.alloc(descriptor === 'signed' ? 16 : 12);
      let at = 0;
      if (descriptor === 'signed') {
        bytes.writeUInt32LE(0x08074b50, 0);
        at = 4;
      }
      bytes.writeUInt32LE(d.crc32, at);
      bytes.writeUInt32LE(d.compressedSize, at + 4);
      bytes.writeUInt32LE(d.size, at + 8);
      push(bytes);
    }
    if (entry.gap) push(entry.gap);
    const centralFields: Fields = { ...real, ...entry.central };
    written.push({ name: entry.central?.name ?? name, fields: centralFields, offset: entry.central?.offset ?? headerOffset });
  }
  for (const alias of options.aliases ?? []) written.push({ ...written[alias.of]!, name: Buffer.from(alias.name) });
  for (const { name, fields, offset: at } of written) {
    const record = Buffer.alloc(46);
    record.writeUInt32LE(0x02014b50, 0);
    record.writeUInt16LE(0x0314, 4);
    record.writeUInt16LE(20, 6);
    record.writeUInt16LE(fields.flags, 8);
    record.writeUInt16LE(fields.method, 10);
    record.writeUInt32LE(fields.crc32, 16);
    record.writeUInt32LE(fields.compressedSize, 20);
    record.writeUInt32LE(fields.size, 24);
    record.writeUInt16LE(name.length, 28);
    record.writeUInt32LE(at, 42);
    central.push(Buffer.concat([record, name]));
  }
  const directory = Buffer.concat(central);
  const directoryOffset = offset;
  push(directory);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.end?.entries ?? written.length, 8);
  end.writeUInt16LE(options.end?.entries ?? written.length, 10);
  end.writeUInt32LE(options.end?.directorySize ?? directory.length, 12);
  end.writeUInt32LE(options.end?.directoryOffset ?? directoryOffset, 16);
  push(end);
  if (options.suffix) push(options.suffix);
  return Buffer.concat(parts);
}
