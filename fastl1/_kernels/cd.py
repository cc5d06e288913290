"""Coordinate descent for the (weighted, centred) elastic net.

One epoch visits the coordinates listed in ``features`` (all of them for plain CD, a working
set for the working-set solver) in order, or ``features.shape[0]`` random draws from them.
Two data layouts: the design matrix itself (residual updates, Friedman et al. 2010) and its
Gram matrix (covariance updates, for n >> p).

``enet_cd`` is the whole solver: an outer loop that certifies the full problem by its duality
gap, screens, and picks a working set (on sparse data, copied compactly), and an inner loop of
epochs on that set, accelerated by Anderson extrapolation and support steps (see
:mod:`.support_step`), and each epoch followed by a pass over the set's non-zero coefficients.
With ``use_working_sets=False`` (and no screening, extrapolation or sweeps) the working set is
every feature, which is scikit-learn's algorithm.
"""

from collections import namedtuple

import numpy as np
from numba import literally, njit

from . import JIT_OPTIONS
from .csr import (
    column_sq_norms_from_rows,
    gradient_from_rows,
    residual_from_rows,
    take_columns_from_rows,
)
from .design import (
    bounded_gradient,
    column_dot_as,
    column_sq_norms,
    columns_nnz,
    copy_into,
    dense_column_dot,
    dense_update_then_dot,
    init_residual,
    is_sparse,
    layout_flags,
    residual_offset,
    sparse_column_update,
    sparse_design,
    take_columns,
    weighted_dot,
    weighted_sum,
    worth_threads,
)
from .gap import (
    Unpenalised,
    design_gap,
    gap_from_statistics,
    gram_gap,
    residual_statistics,
)
from .penalty import Penalty, clip, coordinate_update, excess
from .support_step import HARD_EPOCHS, keep_if_lower, try_support_step
from .working_set import (
    FIRST_SET_SHARE,
    anderson_weights,
    inverse_norms,
    screen_and_score,
    violated_first_set,
    violations_inside,
    working_set_from_scores,
    working_set_growth,
)

# Working-set gap check cadence: a check costs a gradient over the set (less than an epoch);
# every 5 epochs measured 1.1-3x fewer epochs than every 10 (inner solves stop sooner).
GAP_CHECK_EVERY = 5
# Sparse working sets holding at most this share of X's non-zeros are solved on a compact
# copy of their columns (see design.take_columns); larger ones in place, so the copy never
# exceeds half of X's non-zeros.
COMPACT_SHARE = 0.5
# After each epoch on the working set, one more pass over its non-zero coefficients only (the
# "active set" cycling of glmnet: Friedman, Hastie & Tibshirani, JSS 2010, sec. 2.6), when they
# are at most this share of the set: the support's coordinates converge for a fraction of an
# epoch's cost. On 31 problems (dense and sparse, the harness's among them) the median time fell
# by 12 % (geometric mean of the ratios; 24 faster, 7 slower by up to 15 %).
SUPPORT_SWEEP_SHARE = 0.8


@njit(**JIT_OPTIONS)
def _pick(features, k, random):
    if random:
        return features[np.random.randint(0, features.shape[0])]  # noqa: NPY002 (Numba RNG)
    return features[k]


@njit(**JIT_OPTIONS)
def design_epoch(X, data, indices, indptr, sw, sw_sum, x_mean, norms2, w, r, r_sum,
                 penalty, features, random):
    """One CD epoch with residual updates. Returns ``(max |dw|, max |w|, r_sum)``."""
    if indptr is None:  # a dense design (known when compiling: no sparse variant compiled)
        return _dense_epoch(X, sw, x_mean, norms2, w, r, r_sum, penalty, features, random)
    sparse, weighted = layout_flags(indptr, sw)
    if sparse and weighted:
        return _design_epoch(True, True, X, data, indices, indptr, sw, sw_sum, x_mean, norms2,
                             w, r, r_sum, penalty, features, random)
    if sparse:
        return _design_epoch(True, False, X, data, indices, indptr, sw, sw_sum, x_mean, norms2,
                             w, r, r_sum, penalty, features, random)
    return _design_epoch(False, False, X, data, indices, indptr, sw, sw_sum, x_mean, norms2, w,
                         r, r_sum, penalty, features, random)


@njit(**JIT_OPTIONS)
def _design_epoch(sparse, weighted, X, data, indices, indptr, sw, sw_sum, x_mean, norms2, w,
                  r, r_sum, penalty, features, random):
    """:func:`design_epoch` compiled for one layout and weighting (literal ``sparse`` and
    ``weighted``, see :func:`.design.layout_flags`); dense designs go to
    :func:`_dense_epoch`."""
    literally(sparse)
    literally(weighted)
    if not sparse:
        return _dense_epoch(X, sw, x_mean, norms2, w, r, r_sum, penalty, features, random)
    dw_max = 0.0
    w_max = 0.0
    for k in range(features.shape[0]):
        j = _pick(features, k, random)
        if norms2[j] == 0.0:
            continue
        w_j = w[j]
        grad_j = (column_dot_as(sparse, weighted, X, data, indices, indptr, j, r, sw)
                  - x_mean[j] * r_sum)
        w[j] = coordinate_update(penalty, j, w_j, grad_j, norms2[j])
        delta = w[j] - w_j
        if delta != 0.0:
            sparse_column_update(data, indices, indptr, j, delta, r)
            r_sum -= delta * x_mean[j] * sw_sum
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max, r_sum


@njit(**JIT_OPTIONS)
def _dense_epoch(X, sw, x_mean, norms2, w, r, r_sum, penalty, features, random):
    """:func:`design_epoch` on a dense design: each coordinate's residual update is deferred
    and fused with the next coordinate's correlation (:func:`.design.dense_update_then_dot`),
    one loop over the rows per coordinate instead of two: the next column streams in while
    the update runs from cache (see docs/index.md). Dense residuals are centred, so ``r_sum``
    is returned unchanged."""
    dw_max = 0.0
    w_max = 0.0
    pending = -1  # the coordinate whose residual update is still to apply
    pending_delta = 0.0
    for k in range(features.shape[0]):
        j = _pick(features, k, random)
        if norms2[j] == 0.0:
            continue
        w_j = w[j]
        if pending >= 0:
            dot = dense_update_then_dot(X, pending, pending_delta, x_mean[pending], j, r, sw)
            pending = -1
        else:
            dot = dense_column_dot(X, j, r, sw)
        w[j] = coordinate_update(penalty, j, w_j, dot - x_mean[j] * r_sum, norms2[j])
        delta = w[j] - w_j
        if delta != 0.0:
            pending = j
            pending_delta = delta
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    if pending >= 0:
        mean = x_mean[pending]
        for i in range(X.shape[0]):
            r[i] -= pending_delta * (X[i, pending] - mean)
    return dw_max, w_max, r_sum


@njit(**JIT_OPTIONS)
def gram_epoch(gram, xty, w, gram_w, penalty, features, random):
    """One CD epoch with covariance updates (``gram_w = G w`` kept up to date)."""
    if gram is None:  # (no Gram matrix: never called, compiled as a stub)
        return 0.0, 0.0
    dw_max = 0.0
    w_max = 0.0
    for k in range(features.shape[0]):
        j = _pick(features, k, random)
        norm2_j = gram[j, j]
        if norm2_j == 0.0:
            continue
        w_j = w[j]
        w[j] = coordinate_update(penalty, j, w_j, xty[j] - gram_w[j], norm2_j)
        delta = w[j] - w_j
        if delta != 0.0:
            for i in range(gram_w.shape[0]):
                gram_w[i] += delta * gram[i, j]
        dw_max = max(dw_max, abs(delta))
        w_max = max(w_max, abs(w[j]))
    return dw_max, w_max


@njit(inline="always", **JIT_OPTIONS)
def _try_extrapolation(X, data, indices, indptr, sw, sw_sum, x_mean, w, r, r_sum, penalty, ws,
                       iterates):
    """Replace ``w[ws]`` by its Anderson extrapolation if that lowers the objective.

    Returns the (possibly updated) ``r_sum``; ``w`` and ``r`` are updated in place."""
    weights = anderson_weights(iterates)
    if weights.shape[0] == 0:
        return r_sum
    m = ws.shape[0]
    w_new = np.zeros(m, dtype=w.dtype)
    for k in range(weights.shape[0]):
        for i in range(m):
            w_new[i] += weights[k] * iterates[k + 1, i]
    for i in range(m):
        w_new[i] = clip(penalty, ws[i], w_new[i])
    _, r_sum = keep_if_lower(X, data, indices, indptr, sw, sw_sum, x_mean, w, r, r_sum,
                             penalty, ws, ws, w_new)
    return r_sum


# A CSR round whose residual changed on at most this share of the rows since the reference
# (uncentred design) adds the scatter of the change to the reference's gradient instead of
# scattering the whole residual: the scatter skips unchanged rows (see _gradient_from_rows).
DELTA_ROWS_SHARE = 0.5


@njit(**JIT_OPTIONS)
def _all_inside(ws, in_ws):
    """Whether every feature of ``ws`` is in the mask ``in_ws``."""
    for j in ws:
        if not in_ws[j]:
            return False
    return True


@njit(**JIT_OPTIONS)
def _gradient_from_rows(data, indices, indptr, chunks, buffers, sw, x_mean, r, r_sum, w,
                        all_features, grad_ref, r_ref, has_ref, grad, parallel):
    """A round's full gradient on a CSR design (:func:`.csr.gradient_from_rows`), which
    becomes the reference; a reference computed at this very residual (a fit from zero: the
    statistics' pass) is taken as it is.

    Coordinate descent on a working set changes the residual only on the rows its non-zero
    columns touch: on a sparse design with a small support, few of them (the 20000 x 100000
    benchmark at alpha_max/20: the final support's 110 columns touch 2,124 of 20,000). Without
    centring, ``X^T S r = X^T S r_ref + X^T S (r - r_ref)``, and the row scatter of the
    change skips the rows where it is zero. (With centring every row's centred residual
    moves with the offset; the whole residual is scattered.) Returns ``has_ref``."""
    n = r.shape[0]
    offset = residual_offset(indptr, x_mean, w, all_features)
    if has_ref:
        changed = 0
        for i in range(n):
            if r[i] + offset != r_ref[i]:
                changed += 1
        if changed == 0:
            copy_into(grad, grad_ref)
            return True
        if changed <= DELTA_ROWS_SHARE * n and not x_mean.any():
            change = np.zeros(n, dtype=r.dtype)
            for i in range(n):
                change[i] = r[i] - r_ref[i]
            gradient_from_rows(data, indices, indptr, chunks, buffers, sw, x_mean, change,
                               0.0, grad, parallel)
            for j in range(grad.shape[0]):
                grad[j] += grad_ref[j]
                grad_ref[j] = grad[j]
            copy_into(r_ref, r)
            return True
    gradient_from_rows(data, indices, indptr, chunks, buffers, sw, x_mean, r, r_sum, grad,
                       parallel)
    copy_into(grad_ref, grad)
    for i in range(n):
        r_ref[i] = r[i] + offset
    return True


# A CSR fit hands over to a CSC copy of X (see enet_cd) when a working set's new columns are
# more than HANDOFF_NEW_SHARE of the features (about as much of the non-zeros), the whole set
# more than HANDOFF_TOTAL_SHARE, or the features whose constraint is violated more than
# HANDOFF_VIOLATED_SHARE. Copying columns out of the rows costs a pass over the column indices
# plus the entries copied (2M non-zeros, two threads: 1.2 ms for 122 columns, 2.6 ms for
# 4,884, 4.5 ms for 12,500), a full transpose ~14 ms: rows win while the sets stay small and
# the rounds few. A first working set of every violated constraint (up to FIRST_SET_SHARE of
# the features, see violated_first_set) is copied: handing it over cost x 1.3 on the sparse
# problem shrunk to 10000 x 50000 at alpha_max/20 (10.3 % violated), copying it x 0.75 of
# the time of sets ranked by distance. Many violated constraints at a round foretell large
# sets and many rounds: 51,925 of 100,000 at w = 0 on the 20000 x 100000 problem at
# alpha_max/100 (support 8,873, 9 rounds, sets of 17,764 by the end).
HANDOFF_NEW_SHARE = FIRST_SET_SHARE
HANDOFF_TOTAL_SHARE = 1 / 4
HANDOFF_VIOLATED_SHARE = 1 / 4


@njit(**JIT_OPTIONS)
def _columns_wanted(p, ws, kept_ws, grad, penalty):
    """Whether a CSR fit should go on with a CSC copy of X rather than copy the working set
    ``ws`` out of its rows (``kept_ws``: the columns copied last, sorted as ``ws``; ``grad``
    the round's full gradient)."""
    violated = 0
    for j in range(p):
        if excess(penalty, j, grad[j]) > 0.0:
            violated += 1
    if violated > HANDOFF_VIOLATED_SHARE * p:
        return True
    new = 0
    k = 0
    for j in ws:
        while k < kept_ws.shape[0] and kept_ws[k] < j:
            k += 1
        if k == kept_ws.shape[0] or kept_ws[k] != j:
            new += 1
    return (new > HANDOFF_NEW_SHARE * p or ws.shape[0] > HANDOFF_TOTAL_SHARE * p)


@njit(**JIT_OPTIONS)
def _share_of_data(indptr, n, p, ws):
    """Fraction of the design's entries (non-zeros if sparse) in the columns ``ws``."""
    if indptr is None:
        return ws.shape[0] / p
    if not is_sparse(indptr):
        return ws.shape[0] / p
    return columns_nnz(indptr, ws) / max(indptr[p], 1)


@njit(inline="always", **JIT_OPTIONS)
def _inner_solve(X, data, indices, indptr, y_centred, sw, sw_sum, x_mean, norms2, gram, xty,
                 y_norm2, gram_w, w, r, r_sum, penalty, free, ws, inner_tol, max_epochs,
                 options, grad, stop):
    """Epochs on the working set ``ws`` until its restricted duality gap is below
    ``inner_tol`` (checked once an epoch moves coefficients by less than ``tol`` relative, as
    scikit-learn, and at least every ``GAP_CHECK_EVERY`` epochs). With ``support_sweeps``, an
    epoch with residual updates ends with a pass over the set's non-zero coefficients (see
    ``SUPPORT_SWEEP_SHARE``; counted in the same epoch). With ``parallel`` the gap checks'
    correlations run on Numba's threads when the set is large enough. The epochs end early
    once ``stop[0]`` is set (an interrupt: :mod:`fastl1._interrupt`). Returns
    ``(n_epochs, r_sum)``."""
    tol, random, anderson_k = options.tol, options.random, options.anderson_k
    support_sweeps, parallel = options.support_sweeps, options.parallel
    use_gram = gram_w.shape[0] > 0  # (gram may be None: see enet_cd)
    sparse = sparse_design(indptr)
    parallel_gap = parallel and worth_threads(indptr, r.shape[0], norms2.shape[0],
                                              ws.shape[0])
    iterates = np.empty((anderson_k + 1, ws.shape[0]), dtype=w.dtype)
    support = np.empty(ws.shape[0] if support_sweeps else 0, dtype=ws.dtype)
    next_support_step = 3 * (anderson_k + 1)
    n_epochs = 0
    for epoch in range(max_epochs):
        n_epochs = epoch + 1
        if use_gram:
            dw_max, w_max = gram_epoch(gram, xty, w, gram_w, penalty, ws, random)
        else:
            dw_max, w_max, r_sum = design_epoch(X, data, indices, indptr, sw, sw_sum, x_mean,
                                                norms2, w, r, r_sum, penalty, ws, random)
            n_support = 0
            for j in ws[:support.shape[0]]:
                if w[j] != 0.0:
                    support[n_support] = j
                    n_support += 1
            if 0 < n_support <= SUPPORT_SWEEP_SHARE * ws.shape[0]:
                dw_support, _, r_sum = design_epoch(X, data, indices, indptr, sw, sw_sum,
                                                    x_mean, norms2, w, r, r_sum, penalty,
                                                    support[:n_support], random)
                dw_max = max(dw_max, dw_support)
        if anderson_k > 0 and not use_gram:
            slot = epoch % (anderson_k + 1)
            for i in range(ws.shape[0]):
                iterates[slot, i] = w[ws[i]]
            if slot == anderson_k:
                r_sum = _try_extrapolation(X, data, indices, indptr, sw, sw_sum, x_mean, w,
                                           r, r_sum, penalty, ws, iterates)
                # Still going after a few windows: try a step to the minimiser on the support.
                if epoch + 1 >= next_support_step:
                    # (Signs are kept, so positive coefficients stay non-negative.)
                    kept, r_sum = try_support_step(X, data, indices, indptr, sw, sw_sum,
                                                   x_mean, norms2, w, r, r_sum, penalty, ws,
                                                   grad, epoch + 1 >= HARD_EPOCHS)
                    next_support_step = epoch + 1 + (2 if kept else 5) * (anderson_k + 1)
                    if kept:
                        dw_max = 0.0  # force the gap check below
        if w_max == 0.0 or dw_max <= tol * w_max or n_epochs % GAP_CHECK_EVERY == 0 \
                or n_epochs == max_epochs:
            if use_gram:
                gap, _ = gram_gap(gram, xty, y_norm2, w, gram_w, penalty, free, ws, grad)
            else:
                gap, _ = design_gap(X, data, indices, indptr, y_centred, sw, sw_sum, x_mean,
                                    w, r, r_sum, penalty, free, ws, grad, parallel_gap)
            if gap <= inner_tol:
                break
        if stop[0]:
            break
    if sparse:  # re-anchor the tracked residual sum (rounding drift over many updates)
        r_sum = weighted_sum(r, sw)
    return n_epochs, r_sum


#: The solver's settings (see :func:`enet_cd`): epochs budget ``max_iter``, ``tol``,
#: ``random`` coordinate order with ``seed``, ``working_sets`` starting at ``ws_start``
#: features, Gap Safe ``screening``, Anderson extrapolation every ``anderson_k + 1`` epochs
#: (0: none), ``support_sweeps``, ``parallel`` gradients on Numba's threads.
CDOptions = namedtuple("CDOptions", ["max_iter", "tol", "random", "seed", "working_sets",
                                     "screening", "anderson_k", "support_sweeps", "ws_start",
                                     "parallel"])

#: What :func:`enet_cd` fits besides the design: the centred target ``y_centred``, the
#: sample weights ``sw`` (empty: all 1), the column means ``x_mean`` of the implicit
#: centring, ``xty = X_c^T S y_c`` (with a Gram matrix; else empty) and ``col_norms2``, the
#: columns' squared weighted centred norms when the caller has them (else empty).
Target = namedtuple("Target", ["y_centred", "sw", "x_mean", "xty", "col_norms2"])

#: A gradient ``grad`` (length ``p``) and the centred residual ``residual`` (length ``n``) it
#: was computed at, usable if ``valid`` (see :func:`.design.bounded_gradient`).
Reference = namedtuple("Reference", ["grad", "residual", "valid"])

#: What :func:`enet_cd` returns: the duality ``gap`` and ``scaled_tol`` in the scale of
#: :mod:`.gap`, the epochs ``n_epochs``, the full-problem gap evaluations ``n_outer``
#: (working-set rounds), whether the reference is ``reference_valid`` at the end, the
#: ``handoff`` working-set size of a CSR fit that stopped for a CSC copy (else 0) and the
#: column ``norms2`` used (empty if the fit did not compute them).
CDResult = namedtuple("CDResult", ["gap", "scaled_tol", "n_epochs", "n_outer",
                                   "reference_valid", "handoff", "norms2"])

#: The working-set loop's per-feature workspace: ``all_features`` (``arange(p)``), the full
#: gradient ``grad``, the ``active``
#: (unscreened) features, their ``scores``, the mask ``in_ws`` of the last working set, the
#: features ``fresh`` whose exact correlations the last inner solve left in ``grad``, and the
#: CSR row scatter's ``row_buffers``.
Workspace = namedtuple("Workspace", ["all_features", "grad", "active", "scores", "in_ws",
                                     "fresh", "row_buffers"])


@njit(**JIT_OPTIONS)
def _restricted(penalty, free, ws):
    """The penalty and the unpenalised features' data of the working set ``ws`` (sorted),
    in its own numbering (the compact copies of its columns)."""
    sub = Penalty(penalty.l1_reg, penalty.l2_reg, penalty.factor[ws], penalty.lower[ws],
                  penalty.upper[ws], penalty.bounded)
    if free is None:
        return sub, free
    index = np.searchsorted(ws, free.index)
    return sub, Unpenalised(index, free.cross[ws], free.cross_y)


@njit(inline="always", **JIT_OPTIONS)
def _start_norms(X, data, indices, indptr, rows, gram, target, sw_sum, w, row_buffers,
                 use_working_sets, parallel):
    """The columns' squared norms and whether they are known. A CSR fit from zero with
    working sets computes them when it first needs them: its first working set, if of every
    violated constraint, needs none (its columns' norms come from their copy), and a fit
    certified after it never does. A constant (centred: zero) column does not change the
    fit, so any penalty makes its coefficient 0; CD never visits it, so a warm start's
    non-zero there is cleared here."""
    p = w.shape[0]
    norms_known = True
    if gram is not None and gram.shape[0] > 0:
        norms2 = np.diag(gram).copy()
    elif target.col_norms2.shape[0] == p:
        norms2 = target.col_norms2
    else:
        norms2 = np.empty(p, dtype=w.dtype)
        if rows is None:
            column_sq_norms(X, data, indices, indptr, target.sw, sw_sum, target.x_mean,
                            norms2)
        elif use_working_sets and not w.any():
            norms_known = False
        else:
            column_sq_norms_from_rows(data, indices, indptr, rows, row_buffers, target.sw,
                                      sw_sum, target.x_mean, norms2, parallel)
    for j in range(p if norms_known else 0):
        if norms2[j] == 0.0:
            w[j] = 0.0
    return norms2, norms_known


@njit(inline="always", **JIT_OPTIONS)
def _start_residual(X, data, indices, indptr, rows, gram, target, w):
    """``(gram_w, r, r_sum)``: the product ``G w`` for Gram epochs, or the centred residual
    and its weighted sum for epochs on the design (the other one empty)."""
    if gram is not None and gram.shape[0] > 0:
        return gram @ w, np.empty(0, dtype=w.dtype), 0.0
    r = np.empty(target.y_centred.shape[0], dtype=w.dtype)
    if rows is not None:
        if w.any():
            residual_from_rows(data, indices, indptr, target.y_centred, w, r)
        else:
            copy_into(r, target.y_centred)
    else:
        init_residual(X, data, indices, indptr, target.y_centred, target.x_mean, w, r)
    return np.empty(0, dtype=w.dtype), r, weighted_sum(r, target.sw)


@njit(inline="always", **JIT_OPTIONS)
def _full_gap(X, data, indices, indptr, rows, gram, free, target, sw_sum, y_norm2, w, r,
              r_sum, gram_w, norms, penalty, reference, has_ref, space, has_fresh, parallel):
    """One round's full gradient (in ``space.grad``) and duality gap: ``(gap, dual_norm,
    has_ref)``. The correlations the reference bounds below the threshold, or the last inner
    solve left exact (``has_fresh``), are not computed again."""
    all_features = space.all_features
    if gram is not None and gram.shape[0] > 0:
        gap, dual_norm = gram_gap(gram, target.xty, y_norm2, w, gram_w, penalty, free,
                                  all_features, space.grad)
        return gap, dual_norm, has_ref
    if rows is not None:
        has_ref = _gradient_from_rows(data, indices, indptr, rows, space.row_buffers,
                                      target.sw, target.x_mean, r, r_sum, w, all_features,
                                      reference.grad, reference.residual, has_ref, space.grad,
                                      parallel)
    else:
        use_ref = has_ref and free is None
        fresh = space.fresh if has_fresh else np.zeros(0, dtype=np.bool_)
        has_ref, _ = bounded_gradient(
            X, data, indices, indptr, target.sw, target.x_mean, r, r_sum,
            residual_offset(indptr, target.x_mean, w, all_features), w, norms, penalty,
            reference.grad, reference.residual, use_ref, space.grad, fresh, parallel)
    if has_fresh:
        space.fresh[:] = False
    r_norm2, r_dot_y = residual_statistics(indptr, target.y_centred, target.sw, sw_sum,
                                           target.x_mean, w, r, r_sum, all_features)
    gap, dual_norm = gap_from_statistics(w, space.grad, all_features, r_norm2, r_dot_y,
                                         penalty, free)
    return gap, dual_norm, has_ref


@njit(inline="always", **JIT_OPTIONS)
def _next_working_set(first, space, n_active, ws_size, n_outer, use_working_sets):
    """The next round's working set and whether it is ``settled`` (solved to ``tol`` at
    once): every violated constraint and the support when the violated ones are few (see
    :func:`.working_set.violated_first_set`; at a first round if they are more than the set
    would hold, at every later round of a sparse fit: ``first``, empty otherwise), else the
    best scored features. Once the last set held all of this one, it is settled. Returns
    ``(ws, settled, ws_size)``."""
    if not use_working_sets:
        return np.flatnonzero(space.active), True, ws_size
    ws = first
    if ws.shape[0] > 0:
        settled = n_outer > 1 and _all_inside(ws, space.in_ws)
    else:
        settled = n_outer > 1 and violations_inside(space.scores, space.in_ws)
        ws = working_set_from_scores(space.scores, n_active, ws_size)
    space.in_ws[:] = False
    space.in_ws[ws] = True
    return ws, settled, max(ws_size, ws.shape[0])


@njit(inline="always", **JIT_OPTIONS)
def _norms_from_rows(data, indices, indptr, rows, target, sw_sum, norms2, penalty, space,
                     parallel):
    """Compute a CSR fit's deferred column norms (in place in ``norms2``), screen out the
    constant columns and return their inverse (:func:`.working_set.inverse_norms`)."""
    column_sq_norms_from_rows(data, indices, indptr, rows, space.row_buffers, target.sw,
                              sw_sum, target.x_mean, norms2, parallel)
    for j in range(norms2.shape[0]):
        if norms2[j] == 0.0:
            space.active[j] = False
    return inverse_norms(norms2, penalty)


@njit(inline="always", **JIT_OPTIONS)
def _solve_on_set(X, data, indices, indptr, rows, gram, free, target, sw_sum, y_norm2, norms2,
                  norms_known, gram_w, w, r, r_sum, penalty, ws, ws_copy, share, inner_tol,
                  max_epochs, options, space, stop):
    """Epochs on the working set ``ws`` (:func:`_inner_solve`), in place or, for a sparse
    design, on a compact copy of its columns (``ws_copy``: the copy a CSR fit took out of
    its rows) in the set's own numbering: every non-zero of ``w`` is in ``ws``, so the
    restricted problem is the same. Returns ``(epochs, r_sum)``."""
    sub_data, sub_indices, sub_indptr = data, indices, indptr
    sub_mean, sub_norms2, sub_w, sub_ws, sub_grad = target.x_mean, norms2, w, ws, space.grad
    sub_penalty, sub_free = penalty, free
    compact = rows is not None or (sparse_design(indptr) and share <= COMPACT_SHARE)
    if indptr is not None:  # (None: a dense design, never copied; known when compiling)
        if compact:
            sub_data, sub_indices, sub_indptr = ws_copy
            if rows is None:
                sub_data, sub_indices, sub_indptr = take_columns(data, indices, indptr, ws)
            sub_norms2 = norms2[ws]
            if not norms_known:
                column_sq_norms(X, sub_data, sub_indices, sub_indptr, target.sw, sw_sum,
                                target.x_mean[ws], sub_norms2)
            sub_penalty, sub_free = _restricted(penalty, free, ws)
            sub_mean, sub_w, sub_ws = target.x_mean[ws], w[ws], np.arange(ws.shape[0])
            sub_grad = np.empty(ws.shape[0], dtype=w.dtype)
    # (one call site: the inner solve is compiled once, inlined here)
    epochs, r_sum = _inner_solve(X, sub_data, sub_indices, sub_indptr, target.y_centred,
                                 target.sw, sw_sum, sub_mean, sub_norms2, gram, target.xty,
                                 y_norm2, gram_w, sub_w, r, r_sum, sub_penalty, sub_free,
                                 sub_ws, inner_tol, max_epochs, options, sub_grad, stop)
    if compact:
        if indptr is not None:  # (dense designs are never copied: known when compiling)
            for a in range(ws.shape[0]):
                w[ws[a]] = sub_w[a]
    elif space.fresh.shape[0] > 0 and epochs > 0:
        # A dense set solved in place ends on a gap check that leaves its exact
        # correlations in grad: the next round need not compute them again.
        space.fresh[ws] = True
    return epochs, r_sum


@njit(**JIT_OPTIONS)
def enet_cd(X, data, indices, indptr, rows, gram, free, target, w, reference, penalty,
            options, stop):
    """Solve the elastic net by coordinate descent, in place in ``w``; returns a
    :data:`CDResult`.

    The design is ``(X, data, indices, indptr)`` (``indptr`` None for a dense one); ``rows``
    is None, or the row chunks (:func:`.csr.row_chunks_for`) of a CSR design read in place
    (:mod:`.csr`); ``gram``, when not None, replaces the design in the epochs (with
    ``target.xty``). ``free`` holds the unpenalised features' data for the dual point
    (:data:`.gap.Unpenalised`, None if there are none; every working set holds them, and
    screening is off with them). ``target`` is a :data:`Target`, ``reference`` a
    :data:`Reference` (not used with unpenalised features, whose projection its bounds do
    not cover), ``penalty`` the per-feature factors and bounds (:mod:`.penalty`),
    ``options`` the :data:`CDOptions`. Each round computes the full gradient and the duality
    gap, screens, and solves a working set to a fraction of the gap; the loop ends when the
    gap is below ``tol * y_c^T S y_c`` (scikit-learn's rule), after ``max_iter`` epochs in
    all, or once ``stop[0]`` is set (an interrupt: :mod:`fastl1._interrupt`). A CSR fit
    whose next working set would copy too many columns out of the rows
    (:func:`_columns_wanted`) stops before that set's epochs with ``handoff`` = its size,
    ``w`` at the current iterate and the reference holding its exact gradient, for the
    caller to go on from a CSC copy at no extra gradient. Compile-time dispatch: module
    docstring of :mod:`fastl1._kernels`.
    """
    n, p = target.y_centred.shape[0], w.shape[0]
    if options.random:
        np.random.seed(options.seed)  # noqa: NPY002 (seeds Numba's per-thread RNG)
    use_gram = False
    if gram is not None:  # (None: residual updates, known when compiling)
        use_gram = gram.shape[0] > 0
    sparse = sparse_design(indptr)
    sw_sum = float(n) if target.sw.shape[0] == 0 else target.sw.sum()
    y_norm2 = weighted_dot(target.y_centred, target.y_centred, target.sw)
    scaled_tol = options.tol * y_norm2
    screening = options.screening and penalty.l1_reg > 0.0 and free is None
    use_working_sets = options.working_sets and penalty.l1_reg > 0.0
    ranked = screening or use_working_sets
    space = Workspace(np.arange(p), np.zeros(p, dtype=w.dtype), np.ones(p, dtype=np.bool_),
                      np.empty(p if ranked else 0, dtype=np.float64),
                      np.zeros(p if use_working_sets else 0, dtype=np.bool_),
                      np.zeros(p if not use_gram and not sparse else 0, dtype=np.bool_),
                      np.empty((0 if rows is None else rows.shape[0] - 1, p)))
    norms2, norms_known = _start_norms(X, data, indices, indptr, rows, gram, target, sw_sum,
                                       w, space.row_buffers, use_working_sets,
                                       options.parallel)
    gram_w, r, r_sum = _start_residual(X, data, indices, indptr, rows, gram, target, w)
    norms = norms2[:0]  # (the column norms, for bounded_gradient)
    if rows is None:
        norms = np.empty(p, dtype=norms2.dtype)
        for j in range(p):
            norms[j] = np.sqrt(norms2[j])
    for j in range(p if norms_known else 0):  # constant columns never enter
        if norms2[j] == 0.0:
            space.active[j] = False
    inv_norms = np.empty(0, dtype=np.float64)
    if ranked and norms_known:
        inv_norms = inverse_norms(norms2, penalty)
    copied = np.empty(0, dtype=np.int64)  # the columns of the last copy out of the rows
    ws_copy = (data[:0].copy(), indices[:0].copy(), np.zeros(1, dtype=indices.dtype))
    ws_size, last_ws_size, has_ref, has_fresh = options.ws_start, p + 1, reference.valid, False
    n_epochs = n_outer = n_active = support = 0
    while True:
        n_outer += 1
        gap, dual_norm, has_ref = _full_gap(X, data, indices, indptr, rows, gram, free,
                                            target, sw_sum, y_norm2, w, r, r_sum, gram_w,
                                            norms, penalty, reference, has_ref, space,
                                            has_fresh, options.parallel)
        if gap <= scaled_tol or n_epochs >= options.max_iter or stop[0]:
            break
        if norms_known and ranked:
            n_active, support = screen_and_score(w, space.grad, inv_norms, penalty, dual_norm,
                                                 gap, screening, space.active, space.scores)
            if use_working_sets:
                ws_size = max(ws_size, working_set_growth(support, last_ws_size, n, p))
        first = space.all_features[:0]
        if use_working_sets and (n_outer == 1 or sparse):
            first = violated_first_set(w, space.grad, penalty, space.active,
                                       ws_size if n_outer == 1 else 0)
        if rows is not None and not norms_known and first.shape[0] == 0:
            # A set ranked by the scores: the deferred norms are needed now.
            inv_norms = _norms_from_rows(data, indices, indptr, rows, target, sw_sum, norms2,
                                         penalty, space, options.parallel)
            norms_known = True
            n_active, support = screen_and_score(w, space.grad, inv_norms, penalty, dual_norm,
                                                 gap, screening, space.active, space.scores)
            ws_size = max(ws_size, working_set_growth(support, last_ws_size, n, p))
        ws, settled, ws_size = _next_working_set(first, space, n_active, ws_size, n_outer,
                                                 use_working_sets)
        last_ws_size = ws.shape[0] if use_working_sets else last_ws_size
        if rows is not None:
            # Copy the set's columns out of the rows (those of the last copy from it, the
            # others in one pass over the rows), or hand over to a CSC copy of X.
            if _columns_wanted(p, ws, copied, space.grad, penalty):
                return CDResult(gap, scaled_tol, n_epochs, n_outer, has_ref, ws.shape[0],
                                norms2 if norms_known else norms2[:0])
            ws_copy = take_columns_from_rows(data, indices, indptr, rows, p, ws, copied,
                                             ws_copy[0], ws_copy[1], ws_copy[2],
                                             options.parallel)
            copied = ws
            share = ws_copy[2][ws.shape[0]] / max(indptr[n], 1)
        else:
            share = _share_of_data(indptr, n, p, ws)
        # Solve the subproblem to a fraction of the current gap (celer uses 0.3). The
        # fraction shrinks with the working set's share of the data: when an epoch on the
        # set costs little next to the full gradient of the next round, fewer rounds win.
        inner_tol = scaled_tol if settled else \
            max(min(0.3, max(0.1, share)) * gap, scaled_tol)
        epochs, r_sum = _solve_on_set(X, data, indices, indptr, rows, gram, free, target,
                                      sw_sum, y_norm2, norms2, norms_known, gram_w, w, r,
                                      r_sum, penalty, ws, ws_copy, share, inner_tol,
                                      options.max_iter - n_epochs, options, space, stop)
        has_fresh = space.fresh.shape[0] > 0 and epochs > 0  # (dense sets: in place)
        n_epochs += epochs
    return CDResult(gap, scaled_tol, n_epochs, n_outer, has_ref, 0,
                    norms2 if norms_known else norms2[:0])
