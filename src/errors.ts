// Typed errors, modelled on sigstore-js packages/verify/src/error.ts (`BaseError<Code>`): every failure
// the tool reports carries a stable `code` from a closed union, so a misspelled code fails the typecheck,
// and a message a user can act on. The class says what kind of failure it is (FormatError,
// VerificationError, UsageError, EnvironmentError); what that means for a process's exit code is the
// CLI's policy (src/cli/exit-code.ts), not the library's. Every constructor takes (code, message).

/** The witness log stored in git (src/log): its folder, commits, lock, reader, sources and verification. */
export type LogErrorCode =
  | 'BAD_ATTACHMENT'
  | 'BAD_ORIGIN'
  | 'BUILD_LOG_CORRUPT'
  | 'CHECKPOINT_DELETED'
  | 'CHECKPOINT_NOT_COMMITTED'
  | 'EMPTY_APPEND'
  | 'FORKED_CHECKPOINT'
  | 'INCONSISTENT_CHECKPOINT'
  | 'LEAF_HASH_MISMATCH'
  | 'LOCK_FAILED'
  | 'LOG_CHANGED'
  | 'LOG_CORRUPT'
  | 'LOG_DIRTY'
  | 'LOG_EXISTS'
  | 'LOG_FETCH_FAILED'
  | 'LOG_LOCKED'
  | 'LOG_NOT_FOUND'
  | 'LOG_READ_FAILED'
  | 'LOG_ROLLED_BACK'
  | 'LOG_UNREADABLE'
  | 'MALFORMED_RECORD'
  | 'MESSAGE_CHECKPOINT_INVALID'
  | 'RECORD_TOO_LARGE'
  | 'ROOT_MISMATCH'
  | 'STALE_TILE_MISMATCH'
  | 'TILE_HASH_MISMATCH'
  | 'TILE_MISSING'
  | 'VIEW_MISMATCH'
  | 'VIEW_MISSING'
  | 'WRONG_SIGNING_KEY';

/** The tlog core (src/tlog): encodings, signed notes, checkpoints, cosignatures, Merkle proofs, tiles. */
export type TlogErrorCode =
  | 'BAD_PROOF_SIZES'
  | 'CONSISTENCY_PROOF_FAILED'
  | 'ENTRY_TOO_LARGE'
  | 'INCLUSION_PROOF_FAILED'
  | 'INDEX_OUT_OF_RANGE'
  | 'INVALID_SIGNATURE'
  | 'MALFORMED_BASE64'
  | 'MALFORMED_CHECKPOINT'
  | 'MALFORMED_COSIGNATURE'
  | 'MALFORMED_HASH'
  | 'MALFORMED_HEX'
  | 'MALFORMED_KEY_NAME'
  | 'MALFORMED_NOTE'
  | 'MALFORMED_NOTE_TEXT'
  | 'MALFORMED_PROOF'
  | 'MALFORMED_SIGNER_KEY'
  | 'MALFORMED_TEXT'
  | 'MALFORMED_TILE'
  | 'MALFORMED_TILE_PATH'
  | 'MALFORMED_VERIFIER_KEY'
  | 'NODE_UNAVAILABLE'
  | 'TILE_EDGE_MISMATCH'
  | 'TILE_ROOT_MISMATCH'
  | 'UNKNOWN_KEY_ALGORITHM'
  | 'UNVERIFIED_NOTE'
  | 'WRONG_ORIGIN';

/** The Go checksum database (src/sumdb): the client, its tiles and records, `h1:` hashes, GOSUMDB. */
export type SumdbErrorCode =
  | 'BAD_GOSUMDB'
  | 'BAD_TILES'
  | 'CHECKPOINT_MISMATCH'
  | 'HTTP_ERROR'
  | 'INCONSISTENT_TREE'
  | 'INVALID_MODULE'
  | 'INVALID_OPTION'
  | 'INVALID_URL'
  | 'MALFORMED_DATA_TILE'
  | 'MALFORMED_DIGEST'
  | 'MALFORMED_FILE_NAME'
  | 'NOT_A_DATA_TILE'
  | 'NOT_A_HASH_TILE'
  | 'OLDER_HEAD'
  | 'ORIGIN_MISMATCH'
  | 'RATE_LIMITED'
  | 'RESPONSE_TOO_LARGE'
  | 'SUMDB_FETCH_FAILED'
  | 'SUMDB_NOT_PROXIED'
  | 'SUMDB_OFF'
  | 'SUMDB_TIMEOUT'
  | 'SUMDB_UNAVAILABLE'
  | 'TILE_NOT_FOUND'
  | 'TILE_NOT_IN_TREE'
  | 'WRONG_RECORD';

/** Rebuilding Go from git (src/rebuild): targets, bootstrap chains, the sandbox, results, ingest, check. */
export type RebuildErrorCode =
  | 'AGREEMENT_RECORD_INVALID'
  | 'BAD_BOOTSTRAP'
  | 'BAD_BOOTSTRAP_MANIFEST'
  | 'COPY_FAILED'
  | 'SHARED_HOST_NATIVE'
  | 'BAD_BUILD_RESULT'
  | 'BAD_COMPILER'
  | 'BAD_LIMIT'
  | 'BAD_PER_JOB'
  | 'BAD_PUBLISHED_LISTING'
  | 'BAD_RECHECK'
  | 'BAD_TARGET'
  | 'BAD_VERSION'
  | 'BOOTSTRAP_BUILD_FAILED'
  | 'BOOTSTRAP_CHAIN_TOO_LONG'
  | 'BOOTSTRAP_INCOMPLETE'
  | 'BOOTSTRAP_MODIFIED'
  | 'BOOTSTRAP_RECORD_INVALID'
  | 'BOOTSTRAP_TAG_MISMATCH'
  | 'BOOTSTRAP_TAG_MISSING'
  | 'BRANCH_HEAD_MOVED'
  | 'BRANCH_HEAD_UNRECORDED'
  | 'BRANCH_NOT_FOUND'
  | 'BUILD_LOG_MISSING'
  | 'BUILD_LOG_MODIFIED'
  | 'BUILD_PROCESSES_SURVIVED'
  | 'PROC_UNREADABLE'
  | 'BUILD_RECORD_INVALID'
  | 'COMPILER_MISSING'
  | 'DISTPACK_INCOMPLETE'
  | 'DISTPACK_NOT_FOUND'
  | 'EXPORT_FAILED'
  | 'MAKE_FAILED_TO_START'
  | 'MALFORMED_AGREEMENT_RECORD'
  | 'MALFORMED_BOOTSTRAP_RECORD'
  | 'MALFORMED_BUILD_RECORD'
  | 'MALFORMED_TARBALL'
  | 'MALFORMED_ZIP'
  | 'MODCACHE_UNREADABLE'
  | 'NOTHING_TO_RECHECK'
  | 'NOT_A_BUILD_RECORD'
  | 'NOT_A_PORT'
  | 'NOT_REPRODUCIBLE_VERSION'
  | 'NOT_TOOLCHAIN_VERSION'
  | 'NOT_TOOLCHAIN_ZIP'
  | 'NO_DIST_SOURCE'
  | 'NO_FRESH_UID'
  | 'NO_RESULTS'
  | 'NO_TARGET'
  | 'PUBLISHED_UNREACHABLE'
  | 'RESULT_DISAGREES_WITH_LOG'
  | 'RESULT_TAG_MISMATCH'
  | 'RESULT_TAG_MOVED'
  | 'RESULT_UNREADABLE'
  | 'RESULT_WRONG_LOG'
  | 'SANDBOX_UNAVAILABLE'
  | 'TAG_MISMATCH'
  | 'TAG_NOT_FOUND'
  | 'TAG_NOT_IN_LOG'
  | 'UNSAFE_BUILD_OUTPUT'
  | 'WORK_NOT_EMPTY'
  | 'WORK_NOT_FOUND'
  | 'WORK_NOT_REACHABLE'
  | 'ZIP_WORKER_FAILED';

/**
 * The witness (src/cosign): its durable state, cosigned and evidence records, log lists, and the
 * tlog-witness add-checkpoint refusals (https://c2sp.org/tlog-witness#add-checkpoint).
 */
export type CosignErrorCode =
  | 'BAD_EMPTY_ROOT'
  | 'BAD_PROOF'
  | 'CONFLICT'
  | 'COSIGNED_RECORD_INVALID'
  | 'MALFORMED'
  | 'MALFORMED_COSIGNED_RECORD'
  | 'MALFORMED_LOG_LIST'
  | 'MALFORMED_REQUEST'
  | 'MALFORMED_SIZE'
  | 'OLD_SIZE_TOO_LARGE'
  | 'SPLIT_VIEW'
  | 'STATE_BEHIND_LOG'
  | 'STATE_CONFLICTS_LOG'
  | 'STATE_CORRUPT'
  | 'STATE_IO'
  | 'STATE_MISUSE'
  | 'STATE_ROLLBACK'
  | 'UNKNOWN_LOG';

/** Go tags (src/tags, src/gitsrc): tag records and their state, a repository's tags, show-ref text. */
export type TagsErrorCode = 'BAD_REPOSITORY_URL' | 'MALFORMED_SHOW_REF' | 'MALFORMED_TAG_RECORD' | 'TAG_RECORD_INVALID' | 'TAG_UNREADABLE';

/** The sumdb watcher (src/toolchains): toolchain records, the scan and its durable position. */
export type ToolchainsErrorCode =
  | 'MALFORMED_SCAN_RECORD'
  | 'MALFORMED_TOOLCHAIN_RECORD'
  | 'SCAN_RECORD_INVALID'
  | 'SCAN_WORKER_FAILED'
  | 'SCAN_FROM_MISMATCH'
  | 'SCAN_INCOMPLETE'
  | 'SCAN_STATE_CHANGED'
  | 'SCAN_STATE_CORRUPT'
  | 'STATE_NOT_A_FOLDER'
  | 'TOOLCHAIN_RECORD_INVALID';

/** The static site (src/publish): writing it, and deploying it to a branch or through the GitHub API. */
export type PublishErrorCode =
  | 'BAD_GITHUB_REPO'
  | 'BAD_REMOTE'
  | 'BLOB_MISMATCH'
  | 'EMPTY_SITE'
  | 'GITHUB_BAD_RESPONSE'
  | `GITHUB_HTTP_${number}`
  | 'GITHUB_UNREACHABLE'
  | 'OUT_IN_LOG'
  | 'OUT_NOT_SITE'
  | 'PUSH_REJECTED'
  | 'REMOTE_FAILED'
  | 'REMOTE_MOVED'
  | 'SITE_BAD_NAME'
  | 'SITE_NOT_REGULAR'
  | 'SITE_SYMLINK'
  | 'TOKEN_REQUIRED'
  | 'TREE_MISMATCH';

/** Signing and verifier keys (src/keyfile.ts and where a key is pinned or kept out of a build). */
export type KeyErrorCode =
  | 'BAD_VERIFIER_KEY'
  | 'KEY_EXISTS'
  | 'KEY_IN_BUILD_ENVIRONMENT'
  | 'KEY_IN_REPOSITORY'
  | 'KEY_NAME_MISMATCH'
  | 'KEY_NOT_FOUND'
  | 'KEY_PERMISSIONS'
  | 'KEY_REQUIRED'
  | 'KEY_WRITE_FAILED';

/** General tools no domain owns: files (src/infra/safe-open.ts), the git and go processes, branch names. */
export type InfraErrorCode =
  | 'BAD_BRANCH'
  | 'BAD_PATH'
  | 'FILE_IS_SYMLINK'
  | 'FILE_NOT_REGULAR'
  | 'FILE_TOO_LARGE'
  | 'GIT_FAILED'
  | 'GIT_NOT_FOUND'
  | 'GO_FAILED'
  | 'GO_NOT_FOUND'
  | 'NOT_A_FILE'
  | 'NOT_A_FOLDER'
  | 'NOT_A_GIT_REPOSITORY'
  | 'NOT_FOUND'
  | 'READ_FAILED';

/** The command line (src/cli): arguments, and what only a command checks (e.g. serve's address). */
export type CliErrorCode =
  | 'ADDRESS_IN_USE'
  | 'BAD_ARGUMENTS'
  | 'BAD_LISTEN_ADDRESS'
  | 'BAD_MODULE'
  | 'BAD_NUMBER'
  | 'BAD_OPTION'
  | 'BAD_URL'
  | 'BAD_VALUE'
  | 'CONFLICTING_OPTIONS'
  | 'LISTEN_FAILED'
  | 'LOGS_NOT_READABLE'
  | 'LOG_URL_NOT_ALLOWED'
  | 'MISSING_COMMAND'
  | 'MISSING_OPTION'
  | 'MISSING_VALUE'
  | 'NO_FILES'
  | 'NO_LOGS'
  | 'REPEATED_OPTION'
  | 'UNEXPECTED_ARGUMENT'
  | 'UNKNOWN_COMMAND'
  | 'UNKNOWN_OPTION'
  | 'USAGE';

/** Every code a WitnessError can carry. Codes are stable: scripts and `--json` readers match on them. */
export type ErrorCode =
  | LogErrorCode
  | TlogErrorCode
  | SumdbErrorCode
  | RebuildErrorCode
  | CosignErrorCode
  | TagsErrorCode
  | ToolchainsErrorCode
  | PublishErrorCode
  | KeyErrorCode
  | InfraErrorCode
  | CliErrorCode;

/** What kind of failure this is, as `--json` reports it; each class below has one. */
export type ErrorCategory =
  /** Malformed data: a note, key, checkpoint, proof, tile, record or other input that does not parse. */
  | 'format'
  /** Well-formed data that fails a check: a bad signature, a proof or hash that does not match. */
  | 'verification'
  /** Bad command-line use or arguments. */
  | 'usage'
  /** The environment is not as needed: a missing file or program, wrong permissions, a held lock. */
  | 'environment';

export abstract class WitnessError<Code extends ErrorCode = ErrorCode> extends Error {
  override readonly name: string = 'WitnessError';
  abstract readonly category: ErrorCategory;
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Input that does not parse. `code` names what was being parsed, e.g. `MALFORMED_NOTE`. */
export class FormatError<Code extends ErrorCode = ErrorCode> extends WitnessError<Code> {
  override readonly name = 'FormatError';
  readonly category = 'format';
}

/** Input that parses but fails a cryptographic or consistency check. */
export class VerificationError<Code extends ErrorCode = ErrorCode> extends WitnessError<Code> {
  override readonly name = 'VerificationError';
  readonly category = 'verification';
}

/** Bad use: an argument or option that cannot be acted on. */
export class UsageError<Code extends ErrorCode = ErrorCode> extends WitnessError<Code> {
  override readonly name = 'UsageError';
  readonly category = 'usage';
}

/** The environment is not as needed: a missing file or program, wrong permissions, a held lock. */
export class EnvironmentError<Code extends ErrorCode = ErrorCode> extends WitnessError<Code> {
  override readonly name = 'EnvironmentError';
  readonly category = 'environment';
}
