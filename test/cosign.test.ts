// The witness core, state and pull rounds, with an in-memory head source (the sumdb client has its own
// tests against a sumdb test server).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { VerificationError } from '../src/errors.js';
import { InconsistentTreeError } from '../src/sumdb/client.js';
import { type HeadSource, pullAndCosign } from '../src/cosign/pull.js';
import { cosignedCheckpointPath, cosignedRecord, noteOfCosignedRecord } from '../src/cosign/records.js';
import { lastCosignedInLog, reconcileStateWithLog } from '../src/cosign/log-state.js';
import { runCosignRound } from '../src/cosign/round.js';
import { WitnessStateStore, originHash } from '../src/cosign/state.js';
import { Witness } from '../src/cosign/witness.js';
import { WitnessLog } from '../src/log/log.js';
import { verifyLogFolder } from '../src/log/verify.js';
import { type Checkpoint, formatCheckpoint, openCheckpoint } from '../src/tlog/checkpoint.js';
import { cosignatureVerifier, cosignatureVerifierKey } from '../src/tlog/cosignature.js';
import { cosignatureSigner, noteSigner } from '../src/tlog-node/signer.js';
import { MemoryTree, proveConsistency } from '../src/tlog/merkle.js';
import { noteVerifier, openNote, signNote } from '../src/tlog/note.js';
import { tempDir, testSignerKey } from './helpers/fixtures.js';

const ORIGIN = 'go.sum database tree';
const logKey = testSignerKey('sumdb.test.example', 21);
const cosignerKey = testSignerKey('witness.test.example/w', 22);
const otherLogKey = testSignerKey('sumdb.test.example', 23);

/** A log under test control: grows, can fork, can lag. */
class FakeSumdb implements HeadSource {
  readonly location = 'https://sumdb.test.example';
  tree = new MemoryTree();
  served?: bigint;
  key = logKey;
  grow(n: number, salt = 'a'): void {
    for (let i = 0; i < n; i++) this.tree.append(Buffer.from(`${salt} record ${this.tree.size}\n`));
  }
  note(size = this.served ?? this.tree.size): string {
    const text = formatCheckpoint({ origin: ORIGIN, size, rootHash: this.tree.root(size), extensions: [] });
    return signNote(text, [noteSigner(this.key.signerKey)]);
  }
  async latest() {
    return openCheckpoint(this.note(), [noteVerifier(logKey.vkey)], ORIGIN);
  }
  async proveConsistency(old: Checkpoint, next: Checkpoint) {
    const proof = proveConsistency(old.size, next.size, this.tree.read);
    try {
      const { verifyConsistency } = await import('../src/tlog/merkle.js');
      verifyConsistency(old.size, next.size, proof, old.rootHash, next.rootHash);
    } catch {
      const head = (checkpoint: Checkpoint) => ({ size: String(checkpoint.size), rootHash: Buffer.from(checkpoint.rootHash).toString('base64') });
      const tiles = [{ path: 'tile/8/0/000.p/1', data: 'AA==' }];
      throw new InconsistentTreeError('not consistent', { origin: ORIGIN, old: head(old), next: head(next), proof: proof.map((hash) => Buffer.from(hash).toString('base64')), tiles });
    }
    return { proof };
  }
}

async function newWitness(dir = tempDir()): Promise<Witness> {
  const store = await WitnessStateStore.open(path.join(dir, 'state'));
  return new Witness(store, cosignatureSigner(cosignerKey.signerKey, () => 1_700_000_000n), [{ origin: ORIGIN, verifiers: [noteVerifier(logKey.vkey)] }]);
}

describe('witness state and add-checkpoint', () => {
  test('first use, growth with a proof, same size re-cosign; the cosignature verifies with the 0x04 key', async () => {
    const witness = await newWitness();
    const sumdb = new FakeSumdb();
    sumdb.grow(10);
    const first = await witness.addCheckpoint(0n, [], sumdb.note());
    assert.equal(first.status, 200);
    assert.ok(first.status === 200 && first.firstUse);
    sumdb.grow(300);
    const proof = proveConsistency(10n, 310n, sumdb.tree.read);
    const second = await witness.addCheckpoint(10n, proof, sumdb.note());
    assert.equal(second.status, 200);
    const again = await witness.addCheckpoint(310n, [], sumdb.note());
    assert.equal(again.status, 200);
    // An independent reader: open the stored note with the log key and our published 0x04 key.
    const state = await witness.store.read(ORIGIN);
    const vkey = cosignatureVerifierKey(cosignerKey.signerKey);
    const opened = openNote(state!.note, [noteVerifier(logKey.vkey), cosignatureVerifier(vkey)]);
    assert.equal(opened.signatures.length, 2);
    assert.equal(state!.checkpoint.size, 310n);
    // A fresh store on the same folder (another process, or after a restart) reads the same state.
    const reopened = await WitnessStateStore.open(witness.store.dir);
    assert.equal((await reopened.read(ORIGIN))!.note, state!.note);
    assert.ok(existsSync(path.join(witness.store.dir, 'state.journal')));
  });

  test('status codes: 404 unknown origin, 403 untrusted, 409 wrong old size, 422 bad proof, split view, 400', async () => {
    const witness = await newWitness();
    const sumdb = new FakeSumdb();
    sumdb.grow(5);
    assert.equal((await witness.addCheckpoint(0n, [], sumdb.note())).status, 200);
    const unknown = signNote(formatCheckpoint({ origin: 'other', size: 1n, rootHash: sumdb.tree.root(1n), extensions: [] }), [noteSigner(logKey.signerKey)]);
    assert.equal((await witness.addCheckpoint(0n, [], unknown)).status, 404);
    const forged = new FakeSumdb();
    forged.key = otherLogKey;
    forged.grow(7);
    assert.equal((await witness.addCheckpoint(5n, [], forged.note())).status, 403);
    sumdb.grow(5);
    const conflict = await witness.addCheckpoint(3n, proveConsistency(3n, 10n, sumdb.tree.read), sumdb.note());
    assert.deepEqual(conflict.status === 409 && conflict.size, 5n);
    const bad = proveConsistency(5n, 10n, sumdb.tree.read);
    bad[0] = new Uint8Array(32);
    assert.equal((await witness.addCheckpoint(5n, bad, sumdb.note())).status, 422);
    const fork = new FakeSumdb();
    fork.grow(5, 'fork');
    const split = await witness.addCheckpoint(5n, [], fork.note());
    assert.equal(split.status, 422);
    assert.ok(split.status === 422 && split.code === 'SPLIT_VIEW' && split.evidence);
    assert.equal((await witness.addCheckpoint(6n, [], sumdb.note(5n))).status, 400);
    assert.equal((await witness.addCheckpoint(0n, [], 'not a note')).status, 400);
    assert.equal((await witness.store.read(ORIGIN))!.checkpoint.size, 5n, 'nothing but valid extensions moved the state');
  });

  test('concurrent updates never roll the state back', async () => {
    const witness = await newWitness();
    const sumdb = new FakeSumdb();
    sumdb.grow(1);
    await witness.addCheckpoint(0n, [], sumdb.note());
    const notes: Array<{ old: bigint; size: bigint; note: string }> = [];
    for (let size = 2n; size <= 30n; size++) {
      sumdb.grow(1);
      notes.push({ old: size - 1n, size, note: sumdb.note(size) });
    }
    // All at once: only those whose old size matches at their turn succeed; the state only grows.
    const results = await Promise.all(notes.map(({ old, size, note }) => witness.addCheckpoint(old, proveConsistency(old, size, sumdb.tree.read), note)));
    let last = 1n;
    results.forEach((result, i) => {
      if (result.status === 200) {
        assert.ok(notes[i]!.size > last);
        last = notes[i]!.size;
      } else assert.equal(result.status, 409);
    });
    assert.equal((await witness.store.read(ORIGIN))!.checkpoint.size, 30n);
  });
});

describe('pull rounds', () => {
  test('cosign a growing log, skip a lagging head, record it all in the witness log', async () => {
    const dir = tempDir();
    const witness = await newWitness(dir);
    const { log } = await WitnessLog.init(path.join(dir, 'log'), testSignerKey('example.com/witness-log', 24).signerKey);
    const witnessLogKey = testSignerKey('example.com/witness-log', 24);
    const sumdb = new FakeSumdb();
    sumdb.grow(100);
    const round = () => runCosignRound({ witness, sources: [sumdb], log, logKey: witnessLogKey.signerKey, now: () => new Date('2026-01-01T00:00:00Z') });
    let report = await round();
    assert.equal(report.outcomes[0]!.kind, 'cosigned');
    sumdb.grow(1000);
    report = await round();
    assert.equal(report.outcomes[0]!.kind, 'cosigned');
    sumdb.served = 50n;
    report = await round();
    assert.equal(report.outcomes[0]!.kind, 'lagging');
    assert.equal(report.appended, undefined);
    sumdb.served = undefined;
    report = await round(); // same size: cosigned again, no new record
    assert.equal(report.appended, undefined);
    const verified = await verifyLogFolder(log.dir, { verifierKey: witnessLogKey.vkey });
    assert.equal(verified.recordTypes.cosigned, 2);
    const view = readFileSync(path.join(log.dir, cosignedCheckpointPath(ORIGIN)), 'utf8');
    const opened = openNote(view, [noteVerifier(logKey.vkey), cosignatureVerifier(cosignatureVerifierKey(cosignerKey.signerKey))]);
    assert.match(opened.text, /^go\.sum database tree\n1100\n/);
  });

  test('a fork is evidence: kept in files and an evidence record, never cosigned', async () => {
    const dir = tempDir();
    const witness = await newWitness(dir);
    const witnessLogKey = testSignerKey('example.com/witness-log', 25);
    const { log } = await WitnessLog.init(path.join(dir, 'log'), witnessLogKey.signerKey);
    const sumdb = new FakeSumdb();
    sumdb.grow(20);
    await runCosignRound({ witness, sources: [sumdb], log, logKey: witnessLogKey.signerKey });
    const fork = new FakeSumdb();
    fork.grow(40, 'fork');
    const report = await runCosignRound({ witness, sources: [fork], log, logKey: witnessLogKey.signerKey });
    assert.equal(report.outcomes[0]!.kind, 'evidence');
    assert.equal(report.evidenceFolders.length, 1);
    assert.deepEqual(readdirSync(report.evidenceFolders[0]!).sort(), ['cosigned.note', 'presented.note', 'proof.txt', 'reason.txt', 'tiles']);
    assert.equal((await witness.store.read(ORIGIN))!.checkpoint.size, 20n);
    const verified = await verifyLogFolder(log.dir, { verifierKey: witnessLogKey.vkey });
    assert.equal(verified.recordTypes.evidence, 1);
    // Same size, other root: evidence too.
    const twin = new FakeSumdb();
    twin.grow(20, 'twin');
    const outcome = await pullAndCosign(witness, twin);
    assert.equal(outcome.kind, 'evidence');
  });

  test('a cosigned record describes exactly the stored note', async () => {
    const witness = await newWitness();
    const sumdb = new FakeSumdb();
    sumdb.grow(3);
    const result = await witness.addCheckpoint(0n, [], sumdb.note());
    assert.ok(result.status === 200);
    const record = cosignedRecord(result.state, { source: 'https://x.example', time: new Date(0) });
    assert.equal(noteOfCosignedRecord(record).note, result.state.note);
  });
});

describe('the witness log as the cosigner state (log-state.ts)', () => {
  const verifiers = new Map([[ORIGIN, [noteVerifier(logKey.vkey)]]]);
  const ours = cosignatureVerifier(cosignatureVerifierKey(cosignerKey.signerKey));
  const recordOf = async (witness: Witness, note: string, index: bigint) => {
    const result = await witness.addCheckpoint(0n, [], note);
    assert.ok(result.status === 200, `status ${result.status}`);
    return { index, record: cosignedRecord(result.state, { source: 'https://x.example', time: new Date(0) }) };
  };

  test('the largest checkpoint this cosigner signed counts; other cosigners do not', async () => {
    const sumdb = new FakeSumdb();
    sumdb.grow(5);
    const small = await recordOf(await newWitness(), sumdb.note(), 3n);
    sumdb.grow(7);
    const large = await recordOf(await newWitness(), sumdb.note(), 4n);
    const stranger = testSignerKey('witness.example.com/stranger', 77);
    const store = await WitnessStateStore.open(path.join(tempDir(), 'state'));
    const strangerWitness = new Witness(store, cosignatureSigner(stranger.signerKey), [{ origin: ORIGIN, verifiers: [noteVerifier(logKey.vkey)] }]);
    sumdb.grow(100);
    const theirs = await recordOf(strangerWitness, sumdb.note(), 5n);
    const last = lastCosignedInLog([large, theirs, small], verifiers, ours);
    assert.deepEqual([...last.keys()], [ORIGIN]);
    assert.equal(last.get(ORIGIN)!.index, 4n);
    assert.equal(last.get(ORIGIN)!.state.checkpoint.size, 12n);
  });

  test('a state with the log\'s size and another root is refused as a conflict, without writing', async () => {
    const sumdb = new FakeSumdb();
    sumdb.grow(9);
    const twin = new FakeSumdb();
    twin.grow(9, 'twin');
    const logged = lastCosignedInLog([await recordOf(await newWitness(), twin.note(), 2n)], verifiers, ours);
    const witness = await newWitness();
    assert.equal((await witness.addCheckpoint(0n, [], sumdb.note())).status, 200);
    await assert.rejects(reconcileStateWithLog(witness.store, logged, { restore: true }), (error: unknown) => error instanceof VerificationError && error.code === 'STATE_CONFLICTS_LOG');
    assert.deepEqual(Buffer.from((await witness.store.read(ORIGIN))!.checkpoint.rootHash), Buffer.from(sumdb.tree.root(9n)));
    // A state ahead of the log is left alone.
    sumdb.grow(3);
    const ahead = await newWitness();
    assert.equal((await ahead.addCheckpoint(0n, [], sumdb.note())).status, 200);
    assert.deepEqual(await reconcileStateWithLog(ahead.store, logged, { restore: true }), []);
    assert.equal((await ahead.store.read(ORIGIN))!.checkpoint.size, 12n);
  });
});

describe('state journal', () => {
  async function grownStore(dir: string, sizes: number, compactBytes?: number) {
    const store = await WitnessStateStore.open(dir, compactBytes === undefined ? {} : { compactBytes });
    const witness = new Witness(store, cosignatureSigner(cosignerKey.signerKey), [{ origin: ORIGIN, verifiers: [noteVerifier(logKey.vkey)] }]);
    const sumdb = new FakeSumdb();
    sumdb.grow(1);
    let last = 0n;
    for (let i = 0; i < sizes; i++) {
      const size = sumdb.tree.size;
      const result = await witness.addCheckpoint(last, last === 0n ? [] : proveConsistency(last, size, sumdb.tree.read), sumdb.note());
      assert.equal(result.status, 200);
      last = size;
      sumdb.grow(3);
    }
    return { store, last };
  }

  test('a torn tail (a crash mid-write) is dropped; the state is the last synced entry', async () => {
    const dir = path.join(tempDir(), 'state');
    const { last } = await grownStore(dir, 5);
    const journal = path.join(dir, 'state.journal');
    appendFileSync(journal, 'batch 1 300 ' + 'ab'.repeat(32) + '\nZ28uc3VtIGRhdGFiYXNlIHRyZWUK99');
    const reopened = await WitnessStateStore.open(dir);
    assert.equal((await reopened.read(ORIGIN))!.checkpoint.size, last);
    // The next write cuts the torn tail off and appends after the last good entry.
    await reopened.update(ORIGIN, (current) => ({ next: current!, result: undefined }));
    assert.doesNotMatch(readFileSync(journal, 'latin1'), /\n99$/);
    assert.equal((await (await WitnessStateStore.open(dir)).read(ORIGIN))!.checkpoint.size, last);
  });

  test('damage in the middle is refused, never cut (that would roll the state back)', async () => {
    const dir = path.join(tempDir(), 'state');
    await grownStore(dir, 4);
    const journal = path.join(dir, 'state.journal');
    const data = readFileSync(journal);
    const second = data.indexOf('\nbatch ') + 1;
    assert.ok(second > 0);
    data[second + 80] = data[second + 80]! ^ 1; // inside the second entry's note
    writeFileSync(journal, data);
    await assert.rejects(WitnessStateStore.open(dir), /damaged at byte \d+ and valid records follow/);
  });

  test('a state kept by the earlier one-file-per-origin layout is imported, never forgotten', async () => {
    const dir = path.join(tempDir(), 'state');
    const { last } = await grownStore(dir, 3);
    const note = (await (await WitnessStateStore.open(dir)).read(ORIGIN))!.note;
    const legacy = path.join(tempDir(), 'legacy');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(path.join(legacy, `${originHash(ORIGIN)}.checkpoint`), note);
    assert.equal((await (await WitnessStateStore.open(legacy)).read(ORIGIN))!.checkpoint.size, last);
    assert.ok(existsSync(path.join(legacy, 'state.journal')));
  });

  test('a journal damaged or removed under a running store: updates are refused at once, never hang or start over', async () => {
    const dir = path.join(tempDir(), 'state');
    const { store } = await grownStore(dir, 4);
    const journal = path.join(dir, 'state.journal');
    const pristine = readFileSync(journal);
    writeFileSync(journal, pristine.subarray(0, pristine.length - 10)); // cut behind the store's back
    await assert.rejects(store.update(ORIGIN, (current) => ({ next: current!, result: 1 })), /shrank from \d+ to \d+ bytes/);
    writeFileSync(journal, pristine);
    rmSync(journal);
    await assert.rejects(store.update(ORIGIN, (current) => ({ next: current!, result: 1 })), /disappeared while the witness was running/);
    assert.equal(existsSync(journal), false, 'the journal must not be recreated empty');
  });

  test('compaction keeps the latest state of every origin and others see it', async () => {
    const dir = path.join(tempDir(), 'state');
    const { store, last } = await grownStore(dir, 40, 4_000);
    const other = await WitnessStateStore.open(dir);
    assert.ok(statSync(path.join(dir, 'state.journal')).size < 4_000 + 1_000);
    assert.equal((await store.read(ORIGIN))!.checkpoint.size, last);
    assert.equal((await other.read(ORIGIN))!.checkpoint.size, last);
  });
});

test('reads during journal compaction always see every durable state', async () => {
  const { parseCosignedState } = await import('../src/cosign/state.js');
  const { generateKeyPair } = await import('../src/tlog-node/signer.js');
  const signer = noteSigner(generateKeyPair('log.example').signerKey);
  const root = Buffer.alloc(32, 7).toString('base64');
  const note = (origin: string, size: number) => signNote(`${origin}\n${size}\n${root}\n`, [signer]);
  const store = await WitnessStateStore.open(path.join(tempDir(), 'state'), { compactBytes: 2000 });
  await store.update('a.example/log', () => ({ next: parseCosignedState(note('a.example/log', 1)), result: 0 }));
  let misses = 0;
  let stop = false;
  const reader = (async () => {
    while (!stop) {
      if (!(await store.read('a.example/log'))) misses++;
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  for (let size = 2; size < 120; size++) {
    await store.update('b.example/log', () => ({ next: parseCosignedState(note('b.example/log', size)), result: 0 }));
  }
  stop = true;
  await reader;
  assert.equal(misses, 0);
});
