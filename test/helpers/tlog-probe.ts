// The one tlog core (src/tlog), exercised the same way in every environment: test/tlog-parity.test.ts
// runs probeCore() in Node (node:crypto behind #tlog-crypto), in Node with the "browser" condition
// (@noble), and in headless Chromium from an esbuild browser bundle, and compares the results. Only pure
// core modules are imported here, so the bundle proves they need no node built-in.
import { openCheckpoint } from '../../src/tlog/checkpoint.js';
import { cosignatureVerifier } from '../../src/tlog/cosignature.js';
import { decodeBase64, encodeBase64, encodeHex, utf8 } from '../../src/tlog/encoding.js';
import { MemoryTree, leafHash, proveConsistency, proveInclusion, verifyConsistency, verifyInclusion } from '../../src/tlog/merkle.js';
import { noteVerifier, openNote, parseVerifierKey } from '../../src/tlog/note.js';
import { CRYPTO_IMPLEMENTATION, sha256 } from '../../src/tlog/sha256.js';
import { TileBuilder, type TileRef, encodeEntryBundle, encodeHashTile, parseTilePath, tilePath, tilesForSize } from '../../src/tlog/tile.js';
import { type TreeReaders, treeReadOrder, verifyTree } from '../../src/tlog/verify-tree.js';

/** The real sum.golang.org key and a tree head it signed (public, as in test/vectors). */
export const SUMDB_KEY = 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8';
export const SUMDB_NOTE =
  'go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n\n' +
  '— sum.golang.org Az3grpukl5AXaVfYkLiDGORx/DN2nlcS5kZHR5uYOBV2KA2HgXpD+gu9HHONebHLAyaKbbTM75QTtPydhKCExixSfwQ=\n';

/** RFC 6962 test leaves of the transparency-dev vectors (hex). */
const VECTOR_LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

function pattern(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
}

/** The error's class and code, or the value: results must be comparable as JSON. */
function attempt<T>(run: () => T): T | string {
  try {
    return run();
  } catch (error) {
    const e = error as { name?: string; code?: string };
    return `${e.name}:${e.code}`;
  }
}

/** An in-memory tlog-tiles log of `entries`: its files by path, size and root. */
function tiledLog(entries: readonly Uint8Array[]): { files: Map<string, Uint8Array>; size: bigint; rootHash: Uint8Array } {
  const files = new Map<string, Uint8Array>();
  const builder = new TileBuilder(0n);
  const full = builder.append(entries.map((entry) => leafHash(entry)));
  for (const tile of [...full, ...builder.partialTiles()]) files.set(tilePath(tile.ref), encodeHashTile(tile.hashes));
  for (let i = 0; i < entries.length; i += 256) {
    const chunk = entries.slice(i, i + 256);
    files.set(tilePath({ level: 'entries', index: BigInt(i / 256), width: chunk.length }), encodeEntryBundle(chunk));
  }
  return { files, size: BigInt(entries.length), rootHash: builder.root() };
}

async function checkTree(log: ReturnType<typeof tiledLog>, change: (files: Map<string, Uint8Array>) => void) {
  const files = new Map(log.files);
  change(files);
  const read = (tile: TileRef) => {
    const bytes = files.get(tilePath(tile));
    if (!bytes) throw new Error(`${tilePath(tile)} is missing`);
    return bytes;
  };
  const readers: TreeReaders = { readEntryBundle: read, readHashTile: read };
  try {
    const tree = await verifyTree(log, readers);
    return {
      root: encodeBase64(tree.root),
      rootMatches: tree.rootMatches,
      problems: tree.problems.map((p) => `${p.kind} ${tilePath(p.tile)}${p.kind === 'mismatch' ? ` ${p.hashes.join(',')}` : ''}`),
      authentic: tree.storedTilesAuthenticate(log.rootHash),
      rootAt1000: attempt(() => encodeBase64(tree.rootAt(1000n))),
    };
  } catch (error) {
    return attempt(() => {
      throw error;
    });
  }
}

function flipped(bytes: Uint8Array | undefined, offset: number): Uint8Array {
  const out = new Uint8Array(bytes!);
  out[offset < 0 ? out.length + offset : offset]! ^= 1;
  return out;
}

export async function probeCore(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { implementation: CRYPTO_IMPLEMENTATION };
  out.sha256 = [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 1 << 20].map((n) => encodeHex(sha256(pattern(n))));
  out.sha256Parts = encodeHex(sha256(utf8('a'), utf8('bc'), new Uint8Array(0)));

  // RFC 6962 §2.1: the roots of the transparency-dev vectors, and of a tree across tile boundaries.
  const vectors = new MemoryTree();
  const vectorRoots = [encodeHex(vectors.root())];
  for (const leaf of VECTOR_LEAVES) {
    vectors.append(hexBytes(leaf));
    vectorRoots.push(encodeHex(vectors.root()));
  }
  out.vectorRoots = vectorRoots;
  const entries = Array.from({ length: 70_000 }, (_, i) => utf8(`entry ${i}\n`));
  const tree = new MemoryTree();
  for (const entry of entries) tree.append(entry);
  out.roots = [1n, 255n, 256n, 257n, 65_535n, 65_536n, 65_537n, 70_000n].map((n) => encodeBase64(tree.root(n)));
  const inclusion = proveInclusion(4_321n, 70_000n, tree.read);
  verifyInclusion(4_321n, 70_000n, leafHash(entries[4_321]!), inclusion, tree.root());
  const consistency = proveConsistency(65_537n, 70_000n, tree.read);
  verifyConsistency(65_537n, 70_000n, consistency, tree.root(65_537n), tree.root());
  out.proofs = [inclusion.map(encodeBase64), consistency.map(encodeBase64)];
  out.badProof = attempt(() => verifyInclusion(4_322n, 70_000n, leafHash(entries[4_321]!), inclusion, tree.root()));

  // c2sp.org/tlog-tiles paths and the tiles of a tree.
  out.tilePaths = [0n, 999n, 1000n, 97_380n, 1_234_067n].map((index) => tilePath({ level: 0, index, width: 256 }));
  out.partialPath = tilePath({ level: 'entries', index: 1n, width: 174 });
  out.badTilePath = attempt(() => parseTilePath('tile/0/1000'));
  out.tilesForSize = [0n, 1n, 255n, 256n, 257n, 65_536n, 70_000n].map((n) => tilesForSize(n).length);
  out.readOrder = encodeHex(sha256(utf8(treeReadOrder(70_000n).map(tilePath).join('\n'))));
  out.readOrderHead = treeReadOrder(70_000n).slice(0, 3).map(tilePath).concat(treeReadOrder(70_000n).slice(-3).map(tilePath));

  // RFC 4648 base64, strict; 6.4 MB in one linear pass.
  const big = 'AAAA'.repeat(1_600_000);
  out.base64 = {
    big: decodeBase64(big).length,
    bigBad: attempt(() => decodeBase64(`${big}!`)),
    encoded: [0, 1, 2, 3, 4, 32, 33].map((n) => encodeBase64(pattern(n))),
    rejected: ['AB==', 'AAB=', 'A===', '====', 'AA=A', 'AA', 'A\u00e9AA', 'AA AA'].map((text) => attempt(() => decodeBase64(text))),
    accepted: ['', 'AA==', '+/8=', 'AAAA'].map((text) => encodeHex(decodeBase64(text))),
  };

  // c2sp.org/signed-note and tlog-checkpoint, with the real sum.golang.org key (Ed25519 through the seam).
  const sumdb = noteVerifier(SUMDB_KEY);
  const opened = openCheckpoint(SUMDB_NOTE, [sumdb], 'go.sum database tree');
  out.sumdb = { size: String(opened.checkpoint.size), root: encodeBase64(opened.checkpoint.rootHash), keyId: parseVerifierKey(SUMDB_KEY).keyId };
  out.sumdbTampered = attempt(() => openCheckpoint(SUMDB_NOTE.replace('35225469', '35225468'), [sumdb]));
  const signature = SUMDB_NOTE.slice(SUMDB_NOTE.lastIndexOf(' ') + 1, -1);
  const sig = decodeBase64(signature);
  out.sumdbFlips = [4, 20, 35, 36, 67].map((at) => {
    const bad = new Uint8Array(sig);
    bad[at]! ^= 0x01;
    return attempt(() => openNote(SUMDB_NOTE.replace(signature, encodeBase64(bad)), [sumdb]).text.length);
  });
  out.wrongKey = attempt(() => openCheckpoint(SUMDB_NOTE, [noteVerifier('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')]));
  out.badKeys = ['PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'no-plus-signs'].map((key) => attempt(() => parseVerifierKey(key).name));
  out.cosignatureKey = attempt(() => cosignatureVerifier(SUMDB_KEY).name);

  // The whole-tree check (src/tlog/verify-tree.ts) on a 3,000-entry log: intact, and tampered.
  const log = tiledLog(entries.slice(0, 3_000));
  out.verifyTree = {
    intact: await checkTree(log, () => {}),
    tile: await checkTree(log, (files) => files.set('tile/0/001', flipped(files.get('tile/0/001'), 32 * 17 + 3))),
    entry: await checkTree(log, (files) => files.set('tile/entries/002', flipped(files.get('tile/entries/002'), -1))),
    level1: await checkTree(log, (files) => files.set('tile/1/000.p/11', flipped(files.get('tile/1/000.p/11'), 40))),
    missing: await checkTree(log, (files) => files.delete('tile/0/003')),
    truncated: await checkTree(log, (files) => files.set('tile/0/004', files.get('tile/0/004')!.subarray(1))),
    badBundle: await checkTree(log, (files) => files.set('tile/entries/005', files.get('tile/entries/005')!.subarray(1))),
  };
  return out;
}
