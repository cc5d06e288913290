"""Lasso / ElasticNet agree with scikit-learn and satisfy optimality conditions."""

import pickle
import warnings

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import ElasticNet, ElasticNetCV, Lasso, LassoCV
from fastl1._kernels.design import worth_threads
from fastl1._solver import alpha_max, make_problem

from .conftest import (
    as_format,
    duality_gap,
    kkt_violation,
    make_regression,
    objective,
    on_each_thread_count,
)

FORMATS = ["dense", "fortran", "csc", "csr"]


def _alpha_max(X, y, l1_ratio, fit_intercept=True, sample_weight=None, positive=False):
    problem = make_problem(np.asarray(X, float), sample_weight, fit_intercept)
    yc, _ = problem.centre_target(np.asarray(y, float))
    return alpha_max(problem, yc, l1_ratio, positive)


@parametrize_with_checks([Lasso(), ElasticNet(), Lasso(selection="random", random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_agrees_with_sklearn(fmt, dtype, fit_intercept, weighted, l1_ratio):
    X, y = make_regression(seed=1)
    sw = np.random.default_rng(2).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    alpha = 0.1 * _alpha_max(X, y, l1_ratio, fit_intercept, sw)
    tol = 1e-10 if dtype == np.float64 else 1e-5
    Xf, yf = as_format(X, fmt, dtype), y.astype(dtype)
    params = dict(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=tol,
                  max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # fastl1 must converge
        ours = ElasticNet(**params).fit(Xf, yf, sample_weight=sw)
    with warnings.catch_warnings():
        # scikit-learn's float32 sparse solver stalls just above tol=1e-5 here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = sk.ElasticNet(**params).fit(Xf, yf, sample_weight=sw)

    assert ours.coef_.dtype == dtype
    f_ours = objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, sw)
    f_ref = objective(X, y, ref.coef_, ref.intercept_, alpha, l1_ratio, sw)
    if dtype == np.float64:
        assert f_ours <= f_ref * (1 + 1e-7)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-6, atol=1e-8)
        # The reported gap is the true gap of the returned coefficients.
        true_gap = duality_gap(X, y, ours.coef_, alpha, l1_ratio, sw, fit_intercept)
        np.testing.assert_allclose(ours.dual_gap_, true_gap, rtol=1e-4, atol=1e-11)
        assert kkt_violation(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, sw,
                             fit_intercept=fit_intercept) < 1e-6
    else:
        assert f_ours <= f_ref * (1 + 1e-4)
        np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-3, atol=1e-3)
    # The gap certificate is below the stopping threshold, in the objective's scale.
    yc = y - (np.average(y, weights=sw) if fit_intercept else 0.0)
    swn = np.ones_like(y) if sw is None else sw * len(y) / sw.sum()
    assert ours.dual_gap_ <= tol * np.sum(swn * yc**2) / len(y)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_positive_agrees_with_sklearn(fmt, fit_intercept):
    X, y = make_regression(seed=3)
    y = y - 3 * X[:, 0]
    alpha = 0.05 * _alpha_max(X, y, 1.0, fit_intercept, positive=True)
    params = dict(alpha=alpha, positive=True, fit_intercept=fit_intercept, tol=1e-10,
                  max_iter=100_000)
    ours = Lasso(**params).fit(as_format(X, fmt), y)
    ref = sk.Lasso(**params).fit(as_format(X, fmt), y)
    assert ours.coef_.min() >= 0
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    assert kkt_violation(X, y, ours.coef_, ours.intercept_, alpha, 1.0, positive=True,
                         fit_intercept=fit_intercept) < 1e-6


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_alpha_at_and_above_alpha_max_gives_zeros(fmt, weighted):
    X, y = make_regression(seed=4)
    sw = np.random.default_rng(5).uniform(0.5, 1.5, X.shape[0]) if weighted else None
    amax = _alpha_max(X, y, 1.0, True, sw)
    for alpha in [amax, 2 * amax]:
        model = Lasso(alpha=alpha, tol=1e-10).fit(as_format(X, fmt), y, sample_weight=sw)
        assert np.all(model.coef_ == 0)
        np.testing.assert_allclose(model.intercept_, np.average(y, weights=sw))
        assert model.n_iter_ == 0
    # Just below alpha_max the first feature enters.
    model = Lasso(alpha=0.99 * amax, tol=1e-10).fit(as_format(X, fmt), y, sample_weight=sw)
    assert np.count_nonzero(model.coef_) == 1


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_tiny_alpha_agrees_with_sklearn(fmt):
    X, y = make_regression(n=60, p=20, seed=6)
    alpha = 1e-5 * _alpha_max(X, y, 1.0)
    params = dict(alpha=alpha, tol=1e-12, max_iter=200_000)
    ours = Lasso(**params).fit(as_format(X, fmt), y)
    ref = sk.Lasso(**params).fit(as_format(X, fmt), y)
    f_ours = objective(X, y, ours.coef_, ours.intercept_, alpha, 1.0)
    f_ref = objective(X, y, ref.coef_, ref.intercept_, alpha, 1.0)
    assert abs(f_ours - f_ref) <= 1e-7 * f_ref
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("precompute", [True, "auto"])
@pytest.mark.parametrize("weighted", [False, True])
def test_gram_solver_matches_residual_solver(precompute, weighted):
    X, y = make_regression(n=80, p=15, seed=7)
    sw = np.random.default_rng(8).uniform(0.5, 1.5, X.shape[0]) if weighted else None
    alpha = 0.05 * _alpha_max(X, y, 0.7, True, sw)
    params = dict(alpha=alpha, l1_ratio=0.7, tol=1e-12, max_iter=100_000)
    gram = ElasticNet(precompute=precompute, **params).fit(X, y, sample_weight=sw)
    plain = ElasticNet(precompute=False, **params).fit(X, y, sample_weight=sw)
    ref = sk.ElasticNet(precompute=True, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(gram.coef_, plain.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(gram.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    for model in (gram, plain):
        true_gap = duality_gap(X, y, model.coef_, alpha, 0.7, sw)
        np.testing.assert_allclose(model.dual_gap_, true_gap, rtol=1e-4, atol=1e-11)


def test_user_gram_matrix():
    X, y = make_regression(n=80, p=15, seed=9)
    gram = X.T @ X
    params = dict(alpha=0.05, fit_intercept=False, tol=1e-12)
    ours = Lasso(precompute=gram, **params).fit(X, y)
    ref = sk.Lasso(precompute=gram, **params).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match="does not match X"):
        Lasso(precompute=2 * gram, **params).fit(X, y)
    with pytest.warns(UserWarning, match="recomputing"):
        Lasso(precompute=gram, alpha=0.05).fit(X, y)


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_multi_target_fits_each_target(fmt):
    X, y = make_regression(seed=10)
    Y = np.column_stack([y, -2 * y + X[:, 3], X[:, 0]])
    params = dict(alpha=0.05, l1_ratio=0.8, tol=1e-10, max_iter=100_000)
    multi = ElasticNet(**params).fit(as_format(X, fmt), Y)
    ref = sk.ElasticNet(**params).fit(as_format(X, fmt), Y)
    assert multi.coef_.shape == (3, X.shape[1])
    assert multi.intercept_.shape == (3,) and multi.dual_gap_.shape == (3,)
    assert len(multi.n_iter_) == 3
    for k in range(3):
        single = ElasticNet(**params).fit(as_format(X, fmt), Y[:, k])
        np.testing.assert_allclose(multi.coef_[k], single.coef_, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(multi.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(multi.predict(as_format(X, fmt)), ref.predict(X), rtol=1e-6,
                               atol=1e-7)


def test_random_selection_is_seeded_and_converges():
    X, y = make_regression(seed=11)
    params = dict(alpha=0.05, selection="random", tol=1e-10, max_iter=100_000)
    a = Lasso(random_state=0, **params).fit(X, y)
    b = Lasso(random_state=0, **params).fit(X, y)
    ref = sk.Lasso(alpha=0.05, tol=1e-10, max_iter=100_000).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a.n_iter_ == b.n_iter_
    np.testing.assert_allclose(a.coef_, ref.coef_, rtol=1e-6, atol=1e-8)


def test_warm_start_reuses_coef():
    X, y = make_regression(seed=12)
    model = Lasso(alpha=0.05, tol=1e-10, warm_start=True).fit(X, y)
    first_iter = model.n_iter_
    model.fit(X, y)
    assert model.n_iter_ < first_iter
    assert model.n_iter_ <= 1
    cold = Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, cold.coef_, rtol=1e-8, atol=1e-10)



@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("precompute", [False, True])
def test_warm_start_clears_constant_columns(fmt, precompute):
    # A constant column is zero once centred: CD never visits it, so a warm start's non-zero
    # there must be cleared (otherwise it stays, and the fit never converges).
    if fmt == "csc" and precompute:
        pytest.skip("sparse designs never use a Gram matrix")
    X, y = make_regression(seed=24)
    X[:, 3] = 2.0
    model = Lasso(alpha=0.05, tol=1e-10, max_iter=10_000, warm_start=True,
                  precompute=precompute).fit(as_format(X, fmt), y)
    model.coef_[3] = 0.7
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(as_format(X, fmt), y)
    ref = sk.Lasso(alpha=0.05, tol=1e-10, max_iter=10_000).fit(X, y)
    assert model.coef_[3] == 0.0
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-7)

def test_sparse_coef_predict_score_and_pickle():
    X, y = make_regression(seed=13)
    model = Lasso(alpha=0.1).fit(X, y)
    assert sp.issparse(model.sparse_coef_)
    np.testing.assert_array_equal(model.sparse_coef_.toarray().ravel(), model.coef_)
    np.testing.assert_allclose(model.predict(X), X @ model.coef_ + model.intercept_)
    assert 0.5 < model.score(X, y) <= 1.0
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    cloned = clone(model)
    assert cloned.get_params() == model.get_params() and not hasattr(cloned, "coef_")


def test_feature_names_in():
    pd = pytest.importorskip("pandas")
    X, y = make_regression(p=5, seed=14)
    frame = pd.DataFrame(X, columns=[f"g{i}" for i in range(5)])
    model = Lasso(alpha=0.01).fit(frame, y)
    assert model.feature_names_in_.tolist() == [f"g{i}" for i in range(5)]
    assert model.n_features_in_ == 5


def test_lasso_has_no_l1_ratio_param_but_is_pure_l1():
    assert "l1_ratio" not in Lasso().get_params()
    X, y = make_regression(seed=15)
    a = Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    b = ElasticNet(alpha=0.05, l1_ratio=1.0, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_ridge_and_least_squares_limits():
    X, y = make_regression(n=60, p=10, seed=16)
    ridge = ElasticNet(alpha=0.5, l1_ratio=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    ref = sk.ElasticNet(alpha=0.5, l1_ratio=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ridge.coef_, ref.coef_, rtol=1e-7, atol=1e-9)
    with pytest.warns(UserWarning, match="alpha=0"):
        ols = Lasso(alpha=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    expected = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ols.coef_, expected.coef_, rtol=1e-5, atol=1e-6)


def test_constant_and_zero_columns_get_zero_coef():
    X, y = make_regression(seed=17)
    X[:, 2] = 5.0
    X[:, 3] = 0.0
    for fmt in ["dense", "csc"]:
        model = Lasso(alpha=0.01, tol=1e-10).fit(as_format(X, fmt), y)
        assert model.coef_[2] == 0 and model.coef_[3] == 0


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two Numba threads")
@pytest.mark.parametrize("fmt", ["fortran", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_fit_does_not_depend_on_the_number_of_threads(fmt, weighted):
    # 60 x 5000 with ~90 % non-zeros: above the size from which full gradients, column
    # statistics and the transpose run on threads, so the two fits take different code paths.
    X, y = make_regression(n=60, p=5000, density=0.9, n_informative=20, seed=7)
    sw = np.random.default_rng(8).uniform(0.2, 2.0, X.shape[0]) if weighted else None
    alpha = _alpha_max(X, y, 1.0, sample_weight=sw) / 20
    X = as_format(X, fmt)
    _, _, _, indptr = make_problem(X, sw, True).design
    assert worth_threads(indptr, *X.shape, X.shape[1])

    def fit():
        model = Lasso(alpha=alpha, tol=1e-8).fit(X, y, sample_weight=sw)
        return model.coef_, model.intercept_, model.n_iter_

    coefs = on_each_thread_count(fit)
    assert np.count_nonzero(coefs[0][0]) > 5
    np.testing.assert_array_equal(coefs[0][0], coefs[1][0])
    assert coefs[0][1] == coefs[1][1] and coefs[0][2] == coefs[1][2]


# --------------------------------------------------------------------------------------------
# parameters and folds of the cross-validated estimators


@pytest.mark.parametrize("Estimator", [LassoCV, ElasticNetCV])
@pytest.mark.parametrize("params, error, match", [
    ({"alphas": (1, 1.0, "1")}, TypeError, r"alphas must be real numbers.*'1' \(str\)"),
    ({"alphas": ["0.1"]}, TypeError, "alphas must be real numbers"),
    ({"alphas": [True, 0.1]}, TypeError, r"alphas must be real numbers.*True \(bool\)"),
    ({"alphas": np.array([True, False])}, TypeError, "dtype bool"),
    ({"alphas": True}, TypeError, "alphas must be an int"),
    ({"alphas": "1"}, TypeError, "alphas must be an int"),
    ({"alphas": 2.5}, TypeError, "alphas must be an int"),
    ({"positive": "no"}, TypeError, r"positive must be a bool \(True or False\), got 'no'"),
    ({"fit_intercept": 1}, TypeError, "fit_intercept must be a bool"),
    ({"copy_X": None}, TypeError, "copy_X must be a bool"),
])
def test_cv_bad_parameters(Estimator, params, error, match):
    X, y = make_regression(n=30, p=8, seed=40)
    model = Estimator(cv=3, **params)
    with pytest.raises(error, match=match):
        model.fit(X, y)
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("Estimator", [LassoCV, ElasticNetCV])
def test_cv_refuses_a_target_whose_squares_overflow(Estimator):
    X, y = make_regression(n=30, p=8, seed=41)
    with pytest.raises(ValueError, match="target's scale overflows float64"):
        Estimator(cv=3, alphas=5).fit(X, y * 1e200)
    # Large but representable: fits. (The lasso is scale-equivariant; the elastic net is not,
    # its ridge term grows with the alpha grid.)
    model = Estimator(cv=3, alphas=5).fit(X, y * 1e100)
    assert np.all(np.isfinite(model.coef_)) and np.isfinite(model.alpha_)
    if Estimator is LassoCV:
        reference = Estimator(cv=3, alphas=5).fit(X, y)
        np.testing.assert_allclose(model.coef_, reference.coef_ * 1e100, rtol=1e-6)


def test_cv_refuses_non_finite_fold_errors():
    """The choice of alpha compares test-fold errors: an overflowing one is an error, not an
    IndexError from the selection rule."""
    X, y = make_regression(n=30, p=8, seed=42)
    model = LassoCV(cv=3, alphas=4).fit(X, y)
    mse = np.full((1, 4, 3), np.inf)
    paths = [(None, 0.0)]
    with pytest.raises(ValueError, match="cross-validation errors are not finite"):
        model._store_selection(np.ones(1), [model.alphas_], mse, paths, None, True)
