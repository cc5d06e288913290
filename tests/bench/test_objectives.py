"""The reference objectives of :mod:`fastl1.bench.objectives` against scikit-learn's own."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression

from fastl1 import bench

from .conftest import SCALE


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("sparse", [False, True])
def test_duality_gap(l1_ratio, sparse):
    problem = bench.make_bench_problem("wide-dense-a10", scale=SCALE)
    X, y = problem.X, problem.y
    if sparse:
        X = sp.csc_matrix(X)
    alpha = problem.alpha
    model = (Lasso(alpha=alpha, fit_intercept=False, tol=1e-14, max_iter=100_000)
             if l1_ratio == 1 else
             ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-14,
                        max_iter=100_000))
    coef = model.fit(X, y).coef_
    gap = bench.duality_gap(X, y, coef, alpha, l1_ratio)
    assert abs(gap) < 1e-10
    assert gap == pytest.approx(model.dual_gap_, abs=1e-12)
    obj = bench.objective(X, y, coef, alpha, l1_ratio)
    assert bench.primal_dual(X, y, coef, alpha, l1_ratio)[0] == pytest.approx(obj)
    zero = np.zeros(X.shape[1])
    gap0 = bench.duality_gap(X, y, zero, alpha / 2, l1_ratio)
    assert gap0 > 0.01 * bench.objective(X, y, zero, alpha / 2, l1_ratio)
    # the gap bounds the suboptimality
    assert bench.objective(X, y, zero, alpha, l1_ratio) - obj <= (
        bench.duality_gap(X, y, zero, alpha, l1_ratio) + 1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_logistic_primal_dual(sparse):
    problem = bench.make_bench_problem("logistic-dense-a10", scale=0.02)
    X, y, alpha, n = problem.X, problem.y, problem.alpha, problem.shape[0]
    if sparse:
        X = sp.csr_matrix(X)
    model = LogisticRegression(C=problem.C, l1_ratio=1.0, solver="liblinear",
                               fit_intercept=False, tol=1e-12, max_iter=100_000).fit(X, y)
    coef = model.coef_.ravel()
    primal, dual = bench.logistic_primal_dual(X, y, coef, alpha)
    # scikit-learn's objective divided by C n
    z = y * (X @ coef)
    sk = problem.C * np.sum(np.logaddexp(0, -z)) + np.abs(coef).sum()
    assert primal == pytest.approx(sk / (problem.C * n), rel=1e-12)
    assert 0 <= primal - dual < 1e-9
    # at w = 0 the primal is log 2; the gap bounds the suboptimality
    zero = np.zeros(X.shape[1])
    p0, d0 = bench.logistic_primal_dual(X, y, zero, alpha)
    assert p0 == pytest.approx(np.log(2)) and p0 - primal <= p0 - d0 + 1e-12
    assert p0 - d0 > 1e-3
    # above alpha_max, zero is optimal and its gap vanishes
    p1, d1 = bench.logistic_primal_dual(X, y, zero, 1.01 * alpha * 10)
    assert abs(p1 - d1) < 1e-12
    # the dual point is feasible: D(t) is a lower bound even for a poor w
    p2, d2 = bench.logistic_primal_dual(X, y, 0.5 * coef, alpha)
    assert d2 <= primal + 1e-12 and p2 >= primal
    with pytest.raises(ValueError, match="alpha > 0"):
        bench.logistic_primal_dual(X, y, coef, 0.0)
