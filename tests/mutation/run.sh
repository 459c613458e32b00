#!/usr/bin/env bash
# The mutation harness (tests/mutation/run.py): one deliberate bug at a time
# in a scratch copy of the tree, the affected test binary rebuilt and run, a
# kill/survive table printed. On demand, never in CI. Run as root (the
# integration tests it names run real sandboxes and mount).
exec python3 "$(dirname "$0")/run.py" "$@"
