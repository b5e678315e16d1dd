// Bootstrap toolchains: the GOROOT_BOOTSTRAP a build uses, identified by version and content hash, and
// built from the same git repository down to a root toolchain (here Debian's Go 1.19) following
// gorebuild's BootstrapVersion rule: go1.22 needs go1.20, which go1.19 can build; go1.24 needs go1.22,
// which needs go1.20, ...
//
// `witness bootstrap` writes, per built toolchain, the GOROOT at <out>/<version>/ and beside it a
// manifest <out>/<version>.bootstrap.json naming the commit and tree it was built from, its hash, and
// the chain that built it. A build that uses it re-hashes the GOROOT and refuses it if it changed.
import { formatDuration } from '../format.js';
import { mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, FormatError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../log/files.js';
import { git } from '../log/git.js';
import { hash1FromDigests } from '../sumdb/dirhash.js';
import { hashFile } from './distpack.js';
import type { BootstrapToolchain } from './result.js';
import { buildUserFor, exportTree, giveToBuildUser, runMakeBash, takeBackFromBuildUser, scrubbedEnvironment, type MakeProgress } from './make.js';
import type { Sandbox } from './sandbox.js';
import { bootstrapMinor, compareGoVersions, parseGoVersion, requireGoVersion, type GoVersion } from './target.js';
import { formatTime } from '../tags/record.js';

export const BOOTSTRAP_MANIFEST_SCHEMA = 'go-source-witness/bootstrap/v1';

export interface BootstrapManifest {
  readonly schema: typeof BOOTSTRAP_MANIFEST_SCHEMA;
  readonly version: string;
  readonly commit: string;
  readonly tree: string;
  readonly hash: string;
  /** The chain that built this toolchain: its GOROOT_BOOTSTRAP first, the root last. */
  readonly builtWith: readonly BootstrapToolchain[];
  readonly built: string;
  readonly seconds: number;
}

/** The Go version a GOROOT holds, from its VERSION file (first line). */
export async function gorootVersion(goroot: string): Promise<string> {
  const text = await readFile(path.join(goroot, 'VERSION'), 'utf8').catch(() => undefined);
  const version = text?.split('\n')[0]?.trim();
  if (!version || !/^go[0-9A-Za-z.+-]{1,40}$/.test(version)) {
    throw new EnvironmentError('BAD_BOOTSTRAP', `${goroot} is not a Go installation (no readable VERSION file)`);
  }
  if (!(await stat(path.join(goroot, 'bin', 'go')).catch(() => undefined))?.isFile()) {
    throw new EnvironmentError('BAD_BOOTSTRAP', `${goroot}/bin/go is missing: not a built Go toolchain`);
  }
  return version;
}

/**
 * The content hash of a GOROOT: dirhash Hash1 (h1:) over every regular file below it, by its path
 * relative to the GOROOT, following symbolic links (Debian's /usr/lib/go-1.19/src links into
 * /usr/share): it names exactly the bytes the build could read.
 */
export async function hashGoroot(goroot: string): Promise<string> {
  const files: { name: string; file: string }[] = [];
  const visited = new Set<string>();
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const real = await realpath(dir);
    if (visited.has(real)) throw new EnvironmentError('BAD_BOOTSTRAP', `${dir}: symbolic link loop`);
    visited.add(real);
    for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      const name = prefix ? `${prefix}/${entry.name}` : entry.name;
      const info = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : undefined;
      if (entry.isDirectory() || info?.isDirectory()) await walk(full, name);
      // hashFile never follows a link itself: a linked file is hashed by its resolved path.
      else if (entry.isFile() || info?.isFile()) files.push({ name, file: info ? await realpath(full) : full });
    }
    visited.delete(real);
  };
  await walk(goroot, '');
  const digests: { name: string; sha256: string }[] = new Array(files.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < files.length; i = next++) digests[i] = { name: files[i]!.name, sha256: (await hashFile(files[i]!.file)).sha256 };
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return hash1FromDigests(digests);
}

export function manifestPath(goroot: string): string {
  return `${goroot.replace(/\/+$/, '')}.bootstrap.json`;
}

async function readManifest(goroot: string): Promise<BootstrapManifest | undefined> {
  const text = await readFile(manifestPath(goroot), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new EnvironmentError('READ_FAILED', `cannot read ${manifestPath(goroot)}: ${error.message}`);
  });
  if (text === undefined) return undefined;
  let manifest: BootstrapManifest;
  try {
    manifest = JSON.parse(text) as BootstrapManifest;
  } catch {
    throw new FormatError('BAD_BOOTSTRAP_MANIFEST', `${manifestPath(goroot)} is not JSON`);
  }
  if (manifest.schema !== BOOTSTRAP_MANIFEST_SCHEMA || typeof manifest.hash !== 'string' || !Array.isArray(manifest.builtWith)) {
    throw new FormatError('BAD_BOOTSTRAP_MANIFEST', `${manifestPath(goroot)} is not a ${BOOTSTRAP_MANIFEST_SCHEMA} manifest`);
  }
  return manifest;
}

/**
 * Identifies the toolchain at `goroot` for a build record: its version and content hash, and, when
 * `witness bootstrap` built it, the commit, tree and chain behind it (the GOROOT must still hash to
 * what its manifest says, else it was modified after it was built and is refused).
 */
export async function describeBootstrap(goroot: string): Promise<BootstrapToolchain[]> {
  const version = await gorootVersion(goroot);
  const hash = await hashGoroot(goroot);
  const manifest = await readManifest(goroot);
  if (!manifest) return [{ version, hash }];
  if (manifest.hash !== hash || manifest.version !== version) {
    throw new EnvironmentError(
      'BOOTSTRAP_MODIFIED',
      `${goroot} no longer matches its manifest (${manifestPath(goroot)}): hash ${hash}, manifest says ${manifest.hash}; rebuild it with witness bootstrap`,
    );
  }
  return [{ version, hash, commit: manifest.commit, tree: manifest.tree }, ...manifest.builtWith];
}

/** The latest release tag of minor line go1.<minor> in the repository (go1.20.14 for 20), if any. */
export async function latestTagOfMinor(repository: string, minor: number): Promise<string | undefined> {
  const listing = await git(['for-each-ref', '--format=%(refname:strip=2)', `refs/tags/go1.${minor}*`], { cwd: repository });
  let best: GoVersion | undefined;
  for (const name of listing.stdout.toString('utf8').split('\n')) {
    const version = parseGoVersion(name.trim());
    if (!version || version.minor !== minor || version.prerelease) continue;
    if (!best || compareGoVersions(version, best) > 0) best = version;
  }
  return best?.text;
}

/**
 * The toolchains to build, oldest first, so that `version` can be built starting from a root toolchain
 * of minor line `rootMinor`. Empty when the root is new enough.
 */
export async function planBootstrapChain(version: string, rootMinor: number, repository: string): Promise<string[]> {
  const chain: string[] = [];
  let needed = bootstrapMinor(requireGoVersion(version));
  while (needed !== undefined && needed > rootMinor) {
    const tag = await latestTagOfMinor(repository, needed);
    if (!tag) throw new EnvironmentError('BOOTSTRAP_TAG_MISSING', `${repository} has no go1.${needed}.x release tag to build the bootstrap from`);
    chain.unshift(tag);
    needed = bootstrapMinor(requireGoVersion(tag));
    if (chain.length > 16) throw new EnvironmentError('BOOTSTRAP_CHAIN_TOO_LONG', 'bootstrap chain longer than 16 toolchains');
  }
  return chain;
}

export interface TagChecker {
  /** Resolves `version`'s tag in the repository, refusing it unless the witness log records the same commit and tree. */
  (version: string): Promise<{ commit: string; tree: string }>;
}

export interface BootstrapOptions {
  readonly repository: string;
  /** The root toolchain (GOROOT), e.g. /usr/lib/go-1.19. */
  readonly from: string;
  readonly out: string;
  readonly checkTag: TagChecker;
  /** How make.bash is isolated (sandbox.ts); each step gets a user of its own. */
  readonly sandbox: Sandbox;
  readonly onProgress?: (message: string) => void;
}

export interface BootstrapResult {
  /** GOROOT to pass as --bootstrap for `version`. */
  readonly goroot: string;
  readonly chain: readonly BootstrapToolchain[];
  readonly built: readonly string[];
}

/** Builds (or reuses, if still intact) every toolchain `version` needs, and returns the GOROOT to bootstrap it with. */
export async function buildBootstrapChain(version: string, options: BootstrapOptions): Promise<BootstrapResult> {
  const say = options.onProgress ?? (() => {});
  const rootVersionText = await gorootVersion(options.from);
  const rootVersion = /^go1\.([0-9]+)/.exec(rootVersionText);
  if (!rootVersion) throw new UsageError(`the root toolchain ${options.from} has version ${rootVersionText}, not go1.N`, 'BAD_BOOTSTRAP');
  const steps = await planBootstrapChain(version, Number(rootVersion[1]), options.repository);
  let goroot = path.resolve(options.from);
  // What describeBootstrap(goroot) says, kept from the step that made or checked it (no second hash).
  let chain: BootstrapToolchain[] | undefined;
  const built: string[] = [];
  for (const step of steps) {
    const target = path.resolve(options.out, step);
    const existing = await stat(target).catch(() => undefined);
    if (existing) {
      // Reuse only what `witness bootstrap` finished (manifest written last) and still hashes to its manifest.
      if (!(await readManifest(target))) {
        throw new EnvironmentError('BOOTSTRAP_INCOMPLETE', `${target} exists without its manifest ${manifestPath(target)} (an interrupted bootstrap?): remove it and run again`);
      }
      chain = await describeBootstrap(target);
      say(`bootstrap ${step}: reusing ${target} (${chain[0]!.hash})`);
      goroot = target;
      continue;
    }
    const { commit, tree } = await options.checkTag(step);
    const builtWith = (chain ??= await describeBootstrap(goroot));
    say(`bootstrap ${step}: building from ${commit} with ${builtWith[0]!.version}`);
    const work = await mkdtemp(path.join(options.out, `.${step}.building-`));
    const goDir = path.join(work, 'go');
    const started = new Date();
    await exportTree(options.repository, tree, goDir);
    const home = path.join(work, 'home');
    const tmp = path.join(work, 'tmp');
    await mkdir(home);
    await mkdir(tmp);
    const user = buildUserFor(options.sandbox);
    // Before any process of the fresh user exists: nothing can race this walk.
    await giveToBuildUser(work, user);
    const logFile = path.join(options.out, `${step}.bootstrap.log`);
    const run = await runMakeBash({
      goroot: goDir,
      args: [],
      env: scrubbedEnvironment({ home, tmp, bootstrap: goroot }),
      user,
      sandbox: options.sandbox,
      work,
      readOnly: [goroot],
      logFile,
      onProgress: ((line, seconds) => say(`  [${formatSeconds(seconds)}] ${line}`)) satisfies MakeProgress,
    });
    if (run.code !== 0) {
      throw new EnvironmentError('BOOTSTRAP_BUILD_FAILED', `building bootstrap ${step} failed (make.bash exit ${run.code}); see ${logFile}: ${run.lastLines.slice(-3).join(' | ')}`);
    }
    await rename(goDir, target);
    await rm(work, { recursive: true, force: true });
    // Back from the build user before hashing (runMakeBash returned: none of its processes is left).
    await takeBackFromBuildUser(target, user);
    const hash = await hashGoroot(target);
    const manifest: BootstrapManifest = {
      schema: BOOTSTRAP_MANIFEST_SCHEMA,
      version: step,
      commit,
      tree,
      hash,
      builtWith,
      built: formatTime(started),
      seconds: Math.round(run.seconds),
    };
    if ((await gorootVersion(target)) !== step) throw new EnvironmentError('BOOTSTRAP_BUILD_FAILED', `${target}/VERSION does not say ${step}`);
    await writeFileAtomic(manifestPath(target), `${JSON.stringify(manifest, null, 2)}\n`);
    say(`bootstrap ${step}: built in ${formatSeconds(run.seconds)}, ${hash}`);
    built.push(step);
    goroot = target;
    chain = [{ version: step, hash, commit, tree }, ...builtWith];
  }
  return { goroot, chain: chain ?? (await describeBootstrap(goroot)), built };
}

/** "7 min 23 s" (src/format.ts). */
export function formatSeconds(seconds: number): string {
  return formatDuration(seconds);
}
