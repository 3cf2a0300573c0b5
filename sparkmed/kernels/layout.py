"""Re-padding encoded rows (sparse ELL vectors, padded sets) to a common width. numpy/numba, no Spark.

The fit encodes every row to the data set's width ``L`` (largest non-zero count / set size), which the
model remembers. New data may hold a larger row; ``transform`` therefore receives rows *unpadded*
(``[nnz, idx..., val...]`` or ``[size, codes...]``) and pads each Arrow batch to
``W = max(L, largest row of the batch)``, re-padding the medoids to the same ``W``. Layouts: see
``sparkmed.kernels.encoded``. O(total values).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _pad(flat: np.ndarray, offsets: np.ndarray, sparse: bool, W: int) -> np.ndarray:
    n = offsets.shape[0] - 1
    out = np.zeros((n, 1 + (2 * W if sparse else W)), dtype=np.float64)
    for i in range(n):
        o = offsets[i]
        cnt = int(flat[o]) if offsets[i + 1] > o else 0
        out[i, 0] = cnt
        for t in range(cnt):
            out[i, 1 + t] = flat[o + 1 + t]
            if sparse:
                out[i, 1 + W + t] = flat[o + 1 + cnt + t]
    return out


def unpadded_count(flat: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """The leading count (nnz or set size) of each unpadded row (0 for empty rows)."""
    starts = offsets[:-1]
    nonempty = offsets[1:] > starts
    out = np.zeros(len(starts), dtype=np.int64)
    out[nonempty] = flat[starts[nonempty]].astype(np.int64)
    return out


def pad_unpadded(flat: np.ndarray, offsets: np.ndarray, kind: str, width: int) -> np.ndarray:
    """Rows given as concatenated unpadded encodings (``flat``, row ``offsets``) as an (n, D) padded array.

    ``kind``: "sparse" (D = 1 + 2·width) or "set" (D = 1 + width). Rows must hold at most ``width`` entries.
    """
    return _pad(np.ascontiguousarray(flat, dtype=np.float64), np.ascontiguousarray(offsets, dtype=np.int64),
                kind == "sparse", int(width))


def repad(rows: np.ndarray, kind: str, width: int) -> np.ndarray:
    """Padded rows (n, D) of one width re-padded to a larger ``width``."""
    rows = np.asarray(rows, dtype=np.float64)
    old = (rows.shape[1] - 1) // 2 if kind == "sparse" else rows.shape[1] - 1
    if width == old:
        return rows
    out = np.zeros((rows.shape[0], 1 + (2 * width if kind == "sparse" else width)))
    out[:, : 1 + old] = rows[:, : 1 + old]
    if kind == "sparse":
        out[:, 1 + width : 1 + width + old] = rows[:, 1 + old :]
    return out
