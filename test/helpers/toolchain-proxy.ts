// A module proxy for tests that serves golang.org/toolchain modules (https://go.dev/ref/mod#goproxy-protocol:
// /<module>/@v/list, /<module>/@v/<version>.info|.mod|.zip) and, under /sumdb/<name>/, a checksum
// database (sumdb-server.ts) whose log holds their records: what the real go command downloads from
// with GOPROXY=http://127.0.0.1:PORT and GOSUMDB="<vkey> http://127.0.0.1:PORT/sumdb/<name>".
//
// Knobs: `status` answers a version's files with an HTTP status (403, 404) and a body, as a proxy that
// does not serve a target does; `zipOverride` serves other zip bytes than the ones the log records (a
// tampering proxy).
import { mkdirSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { ZipFile } from 'yazl';
import { distpackInfo } from '../../src/rebuild/published.js';
import { goModHash, hash1 } from '../../src/sumdb/dirhash.js';
import { toolchainRecordText } from '../../src/sumdb/locate.js';
import { SumdbTestLog, type SumdbTestServer, startSumdbServer, syntheticGoSumRecord } from './sumdb-server.js';

export const TOOLCHAIN_MOD = Buffer.from('module golang.org/toolchain\n');
export const TOOLCHAIN_MOD_H1 = 'h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=';

export interface ToolchainModule {
  /** v0.0.1-goX.GOOS-GOARCH */
  readonly version: string;
  readonly zip: Buffer;
  readonly mod: Buffer;
  /** As cmd/distpack writes it. */
  readonly info: Buffer;
  readonly h1: string;
  readonly modH1: string;
  /** The entries (names relative to the module root) it was made of. */
  readonly entries: ReadonlyArray<{ name: string; content: Buffer }>;
}

/** A deterministic module zip: entries under golang.org/toolchain@<version>/, fixed times. */
export async function moduleZip(version: string, entries: ReadonlyArray<{ name: string; content: Buffer }>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const entry of entries) {
    zip.addBuffer(entry.content, `golang.org/toolchain@${version}/${entry.name}`, { mtime: new Date('2023-08-08T15:10:25Z'), mode: 0o644, compress: true });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function toolchainModule(version: string, entries: ReadonlyArray<{ name: string; content: Buffer }>, time = '2023-08-08T15:10:25Z'): Promise<ToolchainModule> {
  const zip = await moduleZip(version, entries);
  const h1 = hash1(entries.map((entry) => ({ name: `golang.org/toolchain@${version}/${entry.name}`, content: entry.content })));
  const modH1 = goModHash(TOOLCHAIN_MOD);
  return { version, zip, mod: TOOLCHAIN_MOD, info: Buffer.from(distpackInfo(version, time)), h1, modH1, entries };
}

/** Simple linux entries whose bytes depend on `flavour` (another flavour: another build). */
export function linuxEntries(version: string, flavour = 'published'): Array<{ name: string; content: Buffer }> {
  return [
    { name: 'bin/go', content: Buffer.from(`\x7fELF go ${version} ${flavour}\n`.repeat(50)) },
    { name: 'pkg/tool/linux_amd64/compile', content: Buffer.from(`compile ${version} ${flavour}\n`.repeat(20)) },
    { name: 'src/runtime/proc.go', content: Buffer.from('package runtime\n') },
    { name: 'VERSION', content: Buffer.from(`${version}\n`) },
  ];
}

export interface ToolchainProxy {
  /** The proxy's base URL (GOPROXY). */
  readonly url: string;
  /** The checksum database under <url>/sumdb/<name>. */
  readonly sumdb: SumdbTestServer;
  readonly sumdbUrl: string;
  readonly log: SumdbTestLog;
  readonly modules: Map<string, ToolchainModule>;
  /** Per version: answer its .info/.mod/.zip with this status and body. */
  readonly status: Map<string, { status: number; body: string }>;
  /** Per version: serve these zip bytes instead. */
  readonly zipOverride: Map<string, Buffer>;
  /** Request paths for module files (not sumdb). */
  readonly moduleRequests: string[];
  /** The operator's environment for the real go command pointed at this proxy (fresh HOME, GOENV=off). */
  operatorEnv(home: string, extra?: Record<string, string>): Record<string, string>;
  /** Appends a record of `module` to the log (its lookups then find it); returns its index. */
  add(module: ToolchainModule, record?: boolean): number;
  /** Appends synthetic records until the log has `size`. */
  grow(size: number): void;
  close(): Promise<void>;
}

let synthetic = 0;

export async function startToolchainProxy(options: { keyName?: string } = {}): Promise<ToolchainProxy> {
  const log = new SumdbTestLog({ keyName: options.keyName ?? 'sumdb.test.example' });
  const modules = new Map<string, ToolchainModule>();
  const status = new Map<string, { status: number; body: string }>();
  const zipOverride = new Map<string, Buffer>();
  const moduleRequests: string[] = [];
  const prefix = `/sumdb/${log.keyName}`;
  const send = (res: ServerResponse, code: number, body: Buffer | string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  };
  const fallback = (path: string, res: ServerResponse): boolean => {
    const base = '/golang.org/toolchain/@v/';
    if (!path.startsWith(base)) return false;
    moduleRequests.push(path);
    const file = path.slice(base.length);
    if (file === 'list') {
      send(res, 200, [...modules.keys()].filter((v) => !status.has(v)).map((v) => `${v}\n`).join(''));
      return true;
    }
    const match = /^(v0\.0\.1-go[^/]+)\.(info|mod|zip)$/.exec(file);
    if (!match) return false;
    const [, version, kind] = match as unknown as [string, string, 'info' | 'mod' | 'zip'];
    const answer = status.get(version);
    if (answer) {
      send(res, answer.status, answer.body);
      return true;
    }
    const module = modules.get(version);
    if (!module) {
      send(res, 404, `not found: golang.org/toolchain@${version}: unknown revision\n`);
      return true;
    }
    if (kind === 'info') send(res, 200, JSON.stringify({ Version: version, Time: JSON.parse(module.info.toString('utf8')).Time }), 'application/json');
    else if (kind === 'mod') send(res, 200, module.mod);
    else send(res, 200, zipOverride.get(version) ?? module.zip, 'application/zip');
    return true;
  };
  const sumdb = await startSumdbServer(log, {}, { prefix, fallback });
  const url = sumdb.url.slice(0, -prefix.length);
  return {
    url,
    sumdb,
    sumdbUrl: sumdb.url,
    log,
    modules,
    status,
    zipOverride,
    moduleRequests,
    operatorEnv: (home, extra = {}) => {
      // Telemetry off, so that no go child process writes into the temporary HOME after a test.
      mkdirSync(path.join(home, '.config', 'go', 'telemetry'), { recursive: true });
      writeFileSync(path.join(home, '.config', 'go', 'telemetry', 'mode'), 'off\n');
      return {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: home,
      GOENV: 'off',
      GOPROXY: url,
      GOSUMDB: `${log.verifierKey} ${sumdb.url}`,
      GOTOOLCHAIN: 'local',
      ...extra,
      };
    },
    add(module, record = true) {
      modules.set(module.version, module);
      return record ? log.append(toolchainRecordText(module.version, module.h1, module.modH1)) : -1;
    },
    grow(size) {
      while (log.size < size) log.append(syntheticGoSumRecord(synthetic++, 'filler'));
    },
    close: () => sumdb.close(),
  };
}
