// The build sandbox: where make.bash (untrusted code from the repository) runs.
//
// Bubblewrap (Debian's `bubblewrap`, https://github.com/containers/bubblewrap) sets up, without any
// privilege of its own, new user, mount, PID, network, IPC, UTS and cgroup namespaces (`--unshare-all`),
// a file system that holds only /usr (read-only), the work tree (read-write), the bootstrap GOROOT
// (read-only), a fresh /tmp, /proc of the new PID namespace and a minimal /dev. It was chosen over
// util-linux `unshare` because it declares the whole mount table in one command and adds what unshare
// does not: `--die-with-parent`, `--new-session` (no TIOCSTI into our terminal), `--clearenv`, and its
// own PID 1 whose exit kills every process left in the namespace (bwrap(1): --unshare-pid), so nothing
// the build started outlives it.
//
// Defence in depth when the witness runs as root: every build runs as a *fresh* uid (never used by any
// process or account on this machine), so one build cannot touch another's tree, and after the build
// every process of that uid is killed (kill(-1) as that uid) and proved gone before the witness touches
// the tree again: no process of the build can race the witness's walks (rm, chown) by swapping a folder
// for a symbolic link.
//
// Without namespaces (`--no-sandbox`), the fresh uid and the reaping still apply when root; when not
// root, only the process group is killed, which a `setsid` child escapes: that mode is loud and recorded.
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, UsageError } from '../errors.js';
import { hasExited, listProcesses } from '../infra/procfs.js';

/** The user a build runs as. */
export interface BuildUser {
  readonly name: string;
  readonly uid?: number;
  readonly gid?: number;
}

/** How make.bash is isolated, as prepared by prepareSandbox (the same for every target of one command). */
export interface Sandbox {
  readonly kind: 'bubblewrap' | 'none';
  /** The bwrap binary (kind bubblewrap). */
  readonly bwrap?: string;
  /** One line for results and records, e.g. "bubblewrap 0.8.0: user mount pid net ipc uts cgroup namespaces". */
  readonly description: string;
  /** A fresh user per build (allocateBuildUser), or the witness's own user. */
  readonly freshUsers: boolean;
}

const BWRAP_CANDIDATES = ['/usr/bin/bwrap', '/bin/bwrap', '/usr/local/bin/bwrap'];

export const NAMESPACES = 'user mount pid net ipc uts cgroup';

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/**
 * Checks, before anything is exported or started, that builds can be isolated here, and returns how.
 * `noSandbox`: run without namespaces (recorded as such). Throws SANDBOX_UNAVAILABLE (exit 2) with the
 * reason bubblewrap gave otherwise.
 */
export function prepareSandbox(options: { noSandbox: boolean; /** Where to look for bwrap (tests). */ bwrap?: readonly string[] }): Sandbox {
  const freshUsers = isRoot();
  if (options.noSandbox) {
    return {
      kind: 'none',
      freshUsers,
      description: freshUsers ? 'none (--no-sandbox): a fresh uid per build, its processes killed after it' : 'none (--no-sandbox): same user, process group killed after the build',
    };
  }
  const bwrap = (options.bwrap ?? BWRAP_CANDIDATES).find((candidate) => existsSync(candidate));
  if (!bwrap) {
    throw new EnvironmentError(
      'SANDBOX_UNAVAILABLE',
      'cannot sandbox make.bash: bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap); or pass --no-sandbox to build without namespaces (recorded in the result)',
    );
  }
  const version = /bubblewrap ([0-9][0-9.]*)/.exec(spawnSync(bwrap, ['--version'], { encoding: 'utf8', env: {} }).stdout ?? '')?.[1] ?? 'unknown';
  // A probe, as a build would run: as a fresh user when root, with every namespace.
  const probeUser = freshUsers ? allocateBuildUser() : undefined;
  const probe = spawnSync(bwrap, [...bwrapArguments({ writable: [], readOnly: [], cwd: '/' }), '--', '/bin/true'], {
    encoding: 'utf8',
    env: {},
    timeout: 20_000,
    ...(probeUser ? { uid: probeUser.uid, gid: probeUser.gid } : {}),
  });
  if (probe.status !== 0) {
    const why = (probe.stderr || probe.error?.message || `exit ${probe.status ?? probe.signal}`).trim().split('\n')[0]!.slice(0, 300);
    throw new EnvironmentError(
      'SANDBOX_UNAVAILABLE',
      `cannot sandbox make.bash: bubblewrap could not create ${NAMESPACES} namespaces here (${why}); enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, or on Ubuntu kernel.apparmor_restrict_unprivileged_userns=0), or pass --no-sandbox (recorded in the result)`,
    );
  }
  return { kind: 'bubblewrap', bwrap, freshUsers, description: `bubblewrap ${version}: ${NAMESPACES} namespaces${freshUsers ? ', a fresh uid per build' : ''}` };
}

/** bwrap's arguments: the namespaces and the mount table (the command follows after `--`). */
export function bwrapArguments(options: { writable: readonly string[]; readOnly: readonly string[]; cwd: string; env?: Readonly<Record<string, string>> }): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv', '--ro-bind', '/usr', '/usr'];
  // /bin, /lib, ... are links into /usr on merged-/usr systems, folders elsewhere.
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const info = lstatOrUndefined(top);
    if (!info) continue;
    if (info.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    else if (info.isDirectory()) args.push('--ro-bind', top, top);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  // Binds after the tmpfs: a work tree under /tmp would be hidden by it otherwise.
  for (const dir of options.readOnly) if (!isUnder(dir, '/usr')) args.push('--ro-bind', dir, dir);
  for (const dir of options.writable) args.push('--bind', dir, dir);
  args.push('--chdir', options.cwd);
  for (const [name, value] of Object.entries(options.env ?? {})) args.push('--setenv', name, value);
  return args;
}

function lstatOrUndefined(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

function isUnder(dir: string, parent: string): boolean {
  const relative = path.relative(parent, dir);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

// Fresh uids come from a range no distribution allocates (useradd stops at 60000, subordinate ids at a
// few million); a candidate is refused if an account, a group or a running process has it.
const FRESH_UID_MIN = 1_900_000_000;
const FRESH_UID_SPAN = 200_000_000;

/** A uid (and gid) that no account, group or process on this machine has: for one build only. */
export function allocateBuildUser(): BuildUser {
  const taken = new Set<number>([...idsIn('/etc/passwd', 2), ...idsIn('/etc/passwd', 3), ...idsIn('/etc/group', 2), ...processUids()]);
  for (let attempt = 0; attempt < 100; attempt++) {
    const uid = FRESH_UID_MIN + randomInt(FRESH_UID_SPAN);
    if (!taken.has(uid)) return { name: `uid-${uid}`, uid, gid: uid };
  }
  throw new EnvironmentError('NO_FRESH_UID', 'cannot find an unused uid for the build');
}

function idsIn(file: string, column: number): number[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => Number(line.split(':')[column]))
      .filter((id) => Number.isInteger(id));
  } catch {
    return [];
  }
}

/** The uids of every process on this machine (real, effective, saved, fs), from /proc. */
function processUids(): number[] {
  return listProcesses().flatMap((proc) => proc.uids);
}

/**
 * The live processes (pids) with `uid` as any of their uids. One that has exited (procfs.ts hasExited:
 * a zombie waiting to be collected) is not one: counting zombies made every reapBuildUser wait about
 * 2 s for this machine's init to collect the inner bwrap of each sandboxed command. Throws
 * PROC_UNREADABLE if /proc cannot be listed: no listing never means no process.
 */
export function processesOf(uid: number): number[] {
  return listProcesses()
    .filter((proc) => proc.uids.includes(uid) && !hasExited(proc))
    .map((proc) => proc.pid);
}

/**
 * Kills every process of the build's fresh uid and proves none is left: kill(-1, SIGKILL) run *as* that
 * uid reaches exactly the processes it could signal (kill(2)), however they detached (setsid, double
 * fork). Throws BUILD_PROCESSES_SURVIVED if any is still there after 10 s.
 */
export async function reapBuildUser(user: BuildUser): Promise<void> {
  if (user.uid === undefined) return;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = processesOf(user.uid);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new EnvironmentError('BUILD_PROCESSES_SURVIVED', `processes of the build user ${user.name} are still running (pids ${left.slice(0, 10).join(', ')}): refusing to touch the build's files`);
    }
    await new Promise<void>((resolve) => {
      // `kill -KILL -1` kills the kill process too; its exit status says nothing.
      const child = spawn('/bin/kill', ['-KILL', '--', '-1'], { uid: user.uid, gid: user.gid, stdio: 'ignore', env: {} });
      child.on('error', () => resolve());
      child.on('exit', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A build's fresh user (allocateBuildUser) must reach the folders its sandbox uses (the work tree, a
 * read-only bootstrap GOROOT): every folder above `dir` must let others search it (o+x), or make.bash
 * fails minutes later with a bare "permission denied". The walk is over the real path (symbolic links
 * resolved: the sandbox opens what they point to). `option` names the flag that chose the folder. With
 * `missingOk`, folders not made yet are allowed when this process would make them searchable (its umask
 * keeps o+x): the caller checks before anything is written and makes them after.
 */
export async function assertBuildUserMayEnter(dir: string, option: string, missingOk = false): Promise<void> {
  const wanted = path.resolve(dir);
  // The deepest folder that exists, and what of the path is still to be made below it.
  let existing = wanted;
  for (;;) {
    const info = await stat(existing).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw new UsageError('WORK_NOT_REACHABLE', `the ${option} folder ${wanted} cannot be examined: ${error.message}`);
    });
    if (info) break;
    if (!missingOk) throw new UsageError('WORK_NOT_FOUND', `the ${option} folder ${wanted} does not exist`);
    if ((process.umask() & 0o001) !== 0) {
      throw new UsageError(
        'WORK_NOT_REACHABLE',
        `the ${option} folder ${wanted} does not exist, and this process's umask (${process.umask().toString(8).padStart(3, '0')}) would make it closed to the build's own user; create it with o+x first`,
      );
    }
    const parent = path.dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  const real = await realpath(existing);
  const realWanted = path.join(real, path.relative(existing, wanted));
  for (let current = real; ; current = path.dirname(current)) {
    const info = await stat(current);
    if ((info.mode & 0o001) === 0) {
      throw new UsageError(
        'WORK_NOT_REACHABLE',
        `the build's own user cannot reach ${wanted}${realWanted !== wanted ? ` (really ${realWanted})` : ''}: ${current} does not let others enter it (mode ${(info.mode & 0o777).toString(8)}); choose a ${option} folder whose parents have o+x`,
      );
    }
    if (path.dirname(current) === current) return;
  }
}
