// Reading many data tiles of the checksum database, each authenticated against a verified signed tree
// head (research.swtch.com/tlog#tiling_a_log; c2sp.org/tlog-tiles). The hash tiles that vouch for a batch
// are authenticated together through SumdbClient.authenticateTiles (each full tile's hash must be its
// entry one level up, recursively, up to the right edge, which must hash to the signed root); then the
// records' leaf hashes SHA-256(0x00 || text) (RFC 6962 §2.1) must rebuild what those tiles hold.
// Nothing from a data tile is used before that.
import { EnvironmentError, VerificationError } from '../errors.js';
import type { SumdbClient } from '../sumdb/client.js';
import { sumdbTilePath } from '../sumdb/client.js';
import { decodeDataTile } from '../sumdb/record.js';
import type { SignedCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual } from '../tlog/encoding.js';
import { leafHash } from '../tlog/merkle.js';
import { TILE_WIDTH, type TileRef, decodeHashTile, perfectSubtreeHash, tileForHash } from '../tlog/tile.js';

/** The record texts of one data tile: records first … first + texts.length - 1. */
export interface DataTileRecords {
  readonly index: bigint;
  readonly first: bigint;
  readonly texts: readonly Uint8Array[];
  /** Bytes received for this tile (data and its level-0 hash tile). */
  readonly bytes: number;
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

/**
 * Data tiles `indexes` of `head`'s tree (each at the width that tree gives it), authenticated:
 * - a full data tile by its records alone: the perfect-subtree hash of its 256 leaf hashes must be the
 *   tile's entry in the authenticated level-1 hash tile (so its level-0 hash tile is never downloaded);
 * - the partial tile at the right edge against its authenticated level-0 hash tile, leaf by leaf.
 * Tiles that do not authenticate are EnvironmentError BAD_TILES (a bad server or cache, not evidence:
 * the scan refuses them and changes nothing).
 */
export async function readAuthenticatedDataTiles(
  client: SumdbClient,
  head: SignedCheckpoint,
  indexes: readonly bigint[],
  concurrency = 8,
): Promise<DataTileRecords[]> {
  const { checkpoint } = head;
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
  const hashTiles = await client.readTiles(checkpoint.size, [...vouchers.values()]);
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
  for (const [path, data] of authenticated) if (!path.startsWith('tile/8/0/')) client.tileCache.set(path, data);
  const decoded = new Map<string, Uint8Array[]>();
  const hashesOf = (ref: TileRef) => {
    const path = sumdbTilePath(ref);
    let hashes = decoded.get(path);
    if (!hashes) decoded.set(path, (hashes = decodeHashTile(authenticated.get(path)!, ref)));
    return hashes;
  };
  return mapConcurrent(level0.map((ref, i) => [ref, voucherOf[i]!] as const), concurrency, async ([ref, voucher]) => {
    const dataRef: TileRef = { level: 'entries', index: ref.index, width: ref.width };
    const { body, width: served } = await client.fetchDataTile(dataRef);
    const where = `${client.baseUrl}${sumdbTilePath(dataRef)}`;
    let texts: Uint8Array[];
    try {
      texts = decodeDataTile(body, served).slice(0, ref.width);
    } catch (error) {
      throw new EnvironmentError('BAD_TILES', `${where}: ${(error as Error).message}`, { cause: error });
    }
    const first = ref.index * width;
    const leaves = texts.map((text) => leafHash(text));
    const mismatch = () =>
      new EnvironmentError('BAD_TILES', `${where}: its records do not hash to the authenticated tree of size ${checkpoint.size} (a bad server or cache, not evidence)`);
    if (voucher.level === 1) {
      if (!bytesEqual(perfectSubtreeHash(leaves), hashesOf(voucher)[Number(ref.index % width)]!)) throw mismatch();
    } else {
      const hashes = hashesOf(voucher);
      leaves.forEach((leaf, i) => {
        if (!bytesEqual(leaf, hashes[i]!)) throw mismatch();
      });
    }
    return { index: ref.index, first, texts, bytes: body.length };
  });
}
