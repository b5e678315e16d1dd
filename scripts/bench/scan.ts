// Benchmark: `sumdb scan` over a local fake checksum database of 5 million records (BENCH_SCAN_RECORDS),
// served from a generated folder of tiles by a static server in another process, against a baseline
// measured in the same run: only downloading the same data tiles (same concurrency) and computing every
// record's leaf hash, the way the scan computes it (tile-check.ts; once more with src/tlog's leafHash for
// comparison). (The scan also reads the few level-1+ hash tiles; it never needs the level-0 hash tile of a
// full data tile: tiles.ts.) Goal: the scan within 1.5x of that.
//
// The baseline alone varies by up to 2x between runs a minute apart on this kind of machine (the same
// process, the same tiles), so one pair says little. The bench runs BENCH_SCAN_ROUNDS rounds (default 3):
// baseline, scan, baseline, scan, …, baseline; each scan is compared with the mean of the two baselines
// around it, and the goal is judged on the median of those ratios.
// The scan runs as by default (defaultTileWorkers), then the other way (with one worker, or in this
// thread; BENCH_SCAN_WORKERS=0,2 runs those worker counts instead, =none no other); CPU seconds are of the
// whole process (all threads).
//
// The folder is generated once (os.tmpdir()/go-source-witness-bench-sumdb-<records>-v1, about 1 GB) and
// reused. Records are module versions of ~150 bytes; every 250,000 records a "release" of 25 toolchain
// records arrives in a burst, as real releases do (each tagged in the witness log: no alarm is expected).
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { SumdbClient } from '../../src/sumdb/client.js';
import { WitnessLog } from '../../src/log/log.js';
import { tagRecordToLogRecord } from '../../src/tags/record.js';
import { formatCheckpoint } from '../../src/tlog/checkpoint.js';
import { leafHash } from '../../src/tlog/merkle.js';
import { signNote, verifierKeyOf } from '../../src/tlog/note.js';
import { generateKeyPair, noteSigner, parseSignerKey } from '../../src/tlog-node/signer.js';
import { TILE_WIDTH, TileBuilder, encodeHashTile } from '../../src/tlog/tile.js';
import { mapConcurrent } from '../../src/toolchains/tiles.js';
import { scanSumdb } from '../../src/toolchains/scan.js';
import { sumdbTilePath } from '../../src/sumdb/paths.js';
import { leafDigest } from '../../src/toolchains/tile-check.js';
import { defaultTileWorkers } from '../../src/toolchains/tile-workers.js';

const RECORDS = Number(process.env.BENCH_SCAN_RECORDS ?? 5_000_000);
const RELEASE_EVERY = 250_000;
const TARGETS = ['linux/amd64', 'linux/arm64', 'linux/386', 'linux/arm', 'darwin/amd64', 'darwin/arm64', 'windows/amd64', 'windows/386', 'windows/arm64', 'freebsd/amd64', 'freebsd/386', 'freebsd/arm', 'freebsd/arm64', 'linux/ppc64le', 'linux/s390x', 'linux/riscv64', 'linux/mips', 'linux/mipsle', 'linux/mips64', 'linux/mips64le', 'linux/loong64', 'netbsd/amd64', 'openbsd/amd64', 'illumos/amd64', 'solaris/amd64'];

function b64(seed: number, salt: number): string {
  const bytes = Buffer.alloc(32);
  bytes.writeUInt32BE(seed >>> 0, 0);
  bytes.writeUInt32BE(salt, 4);
  bytes.writeUInt32BE(Math.imul(seed, 2654435761) >>> 0, 8);
  return bytes.toString('base64');
}

/** Record i's text, and the Go version if it is a toolchain record. */
function recordText(i: number): { text: string; goVersion?: string } {
  const inRelease = i % RELEASE_EVERY;
  if (i > 0 && inRelease < TARGETS.length * 2 && inRelease % 2 === 0) {
    const goVersion = `go1.21.${Math.floor(i / RELEASE_EVERY)}`;
    const target = TARGETS[inRelease / 2]!.replace('/', '-');
    const mv = `golang.org/toolchain v0.0.1-${goVersion}.${target}`;
    return { text: `${mv} h1:${b64(i, 1)}\n${mv}/go.mod h1:${b64(7, 2)}\n`, goVersion };
  }
  const mv = `github.com/bench-owner${i % 9973}/module-${i} v1.${i % 100}.${i % 7}`;
  return { text: `${mv} h1:${b64(i, 3)}\n${mv}/go.mod h1:${b64(i, 4)}\n` };
}

async function generate(dir: string): Promise<{ vkey: string; versions: string[] }> {
  const marker = path.join(dir, 'generated.json');
  if (existsSync(marker)) return JSON.parse(await readFile(marker, 'utf8')) as { vkey: string; versions: string[] };
  console.log(`  generating a fake database of ${RECORDS.toLocaleString('en-US')} records in ${dir} (once)…`);
  const started = Date.now();
  await rm(dir, { recursive: true, force: true });
  const builder = new TileBuilder(0n);
  const versions = new Set<string>();
  const write = async (relative: string, data: Uint8Array | string) => {
    const file = path.join(dir, ...relative.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
  };
  for (let start = 0; start < RECORDS; start += TILE_WIDTH) {
    const count = Math.min(TILE_WIDTH, RECORDS - start);
    const texts: string[] = [];
    const hashes: Uint8Array[] = [];
    for (let i = start; i < start + count; i++) {
      const { text, goVersion } = recordText(i);
      if (goVersion) versions.add(goVersion);
      texts.push(text);
      hashes.push(leafHash(Buffer.from(text)));
    }
    await write(sumdbTilePath({ level: 'entries', index: BigInt(start / TILE_WIDTH), width: count }), texts.join('\n'));
    for (const tile of builder.append(hashes)) await write(sumdbTilePath(tile.ref), encodeHashTile(tile.hashes));
  }
  for (const tile of builder.partialTiles()) await write(sumdbTilePath(tile.ref), encodeHashTile(tile.hashes));
  const { signerKey } = generateKeyPair('sumdb.bench.example');
  const key = parseSignerKey(signerKey);
  await write('latest', signNote(formatCheckpoint({ origin: 'go.sum database tree', size: BigInt(RECORDS), rootHash: builder.root(), extensions: [] }), [noteSigner(key)]));
  const result = { vkey: verifierKeyOf(key), versions: [...versions] };
  await writeFile(marker, JSON.stringify(result));
  console.log(`  generated in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

async function startServer(dir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'tile-server.ts'), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').once('data', (chunk: string) => resolve(chunk.trim()));
    child.once('exit', () => reject(new Error('the tile server exited')));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

/** The baseline: GET every data tile, leaf-hash every record (with `leaf`). */
async function downloadAndHash(url: string, tiles: number, concurrency: number, leaf: (text: Uint8Array) => unknown): Promise<number> {
  const started = performance.now();
  const get = async (relative: string) => new Uint8Array(await (await fetch(`${url}/${relative}`)).arrayBuffer());
  const indexes = Array.from({ length: tiles }, (_, i) => i);
  await mapConcurrent(indexes, concurrency, async (i) => {
    const width = Math.min(TILE_WIDTH, RECORDS - i * TILE_WIDTH);
    const ref = { level: 0, index: BigInt(i), width } as const;
    const data = await get(sumdbTilePath({ ...ref, level: 'entries' }));
    let start = 0;
    let n = 0;
    for (let at = data.indexOf(0x0a); at >= 0; at = data.indexOf(0x0a, at + 1)) {
      if (at + 1 < data.length && data[at + 1] !== 0x0a) continue;
      leaf(data.subarray(start, at + 1));
      n++;
      start = at + 2;
    }
    if (n !== width) throw new Error(`baseline: tile ${i} has ${n} records, want ${width}`);
  });
  return (performance.now() - started) / 1000;
}

interface Run {
  readonly name: string;
  readonly seconds: number;
  /** CPU seconds of this process, all threads (user + system). */
  readonly cpu: number;
  readonly load: string;
  /** CPU seconds of the tile server process meanwhile (it shares this machine's cores), or NaN off Linux. */
  readonly server: number;
}

/** utime + stime of a process in seconds, from /proc/<pid>/stat (proc(5): fields 14 and 15, in clock ticks of 1/100 s on Linux). */
async function processCpu(pid: number | undefined): Promise<number> {
  if (pid === undefined) return Number.NaN;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return Number.NaN;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields 3… (the name may hold spaces)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The tile server's process, whose CPU `measure` reads beside this process's. */
let serverPid: number | undefined;

/** Runs `work`, timing it in wall-clock and CPU seconds, the tile server's CPU and the load average before and after. */
async function measure(name: string, work: () => Promise<unknown>): Promise<Run> {
  const before = loadavg()[0]!.toFixed(1);
  const server = await processCpu(serverPid);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { name, seconds, cpu: (used.user + used.system) / 1e6, server: (await processCpu(serverPid)) - server, load: `${before} -> ${loadavg()[0]!.toFixed(1)}` };
}

export async function benchScan(): Promise<void> {
  const dir = path.join(tmpdir(), `go-source-witness-bench-sumdb-${RECORDS}-v1`);
  const { vkey, versions } = await generate(dir);
  const { url, child } = await startServer(dir);
  serverPid = child.pid;
  const work = path.join(tmpdir(), `go-source-witness-bench-scan-${process.pid}`);
  try {
    const tiles = Math.ceil(RECORDS / TILE_WIDTH);
    const concurrency = 8;
    const workers = defaultTileWorkers();
    console.log(`sumdb scan: ${RECORDS.toLocaleString('en-US')} records, ${tiles.toLocaleString('en-US')} data tiles, concurrency ${concurrency}, static tile server in another process, ${availableParallelism()} CPUs`);
    await downloadAndHash(url, Math.min(tiles, 500), concurrency, leafDigest); // warm the page cache and the connections

    let runs = 0;
    let report: Awaited<ReturnType<typeof scanSumdb>> | undefined;
    let requests = 0;
    const scan = async (scanWorkers: number) => {
      const at = path.join(work, String(runs++));
      const { signerKey } = generateKeyPair('bench.example/scan-log');
      const key = parseSignerKey(signerKey);
      const { log } = await WitnessLog.init(path.join(at, 'log'), key);
      const oid = 'ab'.repeat(20);
      await log.append(
        versions.map((version) => tagRecordToLogRecord({ event: 'new', ref: `refs/tags/${version}`, pointer: { object: oid, objectType: 'commit', target: oid, targetType: 'commit', tree: oid }, repository: 'https://go.googlesource.com/go', firstSeen: '2026-01-01T00:00:00Z' })),
        key,
      );
      requests = 0;
      const client = new SumdbClient({ baseUrl: url, verifierKey: vkey, concurrency, onRequest: () => requests++ });
      return {
        log,
        key,
        state: path.join(at, 'state'),
        run: async () => {
          report = await scanSumdb({ client, log, signer: key, stateDir: path.join(at, 'state'), concurrency, workers: scanWorkers, tagGraceDays: 100_000 });
          if (report.recordsScanned !== RECORDS) throw new Error(`scan read ${report.recordsScanned} records, want ${RECORDS}`);
          if (report.alarms.length !== 0) throw new Error(`scan raised ${report.alarms.length} alarms on a clean database`);
        },
      };
    };
    // The strict baseline hashes leaves as the scan does (latin1 digests: tile-check.ts); it runs before and
    // after the scan, which is compared with their mean (the machine may be shared).
    const rounds = Number(process.env.BENCH_SCAN_ROUNDS ?? 3);
    if (!Number.isSafeInteger(rounds) || rounds < 1 || rounds > 20) throw new Error('BENCH_SCAN_ROUNDS: 1-20');
    const label = (n: number) => (n === 0 ? 'sumdb scan, hashing in this thread' : `sumdb scan, ${n} hashing worker${n === 1 ? '' : 's'}`);
    const baseRun = (round: number) => measure(`download + leaf hash (base ${round})`, () => downloadAndHash(url, tiles, concurrency, leafDigest));
    const bases: Run[] = [await baseRun(0)];
    const scans: Run[] = [];
    let withDefault: Awaited<ReturnType<typeof scan>> | undefined;
    let scanReport: NonNullable<typeof report> | undefined;
    let scanRequests = 0;
    for (let round = 1; round <= rounds; round++) {
      withDefault = await scan(workers);
      scans.push(await measure(`${label(workers)} (default, ${round})`, withDefault.run));
      scanReport = report!;
      scanRequests = requests;
      bases.push(await baseRun(round));
    }
    const tlogBase = await measure('  … leaves with tlog leafHash', () => downloadAndHash(url, tiles, concurrency, leafHash));
    // The other way, for comparison: in this thread if the default has workers, else with one (or the
    // worker counts BENCH_SCAN_WORKERS lists, comma-separated; 'none' for no other run).
    if (process.env.BENCH_SCAN_OTHER !== undefined) throw new Error('BENCH_SCAN_OTHER is now BENCH_SCAN_WORKERS: worker counts to run besides the default (e.g. 0,2), or none');
    const others = (process.env.BENCH_SCAN_WORKERS ?? String(workers === 0 ? 1 : 0)).split(',').filter((n) => n !== 'none' && n !== '').map(Number);
    if (others.some((n) => !Number.isSafeInteger(n) || n < 0 || n > 8)) throw new Error('BENCH_SCAN_WORKERS: worker counts 0-8, comma-separated, or none');
    const otherRuns: Run[] = [];
    for (const other of others) otherRuns.push(await measure(label(other), (await scan(other)).run));
    const perMillion = (s: number) => (s / (RECORDS / 1e6)).toFixed(2);
    console.log('  run                                   seconds   tiles/s   s per million records   CPU s   server CPU s   load');
    const order = [bases[0]!, ...scans.flatMap((run, i) => [run, bases[i + 1]!]), tlogBase, ...otherRuns];
    for (const run of order) {
      console.log(`  ${run.name.padEnd(36)} ${run.seconds.toFixed(1).padStart(7)}   ${Math.round(tiles / run.seconds).toString().padStart(7)}   ${perMillion(run.seconds).padStart(21)}   ${run.cpu.toFixed(1).padStart(5)}   ${run.server.toFixed(1).padStart(12)}   ${run.load}`);
    }
    const median = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return sorted.length % 2 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    };
    // Each scan against the mean of the baselines just before and after it.
    const around = (i: number, key: 'seconds' | 'cpu') => (bases[i]![key] + bases[i + 1]![key]) / 2;
    const ratios = scans.map((run, i) => run.seconds / around(i, 'seconds'));
    const cpuRatios = scans.map((run, i) => run.cpu / around(i, 'cpu'));
    const ratio = median(ratios);
    const baseline = median(bases.map((run) => run.seconds));
    console.log(`  baselines ${bases.map((run) => run.seconds.toFixed(1)).join(', ')} s (spread ${((Math.max(...bases.map((r) => r.seconds)) / Math.min(...bases.map((r) => r.seconds)) - 1) * 100).toFixed(0)}%)`);
    console.log(`  ratio scan / baselines around it: ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')}; median ${ratio.toFixed(2)}x (goal <= 1.5x)${ratio > 1.5 ? '  NOT MET' : '  MET'}`);
    console.log(`  CPU, scan / baselines around it: ${cpuRatios.map((r) => `${r.toFixed(2)}x`).join(', ')}; median ${median(cpuRatios).toFixed(2)}x${otherRuns.map((run) => `; ${run.name}: ${(run.seconds / baseline).toFixed(2)}x the median baseline`).join('')}`);
    // The tile server runs on the same cores: with it, the machine's CPU seconds over its cores bound each
    // run's time from below. When the baseline already fills the cores, the scan's extra CPU shows 1:1.
    const cores = availableParallelism();
    const bound = (run: Run) => (run.cpu + run.server) / cores;
    console.log(`  machine CPU (this process + tile server) / ${cores} cores, a lower bound on seconds: baselines ${bases.map((run) => bound(run).toFixed(1)).join(', ')}; scans ${scans.map((run) => bound(run).toFixed(1)).join(', ')}`);
    console.log(`  scan: ${scanReport!.toolchains.length} toolchain records, ${scanRequests.toLocaleString('en-US')} HTTP requests (${scanReport!.tilesRead} data tiles)`);
    requests = 0;
    const again = await scanSumdb({ client: new SumdbClient({ baseUrl: url, verifierKey: vkey, onRequest: () => requests++ }), log: withDefault!.log, signer: withDefault!.key, stateDir: withDefault!.state, tagGraceDays: 100_000 });
    console.log(`  steady state, nothing new: ${requests} request(s), ${again.tilesRead} data tiles, ${again.seconds.toFixed(2)} s`);
  } finally {
    child.kill();
    await rm(work, { recursive: true, force: true });
  }
}
