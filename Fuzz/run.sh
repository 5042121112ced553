#!/usr/bin/env bash
# Builds every fuzz target, replays Fuzz/Regressions/<target>/, then fuzzes each target for SECONDS_PER_TARGET.
#
# Usage: Fuzz/run.sh [SECONDS_PER_TARGET]      (default 60)
# Environment:
#   FUZZ_TARGETS   space-separated targets to run (default: every file in Fuzz/Targets/)
#   FUZZ_JOBS      targets fuzzed (and built) at the same time, one core each (default: nproc)
#   FUZZ_SCRATCH   where new corpus entries go (default Fuzz/.build/corpus; the checked-in Fuzz/Corpus is
#                  only read)
#   FUZZ_NO_BUILD  set to 1 to reuse the binaries in Fuzz/.build
#   FUZZ_HEAD_ERRORS=status  head targets compare only the status of errors across splits (see FuzzSupport.swift)
#
# Per target: seeds from Fuzz/Corpus/<target>/, dictionary Fuzz/Dictionaries/<target>.dict when present,
# -max_len from the table below, -rss_limit_mb=2048, -timeout=10. A crash, leak, timeout or OOM input is
# written to Fuzz/artifacts/<target>/ and the libFuzzer log to Fuzz/.build/logs/run-<target>.log.
# Prints, per target, how long it ran, the executions and exec/s, and whether it crashed; exits 1 when any
# target crashed or a regression input still fails, 2 when the build fails.
set -uo pipefail
shopt -s nullglob

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
seconds="${1:-60}"
case "$seconds" in ''|*[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;; esac
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}"
scratch="${FUZZ_SCRATCH:-$fuzz_dir/.build/corpus}"
bin="$fuzz_dir/.build"
logs="$bin/logs"
started=$SECONDS
# Swift's own crash backtracer reads memory ASan treats as off limits and buries the report; libFuzzer's
# deadly-signal handler prints the stack instead.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"

if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<<"$FUZZ_TARGETS"
else
    targets=()
    for file in "$fuzz_dir"/Targets/*.swift; do targets+=("$(basename "$file" .swift)"); done
fi

max_len() {
    case "$1" in
        request_head|response_head|builders) echo 65536 ;;
        chunked_decoder) echo 16384 ;;
        request_body) echo 20480 ;;
        config) echo 16384 ;;
        sse_tracker) echo 8192 ;;
        ride_through) echo 16384 ;;
        h2_frames|h2_connection) echo 20480 ;;
        *) echo 4096 ;;
    esac
}

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    FUZZ_JOBS="$jobs" "$fuzz_dir/build.sh" "${targets[@]}" || { echo "run.sh: build failed" >&2; exit 2; }
fi
build_seconds=$((SECONDS - started))
mkdir -p "$logs" "$scratch" "$fuzz_dir/artifacts"

# Known crashers must not crash any more.
regression_failures=0
for name in "${targets[@]}"; do
    inputs=("$fuzz_dir/Regressions/$name"/*)
    [ ${#inputs[@]} -gt 0 ] || continue
    for input in "${inputs[@]}"; do
        if "$bin/$name" -runs=1 "$input" >"$logs/regression-$name-$(basename "$input").log" 2>&1; then
            echo "regression ok:     $name/$(basename "$input")"
        else
            echo "REGRESSION FAILS:  $name/$(basename "$input") (log $logs/regression-$name-$(basename "$input").log)"
            regression_failures=$((regression_failures + 1))
        fi
    done
done

fuzz_one() {
    local name="$1" t0=$SECONDS
    local corpus="$scratch/$name" artifacts="$fuzz_dir/artifacts/$name/" log="$logs/run-$name.log"
    local dict=() status
    mkdir -p "$corpus" "$artifacts"
    [ -f "$fuzz_dir/Dictionaries/$name.dict" ] && dict=("-dict=$fuzz_dir/Dictionaries/$name.dict")
    "$bin/$name" "$corpus" "$fuzz_dir/Corpus/$name" \
        -max_total_time="$seconds" -max_len="$(max_len "$name")" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$artifacts" -print_final_stats=1 "${dict[@]}" >"$log" 2>&1
    status=$?
    echo "$status $((SECONDS - t0))" >"$logs/run-$name.status"
}

for name in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    echo "fuzzing $name for ${seconds}s..."
    fuzz_one "$name" &
done
wait

crashed=0
printf '\n%-16s %8s %12s %9s %8s  %s\n' target ran_s execs exec/s corpus result
for name in "${targets[@]}"; do
    log="$logs/run-$name.log"
    read -r status ran <"$logs/run-$name.status"
    execs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | tail -n 1 | grep -o '[0-9]*$')
    rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | tail -n 1 | grep -o '[0-9]*$')
    units=$(grep -oE '(INITED|DONE|pulse|NEW|REDUCE) +cov: .* corp: [0-9]+' "$log" | tail -n 1 | grep -oE '[0-9]+$')
    if [ "$status" = 0 ]; then
        result="ok"
    else
        crashed=1
        artifact=$(grep -o 'Test unit written to .*' "$log" | tail -n 1 | sed 's/Test unit written to //')
        kind=$(grep -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-zA-Z_-]+( signal)?' "$log" | head -n 1 | sed 's/ERROR: //')
        message=$(grep -m 1 -o 'FUZZ INVARIANT: .*' "$log" | cut -c 1-160)
        result="CRASH (exit $status${kind:+, $kind}) ${artifact:-no artifact}; log $log${message:+
                   $message}"
    fi
    printf '%-16s %8s %12s %9s %8s  %s\n' "$name" "$ran" "${execs:-?}" "${rate:-?}" "${units:-?}" "$result"
done
echo "total wall time $((SECONDS - started))s (build ${build_seconds}s), ${seconds}s per target, $jobs job(s)"
if [ "$crashed" != 0 ] || [ "$regression_failures" != 0 ]; then exit 1; fi
exit 0
