"""Optional MLflow logging of a finished run: params (the flattened config), metrics, and the artifacts.

Called on the complete staging directory just before it is committed, so a run whose MLflow logging fails
fails as a whole (exit 1, no output) instead of leaving an output that the tracking server does not know.
``assignments/`` (one row per input row) is not uploaded: it is data, not an artifact; nor are the job's
bookkeeping files (``_SPARKMED_*``: the staging owner record). Params are the REDACTED config
(``redact.redact``): secret-looking Spark/reader settings and URI user-info never reach the tracking server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger("sparkmed")

_NUMERIC = ("k", "n", "cost", "mean_cost", "silhouette", "rounds_count", "refine_passes_count", "best_k",
            "unassigned")


def log_run(cfg: dict[str, dict[str, Any]], metrics: dict[str, Any], staging: Path,
            secrets: Iterable[str] = ()) -> dict[str, str]:
    """Log to MLflow; returns ``{"run_id", "experiment_id", "tracking_uri"}`` for metrics.json (the tracking
    URI as MLflow reports it: redact it before writing it anywhere)."""
    import mlflow

    from sparkmed.job.config import flatten
    from sparkmed.job.redact import redact

    m = cfg["mlflow"]
    if m["tracking_uri"]:
        mlflow.set_tracking_uri(m["tracking_uri"])
    experiment = mlflow.set_experiment(m["experiment"])
    with mlflow.start_run(run_name=m["run_name"] or None) as run:
        mlflow.set_tag("sparkmed.command", metrics.get("command", ""))
        mlflow.log_params({k: v[:6000] for k, v in flatten(redact(cfg, secrets)).items()})
        values = {k: float(metrics[k]) for k in _NUMERIC if isinstance(metrics.get(k), int | float)}
        values.update({f"seconds_{k}": float(v) for k, v in (metrics.get("phases_seconds") or {}).items()})
        mlflow.log_metrics(values)
        for i, r in enumerate(metrics.get("rounds") or []):
            mlflow.log_metric("round_best_cost", float(r["best_cost"]), step=i + 1)
        for item in sorted(staging.iterdir()):
            if item.name == "assignments" or item.name.startswith("_SPARKMED"):
                continue
            if item.is_dir():
                mlflow.log_artifacts(str(item), artifact_path=item.name)
            else:
                mlflow.log_artifact(str(item))
        info = {"run_id": run.info.run_id, "experiment_id": experiment.experiment_id,
                "tracking_uri": mlflow.get_tracking_uri()}
    log.info("MLflow run %s logged to %s", info["run_id"], info["tracking_uri"])
    return info
