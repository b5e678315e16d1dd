// A client for the Go checksum database (sum.golang.org), as a witness needs it (golang.org/design/25530-sumdb
// "Checksum Database", c2sp.org/tlog-tiles; golang/mod sumdb/client.go and sumdb/tlog/tile.go):
//
//   GET <base>/latest                              the signed tree head (key sum.golang.org, origin line
//                                                  "go.sum database tree": the key name differs from the origin)
//   GET <base>/tile/8/<L>/<N>[.p/<W>]              hash tiles of height 8 (c2sp.org/tlog-tiles numbering)
//   GET <base>/tile/8/data/<N>[.p/<W>]             data tiles: the record texts of leaves N·256 … (sumdb/server.go)
//   GET <base>/lookup/<escaped path>@<escaped ver> `<id>\n<text>\n` + the signed tree head (sumdb/server.go)
//
// <base> is https://sum.golang.org or a module proxy's <proxy>/sumdb/sum.golang.org ("Proxying a Checksum
// Database" in golang.org/design/25530-sumdb). Everything the server sends is untrusted:
//
// - Tree heads must carry a valid signature by the pinned verifier key and the expected origin line.
// - Tiles are authenticated against a signed root before anything they hold is trusted or cached
//   (tlog.TileHashReader). Every tile used is checked, not only the right edge: each full tile's
//   perfect-subtree hash must equal its entry in the tile one level up, recursively, until the right-edge
//   partial tiles, which must hash to the signed root (verifyTreeHashFromTiles). golang/mod's
//   tileHashReader.ReadHashes leaves some full tiles unchecked; this client does not.
// - A consistency proof is built from tiles of the newer tree (golang/mod tlog.ProveTree) and verified against
//   both signed roots (RFC 9162 §2.1.4.2). When the tiles authenticate against the newer root and the proof
//   still fails, the two heads cannot both be true: that is a fork, reported as INCONSISTENT_TREE with the
//   evidence (both notes, the proof, the tiles). Tiles that do not authenticate are a bad server or cache,
//   reported as BAD_TILES (an environment error), never as evidence.
//
// Network failures are EnvironmentErrors naming the URL. Requests time out (AbortSignal.timeout), are
// retried with exponential backoff and jitter on network errors, 5xx and 429 (Retry-After honoured on 429
// and 503), never on other 4xx, and every response body is bounded.
import { EnvironmentError, FormatError, UsageError, VerificationError, WitnessError } from '../errors.js';
import { type Checkpoint, type SignedCheckpoint, openCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual, decodeUtf8, encodeBase64 } from '../tlog/encoding.js';
import {
  EMPTY_TREE_HASH,
  type Hash,
  HASH_SIZE,
  proveConsistency as proveConsistencyWith,
  proveInclusion,
  verifyConsistency,
  verifyInclusion,
} from '../tlog/merkle.js';
import { type Verifier, noteVerifier } from '../tlog/note.js';
import type { OnProgress } from '../progress.js';
import {
  TILE_WIDTH,
  type TileRef,
  decodeHashTile,
  parseTilePath,
  perfectSubtreeHash,
  tileForHash,
  tileNodeReader,
  tilePath,
  tilesForConsistencyProof,
  tilesForInclusionProof,
  tilesForTreeHash,
  verifyTreeHashFromTiles,
} from '../tlog/tile.js';
import { decodeDataTile, parseRecord, recordLeafHash } from './record.js';

/** The verifier key of sum.golang.org (golang/go src/cmd/go/internal/modfetch/key.go). */
export const SUMDB_VERIFIER_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
/** The origin (first) line of every Go checksum database tree note (golang/mod tlog.FormatTree). */
export const SUMDB_ORIGIN = 'go.sum database tree';
export const SUMDB_URL = 'https://sum.golang.org';
/** The height in Go sumdb tile paths: `tile/8/…` (golang.org/design/25530-sumdb "Checksum Database"). */
export const SUMDB_TILE_HEIGHT = 8;

const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;

// ---------------------------------------------------------------------------------------------------
// Paths.

/** The Go sumdb path of a tile (tlog.Tile.Path): `tile/8/<L>/<N>[.p/<W>]`, or `tile/8/data/<N>[.p/<W>]` for entries. */
export function sumdbTilePath(tile: TileRef): string {
  const path = tilePath(tile); // tile/<L>/… or tile/entries/…
  return tile.level === 'entries'
    ? `tile/${SUMDB_TILE_HEIGHT}/data/${path.slice('tile/entries/'.length)}`
    : `tile/${SUMDB_TILE_HEIGHT}/${path.slice('tile/'.length)}`;
}

/** Parses a Go sumdb tile path strictly (the inverse of sumdbTilePath; torchwood TilePath conversion). */
export function parseSumdbTilePath(path: string): TileRef {
  const prefix = `tile/${SUMDB_TILE_HEIGHT}/`;
  if (!path.startsWith(prefix) || path.startsWith(`${prefix}entries/`)) {
    throw new FormatError('MALFORMED_TILE_PATH', `${JSON.stringify(path)} is not a Go sumdb tile path`);
  }
  const rest = path.slice(prefix.length);
  return parseTilePath(rest.startsWith('data/') ? `tile/entries/${rest.slice('data/'.length)}` : `tile/${rest}`);
}

/**
 * Go module.EscapePath / EscapeVersion (golang/mod module/module.go): an upper-case letter X is
 * written "!x". Strings holding "!" or non-ASCII characters cannot be escaped (Go: "internal error").
 */
export function escapeModulePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[!\u0000-\u001f\u007f-\uffff]/.test(path)) {
    throw new UsageError('INVALID_MODULE', `${JSON.stringify(path)} cannot be escaped: it contains "!", a control or a non-ASCII character`);
  }
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

// Module paths (golang/mod module.CheckPath: letters, digits and "-._~" in "/"-separated elements) and
// versions (semantic versions, "+incompatible" included). Only characters that need no URL escaping.
const MODULE_PATH = /^[A-Za-z0-9\-._~]+(?:\/[A-Za-z0-9\-._~]+)*$/;
const MODULE_VERSION = /^v[0-9A-Za-z\-.+_~]+$/;

function lookupPath(modulePath: string, version: string): string {
  if (!MODULE_PATH.test(modulePath) || modulePath.split('/').some((element) => element === '.' || element === '..')) {
    throw new UsageError('INVALID_MODULE', `${JSON.stringify(modulePath)} is not a module path`);
  }
  if (!MODULE_VERSION.test(version)) throw new UsageError('INVALID_MODULE', `${JSON.stringify(version)} is not a module version`);
  return `lookup/${escapeModulePath(modulePath)}@${escapeModulePath(version)}`;
}

// ---------------------------------------------------------------------------------------------------
// Options, cache, results.

/**
 * A store of tiles by Go sumdb path (`tile/8/0/001`, `tile/8/1/000.p/17`). SumdbClient only ever stores
 * tiles it has authenticated against a verified tree head, and validates what it reads back.
 */
export interface TileCache {
  get(path: string): Uint8Array | undefined;
  set(path: string, data: Uint8Array): void;
}

/** The default TileCache: in memory, at most `maxEntries` tiles (oldest dropped first). */
export class MemoryTileCache implements TileCache {
  private readonly tiles = new Map<string, Uint8Array>();
  constructor(private readonly maxEntries = 4096) {}

  get size(): number {
    return this.tiles.size;
  }

  get(path: string): Uint8Array | undefined {
    return this.tiles.get(path);
  }

  set(path: string, data: Uint8Array): void {
    this.tiles.delete(path);
    this.tiles.set(path, data);
    while (this.tiles.size > this.maxEntries) {
      const oldest = this.tiles.keys().next().value;
      if (oldest === undefined) break;
      this.tiles.delete(oldest);
    }
  }

  keys(): string[] {
    return [...this.tiles.keys()];
  }
}

export interface SumdbClientOptions {
  /** The database: `https://sum.golang.org`, or a proxy's `<proxy>/sumdb/sum.golang.org`. Default SUMDB_URL. */
  readonly baseUrl?: string;
  /** The database's verifier key (Go note format). Default SUMDB_VERIFIER_KEY. */
  readonly verifierKey?: string;
  /** The checkpoint origin line expected. Default SUMDB_ORIGIN. */
  readonly origin?: string;
  readonly fetch?: typeof fetch;
  /** Per-request timeout, body included (default 20,000 ms). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt on network errors, timeouts, 5xx and 429 (default 3). */
  readonly retries?: number;
  /** First backoff delay; doubled per retry, with jitter (default 500 ms). */
  readonly retryBaseMs?: number;
  /** Largest backoff delay (default 30,000 ms). */
  readonly maxRetryDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the request fails (default 60,000 ms). */
  readonly maxRetryAfterMs?: number;
  /** Largest /latest response (default 64 KiB). */
  readonly maxLatestBytes?: number;
  /** Largest /lookup response (default 64 KiB). */
  readonly maxLookupBytes?: number;
  /** Largest data tile (default 1 MiB). Hash tiles are always at most 8,192 bytes (256 hashes). */
  readonly maxDataTileBytes?: number;
  /** Tiles fetched at once (default 8). */
  readonly concurrency?: number;
  /** Where authenticated tiles are kept between calls (default: a MemoryTileCache of this client). */
  readonly tileCache?: TileCache;
  /** Called before every HTTP request (retries included) with the full URL. */
  readonly onRequest?: (url: string) => void;
  readonly userAgent?: string;
  /** Told of each retry (reason and wait) and of tiles fetched (src/progress.ts). */
  readonly onProgress?: OnProgress;
}

/** A tree head as given to the client: a bare checkpoint or a signed one (its note is then evidence). */
export type TreeHead = Checkpoint | SignedCheckpoint;

/** Evidence that two signed tree heads of one log cannot both be true (a fork). JSON-ready. */
export interface InconsistencyEvidence {
  readonly origin: string;
  readonly old: EvidenceHead;
  readonly next: EvidenceHead;
  /**
   * The RFC 6962 consistency proof old -> next computed from `tiles`, base64, leaf side first. Empty when
   * the sizes are equal (then the roots differ) or old is empty (then old's root is not the empty hash).
   */
  readonly proof: readonly string[];
  /** The hash tiles of tree `next` the proof was computed from, all authenticated against next's root. */
  readonly tiles: ReadonlyArray<{ readonly path: string; readonly data: string }>;
}

export interface EvidenceHead {
  readonly size: string;
  readonly rootHash: string;
  /** The signed note, when the head was given as a SignedCheckpoint. */
  readonly note?: string;
}

/** VerificationError INCONSISTENT_TREE: the database presented two heads that are not one history. */
export class InconsistentTreeError extends VerificationError {
  constructor(
    message: string,
    readonly evidence: InconsistencyEvidence,
    options?: { cause?: unknown },
  ) {
    super('INCONSISTENT_TREE', message, options);
  }
}

export interface ConsistencyResult {
  /** PROOF(old.size, D[0:next.size]), leaf side first; empty for equal sizes or an empty old tree. */
  readonly proof: Hash[];
  /** Tiles fetched over the network for this proof (cached tiles not counted). */
  readonly tilesFetched: number;
  /** Go sumdb paths of the hash tiles used (proof and authentication). */
  readonly tiles: string[];
}

export interface LookupResult {
  /** The record's leaf index. */
  readonly id: bigint;
  /** The record text: the module version's go.sum lines, each ending in "\n". */
  readonly text: string;
  /** The signed tree head the lookup came with; the record is proven included in it. */
  readonly checkpoint: SignedCheckpoint;
  /** PATH(id, D[0:checkpoint.size]), leaf side first. */
  readonly proof: Hash[];
  readonly tilesFetched: number;
}

export interface SumdbClientStats {
  /** HTTP requests made, retries included. */
  requests: number;
  /** Tiles (hash and data) fetched over the network. */
  tilesFetched: number;
  /** Tiles served from the cache. */
  tileCacheHits: number;
}

// ---------------------------------------------------------------------------------------------------

/** Hash tiles gathered for one tree, with where each came from. Keys are tlog-tiles paths (tilePath). */
interface TileSet {
  readonly refs: Map<string, TileRef>;
  readonly data: Map<string, Uint8Array>;
  readonly hashes: Map<string, Hash[]>;
  readonly fromCache: Set<string>;
  fetched: number;
}

function newTileSet(): TileSet {
  return { refs: new Map(), data: new Map(), hashes: new Map(), fromCache: new Set(), fetched: 0 };
}

function headOf(head: TreeHead): { checkpoint: Checkpoint; note?: string } {
  return 'checkpoint' in head ? { checkpoint: head.checkpoint, note: head.message } : { checkpoint: head };
}

function evidenceHead(head: TreeHead): EvidenceHead {
  const { checkpoint, note } = headOf(head);
  return { size: String(checkpoint.size), rootHash: encodeBase64(checkpoint.rootHash), ...(note === undefined ? {} : { note }) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; undefined if absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** A retryable failure of one attempt, with the delay the server asked for (if any). */
class RetryableFailure {
  constructor(
    readonly error: EnvironmentError,
    readonly retryAfter?: number,
  ) {}
}

/**
 * Client for one Go checksum database. One instance may be shared; its tile cache is shared with it.
 */
export class SumdbClient {
  /** The base URL, always ending in "/". */
  readonly baseUrl: string;
  readonly origin: string;
  readonly verifierKey: string;
  readonly tileCache: TileCache;
  readonly stats: SumdbClientStats = { requests: 0, tilesFetched: 0, tileCacheHits: 0 };
  private readonly verifier: Verifier;
  /** `<size> <root>` of heads whose signature this client checked: they may vouch for cached tiles. */
  private readonly verifiedHeads = new Set<string>();
  private readonly doFetch: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly maxLatestBytes: number;
  private readonly maxLookupBytes: number;
  private readonly maxDataTileBytes: number;
  private readonly concurrency: number;
  private readonly onRequest: ((url: string) => void) | undefined;
  private readonly onProgress: OnProgress | undefined;
  private readonly userAgent: string;

  constructor(options: SumdbClientOptions = {}) {
    const base = options.baseUrl ?? SUMDB_URL;
    let url: URL;
    try {
      url = new URL(base);
    } catch {
      throw new UsageError('INVALID_URL', `${JSON.stringify(base)} is not a URL`);
    }
    // file: only with an injected fetch that knows how to read it (gocache.ts: the go command's cache).
    const fileWithFetch = url.protocol === 'file:' && options.fetch !== undefined;
    if (url.protocol !== 'https:' && url.protocol !== 'http:' && !fileWithFetch) throw new UsageError('INVALID_URL', `${base}: only http(s) URLs are supported`);
    if (url.search !== '' || url.hash !== '') throw new UsageError('INVALID_URL', `${base}: a sumdb base URL has no query or fragment`);
    this.baseUrl = url.href.replace(/\/+$/, '') + '/';
    this.origin = options.origin ?? SUMDB_ORIGIN;
    this.verifierKey = options.verifierKey ?? SUMDB_VERIFIER_KEY;
    this.verifier = noteVerifier(this.verifierKey);
    this.doFetch = options.fetch ?? fetch;
    this.timeoutMs = positive(options.timeoutMs, 20_000, 'timeoutMs');
    this.retries = nonNegativeInteger(options.retries, 3, 'retries');
    this.retryBaseMs = nonNegative(options.retryBaseMs, 500, 'retryBaseMs');
    this.maxRetryDelayMs = nonNegative(options.maxRetryDelayMs, 30_000, 'maxRetryDelayMs');
    this.maxRetryAfterMs = nonNegative(options.maxRetryAfterMs, 60_000, 'maxRetryAfterMs');
    this.maxLatestBytes = positive(options.maxLatestBytes, 64 * 1024, 'maxLatestBytes');
    this.maxLookupBytes = positive(options.maxLookupBytes, 64 * 1024, 'maxLookupBytes');
    this.maxDataTileBytes = positive(options.maxDataTileBytes, 1024 * 1024, 'maxDataTileBytes');
    this.concurrency = Math.max(1, nonNegativeInteger(options.concurrency, 8, 'concurrency'));
    this.tileCache = options.tileCache ?? new MemoryTileCache();
    this.onRequest = options.onRequest;
    this.onProgress = options.onProgress;
    this.userAgent = options.userAgent ?? 'go-source-witness';
  }

  // -------------------------------------------------------------------------------------------------
  // Tree heads.

  /** Opens a signed tree note of this database: signature by the verifier key, origin line (tlog.ParseTree). */
  openCheckpoint(message: string | Uint8Array): SignedCheckpoint {
    const text = typeof message === 'string' ? message : decodeUtf8(message, 'MALFORMED_NOTE');
    const signed = openCheckpoint(text, [this.verifier], this.origin);
    this.rememberVerified(signed.checkpoint);
    return signed;
  }

  /** GET /latest: the current signed tree head, verified (golang.org/design/25530-sumdb "Checksum Database"). */
  async latest(): Promise<SignedCheckpoint> {
    const body = await this.get('latest', this.maxLatestBytes);
    return this.openCheckpoint(body);
  }

  // -------------------------------------------------------------------------------------------------
  // Tiles.

  /**
   * Reads hash tiles of tree `size` (each ref at its width in that tree), from the cache or the network,
   * keyed by Go sumdb path. NOT authenticated: see authenticateTiles. A partial tile that is not found is
   * read from the full tile, truncated (tlog-tiles: partial tiles may be deleted once the full tile exists).
   */
  async readTiles(size: bigint, refs: readonly TileRef[]): Promise<Map<string, Uint8Array>> {
    const set = newTileSet();
    await this.loadTiles(refs.map((ref) => checkTileOfTree(size, ref)), set, false);
    return new Map([...set.data].map(([path, data]) => [sumdbTilePath(set.refs.get(path)!), data]));
  }

  /**
   * Checks hash tiles of `checkpoint`'s tree (keyed by Go sumdb path) against its root, the way a correct
   * TileHashReader must (tlog/tile.go): every full tile's perfect-subtree hash must equal its entry in the parent
   * tile, recursively, up to the right-edge partial tiles, which must produce the root. Parent and edge
   * tiles missing from `tiles` are read (cache first). Returns every tile checked, `tiles` included.
   * Throws VerificationError TILE_ROOT_MISMATCH or TILE_HASH_MISMATCH when they do not authenticate
   * (checked a second time with parents from the server rather than the cache), FormatError MALFORMED_TILE
   * for a tile of the wrong length. Nothing is cached: the checkpoint given here may not be a verified one.
   */
  async authenticateTiles(checkpoint: Checkpoint, tiles: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
    const given: Array<[TileRef, Uint8Array]> = [...tiles].map(([path, data]) => [checkTileOfTree(checkpoint.size, parseSumdbTilePath(path)), data]);
    for (const fresh of [false, true]) {
      const set = newTileSet();
      for (const [ref, data] of given) addTile(set, ref, data); // FormatError MALFORMED_TILE for a wrong length
      try {
        await this.authenticate(checkpoint, set, fresh);
      } catch (error) {
        // A parent read from the cache may be what is wrong: check once more with the server's copy.
        if (error instanceof VerificationError && !fresh && set.fromCache.size > 0) continue;
        throw error;
      }
      return new Map([...set.data].map(([path, data]) => [sumdbTilePath(set.refs.get(path)!), data]));
    }
    throw new Error('unreachable');
  }

  /**
   * The record texts of data tile `index` of a verified tree head (GET /tile/8/data/<N>[.p/<W>]), each
   * checked against its leaf hash in the authenticated level-0 hash tile.
   */
  async readDataTile(head: SignedCheckpoint, index: bigint): Promise<string[]> {
    const { checkpoint } = this.reopen(head);
    if (index < 0n || index * BigInt(TILE_WIDTH) >= checkpoint.size) {
      throw new UsageError('TILE_NOT_IN_TREE', `data tile ${index} is not in the tree of size ${checkpoint.size}`);
    }
    const hashRef = tileForHash(checkpoint.size, 0, index * BigInt(TILE_WIDTH));
    const { set } = await this.authenticatedTiles(checkpoint, [hashRef], () => undefined);
    const hashes = set.hashes.get(tilePath(hashRef))!;
    const dataRef: TileRef = { level: 'entries', index, width: hashRef.width };
    const path = sumdbTilePath(dataRef);
    const { body, width } = await this.fetchDataTile(dataRef);
    let texts: Uint8Array[];
    try {
      texts = decodeDataTile(body, width).slice(0, dataRef.width);
    } catch (error) {
      throw new EnvironmentError('BAD_TILES', `${this.url(path)}: ${(error as Error).message}`, { cause: error });
    }
    texts.forEach((text, i) => {
      if (!bytesEqual(recordLeafHash(text), hashes[i]!)) {
        throw new EnvironmentError(
          'BAD_TILES',
          `${this.url(path)}: record ${index * BigInt(TILE_WIDTH) + BigInt(i)} does not match its leaf hash in the authenticated tree`,
        );
      }
    });
    this.cacheTiles(set);
    return texts.map((text) => decodeUtf8(text, 'MALFORMED_RECORD'));
  }

  /**
   * GET the bytes of data tile `ref` (`tile/8/data/<N>[.p/<W>]`), NOT decoded or authenticated (see
   * readDataTile, src/toolchains/tiles.ts). A partial tile that is not found is read from the full tile
   * (tlog-tiles: partials may be deleted); `width` says how many records the bytes hold.
   */
  async fetchDataTile(ref: TileRef): Promise<{ body: Uint8Array; width: number }> {
    if (ref.level !== 'entries') throw new UsageError('NOT_A_DATA_TILE', `${sumdbTilePath(ref)} is not a data tile`);
    const path = sumdbTilePath(ref);
    let body = await this.get(path, this.maxDataTileBytes, { notFoundOk: ref.width < TILE_WIDTH });
    let width = ref.width;
    if (body === undefined) {
      // As for hash tiles: a deleted partial data tile is the prefix of the full one.
      const fullPath = sumdbTilePath({ ...ref, width: TILE_WIDTH });
      body = await this.get(fullPath, this.maxDataTileBytes, { notFoundOk: true });
      if (body === undefined) throw new EnvironmentError('TILE_NOT_FOUND', `${this.url(path)}: not found, nor ${this.url(fullPath)}`);
      width = TILE_WIDTH;
    }
    this.stats.tilesFetched++;
    return { body, width };
  }

  // -------------------------------------------------------------------------------------------------
  // Proofs.

  /**
   * Proves that `next` extends `old`: builds PROOF(old.size, D[0:next.size]) from authenticated
   * tiles of next's tree and verifies it against both roots (RFC 9162 §2.1.4.2).
   *
   * - next.size < old.size: EnvironmentError OLDER_HEAD (a lagging cache or CDN; not evidence: skip).
   * - equal sizes: equal roots give an empty proof; different roots throw InconsistentTreeError.
   * - tiles that do not authenticate against next's root (after a second try that bypasses the cache):
   *   EnvironmentError BAD_TILES, not evidence.
   * - authenticated tiles whose proof fails: InconsistentTreeError (VerificationError INCONSISTENT_TREE)
   *   with the evidence.
   *
   * Tiles are cached only when `next` is a head whose signature this client has checked: a
   * SignedCheckpoint (its note is verified again here) or a Checkpoint equal to a head this client opened
   * (latest, lookup, openCheckpoint). SignedCheckpoints also put their notes into the evidence.
   */
  async proveConsistency(old: TreeHead, next: TreeHead): Promise<ConsistencyResult> {
    const a = headOf(old).checkpoint;
    const b = headOf(next).checkpoint;
    for (const c of [a, b]) {
      if (c.origin !== this.origin) {
        throw new UsageError('ORIGIN_MISMATCH', `checkpoint origin ${JSON.stringify(c.origin)} is not ${JSON.stringify(this.origin)}`);
      }
    }
    // Only a head signed with our key may vouch for tiles we keep; a signed head must verify.
    if ('checkpoint' in old) this.reopen(old);
    if ('checkpoint' in next) this.reopen(next);
    const cacheable = this.verifiedHeads.has(headKey(b));
    if (b.size < a.size) {
      throw new EnvironmentError(
        'OLDER_HEAD',
        `the tree head from ${this.baseUrl} (size ${b.size}) is older than the one already known (size ${a.size}): a lagging cache, not evidence`,
      );
    }
    const inconsistent = (why: string, proof: Hash[], set?: TileSet, cause?: unknown): never => {
      const tiles = set
        ? [...set.data].map(([path, data]) => ({ path: sumdbTilePath(set.refs.get(path)!), data: encodeBase64(data) }))
        : [];
      throw new InconsistentTreeError(
        `${this.origin}: tree head ${b.size} (${encodeBase64(b.rootHash)}) is inconsistent with tree head ${a.size} (${encodeBase64(a.rootHash)}): ${why}`,
        { origin: this.origin, old: evidenceHead(old), next: evidenceHead(next), proof: proof.map(encodeBase64), tiles },
        cause === undefined ? undefined : { cause },
      );
    };
    if (a.size === b.size) {
      if (!bytesEqual(a.rootHash, b.rootHash)) inconsistent('same size, different root hashes', []);
      return { proof: [], tilesFetched: 0, tiles: [] };
    }
    if (a.size === 0n) {
      if (!bytesEqual(a.rootHash, EMPTY_TREE_HASH)) inconsistent('the empty tree has another root hash', []);
      return { proof: [], tilesFetched: 0, tiles: [] };
    }
    const refs = tilesForConsistencyProof(a.size, b.size);
    const { set, value } = await this.authenticatedTiles(b, refs, (tiles) => {
      const proof = proveConsistencyWith(a.size, b.size, tileNodeReader(b.size, this.source(tiles)));
      try {
        verifyConsistency(a.size, b.size, proof, a.rootHash, b.rootHash);
      } catch (error) {
        if (!(error instanceof VerificationError)) throw error;
        // The tiles authenticate against next's signed root, so the proof is next's true proof: old's root
        // is not the root of next's first old.size leaves.
        inconsistent(error.message, proof, tiles, error);
      }
      return proof;
    });
    if (cacheable) this.cacheTiles(set);
    return { proof: value, tilesFetched: set.fetched, tiles: [...set.refs.values()].map(sumdbTilePath) };
  }

  /**
   * GET /lookup/<path>@<version> (sumdb/server.go): the record of a module version, its signed tree head verified,
   * and the record's inclusion in that tree proven from authenticated tiles (leaf hash SHA-256(0x00 ||
   * text)). A `/go.mod` suffix on the version is dropped, as the go command does. A record that the tree
   * does not hold is VerificationError INCLUSION_PROOF_FAILED; an unknown module version is
   * EnvironmentError NOT_FOUND.
   */
  async lookup(modulePath: string, version: string): Promise<LookupResult> {
    const plainVersion = version.endsWith('/go.mod') ? version.slice(0, -'/go.mod'.length) : version;
    const path = lookupPath(modulePath, plainVersion);
    const body = await this.get(path, this.maxLookupBytes);
    const record = parseRecord(body);
    const signed = this.openCheckpoint(record.rest);
    const { checkpoint } = signed;
    const text = decodeUtf8(record.text, 'MALFORMED_RECORD');
    if (record.id >= checkpoint.size) {
      throw new VerificationError('INCLUSION_PROOF_FAILED', `${this.url(path)}: record ${record.id} is not in the tree of size ${checkpoint.size}`);
    }
    // golang/mod client.go Lookup: the record must hold the lines of this module version.
    const prefixes = [`${modulePath} ${plainVersion} `, `${modulePath} ${plainVersion}/go.mod `];
    if (!text.split('\n').some((line) => prefixes.some((prefix) => line.startsWith(prefix)))) {
      throw new VerificationError('WRONG_RECORD', `${this.url(path)}: record ${record.id} is not for ${modulePath}@${plainVersion}`);
    }
    const leaf = recordLeafHash(record.text);
    const refs = tilesForInclusionProof(record.id, checkpoint.size);
    const { set, value } = await this.authenticatedTiles(checkpoint, refs, (tiles) => {
      const proof = proveInclusion(record.id, checkpoint.size, tileNodeReader(checkpoint.size, this.source(tiles)));
      try {
        verifyInclusion(record.id, checkpoint.size, leaf, proof, checkpoint.rootHash);
      } catch (error) {
        if (!(error instanceof VerificationError)) throw error;
        throw new VerificationError(
          'INCLUSION_PROOF_FAILED',
          `${this.url(path)}: record ${record.id} is not the leaf at that index in tree ${checkpoint.size}: ${error.message}`,
          { cause: error },
        );
      }
      return proof;
    });
    this.cacheTiles(set);
    return { id: record.id, text, checkpoint: signed, proof: value, tilesFetched: set.fetched };
  }

  // -------------------------------------------------------------------------------------------------
  // Internals: authenticated tile sets.

  /**
   * Loads `refs` of `checkpoint`'s tree, authenticates them (and the tiles that takes) and runs `use` on
   * them. If authentication fails and any tile came from the cache, everything is read again from the
   * network once; if that fails too, EnvironmentError BAD_TILES.
   */
  private async authenticatedTiles<T>(
    checkpoint: Checkpoint,
    refs: readonly TileRef[],
    use: (set: TileSet) => T,
  ): Promise<{ set: TileSet; value: T }> {
    let fetched = 0;
    for (const fresh of [false, true]) {
      const set = newTileSet();
      set.fetched = fetched;
      try {
        await this.loadTiles(refs, set, fresh);
        await this.authenticate(checkpoint, set, fresh);
      } catch (error) {
        fetched = set.fetched;
        if (!(error instanceof VerificationError) && !isBadTile(error)) throw error;
        if (!fresh && set.fromCache.size > 0) continue;
        if (isBadTile(error)) throw error;
        throw new EnvironmentError(
          'BAD_TILES',
          `tiles from ${this.baseUrl} do not authenticate against the signed tree head of size ${checkpoint.size}: ${(error as Error).message} (a bad server or cache, not evidence)`,
          { cause: error },
        );
      }
      return { set, value: use(set) };
    }
    throw new Error('unreachable');
  }

  /** Adds the parent and right-edge tiles authentication needs, then checks every tile in `set`. */
  private async authenticate(checkpoint: Checkpoint, set: TileSet, fresh: boolean): Promise<void> {
    const { size, rootHash } = checkpoint;
    const wanted = new Map(set.refs);
    for (const ref of tilesForTreeHash(size)) wanted.set(tilePath(ref), ref);
    const queue = [...wanted.values()];
    for (let ref = queue.pop(); ref !== undefined; ref = queue.pop()) {
      if (ref.width !== TILE_WIDTH) continue;
      const parent = parentTile(size, ref);
      const key = tilePath(parent);
      if (!wanted.has(key)) {
        wanted.set(key, parent);
        queue.push(parent);
      }
    }
    await this.loadTiles([...wanted.values()].filter((ref) => !set.refs.has(tilePath(ref))), set, fresh);
    // The right edge hashes to the signed root…
    verifyTreeHashFromTiles(size, rootHash, this.source(set));
    // …and every full tile to its entry one level up, which is itself checked, up to the edge.
    for (const [key, ref] of set.refs) {
      if (ref.width !== TILE_WIDTH) continue;
      const parent = parentTile(size, ref);
      const expected = set.hashes.get(tilePath(parent))![Number(ref.index % BigInt(TILE_WIDTH))]!;
      if (!bytesEqual(perfectSubtreeHash(set.hashes.get(key)!), expected)) {
        throw new VerificationError(
          'TILE_HASH_MISMATCH',
          `tile ${sumdbTilePath(ref)} does not hash to its entry in ${sumdbTilePath(parent)} (tree size ${size})`,
        );
      }
    }
  }

  private source(set: TileSet): (ref: TileRef) => Hash[] {
    return (ref) => {
      const hashes = set.hashes.get(tilePath(ref));
      if (!hashes) throw new Error(`internal: tile ${sumdbTilePath(ref)} was not loaded`);
      return hashes;
    };
  }

  /** Stores the tiles of an authenticated set that did not come from the cache. */
  private cacheTiles(set: TileSet): void {
    for (const [key, data] of set.data) {
      if (!set.fromCache.has(key)) this.tileCache.set(sumdbTilePath(set.refs.get(key)!), data);
    }
  }

  private rememberVerified(checkpoint: Checkpoint): void {
    if (this.verifiedHeads.size >= 1024) this.verifiedHeads.clear();
    this.verifiedHeads.add(headKey(checkpoint));
  }

  /** Re-verifies a SignedCheckpoint's note with our key; its parsed fields must match. */
  private reopen(head: SignedCheckpoint): SignedCheckpoint {
    const opened = this.openCheckpoint(head.message);
    const c = opened.checkpoint;
    if (c.size !== head.checkpoint.size || !bytesEqual(c.rootHash, head.checkpoint.rootHash)) {
      throw new UsageError('CHECKPOINT_MISMATCH', 'the signed checkpoint given does not match its own note');
    }
    return opened;
  }

  /** Loads hash tiles into `set` (cache first unless `fresh`), `concurrency` at a time. */
  private async loadTiles(refs: readonly TileRef[], set: TileSet, fresh: boolean): Promise<void> {
    const todo = refs.filter((ref) => !set.refs.has(tilePath(ref)));
    let next = 0;
    const worker = async () => {
      while (next < todo.length) {
        const ref = todo[next++]!;
        const cached = fresh ? undefined : this.cachedTile(ref);
        if (cached) {
          addTile(set, ref, cached);
          set.fromCache.add(tilePath(ref));
          this.stats.tileCacheHits++;
          continue;
        }
        const data = await this.fetchHashTile(ref);
        set.fetched++;
        addTile(set, ref, data);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, todo.length) }, worker));
  }

  /** A tile from the cache: at its own path, or a partial tile as the prefix of a cached full tile. */
  private cachedTile(ref: TileRef): Uint8Array | undefined {
    const want = ref.width * HASH_SIZE;
    const exact = this.tileCache.get(sumdbTilePath(ref));
    if (exact && exact.length === want) return exact;
    if (ref.width < TILE_WIDTH) {
      const full = this.tileCache.get(sumdbTilePath({ ...ref, width: TILE_WIDTH }));
      if (full && full.length === FULL_TILE_BYTES) return full.subarray(0, want);
    }
    return undefined;
  }

  private async fetchHashTile(ref: TileRef): Promise<Uint8Array> {
    const path = sumdbTilePath(ref);
    const want = ref.width * HASH_SIZE;
    let data = await this.get(path, FULL_TILE_BYTES, { notFoundOk: ref.width < TILE_WIDTH });
    if (data === undefined) {
      // tlog-tiles: a partial tile may be deleted once its full tile exists; its hashes are a prefix.
      const fullPath = sumdbTilePath({ ...ref, width: TILE_WIDTH });
      const full = await this.get(fullPath, FULL_TILE_BYTES, { notFoundOk: true });
      if (full === undefined) throw new EnvironmentError('TILE_NOT_FOUND', `${this.url(path)}: not found, nor ${this.url(fullPath)}`);
      if (full.length !== FULL_TILE_BYTES) {
        throw new EnvironmentError('BAD_TILES', `${this.url(fullPath)} has ${full.length} bytes, want ${FULL_TILE_BYTES}`);
      }
      data = full.subarray(0, want);
    }
    if (data.length !== want) throw new EnvironmentError('BAD_TILES', `${this.url(path)} has ${data.length} bytes, want ${want}`);
    this.stats.tilesFetched++;
    this.onProgress?.({ phase: 'fetching sumdb tiles', done: this.stats.tilesFetched, unit: 'tiles' });
    return data;
  }

  // -------------------------------------------------------------------------------------------------
  // Internals: HTTP.

  private url(relative: string): string {
    return this.baseUrl + relative;
  }

  /** GET with timeout, bounded body and retries. 404/410 give undefined when `notFoundOk`. */
  private async get(relative: string, maxBytes: number): Promise<Uint8Array>;
  private async get(relative: string, maxBytes: number, options: { notFoundOk: boolean }): Promise<Uint8Array | undefined>;
  private async get(relative: string, maxBytes: number, options: { notFoundOk?: boolean } = {}): Promise<Uint8Array | undefined> {
    const url = this.url(relative);
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.attempt(url, maxBytes, options.notFoundOk ?? false);
      if (!(outcome instanceof RetryableFailure)) return outcome;
      if (attempt >= this.retries) throw outcome.error;
      let delay: number;
      if (outcome.retryAfter !== undefined) {
        if (outcome.retryAfter > this.maxRetryAfterMs) {
          throw new EnvironmentError(
            outcome.error.code,
            `${outcome.error.message}; Retry-After of ${Math.ceil(outcome.retryAfter / 1000)} s is longer than the ${Math.ceil(this.maxRetryAfterMs / 1000)} s accepted`,
            { cause: outcome.error },
          );
        }
        delay = outcome.retryAfter;
      } else {
        // Exponential backoff with "equal jitter": half fixed, half random.
        const ceiling = Math.min(this.maxRetryDelayMs, this.retryBaseMs * 2 ** attempt);
        delay = ceiling / 2 + Math.random() * (ceiling / 2);
      }
      this.onProgress?.({ phase: `fetching from ${new URL(url).host}`, retry: { reason: outcome.error.message, waitMs: delay, attempt: attempt + 1 } });
      await sleep(delay);
    }
  }

  private async attempt(url: string, maxBytes: number, notFoundOk: boolean): Promise<Uint8Array | undefined | RetryableFailure> {
    this.stats.requests++;
    this.onRequest?.(url);
    const signal = AbortSignal.timeout(this.timeoutMs);
    let response: Response;
    try {
      response = await this.doFetch(url, { signal, redirect: 'follow', headers: { 'User-Agent': this.userAgent } });
    } catch (error) {
      return new RetryableFailure(networkError(url, error, this.timeoutMs));
    }
    const { status } = response;
    if (status === 200) {
      try {
        return await readBounded(response, url, maxBytes);
      } catch (error) {
        if (error instanceof WitnessError) throw error;
        return new RetryableFailure(networkError(url, error, this.timeoutMs));
      }
    }
    await response.body?.cancel().catch(() => undefined);
    if ((status === 404 || status === 410) && notFoundOk) return undefined;
    if (status === 404 || status === 410) throw new EnvironmentError('NOT_FOUND', `${url}: not found (HTTP ${status})`);
    if (status === 429 || status === 503) {
      const code = status === 429 ? 'RATE_LIMITED' : 'SUMDB_UNAVAILABLE';
      return new RetryableFailure(new EnvironmentError(code, `${url}: HTTP ${status}`), retryAfterMs(response.headers.get('retry-after')));
    }
    if (status >= 500) return new RetryableFailure(new EnvironmentError('SUMDB_UNAVAILABLE', `${url}: HTTP ${status}`));
    throw new EnvironmentError('HTTP_ERROR', `${url}: HTTP ${status}`);
  }
}

// ---------------------------------------------------------------------------------------------------

function headKey(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.size}\n${encodeBase64(checkpoint.rootHash)}`;
}

function addTile(set: TileSet, ref: TileRef, data: Uint8Array): void {
  const key = tilePath(ref);
  set.refs.set(key, ref);
  set.data.set(key, data);
  set.hashes.set(key, decodeHashTile(data, ref));
}

/** The tile one level up holding the perfect-subtree hash of full tile `ref` (its entry ref.index % 256). */
function parentTile(size: bigint, ref: TileRef): TileRef {
  if (ref.level === 'entries') throw new Error('internal: parentTile of an entry bundle');
  return tileForHash(size, ref.level + 1, ref.index);
}

/** `ref` must be a hash tile of tree `size` at exactly the width that tree gives it. */
function checkTileOfTree(size: bigint, ref: TileRef): TileRef {
  if (ref.level === 'entries') throw new UsageError('NOT_A_HASH_TILE', `${sumdbTilePath(ref)} is a data tile, not a hash tile`);
  let inTree: TileRef | undefined;
  try {
    inTree = tileForHash(size, ref.level, ref.index * BigInt(TILE_WIDTH));
  } catch {
    inTree = undefined;
  }
  if (!inTree || inTree.width !== ref.width) {
    throw new UsageError('TILE_NOT_IN_TREE', `${sumdbTilePath(ref)} is not a tile of the tree of size ${size}`);
  }
  return ref;
}

function isBadTile(error: unknown): boolean {
  return error instanceof WitnessError && (error.code === 'BAD_TILES' || error.code === 'MALFORMED_TILE');
}

function networkError(url: string, error: unknown, timeoutMs: number): EnvironmentError {
  const e = error as Error;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new EnvironmentError('SUMDB_TIMEOUT', `${url}: no complete response within ${timeoutMs} ms`, { cause: error });
  }
  // undici reports "fetch failed" and puts the reason (ECONNREFUSED, ECONNRESET…) in `cause`.
  const cause = (e as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  const detail = cause?.code ?? cause?.message;
  const message = e?.message ?? String(error);
  return new EnvironmentError('SUMDB_FETCH_FAILED', `${url}: ${message}${detail ? ` (${detail})` : ''}`, { cause: error });
}

async function readBounded(response: Response, url: string, maxBytes: number): Promise<Uint8Array> {
  const declared = response.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new EnvironmentError('RESPONSE_TOO_LARGE', `${url}: ${declared} bytes, more than the ${maxBytes} accepted`);
  }
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new EnvironmentError('RESPONSE_TOO_LARGE', `${url}: more than the ${maxBytes} bytes accepted`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new UsageError('INVALID_OPTION', `${name} must be a non-negative number, not ${v}`);
  return v;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = nonNegative(value, fallback, name);
  if (v === 0) throw new UsageError('INVALID_OPTION', `${name} must be positive`);
  return v;
}

function nonNegativeInteger(value: number | undefined, fallback: number, name: string): number {
  const v = nonNegative(value, fallback, name);
  if (!Number.isInteger(v)) throw new UsageError('INVALID_OPTION', `${name} must be an integer, not ${v}`);
  return v;
}
