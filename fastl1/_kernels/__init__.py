"""Numba kernels: pure ``@njit`` functions over plain arrays and scalars.

Every kernel takes the design matrix as four arrays ``(X, data, indices, indptr)``:
dense problems pass an F-ordered ``X`` and empty sparse arrays, CSC problems pass an empty
``X`` and the CSC arrays. One compiled specialisation therefore serves dense and sparse
inputs of a dtype, and the dense/sparse difference lives in the column helpers of
:mod:`fastl1._kernels.design` only.
"""

# Options shared by every kernel: on-disk cache (compile once per machine), release the GIL
# (so the path/CV layer can drive kernels from threads), and let LLVM reassociate sums so
# dot products vectorise (no "nnan"/"ninf": NaN checks must keep working).
JIT_OPTIONS = {
    "cache": True,
    "nogil": True,
    "fastmath": {"reassoc", "contract", "nsz", "arcp"},
}
