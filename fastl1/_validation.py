"""Input validation shared by every estimator and path function.

scikit-learn's validators do the work (dtype, finiteness, shapes, sparse formats); these
helpers fix the options fastl1 needs and add the checks scikit-learn leaves to the caller.
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import _check_sample_weight, check_X_y, validate_data

from ._kernels.sparse_check import STRUCTURE_ERRORS, compressed_structure_error
from ._solver import kernel_array

_DESIGN_OPTIONS = {
    "accept_sparse": ["csc", "csr"],
    "accept_large_sparse": True,
    "dtype": [np.float64, np.float32],
    "multi_output": True,
    "y_numeric": True,
}


def _check_real(name: str, value, low: float | None = None, high: float | None = None):
    """Validate a real scalar parameter, naming it in the error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__}).")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}.")


def _check_int(name: str, value, low: int):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")


def _check_bool(name: str, value):
    """Validate a boolean flag: ``bool`` or ``numpy.bool_`` only, as scikit-learn's
    ``"boolean"`` constraint (a string such as ``"no"`` would otherwise act as True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {value!r} "
                        f"({type(value).__name__}).")


def check_target_scale(y_centred: np.ndarray) -> None:
    """Refuse a target whose sum of squares overflows float64.

    The duality-gap tolerance and the test-fold errors are in the scale of ``||y_c||^2``:
    when it is infinite, every gap compares with an infinite (or NaN) bound and every mean
    squared error is infinite, so no fit or selection would mean anything.
    """
    y64 = np.asarray(y_centred, dtype=np.float64).ravel()
    with np.errstate(over="ignore", invalid="ignore"):
        finite = np.isfinite(np.dot(y64, y64))
    if not finite:
        raise ValueError(
            "The target's scale overflows float64: the sum of squares of the centred y "
            f"(largest |y - mean| = {np.max(np.abs(y64)):.3g}) is not finite. Rescale y "
            "(for example divide it by its standard deviation) before fitting.")


def _check_choice(name: str, value, choices: tuple):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")


def check_sparse_structure(X) -> None:
    """Refuse a scipy sparse CSR, CSC or COO matrix whose index arrays are inconsistent
    (out-of-range indices, a malformed ``indptr``) before SciPy or a kernel reads them: SciPy
    trusts them, and a bad index corrupts memory or the result. Other inputs pass through."""
    if not sp.issparse(X):
        return
    if X.format == "coo":
        n_rows, n_cols = X.shape
        for name, index, bound in (("row", X.row, n_rows), ("col", X.col, n_cols)):
            if index.size and (index.min() < 0 or index.max() >= bound):
                raise ValueError(f"Malformed sparse matrix: a {name} index is out of range "
                                 f"for shape {X.shape}.")
        return
    if X.format not in ("csr", "csc"):
        return
    n_major, n_minor = X.shape if X.format == "csr" else X.shape[::-1]
    indices, indptr = np.asarray(X.indices), np.asarray(X.indptr)
    if indptr.ndim != 1 or indptr.shape[0] != n_major + 1 or indices.ndim != 1:
        raise ValueError(f"Malformed {X.format.upper()} matrix: indptr has "
                         f"{indptr.shape[0]} entries for {n_major} "
                         f"{'rows' if X.format == 'csr' else 'columns'} (expected "
                         f"{n_major + 1}).")
    if indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu":
        raise TypeError("sparse index arrays must be integers, got "
                        f"{indices.dtype} and {indptr.dtype}.")
    code, position = compressed_structure_error(kernel_array(indices), kernel_array(indptr),
                                                n_minor, np.asarray(X.data).shape[0])
    if code:
        where = f"indices[{position}]" if code == 4 else f"indptr[{position}]"
        raise ValueError(f"Malformed {X.format.upper()} matrix of shape {X.shape}: "
                         f"{STRUCTURE_ERRORS[code]} (at {where}).")


def check_design(estimator, X, y, reset: bool = True):
    """Validate ``(X, y)`` for the linear models: float32/float64, dense or CSC/CSR,
    finite, non-empty, int32 or int64 sparse indices. Never copies or modifies X beyond
    the dtype conversion of non-float input; y becomes a float array of X's dtype.
    ``estimator=None`` validates for a function (no ``n_features_in_`` to set)."""
    check_sparse_structure(X)
    if estimator is None:
        X, y = check_X_y(X, y, **_DESIGN_OPTIONS)
    else:
        X, y = validate_data(estimator, X, y, reset=reset, **_DESIGN_OPTIONS)
    y = np.asarray(y, dtype=X.dtype)
    if sp.issparse(X) and X.indices.dtype not in (np.int32, np.int64):
        raise TypeError(f"sparse index arrays must be int32 or int64, got {X.indices.dtype}.")
    return X, y


def check_weights(sample_weight, X) -> np.ndarray | None:
    """Validate sample weights: finite, non-negative, one per sample, not all zero."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(X.shape[0], sample_weight, dtype=X.dtype)
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                         ensure_non_negative=True)
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if sample_weight.sum() <= 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs weight > 0.")
    return sample_weight


def check_precompute(precompute) -> None:
    """``precompute`` must be True, False, 'auto' or a Gram matrix."""
    if not (isinstance(precompute, (bool, np.bool_)) or hasattr(precompute, "__array__")
            or (isinstance(precompute, str) and precompute == "auto")):
        raise ValueError(
            f"precompute must be True, False, 'auto' or a Gram matrix, got {precompute!r}.")
