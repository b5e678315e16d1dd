// TEMPORARY (issue 12, item 1): until src/tlog is pure (SHA-256 and Ed25519 behind the `#tlog-crypto`
// seam, no Buffer), the verify page's git history check (src/publish/browser/history.ts), which imports
// src/tlog, is bundled with this esbuild plugin: `node:crypto` becomes the few functions src/tlog calls,
// on @noble/hashes and @noble/ed25519 (verification only; signing refuses); src/tlog's free `Buffer` is
// the `buffer` package's, as isomorphic-git's (src/publish/browser/buffer-global.ts). Delete this file and
// its line in scripts/build-verify-bundle.ts once the pure src/tlog is merged.
import type { Plugin } from 'esbuild';

const NODE_CRYPTO = `
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
ed.hashes.sha512 = sha512;
export function hash(algorithm, data) { if (algorithm !== 'sha256') throw new Error('only sha256'); return sha256(data); }
export function createHash(algorithm) {
  if (algorithm !== 'sha256') throw new Error('only sha256');
  const state = sha256.create();
  return { update(data) { state.update(typeof data === 'string' ? new TextEncoder().encode(data) : data); return this; }, digest() { return state.digest(); } };
}
export function createPublicKey(options) { const key = options.key; return { ed25519: key.subarray(key.length - 32) }; }
export function verify(algorithm, message, key, signature) { return ed.verify(signature, message, key.ed25519, { zip215: false }); }
function refuse() { throw new Error('not available in the browser'); }
export const createPrivateKey = refuse, sign = refuse, randomBytes = refuse;
`;

export const tlogBrowserBridge: Plugin = {
  name: 'tlog-browser-bridge',
  setup(build) {
    build.onResolve({ filter: /^node:crypto$/ }, () => ({ path: 'node:crypto', namespace: 'tlog-browser-bridge' }));
    build.onLoad({ filter: /.*/, namespace: 'tlog-browser-bridge' }, () => ({
      contents: NODE_CRYPTO,
      loader: 'js',
      resolveDir: build.initialOptions.absWorkingDir ?? process.cwd(),
    }));
  },
};
