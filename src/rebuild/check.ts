// `witness check`: for Go developers. Hashes toolchain module zips (files given, or every
// golang.org/toolchain zip the go command downloaded into $GOMODCACHE/cache/download) and says whether the
// witness log holds an independent rebuild with the same h1 (read from verified entries: the whole tree
// recomputed and matched with the signed checkpoint), a different one (alarm), or none yet.
import { readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { LogRecord } from '../log/record.js';
import { hashFile } from './distpack.js';
import { toolchainZipHashes } from './macho.js';
import { BUILD_RECORD_TYPE, buildRecordFromLogRecord, moduleZipHash } from './record.js';
import { formatTarget } from '../release/target.js';

export type CheckStatus = 'rebuilt-equal' | 'rebuilt-different' | 'not-rebuilt';

export interface CheckedZip {
  readonly file: string;
  readonly module: string;
  readonly version: string;
  readonly target: string;
  readonly h1: string;
  readonly strippedH1?: string;
  /** The zip file's SHA-256 and size. */
  readonly sha256: string;
  readonly size: number;
  readonly status: CheckStatus;
  /** Of `matching`, the build records whose zip is this file byte for byte (same SHA-256 and size). */
  readonly sameBytes: bigint[];
  /** Log indexes of the build records compared with. */
  readonly matching: bigint[];
  readonly differing: Array<{ index: bigint; h1: string }>;
}

const TOOLCHAIN_ZIP = /^v0\.0\.1-(go\S+?)\.([a-z0-9]+)-([a-z0-9]+)\.zip$/;

/** The module zips under a module cache: <GOMODCACHE>/cache/download/golang.org/toolchain/@v/*.zip. */
export async function toolchainZipsInModuleCache(modcache: string): Promise<string[]> {
  const dir = path.join(modcache, 'cache', 'download', 'golang.org', 'toolchain', '@v');
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw new UsageError('MODCACHE_UNREADABLE', `cannot read ${dir}: ${error.message}`);
  });
  return names.filter((name) => TOOLCHAIN_ZIP.test(name)).sort().map((name) => path.join(dir, name));
}

/** GOMODCACHE as the go command resolves it: $GOMODCACHE, else the first $GOPATH entry's pkg/mod, else ~/go/pkg/mod. */
export function defaultModuleCache(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GOMODCACHE) return env.GOMODCACHE;
  const gopath = env.GOPATH?.split(path.delimiter).find((entry) => entry !== '');
  return path.join(gopath ?? path.join(os.homedir(), 'go'), 'pkg', 'mod');
}

export async function checkToolchainZips(files: readonly string[], records: ReadonlyArray<{ index: bigint; record: LogRecord }>): Promise<CheckedZip[]> {
  const builds = records.filter(({ record }) => record.type === BUILD_RECORD_TYPE).map(({ index, record }) => ({ index, build: buildRecordFromLogRecord(record) }));
  const checked: CheckedZip[] = [];
  for (const file of files) {
    const match = TOOLCHAIN_ZIP.exec(path.basename(file));
    if (!match) throw new UsageError('NOT_TOOLCHAIN_ZIP', `${file}: not a golang.org/toolchain module zip name (v0.0.1-goX.GOOS-GOARCH.zip)`);
    const [, version, goos, goarch] = match as unknown as [string, string, string, string];
    const target = formatTarget({ goos, goarch });
    const { h1, strippedH1 } = await toolchainZipHashes(file, goos);
    const { sha256, size } = await hashFile(file);
    const sameBytes: bigint[] = [];
    const matching: bigint[] = [];
    const differing: Array<{ index: bigint; h1: string }> = [];
    for (const { index, build } of builds) {
      if (build.outcome !== 'built' || build.version !== version || build.target !== target) continue;
      const theirs = moduleZipHash(build)!;
      // darwin: Google's zip is signed, ours is not; equal once both have their signatures stripped.
      if (theirs === h1 || (strippedH1 !== undefined && build.strippedH1 === strippedH1)) {
        matching.push(index);
        const zip = build.files?.find((f) => f.name === path.basename(file));
        if (zip && zip.sha256 === sha256 && zip.size === size) sameBytes.push(index);
      }
      else differing.push({ index, h1: build.strippedH1 !== undefined && strippedH1 !== undefined ? `${theirs} (stripped ${build.strippedH1})` : theirs });
    }
    const status: CheckStatus = matching.length > 0 && differing.length === 0 ? 'rebuilt-equal' : matching.length + differing.length === 0 ? 'not-rebuilt' : 'rebuilt-different';
    checked.push({ file, module: `golang.org/toolchain@v0.0.1-${version}.${goos}-${goarch}`, version, target, h1, ...(strippedH1 ? { strippedH1 } : {}), sha256, size, status, matching, sameBytes, differing });
  }
  return checked;
}
