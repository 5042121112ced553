#!/usr/bin/env bash
# Checks that a `swift build -c release --static-swift-stdlib` binary runs on a machine without the Swift
# toolchain: it links no Swift runtime library, and it serves the demo with an empty environment (no PATH,
# no LD_LIBRARY_PATH), so nothing of the toolchain can be found.
set -euo pipefail
binary=$(realpath "$1")
if ldd "$binary" | grep -Ei 'swift|dispatch|foundation|BlocksRuntime'; then
    echo "FAIL: $binary links Swift runtime libraries (above); build with --static-swift-stdlib"
    exit 1
fi
if readelf -d "$binary" | grep -Ei 'RPATH|RUNPATH' | grep -v '\[\$ORIGIN\]$'; then
    echo "FAIL: $binary carries a library search path into the toolchain (above)"
    exit 1
fi
version=$(env -i "$binary" --version)
echo "$version"
[[ $version == "ssekeeper "*"(build "*", release, "* ]] || { echo "FAIL: unexpected --version output"; exit 1; }
wrapper=$(mktemp)
trap 'rm -f "$wrapper"' EXIT
printf '#!/bin/sh\nexec env -i %q "$@"\n' "$binary" >"$wrapper"
chmod +x "$wrapper"
bash "$(dirname "$0")/demo-smoke.sh" "$wrapper" "static binary with an empty environment: the demo served an event and a heartbeat"
echo "static binary: ok (no Swift runtime linked, runs with an empty environment)"
