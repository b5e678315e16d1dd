// Tag ref names, checked with git's own rules (git-check-ref-format(1)) plus ours: valid UTF-8, no
// character a record value may not hold (C1 controls, line separators, edge white space), at most 1,024
// bytes. A name that fails is never written into the log; it is reported as skipped.
import { recordValueProblem } from '../log/record.js';

export const MAX_REF_BYTES = 1024;
export const TAG_PREFIX = 'refs/tags/';

/** Why `ref` is not an acceptable tag ref name, or undefined if it is. */
export function tagRefProblem(ref: string): string | undefined {
  if (!ref.startsWith(TAG_PREFIX) || ref.length === TAG_PREFIX.length) return 'not a refs/tags/<name> ref';
  if (Buffer.byteLength(ref, 'utf8') > MAX_REF_BYTES) return `longer than ${MAX_REF_BYTES} bytes`;
  if (/[\uD800-\uDFFF]/.test(ref.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '')) || ref.includes('\uFFFD')) {
    return 'not valid UTF-8';
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(ref)) return 'contains a space or control character';
  const valueProblem = recordValueProblem(ref);
  if (valueProblem) return `${valueProblem} (not recordable)`;
  if (/[~^:?*[\\]/.test(ref)) return 'contains one of ~ ^ : ? * [ \\';
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('@{')) return 'contains "@{"';
  if (ref.endsWith('/') || ref.includes('//')) return 'has an empty path component';
  if (ref.endsWith('.')) return 'ends with "."';
  // (git refuses a whole name "@", which a refs/tags/ name never is; "@" as a component is valid.)
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return 'has a path component starting with "."';
    if (component.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

/**
 * Why git itself would refuse `ref` as a tag ref (git-check-ref-format(1) only, none of the witness's own
 * limits), or undefined. A name git accepts but tagRefProblem refuses is one a record cannot hold.
 */
export function gitTagRefProblem(ref: string): string | undefined {
  if (!ref.startsWith(TAG_PREFIX) || ref.length === TAG_PREFIX.length) return 'not a refs/tags/<name> ref';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(ref)) return 'contains a space or control character';
  if (/[~^:?*[\\]/.test(ref)) return 'contains one of ~ ^ : ? * [ \\';
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('@{')) return 'contains "@{"';
  if (ref.endsWith('/') || ref.includes('//')) return 'has an empty path component';
  if (ref.endsWith('.')) return 'ends with "."';
  for (const component of ref.split('/')) {
    if (component.startsWith('.')) return 'has a path component starting with "."';
    if (component.endsWith('.lock')) return 'has a path component ending with ".lock"';
  }
  return undefined;
}

/** Object ids: SHA-1 (40 hex) or SHA-256 (64 hex) repositories, lowercase. */
export const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/**
 * A name safe to show in a terminal: printable ASCII as is; anything else (controls, DEL, C1, bidi
 * overrides, any non-ASCII) makes the whole name a quoted string with every such character as \\u escape.
 */
export function printableRef(ref: string): string {
  if (/^[\u0021-\u007e]*$/.test(ref)) return ref;
  const escaped = [...ref]
    .map((char) => {
      if (char === '"' || char === '\\') return `\\${char}`;
      if (/^[\u0020-\u007e]$/.test(char)) return char;
      const code = char.codePointAt(0)!;
      return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
    })
    .join('');
  return `"${escaped}"`;
}
