#!/usr/bin/env bash
# The morning-peak benchmark (not a test): teachers of an Oslo-size municipality
# (the large demo: ~88,000 pupils, 180 schools) open their register and save it, all at
# once, against a bare baseline in the same run. Prints requests/s, p50 and p99 latency
# and each page's ratio to the baseline.
#
#   benches/morning-peak.sh            # CONNECTIONS=64 DURATION=20s by default
#
# Installs wrk (apt) when missing, builds release binaries, builds the large demo once
# into $BENCH_DATA_DIR (default /var/tmp/tavle-bench-large; delete it to rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
THREADS=${THREADS:-2}
# Under /var/tmp: when run as root, the database runs as the postgres user, which
# cannot reach a directory under /root.
DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large}
PORT=${BENCH_PORT:-18080}
BASE_PORT=$((PORT + 1))
WORK=$(mktemp -d)

ensure_postgres
command -v wrk >/dev/null || apt_install wrk

step "cargo build --release (tavle, bench_sessions, bench_baseline)"
cargo build --release --locked --bin tavle --example bench_sessions --example bench_baseline
BIN="$CARGO_TARGET_DIR/release"

step "the large demo in $DATA"
"$BIN/tavle" demo --size large --data-dir "$DATA" --no-serve

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

wait_for() { # url
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
    echo "error: $1 did not come up" >&2; return 1
}

step "starting Tavle on 127.0.0.1:$PORT"
# The form-post rate limit protects against one abusive address; here every teacher
# comes from 127.0.0.1, so it is lifted for the run.
TAVLE_LOG=warn TAVLE_FORM_POST_LIMIT=100000000 \
    "$BIN/tavle" demo --size large --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$WORK/tavle.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$PORT/readyz"

step "signing in $CONNECTIONS teachers"
"$BIN/examples/bench_sessions" "$DATA" "$CONNECTIONS" auto >"$WORK/sessions.tsv"
teachers=$(wc -l <"$WORK/sessions.tsv")
pupils=$(awk -F'\t' '{ n += split($6, a, ",") } END { printf "%.1f", n / NR }' "$WORK/sessions.tsv")
echo "$teachers teachers, $pupils pupils per group on average, date $(cut -f5 "$WORK/sessions.tsv" | head -1)"

"$BIN/examples/bench_baseline" "$DATA" "127.0.0.1:$BASE_PORT" >"$WORK/baseline.log" 2>&1 &
pids+=($!)
group=$(cut -f3 "$WORK/sessions.tsv" | head -1)
wait_for "http://127.0.0.1:$BASE_PORT/baseline/$group"

run() { # mode port
    SESSIONS="$WORK/sessions.tsv" MODE="$1" wrk -t"$THREADS" -c"$CONNECTIONS" -d3s -s benches/register.lua \
        "http://127.0.0.1:$2" >/dev/null # warm-up
    SESSIONS="$WORK/sessions.tsv" MODE="$1" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s benches/register.lua "http://127.0.0.1:$2" | tee "$WORK/$1.out" | grep RESULT
}

# Other work on the machine depresses every figure: compare the ratios of one run.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
step "load: $CONNECTIONS connections, $THREADS threads, $DURATION each (load average $load_before)"
run baseline "$BASE_PORT"
run get "$PORT"
run post "$PORT"

rps() { grep RESULT "$WORK/$1.out" | sed -E 's/.*rps=([0-9.]+).*/\1/'; }
field() { grep RESULT "$WORK/$1.out" | sed -E "s/.* $2=([0-9.]+).*/\1/"; }
answers() { grep RESULT "$WORK/$1.out" | sed -E 's/.* statuses=([^ ]*).*/\1/'; }
base=$(rps baseline)
echo
echo "load average before the run: $load_before"
printf '%-26s %10s %9s %9s %8s %7s  %s\n' "page" "req/s" "p50 ms" "p99 ms" "errors" "ratio" "answers"
for m in baseline get post; do
    label=$m
    [ "$m" = get ] && label="register (GET)"
    [ "$m" = post ] && label="register save (POST)"
    ratio=$(awk -v a="$(rps $m)" -v b="$base" 'BEGIN { printf "%.0f%%", 100 * a / b }')
    printf '%-26s %10s %9s %9s %8s %7s  %s\n' "$label" "$(rps $m)" "$(field $m p50_ms)" "$(field $m p99_ms)" \
        "$(field $m errors)" "$ratio" "$(answers $m)"
done
echo
echo "answers: by HTTP status (303 is a saved register), timeout: none within wrk's 2 s."
echo "Aim: register >= 50% of the baseline's req/s with p99 < 25 ms at 64 connections; saving >= 30%."
