"""Predictions and scores of fitted estimators on Dask arrays, lazily and by row blocks.

Each row block goes through the estimator's own in-memory method (``predict``,
``predict_proba``, ...), so a block's rows get the numbers an in-memory call gives them, and
the result is a Dask array with X's row chunks: nothing is computed until the caller asks,
and X never comes to the client. ``score`` is a 0-d Dask array built from the same blocks
(accuracy for classifiers, R^2 for regressors, with scikit-learn's conventions).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from ._dask import _as_dask_array, dask_input

__all__ = ["blockwise", "score"]


def _apply(block, estimator, method):
    """``estimator.method(block)`` on an in-memory block (its columns are the fit's, checked
    on the client: scikit-learn's warning about a block's missing names is not issued)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names")
        return getattr(estimator, method)(np.asarray(block))


def _rows(X, estimator, lengths):
    """X as a Dask array of whole rows with the fit's number of features (a DataFrame's
    columns checked against ``feature_names_in_``)."""
    columns = getattr(X, "columns", None)
    names = getattr(estimator, "feature_names_in_", None)
    if columns is not None and names is not None and list(columns) != list(names):
        raise ValueError("The feature names should match those that were passed during fit: "
                         f"got {list(columns)}, expected {list(names)}.")
    X = _as_dask_array(X, "X", lengths=lengths)
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X (rows x features), got a Dask array of shape "
                         f"{X.shape}.")
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and X.shape[1] != expected:
        raise ValueError(f"X has {X.shape[1]} features, but {type(estimator).__name__} is "
                         f"expecting {expected} features as input.")
    return X.rechunk({1: -1}) if X.numblocks[1] != 1 else X


def blockwise(estimator, X, method: str, lengths=None):
    """``estimator.method(X)`` for a Dask ``X``: a lazy Dask array with X's row chunks.

    Parameters
    ----------
    estimator : fitted estimator
        A copy is taken, so refitting the estimator does not change the result.
    X : dask array or dask DataFrame of shape (n_samples, n_features)
    method : str
        ``"predict"``, ``"predict_proba"``, ``"predict_log_proba"`` or
        ``"decision_function"``.
    lengths : None or True
        For a DataFrame: count its partitions' rows first (True) or leave them unknown.

    Returns
    -------
    dask.array.Array of shape (n_samples,) or (n_samples, n_outputs)
    """
    check_is_fitted(estimator)
    X = _rows(X, estimator, lengths)
    estimator = copy.deepcopy(estimator)
    # The output's shape and dtype, from one row of zeros.
    sample = _apply(np.zeros((1, X.shape[1]), dtype=X.dtype), estimator, method)
    if sample.ndim == 1:
        return X.map_blocks(_apply, estimator, method, drop_axis=1, dtype=sample.dtype,
                            meta=np.empty((0,), dtype=sample.dtype))
    return X.map_blocks(_apply, estimator, method, chunks=(X.chunks[0], sample.shape[1:]),
                        dtype=sample.dtype, meta=np.empty((0, 0), dtype=sample.dtype))


def _like_rows(value, rows, name):
    """``value`` (Dask or in-memory) as a Dask array with the row chunks of ``rows``."""
    import dask.array as da

    if dask_input(value):
        value = _as_dask_array(value, name)
    else:
        value = np.asarray(value)
    if value.shape[0] != rows.shape[0] or value.ndim > 2:
        raise ValueError(f"{name} has shape {value.shape}, expected {rows.shape[0]} rows.")
    if not isinstance(value, da.Array):
        value = da.from_array(value, chunks=(rows.chunks[0],) + value.shape[1:])
    return value.rechunk((rows.chunks[0],) + value.shape[1:])


def score(estimator, X, y, sample_weight=None):
    """``estimator.score(X, y, sample_weight)`` as a lazy 0-d Dask array: the (weighted)
    accuracy of a classifier, or the (weighted) R^2 of a regressor averaged over its
    targets, with scikit-learn's ``r2_score`` conventions for a constant ``y`` (1.0 if
    predicted exactly, else 0.0)."""
    import dask.array as da

    predicted = blockwise(estimator, X, "predict", lengths=True)
    y = _like_rows(y, predicted, "y")
    weights = da.ones(predicted.shape[0], chunks=predicted.chunks[0]) if sample_weight is None \
        else _like_rows(sample_weight, predicted, "sample_weight").astype(np.float64)
    if is_classifier(estimator):
        return (weights * (predicted == y)).sum() / weights.sum()
    y = y.astype(np.float64)
    if y.ndim == 1:
        y, predicted = y[:, None], predicted.reshape(-1, 1)
    w = weights[:, None]
    mean = (w * y).sum(axis=0) / weights.sum()
    residual = (w * (y - predicted) ** 2).sum(axis=0)
    total = (w * (y - mean) ** 2).sum(axis=0)
    safe = da.where(total > 0, total, 1.0)
    r2 = da.where(total > 0, 1.0 - residual / safe, da.where(residual == 0, 1.0, 0.0))
    return r2.mean()
