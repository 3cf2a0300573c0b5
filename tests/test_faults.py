"""Executor loss during a fit: kill -9 one executor JVM mid-fit; the fit must finish with the same result.

The fit runs in a subprocess (``tests/fault_driver.py``) on ``local-cluster[2,1,1024]`` (two real executor
JVMs; the pytest process already hosts the ``local[2]`` session of the ``spark`` fixture and cannot host a
second SparkContext). The driver fits the same seeded data twice in one application: fit 1 undisturbed,
and during fit 2 this test finds one executor of THIS application (``CoarseGrainedExecutorBackend`` with its
``--app-id``) and ``kill -9``s it right after the fit packed (and cached) the data into blocks — so cached
blocks and running round-1 tasks are lost and must be recomputed from lineage on the surviving or the
replacement executor. Sampling keyed by row hashes and partition-ordered sums make the result independent
of which executor ran what, so fit 2 must return exactly fit 1's medoids and cost.

The same test on a standalone cluster (master + 2 workers from ``scripts/cluster_up.sh``) is marked
``cluster`` and ``slow`` (a cluster start adds ~30 s and a second application start to the 70 s above).

Determinism across deployment modes: the undisturbed fit of either cluster must also equal a classic
``local[2]`` fit of the same data and seed in this process (the data is a pure JVM function of the row id,
``fault_driver.generated_blobs``, so this process generates it too): identical medoid ids and keys, cost
equal to 1e-9 relative. The reference fit runs once per module, after the first cluster test's driver ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DRIVER = HERE / "fault_driver.py"

#: The fit the driver runs on the cluster and this process runs on local[2] (same data, same seed).
FAULT_FIT = {"rows": 300_000, "dim": 4, "k": 6, "partitions": 8, "seed": 17}
SESSION_TIMEOUT_S = 120  # local-cluster needs ~30 s to a session on this machine
FIT_TIMEOUT_S = 240  # one fit of 300k rows: 20-40 s undisturbed, ~100 s on a heavily loaded machine


class DriverProcess:
    """The fault driver subprocess, its tagged stdout lines on a queue, and a kill of its whole tree."""

    def __init__(self, args: list[str], stderr_path: Path) -> None:
        env = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1", PYSPARK_PYTHON=sys.executable,
                   PYSPARK_DRIVER_PYTHON=sys.executable, PYTHONUNBUFFERED="1")
        self.stderr_file = open(stderr_path, "w")  # noqa: SIM115 - closed in stop()
        self.stderr_path = stderr_path
        # A new session: the driver, its JVM, the in-JVM workers' executor JVMs and their Python workers
        # share one process group, which stop() kills as a whole.
        self.proc = subprocess.Popen(
            [sys.executable, str(DRIVER), *args], stdout=subprocess.PIPE, stderr=self.stderr_file,
            text=True, env=env, cwd=str(HERE.parent), start_new_session=True,
        )
        self.lines: queue.Queue[tuple[float, str | None]] = queue.Queue()
        self.transcript: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))
        self.lines.put((time.monotonic(), None))

    def next_tagged(self, tags: tuple[str, ...], deadline: float, where: str) -> tuple[float, str, dict]:
        """The next stdout line starting with one of ``tags`` before ``deadline``: (time, tag, JSON payload)."""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"timed out waiting for {'/'.join(tags)} ({where}); {self.tail()}")
            try:
                at, line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"driver exited (code {self.proc.poll()}) before {'/'.join(tags)} ({where}); "
                            f"{self.tail()}")
            self.transcript.append(line)
            for tag in tags:
                if line.startswith(tag + " "):
                    return at, tag, json.loads(line[len(tag) + 1:])

    def tail(self) -> str:
        self.stderr_file.flush()
        err = self.stderr_path.read_text(errors="replace").splitlines()[-30:]
        return "stdout:\n" + "\n".join(self.transcript[-20:]) + "\nstderr tail:\n" + "\n".join(err)

    def stop(self) -> None:
        """Kill the whole process group (driver, JVMs, Python workers) and reap the driver."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout=30)
        finally:
            self.stderr_file.close()


def executor_pids(app_id: str) -> dict[str, int]:
    """Executor id → PID of every live ``CoarseGrainedExecutorBackend`` JVM of application ``app_id``.

    Reads ``/proc/*/cmdline``; other applications' executors (other tests, other engineers) are ignored.
    """
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv]
        if "org.apache.spark.executor.CoarseGrainedExecutorBackend" not in args:
            continue
        opts = dict(zip(args, args[1:], strict=False))
        if opts.get("--app-id") == app_id and "--executor-id" in opts:
            found[opts["--executor-id"]] = int(entry.name)
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` still exists as a non-zombie process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def kill_one_executor_during_second_fit(master: str, stderr_path: Path, capsys) -> dict:
    """Fit twice on ``master``; kill -9 one executor right after fit 2 packed the data; compare the fits.

    Returns fit 1's (undisturbed) result, for the comparison with the classic local fit."""
    f = FAULT_FIT
    driver = DriverProcess(
        ["--master", master, "--rows", str(f["rows"]), "--dim", str(f["dim"]), "--k", str(f["k"]),
         "--partitions", str(f["partitions"]), "--seed", str(f["seed"]), "--fits", "2"],
        stderr_path,
    )
    try:
        _, _, app = driver.next_tagged(("SPARKMED_APP",), time.monotonic() + SESSION_TIMEOUT_S, "session start")
        app_id = app["app_id"]

        _, _, undisturbed = driver.next_tagged(("SPARKMED_RESULT",), time.monotonic() + FIT_TIMEOUT_S, "fit 1")
        assert undisturbed["fit"] == 1

        # Fit 2: wait until the data are packed and cached on the executors, then kill one executor.
        deadline = time.monotonic() + FIT_TIMEOUT_S
        while True:
            _, _, msg = driver.next_tagged(("SPARKMED_PROGRESS",), deadline, "fit 2 pack phase")
            if msg["fit"] == 2 and msg["message"].startswith("phase validate+pack done"):
                break
        pids = executor_pids(app_id)
        assert len(pids) == 2, f"expected 2 executors of {app_id}, found {pids}"
        victim_id = min(pids, key=int)
        victim_pid = pids[victim_id]
        os.kill(victim_pid, signal.SIGKILL)
        killed_at = time.monotonic()

        after_kill: list[str] = []
        deadline = killed_at + FIT_TIMEOUT_S
        while True:  # fit 2's remaining progress lines, then its result
            at, tag, payload = driver.next_tagged(
                ("SPARKMED_PROGRESS", "SPARKMED_RESULT"), deadline, "fit 2 after the kill"
            )
            if tag == "SPARKMED_RESULT":
                finished_at, disturbed = at, payload
                break
            after_kill.append(f"+{at - killed_at:.1f} s {payload['message']}")

        assert not alive(victim_pid), f"executor {victim_id} (pid {victim_pid}) survived kill -9"
        assert disturbed["fit"] == 2
        # The driver noticed the loss before the fit ended: the killed executor is gone from its list.
        assert victim_id not in disturbed["executors"], disturbed["executors"]
        assert disturbed["medoid_ids"] == undisturbed["medoid_ids"]
        assert disturbed["medoid_keys"] == undisturbed["medoid_keys"]
        assert disturbed["cost"] == pytest.approx(undisturbed["cost"], rel=1e-9)

        driver.stderr_file.flush()
        lost_logged = f"Lost executor {victim_id}" in driver.stderr_path.read_text(errors="replace")
        with capsys.disabled():
            print(
                f"\n[fault] {master}, app {app_id}: killed executor {victim_id} (pid {victim_pid}) right after "
                f"'phase validate+pack done' of fit 2; fit 2 finished {finished_at - killed_at:.1f} s after the kill "
                f"({disturbed['seconds']:.1f} s in all vs {undisturbed['seconds']:.1f} s for fit 1, which "
                f"includes compiling); executors at the end: {disturbed['executors']}; driver logged the "
                f"loss: {lost_logged}; medoid ids {disturbed['medoid_ids']} equal; cost "
                f"{disturbed['cost']!r} vs {undisturbed['cost']!r}\n[fault] after the kill: "
                + "; ".join(after_kill)
            )
    finally:
        driver.stop()
    return undisturbed


@pytest.fixture(scope="module")
def classic_reference(spark):
    """A callable giving the classic ``local[2]`` fit of ``FAULT_FIT`` in this process (computed once, when
    first called: after a cluster test's driver has ended, so it does not slow the fault run down)."""
    sys.path.insert(0, str(HERE))
    from fault_driver import generated_blobs

    from sparkmed import KMedoids

    cache: dict[str, dict] = {}

    def reference() -> dict:
        if "fit" not in cache:
            f = FAULT_FIT
            df = generated_blobs(spark, f["rows"], f["dim"], f["k"], f["partitions"], f["seed"])
            t0 = time.perf_counter()
            model = KMedoids(k=f["k"], seed=f["seed"], idCol="id", sampleSize=0).fit(df)
            cache["fit"] = {
                "medoid_ids": [int(v) for v in model.medoidIds()],
                "medoid_keys": [int(v) for v in model.medoidKeys()],
                "cost": float(model.summary.trainingCost),
                "seconds": time.perf_counter() - t0,
            }
        return cache["fit"]

    return reference


def assert_equals_classic(cluster: dict, classic: dict, master: str, capsys) -> None:
    """The cluster's undisturbed fit is the classic local[2] fit: same medoid ids and keys, cost to 1e-9."""
    assert cluster["medoid_ids"] == classic["medoid_ids"], (master, cluster["medoid_ids"], classic["medoid_ids"])
    assert cluster["medoid_keys"] == classic["medoid_keys"], master
    assert cluster["cost"] == pytest.approx(classic["cost"], rel=1e-9), (master, cluster["cost"], classic["cost"])
    with capsys.disabled():
        print(f"\n[determinism] {master} vs classic local[2] ({classic['seconds']:.1f} s): medoid ids "
              f"{classic['medoid_ids']} equal; cost {cluster['cost']!r} vs {classic['cost']!r}")



def test_executor_killed_mid_fit_gives_identical_result(tmp_path, capsys, classic_reference):
    """local-cluster[2,1,1024]: two executor JVMs started by the driver JVM's in-process workers; the
    undisturbed fit also equals the classic local[2] fit."""
    master = "local-cluster[2,1,1024]"
    undisturbed = kill_one_executor_during_second_fit(master, tmp_path / "driver.stderr", capsys)
    assert_equals_classic(undisturbed, classic_reference(), master, capsys)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.cluster
@pytest.mark.slow
def test_executor_killed_mid_fit_on_standalone_cluster(tmp_path, capsys, classic_reference):
    """The same on a real standalone cluster (``scripts/cluster_up.sh``: master + 2 workers of 1 core).

    Own state dir and free ports, so it cannot touch another cluster on this machine; stopped with
    ``scripts/cluster_down.sh``, which stops exactly the PIDs this start recorded.
    """
    up, down = ROOT / "scripts" / "cluster_up.sh", ROOT / "scripts" / "cluster_down.sh"
    if not (up.exists() and down.exists()):
        pytest.skip("scripts/cluster_up.sh / cluster_down.sh are not there")
    port = _free_port()
    env = dict(os.environ, CLUSTER_STATE=str(tmp_path / "cluster"), MASTER_PORT=str(port),
               MASTER_WEBUI_PORT=str(_free_port()), WORKERS="2", WORKER_CORES="1", WORKER_MEMORY="2g",
               CLUSTER_WAIT="120", PYTHON=sys.executable)
    try:
        started = subprocess.run(["bash", str(up)], env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, started.stdout + started.stderr
        master = f"spark://127.0.0.1:{port}"
        undisturbed = kill_one_executor_during_second_fit(master, tmp_path / "driver.stderr", capsys)
    finally:
        subprocess.run(["bash", str(down)], env=env, capture_output=True, text=True, timeout=120)
    assert_equals_classic(undisturbed, classic_reference(), "standalone cluster", capsys)
