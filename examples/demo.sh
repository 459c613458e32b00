#!/usr/bin/env bash
# The README's main-job command: installs what is missing (as root, through
# apt-get), builds nsbuild, then shows the sandbox at work.
set -euo pipefail
NSBUILD_TOP=$(cd "$(dirname "$0")/.." && pwd)
export NSBUILD_TOP
source "$NSBUILD_TOP/tests/deps.sh"
BUILD=${NSBUILD_BUILD_DIR:-$NSBUILD_TOP/build}
nsbuild_install_deps
nsbuild_build "$BUILD" >/dev/null
nsbuild=$BUILD/bin/nsbuild

echo "== nsbuild doctor"
"$nsbuild" doctor

echo
echo "== who am I inside, and what does the host see?"
"$nsbuild" run -- /bin/sh -c 'id; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; cat /proc/self/uid_map'

echo
echo "== the view: read-only /usr and /etc, private /tmp, no host secrets, lo only"
"$nsbuild" run -- /bin/sh -c 'ls /; touch /usr/x 2>&1; cat /etc/shadow 2>&1; cat /proc/net/dev | tail -n +3 | cut -d: -f1'

echo
echo "== hostile calls fail: TIOCSTI, setuid chmod, mount, clone3"
"$nsbuild" run -- /usr/bin/python3 -c '
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *a):
    r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_ulong(x) for x in a])
    print(f"{name:28s}", "succeeded!" if r >= 0 else errno.errorcode[ctypes.get_errno()])
open("/tmp/f", "w").close()
call("ioctl(TIOCSTI | 1<<32)", 16, 0, 0x5412 | (1 << 32), 0)
call("chmod(/tmp/f, 04755)", 90, ctypes.cast(ctypes.c_char_p(b"/tmp/f"), ctypes.c_void_p).value, 0o4755)
call("unshare(CLONE_NEWUSER)", 272, 0x10000000)
call("clone3", 435, 0, 0)
'
echo
echo "== a project directory, writable, with a status report"
work=$(mktemp -d /tmp/nsbuild-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0777 "$work"
"$nsbuild" run --bind "$work:/work" --chdir /work --json-status "$work/status.json" -- \
  /bin/sh -c 'echo "int main(void){return 0;}" > t.c && cc -o t t.c && ./t && echo "compiled and ran t inside the sandbox"'
cat "$work/status.json"

echo
bash "$NSBUILD_TOP/examples/build_demo.sh" "$nsbuild"
