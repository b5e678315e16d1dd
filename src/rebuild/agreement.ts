// Agreement records (type `agreement`, version 1): diverse double compilation, logged. When builds of the
// same release, target and environment were bootstrapped from independent roots (roots.ts: different
// binaries, or Go 1.4 built from C by different compilers), ingest compares their distpack files and
// records whether the roots agree, naming each root with its chain. A root whose release differs from
// another root's is an alarm: one of the chains (or a build) put something into the release that the
// source does not explain. (David A. Wheeler, "Fully Countering Trusting Trust through Diverse
// Double-Compiling", https://dwheeler.com/trusting-trust/.)
//
//   go-source-witness agreement/v1
//   version go1.21.0
//   target linux/amd64
//   env GOARM=6                                   (zero or more, as in the build records)
//   status agree | differ
//   root <build record index> <result sha256> binary <version>=<h1>...          (one per root, at
//   root <build record index> <result sha256> c <compiler> <version> <v>=<h1>...  least two; the chain
//                                                 used toolchain first, the root last)
//   file <name> <size> <sha256>                   agree: the files every root built
//   differ <name> <build record index>=<sha256>|absent ...   differ: each file not the same for all roots
//   ingested <RFC 3339 UTC>
//
// The latest build record of each root is compared. Verify recomputes every agreement record from the
// build records it names (checkAgreementRecords).
import { FormatError, VerificationError } from '../errors.js';
import { fieldCursor, type LogRecord, type RecordField } from '../log/record.js';
import type { RecordFold } from '../log/schema.js';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, type BuildRecord } from './record.js';
import { COMPILER } from './result.js';
import { chainRoot, chainWords } from './roots.js';

export const AGREEMENT_RECORD_TYPE = 'agreement';
export const AGREEMENT_RECORD_VERSION = 1;

export interface AgreementRoot {
  readonly buildIndex: bigint;
  readonly result: string;
  readonly kind: 'binary' | 'c';
  readonly compiler?: string;
  /** `<version>=<h1>` per toolchain, used first, root last. */
  readonly chain: readonly string[];
}

export interface AgreementRecord {
  readonly version: string;
  readonly target: string;
  readonly env: readonly string[];
  readonly status: 'agree' | 'differ';
  readonly roots: readonly AgreementRoot[];
  readonly files: ReadonlyArray<{ readonly name: string; readonly size: number; readonly sha256: string }>;
  /** Per differing file, each root's SHA-256 (by build record index), or absent. */
  readonly differ: ReadonlyArray<{ readonly name: string; readonly hashes: ReadonlyArray<{ readonly buildIndex: bigint; readonly sha256?: string }> }>;
  readonly ingested: string;
}

const CHAIN_WORD = /^go[0-9A-Za-z.+-]{1,40}=h1:[A-Za-z0-9+/]{43}=$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;

export function agreementRecordToLogRecord(a: AgreementRecord): LogRecord {
  const fields: RecordField[] = [];
  const add = (key: string, value: string) => fields.push({ key, value });
  add('version', a.version);
  add('target', a.target);
  for (const env of a.env) add('env', env);
  add('status', a.status);
  for (const r of a.roots) add('root', [String(r.buildIndex), r.result, r.kind, ...(r.kind === 'c' ? [r.compiler!] : []), ...r.chain].join(' '));
  for (const f of a.files) add('file', `${f.name} ${f.size} ${f.sha256}`);
  for (const d of a.differ) add('differ', [d.name, ...d.hashes.map((h) => `${h.buildIndex}=${h.sha256 ?? 'absent'}`)].join(' '));
  add('ingested', a.ingested);
  const record: LogRecord = { type: AGREEMENT_RECORD_TYPE, version: AGREEMENT_RECORD_VERSION, fields };
  agreementRecordFromLogRecord(record);
  return record;
}

/** Parses an agreement record strictly (formats and field order; consistency is checkAgreementRecords'). */
export function agreementRecordFromLogRecord(record: LogRecord): AgreementRecord {
  const bad = (why: string): never => {
    throw new FormatError('MALFORMED_AGREEMENT_RECORD', `agreement record: ${why}`);
  };
  const { one, many, end } = fieldCursor(record, AGREEMENT_RECORD_TYPE, AGREEMENT_RECORD_VERSION, bad);
  const version = one('version');
  if (!/^go[0-9A-Za-z.+-]{1,40}$/.test(version)) bad('version is malformed');
  const target = one('target');
  if (!/^[a-z0-9]{1,16}\/[a-z0-9]{1,16}$/.test(target)) bad('target is not GOOS/GOARCH');
  const env = many('env');
  for (const item of env) if (!/^GO[A-Z0-9_]{1,30}=[A-Za-z0-9._,=+-]{1,64}$/.test(item)) bad(`env ${JSON.stringify(item.slice(0, 80))} is malformed`);
  const status = one('status');
  if (status !== 'agree' && status !== 'differ') bad(`status ${JSON.stringify(status.slice(0, 40))} is neither agree nor differ`);
  const roots = many('root').map((value): AgreementRoot => {
    const words = value.split(' ');
    const [index, result, kind] = words;
    if (!index || !/^(0|[1-9][0-9]{0,19})$/.test(index) || !result || !/^[0-9a-f]{64}$/.test(result)) bad(`root ${JSON.stringify(value.slice(0, 100))} does not start with "<build record index> <result sha256>"`);
    let compiler: string | undefined;
    let chain: string[];
    if (kind === 'c') {
      compiler = `${words[3]} ${words[4]}`;
      if (!COMPILER.test(compiler)) bad(`root compiler ${JSON.stringify(compiler.slice(0, 80))} is malformed`);
      chain = words.slice(5);
    } else if (kind === 'binary') {
      chain = words.slice(3);
    } else {
      return bad(`root kind ${JSON.stringify(kind ?? '')} is neither binary nor c`);
    }
    if (chain.length === 0 || chain.length > 16 || !chain.every((w) => CHAIN_WORD.test(w))) bad('root chain is not 1 to 16 words <version>=<h1>');
    return { buildIndex: BigInt(index!), result: result!, kind, ...(compiler ? { compiler } : {}), chain };
  });
  if (roots.length < 2) bad('an agreement names at least two roots');
  const files = many('file').map((value) => {
    const parts = /^([A-Za-z0-9][A-Za-z0-9._+-]{0,200}) (0|[1-9][0-9]{0,15}) ([0-9a-f]{64})$/.exec(value) ?? bad(`file ${JSON.stringify(value.slice(0, 100))} is malformed`);
    return { name: parts[1]!, size: Number(parts[2]), sha256: parts[3]! };
  });
  const differ = many('differ').map((value) => {
    const [name, ...rest] = value.split(' ');
    if (!name || !/^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/.test(name) || rest.length < 2) bad(`differ ${JSON.stringify(value.slice(0, 100))} is not "<file> <index>=<sha256>|absent ..."`);
    const hashes = rest.map((word) => {
      const parts = /^(0|[1-9][0-9]{0,19})=([0-9a-f]{64}|absent)$/.exec(word) ?? bad(`differ ${JSON.stringify(word.slice(0, 100))} is not <index>=<sha256>|absent`);
      return { buildIndex: BigInt(parts[1]!), ...(parts[2] !== 'absent' ? { sha256: parts[2]! } : {}) };
    });
    return { name: name!, hashes };
  });
  if (status === 'agree' && (files.length === 0 || differ.length > 0)) bad('an agreement lists the files the roots agree on, and no differences');
  if (status === 'differ' && (differ.length === 0 || files.length > 0)) bad('a disagreement lists the differing files, and no agreed files');
  const ingested = one('ingested');
  if (!TIME.test(ingested)) bad('ingested is malformed');
  end();
  return { version, target, env, status: status as 'agree' | 'differ', roots, files, differ, ingested };
}

/** The key of a (release, target, environment) group of builds. */
export function groupKey(b: { version: string; target: string; env: readonly string[] }): string {
  return [b.version, b.target, ...b.env].join(' ');
}

/**
 * The agreement of `builds` (built records of one group, in log order), or undefined when they come from
 * fewer than two roots: the latest build of each root, compared file by file.
 */
export function agreementOf(builds: ReadonlyArray<{ index: bigint; build: BuildRecord }>, ingested: string): AgreementRecord | undefined {
  const latest = new Map<string, { index: bigint; build: BuildRecord }>();
  for (const item of builds) if (item.build.outcome === 'built') latest.set(chainRoot(item.build.bootstrap).key, item);
  if (latest.size < 2) return undefined;
  const chosen = [...latest.values()].sort((a, b) => (a.index < b.index ? -1 : a.index > b.index ? 1 : 0));
  const first = chosen[0]!.build;
  const roots = chosen.map(({ index, build }): AgreementRoot => {
    const root = chainRoot(build.bootstrap);
    return { buildIndex: index, result: build.result, kind: root.kind, ...(root.compiler ? { compiler: root.compiler } : {}), chain: chainWords(build.bootstrap) };
  });
  const names = [...new Set(chosen.flatMap(({ build }) => (build.files ?? []).map((f) => f.name)))].sort();
  const differ: Array<AgreementRecord['differ'][number]> = [];
  for (const name of names) {
    const hashes = chosen.map(({ index, build }) => {
      const sha256 = build.files?.find((f) => f.name === name)?.sha256;
      return { buildIndex: index, ...(sha256 ? { sha256 } : {}) };
    });
    if (new Set(hashes.map((h) => h.sha256 ?? 'absent')).size > 1) differ.push({ name, hashes });
  }
  return {
    version: first.version,
    target: first.target,
    env: first.env,
    status: differ.length === 0 ? 'agree' : 'differ',
    roots,
    files: differ.length === 0 ? [...(first.files ?? [])].sort((a, b) => (a.name < b.name ? -1 : 1)) : [],
    differ,
    ingested,
  };
}

/** What an agreement says, apart from when and from which build records: the roots and the outcome. */
function substance(a: AgreementRecord): string {
  const key = (r: AgreementRoot) => [r.kind, r.compiler ?? '', r.kind === 'binary' ? r.chain[r.chain.length - 1] : ''].join(' ');
  const rootOf = new Map(a.roots.map((r) => [r.buildIndex, key(r)]));
  return [
    a.status,
    ...a.roots.map(key).sort(),
    ...a.files.map((f) => `${f.name} ${f.sha256}`),
    ...a.differ.map((d) => `${d.name} ${d.hashes.map((h) => `${rootOf.get(h.buildIndex)}=${h.sha256 ?? 'absent'}`).sort().join(' ')}`),
  ].join('\n');
}

/**
 * The agreement records the groups of `touched` call for: for each, recomputed over every build of the
 * group (`builds`, the log's and the new ones, in log order), unless the group's latest agreement record
 * already says the same (same roots, same outcome).
 */
export function deriveAgreementRecords(options: {
  readonly existing: ReadonlyArray<{ index: bigint; record: LogRecord }>;
  readonly builds: ReadonlyArray<{ index: bigint; build: BuildRecord }>;
  readonly touched: ReadonlyArray<{ version: string; target: string; env: readonly string[] }>;
  readonly now: string;
}): AgreementRecord[] {
  const latest = new Map<string, AgreementRecord>();
  for (const { record } of options.existing) {
    if (record.type !== AGREEMENT_RECORD_TYPE) continue;
    const a = agreementRecordFromLogRecord(record);
    latest.set(groupKey(a), a);
  }
  const derived: AgreementRecord[] = [];
  const seen = new Set<string>();
  for (const group of options.touched) {
    const key = groupKey(group);
    if (seen.has(key)) continue;
    seen.add(key);
    const agreement = agreementOf(
      options.builds.filter(({ build }) => groupKey(build) === key),
      options.now,
    );
    if (!agreement) continue;
    const before = latest.get(key);
    if (before && substance(before) === substance(agreement)) continue;
    derived.push(agreement);
  }
  return derived;
}

/**
 * Checks every agreement record of the log (for `witness verify`, through AGREEMENT_INVARIANTS): it must say exactly
 * what its build records say: each root an earlier built record of the same group with that result and
 * chain, roots pairwise independent, and the status, files and differences recomputed from them.
 */
export function checkAgreementRecords(all: ReadonlyArray<{ index: bigint; record: LogRecord }>): void {
  const builds = new Map<bigint, BuildRecord>();
  for (const { index, record } of all) {
    const fail = (why: string): never => {
      throw new VerificationError('AGREEMENT_RECORD_INVALID', `log index ${index}: ${why}`);
    };
    if (record.type === BUILD_RECORD_TYPE) {
      try {
        builds.set(index, buildRecordFromLogRecord(record));
      } catch {
        /* BUILDS_VIEW (src/rebuild/builds-view.ts) reports malformed build records */
      }
      continue;
    }
    if (record.type !== AGREEMENT_RECORD_TYPE) continue;
    let a: AgreementRecord;
    try {
      a = agreementRecordFromLogRecord(record);
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    const cited = a.roots.map((r) => {
      const build = builds.get(r.buildIndex);
      if (!build || r.buildIndex >= index) return fail(`root build record ${r.buildIndex} is not an earlier build record`);
      if (groupKey(build) !== groupKey(a) || build.outcome !== 'built') fail(`build record ${r.buildIndex} is not a built record of ${groupKey(a)}`);
      if (build.result !== r.result) fail(`build record ${r.buildIndex} is of result ${build.result}, not ${r.result}`);
      return { index: r.buildIndex, build };
    });
    if (new Set(cited.map(({ build }) => chainRoot(build.bootstrap).key)).size !== cited.length) fail('two of its roots are the same root');
    const recomputed = agreementOf(cited, a.ingested);
    if (!recomputed || JSON.stringify(agreementRecordToLogRecord(recomputed)) !== JSON.stringify(record)) {
      fail(`it does not say what build records ${a.roots.map((r) => r.buildIndex).join(', ')} say (roots, chains, status or files)`);
    }
  }
}

/**
 * Agreement records have no view of their own; the log checks them on every append and verify
 * (registered in src/witness-schema.ts): they must say what the build records they name say.
 */
export const AGREEMENT_INVARIANTS: RecordFold<void> = {
  name: 'agreement',
  recordTypes: [BUILD_RECORD_TYPE, AGREEMENT_RECORD_TYPE],
  fold: (records) => checkAgreementRecords(records),
};
