"""``--output-table``: medoids and assignments as catalog tables, replaced only when a whole run succeeded.

The tables need a persistent catalog, so the runs happen in a child process with its own Hive-enabled session
(embedded Derby metastore and warehouse in a temporary directory). The child runs the job in-process, as
under spark-submit (``run(..., submitted=True)`` reuses the session), and prints what it found.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from sparkmed.errors import InputError
from sparkmed.job import config as C
from sparkmed.job.tables import check_prefix

pytestmark = pytest.mark.spark

CHILD = textwrap.dedent("""
    import json, sys
    from pyspark.sql import SparkSession
    from sparkmed.errors import InputError
    from sparkmed.job import config as C
    from sparkmed.job.run import run

    d = sys.argv[1]
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.sql.catalogImplementation", "hive").config("spark.sql.warehouse.dir", d + "/warehouse")
             .config("spark.hadoop.javax.jdo.option.ConnectionURL",
                     "jdbc:derby:;databaseName=" + d + "/metastore_db;create=true")
             .config("spark.sql.shuffle.partitions", "4").getOrCreate())
    found = {}

    def job(seed, out, table, *extra):
        cfg = C.load(None, [("input.path", d + "/in.parquet"), ("input.features", ["a", "b"]), ("input.id", "rid"),
                            ("model.k", 3), ("model.seed", seed), ("output.path", d + "/" + out),
                            ("output.table", table), ("output.report", False), *extra])
        return run("fit", cfg, submitted=True)

    def medoid_ids(name):
        return sorted(r["medoid_id"] for r in spark.table(name).collect())

    first = job(1, "out1", "sm_run")
    found["first_ids"] = medoid_ids("sm_run_medoids")
    found["first_metrics_ids"] = sorted(str(i) for i in first["medoid_ids"])
    found["assignments_rows"] = spark.table("sm_run_assignments").count()
    found["property"] = {r[0]: r[1] for r in spark.sql("SHOW TBLPROPERTIES sm_run_medoids").collect()}.get(
        "sparkmed_output")
    found["metrics_tables"] = first["tables"]
    try:  # fails at its last step (MLflow), after its tables were staged: nothing may be replaced
        job(2, "out1", "sm_run", ("output.overwrite", True), ("mlflow.enabled", True),
            ("mlflow.tracking_uri", "sqlite:////proc/no-such-dir/mlflow.db"))
    except Exception as e:
        found["failed"] = type(e).__name__
    found["after_failure_ids"] = medoid_ids("sm_run_medoids")
    try:
        job(2, "out2", "sm_run")
    except InputError as e:
        found["exists"] = str(e)
    spark.sql("CREATE TABLE theirs_medoids (x INT) USING parquet")
    try:
        job(2, "out3", "theirs", ("output.overwrite", True))
    except InputError as e:
        found["foreign"] = str(e)
    second = job(5, "out1", "sm_run", ("output.overwrite", True))
    found["second_ids"] = medoid_ids("sm_run_medoids")
    found["second_metrics_ids"] = sorted(str(i) for i in second["medoid_ids"])
    found["tables"] = sorted(t.name for t in spark.catalog.listTables())
    print("FOUND " + json.dumps(found))
""")


def test_prefix_must_be_a_plain_identifier():
    for good in ("runs", "db.runs", "main.db.runs_2"):
        check_prefix(good)
    for bad in ("runs; DROP TABLE x", "a.b.c.d", "1abc", "db.`x`", ""):
        with pytest.raises(InputError, match="output.table"):
            check_prefix(bad)
    cfg = C.load(None, [("input.path", "x"), ("output.path", "o"), ("input.features", ["a"]),
                        ("output.table", "x y")])
    with pytest.raises(InputError, match="output.table"):
        C.check_for("fit", cfg)


def test_tables_are_written_and_replaced_only_by_a_successful_run(tmp_path):
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(c, 1.0, size=(400, 2)) for c in (0.0, 8.0, 16.0)])
    pd.DataFrame(x, columns=["a", "b"]).assign(rid=np.arange(len(x))).to_parquet(tmp_path / "in.parquet")
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    r = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=600)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("FOUND ")]
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-5000:]
    found = json.loads(lines[-1][len("FOUND "):])
    assert found["first_ids"] == found["first_metrics_ids"] and len(found["first_ids"]) == 3
    assert found["assignments_rows"] == 1200 and found["property"] == "1"
    assert found["metrics_tables"] == {"medoids": "sm_run_medoids", "assignments": "sm_run_assignments"}
    assert found["failed"]
    assert found["after_failure_ids"] == found["first_ids"]  # the failed run replaced nothing
    assert "already exists" in found["exists"] and "--overwrite" in found["exists"]
    assert "not written by sparkmed" in found["foreign"]
    assert found["second_ids"] == found["second_metrics_ids"]
    assert found["tables"] == ["sm_run_assignments", "sm_run_medoids", "theirs_medoids"]  # no staging table left
