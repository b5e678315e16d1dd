// A small Go-like git repository for the build tests: release tags, each commit with a VERSION file, a
// few source files (src/cmd/dist/build.go with the cgoEnabled and broken port maps `plan --all-ports`
// reads) and a stand-in src/make.bash that behaves like Go's where the witness can see it:
//
//   - it must be run from $GOROOT/src (like make.bash) and needs $GOROOT_BOOTSTRAP/bin/go, of a new
//     enough minor version for the release (gorebuild's BootstrapVersion rule: go1.21 needs go1.17,
//     go1.22 needs go1.20), else it fails like make.bash does;
//   - it "builds" $GOROOT/bin/go (a shell script printing `go version <VERSION> <goos>/<goarch>`) and
//     pkg/tool/<goos>_<goarch>/compile, and a generated file cmd/distpack leaves out of the source
//     archive; so the GOROOT it leaves is usable as a bootstrap toolchain;
//   - with -distpack it writes pkg/distpack exactly as cmd/distpack names its files: <v>.src.tar.gz,
//     <v>.<goos>-<goarch>.tar.gz (.zip for windows), v0.0.1-<v>.<goos>-<goarch>.{zip,mod,info}, with
//     cmd/distpack's exclusions and file modes (written independently of src/rebuild/source-check.ts, from
//     src/cmd/distpack/pack.go), deterministically, and with contents that depend on GOOS, GOARCH and
//     GOARM. Archives are made by python3 (Debian CI installs it; see .ci/run).
//
// Per release, a mode changes what make.bash does (FixtureMode). The `hostile` modes play an untrusted
// make.bash trying to reach the signing key: everything it finds goes into its distpack output (a LEAK
// file) and the build log, for the test to search.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DIST_FIXTURE_PACKER, distStandInMakeBash } from './dist-fixture.js';
import { tempDir } from './fixtures.js';

/**
 * What the stand-in make.bash does for a release:
 *   ok         builds and packs, deterministically
 *   fail       prints a compiler error and exits 2
 *   empty      succeeds with -distpack but writes no distpack file
 *   random     packs binaries with a random nonce (two builds differ: a reproducibility failure)
 *   badsource  a source tarball that differs from the git tree (an extra file, a wrong mode)
 *   garbled    fails like `fail`, its last output lines holding control characters (colour escapes, a
 *              tab, a carriage return) and trailing blanks, as compilers and progress meters print
 *   hostile    looks for secrets (environment, /proc of its ancestors, the files and folders named in
 *              src/hostile-paths.txt), tries to create a file in those folders, and packs what it found
 *   symlink    hostile, from a tree that holds src/hostile-link, a symbolic link to the secret file
 *              named by `hostile.linkTarget`; it reads the secret through the link, and plants another
 *              link to it in pkg/distpack
 *   daemon     ok, but leaves a background process holding its output open for DAEMON_SECONDS
 *   escape     ok, but first it starts (setsid, its own session and process group) a process named
 *              escape-<hostile.marker> that outlives make.bash for ESCAPE_SECONDS: it appends TAMPERED to
 *              every pkg/distpack file, every 50 ms from 0.5 s after make.bash exited, and from its exit on swaps folders of the tree
 *              (src/zz/z, in this target's tree and in those beside it) for links
 *              to the first of the hostile paths (rename and RENAME_EXCHANGE), hoping the witness walks
 *              (rm, chown) follow them
 *   network    hostile, and tries to connect to 127.0.0.1:<hostile.port> (bash /dev/tcp) and to resolve
 *              a name
 *   dist       shaped like cmd/dist's bootstrap for a cross target (dist-fixture.ts): host phases, then the
 *              target phase through a go_bootstrap stand-in; packs with the `ok` stand-in
 *   handshake  ok, but once started it creates $HOME/handshake-started (HOME is in the work tree) and
 *              waits (up to 60 s) for $HOME/handshake-go before it builds: the test can act meanwhile
 */
export type FixtureMode = 'ok' | 'fail' | 'garbled' | 'empty' | 'random' | 'badsource' | 'hostile' | 'symlink' | 'daemon' | 'handshake' | 'escape' | 'network' | 'dist';

/** How long the `escape` mode's process tries to outlive make.bash. */
export const ESCAPE_SECONDS = 8;

/** What the hostile modes go after. */
export interface HostileTargets {
  /** Files and folders to read and write (src/hostile-paths.txt): a key file, the log folder, ... */
  readonly paths: readonly string[];
  /** An absolute path the `symlink` mode's tree links to (src/hostile-link). */
  readonly linkTarget?: string;
  /** A loopback port the `network` mode tries to reach (src/hostile-port.txt). */
  readonly port?: number;
  /** The `escape` mode's process calls itself escape-<marker> (src/hostile-marker.txt). */
  readonly marker?: string;
}

export interface FixtureRelease {
  /** The tag, e.g. go1.21.0; its VERSION file says the same. */
  readonly version: string;
  readonly mode?: FixtureMode;
  /** An annotated tag (else lightweight). */
  readonly annotated?: boolean;
}

/** How long the `daemon` mode's background process keeps make.bash's output open. */
export const DAEMON_SECONDS = 8;

/** go1.20.14 (a bootstrap, not reproducible by distpack), go1.21.0, go1.21.1 (annotated), go1.22.0. */
export const STANDARD_RELEASES: readonly FixtureRelease[] = [
  { version: 'go1.20.14' },
  { version: 'go1.21.0' },
  { version: 'go1.21.1', annotated: true },
  { version: 'go1.22.0' },
];

export interface GoRepo {
  readonly dir: string;
  /** Per tag: the tag object (the commit for lightweight tags), its commit and tree. */
  readonly tags: Map<string, { object: string; commit: string; tree: string }>;
}

/** The release's time, as the second line of VERSION says (cmd/distpack stamps archives with it). */
export function releaseTime(version: string): string {
  const minor = Number(/^go1\.([0-9]+)/.exec(version)?.[1] ?? 0);
  const patch = Number(/^go1\.[0-9]+\.([0-9]+)$/.exec(version)?.[1] ?? 0);
  const day = String(1 + (patch % 28)).padStart(2, '0');
  return `${2000 + minor}-02-${day}T12:34:56Z`;
}

/** The minor version make.bash of `version` wants as GOROOT_BOOTSTRAP at least (BootstrapVersion). */
export function bootstrapMinorFor(version: string): number {
  const minor = Number(/^go1\.([0-9]+)/.exec(version)?.[1] ?? 0);
  if (minor < 20) return 4;
  if (minor < 22) return 17;
  for (let i = 24; ; i += 2) if (minor < i) return i - 4;
}

function minorOf(version: string): number {
  return Number(/^go1\.([0-9]+)/.exec(version)?.[1] ?? 0);
}

const FIXED_DATE = '2024-01-02T03:04:05Z';

function gitIn(cwd: string, args: readonly string[], date = FIXED_DATE): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Gopher',
      GIT_AUTHOR_EMAIL: 'gopher@example.com',
      GIT_COMMITTER_NAME: 'Gopher',
      GIT_COMMITTER_EMAIL: 'gopher@example.com',
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_DATE: date,
      GIT_CONFIG_NOSYSTEM: '1',
    },
  });
}

/**
 * A temporary folder others may enter (mode 0755): when the tests run as root, builds run as `nobody`,
 * which must reach GOROOT_BOOTSTRAP and the bootstrap output folder (tempDir's folders are 0700).
 */
export function worldTempDir(prefix = 'witness-world-'): string {
  const dir = tempDir(prefix);
  chmodSync(dir, 0o755);
  return dir;
}

function write(root: string, name: string, content: string, mode = 0o644): void {
  const file = path.join(root, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
}

function buildGo(version: string): string {
  const minor = Number(/^go1\.([0-9]+)/.exec(version)?.[1] ?? 0);
  const extra = minor >= 22 ? '\t"wasip1/wasm":    false,\n' : '';
  return `// Copyright 2012 The Go Authors. All rights reserved.
// (test fixture: the port maps of src/cmd/dist/build.go)

package main

// The known architectures.
var okgoarch = []string{"386", "amd64", "arm", "arm64", "sparc64", "wasm"}

// cgoEnabled records the ports that support cgo; its keys are every port (go tool dist list).
var cgoEnabled = map[string]bool{
\t"darwin/amd64":   true,
\t"darwin/arm64":   true,
\t"freebsd/amd64":  true,
\t"linux/386":      true,
\t"linux/amd64":    true,
\t"linux/arm":      true,
\t"linux/arm64":    true,
\t"linux/sparc64":  true,
${extra}\t"windows/386":    false,
\t"windows/amd64":  true,
}

// List of platforms that are marked as broken ports.
// These require -force flag to build, and also
// get filtered out of cgoEnabled for 'dist list'.
// See go.dev/issue/56679.
var broken = map[string]bool{
\t"linux/sparc64": true, // An incomplete port. See CL 132155.
}

var firstClass = map[string]bool{
\t"darwin/amd64":  true,
\t"linux/amd64":   true,
}
`;
}

/** The stand-in make.bash for a release in `mode`. */
export function standInMakeBash(version: string, mode: FixtureMode): string {
  return `#!/usr/bin/env bash
# Stand-in for Go's src/make.bash (a go-source-witness test fixture, not Go's script).
set -euo pipefail
FIXTURE_MODE='${mode}'
BOOTSTRAP_MINOR=${bootstrapMinorFor(version)}

if [ ! -f run.bash ]; then
	echo 'make.bash must be run from $GOROOT/src' >&2
	exit 1
fi
distpack=false
for arg in "$@"; do
	case "$arg" in
	-distpack) distpack=true ;;
	*) echo "usage: make.bash [-distpack]" >&2; exit 2 ;;
	esac
done
GOROOT=$(cd .. && pwd)
VERSION=$(head -n 1 ../VERSION)
if [ -z "\${GOROOT_BOOTSTRAP:-}" ] || [ ! -x "$GOROOT_BOOTSTRAP/bin/go" ]; then
	echo "ERROR: Cannot find \${GOROOT_BOOTSTRAP:-}/bin/go." >&2
	echo "Set \\$GOROOT_BOOTSTRAP to a working Go tree >= Go 1.$BOOTSTRAP_MINOR." >&2
	exit 1
fi
bootstrap_version=$("$GOROOT_BOOTSTRAP/bin/go" version)
echo "Building Go cmd/dist using $GOROOT_BOOTSTRAP. (\${bootstrap_version#go version })"
bootstrap_minor=$(printf '%s\\n' "$bootstrap_version" | sed -n 's/^go version go1\\.\\([0-9]*\\).*/\\1/p')
if [ -z "$bootstrap_minor" ] || [ "$bootstrap_minor" -lt "$BOOTSTRAP_MINOR" ]; then
	echo "ERROR: $bootstrap_version is too old: $VERSION needs Go 1.$BOOTSTRAP_MINOR or newer as GOROOT_BOOTSTRAP" >&2
	exit 1
fi
goos=\${GOOS:-linux}
goarch=\${GOARCH:-amd64}
echo "fixture: id uid=$(id -u) gid=$(id -g) groups=$(id -G | tr ' ' ',')"
echo "fixture: environment $(env | sed 's/=.*//' | sort | tr '\\n' ' ')"
echo "fixture: target $goos/$goarch GOARM=\${GOARM:-}"

hostile() {
	echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"
	echo "--- environment"
	env
	echo "--- key-like variables"
	env | grep -E 'KEY|TOKEN|SECRET|PASSWORD' || true
	echo "--- processes"
	local pid=$PPID i
	for i in 1 2 3 4 5 6 7 8; do
		[ -n "$pid" ] && [ "$pid" != 0 ] || break
		echo "pid $pid cmdline: $(tr '\\0' ' ' < /proc/$pid/cmdline 2>&1 || true)"
		echo "pid $pid environ:"
		tr '\\0' '\\n' < /proc/$pid/environ 2>&1 || true
		echo "pid $pid fds: $(ls -l /proc/$pid/fd 2>&1 | head -n 20 | tr '\\n' ' ' || true)"
		pid=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$pid/status 2>/dev/null || true)
	done
	echo "--- pid 1"
	echo "pid 1 cmdline: $(tr '\\0' ' ' < /proc/1/cmdline 2>&1 || true)"
	echo "pid 1 environ:"
	tr '\\0' '\\n' < /proc/1/environ 2>&1 || true
	echo "--- /tmp"
	ls -la /tmp 2>&1 | head -n 50 || true
	echo "--- files"
	local target
	while IFS= read -r target; do
		[ -n "$target" ] || continue
		echo "path $target:"
		ls -la "$target" 2>&1 || true
		if [ -d "$target" ]; then
			find "$target" -maxdepth 2 -type f -print -exec cat {} \\; 2>&1 | head -c 65536 || true
			echo hostile > "$target/HOSTILE-WAS-HERE" 2>&1 || true
		else
			cat "$target" 2>&1 || true
			if [ -w "$target" ]; then echo "writable: $target"; fi
		fi
	done < hostile-paths.txt
}

case "$FIXTURE_MODE" in
fail)
	echo "# runtime"
	echo "runtime/proc.go:42:1: internal compiler error: failing on purpose" >&2
	exit 2
	;;
garbled)
	printf 'gcc: \\033[01;31m\\033[Kerror:\\033[m\\033[K unrecognized option\\t-mfoo   \\n' >&2
	printf 'progress 10%%\\rprogress 100%% \\n' >&2
	exit 2
	;;
symlink)
	{ echo "--- through src/hostile-link"; ls -laL hostile-link 2>&1; cat hostile-link 2>&1; } > "$TMPDIR/link.txt" 2>&1 || true
	hostile > "$TMPDIR/leak.txt" 2>&1 || true
	cat "$TMPDIR/link.txt" >> "$TMPDIR/leak.txt"
	echo "--- hostile: what make.bash found"
	cat "$TMPDIR/leak.txt"
	;;
hostile)
	hostile > "$TMPDIR/leak.txt" 2>&1 || true
	echo "--- hostile: what make.bash found"
	cat "$TMPDIR/leak.txt"
	;;
daemon)
	# A background process that outlives make.bash and keeps its stdout and stderr open.
	( sleep ${DAEMON_SECONDS}; echo "fixture: daemon done" ) &
	;;
escape)
	marker=$(cat hostile-marker.txt)
	first=$(head -n 1 hostile-paths.txt)
	mkdir -p "$HOME/zz"
	echo "fixture: escape: starting escape-$marker"
	setsid python3 - "$first" "$GOROOT" "$HOME" ${ESCAPE_SECONDS} "escape-$marker" "$$" <<'PYTHON' > /dev/null 2>&1 &
import ctypes, os, sys, time
os.setsid() if os.getsid(0) != os.getpid() else None
target, goroot, home, seconds, name, make = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5], sys.argv[6]
try:
    ctypes.CDLL(None).prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
except Exception:
    pass
sys.argv[0] = name
libc = ctypes.CDLL(None, use_errno=True)
def exchange(a, b):  # renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE)
    return libc.renameat2(-100, a.encode(), -100, b.encode(), 2)
distpack = os.path.join(goroot, 'pkg', 'distpack')
end = time.time() + seconds
last = 0.0
gone = None
while time.time() < end:
    # Its own tree, and the trees of other builds beside it (the witness's next target, say).
    parent = os.path.dirname(os.path.dirname(goroot))
    try:
        others = [os.path.join(parent, n, 'go', 'src', 'zz', 'z') for n in os.listdir(parent) if n.startswith('witness-build-')]
    except OSError:
        others = []
    if gone is None and not os.path.exists('/proc/' + make):
        gone = time.time()
    if gone is None:
        time.sleep(0.002)
        continue
    for i, folder in enumerate([os.path.join(home, 'zz'), os.path.join(goroot, 'src', 'zz', 'z')] + others):
        link = os.path.join(home, 'swap-%d' % i)
        try:
            if not os.path.lexists(link):
                os.symlink(target, link)
            exchange(folder, link)
        except OSError:
            pass
    # Half a second after make.bash is gone (the witness is hashing, or has hashed): rewrite the
    # outputs, again and again. (Before that, the files are the build's output, whatever they hold.)
    if time.time() - gone > 0.5 and time.time() - last > 0.05:
        last = time.time()
        try:
            for entry in os.listdir(distpack):
                with open(os.path.join(distpack, entry), 'ab') as f:
                    f.write(b'TAMPERED')
        except OSError:
            pass
    time.sleep(0.002)
PYTHON
	escaped=$!
	sleep 0.3
	if kill -0 "$escaped" 2>/dev/null; then echo "fixture: escape: escape-$marker is running (pid $escaped)"; fi
	;;
network)
	port=$(cat hostile-port.txt)
	{
		echo "--- network"
		if (exec 3<>"/dev/tcp/127.0.0.1/$port" && echo "hello from make.bash" >&3) 2>&1; then echo "CONNECTED to 127.0.0.1:$port"; else echo "no connection to 127.0.0.1:$port"; fi
		getent hosts localhost 2>&1 || echo "no name resolution"
		ip -o addr 2>&1 || cat /proc/net/dev 2>&1 || true
	} > "$TMPDIR/net.txt" 2>&1
	hostile > "$TMPDIR/leak.txt" 2>&1 || true
	cat "$TMPDIR/net.txt" >> "$TMPDIR/leak.txt"
	echo "--- hostile: what make.bash found"
	cat "$TMPDIR/leak.txt"
	;;
handshake)
	# Through its own HOME (inside the work tree): the only folder the sandbox shares with the witness.
	: > "$HOME/handshake-started"
	for _ in $(seq 1 600); do
		if [ -e "$HOME/handshake-go" ]; then break; fi
		sleep 0.1
	done
	;;
esac

echo "Building Go toolchain1 using $GOROOT_BOOTSTRAP."
exe=
if [ "$goos" = windows ]; then exe=.exe; fi
mkdir -p ../bin "../pkg/tool/\${goos}_\${goarch}" runtime/internal/sys
nonce=
if [ "$FIXTURE_MODE" = random ]; then nonce="# nonce $RANDOM$RANDOM$RANDOM$RANDOM"; fi
# A trojan in the bootstrap's go command copies itself into every go command it builds (Thompson's
# attack, played by a root toolchain): it reaches every release built from that root.
trojan=$(grep '^# trojan ' "$GOROOT_BOOTSTRAP/bin/go" || true)
# Before go1.21, a toolchain's bytes depend on the toolchain that built it (as Go's did).
depends=
if [ ${minorOf(version)} -lt 21 ]; then
	depends="# built by $(cat "$GOROOT_BOOTSTRAP/bin/go" "$GOROOT_BOOTSTRAP"/pkg/tool/*/* | sha256sum | cut -c1-16)"
fi
cat > "../bin/go$exe" <<EOF
#!/bin/sh
# The go command (stand-in) built by the fixture's make.bash.
# GOOS=$goos GOARCH=$goarch GOARM=\${GOARM:-}
$nonce
$trojan
$depends
echo "go version $VERSION $goos/$goarch"
EOF
chmod 0755 "../bin/go$exe"
printf 'compile %s %s/%s %s\\n' "$VERSION" "$goos" "$goarch" "\${GOARM:-}" > "../pkg/tool/\${goos}_\${goarch}/compile$exe"
chmod 0755 "../pkg/tool/\${goos}_\${goarch}/compile$exe"
printf 'package sys\\n\\nconst TheVersion = "%s"\\n' "$VERSION" > runtime/internal/sys/zversion.go
echo "Building packages and commands for $goos/$goarch."
if ! $distpack; then
	echo "---"
	echo "Installed Go for $goos/$goarch in $GOROOT"
	exit 0
fi
echo "Packaging archives for $goos/$goarch."
mkdir -p ../pkg/distpack
if [ "$FIXTURE_MODE" = empty ]; then
	echo "fixture: writing no distpack file"
	exit 0
fi
python3 - "$GOROOT" "$VERSION" "$goos" "$goarch" "$FIXTURE_MODE" <<'PYTHON'
import calendar, gzip, hashlib, io, os, sys, tarfile, time, zipfile
from fnmatch import fnmatchcase

goroot, version, goos, goarch, mode = sys.argv[1:]
lines = open(os.path.join(goroot, 'VERSION'), encoding='utf-8').read().split('\\n')
stamp = next((line[5:] for line in lines[1:] if line.startswith('time ')), '2023-01-01T00:00:00Z')
mtime = calendar.timegm(time.strptime(stamp, '%Y-%m-%dT%H:%M:%SZ'))

def amatch(pattern, name):
    # cmd/distpack amatch: path.Match per component, ** for any number of components.
    def match(p, n):
        if not p:
            return not n
        if p[0] == '**':
            return any(match(p[1:], n[i:]) for i in range(len(n) + 1))
        return bool(n) and fnmatchcase(n[0], p[0]) and match(p[1:], n[1:])
    return match(pattern.split('/'), name.split('/'))

# src/cmd/distpack/pack.go: removed from every archive, from the source archive, from binary archives.
REMOVE_ALL = ['.git/**', '.gitattributes', '.github/**', '.gitignore', 'VERSION.cache', 'misc/cgo/*/_obj/**', '**/.DS_Store', '**/*.exe~']
REMOVE_SOURCE = ['bin/**', 'pkg/**', 'src/cmd/dist/dist', 'src/cmd/dist/dist.exe',
    'src/cmd/go/internal/cfg/zdefaultcc.go', 'src/go/build/zcgo.go', 'src/runtime/internal/sys/zversion.go',
    'src/time/tzdata/zzipdata.go', 'src/cmd/cgo/zdefaultcc.go', 'src/cmd/internal/objabi/zbootstrap.go',
    'src/internal/buildcfg/zbootstrap.go', 'src/cmd/go/internal/cfg/zosarch.go']
REMOVE_BINARY = ['pkg/distpack/**', 'pkg/obj/**', 'src/cmd/dist/dist']

def mode_of(name):
    # pack.go mode(): archives do not keep file modes, they are given by name.
    if (name.startswith('bin/') or name.startswith('pkg/tool/') or name.endswith(('.bash', '.sh', '.pl', '.rc'))
            or amatch('**/go_?*_?*_exec', name)):
        return 0o755
    return 0o644

def walk():
    names = []
    for dirpath, dirnames, filenames in os.walk(goroot):
        rel = os.path.relpath(dirpath, goroot)
        keep = []
        for d in dirnames:
            (filenames if os.path.islink(os.path.join(dirpath, d)) else keep).append(d)
        dirnames[:] = keep
        names += [f if rel == '.' else rel + '/' + f for f in filenames]
    return sorted(names)

def entries(names, remove):
    out = []
    for name in names:
        if any(amatch(p, name) for p in remove):
            continue
        full = os.path.join(goroot, name)
        if os.path.islink(full):
            out.append((name, None, os.readlink(full)))
        else:
            with open(full, 'rb') as f:
                out.append((name, f.read(), None))
    return out

def tar_gz(items, prefix):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode='w', format=tarfile.PAX_FORMAT) as tar:
        for name, data, link, fmode in items:
            info = tarfile.TarInfo(prefix + name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, '', ''
            if link is not None:
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, link, 0o777
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), fmode
                tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename='', mode='wb', fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()

def zip_bytes(items, prefix):
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w') as z:
        for name, data, link, fmode in items:
            info = zipfile.ZipInfo(prefix + name, date_time=time.gmtime(max(mtime, 315532800))[:6])
            info.compress_type, info.create_system = zipfile.ZIP_DEFLATED, 3
            info.external_attr = ((0o120000 | 0o777) if link is not None else (0o100000 | fmode)) << 16
            z.writestr(info, link.encode() if link is not None else data)
    return out.getvalue()

names = walk()
source = [(n, d, l, mode_of(n)) for n, d, l in entries(names, REMOVE_ALL + REMOVE_SOURCE)]
if mode == 'badsource':
    source = [(n, d, l, 0o755 if n == 'README.md' else m) for n, d, l, m in source]
    source.append(('NOT-IN-GIT.txt', b'added by the build\\n', None, 0o644))
    source.sort()
binary = [(n, d, l, mode_of(n)) for n, d, l in entries(names, REMOVE_ALL + REMOVE_BINARY)]
platform = goos + '-' + goarch
module = 'v0.0.1-' + version + '.' + platform
files = {
    version + '.src.tar.gz': tar_gz(source, 'go/'),
    version + '.' + platform + ('.zip' if goos == 'windows' else '.tar.gz'):
        zip_bytes(binary, 'go/') if goos == 'windows' else tar_gz(binary, 'go/'),
    module + '.zip': zip_bytes([i for i in binary if i[2] is None], 'golang.org/toolchain@' + module + '/'),
    module + '.mod': b'module golang.org/toolchain\\n',
    module + '.info': ('{"Version":"%s","Time":"%s"}\\n' % (module, stamp)).encode(),
}
out = os.path.join(goroot, 'pkg', 'distpack')
for name in sorted(files):
    with open(os.path.join(out, name), 'wb') as f:
        f.write(files[name])
    print('distpack: %s %s' % (hashlib.sha256(files[name]).hexdigest()[:16], name))
PYTHON
case "$FIXTURE_MODE" in
hostile | symlink | network)
	cp "$TMPDIR/leak.txt" ../pkg/distpack/LEAK
	;;
esac
if [ "$FIXTURE_MODE" = symlink ]; then
	ln -s "$(readlink hostile-link)" ../pkg/distpack/LEAK-link
fi
echo "---"
echo "Installed Go for $goos/$goarch in $GOROOT"
`;
}

function writeRelease(dir: string, release: FixtureRelease, hostile: HostileTargets | undefined): void {
  const { version } = release;
  write(dir, 'VERSION', `${version}\ntime ${releaseTime(version)}\n`);
  write(dir, 'README.md', `# The Go Programming Language (test fixture at ${version})\n`);
  write(dir, '.gitignore', 'bin/\npkg/\n');
  write(dir, '.github/SUPPORT.md', 'Not part of any archive.\n');
  if (release.mode === 'dist') {
    write(dir, 'src/make.bash', distStandInMakeBash(), 0o755);
    write(dir, DIST_FIXTURE_PACKER, standInMakeBash(version, 'ok'), 0o755);
  } else {
    write(dir, 'src/make.bash', standInMakeBash(version, release.mode ?? 'ok'), 0o755);
    rmSync(path.join(dir, DIST_FIXTURE_PACKER), { force: true });
  }
  write(dir, 'src/run.bash', '#!/usr/bin/env bash\necho "run.bash: nothing to test in the fixture"\n', 0o755);
  write(dir, 'src/cmd/dist/build.go', buildGo(version));
  write(dir, 'src/runtime/proc.go', `package runtime\n\n// Gosched yields the processor (${version}).\nfunc Gosched() {}\n`);
  write(dir, 'src/cmd/go/testdata/script/version.txt', `go version\nstdout ${version}\n`);
  // A file git marks executable that cmd/distpack packs as 0644 (its name matches no rule), and one the
  // go_*_*_exec rule makes 0755.
  write(dir, 'src/cmd/go/testdata/executable.txt', 'mode 755 in git\n', 0o755);
  write(dir, 'misc/wasm/go_js_wasm_exec', '#!/usr/bin/env bash\nexec node "$@"\n', 0o755);
  write(dir, 'lib/time/update.bash', '#!/bin/bash\necho update\n', 0o644);
  if (hostile) write(dir, 'src/hostile-paths.txt', `${hostile.paths.join('\n')}\n`);
  // The escape mode swaps this folder (in its own tree and in the next target's) for a link.
  if (release.mode === 'escape') write(dir, 'src/zz/z/keep.txt', 'a folder for the escape mode to swap\n');
  if (hostile?.port !== undefined) write(dir, 'src/hostile-port.txt', `${hostile.port}\n`);
  if (hostile?.marker !== undefined) write(dir, 'src/hostile-marker.txt', `${hostile.marker}\n`);
  const link = path.join(dir, 'src/hostile-link');
  rmSync(link, { force: true });
  if (release.mode === 'symlink') {
    if (!hostile?.linkTarget) throw new Error('fixture: the symlink mode needs hostile.linkTarget');
    symlinkSync(hostile.linkTarget, link);
  }
}

function resolveTag(dir: string, version: string): { object: string; commit: string; tree: string } {
  const rev = (r: string) => gitIn(dir, ['rev-parse', '--verify', '--quiet', r]).trim();
  return { object: rev(`refs/tags/${version}`), commit: rev(`refs/tags/${version}^{commit}`), tree: rev(`refs/tags/${version}^{tree}`) };
}

/** Commits `release` on top of HEAD and tags it. */
export function addRelease(repo: GoRepo, release: FixtureRelease, hostile?: HostileTargets): void {
  writeRelease(repo.dir, release, hostile);
  gitIn(repo.dir, ['add', '--all']);
  gitIn(repo.dir, ['commit', '--quiet', '--allow-empty', '-m', `[release-branch] ${release.version}`]);
  if (release.annotated) gitIn(repo.dir, ['tag', '-a', '-m', `Go ${release.version.slice(2)}`, release.version]);
  else gitIn(repo.dir, ['tag', release.version]);
  repo.tags.set(release.version, resolveTag(repo.dir, release.version));
}

/**
 * A Go-like repository with `releases` (default STANDARD_RELEASES) tagged one after another. `hostile`
 * paths are written to src/hostile-paths.txt in every commit: what the hostile modes go after.
 */
export function makeGoRepo(options: { releases?: readonly FixtureRelease[]; hostile?: HostileTargets; parent?: string } = {}): GoRepo {
  const dir = path.join(options.parent ?? tempDir('witness-go-'), 'go');
  mkdirSync(dir, { recursive: true });
  gitIn(dir, ['init', '--quiet', '--initial-branch=master']);
  gitIn(dir, ['config', 'core.fileMode', 'true']);
  // A symbolic link in the tree (source archives carry it as a link).
  mkdirSync(path.join(dir, 'misc'), { recursive: true });
  symlinkSync('../README.md', path.join(dir, 'misc/README.link'));
  const repo: GoRepo = { dir, tags: new Map() };
  for (const release of options.releases ?? STANDARD_RELEASES) addRelease(repo, release, options.hostile);
  return repo;
}

/**
 * Moves an existing tag to a new commit on top of the one it names (one source file changed), as a
 * `git tag -f` after a force-push would; returns the new commit. The work tree is back on master after.
 */
export function moveTag(repo: GoRepo, version: string): string {
  gitIn(repo.dir, ['checkout', '--quiet', '--detach', `refs/tags/${version}^{commit}`]);
  try {
    write(repo.dir, 'src/runtime/proc.go', `package runtime\n\n// Gosched, changed after ${version} was recorded.\nfunc Gosched() {}\n`);
    gitIn(repo.dir, ['add', '--all']);
    gitIn(repo.dir, ['commit', '--quiet', '-m', `moving ${version}`], '2024-02-03T04:05:06Z');
    gitIn(repo.dir, ['tag', '-f', version]);
  } finally {
    gitIn(repo.dir, ['checkout', '--quiet', 'master']);
  }
  repo.tags.set(version, resolveTag(repo.dir, version));
  return repo.tags.get(version)!.commit;
}

/**
 * A root toolchain like Debian's /usr/lib/go-1.19: VERSION, an executable bin/go printing `go version
 * <version> linux/amd64`, and src as a symbolic link into a share folder beside it. In a folder others may
 * enter, so that a build running as nobody can use it.
 */
export function makeRootToolchain(version = 'go1.19.8', parent = worldTempDir('witness-root-go-'), options: { trojan?: string } = {}): string {
  const goroot = path.join(parent, `go-${version.slice(2)}`);
  const share = path.join(parent, 'share', `go-${version.slice(2)}`);
  write(share, 'src/runtime/proc.go', `package runtime // ${version}\n`);
  write(goroot, 'VERSION', `${version}\ntime 2023-04-04T00:00:00Z\n`);
  write(goroot, 'bin/go', `#!/bin/sh\n${options.trojan ? `# trojan ${options.trojan}\n` : ''}echo "go version ${version} linux/amd64"\n`, 0o755);
  write(goroot, 'pkg/tool/linux_amd64/compile', 'compile\n', 0o755);
  symlinkSync(path.relative(goroot, path.join(share, 'src')), path.join(goroot, 'src'));
  for (const dir of [parent, path.join(parent, 'share'), share, path.join(share, 'src'), path.join(share, 'src/runtime'), goroot, path.join(goroot, 'bin'), path.join(goroot, 'pkg'), path.join(goroot, 'pkg/tool'), path.join(goroot, 'pkg/tool/linux_amd64')]) {
    chmodSync(dir, 0o755);
  }
  return goroot;
}

/** What the fake go1.4 of release-branch.go1.4 calls itself (its VERSION file), like Go's. */
export const GO14_VERSION = 'go1.4-bootstrap-20170531';

/**
 * The stand-in for go1.4's src/make.bash: like Go's, it builds from C with $CC (refusing anything but
 * CGO_ENABLED=0, a compiler under /usr and no GOROOT_BOOTSTRAP), here one small C program whose binary
 * becomes the "compiler" pkg/tool/linux_amd64/6g, so that the GOROOT's bytes depend on the C compiler as
 * Go 1.4's do; bin/go prints `go version go1.4-bootstrap-20170531 linux/amd64` (and fails, as Go 1.4's
 * does, when the GOROOT_FINAL baked into it is gone).
 */
function go14MakeBash(): string {
  return `#!/usr/bin/env bash
# Stand-in for go1.4's src/make.bash (a go-source-witness test fixture, not Go's script).
set -euo pipefail
if [ ! -f run.bash ]; then
	echo 'make.bash must be run from $GOROOT/src' >&2
	exit 1
fi
if [ -n "\${GOROOT_BOOTSTRAP:-}" ]; then
	echo "fixture: go1.4 is built from C; GOROOT_BOOTSTRAP=$GOROOT_BOOTSTRAP must not be set" >&2
	exit 1
fi
if [ "\${CGO_ENABLED:-}" != 0 ]; then
	echo "fixture: CGO_ENABLED=\${CGO_ENABLED:-} (want 0)" >&2
	exit 1
fi
case "\${CC:-}" in
/usr/*) ;;
*) echo "fixture: CC=\${CC:-} is not a C compiler under /usr" >&2; exit 1 ;;
esac
echo '# Building C bootstrap tool.'
echo cmd/dist
echo "fixture: CC=$CC: $("$CC" --version | head -n 1)"
GOROOT=$(cd .. && pwd)
VERSION=$(head -n 1 ../VERSION)
"$CC" -O2 -Wall -Werror -o cmd/dist/dist cmd/dist/dist.c
mkdir -p ../bin ../pkg/tool/linux_amd64
echo "# Building compilers and Go bootstrap tool for host, linux/amd64."
mv cmd/dist/dist ../pkg/tool/linux_amd64/6g
../pkg/tool/linux_amd64/6g > ../pkg/tool/linux_amd64/6g.txt
# Like go1.4's, the go command has GOROOT_FINAL (default: where it was built) baked in, and fails when
# that folder is gone.
final=\${GOROOT_FINAL:-$GOROOT}
printf '#!/bin/sh\\nif [ ! -d "%s" ]; then echo "go: cannot find GOROOT directory: %s" >&2; exit 2; fi\\necho "go version %s linux/amd64"\\n' "$final" "$final" "$VERSION" > ../bin/go
chmod 0755 ../bin/go
echo "Installed Go for linux/amd64 in $GOROOT"
`;
}

/**
 * Adds the branch release-branch.go1.4 (its own history, as in Go's repository): VERSION
 * go1.4-bootstrap-20170531, the C stand-in make.bash, a C source printing `note`. A second call moves its
 * head (a new commit on the branch). Returns the head's commit and tree. The work tree is back on master.
 */
export function addGo14Branch(repo: GoRepo, note = 'all: fixes for modern compilers'): { commit: string; tree: string } {
  const branch = 'release-branch.go1.4';
  const exists = gitIn(repo.dir, ['branch', '--list', branch]).trim() !== '';
  if (exists) gitIn(repo.dir, ['checkout', '--quiet', branch]);
  else {
    gitIn(repo.dir, ['checkout', '--quiet', '--orphan', branch]);
    gitIn(repo.dir, ['rm', '-r', '--quiet', '--force', '.']);
  }
  try {
    write(repo.dir, 'VERSION', `${GO14_VERSION}\n`);
    write(repo.dir, 'README', 'This is the source code repository for the Go programming language (test fixture at go1.4).\n');
    write(repo.dir, 'src/make.bash', go14MakeBash(), 0o755);
    write(repo.dir, 'src/run.bash', '#!/usr/bin/env bash\necho "run.bash: nothing to test"\n', 0o755);
    const words = note.replace(/[^A-Za-z0-9 .:,-]/g, '');
    write(repo.dir, 'src/cmd/dist/dist.c', `// Stand-in for cmd/dist (test fixture).\n#include <stdio.h>\n\nint main(void) {\n\tputs("6g: ${words}");\n\treturn 0;\n}\n`);
    gitIn(repo.dir, ['add', '--all']);
    gitIn(repo.dir, ['commit', '--quiet', '-m', `[release-branch.go1.4] ${note}`], exists ? '2024-03-04T05:06:07Z' : '2023-07-31T16:30:43Z');
  } finally {
    gitIn(repo.dir, ['checkout', '--quiet', '--force', 'master']);
  }
  const rev = (r: string) => gitIn(repo.dir, ['rev-parse', '--verify', '--quiet', r]).trim();
  return { commit: rev(`refs/heads/${branch}^{commit}`), tree: rev(`refs/heads/${branch}^{tree}`) };
}

/** Whether this process is root (builds then run as nobody). */
export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}
