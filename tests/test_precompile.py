"""``fastl1 compile``: the specialisation groups, the parallel warm-up and the notice."""

import io

import numba
import pytest

from fastl1 import precompile
from fastl1.cli import main


def test_every_model_layout_and_dtype_has_a_group():
    groups = set(precompile.SPECIALISATIONS)
    assert len(groups) == 20
    for model in ("squared", "logistic"):
        for layout in ("dense", "csc-int32", "csc-int64", "csr-int32", "csr-int64"):
            for dtype in ("float64", "float32"):
                assert f"{model} {layout} {dtype}" in groups


def test_the_csr_designs_are_large_enough_to_be_read_in_place():
    from fastl1 import _solver

    X = precompile._design("csr-int64", "float32")
    assert X.nnz >= _solver.CSR_IN_PLACE_MIN_NNZ
    assert X.indices.dtype == X.indptr.dtype == "int64" and X.dtype == "float32"


class _InlinePool:
    """Runs submitted calls at once in this process (stands in for the process pool)."""

    def __init__(self, workers, mp_context=None):
        self.workers, self.context = workers, mp_context

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, function, *args):
        from concurrent.futures import Future

        future = Future()
        future.set_result(function(*args))
        return future


def test_precompile_hands_each_group_to_a_spawned_pool_and_reports_progress(monkeypatch):
    # The orchestration alone (the real warm-up compiles for minutes on a cold cache: the
    # slow test below runs it in fresh processes).
    pools = []

    def pool(workers, mp_context=None):
        pools.append(_InlinePool(workers, mp_context))
        return pools[-1]

    monkeypatch.setattr(precompile, "ProcessPoolExecutor", pool)
    monkeypatch.setattr(precompile, "warm", lambda group: float(len(group)))
    seen = []
    groups = ["squared dense float64", "logistic csr-int64 float32"]
    seconds = precompile.precompile(groups, n_jobs=8, progress=lambda *a: seen.append(a))
    assert seconds == {group: float(len(group)) for group in groups}
    assert [(done, total) for done, total, _, _ in seen] == [(1, 2), (2, 2)]
    assert sorted(group for _, _, group, _ in seen) == sorted(groups)
    assert all(elapsed == seconds[group] for _, _, group, elapsed in seen)
    assert pools[0].workers == 2  # never more processes than groups
    assert pools[0].context.get_start_method() == "spawn"  # fresh interpreters


@pytest.mark.slow
def test_precompile_runs_groups_in_fresh_processes_and_reports_progress():
    seen = []
    seconds = precompile.precompile(["squared dense float64"], n_jobs=1,
                                    progress=lambda *args: seen.append(args))
    assert list(seconds) == ["squared dense float64"]
    assert seen == [(1, 1, "squared dense float64", seconds["squared dense float64"])]
    with pytest.raises(ValueError, match="Unknown specialisation"):
        precompile.precompile(["squared dense float16"])


def test_the_compile_command_is_offered(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["compile", "--help"])
    assert exit_info.value.code == 0
    assert "NUMBA_CACHE_DIR" in capsys.readouterr().out


def test_a_compile_of_a_fastl1_kernel_is_announced_once(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(precompile, "_NOTICE", None)
    precompile.announce_compilation(stream)

    def twice(x):
        return 2 * x

    twice.__module__ = "fastl1._kernels.example"  # counts as a fastl1 kernel
    kernel = numba.njit(twice)
    kernel(1)
    kernel(1.0)  # a second specialisation: no second notice
    assert stream.getvalue().count("compiling solvers once for this machine") == 1


def test_the_notice_goes_to_the_current_stderr_and_never_fails_a_fit(monkeypatch):
    monkeypatch.setattr(precompile, "_NOTICE", None)
    closed = io.StringIO()
    monkeypatch.setattr("sys.stderr", closed)
    precompile.announce_compilation()  # no stream: sys.stderr at the time of the notice
    closed.close()
    current = io.StringIO()
    monkeypatch.setattr("sys.stderr", current)

    def triple(x):
        return 3 * x

    triple.__module__ = "fastl1._kernels.example"
    assert numba.njit(triple)(2) == 6
    assert "compiling solvers" in current.getvalue()
    monkeypatch.setattr(precompile._NOTICE, "said", False)
    current.close()  # a closed stream: the notice is dropped, the compile goes on
    assert numba.njit(triple)(2.0) == 6.0


@pytest.mark.parametrize("layout", ["dense", "csr-int32"])
def test_the_logistic_workload_has_every_class_on_every_layout(layout, monkeypatch):
    seen = []
    monkeypatch.setattr("fastl1.LogisticRegression.fit",
                        lambda self, X, y, sample_weight=None: seen.append(len(set(y))))
    monkeypatch.setattr("fastl1.LogisticRegressionCV.fit",
                        lambda self, X, y, sample_weight=None: seen.append(len(set(y))))
    precompile._logistic(precompile._design(layout, "float64"))
    assert seen and min(seen) >= 2 and max(seen) == 3


def test_the_squared_workload_reaches_each_solver_specialisation(monkeypatch):
    # The squared-loss solver compiles separately for a Gram matrix and for unpenalised
    # features (None arguments otherwise, resolved when Numba compiles): the warm-up hits all.
    from fastl1 import _solver

    seen = set()
    solver = _solver.enet_cd

    def recording(*args):
        rows, gram, free = args[4], args[5], args[6]
        seen.add((args[3] is None, gram is None, free is None, rows is None))
        return solver(*args)

    monkeypatch.setattr(_solver, "enet_cd", recording)
    precompile._squared(precompile._design("dense", "float64")[:60, :400])
    assert seen == {(True, True, True, True), (True, False, True, True),
                    (True, True, False, True)}
