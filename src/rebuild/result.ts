// Build results: what `witness build` writes and `witness ingest` reads. One JSON file per (version,
// target) build, self-describing and content-addressed: its name carries the SHA-256 of its bytes, so a
// result cannot be altered without its name (and the build record that cites it) changing.
//
//   <out>/<version>.<goos>-<goarch>.<sha256 of the file>.build.json
//
// A build either produced pkg/distpack files ("built": hashes, go.sum lines, source check) or did not
// ("failed": a reason and the phase that failed). "Built but different from what Google published" is
// decided later by ingest; it is never conflated with "failed".
import { createHash } from 'node:crypto';
import { FormatError } from '../errors.js';
import { OBJECT_ID } from '../gitsrc/refname.js';
import { recordValueProblem } from '../log/record.js';
import { formatTarget, isKnownPort, parseGoVersion, parseTarget } from '../release/target.js';

export const BUILD_RESULT_SCHEMA = 'go-source-witness/build-result/v1';

/**
 * How a target was built (build.ts): `full`, one make.bash -distpack; or `shared-host <hash>`, its target
 * phase from a copy of the host state with that content hash (shared-host.ts hashHostState).
 */
export const BUILD_METHOD = /^(full|shared-host sha256:[0-9a-f]{64})$/;

/** A sandbox description (sandbox.ts): one line of plain words. */
export const SANDBOX_DESCRIPTION = /^[A-Za-z0-9][A-Za-z0-9 .,:;()=+/_-]{0,199}$/;

export interface BuildFile {
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
}

/** One toolchain in a bootstrap chain: the GOROOT a build used as GOROOT_BOOTSTRAP, and how it was made. */
export interface BootstrapToolchain {
  /** `go version` of the toolchain, e.g. go1.20.14 or go1.19.8. */
  readonly version: string;
  /** Hash of the GOROOT's files (bootstrap.ts hashGoroot): h1:<base64>. */
  readonly hash: string;
  /** For toolchains built by `witness bootstrap`: the git commit and tree they were built from. */
  readonly commit?: string;
  readonly tree?: string;
  /**
   * How the chain's root was obtained, on the chain's last toolchain only (absent in results made before
   * roots were recorded: a root without a commit is then a binary one): `binary`, a toolchain taken as
   * is (Debian's Go 1.19); `c`, Go 1.4 built by `witness bootstrap --root c` from C (c-root.ts).
   */
  readonly root?: BootstrapRootKind;
  /** Root `c`: the C compiler and its version, e.g. "gcc 12.2.0". */
  readonly compiler?: string;
  /** Root `c`: the branch of the Go repository it was built from (its head then is `commit`). */
  readonly branch?: string;
}

export type BootstrapRootKind = 'binary' | 'c';

/** A C compiler as results and records name it: "gcc 12.2.0", "clang 14.0.6". */
export const COMPILER = /^[a-z][a-z0-9+_-]{0,31} [0-9][0-9A-Za-z.+~-]{0,31}$/;
/** A branch name of the Go repository, e.g. release-branch.go1.4. */
export const BRANCH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,99}){0,4}$/;

export interface SourceCheckSummary {
  readonly equal: boolean;
  readonly files: number;
  /** At most 50 problems, for the record; the build log has them all. */
  readonly problems: readonly string[];
}

interface BuildResultCommon {
  readonly schema: typeof BUILD_RESULT_SCHEMA;
  readonly version: string;
  readonly target: string;
  /** Extra environment beyond the scrubbed base (e.g. GOARM=6), sorted by name. */
  readonly env: Readonly<Record<string, string>>;
  readonly tag: { readonly ref: string; readonly commit: string; readonly tree: string; readonly logIndex: string; readonly logOrigin: string };
  /** The bootstrap chain, from the toolchain used directly down to the root toolchain. */
  readonly bootstrap: readonly BootstrapToolchain[];
  readonly builder: { readonly name: string; readonly version: string; readonly node: string; readonly platform: string; readonly user: string };
  /** How make.bash was isolated (sandbox.ts), e.g. "bubblewrap 0.8.0: user mount pid net ipc uts cgroup namespaces"; absent in results made before sandboxes. */
  readonly sandbox?: string;
  /** BUILD_METHOD; absent in results made before the shared host (they were full builds). */
  readonly method?: string;
  readonly started: string;
  readonly seconds: number;
  /** The full build log, kept next to the result. */
  readonly log: { readonly name: string; readonly size: number; readonly sha256: string };
}

export interface BuiltResult extends BuildResultCommon {
  readonly outcome: 'built';
  readonly files: readonly BuildFile[];
  /** The golang.org/toolchain module's two go.sum lines (zip h1, then /go.mod h1). */
  readonly goSum: readonly [string, string];
  /** darwin only: the module zip's h1 with Mach-O code signatures stripped (macho.ts), to compare with Google's signed zip. */
  readonly strippedH1?: string;
  readonly sourceCheck: SourceCheckSummary;
}

export interface FailedResult extends BuildResultCommon {
  readonly outcome: 'failed';
  readonly failure: { readonly phase: string; readonly reason: string };
}

export type BuildResult = BuiltResult | FailedResult;

/** The canonical bytes of a result: JSON with keys in a fixed order, two-space indented, newline at the end. */
export function serializeBuildResult(result: BuildResult): Buffer {
  checkBuildResult(result);
  return Buffer.from(`${JSON.stringify(canonicalOrder(result), null, 2)}\n`, 'utf8');
}

// The one key order of each object (so that one result has one content address).
const KEY_ORDER: Record<string, readonly string[]> = {
  result: ['schema', 'version', 'target', 'env', 'tag', 'bootstrap', 'builder', 'sandbox', 'method', 'started', 'outcome', 'seconds', 'log', 'files', 'goSum', 'strippedH1', 'sourceCheck', 'failure'],
  tag: ['ref', 'commit', 'tree', 'logIndex', 'logOrigin'],
  bootstrap: ['version', 'hash', 'commit', 'tree', 'root', 'compiler', 'branch'],
  builder: ['name', 'version', 'node', 'platform', 'user'],
  log: ['name', 'size', 'sha256'],
  files: ['name', 'size', 'sha256'],
  sourceCheck: ['equal', 'files', 'problems'],
  failure: ['phase', 'reason'],
};

function ordered(value: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of keys) if (key in value) out[key] = value[key];
  return out;
}

function canonicalOrder(result: BuildResult): Record<string, unknown> {
  const r = result as unknown as Record<string, unknown>;
  const out = ordered(r, KEY_ORDER.result!);
  out.env = Object.fromEntries(Object.keys(result.env).sort().map((name) => [name, result.env[name]]));
  out.tag = ordered(result.tag as unknown as Record<string, unknown>, KEY_ORDER.tag!);
  out.bootstrap = result.bootstrap.map((b) => ordered(b as unknown as Record<string, unknown>, KEY_ORDER.bootstrap!));
  out.builder = ordered(result.builder as unknown as Record<string, unknown>, KEY_ORDER.builder!);
  out.log = ordered(result.log as unknown as Record<string, unknown>, KEY_ORDER.log!);
  if (result.outcome === 'built') {
    out.files = result.files.map((f) => ordered(f as unknown as Record<string, unknown>, KEY_ORDER.files!));
    out.sourceCheck = ordered(result.sourceCheck as unknown as Record<string, unknown>, KEY_ORDER.sourceCheck!);
  } else {
    out.failure = ordered(result.failure as unknown as Record<string, unknown>, KEY_ORDER.failure!);
  }
  return out;
}

export function buildResultFileName(result: BuildResult, bytes: Buffer): string {
  const target = parseTarget(result.target);
  return `${result.version}.${target.goos}-${target.goarch}.${createHash('sha256').update(bytes).digest('hex')}.build.json`;
}

const FILE_NAME = /^(go[0-9A-Za-z.]+)\.([a-z0-9]+)-([a-z0-9]+)\.([0-9a-f]{64})\.build\.json$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const H1 = /^h1:[A-Za-z0-9+/]{43}=$/;
const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
const DISTPACK_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/;
const ENV_NAME = /^GO[A-Z0-9_]{1,30}$/;
const LOG_INDEX = /^(0|[1-9][0-9]{0,19})$/;

/**
 * Parses a result file strictly: the schema, every field and its format, no unknown fields, the file's
 * name against its content hash and its version/target, and canonical serialization (so that the hash
 * names exactly one meaning).
 */
export function parseBuildResult(bytes: Buffer, fileName?: string): BuildResult {
  const bad = (why: string): never => {
    throw new FormatError('BAD_BUILD_RESULT', `build result${fileName ? ` ${fileName}` : ''}: ${why}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    bad(`not UTF-8 JSON (${(error as Error).message})`);
  }
  const result = value as BuildResult;
  try {
    checkBuildResult(result);
  } catch (error) {
    bad((error as Error).message);
  }
  if (!serializeBuildResult(result).equals(bytes)) bad('not in canonical form (it was edited after the build)');
  if (fileName !== undefined) {
    const match = FILE_NAME.exec(fileName);
    if (!match) bad('file name is not <version>.<goos>-<goarch>.<sha256>.build.json');
    const [, version, goos, goarch, digest] = match!;
    if (digest !== createHash('sha256').update(bytes).digest('hex')) bad('content does not match the SHA-256 in its file name (altered)');
    if (version !== result.version || `${goos}/${goarch}` !== result.target) bad('file name does not match the version and target inside');
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function exactKeys(value: unknown, where: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  for (const key of required) if (!(key in value)) throw new Error(`${where}.${key} is missing`);
  for (const key of Object.keys(value)) if (!required.includes(key) && !optional.includes(key)) throw new Error(`${where}.${key} is not a known field`);
  return value;
}

function text(value: unknown, where: string, pattern?: RegExp): string {
  if (typeof value !== 'string') throw new Error(`${where} is not a string`);
  const problem = recordValueProblem(value);
  if (problem) throw new Error(`${where} ${problem}`);
  if (value.length > 4096) throw new Error(`${where} is too long`);
  if (pattern && !pattern.test(value)) throw new Error(`${where} ${JSON.stringify(value.slice(0, 80))} is not in the expected format`);
  return value;
}

function count(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`${where} is not a non-negative integer`);
  return value;
}

/** Throws an Error naming the first problem of a result that is not well formed. */
export function checkBuildResult(result: BuildResult): void {
  const r = exactKeys(result, 'result', ['schema', 'outcome', 'version', 'target', 'env', 'tag', 'bootstrap', 'builder', 'started', 'seconds', 'log'], ['sandbox', 'method', 'files', 'goSum', 'strippedH1', 'sourceCheck', 'failure']);
  if (r.schema !== BUILD_RESULT_SCHEMA) throw new Error(`schema is not ${BUILD_RESULT_SCHEMA}`);
  const version = parseGoVersion(text(r.version, 'version'));
  if (!version) throw new Error(`version ${JSON.stringify(r.version)} is not a Go release version`);
  const target = parseTarget(text(r.target, 'target'));
  if (formatTarget(target) !== r.target) throw new Error('target is not GOOS/GOARCH');
  // A result (failed ones included) is for a port of its release: make.bash of a target Go does not have
  // fails for that reason alone, and that failure says nothing about the release.
  if (isKnownPort(version, target) === false) throw new Error(`target ${r.target} is not a port of ${version.text} (go tool dist list)`);
  const env = exactKeys(r.env, 'env', [], Object.keys(isObject(r.env) ? r.env : {}));
  const envNames = Object.keys(env);
  if (envNames.join('\0') !== [...envNames].sort().join('\0')) throw new Error('env is not sorted by name');
  for (const name of envNames) {
    if (!ENV_NAME.test(name) || name === 'GOOS' || name === 'GOARCH') throw new Error(`env name ${JSON.stringify(name)} is not an extra Go setting`);
    text(env[name], `env.${name}`, /^[A-Za-z0-9._,=+-]{1,64}$/);
  }
  const tag = exactKeys(r.tag, 'tag', ['ref', 'commit', 'tree', 'logIndex', 'logOrigin']);
  if (tag.ref !== `refs/tags/${version.text}`) throw new Error(`tag.ref is not refs/tags/${version.text}`);
  text(tag.commit, 'tag.commit', OBJECT_ID);
  text(tag.tree, 'tag.tree', OBJECT_ID);
  text(tag.logIndex, 'tag.logIndex', LOG_INDEX);
  text(tag.logOrigin, 'tag.logOrigin');
  if (!Array.isArray(r.bootstrap) || r.bootstrap.length === 0 || r.bootstrap.length > 16) throw new Error('bootstrap is not a chain of 1 to 16 toolchains');
  r.bootstrap.forEach((entry, i) => {
    const b = exactKeys(entry, `bootstrap[${i}]`, ['version', 'hash'], ['commit', 'tree', 'root', 'compiler', 'branch']);
    text(b.version, `bootstrap[${i}].version`, /^go[0-9A-Za-z.+-]{1,40}$/);
    text(b.hash, `bootstrap[${i}].hash`, H1);
    if ((b.commit === undefined) !== (b.tree === undefined)) throw new Error(`bootstrap[${i}] has a commit without a tree or the reverse`);
    if (b.commit !== undefined) text(b.commit, `bootstrap[${i}].commit`, OBJECT_ID);
    if (b.tree !== undefined) text(b.tree, `bootstrap[${i}].tree`, OBJECT_ID);
    const problem = bootstrapRootProblem(entry as BootstrapToolchain, i === (r.bootstrap as unknown[]).length - 1);
    if (problem) throw new Error(`bootstrap[${i}] ${problem}`);
  });
  const builder = exactKeys(r.builder, 'builder', ['name', 'version', 'node', 'platform', 'user']);
  for (const key of ['name', 'version', 'node', 'platform', 'user']) text(builder[key], `builder.${key}`, /^[A-Za-z0-9._/:@+-]{1,64}$/);
  if (r.sandbox !== undefined) text(r.sandbox, 'sandbox', SANDBOX_DESCRIPTION);
  if (r.method !== undefined) text(r.method, 'method', BUILD_METHOD);
  text(r.started, 'started', TIME);
  count(r.seconds, 'seconds');
  const log = exactKeys(r.log, 'log', ['name', 'size', 'sha256']);
  text(log.name, 'log.name', /^[A-Za-z0-9._-]{1,200}\.log$/);
  count(log.size, 'log.size');
  text(log.sha256, 'log.sha256', SHA256_HEX);

  if (r.outcome === 'built') {
    for (const key of ['files', 'goSum', 'sourceCheck']) if (!(key in r)) throw new Error(`${key} is missing from a built result`);
    if ('failure' in r) throw new Error('a built result has a failure');
    if (!Array.isArray(r.files) || r.files.length === 0 || r.files.length > 64) throw new Error('files is not a list of 1 to 64 files');
    const names = new Set<string>();
    let previous = '';
    for (const [i, entry] of (r.files as unknown[]).entries()) {
      const f = exactKeys(entry, `files[${i}]`, ['name', 'size', 'sha256']);
      const name = text(f.name, `files[${i}].name`, DISTPACK_NAME);
      if (names.has(name) || name <= previous) throw new Error('files are not sorted by unique name');
      names.add(name);
      previous = name;
      count(f.size, `files[${i}].size`);
      text(f.sha256, `files[${i}].sha256`, SHA256_HEX);
    }
    const module = `v0.0.1-${version.text}.${target.goos}-${target.goarch}`;
    if (!Array.isArray(r.goSum) || r.goSum.length !== 2) throw new Error('goSum is not two lines');
    const [zipLine, modLine] = r.goSum as unknown[];
    const zipMatch = /^golang\.org\/toolchain (\S+) (h1:\S+)$/.exec(text(zipLine, 'goSum[0]'));
    const modMatch = /^golang\.org\/toolchain (\S+)\/go\.mod (h1:\S+)$/.exec(text(modLine, 'goSum[1]'));
    if (!zipMatch || zipMatch[1] !== module || !H1.test(zipMatch[2]!)) throw new Error(`goSum[0] is not "golang.org/toolchain ${module} h1:..."`);
    if (!modMatch || modMatch[1] !== module || !H1.test(modMatch[2]!)) throw new Error(`goSum[1] is not "golang.org/toolchain ${module}/go.mod h1:..."`);
    for (const needed of [`${module}.zip`, `${module}.mod`]) if (!names.has(needed)) throw new Error(`files lacks ${needed}`);
    if (r.strippedH1 !== undefined) {
      if (target.goos !== 'darwin') throw new Error('strippedH1 is only for darwin targets');
      text(r.strippedH1, 'strippedH1', H1);
    }
    const check = exactKeys(r.sourceCheck, 'sourceCheck', ['equal', 'files', 'problems']);
    if (typeof check.equal !== 'boolean') throw new Error('sourceCheck.equal is not a boolean');
    count(check.files, 'sourceCheck.files');
    if (!Array.isArray(check.problems) || check.problems.length > 50) throw new Error('sourceCheck.problems is not a list of at most 50');
    check.problems.forEach((problem, i) => text(problem, `sourceCheck.problems[${i}]`));
    if (check.equal !== (check.problems.length === 0)) throw new Error('sourceCheck.equal disagrees with its problems');
  } else if (r.outcome === 'failed') {
    for (const key of ['files', 'goSum', 'strippedH1', 'sourceCheck']) if (key in r) throw new Error(`a failed result has ${key}`);
    const failure = exactKeys(r.failure, 'failure', ['phase', 'reason']);
    text(failure.phase, 'failure.phase', /^[a-z][a-z0-9-]{0,31}$/);
    text(failure.reason, 'failure.reason');
  } else {
    throw new Error('outcome is neither "built" nor "failed"');
  }
}

/**
 * Why a chain toolchain's root fields are inconsistent, or undefined: only the last toolchain (the root)
 * has them; a `binary` root has no commit; a `c` root has its commit and tree, its compiler and its branch.
 */
export function bootstrapRootProblem(b: BootstrapToolchain, last: boolean): string | undefined {
  if (b.root === undefined) return b.compiler !== undefined || b.branch !== undefined ? 'has a compiler or branch without root "c"' : undefined;
  if (!last) return 'has a root but is not the last toolchain of the chain';
  if (b.root === 'binary') {
    if (b.commit !== undefined || b.compiler !== undefined || b.branch !== undefined) return 'is a binary root with a commit, compiler or branch';
    return undefined;
  }
  if (b.root !== 'c') return `root ${JSON.stringify(b.root)} is neither "binary" nor "c"`;
  if (b.commit === undefined) return 'is a root built from C without its commit and tree';
  if (typeof b.compiler !== 'string' || !COMPILER.test(b.compiler)) return 'is a root built from C without a compiler "<name> <version>"';
  if (typeof b.branch !== 'string' || !BRANCH_NAME.test(b.branch)) return 'is a root built from C without its branch';
  return undefined;
}

/** The extra environment of a target as the sorted KEY=VALUE strings used in results and records. */
export function environmentList(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env)
    .sort()
    .map((name) => `${name}=${env[name]}`);
}
