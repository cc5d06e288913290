"""lasso_path / enet_path agree with scikit-learn and every point of a path is optimal."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

from fastl1 import ElasticNet, FastL1DeprecationWarning, enet_path, lasso_path

from .conftest import as_format, duality_gap, kkt_violation, make_regression

TIGHT = {"tol": 1e-12, "max_iter": 100_000}


def _sklearn_format(X):
    return X.tocsc() if sp.issparse(X) else X


@pytest.mark.parametrize("fmt", ["dense", "fortran", "csc", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_agrees_with_sklearn(fmt, dtype, l1_ratio):
    X, y = make_regression(n=30, p=50, seed=3)
    Xf = as_format(X, fmt, dtype)
    y = y.astype(dtype)
    tight = TIGHT if dtype == np.float64 else {"tol": 1e-7, "max_iter": 100_000}
    alphas, coefs, gaps = enet_path(Xf, y, l1_ratio=l1_ratio, alphas=15, **tight)
    ref_alphas, ref_coefs, _ = sk.enet_path(_sklearn_format(Xf), y, l1_ratio=l1_ratio,
                                            alphas=15, **tight)
    assert coefs.shape == (50, 15) and coefs.dtype == dtype
    np.testing.assert_allclose(alphas, ref_alphas, rtol=1e-6 if dtype == np.float32 else 1e-12)
    scale = np.abs(ref_coefs).max()
    atol = 2e-3 * scale if dtype == np.float32 else 1e-7 * scale
    np.testing.assert_allclose(coefs, ref_coefs, atol=atol)
    if dtype == np.float64:
        for k, alpha in enumerate(alphas):
            assert kkt_violation(X, y, coefs[:, k], 0.0, alpha, l1_ratio) < 1e-8
            assert gaps[k] == pytest.approx(
                duality_gap(X, y, coefs[:, k], alpha, l1_ratio, fit_intercept=False),
                rel=1e-5, abs=1e-12)


def test_lasso_path_is_enet_path_with_l1_ratio_one():
    X, y = make_regression(seed=4)
    a1, c1, g1 = lasso_path(X, y, alphas=8)
    a2, c2, g2 = enet_path(X, y, l1_ratio=1.0, alphas=8)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(c1, c2)
    np.testing.assert_array_equal(g1, g2)


def test_first_alpha_is_alpha_max_and_gives_zeros():
    X, y = make_regression(seed=5)
    alphas, coefs, _ = lasso_path(X, y, alphas=10, eps=1e-2)
    assert np.all(coefs[:, 0] == 0)
    assert np.any(coefs[:, 1] != 0)
    assert alphas[-1] == pytest.approx(alphas[0] * 1e-2)
    assert np.all(np.diff(alphas) < 0)


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_path_with_intercept_and_weights_matches_single_fits(fmt, weighted):
    X, y = make_regression(seed=6)
    sw = np.random.default_rng(7).uniform(0.2, 3.0, X.shape[0]) if weighted else None
    Xf = as_format(X, fmt)
    alphas, coefs, gaps = enet_path(Xf, y, l1_ratio=0.7, alphas=6, fit_intercept=True,
                                    sample_weight=sw, **TIGHT)
    for k, alpha in enumerate(alphas):
        single = ElasticNet(alpha=alpha, l1_ratio=0.7, **TIGHT).fit(Xf, y, sample_weight=sw)
        np.testing.assert_allclose(coefs[:, k], single.coef_, atol=1e-8)
        intercept = np.average(y - X @ coefs[:, k], weights=sw)
        assert kkt_violation(X, y, coefs[:, k], intercept, alpha, 0.7, sw,
                             fit_intercept=True) < 1e-8


def test_weighted_grid_uses_the_weights():
    X, y = make_regression(seed=8)
    sw = np.random.default_rng(9).uniform(0.1, 5.0, X.shape[0])
    alphas, coefs, _ = lasso_path(X, y, alphas=5, sample_weight=sw, fit_intercept=True)
    assert np.all(coefs[:, 0] == 0) and np.any(coefs[:, 1] != 0)
    ref = sk.LassoCV(alphas=5, cv=2).fit(X, y, sample_weight=sw).alphas_
    np.testing.assert_allclose(alphas, ref, rtol=1e-10)


def test_positive_path_agrees_with_sklearn():
    X, y = make_regression(seed=10)
    y = y - 3 * X[:, 0]
    _, coefs, _ = lasso_path(X, y, alphas=10, positive=True, **TIGHT)
    _, ref, _ = sk.lasso_path(X, y, alphas=10, positive=True, **TIGHT)
    assert np.all(coefs >= 0)
    np.testing.assert_allclose(coefs, ref, atol=1e-7 * np.abs(ref).max())


def test_user_alphas_are_sorted_largest_first():
    X, y = make_regression(seed=11)
    alphas, coefs, _ = lasso_path(X, y, alphas=[0.01, 1.0, 0.1], **TIGHT)
    np.testing.assert_array_equal(alphas, [1.0, 0.1, 0.01])
    _, ref, _ = sk.lasso_path(X, y, alphas=[1.0, 0.1, 0.01], **TIGHT)
    np.testing.assert_allclose(coefs, ref, atol=1e-7 * np.abs(ref).max())


def test_precomputed_gram_and_xy():
    X, y = make_regression(n=80, p=20, seed=12)
    gram, xy = X.T @ X, X.T @ y
    a1, c1, _ = lasso_path(X, y, alphas=6, precompute=gram, Xy=xy, **TIGHT)
    a2, c2, _ = lasso_path(X, y, alphas=6, precompute=False, **TIGHT)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_allclose(c1, c2, atol=1e-8)


def test_coef_init_n_iter_and_column_y():
    X, y = make_regression(seed=13)
    alphas, coefs, gaps, n_iters = lasso_path(X, y, alphas=5, return_n_iter=True, **TIGHT)
    assert len(n_iters) == 5 and n_iters[0] == 0
    _, warm, _ = lasso_path(X, y, alphas=alphas[-1:], coef_init=coefs[:, -1], **TIGHT)
    np.testing.assert_allclose(warm[:, 0], coefs[:, -1], atol=1e-10)
    _, column, _ = lasso_path(X, y[:, None], alphas=5, **TIGHT)
    assert column.shape == (1, X.shape[1], 5)
    np.testing.assert_allclose(column[0], coefs, atol=1e-12)


def test_deprecated_spellings_warn_and_still_work():
    X, y = make_regression(seed=14)
    with pytest.warns(DeprecationWarning, match="n_alphas"):
        alphas, _, _ = lasso_path(X, y, n_alphas=7)
    assert alphas.shape == (7,)
    with pytest.warns(FutureWarning, match="alphas=None"):
        alphas, _, _ = lasso_path(X, y, alphas=None)
    assert alphas.shape == (100,)
    assert issubclass(FastL1DeprecationWarning, DeprecationWarning)


def test_convergence_warning_reports_gap():
    X, y = make_regression(seed=15)
    with pytest.warns(ConvergenceWarning, match=r"did not converge for \d+ of 10 alphas.*gap"):
        lasso_path(X, y, alphas=10, max_iter=1, tol=1e-14)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"alphas": 0}, ValueError, "alphas"),
    ({"alphas": "many"}, TypeError, "alphas"),
    ({"alphas": [1.0, -1.0]}, ValueError, "alphas"),
    ({"alphas": [1.0, np.nan]}, ValueError, "alphas"),
    ({"alphas": []}, ValueError, "alphas"),
    ({"eps": 0.0}, ValueError, "eps"),
    ({"l1_ratio": 0.0}, ValueError, "l1_ratio"),
    ({"l1_ratio": 1.5}, ValueError, "l1_ratio"),
    ({"selection": "best"}, ValueError, "selection"),
    ({"coef_init": np.zeros(3)}, ValueError, "coef_init"),
    ({"precompute": "yes"}, ValueError, "precompute"),
    # non-numeric alphas: NumPy would read "1" and True as 1.0
    ({"alphas": "1"}, TypeError, "alphas must be an int"),
    ({"alphas": ["1"]}, TypeError, "alphas must be real numbers"),
    ({"alphas": (1, 1.0, "1")}, TypeError, r"alphas must be real numbers.*'1' \(str\)"),
    ({"alphas": [True, 0.5]}, TypeError, r"alphas must be real numbers.*True \(bool\)"),
    ({"alphas": np.array([True])}, TypeError, "dtype bool"),
    ({"alphas": np.array(["0.5"])}, TypeError, "alphas must be real numbers"),
    ({"alphas": [0.5 + 0j]}, TypeError, "alphas must be real numbers"),
    ({"alphas": 2.5}, TypeError, "alphas must be an int"),
    ({"alphas": True}, TypeError, "alphas must be an int"),
    # flags are booleans only (scikit-learn's "boolean" constraint): "no" is not False
    ({"positive": "no"}, TypeError, r"positive must be a bool \(True or False\), got 'no'"),
    ({"positive": 1}, TypeError, "positive must be a bool"),
    ({"fit_intercept": "yes"}, TypeError, "fit_intercept must be a bool"),
    ({"return_n_iter": None}, TypeError, "return_n_iter must be a bool"),
    ({"copy_X": "False"}, TypeError, "copy_X must be a bool"),
])
def test_bad_arguments(kwargs, error, match):
    X, y = make_regression(seed=16)
    with pytest.raises(error, match=match):
        enet_path(X, y, **kwargs)


def test_bad_data_and_no_mutation():
    X, y = make_regression(seed=17)
    with pytest.raises(ValueError, match="one target"):
        lasso_path(X, np.column_stack([y, y]))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        lasso_path(bad, y)
    Xs = sp.csr_matrix(X)
    X0, Xs0, y0 = X.copy(), Xs.copy(), y.copy()
    X.setflags(write=False)
    lasso_path(X, y, alphas=5, fit_intercept=True)
    lasso_path(Xs, y, alphas=5, fit_intercept=True)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert (Xs != Xs0).nnz == 0 and Xs.format == "csr"


def test_verbose_reports_each_alpha(capsys):
    X, y = make_regression(seed=18)
    lasso_path(X, y, alphas=4, verbose=2)
    assert capsys.readouterr().out.count("Path: ") == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # verbose=1 writes dots, never warnings
        lasso_path(X, y, alphas=4, verbose=1)
    assert capsys.readouterr().err.count(".") == 4


def test_alphas_of_any_real_number_type_are_accepted():
    X, y = make_regression(seed=19)
    reference = lasso_path(X, y, alphas=[0.5, 0.1])[1]
    for alphas in ([0.5, 0.1], (np.float32(0.5), 0.1), np.array([0.1, 0.5]),
                   [np.float64(0.1), 0.5]):
        np.testing.assert_allclose(lasso_path(X, y, alphas=alphas)[1], reference, atol=1e-7)
    _, coefs, _ = lasso_path(X, y, alphas=[1, 0])  # ints are real numbers
    assert coefs.shape[1] == 2
    for flag in (True, False, np.True_):
        lasso_path(X, y, alphas=2, positive=flag)


def test_target_whose_sum_of_squares_overflows_is_refused():
    X, y = make_regression(seed=20)
    with pytest.raises(ValueError, match="target's scale overflows float64"):
        lasso_path(X, y * 1e200)
    with pytest.raises(ValueError, match="target's scale overflows float64"):
        enet_path(X, y * 1e160, alphas=[1.0])
    lasso_path(X, y * 1e100, alphas=3)  # large but representable: fits


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_default_path_is_relatively_accurate_at_every_alpha(fmt):
    # A sparse non-negative design (text-like): at the small-alpha end the objective is a
    # small fraction of ||y_c||^2 / n, where a gap bound relative to the latter left the
    # default path almost 1 % above the optimum.
    rng = np.random.default_rng(0)
    X = sp.random(200, 2000, density=0.02, random_state=0, format="csc")
    X.data = np.abs(rng.standard_normal(X.nnz))
    w = np.zeros(2000)
    w[:20] = 3.0 * rng.standard_normal(20)
    y = X @ w + 0.1 * rng.standard_normal(200)
    design = X if fmt == "csc" else X.toarray()
    alphas, coefs, _ = lasso_path(design, y)
    _, tight, _ = lasso_path(design, y, alphas=alphas, tol=1e-13, max_iter=100_000)
    dense = X.toarray()

    def objective(c):
        c = c.toarray() if sp.issparse(c) else c
        return 0.5 * ((y[:, None] - dense @ c) ** 2).sum(axis=0) / 200 + alphas * np.abs(
            c).sum(axis=0)

    best = objective(tight)
    assert np.max((objective(coefs) - best) / best) <= 1e-3
