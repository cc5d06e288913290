"""The benchmark problems of :mod:`fastl1.bench.problems`: shapes, alphas, grids, seeds."""

import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LassoCV
from sklearn.model_selection import KFold
from sklearn.svm import l1_min_c

from fastl1 import _solver, bench
from fastl1.bench import problems

from .conftest import SCALE


def test_make_problem_shapes_and_alpha():
    wide = bench.make_bench_problem("wide-dense-a10", scale=SCALE)
    assert wide.X.shape[1] > wide.X.shape[0] and wide.X.flags.f_contiguous
    assert not wide.fit_intercept and wide.l1_ratio == 1.0
    amax = np.max(np.abs(wide.X.T @ wide.y)) / wide.X.shape[0]
    assert wide.alpha == pytest.approx(amax / 10)
    csc = bench.make_bench_problem("sparse-csc-a100", scale=SCALE)
    csr = bench.make_bench_problem("sparse-csr-a100", scale=SCALE)
    assert csc.X.format == "csc" and csr.X.format == "csr"
    assert (csc.X != csr.X).nnz == 0 and np.array_equal(csc.y, csr.y)
    enet = bench.make_bench_problem("enet-wide-a10", scale=SCALE)
    assert enet.l1_ratio == 0.5 and enet.alpha == pytest.approx(2 * wide.alpha)
    # fixed seeds
    again = bench.make_bench_problem("wide-dense-a10", scale=SCALE)
    assert np.array_equal(again.y, wide.y)
    assert {name for name, _ in bench.list_problems()} == set(bench.PROBLEMS)


def test_ar_design_correlation():
    X = problems._ar_design(20_000, 4, np.random.default_rng(0))
    corr = np.corrcoef(X, rowvar=False)
    assert corr[0, 1] == pytest.approx(0.5, abs=0.03)
    assert corr[0, 2] == pytest.approx(0.25, abs=0.03)
    assert X.std(axis=0) == pytest.approx(np.ones(4), abs=0.03)


def test_path_and_cv_problems():
    groups = bench.PROBLEM_GROUPS
    assert groups["paths"][:3] == ["path-wide-dense", "path-sparse-csc", "path-sparse-csr"]
    assert groups["paths"][3:] == groups["glmpaths"]
    # the logistic paths come last (after every lasso path)
    losses = [problems.PROBLEMS[name].loss for name in groups["glmpaths"]]
    assert losses == sorted(losses, key=["squared", "logistic"].index)
    assert groups["cv"] == ["cv-wide-dense"]
    assert groups["fits"][:2] == ["wide-dense-a10", "wide-dense-a100"]
    assert set(groups["fits"] + groups["paths"] + groups["cv"] + groups["logistic"]
               + groups["glm"] + groups["groups"]) == set(groups["all"])
    assert groups["glm"] == groups["cox"] + groups["poisson"]
    assert groups["groups"] == groups["multitask"] + groups["grouplasso"]
    assert set(groups["all"]) == set(bench.PROBLEMS)
    assert bench.expand_problems(["paths", "path-wide-dense", "cv"]) == [
        *groups["paths"], "cv-wide-dense"]
    with pytest.raises(ValueError, match="unknown problem"):
        bench.expand_problems(["no-such-group"])

    path = bench.make_bench_problem("path-wide-dense", scale=SCALE)
    wide = bench.make_bench_problem("wide-dense-a10", scale=SCALE)
    assert path.task == "path" and not path.fit_intercept and np.array_equal(path.X, wide.X)
    amax = np.max(np.abs(path.X.T @ path.y)) / path.X.shape[0]
    np.testing.assert_allclose(path.alphas, np.geomspace(amax, 1e-3 * amax, 100), rtol=1e-12)
    assert path.alpha == path.alphas[0] and np.array_equal(path.grid, path.alphas)
    assert wide.task == "fit" and wide.alphas is None and wide.grid.tolist() == [wide.alpha]
    csc = bench.make_bench_problem("path-sparse-csc", scale=0.005)
    csr = bench.make_bench_problem("path-sparse-csr", scale=0.005)
    assert csc.X.format == "csc" and csr.X.format == "csr"
    assert np.array_equal(csc.alphas, csr.alphas) and (csc.X != csr.X).nnz == 0

    cv = bench.make_bench_problem("cv-wide-dense", scale=SCALE)
    assert cv.task == "cv" and cv.fit_intercept and cv.n_folds == 5
    assert np.array_equal(cv.X, wide.X)
    # the grid LassoCV builds itself (alpha_max of the centred data), given explicitly
    own = LassoCV(cv=KFold(5), tol=1e-2).fit(cv.X, cv.y).alphas_
    np.testing.assert_allclose(cv.alphas, own, rtol=1e-10)
    assert {name for name, _ in bench.list_problems()} == set(bench.PROBLEMS)


@pytest.mark.parametrize("name", ["logistic-dense-a10", "logistic-sparse-csr-a10"])
def test_logistic_problems(name):
    problem = bench.make_bench_problem(name, scale=0.02)
    X, y = problem.X, problem.y
    assert problem.task == "logistic" and not problem.fit_intercept
    assert set(np.unique(y)) == {-1.0, 1.0}
    assert (X.format == "csr") if sp.issparse(X) else X.flags.f_contiguous
    amax = bench.bench_logistic_alpha_max(X, y)
    assert problem.alpha == pytest.approx(amax / 10)
    # C = 1 / (alpha n): alpha_max is scikit-learn's l1_min_c
    assert 1 / (amax * X.shape[0]) == pytest.approx(
        l1_min_c(X, y, loss="log", fit_intercept=False), rel=1e-12)
    assert problem.C == pytest.approx(10 * l1_min_c(X, y, loss="log", fit_intercept=False))
    assert problem.gap_target == pytest.approx(np.log(2))
    assert name in bench.PROBLEM_GROUPS["logistic"]


def test_unknown_problem_and_bad_scale():
    with pytest.raises(ValueError, match="unknown problem"):
        bench.make_bench_problem("no-such-problem")
    with pytest.raises(ValueError, match="scale must be a positive number"):
        bench.make_bench_problem("wide-dense-a10", scale=0.0)


def test_names_do_not_shadow_the_solvers():
    """The harness's problem type and helpers have names of their own: ``fastl1._solver``
    defines ``Problem``, ``make_problem`` and ``alpha_max`` for the estimators."""
    for name in ("Problem", "make_problem", "alpha_max"):
        assert hasattr(_solver, name)
        assert not hasattr(bench, name) and name not in bench.__all__
    assert importlib.util.find_spec("fastl1.benchmark") is None  # one harness, not two
    problem = bench.make_bench_problem("wide-dense-a10", scale=SCALE)
    assert isinstance(problem, bench.BenchProblem)
    assert bench.bench_alpha_max(problem.X, problem.y) == pytest.approx(10 * problem.alpha)
