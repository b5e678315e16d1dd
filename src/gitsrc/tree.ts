// Reading objects of the Go repository by revision and tree, with the git binary.
import { git } from '../infra/git.js';

/** The object id `rev` names in `repository` (`git rev-parse --verify`), or undefined if it names none. */
export async function resolveRevision(repository: string, rev: string): Promise<string | undefined> {
  const result = await git(['rev-parse', '--verify', '--quiet', rev], { cwd: repository, okCodes: [1, 128] });
  return result.code === 0 ? result.stdout.toString('utf8').trim() : undefined;
}

export interface TreeEntry {
  /** Git's mode: 100644, 100755, 120000 (symbolic link), 160000 (submodule), ... */
  readonly mode: string;
  readonly type: string;
  readonly oid: string;
  /** Slash-separated path from the tree's root, as stored (git ls-tree -z: no quoting). */
  readonly name: string;
}

/** Every entry below `tree`, recursively (`git ls-tree -r -z --full-tree`), in git's order. */
export async function listTree(repository: string, tree: string): Promise<TreeEntry[]> {
  const listing = await git(['ls-tree', '-r', '-z', '--full-tree', tree], { cwd: repository });
  const entries: TreeEntry[] = [];
  for (const record of listing.stdout.toString('utf8').split('\0')) {
    if (record === '') continue;
    const tab = record.indexOf('\t');
    const [mode = '', type = '', oid = ''] = record.slice(0, tab).split(' ');
    entries.push({ mode, type, oid, name: record.slice(tab + 1) });
  }
  return entries;
}
