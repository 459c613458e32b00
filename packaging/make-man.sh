#!/bin/sh
# Writes nsbuild.1 from the binary's own --help texts, so the manual cannot
# drift from the command line: help2man renders `nsbuild --help`, and an
# include file adds one subsection per subcommand with its --help verbatim,
# plus the sections --help has no room for (exit status, files, environment).
# Usage: make-man.sh NSBUILD_BINARY OUTPUT.1
set -eu
bin=$1
out=$2
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# roff treats a leading '.' or "'" as a request and '\' as an escape.
roff_verbatim() {
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

subcommands=$("$bin" --help | awk '/^Subcommands:/ {on = 1; next} on && NF {print $1}')

{
  echo "[COMMANDS]"
  for sub in $subcommands; do
    echo ".SS \"nsbuild $sub\""
    echo ".nf"
    "$bin" "$sub" --help | roff_verbatim
    echo ".fi"
  done
  cat <<'ROFF'
[EXIT STATUS]
.TP
.B 0
success.
.TP
.B 1
the job ran and failed: a sub\-phase failed or wrote outside its roots, the
merger refused an image or rolled back, a check found rejections.
.TP
.B 2
bad input or usage (the recipe, with its JSON path; a policy; an option):
nothing was done.
.TP
.B 125
a sandbox could not be set up.
.TP
.B 130, 143
interrupted by SIGINT or SIGTERM; every sandbox was killed, nothing merged.
[ENVIRONMENT]
.TP
.B NSBUILD_POLICY_PATH
colon\-separated directories searched for policy names before the installed
policies (as root, each must be owned by root and not writable by others).
.TP
.B NO_COLOR
no colour on the terminal.
[FILES]
.TP
.I PREFIX/share/nsbuild/policies/*.json
the installed policies (default, strict).
.TP
.I PREFIX/libexec/nsbuild/nsbuild\-exec
the exec\-wrapper dispatcher the merger installs into destinations.
.TP
.I DEST/var/lib/nsbuild/
the installed\-files database of a destination.
[SEE ALSO]
.BR bwrap (1),
.BR unshare (1),
.BR make (1),
.BR seccomp (2),
.BR user_namespaces (7).
The README (PREFIX/share/doc/nsbuild/README.md) explains every command with
examples.
ROFF
} >"$inc"

help2man --no-info --section=1 --source=nsbuild \
  --name="build a package once per implementation, each sub-phase in its own namespaces" \
  --include="$inc" --output="$out" "$bin"
