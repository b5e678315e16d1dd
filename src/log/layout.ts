// The on-disk layout of a witness log folder. It is a C2SP tlog-tiles static log (c2sp.org/tlog-tiles):
//   checkpoint                      the signed checkpoint (c2sp.org/tlog-checkpoint), written last
//   tile/<L>/<N>[.p/<W>]            hash tiles
//   tile/entries/<N>[.p/<W>]        entry bundles
// plus files of our own:
//   log.vkey                        the log's verifier key (Go note format), one line
//   .gitattributes                  "* -text": git must never convert line endings in tiles
//   build-logs/<sha256>.log         build logs, content-addressed, named by build records
import path from 'node:path';

export const CHECKPOINT_FILE = 'checkpoint';
export const VERIFIER_KEY_FILE = 'log.vkey';
export const GITATTRIBUTES_FILE = '.gitattributes';
export const GITATTRIBUTES_CONTENT = '# Written by go-source-witness: tiles and checkpoints are byte-exact.\n* -text\n';
export const DEFAULT_LOG_DIR = 'witness-log';

/** Files of the log folder that are not tiles. */
export const METADATA_FILES = [CHECKPOINT_FILE, VERIFIER_KEY_FILE, GITATTRIBUTES_FILE] as const;

export const BUILD_LOGS_DIR = 'build-logs';
const BUILD_LOG_FILE = /^build-logs\/([0-9a-f]{64})\.log$/;

/** `build-logs/<sha256>.log`: where a build record's log is kept, named by its SHA-256. */
export function buildLogPath(sha256: string): string {
  return `${BUILD_LOGS_DIR}/${sha256}.log`;
}

/** The SHA-256 a build log file is named by, if `file` is one. */
export function buildLogHash(file: string): string | undefined {
  return BUILD_LOG_FILE.exec(file)?.[1];
}

export function logFile(dir: string, relative: string): string {
  return path.join(dir, ...relative.split('/'));
}
