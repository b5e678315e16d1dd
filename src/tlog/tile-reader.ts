// Reading hash tiles that are trusted only once they are authenticated against a tree's signed root
// (c2sp.org/tlog-tiles; research.swtch.com/tlog#tiling_a_log). Modelled on golang/mod sumdb/tlog
// tile.go `TileHashReader`, over an injected `readTiles` (golang/mod `TileReader.ReadTiles`): where the
// tiles come from (HTTP, a cache, files) is the caller's business, and this module does no I/O.
//
// One difference from golang/mod: `tileHashReader.ReadHashes` checks the tiles on the path to the root and
// leaves other full tiles it returns hashes from unchecked. Here EVERY tile is checked: each full tile's
// perfect-subtree hash must equal its entry in the tile one level up, recursively, up to the right-edge
// (partial) tiles, which must hash to the signed root (verifyTreeHashFromTiles). So any hash read from an
// AuthenticatedTiles is a hash of the signed tree, not only the ones a proof happens to use.
import { bytesEqual } from './encoding.js';
import { VerificationError } from '../errors.js';
import type { Hash, NodeReader, NodeRef } from './merkle.js';
import {
  TILE_WIDTH,
  type HashTileSource,
  type TileRef,
  decodeHashTile,
  perfectSubtreeHash,
  tileForHash,
  tileForNode,
  tileNodeReader,
  tilePath,
  tilesForTreeHash,
  verifyTreeHashFromTiles,
} from './tile.js';

/** The tree tiles are authenticated against: its size and its (verified) root hash. */
export interface TreeRoot {
  readonly size: bigint;
  readonly rootHash: Hash;
}

/**
 * Reads hash tiles of the tree, each at the width the tree gives it, in the order asked (golang/mod
 * TileReader.ReadTiles). What it returns is untrusted.
 */
export type ReadTiles = (tiles: readonly TileRef[]) => Promise<readonly Uint8Array[]>;

interface Loaded {
  readonly ref: TileRef;
  readonly data: Uint8Array;
  readonly hashes: Hash[];
}

/** Hash tiles of one tree, every one of them checked against the tree's root (see TileHashReader). */
export class AuthenticatedTiles {
  private constructor(
    readonly size: bigint,
    private readonly tiles: ReadonlyMap<string, Loaded>,
  ) {}

  /** @internal Only TileHashReader makes these, after checking every tile. */
  static fromChecked(size: bigint, tiles: ReadonlyMap<string, Loaded>): AuthenticatedTiles {
    return new AuthenticatedTiles(size, tiles);
  }

  has(ref: TileRef): boolean {
    return this.tiles.has(tilePath(ref));
  }

  /** The bytes of tile `ref`; undefined if it is not in the set. */
  data(ref: TileRef): Uint8Array | undefined {
    return this.tiles.get(tilePath(ref))?.data;
  }

  /** The hashes of tile `ref` (a HashTileSource); an internal error if it is not in the set. */
  readonly hashes: HashTileSource = (ref) => {
    const tile = this.tiles.get(tilePath(ref));
    if (!tile) throw new Error(`internal: tile ${tilePath(ref)} was not read`);
    return tile.hashes;
  };

  /** Any node of the tree these tiles cover (tlog-tiles: node(ℓ, k) from the tile holding it). */
  nodeReader(): NodeReader {
    return tileNodeReader(this.size, this.hashes);
  }

  /** Every tile of the set, in the order it was added (given first, then read). */
  entries(): Array<{ readonly ref: TileRef; readonly data: Uint8Array }> {
    return [...this.tiles.values()].map(({ ref, data }) => ({ ref, data }));
  }
}

/** A reader of the hash tiles of one tree, authenticating everything it returns against the tree's root. */
export class TileHashReader {
  constructor(
    readonly tree: TreeRoot,
    private readonly readTiles: ReadTiles,
  ) {}

  /**
   * Reads `tiles` (hash tiles of the tree, each at its width in the tree) and the tiles that authenticate
   * them (the parent of every full tile, recursively, and the right edge), in one call of readTiles, and
   * checks them all. `given` tiles are used as they are instead of being read (and are checked too).
   * Throws VerificationError TILE_ROOT_MISMATCH (the right edge does not hash to the root) or
   * TILE_HASH_MISMATCH (a full tile does not hash to its entry one level up), FormatError MALFORMED_TILE
   * (a tile of the wrong length).
   */
  async authenticate(tiles: readonly TileRef[], given: Iterable<readonly [TileRef, Uint8Array]> = []): Promise<AuthenticatedTiles> {
    const { size, rootHash } = this.tree;
    const loaded = new Map<string, Loaded>();
    const add = (ref: TileRef, data: Uint8Array) => loaded.set(tilePath(ref), { ref, data, hashes: decodeHashTile(data, ref) });
    for (const [ref, data] of given) add(ref, data);
    const wanted = tilesToAuthenticate(size, [...loaded.values()].map(({ ref }) => ref).concat(tiles));
    const missing = [...wanted.values()].filter((ref) => !loaded.has(tilePath(ref)));
    const read = missing.length === 0 ? [] : await this.readTiles(missing);
    if (read.length !== missing.length) throw new Error(`internal: readTiles returned ${read.length} tiles for ${missing.length}`);
    missing.forEach((ref, i) => add(ref, read[i]!));
    const source: HashTileSource = (ref) => loaded.get(tilePath(ref))!.hashes;
    // The right edge hashes to the signed root…
    verifyTreeHashFromTiles(size, rootHash, source);
    // …and every full tile to its entry one level up, which is itself checked, up to the edge.
    for (const { ref, hashes } of loaded.values()) {
      if (ref.width !== TILE_WIDTH) continue;
      const parent = parentTile(size, ref);
      const expected = source(parent)[Number(ref.index % BigInt(TILE_WIDTH))]!;
      if (!bytesEqual(perfectSubtreeHash(hashes), expected)) {
        throw new VerificationError('TILE_HASH_MISMATCH', `tile ${tilePath(ref)} does not hash to its entry in ${tilePath(parent)} (tree size ${size})`);
      }
    }
    return AuthenticatedTiles.fromChecked(size, loaded);
  }

  /**
   * The hashes of perfect subtrees `nodes` of the tree (golang/mod HashReader.ReadHashes, with NodeRefs
   * instead of stored-hash indexes), read from authenticated tiles.
   */
  async readHashes(nodes: readonly NodeRef[]): Promise<Hash[]> {
    const refs = nodes.map((node) => tileForNode(this.tree.size, node).tile);
    const tiles = await this.authenticate(refs);
    const read = tiles.nodeReader();
    return nodes.map((node) => read(node));
  }
}

/**
 * `tiles`, the tiles the root of tree `size` is computed from, and the parent of every full tile among
 * them, recursively: everything needed to authenticate `tiles`. Keyed by tlog-tiles path, `tiles` first.
 */
export function tilesToAuthenticate(size: bigint, tiles: readonly TileRef[]): Map<string, TileRef> {
  const wanted = new Map<string, TileRef>();
  const queue: TileRef[] = [];
  for (const ref of [...tiles, ...tilesForTreeHash(size)]) {
    const key = tilePath(ref);
    if (wanted.has(key)) continue;
    wanted.set(key, ref);
    queue.push(ref);
  }
  for (let ref = queue.pop(); ref !== undefined; ref = queue.pop()) {
    if (ref.width !== TILE_WIDTH) continue;
    const parent = parentTile(size, ref);
    const key = tilePath(parent);
    if (!wanted.has(key)) {
      wanted.set(key, parent);
      queue.push(parent);
    }
  }
  return wanted;
}

/** The tile one level up holding the perfect-subtree hash of full tile `ref` (its entry ref.index % 256). */
export function parentTile(size: bigint, ref: TileRef): TileRef {
  if (ref.level === 'entries') throw new Error('internal: parentTile of an entry bundle');
  return tileForHash(size, ref.level + 1, ref.index);
}
