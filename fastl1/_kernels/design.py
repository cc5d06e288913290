"""Column operations on a dense (F-ordered) or CSC design matrix.

The design is passed as ``(X, data, indices, indptr)``; it is sparse when ``indptr`` is
non-empty. The squared-loss solver passes ``indptr=None`` for a dense design: every layout test
then starts with ``indptr is None`` (or ``is not None``) on the function's own argument, which
Numba resolves when it compiles (dead-branch pruning of None-typed arguments), so a dense fit
never compiles the sparse code. An empty ``indptr`` still means dense, tested at run time
(the logistic solver's designs). Sample weights ``sw`` are an empty array when the problem
is unweighted, so the unweighted loops carry no multiplication.

Intercept by implicit centring (glmnet, scikit-learn's sparse CD): ``x_mean`` holds the
(weighted) column means, zero without intercept. Dense residuals are kept exactly centred,
``r = y_c - (X - x_mean) w``. Sparse residuals skip the mean so an update costs O(nnz_j):
``r = y_c - X w``, the centred residual being ``r + (x_mean . w)``; the gradient
``x_j^T S r_centred - x_mean_j * sum(S r_centred)`` equals ``x_j^T S r - x_mean_j * sum(S r)``
in both conventions, so one formula serves both, with ``r_sum = sum(S r)`` tracked.
"""

import numpy as np
from numba import literally, njit, prange

from . import JIT_OPTIONS, JIT_OPTIONS_DENSE
from .penalty import entering_correlation, l1_of


@njit(inline="always", **JIT_OPTIONS)
def is_sparse(indptr):
    """Whether the design is given by its CSC arrays."""
    return indptr.shape[0] > 0


@njit(**JIT_OPTIONS)
def sparse_design(indptr):
    """:func:`is_sparse` for callers that may pass ``indptr=None`` (dense, known when Numba
    compiles) and that do not test it themselves (inlined code, whose test Numba does not
    resolve)."""
    if indptr is None:
        return False
    return indptr.shape[0] > 0


@njit(inline="always", **JIT_OPTIONS)
def layout_flags(indptr, sw):
    """``(sparse, weighted)``: the two facts hot loops are compiled for. Kernels branch on
    them once and call a variant taking them as literals (``numba.literally``); dense
    designs fold the weights into one loop, so they always get ``weighted=False``."""
    sparse = indptr.shape[0] > 0
    return sparse, sparse and sw.shape[0] > 0


@njit(inline="always", **JIT_OPTIONS)
def copy_into(out, values):
    """``out[:] = values`` (1-D, one length) as a plain loop: NumPy-style assignment of an
    array to a slice compiles a shape check whose error message alone costs ~2 s of a first
    compilation."""
    for i in range(values.shape[0]):
        out[i] = values[i]


@njit(inline="always", **JIT_OPTIONS)
def all_finite(v):
    """``np.all(np.isfinite(v))`` for a 1-D array, as a loop."""
    for i in range(v.shape[0]):
        if not np.isfinite(v[i]):
            return False
    return True


@njit(inline="always", **JIT_OPTIONS)
def sparse_dot_unweighted(data, indices, indptr, j, v):
    """``sum_i X[i, j] v_i`` over the non-zeros of CSC column ``j``."""
    acc = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        acc += data[k] * v[indices[k]]
    return acc


@njit(inline="always", **JIT_OPTIONS)
def sparse_dot_weighted(data, indices, indptr, j, v, sw):
    """``sum_i sw_i X[i, j] v_i`` over the non-zeros of CSC column ``j``."""
    acc = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        i = indices[k]
        acc += data[k] * sw[i] * v[i]
    return acc


@njit(inline="always", **JIT_OPTIONS)
def _sparse_column_dot(data, indices, indptr, j, v, sw):
    if sw.shape[0] > 0:
        return sparse_dot_weighted(data, indices, indptr, j, v, sw)
    return sparse_dot_unweighted(data, indices, indptr, j, v)


@njit(**JIT_OPTIONS_DENSE)
def dense_column_dot(X, j, v, sw):
    """``sum_i sw_i X[i, j] v_i`` (``sw`` empty: unit weights) for a dense ``X``."""
    acc = 0.0
    if sw.shape[0] > 0:
        for i in range(X.shape[0]):
            acc += X[i, j] * sw[i] * v[i]
    else:
        for i in range(X.shape[0]):
            acc += X[i, j] * v[i]
    return acc


@njit(**JIT_OPTIONS_DENSE)
def dense_update_then_dot(X, k, delta, mean_k, j, r, sw):
    """``r -= delta * (x_k - mean_k)``, then return ``sum_i sw_i X[i, j] r_i``, in one loop
    over the rows (coordinate descent's update of one coordinate fused with the next one's
    correlation: the residual is read once, and column ``j`` streams from memory while the
    update runs from cache)."""
    acc = 0.0
    if sw.shape[0] > 0:
        for i in range(X.shape[0]):
            ri = r[i] - delta * (X[i, k] - mean_k)
            r[i] = ri
            acc += X[i, j] * sw[i] * ri
    else:
        for i in range(X.shape[0]):
            ri = r[i] - delta * (X[i, k] - mean_k)
            r[i] = ri
            acc += X[i, j] * ri
    return acc


@njit(inline="always", **JIT_OPTIONS)
def column_dot(X, data, indices, indptr, j, v, sw):
    """``sum_i sw_i X[i, j] v_i`` (``sw`` empty: unit weights)."""
    if indptr is not None:
        if indptr.shape[0] > 0:
            return _sparse_column_dot(data, indices, indptr, j, v, sw)
    return dense_column_dot(X, j, v, sw)


@njit(inline="always", **JIT_OPTIONS)
def sparse_column_update(data, indices, indptr, j, delta, r):
    """``r -= delta * x_j`` on the non-zeros of CSC column ``j``."""
    for k in range(indptr[j], indptr[j + 1]):
        r[indices[k]] -= delta * data[k]


@njit(inline="always", **JIT_OPTIONS)
def column_dot_as(sparse, weighted, X, data, indices, indptr, j, v, sw):
    """:func:`column_dot` for callers that know the layout and the weighting at compile time
    (``sparse`` and ``weighted`` literal, see :func:`layout_flags`): the dispatch folds away,
    where a branch per column measured 1.7x slower loops on a CSC design with ~20 non-zeros
    per column."""
    if indptr is None:
        return dense_column_dot(X, j, v, sw)
    if not sparse:
        return dense_column_dot(X, j, v, sw)
    if weighted:
        return sparse_dot_weighted(data, indices, indptr, j, v, sw)
    return sparse_dot_unweighted(data, indices, indptr, j, v)


@njit(inline="always", **JIT_OPTIONS)
def column_update(X, data, indices, indptr, j, delta, mean_j, r):
    """Residual update after ``w_j += delta``: ``r -= delta * (x_j - mean_j)`` for dense
    designs, ``r -= delta * x_j`` on the non-zeros for sparse ones (module docstring)."""
    if indptr is not None:
        if indptr.shape[0] > 0:
            sparse_column_update(data, indices, indptr, j, delta, r)
            return
    for i in range(X.shape[0]):
        r[i] -= delta * (X[i, j] - mean_j)


@njit(**JIT_OPTIONS_DENSE)
def weighted_sum(v, sw):
    """``sum_i sw_i v_i``."""
    if sw.shape[0] == 0:
        return v.sum()
    acc = 0.0
    for i in range(v.shape[0]):
        acc += sw[i] * v[i]
    return acc


@njit(**JIT_OPTIONS_DENSE)
def weighted_dot(u, v, sw):
    """``sum_i sw_i u_i v_i``."""
    acc = 0.0
    if sw.shape[0] == 0:
        for i in range(u.shape[0]):
            acc += u[i] * v[i]
    else:
        for i in range(u.shape[0]):
            acc += sw[i] * u[i] * v[i]
    return acc


@njit(**JIT_OPTIONS_DENSE)
def dense_weighted_means(X, sw, sw_sum, out):
    """Weighted column means ``sum_i sw_i X[i, j] / sw_sum`` of a dense F-ordered ``X``,
    accumulated in float64 without a temporary (``np.average(X, axis=0, weights=sw)`` builds
    ``sw * X``, as large as X)."""
    for j in range(X.shape[1]):
        acc = 0.0
        for i in range(X.shape[0]):
            acc += sw[i] * X[i, j]
        out[j] = acc / sw_sum


@njit(**JIT_OPTIONS_DENSE)
def dense_column_stats(X, j, mean_j, v, sw):
    """``(sum_i sw_i (X[i, j] - mean_j)^2, sum_i sw_i X[i, j] v_i)`` in one pass over the
    dense column ``j`` (``v`` empty: the norm only)."""
    sq = 0.0
    dot = 0.0
    with_dot = v.shape[0] > 0
    if sw.shape[0] > 0:
        if with_dot:
            for i in range(X.shape[0]):
                x = X[i, j]
                d = x - mean_j
                sq += sw[i] * d * d
                dot += sw[i] * x * v[i]
        else:
            for i in range(X.shape[0]):
                d = X[i, j] - mean_j
                sq += sw[i] * d * d
    elif with_dot:
        for i in range(X.shape[0]):
            x = X[i, j]
            d = x - mean_j
            sq += d * d
            dot += x * v[i]
    else:
        for i in range(X.shape[0]):
            d = X[i, j] - mean_j
            sq += d * d
    return sq, dot


@njit(**JIT_OPTIONS)
def column_sq_norms(X, data, indices, indptr, sw, sw_sum, x_mean, out):
    """Squared weighted norms of the centred columns, ``sum_i sw_i (X[i, j] - mean_j)^2``."""
    if indptr is not None:
        if indptr.shape[0] > 0:
            _sparse_sq_norms(data, indices, indptr, sw, sw_sum, x_mean, out)
            return
    no_vector = np.empty(0, dtype=out.dtype)
    for j in range(out.shape[0]):
        out[j], _ = dense_column_stats(X, j, x_mean[j], no_vector, sw)


@njit(**JIT_OPTIONS)
def _sparse_sq_norms(data, indices, indptr, sw, sw_sum, x_mean, out):
    weighted = sw.shape[0] > 0
    for j in range(out.shape[0]):
        m = x_mean[j]
        acc = 0.0
        # sum over non-zeros of sw x^2, minus the mean's share: sum sw x = m * sw_sum.
        for k in range(indptr[j], indptr[j + 1]):
            wk = sw[indices[k]] if weighted else 1.0
            acc += wk * data[k] * data[k]
        acc -= m * m * sw_sum
        out[j] = 0.0 if acc < 0.0 else acc


@njit(**JIT_OPTIONS)
def dense_norms_and_gradient(X, sw, x_mean, v, norms2, grad):
    """Squared centred column norms and the gradient ``X_c^T S v`` of a dense ``X`` in one
    pass over it (a fit starting from zero needs both, ``v`` being the centred target)."""
    v_sum = weighted_sum(v, sw)
    for j in range(X.shape[1]):
        sq, dot = dense_column_stats(X, j, x_mean[j], v, sw)
        norms2[j] = sq
        grad[j] = dot - x_mean[j] * v_sum


@njit(parallel=True, **JIT_OPTIONS)
def dense_norms_and_gradient_parallel(X, sw, x_mean, v, norms2, grad):
    """:func:`dense_norms_and_gradient` with the columns split over Numba's threads (the
    same values; never from concurrent Python threads)."""
    v_sum = weighted_sum(v, sw)
    for j in prange(X.shape[1]):
        sq, dot = dense_column_stats(X, j, x_mean[j], v, sw)
        norms2[j] = sq
        grad[j] = dot - x_mean[j] * v_sum


@njit(**JIT_OPTIONS)
def init_residual(X, data, indices, indptr, y_centred, x_mean, w, r):
    """Residual of ``w`` in the design's convention (module docstring), written into ``r``."""
    copy_into(r, y_centred)
    for j in range(w.shape[0]):
        if w[j] != 0.0:
            column_update(X, data, indices, indptr, j, w[j], x_mean[j], r)


@njit(**JIT_OPTIONS)
def residual_offset(indptr, x_mean, w, features):
    """What to add to the stored residual to get the centred one: ``x_mean . w`` for sparse
    designs, 0 for dense ones. ``features`` must hold every non-zero of ``w``; when it holds
    every feature (``np.arange(p)``), the pass is a contiguous one (same sum)."""
    offset = 0.0
    if indptr is not None:
        if indptr.shape[0] > 0:
            every = features.shape[0] == w.shape[0]
            for k in range(features.shape[0]):
                j = k if every else features[k]
                offset += x_mean[j] * w[j]
    return offset


@njit(**JIT_OPTIONS)
def gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, features, out):
    """``out[j] = x_j_centred^T S r_centred`` for ``j`` in ``features``."""
    if indptr is None:
        _gradient(False, False, X, data, indices, indptr, sw, x_mean, r, r_sum, features, out)
        return
    sparse, weighted = layout_flags(indptr, sw)
    if sparse and weighted:
        _gradient(True, True, X, data, indices, indptr, sw, x_mean, r, r_sum, features, out)
    elif sparse:
        _gradient(True, False, X, data, indices, indptr, sw, x_mean, r, r_sum, features, out)
    else:
        _gradient(False, False, X, data, indices, indptr, sw, x_mean, r, r_sum, features, out)


@njit(**JIT_OPTIONS)
def _gradient(sparse, weighted, X, data, indices, indptr, sw, x_mean, r, r_sum, features,
              out):
    literally(sparse)
    literally(weighted)
    for j in features:
        out[j] = (column_dot_as(sparse, weighted, X, data, indices, indptr, j, r, sw)
                  - x_mean[j] * r_sum)


@njit(**JIT_OPTIONS)
def gradient_parallel(X, data, indices, indptr, sw, x_mean, r, r_sum, features, out):
    """:func:`gradient` with the features split over Numba's threads (one fit, large p).

    Never call it from several Python threads at once: Numba's default threading layer
    aborts when parallel regions are entered concurrently."""
    if indptr is None:
        _gradient_parallel(False, False, X, data, indices, indptr, sw, x_mean, r, r_sum,
                           features, out)
        return
    sparse, weighted = layout_flags(indptr, sw)
    if sparse and weighted:
        _gradient_parallel(True, True, X, data, indices, indptr, sw, x_mean, r, r_sum,
                           features, out)
    elif sparse:
        _gradient_parallel(True, False, X, data, indices, indptr, sw, x_mean, r, r_sum,
                           features, out)
    else:
        _gradient_parallel(False, False, X, data, indices, indptr, sw, x_mean, r, r_sum,
                           features, out)


@njit(parallel=True, **JIT_OPTIONS)
def _gradient_parallel(sparse, weighted, X, data, indices, indptr, sw, x_mean, r, r_sum,
                       features, out):
    literally(sparse)
    literally(weighted)
    for k in prange(features.shape[0]):
        j = features[k]
        out[j] = (column_dot_as(sparse, weighted, X, data, indices, indptr, j, r, sw)
                  - x_mean[j] * r_sum)


@njit(**JIT_OPTIONS)
def columns_nnz(indptr, columns):
    """Number of stored entries in the CSC columns ``columns``."""
    total = 0
    for j in columns:
        total += indptr[j + 1] - indptr[j]
    return total


@njit(**JIT_OPTIONS)
def take_columns(data, indices, indptr, columns):
    """The CSC arrays of the columns ``columns`` of a CSC matrix, contiguous and in X's
    types: a working set's compact copy. Coordinate descent on a few thousand columns spread
    through a large matrix waits on memory at every column jump; on the compact copy the
    hardware prefetcher streams them: epochs run about 2.7x faster, for a copy that costs
    about two epochs."""
    m = columns.shape[0]
    out_indptr = np.zeros(m + 1, dtype=indptr.dtype)
    for a in range(m):
        j = columns[a]
        out_indptr[a + 1] = out_indptr[a] + (indptr[j + 1] - indptr[j])
    out_data = np.empty(out_indptr[m], dtype=data.dtype)
    out_indices = np.empty(out_indptr[m], dtype=indices.dtype)
    for a in range(m):
        j = columns[a]
        start = out_indptr[a]
        for q in range(indptr[j], indptr[j + 1]):
            out_data[start] = data[q]
            out_indices[start] = indices[q]
            start += 1
    return out_data, out_indices, out_indptr


@njit(**JIT_OPTIONS)
def row_chunks(indptr, n_chunks):
    """Row boundaries cutting a CSR matrix's rows into ``n_chunks`` runs of about equal
    numbers of non-zeros (``bounds[c]:bounds[c + 1]`` is chunk ``c``)."""
    n = indptr.shape[0] - 1
    bounds = np.empty(n_chunks + 1, dtype=np.int64)
    bounds[0] = 0
    row = 0
    for c in range(1, n_chunks):
        target = indptr[n] * c // n_chunks
        while row < n and indptr[row] < target:
            row += 1
        bounds[c] = row
    bounds[n_chunks] = n
    return bounds


@njit(parallel=True, **JIT_OPTIONS)
def csr_bucket_counts(indices, indptr, bounds, shift, n_buckets):
    """Non-zeros of each chunk of rows (``bounds``, see :func:`row_chunks`) in each bucket of
    ``2**shift`` consecutive columns: the first pass of :func:`csr_to_csc_parallel`."""
    n_chunks = bounds.shape[0] - 1
    counts = np.zeros((n_chunks, n_buckets), dtype=np.int64)
    for c in prange(n_chunks):
        for k in range(indptr[bounds[c]], indptr[bounds[c + 1]]):
            counts[c, indices[k] >> shift] += 1
    return counts


@njit(parallel=True, **JIT_OPTIONS)
def csr_to_csc_parallel(data, indices, indptr, bounds, shift, counts, out_data, out_indices,
                        out_indptr):
    """Fill ``out_data, out_indices, out_indptr`` with the CSC arrays of a canonical CSR
    matrix, by a radix scatter on Numba's threads (``counts`` from :func:`csr_bucket_counts`).

    A direct transpose writes each non-zero to one of ``n_features`` places far apart and
    waits on memory at almost every write (SciPy's: 17 ms for the 20000 x 100000 benchmark
    matrix with 2M non-zeros). Here each chunk of rows scatters its non-zeros into buckets of
    ``2**shift`` consecutive columns (a few hundred write streams, which the caches hold),
    storing the value and ``row << shift | column offset`` in the output arrays themselves;
    then each bucket is sorted into its columns from a copy of that bucket alone (the caller
    keeps buckets small). Rows stay in order within each column (chunks are in row order, each
    scanned in order), so the result is canonical. The caller checks that ``n_rows << shift``
    fits in the output index type.
    """
    n_chunks, n_buckets = counts.shape
    n_features = out_indptr.shape[0] - 1
    mask = (1 << shift) - 1
    # Bucket b holds the non-zeros of its columns, chunk by chunk: its CSC range.
    bucket_start = np.zeros(n_buckets + 1, dtype=np.int64)
    cursor = np.empty((n_chunks, n_buckets), dtype=np.int64)
    for b in range(n_buckets):
        position = bucket_start[b]
        for c in range(n_chunks):
            cursor[c, b] = position
            position += counts[c, b]
        bucket_start[b + 1] = position
    out_indptr[0] = 0
    for c in prange(n_chunks):
        for i in range(bounds[c], bounds[c + 1]):
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                q = cursor[c, j >> shift]
                out_data[q] = data[k]
                out_indices[q] = (i << shift) | (j & mask)
                cursor[c, j >> shift] = q + 1
    for b in prange(n_buckets):
        lo = bucket_start[b]
        hi = bucket_start[b + 1]
        first = b << shift
        width = min(1 << shift, n_features - first)
        ends = np.zeros(width + 1, dtype=np.int64)  # column offsets within the bucket
        for q in range(lo, hi):
            ends[(out_indices[q] & mask) + 1] += 1
        for a in range(width):
            ends[a + 1] += ends[a]
            out_indptr[first + a + 1] = lo + ends[a + 1]
        values = out_data[lo:hi].copy()
        packed = out_indices[lo:hi].copy()
        for t in range(hi - lo):
            a = packed[t] & mask
            q = lo + ends[a]
            ends[a] += 1
            out_data[q] = values[t]
            out_indices[q] = packed[t] >> shift


@njit(**JIT_OPTIONS)
def take_rows(X, rows, out):
    """``out[:] = X[rows]`` for F-ordered ``X`` and ``out``: a column-by-column gather, one
    pass and no C-ordered temporary (cross-validation folds of a dense design)."""
    for j in range(X.shape[1]):
        for i in range(rows.shape[0]):
            out[i, j] = X[rows[i], j]


@njit(inline="always", **JIT_OPTIONS)
def _sparse_column_stats(data, indices, indptr, j, sw, sw_sum, centre, v, v_sum, x_mean,
                         norms2, grad):
    # One pass for all: the centred norm is sum sw x^2 - mean^2 * sw_sum, and the gradient
    # x_j^T S v - mean * sum(S v) (as :func:`gradient`, summed in the same order).
    weighted = sw.shape[0] > 0
    with_gradient = grad.shape[0] > 0
    total = 0.0
    squares = 0.0
    dot = 0.0
    for k in range(indptr[j], indptr[j + 1]):
        i = indices[k]
        u = data[k] * sw[i] if weighted else data[k]
        total += u
        squares += u * data[k]
        if with_gradient:
            dot += u * v[i]
    mean = total / sw_sum if centre else 0.0
    x_mean[j] = mean
    norm2 = squares - mean * mean * sw_sum
    norms2[j] = norm2 if norm2 > 0.0 else 0.0
    if with_gradient:
        grad[j] = dot - mean * v_sum


@njit(**JIT_OPTIONS)
def sparse_column_stats(data, indices, indptr, sw, sw_sum, centre, v, x_mean, norms2, grad):
    """Weighted column means (zero unless ``centre``) and squared weighted norms of the
    centred columns of a CSC matrix, in one pass (``sw`` empty: unit weights, ``sw_sum``
    their total); with a non-empty ``grad``, the gradient ``X_c^T S v`` too (a fit starting
    from zero needs all three, ``v`` being the centred target)."""
    v_sum = weighted_sum(v, sw) if grad.shape[0] > 0 else 0.0
    for j in range(x_mean.shape[0]):
        _sparse_column_stats(data, indices, indptr, j, sw, sw_sum, centre, v, v_sum, x_mean,
                             norms2, grad)


@njit(parallel=True, **JIT_OPTIONS)
def sparse_column_stats_parallel(data, indices, indptr, sw, sw_sum, centre, v, x_mean,
                                 norms2, grad):
    """:func:`sparse_column_stats` with the columns split over Numba's threads (same
    results: each column is summed in the same order)."""
    v_sum = weighted_sum(v, sw) if grad.shape[0] > 0 else 0.0
    for j in prange(x_mean.shape[0]):
        _sparse_column_stats(data, indices, indptr, j, sw, sw_sum, centre, v, v_sum, x_mean,
                             norms2, grad)


# Below this many multiply-adds a parallel region costs more than it saves (thread wake-up
# is tens of microseconds, far more on a busy machine). A full gradient of a 72 x 7129
# design (513K) already gains from two threads (docs/benchmarks.md).
_PARALLEL_MIN_WORK = 250_000


@njit(**JIT_OPTIONS)
def worth_threads(indptr, n, p, count):
    """Whether ``count`` column products (dense: ``n`` rows each; sparse: the average column
    length) are enough work for Numba's threads."""
    per_column = float(n)
    if indptr is not None:
        if indptr.shape[0] > 0:
            per_column = indptr[p] / max(p, 1)
    return count * per_column >= _PARALLEL_MIN_WORK


@njit(**JIT_OPTIONS)
def bounded_gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, r_offset, w, norms,
                     penalty, grad_ref, r_ref, has_ref, grad, fresh, parallel):
    """Fill ``grad`` with ``X_c^T S r_c`` where it matters and with upper bounds elsewhere.

    ``grad_ref`` is the exact gradient at an earlier centred residual ``r_ref``. By
    Cauchy-Schwarz, ``|x_j^T S r_c - grad_ref[j]| <= ||x_j||_S * ||r_c - r_ref||_S``, so a
    feature whose bound stays below its threshold ``l1_j`` (on the sides its bounds let it
    move to, :func:`.penalty.entering_correlation`) cannot make the dual point infeasible:
    its bound stands in for its correlation, signed so that it enters on an open side
    (``norms`` are the centred column norms). Features in the support of ``w`` or whose
    bound reaches the threshold are computed exactly. The duality gap from ``grad`` is then
    exact (the feasibility scale and the bounds' conjugates only depend on correlations
    above the thresholds), and Gap Safe screening and working-set scores computed
    from the bounds are conservative. When more than a quarter of the features would need
    computing, or without a reference, the whole gradient is computed and becomes the new
    reference. Along a path the reference carries over from one alpha to the next.

    ``fresh`` (boolean, length ``p``, or empty) marks features whose ``grad`` already holds
    the exact value at ``r``: the working set's, when the inner solve ended on a gap check.
    They are not computed again (tall 50000 x 500 at alpha_max/100: 586 of the 2000 column
    products of the four full gradients).

    Returns ``(has_ref, n_computed)``.
    """
    n = r.shape[0]
    p = w.shape[0]
    some_fresh = fresh.shape[0] > 0
    if has_ref and penalty.l1_reg > 0.0:
        weighted = sw.shape[0] > 0
        acc = 0.0
        for i in range(n):
            d = r[i] + r_offset - r_ref[i]
            acc += (sw[i] if weighted else 1.0) * d * d
        delta = np.sqrt(acc)
        if delta == 0.0:
            copy_into(grad, grad_ref)
            return True, 0
        margin = 1.0 - 1e-9  # for rounding in the bound
        bounded = penalty.bounded
        count = 0
        for j in range(p):
            if some_fresh and fresh[j]:
                continue
            bound = (entering_correlation(penalty, j, grad_ref[j]) if bounded
                     else abs(grad_ref[j])) + norms[j] * delta
            # (the bound, on the side it would enter from; 0 if it is fixed at zero)
            grad[j] = bound if penalty.upper[j] > 0.0 else \
                (-bound if penalty.lower[j] < 0.0 else 0.0)
            if w[j] != 0.0 or bound >= l1_of(penalty, j) * margin:
                count += 1
        if count <= p // 4:
            features = np.empty(count, dtype=np.int64)
            k = 0
            for j in range(p):
                if some_fresh and fresh[j]:
                    continue
                if w[j] != 0.0 or entering_correlation(penalty, j, grad[j]) \
                        >= l1_of(penalty, j) * margin:
                    features[k] = j
                    k += 1
            if parallel and worth_threads(indptr, n, p, count):
                gradient_parallel(X, data, indices, indptr, sw, x_mean, r, r_sum, features,
                                  grad)
            else:
                gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
            return True, count
    if some_fresh:
        features = np.flatnonzero(~fresh)
    else:
        features = np.arange(p)
    if parallel and worth_threads(indptr, n, p, features.shape[0]):
        gradient_parallel(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
    else:
        gradient(X, data, indices, indptr, sw, x_mean, r, r_sum, features, grad)
    copy_into(grad_ref, grad)
    for i in range(n):
        r_ref[i] = r[i] + r_offset
    return True, features.shape[0]


@njit(**JIT_OPTIONS)
def test_mse(X, data, indices, indptr, y, sw, coef, intercept):
    """Mean squared error of ``X @ coef + intercept`` against ``y`` on held-out rows, weighted
    by ``sw`` when given. ``X`` is dense C-ordered (rows x features; only the columns where
    ``coef`` is non-zero are read) or, when ``indptr`` is non-empty, the CSR arrays."""
    n = y.shape[0]
    weighted = sw.shape[0] > 0
    total = 0.0
    weight = 0.0
    if indptr.shape[0] > 0:
        for i in range(n):
            prediction = intercept
            for k in range(indptr[i], indptr[i + 1]):
                prediction += data[k] * coef[indices[k]]
            residual = prediction - y[i]
            s = sw[i] if weighted else 1.0
            total += s * residual * residual
            weight += s
    else:
        support = np.flatnonzero(coef)
        for i in range(n):
            prediction = intercept
            for j in support:
                prediction += X[i, j] * coef[j]
            residual = prediction - y[i]
            s = sw[i] if weighted else 1.0
            total += s * residual * residual
            weight += s
    return total / weight
