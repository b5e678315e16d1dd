#!/usr/bin/env node
// The `witness` command: thin yargs wiring over the library. Exit codes: 0 ok; 1 a verification failure
// or mismatch; 2 a usage or environment error.
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { WitnessError } from '../errors.js';
import { DEFAULT_LOG_DIR } from '../log/layout.js';
import { initCommand } from './commands/init.js';
import { printWitnessError } from './output.js';
import { logCommand } from './commands/log.js';
import { verifyCommand } from './commands/verify.js';
import { compareCommand } from './commands/compare.js';
import { sourceCheckCommand } from './commands/source-check.js';
import { sumdbCommand } from './commands/sumdb.js';
import { serveCommand } from './commands/serve.js';
import { tagsCommand } from './commands/tags.js';
import { publishCommand } from './commands/publish.js';
import { buildCommand } from './commands/build.js';
import { bootstrapCommand } from './commands/bootstrap.js';
import { ingestCommand } from './commands/ingest.js';
import { checkCommand } from './commands/check.js';
import { planCommand } from './commands/plan.js';

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(argv)
    .scriptName('witness')
    .usage('$0 <command> [options]\n\nIndependently verify Go toolchains against the Go git repository, in a signed append-only log.')
    .option('log', { type: 'string', describe: `The witness log: a folder (or an http(s) URL for compare/verify); default: ./${DEFAULT_LOG_DIR} if present, else the embedded log`, global: true })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output', global: true })
    .command(bootstrapCommand)
    .command(buildCommand)
    .command(checkCommand)
    .command(compareCommand)
    .command(ingestCommand)
    .command(initCommand)
    .command(planCommand)
    .command(serveCommand)
    .command(sourceCheckCommand)
    .command(sumdbCommand)
    .command(tagsCommand)
    .command(verifyCommand)
    .command(logCommand)
    .command(publishCommand)
    .demandCommand(1, 'Name a command; see witness --help')
    .strict()
    .epilogue('Exit codes: 0 ok; 1 verification failure or mismatch; 2 usage or environment error.')
    .fail((message, error) => {
      if (error) throw error;
      process.stderr.write(`witness: ${message}\nRun witness --help for usage.\n`);
      exitCode = 2;
    })
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 100));
  try {
    await parser.parseAsync();
  } catch (error) {
    if (error instanceof WitnessError) {
      printWitnessError(error);
      return error.exitCode;
    }
    process.stderr.write(`witness: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 2;
  }
  // Handlers report outcomes (e.g. compare's 1 for differences) through process.exitCode.
  return exitCode !== 0 ? exitCode : typeof process.exitCode === 'number' ? process.exitCode : 0;
}

process.exitCode = await main(hideBin(process.argv));
