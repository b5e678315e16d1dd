// Reading many data tiles of the checksum database, each authenticated against a verified signed tree
// head (research.swtch.com/tlog#tiling_a_log; c2sp.org/tlog-tiles). The hash tiles that vouch for a batch
// are authenticated together through SumdbClient.authenticateTiles (each full tile's hash must be its
// entry one level up, recursively, up to the right edge, which must hash to the signed root); then the
// records' leaf hashes SHA-256(0x00 || text) (RFC 6962 §2.1) must rebuild what those tiles hold
// (tile-check.ts, in worker threads when a pool has them). Nothing from a data tile is used before that.
import { EnvironmentError, VerificationError } from '../errors.js';
import type { SumdbClient } from '../sumdb/client.js';
import { sumdbTilePath } from '../sumdb/paths.js';
import type { SignedCheckpoint } from '../tlog/checkpoint.js';
import { HASH_SIZE } from '../tlog/merkle.js';
import { TILE_WIDTH, type TileRef, tileForHash, tilePath } from '../tlog/tile.js';
import { TileCheckPool } from './tile-workers.js';

/** The records of one data tile, authenticated: records first … first + count - 1. */
export class DataTileRecords {
  constructor(
    readonly index: bigint,
    readonly first: bigint,
    private readonly body: Uint8Array,
    /** Record i is body[offsets[i], offsets[i + 1] - 1). */
    private readonly offsets: Uint32Array,
    /** The module-version key of record i: keys[2i] (high), keys[2i + 1] (low) (moduleVersionKeyInto). */
    readonly keys: Uint32Array,
    /** Where "<path> <version>" ends in record i, or -1 when it is not two go.sum lines. */
    readonly ends: Int32Array,
  ) {}

  /** Records in the tile. */
  get count(): number {
    return this.ends.length;
  }

  /** Bytes received for this tile. */
  get bytes(): number {
    return this.body.length;
  }

  /** The text of record first + i. */
  text(i: number): Uint8Array {
    return this.body.subarray(this.offsets[i]!, this.offsets[i + 1]! - 1);
  }

  /** Whether the text of record first + i starts with `prefix`. */
  startsWith(i: number, prefix: Uint8Array): boolean {
    const start = this.offsets[i]!;
    if (start + prefix.length > this.offsets[i + 1]! - 1) return false;
    for (let j = 0; j < prefix.length; j++) if (this.body[start + j] !== prefix[j]) return false;
    return true;
  }
}

/** Runs `work` on every item, at most `concurrency` at a time; results in input order. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
  return results;
}

const IN_THREAD = new TileCheckPool(0);

/**
 * Reads data tiles of one verified tree head, authenticated (see read). Reads may overlap (a scan asks for
 * the next batches while it indexes one): their data tile fetches share one limit of `concurrency` in
 * flight, granted in the order asked, so the connection never idles between batches.
 */
export class DataTileReader {
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  /** Hash tiles that vouch for data tiles, authenticated against the head, by tlog-tiles path. */
  private readonly vouchers = new Map<string, Uint8Array>();

  constructor(
    readonly client: SumdbClient,
    readonly head: SignedCheckpoint,
    readonly concurrency = 8,
    /** Does the checking (default: this thread). */
    readonly pool: TileCheckPool = IN_THREAD,
  ) {}

  /**
   * Data tiles `indexes` of the head's tree (each at the width that tree gives it), authenticated:
   * - a full data tile by its records alone: the perfect-subtree hash of its 256 leaf hashes must be the
   *   tile's entry in the authenticated level-1 hash tile (so its level-0 hash tile is never downloaded);
   * - the partial tile at the right edge against its authenticated level-0 hash tile, leaf by leaf.
   * Tiles that do not authenticate are EnvironmentError BAD_TILES (a bad server or cache, not evidence:
   * the scan refuses them and changes nothing).
   */
  async read(indexes: readonly bigint[]): Promise<DataTileRecords[]> {
    const { client } = this;
    const { checkpoint } = this.head;
    const width = BigInt(TILE_WIDTH);
    const level0 = indexes.map((index) => {
      if (index < 0n || index * width >= checkpoint.size) {
        throw new EnvironmentError('TILE_NOT_IN_TREE', `data tile ${index} is not in the tree of size ${checkpoint.size}`);
      }
      return tileForHash(checkpoint.size, 0, index * width);
    });
    // What vouches for each data tile: its entry one level up (full tiles) or its own hash tile (partial).
    const vouchers = new Map<string, TileRef>();
    const voucherOf = level0.map((ref) => {
      const voucher = ref.width === TILE_WIDTH ? tileForHash(checkpoint.size, 1, ref.index) : ref;
      vouchers.set(sumdbTilePath(voucher), voucher);
      return voucher;
    });
    const authenticated = await this.authenticateVouchers([...vouchers.values()]);
    const tiles = level0.map(async (ref, i): Promise<DataTileRecords> => {
      const voucher = voucherOf[i]!;
      const dataRef: TileRef = { level: 'entries', index: ref.index, width: ref.width };
      const { body: served, width: servedWidth } = await this.fetch(dataRef);
      const where = `${client.baseUrl}${sumdbTilePath(dataRef)}`;
      const hashes = authenticated.get(tilePath(voucher))!;
      const at = Number(ref.index % width);
      const expected = voucher.level === 1 ? hashes.slice(at * HASH_SIZE, (at + 1) * HASH_SIZE) : hashes.slice(0, ref.width * HASH_SIZE);
      const { result, body } = await this.pool.check({ body: served, served: servedWidth, width: ref.width, voucher: voucher.level === 1 ? 1 : 0, expected });
      if (!result.ok) {
        if ('malformed' in result) throw new EnvironmentError('BAD_TILES', `${where}: ${result.malformed}`);
        throw new EnvironmentError('BAD_TILES', `${where}: its records do not hash to the authenticated tree of size ${checkpoint.size} (a bad server or cache, not evidence)`);
      }
      return new DataTileRecords(ref.index, ref.index * width, body, result.offsets, result.keys, result.ends);
    });
    // Every tile settles before the batch does (no fetch left running unobserved); the first error wins.
    const settled = await Promise.allSettled(tiles);
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return settled.map((outcome) => (outcome as PromiseFulfilledResult<DataTileRecords>).value);
  }

  /**
   * The hash tiles `refs` of the head's tree, authenticated against its signed root (with the parents and
   * the right edge that takes: SumdbClient.authenticateTiles), by tlog-tiles path. Tiles this reader
   * authenticated before are not checked again (they are tiles of the same verified head).
   */
  private async authenticateVouchers(refs: readonly TileRef[]): Promise<Map<string, Uint8Array>> {
    const { client } = this;
    const { checkpoint } = this.head;
    const missing = refs.filter((ref) => !this.vouchers.has(tilePath(ref)));
    if (missing.length > 0) {
      const hashTiles = await client.readTiles(checkpoint.size, missing);
      let authenticated: Map<string, Uint8Array>;
      try {
        authenticated = await client.authenticateTiles(checkpoint, hashTiles);
      } catch (error) {
        if (!(error instanceof VerificationError) && !(error instanceof EnvironmentError && error.code === 'BAD_TILES')) throw error;
        throw new EnvironmentError(
          'BAD_TILES',
          `hash tiles from ${client.baseUrl} do not authenticate against the signed tree head of size ${checkpoint.size}: ${error.message} (a bad server or cache, not evidence)`,
          { cause: error },
        );
      }
      // Authenticated against a verified head: keep the upper tiles for the next batch (not level 0 partials).
      client.saveTiles(new Map([...authenticated].filter(([path]) => !path.startsWith('tile/8/0/'))));
      if (this.vouchers.size > 1024) this.vouchers.clear();
      for (const ref of missing) this.vouchers.set(tilePath(ref), hashTiles.get(sumdbTilePath(ref))!);
    }
    return new Map(refs.map((ref) => [tilePath(ref), this.vouchers.get(tilePath(ref))!]));
  }

  /** One data tile fetch, within the shared limit. */
  private async fetch(ref: TileRef): Promise<{ body: Uint8Array; width: number }> {
    if (this.inFlight >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.inFlight++;
    try {
      return await this.client.fetchDataTile(ref);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.inFlight--;
    }
  }
}

/** Data tiles `indexes` of `head`'s tree, authenticated (DataTileReader.read), `concurrency` fetched at once. */
export async function readAuthenticatedDataTiles(
  client: SumdbClient,
  head: SignedCheckpoint,
  indexes: readonly bigint[],
  concurrency = 8,
  pool: TileCheckPool = IN_THREAD,
): Promise<DataTileRecords[]> {
  return new DataTileReader(client, head, concurrency, pool).read(indexes);
}
