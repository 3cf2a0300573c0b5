"""Spark-free checks of the CLARA driver's choice and of the fit's parameters (no SparkSession is started).

- ``sparkmed.fit.clara.pick_best``: the lowest cost; costs within ``rel_tol·|best|`` of it (summation noise) go
  to the lowest index, otherwise the exact ordering decides; compared with a brute-force reference.
- ``sparkmed.fit.params``: the defaults ``default_sample_size(k) = min(10000, max(4000, 40k))`` and
  ``default_refine_candidates(k) = max(256, 10k)`` as used by ``FitParams.sample_size()`` /
  ``refine_candidates()``, and ``check_params`` raising ``InputError`` that names the offending parameter.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparkmed.errors import InputError
from sparkmed.fit.clara import pick_best
from sparkmed.fit.params import (
    REFINE_MODES,
    FitParams,
    check_params,
    default_refine_candidates,
    default_sample_size,
)
from sparkmed.kernels import ALGORITHM_NAMES, INIT_NAMES

# ------------------------------------------------------------------------------------------------ pick_best


def test_pick_best_lowest_cost():
    assert pick_best(np.array([3.0, 1.0, 2.0])) == 1
    assert pick_best(np.array([5.0])) == 0
    assert pick_best(np.array([2.0, 3.0, 0.5])) == 2
    assert isinstance(pick_best(np.array([2.0, 1.0])), int)


def test_pick_best_exact_ties_go_to_the_lowest_index():
    assert pick_best(np.array([2.0, 1.0, 1.0])) == 1
    assert pick_best(np.array([0.0, 0.0])) == 0
    assert pick_best(np.array([7.0, 7.0, 7.0])) == 0


def test_pick_best_near_ties_within_rel_tol():
    best = 1000.0
    noise = 0.5e-9 * best  # below 1e-9 · |best|: summation noise
    assert pick_best(np.array([best + noise, best])) == 0
    assert pick_best(np.array([best + 1.5 * noise, best + noise, best])) == 0
    # beyond the tolerance the exact ordering decides
    assert pick_best(np.array([best + 4 * noise, best])) == 1
    # a near tie with a later candidate does not pull the choice past an earlier one that is clearly worse
    assert pick_best(np.array([best + 1.0, best + noise, best])) == 1


def test_pick_best_rel_tol_argument():
    costs = np.array([1.05, 1.0, 0.99])
    assert pick_best(costs, rel_tol=0.1) == 0  # 1.05 ≤ 0.99 · 1.1
    assert pick_best(costs, rel_tol=0.02) == 1
    assert pick_best(costs, rel_tol=0.0) == 2
    assert pick_best(np.array([1.0 + 1e-15, 1.0]), rel_tol=0.0) == 1  # exact ordering with no tolerance


def test_pick_best_with_infinite_costs():
    assert pick_best(np.array([np.inf, 4.0, np.inf])) == 1


def test_pick_best_does_not_depend_on_summation_order():
    rng = np.random.default_rng(3)
    parts = rng.uniform(0, 1e6, size=1000)
    a = float(np.sum(parts))
    b = sum(float(v) for v in parts[::-1])  # the same cost added in another order
    assert a == pytest.approx(b, rel=1e-12)
    assert pick_best(np.array([a, b])) == 0
    assert pick_best(np.array([b, a])) == 0


def _pick_ref(costs, rel_tol):
    best = min(costs)
    return next(i for i, c in enumerate(costs) if c <= best + rel_tol * abs(best))


@pytest.mark.parametrize("seed", range(20))
def test_pick_best_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 12))
    base = rng.uniform(-10, 10)
    costs = base + rng.integers(0, 4, size=n) * rng.choice([1e-12, 1e-6, 1.0]) * abs(base)
    rel_tol = float(rng.choice([0.0, 1e-9, 1e-5]))
    assert pick_best(costs, rel_tol) == _pick_ref(costs.tolist(), rel_tol)


# --------------------------------------------------------------------------------------------------- defaults


@pytest.mark.parametrize(("k", "expected"), [(2, 4000), (50, 4000), (100, 4000), (101, 4040), (200, 8000),
                                             (249, 9960), (250, 10000), (251, 10000), (5000, 10000)])
def test_default_sample_size(k, expected):
    assert default_sample_size(k) == expected == min(10000, max(4000, 40 * k))
    assert FitParams(k=k).sample_size() == expected
    assert isinstance(FitParams(k=k).sample_size(), int)


@pytest.mark.parametrize(("k", "expected"), [(2, 256), (25, 256), (26, 260), (100, 1000), (4000, 40000)])
def test_default_refine_candidates(k, expected):
    assert default_refine_candidates(k) == expected == max(256, 10 * k)
    assert FitParams(k=k).refine_candidates() == expected
    assert isinstance(FitParams(k=k).refine_candidates(), int)


def test_explicit_sizes_override_the_defaults():
    assert FitParams(k=3, sampleSize=123).sample_size() == 123
    assert FitParams(k=3, refineCandidates=17).refine_candidates() == 17
    # 0 / None mean "default"
    assert FitParams(k=3, sampleSize=0).sample_size() == 4000
    assert FitParams(k=3, sampleSize=None).sample_size() == 4000
    assert FitParams(k=30, refineCandidates=0).refine_candidates() == 300


def test_fit_params_defaults():
    p = FitParams()
    assert (p.k, p.metric, p.algorithm, p.init, p.refine) == (2, "euclidean", "fasterpam", "lab", "swaps")
    assert (p.sampleSize, p.refineCandidates, p.maxSampleMemoryMB) == (None, None, 1024.0)


# ----------------------------------------------------------------------------------------------- check_params


def test_valid_params_pass():
    check_params(FitParams())
    check_params(FitParams(k=np.int64(5)))
    check_params(FitParams(k=10, metric="manhattan", sampleSize=10))
    check_params(FitParams(metric="dice"))  # a set metric, resolved through the encoding
    for init in INIT_NAMES:
        check_params(FitParams(init=init))
    for refine in REFINE_MODES:
        check_params(FitParams(refine=refine))
    for algorithm in ALGORITHM_NAMES:
        check_params(FitParams(algorithm=algorithm))


@pytest.mark.parametrize("k", [1, 0, -3, 2.0, True, "3", None])
def test_bad_k(k):
    with pytest.raises(InputError, match=r"^k "):
        check_params(FitParams(k=k))


@pytest.mark.parametrize(("field", "value"), [("algorithm", "kmeans"), ("init", "kmeans||"), ("refine", "all")])
def test_unknown_choice_names_the_parameter(field, value):
    with pytest.raises(InputError, match=rf"^{field} '{value}' is unknown") as info:
        check_params(FitParams(**{field: value}))
    assert "valid:" in str(info.value)


def test_unknown_metric():
    with pytest.raises(InputError, match="metric"):
        check_params(FitParams(metric="no-such-metric"))


def test_sample_size_below_k():
    with pytest.raises(InputError, match=r"sampleSize \(5\) must be at least k \(10\)"):
        check_params(FitParams(k=10, sampleSize=5))
    check_params(FitParams(k=10, sampleSize=10))


def test_sample_matrix_larger_than_max_sample_memory():
    # 16384² float32 = exactly 1024 MB: allowed; one more point is too many
    check_params(FitParams(sampleSize=16384))
    with pytest.raises(InputError, match="sampleSize 16385") as info:
        check_params(FitParams(sampleSize=16385))
    assert "maxSampleMemoryMB" in str(info.value)
    # the default sample (4000 points: ~61 MB) against a small budget
    with pytest.raises(InputError, match="maxSampleMemoryMB=60"):
        check_params(FitParams(maxSampleMemoryMB=60))
    check_params(FitParams(maxSampleMemoryMB=62))


@pytest.mark.parametrize(("field", "value"), [("maxIter", 0), ("numSamples", 0), ("refinePasses", -1),
                                              ("refineCandidates", -1)])
def test_other_counts_name_the_parameter(field, value):
    with pytest.raises(InputError, match=rf"^{field} must be ≥"):
        check_params(FitParams(**{field: value}))


def test_input_error_is_a_value_error():
    with pytest.raises(ValueError):
        check_params(FitParams(k=1))
