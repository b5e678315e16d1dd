// C2SP signed-note (c2sp.org/signed-note@v1.0.0), parsed exactly like golang/mod sumdb/note (Open, Sign,
// NewVerifier). Ed25519 verification through the crypto seam `#tlog-crypto` (node:crypto in Node,
// @noble/ed25519 in a browser). Signing needs the private key and lives in Node only:
// src/tlog-node/signer.ts (NewSigner, GenerateKey, the PRIVATE+KEY format).
import { ed25519Verifier } from '#tlog-crypto';
import { type ErrorCode, FormatError, VerificationError } from '../errors.js';
import { concatBytes, decodeBase64, decodeUtf8, encodeBase64, utf8 } from './encoding.js';
import { sha256 } from './sha256.js';

/** Signature types of signed-note.md "Signatures". */
export const SIGNATURE_TYPE_ED25519 = 0x01;
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/** Go note.Open refuses notes with more signature lines than this (C2SP: verifiers MUST accept >= 16). */
export const MAX_NOTE_SIGNATURES = 100;

export interface Verifier {
  readonly name: string;
  readonly keyId: number;
  /** Verifies `signature` (the signature bytes after the 4-byte key ID) over the note text. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

export interface Signer {
  readonly name: string;
  readonly keyId: number;
  /** Returns the signature bytes that follow the 4-byte key ID. */
  sign(text: Uint8Array): Uint8Array;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** base64 of keyID || signature, as on the signature line. */
  readonly base64: string;
}

export interface Note {
  readonly text: string;
  /** Signatures verified by a known key, in the order they appear. */
  readonly signatures: NoteSignature[];
  /** Signatures from keys not in the verifier list, kept as they are (never trusted). */
  readonly unverifiedSignatures: NoteSignature[];
}

/** Go isValidName: non-empty, no Unicode space, no '+'. */
export function isValidKeyName(name: string): boolean {
  // Exactly Go's unicode.IsSpace (Latin-1 spaces + the White_Space property), not JS `\s`, which also
  // matches U+FEFF: Go accepts a key name containing U+FEFF, so rejecting it would make a note Go opens
  // (e.g. one carrying an unknown cosigner's line with such a name) "malformed" here.
  return name !== '' && !/[\t\n\v\f\r +\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** keyID = SHA-256(name || 0x0A || type || public key)[0:4], big-endian (signed-note.md "Key IDs"). */
export function computeKeyId(name: string, typeAndKey: Uint8Array): number {
  const digest = sha256(utf8(name), new Uint8Array([0x0a]), typeAndKey);
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

function keyIdBytes(keyId: number): Uint8Array {
  return new Uint8Array([keyId >>> 24, (keyId >>> 16) & 0xff, (keyId >>> 8) & 0xff, keyId & 0xff]);
}

/** A parsed verifier key `name+hash+base64(type || key)`. */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
  /** The key as written. */
  readonly text: string;
}

/**
 * Parses a verifier key like Go note.NewVerifier, without restricting the algorithm: only the first two
 * '+' split (the base64 part may contain '+'), the hash must be 8 hex digits and must match.
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  // Never echo the text: it may be a private key given by mistake (e.g. --vkey pointing at the signing
  // key file) or whatever file a hostile log's log.vkey was made to be.
  const bad = (why: string): never => {
    throw new FormatError(
      'MALFORMED_VERIFIER_KEY',
      vkey.trimStart().startsWith('PRIVATE+')
        ? 'this is a private signing key, not a verifier key (a secret, not shown); pass the public key (name+hash+key)'
        : `malformed verifier key (${vkey.length} characters, not shown): ${why}`,
    );
  };
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) bad('want name+hash+key');
  const name = vkey.slice(0, first);
  const hash = vkey.slice(first + 1, second);
  const key64 = vkey.slice(second + 1);
  if (!isValidKeyName(name)) bad('invalid key name');
  if (!/^[0-9a-f]{8}$/.test(hash)) bad('key hash is not 8 lowercase hex digits');
  const key = decodeBase64(key64, 'MALFORMED_VERIFIER_KEY', 'verifier key material');
  if (key.length < 2) bad('key material is empty');
  const keyId = computeKeyId(name, key);
  if (formatKeyId(keyId) !== hash) bad(`key hash ${hash} does not match the key (want ${formatKeyId(keyId)})`);
  return { name, keyId, type: key[0]!, publicKey: key.subarray(1), text: vkey };
}

export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  const typed = concatBytes(new Uint8Array([type]), publicKey);
  return `${name}+${formatKeyId(computeKeyId(name, typed))}+${encodeBase64(typed)}`;
}

/** A Verifier for an Ed25519 note key (type 0x01), as Go note.NewVerifier. */
export function noteVerifier(vkey: string | VerifierKey): Verifier {
  const key = typeof vkey === 'string' ? parseVerifierKey(vkey) : vkey;
  if (key.type !== SIGNATURE_TYPE_ED25519) {
    throw new FormatError(
      'UNKNOWN_KEY_ALGORITHM',
      `verifier key ${key.name}+${formatKeyId(key.keyId)} has signature type 0x${key.type.toString(16).padStart(2, '0')}, want 0x01 (Ed25519)`,
    );
  }
  if (key.publicKey.length !== 32) {
    throw new FormatError('MALFORMED_VERIFIER_KEY', `Ed25519 verifier key ${key.name} is not 32 bytes`);
  }
  return { name: key.name, keyId: key.keyId, verify: ed25519Verifier(key.publicKey) };
}

/** A parsed signer key `PRIVATE+KEY+name+hash+base64(0x01 || seed)` (Go note format; parsed and used by
 * src/tlog-node/signer.ts). */
export interface SignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The verifier key (type 0x01) of a signer key. */
export function verifierKeyOf(key: SignerKey): string {
  return formatVerifierKey(key.name, SIGNATURE_TYPE_ED25519, key.publicKey);
}

const EM_DASH_SPACE = '\u2014 ';

function checkNoteCharacters(message: string, code: ErrorCode): void {
  // Go note.Open: reject ASCII control characters other than newline.
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(message)) {
    throw new FormatError(code, 'malformed note: contains a control character');
  }
}

/** Splits a signed note into text and signature lines (Go note.Open steps 1-3), without verifying. */
export function splitNote(message: Uint8Array | string): { text: string; signatures: NoteSignature[] } {
  const msg = typeof message === 'string' ? message : decodeUtf8(message, 'MALFORMED_NOTE');
  checkNoteCharacters(msg, 'MALFORMED_NOTE');
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new FormatError('MALFORMED_NOTE', 'malformed note: no blank line before the signatures');
  const text = msg.slice(0, split + 1);
  let sigs = msg.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) {
    throw new FormatError('MALFORMED_NOTE', 'malformed note: signature block is empty or lacks a final newline');
  }
  const signatures: NoteSignature[] = [];
  while (sigs !== '') {
    const newline = sigs.indexOf('\n');
    const line = sigs.slice(0, newline);
    sigs = sigs.slice(newline + 1);
    if (!line.startsWith(EM_DASH_SPACE)) {
      throw new FormatError('MALFORMED_NOTE', `malformed note: signature line does not start with "— ": ${JSON.stringify(line.slice(0, 80))}`);
    }
    const rest = line.slice(EM_DASH_SPACE.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidKeyName(name) || b64 === '') {
      throw new FormatError('MALFORMED_NOTE', `malformed note: bad signature line ${JSON.stringify(line.slice(0, 80))}`);
    }
    const sig = decodeBase64(b64, 'MALFORMED_NOTE', 'signature');
    if (sig.length < 5) throw new FormatError('MALFORMED_NOTE', 'malformed note: signature shorter than 5 bytes');
    if (signatures.length === MAX_NOTE_SIGNATURES) {
      throw new FormatError('MALFORMED_NOTE', `malformed note: more than ${MAX_NOTE_SIGNATURES} signatures`);
    }
    const keyId = ((sig[0]! << 24) | (sig[1]! << 16) | (sig[2]! << 8) | sig[3]!) >>> 0;
    signatures.push({ name, keyId, base64: b64 });
  }
  return { text, signatures };
}

/**
 * Go note.Open: verifies a signed note against `verifiers`. Signatures by unknown keys are kept as
 * unverified; a known key whose signature fails rejects the whole note; with no verified signature the
 * note is rejected too (UNVERIFIED_NOTE).
 */
export function openNote(message: Uint8Array | string, verifiers: readonly Verifier[]): Note {
  const { text, signatures } = splitNote(message);
  const textBytes = utf8(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenKeys = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const signature of signatures) {
    const verifier = verifiers.find((v) => v.name === signature.name && v.keyId === signature.keyId);
    if (!verifier) {
      const line = `${signature.name} ${signature.base64}`;
      if (!seenUnverified.has(line)) unverified.push(signature);
      seenUnverified.add(line);
      continue;
    }
    const id = `${signature.name}+${formatKeyId(signature.keyId)}`;
    if (seenKeys.has(id)) continue; // Go: repeated signatures from one key are ignored.
    seenKeys.add(id);
    const sig = decodeBase64(signature.base64, 'MALFORMED_NOTE', 'signature');
    if (!verifier.verify(textBytes, sig.subarray(4))) {
      throw new VerificationError('INVALID_SIGNATURE', `invalid signature for key ${id}`);
    }
    verified.push(signature);
  }
  if (verified.length === 0) {
    const names = signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(', ');
    throw new VerificationError('UNVERIFIED_NOTE', `note has no signature from a trusted key (signed by: ${names || 'nobody'})`);
  }
  return { text, signatures: verified, unverifiedSignatures: unverified };
}

/** Checks note text is signable: UTF-8 text, no control characters but newline, ending in a newline. */
export function checkNoteText(text: string): void {
  checkNoteCharacters(text, 'MALFORMED_NOTE_TEXT');
  if (text === '' || !text.endsWith('\n')) {
    throw new FormatError('MALFORMED_NOTE_TEXT', 'note text must be non-empty and end with a newline');
  }
}

export function formatSignatureLine(name: string, keyId: number, signature: Uint8Array): string {
  return `${EM_DASH_SPACE}${name} ${encodeBase64(concatBytes(keyIdBytes(keyId), signature))}\n`;
}

/**
 * Go note.Sign: signs `text` with each signer; `existing` signature lines from other keys are kept first,
 * lines from a key that signs now are replaced.
 */
export function signNote(text: string, signers: readonly Signer[], existing: readonly NoteSignature[] = []): string {
  checkNoteText(text);
  const textBytes = utf8(text);
  let out = `${text}\n`;
  for (const signature of existing) {
    if (signers.some((s) => s.name === signature.name && s.keyId === signature.keyId)) continue;
    out += `${EM_DASH_SPACE}${signature.name} ${signature.base64}\n`;
  }
  for (const signer of signers) {
    out += formatSignatureLine(signer.name, signer.keyId, signer.sign(textBytes));
  }
  return out;
}
