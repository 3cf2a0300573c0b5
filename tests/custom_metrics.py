"""Importable user metrics for the custom-metric tests (a saved model names its metric by module.qualname)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit
def my_euclidean(a, b):
    s = 0.0
    for t in range(a.shape[0]):
        s += (a[t] - b[t]) ** 2
    return np.sqrt(s)


@numba.njit
def canberra(a, b):
    s = 0.0
    for t in range(a.shape[0]):
        den = abs(a[t]) + abs(b[t])
        if den > 0:
            s += abs(a[t] - b[t]) / den
    return s


@numba.njit
def negative(a, b):
    return -1.0


@numba.njit
def not_zero_on_self(a, b):
    return 1.0
