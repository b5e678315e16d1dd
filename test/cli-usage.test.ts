// The command line refuses a mistake before it acts: every command (enumerated from the yargs command
// tree in src/cli/main.ts) run with an unknown option and with each required option missing, against a
// copy of the embedded log and a log this test can sign (the signing key is in the environment, so a
// command that went ahead would append), with a witness state and a cosigner key. Each run must exit 2
// with one line naming the flag, no stack trace, and leave the logs, their git history, the state and a
// scratch folder byte-identical. In-process (run(argv, io)), except one spawned run of the real bin.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import yargs from 'yargs';
import { createHash } from 'node:crypto';
import { COMMAND_TREE, reportFailure } from '../src/cli/main.js';
import { type CommandNode, commandName, positionals } from '../src/cli/arguments.js';
import { ProgressReporter } from '../src/cli/progress.js';
import { recordRepoTags } from '../src/tags/update.js';
import { BUILD_RESULT_SCHEMA, buildResultFileName, checkBuildResult, serializeBuildResult, type BuildResult } from '../src/rebuild/result.js';
import { WITNESS_VERSION } from '../src/version.js';
import { ROOT, git, runWitness, tempDir, testSignerKey } from './helpers/fixtures.js';
import { TEST_KEY, commit, makeRepo, newTagLog } from './helpers/tag-repo.js';
import { makeGoRepo, makeRootToolchain } from './helpers/go-fixture.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord, type SumdbTestServer } from './helpers/sumdb-server.js';
import { gitState, runCli, snapshotTree } from './helpers/cli.js';

const MIRROR = '/work/.mirror/tmaxmax+go-1/repo';
const COSIGNER = testSignerKey('example.com/usage-witness', 21);

const T = tempDir('witness-cli-usage-');
const scratch = path.join(T, 'scratch');
const stateDir = path.join(T, 'state');
let copyLog: string; // a copy of witness-log/ in a git repository of its own
let signLog: string; // a log signed by TEST_KEY (in WITNESS_SIGNING_KEY), one tag behind goRepo
let goRepo: string;
let server: SumdbTestServer;
let sumdb: SumdbTestLog;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();

/** Everything a refused command must leave as it was. */
function snapshot(): string {
  return [
    snapshotTree(path.dirname(copyLog), { skipGit: true }),
    gitState(copyLog),
    snapshotTree(path.dirname(signLog), { skipGit: true }),
    gitState(signLog),
    snapshotTree(stateDir),
    snapshotTree(scratch),
    snapshotTree(path.join(ROOT, 'witness-log')),
  ].join('\n--\n');
}

before(async () => {
  mkdirSync(scratch);
  // No ./witness-log in the current folder: a command without --log would use the embedded one.
  process.chdir(T);
  const copyRepo = path.join(T, 'copy');
  mkdirSync(copyRepo);
  git(copyRepo, 'init', '--quiet');
  cpSync(path.join(ROOT, 'witness-log'), path.join(copyRepo, 'witness-log'), { recursive: true });
  git(copyRepo, 'add', '--all');
  git(copyRepo, 'commit', '--quiet', '-m', 'a copy of the embedded log');
  copyLog = path.join(copyRepo, 'witness-log');

  goRepo = makeRepo(path.join(T, 'go'));
  git(goRepo, 'tag', 'go1.21.0');
  const signable = await newTagLog(path.join(T, 'signable'));
  signLog = signable.dir;
  await recordRepoTags(signable.log, goRepo, TEST_KEY.signerKey);
  // A tag the log has not recorded: `witness tags` that went ahead would append it.
  commit(goRepo, 'next');
  git(goRepo, 'tag', 'go1.21.1');

  sumdb = new SumdbTestLog();
  for (let i = 0; i < 20; i++) sumdb.append(syntheticGoSumRecord(i));
  server = await startSumdbServer(sumdb);

  process.env.WITNESS_SIGNING_KEY = TEST_KEY.skey;
  process.env.WITNESS_COSIGNER_KEY = COSIGNER.skey;
  process.env.WITNESS_STATE_DIR = stateDir;
  delete process.env.WITNESS_DEBUG;
  delete process.env.GITHUB_TOKEN;
  // A real witness state: one cosigned head of the test sumdb.
  const seeded = await runCli(['sumdb', 'cosign', '--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--no-record', '--log', signLog]);
  assert.equal(seeded.code, 0, seeded.stderr);
  sumdb.append(syntheticGoSumRecord(20)); // the next cosign would write the state
});

after(async () => {
  process.chdir(savedCwd);
  process.env = savedEnv;
  await server?.close();
});

// Values for the required options and positionals of every command (a new required option must be added
// here, or the test fails naming it), and options that make a command that went ahead act for real on
// loopback and in the scratch folder.
const sample = (): Record<string, string> => {
  const file = path.join(T, 'some-file.txt');
  writeFileSync(file, 'not a tarball\n');
  const logs = path.join(T, 'logs.txt');
  writeFileSync(logs, `logs/v0\nvkey ${sumdb.verifierKey}\norigin go.sum database tree\n`);
  return {
    release: 'go1.21.1',
    'go-repo': goRepo,
    out: path.join(scratch, 'out'),
    origin: 'example.com/new-log',
    tag: 'go1.21.1',
    tarball: file,
    results: file,
    module: 'golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64',
    logs,
  };
};

const extra = (): Record<string, string[]> => ({
  'sumdb cosign': ['--url', server.url, '--sumdb-vkey', sumdb.verifierKey],
  'sumdb lookup': ['--url', server.url, '--sumdb-vkey', sumdb.verifierKey],
  'sumdb scan': ['--url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--state', path.join(scratch, 'state')],
  ingest: ['--offline'],
  serve: ['--listen', '127.0.0.1:0'],
  build: ['--bootstrap', T, '--work', scratch],
  bootstrap: ['--from', T],
  init: ['--generate-key', '--key', path.join(scratch, 'new.key')],
  compare: ['--repo', goRepo],
  tags: [],
});

interface Leaf {
  readonly path: string[];
  readonly node: CommandNode;
}

function commands(nodes: readonly CommandNode[], prefix: string[] = []): Leaf[] {
  return nodes.flatMap((node) => {
    const here = [...prefix, commandName(node.module)];
    return [{ path: here, node }, ...commands(node.subcommands ?? [], here)];
  });
}

/** The required options of a command, read from its yargs builder (positionals are in its command string). */
function requiredOptions(node: CommandNode): string[] {
  const probe = yargs([]);
  const builder = node.module.builder;
  if (typeof builder === 'function') builder(probe);
  const demanded = (probe as unknown as { getOptions(): { demandedOptions: Record<string, unknown> } }).getOptions().demandedOptions;
  const positional = new Set(positionals(node.module).map((p) => p.name));
  return Object.keys(demanded).filter((name) => !positional.has(name));
}

function assertRefused(result: { code: number; stdout: string; stderr: string }, names: RegExp, what: string): void {
  assert.equal(result.code, 2, `${what}: exit ${result.code}\n${result.stderr}${result.stdout}`);
  assert.equal(result.stdout, '', `${what}: nothing on stdout`);
  assert.match(result.stderr, /^witness: [^\n]+\n$/, `${what}: one line on stderr, got ${JSON.stringify(result.stderr)}`);
  assert.match(result.stderr, names, `${what}: names the flag`);
  assert.doesNotMatch(result.stderr, /internal error|\n\s+at |TypeError|Error:/, `${what}: no stack trace`);
}

describe('every command refuses a mistake before it acts', () => {
  test('the tree has every command', () => {
    const names = commands(COMMAND_TREE).map((leaf) => leaf.path.join(' '));
    for (const name of ['tags', 'verify', 'publish', 'build', 'ingest', 'check', 'sumdb cosign', 'sumdb lookup', 'sumdb scan', 'serve', 'init']) assert.ok(names.includes(name), name);
  });

  test('unknown options and each missing required option: exit 2, one line naming it, nothing changed', async () => {
    const values = sample();
    const extras = extra();
    const before = snapshot();
    let runs = 0;
    for (const { path: commandPath, node } of commands(COMMAND_TREE)) {
      const key = commandPath.join(' ');
      const required = requiredOptions(node);
      // A command with subcommands names them in its command string (sumdb <command>): tested apart below.
      const wanted = node.subcommands ? [] : positionals(node.module).filter((p) => p.required);
      for (const name of [...required, ...wanted.map((p) => p.name)]) assert.ok(values[name] !== undefined, `no sample value for ${key}'s required ${name}`);
      const positionalArgs = (omit?: string) => wanted.filter((p) => p.name !== omit).map((p) => values[p.name]!);
      const optionArgs = (omit?: string) => required.filter((name) => name !== omit).flatMap((name) => [`--${name}`, values[name]!]);
      const logs = key === 'init' ? [path.join(scratch, 'new-log')] : [signLog, copyLog];
      for (const log of logs) {
        const base = (omit?: string) => [...commandPath, ...positionalArgs(omit), ...optionArgs(omit), ...(extras[key] ?? []), '--log', log];
        // An unknown option, at the end and first.
        assertRefused(await runCli([...base(), '--bogus-flag', 'x']), /--bogus-flag/, `${key} --bogus-flag`);
        assertRefused(await runCli(['--bogus-flag=1', ...base()]), /--bogus-flag/, `--bogus-flag=1 ${key}`);
        runs += 2;
        if (node.subcommands) {
          assertRefused(await runCli(base()), new RegExp(`needs a command: ${node.subcommands.map((child) => commandName(child.module)).join(', ')}`), `${key} without a command`);
          runs++;
          continue;
        }
        for (const name of required) {
          assertRefused(await runCli(base(name)), new RegExp(`--${name}\\b`), `${key} without --${name}`);
          runs++;
        }
        for (const { name } of wanted) {
          assertRefused(await runCli(base(name)), new RegExp(`<${name}>`), `${key} without <${name}>`);
          runs++;
        }
      }
      // With --json: one JSON document on stdout, the error.
      const json = await runCli([...commandPath, '--json', '--bogus-flag']);
      assert.equal(json.code, 2);
      assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object), ['error']);
      assert.equal((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'UNKNOWN_OPTION', key);
      assert.match((JSON.parse(json.stdout) as { error: { message: string } }).error.message, /--bogus-flag/);
    }
    assertRefused(await runCli(['--bogus-flag']), /--bogus-flag/, 'witness --bogus-flag');
    assertRefused(await runCli([]), /name a command/, 'witness');
    assert.ok(runs > 40, `${runs} runs`);
    assert.equal(snapshot(), before, 'logs, git history, state and scratch folder unchanged');
  });

  test('the snapshot sees a change: a valid append and a cosign change it', async () => {
    const before = snapshot();
    const copy = path.join(T, 'control');
    cpSync(path.dirname(signLog), copy, { recursive: true });
    const appended = await runCli(['tags', '--go-repo', goRepo, '--log', path.join(copy, 'log')]);
    assert.equal(appended.code, 0, appended.stderr);
    assert.match(appended.stdout, /Appended 1 tag records/);
    assert.notEqual(snapshotTree(copy, { skipGit: true }), snapshotTree(path.dirname(signLog), { skipGit: true }));
    assert.equal(snapshot(), before);
  });

  test('witness tags --go-repo DIR --dryrun (the typo of --dry-run) leaves the log byte-identical', async () => {
    const before = snapshot();
    const mirror = await runCli(['tags', '--go-repo', MIRROR, '--log', copyLog, '--dryrun']);
    assertRefused(mirror, /unknown option --dryrun; did you mean --dry-run\?/, 'tags --dryrun');
    // The real bin, against the log it could sign, with a new tag to append and the key in the environment.
    const spawned = runWitness(['tags', '--go-repo', goRepo, '--log', signLog, '--dryrun'], { cwd: T });
    assertRefused(spawned, /--dryrun/, 'bin/witness.js tags --dryrun');
    assert.equal(snapshot(), before);
  });

  test('publish without --out: exit 2 naming it, no internal error', async () => {
    assertRefused(await runCli(['publish', '--log', copyLog]), /missing required --out/, 'publish');
  });

  test('a group command with an empty subcommand and --json never exits 0 silently (CLI fuzz seed 394683214)', async () => {
    const before = snapshot();
    const run = await runCli(['sumdb', '--json', '', '--', '--url', server.url]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    const error = (JSON.parse(run.stdout) as { error: { code: string; message: string; exitCode: number } }).error;
    assert.equal(error.code, 'MISSING_COMMAND');
    assert.equal(error.exitCode, 2);
    assert.match(error.message, /witness sumdb needs a command: cosign, lookup, scan/);
    assert.match(run.stderr, /^witness: [^\n]+\n$/);
    assert.equal(snapshot(), before);
  });

  test('a line whose only words come after -- never exits 0 silently (CLI fuzz seed 1593901264)', async () => {
    const before = snapshot();
    const run = await runCli(['--json', '--', copyLog]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    const error = (JSON.parse(run.stdout) as { error: { code: string; message: string; exitCode: number } }).error;
    assert.equal(error.code, 'MISSING_COMMAND');
    assert.match(error.message, /name a command before --/);
    assert.match(run.stderr, /^witness: [^\n]+\n$/);
    assertRefused(await runCli(['--', 'tags', '--log', copyLog]), /name a command before --/, '-- tags');
    assertRefused(await runCli(['--log', copyLog, '--', 'verify']), /name a command before --/, '--log L -- verify');
    assert.equal(snapshot(), before);
  });

  test('--no-X of an option that takes a value is refused (the CLI fuzz found check --no-download crashing)', async () => {
    assertRefused(await runCli(['check', '--no-download', '--log', copyLog]), /--no-download is not an option: --download takes a value/, 'check --no-download');
    assertRefused(await runCli(['ingest', '--no-recheck', '--log', copyLog]), /--no-recheck is not an option/, 'ingest --no-recheck');
  });

  test('check --gomodcache /nonexistent exits 2', async () => {
    assertRefused(await runCli(['check', '--gomodcache', '/nonexistent', '--log', copyLog]), /--gomodcache \/nonexistent: no such folder/, 'check');
  });

  test('malformed values are refused by the flag: versions, targets, URLs, keys, numbers, repeats', async () => {
    const before = snapshot();
    const cases: Array<[string[], RegExp]> = [
      [['build', 'go1.21', '--go-repo', goRepo, '--out', scratch], /<release>: "?go1\.21"? is not a Go release version/],
      [['build', 'go1.21.0', '--go-repo', goRepo, '--out', scratch, '--target', 'linux'], /--target: "?linux"? is not a target/],
      [['plan', '--target', 'linux/amd64/x', '--log', copyLog], /--target/],
      [['sumdb', 'cosign', '--url', 'ftp://x', '--log', signLog], /--url ftp:\/\/x is not an http\(s\) URL/],
      [['sumdb', 'cosign', '--via', 'not a url', '--log', signLog], /--via "not a url" is not an http\(s\) URL/],
      [['ingest', path.join(T, 'some-file.txt'), '--sumdb-url', 'x', '--log', signLog], /--sumdb-url x is not an http/],
      [['verify', '--vkey', 'nonsense', '--log', copyLog], /--vkey: not a verifier key/],
      [['sumdb', 'lookup', 'x@v1', '--sumdb-vkey', 'a+b+c'], /--sumdb-vkey: not a verifier key/],
      [['log', '--limit', 'ten', '--log', copyLog], /--limit takes a whole number/],
      [['log', '--from', '-1', '--log', copyLog], /--from takes a whole number/],
      [['publish', '--out', scratch, '--out', T, '--log', copyLog], /--out is given more than once/],
      [['publish', '--out', path.join(scratch, 'site'), '--branch', 'a..b', '--log', copyLog], /--branch a\.\.b is not a valid branch name/],
      [['publish', '--out', path.join(scratch, 'site'), '--github', 'nope', '--log', copyLog], /--github nope is not OWNER\/REPO/],
      [['tags', '--go-repo', '/nonexistent/go', '--log', signLog], /--go-repo \/nonexistent\/go: no such folder/],
      [['tags', '--go-repo', goRepo, '--remote', 'https://x/ y', '--log', signLog], /--remote/],
      [['tags', '--go-repo', '', '--log', signLog], /--go-repo needs a value/],
      [['tags', '--go-repo', goRepo, '--log', 'https://127.0.0.1:1/log/'], /witness tags needs the log folder/],
      [['tags', '--go-repo', goRepo, '--dry-run=yes', '--log', signLog], /--dry-run takes no value/],
      [['init', '--origin', 'a b', '--log', path.join(scratch, 'l')], /--origin "a b" is not a key name/],
      [['init', '--origin', 'example.com/x', '--generate-key', '--key', path.join(scratch, 'k'), '--log', signLog], /is not empty/],
      [['serve', '--logs', path.join(T, 'logs.txt'), '--listen', 'nowhere'], /--listen "?nowhere"?: want HOST:PORT/],
      [['sumdb', 'lookup', 'no-version'], /<module> no-version: want module@version/],
      [['compare', 'extra', '--repo', goRepo, '--log', copyLog], /unexpected argument extra/],
      [['verify', 'extra', '--log', copyLog], /unexpected argument extra/],
      [['frobnicate'], /unknown command frobnicate/],
      [['sumdb', 'scna', '--log', signLog], /unknown command "sumdb scna"/],
      [['sumdb', '', '--log', signLog], /witness sumdb needs a command: cosign, lookup, scan/],
      // The CLI fuzz (seed 394683214): an empty subcommand, then options after `--`, exited 0 doing nothing.
      [['sumdb', '', '--', '--url', server.url], /witness sumdb needs a command/],
      [['sumdb', 'scan', '--from', '5x', '--log', signLog], /--from takes a whole number >= 0, not 5x/],
      [['tagz', '--go-repo', goRepo], /unknown command tagz; did you mean tags\?/],
      [['plan', '--target', 'linux/amd64', '--all-ports', goRepo, '--log', copyLog], /--target and --all-ports cannot be used together/],
    ];
    for (const [argv, message] of cases) assertRefused(await runCli(argv), message, argv.join(' '));
    assert.equal(snapshot(), before);
  });

  test('build --target linux/foo fails before exporting anything; a real port gets past that check', async () => {
    const env = { ...process.env };
    delete process.env.WITNESS_SIGNING_KEY;
    delete process.env.WITNESS_COSIGNER_KEY;
    try {
      const repo = makeGoRepo({ releases: [{ version: 'go1.21.0' }] });
      const { dir: logDir, log } = await newTagLog(path.join(T, 'build-log'));
      await recordRepoTags(log, repo.dir, TEST_KEY.signerKey);
      const work = path.join(T, 'build-work');
      const out = path.join(T, 'build-out');
      mkdirSync(work);
      const root = makeRootToolchain();
      const before = [snapshotTree(work), snapshotTree(out), snapshotTree(logDir, { skipGit: true }), gitState(logDir)].join('\n');
      const args = ['build', 'go1.21.0', '--go-repo', repo.dir, '--log', logDir, '--out', out, '--work', work, '--bootstrap', root];
      const foo = await runCli([...args, '--target', 'linux/amd64', '--target', 'linux/foo']);
      assertRefused(foo, /linux\/foo is not a port of go1\.21\.0 \(its src\/cmd\/dist\/build\.go lists \d+/, 'build --target linux/foo');
      assert.equal([snapshotTree(work), snapshotTree(out), snapshotTree(logDir, { skipGit: true }), gitState(logDir)].join('\n'), before, 'nothing exported or written');
      // The fixture's build.go marks linux/sparc64 broken: not a port either.
      assertRefused(await runCli([...args, '--target', 'linux/sparc64']), /linux\/sparc64 is not a port/, 'broken port');
    } finally {
      process.env = env;
    }
  });

  test('ingest refuses a failed result whose target is not a port; the same failure for a real port is a valid result', async () => {
    const failed = (target: string): BuildResult => ({
      schema: BUILD_RESULT_SCHEMA,
      version: 'go1.21.0',
      target,
      env: {},
      tag: { ref: 'refs/tags/go1.21.0', commit: 'c'.repeat(40), tree: 'd'.repeat(40), logIndex: '0', logOrigin: 'example.com/tag-log' },
      bootstrap: [{ version: 'go1.19.8', hash: `h1:${Buffer.alloc(32, 1).toString('base64')}` }],
      builder: { name: 'go-source-witness', version: WITNESS_VERSION, node: process.version, platform: 'linux/x64', user: 'nobody' },
      started: '2024-05-06T07:08:09Z',
      outcome: 'failed',
      seconds: 3,
      log: { name: `go1.21.0.${target.replace('/', '-')}.${createHash('sha256').update('log\n').digest('hex')}.log`, size: 4, sha256: createHash('sha256').update('log\n').digest('hex') },
      failure: { phase: 'make-bash', reason: `unsupported GOOS/GOARCH pair ${target}` },
    });
    assert.doesNotThrow(() => checkBuildResult(failed('linux/amd64')));
    assert.throws(() => checkBuildResult(failed('linux/foo')), /target linux\/foo is not a port of go1\.21\.0/);
    const dir = path.join(T, 'results');
    mkdirSync(dir);
    // What a build of linux/foo wrote before build checked ports: canonical bytes, content-addressed name.
    const real = failed('linux/amd64');
    const bytes = Buffer.from(serializeBuildResult(real).toString('utf8').replaceAll('linux/amd64', 'linux/foo').replaceAll('linux-amd64', 'linux-foo'));
    const name = buildResultFileName(real, bytes).replace('linux-amd64', 'linux-foo');
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    writeFileSync(path.join(dir, failed('linux/foo').log.name), 'log\n');
    const before = snapshot();
    const refused = await runCli(['ingest', file, '--log', signLog, '--offline']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /^witness: FAILED: build result .*target linux\/foo is not a port of go1\.21\.0.*\[BAD_BUILD_RESULT\]\n$/);
    assert.equal(snapshot(), before);
  });
});

describe('errors, --json, --version, -h, progress', () => {
  test('an error that is not a WitnessError: one line, the stack only with --debug; --json gets a document', () => {
    const capture = (json: boolean, debug: boolean) => {
      let stdout = '';
      let stderr = '';
      const code = reportFailure(new TypeError("Cannot read properties of undefined (reading 'x')\n  more"), {
        io: { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, stdin: [] as unknown as AsyncIterable<unknown> },
        json,
        debug,
        exitCode: 0,
        wroteStdout: false,
      });
      return { code, stdout, stderr };
    };
    const plain = capture(false, false);
    assert.equal(plain.code, 2);
    assert.equal(plain.stderr, "witness: internal error: Cannot read properties of undefined (reading 'x') more (run with --debug for the stack)\n");
    assert.equal(plain.stdout, '');
    const debug = capture(false, true);
    assert.match(debug.stderr, /^witness: internal error: .*\nTypeError: .*\n\s+at /s);
    const json = capture(true, false);
    assert.deepEqual(JSON.parse(json.stdout), { error: { code: 'INTERNAL_ERROR', message: "internal error: Cannot read properties of undefined (reading 'x') more", category: 'internal', exitCode: 2 } });
  });

  test('--json: one document on success and on failure (a log that does not exist)', async () => {
    const ok = await runCli(['verify', '--log', copyLog, '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { ok: boolean }).ok, true);
    assert.equal(ok.stderr, '', 'progress is quiet with --json');
    const missing = await runCli(['verify', '--log', path.join(T, 'no-log'), '--json']);
    assert.equal(missing.code, 2);
    assert.deepEqual((JSON.parse(missing.stdout) as { error: { code: string } }).error.code, 'LOG_NOT_FOUND');
  });

  test('--version is package.json\'s; -h is --help', async () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(await runCli(['--version']), { code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const short = await runCli(['-h']);
    const long = await runCli(['--help']);
    assert.equal(short.code, 0);
    assert.equal(short.stdout, long.stdout);
    assert.match(short.stdout, /Exit codes/);
    assert.match((await runCli(['tags', '-h'])).stdout, /--dry-run/);
  });

  test('progress: one line per phase when stderr is not a terminal, redrawn counts and rate on a terminal', async () => {
    const verify = await runCli(['verify', '--log', copyLog]);
    assert.equal(verify.code, 0, verify.stderr);
    const size = readFileSync(path.join(copyLog, 'checkpoint'), 'utf8').split('\n')[1];
    assert.match(verify.stderr, new RegExp(`^witness: verifying entries: ${size} entries(, [\\d,]+ entries/s)? in [\\d.]+ (ms|s)\nwitness: checking git history: 1 commit(, .*)? in .*\n$`));
    let clock = 0;
    let text = '';
    const tty = new ProgressReporter({ write: (t: string) => (text += t) }, true, false, () => clock);
    tty.event({ phase: 'hashing', done: 0, total: 100, unit: 'bytes' });
    clock = 1000;
    tty.event({ phase: 'hashing', done: 50 * 1024 * 1024, total: 100 * 1024 * 1024, unit: 'bytes' });
    clock = 1050; // throttled: not drawn
    tty.event({ phase: 'hashing', done: 60 * 1024 * 1024, unit: 'bytes' });
    tty.event({ phase: 'fetching', retry: { reason: 'HTTP 503', waitMs: 400, attempt: 1 } });
    clock = 3000;
    tty.finish();
    assert.match(text, /\r\x1b\[Khashing: 50\.0 MiB of 100 MiB, 50\.0 MiB\/s \(1 s\)/);
    assert.match(text, /witness: fetching: HTTP 503; retry 1 in 400 ms\n/);
    assert.match(text, /\r\x1b\[Kwitness: hashing: 60\.0 MiB, 20\.0 MiB\/s in 3 s\n$/);
    let quiet = '';
    const json = new ProgressReporter({ write: (t: string) => (quiet += t) }, true, true);
    json.event({ phase: 'x', done: 1 });
    json.line('make.bash');
    json.finish();
    assert.equal(quiet, '');
  });
});
