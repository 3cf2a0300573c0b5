"""Run a command in a pseudo-terminal and read back what a person would see on it.

The child's stdin/stdout/stderr are the slave side of a ``pty`` (so ``isatty()`` is true and rich draws its live
display); everything it writes is fed to a ``pyte`` terminal emulator of the given size, whose screen plus
scroll-back history is what the tests inspect: a line glued to a progress bar stays glued on that screen.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

import pyte


def run_in_terminal(cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None,
                    columns: int = 140, rows: int = 50, timeout: float = 600.0) -> tuple[int, list[str], str]:
    """``(exit code, rendered lines (history + screen, right-stripped, empty ones dropped), raw output)``."""
    master, slave = pty.openpty()
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    full_env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows),
                **(env or {})}
    full_env.pop("NO_COLOR", None)
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=full_env, cwd=cwd,
                            close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                raise TimeoutError(f"{cmd} did not finish in {timeout} s")
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
    code = proc.wait(timeout=60)
    raw = b"".join(chunks).decode("utf-8", "replace")
    screen = pyte.HistoryScreen(columns, rows, history=100000)
    stream = pyte.Stream(screen)
    stream.feed(raw.replace("\n", "\r\n") if "\r\n" not in raw else raw)
    lines = ["".join(line[x].data for x in range(columns)).rstrip() for line in screen.history.top]
    lines += [line.rstrip() for line in screen.display]
    return code, [line for line in lines if line], raw
