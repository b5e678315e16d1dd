// Hashing what `make.bash -distpack` writes to pkg/distpack: size and SHA-256 of every file, read in
// 4 MiB positional reads (archives are ~100 MB: never held in memory), and for the golang.org/toolchain module the two go.sum
// lines: the zip's `h1:` (Go dirhash.HashZip: Hash1 over the entries' names and decompressed contents)
// and the `.mod` file's `/go.mod h1:`.
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { goModHash, hash1FromDigests } from '../sumdb/dirhash.js';
import { readCentralDirectory } from './zip.js';
import { digestZipEntries } from './zip-digest.js';

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
  // Size and digest only: hashDistpack spreads this into each file of a build result.
  const { size, sha256 } = await hashRegularFile(file);
  return { size, sha256 };
}

/** hashFile, and the file's mode bits (from the fstat of the descriptor it read: no second lookup). */
export async function hashRegularFile(file: string): Promise<{ size: number; sha256: string; mode: number }> {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new EnvironmentError('NOT_A_FILE', `${file} is a symbolic link: refusing to follow it`, { cause: error });
    throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new EnvironmentError('NOT_A_FILE', `${file} is not a regular file`);
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      const n = readSync(fd, READ_BUFFER, 0, READ_BUFFER.length, size);
      if (n === 0) break;
      hash.update(READ_BUFFER.subarray(0, n));
      size += n;
    }
    return { size, sha256: hash.digest('hex'), mode: info.mode & 0o7777 };
  } catch (error) {
    if (error instanceof EnvironmentError) throw error;
    throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  } finally {
    closeSync(fd);
  }
}

/**
 * Go dirhash.HashZip: `h1:` over every entry of a zip, by its name as stored and its decompressed
 * content. The zip is read strictly (zip.ts): names are clean UTF-8 paths and unique, every header,
 * data descriptor, size and CRC-32 agrees.
 */
export async function hashModuleZip(file: string): Promise<string> {
  return (await hashModuleZipDetailed(file)).h1;
}

/**
 * Rewrites chosen zip entries for a second `h1:` (e.g. macho.ts stripping darwin code signatures).
 * The content of the entries `wants` accepts is hashed again as `apply(name, content)`.
 */
export interface ZipEntryTransform {
  wants(name: string): boolean;
  apply(name: string, content: Buffer): Buffer;
}

export interface ModuleZipHashes {
  /** dirhash.HashZip of the zip as it is. */
  readonly h1: string;
  /** With `transform`: the h1 of the same zip with the transform applied to the entries it wants. */
  readonly transformedH1?: string;
  /** Content bytes hashed (decompressed, before any transform). */
  readonly contentBytes: number;
  readonly entries: number;
}

/**
 * hashModuleZip, also counting the content, and with `options.transform` the transformed h1 too, from
 * the same single read of the zip: every entry is inflated once (in worker threads, zip-digest.ts).
 */
export async function hashModuleZipDetailed(file: string, options: { transform?: ZipEntryTransform } = {}): Promise<ModuleZipHashes> {
  const { transform } = options;
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw new EnvironmentError('NOT_A_FILE', `${file} is not a regular file`);
    const entries = readCentralDirectory(fd, info.size, file);
    const transformed = new Map<string, string>();
    const digests = await digestZipEntries(fd, file, entries, {
      ...(transform && {
        keep: (entry) => transform.wants(entry.name),
        onContent: (entry, content) => {
          const rewritten = transform.apply(entry.name, content);
          if (rewritten !== content) transformed.set(entry.name, createHash('sha256').update(rewritten).digest('hex'));
        },
      }),
    });
    const plain = entries.map((entry, i) => ({ name: entry.name, sha256: digests[i]! }));
    return {
      h1: hash1FromDigests(plain),
      ...(transform && { transformedH1: hash1FromDigests(plain.map((d) => ({ name: d.name, sha256: transformed.get(d.name) ?? d.sha256 }))) }),
      contentBytes: entries.reduce((sum, entry) => sum + entry.size, 0),
      entries: entries.length,
    };
  } finally {
    closeSync(fd);
  }
}

/** `v0.0.1-go1.21.0.linux-amd64` from `v0.0.1-go1.21.0.linux-amd64.zip`. */
const MODULE_FILE = /^(v0\.0\.1-go[0-9A-Za-z.+-]+)\.(zip|mod|info)$/;

export interface DistpackHashes {
  readonly files: HashedFile[];
  /** The golang.org/toolchain module's two go.sum lines, when its zip and .mod are present. */
  readonly goSum?: readonly [string, string];
  readonly moduleVersion?: string;
  /** With `options.transform`: the module zip's h1 with the transform applied (hashModuleZipDetailed). */
  readonly transformedH1?: string;
}

/**
 * Hashes every file of a pkg/distpack folder (sorted by name) and computes the toolchain module's go.sum
 * lines; with `options.transform`, also the zip's transformed h1, from the same read of the zip.
 */
export async function hashDistpack(dir: string, options: { transform?: ZipEntryTransform } = {}): Promise<DistpackHashes> {
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
  const zipHashes = await hashModuleZipDetailed(path.join(dir, `${version}.zip`), options);
  const modH1 = goModHash(new Uint8Array(await readFile(path.join(dir, `${version}.mod`))));
  return {
    files,
    moduleVersion: version,
    goSum: [`golang.org/toolchain ${version} ${zipHashes.h1}`, `golang.org/toolchain ${version}/go.mod ${modH1}`],
    ...(zipHashes.transformedH1 !== undefined && { transformedH1: zipHashes.transformedH1 }),
  };
}
