import type { Argv, CommandModule } from 'yargs';
import { resolveLogLocation } from '../log-location.js';
import { printJson, printLines } from '../output.js';

interface IngestArgs {
  results: string[];
  log?: string;
  key?: string;
  sumdbUrl: string;
  sumdbVkey?: string;
  offline: boolean;
  published?: string;
  dryRun: boolean;
  json: boolean;
}

export const ingestCommand: CommandModule = {
  command: 'ingest <results..>',
  describe: 'Validate build results, compare them with sumdb, go.dev and earlier builds, and append signed build records (exit 1 on any unequal file or reproducibility conflict)',
  builder: (yargs: Argv) =>
    yargs
      .positional('results', { type: 'string', array: true, demandOption: true, describe: 'Build result files (<version>.<goos>-<goarch>.<sha256>.build.json), each with its build log beside it' })
      .option('key', { type: 'string', describe: 'Signing key file (mode 0600, outside the repository); default: $WITNESS_SIGNING_KEY' })
      .option('sumdb-url', { type: 'string', default: 'https://sum.golang.org', describe: 'The checksum database to compare module hashes with' })
      .option('sumdb-vkey', { type: 'string', describe: 'The database\'s verifier key (default: sum.golang.org\'s)' })
      .option('offline', { type: 'boolean', default: false, describe: 'Do not consult the checksum database (verdicts say "unchecked: offline")' })
      .option('published', { type: 'string', describe: 'go.dev/dl JSON listing (file or URL of https://go.dev/dl/?mode=json&include=all) to compare archive SHA-256s with' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Validate and compare; append nothing (no key needed)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as IngestArgs;
    const { loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { ingestBuildResults } = await import('../../build/ingest.js');
    const { loadPublishedListing } = await import('../../build/expected.js');
    const { SumdbClient, SUMDB_VERIFIER_KEY } = await import('../../sumdb/client.js');
    const logDir = await resolveLogLocation(args.log);
    const log = await WitnessLog.open(logDir);
    const key = args.dryRun ? undefined : await loadSignerKey({ file: args.key, forbiddenRepository: await repositoryRoot(logDir) });
    const report = await ingestBuildResults(log, args.results, key, {
      ...(args.offline ? { sumdbSkipped: 'offline: the checksum database was not consulted' } : { sumdb: new SumdbClient({ baseUrl: args.sumdbUrl, verifierKey: args.sumdbVkey ?? SUMDB_VERIFIER_KEY }) }),
      ...(args.published ? { published: await loadPublishedListing(args.published) } : {}),
      dryRun: args.dryRun,
    });
    const bad = report.conflicts.length > 0 || report.builds.some((build) => build.status === 'unequal');
    if (bad) process.exitCode = 1;
    if (args.json) {
      printJson(report);
      return;
    }
    const lines: string[] = [];
    for (const build of report.builds) {
      const { record } = build;
      const where = build.alreadyAt !== undefined ? `already recorded at log index ${build.alreadyAt}` : build.index !== undefined ? `log index ${build.index}` : '';
      lines.push(`${record.version} ${record.target}${record.env.length ? ` ${record.env.join(' ')}` : ''}: ${build.status.toUpperCase()} (${where})`);
      if (record.failure) lines.push(`    build failed: ${record.failure}`);
      if (record.sourceCheck) lines.push(`    source check: ${record.sourceCheck.equal ? 'equal to the git tree' : `DIFFERS from the git tree (${record.sourceCheck.problems} problems)`} (${record.sourceCheck.files} files)`);
      const width = Math.max(0, ...(record.files ?? []).map((file) => file.name.length));
      for (const file of record.files ?? []) {
        const verdicts = record.verdicts.filter((verdict) => verdict.file === file.name);
        const summary = verdicts.length ? verdicts.map((verdict) => `${verdict.source}: ${verdict.status}`).join(', ') : 'unchecked: nothing to compare with';
        lines.push(`    ${file.name.padEnd(width)}  ${summary}`);
        for (const verdict of verdicts) if (verdict.status !== 'equal') lines.push(`    ${''.padEnd(width)}    ${verdict.source} ${verdict.status}: ${verdict.detail}`);
      }
    }
    for (const { record, index, moved } of report.bootstraps) {
      const from = record.branch ? `${record.branch} at ${record.commit}, from C by ${record.root.compiler}` : `${record.commit}, built with ${record.builtWith.map((b) => b.version).join(' <- ')}`;
      lines.push(`bootstrap ${record.version} ${record.hash}: ${from} (log index ${index})`);
      if (moved) lines.push(`    BRANCH HEAD MOVED: ${record.branch} was ${moved.from} (log index ${moved.index}), now ${record.commit} (accepted at bootstrap)`);
    }
    for (const { record, index } of report.agreements) {
      const roots = record.roots.map((r) => (r.kind === 'c' ? `C (${r.compiler})` : `binary ${r.chain[r.chain.length - 1]!.split('=')[0]}`)).join(', ');
      lines.push(
        record.status === 'agree'
          ? `${record.version} ${record.target}${record.env.length ? ` ${record.env.join(' ')}` : ''}: ${record.roots.length} independent bootstrap roots AGREE (${roots}) (log index ${index})`
          : `ALARM: ${record.version} ${record.target}${record.env.length ? ` ${record.env.join(' ')}` : ''}: independent bootstrap roots DIFFER (${roots}) on ${record.differ.map((d) => d.name).join(', ')} (log index ${index})`,
      );
    }
    for (const conflict of report.conflicts) lines.push(`REPRODUCIBILITY FAILURE: ${conflict}`);
    if (report.appended) lines.push(`Appended ${report.appended.newSize - report.appended.oldSize} records: log size ${report.appended.oldSize} -> ${report.appended.newSize}, commit ${report.appended.commit}`);
    else if (args.dryRun) lines.push('Dry run: nothing appended.');
    else lines.push('Nothing new to append.');
    printLines(lines);
  },
};
