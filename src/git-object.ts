// Git object ids, as `git hash-object` computes them: the hash (SHA-1, or SHA-256 in a sha256 repository)
// of "<type> <size>\0" followed by the content (git's Documentation/technical/hash-function-transition.txt,
// "Object format"). The one place that computes them, pure (@noble/hashes, no node built-in), so the same
// code serves the source check (src/rebuild/source-check.ts), the site deploy (src/publish/deploy.ts) and
// the verify page, which checks every object it reads out of the published pack
// (src/publish/browser/history.ts: isomorphic-git does not check each packed object's id).
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeHex } from './tlog/encoding.js';

export type GitObjectFormat = 'sha1' | 'sha256';

const encoder = new TextEncoder();

/**
 * A hash to compute ids with, by object format. By default @noble/hashes (the browser has no other
 * synchronous one); Node code on a hot path passes node:crypto's createHash, about 10x faster for SHA-1
 * here (the source check hashes 124 MB of blobs).
 */
export type ObjectHash = (format: GitObjectFormat) => { update(data: Uint8Array): unknown; digest(): Uint8Array };

const nobleHash: ObjectHash = (format) => (format === 'sha1' ? sha1 : sha256).create();

/** The id of a git object of `type` ('blob', 'tree', …) holding `content`, lowercase hex. */
export function gitObjectId(type: string, content: Uint8Array, format: GitObjectFormat = 'sha1', hash: ObjectHash = nobleHash): string {
  const hasher = hash(format);
  hasher.update(encoder.encode(`${type} ${content.length}\0`));
  hasher.update(content);
  return encodeHex(hasher.digest());
}

/** The id of a blob holding `content` (what `git hash-object` prints for a file), lowercase hex. */
export function gitBlobId(content: Uint8Array, format: GitObjectFormat = 'sha1', hash: ObjectHash = nobleHash): string {
  return gitObjectId('blob', content, format, hash);
}
