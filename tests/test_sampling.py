"""Spark-free checks of ``sparkmed.data.sampling.inclusion_rate`` (no SparkSession is started).

The rate is 1.0 when the key count is unknown or tiny (``n_keys ≤ 0``), else ``min(1, (m + 4√m + 10) / n)``;
it does not increase with ``n``; and a row count drawn as Binomial(n, rate) — how many keys qualify for a
sample — reaches the requested sample size ``m`` with overwhelming probability (checked with numpy's
binomial over many seeds, and with the exact binomial tail).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from sparkmed.data.sampling import inclusion_rate


@pytest.mark.parametrize("n_keys", [0, -1, -1000])
def test_unknown_key_count_takes_every_row(n_keys):
    assert inclusion_rate(100, n_keys) == 1.0
    assert inclusion_rate(1, n_keys) == 1.0


@pytest.mark.parametrize(("m", "n"), [(100, 10_000), (4000, 1_000_000), (10_000, 3_000_000_000), (1, 1000),
                                      (2500, 123_457)])
def test_formula(m, n):
    assert inclusion_rate(m, n) == pytest.approx((m + 4 * math.sqrt(m) + 10) / n, rel=1e-12)
    # by hand for one case: 100 + 4·10 + 10 = 150 keys wanted out of 10 000
    assert inclusion_rate(100, 10_000) == pytest.approx(0.015, rel=1e-12)


@pytest.mark.parametrize(("m", "n"), [(100, 1), (100, 100), (100, 149), (100, 150), (4000, 4000)])
def test_capped_at_one(m, n):
    assert inclusion_rate(m, n) == 1.0


def test_just_above_the_target_is_below_one():
    assert inclusion_rate(100, 151) == pytest.approx(150 / 151, rel=1e-12)
    assert inclusion_rate(100, 151) < 1.0


@pytest.mark.parametrize("m", [1, 10, 100, 4000, 10_000])
def test_monotone_in_n(m):
    ns = np.unique(np.concatenate([np.arange(1, 2000), np.geomspace(2000, 1e10, 400).astype(np.int64)]))
    rates = np.array([inclusion_rate(m, int(n)) for n in ns])
    assert np.all(np.diff(rates) <= 0)
    assert np.all((rates > 0) & (rates <= 1))


def test_monotone_in_sample_size():
    rates = [inclusion_rate(m, 1_000_000) for m in range(1, 20_000, 97)]
    assert np.all(np.diff(rates) >= 0)


CASES = [(100, 10_000), (100, 200), (1000, 50_000), (4000, 1_000_000), (10_000, 100_000_000), (10, 10_000_000)]


@pytest.mark.parametrize(("m", "n"), CASES)
def test_binomial_draws_reach_the_sample_size(m, n):
    rate = inclusion_rate(m, n)
    draws = np.concatenate([np.random.default_rng(seed).binomial(n, rate, size=5_000) for seed in range(200)])
    short = int(np.count_nonzero(draws < m))
    # expected shortfall probability is ~3e-5 or less (4 sigma + slack): at most 1e-4 of 1 000 000 draws
    assert short <= 100, f"{short} of {draws.size} draws below m={m}"
    # and the typical draw sits several standard deviations above m
    assert (np.mean(draws) - m) / np.std(draws) > 3.5


@pytest.mark.parametrize(("m", "n"), CASES)
def test_exact_binomial_tail_is_tiny(m, n):
    rate = inclusion_rate(m, n)
    assert binom.cdf(m - 1, n, rate) < 1e-4  # P(fewer than m keys qualify)
