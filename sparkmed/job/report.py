"""report.html with PNG plots: cluster sizes, cost per round/refinement pass, a 2-D PCA view of a sample.

matplotlib is an optional extra (``sparkmed[report]``): without it the report is skipped and the reason is
logged and recorded in metrics.json. The PCA plot uses a bounded sample (``output.report_sample`` rows via
``sample`` + ``limit``): the driver never collects the full data. Every value shown goes through
``redact.redact`` (the report is shared like metrics.json).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("sparkmed")


def matplotlib_available() -> str | None:
    """None when matplotlib can be used, else the reason it cannot."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except Exception as e:  # ImportError, or a broken backend
        return f"matplotlib not importable ({type(e).__name__}: {e}); install sparkmed[report]"
    return None


def sample_points(model, df, feature_params: dict, n_rows: int, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(features, cluster) of at most ``limit`` rows: a Bernoulli sample bounded by ``limit`` (never the full data)."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    from sparkmed.data.columns import col as column

    fraction = min(1.0, 2.0 * limit / max(n_rows, 1))
    part = df.sample(fraction=fraction, seed=seed).limit(limit)
    pred = model.copy({model.predictionCol: "_sm_cluster"}).transform(part)
    if "inputCols" in feature_params:
        feats = F.array(*[column(c).cast("double") for c in feature_params["inputCols"]])
    else:
        col = feature_params["featuresCol"]
        from sparkmed.data.columns import is_vector

        is_vec = is_vector(df.schema[col].dataType)
        feats = vector_to_array(column(col)) if is_vec else column(col).cast("array<double>")
    rows = pred.select(feats.alias("f"), F.col("_sm_cluster").alias("c")).where(F.col("c").isNotNull()).collect()
    if not rows:
        return np.zeros((0, model.medoids().shape[1])), np.zeros(0, dtype=int)
    return np.array([r["f"] for r in rows], dtype=float), np.array([r["c"] for r in rows], dtype=int)


def drift_html(drift: dict[str, Any] | None) -> str:
    """The report's drift section of a warm-started refit (``sparkmed.fit.drift``); empty without one."""
    if not drift:
        return ""

    def num(v: Any) -> str:
        return "–" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)

    head = (f"<p>previous model's cost on this data {num(drift['previous_cost'])}, refit cost {num(drift['cost'])} "
            f"(change {num(drift['cost_change'])}); rows whose matched cluster changed: "
            f"{100 * drift['reassigned_share']:.2f}%</p>")
    cols = ("cluster", "previous_cluster", "medoid_shift", "size", "previous_size", "size_change",
            "previous_size_on_new_data", "kept_share")
    header = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(num(c.get(name)))}</td>" for name in cols) + "</tr>"
                   for c in drift["clusters"])
    return f"<h2>Drift from the initial model</h2>{head}<table><tr>{header}</tr>{body}</table>"


def pca_2d(x: np.ndarray, medoids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project sample and medoids on the sample's first two principal components (numpy SVD; d may be 1)."""
    mean = x.mean(axis=0) if len(x) else medoids.mean(axis=0)
    xc = (x if len(x) else medoids) - mean
    _, _, vt = np.linalg.svd(xc, full_matrices=False)
    comps = vt[:2]
    if comps.shape[0] < 2:
        comps = np.vstack([comps, np.zeros_like(comps[0])])
    return (x - mean) @ comps.T, (medoids - mean) @ comps.T


def write_report(out: Path, metrics: dict[str, Any], x: np.ndarray, labels: np.ndarray, medoids: np.ndarray,
                 selection: list[dict] | None = None, secrets: Iterable[str] = ()) -> list[str]:
    """Write ``report/*.png`` and ``report.html`` under ``out``; returns the PNG paths (relative).
    ``secrets``: known secret values to mask in the page (``redact.secrets_of(cfg)``)."""
    from sparkmed.job.redact import redact

    metrics = redact(metrics, secrets)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pngs: list[str] = []
    (out / "report").mkdir(exist_ok=True)

    def save(fig, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / "report" / name, dpi=100)
        plt.close(fig)
        pngs.append(f"report/{name}")

    sizes = metrics.get("cluster_sizes") or []
    if sizes:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar(range(len(sizes)), sizes, color="tab:blue")
        ax.set(xlabel="cluster", ylabel="size (rows or weight)", title="Cluster sizes")
        save(fig, "cluster_sizes.png")

    rounds = metrics.get("rounds") or []
    passes = metrics.get("refine_passes") or []
    if rounds:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        xs = [r["round"] for r in rounds]
        ax.plot(xs, [r["best_cost"] for r in rounds], "o-", label="CLARA rounds (best full-data cost)")
        losses = [p.get("loss") for p in passes if p.get("loss") is not None]
        if losses:
            ax.plot([xs[-1] + i + 1 for i in range(len(losses))], losses, "s--", label="refinement passes")
        ax.set(xlabel="round / pass", ylabel="total cost", title="Cost per round")
        ax.legend(fontsize=8)
        save(fig, "cost_per_round.png")

    if len(medoids):
        p, pm = pca_2d(x, medoids)
        vmax = max(len(medoids) - 1, 1)
        fig, ax = plt.subplots(figsize=(6, 5))
        if len(p):
            ax.scatter(p[:, 0], p[:, 1], c=labels, cmap="tab20", vmin=0, vmax=vmax, s=4, alpha=0.6)
        ax.scatter(pm[:, 0], pm[:, 1], c=np.arange(len(pm)), cmap="tab20", vmin=0, vmax=vmax, s=160, marker="*",
                   edgecolors="black", linewidths=1.0, label="medoids")
        ax.set(xlabel="PC 1", ylabel="PC 2", title=f"PCA of a {len(p)}-row sample, coloured by cluster")
        ax.legend(fontsize=8)
        save(fig, "pca_sample.png")

    if selection:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ks = [r["k"] for r in selection]
        ax.plot(ks, [r["cost"] for r in selection], "o-", color="tab:blue")
        ax.set(xlabel="k", ylabel="total cost", title="Model selection")
        ax2 = ax.twinx()
        ax2.plot(ks, [r.get("silhouette") for r in selection], "s--", color="tab:orange")
        ax2.set_ylabel("medoid silhouette")
        save(fig, "select_k.png")

    summary_keys = ("command", "k", "n", "cost", "mean_cost", "silhouette", "best_k")
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(metrics[k]))}</td></tr>"
                   for k in summary_keys if k in metrics)
    phases = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:.2f} s</td></tr>"
                     for k, v in (metrics.get("phases_seconds") or {}).items())
    imgs = "".join(f'<p><img src="{html.escape(p)}" alt="{html.escape(p)}"></p>' for p in pngs)
    drift = drift_html(metrics.get("drift"))
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>sparkmed report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:2px 8px;text-align:left}}</style></head>
<body><h1>sparkmed {html.escape(str(metrics.get("command", "")))} report</h1>
<table>{rows}</table>{drift}<h2>Plots</h2>{imgs}<h2>Phases</h2><table>{phases}</table>
<p>Full details: <a href="metrics.json">metrics.json</a>.</p></body></html>
"""
    (out / "report.html").write_text(page, encoding="utf-8")
    return pngs
