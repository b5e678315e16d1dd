// Reading files whose folder someone else controls (a cloned log, a build result handed over): never
// through a symbolic link, only regular files, and never more than a stated number of bytes. git stores
// symlinks, so a hostile log clone could otherwise point `log.vkey` at a credentials file, a tile at
// /dev/zero (memory without end) or make the checkpoint a FIFO (a read that never returns).
//
// Every directory below the trusted root is checked with lstat, the file itself is opened with
// O_NOFOLLOW | O_NONBLOCK (a FIFO opens at once instead of waiting for a writer) and checked with fstat on
// the open descriptor, then read up to the limit. (A writer racing this between the lstat of a folder
// and the open can swap that folder; such a writer can change the log folder anyway.)
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, lstat, open } from 'node:fs/promises';
import path from 'node:path';
import { FormatError } from './errors.js';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;

/** What is wrong with a file that exists but may not be read. */
export type RefusedFileReason = 'symlink' | 'not-regular' | 'too-large';

/** A file refused by openUntrustedFile / readUntrustedFile. Its message never holds file content. */
export class RefusedFileError extends FormatError {
  constructor(
    code: string,
    message: string,
    readonly reason: RefusedFileReason,
  ) {
    super(code, message);
  }
}

const CODES: Record<RefusedFileReason, string> = {
  symlink: 'FILE_IS_SYMLINK',
  'not-regular': 'FILE_NOT_REGULAR',
  'too-large': 'FILE_TOO_LARGE',
};

function refused(reason: RefusedFileReason, what: string, detail: string): RefusedFileError {
  return new RefusedFileError(CODES[reason], `${what} ${detail}`, reason);
}

/** The path components of a slash-separated relative path; '', '.', '..' and NUL are refused. */
function components(relative: string): string[] {
  const parts = relative.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'))) {
    throw new FormatError('BAD_PATH', `${JSON.stringify(relative.slice(0, 200))} is not a plain relative path`);
  }
  return parts;
}

/**
 * Opens `relative` (slash-separated) below the trusted folder `root` without following any symbolic link
 * inside it; undefined if it does not exist. The caller must close the handle. Throws RefusedFileError for
 * a link, anything but a regular file, or a file larger than `maxBytes`.
 */
export async function openUntrustedFile(
  root: string,
  relative: string,
  maxBytes: number,
  what = relative,
): Promise<{ handle: FileHandle; size: number } | undefined> {
  const parts = components(relative);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    if (!info) return undefined;
    if (info.isSymbolicLink()) throw refused('symlink', what, `is reached through the symbolic link ${path.relative(root, dir)}; it is never followed`);
    if (!info.isDirectory()) return undefined;
  }
  let handle: FileHandle;
  try {
    handle = await open(path.join(dir, parts[parts.length - 1]!), OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    // Linux answers ELOOP for O_NOFOLLOW on a link; FreeBSD EMLINK, NetBSD EFTYPE.
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE') throw refused('symlink', what, 'is a symbolic link; it is never followed');
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw refused('not-regular', what, 'is not a regular file (a FIFO, device, socket or folder); refusing to read it');
    if (info.size > maxBytes) throw refused('too-large', what, `is ${info.size} bytes, more than the ${maxBytes} accepted`);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * Reads all of an open file, refusing it (RefusedFileError) if it holds more than `maxBytes`. `sizeHint`
 * (the size fstat gave) sizes the first read: one buffer of that size, not a MiB per file.
 */
export async function readBounded(handle: FileHandle, maxBytes: number, what: string, sizeHint?: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  let next = sizeHint === undefined ? 1 << 20 : sizeHint + 1;
  for (;;) {
    const buffer = Buffer.allocUnsafeSlow(Math.min(Math.max(maxBytes - total + 1, 1), next, 1 << 20));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > maxBytes) throw refused('too-large', what, `is more than the ${maxBytes} bytes accepted`);
    chunks.push(buffer.subarray(0, bytesRead));
    next = 1 << 20;
  }
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  return new Uint8Array(all.buffer, all.byteOffset, total);
}

/**
 * The content of `relative` below `root` (see openUntrustedFile), or undefined if it does not exist.
 * Never follows a link, never reads anything but a regular file, never more than `maxBytes`.
 */
export async function readUntrustedFile(root: string, relative: string, maxBytes: number, what = relative): Promise<Uint8Array | undefined> {
  const opened = await openUntrustedFile(root, relative, maxBytes, what);
  if (!opened) return undefined;
  try {
    return await readBounded(opened.handle, maxBytes, what, opened.size);
  } finally {
    await opened.handle.close();
  }
}

/**
 * readUntrustedFile with synchronous system calls, the same checks in the same order. For reading many
 * small files in a batch (verifying a log folder reads thousands of tiles): each asynchronous call costs
 * ten to twenty times the CPU of its synchronous twin.
 */
export function readUntrustedFileSync(root: string, relative: string, maxBytes: number, what = relative): Uint8Array | undefined {
  const parts = components(relative);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const info = lstatSync(dir, { throwIfNoEntry: false });
    if (!info) return undefined;
    if (info.isSymbolicLink()) throw refused('symlink', what, `is reached through the symbolic link ${path.relative(root, dir)}; it is never followed`);
    if (!info.isDirectory()) return undefined;
  }
  let fd: number;
  try {
    fd = openSync(path.join(dir, parts[parts.length - 1]!), OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE') throw refused('symlink', what, 'is a symbolic link; it is never followed');
    throw error;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) throw refused('not-regular', what, 'is not a regular file (a FIFO, device, socket or folder); refusing to read it');
    if (info.size > maxBytes) throw refused('too-large', what, `is ${info.size} bytes, more than the ${maxBytes} accepted`);
    const chunks: Buffer[] = [];
    let total = 0;
    let next = info.size + 1;
    for (;;) {
      const buffer = Buffer.allocUnsafeSlow(Math.min(Math.max(maxBytes - total + 1, 1), next, 1 << 20));
      const bytesRead = readSync(fd, buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw refused('too-large', what, `is more than the ${maxBytes} bytes accepted`);
      chunks.push(buffer.subarray(0, bytesRead));
      next = 1 << 20;
    }
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
    return new Uint8Array(all.buffer, all.byteOffset, total);
  } finally {
    closeSync(fd);
  }
}
