import type { Argv, CommandModule } from 'yargs';
import { field, printError, printJson, printLines, setExitCode } from '../output.js';
import { progress } from '../progress.js';
import { bytesWithHuman, formatDuration } from '../../format.js';

interface BuildArgs {
  release: string;
  goRepo: string;
  target?: string[];
  bootstrap: string;
  out: string;
  work?: string;
  keepWork: boolean;
  log?: string;
  vkey?: string;
  sandbox: boolean;
  full: boolean;
  allPorts: boolean;
  json: boolean;
}

export const buildCommand: CommandModule = {
  command: 'build <release>',
  describe: 'Build a release from its git tag with make.bash -distpack, per target, and write content-addressed build results (no signing key; exit 1 if a build failed)',
  builder: (yargs: Argv) =>
    yargs
      .positional('release', { type: 'string', demandOption: true, describe: 'The release tag, e.g. go1.21.0 (go1.21.0 and later)' })
      .option('go-repo', { type: 'string', demandOption: true, describe: 'The Go git repository holding the tag' })
      .option('target', { type: 'string', array: true, describe: 'GOOS/GOARCH to build (repeatable; default linux/amd64)' })
      .option('bootstrap', { type: 'string', default: '/usr/lib/go-1.19', describe: 'GOROOT_BOOTSTRAP: a root toolchain, or one made by witness bootstrap' })
      .option('out', { type: 'string', demandOption: true, describe: 'Folder for build results, build logs and distpack files' })
      .option('work', { type: 'string', describe: 'Folder to export and build in (default: the system temp folder); needs ~1 GB per target' })
      .option('keep-work', { type: 'boolean', default: false, describe: 'Keep the exported tree after the build' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log (default: embedded key for the embedded log, else its log.vkey)' })
      .option('sandbox', { type: 'boolean', default: true, describe: 'Run make.bash in the bubblewrap sandbox (--no-sandbox: without namespaces; loud, and recorded in the result)' })
      .option('all-ports', { type: 'boolean', default: false, describe: 'Build every port Go publishes a toolchain for: `go tool dist list` at the tag without android, ios, js, wasip1' })
      .option('full', {
        type: 'boolean',
        default: false,
        describe: 'One whole make.bash -distpack per target; by default targets that can share them get the host phases once (method shared-host, byte-identical; recorded)',
      }),
  handler: async (parsed) => {
    const args = parsed as unknown as BuildArgs;
    const { buildRelease } = await import('../../rebuild/build.js');
    const { assertNoKeyInEnvironment } = await import('../../rebuild/make.js');
    const { prepareSandbox } = await import('../../rebuild/sandbox.js');
    const { parseTarget } = await import('../../release/target.js');
    const { WITNESS_VERSION } = await import('../../version.js');
    const { openVerifiedTagLog } = await import('../tag-log.js');
    const { publishedPortsFromSourceTree } = await import('../../rebuild/plan.js');
    const { UsageError } = await import('../../errors.js');
    if (args.allPorts && args.target) throw new UsageError('CONFLICTING_OPTIONS', '--all-ports and --target cannot be used together (see witness build --help)');
    const targets = args.allPorts ? await publishedPortsFromSourceTree(args.goRepo, args.release) : (args.target ?? ['linux/amd64']).map(parseTarget);
    assertNoKeyInEnvironment();
    const sandbox = prepareSandbox({ noSandbox: !args.sandbox });
    if (sandbox.kind === 'none') printError(`WARNING: --no-sandbox: make.bash runs without namespaces (${sandbox.description}); the result says so`);
    const tagLog = await openVerifiedTagLog(args.log, args.vkey);
    const builds = await buildRelease({
      version: args.release,
      targets,
      repository: args.goRepo,
      bootstrap: args.bootstrap,
      out: args.out,
      tagLog,
      ...(args.work ? { workDir: args.work } : {}),
      keepWork: args.keepWork,
      sandbox,
      method: args.full ? 'full' : 'shared-host',
      builderVersion: WITNESS_VERSION,
      onProgress: (message) => progress().line(message),
    });
    if (builds.some((build) => build.outcome === 'failed')) setExitCode(1);
    if (args.json) {
      printJson(builds.map(({ target, outcome, resultFile, seconds, makeSeconds, distpackDir, result }) => ({ target, outcome, method: result.method, resultFile, seconds, makeSeconds, distpackDir })));
      return;
    }
    const lines = [`${args.release}: ${builds.length} target(s)`];
    for (const build of builds) {
      const how = build.result.method?.startsWith('shared-host') ? `target phase ${formatDuration(build.makeSeconds)}, shared host ${build.result.method.slice('shared-host '.length)}` : `make.bash ${formatDuration(build.makeSeconds)}`;
      lines.push(field(build.target, `${build.outcome.toUpperCase()} in ${formatDuration(build.seconds)} (${how})`));
      lines.push(`    result: ${build.resultFile}`);
      if (build.result.outcome === 'built') {
        const width = Math.max(...build.result.files.map((file) => file.name.length));
        for (const file of build.result.files) lines.push(`    ${file.name.padEnd(width)}  ${bytesWithHuman(file.size)}`);
        lines.push(`    ${build.result.goSum[0]}`);
        if (!build.result.sourceCheck.equal) lines.push(`    SOURCE CHECK: the source tarball differs from the git tree (${build.result.sourceCheck.problems.length} problems)`);
      } else {
        lines.push(`    ${build.result.failure.phase}: ${build.result.failure.reason}`);
      }
    }
    lines.push('Next: witness ingest <result files> (with the signing key, in a job that did not build).');
    printLines(lines);
  },
};
