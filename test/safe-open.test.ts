// src/infra/safe-open.ts: the one way to open files below a folder someone else controls.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { RefusedFileError, readUntrustedFile } from '../src/infra/safe-open.js';

const root = mkdtempSync(path.join(tmpdir(), 'safe-open-'));
const log = path.join(root, 'log');
mkdirSync(path.join(log, 'tile', '0'), { recursive: true });
writeFileSync(path.join(log, 'tile', '0', '000'), 'tile');
writeFileSync(path.join(log, 'plain'), 'plain');
writeFileSync(path.join(root, 'secret'), 'secret');
mkdirSync(path.join(root, 'elsewhere'));
writeFileSync(path.join(root, 'elsewhere', '000'), 'secret');
symlinkSync(path.join(root, 'elsewhere'), path.join(log, 'tile', '1'));
symlinkSync(path.join(root, 'secret'), path.join(log, 'vkey'));
symlinkSync(path.join(root, 'nowhere'), path.join(log, 'dangling'));
execFileSync('mkfifo', [path.join(log, 'fifo')]);
symlinkSync(log, path.join(root, 'log-link'));

const reason = (error: unknown) => error instanceof RefusedFileError && error.reason;

test('reads regular files below the folder, also when the folder itself is named through a link (the caller named it)', async () => {
  assert.equal(Buffer.from((await readUntrustedFile(log, 'tile/0/000', 100))!).toString(), 'tile');
  assert.equal(Buffer.from((await readUntrustedFile(path.join(root, 'log-link'), 'tile/0/000', 100))!).toString(), 'tile');
});

test('missing files, and paths through a file, are undefined; nothing else is', async () => {
  assert.equal(await readUntrustedFile(log, 'tile/0/001', 100), undefined);
  assert.equal(await readUntrustedFile(log, 'plain/000', 100), undefined);
  assert.equal(await readUntrustedFile(path.join(root, 'none'), 'plain', 100), undefined);
});

test('a link is never followed: as the file, as a folder on the way, or dangling', async () => {
  await assert.rejects(readUntrustedFile(log, 'vkey', 100), (error) => reason(error) === 'symlink' && /vkey is a symbolic link/.test((error as Error).message));
  await assert.rejects(readUntrustedFile(log, 'tile/1/000', 100), (error) => reason(error) === 'symlink' && /reached through the symbolic link tile\/1;/.test((error as Error).message));
  await assert.rejects(readUntrustedFile(log, 'dangling', 100), (error) => reason(error) === 'symlink');
});

test('a FIFO is refused without blocking, a file over the limit is refused, a path with .. is refused', async () => {
  await assert.rejects(readUntrustedFile(log, 'fifo', 100), (error) => reason(error) === 'not-regular');
  await assert.rejects(readUntrustedFile(log, 'plain', 4), (error) => reason(error) === 'too-large');
  await assert.rejects(readUntrustedFile(log, '../secret', 100), /not a plain relative path/);
});
