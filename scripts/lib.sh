# Shared by scripts/test, scripts/demo and .ci/run: find or install what Tavle needs.
# Sourced, not run.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/tavle/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "error: need root to run: $*" >&2; return 1; fi
}

apt_install() {
    if ! command -v apt-get >/dev/null; then
        echo "error: please install: $* (no apt-get here)" >&2
        return 1
    fi
    step "installing $* (apt-get)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# The PostgreSQL server binaries (initdb, postgres); Tavle finds them itself on
# PATH, via pg_config, or under /usr/lib/postgresql/*/bin.
ensure_postgres() {
    if command -v initdb >/dev/null && command -v postgres >/dev/null; then return; fi
    if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return; fi
    apt_install postgresql
}

# Python with pglast (PostgreSQL's own parser, libpg_query) for the statement check
# (scripts/check-statements.py), in a virtual environment beside the build cache.
# Sets PGLAST_PYTHON.
ensure_pglast() {
    local venv="${TAVLE_VENV:-$HOME/.cache/tavle/venv}"
    PGLAST_PYTHON="$venv/bin/python"
    if "$PGLAST_PYTHON" -c 'import pglast' 2>/dev/null; then return; fi
    command -v python3 >/dev/null || apt_install python3
    if ! python3 -m venv "$venv" 2>/dev/null; then
        rm -rf "$venv"
        apt_install python3-venv
        python3 -m venv "$venv"
    fi
    step "pip install pglast (into $venv)"
    "$PGLAST_PYTHON" -m pip install --quiet --disable-pip-version-check 'pglast==8.8'
}

# `npm ci` in a folder with a package-lock.json, unless node_modules already holds
# exactly that lock (npm keeps a copy of it in node_modules/.package-lock.json).
npm_ci() {
    local dir=$1
    [ -f "$dir/package-lock.json" ] || return 0
    if [ -f "$dir/node_modules/.package-lock.json" ] &&
        [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
        return 0
    fi
    step "npm ci ($dir)"
    # No package may download a browser (Playwright) or a Java runtime (vnu-jar uses
    # the system's); both come from Debian.
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

# Node.js for the local OpenID Connect provider (dev/idp) and the tests' SMTP server
# (dev/smtp), with their locked packages.
ensure_node_deps() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        apt_install nodejs npm
    fi
    npm_ci dev/idp
    npm_ci dev/smtp
}

# The browser suite (tests/browser): Debian's Chromium, Java for the Nu HTML checker,
# and the suite's locked npm packages (Playwright, axe-core, vnu-jar).
ensure_browser_deps() {
    local missing=()
    [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
    command -v java >/dev/null || missing+=(default-jre-headless)
    if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
    npm_ci tests/browser
}

# The benches' Oslo-size demo: built once into DATA (`tavle demo --size large`), then
# served on 127.0.0.1:PORT with its log in WORK/tavle.log until the script exits, when
# it is stopped and WORK removed. Returns once the demo answers /readyz.
serve_large_demo() { # tavle-binary data-dir port work-dir
    local tavle=$1 data=$2 port=$3 work=$4
    step "the large demo in $data"
    "$tavle" demo --size large --data-dir "$data" --no-serve
    TAVLE_LOG=warn "$tavle" demo --size large --data-dir "$data" --listen "127.0.0.1:$port" >"$work/tavle.log" 2>&1 &
    local pid=$!
    # shellcheck disable=SC2064 # the values now, not at exit
    trap "kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf '$work'" EXIT
    for _ in $(seq 1 300); do curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break; sleep 0.2; done
}
