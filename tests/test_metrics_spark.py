"""Beyond dense Euclidean on a real SparkSession: sets, sparse vectors, Gower on mixed tables, haversine.

Each family goes through the whole distributed path (plan/encode, validate, sample, fit, score, refine,
transform, evaluation, persistence) and is checked against a naive Python reference on the ORIGINAL
values (Python sets, dense numpy vectors, a column-by-column Gower), never against the encoded rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sparkmed import InputError, KMedoids, KMedoidsModel, MedoidSilhouetteEvaluator

pytestmark = pytest.mark.spark


# ------------------------------------------------------------------------------------------ references


def jaccard_sets(a, b) -> float:
    a, b = set(a), set(b)
    return 0.0 if not a and not b else 1.0 - len(a & b) / len(a | b)


def dice_sets(a, b) -> float:
    a, b = set(a), set(b)
    return 0.0 if not a and not b else 1.0 - 2 * len(a & b) / (len(a) + len(b))


def gower_rows(a: dict, b: dict, kinds: dict, ranges: dict) -> float:
    """daisy(metric="gower"): numeric |a-b|/range, strings nominal, booleans asymmetric binary; nulls skipped."""
    num = den = 0.0
    for col, kind in kinds.items():
        x, y = a[col], b[col]
        if x is None or y is None or (isinstance(x, float) and math.isnan(x)) or (
                isinstance(y, float) and math.isnan(y)):
            continue
        if kind == "bool":
            if not x and not y:
                continue
            s = float(x != y)
        elif kind == "num":
            s = min(1.0, abs(x - y) / ranges[col]) if ranges[col] > 0 else 0.0
        else:
            s = float(x != y)
        num += s
        den += 1.0
    return num / den if den else 0.0


def naive_cost_and_labels(rows: list, medoid_rows: list, dist) -> tuple[float, np.ndarray, np.ndarray]:
    d = np.array([[dist(r, m) for m in medoid_rows] for r in rows])
    return float(d.min(axis=1).sum()), d.argmin(axis=1), d.min(axis=1)


def check_model_against_reference(df, model, rows: list, dist, tmp_path, id_col="id"):
    """Training cost, transform labels/distances and the saved/loaded model agree with the naive reference."""
    medoid_rows = [rows[int(i)] for i in model.medoidIds()]  # ids are row positions in these tests
    cost, labels, dists = naive_cost_and_labels(rows, medoid_rows, dist)
    assert model.summary.trainingCost == pytest.approx(cost, rel=1e-9, abs=1e-9)
    out = model.transform(df).orderBy(id_col).select("prediction", "dist").toPandas()
    np.testing.assert_allclose(out["dist"].to_numpy(), dists, rtol=1e-9, atol=1e-12)
    ties = np.sort(np.array([[dist(r, m) for m in medoid_rows] for r in rows]), axis=1)
    clear = ties[:, 1] - ties[:, 0] > 1e-12
    np.testing.assert_array_equal(out["prediction"].to_numpy()[clear], labels[clear])
    path = str(tmp_path / "model")
    model.write().overwrite().save(path)
    loaded = KMedoidsModel.load(path)
    again = loaded.transform(df).orderBy(id_col).select("prediction", "dist").toPandas()
    pd.testing.assert_frame_equal(out, again)
    assert loaded._encoding == model._encoding
    sil = MedoidSilhouetteEvaluator().evaluate(model.transform(df))
    assert sil == pytest.approx(model.summary.medoidSilhouette, rel=1e-9)


# ------------------------------------------------------------------------------------------ sets


def baskets(n: int, seed: int, topics: int = 3) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    vocab = [[f"t{t}_{j}" for j in range(12)] for t in range(topics)]
    out = []
    for i in range(n):
        t = i % topics
        items = list(rng.choice(vocab[t], size=int(rng.integers(3, 8)), replace=False))
        if rng.random() < 0.2:
            items.append(f"noise_{int(rng.integers(0, 50))}")
        out.append(items + items[:1])  # a duplicate element: sets ignore it
    return out


@pytest.mark.parametrize("metric,dist", [("jaccard", jaccard_sets), ("dice", dice_sets)])
def test_sets_jaccard_and_dice(spark, tmp_path, metric, dist):
    rows = baskets(600, seed=1)
    df = spark.createDataFrame(pd.DataFrame({"id": np.arange(600), "items": rows})).repartition(3)
    model = KMedoids(k=3, metric=metric, featuresCol="items", idCol="id", seed=4, distanceCol="dist").fit(df)
    assert model._encoding.kind == "set" and model._encoding.kernel_metric == f"set_{metric}"
    out = model.transform(df).orderBy("id").toPandas()
    labels, near = out["prediction"].to_numpy(), out["dist"].to_numpy() < 1
    assert sorted(int(i) % 3 for i in model.medoidIds()) == [0, 1, 2]  # one medoid per topic
    for t in range(3):  # every topic is one cluster (rows sharing no element with any medoid are ties)
        assert len(set(labels[t::3][near[t::3]])) == 1
    check_model_against_reference(df, model, rows, dist, tmp_path)


def test_sets_of_integers_and_larger_sets_at_transform(spark):
    rng = np.random.default_rng(2)
    rows = [sorted({int(v) for v in rng.integers(100 * (i % 2), 100 * (i % 2) + 20, size=5)}) for i in range(200)]
    df = spark.createDataFrame(pd.DataFrame({"id": np.arange(200), "s": rows}))
    model = KMedoids(k=2, metric="jaccard", featuresCol="s", idCol="id", seed=1, distanceCol="dist").fit(df)
    width = model._encoding.width
    big = [list(range(0, 20)) + list(range(1000, 1000 + 3 * width))]  # larger than any training set
    new = spark.createDataFrame(pd.DataFrame({"id": [0], "s": big}))
    got = model.transform(new).collect()[0]
    medoid_sets = {int(i): r for i, r in zip(range(200), rows, strict=True)}
    meds = [medoid_sets[int(i)] for i in model.medoidIds()]
    want = [jaccard_sets(big[0], m) for m in meds]
    assert got["prediction"] == int(np.argmin(want))
    assert got["dist"] == pytest.approx(min(want), rel=1e-12)


# ------------------------------------------------------------------------------------------ sparse vectors


def _vector_schema():
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql import types as T

    return T.StructType([T.StructField("id", T.LongType()), T.StructField("features", VectorUDT())])


VECTOR_SCHEMA = _vector_schema()


def sparse_docs(n: int, size: int, seed: int):
    from pyspark.ml.linalg import Vectors

    rng = np.random.default_rng(seed)
    vecs, dense = [], []
    for i in range(n):
        t = i % 3
        idx = np.unique(rng.integers(300 * t, 300 * t + 40, size=int(rng.integers(3, 12))))
        vals = rng.uniform(0.5, 2.0, size=len(idx))
        vals[0] = 0.0 if i % 17 == 0 else vals[0]  # an explicitly stored zero now and then
        vecs.append(Vectors.sparse(size, idx.tolist(), vals.tolist()))
        x = np.zeros(size)
        x[idx] = vals
        dense.append(x)
    return vecs, dense


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "manhattan", "jaccard"])
def test_sparse_vectors(spark, tmp_path, metric):
    vecs, dense = sparse_docs(450, 1000, seed=3)
    df = spark.createDataFrame([(i, v) for i, v in enumerate(vecs)], VECTOR_SCHEMA).repartition(3)
    model = KMedoids(k=3, metric=metric, idCol="id", seed=2, distanceCol="dist").fit(df)
    assert model._encoding.kind == "sparse" and model._encoding.size == 1000
    assert model.medoids().shape[1] == 1 + 2 * model._encoding.width  # never densified to 1000

    def dist(a, b):
        if metric == "cosine":
            na, nb = np.linalg.norm(a), np.linalg.norm(b)
            return 0.0 if na == nb == 0 else (1.0 if na == 0 or nb == 0 else 1 - a @ b / (na * nb))
        if metric == "euclidean":
            return float(np.sqrt(((a - b) ** 2).sum()))
        if metric == "manhattan":
            return float(np.abs(a - b).sum())
        return jaccard_sets(np.flatnonzero(a), np.flatnonzero(b))

    check_model_against_reference(df, model, dense, dist, tmp_path)


def test_sparse_and_dense_encodings_give_the_same_fit(spark):
    """With an idCol the samples are the same rows, so the sparse and dense kernels must agree."""
    vecs, _ = sparse_docs(300, 1000, seed=5)
    df = spark.createDataFrame([(i, v) for i, v in enumerate(vecs)], VECTOR_SCHEMA)
    a = KMedoids(k=3, metric="euclidean", idCol="id", seed=3, vectorFormat="sparse").fit(df)
    b = KMedoids(k=3, metric="euclidean", idCol="id", seed=3, vectorFormat="dense").fit(df)
    assert a._encoding.kind == "sparse" and b._encoding.kind == "dense"
    assert a.medoidIds() == b.medoidIds()
    assert a.summary.trainingCost == pytest.approx(b.summary.trainingCost, rel=1e-9)


# ------------------------------------------------------------------------------------------ Gower


def mixed_table(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.arange(n) % 3
    age = np.where(rng.random(n) < 0.05, np.nan, 20 + 20 * g + rng.normal(0, 3, n))
    income = 1000 * (1 + g) + rng.normal(0, 100, n)
    city = np.array(["paris", "lyon", "nice"])[g]
    city = np.where(rng.random(n) < 0.1, "lille", city).astype(object)
    city[rng.random(n) < 0.05] = None
    member = (g == 1) | (rng.random(n) < 0.05)
    return pd.DataFrame({"id": np.arange(n), "age": age, "income": income, "city": city, "member": member})


def test_gower_mixed_table_matches_naive(spark, tmp_path):
    pdf = mixed_table(450, seed=7)
    df = spark.createDataFrame(pdf, "id long, age double, income double, city string, member boolean")
    cols = ["age", "income", "city", "member"]
    model = KMedoids(k=3, metric="gower", inputCols=cols, idCol="id", seed=1, distanceCol="dist").fit(df)
    enc = model._encoding
    assert enc.kind == "gower" and enc.types == (0, 0, 1, 2)
    ranges = {"age": np.nanmax(pdf["age"]) - np.nanmin(pdf["age"]), "income": np.ptp(pdf["income"])}
    assert enc.ranges[:2] == pytest.approx([ranges["age"], ranges["income"]], rel=1e-12)
    kinds = {"age": "num", "income": "num", "city": "str", "member": "bool"}
    rows = [{c: (None if (isinstance(v, float) and math.isnan(v)) else v) for c, v in r.items()}
            for r in pdf[cols].to_dict("records")]

    def dist(a, b):
        return gower_rows(a, b, kinds, ranges)

    check_model_against_reference(df, model, rows, dist, tmp_path)
    # new data is scaled with the TRAINING ranges (stored in the model)
    new = pdf.head(5).assign(age=[200.0, 20.0, None, 40.0, 60.0])
    got = model.transform(spark.createDataFrame(new, df.schema)).orderBy("id").toPandas()
    meds = [rows[int(i)] for i in model.medoidIds()]
    for i, r in enumerate(new[cols].to_dict("records")):
        r = {c: (None if (isinstance(v, float) and math.isnan(v)) else v) for c, v in r.items()}
        assert got["dist"][i] == pytest.approx(min(dist(r, m) for m in meds), rel=1e-9, abs=1e-12)


def test_gower_errors_name_the_column(spark):
    pdf = mixed_table(30, seed=1)
    df = spark.createDataFrame(pdf, "id long, age double, income double, city string, member boolean")
    with pytest.raises(InputError, match="needs inputCols"):
        KMedoids(k=2, metric="gower").fit(df)
    with pytest.raises(InputError, match="columnTypes has 1 entries"):
        KMedoids(k=2, metric="gower", inputCols=["age", "city"], columnTypes=["numeric"]).fit(df)
    with pytest.raises(InputError, match="'city'.*cannot be 'numeric'"):
        KMedoids(k=2, metric="gower", inputCols=["age", "city"], columnTypes=["numeric", "numeric"]).fit(df)
    empty = spark.createDataFrame([(1, None, None), (2, 1.0, "a")], "id long, x double, s string")
    with pytest.raises(InputError, match="no value in any of inputCols"):
        KMedoids(k=2, metric="gower", inputCols=["x", "s"]).fit(empty)


# ------------------------------------------------------------------------------------------ haversine


def test_haversine_on_lat_lon_columns(spark, tmp_path):
    rng = np.random.default_rng(3)
    cities = [(48.86, 2.35), (40.71, -74.0), (-33.87, 151.21)]  # Paris, New York, Sydney
    pts = np.vstack([rng.normal(c, 0.5, size=(100, 2)) for c in cities])
    pdf = pd.DataFrame({"id": np.arange(300), "lat": pts[:, 0], "lon": pts[:, 1]})
    df = spark.createDataFrame(pdf)
    model = KMedoids(k=3, metric="haversine", inputCols=["lat", "lon"], idCol="id", seed=2,
                     distanceCol="dist").fit(df)

    def hav(a, b):
        la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
        h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
        return 2 * 6371.0088 * math.asin(math.sqrt(min(1.0, h)))

    check_model_against_reference(df, model, [tuple(p) for p in pts], hav, tmp_path)
    assert model.summary.meanCost < 100  # km: every point is near its city's medoid


def test_metric_errors(spark):
    bad = spark.createDataFrame([(1, 91.0, 0.0), (2, 10.0, 10.0)], "id long, lat double, lon double")
    with pytest.raises(InputError, match=r"out of range.*\[-90, 90\]"):
        KMedoids(k=2, metric="haversine", inputCols=["lat", "lon"]).fit(bad)
    three = spark.createDataFrame([(1, 1.0, 0.0, 0.0), (2, 10.0, 10.0, 1.0)], "id long, a double, b double, c double")
    with pytest.raises(InputError, match="haversine"):
        KMedoids(k=2, metric="haversine", inputCols=["a", "b", "c"]).fit(three)
    sets = spark.createDataFrame(pd.DataFrame({"s": [["a"], ["b"], ["a", "b"]]}))
    with pytest.raises(InputError, match="holds sets.*jaccard, dice"):
        KMedoids(k=2, metric="euclidean", featuresCol="s").fit(sets)
    with pytest.raises(InputError, match="metric 'dice' needs a set column"):
        KMedoids(k=2, metric="dice", inputCols=["a", "b"]).fit(three)
    with pytest.raises(InputError, match="unknown metric 'nope'"):
        KMedoids(k=2, metric="nope", inputCols=["a", "b"]).fit(three)
    nulls = spark.createDataFrame(pd.DataFrame({"s": [["a", None], ["b"], ["c"]]}))
    with pytest.raises(InputError, match="contain null elements"):
        KMedoids(k=2, metric="jaccard", featuresCol="s").fit(nulls)


# ------------------------------------------------------------------------------------------ custom metric


def test_custom_numba_metric_end_to_end(spark, tmp_path):
    """metric=<numba.njit function>: fit, transform, evaluation and save/load (by import name) all use it."""
    from custom_metrics import canberra, negative

    rng = np.random.default_rng(8)
    x = np.vstack([rng.normal(c, 0.3, size=(100, 3)) for c in ((1, 1, 1), (5, 1, 2), (1, 6, 3))])
    df = spark.createDataFrame(pd.DataFrame({"id": np.arange(300), "features": list(x)})).repartition(3)
    model = KMedoids(k=3, metric=canberra, idCol="id", seed=3, distanceCol="dist").fit(df)
    assert model.getMetric() == "custom:custom_metrics.canberra"
    assert sorted(int(i) // 100 for i in model.medoidIds()) == [0, 1, 2]
    check_model_against_reference(df, model, list(x), lambda a, b: float(canberra(a, b)), tmp_path)
    with pytest.raises(InputError, match="non-negative"):
        KMedoids(k=3, metric=negative).fit(df)
