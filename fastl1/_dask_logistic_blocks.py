"""The work of a proximal Newton fit's passes on the workers: sums over one row block.

:mod:`fastl1._dask_logistic` runs the fit on the client; each of its passes over a Dask array
calls :func:`_block_pass` on every row block (where the block is) and adds the results up
with :func:`_add`. What depends on the loss is a *datafit* object sent with the pass: the
loss of the linear predictors ``Z`` with its derivatives ``R = dloss/dZ`` and curvatures
``H``, the Hessian's off-diagonal (multinomial) blocks, the intercepts' Hessian and the
conjugate term of the dual (:class:`LogisticRows`, :class:`PoissonRows`). The first pass of
a logistic fit, :func:`_block_labels`, finds the classes and checks the values; a Poisson
fit's, :func:`_block_counts`, checks the counts and sums what its null model needs. The
blocks use the kernels of in-memory fits (``linear_predictor``, ``link``,
``full_gradient``) and BLAS on one thread (the blocks are the parallel work).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.special import expit, softmax, xlogy

from ._dask import _SUB_BLOCK_ELEMENTS
from ._kernels.logistic import full_gradient, linear_predictor, link
from ._solver import _EMPTY_INDEX

__all__ = ["LogisticRows", "PoissonRows", "_add", "_block_counts", "_block_labels",
           "_block_pass", "_merge_counts", "_merge_labels"]

_NO_CURVATURE = np.empty((0, 0))
# Bits of a row's fold membership (fastl1._dask_logistic_cv): in the fold's training rows,
# in its test rows.
TRAIN, TEST = 1, 2
# Largest K (m + 1) for which a pass computes the exact multinomial Hessian of the working
# set (2 MB, K^2 (m + 1)^2 / 2 multiply-adds per row) rather than its K diagonal blocks.
_EXACT_MULTINOMIAL = 512


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


def _design(x_block):
    """The block as the kernels read it (C-ordered rows, ``A = X.T`` F-ordered), float."""
    x = np.asarray(x_block)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    return np.ascontiguousarray(x)


class LogisticRows:
    """The logistic losses' side of a pass: binary (``K = 1``) or multinomial.

    Parameters
    ----------
    classes : ndarray
        The sorted class labels (``y`` is coded by them).
    class_w : ndarray
        Each class's weight.
    scale : float
        A number multiplying every sample weight.
    """

    def __init__(self, classes, class_w, scale):
        self.classes = classes
        self.class_w = class_w
        self.scale = scale

    def rows(self, y_block, w_block):
        """The class codes as floats and ``s_i = scale * w_i * class_w[code_i]``."""
        codes = np.searchsorted(self.classes, np.asarray(y_block))
        s = self.class_w[codes] * self.scale
        if w_block is not None:
            s = s * np.asarray(w_block, dtype=np.float64)
        return codes.astype(np.float64), np.ascontiguousarray(s, dtype=np.float64)

    def loss(self, Z, y, s, R, H):
        """The weighted loss; fills ``R`` and, unless ``H`` is None, the curvatures."""
        if H is None:
            return link(Z, y, s, R, _NO_CURVATURE, False)
        return link(Z, y, s, R, H, True)

    def cross_weights(self, Z, s):
        """``(P s, P)``: the multinomial Hessian's off-diagonal block ``(k, l)`` has the
        weights ``-s p_k p_l`` (None for one class: no such blocks)."""
        if Z.shape[0] == 1:
            return None
        P = softmax(Z, axis=0)
        return P * s, P

    def intercept_hessian(self, Z, s, H):
        """The loss's exact Hessian in the intercepts (``K x K``), as
        :func:`fastl1.logistic._refit_intercept` forms it (without its shift)."""
        if Z.shape[0] == 1:
            return H.sum(axis=1, keepdims=True)
        P = softmax(Z, axis=0)
        sp_ = P * s
        return np.diag(sp_.sum(axis=1)) - sp_ @ P.T

    def conjugate(self, Z, y, s, c, offset):
        """``sum_i s_i sum_k a_ik log a_ik`` of the dual point of scaling ``c``
        (:func:`fastl1._kernels.logistic.dual_gap`'s entropy)."""
        if Z.shape[0] == 1:
            a = (1.0 - c) * y + c * expit(Z[0])
            return float(s @ (xlogy(a, a) + xlogy(1.0 - a, 1.0 - a)))
        A = c * softmax(Z, axis=0)
        A[y.astype(np.intp), np.arange(y.shape[0])] += 1.0 - c
        return float(s @ xlogy(A, A).sum(axis=0))


class PoissonRows:
    """The Poisson loss ``s_i (exp(z_i) - y_i z_i)`` (log link) of
    :class:`fastl1.poisson.PoissonDatafit`, its derivative ``s_i (mu_i - y_i)``, curvature
    ``s_i mu_i`` (``mu = exp(z)``, capped at ``exp(700)`` as in memory) and the conjugate
    term of its dual.

    Parameters
    ----------
    scale : float
        A number multiplying every sample weight (``n / sum(w)``: weights summing to ``n``).
    """

    def __init__(self, scale):
        self.scale = scale

    def rows(self, y_block, w_block):
        y = np.ascontiguousarray(np.asarray(y_block, dtype=np.float64).reshape(-1))
        s = np.full(y.shape[0], self.scale) if w_block is None \
            else np.asarray(w_block, dtype=np.float64) * self.scale
        return y, s

    def loss(self, Z, y, s, R, H):
        z = Z[0]
        mu = np.exp(np.minimum(z, 700.0))
        np.multiply(s, mu - y, out=R[0])
        if H is not None:
            np.multiply(s, mu, out=H[0])
        with np.errstate(over="ignore"):
            return float(np.sum(s * (np.exp(z) - y * z)))

    def cross_weights(self, Z, s):
        return None

    def intercept_hessian(self, Z, s, H):
        return H.sum(axis=1, keepdims=True)

    def conjugate(self, Z, y, s, c, offset):
        """``sum_i s_i (q_i log q_i - q_i)`` for ``q = (1 - c) y + c mu``, plus the offset's
        term ``c sum_i theta_i o_i`` (``theta = s (y - mu)``) of
        :meth:`fastl1.poisson.PoissonDatafit.certificate`."""
        mu = np.exp(np.minimum(Z[0], 700.0))
        q = (1.0 - c) * y + c * mu
        total = float(s @ (xlogy(q, q) - q))
        if offset is not None:
            total += float(c * np.sum(s * (y - mu) * offset))
        return total


def _hessian_blocks(x, ws, H, cross):
    """The Hessian of the loss in the working set's coefficients and the intercepts, the
    rows of ``X_ws`` augmented by a column of ones, by sub-blocks of rows so the temporaries
    stay small. Its diagonal blocks ``[X_ws, 1]^T diag(H_k) [X_ws, 1]`` have the curvatures
    ``H`` (``K x n``) as weights: shape ``(K, m+1, m+1)`` without ``cross``. With ``cross``
    (``(P s, P)``, multinomial) the exact Hessian, of shape ``(K (m+1), K (m+1))`` (class
    ``k``'s coordinates at ``k (m+1) + c``), whose block ``(k, l)`` has the weights
    ``s p_k (delta_kl - p_l)``: ``>= 0`` on the diagonal, ``<= 0`` off it, so every block is
    a symmetric rank-k update. The kernels' per-class (block-diagonal) model takes many more
    Newton steps (76 instead of 6 on a 3-class problem), each a pass here; it is used only
    when the exact Hessian would exceed ``_EXACT_MULTINOMIAL`` rows."""
    K, n = H.shape
    m = ws.shape[0]
    exact = cross is not None and K * (m + 1) <= _EXACT_MULTINOMIAL
    every = m == x.shape[1] and np.array_equal(ws, np.arange(m))  # no copy of the columns
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
        for k in range(K):
            _syrk_update(M[k, :, k], xs, H[k, start:start + step], 1.0, root_buffer)
            for j in range(k + 1, K if exact else 0):
                _syrk_update(M[k, :, j], xs, cross[0][k, start:start + step]
                             * cross[1][j, start:start + step], -1.0, root_buffer)
    for k in range(K):
        M[k, :, k] = _symmetric(M[k, :, k])
        for j in range(k + 1, K if exact else 0):  # block (j, k) is block (k, j) transposed
            M[k, :, j] = _symmetric(M[k, :, j])
            M[j, :, k] = M[k, :, j]
    if exact:
        return M.reshape(K * (m + 1), K * (m + 1))
    return np.stack([M[k, :, k] for k in range(K)])


def _block_pass(block, datafit, fold, point, request):
    """The sums of one row block for a pass (:mod:`fastl1._dask_logistic`): ``block`` is
    ``(x, y, w, offset, folds)`` (None for an absent part; ``folds`` the rows' fold
    membership, ``(rows, n_folds)``, bit 1 for a training row), ``fold`` None (all rows) or
    the fold whose training rows the fit is on (the others get weight 0), ``point`` is
    ``(W, b)``, ``request`` a dict with optional ``direction`` ``(ws, D, Db, steps)``,
    ``hessian`` (working-set indices), ``intercept_hessian`` (bool) and ``conjugate`` (a
    scaling ``c``). BLAS runs on one
    thread: the blocks are the parallel work."""
    from ._blas import blas_on_one_thread

    # Start Numba's threading layer before a cached kernel runs (see fastl1._dask).
    numba.get_num_threads()
    x_block, y_block, w_block, o_block, folds = block
    y, s = datafit.rows(y_block, w_block)
    if fold is not None:
        s = s * ((np.asarray(folds)[:, fold] & TRAIN) != 0)
    offset = None if o_block is None else np.asarray(o_block, dtype=np.float64)
    with blas_on_one_thread():
        return _block_sums(_design(x_block), y, s, offset, datafit, *point, request)


def _block_sums(x, y, s, offset, datafit, W, b, request):
    K, n, p = W.shape[0], x.shape[0], x.shape[1]
    A, empty = x.T, np.empty(0, dtype=x.dtype)
    Z = np.empty((K, n))
    linear_predictor(A, empty, _EMPTY_INDEX, _EMPTY_INDEX, True, W, b, Z)
    if offset is not None:
        Z += offset
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
            losses[i] = datafit.loss(Z + t * Xd, y, s, R, None)
            slopes[i] = np.sum(R * Xd)
        out["losses"], out["slopes"] = losses, slopes
        Z += steps[0] * Xd  # the point of the full evaluation below
    if request.get("conjugate") is not None:
        out["conjugate"] = datafit.conjugate(Z, y, s, request["conjugate"], offset)
        return out
    H = np.empty((K, n))
    out["loss"] = datafit.loss(Z, y, s, R, H)
    G = np.empty((K, p))
    full_gradient(A, empty, _EMPTY_INDEX, _EMPTY_INDEX, True, R, G, False)
    out.update(G=G, rsum=R.sum(axis=1), r2=float(np.sum(R * R)))
    if request.get("hessian") is not None:
        out["M"] = _hessian_blocks(x, request["hessian"], H, datafit.cross_weights(Z, s))
    if request.get("intercept_hessian"):
        out["bh"] = datafit.intercept_hessian(Z, s, H)
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


def _block_counts(x_block, y_block, w_block, o_block):
    """A Poisson fit's first pass over one block: the checks of its values and the sums of
    the null model (:func:`fastl1.poisson._null_model`): ``sum w``, ``sum w y``,
    ``sum w exp(o)``, ``sum w y log y``, ``sum w y o``."""
    x = np.asarray(x_block)
    y = np.asarray(y_block, dtype=np.float64).reshape(-1)
    w = np.ones(y.shape[0]) if w_block is None else np.asarray(w_block, dtype=np.float64)
    o = np.zeros(y.shape[0]) if o_block is None else np.asarray(o_block, dtype=np.float64)
    y_finite = bool(np.isfinite(y).all())
    with np.errstate(over="ignore", invalid="ignore"):
        sums = np.array([w.sum(), w @ y, w @ np.exp(o), w @ xlogy(y, y), w @ (y * o)])
    return {"sums": sums, "count": y.shape[0],
            "x_finite": bool(np.isfinite(x).all()),
            "x_max": float(np.abs(x).max()) if x.size else 0.0,
            "y_finite": y_finite, "y_negative": int(np.sum(y < 0)),
            "w_finite": bool(np.isfinite(w).all()),
            "w_min": float(w.min()) if w.size else np.inf,
            "o_finite": bool(np.isfinite(o).all())}


def _merge_counts(*parts):
    out = {"sums": sum(part["sums"] for part in parts),
           "count": sum(part["count"] for part in parts),
           "y_negative": sum(part["y_negative"] for part in parts),
           "x_max": max(part["x_max"] for part in parts),
           "w_min": min(part["w_min"] for part in parts)}
    for key in ("x_finite", "y_finite", "w_finite", "o_finite"):
        out[key] = all(part[key] for part in parts)
    return out


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
