"""Numba kernels: pure ``@njit`` functions over plain arrays and scalars.

Every kernel takes the design matrix as four arrays ``(X, data, indices, indptr)``:
CSC problems pass a placeholder ``X`` and the CSC arrays; dense problems pass an F-ordered
``X`` and empty sparse arrays, with ``indptr=None`` for the squared-loss solver. A None
argument is resolved when Numba compiles (its dead-branch pruning), so the solver's dense
specialisation contains no sparse code, and its plain one (``gram`` and the unpenalised
features' ``free`` None) no Gram-matrix or projection code: each is compiled on first use
only. The dense/sparse difference lives in the column helpers of
:mod:`fastl1._kernels.design`. A CSR design read in place passes its CSR arrays and its row
chunks as ``rows`` to :func:`fastl1._kernels.cd.enet_cd` (row kernels in
:mod:`fastl1._kernels.csr`); the epochs still run on compact CSC copies of the working sets.
Numba prunes on a function's own None arguments only (not on a namedtuple's None field), so
the None-dispatched arrays travel positionally and the solver's other inputs in namedtuples.

On-disk cache and upgrades
--------------------------
Numba stamps a cached function with the source of the file that defines it only, so after an
upgrade that changed a kernel's callee in another file (say ``support_step.py``) but not the
caller's file (``cd.py``), Numba would load the caller's old machine code, built against the old
callee, and a fit could crash. :class:`KernelSourcesLocator` closes that hole: it keeps Numba's
choice of cache folder and adds a digest of every kernel source to the stamp, so any change to
any kernel file invalidates every kernel's cache entry.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from numba.core import caching

# Options shared by every kernel: on-disk cache (compile once per machine), release the GIL
# (so the path/CV layer can drive kernels from threads), and NumPy's division semantics: with
# Numba's default ("python") every division tests its divisor for zero to raise
# ZeroDivisionError, which keeps loops with a division from vectorising (the inverse column
# norms of a fit: 65 against 18 us for 20000 features). Kernels guard their divisors.
JIT_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}
# Dense reductions (dot products over contiguous columns) additionally let LLVM reassociate
# sums so they vectorise; no "nnan"/"ninf", so NaN checks keep working. Only the dense loops
# get it: on sparse gathers it measured 1.6x slower (CSC gradient, 20000 x 100000, 2M nnz).
JIT_OPTIONS_DENSE = {**JIT_OPTIONS, "fastmath": {"reassoc", "contract", "nsz", "arcp"}}

KERNEL_DIR = os.path.dirname(os.path.abspath(__file__))


def kernel_sources_digest(directory: str = KERNEL_DIR) -> str:
    """Return a SHA-256 digest of every ``*.py`` file in ``directory`` (names and contents)."""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py"):
            digest.update(name.encode())
            with open(os.path.join(directory, name), "rb") as source:
                digest.update(hashlib.sha256(source.read()).digest())
    return digest.hexdigest()


# Numba calls the cache machinery "CacheImpl" from 0.61 and "_CacheImpl" before.
_CACHE_IMPL = getattr(caching, "CacheImpl", None) or caching._CacheImpl


class KernelSourcesLocator(caching._CacheLocator):
    """Numba cache locator for fastl1's kernels: Numba's own locator, stamped with all sources.

    For a function defined in :data:`KERNEL_DIR` it wraps the locator Numba would have chosen
    (``NUMBA_CACHE_DIR``, the package's ``__pycache__`` or the user-wide cache, in Numba's
    order) and returns ``(Numba's stamp, kernel_sources_digest())`` as the source stamp. For
    any other function it declines, so other Numba code is unaffected.
    """

    sources_digest = kernel_sources_digest()

    def __init__(self, inner: caching._CacheLocator) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        # Numba reads a few private attributes of its locators (e.g. ``_py_file``).
        if name == "_inner":
            raise AttributeError(name)
        return getattr(self._inner, name)

    def ensure_cache_path(self) -> None:
        self._inner.ensure_cache_path()

    def get_cache_path(self) -> str:
        return self._inner.get_cache_path()

    def get_source_stamp(self) -> tuple:
        return (self._inner.get_source_stamp(), self.sources_digest)

    def get_disambiguator(self) -> str:
        return self._inner.get_disambiguator()

    @classmethod
    def from_function(cls, py_func, py_file):  # noqa: ANN001, ANN206 (Numba's signature)
        if os.path.dirname(os.path.abspath(py_file)) != KERNEL_DIR:
            return None
        for locator_class in _CACHE_IMPL._locator_classes:
            if locator_class is not cls:
                inner = locator_class.from_function(py_func, py_file)
                if inner is not None:
                    return cls(inner)
        return None


if KernelSourcesLocator not in _CACHE_IMPL._locator_classes:
    # Must run before the kernel modules are imported: Numba picks a function's locator when
    # the ``@njit(cache=True)`` decorator runs.
    _CACHE_IMPL._locator_classes.insert(0, KernelSourcesLocator)
