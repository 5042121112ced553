#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/Targets/ into Fuzz/.build/<name>.
#
# Each target is one module (SSEKeeperCoreFuzz) compiled from every SSEKeeperCore source (a snapshot copied to
# Fuzz/.build/src), the shared helpers of Fuzz/Support/ and one file Fuzz/Targets/<name>.swift, with libFuzzer
# and AddressSanitizer. Internal core symbols are visible (same module), so nothing needs @testable.
#
# Usage: Fuzz/build.sh [TARGET...]    (default: every target; builds run in parallel, FUZZ_JOBS at a time)
# Environment: SWIFTC (default swiftc), FUZZ_OPT (default -O; -Onone for a debug build), FUZZ_JOBS (default nproc).
set -euo pipefail
shopt -s globstar nullglob

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$fuzz_dir/.." && pwd)"
out="$fuzz_dir/.build"
swiftc="${SWIFTC:-swiftc}"
opt="${FUZZ_OPT:--O}"
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# Every target is built from one snapshot of the core sources, taken now: the targets agree with each other
# even if Sources/ is edited while they compile (swiftc also refuses inputs modified during a build).
[ -d "$root/Sources/SSEKeeperCore" ] || { echo "build.sh: no Sources/SSEKeeperCore" >&2; exit 2; }
rm -rf "$out/src"
mkdir -p "$out/src"
cp -R "$root/Sources/SSEKeeperCore" "$out/src/SSEKeeperCore"
# The sse_tracker and ride_through targets check streams against the test suite's WHATWG client model: one
# model, compiled into each (it imports nothing).
spec_parser="$root/Tests/SSEKeeperCoreTests/SSE/SpecEventStreamParser.swift"
[ -f "$spec_parser" ] || { echo "build.sh: no $spec_parser" >&2; exit 2; }
cp "$spec_parser" "$out/src/SpecEventStreamParser.swift"
core=("$out"/src/SSEKeeperCore/**/*.swift)
support=("$fuzz_dir"/Support/*.swift)
if [ ${#core[@]} -eq 0 ]; then echo "build.sh: no sources under Sources/SSEKeeperCore" >&2; exit 2; fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for file in "$fuzz_dir"/Targets/*.swift; do targets+=("$(basename "$file" .swift)"); done
fi

mkdir -p "$out/logs"
build_one() {
    local name="$1" started=$SECONDS
    local source="$fuzz_dir/Targets/$name.swift"
    [ -f "$source" ] || { echo "build.sh: no target $source" >&2; touch "$out/logs/$name.failed"; return 1; }
    rm -f "$out/$name" "$out/logs/$name.failed"
    local extra=()
    case "$name" in sse_tracker|ride_through) extra=("$out/src/SpecEventStreamParser.swift") ;; esac
    # -use-ld=lld: gold warns about every ASan helper symbol. Each target gets its own module cache dir so
    # parallel builds do not race on it.
    if "$swiftc" -sanitize=fuzzer,address -parse-as-library "$opt" -g \
        -module-name SSEKeeperCoreFuzz -use-ld=lld \
        -module-cache-path "$out/module-cache/$name" \
        "${core[@]}" "${support[@]}" "${extra[@]}" "$source" \
        -o "$out/$name" >"$out/logs/$name.log" 2>&1; then
        echo "built $name in $((SECONDS - started))s"
    else
        echo "FAILED to build $name ($((SECONDS - started))s), log $out/logs/$name.log:" >&2
        tail -n 40 "$out/logs/$name.log" >&2
        touch "$out/logs/$name.failed"
        return 1
    fi
}

started=$SECONDS
for name in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    build_one "$name" &
done
wait
failed=0
for name in "${targets[@]}"; do
    if [ -e "$out/logs/$name.failed" ] || [ ! -x "$out/$name" ]; then failed=1; fi
done
echo "build: ${#targets[@]} target(s) in $((SECONDS - started))s with $opt, $jobs job(s)"
exit "$failed"
