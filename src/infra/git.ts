// The git binary, run through simple-git: the log repo is written with plumbing (read-tree, write-tree,
// commit-tree, update-ref with compare-and-swap) so an append never runs hooks, never depends on the
// user's index being clean, and becomes visible in one atomic ref update.
import { existsSync } from 'node:fs';
import { EnvironmentError } from '../errors.js';

export interface GitOptions {
  readonly cwd: string;
  readonly input?: Uint8Array | string;
  readonly env?: Record<string, string | undefined>;
  /** Exit codes that are not errors (e.g. 1 for `git diff --quiet`). */
  readonly okCodes?: readonly number[];
}

export interface GitResult {
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly code: number;
}

/** Environment for git: the caller's, minus variables that would redirect it to another repository. */
function gitEnvironment(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_PREFIX']) {
    delete env[name];
  }
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

let simpleGitModule: Promise<typeof import('simple-git')> | undefined;

/**
 * simple-git refuses arguments and environment variables that make git run other programs (a pager, an
 * editor, ssh, hooks, ...) unless each is allowed: a guard for callers that pass on what someone else
 * typed. Every argument here is written by this project, and the environment is the user's own (their
 * GIT_SSH_COMMAND must keep working for `publish --push`), so git sees exactly what it saw when spawned
 * directly.
 */
const UNGUARDED = Object.fromEntries(
  [
    'Alias', 'AskPass', 'CommandBinaries', 'ConfigEnvCount', 'ConfigPaths', 'CredentialHelper', 'DiffExternal', 'DiffTextConv', 'Editor', 'Exec',
    'Filter', 'FsMonitor', 'GitProxy', 'GpgProgram', 'HooksPath', 'Include', 'MergeDriver', 'Pack', 'Pager', 'ProtocolOverride', 'SshCommand',
    'Submodule', 'TemplateDir', 'UrlRewrite',
  ].map((name) => [`allowUnsafe${name}`, true]),
);

/**
 * Runs git through simple-git (https://github.com/steveukland/git-js): one process per call, the given
 * stdin, stdout kept as bytes (blobs are binary), and every exit code in `okCodes` a result rather than an
 * error. simple-git strips GIT_* variables from a child's environment unless they are allowed; the
 * environment built above is the one git must see, so all of it is allowed. Loaded on first use.
 */
export async function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  if (!existsSync(options.cwd)) throw new EnvironmentError('NOT_FOUND', `${options.cwd} does not exist`);
  const { simpleGit } = await (simpleGitModule ??= import('simple-git'));
  const env = gitEnvironment(options.env);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let code = -1;
  let spawnError: NodeJS.ErrnoException | undefined;
  const input = options.input === undefined ? undefined : typeof options.input === 'string' ? options.input : Buffer.from(options.input.buffer, options.input.byteOffset, options.input.byteLength);
  const instance = simpleGit({
    baseDir: options.cwd,
    allowEnvironment: Object.keys(env),
    unsafe: UNGUARDED,
    // Every call writes its stdin (empty when none), as a process spawned with a closed stdin would see.
    input: () => input ?? '',
    errors: (error, result) => {
      code = result.exitCode;
      if (error instanceof Error) spawnError = error as NodeJS.ErrnoException;
      return code === 0 || options.okCodes?.includes(code) ? undefined : (error ?? Buffer.concat(result.stdErr));
    },
  })
    .env(env)
    .outputHandler((_command, out, err) => {
      out.on('data', (chunk: Buffer) => stdout.push(chunk));
      err.on('data', (chunk: Buffer) => stderr.push(chunk));
    });
  try {
    await instance.raw([...args]);
  } catch (error) {
    // A git that could not be started: simple-git reports the spawn error's errno as a negative exit code.
    if (code < 0) {
      const why = spawnError ?? (error as Error);
      if (code === -2 || spawnError?.code === 'ENOENT') throw new EnvironmentError('GIT_NOT_FOUND', 'git is not installed or not on PATH', { cause: error });
      throw new EnvironmentError('GIT_FAILED', `could not run git: ${why.message}`, { cause: error });
    }
    throw new EnvironmentError('GIT_FAILED', `git ${args.slice(0, 3).join(' ')} failed (exit ${code}): ${Buffer.concat(stderr).toString('utf8').trim()}`);
  }
  return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8'), code };
}

export async function gitText(args: readonly string[], options: GitOptions): Promise<string> {
  return (await git(args, options)).stdout.toString('utf8');
}

/** Where a directory sits in git: the work tree top, the git dir, and the directory relative to the top. */
export interface GitLocation {
  readonly topLevel: string;
  readonly gitDir: string;
  /** Slash-separated path of the directory relative to topLevel ('' for the top itself). */
  readonly prefix: string;
}

export async function locateGit(dir: string): Promise<GitLocation | undefined> {
  const result = await git(['rev-parse', '--show-toplevel', '--absolute-git-dir', '--show-prefix'], {
    cwd: dir,
    okCodes: [128],
  });
  if (result.code !== 0) return undefined;
  const [topLevel, gitDir, prefix] = result.stdout.toString('utf8').split('\n');
  if (!topLevel || !gitDir) return undefined;
  return { topLevel, gitDir, prefix: (prefix ?? '').replace(/\/$/, '') };
}

/** A path inside the log folder as git names it: relative to the work tree's top level. */
export function repositoryPath(location: GitLocation, relative: string): string {
  return location.prefix === '' ? relative : `${location.prefix}/${relative}`;
}

/** The object id HEAD points at, or undefined on an unborn branch. */
export async function headCommit(cwd: string): Promise<string | undefined> {
  const result = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd, okCodes: [1, 128] });
  return result.code === 0 ? result.stdout.toString('utf8').trim() : undefined;
}

/** Reads many objects through one `git cat-file --batch` process. */
export async function readObjects(cwd: string, specs: readonly string[]): Promise<Array<Buffer | undefined>> {
  if (specs.length === 0) return [];
  for (const spec of specs) {
    if (spec.includes('\n')) throw new Error('object spec contains a newline');
  }
  const { stdout } = await git(['cat-file', '--batch'], { cwd, input: specs.map((s) => `${s}\n`).join('') });
  const out: Array<Buffer | undefined> = [];
  let offset = 0;
  for (let i = 0; i < specs.length; i++) {
    const newline = stdout.indexOf(0x0a, offset);
    const header = stdout.subarray(offset, newline).toString('utf8');
    offset = newline + 1;
    if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
      out.push(undefined);
      continue;
    }
    const size = Number(header.split(' ')[2]);
    out.push(stdout.subarray(offset, offset + size));
    offset += size + 1;
  }
  return out;
}
