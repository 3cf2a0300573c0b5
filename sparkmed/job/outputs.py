"""The output directory: written into a staging sibling and renamed into place only when complete.

Layout of a fit (``sparkmed fit``/``select-k``) output directory::

    medoids/        Parquet, k rows: cluster, medoid_id, features (array<double>), size, cost, + the medoid rows'
                    original columns (when an id column is set)
    assignments/    Parquet, one row per input row: [id], cluster, distance, [output.assignment_columns];
                    Hive-partitioned by cluster (cluster=0/, cluster=1/ ...) unless output.partitioning = none
    model/          the saved KMedoidsModel (KMedoidsModel.load)
    metrics.json    k, n, cost, mean cost, silhouette, rounds, per-phase seconds, versions, config echo
                    (secrets redacted, see ``redact``; no command line)
    report.html     + report/*.png (when matplotlib is importable)
    _SPARKMED_OUTPUT  the marker: {"sparkmed_output": 1, "version", "command", "created_at"}

Why staging + rename: a failed or killed run must leave no partial output and must not damage the previous
good output. ``<out>.tmp-<uuid>`` is a sibling (same filesystem, so the rename is atomic); with overwrite the
old directory is moved aside (``<out>.old-<uuid>``) only after the new one is complete, and deleted after the
new one is in place.

Why the marker: ``--overwrite`` replaces only a directory this job wrote (or an empty one), never a user's
data directory given as ``-o`` by mistake. Files starting with ``_`` are ignored by Spark's readers.

Why the lock: two runs committing the same output would race (``Directory not empty``, or one replacing the
other's half-moved output). ``<out>.lock`` in the parent directory is ``flock``-ed from the creation of the
staging directory through the commit; a second run does NOT wait: it fails at once (exit 2, before Spark
starts) naming the run that holds the lock. A waiting job would hold cluster resources for an unknown time
and then overwrite the output the first run just wrote. The kernel drops the lock when its holder dies
(SIGKILL included); the file is removed when the lock is released.

Why the owner record: a SIGKILLed run cannot remove its staging directory. Each staging directory holds
``_SPARKMED_STAGING`` (pid, host, boot id, process start time); the next run on the same output, holding the
lock, removes the staging directories whose owner is dead on this host (logging a warning), and reports
those it cannot judge (another host, no readable record) without touching them. It also removes
``<out>.old-*`` left by a commit killed while deleting the previous output, or, when the commit was killed
between its two renames (no ``<out>``), renames the previous output back into place.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import shutil
import socket
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sparkmed.errors import InputError

log = logging.getLogger("sparkmed")

MARKER = "_SPARKMED_OUTPUT"
OWNER = "_SPARKMED_STAGING"


def output_marker(command: str) -> dict[str, Any]:
    """The content of the ``_SPARKMED_OUTPUT`` marker of a ``command`` output (no paths, no config)."""
    import sparkmed

    return {"sparkmed_output": 1, "version": sparkmed.__version__, "command": command,
            "created_at": datetime.now(UTC).isoformat()}


def is_sparkmed_output(path: Path) -> bool:
    """Whether ``path`` is a directory holding a valid ``_SPARKMED_OUTPUT`` marker (a regular file, JSON)."""
    marker = path / MARKER
    if not path.is_dir() or marker.is_symlink() or not marker.is_file():
        return False
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(data, dict) and data.get("sparkmed_output") == 1


def is_replaceable(path: Path) -> bool:
    """What ``--overwrite`` may replace: a previous sparkmed output, or an empty directory (nothing to lose)."""
    if is_sparkmed_output(path):
        return True
    try:
        return path.is_dir() and not path.is_symlink() and not any(path.iterdir())
    except OSError:
        return False


# ------------------------------------------------------------------------------------------ run identity


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:
        return None


def _process_start(pid: int) -> int | None:
    """The start time of process ``pid`` in clock ticks since boot (Linux ``/proc``), None when unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])  # field 22; fields 1-2 end with the ')' of the name
    except (OSError, IndexError, ValueError):
        return None


def owner_record() -> dict[str, Any]:
    """Who owns a staging directory or the lock: this process, identified well enough to tell it is dead."""
    pid = os.getpid()
    return {"pid": pid, "host": socket.gethostname(), "boot_id": _boot_id(), "process_start": _process_start(pid),
            "started_at": datetime.now(UTC).isoformat()}


def owner_alive(rec: dict[str, Any]) -> bool | None:
    """True/False whether the process of an owner record still runs; None when that cannot be told here
    (another host, no usable pid, no way to probe)."""
    pid = rec.get("pid")
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or rec.get("host") != socket.gethostname():
        return None
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return None
    boot = _boot_id()
    if rec.get("boot_id") and boot and rec["boot_id"] != boot:
        return False  # the machine rebooted since
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, another user's
    except OSError:
        return None
    started, now = rec.get("process_start"), _process_start(pid)
    reused = isinstance(started, int) and now is not None and now != started  # a later process got the pid
    return not reused


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _describe(rec: dict | None) -> str:
    if not rec:
        return "owner unknown"
    return f"pid {rec.get('pid')} on host {rec.get('host')!r}, started {rec.get('started_at')}"


# ---------------------------------------------------------------------------------------------- the lock


class OutputLock:
    """An exclusive, non-blocking ``flock`` on ``<out>.lock`` in the output's parent directory.

    ``acquire`` raises InputError when another process holds it. The file is removed (while still locked)
    on ``release``; a run that opened the old file meanwhile sees that the path no longer names the file it
    locked and retries on the new one, so two runs never both believe they hold the lock. Without ``fcntl``
    (Windows) there is no lock and a warning says so.
    """

    def __init__(self, out: Path):
        self.out = out
        self.path = out.parent / f"{out.name}.lock"
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:
            log.warning("no fcntl on this platform: concurrent runs on %s are not prevented", self.out)
            return
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_json(self.path)
                os.close(fd)
                raise InputError(f"output path {str(self.out)!r} is in use: another sparkmed run holds its lock "
                                 f"({_describe(holder)}; lock file {str(self.path)!r}); wait for that run to "
                                 "finish or choose another output directory") from None
            except BaseException:
                os.close(fd)
                raise
            try:
                st = os.stat(self.path)
                same = (st.st_ino, st.st_dev) == (os.fstat(fd).st_ino, os.fstat(fd).st_dev)
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the previous holder removed the file between our open and flock: lock the new one
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps(owner_record()).encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        import fcntl

        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None


# ------------------------------------------------------------------------------------------- the staging


class Staging:
    """A ``<out>.tmp-<uuid>`` directory next to ``out``; ``commit()`` renames it into place, ``abort()`` removes it.

    Holds the output's lock from creation until ``commit`` or ``abort``, and cleans up what dead runs left
    (see the module docstring) once it holds it. ``marker``: the ``_SPARKMED_OUTPUT`` content written into
    the output at commit (the job always gives one); with a marker, an existing output is replaced only when
    ``is_replaceable`` (checked again at commit, under the lock). Filesystem errors while preparing the
    staging directory (``-o /proc/x``) are InputError naming the path (exit 2, before Spark starts).
    """

    def __init__(self, out: Path, overwrite: bool, marker: dict[str, Any] | None = None):
        self.out = out
        self.overwrite = overwrite
        self.marker = marker
        self.lock = OutputLock(out)
        self._names = re.compile(rf"{re.escape(out.name)}\.(tmp|old)-[0-9a-f]{{12}}")
        try:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self.lock.acquire()
            try:
                self._clean_leftovers()
                self._check_target()
                self.dir = out.parent / f"{out.name}.tmp-{uuid.uuid4().hex[:12]}"
                self.dir.mkdir()
                part = self.dir / f"{OWNER}.part"  # written then renamed: never a half-written record
                part.write_text(json.dumps(owner_record()) + "\n", encoding="utf-8")
                os.replace(part, self.dir / OWNER)
            except BaseException:
                if getattr(self, "dir", None) is not None:
                    shutil.rmtree(self.dir, ignore_errors=True)
                self.lock.release()
                raise
        except OSError as e:
            where = e.filename or out
            raise InputError(f"output path {str(out)!r} cannot be prepared (config key 'output.path'): "
                             f"{e.strerror or e} ({where})") from None

    @property
    def spark_dir(self) -> str:
        """Where Spark writes (the same local staging directory as ``dir``; see ``hadoop_outputs`` for others)."""
        return str(self.dir)

    def _check_target(self) -> None:
        """The rules of ``io.check_output_path``, again under the lock (a restored or new output may be there)."""
        if not self.out.exists():
            return
        if not self.overwrite:
            raise InputError(f"output path {str(self.out)!r} already exists; pass --overwrite "
                             "(output.overwrite=true) to replace it")
        if self.marker is not None and not is_replaceable(self.out):
            raise InputError(f"output path {str(self.out)!r} exists and is not a sparkmed output (no {MARKER} "
                             "marker): --overwrite only replaces a previous sparkmed output")

    def _leftovers(self, kind: str) -> list[Path]:
        try:
            entries = sorted(self.out.parent.iterdir())
        except OSError:
            return []
        return [e for e in entries if self._names.fullmatch(e.name) and e.name.split(".")[-1].startswith(kind)
                and e.is_dir() and not e.is_symlink()]

    def _clean_leftovers(self) -> None:
        """Remove dead runs' staging directories and finished commits' old outputs; restore an old output
        whose commit was interrupted between its two renames. Runs under the lock."""
        for entry in self._leftovers("tmp-"):
            rec = _read_json(entry / OWNER)
            if rec is None:
                try:
                    names = {p.name for p in entry.iterdir()}
                except OSError:
                    names = {"?"}
                if names <= {OWNER, f"{OWNER}.part"}:  # killed while creating it: nothing inside to lose
                    shutil.rmtree(entry, ignore_errors=True)
                    log.warning("removed empty staging directory %s left by a killed run", entry)
                else:
                    log.warning("staging directory %s has no readable owner record: left in place; remove it by "
                                "hand once no run uses it", entry)
                continue
            alive = owner_alive(rec)
            if alive is False:
                shutil.rmtree(entry, ignore_errors=True)
                log.warning("removed stale staging directory %s of a dead run (%s)", entry, _describe(rec))
            elif alive is None:
                log.warning("cannot tell whether the run owning staging directory %s (%s) is alive: left in "
                            "place; remove it by hand once that run is gone", entry, _describe(rec))
            else:
                log.warning("staging directory %s belongs to a running process (%s) that does not hold the "
                            "output lock: left in place", entry, _describe(rec))
        olds = self._leftovers("old-")
        if not olds:
            return
        if self.out.exists():  # a commit finished its renames but was killed while deleting the old output
            for old in olds:
                shutil.rmtree(old, ignore_errors=True)
                log.warning("removed %s, the previous output of an earlier commit", old)
        elif len(olds) == 1:  # killed between moving the old output aside and moving the new one in
            os.rename(olds[0], self.out)
            log.warning("restored %s from %s: an earlier commit was interrupted before the new output was in "
                        "place", self.out, olds[0])
        else:
            log.warning("no output at %s but several earlier outputs %s: left in place; keep the one you need",
                        self.out, ", ".join(str(o) for o in olds))

    def commit(self) -> None:
        """Move the finished staging directory to ``out`` (replacing an old one only if ``overwrite`` and, with a
        marker, only a previous sparkmed output), then release the lock. On failure the caller aborts."""
        if self.marker is not None:
            write_json(self.dir / MARKER, self.marker)
        old = None
        if self.out.exists() or self.out.is_symlink():
            self._check_target_at_commit()
            old = self.out.parent / f"{self.out.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(self.out, old)
        try:
            os.rename(self.dir, self.out)
        except OSError:
            if old is not None:
                os.rename(old, self.out)  # put the previous good output back
            raise
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.out / OWNER)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self.lock.release()
        log.info("output committed to %s", self.out)

    def _check_target_at_commit(self) -> None:
        if not self.overwrite:  # someone created it while we ran
            raise InputError(f"output path {str(self.out)!r} appeared during the run; not overwriting it")
        if self.marker is not None and not is_replaceable(self.out):
            raise InputError(f"output path {str(self.out)!r} was replaced during the run by a directory that is "
                             f"not a sparkmed output (no {MARKER} marker); not overwriting it")

    def abort(self) -> None:
        """Remove the staging directory and release the lock (idempotent)."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.lock.release()


def _json_default(o: Any) -> Any:
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(o)
    return str(o)


def _clean(o: Any) -> Any:
    """NaN/inf are not JSON: write them as null."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    return o


def write_json(path: Path, data: dict) -> None:
    """``data`` as indented JSON (numpy values converted, NaN/inf as null). Redact before calling it."""
    path.write_text(json_text(data), encoding="utf-8")


def assignments_frame(model, df, id_col: str | None, extra_cols: list[str]):
    """id, cluster, distance (+ extra columns) for every row: the model's transform, lazily."""
    from pyspark.sql import functions as F

    from sparkmed.data.columns import col

    model = model.copy({model.predictionCol: "_sm_cluster", model.distanceCol: "_sm_distance"})
    cols = ([col(id_col)] if id_col else []) + [F.col("_sm_cluster").alias("cluster"),
                                                  F.col("_sm_distance").alias("distance")]
    cols += [col(c) for c in extra_cols if c != id_col]
    return model.transform(df).select(*cols)


def partitioned_by_cluster(partitioning: str, k: int) -> bool:
    """Whether assignments/ gets one directory per cluster (``output.partitioning``; auto: only for k <= 64)."""
    return partitioning == "cluster" or (partitioning == "auto" and k <= 64)


def json_text(data: dict) -> str:
    """``data`` as the indented JSON of metrics.json (numpy values converted, NaN/inf as null)."""
    return json.dumps(_clean(json.loads(json.dumps(data, default=_json_default))), indent=2, sort_keys=False) + "\n"


def write_assignments(frame, path: str, n_rows: int, k: int, partitioning: str, rows_per_file: int) -> dict:
    """Write assignments as Parquet; returns how (files, partitioning) for metrics.json.

    ``repartition(files)`` is a round-robin shuffle of the narrow (id, cluster, distance) rows: it decouples the
    number of output files from the input's partitioning and keeps the assignment UDF running on every input
    partition in parallel (``coalesce`` would serialise it). By-cluster directories let readers prune to one
    cluster; with many clusters they would mean many tiny files, hence ``auto`` = by cluster only for k <= 64.
    """
    files = max(1, math.ceil(n_rows / rows_per_file))
    by_cluster = partitioned_by_cluster(partitioning, k)
    writer = frame.repartition(files).write.mode("error")
    if by_cluster:
        writer = writer.partitionBy("cluster")
    writer.parquet(path)
    return {"tasks": files, "partitioned_by": "cluster" if by_cluster else None}


def medoids_frame(spark, model, df, id_col: str | None):
    """k rows: cluster, medoid_id, features, size, cost, plus the medoid rows' original columns when ids exist."""
    import pandas as pd
    from pyspark.sql import types as T

    from sparkmed.data.columns import col

    s = model.summary if model.hasSummary else None
    med = model.medoids()
    ids = model.medoidIds()
    k = len(med)
    pdf = pd.DataFrame({
        "cluster": list(range(k)),
        "medoid_id": [str(i) if i is not None else None for i in (ids or [None] * k)],
        "features": [list(map(float, row)) for row in med],
        "size": [float(v) for v in s.clusterSizes] if s else [None] * k,
        "cost": [float(v) for v in s.clusterCosts] if s else [None] * k,
    })
    schema = T.StructType([
        T.StructField("cluster", T.IntegerType(), False),
        T.StructField("medoid_id", T.StringType(), True),
        T.StructField("features", T.ArrayType(T.DoubleType()), False),
        T.StructField("size", T.DoubleType(), True),
        T.StructField("cost", T.DoubleType(), True),
    ])
    table = spark.createDataFrame(pdf, schema=schema)
    # The medoids' original rows (one pass, k rows); clashing names get an input_ prefix.
    rows = model.medoidRows(df, clusterCol="_sm_cluster").dropDuplicates(["_sm_cluster"])
    rows = rows.select("_sm_cluster",
                       *[col(c).alias(f"input_{c}" if c in table.columns else c) for c in df.columns])
    return (table.join(rows, table["cluster"] == rows["_sm_cluster"], "left").drop("_sm_cluster")
            .orderBy("cluster"))
