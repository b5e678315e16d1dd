// Fixtures for the tag tests: small git repositories with tags, tag logs, refs git refuses to create
// (written into packed-refs), an async CLI runner and a static HTTP server for a log folder.
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { type AddressInfo } from 'node:net';
import http from 'node:http';
import path from 'node:path';
import { WitnessLog } from '../../src/log/log.js';
import { parseRecord } from '../../src/log/record.js';
import { type TagRecord, parseTagRecord } from '../../src/tags/record.js';
import { type CliResult, WITNESS_BIN, ROOT, git, tempDir, testSignerKey } from './fixtures.js';

export const TEST_KEY = testSignerKey('example.com/tag-log', 11);

/** A repository with one empty commit (and the branch `main`). */
export function makeRepo(parent = tempDir('witness-tags-')): string {
  const repo = path.join(parent, 'repo');
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '--quiet', '--initial-branch=main');
  commit(repo, 'first');
  return repo;
}

/** An empty commit; returns its id. */
export function commit(repo: string, message: string): string {
  git(repo, 'commit', '--quiet', '--allow-empty', '-m', message);
  return revParse(repo, 'HEAD');
}

export function revParse(repo: string, rev: string): string {
  return git(repo, 'rev-parse', '--verify', '--quiet', rev).trim();
}

/** A new, empty tag log signed by TEST_KEY, in its own git repository. */
export async function newTagLog(parent = tempDir('witness-taglog-')): Promise<{ dir: string; log: WitnessLog }> {
  const dir = path.join(parent, 'log');
  const { log } = await WitnessLog.init(dir, TEST_KEY.signerKey);
  return { dir, log };
}

/** `git show-ref --tags` output; empty when the repository has no tags (git then exits 1). */
export function showRefTags(repo: string, ...extra: string[]): string {
  const result = spawnSync('git', ['show-ref', '--tags', ...extra], { cwd: repo, encoding: 'utf8' });
  if (result.status !== 0 && !(result.status === 1 && result.stdout === '')) {
    throw new Error(`git show-ref failed (${result.status}): ${result.stderr}`);
  }
  return result.stdout;
}

export function readTagsTxt(logDir: string): string {
  return readFileSync(path.join(logDir, 'tags.txt'), 'utf8');
}

/** The log's tag records with their indexes (read without verification: for assertions only). */
export async function tagRecords(logDir: string): Promise<Array<{ index: number; tag: TagRecord }>> {
  const log = await WitnessLog.open(logDir);
  const { checkpoint } = await log.readCheckpoint();
  const entries = await log.readEntries(0n, checkpoint.size);
  return entries
    .map((entry, index) => ({ index, record: parseRecord(entry) }))
    .filter(({ record }) => record.type === 'tag')
    .map(({ index, record }) => ({ index, tag: parseTagRecord(record) }));
}

/** HEAD of the git repository holding the log. */
export function logHead(logDir: string): string {
  return git(logDir, 'rev-parse', 'HEAD').trim();
}

/**
 * Adds refs to the repository's packed-refs file by hand (git refuses to create names like these):
 * packs every ref first, then rewrites the file sorted by bytes under git's own header.
 */
export function injectPackedRefs(repo: string, refs: ReadonlyArray<{ ref: Buffer | string; object: string }>): void {
  git(repo, 'pack-refs', '--all');
  const file = path.join(repo, '.git', 'packed-refs');
  const text = readFileSync(file);
  const lines: Buffer[] = [];
  let header = Buffer.from('# pack-refs with: peeled fully-peeled sorted \n');
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf(0x0a, start);
    if (end < 0) end = text.length;
    const line = text.subarray(start, end);
    if (line[0] === 0x23 /* # */) header = Buffer.concat([line, Buffer.from('\n')]);
    else if (line.length > 0) lines.push(Buffer.from(line));
    start = end + 1;
  }
  for (const { ref, object } of refs) {
    lines.push(Buffer.concat([Buffer.from(`${object} `), Buffer.isBuffer(ref) ? ref : Buffer.from(ref, 'utf8')]));
  }
  // Peeled lines (^...) belong right after their ref; refs we add are lightweight, so sort only ref lines
  // while keeping any ^ line attached to the line before it.
  const groups: Buffer[][] = [];
  for (const line of lines) {
    if (line[0] === 0x5e /* ^ */ && groups.length > 0) groups[groups.length - 1]!.push(line);
    else groups.push([line]);
  }
  const refOf = (group: Buffer[]) => group[0]!.subarray(group[0]!.indexOf(0x20) + 1);
  groups.sort((a, b) => Buffer.compare(refOf(a), refOf(b)));
  writeFileSync(file, Buffer.concat([header, ...groups.flat().map((line) => Buffer.concat([line, Buffer.from('\n')]))]));
}

/**
 * The CLI, spawned asynchronously: needed when the test process itself serves the log over HTTP
 * (runWitness's spawnSync would block the server), and handy to run independent commands in parallel.
 * Killed after `timeoutMs` (default 120 s; real builds pass more).
 */
export function runWitnessAsync(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WITNESS_BIN, ...args], { cwd: options.cwd ?? ROOT, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

export interface StaticServer {
  readonly url: string;
  /** Paths (relative, slash-separated) answered with 404 even if the file exists. */
  readonly hidden: Set<string>;
  close(): Promise<void>;
}

/** A static file server over `dir` on 127.0.0.1 (port chosen by the system). */
export async function serveFolder(dir: string): Promise<StaticServer> {
  const hidden = new Set<string>();
  const server = http.createServer((request, response) => {
    const relative = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    const file = path.join(dir, ...relative.split('/'));
    const inside = !path.relative(dir, file).startsWith('..');
    const info = inside && !hidden.has(relative) ? statOrUndefined(file) : undefined;
    if (request.method !== 'GET' || !info?.isFile()) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': info.size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    hidden,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function statOrUndefined(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

/** An environment without a signing key, so a run that needs one fails. */
export function envWithoutKey(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.WITNESS_SIGNING_KEY;
  return env;
}
