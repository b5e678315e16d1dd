// Hashing a pkg/distpack folder: every file's size and SHA-256, and the toolchain module's go.sum lines
// (h1: of the zip read by streaming, checked against Hash1 over the same names and contents in memory).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import yazl from 'yazl';
import { hashGoroot } from '../src/rebuild/bootstrap.js';
import { hashDistpack, hashFile, hashModuleZip } from '../src/rebuild/distpack.js';
import { WitnessError } from '../src/errors.js';
import { exitCodeOf } from '../src/cli/exit-code.js';
import { hash1 } from '../src/sumdb/dirhash.js';
import { tempDir } from './helpers/fixtures.js';

const VERSION = 'v0.0.1-go1.99.0.linux-amd64';
const PREFIX = `golang.org/toolchain@${VERSION}/`;

function writeZip(file: string, entries: Array<{ name: string; content: Buffer; compress?: boolean }>): Promise<void> {
  return new Promise((resolve, reject) => {
    const zip = new yazl.ZipFile();
    for (const entry of entries) zip.addBuffer(entry.content, entry.name, { compress: entry.compress ?? true, mtime: new Date(0) });
    zip.end();
    zip.outputStream.pipe(createWriteStream(file)).on('close', () => resolve()).on('error', reject);
  });
}

test('a distpack folder: sizes and SHA-256 of every file, and the module go.sum lines', async () => {
  const dir = tempDir();
  const entries = [
    { name: `${PREFIX}bin/go`, content: randomBytes(300_000), compress: false },
    { name: `${PREFIX}src/runtime/proc.go`, content: Buffer.from('package runtime\n'.repeat(5000)) },
    { name: `${PREFIX}_go.mod`, content: Buffer.from('module std\n') },
    { name: `${PREFIX}pkg/tool/linux_amd64/compile`, content: randomBytes(70_000) },
    { name: `${PREFIX}lib/time/zoneinfo.zip`, content: Buffer.alloc(0) },
  ];
  await writeZip(path.join(dir, `${VERSION}.zip`), entries);
  writeFileSync(path.join(dir, `${VERSION}.mod`), 'module golang.org/toolchain\n');
  writeFileSync(path.join(dir, `${VERSION}.info`), '{"Version":"v0.0.1-go1.99.0.linux-amd64","Time":"2026-01-01T00:00:00Z"}\n');
  const archive = randomBytes(123_457);
  writeFileSync(path.join(dir, 'go1.99.0.linux-amd64.tar.gz'), archive);
  writeFileSync(path.join(dir, 'go1.99.0.src.tar.gz'), randomBytes(1000));

  const result = await hashDistpack(dir);
  assert.deepEqual(result.files.map((f) => f.name), [
    'go1.99.0.linux-amd64.tar.gz',
    'go1.99.0.src.tar.gz',
    `${VERSION}.info`,
    `${VERSION}.mod`,
    `${VERSION}.zip`,
  ]);
  const tarball = result.files[0]!;
  assert.equal(tarball.size, archive.length);
  assert.equal(tarball.sha256, createHash('sha256').update(archive).digest('hex'));
  assert.equal(result.moduleVersion, VERSION);
  const expectedH1 = hash1(entries.map(({ name, content }) => ({ name, content })));
  assert.deepEqual(result.goSum, [
    `golang.org/toolchain ${VERSION} ${expectedH1}`,
    // The real toolchain go.mod hash, as recorded in sum.golang.org (test/vectors/toolchain-records.txt).
    `golang.org/toolchain ${VERSION}/go.mod h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=`,
  ]);
});

test('hashFile: size and SHA-256; a missing file is an environment error', async () => {
  const file = path.join(tempDir(), 'f');
  const data = randomBytes(5 * 1024 * 1024 + 3);
  writeFileSync(file, data);
  assert.deepEqual(await hashFile(file), { size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
  await assert.rejects(hashFile(path.join(tempDir(), 'missing')), (error: unknown) => error instanceof WitnessError && exitCodeOf(error) === 2);
});

test('hashFile: reads past its 4 MiB buffer, hashes an empty file, and two calls at once do not mix', async () => {
  const dir = tempDir();
  const sizes = [0, 1, 4 * 1024 * 1024, 4 * 1024 * 1024 + 1, 9 * 1024 * 1024 - 7];
  const files = sizes.map((size, i) => {
    const data = randomBytes(size);
    writeFileSync(path.join(dir, `f${i}`), data);
    return { file: path.join(dir, `f${i}`), expected: { size, sha256: createHash('sha256').update(data).digest('hex') } };
  });
  assert.deepEqual(await Promise.all(files.map(({ file }) => hashFile(file))), files.map(({ expected }) => expected));
});

test('hashFile refuses a symbolic link, a directory and a FIFO (without blocking on it)', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'real'), 'x');
  symlinkSync('real', path.join(dir, 'link'));
  mkdirSync(path.join(dir, 'sub'));
  execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  for (const name of ['link', 'sub', 'fifo']) {
    await assert.rejects(hashFile(path.join(dir, name)), (error: unknown) => error instanceof WitnessError && error.code === 'NOT_A_FILE' && exitCodeOf(error) === 2, name);
  }
});

test('hashGoroot follows a symbolic link to a file (Debian links GOROOT files into /usr/share), hashing the target', async () => {
  const dir = tempDir();
  const goroot = path.join(dir, 'go');
  mkdirSync(path.join(goroot, 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'VERSION.real'), 'go1.99.0\n');
  symlinkSync('../VERSION.real', path.join(goroot, 'VERSION'));
  writeFileSync(path.join(goroot, 'bin', 'go'), 'binary');
  assert.equal(await hashGoroot(goroot), hash1([
    { name: 'VERSION', content: Buffer.from('go1.99.0\n') },
    { name: 'bin/go', content: Buffer.from('binary') },
  ]));
});

test('a zip that is not one, or has a name twice, is refused with a typed error', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'bad.zip'), randomBytes(1000));
  await assert.rejects(hashModuleZip(path.join(dir, 'bad.zip')), (error: unknown) => error instanceof WitnessError && error.code === 'MALFORMED_ZIP');
  await writeZip(path.join(dir, 'dup.zip'), [
    { name: 'a/x', content: Buffer.from('1') },
    { name: 'a/x', content: Buffer.from('2') },
  ]);
  await assert.rejects(hashModuleZip(path.join(dir, 'dup.zip')), /appears twice/);
});

test('opt-in: a real distpack built from a Go tag matches the git tree and sum.golang.org (WITNESS_DISTPACK_DIR)', async (t) => {
  const dir = process.env.WITNESS_DISTPACK_DIR;
  const repository = process.env.WITNESS_GO_REPO;
  if (!dir || !repository) {
    t.skip('set WITNESS_DISTPACK_DIR=<GOROOT>/pkg/distpack (after make.bash -distpack at a release tag) and WITNESS_GO_REPO to run');
    return;
  }
  const { readFileSync } = await import('node:fs');
  const { checkSourceTarball } = await import('../src/rebuild/source-check.js');
  const result = await hashDistpack(dir);
  const source = result.files.find((file) => file.name.endsWith('.src.tar.gz'));
  assert.ok(source, 'no source tarball in the distpack folder');
  const tag = source.name.slice(0, -'.src.tar.gz'.length);
  const check = await checkSourceTarball(path.join(dir, source.name), repository, tag);
  assert.equal(check.equal, true, JSON.stringify({ differ: check.differ.slice(0, 5), onlyInGit: check.onlyInGit.slice(0, 5), onlyInTarball: check.onlyInTarball.slice(0, 5) }));
  // Real sum.golang.org records (test/vectors/toolchain-records.txt): compare when we have this version's.
  const records = readFileSync(new URL('./vectors/toolchain-records.txt', import.meta.url), 'utf8').split('\n');
  const recorded = records.filter((line) => line.startsWith(`golang.org/toolchain ${result.moduleVersion} `) || line.startsWith(`golang.org/toolchain ${result.moduleVersion}/go.mod `));
  if (recorded.length === 2) assert.deepEqual(result.goSum, recorded);
  else t.diagnostic(`no sumdb record for ${result.moduleVersion} in the test vectors; go.sum lines: ${result.goSum?.join(' | ')}`);
});
