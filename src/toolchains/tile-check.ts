// Checking one data tile of the checksum database against what vouches for it in a verified tree
// (research.swtch.com/tlog#tiling_a_log; c2sp.org/tlog-tiles), and keying its records for the
// module-version index: the per-record work of a scan, in one function that runs the same in the main
// thread and in the hashing workers (tile-workers.ts).
//
// - A full tile is vouched for by its entry in the authenticated level-1 hash tile: the perfect-subtree
//   hash of its 256 leaf hashes SHA-256(0x00 || text) (RFC 6962 §2.1) must equal it.
// - The partial tile at the right edge is vouched for by its authenticated level-0 hash tile, leaf by leaf.
//
// The hashes are the leaf and node hashes of src/tlog/merkle.ts (leafHash, nodeHash; perfectSubtreeHash
// of src/tlog/tile.ts), computed here as node:crypto digests in latin1 strings: one-shot SHA-256 into a
// Buffer spends most of its time allocating the Buffer, and a tile needs 511 digests that only feed the
// next one (test/toolchains-records.test.ts checks these against src/tlog on generated tiles).
import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';
import { dataTileOffsets } from '../sumdb/record.js';
import { HASH_SIZE } from '../tlog/merkle.js';
import { moduleVersionKeyInto } from './module-index.js';

let leafInput = Buffer.alloc(1 + 4096);
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** SHA-256(0x00 || text), the RFC 6962 §2.1 leaf hash, as 32 latin1 characters (one per byte). */
export function leafDigest(text: Uint8Array): string {
  if (text.length + 1 > leafInput.length) leafInput = Buffer.alloc(text.length + 1);
  leafInput[0] = 0x00;
  leafInput.set(text, 1);
  return hash('sha256', new Uint8Array(leafInput.buffer, leafInput.byteOffset, text.length + 1), 'binary');
}

/** SHA-256(0x01 || left || right), the RFC 6962 §2.1 node hash, of and as latin1 digests. */
export function nodeDigest(left: string, right: string): string {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) throw new Error('internal: node children are not 32-byte digests');
  // Character by character: 1.06-1.3x faster than Buffer.write of left + right, whose argument handling
  // costs more than the 64 bytes (`npm run bench -- sha256` measures both). Each character is one byte: the
  // digests are latin1 (`hash(…, 'binary')`), so charCodeAt is below 256.
  for (let i = 0; i < HASH_SIZE; i++) {
    nodeInput[1 + i] = left.charCodeAt(i);
    nodeInput[1 + HASH_SIZE + i] = right.charCodeAt(i);
  }
  return hash('sha256', nodeInput, 'binary');
}

/** The root of the perfect subtree over 2^k leaf digests (overwrites `digests`). */
export function perfectSubtreeDigest(digests: string[]): string {
  if (digests.length === 0 || (digests.length & (digests.length - 1)) !== 0) throw new Error(`internal: ${digests.length} digests are not a power of two`);
  for (let width = digests.length; width > 1; width >>= 1) {
    for (let i = 0; i < width >> 1; i++) digests[i] = nodeDigest(digests[2 * i]!, digests[2 * i + 1]!);
  }
  return digests[0]!;
}

/**
 * The leaf digests of records [offsets[i], offsets[i + 1] - 1) of `body`, i < count, without a copy per
 * record: the tile is copied once behind a 0x00 byte, each record's separator (the byte before it) set to
 * 0x00 too, so that 0x00 || text of every record is a slice of that copy.
 */
function leafDigests(body: Uint8Array, offsets: Uint32Array, count: number): string[] {
  const size = offsets[count]!; // one past the last record's byte, plus one
  if (size > leafInput.length) leafInput = Buffer.alloc(size);
  leafInput.set(body.subarray(0, size - 1), 1);
  const digests = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const at = offsets[i]!;
    leafInput[at] = 0x00; // was the separator "\n" before record i (or, for record 0, the byte in front)
    digests[i] = hash('sha256', new Uint8Array(leafInput.buffer, leafInput.byteOffset + at, offsets[i + 1]! - at), 'binary');
  }
  return digests;
}

/** Bytes as latin1 characters (one per byte). */
function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export interface TileCheckJob {
  /** The tile's bytes as served. */
  readonly body: Uint8Array;
  /** How many records the bytes hold (a full tile served for a deleted partial one holds 256). */
  readonly served: number;
  /** How many records of the tree the tile holds: the first `width` records are checked and kept. */
  readonly width: number;
  /** What vouches for the tile: its entry in the level-1 hash tile (full tiles), or its level-0 hash tile. */
  readonly voucher: 1 | 0;
  /** voucher 1: the 32-byte level-1 entry; voucher 0: the width × 32 bytes of the level-0 hash tile. */
  readonly expected: Uint8Array;
}

export type TileCheckResult =
  | {
      readonly ok: true;
      /** Record i is body[offsets[i], offsets[i + 1] - 1). */
      readonly offsets: Uint32Array;
      /** The module-version key of record i: keys[2i] (high), keys[2i + 1] (low) (moduleVersionKeyInto). */
      readonly keys: Uint32Array;
      /** Where "<path> <version>" ends in record i, or -1 when it is not two go.sum lines. */
      readonly ends: Int32Array;
    }
  /** The bytes are not a data tile: `message` says why (decodeDataTile's FormatError). */
  | { readonly ok: false; readonly malformed: string }
  /** The records do not hash to what vouches for them. */
  | { readonly ok: false; readonly mismatch: true };

export function checkDataTile(job: TileCheckJob): TileCheckResult {
  const { body, width, expected } = job;
  let offsets: Uint32Array;
  try {
    offsets = dataTileOffsets(body, job.served);
  } catch (error) {
    return { ok: false, malformed: (error as Error).message };
  }
  if (expected.length !== (job.voucher === 1 ? HASH_SIZE : width * HASH_SIZE)) throw new Error(`internal: ${expected.length} bytes of expected hashes for ${width} records`);
  const leaves = leafDigests(body, offsets, width);
  if (job.voucher === 1) {
    if (perfectSubtreeDigest(leaves) !== latin1(expected)) return { ok: false, mismatch: true };
  } else {
    const hashes = latin1(expected);
    for (let i = 0; i < width; i++) if (leaves[i] !== hashes.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE)) return { ok: false, mismatch: true };
  }
  // One buffer for the three arrays (one transfer back from a worker).
  const buffer = new ArrayBuffer((width + 1 + 2 * width + width) * 4);
  const kept = new Uint32Array(buffer, 0, width + 1);
  const keys = new Uint32Array(buffer, (width + 1) * 4, 2 * width);
  const ends = new Int32Array(buffer, (3 * width + 1) * 4, width);
  kept.set(offsets.subarray(0, width + 1));
  const key = new Uint32Array(2);
  for (let i = 0; i < width; i++) {
    ends[i] = moduleVersionKeyInto(body, key, offsets[i]!, offsets[i + 1]! - 1);
    keys[2 * i] = key[0]!;
    keys[2 * i + 1] = key[1]!;
  }
  return { ok: true, offsets: kept, keys, ends };
}
