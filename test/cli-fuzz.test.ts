// Fuzzing the command line (fast-check): at least 2,000 generated command lines, in-process through
// run(argv, io): random commands and subcommands, known and unknown options, values from a pool of real
// paths, URLs on loopback, versions, targets, keys and junk, in random orders. No run may throw, print
// an internal error or a stack trace, exit other than 0, 1 or 2, or (with --json) print anything but one
// JSON document; and no run may change a log it points at, unless it is a command that writes and it
// succeeded (the signing key is in the environment, so a command that acted and then complained would
// be caught). Network: loopback only (a guard around fetch refuses anything else; git may use file:
// only).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import yargs from 'yargs';
import { COMMAND_TREE } from '../src/cli/main.js';
import { type CommandNode, commandName, flagRequested } from '../src/cli/arguments.js';
import { recordRepoTags } from '../src/tags/update.js';
import { ROOT, git, tempDir } from './helpers/fixtures.js';
import { TEST_KEY, commit, makeRepo, newTagLog, serveFolder, type StaticServer } from './helpers/tag-repo.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord, type SumdbTestServer } from './helpers/sumdb-server.js';
import { gitState, runCli, snapshotTree } from './helpers/cli.js';

const RUNS = Number(process.env.WITNESS_FUZZ_RUNS ?? 2000);
const WRITERS = new Set(['tags', 'ingest', 'init', 'sumdb']);

const T = tempDir('witness-cli-fuzz-');
let logDir: string;
let goRepo: string;
let sumdbServer: SumdbTestServer;
let logServer: StaticServer;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();
const realFetch = globalThis.fetch;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

before(async () => {
  process.chdir(T);
  goRepo = makeRepo(path.join(T, 'go'));
  git(goRepo, 'tag', 'go1.21.0');
  const made = await newTagLog(path.join(T, 'signable'));
  logDir = made.dir;
  await recordRepoTags(made.log, goRepo, TEST_KEY.signerKey);
  commit(goRepo, 'next');
  git(goRepo, 'tag', 'go1.21.1');
  const sumdb = new SumdbTestLog();
  for (let i = 0; i < 5; i++) sumdb.append(syntheticGoSumRecord(i));
  sumdbServer = await startSumdbServer(sumdb);
  logServer = await serveFolder(logDir);
  mkdirSync(path.join(T, 'scratch'));
  writeFileSync(path.join(T, 'file.txt'), 'just a file\n');
  writeFileSync(path.join(T, 'open.key'), `${TEST_KEY.skey}\n`, { mode: 0o644 }); // refused: readable by others
  process.env = {
    ...savedEnv,
    WITNESS_SIGNING_KEY: TEST_KEY.skey,
    WITNESS_STATE_DIR: path.join(T, 'state'),
    GIT_ALLOW_PROTOCOL: 'file',
    GIT_TERMINAL_PROMPT: '0',
    GOMODCACHE: path.join(T, 'modcache'),
  };
  delete process.env.WITNESS_COSIGNER_KEY;
  delete process.env.GITHUB_TOKEN;
  delete process.env.WITNESS_DEBUG;
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!isLoopback(url)) return Promise.reject(new TypeError(`fetch failed: ${url.host} is not loopback (refused by the fuzz test)`));
    return realFetch(input, init);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});

after(async () => {
  globalThis.fetch = realFetch;
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  process.chdir(savedCwd);
  process.env = savedEnv;
  await sumdbServer?.close();
  await logServer?.close();
});

/** The log this test signs (read after every run: no git process). The embedded log is compared at the end. */
function protectedState(): string {
  const gitDir = path.join(path.dirname(logDir), '.git');
  const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '-');
  const head = read(path.join(gitDir, 'HEAD'));
  const ref = head.startsWith('ref: ') ? read(path.join(gitDir, head.slice(5).trim())) : head;
  return [snapshotTree(path.dirname(logDir), { skipGit: true }), ref, read(path.join(gitDir, 'packed-refs'))].join('\n--\n');
}

function commandPaths(nodes: readonly CommandNode[], prefix: string[] = []): string[][] {
  return nodes.flatMap((node) => {
    const here = [...prefix, commandName(node.module)];
    return [here, ...commandPaths(node.subcommands ?? [], here)];
  });
}

function optionNames(): string[] {
  const names = new Set(['log', 'json', 'debug', 'help', 'version']);
  const visit = (nodes: readonly CommandNode[]) => {
    for (const node of nodes) {
      const probe = yargs([]);
      if (typeof node.module.builder === 'function') node.module.builder(probe);
      for (const key of Object.keys((probe as unknown as { getOptions(): { key: Record<string, unknown> } }).getOptions().key)) if (!/[A-Z]/.test(key)) names.add(key);
      visit(node.subcommands ?? []);
    }
  };
  visit(COMMAND_TREE);
  return [...names];
}

test(`${RUNS} generated command lines: no crash, no stack trace, exit 0/1/2, --json total, no log changed by a refused or read-only command`, { timeout: 600_000 }, async () => {
  const paths = commandPaths(COMMAND_TREE);
  const flags = optionNames();
  const values = [
    logDir, goRepo, path.join(T, 'file.txt'), path.join(T, 'open.key'), T, path.join(T, 'nonexistent'), path.join(T, 'scratch', 'new'),
    path.join(T, 'no-such-dir', 'k'), 'witness-log', '.', '-', '',
    logServer.url, sumdbServer.url, 'http://127.0.0.1:9/', 'ftp://127.0.0.1/x', 'https://', 'x:y',
    'go1.21.0', 'go1.21.1', 'go1.4', 'go1.21', 'go1.99.0', 'linux/amd64', 'linux/foo', 'darwin/arm64', 'a/b/c',
    sumdbServer.log.verifierKey, TEST_KEY.vkey, 'a+b+c', 'example.com/tag-log', 'example.com/x',
    'golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64', 'x@', '@v1',
    '0', '1', '-1', '1e3', 'NaN', '256', '99999999999999999999', ' ', 'a b', '\n', '\u0000', '127.0.0.1:0', '[::1]:x', 'me/repo', 'gh-pages', '..', 'true', 'false',
  ];
  const value = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
  const flag = fc.constantFrom(...flags);
  const token = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(flag, value).map(([name, v]) => [`--${name}`, v]) },
    { weight: 2, arbitrary: flag.map((name) => [`--${name}`]) },
    { weight: 1, arbitrary: fc.tuple(flag, value).map(([name, v]) => [`--${name}=${v}`]) },
    { weight: 1, arbitrary: flag.map((name) => [`--no-${name}`]) },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 10 }).map((name) => [`--${name}`]) },
    { weight: 1, arbitrary: fc.constantFrom('-h', '-x', '--', '-', '--help', '--version', '--json', '--debug').map((t) => [t]) },
    { weight: 2, arbitrary: value.map((v) => [v]) },
  );
  const command = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: fc.constant<string[]>([]) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((w) => [w]) });
  const argvArb = fc.tuple(command, fc.array(token, { maxLength: 7 }), fc.nat()).map(([cmd, tokens, at]) => {
    const rest = tokens.flat();
    const i = rest.length === 0 ? 0 : at % (rest.length + 1);
    // Mostly the command first (as people type it), sometimes after some options.
    const argv = at % 4 === 0 ? [...rest.slice(0, i), ...cmd, ...rest.slice(i)] : [...cmd, ...rest];
    // The checksum database commands default to the real one: give them the loopback one (a later --url makes it a repeat).
    if (cmd[0] === 'sumdb' || cmd[0] === 'ingest') argv.push(cmd[0] === 'ingest' ? '--sumdb-url' : '--url', sumdbServer.url);
    return argv;
  });

  let baseline = protectedState();
  const embedded = snapshotTree(path.join(ROOT, 'witness-log'));
  const stats = { runs: 0, codes: new Map<number, number>(), changed: 0 };
  const started = performance.now();
  const timing = new Map<string, [number, number]>();
  await fc.assert(
    fc.asyncProperty(argvArb, async (argv) => {
      const t0 = performance.now();
      const result = await Promise.race([
        runCli(argv),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${JSON.stringify(argv)}`)), 15_000).unref()),
      ]);
      stats.runs++;
      const key = argv.find((t) => !t.startsWith('-')) ?? '-';
      const spent = timing.get(key) ?? [0, 0];
      timing.set(key, [spent[0] + 1, spent[1] + performance.now() - t0]);
      stats.codes.set(result.code, (stats.codes.get(result.code) ?? 0) + 1);
      const what = JSON.stringify(argv);
      assert.ok([0, 1, 2].includes(result.code), `${what}: exit ${result.code}`);
      assert.doesNotMatch(result.stderr, /internal error/, `${what}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${what}: a stack trace`);
      // --help and --version print text (README: "--json"), whatever else is on the line.
      const helpOrVersion = argv.some((t) => /^(-h|--h|--help|--version)(=(?!false$).*)?$/.test(t));
      if (flagRequested(argv, 'json') && !helpOrVersion && !argv.slice(0, argv.indexOf('--') >>> 0).includes('serve')) {
        assert.doesNotThrow(() => JSON.parse(result.stdout), `${what}: --json stdout is not one JSON document: ${JSON.stringify(result.stdout.slice(0, 200))}`);
      }
      const now = protectedState();
      if (now !== baseline) {
        const writer = WRITERS.has(argv.find((t) => !t.startsWith('-')) ?? '') && !argv.includes('--dry-run');
        assert.ok(result.code === 0 && writer, `${what}: exit ${result.code} changed a log it points at\n${result.stderr}`);
        stats.changed++;
        baseline = now;
      }
      assert.equal(uncaught.length, 0, `${what}: uncaught ${String(uncaught[0])}`);
    }),
    { numRuns: RUNS, ...(process.env.WITNESS_FUZZ_SEED ? { seed: Number(process.env.WITNESS_FUZZ_SEED) } : {}) },
  );
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`# fuzz: ${stats.runs} command lines in ${seconds.toFixed(1)} s; exit codes ${JSON.stringify(Object.fromEntries(stats.codes))}; ${stats.changed} legitimate writes\n`);
  if (process.env.WITNESS_FUZZ_TIMING) for (const [k, [n, ms]] of [...timing].sort((a, b) => b[1][1] - a[1][1]).slice(0, 12)) process.stderr.write(`#   ${k}: ${n} runs, ${ms.toFixed(0)} ms\n`);
  assert.ok(stats.runs >= RUNS);
  // The full git state once at the end: HEAD and status of the log's repository are what the cheap snapshot said.
  assert.match(gitState(logDir), /^[0-9a-f]{40}\n$/, 'the log repository is clean');
  // No run changed the embedded log either (commands without --log use it; nobody here holds its key).
  assert.equal(snapshotTree(path.join(ROOT, 'witness-log')), embedded);
});
