"""The solver adapters of :mod:`fastl1.bench.peers`: selection by name or family, the CV
adapters' folds, celer's CV constructor."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import KFold

from fastl1 import bench
from fastl1.bench import peers

from .conftest import SCALE


def test_celer_cv_runs():
    """celer 0.7's LassoCV passes ``n_alphas``, which scikit-learn 1.9's constructor no longer
    takes: the harness adapts the constructor, and celer's CV agrees with fastl1's."""
    pytest.importorskip("celer")
    rows = bench.run(["cv-wide-dense"], ["fastl1", "celer"], repeats=1, tol=1e-8,
                         scale=SCALE)
    by = {r["solver"]: r for r in rows}
    assert by["celer"]["status"] == "ok", by["celer"]["note"]
    assert by["celer"]["reference"] == "fastl1" and by["celer"]["same_alpha"] is True
    # near interpolation at the grid's end (see test_cv_rows), and celer's gap on its own
    # rescaled dual point: the curves agree to 2e-3 here
    assert by["celer"]["cv_rel_diff"] < 1e-2
    lasso_cv, enet_cv = peers._celer_cv_classes()
    assert "n_alphas" not in lasso_cv().get_params()
    model = clone(enet_cv(l1_ratio=0.5, alphas=5, cv=3, tol=1e-8))
    assert model.get_params()["alphas"] == 5 and model.get_params()["l1_ratio"] == 0.5
    problem = bench.make_bench_problem("cv-wide-dense", scale=SCALE)
    model.fit(problem.X, problem.y)
    assert model.alphas_.shape == (5,) and model.mse_path_.shape == (5, 3)


def test_shuffled_kfold_rows_give_kfold_folds():
    problem = bench.make_bench_problem("cv-wide-dense", scale=SCALE)
    X, y = peers._kfold_rows(problem, seed=0)
    n = problem.shape[0]
    shuffled = KFold(5, shuffle=True, random_state=0).split(np.zeros((n, 1)))
    for (_, test), (_, plain) in zip(shuffled, KFold(5).split(problem.X), strict=True):
        assert np.array_equal(X[test], problem.X[plain])
        assert np.array_equal(y[test], problem.y[plain])
    assert peers._kfold_rows(problem, seed=0)[0] is X  # cached


def test_logistic_solver_selection():
    names = bench.solver_names()
    assert {"sklearn-liblinear", "sklearn-saga", "sklearn", "fastl1"} <= set(names)
    picked = peers.solvers_for("logistic", ["sklearn", "sklearn-saga", "fastl1"])
    assert [s.name for s in picked] == ["sklearn-liblinear", "sklearn-saga", "fastl1"]
    # the logistic-only names select nothing on the regression problems
    assert [s.name for s in peers.solvers_for("fit", ["sklearn-saga", "sklearn"])] == [
        "sklearn"]
    rows = bench.run(["wide-dense-a10"], ["sklearn-saga"], repeats=1, scale=SCALE)
    assert rows == []
