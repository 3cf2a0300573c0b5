"""Reading and validating the feature columns of a DataFrame: one Spark pass that validates and counts.

The input may be a ``pyspark.ml.linalg`` Vector column (dense or sparse), an ``array<numeric>`` column,
or a list of numeric columns (``inputCols``). Every fit, score and refinement pass works on one compact
*prepared* DataFrame with three columns:

- ``_sm_key``  long   a stable row key: xxhash64 of the ``idCol`` if given, else of the feature values
                       (identical rows then share a key, which lets samples merge them into weighted points);
- ``_sm_x``    array<double>  the features;
- ``_sm_w``    double the row weight (``weightCol`` or 1.0);
- ``_sm_id``   string the ``idCol`` value (only when an ``idCol`` is given).

Keys make sampling independent of partitioning and row order (see ``sampling``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkmed.data.columns import NUMERIC_TYPES, col, dense_array, field_type
from sparkmed.data.encoding import Encoding, encoded_column
from sparkmed.errors import InputError

KEY = "_sm_key"
X = "_sm_x"
W = "_sm_w"
ID = "_sm_id"

_INF = float("inf")


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns hold the features, the row id and the row weight."""

    featuresCol: str = "features"
    inputCols: tuple[str, ...] | None = None
    idCol: str | None = None
    weightCol: str | None = None
    encoding: Encoding | None = None  # None or kind "dense": the plain numeric features

    def describe(self) -> str:
        """How the features are named in error messages."""
        if self.inputCols:
            return f"inputCols {list(self.inputCols)}"
        return f"featuresCol '{self.featuresCol}'"


@dataclass(frozen=True)
class DataStats:
    """What the validation pass learned about the prepared data."""

    n_rows: int
    dim: int
    total_weight: float
    approx_keys: int
    approx_distinct_points: int
    max_abs: float = 0.0  # largest |feature value|: bounds every distance (overflow check in the fit)
    distinct_points_exact: bool = False  # approx_distinct_points is an exact count (small data)
    keys_lower_bound: int = 0  # distinct keys are at least this many (4 sigma): sizes the sampling rate


def feature_column(df: DataFrame, spec: FeatureSpec, *, padded: bool = True) -> Column:
    """The features as one ``array<double>`` column expression: dense values, or the sparse/set/Gower
    encoding of ``spec.encoding`` (``sparkmed.data.encoding``; ``padded=False`` leaves sparse/set rows unpadded)."""
    if spec.encoding is not None and spec.encoding.kind != "dense":
        return encoded_column(df, spec.featuresCol, spec.encoding, padded=padded)
    return dense_feature_column(df, spec)


def dense_feature_column(df: DataFrame, spec: FeatureSpec) -> Column:
    """The dense features of ``spec`` as one ``array<double>`` column expression (``columns.dense_array``)."""
    return dense_array(df, spec.featuresCol, spec.inputCols)


def prepare(df: DataFrame, spec: FeatureSpec) -> DataFrame:
    """The compact prepared DataFrame (key, features, weight[, id]); lazy: no Spark job runs here."""
    # -0.0 and 0.0 hash differently; such rows just get separate keys (samples still merge them as points).
    cols = [feature_column(df, spec).alias(X)]
    if spec.weightCol:
        wtype = field_type(df, spec.weightCol, "weightCol")
        if not isinstance(wtype, NUMERIC_TYPES):
            raise InputError(f"weightCol '{spec.weightCol}' has type {wtype.simpleString()}; expected numeric")
        cols.append(col(spec.weightCol).cast("double").alias(W))
    else:
        cols.append(F.lit(1.0).alias(W))
    if spec.idCol:
        cols.append(id_string(df, spec.idCol).alias(ID))
    out = df.select(*cols)
    key = F.xxhash64(F.col(ID)) if spec.idCol else F.xxhash64(F.col(X))
    return out.withColumn(KEY, key).select(KEY, X, W, *([ID] if spec.idCol else []))


def id_string(df: DataFrame, idCol: str) -> Column:
    """The ``idCol`` value as a string; a floating NaN id becomes null (every NaN would share one key), so the
    validation rejects it with the null ids."""
    dtype = field_type(df, idCol, "idCol")
    c = col(idCol)
    if isinstance(dtype, (T.FloatType, T.DoubleType)):
        c = F.when(F.isnan(c), F.lit(None)).otherwise(c)
    return c.cast("string")


def row_key(df: DataFrame, spec: FeatureSpec) -> Column:
    """The row key of ``prepare`` as an expression on the original DataFrame (to find medoid rows again)."""
    if spec.idCol:
        return F.xxhash64(id_string(df, spec.idCol))
    return F.xxhash64(feature_column(df, spec))


def _row_label(spec: FeatureSpec) -> Column:
    """How a bad row is named in messages: its id if there is an idCol, else its feature values."""
    if spec.idCol:
        return F.concat(F.lit(f"{spec.idCol}="), F.col(ID))
    return F.concat(F.lit("features="), F.col(X).cast("string"))


def validate(prepared: DataFrame, spec: FeatureSpec) -> DataStats:
    """Validate and count the prepared data in ONE Spark job; raise ``InputError`` naming what is wrong.

    Checks: empty data, null/NaN/±inf feature values, ragged or empty vectors, null or NaN ids, duplicate
    ids (exact, ``sparkmed.data.unique_keys``: one more job that reads only the id column and shuffles the keys as
    packed arrays, only when an ``idCol`` is given), null/NaN/negative weights, an all-zero or overflowing total
    weight. Also counts rows, the total weight, the largest absolute feature value (the fit checks that no
    distance or total can overflow) and (HyperLogLog) the number of distinct keys and distinct points,
    which size the samples.
    """
    x = F.col(X)
    w = F.col(W)
    # Plain (code-generated) array expressions rather than exists(lambda): several times faster per row.
    has_null = x.isNull() | (F.size(F.array_compact(x)) != F.size(x))
    non_finite = (
        F.array_contains(x, F.lit(float("nan")))
        | F.array_contains(x, F.lit(_INF))
        | F.array_contains(x, F.lit(-_INF))
    )
    bad_w = w.isNull() | F.isnan(w) | (F.abs(w) == F.lit(_INF)) | (w < 0)
    label = _row_label(spec)
    abs_max = max_abs_column()
    aggs = [
        F.count(F.lit(1)).alias("n"),
        F.sum(has_null.cast("long")).alias("n_null"),
        F.first(F.when(has_null, label), ignorenulls=True).alias("ex_null"),
        F.first(F.when(has_null, x), ignorenulls=True).alias("vec_null"),
        F.sum(F.coalesce(non_finite, F.lit(False)).cast("long")).alias("n_nonfinite"),
        F.first(F.when(non_finite, label), ignorenulls=True).alias("ex_nonfinite"),
        F.first(F.when(non_finite, x), ignorenulls=True).alias("vec_nonfinite"),
        F.min(F.size(x)).alias("min_d"),
        F.max(F.size(x)).alias("max_d"),
        F.first(F.when(F.size(x) == F.lit(0), label), ignorenulls=True).alias("ex_empty"),
        F.sum(bad_w.cast("long")).alias("n_bad_w"),
        F.first(F.when(bad_w, F.concat(label, F.lit(" has weight "), F.coalesce(w.cast("string"), F.lit("null")))),
                ignorenulls=True).alias("ex_bad_w"),
        F.sum(w).alias("total_w"),
        F.approx_count_distinct(F.col(KEY)).alias("keys"),
        F.max(abs_max).alias("max_abs"),
    ]
    if spec.idCol:
        aggs.append(F.sum(F.col(ID).isNull().cast("long")).alias("n_null_id"))
        aggs.append(F.first(F.when(F.col(ID).isNull(), x.cast("string")), ignorenulls=True).alias("ex_null_id"))
        aggs.append(F.approx_count_distinct(F.xxhash64(x)).alias("points"))
    row = prepared.agg(*aggs).collect()[0]
    what = spec.describe()
    n = int(row["n"])
    if n == 0:
        raise InputError("the input DataFrame is empty (0 rows): nothing to cluster")
    if row["n_null"]:
        raise InputError(
            f"{what}: {row['n_null']} of {n} rows have null feature values"
            f"{_where(spec, row['vec_null'], 'null')}; first such row: {row['ex_null'] or '(all features null)'}"
        )
    if row["n_nonfinite"]:
        raise InputError(
            f"{what}: {row['n_nonfinite']} of {n} rows have NaN or infinite feature values"
            f"{_where(spec, row['vec_nonfinite'], 'nonfinite')}; first such row: {row['ex_nonfinite']}"
        )
    if row["min_d"] != row["max_d"]:
        raise InputError(
            f"{what}: ragged feature vectors, lengths range from {row['min_d']} to {row['max_d']} (e.g. row "
            f"{example_row(prepared, spec, F.size(x) == row['min_d'])} has {row['min_d']} values, row "
            f"{example_row(prepared, spec, F.size(x) == row['max_d'])} has {row['max_d']}); all rows "
            "must have the same dimension"
        )
    if row["min_d"] == 0:
        raise InputError(f"{what}: feature vectors are empty (length 0); e.g. row {row['ex_empty']}")
    if spec.idCol and row["n_null_id"]:
        raise InputError(f"idCol '{spec.idCol}': {row['n_null_id']} of {n} rows have a null id (NaN counts as "
                         f"null); first such row: features={row['ex_null_id']}")
    if spec.idCol:
        check_unique_ids(prepared, spec, n)
    if row["n_bad_w"]:
        raise InputError(
            f"weightCol '{spec.weightCol}': {row['n_bad_w']} of {n} rows have a null, NaN, infinite or "
            f"negative weight; first: {row['ex_bad_w']}"
        )
    if not row["total_w"] > 0:
        raise InputError(f"weightCol '{spec.weightCol}': all weights are zero; nothing to cluster")
    if not math.isfinite(row["total_w"]):
        raise InputError(f"weightCol '{spec.weightCol}': the weights sum to more than float64 can hold (overflow); "
                         "scale them down")
    return DataStats(
        n_rows=n,
        dim=int(row["min_d"]),
        total_weight=float(row["total_w"]),
        approx_keys=int(row["keys"]),
        # without an idCol the key IS the hash of the features
        approx_distinct_points=int(row["points"] if spec.idCol else row["keys"]),
        max_abs=float(row["max_abs"]),
    )


def max_abs_column() -> Column:
    """Per prepared row, the largest absolute feature value (code-generated array expressions, no lambda)."""
    return F.greatest(F.array_max(F.col(X)), -F.array_min(F.col(X)))


def example_row(prepared: DataFrame, spec: FeatureSpec, condition: Column) -> str:
    """How messages name the first row meeting ``condition``: a ``limit(1)`` job, run only on an error path.

    Labels (ids, or the feature values as text) are not computed for every row inside the validation
    aggregation: ``max_by(label, ...)`` builds the text of every row (measured: +40% validation time)."""
    rows = prepared.filter(condition).select(_row_label(spec)).limit(1).collect()
    return rows[0][0] if rows else "(none found)"


def check_unique_ids(prepared: DataFrame, spec: FeatureSpec, n: int) -> None:
    """Exact uniqueness of the ids (``sparkmed.data.unique_keys``: one job reading only the key column)."""
    from sparkmed.data.pass_log import full_data_pass
    from sparkmed.data.unique_keys import repeated_keys

    full_data_pass("input: id column (duplicate ids)")
    repeats, example = repeated_keys(prepared.select(KEY), n)
    if not repeats:
        return
    ids = prepared.filter(F.col(KEY) == F.lit(example)).select(ID).limit(1000).collect()  # error path only
    distinct = sorted({r[0] for r in ids})
    what = (f"e.g. {spec.idCol}={distinct[0]}, {len(ids)} times" if len(distinct) == 1
            else f"distinct ids {distinct[:2]} share a 64-bit key")
    raise InputError(f"idCol '{spec.idCol}': ids are not unique ({repeats} of {n} rows repeat an id; {what}); "
                     "the idCol must identify rows")


def _where(spec: FeatureSpec, vec: list | None, kind: str) -> str:
    """Name the input column (inputCols) or vector position holding the bad value of an example row."""
    if vec is None:
        return ""
    def bad(v: float | None) -> bool:
        if kind == "null":
            return v is None
        return v is not None and not math.isfinite(v)

    positions = [i for i, v in enumerate(vec) if bad(v)]
    if not positions:
        return ""
    if spec.inputCols:
        names = [spec.inputCols[i] for i in positions if i < len(spec.inputCols)]
        return f" (in column(s) {', '.join(repr(c) for c in names)})"
    return f" (at vector position(s) {positions[:5]})"


def exact_distinct_points(prepared: DataFrame) -> int:
    """Exact number of distinct feature vectors (one extra job; only run when k is close to that number)."""
    from sparkmed.data.pass_log import full_data_pass

    full_data_pass("input: exact distinct points")
    return prepared.select(F.xxhash64(F.col(X)).alias("h")).distinct().count()
