// The tlog's two primitives on node:crypto (OpenSSL), about ten times faster than pure JavaScript for
// bulk hashing: what `#tlog-crypto` resolves to in Node (package.json `imports`, condition "node"). The
// same exports as src/tlog-crypto/noble.ts, which the tests run side by side with this one.
import { createPublicKey, hash, verify, type KeyObject } from 'node:crypto';

/** Which implementation this is (the tests check each environment gets its own). */
export const CRYPTO_IMPLEMENTATION: string = 'node:crypto';

/**
 * SHA-256 of `data` (FIPS 180-4), as a plain Uint8Array. The digest is asked for as a latin1 ('binary') string (one
 * character per byte) and copied into a 32-byte array: a Buffer digest has its own off-heap backing
 * store, and millions of those (verifying a log hashes two per entry) cost about twice the CPU in
 * allocation and garbage collection; a 32-byte Uint8Array lives on the JavaScript heap.
 */
export function sha256(data: Uint8Array): Uint8Array {
  const digest = hash('sha256', data, 'binary');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = digest.charCodeAt(i);
  return out;
}

/** DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410 §4) before the 32 key bytes. */
const SPKI_ED25519_PREFIX = Uint8Array.of(0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00);

/** The node:crypto key object of a 32-byte Ed25519 public key. */
export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  const der = new Uint8Array(SPKI_ED25519_PREFIX.length + publicKey.length);
  der.set(SPKI_ED25519_PREFIX);
  der.set(publicKey, SPKI_ED25519_PREFIX.length);
  return createPublicKey({ key: Buffer.from(der.buffer, der.byteOffset, der.byteLength), format: 'der', type: 'spki' });
}

/**
 * A verifier of Ed25519 signatures by one 32-byte public key (RFC 8032 §5.1.7, OpenSSL). Never throws
 * for a signature: a malformed one is false. The key object is made once, here.
 */
export function ed25519Verifier(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  const key = ed25519PublicKeyObject(publicKey);
  return (message, signature) => {
    if (signature.length !== 64) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}
