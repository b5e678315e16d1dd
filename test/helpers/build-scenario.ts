// Build scenarios for end-to-end tests of `witness build`, `ingest` and `bootstrap` through the CLI: a
// Go-like repository with a stand-in make.bash (go-fixture.ts), a log with its tags recorded, a key.
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, type BuildRecord } from '../../src/rebuild/record.js';
import { parseBuildResult, type BuildResult, type BuiltResult } from '../../src/rebuild/result.js';
import { WitnessLog } from '../../src/log/log.js';
import { parseRecord } from '../../src/log/record.js';
import { type CliResult, git, tempDir, testSignerKey, writeKeyFile } from './fixtures.js';
import { type FixtureRelease, type GoRepo, makeGoRepo, makeRootToolchain } from './go-fixture.js';
import { runWitnessAsync } from './tag-repo.js';

export interface BuildJson {
  target: string;
  outcome: 'built' | 'failed';
  resultFile: string;
  seconds: number;
  makeSeconds: number;
  distpackDir?: string;
}

export interface IngestJson {
  builds: Array<{
    resultFile: string;
    status: string;
    index?: string;
    alreadyAt?: string;
    record: { version: string; target: string; env: string[]; outcome: string; failure?: string; verdicts: Array<{ file: string; status: string; source: string; detail: string }>; evidence: Array<{ source: string; detail: string }> };
  }>;
  appended?: { oldSize: string; newSize: string; commit: string };
  conflicts: string[];
}

/** The caller's environment without key variables (a build refuses to start with one). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.WITNESS_SIGNING_KEY;
  delete env.WITNESS_COSIGNER_KEY;
  return { ...env, ...extra };
}

export function witness(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliResult> {
  return runWitnessAsync(args, { env });
}

export function describeRun(result: CliResult): string {
  return `exit ${result.code}\n--- stderr\n${result.stderr.slice(-3000)}\n--- stdout\n${result.stdout.slice(-3000)}`;
}

export function expectCode(result: CliResult, code: number, what: string): void {
  assert.equal(result.code, code, `${what}: ${describeRun(result)}`);
}

export interface Scenario {
  readonly repo: GoRepo;
  readonly root: string;
  readonly logDir: string;
  readonly keyFile: string;
  readonly origin: string;
  readonly vkey: string;
}

export async function logState(logDir: string): Promise<{ size: bigint; head: string }> {
  const log = await WitnessLog.open(logDir);
  const { checkpoint } = await log.readCheckpoint();
  return { size: checkpoint.size, head: git(logDir, 'rev-parse', 'HEAD').trim() };
}

/** The log's build records, with their indexes and texts (read without verification: for assertions). */
export async function buildRecords(logDir: string): Promise<Array<{ index: bigint; build: BuildRecord; text: string }>> {
  const log = await WitnessLog.open(logDir);
  const { checkpoint } = await log.readCheckpoint();
  const entries = await log.readEntries(0n, checkpoint.size);
  return entries
    .map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry), text: Buffer.from(entry).toString('utf8') }))
    .filter(({ record }) => record.type === BUILD_RECORD_TYPE)
    .map(({ index, record, text }) => ({ index, build: buildRecordFromLogRecord(record), text }));
}

export function buildArgs(s: Scenario, version: string, out: string, options: { targets?: string[]; bootstrap?: string; work?: string } = {}): string[] {
  const targets = options.targets ?? ['linux/amd64'];
  return ['build', version, '--log', s.logDir, '--go-repo', s.repo.dir, ...targets.flatMap((t) => ['--target', t]), '--bootstrap', options.bootstrap ?? s.root, '--out', out, ...(options.work ? ['--work', options.work] : []), '--json'];
}

export function ingestArgs(s: Scenario, files: readonly string[], ...extra: string[]): string[] {
  return ['ingest', ...files, '--log', s.logDir, '--key', s.keyFile, ...extra];
}

export function parseBuilds(result: CliResult): BuildJson[] {
  return JSON.parse(result.stdout) as BuildJson[];
}

export function readResult(file: string): BuildResult {
  return parseBuildResult(readFileSync(file), path.basename(file));
}

export function builtResult(file: string): BuiltResult {
  const result = readResult(file);
  assert.equal(result.outcome, 'built', file);
  return result as BuiltResult;
}

export function buildLogText(resultFile: string): string {
  return readFileSync(path.join(path.dirname(resultFile), readResult(resultFile).log.name), 'utf8');
}

export function buildsTxt(logDir: string): string[] {
  return readFileSync(path.join(logDir, 'builds.txt'), 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The variables a bash started with the scrubbed environment has (bash adds PWD, SHLVL and _). */
export function expectedEnvironmentNames(extra: string[] = []): string {
  return ['GOARCH', 'GOOS', 'GOROOT_BOOTSTRAP', 'GOTOOLCHAIN', 'HOME', 'LANG', 'PATH', 'PWD', 'SHELL', 'SHLVL', 'TMPDIR', '_', ...extra].sort().join(' ');
}

/** Copies a result and its build log into a new folder (for tampering). */
export function copyResult(file: string, dir = tempDir('witness-tamper-')): string {
  const result = readResult(file);
  copyFileSync(path.join(path.dirname(file), result.log.name), path.join(dir, result.log.name));
  const copy = path.join(dir, path.basename(file));
  copyFileSync(file, copy);
  return copy;
}

export async function newScenario(options: {
  releases?: readonly FixtureRelease[];
  origin: string;
  seed: number;
  viaCli?: boolean;
  /** Folders others may enter, for the key and the log (hostile builds try to reach them). */
  world?: string;
  repo?: (paths: { keyFile: string; logDir: string }) => GoRepo;
}): Promise<Scenario> {
  const key = testSignerKey(options.origin, options.seed);
  let keyFile: string;
  let logDir: string;
  if (options.world) {
    const keyDir = path.join(options.world, 'keys');
    mkdirSync(keyDir, { mode: 0o755 });
    chmodSync(keyDir, 0o755);
    keyFile = path.join(keyDir, 'log.key');
    writeFileSync(keyFile, `${key.skey}\n`, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    logDir = path.join(options.world, 'log');
  } else {
    keyFile = writeKeyFile(key.skey);
    logDir = path.join(tempDir('witness-build-log-'), 'log');
  }
  const repo = options.repo ? options.repo({ keyFile, logDir }) : makeGoRepo(options.releases ? { releases: options.releases } : {});
  const root = makeRootToolchain();
  if (options.viaCli) {
    expectCode(await witness(['init', '--log', logDir, '--origin', options.origin, '--key', keyFile]), 0, 'witness init');
  } else {
    await WitnessLog.init(logDir, key.signerKey);
  }
  const s: Scenario = { repo, root, logDir, keyFile, origin: options.origin, vkey: key.vkey };
  expectCode(await witness(['tags', '--log', logDir, '--go-repo', repo.dir, '--key', keyFile]), 0, 'witness tags');
  return s;
}

/** Every regular file below `dir` (not following links), and every symbolic link with its target. */
export function walk(dir: string): { files: string[]; links: Array<{ file: string; target: string }> } {
  const files: string[] = [];
  const links: Array<{ file: string; target: string }> = [];
  const visit = (d: string) => {
    for (const name of readdirSync(d)) {
      const full = path.join(d, name);
      const info = lstatSync(full);
      if (info.isSymbolicLink()) links.push({ file: full, target: readlinkSync(full) });
      else if (info.isDirectory()) visit(full);
      else if (info.isFile()) files.push(full);
    }
  };
  visit(dir);
  return { files, links };
}

/** Which of `secrets` appear in which files below `dir` (the secrets themselves are never printed). */
export function secretsBelow(dir: string, secrets: Record<string, string>): string[] {
  const found: string[] = [];
  for (const file of walk(dir).files) {
    const content = readFileSync(file).toString('latin1');
    for (const [name, secret] of Object.entries(secrets)) if (content.includes(secret)) found.push(`${name} in ${path.relative(dir, file)}`);
  }
  return found;
}
