"""Per-feature penalty factors and bounds for the squared loss: validation, optimality (KKT
conditions computed independently in NumPy) on dense, CSC and CSR designs, float64 and
float32, with and without intercept and sample weights; alpha_max, paths, cross-validation;
and a cross-check against R's glmnet (``peers``)."""

import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1 import ElasticNet, ElasticNetCV, Lasso, LassoCV, enet_path, glmnet_factors
from fastl1._feature_penalty import check_feature_penalty

from .conftest import as_format, make_regression


def kkt_violation(X, y, model, alpha, l1_ratio, factor, lower, upper, sample_weight=None):
    """Largest violation of the optimality conditions of the fitted model, relative to the
    scale of the correlations at zero (independent of fastl1's kernels).

    ``w`` is optimal iff it is a fixed point of a proximal gradient step,
    ``w = clip(soft_threshold(w - t g, t lam), lower, upper)`` (the box holds 0), for the
    smooth part's gradient ``g``; for a small step ``t`` the step's length over ``t`` is the
    distance from ``-g`` to the penalty's subdifferential plus the bounds' normal cone."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else n * sample_weight / sample_weight.sum()
    w = np.asarray(model.coef_, dtype=np.float64)
    r = y - X @ w - float(model.intercept_)
    grad = -(X.T @ (sw * r)) / n + alpha * (1 - l1_ratio) * factor * w
    lam = alpha * l1_ratio * factor
    scale = np.abs(X.T @ (sw * (y - np.average(y, weights=sw)))).max() / n
    step = 1e-6 / scale
    z = w - step * grad
    moved = np.clip(np.sign(z) * np.maximum(np.abs(z) - step * lam, 0.0), lower, upper)
    violation = np.abs(w - moved) / step
    if model.fit_intercept:
        violation = np.append(violation, abs(np.sum(sw * r)) / n)
    return float(violation.max() / scale)


def _problem(seed=0, n=60, p=30):
    X, y = make_regression(n=n, p=p, density=0.6, n_informative=6, seed=seed)
    rng = np.random.default_rng(seed + 1)
    factor = rng.uniform(0.2, 3.0, p)
    factor[[0, 7]] = 0.0  # unpenalised (e.g. age and sex)
    lower = np.full(p, -np.inf)
    upper = np.full(p, np.inf)
    lower[3:9] = -0.05
    upper[10:15] = 0.1
    lower[20:25] = 0.0  # sign constraints
    upper[26] = lower[26] = 0.0  # fixed at zero
    weights = rng.uniform(0.2, 2.0, n)
    return X, y, factor, lower, upper, weights


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csc", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.6])
def test_fit_satisfies_the_optimality_conditions(fmt, fit_intercept, weighted, l1_ratio):
    X, y, factor, lower, upper, weights = _problem(seed=3)
    sw = weights if weighted else None
    alpha = 0.05
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=1e-12,
                       max_iter=100_000, penalty_factor=factor, lower_bounds=lower,
                       upper_bounds=upper)
    model.fit(as_format(X, fmt), y, sample_weight=sw)
    w = model.coef_
    assert np.all(w >= lower - 1e-12) and np.all(w <= upper + 1e-12)
    assert w[26] == 0.0
    # The conditions bind: bounds are active, unpenalised features enter, some stay zero.
    assert np.any(w == upper) or np.any(w == lower)
    assert w[0] != 0.0 and w[7] != 0.0
    assert np.any(w == 0.0)
    assert kkt_violation(X, y, model, alpha, l1_ratio, factor, lower, upper, sw) < 1e-7
    assert model.dual_gap_ <= 1e-12 * np.average((y - y.mean()) ** 2) * 10 + 1e-14


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
def test_float32_fit_is_optimal_to_its_precision(fmt):
    X, y, factor, lower, upper, weights = _problem(seed=5)
    model = Lasso(alpha=0.05, tol=1e-6, penalty_factor=factor, lower_bounds=lower,
                  upper_bounds=upper).fit(as_format(X, fmt, np.float32), y.astype(np.float32),
                                          sample_weight=weights)
    assert model.coef_.dtype == np.float32
    reference = Lasso(alpha=0.05, tol=1e-12, max_iter=100_000, penalty_factor=factor,
                      lower_bounds=lower, upper_bounds=upper).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=2e-4)
    # (float32 coefficients sit on the float32 numbers nearest inside the bounds)
    rounded = check_feature_penalty(factor, lower, upper, X.shape[1]).in_dtype(np.float32)
    assert np.all(model.coef_ >= lower) and np.all(model.coef_ <= upper)
    assert kkt_violation(X, y, model, 0.05, 1.0, factor, rounded.lower, rounded.upper,
                         weights) < 1e-3


def test_duality_gap_certifies_the_objective():
    """The gap of an early stop bounds the distance to the optimum from above."""
    X, y, factor, lower, upper, weights = _problem(seed=7)

    def objective(model):
        r = y - X @ model.coef_ - model.intercept_
        w = model.coef_
        return 0.5 * np.mean(r ** 2) + 0.05 * np.sum(factor * np.abs(w))

    kwargs = dict(alpha=0.05, penalty_factor=factor, lower_bounds=lower, upper_bounds=upper,
                  selection="random", random_state=0)
    best = objective(Lasso(tol=1e-14, max_iter=100_000, **kwargs).fit(X, y))
    for max_iter in (1, 2, 3, 5):
        with pytest.warns(Warning):
            early = Lasso(tol=1e-14, max_iter=max_iter, **kwargs).fit(X, y)
        assert objective(early) - best <= early.dual_gap_ * (1 + 1e-9) + 1e-15
        assert objective(early) - best >= 0.0


def test_plain_factors_and_infinite_bounds_reproduce_the_plain_fit():
    X, y, *_ = _problem(seed=1)
    p = X.shape[1]
    plain = ElasticNet(alpha=0.03, l1_ratio=0.7, tol=1e-10).fit(X, y)
    same = ElasticNet(alpha=0.03, l1_ratio=0.7, tol=1e-10, penalty_factor=np.ones(p),
                      lower_bounds=-np.inf, upper_bounds=np.inf).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, same.coef_)
    positive = Lasso(alpha=0.03, positive=True, tol=1e-10).fit(X, y)
    bounded = Lasso(alpha=0.03, lower_bounds=0.0, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(positive.coef_, bounded.coef_, atol=1e-12)


def test_scaling_the_factors_scales_alpha():
    X, y, factor, *_ = _problem(seed=2)
    a = Lasso(alpha=0.04, penalty_factor=factor, tol=1e-12).fit(X, y)
    b = Lasso(alpha=0.01, penalty_factor=4 * factor, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-9)


def test_unpenalised_features_stay_in_at_any_alpha():
    X, y, factor, *_ = _problem(seed=4)
    model = Lasso(alpha=1e3, penalty_factor=factor).fit(X, y)
    assert set(np.flatnonzero(model.coef_)) == {0, 7}
    # ... and equal the least-squares fit of those features alone (with the intercept).
    Xc = X[:, [0, 7]] - X[:, [0, 7]].mean(axis=0)
    expected = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(model.coef_[[0, 7]], expected, rtol=1e-6)


def test_path_starts_at_alpha_max_of_the_penalised_features():
    X, y, factor, lower, upper, _ = _problem(seed=6)
    alphas, coefs, gaps = enet_path(X, y, l1_ratio=1.0, alphas=20, fit_intercept=True,
                                    penalty_factor=factor, lower_bounds=lower,
                                    upper_bounds=upper, tol=1e-10)
    penalised = factor > 0
    # Only the unpenalised features at alpha_max (to rounding: the penalised correlations
    # sit exactly at their thresholds there).
    assert np.abs(coefs[penalised, 0]).max() < 1e-8
    assert coefs[~penalised, 0].all()
    slightly_below = enet_path(X, y, l1_ratio=1.0, alphas=[alphas[0] * 0.99],
                               fit_intercept=True, penalty_factor=factor, lower_bounds=lower,
                               upper_bounds=upper, tol=1e-10)[1]
    assert slightly_below[penalised, 0].any()  # alpha_max is the smallest such alpha
    assert np.all(gaps >= 0)


@pytest.mark.parametrize("cls", [LassoCV, ElasticNetCV])
def test_cross_validation_uses_the_factors_and_bounds(cls):
    X, y, factor, lower, upper, _ = _problem(seed=8, n=80)
    model = cls(cv=3, alphas=15, penalty_factor=factor, lower_bounds=lower,
                upper_bounds=upper, tol=1e-8).fit(X, y)
    assert np.all(model.coef_ >= lower) and np.all(model.coef_ <= upper)
    assert model.coef_[0] != 0.0 and model.coef_[7] != 0.0
    ratio = 1.0 if cls is LassoCV else model.l1_ratio_
    assert kkt_violation(X, y, model, model.alpha_, ratio, factor, lower, upper) < 1e-4


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(penalty_factor=[1.0, -1.0, 1.0]), "non-negative"),
    (dict(penalty_factor=[1.0, np.nan, 1.0]), "NaN"),
    (dict(penalty_factor=[1.0, np.inf, 1.0]), "finite"),
    (dict(penalty_factor=[1.0, 1.0]), "shape"),
    (dict(penalty_factor=[0.0, 0.0, 0.0]), "zero for every feature"),
    (dict(lower_bounds=[0.0, 0.5, -1.0]), "lower_bounds must be <= 0"),
    (dict(upper_bounds=-1.0), "upper_bounds must be >= 0"),
    (dict(upper_bounds=[1.0, np.nan, 1.0]), "NaN"),
    (dict(lower_bounds=-1.0, positive=True), "positive=True"),
    (dict(penalty_factor="abc"), "number"),
])
def test_bad_factors_and_bounds_are_refused(kwargs, message):
    X = np.random.default_rng(0).standard_normal((10, 3))
    y = X[:, 0]
    with pytest.raises((ValueError, TypeError), match=message):
        Lasso(alpha=0.1, **kwargs).fit(X, y)


def test_user_arrays_are_not_modified_or_kept():
    X, y, factor, lower, upper, _ = _problem(seed=9)
    copies = factor.copy(), lower.copy(), upper.copy()
    model = Lasso(alpha=0.05, penalty_factor=factor, lower_bounds=lower,
                  upper_bounds=upper).fit(X, y)
    for given, copy in zip((factor, lower, upper), copies, strict=True):
        np.testing.assert_array_equal(given, copy)
    assert model.penalty_factor is factor  # (scikit-learn: parameters stored as given)
    checked = check_feature_penalty(factor, None, None, X.shape[1])
    checked.factor[0] = 99.0
    assert factor[0] != 99.0


def test_glmnet_factors_sum_to_the_number_of_features():
    scaled = glmnet_factors([0.0, 1.0, 3.0])
    np.testing.assert_allclose(scaled, [0.0, 0.75, 2.25])
    with pytest.raises(ValueError, match="not all zero"):
        glmnet_factors([0.0, 0.0])


_GLMNET_SCRIPT = """
suppressMessages(library(glmnet))
d <- as.matrix(read.csv("{data}", header = FALSE))
X <- d[, -1]; y <- d[, 1]
pf <- scan("{factor}", quiet = TRUE)
lo <- scan("{lower}", quiet = TRUE); up <- scan("{upper}", quiet = TRUE)
fit <- glmnet(X, y, family = "gaussian", alpha = {l1_ratio}, lambda = {alpha},
              standardize = FALSE, penalty.factor = pf, lower.limits = lo,
              upper.limits = up, thresh = 1e-14, maxit = 1e7)
cat(as.numeric(coef(fit)), sep = "\\n")
"""


@pytest.mark.peers
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_matches_glmnet(tmp_path, l1_ratio):
    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed")
    probe = subprocess.run(["Rscript", "-e", "library(glmnet)"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("R's glmnet is not installed")
    X, y, factor, lower, upper, _ = _problem(seed=11)
    # glmnet fits the Gaussian family to y divided by its standard deviation and scales
    # back, which changes the ridge term's weight: with unit variance both objectives agree.
    y = y / y.std()
    factor = glmnet_factors(factor)  # glmnet rescales its factors to sum to p
    lower = np.maximum(lower, -1e10)  # (R reads -Inf too, but keep the file numeric)
    upper = np.minimum(upper, 1e10)
    np.savetxt(tmp_path / "data.csv", np.column_stack([y, X]), delimiter=",")
    for name, values in (("factor", factor), ("lower", lower), ("upper", upper)):
        np.savetxt(tmp_path / f"{name}.txt", values)
    alpha = 0.05
    script = _GLMNET_SCRIPT.format(data=tmp_path / "data.csv", factor=tmp_path / "factor.txt",
                                   lower=tmp_path / "lower.txt", upper=tmp_path / "upper.txt",
                                   l1_ratio=l1_ratio, alpha=alpha)
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    glmnet = np.array(out.stdout.split(), dtype=float)
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000,
                       penalty_factor=factor, lower_bounds=lower,
                       upper_bounds=upper).fit(X, y)
    # (glmnet's objective for the Gaussian family is scikit-learn's, 1/(2n) RSS + penalty;
    # agreement to its convergence threshold)
    np.testing.assert_allclose(model.coef_, glmnet[1:], atol=1e-5)
    np.testing.assert_allclose(model.intercept_, glmnet[0], atol=1e-5)
