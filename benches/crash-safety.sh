#!/usr/bin/env bash
# Crash safety (not a test: it kills a database, and takes about a minute with the
# build): 32 teachers save registers against `tavle serve` while its PostgreSQL is
# killed with SIGKILL (postmaster and backends at once) and started again. Prints the
# figures and exits non-zero when a promise is broken:
#   every save answered with 303 is in the database, exactly as sent;
#   Tavle answered 503 while the database was down (never 500);
#   Tavle serves again within 5 s of the database being back, without a restart;
#   the audit chain of every municipality verifies.
#
#   benches/crash-safety.sh     # CLIENTS=32 BEFORE=6 DOWN=5 AFTER=8 (seconds)
#
# The database lives in $CRASH_DATA_DIR (default /var/tmp/tavle-crash-safety; made
# afresh each run, kept afterwards for its logs: postgres.log, tavle.log).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

# Under /var/tmp: when run as root, the database runs as the postgres user, which
# cannot reach a directory under /root.
DATA=${CRASH_DATA_DIR:-/var/tmp/tavle-crash-safety}

ensure_postgres
step "cargo build (tavle, the crash_safety example)"
cargo build --locked --bin tavle --example crash_safety
step "saving registers while PostgreSQL is killed and restarted"
"$CARGO_TARGET_DIR/debug/examples/crash_safety" "$CARGO_TARGET_DIR/debug/tavle" "$DATA"
