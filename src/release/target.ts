// Go versions and build targets, and the rules that depend on them: which versions distpack can
// reproduce, the extra environment a target needs (GOARM), the names of the files make.bash -distpack
// writes, go.dev's names for them, and the bootstrap each version needs (gorebuild's BootstrapVersion).
import { UsageError } from '../errors.js';

/** A Go release version as tagged in the Go repository: go1.N, go1.N.P, go1.NrcK, go1.NbetaK. */
export interface GoVersion {
  readonly text: string;
  readonly major: number;
  readonly minor: number;
  /** Patch number; 0 for go1.N before go1.21 and for pre-releases. */
  readonly patch: number;
  /** 'rc' or 'beta' for pre-releases. */
  readonly prerelease?: { readonly kind: 'rc' | 'beta'; readonly number: number };
}

// golang.org/x/build/internal/releasetargets + go/version: go1.N[.P] | go1.N{rc,beta}K. Numbers without
// leading zeros, bounded so that comparisons stay exact. Anything else (e.g. sumdb's go1.9.2rc2,
// golang/go#68634) is not a version we build: parseGoVersion returns undefined for it.
const VERSION = /^go(1)\.(0|[1-9][0-9]{0,3})(?:\.(0|[1-9][0-9]{0,3})|(rc|beta)([1-9][0-9]{0,2}))?$/;

export function parseGoVersion(text: string): GoVersion | undefined {
  const match = VERSION.exec(text);
  if (!match) return undefined;
  const minor = Number(match[2]);
  const version: GoVersion = {
    text,
    major: 1,
    minor,
    patch: match[3] === undefined ? 0 : Number(match[3]),
    ...(match[4] ? { prerelease: { kind: match[4] as 'rc' | 'beta', number: Number(match[5]) } } : {}),
  };
  // From go1.21 on, the first release of a minor line is go1.N.0; go1.21 alone is the language version.
  if (minor >= 21 && match[3] === undefined && !match[4]) return undefined;
  return version;
}

export function requireGoVersion(text: string): GoVersion {
  const version = parseGoVersion(text);
  if (!version) throw new UsageError('BAD_VERSION', `${JSON.stringify(text)} is not a Go release version (like go1.21.0 or go1.22rc1)`);
  return version;
}

/** Orders versions like go/version.Compare: beta < rc < release within a minor line. */
export function compareGoVersions(a: GoVersion, b: GoVersion): number {
  if (a.minor !== b.minor) return a.minor - b.minor;
  const rank = (v: GoVersion) => (v.prerelease ? (v.prerelease.kind === 'beta' ? 0 : 1) : 2);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a.prerelease && b.prerelease) return a.prerelease.number - b.prerelease.number;
  return a.patch - b.patch;
}

/**
 * Whether make.bash -distpack exists and reproduces the published files: go1.21.0 and later (including
 * go1.21 release candidates, the first that distpack built). Earlier versions are "not reproducible by
 * distpack" and are refused by build, skipped by plan.
 */
export function isDistpackVersion(version: GoVersion): boolean {
  return version.minor >= 21;
}

/** Plain releases (no rc/beta) from go1.21.0 on: what `plan` schedules. */
export function isPlannedVersion(version: GoVersion): boolean {
  return isDistpackVersion(version) && !version.prerelease;
}

/** gorebuild's BootstrapVersion (golang/build cmd/gorebuild/build.go): the minor line a version's bootstrap comes from. */
export function bootstrapMinor(version: GoVersion): number | undefined {
  if (version.minor < 5) return undefined;
  if (version.minor < 20) return 4;
  if (version.minor < 22) return 17;
  // for i := 24; ; i += 2 { if version < go1.i { return go1.(i-4) } }
  for (let i = 24; ; i += 2) if (version.minor < i) return i - 4;
}

export interface Target {
  readonly goos: string;
  readonly goarch: string;
}

const PORT_WORD = /^[a-z0-9]{1,16}$/;

export function parseTarget(text: string): Target {
  const [goos, goarch, extra] = text.split('/');
  if (extra !== undefined || !goos || !goarch || !PORT_WORD.test(goos) || !PORT_WORD.test(goarch)) {
    throw new UsageError('BAD_TARGET', `${JSON.stringify(text)} is not a target GOOS/GOARCH (like linux/amd64)`);
  }
  return { goos, goarch };
}

export function formatTarget(target: Target): string {
  return `${target.goos}/${target.goarch}`;
}

// The GOOS values of `go tool dist list` that get no toolchain distribution: Go's release tooling builds
// every listed port except these (golang/build internal/releasetargets/releasetargets.go, unbuildableOSs,
// applied in TargetsForGo1Point), so golang.org/toolchain has no module version for them.
const NO_TOOLCHAIN_GOOS: ReadonlySet<string> = new Set(['android', 'ios', 'js', 'wasip1']);

/** Whether Go's release publishes a toolchain (archive and golang.org/toolchain module) for this port. */
export function hasPublishedToolchain(target: Target): boolean {
  return !NO_TOOLCHAIN_GOOS.has(target.goos);
}

/** The ports Go treats as first class (go.dev/wiki/PortingPolicy#first-class-ports): the default `plan` targets. */
export const FIRST_CLASS_TARGETS: readonly Target[] = [
  'darwin/amd64',
  'darwin/arm64',
  'linux/386',
  'linux/amd64',
  'linux/arm',
  'linux/arm64',
  'windows/386',
  'windows/amd64',
].map(parseTarget);

// `go tool dist list` of the releases distpack builds, as each tag's src/cmd/dist/build.go says (the keys
// of cgoEnabled minus broken; read from the Go repository's tags go1.21rc1 ... go1.23.2 with
// portsFromSourceTree in plan.ts): the same within a minor line, and only growing.
const GO121_PORTS = [
  'aix/ppc64', 'android/386', 'android/amd64', 'android/arm', 'android/arm64', 'darwin/amd64', 'darwin/arm64',
  'dragonfly/amd64', 'freebsd/386', 'freebsd/amd64', 'freebsd/arm', 'freebsd/arm64', 'freebsd/riscv64',
  'illumos/amd64', 'ios/amd64', 'ios/arm64', 'js/wasm', 'linux/386', 'linux/amd64', 'linux/arm', 'linux/arm64',
  'linux/loong64', 'linux/mips', 'linux/mips64', 'linux/mips64le', 'linux/mipsle', 'linux/ppc64', 'linux/ppc64le',
  'linux/riscv64', 'linux/s390x', 'netbsd/386', 'netbsd/amd64', 'netbsd/arm', 'netbsd/arm64', 'openbsd/386',
  'openbsd/amd64', 'openbsd/arm', 'openbsd/arm64', 'plan9/386', 'plan9/amd64', 'plan9/arm', 'solaris/amd64',
  'wasip1/wasm', 'windows/386', 'windows/amd64', 'windows/arm', 'windows/arm64',
];
const KNOWN_PORTS: ReadonlyMap<number, ReadonlySet<string>> = new Map([
  [21, new Set(GO121_PORTS)],
  [22, new Set([...GO121_PORTS, 'openbsd/ppc64'])],
  [23, new Set([...GO121_PORTS, 'openbsd/ppc64', 'openbsd/riscv64'])],
]);

/**
 * Whether `target` is a port of `version` by the table above: true or false for go1.21–go1.23, undefined
 * for minor lines the table does not cover (the release's own src/cmd/dist/build.go decides those; build
 * reads it from the repository).
 */
export function isKnownPort(version: GoVersion, target: Target): boolean | undefined {
  return KNOWN_PORTS.get(version.minor)?.has(formatTarget(target));
}

/**
 * The ports of `version`'s minor line that Go publishes a toolchain for (the table above, filtered by
 * hasPublishedToolchain), sorted; undefined for minor lines the table does not cover.
 */
export function publishedPortsOf(version: GoVersion): Target[] | undefined {
  const ports = version.major === 1 ? KNOWN_PORTS.get(version.minor) : undefined;
  return ports && [...ports].sort().map(parseTarget).filter(hasPublishedToolchain);
}

/**
 * Environment beyond GOOS/GOARCH that the published build of `target` used. linux/arm: GOARM=6 from
 * go1.21.1 on; go1.21.0 and its release candidates were built with the default GOARM=7 (golang/go#62164,
 * gorebuild's special case from golang/go#62514).
 */
export function extraEnvironment(version: GoVersion, target: Target): Record<string, string> {
  if (target.goos === 'linux' && target.goarch === 'arm') {
    const beforeFix = version.minor === 21 && (version.prerelease !== undefined || version.patch === 0);
    return beforeFix || version.minor < 21 ? {} : { GOARM: '6' };
  }
  return {};
}

/** The files make.bash -distpack writes to pkg/distpack (cmd/distpack). */
export function distpackFileNames(version: string, target: Target): { source: string; archive: string; module: string } {
  const platform = `${target.goos}-${target.goarch}`;
  const archive = `${version}.${platform}.${target.goos === 'windows' ? 'zip' : 'tar.gz'}`;
  return { source: `${version}.src.tar.gz`, archive, module: `v0.0.1-${version}.${platform}` };
}

/** go.dev/dl publishes linux-arm archives as linux-armv6l; module zips keep linux-arm. */
export function publishedArchiveName(archive: string): string {
  return archive.replace(/\.linux-arm\.tar\.gz$/, '.linux-armv6l.tar.gz');
}

/** The golang.org/toolchain module version for a release and target: v0.0.1-go1.21.0.linux-amd64. */
export function toolchainModuleVersion(version: string, target: Target): string {
  return `v0.0.1-${version}.${target.goos}-${target.goarch}`;
}
