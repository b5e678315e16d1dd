// Signing, which needs the private key and so runs in Node only (node:crypto); everything a verifier
// needs is the pure core in src/tlog/. Go note signer keys (`PRIVATE+KEY+<name>+<hash>+base64(0x01 ||
// seed)`, golang/mod sumdb/note NewSigner and GenerateKey), note signers, and cosignature/v1 signers
// (c2sp.org/tlog-cosignature). Key files (mode 0600, never in a repository) are src/keyfile.ts.
import { createPrivateKey, createPublicKey, randomBytes, sign as edSign, type KeyObject } from 'node:crypto';
import { FormatError } from '../errors.js';
import { MAX_INT64, concatBytes, decodeBase64, encodeBase64, utf8 } from '../tlog/encoding.js';
import {
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
  type Signer,
  type SignerKey,
  computeKeyId,
  formatKeyId,
  formatVerifierKey,
  isValidKeyName,
} from '../tlog/note.js';

export type { SignerKey } from '../tlog/note.js';

/** DER PKCS #8 PrivateKeyInfo of an Ed25519 seed (RFC 8410 §7) before the 32 seed bytes. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4) before the 32 key bytes. */
const SPKI_ED25519_PREFIX_LENGTH = 12;

export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(ed25519PrivateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(SPKI_ED25519_PREFIX_LENGTH));
}

export function parseSignerKey(skey: string): SignerKey {
  // Never echo the key itself in an error: it is a secret.
  const bad = (why: string): never => {
    throw new FormatError('MALFORMED_SIGNER_KEY', `malformed signer key: ${why}`);
  };
  const fields: string[] = [];
  let rest = skey.trim();
  for (let i = 0; i < 4; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) bad('want PRIVATE+KEY+name+hash+key');
    fields.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  const [privateWord, keyWord, name, hash] = fields as [string, string, string, string];
  if (privateWord !== 'PRIVATE' || keyWord !== 'KEY') bad('does not start with PRIVATE+KEY+');
  if (!isValidKeyName(name)) bad('invalid key name');
  if (!/^[0-9a-f]{8}$/.test(hash)) bad('key hash is not 8 lowercase hex digits');
  let key: Uint8Array;
  try {
    key = decodeBase64(rest, 'MALFORMED_SIGNER_KEY', 'signer key material');
  } catch {
    return bad('key material is not valid base64');
  }
  if (key[0] !== SIGNATURE_TYPE_ED25519) bad('unknown signature algorithm (want Ed25519, type 0x01)');
  if (key.length !== 33) bad('Ed25519 seed is not 32 bytes');
  const seed = key.subarray(1);
  const publicKey = ed25519PublicKeyFromSeed(seed);
  const keyId = computeKeyId(name, concatBytes(new Uint8Array([SIGNATURE_TYPE_ED25519]), publicKey));
  if (formatKeyId(keyId) !== hash) bad('key hash does not match the key');
  return { name, keyId, seed, publicKey };
}

export function formatSignerKey(name: string, seed: Uint8Array): string {
  const typed = concatBytes(new Uint8Array([SIGNATURE_TYPE_ED25519]), ed25519PublicKeyFromSeed(seed));
  return `PRIVATE+KEY+${name}+${formatKeyId(computeKeyId(name, typed))}+${encodeBase64(
    concatBytes(new Uint8Array([SIGNATURE_TYPE_ED25519]), seed),
  )}`;
}

/** Go note.GenerateKey: a new Ed25519 key as (signer key, verifier key) strings. */
export function generateKeyPair(name: string, seed: Uint8Array = randomBytes(32)): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) throw new FormatError('MALFORMED_KEY_NAME', `invalid key name ${JSON.stringify(name)}`);
  return {
    signerKey: formatSignerKey(name, seed),
    verifierKey: formatVerifierKey(name, SIGNATURE_TYPE_ED25519, ed25519PublicKeyFromSeed(seed)),
  };
}

/** A Signer for an Ed25519 note key, as Go note.NewSigner. */
export function noteSigner(skey: string | SignerKey): Signer {
  const key = typeof skey === 'string' ? parseSignerKey(skey) : skey;
  const privateKey = ed25519PrivateKeyObject(key.seed);
  return {
    name: key.name,
    keyId: key.keyId,
    sign: (text) => new Uint8Array(edSign(null, text, privateKey)),
  };
}

function timestampBytes(timestamp: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, timestamp);
  return out;
}

/**
 * A Signer producing cosignature/v1 signatures (c2sp.org/tlog-cosignature). The key file is the Go note
 * signer format (type 0x01 seed), as omniwitness's generate_keys writes; the key ID is derived over type
 * 0x04. `clock` returns POSIX seconds.
 */
export function cosignatureSigner(
  skey: string | SignerKey,
  clock: () => bigint = () => BigInt(Math.floor(Date.now() / 1000)),
): Signer {
  const key = typeof skey === 'string' ? parseSignerKey(skey) : skey;
  const privateKey = ed25519PrivateKeyObject(key.seed);
  const keyId = computeKeyId(key.name, concatBytes(new Uint8Array([SIGNATURE_TYPE_COSIGNATURE_V1]), key.publicKey));
  return {
    name: key.name,
    keyId,
    sign(text) {
      const timestamp = clock();
      if (timestamp < 0n || timestamp > MAX_INT64) throw new Error(`cosignature timestamp ${timestamp} out of range`);
      const message = concatBytes(utf8(`cosignature/v1\ntime ${timestamp}\n`), text);
      return concatBytes(timestampBytes(timestamp), new Uint8Array(edSign(null, message, privateKey)));
    },
  };
}
