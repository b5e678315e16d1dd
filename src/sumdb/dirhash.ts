// Go `h1:` directory hashes (golang/mod sumdb/dirhash/hash.go `Hash1`).
//
//   files   = sort.Strings(copy(names))         byte-wise order of the UTF-8 names
//   reject any name containing "\n"
//   summary = for each file: lowercase_hex(SHA-256(content)) + "  " + name + "\n"   (TWO spaces)
//   h1      = "h1:" + base64std(SHA-256(summary))
//
// Module zips hash their entry names as stored (`<module>@<version>/<path>`); the `/go.mod` line of a
// go.sum record is Hash1 over one file literally named `go.mod` (golang/go modfetch/fetch.go goModSum).
// Only names and contents are hashed: zip modes, mtimes and compression do not matter.
import { createHash } from 'node:crypto';
import { FormatError } from '../errors.js';

export interface DirhashFile {
  /** The name as hashed, e.g. `example.com/m@v1.0.0/go.mod` for a module zip entry. */
  readonly name: string;
  readonly content: Uint8Array;
}

export interface DirhashDigest {
  readonly name: string;
  /** Lowercase hex SHA-256 of the file content (64 characters), as `sha256sum` prints it. */
  readonly sha256: string;
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
// A lone UTF-16 surrogate has no UTF-8 encoding (TextEncoder would silently write U+FFFD, hashing a
// different name than the caller meant), so such names are refused.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** SHA-256 of `content` as lowercase hex: the per-file digest of the Hash1 summary. */
export function fileDigest(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

function checkName(name: string): Buffer {
  if (name.includes('\n')) {
    // Same refusal as Go: "dirhash: filenames with newlines are not supported".
    throw new FormatError('MALFORMED_FILE_NAME', `dirhash: file name ${JSON.stringify(name)} contains a newline`);
  }
  if (LONE_SURROGATE.test(name)) {
    throw new FormatError('MALFORMED_FILE_NAME', `dirhash: file name ${JSON.stringify(name)} is not valid Unicode`);
  }
  return Buffer.from(name, 'utf8');
}

/**
 * Hash1 from precomputed per-file digests, for callers that stream large files (e.g. a toolchain zip)
 * and never hold all contents in memory. Names are sorted here, byte-wise on UTF-8 like Go sort.Strings
 * (JS string comparison orders UTF-16 code units, which differs above U+FFFF: U+FF61 < U+1F600 in UTF-8,
 * but "\uFF61" > "\uD83D\uDE00" in UTF-16).
 */
export function hash1FromDigests(files: readonly DirhashDigest[]): string {
  const entries = files.map((file) => {
    if (!HEX_SHA256.test(file.sha256)) {
      throw new FormatError(
        'MALFORMED_DIGEST',
        `dirhash: digest of ${JSON.stringify(file.name)} is not 64 lowercase hex digits`,
      );
    }
    return { name: checkName(file.name), sha256: file.sha256 };
  });
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  const summary = createHash('sha256');
  for (const entry of entries) {
    summary.update(`${entry.sha256}  `, 'latin1');
    summary.update(entry.name);
    summary.update('\n', 'latin1');
  }
  return `h1:${summary.digest('base64')}`;
}

/** Go dirhash.Hash1 over in-memory files. */
export function hash1(files: readonly DirhashFile[]): string {
  // Check every name before hashing any content, so a bad name fails fast and independent of order.
  for (const file of files) checkName(file.name);
  return hash1FromDigests(files.map((file) => ({ name: file.name, sha256: fileDigest(file.content) })));
}

/** The `<module> <version>/go.mod h1:...` hash: Hash1 over one file named `go.mod` (modfetch goModSum). */
export function goModHash(content: Uint8Array): string {
  return hash1([{ name: 'go.mod', content }]);
}
