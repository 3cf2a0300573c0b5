"""Untrusted inputs and outputs in the job: no input is destroyed, nothing is lost, no secret leaks.

Fast tests (no Spark, no subprocess) pin the rules of ``sparkmed.job.io``, ``outputs`` and ``redact``: the
output never is, lies inside or contains the input or the model; ``--overwrite`` replaces only a previous
sparkmed output (its ``_SPARKMED_OUTPUT`` marker); one run at a time holds an output (``<out>.lock``);
stale staging directories of dead runs and old outputs of interrupted commits are cleaned up.

CLI tests run ``python -m sparkmed.cli`` in subprocesses, all launched when the module starts (at most
``WORKERS`` at a time, like the bad-input catalogue): the ~1 s pre-Spark refusals, and few JVM runs:
a fit given secrets in ``--conf``/``--option`` with MLflow logging, ``~`` paths and a ``HOME`` of its own
(every file it writes and its console are searched for the secrets); a header-only CSV; then, after that
fit, two assign runs with the wrong feature width and an ``--overwrite`` over a copy of the fit's output
with a dead run's staging directory and an old output beside it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparkmed.errors import InputError
from sparkmed.job import io
from sparkmed.job.outputs import MARKER, OWNER, OutputLock, Staging, is_sparkmed_output, output_marker
from sparkmed.job.redact import MASK, redact, secrets_of

CLI = [sys.executable, "-m", "sparkmed.cli"]
WORKERS = 3
TIMEOUT_S = 600
SPARK_ARGS = ["--master", "local[1]", "--conf", "spark.sql.shuffle.partitions=2"]
SECRETS = ("SUPERSECRET123", "PW12345", "AKIAEXAMPLE")
N = 120


def snapshot(d: Path) -> dict[str, bytes]:
    """Every entry under ``d``: relative path → bytes (b"<dir>" for directories)."""
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(d.rglob("*"))}


def write_data(path: Path) -> None:
    """N rows in 3 separated groups: id, a, b, c (the model's 3 features) and v, an array of width 2."""
    rng = np.random.default_rng(5)
    centres = np.array([[-6.0, -6.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    x = centres[np.arange(N) % 3] + rng.normal(size=(N, 3))
    pq.write_table(pa.table({
        "id": pa.array(np.arange(N, dtype=np.int64)), "a": x[:, 0], "b": x[:, 1], "c": x[:, 2],
        "v": pa.array([list(r[:2]) for r in x], type=pa.list_(pa.float64())),
    }), path)


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def fake_staging(out: Path, owner: dict | None, name: str = "0123456789ab") -> Path:
    """A ``<out>.tmp-*`` directory as a killed run leaves it: an owner record (if any) and a partial file."""
    d = out.parent / f"{out.name}.tmp-{name}"
    d.mkdir()
    if owner is not None:
        (d / OWNER).write_text(json.dumps(owner))
    (d / "partial.parquet").write_bytes(b"PAR1 half written")
    return d


def marked_output(path: Path, payload: str = "previous") -> Path:
    """A directory that looks like a committed sparkmed output."""
    path.mkdir(parents=True)
    (path / MARKER).write_text(json.dumps(output_marker("fit")))
    (path / "metrics.json").write_text(json.dumps({"k": 2, "payload": payload}))
    return path


# ------------------------------------------------------------------------------------ rules, without Spark


def test_output_must_not_overlap_the_input_or_the_model(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "part-0.parquet").write_bytes(b"x")
    link = tmp_path / "link"
    link.symlink_to(data)
    cases = [
        (str(data), {"input.path": str(data)}, "is the input path"),
        (str(link), {"input.path": str(data)}, "is the input path"),  # symlink resolved
        (str(data / "out"), {"input.path": f"file://{data}"}, "lies inside the input path"),  # file: URI
        (str(tmp_path), {"input.path": str(link / "part-0.parquet")}, "contains the input path"),
        (str(data / "o"), {"input.path": str(data / "*.parquet")}, None),  # a glob: only its matches count
        (str(tmp_path), {"input.path": str(data / "*.parquet")}, "contains the input path"),
        (str(data / "m"), {"assign.model": str(data)}, "lies inside the model path"),
    ]
    for out, protected, words in cases:
        if words is None:
            io.check_output_path(out, overwrite=True, protected=protected)
            continue
        with pytest.raises(InputError) as e:
            io.check_output_path(out, overwrite=True, protected=protected)
        assert words in str(e.value) and "output.path" in str(e.value), str(e.value)
        assert next(iter(protected)) in str(e.value)
    monkeypatch.setenv("HOME", str(tmp_path))  # ~ is expanded before comparing
    with pytest.raises(InputError, match="is the input path"):
        io.check_output_path("~/data", overwrite=True, protected={"input.path": "~/link"})
    assert io.spark_path("~/data") == str(data) and io.spark_path("file:~/data") == f"file://{data}"
    assert io.spark_path("s3a://b/~x") == "s3a://b/~x"


def test_overwrite_replaces_only_a_previous_sparkmed_output(tmp_path):
    user = tmp_path / "user_data"
    user.mkdir()
    (user / "precious.csv").write_text("a,b\n1,2\n")
    with pytest.raises(InputError) as e:
        io.check_output_path(str(user), overwrite=True)
    assert "not a sparkmed output" in str(e.value) and str(user) in str(e.value)
    (user / MARKER).write_text("not json")  # a marker must be the job's JSON
    with pytest.raises(InputError, match="not a sparkmed output"):
        io.check_output_path(str(user), overwrite=True)
    prev = marked_output(tmp_path / "prev")
    assert io.check_output_path(str(prev), overwrite=True) == prev
    empty = tmp_path / "empty"
    empty.mkdir()
    assert io.check_output_path(str(empty), overwrite=True) == empty  # nothing to lose


def test_commit_writes_the_marker_and_refuses_to_replace_what_sparkmed_did_not_write(tmp_path):
    out = tmp_path / "out"
    st = Staging(out, overwrite=False, marker=output_marker("fit"))
    (st.dir / "metrics.json").write_text("{}")
    assert (st.dir / OWNER).is_file() and (tmp_path / "out.lock").exists()
    st.commit()
    assert is_sparkmed_output(out) and not (out / OWNER).exists()
    assert json.loads((out / MARKER).read_text())["command"] == "fit"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # lock released and removed

    st = Staging(out, overwrite=True, marker=output_marker("fit"))
    shutil.rmtree(out)
    out.mkdir()
    (out / "theirs.txt").write_text("someone else's")  # replaced during the run by a foreign directory
    with pytest.raises(InputError, match="not a sparkmed output"):
        st.commit()
    st.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (out / "theirs.txt").exists()


def test_a_second_run_on_the_same_output_fails_at_once(tmp_path):
    out = tmp_path / "out"
    first = Staging(out, overwrite=True, marker=output_marker("fit"))
    with pytest.raises(InputError) as e:
        Staging(out, overwrite=True, marker=output_marker("fit"))
    msg = str(e.value)
    assert "another sparkmed run holds its lock" in msg and f"pid {os.getpid()}" in msg and "out.lock" in msg
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == [first.dir.name]
    first.commit()
    second = Staging(out, overwrite=True, marker=output_marker("fit"))  # free again
    second.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_lock_is_not_stolen_when_its_file_is_replaced(tmp_path):
    """The holder removes the lock file on release; a run that opened the old file must lock the new one."""
    out = tmp_path / "out"
    a = OutputLock(out)
    a.acquire()
    stale_fd = os.open(a.path, os.O_RDWR)  # a competitor opened the file before the holder released it
    a.release()
    assert not a.path.exists()
    b = OutputLock(out)
    b.acquire()
    fcntl.flock(stale_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the old inode is free, but it is no longer the lock
    c = OutputLock(out)
    with pytest.raises(InputError, match="holds its lock"):
        c.acquire()
    os.close(stale_fd)
    b.release()


def test_stale_staging_of_dead_runs_is_removed_and_the_undecidable_is_reported(tmp_path, caplog):
    out = tmp_path / "out"
    marked_output(out)
    host = socket.gethostname()
    dead = fake_staging(out, {"pid": dead_pid(), "host": host, "started_at": "2026-01-01T00:00:00+00:00"},
                        "00000000dead")
    elsewhere = fake_staging(out, {"pid": os.getpid(), "host": host + "-other"}, "0000000e15e0")
    anonymous = fake_staging(out, None, "00000000a0a0")
    empty = tmp_path / "out.tmp-00000000e0e0"
    empty.mkdir()
    unrelated = tmp_path / "out.tmp-mine"  # not a name sparkmed makes: never touched
    unrelated.mkdir()
    finished_old = marked_output(tmp_path / "out.old-0000000001d0")
    with caplog.at_level(logging.WARNING, logger="sparkmed"):
        st = Staging(out, overwrite=True, marker=output_marker("fit"))
    assert not dead.exists() and not empty.exists() and not finished_old.exists()
    assert elsewhere.exists() and anonymous.exists() and unrelated.exists()
    text = caplog.text
    assert f"removed stale staging directory {dead}" in text and "dead run" in text
    assert f"cannot tell whether the run owning staging directory {elsewhere}" in text
    assert f"staging directory {anonymous} has no readable owner record" in text
    assert f"removed {finished_old}" in text
    st.abort()


def test_an_interrupted_commit_gets_the_previous_output_back(tmp_path, caplog):
    """Killed between moving the old output aside and moving the new one in: no ``out``, one ``out.old-*``."""
    out = tmp_path / "out"
    old = marked_output(tmp_path / "out.old-00000000beef", payload="last good")
    fake_staging(out, {"pid": dead_pid(), "host": socket.gethostname()}, "0000000000c0")
    with caplog.at_level(logging.WARNING, logger="sparkmed"), pytest.raises(InputError, match="already exists"):
        Staging(out, overwrite=False, marker=output_marker("fit"))
    assert json.loads((out / "metrics.json").read_text())["payload"] == "last good" and not old.exists()
    assert "restored" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_filesystem_errors_preparing_the_output_are_input_errors(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError) as e:
        Staging(blocker / "out", overwrite=False, marker=output_marker("fit"))
    assert str(blocker / "out") in str(e.value) and "output.path" in str(e.value)


def test_redaction_rule():
    cfg = {
        "spark": {"conf": {"spark.hadoop.fs.s3a.secret.key": "SUPERSECRET123", "spark.hadoop.fs.s3a.access.key":
                           "AKIAEXAMPLE", "spark.sql.session.timeZone": "UTC", "spark.ssl.keyStore": "/etc/ks.jks",
                           "spark.ssl.keyStorePassword": "storepass", "spark.authenticate": "true",
                           "spark.executor.memory": "2g"}},
        "input": {"path": "abfss://me:hunter22@acct.dfs.core.windows.net/x?sv=1&sig=AbCdEf12", "options":
                  {"password": "PW12345", "header": "true", "sasToken": "sv=2024&sig=zzzz9999"}},
        "mlflow": {"tracking_uri": "https://tok3n@mlflow.example.com/"},
    }
    secrets = secrets_of(cfg)
    assert {"SUPERSECRET123", "AKIAEXAMPLE", "PW12345", "hunter22", "storepass", "tok3n"} <= secrets
    assert "true" not in secrets  # spark.authenticate=true is masked, but "true" elsewhere stays "true"
    r = redact(cfg, secrets)
    conf = r["spark"]["conf"]
    assert conf["spark.hadoop.fs.s3a.secret.key"] == conf["spark.hadoop.fs.s3a.access.key"] == MASK
    assert conf["spark.ssl.keyStorePassword"] == MASK and conf["spark.authenticate"] == MASK
    assert conf["spark.sql.session.timeZone"] == "UTC" and conf["spark.ssl.keyStore"] == "/etc/ks.jks"
    assert conf["spark.executor.memory"] == "2g"
    assert r["input"]["options"] == {"password": MASK, "header": "true", "sasToken": MASK}
    assert r["input"]["path"] == f"abfss://{MASK}@acct.dfs.core.windows.net/x?sv=1&sig={MASK}"
    assert r["mlflow"]["tracking_uri"] == f"https://{MASK}@mlflow.example.com/"
    assert redact("Spark said: bad option password=PW12345 (AKIAEXAMPLE)", secrets) == \
        f"Spark said: bad option password={MASK} ({MASK})"
    assert redact({"phases_seconds": {"session": 1.5}}) == {"phases_seconds": {"session": 1.5}}  # numbers stay
    assert cfg["spark"]["conf"]["spark.hadoop.fs.s3a.secret.key"] == "SUPERSECRET123"  # a copy, not in place


# ----------------------------------------------------------------------------------------------------- CLI


def run_cli(args: list[str], cwd: Path, home: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable}
    if home is not None:
        env["HOME"] = str(home)
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def fit_args(inp: str, out: str, *extra: str) -> list[str]:
    return ["fit", "--input", inp, "--features", "a,b,c", "--id", "id", "-k", "3", "-o", out, "--no-report",
            *SPARK_ARGS, *extra]


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """Every CLI scenario launched at module start; name → (working directory, future of the run, extra)."""
    root = tmp_path_factory.mktemp("job_safety")
    pool = ThreadPoolExecutor(max_workers=WORKERS)
    runs: dict[str, tuple[Path, Future, dict]] = {}

    def launch(name: str, fn: Callable[[Path, dict], subprocess.CompletedProcess], prepare=None) -> None:
        d = root / name
        d.mkdir()
        extra = prepare(d) if prepare else {}
        extra["before"] = snapshot(d)
        runs[name] = (d, pool.submit(fn, d, extra), extra)

    # --- JVM runs first (they take longest): the secrets + ~ fit, the header-only CSV
    def prep_secret(d: Path) -> dict:
        (d / "home").mkdir()
        (d / "cwd").mkdir()
        write_data(d / "home" / "data.parquet")
        return {}

    def secret_fit(d: Path, extra: dict) -> subprocess.CompletedProcess:
        args = ["fit", "--input", "~/data.parquet", "-o", "~/out", "--features", "a,b,c", "--id", "id", "-k", "3",
                *SPARK_ARGS, "--set", "output.report_sample=50",
                "--conf", f"spark.hadoop.fs.s3a.secret.key={SECRETS[0]}",
                "--conf", f"spark.hadoop.fs.s3a.access.key={SECRETS[2]}", "--option", f"password={SECRETS[1]}",
                "--mlflow", "--mlflow-tracking-uri", f"sqlite:///{d / 'm.db'}", "--mlflow-experiment", "safety"]
        return run_cli(args, d / "cwd", home=d / "home")

    launch("secret_fit", secret_fit, prep_secret)

    def prep_csv(d: Path) -> dict:
        (d / "header.csv").write_text("a,b,c\n")
        return {}

    launch("header_only_csv", lambda d, e: run_cli(
        ["fit", "--input", str(d / "header.csv"), "--format", "csv", "--option", "header=true", "--option",
         "inferSchema=true", "--features", "a,b,c", "-o", str(d / "out"), "--no-report", *SPARK_ARGS], d), prep_csv)

    # --- refusals before Spark starts (~1 s each)
    def prep_input_dir(d: Path) -> dict:
        (d / "in").mkdir()
        write_data(d / "in" / "part-0.parquet")
        return {}

    launch("output_is_input", lambda d, e: run_cli(fit_args(str(d / "in"), str(d / "in"), "--overwrite"), d),
           prep_input_dir)
    launch("output_inside_input", lambda d, e: run_cli(fit_args(f"file://{d / 'in'}", str(d / "in" / "out")), d),
           prep_input_dir)

    def prep_outer(d: Path) -> dict:
        marked_output(d / "outer")  # even a previous sparkmed output: the input lives inside it
        write_data(d / "outer" / "in.parquet")
        return {}

    launch("input_inside_output", lambda d, e: run_cli(
        fit_args(str(d / "outer" / "in.parquet"), str(d / "outer"), "--overwrite"), d), prep_outer)

    def prep_foreign(d: Path) -> dict:
        write_data(d / "in.parquet")
        (d / "out").mkdir()
        (d / "out" / "precious.csv").write_text("a,b\n1,2\n")
        return {}

    launch("overwrite_foreign", lambda d, e: run_cli(
        fit_args(str(d / "in.parquet"), str(d / "out"), "--overwrite"), d), prep_foreign)

    def locked(d: Path, extra: dict) -> subprocess.CompletedProcess:
        with open(d / "out.lock", "a") as f:  # another run holds the output
            fcntl.flock(f, fcntl.LOCK_EX)
            return run_cli(fit_args(str(d / "in.parquet"), str(d / "out")), d)

    def prep_lock(d: Path) -> dict:
        write_data(d / "in.parquet")
        (d / "out.lock").touch()  # the other run's lock file (part of the "before" snapshot)
        return {}

    launch("lock_held", locked, prep_lock)
    launch("proc_output", lambda d, e: run_cli(fit_args(str(d / "in.parquet"), "/proc/sparkmed-safety-out"), d),
           lambda d: (write_data(d / "in.parquet"), {})[1])
    launch("p_nan", lambda d, e: run_cli(fit_args(str(d / "in.parquet"), str(d / "out"), "--metric", "minkowski",
                                                  "--set", "model.p=nan"), d),
           lambda d: (write_data(d / "in.parquet"), {})[1])

    # --- after the secret fit: assign with the wrong width, and --overwrite over (a copy of) its output
    fit_future = runs["secret_fit"][1]
    fit_dir = root / "secret_fit"

    def after_fit(fn):
        def wrapped(d: Path, extra: dict) -> subprocess.CompletedProcess:
            r = fit_future.result()
            assert r.returncode == 0, r.stderr[-3000:]
            return fn(d, extra)
        return wrapped

    model = str(fit_dir / "home" / "out")
    data = str(fit_dir / "home" / "data.parquet")
    launch("assign_columns_width", after_fit(lambda d, e: run_cli(
        ["assign", "--model", model, "--input", data, "--features", "a,b", "-o", str(d / "out"), *SPARK_ARGS], d)))
    launch("assign_array_width", after_fit(lambda d, e: run_cli(
        ["assign", "--model", model, "--input", data, "--features", "v", "--id", "id", "-o", str(d / "out"),
         *SPARK_ARGS], d)))

    def overwrite(d: Path, extra: dict) -> subprocess.CompletedProcess:
        shutil.copytree(model, d / "out")
        extra["previous"] = (d / "out" / "metrics.json").read_bytes()
        extra["stale"] = fake_staging(d / "out", {"pid": dead_pid(), "host": socket.gethostname()})
        extra["old"] = marked_output(d / "out.old-00000000001d")
        return run_cli(fit_args(data, str(d / "out"), "--overwrite", "--seed", "9"), d)

    launch("overwrite_previous", after_fit(overwrite))
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)


def result(cli, name: str) -> tuple[Path, subprocess.CompletedProcess, dict, str]:
    d, future, extra = cli[name]
    r = future.result()
    return d, r, extra, f"\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-4000:]}"


def assert_refused(cli, name: str, *words: str, spark: bool = False) -> str:
    """Exit 2, an error line naming ``words``, no traceback, the case's directory exactly as before."""
    d, r, extra, tail = result(cli, name)
    assert r.returncode == 2, tail
    assert "Traceback" not in r.stderr, tail
    errors = "\n".join(line for line in r.stderr.splitlines() if ": error: " in line)
    missing = [w for w in words if w not in errors]
    assert not missing, f"error lacks {missing}{tail}"
    assert snapshot(d) == extra["before"], f"changed: {set(snapshot(d)) ^ set(extra['before'])}{tail}"
    if not spark:
        assert "phase session done" not in r.stderr, tail
    return errors


def test_cli_output_is_the_input(cli):
    """Even with --overwrite: exit 2 and every byte of the input still there."""
    assert_refused(cli, "output_is_input", "is the input path", "input.path", "output.path")


def test_cli_output_inside_the_input(cli):
    assert_refused(cli, "output_inside_input", "lies inside the input path", "file://")


def test_cli_input_inside_the_output(cli):
    assert_refused(cli, "input_inside_output", "contains the input path", "in.parquet")


def test_cli_overwrite_of_a_directory_sparkmed_did_not_write(cli):
    d = cli["overwrite_foreign"][0]
    assert_refused(cli, "overwrite_foreign", "not a sparkmed output", str(d / "out"), MARKER)


def test_cli_output_held_by_another_run(cli):
    """The chosen behaviour: no waiting; exit 2 at once (before Spark) naming the lock; the lock file stays."""
    errors = assert_refused(cli, "lock_held", "another sparkmed run holds its lock", "out.lock")
    assert "wait for that run" in errors


def test_cli_output_path_the_filesystem_refuses(cli):
    assert_refused(cli, "proc_output", "/proc/sparkmed-safety-out", "output.path")


def test_cli_nan_parameter_names_its_key(cli):
    errors = assert_refused(cli, "p_nan", "model.p", "nan is not a number")
    assert "model.k" not in errors


def test_cli_header_only_csv_says_0_rows(cli):
    assert_refused(cli, "header_only_csv", "has 0 rows", "header.csv", spark=True)


def test_cli_assign_with_fewer_columns_than_the_model(cli):
    errors = assert_refused(cli, "assign_columns_width", "input.features", "dimension 3", "a, b", spark=True)
    assert "phase count done" not in cli["assign_columns_width"][1].result().stderr  # before any job on the input
    assert errors


def test_cli_assign_with_a_narrower_array_column(cli):
    assert_refused(cli, "assign_array_width", "'v'", "dimension 3", "widths 2..2", "row id=", spark=True)


def test_cli_fit_with_secrets_and_tilde_paths(cli):
    """~ is expanded for Spark too; the output carries the marker; no secret in any file written, in the MLflow
    store, or on the console; metrics.json records no command line and a redacted config echo."""
    d, r, _, tail = result(cli, "secret_fit")
    assert r.returncode == 0, tail
    out = d / "home" / "out"
    assert is_sparkmed_output(out) and not (out / OWNER).exists(), tail
    assert not list((d / "cwd").glob("~*")) and not list(d.rglob("~")), "a literal ~ directory was created"
    assert sorted(p.name for p in (d / "home").iterdir() if p.name.startswith("out")) == ["out"]  # no lock left
    m = json.loads((out / "metrics.json").read_text())
    assert "argv" not in m and m["input"]["path"] == str(d / "home" / "data.parquet")
    conf = m["config"]["spark"]["conf"]
    assert conf["spark.hadoop.fs.s3a.secret.key"] == MASK and conf["spark.hadoop.fs.s3a.access.key"] == MASK
    assert m["config"]["input"]["options"] == {"password": MASK}
    assert (out / "report.html").exists() and m["mlflow"]["run_id"]
    files = [p for p in d.rglob("*") if p.is_file()]
    assert d / "m.db" in files and any("mlruns" in p.parts or "artifacts" in str(p) for p in files), files
    for text, where in [(r.stdout, "stdout"), (r.stderr, "stderr"), *((p.read_bytes(), str(p)) for p in files)]:
        for secret in SECRETS:
            needle = secret if isinstance(text, str) else secret.encode()
            assert needle not in text, f"{secret} found in {where}"
    import mlflow

    run = mlflow.MlflowClient(tracking_uri=f"sqlite:///{d / 'm.db'}").get_run(m["mlflow"]["run_id"])
    assert SECRETS[0] not in run.data.params["spark.conf"] and MASK in run.data.params["spark.conf"]


def test_cli_overwrite_of_a_previous_sparkmed_output_cleans_up_dead_runs(cli):
    d, r, extra, tail = result(cli, "overwrite_previous")
    assert r.returncode == 0, tail
    out = d / "out"
    assert is_sparkmed_output(out) and (out / "metrics.json").read_bytes() != extra["previous"]
    assert json.loads((out / "metrics.json").read_text())["config"]["model"]["seed"] == 9
    assert not extra["stale"].exists() and not extra["old"].exists(), tail
    assert "removed stale staging directory" in r.stderr and "dead run" in r.stderr, tail
    assert sorted(p.name for p in d.iterdir()) == ["out"], tail
