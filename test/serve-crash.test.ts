// Crash safety of `witness serve` (issue 5: "a child process killed at random moments of add-checkpoint,
// many times, after which the state is never behind a cosignature that left the process"). A client
// pushes growing logs to a server in a child process, which is killed with SIGKILL at a random moment;
// after each kill the state on disk must parse, verify, match the client's tree, and be at least as large
// as every checkpoint the client received a cosignature for. The restarted server serves that state.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseSizeResponse } from '../src/cosign/protocol.js';
import { WitnessStateStore, originHash } from '../src/cosign/state.js';
import { cosignatureVerifier, cosignatureVerifierKey } from '../src/tlog/cosignature.js';
import { encodeBase64 } from '../src/tlog/encoding.js';
import { noteVerifier, openNote } from '../src/tlog/note.js';
import { ROOT, tempDir, testSignerKey } from './helpers/fixtures.js';
import { TestLog, get, post } from './helpers/serve-client.js';

const ROUNDS = Number(process.env.WITNESS_SERVE_CRASH_ROUNDS ?? 20);
const CHILD = path.join(ROOT, 'test', 'helpers', 'serve-child.ts');

const cosigner = testSignerKey('witness.crash.example/w', 71);
const cosignerVerifier = cosignatureVerifier(cosignatureVerifierKey(cosigner.signerKey));

interface Child {
  process: ChildProcessWithoutNullStreams;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

async function startChild(stateDir: string, logsFile: string): Promise<Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, stateDir, logsFile], {
    cwd: ROOT,
    env: { ...process.env, WITNESS_COSIGNER_KEY: cosigner.skey },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^listening (\S+)$/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exited.then(({ code, signal }) => reject(new Error(`server child exited (${code ?? signal}) before listening: ${stderr}`)));
  });
  return { process: child, url, exited };
}

/** Pushes `log` (growing by 1-4 entries per request) until the server is gone; tracks what it was told. */
async function push(url: string, log: TestLog, state: { known: bigint; acked: bigint; responses: number }): Promise<void> {
  for (;;) {
    log.grow(1 + Math.floor(Math.random() * 4));
    let result;
    try {
      result = await post(url, log.body(state.known));
    } catch {
      return; // killed: this request's outcome is unknown to the client, so it promises nothing
    }
    state.responses++;
    if (result.status === 200) {
      state.known = log.size;
      state.acked = log.size > state.acked ? log.size : state.acked;
    } else if (result.status === 409) {
      state.known = parseSizeResponse(result.text); // a cosign whose answer was lost in an earlier kill
    } else {
      throw new Error(`unexpected ${result.status} from the witness: ${result.text}`);
    }
  }
}

test(`kill -9 during add-checkpoint, ${ROUNDS} times: the state is never behind a cosignature the client received`, { timeout: 120_000 }, async () => {
  const dir = tempDir('witness-serve-crash-');
  const stateDir = path.join(dir, 'state');
  const logs = [0, 1, 2].map((i) => new TestLog(`crash.example/log-${i}`, 80 + i));
  const logsFile = path.join(dir, 'logs.txt');
  writeFileSync(logsFile, `logs/v0\n${logs.map((log) => `vkey ${log.vkey}\n`).join('')}`);
  const states = logs.map(() => ({ known: 0n, acked: 0n, responses: 0 }));
  let previous: Map<string, string> | undefined;
  let killedMidway = 0;

  for (let round = 0; round < ROUNDS; round++) {
    const child = await startChild(stateDir, logsFile);
    // The restarted server serves exactly the state left on disk by the previous kill.
    if (previous) {
      for (const log of logs) {
        const served = await get(child.url, `/${originHash(log.origin)}/checkpoint`);
        const onDisk = previous.get(log.origin);
        if (onDisk === undefined) assert.equal(served.status, 404);
        else assert.equal(served.text, onDisk, `round ${round}: ${log.origin} served after restart`);
      }
    }
    const before = states.map((s) => s.responses);
    const pushing = Promise.all(logs.map((log, i) => push(child.url, log, states[i]!)));
    await new Promise((resolve) => setTimeout(resolve, 30 + Math.floor(Math.random() * 300)));
    child.process.kill('SIGKILL');
    await pushing;
    const { signal, stderr } = await child.exited;
    assert.equal(signal, 'SIGKILL', `round ${round}: the server died on its own: ${stderr}`);
    if (states.some((s, i) => s.responses > before[i]!)) killedMidway++;

    // After the kill, from the files alone: every state parses and verifies (log key + our cosignature),
    // matches the client's tree, and is at least every size the client got a cosignature for.
    const store = await WitnessStateStore.open(stateDir);
    previous = new Map();
    for (const [i, log] of logs.entries()) {
      const stored = await store.read(log.origin);
      const acked = states[i]!.acked;
      if (!stored) {
        assert.equal(acked, 0n, `round ${round}: ${log.origin} has no state but the client holds a cosignature of size ${acked}`);
        continue;
      }
      previous.set(log.origin, stored.note);
      assert.ok(stored.checkpoint.size >= acked, `round ${round}: ${log.origin} state size ${stored.checkpoint.size} is behind a received cosignature of size ${acked}`);
      assert.ok(stored.checkpoint.size <= log.size);
      assert.equal(encodeBase64(stored.checkpoint.rootHash), encodeBase64(log.tree.root(stored.checkpoint.size)), `round ${round}: stored root`);
      const opened = openNote(stored.note, [noteVerifier(log.vkey), cosignerVerifier]);
      assert.equal(opened.signatures.length, 2, `round ${round}: the stored note carries the log's signature and ours`);
    }
  }
  assert.ok(killedMidway >= ROUNDS / 2, `only ${killedMidway} of ${ROUNDS} rounds saw requests answered before the kill`);
  assert.ok(states.every((s) => s.acked > 0n), 'every log got cosignatures');

  // Finally a restarted server (taking over any lock left by a killed one) still cosigns every log.
  const child = await startChild(stateDir, logsFile);
  try {
    for (const [i, log] of logs.entries()) {
      log.grow(1);
      const state = states[i]!;
      let result = await post(child.url, log.body(state.known));
      if (result.status === 409) result = await post(child.url, log.body(parseSizeResponse(result.text)));
      assert.equal(result.status, 200, result.text);
    }
  } finally {
    child.process.kill('SIGTERM');
    await child.exited;
  }
});
