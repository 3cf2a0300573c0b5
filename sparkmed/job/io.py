"""Reading the job's input and checking paths, split into what can be checked BEFORE Spark starts and after.

Why: starting Spark costs seconds (minutes on a busy cluster); a missing input or an occupied output must be
reported at once, with exit code 2 and nothing written.

Rules for the output path (``check_output_path``), all checked on the real path (``~``, ``file:`` and
symlinks resolved):

- it must not be, lie inside or contain the input path (``input.path``, every match of a glob) or the model
  of ``assign`` (``assign.model``): the job would destroy or swallow what it reads;
- an existing output is replaced only with ``--overwrite`` AND only when it is a previous sparkmed output
  (it holds the ``_SPARKMED_OUTPUT`` marker every committed output carries, see ``outputs``) or an empty
  directory: ``--overwrite`` never deletes a directory sparkmed did not write.

``~`` in ``input.path``, ``output.path`` and ``assign.model`` is expanded for Spark too (``spark_path``),
not only for these checks: Spark would read ``~/x`` as a directory literally named ``~``.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sparkmed.errors import InputError
from sparkmed.job.outputs import MARKER, is_replaceable


def local_path(uri: str) -> Path | None:
    """The local filesystem path of ``uri`` (plain path or ``file:``, ``~`` expanded), or None for other schemes
    (hdfs:, s3a: ...)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        return Path(parsed.path if parsed.scheme == "file" else uri).expanduser()
    return None


def spark_path(uri: str) -> str:
    """``uri`` as Spark must read it: ``~`` expanded in plain paths and ``file:`` URIs, other URIs unchanged."""
    parsed = urlparse(uri)
    if parsed.scheme == "" or (len(parsed.scheme) == 1 and os.name == "nt"):
        return os.path.expanduser(uri)
    if parsed.scheme == "file" and parsed.path.startswith("~"):
        return "file://" + os.path.expanduser(parsed.path)
    return uri


def _has_glob(path: str) -> bool:
    return any(c in path for c in "*?[")


def check_input_path(uri: str) -> None:
    """A local input path (or glob) must exist; remote URIs are checked by Spark when it reads them."""
    p = local_path(uri)
    if p is None:
        return
    if _has_glob(str(p)):
        if not glob.glob(str(p)):
            raise InputError(f"input path {uri!r} matches no file (config key 'input.path')")
    elif not p.exists():
        raise InputError(f"input path {uri!r} does not exist (config key 'input.path')")


def real_paths(uri: str) -> list[Path]:
    """The real local paths ``uri`` names (every match of a glob), symlinks resolved; [] for remote URIs."""
    p = local_path(uri)
    if p is None:
        return []
    matches = glob.glob(str(p)) if _has_glob(str(p)) else [str(p)]
    return [Path(os.path.realpath(m)) for m in matches]


def check_no_overlap(out: Path, protected: dict[str, str]) -> None:
    """``out`` (a real path) must not be, lie inside or contain any of the ``protected`` paths (config key →
    path or URI): writing or replacing it would destroy the job's own input or model."""
    for key, uri in protected.items():
        for p in real_paths(uri):
            if out == p:
                relation = "is"
            elif out.is_relative_to(p):
                relation = "lies inside"
            elif p.is_relative_to(out):
                relation = "contains"
            else:
                continue
            what = "input" if key == "input.path" else "model"
            raise InputError(f"output path {str(out)!r} {relation} the {what} path {uri!r} (config keys "
                             f"'output.path' and {key!r}): writing the output would destroy the job's own "
                             f"{what}; choose an output directory outside it")


def check_output_path(uri: str, overwrite: bool, protected: dict[str, str] | None = None) -> Path:
    """The output must be a local directory path that is free (or ``overwrite`` and a previous sparkmed output),
    apart from the ``protected`` paths (config key → path: input.path, assign.model), with a writable parent.

    Local paths only: outputs on other schemes (hdfs:, s3a: ...) are checked and committed through the Hadoop
    FileSystem API once Spark runs (``hadoop_outputs.HadoopStaging``). Returns the real (resolved) path.
    """
    p = local_path(uri)
    if p is None:
        raise InputError(f"output path {uri!r}: only local/shared filesystem paths are checked here (config key "
                         "'output.path'); Hadoop URIs are checked by hadoop_outputs.HadoopStaging")
    p = Path(os.path.realpath(p))
    check_no_overlap(p, protected or {})
    if p.exists() and not p.is_dir():
        raise InputError(f"output path {str(p)!r} exists and is not a directory (config key 'output.path')")
    if p.exists() and not overwrite:
        raise InputError(f"output path {str(p)!r} already exists; pass --overwrite (output.overwrite=true) to "
                         "replace it")
    if p.exists() and not is_replaceable(p):
        raise InputError(f"output path {str(p)!r} exists and is not a sparkmed output (no {MARKER} marker): "
                         "--overwrite only replaces a previous sparkmed output; remove it yourself or choose "
                         "another output directory (config key 'output.path')")
    parent = p.parent
    while not parent.exists():  # the parent will be created: the first existing ancestor must be writable
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"output path {str(p)!r} is not writable (directory {str(parent)!r}; config key "
                         "'output.path')")
    return p


def model_path(uri: str, key: str = "assign.model") -> str:
    """A saved model directory, or a fit output directory holding ``model/``; checked for local paths (``key``:
    the config key that named it)."""
    p = local_path(uri)
    if p is None:
        return uri
    if not p.exists():
        raise InputError(f"model path {uri!r} does not exist (config key {key!r})")
    if (p / "model").is_dir():
        return str(p / "model")
    return str(p)  # ~ expanded: Spark reads this path


def spark_model_path(spark, uri: str, key: str) -> str:
    """A model URI on a Hadoop filesystem (checked once Spark runs): a fit output directory holding ``model/``
    gives its ``model/``; whether the output was committed is checked by ``KMedoidsModel.load``."""
    if local_path(uri) is not None:
        return uri
    from sparkmed.ml.persistence import path_exists

    base = uri.rstrip("/")
    if path_exists(spark, f"{base}/model/metadata"):
        return f"{base}/model"
    if not path_exists(spark, base):
        raise InputError(f"model path {uri!r} does not exist (config key {key!r})")
    return uri


def describe_input(cfg_input: dict[str, Any]) -> str:
    """How messages name the input: ``table 'db.t'`` or ``csv input 'data/x.csv'``."""
    if cfg_input["table"]:
        return f"table {cfg_input['table']!r}"
    return f"{cfg_input['format']} input {cfg_input['path']!r}"


def read_input(spark, cfg_input: dict[str, Any]):
    """The input DataFrame (lazy). Reader failures (bad format, unreadable files) become InputError."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    where = describe_input(cfg_input)
    try:
        if cfg_input["table"]:
            df = spark.read.table(cfg_input["table"])
        else:
            reader = spark.read.format(cfg_input["format"]).options(**cfg_input["options"])
            if cfg_input["schema"]:
                reader = reader.schema(cfg_input["schema"])
            df = reader.load(cfg_input["path"])
        _ = df.schema  # forces schema inference: most format errors surface here, before the fit
    except (PySparkException, Py4JJavaError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InputError(f"cannot read {where}: {first[:500]}") from e
    if not df.columns:
        raise InputError(f"{where} has no columns (wrong format? config key 'input.format')")
    return df


def resolve_features(df, features: list[str], metric: str = "euclidean", where: str = "input") -> dict[str, Any]:
    """``KMedoids`` feature params for the named columns: one vector/array column → featuresCol, else inputCols
    (for metric gower always inputCols: mixed numeric, boolean and string columns).

    Checked here so the error names the config key and the available columns. A CSV with only a header reads
    as string columns (with or without inferSchema): when a column is not numeric, one tiny job
    (``limit(1).count()``) tells an empty input (``<where> has 0 rows``) from a real type error.
    """
    from pyspark.sql.types import ArrayType, NumericType

    from sparkmed.data.columns import is_vector

    fields = {f.name: f.dataType for f in df.schema.fields}
    missing = [c for c in features if c not in fields]
    if missing:
        raise InputError(f"config key 'input.features': column(s) {', '.join(missing)} not in the input "
                         f"(columns: {', '.join(fields)})")
    if metric == "gower":
        return {"inputCols": list(features)}
    if len(features) == 1 and (is_vector(fields[features[0]]) or isinstance(fields[features[0]], ArrayType)):
        return {"featuresCol": features[0]}
    bad = [f"{c} ({fields[c].simpleString()})" for c in features if not isinstance(fields[c], NumericType)]
    if bad and df.limit(1).count() == 0:
        raise InputError(f"{where} has 0 rows (only a header?): nothing to cluster")
    if bad:
        raise InputError(f"config key 'input.features': column(s) {', '.join(bad)} are not numeric (use numeric "
                         "columns, or exactly one vector/array column)")
    return {"inputCols": list(features)}


def check_column(df, name: str, key: str) -> None:
    """An optional column named in the config (id, weight, assignment columns) must exist."""
    if name and name not in df.columns:
        raise InputError(f"config key {key!r}: column {name!r} not in the input (columns: {', '.join(df.columns)})")
