// The CLI run in-process (src/cli/main.ts run(argv, io)) with captured stdout and stderr, and snapshots
// of what a command must not change: a folder's files (names, modes, bytes), a git repository's HEAD and
// status.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../../src/cli/main.js';

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function runCli(argv: readonly string[], options: { stdin?: string; stderrIsTTY?: boolean } = {}): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const code = await run(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.stderrIsTTY ?? false },
    stdin,
  });
  return { code, stdout, stderr };
}

/** Every entry below `dir` with its kind, mode and content hash (links by target); `.git` skipped if asked. */
export function snapshotTree(dir: string, options: { skipGit?: boolean } = {}): string {
  const lines: string[] = [];
  const visit = (relative: string) => {
    const full = path.join(dir, relative);
    let names: string[];
    try {
      names = readdirSync(full).sort();
    } catch {
      lines.push(`${relative || '.'}: absent`);
      return;
    }
    for (const name of names) {
      if (options.skipGit && name === '.git') continue;
      const child = path.join(relative, name);
      const info = lstatSync(path.join(dir, child));
      const mode = (info.mode & 0o7777).toString(8);
      if (info.isSymbolicLink()) lines.push(`${child} link ${readlinkSync(path.join(dir, child))}`);
      else if (info.isDirectory()) {
        lines.push(`${child}/ ${mode}`);
        visit(child);
      } else lines.push(`${child} ${mode} ${createHash('sha256').update(readFileSync(path.join(dir, child))).digest('hex')}`);
    }
  };
  visit('');
  return lines.join('\n');
}

/** `git rev-parse HEAD` and `git status --porcelain --ignored` of the repository holding `dir`. */
export function gitState(dir: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' });
  return `${git('rev-parse', 'HEAD')}${git('status', '--porcelain', '--ignored', '--untracked-files=all')}`;
}
