"""The CLI's exit codes for bad invocations, checked BEFORE Spark starts (no JVM: each run takes ~1-2 s).

Exit 2 = bad config/input/paths; nothing may be written: no output, no ``<out>.tmp-*`` staging directory.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "sparkmed.cli"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def listing(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*"))


def test_config_errors_exit_2_and_leave_nothing(tmp_path):
    data = tmp_path / "in.parquet"
    data.mkdir()
    base = ["fit", "-c", str(ROOT / "conf" / "example.toml"), "--input", str(data), "-o", str(tmp_path / "out")]
    cases = [
        (["--set", "model.metric=foo"], "model.metric"),
        (["--set", "model.kk=3"], "model.kk"),
        (["--k", "1"], "model.k"),
        (["--format", "xlsx"], "input.format"),
        (["--set", "input.features=[]"], "input.features"),
        (["--log-level", "LOUD"], "--log-level"),
    ]
    for extra, key in cases:
        r = run_cli(*base, *extra, cwd=tmp_path)
        assert r.returncode == 2, (extra, r.stderr)
        assert key in r.stderr, (key, r.stderr)
        assert "SparkContext" not in r.stderr and "Spark" not in r.stdout  # failed before Spark started
    r = run_cli(*base[:-2], "-c", str(tmp_path / "missing.toml"), cwd=tmp_path)
    assert r.returncode == 2 and "missing.toml" in r.stderr
    assert listing(tmp_path) == ["in.parquet"]


def test_path_errors_exit_2_and_keep_the_existing_output(tmp_path):
    data = tmp_path / "in.parquet"
    data.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.json").write_text("{}")
    common = ["--features", "a,b", "--no-report"]
    r = run_cli("fit", "--input", str(data), "-o", str(out), *common, cwd=tmp_path)
    assert r.returncode == 2 and "already exists" in r.stderr and "--overwrite" in r.stderr
    r = run_cli("fit", "--input", str(tmp_path / "nope.parquet"), "-o", str(tmp_path / "o2"), *common, cwd=tmp_path)
    assert r.returncode == 2 and "nope.parquet" in r.stderr and "does not exist" in r.stderr
    r = run_cli("assign", "--input", str(data), "--model", str(tmp_path / "no-model"), "-o", str(tmp_path / "o3"),
                cwd=tmp_path)
    assert r.returncode == 2 and "assign.model" in r.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_cli("fit", "--input", str(data), "-o", str(blocker), *common, cwd=tmp_path)
    assert r.returncode == 2 and "not a directory" in r.stderr
    assert listing(tmp_path) == ["file", "in.parquet", "out", "out/metrics.json"]


def test_help_lists_the_commands():
    r = subprocess.run([*CLI, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    for cmd in ("demo", "fit", "select-k", "assign"):
        assert cmd in r.stdout
    r = subprocess.run([*CLI, "fit", "--help"], capture_output=True, text=True, timeout=60)
    assert "--set" in r.stdout and "--overwrite" in r.stdout and "--mlflow" in r.stdout
