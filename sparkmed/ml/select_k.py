"""Choosing k: fit every k on the same samples, score all (k, sample) solutions in one full-data pass.

The distributed counterpart of DynMSC (Lenssen & Schubert 2023), in the CLARA style of the fit:

1. validate + pack the blocks, draw ``numSamples`` samples (size for the largest k) and the refinement
   pool — the same two input passes as a single fit, done once for all k;
2. on the executors, every sample builds its dissimilarity matrix ONCE and runs the per-sample algorithm
   for every k in ``ks`` (LAB init per k);
3. ONE full-data pass computes, for every (k, sample) solution, its cost Σ w·d1 and its medoid silhouette
   Σ w·(1 - d1/d2) (d1, d2: distances to the nearest and second-nearest medoid);
4. **the rule**: for each k the solution with the lowest full-data cost wins (the CLARA criterion, as in a
   fit); the best k is the one whose winner has the highest full-data medoid silhouette; ties (within 1e-12)
   go to the smaller k;
5. that k's winner is refined with full-data swaps and summarised exactly like ``KMedoids.fit`` would.

Cost: the two input passes + one scoring pass of O(n·Σk·numSamples) distances + the refinement of
one k — instead of |ks| separate fits. The table's numbers are those of the unrefined sample solutions;
the returned model's summary has the refined ones.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.sampling import SID
from sparkmed.errors import InputError
from sparkmed.fit.clara import RoundInfo, describe_jobs, finish, phase_done, prepared_data
from sparkmed.fit.params import FitParams, check_params
from sparkmed.fit.passes import candidate_stats_pass
from sparkmed.fit.refine import MedoidSet
from sparkmed.fit.sample_fit import SAMPLE_RESULT_SCHEMA, SampleTask, fit_samples
from sparkmed.kernels import DEFAULT_MAX_ITER
from sparkmed.ml.estimator import KMedoids, KMedoidsModel, model_of
from sparkmed.ml.plan import fit_params, plan_fit

log = logging.getLogger("sparkmed")


@dataclass
class SelectKResult:
    """What ``select_k`` found: the chosen k, the per-k table and the refined model for the chosen k."""

    best_k: int
    table: list[dict]
    model: KMedoidsModel

    def to_pandas(self):
        """The table as a pandas DataFrame (k, cost, mean_cost, silhouette, candidates)."""
        import pandas as pd

        return pd.DataFrame(self.table)


def _check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    try:
        values = list(ks)
    except TypeError:
        raise InputError(f"ks must be an iterable of integers ≥ 2, got {ks!r}") from None
    if not values:
        raise InputError("ks is empty: give at least one k ≥ 2")
    for k in values:
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
            raise InputError(f"ks must contain integers ≥ 2, got {k!r}")
    return tuple(sorted({int(k) for k in values}))


def select_k(dataset: DataFrame, ks: Iterable[int] = range(2, 31), **params) -> SelectKResult:
    """Pick k by the full-data medoid silhouette (rule in the module doc) and return the refined model.

    ``params`` are ``KMedoids`` parameters (metric, seed, featuresCol/inputCols, idCol, weightCol,
    numSamples, sampleSize, refine, ...); ``k`` and ``maxIter`` are not used (one sampling round).
    The default sample size is the one for the largest k.
    """
    k_values = _check_ks(ks)
    params.pop("k", None)
    try:
        estimator = KMedoids(k=max(k_values), **params)
    except TypeError as exc:
        raise InputError(f"select_k: {exc}") from None
    plain = fit_params(estimator)
    for k in k_values:
        check_params(replace(plain, k=k, sampleSize=plain.sample_size()))
    plan = plan_fit(estimator, dataset)
    spec, base = plan.spec, plan.params
    S = base.numSamples
    with prepared_data(dataset, spec, base, list(range(S))) as (stats, samples, blocks, timings):
        t = time.perf_counter()
        task = SampleTask(
            k=max(k_values), sample_size=base.sample_size(), metric=base.metric, p=base.p,
            algorithm=base.algorithm, init=base.init, max_iter=DEFAULT_MAX_ITER, seed=base.seed, ks=k_values,
        )
        describe_jobs(blocks, f"fit {S} samples for k in {list(k_values)}")
        fitted = (
            samples.filter(F.col(SID) < S)
            .mapInPandas(fit_samples(task, 0), SAMPLE_RESULT_SCHEMA).collect()
        )
        describe_jobs(blocks, None)
        good = sorted((r for r in fitted if r["ok"]), key=lambda r: (r["k"], r["sid"]))
        usable = [k for k in k_values if any(r["k"] == k for r in good)]
        if not usable:
            messages = "; ".join(sorted({str(r["message"]) for r in fitted})) or "no sample drew any row"
            raise InputError(f"no sample could be clustered for any k ({messages}); raise sampleSize")
        cands = [np.array(r["medoids"], dtype=np.float64) for r in good]
        sums = candidate_stats_pass(blocks, stats.dim, cands, base.metric, base.p)
        costs, sils, w_sum = sums.costs, sums.silhouette_sums, sums.total_weight
        table, winners = [], {}
        for k in usable:
            idx = [i for i, r in enumerate(good) if r["k"] == k]
            i = min(idx, key=lambda j: (costs[j], j))
            winners[k] = i
            table.append({"k": k, "cost": float(costs[i]), "mean_cost": float(costs[i] / w_sum),
                          "silhouette": float(sils[i] / w_sum), "candidates": len(idx)})
        best_sil = max(row["silhouette"] for row in table)
        best_k = min(row["k"] for row in table if row["silhouette"] >= best_sil - 1e-12)
        phase_done(timings, "select k", t)
        for row in table:
            log.info("sparkmed select_k: k=%d cost %.6g silhouette %.4f", row["k"], row["cost"], row["silhouette"])
        w = good[winners[best_k]]
        best = MedoidSet(np.array(w["medoid_keys"], dtype=np.int64), list(w["medoid_ids"]), cands[winners[best_k]])
        rounds = [RoundInfo(1, len([r for r in good if r["k"] == best_k]), float(costs[winners[best_k]]), True,
                            timings["select k"])]
        final_params: FitParams = replace(base, k=best_k, sampleSize=base.sample_size())
        result = finish(blocks, samples, spec, final_params, stats, best, rounds, timings)
    model = model_of(estimator.copy({estimator.k: best_k}), result, dataset, spec.encoding)
    return SelectKResult(best_k=best_k, table=table, model=model)
