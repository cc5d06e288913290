"""Warnings that point at the user's line, from any depth and from job threads.

A fixed ``stacklevel`` breaks as soon as a warning is raised one call deeper (a decorator, a
path that calls the single fit) and means nothing in a job thread, whose stack ends in the
thread pool. :func:`warn_user` therefore attributes a warning to the first frame outside the
package, and inside jobs run by :func:`fastl1.cv.run_jobs` it defers the warning to the
thread that runs the jobs, which raises it there (:func:`deferred_warnings`,
:func:`replay`), so cross-validation warns at the user's ``fit`` call as a single fit does.
"""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["deferred_warnings", "replay", "warn_user"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_JOB = threading.local()  # .deferred: the list collecting a job's warnings


def _user_stacklevel() -> int:
    """``stacklevel`` for :func:`warnings.warn` called in :func:`warn_user`: the first frame
    that is not fastl1's own code (nor a ``functools``/``contextlib`` wrapper)."""
    frame = sys._getframe(2)  # warn_user's caller
    level = 2
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(_PACKAGE_DIR) or name.endswith(("functools.py",
                                                               "contextlib.py"))):
            break
        frame = frame.f_back
        level += 1
    return level


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` as a ``category`` warning at the user's line (see module docs)."""
    deferred = getattr(_JOB, "deferred", None)
    if deferred is not None:
        deferred.append((message, category))
        return
    warnings.warn(message, category, stacklevel=_user_stacklevel())


@contextmanager
def deferred_warnings() -> Iterator[list]:
    """Collect the warnings :func:`warn_user` issues in this thread within the block (a job's)."""
    previous = getattr(_JOB, "deferred", None)
    _JOB.deferred = collected = []
    try:
        yield collected
    finally:
        _JOB.deferred = previous


def replay(collected: list) -> None:
    """Issue warnings collected by :func:`deferred_warnings`, in order, in this thread."""
    for message, category in collected:
        warn_user(message, category)
