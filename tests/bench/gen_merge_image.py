#!/usr/bin/env python3
"""Writes a synthetic package image for the merge benchmark.

usage: gen_merge_image.py DIR FILES [TOTAL_MB]

FILES regular files (plus a symlink per 50 files) spread over directories of
100 under DIR/usr/share/bench and DIR/usr/lib/bench, sizes drawn from a
fixed-seed log-uniform distribution scaled so the total is about TOTAL_MB
(default: 4 KB a file on average, 400 MB for 100k files). Deterministic:
the same arguments give the same tree.
"""
import os
import random
import sys


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, files = sys.argv[1], int(sys.argv[2])
    total = int(float(sys.argv[3]) * 1024 * 1024) if len(sys.argv) > 3 else files * 4096
    rng = random.Random(42)
    sizes = [int(2 ** rng.uniform(6, 15)) for _ in range(files)]
    scale = total / max(1, sum(sizes))
    block = os.urandom(1 << 16) * 2
    for i, size in enumerate(sizes):
        top = "usr/share/bench" if i % 3 else "usr/lib/bench"
        d = os.path.join(root, top, "d%05d" % (i // 100))
        if i % 100 == 0 or not os.path.isdir(d):
            os.makedirs(d, exist_ok=True)
        n = max(1, int(size * scale))
        off = (i * 7919) % (1 << 16)
        with open(os.path.join(d, "f%07d" % i), "wb") as f:
            while n > 0:
                chunk = block[off:off + min(n, 1 << 16)]
                f.write(chunk)
                n -= len(chunk)
        if i % 50 == 0:
            os.symlink("f%07d" % i, os.path.join(d, "l%07d" % i))


if __name__ == "__main__":
    main()
