#!/usr/bin/env bash
# Explicit, cached install of the test-only GCS emulator (firebase-tools, pinned
# in package-lock.json next to this script). Not part of dsv's dependencies.
#
#   bash tools/gcs-emulator/install.sh
#
# The installed node_modules is kept in a cache directory keyed by the sha256 of
# package-lock.json:
#   ${DSV_EMULATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dsv-gcs-emulator}/<key>/node_modules
# and tools/gcs-emulator/node_modules is made a symlink to it. A cache miss runs
# `npm ci` in a temporary directory and renames the result into place, so an
# interrupted install never looks complete.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock="$here/package-lock.json"
pin="15.34.2"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start="$(now_ms)"

die() { echo "install.sh: $*" >&2; exit 1; }

[[ -f "$lock" ]] || die "missing $lock"
command -v npm >/dev/null || die "npm not found on PATH"

key="$(sha256sum "$lock" | cut -c1-16)"
cache_root="${DSV_EMULATOR_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dsv-gcs-emulator}"
entry="$cache_root/$key"
target="$entry/node_modules"

installed_ok() {
  local pkg="$1/firebase-tools/package.json"
  [[ -f "$pkg" ]] && node -e '
    const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version;
    process.exit(v === process.argv[2] ? 0 : 1);' "$pkg" "$pin"
}

status="hit"
if ! installed_ok "$target"; then
  status="miss"
  mkdir -p "$entry"
  # leftovers of killed installs (never complete: only a finished one is renamed)
  find "$entry" -maxdepth 1 -name '.install.*' -mmin +120 -exec rm -rf {} + 2>/dev/null || true
  tmp="$(mktemp -d "$entry/.install.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  cp "$here/package.json" "$lock" "$tmp/"
  echo "install.sh: cache miss, running npm ci into $tmp (this takes a few minutes)" >&2
  (cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed"
  installed_ok "$tmp/node_modules" || die "npm ci finished but firebase-tools $pin is not installed"
  # A stale, incomplete target (should not happen: we only ever rename complete
  # installs) is removed before the rename. `mv -T` refuses to move into an
  # existing non-empty directory, so a concurrent install that won the race is kept.
  if [[ -e "$target" ]] && ! installed_ok "$target"; then rm -rf "$target"; fi
  if ! mv -T "$tmp/node_modules" "$target" 2>/dev/null; then
    installed_ok "$target" || die "could not move the install into $target"
    echo "install.sh: another install finished first; using it" >&2
  fi
fi

link="$here/node_modules"
if [[ -L "$link" ]]; then
  rm -f "$link"
elif [[ -e "$link" ]]; then
  echo "install.sh: replacing the directory $link with a link to the cache" >&2
  rm -rf "$link"
fi
ln -s "$target" "$link"
installed_ok "$link" || die "$link does not contain firebase-tools $pin"

elapsed=$(( $(now_ms) - start ))
printf 'install.sh: gcs emulator ready (cache %s, key %s) in %d.%03d s: %s -> %s\n' \
  "$status" "$key" $((elapsed / 1000)) $((elapsed % 1000)) "$link" "$target"
