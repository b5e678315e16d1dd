import type { Argv, CommandModule } from 'yargs';
import { field, printError, printJson, printLines } from '../output.js';
import { progress } from '../progress.js';

interface BootstrapArgs {
  release: string;
  goRepo: string;
  from: string;
  out: string;
  log?: string;
  vkey?: string;
  sandbox: boolean;
  dryRun: boolean;
  json: boolean;
}

export const bootstrapCommand: CommandModule = {
  command: 'bootstrap <release>',
  describe: 'Build, from the same git repository, the bootstrap toolchain(s) a release needs (gorebuild\'s BootstrapVersion rule), starting from a root toolchain; prints the GOROOT to pass to build --bootstrap',
  builder: (yargs: Argv) =>
    yargs
      .positional('release', { type: 'string', demandOption: true, describe: 'The release to be built, e.g. go1.22.0' })
      .option('go-repo', { type: 'string', demandOption: true, describe: 'The Go git repository' })
      .option('from', { type: 'string', default: '/usr/lib/go-1.19', describe: 'The root toolchain (GOROOT), e.g. Debian\'s golang-1.19-go' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder for the bootstrap toolchains (<out>/<version>/ and <version>.bootstrap.json)' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log' })
      .option('sandbox', { type: 'boolean', default: true, describe: 'Run make.bash in the bubblewrap sandbox (--no-sandbox: without namespaces; loud, and recorded)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only print the chain (each toolchain\'s tag commit and tree, checked against the log), e.g. for a cache key; builds nothing' }),
  handler: async (parsed) => {
    const args = parsed as unknown as BootstrapArgs;
    const { buildBootstrapChain, gorootVersion, planBootstrapChain } = await import('../../build/bootstrap.js');
    const { assertNoKeyInEnvironment } = await import('../../build/make.js');
    const { prepareSandbox } = await import('../../build/sandbox.js');
    const { checkTagAgainstLog } = await import('../../build/build.js');
    const { openVerifiedTagLog } = await import('../tag-log.js');
    const { mkdir } = await import('node:fs/promises');
    assertNoKeyInEnvironment();
    const tagLog = await openVerifiedTagLog(args.log, args.vkey);
    if (args.dryRun) {
      const { UsageError } = await import('../../errors.js');
      const root = await gorootVersion(args.from);
      const minor = /^go1\.([0-9]+)/.exec(root);
      if (!minor) throw new UsageError(`the root toolchain ${args.from} has version ${root}, not go1.N`, 'BAD_BOOTSTRAP');
      const steps = await planBootstrapChain(args.release, Number(minor[1]), args.goRepo);
      const chain = [];
      for (const version of steps) {
        const { commit, tree } = await checkTagAgainstLog(args.goRepo, version, tagLog);
        chain.push({ version, commit, tree });
      }
      if (args.json) {
        printJson({ release: args.release, root: { goroot: args.from, version: root }, chain });
        return;
      }
      printLines([
        `Bootstrap for ${args.release} from ${root} (${args.from}): ${chain.length ? chain.map((b) => b.version).join(' <- ') : 'nothing to build'}`,
        ...chain.map((b) => field(b.version, `commit ${b.commit} tree ${b.tree}`)),
      ]);
      return;
    }
    const sandbox = prepareSandbox({ noSandbox: !args.sandbox });
    if (sandbox.kind === 'none') printError(`WARNING: --no-sandbox: make.bash runs without namespaces (${sandbox.description})`);
    await mkdir(args.out, { recursive: true });
    const result = await buildBootstrapChain(args.release, {
      repository: args.goRepo,
      from: args.from,
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
      ...result.chain.map((b) => field(b.version, `${b.hash}${b.commit ? ` commit ${b.commit}` : ' (root toolchain)'}`)),
      field('built now', result.built.length ? result.built.join(', ') : 'nothing (all present and intact)'),
      result.goroot,
    ]);
  },
};
