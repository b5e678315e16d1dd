// The published verify page's verifier (verify.html): orchestration only, over the one tlog core in
// src/tlog. It fetches a C2SP tlog-tiles log over HTTP (a queue of fetches, in the order the core reads
// them), reports progress, and turns what the core finds into the page's verdict and list of problems.
// The checks are the core's: the checkpoint (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) against
// the pinned Ed25519 key, every entry hashed and every hash tile recomputed (src/tlog/verify-tree.ts,
// RFC 6962 §2.1, c2sp.org/tlog-tiles). No DOM here and no node built-in: page.ts supplies window.fetch,
// the tests files on disk. Bundled for browsers by scripts/build-verify-bundle.ts, where the core's crypto
// seam `#tlog-crypto` is @noble/hashes and @noble/ed25519 (package.json `imports`, condition "browser").
import { FormatError, VerificationError } from '../../errors.js';
import { openCheckpoint } from '../../tlog/checkpoint.js';
import { decodeUtf8, encodeBase64 } from '../../tlog/encoding.js';
import { type Verifier, formatKeyId, noteVerifier, parseVerifierKey, splitNote } from '../../tlog/note.js';
import { TILE_WIDTH, type TileRef, tileCounts, tilePath } from '../../tlog/tile.js';
import { type TreeCheck, type TreeProblem, treeReadOrder, verifyTree } from '../../tlog/verify-tree.js';

/** Largest log this page verifies: the stored hash tiles are held in memory (32 bytes per entry). */
export const MAX_BROWSER_LOG_SIZE = 1 << 24;
/** Files fetched at once. */
const FETCH_CONCURRENCY = 8;

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A check that failed: `message` says what, `path` which file of the log (when one is to blame). */
class VerifyFailure extends Error {
  override readonly name = 'VerifyFailure';
  constructor(
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

/** The verifier key pinned into the page. */
interface PinnedKey {
  readonly name: string;
  readonly keyId: number;
  readonly text: string;
  readonly verifier: Verifier;
}

/** The pinned key, parsed by the core (Go note.NewVerifier rules; Ed25519 only). */
function pinnedKey(vkey: string): PinnedKey {
  try {
    const key = parseVerifierKey(vkey);
    return { name: key.name, keyId: key.keyId, text: vkey, verifier: noteVerifier(key) };
  } catch (error) {
    if (!(error instanceof FormatError)) throw error;
    throw new VerifyFailure('BAD_PINNED_KEY', `the pinned verifier key ${JSON.stringify(vkey.slice(0, 120))} is malformed: ${error.message}`);
  }
}

/** The checkpoint opened by the core with the pinned key only; its errors in the page's words. */
function openPinnedCheckpoint(message: string, key: PinnedKey, origin: string | undefined): { origin: string; size: number; rootHash: Uint8Array } {
  const keyLabel = `${key.name}+${formatKeyId(key.keyId)}`;
  let opened;
  try {
    opened = openCheckpoint(message, [key.verifier]).checkpoint;
  } catch (error) {
    if (error instanceof VerificationError && error.code === 'UNVERIFIED_NOTE') {
      const others = splitNote(message).signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`).join(', ');
      throw new VerifyFailure(
        'NOT_SIGNED_BY_PINNED_KEY',
        `the checkpoint is not signed by the pinned key ${keyLabel} (it is signed by: ${others || 'nobody'})`,
        'checkpoint',
      );
    }
    if (error instanceof VerificationError && error.code === 'INVALID_SIGNATURE') {
      throw new VerifyFailure('BAD_SIGNATURE', `the checkpoint signature of the pinned key ${keyLabel} is invalid`, 'checkpoint');
    }
    if (error instanceof FormatError && error.code === 'MALFORMED_CHECKPOINT') {
      throw new VerifyFailure('MALFORMED_CHECKPOINT', `the signed checkpoint is malformed: ${error.message.replace(/^malformed checkpoint: /, '')}`, 'checkpoint');
    }
    if (error instanceof FormatError) {
      throw new VerifyFailure('MALFORMED_CHECKPOINT', `the checkpoint is not a well-formed signed note: ${error.message}`, 'checkpoint');
    }
    throw error;
  }
  if (opened.size > BigInt(MAX_BROWSER_LOG_SIZE)) {
    throw new VerifyFailure(
      'TOO_LARGE',
      `the log has ${opened.size} entries, more than this page verifies in a browser (${MAX_BROWSER_LOG_SIZE}); use \`witness verify\``,
      'checkpoint',
    );
  }
  if (origin !== undefined && opened.origin !== origin) {
    throw new VerifyFailure(
      'WRONG_ORIGIN',
      `the checkpoint's origin ${JSON.stringify(opened.origin)} is not the pinned origin ${JSON.stringify(origin)}`,
      'checkpoint',
    );
  }
  return { origin: opened.origin, size: Number(opened.size), rootHash: opened.rootHash };
}

// ---------------------------------------------------------------------------------------------------
// Fetching and verifying a whole log

/** A file fetched from the log, or why not. */
export type FetchResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly status?: number; readonly error?: string };

/** Fetches a file by its path relative to the log root (`checkpoint`, `tile/0/000`, …). */
export type FetchFile = (path: string) => Promise<FetchResult>;

export interface Progress {
  /** 'fetching': entry bundles and hash tiles are fetched, and entries hashed as their bundles arrive. */
  readonly phase: 'checkpoint' | 'fetching' | 'checking' | 'done';
  readonly filesFetched: number;
  readonly filesTotal: number;
  readonly entriesHashed: number;
  readonly entriesTotal: number;
  /** Overall progress, 0..1. */
  readonly fraction: number;
  /** A sentence for people, e.g. "Fetched 120 of 553 files, hashed 30720 of 70000 entries". */
  readonly message: string;
}

export interface VerifyOptions {
  /** The verifier key pinned into the page at publish time. */
  readonly verifierKey: string;
  /** The pinned origin line, when known. */
  readonly origin?: string;
  readonly onProgress?: (progress: Progress) => void;
}

export interface VerifyResult {
  /** 'unavailable': the log could not be checked at all (not a verdict on the log). */
  readonly status: 'verified' | 'failed' | 'unavailable';
  /** "Verified: N entries, root …, signed by …" or "FAILED: …". */
  readonly headline: string;
  /** Every problem found (the first is the headline's), with the file to blame when known. */
  readonly problems: ReadonlyArray<{ readonly code: string; readonly message: string; readonly path?: string }>;
  /** Checks that passed, for people. */
  readonly checks: readonly string[];
  readonly warnings: readonly string[];
  readonly origin?: string;
  readonly size?: number;
  /** base64 root hash of the verified checkpoint. */
  readonly root?: string;
  readonly keyName?: string;
  readonly files: number;
  readonly bytes: number;
  readonly milliseconds: number;
}

/** A file the core asked for that could not be fetched (thrown by the readers given to verifyTree). */
class FetchFailed extends Error {
  constructor(
    readonly path: string,
    readonly result: FetchResult & { ok: false },
  ) {
    super(describeFetchFailure(path, result));
  }
}

function describeFetchFailure(path: string, result: FetchResult & { ok: false }): string {
  if (result.status === 404) return `${path} is missing (HTTP 404)`;
  if (result.status !== undefined) return `${path} could not be fetched (HTTP ${result.status})`;
  return `${path} could not be fetched${result.error ? `: ${result.error}` : ''}`;
}

/** A network error or a server error (5xx) says nothing about the log: no verdict. */
function transient(result: FetchResult): boolean {
  return !result.ok && (result.status === undefined || result.status >= 500);
}

/** Which entries a level-8L hash at `index` covers, for messages. */
function coveredEntries(level: number, index: number, size: number): string {
  const first = index * 256 ** level;
  const last = Math.min((index + 1) * 256 ** level, size) - 1;
  return first === last ? `entry ${first}` : `entries ${first}–${last}`;
}

/** Tile order for the problem list: lowest level first, then by index. */
function tileOrder(a: TreeProblem, b: TreeProblem): number {
  const level = (a.tile.level as number) - (b.tile.level as number);
  return level !== 0 ? level : a.tile.index < b.tile.index ? -1 : a.tile.index > b.tile.index ? 1 : 0;
}

/** A problem with a stored hash tile, as the page lists it. */
function tileProblem(problem: TreeProblem, size: number): { code: string; message: string; path: string } {
  const path = tilePath(problem.tile);
  if (problem.kind === 'unreadable') {
    const message = problem.error instanceof FetchFailed ? problem.error.message : `${path} could not be fetched`;
    return { code: 'FETCH_FAILED', message, path };
  }
  if (problem.kind === 'malformed') return { code: 'MALFORMED_TILE', message: problem.error.message, path };
  const level = problem.tile.level as number;
  const i = problem.hashes[0]!;
  const global = Number(problem.tile.index) * TILE_WIDTH + i;
  return {
    code: 'TILE_MISMATCH',
    message: `${path} does not match the tree recomputed from the entries: hash ${i} (${coveredEntries(level, global, size)}) differs`,
    path,
  };
}

/**
 * Starts fetching `paths`, FETCH_CONCURRENCY at a time in order, with a fetcher that never throws; one
 * promise per path, so the caller can process files in order while later ones are still in flight.
 */
function fetchQueue(
  paths: readonly string[],
  fetchFile: FetchFile,
  onEach: () => void,
): { results: Array<Promise<FetchResult>>; stop: () => void } {
  const resolvers: Array<(result: FetchResult) => void> = [];
  const results = paths.map(() => new Promise<FetchResult>((resolve) => resolvers.push(resolve)));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      resolvers[i]!(await fetchFile(paths[i]!));
      try {
        onEach();
      } catch {
        // A progress display that throws must not stall the queue.
      }
    }
  };
  for (let i = 0; i < Math.min(FETCH_CONCURRENCY, paths.length); i++) void worker();
  return { results, stop: () => void (next = paths.length) };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Verifies the log served by `fetchFile` against the pinned key; never throws. Fetches `checkpoint`,
 * `log.vkey` (only to warn when it differs from the pinned key), every entry bundle and every hash tile
 * of the checkpoint's tree.
 */
export async function verifyLog(fetchFile: FetchFile, options: VerifyOptions): Promise<VerifyResult> {
  const now = () => (typeof performance === 'undefined' ? Date.now() : performance.now());
  const started = now();
  const checks: string[] = [];
  const warnings: string[] = [];
  const problems: Array<{ code: string; message: string; path?: string }> = [];
  let files = 0;
  let bytes = 0;
  let checkpoint: { origin: string; size: number; rootHash: Uint8Array } | undefined;
  let key: PinnedKey | undefined;
  let filesTotal = 2;
  let entriesTotal = 0;
  let hashed = 0;
  const progress = (phase: Progress['phase']) => {
    if (!options.onProgress) return;
    const fraction =
      phase === 'done' ? 1 : 0.05 + 0.55 * (files / Math.max(filesTotal, 1)) + 0.4 * (entriesTotal === 0 ? 0 : hashed / entriesTotal);
    const message =
      phase === 'checkpoint'
        ? 'Fetching the checkpoint'
        : phase === 'done'
          ? 'Done'
          : phase === 'checking'
            ? 'Checking the hash tiles'
            : `Fetched ${files} of ${plural(filesTotal, 'file')}, hashed ${hashed} of ${plural(entriesTotal, 'entry', 'entries')}`;
    options.onProgress({ phase, filesFetched: files, filesTotal, entriesHashed: hashed, entriesTotal, fraction, message });
  };
  const fetchCounted: FetchFile = async (path) => {
    let result: FetchResult;
    try {
      result = await fetchFile(path);
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    files++;
    if (result.ok) bytes += result.bytes.length;
    return result;
  };
  const finish = (status: VerifyResult['status'], headline: string): VerifyResult => {
    progress('done');
    return {
      status,
      headline,
      problems,
      checks,
      warnings,
      ...(checkpoint ? { origin: checkpoint.origin, size: checkpoint.size, root: encodeBase64(checkpoint.rootHash) } : {}),
      ...(key ? { keyName: key.name } : {}),
      files,
      bytes,
      milliseconds: Math.round(now() - started),
    };
  };
  const fail = (code: string, message: string, path?: string): VerifyResult => {
    problems.unshift({ code, message, ...(path !== undefined ? { path } : {}) });
    return finish('failed', `FAILED: ${message}`);
  };
  const unavailable = (path: string, result: FetchResult & { ok: false }): VerifyResult => {
    const message = describeFetchFailure(path, result);
    problems.unshift({ code: 'FETCH_FAILED', message, path });
    return finish('unavailable', `Cannot verify: ${message}; try again later`);
  };

  try {
    // 1. The pinned key and the signed checkpoint.
    key = pinnedKey(options.verifierKey.trim());
    progress('checkpoint');
    const [checkpointFile, vkeyFile] = await Promise.all([fetchCounted('checkpoint'), fetchCounted('log.vkey')]);
    if (!checkpointFile.ok) {
      if (transient(checkpointFile)) return unavailable('checkpoint', checkpointFile);
      return fail('FETCH_FAILED', describeFetchFailure('checkpoint', checkpointFile), 'checkpoint');
    }
    if (vkeyFile.ok) {
      let published: string | undefined;
      try {
        published = decodeUtf8(vkeyFile.bytes).trim();
      } catch {
        published = undefined;
      }
      if (published !== key.text) {
        warnings.push(
          `The log.vkey published with this log (${JSON.stringify((published ?? '(not UTF-8)').slice(0, 200))}) differs from the key pinned in this page (${key.text}). ` +
            'This page trusts only the pinned key.',
        );
      }
    } else {
      warnings.push(`log.vkey: ${describeFetchFailure('log.vkey', vkeyFile)}; this page uses the key pinned in it.`);
    }
    let message: string;
    try {
      message = decodeUtf8(checkpointFile.bytes);
    } catch {
      throw new VerifyFailure('MALFORMED_CHECKPOINT', 'the checkpoint is not UTF-8 text', 'checkpoint');
    }
    checkpoint = openPinnedCheckpoint(message, key, options.origin);
    const size = checkpoint.size;
    checks.push(`The checkpoint is signed by the pinned key ${key.name}+${formatKeyId(key.keyId)} (Ed25519 signature valid).`);
    checks.push(`The checkpoint commits to ${plural(size, 'entry', 'entries')} with root ${encodeBase64(checkpoint.rootHash)}.`);

    // 2. Every entry bundle and every hash tile of the tree, fetched FETCH_CONCURRENCY at a time in the
    //    order the core reads them, so that entries are hashed as their bundles arrive.
    const order = treeReadOrder(BigInt(size));
    const paths = order.map(tilePath);
    const bundles = tileCounts(BigInt(size), 0);
    const bundleCount = Number(bundles.fullCount) + (bundles.partialWidth > 0 ? 1 : 0);
    const hashTileCount = order.length - bundleCount;
    filesTotal = files + order.length;
    entriesTotal = size;
    const queue = fetchQueue(paths, fetchCounted, () => progress('fetching'));
    let position = 0;
    let lastBundle = '';
    const read = async (tile: TileRef): Promise<Uint8Array> => {
      const path = tilePath(tile);
      if (tile.level === 'entries') lastBundle = path;
      const result = paths[position] === path ? await queue.results[position++]! : await fetchCounted(path);
      if (!result.ok) throw new FetchFailed(path, result);
      return result.bytes;
    };
    let lastYield = now();
    let tree: TreeCheck;
    try {
      tree = await verifyTree(
        { size: BigInt(size), rootHash: checkpoint.rootHash },
        { readEntryBundle: read, readHashTile: read },
        {
          async onEntries(_bundle, entries) {
            hashed += entries.length;
            if (now() - lastYield > 40) {
              progress('fetching');
              await yieldToEventLoop(); // let the page repaint its progress bar
              lastYield = now();
            }
          },
        },
      );
    } catch (error) {
      queue.stop();
      if (error instanceof FetchFailed) {
        if (transient(error.result)) return unavailable(error.path, error.result);
        return fail('FETCH_FAILED', error.message, error.path);
      }
      if (error instanceof FormatError) return fail('MALFORMED_BUNDLE', error.message, lastBundle);
      throw error;
    }
    const found = [...tree.problems].sort(tileOrder);
    const unreachable = found.find((p) => p.kind === 'unreadable' && p.error instanceof FetchFailed && transient(p.error.result));
    if (unreachable?.kind === 'unreadable') {
      const failure = unreachable.error as FetchFailed;
      return unavailable(failure.path, failure.result);
    }
    progress('checking');
    checks.push(`Read ${plural(bundleCount, 'entry bundle')} holding all ${plural(size, 'entry', 'entries')}.`);

    // 3. The root recomputed from the entries, then every hash tile compared with the recomputed tree.
    const tileProblems = found.map((problem) => tileProblem(problem, size));
    const levels = levelCount(BigInt(size));
    const levelsLabel = levels === 1 ? 'level 0' : `levels 0–${levels - 1}`;
    if (tree.rootMatches) {
      checks.push(`The tree recomputed from the entries has the signed root ${encodeBase64(tree.root)}.`);
      if (tileProblems.length > 0) {
        problems.push(...tileProblems);
        const first = problems.shift()!;
        return fail(first.code, first.message, first.path);
      }
      checks.push(`All ${plural(hashTileCount, 'hash tile')} (${levelsLabel}, full and partial) match the recomputed tree.`);
      return finish(
        'verified',
        `Verified: ${plural(size, 'entry', 'entries')}, root ${encodeBase64(checkpoint.rootHash)}, signed by ${key.name}`,
      );
    }

    // The entries do not hash to the signed root. If the hash tiles are consistent among themselves and
    // with the signed root, they are authenticated, and their level-0 mismatches show which entries changed.
    const changed: number[] = [];
    if (tree.storedTilesAuthenticate(checkpoint.rootHash)) {
      for (const problem of found) {
        if (problem.kind !== 'mismatch' || problem.tile.level !== 0) continue;
        for (const i of problem.hashes) changed.push(Number(problem.tile.index) * TILE_WIDTH + i);
      }
    }
    if (changed.length > 0) {
      for (const index of changed.slice(0, 20)) {
        const bundle: TileRef = { level: 'entries', index: BigInt(Math.floor(index / TILE_WIDTH)), width: Math.min(TILE_WIDTH, size - Math.floor(index / TILE_WIDTH) * TILE_WIDTH) };
        problems.push({
          code: 'ENTRY_MISMATCH',
          message: `entry ${index} (number ${index % TILE_WIDTH} in ${tilePath(bundle)}) does not match the signed tree: its leaf hash differs from hash ${index % TILE_WIDTH} of ${tilePath({ ...bundle, level: 0 })}`,
          path: tilePath(bundle),
        });
      }
      if (changed.length > 20) problems.push({ code: 'ENTRY_MISMATCH', message: `… and ${changed.length - 20} more entries` });
      const first = problems.shift()!;
      return fail(first.code, first.message, first.path);
    }
    problems.push(...tileProblems);
    return fail(
      'ROOT_MISMATCH',
      `the entries hash to root ${encodeBase64(tree.root)}, but the checkpoint is signed for root ${encodeBase64(checkpoint.rootHash)}`,
    );
  } catch (error) {
    if (error instanceof VerifyFailure) return fail(error.code, error.message, error.path);
    return fail('INTERNAL', `unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** How many tile levels a tree of `size` leaves has (1 for a tree of at most 255 leaves, …). */
function levelCount(size: bigint): number {
  let levels = 0;
  while (true) {
    const { fullCount, partialWidth } = tileCounts(size, levels);
    if (fullCount === 0n && partialWidth === 0) return Math.max(levels, 1);
    levels++;
  }
}
