// Property-based tests (fast-check) for src/tlog: generated proofs always verify and mutated ones never
// do; every parser either succeeds (and then round-trips) or throws a WitnessError — never anything else.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { WitnessError } from '../src/errors.js';
import { decodeBase64, encodeBase64, utf8 } from '../src/tlog/encoding.js';
import { type Hash, MemoryTree, leafHash, proveConsistency, proveInclusion, verifyConsistency, verifyInclusion } from '../src/tlog/merkle.js';
import { formatCheckpoint, openCheckpoint, parseCheckpoint } from '../src/tlog/checkpoint.js';
import { cosignatureTimestamp, cosignatureVerifier } from '../src/tlog/cosignature.js';
import {
  formatVerifierKey,
  noteVerifier,
  openNote,
  parseVerifierKey,
  splitNote,
} from '../src/tlog/note.js';
import { formatSignerKey, parseSignerKey } from '../src/tlog-node/signer.js';
import {
  type TileRef,
  decodeEntryBundle,
  decodeHashTile,
  encodeEntryBundle,
  encodeHashTile,
  parseTilePath,
  tilePath,
} from '../src/tlog/tile.js';
import { TESTDATA, same } from './helpers/vectors.js';


const SUMDB_VKEY = readFileSync(`${TESTDATA}/sumdb.vkey`, 'utf8').trim();
const SUMDB_NOTE = readFileSync(`${TESTDATA}/sumdb-checkpoints/28905453`, 'utf8');
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_NOTE =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n" +
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n' +
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const COSIGNED_NOTE =
  'go.sum database tree\n28905453\nf3f8U0MoQmXkWAgAEKDtXcaI3c2y6N9+55KNSRefF/w=\n\n' +
  '— example.com/witness 5I+5EAAAAABmtIfV1lZVMc9FzFHa+54ZZTnHxH4LAJe2rC6uDMhkHT73bj/w/HOxaT1u15F6i9tY+YnFUTyjuwFlGMZXDyenq6VwCA==\n';
const COSIGNER_VKEY = 'example.com/witness+e48fb910+BAOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4';
const VERIFIERS = [noteVerifier(SUMDB_VKEY), noteVerifier(PETER_VKEY), cosignatureVerifier(COSIGNER_VKEY)];

const MAX_LEAVES = 300;
const tree = new MemoryTree();
const leaves: Hash[] = [];
for (let i = 0; i < MAX_LEAVES; i++) {
  leaves.push(leafHash(utf8(`property leaf ${i}`)));
  tree.appendLeafHash(leaves[i]!);
}
const roots: Hash[] = Array.from({ length: MAX_LEAVES + 1 }, (_, n) => tree.root(BigInt(n)));

/** Runs fn; a WitnessError is an allowed outcome, anything else fails the property. Returns the result or undefined. */
function witnessOnly<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof WitnessError) return undefined;
    throw new Error(`threw a non-WitnessError: ${String(err)}`, { cause: err });
  }
}

/** fn must throw a WitnessError. */
function mustFail(fn: () => unknown, what: string): void {
  try {
    fn();
  } catch (err) {
    if (err instanceof WitnessError) return;
    throw new Error(`${what}: threw a non-WitnessError: ${String(err)}`, { cause: err });
  }
  throw new Error(`${what}: did not throw`);
}

// ---- Proof mutations ----

type ProofMutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'drop'; at: number }
  | { kind: 'add'; at: number; hash: Uint8Array }
  | { kind: 'swap'; at: number }
  | { kind: 'truncateHash'; at: number }
  | { kind: 'index'; to: number }
  | { kind: 'size'; to: number };

const proofMutation: fc.Arbitrary<ProofMutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), at: fc.nat(), hash: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncateHash' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('index' as const), to: fc.nat() }),
  fc.record({ kind: fc.constant('size' as const), to: fc.nat() }),
);

/** Applies a hash-list mutation; returns undefined when it does not apply (e.g. empty proof) or is a no-op. */
function mutateHashes(proof: readonly Hash[], m: ProofMutation): Hash[] | undefined {
  const out = proof.slice();
  switch (m.kind) {
    case 'flip': {
      if (out.length === 0) return undefined;
      const at = m.at % out.length;
      // Copy explicitly: hashes may be Buffers, whose slice() is a view (a bit flip would corrupt the tree).
      const h = Uint8Array.from(out[at]!);
      h[m.bit >> 3]! ^= 1 << (m.bit & 7);
      out[at] = h;
      return out;
    }
    case 'drop':
      if (out.length === 0) return undefined;
      out.splice(m.at % out.length, 1);
      return out;
    case 'add':
      out.splice(m.at % (out.length + 1), 0, m.hash);
      return out;
    case 'swap': {
      if (out.length < 2) return undefined;
      const at = m.at % (out.length - 1);
      if (Buffer.compare(out[at]!, out[at + 1]!) === 0) return undefined;
      [out[at], out[at + 1]] = [out[at + 1]!, out[at]!];
      return out;
    }
    case 'truncateHash': {
      if (out.length === 0) return undefined;
      const at = m.at % out.length;
      out[at] = out[at]!.subarray(0, 31);
      return out;
    }
    default:
      return undefined;
  }
}

describe('proofs (random trees of 1..300 leaves)', () => {
  test('inclusion proofs verify; every mutation fails with a WitnessError', () => {
    const arb = fc
      .integer({ min: 1, max: MAX_LEAVES })
      .chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), proofMutation));
    fc.assert(
      fc.property(arb, ([n, index, m]) => {
        const size = BigInt(n);
        const proof = proveInclusion(BigInt(index), size, tree.read);
        verifyInclusion(BigInt(index), size, leaves[index]!, proof, roots[n]!);
        if (m.kind === 'index') {
          const other = m.to % n;
          if (other === index) return;
          mustFail(() => verifyInclusion(BigInt(other), size, leaves[index]!, proof, roots[n]!), `index ${index}->${other} of ${n}`);
          // The right index with another leaf fails too.
          mustFail(() => verifyInclusion(BigInt(index), size, leaves[other]!, proof, roots[n]!), `leaf ${other} at ${index}`);
          return;
        }
        if (m.kind === 'size') {
          const other = 1 + (m.to % MAX_LEAVES);
          if (other === n) return;
          // Claimed size changes, with the matching root of that size (a size-only change can keep the
          // proof shape, e.g. index 5 of 7 vs 8 leaves, so the root has to change with it).
          mustFail(() => verifyInclusion(BigInt(index), BigInt(other), leaves[index]!, proof, roots[other]!), `size ${n}->${other}`);
          return;
        }
        const mutated = mutateHashes(proof, m);
        if (!mutated) return;
        mustFail(() => verifyInclusion(BigInt(index), size, leaves[index]!, mutated, roots[n]!), `${m.kind} on PATH(${index}, ${n})`);
      }),
      { numRuns: 1500 },
    );
  });

  test('consistency proofs verify; every mutation fails with a WitnessError', () => {
    const arb = fc
      .integer({ min: 1, max: MAX_LEAVES })
      .chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n), proofMutation));
    fc.assert(
      fc.property(arb, ([m, n, mutation]) => {
        const proof = proveConsistency(BigInt(m), BigInt(n), tree.read);
        verifyConsistency(BigInt(m), BigInt(n), proof, roots[m]!, roots[n]!);
        if (mutation.kind === 'index') {
          // Change the old size (with its own root).
          const other = 1 + (mutation.to % n);
          if (other === m) return;
          mustFail(() => verifyConsistency(BigInt(other), BigInt(n), proof, roots[other]!, roots[n]!), `old size ${m}->${other}`);
          // Same old size, wrong old root.
          mustFail(() => verifyConsistency(BigInt(m), BigInt(n), proof, roots[other]!, roots[n]!), `old root of ${other}`);
          return;
        }
        if (mutation.kind === 'size') {
          const other = m + (mutation.to % (MAX_LEAVES - m + 1));
          if (other === n) return;
          mustFail(() => verifyConsistency(BigInt(m), BigInt(other), proof, roots[m]!, roots[other]!), `new size ${n}->${other}`);
          return;
        }
        const mutated = mutateHashes(proof, mutation);
        if (!mutated) return;
        mustFail(() => verifyConsistency(BigInt(m), BigInt(n), mutated, roots[m]!, roots[n]!), `${mutation.kind} on PROOF(${m}, ${n})`);
      }),
      { numRuns: 1500 },
    );
  });

  test('size 0 and out-of-range arguments are WitnessErrors', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -5n, max: 1n << 64n }), fc.bigInt({ min: -5n, max: 1n << 64n }), (a, b) => {
        witnessOnly(() => verifyInclusion(a, b, leaves[0]!, [], roots[1]!));
        witnessOnly(() => verifyConsistency(a, b, [], roots[1]!, roots[1]!));
        if (a < 0n || a >= b) mustFail(() => verifyInclusion(a, b, leaves[0]!, [], roots[1]!), `inclusion ${a} ${b}`);
        if (a <= 0n || b < a) mustFail(() => verifyConsistency(a, b, [], roots[1]!, roots[1]!), `consistency ${a} ${b}`);
      }),
      { numRuns: 300 },
    );
  });
});

// ---- Parsers ----

const NOTE_CHARS = ['\n', '\n', ' ', '—', '+', '/', '=', 'A', 'a', 'z', '0', '9', '\u2014 ', '\n\n', '.', '\t', '\u00a0', '\ufeff', '\ud800', 'ü', '😀'];

/** Strings of every flavour: printable ASCII, any code point, graphemes, Latin-1 with controls, any UTF-16 unit, note-like. */
const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 100 }),
  fc.string({ unit: fc.constantFrom(...NOTE_CHARS), maxLength: 200 }),
  fc.base64String({ maxLength: 100 }),
);

type Edit = { op: 'set' | 'insert' | 'delete'; pos: number; byte: number };
const edits: fc.Arbitrary<Edit[]> = fc.array(
  fc.record({ op: fc.constantFrom('set' as const, 'insert' as const, 'delete' as const), pos: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  { minLength: 1, maxLength: 4 },
);

function applyEdits(base: Uint8Array, list: readonly Edit[]): Uint8Array {
  const out = [...base];
  for (const { op, pos, byte } of list) {
    if (op === 'set' && out.length > 0) out[pos % out.length] = byte;
    else if (op === 'insert') out.splice(pos % (out.length + 1), 0, byte);
    else if (op === 'delete' && out.length > 0) out.splice(pos % out.length, 1);
  }
  return new Uint8Array(out);
}

const lossyUtf8 = new TextDecoder('utf-8');

/** Byte-level mutations of a valid input, as bytes and as (lossily decoded) text. */
function mutationsOf(valid: string): fc.Arbitrary<{ bytes: Uint8Array; text: string }> {
  const base = utf8(valid);
  return edits.map((list) => {
    const bytes = applyEdits(base, list);
    return { bytes, text: lossyUtf8.decode(bytes) };
  });
}

const hasControl = (s: string) => /[\u0000-\u0009\u000b-\u001f]/.test(s);

function checkSplitNote(input: string | Uint8Array): void {
  const split = witnessOnly(() => splitNote(input));
  if (split && typeof input === 'string') {
    // Success means the message is exactly text, a blank line and well-formed signature lines.
    const rebuilt = `${split.text}\n${split.signatures.map((s) => `— ${s.name} ${s.base64}\n`).join('')}`;
    assert.equal(rebuilt, input);
    for (const s of split.signatures) assert.equal(encodeBase64(decodeBase64(s.base64)), s.base64);
  }
  witnessOnly(() => openNote(input, VERIFIERS));
  if (typeof input === 'string') witnessOnly(() => openCheckpoint(input, VERIFIERS));
}

function checkCheckpoint(text: string): void {
  const cp = witnessOnly(() => parseCheckpoint(text));
  if (cp && !hasControl(text)) assert.equal(formatCheckpoint(cp), text);
}

function checkVerifierKey(text: string): void {
  const key = witnessOnly(() => parseVerifierKey(text));
  if (key) assert.equal(formatVerifierKey(key.name, key.type, key.publicKey), text);
  witnessOnly(() => noteVerifier(text));
  witnessOnly(() => cosignatureVerifier(text));
}

function checkSignerKey(text: string): void {
  const key = witnessOnly(() => parseSignerKey(text));
  if (key) assert.equal(formatSignerKey(key.name, key.seed), text.trim());
}

function checkTilePath(text: string): void {
  const ref = witnessOnly(() => parseTilePath(text));
  if (ref) assert.equal(tilePath(ref), text);
}

function checkBase64(text: string): void {
  const bytes = witnessOnly(() => decodeBase64(text));
  if (bytes) assert.equal(encodeBase64(bytes), text);
}

function checkBundle(data: Uint8Array, tile: TileRef): void {
  const entries = witnessOnly(() => decodeEntryBundle(data, tile));
  if (entries) {
    assert.equal(entries.length, tile.width);
    same(encodeEntryBundle(entries), data);
  }
}

function checkHashTile(data: Uint8Array, tile: TileRef): void {
  const hashes = witnessOnly(() => decodeHashTile(data, tile));
  if (hashes) {
    assert.equal(hashes.length, tile.width);
    same(encodeHashTile(hashes), data);
  }
}

function checkCosignatureTimestamp(text: string): void {
  witnessOnly(() => cosignatureTimestamp({ name: 'x', keyId: 0, base64: text }));
}

const anyTile: fc.Arbitrary<TileRef> = fc.record({
  level: fc.oneof(fc.constant('entries' as const), fc.integer({ min: -2, max: 70 })),
  index: fc.bigInt({ min: -3n, max: 1n << 64n }),
  width: fc.oneof(fc.integer({ min: 1, max: 256 }), fc.integer({ min: -3, max: 1000 })),
});

const VALID_BUNDLE = encodeEntryBundle([utf8('a'), utf8(''), utf8('golang.org/toolchain v0.0.1 h1:xyz=\n'), new Uint8Array(300).fill(7)]);

describe('parsers throw only WitnessErrors', () => {
  const RUNS = 1000;

  test('arbitrary strings into every string parser', () => {
    fc.assert(
      fc.property(anyString, (s) => {
        checkSplitNote(s);
        checkCheckpoint(s);
        checkVerifierKey(s);
        checkSignerKey(s);
        checkTilePath(s);
        checkBase64(s);
        checkCosignatureTimestamp(s);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('arbitrary bytes into the byte parsers', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), anyTile, (bytes, tile) => {
        checkSplitNote(bytes);
        checkBundle(bytes, { ...tile, level: 'entries' });
        checkHashTile(bytes, tile.level === 'entries' ? { ...tile, level: 0 } : tile);
        checkSplitNote(lossyUtf8.decode(bytes));
        checkBase64(Buffer.from(bytes).toString('latin1'));
      }),
      { numRuns: RUNS },
    );
  });

  test('mutations of valid notes', () => {
    for (const valid of [SUMDB_NOTE, PETER_NOTE, COSIGNED_NOTE]) {
      // The unmutated input opens.
      assert.ok(openNote(valid, VERIFIERS).signatures.length >= 1);
      fc.assert(
        fc.property(mutationsOf(valid), ({ bytes, text }) => {
          checkSplitNote(bytes);
          checkSplitNote(text);
        }),
        { numRuns: RUNS },
      );
    }
  });

  test('mutations of valid checkpoints, keys, tile paths and base64', () => {
    const checkpointText = splitNote(SUMDB_NOTE).text;
    const cases: Array<[string, (s: string) => void]> = [
      [checkpointText, checkCheckpoint],
      [`${checkpointText}ext line\n`, checkCheckpoint],
      [SUMDB_VKEY, checkVerifierKey],
      [PETER_VKEY, checkVerifierKey],
      [COSIGNER_VKEY, checkVerifierKey],
      [PETER_SKEY, checkSignerKey],
      ['tile/0/x001/x234/067.p/8', checkTilePath],
      ['tile/entries/x097/380', checkTilePath],
      ['tile/1/441.p/15', checkTilePath],
      ['f3f8U0MoQmXkWAgAEKDtXcaI3c2y6N9+55KNSRefF/w=', checkBase64],
      ['5I+5EAAAAABmtIfV1lZVMc9FzFHa+54ZZTnHxH4LAJe2rC6uDMhkHT73bj/w/HOxaT1u15F6i9tY+YnFUTyjuwFlGMZXDyenq6VwCA==', checkCosignatureTimestamp],
    ];
    const parsers: Record<string, (s: string) => unknown> = {
      checkCheckpoint: parseCheckpoint,
      checkVerifierKey: parseVerifierKey,
      checkSignerKey: parseSignerKey,
      checkTilePath: parseTilePath,
      checkBase64: decodeBase64,
      checkCosignatureTimestamp: (t) => cosignatureTimestamp({ name: 'x', keyId: 0, base64: t }),
    };
    for (const [valid, check] of cases) {
      // The unmutated input parses (so the mutations start from something valid).
      parsers[check.name]!(valid);
      check(valid);
      fc.assert(
        fc.property(mutationsOf(valid), ({ text }) => check(text)),
        { numRuns: 150 },
      );
    }
  });

  test('mutations of valid entry bundles and hash tiles', () => {
    const bundleTile: TileRef = { level: 'entries', index: 5n, width: 4 };
    assert.equal(decodeEntryBundle(VALID_BUNDLE, bundleTile).length, 4);
    const hashTile: TileRef = { level: 0, index: 5n, width: 3 };
    const tileBytes = encodeHashTile(leaves.slice(0, 3));
    fc.assert(
      fc.property(edits, fc.integer({ min: 1, max: 6 }), (list, width) => {
        checkBundle(applyEdits(VALID_BUNDLE, list), { ...bundleTile, width });
        checkBundle(applyEdits(VALID_BUNDLE, list), bundleTile);
        checkHashTile(applyEdits(tileBytes, list), { ...hashTile, width });
      }),
      { numRuns: RUNS },
    );
  });

  test('entry bundle round trip for arbitrary entries', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 40 }), (entries) => {
        const tile: TileRef = { level: 'entries', index: 0n, width: entries.length };
        const decoded = decodeEntryBundle(encodeEntryBundle(entries), tile);
        same(
          decoded.map((e) => [...e]),
          entries.map((e) => [...e]),
        );
      }),
      { numRuns: 200 },
    );
  });
});
