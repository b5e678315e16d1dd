import type { Argv, CommandModule } from 'yargs';
import { printJson, printLines } from '../output.js';

interface PlanArgs {
  log?: string;
  vkey?: string;
  target?: string[];
  allPorts?: string;
  retryFailed: boolean;
  limit?: number;
  perJob?: number;
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
      .option('limit', { type: 'number', describe: 'At most this many pairs (with --per-job: jobs), oldest first (a GitHub matrix holds 256 jobs)' })
      .option('per-job', { type: 'number', describe: 'Group each release\'s targets into jobs of at most N targets (one `witness build` with several --target); --json then gives {version, targets, count, part, parts} per job' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log' })
      .conflicts('target', 'all-ports'),
  handler: async (parsed) => {
    const args = parsed as unknown as PlanArgs;
    const { actionsMatrix, planBuilds, planJobs, portsFromSourceTree } = await import('../../build/plan.js');
    const { FIRST_CLASS_TARGETS, parseTarget } = await import('../../build/target.js');
    const { openVerifiedRecords } = await import('../tag-log.js');
    const { records } = await openVerifiedRecords(args.log, args.vkey);
    const fixed = args.target?.map(parseTarget) ?? FIRST_CLASS_TARGETS;
    const plan = await planBuilds(records, {
      targetsFor: async (version) => (args.allPorts ? portsFromSourceTree(args.allPorts, version) : fixed),
      retryFailed: args.retryFailed,
      ...(args.limit !== undefined && args.perJob === undefined ? { limit: args.limit } : {}),
    });
    if (args.perJob !== undefined) {
      const { jobs, more } = planJobs(plan.builds, args.perJob, args.limit);
      if (args.json) {
        printJson(actionsMatrix(jobs));
        return;
      }
      const pairs = jobs.reduce((sum, job) => sum + job.count, 0);
      printLines([
        ...jobs.map((job) => `${job.version} (${job.part}/${job.parts}) ${job.targets}`),
        `${jobs.length} jobs, ${pairs} to build${more ? ` (${more} more beyond --limit)` : ''}; ${plan.done} already built.`,
      ]);
      return;
    }
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
