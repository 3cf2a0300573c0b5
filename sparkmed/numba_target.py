"""Which CPU numba compiles sparkmed's kernels for, and where their cache lives, set before numba is imported.

Why: a fresh cluster (a Databricks job cluster, an autoscaled executor, a new packed venv) otherwise compiles
every kernel in every Python worker on its first fit (~50 s per worker for a Euclidean fit). numba can load
machine code from its on-disk cache instead, but it keys every cached entry by the compiling machine's CPU
name and feature list: a cache built on one CPU model misses on every other. Compiling for a named CPU level
with an empty feature list makes the key the same on every machine of that level, so the wheel built by
``scripts/build_wheel.sh`` ships a cache that loads anywhere with the same Python and numba versions.
The level is the highest of **x86-64-v4** (AVX-512: Intel Skylake-SP and later servers, AMD Zen 4) and
**x86-64-v3** (AVX2, FMA, BMI2: every x86-64 server CPU since Intel Haswell / AMD Zen) that the CPU has; the
wheel ships a cache for each. Measured here (AMD EPYC, znver4), single thread: the pruned swap-delta kernel at
n=100k takes 0.8-1.3x the host-tuned time at v3; the scoring kernel (2M rows, d=8, 10 sets of 20) 0.52-0.60 s
at v4, 0.72 s at v3, 0.58-0.67 s host-tuned; LLVM's ``generic`` x86-64 (SSE2) is 2-2.7x slower on swap
deltas. Every result is identical (``fastmath`` is off: nothing is contracted or reassociated on any target).

Rules, applied once per process by ``apply()`` (``sparkmed/__init__`` calls it first):

- ``NUMBA_CPU_NAME`` already set by the user: left alone. ``SPARKMED_NUMBA_CPU`` chooses: the default
  ``auto`` takes the highest level of ``LEVELS`` whose features the CPU has (``/proc/cpuinfo``), else numba's
  host default; a level named explicitly is used only where the CPU has it (its code would stop with an
  illegal instruction elsewhere), else host; ``host`` keeps numba's default (host-tuned, a cache only that
  CPU model loads); any other LLVM CPU name (``generic``, ``x86-64-v2``) is used as given. A named CPU gets
  ``NUMBA_CPU_FEATURES=""`` unless that is set: the features follow from the name, and the cache key holds no
  host feature list.
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
DEFAULT_CPU = "auto"
V3_FLAGS = frozenset({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave", "cx16", "lahf_lm",
                      "popcnt", "pni", "sse4_1", "sse4_2", "ssse3"})
"""``/proc/cpuinfo`` names of the x86-64-v3 features (v2's plus AVX, AVX2, BMI1/2, F16C, FMA, LZCNT, MOVBE)."""
V4_FLAGS = V3_FLAGS | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}
LEVELS = {"x86-64-v4": V4_FLAGS, "x86-64-v3": V3_FLAGS}
"""The portable CPU levels, highest first: the wheel ships a cache for each (``scripts/build_wheel.sh``)."""
KERNELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernels")
SHIPPED_CACHE = os.path.join(KERNELS_DIR, "__pycache__")
CACHE_SUFFIXES = (".nbi", ".nbc")


def apply() -> None:
    """Set numba's CPU target and cache directory for this process (before numba is imported)."""
    if "NUMBA_CPU_NAME" not in os.environ:
        cpu = chosen_cpu(os.environ.get(CPU_ENV, DEFAULT_CPU).strip() or DEFAULT_CPU)
        if cpu != "host":
            os.environ["NUMBA_CPU_NAME"] = cpu
            os.environ.setdefault("NUMBA_CPU_FEATURES", "")
    if not os.environ.get("NUMBA_CACHE_DIR") and not _writable(SHIPPED_CACHE):
        user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), f"sparkmed-numba-cache-{user}")
    if os.environ.get("NUMBA_CACHE_DIR"):
        # An unwritable cache directory: numba reports it itself, and compiles without the cache.
        with contextlib.suppress(OSError):
            seed_cache_dir(os.environ["NUMBA_CACHE_DIR"])


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags from ``cpuinfo`` (empty where there is no such file: not Linux x86-64)."""
    try:
        with open(cpuinfo) as f:
            return frozenset(next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), []))
    except OSError:
        return frozenset()


def chosen_cpu(requested: str, cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU name numba should compile for (``host``: numba's own default); see the module docstring."""
    if requested == "auto":
        flags = cpu_flags(cpuinfo)
        return next((level for level, needs in LEVELS.items() if needs <= flags), "host")
    if requested in LEVELS:
        return requested if LEVELS[requested] <= cpu_flags(cpuinfo) else "host"
    return requested


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
