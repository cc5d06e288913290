"""BLAS held to one thread while the solvers run."""

import threading

import numpy as np
from threadpoolctl import threadpool_info

import fastl1
from fastl1._blas import blas_on_one_thread, hold_depth


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_holds_nest_and_restore_the_original_limits():
    original = _blas_threads()
    with blas_on_one_thread():
        assert all(t == 1 for t in _blas_threads())
        with blas_on_one_thread():
            assert hold_depth() == 2
        assert hold_depth() == 1
        assert all(t == 1 for t in _blas_threads())  # the outer hold still stands
    assert hold_depth() == 0
    assert _blas_threads() == original


def test_holds_are_counted_per_thread():
    # A worker thread's hold does not count in the main thread, and when it ends the
    # previous limits are back.
    original = _blas_threads()
    entered, release = threading.Event(), threading.Event()
    depths = []

    def hold():
        with blas_on_one_thread(), blas_on_one_thread():
            depths.append(hold_depth())
            entered.set()
            release.wait(30)
        depths.append(hold_depth())

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert entered.wait(30)
        assert hold_depth() == 0 and depths == [2]
    finally:
        release.set()
        worker.join()
    assert depths == [2, 0]
    assert _blas_threads() == original


def test_a_fit_holds_blas_while_it_solves(monkeypatch):
    from fastl1 import linear_model

    depths = []
    original_solve = linear_model.solve_enet

    def solve(*args, **kwargs):
        depths.append(hold_depth())
        return original_solve(*args, **kwargs)

    monkeypatch.setattr(linear_model, "solve_enet", solve)
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 8)), rng.standard_normal(20)
    fastl1.Lasso(alpha=0.1).fit(X, y)
    assert depths == [1]
    assert hold_depth() == 0
