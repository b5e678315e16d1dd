// The paths of a Go checksum database (golang/mod sumdb/client.go and sumdb/tlog/tile.go; "Checksum
// database" in https://go.dev/ref/mod#checksum-database):
//
//   <base>/latest                              the signed tree head
//   <base>/tile/8/<L>/<N>[.p/<W>]              hash tiles of height 8 (c2sp.org/tlog-tiles numbering)
//   <base>/tile/8/data/<N>[.p/<W>]             data tiles: the record texts of leaves N·256 …
//   <base>/lookup/<escaped path>@<escaped ver> `<id>\n<text>\n` + the signed tree head
//
// Module paths and versions are escaped as golang/mod module.EscapePath / EscapeVersion do.
import { FormatError, UsageError } from '../errors.js';
import { type TileRef, parseTilePath, tilePath } from '../tlog/tile.js';

/** The height in Go sumdb tile paths: `tile/8/…`. */
export const SUMDB_TILE_HEIGHT = 8;

/** The Go sumdb path of a tile: `tile/8/<L>/<N>[.p/<W>]`, or `tile/8/data/<N>[.p/<W>]` for entries. */
export function sumdbTilePath(tile: TileRef): string {
  const path = tilePath(tile); // tile/<L>/… or tile/entries/…
  return tile.level === 'entries'
    ? `tile/${SUMDB_TILE_HEIGHT}/data/${path.slice('tile/entries/'.length)}`
    : `tile/${SUMDB_TILE_HEIGHT}/${path.slice('tile/'.length)}`;
}

/** Parses a Go sumdb tile path strictly (the inverse of sumdbTilePath; torchwood TilePath conversion). */
export function parseSumdbTilePath(path: string): TileRef {
  const prefix = `tile/${SUMDB_TILE_HEIGHT}/`;
  if (!path.startsWith(prefix) || path.startsWith(`${prefix}entries/`)) {
    throw new FormatError('MALFORMED_TILE_PATH', `${JSON.stringify(path)} is not a Go sumdb tile path`);
  }
  const rest = path.slice(prefix.length);
  return parseTilePath(rest.startsWith('data/') ? `tile/entries/${rest.slice('data/'.length)}` : `tile/${rest}`);
}

/**
 * Go module.EscapePath / EscapeVersion (golang/mod module/module.go): an upper-case letter X is written
 * "!x". Strings holding "!" or non-ASCII characters cannot be escaped (Go: "internal error").
 */
export function escapeModulePath(path: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[!\u0000-\u001f\u007f-\uffff]/.test(path)) {
    throw new UsageError('INVALID_MODULE', `${JSON.stringify(path)} cannot be escaped: it contains "!", a control or a non-ASCII character`);
  }
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

// Module paths (golang/mod module.CheckPath: letters, digits and "-._~" in "/"-separated elements) and
// versions (semantic versions, "+incompatible" included). Only characters that need no URL escaping.
const MODULE_PATH = /^[A-Za-z0-9\-._~]+(?:\/[A-Za-z0-9\-._~]+)*$/;
const MODULE_VERSION = /^v[0-9A-Za-z\-.+_~]+$/;

/** `lookup/<escaped path>@<escaped version>`; UsageError INVALID_MODULE for what is not a module version. */
export function lookupPath(modulePath: string, version: string): string {
  if (!MODULE_PATH.test(modulePath) || modulePath.split('/').some((element) => element === '.' || element === '..')) {
    throw new UsageError('INVALID_MODULE', `${JSON.stringify(modulePath)} is not a module path`);
  }
  if (!MODULE_VERSION.test(version)) throw new UsageError('INVALID_MODULE', `${JSON.stringify(version)} is not a module version`);
  return `lookup/${escapeModulePath(modulePath)}@${escapeModulePath(version)}`;
}
