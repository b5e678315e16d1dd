// Reading a witness log from any LogSource (folder or HTTP): the checkpoint, verified against the
// log's verifier key; tiles and entries; proofs computed from tiles; and all entries verified against
// the signed root. Nothing read is trusted until it has been checked against the checkpoint.
import { stat } from 'node:fs/promises';
import { EnvironmentError, FormatError, UsageError, VerificationError } from '../errors.js';
import { type SignedCheckpoint, openCheckpoint } from '../tlog/checkpoint.js';
import { decodeUtf8, encodeBase64 } from '../tlog/encoding.js';
import {
  EMPTY_TREE_HASH,
  type Hash,
  leafHash,
  proveConsistency as proveConsistencyFrom,
  proveInclusion as proveInclusionFrom,
  rangeNodes,
  treeHash,
  verifyInclusion,
} from '../tlog/merkle.js';
import { type Verifier, type VerifierKey, noteVerifier, parseVerifierKey } from '../tlog/note.js';
import {
  TILE_WIDTH,
  type TileRef,
  decodeEntryBundle,
  decodeHashTile,
  tileCounts,
  tileForNode,
  tileNodeReader,
  tilePath,
  tilesForConsistencyProof,
  tilesForInclusionProof,
} from '../tlog/tile.js';
import { type TreeReaders, treeReadOrder, verifyTree } from '../tlog/verify-tree.js';
import { CHECKPOINT_FILE, VERIFIER_KEY_FILE } from './layout.js';
import { type LogSource, logSource } from './source.js';

export interface OpenOptions {
  /** The verifier key to check the log against; default: the log's own `log.vkey` (not pinned). */
  readonly verifierKey?: string;
}

export class LogReader {
  protected readonly verifier: Verifier;

  constructor(
    readonly source: LogSource,
    readonly verifierKey: VerifierKey,
    /** True when the verifier key came from the caller rather than from the log being read. */
    readonly verifierKeyPinned: boolean,
  ) {
    this.verifier = noteVerifier(verifierKey);
  }

  get origin(): string {
    return this.verifierKey.name;
  }

  /** Opens a log at a folder path, an http(s) URL, or a LogSource. */
  static async open(location: string | LogSource, options: OpenOptions = {}): Promise<LogReader> {
    const source = typeof location === 'string' ? logSource(location) : location;
    if (source.folder !== undefined && !(await stat(source.folder).catch(() => undefined))?.isDirectory()) {
      throw new EnvironmentError('LOG_NOT_FOUND', `no log folder at ${source.folder}`);
    }
    let vkeyText = options.verifierKey?.trim();
    if (vkeyText === undefined) {
      const bytes = await source.read(VERIFIER_KEY_FILE);
      if (!bytes) {
        throw new EnvironmentError(
          'LOG_NOT_FOUND',
          `${VERIFIER_KEY_FILE} is missing at ${source.location}: is it a witness log? (pass --vkey, or create one with witness init)`,
        );
      }
      try {
        return new LogReader(source, parseVerifierKey(decodeUtf8(bytes, 'MALFORMED_VERIFIER_KEY').trim()), false);
      } catch (error) {
        if (!(error instanceof FormatError)) throw error;
        throw new FormatError(error.code, `${VERIFIER_KEY_FILE} at ${source.location}: ${error.message}`, { cause: error });
      }
    }
    return new LogReader(source, parseVerifierKey(vkeyText), true);
  }

  /** Reads the checkpoint and verifies its signature and origin against the log's verifier key. */
  async readCheckpoint(): Promise<SignedCheckpoint> {
    const bytes = await this.source.read(CHECKPOINT_FILE);
    if (!bytes) throw new EnvironmentError('LOG_NOT_FOUND', `${CHECKPOINT_FILE} is missing at ${this.source.location}`);
    let message: string;
    try {
      message = decodeUtf8(bytes, 'MALFORMED_NOTE');
    } catch (error) {
      throw new FormatError('MALFORMED_NOTE', `${CHECKPOINT_FILE}: not UTF-8`, { cause: error });
    }
    return openLogCheckpoint(message, this.verifier, this.origin, CHECKPOINT_FILE);
  }

  /** readTileBytes, synchronously, when the source can read synchronously (a folder); else undefined. */
  readTileBytesSync(tile: TileRef): Uint8Array | undefined {
    if (!this.source.readSync) return undefined;
    const relative = tilePath(tile);
    const bytes = this.source.readSync(relative);
    if (!bytes) throw new VerificationError('TILE_MISSING', `${relative} is missing`);
    return bytes;
  }

  async readTileBytes(tile: TileRef): Promise<Uint8Array> {
    const relative = tilePath(tile);
    const bytes = await this.source.read(relative);
    if (!bytes) throw new VerificationError('TILE_MISSING', `${relative} is missing`);
    return bytes;
  }

  async readHashTile(tile: TileRef): Promise<Hash[]> {
    return decodeHashTile(await this.readTileBytes(tile), tile);
  }

  /** Reads hash tiles into a map keyed by tile path, for the synchronous tile readers of src/tlog. */
  async readHashTiles(tiles: readonly TileRef[]): Promise<Map<string, Hash[]>> {
    const out = new Map<string, Hash[]>();
    for (const tile of tiles) out.set(tilePath(tile), await this.readHashTile(tile));
    return out;
  }

  /** The entry bundle of a tree of `size` leaves that holds entry `bundle * 256`, decoded (not authenticated). */
  async readEntryBundle(bundle: bigint, size: bigint): Promise<Uint8Array[]> {
    const { fullCount, partialWidth } = tileCounts(size, 0);
    const ref: TileRef = { level: 'entries', index: bundle, width: bundle < fullCount ? TILE_WIDTH : partialWidth };
    if (ref.width === 0) throw new UsageError('INDEX_OUT_OF_RANGE', `entry bundle ${bundle} is beyond tree size ${size}`);
    try {
      return decodeEntryBundle(await this.readTileBytes(ref), ref);
    } catch (error) {
      if (error instanceof FormatError) throw new FormatError(error.code, `${tilePath(ref)}: ${error.message}`, { cause: error });
      throw error;
    }
  }

  /** Entries [start, end) of a tree of `size` leaves (default: the checkpoint's size). Not authenticated. */
  async readEntries(start: bigint, end: bigint, size?: bigint): Promise<Uint8Array[]> {
    const treeSize = size ?? (await this.readCheckpoint()).checkpoint.size;
    if (start < 0n || start > end || end > treeSize) {
      throw new UsageError('INDEX_OUT_OF_RANGE', `entries [${start}, ${end}) are outside the log of size ${treeSize}`);
    }
    const out: Uint8Array[] = [];
    const width = BigInt(TILE_WIDTH);
    for (let bundle = start / width; bundle * width < end; bundle++) {
      const entries = await this.readEntryBundle(bundle, treeSize);
      const first = bundle * width;
      for (let i = 0; i < entries.length; i++) {
        const index = first + BigInt(i);
        if (index >= start && index < end) out.push(entries[i]!);
      }
    }
    return out;
  }

  /**
   * Readers of this log's tiles for src/tlog's verifyTree. From a folder: synchronous reads (cheaper in
   * CPU than anything asynchronous for thousands of small files). Over HTTP: reads ahead, `depth` files at
   * a time, in `order` (treeReadOrder), so the next files arrive while the current ones are hashed; a
   * file asked for out of that order is read on its own.
   */
  treeReaders(order: readonly TileRef[], depth = 32): TreeReaders {
    if (this.source.readSync) {
      const readSync = (tile: TileRef): Uint8Array => this.readTileBytesSync(tile)!;
      return { readEntryBundle: readSync, readHashTile: readSync };
    }
    const pending = new Map<number, Promise<Uint8Array>>();
    let next = 0; // next index of `order` to be asked for
    let started = 0; // reads started: order[0..started)
    const read = (tile: TileRef): Promise<Uint8Array> => {
      const i = next;
      if (i >= order.length || tilePath(order[i]!) !== tilePath(tile)) return this.readTileBytes(tile);
      next++;
      while (started < Math.min(order.length, i + depth)) {
        const promise = this.readTileBytes(order[started]!);
        promise.catch(() => {}); // handled when asked for; a check that stopped early never asks
        pending.set(started++, promise);
      }
      const promise = pending.get(i)!;
      pending.delete(i);
      return promise;
    };
    return { readEntryBundle: read, readHashTile: read };
  }

  /**
   * The verified checkpoint and every entry of the log: all entry bundles are read and the tree hash of
   * their leaves must equal the signed root, so every entry returned is authenticated.
   */
  async readVerifiedEntries(): Promise<{ checkpoint: SignedCheckpoint; entries: Uint8Array[] }> {
    const checkpoint = await this.readCheckpoint();
    const entries: Uint8Array[] = [];
    const order = treeReadOrder(checkpoint.checkpoint.size, { hashTiles: false });
    const tree = await verifyTree(checkpoint.checkpoint, this.treeReaders(order), {
      hashTiles: false,
      onEntries: (_bundle, chunk) => {
        for (const entry of chunk) entries.push(entry);
      },
    });
    if (!tree.rootMatches) {
      throw new VerificationError(
        'ROOT_MISMATCH',
        `the entries at ${this.source.location} hash to ${encodeBase64(tree.root)}, not the signed root ${encodeBase64(checkpoint.checkpoint.rootHash)}`,
      );
    }
    return { checkpoint, entries };
  }

  /**
   * An inclusion proof for entry `index` in the current checkpoint, computed from tiles and checked
   * against the signed root before it is returned.
   */
  async proveInclusion(index: bigint): Promise<{ checkpoint: SignedCheckpoint; entry: Uint8Array; proof: Hash[] }> {
    const checkpoint = await this.readCheckpoint();
    const size = checkpoint.checkpoint.size;
    if (index < 0n || index >= size) {
      throw new UsageError('INDEX_OUT_OF_RANGE', `entry ${index} is not in the log of size ${size}`);
    }
    const tiles = await this.readHashTiles(tilesForInclusionProof(index, size));
    const read = tileNodeReader(size, (ref) => tiles.get(tilePath(ref))!);
    const [entry] = await this.readEntries(index, index + 1n, size);
    const proof = proveInclusionFrom(index, size, read);
    verifyInclusion(index, size, leafHash(entry!), proof, checkpoint.checkpoint.rootHash);
    return { checkpoint, entry: entry!, proof };
  }

  /** A consistency proof from `oldSize` to the current checkpoint, from tiles. */
  async proveConsistency(oldSize: bigint): Promise<{ checkpoint: SignedCheckpoint; proof: Hash[] }> {
    const checkpoint = await this.readCheckpoint();
    const size = checkpoint.checkpoint.size;
    if (oldSize < 0n || oldSize > size) throw new UsageError('USAGE', `size ${oldSize} is not within the log of size ${size}`);
    const tiles = await this.readHashTiles(tilesForConsistencyProof(oldSize, size));
    return { checkpoint, proof: proveConsistencyFrom(oldSize, size, tileNodeReader(size, (ref) => tiles.get(tilePath(ref))!)) };
  }

  /** The root of the tree at `size` (<= current), from the current tiles. */
  async rootAt(size: bigint, currentSize: bigint): Promise<Hash> {
    if (size === 0n) return EMPTY_TREE_HASH;
    const refs = rangeNodes(0n, size).map((node) => tileForNode(currentSize, node).tile);
    const tiles = await this.readHashTiles(refs);
    return treeHash(size, tileNodeReader(currentSize, (ref) => tiles.get(tilePath(ref))!));
  }
}

/** Opens a checkpoint of this log, prefixing errors with where it came from. */
export function openLogCheckpoint(message: string, verifier: Verifier, origin: string, what: string): SignedCheckpoint {
  try {
    return openCheckpoint(message, [verifier], origin);
  } catch (error) {
    if (error instanceof FormatError || error instanceof VerificationError) {
      const wrapped = error instanceof FormatError ? FormatError : VerificationError;
      throw new wrapped(error.code, `${what}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}
