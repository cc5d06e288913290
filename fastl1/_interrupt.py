"""Ctrl-C stops a fit within an epoch, as :class:`KeyboardInterrupt`, leaving no thread busy.

Kernels release the GIL and run for as long as a fit takes, so Python's own SIGINT handler,
which runs in the main thread between bytecodes, would wait for the whole fit (or, for
cross-validation on threads, for every running fold). Two pieces close that gap:

- :data:`STOP`, a one-byte array every long-running kernel receives and reads once an epoch
  (or a working-set round): set, the kernel returns where it is and the Python layer raises
  :class:`KeyboardInterrupt` (:func:`raise_if_stopped`);
- while the main thread runs a fit, SIGINT's handler only sets :data:`STOP`, and the
  interpreter's signal wake-up file descriptor (:func:`signal.set_wakeup_fd`) is a pipe read
  by a small daemon thread: Python's C-level handler writes the signal number there at once,
  even while the main thread is inside a kernel, and the thread sets :data:`STOP`. Any
  wake-up descriptor set before (an asyncio loop's) is restored after the fit and receives
  every byte meanwhile.

This applies only where SIGINT has Python's default handler: a program that installed its own
handler, or ignores SIGINT, keeps that behaviour. :data:`STOP` is cleared when the last fit in
the process ends, so an interrupt stops every fit running at that moment (cross-validation
folds on other threads included) and none after.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

__all__ = ["STOP", "interruptible", "raise_if_stopped"]

STOP = np.zeros(1, dtype=np.uint8)  # read by the kernels; 1 = stop now


class _Watch:
    """Fits in progress, and what turns a SIGINT into :data:`STOP` while they run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0  # fits in progress in any thread (nested calls count once each)
        self.read_fd = self.write_fd = -1
        self.forward_fd = -1  # the wake-up descriptor set before the main thread's fit
        self.main_depth = 0
        self.handling = False  # our SIGINT handler is installed (the default one was)
        self.interrupted = False  # a SIGINT arrived during the main thread's fit


_WATCH = _Watch()


def _after_fork_in_child() -> None:
    global _WATCH
    _WATCH = _Watch()  # the parent's watcher thread does not exist here
    STOP[0] = 0


os.register_at_fork(after_in_child=_after_fork_in_child)


def _watch_signals(read_fd: int) -> None:
    """The watcher thread: sets :data:`STOP` as soon as the C-level handler reports a
    SIGINT, while the main thread may be inside a kernel."""
    while True:
        try:
            received = os.read(read_fd, 512)
        except OSError:
            return
        if not received:
            return
        watch = _WATCH
        if signal.SIGINT in received and watch.handling:
            STOP[0] = 1
        forward = watch.forward_fd
        if forward >= 0:
            try:
                os.write(forward, received)
            except OSError:
                pass


def _on_sigint(signum, frame) -> None:
    """SIGINT during a fit: stop the kernels; the fit raises KeyboardInterrupt when they
    return. Raising here instead could interrupt Numba while it boxes a kernel's results
    (it runs Python code there), which surfaces as a SystemError. A second Ctrl-C, once
    the kernels were told to stop, raises at once."""
    if _WATCH.interrupted:
        raise KeyboardInterrupt
    _WATCH.interrupted = True
    STOP[0] = 1


def _start_watching(watch: _Watch) -> None:
    """Route SIGINT to :data:`STOP` for the main thread's fit."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return  # the program handles (or ignores) SIGINT its own way
    if watch.read_fd < 0:
        watch.read_fd, watch.write_fd = os.pipe()
        os.set_blocking(watch.write_fd, False)  # set_wakeup_fd requires it
        threading.Thread(target=_watch_signals, args=(watch.read_fd,), daemon=True,
                         name="fastl1-interrupt").start()
    try:
        watch.forward_fd = signal.set_wakeup_fd(watch.write_fd, warn_on_full_buffer=False)
        signal.signal(signal.SIGINT, _on_sigint)
    except (ValueError, OSError):  # not the main interpreter's main thread
        return
    watch.handling = True
    watch.interrupted = False


def _stop_watching(watch: _Watch) -> bool:
    """Restore the program's SIGINT handling; return whether a SIGINT arrived."""
    if not watch.handling:
        return False
    watch.handling = False
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.set_wakeup_fd(watch.forward_fd)
    watch.forward_fd = -1
    return watch.interrupted


@contextmanager
def _fit_in_progress() -> Iterator[None]:
    watch = _WATCH
    is_main = threading.current_thread() is threading.main_thread()
    with watch.lock:
        if watch.running == 0:
            STOP[0] = 0  # an interrupt noticed after the last fit ended is not for this one
        watch.running += 1
    outermost_main = is_main and watch.main_depth == 0
    if is_main:
        watch.main_depth += 1
        if outermost_main:
            _start_watching(watch)
    interrupted = False
    try:
        yield
    except KeyboardInterrupt:
        STOP[0] = 1  # every other fit of this process stops too (cross-validation folds)
        raise
    finally:
        if is_main:
            watch.main_depth -= 1
            if outermost_main:
                interrupted = _stop_watching(watch)
        with watch.lock:
            watch.running -= 1
            if watch.running == 0:
                STOP[0] = 0
    if interrupted:  # the SIGINT came after the last kernel returned: still honour it
        raise KeyboardInterrupt


def interruptible(function: Callable) -> Callable:
    """Make ``function`` (one that runs kernels) stop within an epoch on Ctrl-C.

    While it runs, a SIGINT sets :data:`STOP`; the kernels it calls return early and
    :func:`raise_if_stopped` turns that into :class:`KeyboardInterrupt`."""

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        with _fit_in_progress():
            return function(*args, **kwargs)

    return guarded


def raise_if_stopped() -> None:
    """Raise :class:`KeyboardInterrupt` if an interrupt stopped the kernels."""
    if STOP[0]:
        raise KeyboardInterrupt
