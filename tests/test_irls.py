"""The Newton loop of smooth datafits (fastl1/_irls.py): working sets of features, exact-Hessian
support steps, Anderson extrapolation of the Newton iterates."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from fastl1 import _irls
from fastl1._cox_data import CoxDatafit, RiskSets
from fastl1._feature_penalty import FeaturePenalty
from fastl1._irls import kkt_violation, kkt_violations, prox_newton
from fastl1.cox import CoxRegression
from fastl1.poisson import PoissonDatafit, PoissonRegression


def _survival(n, p, seed=0, ties=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    time = rng.exponential(np.exp(-(X[:, 0] - 0.5 * X[:, 1])))
    if ties:
        time = np.round(time, 1) + 0.1
    event = rng.random(n) < 0.7
    return X, time, event


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("strata", [False, True])
def test_cox_hessian_gram_is_the_gradients_derivative(ties, strata):
    rng = np.random.default_rng(1)
    n = 50
    _, time, event = _survival(n, 2, seed=1, ties=True)
    weights = rng.uniform(0.5, 2.0, n)
    groups = rng.integers(0, 3, n) if strata else None
    datafit = CoxDatafit(RiskSets.build(time, event, weights, groups, ties))
    eta = rng.standard_normal(n)
    B = rng.standard_normal((n, 3))
    step = 1e-6
    columns = [(datafit.derivatives(eta + step * B[:, k])[0]
                - datafit.derivatives(eta - step * B[:, k])[0]) / (2 * step) for k in range(3)]
    expected = B.T @ np.column_stack(columns)
    gram = datafit.hessian_gram(eta, B)
    np.testing.assert_allclose(gram, expected, atol=1e-6 * np.abs(expected).max())
    np.testing.assert_allclose(gram, gram.T, rtol=1e-12, atol=1e-12)
    # its diagonal for unit columns is the curvature the Newton steps use
    unit = np.eye(n)[:, :5]
    np.testing.assert_allclose(np.diag(datafit.hessian_gram(eta, unit)),
                               datafit.derivatives(eta)[1][:5], rtol=1e-10, atol=1e-14)


def test_kkt_violations_are_per_feature_distances():
    rng = np.random.default_rng(2)
    grad = rng.standard_normal(6) * 3
    coef = np.array([0.0, 0.5, -0.2, 0.0, 1.0, 0.0])
    penalty = FeaturePenalty.default(6)
    values = kkt_violations(grad, coef, (0.01, 1.0), penalty, 100)
    l1 = 1.0
    expected = np.where(coef == 0, np.maximum(np.abs(grad) - l1, 0),
                        np.abs(grad - l1 * np.sign(coef)))
    np.testing.assert_allclose(values, expected)
    assert kkt_violation(grad, coef, (0.01, 1.0), penalty, 100) == values.max()


def test_working_set_keeps_the_support_and_the_largest_violations():
    scores = np.array([0.0, 5.0, 1.0, 0.0, 3.0, 2.0])
    keep = np.array([True, False, False, True, False, False])
    np.testing.assert_array_equal(_irls._working_set(scores, keep, 4), [0, 1, 3, 4])
    np.testing.assert_array_equal(_irls._working_set(scores, keep, 1), [0, 3])
    np.testing.assert_array_equal(_irls._working_set(scores, keep, 100), [0, 1, 2, 3, 4, 5])


def _cox_fit(X, time, event, alpha):
    model = CoxRegression(alpha=alpha, tol=1e-9, max_iter=100_000)
    return model.fit(X, np.column_stack([time, event]))


def _cox_kkt(X, time, event, coef, alpha):
    n = X.shape[0]
    datafit = CoxDatafit(RiskSets.build(time, event, np.ones(n)))
    grad = X.T @ -datafit.derivatives(X @ coef)[0] / n
    return np.where(coef == 0, np.maximum(np.abs(grad) - alpha, 0),
                    np.abs(grad - alpha * np.sign(coef))).max()


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_cox_working_sets_reach_the_solution_of_one_set(fmt, monkeypatch):
    X, time, event = _survival(60, 300, seed=3)
    Xf = sp.csc_matrix(X) if fmt == "csc" else X
    alpha = 0.05
    model = _cox_fit(Xf, time, event, alpha)
    assert model.dual_gap_ <= 1e-9 * 1.0 + 1e-6  # certified (scale: null gradient ~ 1)
    assert 0 < np.count_nonzero(model.coef_) < 60
    assert _cox_kkt(X, time, event, model.coef_, alpha) < 1e-7
    monkeypatch.setattr(_irls, "_WS_START", 10**9)  # the whole problem at once
    whole = _cox_fit(Xf, time, event, alpha)
    np.testing.assert_allclose(model.coef_, whole.coef_, atol=1e-6)


def test_cox_support_steps_cut_newton_steps_near_saturation(monkeypatch):
    # many correlated non-zeros for few samples: the diagonal-Hessian steps crawl
    X, time, event = _survival(40, 30, seed=4)
    y = np.column_stack([time, event])
    alpha = 0.002
    fast = CoxRegression(alpha=alpha, tol=1e-8, max_iter=100_000).fit(X, y)
    assert fast.n_newton_ < 30
    assert _cox_kkt(X, time, event, fast.coef_, alpha) < 1e-6
    monkeypatch.setattr(_irls, "_support_newton", lambda *args: args[-1])
    with pytest.warns(ConvergenceWarning, match="100 Newton steps"):
        slow = CoxRegression(alpha=alpha, tol=1e-8, max_iter=100_000).fit(X, y)
    assert slow.dual_gap_ > 1e3 * fast.dual_gap_


def test_poisson_working_sets_on_sparse_data_match_one_set(monkeypatch):
    rng = np.random.default_rng(5)
    n, p = 200, 400
    X = sp.random(n, p, density=0.05, format="csr", random_state=5)
    coef = np.zeros(p)
    coef[:5] = 1.0
    y = rng.poisson(np.exp(X @ coef)).astype(float)
    model = PoissonRegression(alpha=0.005, tol=1e-10, max_iter=100_000).fit(X, y)
    monkeypatch.setattr(_irls, "_WS_START", 10**9)
    whole = PoissonRegression(alpha=0.005, tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(model.coef_, whole.coef_, atol=1e-6)
    assert model.intercept_ == pytest.approx(whole.intercept_, abs=1e-6)
    # KKT conditions computed here: the gradient of the mean deviance over two
    mu = np.exp(X @ model.coef_ + model.intercept_)
    grad = X.T @ (y - mu) / n
    support = model.coef_ != 0
    np.testing.assert_allclose(grad[support], 0.005 * np.sign(model.coef_[support]),
                               atol=1e-6)
    assert np.abs(grad[~support]).max() <= 0.005 + 1e-6
    assert abs(np.sum(y - mu)) / n < 1e-6


def test_extrapolation_is_kept_only_when_it_lowers_the_objective():
    rng = np.random.default_rng(6)
    n, p = 50, 4
    X = rng.standard_normal((n, p))
    y = rng.poisson(1.0, n).astype(float)
    datafit = PoissonDatafit(y, np.ones(n), None)
    penalty = FeaturePenalty.default(p)
    settings = _irls._Settings(False, None, 1e-8, 1.0, 100, 100, {})
    coef = np.zeros(p)
    eta = X @ coef
    objective = datafit.value(eta) / n
    current = (coef, 0.0, eta, objective)
    # iterates running away from the minimum: their extrapolation is refused
    iterates = np.array([np.append(np.full(p, 10.0 * k), 0.0) for k in range(1, 7)])
    iterates[:, :p] += rng.standard_normal((6, p))
    result = _irls._extrapolate(X, datafit, (0.1, 1.0), penalty, settings, iterates, current)
    assert result is current


def test_prox_newton_reports_the_full_problems_certificate():
    X, time, event = _survival(50, 150, seed=7)
    datafit = CoxDatafit(RiskSets.build(time, event, np.ones(50)))
    penalty = FeaturePenalty.default(150)
    result = prox_newton(X, datafit, 0.05, 1.0, penalty, coef=np.zeros(150), intercept=0.0,
                         fit_intercept=True, offset=None, tol=1e-8, tol_scale=1.0,
                         max_iter=10_000)
    assert result.converged and result.n_rounds >= 2
    assert result.certificate == pytest.approx(
        _cox_kkt(X, time, event, result.coef, 0.05), rel=1e-6, abs=1e-12)


def test_poisson_tall_dense_fit_is_certified():
    # a set equal to the last round's, which was solved only to a fraction of the full
    # certificate, must be solved again (not taken as final)
    rng = np.random.default_rng(1)
    n, p = 20000, 200
    X = rng.standard_normal((n, p)) * 0.3
    coef = np.zeros(p)
    coef[:20] = rng.uniform(-1, 1, 20)
    y = rng.poisson(np.exp(X @ coef + 0.5)).astype(float)
    alpha = 0.016
    model = PoissonRegression(alpha=alpha, tol=1e-8).fit(X, y)
    assert model.n_newton_ >= 2
    assert model.dual_gap_ < 1e-8
    mu = np.exp(X @ model.coef_ + model.intercept_)
    grad = X.T @ (y - mu) / n
    support = model.coef_ != 0
    np.testing.assert_allclose(grad[support], alpha * np.sign(model.coef_[support]),
                               atol=1e-5)
    assert np.abs(grad[~support]).max() <= alpha + 1e-5
