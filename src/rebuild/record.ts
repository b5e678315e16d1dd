// Build records (type `build`, version 1): one per ingested build result, with the verdicts reached when
// it was ingested and the evidence they rest on. Nothing is rewritten: a later comparison (say, with a
// sumdb record that was not reachable before) is a new record naming the same result.
//
//   go-source-witness build/v1
//   version go1.21.0
//   target linux/amd64
//   env GOARM=6                              (zero or more: environment beyond GOOS/GOARCH)
//   outcome built|failed
//   tag-index <log index>                    the tag record the commit was checked against
//   commit <oid>
//   tree <oid>
//   result <sha256>                          the build result file (content address)
//   builder <name>/<version> node/<v> <os>/<arch>
//   sandbox <how make.bash was isolated>     (absent in records of builds made before sandboxes)
//   method full | shared-host sha256:<hex>   how the target was built: one make.bash, or its target phase
//                                            from a copy of the host state with that hash (absent in
//                                            records made before the shared host: then full)
//   bootstrap <go version> <h1> [<commit> <tree>]   (one per toolchain, used one first, root last)
//   bootstrap-root binary | c <compiler> <compiler version> <branch>   how the root was obtained (absent
//                                            in records made before roots were recorded: then binary)
//   started <RFC 3339 UTC>
//   seconds <n>
//   build-log <sha256> <size>
//   source-check equal|differs <files> <problems>  } built only
//   file <name> <size> <sha256>                    }
//   go-sum <go.sum line>                           } (two lines: zip, then /go.mod)
//   stripped-h1 <h1>                               } darwin: zip h1 with code signatures stripped
//   failure <phase>: <reason>                      failed only
//   verdict <file> equal|unequal|unchecked <source> <detail>   source: sumdb | proxy | go.dev | log
//   evidence <source> <detail>
//   recheck-of <log index>                   a re-evaluation of that earlier build record (same build,
//                                            new verdicts): `witness ingest --recheck`
//   ingested <RFC 3339 UTC>
//
// Sources: `sumdb` the checksum database, proven by our client (src/sumdb/); `proxy` the published module
// zip, .mod and .info as the go command downloads them from its GOPROXY (src/rebuild/published.ts); `go.dev`
// the go.dev/dl listing; `log` earlier builds in this log.
import { FormatError } from '../errors.js';
import { OBJECT_ID } from '../gitsrc/refname.js';
import { fieldCursor, type LogRecord, type RecordField } from '../log/record.js';
import { BRANCH_NAME, BUILD_METHOD, COMPILER, SANDBOX_DESCRIPTION, bootstrapRootProblem, type BootstrapToolchain, type BuildFile } from './result.js';
import { parseGoVersion, parseTarget } from '../release/target.js';

export const BUILD_RECORD_TYPE = 'build';
export const BUILD_RECORD_VERSION = 1;

export type VerdictStatus = 'equal' | 'unequal' | 'unchecked';
export type VerdictSource = 'sumdb' | 'proxy' | 'go.dev' | 'log';
export const VERDICT_SOURCES: readonly VerdictSource[] = ['sumdb', 'proxy', 'go.dev', 'log'];

export interface Verdict {
  /** A distpack file name, or the module's go.sum line name (`<module>.zip h1`). */
  readonly file: string;
  readonly status: VerdictStatus;
  readonly source: VerdictSource;
  /** What was compared (expected value and where it came from), or why nothing was. */
  readonly detail: string;
}

export interface Evidence {
  readonly source: VerdictSource;
  readonly detail: string;
}

export interface BuildRecord {
  readonly version: string;
  readonly target: string;
  readonly env: readonly string[];
  readonly outcome: 'built' | 'failed';
  readonly tagIndex: bigint;
  readonly commit: string;
  readonly tree: string;
  readonly result: string;
  readonly builder: string;
  readonly sandbox?: string;
  /** BUILD_METHOD (result.ts); absent in records made before the shared host. */
  readonly method?: string;
  readonly bootstrap: readonly BootstrapToolchain[];
  readonly started: string;
  readonly seconds: number;
  readonly buildLog: { readonly sha256: string; readonly size: number };
  readonly sourceCheck?: { readonly equal: boolean; readonly files: number; readonly problems: number };
  readonly files?: readonly BuildFile[];
  readonly goSum?: readonly [string, string];
  readonly strippedH1?: string;
  readonly failure?: string;
  readonly verdicts: readonly Verdict[];
  readonly evidence: readonly Evidence[];
  /** The earlier build record this one re-evaluates (`witness ingest --recheck`): same build, new verdicts. */
  readonly recheckOf?: bigint;
  readonly ingested: string;
}

/** The one-word state of a build: what the site's table and `plan` show. */
export type BuildStatus = 'equal' | 'unequal' | 'unchecked' | 'failed';

export function buildStatus(record: BuildRecord): BuildStatus {
  if (record.outcome === 'failed') return 'failed';
  if (record.sourceCheck && !record.sourceCheck.equal) return 'unequal';
  if (record.verdicts.some((verdict) => verdict.status === 'unequal')) return 'unequal';
  // "equal" means equal to what Google published (sumdb, go.dev); agreeing with our own earlier builds is
  // reproducibility, not confirmation, and leaves the build unchecked.
  if (record.verdicts.some((verdict) => verdict.status === 'equal' && verdict.source !== 'log')) return 'equal';
  return 'unchecked';
}

/** The module zip's h1 from a built record's go.sum lines. */
export function moduleZipHash(record: BuildRecord): string | undefined {
  return record.goSum?.[0].split(' ')[2];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
const UINT = /^(0|[1-9][0-9]{0,15})$/;
const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;

export function buildRecordToLogRecord(build: BuildRecord): LogRecord {
  const fields: RecordField[] = [];
  const add = (key: string, value: string) => fields.push({ key, value });
  add('version', build.version);
  add('target', build.target);
  for (const env of build.env) add('env', env);
  add('outcome', build.outcome);
  add('tag-index', String(build.tagIndex));
  add('commit', build.commit);
  add('tree', build.tree);
  add('result', build.result);
  add('builder', build.builder);
  if (build.sandbox !== undefined) add('sandbox', build.sandbox);
  if (build.method !== undefined) add('method', build.method);
  for (const b of build.bootstrap) add('bootstrap', [b.version, b.hash, ...(b.commit && b.tree ? [b.commit, b.tree] : [])].join(' '));
  const root = build.bootstrap[build.bootstrap.length - 1];
  if (root?.root === 'binary') add('bootstrap-root', 'binary');
  else if (root?.root === 'c') add('bootstrap-root', `c ${root.compiler} ${root.branch}`);
  add('started', build.started);
  add('seconds', String(build.seconds));
  add('build-log', `${build.buildLog.sha256} ${build.buildLog.size}`);
  if (build.sourceCheck) add('source-check', `${build.sourceCheck.equal ? 'equal' : 'differs'} ${build.sourceCheck.files} ${build.sourceCheck.problems}`);
  for (const file of build.files ?? []) add('file', `${file.name} ${file.size} ${file.sha256}`);
  for (const line of build.goSum ?? []) add('go-sum', line);
  if (build.strippedH1 !== undefined) add('stripped-h1', build.strippedH1);
  if (build.failure !== undefined) add('failure', build.failure);
  for (const v of build.verdicts) add('verdict', `${v.file} ${v.status} ${v.source} ${v.detail}`);
  for (const e of build.evidence) add('evidence', `${e.source} ${e.detail}`);
  if (build.recheckOf !== undefined) add('recheck-of', String(build.recheckOf));
  add('ingested', build.ingested);
  const record: LogRecord = { type: BUILD_RECORD_TYPE, version: BUILD_RECORD_VERSION, fields };
  // Round-trip: what we write is exactly what we would accept.
  buildRecordFromLogRecord(record);
  return record;
}

/** Parses a build record strictly: fields in order, each once unless repeatable, formats checked. */
export function buildRecordFromLogRecord(record: LogRecord): BuildRecord {
  const bad = (why: string): never => {
    throw new FormatError('MALFORMED_BUILD_RECORD', `build record: ${why}`);
  };
  const { one, many, has, end } = fieldCursor(record, BUILD_RECORD_TYPE, BUILD_RECORD_VERSION, bad);
  const match = (value: string, pattern: RegExp, what: string): RegExpExecArray => pattern.exec(value) ?? bad(`${what} ${JSON.stringify(value.slice(0, 100))} is malformed`);

  const version = one('version');
  if (!parseGoVersion(version)) bad(`version ${JSON.stringify(version)} is not a Go release version`);
  const target = one('target');
  try {
    parseTarget(target);
  } catch {
    bad(`target ${JSON.stringify(target)} is not GOOS/GOARCH`);
  }
  const env = many('env');
  for (const item of env) match(item, /^GO[A-Z0-9_]{1,30}=[A-Za-z0-9._,=+-]{1,64}$/, 'env');
  if (env.join('\n') !== [...env].sort().join('\n') || new Set(env.map((e) => e.split('=')[0])).size !== env.length) bad('env is not sorted and unique');
  const outcome = one('outcome');
  if (outcome !== 'built' && outcome !== 'failed') bad(`outcome ${JSON.stringify(outcome)} is neither built nor failed`);
  const tagIndex = BigInt(match(one('tag-index'), /^(0|[1-9][0-9]{0,19})$/, 'tag-index')[0]);
  const commit = match(one('commit'), OBJECT_ID, 'commit')[0];
  const tree = match(one('tree'), OBJECT_ID, 'tree')[0];
  const result = match(one('result'), SHA256_HEX, 'result')[0];
  const builder = match(one('builder'), /^\S{1,64} node\/\S{1,32} \S{1,32}$/, 'builder')[0];
  const sandbox = has('sandbox') ? match(one('sandbox'), SANDBOX_DESCRIPTION, 'sandbox')[0] : undefined;
  const method = has('method') ? match(one('method'), BUILD_METHOD, 'method')[0] : undefined;
  const bootstrap: BootstrapToolchain[] = many('bootstrap').map((value) => {
    const parts = match(value, /^(go\S{1,40}) (h1:\S+)(?: (\S+) (\S+))?$/, 'bootstrap');
    if (!H1.test(parts[2]!)) bad(`bootstrap hash ${parts[2]} is malformed`);
    if (parts[3] !== undefined && (!OBJECT_ID.test(parts[3]) || !OBJECT_ID.test(parts[4]!))) bad('bootstrap commit or tree is malformed');
    return { version: parts[1]!, hash: parts[2]!, ...(parts[3] ? { commit: parts[3], tree: parts[4]! } : {}) };
  });
  if (bootstrap.length === 0) bad('no bootstrap toolchain');
  if (has('bootstrap-root')) {
    const value = one('bootstrap-root');
    const parts = value === 'binary' ? undefined : match(value, /^c (\S+ \S+) (\S+)$/, 'bootstrap-root');
    const last = bootstrap.length - 1;
    bootstrap[last] = { ...bootstrap[last]!, ...(parts ? { root: 'c' as const, compiler: parts[1]!, branch: parts[2]! } : { root: 'binary' as const }) };
    if (parts && (!COMPILER.test(parts[1]!) || !BRANCH_NAME.test(parts[2]!))) bad(`bootstrap-root ${JSON.stringify(value.slice(0, 100))} is malformed`);
    const problem = bootstrapRootProblem(bootstrap[last]!, true);
    if (problem) bad(`the root toolchain ${problem}`);
  }
  const started = match(one('started'), TIME, 'started')[0];
  const seconds = Number(match(one('seconds'), UINT, 'seconds')[0]);
  const logParts = match(one('build-log'), /^([0-9a-f]{64}) (0|[1-9][0-9]{0,15})$/, 'build-log');
  const buildLog = { sha256: logParts[1]!, size: Number(logParts[2]) };

  let sourceCheck: BuildRecord['sourceCheck'];
  let files: BuildFile[] | undefined;
  let goSum: [string, string] | undefined;
  let strippedH1: string | undefined;
  let failure: string | undefined;
  if (outcome === 'built') {
    const check = match(one('source-check'), /^(equal|differs) (0|[1-9][0-9]{0,15}) (0|[1-9][0-9]{0,15})$/, 'source-check');
    sourceCheck = { equal: check[1] === 'equal', files: Number(check[2]), problems: Number(check[3]) };
    if (sourceCheck.equal !== (sourceCheck.problems === 0)) bad('source-check equal disagrees with its problem count');
    files = many('file').map((value) => {
      const parts = match(value, /^([A-Za-z0-9][A-Za-z0-9._+-]{0,200}) (0|[1-9][0-9]{0,15}) ([0-9a-f]{64})$/, 'file');
      return { name: parts[1]!, size: Number(parts[2]), sha256: parts[3]! };
    });
    if (files.length === 0) bad('a built record lists no files');
    const lines = many('go-sum');
    if (lines.length !== 2) bad('a built record needs exactly two go-sum lines');
    const module = `v0.0.1-${version}.${target.replace('/', '-')}`;
    const zipLine = match(lines[0]!, /^golang\.org\/toolchain (\S+) (h1:\S+)$/, 'go-sum');
    const modLine = match(lines[1]!, /^golang\.org\/toolchain (\S+)\/go\.mod (h1:\S+)$/, 'go-sum');
    if (zipLine[1] !== module || modLine[1] !== module || !H1.test(zipLine[2]!) || !H1.test(modLine[2]!)) bad(`go-sum lines are not for golang.org/toolchain ${module}`);
    goSum = [lines[0]!, lines[1]!];
    if (has('stripped-h1')) {
      strippedH1 = match(one('stripped-h1'), H1, 'stripped-h1')[0];
      if (!target.startsWith('darwin/')) bad('stripped-h1 is only for darwin targets');
    }
  } else {
    failure = one('failure');
  }
  const verdicts = many('verdict').map((value) => {
    const parts = match(value, /^(\S+) (equal|unequal|unchecked) (sumdb|proxy|go\.dev|log) (.+)$/, 'verdict');
    return { file: parts[1]!, status: parts[2] as VerdictStatus, source: parts[3] as VerdictSource, detail: parts[4]! };
  });
  if (outcome === 'failed' && verdicts.length > 0) bad('a failed build has verdicts');
  const evidence = many('evidence').map((value) => {
    const parts = match(value, /^(sumdb|proxy|go\.dev|log) (.+)$/, 'evidence');
    return { source: parts[1] as VerdictSource, detail: parts[2]! };
  });
  const recheckOf = has('recheck-of') ? BigInt(match(one('recheck-of'), /^(0|[1-9][0-9]{0,19})$/, 'recheck-of')[0]) : undefined;
  const ingested = match(one('ingested'), TIME, 'ingested')[0];
  end();
  return {
    version,
    target,
    env,
    outcome: outcome as 'built' | 'failed',
    tagIndex,
    commit,
    tree,
    result,
    builder,
    ...(sandbox !== undefined ? { sandbox } : {}),
    ...(method !== undefined ? { method } : {}),
    bootstrap,
    started,
    seconds,
    buildLog,
    ...(sourceCheck ? { sourceCheck } : {}),
    ...(files ? { files } : {}),
    ...(goSum ? { goSum } : {}),
    ...(strippedH1 ? { strippedH1 } : {}),
    ...(failure !== undefined ? { failure } : {}),
    verdicts,
    evidence,
    ...(recheckOf !== undefined ? { recheckOf } : {}),
    ingested,
  };
}

/**
 * Whether `b` records the same build as `a` (everything but the verdicts, evidence, recheck-of and
 * ingestion time): what a `recheck-of` record must repeat of the record it cites.
 */
export function sameBuild(a: BuildRecord, b: BuildRecord): boolean {
  const varying = new Set(['verdict', 'evidence', 'recheck-of', 'ingested']);
  const key = (record: BuildRecord) =>
    buildRecordToLogRecord(record)
      .fields.filter((field) => !varying.has(field.key))
      .map((field) => `${field.key} ${field.value}`)
      .join('\n');
  return key(a) === key(b);
}
