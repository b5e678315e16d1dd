// Child process for the crash test: appends batches to a log until killed, printing "ok <size>" after
// each append has returned (the parent then knows those records must survive any crash).
import { WitnessLog } from '../../src/log/log.js';
import { parseSignerKey } from '../../src/tlog/note.js';
import { testRecords } from './fixtures.js';

const [dir, seedText, appendsText] = process.argv.slice(2);
const key = parseSignerKey(process.env.WITNESS_SIGNING_KEY ?? '');
let seed = Number(seedText);
const random = () => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed / 2147483648;
};
const log = await WitnessLog.open(dir!);
for (let i = 0; i < Number(appendsText); i++) {
  const count = 1 + Math.floor(random() * (random() < 0.2 ? 600 : 40));
  const result = await log.append(testRecords(count, Number(seedText) * 10_000 + i * 1000), key);
  process.stdout.write(`ok ${result.newSize}\n`);
}
process.stdout.write('done\n');
