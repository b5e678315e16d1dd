// Checking a whole tlog-tiles log against its checkpoint (c2sp.org/tlog-tiles): every entry bundle is
// decoded and its entries hashed (RFC 6962 §2.1), the hash tiles are recomputed from those leaves level by
// level, each recomputed tile is compared with the stored one, and the recomputed root with the signed
// root. This is the one such check: `witness verify` (src/log/verify.ts), reading a verified log
// (src/log/reader.ts) and the browser's verify page (src/publish/browser/verify.ts) all call it.
//
// As golang/mod sumdb/tlog (TileReader, ReadTileData, TileHashReader) it does no I/O: the caller injects
// the readers, and may make them fetch ahead, since the order of reads is fixed (treeReadOrder). Entries
// are streamed: one bundle at a time, with only the right edge of the tree and the stored hash tiles kept.
import { FormatError, VerificationError } from '../errors.js';
import { bytesEqual } from './encoding.js';
import { EMPTY_TREE_HASH, type Hash, HASH_SIZE, leafHash, treeHash } from './merkle.js';
import {
  TILE_WIDTH,
  type BuiltTile,
  type TileRef,
  TileBuilder,
  decodeEntryBundle,
  decodeHashTile,
  perfectSubtreeHash,
  tileCounts,
  tileNodeReader,
  tilePath,
} from './tile.js';

/** Where the bytes of the log's tiles come from (files, HTTP); sync or async. Throw when a file cannot be had. */
export interface TreeReaders {
  /** An entry bundle, `tile/entries/<N>[.p/<W>]`. */
  readEntryBundle(tile: TileRef): Uint8Array | Promise<Uint8Array>;
  /** A hash tile, `tile/<L>/<N>[.p/<W>]`. */
  readHashTile(tile: TileRef): Uint8Array | Promise<Uint8Array>;
}

/** Something wrong with a stored hash tile. Entry bundles that cannot be read or decoded throw instead. */
export type TreeProblem =
  /** The reader threw `error` for this tile. */
  | { readonly kind: 'unreadable'; readonly tile: TileRef; readonly error: unknown }
  /** The tile does not hold `width` hashes (decodeHashTile's FormatError). */
  | { readonly kind: 'malformed'; readonly tile: TileRef; readonly error: FormatError }
  /**
   * The stored tile differs from the tile recomputed from the entries at hash `hashes[i]` (ascending; at
   * level 0 a leaf hash, above it the root of a tile one level down).
   */
  | { readonly kind: 'mismatch'; readonly tile: TileRef; readonly hashes: readonly number[] };

export interface VerifyTreeOptions {
  /**
   * Compare the stored hash tiles with the recomputed tree (default true). Without, only the entries are
   * checked against the signed root, and no hash tile is read.
   */
  readonly hashTiles?: boolean;
  /** Called with each bundle's entries, in order, before they are hashed; may throw to stop the check. */
  readonly onEntries?: (bundle: TileRef, entries: Uint8Array[]) => void | Promise<void>;
  /** Called with each problem as it is found, in read order; may throw to stop the check at the first. */
  readonly onProblem?: (problem: TreeProblem) => void;
}

export interface TreeCheck {
  readonly size: bigint;
  /** The root recomputed from the entries. */
  readonly root: Hash;
  /** Whether it is the checkpoint's root: every entry is then authenticated. */
  readonly rootMatches: boolean;
  /** Every problem found with the stored hash tiles, in read order (none when onProblem threw). */
  readonly problems: readonly TreeProblem[];
  readonly entryBundles: number;
  /** Hash tiles read and well-formed. */
  readonly hashTiles: number;
  /** The stored bytes of a hash tile of the tree (at its current width), if it was read and well-formed. */
  storedTile(tile: TileRef): Uint8Array | undefined;
  /** MTH of the first `size` leaves, from the stored hash tiles (for older checkpoints of the log). */
  rootAt(size: bigint): Hash;
  /**
   * Whether the stored hash tiles are authenticated by `root` on their own: every one is present, every
   * full tile hashes to its entry in the tile above, and the right edge hashes to `root`. When they are
   * and the entries are not, the level-0 mismatches name exactly the entries that changed.
   */
  storedTilesAuthenticate(root: Hash): boolean;
}

/** The bundles of a tree of `size` leaves, in order. */
function entryBundles(size: bigint): TileRef[] {
  const { fullCount, partialWidth } = tileCounts(size, 0);
  const bundles: TileRef[] = [];
  for (let index = 0n; index < fullCount; index++) bundles.push({ level: 'entries', index, width: TILE_WIDTH });
  if (partialWidth > 0) bundles.push({ level: 'entries', index: fullCount, width: partialWidth });
  return bundles;
}

/**
 * Every tile verifyTree reads for a tree of `size` leaves, in the order it reads them: each entry bundle,
 * followed by the full hash tiles it completes (lowest level first), then the partial hash tiles of the
 * right edge, lowest level first. A reader that fetches ahead in this order never waits on a later file.
 */
export function treeReadOrder(size: bigint, options: { readonly hashTiles?: boolean } = {}): TileRef[] {
  const order: TileRef[] = [];
  const withTiles = options.hashTiles !== false;
  for (const bundle of entryBundles(size)) {
    order.push(bundle);
    if (!withTiles || bundle.width < TILE_WIDTH) continue;
    // Bundle b is full: tile/0/b is complete, and tile/L/((b+1)/256^L - 1) when 256^L divides b+1.
    let completed = bundle.index + 1n;
    for (let level = 0; ; level++) {
      order.push({ level, index: completed - 1n, width: TILE_WIDTH });
      if (completed % BigInt(TILE_WIDTH) !== 0n) break;
      completed /= BigInt(TILE_WIDTH);
    }
  }
  if (withTiles) {
    for (let level = 0; ; level++) {
      const { fullCount, partialWidth } = tileCounts(size, level);
      if (fullCount === 0n && partialWidth === 0) break;
      if (partialWidth > 0) order.push({ level, index: fullCount, width: partialWidth });
    }
  }
  return order;
}

/** Whether hashes[i] equals the i-th 32-byte hash of `stored`, for every i; the indexes that differ. */
function differingHashes(hashes: readonly Hash[], stored: Uint8Array): number[] {
  const differ: number[] = [];
  for (let i = 0; i < hashes.length; i++) {
    const hash = hashes[i]!;
    const base = i * HASH_SIZE;
    for (let j = 0; j < HASH_SIZE; j++) {
      if (hash[j] !== stored[base + j]) {
        differ.push(i);
        break;
      }
    }
  }
  return differ;
}

/**
 * Checks the log of `checkpoint.size` entries read through `readers` against `checkpoint.rootHash`.
 * Throws what the entry bundle reader throws, a FormatError for a malformed bundle, and whatever
 * onEntries or onProblem throw; everything else is in the returned TreeCheck.
 */
export async function verifyTree(
  checkpoint: { readonly size: bigint; readonly rootHash: Hash },
  readers: TreeReaders,
  options: VerifyTreeOptions = {},
): Promise<TreeCheck> {
  const size = checkpoint.size;
  const withTiles = options.hashTiles !== false;
  const builder = new TileBuilder(0n);
  const stored = new Map<string, Uint8Array>();
  const problems: TreeProblem[] = [];
  const report = (problem: TreeProblem) => {
    problems.push(problem);
    options.onProblem?.(problem);
  };
  const compare = async (built: BuiltTile): Promise<void> => {
    let bytes: Uint8Array;
    try {
      bytes = await readers.readHashTile(built.ref);
    } catch (error) {
      return report({ kind: 'unreadable', tile: built.ref, error });
    }
    if (bytes.length !== built.ref.width * HASH_SIZE) {
      try {
        decodeHashTile(bytes, built.ref);
      } catch (error) {
        if (error instanceof FormatError) return report({ kind: 'malformed', tile: built.ref, error });
        throw error;
      }
    }
    stored.set(tilePath(built.ref), bytes);
    const differ = differingHashes(built.hashes, bytes);
    if (differ.length > 0) report({ kind: 'mismatch', tile: built.ref, hashes: differ });
  };

  const bundles = entryBundles(size);
  for (const bundle of bundles) {
    const entries = decodeEntryBundle(await readers.readEntryBundle(bundle), bundle);
    if (options.onEntries) await options.onEntries(bundle, entries);
    const leaves: Hash[] = new Array<Hash>(entries.length);
    for (let i = 0; i < entries.length; i++) leaves[i] = leafHash(entries[i]!);
    const completed = builder.append(leaves);
    if (withTiles) for (const tile of completed) await compare(tile);
  }
  if (withTiles) for (const tile of builder.partialTiles()) await compare(tile);
  const root = builder.root();

  const hashesOf = (ref: TileRef): Hash[] => {
    const bytes = stored.get(tilePath(ref));
    if (!bytes) throw new VerificationError('TILE_MISSING', `${tilePath(ref)} is missing`);
    return decodeHashTile(bytes, ref);
  };
  return {
    size,
    root,
    rootMatches: bytesEqual(root, checkpoint.rootHash),
    problems,
    entryBundles: bundles.length,
    hashTiles: stored.size,
    storedTile: (tile) => stored.get(tilePath(tile)),
    rootAt: (oldSize) => (oldSize === 0n ? EMPTY_TREE_HASH : treeHash(oldSize, tileNodeReader(size, hashesOf))),
    storedTilesAuthenticate(signedRoot) {
      try {
        for (let level = 0; ; level++) {
          const { fullCount, partialWidth } = tileCounts(size, level);
          if (fullCount === 0n && partialWidth === 0) break;
          for (let index = 0n; index < fullCount; index++) {
            // A full tile's root is hash (index mod 256) of the tile above (tlog-tiles "Merkle Tree").
            const root = perfectSubtreeHash(hashesOf({ level, index, width: TILE_WIDTH }));
            const above = tileCounts(size, level + 1);
            const parentIndex = index / BigInt(TILE_WIDTH);
            const parentWidth = parentIndex < above.fullCount ? TILE_WIDTH : above.partialWidth;
            const parent = hashesOf({ level: level + 1, index: parentIndex, width: parentWidth });
            if (!bytesEqual(parent[Number(index % BigInt(TILE_WIDTH))]!, root)) return false;
          }
          if (partialWidth > 0) hashesOf({ level, index: fullCount, width: partialWidth });
        }
        return bytesEqual(treeHash(size, tileNodeReader(size, hashesOf)), signedRoot);
      } catch (error) {
        if (error instanceof VerificationError || error instanceof FormatError) return false;
        throw error;
      }
    },
  };
}
