"""The bad-input catalogue: every kind of bad input, through every entry point it applies to.

One table (``CASES``) drives all tests. Each case names the input file (written once per session with
pyarrow, no Spark), the ``KMedoids`` parameters / ``select_k`` ks / model path for the Python API, the
``sparkmed`` command line for the CLI, and the words the error message must contain (the column, row,
parameter or config key at fault).

- **Python API** (``test_api``): ``KMedoids(**params).fit(df)``, ``select_k(df, ks, **params)`` and
  ``KMedoidsModel.load(path)`` on the shared ``spark`` session, reading the same Parquet files the CLI reads;
  each must raise ``InputError`` (``TypeError`` where pyspark.ml's own Param type check fires first) with a
  message naming the culprit.
- **CLI** (``test_cli``): ``python -m sparkmed.cli fit|select-k|assign ...`` in a subprocess; exit code 2, the
  culprit named on stderr, and NOTHING written: no output directory and no ``<out>.tmp-*`` sibling (each case
  runs in its own empty directory, which must still be empty afterwards); an occupied output is left byte for
  byte intact. Cases that fail at config/path validation never start Spark (~1 s); data cases start a JVM each
  (~10-20 s), so the selected CLI cases are launched together when the module starts, ``CLI_WORKERS`` at a
  time, overlapping the API tests, and each CLI test waits for its own run.

The catalogue is summarised in README.md ("Bad input: what is rejected and how").
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sparkmed import InputError, KMedoids, KMedoidsModel, select_k

pytestmark = pytest.mark.spark

CLI = [sys.executable, "-m", "sparkmed.cli"]
CLI_WORKERS = int(os.environ.get("SPARKMED_CLI_WORKERS", "3"))  # concurrent CLI subprocesses (JVMs)
CLI_TIMEOUT_S = 600
N = 40  # rows of every data file
BAD = 7  # the id of the one bad row in the single-bad-row files
ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


# ---------------------------------------------------------------------------------------------- input files


def good_columns() -> dict[str, pa.Array]:
    """N well-formed rows: id, numeric a/b/c, weight w, array v, string tags, lat/lon in degrees, name."""
    rng = np.random.default_rng(11)
    x = rng.normal(scale=5.0, size=(N, 3))
    return {
        "id": pa.array(np.arange(N, dtype=np.int64)),
        "a": pa.array(x[:, 0]), "b": pa.array(x[:, 1]), "c": pa.array(x[:, 2]),
        "w": pa.array(np.ones(N)),
        "v": pa.array([list(r) for r in x], type=pa.list_(pa.float64())),
        "tags": pa.array([[f"t{i % 5}", f"t{i % 7}"] for i in range(N)], type=pa.list_(pa.string())),
        "lat": pa.array(rng.uniform(-80, 80, N)), "lon": pa.array(rng.uniform(-170, 170, N)),
        "name": pa.array([f"row{i}" for i in range(N)]),
    }


def with_value(col: str, value, rows=(BAD,)) -> dict[str, pa.Array]:
    """The good columns with ``col`` set to ``value`` in ``rows`` (NaN stays NaN: ``from_pandas=False``)."""
    cols = good_columns()
    values = cols[col].to_pylist()
    for r in rows:
        values[r] = value
    cols[col] = pa.array(values, type=cols[col].type, from_pandas=False)
    return cols


def input_tables() -> dict[str, pa.Table]:
    """Every input file of the catalogue, by name."""
    nan, inf = float("nan"), float("inf")
    few = good_columns()
    pts = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])[np.arange(N) % 3]
    few.update(a=pa.array(pts[:, 0]), b=pa.array(pts[:, 1]), c=pa.array(pts[:, 2]))
    tables = {
        "good": good_columns(),
        "null_b": with_value("b", None),
        "nan_b": with_value("b", nan),
        "pinf_c": with_value("c", inf),
        "ninf_a": with_value("a", -inf),
        "null_in_v": with_value("v", [1.0, None, 2.0]),
        "ragged_v": with_value("v", [1.0, 2.0]),
        "empty_v": with_value("v", [], rows=range(N)),
        "few_distinct": few,
        "neg_w": with_value("w", -1.0),
        "nan_w": with_value("w", nan),
        "null_w": with_value("w", None),
        "zero_w": with_value("w", 0.0, rows=range(N)),
        "null_id": with_value("id", None),
        "lat_95": with_value("lat", 95.0),
        "dup_id": with_value("id", 3, rows=(BAD, 30)),
        "nan_id": {**good_columns(), "id": pa.array([float("nan") if i == BAD else float(i) for i in range(N)])},
        "huge_w": with_value("w", 1e308, rows=range(N)),
        "big_b": with_value("b", 1e200),
        "max_row": with_value("a", 1e308, rows=(BAD,)) | {"b": with_value("b", -1e308)["b"]},
    }
    out = {name: pa.table(cols) for name, cols in tables.items()}
    out["empty"] = out["good"].slice(0, 0)
    return out


def write_models(d: Path) -> None:
    """``foreign_model``: a Spark ML KMeansModel's metadata; ``corrupted_model``: metadata that is not JSON."""
    meta = d / "foreign_model" / "metadata"
    meta.mkdir(parents=True)
    (meta / "part-00000").write_text(
        '{"class":"org.apache.spark.ml.clustering.KMeansModel","timestamp":1,"sparkVersion":"4.3.0",'
        '"uid":"KMeans_1","paramMap":{"k":2},"defaultParamMap":{}}\n'
    )
    (d / "foreign_model" / "data").mkdir()
    meta = d / "corrupted_model" / "metadata"
    meta.mkdir(parents=True)
    (meta / "part-00000").write_text('{"class": "sparkmed.estimator.KMedoidsModel", "uid": \n')
    for name, (meta_changes, data_changes) in CRAFTED_MODELS.items():
        write_model(d / name, meta_changes, data_changes)


def model_metadata() -> dict:
    """A valid saved KMedoidsModel's metadata (k=2, d=3 on inputCols a, b, c), written by hand as sparkmed does."""
    return {
        "class": "sparkmed.estimator.KMedoidsModel", "timestamp": 1, "sparkVersion": "4.3.0", "uid": "KMedoids_x",
        "paramMap": {"k": 2, "metric": "euclidean", "inputCols": ["a", "b", "c"], "idCol": "id"},
        "defaultParamMap": {"p": 2.0, "featuresCol": "features", "predictionCol": "prediction", "seed": 0},
        "sparkmed": {"formatVersion": 1, "sparkmedVersion": "0.1.0", "k": 2, "dim": 3, "metric": "euclidean",
                     "p": 2.0, "encoding": {"kind": "dense", "kernel_metric": "euclidean", "width": 0, "size": 0,
                                            "columns": [], "types": [], "weights": [], "mins": [], "ranges": []}},
    }


def model_data() -> dict[str, pa.Array]:
    """The medoid rows of :func:`model_metadata` (rows 0 and 1 of the good data)."""
    x = good_columns()
    rows = [[x["a"][i].as_py(), x["b"][i].as_py(), x["c"][i].as_py()] for i in (0, 1)]
    return {"cluster": pa.array([0, 1], pa.int32()), "key": pa.array([11, 22], pa.int64()),
            "id": pa.array(["0", "1"]), "features": pa.array(rows, pa.list_(pa.float64()))}


def write_model(path: Path, meta_changes: dict, data_changes: dict) -> None:
    """A saved model: :func:`model_metadata` with ``meta_changes`` (dotted keys; None deletes) and
    :func:`model_data` with ``data_changes`` (column → array)."""
    meta = model_metadata()
    for dotted, value in meta_changes.items():
        *parents, leaf = dotted.split(".")
        node = meta
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    (path / "metadata").mkdir(parents=True)
    # allow_nan: the crafted k = Infinity is written as JSON's Infinity, as a hand-edited file could be
    (path / "metadata" / "part-00000").write_text(json.dumps(meta, allow_nan=True) + "\n")
    (path / "data").mkdir()
    pq.write_table(pa.table({**model_data(), **data_changes}), path / "data" / "part-00000.parquet")


#: Crafted saved models: name → (metadata changes, data changes). Each must be refused at load, naming the field.
CRAFTED_MODELS: dict[str, tuple[dict, dict]] = {
    "valid_model": ({}, {}),
    "model_k_huge": ({"sparkmed.k": 10**13, "paramMap.k": 10**13}, {}),
    "model_k_infinite": ({"sparkmed.k": float("inf")}, {}),
    "model_k_zero": ({"sparkmed.k": 0, "paramMap.k": 0}, {}),
    "model_param_k_mismatch": ({"paramMap.k": 5}, {}),
    "model_string_features": ({}, {"features": pa.array([["a", "b", "c"], ["d", "e", "f"]])}),
    "model_null_key": ({}, {"key": pa.array([11, None], pa.int64())}),
    "model_unknown_encoding": ({"sparkmed.encoding.kind": "pickle"}, {}),
    "model_sparse_width_huge": ({"paramMap.metric": "cosine", "sparkmed.metric": "cosine",
                                 "sparkmed.encoding.kind": "sparse", "sparkmed.encoding.kernel_metric": "sparse_cosine",
                                 "sparkmed.encoding.width": 10**12}, {}),
    "model_unknown_metric": ({"paramMap.metric": "foo", "sparkmed.metric": "foo"}, {}),
    "model_metric_mismatch": ({"paramMap.metric": "manhattan"}, {}),
    "model_minkowski_p_negative": ({"paramMap.metric": "minkowski", "sparkmed.metric": "minkowski",
                                    "paramMap.p": -1.0}, {}),
    "model_custom_metric_import": ({"paramMap.metric": "custom:unittest.__main__.main",
                                    "sparkmed.metric": "custom:unittest.__main__.main"}, {}),
    "model_width_mismatch": ({"sparkmed.dim": 4}, {}),
}


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    """All input files and model directories, written once with pyarrow (no Spark)."""
    d = tmp_path_factory.mktemp("bad_inputs")
    for name, table in input_tables().items():
        pq.write_table(table, d / f"{name}.parquet")
    (d / "rows.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    (d / "header_only.csv").write_text("a,b,c\n")
    (d / "wrong_type.toml").write_text('[model]\nk = 3\nseed = "seven"\n')
    write_models(d)
    return d


# ------------------------------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    """One kind of bad input and how each entry point must reject it.

    ``data``: input file (``<data>.parquet``); ``params``: KMedoids parameters for ``fit`` (None: the fit entry
    point does not apply); ``ks``: ``select_k`` candidates (None: not applicable; ``select_k`` gets ``params``
    minus ``k``); ``load``: model directory for ``KMedoidsModel.load``; ``cli``: CLI arguments, where
    ``{data}``/``{in}``/``{out}`` are replaced by the data directory, the input file and the output directory
    (None: not applicable); ``words``: what every message must contain (``cli_words`` overrides them for the
    CLI, ``sk_words`` for ``select_k``); ``spark``: False when the CLI must fail before starting Spark;
    ``api_error``: the exception type; ``xfail``: entry point → reason, for known sparkmed defects.
    """

    id: str
    words: tuple[str, ...]
    data: str = "good"
    params: dict | None = None
    ks: tuple | None = None
    load: str | None = None
    cli: tuple[str, ...] | None = None
    cli_words: tuple[str, ...] | None = None
    spark: bool = True
    sk_words: tuple[str, ...] | None = None
    api_error: type[Exception] | tuple[type[Exception], ...] = InputError
    xfail: dict[str, str] = field(default_factory=dict)  # entry point ("fit", "select_k", "cli") -> reason


ABC = {"inputCols": ["a", "b", "c"], "idCol": "id"}
FIT = ("fit", "--input", "{in}", "--features", "a,b,c", "--id", "id")
FIT_V = ("fit", "--input", "{in}", "--features", "v", "--id", "id")
FIT_W = (*FIT, "--weight", "w")
W = {**ABC, "weightCol": "w"}
V = {"featuresCol": "v", "idCol": "id"}

CASES: list[Case] = [
    # ---- feature values (one validation pass; the message names the column and the row's id)
    Case("null_feature", ("'b'", f"id={BAD}", "null"), "null_b", ABC, (2, 3), cli=FIT),
    Case("nan_feature", ("'b'", f"id={BAD}", "NaN"), "nan_b", ABC, (2, 3), cli=FIT),
    Case("pos_inf_feature", ("'c'", f"id={BAD}", "infinite"), "pinf_c", ABC, (2, 3), cli=FIT),
    Case("neg_inf_feature", ("'a'", f"id={BAD}", "infinite"), "ninf_a", ABC, (2, 3), cli=FIT),
    Case("null_in_vector", ("'v'", "position(s) [1]", f"id={BAD}"), "null_in_v", V, (2, 3), cli=FIT_V),
    Case("ragged_vectors", ("'v'", "ragged", "from 2 to 3"), "ragged_v", V, (2, 3), cli=FIT_V),
    Case("empty_vectors", ("'v'", "empty", "length 0"), "empty_v", V, (2, 3), cli=FIT_V),
    # ---- columns and shape
    Case("non_numeric_column", ("'name'", "string"), "good", {"inputCols": ["a", "name"]}, (2, 3),
         cli=("fit", "--input", "{in}", "--features", "a,name"), cli_words=("input.features", "name (string)")),
    Case("missing_column", ("'zz'", "not a column"), "good", {"inputCols": ["a", "zz"]}, (2, 3),
         cli=("fit", "--input", "{in}", "--features", "a,zz"), cli_words=("input.features", "zz", "not in the input")),
    Case("missing_weight_column", ("'ww'", "not a column"), "good", {**ABC, "weightCol": "ww"}, (2, 3),
         cli=(*FIT, "--weight", "ww"), cli_words=("input.weight", "'ww'", "not in the input")),
    Case("empty_input", ("empty", "0 rows"), "empty", ABC, (2, 3), cli=FIT),
    Case("fewer_distinct_than_k", ("k=5", "distinct points (3)"), "few_distinct", {**ABC, "k": 5}, (5,),
         cli=(*FIT, "-k", "5")),
    Case("null_id", ("idCol 'id'", "null id"), "null_id", ABC, (2, 3), cli=FIT),
    Case("nan_id", ("idCol 'id'", "null id", "NaN"), "nan_id", ABC, (2, 3), cli=FIT),
    Case("duplicate_ids", ("idCol 'id'", "not unique", "id=3, 3 times"), "dup_id", ABC, (2, 3), cli=FIT),
    Case("features_overflow", ("inputCols", "1e+200", f"id={BAD}", "overflow"), "big_b", ABC, (2, 3), cli=FIT),
    Case("row_of_extremes", ("inputCols", "1e+308", f"id={BAD}", "overflow"), "max_row", ABC, (2, 3), cli=FIT),
    # ---- k
    Case("k_below_2", ("k must be ≥ 2", "got 1"), "good", {**ABC, "k": 1}, cli=(*FIT, "-k", "1"),
         cli_words=("model.k", "minimum 2"), spark=False),
    Case("ks_below_2", ("ks", "got 1"), "good", None, (1, 3), cli=("select-k", "--input", "{in}", "--features",
         "a,b,c", "--ks", "1,3"), cli_words=("select_k.ks", "[1, 3]"), spark=False),
    Case("k_not_int", ("param \"k\"", "2.5"), "good", {**ABC, "k": 2.5}, (2.5, 3),
         cli=(*FIT, "--set", "model.k=2.5"), cli_words=("model.k", "expected int", "2.5"), spark=False,
         sk_words=("ks", "2.5"), api_error=(TypeError, InputError)),
    # ---- weights
    Case("negative_weight", ("weightCol 'w'", f"id={BAD} has weight -1.0"), "neg_w", W, (2, 3), cli=FIT_W),
    Case("nan_weight", ("weightCol 'w'", f"id={BAD} has weight NaN"), "nan_w", W, (2, 3), cli=FIT_W),
    Case("null_weight", ("weightCol 'w'", "null", f"id={BAD}"), "null_w", W, (2, 3), cli=FIT_W),
    Case("all_zero_weights", ("weightCol 'w'", "all weights are zero"), "zero_w", W, (2, 3), cli=FIT_W),
    Case("weights_overflow", ("weightCol 'w'", "overflow"), "huge_w", W, (2, 3), cli=FIT_W),
    # ---- metric
    Case("unknown_metric", ("metric", "'foo'", "euclidean"), "good", {**ABC, "metric": "foo"}, (2, 3),
         cli=(*FIT, "--metric", "foo"), cli_words=("model.metric", "'foo'", "euclidean"), spark=False),
    Case("haversine_on_3_columns", ("haversine", "d == 2", "d=3"), "good",
         {"inputCols": ["lat", "lon", "a"], "idCol": "id", "metric": "haversine"}, (2, 3),
         cli=("fit", "--input", "{in}", "--features", "lat,lon,a", "--metric", "haversine")),
    Case("latitude_above_90", ("haversine", "latitude", "95.0"), "lat_95",
         {"inputCols": ["lat", "lon"], "idCol": "id", "metric": "haversine"}, (2, 3),
         cli=("fit", "--input", "{in}", "--features", "lat,lon", "--id", "id", "--metric", "haversine")),
    Case("euclidean_on_set_column", ("'tags'", "sets", "'euclidean'"), "good",
         {"featuresCol": "tags", "metric": "euclidean"}, (2, 3),
         cli=("fit", "--input", "{in}", "--features", "tags", "--metric", "euclidean")),
    # ---- sample size
    Case("sample_size_below_k", ("sampleSize (3)", "k (5)"), "good", {**ABC, "k": 5, "sampleSize": 3}, (5,),
         cli=(*FIT, "-k", "5", "--set", "model.sample_size=3")),
    Case("sample_over_memory_limit", ("sampleSize 20000", "maxSampleMemoryMB=100"), "good",
         {**ABC, "sampleSize": 20000, "maxSampleMemoryMB": 100.0}, (2, 3),
         cli=(*FIT, "--set", "model.sample_size=20000", "--set", "model.max_sample_memory_mb=100")),
    # ---- configuration (CLI only)
    Case("unknown_config_key", ("model.kk", "keys of [model]"), cli=(*FIT, "--set", "model.kk=3"), spark=False),
    Case("wrong_config_type", ("model.seed", "expected int", "'seven'"),
         cli=(*FIT, "-c", "{data}/wrong_type.toml"), spark=False),
    # ---- paths (CLI only)
    Case("missing_input_path", ("nope.parquet", "does not exist", "input.path"),
         cli=("fit", "--input", "{data}/nope.parquet", "--features", "a,b,c"), spark=False),
    Case("unreadable_input_format", ("cannot read parquet input", "rows.csv"),
         cli=("fit", "--input", "{data}/rows.csv", "--features", "a,b,c")),
    Case("output_exists_without_overwrite", ("already exists", "--overwrite"), cli=FIT, spark=False),
    Case("output_not_writable", ("not writable", "output.path"), cli=FIT, spark=False),
    # ---- outputs and inputs (job safety)
    Case("output_equals_input", ("is the input path", "input.path", "output.path"),
         cli=("fit", "--input", "{work}/in", "--features", "a,b,c", "--overwrite"), spark=False),
    Case("output_inside_input", ("lies inside the input path", "input.path"),
         cli=("fit", "--input", "{work}/in", "--features", "a,b,c"), spark=False),
    Case("input_inside_output", ("contains the input path", "input.path"),
         cli=("fit", "--input", "{work}/out/in", "--features", "a,b,c", "--overwrite"), spark=False),
    Case("overwrite_non_sparkmed_output", ("not a sparkmed output", "_SPARKMED_OUTPUT", "--overwrite"),
         cli=(*FIT, "--overwrite"), spark=False),
    Case("output_oserror_path", ("/proc/sparkmed-catalogue-out", "output.path"), cli=FIT, spark=False),
    Case("p_nan", ("model.p", "nan is not a number"), cli=(*FIT, "--metric", "minkowski", "--set", "model.p=nan"),
         spark=False),
    Case("header_only_csv", ("has 0 rows", "header_only.csv"),
         cli=("fit", "--input", "{data}/header_only.csv", "--format", "csv", "--option", "header=true",
              "--option", "inferSchema=true", "--features", "a,b,c")),
    # ---- saved models (KMedoidsModel.load and `sparkmed assign --model`)
    Case("foreign_model", ("foreign_model", "KMeansModel", "not a sparkmed.KMedoidsModel"),
         load="foreign_model", cli=("assign", "--input", "{in}", "--model", "{data}/foreign_model")),
    Case("corrupted_model", ("corrupted_model", "not valid JSON"), load="corrupted_model",
         cli=("assign", "--input", "{in}", "--model", "{data}/corrupted_model")),
    # ---- crafted saved models: every field checked at load, nothing named by the files is imported or run
    *[Case(name, (name, *words), load=name, cli=("assign", "--input", "{in}", "--model", f"{{data}}/{name}"))
      for name, words in {
          "model_k_huge": ("sparkmed.k", "10000000000000"),
          "model_k_infinite": ("sparkmed.k", "inf"),
          "model_k_zero": ("sparkmed.k", "got 0"),
          "model_param_k_mismatch": ("paramMap.k = 5", "2 medoids"),
          "model_string_features": ("'features'", "array<string>"),
          "model_null_key": ("'key'", "non-null"),
          "model_unknown_encoding": ("encoding.kind", "'pickle'"),
          "model_sparse_width_huge": ("encoding.width", "1000000000000"),
          "model_unknown_metric": ("sparkmed.metric", "'foo'"),
          "model_metric_mismatch": ("sparkmed.metric", "paramMap.metric", "'manhattan'"),
          "model_minkowski_p_negative": ("minkowski", "p >= 1"),
          "model_custom_metric_import": ("custom:unittest.__main__.main", "not provided", "never imports"),
          "model_width_mismatch": ("sparkmed.dim", "dimension 4"),
      }.items()],
]
BY_ID = {c.id: c for c in CASES}
assert len(BY_ID) == len(CASES)


def _param(case: Case, entry: str):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail[entry])] if entry in case.xfail else []
    return pytest.param(case.id, marks=marks, id=case.id)


API_FIT = [_param(c, "fit") for c in CASES if c.params is not None]
API_SELECT_K = [_param(c, "select_k") for c in CASES if c.ks is not None]
API_LOAD = [_param(c, "load") for c in CASES if c.load is not None]
CLI_CASES = [_param(c, "cli") for c in CASES if c.cli is not None]


def assert_names(message: str, words: tuple[str, ...]) -> None:
    missing = [w for w in words if w not in message]
    assert not missing, f"message lacks {missing}: {message}"


# ------------------------------------------------------------------------------------------------ Python API


def read(spark, data_dir: Path, case: Case):
    return spark.read.parquet(str(data_dir / f"{case.data}.parquet"))


@pytest.mark.parametrize("case_id", API_FIT)
def test_api_fit(spark, data_dir, case_id):
    """``KMedoids(**params).fit(df)`` raises InputError naming the column/row/parameter."""
    case = BY_ID[case_id]
    with pytest.raises(case.api_error) as err:
        KMedoids(**case.params).fit(read(spark, data_dir, case))
    assert_names(str(err.value), case.words)


@pytest.mark.parametrize("case_id", API_SELECT_K)
def test_api_select_k(spark, data_dir, case_id):
    """``select_k(df, ks, **params)`` rejects the same input the same way."""
    case = BY_ID[case_id]
    params = {k: v for k, v in (case.params or ABC).items() if k != "k"}
    with pytest.raises(InputError) as err:
        select_k(read(spark, data_dir, case), ks=list(case.ks), **params)
    assert_names(str(err.value), case.sk_words or case.words)


@pytest.mark.parametrize("case_id", API_LOAD)
def test_api_load(spark, data_dir, case_id):
    """``KMedoidsModel.load`` of a foreign or corrupted save raises InputError naming the path and the problem."""
    case = BY_ID[case_id]
    with pytest.raises(InputError) as err:
        KMedoidsModel.load(str(data_dir / case.load))
    assert_names(str(err.value), case.words)


# ----------------------------------------------------------------------------------------------------- CLI


@dataclass
class CliRun:
    """One CLI run of a case: its working directory, the output path, the files there before, the result."""

    workdir: Path
    out: Path
    before: dict[str, bytes]
    result: subprocess.CompletedProcess | None = None


def snapshot(d: Path) -> dict[str, bytes]:
    """Every entry under ``d``: relative path → file bytes (b"<dir>" for directories)."""
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(d.rglob("*"))}


def prepare_cli(case: Case, data_dir: Path, root: Path) -> tuple[CliRun, list[str]]:
    """The case's own empty working directory (plus an occupied or unwritable output, or an input of its own
    (``{work}``) that the output overlaps, where the case needs one) and the full argument list."""
    workdir = root / case.id
    workdir.mkdir()
    out = workdir / "out"
    good = data_dir / "good.parquet"
    if case.id in ("output_equals_input", "output_inside_input"):
        (workdir / "in").mkdir()
        shutil.copyfile(good, workdir / "in" / "part-0.parquet")
        out = workdir / "in" if case.id == "output_equals_input" else workdir / "in" / "out"
    elif case.id == "input_inside_output":
        (out / "in").mkdir(parents=True)
        shutil.copyfile(good, out / "in" / "part-0.parquet")
    elif case.id == "overwrite_non_sparkmed_output":
        out.mkdir()
        (out / "precious.csv").write_text("a,b\n1,2\n")
    elif case.id == "output_oserror_path":
        out = Path("/proc/sparkmed-catalogue-out")  # the kernel refuses to create anything there
    if case.id == "output_exists_without_overwrite":
        out.mkdir()
        (out / "metrics.json").write_text('{"k": 3, "cost": 1.5}\n')
        (out / "medoids").mkdir()
        (out / "medoids" / "part-0.parquet").write_bytes(bytes(range(256)) * 4)
    elif case.id == "output_not_writable":
        if ROOT_USER:  # permission bits do not bind root: put the output under a regular file instead
            (workdir / "file").write_text("not a directory\n")
            out = workdir / "file" / "out"
        else:
            locked = workdir / "locked"
            locked.mkdir()
            out = locked / "out"
            locked.chmod(0o555)
    subs = {"{data}": str(data_dir), "{in}": str(data_dir / f"{case.data}.parquet"), "{out}": str(out),
            "{work}": str(workdir)}
    args = []
    for a in case.cli or ():
        for key, value in subs.items():
            a = a.replace(key, value)
        args.append(a)
    args += ["-o", str(out), "--no-report", "--master", "local[1]", "--conf", "spark.sql.shuffle.partitions=2"]
    return CliRun(workdir, out, snapshot(workdir)), args


def run_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           "PYSPARK_DRIVER_PYTHON": sys.executable}
    return subprocess.run([*CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S)


@pytest.fixture(scope="module", autouse=True)
def cli_runs(request, data_dir, tmp_path_factory):
    """Launch every SELECTED CLI case at module start (``CLI_WORKERS`` at a time); case id → (run, future).

    Started before the API tests so the CLI JVMs overlap them; ``-k`` selections launch only their cases.
    """
    selected = [item.callspec.params["case_id"] for item in request.session.items
                if getattr(item, "module", None) is request.module and item.originalname == "test_cli"]
    root = tmp_path_factory.mktemp("cli_cases")
    pool = ThreadPoolExecutor(max_workers=CLI_WORKERS)
    runs: dict[str, tuple[CliRun, Future]] = {}
    # JVM cases first (they take longest), the ~1 s config/path cases last.
    for case_id in sorted(selected, key=lambda c: not BY_ID[c].spark):
        run, args = prepare_cli(BY_ID[case_id], data_dir, root)
        runs[case_id] = (run, pool.submit(run_cli, args, run.workdir))
    yield runs
    pool.shutdown(wait=True, cancel_futures=True)
    for run, _ in runs.values():
        for p in run.workdir.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(run.workdir, ignore_errors=True)


@pytest.mark.parametrize("case_id", CLI_CASES)
def test_cli(cli_runs, case_id):
    """Exit code 2, the culprit named on stderr, nothing written (an occupied output untouched)."""
    case = BY_ID[case_id]
    run, future = cli_runs[case_id]
    r = future.result()
    tail = f"\nstdout: {r.stdout[-2000:]}\nstderr: {r.stderr[-4000:]}"
    assert r.returncode == 2, tail
    assert "Traceback" not in r.stderr, tail
    errors = [line for line in r.stderr.splitlines() if ": error: " in line]
    assert errors, tail
    assert_names("\n".join(errors), case.cli_words or case.words)
    # Nothing written: the case's directory holds exactly what it held before (no output, no staging dir).
    after = snapshot(run.workdir)
    assert after == run.before, f"written: {sorted(set(after) - set(run.before))}{tail}"
    assert not [p for p in run.out.parent.glob("*") if ".tmp-" in p.name or ".old-" in p.name]
    if not case.spark:  # config/path errors are reported before Spark starts
        assert "phase session done" not in r.stderr, tail


@pytest.mark.parametrize("case_id", ["sample_size_below_k", "sample_over_memory_limit"])
def test_cli_parameter_combinations_fail_before_spark(cli_runs, case_id):
    """README 'Command line': everything is validated before Spark starts, including parameter combinations."""
    if case_id not in cli_runs:
        pytest.skip("the CLI case was not selected")
    _, future = cli_runs[case_id]
    r = future.result()
    assert r.returncode == 2
    assert "phase session done" not in r.stderr, r.stderr[-2000:]


def test_api_ragged_vectors_name_an_example_row(spark, data_dir):
    """README: every validation error names the column AND an example row; ragged vectors too."""
    with pytest.raises(InputError) as err:
        KMedoids(**V).fit(read(spark, data_dir, BY_ID["ragged_vectors"]))
    assert f"id={BAD}" in str(err.value), str(err.value)


def test_catalogue_size():
    """The catalogue keeps at least 25 kinds of bad input, each run through every entry point it applies to."""
    assert len(CASES) >= 25
    for c in CASES:
        assert c.params is not None or c.ks is not None or c.load is not None or c.cli is not None, c.id


def test_handwritten_valid_model_loads_and_labels(spark, data_dir):
    """The crafted models differ from ``valid_model`` only in the field they break: that one loads and labels."""
    model = KMedoidsModel.load(str(data_dir / "valid_model"))
    assert model.medoids().shape == (2, 3) and model.getK() == 2
    labels = model.transform(read(spark, data_dir, BY_ID["null_feature"]).limit(0)).columns
    assert "prediction" in labels
    rows = model.transform(spark.read.parquet(str(data_dir / "good.parquet"))).select("prediction").collect()
    assert len(rows) == N and {r[0] for r in rows} <= {0, 1}
