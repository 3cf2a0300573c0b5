"""The job's configuration: a TOML file (``conf/example.toml`` documents every key) plus command-line overrides.

Why a fixed schema: a typo in a production job's config must fail in the first second, naming the key and
what is allowed, not after the cluster has spent an hour on the wrong parameters. So every key is declared
here with its type, default and allowed values; unknown sections and keys are errors.

Overrides: ``--set section.key=value`` (repeatable). The value is parsed as a TOML value when it is one
(``--set model.k=7``, ``--set input.features='["a","b"]'``, ``--set output.overwrite=true``), otherwise it is
taken as a bare string (``--set input.path=data/x.parquet``); list keys also take ``a,b,c``. Dedicated flags
(``--input``, ``--k``, ``--output`` ...) are shorthands for ``--set``. Precedence: defaults < file < ``--set``
and flags, in command-line order.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sparkmed.data.encoding import VECTOR_FORMATS
from sparkmed.errors import InputError
from sparkmed.fit.params import REFINE_MODES, check_params
from sparkmed.job.hadoop_outputs import COMMIT_MODES
from sparkmed.job.stream import TRIGGERS
from sparkmed.job.tables import TABLE_FORMATS
from sparkmed.kernels import ALGORITHM_NAMES, DEFAULT_MAX_ITER, INIT_NAMES, PUBLIC_METRICS

FORMATS = ("parquet", "csv", "json", "orc", "delta")


class ConfigError(InputError):
    """Invalid configuration: unknown key, wrong type or value. Exit code 2, like any other input error."""


@dataclass(frozen=True)
class Key:
    """One configuration key: its type (``int float str bool list[str] list[int] table``), default, rules."""

    type: str
    default: Any
    help: str
    allowed: tuple | None = None
    min: float | None = None


SCHEMA: dict[str, dict[str, Key]] = {
    "input": {
        "path": Key("str", "", "file or directory to read (local path or any Hadoop URI); or set input.table"),
        "table": Key("str", "", "catalog table name to read instead of a path"),
        "format": Key("str", "parquet", "reader format (delta is passed through to Spark)", FORMATS),
        "options": Key("table", {}, "reader options, e.g. {header = \"true\", inferSchema = \"true\"}"),
        "schema": Key("str", "", "optional DDL schema for csv/json, e.g. \"id LONG, x DOUBLE, y DOUBLE\""),
        "features": Key("list[str]", [], "feature columns: numeric columns, or ONE vector/array column"),
        "id": Key("str", "", "optional unique row id column"),
        "weight": Key("str", "", "optional non-negative row weight column"),
    },
    "model": {
        "k": Key("int", 2, "number of clusters", min=2),
        "metric": Key("str", "euclidean", "dissimilarity", PUBLIC_METRICS),
        "p": Key("float", 2.0, "minkowski exponent", min=1),
        "seed": Key("int", 0, "random seed"),
        "algorithm": Key("str", "fasterpam", "per-sample algorithm", ALGORITHM_NAMES),
        "init": Key("str", "lab", "initialisation", INIT_NAMES),
        "max_iter": Key("int", 3, "CLARA rounds (each sample's own fit runs up to "
                        f"{DEFAULT_MAX_ITER} swap iterations)", min=1),
        "num_samples": Key("int", 5, "samples per round", min=1),
        "sample_size": Key("int", 0, "points per sample (0 = automatic)", min=0),
        "refine": Key("str", "swaps", "full-data refinement", REFINE_MODES),
        "refine_passes": Key("int", 10, "maximum refinement passes", min=0),
        "refine_candidates": Key("int", 0, "candidates per refinement pass (0 = automatic)", min=0),
        "max_sample_memory_mb": Key("float", 1024.0, "largest per-sample distance matrix (MB)", min=1),
        "vector_format": Key("str", "auto", "Vector features: auto | dense | sparse (see README 'Metrics')",
                             VECTOR_FORMATS),
        "column_types": Key("list[str]", [], "gower: one type per feature column (numeric, ordinal, nominal, symm, "
                            "asymm); empty = from the column types"),
        "column_weights": Key("list[float]", [], "gower: one positive weight per feature column; empty = all 1"),
        "init_model": Key("str", "", "`sparkmed fit`: warm-start from this saved model (or fit output directory); "
                          "metrics.json then has a drift section"),
    },
    "select_k": {
        "ks": Key("list[int]", [2, 3, 4, 5, 6, 7, 8], "candidate k values for `sparkmed select-k`"),
    },
    "assign": {
        "model": Key("str", "", "saved model directory (or a fit output directory containing model/)"),
        "trust_modules": Key("list[str]", [], "modules YOU trust to import: their numba functions are the custom "
                             "metrics a model may name (a model's files are never imported)"),
        "stream": Key("bool", False, "label the input continuously with Structured Streaming (exactly once "
                      "through assign.checkpoint)"),
        "checkpoint": Key("str", "", "streaming checkpoint directory (required with assign.stream)"),
        "trigger": Key("str", "available-now", "available-now: label what is new, then stop; processing-time: "
                       "a micro-batch every assign.interval until stopped", TRIGGERS),
        "interval": Key("str", "1 minute", "processing-time trigger interval, e.g. \"30 seconds\""),
        "max_files_per_trigger": Key("int", 0, "input files per micro-batch (0 = all new files)", min=0),
    },
    "output": {
        "path": Key("str", "", "output directory (written atomically; see README 'Command line')"),
        "overwrite": Key("bool", False, "replace an existing output directory (only after the new one is complete)"),
        "commit": Key("str", "auto", "how an output on a Hadoop filesystem is committed: rename (atomic "
                      "directory rename), marker (the _SPARKMED_OUTPUT marker written last, for object stores); "
                      "auto = by scheme", COMMIT_MODES),
        "table": Key("str", "", "also write the catalog tables <table>_medoids and <table>_assignments "
                     "(saveAsTable; replaced only when the whole run succeeded)"),
        "table_format": Key("str", "parquet", "format of the output tables (delta where the cluster has it)",
                            TABLE_FORMATS),
        "assignments": Key("bool", True, "write assignments/ (one row per input row)"),
        "assignment_columns": Key("list[str]", [], "extra input columns copied into assignments/"),
        "partitioning": Key("str", "auto", "assignments/ layout: by cluster directory, or none (auto = by cluster "
                            "when k <= 64)", ("auto", "cluster", "none")),
        "rows_per_file": Key("int", 2_000_000, "target rows per assignments file", min=1),
        "report": Key("bool", True, "write report.html and plots (needs matplotlib: extra 'report')"),
        "report_sample": Key("int", 5000, "rows sampled to the driver for the PCA plot", min=10),
    },
    "spark": {
        "master": Key("str", "local[*]", "master for `sparkmed` runs (ignored under spark-submit)"),
        "app_name": Key("str", "sparkmed", "Spark application name"),
        "driver_memory": Key("str", "", "spark.driver.memory for local runs, e.g. \"4g\""),
        "shuffle_partitions": Key("int", 0, "spark.sql.shuffle.partitions (0 = leave Spark's)", min=0),
        "conf": Key("table", {}, "extra Spark settings {\"spark.x.y\" = \"value\"} (like --conf)"),
    },
    "mlflow": {
        "enabled": Key("bool", False, "log params, metrics and artifacts to MLflow (extra 'mlflow')"),
        "tracking_uri": Key("str", "", "MLflow tracking URI, e.g. sqlite:///mlflow.db (empty = MLflow's default)"),
        "experiment": Key("str", "sparkmed", "MLflow experiment name"),
        "run_name": Key("str", "", "MLflow run name (empty = generated)"),
    },
}


def defaults() -> dict[str, dict[str, Any]]:
    """A fresh config with every key at its default."""
    return {s: {k: copy.deepcopy(spec.default) for k, spec in keys.items()} for s, keys in SCHEMA.items()}


def _lookup(dotted: str) -> tuple[str, str, Key]:
    section, _, key = dotted.partition(".")
    if section not in SCHEMA:
        raise ConfigError(f"unknown config section {section!r} in {dotted!r} (sections: {', '.join(SCHEMA)})")
    if not key or key not in SCHEMA[section]:
        raise ConfigError(f"unknown config key {dotted!r} (keys of [{section}]: {', '.join(SCHEMA[section])})")
    return section, key, SCHEMA[section][key]


def coerce(dotted: str, value: Any, spec: Key) -> Any:
    """Check (and normalise) one value against its key's type, range and allowed values."""
    t = spec.type
    bad = ConfigError(f"config key {dotted!r}: expected {t}, got {value!r}")
    if t == "bool":
        if not isinstance(value, bool):
            raise bad
    elif t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
    elif t == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad
        value = float(value)
        if math.isnan(value):  # NaN passes every range check (all comparisons are false)
            raise ConfigError(f"config key {dotted!r}: nan is not a number (expected {t})")
    elif t == "str":
        if not isinstance(value, str):
            raise bad
    elif t.startswith("list["):
        item = {"list[int]": int, "list[float]": float}.get(t, str)
        if isinstance(value, str):  # --set input.features=a,b
            parts = [v.strip() for v in value.split(",") if v.strip()]
            try:
                value = [item(v) for v in parts]
            except ValueError:
                raise bad from None
        if item is float and isinstance(value, list):
            value = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
        if not isinstance(value, list) or not all(isinstance(v, item) and not isinstance(v, bool) for v in value):
            raise bad
        if item is float and any(math.isnan(v) for v in value):
            raise ConfigError(f"config key {dotted!r}: nan is not a number (expected {t}), got {value!r}")
    elif t == "table":
        if not isinstance(value, dict) or not all(isinstance(v, str | int | float | bool) for v in value.values()):
            raise ConfigError(f"config key {dotted!r}: expected a table of scalar values, got {value!r}")
        value = {str(k): (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in value.items()}
    if spec.allowed is not None and value not in spec.allowed:
        raise ConfigError(f"config key {dotted!r}: {value!r} is not one of {', '.join(map(str, spec.allowed))}")
    if spec.min is not None:
        for v in value if isinstance(value, list) else [value]:
            if v < spec.min:
                raise ConfigError(f"config key {dotted!r}: {v!r} is below the minimum {spec.min:g}")
    return value


def parse_override(text: str) -> tuple[str, Any]:
    """``section.key=value`` → (``section.key``, value); the value is TOML when it parses, else a string."""
    dotted, sep, raw = text.partition("=")
    dotted = dotted.strip()
    if not sep or "." not in dotted:
        raise ConfigError(f"override {text!r}: expected section.key=value, e.g. model.k=5")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return dotted, value


def load(path: str | Path | None, overrides: list[str | tuple[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Defaults, then the TOML file (if any), then the overrides; every value validated, unknown keys rejected.

    An override is ``"section.key=value"`` text (``--set``) or a ``(section.key, value)`` pair (dedicated flags).
    """
    cfg = defaults()
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {str(p)!r} does not exist")
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise ConfigError(f"config file {str(p)!r} is not valid TOML: {e}") from None
        for section, body in data.items():
            if not isinstance(body, dict):
                raise ConfigError(f"config file {str(p)!r}: top-level key {section!r} must be a [section]")
            for key, value in body.items():
                s, k, spec = _lookup(f"{section}.{key}")
                cfg[s][k] = coerce(f"{s}.{k}", value, spec)
    for item in overrides or []:
        if isinstance(item, tuple):
            dotted, value = item
        else:
            dotted, value = parse_override(item)
        s, k, spec = _lookup(dotted)
        if spec.type == "str" and not isinstance(value, str) and isinstance(item, str):
            value = item.partition("=")[2].strip()  # --set input.path=2024 stays the string "2024"
        if spec.type == "table" and isinstance(value, dict):
            value = {**cfg[s][k], **value}  # --conf / --option add to the file's table
        cfg[s][k] = coerce(dotted, value, spec)
    return cfg


def check_for(command: str, cfg: dict[str, dict[str, Any]]) -> None:
    """Cross-key rules for one command (what must be set together); raises ConfigError naming the keys."""
    inp, out = cfg["input"], cfg["output"]
    if bool(inp["path"]) == bool(inp["table"]):
        raise ConfigError("set exactly one of 'input.path' and 'input.table' (--input / --table)")
    if not out["path"]:
        raise ConfigError("config key 'output.path' is required (--output)")
    if command in ("fit", "select-k") and not inp["features"]:
        raise ConfigError("config key 'input.features' is required: numeric columns, or one vector/array column")
    if command == "assign" and not cfg["assign"]["model"]:
        raise ConfigError("config key 'assign.model' is required (--model)")
    if out["table"]:
        from sparkmed.job.tables import check_prefix

        check_prefix(out["table"])
    a = cfg["assign"]
    if command == "assign" and a["stream"]:
        if out["table"]:
            raise ConfigError("config key 'output.table' is for batch runs; a stream writes its sink directory")
        if not a["checkpoint"]:
            raise ConfigError("config key 'assign.checkpoint' is required with assign.stream (--checkpoint DIR)")
        if out["overwrite"]:
            raise ConfigError("output.overwrite does not apply to a stream (its sink only grows): to start over, "
                              "remove the output and the checkpoint (config keys 'output.overwrite', "
                              "'assign.stream')")
    elif a["checkpoint"] or a["trigger"] != "available-now" or a["max_files_per_trigger"]:
        raise ConfigError("config keys 'assign.checkpoint', 'assign.trigger' and 'assign.max_files_per_trigger' "
                          "are for `sparkmed assign --stream` only")
    if command != "fit" and cfg["model"]["init_model"]:
        raise ConfigError(f"config key 'model.init_model' is for `sparkmed fit` only, not `sparkmed {command}`")
    if command == "select-k":
        ks = cfg["select_k"]["ks"]
        if not ks or min(ks) < 2 or len(set(ks)) != len(ks):
            raise ConfigError(f"config key 'select_k.ks': {ks!r} must be distinct integers >= 2")
    if command in ("fit", "select-k"):
        _check_model_params(cfg, cfg["select_k"]["ks"] if command == "select-k" else [cfg["model"]["k"]])
    if cfg["mlflow"]["enabled"]:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            raise ConfigError("config key 'mlflow.enabled' is true but mlflow is not installed "
                              "(pip install 'sparkmed[mlflow]')") from None


def _check_model_params(cfg: dict[str, dict[str, Any]], ks: list[int]) -> None:
    """The fit's own parameter rules (sample size vs k and vs the memory limit, metric p), before Spark starts."""
    from dataclasses import replace

    from sparkmed.ml.estimator import KMedoids
    from sparkmed.ml.plan import fit_params

    base = fit_params(KMedoids(**kmedoids_params(cfg)))
    # check_params names its Params (camelCase); match them as whole words ("k" is in almost every message).
    names = {"sampleSize": "model.sample_size", "maxSampleMemoryMB": "model.max_sample_memory_mb",
             "maxIter": "model.max_iter", "numSamples": "model.num_samples", "refinePasses": "model.refine_passes",
             "refineCandidates": "model.refine_candidates", "algorithm": "model.algorithm", "init": "model.init",
             "refine": "model.refine", "metric": "model.metric", "p": "model.p", "k": "model.k"}
    for k in ks:
        try:
            check_params(replace(base, k=k))
        except InputError as exc:
            found = [key for name, key in names.items() if re.search(rf"(?<![\w.]){name}(?![\w])", str(exc))]
            keys = ", ".join(found) or "model"
            raise ConfigError(f"config key(s) {keys}: {exc}") from None


def kmedoids_params(cfg: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The [model] section as ``KMedoids`` keyword arguments (config uses snake_case, Spark ML camelCase)."""
    m = cfg["model"]
    return dict(
        k=m["k"], metric=m["metric"], p=m["p"], seed=m["seed"], algorithm=m["algorithm"], init=m["init"],
        maxIter=m["max_iter"], numSamples=m["num_samples"], sampleSize=m["sample_size"], refine=m["refine"],
        refinePasses=m["refine_passes"], refineCandidates=m["refine_candidates"],
        maxSampleMemoryMB=m["max_sample_memory_mb"], vectorFormat=m["vector_format"],
        **({"columnTypes": m["column_types"]} if m["column_types"] else {}),
        **({"columnWeights": m["column_weights"]} if m["column_weights"] else {}),
    )


def flatten(cfg: dict[str, dict[str, Any]]) -> dict[str, str]:
    """``{"section.key": "value"}`` strings (MLflow params). Pass a redacted config (``redact.redact``)."""
    return {f"{s}.{k}": str(v) for s, body in cfg.items() for k, v in body.items()}
