// The id of a git object: the SHA-1 of `<type> <size>\0<content>` (git-scm.com/docs/git-hash-object,
// "Git Internals - Git Objects" in the Pro Git book). Pure, for the verify page, which reads the log's
// objects out of a pack whose reader (isomorphic-git) does not check each packed object's id.
import { sha1 } from '@noble/hashes/legacy.js';

const encoder = new TextEncoder();

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** The SHA-1 object id (lowercase hex) of an object of `type` with `content`. */
export function gitObjectId(type: 'commit' | 'tree' | 'blob' | 'tag', content: Uint8Array): string {
  const header = encoder.encode(`${type} ${content.length}\0`);
  const wrapped = new Uint8Array(header.length + content.length);
  wrapped.set(header);
  wrapped.set(content, header.length);
  return hex(sha1(wrapped));
}
