"""Custom metrics (a user's numba.njit function): kernels against the registry and a naive loop."""

from __future__ import annotations

import numpy as np
import pytest
from custom_metrics import canberra, my_euclidean, negative, not_zero_on_self

from sparkmed.kernels import cluster_points, cross, custom, nearest_two, pairwise, score_candidates, swap_deltas


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    return rng.normal(size=(300, 4)), rng.normal(size=(5, 4)), rng.normal(size=(40, 4)), rng.uniform(0, 2, 300)


def test_custom_euclidean_equals_the_registry(data):
    X, M, C, w = data
    np.testing.assert_allclose(cross(X, M, my_euclidean), cross(X, M, "euclidean"), rtol=1e-12)
    np.testing.assert_allclose(pairwise(X, my_euclidean), pairwise(X, "euclidean"), rtol=1e-6)
    for a, b in zip(nearest_two(X, M, my_euclidean), nearest_two(X, M, "euclidean"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    sets = np.stack([M, C[:5], C[5:10]])
    np.testing.assert_allclose(score_candidates(X, sets, my_euclidean, weights=w),
                               score_candidates(X, sets, "euclidean", weights=w), rtol=1e-12)
    got = swap_deltas(X, M, C, my_euclidean, weights=w)
    want = swap_deltas(X, M, C, "euclidean", weights=w, prune=False)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_custom_metric_swap_deltas_match_brute_force(data):
    X, M, C, w = data
    loss, removal, delta, shared = swap_deltas(X, M, C, canberra, weights=w)
    D = np.array([[canberra(x, m) for m in M] for x in X])
    assert loss == pytest.approx(float(w @ D.min(axis=1)), rel=1e-12)
    for j in (0, 7, 39):
        for i in range(len(M)):
            swapped = M.copy()
            swapped[i] = C[j]
            new = float(w @ np.array([[canberra(x, m) for m in swapped] for x in X]).min(axis=1))
            assert removal[i] + delta[j, i] + shared[j] == pytest.approx(new - loss, rel=1e-9, abs=1e-9)


def test_cluster_points_with_a_custom_metric_matches_kmedoids(data):
    kmedoids = pytest.importorskip("kmedoids")
    X = data[0][:200]
    D = np.array([[canberra(a, b) for b in X] for a in X], dtype=np.float32)
    ref = kmedoids.fasterpam(D, np.arange(4), n_cpu=1)
    ours = cluster_points(X, 4, metric=canberra, medoids=np.arange(4))
    assert sorted(ours.medoids) == sorted(ref.medoids) and ours.loss == pytest.approx(float(ref.loss), rel=1e-5)


def test_check_custom_metric_rejects_bad_functions():
    with pytest.raises(ValueError, match="numba.njit"):
        custom.check_custom_metric(lambda a, b: 0.0)
    with pytest.raises(ValueError, match="non-negative"):
        custom.check_custom_metric(negative)
    with pytest.raises(ValueError, match="0 on identical rows"):
        custom.check_custom_metric(not_zero_on_self)
    custom.check_custom_metric(canberra)


def test_resolve_custom_never_imports_and_needs_the_function_provided():
    """A name resolves only to a function the user handed over (registry or ``provided``), never by import."""
    name = custom.custom_name(my_euclidean)
    assert custom.resolve_custom(name, {name: my_euclidean}) is my_euclidean
    assert custom.resolve_custom(name.removeprefix("custom:"), {name: my_euclidean}) is my_euclidean
    with pytest.raises(ValueError, match="not provided"):
        custom.resolve_custom("custom:os.getcwd")  # importable, but nobody provided it
    with pytest.raises(ValueError, match="numba.njit"):
        custom.resolve_custom("custom:x.y", {"custom:x.y": print})
    assert custom.register_metric(canberra) == custom.custom_name(canberra)
    assert custom.resolve_custom(custom.custom_name(canberra)) is canberra
    assert custom.register_metric(canberra, name="team.canberra") == "custom:team.canberra"
    assert custom.resolve_custom("custom:team.canberra") is canberra
    with pytest.raises(ValueError, match="numba.njit"):
        custom.register_metric(lambda a, b: 0.0)
