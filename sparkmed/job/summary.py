"""The end of a job on the console: a short table a person can read (on a terminal) from the run's metrics.

Rows: command, k, rows, cost, mean cost, medoid silhouette, cluster sizes (smallest / median / largest, and
all of them up to 12 clusters), the drift of a warm-started refit, seconds per phase, and where each output
went.  Off a terminal the job keeps
its one ``done:`` line (scripts and captured logs read it); ``--json`` prints ``metrics.json`` on stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

MAX_LISTED_SIZES = 12


def _sizes(sizes: list[float]) -> str:
    if not sizes:
        return "-"
    ordered = sorted(sizes)
    head = f"min {ordered[0]:,.0f} / median {ordered[len(ordered) // 2]:,.0f} / max {ordered[-1]:,.0f}"
    if len(sizes) <= MAX_LISTED_SIZES:
        head += "  (" + ", ".join(f"{v:,.0f}" for v in sizes) + ")"
    return head


def _phases(metrics: dict[str, Any]) -> str:
    seconds = dict(metrics.get("phases_seconds") or {})
    fit = metrics.get("fit_phases_seconds") or {}
    parts = [f"{name} {sec:.1f}" for name, sec in seconds.items()]
    if fit:
        parts.append("(fit: " + ", ".join(f"{name} {float(sec):.1f}" for name, sec in fit.items()) + ")")
    return "  ".join(parts) or "-"


def _outputs(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    out = str(metrics.get("output", "")).rstrip("/")  # a local path or a Hadoop URI: joined as strings
    rows = [("output", out)]
    if metrics.get("command") != "assign":
        rows += [("  model", f"{out}/model"), ("  medoids", f"{out}/medoids")]
    if metrics.get("assignments"):
        rows.append(("  assignments", f"{out}/assignments"))
    report = metrics.get("report") or {}
    if report.get("html"):
        rows.append(("  report", f"{out}/{report['html']}"))
    elif report.get("skipped"):
        rows.append(("  report", f"skipped: {report['skipped']}"))
    rows.append(("  metrics", f"{out}/metrics.json"))
    mlflow = metrics.get("mlflow") or {}
    if isinstance(mlflow, dict) and mlflow.get("run_id"):
        rows.append(("  mlflow run", str(mlflow["run_id"])))
    return rows


def summary_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) rows of the end table, from a run's metrics (as in ``metrics.json``)."""
    rows = [("command", str(metrics.get("command", "")))]
    if metrics.get("k") is not None:
        rows.append(("k", str(metrics["k"])))
    if metrics.get("best_k") is not None:
        rows.append(("best k", str(metrics["best_k"])))
    if metrics.get("n") is not None:
        rows.append(("rows", f"{int(metrics['n']):,}"))
    if metrics.get("cost") is not None:
        rows.append(("cost", f"{float(metrics['cost']):.6g}"))
    if metrics.get("mean_cost") is not None:
        rows.append(("mean cost", f"{float(metrics['mean_cost']):.6g}"))
    if metrics.get("silhouette") is not None:
        rows.append(("medoid silhouette", f"{float(metrics['silhouette']):.4f}"))
    if metrics.get("cluster_sizes"):
        rows.append(("cluster sizes", _sizes([float(v) for v in metrics["cluster_sizes"]])))
    drift = metrics.get("drift")
    if drift:
        shifts = [float(c["medoid_shift"]) for c in drift["clusters"]]
        rows.append(("drift", f"previous model's cost {float(drift['previous_cost']):.6g} -> "
                              f"{float(drift['cost']):.6g}; {100 * float(drift['reassigned_share']):.1f}% of rows "
                              f"changed cluster; largest medoid shift {max(shifts):.4g}"))
    rows.append(("seconds", _phases(metrics)))
    return rows + _outputs(metrics)


def print_table(metrics: dict[str, Any], stream: IO, clean: Callable[[str], str] = str) -> None:
    """The end table on ``stream`` (a terminal), drawn with rich; ``clean`` redacts every value."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for label, value in summary_rows(metrics):
        table.add_row(label, clean(value))
    Console(file=stream).print(table)
