// Child process for the crash test: appends batches to a log until killed, printing "ok <size>" after
// each append has returned (the parent then knows those records must survive any crash).
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { WitnessLog } from '../../src/log/log.js';
import { parseSignerKey } from '../../src/tlog-node/signer.js';
import { createHash } from 'node:crypto';
import { tagRecordToLogRecord } from '../../src/tags/record.js';
import { testRecords } from './fixtures.js';

const [dir, seedText, appendsText, kind = 'mixed'] = process.argv.slice(2);
const key = parseSignerKey(process.env.WITNESS_SIGNING_KEY ?? '');
let seed = Number(seedText);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const log = await WitnessLog.open(dir!);
for (let i = 0; i < Number(appendsText); i++) {
  const count = 1 + Math.floor(random() * (random() < 0.2 ? 600 : 40));
  // Half the batches are tag records, so kills also land around the tags.txt view.
  const records =
    kind === 'records' || (kind === 'mixed' && random() < 0.5)
      ? testRecords(count, Number(seedText) * 10_000 + i * 1000)
      : Array.from({ length: count }, (_, j) => {
          const oid = createHash('sha1').update(`${seedText}-${i}-${j}`).digest('hex');
          return tagRecordToLogRecord({
            event: 'new',
            ref: `refs/tags/crash-${seedText}-${i}-${j}`,
            pointer: { object: oid, objectType: 'commit', target: oid, targetType: 'commit', tree: oid },
            repository: 'https://example.com/crash',
            firstSeen: '2026-01-01T00:00:00Z',
          });
        });
  const result = await log.append(records, key);
  process.stdout.write(`ok ${result.newSize}\n`);
}
process.stdout.write('done\n');
