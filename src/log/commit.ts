// Committing the log folder to git with plumbing: a private index, write-tree, commit-tree, then a
// compare-and-swap of HEAD (update-ref with the old value). An append never runs hooks, never depends on
// the user's index being clean, and becomes visible in one atomic ref update; a crash at any point
// leaves HEAD at the old commit or the new one (src/log/recovery.ts finishes the rest).
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_PREFIX } from '../infra/files.js';
import { type GitLocation, git, gitText, headCommit } from '../infra/git.js';
import { crashPoint } from './crash-points.js';

/** Identity used for log commits when git has none configured. */
const COMMIT_IDENTITY = { name: 'go-source-witness', email: 'go-source-witness@localhost' };

/** Commits the log folder as it is on disk: a private index, commit-tree, and a compare-and-swap of HEAD. */
export async function commitLogFolder(location: GitLocation, message: string): Promise<string> {
  const cwd = location.topLevel;
  const pathspec = literalPathspec(location.prefix);
  const head = await headCommit(cwd);
  const indexFile = path.join(location.gitDir, `go-source-witness-index-${process.pid}`);
  const env = { GIT_INDEX_FILE: indexFile };
  try {
    // Our private index (and a lock on it left by a dead process that had our pid) is ours to reset.
    await rm(indexFile, { force: true });
    await rm(`${indexFile}.lock`, { force: true });
    if (head) await git(['read-tree', head], { cwd, env });
    await git(['add', '--all', '--force', '--', pathspec, `:(exclude,glob)${globEscape(location.prefix === '' ? '' : `${location.prefix}/`)}**/${TEMP_PREFIX}*`], { cwd, env });
    const tree = (await gitText(['write-tree'], { cwd, env })).trim();
    crashPoint('after-private-index');
    if (head && (await gitText(['rev-parse', `${head}^{tree}`], { cwd })).trim() === tree) return head;
    const identity = await commitIdentity(cwd);
    const commit = (
      await gitText(['commit-tree', tree, ...(head ? ['-p', head] : []), '-F', '-'], { cwd, input: message, env: identity })
    ).trim();
    // Stage the new state in the user's index first (log folder only): if we die before the ref moves,
    // the index holds a forward change that a later `git commit` would commit, never a rollback.
    await git(['reset', '--quiet', commit, '--', pathspec], { cwd, okCodes: [1] });
    crashPoint('after-index-reset');
    // Compare-and-swap: fails if HEAD moved since we read it (another writer outside our lock).
    await git(['update-ref', '-m', 'go-source-witness: append', 'HEAD', commit, head ?? '0'.repeat(40)], { cwd });
    crashPoint('after-update-ref');
    return commit;
  } finally {
    await rm(indexFile, { force: true });
  }
}

/** Git identity for log commits: the configured one, else a fixed witness identity. */
async function commitIdentity(cwd: string): Promise<Record<string, string>> {
  const configured = await git(['var', 'GIT_AUTHOR_IDENT'], { cwd, okCodes: [128] });
  if (configured.code === 0) return {};
  return {
    GIT_AUTHOR_NAME: COMMIT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: COMMIT_IDENTITY.email,
    GIT_COMMITTER_NAME: COMMIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: COMMIT_IDENTITY.email,
  };
}

/** A pathspec that matches `prefix` literally (no glob characters), relative to the top level. */
export function literalPathspec(prefix: string): string {
  return prefix === '' ? ':(literal).' : `:(literal)${prefix}`;
}

/** Escapes glob characters, for a folder name inside a glob pathspec. */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
