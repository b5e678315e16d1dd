// Go `h1:` dirhash (src/sumdb/dirhash.ts; golang/mod sumdb/dirhash) and sumdb records, lookups and data
// tiles (src/sumdb/record.ts; golang/mod sumdb/server.go), including real sum.golang.org toolchain records.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FormatError } from '../src/errors.js';
import { fileDigest, goModHash, hash1, hash1FromDigests } from '../src/sumdb/dirhash.js';
import {
  checkRecordText,
  decodeDataTile,
  decodeDataTileByteByByte,
  encodeDataTile,
  formatGoSumRecord,
  formatRecord,
  isValidRecordText,
  parseGoSumRecord,
  parseH1,
  parseRecord,
  recordLeafHash,
} from '../src/sumdb/record.js';
import { openCheckpoint } from '../src/tlog/checkpoint.js';
import { concatBytes, decodeUtf8, encodeBase64, utf8 } from '../src/tlog/encoding.js';
import { noteVerifier } from '../src/tlog/note.js';

const TESTDATA = new URL('./vectors/', import.meta.url);

function formatError(code: string) {
  return (error: unknown) => error instanceof FormatError && error.code === code;
}

/** Hash1 written out from its definition, with an explicit order of names. */
function summaryHash(names: string[], content: (name: string) => string): string {
  const summary = names
    .map((name) => `${createHash('sha256').update(content(name)).digest('hex')}  ${name}\n`)
    .join('');
  return `h1:${createHash('sha256').update(summary, 'utf8').digest('base64')}`;
}

describe('dirhash Hash1', () => {
  test('golang/mod dirhash_test.go TestHash1 vector', () => {
    const files = [
      { name: 'xyz', content: utf8('data for xyz') },
      { name: 'abc', content: utf8('data for abc') },
    ];
    assert.equal(hash1(files), 'h1:EP6WfDoQTSk9klnxcjriWJOGztueJUywHNmWeq+efB8=');
    // The summary lines quoted in the spec, via the digest-only variant, in either order.
    const digests = [
      { name: 'xyz', sha256: '1a163d344504db00bdf3944d1b36c771245f19cc90df3dc2e5ca78d25d19d51e' },
      { name: 'abc', sha256: 'c807b6b431cbbfff4dcc032527d0e106e7f76e6aa20b3cab70fa00154144f351' },
    ];
    assert.equal(hash1FromDigests(digests), 'h1:EP6WfDoQTSk9klnxcjriWJOGztueJUywHNmWeq+efB8=');
    assert.equal(hash1FromDigests(digests.reverse()), 'h1:EP6WfDoQTSk9klnxcjriWJOGztueJUywHNmWeq+efB8=');
    assert.equal(fileDigest(utf8('data for abc')), digests[0]!.sha256);
    const summary =
      'c807b6b431cbbfff4dcc032527d0e106e7f76e6aa20b3cab70fa00154144f351  abc\n' +
      '1a163d344504db00bdf3944d1b36c771245f19cc90df3dc2e5ca78d25d19d51e  xyz\n';
    assert.equal(`h1:${createHash('sha256').update(summary).digest('base64')}`, hash1(files));
  });

  test('go.mod hash: the toolchain go.mod vector, hashed under the literal name go.mod', () => {
    const content = utf8('module golang.org/toolchain\n');
    assert.equal(goModHash(content), 'h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=');
    assert.equal(goModHash(content), hash1([{ name: 'go.mod', content }]));
    assert.notEqual(goModHash(content), hash1([{ name: 'golang.org/toolchain@v0.0.1/go.mod', content }]));
  });

  test('no files: the hash of the empty summary', () => {
    assert.equal(hash1([]), 'h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
    assert.equal(hash1FromDigests([]), hash1([]));
  });

  test('names sort byte-wise on UTF-8 (Go sort.Strings), not in UTF-16 order', () => {
    // U+FF61 is EF BD A1 in UTF-8 and U+1F600 is F0 9F 98 80, so U+FF61 sorts first byte-wise; as UTF-16,
    // U+1F600 is D83D DE00 and sorts first. Upper case (0x41-0x5A) sorts before lower case; "é" (C3 A9)
    // after "z".
    const a = 'dir/\uFF61.txt';
    const b = 'dir/\u{1F600}.txt';
    assert.ok(a > b, 'JS string order puts the emoji first');
    assert.ok(Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0, 'UTF-8 order puts U+FF61 first');
    const names = ['zeta', 'Zeta', b, 'é', a, 'apple', 'Apple', 'a/b', 'a.b', 'a'];
    const content = (name: string) => `content of ${name}`;
    const files = names.map((name) => ({ name, content: utf8(content(name)) }));
    const byteOrder = ['Apple', 'Zeta', 'a', 'a.b', 'a/b', 'apple', a, b, 'zeta', 'é'];
    assert.deepEqual(
      [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      byteOrder,
    );
    assert.equal(hash1(files), summaryHash(byteOrder, content));
    assert.notEqual(hash1(files), summaryHash([...names].sort(), content), 'UTF-16 order gives another hash');
    // Any input order gives the same hash.
    assert.equal(hash1([...files].reverse()), hash1(files));
    assert.equal(hash1FromDigests(files.map((f) => ({ name: f.name, sha256: fileDigest(f.content) }))), hash1(files));
  });

  test('only names and contents count; non-ASCII names hash as UTF-8', () => {
    const name = 'example.com/m@v1.0.0/données.txt';
    assert.equal(hash1([{ name, content: utf8('x') }]), summaryHash([name], () => 'x'));
    assert.notEqual(hash1([{ name, content: utf8('x') }]), hash1([{ name: name.normalize('NFD'), content: utf8('x') }]));
  });

  test('refuses names with a newline, lone surrogates, and malformed digests', () => {
    assert.throws(() => hash1([{ name: 'a\nb', content: utf8('') }]), formatError('MALFORMED_FILE_NAME'));
    assert.throws(() => hash1([{ name: 'ok', content: utf8('') }, { name: 'bad\n', content: utf8('') }]), formatError('MALFORMED_FILE_NAME'));
    assert.throws(() => hash1FromDigests([{ name: 'x\n', sha256: fileDigest(utf8('')) }]), formatError('MALFORMED_FILE_NAME'));
    assert.throws(() => hash1([{ name: 'half\uD83D.txt', content: utf8('') }]), formatError('MALFORMED_FILE_NAME'));
    assert.throws(() => hash1([{ name: '\uDE00', content: utf8('') }]), formatError('MALFORMED_FILE_NAME'));
    for (const sha256 of ['', 'abc', fileDigest(utf8('')).toUpperCase(), `${fileDigest(utf8(''))}00`, 'g'.repeat(64)]) {
      assert.throws(() => hash1FromDigests([{ name: 'f', sha256 }]), formatError('MALFORMED_DIGEST'), sha256);
    }
    // A carriage return or tab is allowed by Go (only "\n" is refused).
    assert.equal(hash1([{ name: 'a\rb\t', content: utf8('') }]), summaryHash(['a\rb\t'], () => ''));
  });
});

// ---------------------------------------------------------------------------------------------------

const H1_A = goModHash(utf8('module a\n'));
const H1_B = hash1([{ name: 'b', content: utf8('b') }]);

describe('record text', () => {
  test('validity like Go isValidRecordText', () => {
    const valid = ['a\n', 'a b c\nd\n', 'é ✓ \u{1F600}\n', 'del \u007f and C1 \u0085 are allowed\n'];
    for (const text of valid) {
      assert.ok(isValidRecordText(text), JSON.stringify(text));
      assert.ok(isValidRecordText(utf8(text)), JSON.stringify(text));
    }
    const invalid = ['', 'a', 'a\n\nb\n', 'a\n\n', 'tab\there\n', 'cr\r\n', 'nul\u0000\n', '\n', '\nleading empty line\n', 'lone \uD800\n'];
    for (const text of invalid) {
      assert.ok(!isValidRecordText(text), JSON.stringify(text));
      assert.throws(() => checkRecordText(text), formatError('MALFORMED_RECORD'), JSON.stringify(text));
    }
    // Invalid UTF-8: a stray continuation byte, an overlong "/", an encoded surrogate, a truncated sequence.
    for (const bytes of [[0x80, 0x0a], [0xc0, 0xaf, 0x0a], [0xed, 0xa0, 0x80, 0x0a], [0x61, 0xe2, 0x82, 0x0a], [0xff, 0x0a]]) {
      assert.ok(!isValidRecordText(new Uint8Array(bytes)), String(bytes));
    }
  });

  test('formatRecord / parseRecord (a /lookup response)', () => {
    const text = formatGoSumRecord({ path: 'example.com/a', version: 'v1.2.3', hash: H1_B, goModHash: H1_A });
    const note = 'go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— x Ym9ndXM=\n';
    const record = formatRecord(4n, text);
    assert.equal(decodeUtf8(record), `4\n${text}\n`);
    const parsed = parseRecord(concatBytes(record, utf8(note)));
    assert.equal(parsed.id, 4n);
    assert.equal(decodeUtf8(parsed.text), text);
    assert.equal(decodeUtf8(parsed.rest), note);
    assert.equal(decodeUtf8(formatRecord(0, 'x\n')), '0\nx\n\n');
    assert.equal(parseRecord(formatRecord(9223372036854775807n, 'x\n')).id, 9223372036854775807n);
  });

  test('formatRecord and parseRecord refuse malformed input', () => {
    assert.throws(() => formatRecord(-1, 'x\n'), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatRecord(1n << 63n, 'x\n'), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatRecord(1, 'x'), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatRecord(1, 'x\n\ny\n'), formatError('MALFORMED_RECORD'));
    // Go's strconv.ParseInt would take "+5" and "05"; only canonical decimal is accepted here.
    for (const msg of ['', '5', '5\nx\n', '+5\nx\n\n', '05\nx\n\n', '-1\nx\n\n', ' 5\nx\n\n', '9223372036854775808\nx\n\n', '\nx\n\n', '5\n\n\n']) {
      assert.throws(() => parseRecord(utf8(msg)), formatError('MALFORMED_RECORD'), JSON.stringify(msg));
    }
    assert.throws(() => parseRecord(utf8('5\nx\ty\n\n')), formatError('MALFORMED_RECORD'));
  });

  test('go.sum records: format, parse, and strictness', () => {
    const record = { path: 'example.com/A', version: 'v0.1.0-pre+incompatible', hash: H1_B, goModHash: H1_A };
    const text = formatGoSumRecord(record);
    assert.equal(text, `example.com/A v0.1.0-pre+incompatible ${H1_B}\nexample.com/A v0.1.0-pre+incompatible/go.mod ${H1_A}\n`);
    assert.deepEqual(parseGoSumRecord(text), record);
    assert.deepEqual(parseGoSumRecord(utf8(text)), record);
    assert.equal(parseH1(H1_A).length, 32);
    const [zipLine, modLine] = text.split('\n') as [string, string];
    const bad = [
      `${zipLine}\n`,
      `${zipLine}\n${modLine}\n${modLine}\n`,
      `${modLine}\n${zipLine}\n`,
      `${zipLine}\n${modLine.replace('example.com/A', 'example.com/B')}\n`,
      `${zipLine}\n${modLine.replace('/go.mod', '')}\n`,
      `${zipLine.replace(' h1:', '  h1:')}\n${modLine}\n`,
      `${zipLine} \n${modLine}\n`,
      `${zipLine.replace('h1:', 'h2:')}\n${modLine}\n`,
      `${zipLine.replace(/h1:\S+/, 'h1:AAAA')}\n${modLine}\n`,
      `${zipLine.replace(/=$/, '')}\n${modLine}\n`,
      `${zipLine}\n${modLine}`,
    ];
    for (const t of bad) assert.throws(() => parseGoSumRecord(t), formatError('MALFORMED_RECORD'), JSON.stringify(t));
    assert.throws(() => formatGoSumRecord({ ...record, path: 'a b' }), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatGoSumRecord({ ...record, version: '' }), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatGoSumRecord({ ...record, version: 'v1.0.0/go.mod' }), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatGoSumRecord({ ...record, hash: 'h1:' }), formatError('MALFORMED_RECORD'));
    assert.throws(() => formatGoSumRecord({ ...record, goModHash: H1_A.toLowerCase() }), formatError('MALFORMED_RECORD'));
  });
});

describe('data tiles', () => {
  const texts = Array.from({ length: 256 }, (_, i) =>
    formatGoSumRecord({ path: `example.com/m${i}`, version: `v1.0.${i}`, hash: H1_B, goModHash: H1_A }),
  );

  test('round trip: texts separated by a blank line, none after the last', () => {
    for (const n of [1, 2, 3, 255, 256]) {
      const tile = encodeDataTile(texts.slice(0, n));
      assert.equal(decodeUtf8(tile), texts.slice(0, n).join('\n'));
      const decoded = decodeDataTile(tile, n);
      assert.deepEqual(decoded.map((t) => decodeUtf8(t)), texts.slice(0, n));
      assert.equal(decodeDataTile(tile).length, n);
      // One more "\n" after the last record (golang/mod's sumdb.Server since dec0365) is refused: one spelling.
      assert.throws(() => decodeDataTile(concatBytes(tile, utf8('\n')), n), formatError('MALFORMED_DATA_TILE'));
      assert.throws(() => decodeDataTile(concatBytes(tile, utf8('\n'))), formatError('MALFORMED_DATA_TILE'));
    }
  });

  test('strict decoding', () => {
    const two = decodeUtf8(encodeDataTile(texts.slice(0, 2)));
    const bad: Array<[string, number | undefined]> = [
      ['', undefined],
      ['\n', undefined],
      [two, 3],
      [two, 1],
      [`${two}\n\n`, 2], // an empty record at the end
      [`${two}\n`, 2], // a blank line after the last record
      [`${two}\n`, undefined],
      [`\n${two}`, 2], // an empty line before the first record
      [two.replace('\n\n', '\n\n\n'), 2], // an empty record in the middle
      [two.slice(0, -1), 2], // the last record lacks its newline
      [two.replace(' v1.0.0 ', ' v1.0.0\t'), 2],
      [texts.join('\n') + '\n' + texts[0], undefined], // 257 records
    ];
    for (const [data, width] of bad) {
      assert.throws(() => decodeDataTile(utf8(data), width), formatError('MALFORMED_DATA_TILE'), JSON.stringify(data.slice(0, 80)));
    }
    assert.throws(() => decodeDataTile(utf8(two), 0), formatError('MALFORMED_DATA_TILE'));
    assert.throws(() => decodeDataTile(utf8(two), 257), formatError('MALFORMED_DATA_TILE'));
    assert.throws(() => decodeDataTile(new Uint8Array([0x61, 0xff, 0x0a]), 1), formatError('MALFORMED_DATA_TILE'));
  });

  test('the fast decoder accepts exactly what the byte-by-byte decoder accepts, with the same records', () => {
    // Tiles made of few characters, at any byte offset in their buffer, mostly newlines and letters (control and multi-byte ones among
    // them), so that blank lines, "\n\n\n", empty records and bad UTF-8 come up often; and tiles of 250
    // to 260 one-letter records, around the 256-record bound, with one byte inserted or not.
    const alphabet = [0x0a, 0x0a, 0x0a, 0x0a, 0x61, 0x61, 0x61, 0x62, 0x20, 0x7f, 0xc3, 0xa9, 0x09, 0x00, 0xff];
    const outcome = (decode: () => Uint8Array[]) => {
      try {
        return decode().map((text) => Array.from(text).join(','));
      } catch (error) {
        assert.ok(error instanceof FormatError && error.code === 'MALFORMED_DATA_TILE', String(error));
        return error.message;
      }
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }),
          fc.tuple(fc.integer({ min: 250, max: 260 }), fc.option(fc.tuple(fc.nat(2000), fc.constantFrom(...alphabet)), { nil: undefined })).map(([count, insert]) => {
            const bytes = [...utf8(Array.from({ length: count }, (_, i) => (i % 2 ? 'a\n' : 'b b\n')).join('\n'))];
            if (insert) bytes.splice(insert[0] % (bytes.length + 1), 0, insert[1]);
            return bytes;
          }),
        ),
        fc.option(fc.integer({ min: -1, max: 258 }), { nil: undefined }),
        fc.nat(7),
        (bytes, width, shift) => {
          // At every alignment (the fast decoder reads four bytes at a time from the first 4-byte boundary).
          const data = new Uint8Array(bytes.length + 8).subarray(shift, shift + bytes.length);
          data.set(bytes);
          assert.deepEqual(outcome(() => decodeDataTile(data, width)), outcome(() => decodeDataTileByteByByte(data, width)));
        },
      ),
      { numRuns: 5000 },
    );
  });

  test('encoding refuses bad input', () => {
    assert.throws(() => encodeDataTile([]), formatError('MALFORMED_DATA_TILE'));
    assert.throws(() => encodeDataTile([...texts, texts[0]!]), formatError('MALFORMED_DATA_TILE'));
    assert.throws(() => encodeDataTile(['a\n', 'b']), formatError('MALFORMED_RECORD'));
    assert.throws(() => encodeDataTile(['a\n\nb\n']), formatError('MALFORMED_RECORD'));
  });
});

// ---------------------------------------------------------------------------------------------------

/** `# record N` followed by the record's lines, from toolchain-records.txt. */
function readToolchainRecords(): Map<number, string> {
  const records = new Map<number, string>();
  let current: number | undefined;
  for (const line of readFileSync(new URL('toolchain-records.txt', TESTDATA), 'utf8').split('\n')) {
    const header = /^# record (\d+)$/.exec(line);
    if (header) {
      current = Number(header[1]);
      records.set(current, '');
    } else if (line !== '' && !line.startsWith('#') && current !== undefined) {
      records.set(current, `${records.get(current)!}${line}\n`);
    }
  }
  return records;
}

describe('real sum.golang.org records (golang.org/toolchain)', () => {
  const records = readToolchainRecords();

  test('the three records parse, and their go.mod hash is the toolchain go.mod vector', () => {
    assert.deepEqual([...records.keys()], [24929362, 23370198, 29517969]);
    for (const [id, text] of records) {
      const record = parseGoSumRecord(text);
      assert.equal(record.path, 'golang.org/toolchain', String(id));
      assert.match(record.version, /^v0\.0\.1-go1\.2\d\.\d+\.linux-amd64$/);
      assert.equal(record.goModHash, goModHash(utf8('module golang.org/toolchain\n')));
      assert.equal(formatGoSumRecord(record), text);
    }
  });

  test('leaf hash of record 24929362 (golang/mod tlog.RecordHash)', () => {
    const text = records.get(24929362)!;
    assert.equal(encodeBase64(recordLeafHash(text)), 'A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=');
    assert.equal(encodeBase64(recordLeafHash(utf8(text))), 'A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=');
  });

  test('the real /lookup response for record 24929362 parses and its tree note verifies', () => {
    const text = records.get(24929362)!;
    const note = readFileSync(new URL('sumdb-checkpoints/28905453', TESTDATA), 'utf8');
    const body = concatBytes(formatRecord(24929362, text), utf8(note));
    assert.ok(decodeUtf8(body).startsWith(`24929362\n${text}\ngo.sum database tree\n28905453\n`));
    const parsed = parseRecord(body);
    assert.equal(parsed.id, 24929362n);
    assert.equal(decodeUtf8(parsed.text), text);
    const verifier = noteVerifier(readFileSync(new URL('sumdb.vkey', TESTDATA), 'utf8').trim());
    const { checkpoint } = openCheckpoint(decodeUtf8(parsed.rest), [verifier], 'go.sum database tree');
    assert.equal(checkpoint.size, 28905453n);
    assert.ok(parsed.id < checkpoint.size);
  });

  test('a data tile of real records round-trips', () => {
    const texts = [...records.values()];
    assert.deepEqual(decodeDataTile(encodeDataTile(texts), 3).map((t) => decodeUtf8(t)), texts);
  });
});
