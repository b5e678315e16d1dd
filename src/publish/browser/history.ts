// The git history check of the verify page: what `witness verify` checks of the log's git history
// (src/log/checkpoint-history.ts: every committed checkpoint signed, consistent with the current tree,
// never rolled back along any parent edge, checkpoints quoted in commit messages consistent), run in the
// reader's browser over the copy of the log's git objects that `witness publish` writes into the site
// (src/publish/git-objects.ts: git/HEAD, one pack and its index, git/history.json). The objects are read
// with isomorphic-git through a read-only filesystem over HTTP (static-git-fs.ts); each object's id is
// checked against its bytes, so the head commit id vouches for everything reached from it. Signatures
// and consistency are the project's tlog code: each committed checkpoint is proven a prefix of the
// current checkpoint with an RFC 6962 §2.1.2 consistency proof built from the published hash tiles and
// checked against both signed roots (RFC 9162 §2.1.4.2), so no tile needs to be trusted.
// No DOM: page.ts shows the result. Environment-neutral: tests run it in Node with files from disk.
import * as git from 'isomorphic-git';
import { WitnessError } from '../../errors.js';
import {
  type HistoryCommit,
  checkCheckpointHistory,
  checkpointsInMessage,
  commitMessage,
  signedCheckpointChecker,
} from '../../log/checkpoint-history.js';
import { openCheckpoint } from '../../tlog/checkpoint.js';
import { bytesEqual, encodeBase64 } from '../../tlog/encoding.js';
import { type Hash, proveConsistency, treeHash, verifyConsistency } from '../../tlog/merkle.js';
import { noteVerifier, parseVerifierKey } from '../../tlog/note.js';
import { type TileRef, decodeHashTile, tileNodeReader, tilePath, tilesForConsistencyProof } from '../../tlog/tile.js';
import { gitObjectId } from '../../git-object.js';
import { type StaticFetchFile, staticGitFs } from './static-git-fs.js';

/** Where the site keeps the copy of the git directory, and its listing (src/publish/git-objects.ts). */
export const HISTORY_GITDIR = 'git';
export const HISTORY_MANIFEST = 'git/history.json';
export const HISTORY_SCHEMA = 'go-source-witness/git-history/v1';
/** Largest file of the git directory fetched (the pack is held in memory). */
export const MAX_HISTORY_FILE_BYTES = 32 * 1024 * 1024;
/** Most commits walked. */
export const MAX_HISTORY_COMMITS = 100_000;
const TILE_FETCH_CONCURRENCY = 8;

export interface HistoryOptions {
  /** The verifier key pinned into the page at publish time. */
  readonly verifierKey: string;
  /** The pinned origin line. */
  readonly origin: string;
  /** A sentence for people and a fraction 0..1 as the walk goes. */
  readonly onProgress?: (message: string, fraction: number) => void;
}

export interface HistoryResult {
  /** 'absent': the site publishes no copy of the history (not a verdict on the log). */
  readonly status: 'verified' | 'failed' | 'absent';
  /** "Git history verified: …", "FAILED: git history: …" or why there is nothing to check. */
  readonly headline: string;
  readonly problem?: { readonly code: string; readonly message: string };
  readonly checks: readonly string[];
  readonly warnings: readonly string[];
  readonly commits: number;
  /** Commits that changed the checkpoint. */
  readonly checkpoints: number;
  readonly files: number;
  readonly bytes: number;
  readonly milliseconds: number;
}

/** A failure of the history check that is not a rule of checkpoint-history.ts (a damaged copy, a bound). */
class HistoryFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Manifest {
  readonly checkpoint: string;
  readonly commits: number;
  readonly files: readonly string[];
  readonly shallow: ReadonlySet<string>;
}

const OID = /^[0-9a-f]{40}$/;
const GIT_FILE = /^(?:HEAD|objects\/pack\/pack-[0-9a-f]{40}\.(?:pack|idx))$/;
const PATH_PART = /^[^\u0000-\u001f/]+$/;

function parseManifest(bytes: Uint8Array): Manifest {
  const bad = (why: string): never => {
    throw new HistoryFailure('BAD_HISTORY_MANIFEST', `${HISTORY_MANIFEST} is malformed: ${why}`);
  };
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    return bad(error instanceof Error ? error.message : String(error));
  }
  if (typeof value !== 'object' || value === null) return bad('not an object');
  const { schema, checkpoint, commits, files, shallow } = value as Record<string, unknown>;
  if (schema !== HISTORY_SCHEMA) bad(`schema ${JSON.stringify(schema)}, want ${HISTORY_SCHEMA}`);
  if (typeof checkpoint !== 'string' || !checkpoint.split('/').every((part) => PATH_PART.test(part) && part !== '.' && part !== '..')) {
    bad('checkpoint is not a repository path');
  }
  if (typeof commits !== 'number' || !Number.isSafeInteger(commits) || commits < 1) bad('commits is not a positive count');
  if ((commits as number) > MAX_HISTORY_COMMITS) {
    throw new HistoryFailure('HISTORY_TOO_LARGE', `the history has ${commits} commits, more than the ${MAX_HISTORY_COMMITS} this page walks`);
  }
  if (!Array.isArray(files) || !files.every((file) => typeof file === 'string' && GIT_FILE.test(file)) || !files.includes('HEAD')) {
    bad('files must be HEAD and pack files');
  }
  if (!Array.isArray(shallow) || !shallow.every((oid) => typeof oid === 'string' && OID.test(oid))) bad('shallow must be commit ids');
  return { checkpoint: checkpoint as string, commits: commits as number, files: files as string[], shallow: new Set(shallow as string[]) };
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Checks the git history published next to the log; never throws. */
export async function verifyGitHistory(fetchFile: StaticFetchFile, options: HistoryOptions): Promise<HistoryResult> {
  const started = Date.now();
  const warnings: string[] = [];
  let files = 0;
  let bytes = 0;
  const done = (result: Omit<HistoryResult, 'warnings' | 'files' | 'bytes' | 'milliseconds'>): HistoryResult => ({
    ...result,
    warnings,
    files,
    bytes,
    milliseconds: Date.now() - started,
  });
  const say = options.onProgress ?? (() => {});
  try {
    const listing = await fetchFile(HISTORY_MANIFEST);
    if (!listing.ok && listing.status === 404) {
      return done({
        status: 'absent',
        headline: 'Git history: this site publishes no copy of it (witness verify checks it in a clone of the log)',
        checks: [],
        commits: 0,
        checkpoints: 0,
      });
    }
    if (!listing.ok) {
      throw new HistoryFailure('HISTORY_UNREADABLE', `${HISTORY_MANIFEST} could not be fetched (${listing.status !== undefined ? `HTTP ${listing.status}` : (listing.error ?? 'network error')})`);
    }
    files++;
    bytes += listing.bytes.length;
    const manifest = parseManifest(listing.bytes);

    // The current checkpoint, as the main check of the page opens it: signed by the pinned key.
    const verifier = noteVerifier(parseVerifierKey(options.verifierKey));
    const current = await fetchFile('checkpoint');
    if (!current.ok) throw new HistoryFailure('HISTORY_UNREADABLE', 'checkpoint could not be fetched');
    files++;
    bytes += current.bytes.length;
    const signed = openCheckpoint(new TextDecoder().decode(current.bytes), [verifier], options.origin);
    const { size: currentSize, rootHash: currentRoot } = signed.checkpoint;

    // 1. Every commit reachable from the head, each after its parents (the walk of rev-list --topo-order
    // --reverse), with the checkpoint file's text in it. Every object read is checked against its id.
    const gfs = staticGitFs(fetchFile, manifest.files.map((file) => `${HISTORY_GITDIR}/${file}`), MAX_HISTORY_FILE_BYTES);
    const repo = { fs: gfs.fs, gitdir: HISTORY_GITDIR, cache: {} };
    const readChecked = async (oid: string, type: 'commit' | 'tree' | 'blob'): Promise<Uint8Array> => {
      let object: Uint8Array;
      let actualType: string;
      try {
        const read = await git.readObject({ ...repo, oid, format: 'content' });
        object = read.object as Uint8Array;
        actualType = read.type;
      } catch (error) {
        // isomorphic-git's InternalError keeps its own words in data.message, after a paragraph of advice.
        const why = (error as { data?: { message?: unknown } } | undefined)?.data?.message;
        throw new HistoryFailure('HISTORY_OBJECT_UNREADABLE', `git object ${oid} cannot be read from the published pack: ${typeof why === 'string' ? why : error instanceof Error ? error.message : String(error)}`);
      }
      if (actualType !== type) throw new HistoryFailure('HISTORY_OBJECT_CORRUPT', `git object ${oid} is a ${actualType}, not a ${type}`);
      const id = gitObjectId(type, object);
      if (id !== oid) throw new HistoryFailure('HISTORY_OBJECT_CORRUPT', `git object ${oid} holds bytes whose id is ${id}: the published copy was modified`);
      return object;
    };
    const head = await git.resolveRef({ ...repo, ref: 'HEAD' }).catch((error: unknown) => {
      throw new HistoryFailure('HISTORY_UNREADABLE', `git/HEAD does not name a commit: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (!OID.test(head)) throw new HistoryFailure('HISTORY_UNREADABLE', 'git/HEAD does not name a commit');
    const parsed = new Map<string, { parents: string[]; tree: string; message: string }>();
    const readCommit = async (oid: string) => {
      const raw = await readChecked(oid, 'commit');
      const { commit } = await git.readCommit({ ...repo, oid });
      return { parents: manifest.shallow.has(oid) ? [] : commit.parent, tree: commit.tree, message: commitMessage(raw) };
    };
    const order: string[] = [];
    const stack: Array<{ oid: string; expanded: boolean }> = [{ oid: head, expanded: false }];
    const seen = new Set<string>();
    while (stack.length > 0) {
      const top = stack.pop()!;
      if (top.expanded) {
        order.push(top.oid);
        continue;
      }
      if (seen.has(top.oid)) continue;
      seen.add(top.oid);
      if (seen.size > manifest.commits) {
        throw new HistoryFailure('HISTORY_TOO_LARGE', `the head reaches more than the ${manifest.commits} commits ${HISTORY_MANIFEST} lists`);
      }
      const info = await readCommit(top.oid);
      parsed.set(top.oid, info);
      stack.push({ oid: top.oid, expanded: true });
      for (const parent of [...info.parents].reverse()) if (!seen.has(parent)) stack.push({ oid: parent, expanded: false });
      say(`Reading the git history: ${seen.size} of ${manifest.commits} commits`, (0.6 * seen.size) / manifest.commits);
    }
    if (manifest.shallow.size > 0) warnings.push('the published git history is a shallow clone: checkpoints older than its history were not checked');

    const components = manifest.checkpoint.split('/');
    const trees = new Map<string, Array<{ path: string; oid: string; type: string }>>();
    const readTreeEntries = async (oid: string) => {
      let entries = trees.get(oid);
      if (!entries) {
        await readChecked(oid, 'tree');
        entries = (await git.readTree({ ...repo, oid })).tree.map(({ path, oid: id, type }) => ({ path, oid: id, type }));
        trees.set(oid, entries);
      }
      return entries;
    };
    const texts = new Map<string, string>();
    const checkpointText = async (tree: string): Promise<string | undefined> => {
      let oid = tree;
      for (const [i, name] of components.entries()) {
        const entry = (await readTreeEntries(oid)).find((candidate) => candidate.path === name);
        const last = i === components.length - 1;
        if (!entry || (!last && entry.type !== 'tree')) return undefined;
        if (last) {
          if (entry.type !== 'blob') return `(a ${entry.type}, not a file)`;
          let text = texts.get(entry.oid);
          if (text === undefined) texts.set(entry.oid, (text = new TextDecoder().decode(await readChecked(entry.oid, 'blob'))));
          return text;
        }
        oid = entry.oid;
      }
      return undefined;
    };
    const commits: HistoryCommit[] = [];
    for (const [i, oid] of order.entries()) {
      const info = parsed.get(oid)!;
      commits.push({ commit: oid, parents: info.parents, checkpoint: await checkpointText(info.tree), message: info.message });
      say(`Reading the checkpoints of the git history: ${i + 1} of ${order.length} commits`, 0.6 + (0.2 * (i + 1)) / order.length);
    }
    const fetched = gfs.fetched();
    files += fetched.files;
    bytes += fetched.bytes;

    // 2. The hash tiles for a consistency proof from each size found to the current size.
    const sizes = new Set<bigint>();
    const sizeOf = (note: string) => {
      try {
        sizes.add(openCheckpoint(note, [verifier], options.origin).checkpoint.size);
      } catch {
        /* reported with its commit by the walk below */
      }
    };
    for (const { checkpoint, message } of commits) {
      if (checkpoint !== undefined) sizeOf(checkpoint);
      for (const note of checkpointsInMessage(message, options.origin, verifier.name)) sizeOf(note);
    }
    const needed = new Map<string, TileRef>();
    for (const size of sizes) {
      if (size > 0n && size < currentSize) for (const tile of tilesForConsistencyProof(size, currentSize)) needed.set(tilePath(tile), tile);
    }
    const tiles = new Map<string, Hash[]>();
    const missing = new Map<string, string>();
    const queue = [...needed.entries()];
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const [file, ref] = next;
        const result = await fetchFile(file);
        if (!result.ok) {
          missing.set(file, result.status !== undefined ? `HTTP ${result.status}` : (result.error ?? 'network error'));
          continue;
        }
        files++;
        bytes += result.bytes.length;
        try {
          tiles.set(file, decodeHashTile(result.bytes, ref));
        } catch (error) {
          missing.set(file, error instanceof Error ? error.message : String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: TILE_FETCH_CONCURRENCY }, worker));
    say('Checking the committed checkpoints', 0.9);
    const read = tileNodeReader(currentSize, (ref) => {
      const file = tilePath(ref);
      const hashes = tiles.get(file);
      if (!hashes) throw new HistoryFailure('TILE_MISSING', `${file} could not be read (${missing.get(file) ?? 'not fetched'})`);
      return hashes;
    });

    // 3. The rules, as witness verify applies them.
    const checkSigned = signedCheckpointChecker(verifier, options.origin, currentSize, (size, root) => {
      if (size === currentSize || size === 0n) {
        const expected = size === 0n ? treeHash(0n, read) : currentRoot;
        return bytesEqual(root, expected)
          ? undefined
          : `size ${size} root ${encodeBase64(root)} is not consistent with the current log (its tree at size ${size} has root ${encodeBase64(expected)})`;
      }
      try {
        verifyConsistency(size, currentSize, proveConsistency(size, currentSize, read), root, currentRoot);
        return undefined;
      } catch (error) {
        if (error instanceof HistoryFailure) throw error;
        let expected = '';
        try {
          expected = ` (its tree at size ${size} has root ${encodeBase64(treeHash(size, read))} in the published tiles)`;
        } catch {
          /* the proof's own message is enough */
        }
        return `size ${size} root ${encodeBase64(root)} is not consistent with the current log${expected}: ${error instanceof Error ? error.message : String(error)}`;
      }
    });
    const report = checkCheckpointHistory(commits, {
      checkpointPath: manifest.checkpoint,
      origin: options.origin,
      keyName: verifier.name,
      checkSigned,
      warnings,
    });
    if (report.last === undefined) {
      warnings.push(`${manifest.checkpoint} is not committed at the head commit ${head.slice(0, 12)}`);
    } else if (report.last !== signed.message) {
      const lastSize = checkSigned(report.last, `${manifest.checkpoint} in commit ${head.slice(0, 12)}`);
      if (lastSize !== currentSize) warnings.push(`the published checkpoint (size ${currentSize}) is newer than the one committed at the head commit (size ${lastSize})`);
    }
    say('Git history checked', 1);
    const { checkpoints } = report;
    return done({
      status: 'verified',
      headline: `Git history verified: ${plural(commits.length, 'commit')}, ${plural(checkpoints.length, 'committed checkpoint')}, each signed, consistent with the current tree, never rolled back`,
      checks: [
        `Git history: every commit reachable from the head ${head.slice(0, 12)} (${plural(commits.length, 'commit')}, read with isomorphic-git from the site's copy of the log's git objects, each object checked against its id)`,
        `Git history: ${plural(checkpoints.length, 'commit')} changed ${manifest.checkpoint}${checkpoints.length > 0 ? ` (sizes ${checkpoints[0]!.size} to ${checkpoints[checkpoints.length - 1]!.size})` : ''}; each is signed by ${verifier.name}, is a prefix of the current tree (a consistency proof from the published tiles against both signed roots), and never shrinks along a parent edge`,
      ],
      commits: commits.length,
      checkpoints: checkpoints.length,
    });
  } catch (error) {
    const code = error instanceof HistoryFailure || error instanceof WitnessError ? error.code : 'HISTORY_CHECK_FAILED';
    const message = error instanceof Error ? error.message : String(error);
    return done({ status: 'failed', headline: `FAILED: git history: ${message}`, problem: { code, message }, checks: [], commits: 0, checkpoints: 0 });
  }
}
