import { EnvironmentError } from '../errors.js';
import { VERIFIER_KEY_FILE } from '../log/layout.js';
import { logSource } from '../log/source.js';
import type { VerifiedTagLog } from '../tags/compare.js';
import { resolveLogLocation } from './log-location.js';
import { resolveVerifierKey } from './vkey.js';

/** The log's verified tag state, for commands that check a repository's tags against it (build, bootstrap). */
export async function openVerifiedTagLog(logOption: string | undefined, vkeyOption?: string): Promise<VerifiedTagLog> {
  const { readVerifiedTagLog } = await import('../tags/compare.js');
  const location = await resolveLogLocation(logOption);
  let verifierKey = await resolveVerifierKey(vkeyOption, location);
  if (verifierKey === undefined) {
    // Read as every log file is: never through a symbolic link, bounded (src/log/source.ts).
    const stored = await logSource(location).read(VERIFIER_KEY_FILE);
    if (!stored) throw new EnvironmentError('LOG_NOT_FOUND', `no ${VERIFIER_KEY_FILE} in ${location}: is it a witness log?`);
    verifierKey = Buffer.from(stored).toString('utf8').trim();
  }
  return readVerifiedTagLog(location, verifierKey);
}

/** Every record of the log, read from entries verified against its signed checkpoint (pinned key where known). */
export async function openVerifiedRecords(logOption: string | undefined, vkeyOption?: string) {
  const { LogReader } = await import('../log/reader.js');
  const { parseRecord } = await import('../log/record.js');
  const location = await resolveLogLocation(logOption);
  const verifierKey = await resolveVerifierKey(vkeyOption, location);
  const reader = await LogReader.open(location, verifierKey !== undefined ? { verifierKey } : {});
  const { checkpoint, entries } = await reader.readVerifiedEntries();
  return { reader, checkpoint, records: entries.map((entry, i) => ({ index: BigInt(i), record: parseRecord(entry) })) };
}
