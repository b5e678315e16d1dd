// Recovery of the log folder after an interrupted append (a crash, a kill) and of the git locks a killed
// witness left behind. An append writes tiles, then the signed checkpoint (its commit point on disk),
// then views, then one git commit: before the checkpoint the append is discarded, after it the append is
// rolled forward, never back, since a signed checkpoint may have been read.
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { VerificationError } from '../errors.js';
import { TEMP_PREFIX } from '../infra/files.js';
import { type GitLocation, git, headCommit, readObjects, repositoryPath } from '../infra/git.js';
import { processAlive } from '../infra/lock.js';
import { hasExited, listProcesses, workingDirectoryOf } from '../infra/procfs.js';
import type { VerifierKey } from '../tlog/note.js';
import { commitLogFolder, literalPathspec } from './commit.js';
import { CHECKPOINT_FILE, isMetadataFile, listLogFiles, logFile, tryParseTilePath } from './layout.js';
import type { LogSource } from './source.js';
import { verifyLogFolder } from './verify.js';

/** What recovery needs of the log it recovers (src/log/log.ts WitnessLog). */
export interface RecoverableLog {
  readonly dir: string;
  readonly source: LogSource;
  readonly origin: string;
  readonly verifierKey: VerifierKey;
  /** Regenerates every derived view from the current (verified) entries. */
  writeViews(): Promise<void>;
}

/**
 * Brings the folder back to a committed state after an interrupted append:
 * - temporary files are removed;
 * - if the checkpoint on disk equals the committed one, tiles written after it (untracked tile files)
 *   are removed: that append never happened;
 * - if the checkpoint on disk is newer, the append got past its commit point: the folder is verified and
 *   committed (rolled forward), never discarded, since a signed checkpoint may have been read.
 * Anything else (a modified or deleted committed file, an unknown file) stops the append.
 */
export async function recoverLogFolder(log: RecoverableLog, location: GitLocation): Promise<void> {
  for (const file of await listLogFiles(log.dir, true)) {
    if (path.posix.basename(file).startsWith(TEMP_PREFIX)) await rm(logFile(log.dir, file), { force: true });
  }
  const cwd = location.topLevel;
  const pathspec = literalPathspec(location.prefix);
  const head = await headCommit(cwd);
  if (head) await git(['reset', '--quiet', 'HEAD', '--', pathspec], { cwd, okCodes: [1] });
  const status = await git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--ignored=matching', '--no-renames', '--', pathspec], { cwd });
  const changes = status.stdout
    .toString('utf8')
    .split('\0')
    .filter((line) => line !== '')
    .map((line) => ({ code: line.slice(0, 2), file: line.slice(3) }));
  if (changes.length === 0) return;
  const relative = (file: string) => (location.prefix === '' ? file : file.slice(location.prefix.length + 1));
  const checkpointPath = repositoryPath(location, CHECKPOINT_FILE);
  const [committed] = head ? await readObjects(cwd, [`${head}:${checkpointPath}`]) : [undefined];
  const onDiskBytes = await log.source.read(CHECKPOINT_FILE);
  const onDisk = onDiskBytes === undefined ? undefined : Buffer.from(onDiskBytes);
  if (committed && onDisk && committed.equals(onDisk)) {
    for (const { code, file } of changes) {
      const name = relative(file);
      if ((code === '??' || code === '!!') && tryParseTilePath(name)) {
        await rm(logFile(log.dir, name), { force: true });
        continue;
      }
      throw new VerificationError(
        'LOG_DIRTY',
        `${name} in the log folder differs from the committed log (git status ${code.trim()}); it was not written by an append. Run witness verify, and restore or remove it`,
      );
    }
    return;
  }
  // The checkpoint on disk is not the committed one: the append got past its commit point. Only files an
  // append writes may differ; regenerate the views (it may have died before writing them), verify the
  // folder, then complete the commit.
  for (const { code, file } of changes) {
    const name = relative(file);
    if (!tryParseTilePath(name) && !isMetadataFile(name)) {
      throw new VerificationError('LOG_DIRTY', `${name} in the log folder (git status ${code.trim()}) was not written by an append; remove it, then run again`);
    }
  }
  await log.writeViews();
  const report = await verifyLogFolder(log.dir, { verifierKey: log.verifierKey.text, history: true });
  if (report.size === 0n && !committed) {
    await commitLogFolder(location, `witness-log: create log ${log.origin} (completed after interruption)\n\n${onDisk?.toString('utf8') ?? ''}`);
    return;
  }
  await commitLogFolder(location, `witness-log: complete interrupted append (size ${report.size})\n\n${onDisk?.toString('utf8') ?? ''}`);
}

/** How long a witness that took over a dead one's lock waits for a git command still running in the repository. */
const GIT_FINISH_WAIT_MS = 15_000;

/**
 * A witness killed while one of its git commands held a git lock (the whole process group killed, or the
 * machine stopped) leaves `index.lock`, `HEAD.lock` or the branch's ref lock behind. When we take over a
 * stale witness lock, such a git lock is removed only if it is no older than the dead witness's lock and
 * no git process is running in this repository now (checked through /proc; elsewhere nothing is
 * removed and git's own "File exists" error tells the user what to do).
 */
export async function removeStaleGitLocks(location: GitLocation, staleSinceMs: number): Promise<void> {
  // A witness killed alone (not its process group) leaves its git command running, holding index.lock
  // for the moment it still needs: wait for it (bounded), or recovery's own git fails on that lock.
  const deadline = Date.now() + GIT_FINISH_WAIT_MS;
  while (gitRunningIn(location) === true && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  for (const name of await readdir(location.gitDir)) {
    const match = /^go-source-witness-index-(\d+)(\.lock)?$/.exec(name);
    if (match && !processAlive(Number(match[1]))) await rm(path.join(location.gitDir, name), { force: true });
  }
  const branch = await git(['symbolic-ref', '--quiet', 'HEAD'], { cwd: location.topLevel, okCodes: [1, 128] });
  const candidates = ['index.lock', 'HEAD.lock'];
  const ref = branch.stdout.toString('utf8').trim();
  if (branch.code === 0 && /^refs\/[A-Za-z0-9._/-]+$/.test(ref)) candidates.push(`${ref}.lock`);
  const present: string[] = [];
  for (const name of candidates) {
    const file = path.join(location.gitDir, ...name.split('/'));
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtimeMs >= staleSinceMs - 1000) present.push(file);
  }
  if (present.length === 0 || gitRunningIn(location) !== false) return;
  for (const file of present) await rm(file, { force: true });
}

/**
 * Whether a git process runs with its working directory in this repository; undefined if unknown (/proc
 * or a git's working directory unreadable). One that has exited (procfs.ts hasExited) holds no lock.
 */
function gitRunningIn(location: GitLocation): boolean | undefined {
  try {
    for (const proc of listProcesses()) {
      if (!proc.name.startsWith('git') || hasExited(proc)) continue;
      const cwd = workingDirectoryOf(proc.pid);
      if (cwd !== undefined && (isInside(cwd, location.topLevel) || isInside(cwd, location.gitDir))) return true;
    }
    return false;
  } catch {
    return undefined;
  }
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}
