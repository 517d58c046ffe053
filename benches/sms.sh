#!/usr/bin/env bash
# The SMS handover benchmark (not a test): 1,000 guardians of the largest school of the
# Oslo-size demo (Storby) each get an SMS, and `tavle sms deliver` hands them all to
# the local gateway (dev/sms). Issue 19's aim: every SMS of a 1,000-guardian school
# handed to the gateway within 60 s. Prints the wall time for a gateway that answers
# at once and for one that takes DELAY_MS (default 100) per request, as a real one may.
#
#   benches/sms.sh
#
# The texts are put in the outbox by SQL, as an emergency notice puts them (one
# statement); the guardians' numbers are synthetic. Builds the release binary and the
# large demo once into $BENCH_DATA_DIR (default /var/tmp/tavle-bench-large).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large}
PORT=${BENCH_PORT:-18093}
COUNT=${COUNT:-1000}
DELAY_MS=${DELAY_MS:-100}
WORK=$(mktemp -d)

ensure_postgres
step "cargo build --release (tavle)"
cargo build --release --locked --bin tavle
BIN="$CARGO_TARGET_DIR/release"
serve_large_demo "$BIN/tavle" "$DATA" "$PORT" "$WORK"
OWNER="postgres://postgres@localhost/tavle?host=$DATA"
APP="postgres://tavle_app@localhost/tavle?host=$DATA"

enqueue() {
    psql -X -q -v ON_ERROR_STOP=1 "$OWNER" <<SQL
DELETE FROM sms_outbox WHERE dedupe_key = 'bench';
WITH school AS (
    SELECT e.tenant_id, e.school_id FROM enrolments e JOIN tenants t ON t.id = e.tenant_id AND t.slug = 'storby'
    WHERE e.to_date IS NULL GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1),
guardians AS (
    SELECT DISTINCT g.tenant_id, s.school_id, g.guardian_id FROM guardianships g
    JOIN enrolments e ON e.tenant_id = g.tenant_id AND e.pupil_id = g.pupil_id AND e.to_date IS NULL
    JOIN school s ON s.tenant_id = e.tenant_id AND s.school_id = e.school_id
    LIMIT $COUNT)
INSERT INTO sms_outbox (tenant_id, kind, dedupe_key, school_id, recipient_id, recipient_number, sender, body, parts)
SELECT tenant_id, 'emergency_notice', 'bench', school_id, guardian_id,
       '+479' || lpad((row_number() OVER ())::text, 7, '0'), 'Storby',
       'Storby kommune: viktig melding fra skolen. Les den i Tavle og svar OK.', 1
FROM guardians;
SQL
}

run() { # delay-ms
    local delay=$1 dir="$WORK/sms-$1"
    SMS_PORT=0 SMS_DIR="$dir" SMS_TOKEN=bench SMS_DELAY_MS="$delay" SMS_REPORTS=none SMS_EXIT_ON_STDIN_CLOSE=1 \
        node dev/sms/server.mjs < <(sleep 600) >"$WORK/gw-$delay.txt" &
    local gw=$!
    for _ in $(seq 1 50); do [ -s "$WORK/gw-$delay.txt" ] && break; sleep 0.1; done
    local port
    port=$(sed 's/[^0-9]//g' "$WORK/gw-$delay.txt")
    enqueue
    step "$COUNT SMS, gateway answering in $delay ms"
    local start end
    start=$(date +%s.%N)
    DATABASE_URL="$APP" TAVLE_SMS_URL="http://127.0.0.1:$port" TAVLE_SMS_TOKEN=bench TAVLE_LOG=warn \
        "$BIN/tavle" sms deliver
    end=$(date +%s.%N)
    echo "handed to the gateway: $(find "$dir" -name '*.json' | wc -l) in $(echo "$end - $start" | bc) s"
    kill "$gw" 2>/dev/null || true
    psql -X -q "$OWNER" -c "DELETE FROM sms_outbox WHERE dedupe_key = 'bench'"
}

run 0
run "$DELAY_MS"
