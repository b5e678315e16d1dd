// The shared host (src/rebuild/shared-host.ts, build.ts buildSharedHost): the host phases once, each target's
// phase from a copy. Offline and fast: a stand-in make.bash shaped like cmd/dist (helpers/dist-fixture.ts),
// whose go_bootstrap stand-in records its arguments, work folder and whole environment into the archives,
// so a target phase run in any other way than make.bash runs it gives other bytes. The real equivalence
// (go1.21.0 for darwin/arm64, windows/amd64, linux/arm, linux/386) is test/shared-host-real.test.ts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { buildRecordFromLogRecord, buildRecordToLogRecord } from '../src/rebuild/record.js';
import { distEnvironment, hashHostState, hostKey, hostPhaseProblem, hostTarget, targetPhaseSteps, toolEnvironment } from '../src/rebuild/shared-host.js';
import { formatRecord, parseRecord } from '../src/log/record.js';
import { buildArgs, builtResult, buildLogText, describeRun, expectCode, newScenario, parseBuilds, readResult, sha256File, witness, type Scenario } from './helpers/build-scenario.js';
import { tempDir } from './helpers/fixtures.js';

const HOST = { goos: 'linux', goarch: 'amd64' };
const BASE = { HOME: '/w/home', TMPDIR: '/w/tmp', LANG: 'C', PATH: '/usr/local/bin:/usr/bin:/bin', SHELL: '/bin/sh', GOROOT_BOOTSTRAP: '/b', GOTOOLCHAIN: 'local', GOOS: 'linux', GOARCH: 'arm', GOARM: '6' };

describe('cmd/dist target phase (shared-host.ts)', () => {
  test("the environment is dist's: make.bash's exports, xinit's settings and defaults, cmdbootstrap's cache and GOPATH", () => {
    const env = distEnvironment({ base: { ...BASE, GOFLAGS: '-x', GO111MODULE: 'off' }, goroot: '/w/go', target: { goos: 'linux', goarch: 'arm' }, host: HOST });
    assert.deepEqual(env, {
      HOME: '/w/home',
      TMPDIR: '/w/tmp',
      LANG: 'C',
      PATH: '/w/go/bin:/usr/local/bin:/usr/bin:/bin',
      DIST_UNMODIFIED_PATH: '/usr/local/bin:/usr/bin:/bin',
      SHELL: '/bin/sh',
      GOROOT_BOOTSTRAP: '/b',
      GOTOOLCHAIN: 'local',
      GOOS: 'linux',
      GOARCH: 'arm',
      GOARM: '6',
      GO386: 'sse2',
      GOAMD64: 'v1',
      GOMIPS: 'hardfloat',
      GOMIPS64: 'hardfloat',
      GOPPC64: 'power8',
      GOROOT: '/w/go',
      TERM: 'dumb',
      GOHOSTARCH: 'amd64',
      GOHOSTOS: 'linux',
      GOROOT_FINAL: '/w/go',
      GOBIN: '/w/go/bin',
      LANGUAGE: 'en_US.UTF8',
      GOENV: 'off',
      GOWORK: 'off',
      GOPATH: '/w/go/pkg/obj/gopath',
      GOCACHE: '/w/go/pkg/obj/go-build',
      GOEXPERIMENT: '',
      CC: '',
    });
    // xgetgoarm's default off an arm host.
    assert.equal(distEnvironment({ base: { ...BASE, GOARM: '' }, goroot: '/w/go', target: { goos: 'linux', goarch: 'arm' }, host: HOST }).GOARM, '7');
  });

  test('toolenv: cgo off unless the target must link externally; -trimpath and no DWARF for cmd', () => {
    assert.deepEqual(toolEnvironment({ goos: 'darwin', goarch: 'arm64' }), { CGO_ENABLED: '0', GOFLAGS: '-trimpath -ldflags=-w -gcflags=cmd/...=-dwarf=false' });
    assert.equal(toolEnvironment({ goos: 'ios', goarch: 'arm64' }).CGO_ENABLED, undefined);
    assert.equal(toolEnvironment({ goos: 'android', goarch: 'arm' }).CGO_ENABLED, undefined);
    assert.equal(toolEnvironment({ goos: 'android', goarch: 'arm64' }).CGO_ENABLED, '0');
  });

  test('the steps: std (no toolenv), cmd (toolenv), five staleness checks, rm go_bootstrap, the exec wrapper for android and ios, distpack', () => {
    const steps = targetPhaseSteps({ base: BASE, goroot: '/w/go', target: { goos: 'windows', goarch: 'amd64' }, host: HOST, workdir: '/w/tmp/go-tool-dist-x' });
    assert.deepEqual(
      steps.map((step) => step.argv.join(' ').replace(/ -f=.*\{\{end\}\}/, ' -f=STALE')),
      [
        '/w/go/pkg/tool/linux_amd64/go_bootstrap install std',
        '/w/go/pkg/tool/linux_amd64/go_bootstrap install cmd',
        '/w/go/pkg/tool/linux_amd64/go_bootstrap list -f=STALE cmd/asm cmd/cgo cmd/compile cmd/link',
        '/w/go/pkg/tool/linux_amd64/go_bootstrap list -f=STALE std',
        '/w/go/pkg/tool/linux_amd64/go_bootstrap list -f=STALE cmd',
        '/w/go/bin/go list -f=STALE std',
        '/w/go/bin/go list -f=STALE cmd',
        '/bin/rm -f /w/go/pkg/tool/linux_amd64/go_bootstrap',
        '/w/go/pkg/tool/linux_amd64/distpack',
      ],
    );
    assert.equal(steps[0]!.env.GOFLAGS, undefined);
    assert.equal(steps[1]!.env.GOFLAGS, '-trimpath -ldflags=-w -gcflags=cmd/...=-dwarf=false');
    assert.equal(steps[0]!.cwd, '/w/tmp/go-tool-dist-x');
    assert.equal(steps.at(-1)!.cwd, '/w/go/src');
    const android = targetPhaseSteps({ base: BASE, goroot: '/w/go', target: { goos: 'android', goarch: 'arm64' }, host: HOST, workdir: '/w/t' });
    const wrapper = android.find((step) => step.title === 'exec wrapper')!;
    assert.deepEqual(wrapper.argv, ['/w/go/bin/go', 'build', '-o', '/w/go/bin/go_android_arm64_exec', '/w/go/misc/go_android_exec/main.go']);
    assert.equal(wrapper.env.GOOS, 'linux');
    assert.throws(() => targetPhaseSteps({ base: BASE, goroot: '/w/go', target: HOST, host: HOST, workdir: '/w/t' }), /is the host/);
  });

  test('host keys: targets share a host state unless a zbootstrap.go setting differs', () => {
    assert.equal(hostKey({}), '');
    assert.equal(hostKey({ GOARM: '6' }), 'GOARM=6');
    assert.equal(hostKey({ GOARM: '6', GO386: 'softfloat' }), 'GO386=softfloat GOARM=6');
    assert.deepEqual(hostTarget('linux', 'x64'), HOST);
    assert.equal(hostTarget('darwin', 'arm64'), undefined);
  });

  test("the host phases must stop at go_bootstrap refusing linux/wasm, after the host's commands", () => {
    const good = [
      'Building Go toolchain3 using go_bootstrap and Go toolchain2.',
      'Building commands for host, linux/amd64.',
      'Building packages and commands for target, linux/wasm.',
      'cmd/go: unsupported GOOS/GOARCH pair linux/wasm',
      'go tool dist: FAILED: /w/go/pkg/tool/linux_amd64/go_bootstrap install std: exit status 2',
    ];
    assert.equal(hostPhaseProblem(good.join('\n'), HOST), undefined);
    assert.match(hostPhaseProblem(good.slice(0, 1).join('\n'), HOST)!, /did not reach/);
    assert.match(hostPhaseProblem(good.filter((line) => !line.startsWith('Building commands')).join('\n'), HOST)!, /did not reach/);
    assert.match(hostPhaseProblem([...good.slice(0, 3), 'go tool dist: FAILED: /w/go/pkg/tool/linux_amd64/go_bootstrap install std: exit status 1'].join('\n'), HOST)!, /did not stop/);
    assert.match(hostPhaseProblem([...good.slice(0, 4), 'go tool dist: FAILED: /w/go/pkg/tool/linux_amd64/go_bootstrap install cmd: exit status 2'].join('\n'), HOST)!, /did not stop/);
  });

  test('the host state hash covers contents, executable bits and links (never followed), and refuses FIFOs', async () => {
    const dir = tempDir('witness-state-');
    mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    writeFileSync(path.join(dir, 'a/b/f'), 'one');
    writeFileSync(path.join(dir, 'x'), 'two', { mode: 0o755 });
    symlinkSync('/etc/passwd', path.join(dir, 'link'));
    const first = await hashHostState(dir);
    assert.match(first, /^sha256:[0-9a-f]{64}$/);
    // The manifest, as its doc comment gives it (recorded hashes of host states depend on it exactly).
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const manifest = ['d - a', 'd - a/b', `f ${sha('one')} a/b/f`, 'l /etc/passwd link', `x ${sha('two')} x`].join('\n') + '\n';
    assert.equal(first, `sha256:${sha(manifest)}`);
    assert.equal(await hashHostState(dir), first);
    writeFileSync(path.join(dir, 'a/b/f'), 'One');
    const second = await hashHostState(dir);
    assert.notEqual(second, first);
    execFileSync('chmod', ['0644', path.join(dir, 'x')]);
    assert.notEqual(await hashHostState(dir), second);
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    await assert.rejects(hashHostState(dir), /neither a file, a folder nor a link/);
  });

  test('records: method is optional (old records parse and serialize byte for byte) and checked', () => {
    const old = [
      'go-source-witness build/v1',
      'version go1.21.0',
      'target linux/386',
      'outcome failed',
      'tag-index 3',
      `commit ${'a'.repeat(40)}`,
      `tree ${'b'.repeat(40)}`,
      `result ${'c'.repeat(64)}`,
      'builder go-source-witness/0.1.0 node/v20.0.0 linux/x64',
      'sandbox none (--no-sandbox): same user',
      `bootstrap go1.19.8 h1:${'A'.repeat(43)}=`,
      'started 2026-01-01T00:00:00Z',
      'seconds 1',
      `build-log ${'d'.repeat(64)} 10`,
      'failure make-bash: no',
      'ingested 2026-01-01T00:00:01Z',
      '',
    ].join('\n');
    const record = parseRecord(Buffer.from(old));
    const build = buildRecordFromLogRecord(record);
    assert.equal(build.method, undefined);
    assert.equal(Buffer.from(formatRecord(buildRecordToLogRecord(build))).toString(), old);
    const shared = old.replace('sandbox none (--no-sandbox): same user\n', `sandbox none (--no-sandbox): same user\nmethod shared-host sha256:${'e'.repeat(64)}\n`);
    assert.equal(buildRecordFromLogRecord(parseRecord(Buffer.from(shared))).method, `shared-host sha256:${'e'.repeat(64)}`);
    assert.equal(Buffer.from(formatRecord(buildRecordToLogRecord(buildRecordFromLogRecord(parseRecord(Buffer.from(shared)))))).toString(), shared);
    for (const bad of ['method shared-host', 'method fast', `method shared-host h1:${'A'.repeat(43)}=`]) {
      const text = old.replace('sandbox none (--no-sandbox): same user\n', `sandbox none (--no-sandbox): same user\n${bad}\n`);
      assert.throws(() => buildRecordFromLogRecord(parseRecord(Buffer.from(text))), /method/);
    }
  });
});

describe('witness build with a shared host (stand-in make.bash shaped like cmd/dist)', () => {
  let s: Scenario;
  const targets = ['darwin/arm64', 'windows/amd64', 'linux/amd64'];
  before(async () => {
    s = await newScenario({ origin: 'example.com/shared-host-log', seed: 41, releases: [{ version: 'go1.20.14' }, { version: 'go1.21.0', mode: 'dist' }, { version: 'go1.21.1', mode: 'fail' }] });
  });

  test('fast and --full give the same bytes for every distpack file of every target; results say how each was built', { timeout: 120_000 }, async () => {
    const fastOut = tempDir('witness-fast-');
    const fullOut = tempDir('witness-full-');
    const fast = await witness(buildArgs(s, 'go1.21.0', fastOut, { targets }));
    if (fast.code !== 0) assert.fail(`shared-host build: ${describeRun(fast)}\n--- first log\n${buildLogText(parseBuilds(fast)[0]!.resultFile).slice(-3000)}`);
    const full = await witness([...buildArgs(s, 'go1.21.0', fullOut, { targets }), '--full']);
    expectCode(full, 0, 'full build');
    const fastBuilds = parseBuilds(fast);
    const fullBuilds = parseBuilds(full);
    assert.deepEqual(fastBuilds.map((b) => b.target), targets);
    for (const [i, target] of targets.entries()) {
      const a = builtResult(fastBuilds[i]!.resultFile);
      const b = builtResult(fullBuilds[i]!.resultFile);
      assert.deepEqual(a.files, b.files, `${target}: every distpack file the same`);
      assert.deepEqual(a.goSum, b.goSum);
      for (const file of a.files) assert.equal(sha256File(path.join(fastBuilds[i]!.distpackDir!, file.name)), file.sha256);
      assert.equal(b.method, 'full');
      if (target === 'linux/amd64') assert.equal(a.method, 'full', 'the host itself is built the full way');
      else assert.match(a.method!, /^shared-host sha256:[0-9a-f]{64}$/, target);
    }
    const methods = new Set(fastBuilds.slice(0, 2).map((b) => readResult(b.resultFile).method));
    assert.equal(methods.size, 1, 'one host state for both cross targets');
    // The stand-in's record of the target phase: go_bootstrap ran in dist's work folder, dist's environment.
    const installed = readFileSync(path.join(fastBuilds[0]!.distpackDir!, 'go1.21.0.src.tar.gz')).length;
    assert.ok(installed > 0);
    const log = buildLogText(fastBuilds[0]!.resultFile);
    assert.match(log, /Building commands for host, linux\/amd64\.\n/);
    assert.match(log, /cmd\/go: unsupported GOOS\/GOARCH pair linux\/wasm/);
    assert.match(log, /witness: host state sha256:[0-9a-f]{64} /);
    assert.match(log, /witness: target phase of darwin\/arm64 from a copy of host state sha256:/);
    assert.match(log, /\nBuilding packages and commands for target, darwin\/arm64\.\n/);
    assert.match(log, /witness: go_bootstrap install cmd: <work>\/go\/pkg\/tool\/linux_amd64\/go_bootstrap install cmd\n/);
    // Nothing of the work folders is left.
    assert.deepEqual(
      readdirSync(fastOut).filter((name) => name.startsWith('.')),
      [],
    );
  });

  test('a release whose host phases fail: every target is built the full way (and fails as itself)', { timeout: 120_000 }, async () => {
    const out = tempDir('witness-fast-fail-');
    const result = await witness(buildArgs(s, 'go1.21.1', out, { targets: ['darwin/arm64', 'linux/386'] }));
    expectCode(result, 1, 'failing release');
    const builds = parseBuilds(result);
    assert.equal(builds.length, 2, describeRun(result));
    for (const build of builds) {
      const r = readResult(build.resultFile);
      assert.equal(r.outcome, 'failed');
      assert.equal(r.method, 'full');
    }
  });
});
