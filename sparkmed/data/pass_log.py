"""What a fit does to the cluster, made visible: Spark job descriptions and the record of full-data passes.

Every function that reads every row (of the input or of the packed blocks) announces itself with
:func:`full_data_pass`; ``counting_passes`` records those announcements so that tests can assert how many
passes ``fit``, ``transform``, ``computeCost``, the evaluator and ``select_k`` make (a guard on structure,
not on time). ``set_job_description`` labels the Spark jobs in the UI in classic mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Descriptions of the full-data passes run while ``counting_passes`` is active (tests guard their number).
_RECORDED: ContextVar[list[str] | None] = ContextVar("sparkmed_full_data_passes", default=None)


@contextmanager
def counting_passes() -> Iterator[list[str]]:
    """Record every full-data pass started inside the block (its description), e.g. to assert how many a fit
    makes: ``with counting_passes() as passes: est.fit(df)``."""
    token = _RECORDED.set([])
    try:
        yield _RECORDED.get()
    finally:
        _RECORDED.reset(token)


def full_data_pass(description: str) -> None:
    """Announce a pass over every row (of the input or of the packed blocks) to ``counting_passes``."""
    recorded = _RECORDED.get()
    if recorded is not None:
        recorded.append(description)


def set_job_description(session, text: str | None) -> None:
    """Label the next Spark jobs in the UI ("sparkmed: score 10 candidates"); a no-op where unsupported."""
    try:
        sc = session.sparkContext  # classic mode only; Spark Connect has no SparkContext
    except Exception:  # noqa: BLE001 - Connect raises its own error type here
        return
    sc.setJobDescription(None if text is None else f"sparkmed: {text}")
