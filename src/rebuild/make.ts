// Running make.bash: exporting a tag's tree, the scrubbed environment, and the untrusted build process.
//
// The trust boundary: make.bash runs code from the repository, so it must not be able to reach the
// signing key, the log, the witness state or another build. It gets (1) a fresh environment built from
// scratch, never the caller's (so no key variable, token or credential passes through), (2) a fresh HOME
// and TMPDIR inside the work folder, (3) the sandbox of sandbox.ts (namespaces; only /usr, its work tree
// and its bootstrap visible), and (4) when the witness runs as root, a fresh uid of its own, whose every
// process is killed and proved gone before the witness touches the tree again. `witness build` also
// refuses to start while a key variable is set in its own environment.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { lchown, lstat, mkdir, readdir } from 'node:fs/promises';
import { listTree, type TreeEntry } from '../gitsrc/tree.js';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import { COSIGNER_KEY_ENV, SIGNING_KEY_ENV } from '../keyfile.js';
import { allocateBuildUser, bwrapArguments, reapBuildUser, type BuildUser, type Sandbox } from './sandbox.js';
import { type Target } from '../release/target.js';

export type { BuildUser } from './sandbox.js';

/**
 * Exports `tree` of `repository` into `dir` (created; must be empty): the files only, no .git. Written
 * from `git ls-tree` and `git cat-file --batch`, byte for byte as the tree stores them, so no
 * attribute of the tree or the host applies (git archive would honour the tree's export-ignore and
 * export-subst; a checkout would honour eol and ident). Modes: 100755 executable, 100644 not, 120000 a
 * symbolic link; submodules are skipped (archives have none). Files are written with synchronous
 * calls between reads of git's output: three thread-pool round trips per file (open, write, close) made
 * a go1.21 tree take 2.0-2.6 s on tmpfs, against 1.0-1.2 s so (git archive | tar: 0.8-1.0 s).
 */
export async function exportTree(repository: string, tree: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new UsageError('WORK_NOT_EMPTY', `${dir} is not empty`);
  const listing = await listTree(repository, tree).catch((error: Error) => {
    throw new EnvironmentError('EXPORT_FAILED', `cannot list tree ${tree} in ${repository}: ${error.message}`, { cause: error });
  });
  const entries: TreeEntry[] = [];
  for (const entry of listing) {
    if (entry.type === 'commit') continue;
    // Names come from the repository: refuse anything that could leave the export folder.
    if (entry.type !== 'blob' || entry.name.split('/').some((part) => part === '' || part === '.' || part === '..')) {
      throw new EnvironmentError('EXPORT_FAILED', `tree ${tree} has an entry that cannot be exported: ${JSON.stringify(entry.name)} (${entry.type})`);
    }
    entries.push(entry);
  }
  const child = spawn('git', ['cat-file', '--batch'], {
    cwd: repository,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0', HOME: dir },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  child.stdin.end(entries.map((entry) => `${entry.oid}\n`).join(''));
  // Parse "<oid> blob <size>\n<content>\n" records in order.
  let buffered: Buffer = Buffer.alloc(0);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let need = 0; // bytes the record at the front needs, once its header was seen (concatenate once, not per chunk)
  let index = 0;
  const made = new Set<string>();
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending.push(chunk);
    pendingLength += chunk.length;
    if (buffered.length + pendingLength < need) continue;
    buffered = Buffer.concat([buffered, ...pending]);
    pending = [];
    pendingLength = 0;
    need = 0;
    for (;;) {
      const newline = buffered.indexOf(0x0a);
      if (newline < 0) break;
      const header = buffered.subarray(0, newline).toString('utf8').split(' ');
      const size = Number(header[2]);
      if (header[1] !== 'blob' || !Number.isSafeInteger(size)) {
        child.kill();
        throw new EnvironmentError('EXPORT_FAILED', `git cat-file: unexpected ${JSON.stringify(header.join(' '))}`);
      }
      if (buffered.length < newline + 1 + size + 1) {
        need = newline + 1 + size + 1;
        break;
      }
      const content = buffered.subarray(newline + 1, newline + 1 + size);
      const entry = entries[index++];
      if (!entry || header[0] !== entry.oid) throw new EnvironmentError('EXPORT_FAILED', 'git cat-file answered out of order');
      const file = path.join(dir, ...entry.name.split('/'));
      const parent = path.dirname(file);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      if (entry.mode === '120000') symlinkSync(content.toString('utf8'), file);
      else writeFileSync(file, content, { mode: entry.mode === '100755' ? 0o755 : 0o644, flag: 'wx' });
      buffered = buffered.subarray(newline + 1 + size + 1);
    }
  }
  const code = await exited;
  if (code !== 0 || index !== entries.length) {
    throw new EnvironmentError('EXPORT_FAILED', `exporting ${tree} from ${repository}: git cat-file exited ${code} after ${index} of ${entries.length} files: ${stderr.trim().slice(0, 300)}`);
  }
}

/** Refuses to build while a signing key is in this process's environment: builds must never see it. */
export function assertNoKeyInEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of [SIGNING_KEY_ENV, COSIGNER_KEY_ENV]) {
    if (env[name] !== undefined) {
      throw new UsageError(
        'KEY_IN_BUILD_ENVIRONMENT',
        `${name} is set: builds run untrusted code and must not run where a signing key is; unset it (run build in a job without the key, then ingest with it)`,
      );
    }
  }
}

export const BUILD_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The environment of make.bash, from scratch (Source Spotter's clean environment; stricter than
 * gorebuild, which inherits the caller's and blanks CC, CGO_ENABLED, GO*, ...): only these variables.
 */
export function scrubbedEnvironment(options: {
  home: string;
  tmp: string;
  /** GOROOT_BOOTSTRAP; none for Go 1.4 built from C (c-root.ts). */
  bootstrap?: string;
  target?: Target;
  extra?: Readonly<Record<string, string>>;
}): Record<string, string> {
  return {
    HOME: options.home,
    TMPDIR: options.tmp,
    LANG: 'C',
    PATH: BUILD_PATH,
    SHELL: '/bin/sh',
    ...(options.bootstrap !== undefined ? { GOROOT_BOOTSTRAP: options.bootstrap } : {}),
    GOTOOLCHAIN: 'local',
    ...(options.target ? { GOOS: options.target.goos, GOARCH: options.target.goarch } : {}),
    ...(options.extra ?? {}),
  };
}

/** The user a build runs as: a fresh uid when the sandbox says so (root), else ourselves. */
export function buildUserFor(sandbox: Sandbox): BuildUser {
  if (sandbox.freshUsers) return allocateBuildUser();
  return { name: `uid-${process.getuid?.() ?? 'unknown'}` };
}

/** Gives `dir` (recursively) to the build user, so an unprivileged make.bash can write there. */
export async function giveToBuildUser(dir: string, user: BuildUser): Promise<void> {
  if (user.uid === undefined || user.gid === undefined) return;
  await chownTree(dir, user.uid, user.gid);
}

/** Takes `dir` back from the build user (e.g. a bootstrap toolchain), so later builds cannot change it. */
export async function takeBackFromBuildUser(dir: string, user: BuildUser): Promise<void> {
  if (user.uid === undefined || typeof process.getuid !== 'function' || typeof process.getgid !== 'function') return;
  await chownTree(dir, process.getuid(), process.getgid());
}

// lchown, never chown: a symbolic link in the tree (which the repository controls) must not hand its
// target (a key file, say) to the build user. Links are not followed into directories either: a folder
// is walked only when readdir's own entry type says folder (d_type; a link says link). Callers hold the
// tree while no process of a build user is alive (before its first process, or after reapBuildUser), so
// nothing can swap an entry between the listing and the lchown, and the walk can run CHOWN_IN_FLIGHT
// calls at once (a go1.21 tree after a build, 20,000 entries: 1.0 s one at a time, 0.25 s so).
const CHOWN_IN_FLIGHT = 16;

async function chownTree(dir: string, uid: number, gid: number): Promise<void> {
  const info = await lstat(dir);
  await lchown(dir, uid, gid);
  if (!info.isDirectory()) return;
  const entries: string[] = [];
  for (let level = [dir]; level.length > 0; ) {
    const listings = await Promise.all(level.map((folder) => readdir(folder, { withFileTypes: true })));
    const next: string[] = [];
    for (const [i, listing] of listings.entries()) {
      for (const entry of listing) {
        const full = path.join(level[i]!, entry.name);
        entries.push(full);
        if (entry.isDirectory()) next.push(full);
      }
    }
    level = next;
  }
  let taken = 0;
  const worker = async () => {
    for (let i = taken++; i < entries.length; i = taken++) await lchown(entries[i]!, uid, gid);
  };
  await Promise.all(Array.from({ length: Math.min(CHOWN_IN_FLIGHT, entries.length) }, worker));
}

/** make.bash output made fit for a one-line record value (src/infra/text.ts). */
export { printableLine } from '../infra/text.js';

export interface MakeProgress {
  /** A phase line from make.bash (e.g. "Building Go toolchain1 using ..."), with the elapsed seconds. */
  (line: string, elapsedSeconds: number): void;
}

// make.bash's phase lines: "Building Go cmd/dist ...", "Building packages and commands for ...",
// "Packaging archives for ...", and distpack's "distpack: <sha256 prefix> <file>".
const PHASE = /^(Building |Packaging |distpack: |Installed Go |---)/;

/**
 * Runs `bash make.bash [args]` in `<goroot>/src` with exactly `env`, as `user`, in `sandbox` (where only
 * `work`, read-write, and `readOnly` besides /usr are visible), appending its whole output to `logFile`.
 * Resolves with the exit code (never rejects for a failing build) once every process of the build is
 * gone.
 */
export async function runMakeBash(
  options: Omit<SandboxedRun, 'argv' | 'cwd'> & { goroot: string; args: readonly string[] },
): Promise<{ code: number; seconds: number; lastLines: string[] }> {
  const { goroot, args, ...rest } = options;
  const { output: _output, ...run } = await runSandboxed({ ...rest, argv: ['/bin/bash', 'make.bash', ...args], cwd: path.join(goroot, 'src') });
  return run;
}

/** One command in the build sandbox: what runs, where, as whom, seeing what, logged where. */
export interface SandboxedRun {
  argv: readonly string[];
  cwd: string;
  env: Record<string, string>;
  user: BuildUser;
  sandbox: Sandbox;
  work: string;
  readOnly: readonly string[];
  logFile: string;
  onProgress?: MakeProgress;
}

/**
 * Runs `argv` in `cwd` like runMakeBash runs make.bash (same sandbox, user, environment rules, log and
 * reaping): for the commands of a target phase (shared-host.ts). `output` is everything it printed.
 */
export async function runSandboxed(options: SandboxedRun): Promise<{ code: number; seconds: number; lastLines: string[]; output: string }> {
  const started = Date.now();
  const log = createWriteStream(options.logFile, { flags: 'a', mode: 0o644 });
  const lastLines: string[] = [];
  const chunks: Buffer[] = [];
  let partial = '';
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    chunks.push(chunk);
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      lastLines.push(line);
      if (lastLines.length > 20) lastLines.shift();
      if (PHASE.test(line)) options.onProgress?.(line, (Date.now() - started) / 1000);
    }
  };
  const code = await new Promise<number>((resolve, reject) => {
    // Its own process group: once make.bash exits, anything it left running is killed with it, and the
    // build does not wait for processes that still hold its output.
    const [file, args, env] =
      options.sandbox.kind === 'bubblewrap'
        ? [options.sandbox.bwrap!, [...bwrapArguments({ writable: [options.work], readOnly: options.readOnly, cwd: options.cwd, env: options.env }), '--', ...options.argv], {}]
        : [options.argv[0]!, options.argv.slice(1), options.env];
    const child = spawn(file, args, {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      ...(options.user.uid !== undefined ? { uid: options.user.uid, gid: options.user.gid } : {}),
    });
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (error) => reject(new EnvironmentError('MAKE_FAILED_TO_START', `cannot run ${path.basename(options.argv[options.argv[0] === '/bin/bash' ? 1 : 0] ?? '')}: ${error.message}`)));
    child.on('exit', (exitCode, signal) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* the group is already gone */
      }
      const code = exitCode ?? (signal ? 128 : -1);
      // Read what is still in the pipes; a holder outside the group (it cannot be killed) gets 2 s.
      const timer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        resolve(code);
      }, 2000);
      child.on('close', () => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  });
  if (partial) lastLines.push(partial);
  await new Promise<void>((resolve, reject) => log.end((error?: Error | null) => (error ? reject(error) : resolve())));
  // Whatever the build detached (setsid, double fork) dies here, before anyone reads its files.
  await reapBuildUser(options.user);
  return { code, seconds: (Date.now() - started) / 1000, lastLines, output: Buffer.concat(chunks).toString('utf8') };
}
