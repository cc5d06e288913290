"""Numba's parallel kernels under concurrent Python threads and in forked children."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from fastl1 import Lasso
from fastl1._threads import claim_threads, holds_threads

SCRIPT_DATA = """
import numpy as np
rng = np.random.default_rng(0)
X = rng.standard_normal((200, 30000))
y = X[:, :5].sum(axis=1) + rng.standard_normal(200)
"""


def _run(script: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", SCRIPT_DATA + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, **env})


def test_a_claim_is_held_by_one_thread_at_a_time_and_nests():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other():
        inside.wait()
        with claim_threads(True) as allowed:
            seen["other"] = allowed
        release.set()

    thread = threading.Thread(target=other)
    thread.start()
    with claim_threads(True) as allowed:
        assert allowed and holds_threads()
        with claim_threads(None) as nested:
            seen["nested"] = nested
        assert holds_threads()  # the nested block does not release the outer claim
        inside.set()
        release.wait(10)
    thread.join()
    assert not holds_threads()
    assert seen == {"nested": True, "other": False}
    with claim_threads(False) as allowed:
        assert not allowed and not holds_threads()


def test_concurrent_fits_under_the_workqueue_layer_do_not_abort_the_process():
    # The workqueue layer terminates the process when two threads enter parallel code.
    result = _run("""
        import threading, numba
        from fastl1 import Lasso
        reference = Lasso(alpha=0.05).fit(X, y).coef_
        assert numba.threading_layer() == "workqueue", numba.threading_layer()
        results = []
        def work():
            for _ in range(2):
                results.append(Lasso(alpha=0.05).fit(X, y).coef_)
        threads = [threading.Thread(target=work) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        assert len(results) == 8
        assert all(np.array_equal(r, reference) for r in results)
        print("ok")
    """, NUMBA_THREADING_LAYER="workqueue", NUMBA_NUM_THREADS="2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ok" in result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_fits_in_children_forked_after_a_fit_complete():
    # GNU OpenMP terminates a forked child that enters a parallel region its parent used.
    result = _run("""
        import multiprocessing as mp, numba
        from fastl1 import Lasso
        def fit(alpha):
            return np.count_nonzero(Lasso(alpha=alpha).fit(X, y).coef_)
        if __name__ == "__main__":
            parent = fit(0.05)
            print("layer", numba.threading_layer())
            with mp.get_context("fork").Pool(2) as pool:
                children = pool.map_async(fit, [0.05, 0.1]).get(timeout=60)
            assert children[0] == parent, (children, parent)
            print("ok")
    """, NUMBA_NUM_THREADS="2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ok" in result.stdout


def test_a_fit_gives_the_same_coefficients_with_or_without_the_thread_pool():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 3000))
    y = X[:, :4].sum(axis=1) + 0.1 * rng.standard_normal(60)
    alone = Lasso(alpha=0.05).fit(X, y).coef_
    with claim_threads(True):
        claimed = {}
        thread = threading.Thread(
            target=lambda: claimed.setdefault("coef", Lasso(alpha=0.05).fit(X, y).coef_))
        thread.start()
        thread.join()  # that fit found the pool taken and ran on its own thread
    np.testing.assert_array_equal(claimed["coef"], alone)


def test_a_process_whose_first_fit_runs_single_threaded_loads_the_cached_kernels():
    # Cached kernels that call parallel code need the threading layer started, even when
    # they run on one thread: a fresh worker process's first job (parallel=False) crashed.
    result = _run("""
        import faulthandler
        faulthandler.enable()
        from fastl1._solver import make_problem, solve_enet
        problem = make_problem(np.asfortranarray(X[:, :300]), None, True, parallel=False)
        y_centred, _ = problem.centre_target(y)
        fit = solve_enet(problem, y_centred, np.zeros(300), 0.1, 1.0, parallel=False)
        print("ok", fit.dual_gap < 1e-3)
    """)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ok True" in result.stdout


def test_openmp_workers_sleep_when_idle_unless_the_user_says_otherwise():
    # Spinning workers compete with the serial coordinate descent for the cores (module
    # comment in fastl1/_threads.py): the layer starts with OMP_WAIT_POLICY=PASSIVE.
    script = "import os, fastl1; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    for setting, expected in ((None, "PASSIVE"), ("ACTIVE", "ACTIVE")):
        if setting is not None:
            env["OMP_WAIT_POLICY"] = setting
        result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                                text=True, timeout=600, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == expected
