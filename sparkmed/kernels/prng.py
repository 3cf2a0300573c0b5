"""Randomness of the kernels: ``random_state`` -> numpy Generator -> uint64 seed -> SplitMix64 in numba.

The Python wrappers turn the user's ``random_state`` into a ``numpy.random.Generator``
(:func:`as_generator`); a kernel that draws inside numba gets one 63-bit seed from it
(:func:`kernel_seed`) and runs its own SplitMix64 stream (Steele, Lea & Flood 2014), independent of
numba's global random state, so results depend on the seed only. Every draw is O(1).
"""

from __future__ import annotations

import numbers

import numba
import numpy as np


def as_generator(random_state: object) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator``.

    * ``None``: fresh, unpredictable entropy from the OS (not reproducible);
    * an ``int`` (>= 0): ``numpy.random.default_rng(random_state)`` (reproducible);
    * a ``numpy.random.Generator``: used as is (its state advances);
    * a legacy ``numpy.random.RandomState``: one 63-bit integer is drawn from it to seed a Generator
      (reproducible for a given RandomState state; its state advances).
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**63 - 1, dtype=np.int64)))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be None, a non-negative int, a numpy.random.Generator or a "
        f"numpy.random.RandomState, got {type(random_state).__name__}"
    )


def kernel_seed(rng: np.random.Generator) -> np.uint64:
    """One seed for a numba kernel's SplitMix64 stream, drawn from ``rng`` (which advances)."""
    return np.uint64(rng.integers(0, 2**63 - 1, dtype=np.int64))


@numba.njit(cache=True, nogil=True)
def splitmix_next(state):
    """Advance the SplitMix64 state (a uint64 array of length 1) and return the next uint64."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, nogil=True)
def random_below(state, bound):
    """Uniform integer in [0, bound) (bound >= 1) by rejection, unbiased."""
    b = np.uint64(bound)
    limit = np.uint64(0xFFFFFFFFFFFFFFFF) - (np.uint64(0xFFFFFFFFFFFFFFFF) % b)
    while True:
        x = splitmix_next(state)
        if x < limit:
            return np.int64(x % b)


@numba.njit(cache=True, nogil=True)
def uniform01(state):
    """Uniform float64 in [0, 1) from the top 53 bits of the next SplitMix64 output."""
    return np.float64(splitmix_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
