// End to end through the CLI: `witness bootstrap` (src/rebuild/bootstrap.ts) builds a release's bootstrap
// chain from a root toolchain, and `witness build` uses it and refuses it when modified, against the
// Go-like fixture repository (helpers/go-fixture.ts).
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { tempDir } from './helpers/fixtures.js';
import { runningAsRoot, worldTempDir } from './helpers/go-fixture.js';
import {
  witness,
  expectCode,
  type Scenario,
  buildRecords,
  buildArgs,
  ingestArgs,
  parseBuilds,
  readResult,
  builtResult,
  buildLogText,
  newScenario,
  walk,
} from './helpers/build-scenario.js';

const AS_ROOT = runningAsRoot();

describe('witness plan, build, ingest, bootstrap (end to end)', { concurrency: true }, () => {
  describe('bootstrap toolchains', { concurrency: 1 }, () => {
    let s: Scenario;
    let bootstrapOut: string;
    let goroot: string;
    interface BootstrapJson {
      goroot: string;
      chain: Array<{ version: string; hash: string; commit?: string; tree?: string }>;
      built: string[];
    }

    before(async () => {
      s = await newScenario({ origin: 'example.com/bootstrap-log', seed: 37 });
      bootstrapOut = path.join(worldTempDir('witness-bootstrap-'), 'toolchains');
    });

    const bootstrap = (release: string) => witness(['bootstrap', release, '--log', s.logDir, '--go-repo', s.repo.dir, '--from', s.root, '--out', bootstrapOut, '--json']);

    test('bootstrap go1.22.0 builds go1.20.14 from the root go1.19.8; a second run reuses it', { timeout: 120_000 }, async () => {
      const first = await bootstrap('go1.22.0');
      expectCode(first, 0, 'bootstrap');
      const report = JSON.parse(first.stdout) as BootstrapJson;
      // Kept by what built it: <version>-<id>, so that chains from other roots can live beside it.
      goroot = report.goroot;
      assert.match(path.relative(bootstrapOut, goroot), /^go1\.20\.14-[0-9a-f]{12}$/);
      assert.deepEqual(report.built, ['go1.20.14']);
      const tag = s.repo.tags.get('go1.20.14')!;
      assert.deepEqual(report.chain.map((b) => [b.version, b.commit, b.tree]), [['go1.20.14', tag.commit, tag.tree], ['go1.19.8', undefined, undefined]]);
      assert.equal((report.chain[1] as { root?: string }).root, 'binary');
      assert.equal(execFileSync(path.join(goroot, 'bin', 'go'), ['version'], { encoding: 'utf8' }), 'go version go1.20.14 linux/amd64\n');
      const manifest = JSON.parse(readFileSync(`${goroot}.bootstrap.json`, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(
        { ...manifest, built: undefined, seconds: undefined },
        { schema: 'go-source-witness/bootstrap/v1', version: 'go1.20.14', commit: tag.commit, tree: tag.tree, hash: report.chain[0]!.hash, builtWith: [report.chain[1]], built: undefined, seconds: undefined },
      );
      assert.match(readFileSync(`${goroot}.bootstrap.log`, 'utf8'), /^Installed Go for linux\/amd64 in /m);
      const name = path.basename(goroot);
      assert.deepEqual(readdirSync(bootstrapOut).sort(), [name, `${name}.bootstrap.json`, `${name}.bootstrap.log`]);

      const [again, go121] = await Promise.all([bootstrap('go1.22.0'), bootstrap('go1.21.0')]);
      expectCode(again, 0, 'bootstrap again');
      const second = JSON.parse(again.stdout) as BootstrapJson;
      assert.deepEqual(second.built, []);
      assert.deepEqual(second.chain, report.chain);
      expectCode(go121, 0, 'bootstrap go1.21.0 (the root is enough)');
      const direct = JSON.parse(go121.stdout) as BootstrapJson;
      assert.deepEqual({ goroot: direct.goroot, built: direct.built, chain: direct.chain.map((b) => b.version) }, { goroot: s.root, built: [], chain: ['go1.19.8'] });
    });

    test('bootstrap --out and build --work that the build user cannot reach are refused at once (exit 2, one line, nothing made)', { timeout: 120_000, skip: AS_ROOT ? false : 'only when root (builds run as a fresh uid)' }, async () => {
      // A parent without o+x: the fresh build uid could not enter it, and make.bash would fail minutes in.
      const closed = path.join(worldTempDir('witness-closed-'), 'private');
      mkdirSync(closed);
      chmodSync(closed, 0o700);
      const out = path.join(closed, 'toolchains');
      const run = await witness(['bootstrap', 'go1.22.0', '--log', s.logDir, '--go-repo', s.repo.dir, '--from', s.root, '--out', out]);
      expectCode(run, 2, 'bootstrap into an unreachable --out');
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`${closed.replace(/[/.]/g, '\\$&')} does not let others enter it \\(mode 700\\); choose a --out folder whose parents have o\\+x`));
      assert.equal(existsSync(out), false, 'nothing was made');
      const buildOut = path.join(worldTempDir('witness-closed-out-'), 'out');
      const build = await witness(buildArgs(s, 'go1.21.0', buildOut, { work: closed }));
      expectCode(build, 2, 'build in an unreachable --work');
      assert.match(build.stdout + build.stderr, /WORK_NOT_REACHABLE|does not let others enter it/);
      assert.deepEqual(readdirSync(closed), [], 'nothing was made in the work folder');
      assert.equal(existsSync(buildOut), false, 'nor the --out folder');
    });

    test('the bootstrap toolchain is not left writable by the build user', { timeout: 120_000, skip: AS_ROOT ? false : 'only when root (builds run as a fresh uid)' }, () => {
      const { files } = walk(goroot);
      const writable = files.filter((file) => statSync(file).uid !== 0 || (statSync(file).mode & 0o002) !== 0);
      assert.deepEqual(writable.map((f) => path.relative(goroot, f)), []);
      assert.equal(statSync(goroot).uid, 0);
    });

    test('go1.22.0 fails with the root go1.19.8 (make.bash wants go1.20), and builds with the bootstrap; result and record carry the chain', { timeout: 120_000 }, async () => {
      const out = tempDir('witness-bootstrap-build-');
      const [direct, chained] = await Promise.all([
        witness(buildArgs(s, 'go1.22.0', tempDir('witness-direct-'))),
        witness(buildArgs(s, 'go1.22.0', out, { bootstrap: goroot })),
      ]);
      expectCode(direct, 1, 'go1.22.0 with go1.19.8');
      const failed = readResult(parseBuilds(direct)[0]!.resultFile);
      assert.ok(failed.outcome === 'failed');
      assert.match(failed.failure.reason, /go1\.19\.8 .*is too old: go1\.22\.0 needs Go 1\.20 or newer/);
      expectCode(chained, 0, 'go1.22.0 with go1.20.14');
      const file = parseBuilds(chained)[0]!.resultFile;
      const result = builtResult(file);
      const tag = s.repo.tags.get('go1.20.14')!;
      assert.deepEqual(result.bootstrap.map((b) => [b.version, b.commit, b.tree]), [['go1.20.14', tag.commit, tag.tree], ['go1.19.8', undefined, undefined]]);
      assert.match(buildLogText(file), /^Building Go cmd\/dist using .*\/go1\.20\.14-[0-9a-f]{12}\. \(go1\.20\.14 linux\/amd64\)$/m);
      const ingest = await witness(ingestArgs(s, [file], '--offline'));
      expectCode(ingest, 0, 'ingest');
      const record = (await buildRecords(s.logDir)).at(-1)!;
      assert.deepEqual(record.build.bootstrap, result.bootstrap);
      assert.deepEqual(
        record.text.split('\n').filter((line) => line.startsWith('bootstrap ')),
        [`bootstrap go1.20.14 ${result.bootstrap[0]!.hash} ${tag.commit} ${tag.tree}`, `bootstrap go1.19.8 ${result.bootstrap[1]!.hash}`],
      );
      assert.match(record.text, /^bootstrap-root binary$/m);
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify');
    });

    test('a bootstrap toolchain modified after it was built is refused (BOOTSTRAP_MODIFIED), by build and by bootstrap', { timeout: 120_000 }, async () => {
      appendFileSync(path.join(goroot, 'bin', 'go'), '# changed\n');
      const out = tempDir('witness-modified-');
      const [build, again] = await Promise.all([witness(buildArgs(s, 'go1.22.0', out, { bootstrap: goroot })), bootstrap('go1.22.0')]);
      expectCode(build, 2, 'build with a modified bootstrap');
      assert.match(build.stderr, /no longer matches its manifest .* \[BOOTSTRAP_MODIFIED\]/);
      assert.deepEqual(readdirSync(out), []);
      expectCode(again, 2, 'bootstrap with a modified toolchain');
      assert.match(again.stderr, /\[BOOTSTRAP_MODIFIED\]/);
      // A GOROOT that is not a toolchain at all.
      const missing = await witness(buildArgs(s, 'go1.22.0', out, { bootstrap: path.join(bootstrapOut, 'nothing') }));
      expectCode(missing, 2, 'build with no toolchain');
      assert.match(missing.stderr, /\[BAD_BOOTSTRAP\]/);
    });
  });
});
