import { stat } from 'node:fs/promises';
import path from 'node:path';
import { EMBEDDED_LOG_DIR } from '../embedded.js';
import { UsageError } from '../errors.js';
import { DEFAULT_LOG_DIR } from '../log/layout.js';

/**
 * `--log` when given; else `./witness-log` when the current folder has one; else the embedded log that
 * ships with this package (so `witness compare` and `witness verify` work from any folder).
 */
export async function resolveLogLocation(value: string | undefined): Promise<string> {
  if (value !== undefined) return value;
  if ((await stat(DEFAULT_LOG_DIR).catch(() => undefined))?.isDirectory()) return path.resolve(DEFAULT_LOG_DIR);
  return EMBEDDED_LOG_DIR;
}

/** The log folder for a command that writes to it (or needs its git work tree): a URL is refused. */
export async function resolveLogFolder(value: string | undefined, command: string): Promise<string> {
  const location = await resolveLogLocation(value);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(location)) throw new UsageError('LOG_URL_NOT_ALLOWED', `${command} needs the log folder (a git work tree), not a URL: --log ${location}`);
  return location;
}
