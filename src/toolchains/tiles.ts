// Reading many data tiles of the checksum database, each authenticated against a verified signed tree
// head (research.swtch.com/tlog#tiling_a_log; c2sp.org/tlog-tiles): the level-0 hash tiles of the
// batch are authenticated together through SumdbClient.authenticateTiles (each full tile's hash must
// be its entry one level up, recursively, up to the right edge, which must hash to the signed root),
// then every record of every data tile must have the leaf hash SHA-256(0x00 || text) that its
// authenticated hash tile holds (RFC 6962 §2.1). Nothing from a data tile is used before that.
import { EnvironmentError, VerificationError } from '../errors.js';
import type { SumdbClient } from '../sumdb/client.js';
import { sumdbTilePath } from '../sumdb/client.js';
import { decodeDataTile } from '../sumdb/record.js';
import type { SignedCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual } from '../tlog/encoding.js';
import { leafHash } from '../tlog/merkle.js';
import { TILE_WIDTH, type TileRef, decodeHashTile, tileForHash } from '../tlog/tile.js';

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
 * Data tiles `indexes` of `head`'s tree (each at the width that tree gives it), authenticated. Tiles
 * that do not authenticate are EnvironmentError BAD_TILES (a bad server or cache, not evidence: the
 * scan refuses them and changes nothing).
 */
export async function readAuthenticatedDataTiles(
  client: SumdbClient,
  head: SignedCheckpoint,
  indexes: readonly bigint[],
  concurrency = 8,
): Promise<DataTileRecords[]> {
  const { checkpoint } = head;
  const refs = indexes.map((index) => {
    if (index < 0n || index * BigInt(TILE_WIDTH) >= checkpoint.size) {
      throw new EnvironmentError('TILE_NOT_IN_TREE', `data tile ${index} is not in the tree of size ${checkpoint.size}`);
    }
    return tileForHash(checkpoint.size, 0, index * BigInt(TILE_WIDTH));
  });
  const hashTiles = await client.readTiles(checkpoint.size, refs);
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
  // Parents and right-edge tiles are authenticated against a verified head: keep them for the next batch.
  const level0 = new Set(refs.map(sumdbTilePath));
  for (const [path, data] of authenticated) if (!level0.has(path)) client.tileCache.set(path, data);
  return mapConcurrent(refs, concurrency, async (hashRef) => {
    const hashBytes = authenticated.get(sumdbTilePath(hashRef))!;
    const hashes = decodeHashTile(hashBytes, hashRef);
    const dataRef: TileRef = { level: 'entries', index: hashRef.index, width: hashRef.width };
    const { body, width } = await client.fetchDataTile(dataRef);
    const where = `${client.baseUrl}${sumdbTilePath(dataRef)}`;
    let texts: Uint8Array[];
    try {
      texts = decodeDataTile(body, width).slice(0, hashRef.width);
    } catch (error) {
      throw new EnvironmentError('BAD_TILES', `${where}: ${(error as Error).message}`, { cause: error });
    }
    const first = hashRef.index * BigInt(TILE_WIDTH);
    texts.forEach((text, i) => {
      if (!bytesEqual(leafHash(text), hashes[i]!)) {
        throw new EnvironmentError('BAD_TILES', `${where}: record ${first + BigInt(i)} does not match its leaf hash in the authenticated tree of size ${checkpoint.size} (a bad server or cache, not evidence)`);
      }
    });
    return { index: hashRef.index, first, texts, bytes: body.length + hashBytes.length };
  });
}
