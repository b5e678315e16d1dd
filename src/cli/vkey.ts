import { readFile, realpath, stat } from 'node:fs/promises';
import { EMBEDDED_LOG_DIR, EMBEDDED_LOG_ORIGIN, EMBEDDED_LOG_VERIFIER_KEY } from '../embedded.js';
import { VERIFIER_KEY_FILE } from '../log/layout.js';
import { logSource } from '../log/source.js';

/**
 * The verifier key to check a log against. `--vkey` takes the key itself (name+hash+base64) or a file
 * holding it. Without it, a log whose folder names the embedded log's origin is checked against the
 * embedded key shipped with this package (pinned), never against the folder's own copy; any other log
 * uses its folder's log.vkey (undefined here), which the report marks as not pinned.
 */
export async function resolveVerifierKey(value: string | undefined, logLocation: string): Promise<string | undefined> {
  if (value !== undefined) {
    if (/^[^\s+]+\+[0-9a-f]{8}\+/.test(value)) return value.trim();
    const info = await stat(value).catch(() => undefined);
    if (info?.isFile()) return (await readFile(value, 'utf8')).trim();
    return value.trim();
  }
  // The embedded log's own folder is always checked against the embedded key, whatever its log.vkey says.
  const here = await realpath(logLocation).catch(() => undefined);
  const embedded = await realpath(EMBEDDED_LOG_DIR).catch(() => undefined);
  if (here !== undefined && here === embedded) return EMBEDDED_LOG_VERIFIER_KEY;
  const stored = await logSource(logLocation).read(VERIFIER_KEY_FILE).catch(() => undefined);
  const folderKey = Buffer.from(stored ?? []).toString('utf8');
  if (folderKey.split('+')[0] === EMBEDDED_LOG_ORIGIN) return EMBEDDED_LOG_VERIFIER_KEY;
  return undefined;
}
