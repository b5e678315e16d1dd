// The CLI's exit codes, decided here from the error's class (the library's errors carry no CLI policy):
// 0 ok; 1 a verification failure or mismatch (data that is malformed or fails a check); 2 a usage or
// environment error. Commands set 0 or 1 for their outcomes themselves (src/cli/output.ts setExitCode).
import { EnvironmentError, FormatError, UsageError, VerificationError, type WitnessError } from '../errors.js';

/** The exit code for a failure that ends a command. */
export function exitCodeOf(error: WitnessError): 1 | 2 {
  if (error instanceof FormatError || error instanceof VerificationError) return 1;
  if (error instanceof UsageError || error instanceof EnvironmentError) return 2;
  // A WitnessError of another class would be a bug; it ends the run as an internal error does.
  return 2;
}

/** Whether the CLI prints the failure as `FAILED:` (the data failed, not the command line or machine). */
export function isFailedCheck(error: WitnessError): boolean {
  return error instanceof FormatError || error instanceof VerificationError;
}
