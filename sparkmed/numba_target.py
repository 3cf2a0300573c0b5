"""Which CPU numba compiles sparkmed's kernels for, and where their cache lives, set before numba is imported.

Why: a fresh cluster (a Databricks job cluster, an autoscaled executor, a new packed venv) otherwise compiles
every kernel in every Python worker on its first fit (~50 s per worker for a Euclidean fit). numba can load
machine code from its on-disk cache instead, but it keys every cached entry by the compiling machine's CPU
name and feature list: a cache built on one CPU model misses on every other. Compiling for LLVM's
``generic`` x86-64 CPU (SSE2, no host-specific features) makes the key the same on every x86-64 machine, so
the wheel built by ``scripts/build_wheel.sh`` ships a cache that loads anywhere with the same Python and
numba versions. Measured here: the FasterPAM kernel is ~25 % slower in-process (n=10k, k=100: 0.57 s vs
0.45 s), a whole 200k-row fit is unchanged within noise (passes are bound by Arrow transfer, not by SIMD),
and every result is identical (``fastmath`` is off, so no FMA contraction on either target).

Rules, applied once per process by ``apply()`` (``sparkmed/__init__`` calls it first):

- ``NUMBA_CPU_NAME`` already set by the user: left alone. ``SPARKMED_NUMBA_CPU=host`` keeps numba's default
  (host CPU, not portable); anything else (default ``generic``) sets ``NUMBA_CPU_NAME`` to it.
- If numba was imported before sparkmed, its configuration is already read: nothing changes in this process
  (it compiles for the host, correctly, and misses the shipped cache). Executors import sparkmed first.
- The shipped cache sits in ``sparkmed/kernels/__pycache__`` (numba's in-tree locator). Where that directory is
  not writable (a read-only site-packages), numba would fall back to a per-user cache, or fail at import, so
  ``NUMBA_CACHE_DIR`` is pointed at a per-user temporary directory. Whenever ``NUMBA_CACHE_DIR`` is in effect
  (set here or by the user, e.g. ``spark.executorEnv.NUMBA_CACHE_DIR``), the shipped files are copied into it
  once, each file only if absent, atomically (write then rename), so concurrent workers never see half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile

CPU_ENV = "SPARKMED_NUMBA_CPU"
DEFAULT_CPU = "generic"
KERNELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernels")
SHIPPED_CACHE = os.path.join(KERNELS_DIR, "__pycache__")
CACHE_SUFFIXES = (".nbi", ".nbc")


def apply() -> None:
    """Set numba's CPU target and cache directory for this process (before numba is imported)."""
    if "NUMBA_CPU_NAME" not in os.environ:
        cpu = os.environ.get(CPU_ENV, DEFAULT_CPU).strip()
        if cpu and cpu != "host":
            os.environ["NUMBA_CPU_NAME"] = cpu
    if not os.environ.get("NUMBA_CACHE_DIR") and not _writable(SHIPPED_CACHE):
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), f"sparkmed-numba-cache-{os.getuid()}")
    if os.environ.get("NUMBA_CACHE_DIR"):
        # An unwritable cache directory: numba reports it itself, and compiles without the cache.
        with contextlib.suppress(OSError):
            seed_cache_dir(os.environ["NUMBA_CACHE_DIR"])


def _writable(directory: str) -> bool:
    """True if numba's in-tree locator could write ``directory`` (it creates it if the parent allows)."""
    if os.path.isdir(directory):
        return os.access(directory, os.W_OK | os.X_OK)
    parent = os.path.dirname(directory)
    return os.path.isdir(parent) and os.access(parent, os.W_OK | os.X_OK)


def user_cache_subdir(cache_dir: str, source_dir: str = KERNELS_DIR) -> str:
    """Where numba's ``NUMBA_CACHE_DIR`` locator looks for the cache of sources in ``source_dir``.

    numba (``_CacheLocator.get_suitable_cache_subpath``) names it ``<dir name>_<sha1 of the absolute dir>``;
    ``tests/test_shipped_cache.py`` checks that numba loads from here without compiling.
    """
    path = os.path.abspath(source_dir)
    return os.path.join(cache_dir, f"{os.path.basename(path)}_{hashlib.sha1(path.encode()).hexdigest()}")


def seed_cache_dir(cache_dir: str) -> int:
    """Copy the shipped cache files that ``cache_dir`` lacks into it; returns how many were copied."""
    if not os.path.isdir(SHIPPED_CACHE):
        return 0
    shipped = [f for f in os.listdir(SHIPPED_CACHE) if f.endswith(CACHE_SUFFIXES)]
    if not shipped:
        return 0
    target = user_cache_subdir(cache_dir)
    if os.path.realpath(target) == os.path.realpath(SHIPPED_CACHE):
        return 0
    os.makedirs(target, exist_ok=True)
    copied = 0
    for name in shipped:
        dest = os.path.join(target, name)
        if os.path.exists(dest):
            continue
        with open(os.path.join(SHIPPED_CACHE, name), "rb") as f:
            data = f.read()
        fd, tmp = tempfile.mkstemp(dir=target, prefix=".seed-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, dest)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        copied += 1
    return copied
