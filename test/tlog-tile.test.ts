// C2SP tlog-tiles (src/tlog/tile.ts): tile paths (c2sp.org/tlog-tiles "Merkle Tree"), tile counts, the incremental
// TileBuilder against an in-memory tree, proofs computed from tiles, and entry bundles.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FormatError, VerificationError, WitnessError } from '../src/errors.js';
import { encodeHex, utf8 } from '../src/tlog/encoding.js';
import { type Hash, MemoryTree, leafHash, proveConsistency, proveInclusion, treeHash } from '../src/tlog/merkle.js';
import {
  type BuiltTile,
  type HashTileSource,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileRef,
  TileBuilder,
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  encodeTileIndex,
  parseTilePath,
  perfectSubtreeHash,
  rangeHashFromTiles,
  tileCounts,
  tileForHash,
  tileForNode,
  tileNodeReader,
  tilePath,
  tilesForConsistencyProof,
  tilesForInclusionProof,
  tilesForSize,
  tilesForTreeHash,
  verifyTreeHashFromTiles,
} from '../src/tlog/tile.js';
import { same } from './helpers/vectors.js';


/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_LEAVES = 70_000;
const leafHashes: Hash[] = [];
const bigTree = new MemoryTree();
for (let i = 0; i < MAX_LEAVES; i++) {
  const h = leafHash(utf8(`leaf ${i}`));
  leafHashes.push(h);
  bigTree.appendLeafHash(h);
}

/** Every hash tile of a tree of `size` leaves, computed from the MemoryTree, keyed by path. */
function expectedTiles(size: number): Map<string, Hash[]> {
  const tiles = new Map<string, Hash[]>();
  for (let level = 0; ; level++) {
    const { fullCount, partialWidth } = tileCounts(BigInt(size), level);
    if (fullCount === 0n && partialWidth === 0) break;
    const full = Number(fullCount);
    for (let n = 0; n < full; n++) {
      tiles.set(tilePath({ level, index: BigInt(n), width: 256 }), bigTree.hashesAt(8 * level, n * 256, n * 256 + 256));
    }
    if (partialWidth > 0) {
      tiles.set(
        tilePath({ level, index: fullCount, width: partialWidth }),
        bigTree.hashesAt(8 * level, full * 256, full * 256 + partialWidth),
      );
    }
  }
  return tiles;
}

function tileMap(tiles: readonly BuiltTile[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const tile of tiles) {
    const path = tilePath(tile.ref);
    assert.equal(out.has(path), false, `tile ${path} emitted twice`);
    assert.equal(tile.hashes.length, tile.ref.width, `${path} width`);
    out.set(path, encodeHex(encodeHashTile(tile.hashes)));
  }
  return out;
}

function hexMap(tiles: Map<string, Hash[]>): Map<string, string> {
  return new Map([...tiles].map(([path, hashes]) => [path, encodeHex(encodeHashTile(hashes))]));
}

/** A tile source that serves only `allowed` tiles (and records what it was asked for). */
function limitedSource(all: Map<string, Hash[]>, allowed: readonly TileRef[], asked?: Set<string>): HashTileSource {
  const ok = new Set(allowed.map(tilePath));
  return (ref) => {
    const path = tilePath(ref);
    asked?.add(path);
    if (!ok.has(path)) throw new Error(`tile ${path} was not listed as needed`);
    const hashes = all.get(path);
    if (!hashes) throw new Error(`no tile ${path}`);
    return hashes;
  };
}

describe('tile paths', () => {
  test('<N> encoding examples (c2sp.org/tlog-tiles "Merkle Tree")', () => {
    assert.equal(encodeTileIndex(1234067n), 'x001/x234/067');
    assert.equal(encodeTileIndex(0n), '000');
    assert.equal(encodeTileIndex(5n), '005');
    assert.equal(encodeTileIndex(999n), '999');
    assert.equal(encodeTileIndex(1000n), 'x001/000');
    assert.equal(encodeTileIndex(97380n), 'x097/380');
    assert.equal(encodeTileIndex(112911n), 'x112/911');
    assert.equal(encodeTileIndex(1000000n), 'x001/x000/000');
    assert.equal(encodeTileIndex((1n << 63n) - 1n), 'x009/x223/x372/x036/x854/x775/807');
    assert.throws(() => encodeTileIndex(-1n), FormatError);
  });

  test('tilePath for hash tiles, partial tiles and entry bundles', () => {
    assert.equal(tilePath({ level: 0, index: 1234067n, width: 256 }), 'tile/0/x001/x234/067');
    assert.equal(tilePath({ level: 0, index: 1234067n, width: 8 }), 'tile/0/x001/x234/067.p/8');
    assert.equal(tilePath({ level: 3, index: 0n, width: 1 }), 'tile/3/000.p/1');
    assert.equal(tilePath({ level: 63, index: 0n, width: 255 }), 'tile/63/000.p/255');
    assert.equal(tilePath({ level: 'entries', index: 97380n, width: 256 }), 'tile/entries/x097/380');
    assert.equal(tilePath({ level: 'entries', index: 273n, width: 112 }), 'tile/entries/273.p/112');
    for (const width of [0, 257, 1.5, -1, Number.NaN]) {
      assert.throws(() => tilePath({ level: 0, index: 0n, width }), FormatError);
    }
    for (const level of [-1, 64, 2.5]) {
      assert.throws(() => tilePath({ level, index: 0n, width: 256 }), FormatError);
    }
  });

  test('parseTilePath accepts canonical paths and round-trips them', () => {
    const cases: Array<[string, TileRef]> = [
      ['tile/0/000', { level: 0, index: 0n, width: 256 }],
      ['tile/0/x001/x234/067', { level: 0, index: 1234067n, width: 256 }],
      ['tile/0/x001/x234/067.p/8', { level: 0, index: 1234067n, width: 8 }],
      ['tile/1/441.p/15', { level: 1, index: 441n, width: 15 }],
      ['tile/2/001.p/185', { level: 2, index: 1n, width: 185 }],
      ['tile/0/x112/911.p/237', { level: 0, index: 112911n, width: 237 }],
      ['tile/63/999.p/255', { level: 63, index: 999n, width: 255 }],
      ['tile/10/x001/000', { level: 10, index: 1000n, width: 256 }],
      ['tile/entries/x097/380', { level: 'entries', index: 97380n, width: 256 }],
      ['tile/entries/000.p/1', { level: 'entries', index: 0n, width: 1 }],
    ];
    for (const [path, ref] of cases) {
      same(parseTilePath(path), ref, path);
      assert.equal(tilePath(parseTilePath(path)), path);
    }
  });

  test('parseTilePath rejects non-canonical and malformed paths with FormatError', () => {
    const bad = [
      'tile/0/x000/001', // leading zero group
      'tile/0/x000/000',
      'tile/0/000.p/0',
      'tile/0/000.p/256',
      'tile/0/000.p/007',
      'tile/0/000.p/07',
      'tile/0/000.p/1000',
      'tile/0/000.p/',
      'tile/0/000.p/-1',
      'tile/00/000',
      'tile/01/000',
      'tile/64/000',
      'tile/99/000',
      'tile/100/000',
      'tile/-1/000',
      'tile/0/0',
      'tile/0/00',
      'tile/0/0000',
      'tile/0/x1/000',
      'tile/0/X001/000',
      'tile/0/x001000',
      'tile/0/000/',
      'tile/0/',
      'tile/0',
      'tile//000',
      '/tile/0/000',
      'tile/0/000 ',
      ' tile/0/000',
      'tile/0/000\n',
      'tile/data/000',
      'tile/8/0/000', // Go sumdb spelling with height
      'tile/entries/000.p/256',
      'tile/Entries/000',
      'TILE/0/000',
      '',
      'garbage',
      'tile/0/abc',
      'tile/0/x001/x002',
      'tile/0/000.p/1.p/1',
      'tile/0/\u0660\u0660\u0660', // Arabic-Indic digits
    ];
    for (const path of bad) {
      assert.throws(
        () => parseTilePath(path),
        (err: unknown) => err instanceof FormatError && err.code === 'MALFORMED_TILE_PATH',
        JSON.stringify(path),
      );
    }
  });
});

describe('tile counts', () => {
  test('s = 70000: 273 full L0 + .p/112, 1 full L1 + .p/17, L2 .p/1', () => {
    same(tileCounts(70000n, 0), { fullCount: 273n, partialWidth: 112 });
    same(tileCounts(70000n, 1), { fullCount: 1n, partialWidth: 17 });
    same(tileCounts(70000n, 2), { fullCount: 0n, partialWidth: 1 });
    same(tileCounts(70000n, 3), { fullCount: 0n, partialWidth: 0 });
    const paths = tilesForSize(70000n).map(tilePath);
    // 274 hash tiles + 274 entry bundles at level 0, 2 at level 1, 1 at level 2.
    assert.equal(paths.length, 274 * 2 + 2 + 1);
    assert.equal(paths.includes('tile/0/273.p/112'), true);
    assert.equal(paths.includes('tile/entries/273.p/112'), true);
    assert.equal(paths.includes('tile/0/272'), true);
    assert.equal(paths.includes('tile/0/273'), false);
    same(
      paths.filter((p) => /^tile\/[12]\//.test(p)),
      ['tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1'],
    );
    same(tilesForTreeHash(70000n).map(tilePath).sort(), ['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1']);
  });

  test('s = 28905453 (a real sumdb size)', () => {
    const size = 28905453n;
    const partial = (level: number) => {
      const { fullCount, partialWidth } = tileCounts(size, level);
      return tilePath({ level, index: fullCount, width: partialWidth });
    };
    assert.equal(partial(0), 'tile/0/x112/911.p/237');
    assert.equal(partial(1), 'tile/1/441.p/15');
    assert.equal(partial(2), 'tile/2/001.p/185');
    assert.equal(partial(3), 'tile/3/000.p/1');
    same(tileCounts(size, 4), { fullCount: 0n, partialWidth: 0 });
    same(tilesForTreeHash(size).map(tilePath).sort(), [
      'tile/0/x112/911.p/237',
      'tile/1/441.p/15',
      'tile/2/001.p/185',
      'tile/3/000.p/1',
    ]);
    // Record 24929362 is in data tile x097/380 at offset 82 (24929362 = 97380·256 + 82); that tile is full.
    same(tileForHash(size, 'entries', 24929362n), { level: 'entries', index: 97380n, width: 256 });
    assert.equal(24929362 % 256, 82);
  });

  test('edge sizes', () => {
    same(tileCounts(0n, 0), { fullCount: 0n, partialWidth: 0 });
    same(tilesForSize(0n), []);
    same(tilesForSize(1n).map(tilePath), ['tile/0/000.p/1', 'tile/entries/000.p/1']);
    same(tilesForSize(256n).map(tilePath), ['tile/0/000', 'tile/entries/000', 'tile/1/000.p/1']);
    same(tileCounts(65536n, 2), { fullCount: 0n, partialWidth: 1 });
    same(tileCounts(65536n, 1), { fullCount: 1n, partialWidth: 0 });
    const max = (1n << 63n) - 1n;
    same(tileCounts(max, 7), { fullCount: 0n, partialWidth: 127 });
    same(tileCounts(max, 0), { fullCount: max >> 8n, partialWidth: 255 });
  });

  test('tileForHash and tileForNode', () => {
    same(tileForHash(300n, 0, 0n), { level: 0, index: 0n, width: 256 });
    same(tileForHash(300n, 0, 299n), { level: 0, index: 1n, width: 44 });
    assert.throws(() => tileForHash(300n, 0, 300n), VerificationError);
    assert.throws(() => tileForHash(300n, 1, 1n), VerificationError);
    same(tileForNode(300n, { level: 5, index: 8n }), { tile: { level: 0, index: 1n, width: 44 }, offset: 0, count: 32 });
    same(tileForNode(300n, { level: 8, index: 0n }), { tile: { level: 1, index: 0n, width: 1 }, offset: 0, count: 1 });
    same(tileForNode(70000n, { level: 10, index: 5n }), { tile: { level: 1, index: 0n, width: 256 }, offset: 20, count: 4 });
    // Node 3/36 covers [288, 296); 6/4 would cover [256, 320) which is beyond 300.
    same(tileForNode(300n, { level: 3, index: 36n }), { tile: { level: 0, index: 1n, width: 44 }, offset: 32, count: 8 });
    assert.throws(() => tileForNode(300n, { level: 6, index: 4n }), (e: unknown) => e instanceof VerificationError && e.code === 'NODE_UNAVAILABLE');
  });
});

describe('hash tiles', () => {
  test('encode/decode round trip and length check', () => {
    const hashes = leafHashes.slice(0, 5);
    const data = encodeHashTile(hashes);
    assert.equal(data.length, 160);
    const ref: TileRef = { level: 0, index: 0n, width: 5 };
    same(decodeHashTile(data, ref), hashes);
    assert.throws(() => decodeHashTile(data.subarray(0, 159), ref), FormatError);
    assert.throws(() => decodeHashTile(new Uint8Array(161), ref), FormatError);
    assert.throws(() => decodeHashTile(data, { ...ref, width: 6 }), FormatError);
    assert.throws(() => decodeHashTile(new Uint8Array(0), { ...ref, width: 256 }), FormatError);
    assert.equal(decodeHashTile(new Uint8Array(8192), { ...ref, width: 256 }).length, 256);
  });

  test('perfectSubtreeHash equals the MemoryTree node', () => {
    same(perfectSubtreeHash(leafHashes.slice(0, 1)), leafHashes[0]);
    same(perfectSubtreeHash(leafHashes.slice(0, 256)), bigTree.read({ level: 8, index: 0n }));
    same(perfectSubtreeHash(leafHashes.slice(64, 128)), bigTree.read({ level: 6, index: 1n }));
    assert.throws(() => perfectSubtreeHash([]));
    assert.throws(() => perfectSubtreeHash(leafHashes.slice(0, 3)));
  });
});

describe('TileBuilder', () => {
  const SIZES = [0, 1, 2, 3, 255, 256, 257, 511, 512, 513, 1000, 65535, 65536, 65537, 65536 + 255, 65536 + 257, 69999, 70000];

  test('constants', () => {
    assert.equal(TILE_HEIGHT, 8);
    assert.equal(TILE_WIDTH, 256);
  });

  test('tiles emitted from size 0 with random batch splits equal the MemoryTree tiles', () => {
    const random = prng(1);
    for (const size of SIZES) {
      const builder = new TileBuilder(0n);
      const emitted: BuiltTile[] = [];
      let at = 0;
      while (at < size) {
        // Mix tiny batches, batches around a tile width and huge ones.
        const r = random();
        const max = r < 0.3 ? 3 : r < 0.6 ? 300 : r < 0.9 ? 5000 : 70000;
        const n = Math.min(size - at, 1 + Math.floor(random() * max));
        emitted.push(...builder.append(leafHashes.slice(at, at + n)));
        at += n;
        assert.equal(builder.size, BigInt(at));
      }
      if (size > 0 && random() < 0.5) same(builder.append([]), []);
      const expected = hexMap(expectedTiles(size));
      const got = tileMap([...emitted, ...builder.partialTiles()]);
      same([...got.keys()].sort(), [...expected.keys()].sort(), `tile set at size ${size}`);
      for (const [path, hashes] of expected) assert.equal(got.get(path), hashes, `${path} at size ${size}`);
      // Full tiles come from append, partial ones from partialTiles.
      for (const tile of emitted) assert.equal(tile.ref.width, 256);
      for (const tile of builder.partialTiles()) assert.equal(tile.ref.width < 256, true);
      assert.equal(encodeHex(builder.root()), encodeHex(bigTree.root(BigInt(size))), `root at size ${size}`);
    }
  });

  test('one leaf at a time up to 600, root after every append', () => {
    const builder = new TileBuilder(0n);
    const emitted: BuiltTile[] = [];
    for (let i = 0; i < 600; i++) {
      emitted.push(...builder.append([leafHashes[i]!]));
      same(builder.root(), bigTree.root(BigInt(i + 1)), `root ${i + 1}`);
    }
    same(
      emitted.map((t) => tilePath(t.ref)),
      ['tile/0/000', 'tile/0/001'],
    );
    same(
      builder.partialTiles().map((t) => tilePath(t.ref)),
      ['tile/0/002.p/88', 'tile/1/000.p/2'],
    );
  });

  test('resuming from a right edge emits exactly the tiles that became full', () => {
    const random = prng(2);
    const pairs: Array<[number, number]> = [
      [0, 1],
      [1, 256],
      [255, 257],
      [256, 512],
      [300, 65536],
      [65535, 65537],
      [65536, 70000],
      [1000, 1000],
    ];
    for (let i = 0; i < 12; i++) {
      const a = Math.floor(random() * MAX_LEAVES);
      const b = a + Math.floor(random() * (MAX_LEAVES - a));
      pairs.push([a, b]);
    }
    for (const [from, to] of pairs) {
      const before = expectedTiles(from);
      const edges: Hash[][] = [];
      for (let level = 0; ; level++) {
        const { fullCount, partialWidth } = tileCounts(BigInt(from), level);
        edges.push(partialWidth > 0 ? before.get(tilePath({ level, index: fullCount, width: partialWidth }))! : []);
        if (fullCount === 0n) break;
      }
      const builder = new TileBuilder(BigInt(from), edges);
      same(builder.root(), bigTree.root(BigInt(from)), `resumed root at ${from}`);
      const emitted = builder.append(leafHashes.slice(from, to));
      const after = hexMap(expectedTiles(to));
      const newFull = [...after.keys()].filter((p) => !p.includes('.p/') && !before.has(p)).sort();
      const got = tileMap(emitted);
      same([...got.keys()].sort(), newFull, `${from} -> ${to}`);
      for (const [path, hashes] of got) assert.equal(hashes, after.get(path));
      const partial = tileMap(builder.partialTiles());
      same(
        [...partial.keys()].sort(),
        [...after.keys()].filter((p) => p.includes('.p/')).sort(),
      );
      for (const [path, hashes] of partial) assert.equal(hashes, after.get(path));
      same(builder.root(), bigTree.root(BigInt(to)), `root ${from} -> ${to}`);
    }
  });

  test('constructor rejects right edges of the wrong width', () => {
    const edge = (size: number, level: number) => {
      const { fullCount, partialWidth } = tileCounts(BigInt(size), level);
      return expectedTiles(size).get(tilePath({ level, index: fullCount, width: partialWidth }))!;
    };
    const isMismatch = (e: unknown) => e instanceof VerificationError && e.code === 'TILE_EDGE_MISMATCH';
    assert.throws(() => new TileBuilder(5n), isMismatch);
    assert.throws(() => new TileBuilder(5n, [leafHashes.slice(0, 4)]), isMismatch);
    assert.throws(() => new TileBuilder(0n, [leafHashes.slice(0, 1)]), isMismatch);
    assert.throws(() => new TileBuilder(256n, [[]]), isMismatch);
    assert.throws(() => new TileBuilder(256n, [leafHashes.slice(0, 1), edge(256, 1)]), isMismatch);
    new TileBuilder(256n, [[], edge(256, 1)]);
    new TileBuilder(300n, [edge(300, 0), edge(300, 1)]);
  });
});

describe('reading the tree from tiles', () => {
  test('tileNodeReader roots and verifyTreeHashFromTiles for many sizes', () => {
    for (const size of [1, 2, 7, 255, 256, 257, 300, 511, 4097, 65535, 65536, 65537, 70000]) {
      const tiles = expectedTiles(size);
      const needed = tilesForTreeHash(BigInt(size));
      const asked = new Set<string>();
      const source = limitedSource(tiles, needed, asked);
      const root = bigTree.root(BigInt(size));
      same(treeHash(BigInt(size), tileNodeReader(BigInt(size), source)), root, `root ${size}`);
      verifyTreeHashFromTiles(BigInt(size), root, source);
      same([...asked].sort(), needed.map(tilePath).sort(), `tiles used for root ${size}`);
      assert.throws(
        () => verifyTreeHashFromTiles(BigInt(size), bigTree.root(BigInt(size - 1)), source),
        (e: unknown) => e instanceof VerificationError && e.code === 'TILE_ROOT_MISMATCH',
      );
    }
  });

  test('any tampered byte in the tiles of the root makes verifyTreeHashFromTiles throw VerificationError', () => {
    for (const size of [5, 300, 70000]) {
      const tiles = expectedTiles(size);
      const root = bigTree.root(BigInt(size));
      const needed = tilesForTreeHash(BigInt(size));
      let flips = 0;
      for (const ref of needed) {
        const data = encodeHashTile(tiles.get(tilePath(ref))!);
        // Every byte for the small trees; every 5th byte (and so every hash) for the large one.
        const stride = size > 1000 ? 5 : 1;
        for (let pos = 0; pos < data.length; pos += stride) {
          const tampered = Uint8Array.from(data);
          tampered[pos]! ^= 1 << (pos % 8);
          const badPath = tilePath(ref);
          const badHashes = decodeHashTile(tampered, ref);
          const source: HashTileSource = (r) => {
            const path = tilePath(r);
            return path === badPath ? badHashes : tiles.get(path)!;
          };
          assert.throws(
            () => verifyTreeHashFromTiles(BigInt(size), root, source),
            VerificationError,
            `${tilePath(ref)} byte ${pos}`,
          );
          flips++;
        }
      }
      const bytes = needed.reduce((sum, t) => sum + t.width * 32, 0);
      assert.equal(flips, size > 1000 ? needed.reduce((sum, t) => sum + Math.ceil((t.width * 32) / 5), 0) : bytes);
    }
  });

  test('a tile source returning the wrong number of hashes is a FormatError', () => {
    const tiles = expectedTiles(300);
    const reader = tileNodeReader(300n, (ref) => tiles.get(tilePath(ref))!.slice(1));
    assert.throws(() => reader({ level: 0, index: 299n }), FormatError);
    assert.throws(() => verifyTreeHashFromTiles(300n, bigTree.root(300n), (ref) => [...tiles.get(tilePath(ref))!, leafHashes[0]!]), FormatError);
    const ok = tileNodeReader(300n, (ref) => tiles.get(tilePath(ref))!);
    assert.throws(() => ok({ level: 0, index: 300n }), VerificationError);
    same(ok({ level: 2, index: 74n }), bigTree.read({ level: 2, index: 74n }));
  });

  test('inclusion proofs from tiles equal those from the MemoryTree', () => {
    const random = prng(3);
    for (const size of [1, 2, 3, 256, 257, 300, 1000, 65536, 65537, 70000]) {
      const tiles = expectedTiles(size);
      const root = bigTree.root(BigInt(size));
      const indexes = new Set([0, size - 1, Math.floor(size / 2)]);
      for (let i = 0; i < 25; i++) indexes.add(Math.floor(random() * size));
      for (const index of indexes) {
        const needed = tilesForInclusionProof(BigInt(index), BigInt(size));
        const reader = tileNodeReader(BigInt(size), limitedSource(tiles, needed));
        const proof = proveInclusion(BigInt(index), BigInt(size), reader);
        same(
          proof.map(encodeHex),
          proveInclusion(BigInt(index), BigInt(size), bigTree.read).map(encodeHex),
          `inclusion ${index} in ${size}`,
        );
        // The listed tiles also give the root and the leaf itself.
        same(treeHash(BigInt(size), reader), root);
        same(reader({ level: 0, index: BigInt(index) }), leafHashes[index]);
      }
    }
    assert.throws(() => tilesForInclusionProof(5n, 5n), VerificationError);
  });

  test('consistency proofs from tiles equal those from the MemoryTree', () => {
    const random = prng(4);
    for (const size of [1, 2, 9, 256, 257, 513, 4096, 65536, 65537, 70000]) {
      const tiles = expectedTiles(size);
      const olds = new Set([1, size, size - 1, Math.floor(size / 2), 256, 255, 65536].filter((m) => m >= 1 && m <= size));
      for (let i = 0; i < 25; i++) olds.add(1 + Math.floor(random() * size));
      for (const m of olds) {
        const needed = tilesForConsistencyProof(BigInt(m), BigInt(size));
        const reader = tileNodeReader(BigInt(size), limitedSource(tiles, needed));
        const proof = proveConsistency(BigInt(m), BigInt(size), reader);
        same(
          proof.map(encodeHex),
          proveConsistency(BigInt(m), BigInt(size), bigTree.read).map(encodeHex),
          `consistency ${m} -> ${size}`,
        );
        // Both roots are computable from the listed tiles (old root from tiles of the new tree).
        same(treeHash(BigInt(size), reader), bigTree.root(BigInt(size)));
        same(treeHash(BigInt(m), reader), bigTree.root(BigInt(m)));
      }
    }
    same(tilesForConsistencyProof(0n, 0n), []);
    assert.throws(() => tilesForConsistencyProof(6n, 5n), VerificationError);
  });

  test('rangeHashFromTiles', () => {
    const tiles = expectedTiles(70000);
    const source: HashTileSource = (ref) => tiles.get(tilePath(ref))!;
    same(rangeHashFromTiles(70000n, 0n, 65536n, source), bigTree.read({ level: 16, index: 0n }));
    same(rangeHashFromTiles(70000n, 65536n, 65536n + 2048n, source), bigTree.read({ level: 11, index: 32n }));
    same(rangeHashFromTiles(70000n, 0n, 70000n, source), bigTree.root(70000n));
  });
});

describe('entry bundles', () => {
  const ref = (width: number): TileRef => ({ level: 'entries', index: 0n, width });

  test('encode/decode round trip', () => {
    const entries = [utf8('hello'), new Uint8Array(0), utf8('wörld\n'), new Uint8Array(300).fill(0xab), new Uint8Array(65535).fill(1)];
    const data = encodeEntryBundle(entries);
    assert.equal(data.length, entries.reduce((sum, e) => sum + 2 + e.length, 0));
    same([...data.subarray(0, 7)], [0, 5, 0x68, 0x65, 0x6c, 0x6c, 0x6f]);
    same([...data.subarray(7, 9)], [0, 0]);
    const decoded = decodeEntryBundle(data, ref(entries.length));
    assert.equal(decoded.length, entries.length);
    decoded.forEach((e, i) => same(e, entries[i]));
    // A full bundle of 256 entries.
    const many = Array.from({ length: 256 }, (_, i) => utf8(`entry ${i}`));
    const full = decodeEntryBundle(encodeEntryBundle(many), { level: 'entries', index: 7n, width: 256 });
    same(full, many);
    same(encodeEntryBundle([]), new Uint8Array(0));
  });

  test('encode rejects entries over 65535 bytes', () => {
    assert.throws(() => encodeEntryBundle([new Uint8Array(65536)]), (e: unknown) => e instanceof FormatError && e.code === 'ENTRY_TOO_LARGE');
  });

  test('decode rejects truncated data, trailing bytes and the wrong count', () => {
    const entries = [utf8('abc'), utf8('de'), utf8('')];
    const data = encodeEntryBundle(entries);
    const isMalformed = (e: unknown) => e instanceof FormatError && e.code === 'MALFORMED_TILE';
    for (let cut = 1; cut <= data.length; cut++) {
      // Every strict prefix fails: either truncated or fewer entries than the width.
      assert.throws(() => decodeEntryBundle(data.subarray(0, data.length - cut), ref(3)), isMalformed, `cut ${cut}`);
    }
    assert.throws(() => decodeEntryBundle(new Uint8Array([...data, 0]), ref(3)), isMalformed);
    assert.throws(() => decodeEntryBundle(new Uint8Array([...data, 0, 5]), ref(3)), isMalformed);
    assert.throws(() => decodeEntryBundle(new Uint8Array([...data, 0, 0]), ref(3)), isMalformed); // 4 entries
    assert.throws(() => decodeEntryBundle(data, ref(2)), isMalformed);
    assert.throws(() => decodeEntryBundle(data, ref(4)), isMalformed);
    assert.throws(() => decodeEntryBundle(new Uint8Array([0, 10, 1, 2]), ref(1)), isMalformed);
    assert.throws(() => decodeEntryBundle(new Uint8Array([0xff, 0xff]), ref(1)), isMalformed);
    assert.throws(() => decodeEntryBundle(new Uint8Array(0), ref(1)), isMalformed);
    assert.throws(() => decodeEntryBundle(new Uint8Array([0]), ref(1)), isMalformed);
    same(decodeEntryBundle(new Uint8Array([0, 0]), ref(1)), [new Uint8Array(0)]);
  });

  test('decode errors are WitnessErrors even with a nonsensical tile', () => {
    assert.throws(() => decodeEntryBundle(new Uint8Array([1]), { level: 'entries', index: 0n, width: 0 }), WitnessError);
    assert.throws(() => decodeEntryBundle(new Uint8Array(0), { level: 'entries', index: -1n, width: 1 }), WitnessError);
  });
});
