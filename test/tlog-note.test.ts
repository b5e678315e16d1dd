// C2SP signed notes (src/tlog/note.ts) against golang/mod sumdb/note note_test.go vectors, the C2SP
// example, real sum.golang.org checkpoints, exhaustive one-byte mutations, and @noble/ed25519.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { FormatError, VerificationError, WitnessError } from '../src/errors.js';
import { decodeBase64, decodeHex, encodeBase64, encodeHex, utf8 } from '../src/tlog/encoding.js';
import { openCheckpoint } from '../src/tlog/checkpoint.js';
import { cosignatureVerifierKey } from '../src/tlog/cosignature.js';
import {
  MAX_NOTE_SIGNATURES,
  type NoteSignature,
  type Signer,
  SIGNATURE_TYPE_ED25519,
  checkNoteText,
  computeKeyId,
  formatKeyId,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
  noteVerifier,
  openNote,
  parseVerifierKey,
  signNote,
  splitNote,
  verifierKeyOf,
} from '../src/tlog/note.js';
import { formatSignerKey, generateKeyPair, noteSigner, parseSignerKey } from '../src/tlog-node/signer.js';
import { SHARED_KEYS, SHARED_KEYS_SKIP, TESTDATA, same } from './helpers/vectors.js';


ed.hashes.sha512 = sha512;


// golang/mod sumdb/note/note_test.go
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_B64 = 'x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=';
const ENOCH_B64 = 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=';
const PETER_SIG = `— PeterNeumann ${PETER_B64}\n`;
const ENOCH_SIG = `— EnochRoot ${ENOCH_B64}\n`;
const peter: NoteSignature = { name: 'PeterNeumann', keyId: 0xc74f20a3, base64: PETER_B64 };
const enoch: NoteSignature = { name: 'EnochRoot', keyId: 0xaf0cfe78, base64: ENOCH_B64 };

const SUMDB_VKEY = readFileSync(`${TESTDATA}/sumdb.vkey`, 'utf8').trim();
const SUMDB_ORIGIN = 'go.sum database tree';
const SUMDB_NOTES = readdirSync(`${TESTDATA}/sumdb-checkpoints`)
  .sort()
  .map((name) => ({ size: name, message: readFileSync(`${TESTDATA}/sumdb-checkpoints/${name}`, 'utf8') }));

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function code(expected: string, cls: abstract new (...args: never[]) => WitnessError = WitnessError) {
  return (err: unknown) => {
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal((err as WitnessError).code, expected);
    return true;
  };
}

/** Go's `s[:at] + insert + s[at:]` on the UTF-8 bytes (the em dash is 3 bytes, 1 UTF-16 unit). */
function insertAtByte(s: string, at: number, insert: string): string {
  const b = Buffer.from(s, 'utf8');
  return b.subarray(0, at).toString('utf8') + insert + b.subarray(at).toString('utf8');
}

/** Asserts fn throws a WitnessError (and nothing else); returns the error. */
function throwsWitness(fn: () => unknown, what: string): WitnessError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof WitnessError, `${what}: threw non-WitnessError ${String(err)}`);
    return err;
  }
  assert.fail(`${what}: did not throw`);
}

describe('keys', () => {
  test('PeterNeumann signer and verifier keys', () => {
    const skey = parseSignerKey(PETER_SKEY);
    assert.equal(skey.name, 'PeterNeumann');
    assert.equal(skey.keyId, 0xc74f20a3);
    assert.equal(verifierKeyOf(skey), PETER_VKEY);
    assert.equal(formatSignerKey('PeterNeumann', skey.seed), PETER_SKEY);
    const vkey = parseVerifierKey(PETER_VKEY);
    assert.equal(vkey.name, 'PeterNeumann');
    assert.equal(vkey.keyId, 0xc74f20a3);
    assert.equal(vkey.type, SIGNATURE_TYPE_ED25519);
    same(vkey.publicKey, skey.publicKey);
    assert.equal(vkey.text, PETER_VKEY);
    assert.equal(formatKeyId(vkey.keyId), 'c74f20a3');
    assert.equal(formatKeyId(0x1), '00000001');
    assert.equal(computeKeyId('PeterNeumann', decodeBase64('ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')), 0xc74f20a3);
    assert.equal(formatVerifierKey('PeterNeumann', 1, vkey.publicKey), PETER_VKEY);
  });

  test('sumdb verifier key: base64 containing "+" (split on the first two "+" only)', () => {
    const key = parseVerifierKey(SUMDB_VKEY);
    assert.equal(key.name, 'sum.golang.org');
    assert.equal(formatKeyId(key.keyId), '033de0ae');
    assert.equal(encodeHex(key.publicKey), 'ce3372d75ad1ee5ecdaf8727293d4b111d87eb37531d7c86d4d3003f0eb809fc');
    const v = noteVerifier(SUMDB_VKEY);
    assert.equal(v.name, 'sum.golang.org');
    assert.equal(v.keyId, 0x033de0ae);
  });

  test('every substring and every incremented byte of the PeterNeumann vkey is rejected (TestNewVerifier)', () => {
    const b = utf8(PETER_VKEY);
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        throwsWitness(() => noteVerifier(text(b.subarray(i, j))), `substring ${i}..${j}`);
      }
    }
    for (let i = 0; i < b.length; i++) {
      const m = Uint8Array.from(b);
      m[i]!++;
      throwsWitness(() => noteVerifier(text(m)), `byte ${i}++`);
    }
    // Wrong-length key with adjusted hash; unknown algorithm 0x65 with adjusted hash.
    throwsWitness(() => noteVerifier('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='), 'long key');
  });

  test('vkey with algorithm 0x65 -> UNKNOWN_KEY_ALGORITHM', () => {
    const vkey = 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
    const key = parseVerifierKey(vkey); // the hash matches; only the algorithm is unknown
    assert.equal(key.type, 0x65);
    assert.throws(() => noteVerifier(vkey), code('UNKNOWN_KEY_ALGORITHM', FormatError));
    assert.throws(() => noteVerifier(key), code('UNKNOWN_KEY_ALGORITHM', FormatError));
  });

  test('malformed verifier keys', () => {
    const bad = [
      '',
      'PeterNeumann',
      'PeterNeumann+c74f20a3',
      'PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // Go formats lowercase
      'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a30+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', // wrong hash
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', // bad base64
      'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n',
      ' PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
      'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW',
    ];
    for (const vkey of bad) {
      assert.throws(() => parseVerifierKey(vkey), code('MALFORMED_VERIFIER_KEY', FormatError), JSON.stringify(vkey));
    }
  });

  test('every substring and every incremented byte of the PeterNeumann skey is rejected (TestNewSigner)', () => {
    const b = utf8(PETER_SKEY);
    const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        throwsWitness(() => parseSignerKey(text(b.subarray(i, j))), `substring ${i}..${j}`);
      }
    }
    for (let i = 0; i < b.length; i++) {
      const m = Uint8Array.from(b);
      m[i]!++;
      throwsWitness(() => parseSignerKey(text(m)), `byte ${i}++`);
    }
  });

  test('signer key errors never echo the secret', () => {
    const tampered = PETER_SKEY.replace('+c74f20a3+', '+c74f20a4+');
    const err = throwsWitness(() => parseSignerKey(tampered), 'wrong hash');
    assert.equal(err.code, 'MALFORMED_SIGNER_KEY');
    assert.equal(err.message.includes('AYEKFALV'), false);
    const err2 = throwsWitness(() => parseSignerKey(`${PETER_SKEY}!`), 'bad base64');
    assert.equal(err2.message.includes('AYEKFALV'), false);
  });

  test('embedded keys: signer key -> published verifier keys (0x01 log key, 0x04 cosigner key)', { skip: SHARED_KEYS_SKIP }, () => {
    const logKey = parseSignerKey(readFileSync(`${SHARED_KEYS}/embedded-log.key`, 'utf8'));
    assert.equal(verifierKeyOf(logKey), readFileSync(`${SHARED_KEYS}/embedded-log.vkey`, 'utf8').trim());
    assert.equal(logKey.name, 'go-source-witness.example/log');
    const cosigner = parseSignerKey(readFileSync(`${SHARED_KEYS}/embedded-cosigner.key`, 'utf8'));
    assert.equal(cosignatureVerifierKey(cosigner), readFileSync(`${SHARED_KEYS}/embedded-cosigner.vkey`, 'utf8').trim());
    assert.equal(cosigner.name, 'go-source-witness.example/witness');
    // The 0x01 form of the cosigner key has a different key ID.
    assert.notEqual(verifierKeyOf(cosigner), cosignatureVerifierKey(cosigner));
    // Signatures by the log key verify with the published vkey.
    const msg = signNote('go-source-witness.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n', [noteSigner(logKey)]);
    const v = noteVerifier(readFileSync(`${SHARED_KEYS}/embedded-log.vkey`, 'utf8').trim());
    assert.equal(openNote(msg, [v]).signatures.length, 1);
  });

  test('generateKeyPair round trip', () => {
    const seed = decodeHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const { signerKey, verifierKey } = generateKeyPair('example.com/witness', seed);
    assert.equal(verifierKey, 'example.com/witness+befad323+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4');
    assert.equal(verifierKeyOf(parseSignerKey(signerKey)), verifierKey);
    const random = generateKeyPair('random.example');
    const msg = signNote('hello\n', [noteSigner(random.signerKey)]);
    assert.equal(openNote(msg, [noteVerifier(random.verifierKey)]).text, 'hello\n');
    assert.throws(() => generateKeyPair('bad name'), FormatError);
    assert.throws(() => generateKeyPair('a+b'), FormatError);
    assert.throws(() => generateKeyPair(''), FormatError);
  });

  test('key names follow Go isValidName (unicode.IsSpace, "+")', () => {
    for (const name of ['a', 'example.com/foo', 'sum.golang.org', 'ü', '\u200b', '\ufeff', 'a\ufeffb', '\u180e']) {
      assert.equal(isValidKeyName(name), true, JSON.stringify(name));
    }
    for (const name of ['', 'a b', 'a+b', '+', 'a\tb', 'a\nb', 'a\u0085b', 'a\u00a0b', 'a\u1680b', 'a\u2000b', 'a\u200ab', 'a\u2028b', 'a\u2029b', 'a\u202fb', 'a\u205fb', 'a\u3000b', '\v', '\f', '\r']) {
      assert.equal(isValidKeyName(name), false, JSON.stringify(name));
    }
  });
});

describe('C2SP signed-note example', () => {
  const vkey = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
  const message =
    'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

  test('verifies', () => {
    const note = openNote(message, [noteVerifier(vkey)]);
    assert.equal(note.text, 'This is an example message.\n');
    assert.equal(note.signatures.length, 1);
    assert.equal(note.signatures[0]!.name, 'example.com/foo');
    assert.equal(note.signatures[0]!.keyId, 0x530d903a);
    same(note.unverifiedSignatures, []);
    // Also from bytes.
    assert.equal(openNote(utf8(message), [noteVerifier(vkey)]).text, 'This is an example message.\n');
  });

  test('text change breaks it', () => {
    assert.throws(() => openNote(message.replace('example message', 'example massage'), [noteVerifier(vkey)]), code('INVALID_SIGNATURE', VerificationError));
  });
});

describe('golang/mod note vectors', () => {
  const peterV = noteVerifier(PETER_VKEY);
  const enochV = noteVerifier(ENOCH_VKEY);

  test('Sign reproduces the PeterNeumann signature line exactly (Ed25519 is deterministic)', () => {
    const signer = noteSigner(PETER_SKEY);
    assert.equal(signer.name, 'PeterNeumann');
    assert.equal(signer.keyId, 0xc74f20a3);
    assert.equal(signNote(TEXT, [signer]), `${TEXT}\n${PETER_SIG}`);
    assert.equal(formatSignatureLine(signer.name, signer.keyId, signer.sign(utf8(TEXT))), PETER_SIG);
    // An existing signature by the same key is replaced.
    assert.equal(signNote(TEXT, [signer], [{ name: 'PeterNeumann', keyId: 0xc74f20a3, base64: 'BADSIGN=' }]), `${TEXT}\n${PETER_SIG}`);
    // Other existing signatures come first.
    assert.equal(signNote(TEXT, [signer], [enoch]), `${TEXT}\n${ENOCH_SIG}${PETER_SIG}`);
  });

  test('Sign rejects bad text', () => {
    const signer = noteSigner(PETER_SKEY);
    for (const text of ['abc', '', 'a\tb\n', 'a\rb\n', 'a\u0000\n']) {
      assert.throws(() => signNote(text, [signer]), code('MALFORMED_NOTE_TEXT', FormatError), JSON.stringify(text));
    }
    assert.throws(() => checkNoteText('no newline'), FormatError);
    checkNoteText('ok\n');
  });

  test('Open: one verified, one unverified; both verified; none', () => {
    const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    const one = openNote(msg, [peterV]);
    assert.equal(one.text, TEXT);
    same(one.signatures, [peter]);
    same(one.unverifiedSignatures, [enoch]);

    const both = openNote(msg, [peterV, enochV]);
    same(both.signatures, [peter, enoch]);
    same(both.unverifiedSignatures, []);

    const enochOnly = openNote(`${TEXT}\n${ENOCH_SIG}`, [enochV]);
    same(enochOnly.signatures, [enoch]);

    assert.throws(() => openNote(msg, []), code('UNVERIFIED_NOTE', VerificationError));
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG}`, [enochV]), code('UNVERIFIED_NOTE', VerificationError));
    // A verifier with the right name but another key ID does not apply.
    const otherKey = generateKeyPair('PeterNeumann', new Uint8Array(32).fill(9));
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG}`, [noteVerifier(otherKey.verifierKey)]), code('UNVERIFIED_NOTE'));
  });

  test('Open: duplicated verified and unverified signatures', () => {
    const enochABCD: NoteSignature = {
      name: 'EnochRoot',
      keyId: 0xaf0cfe78,
      base64: 'rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5nABCD2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=',
    };
    const msg = `${TEXT}\n${PETER_SIG}${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}${insertAtByte(ENOCH_SIG, 60, 'ABCD')}`;
    const note = openNote(msg, [peterV]);
    same(note.signatures, [peter]);
    same(note.unverifiedSignatures, [enoch, enochABCD]);
  });

  test('Open: 100 signatures are fine, 101 are malformed', () => {
    const hundred = openNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [peterV]);
    same(hundred.signatures, [peter]);
    assert.equal(MAX_NOTE_SIGNATURES, 100);
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peterV]), code('MALFORMED_NOTE', FormatError));
    assert.throws(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, []), code('MALFORMED_NOTE', FormatError));
    assert.throws(() => splitNote(`${TEXT}\n${ENOCH_SIG.repeat(101)}`), code('MALFORMED_NOTE', FormatError));
  });

  test('Open: tampered known signature -> INVALID_SIGNATURE', () => {
    const msg = `${TEXT}\n${insertAtByte(PETER_SIG, 60, 'ABCD')}`;
    assert.throws(
      () => openNote(msg, [peterV]),
      (err: unknown) =>
        err instanceof VerificationError &&
        err.code === 'INVALID_SIGNATURE' &&
        err.message === 'invalid signature for key PeterNeumann+c74f20a3',
    );
    // A bad signature from a known key rejects the note even when another trusted signature is fine.
    assert.throws(() => openNote(`${TEXT}\n${ENOCH_SIG}${insertAtByte(PETER_SIG, 60, 'ABCD')}`, [peterV, enochV]), code('INVALID_SIGNATURE'));
    // Right key, signature over other text.
    assert.throws(() => openNote(`${TEXT}x\n\n${PETER_SIG}`, [peterV]), code('INVALID_SIGNATURE'));
    // Duplicate lines from one key: only the first is checked (Go drops repeats before verifying).
    same(openNote(`${TEXT}\n${PETER_SIG}${insertAtByte(PETER_SIG, 60, 'ABCD')}`, [peterV]).signatures, [peter]);
  });

  test('Open: malformed messages (note_test.go badMsgs and more)', () => {
    const bad: Array<string | Uint8Array> = [
      TEXT,
      `${TEXT}\n`,
      `${TEXT}\n${PETER_SIG.slice(0, -1)}`,
      `\x01${TEXT}\n${PETER_SIG}`,
      new Uint8Array([0xff, ...utf8(`${TEXT}\n${PETER_SIG}`)]),
      `${TEXT}\n— Bad Name ${PETER_B64}`,
      `${TEXT}\n— Bad Name ${PETER_B64}\n`,
      `${TEXT}\n${PETER_SIG}Unexpected line.\n`,
      `${TEXT}\n${PETER_SIG}\n`,
      `${TEXT}\n-- PeterNeumann ${PETER_B64}\n`,
      `${TEXT}\n—PeterNeumann ${PETER_B64}\n`,
      `${TEXT}\n—  PeterNeumann ${PETER_B64}\n`,
      `${TEXT}\n— PeterNeumann\n`,
      `${TEXT}\n— PeterNeumann \n`,
      `${TEXT}\n— PeterNeumann  ${PETER_B64}\n`,
      `${TEXT}\n— PeterNeumann ${PETER_B64} \n`,
      `${TEXT}\n— PeterNeumann ${PETER_B64.slice(0, -1)}\n`, // missing padding
      `${TEXT}\n— PeterNeumann AAAAAA==\n`, // 4 bytes: shorter than 5
      `${TEXT}\n— Peter+Neumann ${PETER_B64}\n`,
      `${TEXT}\n${PETER_SIG.replace('\n', '\r\n')}`,
      `${TEXT}\t\n${PETER_SIG}`,
      new Uint8Array([...utf8(`${TEXT}\n`), 0xe2, 0x80, ...utf8(` PeterNeumann ${PETER_B64}\n`)]),
      new Uint8Array([...utf8(TEXT), 0xc0, 0x8a, ...utf8(`\n${PETER_SIG}`)]), // overlong '\n'
      new Uint8Array([...utf8(TEXT), 0xed, 0xa0, 0x80, ...utf8(`\n\n${PETER_SIG}`)]), // surrogate
      '',
      '\n\n',
    ];
    for (const [i, msg] of bad.entries()) {
      assert.throws(() => openNote(msg, [peterV]), code('MALFORMED_NOTE', FormatError), `bad message ${i}`);
    }
  });

  test('Open: text may contain blank lines; the last blank line separates', () => {
    const text = 'a\n\nb\n';
    const signer = noteSigner(PETER_SKEY);
    const msg = signNote(text, [signer]);
    const note = openNote(msg, [peterV]);
    assert.equal(note.text, text);
    const { text: split, signatures } = splitNote(msg);
    assert.equal(split, text);
    assert.equal(signatures.length, 1);
  });

  test('Open: an unknown signer with a U+FEFF name is kept, as in Go', () => {
    const msg = `${TEXT}\n${PETER_SIG}— odd\ufeffname ${ENOCH_B64}\n`;
    const note = openNote(msg, [peterV]);
    assert.equal(note.unverifiedSignatures.length, 1);
    assert.equal(note.unverifiedSignatures[0]!.name, 'odd\ufeffname');
  });
});

describe('real sum.golang.org checkpoints', () => {
  const verifier = noteVerifier(SUMDB_VKEY);

  test('there are 7 and all verify with sumdb.vkey', () => {
    assert.equal(SUMDB_NOTES.length, 7);
    for (const { size, message } of SUMDB_NOTES) {
      const { checkpoint, note } = openCheckpoint(message, [verifier], SUMDB_ORIGIN);
      assert.equal(checkpoint.origin, SUMDB_ORIGIN);
      assert.equal(checkpoint.size, BigInt(size));
      assert.equal(encodeBase64(checkpoint.rootHash), message.split('\n')[2]);
      same(checkpoint.extensions, []);
      assert.equal(note.signatures.length, 1);
      assert.equal(note.signatures[0]!.name, 'sum.golang.org');
      assert.equal(note.signatures[0]!.keyId, 0x033de0ae);
      assert.equal(openNote(utf8(message), [verifier]).text, note.text);
    }
    const first = SUMDB_NOTES.find((n) => n.size === '28905453')!;
    assert.equal(openCheckpoint(first.message, [verifier]).checkpoint.rootHash.length, 32);
    assert.throws(() => openCheckpoint(first.message, [verifier], 'sum.golang.org'), code('WRONG_ORIGIN', FormatError));
  });

  test('every one-byte change of every note makes openNote / openCheckpoint throw a WitnessError', () => {
    let mutations = 0;
    for (const { size, message } of SUMDB_NOTES) {
      const bytes = utf8(message);
      const tryBytes = (mutated: Uint8Array, what: string) => {
        mutations++;
        throwsWitness(() => openNote(mutated, [verifier]), `${size} ${what} (openNote)`);
        let text: string | undefined;
        try {
          text = strictUtf8.decode(mutated);
        } catch {
          text = undefined; // not UTF-8: only the byte API applies
        }
        if (text !== undefined) {
          throwsWitness(() => openCheckpoint(text, [verifier], SUMDB_ORIGIN), `${size} ${what} (openCheckpoint)`);
        }
      };
      for (let pos = 0; pos < bytes.length; pos++) {
        const original = bytes[pos]!;
        const replacements = new Set([original ^ 0x01, original ^ 0x80, 0x00, 0x0a, 0x20, 0x2b, 0x41, 0xff]);
        replacements.delete(original);
        for (const replacement of replacements) {
          const mutated = Uint8Array.from(bytes);
          mutated[pos] = replacement;
          tryBytes(mutated, `byte ${pos} ${original} -> ${replacement}`);
        }
        // Deleting the byte must fail too.
        tryBytes(new Uint8Array([...bytes.subarray(0, pos), ...bytes.subarray(pos + 1)]), `delete ${pos}`);
      }
    }
    assert.ok(mutations > 7 * 150 * 8, `only ${mutations} mutations`);
  });

  test('@noble/ed25519 agrees on the sumdb signatures', () => {
    const publicKey = parseVerifierKey(SUMDB_VKEY).publicKey;
    for (const { message } of SUMDB_NOTES) {
      const { text, signatures } = splitNote(message);
      const sig = decodeBase64(signatures[0]!.base64).subarray(4);
      assert.equal(sig.length, 64);
      const msg = utf8(text);
      assert.equal(ed.verify(sig, msg, publicKey, { zip215: false }), true);
      assert.equal(verifier.verify(msg, sig), true);
      const other = utf8(text.replace('\n', ' \n'));
      assert.equal(ed.verify(sig, other, publicKey, { zip215: false }), false);
      assert.equal(verifier.verify(other, sig), false);
      for (const pos of [0, 31, 32, 63]) {
        const bad = Uint8Array.from(sig);
        bad[pos]! ^= 0x04;
        assert.equal(ed.verify(bad, msg, publicKey, { zip215: false }), verifier.verify(msg, bad), `flip ${pos}`);
        assert.equal(verifier.verify(msg, bad), false);
      }
      assert.equal(verifier.verify(msg, sig.subarray(0, 63)), false);
      assert.equal(verifier.verify(msg, new Uint8Array([...sig, 0])), false);
    }
  });

  test('@noble/ed25519 agrees with noteSigner (same signatures, same public keys)', () => {
    const keys = [
      parseSignerKey(PETER_SKEY),
      ...(SHARED_KEYS_SKIP ? [] : [parseSignerKey(readFileSync(`${SHARED_KEYS}/embedded-log.key`, 'utf8'))]),
      parseSignerKey(generateKeyPair('x.example', decodeHex('1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100')).signerKey),
    ];
    const texts = ['hello\n', TEXT, 'go.sum database tree\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n', `${'x'.repeat(1000)}\n`, 'ü — ✓\n'];
    for (const key of keys) {
      same(ed.getPublicKey(key.seed), key.publicKey);
      const signer: Signer = noteSigner(key);
      const verifier = noteVerifier(verifierKeyOf(key));
      for (const text of texts) {
        const msg = utf8(text);
        const sig = signer.sign(msg);
        same(sig, ed.sign(msg, key.seed));
        assert.equal(ed.verify(sig, msg, key.publicKey, { zip215: false }), true);
        assert.equal(verifier.verify(msg, sig), true);
        const note = signNote(text, [signer]);
        same(openNote(note, [verifier]).signatures.map((s) => s.name), [key.name]);
      }
    }
  });
});

describe('strict base64', () => {
  test('accepts canonical padded base64 only', () => {
    same(decodeBase64(''), new Uint8Array(0));
    same(decodeBase64('AA=='), new Uint8Array([0]));
    same(decodeBase64('AAA='), new Uint8Array([0, 0]));
    same(decodeBase64('AAAA'), new Uint8Array([0, 0, 0]));
    same(decodeBase64('+/+/'), new Uint8Array([0xfb, 0xff, 0xbf]));
    same(decodeBase64('/w=='), new Uint8Array([0xff]));
    for (const bad of [
      'A',
      'AA',
      'AAA', // missing padding
      'AA=',
      'A===',
      'AB==', // non-canonical trailing bits (decodes like AA==)
      'AAB=', // non-canonical trailing bits
      '/x==',
      'AA=A',
      '=AAA',
      'AAAA====',
      'AAAA=',
      'AA==AA==',
      'A A=',
      ' AA==',
      'AA==\n',
      'AA\n==',
      'AA-_', // URL-safe alphabet
      '****',
      'ÄAAA',
      'AAA\u0000',
    ]) {
      assert.throws(() => decodeBase64(bad), code('MALFORMED_BASE64', FormatError), JSON.stringify(bad));
    }
  });

  test('strictness applies to keys and signature lines', () => {
    // Non-canonical last character of the signature (Go's StdEncoding would accept it, we do not).
    const last = PETER_B64.at(-2)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const index = alphabet.indexOf(last);
    const nonCanonical = `${PETER_B64.slice(0, -2)}${alphabet[index ^ 1]}=`;
    assert.equal(encodeHex(Buffer.from(nonCanonical, 'base64')), encodeHex(decodeBase64(PETER_B64)));
    assert.throws(() => openNote(`${TEXT}\n— PeterNeumann ${nonCanonical}\n`, [noteVerifier(PETER_VKEY)]), code('MALFORMED_NOTE', FormatError));
    assert.throws(() => parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW'), FormatError);
    assert.throws(() => parseSignerKey(PETER_SKEY.replace('+Y7h', '-Y7h')), FormatError);
  });
});
