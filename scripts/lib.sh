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

# Node.js for the local OpenID Connect provider (dev/idp), with its locked packages.
ensure_node_deps() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        apt_install nodejs npm
    fi
    if [ -f dev/idp/package-lock.json ] && [ ! -d dev/idp/node_modules ]; then
        step "npm ci (dev/idp)"
        (cd dev/idp && npm ci --no-audit --no-fund --loglevel=error)
    fi
}
