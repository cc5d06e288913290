"""Cross-validation over regularisation paths, on threads or on the active joblib backend.

Every cross-validated estimator runs the same plan (:func:`fastl1._path_plan.cross_validate`):
one job per (penalty mix, fold) computes a warm-started path on the fold's training rows and
scores each solution on its test rows; one more job per penalty mix computes the path on all
rows, which supplies the final model at the chosen alpha (as glmnet's ``cv.glmnet`` does)
instead of a refit after the search. The extra job is what lets two threads share ``k + 1``
jobs nearly evenly. This module has what the plan runs on: folds, fold rows and the job
runner.

By default jobs run on a thread pool: the kernels release the GIL, so there is no process
spawning and no copy of X per worker beyond the fold's own rows. Each job runs its kernels
single-threaded and from fixed seeds, so results are bit-for-bit the same for any ``n_jobs``.
BLAS is held to one thread for the whole fit (:func:`one_blas_thread`). The pool persists
between fits: joblib's threading backend starts and joins a pool per call, about 12 ms of a
0.55 s cross-validation here. A joblib backend chosen by the user (``joblib.parallel_config(
backend="dask")``) runs the same jobs instead, as module-level functions whose shared data
(X, y) go to the cluster once per fit (:func:`run_jobs`).
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed, effective_n_jobs
from joblib.parallel import SequentialBackend, ThreadingBackend, get_active_backend
from sklearn.model_selection import check_cv

from . import _interrupt
from ._blas import blas_on_one_thread
from ._interrupt import STOP, interruptible, raise_if_stopped
from ._kernels.design import take_rows
from ._solver import kernel_array
from ._warn import deferred_warnings, replay

__all__ = ["fold_rows", "one_blas_thread", "one_standard_error_index", "report_progress",
           "run_jobs", "split"]


def split(cv, X, y, classifier: bool = False, *, weights: np.ndarray | None = None,
          **split_params) -> list:
    """The ``(train, test)`` index pairs of ``cv`` (an int, a splitter or an iterable).

    A fold may give rows as integer indices (negative ones count from the end, as in NumPy)
    or as boolean masks over the rows, as scikit-learn accepts; both become int64 indices in
    ``[0, n_samples)``, which is all the fold kernels read (they do not check bounds). With
    ``weights`` (the fit's sample weights), a fold whose training or test rows all have zero
    weight is an error: its model or its test error would be undefined."""
    splitter = check_cv(cv, y, classifier=classifier)
    n_samples = X.shape[0]
    folds = []
    for k, (train, test) in enumerate(splitter.split(X, y, **split_params)):
        folds.append((_fold_indices(train, n_samples, k, "training"),
                      _fold_indices(test, n_samples, k, "test")))
    for k, (train, test) in enumerate(folds):
        if train.shape[0] == 0 or test.shape[0] == 0:
            raise ValueError(f"Cross-validation fold {k} has an empty training or test set.")
        if weights is not None:
            for rows, part in ((train, "training"), (test, "test")):
                if not np.sum(weights[rows]) > 0:
                    raise ValueError(f"Cross-validation fold {k}'s {part} rows all have zero "
                                     "sample weight; use fewer zero weights or other folds.")
    return folds


def _fold_indices(rows, n_samples: int, k: int, part: str) -> np.ndarray:
    """One side of fold ``k`` as int64 row indices, checked against ``n_samples``."""
    rows = np.asarray(rows)
    if rows.ndim != 1:
        raise ValueError(f"Cross-validation fold {k}'s {part} rows must be a 1-D array of "
                         f"indices or a boolean mask, got shape {rows.shape}.")
    if rows.dtype.kind == "b":
        if rows.shape[0] != n_samples:
            raise ValueError(f"Cross-validation fold {k}'s {part} mask has {rows.shape[0]} "
                             f"entries for {n_samples} samples.")
        return np.flatnonzero(rows).astype(np.int64)
    if rows.shape[0] == 0:
        return np.empty(0, dtype=np.int64)
    if rows.dtype.kind not in "iu":
        raise ValueError(f"Cross-validation fold {k}'s {part} rows must be integer indices "
                         f"or a boolean mask, got an array of dtype {rows.dtype}.")
    low, high = int(rows.min()), int(rows.max())
    if low < -n_samples or high >= n_samples:
        bad = low if low < -n_samples else high
        raise ValueError(f"Cross-validation fold {k}'s {part} rows include index {bad}, out "
                         f"of range for {n_samples} samples.")
    return np.where(rows < 0, rows + n_samples, rows).astype(np.int64)


def fold_rows(X, rows: np.ndarray):
    """The rows ``rows`` of a kernel-ready design: F-ordered for dense, CSC for sparse.

    One gather per fold and nothing else: a dense design is copied column by column into an
    F-ordered block (no C-ordered temporary), a CSC design by scipy's row selection.
    """
    if sp.issparse(X):
        return X[rows]
    out = np.empty((rows.shape[0], X.shape[1]), dtype=X.dtype, order="F")
    take_rows(kernel_array(X), rows, out)
    return out


_PROGRESS: ContextVar[Callable[[int, int], None] | None] = ContextVar("fastl1_progress",
                                                                     default=None)


@contextmanager
def report_progress(callback: Callable[[int, int], None]):
    """Within this block, :func:`run_jobs` calls ``callback(done, total)`` as jobs finish
    (the command line's progress bar uses it)."""
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


_POOLS: dict[int, tuple[int, ThreadPoolExecutor]] = {}  # workers -> (owner pid, pool)
_POOLS_LOCK = threading.Lock()
_WORKER = threading.local()  # set in the pool's threads: nested calls run in place


def _mark_worker() -> None:
    _WORKER.active = True


def _thread_pool(n_workers: int) -> ThreadPoolExecutor:
    """The process's pool of ``n_workers`` threads (a new one after ``fork``: the parent's
    threads do not exist in the child)."""
    with _POOLS_LOCK:
        owner, pool = _POOLS.get(n_workers, (None, None))
        if owner != os.getpid():
            pool = ThreadPoolExecutor(n_workers, thread_name_prefix="fastl1",
                                      initializer=_mark_worker)
            _POOLS[n_workers] = (os.getpid(), pool)
        return pool


def one_blas_thread(fit: Callable) -> Callable:
    """Run ``fit`` with BLAS held to one thread (threadpoolctl).

    BLAS only serves small products in these fits (test-fold predictions, intercepts): its own
    threads would compete with the jobs', and one thread for any ``n_jobs`` keeps its sums,
    hence the results, the same. It covers the whole fit, not only the jobs: after a
    multi-threaded call OpenBLAS's idle workers spin for about 0.1 s, so a product over all
    features before the jobs (or, in a loop of fits, the previous fit's intercept) would take
    a core from the jobs for their first 0.1 s (40-60 ms of CPU time per 5-fold LassoCV on
    a 100 x 20000 problem). Holds nest
    (:func:`._blas.blas_on_one_thread`).
    """

    @functools.wraps(fit)
    def wrapped(*args, **kwargs):
        with blas_on_one_thread():
            return fit(*args, **kwargs)

    return wrapped


def run_jobs(jobs: Sequence[Callable[[], object]], n_jobs: int | None,
             verbose: int = 0) -> list:
    """Run callables on ``n_jobs`` workers of the active joblib backend; results in order.

    With no backend chosen (or joblib's ``"threading"`` or ``"sequential"``), the jobs run on
    this process's persistent thread pool (``-1`` = all cores, joblib's convention and its
    ``parallel_config``). Under any other backend (``joblib.parallel_config(backend="dask")``,
    ``"loky"``, ...) they go through :class:`joblib.Parallel`, which sends them where the
    backend runs them, with ``n_jobs`` passed on (joblib's Dask backend uses every worker
    thread of the cluster whatever its value; no job runs on the client). A job given as
    ``functools.partial(function, *args, **kwargs)`` of a module-level function travels as
    that function and its arguments: an argument several jobs share (``X``, ``y``) is a
    top-level argument of every call, which joblib's Dask backend scatters to the cluster once
    per call; the others travel with their job.

    ``verbose`` reports progress as joblib does. BLAS runs on one thread meanwhile
    (:func:`one_blas_thread`), in this process and in the jobs run elsewhere. The warnings a
    job issues through :func:`fastl1._warn.warn_user` come back with its result and are
    issued again here, in the calling thread, so they point at the user's call. On threads, a
    job not started when a fit is interrupted does not start (:mod:`fastl1._interrupt`);
    elsewhere, Ctrl-C raises :class:`KeyboardInterrupt` in the waiting thread at once and
    joblib cancels the jobs not started (a running remote job ends on its own).
    """
    if _runs_elsewhere():
        return _run_elsewhere(jobs, n_jobs, verbose)
    return _run_on_threads(jobs, n_jobs, verbose)


def _runs_elsewhere() -> bool:
    """Whether the active joblib backend (the user's ``parallel_config``; threads unless
    chosen, as scikit-learn's ``prefer="threads"``) runs jobs outside this process's threads."""
    backend, _ = get_active_backend(prefer="threads")
    return not isinstance(backend, (ThreadingBackend, SequentialBackend))


@interruptible
@one_blas_thread
def _run_on_threads(jobs: Sequence[Callable[[], object]], n_jobs: int | None,
                    verbose: int) -> list:
    """:func:`run_jobs` on the process's persistent pool (joblib's threads start a pool per
    call, about 10 ms each)."""
    n_workers = min(effective_n_jobs(n_jobs), len(jobs))
    if getattr(_WORKER, "active", False):
        n_workers = 1  # a job that runs jobs: its pool's threads are busy (no deadlock)
    callback = _PROGRESS.get()
    jobs = [functools.partial(_run_job, job) for job in jobs]
    if verbose:
        results = Parallel(n_jobs=n_workers, prefer="threads", verbose=verbose,
                           return_as="generator")(delayed(job)() for job in jobs)
        return _collect(results, len(jobs), callback)
    if n_workers == 1:
        return _collect((job() for job in jobs), len(jobs), callback)
    futures = [_thread_pool(n_workers).submit(job) for job in jobs]
    try:
        return _collect((future.result() for future in futures), len(jobs), callback)
    except KeyboardInterrupt:
        STOP[0] = 1  # the running jobs' kernels return within an epoch
        raise
    finally:  # after a failure: drop the jobs not started, let the running ones end
        for future in futures:
            future.cancel()
        wait(futures)


@one_blas_thread
def _run_elsewhere(jobs: Sequence[Callable[[], object]], n_jobs: int | None,
                   verbose: int) -> list:
    """:func:`run_jobs` through :class:`joblib.Parallel` on the active backend."""
    shared = Counter(id(value) for job in jobs for value in _arguments(job))
    calls = []
    for job in jobs:
        if isinstance(job, functools.partial):
            # joblib's Dask backend scatters a large top-level argument (once per call);
            # one used by a single job goes with that job's task instead, without a
            # round trip of its own.
            args = [_keep(value, shared) for value in job.args]
            kwargs = {name: _keep(value, shared) for name, value in job.keywords.items()}
            calls.append(delayed(_run_remote)(job.func, *args, **kwargs))
        else:
            calls.append(delayed(_run_remote)(job))
    with _keyboard_interrupts():
        results = Parallel(n_jobs=n_jobs, prefer="threads", verbose=verbose,
                           return_as="generator")(calls)
        return _collect(results, len(jobs), _PROGRESS.get())


def _arguments(job) -> list:
    if isinstance(job, functools.partial):
        return [*job.args, *job.keywords.values()]
    return []


class _Private:
    """An argument of one job only: not weak-referenceable, so joblib's Dask backend sends
    it inside the job's task rather than scattering it on its own."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __reduce__(self):
        return _Private, (self.value,)


def _keep(value, shared: Counter):
    return value if shared[id(value)] > 1 else _Private(value)


def _run_remote(function: Callable, /, *args, **kwargs) -> tuple[object, list]:
    """Run one job where the backend placed it (maybe another process, with none of the
    client's thread-local state): BLAS on one thread, warnings collected and returned."""
    args = [value.value if isinstance(value, _Private) else value for value in args]
    kwargs = {name: value.value if isinstance(value, _Private) else value
              for name, value in kwargs.items()}
    with blas_on_one_thread():
        return _run_job(functools.partial(function, *args, **kwargs))


@contextmanager
def _keyboard_interrupts():
    """Let Ctrl-C raise :class:`KeyboardInterrupt` in the main thread within the block.

    During a fit, SIGINT only sets :data:`fastl1._interrupt.STOP`, which the kernels of this
    process read; jobs in other processes never see it, so the thread waiting for them
    would wait on. Raising lets joblib cancel the jobs not started."""
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not _interrupt._on_sigint:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, _interrupt._on_sigint)


def _run_job(job: Callable[[], object]) -> tuple[object, list]:
    """Run one job unless the fit was interrupted; return its result and its warnings."""
    raise_if_stopped()
    with deferred_warnings() as issued:
        return job(), issued


def _collect(results, total: int, callback: Callable[[int, int], None] | None) -> list:
    collected = []
    for result, issued in results:
        replay(issued)
        collected.append(result)
        if callback is not None:
            callback(len(collected), total)
    return collected


def one_standard_error_index(mean: np.ndarray, std_error: np.ndarray) -> int:
    """Index of the largest alpha (grid largest first) whose mean CV error is within one
    standard error of the minimum: glmnet's ``lambda.1se`` (Hastie, Tibshirani & Friedman,
    *Elements of Statistical Learning*, 2nd ed., sec. 7.10)."""
    best = int(np.argmin(mean))
    return int(np.flatnonzero(mean <= mean[best] + std_error[best])[0])


def fold_std_error(scores: np.ndarray) -> np.ndarray:
    """Standard error of the mean over folds (last axis): ``std(ddof=1) / sqrt(k)``."""
    k = scores.shape[-1]
    if k < 2:
        return np.zeros(scores.shape[:-1])
    return scores.std(axis=-1, ddof=1) / np.sqrt(k)
