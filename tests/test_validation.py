"""Input validation of Lasso / ElasticNet: bad input gets a clear error naming the problem,
good input of every supported layout fits, and the caller's arrays are never modified."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from fastl1 import ElasticNet, Lasso

from .conftest import make_regression, read_only_kernel_signatures

ESTIMATORS = [Lasso, ElasticNet]
# Tight enough that any two correct solvers agree to ~1e-10 on these small problems.
TIGHT = dict(tol=1e-12, max_iter=100_000)


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def Estimator(request):
    return request.param


def _data(n=12, p=5, seed=0):
    X, y = make_regression(n=n, p=p, density=0.7, n_informative=2, seed=seed)
    return X, y


def _alpha(X, y):
    """An alpha giving a few non-zero coefficients for both estimators."""
    Xc = X - X.mean(axis=0)
    return 0.1 * np.abs(Xc.T @ (y - y.mean())).max() / X.shape[0]


# --------------------------------------------------------------------------------------------
# snapshots of the caller's arrays


def _snapshot(a):
    """A deep copy of a dense array / sparse matrix / list / None, for later comparison."""
    if a is None or np.isscalar(a):
        return a
    if sp.issparse(a):
        return (a.format, a.shape, a.data.copy(), a.indices.copy(), a.indptr.copy())
    if isinstance(a, np.ndarray):
        return (a.copy(order="K"), a.flags.c_contiguous, a.flags.f_contiguous,
                a.flags.writeable)
    return repr(a)  # lists etc.


def _same_values(a, b):
    equal_nan = a.dtype.kind in "fc" and b.dtype.kind in "fc"
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=equal_nan)


def _assert_unchanged(a, snap):
    """``a`` still equals its snapshot: values, dtype, shape, layout and index arrays."""
    if a is None or np.isscalar(a):
        assert a == snap
    elif sp.issparse(a):
        fmt, shape, data, indices, indptr = snap
        assert (a.format, a.shape) == (fmt, shape)
        assert _same_values(a.data, data), "sparse data was modified"
        assert _same_values(a.indices, indices), "sparse indices were modified"
        assert _same_values(a.indptr, indptr), "sparse indptr was modified"
    elif isinstance(a, np.ndarray):
        values, c_contig, f_contig, writeable = snap
        assert _same_values(a, values), "array was modified"
        assert (a.flags.c_contiguous, a.flags.f_contiguous) == (c_contig, f_contig)
        assert a.flags.writeable == writeable
    else:
        assert repr(a) == snap


def _fit_leaves_inputs_alone(est, X, y, sample_weight=None):
    snaps = [_snapshot(a) for a in (X, y, sample_weight)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=sample_weight)
    for a, snap in zip((X, y, sample_weight), snaps, strict=True):
        _assert_unchanged(a, snap)
    return est


# --------------------------------------------------------------------------------------------
# bad data: (X, y, sample_weight) builders, expected exception type and message


def _with(a, index, value):
    a = np.array(a, dtype=float)
    a[index] = value
    return a


def _nan_in_sparse():
    X, y = _data()
    X = sp.csc_matrix(X)
    X.data[3] = np.nan
    return X, y, None


def _strings():
    X, y = _data()
    X = X.astype(str)  # numeric strings would convert (as in scikit-learn): add a word
    X[3, 2] = "abc"
    return X, y, None


def _object_strings():
    X, y = _data()
    X = X.astype(object)
    X[0, 0] = "a"
    return X, y, None


BAD_DATA = {
    "nan-X": (lambda X, y: (_with(X, (2, 1), np.nan), y, None), r"Input X contains NaN"),
    "inf-X": (lambda X, y: (_with(X, (0, 3), np.inf), y, None), r"Input X contains infinity"),
    "-inf-X": (lambda X, y: (_with(X, (0, 3), -np.inf), y, None),
               r"Input X contains infinity"),
    "nan-y": (lambda X, y: (X, _with(y, 4, np.nan), None), r"Input y contains NaN"),
    "inf-y": (lambda X, y: (X, _with(y, 4, np.inf), None), r"Input y contains infinity"),
    "nan-y-2d": (lambda X, y: (X, _with(np.c_[y, y], (1, 1), np.nan), None),
                 r"Input y contains NaN"),
    "nan-sparse-X": (lambda X, y: _nan_in_sparse(), r"Input X contains NaN"),
    "X-y-lengths": (lambda X, y: (X, y[:-1], None), r"inconsistent numbers of samples"),
    "X-y-lengths-sparse": (lambda X, y: (sp.csr_matrix(X[:-2]), y, None),
                           r"inconsistent numbers of samples"),
    "0-samples": (lambda X, y: (X[:0], y[:0], None), r"0 sample\(s\)"),
    "0-features": (lambda X, y: (X[:, :0], y, None), r"0 feature\(s\)"),
    "0-features-sparse": (lambda X, y: (sp.csc_matrix(X[:, :0]), y, None),
                          r"0 feature\(s\)"),
    "string-X": (lambda X, y: _strings(), r"could not convert string to float"),
    "object-string-X": (lambda X, y: _object_strings(), r"could not convert string to float"),
    "string-y": (lambda X, y: (X, y.astype(str).astype(object) + "x", None),
                 r"could not convert string to float"),
    "string-y-unicode": (lambda X, y: (X, np.array(["a"] * len(y)), None),
                         r"could not convert string to float"),
    "3d-X": (lambda X, y: (X[:, :4].reshape(len(y), 2, 2), y, None), r"dim 3"),
    "1d-X": (lambda X, y: (X[:, 0], y, None), r"Expected (a )?2D array"),
    "negative-weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 5, -0.5)),
                        r"Negative values in data passed to `sample_weight`"),
    "weight-length": (lambda X, y: (X, y, np.ones(len(y) - 1)),
                      r"sample_weight\.shape == \(11,\), expected \(12,\)"),
    "weight-2d": (lambda X, y: (X, y, np.ones((len(y), 1))), r"Sample weights must be 1D"),
    "zero-weights": (lambda X, y: (X, y, np.zeros(len(y))), r"at least one non-zero"),
    "nan-weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 0, np.nan)),
                   r"sample_weight contains NaN"),
    "inf-weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 0, np.inf)),
                   r"sample_weight contains infinity"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_raises_value_error_and_leaves_inputs_alone(Estimator, case):
    build, message = BAD_DATA[case]
    X, y = _data()
    X, y, sw = build(X, y)
    snaps = [_snapshot(a) for a in (X, y, sw)]
    est = Estimator(alpha=0.1)
    with pytest.raises(ValueError, match=message):
        est.fit(X, y, sample_weight=sw)
    for a, snap in zip((X, y, sw), snaps, strict=True):
        _assert_unchanged(a, snap)
    assert not hasattr(est, "coef_")


# --------------------------------------------------------------------------------------------
# bad parameters

BAD_PARAMS = [
    (dict(alpha=-0.1), ValueError, r"alpha must be >= 0(\.0)?, got -0\.1"),
    (dict(alpha="0.1"), TypeError, r"alpha must be a real number, got '0\.1'"),
    (dict(alpha=None), TypeError, r"alpha must be a real number"),
    (dict(alpha=np.nan), ValueError, r"alpha must be finite"),
    (dict(alpha=np.inf), ValueError, r"alpha must be finite"),
    (dict(max_iter=0), ValueError, r"max_iter must be >= 1, got 0"),
    (dict(max_iter=10.5), TypeError, r"max_iter must be an integer"),
    (dict(tol=-1e-4), ValueError, r"tol must be >= 0(\.0)?, got -0\.0001"),
    (dict(tol=np.nan), ValueError, r"tol must be finite"),
    (dict(selection="foo"), ValueError, r"selection must be one of \('cyclic', 'random'\)"),
    (dict(precompute="yes"), ValueError, r"precompute must be True, False, 'auto' or a Gram"),
    (dict(precompute=None), ValueError, r"precompute must be True, False, 'auto' or a Gram"),
    # booleans only, as scikit-learn's "boolean" constraint: "no" would otherwise act as True
    (dict(positive="no"), TypeError, r"positive must be a bool \(True or False\), got 'no'"),
    (dict(positive=1), TypeError, r"positive must be a bool"),
    (dict(positive=None), TypeError, r"positive must be a bool"),
    (dict(fit_intercept="False"), TypeError, r"fit_intercept must be a bool"),
    (dict(warm_start="yes"), TypeError, r"warm_start must be a bool"),
    (dict(copy_X=0), TypeError, r"copy_X must be a bool"),
]


@pytest.mark.parametrize("params, exc, message", BAD_PARAMS,
                         ids=[repr(p) for p, _, _ in BAD_PARAMS])
def test_bad_parameter_raises(Estimator, params, exc, message):
    X, y = _data()
    snaps = [_snapshot(X), _snapshot(y)]
    est = Estimator(**params)
    with pytest.raises(exc, match=message):
        est.fit(X, y)
    _assert_unchanged(X, snaps[0])
    _assert_unchanged(y, snaps[1])
    assert not hasattr(est, "coef_")


@pytest.mark.parametrize("l1_ratio, message", [
    (-0.1, r"l1_ratio must be >= 0(\.0)?, got -0\.1"),
    (1.5, r"l1_ratio must be <= 1(\.0)?, got 1\.5"),
    ("0.5", r"l1_ratio must be a real number"),
])
def test_bad_l1_ratio_raises(l1_ratio, message):
    X, y = _data()
    exc = TypeError if isinstance(l1_ratio, str) else ValueError
    with pytest.raises(exc, match=message):
        ElasticNet(alpha=0.1, l1_ratio=l1_ratio).fit(X, y)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(4, 4), (5, 4), (6,), (1, 1)])
def test_precomputed_gram_of_wrong_shape_raises(Estimator, fit_intercept, shape):
    X, y = _data()  # 5 features
    gram = np.ones(shape)
    snap = _snapshot(gram)
    with pytest.raises(ValueError, match=r"Gram matrix has shape .*expected \(5, 5\)"):
        Estimator(alpha=0.1, precompute=gram, fit_intercept=fit_intercept).fit(X, y)
    _assert_unchanged(gram, snap)


def test_predict_with_wrong_number_of_features_raises(Estimator):
    X, y = _data()
    model = Estimator(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match=r"X has 4 features, but \w+ is expecting 5"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match=r"X has 6 features, but \w+ is expecting 5"):
        model.predict(sp.csr_matrix(np.c_[X, X[:, 0]]))
    assert model.predict(X).shape == (X.shape[0],)


def test_convergence_warning_states_the_duality_gap(Estimator):
    X, y = _data(n=30, p=10)
    alpha = 0.01 * _alpha(X, y)
    model = Estimator(alpha=alpha, max_iter=1, tol=1e-12)
    with pytest.warns(ConvergenceWarning, match=r"Duality gap: \d\.\d+e[+-]\d+") as record:
        model.fit(X, y)
    assert model.n_iter_ == 1
    # The message states the gap in the objective's 1/(2n) scale too: that is dual_gap_.
    message = str(next(w.message for w in record if w.category is ConvergenceWarning))
    assert f"{model.dual_gap_:.3e}" in message
    assert model.dual_gap_ > 1e-12 * np.sum((y - y.mean()) ** 2) / len(y)


@pytest.mark.parametrize("alpha", [1, np.float32(0.5), np.int64(2), 0.5])
def test_numeric_alpha_types_are_accepted(Estimator, alpha):
    X, y = _data()
    model = Estimator(alpha=alpha, **TIGHT).fit(X, y)
    ref = Estimator(alpha=float(alpha), **TIGHT).fit(X, y)
    _assert_same_fit((model.coef_, model.intercept_), (ref.coef_, ref.intercept_),
                     rtol=0, atol=0)


def test_converged_fit_does_not_warn(Estimator):
    X, y = _data(n=30, p=10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Estimator(alpha=_alpha(X, y), **TIGHT).fit(X, y)


# --------------------------------------------------------------------------------------------
# good input of every supported layout


def _fit_coef(Estimator, X, y, sample_weight=None, **params):
    model = Estimator(**{**TIGHT, **params}).fit(X, y, sample_weight=sample_weight)
    return model.coef_, model.intercept_


def _assert_same_fit(a, b, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(a[0], b[0], rtol=rtol, atol=atol)
    np.testing.assert_allclose(a[1], b[1], rtol=rtol, atol=atol)


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("weighted", [False, True])
def test_read_only_dense_input(Estimator, order, weighted):
    X, y = _data()
    alpha = _alpha(X, y)
    sw = np.linspace(0.5, 2.0, len(y)) if weighted else None
    ref = _fit_coef(Estimator, X, y, sw, alpha=alpha)
    assert np.count_nonzero(ref[0]) > 0
    X_ro = _readonly(np.asarray(X, order=order))
    y_ro = _readonly(y)
    sw_ro = _readonly(sw) if weighted else None
    snaps = [_snapshot(a) for a in (X_ro, y_ro, sw_ro)]
    got = _fit_coef(Estimator, X_ro, y_ro, sw_ro, alpha=alpha)
    _assert_same_fit(got, ref, rtol=0, atol=1e-13)
    for a, snap in zip((X_ro, y_ro, sw_ro), snaps, strict=True):
        _assert_unchanged(a, snap)
    assert read_only_kernel_signatures() == []  # the kernels compiled for writeable input


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("all_arrays", [False, True])
def test_read_only_sparse_input(Estimator, fmt, all_arrays):
    X, y = _data()
    alpha = _alpha(X, y)
    make = {"csc": sp.csc_matrix, "csr": sp.csr_matrix}[fmt]
    ref = _fit_coef(Estimator, make(X), y, alpha=alpha)
    X_ro = make(X)
    X_ro.data.flags.writeable = False
    if all_arrays:
        X_ro.indices.flags.writeable = False
        X_ro.indptr.flags.writeable = False
    snap = _snapshot(X_ro)
    got = _fit_coef(Estimator, X_ro, _readonly(y), alpha=alpha)
    _assert_same_fit(got, ref, rtol=0, atol=1e-13)
    _assert_unchanged(X_ro, snap)
    assert not X_ro.data.flags.writeable
    assert read_only_kernel_signatures() == []


@pytest.mark.parametrize("cls", [sp.csc_matrix, sp.csr_matrix, sp.csc_array, sp.csr_array])
@pytest.mark.parametrize("index_dtype", [np.int64, "mixed"])
def test_int64_sparse_indices_match_int32(Estimator, cls, index_dtype):
    X, y = _data()
    X[X < 1.0] = 0.0  # make it genuinely sparse
    alpha = _alpha(X, y)
    ref = _fit_coef(Estimator, cls(X), y, alpha=alpha)
    X64 = cls(X)
    assert X64.indices.dtype == np.int32
    if index_dtype == "mixed":
        X64.indptr = X64.indptr.astype(np.int64)
    else:
        X64.indices = X64.indices.astype(np.int64)
        X64.indptr = X64.indptr.astype(np.int64)
    snap = _snapshot(X64)
    got = _fit_coef(Estimator, X64, y, alpha=alpha)
    _assert_same_fit(got, ref, rtol=0, atol=1e-13)
    _assert_unchanged(X64, snap)  # including the index dtypes
    model = Estimator(alpha=alpha).fit(X64, y)
    np.testing.assert_allclose(model.predict(X64), model.predict(X), rtol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_c_and_f_ordered_dense_give_the_same_fit(Estimator, weighted, fit_intercept):
    X, y = _data(n=15, p=7, seed=1)
    alpha = _alpha(X, y)
    sw = np.linspace(0.2, 3.0, len(y)) if weighted else None
    c = _fit_coef(Estimator, np.ascontiguousarray(X), y, sw, alpha=alpha,
                  fit_intercept=fit_intercept)
    f = _fit_coef(Estimator, np.asfortranarray(X), y, sw, alpha=alpha,
                  fit_intercept=fit_intercept)
    assert np.count_nonzero(c[0]) >= 2
    _assert_same_fit(c, f, rtol=0, atol=1e-13)


@pytest.mark.parametrize("fmt", ["C", "F", "csc", "csr"])
def test_float32_input_gives_float32_model(Estimator, fmt):
    X, y = _data(n=20, p=6)
    alpha = _alpha(X, y)
    X32 = X.astype(np.float32)
    X32 = {"C": np.ascontiguousarray, "F": np.asfortranarray,
           "csc": sp.csc_matrix, "csr": sp.csr_matrix}[fmt](X32)
    y32 = y.astype(np.float32)
    model = Estimator(alpha=alpha, tol=1e-6).fit(X32, y32)
    ref = Estimator(alpha=alpha, **TIGHT).fit(X, y)
    assert model.coef_.dtype == np.float32
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-3, atol=1e-4)
    # the intercept is computed in float32 (representable exactly as a float32)
    assert float(np.float32(model.intercept_)) == float(model.intercept_)
    assert model.predict(X32).dtype == np.float32

    model2 = Estimator(alpha=alpha, tol=1e-6).fit(X32, np.c_[y32, y32])
    assert model2.coef_.dtype == np.float32
    assert model2.coef_.shape == (2, X.shape[1])
    assert np.asarray(model2.intercept_).dtype == np.float32
    np.testing.assert_allclose(model2.coef_, [model.coef_, model.coef_], rtol=1e-5, atol=1e-6)
    assert model2.predict(X32).dtype == np.float32


def test_float32_input_gives_float32_intercept(Estimator):
    X, y = _data(n=20, p=6)
    model = Estimator(alpha=_alpha(X, y)).fit(X.astype(np.float32), y.astype(np.float32))
    assert np.asarray(model.intercept_).dtype == np.float32
    column = Estimator(alpha=_alpha(X, y)).fit(X, y[:, None])  # (n, 1) target: as 1-D
    assert column.coef_.shape == (X.shape[1],) and np.ndim(column.intercept_) == 0
    assert column.predict(X).shape == (X.shape[0],)


def test_float32_x_with_float64_y_fits_in_float32(Estimator):
    X, y = _data(n=20, p=6)
    model = Estimator(alpha=_alpha(X, y)).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32


def test_integer_x_is_accepted_and_converted(Estimator):
    X, y = _data(n=20, p=6)
    Xi = np.round(4 * X).astype(np.int64)
    snap = _snapshot(Xi)
    model = Estimator(alpha=_alpha(X, y), **TIGHT).fit(Xi, y)
    ref = Estimator(alpha=_alpha(X, y), **TIGHT).fit(Xi.astype(float), y)
    assert model.coef_.dtype == np.float64
    _assert_same_fit((model.coef_, model.intercept_), (ref.coef_, ref.intercept_))
    _assert_unchanged(Xi, snap)


@pytest.mark.parametrize("cls", [sp.csc_matrix, sp.csr_matrix, sp.csc_array, sp.csr_array])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_matrix_and_array_classes_match_dense(Estimator, cls, weighted):
    X, y = _data(n=20, p=8, seed=4)
    alpha = _alpha(X, y)
    sw = np.linspace(0.5, 1.5, len(y)) if weighted else None
    ref = _fit_coef(Estimator, X, y, sw, alpha=alpha)
    got = _fit_coef(Estimator, cls(X), y, sw, alpha=alpha)
    assert np.count_nonzero(ref[0]) >= 2
    _assert_same_fit(got, ref)
    model = Estimator(alpha=alpha, **TIGHT).fit(cls(X), y, sample_weight=sw)
    np.testing.assert_allclose(model.predict(cls(X)), model.predict(X), rtol=1e-12)


@pytest.mark.parametrize("fmt", ["C", "F", "csc", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("precompute", [False, True])
def test_fit_never_modifies_inputs(Estimator, fmt, fit_intercept, weighted, precompute):
    X, y = _data(n=15, p=6, seed=2)
    X = {"C": np.ascontiguousarray, "F": np.asfortranarray,
         "csc": sp.csc_matrix, "csr": sp.csr_matrix}[fmt](X)
    sw = np.linspace(0.1, 2.0, 15) if weighted else None
    model = _fit_leaves_inputs_alone(
        Estimator(alpha=0.05, fit_intercept=fit_intercept, precompute=precompute), X, y, sw)
    assert np.count_nonzero(model.coef_) > 0
    # ... also for 2-D y and a second (warm-started) fit on the same arrays
    Y = np.asfortranarray(np.c_[y, -y])
    model = Estimator(alpha=0.05, fit_intercept=fit_intercept, warm_start=True)
    _fit_leaves_inputs_alone(model, X, Y, sw)
    _fit_leaves_inputs_alone(model, X, Y, sw)
    np.testing.assert_allclose(model.coef_[1], -model.coef_[0], rtol=1e-6, atol=1e-10)


def test_user_gram_matrix_is_not_modified(Estimator):
    X, y = _data(n=15, p=6, seed=2)
    gram = X.T @ X
    snaps = [_snapshot(a) for a in (X, y, gram)]
    model = Estimator(alpha=0.05, precompute=gram, fit_intercept=False, **TIGHT).fit(X, y)
    for a, snap in zip((X, y, gram), snaps, strict=True):
        _assert_unchanged(a, snap)
    ref = Estimator(alpha=0.05, fit_intercept=False, **TIGHT).fit(X, y)
    _assert_same_fit((model.coef_, model.intercept_), (ref.coef_, ref.intercept_))


def _with_duplicates(X, fmt):
    """``X`` as a CSC/CSR matrix in which every stored entry is split into two duplicates
    (built from COO triplets with repeated (i, j)), in unsorted order within each column."""
    coo = sp.coo_matrix(X)
    rows = np.r_[coo.row, coo.row]
    cols = np.r_[coo.col, coo.col]
    data = np.r_[0.25 * coo.data, 0.75 * coo.data]
    major, minor = (cols, rows) if fmt == "csc" else (rows, cols)
    n_major = X.shape[1] if fmt == "csc" else X.shape[0]
    order = np.argsort(major, kind="stable")  # grouped by major axis, duplicates apart
    indptr = np.r_[0, np.cumsum(np.bincount(major, minlength=n_major))]
    cls = sp.csc_matrix if fmt == "csc" else sp.csr_matrix
    M = cls((data[order], minor[order], indptr), shape=X.shape)
    assert M.nnz == 2 * coo.nnz
    assert not M.has_canonical_format
    np.testing.assert_allclose(M.toarray(), X, rtol=1e-15, atol=0)
    return M


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_with_duplicate_entries_matches_canonical(Estimator, fmt, fit_intercept,
                                                         weighted):
    X, y = _data(n=15, p=6, seed=5)
    alpha = _alpha(X, y)
    sw = np.linspace(0.5, 2.0, 15) if weighted else None
    M = _with_duplicates(X, fmt)
    snap = _snapshot(M)
    canonical = M.copy()
    canonical.sum_duplicates()
    ref = _fit_coef(Estimator, canonical, y, sw, alpha=alpha, fit_intercept=fit_intercept)
    got = _fit_coef(Estimator, M, y, sw, alpha=alpha, fit_intercept=fit_intercept)
    assert np.count_nonzero(ref[0]) >= 2
    _assert_same_fit(got, ref)
    _assert_unchanged(M, snap)
    assert M.nnz == 2 * canonical.nnz
    assert not M.has_canonical_format
    dense = _fit_coef(Estimator, X, y, sw, alpha=alpha, fit_intercept=fit_intercept)
    _assert_same_fit(got, dense)


@pytest.mark.parametrize("positive", [True, False, np.True_, np.False_])
def test_boolean_flags_accept_numpy_booleans(Estimator, positive):
    X, y = _data()
    model = Estimator(alpha=_alpha(X, y), positive=positive, fit_intercept=np.True_).fit(X, y)
    assert bool(positive) <= bool(np.all(model.coef_ >= 0))


def test_target_whose_sum_of_squares_overflows_is_refused(Estimator):
    X, y = _data()
    with pytest.raises(ValueError, match="target's scale overflows float64"):
        Estimator(alpha=1.0).fit(X, y * 1e200)
    with pytest.raises(ValueError, match="target's scale overflows float64"):
        Estimator(alpha=1.0).fit(X, np.c_[y, y * 1e200])  # any target of several


# --------------------------------------------------------------------------------------------
# cross-validation folds given by the user


def _cv_models():
    from fastl1 import ElasticNetCV, LassoCV, LogisticRegressionCV

    return [(LassoCV(alphas=4), False), (ElasticNetCV(alphas=4, l1_ratio=[0.5, 1.0]), False),
            (LogisticRegressionCV(Cs=3), True)]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["LassoCV", "ElasticNetCV",
                                                  "LogisticRegressionCV"])
def test_boolean_mask_folds_are_row_selections(index):
    """As in scikit-learn, ``cv=[(train_mask, test_mask)]`` selects the rows where True."""
    model, classifier = _cv_models()[index]
    X, y = _data(n=30, p=6, seed=11)
    if classifier:
        y = (y > np.median(y)).astype(int)
    test = np.arange(30) % 3 == 0
    masks = [(~test, test), (test, ~test)]
    indices = [(np.flatnonzero(a), np.flatnonzero(b)) for a, b in masks]
    by_mask = _fit_leaves_inputs_alone(model.set_params(cv=masks), X, y)
    by_index = _fit_leaves_inputs_alone(clone(model).set_params(cv=indices), X, y)
    np.testing.assert_array_equal(by_mask.coef_, by_index.coef_)
    if classifier:
        np.testing.assert_array_equal(by_mask.scores_[1], by_index.scores_[1])
    else:
        np.testing.assert_array_equal(by_mask.mse_path_, by_index.mse_path_)


@pytest.mark.parametrize("index", [0, 1, 2], ids=["LassoCV", "ElasticNetCV",
                                                  "LogisticRegressionCV"])
@pytest.mark.parametrize("folds, message", [
    ([(np.arange(20), np.arange(20, 31))], r"fold 0's test rows include index 30, out of "
                                           r"range for 30 samples"),
    ([(np.arange(15), np.arange(15, 30)), (np.arange(-31, -20), np.arange(10))],
     r"fold 1's training rows include index -31"),
    ([(np.ones(29, bool), np.ones(30, bool))], r"fold 0's training mask has 29 entries for "
                                               r"30 samples"),
    ([(np.arange(20.0), np.arange(20.0, 30.0))], r"fold 0's training rows must be integer "
                                                 r"indices or a boolean mask"),
    ([(np.arange(20).reshape(4, 5), np.arange(20, 30))], r"1-D array"),
    ([(np.zeros(30, bool), np.ones(30, bool))], r"fold 0 has an empty training"),
])
def test_bad_folds_raise_naming_the_fold(index, folds, message):
    model, classifier = _cv_models()[index]
    X, y = _data(n=30, p=6, seed=12)
    if classifier:
        y = np.arange(30) % 2
    with pytest.raises(ValueError, match=message):
        model.set_params(cv=folds).fit(X, y)


def test_negative_fold_indices_count_from_the_end():
    """As NumPy (and scikit-learn's indexing) read them."""
    from fastl1 import LassoCV

    X, y = _data(n=30, p=6, seed=13)
    negative = [(np.arange(-30, -10), np.arange(-10, 0))]
    positive = [(np.arange(20), np.arange(20, 30))]
    a = LassoCV(alphas=4, cv=negative).fit(X, y)
    b = LassoCV(alphas=4, cv=positive).fit(X, y)
    np.testing.assert_array_equal(a.mse_path_, b.mse_path_)
