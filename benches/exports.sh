#!/usr/bin/env bash
# The roster export benchmark (not a test): `tavle export pifu` and `tavle export
# oneroster` of the Oslo-size demo municipality (Storby, ~88,000 pupils), as the
# application's login, as the school owner's nightly job runs them. Prints the wall
# time, Tavle's peak RSS and the file's size of RUNS runs of each.
#
#   benches/exports.sh            # RUNS=3
#
# Builds the release binary, and the large demo once into $BENCH_DATA_DIR (default
# /var/tmp/tavle-bench-large, shared with the other benches). Each run adds one audit
# row; nothing else changes.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large}
PORT=${BENCH_PORT:-18092}
RUNS=${RUNS:-3}
WORK=$(mktemp -d)

ensure_postgres
command -v /usr/bin/time >/dev/null || apt_install time

step "cargo build --release (tavle)"
cargo build --release --locked --bin tavle
BIN="$CARGO_TARGET_DIR/release/tavle"

serve_large_demo "$BIN" "$DATA" "$PORT" "$WORK"
APP="postgres://tavle_app@localhost/tavle?host=$DATA"

step "exports of storby"
for format in pifu oneroster; do
    for run in $(seq 1 "$RUNS"); do
        out="$WORK/$format.out"
        /usr/bin/time -f "%e s, peak RSS %M KB" -o "$WORK/time" \
            env DATABASE_URL="$APP" TAVLE_LOG=warn "$BIN" export "$format" "$WORK/$format.file" --tenant storby >"$out" 2>&1 || {
            cat "$out"
            exit 1
        }
        echo "$format run $run: $(cat "$WORK/time"), $(stat -c %s "$WORK/$format.file") bytes; $(cat "$out")"
    done
done
