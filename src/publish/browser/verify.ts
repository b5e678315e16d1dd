// The verification core of the published verify page (verify.html): fetch a C2SP tlog-tiles log over
// HTTP, check its signed checkpoint against a pinned Ed25519 verifier key, recompute the RFC 6962 tree
// from every entry bundle, compare every hash tile of the checkpoint's tree with it, and compare the
// recomputed root with the signed root. Pure and environment-neutral: no DOM, no node built-ins; the
// caller supplies the file fetcher (page.ts: window.fetch; tests: files on disk). It is bundled for the
// browser by scripts/build-verify-bundle.ts, so it must not import src/tlog (node:crypto, Buffer).
// Byte-exact rules: c2sp.org/signed-note "Format", c2sp.org/tlog-checkpoint "Note text", c2sp.org/tlog-tiles
// "Merkle Tree" and "Log entries", RFC 6962 §2.1 (hashing).
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';

// Synchronous Ed25519 verification. @noble/ed25519's async path needs crypto.subtle, which browsers
// only offer in secure contexts: a log served over plain http from a LAN address must still verify.
ed.hashes.sha512 = sha512;

export const HASH_SIZE = 32;
export const TILE_WIDTH = 256;
/** Largest log this page verifies: all level-0 hashes are held in memory (32 bytes each). */
export const MAX_BROWSER_LOG_SIZE = 1 << 24;
/** Files fetched at once. */
const FETCH_CONCURRENCY = 8;

// ---------------------------------------------------------------------------------------------------
// Bytes and text

const textEncoder = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Whether `text` is padded standard base64: one linear pass (a regular expression overflowed on megabytes). */
function isPaddedBase64(text: string): boolean {
  const length = text.length;
  if (length % 4 !== 0) return false;
  let end = length;
  if (length > 0 && text.charCodeAt(length - 1) === 0x3d) end = text.charCodeAt(length - 2) === 0x3d ? length - 2 : length - 1;
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f)) return false;
  }
  return true;
}

/** Strict padded RFC 4648 base64 (as Go's StdEncoding, canonical only); undefined if malformed. */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!isPaddedBase64(text)) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return encodeBase64(bytes) === text ? bytes : undefined;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** A check that failed: `message` says what, `path` which file of the log (when one is to blame). */
export class VerifyFailure extends Error {
  override readonly name = 'VerifyFailure';
  constructor(
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------------------------------
// Signed notes and checkpoints (c2sp.org/signed-note, c2sp.org/tlog-checkpoint; Go note.Open rules)

/** A parsed Ed25519 verifier key `name+hash8hex+base64(0x01 || 32-byte key)`. */
export interface PinnedKey {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** The key as written. */
  readonly text: string;
}

/** Go isValidName: non-empty, no Unicode space (Go unicode.IsSpace), no '+'. */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !/[\t\n\v\f\r +\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u.test(name);
}

/** keyID = SHA-256(name || 0x0A || type || public key)[0:4], big-endian. */
export function computeKeyId(name: string, typeAndKey: Uint8Array): number {
  const nameBytes = utf8(name);
  const input = new Uint8Array(nameBytes.length + 1 + typeAndKey.length);
  input.set(nameBytes);
  input[nameBytes.length] = 0x0a;
  input.set(typeAndKey, nameBytes.length + 1);
  const digest = sha256(input);
  return ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
}

/** Parses an Ed25519 (type 0x01) verifier key like Go note.NewVerifier; throws VerifyFailure. */
export function parseVerifierKey(vkey: string): PinnedKey {
  const bad = (why: string): never => {
    throw new VerifyFailure('BAD_PINNED_KEY', `the pinned verifier key ${JSON.stringify(vkey.slice(0, 120))} is malformed: ${why}`);
  };
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (second < 0) bad('want name+hash+key');
  const name = vkey.slice(0, first);
  const hash = vkey.slice(first + 1, second);
  if (!isValidKeyName(name)) bad('invalid key name');
  if (!/^[0-9a-f]{8}$/.test(hash)) bad('the key hash is not 8 lowercase hex digits');
  const key = decodeBase64(vkey.slice(second + 1)) ?? bad('the key is not valid base64');
  if (key[0] !== 0x01) bad('not an Ed25519 key (type 0x01)');
  if (key.length !== 33) bad('the Ed25519 key is not 32 bytes');
  const keyId = computeKeyId(name, key);
  if (hex8(keyId) !== hash) bad(`the key hash ${hash} does not match the key`);
  return { name, keyId, publicKey: key.subarray(1), text: vkey };
}

export interface NoteSignatureLine {
  readonly name: string;
  readonly keyId: number;
  /** keyID || signature, decoded. */
  readonly bytes: Uint8Array;
}

/** Splits a signed note into text and signature lines (Go note.Open steps 1-3); throws VerifyFailure. */
export function splitNote(message: string): { text: string; signatures: NoteSignatureLine[] } {
  const bad = (why: string): never => {
    throw new VerifyFailure('MALFORMED_CHECKPOINT', `the checkpoint is not a well-formed signed note: ${why}`, 'checkpoint');
  };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(message)) bad('it contains a control character');
  const split = message.lastIndexOf('\n\n');
  if (split < 0) bad('no blank line before the signatures');
  const text = message.slice(0, split + 1);
  let sigs = message.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) bad('the signature block is empty or lacks its final newline');
  const signatures: NoteSignatureLine[] = [];
  while (sigs !== '') {
    const newline = sigs.indexOf('\n');
    const line = sigs.slice(0, newline);
    sigs = sigs.slice(newline + 1);
    if (!line.startsWith('\u2014 ')) bad(`a signature line does not start with "— ": ${JSON.stringify(line.slice(0, 80))}`);
    const rest = line.slice(2);
    const space = rest.indexOf(' ');
    const name = space < 0 ? rest : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidKeyName(name) || b64 === '') bad(`bad signature line ${JSON.stringify(line.slice(0, 80))}`);
    const bytes = decodeBase64(b64) ?? bad(`the signature of ${name} is not valid base64`);
    if (bytes.length < 5) bad(`the signature of ${name} is shorter than 5 bytes`);
    if (signatures.length === 100) bad('more than 100 signatures');
    const keyId = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    signatures.push({ name, keyId, bytes });
  }
  return { text, signatures };
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Uint8Array;
  readonly extensions: readonly string[];
}

/** Parses checkpoint note text (tlog-checkpoint; torchwood ParseCheckpoint rules). */
export function parseCheckpointText(text: string): Checkpoint {
  const bad = (why: string): never => {
    throw new VerifyFailure('MALFORMED_CHECKPOINT', `the checkpoint is malformed: ${why}`, 'checkpoint');
  };
  if (text.length > 1_000_000) bad('its text is too long');
  if (!text.endsWith('\n')) bad('its text does not end with a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) bad('want origin, size and root hash lines');
  const [origin, sizeLine, rootLine, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === '') bad('the origin line is empty');
  if (!/^(?:0|[1-9][0-9]{0,18})$/.test(sizeLine) || BigInt(sizeLine) > (1n << 63n) - 1n) {
    bad(`the tree size ${JSON.stringify(sizeLine.slice(0, 40))} is not a canonical decimal number`);
  }
  const rootHash = decodeBase64(rootLine) ?? bad('the root hash is not valid base64');
  if (rootHash.length !== HASH_SIZE) bad(`the root hash is ${rootHash.length} bytes, want ${HASH_SIZE}`);
  if (extensions.some((line) => line === '')) bad('an extension line is empty');
  const size = Number(sizeLine);
  if (size > MAX_BROWSER_LOG_SIZE) {
    throw new VerifyFailure(
      'TOO_LARGE',
      `the log has ${sizeLine} entries, more than this page verifies in a browser (${MAX_BROWSER_LOG_SIZE}); use \`witness verify\``,
      'checkpoint',
    );
  }
  return { origin, size, rootHash, extensions };
}

/**
 * Opens a signed checkpoint with the pinned key only (Go note.Open with one verifier): the note must
 * carry a signature line of that key name and key ID, and the signature must verify over the note text.
 * Other signatures (cosignatures) are ignored. When `origin` is given, the origin line must equal it.
 */
export function openCheckpoint(message: string, key: PinnedKey, origin?: string): Checkpoint {
  const { text, signatures } = splitNote(message);
  const signature = signatures.find((s) => s.name === key.name && s.keyId === key.keyId);
  const keyLabel = `${key.name}+${hex8(key.keyId)}`;
  if (!signature) {
    const others = signatures.map((s) => `${s.name}+${hex8(s.keyId)}`).join(', ');
    throw new VerifyFailure(
      'NOT_SIGNED_BY_PINNED_KEY',
      `the checkpoint is not signed by the pinned key ${keyLabel} (it is signed by: ${others || 'nobody'})`,
      'checkpoint',
    );
  }
  const sig = signature.bytes.subarray(4);
  let valid = false;
  try {
    // zip215: false = RFC 8032 / FIPS 186-5 strict verification, as Go crypto/ed25519 and OpenSSL.
    valid = sig.length === 64 && ed.verify(sig, utf8(text), key.publicKey, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new VerifyFailure('BAD_SIGNATURE', `the checkpoint signature of the pinned key ${keyLabel} is invalid`, 'checkpoint');
  }
  const checkpoint = parseCheckpointText(text);
  if (origin !== undefined && checkpoint.origin !== origin) {
    throw new VerifyFailure(
      'WRONG_ORIGIN',
      `the checkpoint's origin ${JSON.stringify(checkpoint.origin)} is not the pinned origin ${JSON.stringify(origin)}`,
      'checkpoint',
    );
  }
  return checkpoint;
}

// ---------------------------------------------------------------------------------------------------
// Tiles (c2sp.org/tlog-tiles, height 8)

/** `<N>` of tlog-tiles: groups of three digits, `x` before all but the last (1234067 -> x001/x234/067). */
export function encodeTileIndex(index: number): string {
  let path = String(index % 1000).padStart(3, '0');
  for (let n = Math.floor(index / 1000); n > 0; n = Math.floor(n / 1000)) path = `x${String(n % 1000).padStart(3, '0')}/${path}`;
  return path;
}

/** A hash tile (`level` 0..63) or an entry bundle (`level` 'entries'); width 256 = full tile. */
export interface TileRef {
  readonly level: number | 'entries';
  readonly index: number;
  readonly width: number;
}

export function tilePath(tile: TileRef): string {
  return `tile/${tile.level}/${encodeTileIndex(tile.index)}${tile.width < TILE_WIDTH ? `.p/${tile.width}` : ''}`;
}

/**
 * Number of level-8L hashes of a tree of `size` leaves for each tile level L that has tiles:
 * [size, ⌊size/256⌋, …] down to the last non-zero count.
 */
export function levelCounts(size: number): number[] {
  const counts: number[] = [];
  for (let n = size; n > 0; n = Math.floor(n / TILE_WIDTH)) counts.push(n);
  return counts;
}

/** The tiles of one level holding `count` hashes: full tiles, then the partial tile if any. */
export function tilesOfLevel(level: number | 'entries', count: number): TileRef[] {
  const tiles: TileRef[] = [];
  const full = Math.floor(count / TILE_WIDTH);
  for (let index = 0; index < full; index++) tiles.push({ level, index, width: TILE_WIDTH });
  if (count % TILE_WIDTH > 0) tiles.push({ level, index: full, width: count % TILE_WIDTH });
  return tiles;
}

/** Every hash tile of a tree of `size` leaves (all levels), lowest level first. */
export function hashTilesForSize(size: number): TileRef[] {
  return levelCounts(size).flatMap((count, level) => tilesOfLevel(level, count));
}

/** Decodes an entry bundle: repeat(uint16 big-endian length || entry), exactly `tile.width` entries. */
export function decodeEntryBundle(data: Uint8Array, tile: TileRef): Uint8Array[] {
  const path = tilePath(tile);
  const entries: Uint8Array[] = [];
  let offset = 0;
  while (offset + 2 <= data.length) {
    const length = (data[offset]! << 8) | data[offset + 1]!;
    offset += 2;
    if (offset + length > data.length) {
      throw new VerifyFailure('MALFORMED_BUNDLE', `${path} is malformed: entry ${entries.length} runs past the end of the bundle`, path);
    }
    entries.push(data.subarray(offset, offset + length));
    offset += length;
  }
  if (offset !== data.length) throw new VerifyFailure('MALFORMED_BUNDLE', `${path} is malformed: a trailing byte after the last entry`, path);
  if (entries.length !== tile.width) {
    throw new VerifyFailure('MALFORMED_BUNDLE', `${path} holds ${plural(entries.length, 'entry', 'entries')}, want ${tile.width}`, path);
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------
// RFC 6962 hashing

const EMPTY_TREE_HASH = sha256(new Uint8Array(0));
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 1;
let leafInput = new Uint8Array(1 + 4096);

/** SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Uint8Array {
  if (entry.length + 1 > leafInput.length) leafInput = new Uint8Array(entry.length + 1);
  leafInput[0] = 0;
  leafInput.set(entry, 1);
  return sha256(leafInput.subarray(0, entry.length + 1));
}

/** SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1);
  nodeInput.set(right, 1 + HASH_SIZE);
  return sha256(nodeInput);
}

/**
 * The hashes of a tree at every tile level: `levels[L]` holds the level-8L hashes (count
 * levelCounts(size)[L]), concatenated. Level 0 are leaf hashes.
 */
export type TileLevels = Uint8Array[];

function hashAt(level: Uint8Array, index: number): Uint8Array {
  return level.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE);
}

/** Root of the perfect subtree over `count` (a power of two) consecutive hashes of `level` from `start`. */
export function perfectSubtreeHash(level: Uint8Array, start: number, count: number): Uint8Array {
  let row: Uint8Array[] = [];
  for (let i = 0; i < count; i++) row.push(hashAt(level, start + i));
  while (row.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}

/** The hash of each full tile of a level = the next level's hashes. */
export function nextLevel(level: Uint8Array): Uint8Array {
  const full = Math.floor(level.length / HASH_SIZE / TILE_WIDTH);
  const out = new Uint8Array(full * HASH_SIZE);
  for (let n = 0; n < full; n++) out.set(perfectSubtreeHash(level, n * TILE_WIDTH, TILE_WIDTH), n * HASH_SIZE);
  return out;
}

/**
 * MTH of a tree of `size` leaves from its tile levels: the perfect subtrees that make up [0, size),
 * largest first, each read from level ⌊ℓ/8⌋ and hashed up ℓ mod 8 levels, folded right to left
 * (golang/mod tlog.TreeHash over tiles; c2sp.org/tlog-tiles "Merkle Tree").
 */
export function rootFromLevels(size: number, levels: TileLevels): Uint8Array {
  if (size === 0) return EMPTY_TREE_HASH;
  const parts: Uint8Array[] = [];
  let start = 0;
  for (let height = Math.floor(Math.log2(size)) + 1; height >= 0; height--) {
    const span = 2 ** height;
    if (start + span > size) continue;
    const tileLevel = Math.floor(height / 8);
    const below = height % 8;
    const level = levels[tileLevel];
    const first = start / 256 ** tileLevel;
    if (!level || (first + 2 ** below) * HASH_SIZE > level.length) throw new Error(`internal: level ${tileLevel} is too short`);
    parts.push(perfectSubtreeHash(level, first, 2 ** below));
    start += span;
  }
  let hash = parts.pop()!;
  while (parts.length > 0) hash = nodeHash(parts.pop()!, hash);
  return hash;
}

// ---------------------------------------------------------------------------------------------------
// Fetching and verifying a whole log

/** A file fetched from the log, or why not. */
export type FetchResult =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly status?: number; readonly error?: string };

/** Fetches a file by its path relative to the log root (`checkpoint`, `tile/0/000`, …). */
export type FetchFile = (path: string) => Promise<FetchResult>;

export interface Progress {
  /** 'fetching': entry bundles and hash tiles are fetched, and entries hashed as their bundles arrive. */
  readonly phase: 'checkpoint' | 'fetching' | 'checking' | 'done';
  readonly filesFetched: number;
  readonly filesTotal: number;
  readonly entriesHashed: number;
  readonly entriesTotal: number;
  /** Overall progress, 0..1. */
  readonly fraction: number;
  /** A sentence for people, e.g. "Fetched 120 of 553 files, hashed 30720 of 70000 entries". */
  readonly message: string;
}

export interface VerifyOptions {
  /** The verifier key pinned into the page at publish time. */
  readonly verifierKey: string;
  /** The pinned origin line, when known. */
  readonly origin?: string;
  readonly onProgress?: (progress: Progress) => void;
}

export interface VerifyResult {
  /** 'unavailable': the log could not be checked at all (not a verdict on the log). */
  readonly status: 'verified' | 'failed' | 'unavailable';
  /** "Verified: N entries, root …, signed by …" or "FAILED: …". */
  readonly headline: string;
  /** Every problem found (the first is the headline's), with the file to blame when known. */
  readonly problems: ReadonlyArray<{ readonly code: string; readonly message: string; readonly path?: string }>;
  /** Checks that passed, for people. */
  readonly checks: readonly string[];
  readonly warnings: readonly string[];
  readonly origin?: string;
  readonly size?: number;
  /** base64 root hash of the verified checkpoint. */
  readonly root?: string;
  readonly keyName?: string;
  readonly files: number;
  readonly bytes: number;
  readonly milliseconds: number;
}

function describeFetchFailure(path: string, result: FetchResult & { ok: false }): string {
  if (result.status === 404) return `${path} is missing (HTTP 404)`;
  if (result.status !== undefined) return `${path} could not be fetched (HTTP ${result.status})`;
  return `${path} could not be fetched${result.error ? `: ${result.error}` : ''}`;
}

/** Which entries a level-8L hash at `index` covers, for messages. */
function coveredEntries(level: number, index: number, size: number): string {
  const first = index * 256 ** level;
  const last = Math.min((index + 1) * 256 ** level, size) - 1;
  return first === last ? `entry ${first}` : `entries ${first}–${last}`;
}

/**
 * Starts fetching `paths`, FETCH_CONCURRENCY at a time in order, with a fetcher that never throws; one
 * promise per path, so the caller can process files in order while later ones are still in flight.
 */
function fetchQueue(
  paths: readonly string[],
  fetchFile: FetchFile,
  onEach: () => void,
): { results: Array<Promise<FetchResult>>; stop: () => void } {
  const resolvers: Array<(result: FetchResult) => void> = [];
  const results = paths.map(() => new Promise<FetchResult>((resolve) => resolvers.push(resolve)));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      resolvers[i]!(await fetchFile(paths[i]!));
      try {
        onEach();
      } catch {
        // A progress display that throws must not stall the queue.
      }
    }
  };
  for (let i = 0; i < Math.min(FETCH_CONCURRENCY, paths.length); i++) void worker();
  return { results, stop: () => void (next = paths.length) };
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * Verifies the log served by `fetchFile` against the pinned key; never throws. Fetches `checkpoint`,
 * `log.vkey` (only to warn when it differs from the pinned key), every entry bundle and every hash tile
 * of the checkpoint's tree.
 */
export async function verifyLog(fetchFile: FetchFile, options: VerifyOptions): Promise<VerifyResult> {
  const started = typeof performance === 'undefined' ? Date.now() : performance.now();
  const now = () => (typeof performance === 'undefined' ? Date.now() : performance.now());
  const checks: string[] = [];
  const warnings: string[] = [];
  const problems: Array<{ code: string; message: string; path?: string }> = [];
  let files = 0;
  let bytes = 0;
  let checkpoint: Checkpoint | undefined;
  let key: PinnedKey | undefined;
  let filesTotal = 2;
  let entriesTotal = 0;
  let hashed = 0;
  const progress = (phase: Progress['phase']) => {
    if (!options.onProgress) return;
    const fraction =
      phase === 'done' ? 1 : 0.05 + 0.55 * (files / Math.max(filesTotal, 1)) + 0.4 * (entriesTotal === 0 ? 0 : hashed / entriesTotal);
    const message =
      phase === 'checkpoint'
        ? 'Fetching the checkpoint'
        : phase === 'done'
          ? 'Done'
          : phase === 'checking'
          ? 'Checking the hash tiles'
          : `Fetched ${files} of ${plural(filesTotal, 'file')}, hashed ${hashed} of ${plural(entriesTotal, 'entry', 'entries')}`;
    options.onProgress({ phase, filesFetched: files, filesTotal, entriesHashed: hashed, entriesTotal, fraction, message });
  };
  const fetchCounted: FetchFile = async (path) => {
    let result: FetchResult;
    try {
      result = await fetchFile(path);
    } catch (error) {
      result = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    files++;
    if (result.ok) bytes += result.bytes.length;
    return result;
  };
  const finish = (status: VerifyResult['status'], headline: string): VerifyResult => {
    progress('done');
    return {
      status,
      headline,
      problems,
      checks,
      warnings,
      ...(checkpoint ? { origin: checkpoint.origin, size: checkpoint.size, root: encodeBase64(checkpoint.rootHash) } : {}),
      ...(key ? { keyName: key.name } : {}),
      files,
      bytes,
      milliseconds: Math.round(now() - started),
    };
  };
  const fail = (code: string, message: string, path?: string): VerifyResult => {
    problems.unshift({ code, message, ...(path !== undefined ? { path } : {}) });
    return finish('failed', `FAILED: ${message}`);
  };
  /** A network error or a server error (5xx) says nothing about the log: no verdict. */
  const transient = (result: FetchResult) => !result.ok && (result.status === undefined || result.status >= 500);
  const unavailable = (path: string, result: FetchResult & { ok: false }): VerifyResult => {
    const message = describeFetchFailure(path, result);
    problems.unshift({ code: 'FETCH_FAILED', message, path });
    return finish('unavailable', `Cannot verify: ${message}; try again later`);
  };

  try {
    // 1. The pinned key and the signed checkpoint.
    key = parseVerifierKey(options.verifierKey.trim());
    progress('checkpoint');
    const [checkpointFile, vkeyFile] = await Promise.all([fetchCounted('checkpoint'), fetchCounted('log.vkey')]);
    if (!checkpointFile.ok) {
      if (transient(checkpointFile)) return unavailable('checkpoint', checkpointFile);
      return fail('FETCH_FAILED', describeFetchFailure('checkpoint', checkpointFile), 'checkpoint');
    }
    if (vkeyFile.ok) {
      let published: string | undefined;
      try {
        published = strictUtf8.decode(vkeyFile.bytes).trim();
      } catch {
        published = undefined;
      }
      if (published !== key.text) {
        warnings.push(
          `The log.vkey published with this log (${JSON.stringify((published ?? '(not UTF-8)').slice(0, 200))}) differs from the key pinned in this page (${key.text}). ` +
            'This page trusts only the pinned key.',
        );
      }
    } else {
      warnings.push(`log.vkey: ${describeFetchFailure('log.vkey', vkeyFile)}; this page uses the key pinned in it.`);
    }
    let message: string;
    try {
      message = strictUtf8.decode(checkpointFile.bytes);
    } catch {
      throw new VerifyFailure('MALFORMED_CHECKPOINT', 'the checkpoint is not UTF-8 text', 'checkpoint');
    }
    checkpoint = openCheckpoint(message, key, options.origin);
    const size = checkpoint.size;
    checks.push(`The checkpoint is signed by the pinned key ${key.name}+${hex8(key.keyId)} (Ed25519 signature valid).`);
    checks.push(`The checkpoint commits to ${plural(size, 'entry', 'entries')} with root ${encodeBase64(checkpoint.rootHash)}.`);

    // 2. Every entry bundle and every hash tile of the tree, fetched together; bundles are decoded and
    //    their entries hashed (tile level 0) in order as they arrive.
    const bundles = tilesOfLevel('entries', size);
    const bundlePaths = bundles.map(tilePath);
    const counts = levelCounts(size);
    const tiles = hashTilesForSize(size);
    const tilePaths = tiles.map(tilePath);
    filesTotal = files + bundles.length + tiles.length;
    entriesTotal = size;
    const queue = fetchQueue([...bundlePaths, ...tilePaths], fetchCounted, () => progress('fetching'));
    const leaves = new Uint8Array(size * HASH_SIZE);
    let lastYield = now();
    for (let b = 0; b < bundles.length; b++) {
      const file = await queue.results[b]!;
      if (!file.ok) {
        queue.stop();
        if (transient(file)) return unavailable(bundlePaths[b]!, file);
        return fail('FETCH_FAILED', describeFetchFailure(bundlePaths[b]!, file), bundlePaths[b]);
      }
      let entries: Uint8Array[];
      try {
        entries = decodeEntryBundle(file.bytes, bundles[b]!);
      } catch (error) {
        queue.stop();
        throw error;
      }
      for (const entry of entries) leaves.set(leafHash(entry), (hashed++) * HASH_SIZE);
      if (now() - lastYield > 40) {
        progress('fetching');
        await yieldToEventLoop(); // let the page repaint its progress bar
        lastYield = now();
      }
    }
    const tileFiles = await Promise.all(queue.results.slice(bundles.length));
    const failedTile = tileFiles.findIndex(transient);
    if (failedTile >= 0) return unavailable(tilePaths[failedTile]!, tileFiles[failedTile] as FetchResult & { ok: false });
    progress('checking');
    checks.push(`Read ${plural(bundles.length, 'entry bundle')} holding all ${plural(size, 'entry', 'entries')}.`);

    // 3. The tree recomputed from the entries, at every tile level, and its root.
    const levels: TileLevels = [leaves];
    for (let level = 1; level < counts.length; level++) levels.push(nextLevel(levels[level - 1]!));
    const root = rootFromLevels(size, levels);
    const rootMatches = bytesEqual(root, checkpoint.rootHash);

    // 4. Every hash tile of the tree, compared with the recomputed levels.
    const tileProblems: Array<{ code: string; message: string; path: string }> = [];
    const tileLevels: Array<Uint8Array | undefined> = counts.map((count) => new Uint8Array(count * HASH_SIZE));
    tiles.forEach((tile, t) => {
      const path = tilePaths[t]!;
      const file = tileFiles[t]!;
      const level = tile.level as number;
      if (!file.ok) {
        tileProblems.push({ code: 'FETCH_FAILED', message: describeFetchFailure(path, file), path });
        tileLevels[level] = undefined;
        return;
      }
      if (file.bytes.length !== tile.width * HASH_SIZE) {
        tileProblems.push({
          code: 'MALFORMED_TILE',
          message: `${path} has ${file.bytes.length} bytes, want ${tile.width * HASH_SIZE} (${tile.width} hashes)`,
          path,
        });
        tileLevels[level] = undefined;
        return;
      }
      tileLevels[level]?.set(file.bytes, tile.index * TILE_WIDTH * HASH_SIZE);
      const expected = levels[level]!.subarray(tile.index * TILE_WIDTH * HASH_SIZE, (tile.index * TILE_WIDTH + tile.width) * HASH_SIZE);
      if (!bytesEqual(file.bytes, expected)) {
        let i = 0;
        while (bytesEqual(hashAt(file.bytes, i), hashAt(expected, i))) i++;
        const global = tile.index * TILE_WIDTH + i;
        tileProblems.push({
          code: 'TILE_MISMATCH',
          message: `${path} does not match the tree recomputed from the entries: hash ${i} (${coveredEntries(level, global, size)}) differs`,
          path,
        });
      }
    });
    const levelsLabel = counts.length === 1 ? 'level 0' : `levels 0–${counts.length - 1}`;

    if (rootMatches) {
      checks.push(`The tree recomputed from the entries has the signed root ${encodeBase64(root)}.`);
      if (tileProblems.length > 0) {
        problems.push(...tileProblems);
        const first = problems.shift()!;
        return fail(first.code, first.message, first.path);
      }
      checks.push(`All ${plural(tiles.length, 'hash tile')} (${levelsLabel}, full and partial) match the recomputed tree.`);
      return finish(
        'verified',
        `Verified: ${plural(size, 'entry', 'entries')}, root ${encodeBase64(checkpoint.rootHash)}, signed by ${key.name}`,
      );
    }

    // The entries do not hash to the signed root. If the hash tiles are consistent among themselves and
    // with the signed root, they are authenticated, and they show which entries were changed.
    const tilesComplete = tileLevels.every((level) => level !== undefined);
    let tilesAuthenticated = false;
    if (tilesComplete) {
      const fromTiles = tileLevels as Uint8Array[];
      tilesAuthenticated =
        fromTiles.every((level, l) => l + 1 >= fromTiles.length || bytesEqual(nextLevel(level), fromTiles[l + 1]!)) &&
        bytesEqual(rootFromLevels(size, fromTiles), checkpoint.rootHash);
    }
    const changed: number[] = [];
    if (tilesAuthenticated) {
      const signedLeaves = tileLevels[0]!;
      for (let i = 0; i < size; i++) if (!bytesEqual(hashAt(leaves, i), hashAt(signedLeaves, i))) changed.push(i);
    }
    if (changed.length > 0) {
      for (const index of changed.slice(0, 20)) {
        const bundle = bundles[Math.floor(index / TILE_WIDTH)]!;
        problems.push({
          code: 'ENTRY_MISMATCH',
          message: `entry ${index} (number ${index % TILE_WIDTH} in ${tilePath(bundle)}) does not match the signed tree: its leaf hash differs from hash ${index % TILE_WIDTH} of ${tilePath({ ...bundle, level: 0 })}`,
          path: tilePath(bundle),
        });
      }
      if (changed.length > 20) problems.push({ code: 'ENTRY_MISMATCH', message: `… and ${changed.length - 20} more entries` });
      const first = problems.shift()!;
      return fail(first.code, first.message, first.path);
    }
    problems.push(...tileProblems);
    return fail(
      'ROOT_MISMATCH',
      `the entries hash to root ${encodeBase64(root)}, but the checkpoint is signed for root ${encodeBase64(checkpoint.rootHash)}`,
    );
  } catch (error) {
    if (error instanceof VerifyFailure) return fail(error.code, error.message, error.path);
    return fail('INTERNAL', `unexpected error: ${error instanceof Error ? error.message : String(error)}`);
  }
}
