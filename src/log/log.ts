// The witness log: a C2SP tlog-tiles log in a folder tracked by git. Each append writes new tiles and
// entry bundles, then the signed checkpoint (the commit point on disk), then one git commit whose
// message carries the checkpoint. A crash at any point leaves a folder that `verify` accepts at the
// old or the new size; the next append finishes or discards the interrupted one.
import { readFile, readdir, readlink, rm, stat, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { EnvironmentError, FormatError, UsageError, VerificationError } from '../errors.js';
import { type Checkpoint, formatCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual, encodeBase64 } from '../tlog/encoding.js';
import { EMPTY_TREE_HASH, type Hash, leafHash } from '../tlog/merkle.js';
import { type SignerKey, type VerifierKey, parseVerifierKey, signNote, verifierKeyOf } from '../tlog/note.js';
import { noteSigner } from '../tlog-node/signer.js';
import {
  TILE_WIDTH,
  type TileRef,
  TileBuilder,
  encodeEntryBundle,
  encodeHashTile,
  parseTilePath,
  tileCounts,
  tilePath,
} from '../tlog/tile.js';
import { TEMP_PREFIX, writeFileAtomic } from './files.js';
import { type GitLocation, git, gitText, headCommit, locateGit, readObjects, repositoryPath } from './git.js';
import {
  CHECKPOINT_FILE,
  GITATTRIBUTES_CONTENT,
  GITATTRIBUTES_FILE,
  METADATA_FILES,
  VERIFIER_KEY_FILE,
  buildLogHash,
  logFile,
} from './layout.js';
import { crashPoint } from './crash-points.js';
import { acquireLock, processAlive } from './lock.js';
import { type OpenOptions, LogReader, openLogCheckpoint } from './reader.js';
import { type LogRecord, formatRecord, parseRecord } from './record.js';
import { VIEW_FILES, VIEW_RECORD_TYPES, deriveViews, isViewFile } from './views.js';
import { folderSource } from './source.js';
import { verifyLogFolder } from './verify.js';

export interface AppendOptions {
  /** Title of the git commit (after "witness-log: "). */
  readonly summary?: string;
  /** Refuse to append (LOG_CHANGED) unless the log still has this size: the caller planned against it. */
  readonly expectedSize?: bigint;
  /** Content-addressed files written with the append (build logs: `build-logs/<sha256>.log`). */
  readonly attachments?: ReadonlyArray<{ readonly path: string; readonly content: Uint8Array }>;
}

export interface AppendResult {
  readonly oldSize: bigint;
  readonly newSize: bigint;
  /** The new signed checkpoint. */
  readonly checkpoint: string;
  /** The git commit that holds this append. */
  readonly commit: string;
}

/** Identity used for log commits when git has none configured. */
const COMMIT_IDENTITY = { name: 'go-source-witness', email: 'go-source-witness@localhost' };

export class WitnessLog extends LogReader {
  /** The log folder. */
  readonly dir: string;

  private constructor(dir: string, verifierKey: VerifierKey, verifierKeyPinned: boolean) {
    super(folderSource(dir), verifierKey, verifierKeyPinned);
    this.dir = dir;
  }

  /** Opens an existing log folder for appending (reading needs no git). */
  static override async open(dir: string, options: OpenOptions = {}): Promise<WitnessLog> {
    const absolute = path.resolve(dir);
    const folder = await stat(absolute).catch(() => undefined);
    if (!folder?.isDirectory()) {
      throw new EnvironmentError('LOG_NOT_FOUND', `no log folder at ${absolute}`);
    }
    const reader = await LogReader.open(folderSource(absolute), options);
    return new WitnessLog(absolute, reader.verifierKey, reader.verifierKeyPinned);
  }

  /**
   * Creates a log in `dir` (created if needed; `git init` if it is not inside a git work tree), with its
   * verifier key, .gitattributes and the signed checkpoint of the empty tree, in one commit.
   * The origin is the key name (c2sp.org/tlog-checkpoint: the log's key name SHOULD be the origin).
   */
  /**
   * Refuses a folder a new log cannot be created in: one that holds anything beyond what an init that
   * died before its checkpoint writes. Writes nothing (the CLI checks before it generates a key).
   */
  static async assertNewLogFolder(dir: string): Promise<void> {
    const absolute = path.resolve(dir);
    const existing = await readdir(absolute).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      if (error.code === 'ENOTDIR') throw new UsageError(`${absolute} is not a folder`, 'LOG_EXISTS');
      throw new EnvironmentError('LOG_UNREADABLE', `cannot read ${absolute}: ${error.message}`);
    });
    const initFiles = new Set(['.git', GITATTRIBUTES_FILE, VERIFIER_KEY_FILE, ...VIEW_FILES]);
    if (existing.some((name) => !initFiles.has(name) && !name.startsWith(TEMP_PREFIX))) {
      throw new UsageError(`${absolute} is not empty; a new log needs an empty folder`, 'LOG_EXISTS');
    }
  }

  static async init(dir: string, signerKey: SignerKey): Promise<{ log: WitnessLog; commit: string }> {
    const absolute = path.resolve(dir);
    // Empty, or holding only what an init that died before its checkpoint writes: start over.
    await WitnessLog.assertNewLogFolder(absolute);
    await mkdir(absolute, { recursive: true });
    const existing = await readdir(absolute);
    for (const name of existing) if (name.startsWith(TEMP_PREFIX)) await rm(path.join(absolute, name), { force: true });
    let location = await locateGit(absolute);
    if (!location) {
      await git(['init', '--quiet'], { cwd: absolute });
      location = await locateGit(absolute);
      if (!location) throw new EnvironmentError('GIT_FAILED', `git init in ${absolute} did not create a repository`);
    }
    const vkey = verifierKeyOf(signerKey);
    const log = new WitnessLog(absolute, parseVerifierKey(vkey), true);
    const lock = await acquireLock(path.join(location.gitDir, 'go-source-witness.lock'));
    try {
      await writeFileAtomic(logFile(absolute, GITATTRIBUTES_FILE), GITATTRIBUTES_CONTENT);
      await writeFileAtomic(logFile(absolute, VERIFIER_KEY_FILE), `${vkey}\n`);
      for (const [file, content] of deriveViews([])) await writeFileAtomic(logFile(absolute, file), content);
      const text = formatCheckpoint({ origin: signerKey.name, size: 0n, rootHash: EMPTY_TREE_HASH, extensions: [] });
      const signed = signNote(text, [noteSigner(signerKey)]);
      await writeFileAtomic(logFile(absolute, CHECKPOINT_FILE), signed);
      const commit = await log.commitFolder(location, `witness-log: create log ${signerKey.name}\n\n${signed}`);
      return { log, commit };
    } finally {
      await lock.release();
    }
  }

  /**
   * Appends records (or raw entries) as one signed checkpoint and one git commit. Exclusive (a lock in the
   * git dir); recovers from an interrupted earlier append first. Fails without changing anything if the
   * signer key is not the log's key or the current state does not verify.
   */
  async append(
    records: ReadonlyArray<LogRecord | Uint8Array>,
    signerKey: SignerKey,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    if (verifierKeyOf(signerKey) !== this.verifierKey.text) {
      throw new UsageError(
        `the signing key ${signerKey.name} does not match the log's verifier key ${this.verifierKey.text}`,
        'WRONG_SIGNING_KEY',
      );
    }
    if (records.length === 0) throw new UsageError('nothing to append', 'EMPTY_APPEND');
    const entries = records.map((record) => (record instanceof Uint8Array ? record : formatRecord(record)));
    // Every entry must be a well-formed record (verify parses them all); refuse before touching anything.
    const parsed = entries.map((entry, i) => {
      try {
        return parseRecord(entry);
      } catch (error) {
        throw new FormatError('MALFORMED_RECORD', `entry ${i} of the append is not a record: ${(error as Error).message}`, { cause: error });
      }
    });
    for (const attachment of options.attachments ?? []) {
      const hash = buildLogHash(attachment.path);
      if (hash === undefined || createHash('sha256').update(attachment.content).digest('hex') !== hash) {
        throw new UsageError(`attachment ${attachment.path} is not build-logs/<sha256 of its content>.log`, 'BAD_ATTACHMENT');
      }
    }
    const location = await this.requireGit();
    const lock = await acquireLock(path.join(location.gitDir, 'go-source-witness.lock'));
    try {
      if (lock.tookOverFrom) await removeStaleGitLocks(location, lock.tookOverFrom.sinceMs);
      await this.recover(location);
      const current = await this.readCheckpoint();
      const oldSize = current.checkpoint.size;
      if (options.expectedSize !== undefined && options.expectedSize !== oldSize) {
        throw new EnvironmentError(
          'LOG_CHANGED',
          `the log grew from size ${options.expectedSize} to ${oldSize} while this append was prepared; run the command again`,
        );
      }

      // Load the right edge of the tree and authenticate it against the signed root before extending it.
      const edges: Hash[][] = [];
      for (let level = 0; ; level++) {
        const { fullCount, partialWidth } = tileCounts(oldSize, level);
        edges.push(partialWidth > 0 ? await this.readHashTile({ level, index: fullCount, width: partialWidth }) : []);
        if (fullCount === 0n) break;
      }
      const builder = new TileBuilder(oldSize, edges);
      if (!bytesEqual(builder.root(), current.checkpoint.rootHash)) {
        throw new VerificationError(
          'LOG_CORRUPT',
          `the right-edge tiles do not hash to the checkpoint root ${encodeBase64(current.checkpoint.rootHash)}; run witness verify`,
        );
      }
      const { fullCount: bundleStart, partialWidth: pendingCount } = tileCounts(oldSize, 0);
      const pending = pendingCount > 0 ? await this.readEntryBundle(bundleStart, oldSize) : [];
      pending.forEach((entry, i) => {
        if (!bytesEqual(leafHash(entry), edges[0]![i]!)) {
          throw new VerificationError(
            'LOG_CORRUPT',
            `${tilePath({ level: 'entries', index: bundleStart, width: pendingCount })} entry ${i} does not match its leaf hash; run witness verify`,
          );
        }
      });

      // Views are computed before anything is written: folding the records checks their invariants.
      const affectsViews = parsed.some((record) => VIEW_RECORD_TYPES.has(record.type)) || !(await this.viewsExist());
      const views = affectsViews
        ? deriveViews([
            ...(await this.readViewRecords()),
            ...parsed.map((record, i) => ({ index: oldSize + BigInt(i), record })),
          ])
        : undefined;

      // Attachments are content-addressed: writing one early changes nothing any reader trusts.
      for (const attachment of options.attachments ?? []) await writeFileAtomic(logFile(this.dir, attachment.path), attachment.content);
      // Tiles and bundles first (new paths, or identical content for full tiles), the checkpoint last.
      const fullTiles = builder.append(entries.map((entry) => leafHash(entry)));
      const bundled = [...pending, ...entries];
      for (let i = 0; i < bundled.length; i += TILE_WIDTH) {
        const chunk = bundled.slice(i, i + TILE_WIDTH);
        const ref: TileRef = { level: 'entries', index: bundleStart + BigInt(i / TILE_WIDTH), width: chunk.length };
        await writeFileAtomic(logFile(this.dir, tilePath(ref)), encodeEntryBundle(chunk));
      }
      for (const tile of [...fullTiles, ...builder.partialTiles()]) {
        await writeFileAtomic(logFile(this.dir, tilePath(tile.ref)), encodeHashTile(tile.hashes));
      }
      crashPoint('after-tiles');
      const checkpoint: Checkpoint = { origin: this.origin, size: builder.size, rootHash: builder.root(), extensions: [] };
      const signed = signNote(formatCheckpoint(checkpoint), [noteSigner(signerKey)]);
      openLogCheckpoint(signed, this.verifier, this.origin, 'new checkpoint');
      await writeFileAtomic(logFile(this.dir, CHECKPOINT_FILE), signed);
      crashPoint('after-checkpoint');
      // Views after the checkpoint: a crash before this point leaves views that match the old size.
      for (const [file, content] of views ?? []) await writeFileAtomic(logFile(this.dir, file), content);
      crashPoint('after-views');
      await this.removeObsoletePartialTiles(builder.size);
      const title = options.summary ?? `append ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`;
      const commit = await this.commitFolder(location, `witness-log: ${title} (size ${oldSize} -> ${builder.size})\n\n${signed}`);
      return { oldSize, newSize: builder.size, checkpoint: signed, commit };
    } finally {
      await lock.release();
    }
  }

  private async viewsExist(): Promise<boolean> {
    for (const file of VIEW_FILES) {
      if (!(await stat(logFile(this.dir, file)).catch(() => undefined))) return false;
    }
    return true;
  }

  /** The records views are derived from, among the current entries, all verified against the signed root. */
  private async readViewRecords(): Promise<Array<{ index: bigint; record: LogRecord }>> {
    const records: Array<{ index: bigint; record: LogRecord }> = [];
    (await this.readVerifiedEntries()).entries.forEach((entry, i) => {
      const record = tryParseRecord(entry);
      if (record && VIEW_RECORD_TYPES.has(record.type)) records.push({ index: BigInt(i), record });
    });
    return records;
  }

  /** Regenerates every derived view from the current (verified) entries. */
  private async writeViews(): Promise<void> {
    for (const [file, content] of deriveViews(await this.readViewRecords())) {
      await writeFileAtomic(logFile(this.dir, file), content);
    }
  }

  private async requireGit(): Promise<GitLocation> {
    const location = await locateGit(this.dir);
    if (!location) {
      throw new EnvironmentError('NOT_A_GIT_REPOSITORY', `${this.dir} is not inside a git work tree; appends are git commits`);
    }
    return location;
  }

  /** Partial tiles whose full tile exists may be deleted (c2sp.org/tlog-tiles); keep the others for clients. */
  private async removeObsoletePartialTiles(size: bigint): Promise<void> {
    for (const file of await listLogFiles(this.dir)) {
      const ref = tryParseTilePath(file);
      if (!ref || ref.width === TILE_WIDTH) continue;
      const { fullCount } = tileCounts(size, ref.level === 'entries' ? 0 : ref.level);
      if (ref.index < fullCount) await rm(logFile(this.dir, file), { force: true });
    }
  }

  /** Commits the log folder as it is on disk: a private index, commit-tree, and a compare-and-swap of HEAD. */
  private async commitFolder(location: GitLocation, message: string): Promise<string> {
    const cwd = location.topLevel;
    const pathspec = literalPathspec(location.prefix);
    const head = await headCommit(cwd);
    const indexFile = path.join(location.gitDir, `go-source-witness-index-${process.pid}`);
    const env = { GIT_INDEX_FILE: indexFile };
    try {
      // Our private index (and a lock on it left by a dead process that had our pid) is ours to reset.
      await rm(indexFile, { force: true });
      await rm(`${indexFile}.lock`, { force: true });
      if (head) await git(['read-tree', head], { cwd, env });
      await git(['add', '--all', '--force', '--', pathspec, `:(exclude,glob)${globEscape(location.prefix === '' ? '' : `${location.prefix}/`)}**/${TEMP_PREFIX}*`], { cwd, env });
      const tree = (await gitText(['write-tree'], { cwd, env })).trim();
      crashPoint('after-private-index');
      if (head && (await gitText(['rev-parse', `${head}^{tree}`], { cwd })).trim() === tree) return head;
      const identity = await commitIdentity(cwd);
      const commit = (
        await gitText(['commit-tree', tree, ...(head ? ['-p', head] : []), '-F', '-'], { cwd, input: message, env: identity })
      ).trim();
      // Stage the new state in the user's index first (log folder only): if we die before the ref moves,
      // the index holds a forward change that a later `git commit` would commit, never a rollback.
      await git(['reset', '--quiet', commit, '--', pathspec], { cwd, okCodes: [1] });
      crashPoint('after-index-reset');
      // Compare-and-swap: fails if HEAD moved since we read it (another writer outside our lock).
      await git(['update-ref', '-m', 'go-source-witness: append', 'HEAD', commit, head ?? '0'.repeat(40)], { cwd });
      crashPoint('after-update-ref');
      return commit;
    } finally {
      await rm(indexFile, { force: true });
    }
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
  private async recover(location: GitLocation): Promise<void> {
    for (const file of await listLogFiles(this.dir, true)) {
      if (path.posix.basename(file).startsWith(TEMP_PREFIX)) await rm(logFile(this.dir, file), { force: true });
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
    const onDiskBytes = await this.source.read(CHECKPOINT_FILE);
    const onDisk = onDiskBytes === undefined ? undefined : Buffer.from(onDiskBytes);
    if (committed && onDisk && committed.equals(onDisk)) {
      for (const { code, file } of changes) {
        const name = relative(file);
        if ((code === '??' || code === '!!') && tryParseTilePath(name)) {
          await rm(logFile(this.dir, name), { force: true });
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
    await this.writeViews();
    const report = await verifyLogFolder(this.dir, { verifierKey: this.verifierKey.text, history: true });
    if (report.size === 0n && !committed) {
      await this.commitFolder(location, `witness-log: create log ${this.origin} (completed after interruption)\n\n${onDisk?.toString('utf8') ?? ''}`);
      return;
    }
    await this.commitFolder(location, `witness-log: complete interrupted append (size ${report.size})\n\n${onDisk?.toString('utf8') ?? ''}`);
  }
}

function tryParseRecord(entry: Uint8Array): LogRecord | undefined {
  try {
    return parseRecord(entry);
  } catch {
    return undefined;
  }
}

export function tryParseTilePath(file: string): TileRef | undefined {
  try {
    return parseTilePath(file);
  } catch {
    return undefined;
  }
}

/** Files below the log folder, slash-separated and relative; hidden files only when `includeHidden`. */
export async function listLogFiles(dir: string, includeHidden = false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, ...relative.split('/').filter(Boolean)), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      if (!includeHidden && entry.name.startsWith('.') && entry.name !== GITATTRIBUTES_FILE) continue;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else out.push(child);
    }
  };
  await walk('');
  return out.sort();
}

/** Files of the log folder that are neither tiles nor unknown: checkpoint, key, attributes, views. */
export function isMetadataFile(file: string): boolean {
  return (METADATA_FILES as readonly string[]).includes(file) || isViewFile(file) || buildLogHash(file) !== undefined;
}

/** Git identity for log commits: the configured one, else a fixed witness identity. */
async function commitIdentity(cwd: string): Promise<Record<string, string>> {
  const configured = await git(['var', 'GIT_AUTHOR_IDENT'], { cwd, okCodes: [128] });
  if (configured.code === 0) return {};
  return {
    GIT_AUTHOR_NAME: COMMIT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: COMMIT_IDENTITY.email,
    GIT_COMMITTER_NAME: COMMIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: COMMIT_IDENTITY.email,
  };
}

/**
 * A witness killed while one of its git commands held a git lock (the whole process group killed, or the
 * machine stopped) leaves `index.lock`, `HEAD.lock` or the branch's ref lock behind. When we take over a
 * stale witness lock, such a git lock is removed only if it is no older than the dead witness's lock and
 * no git process is running in this repository now (checked through /proc; elsewhere nothing is
 * removed and git's own "File exists" error tells the user what to do).
 */
async function removeStaleGitLocks(location: GitLocation, staleSinceMs: number): Promise<void> {
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
  if (present.length === 0 || (await gitRunningIn(location)) !== false) return;
  for (const file of present) await rm(file, { force: true });
}

/** Whether a git process runs with its working directory in this repository; undefined if unknown. */
async function gitRunningIn(location: GitLocation): Promise<boolean | undefined> {
  let pids: string[];
  try {
    pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
    if (!comm.startsWith('git')) continue;
    // A killed git is a zombie until it is reaped: it holds no lock any more (and has no cwd to read).
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    const processState = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (stat === '' || processState === 'Z' || processState === 'X') continue;
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => undefined);
    if (cwd === undefined) return undefined;
    if (isInside(cwd, location.topLevel) || isInside(cwd, location.gitDir)) return true;
  }
  return false;
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** A pathspec that matches `prefix` literally (no glob characters), relative to the top level. */
function literalPathspec(prefix: string): string {
  return prefix === '' ? ':(literal).' : `:(literal)${prefix}`;
}

/** Escapes glob characters, for a folder name inside a glob pathspec. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

