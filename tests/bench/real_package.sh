#!/usr/bin/env bash
# The "larger real package" of the benchmarks: Debian's source of brotli
# 1.0.9 (its setup.py builds the whole C library into the Python extension,
# about 40 C files per implementation). Fetched once with `apt-get source`
# into a cache dir (a deb-src line is added when the machine has none), then a
# recipe beside the tarball is printed for nsbuild to build.
#   tests/bench/real_package.sh [CACHE_DIR]  → prints the recipe path
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${1:-/var/cache/nsbuild-bench}
tarball=brotli_1.0.9.orig.tar.gz
mkdir -p "$cache"
if [ ! -s "$cache/$tarball" ]; then
  if ! apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -q '^Sources$'; then
    [ "$(id -u)" -eq 0 ] || { echo "real_package.sh: no deb-src line and not root: cannot fetch $tarball" >&2; exit 1; }
    cat >/etc/apt/sources.list.d/nsbuild-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt-get update -qq >&2
  fi
  (cd "$cache" && apt-get source --download-only brotli=1.0.9-2 >&2)
fi
[ -s "$cache/$tarball" ] || { echo "real_package.sh: $cache/$tarball was not fetched" >&2; exit 1; }
cp "$top/tests/bench/brotli/recipe.json" "$cache/recipe.json"
chmod -R a+rX "$cache"
echo "$cache/recipe.json"
