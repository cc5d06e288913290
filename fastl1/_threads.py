"""Who may run Numba's parallel kernels: one Python thread at a time, never a forked child.

Numba's threading layers are not all safe to enter from several Python threads or after a
``fork``:

- the ``workqueue`` layer (the one Numba falls back to without OpenMP or TBB) aborts the whole
  process when two Python threads enter ``parallel=True`` code at once ("Concurrent access has
  been detected");
- the GNU OpenMP layer (``omp``, what a pip-installed Numba uses on Linux) terminates a child
  process that enters a parallel region after its parent used one, so a
  ``multiprocessing.Pool`` forked after a fit hangs on its dead workers.

fastl1 therefore guards the layer itself instead of requiring one: a fit that would use Numba's
threads first claims them (:func:`claim_threads`); the claim is re-entrant within a thread and
never waits, so a concurrent fit in another Python thread, or any fit in a child forked from a
process whose threading layer is running, runs its kernels on one thread. The parallel kernels
reduce over fixed chunks, so the result is the same either way; only the speed differs.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numba
from numba.np.ufunc import parallel as _numba_parallel

__all__ = ["claim_threads", "claims_threads", "holds_threads"]


class _Claim:
    """The process-wide claim on Numba's thread pool and the thread that holds it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.owner: int | None = None
        self.usable = True  # False in a child forked after the layer started


_CLAIM = _Claim()

# GNU OpenMP's idle threads spin before they sleep (GOMP_SPINCOUNT, 300000 by default; it reads
# OMP_WAIT_POLICY when the layer starts, just below). Between two parallel gradients a fit runs
# serial coordinate descent on the main thread, with which the spinning workers compete for
# the cores: on a machine that other work keeps busy, an L1 logistic path of the leukemia
# data took 5-10 times longer than on one thread (docs/benchmarks.md, "Threads on a busy
# machine"). Sleeping workers cost a wake-up of microseconds per parallel region instead, and
# the kernels only go parallel for work far larger than that. A user's setting is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Start Numba's threading layer now, before any kernel runs. A kernel loaded from the on-disk
# cache that calls parallel code (the gradients) reaches the layer through pointers that only
# its start sets, even when it runs single-threaded: a process whose first fit passed
# ``parallel=False`` (a cross-validation job in a fresh worker process) called a null
# address. Starting the layer costs about a millisecond; the threads of the OpenMP layer only
# start with the first parallel region.
numba.get_num_threads()


def _after_fork_in_child() -> None:
    global _CLAIM
    usable = _CLAIM.usable and not getattr(_numba_parallel, "_is_initialized", False)
    # The parent's lock may have been held by one of its threads, which do not exist here.
    _CLAIM = _Claim()
    _CLAIM.usable = usable


os.register_at_fork(after_in_child=_after_fork_in_child)


def holds_threads() -> bool:
    """Whether the calling thread holds the claim on Numba's threads."""
    return _CLAIM.owner == threading.get_ident()


@contextmanager
def claim_threads(requested: bool | None = None) -> Iterator[bool]:
    """Claim Numba's threads for the calling thread's kernels within the block.

    Parameters
    ----------
    requested : bool or None
        ``False`` asks for one thread (nothing is claimed); ``True`` or ``None`` (when more
        than one thread is configured, ``numba.get_num_threads()``) ask for the pool.

    Yields
    ------
    bool
        Whether the block may call ``parallel=True`` kernels: the pool was asked for, this
        thread holds the claim (already, or now), and the process is not a child forked after
        the threading layer started in its parent.
    """
    claim = _CLAIM
    if requested is False or not claim.usable:
        yield False
        return
    me = threading.get_ident()
    if claim.owner == me:  # nested in this thread's own claim
        yield requested is not None or numba.get_num_threads() > 1
        return
    if not claim.lock.acquire(blocking=False):
        yield False  # another thread's fit has the pool: run on this thread alone
        return
    claim.owner = me
    try:
        yield requested is not None or numba.get_num_threads() > 1
    finally:
        claim.owner = None
        claim.lock.release()


def claims_threads(function: Callable) -> Callable:
    """Run ``function`` under :func:`claim_threads`, its ``parallel`` keyword argument
    (``None``, ``True`` or ``False``) replaced by the claim's answer."""

    @functools.wraps(function)
    def claimed(*args, parallel: bool | None = None, **kwargs):
        with claim_threads(parallel) as allowed:
            return function(*args, parallel=allowed, **kwargs)

    return claimed
