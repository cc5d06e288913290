"""Per-feature penalty factors and bounds for the logistic losses (binary and multinomial):
optimality checked by KKT conditions computed independently in NumPy, on dense, CSC and CSR
designs, float64 and float32, with and without intercept and sample weights; equivalences
(default factors, scaling), unpenalised features, ``l1_min_c`` and paths, cross-validation,
bad inputs, and a cross-check against R's glmnet (``peers``)."""

import shutil
import subprocess

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, softmax

from fastl1._feature_penalty import glmnet_factors
from fastl1.logistic import LogisticRegression
from fastl1.logistic_cv import LogisticRegressionCV, l1_logistic_path, l1_min_c

from .conftest import as_format

TIGHT = dict(tol=1e-9, max_iter=1000)
# Largest KKT violation accepted (scale: the objective divided by C * sum(s)): ``tol`` (a fit
# stopped on the KKT violation has at most tol / 1000; one certified by its duality gap at
# tol / 100 relative has far less at these sizes). float32 coefficients add their rounding:
# about 1e-7 relative, times the curvature.
KKT_TOL = TIGHT["tol"]
FLOAT32_KKT_TOL = 1e-8


def make_problem(n=80, p=16, n_classes=2, seed=0):
    """A small classification problem with informative features 1, 2 and 9."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.3
    X[rng.random((n, p)) < 0.3] = 0.0  # exact zeros, for the sparse layouts
    scores = np.column_stack([X[:, 1] - X[:, 2], X[:, 9] + 0.5 * X[:, 2], -X[:, 1]])
    scores = scores[:, :n_classes] + 0.8 * rng.standard_normal((n, n_classes))
    y = (scores[:, 0] > 0).astype(int) if n_classes == 2 else scores.argmax(axis=1)
    weights = rng.uniform(0.3, 2.0, n)
    return X, y, weights


def make_penalty(p=16, unpenalised="free"):
    """Factors (with zeros unless ``unpenalised="none"``) and bounds of every kind: two-sided,
    one-sided, sign constraints, a coefficient fixed at zero. ``"free"``: feature 0 is
    unpenalised and unbounded (no dual point: the fit stops on the KKT violation);
    ``"bounded"``: the unpenalised features have finite bounds (the gap is a certificate)."""
    factor = np.linspace(0.5, 2.0, p)
    lower = np.full(p, -np.inf)
    upper = np.full(p, np.inf)
    lower[1], upper[1] = -0.3, 0.3  # bind: features 1 and 2 are informative
    lower[2], upper[2] = -0.2, 0.2
    lower[[5, 9]] = 0.0       # sign constraints
    upper[11] = 0.0
    lower[12] = upper[12] = 0.0  # fixed at zero
    if unpenalised != "none":
        factor[[0, 7]] = 0.0
        lower[7], upper[7] = -0.5, 0.5
    if unpenalised == "bounded":
        lower[0], upper[0] = -0.4, 0.4
    return factor, lower, upper


def kkt_violation(X, y, coef, intercept, C, l1_ratio, factor, lower, upper,
                  sample_weight=None, fit_intercept=True, bound_tol=0.0):
    """Largest violation of the optimality conditions of ``C sum_i s_i loss_i + sum_j f_j
    (l1_ratio ||W_j||_1 + (1 - l1_ratio) / 2 ||W_j||^2)`` over ``lower <= W <= upper``,
    divided by ``C * sum(s)``, from scratch in NumPy.

    With ``g`` the gradient of the smooth part in a coefficient ``w`` of feature ``j`` and
    ``l1 = l1_ratio f_j / (C sum(s))``: strictly inside the bounds and non-zero, ``g = -l1
    sign(w)``; at zero, ``g`` may not pass ``l1`` towards a side the bounds leave open; at
    an upper (lower) bound ``g + l1 sign(w)`` must not be positive (negative), pushing
    outwards (a coefficient within ``bound_tol`` of its bound counts as at it: float32
    coefficients). Returns the largest amount by which one of these fails, and of the
    intercept's condition ``sum_i s_i (p_ik - y_ik) = 0``."""
    X = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)
    W = np.atleast_2d(np.asarray(coef, np.float64))
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    classes = np.unique(y)
    Z = X @ W.T + np.asarray(intercept, np.float64)
    if classes.shape[0] == 2:
        T = (np.asarray(y) == classes[1]).astype(float)[:, None]
        P = expit(Z)
    else:
        T = (np.asarray(y)[:, None] == classes[None, :]).astype(float)
        P = softmax(Z, axis=1)
    scale = C * s.sum()
    raw = C * s[:, None] * (P - T) / scale
    g = raw.T @ X + (1.0 - l1_ratio) / scale * factor * W
    l1 = np.broadcast_to(l1_ratio / scale * factor, W.shape)
    lower = np.broadcast_to(lower, W.shape)
    upper = np.broadcast_to(upper, W.shape)
    assert np.all(W >= lower) and np.all(W <= upper), "a coefficient is out of its bounds"
    worst = 0.0
    for k, j in np.ndindex(W.shape):
        w, gj, lj = W[k, j], g[k, j], l1[k, j]
        if w == 0.0:
            up = max(-gj - lj, 0.0) if upper[k, j] > 0.0 else 0.0  # moving up would help
            down = max(gj - lj, 0.0) if lower[k, j] < 0.0 else 0.0
            worst = max(worst, up, down)
            continue
        d = gj + lj * np.sign(w)
        if w >= upper[k, j] - bound_tol:
            worst = max(worst, d)  # only a push beyond the bound is allowed
        elif w <= lower[k, j] + bound_tol:
            worst = max(worst, -d)
        else:
            worst = max(worst, abs(d))
    if fit_intercept:
        worst = max(worst, np.abs(raw.sum(axis=0)).max())
    return worst


def check_fit(model, X, y, factor, lower, upper, sample_weight=None, tol=KKT_TOL):
    bound_tol = 0.0
    if model.coef_.dtype == np.float32:
        bound_tol, tol = 1e-6, max(tol, FLOAT32_KKT_TOL)
    violation = kkt_violation(X, y, model.coef_, model.intercept_, model.C, model.l1_ratio,
                              factor, lower, upper, sample_weight, model.fit_intercept,
                              bound_tol)
    assert violation <= tol, violation


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fit_satisfies_the_optimality_conditions(n_classes, fmt, fit_intercept, weighted,
                                                  dtype):
    X, y, weights = make_problem(n_classes=n_classes, seed=1)
    factor, lower, upper = make_penalty()
    Xf = as_format(X, fmt, dtype)
    sw = weights if weighted else None
    model = LogisticRegression(C=0.3, fit_intercept=fit_intercept, penalty_factor=factor,
                               lower_bounds=lower, upper_bounds=upper, **TIGHT)
    model.fit(Xf, y, sample_weight=sw)
    assert model.coef_.dtype == dtype
    check_fit(model, Xf, y, factor, lower, upper, sw)
    W = model.coef_
    assert np.all(W[:, 0] != 0.0), "an unpenalised feature is fitted"
    assert np.all(W[:, 12] == 0.0) and np.all(W[:, [5, 9]] >= 0.0) and np.all(W[:, 11] <= 0)
    assert np.isnan(model.dual_gap_)  # feature 0: unpenalised, unbounded: no dual point
    assert model.kkt_violation_ <= 1e-3 * TIGHT["tol"]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("unpenalised", ["bounded", "none"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("solver", ["prox_newton", "fista"])
def test_gap_certified_fits(n_classes, unpenalised, l1_ratio, solver):
    """Without an unbounded unpenalised feature the duality gap (bounded conjugate) is a
    certificate: it is reported, small, and the KKT conditions hold."""
    X, y, weights = make_problem(n_classes=n_classes, seed=2)
    factor, lower, upper = make_penalty(unpenalised=unpenalised)
    options = TIGHT if solver == "prox_newton" else dict(tol=1e-7, max_iter=100000)
    model = LogisticRegression(C=0.5, l1_ratio=l1_ratio, penalty_factor=factor,
                               lower_bounds=lower, upper_bounds=upper, solver=solver,
                               **options).fit(X, y, sample_weight=weights)
    assert 0.0 <= model.dual_gap_ <= 1e-2 * options["tol"] * 1.0
    check_fit(model, X, y, factor, lower, upper, weights,
              tol=options["tol"])
    assert (np.abs(model.coef_[:, 1]) == 0.3).any() and \
        (np.abs(model.coef_[:, 2]) == 0.2).any(), "the bounds are active"


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_default_factors_and_infinite_bounds_reproduce_the_plain_fit(n_classes, fmt,
                                                                      l1_ratio):
    X, y, weights = make_problem(n_classes=n_classes, seed=3)
    Xf = as_format(X, fmt)
    p = X.shape[1]
    plain = LogisticRegression(C=0.4, l1_ratio=l1_ratio).fit(Xf, y, sample_weight=weights)
    explicit = LogisticRegression(C=0.4, l1_ratio=l1_ratio, penalty_factor=np.ones(p),
                                  lower_bounds=np.full(p, -np.inf), upper_bounds=np.inf)
    explicit.fit(Xf, y, sample_weight=weights)
    np.testing.assert_array_equal(explicit.coef_, plain.coef_)
    np.testing.assert_array_equal(explicit.intercept_, plain.intercept_)
    assert explicit.n_iter_ == plain.n_iter_ and explicit.dual_gap_ == plain.dual_gap_


@pytest.mark.parametrize("n_classes", [2, 3])
def test_scaling_the_factors_is_scaling_C(n_classes):
    """Factors ``c f`` at ``C c`` (alpha / c) minimise ``c`` times the objective of ``f`` at
    ``C``: the same fit."""
    X, y, weights = make_problem(n_classes=n_classes, seed=4)
    factor, lower, upper = make_penalty(unpenalised="bounded")
    fits = [LogisticRegression(C=0.3 * c, penalty_factor=c * factor, lower_bounds=lower,
                               upper_bounds=upper, **TIGHT).fit(X, y, sample_weight=weights)
            for c in (1.0, 4.0)]
    np.testing.assert_allclose(fits[1].coef_, fits[0].coef_, atol=1e-6)
    np.testing.assert_allclose(fits[1].intercept_, fits[0].intercept_, atol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_unpenalised_features_stay_at_large_alpha(n_classes, fit_intercept):
    """At a C far below l1_min_c every penalised coefficient is zero, the unpenalised ones
    are the fit of those features alone (checked by KKT), and the multinomial class
    coefficients of an unbounded unpenalised feature are centred like the intercepts."""
    X, y, _ = make_problem(n_classes=n_classes, seed=5)
    p = X.shape[1]
    factor = np.ones(p)
    factor[[1, 9]] = 0.0
    model = LogisticRegression(C=1e-4, penalty_factor=factor, fit_intercept=fit_intercept,
                               **TIGHT).fit(X, y)
    W = model.coef_
    assert np.all(W[:, [1, 9]] != 0.0)
    assert not np.delete(W, [1, 9], axis=1).any()
    check_fit(model, X, y, factor, -np.inf, np.inf)
    if n_classes > 2:
        np.testing.assert_allclose(W[:, [1, 9]].sum(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_factor_zero_but_one(n_classes):
    X, y, _ = make_problem(n_classes=n_classes, seed=6)
    p = X.shape[1]
    factor = np.zeros(p)
    factor[2] = 1.0
    lower = np.full(p, -1.0)  # bounded: the unpenalised fit of 15 features stays finite
    upper = np.full(p, 1.0)
    for C in (1e-3, 1.0):
        model = LogisticRegression(C=C, penalty_factor=factor, lower_bounds=lower,
                                   upper_bounds=upper, **TIGHT).fit(X, y)
        check_fit(model, X, y, factor, lower, upper)
    c_min = l1_min_c(X, y, penalty_factor=factor, lower_bounds=lower, upper_bounds=upper)
    below = LogisticRegression(C=0.99 * c_min, penalty_factor=factor, lower_bounds=lower,
                               upper_bounds=upper, **TIGHT).fit(X, y)
    above = LogisticRegression(C=1.05 * c_min, penalty_factor=factor, lower_bounds=lower,
                               upper_bounds=upper, **TIGHT).fit(X, y)
    assert not below.coef_[:, 2].any() and above.coef_[:, 2].any()


@pytest.mark.parametrize("sides", ["both", "positive"])
@pytest.mark.parametrize("weighted", [False, True])
def test_l1_min_c_without_unpenalised_features_is_closed_form(sides, weighted):
    """With an intercept only, the null model is the weighted log-odds; l1_min_c is then
    ``1 / max_j |x_j^T s (p - y)| / f_j`` over the sides the bounds leave open."""
    X, y, weights = make_problem(seed=7)
    sw = weights if weighted else np.ones(X.shape[0])
    factor = np.linspace(0.5, 2.0, X.shape[1])
    lower = 0.0 if sides == "positive" else None
    grad = X.T @ (sw * (np.average(y, weights=sw) - y))
    entering = -grad if sides == "positive" else np.abs(grad)
    expected = 1.0 / np.max(np.maximum(entering, 0.0) / factor)
    got = l1_min_c(X, y, sample_weight=weights if weighted else None, penalty_factor=factor,
                   lower_bounds=lower)
    assert got == pytest.approx(expected, rel=1e-10)
    assert l1_min_c(X, y, l1_ratio=0.5, penalty_factor=factor, lower_bounds=lower,
                    sample_weight=weights if weighted else None) == pytest.approx(
        0.5 * expected, rel=1e-10)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("unpenalised", ["free", "none"])
def test_path_from_l1_min_c_starts_at_the_null_model(n_classes, fmt, unpenalised):
    X, y, weights = make_problem(n_classes=n_classes, seed=8)
    factor, lower, upper = make_penalty(unpenalised=unpenalised)
    options = dict(penalty_factor=factor, lower_bounds=lower, upper_bounds=upper)
    Xf = as_format(X, fmt)
    c_min = l1_min_c(Xf, y, sample_weight=weights, **options)
    Cs, coefs, intercepts, n_iter = l1_logistic_path(
        Xf, y, Cs=c_min * np.logspace(0, 2, 6), sample_weight=weights, tol=1e-8, **options)
    penalised = factor > 0
    assert not coefs[0][:, penalised].any(), "the first model is the null model"
    assert coefs[1][:, penalised].any() and coefs[-1][:, penalised].any()
    if unpenalised == "free":
        assert np.all(coefs[0][:, 0] != 0.0)
    for C, coef, intercept in zip(Cs, coefs, intercepts, strict=True):
        assert kkt_violation(Xf, y, coef, intercept, C, 1.0, factor, lower, upper,
                             weights) <= 1e-8


def test_cross_validation_with_factors_and_bounds():
    X, y, weights = make_problem(n=120, seed=9)
    factor, lower, upper = make_penalty(unpenalised="free")
    cv = LogisticRegressionCV(Cs=6, cv=3, penalty_factor=factor, lower_bounds=lower,
                              upper_bounds=upper, tol=1e-8, use_legacy_attributes=False)
    cv.fit(X, y, sample_weight=weights)
    single = LogisticRegression(C=cv.C_, penalty_factor=factor, lower_bounds=lower,
                                upper_bounds=upper, tol=1e-8).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(cv.coef_, single.coef_, atol=1e-5)
    assert cv.coef_[0, 0] != 0.0 and cv.coef_[0, 12] == 0.0
    assert np.all(cv.coefs_paths_[..., 5] >= 0.0) and np.all(cv.coefs_paths_[..., 1] >= -0.3)


def test_warm_start_out_of_new_bounds_is_clipped():
    X, y, _ = make_problem(seed=10)
    model = LogisticRegression(C=1.0, warm_start=True, **TIGHT).fit(X, y)
    assert model.coef_[0, 1] > 0.2
    model.set_params(upper_bounds=0.2).fit(X, y)
    check_fit(model, X, y, np.ones(X.shape[1]), -np.inf, 0.2)


BAD = [
    (dict(penalty_factor=-np.ones(16)), "non-negative"),
    (dict(penalty_factor=np.r_[np.nan, np.ones(15)]), "NaN"),
    (dict(penalty_factor=np.ones(15)), "shape"),
    (dict(penalty_factor=np.zeros(16)), "zero for every feature"),
    (dict(lower_bounds=0.1), "lower_bounds must be <= 0"),
    (dict(upper_bounds=np.r_[-1.0, np.ones(15)]), "upper_bounds must be >= 0"),
    (dict(lower_bounds=np.zeros(3)), "shape"),
]


@pytest.mark.parametrize("options, match", BAD)
def test_bad_factors_and_bounds(options, match):
    X, y, _ = make_problem()
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**options).fit(X, y)
    with pytest.raises(ValueError, match=match):
        LogisticRegressionCV(Cs=2, cv=2, **options).fit(X, y)
    with pytest.raises(ValueError, match=match):
        l1_logistic_path(X, y, Cs=2, **options)
    with pytest.raises(ValueError, match=match):
        l1_min_c(X, y, **options)


def test_l1_min_c_refuses_what_never_enters():
    X, y, _ = make_problem()
    with pytest.raises(ValueError, match="l1_ratio must be > 0"):
        l1_min_c(X, y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="No penalised feature can leave zero"):
        l1_min_c(X, y, lower_bounds=0.0, upper_bounds=0.0)


def test_user_arrays_are_not_modified():
    X, y, weights = make_problem()
    factor, lower, upper = make_penalty()
    copies = [a.copy() for a in (X, factor, lower, upper)]
    LogisticRegression(C=0.3, penalty_factor=factor, lower_bounds=lower,
                       upper_bounds=upper).fit(X, y, sample_weight=weights)
    for array, copy in zip((X, factor, lower, upper), copies, strict=True):
        np.testing.assert_array_equal(array, copy)


_GLMNET_SCRIPT = """
suppressMessages(library(glmnet))
d <- as.matrix(read.csv("{data}", header = FALSE))
fit <- glmnet(d[, -1], factor(d[, 1]), family = "binomial", alpha = {l1_ratio},
              lambda = {lam}, standardize = FALSE, intercept = TRUE,
              penalty.factor = scan("{factor}", quiet = TRUE),
              lower.limits = scan("{lower}", quiet = TRUE),
              upper.limits = scan("{upper}", quiet = TRUE), thresh = 1e-14, maxit = 1e7)
cat(as.numeric(coef(fit)), sep = "\\n")
"""


@pytest.mark.peers
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_matches_glmnet(tmp_path, l1_ratio):
    """glmnet's binomial objective is the mean log-loss plus ``lambda`` times the penalty,
    i.e. fastl1's divided by ``C n``: ``lambda = 1 / (C n)``; its factors are rescaled to sum
    to p, so they are given already rescaled (:func:`glmnet_factors`)."""
    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed")
    if subprocess.run(["Rscript", "-e", "library(glmnet)"], capture_output=True).returncode:
        pytest.skip("R's glmnet is not installed")
    X, y, _ = make_problem(n=200, seed=11)
    factor, lower, upper = make_penalty(unpenalised="free")
    factor = glmnet_factors(factor)
    lower = np.maximum(lower, -1e10)  # R reads -Inf too, but keep the files numeric
    upper = np.minimum(upper, 1e10)
    np.savetxt(tmp_path / "data.csv", np.column_stack([y, X]), delimiter=",")
    for name, values in (("factor", factor), ("lower", lower), ("upper", upper)):
        np.savetxt(tmp_path / f"{name}.txt", values)
    C = 0.5  # features at both bounds, at zero, unpenalised and penalised in between
    lam = 1.0 / (C * X.shape[0])
    script = _GLMNET_SCRIPT.format(data=tmp_path / "data.csv", factor=tmp_path / "factor.txt",
                                   lower=tmp_path / "lower.txt", upper=tmp_path / "upper.txt",
                                   l1_ratio=l1_ratio, lam=repr(lam))
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    theirs = np.array(out.stdout.split(), dtype=float)
    ours = LogisticRegression(C=C, l1_ratio=l1_ratio, penalty_factor=factor,
                              lower_bounds=lower, upper_bounds=upper, tol=1e-10,
                              max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.intercept_[0], theirs[0], atol=1e-6)
    np.testing.assert_allclose(ours.coef_[0], theirs[1:], atol=1e-6)
    assert np.array_equal(ours.coef_[0] != 0, theirs[1:] != 0)
    inside = (ours.coef_[0] != 0) & (factor > 0) & (ours.coef_[0] > lower) & \
        (ours.coef_[0] < upper)
    assert inside.sum() >= 3 and ours.coef_[0, 1] == upper[1] and ours.coef_[0, 2] == lower[2]


def test_the_kkt_check_rejects_the_fit_of_other_factors():
    """The independent check is not vacuous: the plain fit violates the conditions of the
    factored problem, and the fit with the factors those of the plain one."""
    X, y, weights = make_problem(seed=12)
    p = X.shape[1]
    factor = np.linspace(0.2, 3.0, p)
    plain = LogisticRegression(C=0.5, **TIGHT).fit(X, y, sample_weight=weights)
    factored = LogisticRegression(C=0.5, penalty_factor=factor, **TIGHT).fit(
        X, y, sample_weight=weights)
    for model, f in ((plain, factor), (factored, np.ones(p))):
        assert kkt_violation(X, y, model.coef_, model.intercept_, 0.5, 1.0, f, -np.inf,
                             np.inf, weights) > 1e-3
