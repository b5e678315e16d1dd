// Shared host: build the host toolchain of a release once, then each target from a copy of it.
//
// make.bash runs `cmd/dist bootstrap -a -distpack` (src/make.bash, src/cmd/dist/build.go cmdbootstrap at
// the release's tag). For a cross target that is, in order:
//
//   host phases   toolchain1 (the bootstrap go builds cmd/asm, cgo, compile, link), go_bootstrap (dist
//                 builds cmd/go), toolchain2 and toolchain3 (go_bootstrap rebuilds the toolchain), then
//                 "Building commands for host": go_bootstrap install cmd for GOHOSTOS/GOHOSTARCH
//   target phase  "Building packages and commands for target, GOOS/GOARCH.": go_bootstrap install std,
//                 go_bootstrap install cmd (toolenv), five staleness checks, rm go_bootstrap, the exec
//                 wrapper (android, ios), pkg/tool/<host>/distpack
//
// Nothing of the host phases depends on the target's GOOS/GOARCH: dist switches GOOS/GOARCH to the host
// before go_bootstrap and back only for the target phase, and the files it generates (zbootstrap.go,
// zdefaultcc.go, zcgo.go, zversion.go) take defaultGOOS/defaultGOARCH from runtime.GOOS/GOARCH. What they
// do take is GO386, GOAMD64, GOARM, GOMIPS, GOMIPS64, GOPPC64 (mkbuildcfg in buildruntime.go writes them
// into src/internal/buildcfg/zbootstrap.go, which every toolchain binary compiles in and the archives
// carry): so one host state serves every target that has the same such settings (the "host key").
//
// The host phases run as a real make.bash -distpack with GOOS=linux GOARCH=wasm: dist accepts each word
// (okgoos, okgoarch) but the pair is no port, so go_bootstrap refuses it at the first step of the target
// phase ("unsupported GOOS/GOARCH pair"), and dist stops there. What dist's exit handlers remove then
// (pkg/obj: the build cache and dist's own objects; pkg/bootstrap; its work folder) the target phase does
// not read; go_bootstrap, which only dist's success path removes, stays. The target phase is then what
// cmdbootstrap runs after its "target toolchain" timelog, command by command, with the environment dist
// gives those commands (computed below from xinit, cmdbootstrap and make.bash). The equivalence with a
// full make.bash is proved byte for byte by test/shared-host-real.test.ts and `npm run bench -- shared-host`.
import { createHash } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import { hashRegularFile } from './distpack.js';
import { formatTarget, type GoVersion, type Target } from '../release/target.js';

/** The pair the host phases run with: both words valid for cmd/dist, the pair no port of any release. */
export const HOST_PHASE_TARGET: Target = { goos: 'linux', goarch: 'wasm' };

/** The settings mkbuildcfg writes into zbootstrap.go (src/cmd/dist/buildruntime.go), with xinit's defaults. */
const BUILDCFG_DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ['GO386', 'sse2'],
  ['GOAMD64', 'v1'],
  ['GOARM', '7'],
  ['GOMIPS', 'hardfloat'],
  ['GOMIPS64', 'hardfloat'],
  ['GOPPC64', 'power8'],
];

/**
 * Whether the fast path reproduces this version's cmd/dist: go1.21 (its cmdbootstrap, xinit and make.bash
 * as read at go1.21.0 and unchanged to go1.21.13). Later lines changed dist's environment (GOARM64,
 * GORISCV64, GOPROXY=off; no GOROOT_FINAL) and are built the full way until proved.
 */
export function supportsSharedHost(version: GoVersion): boolean {
  return version.minor === 21;
}

/** The machine's GOHOSTOS/GOHOSTARCH as cmd/dist finds them (only the hosts builds run on). */
export function hostTarget(platform: string = process.platform, arch: string = process.arch): Target | undefined {
  const goarch = ({ x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' } as Record<string, string>)[arch];
  if (platform !== 'linux' || !goarch) return undefined;
  return { goos: 'linux', goarch };
}

/**
 * The host key of a target's extra environment: the mkbuildcfg settings it sets (GOARM=6), which the
 * host state depends on. Targets with the same key share a host state. "" when none is set.
 */
export function hostKey(extra: Readonly<Record<string, string>>): string {
  return BUILDCFG_DEFAULTS.filter(([name]) => extra[name] !== undefined)
    .map(([name]) => `${name}=${extra[name]}`)
    .join(' ');
}

/** One command of the target phase, as cmd/dist runs it. */
export interface TargetStep {
  /** What the log shows before it. */
  readonly title: string;
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** A staleness check: its output must not hold "\tSTALE " (checkNotStale). */
  readonly staleCheck?: boolean;
  /** cmd/distpack, the phase's last command (dist prints "Packaging archives for ..." before it). */
  readonly packaging?: boolean;
}

/** mustLinkExternal(goos, goarch, false) of src/cmd/dist/build.go (go1.21). */
function mustLinkExternalWithoutCgo(target: Target): boolean {
  if (target.goos === 'android') return target.goarch !== 'arm64';
  if (target.goos === 'ios') return target.goarch === 'arm64';
  return false;
}

/** toolenv() of src/cmd/dist/build.go for a release: how dist builds cmd. */
export function toolEnvironment(target: Target): Record<string, string> {
  return {
    ...(mustLinkExternalWithoutCgo(target) ? {} : { CGO_ENABLED: '0' }),
    GOFLAGS: '-trimpath -ldflags=-w -gcflags=cmd/...=-dwarf=false',
  };
}

/**
 * The environment cmd/dist's target phase runs its commands in, for a make.bash started with `base`
 * (the scrubbed environment of make.ts, with the target's GOOS/GOARCH and extra settings) in `goroot`:
 *   make.bash: exports GOROOT; `eval $(dist env -p)` re-assigns the exported GOOS, GOARCH (and GOARM etc.
 *     when set) to the same values, prepends $GOROOT/bin to PATH and exports DIST_UNMODIFIED_PATH (the
 *     other variables it prints are not exported, so they do not reach dist);
 *   dist main: TERM=dumb; xinit: GO386 ... GOPPC64 (the environment's or the defaults), GOARCH, GOOS,
 *     GOHOSTARCH, GOHOSTOS, GOROOT, GOROOT_FINAL, GOBIN, LANG=C, LANGUAGE=en_US.UTF8, GOENV=off,
 *     GOWORK=off, no GO111MODULE, no GOFLAGS;
 *   cmdbootstrap: GOPATH=$GOROOT/pkg/obj/gopath, GOCACHE=$GOROOT/pkg/obj/go-build (kept: a release has
 *     a VERSION file), GOEXPERIMENT (the environment's, "" if none), CC for the target ("" without cgo:
 *     compilerEnvLookup when needCC is false).
 */
export function distEnvironment(options: { base: Readonly<Record<string, string>>; goroot: string; target: Target; host: Target }): Record<string, string> {
  const { base, goroot, target, host } = options;
  const env: Record<string, string> = { ...base };
  for (const name of ['GO111MODULE', 'GOFLAGS']) delete env[name];
  const basePath = base.PATH ?? '';
  Object.assign(env, {
    GOROOT: goroot,
    PATH: `${goroot}/bin:${basePath}`,
    DIST_UNMODIFIED_PATH: basePath,
    TERM: 'dumb',
  });
  for (const [name, fallback] of BUILDCFG_DEFAULTS) env[name] = base[name] || fallback;
  Object.assign(env, {
    GOARCH: target.goarch,
    GOHOSTARCH: host.goarch,
    GOHOSTOS: host.goos,
    GOOS: target.goos,
    GOROOT_FINAL: base.GOROOT_FINAL || goroot,
    GOBIN: `${goroot}/bin`,
    LANG: 'C',
    LANGUAGE: 'en_US.UTF8',
    GOENV: 'off',
    GOWORK: 'off',
    GOPATH: `${goroot}/pkg/obj/gopath`,
    GOCACHE: `${goroot}/pkg/obj/go-build`,
    GOEXPERIMENT: base.GOEXPERIMENT ?? '',
    CC: '',
  });
  return env;
}

const STALE_FORMAT = '-f={{if .Stale}}\tSTALE {{.ImportPath}}: {{.StaleReason}}{{end}}';

/** The wrapper dist builds for targets that run through an exec helper (wrapperPathFor). */
function wrapperPath(goroot: string, target: Target, host: Target): string | undefined {
  if (target.goos === 'android' && host.goos !== 'android') return `${goroot}/misc/go_android_exec/main.go`;
  if (target.goos === 'ios' && host.goos !== 'ios') return `${goroot}/misc/ios/go_ios_exec.go`;
  return undefined;
}

/**
 * The commands of cmdbootstrap after "Building packages and commands for target" (go1.21), in order.
 * `workdir` is dist's work folder (xworkdir: a folder in $TMPDIR holding go.mod "module bootstrap"; it is
 * the main module of every go_bootstrap command, which is why cmd binaries built this way carry
 * DefaultGODEBUG=panicnil=1 and `bin/go install cmd` in a finished tree gives other bytes).
 */
export function targetPhaseSteps(options: { base: Readonly<Record<string, string>>; goroot: string; target: Target; host: Target; workdir: string }): TargetStep[] {
  const { goroot, target, host, workdir } = options;
  if (formatTarget(target) === formatTarget(host)) throw new EnvironmentError('SHARED_HOST_NATIVE', `${formatTarget(target)} is the host: its make.bash has no separate target phase`);
  const env = distEnvironment(options);
  const tool = { ...env, ...toolEnvironment(target) };
  const tooldir = `${goroot}/pkg/tool/${host.goos}_${host.goarch}`;
  const goBootstrap = `${tooldir}/go_bootstrap`;
  const goBin = `${goroot}/bin/go`;
  const src = `${goroot}/src`;
  const steps: TargetStep[] = [
    { title: 'go_bootstrap install std', argv: [goBootstrap, 'install', 'std'], env, cwd: workdir },
    { title: 'go_bootstrap install cmd', argv: [goBootstrap, 'install', 'cmd'], env: tool, cwd: workdir },
    { title: 'checkNotStale go_bootstrap toolchain', argv: [goBootstrap, 'list', STALE_FORMAT, 'cmd/asm', 'cmd/cgo', 'cmd/compile', 'cmd/link'], env: tool, cwd: workdir, staleCheck: true },
    { title: 'checkNotStale go_bootstrap std', argv: [goBootstrap, 'list', STALE_FORMAT, 'std'], env, cwd: workdir, staleCheck: true },
    { title: 'checkNotStale go_bootstrap cmd', argv: [goBootstrap, 'list', STALE_FORMAT, 'cmd'], env: tool, cwd: workdir, staleCheck: true },
    { title: 'checkNotStale bin/go std', argv: [goBin, 'list', STALE_FORMAT, 'std'], env, cwd: workdir, staleCheck: true },
    { title: 'checkNotStale bin/go cmd', argv: [goBin, 'list', STALE_FORMAT, 'cmd'], env: tool, cwd: workdir, staleCheck: true },
    { title: 'rm go_bootstrap', argv: ['/bin/rm', '-f', goBootstrap], env, cwd: src },
  ];
  const wrapper = wrapperPath(goroot, target, host);
  if (wrapper) {
    const exe = target.goos === 'windows' ? '.exe' : '';
    steps.push({
      title: 'exec wrapper',
      argv: [goBin, 'build', '-o', `${goroot}/bin/go_${target.goos}_${target.goarch}_exec${exe}`, wrapper],
      env: { ...env, GOOS: host.goos, GOARCH: host.goarch, CC: '' },
      cwd: workdir,
    });
  }
  steps.push({ title: `Packaging archives for ${formatTarget(target)}.`, argv: [`${tooldir}/distpack`], env, cwd: src, packaging: true });
  return steps;
}

/**
 * Why the host phases' make.bash did not stop where it must (after "Building commands for host" and at
 * go_bootstrap's refusal of the host-phase pair), or undefined when it did.
 */
export function hostPhaseProblem(output: string, host: Target): string | undefined {
  const lines = output.split('\n');
  // dist prints the host's pair here (it has switched GOOS/GOARCH to the host), the target's next.
  const hostLine = `Building commands for host, ${formatTarget(host)}.`;
  const targetLine = `Building packages and commands for target, ${formatTarget(HOST_PHASE_TARGET)}.`;
  const hostAt = lines.indexOf(hostLine);
  const targetAt = lines.indexOf(targetLine);
  if (hostAt < 0 || targetAt < hostAt) return `make.bash did not reach the host commands and the target phase (no "${targetLine}")`;
  const after = lines.slice(targetAt + 1).join('\n');
  const failed = new RegExp(`FAILED: \\S*/pkg/tool/${host.goos}_${host.goarch}/go_bootstrap install std: exit status`);
  if (!/unsupported GOOS\/GOARCH pair linux\/wasm/.test(after) || !failed.test(after)) {
    return 'make.bash did not stop at go_bootstrap install std refusing linux/wasm';
  }
  return undefined;
}

/**
 * The content hash of a host state, links not followed: "sha256:" and the SHA-256 of its manifest, one
 * line per entry in byte order of the path, `<f|x> <sha256 of content> <path>` for a regular file
 * (x: executable by its owner), `l <link target> <path>` for a link, `d - <path>` for a folder. Anything
 * else (FIFO, socket, device) is refused.
 */
export async function hashHostState(dir: string): Promise<string> {
  const lines: string[] = [];
  const files: { line: number; file: string; rel: string }[] = [];
  // The type of each entry from readdir (d_type; Node lstats where the file system gives none), the
  // mode of each file from the fstat of the descriptor hashRegularFile reads: no lstat per entry (it
  // was half of the time on a 13,000-entry state).
  const walk = async (full: string, name: string): Promise<void> => {
    const entries = (await readdir(full, { withFileTypes: true })).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const entry of entries) {
      const child = path.join(full, entry.name);
      const rel = name ? `${name}/${entry.name}` : entry.name;
      if (entry.isSymbolicLink()) lines.push(`l ${await readlink(child)} ${rel}`);
      else if (entry.isDirectory()) {
        lines.push(`d - ${rel}`);
        await walk(child, rel);
      } else if (entry.isFile()) {
        files.push({ line: lines.length, file: child, rel });
        lines.push('');
      }
      else throw new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${rel} in the host state is neither a file, a folder nor a link: refusing to use it`);
    }
  };
  await walk(dir, '');
  // hashRegularFile opens with O_NOFOLLOW and refuses anything but a regular file: an entry swapped
  // since the listing is refused, never followed.
  for (const { line, file, rel } of files) {
    const { sha256, mode } = await hashRegularFile(file).catch((error: unknown) => {
      if (error instanceof EnvironmentError && error.code === 'NOT_A_FILE') throw new EnvironmentError('UNSAFE_BUILD_OUTPUT', `${rel} in the host state changed while it was hashed: refusing to use it`, { cause: error });
      throw error;
    });
    lines[line] = `${mode & 0o100 ? 'x' : 'f'} ${sha256} ${rel}`;
  }
  return `sha256:${createHash('sha256').update(`${lines.join('\n')}\n`).digest('hex')}`;
}
