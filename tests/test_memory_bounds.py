"""The driver never materialises more than the samples: checked three ways on real Spark.

1. ``spark.driver.maxResultSize=2m`` (Spark itself enforces it on every action's results): a fit of 200k rows
   (d=4, generated in the JVM) completes in a subprocess session with that cap, while a plain ``collect()``
   of the same data in the same session is refused — so the cap is real and the fit stays under it.
2. Instrumentation in this process (the real ``spark`` session runs; nothing is faked): every DataFrame
   action that brings rows to the driver (``collect``, ``toPandas``, ``toArrow``, ``tail``, Arrow collection)
   records how many rows it returned during a fit; each must be at most numSamples·maxIter·sampleSize + the
   refinement pool, while the data are 25 times larger.
3. (``slow``) ``scripts/memory_bound_fit.py`` at 2M rows with a 1 GB driver on ``local-cluster``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVER = ROOT / "tests" / "fault_driver.py"
SCRIPT = ROOT / "scripts" / "memory_bound_fit.py"


def run_tagged(cmd: list[str], timeout: float, stderr_path: Path) -> tuple[int, dict[str, list[dict]]]:
    """Run ``cmd`` in its own process group (killed whole at the end); return (exit code, tagged JSON lines).

    A line ``TAG {json}`` on stdout lands in ``out[TAG]``.
    """
    env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
               PYSPARK_DRIVER_PYTHON=sys.executable, PYTHONUNBUFFERED="1")
    with open(stderr_path, "w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=str(ROOT),
                                start_new_session=True)
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{cmd[1]} did not finish in {timeout} s; stderr tail:\n{tail(stderr_path)}")
        finally:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
    out: dict[str, list[dict]] = {}
    for line in stdout.splitlines():
        tag, _, payload = line.partition(" ")
        if tag.isupper() and payload.startswith("{"):
            out.setdefault(tag, []).append(json.loads(payload))
    return proc.returncode, out


def tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@pytest.mark.spark
def test_fit_completes_under_a_2m_max_result_size_that_refuses_the_data(tmp_path):
    code, out = run_tagged(
        [sys.executable, str(DRIVER), "--master", "local[2]", "--rows", "200000", "--dim", "4", "--k", "6",
         "--partitions", "4", "--fits", "1", "--conf", "spark.driver.maxResultSize=2m", "--probe-full-collect"],
        timeout=240, stderr_path=tmp_path / "stderr",
    )
    assert code == 0, tail(tmp_path / "stderr")
    (result,) = out["SPARKMED_RESULT"]
    assert len(result["medoid_ids"]) == 6 and math.isfinite(result["cost"]) and result["cost"] > 0
    # Control: the very same session refuses to collect the data (200k × 4 doubles ≫ 2 MiB).
    (probe,) = out["SPARKMED_PROBE"]
    assert probe["refused"], probe
    assert "maxResultSize" in probe["error"], probe["error"]


# ---------------------------------------------------------------------------------------------------
# instrumentation of the driver-side actions
# ---------------------------------------------------------------------------------------------------


def _rows_of(value) -> int:
    """Rows in what an action returned (list of Rows, pandas DataFrame, Arrow table or list of batches)."""
    if hasattr(value, "num_rows"):
        return int(value.num_rows)
    if hasattr(value, "shape"):
        return int(value.shape[0])
    if isinstance(value, list) and value and hasattr(value[0], "num_rows"):
        return sum(int(b.num_rows) for b in value)
    return len(value)


@pytest.fixture
def recorded_actions(spark, monkeypatch):
    """Record (method, rows returned) of every row-returning action on classic DataFrames.

    Wraps the real methods (they still run and return the real results); ``toLocalIterator`` counts rows
    as they are consumed.
    """
    from pyspark.sql.classic.dataframe import DataFrame

    calls: list[tuple[str, int]] = []

    def wrap(name: str) -> None:
        original = getattr(DataFrame, name)

        def recording(self, *args, **kwargs):
            value = original(self, *args, **kwargs)
            calls.append((name, _rows_of(value)))
            return value

        monkeypatch.setattr(DataFrame, name, recording)

    for name in ("collect", "toPandas", "toArrow", "tail", "_collect_as_arrow"):
        wrap(name)
    original_iter = DataFrame.toLocalIterator

    def counting_iter(self, *args, **kwargs):
        n = 0
        for row in original_iter(self, *args, **kwargs):
            n += 1
            yield row
        calls.append(("toLocalIterator", n))

    monkeypatch.setattr(DataFrame, "toLocalIterator", counting_iter)
    return calls


@pytest.mark.spark
def test_no_driver_action_returns_more_rows_than_the_samples(spark, recorded_actions, capsys):
    from fault_driver import generated_blobs

    from sparkmed import KMedoids

    n, S, R, m = 200_000, 3, 2, 1000
    df = generated_blobs(spark, n, 4, 6, 4, seed=5)
    pool = m + 4 * math.sqrt(m) + 10  # the refinement pool: bottom-m keys of ~this many drawn rows
    bound = S * R * m + pool
    assert n >= 25 * bound  # the data are far larger than the bound: a full collect would be caught

    model = KMedoids(k=6, seed=5, idCol="id", numSamples=S, maxIter=R, sampleSize=m, refinePasses=3).fit(df)
    assert len(model.medoidIds()) == 6

    calls = list(recorded_actions)
    assert calls, "no driver action was recorded: the instrumentation did not see the fit"
    assert any(rows > 0 for _, rows in calls)
    worst = max(calls, key=lambda c: c[1])
    assert worst[1] <= bound, f"{worst[0]} returned {worst[1]} rows > {bound:.0f}; all calls: {calls}"
    with capsys.disabled():
        print(f"\n[memory] {len(calls)} driver actions during a fit of {n} rows; largest: {worst[0]} of "
              f"{worst[1]} rows (bound {bound:.0f}); total rows to the driver {sum(r for _, r in calls)}")


# ---------------------------------------------------------------------------------------------------
# the 1 GB driver script
# ---------------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.spark
def test_memory_bound_script_2m_rows_with_a_1g_driver(tmp_path):
    code, out = run_tagged([sys.executable, str(SCRIPT), "--rows", "2000000"], timeout=600,
                           stderr_path=tmp_path / "stderr")
    assert code == 0, tail(tmp_path / "stderr")
    (res,) = out["MEMORY_BOUND_RESULT"]
    assert res["rows"] == 2_000_000 and res["driver_memory"] == "1g"
    assert len(res["medoid_ids"]) == 10 and math.isfinite(res["cost"])
    data_bytes = 2_000_000 * 8 * 8  # the features as float64: 122 MiB
    # After the script's warm-up fit (imports and compiled kernels loaded), the driver's Python grows during
    # the big fit by the samples and medoids only: far less than the data.
    growth = res["driver_python_peak_rss"] - res["driver_python_rss_before_fit"]
    assert growth < data_bytes / 2, res
    # The driver JVM stays inside its 1 GB heap plus JVM overhead; the executors hold the data.
    assert res["driver_jvm_peak_rss"] is not None and res["driver_jvm_peak_rss"] < 1.5 * 2**30, res
    assert len(res["executor_jvm_peak_rss"]) == 2, res
