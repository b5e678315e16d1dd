import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../errors.js';
import { resolveLogLocation } from '../log-location.js';
import { printJson, printLines } from '../output.js';
import { resolveVerifierKey } from '../vkey.js';

interface LogArgs {
  log?: string;
  vkey?: string;
  from: number;
  limit: number;
  json: boolean;
}

export const logCommand: CommandModule = {
  command: 'log',
  describe: 'List the log\'s records (the checkpoint signature is checked; run verify for a full check)',
  builder: (yargs: Argv) =>
    yargs
      .option('vkey', { type: 'string', describe: 'Pinned verifier key (key or file); default: the folder\'s log.vkey' })
      .option('from', { type: 'number', default: 0, describe: 'First log index to list' })
      .option('limit', { type: 'number', default: 100, describe: 'How many records to list at most' }),
  handler: async (parsed) => {
    const args = parsed as unknown as LogArgs;
    const { LogReader } = await import('../../log/reader.js');
    const { parseRecord } = await import('../../log/record.js');
    if (!Number.isSafeInteger(args.from) || args.from < 0 || !Number.isSafeInteger(args.limit) || args.limit < 0) {
      throw new UsageError('USAGE', '--from and --limit take whole numbers >= 0');
    }
    const location = await resolveLogLocation(args.log);
    const verifierKey = await resolveVerifierKey(args.vkey, location);
    const log = await LogReader.open(location, verifierKey ? { verifierKey } : {});
    const { checkpoint } = await log.readCheckpoint();
    const start = BigInt(Math.min(args.from, Number(checkpoint.size)));
    const end = BigInt(Math.min(args.from + args.limit, Number(checkpoint.size)));
    const entries = await log.readEntries(start, end, checkpoint.size);
    const records = entries.map((entry, i) => ({ index: start + BigInt(i), record: parseRecord(entry) }));
    if (args.json) {
      printJson({ origin: log.origin, size: checkpoint.size, records });
      return;
    }
    printLines([
      `Witness log ${log.origin}: ${checkpoint.size} record${checkpoint.size === 1n ? '' : 's'}${entries.length < Number(checkpoint.size) ? `, showing ${start}..${end === 0n ? 0n : end - 1n}` : ''}`,
      ...records.map(({ index, record }) => {
        const summary = record.fields
          .slice(0, 4)
          .map(({ key, value }) => `${key}=${value.length > 48 ? `${value.slice(0, 45)}...` : value}`)
          .join(' ');
        return `  ${String(index).padStart(6)}  ${record.type}/v${record.version}  ${summary}`;
      }),
    ]);
  },
};
