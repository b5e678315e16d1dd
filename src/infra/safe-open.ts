// Opening files below a folder someone else controls (a cloned log, a build result handed over, what a
// build left in its work tree) without following a link they could have planted, reading only regular
// files, never more than a stated number of bytes. git stores symlinks, so a hostile log clone could
// otherwise point `log.vkey` at a credentials file, a tile at /dev/zero (memory without end) or make the
// checkpoint a FIFO (a read that never returns).
//
// Node has no openat(2); the same effect comes from opening a folder and then each next name through
// /proc/self/fd/<fd>/<name> (proc(5): the fd link resolves to the opened folder itself, whatever its
// path now names), with O_NOFOLLOW on every component. Nothing is resolved through a path someone could
// have changed since, and a symbolic link anywhere gives ELOOP (or ENOTDIR) instead of its target. The
// last component is opened with O_NONBLOCK (a FIFO opens at once instead of waiting for a writer) and
// checked with fstat on the open descriptor. Where /proc/self/fd does not exist (not Linux), each folder
// is checked with lstat before it is entered instead, which a writer racing between the two could defeat
// (such a writer can change the folder anyway).
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readdir } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, type ErrorCode, FormatError } from '../errors.js';

// (libuv opens every file with O_CLOEXEC already.)
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_WRONLY, O_CREAT, O_EXCL } = constants;
const FILE_FLAGS = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
const FOLDER_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;

/** Whether names can be opened relative to an open folder (Linux's /proc/self/fd). */
const FD_RELATIVE = existsSync('/proc/self/fd');

/** The path that opens `name` inside the open folder `folder`. */
function beneath(folder: FileHandle, name: string): string {
  return `/proc/self/fd/${folder.fd}/${name}`;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Linux answers ELOOP for O_NOFOLLOW on a link; FreeBSD EMLINK, NetBSD EFTYPE. */
function linkRefusal(code: string | undefined): boolean {
  return code === 'ELOOP' || code === 'EMLINK' || code === 'EFTYPE';
}

// ---- Files of an untrusted folder (a log, a build result): missing is undefined, a refusal a FormatError.

/** What is wrong with a file that exists but may not be read. */
export type RefusedFileReason = 'symlink' | 'not-regular' | 'too-large';

/** A file refused by openUntrustedFile / readUntrustedFile. Its message never holds file content. */
export class RefusedFileError extends FormatError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly reason: RefusedFileReason,
  ) {
    super(code, message);
  }
}

const CODES: Record<RefusedFileReason, ErrorCode> = {
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

const missing = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/**
 * Opens the folder that holds the last component of `parts` below the trusted folder `root` (which may
 * itself be reached through links: the caller named it), entering no symbolic link; undefined if a
 * component does not exist or is not a folder.
 */
async function openParent(root: string, parts: readonly string[], what: string): Promise<FileHandle | undefined> {
  let folder: FileHandle;
  try {
    folder = await open(root, O_RDONLY | O_DIRECTORY);
  } catch (error) {
    if (missing(error)) return undefined;
    throw error;
  }
  for (const [i, part] of parts.slice(0, -1).entries()) {
    let next: FileHandle;
    try {
      next = await open(beneath(folder, part), FOLDER_FLAGS);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // O_DIRECTORY | O_NOFOLLOW on a link answers ELOOP or ENOTDIR: lstat (relative to the folder) says which.
      const link = (linkRefusal(code) || code === 'ENOTDIR') && (await lstat(beneath(folder, part)).catch(() => undefined))?.isSymbolicLink();
      await folder.close();
      if (link) throw refused('symlink', what, `is reached through the symbolic link ${parts.slice(0, i + 1).join('/')}; it is never followed`);
      if (missing(error)) return undefined;
      throw error;
    }
    await folder.close();
    folder = next;
  }
  return folder;
}

/** The lstat walk where folders cannot be opened relative to a descriptor (see the top of this file). */
async function openByPath(root: string, parts: readonly string[], what: string): Promise<FileHandle | undefined> {
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
      if (missing(error)) return undefined;
      throw error;
    });
    if (!info) return undefined;
    if (info.isSymbolicLink()) throw refused('symlink', what, `is reached through the symbolic link ${path.relative(root, dir)}; it is never followed`);
    if (!info.isDirectory()) return undefined;
  }
  try {
    return await open(path.join(dir, parts[parts.length - 1]!), FILE_FLAGS);
  } catch (error) {
    if (missing(error)) return undefined;
    if (linkRefusal((error as NodeJS.ErrnoException).code)) throw refused('symlink', what, 'is a symbolic link; it is never followed');
    throw error;
  }
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
  let handle: FileHandle | undefined;
  if (FD_RELATIVE) {
    const parent = await openParent(root, parts, what);
    if (!parent) return undefined;
    try {
      handle = await open(beneath(parent, parts[parts.length - 1]!), FILE_FLAGS);
    } catch (error) {
      if (missing(error)) return undefined;
      if (linkRefusal((error as NodeJS.ErrnoException).code)) throw refused('symlink', what, 'is a symbolic link; it is never followed');
      throw error;
    } finally {
      await parent.close();
    }
  } else {
    handle = await openByPath(root, parts, what);
    if (!handle) return undefined;
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
    // One byte more than allowed tells a file that grew past the limit after fstat.
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

/** Opens `path` with `flags`, closing nothing; the errno code on failure. */
function tryOpenSync(file: string, flags: number): number | NodeJS.ErrnoException {
  try {
    return openSync(file, flags);
  } catch (error) {
    return error as NodeJS.ErrnoException;
  }
}

/**
 * readUntrustedFile with synchronous system calls: the same walk (fd-relative where /proc/self/fd
 * exists, else lstat), the same checks in the same order and the same refusals. For reading many small
 * files in a batch (verifying a log folder reads thousands of tiles): each asynchronous call costs ten to
 * twenty times the CPU of its synchronous twin.
 */
export function readUntrustedFileSync(root: string, relative: string, maxBytes: number, what = relative): Uint8Array | undefined {
  const parts = components(relative);
  const last = parts[parts.length - 1]!;
  let fd: number;
  if (FD_RELATIVE) {
    const top = tryOpenSync(root, O_RDONLY | O_DIRECTORY);
    if (typeof top !== 'number') {
      if (missing(top)) return undefined;
      throw top;
    }
    let folder = top;
    try {
      for (const [i, part] of parts.slice(0, -1).entries()) {
        const next = tryOpenSync(`/proc/self/fd/${folder}/${part}`, FOLDER_FLAGS);
        if (typeof next !== 'number') {
          const code = next.code;
          const link = (linkRefusal(code) || code === 'ENOTDIR') && isLink(`/proc/self/fd/${folder}/${part}`);
          if (link) throw refused('symlink', what, `is reached through the symbolic link ${parts.slice(0, i + 1).join('/')}; it is never followed`);
          if (missing(next)) return undefined;
          throw next;
        }
        closeSync(folder);
        folder = next;
      }
      const opened = tryOpenSync(`/proc/self/fd/${folder}/${last}`, FILE_FLAGS);
      if (typeof opened !== 'number') {
        if (missing(opened)) return undefined;
        if (linkRefusal(opened.code)) throw refused('symlink', what, 'is a symbolic link; it is never followed');
        throw opened;
      }
      fd = opened;
    } finally {
      closeSync(folder);
    }
  } else {
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      dir = path.join(dir, part);
      const info = lstatSync(dir, { throwIfNoEntry: false });
      if (!info) return undefined;
      if (info.isSymbolicLink()) throw refused('symlink', what, `is reached through the symbolic link ${path.relative(root, dir)}; it is never followed`);
      if (!info.isDirectory()) return undefined;
    }
    const opened = tryOpenSync(path.join(dir, last), FILE_FLAGS);
    if (typeof opened !== 'number') {
      if (missing(opened)) return undefined;
      if (linkRefusal(opened.code)) throw refused('symlink', what, 'is a symbolic link; it is never followed');
      throw opened;
    }
    fd = opened;
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

// ---- What a build left in its work tree: everything must be there, anything odd is an EnvironmentError.

function buildRefusal(where: string, error: unknown, opened = where): EnvironmentError {
  const code = (error as NodeJS.ErrnoException).code;
  // O_DIRECTORY | O_NOFOLLOW on a link gives ENOTDIR: say which it was.
  const link = (code === 'ELOOP' || code === 'ENOTDIR') && isLink(opened);
  const why = link || code === 'ELOOP' ? 'is a symbolic link' : code === 'ENOTDIR' ? 'is not a folder' : code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(error)})`;
  return new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${where} ${why}: refusing to read what the build left there`);
}

/** Opens the folder `dir`, refusing a symbolic link as its last component (the caller owns its parents). */
export async function openFolder(dir: string): Promise<FileHandle> {
  try {
    return await open(dir, FOLDER_FLAGS);
  } catch (error) {
    throw buildRefusal(dir, error);
  }
}

/**
 * Opens `relative` (a/b/c) beneath the open folder `root` (named `rootName` in messages), following no
 * symbolic link on the way: every component but the last must be a folder, the last a regular file
 * (`file`) or a folder (`folder`). Linux only (/proc/self/fd); the build sandbox is Linux only too.
 */
export async function openBeneath(root: FileHandle, rootName: string, relative: string, kind: 'file' | 'folder'): Promise<FileHandle> {
  const parts = relative.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) throw new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${relative} is not a plain relative path`);
  let current = root;
  try {
    for (const [i, part] of parts.entries()) {
      const last = i === parts.length - 1;
      const flags = O_RDONLY | O_NOFOLLOW | (last && kind === 'file' ? 0 : O_DIRECTORY);
      let next: FileHandle;
      try {
        next = await open(beneath(current, part), flags);
      } catch (error) {
        throw buildRefusal(path.join(rootName, ...parts.slice(0, i + 1)), error, beneath(current, part));
      }
      if (current !== root) await current.close();
      current = next;
    }
    if (kind === 'file' && !(await current.stat()).isFile()) throw new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${path.join(rootName, relative)} is not a regular file`);
    return current;
  } catch (error) {
    if (current !== root) await current.close().catch(() => {});
    throw error;
  }
}

/**
 * Copies the regular files directly in `relative` beneath `root` into the new folder `to` (which must not
 * exist; created 0755, files 0644, owned by us). Refuses links and anything that is not a regular file.
 * Returns the names copied, sorted.
 */
export async function copyFilesOut(root: string, relative: string, to: string): Promise<string[]> {
  const top = await openFolder(root);
  try {
    const folder = await openBeneath(top, root, relative, 'folder');
    const where = path.join(root, relative);
    try {
      // readdir through the folder's fd: the listing is of the folder opened, not of what the path names now.
      const entries = await readdir(`/proc/self/fd/${folder.fd}`, { withFileTypes: true });
      const odd = entries.filter((entry) => !entry.isFile()).map((entry) => entry.name);
      if (odd.length > 0) throw new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${where} holds entries that are not regular files: ${odd.slice(0, 10).join(', ')}`);
      await mkdir(to, { mode: 0o755 });
      const names = entries.map((entry) => entry.name).sort();
      for (const name of names) {
        const source = await openBeneath(folder, where, name, 'file');
        try {
          const target = await open(path.join(to, name), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
          try {
            const buffer = Buffer.allocUnsafe(4 << 20);
            let position = 0;
            for (;;) {
              const { bytesRead } = await source.read(buffer, 0, buffer.length, position);
              if (bytesRead === 0) break;
              await target.write(buffer, 0, bytesRead);
              position += bytesRead;
            }
            await target.sync();
          } finally {
            await target.close();
          }
        } finally {
          await source.close();
        }
      }
      return names;
    } finally {
      await folder.close();
    }
  } finally {
    await top.close();
  }
}
