"""Sums of squares, in C, with the implementation that built it on record."""
from fastsum._speedups import built_for, sum_squares

__all__ = ["built_for", "sum_squares"]
