// The strict module zip reader (src/rebuild/zip.ts) and the parallel entry digests (src/rebuild/zip-digest.ts)
// behind hashModuleZip: zips laid out as Go's archive/zip writes them hash like dirhash.Hash1 over the same
// names and contents, and every inconsistency between a zip's records is refused with MALFORMED_ZIP.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { deflateRawSync } from 'node:zlib';
import { hashModuleZip, hashModuleZipDetailed } from '../src/rebuild/distpack.js';
import { digestZipEntries } from '../src/rebuild/zip-digest.js';
import { MAX_ZIP_FILE, readCentralDirectory } from '../src/rebuild/zip.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { hash1 } from '../src/sumdb/dirhash.js';
import { tempDir } from './helpers/fixtures.js';
import { type RawEntry, type RawZipOptions, rawZip } from './helpers/zip-bytes.js';

const PREFIX = 'example.com/m@v1.0.0/';

function zipFile(entries: readonly RawEntry[], options?: RawZipOptions): string {
  const file = path.join(tempDir(), 'm.zip');
  writeFileSync(file, rawZip(entries, options));
  return file;
}

async function refused(file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(hashModuleZip(file), (error: unknown) => {
    assert.ok(error instanceof WitnessError, String(error));
    assert.equal(error.code, 'MALFORMED_ZIP', error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

const sample = (): RawEntry[] => [
  { name: `${PREFIX}go.mod`, content: Buffer.from('module example.com/m\n') },
  { name: `${PREFIX}a.go`, content: Buffer.from('package m\n'.repeat(3000)) },
];

test('Go archive/zip layouts hash like Hash1: data descriptors with and without signature, stored, empty, directory, non-ASCII names', async () => {
  const entries: RawEntry[] = [
    { name: `${PREFIX}go.mod`, content: Buffer.from('module example.com/m\n') },
    { name: `${PREFIX}big.bin`, content: randomBytes(3 * 1024 * 1024 + 5), method: 0 },
    { name: `${PREFIX}src/x.go`, content: Buffer.from('package x\n'.repeat(10000)), descriptor: 'unsigned' },
    { name: `${PREFIX}src/y.go`, content: Buffer.from('package y\n'), descriptor: 'none' },
    { name: `${PREFIX}empty`, content: Buffer.alloc(0) },
    { name: `${PREFIX}empty-stored`, content: Buffer.alloc(0), method: 0, descriptor: 'none' },
    { name: `${PREFIX}dir/`, content: Buffer.alloc(0), method: 0 },
    // U+FF21 sorts before U+1D49C in UTF-8 (as Go sorts) but after it in UTF-16.
    { name: `${PREFIX}\uff21.txt`, content: Buffer.from('fullwidth') },
    { name: `${PREFIX}\u{1d49c}.txt`, content: Buffer.from('script') },
    { name: `${PREFIX}local-extra`, content: Buffer.from('x'), local: { extra: Buffer.from([0x55, 0x54, 1, 0, 0]) } },
  ];
  const file = zipFile(entries);
  const result = await hashModuleZipDetailed(file);
  assert.equal(result.h1, hash1(entries.map(({ name, content }) => ({ name: String(name), content }))));
  assert.equal(result.entries, entries.length);
  assert.equal(result.contentBytes, entries.reduce((sum, entry) => sum + entry.content.length, 0));
});

test('an empty zip hashes as Hash1 of nothing', async () => {
  assert.equal(await hashModuleZip(zipFile([])), hash1([]));
});

test('names: duplicates, non-UTF-8, empty, absolute, dot elements, backslashes and control characters are refused', async () => {
  await refused(zipFile([...sample(), { name: `${PREFIX}go.mod`, content: Buffer.from('again') }]), /"example.com\/m@v1.0.0\/go.mod" appears twice/);
  await refused(zipFile([{ name: Buffer.from([0x61, 0xff, 0x62]), content: Buffer.from('x') }]), /name is not UTF-8/);
  for (const [name, reason] of [
    ['', /is empty/],
    ['/etc/passwd', /is absolute/],
    [`${PREFIX}../x`, /"\.\." element/],
    [`${PREFIX}./x`, /"\.\." element/],
    [`${PREFIX}a//x`, /empty/],
    [`${PREFIX}a\\x`, /backslash/],
    [`${PREFIX}a\nx`, /control character/],
    [`${PREFIX}a\u0000x`, /control character/],
  ] as const) {
    await refused(zipFile([{ name, content: Buffer.from('x') }]), reason);
  }
});

test('a local header that disagrees with the central directory is refused', async () => {
  const one = (entry: Partial<RawEntry>) => zipFile([{ name: `${PREFIX}a`, content: Buffer.from('hello hello hello') , ...entry }]);
  await refused(one({ local: { name: Buffer.from(`${PREFIX}b`) } }), /local header names another file/);
  await refused(one({ local: { method: 0 } }), /compression method 0 differs/);
  await refused(one({ local: { flags: 0 } }), /flags 0x0 differ/);
  await refused(one({ descriptor: 'none', local: { size: 1 } }), /CRC-32 or sizes differ/);
  await refused(one({ descriptor: 'none', local: { crc32: 0 } }), /CRC-32 or sizes differ/);
  await refused(one({ local: { compressedSize: 3 } }), /CRC-32 or sizes differ/);
});

test('a data descriptor that is missing or differs from the central directory is refused', async () => {
  const content = Buffer.from('hello hello hello');
  await refused(zipFile([{ name: `${PREFIX}a`, content, dataDescriptor: { crc32: 1 } }]), /no data descriptor repeating/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, descriptor: 'unsigned', dataDescriptor: { size: 99 } }]), /no data descriptor repeating/);
  // Flag 0x8 in both headers, but no descriptor bytes after the data.
  await refused(zipFile([{ name: `${PREFIX}a`, content, descriptor: 'none', local: { flags: 0x8, crc32: 0, compressedSize: 0, size: 0 }, central: { flags: 0x8 } }]), /no data descriptor repeating.*\(0 bytes there\)/);
});

test('content that disagrees with its declared size or CRC-32, or deflate data with bytes after its end, is refused', async () => {
  const content = Buffer.from('hello hello hello hello');
  const wrong = { crc32: 0x12345678 };
  await refused(zipFile([{ name: `${PREFIX}a`, content, central: wrong, dataDescriptor: wrong }]), /CRC-32 differs/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, central: { size: 5 }, dataDescriptor: { size: 5 } }]), /more than its declared size 5/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, central: { size: 500 }, dataDescriptor: { size: 500 } }]), /inflates to 23 bytes, not its declared size 500/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, data: Buffer.concat([deflateRawSync(content), Buffer.from('junk')]) }]), /4 bytes after the end of its deflate stream/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, data: deflateRawSync(content).subarray(0, 5) }]), /does not inflate/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, method: 0, central: { size: 3 } }]), /stored but its compressed size/);
});

test('bytes that belong to no entry, and entries that share bytes, are refused', async () => {
  await refused(zipFile(sample(), { prefix: Buffer.from('MZ self-extracting stub') }), /bytes before the first entry/);
  const [first, second] = sample() as [RawEntry, RawEntry];
  await refused(zipFile([{ ...first, gap: Buffer.from('hidden') }, second]), /no data descriptor repeating.*\(17 bytes there\)/);
  await refused(zipFile([{ ...first, descriptor: 'none', gap: Buffer.from('hidden') }, second]), /6 unaccounted bytes after it/);
  await refused(zipFile(sample(), { aliases: [{ of: 0, name: `${PREFIX}alias` }] }), /share one local header/);
  await refused(zipFile(sample(), { suffix: Buffer.from('trailing') }), /no end of central directory record at its end/);
  await refused(zipFile([{ ...first, central: { offset: 7 } }]), /7 bytes before the first entry/);
});

test('encryption, other compression methods, zip64, directories with content and truncated zips are refused', async () => {
  const content = Buffer.from('x');
  await refused(zipFile([{ name: `${PREFIX}a`, content, local: { flags: 0x9 }, central: { flags: 0x9 } }]), /is encrypted/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, local: { method: 12 }, central: { method: 12 } }]), /compression method 12/);
  await refused(zipFile(sample(), { end: { entries: 0xffff } }), /zip64/);
  await refused(zipFile([{ name: `${PREFIX}a`, content, central: { size: 0xffffffff } }]), /zip64/);
  await refused(zipFile([{ name: `${PREFIX}d/`, content: Buffer.from('data') }]), /a directory with 4 bytes of content/);
  await refused(zipFile(sample(), { end: { entries: 3 } }), /record 3 of 3 is missing/);
  await refused(zipFile(sample(), { end: { directoryOffset: 10 } }), /does not end where the end record starts/);
  const file = zipFile(sample());
  writeFileSync(file, rawZip(sample()).subarray(0, 100));
  await refused(file, /no end of central directory record/);
  writeFileSync(file, Buffer.alloc(3));
  await refused(file, /too short for a zip/);
});

test('declared content over MaxZipFile (500 MiB) is refused before anything is inflated', async () => {
  const big = { size: MAX_ZIP_FILE / 2 + 1 };
  await refused(
    zipFile([
      { name: `${PREFIX}a`, content: Buffer.from('x'), central: big },
      { name: `${PREFIX}b`, content: Buffer.from('y'), central: big },
    ]),
    /over the 524288000-byte limit/,
  );
});

test('a symbolic link or a directory is not read as a zip', async () => {
  const dir = tempDir();
  await assert.rejects(hashModuleZip(dir), (error: unknown) => error instanceof WitnessError && error.code === 'NOT_A_FILE');
  const { symlinkSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'real.zip'), rawZip(sample()));
  symlinkSync('real.zip', path.join(dir, 'link.zip'));
  await assert.rejects(hashModuleZip(path.join(dir, 'link.zip')), (error: unknown) => error instanceof WitnessError && exitCodeOf(error) === 2);
});

test('digestZipEntries: 1 and 3 workers give the same per-entry digests, in entry order', async () => {
  const entries: RawEntry[] = Array.from({ length: 300 }, (_, i) => ({
    name: `${PREFIX}f${i}`,
    content: i % 50 === 0 ? randomBytes(600_000) : Buffer.from(`file ${i}\n`.repeat(i + 1)),
    ...(i % 7 === 0 ? { method: 0 } : {}),
  }));
  const file = zipFile(entries);
  const fd = openSync(file, 'r');
  try {
    const central = readCentralDirectory(fd, fstatSync(fd).size, file);
    const expected = entries.map((entry) => createHash('sha256').update(entry.content).digest('hex'));
    assert.deepEqual(await digestZipEntries(fd, file, central, { workers: 1 }), expected);
    const kept: string[] = [];
    assert.deepEqual(await digestZipEntries(fd, file, central, { workers: 3, keep: (entry) => entry.name.endsWith('0'), onContent: (entry, content) => {
      assert.equal(createHash('sha256').update(content).digest('hex'), expected[Number(entry.name.slice(PREFIX.length + 1))]);
      kept.push(entry.name);
    } }), expected);
    assert.equal(kept.length, 30);
  } finally {
    closeSync(fd);
  }
});

test('a failing onContent fails the digest with MALFORMED_ZIP and stops the workers', async () => {
  const file = zipFile(sample());
  await assert.rejects(
    hashModuleZipDetailed(file, { transform: { wants: () => true, apply: () => { throw new Error('boom'); } } }),
    (error: unknown) => error instanceof WitnessError && error.code === 'MALFORMED_ZIP' && /boom/.test(error.message),
  );
});
