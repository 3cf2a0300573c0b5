"""Full-data refinement of a medoid set: a distributed FastCLARANS with exact swap deltas.

Sampling alone stays 1–2% above full FasterPAM at large k (``scripts/bench_quality.py``). Each refinement pass
takes a batch of C candidate points from a seeded candidate pool (half the pool points nearest to each medoid
within its cluster, half at random: ``next_batch``) and computes, in ONE Spark pass, the exact full-data
change of the total deviation for all C·k swaps (``passes.swap_delta_pass``). The driver then applies the best
improving swap and, greedily, further improving swaps that should not interact (distinct medoids, and
candidates whose nearest medoids differ from every medoid already touched). The next pass verifies: it reports
the exact loss of the new set; if several swaps together did worse than the best one alone would have, the
driver keeps only the better half of them (best first) and halves the cap on swaps per pass (a trust region;
the cap doubles again after a pass that did as predicted). Swaps of the LAST pass have no later pass to verify
them: the fit's statistics pass measures their loss, and if they did worse than the best one alone the fit
keeps that single swap instead (:func:`fallback`). Stops when a whole cycle through the pool finds no
improving swap (every pool point tried since the last improvement), after two consecutive passes without one,
or after ``max_passes`` passes. Cost per pass O(n·(k + C)) distances.

``mode="medoids"`` restricts swaps to (medoid, candidate of that medoid's own cluster): the cheap
PAMAE-phase-II style per-cluster medoid update.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from pyspark.sql import DataFrame

from sparkmed.fit.passes import swap_delta_pass

log = logging.getLogger("sparkmed")


@dataclass
class MedoidSet:
    """Medoids as real rows: their keys, ids (or None) and features (k × d)."""

    keys: np.ndarray
    ids: list
    x: np.ndarray
    sizes: np.ndarray | None = None  # a warm start's training cluster sizes (sparkmed.fit.drift), if known

    def replaced(self, swaps: list[tuple[int, int]], pool: MedoidSet) -> MedoidSet:
        keys, ids, x = self.keys.copy(), list(self.ids), self.x.copy()
        for i, c in swaps:
            keys[i], ids[i], x[i] = pool.keys[c], pool.ids[c], pool.x[c]
        return MedoidSet(keys, ids, x)


# Swaps applied but not yet verified: (medoids before, their exact loss, [(medoid, pool index, delta)] best
# first). The next pass's exact loss says whether they did at least as well as the best one alone.
Pending = tuple["MedoidSet", float, list[tuple[int, int, float]]]


def fallback(pending: Pending, loss_after: float, pool: MedoidSet, rel_tol: float = 1e-9) -> MedoidSet | None:
    """The medoids to use instead when unverified swaps did worse than the best one alone, else None."""
    before, before_loss, swaps = pending
    if loss_after > before_loss + swaps[0][2] + rel_tol * abs(before_loss):
        i, j, _ = swaps[0]
        return before.replaced([(i, j)], pool)
    return None


@dataclass
class RefinePass:
    """What one refinement pass saw and did."""

    index: int
    candidates: int
    loss: float  # exact full-data loss of the medoids the pass evaluated
    swaps: int
    predicted_gain: float
    seconds: float
    note: str = ""


@dataclass
class RefineResult:
    medoids: MedoidSet
    passes: list[RefinePass] = field(default_factory=list)
    loss: float | None = None  # exact loss of the final medoids if the last pass evaluated them
    # Set when the last pass applied several swaps that no later pass verified; the caller checks it with
    # its final statistics pass (``fallback``).
    unverified: Pending | None = None


def choose_swaps(
    gain: np.ndarray, cand_zone: np.ndarray, medoid_zone: np.ndarray, tol: float, max_swaps: int
) -> list[tuple[int, int, float]]:
    """Greedy list of improving (medoid i, candidate j, delta) swaps, best first, unlikely to interact.

    Ordered by delta, ties by (j, i). A swap touches a zone of medoids: i and its nearest other medoid
    (where i's points fall back to), and the two medoids nearest to the candidate (whose points it takes).
    A swap is kept only if its zone is disjoint from the zones of the swaps kept before it.
    """
    js, is_ = np.nonzero(gain < -tol)
    if js.size == 0:
        return []
    order = np.lexsort((is_, js, gain[js, is_]))
    touched: set[int] = set()
    used_c: set[int] = set()
    chosen: list[tuple[int, int, float]] = []
    for o in order:
        j, i = int(js[o]), int(is_[o])
        zone = {i, int(medoid_zone[i]), *map(int, cand_zone[j])}
        if j in used_c or zone & touched:
            continue
        chosen.append((i, j, float(gain[j, i])))
        touched |= zone
        used_c.add(j)
        if len(chosen) >= max_swaps:
            break
    return chosen


def zones(cand_x: np.ndarray, med_x: np.ndarray, metric: str, p: float) -> tuple[np.ndarray, np.ndarray]:
    """(two nearest medoids of every candidate (c × 2), nearest other medoid of every medoid (k,))."""
    from sparkmed.kernels import cross

    k = med_x.shape[0]
    dc = cross(cand_x, med_x, metric, p=p)
    two = np.argsort(dc, axis=1, kind="stable")[:, : min(2, k)]
    dm = cross(med_x, med_x, metric, p=p)
    np.fill_diagonal(dm, np.inf)
    return two, np.argmin(dm, axis=1)


def next_batch(
    pool: MedoidSet, current: MedoidSet, tried: set[int], perm: np.ndarray, batch_size: int,
    metric: str, p: float,
) -> list[int]:
    """The next candidates (pool indices): half local, half random, none tried since the last improvement.

    Local candidates are, round-robin over the medoids, the untried pool points of each medoid's cluster
    nearest to it (where a better medoid of a converged cluster lies); random ones (seeded permutation order)
    let a medoid move to a region that is under-served. Current medoids are never candidates.
    """
    from sparkmed.kernels import nearest_two

    in_use = set(current.keys.tolist())
    free = [j for j in range(len(pool.keys)) if j not in tried and int(pool.keys[j]) not in in_use]
    if not free:
        return []
    labels, dn, _ = nearest_two(pool.x[free], current.x, metric, p=p)
    by_medoid: dict[int, list[int]] = {}
    for pos in np.lexsort((np.asarray(free), dn, labels)):
        by_medoid.setdefault(int(labels[pos]), []).append(free[pos])
    batch: list[int] = []
    chosen: set[int] = set()
    queues = [by_medoid[i] for i in sorted(by_medoid)]
    depth = 0
    while len(batch) < (batch_size + 1) // 2 and any(depth < len(q) for q in queues):
        for q in queues:
            if depth < len(q) and len(batch) < (batch_size + 1) // 2:
                batch.append(q[depth])
                chosen.add(q[depth])
        depth += 1
    free_set = set(free)
    for j in perm:
        if len(batch) >= batch_size:
            break
        j = int(j)
        if j in free_set and j not in chosen:
            batch.append(j)
            chosen.add(j)
    return batch


def refine(
    df: DataFrame,
    dim: int,
    start: MedoidSet,
    pool: MedoidSet,
    *,
    metric: str,
    p: float,
    seed: int,
    batch_size: int = 64,
    max_passes: int = 10,
    max_swaps_per_pass: int | None = None,
    mode: str = "swaps",
    rel_tol: float = 1e-9,
    patience: int = 2,
) -> RefineResult:
    """Refine ``start`` by exact full-data swaps with candidates from ``pool`` (see module doc).

    Stops after ``patience`` consecutive passes without an improving swap, when the pool is exhausted, or
    after ``max_passes``.

    Several swaps per pass are applied greedily (``choose_swaps``) up to a cap that adapts like a trust
    region; how unverified swaps are checked and undone is in the module doc (one description, one place).
    """
    k = start.x.shape[0]
    cap = max_swaps_per_pass or max(1, k // 4)
    cap_limit = max(cap, k // 2)
    perm = np.random.default_rng(seed).permutation(len(pool.keys))
    tried: set[int] = set()
    dry = 0
    current = start
    result = RefineResult(medoids=start)
    pending: Pending | None = None
    for index in range(max_passes):
        t0 = time.perf_counter()
        batch = next_batch(pool, current, tried, perm, batch_size, metric, p)
        if not batch:
            break  # every pool point was tried since the last improvement: converged w.r.t. the pool
        cand = MedoidSet(pool.keys[batch], [pool.ids[j] for j in batch], pool.x[batch])
        sums = swap_delta_pass(
            df, dim, current.x, cand.x, metric, p, f"refine pass {index + 1}: {len(batch)} candidates × k={k}"
        )
        loss, removal, delta, shared = sums.loss, sums.removal, sums.delta, sums.shared
        if pending is not None:
            before, before_loss, swaps = pending
            pending = None
            if loss > before_loss + swaps[0][2] + rel_tol * abs(before_loss):
                # The swaps interacted and did worse than the best one alone: keep the better half.
                half = swaps[: max(1, len(swaps) // 2)]
                cap = max(1, len(half))
                current = before.replaced([(i, j) for i, j, _ in half], pool)
                pending = (before, before_loss, half) if len(half) > 1 else None
                result.passes.append(RefinePass(index + 1, len(batch), loss, 0, 0.0, time.perf_counter() - t0,
                                                f"swaps interacted: kept the best {len(half)}"))
                log.info("sparkmed refine pass %d: %d swaps interacted, keeping %d", index + 1, len(swaps), len(half))
                continue
            cap = min(cap_limit, cap * 2)
        gain = removal[None, :] + delta + shared[:, None]
        cand_zone, medoid_zone = zones(cand.x, current.x, metric, p)
        if mode == "medoids":
            mask = np.full(gain.shape, np.inf)
            mask[np.arange(len(batch)), cand_zone[:, 0]] = 0.0
            gain = gain + mask
        chosen = choose_swaps(gain, cand_zone, medoid_zone, rel_tol * abs(loss), cap)
        result.loss = loss
        if not chosen:
            tried.update(batch)
            dry += 1
            result.passes.append(RefinePass(index + 1, len(batch), loss, 0, 0.0, time.perf_counter() - t0))
            log.info("sparkmed refine pass %d: loss %.6g, no improving swap", index + 1, loss)
            if dry >= patience:
                break  # the most promising candidates (nearest each medoid) came first: stop here
            continue
        dry = 0
        tried.clear()
        swaps = [(i, batch[j], g) for i, j, g in chosen]
        if len(swaps) > 1:
            pending = (current, loss, swaps)
        current = current.replaced([(i, j) for i, j, _ in swaps], pool)
        result.loss = None
        predicted = -sum(g for _, _, g in swaps)
        result.passes.append(RefinePass(index + 1, len(batch), loss, len(swaps), predicted, time.perf_counter() - t0))
        log.info("sparkmed refine pass %d: loss %.6g, %d swap(s), predicted gain %.6g",
                 index + 1, loss, len(swaps), predicted)
    result.medoids = current
    result.unverified = pending
    return result
