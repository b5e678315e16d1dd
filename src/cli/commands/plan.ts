import type { Argv, CommandModule } from 'yargs';
import { printError, printJson, printLines } from '../output.js';

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

/** Jobs per GitHub Actions matrix (docs.github.com: "A matrix can generate a maximum of 256 jobs per workflow run"). */
const MATRIX_JOBS = 256;

export const planCommand: CommandModule = {
  command: 'plan',
  describe: 'List the (release, target) pairs from go1.21.0 on that have no build record yet; --json prints a GitHub Actions matrix',
  builder: (yargs: Argv) =>
    yargs
      .option('target', { type: 'string', array: true, describe: 'Targets GOOS/GOARCH (repeatable); default: Go\'s first-class ports' })
      .option('all-ports', { type: 'string', describe: 'Every port Go publishes a toolchain for (`go tool dist list` at each tag without android, ios, js, wasip1), read from this Go repository' })
      .option('retry-failed', { type: 'boolean', default: false, describe: 'Plan again pairs whose builds failed' })
      .option('limit', { type: 'number', describe: 'At most this many pairs (with --per-job: jobs), oldest first; with --json at most 256 (a GitHub Actions matrix holds 256 jobs), the default there' })
      .option('per-job', { type: 'number', describe: 'Group each release\'s targets into jobs of at most N targets (one `witness build` with several --target); --json then gives {version, targets, count, part, parts} per job' })
      .option('vkey', { type: 'string', describe: 'Pinned verifier key of the log' })
      .conflicts('target', 'all-ports'),
  handler: async (parsed) => {
    const args = parsed as unknown as PlanArgs;
    const { actionsMatrix, planBuilds, planJobs, publishedPortsFromSourceTree } = await import('../../rebuild/plan.js');
    const { FIRST_CLASS_TARGETS, parseTarget } = await import('../../release/target.js');
    const { openVerifiedRecords } = await import('../tag-log.js');
    const { records } = await openVerifiedRecords(args.log, args.vkey);
    const { UsageError } = await import('../../errors.js');
    const fixed = args.target?.map(parseTarget) ?? FIRST_CLASS_TARGETS;
    if (args.json && args.limit !== undefined && args.limit > MATRIX_JOBS) {
      throw new UsageError('BAD_LIMIT', `--limit ${args.limit}: a GitHub Actions matrix holds at most ${MATRIX_JOBS} jobs; run plan again for the rest`);
    }
    const limit = args.limit ?? (args.json ? MATRIX_JOBS : undefined);
    const plan = await planBuilds(records, {
      targetsFor: async (version) => (args.allPorts ? publishedPortsFromSourceTree(args.allPorts, version) : fixed),
      retryFailed: args.retryFailed,
      // Explicit --target lists are taken as they are; otherwise every target sumdb published is planned too.
      publishedTargets: args.target === undefined,
      ...(limit !== undefined && args.perJob === undefined ? { limit } : {}),
    });
    if (args.perJob !== undefined) {
      const { jobs, more } = planJobs(plan.builds, args.perJob, limit);
      if (more > 0) printError(`witness plan: ${more} more jobs beyond --limit ${limit}; run again after these are built`);
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
    if (plan.more > 0) printError(`witness plan: ${plan.more} more pairs beyond --limit ${limit}; run again after these are built`);
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
