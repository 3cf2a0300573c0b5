"""The wheel ships numba's compiled kernels, and a fresh install of it loads them instead of compiling.

``scripts/build_wheel.sh`` warms a clean copy for each portable CPU level this machine has (x86-64-v4, v3;
``sparkmed.numba_target``) and packs the cache into the wheel. Here the wheel is installed into a fresh venv
(its own site-packages; the numeric stack comes from this venv through a ``.pth`` line, which does not run this
venv's editable-install hook), and a real fit runs through local Spark whose driver and Python workers are the
fresh venv. numba writes a new file (and rewrites the index) on every cache miss, so "nothing compiled" is
observable: the cache files after the fit are byte for byte the shipped ones, in the driver and in every worker.
The fit's medoids equal the same fit in this test session (whatever this process compiled for), so the shipped
code gives identical results.
Two placements: the in-tree cache of a writable site-packages, and a ``NUMBA_CACHE_DIR`` that sparkmed seeds
from the shipped files (what a read-only site-packages gets; as root every directory is writable, so the read-
only branch itself is not exercised here).
"""

from __future__ import annotations

import hashlib
import json
import os
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]

FIT = """
import json, sys
import numpy as np, pandas as pd
from pyspark.sql import SparkSession
import sparkmed
from sparkmed import KMedoids

spark = (SparkSession.builder.master("local[2]").appName("shipped-cache")
         .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
         .config("spark.sql.shuffle.partitions", "2").getOrCreate())
where = spark.range(1).rdd.map(lambda _: __import__("sparkmed").__file__).collect()[0]
rng = np.random.default_rng(7)
x = np.concatenate([rng.normal(c, 1.5, size=(4000, 6)) for c in (-8.0, -3.0, 2.0, 9.0)])
df = spark.createDataFrame(pd.DataFrame({"id": np.arange(len(x)), "features": list(x)})).repartition(3)
model = KMedoids(k=4, seed=3, idCol="id").fit(df)
cost = model.computeCost(df)
print(json.dumps({"driver": sparkmed.__file__, "worker": where, "ids": sorted(int(i) for i in model.medoidIds()),
                  "cost": cost}))
spark.stop()
"""


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(c, 1.5, size=(4000, 6)) for c in (-8.0, -3.0, 2.0, 9.0)])
    return pd.DataFrame({"id": np.arange(len(x)), "features": list(x)})


def _cache_files(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.iterdir()) if p.suffix in (".nbi", ".nbc")}


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory) -> Path:
    """A venv holding only the wheel built by scripts/build_wheel.sh (dependencies from this venv)."""
    base = tmp_path_factory.mktemp("shipped")
    env = {**os.environ, "WHEEL_DIR": str(base / "dist"), "VENV_PY": sys.executable}
    subprocess.run(["bash", str(ROOT / "scripts" / "build_wheel.sh")], check=True, env=env, timeout=900)
    wheel = next((base / "dist").glob("sparkmed-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    target = next((venv / "lib").glob("python3*/site-packages"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(target)
    (target / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return venv


def _run_fit(venv: Path, workdir: Path, extra_env: dict[str, str]) -> dict:
    py = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_") and k != "PYTHONPATH"}
    env.update({"PYSPARK_PYTHON": py, "PYSPARK_DRIVER_PYTHON": py, "SPARK_LOCAL_IP": "127.0.0.1", **extra_env})
    workdir.mkdir()
    # An empty cwd: pyspark's daemon puts the cwd first on sys.path, and the repository must not shadow the wheel.
    out = subprocess.run([py, "-c", FIT], cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reference(spark) -> dict:
    from sparkmed import KMedoids

    df = spark.createDataFrame(_data()).repartition(3)
    model = KMedoids(k=4, seed=3, idCol="id").fit(df)
    return {"ids": sorted(int(i) for i in model.medoidIds()), "cost": model.computeCost(df)}


@pytest.mark.spark
@pytest.mark.slow
def test_wheel_ships_a_cache_that_a_fresh_install_loads_without_compiling(fresh_install, tmp_path, reference):
    pkg = next((fresh_install / "lib").glob("python3*/site-packages")) / "sparkmed"
    shipped = _cache_files(pkg / "kernels" / "__pycache__")
    assert len(shipped) > 40, sorted(shipped)
    result = _run_fit(fresh_install, tmp_path / "run", {})
    assert result["driver"].startswith(str(pkg)) and result["worker"].startswith(str(pkg)), result
    assert _cache_files(pkg / "kernels" / "__pycache__") == shipped, "numba compiled something the wheel lacks"
    assert result["ids"] == reference["ids"]
    assert result["cost"] == pytest.approx(reference["cost"], rel=1e-12)


@pytest.mark.spark
@pytest.mark.slow
def test_a_numba_cache_dir_is_seeded_from_the_wheel(fresh_install, tmp_path, reference):
    from sparkmed.numba_target import user_cache_subdir

    pkg = next((fresh_install / "lib").glob("python3*/site-packages")) / "sparkmed"
    shipped = _cache_files(pkg / "kernels" / "__pycache__")
    cache_dir = tmp_path / "numba-cache"
    # and the other level's entries: x86-64-v3, which every AVX2 machine without AVX-512 picks
    result = _run_fit(fresh_install, tmp_path / "run", {"NUMBA_CACHE_DIR": str(cache_dir),
                                                        "SPARKMED_NUMBA_CPU": "x86-64-v3"})
    seeded = Path(user_cache_subdir(str(cache_dir), str(pkg / "kernels")))
    assert _cache_files(seeded) == shipped, "the seeded cache missed: numba compiled into NUMBA_CACHE_DIR"
    assert _cache_files(pkg / "kernels" / "__pycache__") == shipped
    assert result["ids"] == reference["ids"]
    assert result["cost"] == pytest.approx(reference["cost"], rel=1e-12)


V3_LINE = ("flags\t\t: fpu cx8 sse sse2 pni ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt xsave avx f16c lahf_lm abm "
           "bmi1 avx2 bmi2\n")


def test_the_portable_cpu_level_is_chosen_only_where_the_cpu_has_it(tmp_path):
    from sparkmed.numba_target import chosen_cpu

    v4 = tmp_path / "v4"
    v4.write_text("processor\t: 0\n" + V3_LINE.rstrip("\n") + " avx512f avx512dq avx512cd avx512bw avx512vl\n")
    v3 = tmp_path / "v3"
    v3.write_text("processor\t: 0\n" + V3_LINE)
    v2 = tmp_path / "v2"
    v2.write_text(V3_LINE.replace(" avx2", ""))
    absent = str(tmp_path / "absent")
    assert [chosen_cpu("auto", str(f)) for f in (v4, v3, v2)] == ["x86-64-v4", "x86-64-v3", "host"]
    assert chosen_cpu("auto", absent) == "host"
    # a level named explicitly only where the CPU has it: its code would stop with an illegal instruction
    assert chosen_cpu("x86-64-v4", str(v3)) == "host"
    assert chosen_cpu("x86-64-v3", str(v4)) == "x86-64-v3"
    assert chosen_cpu("x86-64-v3", str(v2)) == "host"
    assert chosen_cpu("generic", str(v2)) == "generic"
    assert chosen_cpu("host", str(v4)) == "host"
