// A client for the Go checksum database (sum.golang.org), as a witness needs it: the protocol of
// golang/mod sumdb/client.go over an injected remote (its ClientOps.ReadRemote: remote.ts), with tiles
// authenticated by the pure tile reader (src/tlog/tile-reader.ts, golang/mod tlog.TileHashReader).
//
//   GET <base>/latest                              the signed tree head (key sum.golang.org, origin line
//                                                  "go.sum database tree": the key name differs from the origin)
//   GET <base>/tile/8/<L>/<N>[.p/<W>]              hash tiles of height 8 (c2sp.org/tlog-tiles numbering)
//   GET <base>/tile/8/data/<N>[.p/<W>]             data tiles: the record texts of leaves N·256 …
//   GET <base>/lookup/<escaped path>@<escaped ver> `<id>\n<text>\n` + the signed tree head
//
// <base> is https://sum.golang.org or a module proxy's <proxy>/sumdb/sum.golang.org ("Checksum database"
// in https://go.dev/ref/mod#checksum-database). Everything the server sends is untrusted:
//
// - Tree heads must carry a valid signature by the pinned verifier key and the expected origin line.
// - Tiles are authenticated against a signed root before anything they hold is trusted or cached
//   (c2sp.org/tlog-tiles: tiles are untrusted). Every tile used is checked, not only the right edge
//   (TileHashReader in src/tlog/tile-reader.ts says how; golang/mod's leaves some full tiles unchecked).
// - A consistency proof is built from tiles of the newer tree (golang/mod tlog.ProveTree) and verified
//   against both signed roots (RFC 9162 §2.1.4.2). When the tiles authenticate against the newer root and
//   the proof still fails, the two heads cannot both be true: that is a fork, reported as
//   INCONSISTENT_TREE with the evidence (both notes, the proof, the tiles: evidence.ts). Tiles that do not
//   authenticate are a bad server or cache, reported as BAD_TILES (an environment error), never as evidence.
//
// Network failures are EnvironmentErrors naming the URL; timeouts, retries and the bound on every response
// body are the remote's (remote.ts, src/infra/http.ts).
import { EnvironmentError, UsageError, VerificationError, WitnessError } from '../errors.js';
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
import { TILE_WIDTH, type TileRef, tileForHash, tilePath, tilesForConsistencyProof, tilesForInclusionProof } from '../tlog/tile.js';
import { type AuthenticatedTiles, TileHashReader } from '../tlog/tile-reader.js';
import { type EvidenceHead, type InconsistencyEvidence, InconsistentTreeError, type TreeHead, evidenceHead, headOf } from './evidence.js';
import { lookupPath, escapeModulePath, parseSumdbTilePath, sumdbTilePath, SUMDB_TILE_HEIGHT } from './paths.js';
import { decodeDataTile, parseRecord, recordLeafHash } from './record.js';
import { type HttpRemoteOptions, type SumdbRemote, httpRemote, nonNegativeInteger, positive } from './remote.js';
import { MemoryTileCache, type TileCache, cachedHashTile } from './tile-cache.js';

// The parts of the client that live in their own modules, exported here as before.
export { escapeModulePath, lookupPath, parseSumdbTilePath, sumdbTilePath, SUMDB_TILE_HEIGHT };
export { InconsistentTreeError, type EvidenceHead, type InconsistencyEvidence, type TreeHead };
export { MemoryTileCache, type TileCache };
export { type SumdbRemote, httpRemote };

/** The verifier key of sum.golang.org (golang/go src/cmd/go/internal/modfetch/key.go). */
export const SUMDB_VERIFIER_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
/** The origin (first) line of every Go checksum database tree note (golang/mod tlog.FormatTree). */
export const SUMDB_ORIGIN = 'go.sum database tree';
export const SUMDB_URL = 'https://sum.golang.org';

const FULL_TILE_BYTES = TILE_WIDTH * HASH_SIZE;

/** The HTTP options the default remote takes (remote.ts HttpRemoteOptions), passed through to it. */
type RemoteHttpOptions = Pick<HttpRemoteOptions, 'fetch' | 'timeoutMs' | 'retries' | 'retryBaseMs' | 'maxRetryDelayMs' | 'maxRetryAfterMs' | 'onRequest' | 'userAgent'>;

export interface SumdbClientOptions extends RemoteHttpOptions {
  /** The database: `https://sum.golang.org`, or a proxy's `<proxy>/sumdb/sum.golang.org`. Default SUMDB_URL. */
  readonly baseUrl?: string;
  /** The database's verifier key (Go note format). Default SUMDB_VERIFIER_KEY. */
  readonly verifierKey?: string;
  /** The checkpoint origin line expected. Default SUMDB_ORIGIN. */
  readonly origin?: string;
  /**
   * How the database is read (golang/mod ClientOps.ReadRemote). Default: HTTP(S) at `baseUrl` (remote.ts)
   * with the HTTP options (fetch, timeout, retries, onRequest, userAgent: see HttpRemoteOptions); when
   * given, baseUrl and those options are the remote's business and ignored here.
   */
  readonly remote?: SumdbRemote;
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
  /** Told of each retry (reason and wait) and of tiles fetched (src/progress.ts). */
  readonly onProgress?: OnProgress;
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
  /** HTTP requests made, retries included (0 with an injected remote). */
  requests: number;
  /** Tiles (hash and data) fetched over the network. */
  tilesFetched: number;
  /** Tiles served from the cache. */
  tileCacheHits: number;
}

/** How one round of hash tile reads went: which tiles came from the cache, how many from the network. */
interface TileReads {
  readonly fromCache: Set<string>;
  fetched: number;
}

/** Hash tiles of one tree, authenticated, with where they came from. */
interface AuthenticatedSet {
  readonly tiles: AuthenticatedTiles;
  readonly reads: TileReads;
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
  private readonly remote: SumdbRemote;
  private readonly verifier: Verifier;
  /** `<size> <root>` of heads whose signature this client checked: they may vouch for cached tiles. */
  private readonly verifiedHeads = new Set<string>();
  private readonly maxLatestBytes: number;
  private readonly maxLookupBytes: number;
  private readonly maxDataTileBytes: number;
  private readonly concurrency: number;
  private readonly onProgress: OnProgress | undefined;

  constructor(options: SumdbClientOptions = {}) {
    this.remote =
      options.remote ??
      httpRemote({
        ...options,
        baseUrl: options.baseUrl ?? SUMDB_URL,
        onRequest: (url) => {
          this.stats.requests++;
          options.onRequest?.(url);
        },
      });
    this.baseUrl = this.remote.baseUrl;
    this.origin = options.origin ?? SUMDB_ORIGIN;
    this.verifierKey = options.verifierKey ?? SUMDB_VERIFIER_KEY;
    this.verifier = noteVerifier(this.verifierKey);
    this.maxLatestBytes = positive(options.maxLatestBytes, 64 * 1024, 'maxLatestBytes');
    this.maxLookupBytes = positive(options.maxLookupBytes, 64 * 1024, 'maxLookupBytes');
    this.maxDataTileBytes = positive(options.maxDataTileBytes, 1024 * 1024, 'maxDataTileBytes');
    this.concurrency = Math.max(1, nonNegativeInteger(options.concurrency, 8, 'concurrency'));
    this.tileCache = options.tileCache ?? new MemoryTileCache();
    this.onProgress = options.onProgress;
  }

  // -------------------------------------------------------------------------------------------------
  // Tree heads.

  /** Opens a signed tree note of this database: signature by the verifier key, origin line. */
  openCheckpoint(message: string | Uint8Array): SignedCheckpoint {
    const text = typeof message === 'string' ? message : decodeUtf8(message, 'MALFORMED_NOTE');
    const signed = openCheckpoint(text, [this.verifier], this.origin);
    this.rememberVerified(signed.checkpoint);
    return signed;
  }

  /** GET /latest: the current signed tree head, verified. */
  async latest(): Promise<SignedCheckpoint> {
    const body = await this.read('latest', this.maxLatestBytes);
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
    const wanted = new Map<string, TileRef>();
    for (const ref of refs) wanted.set(tilePath(checkTileOfTree(size, ref)), ref);
    const todo = [...wanted.values()];
    const data = await this.loadHashTiles(todo, false, { fromCache: new Set(), fetched: 0 });
    return new Map(todo.map((ref, i) => [sumdbTilePath(ref), data[i]!]));
  }

  /**
   * Checks hash tiles of `checkpoint`'s tree (keyed by Go sumdb path) against its root, the way a correct
   * TileHashReader must: every full tile's perfect-subtree hash must equal its entry in the parent
   * tile, recursively, up to the right-edge partial tiles, which must produce the root. Parent and edge
   * tiles missing from `tiles` are read (cache first). Returns every tile checked, `tiles` included.
   * Throws VerificationError TILE_ROOT_MISMATCH or TILE_HASH_MISMATCH when they do not authenticate
   * (checked a second time with parents from the server rather than the cache), FormatError MALFORMED_TILE
   * for a tile of the wrong length. Nothing is cached: the checkpoint given here may not be a verified one.
   */
  async authenticateTiles(checkpoint: Checkpoint, tiles: ReadonlyMap<string, Uint8Array>): Promise<Map<string, Uint8Array>> {
    const given: Array<[TileRef, Uint8Array]> = [...tiles].map(([path, data]) => [checkTileOfTree(checkpoint.size, parseSumdbTilePath(path)), data]);
    for (const fresh of [false, true]) {
      const reads: TileReads = { fromCache: new Set(), fetched: 0 };
      let authenticated: AuthenticatedTiles;
      try {
        authenticated = await this.tileHashReader(checkpoint, fresh, reads).authenticate([], given);
      } catch (error) {
        // A parent read from the cache may be what is wrong: check once more with the server's copy.
        if (error instanceof VerificationError && !fresh && reads.fromCache.size > 0) continue;
        throw error;
      }
      return new Map(authenticated.entries().map(({ ref, data }) => [sumdbTilePath(ref), data]));
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
    const set = await this.authenticatedTiles(checkpoint, [hashRef]);
    const hashes = set.tiles.hashes(hashRef);
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
    let body = await this.read(path, this.maxDataTileBytes, { notFoundOk: ref.width < TILE_WIDTH });
    let width = ref.width;
    if (body === undefined) {
      // As for hash tiles: a deleted partial data tile is the prefix of the full one.
      const fullPath = sumdbTilePath({ ...ref, width: TILE_WIDTH });
      body = await this.read(fullPath, this.maxDataTileBytes, { notFoundOk: true });
      if (body === undefined) throw new EnvironmentError('TILE_NOT_FOUND', `${this.url(path)}: not found, nor ${this.url(fullPath)}`);
      width = TILE_WIDTH;
    }
    this.stats.tilesFetched++;
    return { body, width };
  }

  /**
   * Stores hash tiles authenticated against a head this client verified (the caller authenticated them:
   * src/toolchains/tiles.ts), keyed by Go sumdb path.
   */
  saveTiles(tiles: ReadonlyMap<string, Uint8Array>): void {
    for (const [path, data] of tiles) this.tileCache.set(path, data);
  }

  // -------------------------------------------------------------------------------------------------
  // Proofs.

  /**
   * Proves that `next` extends `old`: builds PROOF(old.size, D[0:next.size]) from authenticated tiles of
   * next's tree and verifies it against both roots (RFC 9162 §2.1.4.2).
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
    const inconsistent = (why: string, proof: Hash[], tiles?: AuthenticatedTiles, cause?: unknown): never => {
      const evidenceTiles = tiles ? tiles.entries().map(({ ref, data }) => ({ path: sumdbTilePath(ref), data: encodeBase64(data) })) : [];
      throw new InconsistentTreeError(
        `${this.origin}: tree head ${b.size} (${encodeBase64(b.rootHash)}) is inconsistent with tree head ${a.size} (${encodeBase64(a.rootHash)}): ${why}`,
        { origin: this.origin, old: evidenceHead(old), next: evidenceHead(next), proof: proof.map(encodeBase64), tiles: evidenceTiles },
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
    const set = await this.authenticatedTiles(b, tilesForConsistencyProof(a.size, b.size));
    const proof = proveConsistencyWith(a.size, b.size, set.tiles.nodeReader());
    try {
      verifyConsistency(a.size, b.size, proof, a.rootHash, b.rootHash);
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      // The tiles authenticate against next's signed root, so the proof is next's true proof: old's root
      // is not the root of next's first old.size leaves.
      inconsistent(error.message, proof, set.tiles, error);
    }
    if (cacheable) this.cacheTiles(set);
    return { proof, tilesFetched: set.reads.fetched, tiles: set.tiles.entries().map(({ ref }) => sumdbTilePath(ref)) };
  }

  /**
   * GET /lookup/<path>@<version>: the record of a module version, its signed tree head verified, and the
   * record's inclusion in that tree proven from authenticated tiles (leaf hash SHA-256(0x00 || text)). A
   * `/go.mod` suffix on the version is dropped, as the go command does. A record that the tree does not
   * hold is VerificationError INCLUSION_PROOF_FAILED; an unknown module version is EnvironmentError
   * NOT_FOUND.
   */
  async lookup(modulePath: string, version: string): Promise<LookupResult> {
    const plainVersion = version.endsWith('/go.mod') ? version.slice(0, -'/go.mod'.length) : version;
    const path = lookupPath(modulePath, plainVersion);
    const body = await this.read(path, this.maxLookupBytes);
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
    const set = await this.authenticatedTiles(checkpoint, tilesForInclusionProof(record.id, checkpoint.size));
    const proof = proveInclusion(record.id, checkpoint.size, set.tiles.nodeReader());
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
    this.cacheTiles(set);
    return { id: record.id, text, checkpoint: signed, proof, tilesFetched: set.reads.fetched };
  }

  // -------------------------------------------------------------------------------------------------
  // Internals: authenticated tile sets.

  /**
   * Reads `refs` of `checkpoint`'s tree and authenticates them (and the tiles that takes). If
   * authentication fails and any tile came from the cache, everything is read again from the network
   * once; if that fails too, EnvironmentError BAD_TILES.
   */
  private async authenticatedTiles(checkpoint: Checkpoint, refs: readonly TileRef[]): Promise<AuthenticatedSet> {
    let fetched = 0;
    for (const fresh of [false, true]) {
      const reads: TileReads = { fromCache: new Set(), fetched };
      try {
        return { tiles: await this.tileHashReader(checkpoint, fresh, reads).authenticate(refs), reads };
      } catch (error) {
        fetched = reads.fetched;
        if (!(error instanceof VerificationError) && !isBadTile(error)) throw error;
        if (!fresh && reads.fromCache.size > 0) continue;
        if (isBadTile(error)) throw error;
        throw new EnvironmentError(
          'BAD_TILES',
          `tiles from ${this.baseUrl} do not authenticate against the signed tree head of size ${checkpoint.size}: ${(error as Error).message} (a bad server or cache, not evidence)`,
          { cause: error },
        );
      }
    }
    throw new Error('unreachable');
  }

  /** A TileHashReader of `checkpoint`'s tree reading through this client (cache first unless `fresh`). */
  private tileHashReader(checkpoint: Checkpoint, fresh: boolean, reads: TileReads): TileHashReader {
    return new TileHashReader(checkpoint, (refs) => this.loadHashTiles(refs, fresh, reads));
  }

  /** Stores the tiles of an authenticated set that did not come from the cache. */
  private cacheTiles(set: AuthenticatedSet): void {
    for (const { ref, data } of set.tiles.entries()) {
      if (!set.reads.fromCache.has(tilePath(ref))) this.tileCache.set(sumdbTilePath(ref), data);
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

  /** Hash tiles `refs` (cache first unless `fresh`), `concurrency` at a time, in the order of `refs`. */
  private async loadHashTiles(refs: readonly TileRef[], fresh: boolean, reads: TileReads): Promise<Uint8Array[]> {
    const out = new Array<Uint8Array>(refs.length);
    let next = 0;
    const worker = async () => {
      while (next < refs.length) {
        const i = next++;
        const ref = refs[i]!;
        const cached = fresh ? undefined : cachedHashTile(this.tileCache, ref);
        if (cached) {
          out[i] = cached;
          reads.fromCache.add(tilePath(ref));
          this.stats.tileCacheHits++;
          continue;
        }
        out[i] = await this.fetchHashTile(ref);
        reads.fetched++;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, refs.length) }, worker));
    return out;
  }

  private async fetchHashTile(ref: TileRef): Promise<Uint8Array> {
    const path = sumdbTilePath(ref);
    const want = ref.width * HASH_SIZE;
    let data = await this.read(path, FULL_TILE_BYTES, { notFoundOk: ref.width < TILE_WIDTH });
    if (data === undefined) {
      // tlog-tiles: a partial tile may be deleted once its full tile exists; its hashes are a prefix.
      const fullPath = sumdbTilePath({ ...ref, width: TILE_WIDTH });
      const full = await this.read(fullPath, FULL_TILE_BYTES, { notFoundOk: true });
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
  // Internals: the remote.

  private url(relative: string): string {
    return this.baseUrl + relative;
  }

  private read(relative: string, maxBytes: number): Promise<Uint8Array>;
  private read(relative: string, maxBytes: number, options: { notFoundOk: boolean }): Promise<Uint8Array | undefined>;
  private async read(relative: string, maxBytes: number, options: { notFoundOk?: boolean } = {}): Promise<Uint8Array | undefined> {
    const body = await this.remote.read(relative, maxBytes, options);
    if (body === undefined && !options.notFoundOk) throw new EnvironmentError('NOT_FOUND', `${this.url(relative)}: not found`);
    return body;
  }
}

// ---------------------------------------------------------------------------------------------------

function headKey(checkpoint: Checkpoint): string {
  return `${checkpoint.origin}\n${checkpoint.size}\n${encodeBase64(checkpoint.rootHash)}`;
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
