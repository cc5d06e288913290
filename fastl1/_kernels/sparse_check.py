"""One pass over a compressed sparse matrix's index arrays, before anything reads them.

SciPy trusts ``indices`` and ``indptr`` when it converts or multiplies: an index out of range
writes or reads outside its buffers (a crash, or silently wrong numbers). Users can build such
a matrix by assigning the arrays, so every sparse input is checked here first, in one pass
over ``indptr`` and the stored ``indices``: far cheaper than any fit that follows.
"""

import numpy as np
from numba import njit

from . import JIT_OPTIONS

#: Codes returned by :func:`compressed_structure_error` (0: the structure is sound).
STRUCTURE_ERRORS = {
    1: "indptr must start at 0",
    2: "indptr must be non-decreasing",
    3: "indptr's last entry exceeds the length of indices or data",
    4: "an index in indices is out of range",
}


@njit(**JIT_OPTIONS)
def compressed_structure_error(indices, indptr, n_minor, n_data):
    """Return ``(code, position)``: ``code`` 0 if ``indptr`` starts at 0, never decreases and
    ends within both ``indices`` and the ``n_data`` stored values, and every stored index lies
    in ``[0, n_minor)``; else the :data:`STRUCTURE_ERRORS` code and the offending position
    in ``indptr`` (codes 1-3) or ``indices`` (code 4)."""
    if indptr[0] != 0:
        return 1, 0
    for k in range(indptr.shape[0] - 1):
        if indptr[k + 1] < indptr[k]:
            return 2, k + 1
    nnz = indptr[indptr.shape[0] - 1]
    if nnz > indices.shape[0] or nnz > n_data:
        return 3, indptr.shape[0] - 1
    low = np.int64(0)
    high = np.int64(n_minor - 1)
    for k in range(nnz):
        i = np.int64(indices[k])
        if i < low or i > high:
            return 4, k
    return 0, 0
