"""Executor side of the CLARA rounds: cluster every sample of a partition with the numba kernels.

The samples DataFrame is range-partitioned by sample id so that samples run in parallel; each task
receives one or more whole samples, keeps each sample's ``sample_size`` keys with the smallest uniform
numbers, adds the carried-over best medoids (FasterCLARA), merges identical points into weighted points,
sorts by key (so the result does not depend on row order), and runs the kernel.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sparkmed.data.features import ID, KEY, W, X
from sparkmed.data.sampling import SID, U

SAMPLE_RESULT_SCHEMA = (
    "sid int, k int, n_points int, loss double, ok boolean, message string, "
    "medoid_keys array<long>, medoid_ids array<string>, medoids array<array<double>>"
)


@dataclass(frozen=True)
class SampleTask:
    """Everything an executor needs to fit the samples of one round (shipped in the UDF closure)."""

    k: int
    sample_size: int
    metric: str
    p: float
    algorithm: str
    init: str
    max_iter: int
    seed: int
    carry_keys: np.ndarray | None = None  # (k,) keys of the best medoids so far
    carry_x: np.ndarray | None = None  # (k, d)
    carry_w: np.ndarray | None = None  # (k,)
    carry_ids: tuple[str, ...] | None = None
    ks: tuple[int, ...] | None = None  # several k on every sample (select_k): one matrix, one fit per k


def sample_seed(seed: int, sid: int) -> int:
    """The kernel seed of sample ``sid``: a fixed mix of the user's seed and the sample id."""
    return (int(seed) * 0x9E3779B97F4A7C15 + sid + 1) % (2**31 - 1)


def _fit_one(task: SampleTask, sid: int, pdf: pd.DataFrame, first_in_round: bool) -> list[dict]:
    """Fit one sample for k (or every k of ``task.ks``); one result row per k."""
    from sparkmed.kernels import cluster_points, merge_duplicates, sample_matrix

    pdf = pdf.sort_values([U, KEY], kind="mergesort")
    pdf = pdf.drop_duplicates(KEY, keep="first").head(task.sample_size)
    has_id = ID in pdf.columns
    keys = pdf[KEY].to_numpy(np.int64)
    xs = np.stack(pdf[X].to_numpy()).astype(np.float64) if len(pdf) else np.empty((0, 0))
    ws = pdf[W].to_numpy(np.float64)
    ids = pdf[ID].to_numpy(object) if has_id else np.array([None] * len(pdf), dtype=object)
    if task.carry_keys is not None:
        new = ~np.isin(task.carry_keys, keys)
        keys = np.concatenate([keys, task.carry_keys[new]])
        xs = np.vstack([xs.reshape(-1, task.carry_x.shape[1]), task.carry_x[new]])
        ws = np.concatenate([ws, task.carry_w[new]])
        carry_ids = np.array(task.carry_ids if task.carry_ids else [None] * len(new), dtype=object)
        ids = np.concatenate([ids, carry_ids[new]])
    order = np.argsort(keys, kind="stable")
    keys, xs, ws, ids = keys[order], xs[order], ws[order], ids[order]
    rep, merged_w, _ = merge_duplicates(xs, ws)
    keys, xs, ids = keys[rep], xs[rep], ids[rep]
    m = len(keys)
    ks = task.ks or (task.k,)
    failed = {"sid": sid, "n_points": m, "loss": float("nan"), "ok": False, "medoid_keys": [], "medoid_ids": [],
              "medoids": []}
    if merged_w.sum() <= 0:
        return [{**failed, "k": k, "message": f"sample {sid} has zero total weight"} for k in ks]
    start = None
    if first_in_round and task.carry_keys is not None:
        start = np.searchsorted(keys, np.sort(task.carry_keys))
        start = start if np.all(keys[np.minimum(start, m - 1)] == np.sort(task.carry_keys)) else None
    diss, factor = sample_matrix(xs, task.metric, task.p) if m >= min(ks) else (None, 1.0)
    out = []
    for k in ks:
        if m < k:
            out.append({**failed, "k": k, "message": f"sample {sid} has only {m} distinct points, fewer than k={k}"})
            continue
        result = cluster_points(
            xs, k, metric=task.metric, p=task.p, algorithm=task.algorithm, init=task.init,
            medoids=start, weights=merged_w, random_state=sample_seed(task.seed, sid), max_iter=task.max_iter,
            diss=diss,
        )
        med = np.sort(result.medoids)  # canonical order: by key
        out.append({
            "sid": sid, "k": k, "n_points": m, "loss": float(result.loss) * factor, "ok": True, "message": None,
            "medoid_keys": keys[med].tolist(),
            "medoid_ids": [None if v is None else str(v) for v in ids[med]],
            "medoids": xs[med].tolist(),
        })
    return out


def fit_samples(task: SampleTask, first_sid: int):
    """A ``mapInPandas`` function that fits every sample found in its partition.

    ``first_sid`` is the first sample id of the round: that sample starts from the carried-over medoids
    (if any), the others from the ``init`` method, so a round both polishes the best set and explores.
    """

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        import numba

        numba.set_num_threads(1)
        parts = [b for b in batches if len(b)]
        if not parts:
            return
        pdf = pd.concat(parts, ignore_index=True)
        rows = [
            row
            for sid, group in pdf.groupby(SID, sort=True)
            for row in _fit_one(task, int(sid), group, int(sid) == first_sid)
        ]
        yield pd.DataFrame(rows, columns=[c.split()[0] for c in SAMPLE_RESULT_SCHEMA.split(", ")])

    return run
