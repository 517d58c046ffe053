#!/usr/bin/env bash
# The population register benchmark (not a test): a register file of PERSONS persons
# (default 100,000) imported into the Oslo-size demo municipality (Storby, ~88,000
# pupils), with `tavle import folkeregister` as the application's login, as in
# production. Prints the wall time and Tavle's peak RSS of three runs: a dry run, the
# run, and a second run of the same file (which must change nothing).
#
#   benches/folkeregister.sh                    # PERSONS=100000
#
# The file is the register as Tavle has it for Storby's pupils and their guardians
# (then other persons of the municipality up to PERSONS), written by PostgreSQL itself,
# with changes a daily file brings, each to every CHANGE-th person (default 100): a
# new family name, an address made confidential, a pupil whose father loses parental
# responsibility, and 1,000 new children under school age with their mother.
#
# Builds the release binary, and the large demo once into $BENCH_DATA_DIR (default
# /var/tmp/tavle-bench-large, shared with benches/morning-peak.sh). The import changes
# that database: delete the directory to start afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

PERSONS=${PERSONS:-100000}
CHANGE=${CHANGE:-100}
DATA=${BENCH_DATA_DIR:-/var/tmp/tavle-bench-large}
PORT=${BENCH_PORT:-18090}
WORK=$(mktemp -d)
FILE="$WORK/folkeregister.jsonl"

ensure_postgres
command -v /usr/bin/time >/dev/null || apt_install time

step "cargo build --release (tavle)"
cargo build --release --locked --bin tavle
BIN="$CARGO_TARGET_DIR/release/tavle"

serve_large_demo "$BIN" "$DATA" "$PORT" "$WORK"
OWNER="postgres://postgres@localhost/tavle?host=$DATA"
APP="postgres://tavle_app@localhost/tavle?host=$DATA"

step "a register file of $PERSONS persons"
# The new children of an earlier run are taken out again, so that each run creates its own.
psql -X -q -v ON_ERROR_STOP=1 "$OWNER" -c "DELETE FROM persons p USING tenants t WHERE t.id = p.tenant_id \
    AND t.slug = 'storby' AND p.given_name = 'Ny' AND p.family_name = 'Baby' \
    AND NOT EXISTS (SELECT 1 FROM pupils pu WHERE pu.tenant_id = p.tenant_id AND pu.person_id = p.id)"
# The documents as Tavle has them (the test `the_register_as_tavle_has_it_…` builds the
# same shape), then the day's changes. A synthetic number for a new child: born
# 2022-2023, individual numbers 900-999 are not used by the demo.
psql -X -q -v ON_ERROR_STOP=1 "$OWNER" -At -o "$FILE" <<SQL
WITH t AS (SELECT id FROM tenants WHERE slug = 'storby'),
chosen AS (
  SELECT p.id, row_number() OVER (ORDER BY (pu.person_id IS NULL), p.national_id) AS n
  FROM persons p LEFT JOIN pupils pu ON pu.tenant_id = p.tenant_id AND pu.person_id = p.id
  WHERE p.tenant_id = (SELECT id FROM t) AND p.birth_date IS NOT NULL
    AND (pu.person_id IS NOT NULL OR EXISTS (SELECT 1 FROM guardianships g WHERE g.tenant_id = p.tenant_id AND g.guardian_id = p.id))
  ORDER BY n LIMIT $PERSONS - 1000
),
docs AS (
  SELECT c.n, p.id, jsonb_strip_nulls(jsonb_build_object(
    'foedselsEllerDNummer', p.national_id, 'fornavn', p.given_name,
    'etternavn', CASE WHEN c.n % $CHANGE = 1 THEN p.family_name || '-Lie' ELSE p.family_name END,
    'foedselsdato', p.birth_date,
    'adressebeskyttelse', CASE WHEN c.n % $CHANGE = 2 THEN 'fortrolig' WHEN p.address_protection = 'none' THEN 'ugradert'
                          WHEN p.address_protection = 'confidential' THEN 'fortrolig' ELSE 'strengtFortrolig' END,
    'bostedsadresse', CASE WHEN p.street_address IS NOT NULL AND p.postal_code IS NOT NULL AND p.postal_town IS NOT NULL
                      THEN jsonb_build_object('adressenavn', p.street_address, 'postnummer', p.postal_code, 'poststed', p.postal_town) END,
    'familierelasjon', (SELECT jsonb_agg(jsonb_build_object('relatertPerson', x.national_id,
                          'relatertPersonsRolle', (ARRAY['mor', 'far', 'medmor'])[x.k]))
                        FROM (SELECT gp.national_id, row_number() OVER (ORDER BY gp.national_id) AS k
                              FROM guardianships g JOIN persons gp ON gp.tenant_id = g.tenant_id AND gp.id = g.guardian_id
                              WHERE g.tenant_id = p.tenant_id AND g.pupil_id = p.id AND g.to_date IS NULL LIMIT 3) x),
    'foreldreansvar', CASE WHEN EXISTS (SELECT 1 FROM pupils pu WHERE pu.tenant_id = p.tenant_id AND pu.person_id = p.id) THEN
                        (SELECT coalesce(jsonb_agg(jsonb_build_object('ansvar', 'andre', 'ansvarlig', gp.national_id)), '[]')
                         FROM (SELECT gp.national_id, row_number() OVER (ORDER BY gp.national_id) AS k
                               FROM guardianships g JOIN persons gp ON gp.tenant_id = g.tenant_id AND gp.id = g.guardian_id
                               WHERE g.tenant_id = p.tenant_id AND g.pupil_id = p.id AND g.to_date IS NULL
                                 AND g.parental_responsibility) gp
                         WHERE NOT (c.n % $CHANGE = 3 AND gp.k = 2)) END
  )) AS doc
  FROM chosen c JOIN persons p ON p.tenant_id = (SELECT id FROM t) AND p.id = c.id
)
SELECT doc::text FROM docs ORDER BY n;
SQL
# 1,000 new children under school age, each with a mother already in the file.
python3 - "$FILE" <<'PY'
import json, sys
K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]; K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]
def number(d, m, y, i):
    digits = [int(c) for c in f"{d:02d}{m + 80:02d}{y % 100:02d}{i:03d}"]
    for weights in (K1, K2):
        k = (11 - sum(a * b for a, b in zip(digits, weights)) % 11) % 11
        if k == 10:
            return None
        digits.append(k)
    return "".join(map(str, digits))
path = sys.argv[1]
lines = open(path).read().splitlines()
mothers = [json.loads(l)["foedselsEllerDNummer"] for l in lines if "familierelasjon" not in l][:1000]
out = open(path, "a")
made = 0
for year in (2022, 2023):
    for month in range(1, 13):
        for day in range(1, 29):
            for i in range(900, 1000):
                if made == len(mothers) or made % 2 == 0 and i > 949:
                    break
                n = number(day, month, year, i)
                if n is None:
                    continue
                out.write(json.dumps({"foedselsEllerDNummer": n, "fornavn": "Ny", "etternavn": "Baby",
                    "foedselsdato": f"{year}-{month:02d}-{day:02d}",
                    "familierelasjon": [{"relatertPerson": mothers[made], "relatertPersonsRolle": "mor"}],
                    "foreldreansvar": [{"ansvar": "mor"}]}) + "\n")
                made += 1
                if made % 2 == 0:
                    break
print(f"{len(lines) + made} lines, {made} new children")
PY
ls -la "$FILE"

run() { # label, extra args
    local label=$1
    shift
    /usr/bin/time -f "TIME %e s, peak RSS %M KB" -o "$WORK/time" \
        env DATABASE_URL="$APP" TAVLE_LOG=warn "$BIN" import folkeregister "$FILE" --tenant storby "$@" >"$WORK/out" 2>&1 || {
        cat "$WORK/out"
        return 1
    }
    echo "$label: $(cat "$WORK/time")"
    echo "    $(cat "$WORK/out")"
}
step "imports"
run "dry run" --dry-run
run "import"
run "second run"
