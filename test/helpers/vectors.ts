// Test vectors and byte comparison shared by the tlog tests. Public vectors live in test/vectors/ (copied
// from the project's shared/testdata: real sum.golang.org notes and records, see its README). The
// embedded log's private keys never enter this repository: tests that need them read ../shared/keys
// next to the checkout and are skipped, saying so, where it is absent.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './fixtures.js';

export const TESTDATA = path.join(ROOT, 'test', 'vectors');
export const SHARED_KEYS = path.resolve(ROOT, '..', 'shared', 'keys');
export const SHARED_KEYS_SKIP = existsSync(path.join(SHARED_KEYS, 'embedded-log.key'))
  ? false
  : `needs ${SHARED_KEYS} (the embedded log's private keys, kept outside this repository)`;

/** Byte arrays compared by content only: hashes may be Buffers or plain Uint8Arrays (deepEqual tells them apart). */
export function norm(v: unknown): unknown {
  if (v instanceof Uint8Array) return Uint8Array.from(v);
  if (Array.isArray(v)) return v.map(norm);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, norm(x)]));
  return v;
}

export function same(actual: unknown, expected: unknown, message?: string): void {
  assert.deepEqual(norm(actual), norm(expected), message);
}
