// A real build, opt-in: the witness builds a Go release from a real Go repository with make.bash
// -distpack, ingests it offline into a fresh log, and the module zip's h1 is compared with the public
// sum.golang.org record of the same toolchain (test/vectors/toolchain-records.txt, a verbatim copy of
// shared/testdata) when that file holds it. Takes ~10 minutes and ~1 GB; skipped unless
//
//   WITNESS_E2E_BUILD=1  WITNESS_GO_REPO=<a clone of https://go.googlesource.com/go with the release tag>
//
// and optionally WITNESS_E2E_VERSION (default go1.21.0; go1.21.9 is one whose h1 the records file has),
// WITNESS_BOOTSTRAP (default /usr/lib/go-1.19: enough for go1.21; go1.22 and go1.23 need a go1.20, see
// witness bootstrap), WITNESS_E2E_PUBLISHED (a go.dev/dl JSON listing file to compare the archives with).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseBuildResult } from '../src/rebuild/result.js';
import { ROOT, tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { runWitnessAsync } from './helpers/tag-repo.js';

const repository = process.env.WITNESS_GO_REPO;
const enabled = process.env.WITNESS_E2E_BUILD === '1' && repository !== undefined && repository !== '';
const version = process.env.WITNESS_E2E_VERSION ?? 'go1.21.0';
const bootstrap = process.env.WITNESS_BOOTSTRAP ?? '/usr/lib/go-1.19';
const published = process.env.WITNESS_E2E_PUBLISHED;
const MINUTES = 60_000;

/** The h1 of golang.org/toolchain@v0.0.1-<version>.linux-amd64 in the public records file, if it has one. */
function publicZipHash(): string | undefined {
  const records = readFileSync(path.join(ROOT, 'test', 'vectors', 'toolchain-records.txt'), 'utf8');
  const prefix = `golang.org/toolchain v0.0.1-${version}.linux-amd64 `;
  return records.split('\n').find((line) => line.startsWith(prefix))?.slice(prefix.length);
}

/** Runs the CLI without a key in its environment (build refuses to start with one), for up to `timeout` ms. */
async function witness(args: string[], timeout: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.WITNESS_SIGNING_KEY;
  delete env.WITNESS_COSIGNER_KEY;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`witness ${args[0]} did not finish in ${timeout / MINUTES} minutes`)), timeout);
  });
  try {
    return await Promise.race([runWitnessAsync(args, { env }), expired]);
  } finally {
    clearTimeout(timer);
  }
}

test(
  `a real build of ${version} for linux/amd64 reproduces the public toolchain module`,
  {
    skip: enabled ? false : 'set WITNESS_E2E_BUILD=1 and WITNESS_GO_REPO=<Go repository> to run a real build (~10 min)',
    timeout: 20 * MINUTES,
  },
  async (t) => {
    assert.ok(existsSync(path.join(bootstrap, 'bin', 'go')), `no bootstrap toolchain at ${bootstrap} (set WITNESS_BOOTSTRAP)`);
    const key = testSignerKey('example.com/e2e-log', 41);
    const keyFile = writeKeyFile(key.skey);
    const logDir = path.join(tempDir('witness-e2e-log-'), 'log');
    const out = tempDir('witness-e2e-out-');
    const show = (r: { code: number; stdout: string; stderr: string }) => `exit ${r.code}\n${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`;

    const init = await witness(['init', '--log', logDir, '--origin', 'example.com/e2e-log', '--key', keyFile], 2 * MINUTES);
    assert.equal(init.code, 0, show(init));
    const tags = await witness(['tags', '--log', logDir, '--go-repo', repository!, '--key', keyFile], 5 * MINUTES);
    assert.equal(tags.code, 0, show(tags));

    const build = await witness(['build', version, '--log', logDir, '--go-repo', repository!, '--target', 'linux/amd64', '--bootstrap', bootstrap, '--out', out, '--json'], 18 * MINUTES);
    assert.equal(build.code, 0, show(build));
    const [built] = JSON.parse(build.stdout) as Array<{ resultFile: string; outcome: string; makeSeconds: number }>;
    assert.equal(built?.outcome, 'built');
    const result = parseBuildResult(readFileSync(built.resultFile), path.basename(built.resultFile));
    assert.ok(result.outcome === 'built');
    t.diagnostic(`make.bash -distpack took ${Math.round(built.makeSeconds)} s; ${result.goSum[0]}`);
    assert.deepEqual(result.sourceCheck.problems, []);
    assert.equal(result.sourceCheck.equal, true, 'the source tarball holds exactly the tag\'s git tree');
    assert.ok(result.sourceCheck.files > 10_000, `only ${result.sourceCheck.files} files in the source check`);
    const module = `v0.0.1-${version}.linux-amd64`;
    assert.equal(result.goSum[1], `golang.org/toolchain ${module}/go.mod h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=`);
    const expected = publicZipHash();
    if (expected) assert.equal(result.goSum[0], `golang.org/toolchain ${module} ${expected}`, 'the module zip h1 differs from sum.golang.org\'s record');
    else t.diagnostic(`test/vectors/toolchain-records.txt has no record of ${module}: its h1 is not compared (WITNESS_E2E_VERSION=go1.21.9 has one)`);

    const ingest = await witness(['ingest', built.resultFile, '--log', logDir, '--key', keyFile, '--offline', ...(published ? ['--published', published] : []), '--json'], 5 * MINUTES);
    assert.equal(ingest.code, 0, show(ingest));
    const report = JSON.parse(ingest.stdout) as { builds: Array<{ status: string; record: { verdicts: Array<{ file: string; status: string; source: string }> } }> };
    assert.equal(report.builds.length, 1);
    assert.equal(report.builds[0]!.status, published ? 'equal' : 'unchecked');
    if (published) {
      assert.deepEqual(
        report.builds[0]!.record.verdicts.filter((v) => v.source === 'go.dev').map((v) => [v.file, v.status]),
        [[`${version}.src.tar.gz`, 'equal'], [`${version}.linux-amd64.tar.gz`, 'equal']],
      );
    }
    const verify = await witness(['verify', '--log', logDir, '--vkey', key.vkey], 5 * MINUTES);
    assert.equal(verify.code, 0, show(verify));
    assert.match(readFileSync(path.join(logDir, 'builds.txt'), 'utf8'), new RegExp(`^[0-9]+ ${version.replace(/\./g, '\\.')} linux/amd64 (unchecked|equal) h1:`, 'm'));
  },
);
