"""How a row's features become one float64 row for the kernels: dense, sparse, set or Gower encodings.

Every pass of the fit (sample, pack, score, refine) and every kernel works on fixed-length float64 rows.
Data that is not a dense vector is *encoded* into such rows in the JVM, and the kernels have metrics
defined on the encoded layouts (``sparkmed.kernels.encoded``):

- **dense** (numeric columns, ``array<number>``, dense Vectors): the values; any registry metric.
- **sparse** (``pyspark.ml`` Vectors whose non-zeros are few): an ELL row ``[nnz, idx_1..idx_L, v_1..v_L]``
  of width ``L`` = the largest non-zero count in the data (explicit zeros dropped): no densifying —
  a row costs ``1 + 2L`` numbers instead of ``size``. Metrics: euclidean, manhattan, cosine, jaccard
  (on non-zeros), computed by merging index lists.
- **set** (``array<string>`` / ``array<integer>``: baskets, tags, shingles): ``[s, c_1..c_L]`` with the
  distinct elements' 53-bit hash codes ascending (exact in float64; a collision between two distinct
  elements has probability ~ n_elements² / 2^54). Metrics: jaccard, dice.
- **gower** (mixed tables, ``inputCols`` by name): ``[m, types, weights, values]`` where numeric/ordinal
  columns are scaled by the range of the training data ``(x - min) / (max - min)`` (the ranges are computed
  in one distributed pass and stored in the model, so new data uses the same scaling), nominal values
  become 53-bit hash codes, booleans 0/1 (asymmetric binary by default, as R's ``daisy``), and nulls/NaN the
  missing marker (a pair skips such a column).

``plan_encoding`` chooses the encoding from the column types and the metric (one small aggregation pass
for non-dense encodings and haversine, which also validates them); the ``Encoding`` is JSON-serialisable
and saved with the model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkmed.data.columns import INTEGRAL_TYPES, NUMERIC_TYPES, col, dense_array, field_type, is_vector
from sparkmed.errors import InputError
from sparkmed.kernels import MISSING, SCALED_LIMIT, kernel_metric_for, public_metrics_for

LAYOUTS = {"dense": "dense", "sparse": "ell", "set": "set", "gower": "gower"}
"""The kernel row layout (``sparkmed.kernels.METRICS[...].layout``) of each encoding kind."""
KINDS = tuple(LAYOUTS)
VECTOR_FORMATS = ("auto", "dense", "sparse")
GOWER_TYPES = {"numeric": 0, "ordinal": 0, "nominal": 1, "symm": 1, "asymm": 2}
MASK53 = (1 << 53) - 1  # element / category codes: 53-bit hashes, exact in float64
_VECTOR_STRUCT = "struct<v:struct<type:tinyint,size:int,indices:array<int>,values:array<double>>>"


@dataclass(frozen=True)
class Encoding:
    """The encoding of one model's features (saved with the model; see the module doc)."""

    kind: str = "dense"
    kernel_metric: str = "euclidean"
    width: int = 0  # sparse: max non-zeros; set: max set size; gower: number of columns
    size: int = 0  # sparse: the vectors' size
    columns: tuple[str, ...] = ()
    types: tuple[int, ...] = ()
    weights: tuple[float, ...] = ()
    mins: tuple[float, ...] = ()
    ranges: tuple[float, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict | None) -> Encoding:
        if not d:
            return cls()
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})

    @property
    def padded(self) -> bool:
        """Whether rows are variable-length before padding (sparse, set)."""
        return self.kind in ("sparse", "set")


def _is_set_type(dtype: T.DataType) -> bool:
    return isinstance(dtype, T.ArrayType) and isinstance(dtype.elementType, (T.StringType, *INTEGRAL_TYPES))


def set_only(metric: str) -> bool:
    """Whether ``metric`` is a name that selects a set metric but no dense one (e.g. dice)."""
    return kernel_metric_for("dense", metric) is None and kernel_metric_for("set", metric) is not None


def plan_encoding(
    df: DataFrame, featuresCol: str, inputCols: tuple[str, ...] | None, metric: str, *,
    vector_format: str = "auto", column_types: list[str] | None = None, column_weights: list[float] | None = None,
) -> Encoding:
    """Choose and validate the encoding for ``metric`` on these columns; raises ``InputError`` naming the problem.

    Runs one aggregation over ``df`` for sparse vectors (non-zero counts, sizes), sets (sizes, null elements),
    Gower (numeric ranges, non-finite values, rows with no value) and haversine (coordinate ranges).
    """
    if vector_format not in VECTOR_FORMATS:
        raise InputError(f"vectorFormat '{vector_format}' is unknown; valid: {', '.join(VECTOR_FORMATS)}")
    if metric == "gower":
        if not inputCols:
            raise InputError("metric 'gower' needs inputCols: the table's numeric, boolean and string columns by name")
        return _plan_gower(df, tuple(inputCols), column_types, column_weights)
    if column_types or column_weights:
        raise InputError("columnTypes / columnWeights are only used by metric 'gower'")
    if inputCols:
        if metric == "haversine":
            _check_haversine(df, F.array(*[col(c).cast("double") for c in inputCols]), f"inputCols {list(inputCols)}")
        if set_only(metric):
            raise InputError(f"metric '{metric}' needs a set column (array<string> or array<int>) as featuresCol")
        return Encoding("dense", metric)
    dtype = field_type(df, featuresCol, "featuresCol")
    if _is_set_type(dtype):
        if kernel_metric_for("set", metric) is None:
            raise InputError(
                f"featuresCol '{featuresCol}' holds sets ({dtype.simpleString()}); metric must be one of "
                f"{', '.join(public_metrics_for('set'))}, got '{metric}'"
            )
        return _plan_sets(df, featuresCol, metric)
    if set_only(metric):
        raise InputError(f"metric '{metric}' needs a set column (array<string> or array<int>); featuresCol "
                         f"'{featuresCol}' has type {dtype.simpleString()}")
    if is_vector(dtype) and vector_format != "dense" and kernel_metric_for("ell", metric):
        enc = _plan_sparse(df, featuresCol, metric, vector_format)
        if enc is not None:
            return enc
    elif vector_format == "sparse":
        raise InputError(
            "vectorFormat 'sparse' needs a Vector featuresCol and one of the metrics "
            f"{', '.join(public_metrics_for('ell'))}; "
            f"got {dtype.simpleString()} with metric '{metric}'"
        )
    if metric == "haversine":
        x = dense_array(df, featuresCol)
        _check_haversine(df, x, f"featuresCol '{featuresCol}'")
    return Encoding("dense", metric)


def _check_haversine(df: DataFrame, x: Column, what: str) -> None:
    lat, lon = x.getItem(0), x.getItem(1)
    bad = (F.abs(lat) > 90) | (F.abs(lon) > 180)
    row = df.agg(
        F.sum(F.coalesce(bad, F.lit(False)).cast("long")).alias("n"),
        F.first(F.when(bad, F.to_json(F.array(lat, lon))), ignorenulls=True).alias("ex"),
    ).collect()[0]
    if row["n"]:
        raise InputError(
            f"metric 'haversine' on {what}: {row['n']} row(s) have coordinates out of range (latitude must lie in "
            f"[-90, 90] and longitude in [-180, 180], in degrees, as (lat, lon)); first: {row['ex']}"
        )


def _set_codes(values: Column) -> Column:
    """Sorted distinct 53-bit hash codes of a set column's elements (as doubles)."""
    codes = F.transform(values, lambda e: F.xxhash64(e.cast("string")).bitwiseAND(F.lit(MASK53)).cast("double"))
    return F.array_sort(F.array_distinct(codes))


def _plan_sets(df: DataFrame, featuresCol: str, metric: str) -> Encoding:
    c = col(featuresCol)
    null_elem = F.exists(c, lambda e: e.isNull())
    row = df.agg(
        F.max(F.size(F.array_distinct(c))).alias("width"),
        F.sum(F.coalesce(null_elem, F.lit(False)).cast("long")).alias("null_elem"),
        F.sum(c.isNull().cast("long")).alias("null_rows"),
        F.count(F.lit(1)).alias("n"),
    ).collect()[0]
    if not row["n"]:
        raise InputError("the input DataFrame is empty (0 rows): nothing to cluster")
    if row["null_rows"]:
        raise InputError(f"featuresCol '{featuresCol}': {row['null_rows']} row(s) are null (use an empty set)")
    if row["null_elem"]:
        raise InputError(f"featuresCol '{featuresCol}': {row['null_elem']} set(s) contain null elements")
    return Encoding("set", kernel_metric_for("set", metric), width=max(1, int(row["width"] or 0)))


def _sparse_parts(vector: Column) -> tuple[Column, Column, Column]:
    """(indices as doubles, values, size) of a Vector column with explicit zeros dropped (JVM expressions).

    The Vector UDT cannot be taken apart directly, so it goes through its JSON form (type, size, indices,
    values); dense Vectors (type 1) list every position.
    """
    v = F.from_json(F.to_json(F.struct(vector.alias("v"))), _VECTOR_STRUCT).getField("v")
    vals = v.getField("values")
    is_dense = v.getField("type") == F.lit(1)
    n_dense = F.size(vals)
    positions = F.when(n_dense > 0, F.sequence(F.lit(0), n_dense - 1)).otherwise(F.array().cast("array<int>"))
    idx = F.when(is_dense, positions).otherwise(v.getField("indices"))
    pairs = F.filter(F.zip_with(idx, vals, lambda i, x: F.struct(i.alias("i"), x.alias("x"))),
                     lambda p: p.getField("x") != F.lit(0.0))
    size = F.when(is_dense, n_dense).otherwise(v.getField("size"))
    return (F.transform(pairs, lambda p: p.getField("i").cast("double")),
            F.transform(pairs, lambda p: p.getField("x")), size)


PLAN_SAMPLE_ROWS = 1000
"""Rows the ``vectorFormat="auto"`` decision looks at before it considers a full pass (see ``_plan_sparse``)."""


def _sparse_stats(df: DataFrame, featuresCol: str):
    idx, _, size = _sparse_parts(col(featuresCol))
    return df.agg(F.max(F.size(idx)).alias("nnz"), F.min(size).alias("min_size"), F.max(size).alias("max_size"),
                  F.count(F.lit(1)).alias("n")).collect()[0]


def _dense_enough(nnz: int | None, size: int) -> bool:
    """An ELL row of ``1 + 2·nnz`` numbers is no cheaper than the dense row of ``size`` values."""
    return 1 + 2 * max(1, int(nnz or 0)) > size // 2


def _plan_sparse(df: DataFrame, featuresCol: str, metric: str, vector_format: str) -> Encoding | None:
    """The sparse encoding of a Vector column, or None where dense rows are cheaper (``auto``).

    ``auto`` first looks at the first :data:`PLAN_SAMPLE_ROWS` rows (a tiny job): the largest non-zero
    count of the whole column is at least the sample's, so a sample that is dense enough decides "dense"
    exactly as a full pass would — dense Vector columns never pay a pass over every row (it once cost a
    3M-row fit 63 of its 97 s). Only a sample that looks sparse leads to the full pass, which the ELL
    width (the largest non-zero count) needs anyway.
    """
    if vector_format == "auto":
        head = _sparse_stats(df.limit(PLAN_SAMPLE_ROWS), featuresCol)
        if head["n"] and head["max_size"] is not None and _dense_enough(head["nnz"], int(head["max_size"])):
            return None
    row = _sparse_stats(df, featuresCol)
    if not row["n"] or row["max_size"] is None:
        return None  # empty or all-null: the dense validation names the problem
    if row["min_size"] != row["max_size"]:
        raise InputError(f"featuresCol '{featuresCol}': vectors of different sizes ({row['min_size']} to "
                         f"{row['max_size']}); all rows must have the same dimension")
    width, size_ = max(1, int(row["nnz"] or 0)), int(row["max_size"])
    if vector_format == "auto" and _dense_enough(width, size_):
        return None  # dense enough: the dense kernels are faster
    return Encoding("sparse", kernel_metric_for("ell", metric), width=width, size=size_)


def _plan_gower(df: DataFrame, cols: tuple[str, ...], column_types: list[str] | None,
                column_weights: list[float] | None) -> Encoding:
    m = len(cols)
    if column_types is not None and len(column_types) != m:
        raise InputError(f"columnTypes has {len(column_types)} entries but inputCols has {m}")
    if column_weights is not None and len(column_weights) != m:
        raise InputError(f"columnWeights has {len(column_weights)} entries but inputCols has {m}")
    types, weights = [], []
    for j, name in enumerate(cols):
        dtype = field_type(df, name, "input column")
        if column_types is not None:
            given = column_types[j]
            if given not in GOWER_TYPES:
                raise InputError(f"columnTypes[{j}] ('{name}'): '{given}' is unknown; valid: {', '.join(GOWER_TYPES)}")
            code = GOWER_TYPES[given]
            if code == 0 and not isinstance(dtype, NUMERIC_TYPES):
                raise InputError(f"input column '{name}' ({dtype.simpleString()}) cannot be '{given}': not numeric")
            if code == 2 and not isinstance(dtype, (T.BooleanType, *NUMERIC_TYPES)):
                raise InputError(f"input column '{name}' ({dtype.simpleString()}) cannot be 'asymm': "
                                 "needs boolean or 0/1 values")
        elif isinstance(dtype, T.BooleanType):
            code = 2
        elif isinstance(dtype, NUMERIC_TYPES):
            code = 0
        elif isinstance(dtype, T.StringType):
            code = 1
        else:
            raise InputError(f"input column '{name}' has type {dtype.simpleString()}; metric 'gower' takes numeric, "
                             "boolean and string columns")
        types.append(code)
        w = 1.0 if column_weights is None else column_weights[j]
        if not (isinstance(w, (int, float)) and math.isfinite(w) and w > 0):
            raise InputError(f"columnWeights[{j}] ('{name}') must be a positive finite number, got {w!r}")
        weights.append(float(w))
    aggs = [F.count(F.lit(1)).alias("n")]
    present = []
    for j, name in enumerate(cols):
        c = col(name)
        if types[j] == 0 or (types[j] == 2 and not isinstance(df.schema[name].dataType, T.BooleanType)):
            x = c.cast("double")
            ok = x.isNotNull() & ~F.isnan(x)
            aggs += [F.min(F.when(ok, x)).alias(f"min{j}"), F.max(F.when(ok, x)).alias(f"max{j}"),
                     F.sum((ok & (F.abs(x) == F.lit(math.inf))).cast("long")).alias(f"inf{j}")]
            if types[j] == 2:
                aggs.append(F.sum((ok & ~x.isin(0.0, 1.0)).cast("long")).alias(f"bin{j}"))
            present.append(ok)
        else:
            present.append(c.isNotNull())
    none = ~F.greatest(*[p.cast("int") for p in present]).cast("boolean") if m > 1 else ~present[0]
    aggs += [F.sum(none.cast("long")).alias("empty"),
             F.first(F.when(none, F.to_json(F.struct(*[col(c) for c in cols]))), ignorenulls=True).alias("ex")]
    row = df.agg(*aggs).collect()[0]
    if not row["n"]:
        raise InputError("the input DataFrame is empty (0 rows): nothing to cluster")
    if row["empty"]:
        raise InputError(f"metric 'gower': {row['empty']} row(s) have no value in any of inputCols {list(cols)} "
                         f"(nothing to compare); first: {row['ex']}")
    mins, ranges = [], []
    for j, name in enumerate(cols):
        if f"inf{j}" in row and row[f"inf{j}"]:
            raise InputError(f"input column '{name}': {row[f'inf{j}']} row(s) are infinite")
        if f"bin{j}" in row and row[f"bin{j}"]:
            raise InputError(f"input column '{name}' is 'asymm' binary but {row[f'bin{j}']} row(s) are not 0 or 1")
        lo, hi = (row[f"min{j}"], row[f"max{j}"]) if types[j] == 0 else (None, None)
        mins.append(float(lo) if lo is not None else 0.0)
        ranges.append(float(hi - lo) if lo is not None else 0.0)
    return Encoding("gower", "gower", width=m, columns=cols, types=tuple(types), weights=tuple(weights),
                    mins=tuple(mins), ranges=tuple(ranges))


def encoded_column(df: DataFrame, featuresCol: str, enc: Encoding, *, padded: bool = True) -> Column:
    """The encoded features as one ``array<double>`` expression (lazy). ``padded=False``: sparse/set rows
    without padding (``transform`` pads per batch, see ``pad_batch``)."""
    if enc.kind == "set":
        codes = _set_codes(col(featuresCol))
        head = F.array(F.size(codes).cast("double"))
        if not padded:
            return F.concat(head, codes)
        return F.concat(head, codes, F.array_repeat(F.lit(0.0), F.lit(enc.width) - F.size(codes)))
    if enc.kind == "sparse":
        idx, vals, _ = _sparse_parts(col(featuresCol))
        head = F.array(F.size(idx).cast("double"))
        if not padded:
            return F.concat(head, idx, vals)
        pad = F.array_repeat(F.lit(0.0), F.lit(enc.width) - F.size(idx))
        return F.concat(head, idx, pad, vals, pad)
    if enc.kind == "gower":
        return _gower_row(df, enc)
    raise ValueError(f"encoded_column: kind '{enc.kind}' has no encoding")


def _gower_row(df: DataFrame, enc: Encoding) -> Column:
    missing = F.lit(MISSING)
    values = []
    for j, name in enumerate(enc.columns):
        c = col(name)
        if enc.types[j] == 0:
            x = c.cast("double")
            scaled = (x - F.lit(enc.mins[j])) / F.lit(enc.ranges[j]) if enc.ranges[j] > 0 else F.lit(0.0)
            v = F.greatest(F.least(scaled, F.lit(SCALED_LIMIT)), F.lit(-SCALED_LIMIT))
            v = F.when(x.isNull() | F.isnan(x), missing).otherwise(v)
        elif enc.types[j] == 1:
            v = F.when(c.isNull(), missing).otherwise(
                F.xxhash64(c.cast("string")).bitwiseAND(F.lit(MASK53)).cast("double"))
        else:
            x = c.cast("double")
            v = F.when(x.isNull() | F.isnan(x), missing).otherwise(x)
        values.append(v)
    header = [F.lit(float(enc.width))] + [F.lit(float(t)) for t in enc.types] + [F.lit(w) for w in enc.weights]
    return F.array(*header, *values)


def pad_batch(x: pa.Array, enc: Encoding, dim: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(rows, usable mask, width) of an Arrow list batch of features as produced for ``transform``.

    Dense/Gower rows must have length ``dim``; sparse/set rows arrive unpadded and are padded to
    ``max(enc.width, largest row)`` (the returned width; re-pad the medoids with ``kernels.layout.repad``).
    Null, wrongly sized or non-finite rows are marked unusable.
    """
    n = len(x)
    valid = np.asarray(x.is_valid(), dtype=bool) if x.null_count else np.ones(n, dtype=bool)
    lengths = x.value_lengths().fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = x.flatten().to_numpy(zero_copy_only=False).astype(np.float64)
    if enc.padded:
        from sparkmed.kernels import pad_unpadded, unpadded_count

        offsets = np.concatenate([[0], np.cumsum(lengths)])
        counts = unpadded_count(flat, offsets)
        width = int(max(enc.width, counts.max(initial=0)))
        rows = pad_unpadded(flat, offsets, enc.kind, width)
        ok = valid & (lengths > 0)
    else:
        width = dim
        ok = valid & (lengths == dim)
        if ok.all():
            rows = flat.reshape(n, dim)
        else:
            rows = np.zeros((n, dim))
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            for i in np.flatnonzero(ok):
                rows[i] = flat[offsets[i] : offsets[i] + dim]
    ok &= np.isfinite(rows).all(axis=1)
    return np.ascontiguousarray(rows), ok, width


def batch_rows(x: pa.Array, enc: Encoding, medoids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rows, usable mask, medoids at the batch's width) of an Arrow list batch of features: what every
    per-row pass over new data (``transform``, ``computeCost``, the silhouettes) hands to a kernel.

    Sparse/set rows are padded to the batch's width (:func:`pad_batch`) and the medoids re-padded to match.
    """
    from sparkmed.kernels import repad

    rows, ok, width = pad_batch(x, enc, medoids.shape[1])
    return rows, ok, (repad(medoids, enc.kind, width) if enc.padded else medoids)
