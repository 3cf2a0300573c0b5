"""Console output of the job: a live progress bar on a terminal, plain timestamped lines otherwise.

The fit announces its phases on the ``sparkmed.progress`` logger ("phase round 2 done in 3.1 s"); the job adds
its own phases (session, read, write ...) on the same logger.

- **On a terminal** (stderr is a TTY) the display belongs to `rich <https://github.com/Textualize/rich>`_:
  one :class:`rich.progress.Progress` bar (phases done / expected, elapsed, estimate, the last phase) and a
  :class:`rich.logging.RichHandler` on the same console for every other log record, so records print *above*
  the bar and never inside it.  rich is used instead of a hand-drawn ``\\r`` line because the hand-drawn one
  glued log lines to the bar and wrapped them mid-word.
- **Off a terminal** (CI, spark-submit logs, Databricks job logs) nothing is redrawn: every record is one
  ``%(asctime)s %(levelname)s %(name)s: %(message)s`` line, as before.

Every handler that carries sparkmed's lines gets ``redact.LOG_FILTER`` (installed by the caller after this
module's setup): no secret from the config (or a URI's user-info) reaches the console or a captured log.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import IO

from sparkmed.job.redact import install_log_filter

PROGRESS = "sparkmed.progress"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def is_terminal(stream: IO) -> bool:
    """Whether ``stream`` is an interactive terminal (the only place a live bar is drawn)."""
    return bool(getattr(stream, "isatty", lambda: False)())


class ProgressHandler(logging.Handler):
    """Handler of the ``sparkmed.progress`` logger: a rich bar on a TTY, plain lines otherwise.

    ``total`` is the expected number of phase records (``job.run.expected_phases``); exceeding it is
    harmless (the bar's total grows).  :meth:`finish` stops the live display; call it before printing the
    end summary.
    """

    def __init__(self, stream: IO | None = None, total: int = 0):
        super().__init__(logging.INFO)
        self.stream = stream or sys.stderr
        self.tty = is_terminal(self.stream)
        self.done = 0
        self.t0 = time.perf_counter()
        self.setFormatter(logging.Formatter(PLAIN_FORMAT))
        self.console = None
        self._progress = None
        self._task = None
        self._total = total
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.console = Console(file=self.stream)
            self._progress = Progress(
                TextColumn("[bold]sparkmed[/]"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                TextColumn("{task.description}"),
                TextColumn("[cyan]{task.fields[tasks]}"),
                console=self.console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._task = self._progress.add_task("starting", total=total or None, tasks="")
        self._started = False  # the live display starts with the first phase record: the JVM writes its own
        self._stop = threading.Event()  # start-up lines to the terminal before that, and they keep their lines

    @property
    def total(self) -> int:
        return self._total

    @total.setter
    def total(self, value: int) -> None:
        self._total = value
        if self._progress is not None:
            self._progress.update(self._task, total=max(value, self.done) or None)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._progress is None:
                self.stream.write(self.format(record) + "\n")
                self.stream.flush()
                return
            from rich.markup import escape

            if not self._started:
                self._progress.start()
                self._started = True
            self.done += 1
            message = record.getMessage()
            if message.startswith("phase "):
                message = message[len("phase "):]
            # the same columns as the RichHandler's records (time, an 8-wide level, message), "phase" as level
            stamp = time.strftime("%H:%M:%S")
            self._progress.console.print(f"[dim]{stamp}[/] [green]{'phase':<8}[/] {escape(message)}", markup=True,
                                         highlight=False)
            total = max(self._total, self.done)
            self._progress.update(self._task, completed=self.done, total=total, description=escape(message))
        except Exception:  # never let the console kill the job
            self.handleError(record)

    def watch(self, spark: object, every: float = 0.5) -> None:
        """Show the running Spark stages' finished / total tasks next to the bar (classic sessions; under
        Spark Connect, which has no status tracker, nothing is shown)."""
        if self._progress is None:
            return
        try:
            tracker = spark.sparkContext.statusTracker()
        except Exception:  # Spark Connect: no sparkContext
            return

        def poll() -> None:
            while not self._stop.wait(every):
                try:
                    done = total = 0
                    for sid in tracker.getActiveStageIds():
                        info = tracker.getStageInfo(sid)
                        if info is not None:
                            done += info.numCompletedTasks
                            total += info.numTasks
                    text = f"tasks {done}/{total}" if total else ""
                    progress = self._progress
                    if progress is not None:
                        progress.update(self._task, tasks=text)
                except Exception:  # the session is stopping: stop watching
                    return

        threading.Thread(target=poll, name="sparkmed-progress", daemon=True).start()

    def finish(self) -> None:
        """Stop the live bar (idempotent)."""
        self._stop.set()
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _plain_root() -> None:
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format=PLAIN_FORMAT)


def setup_logging(level: str, quiet: bool = False, total: int = 0) -> ProgressHandler | None:
    """``sparkmed`` logs at ``level`` to stderr; ``sparkmed.progress`` goes to the progress handler.

    ``quiet``: errors only (no progress, no info). On a TTY every other log record (sparkmed's and any other
    library's) goes through a ``RichHandler`` on the root logger, on the progress console, so it prints above
    the bar.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        from sparkmed.job.config import ConfigError

        raise ConfigError(f"--log-level {level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    sp = logging.getLogger("sparkmed")
    plog = logging.getLogger(PROGRESS)
    for logger in (plog, sp, logging.getLogger()):
        for h in list(logger.handlers):
            if getattr(h, "_sparkmed_console", False) or isinstance(h, ProgressHandler):
                logger.removeHandler(h)
    if quiet:
        _plain_root()
        sp.setLevel(logging.ERROR)
        plog.setLevel(logging.ERROR)
        install_log_filter()
        return None
    sp.setLevel(numeric)
    handler = ProgressHandler(total=total)
    plog.addHandler(handler)
    plog.setLevel(logging.INFO)
    plog.propagate = False
    if handler.console is not None:
        from rich.logging import RichHandler

        rich_handler = RichHandler(console=handler.console, show_path=False, rich_tracebacks=False,
                                   markup=False, log_time_format="%H:%M:%S")
        rich_handler._sparkmed_console = True
        root = logging.getLogger()
        for h in list(root.handlers):  # a plain stream handler would write through the bar
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) in (sys.stderr, sys.stdout):
                root.removeHandler(h)
        root.addHandler(rich_handler)
    else:
        _plain_root()
    sp.propagate = True
    install_log_filter()
    return handler


def watch_spark(spark: object) -> None:
    """Let the live bar (if any) show the running stages' task counts of ``spark``."""
    for h in logging.getLogger(PROGRESS).handlers:
        if isinstance(h, ProgressHandler):
            h.watch(spark)


class Phases:
    """Times the job's own phases and announces them like the fit does (``phase write medoids done in 0.8 s``)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.log = logging.getLogger(PROGRESS)

    def run(self, name: str, fn, *args, **kwargs):
        t = time.perf_counter()
        result = fn(*args, **kwargs)
        self.seconds[name] = round(time.perf_counter() - t, 3)
        self.log.info("phase %s done in %.1f s", name, self.seconds[name])
        return result
