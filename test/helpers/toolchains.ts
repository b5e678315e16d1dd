// Fixtures for the sumdb scan tests: toolchain records, a witness log with release tags, the CLI run
// asynchronously (the fake database is served by the test process, so spawnSync would block it).
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { spawn } from 'node:child_process';
import path from 'node:path';
import { WitnessLog } from '../../src/log/log.js';
import { formatGoSumRecord } from '../../src/sumdb/record.js';
import { tagRecordToLogRecord } from '../../src/tags/record.js';
import { ROOT, WITNESS_BIN, testSignerKey } from './fixtures.js';

/** The CLI, asynchronously: the fake database is served by this process. */
export function witness(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WITNESS_BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

export const h1 = (seed: string) => `h1:${Buffer.alloc(32, seed).toString('base64')}`;
export function toolchainText(goVersion: string, target: string, seed = 'z'): string {
  return formatGoSumRecord({ path: 'golang.org/toolchain', version: `v0.0.1-${goVersion}.${target.replace('/', '-')}`, hash: h1(`${goVersion}${target}${seed}`), goModHash: h1('m') });
}

export function tag(name: string, firstSeen: string, seed: number) {
  const oid = (seed + 0x10).toString(16).padStart(2, '0').repeat(20);
  return tagRecordToLogRecord({
    event: 'new',
    ref: `refs/tags/${name}`,
    pointer: { object: oid, objectType: 'commit', target: oid, targetType: 'commit', tree: oid },
    repository: 'https://go.googlesource.com/go',
    firstSeen,
  });
}

export async function witnessLogWithTags(dir: string, key = testSignerKey('example.com/scan-log', 51)) {
  const { log } = await WitnessLog.init(path.join(dir, 'log'), key.signerKey);
  await log.append([tag('go1.21.0', '2023-08-08T00:00:00Z', 1), tag('go1.22.0', '2024-02-06T00:00:00Z', 2), tag('go1.20.14', '2024-02-06T00:00:00Z', 3)], key.signerKey);
  return { log, key };
}

