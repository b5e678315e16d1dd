import type { Argv, CommandModule } from 'yargs';
import { resolveLogFolder } from '../log-location.js';
import { progress } from '../progress.js';
import { bytesWithHuman } from '../../format.js';
import { printJson, printLines, setExitCode } from '../output.js';

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
    const logDir = await resolveLogFolder(args.log, 'witness ingest');
    const key = args.dryRun ? undefined : await loadSignerKey({ file: args.key, forbiddenRepository: await repositoryRoot(logDir) });
    const log = await WitnessLog.open(logDir);
    const onProgress = progress().onProgress;
    const report = await ingestBuildResults(log, args.results, key, {
      ...(args.offline ? { sumdbSkipped: 'offline: the checksum database was not consulted' } : { sumdb: new SumdbClient({ baseUrl: args.sumdbUrl, verifierKey: args.sumdbVkey ?? SUMDB_VERIFIER_KEY, onProgress }) }),
      ...(args.published ? { published: await loadPublishedListing(args.published) } : {}),
      dryRun: args.dryRun,
      onProgress,
    });
    const bad = report.conflicts.length > 0 || report.toolchainAlarms.length > 0 || report.builds.some((build) => build.status === 'unequal');
    if (bad) setExitCode(1);
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
        lines.push(`    ${file.name.padEnd(width)}  ${bytesWithHuman(file.size).padEnd(26)}  ${summary}`);
        for (const verdict of verdicts) if (verdict.status !== 'equal') lines.push(`    ${''.padEnd(width + 28)}    ${verdict.source} ${verdict.status}: ${verdict.detail}`);
      }
    }
    for (const conflict of report.conflicts) lines.push(`REPRODUCIBILITY FAILURE: ${conflict}`);
    for (const alarm of report.toolchainAlarms) {
      const value = (key: string) => alarm.fields.find((f) => f.key === key)?.value ?? '';
      lines.push(`ALARM build-disagrees: ${value('version')} ${value('target')} differs from sumdb record ${value('record')} (toolchain record at log index ${value('toolchain-index')}): built ${value('built-go-sum')}, published ${value('recorded-go-sum')}`);
    }
    if (report.appended) lines.push(`Appended ${report.appended.newSize - report.appended.oldSize} build records: log size ${report.appended.oldSize} -> ${report.appended.newSize}, commit ${report.appended.commit}`);
    else if (args.dryRun) lines.push('Dry run: nothing appended.');
    else lines.push('Nothing new to append.');
    printLines(lines);
  },
};
