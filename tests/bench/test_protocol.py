"""The protocol of :mod:`fastl1.bench.protocol` on tiny problems: result rows, calibration,
skipped and failing solvers, paths, cross-validation, logistic fits."""

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoCV, lasso_path
from sklearn.model_selection import KFold

from fastl1 import bench

from .conftest import SCALE

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


def test_run_fields_and_agreement(fit_results):
    results = fit_results
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


def test_skipped_and_failing_solvers():
    def broken(problem, tol):
        raise RuntimeError("boom")

    ghost = bench.Solver("ghost", "no_such_module_for_fastl1", broken, "n/a")
    bad = bench.Solver("bad", "numpy", broken, "n/a")
    rows = bench.run(["leukemia-a10"], ["sklearn", ghost, bad], repeats=1, scale=SCALE)
    status = {r["solver"]: (r["status"], r["note"]) for r in rows}
    assert status["sklearn"][0] == "ok"
    assert status["ghost"] == ("skipped", "not installed")
    assert status["bad"][0] == "failed" and "boom" in status["bad"][1]
    text = bench.format_table(rows)
    assert "ghost: skipped (not installed)" in text and "boom" in text


def test_calibration_tightens_tol():
    calls = []

    def sloppy(problem, tol):  # inexact unless tol is tiny: a stand-in for a KKT stop
        calls.append(tol)
        model = Lasso(alpha=problem.alpha, fit_intercept=False, tol=tol * 1e6,
                      max_iter=100_000)
        return model.fit(problem.X, problem.y).coef_

    solver = bench.Solver("sloppy", "numpy", sloppy, "test", calibrate=True)
    (row,) = bench.run(["leukemia-a100"], [solver], repeats=1, tol=1e-8, scale=SCALE)
    assert row["status"] == "ok" and row["gap_ok"]
    assert row["tol"] < 1e-8 and "calibrated" in row["note"]
    assert calls[0] == 1e-8 and calls[-1] == row["tol"]
    assert calls[1] == pytest.approx(1e-8 / 10**0.5)  # half a decade per step


@pytest.fixture(scope="module")
def path_results():
    rows = []
    for name, scale in PATH_SCALE.items():
        rows += bench.run([name], ["fastl1", "sklearn"], repeats=1, scale=scale)
    return rows


@pytest.fixture(scope="module")
def cv_results():
    return bench.run(["cv"], ["fastl1", "sklearn"], repeats=1, scale=SCALE)


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
    text = bench.format_table(path_results)
    for word in (*PATH_SCALE, "objective (sum)", "rel. subopt (max)", "cert. subopt (max)",
                 "nnz (last)", "fastl1/solver", "target at every alpha",
                 "sum over the alphas"):
        assert word in text
    assert " !" not in text


def test_cv_rows(cv_results):
    json.dumps(cv_results)  # serialisable
    by = {r["solver"]: r for r in cv_results}
    assert list(by) == ["fastl1", "fastl1-n_jobs=1", "sklearn", "sklearn-n_jobs=1"]
    problem = bench.make_bench_problem("cv-wide-dense", scale=SCALE)
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
    text = bench.format_table(cv_results)
    for word in ("cv-wide-dense", "n_jobs", "alpha_", "same alpha_", "min CV MSE",
                 "CV curve rel. diff", "fastl1-n_jobs=1", "compared with sklearn's",
                 "fastl1 n_jobs=1 / n_jobs=2 speed-up", "sklearn n_jobs=1 / n_jobs=2 speed-up",
                 "final refit included"):
        assert word in text
    assert "no !" not in text


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

    asc = bench.Solver("asc", "numpy", ascending, "test")
    other = bench.Solver("other", "numpy", other_grid, "test")
    no_cv = bench.Solver("no-cv", "numpy", ascending, "test",
                             unsupported_tasks=(("cv", "no CV here"),))
    rows = bench.run(["path-wide-dense"], ["sklearn", asc, other], repeats=1, scale=SCALE)
    status = {r["solver"]: r for r in rows}
    assert status["asc"]["status"] == "ok" and status["asc"]["gap_ok"]
    assert status["asc"]["objectives"] == pytest.approx(status["sklearn"]["objectives"],
                                                         rel=1e-6)
    assert status["other"]["status"] == "failed"
    assert "differ from the grid" in status["other"]["note"]
    (row,) = bench.run(["cv-wide-dense"], [no_cv], repeats=1, scale=SCALE)
    assert (row["status"], row["note"]) == ("skipped", "no CV here")
    assert "no-cv: skipped (no CV here)" in bench.format_table([row])


def test_calibration_on_a_path():
    calls = []

    def sloppy(problem, tol):  # inexact unless tol is tiny: a stand-in for a KKT stop
        calls.append(tol)
        alphas, coefs, _ = lasso_path(problem.X, problem.y, alphas=problem.alphas,
                                      tol=tol * 1e6, max_iter=100_000)
        return alphas, coefs

    solver = bench.Solver("sloppy", "numpy", sloppy, "test", calibrate=True)
    (row,) = bench.run(["path-wide-dense"], [solver], repeats=1, tol=1e-8, scale=SCALE)
    assert row["status"] == "ok" and row["gap_ok"] and row["n_over_target"] == 0
    assert row["tol"] < 1e-8 and "calibrated" in row["note"]
    assert calls[0] == 1e-8 and calls[-1] == row["tol"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown problem"):
        bench.run(["no-such-problem"], ["sklearn"])
    with pytest.raises(ValueError, match="unknown problem"):
        bench.run(["paths", "no-such-problem"], ["sklearn"])
    with pytest.raises(ValueError, match="unknown solver"):
        bench.run(["wide-dense-a10"], ["no-such-solver"])
    with pytest.raises(ValueError, match="repeats"):
        bench.run(["wide-dense-a10"], ["sklearn"], repeats=0)


def test_logistic_rows():
    rows = bench.run(["logistic"], ["fastl1", "sklearn-liblinear"], repeats=1,
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
    text = bench.format_table(rows)
    for word in ("logistic-dense-a10", "sklearn-liblinear", "tol * log 2",
                 "logistic problems: objective = mean log-loss"):
        assert word in text


def test_calibration_stops_at_an_iteration_cap():
    calls = []

    def capped(problem, tol):  # hits its epoch cap: a tighter tol cannot help
        calls.append(tol)
        coef = Lasso(alpha=problem.alpha, fit_intercept=False, tol=1e-12,
                     max_iter=2).fit(problem.X, problem.y).coef_
        warnings.warn("stopped at max_iter", ConvergenceWarning, stacklevel=2)
        return coef

    solver = bench.Solver("capped", "numpy", capped, "test", calibrate=True)
    (row,) = bench.run(["leukemia-a100"], [solver], repeats=1, tol=1e-8, scale=SCALE)
    assert row["gap_ok"] is False and "ConvergenceWarning" in row["note"]
    assert calls == [1e-8, 1e-8]  # warm-up and one timed fit, no calibration
