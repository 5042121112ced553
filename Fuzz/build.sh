#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/Targets/ into Fuzz/.build/<name>.
#
# Two steps, both with libFuzzer + AddressSanitizer instrumentation (-sanitize=fuzzer,address) and FUZZ_OPT:
#   1. the core, once: every SSEKeeperCore source (a snapshot copied to Fuzz/.build/src) compiled whole-module
#      with -enable-testing into the static library Fuzz/.build/core/libSSEKeeperCoreFuzz.a and the module
#      SSEKeeperCoreFuzz;
#   2. each target: Fuzz/Targets/<name>.swift, the shared helpers of Fuzz/Support/ and, when the target names it,
#      the test suite's SpecEventStreamParser.swift, compiled as one small module against that library and linked
#      with libFuzzer's main. Only the target defines LLVMFuzzerTestOneInput.
# The target and Support files are compiled from copies that begin with `@testable import SSEKeeperCoreFuzz`
# (followed by a #sourceLocation line, so diagnostics and crash reports name the original file and line): the
# sources themselves import nothing, and internal core symbols stay reachable. Support is compiled into each
# target rather than into the core so its generic and @inline(__always) helpers are optimised with the target.
#
# Usage: Fuzz/build.sh [TARGET...]    (default: every target; target builds run in parallel, FUZZ_JOBS at a time)
# Environment: SWIFTC (default swiftc), FUZZ_OPT (default -O; -Onone for a debug build), FUZZ_JOBS (default nproc).
set -euo pipefail
shopt -s globstar nullglob

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$fuzz_dir/.." && pwd)"
out="$fuzz_dir/.build"
swiftc="${SWIFTC:-swiftc}"
opt="${FUZZ_OPT:--O}"
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
core_module=SSEKeeperCoreFuzz
# Flags every compile shares: the instrumentation, the optimisation level, debug info for readable stacks.
# -use-ld=lld: gold warns about every ASan helper symbol.
common=(-sanitize=fuzzer,address -parse-as-library "$opt" -g -use-ld=lld)

# Every target is built from one snapshot of the sources, taken now: the targets agree with each other even if
# Sources/ is edited while they compile (swiftc also refuses inputs modified during a build).
[ -d "$root/Sources/SSEKeeperCore" ] || { echo "build.sh: no Sources/SSEKeeperCore" >&2; exit 2; }
rm -rf "$out/src" "$out/core"
mkdir -p "$out/src" "$out/core" "$out/logs"
cp -R "$root/Sources/SSEKeeperCore" "$out/src/SSEKeeperCore"
# The sse_tracker and ride_through targets check streams against the test suite's WHATWG client model: one
# model (it imports nothing), compiled into each target whose source names it.
spec_parser="$root/Tests/SSEKeeperCoreTests/SSE/SpecEventStreamParser.swift"
[ -f "$spec_parser" ] || { echo "build.sh: no $spec_parser" >&2; exit 2; }
cp "$spec_parser" "$out/src/SpecEventStreamParser.swift"
core=("$out"/src/SSEKeeperCore/**/*.swift)
if [ ${#core[@]} -eq 0 ]; then echo "build.sh: no sources under Sources/SSEKeeperCore" >&2; exit 2; fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for file in "$fuzz_dir"/Targets/*.swift; do targets+=("$(basename "$file" .swift)"); done
fi

# Writes a copy of $1 to $2 that imports the core module first, with line numbers still those of $1.
with_core_import() {
    { printf '@testable import %s\n#sourceLocation(file: "%s", line: 1)\n' "$core_module" "$1"; cat "$1"; } >"$2"
}

# Step 1: the core, once. Whole-module, its LLVM work split over FUZZ_JOBS threads.
started=$SECONDS
if (cd "$out/core" && "$swiftc" "${common[@]}" -enable-testing -whole-module-optimization -num-threads "$jobs" \
    -module-name "$core_module" -module-cache-path "$out/module-cache/core" \
    -emit-module -emit-module-path "$out/core/$core_module.swiftmodule" \
    -emit-library -static -o "$out/core/lib$core_module.a" \
    "${core[@]}") >"$out/logs/core.log" 2>&1; then
    echo "built core ($core_module, ${#core[@]} files) in $((SECONDS - started))s"
else
    echo "FAILED to build the core ($((SECONDS - started))s), log $out/logs/core.log:" >&2
    tail -n 40 "$out/logs/core.log" >&2
    exit 1
fi

# Step 2: each target against the core.
build_one() {
    local name="$1" started=$SECONDS
    local source="$fuzz_dir/Targets/$name.swift" dir="$out/src/targets/$name"
    [ -f "$source" ] || { echo "build.sh: no target $source" >&2; touch "$out/logs/$name.failed"; return 1; }
    rm -rf "$out/$name" "$out/logs/$name.failed" "$dir"
    mkdir -p "$dir"
    local inputs=() file
    with_core_import "$source" "$dir/$name.swift"
    inputs+=("$dir/$name.swift")
    for file in "$fuzz_dir"/Support/*.swift; do
        with_core_import "$file" "$dir/$(basename "$file")"
        inputs+=("$dir/$(basename "$file")")
    done
    if grep -q 'SpecEventStreamParser' "$source"; then inputs+=("$out/src/SpecEventStreamParser.swift"); fi
    # Each target gets its own module cache dir so parallel builds do not race on it, and compiles in its own
    # directory: swiftc may leave module files in the working directory.
    if (cd "$dir" && "$swiftc" "${common[@]}" -whole-module-optimization -module-name "FuzzTarget_$name" \
        -module-cache-path "$out/module-cache/$name" -I "$out/core" \
        "${inputs[@]}" "$out/core/lib$core_module.a" \
        -o "$out/$name") >"$out/logs/$name.log" 2>&1; then
        echo "built $name in $((SECONDS - started))s"
    else
        echo "FAILED to build $name ($((SECONDS - started))s), log $out/logs/$name.log:" >&2
        tail -n 40 "$out/logs/$name.log" >&2
        touch "$out/logs/$name.failed"
        return 1
    fi
}

for name in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
    build_one "$name" &
done
wait
failed=0
for name in "${targets[@]}"; do
    if [ -e "$out/logs/$name.failed" ] || [ ! -x "$out/$name" ]; then failed=1; fi
done
echo "build: core and ${#targets[@]} target(s) in $((SECONDS - started))s with $opt, $jobs job(s)"
exit "$failed"
