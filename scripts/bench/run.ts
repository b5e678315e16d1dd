// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
// Not a timed test: numbers depend on the machine. Select one with `npm run bench -- verify-log`.
import { benchBuild } from './build.js';
import { benchCompare } from './compare.js';
import { benchHash } from './hash.js';
import { benchSandbox } from './sandbox.js';
import { benchScan } from './scan.js';
import { benchServe } from './serve.js';
import { benchSharedHost } from './shared-host.js';
import { benchSumdbTiles } from './sumdb-tiles.js';
import { benchVerifyLog } from './verify-log.js';

const benches: Record<string, () => Promise<void>> = {
  build: benchBuild,
  compare: benchCompare,
  hash: benchHash,
  sandbox: benchSandbox,
  scan: benchScan,
  serve: benchServe,
  'shared-host': benchSharedHost,
  'sumdb-tiles': benchSumdbTiles,
  'verify-log': benchVerifyLog,
};
const selected = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (selected.length > 0 && !selected.includes(name)) continue;
  await run();
}
