#!/usr/bin/env bash
# Vendor Designsystemet (Norway's public-sector design system, by Digdir) into
# static/vendor/designsystemet/ so the app serves it itself: no CDN, no npm at run time.
#
#   scripts/vendor-assets.sh          # (re)vendor the pinned versions below
#
# Needs node/npm and the npm registry, and only when bumping versions; the output
# is committed to git. Idempotent: a re-run with the same pins rewrites identical
# files (VERSION keeps its date unless something else in it changed).
#
# To upgrade: change the versions AND the integrity hashes below
# (`npm view @digdir/designsystemet-css@X.Y.Z dist.integrity`), re-run, then check
# static/README.md's cheat sheet against the new CSS (class names do change).
set -euo pipefail

CSS_PKG="@digdir/designsystemet-css"
CSS_VERSION="1.22.0"
CSS_INTEGRITY="sha512-f/+YOK1Gvl7ypdeRh0TDGs28eu8DkOPDAR+T8yLpnys9FxNWX05UNuhXJwYwRuzF9WUgjAhpJ5JKdodTDxWMEA=="

THEME_PKG="@digdir/designsystemet-theme"
THEME_VERSION="1.11.0"
THEME_INTEGRITY="sha512-C4Mf+LmecQ8sdjykD25NWiEclQDEOK+Y6Dlo8oz2BjhLBkDmo1+udFyCplvAGvv1MTzhsAhGafW/S4ox8iXlOA=="
THEME_NAME="digdir" # one of the package's brand/*.css: digdir, altinn, uutilsynet, portal

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/static/vendor/designsystemet"

die() { echo "vendor-assets: $*" >&2; exit 1; }
command -v npm >/dev/null || die "npm is required (only to vendor; the app does not need it)"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# --- fetch: npm pack downloads the exact tarballs (no install scripts run) ------------
(
  cd "$TMP"
  npm pack --silent --ignore-scripts --json \
    "$CSS_PKG@$CSS_VERSION" "$THEME_PKG@$THEME_VERSION" >pack.json 2>npm.log \
    || { cat npm.log >&2; die "npm pack failed"; }
)

# Verify name, version and tarball integrity against the pins (tamper/typo guard).
node - "$TMP/pack.json" \
  "$CSS_PKG" "$CSS_VERSION" "$CSS_INTEGRITY" \
  "$THEME_PKG" "$THEME_VERSION" "$THEME_INTEGRITY" <<'JS' || die "pinned package check failed"
const [file, ...pins] = process.argv.slice(2);
const packed = JSON.parse(require('fs').readFileSync(file, 'utf8'));
for (let i = 0; i < pins.length; i += 3) {
  const [name, version, integrity] = pins.slice(i, i + 3);
  const p = packed.find((x) => x.name === name);
  if (!p) { console.error(`missing ${name}`); process.exit(1); }
  if (p.version !== version) { console.error(`${name}: got ${p.version}, want ${version}`); process.exit(1); }
  if (p.integrity !== integrity) { console.error(`${name}: integrity ${p.integrity} != pinned ${integrity}`); process.exit(1); }
}
JS

mkdir -p "$TMP/css" "$TMP/theme"
tar -xzf "$TMP"/digdir-designsystemet-css-"$CSS_VERSION".tgz -C "$TMP/css"
tar -xzf "$TMP"/digdir-designsystemet-theme-"$THEME_VERSION".tgz -C "$TMP/theme"
CSS_DIR="$TMP/css/package"
THEME_DIR="$TMP/theme/package"

# The combined stylesheet is the package's main entry ("." export / "browser" field).
CSS_MAIN="$(node -p 'const p=require(process.argv[1]); (p.exports&&p.exports["."]&&p.exports["."].default)||p.browser||p.main' "$CSS_DIR/package.json")"
CSS_SRC="$CSS_DIR/${CSS_MAIN#./}"
THEME_SRC="$THEME_DIR/brand/$THEME_NAME.css"
[[ -f "$CSS_SRC" ]] || die "combined CSS not found: $CSS_MAIN"
[[ -f "$THEME_SRC" ]] || die "theme not found: brand/$THEME_NAME.css (have: $(find "$THEME_DIR/brand" -name '*.css' ! -name '*.tailwind.css' -exec basename {} \; | sort | tr '\n' ' '))"
for d in "$CSS_DIR" "$THEME_DIR"; do [[ -f "$d/LICENSE" ]] || die "no LICENSE in $(basename "$d")"; done

OUT="$TMP/out"
mkdir -p "$OUT"
cp "$CSS_SRC" "$OUT/designsystemet.css"
cp "$THEME_SRC" "$OUT/theme-$THEME_NAME.css"
cp "$CSS_DIR/LICENSE" "$OUT/LICENSE-designsystemet-css"
cp "$THEME_DIR/LICENSE" "$OUT/LICENSE-designsystemet-theme"

# --- no third-party hosts ---------------------------------------------------------------
# Strip any @import of a remote stylesheet (typically a web font CDN) and record it.
NOTES=()
for f in "$OUT"/*.css; do
  # @import url("https://…") … ;  or  @import "https://…" … ;  (URLs may contain ';')
  re='\@import\s+(?:url\(\s*(["\x27]?)(?:https?:)?//[^"\x27)]*\1\s*\)|(["\x27])(?:https?:)?//.*?\2)[^;]*;'
  stripped="$(RE="$re" perl -0ne 'print "$&\n" while /$ENV{RE}/gis' "$f")"
  if [[ -n "$stripped" ]]; then
    RE="$re" perl -0pi -e 's{$ENV{RE}}{/* remote stylesheet import removed by vendor-assets.sh */}gis' "$f"
    while IFS= read -r line; do NOTES+=("removed from $(basename "$f"): $line"); done <<<"$stripped"
  fi
done
# Then fail on anything that would still make the browser contact another host:
# @import, @font-face src, or url(...) that is not an inline data: URI.
for f in "$OUT"/*.css; do
  scrubbed="$(perl -0pe 's{url\(\s*(["\x27]?)data:.*?\1\s*\)}{url(DATA)}gs' "$f")"
  if grep -Eiq '@import|@font-face|url\(\s*["\x27]?(https?:|//|/)' <<<"$scrubbed"; then
    grep -Eio '.{0,40}(@import|@font-face|url\(\s*["\x27]?(https?:|//|/)).{0,80}' <<<"$scrubbed" >&2 || true
    die "$(basename "$f") still references an external resource"
  fi
done

# --- the theme must define every design token the component CSS uses --------------------
# (the theme package is built separately from the CSS package; catch a mismatch here)
used="$(grep -Eo 'var\(--ds-[a-zA-Z0-9-]+' "$OUT/designsystemet.css" | sed 's/^var(//' | sort -u)"
defined="$(cat "$OUT"/*.css | grep -Eo -- '--ds-[a-zA-Z0-9-]+[[:space:]]*:' | sed -E 's/[[:space:]]*:$//' | sort -u)"
missing="$(comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$defined"))"
[[ -z "$missing" ]] || die "theme-$THEME_NAME.css lacks tokens used by designsystemet.css: $(tr '\n' ' ' <<<"$missing")"

# Fonts: the theme names a font family (e.g. Inter) as a token but loads none. We do not
# fetch web fonts; static/css/tavle.css maps --ds-font-family to the system font stack.
theme_fonts="$(grep -Eo -- '--ds-font-family:[^;]*' "$OUT/theme-$THEME_NAME.css" | sed -E 's/--ds-font-family:[[:space:]]*//' | sort -u | paste -sd, - | sed 's/,/, /g')"
NOTES+=("fonts: no @import/@font-face/remote url() in the vendored CSS (checked by this script). The theme's --ds-font-family tokens (${theme_fonts:-none}) name fonts it does not load; static/css/tavle.css overrides them with a system font stack, so no web font is ever requested.")

theme_build="$(sed -n 's/^build: *//p' "$THEME_SRC" | head -1)"
theme_tokens="$(sed -n 's/^design-tokens: *//p' "$THEME_SRC" | head -1)"
NOTES+=("theme: $THEME_PKG@$THEME_VERSION is marked deprecated in its README (upstream now ships a default theme inside $CSS_PKG/theme); it is still the packaged source of the '$THEME_NAME' brand theme. Its brand files were generated by the CLI ${theme_build:-?} from design-tokens ${theme_tokens:-?}; this script verified it defines every --ds-* token designsystemet.css uses.")

# --- VERSION -----------------------------------------------------------------------------
lic() { node -p 'require(process.argv[1]).license' "$1/package.json"; }
{
  echo "# Vendored by scripts/vendor-assets.sh from the npm registry. Do not edit by hand."
  echo
  echo "package: $CSS_PKG"
  echo "version: $CSS_VERSION"
  echo "license: $(lic "$CSS_DIR") (see LICENSE-designsystemet-css)"
  echo "integrity: $CSS_INTEGRITY"
  echo "file: designsystemet.css <- package/${CSS_MAIN#./} (all components, combined, @layer ds)"
  echo
  echo "package: $THEME_PKG"
  echo "version: $THEME_VERSION"
  echo "license: $(lic "$THEME_DIR") (see LICENSE-designsystemet-theme)"
  echo "integrity: $THEME_INTEGRITY"
  echo "file: theme-$THEME_NAME.css <- package/brand/$THEME_NAME.css"
  echo
  for n in "${NOTES[@]}"; do echo "note: $n"; done
} >"$OUT/VERSION.body"

today="$(date -u +%Y-%m-%d)"
if [[ -f "$DEST/VERSION" ]] && diff -q <(grep -v '^date: ' "$DEST/VERSION") "$OUT/VERSION.body" >/dev/null; then
  date_line="$(grep '^date: ' "$DEST/VERSION" | head -1)"
else
  date_line="date: $today"
fi
{ cat "$OUT/VERSION.body"; echo "$date_line"; } >"$OUT/VERSION"
rm "$OUT/VERSION.body"

# --- install: replace the folder's contents atomically-ish, nothing else -----------------
mkdir -p "$DEST"
find "$DEST" -mindepth 1 -maxdepth 1 -type f -delete
cp "$OUT"/* "$DEST"/
echo "vendor-assets: wrote to ${DEST#"$ROOT"/}:"
find "$DEST" -maxdepth 1 -type f -printf '  %8s  %f\n' | sort -k2
