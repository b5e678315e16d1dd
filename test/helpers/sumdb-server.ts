// A Go checksum database for tests: a log built with our tlog code (TileBuilder for the tiles, MemoryTree
// as a cross-check, formatCheckpoint + signNote for the tree note), served over loopback HTTP in the Go
// sumdb layout (golang.org/design/25530-sumdb "Checksum Database", golang/mod sumdb/server.go):
//
//   /latest                                    signed tree note
//   /lookup/<escaped path>@<escaped version>   `<id>\n<text>\n` + signed tree note (404 if unknown,
//                                              400 for bad syntax or escapes)
//   /tile/8/<L>/<N>[.p/<W>]                    hash tiles (any width whose hashes exist; see hashTile)
//   /tile/8/data/<N>[.p/<W>]                   data tiles (src/sumdb/record.ts encodeDataTile)
//
// Tampering knobs (SumdbTamper) let tests check that a client (the go command) notices a lying server.
// Fault knobs (SumdbFaults) make it behave like a real, imperfect server or CDN: slow responses, HTTP 429
// or 5xx for the first requests, a lagging (older) /latest. A path prefix serves it the way a module proxy
// does (`<proxy>/sumdb/<name>/…`).
// The key name must be host[/path] for the go command (Go 1.19 modfetch/sumdb.go dbDial).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatCheckpoint } from '../../src/tlog/checkpoint.js';
import { bytesEqual, concatBytes, encodeBase64, utf8 } from '../../src/tlog/encoding.js';
import { type Hash, MemoryTree } from '../../src/tlog/merkle.js';
import { type Signer, signNote, verifierKeyOf } from '../../src/tlog/note.js';
import { generateKeyPair, noteSigner, parseSignerKey } from '../../src/tlog-node/signer.js';
import { TILE_WIDTH, TileBuilder, type TileRef, parseTilePath, tileCounts, tilePath } from '../../src/tlog/tile.js';
import { encodeDataTile, formatRecord, parseGoSumRecord, recordLeafHash } from '../../src/sumdb/record.js';

/** The origin line of every Go sumdb tree note (golang/mod sumdb/tlog/note.go FormatTree). */
export const SUMDB_ORIGIN = 'go.sum database tree';

// ---------------------------------------------------------------------------------------------------
// Module path escaping (golang/mod module/module.go EscapePath / UnescapePath): an upper-case letter X is
// written "!x"; escaped strings contain no upper-case letters and no "!" that is not followed by a-z.

export function escapeModulePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** Returns undefined for strings that are not valid escapes (Go: "invalid escaped module path"). */
export function unescapeModulePath(escaped: string): string | undefined {
  let out = '';
  for (let i = 0; i < escaped.length; i++) {
    const c = escaped[i]!;
    if (c === '!') {
      const next = escaped[i + 1];
      if (next === undefined || next < 'a' || next > 'z') return undefined;
      out += next.toUpperCase();
      i++;
    } else if (c >= 'A' && c <= 'Z') {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

/** The two go.sum lines of a synthetic module version `example.com/<prefix><i> v1.0.0` (a sumdb record). */
export function syntheticGoSumRecord(i: number, prefix = 'm'): string {
  const module = `example.com/${prefix}${i} v1.0.0`;
  return `${module} h1:${Buffer.alloc(32, i % 256).toString('base64')}\n${module}/go.mod h1:${Buffer.alloc(32, 7).toString('base64')}\n`;
}

export interface SumdbTestLogOptions {
  /** Key name; the go command wants host[/path] (cmd/go/internal/modfetch/sumdb.go dbDial). */
  readonly keyName?: string;
  /** Reuse a signer key (e.g. for a forked log signed by the same key). */
  readonly signerKey?: string;
}

/** A Go sumdb log in memory. Records are go.sum record texts (two lines each). */
export class SumdbTestLog {
  readonly keyName: string;
  readonly signerKey: string;
  readonly verifierKey: string;
  private readonly signer: Signer;
  private readonly texts: Uint8Array[] = [];
  private readonly ids = new Map<string, number>();
  private readonly builder = new TileBuilder(0n);
  private readonly memory = new MemoryTree();
  /** Full hash tiles by tlog-tiles path (`tile/<L>/<N>`), filled as TileBuilder completes them. */
  private readonly fullTiles = new Map<string, Hash[]>();

  constructor(options: SumdbTestLogOptions = {}) {
    this.signerKey = options.signerKey ?? generateKeyPair(options.keyName ?? 'sumdb.test.example').signerKey;
    const key = parseSignerKey(this.signerKey);
    this.keyName = key.name;
    this.verifierKey = verifierKeyOf(key);
    this.signer = noteSigner(key);
  }

  get size(): number {
    return this.texts.length;
  }

  /**
   * Appends a record (its text must be two go.sum lines for one module version); returns its id. A module
   * version already in the log is refused unless `duplicate` (a misbehaving database; /lookup keeps
   * answering with the first record).
   */
  append(text: string | Uint8Array, options: { duplicate?: boolean } = {}): number {
    const record = parseGoSumRecord(text);
    const key = `${record.path}@${record.version}`;
    if (this.ids.has(key) && !options.duplicate) throw new Error(`test log: ${key} is already in the log`);
    const bytes = typeof text === 'string' ? utf8(text) : text;
    const id = this.texts.length;
    const hash = recordLeafHash(bytes);
    this.texts.push(bytes);
    if (!this.ids.has(key)) this.ids.set(key, id);
    for (const tile of this.builder.append([hash])) this.fullTiles.set(tilePath(tile.ref), tile.hashes);
    this.memory.appendLeafHash(hash);
    return id;
  }

  lookupId(path: string, version: string): number | undefined {
    return this.ids.get(`${path}@${version}`);
  }

  recordText(id: number): Uint8Array {
    const text = this.texts[id];
    if (!text) throw new Error(`test log: no record ${id}`);
    return text;
  }

  rootHash(): Hash {
    const root = this.builder.root();
    // Cross-check the incremental tile builder against the plain in-memory tree.
    if (!bytesEqual(root, this.memory.root())) {
      throw new Error(`test log: TileBuilder root ${encodeBase64(root)} != MemoryTree root ${encodeBase64(this.memory.root())}`);
    }
    return root;
  }

  /** The signed tree note, as /latest serves it and /lookup appends it. */
  signedTree(): string {
    const text = formatCheckpoint({ origin: SUMDB_ORIGIN, size: BigInt(this.size), rootHash: this.rootHash(), extensions: [] });
    return signNote(text, [this.signer]);
  }

  /** The signed tree note of the log's first `size` records (an older head of the same log). */
  signedTreeAt(size: number): string {
    if (!Number.isInteger(size) || size < 0 || size > this.size) throw new Error(`test log: no tree of size ${size}`);
    const text = formatCheckpoint({ origin: SUMDB_ORIGIN, size: BigInt(size), rootHash: this.memory.root(BigInt(size)), extensions: [] });
    return signNote(text, [this.signer]);
  }

  /**
   * Hash tile (level, index) at `width`, if the tree has those hashes: like golang/mod's sumdb server
   * (tlog.ReadTileData), any width whose hashes exist is served, so a full tile's prefixes and the
   * partial tiles of older tree sizes too. The go command needs the latter: when GOPATH/pkg/sumdb
   * remembers tree 600 and the module cache is fresh, it re-reads tile 1/000.p/2 of that tree although
   * the log has grown to 1/000.p/4 (client.go initWork -> mergeLatest -> checkTrees). With
   * `onlyCurrentPartials`, a partial tile is served only at the width implied by the current size (plus
   * prefixes of full tiles), as a static tlog-tiles log that deletes old partials would.
   * Undefined for anything else (the server says 404).
   */
  hashTile(ref: TileRef, onlyCurrentPartials = false): Uint8Array | undefined {
    if (ref.level === 'entries') throw new Error('hashTile: want a hash tile');
    const { fullCount, partialWidth } = tileCounts(BigInt(this.size), ref.level);
    let hashes: Hash[] | undefined;
    if (ref.index < fullCount) {
      hashes = this.fullTiles.get(tilePath({ level: ref.level, index: ref.index, width: TILE_WIDTH }))?.slice(0, ref.width);
      // Cross-check: the same level-8L hashes as the plain in-memory tree holds.
      const start = Number(ref.index) * TILE_WIDTH;
      const expected = this.memory.hashesAt(8 * ref.level, start, start + ref.width);
      if (!hashes || hashes.length !== expected.length || !hashes.every((h, i) => bytesEqual(h, expected[i]!))) {
        throw new Error(`test log: TileBuilder tile ${tilePath(ref)} differs from MemoryTree`);
      }
    } else if (ref.index === fullCount && (ref.width === partialWidth || (!onlyCurrentPartials && ref.width < partialWidth))) {
      hashes = this.builder.partialTiles().find((tile) => tile.ref.level === ref.level)?.hashes.slice(0, ref.width);
    }
    return hashes && hashes.length === ref.width ? concatBytes(...hashes) : undefined;
  }

  /** Record texts of data tile `index` at `width`, under the same rules as hashTile. */
  dataTileTexts(ref: TileRef, onlyCurrentPartials = false): Uint8Array[] | undefined {
    const { fullCount, partialWidth } = tileCounts(BigInt(this.size), 0);
    const served =
      ref.index < fullCount ||
      (ref.index === fullCount && (ref.width === partialWidth || (!onlyCurrentPartials && ref.width < partialWidth)));
    if (!served) return undefined;
    const start = Number(ref.index) * TILE_WIDTH;
    return this.texts.slice(start, start + ref.width);
  }
}

// ---------------------------------------------------------------------------------------------------

export interface SumdbServeOptions {
  /** Serve partial tiles only at the width implied by the current size (see SumdbTestLog.hashTile). */
  onlyCurrentPartials?: boolean;
  /**
   * Serve the database under this path, as a module proxy does (e.g. `/sumdb/sum.golang.org`; then
   * `<prefix>/supported` answers 200 too). Requests outside it get 404. Default: the root.
   */
  prefix?: string;
  /**
   * Serve a partial tile (hash or data) whose full tile exists as that full tile's prefix (default true,
   * as golang/mod's server does). With false it is 404, as in a tlog-tiles log that deleted the partial.
   */
  partialsOfFullTiles?: boolean;
  /**
   * Answers requests outside the prefix (e.g. a module proxy's /<module>/@v/… files beside its /sumdb/);
   * returns false to let the server say 404.
   */
  fallback?: (path: string, res: ServerResponse) => boolean;
}

export interface SumdbFaults {
  /** Wait this long before answering requests whose path (without the prefix) matches `delayPaths`. */
  delayMs?: number;
  /** Default: every path. */
  delayPaths?: RegExp;
  /**
   * Answer the next `count` requests whose path matches `paths` (default: every path) with `status`
   * (e.g. 429, 500, 503) and, if given, a Retry-After header. `count` goes down with each one.
   */
  fail?: { count: number; status: number; retryAfter?: string; paths?: RegExp };
  /** Serve this note at /latest instead of the current head (e.g. an older head: a lagging CDN). */
  latest?: string;
}

export interface SumdbTamper {
  /** Flip one byte (XOR 0x01) of hash tile (level, index), whatever width is served. */
  hashTile?: { level: number; index: bigint; byteOffset?: number };
  /** Serve this text instead of record `id`'s in /lookup and data tiles (the tree keeps the real leaf). */
  record?: { id: number; text: string };
}

export interface SumdbTestServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash; with the prefix, if any). */
  readonly url: string;
  /** Request paths in the order they arrived (with the prefix, if any). */
  readonly requests: string[];
  /** How many requests arrived whose path (without the prefix) starts with `start` (e.g. `/tile/`). */
  count(start: string): number;
  /** Fault knobs, read on every request; may be changed between requests. */
  faults: SumdbFaults;
  /** The log being served; may be swapped (e.g. for a fork) or appended to between requests. */
  log: SumdbTestLog;
  tamper: SumdbTamper;
  close(): Promise<void>;
}

// golang/mod sumdb/server.go modVerRE.
const MOD_VER = /^[^@]+@v[0-9]+\.[0-9]+\.[0-9]+(-[^@]*)?(\+incompatible)?$/;

export async function startSumdbServer(
  log: SumdbTestLog,
  tamper: SumdbTamper = {},
  options: SumdbServeOptions = {},
): Promise<SumdbTestServer> {
  const onlyCurrentPartials = options.onlyCurrentPartials ?? false;
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const partialsOfFullTiles = options.partialsOfFullTiles ?? true;
  const requests: string[] = [];
  const state: { log: SumdbTestLog; tamper: SumdbTamper; faults: SumdbFaults } = { log, tamper, faults: {} };
  const inPrefix = (full: string): string | undefined =>
    prefix === '' ? full : full.startsWith(`${prefix}/`) ? full.slice(prefix.length) : undefined;

  const send = (res: ServerResponse, status: number, type: string, body: string | Uint8Array) => {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const notFound = (res: ServerResponse, why = 'not found') => send(res, 404, 'text/plain; charset=utf-8', `${why}\n`);

  const recordText = (id: number): Uint8Array => {
    const t = state.tamper.record;
    return t && t.id === id ? utf8(t.text) : state.log.recordText(id);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const fullPath = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push(fullPath);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    const path = inPrefix(fullPath);
    if (path === undefined) {
      if (options.fallback?.(fullPath, res)) return;
      return notFound(res);
    }
    const fail = state.faults.fail;
    if (fail && fail.count > 0 && (fail.paths?.test(path) ?? true)) {
      fail.count--;
      res.writeHead(fail.status, {
        'Content-Type': 'text/plain',
        ...(fail.retryAfter === undefined ? {} : { 'Retry-After': fail.retryAfter }),
      });
      return res.end(`injected HTTP ${fail.status}\n`);
    }
    if (prefix !== '' && path === '/supported') return send(res, 200, 'text/plain', '');

    if (path === '/latest') return send(res, 200, 'text/plain; charset=UTF-8', state.faults.latest ?? state.log.signedTree());

    if (path.startsWith('/lookup/')) {
      const mod = path.slice('/lookup/'.length);
      if (!MOD_VER.test(mod)) return send(res, 400, 'text/plain', 'invalid module@version syntax\n');
      const at = mod.indexOf('@');
      const modPath = unescapeModulePath(mod.slice(0, at));
      const version = unescapeModulePath(mod.slice(at + 1));
      if (modPath === undefined || version === undefined) {
        return send(res, 400, 'text/plain', 'invalid escaped module path or version\n');
      }
      const id = state.log.lookupId(modPath, version);
      if (id === undefined) return notFound(res, `${modPath}@${version}: not found`);
      const body = concatBytes(formatRecord(id, recordText(id)), utf8(state.log.signedTree()));
      return send(res, 200, 'text/plain; charset=UTF-8', body);
    }

    const tile = /^\/tile\/8\/(.+)$/.exec(path);
    if (tile) {
      let ref: TileRef;
      try {
        ref = parseTilePath(`tile/${tile[1]!.replace(/^data\//, 'entries/')}`);
      } catch {
        return send(res, 400, 'text/plain', 'invalid tile syntax\n');
      }
      if (!partialsOfFullTiles && ref.width < TILE_WIDTH) {
        const level = ref.level === 'entries' ? 0 : ref.level;
        if (ref.index < tileCounts(BigInt(state.log.size), level).fullCount) return notFound(res);
      }
      if (ref.level === 'entries') {
        const texts = state.log.dataTileTexts(ref, onlyCurrentPartials);
        if (!texts) return notFound(res);
        const start = Number(ref.index) * TILE_WIDTH;
        const served = texts.map((text, i) => (state.tamper.record?.id === start + i ? recordText(start + i) : text));
        return send(res, 200, 'text/plain; charset=UTF-8', encodeDataTile(served));
      }
      const data = state.log.hashTile(ref, onlyCurrentPartials);
      if (!data) return notFound(res);
      const t = state.tamper.hashTile;
      if (t && t.level === ref.level && t.index === ref.index) {
        const offset = t.byteOffset ?? 0;
        if (offset < data.length) data[offset]! ^= 0x01;
      }
      return send(res, 200, 'application/octet-stream', data);
    }
    return notFound(res);
  };

  const respond = (req: IncomingMessage, res: ServerResponse) => {
    try {
      handle(req, res);
    } catch (error) {
      send(res, 500, 'text/plain', `${(error as Error).stack ?? String(error)}\n`);
    }
  };
  const server: Server = createServer((req, res) => {
    const { delayMs, delayPaths } = state.faults;
    const path = inPrefix(new URL(req.url ?? '/', 'http://x').pathname);
    if (delayMs !== undefined && delayMs > 0 && path !== undefined && (delayPaths?.test(path) ?? true)) {
      const timer = setTimeout(() => {
        if (!res.destroyed) respond(req, res);
      }, delayMs);
      res.on('close', () => clearTimeout(timer));
    } else {
      respond(req, res);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    requests,
    count: (start: string) => requests.filter((p) => inPrefix(p)?.startsWith(start) ?? false).length,
    get faults() {
      return state.faults;
    },
    set faults(value: SumdbFaults) {
      state.faults = value;
    },
    get log() {
      return state.log;
    },
    set log(value: SumdbTestLog) {
      state.log = value;
    },
    get tamper() {
      return state.tamper;
    },
    set tamper(value: SumdbTamper) {
      state.tamper = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
