// A stand-in make.bash shaped like cmd/dist's cmdbootstrap for a cross target (src/cmd/dist/build.go at
// go1.21.0), for the shared-host tests (src/rebuild/shared-host.ts): host phases (it prints their lines,
// makes pkg/tool/linux_amd64 with a go_bootstrap and a distpack stand-in, and the host's commands), then
// "Building packages and commands for target", where it runs go_bootstrap install std and install cmd in
// a go-tool-dist-* work folder holding go.mod "module bootstrap", in the environment dist gives them;
// on failure it removes pkg/obj and its work folder like dist's exit handlers. The go_bootstrap stand-in
// refuses linux/wasm like cmd/go, and records what it was run with (arguments, its folder's go.mod, its
// whole environment, paths of the work tree replaced) in pkg/tool/<goos>_<goarch>/installed.txt, which
// the archives carry: a target phase run differently from make.bash's gives other bytes. Its distpack
// stand-in packs with the ordinary stand-in (fixture-pack.bash, go-fixture.ts mode ok). The host is
// linux/amd64; a linux/amd64 target is packed by fixture-pack.bash alone.
export const DIST_FIXTURE_PACKER = 'src/fixture-pack.bash';

export function distStandInMakeBash(): string {
  return `#!/usr/bin/env bash
# Stand-in for Go's src/make.bash shaped like cmd/dist bootstrap (a go-source-witness test fixture).
set -euo pipefail
if [ ! -f run.bash ]; then echo 'make.bash must be run from $GOROOT/src' >&2; exit 1; fi
goos=\${GOOS:-linux}
goarch=\${GOARCH:-amd64}
if [ "$goos/$goarch" = linux/amd64 ]; then exec bash fixture-pack.bash "$@"; fi
GOROOT=$(cd .. && pwd)
tooldir=$GOROOT/pkg/tool/linux_amd64
echo "Building Go cmd/dist using $GOROOT_BOOTSTRAP."
mkdir -p "$tooldir" ../bin ../pkg/obj/go-build "../pkg/\${goos}_\${goarch}"
echo "Building Go toolchain1 using $GOROOT_BOOTSTRAP."
mkdir -p internal/buildcfg
printf 'package buildcfg\\nconst defaultGOARM = \`%s\`\\n' "\${GOARM:-7}" > internal/buildcfg/zbootstrap.go
cat > "$tooldir/go_bootstrap" <<'GOBOOTSTRAP'
#!/usr/bin/env bash
set -eu
if [ "$GOOS/$GOARCH" = linux/wasm ]; then echo "cmd/go: unsupported GOOS/GOARCH pair $GOOS/$GOARCH" >&2; exit 2; fi
if [ "$1" = list ]; then exit 0; fi
out=$GOROOT/pkg/tool/\${GOOS}_\${GOARCH}
mkdir -p "$out"
{
	echo "go_bootstrap $*"
	cat go.mod; echo
	env | grep -v -e '^PWD=' -e '^SHLVL=' -e '^_=' -e '^OLDPWD=' | sed -e "s|$GOROOT|<goroot>|g" -e "s|$HOME|<home>|g" -e "s|$TMPDIR|<tmp>|g" | LC_ALL=C sort
} >> "$out/installed.txt"
GOBOOTSTRAP
cat > "$tooldir/distpack" <<'DISTPACK'
#!/usr/bin/env bash
exec bash "$GOROOT/src/fixture-pack.bash" -distpack
DISTPACK
chmod 0755 "$tooldir/go_bootstrap" "$tooldir/distpack"
echo "Building Go bootstrap cmd/go (go_bootstrap) using Go toolchain1."
echo "Building Go toolchain2 using go_bootstrap and Go toolchain1."
echo "Building Go toolchain3 using go_bootstrap and Go toolchain2."
echo "Building commands for host, linux/amd64."
printf '#!/bin/sh\\n# host go %s\\nexit 0\\n' "$(head -n 1 ../VERSION)" > ../bin/go
printf 'host compile\\n' > "$tooldir/compile"
chmod 0755 ../bin/go "$tooldir/compile"
# The environment dist's target phase runs in (xinit, cmdbootstrap, make.bash's eval of dist env -p).
export DIST_UNMODIFIED_PATH=$PATH PATH=$GOROOT/bin:$PATH TERM=dumb
export GO386=\${GO386:-sse2} GOAMD64=\${GOAMD64:-v1} GOARM=\${GOARM:-7} GOMIPS=\${GOMIPS:-hardfloat} GOMIPS64=\${GOMIPS64:-hardfloat} GOPPC64=\${GOPPC64:-power8}
export GOOS=$goos GOARCH=$goarch GOHOSTOS=linux GOHOSTARCH=amd64 GOROOT GOROOT_FINAL=$GOROOT GOBIN=$GOROOT/bin
export LANG=C LANGUAGE=en_US.UTF8 GOENV=off GOWORK=off GOPATH=$GOROOT/pkg/obj/gopath GOCACHE=$GOROOT/pkg/obj/go-build GOEXPERIMENT= CC=
unset GO111MODULE GOFLAGS
work=$(mktemp -d "$TMPDIR/go-tool-dist-XXXXXX")
printf 'module bootstrap' > "$work/go.mod"
fail() { echo "go tool dist: FAILED: $1: exit status 2"; rm -rf ../pkg/obj "$work"; exit 2; }
echo "Building packages and commands for target, $goos/$goarch."
(cd "$work" && "$tooldir/go_bootstrap" install std) || fail "$tooldir/go_bootstrap install std"
(cd "$work" && CGO_ENABLED=0 GOFLAGS='-trimpath -ldflags=-w -gcflags=cmd/...=-dwarf=false' "$tooldir/go_bootstrap" install cmd) || fail "$tooldir/go_bootstrap install cmd"
rm -f "$tooldir/go_bootstrap"
"$tooldir/distpack"
rm -rf ../pkg/obj "$work"
`;
}
