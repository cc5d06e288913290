"""BLAS held to one thread while fastl1's kernels run.

The kernels call BLAS and LAPACK only for small products and solves (support steps' Gram
systems, test-fold predictions, intercepts), which gain nothing from threads. OpenBLAS's idle
workers spin for about 0.1 s after a multi-threaded call, so a threaded call inside a fit takes
a core from the fit's own Numba threads (a single fit's parallel gradients, or the jobs of a
cross-validation) for that long.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_CONTROLLER: list[ThreadpoolController] = []  # found once: a search costs 2-4 ms per call
_HOLD = {"count": 0, "limiter": None}
_HOLD_LOCK = threading.Lock()


def _controller() -> ThreadpoolController:
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


@contextmanager
def blas_on_one_thread() -> Iterator[None]:
    """Hold BLAS to one thread while the block runs.

    The limit is process-wide, so holds are counted across threads: the first to enter sets
    it (about 14 us), the last to leave restores the previous limits, and holds nested inside
    another (a path inside a cross-validation job) cost a lock and a counter.
    """
    with _HOLD_LOCK:
        if _HOLD["count"] == 0:
            _HOLD["limiter"] = _controller().limit(limits=1, user_api="blas")
        _HOLD["count"] += 1
    try:
        yield
    finally:
        with _HOLD_LOCK:
            _HOLD["count"] -= 1
            if _HOLD["count"] == 0:
                _HOLD["limiter"].restore_original_limits()
                _HOLD["limiter"] = None
