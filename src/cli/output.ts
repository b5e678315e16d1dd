import { AsyncLocalStorage } from 'node:async_hooks';
import type { WitnessError } from '../errors.js';
import { visibleText } from '../visible-text.js';
import { isFailedCheck } from './exit-code.js';

// Where the CLI writes: one session per `run(argv, io)` (src/cli/main.ts), so the command line can run
// in-process with its own stdout, stderr and stdin (tests), or on the process's own streams (bin/witness.js).
// Human text on stdout; with --json exactly one JSON document on stdout (bigints as strings).

export interface CliStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIo {
  readonly stdout: CliStream;
  readonly stderr: CliStream;
  readonly stdin: AsyncIterable<unknown> & { readonly isTTY?: boolean };
}

export interface CliSession {
  readonly io: CliIo;
  /** --json: stdout holds one JSON document, progress is quiet. */
  readonly json: boolean;
  /** --debug or WITNESS_DEBUG=1: internal errors print their stack. */
  readonly debug: boolean;
  /** The outcome a command reports (e.g. compare's 1 for differences); errors decide their own. */
  exitCode: number;
  /** The exit code of any error in this command, when the command's contract fixes it (compare: 2). */
  errorExitCode?: number;
  /** Whether anything was written on stdout (with --json: the document). */
  wroteStdout: boolean;
  /** Progress on stderr (src/cli/progress.ts), ended before the result is printed. */
  progress?: { finish(): void };
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}

const sessions = new AsyncLocalStorage<CliSession>();
let fallback: CliSession | undefined;

export function runSession<T>(session: CliSession, body: () => Promise<T>): Promise<T> {
  return sessions.run(session, body);
}

/** The current command's session (outside `run`, the process's own streams). */
export function session(): CliSession {
  return sessions.getStore() ?? (fallback ??= { io: processIo(), json: false, debug: false, exitCode: 0, wroteStdout: false });
}

/** Sets the command's exit code (0 ok, 1 mismatch or verification failure, 2 usage or environment). */
export function setExitCode(code: number): void {
  session().exitCode = code;
}

function writeStdout(text: string): void {
  const current = session();
  current.progress?.finish();
  current.wroteStdout = true;
  current.io.stdout.write(text);
}

export function jsonText(value: unknown): string {
  return `${JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item), 2)}\n`;
}

export function printJson(value: unknown): void {
  writeStdout(jsonText(value));
}

/** Human text: invisible characters (bidi controls, zero-width; src/visible-text.ts) shown as `<U+202E>`. */
export function printLines(lines: readonly string[]): void {
  writeStdout(lines.map((line) => `${visibleText(line)}\n`).join(''));
}

/** A line on stderr (diagnostics; never with --json on stdout). */
export function printError(line: string, to: CliStream = session().io.stderr): void {
  to.write(`${line}\n`);
}

/** The one line the CLI prints on stderr for a WitnessError. */
export function printWitnessError(error: WitnessError, to: CliStream = session().io.stderr): void {
  const failed = isFailedCheck(error) ? 'FAILED: ' : '';
  printError(`witness: ${failed}${error.message.replace(/\s*\n\s*/g, ' ')} [${error.code}]`, to);
}

/** Fixed-width label column for human summaries. */
export function field(label: string, value: string): string {
  return `  ${label.padEnd(14)} ${value}`;
}
