// Hashing what `make.bash -distpack` writes to pkg/distpack: size and SHA-256 of every file, read in
// 4 MiB positional reads (archives are ~100 MB: never held in memory), and for the golang.org/toolchain module the two go.sum
// lines: the zip's `h1:` (Go dirhash.HashZip: Hash1 over the entries' names and decompressed contents)
// and the `.mod` file's `/go.mod h1:`.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import yauzl from 'yauzl';
import { EnvironmentError, FormatError } from '../errors.js';
import { goModHash, hash1FromDigests } from '../sumdb/dirhash.js';

export interface HashedFile {
  readonly name: string;
  readonly size: number;
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string;
}

// One read buffer for every hashFile call: hashFile reads and hashes synchronously (no await between
// reads), so no two calls can use it at once. 4 MiB reads make the syscall cost negligible, and a
// positional read loop runs at the speed of SHA-256 itself (stream plumbing cost half of it:
// scripts/bench/hash.ts measures both against openssl).
const READ_BUFFER = Buffer.allocUnsafe(4 * 1024 * 1024);

/**
 * Size and SHA-256 of a regular file, read in 4 MiB positional reads. A symbolic link is refused
 * (O_NOFOLLOW), and so is anything fstat does not call a regular file (O_NONBLOCK: a FIFO must not hang
 * the open). Runs synchronously: about 60 ms of event loop per 64 MiB here.
 */
export async function hashFile(file: string): Promise<{ size: number; sha256: string }> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new EnvironmentError('NOT_A_FILE', `${file} is a symbolic link: refusing to follow it`, { cause: error });
    throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    if (!fstatSync(fd).isFile()) throw new EnvironmentError('NOT_A_FILE', `${file} is not a regular file`);
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, size);
      if (n === 0) break;
      hash.update(READ_BUFFER.subarray(0, n));
      size += n;
    }
    return { size, sha256: hash.digest('hex') };
  } catch (error) {
    if (error instanceof EnvironmentError) throw error;
    throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true, autoClose: false }, (error, zip) => {
      if (error || !zip) reject(new FormatError('MALFORMED_ZIP', `${file} is not a readable zip: ${error?.message ?? 'no zip'}`, { cause: error }));
      else resolve(zip);
    });
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const ZIP_CONCURRENCY = 4;

/**
 * Go dirhash.HashZip: `h1:` over every entry of a zip, by its name as stored and its decompressed
 * content, streamed entry by entry. Names must be valid UTF-8 (module zip paths are) and unique.
 */
export async function hashModuleZip(file: string): Promise<string> {
  return (await hashModuleZipDetailed(file)).h1;
}

/**
 * Rewrites chosen zip entries before they are hashed (e.g. macho.ts stripping darwin code signatures).
 * Entries `wants` accepts are buffered whole and hashed as `apply(name, content)`; the rest stream.
 */
export interface ZipEntryTransform {
  wants(name: string): boolean;
  apply(name: string, content: Buffer): Buffer;
}

/**
 * hashModuleZip, also returning how many content bytes (decompressed, before any transform) were hashed.
 * With `options.transform`, the h1 is over the transformed contents of the entries it wants.
 */
export async function hashModuleZipDetailed(
  file: string,
  options: { transform?: ZipEntryTransform } = {},
): Promise<{ h1: string; contentBytes: number }> {
  const { transform } = options;
  let contentBytes = 0;
  const zip = await openZip(file);
  const digests: Array<{ name: string; sha256: string }> = [];
  const names = new Set<string>();
  // Up to ZIP_CONCURRENCY entries are inflated and hashed at once (zlib runs in libuv's threadpool, so
  // this uses every core); hash1 sorts by name, so completion order does not matter.
  try {
  await new Promise<void>((resolve, reject) => {
    let active = 0;
    let requested = false;
    let ended = false;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      reject(error instanceof FormatError ? error : new FormatError('MALFORMED_ZIP', `${file}: ${(error as Error).message}`, { cause: error }));
    };
    const requestNext = () => {
      if (failed || ended || requested || active >= ZIP_CONCURRENCY) return;
      requested = true;
      zip.readEntry();
    };
    const finishIfDone = () => {
      if (!failed && ended && active === 0) resolve();
    };
    zip.on('error', fail);
    zip.on('end', () => {
      requested = false;
      ended = true;
      finishIfDone();
    });
    zip.on('entry', (entry: yauzl.Entry) => {
      requested = false;
      let name: string;
      try {
        name = strictUtf8.decode(entry.fileName as unknown as Buffer);
      } catch {
        fail(new FormatError('MALFORMED_ZIP', `${file}: an entry name is not UTF-8`));
        return;
      }
      if (names.has(name)) {
        fail(new FormatError('MALFORMED_ZIP', `${file}: entry ${JSON.stringify(name)} appears twice`));
        return;
      }
      names.add(name);
      active++;
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) {
          fail(error ?? new Error('no stream'));
          return;
        }
        const hash = createHash('sha256');
        const entryTransform = transform?.wants(name) ? transform : undefined;
        const chunks: Buffer[] | undefined = entryTransform ? [] : undefined;
        stream.on('data', (chunk: Buffer) => {
          contentBytes += chunk.length;
          if (chunks) chunks.push(chunk);
          else hash.update(chunk);
        });
        stream.on('error', fail);
        stream.on('end', () => {
          if (entryTransform && chunks) {
            try {
              hash.update(entryTransform.apply(name, Buffer.concat(chunks)));
            } catch (error) {
              fail(error);
              return;
            }
          }
          digests.push({ name, sha256: hash.digest('hex') });
          active--;
          requestNext();
          finishIfDone();
        });
      });
      requestNext();
    });
    requestNext();
  });
  } finally {
    zip.close();
  }
  return { h1: hash1FromDigests(digests), contentBytes };
}

/** `v0.0.1-go1.21.0.linux-amd64` from `v0.0.1-go1.21.0.linux-amd64.zip`. */
const MODULE_FILE = /^(v0\.0\.1-go[0-9A-Za-z.+-]+)\.(zip|mod|info)$/;

export interface DistpackHashes {
  readonly files: HashedFile[];
  /** The golang.org/toolchain module's two go.sum lines, when its zip and .mod are present. */
  readonly goSum?: readonly [string, string];
  readonly moduleVersion?: string;
}

/** Hashes every file of a pkg/distpack folder (sorted by name) and computes the toolchain module's go.sum lines. */
export async function hashDistpack(dir: string): Promise<DistpackHashes> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new EnvironmentError('DISTPACK_NOT_FOUND', `cannot read ${dir}: ${error.message}`, { cause: error });
  });
  const files: HashedFile[] = [];
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    if (!(await lstat(file)).isFile()) continue; // never follow a symbolic link
    files.push({ name, ...(await hashFile(file)) });
  }
  const zip = names.find((name) => MODULE_FILE.exec(name)?.[2] === 'zip');
  const version = zip ? MODULE_FILE.exec(zip)![1]! : undefined;
  if (!version || !names.includes(`${version}.mod`)) return { files };
  const zipH1 = await hashModuleZip(path.join(dir, `${version}.zip`));
  const modH1 = goModHash(new Uint8Array(await readFile(path.join(dir, `${version}.mod`))));
  return {
    files,
    moduleVersion: version,
    goSum: [`golang.org/toolchain ${version} ${zipH1}`, `golang.org/toolchain ${version}/go.mod ${modH1}`],
  };
}
