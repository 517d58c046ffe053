#!/usr/bin/env bash
# The school-year rollover benchmark (not a test): the preview and the rollover of the
# school with the most pupils in the Oslo-size demo (Storby), through the pages, as its
# office clerk (or principal). Prints the wall time of each request and what was done,
# then undoes the rollover in the database (bench-only SQL), so that it can run again.
#
#   benches/rollover.sh
#
# Builds the release binary and the bench_sessions example, and the large demo once
# into $BENCH_DATA_DIR (default /var/tmp/tavle-bench-large, shared with the other
# benches).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large}
PORT=${BENCH_PORT:-18091}
RUNS=${RUNS:-3}
WORK=$(mktemp -d)

ensure_postgres
step "cargo build --release (tavle, bench_sessions)"
cargo build --release --locked --bin tavle --example bench_sessions
BIN="$CARGO_TARGET_DIR/release"

serve_large_demo "$BIN/tavle" "$DATA" "$PORT" "$WORK"
OWNER="postgres://postgres@localhost/tavle?host=$DATA"

"$BIN/examples/bench_sessions" "$DATA" 1 auto storby office >"$WORK/office.tsv"
IFS=$'\t' read -r COOKIE CSRF SCHOOL _ <"$WORK/office.tsv"
URL="http://127.0.0.1:$PORT/schools/$SCHOOL/rollover"
PUPILS=$(psql -X -At "$OWNER" -c "SELECT count(*) FROM enrolments WHERE school_id = '$SCHOOL' \
    AND from_date <= tavle_today() AND (to_date IS NULL OR to_date > tavle_today())")
echo "the school: $PUPILS pupils"

# What the rollover did, taken back: its enrolments, groups and stays, and its record.
undo() {
    psql -X -q -v ON_ERROR_STOP=1 "$OWNER" <<SQL
BEGIN;
WITH r AS (DELETE FROM rollovers WHERE school_id = '$SCHOOL' RETURNING tenant_id, to_year_id),
y AS (SELECT y.id, y.starts FROM school_years y JOIN r ON r.tenant_id = y.tenant_id AND y.id = r.to_year_id),
g AS (SELECT gr.id FROM groups gr JOIN y ON gr.school_year_id = y.id WHERE gr.school_id = '$SCHOOL'),
m AS (DELETE FROM group_memberships WHERE group_id IN (SELECT id FROM g)),
s AS (DELETE FROM group_staff WHERE group_id IN (SELECT id FROM g))
DELETE FROM enrolments e USING y WHERE e.school_id = '$SCHOOL' AND e.from_date = y.starts;
DELETE FROM groups gr USING school_years y WHERE gr.school_id = '$SCHOOL' AND y.id = gr.school_year_id
  AND y.starts > tavle_today() AND NOT EXISTS (SELECT 1 FROM group_memberships m WHERE m.group_id = gr.id);
UPDATE enrolments SET to_date = NULL, ended_by = NULL WHERE school_id = '$SCHOOL' AND ended_by IN ('rolled_over', 'left');
UPDATE group_memberships m SET to_date = NULL FROM groups gr, school_years y
  WHERE gr.id = m.group_id AND gr.school_id = '$SCHOOL' AND y.id = gr.school_year_id AND m.to_date = y.ends + 1
    AND y.starts <= tavle_today() AND y.ends >= tavle_today();
COMMIT;
SQL
}

for run in $(seq 1 "$RUNS"); do
    step "run $run"
    curl -sS -o "$WORK/preview.html" -w 'preview: HTTP %{http_code}, %{time_total} s\n' -H "Cookie: tavle-session=$COOKIE" "$URL"
    FINGERPRINT=$(grep -o 'name="fingerprint" value="[0-9a-f]*"' "$WORK/preview.html" | sed 's/.*value="//; s/"//')
    [ -n "$FINGERPRINT" ] || { echo "no preview (done already?): see $WORK/preview.html"; exit 1; }
    curl -sS -o /dev/null -w 'rollover: HTTP %{http_code}, %{time_total} s\n' -H "Cookie: tavle-session=$COOKIE" \
        --data-urlencode "csrf=$CSRF" --data-urlencode "fingerprint=$FINGERPRINT" --data-urlencode "confirm=yes" "$URL"
    psql -X -At "$OWNER" -c "SELECT 'done: ' || advanced || ' advanced, ' || leavers || ' leavers, ' || groups_created \
        || ' groups created' FROM rollovers WHERE school_id = '$SCHOOL'"
    undo
done
