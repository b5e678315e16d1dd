// The text of `git show-ref --tags` (optionally with -d/--dereference `^{}` lines): parsed strictly, as it
// may arrive from anywhere (a pipe, a file, a message), and formatted byte for byte like git.
import { FormatError } from '../errors.js';
import { OBJECT_ID, TAG_PREFIX, gitTagRefProblem, printableRef, tagRefProblem } from './refname.js';

export interface ShowRefTag {
  readonly ref: string;
  /** The object the ref points at (tag object for annotated tags). */
  readonly object: string;
  /** From a `<ref>^{}` line: the peeled object (only annotated tags have one). */
  readonly peeled?: string;
}

/** Most lines accepted (the Go repository has ~500 tags). */
const MAX_LINES = 1_000_000;

/**
 * Parses `git show-ref` output as parseShowRef does, except that a tag whose name git accepts but a
 * record cannot hold (not valid UTF-8, over 1,024 bytes, a C1 control, edge white space: tagRefProblem)
 * is returned in `rejected` rather than refused, as `readRepoTags` reports such a tag of a repository.
 */
export function parseShowRefTags(text: string): { tags: Map<string, ShowRefTag>; rejected: Array<{ ref: string; reason: string }> } {
  const rejected: Array<{ ref: string; reason: string }> = [];
  const tags = parse(text, rejected);
  return { tags, rejected };
}

/**
 * Parses `git show-ref` output. Lines are `<oid> SP <ref>` or `<oid> SP <ref>^{}`; CRLF line ends are
 * accepted; refs outside refs/tags/ are ignored (so plain `git show-ref` works too). Anything else,
 * including a tag name git itself would refuse, is a FormatError naming the line.
 */
export function parseShowRef(text: string): Map<string, ShowRefTag> {
  return parse(text);
}

function parse(text: string, rejected?: Array<{ ref: string; reason: string }>): Map<string, ShowRefTag> {
  const seenRejected = new Set<string>();
  const tags = new Map<string, { ref: string; object: string; peeled?: string }>();
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length > MAX_LINES) throw new FormatError('MALFORMED_SHOW_REF', `more than ${MAX_LINES} lines`);
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const bad = (why: string): never => {
      throw new FormatError('MALFORMED_SHOW_REF', `line ${i + 1} of the show-ref input: ${why}: ${printableRef(line.slice(0, 200))}`);
    };
    const space = line.indexOf(' ');
    if (space < 0) bad('want "<object id> <ref>"');
    const object = line.slice(0, space);
    let ref = line.slice(space + 1);
    if (!OBJECT_ID.test(object)) bad('not a lowercase hex object id');
    const peeledLine = ref.endsWith('^{}');
    if (peeledLine) ref = ref.slice(0, -3);
    if (!ref.startsWith('refs/')) bad('not a ref name');
    if (!ref.startsWith(TAG_PREFIX)) return;
    const problem = tagRefProblem(ref);
    if (problem && rejected && gitTagRefProblem(ref) === undefined) {
      // A name git accepts: reported, never compared ("unrecordable"), once (its ^{} line adds nothing).
      if (!seenRejected.has(ref)) rejected.push({ ref, reason: problem });
      seenRejected.add(ref);
      return;
    }
    if (problem) bad(`invalid tag name (${problem})`);
    const existing = tags.get(ref);
    if (peeledLine) {
      if (!existing) bad(`${ref}^{} comes before ${ref}`);
      if (existing!.peeled !== undefined) bad(`${ref}^{} appears twice`);
      existing!.peeled = object;
    } else {
      if (existing) bad(`${ref} appears twice`);
      tags.set(ref, { ref, object });
    }
  });
  return tags;
}

/** Byte order of ref names, as git sorts refs (strcmp). */
export function compareRefs(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** `git show-ref --tags` output for these tags (without -d): `<object> <ref>\n`, sorted by ref. */
export function formatShowRef(tags: Iterable<{ ref: string; object: string }>): string {
  return [...tags]
    .sort((a, b) => compareRefs(a.ref, b.ref))
    .map(({ object, ref }) => `${object} ${ref}\n`)
    .join('');
}
