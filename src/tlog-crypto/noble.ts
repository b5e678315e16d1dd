// The tlog's two primitives in pure JavaScript: SHA-256 (@noble/hashes) and Ed25519 verification
// (@noble/ed25519, RFC 8032 §5.1.7). This is what `#tlog-crypto` resolves to outside Node (package.json
// `imports`, condition "browser" or "default"); in Node it is src/tlog-crypto/node.ts, on node:crypto,
// with the same exports. Both are synchronous: @noble/ed25519's async path needs crypto.subtle, which
// browsers offer only in secure contexts, and a log served over plain http from a LAN address must verify.
import * as ed from '@noble/ed25519';
import { sha256 as nobleSha256, sha512 } from '@noble/hashes/sha2.js';

ed.hashes.sha512 = sha512;

/** Which implementation this is (the tests check each environment gets its own). */
export const CRYPTO_IMPLEMENTATION: string = '@noble/hashes, @noble/ed25519';

/** SHA-256 of `data` (FIPS 180-4). */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * A verifier of Ed25519 signatures by one 32-byte public key. Strict RFC 8032 / FIPS 186-5 verification
 * (zip215: false), as Go crypto/ed25519 and OpenSSL do. Never throws: a malformed key or signature is false.
 */
export function ed25519Verifier(publicKey: Uint8Array): (message: Uint8Array, signature: Uint8Array) => boolean {
  const key = publicKey.slice();
  return (message, signature) => {
    if (key.length !== 32 || signature.length !== 64) return false;
    try {
      return ed.verify(signature, message, key, { zip215: false });
    } catch {
      return false;
    }
  };
}
