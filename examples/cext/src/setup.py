# The C extension is declared here; metadata lives in pyproject.toml. The
# same file serves the legacy `setup.py build/install` path.
from setuptools import Extension, setup

setup(
    name="fastsum",
    version="1.0",
    packages=["fastsum"],
    ext_modules=[Extension("fastsum._speedups", ["fastsum/_speedups.c"])],
)
