// Go versions and targets (src/rebuild/target.ts): parsing, ordering like go/version, gorebuild's
// BootstrapVersion, GOARM, distpack and go.dev file names, module versions.
import '../src/witness-schema.js'; // the witness's record folds, installed into src/log/ (src/witness-schema.ts)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import {
  FIRST_CLASS_TARGETS,
  bootstrapMinor,
  compareGoVersions,
  distpackFileNames,
  extraEnvironment,
  hasPublishedToolchain,
  isKnownPort,
  publishedPortsOf,
  isDistpackVersion,
  isPlannedVersion,
  parseGoVersion,
  parseTarget,
  publishedArchiveName,
  requireGoVersion,
  toolchainModuleVersion,
} from '../src/release/target.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { WITNESS_VERSION } from '../src/version.js';
import { ROOT } from './helpers/fixtures.js';

describe('Go versions and targets (target.ts)', () => {
  test('parseGoVersion: releases, release candidates, pre-go1.21 minor releases; not go1.21 or sumdb oddities', () => {
    assert.deepEqual(parseGoVersion('go1.21.0'), { text: 'go1.21.0', major: 1, minor: 21, patch: 0 });
    assert.deepEqual(parseGoVersion('go1.22.12'), { text: 'go1.22.12', major: 1, minor: 22, patch: 12 });
    assert.deepEqual(parseGoVersion('go1.21rc2'), { text: 'go1.21rc2', major: 1, minor: 21, patch: 0, prerelease: { kind: 'rc', number: 2 } });
    assert.deepEqual(parseGoVersion('go1.22beta1'), { text: 'go1.22beta1', major: 1, minor: 22, patch: 0, prerelease: { kind: 'beta', number: 1 } });
    assert.deepEqual(parseGoVersion('go1.20'), { text: 'go1.20', major: 1, minor: 20, patch: 0 });
    for (const junk of ['go1.9.2rc2', 'go1.21', 'go1.23', '', 'go', 'go1', 'go2.0.0', 'go1.21.0 ', ' go1.21.0', 'go1.021.0', 'go1.21.01', 'go1.21rc0', 'go1.21.0rc1', 'go1.21.0-foo', 'Go1.21.0', 'go1.21.0\n', 'v1.21.0', 'go1.21.0.linux-amd64', 'go1..0', 'go1.21.x']) {
      assert.equal(parseGoVersion(junk), undefined, JSON.stringify(junk));
    }
    assert.throws(() => requireGoVersion('go1.21'), (error: unknown) => error instanceof WitnessError && error.code === 'BAD_VERSION' && exitCodeOf(error) === 2);
  });

  test('compareGoVersions orders like go/version: beta < rc < release < patch releases, by minor first', () => {
    const order = ['go1.9', 'go1.19rc1', 'go1.19', 'go1.19.1', 'go1.19.13', 'go1.20', 'go1.20.14', 'go1.21rc2', 'go1.21rc3', 'go1.21.0', 'go1.21.1', 'go1.21.10', 'go1.22beta1', 'go1.22rc1', 'go1.22.0', 'go1.22.2', 'go1.100.0'];
    const parsed = order.map((v) => requireGoVersion(v));
    const shuffled = [...parsed].reverse();
    shuffled.sort(compareGoVersions);
    assert.deepEqual(shuffled.map((v) => v.text), order);
    for (let i = 1; i < parsed.length; i++) assert.ok(compareGoVersions(parsed[i - 1]!, parsed[i]!) < 0, `${order[i - 1]} < ${order[i]}`);
    assert.equal(compareGoVersions(requireGoVersion('go1.21.3'), requireGoVersion('go1.21.3')), 0);
  });

  test("bootstrapMinor follows gorebuild's BootstrapVersion", () => {
    const table: Array<[string, number | undefined]> = [
      ['go1.4', undefined],
      ['go1.5', 4],
      ['go1.19.13', 4],
      ['go1.20', 17],
      ['go1.21.0', 17],
      ['go1.21rc2', 17],
      ['go1.22.0', 20],
      ['go1.22rc1', 20],
      ['go1.23.4', 20],
      ['go1.24.0', 22],
      ['go1.25.1', 22],
      ['go1.26.0', 24],
      ['go1.27.0', 24],
      ['go1.28.0', 26],
    ];
    for (const [version, minor] of table) assert.equal(bootstrapMinor(requireGoVersion(version)), minor, version);
  });

  test('extraEnvironment: linux/arm is GOARM=6 from go1.21.1 on (not go1.21.0 or its release candidates); nothing elsewhere', () => {
    const arm = parseTarget('linux/arm');
    for (const version of ['go1.21.0', 'go1.21rc2', 'go1.21rc3', 'go1.20.14']) assert.deepEqual(extraEnvironment(requireGoVersion(version), arm), {}, version);
    for (const version of ['go1.21.1', 'go1.21.13', 'go1.22.0', 'go1.22rc1', 'go1.25.3']) assert.deepEqual(extraEnvironment(requireGoVersion(version), arm), { GOARM: '6' }, version);
    for (const target of ['linux/arm64', 'linux/amd64', 'freebsd/arm', 'windows/arm', 'darwin/arm64']) {
      assert.deepEqual(extraEnvironment(requireGoVersion('go1.22.0'), parseTarget(target)), {}, target);
    }
  });

  test('distpack file names, go.dev names (linux-armv6l) and module versions (linux-arm)', () => {
    assert.deepEqual(distpackFileNames('go1.21.1', parseTarget('linux/arm')), {
      source: 'go1.21.1.src.tar.gz',
      archive: 'go1.21.1.linux-arm.tar.gz',
      module: 'v0.0.1-go1.21.1.linux-arm',
    });
    assert.equal(distpackFileNames('go1.22.0', parseTarget('windows/amd64')).archive, 'go1.22.0.windows-amd64.zip');
    assert.equal(publishedArchiveName('go1.21.1.linux-arm.tar.gz'), 'go1.21.1.linux-armv6l.tar.gz');
    assert.equal(publishedArchiveName('go1.21.1.linux-arm64.tar.gz'), 'go1.21.1.linux-arm64.tar.gz');
    assert.equal(publishedArchiveName('go1.21.1.freebsd-arm.tar.gz'), 'go1.21.1.freebsd-arm.tar.gz');
    assert.equal(publishedArchiveName('v0.0.1-go1.21.1.linux-arm.zip'), 'v0.0.1-go1.21.1.linux-arm.zip');
    assert.equal(toolchainModuleVersion('go1.21.1', parseTarget('linux/arm')), 'v0.0.1-go1.21.1.linux-arm');
  });

  test('hasPublishedToolchain: every dist list port but android, ios, js and wasip1 (39 of go1.21\'s 47)', () => {
    // go1.21's `go tool dist list` (golang/build internal/releasetargets/allports/go1.21.txt).
    const distList = (
      'aix/ppc64 android/386 android/amd64 android/arm android/arm64 darwin/amd64 darwin/arm64 dragonfly/amd64 freebsd/386 ' +
      'freebsd/amd64 freebsd/arm freebsd/arm64 freebsd/riscv64 illumos/amd64 ios/amd64 ios/arm64 js/wasm linux/386 linux/amd64 ' +
      'linux/arm linux/arm64 linux/loong64 linux/mips linux/mips64 linux/mips64le linux/mipsle linux/ppc64 linux/ppc64le ' +
      'linux/riscv64 linux/s390x netbsd/386 netbsd/amd64 netbsd/arm netbsd/arm64 openbsd/386 openbsd/amd64 openbsd/arm ' +
      'openbsd/arm64 plan9/386 plan9/amd64 plan9/arm solaris/amd64 wasip1/wasm windows/386 windows/amd64 windows/arm windows/arm64'
    ).split(' ');
    const go121 = parseGoVersion('go1.21.0')!;
    assert.equal(distList.length, 47);
    assert.ok(distList.every((port) => isKnownPort(go121, parseTarget(port)) === true), 'the table of go1.21 ports agrees');
    const published = distList.filter((port) => hasPublishedToolchain(parseTarget(port)));
    assert.equal(published.length, 39);
    assert.deepEqual(
      distList.filter((port) => !published.includes(port)),
      ['android/386', 'android/amd64', 'android/arm', 'android/arm64', 'ios/amd64', 'ios/arm64', 'js/wasm', 'wasip1/wasm'],
    );
    assert.ok(FIRST_CLASS_TARGETS.every(hasPublishedToolchain));
    assert.deepEqual(publishedPortsOf(go121)!.map((t) => `${t.goos}/${t.goarch}`), published);
    assert.deepEqual([parseGoVersion('go1.22.3')!, parseGoVersion('go1.23.2')!].map((v) => publishedPortsOf(v)!.length), [40, 41]);
    assert.equal(publishedPortsOf(parseGoVersion('go1.24.0')!), undefined, 'beyond the table: the tag decides (build reads it)');
  });

  test('distpack versions are go1.21 and later; plan schedules plain releases only; targets parse strictly', () => {
    assert.equal(isDistpackVersion(requireGoVersion('go1.20.14')), false);
    assert.equal(isDistpackVersion(requireGoVersion('go1.21rc2')), true);
    assert.equal(isPlannedVersion(requireGoVersion('go1.21rc2')), false);
    assert.equal(isPlannedVersion(requireGoVersion('go1.21.0')), true);
    assert.deepEqual(parseTarget('linux/amd64'), { goos: 'linux', goarch: 'amd64' });
    for (const junk of ['linux', 'linux/', '/amd64', 'linux/amd64/x', 'Linux/amd64', 'linux-amd64', 'linux/amd 64', '../amd64']) {
      assert.throws(() => parseTarget(junk), (error: unknown) => error instanceof WitnessError && error.code === 'BAD_TARGET', junk);
    }
    assert.equal(FIRST_CLASS_TARGETS.length, 8);
  });

  test('WITNESS_VERSION (recorded as the builder) equals package.json\'s version', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(WITNESS_VERSION, pkg.version);
  });
});
