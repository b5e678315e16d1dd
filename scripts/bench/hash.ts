// Benchmark: hashing distpack outputs against `sha256sum` on the same bytes, measured in the same run.
// Quality bar (PRODUCT.md): SHA-256 of a file and `h1:` of a module zip at >= 0.8x sha256sum's throughput.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import yazl from 'yazl';
import { hashFile, hashModuleZipDetailed } from '../../src/build/distpack.js';

const RUNS = 3;

async function median(run: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;
}

export async function benchHash(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'witness-bench-hash-'));
  try {
    // A 128 MiB archive-like file (incompressible, like a .tar.gz).
    const file = path.join(dir, 'archive.tar.gz');
    writeFileSync(file, randomBytes(128 * 1024 * 1024));
    // A module zip of ~100 MB: 2,000 files, half stored (binaries), half deflated (sources).
    const zipFile = path.join(dir, 'module.zip');
    await new Promise<void>((resolve, reject) => {
      const zip = new yazl.ZipFile();
      for (let i = 0; i < 2000; i++) {
        const binary = i % 2 === 0;
        const content = binary ? randomBytes(90_000) : Buffer.from(`package p${i}\n// ${'x'.repeat(60)}\n`.repeat(1500));
        zip.addBuffer(content, `golang.org/toolchain@v0.0.1-go1.99.0.linux-amd64/f${i}`, { compress: !binary, mtime: new Date(0) });
      }
      zip.end();
      zip.outputStream.pipe(createWriteStream(zipFile)).on('close', () => resolve()).on('error', reject);
    });
    const sha256sum = (target: string) => execFileSync('sha256sum', [target]);
    const fileBase = await median(() => sha256sum(file));
    const fileOurs = await median(() => hashFile(file));
    const zipBase = await median(() => sha256sum(zipFile));
    const zipOurs = await median(() => hashModuleZipDetailed(zipFile));
    const { contentBytes } = await hashModuleZipDetailed(zipFile);
    const mb = (bytes: number) => bytes / (1024 * 1024);
    const fileSize = statSync(file).size;
    const zipSize = statSync(zipFile).size;
    const report = (what: string, size: number, base: number, ours: number) => {
      const ratio = base / ours;
      console.log(
        `  ${what.padEnd(34)} sha256sum ${(mb(size) / (base / 1000)).toFixed(0)} MiB/s, ours ${(mb(size) / (ours / 1000)).toFixed(0)} MiB/s: ${ratio.toFixed(2)}x (goal >= 0.8x) ${ratio >= 0.8 ? 'MET' : 'NOT MET'}`,
      );
    };
    console.log(`hash: median of ${RUNS}, throughput on the same bytes as sha256sum`);
    report(`SHA-256 of a ${mb(fileSize).toFixed(0)} MiB file`, fileSize, fileBase, fileOurs);
    report(`h1: of a ${mb(zipSize).toFixed(0)} MiB module zip (2,000 files)`, zipSize, zipBase, zipOurs);
    // h1 hashes the decompressed contents; against sha256sum hashing that many bytes (its rate on the file):
    const contentRatio = mb(contentBytes) / (zipOurs / 1000) / (mb(fileSize) / (fileBase / 1000));
    console.log(
      `  h1: per content byte (${mb(contentBytes).toFixed(0)} MiB decompressed)  ours ${(mb(contentBytes) / (zipOurs / 1000)).toFixed(0)} MiB/s of content vs sha256sum ${(mb(fileSize) / (fileBase / 1000)).toFixed(0)} MiB/s: ${contentRatio.toFixed(2)}x (goal >= 0.8x) ${contentRatio >= 0.8 ? 'MET' : 'NOT MET'}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
