// SHA-256 for the tlog code, through the one synchronous crypto seam `#tlog-crypto` (package.json
// `imports`): node:crypto in Node (src/tlog-crypto/node.ts), @noble/hashes elsewhere
// (src/tlog-crypto/noble.ts). Digests are plain Uint8Arrays in both.
import { CRYPTO_IMPLEMENTATION as implementation, sha256 as sha256Once } from '#tlog-crypto';

/** Which implementation of the seam this environment got: 'node:crypto' or '@noble/hashes, @noble/ed25519'. */
export const CRYPTO_IMPLEMENTATION: string = implementation;

/** SHA-256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return sha256Once(parts[0]!);
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return sha256Once(joined);
}
