"""Inside an older pyspark line's venv: write ``line_results`` for the newest line's process to compare, and
run the Databricks example notebook on this line's local session."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyspark
import pytest
from spark_line_results import RESULTS_ENV, line_results

pytestmark = pytest.mark.spark


def test_record_line_results(spark):
    out = Path(os.environ[RESULTS_ENV])
    out.write_text(json.dumps({"pyspark": pyspark.__version__, "results": line_results(spark)}))
