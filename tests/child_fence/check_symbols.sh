#!/usr/bin/env bash
# The fence around the code that runs between clone and exec
# (sandbox/child/): lists the undefined symbols of its library with nm and
# fails, naming each one, when a symbol is not on the allow-list.
#
#   check_symbols.sh NM ALLOWED_LIST ARCHIVE_OR_OBJECT...
#   check_symbols.sh --expect-rejected "SYM SYM..." NM ALLOWED_LIST FILE...
#
# The allow-list has one symbol per line, then `#` and why the child may
# call it; a line without its why is an error. The second form checks the
# check: it passes only when the files are rejected and every SYM is named.
set -euo pipefail

expect=""
if [ "${1:-}" = "--expect-rejected" ]; then
  expect=$2
  shift 2
fi
[ $# -ge 3 ] || { echo "usage: $0 [--expect-rejected SYMS] NM ALLOWED FILE..." >&2; exit 2; }
nm=$1
allowed=$2
shift 2

declare -A ok=()
lineno=0
while IFS= read -r line || [ -n "$line" ]; do
  lineno=$((lineno + 1))
  sym=${line%%#*}
  sym=${sym//[[:space:]]/}
  [ -z "$sym" ] && continue
  why=${line#*#}
  if [ "$why" = "$line" ] || [ -z "${why//[[:space:]]/}" ]; then
    echo "$allowed:$lineno: '$sym' has no '# why'" >&2
    exit 2
  fi
  ok[$sym]=1
done <"$allowed"

# Demangled names in the message, where binutils' c++filt is at hand.
cxxfilt=$(dirname "$nm")/c++filt
[ -x "$cxxfilt" ] || cxxfilt=$(command -v c++filt || echo cat)

# -A names the archive member on every line, -P prints "name type ...", -u
# only the undefined ones, --defined-only the others.
# A symbol one member defines and another uses is the child's own.
declare -A own=()
while read -r _where sym _rest; do
  [ -n "${sym:-}" ] && own[$sym]=1
done < <("$nm" --defined-only -P -A "$@")
listing=$("$nm" -u -P -A "$@")
rejected=()
while read -r where sym _type; do
  [ -n "${sym:-}" ] || continue
  [ -n "${own[$sym]:-}" ] && continue
  [ -n "${ok[$sym]:-}" ] && continue
  rejected+=("$sym")
  echo "not allowed in the sandbox child: $sym ($(echo "$sym" | "$cxxfilt")), used by ${where%:}"
done <<<"$listing"

if [ -n "$expect" ]; then
  [ ${#rejected[@]} -gt 0 ] || { echo "the check accepted what it must reject" >&2; exit 1; }
  for want in $expect; do
    printf '%s\n' "${rejected[@]}" | grep -xF -- "$want" >/dev/null ||
      { echo "the check did not name $want" >&2; exit 1; }
  done
  echo "rejected as expected: $expect"
  exit 0
fi
if [ ${#rejected[@]} -gt 0 ]; then
  echo "${#rejected[@]} symbol(s) above are not on $allowed: the child shares nsbuild's memory" \
    "and TLS, so it may call only raw syscalls and what that list explains (sandbox/child/init.h)."
  exit 1
fi
echo "every undefined symbol of the sandbox child is allowed ($(echo "$@" | wc -w) file(s) checked)"
