"""The ``sparkmed`` command line: ``demo`` (the README's first command), ``fit``, ``assign``, ``select-k``,
``warmup`` (compile and cache the numba kernels once per installation, ``sparkmed.warmup``).

``demo`` generates a seeded data set of Gaussian blobs, starts a local Spark session, fits k-medoids
with the distributed FasterCLARA + full-data refinement, and prints what it found.

``fit`` / ``select-k`` / ``assign`` are the production job (``sparkmed.job``): a TOML config (``--config``)
with every key overridable (``--set section.key=value`` or the dedicated flags), checked before Spark starts.
Exit codes: 0 success, 2 bad config/input/paths (``InputError``: also an output that would destroy the input,
an ``--overwrite`` over a directory sparkmed did not write, an output another run holds, an output path the
filesystem refuses), 1 runtime failure. ``jobs/kmedoids_job.py`` calls ``main(argv, submitted=True)`` under
spark-submit. Everything the job prints or logs is redacted (``sparkmed.job.redact``): the values of
secret-looking ``--conf``/``--option`` settings and URI user-info never reach the console.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

import numpy as np


def _demo(args: argparse.Namespace) -> int:
    import pandas as pd

    from sparkmed import KMedoids
    from sparkmed.session import local_session

    rng = np.random.default_rng(args.seed)
    centres = rng.uniform(-10, 10, size=(args.k, args.dim))
    labels = rng.integers(0, args.k, size=args.rows)
    x = centres[labels] + rng.normal(size=(args.rows, args.dim))
    print(f"sparkmed demo: {args.rows} rows, d={args.dim}, {args.k} Gaussian blobs (seed {args.seed})")
    t0 = time.perf_counter()
    spark = local_session(args.master, "sparkmed-demo", quiet_start=True)
    print(f"Spark {spark.version} session ({args.master}) in {time.perf_counter() - t0:.1f} s")
    pdf = pd.DataFrame({"id": np.arange(args.rows), "features": list(x)})
    df = spark.createDataFrame(pdf).repartition(4).cache()
    df.count()
    t1 = time.perf_counter()
    model = KMedoids(k=args.k, metric=args.metric, seed=args.seed, idCol="id").fit(df)
    fit_s = time.perf_counter() - t1
    s = model.summary
    print(f"fit: {fit_s:.1f} s, {len(s.rounds)} CLARA round(s), {len(s.refinePasses)} refinement pass(es)")
    for r in s.rounds:
        print(f"  round {r.round}: {r.candidates} candidates, best cost {r.best_cost:.6g}")
    for rp in s.refinePasses:
        print(f"  refine pass {rp.index}: loss {rp.loss:.6g}, {rp.swaps} swap(s) {rp.note}")
    print(f"total cost (sum of {args.metric} distances to the nearest medoid): {s.trainingCost:.6g}")
    print(f"mean cost: {s.meanCost:.6g}   medoid silhouette: {s.medoidSilhouette:.4f}")
    print(" cluster   medoid id     size   medoid features")
    for i, (mid, size, med) in enumerate(zip(model.medoidIds(), s.clusterSizes, model.medoids(), strict=True)):
        print(f"{i:8d} {mid:>10} {int(size):8d}   {np.array2string(med[:4], precision=2)}"
              f"{' ...' if len(med) > 4 else ''}")
    truth = ((x - centres[labels]) ** 2).sum(axis=1) ** 0.5
    if args.metric == "euclidean":
        print(f"(for reference: distances to the generating centres, which are not data points, sum to "
              f"{truth.sum():.6g})")
    spark.stop()
    return 0


def _job_parser(sub, name: str, help_: str) -> argparse.ArgumentParser:
    """The options shared by fit / select-k / assign; every dedicated flag is a shorthand for one config key."""
    from sparkmed.kernels import PUBLIC_METRICS

    p = sub.add_parser(name, help=help_, description=help_)
    p.add_argument("-c", "--config", help="TOML config file (see conf/example.toml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any config key; VALUE is TOML (7, true, [\"a\",\"b\"]) or a bare string")
    g = p.add_argument_group("shorthands (applied after --set)")
    g.add_argument("--input", dest="input.path", help="input path (input.path)")
    g.add_argument("--table", dest="input.table", help="catalog table to read (input.table)")
    g.add_argument("--format", dest="input.format", help="parquet|csv|json|orc|delta (input.format)")
    g.add_argument("--option", dest="input.options", action="append", metavar="KEY=VALUE",
                   help="reader option, repeatable (input.options)")
    g.add_argument("--features", dest="input.features", help="comma-separated feature columns (input.features)")
    g.add_argument("--id", dest="input.id", help="row id column (input.id)")
    g.add_argument("--weight", dest="input.weight", help="row weight column (input.weight)")
    g.add_argument("-o", "--output", dest="output.path", help="output directory (output.path)")
    g.add_argument("--output-table", dest="output.table", metavar="PREFIX",
                   help="also write tables PREFIX_medoids and PREFIX_assignments (output.table)")
    g.add_argument("--overwrite", dest="output.overwrite", action="store_const", const=True,
                   help="replace an existing output once the new one is complete (output.overwrite)")
    g.add_argument("--no-report", dest="output.report", action="store_const", const=False,
                   help="skip report.html (output.report=false)")
    g.add_argument("--master", dest="spark.master", help="Spark master for local runs (spark.master)")
    g.add_argument("--conf", dest="spark.conf", action="append", metavar="KEY=VALUE",
                   help="Spark setting, repeatable (spark.conf)")
    g.add_argument("--mlflow", dest="mlflow.enabled", action="store_const", const=True,
                   help="log to MLflow (mlflow.enabled)")
    g.add_argument("--mlflow-tracking-uri", dest="mlflow.tracking_uri", help="(mlflow.tracking_uri)")
    g.add_argument("--mlflow-experiment", dest="mlflow.experiment", help="(mlflow.experiment)")
    if name != "assign":
        g.add_argument("--metric", dest="model.metric", help=f"one of {', '.join(PUBLIC_METRICS)} (model.metric)")
        g.add_argument("--seed", dest="model.seed", type=int, help="(model.seed)")
    if name == "fit":
        g.add_argument("-k", "--k", dest="model.k", type=int, help="number of clusters (model.k)")
        g.add_argument("--init-model", dest="model.init_model", metavar="PATH",
                       help="warm-start from a previous model or fit output; reports drift (model.init_model)")
    if name == "select-k":
        g.add_argument("--ks", dest="select_k.ks", help="comma-separated candidate k values (select_k.ks)")
    if name == "assign":
        g.add_argument("--model", dest="assign.model", help="saved model or fit output directory (assign.model)")
        g.add_argument("--trust-module", dest="assign.trust_modules", action="append", metavar="MODULE",
                       help="import MODULE (your choice) and use its numba functions as custom metrics the model "
                            "names, repeatable (assign.trust_modules)")
        g.add_argument("--stream", dest="assign.stream", action="store_const", const=True,
                       help="label the input continuously (Structured Streaming) into the output (assign.stream)")
        g.add_argument("--checkpoint", dest="assign.checkpoint", metavar="DIR",
                       help="streaming checkpoint: exactly once across restarts (assign.checkpoint)")
        g.add_argument("--trigger", dest="assign.trigger", help="available-now | processing-time (assign.trigger)")
        g.add_argument("--interval", dest="assign.interval", help="processing-time interval (assign.interval)")
    p.add_argument("--log-level", default=argparse.SUPPRESS, help="sparkmed log level (default INFO)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.add_argument("--json", action="store_true", help="print metrics.json on stdout when the run succeeds")
    return p


def _pairs(items: list[str] | None, flag: str) -> dict[str, str]:
    from sparkmed.job.config import ConfigError

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def _job(args: argparse.Namespace, submitted: bool) -> int:
    """Load + validate the config, run the command, map failures to exit codes (2 input, 1 runtime)."""
    from sparkmed.errors import InputError
    from sparkmed.job import config as C
    from sparkmed.job.progress import setup_logging
    from sparkmed.job.redact import LOG_FILTER, install_log_filter, redact, secret_values, secrets_of

    err = logging.getLogger("sparkmed")
    handler = None
    secrets: set[str] = set()  # known before the config loads, so even its errors are redacted
    try:
        handler = setup_logging(getattr(args, "log_level", None) or "INFO", quiet=args.quiet)
        overrides: list = list(args.overrides)
        for dest, value in vars(args).items():
            if "." not in dest or value is None:
                continue
            if dest == "input.options":
                value = _pairs(value, "--option")
            elif dest == "spark.conf":
                value = _pairs(value, "--conf")
            if isinstance(value, dict):
                secrets.update(secret_values(value))
            overrides.append((dest, value))
        install_log_filter(secrets)
        cfg = C.load(args.config, overrides)
        secrets.update(secrets_of(cfg))
        install_log_filter(secrets)
        if handler is not None:
            from sparkmed.job.run import expected_phases

            handler.total = expected_phases(args.command, cfg)
        from sparkmed.job.run import run

        metrics = run(args.command, cfg, submitted=submitted)
    except InputError as e:
        if handler is not None:
            handler.finish()
        print(redact(f"sparkmed {args.command}: error: {e}", secrets | LOG_FILTER.secrets), file=sys.stderr)
        return 2
    except Exception as e:
        if handler is not None:
            handler.finish()
        err.error("sparkmed %s failed", args.command, exc_info=True)
        print(redact(f"sparkmed {args.command}: failed: {type(e).__name__}: {str(e).strip()[:2000]}",
                     secrets | LOG_FILTER.secrets), file=sys.stderr)
        return 1
    if handler is not None:
        handler.finish()
    if getattr(args, "json", False):  # what metrics.json holds (the output may be on a Hadoop filesystem)
        from sparkmed.job.outputs import json_text

        sys.stdout.write(json_text(redact(metrics, secrets | LOG_FILTER.secrets)))
    if args.quiet:
        return 0
    if handler is not None and handler.tty:
        from sparkmed.job.summary import print_table

        print_table(metrics, sys.stderr, lambda v: redact(v, secrets | LOG_FILTER.secrets))
        return 0
    summary = f"k={metrics['k']} n={metrics['n']} cost={metrics['cost']:.6g}"
    if metrics.get("silhouette") is not None:
        summary += f" silhouette={metrics['silhouette']:.4f}"
    if metrics.get("best_k") is not None:
        summary += f" (best k of {cfg['select_k']['ks']})"
    print(redact(f"sparkmed {args.command}: done: {summary} -> {metrics['output']}", secrets), file=sys.stderr)
    return 0


def _terminate_cleanly() -> None:
    """SIGTERM (a killed spark-submit, a CI timeout) raises SystemExit so the staging directory is removed."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))


def main(argv: list[str] | None = None, *, submitted: bool = False) -> int:
    parser = argparse.ArgumentParser(prog="sparkmed", description="k-medoids clustering on Apache Spark")
    parser.add_argument("--log-level", default=None,
                        help="Python logging level (default WARNING for demo, INFO for the job commands)")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="cluster a generated example data set with local Spark")
    demo.add_argument("--rows", type=int, default=200_000)
    demo.add_argument("--dim", type=int, default=8)
    demo.add_argument("--k", type=int, default=8)
    demo.add_argument("--metric", default="euclidean")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--master", default="local[2]")
    warm = sub.add_parser("warmup", help="compile and cache the numba kernels of a fit once per installation "
                          "(a fresh install otherwise compiles ~60 s in its first fit)")
    warm.add_argument("--metric", action="append", default=None,
                      help="metric to warm (repeatable; default euclidean)")
    warm.add_argument("--master", default="local[2]")
    _job_parser(sub, "fit", "fit k-medoids on a table or files and write medoids, assignments, model, metrics")
    _job_parser(sub, "select-k", "try every k of select_k.ks, keep the best medoid silhouette, write like fit")
    _job_parser(sub, "assign", "label new data with a saved model: assignments and per-cluster metrics")
    args = parser.parse_args(argv)
    if args.command == "demo":
        logging.basicConfig(level=(args.log_level or "WARNING").upper(),
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
        return _demo(args)
    if args.command == "warmup":
        from sparkmed.warmup import DEFAULT_METRICS, warm

        logging.basicConfig(level=(args.log_level or "WARNING").upper())
        t0 = time.perf_counter()
        seconds = warm(tuple(args.metric or DEFAULT_METRICS), args.master)
        print("sparkmed warmup: " + ", ".join(f"{m} {s:.1f} s" for m, s in seconds.items())
              + f" ({time.perf_counter() - t0:.1f} s with the Spark session)")
        return 0
    _terminate_cleanly()
    return _job(args, submitted)


if __name__ == "__main__":
    sys.exit(main())
