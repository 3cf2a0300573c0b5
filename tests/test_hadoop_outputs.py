"""Outputs committed through the Hadoop FileSystem API (``sparkmed.job.hadoop_outputs``), on a filesystem that
Python's ``os`` cannot reach: Hadoop's ``viewfs://`` with a mount table onto a temporary local directory
(the same client code as HDFS, S3A, ABFS: only the Hadoop configuration differs).

Both commit modes are exercised on it: ``rename`` (viewfs renames atomically) and ``marker`` (forced, as on
an object store). The end-to-end test kills a real ``sparkmed fit --overwrite`` mid-write.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sparkmed.errors import InputError
from sparkmed.job.hadoop_outputs import ATOMIC_RENAME_SCHEMES, HadoopStaging, commit_mode
from sparkmed.job.outputs import MARKER, OWNER, output_marker

pytestmark = pytest.mark.spark

MOUNT = "smunit"  # viewfs authority of the in-process tests (the CLI runs mount their own)


@pytest.fixture(scope="module")
def vroot(spark, tmp_path_factory) -> tuple[Path, str]:
    """(local directory, the viewfs URI mounted onto it)."""
    root = tmp_path_factory.mktemp("viewfs-root")
    spark._jsc.hadoopConfiguration().set(f"fs.viewfs.mounttable.{MOUNT}.link./data", root.as_uri())
    return root, f"viewfs://{MOUNT}/data"


def staged_fit_output(spark, staging: HadoopStaging, tag: str) -> None:
    """What the job writes: Parquet from Spark into ``spark_dir``, a driver file into ``dir``."""
    spark.createDataFrame(pd.DataFrame({"cluster": [0, 1], "tag": [tag, tag]})).write.parquet(
        f"{staging.spark_dir}/medoids")
    (staging.dir / "metrics.json").write_text(json.dumps({"tag": tag}))


def test_commit_mode_registry():
    assert commit_mode("hdfs://nn/x", "auto") == "rename"
    assert commit_mode("abfss://c@a.dfs.core.windows.net/x", "auto") == "rename"
    assert commit_mode("viewfs://c/x", "auto") == "rename"
    for uri in ("s3a://b/x", "gs://b/x", "dbfs:/x", "wasbs://c@a/x"):
        assert commit_mode(uri, "auto") == "marker"
    assert commit_mode("hdfs://nn/x", "marker") == "marker"
    assert "s3a" not in ATOMIC_RENAME_SCHEMES


@pytest.mark.parametrize("mode", ["rename", "marker"])
def test_commit_overwrite_and_abort(spark, vroot, mode):
    root, uri = vroot
    out = f"{uri}/{mode}/out"
    local = root / mode / "out"
    s = HadoopStaging(spark, out, overwrite=False, marker=output_marker("fit"), mode=mode)
    assert s.mode == mode and s.spark_dir.startswith(f"viewfs://{MOUNT}/data/{mode}/out.tmp-")
    staged_fit_output(spark, s, "one")
    assert not local.exists()  # nothing visible before the commit
    s.commit()
    assert json.loads((local / MARKER).read_text())["sparkmed_output"] == 1
    assert not (local / OWNER).exists()
    assert json.loads((local / "metrics.json").read_text()) == {"tag": "one"}
    assert spark.read.parquet(f"{out}/medoids").count() == 2
    assert sorted(p.name for p in local.parent.iterdir()) == ["out"]  # no staging, no old output left

    with pytest.raises(InputError, match="already exists"):
        HadoopStaging(spark, out, overwrite=False, marker=output_marker("fit"), mode=mode)
    s2 = HadoopStaging(spark, out, overwrite=True, marker=output_marker("fit"), mode=mode)
    staged_fit_output(spark, s2, "two")
    s2.abort()  # a failed run: the previous output is untouched, the staging is gone
    assert json.loads((local / "metrics.json").read_text()) == {"tag": "one"}
    assert sorted(p.name for p in local.parent.iterdir()) == ["out"]
    s3 = HadoopStaging(spark, out, overwrite=True, marker=output_marker("fit"), mode=mode)
    staged_fit_output(spark, s3, "three")
    s3.commit()
    assert json.loads((local / "metrics.json").read_text()) == {"tag": "three"}
    assert sorted(p.name for p in local.parent.iterdir()) == ["out"]


def test_refuses_what_sparkmed_did_not_write_and_overlaps(spark, vroot):
    root, uri = vroot
    (root / "foreign" / "out").mkdir(parents=True)
    (root / "foreign" / "out" / "data.csv").write_text("a\n1\n")
    with pytest.raises(InputError, match="not a committed sparkmed output"):
        HadoopStaging(spark, f"{uri}/foreign/out", overwrite=True, marker=output_marker("fit"))
    assert (root / "foreign" / "out" / "data.csv").exists()
    for protected, relation in ((f"{uri}/foreign/out", "is"), (f"{uri}/foreign", "lies inside"),
                                (f"{uri}/foreign/out/in/x.parquet", "contains")):
        with pytest.raises(InputError, match=f"{relation} the input path"):
            HadoopStaging(spark, f"{uri}/foreign/out", overwrite=True, marker=output_marker("fit"),
                          protected={"input.path": protected})


def dead_owner() -> dict:
    """An owner record of a process that has exited (a real pid, reaped)."""
    from sparkmed.job import outputs

    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    rec = outputs.owner_record()
    return {**rec, "pid": int(proc.stdout), "process_start": None}


def test_leftovers_of_killed_runs(spark, vroot, caplog):
    """A dead run's staging is removed; a marker-mode commit killed mid-copy gets the previous output back."""
    root, uri = vroot
    base = root / "left"
    s = HadoopStaging(spark, f"{uri}/left/out", overwrite=False, marker=output_marker("fit"), mode="marker")
    staged_fit_output(spark, s, "good")
    s.commit()
    stale = base / "out.tmp-0123456789ab"
    stale.mkdir()
    (stale / OWNER).write_text(json.dumps(dead_owner()))
    # a commit killed after moving the good output aside and copying part of the new one, before its marker:
    os.rename(base / "out", base / "out.old-ba9876543210")
    (base / "out" / "medoids").mkdir(parents=True)
    caplog.set_level("WARNING", logger="sparkmed")
    s2 = HadoopStaging(spark, f"{uri}/left/out", overwrite=True, marker=output_marker("fit"), mode="marker")
    assert not stale.exists()
    assert json.loads((base / "out" / "metrics.json").read_text()) == {"tag": "good"}
    assert "restored" in caplog.text and "stale staging" in caplog.text
    s2.abort()
    assert sorted(p.name for p in base.iterdir()) == ["out"]


def test_load_refuses_an_uncommitted_output(spark, vroot, tmp_path):
    """``KMedoidsModel.load`` of ``<out>/model``: fine once committed, refused without the marker (a marker-mode
    commit that died mid-copy) and inside a staging directory (its owner record)."""
    from sparkmed import KMedoids, KMedoidsModel

    root, uri = vroot
    df = spark.createDataFrame(pd.DataFrame({"a": np.arange(40.0) % 7, "b": np.arange(40.0) % 5}))
    model = KMedoids(k=2, seed=1, inputCols=["a", "b"]).fit(df)
    s = HadoopStaging(spark, f"{uri}/load/out", overwrite=False, marker=output_marker("fit"), mode="marker")
    model.write().save(f"{s.spark_dir}/model")
    staged_fit_output(spark, s, "m")
    with pytest.raises(InputError, match="not committed"):
        KMedoidsModel.load(f"{s.spark_dir}/model")
    s.commit()
    np.testing.assert_array_equal(KMedoidsModel.load(f"{uri}/load/out/model").medoids(), model.medoids())
    fragment = root / "load" / "fragment"
    shutil.copytree(root / "load" / "out", fragment)
    (fragment / MARKER).unlink()
    with pytest.raises(InputError, match="not committed"):
        KMedoidsModel.load(f"{uri}/load/fragment/model")
    model.write().save(str(tmp_path / "model"))  # a model saved on its own is not an output: loads as always
    KMedoidsModel.load(str(tmp_path / "model"))


# ------------------------------------------------------------------------------------------- end to end


def cli(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    return subprocess.Popen([sys.executable, "-m", "sparkmed.cli", *args, "--master", "local[2]"], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True, **kw)


def test_fit_assign_and_a_kill_mid_write_on_viewfs(tmp_path):
    """`sparkmed fit -o viewfs://...` commits by marker; `assign --model viewfs://...` reads it; a refit with
    --overwrite SIGKILLed while it writes its assignments leaves the previous output committed and intact,
    and the next run removes the dead run's staging."""
    rng = np.random.default_rng(0)
    pd.DataFrame(rng.normal(size=(20_000, 3)) + rng.integers(0, 3, (20_000, 1)) * 6,
                 columns=["a", "b", "c"]).assign(rid=np.arange(20_000)).to_parquet(tmp_path / "in.parquet")
    root = tmp_path / "store"
    root.mkdir()
    common = ["--input", str(tmp_path / "in.parquet"), "--features", "a,b,c", "--id", "rid", "-k", "3",
              "--no-report", "--set", "output.commit=marker",
              "--conf", f"spark.hadoop.fs.viewfs.mounttable.e2e.link./data={root.as_uri()}"]
    out = "viewfs://e2e/data/out"

    first = cli(["fit", *common, "-o", out], tmp_path)
    log, _ = first.communicate(timeout=300)
    assert first.returncode == 0, log
    marker = json.loads((root / "out" / MARKER).read_text())
    medoids_before = pd.read_parquet(root / "out" / "medoids").sort_values("cluster")

    assigned = cli(["assign", "--input", str(tmp_path / "in.parquet"), "--model", out, "--id", "rid",
                    "-o", "viewfs://e2e/data/labels", "--conf",
                    f"spark.hadoop.fs.viewfs.mounttable.e2e.link./data={root.as_uri()}"], tmp_path)
    log, _ = assigned.communicate(timeout=300)
    assert assigned.returncode == 0, log
    assert json.loads((root / "labels" / "metrics.json").read_text())["assigned"] == 20_000

    refit = cli(["fit", *common, "--seed", "9", "-o", out, "--overwrite"], tmp_path)
    seen = []
    deadline = time.monotonic() + 300
    assert refit.stdout is not None
    for line in refit.stdout:
        seen.append(line)
        if "phase write medoids done" in line:  # the assignments are being written now
            os.killpg(refit.pid, signal.SIGKILL)
            break
        assert time.monotonic() < deadline, "".join(seen)
    refit.wait(timeout=60)
    assert refit.returncode == -signal.SIGKILL, "".join(seen)
    assert json.loads((root / "out" / MARKER).read_text()) == marker  # the previous output, still committed
    pd.testing.assert_frame_equal(pd.read_parquet(root / "out" / "medoids").sort_values("cluster"), medoids_before)
    staging = [p for p in root.iterdir() if p.name.startswith("out.tmp-")]
    assert len(staging) == 1 and (staging[0] / OWNER).exists() and not (staging[0] / MARKER).exists()

    again = cli(["fit", *common, "--seed", "9", "-o", out, "--overwrite"], tmp_path)
    log, _ = again.communicate(timeout=300)
    assert again.returncode == 0, log
    assert "removed stale staging directory" in log
    assert sorted(p.name for p in root.iterdir()) == ["labels", "out"]
    assert json.loads((root / "out" / MARKER).read_text())["created_at"] != marker["created_at"]
