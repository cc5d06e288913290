"""Smoke tests of the comparison harness (fastl1.benchmark, ``fastl1 bench``) on tiny problems."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import ElasticNet, Lasso, LassoCV, LogisticRegression, lasso_path
from sklearn.model_selection import KFold
from sklearn.svm import l1_min_c

from fastl1 import benchmark
from fastl1.cli import main

SCALE = 0.01
FIELDS = {
    "problem", "description", "task", "n_samples", "n_features", "format", "alpha",
    "l1_ratio", "solver", "status", "note", "tol_meaning", "tol", "gap_target", "first_fit",
    "times", "median", "objective", "dual_objective", "duality_gap",
    "certified_suboptimality", "gap_ok", "suboptimality", "rel_suboptimality", "nnz", "ratio",
}
PATH_FIELDS = FIELDS | {"n_alphas", "alpha_min", "objectives", "certified_suboptimalities",
                        "n_over_target", "worst_alpha"}
CV_FIELDS = FIELDS | {"n_alphas", "alpha_min", "n_folds", "n_jobs", "alpha_", "alpha_index",
                      "cv_mean_mse", "cv_mse_min", "reference", "same_alpha", "cv_rel_diff",
                      "speedup_n_jobs"}
PATH_SCALE = {"path-wide-dense": SCALE, "path-sparse-csc": 0.005, "path-sparse-csr": 0.005}


@pytest.fixture(autouse=True, scope="module")
def _no_settle_pause():
    """The pause before each timed fit only matters for timings; these tests check results."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(benchmark, "_SETTLE_SECONDS", 0.0)
        yield


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
        assert set(row) == FIELDS and row["task"] == "fit"
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
    assert calls[1] == pytest.approx(1e-8 / 10**0.5)  # half a decade per step


# ---------------------------------------------------------------------------------------------
# Regularisation paths and cross-validation
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def path_results():
    rows = []
    for name, scale in PATH_SCALE.items():
        rows += benchmark.run([name], ["fastl1", "sklearn"], repeats=1, scale=scale)
    return rows


@pytest.fixture(scope="module")
def cv_results():
    return benchmark.run(["cv"], ["fastl1", "sklearn"], repeats=1, scale=SCALE)


def test_path_and_cv_problems():
    groups = benchmark.PROBLEM_GROUPS
    assert groups["paths"] == ["path-wide-dense", "path-sparse-csc", "path-sparse-csr"]
    assert groups["cv"] == ["cv-wide-dense"]
    assert groups["fits"][:2] == ["wide-dense-a10", "wide-dense-a100"]
    assert set(groups["fits"] + groups["paths"] + groups["cv"] + groups["logistic"]) == set(
        groups["all"])
    assert set(groups["all"]) == set(benchmark.PROBLEMS)
    assert benchmark.expand_problems(["paths", "path-wide-dense", "cv"]) == [
        *groups["paths"], "cv-wide-dense"]
    with pytest.raises(ValueError, match="unknown problem"):
        benchmark.expand_problems(["no-such-group"])

    path = benchmark.make_problem("path-wide-dense", scale=SCALE)
    wide = benchmark.make_problem("wide-dense-a10", scale=SCALE)
    assert path.task == "path" and not path.fit_intercept and np.array_equal(path.X, wide.X)
    amax = np.max(np.abs(path.X.T @ path.y)) / path.X.shape[0]
    np.testing.assert_allclose(path.alphas, np.geomspace(amax, 1e-3 * amax, 100), rtol=1e-12)
    assert path.alpha == path.alphas[0] and np.array_equal(path.grid, path.alphas)
    assert wide.task == "fit" and wide.alphas is None and wide.grid.tolist() == [wide.alpha]
    csc = benchmark.make_problem("path-sparse-csc", scale=0.005)
    csr = benchmark.make_problem("path-sparse-csr", scale=0.005)
    assert csc.X.format == "csc" and csr.X.format == "csr"
    assert np.array_equal(csc.alphas, csr.alphas) and (csc.X != csr.X).nnz == 0

    cv = benchmark.make_problem("cv-wide-dense", scale=SCALE)
    assert cv.task == "cv" and cv.fit_intercept and cv.n_folds == 5
    assert np.array_equal(cv.X, wide.X)
    # the grid LassoCV builds itself (alpha_max of the centred data), given explicitly
    own = LassoCV(cv=KFold(5), tol=1e-2).fit(cv.X, cv.y).alphas_
    np.testing.assert_allclose(cv.alphas, own, rtol=1e-10)
    assert {name for name, _ in benchmark.list_problems()} == set(benchmark.PROBLEMS)


def test_path_rows(path_results):
    assert len(path_results) == 6
    json.dumps(path_results)  # serialisable
    by = {(r["problem"], r["solver"]): r for r in path_results}
    for row in path_results:
        assert set(row) == PATH_FIELDS and row["task"] == "path"
        assert row["status"] == "ok", row["note"]
        assert row["gap_ok"] is True and row["n_over_target"] == 0
        assert row["certified_suboptimality"] == max(row["certified_suboptimalities"])
        assert row["certified_suboptimality"] <= row["gap_target"]
        assert row["n_alphas"] == 100 and len(row["objectives"]) == 100
        assert row["objective"] == pytest.approx(sum(row["objectives"]))
        assert row["alpha_min"] == pytest.approx(1e-3 * row["alpha"])
        assert row["median"] > 0 and row["first_fit"] > 0 and row["nnz"] > 0
    for problem in PATH_SCALE:
        f, s = by[problem, "fastl1"], by[problem, "sklearn"]
        assert f["ratio"] == 1.0
        assert s["ratio"] == pytest.approx(f["median"] / s["median"])
        # both within the target of the minimum at every alpha
        np.testing.assert_allclose(f["objectives"], s["objectives"], rtol=0,
                                   atol=f["gap_target"])
    np.testing.assert_allclose(by["path-sparse-csc", "fastl1"]["objectives"],
                               by["path-sparse-csr", "fastl1"]["objectives"], rtol=0,
                               atol=by["path-sparse-csc", "fastl1"]["gap_target"])
    text = benchmark.format_table(path_results)
    for word in (*PATH_SCALE, "objective (sum)", "rel. subopt (max)", "cert. subopt (max)",
                 "nnz (last)", "fastl1/solver", "target at every alpha",
                 "sum over the alphas"):
        assert word in text
    assert " !" not in text


def test_cv_rows(cv_results):
    json.dumps(cv_results)  # serialisable
    by = {r["solver"]: r for r in cv_results}
    assert list(by) == ["fastl1", "fastl1-n_jobs=1", "sklearn", "sklearn-n_jobs=1"]
    problem = benchmark.make_problem("cv-wide-dense", scale=SCALE)
    for row in cv_results:
        assert set(row) == CV_FIELDS and row["task"] == "cv"
        assert row["status"] == "ok", row["note"]
        assert row["reference"] == "sklearn" and row["same_alpha"] is True
        assert row["alpha_"] == pytest.approx(problem.alphas[row["alpha_index"]], rel=1e-12)
        # Solutions certified to tol 1e-8; at the grid's end (16 training rows, 200
        # features: near interpolation) test errors amplify their differences ~1e4-fold.
        assert row["cv_rel_diff"] < 1e-3
        assert len(row["cv_mean_mse"]) == 100
        assert row["cv_mse_min"] == pytest.approx(min(row["cv_mean_mse"]))
        assert row["objective"] is None and row["gap_ok"] is None
        assert row["n_folds"] == 5 and row["median"] > 0
        assert row["ratio"] == pytest.approx(by["fastl1"]["median"] / row["median"])
    assert [by[name]["n_jobs"] for name in by] == [2, 1, 2, 1]
    assert by["sklearn"]["cv_rel_diff"] == 0.0
    for name in ("fastl1", "sklearn"):
        single = by[f"{name}-n_jobs=1"]
        assert by[name]["speedup_n_jobs"] == pytest.approx(single["median"] / by[name]["median"])
        assert single["speedup_n_jobs"] is None
    # the harness reports what scikit-learn's LassoCV gives on the same folds and grid
    ref = LassoCV(alphas=problem.alphas, cv=KFold(5), tol=1e-8, max_iter=100_000)
    ref.fit(problem.X, problem.y)
    assert by["sklearn"]["alpha_"] == ref.alpha_
    np.testing.assert_allclose(by["sklearn"]["cv_mean_mse"], ref.mse_path_.mean(axis=1),
                               rtol=1e-12)
    text = benchmark.format_table(cv_results)
    for word in ("cv-wide-dense", "n_jobs", "alpha_", "same alpha_", "min CV MSE",
                 "CV curve rel. diff", "fastl1-n_jobs=1", "compared with sklearn's",
                 "fastl1 n_jobs=1 / n_jobs=2 speed-up", "sklearn n_jobs=1 / n_jobs=2 speed-up",
                 "final refit included"):
        assert word in text
    assert "no !" not in text


def test_celer_cv_runs():
    """celer 0.7's LassoCV passes ``n_alphas``, which scikit-learn 1.9's constructor no longer
    takes: the harness adapts the constructor, and celer's CV agrees with fastl1's."""
    pytest.importorskip("celer")
    rows = benchmark.run(["cv-wide-dense"], ["fastl1", "celer"], repeats=1, tol=1e-8,
                         scale=SCALE)
    by = {r["solver"]: r for r in rows}
    assert by["celer"]["status"] == "ok", by["celer"]["note"]
    assert by["celer"]["reference"] == "fastl1" and by["celer"]["same_alpha"] is True
    # near interpolation at the grid's end (see test_cv_rows), and celer's gap on its own
    # rescaled dual point: the curves agree to 2e-3 here
    assert by["celer"]["cv_rel_diff"] < 1e-2
    lasso_cv, enet_cv = benchmark._celer_cv_classes()
    assert "n_alphas" not in lasso_cv().get_params()
    model = clone(enet_cv(l1_ratio=0.5, alphas=5, cv=3, tol=1e-8))
    assert model.get_params()["alphas"] == 5 and model.get_params()["l1_ratio"] == 0.5
    problem = benchmark.make_problem("cv-wide-dense", scale=SCALE)
    model.fit(problem.X, problem.y)
    assert model.alphas_.shape == (5,) and model.mse_path_.shape == (5, 3)


def test_shuffled_kfold_rows_give_kfold_folds():
    problem = benchmark.make_problem("cv-wide-dense", scale=SCALE)
    X, y = benchmark._kfold_rows(problem, seed=0)
    n = problem.shape[0]
    shuffled = KFold(5, shuffle=True, random_state=0).split(np.zeros((n, 1)))
    for (_, test), (_, plain) in zip(shuffled, KFold(5).split(problem.X), strict=True):
        assert np.array_equal(X[test], problem.X[plain])
        assert np.array_equal(y[test], problem.y[plain])
    assert benchmark._kfold_rows(problem, seed=0)[0] is X  # cached


def test_path_solver_contract():
    """Alphas may come back in any order; another grid is a failure with a note; a task a
    solver lacks is skipped with its reason."""
    def ascending(problem, tol):
        alphas, coefs, _ = lasso_path(problem.X, problem.y, alphas=problem.alphas, tol=tol,
                                      max_iter=100_000)
        return alphas[::-1], coefs[:, ::-1]

    def other_grid(problem, tol):
        alphas, coefs, _ = lasso_path(problem.X, problem.y, alphas=problem.alphas / 2)
        return alphas, coefs

    asc = benchmark.Solver("asc", "numpy", ascending, "test")
    other = benchmark.Solver("other", "numpy", other_grid, "test")
    no_cv = benchmark.Solver("no-cv", "numpy", ascending, "test",
                             unsupported_tasks=(("cv", "no CV here"),))
    rows = benchmark.run(["path-wide-dense"], ["sklearn", asc, other], repeats=1, scale=SCALE)
    status = {r["solver"]: r for r in rows}
    assert status["asc"]["status"] == "ok" and status["asc"]["gap_ok"]
    assert status["asc"]["objectives"] == pytest.approx(status["sklearn"]["objectives"],
                                                         rel=1e-6)
    assert status["other"]["status"] == "failed"
    assert "differ from the grid" in status["other"]["note"]
    (row,) = benchmark.run(["cv-wide-dense"], [no_cv], repeats=1, scale=SCALE)
    assert (row["status"], row["note"]) == ("skipped", "no CV here")
    assert "no-cv: skipped (no CV here)" in benchmark.format_table([row])


def test_calibration_on_a_path():
    calls = []

    def sloppy(problem, tol):  # inexact unless tol is tiny: a stand-in for a KKT stop
        calls.append(tol)
        alphas, coefs, _ = lasso_path(problem.X, problem.y, alphas=problem.alphas,
                                      tol=tol * 1e6, max_iter=100_000)
        return alphas, coefs

    solver = benchmark.Solver("sloppy", "numpy", sloppy, "test", calibrate=True)
    (row,) = benchmark.run(["path-wide-dense"], [solver], repeats=1, tol=1e-8, scale=SCALE)
    assert row["status"] == "ok" and row["gap_ok"] and row["n_over_target"] == 0
    assert row["tol"] < 1e-8 and "calibrated" in row["note"]
    assert calls[0] == 1e-8 and calls[-1] == row["tol"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown problem"):
        benchmark.make_problem("no-such-problem")
    with pytest.raises(ValueError, match="unknown problem"):
        benchmark.run(["no-such-problem"], ["sklearn"])
    with pytest.raises(ValueError, match="unknown problem"):
        benchmark.run(["paths", "no-such-problem"], ["sklearn"])
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
    assert "groups" in out and all(name in out for name in benchmark.PROBLEM_GROUPS)


def test_cli_bench_groups(capsys, tmp_path):
    path = tmp_path / "bench.json"
    argv = ["bench", "--problems", "paths", "cv", "--scale", "0.005", "--solvers", "fastl1",
            "--repeats", "1", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    groups = benchmark.PROBLEM_GROUPS
    for word in (*groups["paths"], *groups["cv"], "objective (sum)", "cert. subopt (max)",
                 "same alpha_", "fastl1-n_jobs=1", "fastl1 n_jobs=1 / n_jobs=2 speed-up"):
        assert word in out
    data = json.loads(path.read_text())
    assert data["settings"]["problems"] == groups["paths"] + groups["cv"]
    rows = data["results"]
    assert [r["solver"] for r in rows] == ["fastl1"] * 3 + ["fastl1", "fastl1-n_jobs=1"]
    assert all(r["status"] == "ok" for r in rows)
    assert all(r["gap_ok"] for r in rows if r["task"] == "path")
    assert all(r["same_alpha"] for r in rows if r["task"] == "cv")
    assert rows[3]["speedup_n_jobs"] > 0 and len(rows[0]["objectives"]) == 100


@pytest.mark.parametrize("argv", [
    ["bench", "--problems", "no-such-problem"],
    ["bench", "--problems", "paths", "no-such-group"],
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


def test_figures_render(tmp_path):
    pytest.importorskip("matplotlib")
    from fastl1 import benchmark

    results = benchmark.run(["wide-dense-a10"], ["fastl1", "sklearn"], repeats=1, scale=0.01)
    benchmark.plot_times(results, tmp_path / "times.png")
    rows = benchmark.accuracy_curves("wide-dense-a10", ["fastl1", "sklearn"],
                                     tols=(1e-3, 1e-8), repeats=1, scale=0.01)
    assert [r["requested_tol"] for r in rows] == [1e-3, 1e-3, 1e-8, 1e-8]
    assert all(r["certified_suboptimality"] <= 2 * r["gap_target"] for r in rows)
    benchmark.plot_curves(rows, tmp_path / "curves.png")
    assert (tmp_path / "times.png").stat().st_size > 1000
    assert (tmp_path / "curves.png").stat().st_size > 1000


# ---------------------------------------------------------------------------------------------
# Binary L1 logistic regression
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["logistic-dense-a10", "logistic-sparse-csr-a10"])
def test_logistic_problems(name):
    problem = benchmark.make_problem(name, scale=0.02)
    X, y = problem.X, problem.y
    assert problem.task == "logistic" and not problem.fit_intercept
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert (X.format == "csr") if sp.issparse(X) else X.flags.f_contiguous
    amax = benchmark.logistic_alpha_max(X, y)
    assert problem.alpha == pytest.approx(amax / 10)
    # C = 1 / (alpha n): alpha_max is scikit-learn's l1_min_c
    assert 1 / (amax * X.shape[0]) == pytest.approx(
        l1_min_c(X, y, loss="log", fit_intercept=False), rel=1e-12)
    assert problem.C == pytest.approx(10 * l1_min_c(X, y, loss="log", fit_intercept=False))
    assert problem.gap_target == pytest.approx(np.log(2))
    assert name in benchmark.PROBLEM_GROUPS["logistic"]


@pytest.mark.parametrize("sparse", [False, True])
def test_logistic_primal_dual(sparse):
    problem = benchmark.make_problem("logistic-dense-a10", scale=0.02)
    X, y, alpha, n = problem.X, problem.y, problem.alpha, problem.shape[0]
    if sparse:
        X = sp.csr_matrix(X)
    model = LogisticRegression(C=problem.C, l1_ratio=1.0, solver="liblinear",
                               fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    coef = model.coef_.ravel()
    primal, dual = benchmark.logistic_primal_dual(X, y, coef, alpha)
    # scikit-learn's objective divided by C n
    z = y * (X @ coef)
    sk = problem.C * np.sum(np.logaddexp(0, -z)) + np.abs(coef).sum()
    assert primal == pytest.approx(sk / (problem.C * n), rel=1e-12)
    assert 0 <= primal - dual < 1e-9
    # at w = 0 the primal is log 2; the gap bounds the suboptimality
    zero = np.zeros(X.shape[1])
    p0, d0 = benchmark.logistic_primal_dual(X, y, zero, alpha)
    assert p0 == pytest.approx(np.log(2)) and p0 - primal <= p0 - d0 + 1e-12
    assert p0 - d0 > 1e-3
    # above alpha_max, zero is optimal and its gap vanishes
    p1, d1 = benchmark.logistic_primal_dual(X, y, zero, 1.01 * alpha * 10)
    assert abs(p1 - d1) < 1e-12
    # the dual point is feasible: D(t) is a lower bound even for a poor w
    p2, d2 = benchmark.logistic_primal_dual(X, y, 0.5 * coef, alpha)
    assert d2 <= primal + 1e-12 and p2 >= primal
    with pytest.raises(ValueError, match="alpha > 0"):
        benchmark.logistic_primal_dual(X, y, coef, 0.0)


def test_logistic_rows():
    rows = benchmark.run(["logistic"], ["fastl1", "sklearn-liblinear"], repeats=1,
                         scale=0.02)
    json.dumps(rows)
    assert [(r["problem"], r["solver"]) for r in rows] == [
        ("logistic-dense-a10", "fastl1"), ("logistic-dense-a10", "sklearn-liblinear"),
        ("logistic-sparse-csr-a10", "fastl1"), ("logistic-sparse-csr-a10", "sklearn-liblinear")]
    for row in rows:
        assert set(row) == FIELDS and row["task"] == "logistic"
        assert row["status"] == "ok", row["note"]
        assert row["gap_ok"] and row["certified_suboptimality"] <= row["gap_target"]
        assert row["gap_target"] == pytest.approx(1e-8 * np.log(2))
        assert row["nnz"] > 0 and row["median"] > 0
    by = {(r["problem"], r["solver"]): r for r in rows}
    for problem in ("logistic-dense-a10", "logistic-sparse-csr-a10"):
        f, s = by[problem, "fastl1"], by[problem, "sklearn-liblinear"]
        assert f["objective"] == pytest.approx(s["objective"], rel=1e-7)
        assert f["ratio"] == 1.0 and s["ratio"] == pytest.approx(f["median"] / s["median"])
    text = benchmark.format_table(rows)
    for word in ("logistic-dense-a10", "sklearn-liblinear", "tol * log 2",
                 "logistic problems: objective = mean log-loss"):
        assert word in text


def test_logistic_solver_selection():
    names = benchmark.solver_names()
    assert {"sklearn-liblinear", "sklearn-saga", "sklearn", "fastl1"} <= set(names)
    picked = benchmark._solvers_for("logistic", ["sklearn", "sklearn-saga", "fastl1"])
    assert [s.name for s in picked] == ["sklearn-liblinear", "sklearn-saga", "fastl1"]
    # the logistic-only names select nothing on the regression problems
    assert [s.name for s in benchmark._solvers_for("fit", ["sklearn-saga", "sklearn"])] == [
        "sklearn"]
    rows = benchmark.run(["wide-dense-a10"], ["sklearn-saga"], repeats=1, scale=SCALE)
    assert rows == []


def test_calibration_stops_at_an_iteration_cap():
    calls = []

    def capped(problem, tol):  # hits its epoch cap: a tighter tol cannot help
        calls.append(tol)
        coef = Lasso(alpha=problem.alpha, fit_intercept=False, tol=1e-12,
                     max_iter=2).fit(problem.X, problem.y).coef_
        warnings.warn("stopped at max_iter", ConvergenceWarning, stacklevel=2)
        return coef

    solver = benchmark.Solver("capped", "numpy", capped, "test", calibrate=True)
    (row,) = benchmark.run(["leukemia-a100"], [solver], repeats=1, tol=1e-8, scale=SCALE)
    assert row["gap_ok"] is False and "ConvergenceWarning" in row["note"]
    assert calls == [1e-8, 1e-8]  # warm-up and one timed fit, no calibration
