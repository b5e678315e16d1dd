// The on-disk layout of a witness log folder. It is a C2SP tlog-tiles static log (c2sp.org/tlog-tiles):
//   checkpoint                      the signed checkpoint (c2sp.org/tlog-checkpoint), written last
//   tile/<L>/<N>[.p/<W>]            hash tiles
//   tile/entries/<N>[.p/<W>]        entry bundles
// plus files of our own:
//   log.vkey                        the log's verifier key (Go note format), one line
//   .gitattributes                  "* -text": git must never convert line endings in tiles
//   build-logs/<sha256>.log         build logs, content-addressed, named by build records
import path from 'node:path';
import { TILE_WIDTH, parseTilePath } from '../tlog/tile.js';

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

/** The largest build log accepted (as `witness ingest` accepts). */
export const MAX_BUILD_LOG_BYTES = 16 * 1024 * 1024;

/**
 * The largest file of each kind a reader of a log accepts: a hostile log must never make a reader hold
 * more than its format allows. A hash tile is at most 256 hashes; an entry bundle 256 entries of at most
 * 65,535 bytes, each with its 2-byte length (c2sp.org/tlog-tiles); a checkpoint a note of at most 1e6
 * bytes of text plus its signature lines.
 */
export function maxLogFileBytes(relative: string): number {
  if (relative === CHECKPOINT_FILE || /^cosigned\/[0-9a-f]{64}\/checkpoint$/.test(relative)) return 2 * 1024 * 1024;
  if (relative === VERIFIER_KEY_FILE || relative === GITATTRIBUTES_FILE) return 64 * 1024;
  if (buildLogHash(relative) !== undefined) return MAX_BUILD_LOG_BYTES;
  if (relative === 'tags.txt' || relative === 'builds.txt') return 64 * 1024 * 1024;
  try {
    const tile = parseTilePath(relative);
    return tile.level === 'entries' ? TILE_WIDTH * (2 + 65_535) : TILE_WIDTH * 32;
  } catch {
    return 1024 * 1024;
  }
}
