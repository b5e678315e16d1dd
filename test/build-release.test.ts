// End to end through the CLI: a release from its git tag to signed build records (`witness plan`, `build`,
// `ingest`, `verify` and the builds.txt view), against a small Go-like repository whose stand-in make.bash
// writes real distpack files in milliseconds (helpers/go-fixture.ts). Offline: the checksum database is a
// test server on loopback, the go.dev listing a file.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { hashDistpack } from '../src/rebuild/distpack.js';
import { FIRST_CLASS_TARGETS } from '../src/release/target.js';
import { encodeBase64 } from '../src/tlog/encoding.js';
import { WitnessLog } from '../src/log/log.js';
import { WITNESS_VERSION } from '../src/version.js';
import { git, tempDir, testSignerKey, writeKeyFile } from './helpers/fixtures.js';
import { runningAsRoot } from './helpers/go-fixture.js';
import { SumdbTestLog, startSumdbServer, syntheticGoSumRecord } from './helpers/sumdb-server.js';
import {
  type IngestJson,
  cleanEnv,
  witness,
  describeRun,
  expectCode,
  type Scenario,
  logState,
  buildRecords,
  buildArgs,
  ingestArgs,
  parseBuilds,
  builtResult,
  buildLogText,
  buildsTxt,
  sha256File,
  expectedEnvironmentNames,
  copyResult,
  newScenario,
} from './helpers/build-scenario.js';
import { SHA_C, SHA_D, h1, TOOLCHAIN_MOD_H1 } from './helpers/build-samples.js';

const AS_ROOT = runningAsRoot();
/** The build user: a fresh uid per build when root (sandbox.ts allocateBuildUser), else ourselves. */
const BUILD_USER = AS_ROOT ? /^uid-(19|20)[0-9]{8}$/ : new RegExp(`^uid-${process.getuid?.()}$`);

describe('witness plan, build, ingest, bootstrap (end to end)', { concurrency: true }, () => {
  describe('a release from tag to signed build records', { concurrency: 1 }, () => {
    let s: Scenario;
    const out = tempDir('witness-build-out-');
    let amd64: string;
    let arm: string;

    before(async () => {
      s = await newScenario({ origin: 'example.com/build-log', seed: 23, viaCli: true });
    });

    test('plan lists the distpack releases (not go1.20.14) per target, oldest first; --limit, --all-ports', { timeout: 120_000 }, async () => {
      const [json, limited, allPorts, firstClass] = await Promise.all([
        witness(['plan', '--log', s.logDir, '--json', '--target', 'linux/amd64', '--target', 'linux/arm']),
        witness(['plan', '--log', s.logDir, '--target', 'linux/amd64', '--target', 'linux/arm', '--limit', '2']),
        witness(['plan', '--log', s.logDir, '--json', '--all-ports', s.repo.dir]),
        witness(['plan', '--log', s.logDir, '--json']),
      ]);
      expectCode(json, 0, 'plan --json');
      assert.deepEqual(JSON.parse(json.stdout), {
        include: ['go1.21.0', 'go1.21.1', 'go1.22.0'].flatMap((version) =>
          [['linux', 'amd64'], ['linux', 'arm']].map(([goos, goarch]) => ({ version, target: `${goos}/${goarch}`, goos, goarch })),
        ),
      });
      expectCode(limited, 0, 'plan --limit');
      assert.equal(limited.stdout, 'go1.21.0 linux/amd64\ngo1.21.0 linux/arm\n2 to build (4 more beyond --limit); 0 already built.\n');
      expectCode(allPorts, 0, 'plan --all-ports');
      const ports = (JSON.parse(allPorts.stdout) as { include: Array<{ version: string; target: string }> }).include;
      const base = ['darwin/amd64', 'darwin/arm64', 'freebsd/amd64', 'linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64', 'windows/386', 'windows/amd64'];
      assert.deepEqual(ports.filter((p) => p.version === 'go1.21.0').map((p) => p.target), base, 'cgoEnabled keys minus broken (linux/sparc64)');
      // go1.22.0's dist list adds wasip1/wasm, a port Go publishes no toolchain for (so not planned).
      assert.deepEqual(ports.filter((p) => p.version === 'go1.22.0').map((p) => p.target), base);
      expectCode(firstClass, 0, 'plan (first-class ports)');
      assert.equal((JSON.parse(firstClass.stdout) as { include: unknown[] }).include.length, 3 * FIRST_CLASS_TARGETS.length);
    });

    test('build go1.21.0 for linux/amd64 and linux/arm: content-addressed results, build logs, distpack files, source check equal', { timeout: 120_000 }, async () => {
      const run = await witness(buildArgs(s, 'go1.21.0', out, { targets: ['linux/amd64', 'linux/arm'] }));
      expectCode(run, 0, 'build');
      const builds = parseBuilds(run);
      assert.deepEqual(builds.map((b) => [b.target, b.outcome]), [['linux/amd64', 'built'], ['linux/arm', 'built']]);
      [amd64, arm] = builds.map((b) => b.resultFile) as [string, string];
      const tag = s.repo.tags.get('go1.21.0')!;
      for (const build of builds) {
        const platform = build.target.replace('/', '-');
        const bytes = readFileSync(build.resultFile);
        assert.equal(path.dirname(build.resultFile), out);
        assert.equal(path.basename(build.resultFile), `go1.21.0.${platform}.${createHash('sha256').update(bytes).digest('hex')}.build.json`);
        const result = builtResult(build.resultFile);
        assert.equal(result.version, 'go1.21.0');
        assert.equal(result.target, build.target);
        assert.deepEqual(result.env, {}, 'go1.21.0 linux/arm was built with the default GOARM');
        assert.deepEqual(
          { ...result.tag, logIndex: undefined },
          { ref: 'refs/tags/go1.21.0', commit: tag.commit, tree: tag.tree, logIndex: undefined, logOrigin: s.origin },
        );
        assert.match(result.tag.logIndex, /^[0-9]+$/);
        assert.equal(result.bootstrap.length, 1);
        assert.equal(result.bootstrap[0]!.version, 'go1.19.8');
        assert.match(result.bootstrap[0]!.hash, /^h1:[A-Za-z0-9+/]{43}=$/);
        const { user, ...builder } = result.builder;
        assert.deepEqual(builder, { name: 'go-source-witness', version: WITNESS_VERSION, node: process.version, platform: `${process.platform}/${process.arch}` });
        assert.match(user, BUILD_USER);
        assert.match(result.sandbox ?? '', /^bubblewrap [0-9.]+: user mount pid net ipc uts cgroup namespaces/);
        assert.deepEqual(result.sourceCheck, { equal: true, files: 11, problems: [] });
        // The build log, named by its content, beside the result.
        const logFile = path.join(out, result.log.name);
        assert.equal(result.log.name, `go1.21.0.${platform}.${sha256File(logFile)}.log`);
        assert.equal(result.log.size, statSync(logFile).size);
        const log = readFileSync(logFile, 'utf8');
        assert.match(log, /^Building Go cmd\/dist using .*go-1\.19\.8\. \(go1\.19\.8 linux\/amd64\)$/m);
        assert.ok(log.includes(`fixture: environment ${expectedEnvironmentNames()} \n`), 'make.bash saw only the scrubbed environment');
        assert.ok(log.includes(`fixture: target ${build.target} GOARM=\n`));
        if (AS_ROOT) assert.ok(log.includes(`fixture: id uid=${user.slice(4)} gid=${user.slice(4)} groups=`), 'make.bash ran as its fresh uid');
        assert.match(log, /^witness: source check of go1\.21\.0\.src\.tar\.gz against tree [0-9a-f]{40}: SAME \(11 files\)$/m);
        assert.ok(log.includes(`${result.goSum[0]}\n${result.goSum[1]}\n`));
        // The distpack files, moved out of the work folder, hash to what the result says.
        assert.equal(build.distpackDir, path.join(out, `go1.21.0.${platform}.${result.log.sha256.slice(0, 16)}.distpack`));
        const hashes = await hashDistpack(build.distpackDir!);
        assert.deepEqual(hashes.files, result.files);
        assert.deepEqual(hashes.goSum, result.goSum);
        assert.deepEqual(result.files.map((f) => f.name), [`go1.21.0.${platform}.tar.gz`, 'go1.21.0.src.tar.gz', `v0.0.1-go1.21.0.${platform}.info`, `v0.0.1-go1.21.0.${platform}.mod`, `v0.0.1-go1.21.0.${platform}.zip`]);
        assert.equal(result.goSum[1], `golang.org/toolchain v0.0.1-go1.21.0.${platform}/go.mod ${TOOLCHAIN_MOD_H1}`);
      }
      const [a, b] = [builtResult(amd64), builtResult(arm)];
      assert.equal(a.files[1]!.sha256, b.files[1]!.sha256, 'one source tarball for every target');
      assert.notEqual(a.goSum[0].split(' ')[2], b.goSum[0].split(' ')[2], 'targets differ');
      // Nothing of the work folder is left behind; the out folder holds results, logs and distpack folders.
      assert.deepEqual(readdirSync(out).filter((name) => name.startsWith('.')), []);
    });

    test('ingest --offline appends unchecked build records with their build logs; verify passes; builds.txt lists them', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const run = await witness(ingestArgs(s, [amd64, arm], '--offline', '--json'));
      expectCode(run, 0, 'ingest --offline');
      const report = JSON.parse(run.stdout) as IngestJson;
      assert.deepEqual(report.conflicts, []);
      // Agreeing with our own builds (linux/arm's source tarball with linux/amd64's) is not "equal".
      assert.deepEqual(report.builds.map((b) => b.status), ['unchecked', 'unchecked']);
      assert.deepEqual(report.appended && [report.appended.oldSize, report.appended.newSize], [String(before.size), String(before.size + 2n)]);
      for (const [i, b] of report.builds.entries()) {
        const platform = b.record.target.replace('/', '-');
        assert.deepEqual(b.record.verdicts.map((v) => [v.file, v.status, v.source, v.source === 'log' ? v.detail : '']), [
          [`v0.0.1-go1.21.0.${platform}.zip`, 'unchecked', 'sumdb', ''],
          [`v0.0.1-go1.21.0.${platform}.mod`, 'unchecked', 'sumdb', ''],
          ['go1.21.0.src.tar.gz', 'unchecked', 'go.dev', ''],
          [`go1.21.0.${platform}.tar.gz`, 'unchecked', 'go.dev', ''],
          // The source tarball does not depend on the target: linux/arm's is compared with linux/amd64's.
          ...(i === 1 ? [['go1.21.0.src.tar.gz', 'equal', 'log', `build record ${before.size} (linux/amd64)`]] : []),
        ]);
        assert.match(b.record.verdicts[0]!.detail, /offline/);
        assert.equal(b.record.verdicts[2]!.detail, 'no published listing given');
        assert.deepEqual(b.record.evidence, []);
      }
      const records = await buildRecords(s.logDir);
      assert.equal(records.length, 2);
      for (const [i, file] of [amd64, arm].entries()) {
        const { index, build, text } = records[i]!;
        const result = builtResult(file);
        assert.equal(build.result, sha256File(file));
        assert.deepEqual(build.goSum, result.goSum);
        assert.deepEqual(build.files, result.files);
        assert.deepEqual(build.bootstrap, result.bootstrap);
        assert.equal(build.tagIndex, BigInt(result.tag.logIndex));
        assert.equal(build.builder, `go-source-witness/${WITNESS_VERSION} node/${process.version} ${process.platform}/${process.arch}`);
        assert.match(text, /^go-source-witness build\/v1\nversion go1\.21\.0\n/);
        // The build log is in the log folder, named by its hash.
        assert.equal(readFileSync(path.join(s.logDir, 'build-logs', `${result.log.sha256}.log`), 'utf8'), buildLogText(file));
        assert.equal(buildsTxt(s.logDir)[i], `${index} go1.21.0 ${result.target} unchecked ${result.goSum[0].split(' ')[2]}`);
      }
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify');
      assert.equal(git(s.logDir, 'status', '--porcelain'), '');
    });

    test('plan no longer lists go1.21.0', { timeout: 120_000 }, async () => {
      const run = await witness(['plan', '--log', s.logDir, '--target', 'linux/amd64', '--target', 'linux/arm']);
      expectCode(run, 0, 'plan');
      assert.equal(run.stdout, 'go1.21.1 linux/amd64\ngo1.21.1 linux/arm\ngo1.22.0 linux/amd64\ngo1.22.0 linux/arm\n4 to build; 2 already built.\n');
    });

    test('ingesting the same results again appends nothing: already recorded', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const run = await witness(ingestArgs(s, [amd64, arm], '--offline'));
      expectCode(run, 0, 'ingest again');
      assert.match(run.stdout, /^go1\.21\.0 linux\/amd64: UNCHECKED \(already recorded at log index [0-9]+\)$/m);
      assert.match(run.stdout, /^go1\.21\.0 linux\/arm: UNCHECKED \(already recorded at log index [0-9]+\)$/m);
      assert.match(run.stdout, /^Nothing new to append\.$/m);
      assert.deepEqual(await logState(s.logDir), before);
    });

    test('tampered results and build logs are refused, and the log is unchanged', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const result = builtResult(amd64);
      const digest = result.files[0]!.sha256;
      const forged = 'f'.repeat(64);
      // (a) a file hash edited, the name kept: the content address no longer matches.
      const keptName = copyResult(amd64);
      writeFileSync(keptName, readFileSync(keptName, 'utf8').replace(digest, forged));
      // (b) a reformatted result, renamed to its new hash: not canonical.
      const reformatted = copyResult(amd64);
      const reformattedBytes = Buffer.from(JSON.stringify(JSON.parse(readFileSync(reformatted, 'utf8'))));
      const reformattedName = path.join(path.dirname(reformatted), `go1.21.0.linux-amd64.${createHash('sha256').update(reformattedBytes).digest('hex')}.build.json`);
      writeFileSync(reformattedName, reformattedBytes);
      // (c) the build log modified (same size).
      const logModified = copyResult(amd64);
      const logFile = path.join(path.dirname(logModified), result.log.name);
      const logText = readFileSync(logFile, 'utf8');
      writeFileSync(logFile, logText.replace('SAME', 'SAMF'));
      // (d) the build log missing.
      const logMissing = copyResult(amd64);
      renameSync(path.join(path.dirname(logMissing), result.log.name), path.join(path.dirname(logMissing), 'elsewhere.log'));
      // (e) a result of another log (same files, another origin).
      const otherKey = testSignerKey('example.com/other-log', 29);
      const otherLog = path.join(tempDir(), 'log');
      await WitnessLog.init(otherLog, otherKey.signerKey);
      const [a, b, c, d, e] = await Promise.all([
        witness(ingestArgs(s, [keptName], '--offline')),
        witness(ingestArgs(s, [reformattedName], '--offline')),
        witness(ingestArgs(s, [logModified], '--offline')),
        witness(ingestArgs(s, [logMissing], '--offline')),
        witness(['ingest', amd64, '--log', otherLog, '--key', writeKeyFile(otherKey.skey), '--offline']),
      ]);
      expectCode(a, 1, 'altered result');
      assert.match(a.stderr, /content does not match the SHA-256 in its file name \(altered\) \[BAD_BUILD_RESULT\]/);
      expectCode(b, 1, 'reformatted result');
      assert.match(b.stderr, /not in canonical form .* \[BAD_BUILD_RESULT\]/);
      expectCode(c, 1, 'modified build log');
      assert.match(c.stderr, /\[BUILD_LOG_MODIFIED\]/);
      expectCode(d, 2, 'missing build log');
      assert.match(d.stderr, /\[BUILD_LOG_MISSING\]/);
      expectCode(e, 1, 'result of another log');
      assert.match(e.stderr, /built against log example\.com\/build-log, not example\.com\/other-log \[RESULT_WRONG_LOG\]/);
      assert.deepEqual(await logState(s.logDir), before);
      assert.equal((await logState(otherLog)).size, 0n);
    });

    test('a result whose hashes were altered and that was renamed to its new content address is refused', { timeout: 120_000 }, async () => {
      const before = await logState(s.logDir);
      const result = builtResult(amd64);
      const renamed = copyResult(amd64);
      const bytes = Buffer.from(readFileSync(renamed, 'utf8').replace(result.files[0]!.sha256, 'f'.repeat(64)));
      const name = path.join(path.dirname(renamed), `go1.21.0.linux-amd64.${createHash('sha256').update(bytes).digest('hex')}.build.json`);
      writeFileSync(name, bytes);
      const run = await witness(ingestArgs(s, [name], '--offline', '--dry-run'));
      // Refused as a result, not merely found to differ from the genuine build in the log (exit 1 too).
      assert.match(run.stderr, /^witness: FAILED: .* \[[A-Z_]+\]$/m, `a forged result was accepted: ${describeRun(run)}`);
      assert.deepEqual(await logState(s.logDir), before);
    });

    test('ingest with a checksum database: equal when it holds our h1; a module it lacks stays unchecked', { timeout: 120_000 }, async () => {
      const result = builtResult(amd64);
      const sumdb = new SumdbTestLog({ keyName: 'sumdb.test.example' });
      for (let i = 0; i < 5; i++) sumdb.append(syntheticGoSumRecord(i));
      const id = sumdb.append(`${result.goSum[0]}\n${result.goSum[1]}\n`);
      sumdb.append(syntheticGoSumRecord(5));
      const server = await startSumdbServer(sumdb);
      try {
        const before = await logState(s.logDir);
        const run = await witness(ingestArgs(s, [amd64, arm], '--sumdb-url', server.url, '--sumdb-vkey', sumdb.verifierKey, '--json'));
        expectCode(run, 0, 'ingest with sumdb');
        const report = JSON.parse(run.stdout) as IngestJson;
        const [a, b] = report.builds as [IngestJson['builds'][0], IngestJson['builds'][0]];
        assert.equal(a.status, 'equal');
        const sumdbVerdicts = (build: typeof a) => build.record.verdicts.filter((v) => v.source === 'sumdb').map((v) => [v.file, v.status, v.detail]);
        // The verdict names the record, the tree size and the root it was proven in.
        const proven = `record ${id} in tree 7 ${encodeBase64(sumdb.rootHash())}`;
        assert.deepEqual(sumdbVerdicts(a), [
          ['v0.0.1-go1.21.0.linux-amd64.zip', 'equal', `${proven}: ${result.goSum[0].split(' ')[2]}`],
          ['v0.0.1-go1.21.0.linux-amd64.mod', 'equal', `${proven}: ${TOOLCHAIN_MOD_H1}`],
        ]);
        assert.equal(a.record.evidence.length, 1);
        assert.match(a.record.evidence[0]!.detail, new RegExp(`^${server.url.replace(/[.]/g, '\\.')} record ${id} in tree 7 [A-Za-z0-9+/]{43}=$`));
        // linux/arm is not in this database: unchecked, with the reason.
        for (const [, status, detail] of sumdbVerdicts(b)) {
          assert.equal(status, 'unchecked');
          assert.match(detail ?? '', /^lookup failed \(/);
        }
        assert.notEqual(b.status, 'unequal');
        // New comparisons are new records about the same results.
        assert.equal((await logState(s.logDir)).size, before.size + 2n);
        const records = await buildRecords(s.logDir);
        assert.equal(records.at(-2)!.build.result, sha256File(amd64));
        assert.match(records.at(-2)!.text, new RegExp(`\nverdict v0\\.0\\.1-go1\\.21\\.0\\.linux-amd64\\.zip equal sumdb record ${id} in tree 7 [A-Za-z0-9+/]{43}=: h1:`));
      } finally {
        await server.close();
      }
    });

    test('ingest with a checksum database holding another h1: unequal, exit 1, recorded all the same', { timeout: 120_000 }, async () => {
      const result = builtResult(amd64);
      const sumdb = new SumdbTestLog({ keyName: 'sumdb.test.example' });
      const theirs = h1(0x5a);
      sumdb.append(`golang.org/toolchain v0.0.1-go1.21.0.linux-amd64 ${theirs}\n${result.goSum[1]}\n`);
      const server = await startSumdbServer(sumdb);
      try {
        const before = await logState(s.logDir);
        const run = await witness(ingestArgs(s, [amd64], '--sumdb-url', server.url, '--sumdb-vkey', sumdb.verifierKey));
        expectCode(run, 1, 'ingest with a disagreeing sumdb');
        assert.match(run.stdout, /^go1\.21\.0 linux\/amd64: UNEQUAL \(log index [0-9]+\)$/m);
        assert.ok(run.stdout.includes(`sumdb unequal: record 0 in tree 1 ${encodeBase64(sumdb.rootHash())}: expected ${theirs}, built ${result.goSum[0].split(' ')[2]}`), run.stdout);
        assert.equal((await logState(s.logDir)).size, before.size + 1n);
        assert.match(buildsTxt(s.logDir).at(-1)!, new RegExp(`^${before.size} go1\\.21\\.0 linux/amd64 unequal h1:`));
        // A database signed by another key is not evidence at all.
        const wrongKey = new SumdbTestLog({ keyName: 'sumdb.test.example' }).verifierKey;
        const unverified = await witness(ingestArgs(s, [amd64], '--sumdb-url', server.url, '--sumdb-vkey', wrongKey, '--json', '--dry-run'));
        expectCode(unverified, 0, 'ingest with the wrong sumdb key (dry run)');
        const zip = (JSON.parse(unverified.stdout) as IngestJson).builds[0]!.record.verdicts.find((v) => v.source === 'sumdb')!;
        assert.equal(zip.status, 'unchecked');
        assert.match(zip.detail, /^lookup failed/);
      } finally {
        await server.close();
      }
    });

    test('build go1.21.1 for linux/arm (GOARM=6); ingest --published compares with go.dev\'s linux-armv6l archive', { timeout: 120_000 }, async () => {
      const run = await witness(buildArgs(s, 'go1.21.1', out, { targets: ['linux/arm'] }));
      expectCode(run, 0, 'build go1.21.1 linux/arm');
      const file = parseBuilds(run)[0]!.resultFile;
      const result = builtResult(file);
      assert.deepEqual(result.env, { GOARM: '6' });
      assert.ok(buildLogText(file).includes('fixture: target linux/arm GOARM=6\n'));
      assert.ok(buildLogText(file).includes(`fixture: environment ${expectedEnvironmentNames(['GOARM'])} \n`));
      assert.notEqual(s.repo.tags.get('go1.21.1')!.object, s.repo.tags.get('go1.21.1')!.commit, 'go1.21.1 is an annotated tag');
      assert.equal(result.tag.commit, s.repo.tags.get('go1.21.1')!.commit);
      const src = result.files.find((f) => f.name === 'go1.21.1.src.tar.gz')!;
      const archive = result.files.find((f) => f.name === 'go1.21.1.linux-arm.tar.gz')!;
      const listing = (archiveSha: string) => [
        { version: 'go1.21.1', stable: true, files: [
          { filename: 'go1.21.1.src.tar.gz', os: '', arch: '', version: 'go1.21.1', sha256: src.sha256, size: src.size, kind: 'source' },
          { filename: 'go1.21.1.linux-armv6l.tar.gz', os: 'linux', arch: 'armv6l', version: 'go1.21.1', sha256: archiveSha, size: archive.size, kind: 'archive' },
          { filename: 'go1.21.1.linux-arm64.tar.gz', os: 'linux', arch: 'arm64', version: 'go1.21.1', sha256: SHA_C, size: 1, kind: 'archive' },
        ] },
        { version: 'go1.21.0', stable: true, files: [] },
      ];
      const dir = tempDir('witness-listing-');
      const good = path.join(dir, 'good.json');
      const bad = path.join(dir, 'bad.json');
      writeFileSync(good, JSON.stringify(listing(archive.sha256)));
      writeFileSync(bad, JSON.stringify(listing(SHA_D)));
      const equal = await witness(ingestArgs(s, [file], '--offline', '--published', good, '--json'));
      expectCode(equal, 0, 'ingest with a matching listing');
      const record = (JSON.parse(equal.stdout) as IngestJson).builds[0]!;
      assert.equal(record.status, 'equal');
      assert.deepEqual(record.record.env, ['GOARM=6']);
      assert.deepEqual(
        record.record.verdicts.filter((v) => v.source === 'go.dev'),
        [
          { file: 'go1.21.1.src.tar.gz', status: 'equal', source: 'go.dev', detail: `go1.21.1.src.tar.gz sha256:${src.sha256}` },
          { file: 'go1.21.1.linux-arm.tar.gz', status: 'equal', source: 'go.dev', detail: `go1.21.1.linux-armv6l.tar.gz sha256:${archive.sha256}` },
        ],
      );
      assert.deepEqual(record.record.evidence, [{ source: 'go.dev', detail: `${good} sha256:${sha256File(good)}` }]);
      const unequal = await witness(ingestArgs(s, [file], '--offline', '--published', bad, '--json'));
      expectCode(unequal, 1, 'ingest with a disagreeing listing');
      const verdicts = (JSON.parse(unequal.stdout) as IngestJson).builds[0]!.record.verdicts.filter((v) => v.source === 'go.dev');
      assert.deepEqual(verdicts.map((v) => [v.file, v.status]), [['go1.21.1.src.tar.gz', 'equal'], ['go1.21.1.linux-arm.tar.gz', 'unequal']]);
      assert.equal(verdicts[1]!.detail, `go1.21.1.linux-armv6l.tar.gz expected sha256:${SHA_D}, built ${archive.sha256}`);
      const lines = buildsTxt(s.logDir);
      assert.match(lines.at(-2)!, /^[0-9]+ go1\.21\.1 linux\/arm GOARM=6 equal h1:/);
      assert.match(lines.at(-1)!, /^[0-9]+ go1\.21\.1 linux\/arm GOARM=6 unequal h1:/);
      // A listing that is not go.dev's format is refused before anything is compared.
      writeFileSync(path.join(dir, 'junk.json'), '{"files": []}');
      const junk = await witness(ingestArgs(s, [file], '--offline', '--published', path.join(dir, 'junk.json')));
      expectCode(junk, 1, 'a malformed listing');
      assert.match(junk.stderr, /\[BAD_PUBLISHED_LISTING\]/);
    });

    test('refused before building: go1.20.14 (no distpack), a signing or cosigner key in the environment', { timeout: 120_000 }, async () => {
      const refusedOut = tempDir('witness-refused-');
      const [old, signing, cosigner, junk] = await Promise.all([
        witness(buildArgs(s, 'go1.20.14', refusedOut)),
        witness(buildArgs(s, 'go1.21.1', refusedOut), cleanEnv({ WITNESS_SIGNING_KEY: testSignerKey('example.com/build-log', 23).skey })),
        witness(buildArgs(s, 'go1.21.1', refusedOut), cleanEnv({ WITNESS_COSIGNER_KEY: 'anything' })),
        witness(buildArgs(s, 'go1.21', refusedOut)),
      ]);
      expectCode(old, 2, 'go1.20.14');
      assert.match(old.stderr, /not reproducible by distpack \[NOT_REPRODUCIBLE_VERSION\]/);
      expectCode(signing, 2, 'WITNESS_SIGNING_KEY set');
      assert.match(signing.stderr, /WITNESS_SIGNING_KEY is set: .* \[KEY_IN_BUILD_ENVIRONMENT\]/);
      assert.doesNotMatch(signing.stderr + signing.stdout, /PRIVATE/);
      expectCode(cosigner, 2, 'WITNESS_COSIGNER_KEY set');
      assert.match(cosigner.stderr, /\[KEY_IN_BUILD_ENVIRONMENT\]/);
      expectCode(junk, 2, 'go1.21');
      assert.match(junk.stderr, /\[BAD_VERSION\]/);
      assert.deepEqual(readdirSync(refusedOut), []);
    });

    test('the log verifies at the end, and builds.txt has one line per build record', { timeout: 120_000 }, async () => {
      expectCode(await witness(['verify', '--log', s.logDir, '--vkey', s.vkey]), 0, 'verify');
      const records = await buildRecords(s.logDir);
      assert.deepEqual(buildsTxt(s.logDir).map((line) => line.split(' ')[0]), records.map((r) => String(r.index)));
    });
  });
});
