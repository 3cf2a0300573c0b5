"""Spark-free checks of the driver-side helpers of ``sparkmed.fit.refine`` (no SparkSession is started).

- ``choose_swaps``: improving swaps only (delta < -tol), best first with ties by (candidate j, medoid i), zones
  {i, medoid_zone[i], *cand_zone[j]} pairwise disjoint, each candidate once, at most ``max_swaps``; compared
  with a brute-force greedy reference on random inputs.
- ``zones``: the two nearest medoids of each candidate and the nearest other medoid of each medoid, against
  distances computed by hand / by numpy.
- ``next_batch``: half local (round-robin over the medoids, nearest first inside each cluster), half from the
  seeded permutation; never a current medoid or a tried index, no duplicates, at most ``batch_size``,
  deterministic; hand-made 1-D examples and a brute-force reference.
- ``MedoidSet.replaced`` and ``fallback`` (the single best swap applied to ``before`` when the unverified
  swaps did worse than it alone would have).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sparkmed.fit.refine import MedoidSet, choose_swaps, fallback, next_batch, zones

# --------------------------------------------------------------------------------------------- choose_swaps


def _choose_ref(gain, cand_zone, medoid_zone, tol, max_swaps):
    """Brute force: every improving (delta, j, i) sorted, then the greedy disjoint-zone scan."""
    c, k = gain.shape
    items = sorted((float(gain[j, i]), j, i) for j in range(c) for i in range(k) if gain[j, i] < -tol)
    touched, used, out = set(), set(), []
    for g, j, i in items:
        if len(out) >= max_swaps:
            break
        zone = {i, int(medoid_zone[i])} | {int(z) for z in cand_zone[j]}
        if j in used or zone & touched:
            continue
        out.append((i, j, g))
        touched |= zone
        used.add(j)
    return out


def _spread(k: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """Zones that never overlap unless two swaps share a medoid: medoid i's zone is {i} only."""
    return np.zeros((c, 0), dtype=np.int64), np.arange(k)


def test_nothing_improves_gives_no_swap():
    gain = np.array([[0.0, 1.0], [2.0, 0.0]])
    cand_zone, medoid_zone = np.array([[0, 1], [1, 0]]), np.array([1, 0])
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 5) == []
    # negative but not below -tol: not an improvement
    gain = np.array([[-0.5, -1.0], [-0.999, 0.0]])
    assert choose_swaps(gain, cand_zone, medoid_zone, 1.0, 5) == []


def test_tol_threshold_is_strict():
    cand_zone, medoid_zone = _spread(1, 3)
    gain = np.array([[-1.0], [-1.0 - 1e-6], [-0.5]])
    # only gain < -tol counts: -1.0 is not < -1.0
    assert choose_swaps(gain, cand_zone, medoid_zone, 1.0, 5) == [(0, 1, -1.0 - 1e-6)]
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 5) == [(0, 1, -1.0 - 1e-6)]  # one medoid: one swap


def test_best_first_by_delta():
    k, c = 4, 4
    cand_zone, medoid_zone = _spread(k, c)
    gain = np.full((c, k), 1.0)
    gain[0, 3] = -1.0
    gain[1, 0] = -4.0
    gain[2, 2] = -3.0
    gain[3, 1] = -2.0
    got = choose_swaps(gain, cand_zone, medoid_zone, 0.0, 10)
    assert got == [(0, 1, -4.0), (2, 2, -3.0), (1, 3, -2.0), (3, 0, -1.0)]
    assert all(isinstance(g, float) for _, _, g in got)


def test_ties_go_to_lowest_candidate_then_lowest_medoid():
    k, c = 4, 3
    cand_zone, medoid_zone = _spread(k, c)
    gain = np.zeros((c, k))
    gain[2, 0] = -5.0
    gain[1, 1] = -5.0
    gain[0, 2] = -5.0
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 10) == [(2, 0, -5.0), (1, 1, -5.0), (0, 2, -5.0)]
    # same candidate, same delta for two medoids: the lower medoid wins, the candidate is then used
    gain = np.zeros((c, k))
    gain[1, 3] = -2.0
    gain[1, 1] = -2.0
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 10) == [(1, 1, -2.0)]


def test_a_candidate_is_used_once():
    k, c = 3, 2
    cand_zone, medoid_zone = _spread(k, c)
    gain = np.array([[-3.0, -2.0, -1.0], [0.0, 0.0, -0.5]])
    # candidate 0 is best for medoid 0; its other improvements are skipped; candidate 1 takes medoid 2
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 10) == [(0, 0, -3.0), (2, 1, -0.5)]


def test_zones_must_be_disjoint():
    # k = 6 medoids. Swap (i=0, j=0) has zone {0, 1} ∪ {2, 3}.
    medoid_zone = np.array([1, 0, 3, 2, 5, 4])
    cand_zone = np.array([[2, 3], [3, 4], [4, 5], [5, 4]])
    gain = np.zeros((4, 6))
    gain[0, 0] = -10.0  # zone {0, 1, 2, 3}: kept
    gain[1, 5] = -9.0  # zone {5, 4, 3}: 3 touched → skipped
    gain[2, 1] = -8.0  # medoid 1 touched (it is 0's fallback) → skipped
    gain[3, 4] = -7.0  # zone {4, 5}: free → kept
    gain[2, 5] = -6.0  # zone {5, 4} touched by the previous one → skipped
    got = choose_swaps(gain, cand_zone, medoid_zone, 0.0, 10)
    assert got == [(0, 0, -10.0), (4, 3, -7.0)]


def test_a_candidate_near_the_medoid_it_replaces():
    # the medoid's own index in the candidate's zone does not conflict with itself
    medoid_zone = np.array([1, 0, 3, 2])
    cand_zone = np.array([[0, 1], [2, 3]])
    gain = np.array([[-2.0, 0.0, 0.0, 0.0], [0.0, 0.0, -1.0, 0.0]])
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 10) == [(0, 0, -2.0), (2, 1, -1.0)]


def test_cap_on_swaps():
    k, c = 5, 5
    cand_zone, medoid_zone = _spread(k, c)
    gain = -np.eye(5) * np.arange(1, 6)[:, None]  # candidate j improves medoid j by j + 1
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 2) == [(4, 4, -5.0), (3, 3, -4.0)]
    assert choose_swaps(gain, cand_zone, medoid_zone, 0.0, 1) == [(4, 4, -5.0)]
    assert len(choose_swaps(gain, cand_zone, medoid_zone, 0.0, 100)) == 5


@pytest.mark.parametrize("seed", range(40))
def test_choose_swaps_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    c = int(rng.integers(1, 12))
    # coarse values so that ties in delta really happen
    gain = rng.integers(-6, 3, size=(c, k)).astype(np.float64)
    cand_zone = np.array([rng.choice(k, size=2, replace=False) for _ in range(c)])
    medoid_zone = np.array([rng.choice([m for m in range(k) if m != i]) for i in range(k)])
    tol = float(rng.choice([0.0, 0.5, 2.0]))
    max_swaps = int(rng.integers(1, 5))
    got = choose_swaps(gain, cand_zone, medoid_zone, tol, max_swaps)
    assert got == _choose_ref(gain, cand_zone, medoid_zone, tol, max_swaps)
    # the properties, checked directly as well
    assert len(got) <= max_swaps
    assert len({j for _, j, _ in got}) == len(got)
    assert all(g < -tol and g == gain[j, i] for i, j, g in got)
    assert [g for _, _, g in got] == sorted(g for _, _, g in got)
    zs = [{i, int(medoid_zone[i]), *map(int, cand_zone[j])} for i, j, _ in got]
    for a, b in itertools.combinations(zs, 2):
        assert not a & b


# ----------------------------------------------------------------------------------------------------- zones


def test_zones_on_a_line():
    med = np.array([[0.0], [10.0], [20.0], [35.0]])
    cand = np.array([[1.0], [16.0], [28.0], [5.0], [15.0], [50.0]])
    two, nearest_other = zones(cand, med, "euclidean", 2.0)
    # 1 → 0 then 10; 16 → 20 then 10; 28 → 35 (7) then 20 (8); 5 → tie 0/10: lower index first;
    # 15 → tie 10/20; 50 → 35 then 20
    assert two.tolist() == [[0, 1], [2, 1], [3, 2], [0, 1], [1, 2], [3, 2]]
    # 0 → 10; 10 → tie 0/20 (lowest index); 20 → 10; 35 → 20
    assert nearest_other.tolist() == [1, 0, 1, 2]


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_zones_match_numpy_distances(metric):
    rng = np.random.default_rng(7)
    med = rng.normal(size=(6, 3))
    cand = rng.normal(size=(20, 3))

    def dist(a, b):
        diff = a[:, None, :] - b[None, :, :]
        return np.sqrt((diff**2).sum(-1)) if metric == "euclidean" else np.abs(diff).sum(-1)

    two, nearest_other = zones(cand, med, metric, 2.0)
    dc = dist(cand, med)
    assert two.shape == (20, 2)
    assert two.tolist() == np.argsort(dc, axis=1)[:, :2].tolist()
    dm = dist(med, med)
    np.fill_diagonal(dm, np.inf)
    assert nearest_other.tolist() == np.argmin(dm, axis=1).tolist()


def test_zones_with_two_medoids():
    two, nearest_other = zones(np.array([[3.0], [-1.0]]), np.array([[0.0], [4.0]]), "euclidean", 2.0)
    assert two.tolist() == [[1, 0], [0, 1]]
    assert nearest_other.tolist() == [1, 0]


# ------------------------------------------------------------------------------------------- MedoidSet, fallback


def _pool() -> MedoidSet:
    return MedoidSet(np.array([10, 11, 12, 13], dtype=np.int64), ["a", "b", "c", "d"],
                     np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]))


def _current() -> MedoidSet:
    return MedoidSet(np.array([1, 2, 3], dtype=np.int64), ["x", "y", "z"],
                     np.array([[0.0, 0.0], [5.0, 5.0], [9.0, 9.0]]))


def test_replaced_swaps_keys_ids_and_rows():
    cur, pool = _current(), _pool()
    new = cur.replaced([(0, 2), (2, 1)], pool)
    assert new.keys.tolist() == [12, 2, 11]
    assert new.ids == ["c", "y", "b"]
    assert new.x.tolist() == [[3.0, 3.0], [5.0, 5.0], [2.0, 2.0]]
    # the original is untouched
    assert cur.keys.tolist() == [1, 2, 3]
    assert cur.ids == ["x", "y", "z"]
    assert cur.x.tolist() == [[0.0, 0.0], [5.0, 5.0], [9.0, 9.0]]


def test_replaced_with_no_swaps_is_an_equal_copy():
    cur = _current()
    new = cur.replaced([], _pool())
    assert new is not cur and new.keys is not cur.keys and new.x is not cur.x
    assert new.keys.tolist() == cur.keys.tolist() and new.ids == cur.ids and new.x.tolist() == cur.x.tolist()


def test_replaced_applies_swaps_in_order():
    new = _current().replaced([(1, 0), (1, 3)], _pool())
    assert new.keys.tolist() == [1, 13, 3]
    assert new.ids == ["x", "d", "z"]


def _pending():
    before = _current()
    return before, 100.0, [(1, 2, -10.0), (0, 3, -4.0)]


def test_fallback_keeps_swaps_that_did_as_well_as_the_best_alone():
    pending, pool = _pending(), _pool()
    assert fallback(pending, 86.0, pool) is None  # both swaps together: better than the best alone (90)
    assert fallback(pending, 90.0, pool) is None  # exactly as good as the best alone
    assert fallback(pending, 90.0 + 0.5e-9 * 100.0, pool) is None  # within rel_tol · |before_loss|


def test_fallback_returns_the_best_single_swap_applied_to_before():
    pending, pool = _pending(), _pool()
    for loss_after in (90.0 + 2e-9 * 100.0, 95.0, 120.0):
        got = fallback(pending, loss_after, pool)
        assert got is not None
        assert got.keys.tolist() == [1, 12, 3]  # only (medoid 1 ← pool 2), from ``before``
        assert got.ids == ["x", "c", "z"]
        assert got.x.tolist() == [[0.0, 0.0], [3.0, 3.0], [9.0, 9.0]]
    assert pending[0].keys.tolist() == [1, 2, 3]  # before is not modified


def test_fallback_rel_tol():
    pending, pool = _pending(), _pool()
    assert fallback(pending, 91.0, pool, rel_tol=0.02) is None  # 91 ≤ 90 + 0.02·100
    assert fallback(pending, 92.5, pool, rel_tol=0.02) is not None


# ------------------------------------------------------------------------------------------------ next_batch

# Medoids at 0 (key 100) and 10 (key 200). Pool indices and their points:
#   0: key 100 at 0 (the current medoid 0)   4: key 4 at 9   (cluster 1, d = 1)
#   1: key 1 at 1    (cluster 0, d = 1)      5: key 5 at 12  (cluster 1, d = 2)
#   2: key 2 at 2.5  (cluster 0, d = 2.5)    6: key 200 at 10 (the current medoid 1)
#   3: key 3 at 3    (cluster 0, d = 3)      7: key 7 at 7   (cluster 1, d = 3)
POOL = MedoidSet(np.array([100, 1, 2, 3, 4, 5, 200, 7], dtype=np.int64), [None] * 8,
                 np.array([[0.0], [1.0], [2.5], [3.0], [9.0], [12.0], [10.0], [7.0]]))
CURRENT = MedoidSet(np.array([100, 200], dtype=np.int64), [None, None], np.array([[0.0], [10.0]]))
PERM = np.array([6, 0, 4, 3, 1, 7, 2, 5])


def _batch(tried=(), size=4, perm=PERM, pool=POOL, current=CURRENT):
    return next_batch(pool, current, set(tried), perm, size, "euclidean", 2.0)


def test_next_batch_half_local_half_random():
    # local (2): nearest of medoid 0 (1), nearest of medoid 1 (4); then the permutation skipping the
    # medoids (6, 0) and what is already chosen (4, 1): 3, 7
    assert _batch() == [1, 4, 3, 7]


def test_next_batch_odd_size_rounds_local_up():
    # local (3): depth 0 → 1, 4; depth 1 → 2; then 3, 7 from the permutation
    assert _batch(size=5) == [1, 4, 2, 3, 7]
    assert _batch(size=1) == [1]
    assert _batch(size=2) == [1, 4]
    assert _batch(size=3) == [1, 4, 3]


def test_next_batch_skips_tried():
    assert _batch(tried={1}) == [2, 4, 3, 7]
    assert _batch(tried={1, 4}) == [2, 5, 3, 7]


def test_next_batch_larger_than_the_free_pool_takes_all_free():
    # local round-robin exhausts both clusters: 1, 4, 2, 5, 3, 7 (nothing left for the permutation)
    assert _batch(size=20) == [1, 4, 2, 5, 3, 7]
    assert _batch(size=20, tried={2, 5}) == [1, 4, 3, 7]


def test_next_batch_uneven_clusters():
    # cluster 1 has one free point left: the round-robin carries on with cluster 0 alone
    assert _batch(size=8, tried={5, 7}) == [1, 4, 2, 3]
    assert _batch(size=6, tried={4, 5, 7}) == [1, 2, 3]


def test_next_batch_empty_when_everything_was_tried():
    assert _batch(tried={1, 2, 3, 4, 5, 7}) == []
    assert _batch(tried=range(8)) == []


def test_next_batch_current_medoids_are_matched_by_key_not_index():
    # the current medoid 1 moves to pool key 3 (index 3): index 6 (key 200) becomes free, index 3 does not
    current = MedoidSet(np.array([100, 3], dtype=np.int64), [None, None], np.array([[0.0], [3.0]]))
    got = _batch(size=20, current=current)
    assert 3 not in got and 0 not in got
    assert sorted(got) == [1, 2, 4, 5, 6, 7]


def _next_batch_ref(pool, current, tried, perm, batch_size):
    """Brute force with numpy distances (euclidean)."""
    in_use = set(current.keys.tolist())
    free = [j for j in range(len(pool.keys)) if j not in tried and int(pool.keys[j]) not in in_use]
    d = np.sqrt(((pool.x[free][:, None, :] - current.x[None, :, :]) ** 2).sum(-1)) if free else np.zeros((0, 0))
    queues = {}
    for pos, j in enumerate(free):
        lab = int(np.argmin(d[pos]))
        queues.setdefault(lab, []).append((float(d[pos, lab]), j))
    queues = [[j for _, j in sorted(queues[m])] for m in sorted(queues)]
    n_local = (batch_size + 1) // 2
    local = []
    for depth in range(len(free)):
        for q in queues:
            if depth < len(q) and len(local) < n_local:
                local.append(q[depth])
    rest = [int(j) for j in perm if int(j) in free and int(j) not in local]
    return (local + rest)[:batch_size]


@pytest.mark.parametrize("seed", range(12))
def test_next_batch_matches_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    n, k, d = int(rng.integers(5, 60)), int(rng.integers(2, 6)), int(rng.integers(1, 4))
    pool = MedoidSet(rng.permutation(1000)[:n].astype(np.int64), [None] * n, rng.normal(size=(n, d)))
    med_idx = rng.choice(n, size=k, replace=False)
    current = MedoidSet(pool.keys[med_idx].copy(), [None] * k, pool.x[med_idx].copy())
    tried = {int(j) for j in rng.choice(n, size=int(rng.integers(0, n // 2 + 1)), replace=False)}
    perm = np.random.default_rng(seed).permutation(n)
    batch_size = int(rng.integers(1, 20))
    got = next_batch(pool, current, tried, perm, batch_size, "euclidean", 2.0)
    assert got == _next_batch_ref(pool, current, tried, perm, batch_size)
    free = {j for j in range(n) if j not in tried and j not in set(med_idx.tolist())}
    assert len(got) == len(set(got)) == min(batch_size, len(free))
    assert set(got) <= free
    assert all(isinstance(j, int) for j in got)
    assert next_batch(pool, current, set(tried), perm.copy(), batch_size, "euclidean", 2.0) == got  # deterministic
