"""Outputs on any Hadoop-compatible filesystem (``hdfs:``, ``s3a:``, ``abfss:``, ``gs:``, ``dbfs:``, ``viewfs:``
...): staged and committed through the JVM's Hadoop ``FileSystem`` API, never through ``os.*``.

The layout is that of a local output (see ``outputs``). Spark writes the model, medoids and assignments
straight into the staging directory ``<out>.tmp-<uuid>`` (a sibling, on the same filesystem). The driver's
own files (metrics.json, report, selection.json) are written into a local temporary directory and
uploaded into the staging directory at commit. Then the commit runs in one of two modes (``output.commit``):

- ``rename``, for stores whose directory rename is atomic (``ATOMIC_RENAME_SCHEMES``: HDFS, viewfs, ABFS
  with a hierarchical namespace, the local filesystem, ...). The marker goes into the staging directory,
  the old output (with ``--overwrite``) is renamed aside to ``<out>.old-<uuid>``, and the staging directory
  is renamed to ``<out>``. Readers see the old output or the new one, never a part.
- ``marker``, for object stores, where a "rename" is a copy plus a delete and a reader can see half of it
  (S3A, GCS, WASB, DBFS ...). The same renames, but the ``_SPARKMED_OUTPUT`` marker is written into
  ``<out>`` LAST, after every file is in place. An output directory without a valid marker is uncommitted:
  ``KMedoidsModel.load`` and ``sparkmed assign --model`` refuse it (``persistence.check_committed``).

In both modes the previous output survives a failure: it is only renamed aside, and it is deleted after the
new marker is written. Like a local output, the next run on the same output cleans up what a killed run
left: staging directories whose owner record (``_SPARKMED_STAGING``) names a dead process on this host, old
outputs of a finished commit, and it restores the previous output when a commit died before the new one was
in place.

There is no lock here (``flock`` has no Hadoop equivalent that every store honours): concurrent runs on one
remote output must be serialised by the scheduler. Their staging directories are distinct, and each commit
checks the target again just before it renames.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sparkmed.errors import InputError
from sparkmed.job.outputs import MARKER, OWNER, owner_alive, owner_record

log = logging.getLogger("sparkmed")

# Schemes whose directory rename is atomic (a metadata operation): the registry behind ``output.commit = auto``.
ATOMIC_RENAME_SCHEMES = frozenset({"file", "hdfs", "viewfs", "webhdfs", "swebhdfs", "abfs", "abfss", "ofs", "o3fs"})

COMMIT_MODES = ("auto", "rename", "marker")


def commit_mode(uri: str, configured: str) -> str:
    """``rename`` or ``marker`` for an output at ``uri``: ``configured`` unless it is ``auto``, then by scheme."""
    if configured != "auto":
        return configured
    scheme = uri.split(":", 1)[0].lower() if ":" in uri else "file"
    return "rename" if scheme in ATOMIC_RENAME_SCHEMES else "marker"


class HadoopFS:
    """The few Hadoop ``FileSystem`` calls the commit needs, on the filesystem of one URI (classic sessions:
    the JVM is reached through py4j; Spark Connect has no JVM in this process)."""

    def __init__(self, spark, uri: str):
        from sparkmed.ml.persistence import is_connect

        if is_connect(spark):
            raise InputError(f"output path {uri!r}: outputs on a Hadoop filesystem need a classic Spark session "
                             "(the commit uses the Hadoop FileSystem API), not Spark Connect (config key "
                             "'output.path')")
        self._jvm = spark._jvm
        self._conf = spark._jsc.hadoopConfiguration()
        self._path = self._jvm.org.apache.hadoop.fs.Path
        root = self._path(uri)
        try:
            self.fs = root.getFileSystem(self._conf)
        except Exception as exc:  # noqa: BLE001 - py4j: no FileSystem for the scheme, bad authority ...
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(f"output path {uri!r}: no usable Hadoop filesystem ({first[:300]}; config key "
                             "'output.path')") from None

    def p(self, uri: str):
        return self._path(uri)

    def qualify(self, uri: str) -> str:
        """``uri`` fully qualified (scheme, authority, absolute, ``..`` resolved) as Hadoop names it."""
        return str(self.fs.makeQualified(self.p(uri)).toString()).rstrip("/")

    def qualify_any(self, uri: str) -> str:
        """``uri`` qualified by ITS OWN filesystem (a plain path is a local one), glob components dropped."""
        from sparkmed.job.io import spark_path

        parts = spark_path(uri).rstrip("/").split("/")
        glob_at = next((i for i, part in enumerate(parts) if any(c in part for c in "*?[{")), len(parts))
        p = self.p("/".join(parts[:glob_at]) or "/")
        return str(p.getFileSystem(self._conf).makeQualified(p).toString()).rstrip("/")

    def exists(self, uri: str) -> bool:
        return bool(self.fs.exists(self.p(uri)))

    def is_dir(self, uri: str) -> bool:
        return bool(self.fs.exists(self.p(uri)) and self.fs.getFileStatus(self.p(uri)).isDirectory())

    def names(self, uri: str) -> list[str]:
        """The names of the entries directly in directory ``uri`` (sorted; [] when it does not exist)."""
        if not self.exists(uri):
            return []
        return sorted(str(s.getPath().getName()) for s in self.fs.listStatus(self.p(uri)))

    def mkdirs(self, uri: str) -> None:
        if not self.fs.mkdirs(self.p(uri)):
            raise OSError(f"cannot create directory {uri}")

    def delete(self, uri: str) -> None:
        self.fs.delete(self.p(uri), True)

    def rename(self, src: str, dst: str) -> None:
        if not self.fs.rename(self.p(src), self.p(dst)):
            raise OSError(f"rename {src} -> {dst} failed")

    def write_text(self, uri: str, text: str) -> None:
        """Create file ``uri`` (failing if it exists) holding ``text``; visible once closed."""
        stream = self.fs.create(self.p(uri), False)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()

    def read_text(self, uri: str, limit: int = 1 << 16) -> str | None:
        """The first ``limit`` bytes of file ``uri`` as text, None when it is missing or unreadable."""
        try:
            if not self.fs.isFile(self.p(uri)):
                return None
            stream = self.fs.open(self.p(uri))
            try:
                data = self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream, min(limit, self.fs.getFileStatus(
                    self.p(uri)).getLen()))
            finally:
                stream.close()
            return bytes(data).decode("utf-8")
        except Exception:  # noqa: BLE001 - a file that cannot be read is no valid record
            return None

    def upload(self, local: Path, uri: str) -> None:
        """Copy local file or directory ``local`` to ``uri`` (which must not exist)."""
        self.fs.copyFromLocalFile(False, False, self.p(local.resolve().as_uri()), self.p(uri))


def check_no_overlap(fs: HadoopFS, out: str, protected: dict[str, str], out_key: str) -> None:
    """``out`` (qualified) must not be, lie inside or contain any ``protected`` path (config key → path or URI,
    compared qualified by its own filesystem): writing there would destroy the job's own input or model."""
    for key, uri in protected.items():
        if not uri:
            continue
        try:
            p = fs.qualify_any(uri)
        except Exception:  # noqa: BLE001 - a URI no filesystem here can name cannot be this output
            continue
        if out == p:
            relation = "is"
        elif out.startswith(p + "/"):
            relation = "lies inside"
        elif p.startswith(out + "/"):
            relation = "contains"
        else:
            continue
        what = {"input.path": "input", "assign.checkpoint": "checkpoint"}.get(key, "model")
        raise InputError(f"{out_key.split('.')[-1]} path {out!r} {relation} the {what} path {uri!r} (config keys "
                         f"{out_key!r} and {key!r}): writing there would destroy the job's own {what}; choose a "
                         "directory outside it")


def read_record(fs: HadoopFS, uri: str) -> dict | None:
    """A JSON object file (marker, owner record) on the Hadoop filesystem, None when absent or not JSON."""
    text = fs.read_text(uri)
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def is_committed(fs: HadoopFS, uri: str) -> bool:
    """Whether directory ``uri`` is a committed sparkmed output: it holds a valid ``_SPARKMED_OUTPUT`` marker."""
    rec = read_record(fs, f"{uri}/{MARKER}")
    return rec is not None and rec.get("sparkmed_output") == 1


class HadoopStaging:
    """The staging directory and commit of one output on a Hadoop filesystem (see the module docstring).

    Same interface as ``outputs.Staging``: ``dir`` (local directory for the driver's files), ``spark_dir``
    (where Spark writes), ``commit()``, ``abort()``. ``protected``: config key → input/model URI that the
    output may not be, lie inside or contain (compared qualified, on this filesystem's terms).
    """

    def __init__(self, spark, uri: str, overwrite: bool, marker: dict[str, Any], mode: str = "auto",
                 protected: dict[str, str] | None = None):
        self.fs = HadoopFS(spark, uri)
        self.out = self.fs.qualify(uri)
        self.mode = commit_mode(self.out, mode)
        self.overwrite = overwrite
        self.marker = marker
        parent, _, self.name = self.out.rpartition("/")
        self.parent = parent
        self._names = re.compile(rf"{re.escape(self.name)}\.(tmp|old)-[0-9a-f]{{12}}")
        check_no_overlap(self.fs, self.out, protected or {}, "output.path")
        try:
            self._clean_leftovers()
            self._check_target(at_commit=False)
            self.spark_dir = f"{parent}/{self.name}.tmp-{uuid.uuid4().hex[:12]}"
            self.fs.mkdirs(self.spark_dir)
            self.fs.write_text(f"{self.spark_dir}/{OWNER}", json.dumps(owner_record()) + "\n")
        except InputError:
            raise
        except Exception as exc:  # noqa: BLE001 - py4j/Hadoop errors while preparing: the path is unusable
            raise InputError(f"output path {uri!r} cannot be prepared (config key 'output.path'): "
                             f"{str(exc).strip().splitlines()[0][:300] if str(exc).strip() else exc!r}") from None
        self.dir = Path(tempfile.mkdtemp(prefix="sparkmed-driver-files-"))
        log.info("output %s: commit by %s", self.out, self.mode)

    def _check_target(self, at_commit: bool) -> None:
        if not self.fs.exists(self.out):
            return
        if not self.fs.is_dir(self.out):
            raise InputError(f"output path {self.out!r} exists and is not a directory (config key 'output.path')")
        if not self.overwrite:
            raise InputError(f"output path {self.out!r} {'appeared during the run' if at_commit else 'already exists'}"
                             "; pass --overwrite (output.overwrite=true) to replace it")
        if not (is_committed(self.fs, self.out) or not self.fs.names(self.out)):
            raise InputError(f"output path {self.out!r} exists and is not a committed sparkmed output (no valid "
                             f"{MARKER} marker): --overwrite only replaces a previous sparkmed output; remove it "
                             "yourself or choose another output directory (config key 'output.path')")

    def _leftovers(self, kind: str) -> list[str]:
        return [f"{self.parent}/{n}" for n in self.fs.names(self.parent)
                if self._names.fullmatch(n) and n.split(".")[-1].startswith(kind)]

    def _clean_leftovers(self) -> None:
        """Remove dead runs' staging directories and finished commits' old outputs; restore an old output whose
        commit died before the new one was committed (then the half-written ``<out>`` is removed first)."""
        for entry in self._leftovers("tmp-"):
            rec = read_record(self.fs, f"{entry}/{OWNER}")
            alive = owner_alive(rec) if rec else None
            if alive is False:
                self.fs.delete(entry)
                log.warning("removed stale staging directory %s of a dead run", entry)
            else:
                log.warning("staging directory %s: its run may be alive (%s): left in place; remove it by hand "
                            "once no run uses it", entry, "no owner record" if rec is None else rec.get("host"))
        olds = self._leftovers("old-")
        if not olds and self.fs.exists(self.out) and not is_committed(self.fs, self.out):
            rec = read_record(self.fs, f"{self.out}/{OWNER}")
            if rec is not None and owner_alive(rec) is False:  # a first commit died in a marker-mode copy
                self.fs.delete(self.out)
                log.warning("removed %s: an uncommitted output left by a dead run", self.out)
            return
        if not olds:
            return
        if self.fs.exists(self.out) and is_committed(self.fs, self.out):
            for old in olds:
                self.fs.delete(old)
                log.warning("removed %s, the previous output of an earlier commit", old)
        elif len(olds) == 1:
            if self.fs.exists(self.out):  # a marker-mode commit died mid-copy: the new output is a fragment
                self.fs.delete(self.out)
            self.fs.rename(olds[0], self.out)
            log.warning("restored %s from %s: an earlier commit was interrupted before the new output was "
                        "committed", self.out, olds[0])
        else:
            log.warning("several earlier outputs %s next to %s: left in place; keep the one you need",
                        ", ".join(olds), self.out)

    def commit(self) -> None:
        """Upload the driver's files, then rename the staging directory into place (marker first in ``rename``
        mode, last in ``marker`` mode); the previous output is deleted only once the new one is committed."""
        for item in sorted(self.dir.iterdir()):
            self.fs.upload(item, f"{self.spark_dir}/{item.name}")
        text = json.dumps(self.marker, indent=2) + "\n"
        if self.mode == "rename":
            self.fs.delete(f"{self.spark_dir}/{OWNER}")
            self.fs.write_text(f"{self.spark_dir}/{MARKER}", text)
        old = None
        if self.fs.exists(self.out):
            self._check_target(at_commit=True)
            old = f"{self.parent}/{self.name}.old-{uuid.uuid4().hex[:12]}"
            self.fs.rename(self.out, old)
        try:
            self.fs.rename(self.spark_dir, self.out)
        except Exception:
            if old is not None and not self.fs.exists(self.out):
                self.fs.rename(old, self.out)  # put the previous good output back
            raise
        if self.mode == "marker":
            self.fs.delete(f"{self.out}/{OWNER}")  # before the marker: a kill in between leaves it uncommitted
            self.fs.write_text(f"{self.out}/{MARKER}", text)
        if old is not None:
            self.fs.delete(old)
        shutil.rmtree(self.dir, ignore_errors=True)
        log.info("output committed to %s", self.out)

    def abort(self) -> None:
        """Remove the staging directory and the local driver files (idempotent, never raises)."""
        try:
            if self.fs.exists(self.spark_dir):
                self.fs.delete(self.spark_dir)
        except Exception as exc:  # noqa: BLE001 - the session may be gone; the next run removes it
            log.warning("could not remove staging directory %s (%s): the next run on %s removes it",
                        self.spark_dir, exc, self.out)
        shutil.rmtree(self.dir, ignore_errors=True)
