"""Duality gap of the elastic net (scikit-learn's scaling).

Primal, for the centred and weighted problem (``S = diag(sw)``, ``sum(sw) = n``)::

    P(w) = 1/2 r^T S r + l1_reg ||w||_1 + l2_reg / 2 ||w||^2,   r = y_c - X_c w,

with ``l1_reg = n * alpha * l1_ratio`` and ``l2_reg = n * alpha * (1 - l1_ratio)``: ``n`` times
the estimator's objective. The dual point is the rescaled residual ``theta = s * r`` with
``s = min(1, l1_reg / ||X_c^T S r - l2_reg w||_inf)`` ("formulation A" of scikit-learn's
``_cd_fast.pyx``; Ndiaye et al., JMLR 2017, eq. 4), so the gap is the one scikit-learn reports
and stops on. Every solver computes the same three statistics, ``r^T S r``, ``r^T S y_c`` and
``X_c^T S r``, however it holds the data, and hands them here.
"""

from numba import njit

from . import JIT_OPTIONS
from .design import gradient, gradient_parallel, residual_offset, weighted_dot, weighted_sum


@njit(**JIT_OPTIONS)
def gap_from_statistics(w, grad, features, r_norm2, r_dot_y, l1_reg, l2_reg, positive):
    """Duality gap from ``r^T S r``, ``r^T S y_c`` and ``grad = X_c^T S r``.

    Only the coordinates in ``features`` are read: all of them (``np.arange(p)``, read as
    contiguous passes) for the gap of the full problem, a working set for the gap of the
    problem restricted to it (``w`` must vanish outside ``features``). Returns ``(gap,
    dual_norm)`` where ``dual_norm`` is the dual norm of ``grad - l2_reg * w`` (for the ridge
    and least-squares cases, its squared Euclidean norm, as scikit-learn).
    """
    every = features.shape[0] == w.shape[0]  # then features[k] == k
    m = features.shape[0]
    w_l1 = 0.0
    w_l2 = 0.0
    for k in range(m):
        j = k if every else features[k]
        w_l1 += abs(w[j])
        w_l2 += w[j] * w[j]
    if l1_reg == 0.0:
        grad_norm2 = 0.0
        for k in range(m):
            j = k if every else features[k]
            grad_norm2 += grad[j] * grad[j]
        if l2_reg == 0.0:
            # Least squares: no dual gap; fall back to the first-order condition.
            return grad_norm2, grad_norm2
        # Ridge: "formulation B" (dual point r, dual objective with the l2 term).
        gap = r_norm2 + 0.5 * l2_reg * w_l2 - r_dot_y + grad_norm2 / (2.0 * l2_reg)
        return gap, grad_norm2
    dual_norm = 0.0
    for k in range(m):
        j = k if every else features[k]
        v = grad[j] - l2_reg * w[j]
        if not positive:
            v = abs(v)
        if v > dual_norm:
            dual_norm = v
    scale = 1.0
    if dual_norm > l1_reg:
        scale = l1_reg / dual_norm
    primal = 0.5 * (r_norm2 + l2_reg * w_l2) + l1_reg * w_l1
    dual = -0.5 * scale * scale * (r_norm2 + l2_reg * w_l2) + scale * r_dot_y
    return primal - dual, dual_norm


@njit(**JIT_OPTIONS)
def centred_r_norm2(indptr, sw, sw_sum, x_mean, w, r, r_sum, features):
    """``r_c^T S r_c`` of the centred residual ``r_c = r + offset`` (offset: see
    :func:`.design.residual_offset`), expanding the weighted sums rather than forming it."""
    return _centred_r_norm2(sw, sw_sum, r, r_sum, residual_offset(indptr, x_mean, w, features))


@njit(**JIT_OPTIONS)
def _centred_r_norm2(sw, sw_sum, r, r_sum, offset):
    return weighted_dot(r, r, sw) + 2.0 * offset * r_sum + offset * offset * sw_sum


@njit(**JIT_OPTIONS)
def residual_statistics(indptr, y_centred, sw, sw_sum, x_mean, w, r, r_sum, features):
    """``(r_c^T S r_c, r_c^T S y_c)`` for the centred residual (see :func:`centred_r_norm2`)."""
    offset = residual_offset(indptr, x_mean, w, features)
    r_dot_y = weighted_dot(r, y_centred, sw) + offset * weighted_sum(y_centred, sw)
    return _centred_r_norm2(sw, sw_sum, r, r_sum, offset), r_dot_y


@njit(**JIT_OPTIONS)
def design_gap(X, data, indices, indptr, y_centred, sw, sw_sum, x_mean, w, r, r_sum,
               l1_reg, l2_reg, positive, features, grad, parallel=False):
    """Duality gap of ``w`` for a dense or CSC design, over ``features`` (see
    :func:`gap_from_statistics`); fills ``grad[features]`` with ``X_c^T S r``, on Numba's
    threads if ``parallel``."""
    r_norm2, r_dot_y = residual_statistics(indptr, y_centred, sw, sw_sum, x_mean, w, r, r_sum,
                                           features)
    if parallel:
        gradient_parallel(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
    else:
        gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
    return gap_from_statistics(w, grad, features, r_norm2, r_dot_y, l1_reg, l2_reg, positive)


@njit(**JIT_OPTIONS)
def gram_gap(gram, xty, y_norm2, w, gram_w, l1_reg, l2_reg, positive, features, grad):
    """Duality gap from the Gram matrix ``G = X_c^T S X_c``, ``xty = X_c^T S y_c``,
    ``y_norm2 = y_c^T S y_c`` and ``gram_w = G w``; fills ``grad`` with ``xty - G w``."""
    w_xty = 0.0
    w_gw = 0.0
    for j in features:
        grad[j] = xty[j] - gram_w[j]
        w_xty += w[j] * xty[j]
        w_gw += w[j] * gram_w[j]
    r_norm2 = y_norm2 - 2.0 * w_xty + w_gw
    r_dot_y = y_norm2 - w_xty
    return gap_from_statistics(w, grad, features, r_norm2, r_dot_y, l1_reg, l2_reg, positive)
