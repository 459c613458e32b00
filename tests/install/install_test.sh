#!/usr/bin/env bash
# What `cmake --install` gives a user, checked on a staged install:
# the binary runs without the build tree (it finds its own policies and
# dispatcher beside it, never the checkout's), names no build path, links
# Debian's shared libraries unless built with -DNSBUILD_STATIC=ON, and comes
# with a manual page and bash completion that know every subcommand.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
src=$2
stage=$(mktemp -d /tmp/nsbuild-install-test.XXXXXX)
trap 'rm -rf "$stage"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$stage/usr" --strip >/dev/null
bin=$stage/usr/bin/nsbuild
[ -x "$bin" ] || fail "no bin/nsbuild after cmake --install"
[ -x "$stage/usr/libexec/nsbuild/nsbuild-exec" ] || fail "no libexec/nsbuild/nsbuild-exec"
# (Outputs are captured before grep reads them: with pipefail, `grep -q`
# leaving early would fail the writer with SIGPIPE now and then.)
version=$("$bin" --version)
grep -q '^nsbuild ' <<<"$version" || fail "--version: $version"

# No path of the build machine: neither the checkout nor the build dir.
for p in "$(cd "$src" && pwd)" "$(cd "$build" && pwd)"; do
  if grep -qF -- "$p" "$bin"; then fail "the installed binary contains the build path $p"; fi
done

# The policies it uses are the installed ones, found beside the binary, even
# with the checkout's policies sitting where the build tree put them.
out=$(cd / && env -u NSBUILD_POLICY_PATH "$bin" run --policy default --dry-run -- /bin/true 2>&1) ||
  fail "run --dry-run with the installed policy: $out"
grep -qF "$stage/usr/share/nsbuild/policies/default.json" <<<"$out" ||
  fail "the installed binary did not use its installed policy: $out"

cache=$(grep -E '^NSBUILD_STATIC:BOOL=' "$build/CMakeCache.txt" | cut -d= -f2 || true)
if [ "$cache" != "ON" ]; then
  libs=$(ldd "$bin")
  grep -q 'libseccomp\.so' <<<"$libs" || fail "not linked against Debian's libseccomp.so: $libs"
  # libcrypto is loaded on the first hash (base/sha256.cc), by its soname.
  grep -q 'libcrypto\.so' <<<"$libs" && fail "libcrypto is loaded at start again: $libs"
  grep -qa 'libcrypto\.so\.[0-9]' "$bin" || fail "the binary does not name libcrypto's soname"
fi

# The manual page: renders, and has a subsection for every subcommand.
man1=$stage/usr/share/man/man1/nsbuild.1
[ -f "$man1" ] || fail "no share/man/man1/nsbuild.1"
rendered=$(MANWIDTH=100 man -l "$man1" 2>&1) || fail "man -l failed: $rendered"
help=$("$bin" --help)
subs=$(awk '/^Subcommands:/ {on = 1; next} on && NF {print $1}' <<<"$help")
[ -n "$subs" ] || fail "no subcommands in --help"
for s in $subs; do
  grep -qE "^ +nsbuild $s\$" <<<"$rendered" || fail "the manual has no section for '$s'"
done
grep -q "EXIT STATUS" <<<"$rendered" || fail "the manual has no EXIT STATUS"

# Bash completion completes subcommands and a subcommand's options.
comp=$stage/usr/share/bash-completion/completions/nsbuild
[ -f "$comp" ] || fail "no bash completion"
complete_words() {
  bash -c 'source /usr/share/bash-completion/bash_completion; source "$1"; shift
           COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
           _nsbuild; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
[ "$(complete_words "$bin" bui)" = build ] || fail "completion of 'bui': $(complete_words "$bin" bui)"
got=$(complete_words "$bin" build --capt)
grep -qx -- --capture-writes <<<"$got" || fail "completion of 'build --capt': $got"
got=$(complete_words "$bin" merge --re)
grep -qx -- --recover <<<"$got" || fail "completion of 'merge --re': $got"
echo "install test passed: $(ls "$stage/usr/bin" "$stage/usr/libexec/nsbuild" | tr '\n' ' ')"
