import type { Argv, CommandModule } from 'yargs';
import { resolveLogFolder } from '../log-location.js';
import { progress } from '../progress.js';
import { field, printJson, printLines, setExitCode } from '../output.js';

interface TagsArgs {
  log?: string;
  goRepo: string;
  remote?: string;
  key?: string;
  dryRun: boolean;
  json: boolean;
}

export const tagsCommand: CommandModule = {
  command: 'tags',
  describe: 'Record every tag of a Go git repository: one signed record per new, moved, vanished or reappeared tag (exit 1 if any moved, vanished or reappeared)',
  builder: (yargs: Argv) =>
    yargs
      .option('go-repo', { type: 'string', demandOption: true, describe: 'The Go git repository to read (bare or not)' })
      .option('remote', { type: 'string', describe: 'Repository URL to record; default: its remote.origin.url, else file://<path>' })
      .option('key', { type: 'string', describe: 'Signing key file (mode 0600, outside the repository); default: $WITNESS_SIGNING_KEY' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Show what would be recorded; append nothing (no key needed)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as TagsArgs;
    const { loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { printableRef } = await import('../../gitsrc/refname.js');
    const { recordRepoTags } = await import('../../tags/update.js');
    const logDir = await resolveLogFolder(args.log, 'witness tags');
    // The key before the log: a run that cannot sign stops before it reads anything.
    const key = args.dryRun ? undefined : await loadSignerKey({ file: args.key, forbiddenRepository: await repositoryRoot(logDir) });
    const log = await WitnessLog.open(logDir);
    const result = await recordRepoTags(log, args.goRepo, key, { ...(args.remote ? { repositoryUrl: args.remote } : {}), dryRun: args.dryRun, onProgress: progress().onProgress });
    if (result.alarms.length > 0) setExitCode(1);
    if (args.json) {
      printJson({ ...result, plan: { changes: result.plan.changes, unchanged: result.plan.unchanged } });
      return;
    }
    const count = (event: string) => result.plan.changes.filter((change) => change.event === event).length;
    const lines = [
      `Tags of ${result.repository}: ${result.tagsRead} read`,
      field('unchanged', String(result.plan.unchanged)),
      field('new', String(count('new'))),
      field('moved', String(count('moved'))),
      field('vanished', String(count('vanished'))),
      field('reappeared', String(count('reappeared'))),
    ];
    for (const alarm of result.alarms) {
      lines.push(`  ALARM ${alarm.event.toUpperCase()} ${printableRef(alarm.ref)}`);
      if (alarm.before) lines.push(`      was ${alarm.before.object} (witness first saw it ${alarm.beforeFirstSeen})`);
      if (alarm.after) lines.push(`      now ${alarm.after.object}`);
    }
    for (const rejected of result.rejected) lines.push(`  skipped ${printableRef(rejected.ref)}: ${rejected.reason}`);
    if (result.appended) {
      lines.push(`Appended ${result.plan.records.length} tag records: log size ${result.appended.oldSize} -> ${result.appended.newSize}, commit ${result.appended.commit}`);
    } else if (result.plan.records.length > 0) {
      lines.push(`Dry run: ${result.plan.records.length} tag records would be appended.`);
    } else {
      lines.push(`Nothing new: the log (size ${result.logSize}) already records every tag.`);
    }
    printLines(lines);
  },
};
