// A small Mach-O builder for tests (mach_header_64 and load commands as in <mach-o/loader.h>): arm64
// executables laid out like Go's linker writes them, signed (LC_CODE_SIGNATURE last, the blob at the end
// of __LINKEDIT, as Apple's codesign leaves them) or not. Used by test/macho.test.ts and the published
// darwin toolchain fixtures.
import assert from 'node:assert/strict';


export const LC_SEGMENT = 0x1;
export const LC_SYMTAB = 0x2;
export const LC_DYSYMTAB = 0xb;
export const LC_LOAD_DYLIB = 0xc;
export const LC_SEGMENT_64 = 0x19;
export const LC_UUID = 0x1b;
export const LC_CODE_SIGNATURE = 0x1d;
export const LC_RPATH = 0x8000001c;

export const HEADER_PAD = 0x400; // header + load commands live in [0, HEADER_PAD); the rest is zero padding
export const TEXT_OFF = HEADER_PAD;
export const PAGE = 0x4000;

export function segment64(name: string, f: { vmaddr?: bigint; vmsize?: bigint; fileoff?: bigint; filesize?: bigint; sections?: Buffer[] }): Buffer {
  const sections = f.sections ?? [];
  const b = Buffer.alloc(72);
  b.writeUInt32LE(LC_SEGMENT_64, 0);
  b.writeUInt32LE(72 + 80 * sections.length, 4);
  b.write(name, 8, 16, 'latin1');
  b.writeBigUInt64LE(f.vmaddr ?? 0n, 24);
  b.writeBigUInt64LE(f.vmsize ?? 0n, 32);
  b.writeBigUInt64LE(f.fileoff ?? 0n, 40);
  b.writeBigUInt64LE(f.filesize ?? 0n, 48);
  b.writeUInt32LE(5, 56); // maxprot
  b.writeUInt32LE(5, 60); // initprot
  b.writeUInt32LE(sections.length, 64);
  return Buffer.concat([b, ...sections]);
}

export function section64(sectname: string, segname: string, f: { addr: bigint; size: bigint; offset: number }): Buffer {
  const b = Buffer.alloc(80);
  b.write(sectname, 0, 16, 'latin1');
  b.write(segname, 16, 16, 'latin1');
  b.writeBigUInt64LE(f.addr, 32);
  b.writeBigUInt64LE(f.size, 40);
  b.writeUInt32LE(f.offset, 48);
  b.writeUInt32LE(4, 52); // align 2^4
  return b; // reloff, nreloc = 0 (at 56, 60)
}

export function segment32(name: string): Buffer {
  const b = Buffer.alloc(56);
  b.writeUInt32LE(LC_SEGMENT, 0);
  b.writeUInt32LE(56, 4);
  b.write(name, 8, 16, 'latin1');
  return b;
}

export function rpath(p: string, pathOffset = 12): Buffer {
  const size = Math.ceil((12 + p.length + 1) / 8) * 8;
  const b = Buffer.alloc(size);
  b.writeUInt32LE(LC_RPATH, 0);
  b.writeUInt32LE(size, 4);
  b.writeUInt32LE(pathOffset, 8);
  b.write(p, 12, 'latin1');
  return b;
}

export function uuid(): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(LC_UUID, 0);
  b.writeUInt32LE(24, 4);
  for (let i = 0; i < 16; i++) b[8 + i] = 0xa0 + i;
  return b;
}

export interface BuildOptions {
  readonly signed: boolean;
  /** Load commands placed before __PAGEZERO. */
  readonly prefix?: readonly Buffer[];
  /** Load commands placed after LC_CODE_SIGNATURE (or after LC_UUID when unsigned). */
  readonly suffix?: readonly Buffer[];
  readonly textSize?: number;
  readonly sigSize?: number;
}

export interface Built {
  readonly data: Buffer;
  readonly ncmds: number;
  readonly sizeofcmds: number;
  /** File offsets of some load commands. */
  readonly at: { readonly text: number; readonly linkedit: number; readonly symtab: number; readonly dysymtab: number; readonly dylib: number; readonly sig: number };
  /** Bytes of __LINKEDIT before the signature (symbols, indirect symbols, strings). */
  readonly linkData: number;
  readonly linkeditOff: number;
  /** LC_CODE_SIGNATURE dataoff (where the signature starts, or would). */
  readonly sigOff: number;
  readonly sigSize: number;
}

/**
 * An arm64 executable laid out like one from Go's linker: __PAGEZERO, __TEXT (one __text section),
 * __LINKEDIT, LC_SYMTAB, LC_DYSYMTAB, LC_LOAD_DYLIB, LC_UUID and, when signed, LC_CODE_SIGNATURE last
 * with the signature blob at the end of __LINKEDIT. Signing (like Apple's codesign) grows __LINKEDIT's
 * filesize by the signature and rounds its vmsize up to a page; unsigned, vmsize = filesize.
 */
export function buildMachO(options: BuildOptions): Built {
  const textSize = options.textSize ?? 0x200;
  const sigSize = options.sigSize ?? 0x1f3;
  const linkeditOff = TEXT_OFF + Math.ceil(textSize / 16) * 16;
  // __LINKEDIT: 3 nlist_64 (48 bytes), 1 indirect symbol padded to 16, string table padded to 16.
  const strings = Buffer.from('\0_main\0_runtime.text\0_write\0\0\0\0\0', 'latin1'); // 32 bytes
  const symoff = linkeditOff;
  const indirectOff = symoff + 48;
  const stroff = indirectOff + 16;
  const linkData = stroff + strings.length - linkeditOff;
  const sigOff = linkeditOff + linkData;
  const linkFilesize = BigInt(linkData + (options.signed ? sigSize : 0));
  const linkVmsize = options.signed ? ((linkFilesize + BigInt(PAGE - 1)) / BigInt(PAGE)) * BigInt(PAGE) : linkFilesize;

  const pagezero = segment64('__PAGEZERO', { vmsize: 0x100000000n });
  const text = segment64('__TEXT', {
    vmaddr: 0x100000000n,
    vmsize: BigInt(PAGE),
    filesize: BigInt(linkeditOff),
    sections: [section64('__text', '__TEXT', { addr: 0x100000000n + BigInt(TEXT_OFF), size: BigInt(textSize), offset: TEXT_OFF })],
  });
  const linkedit = segment64('__LINKEDIT', { vmaddr: 0x100004000n, vmsize: linkVmsize, fileoff: BigInt(linkeditOff), filesize: linkFilesize });
  const symtab = Buffer.alloc(24);
  symtab.writeUInt32LE(LC_SYMTAB, 0);
  symtab.writeUInt32LE(24, 4);
  symtab.writeUInt32LE(symoff, 8);
  symtab.writeUInt32LE(3, 12);
  symtab.writeUInt32LE(stroff, 16);
  symtab.writeUInt32LE(strings.length, 20);
  const dysymtab = Buffer.alloc(80);
  dysymtab.writeUInt32LE(LC_DYSYMTAB, 0);
  dysymtab.writeUInt32LE(80, 4);
  dysymtab.writeUInt32LE(2, 16); // nlocalsym... (iextdefsym 0, nextdefsym 2)
  dysymtab.writeUInt32LE(2, 24); // iundefsym
  dysymtab.writeUInt32LE(1, 28); // nundefsym
  dysymtab.writeUInt32LE(indirectOff, 56);
  dysymtab.writeUInt32LE(1, 60);
  const libName = '/usr/lib/libSystem.B.dylib';
  const dylib = Buffer.alloc(Math.ceil((24 + libName.length + 1) / 8) * 8);
  dylib.writeUInt32LE(LC_LOAD_DYLIB, 0);
  dylib.writeUInt32LE(dylib.length, 4);
  dylib.writeUInt32LE(24, 8);
  dylib.write(libName, 24, 'latin1');
  const sig = Buffer.alloc(16);
  sig.writeUInt32LE(LC_CODE_SIGNATURE, 0);
  sig.writeUInt32LE(16, 4);
  sig.writeUInt32LE(sigOff, 8);
  sig.writeUInt32LE(sigSize, 12);

  const commands = [...(options.prefix ?? []), pagezero, text, linkedit, symtab, dysymtab, dylib, uuid(), ...(options.signed ? [sig] : []), ...(options.suffix ?? [])];
  const offsets = new Map<Buffer, number>();
  let off = 32;
  for (const command of commands) {
    offsets.set(command, off);
    off += command.length;
  }
  const sizeofcmds = off - 32;
  assert.ok(off + 16 <= HEADER_PAD, 'load commands fit the header padding');

  const data = Buffer.alloc(sigOff + (options.signed ? sigSize : 0));
  data.writeUInt32LE(0xfeedfacf, 0); // MH_MAGIC_64: bytes cf fa ed fe
  data.writeUInt32LE(0x0100000c, 4); // CPU_TYPE_ARM64
  data.writeUInt32LE(0, 8);
  data.writeUInt32LE(2, 12); // MH_EXECUTE
  data.writeUInt32LE(commands.length, 16);
  data.writeUInt32LE(sizeofcmds, 20);
  data.writeUInt32LE(0x00200085, 24); // MH_NOUNDEFS | MH_DYLDLINK | MH_TWOLEVEL | MH_PIE
  Buffer.concat(commands).copy(data, 32);
  for (let i = 0; i < textSize; i++) data[TEXT_OFF + i] = (i * 7 + 3) & 0xff;
  for (let s = 0; s < 3; s++) {
    data.writeUInt32LE([1, 7, 21][s]!, symoff + 16 * s); // n_strx into `strings`
    data[symoff + 16 * s + 4] = s < 2 ? 0x0f : 0x01; // N_SECT|N_EXT, N_UNDF|N_EXT
    data.writeBigUInt64LE(BigInt(0x100000400 + s * 16), symoff + 16 * s + 8);
  }
  data.writeUInt32LE(2, indirectOff);
  strings.copy(data, stroff);
  if (options.signed) {
    data.writeUInt32BE(0xfade0cc0, sigOff); // CSMAGIC_EMBEDDED_SIGNATURE
    data.writeUInt32BE(sigSize, sigOff + 4);
    for (let i = 8; i < sigSize; i++) data[sigOff + i] = (i * 13 + 5) & 0xff;
  }
  return {
    data,
    ncmds: commands.length,
    sizeofcmds,
    at: {
      text: offsets.get(text)!,
      linkedit: offsets.get(linkedit)!,
      symtab: offsets.get(symtab)!,
      dysymtab: offsets.get(dysymtab)!,
      dylib: offsets.get(dylib)!,
      sig: offsets.get(sig) ?? -1,
    },
    linkData,
    linkeditOff,
    sigOff,
    sigSize,
  };
}

