// Locating a checksum database record by its leaf hash, without /lookup and without data tiles.
//
// A record's leaf is SHA-256(0x00 || text) (RFC 6962 §2.1; research.swtch.com/tlog, "Checksum database"),
// and the text of a golang.org/toolchain record is exactly its two go.sum lines. Whoever knows the text
// (from a rebuild's h1, or the published zip's) knows the leaf hash, and can look for it in the level-0
// hash tiles (c2sp.org/tlog-tiles, `tile/8/0/<N>`: 256 leaf hashes each) of a signed tree. Google
// publishes every target of a release at once, so its records sit near the release's linux/amd64 record
// (which /lookup finds): a bounded window of records around that neighbour is scanned, tile by tile, the
// tiles nearest first. Every tile is authenticated against the signed tree head before it is searched
// (SumdbClient.authenticateTiles), and the index found is then proven with an RFC 6962 inclusion proof
// (RFC 9162 §2.1.3.2) built from authenticated tiles.
//
// Found: the record is in the tree at that index (a second preimage of SHA-256 aside). Not found: nothing
// is proven either way (the record may sit outside the window): callers must say "unchecked", never
// "unequal".
import { UsageError, VerificationError } from '../errors.js';
import type { SignedCheckpoint } from '../tlog/checkpoint.js';
import { bytesEqual } from '../tlog/encoding.js';
import { type Hash, proveInclusion, verifyInclusion } from '../tlog/merkle.js';
import { TILE_WIDTH, type TileRef, decodeHashTile, tileForHash, tileNodeReader, tilesForInclusionProof } from '../tlog/tile.js';
import { type SumdbClient, sumdbTilePath } from './client.js';
import { recordLeafHash } from './record.js';

export interface LocateOptions {
  /** The record index to search around (e.g. the release's linux/amd64 record, from /lookup). */
  readonly near: bigint;
  /** How many records on each side of `near` to search (default 4096, i.e. about 33 tiles). */
  readonly window?: number;
  /** Tiles fetched and authenticated per round (default 16). */
  readonly batch?: number;
}

export type LocateResult =
  | {
      readonly found: true;
      readonly index: bigint;
      readonly leafHash: Hash;
      readonly checkpoint: SignedCheckpoint;
      /** PATH(index, D[0:size]), leaf side first, verified against the signed root. */
      readonly proof: Hash[];
      readonly tilesSearched: number;
    }
  | {
      readonly found: false;
      readonly leafHash: Hash;
      readonly checkpoint: SignedCheckpoint;
      /** The records searched: [from, to). */
      readonly from: bigint;
      readonly to: bigint;
      readonly tilesSearched: number;
    };

export const DEFAULT_LOCATE_WINDOW = 4096;

/** Searches the level-0 hash tiles of `head` around `options.near` for the leaf of `text`. */
export async function locateRecord(client: SumdbClient, head: SignedCheckpoint, text: string, options: LocateOptions): Promise<LocateResult> {
  const window = options.window ?? DEFAULT_LOCATE_WINDOW;
  const batch = options.batch ?? 16;
  if (!Number.isSafeInteger(window) || window < 0) throw new UsageError('INVALID_OPTION', `the search window must be a non-negative integer, not ${window}`);
  if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError('INVALID_OPTION', `the tile batch must be a positive integer, not ${batch}`);
  const leaf = recordLeafHash(text);
  // The head must be signed by the database's key: re-open its note (this also lets it vouch for tiles).
  const signed = client.openCheckpoint(head.message);
  const { checkpoint } = signed;
  const size = checkpoint.size;
  if (options.near < 0n || options.near >= size) throw new UsageError('TILE_NOT_IN_TREE', `record ${options.near} is not in the tree of size ${size}`);
  const from = options.near > BigInt(window) ? options.near - BigInt(window) : 0n;
  const to = options.near + BigInt(window) + 1n < size ? options.near + BigInt(window) + 1n : size;
  const width = BigInt(TILE_WIDTH);
  const center = options.near / width;
  const tiles: bigint[] = [];
  for (let t = from / width; t <= (to - 1n) / width; t++) tiles.push(t);
  // Nearest first: the record is most likely right beside its neighbour.
  tiles.sort((a, b) => {
    const da = a > center ? a - center : center - a;
    const db = b > center ? b - center : center - b;
    return da < db ? -1 : da > db ? 1 : a < b ? -1 : 1;
  });
  let searched = 0;
  for (let i = 0; i < tiles.length; i += batch) {
    const refs = tiles.slice(i, i + batch).map((t) => tileForHash(size, 0, t * width));
    const authenticated = await readAuthenticated(client, signed, refs);
    for (const ref of refs) {
      searched++;
      const hashes = decodeHashTile(authenticated.get(sumdbTilePath(ref))!, ref);
      const start = ref.index * width;
      for (let j = 0; j < hashes.length; j++) {
        const index = start + BigInt(j);
        if (index < from || index >= to || !bytesEqual(hashes[j]!, leaf)) continue;
        const proof = await proveFromTiles(client, signed, index, leaf);
        return { found: true, index, leafHash: leaf, checkpoint: signed, proof, tilesSearched: searched };
      }
    }
  }
  return { found: false, leafHash: leaf, checkpoint: signed, from, to, tilesSearched: searched };
}

/** Hash tiles of `head`'s tree, read and authenticated against its signed root, by Go sumdb path. */
async function readAuthenticated(client: SumdbClient, head: SignedCheckpoint, refs: readonly TileRef[]): Promise<Map<string, Uint8Array>> {
  const tiles = await client.readTiles(head.checkpoint.size, refs);
  return client.authenticateTiles(head.checkpoint, tiles);
}

/** The inclusion proof of leaf `index` in `head`, from authenticated tiles, verified against the root. */
async function proveFromTiles(client: SumdbClient, head: SignedCheckpoint, index: bigint, leaf: Hash): Promise<Hash[]> {
  const { size, rootHash } = head.checkpoint;
  const tiles = await readAuthenticated(client, head, tilesForInclusionProof(index, size));
  const proof = proveInclusion(
    index,
    size,
    tileNodeReader(size, (ref) => {
      const data = tiles.get(sumdbTilePath(ref));
      if (!data) throw new VerificationError('TILE_MISSING', `tile ${sumdbTilePath(ref)} was not read`);
      return decodeHashTile(data, ref);
    }),
  );
  verifyInclusion(index, size, leaf, proof, rootHash);
  return proof;
}

/** The record text of a golang.org/toolchain version: its two go.sum lines (golang/mod sumdb FormatRecord). */
export function toolchainRecordText(version: string, zipH1: string, modH1: string): string {
  return `golang.org/toolchain ${version} ${zipH1}\ngolang.org/toolchain ${version}/go.mod ${modH1}\n`;
}
