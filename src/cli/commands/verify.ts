import type { Argv, CommandModule } from 'yargs';
import { resolveLogLocation } from '../log-location.js';
import { field, printJson, printLines } from '../output.js';
import { progress } from '../progress.js';
import { resolveVerifierKey } from '../vkey.js';

interface VerifyArgs {
  log?: string;
  vkey?: string;
  history: boolean;
  json: boolean;
}

export const verifyCommand: CommandModule = {
  command: 'verify',
  describe: 'Verify the whole log offline: every entry, tile and signature, and every checkpoint in its git history',
  builder: (yargs: Argv) =>
    yargs
      .option('vkey', { type: 'string', describe: 'Pinned verifier key (the key itself or a file holding it); default: the embedded log key for the embedded log, else the folder\'s log.vkey' })
      .option('history', { type: 'boolean', default: true, describe: 'Check every checkpoint in the git history (--no-history to skip)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as VerifyArgs;
    const { verifyLog } = await import('../../log/verify.js');
    const location = await resolveLogLocation(args.log);
    const verifierKey = await resolveVerifierKey(args.vkey, location);
    const report = await verifyLog(location, { ...(verifierKey ? { verifierKey } : {}), history: args.history, onProgress: progress().onProgress });
    if (args.json) {
      printJson({ ok: true, ...report });
      return;
    }
    const types = Object.entries(report.recordTypes)
      .map(([type, count]) => `${count} ${type}`)
      .join(', ');
    const history = report.history;
    printLines([
      `Witness log ${report.origin} (${report.dir})`,
      field('verifier key', `${report.verifierKey}${report.verifierKeyPinned ? ' (pinned)' : ' (read from the log folder; pass --vkey to pin it)'}`),
      field('checkpoint', `size ${report.size}, root ${report.rootHash}: signature valid`),
      field('entries', `${report.size} record${report.size === 1n ? '' : 's'}${types ? ` (${types})` : ''}, all well-formed`),
      field('tiles', `${report.hashTiles} hash tiles and ${report.entryBundles} entry bundles recomputed from the entries: all match`),
      field(
        'git history',
        history.checked
          ? `${history.checkpoints.length} committed checkpoint${history.checkpoints.length === 1 ? '' : 's'}, each signed, consistent with the current tree, never rolled back`
          : `not checked (${history.note ?? 'skipped'})`,
      ),
      ...report.warnings.map((warning) => `  warning: ${warning}`),
      'OK: the log verifies.',
    ]);
  },
};
