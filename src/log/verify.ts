// `witness verify`: recompute the whole tree from every entry, check every tile and the checkpoint
// signature, then walk the git history of the checkpoint and check each one ever committed is signed and
// is a prefix (consistent) of the current tree, sizes never decreasing. The first problem is thrown as a
// typed error naming the file or commit; harmless oddities are returned as warnings.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { FormatError, VerificationError, WitnessError } from '../errors.js';
import { type SignedCheckpoint, openCheckpoint } from '../tlog/checkpoint.js';
import { checkCheckpointHistory, checkpointsInMessage, commitMessage, signedCheckpointChecker } from './checkpoint-history.js';
import { bytesEqual, encodeBase64 } from '../tlog/encoding.js';
import type { Hash } from '../tlog/merkle.js';
import { noteVerifier } from '../tlog/note.js';
import { TILE_WIDTH, type TileRef, decodeHashTile, encodeEntryBundle, tileCounts, tilePath, tilesForSize } from '../tlog/tile.js';
import { treeReadOrder, verifyTree } from '../tlog/verify-tree.js';
import { TEMP_PREFIX } from '../infra/files.js';
import { gitText, headCommit, locateGit, readObjects, repositoryPath } from '../infra/git.js';
import { CHECKPOINT_FILE, VERIFIER_KEY_FILE, buildLogHash } from './layout.js';
import { isMetadataFile, listLogFiles, tryParseTilePath } from './layout.js';
import { LogReader } from './reader.js';
import { type LogSource, logSource } from './source.js';
import { type LogRecord, parseRecord } from './record.js';
import { VIEW_RECORD_TYPES, deriveViews, isViewFile } from './views.js';
import type { OnProgress } from '../progress.js';

export interface VerifyOptions {
  /** Pinned verifier key; default: the folder's own log.vkey (reported as not pinned). */
  readonly verifierKey?: string;
  /** Walk the git history of the checkpoint (default true; skipped with a note outside git). */
  readonly history?: boolean;
  /** Told how many entries are verified and commits walked (src/progress.ts). */
  readonly onProgress?: OnProgress;
}

export interface HistoryReport {
  readonly checked: boolean;
  /** The checkpoint on disk is newer than the last committed one (an interrupted append). */
  readonly uncommittedCheckpoint?: boolean;
  /** Commits that changed the checkpoint, oldest first. */
  readonly checkpoints: ReadonlyArray<{ commit: string; size: bigint }>;
  readonly note?: string;
}

export interface VerifyReport {
  readonly dir: string;
  readonly origin: string;
  readonly size: bigint;
  readonly rootHash: string;
  readonly verifierKey: string;
  readonly verifierKeyPinned: boolean;
  readonly recordTypes: Readonly<Record<string, number>>;
  readonly hashTiles: number;
  readonly entryBundles: number;
  readonly history: HistoryReport;
  readonly warnings: string[];
}

function wrap(error: unknown, where: string): never {
  if (error instanceof WitnessError) {
    const Kind = error instanceof FormatError ? FormatError : VerificationError;
    throw new Kind(error.code, `${where}: ${error.message}`, { cause: error });
  }
  throw error;
}

/** Verifies a log in a folder. */
export function verifyLogFolder(dir: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return verifyLog(path.resolve(dir), options);
}

/**
 * Verifies a log at a folder path, an http(s) URL or any LogSource. The file listing and the git
 * history are checked only for a local folder.
 */
export async function verifyLog(location: string | LogSource, options: VerifyOptions = {}): Promise<VerifyReport> {
  const source = typeof location === 'string' ? logSource(location) : location;
  const log = await LogReader.open(source, options.verifierKey === undefined ? {} : { verifierKey: options.verifierKey });
  const warnings: string[] = [];
  const signed = await log.readCheckpoint();
  const { size, rootHash } = signed.checkpoint;

  // 1. Entries -> leaf hashes -> every hash tile, compared with the files as they are computed
  //    (src/tlog/verify-tree.ts), the files read ahead in the order the check asks for them.
  // Counted in a Map: a record type is untrusted text ("constructor" must not meet Object.prototype).
  const recordTypeCounts = new Map<string, number>();
  const viewRecords: Array<{ index: bigint; record: LogRecord }> = [];
  const say = options.onProgress ?? (() => {});
  say({ phase: 'verifying entries', done: 0, total: Number(size), unit: 'entries' });
  const readers = log.treeReaders(treeReadOrder(size));
  const tree = await verifyTree(signed.checkpoint, readers, {
    onEntries(bundle, entries) {
      const file = tilePath(bundle);
      const first = bundle.index * 256n;
      for (let i = 0; i < entries.length; i++) {
        try {
          const record = parseRecord(entries[i]!);
          recordTypeCounts.set(record.type, (recordTypeCounts.get(record.type) ?? 0) + 1);
          if (VIEW_RECORD_TYPES.has(record.type)) viewRecords.push({ index: first + BigInt(i), record });
        } catch (error) {
          wrap(error, `${file} entry ${i} (log index ${first + BigInt(i)})`);
        }
      }
      say({ phase: 'verifying entries', done: Number(first) + entries.length, total: Number(size), unit: 'entries' });
    },
    onProblem(problem) {
      const file = tilePath(problem.tile);
      if (problem.kind !== 'mismatch') wrap(problem.error, file);
      const i = problem.hashes[0]!;
      if (problem.tile.level === 0) {
        const bundle = tilePath({ ...problem.tile, level: 'entries' });
        throw new VerificationError(
          'LEAF_HASH_MISMATCH',
          `${bundle} entry ${i} (log index ${problem.tile.index * 256n + BigInt(i)}) does not match hash ${i} of ${file}: one of the two files was modified`,
        );
      }
      const below = tilePath({ level: (problem.tile.level as number) - 1, index: problem.tile.index * 256n + BigInt(i), width: TILE_WIDTH });
      throw new VerificationError('TILE_HASH_MISMATCH', `${file} hash ${i} does not match the root of ${below}: ${file} was modified`);
    },
  });

  // 2. The tree hash of the tiles must be the signed root.
  if (!tree.rootMatches) {
    throw new VerificationError(
      'ROOT_MISMATCH',
      `${CHECKPOINT_FILE}: signed root ${encodeBase64(rootHash)} is not the tree hash of the entries and tiles (${encodeBase64(tree.root)})`,
    );
  }
  const rootAt = (oldSize: bigint): Hash => tree.rootAt(oldSize);

  // 3. Every other file in the folder: stale partial tiles must be prefixes of the current tiles.
  const expected = new Set(tilesForSize(size).map(tilePath));
  const viewFilesOnDisk: string[] = [];
  for (const file of source.folder ? await listLogFiles(source.folder, true) : []) {
    const buildLog = buildLogHash(file);
    if (buildLog !== undefined) {
      // Content-addressed: the name is the SHA-256 of the bytes (build records cite it).
      const content = (await source.read(file)) ?? new Uint8Array();
      if (createHash('sha256').update(content).digest('hex') !== buildLog) {
        throw new VerificationError('BUILD_LOG_CORRUPT', `${file}: content does not hash to its name (modified)`);
      }
      continue;
    }
    if (isViewFile(file)) viewFilesOnDisk.push(file);
    if (expected.has(file) || isMetadataFile(file)) continue;
    if (file.split('/').some((part) => part.startsWith(TEMP_PREFIX))) {
      warnings.push(`${file}: temporary file left by an interrupted write (the next append removes it)`);
      continue;
    }
    const ref = tryParseTilePath(file);
    if (!ref) {
      warnings.push(`${file}: not part of the log (ignored)`);
      continue;
    }
    const { fullCount, partialWidth } = tileCounts(size, ref.level === 'entries' ? 0 : ref.level);
    const currentWidth = ref.index < fullCount ? TILE_WIDTH : ref.index === fullCount ? partialWidth : 0;
    if (ref.width >= currentWidth) {
      warnings.push(`${file}: beyond the signed checkpoint (left by an interrupted append; the next append removes it)`);
      continue;
    }
    // An older partial tile: its content must be a prefix of the current tile.
    const current: TileRef = { ...ref, width: currentWidth };
    const bytes = await log.readTileBytes(ref);
    if (ref.level === 'entries') {
      const prefix = encodeEntryBundle((await log.readEntries(ref.index * 256n, ref.index * 256n + BigInt(ref.width), size)));
      if (!bytesEqual(bytes, prefix)) {
        throw new VerificationError('STALE_TILE_MISMATCH', `${file} is not a prefix of ${tilePath(current)}: it was modified`);
      }
    } else {
      try {
        decodeHashTile(bytes, ref);
      } catch (error) {
        wrap(error, file);
      }
      if (!bytesEqual(bytes, tree.storedTile(current)!.subarray(0, bytes.length))) {
        throw new VerificationError('STALE_TILE_MISMATCH', `${file} is not a prefix of ${tilePath(current)}: it was modified`);
      }
    }
  }
  const storedKey = Buffer.from((await source.read(VERIFIER_KEY_FILE)) ?? []).toString('utf8').trim();
  if (log.verifierKeyPinned && storedKey !== log.verifierKey.text) {
    warnings.push(`${VERIFIER_KEY_FILE}: differs from the pinned verifier key (the pinned key was used)`);
  }

  // 4. The checkpoint on disk against the one committed at HEAD, then the git history of the checkpoint.
  const committedState = source.folder ? await checkCommittedCheckpoint(log, source.folder, signed, rootAt, warnings) : {};
  const history =
    options.history === false
      ? { checked: false, checkpoints: [], note: 'not requested' }
      : source.folder
        ? await verifyHistory(log, source.folder, size, rootAt, warnings, committedState.interruptedFrom !== undefined, say)
        : { checked: false, checkpoints: [], note: 'the log was read over HTTP; its git history is not available' };

  // 5. Derived views (tags.txt, ...) must be exactly what the verified entries say, whatever the state of
  // the checkpoint. Folding the records also checks their invariants (e.g. a moved tag names its previous
  // record). Only an append interrupted after its checkpoint (a newer signed checkpoint than HEAD's, see
  // above) may leave views that are what the entries up to the committed size say.
  const allowed = [deriveViews(viewRecords)];
  if (committedState.interruptedFrom !== undefined) {
    const from = committedState.interruptedFrom;
    allowed.push(deriveViews(viewRecords.filter(({ index }) => index < from)));
  }
  const viewFiles = new Set([...viewFilesOnDisk, ...allowed.flatMap((views) => [...views.keys()])]);
  for (const file of [...viewFiles].sort()) {
    const stored = await source.read(file);
    const candidates = allowed.map((views) => views.get(file));
    if (!stored) {
      if (candidates.some((content) => content === undefined)) continue; // not derived yet at the committed size
      throw new VerificationError('VIEW_MISSING', `${file} is missing (it is derived from the entries)`);
    }
    if (candidates.some((content) => content !== undefined && Buffer.from(content, 'utf8').equals(stored))) continue;
    const content = candidates.find((candidate) => candidate !== undefined);
    if (content === undefined) {
      throw new VerificationError('VIEW_MISMATCH', `${file} does not match the log's entries (no record derives it): it was added`);
    }
    const storedLines = Buffer.from(stored).toString('utf8').split('\n');
    const expectedLines = content.split('\n');
    const differs = expectedLines.findIndex((expected, i) => storedLines[i] !== expected);
    const line = differs >= 0 ? differs : expectedLines.length;
    throw new VerificationError('VIEW_MISMATCH', `${file} does not match the log's entries (first difference at line ${line + 1}): it was modified`);
  }

  return {
    dir: source.location,
    origin: log.origin,
    size,
    rootHash: encodeBase64(rootHash),
    verifierKey: log.verifierKey.text,
    verifierKeyPinned: log.verifierKeyPinned,
    recordTypes: Object.fromEntries(recordTypeCounts),
    hashTiles: tree.hashTiles,
    entryBundles: tree.entryBundles,
    history,
    warnings,
  };
}

async function verifyHistory(
  log: LogReader,
  folder: string,
  currentSize: bigint,
  rootAt: (size: bigint) => Hash,
  warnings: string[],
  interrupted: boolean,
  say: OnProgress,
): Promise<HistoryReport> {
  const location = await locateGit(folder);
  if (!location) return { checked: false, checkpoints: [], note: 'the log folder is not in a git work tree' };
  const cwd = location.topLevel;
  const checkpointPath = repositoryPath(location, CHECKPOINT_FILE);
  if (!(await headCommit(cwd))) return { checked: false, checkpoints: [], note: 'the repository has no commits yet' };
  if ((await gitText(['rev-parse', '--is-shallow-repository'], { cwd })).trim() === 'true') {
    warnings.push('the git repository is a shallow clone: checkpoints older than its history were not checked');
  }
  // Every commit reachable from HEAD with its real parents, parents first. A path-limited walk would
  // skip the side of a merge that left the file alone and would lose a log moved to another folder.
  const commits = (await gitText(['rev-list', '--topo-order', '--reverse', '--parents', 'HEAD'], { cwd }))
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [commit, ...parents] = line.split(' ');
      return { commit: commit!, parents };
    });
  say({ phase: 'checking git history', total: commits.length, unit: 'commits' });
  const blobs = await readObjects(cwd, commits.map(({ commit }) => `${commit}:${checkpointPath}`));
  const objects = await readObjects(cwd, commits.map(({ commit }) => commit));
  // The rules (src/log/checkpoint-history.ts, shared with the verify page): a signed checkpoint of this
  // log, wherever it appears, must be a prefix of the current tree.
  const checkSigned = signedCheckpointChecker(noteVerifier(log.verifierKey), log.origin, currentSize, (size, root) => {
    const expectedRoot = rootAt(size);
    return bytesEqual(expectedRoot, root)
      ? undefined
      : `size ${size} root ${encodeBase64(root)} is not consistent with the current log (its tree at size ${size} has root ${encodeBase64(expectedRoot)})`;
  });
  const { checkpoints, last } = checkCheckpointHistory(
    commits.map(({ commit, parents }, i) => ({ commit, parents, checkpoint: blobs[i]?.toString('utf8'), message: commitMessage(objects[i]) })),
    {
      checkpointPath,
      origin: log.origin,
      keyName: log.verifierKey.name,
      checkSigned,
      warnings,
      onCommit: (done) => say({ phase: 'checking git history', done, total: commits.length, unit: 'commits' }),
    },
  );
  if (last === undefined) {
    warnings.push(`${CHECKPOINT_FILE} is not committed yet (the next append commits it)`);
    return { checked: true, checkpoints, uncommittedCheckpoint: true };
  }
  return { checked: true, checkpoints, ...(interrupted ? { uncommittedCheckpoint: true } : {}) };
}

/**
 * The checkpoint on disk against the one committed at HEAD (when the folder is in a git work tree and HEAD
 * has one). The same bytes, or the same signed checkpoint whose file differs only in signature lines that
 * note.Open ignores (c2sp.org/signed-note: unknown keys, and repeated signatures from one key), are HEAD's
 * checkpoint. A newer checkpoint, consistent with HEAD's, is an append interrupted between writing its
 * checkpoint and committing: `interruptedFrom` is then HEAD's size. Anything else fails.
 */
async function checkCommittedCheckpoint(
  log: LogReader,
  folder: string,
  current: SignedCheckpoint,
  rootAt: (size: bigint) => Hash,
  warnings: string[],
): Promise<{ interruptedFrom?: bigint }> {
  const location = await locateGit(folder);
  if (!location) return {};
  const [committed] = await readObjects(location.topLevel, [`HEAD:${repositoryPath(location, CHECKPOINT_FILE)}`]);
  const onDisk = await log.source.read(CHECKPOINT_FILE);
  if (committed === undefined || onDisk === undefined || committed.equals(onDisk)) return {};
  const where = `the ${CHECKPOINT_FILE} committed at HEAD`;
  let opened: SignedCheckpoint;
  try {
    opened = openCheckpoint(committed.toString('utf8'), [noteVerifier(log.verifierKey)], log.origin);
  } catch (error) {
    return wrap(error, where);
  }
  const { size, rootHash } = current.checkpoint;
  const old = opened.checkpoint;
  if (opened.note.text === current.note.text) {
    warnings.push(
      `${CHECKPOINT_FILE}: differs from ${where} only in signature lines that are not a valid signature by the log's key or repeat one (ignored, as c2sp.org/signed-note says)`,
    );
    return {};
  }
  if (old.size > size) {
    throw new VerificationError('LOG_ROLLED_BACK', `${CHECKPOINT_FILE} has size ${size}, smaller than ${where} (size ${old.size}): the log was rolled back`);
  }
  if (old.size === size) {
    throw new VerificationError(
      'CHECKPOINT_NOT_COMMITTED',
      `${CHECKPOINT_FILE} (size ${size}, root ${encodeBase64(rootHash)}) is another checkpoint of the same size as ${where} (root ${encodeBase64(old.rootHash)}): it was replaced`,
    );
  }
  const expectedRoot = rootAt(old.size);
  if (!bytesEqual(expectedRoot, old.rootHash)) {
    throw new VerificationError(
      'INCONSISTENT_CHECKPOINT',
      `${where}: size ${old.size} root ${encodeBase64(old.rootHash)} is not consistent with the current log (its tree at size ${old.size} has root ${encodeBase64(expectedRoot)})`,
    );
  }
  warnings.push(`${CHECKPOINT_FILE} on disk (size ${size}) is newer than the committed one (size ${old.size}): an interrupted append; the next append commits it`);
  return { interruptedFrom: old.size };
}

// Re-exported: the fuzz test and older callers import it from here.
export { checkpointsInMessage };
