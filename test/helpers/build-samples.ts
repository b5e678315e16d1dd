// Sample values shared by the build tests: object ids, SHA-256s and h1 hashes, and a complete build result.
import { BUILD_RESULT_SCHEMA, type BuiltResult } from '../../src/rebuild/result.js';

export const COMMIT = 'a'.repeat(40);
export const TREE = 'b'.repeat(40);
export const SHA_C = 'c'.repeat(64);
export const SHA_D = 'd'.repeat(64);
export const h1 = (byte: number) => `h1:${Buffer.alloc(32, byte).toString('base64')}`;
/** The real go.mod h1 of every golang.org/toolchain version (module golang.org/toolchain\n). */
export const TOOLCHAIN_MOD_H1 = 'h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=';

/** A built go1.21.1 linux/arm (GOARM=6) result with every field filled in. */
export function sampleBuilt(): BuiltResult {
  const module = 'v0.0.1-go1.21.1.linux-arm';
  return {
    schema: BUILD_RESULT_SCHEMA,
    version: 'go1.21.1',
    target: 'linux/arm',
    env: { GOARM: '6' },
    tag: { ref: 'refs/tags/go1.21.1', commit: COMMIT, tree: TREE, logIndex: '3', logOrigin: 'example.com/build-log' },
    bootstrap: [
      { version: 'go1.20.14', hash: h1(1), commit: COMMIT, tree: TREE },
      { version: 'go1.19.8', hash: h1(2) },
    ],
    builder: { name: 'go-source-witness', version: '0.1.0', node: 'v20.20.2', platform: 'linux/x64', user: 'nobody' },
    started: '2024-05-06T07:08:09Z',
    outcome: 'built',
    seconds: 12,
    log: { name: `go1.21.1.linux-arm.${SHA_C}.log`, size: 100, sha256: SHA_C },
    files: [
      { name: 'go1.21.1.linux-arm.tar.gz', size: 10, sha256: SHA_C },
      { name: 'go1.21.1.src.tar.gz', size: 11, sha256: SHA_D },
      { name: `${module}.info`, size: 12, sha256: SHA_C },
      { name: `${module}.mod`, size: 28, sha256: SHA_D },
      { name: `${module}.zip`, size: 14, sha256: SHA_C },
    ],
    goSum: [`golang.org/toolchain ${module} ${h1(3)}`, `golang.org/toolchain ${module}/go.mod ${TOOLCHAIN_MOD_H1}`],
    sourceCheck: { equal: true, files: 11, problems: [] },
  };
}
