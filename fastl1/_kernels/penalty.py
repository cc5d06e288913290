"""The elastic-net penalty with per-feature factors and bounds, as every datafit's solver
reads it.

For feature ``j`` the penalty is ``l1_reg * f_j * |w_j| + l2_reg * f_j / 2 * w_j^2`` with
``lower_j <= w_j <= upper_j`` (``lower_j <= 0 <= upper_j``; ``f_j = 0`` leaves ``w_j``
unpenalised). ``l1_reg`` and ``l2_reg`` are in the datafit's own scale (``n`` times the
estimator's for squared loss). The solvers call only the functions of this module on it:
the coordinate update, the threshold a correlation must pass to enter, and the convex
conjugate that the duality gaps need.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from . import JIT_OPTIONS
from .prox import soft_threshold

#: ``l1_reg``, ``l2_reg``: floats; ``factor``, ``lower``, ``upper``: float64 arrays (p,);
#: ``bounded``: whether any bound is finite (False lets the gaps skip the bounds' conjugates:
#: a pass over the features per gap, which on wide data costs as much as the gradient).
Penalty = namedtuple("Penalty", ["l1_reg", "l2_reg", "factor", "lower", "upper", "bounded"])


def plain_penalty(l1_reg, l2_reg, n_features, positive=False):
    """Factors 1 and no bounds (lower bound 0 with ``positive``): the scalar elastic net."""
    lower = np.zeros(n_features) if positive else np.full(n_features, -np.inf)
    return Penalty(float(l1_reg), float(l2_reg), np.ones(n_features), lower,
                   np.full(n_features, np.inf), bool(positive))


@njit(inline="always", **JIT_OPTIONS)
def l1_of(penalty, j):
    """The L1 strength of feature ``j`` (the correlation it must exceed to leave zero)."""
    return penalty.l1_reg * penalty.factor[j]


@njit(inline="always", **JIT_OPTIONS)
def l2_of(penalty, j):
    """The ridge strength of feature ``j``."""
    return penalty.l2_reg * penalty.factor[j]


@njit(inline="always", **JIT_OPTIONS)
def coordinate_update(penalty, j, w_j, grad_j, norm2_j):
    """Exact minimiser along coordinate ``j`` of ``1/2 ||r||^2 + penalty_j(w_j)``.

    ``grad_j = x_j^T r`` (negative gradient of the datafit), ``norm2_j = ||x_j||^2 > 0``
    (Friedman, Hastie & Tibshirani 2010, eq. 5). The box holds zero, so the bounded
    minimiser of the one-dimensional convex problem is the clipped unbounded one.
    """
    factor = penalty.factor[j]
    z = grad_j + w_j * norm2_j
    w = soft_threshold(z, penalty.l1_reg * factor) / (norm2_j + penalty.l2_reg * factor)
    if not penalty.bounded:
        return w
    return min(max(w, penalty.lower[j]), penalty.upper[j])


@njit(inline="always", **JIT_OPTIONS)
def clip(penalty, j, w_j):
    """``w_j`` projected on feature ``j``'s bounds."""
    return min(max(w_j, penalty.lower[j]), penalty.upper[j])


@njit(inline="always", **JIT_OPTIONS)
def excess(penalty, j, v):
    """How far the correlation ``v`` of a feature at zero passes its threshold, on a side
    where the coefficient can move (0 if it cannot enter)."""
    threshold = penalty.l1_reg * penalty.factor[j]
    if not penalty.bounded:
        return max(abs(v) - threshold, 0.0)
    if v > threshold and penalty.upper[j] > 0.0:
        return v - threshold
    if v < -threshold and penalty.lower[j] < 0.0:
        return -v - threshold
    return 0.0


@njit(inline="always", **JIT_OPTIONS)
def entering_correlation(penalty, j, v):
    """The correlation ``v`` of feature ``j`` as seen from the sides where it can leave
    zero: ``|v|`` with both open, ``v`` with only the upper one (a lower bound of 0: only
    positive correlations can enter), ``-v`` with only the lower one, ``-inf`` for a feature
    fixed at zero."""
    up = penalty.upper[j] > 0.0
    down = penalty.lower[j] < 0.0
    if up and down:
        return abs(v)
    if up:
        return v
    if down:
        return -v
    return -np.inf


@njit(**JIT_OPTIONS)
def penalty_value(penalty, w, features):
    """``sum_j l1_j |w_j| + l2_j / 2 w_j^2`` over ``features``."""
    total = 0.0
    for j in features:
        factor = penalty.factor[j]
        total += factor * (penalty.l1_reg * abs(w[j]) + 0.5 * penalty.l2_reg * w[j] * w[j])
    return total


@njit(inline="always", **JIT_OPTIONS)
def bounded_conjugate(penalty, j, v):
    """Convex conjugate of feature ``j``'s L1 term and bounds at ``v``, for a correlation
    that passes the threshold on a side with a finite bound (elsewhere it is 0, or infinite
    where the side is unbounded: the dual point is then scaled instead).

    ``sup_{lower <= w <= upper} v w - l1_j |w| = max(0, upper (v - l1_j), lower (v + l1_j))``.
    """
    threshold = penalty.l1_reg * penalty.factor[j]
    if v > threshold:
        return penalty.upper[j] * (v - threshold) if penalty.upper[j] < np.inf else 0.0
    if v < -threshold:
        return penalty.lower[j] * (v + threshold) if penalty.lower[j] > -np.inf else 0.0
    return 0.0


@njit(inline="always", **JIT_OPTIONS)
def unbounded_excess_ratio(penalty, j, v):
    """``|v| / l1_j`` when ``v`` passes the threshold on an unbounded side (the factor by
    which the dual point must shrink to satisfy this feature's constraint), else 0;
    ``inf`` for an unpenalised feature with a non-zero correlation there."""
    threshold = penalty.l1_reg * penalty.factor[j]
    if v > threshold and penalty.upper[j] == np.inf:
        return v / threshold if threshold > 0.0 else np.inf
    if v < -threshold and penalty.lower[j] == -np.inf:
        return -v / threshold if threshold > 0.0 else np.inf
    return 0.0
