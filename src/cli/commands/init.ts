import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { DEFAULT_LOG_DIR } from '../../log/layout.js';
import { field, printJson, printLines } from '../output.js';

interface InitArgs {
  log?: string;
  origin: string;
  key?: string;
  generateKey: boolean;
  json: boolean;
}

export const initCommand: CommandModule = {
  command: 'init',
  describe: 'Create a new witness log (a git-tracked tlog-tiles folder) with a signed empty checkpoint',
  builder: (yargs: Argv) =>
    yargs
      .option('origin', { type: 'string', demandOption: true, describe: 'Log origin = signing key name, e.g. example.com/log' })
      .option('key', { type: 'string', describe: 'Signing key file (Go note PRIVATE+KEY format, mode 0600, outside the repository); default: $WITNESS_SIGNING_KEY' })
      .option('generate-key', { type: 'boolean', default: false, describe: 'Generate a new key into --key FILE (created with mode 0600)' }),
  handler: async (parsed) => {
    const args = parsed as unknown as InitArgs;
    const { generateSignerKeyFile, loadSignerKey, repositoryRoot } = await import('../../keyfile.js');
    const { WitnessLog } = await import('../../log/log.js');
    const { verifierKeyOf } = await import('../../tlog/note.js');
    const dir = args.log ?? DEFAULT_LOG_DIR;
    if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(dir)) throw new UsageError('LOG_URL_NOT_ALLOWED', `witness init creates a log folder, not a URL: --log ${dir}`);
    if (args.generateKey && !args.key) throw new UsageError('KEY_REQUIRED', '--generate-key needs --key FILE to write the new key to');
    // Refuse a folder that already holds something before a key file is written.
    await WitnessLog.assertNewLogFolder(dir);
    const repository = await repositoryRoot(dir);
    let signerKey;
    if (args.generateKey) {
      if (!args.key) throw new UsageError('USAGE', '--generate-key needs --key FILE to write the new key to');
      signerKey = (await generateSignerKeyFile(args.key, args.origin, repository)).signerKey;
    } else {
      signerKey = await loadSignerKey({ file: args.key, forbiddenRepository: repository });
    }
    if (signerKey.name !== args.origin) {
      throw new UsageError('KEY_NAME_MISMATCH', `the key is named ${signerKey.name}, but --origin is ${args.origin}; a log's key name is its origin`);
    }
    const { log, commit } = await WitnessLog.init(dir, signerKey);
    const vkey = verifierKeyOf(signerKey);
    if (args.json) {
      printJson({ log: log.dir, origin: log.origin, verifierKey: vkey, commit });
      return;
    }
    printLines([
      `Created witness log ${log.origin}`,
      field('folder', log.dir),
      field('verifier key', vkey),
      field('commit', commit),
      ...(args.generateKey ? [field('signing key', `${args.key} (mode 0600; keep it out of every repository)`)] : []),
    ]);
  },
};
