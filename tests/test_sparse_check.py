"""Malformed sparse matrices are refused before SciPy or a kernel reads their indices."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1 import ElasticNetCV, Lasso, LassoCV, StabilitySelection, enet_path
from fastl1._kernels.sparse_check import compressed_structure_error
from fastl1._validation import check_sparse_structure


def _matrix(fmt):
    rng = np.random.default_rng(0)
    return sp.random(30, 12, density=0.3, format=fmt, random_state=rng)


def _corrupt(X, how):
    X = X.copy()
    if how == "index out of range":
        X.indices[3] = X.shape[0 if X.format == "csc" else 1] + 5
    elif how == "negative index":
        X.indices[0] = -1
    elif how == "indptr decreasing":
        X.indptr[2], X.indptr[3] = X.indptr[3], X.indptr[2] - 1
    elif how == "indptr past the end":
        X.indptr[-1] = X.indices.shape[0] + 10
    elif how == "indptr not from 0":
        X.indptr[0] = 1
    return X


CORRUPTIONS = ["index out of range", "negative index", "indptr decreasing",
               "indptr past the end", "indptr not from 0"]


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("how", CORRUPTIONS)
def test_every_fit_refuses_a_malformed_matrix(fmt, how):
    X = _corrupt(_matrix(fmt), how)
    y = np.arange(30.0)
    for fit in (lambda: Lasso(alpha=0.01).fit(X, y),
                lambda: enet_path(X, y),
                lambda: LassoCV(cv=3).fit(X, y),
                lambda: ElasticNetCV(cv=3).fit(X, y),
                lambda: StabilitySelection(Lasso(), n_resamples=2).fit(X, y)):
        with pytest.raises(ValueError, match="Malformed"):
            fit()


def test_prediction_refuses_a_malformed_matrix():
    X = _matrix("csr")
    model = Lasso(alpha=0.01).fit(X, np.arange(30.0))
    with pytest.raises(ValueError, match="Malformed"):
        model.predict(_corrupt(X, "index out of range"))


def test_a_wrong_indptr_length_is_refused():
    X = _matrix("csc")
    X.indptr = X.indptr[:-1]
    with pytest.raises(ValueError, match="indptr has 12 entries for 12 columns"):
        check_sparse_structure(X)


def test_a_coo_matrix_with_an_index_out_of_range_is_refused():
    X = _matrix("coo")
    X.row[0] = 99
    with pytest.raises(ValueError, match="row index is out of range"):
        check_sparse_structure(X)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_well_formed_matrices_pass_unchanged(fmt):
    X = _matrix(fmt)
    before = X.copy()
    check_sparse_structure(X)
    assert (X != before).nnz == 0
    check_sparse_structure(np.ones((3, 2)))  # dense input is not its business


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_the_kernel_reports_the_first_offending_position(index_dtype):
    indptr = np.array([0, 2, 2, 5], dtype=index_dtype)
    indices = np.array([0, 3, 1, 4, 2], dtype=index_dtype)
    assert compressed_structure_error(indices, indptr, 5, 5) == (0, 0)
    assert compressed_structure_error(indices, indptr, 4, 5) == (4, 3)
    assert compressed_structure_error(indices, indptr, 5, 4) == (3, 3)
    indptr[2] = 1
    assert compressed_structure_error(indices, indptr, 5, 5) == (2, 2)


@pytest.mark.parametrize("how", ["index out of range", "indptr decreasing"])
def test_the_logistic_models_refuse_a_malformed_matrix(how):
    from fastl1 import LogisticRegression, LogisticRegressionCV, l1_logistic_path

    X = _matrix("csr")
    y = np.arange(30) % 2
    bad = _corrupt(X, how)
    for fit in (lambda: LogisticRegression().fit(bad, y),
                lambda: LogisticRegressionCV(Cs=2, cv=2).fit(bad, y),
                lambda: l1_logistic_path(bad, y, Cs=2),
                lambda: StabilitySelection(LogisticRegression(), n_resamples=2).fit(bad, y)):
        with pytest.raises(ValueError, match="Malformed"):
            fit()
    for model in (LogisticRegression(C=10.0).fit(X, y),
                  LogisticRegressionCV(Cs=2, cv=2).fit(X, y)):
        for predict in (model.predict, model.predict_proba, model.decision_function):
            with pytest.raises(ValueError, match="Malformed"):
                predict(bad)
