"""Input checks that need Spark-built DataFrames (Vector columns, duplicated or quoted column names).

Each bad input is an ``InputError`` naming the column (and an example row where rows are at fault) before
any clustering; column names that need quoting in Spark SQL just work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors
from pyspark.sql import functions as F

from sparkmed import InputError, KMedoids

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def blobs(spark):
    rng = np.random.default_rng(2)
    x = np.vstack([rng.normal(c, 0.3, size=(50, 3)) for c in ((0, 0, 0), (5, 5, 5))])
    return spark.createDataFrame(pd.DataFrame({"id": np.arange(len(x)), "a": x[:, 0], "b": x[:, 1], "c": x[:, 2]}))


def test_a_null_vector_is_named_not_a_jvm_error(spark):
    rows = [(i, Vectors.dense([float(i), 1.0]) if i != 4 else None) for i in range(20)]
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([StructField("id", LongType()), StructField("v", VectorUDT(), True)])
    df = spark.createDataFrame(rows, schema)
    with pytest.raises(InputError) as err:
        KMedoids(k=2, featuresCol="v", idCol="id").fit(df)
    assert "'v'" in str(err.value) and "null" in str(err.value) and "id=4" in str(err.value)


def test_duplicated_column_names_are_refused_by_name(blobs):
    dup = blobs.select("id", "a", "b", "c", F.col("a").alias("a"))
    with pytest.raises(InputError, match="'a'.*2 columns of that name"):
        KMedoids(k=2, inputCols=["a", "b", "c"], idCol="id").fit(dup)


def test_column_names_that_need_quoting_just_work(blobs):
    """Dots and backticks in names: fit, transform, computeCost and medoidRows."""
    odd = blobs.select(F.col("id").alias("row.id"), F.col("a").alias("x.a"), F.col("b").alias("y`b"),
                       F.col("c").alias("c"))
    plain = KMedoids(k=2, inputCols=["a", "b", "c"], idCol="id", seed=4).fit(blobs)
    model = KMedoids(k=2, inputCols=["x.a", "y`b", "c"], idCol="row.id", weightCol=None, seed=4,
                     distanceCol="d.ist").fit(odd)
    np.testing.assert_array_equal(model.medoids(), plain.medoids())
    out = model.transform(odd)
    assert out.filter(F.col("prediction").isNull()).count() == 0
    assert model.computeCost(odd) == pytest.approx(plain.computeCost(blobs), rel=1e-12)
    assert model.medoidRows(odd).count() == 2


def test_transform_with_fewer_input_columns_than_the_model_is_refused(blobs):
    model = KMedoids(k=2, inputCols=["a", "b", "c"], seed=1).fit(blobs)
    with pytest.raises(InputError, match="2 column.*3 features"):
        model.setInputCols(["a", "b"]).transform(blobs)
    with pytest.raises(InputError, match="2 column.*3 features"):
        model.computeCost(blobs)
