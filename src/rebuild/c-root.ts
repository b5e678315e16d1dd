// A bootstrap root built from C: Go 1.4, the last Go whose toolchain is written in C, from the Go
// repository's `release-branch.go1.4` (what gorebuild builds on linux/amd64 when it bootstraps from
// scratch, https://go.googlesource.com/build/+/refs/heads/master/cmd/gorebuild/build.go), by go1.4's own
// src/make.bash with CC set to Debian's gcc or clang and CGO_ENABLED=0, in the same sandbox as every
// make.bash (sandbox.ts), without any GOROOT_BOOTSTRAP. From it, `witness bootstrap` builds the chain
// 1.4 -> 1.17 -> 1.20 -> ... (bootstrap.ts).
//
// The branch is a branch, not a tag: its head is checked against the head the witness log recorded
// (bootstrap records, bootstrap-record.ts) and refused when it differs unless accepted explicitly; the
// accepted head is logged when the build results that used it are ingested.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { EnvironmentError, UsageError, VerificationError } from '../errors.js';
import { git } from '../infra/git.js';
import { resolveRevision } from '../gitsrc/tree.js';
import { BUILD_PATH } from './make.js';

/** The branch Go 1.4 is built from. */
export const GO14_BRANCH = 'release-branch.go1.4';

/** The C compilers `--cc` accepts, each at its Debian path (the sandbox shows make.bash /usr only). */
export const C_COMPILERS: Readonly<Record<string, string>> = { gcc: '/usr/bin/gcc', clang: '/usr/bin/clang' };

export interface CCompiler {
  /** gcc or clang. */
  readonly name: string;
  /** The path make.bash gets as CC (under /usr). */
  readonly path: string;
  /** "12.2.0". */
  readonly version: string;
  /** The first line of `--version`, e.g. "gcc (Debian 12.2.0-14+deb12u1) 12.2.0". */
  readonly versionLine: string;
  /** SHA-256 of the compiler driver the path resolves to. */
  readonly sha256: string;
}

/** "gcc 12.2.0": how results and records name the compiler. */
export function compilerLabel(compiler: CCompiler): string {
  return `${compiler.name} ${compiler.version}`;
}

/** Finds and identifies the named C compiler; exit 2 when it is not installed or does not answer. */
export function detectCompiler(name: string): CCompiler {
  const file = C_COMPILERS[name];
  if (!file) throw new UsageError('BAD_COMPILER', `--cc ${JSON.stringify(name)}: use one of ${Object.keys(C_COMPILERS).join(', ')}`);
  let real: string;
  try {
    real = realpathSync(file);
  } catch {
    throw new EnvironmentError('COMPILER_MISSING', `${file} is not installed (Debian: apt-get install ${name})`);
  }
  if (!real.startsWith('/usr/')) throw new EnvironmentError('COMPILER_MISSING', `${file} resolves to ${real}, outside /usr: the build sandbox would not see it`);
  const run = (args: string[]) => {
    const out = spawnSync(file, args, { encoding: 'utf8', env: { PATH: BUILD_PATH, LANG: 'C' }, timeout: 20_000 });
    if (out.status !== 0) throw new EnvironmentError('COMPILER_MISSING', `${file} ${args.join(' ')} failed: ${(out.stderr || out.error?.message || `exit ${out.status}`).trim().slice(0, 200)}`);
    return out.stdout.trim();
  };
  const versionLine = run(['--version']).split('\n')[0]!.trim();
  // gcc -dumpversion says only "12" since gcc 7; -dumpfullversion says "12.2.0". clang says "14.0.6".
  const version = run([name === 'gcc' ? '-dumpfullversion' : '-dumpversion']).split('\n')[0]!.trim();
  if (!/^[0-9][0-9A-Za-z.+~-]{0,31}$/.test(version)) throw new EnvironmentError('COMPILER_MISSING', `${file} reports version ${JSON.stringify(version.slice(0, 40))}`);
  return { name, path: file, version, versionLine: versionLine.replace(/\s+/g, ' ').slice(0, 200), sha256: createHash('sha256').update(readFileSync(real)).digest('hex') };
}

export interface BranchHead {
  readonly branch: string;
  /** The ref it was read from (refs/heads/<branch>, or refs/remotes/origin/<branch> in a clone). */
  readonly ref: string;
  readonly commit: string;
  readonly tree: string;
}

/** The branch's head commit and tree in the repository. */
export async function resolveBranchHead(repository: string, branch = GO14_BRANCH): Promise<BranchHead> {
  for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
    const commit = await resolveRevision(repository, `${ref}^{commit}`);
    if (!commit) continue;
    const tree = await resolveRevision(repository, `${ref}^{tree}`);
    if (tree) return { branch, ref, commit, tree };
  }
  throw new EnvironmentError('BRANCH_NOT_FOUND', `${repository} has no branch ${branch} (refs/heads/${branch} or refs/remotes/origin/${branch}): fetch it (git fetch origin ${branch}:${branch})`);
}

/** The head of a branch as the witness log last recorded it (bootstrap-record.ts recordedBranchHeads). */
export interface RecordedHead {
  readonly commit: string;
  readonly index: bigint;
}

/**
 * Refuses a branch head that is not the one the log recorded, unless `accept`: exit 1 when the log
 * recorded another head, exit 2 when it recorded none yet. Returns what to say about it.
 */
export function checkBranchHead(head: BranchHead, recorded: RecordedHead | undefined, accept: boolean): string {
  if (recorded && recorded.commit === head.commit) return `${head.branch} at ${head.commit}: the head the witness log recorded (log index ${recorded.index})`;
  if (!recorded) {
    if (!accept) {
      throw new UsageError(
        'BRANCH_HEAD_UNRECORDED',
        `the witness log has recorded no head of ${head.branch} yet; its head here is ${head.commit} (tree ${head.tree}): check it (git log ${head.ref}) and pass --accept-branch-head to build from it (the head is logged at ingest)`,
      );
    }
    return `${head.branch} at ${head.commit}: ACCEPTED (--accept-branch-head; the log recorded no head yet; logged at ingest)`;
  }
  if (!accept) {
    throw new VerificationError(
      'BRANCH_HEAD_MOVED',
      `${head.branch} in the repository is at ${head.commit}, but the witness log (index ${recorded.index}) records its head at ${recorded.commit}: refusing to build from a moved branch; check the new commits (git log ${recorded.commit}..${head.ref}) and pass --accept-branch-head to accept the new head (logged at ingest)`,
    );
  }
  return `${head.branch} at ${head.commit}: ACCEPTED (--accept-branch-head), the log recorded ${recorded.commit} (index ${recorded.index}); the new head is logged at ingest`;
}

/** The Go version the branch's VERSION file names (go1.4-bootstrap-20170531). */
export async function branchVersion(repository: string, head: BranchHead): Promise<string> {
  const shown = await git(['cat-file', 'blob', `${head.tree}:VERSION`], { cwd: repository }).catch(() => undefined);
  const version = shown?.stdout.toString('utf8').split('\n')[0]?.trim();
  if (!version || !/^go1\.4[0-9A-Za-z.+-]{0,36}$/.test(version)) {
    throw new EnvironmentError('BAD_BRANCH', `${head.branch} (${head.commit}) has no VERSION file naming a go1.4 version`);
  }
  return version;
}

/**
 * The cache identity of Go 1.4 built from C: what it is built from (commit, tree) and by (the compiler,
 * its version and the bytes of its driver). The same inputs find the same toolchain; its GOROOT is
 * still re-hashed against its manifest on every use.
 */
export function cRootId(head: BranchHead, compiler: CCompiler): string {
  return createHash('sha256').update(['c', head.commit, head.tree, compiler.path, compiler.versionLine, compiler.sha256].join('\n')).digest('hex').slice(0, 12);
}

/**
 * The environment make.bash of go1.4 gets beyond the scrubbed base (no GOROOT_BOOTSTRAP: it needs none).
 * GOROOT_FINAL is where the GOROOT ends up: go1.4 bakes it into its binaries (its go command fails when
 * that folder is gone), and the build runs in a work folder that is then moved there.
 */
export function cRootEnvironment(compiler: CCompiler, finalGoroot: string): Record<string, string> {
  return { CC: compiler.path, CGO_ENABLED: '0', GOROOT_FINAL: finalGoroot };
}
