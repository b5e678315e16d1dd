// Expected values to compare builds with: Google's published go.dev/dl listing (SHA-256 of each archive)
// and the Go checksum database (the golang.org/toolchain module's go.sum lines, proven included in a
// signed tree head by SumdbClient.lookup).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EnvironmentError, FormatError } from '../errors.js';
import { getBounded } from '../infra/http.js';
import { encodeBase64 } from '../tlog/encoding.js';
import type { SumdbClient } from '../sumdb/client.js';
import type { SignedCheckpoint } from '../tlog/checkpoint.js';

export interface PublishedFile {
  readonly filename: string;
  readonly sha256: string;
  readonly size?: number;
}

export interface PublishedListing {
  /** Where it came from (a file path or URL), for the evidence line. */
  readonly source: string;
  /** SHA-256 of the listing's bytes: the evidence names exactly what was compared with. */
  readonly sha256: string;
  readonly files: ReadonlyMap<string, PublishedFile>;
}

const MAX_LISTING_BYTES = 64 * 1024 * 1024;

/**
 * Parses the go.dev/dl JSON listing (`https://go.dev/dl/?mode=json&include=all`): an array of releases,
 * each with `files: [{filename, sha256, size, ...}]`. Fields we do not use are ignored; the ones we use
 * are checked.
 */
export function parsePublishedListing(bytes: Uint8Array, source: string): PublishedListing {
  const bad = (why: string): never => {
    throw new FormatError('BAD_PUBLISHED_LISTING', `${source}: ${why}`);
  };
  let releases: unknown;
  try {
    releases = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    bad(`not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(releases)) bad('not a JSON array of releases (expected the go.dev/dl/?mode=json&include=all format)');
  const files = new Map<string, PublishedFile>();
  for (const release of releases as unknown[]) {
    const list = (release as { files?: unknown })?.files;
    if (!Array.isArray(list)) bad('a release has no "files" array');
    for (const file of list as unknown[]) {
      const { filename, sha256, size } = (file ?? {}) as Record<string, unknown>;
      if (typeof filename !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]{0,200}$/.test(filename)) bad(`a file has a malformed filename ${JSON.stringify(filename)}`);
      if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) bad(`${filename as string}: sha256 is not 64 lowercase hex digits`);
      const previous = files.get(filename as string);
      if (previous && previous.sha256 !== sha256) bad(`${filename as string} is listed twice with different hashes`);
      files.set(filename as string, { filename: filename as string, sha256: sha256 as string, ...(typeof size === 'number' && Number.isSafeInteger(size) ? { size } : {}) });
    }
  }
  return { source, sha256: createHash('sha256').update(bytes).digest('hex'), files };
}

/** Reads a listing from a file or an http(s) URL. */
export async function loadPublishedListing(location: string, fetcher: typeof fetch = fetch): Promise<PublishedListing> {
  let bytes: Uint8Array;
  const tooLarge = () => new FormatError('BAD_PUBLISHED_LISTING', `${location} is larger than ${MAX_LISTING_BYTES} bytes`);
  if (/^https?:\/\//.test(location)) {
    // One bounded GET (src/infra/http.ts): a listing larger than the cap is cut off while it streams.
    const body = await getBounded(location, {
      maxBytes: MAX_LISTING_BYTES,
      timeoutMs: 60_000,
      fetch: fetcher,
      anyOk: true,
      error: (failure) => {
        switch (failure.kind) {
          case 'too-large':
            return tooLarge();
          case 'status':
            return new EnvironmentError('PUBLISHED_UNREACHABLE', `${location}: HTTP ${failure.status}`);
          default:
            return new EnvironmentError('PUBLISHED_UNREACHABLE', `cannot fetch ${location}: ${(failure.cause as Error)?.message ?? String(failure.cause)}`, {
              cause: failure.cause,
            });
        }
      },
    });
    bytes = body!;
  } else {
    bytes = await readFile(location).catch((error: Error) => {
      throw new EnvironmentError('READ_FAILED', `cannot read ${location}: ${error.message}`, { cause: error });
    });
  }
  if (bytes.length > MAX_LISTING_BYTES) throw tooLarge();
  return parsePublishedListing(bytes, location);
}

export interface SumdbExpectation {
  /** The two go.sum lines the database holds for the module version (zip, then /go.mod). */
  readonly zipLine?: string;
  readonly modLine?: string;
  /** The record's index and the signed head it was proven in. */
  readonly id: bigint;
  readonly checkpoint: SignedCheckpoint;
  /** `<label> record <id> in tree <size> <root>`: the evidence line. */
  readonly evidence: string;
}

/** `record <id> in tree <size> <root>`: how verdicts name a proven record (the site reads it back). */
export function sumdbRecordDetail(id: bigint, checkpoint: SignedCheckpoint): string {
  return `record ${id} in tree ${checkpoint.checkpoint.size} ${encodeBase64(checkpoint.checkpoint.rootHash)}`;
}

/** The record number, tree size and root a `sumdb` verdict detail names (sumdbRecordDetail), if any. */
export function parseSumdbRecordDetail(detail: string): { id: bigint; treeSize: bigint; root: string } | undefined {
  const match = /^record (0|[1-9][0-9]{0,18}) in tree ([1-9][0-9]{0,18}) ([A-Za-z0-9+/]{43}=)/.exec(detail);
  return match ? { id: BigInt(match[1]!), treeSize: BigInt(match[2]!), root: match[3]! } : undefined;
}

/**
 * Looks up golang.org/toolchain@<moduleVersion> in the checksum database, with its inclusion proof checked.
 * `label` names the database in the evidence (default: the client's URL).
 */
export async function lookupToolchainModule(client: SumdbClient, moduleVersion: string, label = client.baseUrl.replace(/\/$/, '')): Promise<SumdbExpectation> {
  const result = await client.lookup('golang.org/toolchain', moduleVersion);
  const lines = result.text.split('\n').filter((line) => line !== '');
  return {
    zipLine: lines.find((line) => line.startsWith(`golang.org/toolchain ${moduleVersion} `)),
    modLine: lines.find((line) => line.startsWith(`golang.org/toolchain ${moduleVersion}/go.mod `)),
    id: result.id,
    checkpoint: result.checkpoint,
    evidence: `${label} ${sumdbRecordDetail(result.id, result.checkpoint)}`,
  };
}
