// The sumdb client (src/sumdb/client.ts) against a Go checksum database built by our tlog code and served
// on 127.0.0.1 (test/helpers/sumdb-server.ts): signed heads, consistency proofs from tiles (with the
// number of tiles fetched), forks as evidence, bad tiles as environment errors, a lagging /latest, retries,
// timeouts, a proxy path, lookups and data tiles. Offline; the real sum.golang.org heads in test/vectors are
// used as inputs only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError, FormatError, UsageError, VerificationError, WitnessError } from '../src/errors.js';
import {
  InconsistentTreeError,
  MemoryTileCache,
  SUMDB_ORIGIN,
  SUMDB_VERIFIER_KEY,
  SumdbClient,
  type SumdbClientOptions,
  escapeModulePath,
  parseSumdbTilePath,
  sumdbTilePath,
} from '../src/sumdb/client.js';
import { formatGoSumRecord } from '../src/sumdb/record.js';
import { openCheckpoint, type SignedCheckpoint } from '../src/tlog/checkpoint.js';
import { decodeBase64, encodeBase64 } from '../src/tlog/encoding.js';
import { leafHash, proveConsistency, verifyConsistency, verifyInclusion } from '../src/tlog/merkle.js';
import { noteVerifier } from '../src/tlog/note.js';
import {
  TILE_WIDTH,
  type TileRef,
  decodeHashTile,
  tileNodeReader,
  tilePath,
  tilesForConsistencyProof,
  tilesForInclusionProof,
  tilesForTreeHash,
  tileForHash,
} from '../src/tlog/tile.js';
import { SumdbTestLog, type SumdbTestServer, startSumdbServer } from './helpers/sumdb-server.js';
import { TESTDATA, same } from './helpers/vectors.js';

const SIZE = 70_000;
const H1 = `h1:${encodeBase64(new Uint8Array(32).fill(1))}`;
const H1B = `h1:${encodeBase64(new Uint8Array(32).fill(2))}`;
const record = (modulePath: string, version: string, hash = H1) =>
  formatGoSumRecord({ path: modulePath, version, hash, goModHash: hash });

// Where special records sit: one with upper-case letters (escaped "!x" in URLs) in the full level-0 tile
// 000, one in the partial level-0 tile 273.p/112 of the 70,000-record tree.
const UPPER = { id: 100, path: 'example.com/Upper/Mod', version: 'v1.0.0-RC1' };
const PARTIAL = { id: 69_990, path: 'example.com/partial', version: 'v1.0.0' };

function buildLog(size: number, signerKey?: string, textAt: (i: number) => string = defaultText): SumdbTestLog {
  const log = new SumdbTestLog(signerKey === undefined ? {} : { signerKey });
  for (let i = 0; i < size; i++) log.append(textAt(i));
  return log;
}

function defaultText(i: number): string {
  if (i === UPPER.id) return record(UPPER.path, UPPER.version);
  if (i === PARTIAL.id) return record(PARTIAL.path, PARTIAL.version);
  return record(`example.com/m${i}`, 'v1.0.0');
}

/** Runs `fn`, which must throw a WitnessError of `category` with `code`; returns it. */
async function rejects<T extends WitnessError>(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => T,
  code: string,
): Promise<T> {
  try {
    await fn();
  } catch (error) {
    assert.ok(error instanceof WitnessError, `not a WitnessError: ${String(error)}`);
    assert.ok(error instanceof type, `${error.name} ${error.code}: ${error.message}, want ${type.name}`);
    assert.equal(error.code, code, error.message);
    return error as T;
  }
  assert.fail(`expected ${type.name} ${code}`);
}

let log: SumdbTestLog;
let server: SumdbTestServer;
const heads = new Map<number, SignedCheckpoint>();

function client(options: Partial<SumdbClientOptions> = {}): SumdbClient {
  return new SumdbClient({ baseUrl: server.url, verifierKey: log.verifierKey, retryBaseMs: 5, ...options });
}

/** The signed head of the served log's first `size` records, opened (verified) by a client. */
function head(size: number, from: SumdbTestLog = log): SignedCheckpoint {
  if (from === log && heads.has(size)) return heads.get(size)!;
  const signed = client().openCheckpoint(from.signedTreeAt(size));
  if (from === log) heads.set(size, signed);
  return signed;
}

before(async () => {
  log = buildLog(SIZE);
  server = await startSumdbServer(log);
});

after(async () => {
  await server.close();
});

function resetServer(): void {
  server.log = log;
  server.tamper = {};
  server.faults = {};
}

// ---------------------------------------------------------------------------------------------------

describe('tree heads', () => {
  test('latest() verifies the signed head (key name differs from the origin)', async () => {
    resetServer();
    const signed = await client().latest();
    assert.equal(signed.checkpoint.origin, SUMDB_ORIGIN);
    assert.equal(signed.checkpoint.size, BigInt(SIZE));
    same(signed.checkpoint.rootHash, log.rootHash());
    assert.notEqual(log.keyName, SUMDB_ORIGIN);
    assert.equal(signed.note.signatures[0]!.name, log.keyName);
  });

  test('a /latest with any one byte changed is rejected', async () => {
    resetServer();
    const note = new TextEncoder().encode(log.signedTree());
    server.faults = { latest: new TextDecoder().decode(note.map((b, i) => (i === 25 ? b ^ 1 : b))) };
    await rejects(() => client({ retries: 0 }).latest(), VerificationError, 'INVALID_SIGNATURE');
    // Every byte, served by a stub fetch (no sockets): each change is refused with a typed error.
    for (let i = 0; i < note.length; i++) {
      const tampered = note.slice();
      tampered[i]! ^= 0x01;
      const c = client({ fetch: async () => new Response(tampered), retries: 0 });
      await assert.rejects(c.latest(), (error: unknown) => {
        assert.ok(error instanceof WitnessError && (error.category === 'format' || error.category === 'verification'), `byte ${i}: ${String(error)}`);
        return true;
      });
    }
  });

  test('a head signed by another key, or with another origin, is rejected', async () => {
    resetServer();
    const other = new SumdbTestLog();
    other.append(record('example.com/x', 'v1.0.0'));
    server.faults = { latest: other.signedTree() };
    await rejects(() => client().latest(), VerificationError, 'UNVERIFIED_NOTE');
    server.faults = {};
    await rejects(() => client({ origin: 'another origin' }).latest(), FormatError, 'WRONG_ORIGIN');
  });

  test('the 7 real sum.golang.org heads verify with SUMDB_VERIFIER_KEY', async () => {
    assert.equal(readFileSync(path.join(TESTDATA, 'sumdb.vkey'), 'utf8').trim(), SUMDB_VERIFIER_KEY);
    const dir = path.join(TESTDATA, 'sumdb-checkpoints');
    const files = readdirSync(dir).sort((a, b) => Number(a) - Number(b));
    assert.equal(files.length, 7);
    const real = new SumdbClient(); // defaults: sum.golang.org, its key and origin; never contacted here
    const opened: SignedCheckpoint[] = [];
    for (const file of files) {
      const message = readFileSync(path.join(dir, file), 'utf8');
      const signed = openCheckpoint(message, [noteVerifier(SUMDB_VERIFIER_KEY)], SUMDB_ORIGIN);
      assert.equal(signed.checkpoint.size, BigInt(file));
      const viaClient = real.openCheckpoint(message);
      assert.deepEqual(viaClient.checkpoint, signed.checkpoint);
      // And as /latest, through a stub fetch.
      const stub = new SumdbClient({ fetch: async () => new Response(message) });
      assert.deepEqual((await stub.latest()).checkpoint, signed.checkpoint);
      opened.push(viaClient);
    }
    // As inputs to the consistency check: same head -> empty proof; a smaller one -> OLDER_HEAD.
    const offline = new SumdbClient({ fetch: async () => assert.fail('no request expected') });
    for (const signed of opened) assert.deepEqual(await offline.proveConsistency(signed, signed), { proof: [], tilesFetched: 0, tiles: [] });
    await rejects(() => offline.proveConsistency(opened[6]!, opened[0]!), EnvironmentError, 'OLDER_HEAD');
    // One byte changed anywhere in a real head: refused.
    const message = new TextEncoder().encode(readFileSync(path.join(dir, files[0]!), 'utf8'));
    for (let i = 0; i < message.length; i++) {
      const tampered = message.slice();
      tampered[i]! ^= 0x01;
      assert.throws(() => real.openCheckpoint(tampered), WitnessError, `byte ${i}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('consistency proofs from tiles', () => {
  const SIZES = [1, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 1000, 4097, 65_535, 65_536, 65_537, 69_000, 69_999, 70_000];

  test('every pair of sizes verifies, fetching exactly the tiles tilesForConsistencyProof names', async () => {
    resetServer();
    let pairs = 0;
    for (const a of SIZES) {
      for (const b of SIZES) {
        if (a >= b) continue;
        const before = server.count('/tile/');
        const cache = new MemoryTileCache();
        const c = client({ tileCache: cache });
        const result = await c.proveConsistency(head(a), head(b));
        const want = tilesForConsistencyProof(BigInt(a), BigInt(b));
        assert.equal(result.tilesFetched, want.length, `${a} -> ${b}`);
        assert.equal(server.count('/tile/') - before, want.length, `${a} -> ${b}: requests`);
        assert.deepEqual(new Set(result.tiles), new Set(want.map(sumdbTilePath)), `${a} -> ${b}: tiles`);
        assert.deepEqual(new Set(cache.keys()), new Set(result.tiles), `${a} -> ${b}: cache`);
        verifyConsistency(BigInt(a), BigInt(b), result.proof, head(a).checkpoint.rootHash, head(b).checkpoint.rootHash);
        pairs++;
      }
    }
    assert.equal(pairs, (SIZES.length * (SIZES.length - 1)) / 2);
  });

  test('authenticating every tile never needs a tile beyond those of the proof (checked over many sizes)', () => {
    // The parent of every full tile a consistency or inclusion proof uses is itself used, so the minimum
    // the tile layout allows is also what full authentication costs.
    const sizes = [1n, 255n, 256n, 257n, 65_535n, 65_536n, 65_537n, 16_777_216n, 16_777_217n, 28_905_453n, 41_272_598n];
    let seed = 12345;
    const random = (max: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return BigInt(1 + (seed % max));
    };
    for (let i = 0; i < 60; i++) sizes.push(random(100_000), random(60_000_000));
    const closure = (size: bigint, refs: TileRef[]) => {
      const all = new Map(refs.map((ref) => [tilePath(ref), ref]));
      for (const ref of tilesForTreeHash(size)) all.set(tilePath(ref), ref);
      const queue = [...all.values()];
      for (let ref = queue.pop(); ref; ref = queue.pop()) {
        if (ref.width !== TILE_WIDTH) continue;
        const parent = tileForHash(size, (ref.level as number) + 1, ref.index);
        if (!all.has(tilePath(parent))) {
          all.set(tilePath(parent), parent);
          queue.push(parent);
        }
      }
      return all.size;
    };
    for (const a of sizes) {
      for (const b of sizes) {
        if (a >= b) continue;
        const refs = tilesForConsistencyProof(a, b);
        assert.equal(closure(b, refs), refs.length, `${a} -> ${b}`);
      }
      const index = random(Number(a)) - 1n;
      const refs = tilesForInclusionProof(index, a);
      assert.equal(closure(a, refs), refs.length, `leaf ${index} of ${a}`);
    }
  });

  test('growth by k entries: a cold round fetches the proof tiles, a warm round only what is not cached', async () => {
    resetServer();
    let warm = 0;
    let cold = 0;
    for (const [start, k] of [
      [60_000, 1],
      [60_000, 10],
      [65_000, 256],
      [64_000, 2_000],
      [300, 255],
    ] as const) {
      const cache = new MemoryTileCache();
      const c = client({ tileCache: cache });
      const first = await c.proveConsistency(head(start - 100), head(start));
      assert.equal(first.tilesFetched, tilesForConsistencyProof(BigInt(start - 100), BigInt(start)).length);
      const needed = tilesForConsistencyProof(BigInt(start), BigInt(start + k));
      const uncached = needed.filter((ref) => {
        const exact = cache.get(sumdbTilePath(ref));
        const full = cache.get(sumdbTilePath({ ...ref, width: TILE_WIDTH }));
        return exact === undefined && !(ref.width < TILE_WIDTH && full !== undefined && full.length === TILE_WIDTH * 32);
      });
      const before = server.count('/tile/');
      const second = await c.proveConsistency(head(start), head(start + k));
      assert.equal(second.tilesFetched, uncached.length, `${start} +${k}`);
      assert.equal(server.count('/tile/') - before, uncached.length);
      warm += second.tilesFetched;
      cold += needed.length;
      if (k <= 10) assert.ok(second.tilesFetched < needed.length, `${start} +${k}: warm round fetched ${second.tilesFetched} of ${needed.length}`);
      // The same round again is served entirely from the cache.
      const third = await c.proveConsistency(head(start), head(start + k));
      assert.equal(third.tilesFetched, 0);
      assert.deepEqual(third.proof, second.proof);
    }
    // (Some growths reuse nothing: e.g. 65,000 -> 65,256 needs only right-edge tiles that changed width.)
    assert.ok(warm < cold, `warm rounds fetched ${warm} tiles, cold ones would fetch ${cold}`);
  });

  test('tiles are cached only for heads whose signature the client checked', async () => {
    resetServer();
    const cache = new MemoryTileCache();
    const c = client({ tileCache: cache });
    // Bare checkpoints this client never verified: the proof is verified, nothing is kept.
    const result = await c.proveConsistency(head(1000).checkpoint, head(2000).checkpoint);
    verifyConsistency(1000n, 2000n, result.proof, head(1000).checkpoint.rootHash, head(2000).checkpoint.rootHash);
    assert.equal(cache.size, 0);
    c.openCheckpoint(head(2000).message);
    await c.proveConsistency(head(1000).checkpoint, head(2000).checkpoint);
    assert.deepEqual(new Set(cache.keys()), new Set(result.tiles));
    // A SignedCheckpoint whose note says something else is refused.
    await rejects(
      () => c.proveConsistency(head(1000), { ...head(2000), checkpoint: head(3000).checkpoint }),
      UsageError,
      'CHECKPOINT_MISMATCH',
    );
  });

  test('a head smaller than the known one is OLDER_HEAD (a lagging cache), not evidence', async () => {
    resetServer();
    const c = client();
    const known = await c.latest();
    server.faults = { latest: log.signedTreeAt(60_000) };
    const lagging = await c.latest();
    assert.equal(lagging.checkpoint.size, 60_000n);
    const error = await rejects(() => c.proveConsistency(known, lagging), EnvironmentError, 'OLDER_HEAD');
    assert.ok(!(error instanceof InconsistentTreeError));
  });

  test('from the empty tree: an empty proof, no tiles', async () => {
    resetServer();
    const empty = client().openCheckpoint(new SumdbTestLog({ signerKey: log.signerKey }).signedTree());
    assert.deepEqual(await client().proveConsistency(empty, head(1000)), { proof: [], tilesFetched: 0, tiles: [] });
  });
});

// ---------------------------------------------------------------------------------------------------

describe('forks and bad tiles', () => {
  // Log B: same key, the same first 500 records as the served log, different ones after.
  let fork: SumdbTestLog;
  before(() => {
    fork = buildLog(1200, log.signerKey, (i) => (i < 500 ? defaultText(i) : record(`example.com/fork${i}`, 'v2.0.0')));
  });

  /** Checks the evidence on its own: its tiles authenticate against next's root, and its proof fails. */
  async function checkEvidence(error: InconsistentTreeError, oldSigned: SignedCheckpoint, nextSigned: SignedCheckpoint) {
    const { evidence } = error;
    assert.equal(evidence.old.note, oldSigned.message);
    assert.equal(evidence.next.note, nextSigned.message);
    assert.equal(evidence.old.size, String(oldSigned.checkpoint.size));
    assert.ok(JSON.parse(JSON.stringify(evidence)), 'JSON-ready');
    if (evidence.tiles.length === 0) return;
    const tiles = new Map(evidence.tiles.map((t) => [t.path, decodeBase64(t.data)]));
    const offline = new SumdbClient({
      verifierKey: log.verifierKey,
      fetch: async () => assert.fail('the evidence must be self-contained'),
    });
    const authenticated = await offline.authenticateTiles(nextSigned.checkpoint, tiles);
    assert.equal(authenticated.size, tiles.size);
    const m = oldSigned.checkpoint.size;
    const n = nextSigned.checkpoint.size;
    const hashes = new Map([...tiles].map(([p, data]) => {
      const ref = parseSumdbTilePath(p);
      return [tilePath(ref), decodeHashTile(data, ref)];
    }));
    const proof = proveConsistency(m, n, tileNodeReader(n, (ref) => hashes.get(tilePath(ref))!));
    assert.deepEqual(proof.map(encodeBase64), evidence.proof);
    assert.throws(() => verifyConsistency(m, n, proof, oldSigned.checkpoint.rootHash, nextSigned.checkpoint.rootHash), VerificationError);
  }

  test('a fork (same key, another history) is INCONSISTENT_TREE with self-contained evidence', async () => {
    resetServer();
    const c = client();
    const old = await c.latest(); // size 70,000 of the real log
    server.log = fork;
    const next = await c.latest(); // size 1,200 of the fork: smaller, so only a lagging-cache case
    await rejects(() => c.proveConsistency(old, next), EnvironmentError, 'OLDER_HEAD');
    const old600 = head(600);
    const error = await rejects(() => c.proveConsistency(old600, next), InconsistentTreeError, 'INCONSISTENT_TREE');
    assert.equal(error.category, 'verification');
    assert.ok(error.evidence.tiles.length > 0);
    await checkEvidence(error, old600, next);
    // The shared prefix is consistent: size 400 of the real log is a prefix of the fork.
    const ok = await c.proveConsistency(head(400), next);
    verifyConsistency(400n, 1200n, ok.proof, head(400).checkpoint.rootHash, next.checkpoint.rootHash);
  });

  test('a fork is still evidence when the cache holds tiles of the other history', async () => {
    resetServer();
    const cache = new MemoryTileCache();
    const c = client({ tileCache: cache });
    await c.proveConsistency(head(300), head(600)); // warms 0/000, 0/001, … of the real log
    await c.proveConsistency(head(600), head(1100));
    const cachedBefore = new Map(cache.keys().map((k) => [k, cache.get(k)]));
    server.log = fork;
    const next = await c.latest();
    const error = await rejects(() => c.proveConsistency(head(600), next), InconsistentTreeError, 'INCONSISTENT_TREE');
    await checkEvidence(error, head(600), next);
    // Nothing of the fork was cached, nothing of ours evicted.
    assert.deepEqual(new Map(cache.keys().map((k) => [k, cache.get(k)])), cachedBefore);
  });

  test('same size, different root: INCONSISTENT_TREE without tiles', async () => {
    resetServer();
    const sameSize = buildLog(1200, log.signerKey, (i) => (i === 1199 ? record('example.com/other', 'v1.0.0') : defaultText(i)));
    const c = client();
    const fetchesBefore = server.count('/');
    const error = await rejects(
      () => c.proveConsistency(head(1200), c.openCheckpoint(sameSize.signedTree())),
      InconsistentTreeError,
      'INCONSISTENT_TREE',
    );
    assert.equal(server.count('/'), fetchesBefore);
    assert.deepEqual(error.evidence.proof, []);
    assert.deepEqual(error.evidence.tiles, []);
    await checkEvidence(error, head(1200), c.openCheckpoint(sameSize.signedTree()));
  });

  test('a tampered tile is BAD_TILES (not evidence) and nothing is cached', async () => {
    resetServer();
    // Tiles of 5000 -> 70000 include 0/019 (5000 = 19·256 + 136), 1/000.p/17 and 0/273.p/112.
    for (const [tamper, what] of [
      [{ level: 0, index: 19n, byteOffset: 5 }, 'a hash the proof uses'],
      [{ level: 0, index: 19n, byteOffset: 8191 }, 'the last hash of a full tile'],
      [{ level: 1, index: 0n, byteOffset: 100 }, 'a right-edge partial tile'],
      [{ level: 0, index: 273n, byteOffset: 0 }, 'the level-0 partial tile'],
    ] as const) {
      server.tamper = { hashTile: tamper };
      const cache = new MemoryTileCache();
      const c = client({ tileCache: cache });
      const error = await rejects(() => c.proveConsistency(head(5000), head(70_000)), EnvironmentError, 'BAD_TILES');
      assert.ok(!(error instanceof InconsistentTreeError), what);
      assert.equal(cache.size, 0, what);
    }
    // With a warm cache: the failing round adds nothing to it.
    server.tamper = {};
    const cache = new MemoryTileCache();
    const c = client({ tileCache: cache });
    await c.proveConsistency(head(4000), head(5000));
    const keys = cache.keys();
    assert.ok(!keys.includes('tile/8/0/019'));
    server.tamper = { hashTile: { level: 0, index: 19n, byteOffset: 40 } };
    await rejects(() => c.proveConsistency(head(5000), head(70_000)), EnvironmentError, 'BAD_TILES');
    assert.deepEqual(cache.keys(), keys);
    server.tamper = {};
    await c.proveConsistency(head(5000), head(70_000));
  });

  test('a poisoned cache is bypassed: the tiles are read again from the server', async () => {
    resetServer();
    const cache = new MemoryTileCache();
    const c = client({ tileCache: cache });
    const first = await c.proveConsistency(head(4000), head(5000));
    for (const victim of first.tiles) {
      const good = cache.get(victim)!;
      const bad = good.slice();
      bad[bad.length - 1]! ^= 1;
      cache.set(victim, bad);
      const before = server.count('/tile/');
      const result = await c.proveConsistency(head(4000), head(5000));
      assert.deepEqual(result.proof, first.proof);
      // Everything was read from the cache first, then again from the server.
      assert.equal(result.tilesFetched, first.tiles.length, victim);
      assert.equal(server.count('/tile/') - before, first.tiles.length);
      same(cache.get(victim), good, 'the good tile replaced the poisoned one');
    }
  });

  test('authenticateTiles checks every tile up to the signed root', async () => {
    resetServer();
    const c = client();
    const refs = tilesForInclusionProof(70n, 70_000n);
    const tiles = await c.readTiles(70_000n, refs);
    assert.equal((await c.authenticateTiles(head(70_000).checkpoint, tiles)).size, refs.length);
    // Only 0/000: its parent 1/000.p/17 and the right edge are read to check it.
    const one = new Map([['tile/8/0/000', tiles.get('tile/8/0/000')!]]);
    const checked = await c.authenticateTiles(head(70_000).checkpoint, one);
    // 0/000's entry is in the full 1/000, whose entry is in the right-edge 2/000.p/1.
    assert.deepEqual(new Set(checked.keys()), new Set(['tile/8/0/000', 'tile/8/1/000', ...tilesForTreeHash(70_000n).map(sumdbTilePath)]));
    const bad = tiles.get('tile/8/0/000')!.slice();
    bad[8000]! ^= 1;
    await rejects(() => c.authenticateTiles(head(70_000).checkpoint, new Map([['tile/8/0/000', bad]])), VerificationError, 'TILE_HASH_MISMATCH');
    await rejects(() => c.authenticateTiles(head(69_000).checkpoint, tiles), UsageError, 'TILE_NOT_IN_TREE');
  });
});

// ---------------------------------------------------------------------------------------------------

describe('HTTP behaviour', () => {
  test('429 with Retry-After is waited for, then succeeds', async () => {
    resetServer();
    server.faults = { fail: { count: 1, status: 429, retryAfter: '1', paths: /^\/latest$/ } };
    const before = server.count('/latest');
    const started = Date.now();
    const signed = await client({ retryBaseMs: 1 }).latest();
    assert.ok(Date.now() - started >= 950, `waited ${Date.now() - started} ms`);
    assert.equal(signed.checkpoint.size, BigInt(SIZE));
    assert.equal(server.count('/latest') - before, 2);
    // A Retry-After longer than accepted fails at once.
    server.faults = { fail: { count: 1, status: 429, retryAfter: '3600' } };
    await rejects(() => client().latest(), EnvironmentError, 'RATE_LIMITED');
  });

  test('500 and 503 are retried with backoff, then succeed; retries run out', async () => {
    resetServer();
    server.faults = { fail: { count: 2, status: 500 } };
    const requests: string[] = [];
    const c = client({ onRequest: (url) => requests.push(url) });
    const result = await c.proveConsistency(head(1000), head(2000));
    assert.ok(result.proof.length > 0);
    assert.equal(requests.length, tilesForConsistencyProof(1000n, 2000n).length + 2);
    assert.equal(c.stats.requests, requests.length);
    server.faults = { fail: { count: 10, status: 503 } };
    const before = server.count('/latest');
    const error = await rejects(() => client({ retries: 2 }).latest(), EnvironmentError, 'SUMDB_UNAVAILABLE');
    assert.match(error.message, /\/latest: HTTP 503/);
    assert.equal(server.count('/latest') - before, 3);
  });

  test('other 4xx are not retried', async () => {
    resetServer();
    server.faults = { fail: { count: 5, status: 403 } };
    const before = server.count('/latest');
    await rejects(() => client().latest(), EnvironmentError, 'HTTP_ERROR');
    assert.equal(server.count('/latest') - before, 1);
  });

  test('timeouts and refused connections are EnvironmentErrors naming the URL', async () => {
    resetServer();
    server.faults = { delayMs: 400 };
    const error = await rejects(() => client({ timeoutMs: 100, retries: 1 }).latest(), EnvironmentError, 'SUMDB_TIMEOUT');
    assert.ok(error.message.includes(`${server.url}/latest`), error.message);
    server.faults = {};
    const closed = await startSumdbServer(log);
    const url = closed.url;
    await closed.close();
    const refused = await rejects(
      () => new SumdbClient({ baseUrl: url, verifierKey: log.verifierKey, retries: 1, retryBaseMs: 1 }).latest(),
      EnvironmentError,
      'SUMDB_FETCH_FAILED',
    );
    assert.ok(refused.message.includes(`${url}/latest`), refused.message);
  });

  test('responses are bounded', async () => {
    resetServer();
    await rejects(() => client({ maxLatestBytes: 100 }).latest(), EnvironmentError, 'RESPONSE_TOO_LARGE');
    // A hash tile longer than 256 hashes, without a Content-Length: cut off while reading.
    const huge = new SumdbClient({
      verifierKey: log.verifierKey,
      fetch: async (input) =>
        String(input).endsWith('/latest')
          ? new Response(log.signedTreeAt(600))
          : new Response(new ReadableStream({ pull: (ctl) => ctl.enqueue(new Uint8Array(4096)) })),
    });
    await rejects(async () => huge.proveConsistency(head(300), await huge.latest()), EnvironmentError, 'RESPONSE_TOO_LARGE');
    // A tile of the wrong length is a bad server.
    const short = new SumdbClient({ verifierKey: log.verifierKey, fetch: async () => new Response(new Uint8Array(64)) });
    await rejects(() => short.proveConsistency(head(300), head(600)), EnvironmentError, 'BAD_TILES');
  });

  test('a module proxy path (<proxy>/sumdb/<name>/…) works', async () => {
    const proxy = await startSumdbServer(log, {}, { prefix: '/sumdb/sum.golang.org' });
    try {
      assert.ok(proxy.url.endsWith('/sumdb/sum.golang.org'));
      for (const baseUrl of [proxy.url, `${proxy.url}/`]) {
        const c = new SumdbClient({ baseUrl, verifierKey: log.verifierKey });
        const latest = await c.latest();
        const result = await c.proveConsistency(head(65_000), latest);
        verifyConsistency(65_000n, 70_000n, result.proof, head(65_000).checkpoint.rootHash, latest.checkpoint.rootHash);
        const found = await c.lookup(UPPER.path, UPPER.version);
        assert.equal(found.id, BigInt(UPPER.id));
      }
      assert.ok(proxy.requests.every((p) => p.startsWith('/sumdb/sum.golang.org/')), proxy.requests.join(' '));
    } finally {
      await proxy.close();
    }
  });

  test('a deleted partial tile is read from its full tile', async () => {
    const staticLog = await startSumdbServer(log, {}, { partialsOfFullTiles: false });
    try {
      const c = new SumdbClient({ baseUrl: staticLog.url, verifierKey: log.verifierKey });
      // Tree 69,000's partial tiles 0/269.p/136 and 1/001.p/13 … are full or wider in the served 70,000.
      const result = await c.proveConsistency(head(60_000), head(69_000));
      verifyConsistency(60_000n, 69_000n, result.proof, head(60_000).checkpoint.rootHash, head(69_000).checkpoint.rootHash);
      assert.ok(staticLog.requests.includes('/tile/8/0/269.p/136') && staticLog.requests.includes('/tile/8/0/269'));
      assert.equal(result.tilesFetched, tilesForConsistencyProof(60_000n, 69_000n).length);
      const texts = await c.readDataTile(head(69_000), 269n);
      assert.equal(texts.length, 136);
      assert.equal(texts[0], defaultText(269 * 256));
    } finally {
      await staticLog.close();
    }
  });

  test('bad options and base URLs are usage errors', () => {
    assert.throws(() => new SumdbClient({ baseUrl: 'ftp://example.com' }), UsageError);
    assert.throws(() => new SumdbClient({ baseUrl: 'not a url' }), UsageError);
    assert.throws(() => new SumdbClient({ retries: -1 }), UsageError);
    assert.throws(() => new SumdbClient({ timeoutMs: 0 }), UsageError);
  });
});

// ---------------------------------------------------------------------------------------------------

describe('lookup and data tiles', () => {
  test('module path escaping (Go module.EscapePath)', () => {
    assert.equal(escapeModulePath('github.com/Azure/azure-sdk-for-go'), 'github.com/!azure/azure-sdk-for-go');
    assert.equal(escapeModulePath('v1.0.0-RC1'), 'v1.0.0-!r!c1');
    assert.throws(() => escapeModulePath('example.com/a!b'), UsageError);
    assert.throws(() => escapeModulePath('example.com/é'), UsageError);
    assert.equal(sumdbTilePath({ level: 'entries', index: 97_380n, width: 256 }), 'tile/8/data/x097/380');
    assert.deepEqual(parseSumdbTilePath('tile/8/1/441.p/15'), { level: 1, index: 441n, width: 15 });
    assert.throws(() => parseSumdbTilePath('tile/8/entries/000'), WitnessError);
  });

  test('a record in a full tile and one in a partial tile verify', async () => {
    resetServer();
    for (const { id, path: modulePath, version } of [UPPER, PARTIAL]) {
      const found = await client().lookup(modulePath, version);
      assert.equal(found.id, BigInt(id));
      assert.equal(found.text, record(modulePath, version));
      assert.equal(found.checkpoint.checkpoint.size, BigInt(SIZE));
      assert.equal(found.tilesFetched, tilesForInclusionProof(BigInt(id), BigInt(SIZE)).length);
      verifyInclusion(BigInt(id), BigInt(SIZE), leafHash(new TextEncoder().encode(found.text)), found.proof, log.rootHash());
    }
    assert.ok(server.requests.includes('/lookup/example.com/!upper/!mod@v1.0.0-!r!c1'));
    // The /go.mod suffix is dropped, as the go command does; a second lookup reuses cached tiles.
    const c = client();
    await c.lookup(PARTIAL.path, PARTIAL.version);
    const again = await c.lookup(UPPER.path, `${UPPER.version}/go.mod`);
    assert.equal(again.id, BigInt(UPPER.id));
    assert.equal(again.tilesFetched, 2); // 0/000 and 1/000: the right edge is cached
  });

  test('a tampered lookup record fails; unknown and invalid modules are typed errors', async () => {
    resetServer();
    server.tamper = { record: { id: UPPER.id, text: record(UPPER.path, UPPER.version, H1B) } };
    const cache = new MemoryTileCache();
    await rejects(() => client({ tileCache: cache }).lookup(UPPER.path, UPPER.version), VerificationError, 'INCLUSION_PROOF_FAILED');
    assert.equal(cache.size, 0);
    // A record for another module version at that index: refused before any tile is read.
    server.tamper = { record: { id: UPPER.id, text: record('example.com/m5', 'v1.0.0') } };
    await rejects(() => client().lookup(UPPER.path, UPPER.version), VerificationError, 'WRONG_RECORD');
    server.tamper = {};
    await rejects(() => client().lookup('example.com/missing', 'v1.0.0'), EnvironmentError, 'NOT_FOUND');
    await rejects(() => client().lookup('example.com/../x', 'v1.0.0'), UsageError, 'INVALID_MODULE');
    await rejects(() => client().lookup('example.com/x', '1.0.0'), UsageError, 'INVALID_MODULE');
  });

  test('data tiles are checked against authenticated leaf hashes', async () => {
    resetServer();
    const c = client();
    const full = await c.readDataTile(head(SIZE), 0n);
    assert.equal(full.length, 256);
    assert.equal(full[UPPER.id], record(UPPER.path, UPPER.version));
    const partial = await c.readDataTile(head(SIZE), 273n);
    assert.equal(partial.length, 112);
    assert.equal(partial[PARTIAL.id - 273 * 256], record(PARTIAL.path, PARTIAL.version));
    server.tamper = { record: { id: 5, text: record('example.com/m5', 'v9.9.9') } };
    await rejects(() => c.readDataTile(head(SIZE), 0n), EnvironmentError, 'BAD_TILES');
  });
});
