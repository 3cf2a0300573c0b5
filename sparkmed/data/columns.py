"""Columns named by users: quoted references, type look-ups and duplicate-name checks, in one place.

Why: ``F.col("a.b")`` means field ``b`` of a struct ``a`` and a backtick starts a quoted name, so a user's
column called ``a.b`` or ``x`y`` passes a ``name in df.columns`` check and then fails inside Spark (or reads
another column). Every reference to a user's column therefore goes through :func:`col`, which quotes the
name exactly. A DataFrame may also carry two columns of the same name (after a join); referring to one is
``AMBIGUOUS_REFERENCE`` deep in a plan, so :func:`field_type` rejects it up front, naming the column.
"""

from __future__ import annotations

from collections import Counter

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from sparkmed.errors import InputError

INTEGRAL_TYPES = (T.ByteType, T.ShortType, T.IntegerType, T.LongType)
NUMERIC_TYPES = (*INTEGRAL_TYPES, T.FloatType, T.DoubleType, T.DecimalType)


def col(name: str) -> Column:
    """A reference to the top-level column called exactly ``name`` (dots and backticks included)."""
    return F.col("`" + name.replace("`", "``") + "`")


def field_type(df: DataFrame, name: str, role: str) -> T.DataType:
    """The type of column ``name``; ``InputError`` naming ``role`` if it is missing or not unique."""
    fields = df.schema.fields
    matches = [f.dataType for f in fields if f.name == name]
    if not matches:
        raise InputError(f"{role} '{name}' is not a column of the DataFrame; columns are "
                         f"{sorted(f.name for f in fields)}")
    if len(matches) > 1:
        raise InputError(f"{role} '{name}': the DataFrame has {len(matches)} columns of that name; rename or drop "
                         "the duplicates (e.g. after a join) so the reference is unambiguous")
    return matches[0]


def check_unique_names(df: DataFrame, what: str) -> None:
    """``InputError`` if any column name of ``df`` occurs twice (for code that reads every column)."""
    dup = sorted(name for name, count in Counter(df.columns).items() if count > 1)
    if dup:
        raise InputError(f"{what}: the DataFrame has duplicated column names {dup}; rename or drop them")


def is_vector(dtype: T.DataType) -> bool:
    """Whether ``dtype`` is pyspark.ml's Vector type (without importing pyspark.ml)."""
    return dtype.typeName() == "vector" or type(dtype).__name__ == "VectorUDT"


def dense_array(df: DataFrame, featuresCol: str, inputCols: tuple[str, ...] | None = None) -> Column:
    """Dense features (numeric ``inputCols``, or a Vector / numeric array ``featuresCol``) as one
    ``array<double>`` column expression, after checking the columns' names and types."""
    if inputCols:
        for name in inputCols:
            dtype = field_type(df, name, "input column")
            if not isinstance(dtype, NUMERIC_TYPES):
                raise InputError(
                    f"input column '{name}' has type {dtype.simpleString()}; inputCols must be numeric"
                )
        return F.array(*[col(c).cast("double") for c in inputCols])
    dtype = field_type(df, featuresCol, "featuresCol")
    if is_vector(dtype):
        from pyspark.ml.functions import vector_to_array

        # vector_to_array fails on a null Vector (a raw JVM error): nulls stay null, and validation names them.
        c = col(featuresCol)
        return F.when(c.isNull(), F.lit(None).cast("array<double>")).otherwise(vector_to_array(c, "float64"))
    if isinstance(dtype, T.ArrayType) and isinstance(dtype.elementType, NUMERIC_TYPES):
        return col(featuresCol).cast("array<double>")
    raise InputError(
        f"featuresCol '{featuresCol}' has type {dtype.simpleString()}; expected a Vector, an "
        "array of numbers, or use inputCols with numeric columns"
    )
