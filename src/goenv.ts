// The operator's go command and the module-fetching settings it uses (`go env`): where published Go
// toolchains come from (GOPROXY) and which checksum database vouches for them (GOSUMDB). Both are read at
// run time from the go command, never written into code or records: a GOPROXY URL may carry credentials,
// so records and reasons say "$GOPROXY" instead (sanitizeGoMessage).
//
// References: `go help environment`, `go help module-auth` and https://go.dev/ref/mod#environment-variables
// (GOPROXY lists, GOSUMDB forms "<name>", "<vkey>", "<vkey> <url>", "off"; GONOSUMDB/GOPRIVATE patterns).
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, UsageError } from './errors.js';
import { printableLine } from './infra/text.js';

/** The go command's own default checksum database key (golang/go src/cmd/go/internal/modfetch/key.go). */
const SUM_GOLANG_ORG_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';

export interface GoEnvironment {
  /** Absolute path of the go command. */
  readonly go: string;
  /** GOVERSION, e.g. go1.26.8. */
  readonly version: string;
  readonly goproxy: string;
  readonly gosumdb: string;
  readonly gonosumdb: string;
  readonly gonoproxy: string;
  readonly goprivate: string;
  /** The operator's GOPATH and GOMODCACHE (for `--from-gomodcache` defaults). */
  readonly gopath: string;
  readonly gomodcache: string;
}

/** The checksum database GOSUMDB names: its name and verifier key (undefined for GOSUMDB=off). */
export interface GoSumdb {
  readonly name: string;
  readonly verifierKey: string;
}

/** Finds `go` (a path, or a name looked up on PATH) as an absolute path to an executable. */
export function findGoCommand(go = 'go', env: NodeJS.ProcessEnv = process.env): string {
  const executable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (go.includes('/')) {
    const file = path.resolve(go);
    if (!executable(file)) throw new EnvironmentError('GO_NOT_FOUND', `${file}: not an executable go command (--go)`);
    return file;
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '' || !path.isAbsolute(dir)) continue;
    const file = path.join(dir, go);
    if (executable(file)) return file;
  }
  throw new EnvironmentError('GO_NOT_FOUND', `the go command "${go}" is not on PATH: install Go or name it with --go`);
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const MAX_OUTPUT = 4 * 1024 * 1024;

/** Runs the go command (asynchronously: a test's loopback proxy answers from this event loop). */
export function runGo(go: string, args: readonly string[], options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(go, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 600_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let sizes = [0, 0];
    const collect = (into: Buffer[], i: 0 | 1) => (chunk: Buffer) => {
      if (sizes[i]! + chunk.length <= MAX_OUTPUT) into.push(chunk);
      sizes = i === 0 ? [sizes[0]! + chunk.length, sizes[1]!] : [sizes[0]!, sizes[1]! + chunk.length];
    };
    child.stdout.on('data', collect(out, 0));
    child.stderr.on('data', collect(err, 1));
    child.on('error', (error) => reject(new EnvironmentError('GO_FAILED', `cannot run ${go}: ${error.message}`, { cause: error })));
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/**
 * `go env -json` of the operator's go command, run with the operator's environment (plus
 * GOTOOLCHAIN=local, so that it never switches to another toolchain).
 */
export async function readGoEnvironment(go = 'go', env: NodeJS.ProcessEnv = process.env): Promise<GoEnvironment> {
  const file = findGoCommand(go, env);
  const names = ['GOVERSION', 'GOPROXY', 'GOSUMDB', 'GONOSUMDB', 'GONOPROXY', 'GOPRIVATE', 'GOPATH', 'GOMODCACHE'];
  const result = await runGo(file, ['env', '-json', ...names], { env: { ...env, GOTOOLCHAIN: 'local' }, timeoutMs: 60_000 });
  if (result.code !== 0) throw new EnvironmentError('GO_FAILED', `${file} env failed: ${printableLine(result.stderr, 300)}`);
  let values: Record<string, unknown>;
  try {
    values = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new EnvironmentError('GO_FAILED', `${file} env -json printed no JSON object`);
  }
  const text = (name: string) => (typeof values[name] === 'string' ? (values[name] as string) : '');
  if (!/^go1\.[0-9]+/.test(text('GOVERSION'))) throw new EnvironmentError('GO_FAILED', `${file}: GOVERSION ${JSON.stringify(text('GOVERSION'))} is not a Go release`);
  return {
    go: file,
    version: text('GOVERSION').split(' ')[0]!,
    goproxy: text('GOPROXY'),
    gosumdb: text('GOSUMDB'),
    gonosumdb: text('GONOSUMDB'),
    gonoproxy: text('GONOPROXY'),
    goprivate: text('GOPRIVATE'),
    gopath: text('GOPATH'),
    gomodcache: text('GOMODCACHE'),
  };
}

/** The http(s) proxies of a GOPROXY list, in order ("direct" and "off" are not proxies). */
export function goProxyUrls(goproxy: string): string[] {
  return goproxy
    .split(/[,|]/)
    .map((entry) => entry.trim())
    .filter((entry) => /^https?:\/\//i.test(entry))
    .map((entry) => entry.replace(/\/+$/, ''));
}

/**
 * The database GOSUMDB names (`go help module-auth`): "off" (none); "sum.golang.org" (the go command's
 * built-in key); "<vkey>" or "<vkey> <url>" (a key of the form name+hash+base64).
 */
export function goSumdb(gosumdb: string): GoSumdb | undefined {
  const value = gosumdb.trim() === '' ? 'sum.golang.org' : gosumdb.trim();
  if (value === 'off') return undefined;
  const key = value.split(/\s+/)[0]!;
  if (key === 'sum.golang.org' || key === 'sum.golang.google.cn') return { name: 'sum.golang.org', verifierKey: SUM_GOLANG_ORG_KEY };
  // A Go note verifier key: <name>+<8 hex key id>+<base64> (the base64 may hold "+" too).
  const parts = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(key);
  if (!parts) throw new UsageError('BAD_GOSUMDB', `GOSUMDB ${JSON.stringify(key)} names no verifier key (want sum.golang.org, <vkey> or "<vkey> <url>")`);
  return { name: parts[1]!, verifierKey: key };
}

/**
 * Go's module.MatchPrefixPatterns (golang/mod module/module.go), as GONOSUMDB/GOPRIVATE use it: a
 * comma-separated list of path.Match globs, each matched against as many leading path elements of
 * `target` as it has.
 */
export function matchesPrefixPatterns(patterns: string, target: string): boolean {
  const elements = target.split('/');
  for (const raw of patterns.split(',')) {
    const pattern = raw.trim().replace(/\/+$/, '');
    if (pattern === '') continue;
    const n = pattern.split('/').length;
    if (n > elements.length) continue;
    const prefix = elements.slice(0, n).join('/');
    if (globMatch(pattern, prefix)) return true;
  }
  return false;
}

/** path.Match for the subset GOPRIVATE patterns use: `*` (no "/"), `?`, literal characters. */
function globMatch(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  try {
    return new RegExp(`^${source}$`).test(name);
  } catch {
    return false;
  }
}

/**
 * Whether the go command checks `modulePath` against its checksum database (cmd/go/internal/modfetch/
 * sumdb.go useSumDB): not with GOSUMDB=off, nor when GONOSUMDB (which defaults to GOPRIVATE) matches it;
 * but golang.org/toolchain always is, from go1.21 on ("Downloaded toolchains cannot be listed in go.sum"),
 * unless GOPROXY is a single file:// URL (then the general rule applies). Returns the reason it is not checked, or undefined.
 */
export function sumdbSkipReason(env: GoEnvironment, modulePath: string): string | undefined {
  const minor = Number(/^go1\.([0-9]+)/.exec(env.version)?.[1] ?? 0);
  const fileProxy = /^file:\/\//.test(env.goproxy) && !/[,|]/.test(env.goproxy);
  if (modulePath === 'golang.org/toolchain' && minor >= 21 && !fileProxy) return undefined;
  const because = modulePath === 'golang.org/toolchain' && minor >= 21 ? 'GOPROXY is a file:// URL and ' : '';
  if (goSumdb(env.gosumdb) === undefined) return `${because}GOSUMDB=off`;
  const noSumdb = env.gonosumdb !== '' ? env.gonosumdb : env.goprivate;
  if (matchesPrefixPatterns(noSumdb, modulePath)) return `${because}${env.gonosumdb !== '' ? 'GONOSUMDB' : 'GOPRIVATE'} matches ${modulePath}`;
  return undefined;
}

/**
 * A message of the go command (or a server) made fit for a record or a one-line reason: each GOPROXY
 * URL (which may hold credentials) replaced by "$GOPROXY", any other URL's user info removed, control
 * characters and runs of white space collapsed, at most `max` characters.
 */
export function sanitizeGoMessage(message: string, goproxy: string, max = 400): string {
  let text = message;
  for (const proxy of goProxyUrls(goproxy).sort((a, b) => b.length - a.length)) text = text.split(proxy).join('$GOPROXY');
  text = text.replace(/\b(https?:\/\/)[^/@\s]*@/gi, '$1');
  return printableLine(text, max);
}
