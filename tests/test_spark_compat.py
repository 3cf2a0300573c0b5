"""sparkmed.spark_compat: the pyspark floor, the message without pyspark, and the two routes of an Arrow UDF.

On pyspark >= 4.1 ``arrow_batch_udf`` runs ``F.arrow_udf``; before it, a ``pandas_udf`` around the same
function. Every route the installed pyspark has (on the newest both: ``arrow_udf=False`` forces the older one)
must give the rows the function gives on the same data without Spark, nulls included.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from sparkmed.spark_compat import MIN_PYSPARK, arrow_batch_udf, has_arrow_udf, parse_version, pyspark_version


@pytest.mark.parametrize(("text", "expected"), [
    ("3.5.0", (3, 5, 0)), ("3.5.9", (3, 5, 9)), ("4.1.0.dev2", (4, 1, 0)), ("4.0", (4, 0, 0)),
    ("15.4.x-scala2.12", (15, 4, 0)), ("3.5.2rc1", (3, 5, 2)),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


def test_the_installed_pyspark_is_supported():
    assert pyspark_version() >= MIN_PYSPARK


def test_without_pyspark_the_spark_side_names_the_fix():
    """pyspark made unimportable (``sys.modules['pyspark'] = None``): the kernels still import; the Spark side
    raises ImportError with the install hint, not a bare ModuleNotFoundError from deep inside."""
    code = ("import sys; sys.modules['pyspark'] = None\n"
            "import sparkmed, sparkmed.kernels\n"
            "assert sparkmed.InputError\n"
            "for attr in ('KMedoids', 'MedoidSilhouetteEvaluator', 'select_k'):\n"
            "    try:\n        getattr(sparkmed, attr)\n    except ImportError as e:\n        print(e)\n"
            "    else:\n        raise SystemExit(attr + ' imported without pyspark')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 3 and all("pip install 'sparkmed[spark]'" in ln for ln in lines), proc.stdout


@pytest.mark.spark
def test_pandas_route_equals_arrow_route(spark):
    # defined here, not at module level: the executors unpickle it by value (tests/ is not on their path)
    def _length_and_sum(x: pa.Array) -> pa.StructArray:
        """(row length, row sum) per row; null when the row is null or holds a NaN."""
        rows = x.to_pylist()
        bad = np.array([r is None or any(v != v for v in r) for r in rows])
        length = np.array([0 if r is None else len(r) for r in rows], dtype=np.int32)
        total = np.array([0.0 if b else float(np.sum(r)) for r, b in zip(rows, bad, strict=True)])
        return pa.StructArray.from_arrays([pa.array(length, mask=bad), pa.array(total, mask=bad)],
                                          names=["n", "s"], mask=pa.array(bad) if bad.any() else None)

    rows = [([1.0, 2.0],), (None,), ([float("nan"), 1.0],), ([],), ([0.5, 0.25, 4.0],), ([-1e300, 1e300],)]
    df = spark.createDataFrame(rows * 50, "x array<double>").repartition(3)
    expected = _length_and_sum(pa.array([r[0] for r in rows * 50], type=pa.list_(pa.float64()))).to_pylist()
    expected = sorted((e is None, (e or {}).get("n") or 0, (e or {}).get("s") or 0.0) for e in expected)
    routes = (True, False) if has_arrow_udf() else (False,)  # before 4.1 only the pandas route exists
    for arrow in routes:
        udf = arrow_batch_udf("struct<n:int,s:double>", _length_and_sum, arrow_udf=arrow)
        out = df.select(udf("x").alias("a")).select("a.n", "a.s").collect()
        got = sorted((r["n"] is None, r["n"] or 0, r["s"] or 0.0) for r in out)
        assert got == expected, f"arrow_udf={arrow}"
    assert sum(1 for r in expected if r[0]) == 100  # the null and the NaN rows
