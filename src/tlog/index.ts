// go-source-witness/tlog: the tlog core on its own, for Node and browsers alike (no node built-in; the
// crypto seam `#tlog-crypto` is node:crypto in Node and @noble elsewhere). Verification only: signing
// needs a private key and lives in the main entry point (src/tlog-node/signer.ts).
export * from './encoding.js';
export * from './merkle.js';
export * from './tile.js';
export * from './note.js';
export * from './checkpoint.js';
export * from './cosignature.js';
export * from './verify-tree.js';
export { CRYPTO_IMPLEMENTATION, sha256 } from './sha256.js';
