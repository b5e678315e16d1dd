// Where the sumdb client keeps hash tiles between calls (golang/mod sumdb ClientOps.ReadCache/WriteCache).
// Only tiles authenticated against a verified signed tree head are ever stored, and what is read back is
// checked again (its length, and against the root of the tree it is used for).
import { HASH_SIZE } from '../tlog/merkle.js';
import { TILE_WIDTH, type TileRef } from '../tlog/tile.js';
import { sumdbTilePath } from './paths.js';

/** A store of tiles by Go sumdb path (`tile/8/0/001`, `tile/8/1/000.p/17`). */
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

/**
 * Hash tile `ref` from `cache`: at its own path, or a partial tile as the prefix of the cached full tile
 * (tlog-tiles: a partial tile's hashes are a prefix of its full tile's). Undefined when absent or of
 * the wrong length.
 */
export function cachedHashTile(cache: TileCache, ref: TileRef): Uint8Array | undefined {
  const want = ref.width * HASH_SIZE;
  const exact = cache.get(sumdbTilePath(ref));
  if (exact && exact.length === want) return exact;
  if (ref.width < TILE_WIDTH) {
    const full = cache.get(sumdbTilePath({ ...ref, width: TILE_WIDTH }));
    if (full && full.length === TILE_WIDTH * HASH_SIZE) return full.subarray(0, want);
  }
  return undefined;
}
