#!/usr/bin/env python3
"""The layering of nsbuild's folders, checked on the includes.

Every `#include "DIR/FILE"` in a C++ file of the tree must name a folder its
own folder may depend on (LAYERS below, lowest first: a folder may include
itself and any folder listed before it, except where ALLOWED narrows it),
and no two units (a FILE.h with its FILE.cc) may reach each other through
includes: an include cycle. Prints one line per finding and exits 1 if
there is any.

  layering.py ROOT                      check the tree at ROOT
  layering.py --expect-rejected "A B" ROOT
      pass only if the check rejects ROOT and every word (a unit or an
      include) appears in its findings: the self-test on a tree with
      deliberate back-edges (tests/style/layering_canary).
"""
import os
import re
import sys

# Lowest first. The CMake targets link in the same order (base ← launcher ←
# sandbox/child ← sandbox ← merge ← builder ← verify ← cli).
LAYERS = ["base", "launcher", "sandbox/child", "sandbox", "merge", "builder", "verify", "cli"]
# Narrower than "anything below": the child is fenced (sandbox/child/
# CMakeLists.txt) and may use only base's plain headers; merge does not
# run sandboxes.
ALLOWED = {
    # nsbuild-cc runs inside the sandbox, in every compile: nothing of
    # nsbuild's own but its one header.
    "launcher": set(),
    "sandbox/child": {"base"},
    "merge": {"base"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
SUFFIXES = (".h", ".cc")


def folder_of(rel):
    """The layer a path belongs to: the longest LAYERS entry it lies in."""
    best = None
    for layer in LAYERS:
        if rel == layer or rel.startswith(layer + "/"):
            if best is None or len(layer) > len(best):
                best = layer
    return best


def may_include(src, dst):
    if src == dst:
        return True
    if src in ALLOWED:
        return dst in ALLOWED[src]
    return LAYERS.index(dst) < LAYERS.index(src)


def unit_of(rel):
    return os.path.splitext(rel)[0]


def sources(root):
    for layer in LAYERS:
        top = os.path.join(root, layer)
        for dirpath, _, files in os.walk(top):
            for name in sorted(files):
                if name.endswith(SUFFIXES):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def find_cycles(edges):
    """Every cycle's units, once per strongly connected component (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def check(root):
    findings = []
    edges = {}
    for rel in sources(root):
        src = folder_of(os.path.dirname(rel))
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            dst = folder_of(os.path.dirname(inc))
            if dst is None:
                continue  # tests/, or a header beside the file
            if not may_include(src, dst):
                findings.append(f"{rel}: includes {inc}: {src}/ may not depend on {dst}/")
            if unit_of(inc) != unit_of(rel):
                edges.setdefault(unit_of(rel), set()).add(unit_of(inc))
    for comp in find_cycles(edges):
        findings.append("include cycle: " + " <-> ".join(comp))
    return findings


def main(argv):
    expect = None
    if len(argv) > 2 and argv[0] == "--expect-rejected":
        expect, argv = argv[1].split(), argv[2:]
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    findings = check(argv[0])
    for line in findings:
        print(line)
    if expect is None:
        return 1 if findings else 0
    text = "\n".join(findings)
    missing = [w for w in expect if w not in text]
    if not findings or missing:
        print(f"the check let through what it must reject: {missing or expect}")
        return 1
    print(f"rejected as expected ({len(findings)} finding(s))")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
