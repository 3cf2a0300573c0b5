"""The job's console on a real pseudo-terminal: log records above the bar, never inside it; a readable end.

Off a terminal the output keeps its plain timestamped lines (``test_cli_local`` and ``test_job_*`` read them).
"""

from __future__ import annotations

import re
import sys
import textwrap

import pytest
from terminal import run_in_terminal

BAR = "━"  # rich's bar glyph: only the progress line has it


def is_bar(line: str) -> bool:
    """A progress-bar line: rich's glyph, or a hand-drawn ``[####....]`` bar."""
    return BAR in line or re.search(r"\[[#.]{10,}\]", line) is not None

CHILD = textwrap.dedent('''
    import logging, sys, time
    from sparkmed.job.progress import setup_logging, Phases
    handler = setup_logging("INFO", total=6)
    log = logging.getLogger("sparkmed")
    phases = Phases()
    for i in range(6):
        phases.run(f"step {i}", time.sleep, 0.25)
        log.info("record number %d with a long message that would wrap if glued to a bar " + "x" * 40, i)
        logging.getLogger("sparkmed.fit").warning("a warning from a child logger %d", i)
    handler.finish()
    print("after the bar", file=sys.stderr)
''')


def test_log_records_never_share_a_line_with_the_bar():
    code, lines, raw = run_in_terminal([sys.executable, "-c", CHILD], timeout=120)
    assert code == 0, raw
    records = [line for line in lines if "record number" in line or "a warning from" in line]
    assert len(records) == 12, lines
    for line in lines:
        assert not (is_bar(line) and ("record number" in line or "warning from" in line)), line
        if "record number" in line:  # whole, not wrapped mid-word after a bar
            assert line.endswith("glued to a bar " + "x" * 40), line
    assert any("step 5 done in" in line for line in lines), lines
    assert lines[-1] == "after the bar"
    assert not any(is_bar(line) for line in lines), "the bar is transient: gone once the run ends"


def test_quiet_prints_only_errors():
    child = textwrap.dedent('''
        import logging
        from sparkmed.job.progress import setup_logging, Phases
        setup_logging("INFO", quiet=True)
        Phases().run("step", lambda: None)
        logging.getLogger("sparkmed").info("an info line")
        logging.getLogger("sparkmed").warning("a warning line")
        logging.getLogger("sparkmed").error("an error line")
    ''')
    code, lines, raw = run_in_terminal([sys.executable, "-c", child], timeout=120)
    assert code == 0, raw
    assert [line for line in lines if "line" in line] == [lines[-1]] and "an error line" in lines[-1], lines
    assert not any("step done" in line for line in lines)


@pytest.mark.spark
def test_fit_in_a_terminal(tmp_path, spark):
    """A real ``sparkmed fit`` on a TTY: no Spark start-up notes, no glued lines, the end table."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(3000, 3)), columns=["a", "b", "c"])
    frame["id"] = np.arange(len(frame))
    src = tmp_path / "in.parquet"
    frame.to_parquet(src)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sparkmed.cli", "fit", "--input", str(src), "--features", "a,b,c",
           "--id", "id", "-k", "3", "-o", str(out), "--no-report"]
    code, lines, raw = run_in_terminal(cmd, timeout=600)
    assert code == 0, raw
    for note in ("Using Spark's default log4j profile", "Setting default log level", "To adjust logging level",
                 "NativeCodeLoader"):
        assert not any(note in line for line in lines), (note, lines)
    for line in lines:
        assert not (is_bar(line) and " INFO " in f" {line} "), line
    table = {line.split()[0]: line for line in lines if line.split()}
    for label in ("k", "rows", "cost", "seconds", "output"):
        assert label in table, lines
    assert "3,000" in table["rows"]
