"""Support steps: jump to the minimiser of the elastic net restricted to the current support
and signs, when coordinate descent is slow.

With the support ``S`` and signs ``s`` fixed, the elastic net is a least-squares problem:
``(X_S^T S X_S + diag(l2_S)) w_S = X_S^T S y_c - l1_S s`` (the active-set step of LARS and of
homotopy methods, Osborne, Presnell & Turlach, IMA J. Numer. Anal. 2000). Coordinate descent
converges slowly when ``X_S`` is ill-conditioned (paths near saturation, where ``|S|``
approaches ``n``): its epoch count grows with the condition number, conjugate gradients'
with its square root. Small supports are solved directly from the Gram matrix of the support,
by an active-set descent on the orthant of ``s`` (:func:`_face_minimiser`: coefficients that
would change sign are fixed at zero and the rest solved again; supports too large for the
data are first pared down along the null space of ``X_S``), large ones by a few
Jacobi-preconditioned conjugate-gradient iterations, projected on the orthant (coefficients
that would change sign become zero, as in orthant-wise methods, Andrew & Gao, ICML 2007) or
else cut back to where the first coefficient reaches zero. A step is kept only if it lowers
the objective.

The decisions depend on the support, the epochs already spent and the support's share of the
data (the cost of a direct solve against conjugate gradients).
"""

import numpy as np
from numba import njit

from . import JIT_OPTIONS
from .design import (
    all_finite,
    column_update,
    columns_nnz,
    copy_into,
    dense_column_dot,
    gradient,
    sparse_design,
    weighted_sum,
)
from .gap import centred_r_norm2
from .penalty import clip, l1_of, l2_of, penalty_value

# Largest support solved directly (a Gram matrix of the support, one n x |S| temporary for
# dense designs); larger ones take conjugate-gradient iterations, unless the inner solve has
# run HARD_EPOCHS epochs (coordinate descent is slow there, so an exact step pays) and the
# direct solve costs at most DIRECT_COST_RATIO times the iterations (see _direct_affordable):
# on large supports where coordinate descent crawls, the exact step saves a third to a half
# of the fit, while taking it early on every support would cost more than the cheap epochs
# it replaces (a step costs about 40 epochs' work).
DIRECT_MAX = 128
HARD_EPOCHS = 60
DIRECT_COST_RATIO = 50
# Conjugate-gradient iterations per step (each reads the support's columns twice, the cost of
# an epoch on the support). On the 20000 x 100000 sparse path near saturation 30 iterations
# and 10 CD epochs between steps certified in ~170 epochs' work what CD alone did in 600.
CG_ITERATIONS = 15
# Passes of the active-set descent of a direct step (each fixes one more coefficient at zero).
FACE_PASSES = 8


@njit(**JIT_OPTIONS)
def objective(w, features, r_norm2, penalty):
    """``1/2 r^T S r`` plus the penalty over the coordinates ``features`` (the rest held
    fixed, so differences between two points agree)."""
    return 0.5 * r_norm2 + penalty_value(penalty, w, features)


@njit(**JIT_OPTIONS)
def keep_if_lower(X, data, indices, indptr, sw, sw_sum, x_mean, w, r, r_sum, penalty, ws,
                  changed, values):
    """Set ``w[changed] = values`` if that lowers the objective over ``ws`` (which holds every
    non-zero of ``w`` and ``changed``), updating ``r`` in place. Returns
    ``(kept, r_sum)``."""
    r_new = r.copy()
    r_sum_new = r_sum
    sparse = sparse_design(indptr)
    for k in range(changed.shape[0]):
        j = changed[k]
        delta = values[k] - w[j]
        if delta != 0.0:
            column_update(X, data, indices, indptr, j, delta, x_mean[j], r_new)
            if sparse:
                r_sum_new -= delta * x_mean[j] * sw_sum
    f_old = objective(w, ws, centred_r_norm2(indptr, sw, sw_sum, x_mean, w, r, r_sum, ws),
                      penalty)
    w_old = w[changed]
    for k in range(changed.shape[0]):
        w[changed[k]] = values[k]
    f_new = objective(w, ws, centred_r_norm2(indptr, sw, sw_sum, x_mean, w, r_new, r_sum_new,
                                             ws), penalty)
    if f_new < f_old:
        copy_into(r, r_new)
        return True, r_sum_new
    for k in range(changed.shape[0]):
        w[changed[k]] = w_old[k]
    return False, r_sum


@njit(**JIT_OPTIONS)
def _face_minimiser(gram, rhs, w_s, singular_from):
    """Active-set descent to the minimiser of the restricted objective on the orthant of the
    signs of ``w_s`` (the support's coefficients), from ``w_s``; ``gram`` is the support's
    ``X_S^T S X_S + l2_reg I`` and ``rhs`` the Newton right-hand side at ``w_s``.

    Each pass solves for the minimiser on the coefficients still free and moves towards it;
    when a coefficient would cross zero the move stops there, that coefficient is fixed at
    zero and the pass repeats on the others (the active-set method for sign-constrained least
    squares; Lawson & Hanson, *Solving Least Squares Problems*, 1974, ch. 23). The objective
    decreases along every move.

    With ``singular_from`` or more free coefficients (a lasso support of about
    ``n_samples`` columns) the system is singular: a tiny ridge term makes the step follow
    the null space of ``X_S`` where that lowers the l1 norm (``-P_null s``, scaled up), the
    fit unchanged, until a coefficient reaches zero; so a support larger than the data can
    hold is pared down before the Newton steps (as homotopy methods do). At most
    ``FACE_PASSES`` passes beyond those. Returns the new coefficients, or an empty array if
    a system could not be solved."""
    m = w_s.shape[0]
    free = np.ones(m, dtype=np.bool_)
    w = w_s.copy()
    moved = np.zeros(m, dtype=w_s.dtype)  # w - w_s
    ridge = 0.0
    for j in range(m):
        ridge = max(ridge, gram[j, j])
    ridge *= 1e-9
    # The inverse of the free coefficients' system is formed once and downdated as
    # coefficients leave (O(k^2) per pass instead of a new O(k^3) solve); again only when
    # the free set stops being singular (the ridge term goes).
    inverse = np.empty((0, 0), dtype=gram.dtype)
    ridged = False
    for _ in range(max(m - singular_from + 1, 0) + FACE_PASSES):
        index = np.flatnonzero(free)
        k = index.shape[0]
        if k == 0:
            break
        # Right-hand side at w: rhs - (G (w - w_s)) on the free coefficients.
        shift = _matvec(gram, moved)
        right = np.empty(k, dtype=gram.dtype)
        for a in range(k):
            right[a] = rhs[index[a]] - shift[index[a]]
        singular = k >= singular_from
        if inverse.shape[0] != k or ridged != singular:
            system = np.empty((k, k), dtype=gram.dtype)
            for a in range(k):
                for b in range(k):
                    system[a, b] = gram[index[a], index[b]]
                if singular:
                    system[a, a] += ridge
            try:
                inverse = np.linalg.inv(system)
            except Exception:  # noqa: BLE001 - singular restricted problem: no step
                return np.empty(0, dtype=w_s.dtype)
            ridged = singular
        step = _matvec(inverse, right)
        if not all_finite(step):
            return np.empty(0, dtype=w_s.dtype)
        fraction = 1.0  # of the step, where the first coefficient reaches zero
        hit = -1
        for a in range(k):
            j = index[a]
            target = w[j] + step[a]
            if target * w_s[j] <= 0.0:  # with positive, w_s > 0: this also keeps w >= 0
                reach = w[j] / (w[j] - target)
                if reach < fraction:
                    fraction = reach
                    hit = a
        for a in range(k - 1, -1, -1):  # (positions from the last: downdates keep order)
            j = index[a]
            w[j] += fraction * step[a]
            if a == hit or w[j] * w_s[j] <= 0.0:
                w[j] = 0.0
                free[j] = False
                inverse = _without(inverse, a)
            moved[j] = w[j] - w_s[j]
        if hit < 0:
            break
    for j in range(m):
        if w[j] * w_s[j] < 0.0:  # (rounding) never a sign change
            w[j] = 0.0
    return w


@njit(**JIT_OPTIONS)
def _matvec(A, x):
    """``A @ x`` for a small matrix of any layout, without BLAS."""
    out = np.zeros(A.shape[0], dtype=A.dtype)
    for i in range(A.shape[0]):
        acc = 0.0
        for j in range(A.shape[1]):
            acc += A[i, j] * x[j]
        out[i] = acc
    return out


@njit(**JIT_OPTIONS)
def _without(inverse, a):
    """The inverse of a symmetric matrix without its row and column ``a``, from the inverse
    of the whole (block elimination: ``H_rest - H_ra H_ar / H_aa``)."""
    k = inverse.shape[0]
    pivot = inverse[a, a]
    out = np.empty((k - 1, k - 1), dtype=inverse.dtype)
    for i in range(k - 1):
        ii = i + (i >= a)
        for j in range(k - 1):
            jj = j + (j >= a)
            out[i, j] = inverse[ii, jj] - inverse[ii, a] * inverse[a, jj] / pivot
    return out


@njit(**JIT_OPTIONS)
def _support_gram(X, data, indices, indptr, sw, sw_sum, x_mean, ridge, support, rhs, n):
    """``X_S^T S X_S + diag(ridge)`` of the support's centred columns (``ridge``: each
    support feature's ``l2_j``; ``rhs`` gives the dtype)."""
    m = support.shape[0]
    weighted = sw.shape[0] > 0
    if indptr is not None:  # (None: dense, known when compiling)
        if indptr.shape[0] > 0:
            gram = _sparse_support_gram(data, indices, indptr, sw, sw_sum, x_mean, support,
                                        rhs, n)
            for k in range(m):
                gram[k, k] += ridge[k]
            return gram
    columns = np.empty((n, m), dtype=rhs.dtype)  # sqrt(S) (X_S - means)
    for k in range(m):
        j = support[k]
        for i in range(n):
            root = np.sqrt(sw[i]) if weighted else 1.0
            columns[i, k] = root * (X[i, j] - x_mean[j])
    gram = columns.T @ columns
    for k in range(m):
        gram[k, k] += ridge[k]
    return gram


@njit(**JIT_OPTIONS)
def _sparse_support_gram(data, indices, indptr, sw, sw_sum, x_mean, support, rhs, n):
    """``X_S^T S X_S`` of a CSC design's centred support columns."""
    m = support.shape[0]
    weighted = sw.shape[0] > 0
    gram = np.empty((m, m), dtype=rhs.dtype)
    scattered = np.zeros(n, dtype=rhs.dtype)  # S x_a, then cleared
    for a in range(m):
        ja = support[a]
        for k in range(indptr[ja], indptr[ja + 1]):
            i = indices[k]
            scattered[i] = data[k] * (sw[i] if weighted else 1.0)
        for b in range(a, m):
            jb = support[b]
            acc = 0.0
            for k in range(indptr[jb], indptr[jb + 1]):
                acc += data[k] * scattered[indices[k]]
            # sum_i sw_i x_ia = sw_sum * mean_a, so centring subtracts sw_sum m_a m_b.
            acc -= sw_sum * x_mean[ja] * x_mean[jb]
            gram[a, b] = acc
            gram[b, a] = acc
        for k in range(indptr[ja], indptr[ja + 1]):
            scattered[indices[k]] = 0.0
    return gram


@njit(**JIT_OPTIONS)
def support_rows(data, indices, indptr, support, n_samples):
    """The columns ``support`` of a CSC design as CSR arrays ``(row_ptr, slots, values)``,
    ``slots`` numbering the support: a temporary copy of the support's non-zeros (values and
    indices in X's types), made in two passes.

    A Gram product ``X_S^T S X_S v`` by rows reads each non-zero once, each row's dot product
    and update staying in cache, against two scattered passes by columns: 4.5x faster on the
    20000 x 100000 sparse problem (18k columns)."""
    row_ptr = np.zeros(n_samples + 1, dtype=np.int64)
    for a in range(support.shape[0]):
        j = support[a]
        for q in range(indptr[j], indptr[j + 1]):
            row_ptr[indices[q] + 1] += 1
    for i in range(n_samples):
        row_ptr[i + 1] += row_ptr[i]
    fill = row_ptr[:-1].copy()
    slots = np.empty(row_ptr[n_samples], dtype=indices.dtype)  # p fits in X's index type
    values = np.empty(row_ptr[n_samples], dtype=data.dtype)
    for a in range(support.shape[0]):
        j = support[a]
        for q in range(indptr[j], indptr[j + 1]):
            i = indices[q]
            slots[fill[i]] = a
            values[fill[i]] = data[q]
            fill[i] += 1
    return row_ptr, slots, values


@njit(**JIT_OPTIONS)
def _sparse_gram_product(row_ptr, slots, values, sw, sw_sum, means, ridge, v, out):
    """``out = (X_c^T S X_c + diag(ridge)) v`` from the rows of the support's columns, with
    ``X_c^T S X_c v = X^T S X v - sw_sum (m . v) m`` (``m`` the weighted column means)."""
    weighted = sw.shape[0] > 0
    out[:] = 0.0
    for i in range(row_ptr.shape[0] - 1):
        acc = 0.0
        for q in range(row_ptr[i], row_ptr[i + 1]):
            acc += values[q] * v[slots[q]]
        if acc != 0.0:
            if weighted:
                acc *= sw[i]
            for q in range(row_ptr[i], row_ptr[i + 1]):
                out[slots[q]] += acc * values[q]
    mean_dot_v = means @ v
    for k in range(v.shape[0]):
        out[k] += ridge[k] * v[k] - sw_sum * mean_dot_v * means[k]


@njit(**JIT_OPTIONS)
def _dense_gram_product(X, data, indices, indptr, sw, x_mean, ridge, support, v, u, out):
    """``out = (X_c^T S X_c + diag(ridge)) v`` for a dense design, with the design's column
    operations: ``u = X_c v`` (``u``: length-n workspace), then ``x_j^T S u - mean_j sum(S u)``
    for each ``j`` of the support."""
    u[:] = 0.0
    for k in range(support.shape[0]):
        if v[k] != 0.0:
            j = support[k]
            column_update(X, data, indices, indptr, j, -v[k], x_mean[j], u)
    u_sum = weighted_sum(u, sw)
    for k in range(support.shape[0]):
        j = support[k]
        out[k] = dense_column_dot(X, j, u, sw) - x_mean[j] * u_sum + ridge[k] * v[k]


@njit(**JIT_OPTIONS)
def _cg_direction(X, data, indices, indptr, sw, sw_sum, x_mean, norms2, ridge, support, rhs,
                  n_samples):
    """:data:`CG_ITERATIONS` Jacobi-preconditioned conjugate-gradient iterations on the
    system of :func:`_support_gram`, from zero."""
    m = support.shape[0]
    sparse = False
    row_ptr = np.empty(0, dtype=np.int64)
    slots = np.empty(0, dtype=indices.dtype)
    values = np.empty(0, dtype=rhs.dtype)
    if indptr is not None:  # (None: dense, known when compiling)
        if indptr.shape[0] > 0:
            sparse = True
            row_ptr, slots, values = support_rows(data, indices, indptr, support, n_samples)
    means = x_mean[support]
    diag = np.empty(m, dtype=rhs.dtype)  # Jacobi preconditioner, in the problem's dtype
    for k in range(m):
        diag[k] = norms2[support[k]] + ridge[k]
    u = np.empty(0 if sparse else n_samples, dtype=rhs.dtype)
    x = np.zeros(m, dtype=rhs.dtype)
    res = rhs.copy()
    z = np.empty(m, dtype=rhs.dtype)
    for k in range(m):
        z[k] = res[k] / diag[k]
    direction = z.copy()
    rz = res @ z  # (BLAS, as the tuned iterations: not a loop's summation order)
    product = np.empty(m, dtype=rhs.dtype)
    for _ in range(CG_ITERATIONS):
        if indptr is not None and sparse:
            _sparse_gram_product(row_ptr, slots, values, sw, sw_sum, means, ridge,
                                 direction, product)
        else:
            _dense_gram_product(X, data, indices, indptr, sw, x_mean, ridge, support,
                                direction, u, product)
        curvature = direction @ product
        if not curvature > 0.0:
            break
        step = rz / curvature
        for k in range(m):
            x[k] += step * direction[k]
            res[k] -= step * product[k]
            z[k] = res[k] / diag[k]
        rz_new = res @ z
        if not rz_new > 0.0:
            break
        ratio = rz_new / rz
        for k in range(m):
            direction[k] = z[k] + ratio * direction[k]
        rz = rz_new
    return x


@njit(**JIT_OPTIONS)
def _direct_affordable(indptr, support, n):
    """Whether forming and solving the support's Gram system (``n m^2`` multiply-adds dense,
    ``m nnz_S / 2`` sparse, plus ``m^3 / 3``) costs at most ``DIRECT_COST_RATIO`` times the
    conjugate-gradient step (``CG_ITERATIONS`` products of ``2 n m`` or ``2 nnz_S``)."""
    m = support.shape[0]
    entries = float(n) * m
    gram = entries * m
    if indptr is not None:  # (None: dense, known when compiling)
        if indptr.shape[0] > 0:
            entries = float(columns_nnz(indptr, support))
            gram = 0.5 * m * entries
    direct = gram + m * m * m / 3.0
    return direct <= DIRECT_COST_RATIO * CG_ITERATIONS * 2.0 * entries


@njit(inline="always", **JIT_OPTIONS)
def try_support_step(X, data, indices, indptr, sw, sw_sum, x_mean, norms2, w, r, r_sum,
                     penalty, ws, grad, hard):
    """Move ``w`` towards the minimiser restricted to its support and signs (module
    docstring), in place with ``r``, if that lowers the objective. ``ws`` holds every
    non-zero of ``w``; ``grad`` is workspace; ``hard`` says the inner solve has run
    ``HARD_EPOCHS`` epochs (larger supports may then be solved directly). Returns
    ``(kept, r_sum)``."""
    n = r.shape[0]
    m = 0
    for j in ws:
        if w[j] != 0.0:
            m += 1
    if m == 0:
        return False, r_sum
    support = np.empty(m, dtype=np.int64)
    k = 0
    for j in ws:
        if w[j] != 0.0:
            support[k] = j
            k += 1
    ridge = np.empty(m)
    for k in range(m):
        ridge[k] = l2_of(penalty, support[k])
    # Without a ridge term n - 1 or more non-zeros may make X_S^T S X_S singular (centred
    # columns have rank at most n - 1).
    no_ridge = False
    for k in range(m):
        no_ridge = no_ridge or ridge[k] == 0.0
    singular_from = n - 1 if no_ridge else m + 1
    # Right-hand side of the Newton system in the step d: X_S^T S r_c - l2_j w - l1_j s.
    gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, support, grad)
    w_s = w[support].copy()
    rhs = np.empty(m, dtype=w.dtype)
    for k in range(m):
        rhs[k] = grad[support[k]] - ridge[k] * w_s[k] - l1_of(penalty, support[k]) \
            * np.sign(w_s[k])
    if m >= singular_from and not hard:  # paring a support down pays on slow solves only
        return False, r_sum
    if m <= DIRECT_MAX or (hard and _direct_affordable(indptr, support, n)):
        # (non-singular here: m < n, or a ridge term)
        gram = _support_gram(X, data, indices, indptr, sw, sw_sum, x_mean, ridge, support,
                             rhs, n)
        values = _face_minimiser(gram, rhs, w_s, singular_from)
        if values.shape[0] != m:
            return False, r_sum
        return keep_if_lower(X, data, indices, indptr, sw, sw_sum, x_mean, w, r, r_sum,
                             penalty, ws, support, _clipped(penalty, support, values, w))
    if m >= singular_from:
        return False, r_sum  # (too large to solve directly: no step)
    direction = _cg_direction(X, data, indices, indptr, sw, sw_sum, x_mean, norms2, ridge,
                              support, rhs, n)
    if direction.shape[0] != m or not all_finite(direction):
        return False, r_sum
    # Projected full step: coefficients that would cross zero (or turn negative) stop at 0.
    values = np.empty(m, dtype=w_s.dtype)
    for k in range(m):
        values[k] = w_s[k] + direction[k]
    first_zero = 1.0  # step at which the first coefficient reaches zero
    for k in range(m):
        if values[k] * w_s[k] <= 0.0:  # with positive, w_s > 0: this also keeps w >= 0
            first_zero = min(first_zero, w_s[k] / (w_s[k] - values[k]))
            values[k] = 0.0
    kept, r_sum = keep_if_lower(X, data, indices, indptr, sw, sw_sum, x_mean, w, r, r_sum,
                                penalty, ws, support, _clipped(penalty, support, values, w))
    if kept or first_zero >= 1.0 or first_zero <= 0.0:
        return kept, r_sum
    for k in range(m):
        values[k] = w_s[k] + first_zero * direction[k]
    for k in range(m):
        if values[k] * w_s[k] <= 0.0:
            values[k] = 0.0
    return keep_if_lower(X, data, indices, indptr, sw, sw_sum, x_mean, w, r, r_sum, penalty,
                         ws, support, _clipped(penalty, support, values, w))


@njit(**JIT_OPTIONS)
def _clipped(penalty, support, values, w):
    """The step's values projected on the support's bounds, in ``w``'s dtype (a step to the
    minimiser on the face ignores the bounds; the objective test decides)."""
    out = np.empty(values.shape[0], dtype=w.dtype)
    for k in range(values.shape[0]):
        out[k] = clip(penalty, support[k], values[k])
    return out
