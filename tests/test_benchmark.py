"""Smoke tests of the comparison harness (fastl1.benchmark, ``fastl1 bench``) on tiny problems."""

import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet, Lasso

from fastl1 import benchmark
from fastl1.cli import main

SCALE = 0.01
FIELDS = {
    "problem", "description", "n_samples", "n_features", "format", "alpha", "l1_ratio",
    "solver", "status", "note", "tol_meaning", "tol", "gap_target", "first_fit", "times",
    "median", "objective", "dual_objective", "duality_gap", "certified_suboptimality",
    "gap_ok", "suboptimality", "rel_suboptimality", "nnz", "ratio",
}


@pytest.fixture(scope="module")
def results():
    return benchmark.run(["wide-dense-a10", "enet-wide-a10", "sparse-csr-a20"],
                         ["fastl1", "sklearn"], repeats=2, tol=1e-10, scale=SCALE)


def test_make_problem_shapes_and_alpha():
    wide = benchmark.make_problem("wide-dense-a10", scale=SCALE)
    assert wide.X.shape[1] > wide.X.shape[0] and wide.X.flags.f_contiguous
    assert not wide.fit_intercept and wide.l1_ratio == 1.0
    amax = np.max(np.abs(wide.X.T @ wide.y)) / wide.X.shape[0]
    assert wide.alpha == pytest.approx(amax / 10)
    csc = benchmark.make_problem("sparse-csc-a100", scale=SCALE)
    csr = benchmark.make_problem("sparse-csr-a100", scale=SCALE)
    assert csc.X.format == "csc" and csr.X.format == "csr"
    assert (csc.X != csr.X).nnz == 0 and np.array_equal(csc.y, csr.y)
    enet = benchmark.make_problem("enet-wide-a10", scale=SCALE)
    assert enet.l1_ratio == 0.5 and enet.alpha == pytest.approx(2 * wide.alpha)
    # fixed seeds
    again = benchmark.make_problem("wide-dense-a10", scale=SCALE)
    assert np.array_equal(again.y, wide.y)
    assert {name for name, _ in benchmark.list_problems()} == set(benchmark.PROBLEMS)


def test_ar_design_correlation():
    X = benchmark._ar_design(20_000, 4, np.random.default_rng(0))
    corr = np.corrcoef(X, rowvar=False)
    assert corr[0, 1] == pytest.approx(0.5, abs=0.03)
    assert corr[0, 2] == pytest.approx(0.25, abs=0.03)
    assert X.std(axis=0) == pytest.approx(np.ones(4), abs=0.03)


def test_run_fields_and_agreement(results):
    assert len(results) == 6
    json.dumps(results)  # serialisable
    for row in results:
        assert set(row) == FIELDS
        assert row["status"] == "ok", row["note"]
        assert len(row["times"]) == 2 and row["median"] > 0 and row["first_fit"] > 0
        assert row["gap_ok"] and row["duality_gap"] >= -1e-12
        assert row["rel_suboptimality"] >= 0 and row["nnz"] > 0
    by = {(r["problem"], r["solver"]): r for r in results}
    for problem in ("wide-dense-a10", "enet-wide-a10", "sparse-csr-a20"):
        f, s = by[problem, "fastl1"], by[problem, "sklearn"]
        assert f["objective"] == pytest.approx(s["objective"], rel=1e-6)
        assert f["ratio"] == 1.0
        assert s["ratio"] == pytest.approx(f["median"] / s["median"])
        assert min(f["rel_suboptimality"], s["rel_suboptimality"]) == 0.0


def test_format_table(results):
    text = benchmark.format_table(results)
    for word in ("wide-dense-a10", "enet-wide-a10", "sparse-csr-a20", "median (s)",
                 "first fit (s)", "objective", "rel. subopt", "duality gap", "nnz",
                 "fastl1/solver", "sklearn"):
        assert word in text


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_duality_gap(l1_ratio, sparse):
    problem = benchmark.make_problem("wide-dense-a10", scale=SCALE)
    X, y = problem.X, problem.y
    if sparse:
        X = sp.csc_matrix(X)
    alpha = problem.alpha
    model = (Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000)
             if l1_ratio == 1 else
             ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-14,
                        max_iter=100_000))
    coef = model.fit(X, y).coef_
    gap = benchmark.duality_gap(X, y, coef, alpha, l1_ratio)
    assert abs(gap) < 1e-10
    assert gap == pytest.approx(model.dual_gap_, abs=1e-12)
    obj = benchmark.objective(X, y, coef, alpha, l1_ratio)
    assert benchmark.primal_dual(X, y, coef, alpha, l1_ratio)[0] == pytest.approx(obj)
    zero = np.zeros(X.shape[1])
    gap0 = benchmark.duality_gap(X, y, zero, alpha / 2, l1_ratio)
    assert gap0 > 0.01 * benchmark.objective(X, y, zero, alpha / 2, l1_ratio)
    # the gap bounds the suboptimality
    assert benchmark.objective(X, y, zero, alpha, l1_ratio) - obj <= (
        benchmark.duality_gap(X, y, zero, alpha, l1_ratio) + 1e-12)


def test_skipped_and_failing_solvers():
    def broken(problem, tol):
        raise RuntimeError("boom")

    ghost = benchmark.Solver("ghost", "no_such_module_for_fastl1", broken, "n/a")
    bad = benchmark.Solver("bad", "numpy", broken, "n/a")
    rows = benchmark.run(["leukemia-a10"], ["sklearn", ghost, bad], repeats=1, scale=SCALE)
    status = {r["solver"]: (r["status"], r["note"]) for r in rows}
    assert status["sklearn"][0] == "ok"
    assert status["ghost"] == ("skipped", "not installed")
    assert status["bad"][0] == "failed" and "boom" in status["bad"][1]
    text = benchmark.format_table(rows)
    assert "ghost: skipped (not installed)" in text and "boom" in text


def test_calibration_tightens_tol():
    calls = []

    def sloppy(problem, tol):  # inexact unless tol is tiny: a stand-in for a KKT stop
        calls.append(tol)
        model = Lasso(alpha=problem.alpha, fit_intercept=False, tol=tol * 1e6,
                      max_iter=100_000)
        return model.fit(problem.X, problem.y).coef_

    solver = benchmark.Solver("sloppy", "numpy", sloppy, "test", calibrate=True)
    (row,) = benchmark.run(["leukemia-a100"], [solver], repeats=1, tol=1e-8, scale=SCALE)
    assert row["status"] == "ok" and row["gap_ok"]
    assert row["tol"] < 1e-8 and "calibrated" in row["note"]
    assert calls[0] == 1e-8 and calls[-1] == row["tol"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown problem"):
        benchmark.make_problem("no-such-problem")
    with pytest.raises(ValueError, match="unknown problem"):
        benchmark.run(["no-such-problem"], ["sklearn"])
    with pytest.raises(ValueError, match="unknown solver"):
        benchmark.run(["wide-dense-a10"], ["no-such-solver"])
    with pytest.raises(ValueError, match="repeats"):
        benchmark.run(["wide-dense-a10"], ["sklearn"], repeats=0)


def test_cli_bench(capsys, tmp_path):
    path = tmp_path / "bench.json"
    argv = ["bench", "--problems", "wide-dense-a10", "--scale", "0.01", "--solvers", "fastl1",
            "--repeats", "1", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "wide-dense-a10" in out and "fastl1/solver" in out and "fastl1 " in out
    data = json.loads(path.read_text())
    assert set(data) == {"environment", "settings", "results"}
    (row,) = data["results"]
    assert row["solver"] == "fastl1" and row["status"] == "ok"
    assert data["settings"]["repeats"] == 1


def test_cli_bench_list(capsys):
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in benchmark.PROBLEMS)


@pytest.mark.parametrize("argv", [
    ["bench", "--problems", "no-such-problem"],
    ["bench", "--solvers", "no-such-solver"],
    ["bench", "--repeats", "0"],
    ["bench", "--tol", "-1"],
])
def test_cli_bench_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert "invalid choice" in capsys.readouterr().err or argv[1] in ("--repeats", "--tol")


def test_python_m_fastl1_bench_list():
    result = subprocess.run([sys.executable, "-m", "fastl1", "bench", "--list"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "sparse-csr-a100" in result.stdout
