// Google's published toolchain module (golang.org/toolchain@v0.0.1-goX.GOOS-GOARCH: zip, .mod, .info),
// fetched by its ordinary client: `go mod download -json`, run with an environment built from scratch,
// and compared with a rebuild byte for byte (SHA-256 and size) and by `h1:`.
//
// The go command downloads into a module cache (a scratch folder, or one the operator names) and, unless
// GOSUMDB is off or GONOSUMDB/GOPRIVATE match golang.org/toolchain, checks the zip and .mod against the
// checksum database first (https://go.dev/ref/mod#checksum-database): a file that disagrees is never
// written to the cache. We hash what it wrote ourselves, and check our `h1:` against the Sum it reports.
//
// The .info file is re-encoded by the go command (cmd/go/internal/modfetch/cache.go writeDiskStat
// json.Marshals the proxy's answer), so it is compared by its content: the published Version and Time,
// written as cmd/distpack writes them (`{"Version":%q, "Time":%q}\n`, src/cmd/distpack/pack.go), equal
// our file byte for byte, or the verdict is unchecked: no checksum covers .info, and the real proxy's
// Time is not distpack's (measured for go1.21.0 linux/amd64: 2023-08-08T15:08:17Z, VERSION's time is
// 2023-08-04T20:14:06Z), so a different Time proves nothing about the build.
//
// darwin: Google signs darwin binaries, an unsigned rebuild does not, so the zips differ; both sides are
// compared with their Mach-O code signatures stripped (macho.ts), and both h1 values are recorded.
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { type GoEnvironment, runGo, sanitizeGoMessage, sumdbSkipReason } from '../goenv.js';
import { goModHash } from '../sumdb/dirhash.js';
import { escapeModulePath } from '../sumdb/client.js';
import { gopathOfModuleCache } from '../sumdb/gocache.js';
import { hashFile, hashModuleZip } from './distpack.js';
import { hashModuleZipStripped } from './macho.js';
import type { Evidence, Verdict } from './record.js';
import type { BuildFile } from './result.js';
import { parseTarget, toolchainModuleVersion } from '../release/target.js';

export const TOOLCHAIN_MODULE = 'golang.org/toolchain';
const MAX_SMALL_FILE = 1024 * 1024;

export interface PublishedFileHash {
  /** Where the go command put it. */
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

export interface PublishedModule {
  readonly path: string;
  readonly version: string;
  /** The go command's version (GOVERSION) and what was run. */
  readonly goVersion: string;
  readonly command: string;
  readonly zip: PublishedFileHash & { readonly h1: string; readonly strippedH1?: string };
  readonly mod: PublishedFileHash & { readonly h1: string };
  readonly info: PublishedFileHash & { readonly infoVersion: string; readonly infoTime: string };
  /** The checksum database the go command checked the files against, or why it did not. */
  readonly sumdbChecked: { readonly by: string } | { readonly skipped: string };
}

export type DownloadOutcome = { readonly ok: true; readonly module: PublishedModule } | { readonly ok: false; readonly command: string; readonly reason: string };

export interface DownloaderOptions {
  /** A module cache the operator names (kept); default: a scratch folder removed by close(). */
  readonly gomodcache?: string;
  /**
   * The GOPATH to use (the go command keeps its signed tree head in GOPATH/pkg/sumdb); default: the
   * cache's GOPATH when the cache is <GOPATH>/pkg/mod, else a scratch folder.
   */
  readonly gopath?: string;
  readonly timeoutMs?: number;
}

/**
 * Runs `go mod download -json` for toolchain modules in a clean environment built from scratch: PATH,
 * HOME, TMPDIR, GOPATH, GOMODCACHE, GOCACHE, LANG, GOTOOLCHAIN=local, GOFLAGS=-modcacherw, GOENV=off,
 * GO111MODULE=on, and GOPROXY, GOSUMDB, GONOSUMDB, GONOPROXY, GOPRIVATE as the operator's `go env` says.
 * Nothing else of the caller's environment (never GOINSECURE, GOFLAGS, GOAUTH, credentials).
 */
export class GoModuleDownloader {
  private constructor(
    readonly go: GoEnvironment,
    readonly gomodcache: string,
    readonly gopath: string,
    private readonly scratch: string,
    private readonly timeoutMs: number,
  ) {}

  static async open(go: GoEnvironment, options: DownloaderOptions = {}): Promise<GoModuleDownloader> {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'witness-go-download-'));
    // A cache at <GOPATH>/pkg/mod keeps the go command's signed tree head in <GOPATH>/pkg/sumdb beside it.
    const derived = options.gomodcache ? gopathOfModuleCache(options.gomodcache) : undefined;
    const gopath = options.gopath ? path.resolve(options.gopath) : (derived ?? path.join(scratch, 'gopath'));
    const gomodcache = options.gomodcache ? path.resolve(options.gomodcache) : path.join(gopath, 'pkg', 'mod');
    for (const dir of [path.join(scratch, 'home'), path.join(scratch, 'tmp'), gopath, gomodcache]) await mkdir(dir, { recursive: true });
    // Go telemetry off in the scratch HOME (`go help telemetry`: the mode file in os.UserConfigDir()/go/
    // telemetry): otherwise the go command leaves a child process behind that writes there after it exits.
    await mkdir(path.join(scratch, 'home', '.config', 'go', 'telemetry'), { recursive: true });
    await writeFile(path.join(scratch, 'home', '.config', 'go', 'telemetry', 'mode'), 'off\n');
    return new GoModuleDownloader(go, gomodcache, gopath, scratch, options.timeoutMs ?? 900_000);
  }

  /** The environment the go command runs with. */
  environment(): Record<string, string> {
    return {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: path.join(this.scratch, 'home'),
      TMPDIR: path.join(this.scratch, 'tmp'),
      LANG: 'C',
      GOPATH: this.gopath,
      GOMODCACHE: this.gomodcache,
      GOCACHE: path.join(this.scratch, 'gocache'),
      GOENV: 'off',
      GO111MODULE: 'on',
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-modcacherw',
      GOPROXY: this.go.goproxy,
      GOSUMDB: this.go.gosumdb,
      GONOSUMDB: this.go.gonosumdb,
      GONOPROXY: this.go.gonoproxy,
      GOPRIVATE: this.go.goprivate,
    };
  }

  /** The files of module@version in the cache (golang/go src/cmd/go/internal/modfetch/cache.go CachePath). */
  cachePaths(modulePath: string, version: string): { zip: string; mod: string; info: string } {
    const base = path.join(this.gomodcache, 'cache', 'download', ...escapeModulePath(modulePath).split('/'), '@v', escapeModulePath(version));
    return { zip: `${base}.zip`, mod: `${base}.mod`, info: `${base}.info` };
  }

  /** Downloads one module version. Failures of the go command are outcomes (with its message), not errors. */
  async download(modulePath: string, version: string): Promise<DownloadOutcome> {
    const spec = `${modulePath}@${version}`;
    const command = `go mod download -json ${spec}`;
    const fail = (reason: string): DownloadOutcome => ({ ok: false, command, reason: sanitizeGoMessage(reason, this.go.goproxy) });
    const result = await runGo(this.go.go, ['mod', 'download', '-json', spec], { env: this.environment(), cwd: path.join(this.scratch, 'home'), timeoutMs: this.timeoutMs });
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    if (json && typeof json.Error === 'string') return fail(`${command}: ${json.Error}`);
    if (result.code !== 0 || !json) {
      const why = result.signal ? `killed by ${result.signal}` : `exit ${result.code}`;
      return fail(`${command}: ${why}: ${result.stderr.trim().split('\n').slice(-3).join(' ') || 'no message'}`);
    }
    const expected = this.cachePaths(modulePath, version);
    for (const [field, want] of [['Zip', expected.zip], ['GoMod', expected.mod], ['Info', expected.info]] as const) {
      if (json[field] !== want) return fail(`${command} reported ${field} ${JSON.stringify(json[field])}, not ${want}`);
    }
    if (typeof json.Sum !== 'string' || typeof json.GoModSum !== 'string') return fail(`${command} reported no Sum or GoModSum`);
    const zipHash = await hashRegular(expected.zip);
    const h1 = await hashModuleZip(expected.zip);
    if (h1 !== json.Sum) return fail(`${command}: the zip it wrote has h1 ${h1}, not the Sum ${json.Sum} it reported`);
    const strippedH1 = parseTarget(targetOfModuleVersion(version)).goos === 'darwin' ? await hashModuleZipStripped(expected.zip) : undefined;
    const modBytes = await readSmall(expected.mod);
    const modH1 = goModHash(modBytes);
    if (modH1 !== json.GoModSum) return fail(`${command}: the .mod it wrote has h1 ${modH1}, not the GoModSum ${json.GoModSum} it reported`);
    const infoBytes = await readSmall(expected.info);
    let info: { Version?: unknown; Time?: unknown };
    try {
      info = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(infoBytes)) as typeof info;
    } catch {
      return fail(`${expected.info} is not UTF-8 JSON`);
    }
    if (info.Version !== version || typeof info.Time !== 'string' || !/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$/.test(info.Time)) {
      return fail(`${expected.info} does not hold Version ${version} and a UTC Time`);
    }
    const skipped = sumdbSkipReason(this.go, modulePath);
    return {
      ok: true,
      module: {
        path: modulePath,
        version,
        goVersion: this.go.version,
        command,
        zip: { file: expected.zip, ...zipHash, h1, ...(strippedH1 ? { strippedH1 } : {}) },
        mod: { file: expected.mod, size: modBytes.length, sha256: sha256Hex(modBytes), h1: modH1 },
        info: { file: expected.info, size: infoBytes.length, sha256: sha256Hex(infoBytes), infoVersion: version, infoTime: info.Time },
        sumdbChecked: skipped ? { skipped } : { by: goSumdbName(this.go.gosumdb) },
      },
    };
  }

  /** Removes the scratch folder (an operator-named cache is kept). */
  async close(): Promise<void> {
    await rm(this.scratch, { recursive: true, force: true });
  }
}

function goSumdbName(gosumdb: string): string {
  const key = (gosumdb.trim() || 'sum.golang.org').split(/\s+/)[0]!;
  return key.split('+')[0]!;
}

/** GOOS/GOARCH of a toolchain module version `v0.0.1-goX.GOOS-GOARCH`. */
export function targetOfModuleVersion(version: string): string {
  const match = /^v0\.0\.1-go[^\s]+?\.([a-z0-9]+)-([a-z0-9]+)$/.exec(version);
  if (!match) throw new EnvironmentError('NOT_TOOLCHAIN_VERSION', `${version} is not a golang.org/toolchain version (v0.0.1-goX.GOOS-GOARCH)`);
  return `${match[1]}/${match[2]}`;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function regular(file: string): Promise<number> {
  const info = await lstat(file).catch((error: Error) => {
    throw new EnvironmentError('READ_FAILED', `cannot read ${file}: ${error.message}`, { cause: error });
  });
  if (!info.isFile()) throw new EnvironmentError('NOT_A_FILE', `${file} is not a regular file (a link or a folder where the go command writes files)`);
  return info.size;
}

async function hashRegular(file: string): Promise<{ size: number; sha256: string }> {
  await regular(file);
  return hashFile(file);
}

async function readSmall(file: string): Promise<Uint8Array> {
  if ((await regular(file)) > MAX_SMALL_FILE) throw new EnvironmentError('READ_FAILED', `${file} is larger than ${MAX_SMALL_FILE} bytes`);
  return new Uint8Array(await readFile(file));
}

// ---------------------------------------------------------------------------------------------------
// Comparing a rebuild with the published module.

/** What a build claims about the module (from a build result or a build record). */
export interface ModuleClaim {
  readonly version: string;
  readonly target: string;
  readonly files: readonly BuildFile[];
  readonly goSum: readonly [string, string];
  readonly strippedH1?: string;
}

/** cmd/distpack's .info bytes for a version and time (src/cmd/distpack/pack.go: `{%q:%q, %q:%q}\n`). */
export function distpackInfo(version: string, time: string): string {
  return `{${JSON.stringify('Version')}:${JSON.stringify(version)}, ${JSON.stringify('Time')}:${JSON.stringify(time)}}\n`;
}

/** `sha256:<hex> size <n>`: how a published file is named in verdicts (the site reads it back). */
export function publishedFileDetail(file: { sha256: string; size: number }): string {
  return `published sha256:${file.sha256} size ${file.size}`;
}

/** The published SHA-256 and size a `proxy` verdict detail names (publishedFileDetail), if any. */
export function parsePublishedFileDetail(detail: string): { sha256: string; size: number } | undefined {
  const match = /^published sha256:([0-9a-f]{64}) size (0|[1-9][0-9]{0,15})\b/.exec(detail);
  return match ? { sha256: match[1]!, size: Number(match[2]) } : undefined;
}

/**
 * Verdicts (source `proxy`) for the module's zip, .mod and .info against the published module, and the
 * evidence line naming it. `sumdbZipH1` is the zip h1 the checksum database holds, as proven by our own
 * client: a published zip that disagrees with it is not compared with (a proxy serving a file the
 * database does not vouch for), and the evidence says so.
 */
export function comparePublishedModule(claim: ModuleClaim, published: PublishedModule, sumdbZipH1?: string): { verdicts: Verdict[]; evidence: Evidence[] } {
  const target = parseTarget(claim.target);
  const module = toolchainModuleVersion(claim.version, target);
  const darwin = target.goos === 'darwin';
  const verdicts: Verdict[] = [];
  const checked = 'by' in published.sumdbChecked ? `checked by the go command against ${published.sumdbChecked.by}` : `NOT checked by the go command (${published.sumdbChecked.skipped})`;
  const evidence: Evidence[] = [
    {
      source: 'proxy',
      detail: `${published.command} with ${published.goVersion} from $GOPROXY, ${checked}: zip sha256:${published.zip.sha256} size ${published.zip.size} ${published.zip.h1}${published.zip.strippedH1 ? ` stripped ${published.zip.strippedH1}` : ''}, .mod sha256:${published.mod.sha256}, .info ${published.info.infoTime}`,
    },
  ];
  const names = { zip: `${module}.zip`, mod: `${module}.mod`, info: `${module}.info` };
  if (sumdbZipH1 !== undefined && sumdbZipH1 !== published.zip.h1) {
    const why = `the published zip (${published.zip.h1}, sha256:${published.zip.sha256}) is not the one the checksum database records (${sumdbZipH1}): not compared`;
    for (const file of Object.values(names)) if (claim.files.some((f) => f.name === file)) verdicts.push({ file, status: 'unchecked', source: 'proxy', detail: why });
    evidence.push({ source: 'proxy', detail: `PUBLISHED ZIP DISAGREES WITH THE CHECKSUM DATABASE: ${why}` });
    return { verdicts, evidence };
  }
  const ours = (name: string) => claim.files.find((f) => f.name === name);
  const zip = ours(names.zip);
  const ourH1 = claim.goSum[0].split(' ')[2]!;
  if (zip) {
    const detail = `${publishedFileDetail(published.zip)} ${published.zip.h1}`;
    if (zip.sha256 === published.zip.sha256 && zip.size === published.zip.size) {
      verdicts.push({ file: names.zip, status: 'equal', source: 'proxy', detail });
    } else if (darwin && published.zip.strippedH1 !== undefined && claim.strippedH1 !== undefined) {
      verdicts.push(
        published.zip.strippedH1 === claim.strippedH1
          ? { file: names.zip, status: 'equal', source: 'proxy', detail: `${detail}, stripped ${published.zip.strippedH1}: equal to ours with the Mach-O code signatures stripped on both sides (ours ${ourH1} unstripped)` }
          : { file: names.zip, status: 'unequal', source: 'proxy', detail: `${detail}, stripped ${published.zip.strippedH1}; built sha256:${zip.sha256} ${ourH1}, stripped ${claim.strippedH1}` },
      );
    } else {
      verdicts.push({ file: names.zip, status: 'unequal', source: 'proxy', detail: `${detail}; built sha256:${zip.sha256} size ${zip.size} ${ourH1}` });
    }
  }
  const mod = ours(names.mod);
  if (mod) {
    const detail = `${publishedFileDetail(published.mod)} ${published.mod.h1}`;
    verdicts.push(
      mod.sha256 === published.mod.sha256 && mod.size === published.mod.size
        ? { file: names.mod, status: 'equal', source: 'proxy', detail }
        : { file: names.mod, status: 'unequal', source: 'proxy', detail: `${detail}; built sha256:${mod.sha256} size ${mod.size}` },
    );
  }
  const info = ours(names.info);
  if (info) {
    // The cached .info is the go command's re-encoding: compare what cmd/distpack would have written.
    const asDistpack = Buffer.from(distpackInfo(published.info.infoVersion, published.info.infoTime), 'utf8');
    const distpackSha = sha256Hex(asDistpack);
    const byteEqual = info.sha256 === published.info.sha256 && info.size === published.info.size;
    const detail = `published Version ${published.info.infoVersion} Time ${published.info.infoTime}`;
    if (byteEqual || (info.sha256 === distpackSha && info.size === asDistpack.length)) {
      verdicts.push({ file: names.info, status: 'equal', source: 'proxy', detail: byteEqual ? `${publishedFileDetail(published.info)}, ${detail}` : `${detail}, written as cmd/distpack writes it: sha256:${distpackSha} size ${asDistpack.length}` });
    } else {
      // The proxy's .info Time is not necessarily cmd/distpack's (the VERSION file's): for go1.21.0 the
      // proxy says 2023-08-08T15:08:17Z, distpack wrote VERSION's 2023-08-04T20:14:06Z. Neither the
      // checksum database nor the go command vouches for .info, so a different Time proves nothing.
      verdicts.push({
        file: names.info,
        status: 'unchecked',
        source: 'proxy',
        detail: `${detail}: not cmd/distpack's .info (as distpack writes it: sha256:${distpackSha} size ${asDistpack.length}; built sha256:${info.sha256} size ${info.size}); the proxy's .info Time is its own and no checksum covers .info`,
      });
    }
  }
  return { verdicts, evidence };
}
