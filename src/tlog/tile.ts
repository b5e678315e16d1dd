// C2SP tlog-tiles (c2sp.org/tlog-tiles): tile paths, hash tiles, entry bundles, and computing any node,
// root or proof from tiles alone. Height is fixed at 8 (256 hashes per full tile), as the spec requires.
import { FormatError, VerificationError } from '../errors.js';
import { bytesEqual, concatBytes, encodeBase64 } from './encoding.js';
import {
  type Hash,
  HASH_SIZE,
  type NodeRef,
  consistencyProofRanges,
  inclusionProofRanges,
  nodeHash,
  nodesForRanges,
  rangeHash,
  rangeNodes,
  treeHash,
} from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
const WIDTH = BigInt(TILE_WIDTH);

/** A tile coordinate: a hash tile at `level` (0..63) or the entry bundle (`level` = 'entries'). */
export interface TileRef {
  readonly level: number | 'entries';
  readonly index: bigint;
  /** 1..256; 256 is a full tile, anything less is a partial tile `.p/<width>`. */
  readonly width: number;
}

/** `<N>` of tlog-tiles: groups of three digits, `x` before all but the last (1234067 -> x001/x234/067). */
export function encodeTileIndex(index: bigint): string {
  if (index < 0n) throw new FormatError('MALFORMED_TILE_PATH', `negative tile index ${index}`);
  let path = String(index % 1000n).padStart(3, '0');
  for (let n = index / 1000n; n > 0n; n /= 1000n) {
    path = `x${String(n % 1000n).padStart(3, '0')}/${path}`;
  }
  return path;
}

/** Path of a tile relative to the log prefix: `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`. */
export function tilePath(tile: TileRef): string {
  if (!Number.isInteger(tile.width) || tile.width < 1 || tile.width > TILE_WIDTH) {
    throw new FormatError('MALFORMED_TILE_PATH', `tile width ${tile.width} is not in 1..256`);
  }
  if (tile.level !== 'entries' && (!Number.isInteger(tile.level) || tile.level < 0 || tile.level > 63)) {
    throw new FormatError('MALFORMED_TILE_PATH', `tile level ${tile.level} is not in 0..63`);
  }
  const partial = tile.width < TILE_WIDTH ? `.p/${tile.width}` : '';
  return `tile/${tile.level}/${encodeTileIndex(tile.index)}${partial}`;
}

/** Parses a tile path (relative to the log prefix) strictly: only the canonical spelling is accepted. */
export function parseTilePath(path: string): TileRef {
  const match = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!match) throw new FormatError('MALFORMED_TILE_PATH', `${JSON.stringify(path)} is not a tile path`);
  const level = match[1] === 'entries' ? 'entries' : Number(match[1]);
  const index = BigInt(match[2]!.replaceAll('x', '').replaceAll('/', ''));
  const width = match[3] === undefined ? TILE_WIDTH : Number(match[3]);
  const tile: TileRef = { level, index, width };
  // `.p/<W>` only for 1 <= W < 256 (tlog-tiles "Merkle Tree": a full tile has no suffix); the width of an
  // unsuffixed tile is 256, which must not be rejected here.
  if ((match[3] !== undefined && width >= TILE_WIDTH) || tilePath(tile) !== path) {
    throw new FormatError('MALFORMED_TILE_PATH', `${JSON.stringify(path)} is not a canonical tile path`);
  }
  return tile;
}

/**
 * The tiles that exist for a tree of `size` leaves at tile level `level`: full tiles 0..fullCount-1 and,
 * when partialWidth > 0, the partial tile `fullCount.p/partialWidth`. Level-L tiles hold level-8L hashes.
 */
export function tileCounts(size: bigint, level: number): { fullCount: bigint; partialWidth: number } {
  const hashes = size >> BigInt(TILE_HEIGHT * level);
  return { fullCount: hashes / WIDTH, partialWidth: Number(hashes % WIDTH) };
}

/** The tile (at its width for tree `size`) holding the level-8L hash with index `hashIndex`. */
export function tileForHash(size: bigint, level: number | 'entries', hashIndex: bigint): TileRef {
  const counts = tileCounts(size, level === 'entries' ? 0 : level);
  const index = hashIndex / WIDTH;
  if (index < counts.fullCount) return { level, index, width: TILE_WIDTH };
  if (index === counts.fullCount && Number(hashIndex % WIDTH) < counts.partialWidth) {
    return { level, index, width: counts.partialWidth };
  }
  throw new VerificationError('NODE_UNAVAILABLE', `hash ${hashIndex} at tile level ${level} is beyond tree size ${size}`);
}

/** Every tile a tree of `size` leaves has, entry bundles included; tile levels stop at the first empty one. */
export function tilesForSize(size: bigint): TileRef[] {
  const tiles: TileRef[] = [];
  for (let level = 0; ; level++) {
    const { fullCount, partialWidth } = tileCounts(size, level);
    if (fullCount === 0n && partialWidth === 0) break;
    const push = (ref: TileRef) => {
      tiles.push(ref);
      if (level === 0) tiles.push({ ...ref, level: 'entries' });
    };
    for (let index = 0n; index < fullCount; index++) push({ level, index, width: TILE_WIDTH });
    if (partialWidth > 0) push({ level, index: fullCount, width: partialWidth });
  }
  return tiles;
}

/** Hash tile bytes: `width` concatenated 32-byte hashes. */
export function encodeHashTile(hashes: readonly Hash[]): Uint8Array {
  return concatBytes(...hashes);
}

export function decodeHashTile(data: Uint8Array, tile: TileRef): Hash[] {
  if (data.length !== tile.width * HASH_SIZE) {
    throw new FormatError(
      'MALFORMED_TILE',
      `${tilePath(tile)} has ${data.length} bytes, want ${tile.width * HASH_SIZE} (${tile.width} hashes)`,
    );
  }
  const hashes: Hash[] = [];
  for (let i = 0; i < tile.width; i++) hashes.push(data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return hashes;
}

/** Entry bundle: each entry as a big-endian uint16 length followed by its bytes (tlog-tiles "Log Entries"). */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    if (entry.length > 0xffff) {
      throw new FormatError('ENTRY_TOO_LARGE', `entry of ${entry.length} bytes exceeds the 65535-byte bundle limit`);
    }
    parts.push(new Uint8Array([entry.length >> 8, entry.length & 0xff]), entry);
  }
  return concatBytes(...parts);
}

export function decodeEntryBundle(data: Uint8Array, tile: TileRef): Uint8Array[] {
  const entries: Uint8Array[] = [];
  const malformed = (why: string) => new FormatError('MALFORMED_TILE', `${tilePath(tile)} ${why}`);
  let offset = 0;
  while (offset + 2 <= data.length) {
    const length = (data[offset]! << 8) | data[offset + 1]!;
    offset += 2;
    if (offset + length > data.length) throw malformed(`is malformed: entry ${entries.length} runs past the end of the bundle`);
    entries.push(data.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== data.length) throw malformed('is malformed: a trailing byte after the last entry');
  if (entries.length !== tile.width) {
    throw malformed(`holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, want ${tile.width}`);
  }
  return entries;
}

/** Root of a perfect subtree from its 2^k hashes, pairwise, level by level. */
export function perfectSubtreeHash(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0 || (hashes.length & (hashes.length - 1)) !== 0) {
    throw new FormatError('MALFORMED_TILE', `a perfect subtree needs a power of two hashes, got ${hashes.length}`);
  }
  let row = hashes.slice();
  while (row.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}

/** The tile (at its width for tree `size`) that holds perfect subtree `node`, and where in it. */
export function tileForNode(size: bigint, node: NodeRef): { tile: TileRef; offset: number; count: number } {
  const level = Math.floor(node.level / TILE_HEIGHT);
  const below = node.level % TILE_HEIGHT;
  const start = node.index << BigInt(below);
  const count = 1 << below;
  const tile = tileForHash(size, level, start);
  const offset = Number(start % WIDTH);
  if (offset + count > tile.width) {
    throw new VerificationError('NODE_UNAVAILABLE', `node ${node.level}/${node.index} is beyond tree size ${size}`);
  }
  return { tile, offset, count };
}

/** Source of tile contents (decoded hashes), e.g. files on disk or tiles fetched over HTTP. */
export type HashTileSource = (tile: TileRef) => Hash[];

/** A NodeReader over tiles of tree `size`: the node at level ℓ, index k is hashed up from hashes of the tile
 * at level ⌊ℓ/8⌋ (c2sp.org/tlog-tiles, "Merkle Tree"; golang/mod sumdb/tlog tile.go tileHashReader). */
export function tileNodeReader(size: bigint, source: HashTileSource): (node: NodeRef) => Hash {
  return (node) => {
    const { tile, offset, count } = tileForNode(size, node);
    const hashes = source(tile);
    if (hashes.length !== tile.width) {
      throw new FormatError('MALFORMED_TILE', `${tilePath(tile)} has ${hashes.length} hashes, want ${tile.width}`);
    }
    const slice = hashes.slice(offset, offset + count);
    return count === 1 ? slice[0]! : perfectSubtreeHash(slice);
  };
}

/** The tiles needed to compute the root of tree `size`. */
export function tilesForTreeHash(size: bigint): TileRef[] {
  return uniqueTiles(rangeNodes(0n, size).map((node) => tileForNode(size, node).tile));
}

/** The tiles needed for an inclusion proof of `index` in tree `size` (plus the root). */
export function tilesForInclusionProof(index: bigint, size: bigint): TileRef[] {
  const nodes = nodesForRanges(inclusionProofRanges(index, size));
  nodes.push({ level: 0, index }, ...rangeNodes(0n, size));
  return uniqueTiles(nodes.map((node) => tileForNode(size, node).tile));
}

/** The tiles needed for a consistency proof from `oldSize` to `size` (plus both roots). */
export function tilesForConsistencyProof(oldSize: bigint, size: bigint): TileRef[] {
  const nodes = nodesForRanges(consistencyProofRanges(oldSize, size));
  nodes.push(...rangeNodes(0n, size), ...rangeNodes(0n, oldSize));
  return uniqueTiles(nodes.map((node) => tileForNode(size, node).tile));
}

function uniqueTiles(tiles: TileRef[]): TileRef[] {
  const seen = new Map<string, TileRef>();
  for (const tile of tiles) seen.set(tilePath(tile), tile);
  return [...seen.values()];
}

/**
 * Checks that the right-edge tiles of tree `size` (the ones its root is computed from) hash to `root`, the
 * root of a verified checkpoint. Interior full tiles are NOT covered: a proof that verifies vouches only for
 * the hashes it used. To trust a whole full tile (to cache it, or to call a failed proof evidence), check
 * its hash against its parent tile, up to the right edge (src/sumdb/client.ts authenticateTiles).
 */
export function verifyTreeHashFromTiles(size: bigint, root: Hash, source: HashTileSource): void {
  const computed = treeHash(size, tileNodeReader(size, source));
  if (!bytesEqual(computed, root)) {
    throw new VerificationError(
      'TILE_ROOT_MISMATCH',
      `tiles of tree ${size} hash to ${encodeBase64(computed)}, but the checkpoint says ${encodeBase64(root)}`,
    );
  }
}

/** Hash of MTH(D[lo:hi]) within tree `size`, from tiles. */
export function rangeHashFromTiles(size: bigint, lo: bigint, hi: bigint, source: HashTileSource): Hash {
  return rangeHash(lo, hi, tileNodeReader(size, source));
}

/** One tile produced by a TileBuilder: coordinates and the hashes it holds. */
export interface BuiltTile {
  readonly ref: TileRef;
  readonly hashes: Hash[];
}

/**
 * Builds hash tiles incrementally as leaves are appended. It needs only the right edge of the tree: the
 * partial tile (possibly empty) of every level, so appending to a large log reads a handful of tiles.
 */
export class TileBuilder {
  private readonly edges: Hash[][];
  private currentSize: bigint;

  /** `edges[L]` = the hashes of the partial tile at level L for tree `size` (empty if none). */
  constructor(size: bigint, edges: Hash[][] = []) {
    this.currentSize = size;
    this.edges = [];
    for (let level = 0; ; level++) {
      const { fullCount, partialWidth } = tileCounts(size, level);
      const edge = edges[level] ?? [];
      if (edge.length !== partialWidth) {
        throw new VerificationError(
          'TILE_EDGE_MISMATCH',
          `level ${level} right-edge tile has ${edge.length} hashes, want ${partialWidth} for size ${size}`,
        );
      }
      this.edges.push(edge.slice());
      if (fullCount === 0n) break;
    }
  }

  get size(): bigint {
    return this.currentSize;
  }

  /** Appends leaf hashes; returns the tiles that became full (every level) by this call. */
  append(leafHashes: readonly Hash[]): BuiltTile[] {
    const completed: BuiltTile[] = [];
    let carry: Hash[] = leafHashes.slice();
    let hashesBefore = this.currentSize; // level-8L hashes before this append, at level 0
    for (let level = 0; carry.length > 0; level++) {
      const edge = (this.edges[level] ??= []);
      const next: Hash[] = [];
      let tileIndex = hashesBefore / WIDTH;
      for (const hash of carry) {
        edge.push(hash);
        if (edge.length === TILE_WIDTH) {
          const hashes = edge.splice(0, TILE_WIDTH);
          completed.push({ ref: { level, index: tileIndex, width: TILE_WIDTH }, hashes });
          next.push(perfectSubtreeHash(hashes));
          tileIndex++;
        }
      }
      hashesBefore /= WIDTH;
      carry = next;
    }
    this.currentSize += BigInt(leafHashes.length);
    return completed;
  }

  /** The current partial tiles, lowest level first. */
  partialTiles(): BuiltTile[] {
    const tiles: BuiltTile[] = [];
    this.edges.forEach((edge, level) => {
      if (edge.length === 0) return;
      const { fullCount } = tileCounts(this.currentSize, level);
      tiles.push({ ref: { level, index: fullCount, width: edge.length }, hashes: edge.slice() });
    });
    return tiles;
  }

  /**
   * Root of the tree built so far. The perfect subtrees that make up the root of a tree of size s lie in
   * the partial tiles (bits 8L..8L+7 of s select hashes of the level-L partial tile), so the edge suffices.
   */
  root(): Hash {
    const tiles = new Map(this.partialTiles().map((tile) => [tilePath(tile.ref), tile.hashes]));
    return treeHash(
      this.currentSize,
      tileNodeReader(this.currentSize, (ref) => {
        const hashes = tiles.get(tilePath(ref));
        if (!hashes) throw new VerificationError('NODE_UNAVAILABLE', `internal: the root needs ${tilePath(ref)}, which is not a partial tile`);
        return hashes;
      }),
    );
  }
}
