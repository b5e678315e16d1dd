// Benchmark: `witness serve` add-checkpoint requests per second and p50/p99 latency on loopback, with
// durable state (temp file, fsync, rename, fsync of the folder, per request), driven by a load generator
// in a second process: 8 logs in parallel, each growing sequentially with correct consistency proofs, so
// every request is verified, cosigned and persisted. Next to it, measured in the same run by the same
// generator: a baseline of empty POST round trips to a trivial node:http server, and the same witness with
// its state on tmpfs (/dev/shm, where fsync costs nothing) to show what durable writes cost.
// Goal (issue 5): >= 1,000 requests/s and p99 < 50 ms on 2 cores.
//
// `node --import tsx scripts/bench/serve.ts --load <url> <witness|empty> <logs> <seconds>` is the
// generator (run by the benchmark; prints one JSON line).
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatAddCheckpointRequest } from '../../src/cosign/protocol.js';
import { startWitnessServer } from '../../src/cosign/server.js';
import { WitnessStateStore } from '../../src/cosign/state.js';
import { Witness } from '../../src/cosign/witness.js';
import { formatCheckpoint } from '../../src/tlog/checkpoint.js';
import { cosignatureSigner, generateKeyPair, noteSigner, parseSignerKey } from '../../src/tlog-node/signer.js';
import { MemoryTree, proveConsistency } from '../../src/tlog/merkle.js';
import { noteVerifier, signNote } from '../../src/tlog/note.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SELF = fileURLToPath(import.meta.url);
const LOGS = 8;
const SECONDS = Number(process.env.WITNESS_BENCH_SECONDS ?? 6);
const WARMUP_MS = 500;

function benchLog(i: number): { origin: string; skey: string; vkey: string } {
  const origin = `bench.example/log-${i}`;
  const { signerKey, verifierKey } = generateKeyPair(origin, new Uint8Array(32).fill(100 + i));
  return { origin, skey: signerKey, vkey: verifierKey };
}

interface LoadResult {
  mode: string;
  requests: number;
  statuses: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  cosignedSizes: string[];
  /** CPU time of the server process (main thread and libuv threads), ms per request: set by the benchmark. */
  serverCpuMs?: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** The load generator (second process). */
async function generateLoad(url: string, mode: 'witness' | 'empty', logCount: number, seconds: number): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: logCount });
  const target = new URL(`${url}/add-checkpoint`);
  const send = (body: string): Promise<{ status: number; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const cosignedSizes: string[] = [];
  const start = performance.now();
  const measureFrom = start + WARMUP_MS;
  const end = measureFrom + seconds * 1000;
  let counted = 0;
  await Promise.all(
    Array.from({ length: logCount }, async (_, i) => {
      const log = benchLog(i);
      const signer = noteSigner(parseSignerKey(log.skey));
      const tree = new MemoryTree();
      let known = 0n;
      let cosigned = 0n;
      while (performance.now() < end) {
        let body: string;
        if (mode === 'empty') {
          body = 'old 0\n\n';
        } else {
          tree.append(Buffer.from(`${log.origin} entry ${tree.size}\n`));
          const size = tree.size;
          const text = formatCheckpoint({ origin: log.origin, size, rootHash: tree.root(size), extensions: [] });
          const proof = known === 0n ? [] : proveConsistency(known, size, tree.read);
          body = formatAddCheckpointRequest({ oldSize: known, proof, checkpoint: signNote(text, [signer]) });
        }
        const t0 = performance.now();
        const { status, text } = await send(body);
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) {
          latencies.push(t1 - t0);
          statuses[status] = (statuses[status] ?? 0) + 1;
          counted++;
        }
        if (mode === 'witness') {
          if (status === 200) {
            known = tree.size;
            cosigned = tree.size;
          } else if (status === 409) {
            known = BigInt(text.trim());
          } else {
            throw new Error(`witness answered ${status}: ${text}`);
          }
        }
      }
      cosignedSizes[i] = String(cosigned);
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { mode, requests: counted, statuses, seconds, perSecond: counted / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cosignedSizes };
}

function runGenerator(url: string, mode: 'witness' | 'empty'): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--load', url, mode, String(LOGS), String(SECONDS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`load generator exited ${code}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadResult);
    });
  });
}

/** A witness over `stateDir` for the bench logs, loaded by the generator; checks the state afterwards. */
async function measureWitness(stateDir: string): Promise<LoadResult> {
  const logs = Array.from({ length: LOGS }, (_, i) => benchLog(i));
  const store = await WitnessStateStore.open(stateDir);
  const witness = new Witness(store, cosignatureSigner(generateKeyPair('bench.example/witness', new Uint8Array(32).fill(99)).signerKey), logs.map((log) => ({ origin: log.origin, verifiers: [noteVerifier(log.vkey)] })));
  const server = await startWitnessServer({ witness, listen: { host: '127.0.0.1', port: 0 } });
  try {
    const cpu = process.cpuUsage();
    const result = await runGenerator(server.url, 'witness');
    const used = process.cpuUsage(cpu);
    result.serverCpuMs = (used.user + used.system) / 1000 / result.requests;
    // Every cosignature the generator received is in the durable state.
    for (const [i, log] of logs.entries()) {
      const stored = (await store.read(log.origin))?.checkpoint.size ?? 0n;
      if (stored < BigInt(result.cosignedSizes[i] ?? '0')) throw new Error(`${log.origin}: state ${stored} behind a cosignature of ${result.cosignedSizes[i]}`);
    }
    return result;
  } finally {
    await server.close();
  }
}

async function measureBaseline(): Promise<LoadResult> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok\n'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const cpu = process.cpuUsage();
    const result = await runGenerator(`http://127.0.0.1:${port}`, 'empty');
    const used = process.cpuUsage(cpu);
    result.serverCpuMs = (used.user + used.system) / 1000 / result.requests;
    return result;
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function line(label: string, result: LoadResult, baseline?: LoadResult): string {
  const ratio = baseline ? `  = ${((100 * result.perSecond) / baseline.perSecond).toFixed(0)}% of the baseline rate` : '';
  const statuses = Object.entries(result.statuses).map(([status, count]) => `${count}x${status}`).join(' ');
  const cpu = result.serverCpuMs === undefined ? '' : `   server CPU ${result.serverCpuMs.toFixed(3)} ms/req`;
  return `  ${label.padEnd(60)} ${result.perSecond.toFixed(0).padStart(6)}/s   p50 ${result.p50.toFixed(2).padStart(6)} ms   p99 ${result.p99.toFixed(2).padStart(6)} ms${cpu}   (${statuses})${ratio}`;
}

export async function benchServe(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'witness-bench-serve-'));
  const shm = existsSync('/dev/shm') ? mkdtempSync('/dev/shm/witness-bench-serve-') : undefined;
  try {
    const baseline = await measureBaseline();
    const durable = await measureWitness(path.join(work, 'state'));
    const onTmpfs = shm ? await measureWitness(path.join(shm, 'state')) : undefined;
    console.log(`serve: POST /add-checkpoint on loopback, ${LOGS} logs in parallel (each growing, proof verified, cosigned, persisted), load generator in a second process, ${SECONDS} s each, ${cpus().length} CPUs`);
    console.log(line('baseline: empty POSTs to a trivial node:http server', baseline));
    console.log(line(`witness, durable state in ${tmpdir()} (fsync)`, durable, baseline));
    if (onTmpfs) {
      console.log(line('witness, state on tmpfs /dev/shm (fsync free; not durable)', onTmpfs, baseline));
      console.log(`  durable writes cost ${(100 - (100 * durable.perSecond) / onTmpfs.perSecond).toFixed(0)}% of the throughput here (p99 ${durable.p99.toFixed(1)} vs ${onTmpfs.p99.toFixed(1)} ms)`);
    }
    const met = durable.perSecond >= 1000 && durable.p99 < 50;
    console.log(`  goal: >= 1,000 requests/s and p99 < 50 ms with durable state: ${met ? 'MET' : 'NOT MET'}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (shm) rmSync(shm, { recursive: true, force: true });
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === '--load') {
  const [url, mode, logs, seconds] = process.argv.slice(3);
  const result = await generateLoad(url!, mode === 'empty' ? 'empty' : 'witness', Number(logs), Number(seconds));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
