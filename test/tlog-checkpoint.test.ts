// C2SP tlog-checkpoint (src/tlog/checkpoint.ts) and tlog-cosignature cosignature/v1
// (src/tlog/cosignature.ts), with real sum.golang.org checkpoints and a cosignature/v1 vector.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { FormatError, VerificationError, WitnessError } from '../src/errors.js';
import { decodeBase64, decodeHex, encodeBase64, encodeHex, utf8 } from '../src/tlog/encoding.js';
import { sha256 } from '../src/tlog/sha256.js';
import { type Checkpoint, formatCheckpoint, openCheckpoint, parseCheckpoint } from '../src/tlog/checkpoint.js';
import {
  cosignatureMessage,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosignatureVerifierKey,
} from '../src/tlog/cosignature.js';
import { cosignatureSigner, formatSignerKey, noteSigner, parseSignerKey } from '../src/tlog-node/signer.js';
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  formatSignatureLine,
  noteVerifier,
  openNote,
  parseVerifierKey,
  signNote,
  splitNote,
  verifierKeyOf,
} from '../src/tlog/note.js';
import { TESTDATA, same } from './helpers/vectors.js';


ed.hashes.sha512 = sha512;

const SUMDB_VKEY = readFileSync(`${TESTDATA}/sumdb.vkey`, 'utf8').trim();
const SUMDB_NOTE = readFileSync(`${TESTDATA}/sumdb-checkpoints/28905453`, 'utf8');
const SUMDB_TEXT = 'go.sum database tree\n28905453\nf3f8U0MoQmXkWAgAEKDtXcaI3c2y6N9+55KNSRefF/w=\n';

// A cosignature/v1 vector from a fixed seed (self-computed: Node and Python agree).
const SEED = decodeHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
const WITNESS = 'example.com/witness';
const TIMESTAMP = 1723107285n;
const VKEY_04 = 'example.com/witness+e48fb910+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4';
const VKEY_01 = 'example.com/witness+befad323+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4';
const COSIG_LINE =
  '— example.com/witness 5I+5EAAAAABmtIfV1lZVMc9FzFHa+54ZZTnHxH4LAJe2rC6uDMhkHT73bj/w/HOxaT1u15F6i9tY+YnFUTyjuwFlGMZXDyenq6VwCA==\n';
const ROOT_B64 = 'f3f8U0MoQmXkWAgAEKDtXcaI3c2y6N9+55KNSRefF/w=';

function throwsWitness(fn: () => unknown, what: string): WitnessError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WitnessError, `${what}: threw non-WitnessError ${String(err)}`);
    return err;
  }
  assert.fail(`${what}: did not throw`);
}

const isMalformed = (err: unknown) => err instanceof FormatError && err.code === 'MALFORMED_CHECKPOINT';

describe('checkpoint parsing', () => {
  test('parses the sumdb checkpoint text', () => {
    const cp = parseCheckpoint(SUMDB_TEXT);
    assert.equal(cp.origin, 'go.sum database tree'); // origin with spaces
    assert.equal(cp.size, 28905453n);
    assert.equal(encodeBase64(cp.rootHash), ROOT_B64);
    same(cp.extensions, []);
    assert.equal(formatCheckpoint(cp), SUMDB_TEXT);
  });

  test('format/parse round trip, with and without extension lines', () => {
    const cases: Checkpoint[] = [
      { origin: 'example.com/log', size: 0n, rootHash: sha256(new Uint8Array(0)), extensions: [] },
      { origin: 'example.com/log', size: 1n, rootHash: new Uint8Array(32).fill(0xff), extensions: ['ext one', '— x'] },
      { origin: 'a b  c', size: (1n << 63n) - 1n, rootHash: new Uint8Array(32), extensions: ['z'] },
      { origin: 'ü/✓', size: 12345678901234n, rootHash: sha256(utf8('x')), extensions: [] },
    ];
    for (const cp of cases) {
      const text = formatCheckpoint(cp);
      same(parseCheckpoint(text), cp);
      assert.equal(formatCheckpoint(parseCheckpoint(text)), text);
    }
    assert.equal(
      formatCheckpoint(cases[1]!),
      `example.com/log\n1\n${encodeBase64(new Uint8Array(32).fill(0xff))}\next one\n— x\n`,
    );
    assert.equal(formatCheckpoint(cases[0]!), 'example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n');
  });

  test('extension lines are kept in order', () => {
    const cp = parseCheckpoint(`origin\n5\n${ROOT_B64}\nfirst\nsecond line\n  third\n`);
    same(cp.extensions, ['first', 'second line', '  third']);
  });

  test('size must be canonical decimal within int64', () => {
    const text = (size: string) => `o\n${size}\n${ROOT_B64}\n`;
    assert.equal(parseCheckpoint(text('0')).size, 0n);
    assert.equal(parseCheckpoint(text('9223372036854775807')).size, (1n << 63n) - 1n);
    for (const size of [
      '+1',
      '01',
      '00',
      '-1',
      '-0',
      '9223372036854775808',
      '18446744073709551615',
      '18446744073709551616',
      '99999999999999999999999',
      '',
      ' 1',
      '1 ',
      '1.0',
      '1e3',
      '0x10',
      '١',
      '1_000',
    ]) {
      assert.throws(() => parseCheckpoint(text(size)), isMalformed, JSON.stringify(size));
    }
  });

  test('root hash must be canonical base64 of 32 bytes', () => {
    const text = (root: string) => `o\n1\n${root}\n`;
    for (const root of [
      encodeBase64(new Uint8Array(31)),
      encodeBase64(new Uint8Array(33)),
      encodeBase64(new Uint8Array(0)),
      ROOT_B64.slice(0, -1), // missing padding
      `${ROOT_B64.slice(0, -2)}x=`, // non-canonical trailing bits
      ROOT_B64.replace('+', '-'),
      `${ROOT_B64} `,
      encodeHex(decodeBase64(ROOT_B64)),
    ]) {
      assert.throws(() => parseCheckpoint(text(root)), isMalformed, JSON.stringify(root));
    }
  });

  test('structural rejections', () => {
    for (const text of [
      SUMDB_TEXT.slice(0, -1), // missing trailing newline
      '',
      '\n',
      'o\n',
      'o\n1\n', // fewer than 3 lines
      `o\n1\n${ROOT_B64}`,
      `\n1\n${ROOT_B64}\n`, // empty origin
      `o\n1\n${ROOT_B64}\n\n`, // empty extension line
      `o\n1\n${ROOT_B64}\next\n\nmore\n`,
      `o\n\n1\n${ROOT_B64}\n`,
    ]) {
      assert.throws(() => parseCheckpoint(text), isMalformed, JSON.stringify(text));
    }
    assert.throws(() => parseCheckpoint(`o\n1\n${ROOT_B64}\n`.padStart(1_000_001, 'x')), isMalformed);
  });

  test('formatCheckpoint refuses what it could not read back', () => {
    const base: Checkpoint = { origin: 'o', size: 1n, rootHash: new Uint8Array(32), extensions: [] };
    throwsWitness(() => formatCheckpoint({ ...base, origin: '' }), 'empty origin');
    throwsWitness(() => formatCheckpoint({ ...base, origin: 'a\tb' }), 'control char');
    throwsWitness(() => formatCheckpoint({ ...base, size: -1n }), 'negative size');
    throwsWitness(() => formatCheckpoint({ ...base, size: 1n << 63n }), 'size too big');
    throwsWitness(() => formatCheckpoint({ ...base, rootHash: new Uint8Array(31) }), 'short root');
    throwsWitness(() => formatCheckpoint({ ...base, extensions: [''] }), 'empty extension');
  });

  test('openCheckpoint checks the signature, then the text and the origin', () => {
    const verifier = noteVerifier(SUMDB_VKEY);
    const signed = openCheckpoint(SUMDB_NOTE, [verifier], 'go.sum database tree');
    assert.equal(signed.checkpoint.size, 28905453n);
    assert.equal(signed.message, SUMDB_NOTE);
    assert.equal(signed.note.text, SUMDB_TEXT);
    assert.throws(() => openCheckpoint(SUMDB_NOTE, [verifier], 'sum.golang.org'), (e: unknown) => e instanceof FormatError && e.code === 'WRONG_ORIGIN');
    assert.throws(() => openCheckpoint(SUMDB_NOTE, []), (e: unknown) => e instanceof VerificationError && e.code === 'UNVERIFIED_NOTE');

    // A correctly signed note whose text is not a checkpoint.
    const key = parseSignerKey(formatSignerKey('log.example', SEED));
    const plain = signNote('not a checkpoint\n', [noteSigner(key)]);
    assert.throws(() => openCheckpoint(plain, [noteVerifier(verifierKeyOf(key))]), isMalformed);
  });
});

describe('cosignature/v1', () => {
  const key = parseSignerKey(formatSignerKey(WITNESS, SEED));

  test('key derivation: 0x04 and 0x01 verifier keys of one seed', () => {
    assert.equal(encodeHex(key.publicKey), '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8');
    assert.equal(cosignatureVerifierKey(key), VKEY_04);
    assert.equal(verifierKeyOf(key), VKEY_01);
    const parsed = parseVerifierKey(VKEY_04);
    assert.equal(parsed.type, SIGNATURE_TYPE_COSIGNATURE_V1);
    assert.equal(parsed.keyId, 0xe48fb910);
  });

  test('the §3.2 vector: signing reproduces the exact line', () => {
    const signer = cosignatureSigner(key, () => TIMESTAMP);
    assert.equal(signer.name, WITNESS);
    assert.equal(signer.keyId, 0xe48fb910);
    const sig = signer.sign(utf8(SUMDB_TEXT));
    assert.equal(sig.length, 8 + 64);
    assert.equal(formatSignatureLine(signer.name, signer.keyId, sig), COSIG_LINE);
    // Also from the key string, and through signNote.
    assert.equal(signNote(SUMDB_TEXT, [cosignatureSigner(formatSignerKey(WITNESS, SEED), () => TIMESTAMP)]), `${SUMDB_TEXT}\n${COSIG_LINE}`);
  });

  test('the signed message is "cosignature/v1\\ntime <T>\\n" + checkpoint text (checked with @noble/ed25519)', () => {
    const message = cosignatureMessage(TIMESTAMP, SUMDB_TEXT);
    assert.equal(
      Buffer.from(message).toString('utf8'),
      'cosignature/v1\ntime 1723107285\ngo.sum database tree\n28905453\nf3f8U0MoQmXkWAgAEKDtXcaI3c2y6N9+55KNSRefF/w=\n',
    );
    const raw = decodeBase64(COSIG_LINE.slice('— example.com/witness '.length, -1));
    assert.equal(raw.length, 76);
    assert.equal(encodeHex(raw.subarray(0, 4)), 'e48fb910');
    assert.equal(encodeHex(raw.subarray(4, 12)), '0000000066b487d5'); // 1723107285 big-endian
    assert.equal(ed.verify(raw.subarray(12), message, key.publicKey, { zip215: false }), true);
    same(ed.sign(message, SEED), raw.subarray(12));
  });

  test('cosignatureVerifier verifies the vector, alone and next to the log signature', () => {
    const verifier = cosignatureVerifier(VKEY_04);
    assert.equal(verifier.name, WITNESS);
    assert.equal(verifier.keyId, 0xe48fb910);
    const note = openNote(`${SUMDB_TEXT}\n${COSIG_LINE}`, [verifier]);
    assert.equal(note.signatures.length, 1);
    const cosigned = `${SUMDB_NOTE}${COSIG_LINE}`;
    const both = openNote(cosigned, [noteVerifier(SUMDB_VKEY), verifier]);
    same(both.signatures.map((s) => s.name), ['sum.golang.org', WITNESS]);
    const logOnly = openCheckpoint(cosigned, [noteVerifier(SUMDB_VKEY)], 'go.sum database tree');
    same(logOnly.note.unverifiedSignatures.map((s) => s.name), [WITNESS]);
    // The 0x01 key of the same seed does not verify a cosignature (different key ID -> unknown).
    assert.throws(() => openNote(`${SUMDB_TEXT}\n${COSIG_LINE}`, [noteVerifier(VKEY_01)]), (e: unknown) => e instanceof VerificationError && e.code === 'UNVERIFIED_NOTE');
  });

  test('cosignatureVerifier rejects the vector after any byte change', () => {
    const verifier = cosignatureVerifier(VKEY_04);
    const bytes = utf8(`${SUMDB_TEXT}\n${COSIG_LINE}`);
    let count = 0;
    for (let pos = 0; pos < bytes.length; pos++) {
      for (const replacement of new Set([bytes[pos]! ^ 0x01, bytes[pos]! ^ 0x40, 0x41])) {
        if (replacement === bytes[pos]) continue;
        const mutated = Uint8Array.from(bytes);
        mutated[pos] = replacement;
        throwsWitness(() => openNote(mutated, [verifier]), `byte ${pos} -> ${replacement}`);
        count++;
      }
    }
    assert.ok(count > 2 * bytes.length);
    // Every byte of the decoded signature field (re-encoded canonically) too: key ID, timestamp, signature.
    const raw = decodeBase64(COSIG_LINE.slice('— example.com/witness '.length, -1));
    for (let pos = 0; pos < raw.length; pos++) {
      const mutated = Uint8Array.from(raw);
      mutated[pos]! ^= 0x01;
      const err = throwsWitness(
        () => openNote(`${SUMDB_TEXT}\n— ${WITNESS} ${encodeBase64(mutated)}\n`, [verifier]),
        `sig byte ${pos}`,
      );
      // Key ID changes make the signature unknown; all others fail verification.
      assert.equal(err.code, pos < 4 ? 'UNVERIFIED_NOTE' : 'INVALID_SIGNATURE', `sig byte ${pos}`);
      assert.equal(verifier.verify(utf8(SUMDB_TEXT), mutated.subarray(4)), pos < 4, `verify() sig byte ${pos}`);
    }
  });

  test('verify() rejects bad lengths and timestamps above 2^63-1', () => {
    const verifier = cosignatureVerifier(VKEY_04);
    const raw = decodeBase64(COSIG_LINE.slice('— example.com/witness '.length, -1));
    const field = raw.subarray(4);
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), field), true);
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), field.subarray(0, 71)), false);
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), new Uint8Array([...field, 0])), false);
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), field.subarray(8)), false);
    // A signature over a timestamp >= 2^63 is refused even when the Ed25519 signature is valid.
    const big = 1n << 63n;
    const message = utf8(`cosignature/v1\ntime ${big}\n${SUMDB_TEXT}`);
    const ts = new Uint8Array(8);
    new DataView(ts.buffer).setBigUint64(0, big);
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), new Uint8Array([...ts, ...ed.sign(message, SEED)])), false);
    // The signer refuses such timestamps outright.
    assert.throws(() => cosignatureSigner(key, () => big).sign(utf8(SUMDB_TEXT)));
    assert.throws(() => cosignatureSigner(key, () => -1n).sign(utf8(SUMDB_TEXT)));
    const max = (1n << 63n) - 1n;
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), cosignatureSigner(key, () => max).sign(utf8(SUMDB_TEXT))), true);
    assert.equal(verifier.verify(utf8(SUMDB_TEXT), cosignatureSigner(key, () => 0n).sign(utf8(SUMDB_TEXT))), true);
  });

  test('cosignatureVerifier refuses keys that are not type 0x04', () => {
    assert.throws(() => cosignatureVerifier(VKEY_01), (e: unknown) => e instanceof FormatError && e.code === 'UNKNOWN_KEY_ALGORITHM');
    assert.throws(() => cosignatureVerifier(SUMDB_VKEY), (e: unknown) => e instanceof FormatError && e.code === 'UNKNOWN_KEY_ALGORITHM');
    assert.throws(() => cosignatureVerifier('garbage'), FormatError);
    const shortKey = `${WITNESS}+${'00000000'}+${encodeBase64(new Uint8Array([4, 1, 2]))}`;
    throwsWitness(() => cosignatureVerifier(shortKey), 'short key');
  });

  test('cosignatureTimestamp', () => {
    const { signatures } = splitNote(`${SUMDB_TEXT}\n${COSIG_LINE}`);
    assert.equal(cosignatureTimestamp(signatures[0]!), 1723107285n);
    // C2SP example line: key ID 8d66cf3f, timestamp 1679315147.
    const c2sp = 'jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==';
    assert.equal(cosignatureTimestamp({ name: 'witness.example.com/w1', keyId: 0x8d66cf3f, base64: c2sp }), 1679315147n);
    assert.throws(
      () => cosignatureTimestamp({ name: 'x', keyId: 0, base64: encodeBase64(new Uint8Array(75)) }),
      (e: unknown) => e instanceof FormatError && e.code === 'MALFORMED_COSIGNATURE',
    );
    assert.throws(() => cosignatureTimestamp({ name: 'x', keyId: 0, base64: 'not base64' }), FormatError);
    const tooBig = new Uint8Array(76);
    tooBig[4] = 0x80;
    throwsWitness(() => cosignatureTimestamp({ name: 'x', keyId: 0, base64: encodeBase64(tooBig) }), 'timestamp >= 2^63');
  });

  test('sigsum message-format vector (sigsum-go tree_head_test.go)', () => {
    const origin = `sigsum.org/v1/tree/${encodeHex(sha256(new Uint8Array(32)))}`;
    assert.equal(origin, 'sigsum.org/v1/tree/66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925');
    const rootHash = Uint8Array.from({ length: 32 }, (_, i) => i);
    const text = formatCheckpoint({ origin, size: 257n, rootHash, extensions: [] });
    assert.equal(
      Buffer.from(cosignatureMessage(72623859790382856n, text)).toString('utf8'),
      'cosignature/v1\ntime 72623859790382856\nsigsum.org/v1/tree/66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925\n257\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n',
    );
  });

  test('the signer signs exactly cosignatureMessage (extension lines included)', () => {
    const text = `example.com/log\n3\n${ROOT_B64}\nextension\n`;
    const signer = cosignatureSigner(key, () => 42n);
    const sig = signer.sign(utf8(text));
    assert.equal(encodeHex(sig.subarray(0, 8)), '000000000000002a');
    assert.equal(ed.verify(sig.subarray(8), cosignatureMessage(42n, text), key.publicKey, { zip215: false }), true);
    const verifier = cosignatureVerifier(VKEY_04);
    assert.equal(verifier.verify(utf8(text), sig), true);
    assert.equal(verifier.verify(utf8(text.replace('extension', 'extensioN')), sig), false);
  });
});
