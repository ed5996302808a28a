#!/usr/bin/env bash
# Prints the path of the pinned SpiceDB server binary, building it first when the cache lacks it.
#
#   SPICEDB=$(scripts/spicedb-binary.sh)
#
# The version is the one tools/spicedb/go.mod pins. The binary lives in
# $KARTOGRAPH_SPICEDB_CACHE/<version>/spicedb (default .cache/spicedb, ignored by git) and is
# reused when `spicedb version` there names the pinned version. Progress goes to stderr, the path
# alone to stdout. A cold build downloads the modules and compiles for minutes; Go's own module
# and build caches make a rebuild on the same machine much faster.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module="$root/tools/spicedb"
version=$(awk '$1 == "github.com/authzed/spicedb" { print $2 }' "$module/go.mod")
go_needed=$(awk '$1 == "go" { print $2 }' "$module/go.mod")
cache=${KARTOGRAPH_SPICEDB_CACHE:-$root/.cache/spicedb}
binary="$cache/$version/spicedb"

say() { echo "spicedb-binary: $*" >&2; }

version_of() { "$1" version --skip-release-check 2>/dev/null | head -n 1 || true; }

if [[ -x $binary && "$(version_of "$binary")" == "spicedb $version" ]]; then
  say "SpiceDB $version: $binary"
  echo "$binary"
  exit 0
fi

if ! command -v go >/dev/null; then
  say "building SpiceDB $version needs the Go toolchain (go $go_needed or newer) on PATH"
  exit 1
fi
# Never fetch another toolchain behind the user's back: an older go fails here, with its reason.
export GOTOOLCHAIN=local

mkdir -p "$cache/$version"
partial="$cache/$version/spicedb.partial.$$"
started=$SECONDS
say "building SpiceDB $version with $(go env GOVERSION) into $binary"
say "a cold build (module downloads and compilation) takes 10 to 20 minutes on 2 cores; later builds reuse Go's caches"
# A line every 30 s, so that a long build does not look like a hang.
(while sleep 30; do say "still building ($((SECONDS - started)) s)"; done) &
heartbeat=$!
trap 'kill "$heartbeat" 2>/dev/null || true; rm -f "$partial"' EXIT

(cd "$module" && go build -trimpath -buildvcs=false -o "$partial" github.com/authzed/spicedb/cmd/spicedb)

built=$(version_of "$partial")
if [[ $built != "spicedb $version" ]]; then
  say "the build says \"$built\", not \"spicedb $version\"; refusing to cache it"
  exit 1
fi
mv -f "$partial" "$binary"
say "built SpiceDB $version in $((SECONDS - started)) s"
echo "$binary"
