"""Compile every kernel specialisation users hit, ahead of time, in parallel processes.

Numba compiles a kernel the first time it meets a new combination of argument types (dtype,
dense or sparse layout, index width; for the squared loss also whether a Gram matrix or
unpenalised features are given) and caches the machine code on disk, so the first fit of
each kind on a machine costs a compile and later processes load it. :func:`precompile` pays
all of it at once, for Docker images and cluster nodes (``fastl1 compile``): each
specialisation group runs small fits that reach the same kernels as real ones (large enough
for the threaded kernels, CSR large enough to be read in place), one group per process, as
many processes as cores. :func:`announce_compilation` makes a command say when it compiles
instead of sitting silent.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context

import numpy as np

__all__ = ["SPECIALISATIONS", "announce_compilation", "precompile", "warm"]

_DTYPES = ("float64", "float32")
_LAYOUTS = ("dense", "csc-int32", "csc-int64", "csr-int32", "csr-int64")
_MODELS = ("squared", "logistic")

#: Every specialisation group: ``"<model> <layout> <dtype>"``.
SPECIALISATIONS = tuple(f"{model} {layout} {dtype}" for model in _MODELS
                        for layout in _LAYOUTS for dtype in _DTYPES)


def _design(layout: str, dtype: str):
    """A design of the layout and dtype, big enough for the threaded kernels and, for CSR,
    for the in-place reading of single fits (``_solver.CSR_IN_PLACE_MIN_NNZ``)."""
    import scipy.sparse as sp

    from . import _solver

    rng = np.random.default_rng(0)
    if layout == "dense":
        return rng.standard_normal((120, 3000)).astype(dtype)
    fmt, index = layout.split("-")
    density = max(_solver.CSR_IN_PLACE_MIN_NNZ / (2000 * 4000) * 1.1, 0.01)
    X = sp.random(2000, 4000, density=density, format=fmt, dtype=dtype, random_state=rng)
    X.indices = X.indices.astype(index)
    X.indptr = X.indptr.astype(index)
    return X


def _squared(X) -> None:
    from . import ElasticNet, Lasso, LassoCV, enet_path

    n = X.shape[0]
    rng = np.random.default_rng(1)
    y = np.asarray(X[:, :5].sum(axis=1)).ravel() + 0.1 * rng.standard_normal(n)
    weights = rng.uniform(0.5, 2.0, n)
    for intercept in (True, False):
        Lasso(alpha=0.05, fit_intercept=intercept).fit(X, y)
        Lasso(alpha=0.05, fit_intercept=intercept, positive=True).fit(X, y, weights)
    ElasticNet(alpha=0.05, l1_ratio=0.5, selection="random").fit(X, y)
    # An unpenalised feature: the solver's specialisation with the dual point's projection.
    factor = np.ones(X.shape[1])
    factor[0] = 0.0
    Lasso(alpha=0.05, penalty_factor=factor).fit(X, y)
    enet_path(X, y, alphas=3, l1_ratio=0.5)
    LassoCV(alphas=3, cv=2, n_jobs=1).fit(X, y, sample_weight=weights)
    tall = X[:, :40]  # n_samples > n_features: the Gram-matrix (covariance) kernels
    Lasso(alpha=0.01, precompute=True, fit_intercept=False).fit(tall, y)


def _logistic(X) -> None:
    from . import LogisticRegression, LogisticRegressionCV

    rng = np.random.default_rng(2)
    # Labels need not depend on X to reach the kernels; drawn at random, every class is in
    # every fold, whatever the layout (a sparse X's row sums are mostly zero).
    binary = rng.integers(0, 2, X.shape[0])
    classes = rng.integers(0, 3, X.shape[0])
    for y in (binary, classes):
        LogisticRegression(C=1.0, l1_ratio=1.0).fit(X, y)
        LogisticRegression(C=1.0, l1_ratio=0.5, fit_intercept=False).fit(
            X, y, sample_weight=rng.uniform(0.5, 2.0, X.shape[0]))
    LogisticRegression(C=1.0, l1_ratio=1.0, solver="fista").fit(X, binary)
    LogisticRegressionCV(Cs=2, cv=2, l1_ratios=[1.0], n_jobs=1).fit(X, binary)


_WORKLOADS: dict[str, Callable] = {"squared": _squared, "logistic": _logistic}


def warm(group: str) -> float:
    """Compile (or load from the cache) the kernels of one :data:`SPECIALISATIONS` group in
    this process; return the seconds it took."""
    import warnings

    model, layout, dtype = group.split()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tiny fits: convergence does not matter here
        _WORKLOADS[model](_design(layout, dtype))
    return time.perf_counter() - start


def precompile(groups=SPECIALISATIONS, n_jobs: int | None = None,
               progress: Callable[[int, int, str, float], None] | None = None
               ) -> dict[str, float]:
    """Compile the kernels of ``groups`` in ``n_jobs`` fresh processes (default: one per core).

    Parameters
    ----------
    groups : sequence of str
        Names from :data:`SPECIALISATIONS`.
    n_jobs : int or None
        Processes at once (``None``: ``os.cpu_count()``).
    progress : callable or None
        Called as ``progress(done, total, group, seconds)`` as each group finishes.

    Returns
    -------
    dict
        Seconds each group took (compile, or cache load when it was already compiled).
    """
    unknown = sorted(set(groups) - set(SPECIALISATIONS))
    if unknown:
        raise ValueError(f"Unknown specialisation groups {unknown}; see SPECIALISATIONS.")
    workers = max(1, min(n_jobs or os.cpu_count() or 1, len(groups)))
    seconds: dict[str, float] = {}
    # Fresh interpreters: a forked child would inherit this process's compiled code.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(warm, group): group for group in groups}
        for future in as_completed(futures):
            group = futures[future]
            seconds[group] = future.result()
            if progress is not None:
                progress(len(seconds), len(groups), group, seconds[group])
    return seconds


class _CompileNotice:
    """A Numba compile listener that prints one line the first time a fastl1 kernel is
    compiled (not loaded from the cache) in this process."""

    def __init__(self, stream) -> None:
        from numba.core import event

        self.stream = stream
        self.said = False

        class Listener(event.Listener):
            def on_start(listener, ev) -> None:  # noqa: N805 (the notice is the state)
                if not self.said and _is_fastl1(ev.data["dispatcher"]):
                    self.said = True
                    # The stream of the moment (None: sys.stderr now, which a caller may
                    # have replaced since); a notice never fails a fit.
                    try:
                        print("fastl1: compiling solvers once for this machine (a minute "
                              "or two; later runs load them from the cache; 'fastl1 "
                              "compile' does it ahead of time) ...",
                              file=self.stream or sys.stderr, flush=True)
                    except (OSError, ValueError):
                        pass

            def on_end(listener, ev) -> None:  # noqa: N805
                pass

        event.register("numba:compile", Listener())


def _is_fastl1(dispatcher) -> bool:
    module = getattr(getattr(dispatcher, "py_func", None), "__module__", "") or ""
    return module.startswith("fastl1.")


_NOTICE: _CompileNotice | None = None


def announce_compilation(stream=None) -> None:
    """From now on, say once (on ``stream``, default stderr) when kernels get compiled."""
    global _NOTICE
    if _NOTICE is None:
        _NOTICE = _CompileNotice(stream)
