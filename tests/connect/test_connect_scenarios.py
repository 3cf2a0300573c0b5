"""The pyspark.ml scenarios of ``api_scenarios`` through a real local Spark Connect server."""

from __future__ import annotations

import pytest
from api_scenarios import SCENARIOS


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.removeprefix("scenario_"))
def test_scenario_connect(spark, tmp_path, scenario):
    scenario(spark, tmp_path)


def test_no_spark_context_under_connect(spark):
    """The session really is Connect: sparkContext does not exist, and sparkmed never needs it."""
    with pytest.raises(Exception, match="JVM_ATTRIBUTE_NOT_SUPPORTED|not supported"):
        spark.sparkContext  # noqa: B018
