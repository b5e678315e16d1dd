// RFC 6962 §2.1 Merkle tree hashing, inclusion and consistency proofs (generation and verification).
// Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2. Sizes and indexes are bigint: they come from
// untrusted checkpoints (up to 2^63-1) and are shifted, and JS `>>` on numbers is 32-bit.
import { FormatError, VerificationError } from '../errors.js';
import { bytesEqual, encodeBase64 } from './encoding.js';
import { sha256 } from './sha256.js';

export type Hash = Uint8Array;
export const HASH_SIZE = 32;

/** MTH({}) = SHA-256() (RFC 6962 §2.1). */
export const EMPTY_TREE_HASH: Hash = sha256(new Uint8Array(0));

const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 1;
// Scratch buffer for 0x00 || entry: one-shot hashing of one buffer is much faster than a streaming hash.
let leafInput = new Uint8Array(1 + 4096);

/** MTH({d}) = SHA-256(0x00 || d). */
export function leafHash(entry: Uint8Array): Hash {
  if (entry.length + 1 > leafInput.length) leafInput = new Uint8Array(entry.length + 1);
  leafInput[0] = 0;
  leafInput.set(entry, 1);
  return sha256(leafInput.subarray(0, entry.length + 1));
}

/** MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
export function nodeHash(left: Hash, right: Hash): Hash {
  // Children are 32-byte hashes (RFC 6962 §2.1, SHA-256). nodeInput is a shared buffer: a shorter child
  // would hash stale bytes of an earlier call and a longer one throws RangeError, so refuse both (this
  // also keeps a wrong-length leaf hash or root given to the verifiers a FormatError).
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new FormatError('MALFORMED_HASH', `node children of ${left.length} and ${right.length} bytes, want ${HASH_SIZE}`);
  }
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/** A perfect subtree: the node at `level` covering leaves [index·2^level, (index+1)·2^level). */
export interface NodeRef {
  readonly level: number;
  readonly index: bigint;
}

/** Reads the hash of a perfect subtree; e.g. from memory or from tiles already fetched. */
export type NodeReader = (node: NodeRef) => Hash;

function largestPowerOfTwoBelow(n: bigint): bigint {
  // The k of RFC 6962 §2.1: the largest power of two smaller than n (n > 1).
  let k = 1n;
  while (k << 1n < n) k <<= 1n;
  return k;
}

/**
 * Splits [lo, hi) into perfect subtrees, left to right, each as large as alignment allows
 * (Go tlog subTreeIndex).
 */
export function rangeNodes(lo: bigint, hi: bigint): NodeRef[] {
  const nodes: NodeRef[] = [];
  while (lo < hi) {
    let level = 0;
    while (true) {
      const size = 1n << BigInt(level + 1);
      if (lo % size !== 0n || lo + size > hi) break;
      level++;
    }
    nodes.push({ level, index: lo >> BigInt(level) });
    lo += 1n << BigInt(level);
  }
  return nodes;
}

/** MTH(D[lo:hi]) from the perfect subtrees covering it, folded right to left (Go tlog subTreeHash). */
export function rangeHash(lo: bigint, hi: bigint, read: NodeReader): Hash {
  const nodes = rangeNodes(lo, hi);
  if (nodes.length === 0) return EMPTY_TREE_HASH;
  let hash = read(nodes[nodes.length - 1]!);
  for (let i = nodes.length - 2; i >= 0; i--) hash = nodeHash(read(nodes[i]!), hash);
  return hash;
}

/** The root hash of the tree of `size` leaves. */
export function treeHash(size: bigint, read: NodeReader): Hash {
  return rangeHash(0n, size, read);
}

/** Subtree ranges whose hashes form the audit path PATH(index, D[0:size]) (RFC 6962 §2.1.1). */
export function inclusionProofRanges(index: bigint, size: bigint): Array<[bigint, bigint]> {
  if (index < 0n || index >= size) {
    throw new VerificationError('INDEX_OUT_OF_RANGE', `leaf index ${index} is not below tree size ${size}`);
  }
  const ranges: Array<[bigint, bigint]> = [];
  let lo = 0n;
  let hi = size;
  // Iterative form of PATH: collect root-side-first, then reverse (proofs are leaf-side first).
  while (hi - lo > 1n) {
    const k = largestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      lo = lo + k;
    }
  }
  return ranges.reverse();
}

/** Subtree ranges whose hashes form PROOF(m, D[0:n]) (RFC 6962 §2.1.2). */
export function consistencyProofRanges(m: bigint, n: bigint): Array<[bigint, bigint]> {
  if (m < 0n || m > n) throw new VerificationError('BAD_PROOF_SIZES', `cannot prove size ${m} against size ${n}`);
  const ranges: Array<[bigint, bigint]> = [];
  if (m === 0n || m === n) return ranges;
  // SUBPROOF(m, D[lo:hi], b), iteratively, root-side first.
  let lo = 0n;
  let hi = n;
  let completeSubtree = true;
  while (true) {
    if (m === hi - lo) {
      if (!completeSubtree) ranges.push([lo, hi]);
      break;
    }
    const k = largestPowerOfTwoBelow(hi - lo);
    if (m <= k) {
      ranges.push([lo + k, hi]);
      hi = lo + k;
    } else {
      ranges.push([lo, lo + k]);
      m -= k;
      lo += k;
      completeSubtree = false;
    }
  }
  return ranges.reverse();
}

export function proveInclusion(index: bigint, size: bigint, read: NodeReader): Hash[] {
  return inclusionProofRanges(index, size).map(([lo, hi]) => rangeHash(lo, hi, read));
}

export function proveConsistency(m: bigint, n: bigint, read: NodeReader): Hash[] {
  return consistencyProofRanges(m, n).map(([lo, hi]) => rangeHash(lo, hi, read));
}

/** Every perfect subtree a proof or root needs, so a tile client can fetch them before computing. */
export function nodesForRanges(ranges: Array<[bigint, bigint]>): NodeRef[] {
  return ranges.flatMap(([lo, hi]) => rangeNodes(lo, hi));
}

function checkProofHashes(proof: readonly Hash[]): void {
  if (proof.length > 64) throw new FormatError('MALFORMED_PROOF', `proof has ${proof.length} hashes, more than 64`);
  for (const hash of proof) {
    if (hash.length !== HASH_SIZE) {
      throw new FormatError('MALFORMED_PROOF', `proof hash of ${hash.length} bytes, want ${HASH_SIZE}`);
    }
  }
}

/** Recomputes the root from an inclusion proof (RFC 9162 §2.1.3.2); throws if the proof is malformed. */
export function rootFromInclusionProof(index: bigint, size: bigint, leaf: Hash, proof: readonly Hash[]): Hash {
  checkProofHashes(proof);
  if (index < 0n || index >= size) {
    throw new VerificationError('INCLUSION_PROOF_FAILED', `leaf index ${index} is not below tree size ${size}`);
  }
  let fn = index;
  let sn = size - 1n;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new VerificationError('INCLUSION_PROOF_FAILED', 'inclusion proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while (!((fn & 1n) === 1n || fn === 0n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerificationError('INCLUSION_PROOF_FAILED', 'inclusion proof is too short');
  return r;
}

export function verifyInclusion(index: bigint, size: bigint, leaf: Hash, proof: readonly Hash[], root: Hash): void {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (!bytesEqual(computed, root)) {
    throw new VerificationError(
      'INCLUSION_PROOF_FAILED',
      `inclusion proof for leaf ${index} in tree ${size} gives root ${encodeBase64(computed)}, want ${encodeBase64(root)}`,
    );
  }
}

/** RFC 9162 §2.1.4.2. Throws VerificationError unless `proof` shows tree size2 extends tree size1. */
export function verifyConsistency(
  size1: bigint,
  size2: bigint,
  proof: readonly Hash[],
  root1: Hash,
  root2: Hash,
): void {
  checkProofHashes(proof);
  const fail = (why: string): never => {
    throw new VerificationError('CONSISTENCY_PROOF_FAILED', `consistency proof ${size1} -> ${size2}: ${why}`);
  };
  if (size1 < 0n || size2 < size1) fail('the second tree is smaller than the first');
  if (size1 === 0n) fail('a proof from the empty tree is not defined');
  if (size1 === size2) {
    if (proof.length !== 0) fail('proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) fail('equal sizes with different roots');
    return;
  }
  if (proof.length === 0) fail('proof is empty');
  let path = proof;
  if ((size1 & (size1 - 1n)) === 0n) path = [root1, ...proof];
  let fn = size1 - 1n;
  let sn = size2 - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0n) fail('proof is too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while (!((fn & 1n) === 1n || fn === 0n)) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) fail('proof is too short');
  if (!bytesEqual(fr, root1)) fail(`proof gives first root ${encodeBase64(fr)}, want ${encodeBase64(root1)}`);
  if (!bytesEqual(sr, root2)) fail(`proof gives second root ${encodeBase64(sr)}, want ${encodeBase64(root2)}`);
}

/**
 * An in-memory tree that keeps every complete node, for building test logs and servers.
 * levels[l][i] is the perfect subtree at level l, index i.
 */
export class MemoryTree {
  private readonly levels: Hash[][] = [[]];

  get size(): bigint {
    return BigInt(this.levels[0]!.length);
  }

  appendLeafHash(hash: Hash): void {
    let level = 0;
    let current = hash;
    while (true) {
      const row = (this.levels[level] ??= []);
      row.push(current);
      if (row.length % 2 === 1) break;
      current = nodeHash(row[row.length - 2]!, current);
      level++;
    }
  }

  append(entry: Uint8Array): void {
    this.appendLeafHash(leafHash(entry));
  }

  readonly read: NodeReader = ({ level, index }) => {
    const hash = this.levels[level]?.[Number(index)];
    if (!hash) throw new VerificationError('NODE_UNAVAILABLE', `no node at level ${level} index ${index}`);
    return hash;
  };

  /** Level-l hashes [start, end), e.g. for a tile. */
  hashesAt(level: number, start: number, end: number): Hash[] {
    return (this.levels[level] ?? []).slice(start, end);
  }

  root(size: bigint = this.size): Hash {
    return treeHash(size, this.read);
  }
}
