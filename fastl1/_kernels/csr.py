"""A CSR design read in place: what the working-set solver needs from the rows.

Coordinate descent needs columns, but only on the working set: the full problem is touched
once per round, by a gradient, and a gradient is as cheap from rows as from columns (a
scatter ``g[j] += x_ij s_i r_i`` row by row; 2.1-2.9 ms against 2.5-2.8 ms for the column
gather on the 20000 x 100000 benchmark matrix with 2M non-zeros, two threads). So a CSR
design is never transposed: each round copies the working set's columns out of the rows
(:func:`take_columns_from_rows`, about the cost of one pass over the column indices) and the
epochs run on that compact CSC copy, as for a CSC design. A full transpose cost ~19 ms there,
against a whole CSC fit of ~20 ms at alpha_max/20.

Scatters accumulate per chunk of rows into their own float64 buffer; the chunks
(:func:`row_chunks_for`) depend on the data only, never on the number of threads, so a fit
gives the same numbers on any machine. Conventions (residual, centring, weights) are those of
:mod:`.design`.
"""

import numpy as np
from numba import njit, prange

from . import JIT_OPTIONS
from .design import row_chunks, weighted_sum

# Rows are cut into chunks of about this many non-zeros (at most _MAX_CHUNKS), the units a
# thread scatters into its own buffer of n_features float64.
_CHUNK_NNZ = 1 << 19
_MAX_CHUNKS = 8


@njit(**JIT_OPTIONS)
def row_chunks_for(indptr):
    """Row boundaries of the scatter chunks of a CSR matrix: ``2**19`` to ``2**20``
    non-zeros each, 1, 2, 4 or 8 of them, fixed by the matrix alone (see the module
    docstring)."""
    n_chunks = 1  # a power of two, so that two or four threads share the chunks evenly
    while 2 * n_chunks <= min(_MAX_CHUNKS, indptr[indptr.shape[0] - 1] // _CHUNK_NNZ):
        n_chunks *= 2
    return row_chunks(indptr, n_chunks)


# What a scatter accumulates per column ``j``, interleaved in ``buffers[c, stride * j:]``.
GRADIENT = 1  # sum_i x_ij s_i v_i (stride 1)
GRADIENT_AND_SUMS = 2  # and sum_i s_i x_ij, for the means (stride 2)
ALL_STATISTICS = 3  # and sum_i s_i x_ij^2, for the norms (stride 3)
SQUARES = 4  # sum_i s_i x_ij^2 alone (stride 1)


@njit(inline="always", **JIT_OPTIONS)
def _stride(fields):
    return 1 if fields == SQUARES else fields


@njit(inline="always", **JIT_OPTIONS)
def _scatter_chunk(data, indices, indptr, chunks, c, sw, v, fields, buffers):
    # Chunk c's sums ``fields`` into buffers[c]. Only the sums a caller needs: the buffer of
    # 100,000 features stays in a core's L2 at stride 1 or 2, not at 3 (2M non-zeros, two
    # threads: 2.0, 3.8 and 5.5 ms at strides 1, 2 and 3).
    weighted = sw.shape[0] > 0
    buffer = buffers[c]
    buffer[:] = 0.0
    for i in range(chunks[c], chunks[c + 1]):
        s = sw[i] if weighted else 1.0
        if fields == SQUARES:
            for k in range(indptr[i], indptr[i + 1]):
                x = data[k]
                buffer[indices[k]] += s * x * x
            continue
        vi = s * v[i]
        if fields == ALL_STATISTICS:
            for k in range(indptr[i], indptr[i + 1]):
                x = data[k]
                q = 3 * np.int64(indices[k])
                buffer[q] += x * vi
                buffer[q + 1] += s * x
                buffer[q + 2] += s * x * x
        elif fields == GRADIENT_AND_SUMS:
            for k in range(indptr[i], indptr[i + 1]):
                x = data[k]
                q = 2 * np.int64(indices[k])
                buffer[q] += x * vi
                buffer[q + 1] += s * x
        elif vi != 0.0:
            for k in range(indptr[i], indptr[i + 1]):
                buffer[indices[k]] += data[k] * vi


@njit(**JIT_OPTIONS)
def _scatter(data, indices, indptr, chunks, sw, v, fields, buffers):
    for c in range(chunks.shape[0] - 1):
        _scatter_chunk(data, indices, indptr, chunks, c, sw, v, fields, buffers)


@njit(parallel=True, **JIT_OPTIONS)
def _scatter_parallel(data, indices, indptr, chunks, sw, v, fields, buffers):
    for c in prange(chunks.shape[0] - 1):
        _scatter_chunk(data, indices, indptr, chunks, c, sw, v, fields, buffers)


@njit(**JIT_OPTIONS)
def scatter(data, indices, indptr, chunks, sw, v, fields, buffers, parallel):
    """Fill ``buffers[c]`` with chunk ``c``'s column sums ``fields`` (``GRADIENT``: ``X^T S
    v``; ``GRADIENT_AND_SUMS``, ``ALL_STATISTICS``: interleaved per column with the sums of
    ``S X``, and of ``S X^2``; ``SQUARES``: the sums of ``S X^2``)."""
    if parallel and chunks.shape[0] > 2:
        _scatter_parallel(data, indices, indptr, chunks, sw, v, fields, buffers)
    else:
        _scatter(data, indices, indptr, chunks, sw, v, fields, buffers)


@njit(inline="always", **JIT_OPTIONS)
def _chunk_total(buffers, q):
    total = 0.0
    for c in range(buffers.shape[0]):
        total += buffers[c, q]
    return total


@njit(**JIT_OPTIONS)
def gradient_from_rows(data, indices, indptr, chunks, buffers, sw, x_mean, r, r_sum, out,
                       parallel):
    """``out = X_c^T S r_c`` for a CSR design (``r`` and ``r_sum`` in the sparse convention
    of :mod:`.design`); ``buffers`` is scratch of shape ``(n_chunks, n_features)``."""
    scatter(data, indices, indptr, chunks, sw, r, GRADIENT, buffers, parallel)
    # The chunks' sums, in chunk order; serial: ~0.1 ms for 100,000 features and two chunks,
    # not worth a parallel region's compile time.
    for j in range(out.shape[0]):
        out[j] = _chunk_total(buffers, j) - x_mean[j] * r_sum


@njit(**JIT_OPTIONS)
def column_sq_norms_from_rows(data, indices, indptr, chunks, buffers, sw, sw_sum, x_mean,
                              norms2, parallel):
    """:func:`.design.column_sq_norms` for a CSR design (the means ``x_mean`` known);
    ``buffers`` as for :func:`gradient_from_rows`."""
    scatter(data, indices, indptr, chunks, sw, x_mean[:0], SQUARES, buffers, parallel)
    for j in range(norms2.shape[0]):
        norm2 = _chunk_total(buffers, j) - x_mean[j] * x_mean[j] * sw_sum
        norms2[j] = norm2 if norm2 > 0.0 else 0.0


@njit(**JIT_OPTIONS)
def column_stats_from_rows(data, indices, indptr, sw, sw_sum, centre, v, x_mean, norms2, grad,
                           parallel):
    """:func:`.design.sparse_column_stats` for a CSR design, in one pass over the rows:
    weighted column means (zero unless ``centre``) and, each only when its array is not
    empty, the squared weighted norms of the centred columns and ``X_c^T S v``.

    A fit from zero takes the gradient without the norms (its first working set rarely needs
    them; :func:`column_sq_norms_from_rows` computes them when it does): 2.0 against 3.8 ms
    uncentred, 3.8 against 5.5 centred, on the 20000 x 100000 benchmark matrix."""
    p = x_mean.shape[0]
    chunks = row_chunks_for(indptr)
    with_norms = norms2.shape[0] > 0
    with_gradient = grad.shape[0] > 0
    n = indptr.shape[0] - 1
    if not with_gradient:
        v = np.zeros(n, dtype=v.dtype)
    if with_norms and not centre and not with_gradient:
        fields = SQUARES
    elif with_norms:
        fields = ALL_STATISTICS
    elif centre:
        fields = GRADIENT_AND_SUMS
    else:
        fields = GRADIENT
    stride = _stride(fields)
    buffers = np.empty((chunks.shape[0] - 1, stride * p), dtype=np.float64)
    v_sum = weighted_sum(v, sw)
    scatter(data, indices, indptr, chunks, sw, v, fields, buffers, parallel)
    for j in range(p):
        q = stride * j
        mean = _chunk_total(buffers, q + 1) / sw_sum if centre else 0.0
        x_mean[j] = mean
        if with_norms:
            norm2 = _chunk_total(buffers, q + stride - 1) - mean * mean * sw_sum
            norms2[j] = norm2 if norm2 > 0.0 else 0.0
        if with_gradient:
            grad[j] = _chunk_total(buffers, q) - mean * v_sum


@njit(**JIT_OPTIONS)
def residual_from_rows(data, indices, indptr, y_centred, w, r):
    """``r = y_c - X w`` for a CSR design (the sparse convention of :mod:`.design`)."""
    for i in range(r.shape[0]):
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * w[indices[k]]
        r[i] = y_centred[i] - total


# Entries are tested in blocks of this many: first a branch-free pass that lists a block's
# entries in marked columns, then one over that list.
_BLOCK = 4096


@njit(inline="always", **JIT_OPTIONS)
def _collect_chunk(data, indices, indptr, chunks, c, marked, position, rows, values, slots,
                   found, counts):
    # Chunk c appends its entries in the marked columns to its stretch of (rows, values,
    # slots), of length ``cap``, counting them all (per column in ``counts``, in all in
    # ``found``) even past the end of its stretch, which it then stops filling. The test of
    # each entry is a byte load and an add, no branch: at a hit share of 0.1-5 % a branch is
    # mispredicted often enough to cost as much as the pass itself.
    cap = rows.shape[0] // (chunks.shape[0] - 1)
    hits = np.empty(_BLOCK, dtype=np.int64)
    q = 0
    for i in range(chunks[c], chunks[c + 1]):
        start = indptr[i]
        end = indptr[i + 1]
        while start < end:
            stop = min(end, start + _BLOCK)
            n_hits = 0
            for k in range(start, stop):
                hits[n_hits] = k
                n_hits += marked[indices[k]]
            for h in range(n_hits):
                k = hits[h]
                a = position[indices[k]]
                if q < cap:
                    rows[c * cap + q] = i
                    values[c * cap + q] = data[k]
                    slots[c * cap + q] = a
                counts[c, a] += 1
                q += 1
            start = stop
    found[c] = q


@njit(**JIT_OPTIONS)
def _collect(data, indices, indptr, chunks, marked, position, rows, values, slots, found,
             counts):
    for c in range(chunks.shape[0] - 1):
        _collect_chunk(data, indices, indptr, chunks, c, marked, position, rows, values, slots,
                       found, counts)


@njit(parallel=True, **JIT_OPTIONS)
def _collect_parallel(data, indices, indptr, chunks, marked, position, rows, values, slots,
                      found, counts):
    for c in prange(chunks.shape[0] - 1):
        _collect_chunk(data, indices, indptr, chunks, c, marked, position, rows, values, slots,
                       found, counts)


@njit(**JIT_OPTIONS)
def _collect_columns(data, indices, indptr, chunks, marked, position, n_new, cap, parallel):
    """The entries of the marked columns, chunk by chunk: ``(rows, values, slots, found,
    counts)``, chunk ``c``'s ``found[c]`` entries at ``c * cap'`` in the first three, where
    ``cap'`` is ``cap`` or, if some chunk found more (skewed columns), the largest count (a
    second pass)."""
    n_chunks = chunks.shape[0] - 1
    found = np.zeros(n_chunks, dtype=np.int64)
    while True:
        counts = np.zeros((n_chunks, n_new), dtype=np.int64)
        rows = np.empty(n_chunks * cap, dtype=indices.dtype)
        values = np.empty(n_chunks * cap, dtype=data.dtype)
        slots = np.empty(n_chunks * cap, dtype=np.int32)
        if parallel and n_chunks > 1:
            _collect_parallel(data, indices, indptr, chunks, marked, position, rows, values,
                              slots, found, counts)
        else:
            _collect(data, indices, indptr, chunks, marked, position, rows, values, slots,
                     found, counts)
        if found.max() <= cap:
            return rows, values, slots, found, counts
        cap = found.max()


@njit(**JIT_OPTIONS)
def take_columns_from_rows(data, indices, indptr, chunks, n_features, columns, kept_columns,
                           kept_data, kept_indices, kept_indptr, parallel):
    """The CSC arrays of the columns ``columns`` (sorted) of a CSR matrix, as
    :func:`.design.take_columns` gives them from a CSC one: rows in order, X's types.

    ``kept_*`` is the previous call's result for ``kept_columns``: columns found there are
    copied from it, and only the others are read from the rows (one pass over the column
    indices, a byte test each; skipped when there are none). Working sets grow by adding
    columns, so each round reads each new column once. ``parallel``: chunks on Numba's
    threads.
    """
    m = columns.shape[0]
    position = np.full(n_features, -1, dtype=np.int64)
    for a in range(kept_columns.shape[0]):
        position[kept_columns[a]] = a
    source = np.empty(m, dtype=np.int64)  # >= 0: column in the kept copy; < 0: -1 - new slot
    new = np.empty(m, dtype=np.int64)
    n_new = 0
    for a in range(m):
        j = columns[a]
        if position[j] >= 0:
            source[a] = position[j]
        else:
            source[a] = -1 - n_new
            new[n_new] = j
            n_new += 1
    lengths = np.zeros(m + 1, dtype=np.int64)
    n_chunks = chunks.shape[0] - 1
    marked = np.zeros(n_features, dtype=np.uint8)  # 1 for the new columns
    for b in range(n_new):
        j = new[b]
        position[j] = b
        marked[j] = 1
    # Room for twice the entries that columns of average length would hold, per chunk.
    nnz = indptr[indptr.shape[0] - 1]
    cap = (2 * n_new * nnz) // max(n_features, 1) // n_chunks + 1024
    if n_new > 0:
        rows, values, slots, found, counts = _collect_columns(
            data, indices, indptr, chunks, marked, position, n_new, cap, parallel)
        cap = rows.shape[0] // n_chunks
    else:
        rows, values, slots, found, counts = (
            indices[:0].copy(), data[:0].copy(), np.empty(0, dtype=np.int32),
            np.zeros(n_chunks, dtype=np.int64), np.zeros((n_chunks, 0), dtype=np.int64))
    for a in range(m):
        b = source[a]
        if b >= 0:
            lengths[a + 1] = kept_indptr[b + 1] - kept_indptr[b]
        else:
            for c in range(n_chunks):
                lengths[a + 1] += counts[c, -1 - b]
    out_indptr = np.empty(m + 1, dtype=indices.dtype)  # as the design's, see solve_enet
    out_indptr[0] = 0
    for a in range(m):
        out_indptr[a + 1] = out_indptr[a] + lengths[a + 1]
    out_data = np.empty(out_indptr[m], dtype=data.dtype)
    out_indices = np.empty(out_indptr[m], dtype=indices.dtype)
    # Where each chunk's entries of each new column go: chunks in row order.
    cursor = np.empty((n_chunks, n_new), dtype=np.int64)
    for a in range(m):
        b = source[a]
        if b >= 0:
            start = kept_indptr[b]
            out = out_indptr[a]
            for t in range(kept_indptr[b + 1] - start):
                out_data[out + t] = kept_data[start + t]
                out_indices[out + t] = kept_indices[start + t]
        else:
            at = out_indptr[a]
            for c in range(n_chunks):
                cursor[c, -1 - b] = at
                at += counts[c, -1 - b]
    if n_new > 0:
        if parallel and n_chunks > 1:
            _place_parallel(rows, values, slots, found, cap, cursor, out_data, out_indices)
        else:
            _place(rows, values, slots, found, cap, cursor, out_data, out_indices)
    return out_data, out_indices, out_indptr


@njit(inline="always", **JIT_OPTIONS)
def _place_chunk(rows, values, slots, found, cap, cursor, c, out_data, out_indices):
    # Chunk c's collected entries to their columns' stretches (each chunk its own).
    for q in range(c * cap, c * cap + found[c]):
        b = slots[q]
        t = cursor[c, b]
        out_data[t] = values[q]
        out_indices[t] = rows[q]
        cursor[c, b] = t + 1


@njit(**JIT_OPTIONS)
def _place(rows, values, slots, found, cap, cursor, out_data, out_indices):
    for c in range(found.shape[0]):
        _place_chunk(rows, values, slots, found, cap, cursor, c, out_data, out_indices)


@njit(parallel=True, **JIT_OPTIONS)
def _place_parallel(rows, values, slots, found, cap, cursor, out_data, out_indices):
    for c in prange(found.shape[0]):
        _place_chunk(rows, values, slots, found, cap, cursor, c, out_data, out_indices)
