// Typed errors (modelled on sigstore-js verify/src/error.ts): every failure the tool reports carries a
// stable `code`, a message a user can act on, and a category that the CLI maps to an exit code.

/** What kind of failure this is; decides the CLI exit code (see README "Exit codes"). */
export type ErrorCategory =
  /** Malformed data: a note, key, checkpoint, proof, tile, record or other input that does not parse. */
  | 'format'
  /** Well-formed data that fails a check: a bad signature, a proof or hash that does not match. */
  | 'verification'
  /** Bad command-line use or arguments. */
  | 'usage'
  /** The environment is not as needed: a missing file or program, wrong permissions, a held lock. */
  | 'environment';

export class WitnessError extends Error {
  override readonly name: string = 'WitnessError';
  constructor(
    readonly code: string,
    message: string,
    readonly category: ErrorCategory,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** 1 for data that is malformed or fails verification, 2 for usage and environment errors. */
  get exitCode(): 1 | 2 {
    return this.category === 'usage' || this.category === 'environment' ? 2 : 1;
  }
}

/** Input that does not parse. `code` names what was being parsed, e.g. `MALFORMED_NOTE`. */
export class FormatError extends WitnessError {
  override readonly name = 'FormatError';
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'format', options);
  }
}

/** Input that parses but fails a cryptographic or consistency check. */
export class VerificationError extends WitnessError {
  override readonly name = 'VerificationError';
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'verification', options);
  }
}

export class UsageError extends WitnessError {
  override readonly name = 'UsageError';
  constructor(message: string, code = 'USAGE', options?: { cause?: unknown }) {
    super(code, message, 'usage', options);
  }
}

export class EnvironmentError extends WitnessError {
  override readonly name = 'EnvironmentError';
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, 'environment', options);
  }
}
