"""Coordinate descent for the (weighted, centred) elastic net.

One epoch visits the coordinates listed in ``features`` (all of them for plain CD, a working
set for the working-set solver) in order, or ``features.shape[0]`` random draws from them.
Two data layouts share the solver loop: the design matrix itself (residual updates, Friedman
et al. 2010) and its Gram matrix (covariance updates, for n >> p).
"""

import numpy as np
from numba import njit

from . import JIT_OPTIONS
from .design import (
    column_dot,
    column_sq_norms,
    column_update,
    init_residual,
    is_sparse,
    weighted_dot,
    weighted_sum,
)
from .gap import design_gap, gram_gap
from .prox import enet_coordinate_update


@njit(**JIT_OPTIONS)
def _pick(features, k, random):
    if random:
        return features[np.random.randint(0, features.shape[0])]  # noqa: NPY002 (Numba RNG)
    return features[k]


@njit(**JIT_OPTIONS)
def design_epoch(X, data, indices, indptr, sw, sw_sum, x_mean, norms2, w, r, r_sum,
                 l1_reg, l2_reg, positive, features, random):
    """One CD epoch with residual updates. Returns ``(max |dw|, max |w|, r_sum)``."""
    sparse = is_sparse(indptr)
    dw_max = 0.0
    w_max = 0.0
    for k in range(features.shape[0]):
        j = _pick(features, k, random)
        if norms2[j] == 0.0:
            continue
        w_j = w[j]
        grad_j = column_dot(X, data, indices, indptr, j, r, sw) - x_mean[j] * r_sum
        w[j] = enet_coordinate_update(w_j, grad_j, norms2[j], l1_reg, l2_reg, positive)
        delta = w[j] - w_j
        if delta != 0.0:
            column_update(X, data, indices, indptr, j, delta, x_mean[j], r)
            if sparse:
                r_sum -= delta * x_mean[j] * sw_sum
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max, r_sum


@njit(**JIT_OPTIONS)
def gram_epoch(gram, xty, w, gram_w, l1_reg, l2_reg, positive, features, random):
    """One CD epoch with covariance updates (``gram_w = G w`` kept up to date)."""
    dw_max = 0.0
    w_max = 0.0
    for k in range(features.shape[0]):
        j = _pick(features, k, random)
        norm2_j = gram[j, j]
        if norm2_j == 0.0:
            continue
        w_j = w[j]
        w[j] = enet_coordinate_update(w_j, xty[j] - gram_w[j], norm2_j, l1_reg, l2_reg,
                                      positive)
        delta = w[j] - w_j
        if delta != 0.0:
            for i in range(gram_w.shape[0]):
                gram_w[i] += delta * gram[i, j]
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max


@njit(**JIT_OPTIONS)
def enet_cd(X, data, indices, indptr, y_centred, sw, x_mean, gram, xty, w, l1_reg, l2_reg,
            positive, max_iter, tol, random, seed):
    """Solve the elastic net by cyclic or random coordinate descent, in place in ``w``.

    The design is ``(X, data, indices, indptr)``; when ``gram`` is non-empty the epochs use
    it (with ``xty = X_c^T S y_c``) instead, and the design is not touched. Stops, as
    scikit-learn, when the largest coefficient change of an epoch is below ``tol`` times the
    largest coefficient and then the duality gap is below ``tol * y_c^T S y_c``.

    Returns ``(gap, scaled_tol, n_epochs)``; ``gap`` is in the scale of :mod:`.gap`.
    """
    n = y_centred.shape[0]
    p = w.shape[0]
    if random:
        np.random.seed(seed)  # noqa: NPY002 (seeds Numba's per-thread RNG)
    use_gram = gram.shape[0] > 0
    sw_sum = float(n) if sw.shape[0] == 0 else sw.sum()
    y_norm2 = weighted_dot(y_centred, y_centred, sw)
    scaled_tol = tol * y_norm2
    features = np.arange(p)
    grad = np.empty(p, dtype=w.dtype)

    if use_gram:
        gram_w = gram @ w if p > 0 else np.zeros(0, dtype=w.dtype)
        norms2 = np.empty(0, dtype=w.dtype)
        r = np.empty(0, dtype=w.dtype)
        r_sum = 0.0
        gap, _ = gram_gap(gram, xty, y_norm2, w, gram_w, l1_reg, l2_reg, positive, grad)
    else:
        gram_w = np.empty(0, dtype=w.dtype)
        norms2 = np.empty(p, dtype=w.dtype)
        column_sq_norms(X, data, indices, indptr, sw, sw_sum, x_mean, norms2)
        r = np.empty(n, dtype=w.dtype)
        init_residual(X, data, indices, indptr, y_centred, x_mean, w, r)
        r_sum = weighted_sum(r, sw)
        gap, _ = design_gap(X, data, indices, indptr, y_centred, sw, sw_sum, x_mean, w, r,
                            r_sum, l1_reg, l2_reg, positive, grad)
    if gap <= scaled_tol:
        return gap, scaled_tol, 0

    n_epochs = 0
    for epoch in range(max_iter):
        n_epochs = epoch + 1
        if use_gram:
            dw_max, w_max = gram_epoch(gram, xty, w, gram_w, l1_reg, l2_reg, positive,
                                       features, random)
        else:
            dw_max, w_max, r_sum = design_epoch(X, data, indices, indptr, sw, sw_sum, x_mean,
                                                norms2, w, r, r_sum, l1_reg, l2_reg,
                                                positive, features, random)
        if w_max == 0.0 or dw_max <= tol * w_max or epoch == max_iter - 1:
            if use_gram:
                gap, _ = gram_gap(gram, xty, y_norm2, w, gram_w, l1_reg, l2_reg, positive,
                                  grad)
            else:
                gap, _ = design_gap(X, data, indices, indptr, y_centred, sw, sw_sum, x_mean,
                                    w, r, r_sum, l1_reg, l2_reg, positive, grad)
            if gap <= scaled_tol:
                break
    return gap, scaled_tol, n_epochs
