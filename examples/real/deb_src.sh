# Sourced by examples/real/fetch.sh and tests/bench/real_package.sh: makes
# sure apt knows Debian's source packages (a deb-src entry for bookworm),
# adding one as root when there is none. Returns 3 when it cannot: not
# root, or the archive is unreachable; `who` names the caller in the error.
nsbuild_ensure_deb_src() {
  local who=$1
  apt-get indextargets --format '$(CREATED_BY)' 2>/dev/null | grep -q '^Sources$' && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: no deb-src line in apt's sources and not root: cannot fetch sources" >&2
    return 3
  fi
  cat >/etc/apt/sources.list.d/nsbuild-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq >&2 || { echo "$who: apt-get update failed: archive unreachable" >&2; return 3; }
}
