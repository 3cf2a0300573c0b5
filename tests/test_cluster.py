"""spark-submit of jobs/kmedoids_job.py to a real standalone cluster (master + 2 workers on 127.0.0.1, started by
scripts/cluster_up.sh) with the packed environment of scripts/pack_env.sh, on 200k generated rows.

The exact commands are the README's "Run it on a cluster". The cluster is session-scoped and always stopped
(finalizer runs scripts/cluster_down.sh, which stops only the PIDs cluster_up.sh recorded).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.cluster
N, K, D = 200_000, 5, 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def packed_env() -> Path:
    """build/pack/env.tar.gz (re-used when sparkmed's sources and pins are unchanged)."""
    r = subprocess.run(["bash", str(ROOT / "scripts" / "pack_env.sh")], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return ROOT / "build" / "pack" / "env.tar.gz"


@pytest.fixture(scope="session")
def standalone_cluster(tmp_path_factory, request):
    """A master and two workers on free loopback ports; yields the master URL; always torn down."""
    state = tmp_path_factory.mktemp("cluster")
    env = {**os.environ, "CLUSTER_STATE": str(state), "MASTER_PORT": str(free_port()),
           "MASTER_WEBUI_PORT": str(free_port())}

    def down():
        subprocess.run(["bash", str(ROOT / "scripts" / "cluster_down.sh")], env=env, timeout=120)

    request.addfinalizer(down)  # registered first: also stops a half-started cluster
    r = subprocess.run(["bash", str(ROOT / "scripts" / "cluster_up.sh")], env=env, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    return (state / "master_url").read_text().strip()


def test_spark_submit_to_standalone_cluster(standalone_cluster, packed_env, tmp_path, spark):
    rng = np.random.default_rng(11)
    centres = rng.uniform(-10, 10, size=(K, D))
    labels = rng.integers(0, K, N)
    pdf = pd.DataFrame(centres[labels] + rng.normal(size=(N, D)), columns=[f"x{i}" for i in range(D)])
    pdf.insert(0, "id", np.arange(N))
    pdf.to_parquet(tmp_path / "blobs.parquet", row_group_size=50_000)
    out = tmp_path / "out"

    import pyspark

    spark_home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_DRIVER_PYTHON": sys.executable,
           "PYSPARK_PYTHON": "./environment/bin/python"}
    cmd = [str(spark_home / "bin" / "spark-submit"), "--master", standalone_cluster,
           "--properties-file", str(ROOT / "conf" / "spark-defaults.conf"),
           "--archives", f"{packed_env}#environment",
           str(ROOT / "jobs" / "kmedoids_job.py"), "fit", "--config", str(ROOT / "conf" / "example.toml"),
           "--input", str(tmp_path / "blobs.parquet"), "--output", str(out), "--set", "output.report_sample=2000"]
    r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    log = r.stdout + r.stderr  # spark-submit's PythonRunner merges the driver's stderr into its stdout
    assert r.returncode == 0, log[-5000:]
    assert "phase round 1 done" in log and "sparkmed fit: done" in log

    m = json.loads((out / "metrics.json").read_text())
    assert m["spark"]["master"] == standalone_cluster and m["spark"]["submitted"] is True
    assert m["k"] == K and m["n"] == N and m["status"] == "ok"
    assert 0.5 < m["silhouette"] <= 1 and m["mean_cost"] == pytest.approx(m["cost"] / N)
    for key in ("rounds", "phases_seconds", "fit_phases_seconds", "versions", "config", "report"):
        assert m[key], key
    assert len(pq.read_table(out / "medoids")) == K
    asg = pq.read_table(out / "assignments", columns=["id", "cluster", "distance"]).to_pandas()
    assert len(asg) == N and asg["id"].is_unique
    assert asg["distance"].sum() == pytest.approx(m["cost"], rel=1e-9)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]

    from sparkmed import KMedoidsModel

    model = KMedoidsModel.load(str(out / "model"))
    assert model.medoids().shape == (K, D) and model.medoidIds() == m["medoid_ids"]
