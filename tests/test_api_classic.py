"""The pyspark.ml scenarios of ``api_scenarios`` on the classic local SparkSession."""

from __future__ import annotations

import pytest
from api_scenarios import SCENARIOS

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("scenario_"))
def test_scenario_classic(spark, tmp_path, scenario):
    scenario(spark, tmp_path)
