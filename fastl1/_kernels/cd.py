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


@njit(**JIT_OPTIONS)
def enet_cd(X, data, indices, indptr, y_centred, sw, x_mean, gram, xty, col_norms2, w,
            grad_ref, r_ref, has_ref, penalty, free, options, stop, rows):
    """Solve the elastic net by coordinate descent, in place in ``w``.

    The design is ``(X, data, indices, indptr)``, ``indptr`` None for a dense one; when
    ``gram`` is not None the epochs use it (with ``xty = X_c^T S y_c``) and the design is not
    read. ``col_norms2`` holds the
    squared weighted norms of the centred columns when the caller has them (a path reuses
    them for every alpha); empty, they are computed here (by a CSR fit from zero, only if a
    working set is ranked by the scores, see below). ``grad_ref`` (length ``p``) and
    ``r_ref`` (length ``n``) hold a gradient and the centred residual it was computed at
    (valid if ``has_ref``; not used with unpenalised features, whose projection the bounds
    do not cover): each round computes exactly only the correlations that this
    reference cannot bound below the threshold (:func:`.design.bounded_gradient`), and a
    path hands the reference from one alpha to the next. The solution is certified on the
    full problem: the loop ends when the duality gap is below ``tol * y_c^T S y_c``
    (scikit-learn's rule) or after ``max_iter`` epochs in all. ``penalty`` holds the
    per-feature factors and bounds (:mod:`.penalty`), ``free`` the unpenalised features'
    data for the dual point (:data:`.gap.Unpenalised`, None if there are none; every working
    set holds those features, and screening is off with them). ``options``
    (:data:`CDOptions`) holds the solver's settings. ``support_sweeps`` ends each epoch on a
    working set with a pass over its non-zero coefficients (see ``SUPPORT_SWEEP_SHARE``).
    With ``parallel`` the full gradient of each round runs on Numba's threads (never from
    concurrent Python threads).
    The fit ends early, wherever it is, once ``stop[0]`` is set (:mod:`fastl1._interrupt`).

    ``rows`` is None, or the row chunks (:func:`.csr.row_chunks_for`) of a CSR design whose
    CSR arrays are passed, read in place (see :mod:`.csr`): each round's gradient is then a
    scatter over the rows, and every working set is solved on a compact CSC copy of its
    columns. A CSR fit from zero whose first working set is every violated constraint
    (:func:`.working_set.violated_first_set`) takes that set's norms from its copy, and the
    full problem's (a row scatter of ``X^2``, ~2 ms for 2M non-zeros) only if a later round
    ranks features by their scores.

    Compile-time dispatch: every CSR-only step sits under ``rows is not None``, every
    sparse-only one under ``indptr is not None``, the Gram matrix's under ``gram is not
    None`` and the projection of unpenalised features under ``free is not None`` (in this
    function or in the callee that receives the argument): tests Numba resolves when it
    compiles for a None argument, so each kind of fit compiles only its own code (with
    runtime flags instead, the first dense fit compiled the row kernels too, 16-22 s longer).
    The inner solve, extrapolation and support steps (each called from one place only) are
    inlined here: a separate function would be optimised and turned into machine code once on
    its own and once more inside this one.

    Returns ``(gap, scaled_tol, n_epochs, n_outer, has_ref, handoff, norms2)``; ``gap`` is
    in the scale of :mod:`.gap`, ``n_outer`` counts full-problem gap evaluations (working-set
    rounds). ``handoff`` is 0, except on a CSR design whose next working set would copy too
    many columns out of the rows (:func:`_columns_wanted`): the fit then stops before that
    set's epochs and returns its size; ``w`` is the current iterate, and ``grad_ref`` and
    ``r_ref`` hold its exact gradient, so the caller can convert X to CSC and go on from
    there with ``ws_start`` = that size, at no extra gradient. ``norms2`` holds the column
    norms used (for the caller to keep), or is empty if the fit did not compute them.
    """
    n = y_centred.shape[0]
    p = w.shape[0]
    max_iter, tol, random, seed, use_working_sets, screening, anderson_k, support_sweeps, \
        ws_start, parallel = options
    if random:
        np.random.seed(seed)  # noqa: NPY002 (seeds Numba's per-thread RNG)
    use_gram = False
    if gram is not None:  # (None: residual updates, known when compiling)
        use_gram = gram.shape[0] > 0
    sparse = sparse_design(indptr)
    sw_sum = float(n) if sw.shape[0] == 0 else sw.sum()
    y_norm2 = weighted_dot(y_centred, y_centred, sw)
    scaled_tol = tol * y_norm2
    all_features = np.arange(p)
    grad = np.zeros(p, dtype=w.dtype)
    active = np.ones(p, dtype=np.bool_)

    has_free = False
    if free is not None:  # (None: no unpenalised feature, known when compiling)
        has_free = free.index.shape[0] > 0
    screening = screening and penalty.l1_reg > 0.0 and not has_free
    use_working_sets = use_working_sets and penalty.l1_reg > 0.0

    # CSR: scatter buffers for the gradients, and the last working set's compact copy.
    row_buffers = np.empty((0, 0), dtype=np.float64)
    if rows is not None:
        row_buffers = np.empty((rows.shape[0] - 1, p), dtype=np.float64)
    copied = np.empty(0, dtype=np.int64)  # the columns of the last copy out of the rows
    ws_data = data[:0].copy()
    ws_indices = indices[:0].copy()
    ws_indptr = np.zeros(1, dtype=indices.dtype)

    norms_known = True
    if gram is not None and use_gram:
        norms2 = np.diag(gram).copy()
    elif col_norms2.shape[0] == p:
        norms2 = col_norms2
    else:
        norms2 = np.empty(p, dtype=w.dtype)
        if rows is None:
            column_sq_norms(X, data, indices, indptr, sw, sw_sum, x_mean, norms2)
        elif use_working_sets and not w.any():
            # A CSR fit from zero computes the norms when it first needs them: its first
            # working set, if of every violated constraint, needs none (its columns' norms
            # come from their copy), and a fit certified after it never does.
            norms_known = False
        else:
            column_sq_norms_from_rows(data, indices, indptr, rows, row_buffers, sw, sw_sum,
                                      x_mean, norms2, parallel)
    # A constant (centred: zero) column does not change the fit, so any penalty makes its
    # coefficient 0; CD never visits it, so a warm start's non-zero there is cleared here.
    for j in range(p if norms_known else 0):
        if norms2[j] == 0.0:
            w[j] = 0.0
    if gram is not None and use_gram:
        gram_w = gram @ w
        r = np.empty(0, dtype=w.dtype)
        r_sum = 0.0
    else:
        gram_w = np.empty(0, dtype=w.dtype)
        r = np.empty(n, dtype=w.dtype)
        if rows is not None:
            if w.any():
                residual_from_rows(data, indices, indptr, y_centred, w, r)
            else:
                copy_into(r, y_centred)
        else:
            init_residual(X, data, indices, indptr, y_centred, x_mean, w, r)
        r_sum = weighted_sum(r, sw)
    norms = norms2[:0]  # (the column norms, for bounded_gradient)
    if rows is None:
        norms = np.empty(p, dtype=norms2.dtype)
        for j in range(p):
            norms[j] = np.sqrt(norms2[j])
    # Constant columns can never enter (and make screening and scores divide by zero).
    for j in range(p if norms_known else 0):
        if norms2[j] == 0.0:
            active[j] = False
    ws_size = ws_start
    last_ws_size = p + 1  # no working set yet
    inv_norms = np.empty(0, dtype=np.float64)
    if (screening or use_working_sets) and norms_known:
        inv_norms = inverse_norms(norms2, penalty)
    scores = np.empty(p if screening or use_working_sets else 0, dtype=np.float64)
    n_active = p
    support = 0
    # Dense working sets are solved in place, and the inner solve ends on a gap check that
    # leaves their exact correlations in grad: the next round need not compute them again.
    fresh = np.zeros(p if not use_gram and not sparse else 0, dtype=np.bool_)
    no_fresh = np.zeros(0, dtype=np.bool_)
    has_fresh = False

    n_epochs = 0
    n_outer = 0
    in_ws = np.zeros(p if use_working_sets else 0, dtype=np.bool_)  # the last working set
    while True:
        n_outer += 1
        if use_gram:
            gap, dual_norm = gram_gap(gram, xty, y_norm2, w, gram_w, penalty, free,
                                      all_features, grad)
        else:
            if rows is not None:
                has_ref = _gradient_from_rows(data, indices, indptr, rows, row_buffers, sw,
                                              x_mean, r, r_sum, w, all_features, grad_ref,
                                              r_ref, has_ref, grad, parallel)
            else:
                has_ref, _ = bounded_gradient(
                    X, data, indices, indptr, sw, x_mean, r, r_sum,
                    residual_offset(indptr, x_mean, w, all_features), w, norms, penalty,
                    grad_ref, r_ref, has_ref and not has_free, grad,
                    fresh if has_fresh else no_fresh, parallel)
            if has_fresh:
                fresh[:] = False
                has_fresh = False
            r_norm2, r_dot_y = residual_statistics(indptr, y_centred, sw, sw_sum, x_mean, w,
                                                   r, r_sum, all_features)
            gap, dual_norm = gap_from_statistics(w, grad, all_features, r_norm2, r_dot_y,
                                                 penalty, free)
        if gap <= scaled_tol or n_epochs >= max_iter or stop[0]:
            break
        if norms_known and (screening or use_working_sets):
            n_active, support = screen_and_score(w, grad, inv_norms, penalty, dual_norm, gap,
                                                 screening, active, scores)
            if use_working_sets:
                ws_size = max(ws_size, working_set_growth(support, last_ws_size, n, p))
        # Every violated constraint and the support, when the violated ones are few (see
        # violated_first_set): at a first round if they are more than the set would hold,
        # and at every later round of a sparse fit.
        ws = all_features[:0]
        if use_working_sets and (n_outer == 1 or sparse):
            ws = violated_first_set(w, grad, penalty, active, ws_size if n_outer == 1 else 0)
        if rows is not None:
            if not norms_known and ws.shape[0] == 0:  # a set ranked by the scores
                column_sq_norms_from_rows(data, indices, indptr, rows, row_buffers, sw,
                                          sw_sum, x_mean, norms2, parallel)
                norms_known = True
                for j in range(p):
                    if norms2[j] == 0.0:
                        active[j] = False
                inv_norms = inverse_norms(norms2, penalty)
                n_active, support = screen_and_score(w, grad, inv_norms, penalty, dual_norm,
                                                     gap, screening, active, scores)
                ws_size = max(ws_size, working_set_growth(support, last_ws_size, n, p))
        if use_working_sets:
            if ws.shape[0] > 0:
                # Once the last set held all of this one, it is solved to tol at once.
                settled = n_outer > 1 and _all_inside(ws, in_ws)
            else:
                settled = n_outer > 1 and violations_inside(scores, in_ws)
                ws = working_set_from_scores(scores, n_active, ws_size)
            ws_size = max(ws_size, ws.shape[0])
            last_ws_size = ws.shape[0]
            in_ws[:] = False
            in_ws[ws] = True
        else:
            settled = True
            ws = np.flatnonzero(active)
        if rows is not None:
            # Copy the set's columns out of the rows: those of the last copy from it, the
            # others in one pass over the rows; or hand over to a CSC copy of X.
            if _columns_wanted(p, ws, copied, grad, penalty):
                return (gap, scaled_tol, n_epochs, n_outer, has_ref, ws.shape[0],
                        norms2 if norms_known else norms2[:0])
            ws_data, ws_indices, ws_indptr = take_columns_from_rows(
                data, indices, indptr, rows, p, ws, copied, ws_data, ws_indices, ws_indptr,
                parallel)
            copied = ws
            share = ws_indptr[ws.shape[0]] / max(indptr[n], 1)
        else:
            share = _share_of_data(indptr, n, p, ws)
        # Solve the subproblem to a fraction of the current gap (celer uses 0.3). The
        # fraction shrinks with the working set's share of the data: when an epoch on the
        # set costs little next to the full gradient of the next round, fewer rounds win.
        # Once the last set held every violated constraint, it is solved to tol at once.
        inner_tol = scaled_tol if settled else \
            max(min(0.3, max(0.1, share)) * gap, scaled_tol)
        sub_data, sub_indices, sub_indptr = data, indices, indptr
        sub_mean, sub_norms2, sub_w, sub_ws, sub_grad = x_mean, norms2, w, ws, grad
        sub_penalty, sub_free = penalty, free
        compact = rows is not None or (sparse and share <= COMPACT_SHARE)
        if indptr is not None:  # (None: a dense design, never copied; known when compiling)
            if compact:
                # Epochs on a compact copy of the set's columns, in the set's own numbering
                # (every non-zero of w is in ws, so the restricted problem is the same).
                if rows is None:
                    ws_data, ws_indices, ws_indptr = take_columns(data, indices, indptr, ws)
                sub_norms2 = norms2[ws]
                if not norms_known:
                    column_sq_norms(X, ws_data, ws_indices, ws_indptr, sw, sw_sum, x_mean[ws],
                                    sub_norms2)
                sub_penalty, sub_free = _restricted(penalty, free, ws)
                sub_data, sub_indices, sub_indptr = ws_data, ws_indices, ws_indptr
                sub_mean, sub_w, sub_ws = x_mean[ws], w[ws], np.arange(ws.shape[0])
                sub_grad = np.empty(ws.shape[0], dtype=w.dtype)
        # (one call site: the inner solve is compiled once, inlined here)
        epochs, r_sum = _inner_solve(X, sub_data, sub_indices, sub_indptr, y_centred, sw,
                                     sw_sum, sub_mean, sub_norms2, gram, xty, y_norm2, gram_w,
                                     sub_w, r, r_sum, sub_penalty, sub_free, sub_ws, inner_tol,
                                     max_iter - n_epochs, options, sub_grad, stop)
        if compact:
            if indptr is not None:  # (dense designs are never copied: known when compiling)
                for a in range(ws.shape[0]):
                    w[ws[a]] = sub_w[a]
        elif fresh.shape[0] > 0 and epochs > 0:
            fresh[ws] = True
            has_fresh = True
        n_epochs += epochs
    return gap, scaled_tol, n_epochs, n_outer, has_ref, 0, norms2 if norms_known else norms2[:0]
