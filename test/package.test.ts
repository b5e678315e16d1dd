// The installed package works like the checkout: `npm pack` (once per run; prepack runs `npm run build`)
// of a copy of the checkout, its contents, then the tarball installed into a temporary prefix (from the
// npm cache when it holds every dependency, else --prefer-offline through npm's own client) and run from
// there: --version is package.json's, -h, verify of the bundled log, compare of its tags.txt, the tlog core
// imported as go-source-witness/tlog (node:crypto, and @noble with the browser condition), a typo refused
// before acting.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT, tempDir } from './helpers/fixtures.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string };

function sh(command: string, args: string[], options: { cwd: string; input?: string; timeout?: number }) {
  const env = { ...process.env };
  for (const name of ['WITNESS_SIGNING_KEY', 'WITNESS_COSIGNER_KEY', 'WITNESS_STATE_DIR', 'WITNESS_DEBUG']) delete env[name];
  const result = spawnSync(command, args, { cwd: options.cwd, env, input: options.input ?? '', encoding: 'utf8', timeout: options.timeout ?? 300_000, maxBuffer: 64 * 1024 * 1024 });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr, error: result.error };
}

test('LICENSE matches package.json', () => {
  assert.equal(pkg.license, 'BSD-3-Clause');
  const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
  assert.match(license, /^Copyright \(c\) \d{4} The go-source-witness authors\. All rights reserved\.\n/);
  assert.match(license, /Redistribution and use in source and binary forms, with or without\nmodification, are permitted/);
  assert.match(license, /3\. Neither the name of the copyright holder nor the names of its\n {3}contributors may be used/);
});

test('npm pack, install into a temp prefix, run: --version, -h, verify, compare', { timeout: 15 * 60_000 }, async (t) => {
  // Pack a copy of the checkout (its tracked files as they are now), so the build writes nothing here.
  const copy = path.join(tempDir('witness-pack-'), 'src');
  mkdirSync(copy);
  const files = sh('git', ['ls-files', '-z'], { cwd: ROOT }).stdout.split('\0').filter(Boolean);
  const tar = spawnSync('sh', ['-c', `tar -cf - --null -T - | tar -xf - -C '${copy}'`], { cwd: ROOT, input: files.join('\0') });
  assert.equal(tar.status, 0, String(tar.stderr));
  symlinkSync(realpathSync(path.join(ROOT, 'node_modules')), path.join(copy, 'node_modules'));
  const out = tempDir('witness-tarball-');
  const packed = sh('npm', ['pack', '--json', '--silent', '--pack-destination', out], { cwd: copy, timeout: 600_000 });
  assert.equal(packed.code, 0, packed.stderr);
  const report = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const names = report[0]!.files.map((file) => file.path);
  for (const name of ['LICENSE', 'README.md', 'package.json', 'bin/witness.js', 'dist/witness.mjs', 'dist/index.js', 'dist/index.d.ts', 'dist/package.json', 'dist/tlog/index.js', 'dist/tlog/index.d.ts', 'witness-log/checkpoint', 'witness-log/log.vkey', 'witness-log/tags.txt']) {
    assert.ok(names.includes(name), `the package holds ${name}`);
  }
  for (const name of names) assert.doesNotMatch(name, /^(src|test|scripts|\.github|\.ci)\/|\.key$/, `the package must not hold ${name}`);
  const tarball = path.join(out, report[0]!.filename);

  const prefix = tempDir('witness-prefix-');
  let installed = sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], { cwd: prefix });
  if (installed.code !== 0) installed = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, tarball], { cwd: prefix });
  if (installed.code !== 0) {
    t.skip(`the tarball's dependencies are neither in the npm cache nor reachable: ${installed.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    return;
  }
  const witness = path.join(prefix, 'node_modules', '.bin', 'witness');
  const here = tempDir('witness-installed-run-'); // no ./witness-log: the bundled one is used
  const version = sh(witness, ['--version'], { cwd: here });
  assert.deepEqual([version.code, version.stdout], [0, `${pkg.version}\n`], version.stderr);
  const help = sh(witness, ['-h'], { cwd: here });
  assert.equal(help.code, 0);
  assert.match(help.stdout, /witness <command> \[options\]/);
  const verify = sh(witness, ['verify'], { cwd: here });
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /^Witness log go-source-witness\.example\/log \(.*node_modules\/go-source-witness\/witness-log\)\n/);
  assert.match(verify.stdout, /\(pinned\)/);
  assert.match(verify.stdout, /OK: the log verifies\.\n$/);
  const tags = readFileSync(path.join(prefix, 'node_modules', pkg.name, 'witness-log', 'tags.txt'), 'utf8');
  const compare = sh(witness, ['compare', '-'], { cwd: here, input: tags });
  assert.equal(compare.code, 0, compare.stderr);
  assert.match(compare.stdout, /SAME: all \d+ tags equal the witness log\.\n$/);
  // The tlog core as its own subpath: the installed package's log checked by verifyTree from
  // go-source-witness/tlog, with node:crypto behind the seam, and with @noble (the "browser" condition).
  const script = [
    "import { readFileSync } from 'node:fs';",
    "import { CRYPTO_IMPLEMENTATION, noteVerifier, openCheckpoint, tilePath, verifyTree } from 'go-source-witness/tlog';",
    "import { verifyLogFolder } from 'go-source-witness';",
    `const dir = ${JSON.stringify(path.join(prefix, 'node_modules', pkg.name, 'witness-log'))};`,
    "const read = (tile) => new Uint8Array(readFileSync(`${dir}/${tilePath(tile)}`));",
    "const vkey = readFileSync(`${dir}/log.vkey`, 'utf8').trim();",
    "const { checkpoint } = openCheckpoint(readFileSync(`${dir}/checkpoint`, 'utf8'), [noteVerifier(vkey)]);",
    'const tree = await verifyTree(checkpoint, { readEntryBundle: read, readHashTile: read });',
    "console.log(CRYPTO_IMPLEMENTATION, String(tree.size), tree.rootMatches, tree.problems.length, tree.hashTiles, typeof verifyLogFolder);",
  ].join('\n');
  const size = readFileSync(path.join(prefix, 'node_modules', pkg.name, 'witness-log', 'checkpoint'), 'utf8').split('\n')[1];
  const core = sh(process.execPath, ['--input-type=module', '-e', script], { cwd: prefix });
  assert.equal(core.code, 0, core.stderr);
  assert.match(core.stdout, new RegExp(`^node:crypto ${size} true 0 \\d+ function\\n$`));
  const browser = sh(process.execPath, ['--conditions=browser', '--input-type=module', '-e', script], { cwd: prefix });
  assert.equal(browser.code, 0, browser.stderr);
  assert.match(browser.stdout, new RegExp(`^@noble/hashes, @noble/ed25519 ${size} true 0 \\d+ function\\n$`));
  const typo = sh(witness, ['tags', '--go-repo', here, '--dryrun'], { cwd: here });
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, 'witness: unknown option --dryrun; did you mean --dry-run? (see witness tags --help) [UNKNOWN_OPTION]\n');
});
