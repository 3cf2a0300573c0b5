"""Saving and loading sparkmed Estimators and Models: Spark-ML-style metadata JSON + Parquet, never pickle.

Layout of a saved path (the same as Spark ML's own models, so ``PipelineModel`` can hold a sparkmed stage):

- ``metadata/``  one text file with one JSON line: ``class``, ``uid``, ``sparkVersion``, ``timestamp``,
  ``paramMap``, ``defaultParamMap`` (as written by ``DefaultParamsWriter``) plus ``sparkmed`` (format
  version, sparkmed version, k, dimension, metric, and the training summary's numbers);
- ``data/``      (models only) Parquet, one row per medoid: ``cluster`` int, ``key`` long (row key),
  ``id`` string (the ``idCol`` value or null), ``features`` array<double>.

Why not ``DefaultParamsWriter``: its overwrite path calls ``_jsparkSession``, which does not exist under
Spark Connect. This writer deletes an existing path through the JVM in classic mode and through the ML
Connect helper under Connect, and writes everything with plain DataFrame writes, so save/load work the
same in both modes. Reading validates everything and raises :class:`sparkmed.errors.InputError` naming
the path and what is wrong (missing, foreign class, corrupted JSON, missing or inconsistent data).

Reading never imports, unpickles or evaluates anything the files name: the ``class`` field is compared as
a string with the class being loaded, the Parquet schema is checked before any row is collected (and at
most k + 1 rows are), and the model's own fields are checked by ``sparkmed.ml.model_fields``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
from pyspark.ml.util import DefaultParamsReader, DefaultParamsWriter, MLReadable, MLReader, MLWritable, MLWriter
from pyspark.sql import SparkSession

from sparkmed.errors import InputError

FORMAT_VERSION = 1
MEDOID_DATA_SCHEMA = "cluster int, key long, id string, features array<double>"


def is_connect(session: Any) -> bool:
    """Whether ``session`` is a Spark Connect session (no JVM, no SparkContext in this process)."""
    return type(session).__module__.startswith("pyspark.sql.connect")


def path_exists(session: SparkSession, path: str) -> bool:
    """Whether ``path`` exists on Spark's file system: the Hadoop FileSystem in classic mode, a listing
    through Spark itself under Connect (which logs a warning on the server for a missing path)."""
    from pyspark.errors import AnalysisException

    if not is_connect(session):
        jvm = session._jvm
        hpath = jvm.org.apache.hadoop.fs.Path(path)
        return bool(hpath.getFileSystem(session._jsc.hadoopConfiguration()).exists(hpath))

    try:
        session.read.format("binaryFile").option("recursiveFileLookup", "true").load(path).schema  # noqa: B018
    except AnalysisException as exc:
        if "PATH_NOT_FOUND" in str(exc) or "Path does not exist" in str(exc):
            return False
        raise
    return True


def delete_path(session: SparkSession, path: str) -> None:
    """Recursively delete ``path`` the way Spark ML's ``overwrite()`` does, in classic and Connect mode."""
    if is_connect(session):
        try:  # pyspark >= 4.0; a 3.5 Connect client has no way to delete a path through the server
            from pyspark.ml.connect.readwrite import RemoteMLWriter
        except ImportError:
            raise InputError(f"write().overwrite() of {path!r} through Spark Connect needs pyspark >= 4.0: remove "
                             "the old model first, or save it to a new path") from None
        RemoteMLWriter.handleOverwrite(path, True)
        return
    from pyspark.ml.wrapper import JavaWrapper

    helper = JavaWrapper._create_from_java_class("org.apache.spark.ml.util.FileSystemOverwrite")
    helper._call_java("handleOverwrite", path, True, session._jsparkSession)


class SparkmedWriter(MLWriter):
    """Writes one sparkmed Params instance: metadata JSON, and for models the medoids as Parquet."""

    def __init__(self, instance: Any) -> None:
        super().__init__()
        self.instance = instance

    def save(self, path: str) -> None:
        """Save to ``path``; an existing path is an error unless ``overwrite()`` was called."""
        if not isinstance(path, str) or not path:
            raise InputError(f"model path must be a non-empty string, got {path!r}")
        session = self.sparkSession
        if self.shouldOverwrite:
            delete_path(session, path)
        elif path_exists(session, path):
            raise InputError(f"path '{path}' already exists; use write().overwrite().save(path) to replace it")
        self.saveImpl(path)

    def saveImpl(self, path: str) -> None:
        session = self.sparkSession
        extra = {"sparkmed": {"formatVersion": FORMAT_VERSION, **self.instance._persisted_metadata()}}
        meta = DefaultParamsWriter._get_metadata_to_save(self.instance, session, extraMetadata=extra)
        meta = json.dumps({**json.loads(meta), "class": saved_class_name(type(self.instance))}, separators=(",", ":"))
        session.createDataFrame([(meta,)], "value string").coalesce(1).write.text(os.path.join(path, "metadata"))
        rows = self.instance._persisted_rows()
        if rows is not None:
            session.createDataFrame(rows, MEDOID_DATA_SCHEMA).coalesce(1).write.parquet(os.path.join(path, "data"))


# Where each class lived before the package layout (sparkmed.estimator, ...): saves of earlier versions name it.
_EARLIER_MODULES = ("sparkmed.estimator", "sparkmed.evaluation")


def saved_class_name(cls: type) -> str:
    """The ``class`` field written for ``cls``: its public name ``sparkmed.<Name>``, which stays the same when
    modules move (and which pyspark's Pipeline loader resolves through ``sparkmed``'s lazy exports)."""
    return f"sparkmed.{cls.__name__}"


def accepted_class_names(cls: type) -> tuple[str, ...]:
    """The ``class`` fields a load of ``cls`` accepts, compared as strings (never imported): the public name,
    the module path of this version, and the module paths of earlier versions."""
    return (saved_class_name(cls), f"{cls.__module__}.{cls.__name__}",
            *(f"{m}.{cls.__name__}" for m in _EARLIER_MODULES))


def read_metadata(session: SparkSession, path: str, expected_class: type) -> dict:
    """The metadata JSON of a saved sparkmed instance, checked to be of ``expected_class``."""
    from pyspark.errors import AnalysisException

    if not isinstance(path, str) or not path:
        raise InputError(f"model path must be a non-empty string, got {path!r}")
    try:
        lines = session.read.text(os.path.join(path, "metadata")).limit(2).collect()
    except AnalysisException as exc:
        raise InputError(f"no saved sparkmed model at '{path}': {str(exc).splitlines()[0]}") from None
    if not lines:
        raise InputError(f"'{path}/metadata' is empty: not a saved model (corrupted or partial save?)")
    try:
        meta = json.loads(lines[0][0])
    except json.JSONDecodeError as exc:
        raise InputError(f"'{path}/metadata' is not valid JSON (corrupted?): {exc}") from None
    want = saved_class_name(expected_class)
    if not isinstance(meta, dict) or "class" not in meta:
        raise InputError(f"'{path}/metadata' has no 'class' field: not a Spark ML / sparkmed save")
    if meta["class"] not in accepted_class_names(expected_class):
        raise InputError(f"'{path}' holds a {meta['class']}, not a {want}")
    info = meta.get("sparkmed")
    if not isinstance(info, dict) or info.get("formatVersion") != FORMAT_VERSION:
        raise InputError(
            f"'{path}' has sparkmed format {None if not isinstance(info, dict) else info.get('formatVersion')}, "
            f"this sparkmed reads format {FORMAT_VERSION}"
        )
    for field, kind in (("uid", str), ("paramMap", dict), ("defaultParamMap", dict), ("sparkVersion", str)):
        if field not in meta:
            raise InputError(f"'{path}/metadata' lacks the '{field}' field (corrupted?)")
        if not isinstance(meta[field], kind):
            raise InputError(f"'{path}/metadata': field '{field}' must be a {kind.__name__}, got {meta[field]!r:.200}")
    return meta


_DATA_TYPES = {"cluster": ("int", "bigint", "smallint", "tinyint"), "key": ("bigint",), "id": ("string",),
               "features": ("array<double>",)}


def read_medoid_rows(session: SparkSession, path: str, k: int, dim: int) -> tuple[np.ndarray, np.ndarray, list]:
    """(features k × dim, keys (k,), ids) of a saved model, checked against its metadata.

    The schema is checked first, and at most k + 1 rows are collected, so a crafted data directory cannot
    make the driver read more than the metadata (already range-checked) announces.
    """
    from pyspark.errors import AnalysisException

    where = f"saved model '{path}'"
    try:
        data = session.read.parquet(os.path.join(path, "data"))
        types = {f.name: f.dataType.simpleString() for f in data.schema.fields}
    except AnalysisException as exc:
        raise InputError(f"{where} has no readable medoid data: {str(exc).splitlines()[0]}") from None
    for name, allowed in _DATA_TYPES.items():
        if types.get(name) not in allowed:
            raise InputError(f"{where}: medoid data column '{name}' has type {types.get(name)}, expected "
                             f"{allowed[0]}")
    rows = data.select(*_DATA_TYPES).limit(k + 1).collect()
    clusters = sorted(r["cluster"] for r in rows if r["cluster"] is not None)
    if len(rows) != k or clusters != list(range(k)):
        raise InputError(f"{where}: medoid data has {len(rows)} row(s) with clusters {clusters[:20]}, "
                         f"metadata says k={k}")
    rows = sorted(rows, key=lambda r: r["cluster"])
    x = [r["features"] for r in rows]
    if any(v is None or len(v) != dim or any(e is None for e in v) for v in x):
        raise InputError(f"{where}: field 'features' of a medoid is missing, has nulls or is not of "
                         f"the dimension {dim} that field 'sparkmed.dim' says")
    xs = np.array(x, dtype=np.float64).reshape(k, dim)
    if not np.isfinite(xs).all():
        raise InputError(f"{where}: medoid features contain NaN or infinity")
    keys = [r["key"] for r in rows]
    if any(key is None for key in keys) or len(set(keys)) != k:
        raise InputError(f"{where}: field 'key' of the medoids must be {k} distinct non-null row keys")
    return xs, np.array(keys, dtype=np.int64), [r["id"] for r in rows]


def check_committed(session: SparkSession, path: str) -> None:
    """Refuse the ``model/`` of a sparkmed job output that was never committed: a staging directory (its owner
    record ``_SPARKMED_STAGING`` is there) or an output without its ``_SPARKMED_OUTPUT`` marker, which on object
    stores is written last (``sparkmed.job.hadoop_outputs``). A model saved anywhere else is not affected."""
    from sparkmed.job.outputs import MARKER, OWNER

    parent, _, name = path.rstrip("/").rpartition("/")
    if name != "model" or not parent or path_exists(session, f"{parent}/{MARKER}"):
        return
    if path_exists(session, f"{parent}/{OWNER}") or path_exists(session, f"{parent}/medoids"):
        raise InputError(f"'{path}' belongs to a sparkmed output that was not committed (no {MARKER} marker in "
                         f"'{parent}': the run that wrote it failed, was killed or is still running); use a "
                         "committed output")


class SparkmedReader(MLReader):
    """Reads what :class:`SparkmedWriter` wrote back into an instance of ``cls``.

    ``custom_metrics``: name → ``numba.njit`` function for models saved with a custom metric (see
    ``sparkmed.kernels.custom``); the process-wide ``register_metric`` registry is consulted too.
    """

    def __init__(self, cls: type, custom_metrics: dict | None = None) -> None:
        super().__init__()
        self.cls = cls
        self.custom_metrics = dict(custom_metrics or {})

    def load(self, path: str) -> Any:
        session = self.sparkSession
        if isinstance(path, str):
            check_committed(session, path)
        meta = read_metadata(session, path, self.cls)
        instance = self.cls._from_persisted(session, path, meta)
        instance._resetUid(meta["uid"])
        try:
            DefaultParamsReader.getAndSetParams(instance, meta)
        except Exception as exc:  # noqa: BLE001 - unknown param names, wrong types: a foreign or newer save
            raise InputError(f"saved model '{path}': its parameters cannot be restored ({exc})") from None
        instance._check_loaded(f"saved model '{path}'", meta, self.custom_metrics)
        return instance


class PersistedParams(MLReadable, MLWritable):
    """Mixin: ``save``/``load``/``write``/``read`` through this module for a sparkmed Params class.

    Subclasses with data override ``_persisted_metadata``, ``_persisted_rows`` and ``_from_persisted``.
    """

    def write(self) -> SparkmedWriter:
        return SparkmedWriter(self)

    @classmethod
    def read(cls, customMetrics: dict | None = None) -> SparkmedReader:
        return SparkmedReader(cls, customMetrics)

    @classmethod
    def load(cls, path: str, customMetrics: dict | None = None) -> Any:
        """Load a saved instance. ``customMetrics``: ``{"custom:<module>.<qualname>": fn}`` for a model saved
        with a custom metric (or register it with ``sparkmed.register_metric``); nothing is ever imported."""
        return cls.read(customMetrics).load(path)

    def _check_loaded(self, where: str, meta: dict, custom_metrics: dict) -> None:
        """Validate the restored parameters (subclasses: through the same checks as a fit)."""

    def _persisted_metadata(self) -> dict:
        from sparkmed import __version__

        return {"sparkmedVersion": __version__}

    def _persisted_rows(self) -> list | None:
        return None

    @classmethod
    def _from_persisted(cls, session: SparkSession, path: str, meta: dict) -> Any:
        return cls()
