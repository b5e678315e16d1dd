// Fixtures for log tests: temporary git repositories, test keys, records.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { LogRecord } from '../../src/log/record.js';
import { type SignerKey } from '../../src/tlog/note.js';
import { generateKeyPair, parseSignerKey } from '../../src/tlog-node/signer.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WITNESS_BIN = path.join(ROOT, 'bin', 'witness.js');

const made: string[] = [];
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'witness-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A deterministic test key (seeded), so failures reproduce. */
export function testSignerKey(name = 'example.com/test-log', seedByte = 7): { signerKey: SignerKey; skey: string; vkey: string } {
  const { signerKey, verifierKey } = generateKeyPair(name, new Uint8Array(32).fill(seedByte));
  return { signerKey: parseSignerKey(signerKey), skey: signerKey, vkey: verifierKey };
}

/** Writes a key file with mode 0600 (outside any repository) and returns its path. */
export function writeKeyFile(skey: string, mode = 0o600): string {
  const file = path.join(tempDir('witness-key-'), 'log.key');
  writeFileSync(file, `${skey}\n`, { mode });
  chmodSync(file, mode);
  return file;
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
  });
}

export function testRecords(count: number, offset = 0, type = 'test'): LogRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    type,
    version: 1,
    fields: [
      { key: 'n', value: String(offset + i) },
      { key: 'note', value: `synthetic record ${offset + i}` },
    ],
  }));
}

export function flipByte(file: string, offset: number): void {
  const data = readFileSync(file);
  const at = offset < 0 ? data.length + offset : offset;
  data[at] = data[at]! ^ 0x01;
  writeFileSync(file, data);
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function runWitness(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [WITNESS_BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
