"""The work of a logistic fit's passes on the workers: sums over one row block.

:mod:`fastl1._dask_logistic` runs the fit on the client; each of its passes over a Dask array
calls :func:`_block_pass` on every row block (where the block is) and adds the results up
with :func:`_add`. The first pass, :func:`_block_labels`, finds the classes and checks the
values. The blocks use the kernels of in-memory fits (``linear_predictor``, ``link``,
``full_gradient``) and BLAS on one thread (the blocks are the parallel work).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.special import expit, softmax, xlogy

from ._dask import _SUB_BLOCK_ELEMENTS
from ._kernels.logistic import full_gradient, linear_predictor, link
from ._solver import _EMPTY_INDEX

__all__ = ["_add", "_block_labels", "_block_pass", "_merge_labels"]

_NO_CURVATURE = np.empty((0, 0))
# Largest K (m + 1) for which a pass computes the exact multinomial Hessian of the working
# set (2 MB, K^2 (m + 1)^2 / 2 multiply-adds per row) rather than its K diagonal blocks.
_EXACT_MULTINOMIAL = 512


def _block_weights(x_block, y_block, w_block, classes, class_w, scale):
    """The block as the kernels read it (``A = X.T``, F-ordered), the class codes as floats
    and the sample weights ``s_i = scale * w_i * class_w[code_i]``."""
    x = np.asarray(x_block)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    x = np.ascontiguousarray(x)
    codes = np.searchsorted(classes, np.asarray(y_block))
    s = class_w[codes] * scale
    if w_block is not None:
        s = s * np.asarray(w_block, dtype=np.float64)
    return x, codes.astype(np.float64), np.ascontiguousarray(s, dtype=np.float64)


def _syrk_update(target, rows, weights, sign, buffer):
    """``target += sign * rows^T diag(weights) rows`` for ``weights >= 0``, upper triangle
    only: a symmetric rank-k update (BLAS syrk) of ``sqrt(weights) rows``, formed in
    ``buffer`` (its transpose is F-ordered, so syrk reads it in place)."""
    from scipy.linalg.blas import dsyrk

    root = buffer[:rows.shape[0]]
    np.multiply(rows, np.sqrt(weights)[:, None], out=root)
    target += dsyrk(sign, root.T, trans=0)


def _symmetric(upper):
    return upper + np.triu(upper, 1).T


def _hessian_blocks(x, ws, Z, s):
    """The Hessian of the loss in the working set's coefficients and the intercepts, the
    rows of ``X_ws`` augmented by a column of ones, by sub-blocks of rows so the temporaries
    stay small. Binary: ``[X_ws, 1]^T diag(h) [X_ws, 1]`` (shape ``(1, m+1, m+1)``).
    Multinomial: the exact Hessian, of shape ``(K (m+1), K (m+1))`` (class ``k``'s
    coordinates at ``k (m+1) + c``), whose block ``(k, l)`` has the weights
    ``s p_k (delta_kl - p_l)``: ``>= 0`` on the diagonal, ``<= 0`` off it, so every block is
    a symmetric rank-k update. The kernels' per-class (block-diagonal) model takes many more
    Newton steps (76 instead of 6 on a 3-class problem), each a pass here; it is used only
    when the exact Hessian would exceed ``_EXACT_MULTINOMIAL`` rows (shape ``(K, m+1, m+1)``:
    ``K`` times fewer products per row)."""
    K, n = Z.shape
    m = ws.shape[0]
    exact = K > 1 and K * (m + 1) <= _EXACT_MULTINOMIAL
    every = m == x.shape[1] and np.array_equal(ws, np.arange(m))  # no copy of the columns
    P = expit(Z) if K == 1 else softmax(Z, axis=0)
    M = np.zeros((K, m + 1, K, m + 1))
    step = max(1, min(n, _SUB_BLOCK_ELEMENTS // (m + 1)))
    # Two buffers for all the sub-blocks: fresh large temporaries would each fault their
    # pages in anew (Dask's workers keep glibc from reusing freed memory: docs/scale_out.md).
    xs_buffer, root_buffer = np.empty((step, m + 1)), np.empty((step, m + 1))
    xs_buffer[:, m] = 1.0
    for start in range(0, n, step):
        rows = x[start:start + step]
        xs = xs_buffer[:rows.shape[0]]
        xs[:, :m] = rows if every else rows[:, ws]
        sp_ = P[:, start:start + step] * s[start:start + step]
        for k in range(K):
            _syrk_update(M[k, :, k], xs, sp_[k] * (1.0 - P[k, start:start + step]), 1.0,
                         root_buffer)
            for j in range(k + 1, K if exact else 0):
                _syrk_update(M[k, :, j], xs, sp_[k] * P[j, start:start + step], -1.0,
                             root_buffer)
    for k in range(K):
        M[k, :, k] = _symmetric(M[k, :, k])
        for j in range(k + 1, K if exact else 0):  # block (j, k) is block (k, j) transposed
            M[k, :, j] = _symmetric(M[k, :, j])
            M[j, :, k] = M[k, :, j]
    if exact:
        return M.reshape(K * (m + 1), K * (m + 1))
    return np.stack([M[k, :, k] for k in range(K)])


def _intercept_hessian(Z, s):
    """The loss's exact Hessian in the intercepts (``K x K``), as
    :func:`fastl1.logistic._refit_intercept` forms it (without its shift)."""
    if Z.shape[0] == 1:
        p = expit(Z[0])
        return np.array([[s @ (p * (1.0 - p))]])
    P = softmax(Z, axis=0)
    sp_ = P * s
    return np.diag(sp_.sum(axis=1)) - sp_ @ P.T


def _entropy(Z, y, s, c):
    """``sum_i s_i sum_k a_ik log a_ik`` of the dual point of scaling ``c``
    (:func:`fastl1._kernels.logistic.dual_gap`)."""
    if Z.shape[0] == 1:
        a = (1.0 - c) * y + c * expit(Z[0])
        return float(s @ (xlogy(a, a) + xlogy(1.0 - a, 1.0 - a)))
    A = c * softmax(Z, axis=0)
    A[y.astype(np.intp), np.arange(y.shape[0])] += 1.0 - c
    return float(s @ xlogy(A, A).sum(axis=0))


def _block_pass(x_block, y_block, w_block, encoding, point, request):
    """The sums of one row block for a pass (module docstring): ``point`` is ``(W, b)``,
    ``request`` a dict with optional ``direction`` ``(ws, D, Db, steps)``, ``hessian``
    (working-set indices), ``intercept_hessian`` (bool) and ``entropy`` (a scaling ``c``).
    BLAS runs on one thread: the blocks are the parallel work."""
    from ._blas import blas_on_one_thread

    # Start Numba's threading layer before a cached kernel runs (see fastl1._dask).
    numba.get_num_threads()
    with blas_on_one_thread():
        return _block_sums(*_block_weights(x_block, y_block, w_block, *encoding), *point,
                           request)


def _block_sums(x, y, s, W, b, request):
    K, n, p = W.shape[0], x.shape[0], x.shape[1]
    A, empty = x.T, np.empty(0, dtype=x.dtype)
    Z = np.empty((K, n))
    linear_predictor(A, empty, _EMPTY_INDEX, _EMPTY_INDEX, True, W, b, Z)
    out = {}
    R = np.empty((K, n))
    if request.get("direction") is not None:
        ws, D, Db, steps = request["direction"]
        # X_ws D as one product with X (no copy of the working set's columns), in float64
        # as the kernels' column updates.
        full = np.zeros((K, p))
        full[:, ws] = D
        Xd = (x @ full.T).T + Db[:, None]
        losses, slopes = np.empty(len(steps)), np.empty(len(steps))
        for i, t in enumerate(steps):
            losses[i] = link(Z + t * Xd, y, s, R, _NO_CURVATURE, False)
            slopes[i] = np.sum(R * Xd)
        out["losses"], out["slopes"] = losses, slopes
        Z += steps[0] * Xd  # the point of the full evaluation below
    if request.get("entropy") is not None:
        out["entropy"] = _entropy(Z, y, s, request["entropy"])
        return out
    H = np.empty((K, n))
    out["loss"] = link(Z, y, s, R, H, True)
    G = np.empty((K, p))
    full_gradient(A, empty, _EMPTY_INDEX, _EMPTY_INDEX, True, R, G, False)
    out.update(G=G, rsum=R.sum(axis=1), r2=float(np.sum(R * R)))
    if request.get("hessian") is not None:
        out["M"] = _hessian_blocks(x, request["hessian"], Z, s)
    if request.get("intercept_hessian"):
        out["bh"] = _intercept_hessian(Z, s)
    return out


def _add(*parts):
    """Sum the blocks' dictionaries of sums key by key."""
    total = dict(parts[0])
    for part in parts[1:]:
        for key, value in part.items():
            total[key] = total[key] + value
    return total


def _block_labels(x_block, y_block, w_block, scale):
    """The block's labels with their counts and weight sums, and the checks of its values."""
    x = np.asarray(x_block)
    y = np.asarray(y_block)
    w = None if w_block is None else np.asarray(w_block, dtype=np.float64) * scale
    labels, codes = np.unique(y, return_inverse=True)
    codes = codes.reshape(-1)
    counts = np.bincount(codes, minlength=labels.shape[0]).astype(np.float64)
    weights = counts * scale if w is None else np.bincount(codes, weights=w,
                                                          minlength=labels.shape[0])
    return {"labels": labels, "counts": counts, "weights": weights,
            "x_finite": bool(np.isfinite(x).all()),
            "x_max": float(np.abs(x).max()) if x.size else 0.0,
            "y_finite": y.dtype.kind != "f" or bool(np.isfinite(y).all()),
            "w_finite": w is None or bool(np.isfinite(w).all()),
            "w_min": float(w.min()) if w is not None and w.size else np.inf}


def _merge_labels(*parts):
    labels = np.concatenate([part["labels"] for part in parts])
    merged, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(-1)
    out = {"labels": merged}
    for key in ("counts", "weights"):
        values = np.concatenate([part[key] for part in parts])
        out[key] = np.bincount(inverse, weights=values, minlength=merged.shape[0])
    out["x_finite"] = all(part["x_finite"] for part in parts)
    out["y_finite"] = all(part["y_finite"] for part in parts)
    out["w_finite"] = all(part["w_finite"] for part in parts)
    out["x_max"] = max(part["x_max"] for part in parts)
    out["w_min"] = min(part["w_min"] for part in parts)
    return out
