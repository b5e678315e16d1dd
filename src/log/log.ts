// The witness log: a C2SP tlog-tiles log in a folder tracked by git. Each append writes new tiles and
// entry bundles, then the signed checkpoint (the commit point on disk), then one git commit whose
// message carries the checkpoint. A crash at any point leaves a folder that `verify` accepts at the
// old or the new size; the next append finishes or discards the interrupted one.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { EnvironmentError, FormatError, UsageError, VerificationError } from '../errors.js';
import { TEMP_PREFIX, writeFileAtomic } from '../infra/files.js';
import { type GitLocation, git, locateGit } from '../infra/git.js';
import { acquireLock } from '../infra/lock.js';
import { type Checkpoint, formatCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual, encodeBase64 } from '../tlog/encoding.js';
import { EMPTY_TREE_HASH, type Hash, leafHash } from '../tlog/merkle.js';
import { type SignerKey, type VerifierKey, parseVerifierKey, signNote, verifierKeyOf } from '../tlog/note.js';
import { noteSigner } from '../tlog-node/signer.js';
import { TILE_WIDTH, type TileRef, TileBuilder, encodeEntryBundle, encodeHashTile, tileCounts, tilePath } from '../tlog/tile.js';
import { commitLogFolder } from './commit.js';
import { crashPoint } from './crash-points.js';
import { CHECKPOINT_FILE, GITATTRIBUTES_CONTENT, GITATTRIBUTES_FILE, VERIFIER_KEY_FILE, buildLogHash, listLogFiles, logFile, tryParseTilePath } from './layout.js';
import { type OpenOptions, LogReader, openLogCheckpoint } from './reader.js';
import { type LogRecord, formatRecord, parseRecord } from './record.js';
import { recoverLogFolder, removeStaleGitLocks } from './recovery.js';
import { folderSource } from './source.js';
import { VIEW_RECORD_TYPES, deriveViews, requiredViewFiles } from './views.js';

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
      if (error.code === 'ENOTDIR') throw new UsageError('LOG_EXISTS', `${absolute} is not a folder`);
      throw new EnvironmentError('LOG_UNREADABLE', `cannot read ${absolute}: ${error.message}`);
    });
    const initFiles = new Set(['.git', GITATTRIBUTES_FILE, VERIFIER_KEY_FILE, ...requiredViewFiles()]);
    if (existing.some((name) => !initFiles.has(name) && !name.startsWith(TEMP_PREFIX))) {
      throw new UsageError('LOG_EXISTS', `${absolute} is not empty; a new log needs an empty folder`);
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
      const commit = await commitLogFolder(location, `witness-log: create log ${signerKey.name}\n\n${signed}`);
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
        'WRONG_SIGNING_KEY',
        `the signing key ${signerKey.name} does not match the log's verifier key ${this.verifierKey.text}`,
      );
    }
    if (records.length === 0) throw new UsageError('EMPTY_APPEND', 'nothing to append');
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
        throw new UsageError('BAD_ATTACHMENT', `attachment ${attachment.path} is not build-logs/<sha256 of its content>.log`);
      }
    }
    const location = await this.requireGit();
    const lock = await acquireLock(path.join(location.gitDir, 'go-source-witness.lock'));
    try {
      if (lock.tookOverFrom) await removeStaleGitLocks(location, lock.tookOverFrom.sinceMs);
      await recoverLogFolder(this, location);
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
      const commit = await commitLogFolder(location, `witness-log: ${title} (size ${oldSize} -> ${builder.size})\n\n${signed}`);
      return { oldSize, newSize: builder.size, checkpoint: signed, commit };
    } finally {
      await lock.release();
    }
  }

  private async viewsExist(): Promise<boolean> {
    for (const file of requiredViewFiles()) {
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

  /** Regenerates every derived view from the current (verified) entries (recovery calls it). */
  async writeViews(): Promise<void> {
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
}

function tryParseRecord(entry: Uint8Array): LogRecord | undefined {
  try {
    return parseRecord(entry);
  } catch {
    return undefined;
  }
}
