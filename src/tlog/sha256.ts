// SHA-256 for the tlog code. node:crypto is used for speed (`npm run bench -- sha256`, 2 loaded cores:
// 14x @noble/hashes on 8 MiB, 1.5x on 65-byte tree nodes); the pure-JS @noble/hashes implementation is
// used in tests as an independent cross-check.
// Digests are returned as the Buffer node:crypto makes (a Uint8Array), without copying or wrapping.
import { createHash, hash as oneShotHash } from 'node:crypto';

export function sha256(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return oneShotHash('sha256', parts[0]!, 'buffer');
  const hasher = createHash('sha256');
  for (const part of parts) hasher.update(part);
  return hasher.digest();
}
