// Benchmark: hashing distpack outputs (src/rebuild/distpack.ts) against baselines run in the same run on
// the same files:
//   - SHA-256 of each archive (hashFile) vs `openssl dgst -sha256 FILE`. Goal: throughput >= 0.8x openssl's.
//   - `h1:` of the toolchain module zip (hashModuleZipDetailed, which hashModuleZip, hashDistpack (build)
//     and check call: our strict zip reader, entries inflated and hashed in worker threads) vs
//     `unzip -p ZIP | openssl dgst -sha256` (inflate every entry, one SHA-256 over all of it). Also the
//     darwin path (plain and stripped h1 from one read, macho.ts DARWIN_STRIP) on the same zip.
//     The goal, as written: "<= 0.8x its time". Printed as ours/baseline time, with the verdict
//     for that wording and for the looser throughput reading (>= 0.8x its throughput, time <= 1.25x).
// `sha256sum` is printed beside openssl for reference (it has no SHA-NI code path, so it is the weaker one).
//
// Inputs: WITNESS_DISTPACK_DIR=<a pkg/distpack folder> (e.g. one `witness build` moved to
// <out>/go1.21.0.linux-amd64.distpack) hashes its real *.tar.gz and *.zip files. Google's real zip works
// too: `GOMODCACHE=/tmp/m GOTOOLCHAIN=local GOFLAGS=-modcacherw go mod download -json
// golang.org/toolchain@v0.0.1-go1.21.5.linux-amd64`, then WITNESS_DISTPACK_DIR=/tmp/m/cache/download/golang.org/toolchain/@v
// (where a `.ziphash` lies beside a zip, the h1 is checked against it). Without it, a synthetic
// folder: a 100 MiB random "archive" and a module zip of ~100 MB content that compresses like a real
// toolchain zip (deflated/raw: executables ~0.40, sources ~0.28; see syntheticModuleZip).
//
// Every measurement: one untimed warm-up run of each side (so the files are in the page cache for both),
// then RUNS runs alternating baseline and ours; min and median of each are printed, ratios use medians.
// The machine's load average is printed before and after: other work on the CPUs makes both sides slower,
// but not equally (the h1 side uses every core, the pipeline two).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import yazl from 'yazl';
import { hashFile, hashModuleZipDetailed } from '../../src/rebuild/distpack.js';
import { DARWIN_STRIP } from '../../src/rebuild/macho.js';
import { median } from './stats.js';

const RUNS = 5;
const GOAL = 0.8;

function have(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** Runs a command to completion; returns its stdout (throws on failure). */
function run(command: string, args: readonly string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr.trim().slice(0, 300)}`);
  return result.stdout;
}

/** Last 64-hex-digit word of a digest tool's output (`SHA2-256(f)= ab..`, `ab..  f`). */
function digestOf(output: string): string {
  const match = /\b([0-9a-f]{64})\b/.exec(output);
  if (!match) throw new Error(`no SHA-256 in ${JSON.stringify(output.slice(0, 200))}`);
  return match[1]!;
}

interface Timing {
  /** Medians in ms. */
  readonly base: number;
  readonly ours: number;
  readonly baseMin: number;
  readonly oursMin: number;
}

/** Times baseline and ours: one untimed warm-up each, then RUNS alternating runs; medians and minimums in ms. */
async function pair(baseline: () => unknown, ours: () => Promise<unknown>): Promise<Timing> {
  baseline();
  await ours();
  const base: number[] = [];
  const mine: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    let start = performance.now();
    baseline();
    base.push(performance.now() - start);
    start = performance.now();
    await ours();
    mine.push(performance.now() - start);
  }
  return { base: median(base), ours: median(mine), baseMin: Math.min(...base), oursMin: Math.min(...mine) };
}

const load = () => `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${availableParallelism()} CPUs`;

async function timeOnly(work: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return median(times);
}

const MiB = 1024 * 1024;
const rate = (bytes: number, ms: number) => `${(bytes / MiB / (ms / 1000)).toFixed(0)} MiB/s`;
const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');

// ---- Synthetic inputs ------------------------------------------------------------------------------

/** Executable-like bytes: runs of random bytes, of a small alphabet, and near-copies from the last 32 KiB. */
function binaryLike(size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  const random = randomBytes(size);
  let pos = 0;
  while (pos < size) {
    const len = Math.min(size - pos, 16 + Math.floor(Math.random() * 240));
    const choice = Math.random();
    if (choice < 0.57 && pos > 32 * 1024) {
      const from = pos - len - Math.floor(Math.random() * (32 * 1024 - len));
      out.copyWithin(pos, from, from + len);
      for (let k = 0; k < len / 32; k++) out[pos + Math.floor(Math.random() * len)] = random[pos + k]!;
    } else if (choice < 0.82) {
      for (let i = 0; i < len; i++) out[pos + i] = random[pos + i]! & 0x07;
    } else {
      random.copy(out, pos, pos, pos + len);
    }
    pos += len;
  }
  return out;
}

const GO_WORDS = (
  'func return if else for range var const type struct interface map chan go defer select case switch default break ' +
  'continue package import nil true false err := = != == , ( ) { } [ ] * & . + - < > 0 1 2 string int int64 byte error bool len append make new'
).split(' ');
const NAME_PARTS = (
  'get set new read write buf len err name type value node list map key file path size data info pos end start count index ' +
  'byte string bytes conn addr time call func arg args result out in op code mode flag opts config ctx test check parse format print hash sum line'
).split(' ');

/**
 * ~`size` bytes of Go-source-like text: lines of keywords and camel-case identifiers (a few hundred in use
 * at a time), indented, some comments, and 30% of lines repeating one of the last 50 (`if err != nil {`).
 * Deflates to ~0.28 per 1-20 kB file, as the sources of a real toolchain zip do (.go 0.24, the rest 0.37).
 */
function sourceLike(size: number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
  const upper = (word: string) => word[0]!.toUpperCase() + word.slice(1);
  const identifier = () => {
    let name = pick(NAME_PARTS);
    for (let i = Math.floor(Math.random() * 3); i > 0; i--) name += upper(pick(NAME_PARTS));
    return Math.random() < 0.3 ? upper(name) : name;
  };
  const identifiers = Array.from({ length: 2000 }, identifier);
  const lines: string[] = [];
  let local: string[] = [];
  let length = 0;
  while (length < size) {
    if (lines.length % 200 === 0) local = Array.from({ length: 25 }, () => pick(identifiers));
    let line = '\t'.repeat(Math.floor(Math.random() * 4));
    const words = 3 + Math.floor(Math.random() * 8);
    if (Math.random() < 0.2) {
      line += '//';
      for (let i = 0; i < words; i++) line += ` ${pick(NAME_PARTS)}`;
    } else {
      for (let i = 0; i < words; i++) line += (i ? ' ' : '') + (Math.random() < 0.5 ? pick(GO_WORDS) : Math.random() < 0.8 ? pick(local) : pick(identifiers));
    }
    if (lines.length > 50 && Math.random() < 0.3) line = lines[lines.length - 1 - Math.floor(Math.random() * 50)]!;
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n');
}

/**
 * A golang.org/toolchain-like module zip, every entry deflated as cmd/distpack writes them: ~50 MB of
 * executables in 9 entries and ~50 MB of Go sources in 4,800 entries of 1-20 kB. That is the real
 * go1.21.0 linux-amd64 zip at half scale: 9,251 entries, 197 MB of content (98 MB of executables in 19
 * entries deflating to 0.40, 99 MB of sources in 9,216 entries deflating to 0.28), 0.36 overall.
 */
async function syntheticModuleZip(file: string): Promise<void> {
  const prefix = 'golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64/';
  const zip = new yazl.ZipFile();
  const binaries: Array<[string, number]> = [
    ['bin/go', 8], ['bin/gofmt', 2], ['pkg/tool/linux_amd64/compile', 12], ['pkg/tool/linux_amd64/link', 5], ['pkg/tool/linux_amd64/vet', 4],
    ['pkg/tool/linux_amd64/pprof', 7], ['pkg/tool/linux_amd64/trace', 6], ['pkg/tool/linux_amd64/asm', 3], ['pkg/tool/linux_amd64/cgo', 3],
  ];
  for (const [name, megabytes] of binaries) zip.addBuffer(binaryLike(megabytes * 1_000_000), prefix + name, { mtime: new Date(0), compress: true });
  // Each source file is a window of a shared pool (deflate sees one entry at a time, so sharing does not help it).
  const pool = sourceLike(4_000_000);
  for (let i = 0; i < 4800; i++) {
    const size = 1_000 + Math.floor(Math.random() * 19_000);
    const start = Math.floor(Math.random() * (pool.length - size));
    zip.addBuffer(Buffer.from(pool.slice(start, start + size)), `${prefix}src/p${Math.floor(i / 20)}/f${i % 20}.go`, { mtime: new Date(0), compress: true });
  }
  zip.end();
  await new Promise<void>((resolve, reject) => {
    zip.outputStream.pipe(createWriteStream(file)).on('close', () => resolve()).on('error', reject);
  });
}

async function syntheticDistpack(dir: string): Promise<void> {
  writeFileSync(path.join(dir, 'go1.99.0.linux-amd64.tar.gz'), randomBytes(100 * MiB));
  await syntheticModuleZip(path.join(dir, 'v0.0.1-go1.99.0.linux-amd64.zip'));
}

// ---- The benchmark ---------------------------------------------------------------------------------

function runningBuilds(): string {
  const result = spawnSync('pgrep', ['-f', 'make.bash'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().split('\n').join(', ') : '';
}

export async function benchHash(): Promise<void> {
  const given = process.env.WITNESS_DISTPACK_DIR;
  if (given && !existsSync(given)) throw new Error(`WITNESS_DISTPACK_DIR=${given} does not exist`);
  const work = given ? undefined : mkdtempSync(path.join(tmpdir(), 'witness-bench-hash-'));
  try {
    const dir = given ?? work!;
    console.log(`hash: median of ${RUNS} runs (after one untimed warm-up run of each side: files in the page cache), same files for both sides`);
    console.log(`  before: ${load()}${loadavg()[0]! > availableParallelism() / 2 ? ' (BUSY: other work shares the CPUs, numbers are noisy)' : ''}`);
    const busy = runningBuilds();
    if (busy) console.log(`  WARNING: make.bash is running (pid ${busy}): both sides share the CPU with it, numbers are noisy`);
    if (given) {
      console.log(`  inputs: real files in ${dir}`);
    } else {
      const start = performance.now();
      await syntheticDistpack(dir);
      console.log(`  inputs: synthetic (WITNESS_DISTPACK_DIR not set; made in ${((performance.now() - start) / 1000).toFixed(1)} s)`);
    }
    const archives = readdirSync(dir)
      .filter((name) => /\.(tar\.gz|zip)$/.test(name))
      .sort();
    if (archives.length === 0) throw new Error(`no *.tar.gz or *.zip in ${dir}`);

    // SHA-256 of each archive vs openssl dgst.
    const openssl = have('openssl');
    const sha256sum = have('sha256sum');
    if (!openssl) console.log('  openssl: not found: SHA-256 and h1: baselines skipped (install openssl)');
    else {
      const startup = await timeOnly(() => run('openssl', ['dgst', '-sha256', '/dev/null']));
      console.log(`SHA-256 (hashFile, in-process) vs \`openssl dgst -sha256 FILE\` (start-up alone: ${startup.toFixed(0)} ms); goal: throughput >= ${GOAL}x openssl's`);
      for (const name of archives) {
        const file = path.join(dir, name);
        const size = statSync(file).size;
        const ours = await hashFile(file);
        const theirs = digestOf(run('openssl', ['dgst', '-sha256', file]));
        if (theirs !== ours.sha256) throw new Error(`${name}: hashFile ${ours.sha256} but openssl ${theirs}`);
        const t = await pair(() => run('openssl', ['dgst', '-sha256', file]), () => hashFile(file));
        const ratio = t.base / t.ours;
        const strict = Math.max(t.base - startup, 0.001) / t.ours;
        const reference = sha256sum ? `; sha256sum ${rate(size, await timeOnly(() => run('sha256sum', [file])))} for reference` : '';
        console.log(`  ${name} (${(size / MiB).toFixed(1)} MiB): openssl ${rate(size, t.base)} (best ${rate(size, t.baseMin)}), ours ${rate(size, t.ours)} (best ${rate(size, t.oursMin)})${reference}`);
        console.log(
          `    ours/openssl throughput ${ratio.toFixed(2)}x (goal >= ${GOAL}x) ${verdict(ratio >= GOAL)}; ` +
            `with openssl's start-up subtracted ${strict.toFixed(2)}x ${verdict(strict >= GOAL)}`,
        );
      }
    }

    // h1: of the module zip vs unzip -p | openssl dgst.
    const zips = archives.filter((name) => name.endsWith('.zip'));
    if (zips.length === 0) console.log('h1: no module zip in the folder: skipped');
    else if (!openssl) console.log('h1: skipped (no openssl)');
    else if (!have('unzip')) console.log('h1: `unzip` not found: the `unzip -p ZIP | openssl dgst -sha256` baseline is skipped (apt-get install unzip)');
    else {
      console.log(`h1: (hashModuleZipDetailed: entries inflated and hashed in ${availableParallelism()} worker threads at most 4) vs \`unzip -p ZIP | openssl dgst -sha256\`; reported as ours/baseline time`);
      for (const name of zips) {
        const file = path.join(dir, name);
        const size = statSync(file).size;
        const pipeline = () => run('bash', ['-c', 'set -o pipefail; unzip -p "$1" | openssl dgst -sha256', 'bash', file]);
        const { contentBytes, h1 } = await hashModuleZipDetailed(file);
        const ziphash = `${file.slice(0, -'.zip'.length)}.ziphash`;
        if (existsSync(ziphash)) {
          const recorded = readFileSync(ziphash, 'utf8').trim();
          if (recorded !== h1) throw new Error(`${name}: our h1 ${h1} but the go command recorded ${recorded}`);
          console.log(`  ${name}: h1 ${h1}, the same as the go command's ${path.basename(ziphash)}`);
        }
        // unzip's own count of the content bytes, to be sure both sides read the same amount.
        const summary = /(\d+) files?, (\d+) bytes uncompressed/.exec(run('unzip', ['-Zt', file]));
        const entries = summary ? Number(summary[1]) : NaN;
        if (summary && Number(summary[2]) !== contentBytes) console.log(`  WARNING: unzip counts ${summary[2]} content bytes, hashModuleZip ${contentBytes}`);
        const t = await pair(pipeline, () => hashModuleZipDetailed(file));
        const ratio = t.ours / t.base;
        const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
        console.log(
          `  ${name}: ${(size / MiB).toFixed(1)} MiB zip, ${(contentBytes / MiB).toFixed(1)} MiB content (deflated ${(size / contentBytes).toFixed(2)}), ${entries} entries`,
        );
        console.log(
          `    unzip|openssl ${s(t.base)} (best ${s(t.baseMin)}; ${rate(contentBytes, t.base)} of content), ours ${s(t.ours)} (best ${s(t.oursMin)}; ${rate(contentBytes, t.ours)} of content)`,
        );
        console.log(`    time ours/baseline = ${ratio.toFixed(2)} (best/best ${(t.oursMin / t.baseMin).toFixed(2)})`);
        console.log(`    goal as the issue writes it, "<= ${GOAL}x its time" (time ratio <= ${GOAL}): ${verdict(ratio <= GOAL)}`);
        // The darwin path: plain and stripped h1 in one read (every bin/ and pkg/tool/ entry also goes
        // through stripDarwinSignature on the main thread; on a linux zip nothing is stripped).
        const both = await pair(pipeline, () => hashModuleZipDetailed(file, { transform: DARWIN_STRIP }));
        console.log(`    plain + stripped h1 (darwin path, one read): ours ${s(both.ours)} (best ${s(both.oursMin)}), time ours/baseline = ${(both.ours / both.base).toFixed(2)}`);
      }
    }
    console.log(`  after: ${load()}`);
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}
