// The one tlog core in both environments. src/tlog reaches its cryptography through one seam,
// `#tlog-crypto` (package.json `imports`): node:crypto in Node, @noble in a browser. The two seam modules
// agree on every input tried; the core gives the same results through either (test/helpers/tlog-probe.ts,
// run here in Node, in Node with the "browser" condition, and in headless Chromium from an esbuild browser
// bundle); and nothing under src/tlog uses a node built-in or Buffer.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { build } from 'esbuild';
import * as noble from '../src/tlog-crypto/noble.js';
import * as node from '../src/tlog-crypto/node.js';
import { ROOT } from './helpers/fixtures.js';
import { chromiumMissing, dumpDom } from './helpers/chromium.js';
import { SUMDB_KEY, SUMDB_NOTE, probeCore } from './helpers/tlog-probe.js';
import { decodeBase64 } from '../src/tlog/encoding.js';
import { parseVerifierKey } from '../src/tlog/note.js';

// The two seam modules have the same shape (a type error here otherwise).
const _sameShape: Omit<typeof node, 'ed25519PublicKeyObject'> = noble;
void _sameShape;

describe('the crypto seam: node:crypto and @noble agree', () => {
  test('SHA-256 of every length 0..300 and of 1 MiB', () => {
    for (let n = 0; n <= 300; n++) {
      const data = randomBytes(n);
      assert.deepEqual(noble.sha256(data), node.sha256(data), `length ${n}`);
    }
    const big = randomBytes(1 << 20);
    assert.deepEqual(noble.sha256(big), node.sha256(big));
    assert.equal(Object.getPrototypeOf(node.sha256(big)), Uint8Array.prototype, 'a plain Uint8Array, not a Buffer');
  });

  test('Ed25519: valid signatures, every one-bit change, wrong lengths, a malformed key; the real sum.golang.org note', () => {
    for (let k = 0; k < 4; k++) {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
      const message = randomBytes(k * 40);
      const signature = new Uint8Array(sign(null, message, privateKey));
      const verifiers = [noble.ed25519Verifier(raw), node.ed25519Verifier(raw)];
      for (const verify of verifiers) assert.equal(verify(message, signature), true);
      for (let bit = 0; bit < 64 * 8; bit += 7) {
        const bad = signature.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        assert.deepEqual(verifiers.map((verify) => verify(message, bad)), [false, false], `bit ${bit}`);
      }
      // S + L (the group order) is the same signature to a lax verifier; RFC 8032 strict refuses it.
      const L = 2n ** 252n + 27742317777372353535851937790883648493n;
      let s = 0n;
      for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(signature[i]!);
      const malleable = signature.slice();
      let t = s + L;
      for (let i = 32; i < 64; i++, t >>= 8n) malleable[i] = Number(t & 0xffn);
      assert.deepEqual(verifiers.map((verify) => verify(message, malleable)), [false, false], 'S + L');
      for (const bad of [signature.subarray(0, 63), new Uint8Array([...signature, 0]), new Uint8Array(0)]) {
        assert.deepEqual(verifiers.map((verify) => verify(message, bad)), [false, false]);
      }
    }
    const key = parseVerifierKey(SUMDB_KEY);
    const text = new TextEncoder().encode(SUMDB_NOTE.slice(0, SUMDB_NOTE.indexOf('\n\n') + 1));
    const sig = decodeBase64(SUMDB_NOTE.slice(SUMDB_NOTE.lastIndexOf(' ') + 1, -1)).subarray(4);
    assert.deepEqual([noble.ed25519Verifier(key.publicKey)(text, sig), node.ed25519Verifier(key.publicKey)(text, sig)], [true, true]);
    assert.equal(noble.ed25519Verifier(new Uint8Array(31))(text, sig), false);
  });
});

describe('src/tlog is pure', () => {
  test('no node built-in, no Buffer, no process, in any file under src/tlog', () => {
    const dir = path.join(ROOT, 'src', 'tlog');
    const files = readdirSync(dir).filter((file) => file.endsWith('.ts'));
    assert.ok(files.length >= 9);
    for (const file of files) {
      // Code only: comments may name what the seam stands for.
      const code = readFileSync(path.join(dir, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      assert.doesNotMatch(code, /['"]node:|\bBuffer\b|\bprocess\.|\brequire\(/, file);
      for (const [, specifier] of code.matchAll(/from '([^']+)'/g)) {
        assert.ok(specifier!.startsWith('./') || specifier === '../errors.js' || specifier === '#tlog-crypto' || specifier!.startsWith('@noble/'), `${file} imports ${specifier}`);
      }
    }
  });

  test('package.json `imports`: #tlog-crypto is node:crypto for "node", @noble for "browser" and "default"', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { imports: Record<string, Record<string, string>> };
    assert.deepEqual(pkg.imports['#tlog-crypto'], {
      browser: './src/tlog-crypto/noble.ts',
      node: './src/tlog-crypto/node.ts',
      default: './src/tlog-crypto/noble.ts',
    });
  });
});

/** What the probe must find, whatever the environment (public vectors; the rest is compared across). */
function checkKnown(result: Record<string, unknown>): void {
  const vectorRoots = result.vectorRoots as string[];
  assert.equal(vectorRoots[0], 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(vectorRoots[8], '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328');
  assert.deepEqual(result.sumdb, { size: '35225469', root: 'vt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=', keyId: 0x033de0ae });
  assert.equal(result.sumdbTampered, 'VerificationError:INVALID_SIGNATURE');
  assert.deepEqual(result.tilePaths, ['tile/0/000', 'tile/0/999', 'tile/0/x001/000', 'tile/0/x097/380', 'tile/0/x001/x234/067']);
  const base64 = result.base64 as { big: number; rejected: string[] };
  assert.equal(base64.big, 4_800_000);
  assert.ok(base64.rejected.every((r) => r === 'FormatError:MALFORMED_BASE64'), JSON.stringify(base64.rejected));
  const trees = result.verifyTree as Record<string, { rootMatches: boolean; problems: string[]; authentic: boolean } | string>;
  assert.deepEqual(trees.intact, { ...(trees.intact as object), rootMatches: true, problems: [], authentic: true });
  assert.deepEqual((trees.tile as { problems: string[] }).problems, ['mismatch tile/0/001 17']);
  assert.deepEqual((trees.entry as { problems: string[]; rootMatches: boolean }).problems, ['mismatch tile/0/002 255', 'mismatch tile/1/000.p/11 2']);
  assert.equal((trees.entry as { authentic: boolean }).authentic, true);
  assert.deepEqual((trees.missing as { problems: string[] }).problems, ['unreadable tile/0/003']);
  assert.deepEqual((trees.truncated as { problems: string[] }).problems, ['malformed tile/0/004']);
  assert.equal(trees.badBundle, 'FormatError:MALFORMED_TILE');
}

describe('the core gives the same results in Node, in Node with @noble, and in Chromium', () => {
  let inNode: Record<string, unknown>;

  test('Node (node:crypto)', async () => {
    inNode = await probeCore();
    assert.equal(inNode.implementation, 'node:crypto');
    checkKnown(inNode);
  });

  test('Node with the "browser" condition (@noble behind the seam)', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ['--conditions=browser', '--import', 'tsx', path.join(ROOT, 'test', 'helpers', 'tlog-probe-run.ts')],
        { cwd: ROOT, maxBuffer: 16 << 20, encoding: 'utf8' },
        (error, out, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(out)),
      ),
    );
    const withNoble = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(withNoble.implementation, '@noble/hashes, @noble/ed25519');
    checkKnown(withNoble);
    assert.deepEqual({ ...withNoble, implementation: '' }, { ...inNode, implementation: '' });
  });

  const servers: Server[] = [];
  after(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

  test('headless Chromium, from an esbuild browser bundle of the core', { skip: chromiumMissing() ?? false }, async () => {
    const bundle = await build({
      absWorkingDir: ROOT,
      entryPoints: ['test/helpers/tlog-probe-page.ts'],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'iife',
      target: 'es2020',
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.includes('src/tlog-crypto/noble.ts'), 'the browser bundle holds the @noble seam');
    assert.ok(!inputs.some((input) => input.startsWith('src/tlog-node/')), `no Node module in the browser bundle: ${inputs.join(', ')}`);
    const js = bundle.outputFiles[0]!.text;
    assert.doesNotMatch(js, /["']node:/);
    const page = '<!doctype html><meta charset="utf-8"><title>tlog core</title><pre id="out">running</pre><script src="probe.js"></script>\n';
    const server = createServer((request, response) => {
      if (request.url === '/probe.js') response.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
      else response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dom = await dumpDom(`http://127.0.0.1:${port}/`, 120_000);
    const text = /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom)?.[1] ?? dom.slice(0, 2000);
    const json = text.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    assert.ok(json.startsWith('{'), json.slice(0, 2000));
    const inChromium = JSON.parse(json) as Record<string, unknown>;
    assert.equal(inChromium.implementation, '@noble/hashes, @noble/ed25519');
    checkKnown(inChromium);
    assert.deepEqual({ ...inChromium, implementation: '' }, { ...inNode, implementation: '' });
  });
});
