"""Block coordinate descent for group penalties: multi-task and group lasso on one kernel.

The coefficients are ``W`` of shape ``(T, p)`` (``T`` tasks, scikit-learn's ``coef_``
layout, each task's row contiguous), the features are cut into groups (``Groups``: the
features of group ``g`` are ``features[ptr[g]:ptr[g + 1]]``) and a block ``W_g`` is the
columns of ``W`` of group ``g``'s features, all tasks together. The problem, ``n`` times the
estimators' objective (``S = diag(sw)``, ``sum(sw) = n``, implicit centring as in
:mod:`.design`)::

    P(W) = 1/2 sum_t ||y_t - X_c w_t||_S^2 + sum_g f_g (l1_reg ||W_g||_F + l2_reg/2 ||W_g||_F^2)

plus ``l1_within sum |W|`` for the sparse group lasso. Multi-task lasso: singleton groups,
``T`` tasks (the L2,1 norm of scikit-learn's ``MultiTaskElasticNet``). Group lasso: groups of
features, ``T = 1``. Both at once: the multi-task group lasso.

A block's update is a proximal-gradient step with the block's Lipschitz constant ``L_g``,
the largest eigenvalue of ``X_g,c^T S X_g,c`` (:func:`ensure_lipschitz`; ``||x_j||_S^2`` for a
singleton, where the step is the exact block minimiser): with ``Z = W_g + X_g,c^T S R / L_g``,
``W_g <- BST(Z, l1_reg f_g / L_g) / (1 + l2_reg f_g / L_g)``, ``BST`` the block
soft-thresholding ``Z max(0, 1 - threshold / ||Z||_F)`` (Yuan & Lin, JRSS-B 2006; Qin,
Scheinberg & Goldfarb, Math. Prog. Comp. 2013, for the step); with a within-group L1, ``Z``
is soft-thresholded by ``l1_within / L_g`` entry by entry first (the proximal operator of
the sum, Simon, Friedman, Hastie & Tibshirani, JCGS 2013).

The outer loop is :func:`.cd.enet_cd`'s, with blocks for coordinates: the full gradient
certifies the problem by its duality gap, the groups are ranked by their block dual norm
``||X_g,c^T S R||_F / f_g`` (the correlation a block's norm must pass to leave zero is
``l1_reg``), and a working set of the best (:func:`.working_set.working_set_from_scores`,
:func:`.working_set.working_set_growth`) is solved by epochs, with Anderson extrapolation
(:func:`.working_set.anderson_weights`), until its restricted gap is a fraction of the full
one.

Duality gap (scikit-learn's ``enet_coordinate_descent_multi_task``, "formulation A": the
ridge term as augmented data): the dual point is ``theta = s R`` with ``s = min(1, l1_reg /
max_g ||X_g,c^T S R - l2_reg f_g W_g||_F / f_g)``; groups with ``f_g = 0`` (unpenalised)
have the dual constraint ``X_g,c^T theta = 0``, which no scaling gives, so ``R`` is first
projected off their columns (as :func:`.gap.gap_from_statistics` does for single features).
"""

from collections import namedtuple

import numpy as np
from numba import literally, njit, prange

from . import JIT_OPTIONS
from .cd import GAP_CHECK_EVERY, SUPPORT_SWEEP_SHARE, _pick
from .design import (
    column_dot,
    column_dot_as,
    column_update,
    gradient,
    gradient_parallel,
    init_residual,
    layout_flags,
    residual_offset,
    sparse_design,
    weighted_dot,
    weighted_sum,
    worth_threads,
)
from .gap import residual_statistics
from .prox import soft_threshold
from .working_set import (
    anderson_weights,
    solve_small,
    working_set_from_scores,
    working_set_growth,
)

#: The groups: ``ptr`` (G + 1,) and ``features`` (int64) as above, ``lipschitz`` (G,) the
#: blocks' Lipschitz constants (0 for a group of constant columns, never updated; -1 for one
#: not computed yet: :func:`ensure_lipschitz` computes it, in place, when the group first
#: enters a working set) and ``trace`` (G,) the sum of the group's squared centred column
#: norms, an upper bound of its Lipschitz constant that costs nothing (0: constant columns).
Groups = namedtuple("Groups", ["ptr", "features", "lipschitz", "trace"])
#: ``l1_reg``, ``l2_reg`` (floats, ``n`` times the estimator's), ``weight`` (G,), the
#: groups' non-negative factors ``f_g`` (0: unpenalised) and ``l1_within``, the L1 strength
#: on every coefficient of the sparse group lasso (0: none; needs ``l1_reg > 0``).
BlockPenalty = namedtuple("BlockPenalty", ["l1_reg", "l2_reg", "weight", "l1_within"])
#: The solver's settings: epochs budget ``max_iter``, ``tol`` (relative to ``sum_t
#: ||y_t||_S^2``, scikit-learn's rule), ``random`` group order with ``seed``,
#: ``working_sets`` starting at ``ws_start`` groups, Anderson extrapolation every
#: ``anderson_k + 1`` epochs (0: none), ``parallel`` gradients on Numba's threads.
BlockOptions = namedtuple("BlockOptions", ["max_iter", "tol", "random", "seed", "working_sets",
                                           "ws_start", "anderson_k", "parallel"])
#: A gradient kept for bounding later ones (:func:`bounded_gradients`): ``grad`` (T, p) the
#: exact ``X_c^T S R_c`` at the centred residuals ``residual`` (T, n), valid when
#: ``state[0]`` is 1. It depends on the design and the targets only, so a path hands it from
#: one alpha to the next. ``state[1:4]`` count, for diagnostics, the full gradients, the
#: bounded ones and the features these computed.
BlockReference = namedtuple("BlockReference", ["grad", "residual", "state"])
#: The unpenalised groups' features for the dual point: ``index`` (k,), ``cross`` (p, k)
#: ``X_c^T S X_c[:, index]`` and ``cross_y`` (T, k) ``X_c[:, index]^T S y_t`` (float64).
#: The solver takes None instead when there are none (nothing compiled for them).
BlockFree = namedtuple("BlockFree", ["index", "cross", "cross_y"])

# Power iterations for a group's Lipschitz constant stop at this relative change; the result
# (a lower bound of the eigenvalue, converging from below) is raised by LIPSCHITZ_MARGIN so
# that the step never exceeds the safe 1 / L.
_POWER_TOL = 1e-12
_POWER_ITER = 1000
LIPSCHITZ_MARGIN = 1.0 + 1e-6


@njit(**JIT_OPTIONS)
def largest_eigenvalue(gram):
    """Largest eigenvalue of a small symmetric positive semi-definite matrix, by power
    iteration (``||A v||`` for a unit ``v``, from below)."""
    m = gram.shape[0]
    v = np.empty(m)
    for a in range(m):  # not a constant vector: it could be orthogonal to the top one
        v[a] = 1.0 + a / m
    v /= np.sqrt(np.sum(v * v))
    value = 0.0
    u = np.empty(m)
    for _ in range(_POWER_ITER):
        norm2 = 0.0
        for a in range(m):
            acc = 0.0
            for b in range(m):
                acc += gram[a, b] * v[b]
            u[a] = acc
            norm2 += acc * acc
        norm = np.sqrt(norm2)
        if norm == 0.0:
            return 0.0
        for a in range(m):
            v[a] = u[a] / norm
        if abs(norm - value) <= _POWER_TOL * norm:
            return norm
        value = norm
    return value


@njit(**JIT_OPTIONS)
def _group_gram(X, data, indices, indptr, sw, x_mean, columns, buffer):
    """``X_c[:, columns]^T S X_c[:, columns]`` (float64), each column scattered once into
    ``buffer`` (zeros, length n; left zero) and dotted with the others: no copy of X."""
    m = columns.shape[0]
    gram = np.empty((m, m))
    for b in range(m):
        k = columns[b]
        # buffer = x_k - mean_k (dense) or x_k (sparse: the mean enters through its total)
        column_update(X, data, indices, indptr, k, -1.0, x_mean[k], buffer)
        total = weighted_sum(buffer, sw)
        for a in range(b, m):
            j = columns[a]
            value = column_dot(X, data, indices, indptr, j, buffer, sw) - x_mean[j] * total
            gram[a, b] = value
            gram[b, a] = value
        column_update(X, data, indices, indptr, k, 1.0, x_mean[k], buffer)
    return gram


@njit(**JIT_OPTIONS)
def ensure_lipschitz(X, data, indices, indptr, n, sw, x_mean, groups, set_groups):
    """Compute, in place in ``groups.lipschitz``, the constants of the groups of
    ``set_groups`` not known yet (-1): the largest eigenvalue of ``X_g,c^T S X_g,c`` times
    :data:`LIPSCHITZ_MARGIN`. Only groups that enter a working set need theirs: on 500 x
    20000 in groups of 10, computing all 2000 took as long as the fit at alpha_max / 10."""
    buffer = np.empty(0)
    for g in set_groups:
        if groups.lipschitz[g] >= 0.0:
            continue
        if buffer.shape[0] == 0:
            buffer = np.zeros(n, dtype=np.float64)
        start, stop = groups.ptr[g], groups.ptr[g + 1]
        gram = _group_gram(X, data, indices, indptr, sw, x_mean, groups.features[start:stop],
                           buffer)
        groups.lipschitz[g] = largest_eigenvalue(gram) * LIPSCHITZ_MARGIN


@njit(**JIT_OPTIONS)
def block_epoch(X, data, indices, indptr, sw, sw_sum, x_mean, groups, penalty, W, R, r_sum,
                ws, random, block):
    """One epoch of block updates over the groups ``ws``; ``R`` (T, n) the residuals in the
    design's convention (:mod:`.design`), ``r_sum`` their weighted sums, ``block`` a scratch
    array (largest group, T). Returns ``(max ||dW_g||, max ||W_g||)``."""
    if indptr is None:  # a dense design (known when compiling)
        return _block_epoch(False, False, X, data, indices, indptr, sw, sw_sum, x_mean,
                            groups, penalty, W, R, r_sum, ws, random, block)
    sparse, weighted = layout_flags(indptr, sw)
    if sparse and weighted:
        return _block_epoch(True, True, X, data, indices, indptr, sw, sw_sum, x_mean, groups,
                            penalty, W, R, r_sum, ws, random, block)
    if sparse:
        return _block_epoch(True, False, X, data, indices, indptr, sw, sw_sum, x_mean,
                            groups, penalty, W, R, r_sum, ws, random, block)
    return _block_epoch(False, False, X, data, indices, indptr, sw, sw_sum, x_mean, groups,
                        penalty, W, R, r_sum, ws, random, block)


@njit(**JIT_OPTIONS)
def _block_epoch(sparse, weighted, X, data, indices, indptr, sw, sw_sum, x_mean, groups,
                 penalty, W, R, r_sum, ws, random, block):
    """:func:`block_epoch` compiled for one layout and weighting (literal flags, see
    :func:`.design.layout_flags`)."""
    literally(sparse)
    literally(weighted)
    n_tasks = W.shape[0]
    dw_max = 0.0
    w_max = 0.0
    for k in range(ws.shape[0]):
        g = _pick(ws, k, random)
        lipschitz = groups.lipschitz[g]
        if lipschitz <= 0.0:  # (constant columns)
            continue
        start, stop = groups.ptr[g], groups.ptr[g + 1]
        z_norm2 = 0.0
        for a in range(stop - start):  # Z = W_g + X_g^T S R / L
            j = groups.features[start + a]
            for t in range(n_tasks):
                grad = (column_dot_as(sparse, weighted, X, data, indices, indptr, j, R[t], sw)
                        - x_mean[j] * r_sum[t])
                z = W[t, j] + grad / lipschitz
                if penalty.l1_within > 0.0:  # sparse group lasso: prox of the L1 part first
                    z = soft_threshold(z, penalty.l1_within / lipschitz)
                block[a, t] = z
                z_norm2 += z * z
        factor = penalty.weight[g]
        threshold = penalty.l1_reg * factor / lipschitz
        z_norm = np.sqrt(z_norm2)
        scale = 0.0
        if z_norm > threshold:
            scale = (1.0 - threshold / z_norm) / (1.0 + penalty.l2_reg * factor / lipschitz)
        change2 = 0.0
        norm2 = 0.0
        for a in range(stop - start):
            j = groups.features[start + a]
            for t in range(n_tasks):
                new = scale * block[a, t]
                delta = new - W[t, j]
                if delta != 0.0:
                    W[t, j] = new
                    column_update(X, data, indices, indptr, j, delta, x_mean[j], R[t])
                    if sparse:
                        r_sum[t] -= delta * x_mean[j] * sw_sum
                    change2 += delta * delta
                norm2 += new * new
        dw_max = max(dw_max, np.sqrt(change2))
        w_max = max(w_max, np.sqrt(norm2))
    return dw_max, w_max


# Chunks of features for the parallel gradients of several tasks (enough to balance a few
# threads).
_GRADIENT_CHUNKS = 64


@njit(inline="always", **JIT_OPTIONS)
def _correlations(X, data, indices, indptr, j, Rt, sw, acc):
    """``acc[t] = sum_i sw_i X[i, j] Rt[i, t]`` for every task, in one pass over column
    ``j`` (``Rt``: the residuals, rows x tasks)."""
    for t in range(acc.shape[0]):
        acc[t] = 0.0
    weighted = sw.shape[0] > 0
    if indptr is not None:
        if indptr.shape[0] > 0:
            for k in range(indptr[j], indptr[j + 1]):
                i = indices[k]
                v = data[k] * sw[i] if weighted else data[k]
                for t in range(acc.shape[0]):
                    acc[t] += v * Rt[i, t]
            return
    if weighted:
        for i in range(X.shape[0]):
            v = X[i, j] * sw[i]
            for t in range(acc.shape[0]):
                acc[t] += v * Rt[i, t]
    else:
        for i in range(X.shape[0]):
            v = X[i, j]
            for t in range(acc.shape[0]):
                acc[t] += v * Rt[i, t]


@njit(**JIT_OPTIONS)
def _task_gradients(X, data, indices, indptr, sw, x_mean, Rt, r_sum, features, G, lo, hi):
    """:func:`_gradients` for ``features[lo:hi]``, reading each column once for all tasks."""
    acc = np.empty(Rt.shape[1])
    for k in range(lo, hi):
        j = features[k]
        _correlations(X, data, indices, indptr, j, Rt, sw, acc)
        for t in range(acc.shape[0]):
            G[t, j] = acc[t] - x_mean[j] * r_sum[t]


@njit(parallel=True, **JIT_OPTIONS)
def _task_gradients_parallel(X, data, indices, indptr, sw, x_mean, Rt, r_sum, features, G):
    """:func:`_task_gradients` with the features split into chunks over Numba's threads
    (a fixed number of chunks: the thread count read here would keep the function out of
    Numba's cache)."""
    m = features.shape[0]
    n_chunks = min(_GRADIENT_CHUNKS, max(m, 1))
    for c in prange(n_chunks):
        _task_gradients(X, data, indices, indptr, sw, x_mean, Rt, r_sum, features, G,
                        c * m // n_chunks, (c + 1) * m // n_chunks)


@njit(**JIT_OPTIONS)
def _dense_task_gradients(X, sw, x_mean, R, r_sum, G):
    """Every feature's correlations with every task's residual on a dense design, as one
    matrix product ``X^T (S R^T)`` (BLAS: on 100 x 20000 with 10 tasks about four times
    faster than the column loops, a round's largest cost)."""
    weighted = R.copy()
    if sw.shape[0] > 0:
        for t in range(R.shape[0]):
            for i in range(R.shape[1]):
                weighted[t, i] *= sw[i]
    product = np.dot(X.T, np.ascontiguousarray(weighted.T))  # (p, T)
    for j in range(product.shape[0]):
        for t in range(R.shape[0]):
            G[t, j] = product[j, t] - x_mean[j] * r_sum[t]


@njit(**JIT_OPTIONS)
def _gradients(X, data, indices, indptr, sw, x_mean, R, r_sum, features, G, parallel):
    """``G[t, j] = x_j,c^T S r_t,c`` for ``j`` in ``features``, every task. With several
    tasks each column is read once for all of them (its products with the rows of the
    transposed residuals): the design is streamed once instead of once per task, which
    dominates wide problems (100 x 20000, 10 tasks)."""
    if R.shape[0] > 1:
        if indptr is None and features.shape[0] == x_mean.shape[0]:
            _dense_task_gradients(X, sw, x_mean, R, r_sum, G)
            return
        Rt = np.ascontiguousarray(R.T)
        if parallel:
            _task_gradients_parallel(X, data, indices, indptr, sw, x_mean, Rt, r_sum,
                                     features, G)
        else:
            _task_gradients(X, data, indices, indptr, sw, x_mean, Rt, r_sum, features, G, 0,
                            features.shape[0])
        return
    for t in range(R.shape[0]):
        if parallel:
            gradient_parallel(X, data, indices, indptr, sw, x_mean, R[t], r_sum[t], features,
                              G[t])
        else:
            gradient(X, data, indices, indptr, sw, x_mean, R[t], r_sum[t], features, G[t])


# A group's bound is computed exactly once it reaches this share of its threshold (rounding
# in the bound); and the Lipschitz constant, a power iteration's estimate from below, is
# raised by BOUND_SLACK before it bounds a block's spectral norm.
_BOUND_MARGIN = 1.0 - 1e-9
_BOUND_SLACK = 1.0 + 1e-6
_SUBSET_SHARE = 4


@njit(**JIT_OPTIONS)
def _reference_distance(indptr, sw, x_mean, W, R, all_features, reference):
    """``||R_c - reference.residual||`` in the ``S`` norm, over every task."""
    weighted = sw.shape[0] > 0
    acc = 0.0
    for t in range(R.shape[0]):
        offset = residual_offset(indptr, x_mean, W[t], all_features)
        for i in range(R.shape[1]):
            d = R[t, i] + offset - reference.residual[t, i]
            acc += (sw[i] if weighted else 1.0) * d * d
    return np.sqrt(acc)


@njit(**JIT_OPTIONS)
def _bounded_groups(W, groups, penalty, reference, delta, fresh, G, need):
    """The bounds of :func:`bounded_gradients`: ``need[g]`` for the groups to compute, the
    others' blocks of ``G`` set to the reference's scaled to the bound's norm. Returns the
    number of features to compute."""
    n_tasks = W.shape[0]
    some_fresh = fresh.shape[0] > 0
    count = 0
    for g in range(need.shape[0]):
        need[g] = False
        if some_fresh and fresh[g]:
            continue
        start, stop = groups.ptr[g], groups.ptr[g + 1]
        ref2 = 0.0
        nonzero = False
        for q in range(start, stop):
            j = groups.features[q]
            for t in range(n_tasks):
                ref2 += reference.grad[t, j] * reference.grad[t, j]
                nonzero = nonzero or W[t, j] != 0.0
        lipschitz = groups.lipschitz[g]
        top = lipschitz * _BOUND_SLACK if lipschitz >= 0.0 else groups.trace[g]
        ref_norm = np.sqrt(ref2)
        bound = ref_norm + np.sqrt(top) * delta
        factor = penalty.weight[g]
        if nonzero or factor == 0.0 or bound >= penalty.l1_reg * factor * _BOUND_MARGIN:
            need[g] = True
            count += stop - start
            continue
        scale = bound / ref_norm if ref_norm > 0.0 else 0.0
        for q in range(start, stop):
            j = groups.features[q]
            for t in range(n_tasks):
                G[t, j] = reference.grad[t, j] * scale
        if ref_norm == 0.0:
            G[0, groups.features[start]] = bound
    return count


@njit(**JIT_OPTIONS)
def bounded_gradients(X, data, indices, indptr, sw, x_mean, W, R, r_sum, groups, penalty,
                      reference, fresh, all_features, G, parallel):
    """Fill ``G`` with ``X_c^T S R_c`` on the groups where it matters, bounds elsewhere (as
    :func:`.design.bounded_gradient` for single features).

    With ``D = R_c - R_ref`` (``reference``: the exact gradient ``G_ref`` at ``R_ref``),
    ``||X_g,c^T S R_c - G_ref,g||_F <= ||S^1/2 X_g,c||_2 ||D||_S,F`` and ``||S^1/2 X_g,c||_2^2``
    is the block's Lipschitz constant (its trace while the constant is not computed). A
    group at zero whose bound ``||G_ref,g|| + sqrt(L_g) ||D||`` stays below its threshold
    ``l1_reg f_g`` cannot make the dual point infeasible (nor, with a within-group L1,
    whose constraint is on a smaller norm): its block in ``G`` is the reference's, scaled to
    the bound's norm, which keeps the duality gap exact and ranks the group conservatively.
    The support, unpenalised groups and groups whose bound reaches the threshold are computed
    exactly; groups marked ``fresh`` (the working set's, when the inner solve ended on a gap
    check) already are. When more than a quarter of the features would be computed, or
    without a valid reference, the whole gradient is computed and becomes the reference.
    On the 100 x 20000 x 10 multi-task path, three in four full gradients become bounds.
    Needs ``l1_reg > 0`` and no unpenalised-group projection (the caller's test)."""
    if reference.state[0] == 1:
        delta = _reference_distance(indptr, sw, x_mean, W, R, all_features, reference)
        if delta == 0.0:
            for t in range(G.shape[0]):
                for j in range(G.shape[1]):
                    G[t, j] = reference.grad[t, j]
            return
        need = np.empty(groups.trace.shape[0], dtype=np.bool_)
        count = _bounded_groups(W, groups, penalty, reference, delta, fresh, G, need)
        if _SUBSET_SHARE * count <= all_features.shape[0]:
            reference.state[2] += 1
            reference.state[3] += count
            features = np.empty(count, dtype=np.int64)
            k = 0
            for g in range(need.shape[0]):
                if need[g]:
                    for q in range(groups.ptr[g], groups.ptr[g + 1]):
                        features[k] = groups.features[q]
                        k += 1
            _gradients(X, data, indices, indptr, sw, x_mean, R, r_sum, features, G,
                       parallel and worth_threads(indptr, R.shape[1], all_features.shape[0],
                                                  R.shape[0] * count))
            return
    _gradients(X, data, indices, indptr, sw, x_mean, R, r_sum, all_features, G, parallel)
    for t in range(G.shape[0]):
        offset = residual_offset(indptr, x_mean, W[t], all_features)
        for j in range(G.shape[1]):
            reference.grad[t, j] = G[t, j]
        for i in range(R.shape[1]):
            reference.residual[t, i] = R[t, i] + offset
    reference.state[0] = 1
    reference.state[1] += 1


@njit(**JIT_OPTIONS)
def _statistics(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum, features):
    """``(sum_t r_t,c^T S r_t,c, sum_t r_t,c^T S y_t)`` (:func:`.gap.residual_statistics`)."""
    r_norm2 = 0.0
    r_dot_y = 0.0
    for t in range(R.shape[0]):
        a, b = residual_statistics(indptr, Y[t], sw, sw_sum, x_mean, W[t], R[t], r_sum[t],
                                   features)
        r_norm2 += a
        r_dot_y += b
    return r_norm2, r_dot_y


@njit(**JIT_OPTIONS)
def _free_projection(free, G):
    """``C`` (T, k) with ``X_F^T S (r_t - X_F c_t) = 0``: the residuals' projection off the
    unpenalised columns (a minimal ridge if they are collinear)."""
    k = free.index.shape[0]
    system = np.empty((k, k))
    trace = 0.0
    for a in range(k):
        for b in range(k):
            system[a, b] = free.cross[free.index[a], b]
        trace += system[a, a]
    coef = np.zeros((G.shape[0], k))
    for t in range(G.shape[0]):
        rhs = np.empty(k)
        for a in range(k):
            rhs[a] = G[t, free.index[a]]
        solution = solve_small(system, rhs)
        if solution.shape[0] == 0:
            for a in range(k):
                system[a, a] += 1e-10 * trace / k
            solution = solve_small(system, rhs)
        for a in range(solution.shape[0]):
            coef[t, a] = solution[a]
    return coef


# Bisection steps for the sparse group lasso's dual scale (a relative precision of 2^-60).
_SCALE_STEPS = 60


@njit(**JIT_OPTIONS)
def _feasible_scale(values, within, radius):
    """The largest ``s`` in ``[0, 1]`` with ``||S_within(s v)||_2 <= radius`` (``S`` the soft
    thresholding): the dual constraint of the sparse group lasso's block, ``v`` in the
    L-infinity ball of radius ``within`` plus the L2 ball of radius ``radius`` (Simon,
    Friedman, Hastie & Tibshirani, JCGS 2013). The norm grows with ``s``: bisection."""
    low = 0.0
    high = 1.0
    for _ in range(_SCALE_STEPS):
        middle = 0.5 * (low + high)
        acc = 0.0
        for k in range(values.shape[0]):
            u = abs(values[k]) * middle - within
            if u > 0.0:
                acc += u * u
        if acc <= radius * radius:
            low = middle
        else:
            high = middle
    return max(low, 1e-300)


@njit(**JIT_OPTIONS)
def block_gap(W, G, groups, penalty, free, set_groups, r_norm2, r_dot_y, norms_out):
    """Duality gap over the groups ``set_groups`` (all: the full problem; a working set: the
    problem restricted to it, ``W`` zero elsewhere), from ``G = X_c^T S R`` on their
    features and the residual statistics (module docstring). ``norms_out[g]`` receives the
    block dual norm ``||V_g||_F``, ``V_g = G_g - l2_reg f_g W_g`` of each group of the set
    (after the projection off unpenalised columns; with a within-group L1, the norm of
    ``V_g`` soft-thresholded by ``l1_within``, which a block must pass to leave zero).
    Returns ``(gap, dual_norm)``, ``l1_reg / dual_norm`` the scale of the dual point."""
    l1_reg, l2_reg = penalty.l1_reg, penalty.l2_reg
    coef = np.zeros((0, 0))
    proj_norm2, proj_dot_y = r_norm2, r_dot_y
    if free is not None:  # (None: no unpenalised group, known when compiling)
        coef = _free_projection(free, G)
        for t in range(coef.shape[0]):
            for a in range(coef.shape[1]):
                proj_norm2 -= coef[t, a] * G[t, free.index[a]]
                proj_dot_y -= coef[t, a] * free.cross_y[t, a]
    within = penalty.l1_within
    n_tasks = W.shape[0]
    values = np.empty(0)
    if within > 0.0:
        largest = 0
        for g in set_groups:
            largest = max(largest, groups.ptr[g + 1] - groups.ptr[g])
        values = np.empty(largest * n_tasks)
    l21 = 0.0
    l1 = 0.0
    w_norm2 = 0.0
    dual_norm = 0.0
    ridge_conjugate = 0.0
    for g in set_groups:
        factor = penalty.weight[g]
        block_w2 = 0.0
        block_v2 = 0.0
        block_g2 = 0.0
        k = 0
        for q in range(groups.ptr[g], groups.ptr[g + 1]):
            j = groups.features[q]
            for t in range(n_tasks):
                v = G[t, j] - l2_reg * factor * W[t, j]
                if free is not None:
                    for a in range(coef.shape[1]):
                        v -= free.cross[j, a] * coef[t, a]
                block_w2 += W[t, j] * W[t, j]
                l1 += abs(W[t, j])
                if within > 0.0:
                    values[k] = v
                    k += 1
                    v = soft_threshold(v, within)
                block_v2 += v * v
                block_g2 += G[t, j] * G[t, j]
        norms_out[g] = np.sqrt(block_v2)
        if factor > 0.0 and l2_reg > 0.0:
            ridge_conjugate += block_g2 / (2.0 * l2_reg * factor)
        l21 += factor * np.sqrt(block_w2)
        w_norm2 += factor * block_w2
        if within > 0.0:
            if norms_out[g] > l1_reg * factor:
                dual_norm = max(dual_norm, l1_reg / _feasible_scale(values[:k], within,
                                                                    l1_reg * factor))
        elif factor > 0.0:
            dual_norm = max(dual_norm, norms_out[g] / factor)
    if l1_reg == 0.0:
        # Ridge alone: the dual point R itself, with the ridge's conjugate ("formulation B"
        # of scikit-learn's ElasticNet; a scaled R would need X^T theta = 0).
        gap = r_norm2 - r_dot_y + 0.5 * l2_reg * w_norm2 + ridge_conjugate
        return max(gap, 0.0), dual_norm
    scale = 1.0
    if dual_norm > l1_reg:
        scale = l1_reg / dual_norm
    gap = (0.5 * (r_norm2 + scale * scale * proj_norm2) + l1_reg * l21 + within * l1
           + 0.5 * l2_reg * (1.0 + scale * scale) * w_norm2 - scale * proj_dot_y)
    return max(gap, 0.0), dual_norm


@njit(**JIT_OPTIONS)
def _set_features(groups, set_groups):
    """The features of the groups ``set_groups``, in their order."""
    count = 0
    for g in set_groups:
        count += groups.ptr[g + 1] - groups.ptr[g]
    out = np.empty(count, dtype=np.int64)
    k = 0
    for g in set_groups:
        for q in range(groups.ptr[g], groups.ptr[g + 1]):
            out[k] = groups.features[q]
            k += 1
    return out


@njit(**JIT_OPTIONS)
def _objective(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum, features, groups, penalty,
               set_groups):
    """``P(W)`` (module docstring), ``W`` zero outside ``set_groups``."""
    r_norm2, _ = _statistics(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum, features)
    value = 0.5 * r_norm2
    for g in set_groups:
        block_w2 = 0.0
        for q in range(groups.ptr[g], groups.ptr[g + 1]):
            j = groups.features[q]
            for t in range(W.shape[0]):
                block_w2 += W[t, j] * W[t, j]
        value += penalty.weight[g] * (penalty.l1_reg * np.sqrt(block_w2)
                                      + 0.5 * penalty.l2_reg * block_w2)
        if penalty.l1_within > 0.0:
            for q in range(groups.ptr[g], groups.ptr[g + 1]):
                for t in range(W.shape[0]):
                    value += penalty.l1_within * abs(W[t, groups.features[q]])
    return value


@njit(**JIT_OPTIONS)
def _move(X, data, indices, indptr, sw_sum, x_mean, W, R, r_sum, features, target):
    """Set ``W[:, features]`` to ``target`` (T, len(features)), updating the residuals."""
    sparse = sparse_design(indptr)
    for a in range(features.shape[0]):
        j = features[a]
        for t in range(W.shape[0]):
            delta = target[t, a] - W[t, j]
            if delta != 0.0:
                W[t, j] = target[t, a]
                column_update(X, data, indices, indptr, j, delta, x_mean[j], R[t])
                if sparse:
                    r_sum[t] -= delta * x_mean[j] * sw_sum


@njit(**JIT_OPTIONS)
def _try_extrapolation(X, data, indices, indptr, Y, sw, sw_sum, x_mean, groups, penalty, W,
                       R, r_sum, ws, features, iterates):
    """Replace the working set's blocks by the Anderson extrapolation of the last iterates
    (rows of ``iterates``: ``W[:, features]`` flattened) when it lowers the objective
    (Bertrand & Massias, AISTATS 2021, as :func:`.cd.enet_cd`); the extrapolated point is
    not projected: the block penalty has no box to keep."""
    weights = anderson_weights(iterates)
    if weights.shape[0] == 0:
        return
    n_tasks = W.shape[0]
    m = features.shape[0]
    target = np.zeros((n_tasks, m), dtype=W.dtype)
    for k in range(weights.shape[0]):
        for t in range(n_tasks):
            for a in range(m):
                target[t, a] += weights[k] * iterates[k + 1, t * m + a]
    before = _objective(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum, features, groups,
                        penalty, ws)
    previous = np.empty((n_tasks, m), dtype=W.dtype)
    for t in range(n_tasks):
        for a in range(m):
            previous[t, a] = W[t, features[a]]
    _move(X, data, indices, indptr, sw_sum, x_mean, W, R, r_sum, features, target)
    after = _objective(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum, features, groups, penalty,
                       ws)
    if not after < before:
        _move(X, data, indices, indptr, sw_sum, x_mean, W, R, r_sum, features, previous)


@njit(**JIT_OPTIONS)
def _support_of(W, groups, ws, out):
    """The groups of ``ws`` with a non-zero block, in ``out``; returns how many."""
    count = 0
    for g in ws:
        for q in range(groups.ptr[g], groups.ptr[g + 1]):
            nonzero = False
            for t in range(W.shape[0]):
                if W[t, groups.features[q]] != 0.0:
                    nonzero = True
                    break
            if nonzero:
                out[count] = g
                count += 1
                break
    return count


@njit(**JIT_OPTIONS)
def _inner_solve(X, data, indices, indptr, Y, sw, sw_sum, x_mean, groups, penalty, free, W,
                 R, r_sum, G, norms_out, ws, inner_tol, max_epochs, options, stop):
    """Epochs on the working set ``ws`` until its restricted duality gap is below
    ``inner_tol`` (checked once an epoch moves the blocks by less than ``tol`` relative,
    and at least every ``GAP_CHECK_EVERY`` epochs); Anderson extrapolation every
    ``anderson_k + 1`` epochs. An epoch ends with a pass over the set's non-zero blocks when
    they are at most ``SUPPORT_SWEEP_SHARE`` of it (glmnet's active-set cycling, as
    :func:`.cd.enet_cd`). Returns ``(epochs run, checked)``, ``checked`` when the last
    epoch ended on a gap check: ``G`` then holds the set's exact gradient."""
    features = _set_features(groups, ws)
    anderson_k = options.anderson_k
    n_tasks = W.shape[0]
    m = features.shape[0]
    iterates = np.empty((anderson_k + 1, n_tasks * m), dtype=W.dtype)
    max_size = 1
    for g in ws:
        max_size = max(max_size, groups.ptr[g + 1] - groups.ptr[g])
    block = np.empty((max_size, n_tasks))
    support = np.empty(ws.shape[0], dtype=ws.dtype)
    parallel = options.parallel and worth_threads(indptr, R.shape[1], x_mean.shape[0],
                                                  n_tasks * m)
    n_epochs = 0
    checked = False
    for epoch in range(max_epochs):
        n_epochs = epoch + 1
        checked = False
        dw_max, w_max = block_epoch(X, data, indices, indptr, sw, sw_sum, x_mean, groups,
                                    penalty, W, R, r_sum, ws, options.random, block)
        n_support = _support_of(W, groups, ws, support)
        if 0 < n_support <= SUPPORT_SWEEP_SHARE * ws.shape[0]:
            # one more pass over the set's non-zero blocks (as .cd.enet_cd's sweeps)
            dw_support, _ = block_epoch(X, data, indices, indptr, sw, sw_sum, x_mean, groups,
                                        penalty, W, R, r_sum, support[:n_support],
                                        options.random, block)
            dw_max = max(dw_max, dw_support)
        if anderson_k > 0:
            slot = epoch % (anderson_k + 1)
            for t in range(n_tasks):
                for a in range(m):
                    iterates[slot, t * m + a] = W[t, features[a]]
            if slot == anderson_k:
                _try_extrapolation(X, data, indices, indptr, Y, sw, sw_sum, x_mean, groups,
                                   penalty, W, R, r_sum, ws, features, iterates)
        if w_max == 0.0 or dw_max <= options.tol * w_max or n_epochs % GAP_CHECK_EVERY == 0 \
                or n_epochs == max_epochs:
            _gradients(X, data, indices, indptr, sw, x_mean, R, r_sum, features, G, parallel)
            r_norm2, r_dot_y = _statistics(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum,
                                           features)
            gap, _ = block_gap(W, G, groups, penalty, free, ws, r_norm2, r_dot_y, norms_out)
            checked = True
            if gap <= inner_tol:
                break
        if stop[0]:
            break
    if sparse_design(indptr):  # re-anchor the tracked residual sums (rounding drift)
        for t in range(n_tasks):
            r_sum[t] = weighted_sum(R[t], sw)
    return n_epochs, checked


@njit(**JIT_OPTIONS)
def _scores(W, groups, penalty, norms_out, scores):
    """Working-set scores (smallest first in): ``-inf`` for the support and the unpenalised
    groups, ``-||X_g^T S R||_F / f_g`` (the block dual norm, from ``norms_out``) for the
    others, ``inf`` for groups of constant columns, which never enter. Returns
    ``(n_active, support)``."""
    n_active = 0
    support = 0
    for g in range(scores.shape[0]):
        if groups.trace[g] == 0.0:
            scores[g] = np.inf
            continue
        n_active += 1
        nonzero = penalty.weight[g] == 0.0
        for q in range(groups.ptr[g], groups.ptr[g + 1]):
            for t in range(W.shape[0]):
                if W[t, groups.features[q]] != 0.0:
                    nonzero = True
        if nonzero:
            scores[g] = -np.inf
            support += 1
        else:
            scores[g] = -norms_out[g] / penalty.weight[g]
    return n_active, support


@njit(**JIT_OPTIONS)
def _violated_count(scores, l1_reg):
    """The groups whose dual constraint is violated or tight (``scores`` from
    :func:`_scores`, the support included); a working set ranked by the scores holds them
    all when it is at least that large."""
    count = 0
    for g in range(scores.shape[0]):
        if scores[g] <= -l1_reg:
            count += 1
    return count


@njit(**JIT_OPTIONS)
def block_cd(X, data, indices, indptr, Y, sw, x_mean, groups, penalty, free, W, options,
             reference, stop):
    """Solve the group-penalised least squares (module docstring) in place in ``W`` (T, p).

    ``Y`` (T, n) holds the centred targets, ``(X, data, indices, indptr)`` the design
    (``indptr`` None for a dense one, see :mod:`.design`), ``groups`` (:data:`Groups`) the
    groups with their Lipschitz constants, ``penalty`` (:data:`BlockPenalty`) the strengths
    and the groups' factors, ``free`` the unpenalised groups' data (:data:`BlockFree`, or
    None), ``options`` :data:`BlockOptions`, ``reference`` (:data:`BlockReference`) the
    gradient that bounds later ones (a path passes the same one at every alpha; it is
    not used with unpenalised groups or without ``l1_reg``). The groups' Lipschitz constants
    are computed in ``groups.lipschitz`` as the groups enter working sets. The loop ends
    when the full problem's duality
    gap is below ``tol * sum_t ||y_t||_S^2`` or after ``max_iter`` epochs in all, or once
    ``stop[0]`` is set (:mod:`fastl1._interrupt`). Returns ``(gap, scaled_tol, n_epochs,
    n_outer)``, ``gap`` in ``n`` times the objective's scale.
    """
    n_tasks, p = W.shape
    n = Y.shape[1]
    n_groups = groups.lipschitz.shape[0]
    if options.random:
        np.random.seed(options.seed)  # noqa: NPY002 (seeds Numba's per-thread RNG)
    sw_sum = float(n) if sw.shape[0] == 0 else sw.sum()
    y_norm2 = 0.0
    for t in range(n_tasks):
        y_norm2 += weighted_dot(Y[t], Y[t], sw)
    scaled_tol = options.tol * y_norm2
    for g in range(n_groups):  # constant groups do not change the fit: their blocks are 0
        if groups.trace[g] == 0.0:
            for q in range(groups.ptr[g], groups.ptr[g + 1]):
                for t in range(n_tasks):
                    W[t, groups.features[q]] = 0.0
    R = np.empty((n_tasks, n), dtype=W.dtype)
    r_sum = np.empty(n_tasks)
    for t in range(n_tasks):
        init_residual(X, data, indices, indptr, Y[t], x_mean, W[t], R[t])
        r_sum[t] = weighted_sum(R[t], sw)
    all_features = np.arange(p)
    all_groups = np.arange(n_groups)
    G = np.zeros((n_tasks, p), dtype=W.dtype)
    norms_out = np.zeros(n_groups)
    scores = np.empty(n_groups)
    use_working_sets = options.working_sets and penalty.l1_reg > 0.0
    ws_size = options.ws_start
    last_size = n_groups + 1
    parallel = options.parallel and worth_threads(indptr, n, p, n_tasks * p)
    bounded = penalty.l1_reg > 0.0
    if free is not None:  # (the bounds do not cover the projection off unpenalised columns)
        bounded = False
    fresh = np.zeros(n_groups, dtype=np.bool_)
    n_epochs = 0
    n_outer = 0
    while True:
        n_outer += 1
        if bounded:
            bounded_gradients(X, data, indices, indptr, sw, x_mean, W, R, r_sum, groups,
                              penalty, reference, fresh, all_features, G, parallel)
        else:
            _gradients(X, data, indices, indptr, sw, x_mean, R, r_sum, all_features, G,
                       parallel)
        r_norm2, r_dot_y = _statistics(indptr, Y, sw, sw_sum, x_mean, W, R, r_sum,
                                       all_features)
        gap, _ = block_gap(W, G, groups, penalty, free, all_groups, r_norm2, r_dot_y,
                           norms_out)
        if gap <= scaled_tol or n_epochs >= options.max_iter or stop[0]:
            break
        if use_working_sets:
            n_active, support = _scores(W, groups, penalty, norms_out, scores)
            ws_size = max(ws_size, support,
                          working_set_growth(support, last_size, n, n_groups))
            ws = working_set_from_scores(scores, n_active, ws_size)
            last_size = ws.shape[0]
            # A set holding every violated constraint is solved to tol at once (as
            # .cd.enet_cd): along a path, the warm start's few violations usually are.
            inner_tol = scaled_tol if _violated_count(scores, penalty.l1_reg) <= last_size \
                else max(0.3 * gap, scaled_tol)
        else:
            ws = all_groups
            inner_tol = scaled_tol
        ensure_lipschitz(X, data, indices, indptr, n, sw, x_mean, groups, ws)
        epochs, checked = _inner_solve(X, data, indices, indptr, Y, sw, sw_sum, x_mean, groups,
                                       penalty, free, W, R, r_sum, G, norms_out, ws, inner_tol,
                                       options.max_iter - n_epochs, options, stop)
        n_epochs += epochs
        for g in range(n_groups):
            fresh[g] = False
        if checked:
            for g in ws:
                fresh[g] = True
    return gap, scaled_tol, n_epochs, n_outer
