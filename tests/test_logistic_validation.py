"""Input validation of LogisticRegression: bad input gets a clear error naming the problem,
good input of every supported layout fits, and the caller's arrays are never modified."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1.logistic import LogisticRegression

from .conftest import read_only_kernel_signatures
from .test_validation import _assert_unchanged, _snapshot, _with

TIGHT = dict(tol=1e-10, max_iter=1000)


def _data(n=24, p=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.0
    X[rng.random((n, p)) > 0.7] = 0.0
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def _strings():
    X, y = _data()
    X = X.astype(str)
    X[3, 2] = "abc"
    return X, y, None


def _nan_in_sparse(fmt):
    X, y = _data()
    X = {"csc": sp.csc_matrix, "csr": sp.csr_matrix}[fmt](X)
    X.data[3] = np.nan
    return X, y, None


BAD_DATA = {
    "nan-X": (lambda X, y: (_with(X, (2, 1), np.nan), y, None), r"Input X contains NaN"),
    "inf-X": (lambda X, y: (_with(X, (0, 3), np.inf), y, None), r"Input X contains infinity"),
    "nan-csc-X": (lambda X, y: _nan_in_sparse("csc"), r"Input X contains NaN"),
    "nan-csr-X": (lambda X, y: _nan_in_sparse("csr"), r"Input X contains NaN"),
    "nan-y": (lambda X, y: (X, _with(y, 4, np.nan), None), r"Input y contains NaN"),
    "continuous-y": (lambda X, y: (X, np.linspace(0, 1, len(y)), None),
                     r"Unknown label type: continuous"),
    "one-class": (lambda X, y: (X, np.zeros(len(y)), None),
                  r"at least 2 classes.*only one class: 0\.0"),
    "X-y-lengths": (lambda X, y: (X, y[:-1], None), r"inconsistent numbers of samples"),
    "X-y-lengths-sparse": (lambda X, y: (sp.csr_matrix(X[:-2]), y, None),
                           r"inconsistent numbers of samples"),
    "0-samples": (lambda X, y: (X[:0], y[:0], None), r"0 sample\(s\)"),
    "0-features": (lambda X, y: (X[:, :0], y, None), r"0 feature\(s\)"),
    "string-X": (lambda X, y: _strings(), r"could not convert string to float"),
    "3d-X": (lambda X, y: (X[:, :4].reshape(len(y), 2, 2), y, None), r"dim 3"),
    "1d-X": (lambda X, y: (X[:, 0], y, None), r"Expected (a )?2D array"),
    "negative-weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 5, -0.5)),
                        r"Negative values in data passed to `sample_weight`"),
    "weight-length": (lambda X, y: (X, y, np.ones(len(y) - 1)),
                      r"sample_weight\.shape == \(23,\), expected \(24,\)"),
    "zero-weights": (lambda X, y: (X, y, np.zeros(len(y))), r"at least one non-zero"),
    "nan-weight": (lambda X, y: (X, y, _with(np.ones(len(y)), 0, np.nan)),
                   r"sample_weight contains NaN"),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_raises_value_error_and_leaves_inputs_alone(case):
    build, message = BAD_DATA[case]
    X, y = _data()
    X, y, sw = build(X, y)
    snaps = [_snapshot(a) for a in (X, y, sw)]
    est = LogisticRegression()
    with pytest.raises(ValueError, match=message):
        est.fit(X, y, sample_weight=sw)
    for a, snap in zip((X, y, sw), snaps, strict=True):
        _assert_unchanged(a, snap)
    assert not hasattr(est, "coef_")


def test_predict_with_wrong_number_of_features_raises():
    X, y = _data()
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match=r"X has 4 features, but \w+ is expecting 6"):
        model.predict(X[:, :4])
    with pytest.raises(ValueError, match=r"X has 7 features, but \w+ is expecting 6"):
        model.predict_proba(sp.csr_matrix(np.c_[X, X[:, 0]]))


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("layout", ["C", "F", "csc", "csr"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_inputs_unchanged_and_read_only_accepted(layout, n_classes):
    X, y = _data(seed=1)
    if n_classes == 3:
        y = y + (X[:, 2] > 1.0)
    sw = np.linspace(0.5, 2.0, len(y))
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y, sample_weight=sw)
    if layout in ("C", "F"):
        X_in = _readonly(np.asarray(X, order=layout))
    else:
        X_in = {"csc": sp.csc_matrix, "csr": sp.csr_matrix}[layout](X)
        X_in.data.flags.writeable = False
        X_in.indices.flags.writeable = False
        X_in.indptr.flags.writeable = False
    y_in, sw_in = _readonly(y), _readonly(sw)
    snaps = [_snapshot(a) for a in (X_in, y_in, sw_in)]
    model = LogisticRegression(C=0.5, **TIGHT).fit(X_in, y_in, sample_weight=sw_in)
    for a, snap in zip((X_in, y_in, sw_in), snaps, strict=True):
        _assert_unchanged(a, snap)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-9)
    model.predict_proba(X_in)
    _assert_unchanged(X_in, snaps[0])
    assert read_only_kernel_signatures() == []  # the kernels compiled for writeable input


@pytest.mark.parametrize("cls", [sp.csc_matrix, sp.csr_matrix, sp.csc_array, sp.csr_array])
def test_int64_sparse_indices_and_sparse_arrays(cls):
    X, y = _data()
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    X64 = cls(X)
    X64.indices = X64.indices.astype(np.int64)
    X64.indptr = X64.indptr.astype(np.int64)
    snap = _snapshot(X64)
    model = LogisticRegression(C=0.5, **TIGHT).fit(X64, y)
    _assert_unchanged(X64, snap)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-9)


def test_unsorted_and_duplicate_sparse_entries():
    """Duplicates are summed (as scipy does) on a private copy; the input is left alone."""
    X, y = _data()
    coo = sp.coo_matrix(X)
    half = coo.data / 2
    dup = sp.coo_matrix((np.r_[half, half], (np.r_[coo.row, coo.row], np.r_[coo.col, coo.col])),
                        shape=X.shape)
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    for fmt in ("csr", "csc"):
        Xd = dup.asformat(fmt)
        Xd.has_canonical_format = False
        snap = _snapshot(Xd)
        model = LogisticRegression(C=0.5, **TIGHT).fit(Xd, y)
        _assert_unchanged(Xd, snap)
        np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-9)


def test_integer_and_non_contiguous_x():
    X, y = _data()
    Xi = np.round(3 * X).astype(np.int64)
    ref = LogisticRegression(C=0.5, **TIGHT).fit(Xi.astype(float), y)
    model = LogisticRegression(C=0.5, **TIGHT).fit(Xi, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-12)
    wide = np.zeros((X.shape[0], 2 * X.shape[1]))
    wide[:, ::2] = X
    strided = wide[:, ::2]  # neither C- nor F-contiguous
    assert not (strided.flags.c_contiguous or strided.flags.f_contiguous)
    ref = LogisticRegression(C=0.5, **TIGHT).fit(X, y)
    model = LogisticRegression(C=0.5, **TIGHT).fit(strided, y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-12)


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data()
    frame = pd.DataFrame(X, columns=[f"gene{j}" for j in range(X.shape[1])])
    model = LogisticRegression(C=0.5).fit(frame, y)
    np.testing.assert_array_equal(model.feature_names_in_, frame.columns)
    assert model.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("params, error, match", [
    ({"tol": -1.0}, ValueError, "tol must be >= 0"),
    ({"tol": np.nan}, ValueError, "tol must be finite"),
    ({"max_iter": 0}, ValueError, "max_iter must be >= 1"),
    ({"max_iter": -1}, ValueError, "max_iter must be >= 1"),
    ({"max_iter": 1.5}, TypeError, "max_iter must be an integer"),
    ({"solver": "lbfgs"}, ValueError, "solver must be one of"),
])
def test_path_parameters_are_validated(params, error, match):
    from fastl1 import l1_logistic_path

    X, y = _data()
    with pytest.raises(error, match=match):
        l1_logistic_path(X, y, Cs=3, **params)


@pytest.mark.parametrize("layout", ["dense", "csr"])
def test_path_keeps_float32(layout):
    from fastl1 import l1_logistic_path

    X, y = _data()
    X = X.astype(np.float32)
    if layout == "csr":
        X = sp.csr_matrix(X)
    _, coefs, intercepts, _ = l1_logistic_path(X, y, Cs=3)
    assert coefs.dtype == np.float32 and intercepts.dtype == np.float32
    _, coefs64, _, _ = l1_logistic_path(X.astype(np.float64), y, Cs=3)
    np.testing.assert_allclose(coefs, coefs64, rtol=1e-4, atol=1e-5)
