#!/usr/bin/env bash
# The morning-peak benchmark (not a test): teachers of an Oslo-size municipality
# (the large demo: ~88,000 pupils, 180 schools) open their register and save it, all at
# once, then open and save a grade grid of 25-30 pupils (grade 8-10, a half-year
# period open for entry), against three references in the same run. Prints requests/s, p50 and p99
# latency, each page's ratio to the baseline, where the CPU went, and Tavle's peak RSS.
#
#   benches/morning-peak.sh                 # CONNECTIONS=64 DURATION=20s by default
#   BIN_B=/path/to/other/tavle benches/morning-peak.sh     # A/B, interleaved: A B A B
#   ENV_B="TAVLE_X=1" benches/morning-peak.sh              # A/B of a setting, one binary
#   MUNICIPALITIES=2 benches/morning-peak.sh               # two large municipalities
#
# The references (examples/bench_baseline.rs) read a group's 30 pupils and render
# them: `bare` (one query, no transaction), `baseline` (in a tenant transaction, as
# every request of Tavle; the ratio column is relative to it) and `audited` (the
# tenant transaction plus one audit event, committed durably).
#
# A/B: BIN_A (default: the binary built from this tree) and BIN_B, each with ENV_A /
# ENV_B (space-separated VAR=value); ROUNDS rounds (default 2 with a B, else 1), A then
# B in each. Each round starts its own Tavle (and so its own PostgreSQL), signs in the
# teachers, runs the references and the pages, and stops again. B runs on a copy of the
# data directory ($BENCH_DATA_DIR-b, made once; delete it to copy afresh) unless
# SAME_DATA=1, so that a B with new migrations leaves A's database alone.
#
# MUNICIPALITIES=2 builds the large demo with two Oslo-size municipalities (Storby and
# Storvik) in one database (default $BENCH_DATA_DIR: /var/tmp/tavle-bench-large2) and
# runs the register page and saving for each municipality alone and for both at once,
# half of the connections each.
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
MUNICIPALITIES=${MUNICIPALITIES:-1}
# Under /var/tmp: when run as root, the database runs as the postgres user, which
# cannot reach a directory under /root.
if [ "$MUNICIPALITIES" = 2 ]; then
    DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large2}
else
    DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large}
fi
PORT=${BENCH_PORT:-18080}
BASE_PORT=$((PORT + 1))
WORK=$(mktemp -d)
TICKS=$(getconf CLK_TCK)

ensure_postgres
command -v wrk >/dev/null || apt_install wrk

step "cargo build --release (tavle, bench_sessions, bench_baseline)"
cargo build --release --locked --bin tavle --example bench_sessions --example bench_baseline
BIN="$CARGO_TARGET_DIR/release"
BIN_A=${BIN_A:-$BIN/tavle}
ENV_A=${ENV_A:-}
ENV_B=${ENV_B:-}
BIN_B=${BIN_B:-}
if [ -n "$BIN_B" ] || [ -n "$ENV_B" ]; then
    BIN_B=${BIN_B:-$BIN_A}
    ROUNDS=${ROUNDS:-2}
else
    ROUNDS=${ROUNDS:-1}
fi
demo_args=(--size large)
[ "$MUNICIPALITIES" = 2 ] && demo_args+=(--municipalities 2)

step "the large demo in $DATA"
"$BIN_A" demo "${demo_args[@]}" --data-dir "$DATA" --no-serve
DATA_B=$DATA
if [ -n "$BIN_B" ] && [ "${SAME_DATA:-0}" != 1 ]; then
    DATA_B="$DATA-b"
    if [ ! -d "$DATA_B" ]; then
        step "copying $DATA to $DATA_B for B"
        cp -a "$DATA" "$DATA_B"
    fi
fi

pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

wait_for() { # url
    for _ in $(seq 1 150); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.2; done
    echo "error: $1 did not come up" >&2
    return 1
}
load1() { cut -d' ' -f1 /proc/loadavg; }

# CPU ticks used so far by PostgreSQL (the postmaster, its children, and the children
# it has reaped) and by Tavle.
pg_ticks() { # data dir
    local pm
    pm=$(head -1 "$1/pgdata/postmaster.pid")
    {
        awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat"
        for c in $(pgrep -P "$pm"); do awk '{ print $14 + $15 }' "/proc/$c/stat" 2>/dev/null || true; done
    } | awk '{ s += $1 } END { print s + 0 }'
}
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# One wrk run: mode, port, sessions file, connections, output name. Prints the RESULT
# line; with CPU figures appended when `measure_cpu` is set (one run at a time only).
run_wrk() { # mode port sessions connections name
    local mode=$1 port=$2 sessions=$3 conns=$4 name=$5
    SESSIONS="$sessions" MODE="$mode" wrk -t"$THREADS" -c"$conns" -d3s -s benches/register.lua \
        "http://127.0.0.1:$port" >/dev/null # warm-up
    echo "load=$(load1)" >"$WORK/$name.out"
    SESSIONS="$sessions" MODE="$mode" /usr/bin/time -f "WRKCPU %U %S" -o "$WORK/$name.time" \
        wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -s benches/register.lua "http://127.0.0.1:$port" \
        >>"$WORK/$name.out"
}

measure() { # mode port sessions name data tavle_pid: one run with the CPU split
    local mode=$1 port=$2 sessions=$3 name=$4 data=$5 tpid=$6 pg0 t0 pg1 t1
    pg0=$(pg_ticks "$data")
    t0=$(proc_ticks "$tpid")
    run_wrk "$mode" "$port" "$sessions" "$CONNECTIONS" "$name"
    pg1=$(pg_ticks "$data")
    t1=$(proc_ticks "$tpid")
    read -r _ wu ws <"$WORK/$name.time"
    echo "CPU pg=$(((pg1 - pg0) * 1000 / TICKS)) tavle=$(((t1 - t0) * 1000 / TICKS)) \
wrk=$(awk -v u="$wu" -v s="$ws" 'BEGIN { printf "%d", (u + s) * 1000 }')" >>"$WORK/$name.out"
}

rps() { sed -nE 's/.*RESULT.* rps=([0-9.]+).*/\1/p' "$WORK/$1.out"; }
field() { sed -nE "s/.*RESULT.* $2=([0-9.]+).*/\1/p" "$WORK/$1.out"; }
answers() { sed -nE 's/.*RESULT.* statuses=([^ ]*).*/\1/p' "$WORK/$1.out"; }
loadof() { sed -nE 's/^load=(.*)/\1/p' "$WORK/$1.out"; }
# CPU per request, µs: PostgreSQL / the server (Tavle, or the references' server) / wrk.
cpu_split() { # name
    local line requests
    line=$(grep '^CPU' "$WORK/$1.out" || true)
    requests=$(sed -nE 's/.*RESULT.* requests=([0-9]+).*/\1/p' "$WORK/$1.out")
    [ -n "$line" ] && [ -n "$requests" ] || return 0
    echo "$line" | awk -v n="$requests" '{
        split($2, a, "="); split($3, b, "="); split($4, c, "=");
        printf "%d/%d/%d", a[2] * 1000 / n, b[2] * 1000 / n, c[2] * 1000 / n }'
}

label_of() {
    case $1 in
        bare) echo "bare read (no tx)" ;;
        baseline) echo "baseline (tenant tx)" ;;
        audited) echo "tenant tx + audit" ;;
        get) echo "register (GET)" ;;
        post) echo "register save (POST)" ;;
        grid) echo "grade grid (GET)" ;;
        grid-save) echo "grade grid save (POST)" ;;
        *) echo "$1" ;;
    esac
}

table() { # title base_name names...
    local title=$1 base=$2
    shift 2
    local b
    b=$(rps "$base")
    echo
    echo "$title"
    printf '%-24s %6s %9s %8s %8s %7s %7s %-14s  %s\n' "page" "load" "req/s" "p50 ms" "p99 ms" "errors" "ratio" \
        "cpu us/req" "answers"
    for n in "$@"; do
        local m=${n##*.}
        printf '%-24s %6s %9s %8s %8s %7s %7s %-14s  %s\n' "$(label_of "$m")" "$(loadof "$n")" "$(rps "$n")" \
            "$(field "$n" p50_ms)" "$(field "$n" p99_ms)" "$(field "$n" errors)" \
            "$(awk -v a="$(rps "$n")" -v b="$b" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b }')" \
            "$(cpu_split "$n")" "$(answers "$n")"
    done
}

start_tavle() { # bin data env → sets TAVLE_PID
    local bin=$1 data=$2 env=$3
    # The form-post rate limit protects against one abusive address; here every teacher
    # comes from 127.0.0.1, so it is lifted for the run.
    # shellcheck disable=SC2086
    env TAVLE_LOG=warn TAVLE_FORM_POST_LIMIT=100000000 $env \
        "$bin" demo "${demo_args[@]}" --data-dir "$data" --listen "127.0.0.1:$PORT" >>"$WORK/tavle.log" 2>&1 &
    TAVLE_PID=$!
    pids+=("$TAVLE_PID")
    wait_for "http://127.0.0.1:$PORT/readyz"
}

stop() { # pid
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

sign_in() { # data slug [page] → sessions file
    local page=${3:-register}
    local out="$WORK/sessions-$2-$page.tsv"
    "$BIN/examples/bench_sessions" "$1" "$CONNECTIONS" auto "$2" "$page" >"$out"
    echo "$out"
}

peak_rss() { sed -nE 's/^VmHWM:\s+([0-9]+) kB/\1/p' "/proc/$1/status" | awk '{ printf "%.0f MB", $1 / 1024 }'; }

one_round() { # variant round bin data env
    local v=$1 r=$2 bin=$3 data=$4 env=$5 sessions grid bpid rss
    step "round $r, $v: $bin ${env:+($env)}"
    start_tavle "$bin" "$data" "$env"
    sessions=$(sign_in "$data" storby)
    echo "$(wc -l <"$sessions") teachers, date $(cut -f5 "$sessions" | head -1)"
    grid=$(sign_in "$data" storby grid)
    echo "$(wc -l <"$grid") teachers at a grade grid, $(cut -f6 "$grid" | tr ',' '\n' | wc -l) pupils in all"
    "$BIN/examples/bench_baseline" "$data" "127.0.0.1:$BASE_PORT" >"$WORK/baseline.log" 2>&1 &
    bpid=$!
    pids+=("$bpid")
    wait_for "http://127.0.0.1:$BASE_PORT/baseline/$(cut -f3 "$sessions" | head -1)"
    for m in bare baseline audited; do
        measure "$m" "$BASE_PORT" "$sessions" "$v$r.$m" "$data" "$bpid"
    done
    for m in get post; do
        measure "$m" "$PORT" "$sessions" "$v$r.$m" "$data" "$TAVLE_PID"
    done
    for m in grid grid-save; do
        measure "$m" "$PORT" "$grid" "$v$r.$m" "$data" "$TAVLE_PID"
    done
    rss=$(peak_rss "$TAVLE_PID")
    stop "$bpid"
    stop "$TAVLE_PID"
    echo "$rss" >"$WORK/$v$r.rss"
}

two_municipalities() { # bin data env
    local bin=$1 data=$2 env=$3 s1 s2 half=$((CONNECTIONS / 2)) rss
    step "two municipalities: $bin ${env:+($env)}"
    start_tavle "$bin" "$data" "$env"
    s1=$(sign_in "$data" storby)
    s2=$(sign_in "$data" storvik)
    echo "$(wc -l <"$s1") teachers in Storby, $(wc -l <"$s2") in Storvik"
    for m in get post; do
        run_wrk "$m" "$PORT" "$s1" "$half" "storby-alone.$m"
        run_wrk "$m" "$PORT" "$s2" "$half" "storvik-alone.$m"
        run_wrk "$m" "$PORT" "$s1" "$half" "storby-both.$m" &
        local w1=$!
        run_wrk "$m" "$PORT" "$s2" "$half" "storvik-both.$m"
        wait "$w1"
    done
    rss=$(peak_rss "$TAVLE_PID")
    stop "$TAVLE_PID"
    echo
    echo "Two Oslo-size municipalities in one database, $half connections per municipality"
    printf '%-10s %-22s %6s %9s %8s %8s %7s  %s\n' "" "page" "load" "req/s" "p50 ms" "p99 ms" "errors" "answers"
    for m in get post; do
        for n in storby-alone storvik-alone storby-both storvik-both; do
            printf '%-10s %-22s %6s %9s %8s %8s %7s  %s\n' "$n" "$(label_of "$m")" "$(loadof "$n.$m")" \
                "$(rps "$n.$m")" "$(field "$n.$m" p50_ms)" "$(field "$n.$m" p99_ms)" "$(field "$n.$m" errors)" \
                "$(answers "$n.$m")"
        done
    done
    echo "Tavle's peak RSS: $rss"
}

if [ "$MUNICIPALITIES" = 2 ]; then
    two_municipalities "$BIN_A" "$DATA" "$ENV_A"
    exit 0
fi

step "load: $CONNECTIONS connections, $THREADS threads, $DURATION each, $ROUNDS round(s)"
for r in $(seq 1 "$ROUNDS"); do
    one_round A "$r" "$BIN_A" "$DATA" "$ENV_A"
    if [ -n "$BIN_B" ]; then one_round B "$r" "$BIN_B" "$DATA_B" "$ENV_B"; fi
done

for r in $(seq 1 "$ROUNDS"); do
    for v in A B; do
        [ -f "$WORK/$v$r.rss" ] || continue
        bin=BIN_$v
        env=ENV_$v
        table "round $r, $v: ${!bin} ${!env:+(${!env})}" "$v$r.baseline" \
            "$v$r.bare" "$v$r.baseline" "$v$r.audited" "$v$r.get" "$v$r.post" "$v$r.grid" "$v$r.grid-save"
        echo "Tavle's peak RSS (VmHWM): $(cat "$WORK/$v$r.rss")"
    done
done
echo
echo "load: the 1-minute load average as each run began. cpu us/req: PostgreSQL/server/wrk CPU time"
echo "per request (server: Tavle for the pages, the references' own server for the references)."
echo "answers: by HTTP status (303 is a saved register or grid), timeout: none within wrk's 2 s;"
echo "changed/save: grades changed per saved grid (its redirect's \`saved\`)."
echo "Aim: register >= 50% of the baseline's req/s with p99 < 25 ms at 64 connections; saving >= 30%."
