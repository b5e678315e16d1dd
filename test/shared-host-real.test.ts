// The shared host's equivalence with real builds, opt-in: go1.21.0 for darwin/arm64, windows/amd64,
// linux/arm (go1.21.0's published GOARM=7 default: golang/go#62164) and linux/386, each built the full
// way (`witness build --full`, one make.bash -distpack per target) and the shared-host way (one
// `witness build` for all four: the host phases once), and every distpack file compared by SHA-256. Any
// difference is a bug of src/rebuild/shared-host.ts. Takes 5 real builds' worth of time per way (~1 h on a
// quiet 2-core machine, much more under load) and ~1 GB per build; skipped unless
//
//   WITNESS_REAL_BUILDS=1  WITNESS_GO_REPO=<a Go repository whose go1.21.0 tag the embedded log records>
//
// Optional: WITNESS_REAL_TARGETS (comma-separated), WITNESS_BOOTSTRAP (default /usr/lib/go-1.19),
// WITNESS_REAL_WORK (parent of the work folders; default the system temp folder).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { hashFile } from '../src/rebuild/distpack.js';
import { parseBuildResult, type BuiltResult } from '../src/rebuild/result.js';
import { tempDir } from './helpers/fixtures.js';
import { runWitnessAsync } from './helpers/tag-repo.js';

const repository = process.env.WITNESS_GO_REPO;
const enabled = process.env.WITNESS_REAL_BUILDS === '1' && repository !== undefined && repository !== '';
const targets = (process.env.WITNESS_REAL_TARGETS ?? 'darwin/arm64,windows/amd64,linux/arm,linux/386').split(',').filter(Boolean);
const bootstrap = process.env.WITNESS_BOOTSTRAP ?? '/usr/lib/go-1.19';
const HOURS = 3_600_000;

interface BuildJson {
  target: string;
  outcome: string;
  method?: string;
  resultFile: string;
  distpackDir?: string;
}

async function build(args: string[]): Promise<BuildJson[]> {
  const env = { ...process.env };
  delete env.WITNESS_SIGNING_KEY;
  delete env.WITNESS_COSIGNER_KEY;
  const work = process.env.WITNESS_REAL_WORK ? ['--work', process.env.WITNESS_REAL_WORK] : [];
  // One build takes minutes (the helper's default would kill it after 120 s: this test never got past its first build before).
  const result = await runWitnessAsync(['build', 'go1.21.0', '--go-repo', repository!, '--bootstrap', bootstrap, ...work, '--json', ...args], { env, timeoutMs: 4 * HOURS });
  assert.equal(result.code, 0, `witness build ${args.join(' ')}: exit ${result.code}\n${result.stderr.slice(-4000)}\n${result.stdout.slice(-2000)}`);
  return JSON.parse(result.stdout) as BuildJson[];
}

test(
  `go1.21.0 shared-host builds are byte-identical to full builds (${targets.join(', ')})`,
  { skip: enabled ? false : 'set WITNESS_REAL_BUILDS=1 and WITNESS_GO_REPO=<Go repository> to run 2x4 real builds', timeout: 8 * HOURS },
  async (t) => {
    assert.ok(existsSync(path.join(bootstrap, 'bin', 'go')), `no bootstrap toolchain at ${bootstrap} (set WITNESS_BOOTSTRAP)`);
    const full: BuildJson[] = [];
    for (const target of targets) full.push(...(await build(['--full', '--target', target, '--out', tempDir('witness-real-full-')])));
    const shared = await build([...targets.flatMap((target) => ['--target', target]), '--out', tempDir('witness-real-shared-')]);
    const hosts = new Set<string>();
    for (const [i, target] of targets.entries()) {
      const a = parseBuildResult(readFileSync(full[i]!.resultFile), path.basename(full[i]!.resultFile)) as BuiltResult;
      const b = parseBuildResult(readFileSync(shared[i]!.resultFile), path.basename(shared[i]!.resultFile)) as BuiltResult;
      assert.equal(a.outcome, 'built');
      assert.equal(b.outcome, 'built');
      assert.equal(a.method, 'full');
      assert.match(b.method!, /^shared-host sha256:/);
      hosts.add(b.method!);
      assert.deepEqual(b.files, a.files, `${target}: every distpack file byte for byte`);
      assert.deepEqual(b.goSum, a.goSum);
      // The hashes in the results are of the files kept beside them.
      for (const file of b.files) assert.equal((await hashFile(path.join(shared[i]!.distpackDir!, file.name))).sha256, file.sha256);
      t.diagnostic(`${target}: ${a.files.length} files identical; ${a.goSum[0]}`);
    }
    assert.equal(hosts.size, 1, 'one host state for all four');
  },
);
