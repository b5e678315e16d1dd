// Reading what a build left behind without following a link it could have planted.
//
// Node has no openat(2); the same effect comes from opening a folder (O_DIRECTORY | O_NOFOLLOW) and then
// each next name through /proc/self/fd/<fd>/<name> (proc(5): the fd link resolves to the opened folder
// itself, whatever its path now names), with O_NOFOLLOW on every component. Nothing is resolved through
// a path the build could have changed, and a symbolic link anywhere gives ELOOP instead of its target.
import { constants, lstatSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';

// (libuv opens every file with O_CLOEXEC already.)
const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_WRONLY, O_CREAT, O_EXCL } = constants;

function refusal(where: string, error: unknown, opened = where): EnvironmentError {
  const code = (error as NodeJS.ErrnoException).code;
  // O_DIRECTORY | O_NOFOLLOW on a link gives ENOTDIR: say which it was.
  const link = (code === 'ELOOP' || code === 'ENOTDIR') && isLink(opened);
  const why = link || code === 'ELOOP' ? 'is a symbolic link' : code === 'ENOTDIR' ? 'is not a folder' : code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(error)})`;
  return new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${where} ${why}: refusing to read what the build left there`);
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Opens the folder `dir`, refusing a symbolic link as its last component (the caller owns its parents). */
export async function openFolder(dir: string): Promise<FileHandle> {
  try {
    return await open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    throw refusal(dir, error);
  }
}

/**
 * Opens `relative` (a/b/c) beneath the folder `root`, following no symbolic link on the way: every
 * component but the last must be a folder, the last a regular file (`file`) or a folder (`folder`).
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
        next = await open(`/proc/self/fd/${current.fd}/${part}`, flags);
      } catch (error) {
        throw refusal(path.join(rootName, ...parts.slice(0, i + 1)), error, `/proc/self/fd/${current.fd}/${part}`);
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
  const { mkdir, readdir } = await import('node:fs/promises');
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
