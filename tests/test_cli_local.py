"""`sparkmed fit | assign | select-k` end to end in local mode, each a subprocess with its own JVM (~15-25 s).

Few runs, many checks per run: fit (with MLflow to a local sqlite store), assign with the saved model,
select-k, and a run that fails after Spark started (unreadable input) over an existing output with --overwrite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "sparkmed.cli"]
N, K, D = 6000, 4, 3

pytestmark = pytest.mark.spark


def blobs(path: Path, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    centres = np.array([[-8, -8, 0], [8, 8, 0], [-8, 8, 5], [8, -8, -5]], dtype=float)
    labels = rng.integers(0, K, n)
    x = centres[labels] + rng.normal(size=(n, D))
    pdf = pd.DataFrame(x, columns=["a", "b", "c"])
    pdf.insert(0, "rid", np.arange(n) + 10_000 * seed)
    pdf["label"] = labels
    pdf.to_parquet(path)
    return pdf


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    r = subprocess.run([*CLI, *args, "--master", "local[2]"], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=300)
    return r


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """One `sparkmed fit` run with MLflow logging: (workdir, output dir, input frame, completed process)."""
    d = tmp_path_factory.mktemp("cli")
    pdf = blobs(d / "train.parquet", N, seed=1)
    (d / "job.toml").write_text(
        '[input]\nfeatures = ["a", "b", "c"]\nid = "rid"\n[model]\nk = 4\nseed = 3\n'
        '[output]\nassignment_columns = ["label"]\nreport_sample = 500\n'
    )
    db = d / "mlflow.db"
    r = run_cli("fit", "-c", str(d / "job.toml"), "--input", str(d / "train.parquet"), "-o", str(d / "out"),
                "--mlflow", "--mlflow-tracking-uri", f"sqlite:///{db}", "--set", "mlflow.experiment=cli-test",
                cwd=d)
    return d, d / "out", pdf, r


def test_fit_writes_every_output(fitted):
    d, out, pdf, r = fitted
    assert r.returncode == 0, r.stderr[-3000:]
    assert "phase validate+pack done" in r.stderr and "phase write assignments done" in r.stderr  # progress lines
    assert sorted(p.name for p in d.iterdir() if p.name.startswith("out")) == ["out"]  # no staging left
    assert {p.name for p in out.iterdir()} >= {"medoids", "assignments", "model", "metrics.json", "report.html",
                                               "report"}
    m = json.loads((out / "metrics.json").read_text())
    assert m["k"] == K and m["n"] == N and m["status"] == "ok" and m["command"] == "fit"
    assert 0.5 < m["silhouette"] <= 1 and m["cost"] > 0 and m["mean_cost"] == pytest.approx(m["cost"] / N)
    assert m["rounds_count"] >= 1 and {"round", "candidates", "best_cost"} <= set(m["rounds"][0])
    assert {"session", "read", "fit", "write model", "write medoids", "write assignments", "report"} <= set(
        m["phases_seconds"])
    assert {"validate+pack", "statistics"} <= set(m["fit_phases_seconds"])
    assert {"sparkmed", "spark", "python", "numba"} <= set(m["versions"])
    assert m["config"]["model"]["k"] == K and m["config"]["input"]["id"] == "rid"
    assert m["mlflow"]["run_id"] and m["report"]["plots"] == ["report/cluster_sizes.png", "report/cost_per_round.png",
                                                              "report/pca_sample.png"]
    assert m["report_sample_rows"] <= 500
    for png in m["report"]["plots"]:
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert "report/pca_sample.png" in (out / "report.html").read_text()

    med = pq.read_table(out / "medoids").to_pandas().sort_values("cluster")
    assert list(med["cluster"]) == list(range(K)) and med["size"].sum() == N
    assert med["cost"].sum() == pytest.approx(m["cost"])
    # The medoids are real rows: their original columns come along and match the input.
    rows = pdf.set_index("rid").loc[med["rid"].to_numpy()]
    np.testing.assert_allclose(np.stack(med["features"].to_numpy()), rows[["a", "b", "c"]].to_numpy())
    assert [str(v) for v in med["rid"]] == list(med["medoid_id"])

    asg = pq.read_table(out / "assignments").to_pandas()
    assert len(asg) == N and asg["rid"].is_unique and set(asg.columns) == {"rid", "cluster", "distance", "label"}
    assert sorted(p.name for p in (out / "assignments").iterdir() if p.is_dir()) == [f"cluster={i}" for i in range(K)]
    assert asg["distance"].sum() == pytest.approx(m["cost"], rel=1e-9)
    # Well-separated blobs: each cluster is one generating label.
    assert asg.groupby("cluster")["label"].nunique().max() == 1

    import mlflow

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{d / 'mlflow.db'}")
    run = client.get_run(m["mlflow"]["run_id"])
    assert run.data.params["model.k"] == str(K) and run.data.metrics["cost"] == pytest.approx(m["cost"])
    arts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"metrics.json", "report.html", "model", "medoids"} <= arts and "assignments" not in arts


def test_assign_with_the_saved_model_and_a_failed_overwrite(fitted):
    """`assign` labels new rows like the fit would; then a run that fails after Spark started (a CSV read as
    Parquet, exit 2) with --overwrite leaves the previous output intact and no staging directory."""
    d, out, _, r0 = fitted
    assert r0.returncode == 0, r0.stderr[-3000:]
    new = blobs(d / "new.parquet", 3000, seed=2)
    r = run_cli("assign", "--model", str(out), "--input", str(d / "new.parquet"), "-o", str(d / "labels"),
                "--set", 'output.assignment_columns=["label"]', "--set", "output.partitioning=none", cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((d / "labels" / "metrics.json").read_text())
    assert m["command"] == "assign" and m["n"] == 3000 and m["assigned"] == 3000 and m["unassigned"] == 0
    asg = pq.read_table(d / "labels" / "assignments").to_pandas()
    assert len(asg) == 3000 and set(asg["rid"]) == set(new["rid"]) and set(asg["cluster"]) == set(range(K))
    # Same generating label → same cluster as in the training assignments.
    train = pq.read_table(out / "assignments").to_pandas()
    label_to_cluster = dict(zip(train["label"], train["cluster"].astype(int), strict=False))
    assert all(label_to_cluster[lab] == c for lab, c in zip(asg["label"], asg["cluster"], strict=True))
    assert sum(m["cluster_sizes"]) == 3000 and m["cost"] == pytest.approx(asg["distance"].sum())

    csv = d / "rows.csv"
    csv.write_text("a,b,c\n1,2,3\n")
    before = sorted(str(p.relative_to(d)) for p in (d / "labels").rglob("*"))
    r = run_cli("fit", "--input", str(csv), "--features", "a,b,c", "-o", str(d / "labels"), "--overwrite",
                "-k", "2", cwd=d)
    assert r.returncode == 2, r.stderr[-3000:]
    assert "cannot read parquet input" in r.stderr
    assert sorted(str(p.relative_to(d)) for p in (d / "labels").rglob("*")) == before
    assert not [p for p in d.iterdir() if ".tmp-" in p.name or ".old-" in p.name]


def test_refit_with_init_model_reports_drift(fitted):
    """Day 2: `fit --init-model` of day 1's output. Its drift.previous_cost is day 1's medoids' cost on the day-2
    rows (recomputed here with numpy), its cost is no larger, and an output that would replace the initial
    model is refused before Spark starts."""
    d, out, _, r0 = fitted
    assert r0.returncode == 0, r0.stderr[-3000:]
    day2 = blobs(d / "day2.parquet", 5000, seed=3)
    day2.loc[day2["label"] == 0, ["a", "b"]] += 0.5  # one blob moved
    day2.to_parquet(d / "day2.parquet")
    r = run_cli("fit", "-c", str(d / "job.toml"), "--input", str(d / "day2.parquet"), "-o", str(d / "day2out"),
                "--init-model", str(out), "--no-report", "--json", cwd=d)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads(r.stdout)
    assert m == json.loads((d / "day2out" / "metrics.json").read_text())
    drift = m["drift"]
    old = np.stack(pq.read_table(out / "medoids").to_pandas().sort_values("cluster")["features"].to_numpy())
    x = day2[["a", "b", "c"]].to_numpy()
    naive = np.sqrt(((x[:, None, :] - old[None]) ** 2).sum(-1)).min(1).sum()
    assert drift["previous_cost"] == pytest.approx(naive, rel=1e-9)
    assert m["cost"] == drift["cost"] <= drift["previous_cost"] * (1 + 1e-12)
    day1 = json.loads((out / "metrics.json").read_text())
    assert len(drift["clusters"]) == K
    for c in drift["clusters"]:
        assert c["previous_size"] == day1["cluster_sizes"][c["previous_cluster"]]
        assert c["size"] == m["cluster_sizes"][c["cluster"]]
    moved = [c for c in drift["clusters"] if c["medoid_shift"] > 0.2]
    assert moved and drift["reassigned_share"] < 0.01  # separated blobs: nobody changes cluster
    assert sorted(c["previous_cluster"] for c in drift["clusters"]) == list(range(K))

    r = run_cli("fit", "-c", str(d / "job.toml"), "--input", str(d / "day2.parquet"), "-o", str(out),
                "--overwrite", "--init-model", str(out / "model"), cwd=d)
    assert r.returncode == 2 and "contains the model path" in r.stderr and "model.init_model" in r.stderr, r.stderr


def test_select_k_picks_the_generating_k(tmp_path):
    blobs(tmp_path / "train.parquet", 4000, seed=5)
    r = run_cli("select-k", "--input", str(tmp_path / "train.parquet"), "--features", "a,b,c", "--ks", "2,3,4,5,6",
                "-o", str(tmp_path / "sel"), "--no-report", "--set", "output.assignments=false", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    m = json.loads((tmp_path / "sel" / "metrics.json").read_text())
    assert m["best_k"] == K and m["k"] == K and [row["k"] for row in m["selection"]] == [2, 3, 4, 5, 6]
    assert m["report"] == {"skipped": "disabled (output.report = false)"}
    sel = json.loads((tmp_path / "sel" / "selection.json").read_text())
    assert sel["best_k"] == K and not (tmp_path / "sel" / "assignments").exists()
    assert len(pq.read_table(tmp_path / "sel" / "medoids")) == K
