"""Poisson regression: agreement with scikit-learn (ridge) and glmnet (peers), optimality by
KKT conditions computed in NumPy on dense, CSC and CSR designs (float64 and float32, with and
without intercept, weights and offsets), the duality-gap certificate, paths, cross-validation
and input checks."""

import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import PoissonRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import PoissonRegression, PoissonRegressionCV, poisson_path

from .conftest import as_format


def _counts(n=200, p=30, seed=0, density=0.5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[rng.random((n, p)) > density] = 0.0
    eta = 0.6 * X[:, 0] - 0.4 * X[:, 3] + 0.3 * X[:, 5] + 0.5
    return X, rng.poisson(np.exp(eta)).astype(np.float64)


def kkt_violation(X, y, model, alpha, l1_ratio, factor=None, lower=None, upper=None,
                  weights=None, offset=None):
    """Largest violation of the optimality conditions (proximal-gradient fixed point, see
    tests/test_feature_penalty.py), relative to the correlations of the null model."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    factor = np.ones(p) if factor is None else factor
    lower = np.full(p, -np.inf) if lower is None else lower
    upper = np.full(p, np.inf) if upper is None else upper
    s = np.ones(n) if weights is None else n * weights / weights.sum()
    w = model.coef_.astype(np.float64)
    eta = X @ w + model.intercept_ + (0.0 if offset is None else offset)
    mu = np.exp(eta)
    grad = X.T @ (s * (mu - y)) / n + alpha * (1 - l1_ratio) * factor * w
    lam = alpha * l1_ratio * factor
    scale = np.abs(X.T @ (s * (y - np.average(y, weights=s)))).max() / n
    step = 1e-6 / scale
    z = w - step * grad
    moved = np.clip(np.sign(z) * np.maximum(np.abs(z) - step * lam, 0.0), lower, upper)
    violation = np.abs(w - moved) / step
    if model.fit_intercept:
        violation = np.append(violation, abs(np.sum(s * (mu - y))) / n)
    return float(violation.max() / scale)


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csc", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_lasso_fit_satisfies_the_optimality_conditions(fmt, fit_intercept, weighted):
    X, y = _counts(seed=1)
    rng = np.random.default_rng(2)
    weights = rng.uniform(0.2, 2.0, y.shape[0]) if weighted else None
    offset = rng.uniform(-0.5, 0.5, y.shape[0])
    model = PoissonRegression(alpha=0.02, tol=1e-10, fit_intercept=fit_intercept)
    model.fit(as_format(X, fmt), y, sample_weight=weights, offset=offset)
    assert 0 < np.count_nonzero(model.coef_) < X.shape[1]
    assert kkt_violation(X, y, model, 0.02, 1.0, weights=weights, offset=offset) < 1e-6
    assert 0.0 <= model.dual_gap_ < 1e-8


def test_factors_and_bounds():
    X, y = _counts(seed=3)
    p = X.shape[1]
    factor = np.linspace(0.5, 2.0, p)
    factor[[0, 9]] = 0.0
    lower = np.full(p, -np.inf)
    upper = np.full(p, np.inf)
    upper[0] = 0.3  # binds: the unbounded coefficient is ~0.6
    lower[3] = 0.0  # binds: the coefficient is negative
    model = PoissonRegression(alpha=0.03, tol=1e-10, penalty_factor=factor, lower_bounds=lower,
                              upper_bounds=upper).fit(X, y)
    assert model.coef_[0] == pytest.approx(0.3) and model.coef_[3] == 0.0
    assert model.coef_[9] != 0.0  # unpenalised
    assert kkt_violation(X, y, model, 0.03, 1.0, factor, lower, upper) < 1e-6


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_float32_input_stays_float32(fmt):
    X, y = _counts(seed=4)
    model = PoissonRegression(alpha=0.02, tol=1e-6).fit(as_format(X, fmt, np.float32), y)
    assert model.coef_.dtype == np.float32
    reference = PoissonRegression(alpha=0.02, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-4)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_agrees_with_scikit_learn(fit_intercept):
    X, y = _counts(seed=5, density=1.0)
    ours = PoissonRegression(alpha=0.05, l1_ratio=0.0, tol=1e-10,
                             fit_intercept=fit_intercept).fit(X, y)
    theirs = PoissonRegressor(alpha=0.05, tol=1e-12, max_iter=10_000, solver="newton-cholesky",
                              fit_intercept=fit_intercept).fit(X, y)
    # (objectives agree to ~1e-13, which fixes the coefficients to about its square root)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-6)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, abs=1e-6)
    assert ours.score(X, y) == pytest.approx(theirs.score(X, y), abs=1e-6)


def test_duality_gap_bounds_the_suboptimality():
    X, y = _counts(seed=6)

    def objective(model):
        eta = X @ model.coef_ + model.intercept_
        return np.mean(np.exp(eta) - y * eta) + 0.02 * np.abs(model.coef_).sum()

    best = objective(PoissonRegression(alpha=0.02, tol=1e-12).fit(X, y))
    for max_iter in (1, 2, 4):
        with pytest.warns(Warning):
            early = PoissonRegression(alpha=0.02, tol=1e-14, max_iter=max_iter).fit(X, y)
        assert -1e-12 <= objective(early) - best <= early.dual_gap_ * (1 + 1e-8) + 1e-14


def test_offset_is_a_log_exposure():
    X, y = _counts(seed=7)
    exposure = np.random.default_rng(8).uniform(0.5, 3.0, y.shape[0])
    with_offset = PoissonRegression(alpha=0.01, tol=1e-10).fit(X, y, offset=np.log(exposure))
    shifted = PoissonRegression(alpha=0.01, tol=1e-10).fit(X, y, offset=np.full(200, 1.5))
    plain = PoissonRegression(alpha=0.01, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(shifted.coef_, plain.coef_, atol=1e-8)
    assert shifted.intercept_ == pytest.approx(plain.intercept_ - 1.5, abs=1e-8)
    assert not np.allclose(with_offset.coef_, plain.coef_)


def test_path_starts_at_alpha_max_and_agrees_with_single_fits():
    X, y = _counts(seed=9)
    alphas, coefs, intercepts, gaps = poisson_path(X, y, alphas=8, eps=1e-2, tol=1e-10)
    assert not coefs[:, 0].any() and coefs[:, 1].any()
    assert np.all(np.diff(alphas) < 0)
    single = PoissonRegression(alpha=alphas[5], tol=1e-10).fit(X, y)
    np.testing.assert_allclose(coefs[:, 5], single.coef_, atol=1e-6)
    assert intercepts[5] == pytest.approx(single.intercept_, abs=1e-6)
    assert np.all(gaps < 1e-8)


def test_cross_validation_is_reproducible_and_sensible():
    X, y = _counts(seed=10, n=150, p=20)
    one = PoissonRegressionCV(alphas=12, cv=4, n_jobs=1, tol=1e-8).fit(X, y)
    two = PoissonRegressionCV(alphas=12, cv=4, n_jobs=2, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    assert one.deviance_path_.shape == (12, 4)
    assert one.alpha_1se_ >= one.alpha_min_ == one.alpha_
    assert {0, 3} <= set(np.flatnonzero(one.coef_))
    rule = PoissonRegressionCV(alphas=12, cv=4, alpha_rule="1se", tol=1e-8).fit(X, y)
    assert rule.alpha_ == one.alpha_1se_


@pytest.mark.parametrize(("y", "kwargs", "message"), [
    (-1.0, {}, "non-negative"),
    (np.nan, {}, "NaN"),
    (0.0, {}, "zero for every sample"),
    (None, {"offset": np.zeros(3)}, "offset has 3 entries"),
    (None, {"offset": np.full(20, np.inf)}, "offset contains NaN"),
])
def test_bad_input_is_refused(y, kwargs, message):
    X = np.random.default_rng(0).standard_normal((20, 3))
    target = np.ones(20)
    if y is not None:
        target = target * 0.0 if y == 0.0 else target
        if y != 0.0:
            target[4] = y
    with pytest.raises(ValueError, match=message):
        PoissonRegression(alpha=0.1).fit(X, target, **kwargs)


@parametrize_with_checks([PoissonRegression(alpha=0.01)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


_GLMNET_SCRIPT = """
suppressMessages(library(glmnet))
d <- as.matrix(read.csv("{data}", header = FALSE))
fit <- glmnet(d[, -1], d[, 1], family = "poisson", alpha = 1, lambda = {alpha},
              standardize = FALSE, thresh = 1e-14, maxit = 1e7)
cat(as.numeric(coef(fit)), sep = "\\n")
"""


@pytest.mark.peers
def test_matches_glmnet(tmp_path):
    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed")
    if subprocess.run(["Rscript", "-e", "library(glmnet)"], capture_output=True).returncode:
        pytest.skip("R's glmnet is not installed")
    X, y = _counts(seed=11)
    np.savetxt(tmp_path / "data.csv", np.column_stack([y, X]), delimiter=",")
    script = _GLMNET_SCRIPT.format(data=tmp_path / "data.csv", alpha=0.02)
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    glmnet = np.array(out.stdout.split(), dtype=float)
    model = PoissonRegression(alpha=0.02, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(model.coef_, glmnet[1:], atol=1e-6)
    assert model.intercept_ == pytest.approx(glmnet[0], abs=1e-6)


def test_dask_input_is_refused_clearly():
    da = pytest.importorskip("dask.array")
    X, y = _counts(seed=12, n=40, p=8)
    with pytest.raises(ValueError, match="does not take Dask arrays"):
        PoissonRegressionCV().fit(da.from_array(X, chunks=10), y)
