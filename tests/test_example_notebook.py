"""examples/databricks_kmedoids.py, run cell by cell, unchanged, on the local SparkSession.

A Databricks notebook source file is Python cells separated by ``# COMMAND ----------``; ``# MAGIC`` lines are
Markdown and ``%pip`` (platform steps: here sparkmed is already installed, so they are skipped, as
comments). The notebook's platform globals are given real local stand-ins: ``spark`` is the test session,
``dbutils.widgets`` holds the widget values below, ``dbutils.library.restartPython()`` has no Python to
restart after a ``%pip`` that did not run, and ``display`` shows a DataFrame's first rows. The compatibility
suite runs this file on every supported pyspark line too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.spark

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "databricks_kmedoids.py"
CELL_SEPARATOR = "# COMMAND ----------"


class Widgets:
    """``dbutils.widgets``: ``text`` declares a widget with a default unless a value was set, ``get`` reads it."""

    def __init__(self, values: dict[str, str]):
        self.values = dict(values)

    def text(self, name: str, default: str, label: str | None = None) -> None:
        self.values.setdefault(name, default)

    def get(self, name: str) -> str:
        return self.values[name]


class Library:
    def restartPython(self) -> None:  # noqa: N802 (Databricks' name)
        """After ``%pip install`` Databricks restarts Python; the install was skipped, so there is none to do."""


class DBUtils:
    def __init__(self, widgets: dict[str, str]):
        self.widgets = Widgets(widgets)
        self.library = Library()


def cells(source: str) -> list[str]:
    """The notebook's code cells (cells made only of ``# MAGIC`` / comment lines are left out)."""
    out = []
    for cell in source.split(CELL_SEPARATOR):
        code = [ln for ln in cell.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if code:
            out.append(cell)
    return out


def test_databricks_notebook_runs_unchanged(spark, tmp_path):
    rng = np.random.default_rng(3)
    centres = rng.uniform(-20, 20, size=(5, 4))
    x = np.vstack([rng.normal(c, 1.0, size=(120, 4)) for c in centres])
    table = pd.DataFrame(x, columns=["x0", "x1", "x2", "x3"])
    table.insert(0, "id", np.arange(len(x), dtype=np.int64))
    spark.createDataFrame(table).createOrReplaceTempView("sparkmed_nb_customers")
    out_table = "sparkmed_nb_clusters"
    spark.sql(f"DROP TABLE IF EXISTS {out_table}")
    shown: list = []

    def display(obj) -> None:
        shown.append(obj.limit(20).toPandas() if hasattr(obj, "limit") else obj)

    notebook = {"spark": spark, "display": display, "__name__": "__main__", "dbutils": DBUtils({
        "table": "sparkmed_nb_customers", "features": "x0,x1,x2,x3", "id_col": "id", "k": "5",
        "model_path": str(tmp_path / "model"), "output_table": out_table})}
    try:
        for i, cell in enumerate(cells(NOTEBOOK.read_text())):
            exec(compile(cell, f"{NOTEBOOK.name}[cell {i}]", "exec"), notebook)  # noqa: S102 (our own notebook)
        labelled = spark.read.table(out_table)
        assert labelled.count() == len(x)
        assert labelled.columns == ["id", "prediction", "distance"]
        assert sorted(int(i) // 120 for i in notebook["model"].medoidIds()) == [0, 1, 2, 3, 4]
        assert len(shown) == 2 and len(shown[0]) == 5 and len(shown[1]) == 5
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {out_table}")
