// The `witness` command: thin yargs wiring over the library. Exit codes: 0 ok; 1 a verification failure
// or mismatch; 2 a usage or environment error.
//
// `run(argv, io)` runs one command line with its own stdout, stderr and stdin and returns the exit code
// (bin/witness.js passes the process's own; tests run it in-process). The command line is checked in
// full before any handler runs (src/cli/arguments.ts). Errors print one line on stderr (with --json,
// also one JSON document on stdout); an error that is not a WitnessError is a bug, reported as
// "internal error" with its stack only under --debug or WITNESS_DEBUG=1.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import yargs, { type MiddlewareFunction } from 'yargs';
import { UsageError, WitnessError } from '../errors.js';
// Installs the witness's record folds into src/log/ (before any log is opened).
import '../witness-schema.js';
import { DEFAULT_LOG_DIR } from '../log/layout.js';
import { WITNESS_VERSION } from '../version.js';
import { type CommandNode, checkArguments, commandPath, flagRequested, usageFailure } from './arguments.js';
import { exitCodeOf } from './exit-code.js';
import { type CliIo, type CliSession, jsonText, printError, printWitnessError, processIo, runSession } from './output.js';
import { finishProgress } from './progress.js';
import { initCommand } from './commands/init.js';
import { logCommand } from './commands/log.js';
import { verifyCommand } from './commands/verify.js';
import { compareCommand } from './commands/compare.js';
import { sourceCheckCommand } from './commands/source-check.js';
import { SUMDB_SUBCOMMANDS, sumdbCommand } from './commands/sumdb.js';
import { serveCommand } from './commands/serve.js';
import { tagsCommand } from './commands/tags.js';
import { publishCommand } from './commands/publish.js';
import { buildCommand } from './commands/build.js';
import { bootstrapCommand } from './commands/bootstrap.js';
import { ingestCommand } from './commands/ingest.js';
import { checkCommand } from './commands/check.js';
import { planCommand } from './commands/plan.js';

export type { CliIo } from './output.js';

/** Every command, as yargs is given them (tests enumerate this). */
export const COMMAND_TREE: readonly CommandNode[] = [
  { module: bootstrapCommand },
  { module: buildCommand },
  { module: checkCommand },
  { module: compareCommand },
  { module: ingestCommand },
  { module: initCommand },
  { module: planCommand },
  { module: serveCommand },
  { module: sourceCheckCommand },
  { module: sumdbCommand, subcommands: SUMDB_SUBCOMMANDS.map((module) => ({ module })) },
  { module: tagsCommand },
  { module: verifyCommand },
  { module: logCommand },
  { module: publishCommand },
];

function parser(argv: readonly string[], io: CliIo) {
  const cli = yargs([...argv])
    .scriptName('witness')
    .locale('en')
    .detectLocale(false)
    // One value per occurrence of a list option (--target a --target b), never the positionals after it.
    .parserConfiguration({ 'greedy-arrays': false })
    .usage('$0 <command> [options]\n\nIndependently verify Go toolchains against the Go git repository, in a signed append-only log.')
    .option('log', { type: 'string', describe: `The witness log: a folder (or an http(s) URL for compare/verify/log); default: ./${DEFAULT_LOG_DIR} if present, else the embedded log`, global: true })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output: one JSON document on stdout, also for errors', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'Print the stack of an internal error (also WITNESS_DEBUG=1)', global: true })
    .middleware(((parsed: Record<string, unknown>, instance: unknown) => checkArguments(parsed, instance, argv, COMMAND_TREE)) as unknown as MiddlewareFunction, false);
  for (const node of COMMAND_TREE) cli.command(node.module);
  // yargs renders the whole help text of a command each time its handler starts (command.js calls
  // usage.cacheHelpMessage, for a later showHelp()). This CLI never calls showHelp, and --help renders
  // its own text, so that rendering is skipped: it was about a tenth of `witness compare`'s CPU time.
  const usage = (cli as unknown as { getInternalMethods?: () => { getUsageInstance(): { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => {};
  return cli
    .demandCommand(1)
    .strict()
    .help()
    .alias('h', 'help')
    .version(WITNESS_VERSION)
    .epilogue('Exit codes: 0 ok; 1 verification failure or mismatch; 2 usage or environment error.')
    .fail((message, error, instance) => {
      throw usageFailure(message, error, instance, argv, COMMAND_TREE);
    })
    .exitProcess(false)
    .wrap(Math.min(110, io.stdout.columns || 100));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Reports an error the way the CLI promises; returns the exit code. */
export function reportFailure(error: unknown, current: CliSession): number {
  if (error instanceof WitnessError) {
    const exitCode = current.errorExitCode ?? exitCodeOf(error);
    printWitnessError(error, current.io.stderr);
    if (current.json) current.io.stdout.write(jsonText({ error: { code: error.code, message: oneLine(error.message), category: error.category, exitCode } }));
    return exitCode;
  }
  const message = oneLine(error instanceof Error ? error.message : String(error)) || 'unknown error';
  printError(`witness: internal error: ${message} (run with --debug for the stack)`, current.io.stderr);
  if (current.debug) printError(error instanceof Error ? (error.stack ?? message) : String(error), current.io.stderr);
  if (current.json) current.io.stdout.write(jsonText({ error: { code: 'INTERNAL_ERROR', message: `internal error: ${message}`, category: 'internal', exitCode: 2 } }));
  return 2;
}

/** Runs one command line; returns its exit code. Never throws. */
export async function run(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const current: CliSession = {
    io,
    json: flagRequested(argv, 'json'),
    debug: flagRequested(argv, 'debug') || process.env.WITNESS_DEBUG === '1',
    exitCode: 0,
    wroteStdout: false,
  };
  return runSession(current, async () => {
    try {
      let output = '';
      await parser(argv, io).parseAsync([...argv], {}, (_error, _parsed, text) => {
        output = text;
      });
      // --help and --version: yargs hands their text to the parse callback instead of printing it.
      if (output) io.stdout.write(`${output}\n`);
      // A line whose only words come after `--` (`witness -- x`) satisfies yargs' demandCommand (the words
      // after `--` are positionals) and runs no command: it is refused, never a silent exit 0.
      else if (commandPath(argv, COMMAND_TREE).length === 0) throw new UsageError('MISSING_COMMAND', 'name a command before -- (see witness --help)');
      return current.exitCode;
    } catch (error) {
      return reportFailure(error, current);
    } finally {
      finishProgress();
    }
  });
}

/** Whether this module is the program itself (`node dist/witness.mjs ...`), not imported (bin/witness.js, tests). */
function isProgram(): boolean {
  try {
    return process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

if (isProgram()) process.exitCode = await run(process.argv.slice(2));
