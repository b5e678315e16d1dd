import { stat } from 'node:fs/promises';
import path from 'node:path';
import { EMBEDDED_LOG_DIR } from '../embedded.js';
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
