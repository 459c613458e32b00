#!/usr/bin/env python3
"""A small mutation harness: do the suites notice a deliberate bug?

Each mutation in mutations.txt is one exact source edit. The harness copies
the tree (tracked and untracked, not ignored files) to a scratch directory,
builds the test binaries there once, checks that every named test passes
unmutated, then applies one edit at a time, rebuilds only the binary that
mutation names, runs it with its gtest filter, and puts the file back. The
working tree is never touched. A mutation is KILLED when a test fails (or
times out), SURVIVED when every test passes, and STILLBORN when it does not
compile (fix the mutation, not the code).

  tests/mutation/run.sh [--only ID,ID] [--clean] [--scratch DIR] [--jobs N]

The scratch tree is kept and refreshed by the next run (only files that
differ are copied, so only they are rebuilt); --clean removes it at the end.

Not part of CI: each mutation costs a rebuild (about a minute on 2 cores).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))


def parse(path):
    """Blocks of 'key: value' lines separated by blank lines; '#' comments.
    from/to values use Python string escapes (\\n for a newline)."""
    muts, cur = [], {}
    for raw in open(path, encoding="utf-8").read().splitlines() + [""]:
        line = raw.rstrip("\n")
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                muts.append(cur)
                cur = {}
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key in ("from", "to"):
            value = value.encode("utf-8").decode("unicode_escape")
        cur[key.strip()] = value
    for m in muts:
        for k in ("id", "class", "file", "from", "to", "test"):
            if k not in m:
                sys.exit(f"mutation {m.get('id', '?')}: missing '{k}'")
    return muts


def copy_tree(dst):
    files = subprocess.run(["git", "-C", TOP, "ls-files", "-z", "-c", "-o", "--exclude-standard"],
                           check=True, capture_output=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        rel = f.decode()
        src = os.path.join(TOP, rel)
        if not os.path.isfile(src) or rel.split("/")[0].startswith("build-") or rel.startswith("build/"):
            continue
        out = os.path.join(dst, rel)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        # Only what differs, with a fresh mtime: an earlier run's objects
        # stay valid, and a file that changed is always rebuilt.
        if not os.path.exists(out) or open(out, "rb").read() != open(src, "rb").read():
            shutil.copyfile(src, out)


def sh(cmd, cwd=None, timeout=None, env=None):
    try:
        p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return "timeout", ""


def build(bdir, target, jobs):
    return sh(["cmake", "--build", bdir, "-j", str(jobs), "--target", target])


def run_test(bdir, spec, timeout, user=""):
    """Runs BINARY [FILTER]; with a user, as tests/run.sh's non-root pass
    does: a world-readable copy of the binaries, an empty environment."""
    binary, _, filt = spec.partition(" ")
    path = os.path.join(bdir, "tests", binary)
    args = ["--gtest_filter=" + (filt or "*"), "--gtest_brief=1"]
    if not user:
        return sh([path] + args, timeout=timeout)
    stage = os.path.join(os.path.dirname(bdir), "stage")
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    for f in (path, os.path.join(bdir, "builder", "nsbuild"), os.path.join(bdir, "merge", "nsbuild-exec")):
        shutil.copy2(f, stage)
    shutil.copytree(os.path.join(os.path.dirname(bdir), "src", "policies"), os.path.join(stage, "policies"))
    for root, dirs, files in os.walk(stage):
        for n in dirs + files:
            os.chmod(os.path.join(root, n), 0o755)
    os.chmod(stage, 0o755)
    return sh(["runuser", "-u", user, "--", "env", "-i", "PATH=/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp",
               "NSBUILD_BIN=" + os.path.join(stage, "nsbuild"),
               "NSBUILD_POLICY_PATH=" + os.path.join(stage, "policies"),
               "NSBUILD_EXEC_DISPATCHER=" + os.path.join(stage, "nsbuild-exec"),
               os.path.join(stage, binary)] + args, timeout=timeout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated mutation ids")
    ap.add_argument("--scratch", default="/tmp/nsbuild-mutation")
    ap.add_argument("--clean", action="store_true", help="remove the scratch tree at the end")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--list", default=os.path.join(HERE, "mutations.txt"))
    args = ap.parse_args()

    muts = parse(args.list)
    if args.only:
        want = set(args.only.split(","))
        muts = [m for m in muts if m["id"] in want]
    src = os.path.join(args.scratch, "src")
    bdir = os.path.join(args.scratch, "build")
    copy_tree(src)
    os.environ["CCACHE_BASEDIR"] = src  # same relative paths as the tree: cache hits
    launcher = ["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache") else []
    rc, out = sh(["cmake", "-S", src, "-B", bdir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"] + launcher)
    if rc != 0:
        sys.exit("configure failed:\n" + out)

    # A run that stopped mid-mutation may have left objects built from a
    # mutated file: the mutated files are rebuilt once from their true text.
    for m in muts:
        os.utime(os.path.join(src, m["file"]))
    # Every mutation's text must be there exactly once, and every named test
    # must pass before anything is mutated.
    for m in muts:
        text = open(os.path.join(src, m["file"]), encoding="utf-8").read()
        n = text.count(m["from"])
        if n != 1:
            sys.exit(f"{m['id']}: 'from' text found {n} times in {m['file']} (must be exactly once)")
    binaries = sorted({m["test"].split(" ")[0] for m in muts})
    for b in binaries:
        print(f"building {b} ...", flush=True)
        rc, out = build(bdir, b, args.jobs)
        if rc != 0:
            sys.exit(f"unmutated build of {b} failed:\n{out[-3000:]}")
    for spec, user in sorted({(m["test"], m.get("as", "")) for m in muts}):
        rc, out = run_test(bdir, spec, args.timeout, user)
        if rc != 0:
            sys.exit(f"unmutated tree fails '{spec}' {user}:\n{out[-3000:]}")
    print(f"baseline: {len(binaries)} binaries built, every named test passes\n", flush=True)

    rows = []
    for m in muts:
        path = os.path.join(src, m["file"])
        original = open(path, encoding="utf-8").read()
        t0 = time.time()
        try:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original.replace(m["from"], m["to"], 1))
            rc, out = build(bdir, m["test"].split(" ")[0], args.jobs)
            if rc != 0:
                result = "STILLBORN"
            else:
                rc, out = run_test(bdir, m["test"], args.timeout, m.get("as", ""))
                result = "KILLED" if rc != 0 else "SURVIVED"
                if rc == "timeout":
                    result = "KILLED (timeout)"
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        rows.append((m, result, time.time() - t0))
        print(f"{m['id']:<28} {result:<16} {time.time() - t0:5.0f}s", flush=True)

    print("\n| id | class | file | what the mutation does | test | result |")
    print("|---|---|---|---|---|---|")
    for m, result, _ in rows:
        user = f" (as {m['as']})" if m.get("as") else ""
        print(f"| {m['id']} | {m['class']} | {m['file']} | {m.get('what', '')} | "
              f"`{m['test']}`{user} | {result} |")
    killed = sum(r.startswith("KILLED") for _, r, _ in rows)
    survived = sum(r == "SURVIVED" for _, r, _ in rows)
    print(f"\n{killed} killed, {survived} survived, {len(rows) - killed - survived} stillborn "
          f"of {len(rows)}")
    if args.clean:
        shutil.rmtree(args.scratch, ignore_errors=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
