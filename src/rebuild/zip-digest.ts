// SHA-256 of every entry of a zip, inflated and hashed in parallel in worker threads: the per-file
// digests of Go's dirhash.HashZip (golang/mod sumdb/dirhash/hash.go). Entries tile the file (zip.ts), so
// each entry is one region [local header, next entry): a worker reads it with one positional read on
// the shared file descriptor, inflates the data in one call, checks the size and CRC-32 the central
// directory declares (as archive/zip does when a reader reaches EOF), hashes it, and sends back the
// bytes around the data (local header, data descriptor), which the main thread checks with
// zip.ts checkEntryRecord: the very bytes the worker sliced the data from.
//
// The workers run a small CommonJS source evaluated from the string below: it uses nothing but Node's
// built-in modules, so it works the same from the TypeScript sources (tsx), tsc's output and the
// single-file esbuild bundle, none of which could otherwise agree on the path of a worker file.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { EnvironmentError, FormatError, WitnessError } from '../errors.js';
import { checkEntryRecord, localHeaderLength, METHOD_STORED, type ZipEntry } from './zip.js';

/** What a worker needs to digest one entry. */
interface Job {
  readonly index: number;
  /** The entry's region: its local header offset and length up to the next entry. */
  readonly offset: number;
  readonly length: number;
  /** Bytes of local header (fixed part and name) to send back; the extra field's length is at offset 28. */
  readonly headerLength: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly crc32: number;
  readonly stored: boolean;
  /** Send the content back (for DigestOptions.onContent). */
  readonly keep: boolean;
}

type Outcome =
  | { index: number; sha256: string; header: Uint8Array; trailer: Uint8Array; content?: Uint8Array }
  | { index: number; error: string };

const WORKER_SOURCE = String.raw`'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { inflateRawSync, crc32 } = require('node:zlib');
const { createHash } = require('node:crypto');
const fd = workerData.fd;
let input = Buffer.allocUnsafe(1024 * 1024);
function digest(job) {
  if (input.length < job.length) input = Buffer.allocUnsafe(job.length);
  for (let done = 0; done < job.length; ) {
    const n = readSync(fd, input, done, job.length - done, job.offset + done);
    if (n === 0) throw new Error('the zip ends inside it');
    done += n;
  }
  if (job.length < job.headerLength) throw new Error('its local header runs into the next entry');
  const start = job.headerLength + input.readUInt16LE(28);
  if (start + job.compressedSize > job.length) throw new Error('its data runs past the next entry (or the central directory)');
  const compressed = input.subarray(start, start + job.compressedSize);
  let content = compressed;
  if (!job.stored) {
    let result;
    try {
      // One output chunk of the declared size (and one byte more, to see an overlong entry).
      result = inflateRawSync(compressed, { info: true, chunkSize: Math.max(64, job.size + 1), maxOutputLength: job.size + 1 });
    } catch (error) {
      throw new Error(error.code === 'ERR_BUFFER_TOO_LARGE' ? 'inflates to more than its declared size ' + job.size : 'does not inflate: ' + error.message);
    }
    if (result.engine.bytesWritten !== job.compressedSize) throw new Error((job.compressedSize - result.engine.bytesWritten) + ' bytes after the end of its deflate stream');
    content = result.buffer;
  }
  if (content.length !== job.size) throw new Error('inflates to ' + content.length + ' bytes, not its declared size ' + job.size);
  if (crc32(content) >>> 0 !== job.crc32) throw new Error('its CRC-32 differs from the one the zip declares');
  const outcome = {
    index: job.index,
    sha256: createHash('sha256').update(content).digest('hex'),
    header: Uint8Array.prototype.slice.call(input, 0, job.headerLength),
    // At most 17 bytes: a data descriptor is 12 or 16, and one more shows there is too much.
    trailer: Uint8Array.prototype.slice.call(input, start + job.compressedSize, Math.min(job.length, start + job.compressedSize + 17)),
  };
  // A copy in an ArrayBuffer of its own, transferred: never a view of the reused input or of Node's pool.
  if (job.keep) outcome.content = new Uint8Array(content);
  return outcome;
}
parentPort.on('message', (jobs) => {
  const outcomes = [];
  const transfer = [];
  for (const job of jobs) {
    try {
      const outcome = digest(job);
      if (outcome.content) transfer.push(outcome.content.buffer);
      outcomes.push(outcome);
    } catch (error) {
      outcomes.push({ index: job.index, error: String(error && error.message) });
      break;
    }
  }
  parentPort.postMessage(outcomes, transfer);
});
`;

export interface DigestOptions {
  /** Entries whose decompressed content onContent receives (on the main thread, in completion order). */
  readonly keep?: (entry: ZipEntry) => boolean;
  readonly onContent?: (entry: ZipEntry, content: Buffer) => void;
  /** Worker threads; default: one per CPU (at most 4), fewer for a small zip. */
  readonly workers?: number;
}

// A batch is at least this many compressed bytes (or BATCH_ENTRIES entries), so that small entries do
// not cost a message each; every worker has two batches so it never waits for the main thread.
const BATCH_BYTES = 512 * 1024;
const BATCH_ENTRIES = 128;
const BATCHES_PER_WORKER = 2;
const BYTES_PER_WORKER = 4 * 1024 * 1024;

/**
 * Lowercase hex SHA-256 of each entry's decompressed content, in the order of `entries`, for the zip
 * open on `fd` (`file` names it in errors), as readCentralDirectory returned them. Every entry's local
 * header, data descriptor, size and CRC-32 are checked; the first failure rejects with MALFORMED_ZIP,
 * after every worker has stopped.
 */
export async function digestZipEntries(fd: number, file: string, entries: readonly ZipEntry[], options: DigestOptions = {}): Promise<string[]> {
  const digests = new Array<string>(entries.length);
  if (entries.length === 0) return digests;
  // Largest first, so that no big entry is left for the end while the other workers idle.
  const order = entries.map((_, i) => i).sort((a, b) => entries[b]!.compressedSize - entries[a]!.compressedSize);
  const compressed = entries.reduce((sum, entry) => sum + entry.compressedSize, 0);
  const count = Math.max(1, Math.min(options.workers ?? Math.min(availableParallelism(), 4), Math.ceil(compressed / BYTES_PER_WORKER)));
  const workers: Worker[] = [];
  let next = 0;
  let pending = 0;
  let settled = false;

  const nextBatch = (): Job[] => {
    const jobs: Job[] = [];
    let bytes = 0;
    while (next < order.length && bytes < BATCH_BYTES && jobs.length < BATCH_ENTRIES) {
      const index = order[next++]!;
      const entry = entries[index]!;
      bytes += entry.compressedSize;
      jobs.push({
        index,
        offset: entry.headerOffset,
        length: entry.limit - entry.headerOffset,
        headerLength: localHeaderLength(entry),
        compressedSize: entry.compressedSize,
        size: entry.size,
        crc32: entry.crc32,
        stored: entry.method === METHOD_STORED,
        keep: options.keep?.(entry) ?? false,
      });
    }
    return jobs;
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      const feed = (worker: Worker) => {
        if (settled) return;
        try {
          const jobs = nextBatch();
          if (jobs.length === 0) return;
          pending++;
          worker.postMessage(jobs);
        } catch (error) {
          fail(error);
        }
      };
      for (let i = 0; i < count; i++) {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { fd }, execArgv: [], stdout: false, stderr: false });
        workers.push(worker);
        worker.on('message', (outcomes: Outcome[]) => {
          pending--;
          try {
            for (const outcome of outcomes) {
              const entry = entries[outcome.index]!;
              if ('error' in outcome) throw new FormatError('MALFORMED_ZIP', `${file}: entry ${JSON.stringify(entry.name)}: ${outcome.error}`);
              checkEntryRecord(entry, Buffer.from(outcome.header.buffer, outcome.header.byteOffset, outcome.header.byteLength), Buffer.from(outcome.trailer.buffer, outcome.trailer.byteOffset, outcome.trailer.byteLength), file);
              digests[outcome.index] = outcome.sha256;
              if (outcome.content) options.onContent?.(entry, Buffer.from(outcome.content.buffer, outcome.content.byteOffset, outcome.content.byteLength));
            }
          } catch (error) {
            fail(error instanceof WitnessError ? error : new FormatError('MALFORMED_ZIP', `${file}: ${(error as Error).message}`, { cause: error }));
            return;
          }
          feed(worker);
          if (!settled && pending === 0 && next >= order.length) {
            settled = true;
            resolve();
          }
        });
        worker.on('error', (error) => fail(new EnvironmentError('ZIP_WORKER_FAILED', `${file}: a hashing worker failed: ${error.message}`, { cause: error })));
        worker.on('exit', (code) => fail(new EnvironmentError('ZIP_WORKER_FAILED', `${file}: a hashing worker exited (code ${code}) before it was done`)));
        for (let k = 0; k < BATCHES_PER_WORKER; k++) feed(worker);
      }
    });
  } finally {
    // Every worker stops before the caller may close the descriptor they read.
    settled = true;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
  return digests;
}
