#!/usr/bin/env bash
# Prints the Actions cache key of the bootstrap chain that RELEASE needs, or nothing when the root
# toolchain (Debian's golang-1.19-go) builds it directly. The key names what the chain is made of: the
# root toolchain's Debian package version, and each step's tag, commit and tree as `witness bootstrap
# --dry-run` reads them from go.git (refused unless the witness log records the same tags). Every release
# of a release line (go1.N.x) needs the same chain, so the workflow computes one key per line.
#
# Usage (from the repository root, with go.git and npm ci done): .github/scripts/bootstrap-key.sh RELEASE
set -euo pipefail
release=${1:?usage: bootstrap-key.sh RELEASE}
plan=$(npx witness bootstrap "$release" --go-repo go.git --from /usr/lib/go-1.19 --out bootstrap --dry-run --json)
if [ "$(jq '.chain | length' <<<"$plan")" -eq 0 ]; then
  exit 0
fi
root=$(dpkg-query -W golang-1.19-go)
digest=$(printf '%s\n%s\n' "$root" "$(jq -c '.chain' <<<"$plan")" | sha256sum | cut -c1-40)
echo "bootstrap-$(jq -r '.chain | map(.version) | join("-")' <<<"$plan")-$digest"
