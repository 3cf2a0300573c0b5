"""Spark-free checks of ``sparkmed.fit.pass_engine.SumLayout`` (no SparkSession is started).

``SumLayout.of`` names the parts of a pass's sum vector and their shapes (an int ``n`` means ``(n,)``,
``()`` one number); ``length`` is the total size; ``pack`` lays the named parts out in order and ``unpack``
gives them back (scalars as Python float, arrays as float64 of their shape). Every full-data pass adds the
packed vectors of its tasks, so adding two packed vectors and unpacking must equal adding the parts.
"""

from __future__ import annotations

import numpy as np
import pytest

from sparkmed.fit.pass_engine import SumLayout


def _swap_layout(c: int = 3, k: int = 4) -> SumLayout:
    # the layout of the refinement pass (passes.swap_delta_pass)
    return SumLayout.of(loss=(), removal=k, delta=(c, k), shared=c)


def test_of_names_and_shapes_in_order():
    layout = _swap_layout()
    assert layout.parts == (("loss", ()), ("removal", (4,)), ("delta", (3, 4)), ("shared", (3,)))
    assert SumLayout.of(a=[2, 5]).parts == (("a", (2, 5)),)  # any sequence of ints is a shape
    assert SumLayout.of(a=(1,)).parts == (("a", (1,)),)


def test_length():
    assert _swap_layout().length == 1 + 4 + 12 + 3
    assert _swap_layout(c=64, k=10).length == 1 + 10 + 640 + 64
    assert SumLayout.of(cost=(), sizes=5, cluster_costs=5, silhouette_sum=(), total_weight=()).length == 13
    assert SumLayout.of().length == 0
    assert SumLayout.of(empty=0, x=()).length == 1
    assert SumLayout.of(cube=(2, 3, 4)).length == 24


def test_pack_lays_the_parts_out_in_order():
    layout = SumLayout.of(loss=(), sizes=3, m=(2, 3))
    v = layout.pack(loss=1.5, sizes=[1, 2, 3], m=np.arange(6).reshape(2, 3))
    assert v.dtype == np.float64 and v.shape == (10,)
    assert v.tolist() == [1.5, 1.0, 2.0, 3.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    # keyword order does not matter, the layout's order does
    assert layout.pack(m=np.arange(6).reshape(2, 3), sizes=[1, 2, 3], loss=1.5).tolist() == v.tolist()


def test_unpack_types_and_shapes():
    layout = _swap_layout()
    parts = layout.unpack(np.arange(layout.length, dtype=np.float64))
    assert list(parts) == ["loss", "removal", "delta", "shared"]
    assert type(parts["loss"]) is float and parts["loss"] == 0.0
    assert parts["removal"].shape == (4,) and parts["removal"].dtype == np.float64
    assert parts["removal"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert parts["delta"].shape == (3, 4)
    assert parts["delta"].tolist() == np.arange(5, 17, dtype=np.float64).reshape(3, 4).tolist()
    assert parts["shared"].tolist() == [17.0, 18.0, 19.0]


def test_shape_one_is_an_array_not_a_scalar():
    parts = SumLayout.of(a=1, b=()).unpack(np.array([2.0, 3.0]))
    assert isinstance(parts["a"], np.ndarray) and parts["a"].shape == (1,) and parts["a"].tolist() == [2.0]
    assert type(parts["b"]) is float and parts["b"] == 3.0


def test_empty_parts():
    layout = SumLayout.of(none=0, loss=(), also_none=(0, 4))
    v = layout.pack(none=np.zeros(0), loss=7.0, also_none=np.zeros((0, 4)))
    assert v.tolist() == [7.0]
    parts = layout.unpack(v)
    assert parts["none"].shape == (0,) and parts["also_none"].shape == (0, 4) and parts["loss"] == 7.0


def _random_parts(layout: SumLayout, rng: np.random.Generator) -> dict:
    return {name: (float(rng.normal()) if shape == () else rng.normal(size=shape)) for name, shape in layout.parts}


def _same(a: dict, b: dict, exact: bool = True) -> None:
    assert list(a) == list(b)
    for name in a:
        if isinstance(a[name], float):
            assert type(b[name]) is float
            assert b[name] == a[name] if exact else b[name] == pytest.approx(a[name], rel=1e-12, abs=1e-12)
        else:
            assert np.shape(b[name]) == np.shape(a[name])
            if exact:
                assert np.array_equal(b[name], a[name])
            else:
                np.testing.assert_allclose(b[name], a[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_pack_unpack_round_trip(seed):
    rng = np.random.default_rng(seed)
    layout = SumLayout.of(loss=(), removal=int(rng.integers(1, 6)), delta=tuple(int(v) for v in rng.integers(1, 5, 2)),
                          shared=int(rng.integers(1, 6)), total_weight=())
    parts = _random_parts(layout, rng)
    v = layout.pack(**parts)
    assert v.shape == (layout.length,)
    _same(parts, layout.unpack(v))


@pytest.mark.parametrize("seed", range(5))
def test_sum_of_packed_vectors_is_the_packed_sum(seed):
    """What every pass relies on: tasks' vectors are added, then the total is unpacked."""
    rng = np.random.default_rng(10 + seed)
    layout = _swap_layout(c=int(rng.integers(1, 9)), k=int(rng.integers(2, 7)))
    tasks = [_random_parts(layout, rng) for _ in range(int(rng.integers(2, 6)))]
    total = np.zeros(layout.length)
    for t in tasks:
        total += layout.pack(**t)
    got = layout.unpack(total)
    expected = {name: tasks[0][name] for name in tasks[0]}
    for t in tasks[1:]:
        expected = {name: expected[name] + t[name] for name in expected}
    _same({n: (float(v) if np.ndim(v) == 0 else v) for n, v in expected.items()}, got, exact=False)


def test_two_vectors_add_part_by_part_exactly():
    layout = SumLayout.of(cost=(), sizes=3, cluster_costs=(3,), total_weight=())
    a = layout.pack(cost=1.0, sizes=[1, 0, 2], cluster_costs=[0.5, 0.0, 0.5], total_weight=3.0)
    b = layout.pack(cost=2.5, sizes=[0, 4, 1], cluster_costs=[0.0, 2.0, 0.5], total_weight=5.0)
    got = layout.unpack(a + b)
    assert got["cost"] == 3.5 and got["total_weight"] == 8.0
    assert got["sizes"].tolist() == [1.0, 4.0, 3.0]
    assert got["cluster_costs"].tolist() == [0.5, 2.0, 1.0]


def test_pack_needs_every_part():
    with pytest.raises(KeyError):
        SumLayout.of(loss=(), sizes=2).pack(loss=1.0)
