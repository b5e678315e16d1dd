// `witness serve`: the c2sp.org/tlog-witness protocol over HTTP on 127.0.0.1 (every status code of the
// spec table, an independent check of the cosignature, the add-checkpoint race, qpd budgets, limits,
// the monitoring GET, graceful shutdown), the request parser, the log-list parser and the CLI.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { FormatError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { LogListError, parseLogList } from '../src/cosign/loglist.js';
import { MAX_PROOF_LINES, formatAddCheckpointRequest, parseAddCheckpointRequest, parseSizeResponse } from '../src/cosign/protocol.js';
import { type RequestLogEntry, type WitnessServer, startWitnessServer } from '../src/cosign/server.js';
import { WitnessStateStore, originHash } from '../src/cosign/state.js';
import { Witness, type WitnessedLog } from '../src/cosign/witness.js';
import { cosignatureVerifier, cosignatureVerifierKey } from '../src/tlog/cosignature.js';
import { cosignatureSigner } from '../src/tlog-node/signer.js';
import { EMPTY_TREE_HASH } from '../src/tlog/merkle.js';
import { formatVerifierKey, noteVerifier, openNote } from '../src/tlog/note.js';
import { ROOT, WITNESS_BIN, tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { TestLog, get, post } from './helpers/serve-client.js';

ed.hashes.sha512 = sha512;

const cosigner = testSignerKey('witness.test.example/w1', 31);
const COSIGNER_VKEY = cosignatureVerifierKey(cosigner.signerKey);

interface Harness {
  server: WitnessServer;
  url: string;
  witness: Witness;
  store: WitnessStateStore;
  logs: RequestLogEntry[];
}

const servers: WitnessServer[] = [];
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

async function harness(
  logs: readonly TestLog[],
  options: { qpd?: Map<string, number>; bodyLimit?: number; now?: () => number; headersTimeout?: number; shutdownGrace?: number } = {},
): Promise<Harness> {
  const store = await WitnessStateStore.open(path.join(tempDir('witness-serve-'), 'state'));
  const witnessed: WitnessedLog[] = logs.map((log) => ({ origin: log.origin, verifiers: [noteVerifier(log.vkey)] }));
  const witness = new Witness(store, cosignatureSigner(cosigner.signerKey), witnessed);
  const entries: RequestLogEntry[] = [];
  const server = await startWitnessServer({
    witness,
    listen: { host: '127.0.0.1', port: 0 },
    logger: (entry) => entries.push(entry),
    ...(options.qpd ? { qpd: options.qpd } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.headersTimeout ? { headersTimeout: options.headersTimeout } : {}),
    ...(options.shutdownGrace !== undefined ? { shutdownGrace: options.shutdownGrace } : {}),
  });
  servers.push(server);
  return { server, url: server.url, witness, store, logs: entries };
}

/**
 * An independent client check: the response line verifies with @noble/ed25519 under the raw key of the
 * published 0x04 vkey, over "cosignature/v1\ntime T\n" + checkpoint text. Nothing of ours is used.
 */
function verifyIndependently(vkey: string, responseBody: string, checkpointText: string): bigint {
  const [name, keyHash, keyBase64] = [vkey.slice(0, vkey.indexOf('+')), vkey.split('+')[1]!, vkey.split('+').slice(2).join('+')];
  const typedKey = Buffer.from(keyBase64, 'base64');
  assert.equal(typedKey.length, 33);
  assert.equal(typedKey[0], 0x04, 'the published key is a cosignature/v1 key');
  const publicKey = new Uint8Array(typedKey.subarray(1));
  const keyId = createHash('sha256').update(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a]), typedKey])).digest().subarray(0, 4);
  assert.equal(keyId.toString('hex'), keyHash);

  assert.match(responseBody, /^(— \S+ [A-Za-z0-9+/=]+\n)+$/u, 'the body is signature lines');
  const lines = responseBody.slice(0, -1).split('\n');
  const ours = lines.filter((line) => line.startsWith(`— ${name} `));
  assert.equal(ours.length, 1);
  const sig = Buffer.from(ours[0]!.slice(`— ${name} `.length), 'base64');
  assert.equal(sig.length, 76);
  assert.deepEqual(sig.subarray(0, 4), keyId);
  const timestamp = sig.readBigUInt64BE(4);
  const now = BigInt(Math.floor(Date.now() / 1000));
  assert.ok(timestamp <= now + 5n && timestamp >= now - 600n, `timestamp ${timestamp} is recent`);
  const message = Buffer.from(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`, 'utf8');
  assert.equal(ed.verify(new Uint8Array(sig.subarray(12)), new Uint8Array(message), publicKey, { zip215: false }), true);
  // And not over anything else.
  const other = Buffer.from(`cosignature/v1\ntime ${timestamp + 1n}\n${checkpointText}`, 'utf8');
  assert.equal(ed.verify(new Uint8Array(sig.subarray(12)), new Uint8Array(other), publicKey, { zip215: false }), false);
  return timestamp;
}

describe('add-checkpoint over HTTP: the status codes of the spec table', () => {
  test('200: first use, then growth with a proof; the cosignature verifies independently with the 0x04 key', async () => {
    const log = new TestLog('example.com/log-a', 41).grow(5);
    const h = await harness([log]);
    const first = await post(h.url, log.body(0n));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.contentType, 'text/plain; charset=utf-8');
    verifyIndependently(COSIGNER_VKEY, first.text, log.text());

    log.grow(11);
    const second = await post(h.url, log.body(5n));
    assert.equal(second.status, 200, second.text);
    verifyIndependently(COSIGNER_VKEY, second.text, log.text(16n));
    // The client side of the protocol: append the lines to the checkpoint and open it with the witness key.
    const opened = openNote(`${log.note()}${second.text}`, [cosignatureVerifier(COSIGNER_VKEY)]);
    assert.equal(opened.signatures.length, 1);

    // Same size and root: cosigned again (fresh timestamp), proof empty.
    const again = await post(h.url, log.body(16n));
    assert.equal(again.status, 200, again.text);
    assert.equal((await h.store.read(log.origin))?.checkpoint.size, 16n);
  });

  test('400: malformed bodies, bad base64, a 33-byte hash, too many proof lines, old > size', async () => {
    const log = new TestLog('example.com/log-b', 42).grow(8);
    const h = await harness([log]);
    const note = log.note();
    const hash = Buffer.alloc(32, 1).toString('base64');
    const cases: Array<[string, string | Uint8Array]> = [
      ['empty body', ''],
      ['no old line', `\n${note}`],
      ['old with a leading zero', `old 05\n\n${note}`],
      ['old negative', `old -1\n\n${note}`],
      ['old not a number', `old x\n\n${note}`],
      ['old with two spaces', `old  0\n\n${note}`],
      ['old beyond 2^63-1', `old 9223372036854775808\n\n${note}`],
      ['CRLF line ends', `old 0\r\n\r\n${note}`],
      ['no empty line (the checkpoint read as proof)', `old 0\n${note}`],
      ['nothing after the empty line', 'old 0\n\n'],
      ['bad base64', `old 3\n${hash.slice(0, -2)}!=\n\n${note}`],
      ['unpadded base64', `old 3\n${hash.replace(/=+$/, '')}\n\n${note}`],
      ['a 33-byte hash', `old 3\n${Buffer.alloc(33, 1).toString('base64')}\n\n${note}`],
      ['a 31-byte hash', `old 3\n${Buffer.alloc(31, 1).toString('base64')}\n\n${note}`],
      ['64 proof lines', `old 3\n${`${hash}\n`.repeat(MAX_PROOF_LINES + 1)}\n${note}`],
      ['invalid UTF-8', Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff, 0xfe]), Buffer.from(note)])],
      ['a note without signatures', `old 0\n\n${log.text()}`],
      ['a checkpoint that does not parse', `old 0\n\nexample.com/log-b\nnot a size\nAAAA\n\n— example.com/log-b AAAAAAAA\n`],
      ['old > checkpoint size', formatAddCheckpointRequest({ oldSize: 9n, proof: [], checkpoint: note })],
    ];
    for (const [what, body] of cases) {
      const result = await post(h.url, body);
      assert.equal(result.status, 400, `${what}: ${result.status} ${result.text}`);
      assert.match(result.contentType, /^text\/plain/);
      assert.ok(result.text.length > 0 && result.text.length < 300, `${what}: a short message`);
    }
    assert.equal(await h.store.read(log.origin), undefined, 'nothing was cosigned');
    // 63 proof lines is the most allowed: it parses (and then fails as a proof, 422 after a 409 check).
    assert.equal((await post(h.url, `old 0\n${`${hash}\n`.repeat(MAX_PROOF_LINES)}\n${note}`)).status, 422);
  });

  test('403: no signature from a trusted key, or a trusted key whose signature fails', async () => {
    const log = new TestLog('example.com/log-c', 43).grow(3);
    const impostor = new TestLog('example.com/log-c', 44).grow(3); // same origin and key name, another key
    const h = await harness([log]);
    const untrusted = await post(h.url, impostor.body(0n));
    assert.equal(untrusted.status, 403, untrusted.text);
    // The log's own key line over other text: a known (name, key ID) whose signature fails.
    const good = log.note();
    const forged = good.replace(log.text(), log.text(3n, Buffer.alloc(32, 9)));
    const badSignature = await post(h.url, formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: forged }));
    assert.equal(badSignature.status, 403, badSignature.text);
    // Unknown keys are ignored: the log's signature next to an impostor's still verifies.
    const both = `${good}${impostor.note().split('\n\n')[1]!}`;
    assert.equal((await post(h.url, formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: both }))).status, 200);
  });

  test('404: unknown origin', async () => {
    const log = new TestLog('example.com/log-d', 45).grow(3);
    const stranger = new TestLog('example.com/not-witnessed', 46).grow(3);
    const h = await harness([log]);
    const result = await post(h.url, stranger.body(0n));
    assert.equal(result.status, 404, result.text);
    assert.match(result.text, /unknown log/);
  });

  test('409: text/x.tlog.size with the stored size; the client retries with that size and succeeds', async () => {
    const log = new TestLog('example.com/log-e', 47).grow(7);
    const h = await harness([log]);
    assert.equal((await post(h.url, log.body(0n))).status, 200);
    log.grow(5);
    // A client that lost track (e.g. a new log replica) starts from 0.
    const conflict = await post(h.url, log.body(0n));
    assert.equal(conflict.status, 409);
    assert.equal(conflict.contentType, 'text/x.tlog.size');
    assert.equal(conflict.text, '7\n');
    const stored = parseSizeResponse(conflict.text);
    // A wrong non-zero old size too.
    const wrong = await post(h.url, log.body(3n));
    assert.equal(wrong.status, 409);
    assert.equal(wrong.text, '7\n');
    const retry = await post(h.url, log.body(stored));
    assert.equal(retry.status, 200, retry.text);
    verifyIndependently(COSIGNER_VKEY, retry.text, log.text());
    assert.equal((await h.store.read(log.origin))?.checkpoint.size, 12n);
    const logged = h.logs.find((entry) => entry.status === 409)!;
    assert.equal(logged.stored, '7');
    assert.equal(logged.old, '0');
    assert.equal(logged.size, '12');
  });

  test('422: a bad proof, same size with another root (split view), size 0 with a wrong root, old 0 with a proof', async () => {
    const log = new TestLog('example.com/log-f', 48).grow(6);
    const h = await harness([log]);
    // Size 0 must have the empty tree's root.
    const emptyWrong = log.note(0n, undefined, Buffer.alloc(32, 3));
    assert.equal((await post(h.url, formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: emptyWrong }))).status, 422);
    const emptyRight = log.note(0n, undefined, EMPTY_TREE_HASH);
    // old 0 with a non-empty proof.
    const withProof = await post(h.url, formatAddCheckpointRequest({ oldSize: 0n, proof: [Buffer.alloc(32, 1)], checkpoint: log.note() }));
    assert.equal(withProof.status, 422, withProof.text);
    assert.equal((await post(h.url, formatAddCheckpointRequest({ oldSize: 0n, proof: [], checkpoint: emptyRight }))).status, 200);
    assert.equal((await post(h.url, log.body(0n))).status, 200);

    log.grow(4);
    const proof = log.proof(6n);
    const flipped = proof.map((hash, i) => (i === 0 ? Uint8Array.from(hash, (b, j) => (j === 0 ? b ^ 1 : b)) : hash));
    const badProof = await post(h.url, formatAddCheckpointRequest({ oldSize: 6n, proof: flipped, checkpoint: log.note() }));
    assert.equal(badProof.status, 422, badProof.text);
    const shortProof = await post(h.url, formatAddCheckpointRequest({ oldSize: 6n, proof: proof.slice(1), checkpoint: log.note() }));
    assert.equal(shortProof.status, 422, shortProof.text);

    // A fork: another tree of size 6, signed by the log.
    const fork = new TestLog('example.com/log-f', 48).grow(6, 'forked');
    const splitView = await post(h.url, fork.body(6n, 6n));
    assert.equal(splitView.status, 422, splitView.text);
    assert.match(splitView.text, /different roots/);
    // Nothing of that moved the state.
    assert.equal((await h.store.read(log.origin))?.checkpoint.size, 6n);
    assert.equal((await post(h.url, log.body(6n))).status, 200);
  });

  test('405 for other methods, 404 for other paths; one JSON-able log line per request', async () => {
    const log = new TestLog('example.com/log-g', 49).grow(2);
    const h = await harness([log]);
    const wrongMethod = await get(h.url, '/add-checkpoint');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('allow'), 'POST');
    assert.equal((await get(h.url, '/')).status, 404);
    assert.equal((await post(h.url, 'x', '/add-checkpoint/')).status, 404);
    assert.equal((await post(h.url, log.body(0n), `/${originHash(log.origin)}/checkpoint`)).status, 405);
    assert.equal((await post(h.url, log.body(0n), '/add-checkpoint?x=1')).status, 200);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(h.logs.length, 5);
    for (const entry of h.logs) {
      assert.deepEqual(JSON.parse(JSON.stringify(entry)), entry);
      assert.ok(entry.time && entry.method && entry.path && entry.status > 0 && typeof entry.ms === 'number');
    }
    const ok = h.logs.at(-1)!;
    assert.deepEqual(
      { method: ok.method, path: ok.path, status: ok.status, origin: ok.origin, old: ok.old, size: ok.size },
      { method: 'POST', path: '/add-checkpoint', status: 200, origin: log.origin, old: '0', size: '2' },
    );
  });
});

describe('the add-checkpoint race (spec: a slow request for size N must not roll back N+K)', () => {
  test('a slow request with old=N arrives after N+K was committed: 409, the state stays at N+K', async () => {
    const log = new TestLog('example.com/race', 51).grow(10);
    const h = await harness([log]);
    assert.equal((await post(h.url, log.body(0n))).status, 200); // N = 10
    log.grow(1);
    const slowBody = log.body(10n, 11n); // N+1, sent slowly
    log.grow(9);
    const fastBody = log.body(10n, 20n); // N+K

    const url = new URL(`${h.url}/add-checkpoint`);
    let finishSlow = (): void => undefined;
    const slow = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(slowBody) } },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        },
      );
      request.on('error', reject);
      request.write(slowBody.slice(0, 30));
      // The rest only after the fast request has been answered.
      finishSlow = () => request.end(slowBody.slice(30));
    });
    const fast = await post(h.url, fastBody);
    assert.equal(fast.status, 200, fast.text);
    finishSlow();
    const late = await slow;
    assert.equal(late.status, 409, late.text);
    assert.equal(late.text, '20\n');
    assert.equal((await h.store.read(log.origin))?.checkpoint.size, 20n);
  });

  test('16 concurrent requests from the same old size: exactly one wins, the others get 409 with its size', async () => {
    const log = new TestLog('example.com/race-burst', 52).grow(4);
    const h = await harness([log]);
    assert.equal((await post(h.url, log.body(0n))).status, 200);
    log.grow(16);
    const bodies = Array.from({ length: 16 }, (_, i) => log.body(4n, BigInt(5 + i)));
    const results = await Promise.all(bodies.map((body) => post(h.url, body)));
    const winners = results.filter((r) => r.status === 200);
    assert.equal(winners.length, 1, results.map((r) => r.status).join(','));
    const stored = (await h.store.read(log.origin))!.checkpoint.size;
    for (const result of results.filter((r) => r.status !== 200)) {
      assert.equal(result.status, 409);
      assert.equal(result.text, `${stored}\n`);
    }
    // Concurrent growth requests of increasing sizes, each from what the client believes: never a rollback.
    let known = stored;
    for (let round = 0; round < 5; round++) {
      log.grow(3);
      const sizes = [log.size - 2n, log.size - 1n, log.size];
      const outcome = await Promise.all(sizes.map((size) => post(h.url, log.body(known, size))));
      const now = (await h.store.read(log.origin))!.checkpoint.size;
      assert.ok(now >= known);
      assert.equal(outcome.filter((r) => r.status === 200).length, 1);
      known = now;
    }
  });
});

describe('limits', () => {
  test('429 when a log exceeds its qpd budget (refilled over the day); requests not signed by the log do not count', async () => {
    const log = new TestLog('example.com/budget', 53).grow(3);
    const free = new TestLog('example.com/unbudgeted', 54).grow(3);
    const impostor = new TestLog('example.com/budget', 55).grow(3);
    let clock = 1_000_000;
    const h = await harness([log, free], { qpd: new Map([[log.origin, 3]]), now: () => clock });
    assert.equal((await post(h.url, log.body(0n))).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await post(h.url, impostor.body(0n))).status, 403);
    log.grow(3);
    assert.equal((await post(h.url, log.body(0n))).status, 409); // counts: a new checkpoint signed by the log
    assert.equal((await post(h.url, log.body(3n))).status, 200);
    log.grow(3);
    const limited = await post(h.url, log.body(6n));
    assert.equal(limited.status, 429, limited.text);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(h.logs.at(-1)?.code, 'QPD_EXCEEDED');
    // Other logs are not affected.
    for (let i = 0; i < 5; i++) assert.equal((await post(h.url, free.body(i === 0 ? 0n : 3n))).status, 200);
    // A third of a day later, one more request is allowed.
    clock += 86_400_000 / 3 + 1;
    assert.equal((await post(h.url, log.body(6n))).status, 200);
    log.grow(3);
    assert.equal((await post(h.url, log.body(9n))).status, 429);
  });

  test('413 over the body limit (declared or streamed); the server keeps serving', async () => {
    const log = new TestLog('example.com/limits', 56).grow(3);
    const h = await harness([log], { bodyLimit: 1024 });
    const big = `old 0\n\n${'x'.repeat(2000)}`;
    const declared = await post(h.url, big);
    assert.equal(declared.status, 413);
    // Chunked, with no Content-Length: the limit applies as the body streams in.
    const url = new URL(`${h.url}/add-checkpoint`);
    const streamed = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      for (let i = 0; i < 8; i++) request.write('y'.repeat(400));
      request.end();
    });
    assert.equal(streamed, 413);
    assert.equal((await post(h.url, log.body(0n))).status, 200);
  });

  test('a client that never finishes its headers is cut off (408) by the headers timeout', async () => {
    const log = new TestLog('example.com/slowloris', 57).grow(1);
    const h = await harness([log], { headersTimeout: 300 });
    const started = Date.now();
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(h.url).port), '127.0.0.1', () => socket.write('POST /add-checkpoint HTTP/1.1\r\nHost: x\r\n'));
      let data = '';
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - started < 3_000, `closed after ${Date.now() - started} ms`);
  });
});

describe('monitoring: GET /<hex sha256(origin)>/checkpoint', () => {
  test('404 before anything is cosigned; then the latest cosigned note, with the log signature and ours', async () => {
    const log = new TestLog('example.com/monitored log', 58, 'monitored.example').grow(9);
    const h = await harness([log]);
    const monitoringPath = `/${originHash(log.origin)}/checkpoint`;
    assert.equal((await get(h.url, monitoringPath)).status, 404);
    assert.equal((await post(h.url, log.body(0n))).status, 200);
    log.grow(3);
    assert.equal((await post(h.url, log.body(9n))).status, 200);
    const served = await get(h.url, monitoringPath);
    assert.equal(served.status, 200);
    assert.equal(served.contentType, 'text/plain; charset=utf-8');
    const opened = openNote(served.text, [noteVerifier(log.vkey), cosignatureVerifier(COSIGNER_VKEY)]);
    assert.equal(opened.text, log.text());
    assert.deepEqual(opened.signatures.map((s) => s.name), ['monitored.example', 'witness.test.example/w1']);
    verifyIndependently(COSIGNER_VKEY, `${served.text.split('\n\n')[1]!.split('\n').filter((l) => l.startsWith('— witness')).join('\n')}\n`, log.text());
    const head = await get(h.url, monitoringPath, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(served.text)));
    // Upper-case hex, unknown origins and other methods.
    assert.equal((await get(h.url, monitoringPath.toUpperCase().replace('/CHECKPOINT', '/checkpoint'))).status, 404);
    assert.equal((await get(h.url, `/${originHash('example.com/other')}/checkpoint`)).status, 404);
  });
});

describe('graceful shutdown', () => {
  test('close() stops accepting, lets an in-flight request finish with Connection: close, then resolves', async () => {
    const log = new TestLog('example.com/shutdown', 59).grow(5);
    const h = await harness([log], { shutdownGrace: 5_000 });
    const body = log.body(0n);
    const url = new URL(`${h.url}/add-checkpoint`);
    let finish = (): void => undefined;
    const inFlight = new Promise<{ status: number; connection: string | undefined; text: string }>((resolve, reject) => {
      const request = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, text }));
        },
      );
      request.on('error', reject);
      request.write(body.slice(0, 10));
      finish = () => request.end(body.slice(10));
    });
    // The request is in flight (headers and part of the body received) when close() is called.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = h.server.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(fetch(`${h.url}/add-checkpoint`, { method: 'POST', body }), 'new connections are refused');
    finish();
    const result = await inFlight;
    assert.equal(result.status, 200, result.text);
    assert.equal(result.connection, 'close');
    await closing;
    assert.equal((await h.store.read(log.origin))?.checkpoint.size, 5n);
  });

  test('after the grace period, connections still open are closed; close() still waits for the state write', async () => {
    const log = new TestLog('example.com/shutdown-grace', 60).grow(5);
    const h = await harness([log], { shutdownGrace: 100 });
    const url = new URL(`${h.url}/add-checkpoint`);
    const stuck = new Promise<string>((resolve) => {
      const request = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Length': '1000' } });
      request.on('error', (error) => resolve(String((error as NodeJS.ErrnoException).code)));
      request.on('response', () => resolve('response'));
      request.write('old 0\n');
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await h.server.close();
    assert.ok(Date.now() - started < 2_000);
    assert.equal(await stuck, 'ECONNRESET');
  });
});

describe('parsers', () => {
  test('the add-checkpoint request: format and parse round-trip; canonical numbers only', () => {
    const log = new TestLog('example.com/parse', 61).grow(20);
    const body = log.body(7n);
    const parsed = parseAddCheckpointRequest(Buffer.from(body));
    assert.equal(parsed.oldSize, 7n);
    assert.deepEqual(parsed.proof.map((p) => Buffer.from(p).toString('hex')), log.proof(7n).map((p) => Buffer.from(p).toString('hex')));
    assert.equal(parsed.checkpoint, log.note());
    assert.equal(formatAddCheckpointRequest(parsed), body);
    assert.equal(parseAddCheckpointRequest('old 0\n\nx').checkpoint, 'x');
    assert.equal(parseAddCheckpointRequest('old 9223372036854775807\n\nx').oldSize, (1n << 63n) - 1n);
    for (const bad of ['old 0\n', 'old 0', 'old +1\n\nx', 'old 1e3\n\nx', 'Old 0\n\nx', ' old 0\n\nx', 'old 0 \n\nx', 'old 0\n \nx']) {
      assert.throws(() => parseAddCheckpointRequest(bad), (e: unknown) => e instanceof FormatError && e.code === 'MALFORMED_REQUEST', JSON.stringify(bad));
    }
    assert.equal(parseSizeResponse('123\n'), 123n);
    assert.throws(() => parseSizeResponse('0123\n'));
    assert.throws(() => parseSizeResponse('123'));
  });

  test('the log list: comments, header, stanzas, origin none, several keys for one origin, unknown keywords', () => {
    const a = new TestLog('log-a.example', 62);
    const b1 = new TestLog('go.sum database tree', 63, 'sum.example');
    const b2 = new TestLog('go.sum database tree', 64, 'sum.example');
    const ecdsa = formatVerifierKey('ecdsa.example/log', 0x02, new Uint8Array(65).fill(4));
    const text = [
      '#',
      '# List: test',
      '#',
      'logs/v0',
      '',
      '# log a, origin = key name',
      `vkey ${a.vkey}`,
      'origin none',
      'qpd 86400',
      'bastion https://bastion.example/',
      'contact https://log-a.example/contact | ops (at) example',
      '',
      `vkey ${b1.vkey}\r`,
      'origin go.sum database tree',
      'qpd 24',
      'bastion none',
      'witness-count 3',
      `  vkey ${b2.vkey}  `,
      'origin go.sum database tree',
      'qpd 48',
      '',
      `vkey ${ecdsa}`,
      'qpd 10',
      `vkey ${new TestLog('no-qpd.example', 65).vkey}`,
      '',
    ].join('\n');
    const list = parseLogList(text);
    assert.deepEqual(list.logs.map((log) => [log.origin, log.verifiers.length]), [['log-a.example', 1], ['go.sum database tree', 2], ['no-qpd.example', 1]]);
    assert.deepEqual([...list.qpd], [['log-a.example', 86400], ['go.sum database tree', 48]]);
    assert.equal(list.stanzas.length, 5);
    assert.deepEqual(list.stanzas[0], { line: 7, vkey: a.vkey, origin: 'log-a.example', qpd: 86400, bastion: 'https://bastion.example/', contact: 'https://log-a.example/contact | ops (at) example' });
    assert.equal(list.stanzas[1]!.bastion, undefined);
    assert.deepEqual(list.skipped.map((s) => s.line), [22]);
    assert.match(list.skipped[0]!.reason, /type 0x02/);
    assert.deepEqual(list.unknownKeywords, [{ line: 17, keyword: 'witness-count' }]);
    // The verifiers verify the logs' checkpoints.
    const sumdb = list.logs[1]!;
    b2.grow(2);
    assert.equal(openNote(b2.note(), sumdb.verifiers).signatures.length, 1);
    // An empty list is valid (no logs).
    assert.deepEqual(parseLogList('# nothing yet\nlogs/v0\n').logs, []);
  });

  test('the log list: malformed input is refused with the line number', () => {
    const a = new TestLog('log-a.example', 62);
    const cases: Array<[string, number, RegExp]> = [
      ['', 0, /no "logs\/v0" header/],
      ['# only comments\n', 0, /header/],
      ['logs/v1\n', 1, /must start with "logs\/v0"/],
      [`vkey ${a.vkey}\n`, 1, /must start/],
      ['logs/v0\norigin x\n', 2, /before any "vkey"/],
      ['logs/v0\n\nvkey nonsense\n', 3, /malformed verifier key/],
      [`logs/v0\nvkey ${a.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')}\n`, 2, /does not match/],
      [`logs/v0\nvkey ${a.vkey} extra\n`, 2, /one word/],
      [`logs/v0\nvkey ${a.vkey}\nqpd 0\n`, 3, /positive integer/],
      [`logs/v0\nvkey ${a.vkey}\nqpd 1.5\n`, 3, /positive integer/],
      [`logs/v0\nvkey ${a.vkey}\nqpd\n`, 3, /needs a value/],
      [`logs/v0\nvkey ${a.vkey}\norigin a\norigin b\n`, 4, /second "origin"/],
      [`logs/v0\nvkey ${a.vkey}\nlogs/v0\n`, 3, /second "logs\/v0"/],
      [`logs/v0\nvkey ${a.vkey}\norigin a\tb\n`, 3, /control character/],
    ];
    for (const [text, line, message] of cases) {
      assert.throws(
        () => parseLogList(text),
        (e: unknown) => e instanceof LogListError && e.line === line && message.test(e.message) && exitCodeOf(e) === 1,
        `${JSON.stringify(text)} -> line ${line} ${message}`,
      );
    }
  });
});

describe('the CLI: witness serve', () => {
  test('a child process answers add-checkpoint (cosignature valid under the printed key), then exits 0 on SIGTERM', { timeout: 60_000 }, async () => {
    const log = new TestLog('example.com/cli-log', 66).grow(4);
    const dir = tempDir('witness-serve-cli-');
    const logsFile = path.join(dir, 'logs.txt');
    writeFileSync(logsFile, `logs/v0\nvkey ${log.vkey}\nqpd 100\n`);
    const keyFile = writeKeyFile(cosigner.skey);
    const child = spawn(process.execPath, [WITNESS_BIN, 'serve', '--listen', '127.0.0.1:0', '--logs', logsFile, '--cosigner-key', keyFile, '--state', path.join(dir, 'state')], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /listening {2}(http:\/\/\S+)/.exec(stdout);
        if (match) resolve(match[1]!);
      });
      void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
    });
    const printedKey = /cosigner (\S+)/.exec(stdout)![1]!;
    assert.equal(printedKey, COSIGNER_VKEY);
    const result = await post(url, log.body(0n));
    assert.equal(result.status, 200, result.text);
    verifyIndependently(printedKey, result.text, log.text());
    // A split view (the log's key signs another tree of the same size): 422, and the evidence is kept.
    const fork = new TestLog(log.origin, 66).grow(4, 'forked');
    assert.equal((await post(url, fork.body(4n, 4n))).status, 422);
    const evidence = readdirSync(path.join(dir, 'state', 'evidence'));
    assert.equal(evidence.length, 1);
    assert.equal(readFileSync(path.join(dir, 'state', 'evidence', evidence[0]!, 'presented.note'), 'utf8'), fork.note());
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, stderr);
    assert.match(stderr, /EVIDENCE of a split view/);
    const requestLine = stdout.split('\n').find((line) => line.startsWith('{'));
    assert.ok(requestLine, stdout);
    assert.deepEqual(
      (({ method, path: p, status, origin, old, size }) => ({ method, path: p, status, origin, old, size }))(JSON.parse(requestLine) as RequestLogEntry),
      { method: 'POST', path: '/add-checkpoint', status: 200, origin: log.origin, old: '0', size: '4' },
    );
  });

  test('usage errors exit 2: no --logs, a bad --listen, a malformed list (with its line), no key', async () => {
    const { runWitness } = await import('./helpers/fixtures.js');
    const dir = tempDir('witness-serve-usage-');
    const good = path.join(dir, 'good.txt');
    writeFileSync(good, `logs/v0\nvkey ${new TestLog('x.example', 67).vkey}\n`);
    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, 'logs/v0\nvkey oops\n');
    const keyFile = writeKeyFile(cosigner.skey);
    const env = { ...process.env, WITNESS_COSIGNER_KEY: '' };
    const noLogs = runWitness(['serve', '--cosigner-key', keyFile], { env });
    assert.equal(noLogs.code, 2, noLogs.stderr);
    assert.match(noLogs.stderr, /missing required --logs/);
    const badListen = runWitness(['serve', '--logs', good, '--listen', 'localhost', '--cosigner-key', keyFile], { env });
    assert.equal(badListen.code, 2);
    assert.match(badListen.stderr, /HOST:PORT/);
    const badList = runWitness(['serve', '--logs', bad, '--cosigner-key', keyFile], { env });
    assert.equal(badList.code, 2);
    assert.match(badList.stderr, /bad\.txt: log list line 2/);
    const noKey = runWitness(['serve', '--logs', good, '--state', path.join(dir, 's')], { env });
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /--cosigner-key/);
  });
});

describe('serving the witness log read-only', () => {
  test('--log serves the static tlog-tiles log under /log/, which compare reads; nothing else is reachable', async () => {
    const { WitnessLog } = await import('../src/log/log.js');
    const { recordRepoTags } = await import('../src/tags/update.js');
    const { readVerifiedTagLog } = await import('../src/tags/compare.js');
    const { makeRepo, commit } = await import('./helpers/tag-repo.js');
    const { git } = await import('./helpers/fixtures.js');
    const logKey = testSignerKey('example.com/served-log', 51);
    const dir = tempDir();
    const { log } = await WitnessLog.init(path.join(dir, 'log'), logKey.signerKey);
    const repo = makeRepo();
    commit(repo, 'x');
    git(repo, 'tag', 'v1');
    await recordRepoTags(log, repo, logKey.signerKey);
    const store = await WitnessStateStore.open(path.join(dir, 'state'));
    const witness = new Witness(store, cosignatureSigner(testSignerKey('w.example/w', 52).signerKey), []);
    const server = await startWitnessServer({ witness, listen: { host: '127.0.0.1', port: 0 }, logFolder: log.dir, logger: () => {} });
    after(() => server.close());
    const verified = await readVerifiedTagLog(`${server.url}/log/`, logKey.vkey);
    assert.equal(verified.state.present.size, 1);
    for (const bad of ['/log/../package.json', '/log/.git/config', '/log/%2e%2e/package.json', '/log/tile/0/..%2f..%2fcheckpoint', '/log/tile/9/000']) {
      const response = await fetch(`${server.url}${bad}`);
      assert.equal(response.status, 404, bad);
      await response.body?.cancel();
    }
    const checkpoint = await fetch(`${server.url}/log/checkpoint`);
    assert.equal(checkpoint.headers.get('cache-control'), 'no-cache');
    assert.equal(await checkpoint.text(), readFileSync(path.join(log.dir, 'checkpoint'), 'utf8'));
  });
});
