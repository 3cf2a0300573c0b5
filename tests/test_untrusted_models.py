"""Untrusted models and prediction metadata: loading never imports or runs what a file names.

A module that writes a marker file when imported stands for an attacker's payload: a saved model, or a
prediction column's metadata, naming ``custom:<that module>.<function>`` must be refused with an
``InputError`` naming the metric, and the marker must not exist afterwards — through ``KMedoidsModel.load``,
the ``MedoidSilhouetteEvaluator`` and ``sparkmed assign --model`` (in a subprocess whose ``PYTHONPATH``
reaches the module). A custom metric the user provides (``customMetrics=`` or ``register_metric``) works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sparkmed import InputError, KMedoids, KMedoidsModel, MedoidSilhouetteEvaluator
from sparkmed.kernels import custom

pytestmark = pytest.mark.spark

PAYLOAD = "sparkmed_payload_probe"


@pytest.fixture(scope="module")
def payload(tmp_path_factory) -> tuple[Path, Path]:
    """(directory on sys.path holding the payload module, the marker file its import would write)."""
    d = tmp_path_factory.mktemp("payload")
    marker = d / "IMPORTED"
    (d / f"{PAYLOAD}.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('imported')\n"
        "import numba\n\n@numba.njit\ndef fn(a, b):\n    return 0.0\n"
    )
    sys.path.insert(0, str(d))
    yield d, marker
    sys.path.remove(str(d))


@pytest.fixture(scope="module")
def data(spark):
    rng = np.random.default_rng(5)
    x = np.vstack([rng.normal(c, 0.2, size=(60, 3)) for c in ((0, 0, 0), (4, 4, 4))])
    return spark.createDataFrame(pd.DataFrame({"id": np.arange(len(x)), "features": list(x)}))


@pytest.fixture(scope="module")
def saved(data, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("saved") / "model"
    KMedoids(k=2, seed=1, idCol="id").fit(data).write().save(str(path))
    return path


def craft(saved: Path, dest: Path, metric: str) -> Path:
    """A copy of ``saved`` whose metadata names ``metric`` (as an attacker would edit it)."""
    import shutil

    shutil.copytree(saved, dest)
    part = next((dest / "metadata").glob("part-*"))
    meta = json.loads(part.read_text())
    meta["paramMap"]["metric"] = metric
    meta["sparkmed"]["metric"] = metric
    part.write_text(json.dumps(meta) + "\n")
    for crc in (dest / "metadata").glob(".*.crc"):
        crc.unlink()
    return dest


def test_load_of_a_crafted_custom_metric_imports_nothing(spark, saved, payload, tmp_path):
    d, marker = payload
    path = craft(saved, tmp_path / "crafted", f"custom:{PAYLOAD}.fn")
    with pytest.raises(InputError) as err:
        KMedoidsModel.load(str(path))
    assert f"custom:{PAYLOAD}.fn" in str(err.value) and "never imports" in str(err.value)
    assert not marker.exists() and PAYLOAD not in sys.modules


@pytest.mark.parametrize("name", ["unittest.__main__.main", "this.s", "os.system"])
def test_importable_standard_library_names_are_refused(spark, saved, tmp_path, name):
    """``custom:unittest.__main__.main`` once ran test discovery and exited; ``custom:this.s`` printed on load."""
    module = name.rpartition(".")[0]
    was_loaded = module in sys.modules
    with pytest.raises(InputError, match="not provided"):
        KMedoidsModel.load(str(craft(saved, tmp_path / "m", f"custom:{name}")))
    assert (module in sys.modules) == was_loaded


def test_evaluator_refuses_crafted_prediction_metadata(spark, data, payload):
    """Column metadata travels with any DataFrame: the evaluator checks it like a saved model."""
    _, marker = payload
    model = KMedoids(k=2, seed=1, idCol="id").fit(data)
    pred = model.transform(data)
    meta = pred.schema["prediction"].metadata
    evil = {"sparkmed": {**meta["sparkmed"], "metric": f"custom:{PAYLOAD}.fn"}}
    with pytest.raises(InputError, match=f"custom:{PAYLOAD}.fn"):
        MedoidSilhouetteEvaluator().evaluate(pred.withMetadata("prediction", evil))
    assert not marker.exists() and PAYLOAD not in sys.modules
    for field, value in (("k", 10**13), ("medoids", ["x"] * 6), ("p", -1.0), ("encoding", '{"kind": "pickle"}')):
        bad = {"sparkmed": {**meta["sparkmed"], field: value}}
        with pytest.raises(InputError, match=field):
            MedoidSilhouetteEvaluator().evaluate(pred.withMetadata("prediction", bad))
    assert MedoidSilhouetteEvaluator().evaluate(pred) > 0.5


def test_provided_custom_metric_loads(spark, data, tmp_path):
    """A model fitted with a custom metric loads where the user provides the function, and only there."""
    from custom_metrics import canberra

    model = KMedoids(k=2, metric=canberra, seed=1, idCol="id").fit(data)
    model.write().save(str(tmp_path / "m"))
    name = custom.custom_name(canberra)
    custom._REGISTRY.pop(name, None)  # as in a fresh process
    with pytest.raises(InputError, match="not provided"):
        KMedoidsModel.load(str(tmp_path / "m"))
    loaded = KMedoidsModel.load(str(tmp_path / "m"), customMetrics={name: canberra})
    np.testing.assert_array_equal(loaded.medoids(), model.medoids())
    assert loaded.computeCost(data) == pytest.approx(model.computeCost(data), rel=1e-12)
    custom.register_metric(canberra)
    assert KMedoidsModel.load(str(tmp_path / "m")).medoidIds() == model.medoidIds()


def test_cli_assign_with_a_crafted_model_imports_nothing(spark, data, saved, payload, tmp_path):
    d, marker = payload
    path = craft(saved, tmp_path / "crafted", f"custom:{PAYLOAD}.fn")
    data.write.parquet(str(tmp_path / "in.parquet"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(d), os.environ.get("PYTHONPATH", "")]),
           "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    r = subprocess.run([sys.executable, "-m", "sparkmed.cli", "assign", "--input", str(tmp_path / "in.parquet"),
                        "--model", str(path), "-o", str(tmp_path / "out"), "--master", "local[1]"],
                       env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 2, r.stderr[-3000:]
    assert f"custom:{PAYLOAD}.fn" in r.stderr and "Traceback" not in r.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_cli_assign_uses_the_custom_metric_of_a_trusted_module(spark, data, tmp_path):
    """``--trust-module custom_metrics``: the user names the module; the model's canberra metric resolves."""
    from custom_metrics import canberra

    KMedoids(k=2, metric=canberra, seed=1, idCol="id").fit(data).write().save(str(tmp_path / "m"))
    data.write.parquet(str(tmp_path / "in.parquet"))
    tests_dir = str(Path(__file__).resolve().parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]),
           "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    r = subprocess.run([sys.executable, "-m", "sparkmed.cli", "assign", "--input", str(tmp_path / "in.parquet"),
                        "--model", str(tmp_path / "m"), "--trust-module", "custom_metrics", "-o",
                        str(tmp_path / "out"), "--master", "local[1]"],
                       env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["assigned"] == data.count() and metrics["metric"] == custom.custom_name(canberra)
