import type { Argv, CommandModule } from 'yargs';
import { printJson, printLines } from '../output.js';

interface PlanArgs {
  log?: string;
  vkey?: string;
  target?: string[];
  allPorts?: string;
  retryFailed: boolean;
  limit?: number;
  json: boolean;
}

export const planCommand: CommandModule = {
  command: 'plan',
  describe: 'List the (release, target) pairs from go1.21.0 on that have no build record yet; --json prints a GitHub Actions matrix',
  builder: (yargs: Argv) =>
    yargs
      .option('target', { type: 'string', array: true, describe: 'Targets GOOS/GOARCH (repeatable); default: Go\'s first-class ports' })
      .option('all-ports', { type: 'string', describe: 'Every port `go tool dist list` prints for each release, read from this Go repository\'s tags' })
      .option('retry-failed', { type: 'boolean', default: false, describe: 'Plan again pairs whose builds failed' })
      .option('limit', { type: 'number', describe: 'At most this many pairs, oldest first (a GitHub matrix holds 256 jobs)' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log' })
      .conflicts('target', 'all-ports'),
  handler: async (parsed) => {
    const args = parsed as unknown as PlanArgs;
    const { actionsMatrix, planBuilds, portsFromSourceTree } = await import('../../build/plan.js');
    const { FIRST_CLASS_TARGETS, parseTarget } = await import('../../build/target.js');
    const { openVerifiedRecords } = await import('../tag-log.js');
    const { records } = await openVerifiedRecords(args.log, args.vkey);
    const fixed = args.target?.map(parseTarget) ?? FIRST_CLASS_TARGETS;
    const plan = await planBuilds(records, {
      targetsFor: async (version) => (args.allPorts ? portsFromSourceTree(args.allPorts, version) : fixed),
      retryFailed: args.retryFailed,
      ...(args.limit !== undefined ? { limit: args.limit } : {}),
    });
    if (args.json) {
      printJson(actionsMatrix(plan.builds));
      return;
    }
    printLines([
      ...plan.builds.map((build) => `${build.version} ${build.target}`),
      `${plan.builds.length} to build${plan.more ? ` (${plan.more} more beyond --limit)` : ''}; ${plan.done} already built.`,
    ]);
  },
};
