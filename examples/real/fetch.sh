#!/usr/bin/env bash
# Fetches a Debian 12 source package for the recipes beside this script:
#   examples/real/fetch.sh PACKAGE [DIR]   → prints DIR/recipe.json
# PACKAGE is markupsafe or lxml (the versions the recipes pin). DIR defaults
# to examples/real/PACKAGE; another DIR (a cache, as the integration test
# uses) gets a copy of the recipe. `apt-get source --download-only` fetches
# the .dsc and its tarballs (a deb-src line is added when the machine has
# none, as tests/bench/real_package.sh does); the recipe's sha256 is the
# .dsc's for the upstream tarball, and Debian's patches are unpacked from
# the debian tarball into DIR/debian/patches for the recipe's "patches".
# Exit status 3: the archive could not be reached (nothing to build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deb_src.sh
source "$here/deb_src.sh"
pkg=${1:?usage: fetch.sh PACKAGE [DIR]}
case $pkg in
  markupsafe) version=2.1.2-1 ;;
  lxml) version=4.9.2-1 ;;
  *) echo "fetch.sh: no recipe for $pkg (markupsafe, lxml)" >&2; exit 2 ;;
esac
dir=${2:-$here/$pkg}
upstream=${version%-*}
orig=${pkg}_${upstream}.orig.tar.gz
mkdir -p "$dir"
cmp -s "$here/$pkg/recipe.json" "$dir/recipe.json" || cp "$here/$pkg/recipe.json" "$dir/recipe.json"
if [ ! -s "$dir/$orig" ]; then
  nsbuild_ensure_deb_src fetch.sh || exit 3
  # A tarball the mirror lacks fails apt-get as a whole; what counts is
  # that the upstream tarball and the .dsc arrived (checked below).
  (cd "$dir" && apt-get source --download-only "$pkg=$version" >&2) || true
fi
if [ ! -s "$dir/$orig" ] || [ ! -s "$dir/${pkg}_$version.dsc" ]; then
  echo "fetch.sh: $orig was not fetched: the Debian archive is unreachable" >&2
  exit 3
fi
# The .dsc names the tarball's sha256; the recipe must say the same.
want=$(awk '/^Checksums-Sha256:/ {on = 1; next} /^[^ ]/ {on = 0} on && $3 == f {print $1}' \
  f="$orig" "$dir/${pkg}_$version.dsc")
grep -q "\"sha256\": \"$want\"" "$dir/recipe.json" ||
  { echo "fetch.sh: the .dsc's sha256 of $orig ($want) is not the recipe's" >&2; exit 1; }
debian=$dir/${pkg}_$version.debian.tar.xz
if [ -s "$debian" ] && [ ! -d "$dir/debian/patches" ]; then
  tar -xJf "$debian" -C "$dir" --no-same-owner --wildcards 'debian/patches/*' 2>/dev/null || true
fi
# Readable by the unprivileged test pass; only the owner can (and need) change it.
[ -O "$dir" ] && chmod -R a+rX "$dir"
echo "$dir/recipe.json"
