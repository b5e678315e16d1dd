import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { VERIFIER_KEY_FILE } from '../log/layout.js';
import type { VerifiedTagLog } from '../tags/compare.js';
import { resolveLogLocation } from './log-location.js';
import { resolveVerifierKey } from './vkey.js';

/** The log's verified tag state, for commands that check a repository's tags against it (build, bootstrap). */
export async function openVerifiedTagLog(logOption: string | undefined, vkeyOption?: string): Promise<VerifiedTagLog> {
  const { readVerifiedTagLog } = await import('../tags/compare.js');
  const location = await resolveLogLocation(logOption);
  let verifierKey = await resolveVerifierKey(vkeyOption, location);
  if (verifierKey === undefined) {
    verifierKey = (
      await readFile(path.join(location, VERIFIER_KEY_FILE), 'utf8').catch(() => {
        throw new EnvironmentError('LOG_NOT_FOUND', `no ${VERIFIER_KEY_FILE} in ${location}: is it a witness log?`);
      })
    ).trim();
  }
  return readVerifiedTagLog(location, verifierKey);
}
