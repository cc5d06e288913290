"""Logistic datafit kernels: binary and multinomial L1 / elastic-net logistic regression.

All kernels solve, in place in ``W`` (shape ``(K, p)``) and ``b`` (shape ``(K,)``)::

    min  sum_i s_i loss(z_i, y_i) + sum_kj f_j (l1 |W_kj| + l2 / 2 W_kj^2),   z_i = W x_i + b
    subject to  lower_j <= W_kj <= upper_j

with non-negative sample weights ``s`` and the per-feature factors ``f`` and bounds
(``lower_j <= 0 <= upper_j``) of a :class:`fastl1._kernels.penalty.Penalty` (``l1``, ``l2``
are its ``l1_reg``, ``l2_reg``); a feature's factor and bounds hold for each of its ``K``
class coefficients. Write ``l1_j = l1 f_j``, ``l2_j = l2 f_j``. ``K == 1`` is the binary
logistic loss ``log(1 + exp(z)) - y z`` (``y`` in {0, 1}); ``K >= 2`` is the multinomial loss
``logsumexp(z) - z_y`` (``y`` in {0, ..., K-1}, stored as floats). Linear predictors ``Z``,
gradients and curvatures are float64 whatever the dtype of the design.

Design layout
-------------
The design is ``(A, data, indices, indptr, transposed)``, the four arrays of
:mod:`fastl1._kernels.design` plus a flag. With ``transposed=False``, ``A`` is ``X``
(F-ordered) or the arrays are the CSC arrays of ``X``; with ``transposed=True``, ``A`` is
``X.T`` (an F-ordered view of a C-ordered ``X``) or the arrays are the CSR arrays of ``X``
(= the CSC arrays of ``X.T``). So C-ordered dense and CSR input are read in place, never
copied or converted: the full gradient ``X^T R`` streams them by rows, and the columns of a
working set are copied into a small F-ordered / CSC sub-design on which the inner solver runs.

Solver (:func:`prox_newton`)
----------------------------
Proximal Newton with working sets (Lee, Sun & Saunders, SIAM J. Optim. 2014; glmnet:
Friedman, Hastie & Tibshirani, JSS 2010; blitz: Johnson & Guestrin, ICML 2015; skglm's
``ProxNewton``: Bertrand et al., NeurIPS 2022). Outer loop: full gradient ``G = R X`` with
``R = S (P - Y)``, optimality violation of every coefficient; stop when the largest one is
below ``tol``; otherwise take the support plus the most violating features (working set of
size ``max(ws_start, 2 |support|)``) and solve the problem restricted to it to a fraction of
the current violation. Inner loop: the quadratic model of the loss with the per-class diagonal
curvature ``h_ik = s_i p_ik (1 - p_ik)`` (exact Hessian for binary; the block-diagonal-per-class
approximation of the multinomial Hessian, as glmnet's multinomial "partial Newton") is
minimised by coordinate descent, the intercepts being unpenalised coordinates of the same
model; then a backtracking line search along the Newton direction with skglm's test
``pen(w + t d) - pen(w) + t grad(w + t d) . d < 0``, which by convexity implies an objective
decrease and, unlike a difference of objective values, does not lose precision near the
optimum; a step past the minimum along the direction is taken too when the objective
decreased (:func:`_accept_step`). Along a path the first working set is the sequential
strong rule's set (Tibshirani et al., JRSS-B 2012), solved to the final tolerance at once.

The violation of coefficient ``w`` of feature ``j`` with loss gradient ``g`` (the column of
``G``) is ``|g + l2_j w + l1_j sign(w)|`` for ``w`` strictly inside its bounds and
``max(|g + l2_j w| - l1_j, 0)`` for ``w == 0`` (counting only the sides where ``w`` can
move); at a bound only the part pointing back into the box counts. The intercept's is
``|sum_i R_ik|``. It is the distance of minus the smooth part's gradient to the
subdifferential of the penalty plus the bounds' normal cone, as in skglm. Coordinate updates
of the quadratic model are clipped to the bounds, which is exact (a one-dimensional convex
problem over an interval holding zero). Unpenalised features (``f_j = 0``) are in every
working set.

:func:`fista` is accelerated proximal gradient (Beck & Teboulle 2009) with backtracking on
the step and gradient-based adaptive restart (O'Donoghue & Candes 2015); it only needs
``X w`` and ``X^T r``, so it runs on every layout by rows or columns.

Duality gap (:func:`dual_gap`, without intercept): with ``a_i = (1 - c) y_i + c p_i`` (binary)
or ``a_i = (1 - c) e_{y_i} + c p_i`` (multinomial), the Fenchel dual value is
``-sum_i s_i sum_k a_ik log a_ik - pen*(-c G)`` (the conjugate of the loss is the negative
entropy on the simplex). ``c`` is the largest value ``<= 1`` that keeps ``c |G_kj| <= l1_j``
for the features without a ridge term on the sides without a bound; the conjugate is
``(|v| - l1_j)_+^2 / (2 l2_j)`` for a ridge term (the bound's value where the maximiser passes
it) and ``B (|v| - l1_j)_+`` for a finite bound ``B`` without one (celer: Massias, Gramfort &
Salmon, ICML 2018; Ndiaye et al., JMLR 2017). With all factors 1 and no bounds this is
``c = min(1, l1 / max |G|)`` for pure L1 and ``c = 1`` for the elastic net. An unpenalised
feature unbounded on a side has the constraint ``x_j^T theta = 0``, which no scaling of the
residuals satisfies: there the gap is no certificate and the callers stop on the KKT
violation.
"""

import numpy as np
from numba import njit, prange

from . import JIT_OPTIONS, JIT_OPTIONS_DENSE
from .design import (
    column_dot,
    column_update,
    gradient,
    gradient_parallel,
    is_sparse,
    take_columns,
    worth_threads,
)
from .penalty import Penalty
from .prox import soft_threshold
from .working_set import select_working_set, working_set_growth

# Coordinate-descent epochs on one quadratic model, backtracking halvings per line search.
MAX_CD_EPOCHS = 50
MAX_BACKTRACK = 40
_CSC_COPY_AFTER = 2  # CSR input: working sets extracted by scans of X before one CSC copy
# Row chunks of the parallel row-major gradient, each with its own copy of G (a fixed number,
# not the thread count, so results do not depend on it), and columns per block of their sum.
_ROW_CHUNKS = 4
_SUM_BLOCK = 4096


# ---------------------------------------------------------------------------------------------
# loss, gradient and curvature


@njit(inline="always", **JIT_OPTIONS)
def _log1pexp(z):
    if z > 0.0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(inline="always", **JIT_OPTIONS)
def _log_sum_exp(Z, i):
    """``log sum_k exp(Z[k, i])``, shifted by the column's maximum so it cannot overflow."""
    zmax = Z[0, i]
    for k in range(1, Z.shape[0]):
        zmax = max(zmax, Z[k, i])
    total = 0.0
    for k in range(Z.shape[0]):
        total += np.exp(Z[k, i] - zmax)
    return zmax + np.log(total)


@njit(inline="always", **JIT_OPTIONS)
def _sigmoid(z):
    if z >= 0.0:
        return 1.0 / (1.0 + np.exp(-z))
    e = np.exp(z)
    return e / (1.0 + e)


@njit(**JIT_OPTIONS)
def link(Z, y, s, R, H, with_curvature):
    """Weighted loss ``sum_i s_i loss(z_i, y_i)`` of the linear predictors ``Z`` (K, n).

    Fills ``R[k, i] = s_i (p_ik - [y_i == k])`` (the loss's derivative in ``z_ik``) and, when
    ``with_curvature``, ``H[k, i] = s_i p_ik (1 - p_ik)`` (its diagonal second derivative).
    ``K == 1``: binary logistic loss with ``p = sigmoid(z)``; ``K >= 2``: multinomial loss with
    ``p = softmax(z)``. Computed stably for any finite ``z``.
    """
    K, n = Z.shape
    loss = 0.0
    if K == 1:
        for i in range(n):
            z = Z[0, i]
            p = _sigmoid(z)
            loss += s[i] * (_log1pexp(z) - y[i] * z)
            R[0, i] = s[i] * (p - y[i])
            if with_curvature:
                H[0, i] = s[i] * p * (1.0 - p)
        return loss
    for i in range(n):
        lse = _log_sum_exp(Z, i)
        c = int(y[i])
        loss += s[i] * (lse - Z[c, i])
        for k in range(K):
            p = np.exp(Z[k, i] - lse)
            R[k, i] = s[i] * (p - (1.0 if k == c else 0.0))
            if with_curvature:
                H[k, i] = s[i] * p * (1.0 - p)
    return loss


# The per-coordinate helpers below take a feature's factor and bounds as scalars: a call with
# array (or Penalty) arguments inside a loop costs Numba reference-count updates per call,
# measured 7-30 times the loop's own work over 1e5 features; loops read the arrays directly.


@njit(inline="always", **JIT_OPTIONS)
def _open_magnitude(g, lower, upper):
    """``|g|`` counted only on the sides where a coefficient at zero with these bounds can
    move to decrease the objective along ``-g`` (:func:`fastl1._kernels.penalty.
    entering_correlation` of ``-g``). The branch is on the bounds only, predictable, not on
    the sign of ``g``."""
    magnitude = abs(g)
    if not (upper > 0.0 and lower < 0.0):
        magnitude = max(-g if upper > 0.0 else 0.0, g if lower < 0.0 else 0.0)
    return magnitude


@njit(inline="always", **JIT_OPTIONS)
def coordinate_violation(w, g, l1, l2, lower, upper):
    """Distance of ``-g - l2 w`` to ``l1`` times the subdifferential of ``|w|`` plus the
    normal cone of the bounds at ``w`` (``l1``, ``l2``: the feature's strengths ``l1_reg
    f_j``, ``l2_reg f_j``): at a bound only the direction back into the box counts, at zero
    only the sides where the coefficient can move (:func:`fastl1._kernels.penalty.excess`)."""
    if w == 0.0:
        return max(_open_magnitude(g, lower, upper) - l1, 0.0)
    g = g + l2 * w
    if w > 0.0:
        if w >= upper:
            return max(g + l1, 0.0)
        return abs(g + l1)
    if w <= lower:
        return max(l1 - g, 0.0)
    return abs(g - l1)


@njit(**JIT_OPTIONS)
def penalty_value(W, penalty):
    """``sum_kj f_j (l1_reg |W_kj| + l2_reg / 2 W_kj^2)``: a feature's factor applies to each
    of its class coefficients."""
    l1 = 0.0
    l2 = 0.0
    for k in range(W.shape[0]):
        for j in range(W.shape[1]):
            factor = penalty.factor[j]
            l1 += factor * abs(W[k, j])
            l2 += factor * (W[k, j] * W[k, j])
    return penalty.l1_reg * l1 + 0.5 * penalty.l2_reg * l2


@njit(**JIT_OPTIONS)
def _sub_penalty(penalty, ws):
    """The penalty of the working set's columns (column ``c`` is feature ``ws[c]``)."""
    return Penalty(penalty.l1_reg, penalty.l2_reg, penalty.factor[ws], penalty.lower[ws],
                   penalty.upper[ws], penalty.bounded)


# ---------------------------------------------------------------------------------------------
# products with the design, in either orientation


@njit(**JIT_OPTIONS)
def _rows_sparse_range(data, indices, indptr, R, G, row_start, row_stop):
    """``G += R[:, rows] X[rows]`` for a CSR ``X`` (a scatter over the rows' non-zeros)."""
    K = R.shape[0]
    for i in range(row_start, row_stop):
        for k in range(K):
            r = R[k, i]
            if r != 0.0:
                for nz in range(indptr[i], indptr[i + 1]):
                    G[k, indices[nz]] += r * data[nz]


@njit(**JIT_OPTIONS_DENSE)
def _rows_dense_range(At, R, G, row_start, row_stop):
    """``G += R[:, rows] X[rows]`` with ``At = X.T`` (rows of X contiguous).

    Four rows at a time, so each pass over ``G`` does four multiply-adds per load and store
    while the rows stream from memory."""
    K = R.shape[0]
    p = G.shape[1]
    i = row_start
    while i + 4 <= row_stop:
        for k in range(K):
            r0 = R[k, i]
            r1 = R[k, i + 1]
            r2 = R[k, i + 2]
            r3 = R[k, i + 3]
            for j in range(p):
                G[k, j] += (r0 * At[j, i] + r1 * At[j, i + 1] + r2 * At[j, i + 2]
                            + r3 * At[j, i + 3])
        i += 4
    while i < row_stop:
        for k in range(K):
            r0 = R[k, i]
            for j in range(p):
                G[k, j] += r0 * At[j, i]
        i += 1


@njit(parallel=True, **JIT_OPTIONS)
def _rows_parallel(At, data, indices, indptr, R, G):
    """``G = R X`` for a row-major X (``At = X.T`` dense, or CSR arrays): a fixed number of
    row chunks (so the result does not depend on the thread count), each into its own copy
    of ``G``, summed afterwards. (Only used for dense X; see :func:`full_gradient`.)"""
    K, n = R.shape
    p = G.shape[1]
    n_chunks = _ROW_CHUNKS
    parts = np.zeros((n_chunks, K, p))
    chunk = (n + n_chunks - 1) // n_chunks
    sparse = is_sparse(indptr)
    for t in prange(n_chunks):
        start = min(t * chunk, n)
        stop = min(start + chunk, n)
        if sparse:
            _rows_sparse_range(data, indices, indptr, R, parts[t], start, stop)
        else:
            _rows_dense_range(At, R, parts[t], start, stop)
    n_blocks = (p + _SUM_BLOCK - 1) // _SUM_BLOCK
    for blk in prange(n_blocks):
        stop = min((blk + 1) * _SUM_BLOCK, p)
        for k in range(K):
            for j in range(blk * _SUM_BLOCK, stop):
                acc = 0.0
                for t in range(n_chunks):
                    acc += parts[t, k, j]
                G[k, j] = acc


@njit(**JIT_OPTIONS)
def full_gradient(A, data, indices, indptr, transposed, R, G, parallel):
    """``G = R X`` (``G[k] = X^T R[k]``) for every feature, on Numba's threads if
    ``parallel`` and the product is large enough to gain from them (never from several
    Python threads at once: see :func:`fastl1._kernels.design.gradient_parallel`)."""
    K, n = R.shape
    p = G.shape[1]
    # Waking the threads costs tens of microseconds, far more on a busy machine.
    parallel = parallel and worth_threads(indptr, n, p, K * p)
    if transposed:
        # CSR: sequential, since the per-chunk copies of G cost about what the threads save
        # (measured 3.9 ms sequential vs 5.8 ms on 4 chunks, 20000 x 100000, 2M non-zeros).
        if parallel and not is_sparse(indptr):
            _rows_parallel(A, data, indices, indptr, R, G)
        else:
            G[:] = 0.0
            if is_sparse(indptr):
                _rows_sparse_range(data, indices, indptr, R, G, 0, n)
            else:
                _rows_dense_range(A, R, G, 0, n)
        return
    features = np.arange(p)
    no_weights = np.empty(0, dtype=R.dtype)
    zeros = np.zeros(p, dtype=R.dtype)
    for k in range(K):
        if parallel:
            gradient_parallel(A, data, indices, indptr, no_weights, zeros, R[k], 0.0, features,
                              G[k])
        else:
            gradient(A, data, indices, indptr, no_weights, zeros, R[k], 0.0, features, G[k])


@njit(**JIT_OPTIONS)
def linear_predictor(A, data, indices, indptr, transposed, W, b, Z):
    """``Z[k] = X W[k] + b[k]``, visiting only the non-zeros of ``W``."""
    K, n = Z.shape
    for k in range(K):
        for i in range(n):
            Z[k, i] = b[k]
    if transposed and is_sparse(indptr):
        for i in range(n):
            for k in range(K):
                acc = 0.0
                for nz in range(indptr[i], indptr[i + 1]):
                    acc += data[nz] * W[k, indices[nz]]
                Z[k, i] += acc
        return
    for k in range(K):
        support = np.flatnonzero(W[k])
        if support.shape[0] == 0:
            continue
        if transposed:
            for i in range(n):
                acc = 0.0
                for j in support:
                    acc += A[j, i] * W[k, j]
                Z[k, i] += acc
        else:
            for j in support:
                column_update(A, data, indices, indptr, j, -W[k, j], 0.0, Z[k])


@njit(**JIT_OPTIONS)
def extract_columns(A, data, indices, indptr, transposed, ws, n, p, col_counts):
    """The columns ``ws`` of X as a compact design ``(Xs, data_s, indices_s, indptr_s)``:
    F-ordered dense ``(n, len(ws))`` for dense X, CSC arrays (with a 2 x 2 placeholder
    ``Xs``) for sparse X. A CSR X is scanned once; ``col_counts`` must then hold the number
    of non-zeros of every column (:func:`column_counts`), otherwise it is not read."""
    m = ws.shape[0]
    if not is_sparse(indptr):
        Xs = np.empty((m, n), dtype=A.dtype).T
        if transposed:
            for i in range(n):
                for c in range(m):
                    Xs[i, c] = A[ws[c], i]
        else:
            for c in range(m):
                j = ws[c]
                for i in range(n):
                    Xs[i, c] = A[i, j]
        return (Xs, np.empty(0, dtype=data.dtype), np.empty(0, dtype=indices.dtype),
                np.empty(0, dtype=indptr.dtype))
    Xs = np.zeros((2, 2), dtype=A.dtype).T
    sub_indptr = np.zeros(m + 1, dtype=indptr.dtype)
    if not transposed:
        sub_data, sub_indices, sub_indptr = take_columns(data, indices, indptr, ws)
        return Xs, sub_data, sub_indices, sub_indptr
    # CSR: the columns' sizes come from ``col_counts`` (one pass at the start of the fit), so
    # a single pass over the non-zeros fills them; a byte mask (L2-resident) filters the hits.
    member = np.zeros(p, dtype=np.bool_)
    position = np.empty(p, dtype=np.int64)
    for c in range(m):
        j = ws[c]
        member[j] = True
        position[j] = c
        sub_indptr[c + 1] = sub_indptr[c] + col_counts[j]
    nnz = sub_indptr[m]
    sub_data = np.empty(nnz, dtype=data.dtype)
    sub_indices = np.empty(nnz, dtype=indices.dtype)
    fill = sub_indptr[:m].copy()
    for i in range(indptr.shape[0] - 1):
        for nz in range(indptr[i], indptr[i + 1]):
            j = indices[nz]
            if member[j]:
                c = position[j]
                dest = fill[c]
                sub_data[dest] = data[nz]
                sub_indices[dest] = i
                fill[c] = dest + 1
    return Xs, sub_data, sub_indices, sub_indptr


@njit(**JIT_OPTIONS)
def column_counts(indices, p):
    """Non-zeros per column of a CSR matrix with ``p`` columns."""
    counts = np.zeros(p, dtype=np.int64)
    for nz in range(indices.shape[0]):
        counts[indices[nz]] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# proximal Newton on a working set


@njit(**JIT_OPTIONS)
def _weighted_sq_norm(X, data, indices, indptr, j, h):
    """``sum_i h_i X[i, j]^2``."""
    acc = 0.0
    if is_sparse(indptr):
        for nz in range(indptr[j], indptr[j + 1]):
            v = data[nz]
            acc += h[indices[nz]] * v * v
    else:
        for i in range(X.shape[0]):
            v = X[i, j]
            acc += h[i] * v * v
    return acc


@njit(**JIT_OPTIONS)
def _local_gradient(Xs, data_s, indices_s, indptr_s, R, G):
    """``G[k, c] = x_c^T R[k]`` for every column ``c`` of the compact design."""
    no_weights = np.empty(0, dtype=R.dtype)
    for k in range(R.shape[0]):
        for c in range(G.shape[1]):
            G[k, c] = column_dot(Xs, data_s, indices_s, indptr_s, c, R[k], no_weights)


@njit(**JIT_OPTIONS)
def _cd_pass(Xs, data_s, indices_s, indptr_s, Wl, H, Gt, curvature, mu, hb, S, penalty, D, Xd,
             active_only):
    """One coordinate-descent pass over the working set (only its non-zeros if
    ``active_only``) on the model of :func:`_newton_direction`, with the intercept eliminated:
    the columns are centred by their curvature-weighted means ``mu`` (implicitly: ``Xd``
    holds the uncentred ``X D`` and ``S[k] = sum_i H_ki Xd_ki``). Returns the largest change
    of a coordinate's model gradient. The coordinate minimiser of the quadratic model over
    the box ``[lower_c, upper_c]`` (which holds zero) is the clipped unbounded one."""
    K, m = Wl.shape
    change = 0.0
    factor, lower, upper = penalty.factor, penalty.lower, penalty.upper
    for c in range(m):
        l1 = penalty.l1_reg * factor[c]
        l2 = penalty.l2_reg * factor[c]
        for k in range(K):
            curv = curvature[k, c] + l2
            if curv <= 0.0:
                continue
            old = Wl[k, c] + D[k, c]
            if active_only and old == 0.0:
                continue
            grad = Gt[k, c] + column_dot(Xs, data_s, indices_s, indptr_s, c, Xd[k], H[k]) \
                - mu[k, c] * S[k]
            # fastl1._kernels.penalty.coordinate_update, on scalars (see coordinate_violation)
            new = min(max(soft_threshold(curvature[k, c] * old - grad, l1) / curv, lower[c]),
                      upper[c])
            diff = new - old
            if diff != 0.0:
                D[k, c] = new - Wl[k, c]
                column_update(Xs, data_s, indices_s, indptr_s, c, -diff, 0.0, Xd[k])
                S[k] += diff * mu[k, c] * hb[k]
                change = max(change, abs(diff) * curv)
    return change


@njit(**JIT_OPTIONS)
def _newton_direction(Xs, data_s, indices_s, indptr_s, Wl, H, Gl, gb, hb, Hcc, penalty,
                      fit_intercept, cd_tol, D, Db, Xd):
    """Minimise the quadratic model of the loss plus the penalty by coordinate descent.

    The model at ``(Wl, b)`` is ``Gl . D + gb . Db + 1/2 sum_k ||diag(H_k)^(1/2) Xd_k||^2
    + pen(Wl + D)`` with ``Xd_k = X D_k + Db_k``. Fills the direction ``(D, Db)`` and
    ``Xd``. glmnet's scheme: a pass over the whole working set, then passes over its
    non-zeros until they settle, repeated until a whole pass moves no coordinate's model
    gradient by more than ``cd_tol``.

    The unpenalised intercept is minimised out of the model exactly: ``Db_k = -(gb_k +
    sum_i H_ki (X D_k)_i) / hb_k``, which leaves ``(Gl - gb mu) . D + 1/2 sum_k
    ||diag(H_k)^(1/2) (X - 1 mu_k) D_k||^2`` with ``mu_kc`` the ``H_k``-weighted mean of
    column ``c`` (``hb_k = sum_i H_ki``). Coordinate descent on the centred columns does not
    zig-zag between the intercept and columns of non-zero mean (glmnet centres its
    columns for the same reason; Friedman, Hastie & Tibshirani, JSS 2010, sec. 3).
    """
    K, m = Wl.shape
    n = Xd.shape[1]
    D[:] = 0.0
    Db[:] = 0.0
    Xd[:] = 0.0
    S = np.zeros(K)
    mu = np.zeros((K, m))
    Gt = Gl.copy()
    curvature = Hcc.copy()
    if fit_intercept:
        ones = np.ones(n)
        for k in range(K):
            if hb[k] > 0.0:
                for c in range(m):
                    mu[k, c] = column_dot(Xs, data_s, indices_s, indptr_s, c, ones, H[k]) \
                        / hb[k]
                    Gt[k, c] -= gb[k] * mu[k, c]
                    curvature[k, c] = max(Hcc[k, c] - hb[k] * mu[k, c] * mu[k, c], 0.0)
    epochs = 0
    while epochs < MAX_CD_EPOCHS:
        change = _cd_pass(Xs, data_s, indices_s, indptr_s, Wl, H, Gt, curvature, mu, hb, S,
                          penalty, D, Xd, False)
        epochs += 1
        if change <= cd_tol:
            break
        while epochs < MAX_CD_EPOCHS:
            change = _cd_pass(Xs, data_s, indices_s, indptr_s, Wl, H, Gt, curvature, mu, hb,
                              S, penalty, D, Xd, True)
            epochs += 1
            if change <= cd_tol:
                break
    if fit_intercept:
        for k in range(K):
            if hb[k] > 0.0:
                shift = 0.0
                for c in range(m):
                    shift += mu[k, c] * D[k, c]
                Db[k] = -gb[k] / hb[k] - shift
                for i in range(n):
                    Xd[k, i] += Db[k]


@njit(**JIT_OPTIONS)
def _penalty_change(W, Wt, D, step, penalty):
    """``pen(Wt) - pen(W)`` for ``Wt = W + step D``, summed coordinate by coordinate (exact
    for coordinates that keep their sign) so it stays accurate when the change is far below
    the penalty's value, near the optimum. (``W`` and ``W + D`` lie in the box, so does
    ``Wt`` for ``0 < step <= 1``: the bounds add nothing.)"""
    l1 = 0.0
    l2 = 0.0
    for k in range(W.shape[0]):
        for c in range(W.shape[1]):
            d = step * D[k, c]
            if d == 0.0:
                continue
            factor = penalty.factor[c]
            w = W[k, c]
            wt = Wt[k, c]
            if w >= 0.0 and wt >= 0.0:
                l1 += factor * d
            elif w <= 0.0 and wt <= 0.0:
                l1 -= factor * d
            else:
                l1 += factor * (abs(wt) - abs(w))
            l2 += factor * (d * (w + 0.5 * d))
    return penalty.l1_reg * l1 + penalty.l2_reg * l2


@njit(inline="always", **JIT_OPTIONS)
def _accept_step(penalty_change, step, slope, slope0, loss_change, loss):
    """Whether the line search takes ``step`` along the Newton direction ``d``.

    ``penalty_change`` is ``pen(w + t d) - pen(w)``, ``slope0`` and ``slope`` the loss's
    directional derivatives ``grad . d`` at ``w`` and ``w + t d``, ``loss_change`` the
    loss's difference. skglm's test ``pen change + t slope < 0`` (the objective still
    decreases at ``w + t d``, so by convexity it decreased) keeps its precision near the
    optimum but rejects every step past the minimum along ``d``: a full Newton step lands
    there or just beyond it depending on the sign of a third-order term, and halving it each
    time makes the convergence linear with rate 1/2. So a step past the minimum is taken
    too when the objective decreased: by the trapezoid rule ``pen change + t (slope0 +
    slope) / 2 < 0`` (exact up to the loss's third derivative, so reliable where a
    difference of objectives is rounding), checked by that difference where it is
    measurable. ``slope0 = inf`` keeps skglm's test alone."""
    if penalty_change + step * slope < 0.0:
        return True
    if penalty_change + 0.5 * step * (slope0 + slope) >= 0.0:
        return False
    return penalty_change + loss_change <= 8.0 * np.finfo(np.float64).eps * abs(loss)


@njit(**JIT_OPTIONS)
def _solve_subproblem(Xs, data_s, indices_s, indptr_s, y, s, Wl, b, Z, R, H, Gl, loss, penalty,
                      fit_intercept, inner_tol, max_newton, stop):
    """Proximal Newton steps on the working set until its largest violation is below
    ``inner_tol``. Updates ``Wl, b, Z, R, H, Gl`` in place.

    ``penalty`` is the working set's (:func:`_sub_penalty`). Returns ``(loss, n_steps,
    violation)``; ``n_steps == 0`` means no step decreased the
    objective (the working set is solved to machine precision). Ends early once ``stop[0]``
    is set (an interrupt: :mod:`fastl1._interrupt`).
    """
    K, m = Wl.shape
    n = Z.shape[1]
    dtype = Z.dtype
    D = np.empty((K, m), dtype=dtype)
    Db = np.zeros(K, dtype=dtype)
    Xd = np.empty((K, n), dtype=dtype)
    Hcc = np.empty((K, m), dtype=dtype)
    Zt = np.empty((K, n), dtype=dtype)
    Rt = np.empty((K, n), dtype=dtype)
    Ht = np.empty((K, n), dtype=dtype)
    Gt = np.empty((K, m), dtype=dtype)
    Wt = np.empty((K, m), dtype=dtype)
    gb = np.zeros(K, dtype=dtype)
    hb = np.zeros(K, dtype=dtype)
    factor, lower, upper = penalty.factor, penalty.lower, penalty.upper
    n_steps = 0
    violation = 0.0
    for k in range(K):
        for c in range(m):
            violation = max(violation, coordinate_violation(
                Wl[k, c], Gl[k, c], penalty.l1_reg * factor[c], penalty.l2_reg * factor[c],
                lower[c], upper[c]))
        if fit_intercept:
            violation = max(violation, abs(R[k].sum()))
    for _ in range(max_newton):
        if stop[0]:
            break
        for k in range(K):
            for c in range(m):
                Hcc[k, c] = _weighted_sq_norm(Xs, data_s, indices_s, indptr_s, c, H[k])
            if fit_intercept:
                gb[k] = R[k].sum()
                hb[k] = H[k].sum()
        # Inexact Newton: the model is solved to a fraction of the current violation.
        _newton_direction(Xs, data_s, indices_s, indptr_s, Wl, H, Gl, gb, hb, Hcc, penalty,
                          fit_intercept, max(0.3 * inner_tol, 0.1 * violation), D, Db, Xd)
        # Backtracking line search (module docstring). Steps past the minimum only with the
        # exact curvature (binary): the multinomial model's block-diagonal one can overshoot
        # a coefficient that should stay at zero out of it.
        slope0 = np.inf
        if K == 1:
            slope0 = Db[0] * gb[0] if fit_intercept else 0.0
            for c in range(m):
                slope0 += Gl[0, c] * D[0, c]
        step = 1.0
        accepted = False
        loss_t = loss
        for _ in range(MAX_BACKTRACK):
            for k in range(K):
                for i in range(n):
                    Zt[k, i] = Z[k, i] + step * Xd[k, i]
                for c in range(m):
                    Wt[k, c] = Wl[k, c] + step * D[k, c]
            loss_t = link(Zt, y, s, Rt, Ht, True)
            _local_gradient(Xs, data_s, indices_s, indptr_s, Rt, Gt)
            slope = 0.0
            for k in range(K):
                for c in range(m):
                    slope += Gt[k, c] * D[k, c]
                if fit_intercept:
                    slope += Db[k] * Rt[k].sum()
            change = _penalty_change(Wl, Wt, D, step, penalty)
            if _accept_step(change, step, slope, slope0, loss_t - loss, loss):
                accepted = True
                break
            step *= 0.5
        if not accepted:
            break
        n_steps += 1
        Wl[:] = Wt
        for k in range(K):
            b[k] += step * Db[k]
        Z[:] = Zt
        R[:] = Rt
        H[:] = Ht
        Gl[:] = Gt
        loss = loss_t
        violation = 0.0
        for k in range(K):
            for c in range(m):
                violation = max(violation, coordinate_violation(
                    Wl[k, c], Gl[k, c], penalty.l1_reg * factor[c],
                    penalty.l2_reg * factor[c], lower[c], upper[c]))
            if fit_intercept:
                violation = max(violation, abs(R[k].sum()))
        if violation <= inner_tol:
            break
    return loss, n_steps, violation


@njit(**JIT_OPTIONS)
def violations(W, G, R, penalty, fit_intercept, w_max, g_max):
    """Largest violation of the full problem; fills per feature the largest ``|W[:, j]|``
    and the largest ``|G[:, j]| / f_j`` on the sides where the coefficient can leave zero
    (for the working-set scores, which compare it with ``l1_reg``). An unpenalised feature
    (``f_j = 0``) gets ``w_max[j] = inf`` even at zero: it is in every working set (there is
    no threshold that could keep it at zero). Returns ``(violation, support size)``, the
    unpenalised features counted in the support."""
    K, p = W.shape
    violation = 0.0
    support = 0
    factors, lower, upper = penalty.factor, penalty.lower, penalty.upper
    for j in range(p):
        wj = 0.0
        gj = 0.0
        factor = factors[j]
        l1 = penalty.l1_reg * factor
        l2 = penalty.l2_reg * factor
        for k in range(K):
            violation = max(violation, coordinate_violation(W[k, j], G[k, j], l1, l2,
                                                            lower[j], upper[j]))
            wj = max(wj, abs(W[k, j]))
            gj = max(gj, _open_magnitude(G[k, j], lower[j], upper[j]))
        if factor == 0.0:
            wj = np.inf
            gj = 0.0
        elif factor != 1.0:
            gj /= factor
        w_max[j] = wj
        g_max[j] = gj
        if wj != 0.0:
            support += 1
    if fit_intercept:
        for k in range(K):
            violation = max(violation, abs(R[k].sum()))
    return violation, support


@njit(**JIT_OPTIONS)
def _path_set_size(w_max, g_max, threshold):
    """The number of features in the support or whose ``|g_j| / f_j`` reaches
    ``threshold``: with ``threshold = 2 l1 - l1_previous`` at the previous solution, the
    sequential strong rule's set (Tibshirani et al., JRSS-B 2012, eq. 4; glmnet's), which
    the working-set selection's ranking (support first, then by ``|g_j| / f_j``) returns."""
    size = 0
    for j in range(w_max.shape[0]):
        if w_max[j] > 0.0 or g_max[j] >= threshold:
            size += 1
    return max(size, 1)


@njit(**JIT_OPTIONS)
def prox_newton(A, data, indices, indptr, transposed, y, s, W, b, penalty, fit_intercept, tol,
                max_iter, ws_start, inner_fraction, max_newton, l1_previous, parallel, stop):
    """Solve the problem of the module docstring in place in ``(W, b)``, with the
    :class:`~fastl1._kernels.penalty.Penalty` ``penalty`` (``W`` must lie in its box).

    ``tol`` bounds the largest violation (in the sum scale of the objective above);
    ``max_iter`` bounds the number of outer iterations, each a full-gradient evaluation
    followed, unless it certifies convergence, by a proximal-Newton solve on the working set
    to ``inner_fraction`` times the current violation (at most ``max_newton`` steps).
    On a path (``l1_previous > 0``: the previous point's ``l1_reg``, whose solution ``W``
    is), the first working set is the sequential strong rule's set (:func:`_path_set_size`)
    and later ones add the features that violate the optimality conditions, instead of
    growing geometrically.

    Returns ``(n_outer, n_newton, violation, loss, gap)``: outer iterations, Newton steps
    in all, the final largest violation, the final weighted loss and, without intercept, the
    duality gap (NaN with an intercept); all in the sum scale.
    """
    K, p = W.shape
    n = y.shape[0]
    Z = np.empty((K, n))
    R = np.empty((K, n))
    H = np.empty((K, n))
    G = np.empty((K, p))
    linear_predictor(A, data, indices, indptr, transposed, W, b, Z)
    loss = link(Z, y, s, R, H, True)
    w_max = np.empty(p)
    g_max = np.empty(p)
    ones = np.ones(p)
    csr = transposed and is_sparse(indptr)
    if csr:
        col_counts = column_counts(indices, p)
    else:
        col_counts = np.empty(0, dtype=np.int64)
    # A CSR X is scanned whole to extract each working set's columns; from the third working
    # set on, one CSC copy of X (built by the same scan) makes every extraction a copy of the
    # set's columns only (at most one extra copy of X's non-zeros).
    csc_data = np.empty(0, dtype=data.dtype)
    csc_indices = np.empty(0, dtype=indices.dtype)
    csc_indptr = np.empty(0, dtype=indptr.dtype)
    n_extracted = 0
    last_size = p + 1  # no working set yet
    active = np.ones(p, dtype=np.bool_)
    n_outer = 0
    n_newton = 0
    violation = np.inf
    while True:
        n_outer += 1
        full_gradient(A, data, indices, indptr, transposed, R, G, parallel)
        violation, support = violations(W, G, R, penalty, fit_intercept, w_max, g_max)
        if violation <= tol or n_outer >= max_iter or stop[0]:
            break
        if l1_previous > 0.0:
            threshold = penalty.l1_reg if n_outer > 1 else 2.0 * penalty.l1_reg - l1_previous
            size = _path_set_size(w_max, g_max, threshold)
        else:
            size = min(max(ws_start, working_set_growth(support, last_size, n, p)), p)
        last_size = size
        # Zero features ranked by |g_j| (= by violation); the support always comes first.
        scale = max(penalty.l1_reg, g_max.max())
        ws = select_working_set(w_max, g_max, ones, penalty.l1_reg, 0.0,
                                scale if scale > 0.0 else 1.0, False, active, size)
        m = ws.shape[0]
        if csr and n_extracted == _CSC_COPY_AFTER:
            _, csc_data, csc_indices, csc_indptr = extract_columns(
                A, data, indices, indptr, True, np.arange(p), n, p, col_counts)
        if csc_indptr.shape[0] > 0:
            Xs, data_s, indices_s, indptr_s = extract_columns(
                A, csc_data, csc_indices, csc_indptr, False, ws, n, p, col_counts)
        else:
            Xs, data_s, indices_s, indptr_s = extract_columns(A, data, indices, indptr,
                                                              transposed, ws, n, p, col_counts)
        n_extracted += 1
        Wl = np.empty((K, m))
        Gl = np.empty((K, m))
        for k in range(K):
            for c in range(m):
                Wl[k, c] = W[k, ws[c]]
                Gl[k, c] = G[k, ws[c]]
        inner_tol = max(inner_fraction * violation, 0.5 * tol)
        loss, steps, _ = _solve_subproblem(Xs, data_s, indices_s, indptr_s, y, s, Wl, b, Z,
                                           R, H, Gl, loss, _sub_penalty(penalty, ws),
                                           fit_intercept, inner_tol, max_newton, stop)
        for k in range(K):
            for c in range(m):
                W[k, ws[c]] = Wl[k, c]
        n_newton += steps
        if steps == 0:
            # No step decreases the objective: the violation is at the limit of the
            # arithmetic. Report it as it is (the caller warns if it exceeds tol).
            full_gradient(A, data, indices, indptr, transposed, R, G, parallel)
            violation, _ = violations(W, G, R, penalty, fit_intercept, w_max, g_max)
            break
    gap = np.nan if fit_intercept else dual_gap(Z, y, s, W, G, loss, penalty)
    return n_outer, n_newton, violation, loss, gap


# ---------------------------------------------------------------------------------------------
# duality gap


@njit(inline="always", **JIT_OPTIONS)
def _xlogx(a):
    return a * np.log(a) if a > 0.0 else 0.0


@njit(**JIT_OPTIONS)
def _dual_scale(G, penalty):
    """The largest ``c <= 1`` for which ``-c G`` is in the domain of the penalty's conjugate:
    ``c |G_kj| <= l1_j`` wherever feature ``j`` has no ridge term and ``|G_kj|`` passes its
    threshold on a side without bound (0 when an unpenalised feature has a non-zero
    gradient there: no scaling makes that point feasible)."""
    c = 1.0
    for j in range(G.shape[1]):
        factor = penalty.factor[j]
        if penalty.l2_reg * factor != 0.0:
            continue
        threshold = penalty.l1_reg * factor
        for k in range(G.shape[0]):
            v = -G[k, j]
            if (v > threshold and penalty.upper[j] == np.inf) or \
                    (v < -threshold and penalty.lower[j] == -np.inf):
                c = min(c, threshold / abs(v))
    return c


@njit(**JIT_OPTIONS)
def _conjugate(G, c, penalty):
    """``sum_kj h_j*(-c G_kj)`` with ``h_j(w) = l1_j |w| + l2_j / 2 w^2`` on feature ``j``'s
    box: ``(|v| - l1_j)_+^2 / (2 l2_j)`` where the unbounded maximiser ``soft(v, l1_j) / l2_j``
    lies in the box, else the value at the bound it passes (``B (|v| - l1_j) - l2_j B^2 / 2``,
    ``B`` that bound's magnitude; :func:`fastl1._kernels.penalty.bounded_conjugate` without
    a ridge term). ``c`` must come from :func:`_dual_scale`."""
    ridge = 0.0  # sum (|v| - l1_j)^2 / f_j, divided by 2 l2_reg once (exact for f = 1)
    bounded = 0.0
    for j in range(G.shape[1]):
        factor = penalty.factor[j]
        threshold = penalty.l1_reg * factor
        l2 = penalty.l2_reg * factor
        for k in range(G.shape[0]):
            v = -c * G[k, j]
            if v > threshold:
                bound = penalty.upper[j]
            elif v < -threshold:
                bound = -penalty.lower[j]
            else:
                continue
            gain = abs(v) - threshold
            if l2 == 0.0:
                if bound < np.inf:
                    bounded += bound * gain
            elif gain <= l2 * bound:
                ridge += gain * gain / factor
            else:
                bounded += bound * gain - 0.5 * l2 * bound * bound
    if ridge > 0.0:
        bounded += ridge / (2.0 * penalty.l2_reg)
    return bounded


@njit(**JIT_OPTIONS)
def dual_gap(Z, y, s, W, G, loss, penalty):
    """Duality gap (sum scale) of ``W`` for the problem without intercept, from the linear
    predictors ``Z = X W``, the weighted loss and the gradient ``G = R X`` at ``W``
    (module docstring). Not a certificate when an unpenalised feature is unbounded on a side
    its gradient points to (:func:`_dual_scale` is then 0)."""
    K, n = Z.shape
    primal = loss + penalty_value(W, penalty)
    c = _dual_scale(G, penalty)
    conjugate = _conjugate(G, c, penalty)
    entropy = 0.0
    if K == 1:
        for i in range(n):
            a = (1.0 - c) * y[i] + c * _sigmoid(Z[0, i])
            entropy += s[i] * (_xlogx(a) + _xlogx(1.0 - a))
    else:
        for i in range(n):
            lse = _log_sum_exp(Z, i)
            label = int(y[i])
            acc = 0.0
            for k in range(K):
                a = c * np.exp(Z[k, i] - lse) + ((1.0 - c) if k == label else 0.0)
                acc += _xlogx(a)
            entropy += s[i] * acc
    dual = -entropy - conjugate
    return primal - dual


# ---------------------------------------------------------------------------------------------
# FISTA


@njit(**JIT_OPTIONS)
def lipschitz_estimate(A, data, indices, indptr, transposed, s, p, fit_intercept, n_iter,
                       parallel):
    """Largest eigenvalue of ``X1^T S X1`` (``X1 = [X, 1]`` with intercept, else ``X``) by
    ``n_iter`` power iterations: a lower estimate, from which :func:`fista` backtracks."""
    n = s.shape[0]
    v = np.full((1, p), 1.0 / np.sqrt(p + 1.0))
    vb = np.full(1, (1.0 / np.sqrt(p + 1.0)) if fit_intercept else 0.0)
    u = np.empty((1, n))
    grad = np.empty((1, p))
    eig = 0.0
    for _ in range(n_iter):
        linear_predictor(A, data, indices, indptr, transposed, v, vb, u)
        for i in range(n):
            u[0, i] *= s[i]
        full_gradient(A, data, indices, indptr, transposed, u, grad, parallel)
        ub = u[0].sum() if fit_intercept else 0.0
        norm2 = ub * ub
        for j in range(p):
            norm2 += grad[0, j] * grad[0, j]
        eig = np.sqrt(norm2)
        if eig == 0.0:
            break
        for j in range(p):
            v[0, j] = grad[0, j] / eig
        vb[0] = ub / eig
    return eig


@njit(**JIT_OPTIONS)
def _prox_step(V, G, vb, gb, L, penalty, Wn, bn):
    """``Wn = prox_{pen / L}(V - G / L)``, ``bn = vb - gb / L``: per coefficient the
    soft-thresholding at ``l1_j / L``, shrunk by ``1 + l2_j / L`` and clipped to the bounds
    (the prox of a separable convex function on a box holding its minimiser 0)."""
    factor, lower, upper = penalty.factor, penalty.lower, penalty.upper
    for k in range(V.shape[0]):
        for j in range(V.shape[1]):
            w = soft_threshold(V[k, j] - G[k, j] / L, penalty.l1_reg * factor[j] / L) \
                / (1.0 + penalty.l2_reg * factor[j] / L)
            Wn[k, j] = min(max(w, lower[j]), upper[j])
        bn[k] = vb[k] - gb[k] / L


@njit(**JIT_OPTIONS)
def fista(A, data, indices, indptr, transposed, y, s, W, b, penalty, fit_intercept, tol,
          max_iter, lipschitz, check_every, parallel, stop):
    """Accelerated proximal gradient (module docstring), in place in ``(W, b)``, with the
    proximal step of :func:`_prox_step`.

    ``lipschitz`` is the starting step inverse (doubled whenever the sufficient-decrease
    test fails). The largest violation is checked at the first iterate and then every
    ``check_every`` iterations; stops when it is below ``tol`` or after ``max_iter``
    gradient steps, or once ``stop[0]`` is set (an interrupt). Returns
    ``(n_iter, violation, loss, gap)`` as :func:`prox_newton`.
    """
    K, p = W.shape
    n = y.shape[0]
    L = max(lipschitz, 1e-12)
    no_h = np.empty((0, 0))
    X_old = W.copy()
    b_old = b.copy()
    V = W.copy()  # extrapolated point
    vb = b.copy()
    Zx = np.empty((K, n))
    linear_predictor(A, data, indices, indptr, transposed, W, b, Zx)
    Zv = Zx.copy()
    Zn = np.empty((K, n))
    R = np.empty((K, n))
    G = np.empty((K, p))
    Wn = np.empty((K, p))
    bn = b.copy()
    w_max = np.empty(p)
    g_max = np.empty(p)
    t = 1.0
    violation = np.inf
    loss = 0.0
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        loss_v = link(Zv, y, s, R, no_h, False)
        full_gradient(A, data, indices, indptr, transposed, R, G, parallel)
        if it == 0:  # V == W: the violation at the starting point comes for free
            violation, _ = violations(W, G, R, penalty, fit_intercept, w_max, g_max)
            if violation <= tol:
                loss = loss_v
                break
        gb = np.zeros(K)
        if fit_intercept:
            for k in range(K):
                gb[k] = R[k].sum()
        while True:
            _prox_step(V, G, vb, gb, L, penalty, Wn, bn)
            linear_predictor(A, data, indices, indptr, transposed, Wn, bn, Zn)
            loss_n = link(Zn, y, s, R, no_h, False)
            quad = 0.0
            dist2 = 0.0
            for k in range(K):
                for j in range(p):
                    d = Wn[k, j] - V[k, j]
                    quad += G[k, j] * d
                    dist2 += d * d
                d = bn[k] - vb[k]
                quad += gb[k] * d
                dist2 += d * d
            if loss_n <= loss_v + quad + 0.5 * L * dist2 + 1e-12 * abs(loss_v):
                break
            L *= 2.0
        loss = loss_n
        # Gradient-based restart (O'Donoghue & Candes 2015): the momentum points uphill.
        uphill = 0.0
        for k in range(K):
            for j in range(p):
                uphill += (V[k, j] - Wn[k, j]) * (Wn[k, j] - W[k, j])
            uphill += (vb[k] - bn[k]) * (bn[k] - b[k])
        if uphill > 0.0:
            t = 1.0
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        t = t_next
        X_old[:] = W
        b_old[:] = b
        W[:] = Wn
        b[:] = bn
        for k in range(K):
            for j in range(p):
                V[k, j] = W[k, j] + beta * (W[k, j] - X_old[k, j])
            vb[k] = b[k] + beta * (b[k] - b_old[k])
            for i in range(n):
                Zv[k, i] = Zn[k, i] + beta * (Zn[k, i] - Zx[k, i])
        Zx[:] = Zn
        if (it + 1) % check_every == 0 or it + 1 == max_iter:
            loss = link(Zx, y, s, R, no_h, False)
            full_gradient(A, data, indices, indptr, transposed, R, G, parallel)
            violation, _ = violations(W, G, R, penalty, fit_intercept, w_max, g_max)
            if violation <= tol or stop[0]:
                break
    # Every exit follows a check at W, so G and loss are those of W (and Zx = X W).
    gap = np.nan if fit_intercept else dual_gap(Zx, y, s, W, G, loss, penalty)
    return n_iter, violation, loss, gap
