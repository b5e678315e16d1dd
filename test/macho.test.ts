// Darwin code-signature stripping (src/rebuild/macho.ts, after golang/build cmd/gorebuild/darwin.go
// StripDarwinSig) on synthetic Mach-O files built here, and the stripped `h1:` of a module zip.
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import yazl from 'yazl';
import { hashModuleZip, hashModuleZipDetailed } from '../src/rebuild/distpack.js';
import { hashModuleZipStripped, isDarwinStripCandidate, stripDarwinSignature } from '../src/rebuild/macho.js';
import { hash1 } from '../src/sumdb/dirhash.js';
import { tempDir } from './helpers/fixtures.js';
import { LC_RPATH, HEADER_PAD, TEXT_OFF, PAGE, segment32, rpath, uuid, buildMachO } from './helpers/macho-builder.js';

const PREFIX = 'golang.org/toolchain@v0.0.1-go1.21.0.darwin-arm64/';
const GO = `${PREFIX}bin/go`;

/** A copy of `data` with `edit` applied. */
function patched(data: Buffer, edit: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(data);
  edit(copy);
  return copy;
}

/** The input is returned as is (the same Buffer) and was not modified. */
function assertUnchanged(name: string, input: Buffer, message?: string): void {
  const before = Buffer.from(input);
  const result = stripDarwinSignature(name, input);
  assert.equal(result, input, message);
  assert.ok(input.equals(before), 'input not modified');
}

// ---- stripDarwinSignature ----

test('a signed binary stripped equals the same binary built unsigned, field by field', () => {
  const signed = buildMachO({ signed: true });
  const unsigned = buildMachO({ signed: false });
  const before = Buffer.from(signed.data);
  const stripped = stripDarwinSignature(GO, signed.data);
  assert.ok(signed.data.equals(before), 'the input is not modified');
  assert.notEqual(stripped, signed.data);

  // Expected bytes, from the signed file and darwin.go's edits, one field at a time.
  const expected = Buffer.from(signed.data.subarray(0, signed.sigOff)); // data = data[:sigOff]
  expected.writeUInt32LE(signed.ncmds - 1, 16); // ncmd--
  expected.writeUInt32LE(signed.sizeofcmds - 16, 20); // cmdsz -= 16
  expected.fill(0, signed.at.sig, signed.at.sig + 16); // clear LC_CODE_SIGNATURE
  const filesize = signed.data.readBigUInt64LE(signed.at.linkedit + 48) - BigInt(signed.sigSize);
  expected.writeBigUInt64LE(filesize, signed.at.linkedit + 32); // vmsize = filesize - sigSize
  expected.writeBigUInt64LE(filesize, signed.at.linkedit + 48); // filesize -= sigSize
  assert.ok(stripped.equals(expected));

  // And that is exactly the unsigned build.
  assert.equal(stripped.length, unsigned.data.length);
  assert.equal(stripped.readUInt32LE(16), unsigned.ncmds);
  assert.equal(stripped.readUInt32LE(20), unsigned.sizeofcmds);
  assert.equal(stripped.readBigUInt64LE(signed.at.linkedit + 32), BigInt(unsigned.linkData));
  assert.equal(stripped.readBigUInt64LE(signed.at.linkedit + 48), BigInt(unsigned.linkData));
  // The signed __LINKEDIT vmsize was page-rounded: memsz is set from filesz, not memsz -= sigSize.
  assert.equal(signed.data.readBigUInt64LE(signed.at.linkedit + 32), BigInt(PAGE));
  assert.ok(stripped.equals(unsigned.data));
});

test('stripping applies under /bin/ and /pkg/tool/ only, and is idempotent', () => {
  const signed = buildMachO({ signed: true });
  const unsigned = buildMachO({ signed: false });
  for (const name of [GO, `${PREFIX}pkg/tool/darwin_arm64/compile`, 'go/bin/gofmt', 'x/bin/']) {
    assert.ok(isDarwinStripCandidate(name));
    assert.ok(stripDarwinSignature(name, signed.data).equals(unsigned.data), name);
  }
  for (const name of ['bin/go', `${PREFIX}binary/go`, `${PREFIX}pkg/toolchain/go`, `${PREFIX}pkg/tool`, `${PREFIX}src/cmd/go/go`, `${PREFIX}bin\\go`, '']) {
    assert.ok(!isDarwinStripCandidate(name), name);
    assertUnchanged(name, signed.data, name);
  }
  // Already unsigned: the last load is LC_UUID, so nothing happens (no error either).
  assertUnchanged(GO, unsigned.data);
  assertUnchanged(GO, stripDarwinSignature(GO, signed.data));
});

test('other magics are left alone: 32-bit, big-endian, ELF, fat, short', () => {
  const signed = buildMachO({ signed: true });
  for (const magic of [[0xce, 0xfa, 0xed, 0xfe], [0xfe, 0xed, 0xfa, 0xcf], [0xfe, 0xed, 0xfa, 0xce], [0x7f, 0x45, 0x4c, 0x46], [0xca, 0xfe, 0xba, 0xbe], [0xcf, 0xfa, 0xed, 0xff]]) {
    assertUnchanged(GO, patched(signed.data, (b) => Buffer.from(magic).copy(b, 0)), Buffer.from(magic).toString('hex'));
  }
  for (const short of [Buffer.alloc(0), Buffer.from([0xcf]), Buffer.from([0xcf, 0xfa, 0xed]), Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), signed.data.subarray(0, 27), signed.data.subarray(0, 32)]) {
    assertUnchanged(GO, short);
  }
});

test('LC_CODE_SIGNATURE must be the last load, with cmdsize 16, and there must be 4 loads or more', () => {
  // Not last: LC_UUID after it.
  assertUnchanged(GO, buildMachO({ signed: true, suffix: [uuid()] }).data);
  // cmdsize 24 (the command takes 8 more bytes of the padding; the file still parses).
  const signed = buildMachO({ signed: true });
  assertUnchanged(
    GO,
    patched(signed.data, (b) => {
      b.writeUInt32LE(24, signed.at.sig + 4);
      b.writeUInt32LE(signed.sizeofcmds + 8, 20);
    }),
  );
  // Fewer than 4 loads: "too few loads", even with a valid signature last.
  const tiny = buildMachO({ signed: true });
  const three = Buffer.from(tiny.data);
  const cmds = [tiny.at.linkedit, tiny.at.symtab, tiny.at.sig].map((off) => {
    const size = tiny.data.readUInt32LE(off + 4);
    return tiny.data.subarray(off, off + size);
  });
  three.fill(0, 32, HEADER_PAD);
  Buffer.concat(cmds).copy(three, 32);
  three.writeUInt32LE(3, 16);
  three.writeUInt32LE(Buffer.concat(cmds).length, 20);
  assertUnchanged(GO, three);
  // The same three plus one more load (4 in all) is stripped.
  const four = Buffer.from(three);
  uuid().copy(four, 32 + 72 + 24 + 16);
  four.writeUInt32LE(4, 16);
  four.writeUInt32LE(72 + 24 + 16 + 24, 20);
  assertUnchanged(GO, four, 'LC_UUID now last');
  const reordered = Buffer.from(three);
  reordered.fill(0, 32, HEADER_PAD);
  Buffer.concat([cmds[0]!, cmds[1]!, uuid(), cmds[2]!]).copy(reordered, 32);
  reordered.writeUInt32LE(4, 16);
  reordered.writeUInt32LE(72 + 24 + 24 + 16, 20);
  const stripped = stripDarwinSignature(GO, reordered);
  assert.equal(stripped.length, tiny.sigOff);
  assert.equal(stripped.readUInt32LE(16), 3);
  assert.equal(stripped.readBigUInt64LE(32 + 48), BigInt(tiny.linkData));
});

test('lying counts and sizes leave the file unchanged (macho.NewFile would fail)', () => {
  const s = buildMachO({ signed: true });
  const u32 = (off: number, value: number) => (b: Buffer) => b.writeUInt32LE(value, off);
  const cases: Array<[string, (b: Buffer) => void]> = [
    ['ncmds huge', u32(16, 0xffffffff)],
    ['ncmds + 1', u32(16, s.ncmds + 1)],
    ['ncmds - 1: the last load read is LC_UUID', u32(16, s.ncmds - 1)],
    ['ncmds 3', u32(16, 3)],
    ['sizeofcmds beyond the file', u32(20, s.data.length)],
    ['sizeofcmds huge', u32(20, 0xffffffff)],
    ['sizeofcmds 8 short', u32(20, s.sizeofcmds - 8)],
    ['a cmdsize 0', u32(s.at.text + 4, 0)],
    ['a cmdsize 7', u32(s.at.text + 4, 7)],
    ['a cmdsize huge', u32(s.at.text + 4, 0xffffffff)],
    ['signature dataoff = file size', u32(s.at.sig + 8, s.data.length)],
    ['signature dataoff huge', u32(s.at.sig + 8, 0xffffffff)],
    ['symtab string table beyond the file', u32(s.at.symtab + 16, s.data.length)],
    ['symtab symbols beyond the file', u32(s.at.symtab + 12, 0x10000000)],
    ['symbol name index past the string table', u32(s.linkeditOff + 16, 32)],
    ['dysymtab iundefsym > nsyms', u32(s.at.dysymtab + 24, 4)],
    ['dysymtab iundefsym + nundefsym > nsyms', u32(s.at.dysymtab + 28, 2)],
    ['dysymtab indirect symbols beyond the file', u32(s.at.dysymtab + 60, 0x1000)],
    ['dysymtab with no symtab before it', (b) => {
      b.writeUInt32LE(0x26, s.at.symtab); // LC_FUNCTION_STARTS: kept as raw bytes
      b.writeUInt32LE(0, s.at.dysymtab + 24); // iundefsym, nundefsym 0: only the missing symtab is wrong
      b.writeUInt32LE(0, s.at.dysymtab + 28);
    }],
    ['dylib name offset >= cmdsize', u32(s.at.dylib + 8, 56)],
    ['section count beyond the command', u32(s.at.text + 64, 2)],
    ['relocations beyond the file', (b) => {
      b.writeUInt32LE(s.data.length - 8, s.at.text + 72 + 56);
      b.writeUInt32LE(2, s.at.text + 72 + 60);
    }],
    ['segment fileoff >= 2^63', (b) => b.writeBigUInt64LE(1n << 63n, s.at.linkedit + 40)],
    ['segment filesize >= 2^63', (b) => b.writeBigUInt64LE(0xffffffffffffffffn, s.at.text + 48)],
    ['no __LINKEDIT', (b) => b.write('__LINKEDIX', s.at.linkedit + 8, 'latin1')],
    ['__LINKEDIT name longer', (b) => b.write('__LINKEDITX', s.at.linkedit + 8, 'latin1')],
  ];
  for (const [what, edit] of cases) assertUnchanged(GO, patched(s.data, edit), what);

  // Edits that macho.NewFile accepts do not stop the strip.
  const ok: Array<[string, (b: Buffer) => void]> = [
    // uint32 sum in Go: 1 + 0xffffffff wraps to 0 <= nsyms.
    ['dysymtab iundefsym + nundefsym wraps', (b) => {
      b.writeUInt32LE(1, s.at.dysymtab + 24);
      b.writeUInt32LE(0xffffffff, s.at.dysymtab + 28);
    }],
    ['relocations inside the file', (b) => {
      b.writeUInt32LE(TEXT_OFF, s.at.text + 72 + 56);
      b.writeUInt32LE(4, s.at.text + 72 + 60);
    }],
    ['sizeofcmds larger than the commands', u32(20, s.sizeofcmds + 64)],
    ['signature datasize beyond the file', u32(s.at.sig + 12, s.sigSize + 0x100000)],
  ];
  for (const [what, edit] of ok) {
    const input = patched(s.data, edit);
    const result = stripDarwinSignature(GO, input);
    assert.notEqual(result, input, what);
    assert.equal(result.length, s.sigOff, what);
    assert.equal(result.readUInt32LE(16), s.ncmds - 1, what);
  }
});

test('32-bit segments, rpaths and dylibs are parsed like debug/macho does', () => {
  const unsigned = buildMachO({ signed: false, prefix: [segment32('__DATA'), rpath('@executable_path/../lib')] });
  const signed = buildMachO({ signed: true, prefix: [segment32('__DATA'), rpath('@executable_path/../lib')] });
  assert.ok(stripDarwinSignature(GO, signed.data).equals(unsigned.data));
  // The first segment named __LINKEDIT is a 32-bit LC_SEGMENT: "confused finding __LINKEDIT".
  assertUnchanged(GO, buildMachO({ signed: true, prefix: [segment32('__LINKEDIT')] }).data);
  // LC_RPATH path offset outside the command: "invalid path in rpath command".
  assertUnchanged(GO, buildMachO({ signed: true, prefix: [rpath('/x', 16)] }).data);
  // A truncated LC_RPATH (cmdsize 8 < sizeof(RpathCmd)): binary.Read fails.
  const short = Buffer.alloc(8);
  short.writeUInt32LE(LC_RPATH, 0);
  short.writeUInt32LE(8, 4);
  assertUnchanged(GO, buildMachO({ signed: true, prefix: [short] }).data);
  // Unknown commands of any size >= 8 are kept as raw bytes.
  const unknown = Buffer.alloc(8);
  unknown.writeUInt32LE(0x12345678, 0);
  unknown.writeUInt32LE(8, 4);
  assert.ok(stripDarwinSignature(GO, buildMachO({ signed: true, prefix: [unknown] }).data).equals(buildMachO({ signed: false, prefix: [unknown] }).data));
});

test('like Go: datasize is not checked (uint64 wrap), dataoff may point anywhere in the file', () => {
  const s = buildMachO({ signed: true });
  // datasize larger than __LINKEDIT's filesize: filesz - sigSize wraps around 2^64.
  const big = s.linkData + s.sigSize + 5;
  const wrapped = stripDarwinSignature(GO, patched(s.data, (b) => b.writeUInt32LE(big, s.at.sig + 12)));
  const expected = BigInt.asUintN(64, BigInt(s.linkData + s.sigSize) - BigInt(big));
  assert.equal(expected, (1n << 64n) - 5n);
  assert.equal(wrapped.readBigUInt64LE(s.at.linkedit + 32), expected);
  assert.equal(wrapped.readBigUInt64LE(s.at.linkedit + 48), expected);

  // dataoff inside the load commands: the edits are made, then the file is cut there.
  for (const sigOff of [0, 1, 18, 22, 100, s.at.linkedit + 40, s.at.sig + 4]) {
    const input = patched(s.data, (b) => b.writeUInt32LE(sigOff, s.at.sig + 8));
    const result = stripDarwinSignature(GO, input);
    assert.equal(result.length, sigOff);
    const full = Buffer.from(input);
    full.writeUInt32LE(s.ncmds - 1, 16);
    full.writeUInt32LE(s.sizeofcmds - 16, 20);
    full.fill(0, s.at.sig, s.at.sig + 16);
    full.writeBigUInt64LE(BigInt(s.linkData), s.at.linkedit + 32);
    full.writeBigUInt64LE(BigInt(s.linkData), s.at.linkedit + 48);
    assert.ok(result.equals(full.subarray(0, sigOff)), `dataoff ${sigOff}`);
  }
});

test('a truncated file: unchanged up to dataoff, stripped past it (the signature itself is never read)', () => {
  const s = buildMachO({ signed: true });
  const unsigned = buildMachO({ signed: false });
  for (let length = 0; length <= s.data.length; length++) {
    const input = s.data.subarray(0, length);
    const result = stripDarwinSignature(GO, input);
    if (length <= s.sigOff) assert.equal(result, input, `length ${length}`);
    else assert.ok(result.equals(unsigned.data), `length ${length}`);
  }
});

test('property: random corruption never throws, never modifies the input, and only ever shortens', () => {
  const s = buildMachO({ signed: true });
  const mutation = fc.oneof(
    // A byte anywhere, mostly in the header and load commands.
    fc.record({ kind: fc.constant('byte' as const), pos: fc.oneof(fc.nat({ max: 32 + s.sizeofcmds }), fc.nat({ max: s.data.length - 1 })), value: fc.nat({ max: 255 }) }),
    // A whole uint32 field of the header or a load command: counts, sizes and offsets.
    fc.record({
      kind: fc.constant('u32' as const),
      pos: fc.nat({ max: (32 + s.sizeofcmds) / 4 - 1 }).map((i) => i * 4),
      value: fc.oneof(fc.nat({ max: 0x1000 }), fc.constantFrom(0, 7, 8, 16, 0x7fffffff, 0x80000000, 0xffffffff, s.data.length, s.sigOff), fc.nat({ max: 0xffffffff })),
    }),
  );
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.option(fc.nat({ max: s.data.length }), { nil: undefined }), (mutations, cut) => {
      const input = Buffer.from(s.data.subarray(0, cut ?? s.data.length));
      for (const m of mutations) {
        if (m.pos >= input.length) continue;
        if (m.kind === 'byte') input[m.pos] = m.value;
        else if (m.pos + 4 <= input.length) input.writeUInt32LE(m.value >>> 0, m.pos);
      }
      const before = Buffer.from(input);
      const result = stripDarwinSignature(GO, input);
      assert.ok(input.equals(before));
      assert.ok(result === input || result.length < input.length);
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
      const input = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.from(bytes)]);
      const result = stripDarwinSignature(GO, input);
      assert.ok(result === input || result.length < input.length);
    }),
    { numRuns: 2000 },
  );
});

// ---- hashModuleZipStripped ----

function writeZip(file: string, entries: ReadonlyArray<{ name: string; content: Buffer }>): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const entry of entries) zip.addBuffer(entry.content, entry.name, { compress: true, mtime: new Date(0) });
    zip.end();
    zip.outputStream.pipe(createWriteStream(file)).on('close', () => resolve()).on('error', reject);
  });
}

test('hashModuleZipStripped: a signed and an unsigned toolchain zip hash alike once stripped', async () => {
  const dir = tempDir();
  const big = { textSize: 400_000 }; // several stream chunks
  const signedGo = buildMachO({ signed: true, ...big }).data;
  const unsignedGo = buildMachO({ signed: false, ...big }).data;
  const signedVet = buildMachO({ signed: true, sigSize: 0x300 }).data;
  const unsignedVet = buildMachO({ signed: false }).data;
  const common = [
    { name: `${PREFIX}src/cmd/go/main.go`, content: Buffer.from('package main\n'.repeat(1000)) },
    { name: `${PREFIX}bin/README`, content: Buffer.from('not a binary\n') },
    { name: `${PREFIX}lib/time/zoneinfo.zip`, content: Buffer.alloc(0) },
  ];
  const signedEntries = [...common, { name: GO, content: signedGo }, { name: `${PREFIX}pkg/tool/darwin_arm64/vet`, content: signedVet }];
  const unsignedEntries = [...common, { name: GO, content: unsignedGo }, { name: `${PREFIX}pkg/tool/darwin_arm64/vet`, content: unsignedVet }];
  const signedZip = path.join(dir, 'signed.zip');
  const unsignedZip = path.join(dir, 'unsigned.zip');
  await writeZip(signedZip, signedEntries);
  await writeZip(unsignedZip, unsignedEntries);

  const strippedSigned = await hashModuleZipStripped(signedZip);
  const strippedUnsigned = await hashModuleZipStripped(unsignedZip);
  assert.equal(strippedSigned, strippedUnsigned);
  assert.equal(strippedSigned, hash1(unsignedEntries));
  assert.equal(await hashModuleZip(unsignedZip), strippedUnsigned);
  assert.notEqual(await hashModuleZip(signedZip), await hashModuleZip(unsignedZip));
  assert.equal(await hashModuleZip(signedZip), hash1(signedEntries));
  // contentBytes still counts what was decompressed, before stripping.
  const plain = await hashModuleZipDetailed(signedZip);
  const transformed = await hashModuleZipDetailed(signedZip, { transform: { wants: isDarwinStripCandidate, apply: stripDarwinSignature } });
  assert.equal(transformed.contentBytes, plain.contentBytes);
  assert.equal(transformed.transformedH1, strippedSigned);
  assert.equal(transformed.h1, plain.h1);
});

test('hashModuleZipStripped: a zip without darwin binaries hashes as hashModuleZip does', async () => {
  const dir = tempDir();
  const linuxPrefix = 'golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64/';
  const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(5000, 0x42)]);
  const entries = [
    { name: `${linuxPrefix}bin/go`, content: elf },
    { name: `${linuxPrefix}pkg/tool/linux_amd64/compile`, content: elf.subarray(0, 3000) },
    { name: `${linuxPrefix}src/runtime/proc.go`, content: Buffer.from('package runtime\n') },
    // A signed Mach-O outside bin/ and pkg/tool/ is not touched either.
    { name: `${linuxPrefix}misc/signed`, content: buildMachO({ signed: true }).data },
  ];
  const file = path.join(dir, 'linux.zip');
  await writeZip(file, entries);
  assert.equal(await hashModuleZipStripped(file), await hashModuleZip(file));
  assert.equal(await hashModuleZipStripped(file), hash1(entries));
});

test('a transform that throws fails the hash with a typed error', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'x.zip');
  await writeZip(file, [{ name: `${PREFIX}bin/go`, content: Buffer.from('x') }]);
  await assert.rejects(
    hashModuleZipDetailed(file, { transform: { wants: () => true, apply: () => { throw new Error('boom'); } } }),
    (error: unknown) => error instanceof Error && (error as { code?: string }).code === 'MALFORMED_ZIP' && /boom/.test(error.message),
  );
});
