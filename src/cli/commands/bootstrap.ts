import type { Argv, CommandModule } from 'yargs';
import { field, printError, printJson, printLines } from '../output.js';
import { progress } from '../progress.js';
import type { BootstrapRoot } from '../../rebuild/bootstrap.js';

interface BootstrapArgs {
  release: string;
  goRepo: string;
  root: string;
  cc?: string;
  acceptBranchHead: boolean;
  out: string;
  log?: string;
  vkey?: string;
  sandbox: boolean;
  dryRun: boolean;
  json: boolean;
}

export const bootstrapCommand: CommandModule = {
  command: 'bootstrap <release>',
  describe: 'Build, from the same git repository, the bootstrap toolchain(s) a release needs (gorebuild\'s BootstrapVersion rule), starting from a root: a toolchain (GOROOT) or Go 1.4 built from C (--root c); prints the GOROOT to pass to build --bootstrap',
  builder: (yargs: Argv) =>
    yargs
      .positional('release', { type: 'string', demandOption: true, describe: 'The release to be built, e.g. go1.22.0' })
      .option('go-repo', { type: 'string', demandOption: true, describe: 'The Go git repository' })
      .option('root', { type: 'string', alias: 'from', default: '/usr/lib/go-1.19', describe: 'The root: a toolchain (GOROOT) taken as is, e.g. Debian\'s golang-1.19-go, or "c": Go 1.4 built from C from the repository\'s release-branch.go1.4 (--cc)' })
      .option('cc', { type: 'string', choices: ['gcc', 'clang'], describe: 'With --root c: the C compiler (/usr/bin/gcc or /usr/bin/clang); default gcc' })
      .option('accept-branch-head', { type: 'boolean', default: false, describe: 'With --root c: build from release-branch.go1.4 even if its head is not the one the witness log recorded (the new head is logged at ingest)' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder for the bootstrap toolchains (<out>/<version>/ and <version>.bootstrap.json)' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log' })
      .option('sandbox', { type: 'boolean', default: true, describe: 'Run make.bash in the bubblewrap sandbox (--no-sandbox: without namespaces; loud, and recorded)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only print the chain (each toolchain\'s tag commit and tree, checked against the log), e.g. for a cache key; builds nothing' }),
  handler: async (parsed) => {
    const args = parsed as unknown as BootstrapArgs;
    const { buildBootstrapChain, gorootVersion, planBootstrapChain } = await import('../../rebuild/bootstrap.js');
    const { assertNoKeyInEnvironment } = await import('../../rebuild/make.js');
    const { prepareSandbox } = await import('../../rebuild/sandbox.js');
    const { checkTagAgainstLog } = await import('../../rebuild/build.js');
    const { openVerifiedTagLog } = await import('../tag-log.js');
    assertNoKeyInEnvironment();
    const { UsageError } = await import('../../errors.js');
    const fromC = args.root === 'c';
    if (!fromC && (args.cc !== undefined || args.acceptBranchHead)) throw new UsageError('BAD_ARGUMENTS', '--cc and --accept-branch-head are for --root c');
    const tagLog = await openVerifiedTagLog(args.log, args.vkey);
    if (args.dryRun) {
      // Go 1.4 from C starts the chain at go1.4 (its branch head is checked when it is built).
      const rootVersion = fromC ? 'go1.4' : await gorootVersion(args.root);
      const minor = /^go1\.([0-9]+)/.exec(rootVersion);
      if (!minor) throw new UsageError('BAD_BOOTSTRAP', `the root toolchain ${args.root} has version ${rootVersion}, not go1.N`);
      const steps = await planBootstrapChain(args.release, Number(minor[1]), args.goRepo);
      const chain = [];
      for (const version of steps) {
        const { commit, tree } = await checkTagAgainstLog(args.goRepo, version, tagLog);
        chain.push({ version, commit, tree });
      }
      const rootLabel = fromC ? `go1.4 from C (${args.cc ?? 'gcc'})` : `${rootVersion} (${args.root})`;
      if (args.json) {
        printJson({ release: args.release, root: fromC ? { c: args.cc ?? 'gcc', version: rootVersion } : { goroot: args.root, version: rootVersion }, chain });
        return;
      }
      printLines([
        `Bootstrap for ${args.release} from ${rootLabel}: ${chain.length ? chain.map((b) => b.version).join(' <- ') : 'nothing to build'}`,
        ...chain.map((b) => field(b.version, `commit ${b.commit} tree ${b.tree}`)),
      ]);
      return;
    }
    const sandbox = prepareSandbox({ noSandbox: !args.sandbox });
    if (sandbox.kind === 'none') printError(`WARNING: --no-sandbox: make.bash runs without namespaces (${sandbox.description})`);
    let root: BootstrapRoot;
    if (fromC) {
      const { detectCompiler, GO14_BRANCH } = await import('../../rebuild/c-root.js');
      const { recordedBranchHeads } = await import('../../rebuild/bootstrap-record.js');
      const { openVerifiedRecords } = await import('../tag-log.js');
      const compiler = detectCompiler(args.cc ?? 'gcc');
      const { records } = await openVerifiedRecords(args.log, args.vkey);
      const recordedHead = recordedBranchHeads(records).get(GO14_BRANCH);
      root = { kind: 'c', compiler, acceptBranchHead: args.acceptBranchHead, ...(recordedHead ? { recordedHead } : {}) };
    } else {
      root = { kind: 'goroot', goroot: args.root };
    }
    const result = await buildBootstrapChain(args.release, {
      repository: args.goRepo,
      root,
      out: args.out,
      checkTag: (version) => checkTagAgainstLog(args.goRepo, version, tagLog),
      sandbox,
      onProgress: (message) => progress().line(message),
    });
    if (args.json) {
      printJson(result);
      return;
    }
    printLines([
      `Bootstrap for ${args.release}: ${result.chain.map((b) => b.version).join(' <- ')}`,
      ...result.chain.map((b) => field(b.version, `${b.hash}${b.root === 'c' ? ` from C by ${b.compiler}, ${b.branch} at ${b.commit}` : b.commit ? ` commit ${b.commit}` : ' (root toolchain, taken as is)'}`)),
      ...(result.branchHead ? [field('branch head', result.branchHead)] : []),
      field('built now', result.built.length ? result.built.join(', ') : 'nothing (all present and intact)'),
      result.goroot,
    ]);
  },
};
