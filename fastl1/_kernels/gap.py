"""Duality gap of the elastic net (scikit-learn's scaling), with per-feature penalty factors
and bounds.

Primal, for the centred and weighted problem (``S = diag(sw)``, ``sum(sw) = n``)::

    P(w) = 1/2 r^T S r + sum_j f_j (l1_reg |w_j| + l2_reg / 2 w_j^2),   r = y_c - X_c w,

subject to ``lower <= w <= upper`` (:mod:`.penalty`), with ``l1_reg = n * alpha * l1_ratio``
and ``l2_reg = n * alpha * (1 - l1_ratio)``: ``n`` times the estimator's objective. The dual
point is the rescaled residual ``theta = s * r`` with ``s = min(1, l1_reg / ||X_c^T S r -
l2_reg w||_inf)`` for the plain penalty ("formulation A" of scikit-learn's ``_cd_fast.pyx``;
Ndiaye et al., JMLR 2017, eq. 4), so the gap is the one scikit-learn reports and stops on;
:func:`gap_from_statistics` gives the general case. Every solver computes the same three
statistics, ``r^T S r``, ``r^T S y_c`` and ``X_c^T S r``, however it holds the data, and hands
them here.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from . import JIT_OPTIONS
from .design import gradient, gradient_parallel, residual_offset, weighted_dot, weighted_sum
from .penalty import bounded_conjugate, entering_correlation, l1_of, unbounded_excess_ratio

#: The unpenalised features' data for the dual point of a squared-loss fit (see
#: :func:`gap_from_statistics`): ``index`` (k,) the features with factor 0; ``cross`` (p, k)
#: ``X_c^T S X_c[:, index]``; ``cross_y`` (k,) ``X_c[:, index]^T S y_c``. k = 0: none. The
#: squared-loss solver takes None instead when there are none, so that Numba compiles the
#: projection only for fits that have unpenalised features.
Unpenalised = namedtuple("Unpenalised", ["index", "cross", "cross_y"])


@njit(**JIT_OPTIONS)
def _free_projection(free, w, grad, penalty):
    """Coefficients ``c`` such that ``r - X_F c`` is orthogonal (in ``S``) to the columns
    ``X_F`` of the unpenalised features ``F``: an unpenalised, unbounded feature's dual
    constraint is ``x_j^T theta = 0``, which no rescaling of the residual satisfies, so the
    dual point is the residual with its projection on ``X_F`` removed (the intercept's
    centring, for more columns). Features held at a bound by their gradient are left out of
    ``F`` (their constraint there is one-sided). Returns ``(c, projected)``, ``projected[a]``
    saying whether ``free.index[a]`` was used."""
    k = free.index.shape[0]
    coef = np.zeros(k)
    projected = np.zeros(k, dtype=np.bool_)
    keep = np.empty(k, dtype=np.int64)
    m = 0
    for a in range(k):
        j = free.index[a]
        if (w[j] >= penalty.upper[j] and grad[j] > 0.0) or \
                (w[j] <= penalty.lower[j] and grad[j] < 0.0):
            continue
        keep[m] = a
        m += 1
    if m == 0:
        return coef, projected
    system = np.empty((m, m))
    rhs = np.empty(m)
    trace = 0.0
    for a in range(m):
        rhs[a] = grad[free.index[keep[a]]]
        for b in range(m):
            system[a, b] = free.cross[free.index[keep[a]], keep[b]]
        trace += system[a, a]
    try:
        solution = np.linalg.solve(system, rhs)
    except Exception:  # noqa: BLE001 - collinear unpenalised columns: a minimal ridge
        for a in range(m):
            system[a, a] += 1e-10 * trace / m
        solution = np.linalg.solve(system, rhs)
    for a in range(m):
        coef[keep[a]] = solution[a]
        projected[keep[a]] = True
    return coef, projected


@njit(**JIT_OPTIONS)
def gap_from_statistics(w, grad, features, r_norm2, r_dot_y, penalty, free):
    """Duality gap from ``r^T S r``, ``r^T S y_c`` and ``grad = X_c^T S r``.

    Only the coordinates in ``features`` are read: all of them (``np.arange(p)``, read as
    contiguous passes) for the gap of the full problem, a working set for the gap of the
    problem restricted to it (``w`` must vanish outside ``features``, which hold every
    unpenalised feature). ``penalty`` is the per-feature penalty (:mod:`.penalty`), ``free``
    the unpenalised features' data (:data:`Unpenalised`).

    The dual point is ``theta = s (r - X_F c)`` (``c``: :func:`_free_projection`, none
    without unpenalised features), with ``s <= 1`` the largest scale at which every
    constraint on an unbounded side holds; a feature past its threshold on a side with a
    finite bound instead adds its conjugate ``max(upper (v - l1_j), lower (v + l1_j))`` to
    the dual (:func:`.penalty.bounded_conjugate`). With a ridge term the problem is a lasso on
    augmented data (scikit-learn's formulation A), so ``v_j = x_j^T theta - l2_j w_j``.
    Returns ``(gap, dual_norm)``, ``dual_norm = l1_reg / s`` (the scale of the dual point for
    screening); for the ridge and least-squares cases as scikit-learn (formulation B).
    """
    if free is None:  # (known when compiling: no unpenalised feature)
        if not penalty.bounded and penalty.l1_reg > 0.0:
            return _unbounded_gap(w, grad, features, r_norm2, r_dot_y, penalty)
    every = features.shape[0] == w.shape[0]  # then features[k] == k
    m = features.shape[0]
    l1_reg = penalty.l1_reg
    l2_reg = penalty.l2_reg
    w_l1 = 0.0
    w_l2 = 0.0
    for k in range(m):
        j = k if every else features[k]
        w_l1 += penalty.factor[j] * abs(w[j])
        w_l2 += penalty.factor[j] * w[j] * w[j]
    coef = np.zeros(0, dtype=np.float64)
    projected = np.zeros(0, dtype=np.bool_)
    proj_norm2 = r_norm2
    proj_dot_y = r_dot_y
    if free is not None:  # (None: no unpenalised feature, known when compiling)
        coef, projected = _free_projection(free, w, grad, penalty)
        for a in range(coef.shape[0]):
            if projected[a]:
                proj_dot_y -= coef[a] * free.cross_y[a]
                proj_norm2 -= 2.0 * coef[a] * grad[free.index[a]]
                for b in range(coef.shape[0]):
                    proj_norm2 += coef[a] * coef[b] * free.cross[free.index[a], b]
    if l1_reg == 0.0:
        return _ridge_gap(w, grad, features, r_norm2, proj_norm2, proj_dot_y, penalty, free,
                          coef, projected, w_l2)
    # The scale s of the dual point; any s gives a lower bound, the best of three counts:
    # the largest s at which the constraints on unbounded sides hold (features past a
    # finite bound pay its conjugate); the largest at which every constraint holds (no
    # conjugate: large finite bounds make them costly); and the largest at which those of
    # the features not at their bound hold (at the optimum, the features held by a bound
    # have large correlations, the others at most their threshold).
    ratio = 1.0
    ratio_all = 1.0
    ratio_inside = 1.0
    for k in range(m):
        j = k if every else features[k]
        v = _dual_correlation(j, w, grad, penalty, free, coef, projected)
        ratio = max(ratio, unbounded_excess_ratio(penalty, j, v))
        threshold = l1_of(penalty, j)
        if entering_correlation(penalty, j, v) > threshold:
            excess_ratio = abs(v) / threshold if threshold > 0.0 else np.inf
            ratio_all = max(ratio_all, excess_ratio)
            if (v > 0.0 and w[j] < penalty.upper[j]) or (v < 0.0 and w[j] > penalty.lower[j]):
                ratio_inside = max(ratio_inside, excess_ratio)
    primal = 0.5 * (r_norm2 + l2_reg * w_l2) + l1_reg * w_l1
    best = -np.inf
    best_ratio = ratio
    for index, candidate in enumerate((ratio, ratio_all, ratio_inside)):
        if (index == 1 and candidate == ratio) or \
                (index == 2 and (candidate == ratio or candidate == ratio_all)):
            continue  # (the same scale again: without bounds, one pass)
        scale = 1.0 / candidate
        conjugates = 0.0
        for k in range(m):
            j = k if every else features[k]
            v = _dual_correlation(j, w, grad, penalty, free, coef, projected)
            conjugates += bounded_conjugate(penalty, j, scale * v)
        dual = -0.5 * scale * scale * (proj_norm2 + l2_reg * w_l2) + scale * proj_dot_y \
            - conjugates
        if dual > best:
            best = dual
            best_ratio = candidate
    return primal - best, l1_reg * best_ratio


@njit(**JIT_OPTIONS)
def _unbounded_gap(w, grad, features, r_norm2, r_dot_y, penalty):
    """:func:`gap_from_statistics` without bounds or unpenalised features, in one pass:
    formulation A with the scale ``s = min(1, min_j l1_j / |grad_j - l2_j w_j|)``."""
    every = features.shape[0] == w.shape[0]
    w_l1 = 0.0
    w_l2 = 0.0
    ratio = 1.0  # max_j |grad_j - l2_j w_j| / (l1_reg f_j), at least 1
    l1_reg = penalty.l1_reg
    l2_reg = penalty.l2_reg
    factor = penalty.factor
    for k in range(features.shape[0]):
        j = k if every else features[k]
        f = factor[j]
        w_l1 += f * abs(w[j])
        w_l2 += f * w[j] * w[j]
        v = abs(grad[j] - l2_reg * f * w[j])
        if v > ratio * l1_reg * f:  # (f = 0 cannot occur here: no unpenalised feature)
            ratio = v / (l1_reg * f)
    scale = 1.0 / ratio
    primal = 0.5 * (r_norm2 + l2_reg * w_l2) + l1_reg * w_l1
    dual = -0.5 * scale * scale * (r_norm2 + l2_reg * w_l2) + scale * r_dot_y
    return primal - dual, l1_reg * ratio


@njit(inline="always", **JIT_OPTIONS)
def _dual_correlation(j, w, grad, penalty, free, coef, projected):
    """``x_j^T (r - X_F c) - l2_j w_j`` (0 for a feature of the projection itself, whose
    correlation vanishes up to rounding)."""
    v = grad[j] - penalty.l2_reg * penalty.factor[j] * w[j]
    if free is not None:
        for a in range(coef.shape[0]):
            if projected[a]:
                if free.index[a] == j:
                    return 0.0
                v -= free.cross[j, a] * coef[a]
    return v


@njit(**JIT_OPTIONS)
def _ridge_gap(w, grad, features, r_norm2, proj_norm2, proj_dot_y, penalty, free, coef,
               projected, w_l2):
    """The gap without an L1 term (formulation B: dual point ``r - X_F c``, dual objective
    with the ridge term and the bounds' conjugates); the squared gradient norm for least
    squares (no dual gap: the first-order condition stands in)."""
    every = features.shape[0] == w.shape[0]
    grad_norm2 = 0.0
    for k in range(features.shape[0]):
        j = k if every else features[k]
        grad_norm2 += grad[j] * grad[j]
    l2_reg = penalty.l2_reg
    if l2_reg == 0.0:
        return grad_norm2, grad_norm2
    conjugates = 0.0
    for k in range(features.shape[0]):
        j = k if every else features[k]
        v = _dual_correlation(j, w, grad, penalty, free, coef, projected) \
            + l2_reg * penalty.factor[j] * w[j]
        l2_j = l2_reg * penalty.factor[j]
        if l2_j == 0.0:
            if v != 0.0:
                return np.inf, grad_norm2  # (held at a bound by its gradient: no dual here)
            continue
        best = min(max(v / l2_j, penalty.lower[j]), penalty.upper[j])
        conjugates += v * best - 0.5 * l2_j * best * best
    gap = 0.5 * r_norm2 + 0.5 * l2_reg * w_l2 - proj_dot_y + 0.5 * proj_norm2 + conjugates
    return gap, grad_norm2


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
               penalty, free, features, grad, parallel):
    """Duality gap of ``w`` for a dense or CSC design, over ``features`` (see
    :func:`gap_from_statistics`); fills ``grad[features]`` with ``X_c^T S r``, on Numba's
    threads if ``parallel``."""
    r_norm2, r_dot_y = residual_statistics(indptr, y_centred, sw, sw_sum, x_mean, w, r, r_sum,
                                           features)
    if parallel:
        gradient_parallel(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
    else:
        gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
    return gap_from_statistics(w, grad, features, r_norm2, r_dot_y, penalty, free)


@njit(**JIT_OPTIONS)
def gram_gap(gram, xty, y_norm2, w, gram_w, penalty, free, features, grad):
    """Duality gap from the Gram matrix ``G = X_c^T S X_c``, ``xty = X_c^T S y_c``,
    ``y_norm2 = y_c^T S y_c`` and ``gram_w = G w``; fills ``grad`` with ``xty - G w``."""
    if gram is None:  # (no Gram matrix: never called, compiled as a stub)
        return 0.0, 0.0
    w_xty = 0.0
    w_gw = 0.0
    for j in features:
        grad[j] = xty[j] - gram_w[j]
        w_xty += w[j] * xty[j]
        w_gw += w[j] * gram_w[j]
    r_norm2 = y_norm2 - 2.0 * w_xty + w_gw
    r_dot_y = y_norm2 - w_xty
    return gap_from_statistics(w, grad, features, r_norm2, r_dot_y, penalty, free)
