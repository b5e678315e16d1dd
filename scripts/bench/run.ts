// `npm run bench`: every benchmark, each printing ratios against a baseline measured in the same run.
// Not a timed test: numbers depend on the machine. Select one with `npm run bench -- verify-log`.
import '../../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import { benchBuild } from './build.js';
import { benchCompare } from './compare.js';
import { benchGitTags } from './git-tags.js';
import { benchHash } from './hash.js';
import { benchSandbox } from './sandbox.js';
import { benchScan } from './scan.js';
import { benchServe } from './serve.js';
import { benchSha256 } from './sha256.js';
import { benchSharedHost } from './shared-host.js';
import { benchSumdbTiles } from './sumdb-tiles.js';
import { benchVerifyLog } from './verify-log.js';

const benches: Record<string, () => Promise<void>> = {
  build: benchBuild,
  compare: benchCompare,
  'git-tags': benchGitTags,
  hash: benchHash,
  sandbox: benchSandbox,
  scan: benchScan,
  serve: benchServe,
  sha256: benchSha256,
  'shared-host': benchSharedHost,
  'sumdb-tiles': benchSumdbTiles,
  'verify-log': benchVerifyLog,
};
const selected = process.argv.slice(2);
for (const [name, run] of Object.entries(benches)) {
  if (selected.length > 0 && !selected.includes(name)) continue;
  await run();
}
