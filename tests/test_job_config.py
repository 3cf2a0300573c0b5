"""Fast tests of the job's config, path checks, staging and progress output (no Spark, no subprocess)."""

from __future__ import annotations

import io as stdio
import logging
from pathlib import Path

import pytest

from sparkmed.errors import InputError
from sparkmed.job import config as C
from sparkmed.job import io
from sparkmed.job.outputs import Staging
from sparkmed.job.progress import ProgressHandler

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_loads_and_covers_every_key():
    cfg = C.load(ROOT / "conf" / "example.toml")
    assert cfg["model"]["k"] == 5 and cfg["input"]["features"] == ["x0", "x1", "x2", "x3"]
    text = (ROOT / "conf" / "example.toml").read_text()
    for section, keys in C.SCHEMA.items():  # the annotated example documents every key
        assert f"[{section}]" in text
        for key in keys:
            assert f"\n{key} = " in text, f"{section}.{key} missing from conf/example.toml"


def test_overrides_are_typed_and_win_over_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[model]\nk = 3\n[input]\nfeatures = ["a"]\n')
    cfg = C.load(f, ["model.k=7", "input.features=x,y", "output.overwrite=true", "input.path=2024",
                     'select_k.ks=[2, 4]', ("spark.conf", {"spark.a": "1"}), "spark.conf={\"spark.b\" = 2}"])
    assert cfg["model"]["k"] == 7
    assert cfg["input"]["features"] == ["x", "y"]
    assert cfg["output"]["overwrite"] is True
    assert cfg["input"]["path"] == "2024"  # a string key keeps the text
    assert cfg["select_k"]["ks"] == [2, 4]
    assert cfg["spark"]["conf"] == {"spark.a": "1", "spark.b": "2"}  # tables merge
    assert cfg["model"]["max_iter"] == 3  # untouched default


@pytest.mark.parametrize("override, words", [
    ("model.kk=3", ["model.kk", "keys of [model]", "max_iter"]),
    ("modle.k=3", ["modle", "sections", "model"]),
    ("model.metric=foo", ["model.metric", "'foo'", "euclidean", "manhattan"]),
    ("model.k=1", ["model.k", "minimum 2"]),
    ("model.k=two", ["model.k", "expected int"]),
    ("input.format=xlsx", ["input.format", "parquet", "delta"]),
    ("output.overwrite=1", ["output.overwrite", "expected bool"]),
    ("select_k.ks=2,x", ["select_k.ks", "list[int]"]),
    ("nonsense", ["section.key=value"]),
])
def test_bad_values_name_the_key_and_the_allowed_values(override, words):
    with pytest.raises(C.ConfigError) as e:
        C.load(None, [override])
    for w in words:
        assert w in str(e.value)
    assert isinstance(e.value, InputError)  # → exit code 2


def test_unknown_keys_and_bad_toml_in_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[model]\nk = 3\nmetrc = \"euclidean\"\n")
    with pytest.raises(C.ConfigError, match="model.metrc"):
        C.load(f)
    f.write_text("[model\nk=")
    with pytest.raises(C.ConfigError, match="not valid TOML"):
        C.load(f)
    with pytest.raises(C.ConfigError, match="does not exist"):
        C.load(tmp_path / "missing.toml")


def test_cross_key_rules_per_command():
    cfg = C.load(None, ["input.path=x", "output.path=o"])
    with pytest.raises(C.ConfigError, match="input.features"):
        C.check_for("fit", cfg)
    C.check_for("assign", C.load(None, ["input.path=x", "output.path=o", "assign.model=m"]))
    with pytest.raises(C.ConfigError, match="assign.model"):
        C.check_for("assign", cfg)
    with pytest.raises(C.ConfigError, match="exactly one of 'input.path' and 'input.table'"):
        C.check_for("fit", C.load(None, ["input.path=x", "input.table=t", "output.path=o", "input.features=a"]))
    with pytest.raises(C.ConfigError, match="output.path"):
        C.check_for("fit", C.load(None, ["input.path=x", "input.features=a"]))
    with pytest.raises(C.ConfigError, match="select_k.ks"):
        C.check_for("select-k", C.load(None, ["input.path=x", "output.path=o", "input.features=a",
                                              "select_k.ks=[3, 3]"]))
    assert C.kmedoids_params(cfg)["maxIter"] == 3


def test_path_checks(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        io.check_input_path(str(tmp_path / "nope.parquet"))
    with pytest.raises(InputError, match="matches no file"):
        io.check_input_path(str(tmp_path / "*.csv"))
    io.check_input_path("s3a://bucket/key")  # remote: Spark checks it
    occupied = tmp_path / "out"
    occupied.mkdir()
    with pytest.raises(InputError, match="--overwrite"):
        io.check_output_path(str(occupied), overwrite=False)
    assert io.check_output_path(str(occupied), overwrite=True) == occupied.resolve()
    assert io.check_output_path(str(tmp_path / "a" / "b"), overwrite=False) == (tmp_path / "a" / "b").resolve()
    with pytest.raises(InputError, match="only local"):
        io.check_output_path("hdfs:///x", overwrite=False)
    readonly = tmp_path / "ro"
    readonly.mkdir(mode=0o500)
    try:
        import os

        if os.geteuid() != 0:  # root ignores permission bits
            with pytest.raises(InputError, match="not writable"):
                io.check_output_path(str(readonly / "out"), overwrite=False)
    finally:
        readonly.chmod(0o700)


def test_staging_commits_atomically_and_keeps_the_old_output_until_the_new_one_is_complete(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("previous good output")
    st = Staging(out, overwrite=True)
    assert st.dir.parent == tmp_path and st.dir.name.startswith("out.tmp-")
    (st.dir / "new.txt").write_text("new")
    assert (out / "old.txt").exists()  # untouched while the new output is being written
    st.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (out / "new.txt").exists() and not (out / "old.txt").exists()

    st = Staging(out, overwrite=True)
    (st.dir / "partial").write_text("x")
    st.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and (out / "new.txt").exists()

    st = Staging(tmp_path / "late", overwrite=False)
    (tmp_path / "late").mkdir()  # someone else created it meanwhile: never overwritten
    with pytest.raises(InputError, match="appeared"):
        st.commit()
    st.abort()


def test_progress_lines_off_a_tty():
    stream = stdio.StringIO()
    handler = ProgressHandler(stream=stream, total=3)
    logger = logging.getLogger("sparkmed.progress.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("phase validate done in %.1f s", 1.25)
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "phase validate done in 1.2 s" in line and line.endswith("\n") and "\r" not in line
