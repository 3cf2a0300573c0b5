"""The distributed fit: FasterCLARA rounds on samples, full-data scoring, full-data swap refinement.

Passes over the full data (the expensive part, see the distributed-fit issue):
1. validate, count and pack the rows into blocks for Python (``data.packing``; cached and resident on the
   executors: every later pass reads them),
2. draw ALL samples of all rounds plus the refinement candidate pool in one JVM pass,
3. per round: the samples' fit (reads only the small cached samples) and ONE scoring pass for all
   candidate medoid sets of the round,
4. per refinement pass: ONE pass for C × k exact swap deltas,
5. one final pass for cluster sizes, costs and the medoid silhouette (and, for a warm start, the transition
   table of the drift: ``sparkmed.fit.drift``).

A warm start (``initial``: a previous model's medoids) carries the previous medoids into every sample of
round 1 and scores them as one more candidate of round 1, so the refit is never worse on the new data than
the previous model and the previous cost comes free.
Driver memory: O(samples + k·d). Nothing here calls ``sparkContext`` or uses RDDs (Spark Connect safe).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from sparkmed.data.blocks import new_store, release
from sparkmed.data.features import (
    ID,
    KEY,
    DataStats,
    FeatureSpec,
    X,
    exact_distinct_points,
    example_row,
    max_abs_column,
    prepare,
)
from sparkmed.data.packing import pack_and_validate
from sparkmed.data.pass_log import full_data_pass, set_job_description
from sparkmed.data.sampling import SID, U, draw_samples
from sparkmed.errors import InputError
from sparkmed.fit.drift import Drift, drift_of
from sparkmed.fit.params import FitParams, check_params
from sparkmed.fit.passes import cluster_stats_pass, score_candidates_pass
from sparkmed.fit.refine import MedoidSet, RefinePass, fallback, refine
from sparkmed.fit.sample_fit import SAMPLE_RESULT_SCHEMA, SampleTask, fit_samples
from sparkmed.kernels import DEFAULT_MAX_ITER

log = logging.getLogger("sparkmed")
progress = logging.getLogger("sparkmed.progress")

POOL_SID = 1_000_000  # sample id of the refinement candidate pool


@dataclass
class RoundInfo:
    """One CLARA round: the candidates it scored and the best full-data cost so far."""

    round: int
    candidates: int
    best_cost: float
    improved: bool
    seconds: float


@dataclass
class FitResult:
    """Everything the fit found; the Estimator turns it into a model and its summary."""

    medoids: MedoidSet
    cost: float
    sizes: np.ndarray
    cluster_costs: np.ndarray
    silhouette: float
    stats: DataStats
    rounds: list[RoundInfo] = field(default_factory=list)
    refine_passes: list[RefinePass] = field(default_factory=list)
    refine_mode: str = "swaps"
    timings: dict[str, float] = field(default_factory=dict)
    drift: Drift | None = None  # warm starts only

    @property
    def mean_cost(self) -> float:
        return self.cost / self.stats.total_weight


def _check_data(params: FitParams, stats: DataStats, prepared: DataFrame, spec: FeatureSpec) -> None:
    """Data-dependent checks after validation: the metric's dimension, float64 overflow, k vs distinct points."""
    from sparkmed.kernels import check_dimension, overflow_problem

    try:
        if not callable(params.metric):
            check_dimension(params.metric, stats.dim)
    except ValueError as exc:
        raise InputError(f"metric '{params.metric}': {exc}") from None
    if not callable(params.metric):
        problem = overflow_problem(params.metric, params.p, stats.dim, stats.max_abs, stats.total_weight)
        if problem:
            row = example_row(prepared, spec, max_abs_column() == F.lit(stats.max_abs))
            raise InputError(f"{spec.describe()}: {problem} (largest value in row {row}); rescale the features "
                             "(or the weights)")
    if stats.approx_distinct_points < 2 * params.k + 100:
        distinct = stats.approx_distinct_points if stats.distinct_points_exact else exact_distinct_points(prepared)
        if distinct < params.k:
            raise InputError(f"k={params.k} is larger than the number of distinct points ({distinct})")


def pick_best(costs: np.ndarray, rel_tol: float = 1e-9) -> int:
    """Index of the lowest cost; near-ties (within rel_tol, i.e. float summation noise) go to the lowest index,
    so the choice does not depend on the order partial sums were added in."""
    best = float(np.min(costs))
    return int(np.flatnonzero(costs <= best + rel_tol * abs(best))[0])


def _collect_pool(samples: DataFrame, size: int, has_id: bool) -> MedoidSet:
    rows = samples.filter(F.col(SID) == POOL_SID).select(U, KEY, X, *([ID] if has_id else [])).collect()
    rows.sort(key=lambda r: (r[U], r[KEY]))
    seen: set[int] = set()
    keep = []
    for r in rows:
        if r[KEY] not in seen:
            seen.add(r[KEY])
            keep.append(r)
        if len(keep) >= size:
            break
    keep.sort(key=lambda r: r[KEY])
    return MedoidSet(
        np.array([r[KEY] for r in keep], dtype=np.int64),
        [r[ID] if has_id else None for r in keep],
        np.array([r[X] for r in keep], dtype=np.float64).reshape(len(keep), -1),
    )


def fit(df: DataFrame, spec: FeatureSpec, params: FitParams, initial: MedoidSet | None = None) -> FitResult:
    """Fit k medoids to ``df`` (see module doc); ``initial``: a previous model's medoids (a warm start, same k
    and encoding: checked by the caller; the dimension is checked here). Raises ``InputError`` before any
    clustering on bad input."""
    check_params(params)
    S = params.numSamples
    sids = [r * S + s for r in range(params.maxIter) for s in range(S)]
    with prepared_data(df, spec, params, sids) as (stats, samples, blocks, timings):
        if initial is not None and initial.x.shape[1] != stats.dim:
            raise InputError(f"initialModel: its medoids have {initial.x.shape[1]} features but "
                             f"{spec.describe()} has {stats.dim}; refit without an initial model")
        best, rounds, previous_cost = _clara_rounds(blocks, samples, params, stats, timings, initial)
        return finish(blocks, samples, spec, params, stats, best, rounds, timings, initial, previous_cost)


@contextmanager
def prepared_data(
    df: DataFrame, spec: FeatureSpec, params: FitParams, sids: list[int]
) -> Iterator[tuple[DataStats, DataFrame, DataFrame, dict[str, float]]]:
    """Validate ``df`` and prepare what every fit reads: (stats, samples, blocks, timings).

    Passes 1–2 of the module doc: validate + count + pack the features into blocks (persisted, resident), then
    draw the samples ``sids`` plus the refinement pool in one JVM pass (persisted). Both are released on exit.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    # The prepared rows are NOT cached: caching array rows costs more (measured ~1.7 µs/row here) than
    # recomputing them for the two passes that read them (pack + validate, sample); the packed blocks are.
    prepared = prepare(df, spec)
    samples = blocks = None
    try:
        describe_jobs(prepared, "validate, count and pack the features into blocks")
        blocks, stats = pack_and_validate(prepared, spec, new_store())
        describe_jobs(prepared, None)
        _check_data(params, stats, prepared, spec)
        phase_done(timings, "validate+pack", t0)
        log.info("sparkmed: %d rows, d=%d, total weight %.6g", stats.n_rows, stats.dim, stats.total_weight)
        t = time.perf_counter()
        all_sids = [*sids, POOL_SID]
        # numSamples partitions, partition j holding sample j of every round: a round then fits its samples
        # straight from the cache, one task per sample (no shuffle and no range-boundary job per round, and
        # no empty tasks: measured here, 16 mostly empty tasks cost 0.8 s more than 5 full ones).
        S = max(1, params.numSamples)
        samples = draw_samples(
            prepared, all_sids, sample_size=params.sample_size(), n_keys=stats.keys_lower_bound or stats.approx_keys,
            seed=params.seed,
        ).repartitionByRange(S, F.col(SID) % F.lit(S)).persist()
        describe_jobs(prepared, f"draw {len(all_sids)} samples")
        full_data_pass(f"input: draw {len(all_sids)} samples")
        samples.count()
        describe_jobs(prepared, None)
        phase_done(timings, "sample", t)
        yield stats, samples, blocks, timings
    except BaseException:
        if blocks is not None:
            release(blocks)  # the normal exit needs no job: the last statistics pass deleted the files
        raise
    finally:
        for cached in (samples, blocks):
            if cached is not None:
                cached.unpersist()


def finish(
    blocks: DataFrame, samples: DataFrame, spec: FeatureSpec, params: FitParams, stats: DataStats,
    best: MedoidSet, rounds: list[RoundInfo], timings: dict[str, float], initial: MedoidSet | None = None,
    previous_cost: float | None = None,
) -> FitResult:
    """Refine the best sample solution on the full data (passes 4) and compute the final statistics (pass 5;
    for a warm start from ``initial``, whose full-data cost is ``previous_cost``, also the drift)."""
    t = time.perf_counter()
    refine_passes: list[RefinePass] = []
    refined = None
    if params.refine != "none" and params.refinePasses > 0:
        describe_jobs(blocks, "collect the refinement candidate pool")
        pool = _collect_pool(samples, params.sample_size(), spec.idCol is not None)
        describe_jobs(blocks, None)
        refined = refine(
            blocks, stats.dim, best, pool, metric=params.metric, p=params.p, seed=params.seed,
            batch_size=params.refine_candidates(), max_passes=params.refinePasses, mode=params.refine,
        )
        best, refine_passes = refined.medoids, refined.passes
        phase_done(timings, "refine", t)
    t = time.perf_counter()
    previous = None if initial is None else initial.x
    summary = cluster_stats_pass(blocks, stats.dim, best.x, params.metric, params.p, last=True, previous=previous)
    if refined is not None and refined.unverified is not None:
        safer = fallback(refined.unverified, summary.cost, pool)
        if safer is not None:
            best = safer
            summary = cluster_stats_pass(blocks, stats.dim, best.x, params.metric, params.p, previous=previous)
    phase_done(timings, "statistics", t)
    drift = None
    if initial is not None:
        drift = drift_of(initial.x, best.x, summary.transitions, previous_cost, summary.cost, params.metric,
                         params.p, initial.sizes)
    return FitResult(
        medoids=best, cost=summary.cost, sizes=summary.sizes, cluster_costs=summary.cluster_costs,
        silhouette=summary.silhouette_sum / summary.total_weight, stats=stats,
        rounds=rounds, refine_passes=refine_passes, refine_mode=params.refine, timings=timings, drift=drift,
    )


def _clara_rounds(
    blocks: DataFrame, samples: DataFrame, params: FitParams, stats: DataStats, timings: dict[str, float],
    initial: MedoidSet | None = None,
) -> tuple[MedoidSet, list[RoundInfo], float | None]:
    """FasterCLARA: per round fit numSamples samples on executors, score all candidates in one pass.

    ``initial`` (a warm start) is carried into round 1's samples and scored as round 1's last candidate.
    Returns (best medoids, rounds, the initial medoids' full-data cost or None)."""
    S = params.numSamples
    best: MedoidSet | None = None
    best_cost = float("inf")
    previous_cost = None
    rounds: list[RoundInfo] = []
    for r in range(params.maxIter):
        t = time.perf_counter()
        carry = initial if best is None else best
        task = SampleTask(
            k=params.k, sample_size=params.sample_size(), metric=params.metric, p=params.p,
            algorithm=params.algorithm, init=params.init, max_iter=DEFAULT_MAX_ITER, seed=params.seed,
            carry_keys=None if carry is None else carry.keys,
            carry_x=None if carry is None else carry.x,
            carry_w=None if carry is None else np.ones(len(carry.keys)),
            carry_ids=None if carry is None else tuple(carry.ids),
        )
        first = r * S
        round_df = samples.filter((F.col(SID) >= first) & (F.col(SID) < first + S))
        describe_jobs(blocks, f"fit {S} samples, round {r + 1}")
        fitted = (
            round_df.mapInPandas(fit_samples(task, first), SAMPLE_RESULT_SCHEMA)
            .collect()
        )
        describe_jobs(blocks, None)
        good = sorted((row for row in fitted if row["ok"]), key=lambda row: row["sid"])
        if not good:
            messages = "; ".join(sorted(str(row["message"]) for row in fitted)) or "no sample drew any row"
            raise InputError(f"no sample could be clustered ({messages}); raise sampleSize")
        cands = np.array([row["medoids"] for row in good], dtype=np.float64)
        warm = r == 0 and initial is not None
        if warm:
            cands = np.concatenate([cands, initial.x[None]])
        costs = score_candidates_pass(blocks, stats.dim, cands, params.metric, params.p)
        if warm:
            previous_cost = float(costs[-1])
        i = pick_best(costs)
        improved = costs[i] < best_cost * (1 - 1e-9)
        if improved:
            if i == len(good):  # the previous model's medoids
                best = MedoidSet(initial.keys.copy(), list(initial.ids), initial.x.copy())
            else:
                row = good[i]
                best = MedoidSet(np.array(row["medoid_keys"], dtype=np.int64), list(row["medoid_ids"]), cands[i])
            best_cost = float(costs[i])
        seconds = time.perf_counter() - t
        rounds.append(RoundInfo(r + 1, len(good), best_cost, bool(improved), seconds))
        timings[f"round {r + 1}"] = seconds
        progress.info("phase round %d done in %.1f s", r + 1, seconds)
        log.info("sparkmed round %d: %d candidates, best cost %.6g (%s), %.1f s",
                 r + 1, len(good), best_cost, "improved" if improved else "no improvement", seconds)
        if not improved:
            break
    assert best is not None
    return best, rounds, previous_cost


def phase_done(timings: dict[str, float], name: str, started: float) -> None:
    """Record a phase's wall time and announce it on the ``sparkmed.progress`` logger (the CLI shows these)."""
    timings[name] = time.perf_counter() - started
    progress.info("phase %s done in %.1f s", name, timings[name])


def describe_jobs(df: DataFrame, text: str | None) -> None:
    set_job_description(df.sparkSession, text)

