// The on-disk layout of a witness log folder. It is a C2SP tlog-tiles static log (c2sp.org/tlog-tiles):
//   checkpoint                      the signed checkpoint (c2sp.org/tlog-checkpoint), written last
//   tile/<L>/<N>[.p/<W>]            hash tiles
//   tile/entries/<N>[.p/<W>]        entry bundles
// plus files of our own:
//   log.vkey                        the log's verifier key (Go note format), one line
//   .gitattributes                  "* -text": git must never convert line endings in tiles
//   build-logs/<sha256>.log         build logs, content-addressed, named by build records
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { TILE_WIDTH, type TileRef, parseTilePath } from '../tlog/tile.js';
import { logSchema } from './schema.js';
import { isViewFile } from './views.js';

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
 * bytes of text plus its signature lines; a view what its fold declares.
 */
export function maxLogFileBytes(relative: string): number {
  if (relative === CHECKPOINT_FILE) return 2 * 1024 * 1024;
  if (relative === VERIFIER_KEY_FILE || relative === GITATTRIBUTES_FILE) return 64 * 1024;
  if (buildLogHash(relative) !== undefined) return MAX_BUILD_LOG_BYTES;
  // A view's limit is its fold's (src/log/schema.ts).
  const view = logSchema().maxViewBytes(relative);
  if (view !== undefined) return view;
  try {
    const tile = parseTilePath(relative);
    return tile.level === 'entries' ? TILE_WIDTH * (2 + 65_535) : TILE_WIDTH * 32;
  } catch {
    return 1024 * 1024;
  }
}

export function tryParseTilePath(file: string): TileRef | undefined {
  try {
    return parseTilePath(file);
  } catch {
    return undefined;
  }
}

/** Files below the log folder, slash-separated and relative; hidden files only when `includeHidden`. */
export async function listLogFiles(dir: string, includeHidden = false): Promise<string[]> {
  const out: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(path.join(dir, ...relative.split('/').filter(Boolean)), { withFileTypes: true });
    for (const entry of entries) {
      if (entry.name === '.git') continue;
      if (!includeHidden && entry.name.startsWith('.') && entry.name !== GITATTRIBUTES_FILE) continue;
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else out.push(child);
    }
  };
  await walk('');
  return out.sort();
}

/** Files of the log folder that are neither tiles nor unknown: checkpoint, key, attributes, views. */
export function isMetadataFile(file: string): boolean {
  return (METADATA_FILES as readonly string[]).includes(file) || isViewFile(file) || buildLogHash(file) !== undefined;
}
