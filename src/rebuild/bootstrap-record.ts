// Bootstrap records (type `bootstrap`, version 1): one per bootstrap toolchain that `witness bootstrap`
// built, learned at ingest from the chain a build result carries (result.ts `bootstrap`). They make the
// bootstraps of bootstraps visible: go1.20.14 built from gcc, from clang and from Debian's binary has
// three different GOROOT hashes (go1.20 output depends on its bootstrap), while the go1.21+ releases built
// by them agree (agreement.ts).
//
//   go-source-witness bootstrap/v1
//   version go1.17.13
//   hash <h1 of the GOROOT>
//   commit <oid>
//   tree <oid>
//   tag-index <log index>               built from a release tag: the tag record of that commit and tree
//   branch release-branch.go1.4         built from a branch (Go 1.4 from C): its head was `commit`
//   previous-head <commit> <log index>  branch only: the head the log recorded before, when it moved
//   root binary | root c <compiler> <compiler version>   the chain's root
//   built-with <go version> <h1> [<commit> <tree>]       the chain that built it, nearest first (none from C)
//   result <sha256>                     the build result whose chain named it
//   ingested <RFC 3339 UTC>
//
// A toolchain is recorded once: the same version, hash, commit and chain below it is not recorded again.
// A branch's records fold like tag records: each names the head recorded before it when the head moved.
import { FormatError, VerificationError } from '../errors.js';
import { OBJECT_ID } from '../gitsrc/refname.js';
import { fieldCursor, type LogRecord, type RecordField } from '../log/record.js';
import type { RecordFold } from '../log/schema.js';
import { tagRecordNames, type TagRecord } from '../tags/record.js';
import type { TagState } from '../tags/state.js';
import { TAGS_VIEW } from '../tags/view.js';
import { BRANCH_NAME, COMPILER, type BootstrapToolchain } from './result.js';
import { chainRoot } from './roots.js';

export const BOOTSTRAP_RECORD_TYPE = 'bootstrap';
export const BOOTSTRAP_RECORD_VERSION = 1;

export interface BootstrapRecord {
  readonly version: string;
  readonly hash: string;
  readonly commit: string;
  readonly tree: string;
  readonly tagIndex?: bigint;
  readonly branch?: string;
  readonly previousHead?: { readonly commit: string; readonly index: bigint };
  readonly root: { readonly kind: 'binary' | 'c'; readonly compiler?: string };
  readonly builtWith: readonly BootstrapToolchain[];
  readonly result: string;
  readonly ingested: string;
}

const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
const INDEX = /^(0|[1-9][0-9]{0,19})$/;
const VERSION = /^go[0-9A-Za-z.+-]{1,40}$/;

function toolchainWords(b: BootstrapToolchain): string {
  return [b.version, b.hash, ...(b.commit && b.tree ? [b.commit, b.tree] : [])].join(' ');
}

/** What makes a toolchain the same one: its version, hash, commit and the chain that built it. */
export function bootstrapIdentity(b: { version: string; hash: string; commit?: string; tree?: string }, builtWith: readonly BootstrapToolchain[]): string {
  return [toolchainWords(b), ...builtWith.map(toolchainWords)].join('\n');
}

export function bootstrapRecordToLogRecord(b: BootstrapRecord): LogRecord {
  const fields: RecordField[] = [];
  const add = (key: string, value: string) => fields.push({ key, value });
  add('version', b.version);
  add('hash', b.hash);
  add('commit', b.commit);
  add('tree', b.tree);
  if (b.tagIndex !== undefined) add('tag-index', String(b.tagIndex));
  if (b.branch !== undefined) add('branch', b.branch);
  if (b.previousHead) add('previous-head', `${b.previousHead.commit} ${b.previousHead.index}`);
  add('root', b.root.kind === 'c' ? `c ${b.root.compiler}` : 'binary');
  for (const t of b.builtWith) add('built-with', toolchainWords(t));
  add('result', b.result);
  add('ingested', b.ingested);
  const record: LogRecord = { type: BOOTSTRAP_RECORD_TYPE, version: BOOTSTRAP_RECORD_VERSION, fields };
  bootstrapRecordFromLogRecord(record);
  return record;
}

/** Parses a bootstrap record strictly: fields in order, each once unless repeatable, formats checked. */
export function bootstrapRecordFromLogRecord(record: LogRecord): BootstrapRecord {
  const bad = (why: string): never => {
    throw new FormatError('MALFORMED_BOOTSTRAP_RECORD', `bootstrap record: ${why}`);
  };
  const { one, has, end } = fieldCursor(record, BOOTSTRAP_RECORD_TYPE, BOOTSTRAP_RECORD_VERSION, bad);
  const check = (value: string, pattern: RegExp, what: string): string => (pattern.test(value) ? value : bad(`${what} ${JSON.stringify(value.slice(0, 100))} is malformed`));
  const version = check(one('version'), VERSION, 'version');
  const hash = check(one('hash'), H1, 'hash');
  const commit = check(one('commit'), OBJECT_ID, 'commit');
  const tree = check(one('tree'), OBJECT_ID, 'tree');
  const tagIndex = has('tag-index') ? BigInt(check(one('tag-index'), INDEX, 'tag-index')) : undefined;
  const branch = has('branch') ? check(one('branch'), BRANCH_NAME, 'branch') : undefined;
  let previousHead: BootstrapRecord['previousHead'];
  if (has('previous-head')) {
    const parts = /^([0-9a-f]{40}|[0-9a-f]{64}) (0|[1-9][0-9]{0,19})$/.exec(one('previous-head')) ?? bad('previous-head is not "<commit> <log index>"');
    if (branch === undefined) bad('previous-head without a branch');
    previousHead = { commit: parts[1]!, index: BigInt(parts[2]!) };
  }
  if ((tagIndex === undefined) === (branch === undefined)) bad('a bootstrap toolchain is built from a tag (tag-index) or a branch, exactly one');
  const rootValue = one('root');
  const rootMatch = /^c (\S+ \S+)$/.exec(rootValue);
  if (rootValue !== 'binary' && (!rootMatch || !COMPILER.test(rootMatch[1]!))) bad(`root ${JSON.stringify(rootValue.slice(0, 100))} is neither "binary" nor "c <compiler> <version>"`);
  const root = rootMatch ? { kind: 'c' as const, compiler: rootMatch[1]! } : { kind: 'binary' as const };
  const builtWith: BootstrapToolchain[] = [];
  while (has('built-with')) {
    const parts = /^(go[0-9A-Za-z.+-]{1,40}) (h1:[A-Za-z0-9+/]{43}=)(?: ([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}))?$/.exec(one('built-with')) ?? bad('built-with is not "<version> <h1> [<commit> <tree>]"');
    builtWith.push({ version: parts[1]!, hash: parts[2]!, ...(parts[3] ? { commit: parts[3], tree: parts[4]! } : {}) });
  }
  // Built from C: nothing built it but the compiler; built from a tag: a chain that ends in a root.
  if (branch !== undefined && (builtWith.length > 0 || root.kind !== 'c')) bad('a toolchain built from a branch is Go 1.4 from C: root c and no built-with');
  if (tagIndex !== undefined && builtWith.length === 0) bad('a toolchain built from a tag names the chain that built it (built-with)');
  if (builtWith.length > 16) bad('more than 16 built-with toolchains');
  const result = check(one('result'), SHA256_HEX, 'result');
  const ingested = check(one('ingested'), TIME, 'ingested');
  end();
  return {
    version,
    hash,
    commit,
    tree,
    ...(tagIndex !== undefined ? { tagIndex } : {}),
    ...(branch !== undefined ? { branch } : {}),
    ...(previousHead ? { previousHead } : {}),
    root,
    builtWith,
    result,
    ingested,
  };
}

/** The head each branch has in the log: its latest bootstrap record, folded in log order. */
export function recordedBranchHeads(records: Iterable<{ index: bigint; record: LogRecord }>): Map<string, { commit: string; index: bigint }> {
  const heads = new Map<string, { commit: string; index: bigint }>();
  for (const { index, record } of records) {
    if (record.type !== BOOTSTRAP_RECORD_TYPE) continue;
    const b = bootstrapRecordFromLogRecord(record);
    if (b.branch !== undefined) heads.set(b.branch, { commit: b.commit, index });
  }
  return heads;
}

/**
 * Checks every bootstrap record of the log (for `witness verify`, through BOOTSTRAP_INVARIANTS): well formed; a
 * tag-index names an earlier tag record of refs/tags/<version> at the same commit and tree; a branch's
 * records name the head recorded before them exactly when it moved.
 */
export function checkBootstrapRecords(all: ReadonlyArray<{ index: bigint; record: LogRecord }>, tagRecords: ReadonlyMap<bigint, TagRecord>): void {
  const heads = new Map<string, { commit: string; index: bigint }>();
  for (const { index, record } of all) {
    if (record.type !== BOOTSTRAP_RECORD_TYPE) continue;
    const fail = (why: string): never => {
      throw new VerificationError('BOOTSTRAP_RECORD_INVALID', `log index ${index}: ${why}`);
    };
    let b: BootstrapRecord;
    try {
      b = bootstrapRecordFromLogRecord(record);
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    if (b.tagIndex !== undefined && (b.tagIndex >= index || !tagRecordNames(tagRecords.get(b.tagIndex), `refs/tags/${b.version}`, b.commit, b.tree))) {
      fail(`bootstrap ${b.version} names tag record ${b.tagIndex}, which is not an earlier record of refs/tags/${b.version} at commit ${b.commit}`);
    }
    if (b.branch !== undefined) {
      const before = heads.get(b.branch);
      const moved = before !== undefined && before.commit !== b.commit;
      if (moved && (b.previousHead?.commit !== before.commit || b.previousHead.index !== before.index)) {
        fail(`${b.branch} moved from ${before.commit} (log index ${before.index}) to ${b.commit}, and the record does not name the previous head`);
      }
      if (!moved && b.previousHead) fail(`${b.branch} did not move, yet the record names a previous head`);
      heads.set(b.branch, { commit: b.commit, index });
    }
  }
}

export interface DerivedBootstrap {
  readonly record: BootstrapRecord;
  /** Set for a branch whose head differs from the one the log recorded before. */
  readonly moved?: { readonly from: string; readonly index: bigint };
}

/**
 * The bootstrap records the chains of `results` call for that the log (`existing`, in log order) does not
 * have yet. A toolchain built from a tag must match a tag record of the log (else the result is refused:
 * BOOTSTRAP_TAG_MISMATCH); one built from a branch is recorded with the head it had.
 */
export function deriveBootstrapRecords(options: {
  readonly existing: ReadonlyArray<{ index: bigint; record: LogRecord }>;
  readonly tags: TagState;
  /** `logged`: a chain from a build record already in the log (a toolchain no tag record names is skipped, not refused). */
  readonly results: ReadonlyArray<{ file: string; sha256: string; bootstrap: readonly BootstrapToolchain[]; logged?: boolean }>;
  readonly firstIndex: bigint;
  readonly now: string;
}): DerivedBootstrap[] {
  const known = new Set<string>();
  for (const { record } of options.existing) {
    if (record.type !== BOOTSTRAP_RECORD_TYPE) continue;
    const b = bootstrapRecordFromLogRecord(record);
    known.add(bootstrapIdentity(b, b.builtWith));
  }
  const heads = recordedBranchHeads(options.existing);
  const derived: DerivedBootstrap[] = [];
  for (const result of options.results) {
    const root = chainRoot(result.bootstrap);
    result.bootstrap.forEach((toolchain, i) => {
      if (toolchain.commit === undefined || toolchain.tree === undefined) return;
      const builtWith = result.bootstrap.slice(i + 1).map(({ version, hash, commit, tree }) => ({ version, hash, ...(commit && tree ? { commit, tree } : {}) }));
      const identity = bootstrapIdentity(toolchain, builtWith);
      if (known.has(identity)) return;
      const index = options.firstIndex + BigInt(derived.length);
      let source: Pick<BootstrapRecord, 'tagIndex' | 'branch' | 'previousHead'>;
      let moved: DerivedBootstrap['moved'];
      if (toolchain.root === 'c') {
        // A branch head is learned from the results given now, never from old records (its order matters).
        if (result.logged) return;
        const branch = toolchain.branch!;
        const before = heads.get(branch);
        if (before && before.commit !== toolchain.commit) moved = { from: before.commit, index: before.index };
        source = { branch, ...(moved ? { previousHead: { commit: moved.from, index: moved.index } } : {}) };
        heads.set(branch, { commit: toolchain.commit, index });
      } else {
        const ref = `refs/tags/${toolchain.version}`;
        const tag = [...options.tags.history].reverse().find((entry) => tagRecordNames(entry.record, ref, toolchain.commit!, toolchain.tree!));
        if (!tag) {
          if (result.logged) return;
          throw new VerificationError('BOOTSTRAP_TAG_MISMATCH', `${result.file}: its bootstrap toolchain ${toolchain.version} was built from commit ${toolchain.commit}, tree ${toolchain.tree}, which no tag record of ${ref} in this log names`);
        }
        source = { tagIndex: tag.index };
      }
      known.add(identity);
      derived.push({
        record: {
          version: toolchain.version,
          hash: toolchain.hash,
          commit: toolchain.commit,
          tree: toolchain.tree,
          ...source,
          root: root.kind === 'c' ? { kind: 'c', compiler: root.compiler! } : { kind: 'binary' },
          builtWith,
          result: result.sha256,
          ingested: options.now,
        },
        ...(moved ? { moved } : {}),
      });
    });
  }
  return derived;
}

/**
 * Bootstrap records have no view of their own; the log checks them on every append and verify
 * (registered in src/witness-schema.ts): they must cite their tag records and fold by branch head.
 */
export const BOOTSTRAP_INVARIANTS: RecordFold<void> = {
  name: 'bootstrap',
  recordTypes: [BOOTSTRAP_RECORD_TYPE],
  fold: (records, earlier) => checkBootstrapRecords(records, new Map(earlier.stateOf(TAGS_VIEW).history.map((entry) => [entry.index, entry.record]))),
};
