// witness check: toolchain module zips against build records (src/rebuild/check.ts).
import assert from 'node:assert/strict';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yazl from 'yazl';
import { checkToolchainZips, defaultModuleCache, toolchainZipsInModuleCache } from '../src/rebuild/check.js';
import { hashModuleZip } from '../src/rebuild/distpack.js';
import { buildRecordToLogRecord, type BuildRecord } from '../src/rebuild/record.js';
import { goModHash } from '../src/sumdb/dirhash.js';
import { tempDir } from './helpers/fixtures.js';

const COMMIT = 'c19c4c566c63818dfd059b352e52c4710eecf14d';
const TREE = 'f73e33fc4cba14472feb6f6ad43e3e5523e74e84';

function writeZip(file: string, entries: ReadonlyArray<{ name: string; content: string }>): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const entry of entries) zip.addBuffer(Buffer.from(entry.content), entry.name);
    zip.end();
    zip.outputStream.pipe(createWriteStream(file)).on('close', resolve).on('error', reject);
  });
}

function record(version: string, target: string, zipH1: string, outcome: 'built' | 'failed' = 'built'): BuildRecord {
  const module = `v0.0.1-${version}.${target.replace('/', '-')}`;
  return {
    version,
    target,
    env: [],
    outcome,
    tagIndex: 0n,
    commit: COMMIT,
    tree: TREE,
    result: 'a'.repeat(64),
    builder: 'go-source-witness/0.1.0 node/v20.0.0 linux/x64',
    bootstrap: [{ version: 'go1.19.8', hash: `h1:${'A'.repeat(43)}=` }],
    started: '2026-11-22T00:00:00Z',
    seconds: 1,
    buildLog: { sha256: 'b'.repeat(64), size: 1 },
    ...(outcome === 'built'
      ? {
          sourceCheck: { equal: true, files: 1, problems: 0 },
          files: [{ name: `${module}.zip`, size: 1, sha256: 'c'.repeat(64) }],
          goSum: [`golang.org/toolchain ${module} ${zipH1}`, `golang.org/toolchain ${module}/go.mod ${goModHash(Buffer.from('module golang.org/toolchain\n'))}`] as [string, string],
        }
      : { failure: 'make-bash: exit 2' }),
    verdicts: [],
    evidence: [],
    ingested: '2026-11-22T00:00:00Z',
  };
}

test('check: equal, different, not rebuilt, failed builds ignored', async () => {
  const dir = tempDir();
  const cache = path.join(dir, 'mod');
  const download = path.join(cache, 'cache', 'download', 'golang.org', 'toolchain', '@v');
  mkdirSync(download, { recursive: true });
  const amd64 = path.join(download, 'v0.0.1-go1.21.0.linux-amd64.zip');
  const arm64 = path.join(download, 'v0.0.1-go1.21.0.linux-arm64.zip');
  const riscv = path.join(download, 'v0.0.1-go1.21.0.linux-riscv64.zip');
  await writeZip(amd64, [{ name: 'golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64/bin/go', content: 'amd64' }]);
  await writeZip(arm64, [{ name: 'golang.org/toolchain@v0.0.1-go1.21.0.linux-arm64/bin/go', content: 'arm64' }]);
  await writeZip(riscv, [{ name: 'golang.org/toolchain@v0.0.1-go1.21.0.linux-riscv64/bin/go', content: 'riscv' }]);
  const amdH1 = await hashModuleZip(amd64);
  const records = [
    record('go1.21.0', 'linux/amd64', amdH1),
    record('go1.21.0', 'linux/arm64', `h1:${'B'.repeat(43)}=`),
    record('go1.21.0', 'linux/riscv64', `h1:${'C'.repeat(43)}=`, 'failed'),
  ].map((build, i) => ({ index: BigInt(i + 10), record: buildRecordToLogRecord(build) }));

  const zips = await toolchainZipsInModuleCache(cache);
  assert.deepEqual(zips, [amd64, arm64, riscv]);
  const checked = await checkToolchainZips(zips, records);
  assert.deepEqual(checked.map((zip) => zip.status), ['rebuilt-equal', 'rebuilt-different', 'not-rebuilt']);
  assert.deepEqual(checked[0]!.matching, [10n]);
  assert.deepEqual(checked[1]!.differing, [{ index: 11n, h1: `h1:${'B'.repeat(43)}=` }]);
  assert.equal(checked[0]!.h1, amdH1);
  assert.equal(checked[0]!.module, 'golang.org/toolchain@v0.0.1-go1.21.0.linux-amd64');

  // A zip whose name is not a toolchain module is a usage error, not a guess.
  await assert.rejects(checkToolchainZips([path.join(dir, 'x.zip')], records), { code: 'NOT_TOOLCHAIN_ZIP' });
  // An empty or missing cache has no zips.
  assert.deepEqual(await toolchainZipsInModuleCache(path.join(dir, 'nothing')), []);
});

test('check: the module cache the go command uses', () => {
  assert.equal(defaultModuleCache({ GOMODCACHE: '/m' }), '/m');
  assert.equal(defaultModuleCache({ GOPATH: `/a${path.delimiter}/b` }), path.join('/a', 'pkg', 'mod'));
  assert.match(defaultModuleCache({}), /go\/pkg\/mod$/);
});

test('check: an odd sumdb version (go1.9.2rc2, golang/go#68634) is reported, never a crash', async () => {
  const dir = tempDir();
  const odd = path.join(dir, 'v0.0.1-go1.9.2rc2.linux-amd64.zip');
  await writeZip(odd, [{ name: 'golang.org/toolchain@v0.0.1-go1.9.2rc2.linux-amd64/bin/go', content: 'odd' }]);
  const [checked] = await checkToolchainZips([odd], []);
  assert.equal(checked!.version, 'go1.9.2rc2');
  assert.equal(checked!.status, 'not-rebuilt');
});
