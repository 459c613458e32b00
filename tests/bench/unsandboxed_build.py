#!/usr/bin/env python3
"""Baseline for build_bench.sh: a recipe's phase commands run unsandboxed.

Every implementation gets its own copy of the source and its own BUILD_DIR,
D, T and HOME under WORK, the same environment nsbuild gives (without the
jobserver: each make gets -jJOBS of its own), and the implementations run in
parallel, each one's phases in order.

    unsandboxed_build.py [--sequential] RECIPE WORK JOBS IMPL...

--sequential builds the implementations one after another instead (the
anchor of lxml_bench.sh: what a packager does without nsbuild).
"""
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading

PHASES = ["configure", "compile", "test", "install"]


def command_of(value):
    if isinstance(value, list):
        return "set -e\n" + "\n".join(value) if value else ""
    return value or ""


def newest_mtime(root):
    newest = int(os.lstat(root).st_mtime)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            newest = max(newest, int(os.lstat(os.path.join(dirpath, name)).st_mtime))
    return newest


def environment(recipe, impl, dirs, jobs, epoch):
    generic = recipe.get("define_implementations", {}).get(impl)
    env = dict(recipe.get("env", {}))
    if generic:
        env.update(generic.get("env", {}))
        python, epython = "/usr/bin/python3", "python3"
    else:
        python, epython = "/usr/bin/" + impl, impl
    env.update({
        "IMPL": impl, "PYTHON": python, "EPYTHON": epython, "S": dirs["src"],
        "BUILD_DIR": dirs["build"], "D": dirs["image"], "T": dirs["tmp"], "TMPDIR": dirs["tmp"],
        "HOME": dirs["home"], "JOBS": str(jobs), "MAKEFLAGS": "-j%d" % jobs,
        "SOURCE_DATE_EPOCH": str(epoch), "PATH": "/usr/local/bin:/usr/bin:/bin",
    })
    return env


def build_one(recipe, source, work, impl, jobs, epoch, failures):
    root = os.path.join(work, impl)
    dirs = {k: os.path.join(root, k) for k in ("src", "build", "image", "tmp", "home")}
    shutil.copytree(source, dirs["src"], symlinks=True)
    for k in ("build", "image", "tmp", "home"):
        os.makedirs(dirs[k])
    env = environment(recipe, impl, dirs, jobs, epoch)
    for phase in PHASES:
        cmd = command_of(recipe.get("phases", {}).get(phase))
        if not cmd:
            continue
        with open(os.path.join(root, phase + ".log"), "w") as log:
            rc = subprocess.call(["/bin/sh", "-c", cmd], cwd=dirs["src"], env=env,
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        if rc != 0:
            failures.append("%s:%s exit %d" % (impl, phase, rc))
            return


def unpacked(source, work):
    """A tarball is unpacked once (like nsbuild does); a single top-level
    directory is the source."""
    if os.path.isdir(source):
        return source
    dest = os.path.join(work, "_source")
    with tarfile.open(source) as t:
        t.extractall(dest)
    entries = os.listdir(dest)
    if len(entries) == 1 and os.path.isdir(os.path.join(dest, entries[0])):
        return os.path.join(dest, entries[0])
    return dest


def main():
    args = sys.argv[1:]
    sequential = bool(args) and args[0] == "--sequential"
    if sequential:
        args = args[1:]
    recipe_path, work, jobs, impls = args[0], args[1], int(args[2]), args[3:]
    with open(recipe_path) as f:
        recipe = json.load(f)
    source = os.path.join(os.path.dirname(os.path.abspath(recipe_path)), recipe["source"])
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    source = unpacked(source, work)
    epoch = recipe.get("source_date_epoch", newest_mtime(source))
    failures = []
    threads = [threading.Thread(target=build_one, args=(recipe, source, work, i, jobs, epoch, failures))
               for i in impls]
    for t in threads:
        t.start()
        if sequential:
            t.join()
    for t in threads:
        t.join()
    if failures:
        print("unsandboxed build failed: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
