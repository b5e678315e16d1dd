// Stripping the macOS code signature from darwin Mach-O binaries, so that Google's signed release
// binaries and our unsigned (or ad-hoc signed) rebuilds can be compared byte for byte.
//
// This is our own implementation of StripDarwinSig from golang/build cmd/gorebuild/darwin.go (same logic
// in SSLMate/sourcespotter toolchain/darwin.go, which returns errors where gorebuild logs), with its quirks:
//   - only archive names containing `/bin/` or `/pkg/tool/`, and only 64-bit little-endian Mach-O
//     (magic `cf fa ed fe`);
//   - the file must parse with Go's debug/macho NewFile, whose failure conditions `parseLoads` below
//     reproduces (golang/go src/debug/macho/file.go, the saferio version), and have at least 4 loads;
//   - the LAST load must be LC_CODE_SIGNATURE (cmd 0x1d, cmdsize 16) with dataoff inside the file;
//   - the first segment named `__LINKEDIT` must be an LC_SEGMENT_64;
//   - then: ncmds -= 1, sizeofcmds -= 16, the LC_CODE_SIGNATURE command is zeroed,
//     __LINKEDIT filesize = vmsize = filesize - datasize (uint64, wrapping like Go), and the file is
//     cut at dataoff. The signature's datasize is never checked against anything.
// Anything that does not fit is returned unchanged (the same Buffer); nothing here throws.
import { hashModuleZipDetailed, type ZipEntryTransform } from './distpack.js';

// debug/macho constants (golang/go src/debug/macho/macho.go).
const LC_SEGMENT = 0x1;
const LC_SYMTAB = 0x2;
const LC_DYSYMTAB = 0xb;
const LC_LOAD_DYLIB = 0xc;
const LC_SEGMENT_64 = 0x19;
const LC_CODE_SIGNATURE = 0x1d;
const LC_RPATH = 0x8000001c;
const FILE_HEADER_SIZE_32 = 7 * 4; // binary.Read(FileHeader) reads 7 uint32s, even for 64-bit files
const FILE_HEADER_SIZE_64 = 8 * 4; // load commands start after the 64-bit header's reserved word
const TWO_63 = 1n << 63n;
const LINKEDIT = Buffer.from('__LINKEDIT', 'latin1');

/**
 * Whether stripDarwinSignature looks at an entry at all (darwin.go: "Binaries only expected in bin and
 * pkg/tool. This is an archive path, not a host file system path, so always forward slash.").
 */
export function isDarwinStripCandidate(name: string): boolean {
  return name.includes('/bin/') || name.includes('/pkg/tool/');
}

/** One load command as debug/macho.NewFile keeps it: where its bytes are, and a segment's name. */
interface Load {
  readonly cmd: number;
  /** File offset of the command. */
  readonly off: number;
  /** Its cmdsize (`len(Raw())`). */
  readonly size: number;
  /** The segment name (cstring of the 16-byte field) when this is an LC_SEGMENT or LC_SEGMENT_64. */
  readonly segname?: Buffer;
}

/**
 * saferio.ReadDataAt(bytes.NewReader(data), n, off) succeeds: a zero-length read always does (EOF is
 * ignored for n == 0), otherwise all n bytes must be there. Offsets come from uint32/uint64 fields and
 * are never negative here.
 */
function readable(data: Buffer, off: number, n: number): boolean {
  return n === 0 || off + n <= data.length;
}

/** The bytes of a fixed-size name field up to its first NUL (debug/macho cstring). */
function cstring(field: Buffer): Buffer {
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

/**
 * The load commands of a little-endian 64-bit Mach-O file, or undefined where Go's
 * `macho.NewFile(bytes.NewReader(data))` returns an error. Only the checks that can fail are mirrored;
 * callers have already checked the magic (0xfeedfacf, so the 64-bit symbol size of 16 applies).
 */
function parseLoads(data: Buffer): Load[] | undefined {
  // binary.Read(sr, bo, &f.FileHeader): 28 bytes.
  if (data.length < FILE_HEADER_SIZE_32) return undefined;
  const ncmd = data.readUInt32LE(16);
  const cmdsz = data.readUInt32LE(20);
  // dat, err := saferio.ReadDataAt(r, uint64(f.Cmdsz), offset)
  if (!readable(data, FILE_HEADER_SIZE_64, cmdsz)) return undefined;
  // saferio.SliceCap[Load](uint64(f.Ncmd)) never fails for a uint32 count.
  const loads: Load[] = [];
  let p = FILE_HEADER_SIZE_64; // start of `dat`
  let rest = cmdsz; // len(dat)
  let symtabNsyms: number | undefined; // len(f.Symtab.Syms), once a symtab was seen
  for (let i = 0; i < ncmd; i++) {
    // "command block too small" / "invalid command block size"
    if (rest < 8) return undefined;
    const cmd = data.readUInt32LE(p);
    const siz = data.readUInt32LE(p + 4);
    if (siz < 8 || siz > rest) return undefined;
    const u32 = (at: number) => data.readUInt32LE(p + at); // inside cmddat: callers check siz first
    switch (cmd) {
      case LC_RPATH:
        // binary.Read(RpathCmd) needs 12 bytes; "invalid path in rpath command"
        if (siz < 12 || u32(8) >= siz) return undefined;
        break;
      case LC_LOAD_DYLIB:
        // binary.Read(DylibCmd) needs 24 bytes; "invalid name in dynamic library command"
        if (siz < 24 || u32(8) >= siz) return undefined;
        break;
      case LC_SYMTAB: {
        if (siz < 24) return undefined; // binary.Read(SymtabCmd)
        const symoff = u32(8);
        const nsyms = u32(12);
        const stroff = u32(16);
        const strsize = u32(20);
        if (!readable(data, stroff, strsize)) return undefined; // strtab
        if (!readable(data, symoff, nsyms * 16)) return undefined; // symdat, Nlist64 entries
        // parseSymtab: "invalid name in symbol table" (n_strx >= len(strtab)).
        for (let s = 0; s < nsyms; s++) {
          if (data.readUInt32LE(symoff + s * 16) >= strsize) return undefined;
        }
        symtabNsyms = nsyms;
        break;
      }
      case LC_DYSYMTAB: {
        if (siz < 80) return undefined; // binary.Read(DysymtabCmd): 20 uint32s
        // "dynamic symbol table seen before any ordinary symbol table"
        if (symtabNsyms === undefined) return undefined;
        const iundefsym = u32(24);
        const nundefsym = u32(28);
        if (iundefsym > symtabNsyms) return undefined;
        // hdr.Iundefsym+hdr.Nundefsym is a uint32 sum in Go: it wraps.
        if ((iundefsym + nundefsym) >>> 0 > symtabNsyms) return undefined;
        // saferio.ReadDataAt(r, uint64(hdr.Nindirectsyms)*4, int64(hdr.Indirectsymoff))
        if (!readable(data, u32(56), u32(60) * 4)) return undefined;
        break;
      }
      case LC_SEGMENT:
      case LC_SEGMENT_64: {
        const is64 = cmd === LC_SEGMENT_64;
        const headerSize = is64 ? 72 : 56; // binary.Read(Segment64 / Segment32)
        const sectionSize = is64 ? 80 : 68; // binary.Read(Section64 / Section32), one after another
        if (siz < headerSize) return undefined;
        const nsect = u32(is64 ? 64 : 48);
        if (headerSize + nsect * sectionSize > siz) return undefined;
        for (let s = 0; s < nsect; s++) {
          const sect = headerSize + s * sectionSize;
          const reloff = u32(sect + (is64 ? 56 : 48));
          const nreloc = u32(sect + (is64 ? 60 : 52));
          // pushSection: saferio.ReadDataAt(r, uint64(sh.Nreloc)*8, int64(sh.Reloff)) when Nreloc > 0
          if (nreloc > 0 && !readable(data, reloff, nreloc * 8)) return undefined;
        }
        if (is64) {
          // "invalid section offset" / "invalid section file size": int64(s.Offset) < 0, int64(s.Filesz) < 0
          if (data.readBigUInt64LE(p + 40) >= TWO_63 || data.readBigUInt64LE(p + 48) >= TWO_63) return undefined;
        }
        loads.push({ cmd, off: p, size: siz, segname: cstring(data.subarray(p + 8, p + 24)) });
        p += siz;
        rest -= siz;
        continue;
      }
      default:
        // LoadBytes(cmddat): anything else, LC_CODE_SIGNATURE included, is kept uninterpreted.
        break;
    }
    loads.push({ cmd, off: p, size: siz });
    p += siz;
    rest -= siz;
  }
  return loads;
}

/**
 * darwin.go StripDarwinSig: the binary without its code signature, as a new Buffer (the input is not
 * modified), or `content` itself when the rule does not apply or the file is not as expected.
 */
export function stripDarwinSignature(name: string, content: Buffer): Buffer {
  // if !strings.Contains(name, "/bin/") && !strings.Contains(name, "/pkg/tool/") { return data }
  if (!isDarwinStripCandidate(name)) return content;
  // if len(data) < 4 || string(data[:4]) != "\xcf\xfa\xed\xfe" { return data }
  if (content.length < 4 || content[0] !== 0xcf || content[1] !== 0xfa || content[2] !== 0xed || content[3] !== 0xfe) {
    return content;
  }
  // h, err := macho.NewFile(bytes.NewReader(data)); if len(h.Loads) < 4 { "too few loads" }
  const loads = parseLoads(content);
  if (loads === undefined || loads.length < 4) return content;

  const len = content.length;
  // at returns the uint32 at the given data offset, or 0 when out of range.
  const at = (off: number): number => (off < 0 || off + 4 > len ? 0 : content.readUInt32LE(off));

  // LC_CODE_SIGNATURE must be the last load: len(raw) == 16, cmd == 0x1d, cmdsize == 16.
  const last = loads[loads.length - 1]!;
  if (last.size !== 16 || at(last.off) !== LC_CODE_SIGNATURE || at(last.off + 4) !== 16) return content;
  const sigOff = at(last.off + 8); // linkedit_data_command.dataoff
  const sigSize = at(last.off + 12); // linkedit_data_command.datasize
  // if int64(sigOff) >= int64(len(data)) { "invalid signature" }
  if (sigOff >= len) return content;

  // Find the first segment named __LINKEDIT, walking file offsets by each command's cmdsize.
  let off = FILE_HEADER_SIZE_64;
  let load = 0;
  for (;;) {
    if (load >= loads.length) return content; // "cannot find __LINKEDIT"
    const segname = loads[load]!.segname;
    if (segname !== undefined && segname.equals(LINKEDIT)) break;
    off += at(off + 4);
    load++;
  }
  // A 32-bit LC_SEGMENT named __LINKEDIT is "confused finding __LINKEDIT".
  if (at(off) !== LC_SEGMENT_64) return content;
  const linkOff = off + 4 + 4 + 16 + 8; // skip cmd, cmdsize, segname, vmaddr: at vmsize
  if (linkOff < 0 || linkOff + 32 > len) return content;
  for (; load < loads.length - 1; load++) off += at(off + 4);
  if (off < 0 || off + 16 > len) return content; // "confused finding signature load"

  // Point of no return (Go edits data in place; we edit a copy).
  const out = Buffer.from(content);
  out.writeUInt32LE((at(16) - 1) >>> 0, 16); // ncmds--
  out.writeUInt32LE((at(20) - 16) >>> 0, 20); // sizeofcmds -= 16
  out.fill(0, off, off + 16); // clear LC_CODE_SIGNATURE
  // filesz -= sigSize; memsz = filesz. Not memsz -= sigSize: Apple's signer rounds memsz to a page,
  // Go's linker writes memsz = filesz (unrounded). uint64 arithmetic: wraps if sigSize > filesz.
  const fileSize = BigInt.asUintN(64, out.readBigUInt64LE(linkOff + 16) - BigInt(sigSize));
  out.writeBigUInt64LE(fileSize, linkOff); // vmsize
  out.writeBigUInt64LE(fileSize, linkOff + 16); // filesize
  // Remove the signature bytes at the end of the file: data = data[:sigOff].
  return out.subarray(0, sigOff);
}

/** The transform for hashModuleZipDetailed / hashDistpack that strips darwin code signatures. */
export const DARWIN_STRIP: ZipEntryTransform = { wants: isDarwinStripCandidate, apply: stripDarwinSignature };

/**
 * Go dirhash `h1:` of a module zip where every entry's content first goes through
 * stripDarwinSignature(entry name, content), i.e. the h1 the zip would have if its darwin binaries
 * were unsigned. (toolchainZipHashes gets it and the plain h1 from one read.)
 */
export async function hashModuleZipStripped(file: string): Promise<string> {
  return (await hashModuleZipDetailed(file, { transform: DARWIN_STRIP })).transformedH1!;
}

/** A toolchain module zip's h1 and, for a darwin one, its stripped h1, reading the zip once. */
export async function toolchainZipHashes(file: string, goos: string): Promise<{ h1: string; strippedH1?: string }> {
  const hashes = await hashModuleZipDetailed(file, goos === 'darwin' ? { transform: DARWIN_STRIP } : {});
  return { h1: hashes.h1, ...(hashes.transformedH1 !== undefined && { strippedH1: hashes.transformedH1 }) };
}
