// Git object ids, as `git hash-object` computes them: the hash (SHA-1, or SHA-256 in a sha256 repository)
// of "<type> <size>\0" followed by the content (git's Documentation/technical/hash-function-transition.txt,
// "Object format"). The one place that computes them: the source check (src/rebuild/source-check.ts) and
// the site deploy (src/publish/deploy.ts).
import { createHash } from 'node:crypto';

export type GitObjectFormat = 'sha1' | 'sha256';

/** The id of a git object of `type` ('blob', 'tree', …) holding `content`, lowercase hex. */
export function gitObjectId(type: string, content: Uint8Array, format: GitObjectFormat = 'sha1'): string {
  return createHash(format).update(`${type} ${content.length}\0`).update(content).digest('hex');
}

/** The id of a blob holding `content` (what `git hash-object` prints for a file), lowercase hex. */
export function gitBlobId(content: Uint8Array, format: GitObjectFormat = 'sha1'): string {
  return gitObjectId('blob', content, format);
}
