"""L1 / elastic-net logistic regression: agreement with scikit-learn's solvers on its own
objective, optimality conditions checked independently, layouts, weights, labels, API."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import expit, log_softmax, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1.logistic import LogisticRegression, logistic_design, solve_logistic

from .conftest import SHARED_DATA, as_format

TIGHT = dict(tol=1e-10, max_iter=1000)
FORMATS = ["dense", "fortran", "csc", "csr"]


def make_classification(n=50, p=30, n_classes=2, seed=0, mean=0.5):
    """A small classification problem with a few informative features and non-zero means."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + mean
    scores = X[:, :n_classes] - mean + 0.7 * rng.standard_normal((n, n_classes))
    if n_classes == 2:
        y = (scores[:, 0] - 0.5 * scores[:, 1] > 0).astype(int)
    else:
        y = scores.argmax(axis=1)
    return X, y


def objective(X, y, coef, intercept, C, l1_ratio, sample_weight=None):
    """scikit-learn's objective ``C sum_i s_i loss_i + l1_ratio |W|_1 + (1-l1_ratio)/2 |W|^2``
    in float64 (binary log-loss for two classes, multinomial loss otherwise)."""
    X = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)
    coef = np.atleast_2d(np.asarray(coef, np.float64))
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    classes = np.unique(y)
    Z = X @ coef.T + np.asarray(intercept, np.float64)
    if classes.shape[0] == 2:
        z = Z[:, 0]
        t = (np.asarray(y) == classes[1]).astype(float)
        loss = np.logaddexp(0.0, z) - t * z
    else:
        codes = np.searchsorted(classes, y)
        loss = -log_softmax(Z, axis=1)[np.arange(n), codes]
    return (C * s @ loss + l1_ratio * np.abs(coef).sum()
            + 0.5 * (1.0 - l1_ratio) * (coef ** 2).sum())


def kkt_violation(X, y, coef, intercept, C, l1_ratio, sample_weight=None,
                  fit_intercept=True):
    """Largest violation of the optimality conditions of the objective divided by
    ``C * sum(s)`` (the scale of ``tol``), computed from scratch in numpy."""
    X = (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)
    coef = np.atleast_2d(np.asarray(coef, np.float64))
    n = X.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    classes = np.unique(y)
    Z = X @ coef.T + np.asarray(intercept, np.float64)
    if classes.shape[0] == 2:
        T = (np.asarray(y) == classes[1]).astype(float)[:, None]
        P = expit(Z)
    else:
        T = (np.asarray(y)[:, None] == classes[None, :]).astype(float)
        P = softmax(Z, axis=1)
    scale = C * s.sum()
    raw = s[:, None] * (P - T) * C / scale  # d(objective / scale) / dZ
    grad = raw.T @ X + (1.0 - l1_ratio) / scale * coef
    lam = l1_ratio / scale
    nz = coef != 0
    viol = np.where(nz, np.abs(grad + lam * np.sign(coef)), np.maximum(np.abs(grad) - lam, 0))
    out = viol.max()
    if fit_intercept:
        out = max(out, np.abs(raw.sum(axis=0)).max())
    return out


def sk_reference(X, y, C, l1_ratio, fit_intercept=True, sample_weight=None,
                 class_weight=None):
    """scikit-learn's solution of the same objective: liblinear for binary L1 without
    intercept (it penalises the intercept), saga to a tight tolerance otherwise."""
    binary = np.unique(y).shape[0] == 2
    if binary and l1_ratio == 1.0 and not fit_intercept:
        params = dict(solver="liblinear", tol=1e-12, max_iter=100_000)
    else:
        params = dict(solver="saga", tol=1e-13, max_iter=200_000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SkLogisticRegression(C=C, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                                    class_weight=class_weight, **params).fit(
            X, y, sample_weight=sample_weight)


# --------------------------------------------------------------------------------------------
# agreement with scikit-learn on its objective


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_matches_sklearn_objective(n_classes, l1_ratio, fit_intercept):
    X, y = make_classification(n_classes=n_classes, seed=n_classes)
    C = 0.3
    ours = LogisticRegression(C=C, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                              **TIGHT).fit(X, y)
    ref = sk_reference(X, y, C, l1_ratio, fit_intercept)
    f_ours = objective(X, y, ours.coef_, ours.intercept_, C, l1_ratio)
    f_ref = objective(X, y, ref.coef_, ref.intercept_, C, l1_ratio)
    assert f_ours <= f_ref * (1 + 1e-6)
    assert f_ours == pytest.approx(f_ref, rel=1e-6)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-5)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == np.atleast_1d(ref.intercept_).shape  # liblinear: 0.0
    assert 0 < np.count_nonzero(ours.coef_) < ours.coef_.size  # a sparse, non-trivial solution


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_kkt_conditions(n_classes, l1_ratio):
    X, y = make_classification(n_classes=n_classes, seed=7)
    model = LogisticRegression(C=0.5, l1_ratio=l1_ratio, **TIGHT).fit(X, y)
    viol = kkt_violation(X, y, model.coef_, model.intercept_, 0.5, l1_ratio)
    assert viol < 1e-9
    assert model.kkt_violation_ <= 1e-10
    # the reported violation is the one the formulas give (same scale)
    loose = LogisticRegression(C=0.5, l1_ratio=l1_ratio, tol=1e-3).fit(X, y)
    assert kkt_violation(X, y, loose.coef_, loose.intercept_, 0.5, l1_ratio) == \
        pytest.approx(loose.kkt_violation_, rel=1e-6, abs=1e-12)
    assert loose.kkt_violation_ <= 1e-3


@pytest.mark.parametrize("n_classes", [2, 3])
def test_dual_gap_without_intercept(n_classes):
    X, y = make_classification(n_classes=n_classes, seed=3)
    model = LogisticRegression(C=0.3, fit_intercept=False, tol=1e-3).fit(X, y)
    tight = LogisticRegression(C=0.3, fit_intercept=False, **TIGHT).fit(X, y)
    f = objective(X, y, model.coef_, 0.0, 0.3, 1.0)
    f_star = objective(X, y, tight.coef_, 0.0, 0.3, 1.0)
    # the gap (objective / (C n) scale) bounds the suboptimality
    assert 0 <= (f - f_star) / (0.3 * X.shape[0]) <= model.dual_gap_ + 1e-12
    assert 0 <= tight.dual_gap_ < 1e-8


@pytest.mark.parametrize("n_classes", [2, 3])
def test_dual_gap_with_intercept_bounds_the_suboptimality(n_classes):
    """With an intercept the gap is a certificate too (the intercept is refitted exactly, so
    the dual point satisfies the intercept's constraint)."""
    X, y = make_classification(n_classes=n_classes, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=0.3, tol=1e-2, max_iter=2).fit(X, y)
    tight = LogisticRegression(C=0.3, **TIGHT).fit(X, y)
    f = objective(X, y, model.coef_, model.intercept_, 0.3, 1.0)
    f_star = objective(X, y, tight.coef_, tight.intercept_, 0.3, 1.0)
    assert np.isfinite(model.dual_gap_) and np.isfinite(tight.dual_gap_)
    assert 0 <= (f - f_star) / (0.3 * X.shape[0]) <= model.dual_gap_ + 1e-12
    assert 0 <= tight.dual_gap_ < 1e-8


def test_small_C_gives_zero_coefficients():
    X, y = make_classification()
    model = LogisticRegression(C=1e-4).fit(X, y)
    assert not np.any(model.coef_)
    freq = y.mean()
    np.testing.assert_allclose(model.intercept_, [np.log(freq / (1 - freq))], rtol=1e-10)
    X3, y3 = make_classification(n_classes=3)
    model = LogisticRegression(C=1e-4).fit(X3, y3)
    assert not np.any(model.coef_)
    np.testing.assert_allclose(model.predict_proba(X3[:1])[0], np.bincount(y3) / len(y3))


@pytest.mark.skipif(not (SHARED_DATA / "leukemia.npz").exists(), reason="shared data absent")
def test_leukemia_same_support_as_liblinear():
    data = np.load(SHARED_DATA / "leukemia.npz")
    X, y = data["X"], data["y"]
    ours = LogisticRegression(C=1.0, fit_intercept=False, tol=1e-9).fit(X, y)
    ref = sk_reference(X, y, 1.0, 1.0, fit_intercept=False)
    np.testing.assert_array_equal(np.flatnonzero(ours.coef_), np.flatnonzero(ref.coef_))
    assert objective(X, y, ours.coef_, 0, 1.0, 1.0) == pytest.approx(
        objective(X, y, ref.coef_, 0, 1.0, 1.0), rel=1e-6)


# --------------------------------------------------------------------------------------------
# layouts, dtypes, solvers


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fmt", FORMATS)
def test_layouts_agree(fmt, n_classes):
    X, y = make_classification(n_classes=n_classes, seed=1)
    X[np.abs(X) < 0.5] = 0.0  # genuinely sparse
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    model = LogisticRegression(C=0.5, **TIGHT).fit(as_format(X, fmt), y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, atol=1e-8)
    np.testing.assert_allclose(model.predict_proba(as_format(X, fmt)), ref.predict_proba(X),
                               atol=1e-8)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_float32(fmt):
    X, y = make_classification(seed=2)
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    model = LogisticRegression(C=0.5, tol=1e-6).fit(as_format(X, fmt, np.float32), y)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-4)
    assert model.predict_proba(as_format(X, fmt, np.float32)).dtype == np.float32


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fmt", ["dense", "fortran", "csr"])
def test_fista_agrees_with_prox_newton(fmt, n_classes):
    X, y = make_classification(n_classes=n_classes, seed=4)
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    model = LogisticRegression(C=0.5, solver="fista", tol=1e-9, max_iter=100_000).fit(
        as_format(X, fmt), y)
    assert model.kkt_violation_ <= 1e-9
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-6)
    assert objective(X, y, model.coef_, model.intercept_, 0.5, 1.0) == pytest.approx(
        objective(X, y, ref.coef_, ref.intercept_, 0.5, 1.0), rel=1e-9)


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csc", "csr"])
def test_parallel_and_sequential_gradients_agree(fmt):
    X, y = make_classification(n=60, seed=5)
    design = logistic_design(as_format(X, fmt))
    results = [solve_logistic(design, y, np.ones(60), 2, 0.5, 1.0, tol=1e-10,
                              parallel=parallel) for parallel in (False, True)]
    np.testing.assert_allclose(results[0].coef, results[1].coef, atol=1e-12)


def test_csr_working_sets_after_the_csc_copy_agree_with_csc():
    """A support of hundreds takes several working sets; from the third on, a CSR design is
    read through one CSC copy (kernels/logistic.py): same solution as CSC and dense."""
    rng = np.random.default_rng(11)
    X = sp.random(150, 2000, density=0.05, format="csr", random_state=11,
                  data_rvs=rng.standard_normal)
    y = (X @ rng.standard_normal(2000) > 0).astype(int)
    fits = {}
    for fmt, Xf in (("csr", X), ("csc", X.tocsc()), ("dense", X.toarray())):
        fits[fmt] = solve_logistic(logistic_design(Xf), y, np.ones(150), 2, 5.0, 1.0,
                                   fit_intercept=False, tol=1e-10, max_iter=1000)
    assert fits["csr"].n_iter >= 4  # at least three working sets were extracted
    assert np.count_nonzero(fits["csr"].coef) > 100
    for fmt in ("csc", "dense"):
        np.testing.assert_allclose(fits["csr"].coef, fits[fmt].coef, atol=1e-8)
    assert fits["csr"].violation <= 1e-10 and fits["csr"].dual_gap < 1e-8


# --------------------------------------------------------------------------------------------
# weights and labels


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_sample_weight_is_row_duplication(fmt, n_classes):
    X, y = make_classification(n=40, n_classes=n_classes, seed=6)
    sw = np.random.default_rng(0).integers(0, 4, size=40)
    X_rep, y_rep = np.repeat(X, sw, axis=0), np.repeat(y, sw)
    weighted = LogisticRegression(C=0.5, **TIGHT).fit(as_format(X, fmt), y, sample_weight=sw)
    repeated = LogisticRegression(C=0.5, **TIGHT).fit(X_rep, y_rep)
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, atol=1e-8)


def test_sample_weight_scales_like_C():
    """sklearn's objective sums weighted losses: doubling the weights is doubling C."""
    X, y = make_classification(seed=8)
    a = LogisticRegression(C=0.4, **TIGHT).fit(X, y, sample_weight=np.full(50, 2.0))
    b = LogisticRegression(C=0.8, **TIGHT).fit(X, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)


def test_sample_weight_matches_sklearn():
    X, y = make_classification(n_classes=3, seed=9)
    sw = np.random.default_rng(1).uniform(0.2, 2.0, size=50)
    ours = LogisticRegression(C=0.3, **TIGHT).fit(X, y, sample_weight=sw)
    ref = sk_reference(X, y, 0.3, 1.0, sample_weight=sw)
    assert objective(X, y, ours.coef_, ours.intercept_, 0.3, 1.0, sw) == pytest.approx(
        objective(X, y, ref.coef_, ref.intercept_, 0.3, 1.0, sw), rel=1e-6)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0}])
def test_class_weight(class_weight):
    X, y = make_classification(seed=10)
    model = LogisticRegression(C=0.5, class_weight=class_weight, **TIGHT).fit(X, y)
    weights = ({0: 1.0, 1: 3.0} if isinstance(class_weight, dict) else
               {c: len(y) / (2 * np.sum(y == c)) for c in (0, 1)})
    sw = np.array([weights[c] for c in y])
    same = LogisticRegression(C=0.5, **TIGHT).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, same.coef_, atol=1e-8)
    ref = sk_reference(X, y, 0.5, 1.0, class_weight=class_weight)
    assert objective(X, y, model.coef_, model.intercept_, 0.5, 1.0, sw) == pytest.approx(
        objective(X, y, ref.coef_, ref.intercept_, 0.5, 1.0, sw), rel=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_string_labels(n_classes):
    X, y = make_classification(n_classes=n_classes, seed=11)
    names = np.array(["setosa", "versicolor", "virginica"])[:n_classes]
    model = LogisticRegression(C=0.5).fit(X, names[y])
    np.testing.assert_array_equal(model.classes_, names)
    numeric = LogisticRegression(C=0.5).fit(X, y)
    np.testing.assert_allclose(model.coef_, numeric.coef_)
    np.testing.assert_array_equal(model.predict(X), names[numeric.predict(X)])
    assert model.score(X, names[y]) == numeric.score(X, y)


def test_labels_of_other_types():
    X, y = make_classification(seed=12)
    for labels in ([-1, 1], [2.0, 7.0], [False, True]):
        yy = np.array(labels)[y]
        model = LogisticRegression(C=0.5).fit(X, yy)
        np.testing.assert_array_equal(model.classes_, np.unique(yy))
        assert set(model.predict(X)) <= set(labels)
        assert model.coef_.shape == (1, X.shape[1])


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities(n_classes):
    X, y = make_classification(n_classes=n_classes, seed=13)
    model = LogisticRegression(C=0.5).fit(X, y)
    proba = model.predict_proba(X)
    scores = model.decision_function(X)
    assert proba.shape == (X.shape[0], n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    if n_classes == 2:
        assert scores.shape == (X.shape[0],)
        np.testing.assert_allclose(proba[:, 1], expit(scores), rtol=1e-12)
        np.testing.assert_allclose(scores, X @ model.coef_[0] + model.intercept_[0])
    else:
        np.testing.assert_allclose(proba, softmax(scores, axis=1), rtol=1e-12)
        np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-10)
    np.testing.assert_array_equal(model.predict(X), model.classes_[proba.argmax(axis=1)])


def test_single_class_is_an_error():
    X, _ = make_classification()
    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 'a'"):
        LogisticRegression().fit(X, np.array(["a"] * 50))


def test_continuous_target_is_an_error():
    X, _ = make_classification()
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, np.linspace(0, 1, 50))


# --------------------------------------------------------------------------------------------
# parameters, warm start, convergence


def test_penalty_is_deprecated_but_accepted():
    X, y = make_classification(seed=14)
    default = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    with pytest.warns(FutureWarning, match="'penalty' is deprecated"):
        l1 = LogisticRegression(penalty="l1", C=0.5, **TIGHT).fit(X, y)
    np.testing.assert_allclose(l1.coef_, default.coef_)
    enet = LogisticRegression(C=0.5, l1_ratio=0.5, **TIGHT).fit(X, y)
    with pytest.warns(FutureWarning):
        old = LogisticRegression(penalty="elasticnet", l1_ratio=0.5, C=0.5, **TIGHT).fit(X, y)
    np.testing.assert_allclose(old.coef_, enet.coef_)
    with pytest.warns(FutureWarning):  # l2 means l1_ratio = 0 (ridge)
        ridge = LogisticRegression(penalty="l2", C=0.5, **TIGHT).fit(X, y)
    assert np.all(ridge.coef_ != 0)
    assert objective(X, y, ridge.coef_, ridge.intercept_, 0.5, 0.0) == pytest.approx(
        objective(X, y, *(lambda r: (r.coef_, r.intercept_))(sk_reference(X, y, 0.5, 0.0)),
                  0.5, 0.0), rel=1e-6)
    with pytest.raises(ValueError, match="penalty=None.*not supported"):
        LogisticRegression(penalty=None).fit(X, y)
    with pytest.raises(ValueError, match="penalty must be one of"):
        LogisticRegression(penalty="l0").fit(X, y)


@pytest.mark.parametrize("params, error, match", [
    (dict(C=-1.0), ValueError, "C must be a positive finite number"),
    (dict(C=0.0), ValueError, "C must be a positive finite number"),
    (dict(C=np.inf), ValueError, "C=inf, an unpenalised fit"),
    (dict(C="1"), TypeError, "C must be a real number"),
    (dict(l1_ratio=1.5), ValueError, "l1_ratio must be <= 1.0"),
    (dict(l1_ratio=None), TypeError, "l1_ratio must be a real number"),
    (dict(tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(max_iter=0), ValueError, "max_iter must be >= 1"),
    (dict(max_iter=2.5), TypeError, "max_iter must be an integer"),
    (dict(solver="lbfgs"), ValueError, "solver must be one of"),
    (dict(class_weight="uniform"), ValueError, "class_weight must be None, 'balanced'"),
])
def test_bad_parameters(params, error, match):
    X, y = make_classification()
    with pytest.raises(error, match=match):
        LogisticRegression(**params).fit(X, y)


def test_warm_start():
    X, y = make_classification(n_classes=3, seed=15)
    model = LogisticRegression(C=0.5, warm_start=True, **TIGHT).fit(X, y)
    coef = model.coef_.copy()
    model.fit(X, y)
    assert model.n_iter_[0] == 1  # certified at the previous solution
    np.testing.assert_allclose(model.coef_, coef, atol=1e-10)
    cold = LogisticRegression(C=0.6, **TIGHT).fit(X, y)
    model.set_params(C=0.6).fit(X, y)
    np.testing.assert_allclose(model.coef_, cold.coef_, atol=1e-8)


def test_convergence_warning_states_violation():
    X, y = make_classification(n_classes=3, seed=16)
    with pytest.warns(ConvergenceWarning, match=r"did not converge after 1 iterations: "
                                                 r"duality gap .* largest optimality \(KKT\) "
                                                 r"violation"):
        model = LogisticRegression(C=10.0, max_iter=1).fit(X, y)
    assert model.kkt_violation_ > 1e-4
    assert model.n_iter_.shape == (1,) and model.n_iter_.dtype == np.int32


def test_separable_data_large_C():
    """Separable data and a weak penalty: large but finite coefficients, converged."""
    X, y = make_classification(seed=17)
    y = (X[:, 0] > 0.5).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticRegression(C=1e4, tol=1e-8, max_iter=500).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and model.score(X, y) == 1.0
    assert kkt_violation(X, y, model.coef_, model.intercept_, 1e4, 1.0) < 1e-7


@parametrize_with_checks([LogisticRegression(), LogisticRegression(solver="fista",
                                                                   max_iter=10_000)])
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _iris(classes=(0, 1, 2)):
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    keep = np.isin(y, classes)
    return X[keep], y[keep]


def test_max_iter_counts_outer_solves():
    """``max_iter=k`` solves k working sets: one iteration per refit moves the coefficients."""
    X, y = _iris()
    model = LogisticRegression(max_iter=1, warm_start=True)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y)
    assert model.n_iter_[0] == 1 and np.count_nonzero(model.coef_) > 0
    gaps, warned = [model.dual_gap_], [True]
    for _ in range(4):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always", ConvergenceWarning)
            model.fit(X, y)
        gaps.append(model.dual_gap_)
        warned.append(any(issubclass(w.category, ConvergenceWarning) for w in record))
    # Every refit makes progress until one converges (no warning); then it stays there.
    first = warned.index(False) if False in warned else len(gaps) - 1
    assert np.all(np.diff(gaps[:first + 1]) < 0)
    assert np.allclose(gaps[first:], gaps[first])
    assert np.count_nonzero(model.coef_) > 0


# Objectives of iris at C=150 from fits to a KKT violation of 1e-12 (about 1500 iterations
# for the multinomial L1 case, too slow to repeat here).
_IRIS_OPTIMA = {((0, 1, 2), 1.0): 940.5684077988858, ((0, 1, 2), 0.5): 1006.4389876335424}


@pytest.mark.parametrize("classes", [(0, 1, 2), (0, 1), (1, 2)])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_default_tol_reaches_the_optimum_relatively(classes, l1_ratio):
    """The default stopping rule (a relative duality gap) gives scikit-learn-level accuracy
    on a weakly penalised problem, where a fixed KKT bound of 1e-4 left it 0.1-4 % above."""
    X, y = _iris(classes)
    C = 150.0
    optimum = _IRIS_OPTIMA.get((classes, l1_ratio))
    if optimum is None:
        tight = LogisticRegression(C=C, l1_ratio=l1_ratio, tol=1e-12, max_iter=1000).fit(X, y)
        optimum = objective(X, y, tight.coef_, tight.intercept_, C, l1_ratio)
    with warnings.catch_warnings():
        # multinomial L1 needs more than max_iter=100 outer iterations for the gap bound
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(C=C, l1_ratio=l1_ratio).fit(X, y)
    f = objective(X, y, model.coef_, model.intercept_, C, l1_ratio)
    assert (f - optimum) / optimum < 2e-6
    # the reported gap (averaged scale) bounds the suboptimality
    assert (f - optimum) / (C * X.shape[0]) <= model.dual_gap_ * (1 + 1e-6) + 1e-12


def test_tiny_tol_ends_at_the_arithmetic_limit():
    """A tol below what float64 can certify ends the fit without using up max_iter."""
    X, y = _iris((1, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LogisticRegression(C=150.0, tol=1e-12, max_iter=60).fit(X, y)
    assert model.n_iter_[0] < 60


def test_sparsify_and_densify():
    X, y = make_classification(n_classes=3, seed=21)
    model = LogisticRegression(C=0.3).fit(X, y)
    dense_coef = model.coef_.copy()
    proba = model.predict_proba(X)
    assert model.sparsify() is model and sp.issparse(model.coef_)
    np.testing.assert_array_equal(model.coef_.toarray(), dense_coef)
    np.testing.assert_allclose(model.predict_proba(X), proba)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), atol=1e-12)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    assert model.score(X, y) > 0.5
    model.set_params(warm_start=True).fit(X, y)  # a sparse coef_ is a valid warm start
    assert isinstance(model.coef_, np.ndarray)
    model.sparsify()
    assert model.densify() is model and isinstance(model.coef_, np.ndarray)
    np.testing.assert_allclose(model.coef_, dense_coef, atol=1e-6)
    with pytest.raises(Exception, match="must be fitted"):
        LogisticRegression().sparsify()


@pytest.mark.parametrize("class_weight", [{0: -1.0, 1: 1.0}, {0: 1.0, 1: np.nan}])
def test_negative_class_weight_is_an_error(class_weight):
    X, y = make_classification()
    with pytest.raises(ValueError, match="class_weight must give every class a finite "
                                         "non-negative weight, got 0: -1.0|1: nan"):
        LogisticRegression(class_weight=class_weight).fit(X, y)


def test_warnings_point_at_the_caller():
    X, y = make_classification(n_classes=3, seed=16)
    with pytest.warns(ConvergenceWarning) as record:
        LogisticRegression(C=10.0, max_iter=1).fit(X, y)
    assert record[0].filename == __file__
    with pytest.warns(FutureWarning) as record:
        LogisticRegression(penalty="l1").fit(X, y)
    assert record[0].filename == __file__


def test_line_search_takes_a_newton_step_past_the_minimum_when_the_objective_decreases():
    from fastl1._kernels.logistic import _accept_step

    # phi(t) = pen(w + t d) + loss(w + t d) along d: L1 part 1.0 t, loss slope -3 at t=0 and
    # +0.2 at t=1 (just past the minimum), loss change -1.4: the objective fell by 0.4.
    assert _accept_step(1.0, 1.0, 0.2, -3.0, -1.4, 10.0)
    # The test of the objective still decreasing at t rejects it (rate-1/2 halvings).
    assert not 1.0 + 1.0 * 0.2 < 0.0
    # Far past the minimum the objective rose: rejected, though the trapezoid is negative.
    assert not _accept_step(1.0, 1.0, 1.5, -3.0, -0.9, 10.0)
    # Before the minimum: accepted by the derivative test alone.
    assert _accept_step(1.0, 0.5, -1.5, -3.0, -1.2, 10.0)
    # A step that does not decrease the model at all: rejected.
    assert not _accept_step(0.0, 1.0, 0.5, 0.5, 0.5, 10.0)


@pytest.mark.skipif(not (SHARED_DATA / "rcv1_small_train.npz").exists(),
                    reason="shared data absent")
def test_a_warm_started_newton_solve_converges_quadratically_on_rcv1():
    # From the solution at a C, the next C's solve took 13 Newton steps (each halving the
    # violation) when full steps just past the minimum were refused.
    from fastl1.logistic_cv import l1_min_c

    data = np.load(SHARED_DATA / "rcv1_small_train.npz")
    X = sp.csr_matrix((data["data"], data["indices"], data["indptr"]),
                      shape=tuple(data["shape"]))[:1000]
    y = (np.asarray(data["y"])[:1000] > 0).astype(int)
    design, s = logistic_design(X), np.ones(X.shape[0])
    Cs = l1_min_c(X, y) * np.array([1.0, 1.0 / 0.933])
    first = solve_logistic(design, y, s, 2, Cs[0], 1.0, tol=1e-8, max_iter=100)
    second = solve_logistic(design, y, s, 2, Cs[1], 1.0, tol=1e-4, max_iter=100,
                            coef=first.coef, intercept=first.intercept, previous_C=Cs[0])
    assert second.converged
    assert second.n_newton <= 4, second.n_newton
