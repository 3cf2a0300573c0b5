"""Structured Streaming: ``KMedoidsModel.transform`` on a streaming DataFrame, and ``sparkmed assign --stream``
end to end (a real CLI run killed mid-stream with SIGKILL, more files arriving, a restart from the same
checkpoint): every row labelled exactly once, with the labels of the batch transform."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sparkmed.errors import InputError
from sparkmed.job import config as C

pytestmark = pytest.mark.spark

ROWS = 4000


def write_file(folder: Path, i: int) -> None:
    rng = np.random.default_rng(i)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [-6.0, 6.0, 3.0]])
    x = centres[rng.integers(0, 3, ROWS)] + rng.normal(size=(ROWS, 3))
    pd.DataFrame(x, columns=["a", "b", "c"]).assign(rid=np.arange(ROWS) + i * ROWS).to_parquet(
        folder / f"part-{i}.parquet")


@pytest.fixture(scope="module")
def model_and_input(spark, tmp_path_factory):
    """(workdir, saved model path, the fitted model, input directory with two files)."""
    from sparkmed import KMedoids

    d = tmp_path_factory.mktemp("stream")
    (d / "in").mkdir()
    for i in range(2):
        write_file(d / "in", i)
    model = KMedoids(k=3, seed=2, inputCols=["a", "b", "c"], idCol="rid", distanceCol="distance").fit(
        spark.read.parquet(str(d / "in")))
    model.write().save(str(d / "model"))
    return d, d / "model", model


def batch_labels(spark, model, folder: Path) -> pd.DataFrame:
    rows = model.transform(spark.read.parquet(str(folder))).select("rid", "prediction", "distance")
    return rows.toPandas().sort_values("rid").reset_index(drop=True)


def test_streaming_transform_equals_the_batch_transform(spark, model_and_input):
    d, _, model = model_and_input
    batch = spark.read.parquet(str(d / "in"))
    stream = spark.readStream.schema(batch.schema).option("maxFilesPerTrigger", 1).parquet(str(d / "in"))
    query = (model.transform(stream).select("rid", "prediction", "distance").writeStream.format("parquet")
             .option("checkpointLocation", str(d / "ck-inproc")).trigger(availableNow=True)
             .start(str(d / "sink-inproc")))
    query.awaitTermination(120)
    assert query.exception() is None
    got = spark.read.parquet(str(d / "sink-inproc")).toPandas().sort_values("rid").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, batch_labels(spark, model, d / "in"), check_dtype=False)


def test_stream_config_rules():
    cfg = C.load(None, [("input.path", "x"), ("output.path", "o"), ("assign.model", "m"), ("assign.stream", True)])
    with pytest.raises(C.ConfigError, match="assign.checkpoint"):
        C.check_for("assign", cfg)
    cfg["assign"]["checkpoint"] = "ck"
    C.check_for("assign", cfg)
    cfg["output"]["overwrite"] = True
    with pytest.raises(C.ConfigError, match="remove the output and the checkpoint"):
        C.check_for("assign", cfg)
    cfg = C.load(None, [("input.path", "x"), ("output.path", "o"), ("assign.model", "m"), ("assign.checkpoint", "c")])
    with pytest.raises(C.ConfigError, match="--stream"):
        C.check_for("assign", cfg)


def test_stream_paths_rules(spark, tmp_path):
    from sparkmed.job.hadoop_outputs import HadoopFS
    from sparkmed.job.stream import check_stream_paths

    fs = HadoopFS(spark, str(tmp_path))
    q = fs.qualify
    (tmp_path / "in").mkdir()
    with pytest.raises(InputError, match="lies inside the input"):
        check_stream_paths(fs, q(str(tmp_path / "in" / "out")), q(str(tmp_path / "ck")),
                           {"input.path": str(tmp_path / "in")})
    with pytest.raises(InputError, match="contains the checkpoint"):
        check_stream_paths(fs, q(str(tmp_path / "out")), q(str(tmp_path / "out" / "ck")), {})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.csv").write_text("1\n")
    with pytest.raises(InputError, match="not the sink of a sparkmed stream"):
        check_stream_paths(fs, q(str(tmp_path / "data")), q(str(tmp_path / "ck")), {})
    (tmp_path / "sink" / "_spark_metadata").mkdir(parents=True)
    with pytest.raises(InputError, match="a new checkpoint would relabel"):
        check_stream_paths(fs, q(str(tmp_path / "sink")), q(str(tmp_path / "ck")), {})
    (tmp_path / "ck").mkdir()
    check_stream_paths(fs, q(str(tmp_path / "sink")), q(str(tmp_path / "ck")), {})


def test_assign_stream_survives_a_kill_and_resumes_exactly_once(spark, model_and_input):
    """The README's commands: a processing-time stream, one file per batch, SIGKILLed once its first batch is
    logged; a third file arrives; ``--trigger available-now`` from the same checkpoint labels the rest."""
    d, model_dir, model = model_and_input
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    base = [sys.executable, "-m", "sparkmed.cli", "assign", "--stream", "--model", str(model_dir),
            "--input", str(d / "in"), "-o", str(d / "labels"), "--checkpoint", str(d / "checkpoint"),
            "--master", "local[2]"]
    live = subprocess.Popen([*base, "--trigger", "processing-time", "--interval", "1 second",
                             "--set", "assign.max_files_per_trigger=1"], cwd=d, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    deadline = time.monotonic() + 240
    assert live.stdout is not None
    for line in live.stdout:
        seen.append(line)
        if "stream batch 0:" in line:
            os.killpg(live.pid, signal.SIGKILL)
            break
        assert time.monotonic() < deadline, "".join(seen)
    live.wait(timeout=60)
    assert live.returncode == -signal.SIGKILL, "".join(seen)

    write_file(d / "in", 2)  # new data arrives while the stream is down
    again = subprocess.run([*base, "--trigger", "available-now"], cwd=d, env=env, capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    got = (spark.read.parquet(str(d / "labels")).select("rid", "cluster", "distance").toPandas()
           .sort_values("rid").reset_index(drop=True))
    assert got["rid"].is_unique and len(got) == 3 * ROWS  # every row once: none lost, none twice
    want = batch_labels(spark, model, d / "in")
    np.testing.assert_array_equal(got["cluster"].to_numpy(), want["prediction"].to_numpy())
    np.testing.assert_allclose(got["distance"].to_numpy(), want["distance"].to_numpy(), rtol=0, atol=0)
    import json

    record = json.loads((d / "labels" / "_sparkmed_stream.json").read_text())
    assert record["n"] >= ROWS and record["batches"] >= 1  # this run's share: what the killed run had not committed
