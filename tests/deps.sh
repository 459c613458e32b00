#!/usr/bin/env bash
# Installs (as root, through apt-get) whatever the build, the tests and the
# demo need and the machine lacks, then configures and builds nsbuild.
# Sourced by tests/run.sh and examples/demo.sh so both stay honest on a fresh
# Debian 12 machine.

NSBUILD_PACKAGES=(
  build-essential cmake pkg-config make
  libseccomp-dev libcap-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libssl-dev
  libgtest-dev clang libclang-rt-14-dev
  bubblewrap uidmap passwd util-linux iproute2 procps
  python3 python3-dev python3-setuptools python3-build python3-installer python3-wheel
  pypy3 pypy3-dev
  # build classes: hardening flags (dpkg-buildflags), the Python classes' test
  # runner (pypy3 imports pytest from /usr/lib/python3 too, with exceptiongroup),
  # .zip sources (bsdtar), real packages' headers (lxml), the meson and autotools classes
  dpkg-dev python3-pytest python3-exceptiongroup libarchive-tools libxml2-dev libxslt1-dev
  meson autoconf automake
  distcc
  # cmake --install: the manual page is generated with help2man; the
  # completion test loads bash-completion; the manual test renders with man
  help2man bash-completion man-db
  # tests: every C++ file is checked against .clang-format
  clang-format
  # tests: the merger's durability barriers are checked in the order strace records them
  strace
  # nsbuild verify: fileordering, time, diffoscope reports; the benchmark's baseline
  disorderfs faketime diffoscope-minimal reprotest
)

nsbuild_install_deps() {
  local missing=()
  for p in "${NSBUILD_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "nsbuild: missing packages: ${missing[*]} (run as root to install them)" >&2
    return 1
  fi
  echo "nsbuild: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# nsbuild_build BUILD_DIR [extra cmake args...]
nsbuild_build() {
  local dir=$1
  shift
  # ccache only speeds up rebuilds on a machine that has it; paths are taken
  # relative to the checkout so another clone of the tree hits the same cache.
  local launcher=()
  if command -v ccache >/dev/null; then
    export CCACHE_BASEDIR=$NSBUILD_TOP
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$NSBUILD_TOP" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "$@" >/dev/null
  # NSBUILD_TARGET=NAME builds only that target (and what it needs).
  cmake --build "$dir" -j "$(nproc)" ${NSBUILD_TARGET:+--target "$NSBUILD_TARGET"}
}
