"""Determinism across execution modes, the Spark Connect half: fit the shared cross-mode data and seed
through a real local Connect server and write the result as JSON for ``tests/test_connect.py``, which fits
the same data classically and compares (identical medoid ids, costs equal to 1e-9 relative)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_determinism import CROSS_MODE_ENV, cross_mode_fit


def test_connect_fit_record_for_the_classic_comparison(spark):
    """The fit under Connect is well-formed; the classic process compares it (file: ``$CROSS_MODE_ENV``)."""
    target = os.environ.get(CROSS_MODE_ENV)
    if not target:
        pytest.skip(f"{CROSS_MODE_ENV} is not set: run through tests/test_connect.py")
    record = cross_mode_fit(spark)
    assert len(record["medoid_ids"]) == 5 and len(set(record["medoid_ids"])) == 5 and record["cost"] > 0
    Path(target).write_text(json.dumps(record))
