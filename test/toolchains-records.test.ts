// Toolchain records and alarms: strict formats, the ledger's invariants, the ingest check, the index.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BuildRecord } from '../src/rebuild/record.js';
import { toolchainLedgerFromRecords } from '../src/toolchains/ledger.js';
import { buildDisagreement } from '../src/toolchains/ingest-hook.js';
import fc from 'fast-check';
import { ModuleVersionIndex, moduleVersionKey, moduleVersionKeyInto, moduleVersionKeyOfBytes } from '../src/toolchains/module-index.js';
import { parseToolchainRecord, toolchainAlarmToLogRecord, toolchainRecordToLogRecord, type ToolchainRecord } from '../src/toolchains/record.js';
import { h1, toolchainText } from './helpers/toolchains.js';

const ROOT = Buffer.alloc(32, 1).toString('base64');
function toolchain(goVersion: string, target: string, record: bigint, seed = 'z'): ToolchainRecord {
  const [zip, mod] = toolchainText(goVersion, target, seed).slice(0, -1).split('\n') as [string, string];
  return { moduleVersion: `v0.0.1-${goVersion}.${target.replace('/', '-')}`, goVersion, target, record, goSum: [zip, mod], treeSize: record + 10n, treeRoot: ROOT, reproducible: goVersion !== 'go1.9.2rc2', scanned: '2026-01-01T00:00:00Z' };
}

test('toolchain records round-trip and refuse inconsistent fields', () => {
  const record = toolchainRecordToLogRecord(toolchain('go1.21.0', 'linux/amd64', 5n));
  assert.deepEqual(parseToolchainRecord(record), toolchain('go1.21.0', 'linux/amd64', 5n));
  const odd = toolchainRecordToLogRecord(toolchain('go1.9.2rc2', 'linux/amd64', 6n));
  assert.equal(parseToolchainRecord(odd).reproducible, false);
  const bad = (mutate: (fields: Array<{ key: string; value: string }>) => void) => {
    const fields = record.fields.map((f) => ({ ...f }));
    mutate(fields);
    assert.throws(() => parseToolchainRecord({ ...record, fields }), /MALFORMED_TOOLCHAIN_RECORD|toolchain record/);
  };
  bad((f) => (f.find((x) => x.key === 'distpack')!.value = 'not-reproducible'));
  bad((f) => (f.find((x) => x.key === 'target')!.value = 'linux/arm64'));
  bad((f) => (f.find((x) => x.key === 'record')!.value = '15'));
  bad((f) => (f.find((x) => x.key === 'go-sum')!.value = f.find((x) => x.key === 'go-sum')!.value.replace('golang.org/toolchain', 'example.com/x')));
  bad((f) => f.push({ key: 'extra', value: 'x' }));
});

test('the ledger refuses a sumdb record twice and an alarm twice', () => {
  const a = toolchainRecordToLogRecord(toolchain('go1.21.0', 'linux/amd64', 5n));
  assert.throws(() => toolchainLedgerFromRecords([{ index: 0n, record: a }, { index: 1n, record: a }]), /already recorded/);
  const alarm = toolchainAlarmToLogRecord({
    kind: 'toolchain-without-source',
    fields: [
      { key: 'go-version', value: 'go1.23.99' },
      { key: 'record', value: '7' },
      { key: 'module-version', value: 'v0.0.1-go1.23.99.linux-amd64' },
      { key: 'repository', value: 'https://go.googlesource.com/go' },
      { key: 'tags-recorded', value: '2026-01-01T00:00:00Z' },
    ],
    time: '2026-01-01T00:00:00Z',
  });
  assert.throws(() => toolchainLedgerFromRecords([{ index: 0n, record: alarm }, { index: 1n, record: alarm }]), /already recorded/);
});

test('ingest: a build that disagrees with the toolchain record is an alarm; darwin zips are not compared', () => {
  const ledger = toolchainLedgerFromRecords([
    { index: 3n, record: toolchainRecordToLogRecord(toolchain('go1.21.0', 'linux/amd64', 5n)) },
    { index: 4n, record: toolchainRecordToLogRecord(toolchain('go1.21.0', 'darwin/arm64', 6n)) },
  ]);
  const build = (target: string, seed: string, modSeed = 'm') =>
    ({ version: 'go1.21.0', target, outcome: 'built', goSum: [toolchainText('go1.21.0', target, seed).split('\n')[0]!, toolchainText('go1.21.0', target, seed).split('\n')[1]!.replace(h1('m'), h1(modSeed))] }) as unknown as BuildRecord;
  assert.equal(buildDisagreement(ledger, 10n, build('linux/amd64', 'z'), '2026-01-01T00:00:00Z'), undefined);
  const alarm = buildDisagreement(ledger, 10n, build('linux/amd64', 'other'), '2026-01-01T00:00:00Z')!;
  assert.equal(alarm.kind, 'build-disagrees');
  assert.equal(alarm.fields.find((f) => f.key === 'toolchain-index')!.value, '3');
  assert.equal(buildDisagreement(ledger, 11n, build('darwin/arm64', 'signed'), '2026-01-01T00:00:00Z'), undefined);
  assert.equal(buildDisagreement(ledger, 11n, build('darwin/arm64', 'signed', 'x'), '2026-01-01T00:00:00Z')?.kind, 'build-disagrees');
  assert.equal(buildDisagreement(ledger, 12n, build('linux/arm64', 'z'), '2026-01-01T00:00:00Z'), undefined); // no record: nothing to say
});

test('the module-version index finds every earlier record with a key, across reloads', () => {
  const index = new ModuleVersionIndex(1000n);
  for (let i = 0; i < 50_000; i++) index.add(...moduleVersionKey(`example.com/m${i}`, 'v1.0.0'));
  index.add(...moduleVersionKey('example.com/m7', 'v1.0.0'));
  assert.deepEqual(index.find(...moduleVersionKey('example.com/m7', 'v1.0.0')), [1007n, 51_000n]);
  assert.deepEqual(index.find(...moduleVersionKey('example.com/none', 'v1.0.0')), []);
  const reloaded = ModuleVersionIndex.fromBytes(1000n, index.bytesFrom(0));
  assert.equal(reloaded.end, 51_001n);
  assert.deepEqual(reloaded.find(...moduleVersionKey('example.com/m49999', 'v1.0.0')), [50_999n]);
  // Colliding keys are all kept: a lookup returns each.
  const collide = new ModuleVersionIndex(0n);
  collide.add(1, 2);
  collide.add(1, 2);
  collide.add(1, 3);
  assert.deepEqual(collide.find(1, 2), [0n, 1n]);
});

test('findAndAdd and reserve: the same answers as find then add, across growth, reserve and reloads', () => {
  // Keys from a small range, so that equal low halves with different high halves, and equal keys, are common.
  let seed = 7;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 97;
  const reference = new ModuleVersionIndex(5n);
  const fused = new ModuleVersionIndex(5n, 16);
  for (let i = 0; i < 5_000; i++) {
    if (i === 100) fused.reserve(3_000);
    const [high, low] = [next(), next() % 7];
    const want = reference.find(high, low);
    reference.add(high, low);
    assert.deepEqual(fused.findAndAdd(high, low), want, `entry ${i}`);
  }
  assert.deepEqual(fused.bytesFrom(0), reference.bytesFrom(0));
  const reloaded = ModuleVersionIndex.fromBytes(5n, fused.bytesFrom(0), 10_000);
  for (let high = 0; high < 97; high++) for (let low = 0; low < 7; low++) assert.deepEqual(reloaded.find(high, low), reference.find(high, low));
});

test('findAndAddAll: per tile, the same answers and the same index as findAndAdd one key at a time', () => {
  let seed = 11;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % 89;
  const reference = new ModuleVersionIndex(3n, 16);
  const batched = new ModuleVersionIndex(3n, 16); // grows inside findAndAddAll: from 16 entries to 20,000
  for (let tile = 0; tile < 80; tile++) {
    const width = tile % 9 === 8 ? 1 + (tile % 5) : 256; // some partial tiles
    const keys = new Uint32Array(2 * (width + 3));
    for (let i = 0; i < keys.length; i++) keys[i] = i % 2 === 0 ? next() : next() % 5;
    // Records [3, 3 + width) of the keys, as the scan passes [lo, hi) of a tile.
    const want: Array<{ i: number; earlier: readonly bigint[] }> = [];
    for (let i = 3; i < 3 + width; i++) {
      const earlier = reference.findAndAdd(keys[2 * i]!, keys[2 * i + 1]!);
      if (earlier.length > 0) want.push({ i, earlier });
    }
    assert.deepEqual(batched.findAndAddAll(keys, 3, 3 + width) ?? [], want, `tile ${tile}`);
  }
  assert.equal(batched.size, reference.size);
  assert.deepEqual(batched.bytesFrom(0), reference.bytesFrom(0));
  for (let high = 0; high < 89; high++) for (let low = 0; low < 5; low++) assert.deepEqual(batched.find(high, low), reference.find(high, low));
  assert.equal(batched.findAndAddAll(new Uint32Array(4), 1, 1), undefined); // nothing to add
  assert.throws(() => batched.findAndAddAll(new Uint32Array(4), 1, 3), /internal/); // past the keys
});

test('reserve grows the keys geometrically: 100,000 reserves of one entry resize the keys a few times', () => {
  const index = new ModuleVersionIndex(0n, 16);
  // Growing to exactly what was asked copied every key on every call (quadratic): count the resizes.
  const internals = index as unknown as { resizeKeys(size: number): void };
  const resize = internals.resizeKeys.bind(index);
  let resizes = 0;
  internals.resizeKeys = (size: number) => {
    resizes++;
    resize(size);
  };
  for (let i = 0; i < 100_000; i++) {
    index.reserve(1);
    index.add(i, i);
  }
  assert.equal(index.size, 100_000);
  assert.deepEqual(index.find(99_999, 99_999), [99_999n]);
  assert.ok(resizes <= 14, `${resizes} resizes`); // 16 -> 2^17 by doubling: 13
});

test('moduleVersionKeyInto: the key and end of the one-pass scan equal the plain definitions', () => {
  // The definitions: where "<path> <version>" ends in two go.sum lines of one module version (or -1), and
  // the key of those bytes (or of the whole text).
  const GO_MOD_H1 = Buffer.from('/go.mod h1:');
  const reference = (text: Uint8Array): [number, number, number] => {
    let end = -1;
    const newline = text.indexOf(0x0a);
    const first = text.indexOf(0x20);
    const second = first < 0 ? -1 : text.indexOf(0x20, first + 1);
    const third = second < 0 ? -1 : text.indexOf(0x20, second + 1);
    const line2 = newline + 1;
    if (
      newline >= 0 && newline !== text.length - 1 && text.indexOf(0x0a, newline + 1) === text.length - 1 &&
      first > 0 && second > first + 1 && second < newline &&
      text[second + 1] === 0x68 && text[second + 2] === 0x31 && text[second + 3] === 0x3a &&
      !(third >= 0 && third < newline) &&
      line2 + second + GO_MOD_H1.length <= text.length &&
      Buffer.from(text.subarray(line2, line2 + second)).equals(Buffer.from(text.subarray(0, second))) &&
      Buffer.from(text.subarray(line2 + second, line2 + second + GO_MOD_H1.length)).equals(GO_MOD_H1)
    ) end = second;
    const [high, low] = moduleVersionKeyOfBytes(text, 0, end >= 0 ? end : text.length);
    return [end, high, low];
  };
  const good = toolchainText('go1.21.0', 'linux/amd64', 'z');
  const samples = [good, good.replace('/go.mod', '/go.mox'), good.replace(' h1:', ' h2:'), good.replace('\n', ' x\n'), `${good}x\n`, good.slice(0, -1), 'a b h1:c\na b/go.mod h1:c\n', 'a  h1:c\na /go.mod h1:c\n', ' a b h1:\n a b/go.mod h1:\n', 'a b h1:\n', 'a\n', 'ab\n\n', 'a b h1:x\na b/go.mod h1:', 'a b h1:\na b/go.mod h1:\n', 'a b\nh1:x\na b/go.mod h1:y\n'];
  const key = new Uint32Array(2);
  const check = (text: Uint8Array) => {
    const want = reference(text);
    const end = moduleVersionKeyInto(text, key);
    assert.deepEqual([end, key[0], key[1]], want, JSON.stringify(Buffer.from(text).toString('latin1')));
    // The same record as a slice of a tile, with other records' bytes around it.
    const around = Buffer.concat([Buffer.from('x y h1:\n'), text, Buffer.from('\nx y/go.mod h1:z\n')]);
    const inTile = moduleVersionKeyInto(around, key, 8, 8 + text.length);
    assert.deepEqual([inTile, key[0], key[1]], want, `in a tile: ${JSON.stringify(Buffer.from(text).toString('latin1'))}`);
  };
  for (const sample of samples) check(Buffer.from(sample));
  fc.assert(
    fc.property(
      fc.tuple(fc.constantFrom(...samples), fc.array(fc.tuple(fc.nat(200), fc.constantFrom(0x20, 0x0a, 0x61, 0x2f, 0x68, 0x31, 0x3a)), { maxLength: 3 }), fc.nat(200), fc.nat(10)),
      ([sample, inserts, cutAt, cut]) => {
        const bytes = [...Buffer.from(sample)];
        for (const [at, byte] of inserts) bytes.splice(at % (bytes.length + 1), 0, byte);
        bytes.splice(cutAt % (bytes.length + 1), cut % 3);
        check(Uint8Array.from(bytes));
      },
    ),
    { numRuns: 5000 },
  );
});
