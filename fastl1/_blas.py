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
_DEPTH = threading.local()  # holds entered by this thread and not yet left


def _controller() -> ThreadpoolController:
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0]


def hold_depth() -> int:
    """How many holds the calling thread is inside."""
    return getattr(_DEPTH, "value", 0)


@contextmanager
def blas_on_one_thread() -> Iterator[None]:
    """Hold BLAS to one thread while the block runs.

    Only a thread's outermost hold sets the limit (about 14 us) and restores the previous
    one when it ends; holds nested inside it (a path inside a fit, a fit inside a
    cross-validation job) cost nothing. The limit is the process's, as with threadpoolctl
    itself: holds that overlap in several threads restore in the order they end.
    """
    depth = hold_depth()
    if depth:
        _DEPTH.value = depth + 1
        try:
            yield
        finally:
            _DEPTH.value = depth
        return
    with _controller().limit(limits=1, user_api="blas"):
        _DEPTH.value = 1
        try:
            yield
        finally:
            _DEPTH.value = 0
