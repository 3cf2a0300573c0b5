"""FastCLARANS: seeded reproducibility, quality against FasterPAM, never worse than its start."""

from __future__ import annotations

import numpy as np
import pytest
from naive_pam import dataset, initial_medoids, loss

from sparkmed.kernels.clarans import clarans
from sparkmed.kernels.fasterpam import fasterpam


def test_seeded_reproducibility():
    D = dataset("blobs")
    a = clarans(D, 6, random_state=42)
    b = clarans(D, 6, random_state=42)
    np.testing.assert_array_equal(a.medoids, b.medoids)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert (a.loss, a.n_iter, a.n_swap) == (b.loss, b.n_iter, b.n_swap)
    c = clarans(D, 6, random_state=np.random.default_rng(42))
    np.testing.assert_array_equal(a.medoids, c.medoids)
    runs = {tuple(clarans(D, 6, random_state=s).medoids) for s in range(5)}
    assert len(runs) > 1 or a.n_swap > 0


def _blobs(n, k):
    from scipy.spatial.distance import pdist, squareform
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, centers=k, n_features=4, random_state=3)
    return squareform(pdist(X)).astype(np.float32)


@pytest.mark.parametrize(("n", "k"), [(1500, 10), (2500, 20)])
def test_within_a_few_percent_of_fasterpam_on_blobs(n, k):
    D = _blobs(n, k)
    f = fasterpam(D, k, init="build")
    # default budget (2 restarts, 2.5% of the non-medoids as consecutive failures): a few % worse
    default = [clarans(D, k, random_state=s).loss / f.loss for s in range(4)]
    assert np.median(default) <= 1.05
    assert max(default) <= 1.08
    # a larger budget closes most of the gap
    larger = [clarans(D, k, maxneighbor=0.1, random_state=s).loss / f.loss for s in range(4)]
    assert max(larger) <= 1.03
    assert min(default + larger) >= 0.99  # a local optimum of the same swap neighbourhood


@pytest.mark.parametrize("seed", range(4))
def test_never_worse_than_its_initial_medoids(seed):
    D = dataset("wine")
    m0 = initial_medoids(D.shape[0], 7, seed)
    start = loss(D, m0)
    r = clarans(D, m0, numlocal=3, maxneighbor=0.05, random_state=seed)
    assert r.loss <= start * (1 + 1e-12)
    assert r.loss == pytest.approx(loss(D, r.medoids), rel=1e-12)
    assert r.n_iter >= 3 * max(1, int(np.ceil(0.05 * (D.shape[0] - 7))))


def test_maxneighbor_rate_and_count_and_numlocal():
    D = dataset("iris")
    m0 = initial_medoids(150, 3, 0)
    # an int is an absolute number of consecutive failures per restart
    r1 = clarans(D, m0, numlocal=1, maxneighbor=1, random_state=0)
    r2 = clarans(D, m0, numlocal=1, maxneighbor=500, random_state=0)
    assert r2.loss <= r1.loss * (1 + 1e-12)
    assert r1.n_iter >= 1 and r2.n_iter >= 500
    # more restarts never hurt (same seed: the first restart is identical)
    a = clarans(D, 3, numlocal=1, random_state=9)
    b = clarans(D, 3, numlocal=4, random_state=9)
    assert b.loss <= a.loss
    for bad in (0, -1, 0.0, -0.5, float("nan"), True, "x"):
        with pytest.raises(ValueError, match="maxneighbor"):
            clarans(D, 3, maxneighbor=bad)
    for bad in (0, 1.5, -2):
        with pytest.raises(ValueError, match="numlocal"):
            clarans(D, 3, numlocal=bad)


def test_weights_and_inits_and_edge_cases():
    D = dataset("iris")
    w = np.random.default_rng(0).integers(1, 4, size=150).astype(float)
    r = clarans(D, 4, weights=w, init="lab", random_state=1)
    assert r.loss == pytest.approx(loss(D, r.medoids, w), rel=1e-12)
    full = clarans(D[:10, :10], 10, random_state=0)
    assert full.loss == 0.0
    one = clarans(D, 1, random_state=0, maxneighbor=1.0)
    # k=1 with maxneighbor = all candidates: a local optimum over single swaps is the global one
    assert one.loss == pytest.approx(fasterpam(D, 1).loss, rel=1e-9)
    same = clarans(np.zeros((5, 5)), 2, random_state=0)
    assert same.loss == 0.0
