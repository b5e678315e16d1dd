// Bootstrap toolchains: the GOROOT_BOOTSTRAP a build uses, identified by version and content hash, and
// built from the same git repository down to a root following gorebuild's BootstrapVersion rule: go1.22
// needs go1.20, which needs go1.17, which needs go1.4; go1.24 needs go1.22, ... The root is a toolchain
// taken as is (Debian's Go 1.19, which can build go1.20 directly) or Go 1.4 built from C by a named C
// compiler (c-root.ts); independent roots must lead to identical releases (roots.ts, agreement.ts).
//
// `witness bootstrap` writes, per built toolchain, the GOROOT at <out>/<version>-<id>/ (toolchainFolder:
// the id names what it was built from, so chains from different roots coexist and each is built once)
// and beside it a manifest <out>/<version>-<id>.bootstrap.json naming the commit and tree it was built
// from, its hash, and the chain that built it (for Go 1.4 from C: the compiler and the branch). Every use
// re-hashes the GOROOT and refuses it if it changed.
import { formatDuration } from '../format.js';
import { mkdir, mkdtemp, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError, FormatError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../infra/files.js';
import { git } from '../infra/git.js';
import { hash1FromDigests } from '../sumdb/dirhash.js';
import { hashFile } from './distpack.js';
import { BRANCH_NAME, COMPILER, type BootstrapToolchain } from './result.js';
import { GO14_BRANCH, branchVersion, cRootEnvironment, cRootId, checkBranchHead, compilerLabel, resolveBranchHead, type CCompiler, type RecordedHead } from './c-root.js';
import { createHash } from 'node:crypto';
import { buildUserFor, exportTree, giveToBuildUser, runMakeBash, takeBackFromBuildUser, scrubbedEnvironment, type MakeProgress } from './make.js';
import { assertBuildUserMayEnter, type Sandbox } from './sandbox.js';
import { bootstrapMinor, compareGoVersions, parseGoVersion, requireGoVersion, type GoVersion } from '../release/target.js';
import { formatTime } from '../infra/time.js';

export const BOOTSTRAP_MANIFEST_SCHEMA = 'go-source-witness/bootstrap/v1';

export interface BootstrapManifest {
  readonly schema: typeof BOOTSTRAP_MANIFEST_SCHEMA;
  readonly version: string;
  readonly commit: string;
  readonly tree: string;
  readonly hash: string;
  /** The chain that built this toolchain: its GOROOT_BOOTSTRAP first, the root last. */
  readonly builtWith: readonly BootstrapToolchain[];
  /** Go 1.4 built from C (c-root.ts): the compiler and the branch; builtWith is then empty. */
  readonly root?: CRootManifest;
  readonly built: string;
  readonly seconds: number;
}

export interface CRootManifest {
  readonly kind: 'c';
  /** "gcc 12.2.0" */
  readonly compiler: string;
  /** "gcc (Debian 12.2.0-14+deb12u1) 12.2.0" */
  readonly compilerVersion: string;
  readonly compilerPath: string;
  readonly branch: string;
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
  const root = manifest.root as CRootManifest | undefined;
  const badRoot = root !== undefined && (root.kind !== 'c' || typeof root.compiler !== 'string' || !COMPILER.test(root.compiler) || typeof root.branch !== 'string' || !BRANCH_NAME.test(root.branch) || manifest.builtWith?.length !== 0);
  if (manifest.schema !== BOOTSTRAP_MANIFEST_SCHEMA || typeof manifest.hash !== 'string' || !Array.isArray(manifest.builtWith) || badRoot || (root === undefined && manifest.builtWith.length === 0)) {
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
  // A toolchain no manifest describes is a root taken as is.
  if (!manifest) return [{ version, hash, root: 'binary' }];
  if (manifest.hash !== hash || manifest.version !== version) {
    throw new EnvironmentError(
      'BOOTSTRAP_MODIFIED',
      `${goroot} no longer matches its manifest (${manifestPath(goroot)}): hash ${hash}, manifest says ${manifest.hash}; rebuild it with witness bootstrap`,
    );
  }
  const root = manifest.root ? { root: 'c' as const, compiler: manifest.root.compiler, branch: manifest.root.branch } : {};
  return [{ version, hash, commit: manifest.commit, tree: manifest.tree, ...root }, ...manifest.builtWith];
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

/** Where a chain starts: a toolchain taken as is (a GOROOT), or Go 1.4 built from C (c-root.ts). */
export type BootstrapRoot =
  | { readonly kind: 'goroot'; readonly goroot: string }
  | {
      readonly kind: 'c';
      readonly compiler: CCompiler;
      /** The head the witness log recorded for the branch, if any (bootstrap-record.ts recordedBranchHeads). */
      readonly recordedHead?: RecordedHead;
      /** --accept-branch-head: build from a head the log has not recorded (it is logged at ingest). */
      readonly acceptBranchHead: boolean;
    };

export interface BootstrapOptions {
  readonly repository: string;
  readonly root: BootstrapRoot;
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
  /** Root c: what was said about the branch head (recorded, or accepted). */
  readonly branchHead?: string;
}

/**
 * The folder of a toolchain in the cache: `<version>-<id>`, `id` the first 12 hex digits of the SHA-256
 * of what it is built from (the GOROOT hash of the toolchain that builds it; for Go 1.4 from C, cRootId),
 * so that chains from different roots live side by side and each is built once.
 */
export function toolchainFolder(out: string, version: string, id: string): string {
  return path.resolve(out, `${version}-${id}`);
}

function idOfParent(parentHash: string): string {
  return createHash('sha256').update(`go\n${parentHash}`).digest('hex').slice(0, 12);
}

/** Builds (or reuses, if still intact) every toolchain `version` needs, and returns the GOROOT to bootstrap it with. */
export async function buildBootstrapChain(version: string, options: BootstrapOptions): Promise<BootstrapResult> {
  const say = options.onProgress ?? (() => {});
  // The build's own user must reach --out and the root GOROOT its sandbox mounts: refused before --out
  // is made (a missing --out only if this process's umask would make it searchable).
  if (options.sandbox.freshUsers) {
    await assertBuildUserMayEnter(options.out, '--out', true);
    if (options.root.kind === 'goroot') await assertBuildUserMayEnter(options.root.goroot, '--from');
  }
  await mkdir(options.out, { recursive: true });
  const built: string[] = [];
  let goroot: string;
  let rootVersionText: string;
  // What describeBootstrap(goroot) says, kept from the step that made or checked it (no second hash).
  let chain: BootstrapToolchain[] | undefined;
  let branchHead: string | undefined;
  const { root } = options;
  if (root.kind === 'c') {
    const head = await resolveBranchHead(options.repository, GO14_BRANCH);
    branchHead = checkBranchHead(head, root.recordedHead, root.acceptBranchHead);
    say(`root: ${branchHead}`);
    rootVersionText = await branchVersion(options.repository, head);
    goroot = toolchainFolder(options.out, rootVersionText, cRootId(head, root.compiler));
    const manifest = await reusable(goroot);
    if (manifest) {
      if (manifest.commit !== head.commit || manifest.root?.compiler !== compilerLabel(root.compiler)) {
        throw new EnvironmentError('BOOTSTRAP_MODIFIED', `${manifestPath(goroot)} does not describe ${head.branch} at ${head.commit} built by ${compilerLabel(root.compiler)}: remove ${goroot} and run again`);
      }
      chain = await describeBootstrap(goroot);
      say(`bootstrap ${rootVersionText}: reusing ${goroot} (${chain[0]!.hash}, from C by ${compilerLabel(root.compiler)})`);
    } else {
      say(`bootstrap ${rootVersionText}: building from C with ${root.compiler.versionLine} (${root.compiler.path}), ${head.branch} at ${head.commit}`);
      const hash = await makeToolchain(options, {
        version: rootVersionText,
        tree: head.tree,
        target: goroot,
        env: cRootEnvironment(root.compiler, goroot),
        manifest: {
          commit: head.commit,
          tree: head.tree,
          builtWith: [],
          root: { kind: 'c', compiler: compilerLabel(root.compiler), compilerVersion: root.compiler.versionLine, compilerPath: root.compiler.path, branch: head.branch },
        },
      });
      built.push(rootVersionText);
      chain = [{ version: rootVersionText, hash, commit: head.commit, tree: head.tree, root: 'c', compiler: compilerLabel(root.compiler), branch: head.branch }];
    }
  } else {
    goroot = path.resolve(root.goroot);
    rootVersionText = await gorootVersion(goroot);
  }
  const rootVersion = /^go1\.([0-9]+)/.exec(rootVersionText);
  if (!rootVersion) throw new UsageError('BAD_BOOTSTRAP', `the root toolchain ${goroot} has version ${rootVersionText}, not go1.N`);
  const steps = await planBootstrapChain(version, Number(rootVersion[1]), options.repository);
  for (const step of steps) {
    const { commit, tree } = await options.checkTag(step);
    const builtWith = (chain ??= await describeBootstrap(goroot));
    const target = toolchainFolder(options.out, step, idOfParent(builtWith[0]!.hash));
    const manifest = await reusable(target);
    if (manifest) {
      // Built from the tag the log records, by the toolchain at hand: else it is not this chain's.
      if (manifest.commit !== commit || manifest.tree !== tree || manifest.builtWith[0]?.hash !== builtWith[0]!.hash) {
        throw new EnvironmentError('BOOTSTRAP_MODIFIED', `${manifestPath(target)} does not describe ${step} at ${commit} built with ${builtWith[0]!.hash}: remove ${target} and run again`);
      }
      chain = await describeBootstrap(target);
      say(`bootstrap ${step}: reusing ${target} (${chain[0]!.hash})`);
      goroot = target;
      continue;
    }
    say(`bootstrap ${step}: building from ${commit} with ${builtWith[0]!.version}`);
    const hash = await makeToolchain(options, { version: step, tree, target, env: { GOROOT_BOOTSTRAP: goroot }, readOnly: [goroot], manifest: { commit, tree, builtWith } });
    built.push(step);
    goroot = target;
    chain = [{ version: step, hash, commit, tree }, ...builtWith];
  }
  return { goroot, chain: chain ?? (await describeBootstrap(goroot)), built, ...(branchHead ? { branchHead } : {}) };
}

/** The manifest of a finished toolchain at `target`, undefined when there is none; refuses a half-built one. */
async function reusable(target: string): Promise<BootstrapManifest | undefined> {
  if (!(await stat(target).catch(() => undefined))) return undefined;
  // Reuse only what `witness bootstrap` finished (manifest written last); describeBootstrap re-hashes it.
  const manifest = await readManifest(target);
  if (!manifest) {
    throw new EnvironmentError('BOOTSTRAP_INCOMPLETE', `${target} exists without its manifest ${manifestPath(target)} (an interrupted bootstrap?): remove it and run again`);
  }
  return manifest;
}

/**
 * Exports `tree`, runs its make.bash (no arguments) in the sandbox as a fresh user with the scrubbed
 * environment plus `env`, moves the GOROOT to `target`, hashes it and writes its manifest last.
 */
async function makeToolchain(
  options: BootstrapOptions,
  step: {
    version: string;
    tree: string;
    target: string;
    env: Record<string, string>;
    readOnly?: readonly string[];
    manifest: Pick<BootstrapManifest, 'commit' | 'tree' | 'builtWith' | 'root'>;
  },
): Promise<string> {
  const say = options.onProgress ?? (() => {});
  const work = await mkdtemp(path.join(options.out, `.${step.version}.building-`));
  const goDir = path.join(work, 'go');
  const started = new Date();
  await exportTree(options.repository, step.tree, goDir);
  const home = path.join(work, 'home');
  const tmp = path.join(work, 'tmp');
  await mkdir(home);
  await mkdir(tmp);
  const user = buildUserFor(options.sandbox);
  // Before any process of the fresh user exists: nothing can race this walk.
  await giveToBuildUser(work, user);
  const logFile = `${step.target}.bootstrap.log`;
  const run = await runMakeBash({
    goroot: goDir,
    args: [],
    env: { ...scrubbedEnvironment({ home, tmp }), ...step.env },
    user,
    sandbox: options.sandbox,
    work,
    readOnly: step.readOnly ?? [],
    logFile,
    onProgress: ((line, seconds) => say(`  [${formatSeconds(seconds)}] ${line}`)) satisfies MakeProgress,
  });
  if (run.code !== 0) {
    throw new EnvironmentError('BOOTSTRAP_BUILD_FAILED', `building bootstrap ${step.version} failed (make.bash exit ${run.code}); see ${logFile}: ${run.lastLines.slice(-3).join(' | ')}`);
  }
  await rename(goDir, step.target);
  await rm(work, { recursive: true, force: true });
  // Back from the build user before hashing (runMakeBash returned: none of its processes is left).
  await takeBackFromBuildUser(step.target, user);
  if ((await gorootVersion(step.target)) !== step.version) throw new EnvironmentError('BOOTSTRAP_BUILD_FAILED', `${step.target}/VERSION does not say ${step.version}`);
  const hash = await hashGoroot(step.target);
  const manifest: BootstrapManifest = {
    schema: BOOTSTRAP_MANIFEST_SCHEMA,
    version: step.version,
    commit: step.manifest.commit,
    tree: step.manifest.tree,
    hash,
    builtWith: step.manifest.builtWith,
    ...(step.manifest.root ? { root: step.manifest.root } : {}),
    built: formatTime(started),
    seconds: Math.round(run.seconds),
  };
  await writeFileAtomic(manifestPath(step.target), `${JSON.stringify(manifest, null, 2)}\n`);
  say(`bootstrap ${step.version}: built in ${formatSeconds(run.seconds)}, ${hash}`);
  return hash;
}

/** "7 min 23 s" (src/format.ts). */
export function formatSeconds(seconds: number): string {
  return formatDuration(seconds);
}
