"""Console progress for the job: one updating line with a bar on a TTY, plain timestamped log lines otherwise.

The fit announces its phases on the ``sparkmed.progress`` logger ("phase round 2 done in 3.1 s"); the job adds
its own phases (session, read, write ...) on the same logger. Logs are what CI and spark-submit capture, so
off a TTY nothing is redrawn. Every handler that carries sparkmed's lines gets ``redact.LOG_FILTER``: no
secret from the config (or a URI's user-info) reaches the console or a captured log.
"""

from __future__ import annotations

import logging
import sys
import time

from sparkmed.job.redact import install_log_filter

PROGRESS = "sparkmed.progress"


class ProgressHandler(logging.Handler):
    """Draws ``[#####.....] 5/12  12.3 s  phase round 2 done in 3.1 s`` in place when the stream is a TTY."""

    def __init__(self, stream=None, total: int = 0):
        super().__init__(logging.INFO)
        self.stream = stream or sys.stderr
        self.total = total
        self.done = 0
        self.t0 = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if not self.tty:
                self.stream.write(self.format(record) + "\n")
            else:
                self.done += 1
                total = max(self.total, self.done)
                width = 24
                filled = int(width * self.done / total) if total else 0
                bar = "#" * filled + "." * (width - filled)
                line = f"[{bar}] {self.done}/{total} {time.perf_counter() - self.t0:6.1f} s  {record.getMessage()}"
                self.stream.write("\r\x1b[K" + line[:160])
            self.stream.flush()
        except Exception:  # never let the console kill the job
            self.handleError(record)

    def finish(self) -> None:
        if self.tty and self.done:
            self.stream.write("\n")
            self.stream.flush()


def setup_logging(level: str, quiet: bool = False, total: int = 0) -> ProgressHandler | None:
    """``sparkmed`` logs at ``level`` to stderr; ``sparkmed.progress`` goes to the progress handler (unless quiet)."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        from sparkmed.job.config import ConfigError

        raise ConfigError(f"--log-level {level!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sparkmed").setLevel(numeric)
    plog = logging.getLogger(PROGRESS)
    for h in list(plog.handlers):
        if isinstance(h, ProgressHandler):
            plog.removeHandler(h)
    if quiet:
        plog.setLevel(max(numeric, logging.WARNING))
        install_log_filter()
        return None
    handler = ProgressHandler(total=total)
    plog.addHandler(handler)
    plog.setLevel(logging.INFO)
    plog.propagate = False
    install_log_filter()
    return handler


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
