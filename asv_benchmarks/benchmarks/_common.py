"""Shared helpers of the asv suites: problem sizes, cached problems, kernel inputs, memory
accounting and the fresh-interpreter first-fit probe.

Conventions every suite follows (``tests/test_asv_benchmarks.py`` relies on them):

* the last parameter of a suite that builds data is ``scale`` (see :func:`scales`); the CI
  smoke test replaces it by a tiny value;
* ``smoke_params`` (optional class attribute, same shape as ``params``; its ``scale`` entry
  is replaced too) restricts the parameter values the smoke test runs, ``smoke_skip = True``
  skips a suite there (the cold-cache compile benchmark);
* a ``setup`` raising ``NotImplementedError`` means "not available here": asv records the
  benchmark as skipped, the smoke test skips it too.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc

import numpy as np
import scipy.sparse as sp

import fastl1
from fastl1.bench import make_bench_problem

# Solver accuracy of every timed fit (the ``fastl1 bench`` protocol, see fastl1.bench).
TOL = 1e-8
MAX_ITER = 100_000

# ``FASTL1_ASV_SCALE=0.01 asv run --python=same --quick`` runs every suite on tiny problems
# (a smoke run of the whole suite in a few minutes, JIT compilation included).
_SCALE_OVERRIDE = os.environ.get("FASTL1_ASV_SCALE")


def scales(default: float) -> list[float]:
    """The ``scale`` parameter values of a suite: ``[default]`` or the override above."""
    return [float(_SCALE_OVERRIDE)] if _SCALE_OVERRIDE else [default]


@functools.lru_cache(maxsize=4)
def problem(name: str, scale: float, dtype: str = "float64"):
    """The ``fastl1 bench`` problem ``name`` at ``scale`` (cached: asv calls ``setup`` once
    per repeat), with X and y in ``dtype``."""
    prob = make_bench_problem(name, scale=scale)
    if dtype != "float64":
        prob.X = prob.X.astype(dtype)
        prob.y = prob.y.astype(dtype)
    return prob


def x_nbytes(X) -> int:
    """Bytes held by the design matrix: the array, or data + indices + indptr."""
    if sp.issparse(X):
        return int(X.data.nbytes + X.indices.nbytes + X.indptr.nbytes)
    return int(np.asarray(X).nbytes)


def traced_peak(fn) -> int:
    """Peak bytes allocated while ``fn()`` runs, beyond what was allocated before.

    tracemalloc sees Python objects, NumPy array buffers (NumPy reports them to tracemalloc)
    and arrays allocated inside Numba kernels (Numba's runtime allocates through the Python
    allocator), so a copy or densification of X anywhere in a fit shows up here, unlike in
    asv's ``peakmem_`` (the process's maximum RSS, setup and JIT compilation included).
    """
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        if started:
            tracemalloc.stop()
    return int(peak - before)


def logistic_class():
    """``fastl1.LogisticRegression`` if this version has it, else None."""
    return getattr(fastl1, "LogisticRegression", None)


def require_logistic():
    cls = logistic_class()
    if cls is None:
        raise NotImplementedError("fastl1.LogisticRegression is not available in this version")
    return cls


def binary_labels(y: np.ndarray) -> np.ndarray:
    """Balanced 0/1 labels from a regression response (above / below its median)."""
    return (y > np.median(y)).astype(np.int64)


def logistic_c(X, labels: np.ndarray, factor: float) -> float:
    """``factor`` times the smallest ``C`` with a non-zero L1 logistic solution (no
    intercept): the gradient of the log-loss at 0 is ``X^T (1/2 - y)``."""
    corr = np.abs(np.asarray(X.T @ (labels - 0.5))).max()
    return factor / float(corr)


@functools.lru_cache(maxsize=2)
def logistic_problem(kind: str, scale: float):
    """``(X, labels)`` of an L1 logistic benchmark.

    ``dense``: 500 x 20000 (times ``scale``), AR(0.5)-correlated N(0, 1)
    columns, F-ordered, labels from a sparse linear model (20 non-zeros) plus logistic
    noise. ``sparse-csc`` / ``sparse-csr``: the design of the ``fastl1 bench`` sparse
    problems, labels ``y > median(y)`` from their regression response.
    """
    if kind == "dense":
        rng = np.random.default_rng(4)
        n, p = max(50, round(500 * scale)), max(100, round(20_000 * scale))
        Z = rng.standard_normal((p, n))
        for j in range(1, p):
            Z[j] = 0.5 * Z[j - 1] + np.sqrt(0.75) * Z[j]
        X = Z.T  # F-ordered
        w = np.zeros(p)
        w[rng.choice(p, min(20, p), replace=False)] = rng.choice([-1.0, 1.0], min(20, p))
        margin = X @ w + rng.logistic(size=n)
        return X, (margin > 0).astype(np.int64)
    fmt = kind.split("-")[1]
    prob = problem(f"sparse-{fmt}-a20", scale)
    return prob.X, binary_labels(prob.y)


# --------------------------------------------------------------------------------------------
# First fit in a fresh interpreter (JIT compile with a cold cache, load with a warm one)
# --------------------------------------------------------------------------------------------

# The first fit each estimator makes, on a tiny problem (the same code runs in-process to warm
# the cache and in the subprocess being timed). Must stay valid Python for ``exec``.
FIRST_FIT_CODE = r'''
def first_fit(name):
    import numpy as np
    import fastl1

    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((60, 200)))
    y = X[:, :5] @ np.arange(1.0, 6.0) + rng.standard_normal(60)
    if name == "Lasso":
        model = fastl1.Lasso(alpha=0.1)
    elif name == "LassoCV":
        model = fastl1.LassoCV(cv=3, alphas=20)
    elif name == "LogisticRegression":
        model = fastl1.LogisticRegression(C=0.5)
        y = (y > np.median(y)).astype(int)
    else:
        raise ValueError(name)
    return model.fit(X, y)
'''

_PROBE = r'''
import json, sys, time
start = time.perf_counter()
import fastl1
imported = time.perf_counter()
namespace = {}
exec(sys.argv[2], namespace)
fit_start = time.perf_counter()
namespace["first_fit"](sys.argv[1])
done = time.perf_counter()
print(json.dumps({"import": imported - start, "first_fit": done - fit_start}))
'''

FIRST_FIT_ESTIMATORS = ["Lasso", "LassoCV", "LogisticRegression"]


def check_estimator_available(name: str) -> None:
    if not hasattr(fastl1, name):
        raise NotImplementedError(f"fastl1.{name} is not available in this version")


def first_fit_in_process(name: str) -> None:
    """Run the probe's first fit here (compiles, or loads, and writes the Numba cache)."""
    namespace: dict = {}
    exec(FIRST_FIT_CODE, namespace)
    namespace["first_fit"](name)


def first_fit_in_subprocess(name: str, cold: bool) -> dict:
    """Seconds to ``import fastl1`` and to run the first fit, in a fresh interpreter.

    ``cold``: with ``NUMBA_CACHE_DIR`` set to a new empty folder, so every kernel the fit
    needs is compiled; else with the environment's cache (warm once a fit ran).
    """
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="fastl1-numba-cache-") as cache_dir:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache_dir
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _PROBE, name, FIRST_FIT_CODE],
                              env=env, capture_output=True, text=True, timeout=900,
                              check=False)
        wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"first-fit probe failed ({proc.returncode}):\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result
