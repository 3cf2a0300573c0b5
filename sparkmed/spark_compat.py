"""What differs between the pyspark lines sparkmed supports (3.5, 4.0, 4.1+), in one place.

sparkmed runs on the pyspark a platform provides (Databricks LTS runtimes run Spark 3.5 or 4.0; EMR 7 and
Dataproc 2.2 run 3.5), so it never installs one over it: pyspark is the ``sparkmed[spark]`` extra, and
this module is where a missing or too old pyspark is reported, and where an API newer than the floor
(:data:`MIN_PYSPARK`) gets its fallback. Everything else in sparkmed uses APIs that 3.5 has.

- ``F.arrow_udf`` (a scalar UDF on Arrow arrays) arrived in pyspark 4.1. :func:`arrow_batch_udf` uses it
  where it exists and otherwise wraps the *same* Arrow function in a ``pandas_udf``: the pandas Series of
  numpy arrays Spark hands over becomes the Arrow list array the function expects, and its StructArray
  result goes back as a pandas DataFrame with nullable columns. Same function, same numbers; only the
  transfer differs (the pandas route creates one numpy array per row, ~1 µs each).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd  # at module level: pandas_udf resolves the type hints below in this module's globals
import pyarrow as pa

MIN_PYSPARK = (3, 5, 0)
"""The oldest pyspark sparkmed supports (the Spark of Databricks 14.3/15.4 LTS, EMR 7, Dataproc 2.2)."""

INSTALL_HINT = (
    "sparkmed needs pyspark >= 3.5 (or the pyspark a Databricks runtime or databricks-connect provides): "
    "pip install 'sparkmed[spark]'"
)


def parse_version(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a version string such as ``3.5.0``, ``4.1.0.dev2`` or ``15.4.x-scala2.12``."""
    parts = []
    for piece in text.split(".")[:3]:
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits or 0))
    return tuple((parts + [0, 0, 0])[:3])  # type: ignore[return-value]


def pyspark_version() -> tuple[int, int, int]:
    """(major, minor, patch) of the importable pyspark; ``ImportError`` with the install hint if there is
    none, or if it is older than :data:`MIN_PYSPARK`. Every Spark-side package of sparkmed calls this first."""
    try:
        import pyspark
    except ImportError as e:
        raise ImportError(f"pyspark is not importable ({e}). {INSTALL_HINT}") from None
    version = parse_version(pyspark.__version__)
    if version < MIN_PYSPARK:
        raise ImportError(f"pyspark {pyspark.__version__} is too old. {INSTALL_HINT}")
    return version


def has_arrow_udf() -> bool:
    """Whether ``pyspark.sql.functions.arrow_udf`` exists (pyspark >= 4.1)."""
    from pyspark.sql import functions as F

    return hasattr(F, "arrow_udf")


def arrow_batch_udf(return_type: str, fn: Callable, *, arrow_udf: bool | None = None):
    """A scalar UDF running ``fn(pa.Array) -> pa.StructArray`` on batches of one ``array<double>`` column.

    ``F.arrow_udf`` when it exists (or when ``arrow_udf`` is True), else the pandas route described in the
    module doc. ``return_type`` is a DDL struct type whose fields are the StructArray's fields, in order.
    """
    from pyspark.sql import functions as F

    if has_arrow_udf() if arrow_udf is None else arrow_udf:
        def via_arrow(x: pa.Array) -> pa.Array:  # these hints, not fn's, tell arrow_udf its kind (scalar)
            return fn(x)

        return F.arrow_udf(via_arrow, return_type)

    features = pa.list_(pa.float64())
    nullable = {pa.int32(): pd.Int32Dtype(), pa.float64(): pd.Float64Dtype()}.get  # nulls stay nulls

    def via_pandas(s: pd.Series) -> pd.DataFrame:
        out = fn(pa.array(s, type=features, from_pandas=False))  # NaN stays NaN (the function flags it)
        return pd.DataFrame({out.type.field(i).name: out.field(i).to_pandas(types_mapper=nullable)
                             for i in range(out.type.num_fields)})

    return F.pandas_udf(via_pandas, return_type)
