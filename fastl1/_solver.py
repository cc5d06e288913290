"""The one place where a validated problem meets the kernels.

``Problem`` holds what every solver needs about ``(X, sample_weight, fit_intercept)``: the
design arrays in kernel form, the normalised weights and the column means used for implicit
centring. ``solve_enet`` fits one target at one alpha from a starting point; estimators, paths
and cross-validation all go through it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._feature_penalty import FeaturePenalty
from ._interrupt import STOP, interruptible, raise_if_stopped
from ._kernels.cd import CDOptions, Reference, Target, enet_cd
from ._kernels.csr import column_sq_norms_from_rows, column_stats_from_rows, row_chunks_for
from ._kernels.design import (
    column_sq_norms,
    csr_bucket_counts,
    csr_to_csc_parallel,
    dense_norms_and_gradient,
    dense_norms_and_gradient_parallel,
    dense_weighted_means,
    row_chunks,
    sparse_column_stats,
    sparse_column_stats_parallel,
    worth_threads,
)
from ._kernels.gap import Unpenalised
from ._kernels.penalty import Penalty
from ._threads import claims_threads, holds_threads
from ._warn import warn_user

_EMPTY_INDEX = np.empty(0, dtype=np.int32)


class _WriteableAlias:
    """Presents a read-only array's memory through a writeable ``__array_interface__``
    (and keeps the array alive)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface


def kernel_array(a: np.ndarray) -> np.ndarray:
    """``a``, or if it is read-only a writeable view of the same memory, to pass to kernels.

    Numba types read-only arrays apart from writeable ones, so every kernel would compile a
    second time for read-only input (memory maps, joblib's workers, sklearn's read-only
    checks): about 35 s for a first fit. The kernels never write to the design, so they are
    given the same memory typed as writeable. Only for arrays the kernels read and never
    write, and never handed back to the caller.
    """
    if a.flags.writeable:
        return a
    return np.asarray(_WriteableAlias(a))


def _placeholder_matrix(dtype) -> np.ndarray:
    # Stands in for X when the design is sparse. Numba types a 0 x 0 array as C-ordered, so
    # a 2 x 2 F-ordered array keeps the type of a dense design: one compiled specialisation.
    return np.zeros((2, 2), dtype=dtype, order="F")
# Rows per block when forming a centred Gram matrix, so the temporary stays ~32 MB.
_GRAM_BLOCK_ELEMENTS = 4_000_000


@dataclass
class Problem:
    """A validated design, in the form the kernels take it.

    Attributes
    ----------
    design : tuple of arrays
        ``(X, data, indices, indptr)``: a dense F-ordered ``X`` with empty ``data`` and
        ``indices`` and ``indptr=None``, or a placeholder ``X`` with the CSC arrays of a
        sparse design (its CSR arrays if ``transposed``).
    sample_weight : ndarray
        Weights rescaled to sum to ``n_samples`` (scikit-learn's convention), or empty.
    x_mean : ndarray
        Weighted column means (zeros without intercept). A sparse design's are computed on
        first use, with the centred column norms, in one pass over the non-zeros (or by
        :meth:`GradientReference.at_zero`, with the first gradient too).
    """

    design: tuple
    n_samples: int
    n_features: int
    dtype: np.dtype
    sample_weight: np.ndarray
    fit_intercept: bool
    X: object  # the validated matrix itself (dense ndarray, CSC, or CSR if transposed)
    # A sparse design's later statistics may use Numba's threads (when the thread computing
    # them holds them: fastl1._threads).
    parallel: bool = False
    transposed: bool = False  # the sparse arrays are CSR, read in place (see _kernels.csr)
    _x_mean: np.ndarray | None = None
    _norms2: np.ndarray | None = None
    _cross_cache: tuple | None = None  # (unpenalised columns, X_c^T S X_c[:, them])

    @property
    def x_mean(self) -> np.ndarray:
        if self._x_mean is None:
            self.sparse_statistics()
        return self._x_mean

    @property
    def sw_sum(self) -> float:
        """Total sample weight (``n_samples`` without weights)."""
        sw = self.sample_weight
        return float(sw.sum()) if sw.shape[0] else float(self.n_samples)

    def sparse_statistics(self, v: np.ndarray | None = None,
                          parallel: bool | None = None) -> np.ndarray | None:
        """Compute a sparse design's column means and centred norms in one pass over its
        non-zeros; given ``v``, return ``X_c^T S v`` from the same pass. ``parallel``
        (default: the problem's) allows Numba's threads.

        On a CSR design read in place, a pass with ``v`` leaves the norms out (the solver
        computes them when it needs them, often for its first working set's columns only):
        the row scatter then costs about half (see :mod:`fastl1._kernels.csr`)."""
        _, data, indices, indptr = self.design
        x_mean = np.zeros(self.n_features, dtype=self.dtype)
        norms2 = np.empty(self.n_features, dtype=self.dtype)
        grad = np.empty(self.n_features if v is not None else 0, dtype=self.dtype)
        if parallel is None:
            parallel = self.parallel and holds_threads()
        v = np.empty(0, dtype=self.dtype) if v is None else v
        if self.transposed:  # (threads only where the rows make several chunks)
            if grad.shape[0]:  # a gradient: the norms are left out
                norms2 = norms2[:0]
            column_stats_from_rows(data, indices, indptr, self.sample_weight, self.sw_sum,
                                   self.fit_intercept, v, x_mean, norms2, grad, parallel)
        else:
            threads = parallel and worth_threads(indptr, self.n_samples, self.n_features,
                                                 self.n_features)
            stats = sparse_column_stats_parallel if threads else sparse_column_stats
            stats(data, indices, indptr, self.sample_weight, self.sw_sum, self.fit_intercept,
                  v, x_mean, norms2, grad)
        self._x_mean = x_mean
        self._norms2 = norms2 if norms2.shape[0] else None
        return grad if grad.shape[0] else None

    def to_columns(self, parallel: bool) -> None:
        """Replace a CSR design read in place by its CSC copy (the statistics stay)."""
        X = to_csc(self.X, parallel=parallel)
        indptr = X.indptr.astype(X.indices.dtype, copy=False)
        self.design = (self.design[0], X.data, X.indices, indptr)
        self.X = X
        self.transposed = False

    def column_norms2(self) -> np.ndarray:
        """Squared weighted norms of the centred columns (computed once, then cached)."""
        if self._norms2 is None and self.is_sparse and self._x_mean is None:
            self.sparse_statistics()  # the means and the norms in one pass
        if self._norms2 is None:
            norms2 = np.empty(self.n_features, dtype=self.dtype)
            if self.transposed:
                _, data, indices, indptr = self.design
                chunks = row_chunks_for(indptr)
                column_sq_norms_from_rows(data, indices, indptr, chunks,
                                          np.empty((chunks.shape[0] - 1, self.n_features)),
                                          self.sample_weight, self.sw_sum, self.x_mean,
                                          norms2, self.parallel and holds_threads())
            else:
                column_sq_norms(*self.design, self.sample_weight, self.sw_sum, self.x_mean,
                                norms2)
            self._norms2 = norms2
        return self._norms2

    def known_column_norms2(self) -> np.ndarray:
        """The cached column norms, or an empty array where a CSR design read in place has
        not computed them yet (the solver then computes them when it needs them)."""
        if self._norms2 is None and self.transposed:
            return np.empty(0, dtype=self.dtype)
        return self.column_norms2()

    @property
    def is_sparse(self) -> bool:
        return sp.issparse(self.X)

    @property
    def weights_or_ones(self) -> np.ndarray:
        if self.sample_weight.shape[0]:
            return self.sample_weight
        return np.ones(self.n_samples, dtype=self.dtype)

    def centre_target(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(y - y_mean, y_mean)`` for 1-D or 2-D ``y`` (a new array)."""
        if self.fit_intercept:
            y_mean = np.average(y, axis=0, weights=self.weights_or_ones)
        else:
            y_mean = np.zeros(y.shape[1:], dtype=self.dtype)
        return (y - y_mean).astype(self.dtype, copy=False), np.asarray(y_mean, self.dtype)

    def xt_weighted(self, v: np.ndarray) -> np.ndarray:
        """``X_c^T S v`` (centred columns, weights ``S``) without forming ``X_c``."""
        sv = v * self.weights_or_ones if self.sample_weight.shape[0] else v
        if self.is_sparse:
            out = np.asarray(self.X.T @ sv, dtype=self.dtype)
        else:  # not BLAS: after a threaded product OpenBLAS's idle worker spins ~0.1 s, a
            # core taken from the path's parallel gradients that follow (alpha_max)
            out = np.asarray(np.einsum("ij,i...->j...", self.X, sv), dtype=self.dtype)
        if self.fit_intercept:
            out = out - self.x_mean * sv.sum()
        return out

    def columns_cross(self, columns: np.ndarray) -> np.ndarray:
        """``X_c^T S X_c[:, columns]`` (float64, shape ``(p, len(columns))``), one pass over
        X per column (each column taken out as a dense vector, X itself never densified)."""
        X = self.X
        if sp.issparse(X):
            block = np.asarray(X[:, columns].toarray(), dtype=np.float64)
        else:
            block = np.asarray(X[:, columns], dtype=np.float64)
        block -= self.x_mean[columns]
        sw = self.weights_or_ones.astype(np.float64)
        weighted = block * sw[:, None]
        # (in X's dtype: a float32 X times a float64 block would copy X to float64)
        out = np.asarray(X.T @ weighted.astype(X.dtype), dtype=np.float64)
        if self.fit_intercept:  # (the weighted columns are centred: sum_i S x_c = 0)
            out -= np.outer(self.x_mean, weighted.sum(axis=0))
        return out

    def gram(self) -> np.ndarray:
        """Centred weighted Gram matrix ``X_c^T S X_c`` (dense designs only)."""
        X, p = self.X, self.n_features
        sw = self.weights_or_ones
        gram = np.zeros((p, p), dtype=self.dtype)
        block = max(1, _GRAM_BLOCK_ELEMENTS // max(p, 1))
        for start in range(0, self.n_samples, block):
            xb = X[start:start + block] - self.x_mean
            gram += xb.T @ (xb * sw[start:start + block, None])
        return gram


# Below this many non-zeros SciPy's serial transpose takes well under a millisecond.
_PARALLEL_TRANSPOSE_MIN_NNZ = 200_000
# Buckets of the parallel transpose: at least this many, none above 1/this of the non-zeros.
_TRANSPOSE_MIN_BUCKETS = 16
# A single fit reads a CSR matrix with at least this many non-zeros in place (smaller ones
# transpose in well under a millisecond).
CSR_IN_PLACE_MIN_NNZ = _PARALLEL_TRANSPOSE_MIN_NNZ


def canonical_sparse(X, formats: tuple[str, ...] = ("csc",), parallel: bool = False):
    """``X`` (scipy sparse) in one of ``formats`` with canonical indices (sorted, no
    duplicates): as is when it already is, else one new copy (conversion to ``formats[0]``).
    With ``parallel``, a large canonical CSR matrix goes to CSC by a radix transpose on
    Numba's threads (:func:`~fastl1._kernels.design.csr_to_csc_parallel`: 9 against SciPy's 17
    ms for 2M non-zeros), else SciPy converts. The caller's matrix is never modified."""
    if (parallel and X.format == "csr" and formats[0] == "csc" and "csr" not in formats
            and X.nnz >= _PARALLEL_TRANSPOSE_MIN_NNZ and X.has_canonical_format):
        converted = _csr_to_csc_parallel(X)
        if converted is not None:
            return converted
    if X.format not in formats:
        X = X.asformat(formats[0])  # a new matrix: canonicalised in place below
    elif not X.has_canonical_format:
        X = X.copy()
    if not X.has_canonical_format:
        X.sum_duplicates()
    return X


def _csr_to_csc_parallel(X):
    """A canonical CSR ``X`` as CSC by the parallel radix transpose, or None where SciPy's
    serial transpose is the better tool: too few columns for enough buckets, a bucket holding
    more than 1/16 of the non-zeros (each thread sorts one bucket at a time from a copy of it:
    skewed columns would cost time and memory), or row numbers too large to pack."""
    n, p = X.shape
    # 64-bit indices only where 32 bits cannot hold them, as scipy's own tocsc
    index_dtype = np.dtype(np.int32 if max(X.nnz, n, p) < 2**31 else np.int64)
    index_bits = 8 * index_dtype.itemsize - 1
    # Buckets of 512 columns (more for very wide X: at most ~512 buckets), so that each
    # thread's write streams stay in cache.
    shift = min(max(9, p.bit_length() - 9), index_bits - max(n - 1, 1).bit_length())
    n_buckets = (p + (1 << shift) - 1) >> shift
    if shift < 4 or n_buckets < _TRANSPOSE_MIN_BUCKETS:
        return None
    indices_in = kernel_array(X.indices)
    indptr_in = kernel_array(X.indptr.astype(X.indices.dtype, copy=False))
    bounds = row_chunks(indptr_in, numba.get_num_threads())
    counts = csr_bucket_counts(indices_in, indptr_in, bounds, shift, n_buckets)
    if counts.sum(axis=0).max() * _TRANSPOSE_MIN_BUCKETS > X.nnz:
        return None
    data = np.empty(X.nnz, dtype=X.dtype)
    indices = np.empty(X.nnz, dtype=index_dtype)
    indptr = np.empty(p + 1, dtype=index_dtype)
    csr_to_csc_parallel(kernel_array(X.data), indices_in, indptr_in, bounds, shift, counts,
                        data, indices, indptr)
    csc = sp.csc_array if isinstance(X, sp.sparray) else sp.csc_matrix
    out = csc((data, indices, indptr), shape=X.shape, copy=False)
    out.has_sorted_indices = True  # rows in order in each column, and no duplicates
    out.has_canonical_format = True
    return out


@claims_threads
def to_csc(X, parallel: bool | None = None):
    """``X`` (scipy sparse) as a canonical CSC matrix (see :func:`canonical_sparse`);
    ``parallel`` defaults to whether Numba has more than one thread (and this thread may
    use them: :func:`fastl1._threads.claim_threads`)."""
    return canonical_sparse(X, ("csc",), parallel=parallel)


@claims_threads
def make_problem(X, sample_weight: np.ndarray | None, fit_intercept: bool,
                 parallel: bool | None = None, keep_csr: bool = False) -> Problem:
    """Build a :class:`Problem` from validated ``X`` (float ndarray or scipy sparse).

    Dense ``X`` is used as is when F-contiguous and copied once to F order otherwise
    (column access is what CD needs). CSC is used as is; CSR is converted once to CSC
    (:func:`to_csc`), a copy of the non-zeros, unless ``keep_csr`` and it has at least
    ``CSR_IN_PLACE_MIN_NNZ`` non-zeros: then it is read in place (single fits; see
    :mod:`fastl1._kernels.csr`). Sparse index arrays keep their integer type
    (int32 or int64). ``parallel`` computes the sparse column statistics on Numba's threads
    (default: when more than one is available; see :func:`fastl1._threads.claim_threads`).
    """
    n, p = X.shape
    dtype = X.dtype
    if sample_weight is not None:
        sw = np.asarray(sample_weight, dtype=dtype)
        sw = sw * (n / sw.sum())
    else:
        sw = np.empty(0, dtype=dtype)
    weights = sw if sw.shape[0] else None
    if sp.issparse(X):
        transposed = keep_csr and X.format == "csr" and X.nnz >= CSR_IN_PLACE_MIN_NNZ
        X = canonical_sparse(X, ("csr",)) if transposed else to_csc(X, parallel=parallel)
        indices = kernel_array(X.indices)
        indptr = kernel_array(X.indptr.astype(indices.dtype, copy=False))
        design = (_placeholder_matrix(dtype), kernel_array(X.data), indices, indptr)
        # The means and centred norms come on first use, in one pass over the non-zeros
        # (with the first gradient when a fit from zero asks first: GradientReference.at_zero).
        return Problem(design, n, p, np.dtype(dtype), sw, bool(fit_intercept), X,
                       bool(parallel), transposed)
    X = kernel_array(np.asfortranarray(X))
    # indptr None: the kernels know the design is dense when they compile, so a dense fit
    # never compiles their sparse code (see fastl1._kernels.design).
    design = (X, np.empty(0, dtype=dtype), _EMPTY_INDEX, None)
    if fit_intercept and weights is not None:
        x_mean = np.empty(p, dtype=dtype)
        dense_weighted_means(X, sw, float(sw.sum()), x_mean)
    elif fit_intercept:
        x_mean = X.mean(axis=0)
    else:
        x_mean = np.zeros(p, dtype=dtype)
    return Problem(design, n, p, np.dtype(dtype), sw, bool(fit_intercept), X, _x_mean=x_mean)


def resolve_gram(precompute, problem: Problem) -> np.ndarray | None:
    """The Gram matrix ``precompute`` asks for (True, False, 'auto' or a user's matrix),
    or None for residual updates. Sparse designs always use residual updates."""
    if problem.is_sparse:
        return None
    if hasattr(precompute, "__array__"):
        gram = np.asarray(precompute, dtype=problem.dtype)
        p = problem.n_features
        if gram.shape != (p, p):
            raise ValueError(
                f"precompute Gram matrix has shape {gram.shape}, expected {(p, p)}.")
        if not np.isfinite(gram).all():
            raise ValueError("precompute Gram matrix contains NaN or infinity.")
        if problem.fit_intercept or problem.sample_weight.shape[0]:
            warn_user("Gram matrix was provided but X is centred (fit_intercept) or "
                      "weighted: recomputing the Gram matrix.", UserWarning)
            return problem.gram()
        # A cheap consistency check of one diagonal entry (as scikit-learn does).
        X = problem.X
        j = int(np.argmax(gram.diagonal()))
        expected = float(X[:, j] @ X[:, j])
        if not np.isclose(gram[j, j], expected, rtol=1e-4, atol=1e-10):
            raise ValueError(
                "precompute Gram matrix does not match X: "
                f"G[{j},{j}] = {gram[j, j]:.6g} but ||X[:, {j}]||^2 = {expected:.6g}.")
        return np.ascontiguousarray(gram)
    if isinstance(precompute, str):  # "auto"
        precompute = problem.n_samples > problem.n_features
    return problem.gram() if precompute else None


def alpha_max(problem: Problem, y_centred: np.ndarray, l1_ratio: float = 1.0,
              positive: bool = False, penalty: FeaturePenalty | None = None) -> float:
    """Smallest ``alpha`` at which every penalised coefficient of the elastic-net solution
    is zero.

    ``max_j |x_j_c^T S r| / (n * l1_ratio * f_j)`` over the penalised features, counting
    only the sides their bounds open (only positive correlations with ``positive=True``),
    where ``r`` is the centred target with the unpenalised features fitted first (glmnet's
    ``lambda_max``); ``inf`` for ``l1_ratio == 0``.
    """
    if penalty is None:
        penalty = FeaturePenalty.default(problem.n_features, positive)
    free = penalty.unpenalised
    residual = y_centred
    if free.shape[0]:
        residual = y_centred - _unpenalised_fit(problem, y_centred, penalty)
    corr = problem.xt_weighted(residual).astype(np.float64)
    up, down = penalty.entering_sides()
    entering = np.maximum(np.where(up, corr, -np.inf), np.where(down, -corr, -np.inf))
    penalised = penalty.factor > 0.0
    if not penalised.any():
        return 0.0
    top = float(np.max(entering[penalised] / penalty.factor[penalised], initial=0.0))
    if l1_ratio == 0:
        return np.inf if top > 0 else 0.0
    return max(top, 0.0) / (problem.n_samples * l1_ratio)


def _unpenalised_fit(problem: Problem, y_centred: np.ndarray,
                     penalty: FeaturePenalty) -> np.ndarray:
    """``X_c[:, F] w_F`` for the least-squares fit of the unpenalised features ``F`` alone
    (within their bounds), as glmnet fits them before the first lambda."""
    from scipy.optimize import lsq_linear

    free = penalty.unpenalised
    X = problem.X
    block = X[:, free].toarray() if sp.issparse(X) else np.asarray(X[:, free])
    block = np.asarray(block, dtype=np.float64) - problem.x_mean[free]
    root = np.sqrt(problem.weights_or_ones.astype(np.float64))
    target = root * np.asarray(y_centred, dtype=np.float64)
    lower, upper = penalty.lower[free], penalty.upper[free]
    if np.all(np.isinf(lower)) and np.all(np.isinf(upper)):
        coef = np.linalg.lstsq(block * root[:, None], target, rcond=None)[0]
    else:
        coef = lsq_linear(block * root[:, None], target, bounds=(lower, upper)).x
    return (block @ coef).astype(problem.dtype)


def unpenalised_data(problem: Problem, penalty: FeaturePenalty, y_centred: np.ndarray,
                     gram: np.ndarray | None = None) -> Unpenalised:
    """The unpenalised features' data the kernels' dual point needs
    (:data:`._kernels.gap.Unpenalised`); constant columns (whose coefficient stays 0) are left
    out. ``X_c^T S X_c[:, F]`` is computed once per problem and kept."""
    free = penalty.unpenalised
    if free.shape[0] == 0:
        return Unpenalised(free.astype(np.int64), np.empty((problem.n_features, 0)),
                           np.empty(0))
    if gram is not None and gram.shape[0]:
        cross = np.asarray(gram[:, free], dtype=np.float64)
    else:
        key = tuple(free.tolist())
        cache = problem._cross_cache
        if cache is None or cache[0] != key:
            problem._cross_cache = cache = (key, problem.columns_cross(free))
        cross = cache[1]
    keep = cross[free, np.arange(free.shape[0])] > 0.0
    free, cross = free[keep], cross[:, keep]
    cross_y = np.asarray(problem.xt_weighted(y_centred)[free], dtype=np.float64)
    return Unpenalised(free.astype(np.int64), np.ascontiguousarray(cross), cross_y)


@dataclass
class GradientReference:
    """An exact gradient ``X_c^T S r_c`` and the centred residual it was computed at, handed
    from one fit to the next along a path (see :func:`.design.bounded_gradient`)."""

    grad: np.ndarray
    residual: np.ndarray
    valid: bool = False

    @classmethod
    def empty(cls, problem: Problem) -> GradientReference:
        return cls(np.zeros(problem.n_features, dtype=problem.dtype),
                   np.zeros(problem.n_samples, dtype=problem.dtype))

    @classmethod
    def at_zero(cls, problem: Problem, y_centred: np.ndarray,
                parallel: bool) -> GradientReference:
        """The gradient at ``w = 0`` (residual: the centred target), for a fit that starts
        there, so its first round computes none. On a dense design the same pass over X
        computes the column norms too (cached on ``problem``): one pass over X instead of
        two separate ones, which cost about three times as much.
        On a sparse design, the pass that computes the column means and norms if they are
        not known yet (20000 x 100000, 2M non-zeros: 3.9 ms against 2.3 for the statistics
        alone and 3.7 for the gradient, on two threads); else an empty reference, and the
        first round computes the gradient."""
        residual = np.array(y_centred, dtype=problem.dtype, order="C")
        if problem.is_sparse:
            if problem._x_mean is not None:
                return cls.empty(problem)
            return cls(problem.sparse_statistics(residual, parallel), residual, True)
        reference = cls(np.empty(problem.n_features, dtype=problem.dtype), residual, True)
        norms2 = np.empty(problem.n_features, dtype=problem.dtype)
        X, _, _, indptr = problem.design
        if parallel and worth_threads(indptr, problem.n_samples, problem.n_features,
                                      problem.n_features):
            dense_norms_and_gradient_parallel(X, problem.sample_weight, problem.x_mean,
                                              reference.residual, norms2, reference.grad)
        else:
            dense_norms_and_gradient(X, problem.sample_weight, problem.x_mean,
                                     reference.residual, norms2, reference.grad)
        if problem._norms2 is None:
            problem._norms2 = norms2
        return reference


def _non_finite_message(problem: Problem, y_centred: np.ndarray, coef: np.ndarray,
                        with_gram: bool, gap: float) -> str:
    """Why a fit has no certificate: its duality gap (or the bound) is not a finite number."""
    if not np.isfinite(coef).all():
        cause = "the coefficients are not finite (check coef_init)"
    else:
        X = problem.X
        values = X.data if sp.issparse(X) else X
        with np.errstate(all="ignore"):
            x_scale = float(np.max(np.abs(values))) if values.size else 0.0
            y_scale = float(np.max(np.abs(y_centred))) if y_centred.size else 0.0
        cause = ("X or y is too large for floating point (largest |X| = "
                 f"{x_scale:.3g}, largest |y - mean| = {y_scale:.3g})")
        if with_gram:
            cause += ", or a precompute Gram matrix or Xy given is inconsistent with them"
    return (f"The fit's duality gap is {gap} (not a finite number), so it cannot be "
            f"certified: {cause}. Rescale X and y (for example standardise them).")


def _kernel_penalty(penalty: Penalty) -> Penalty:
    """The penalty's arrays contiguous and writeable: the types every fit's kernels were
    compiled for (a strided or read-only array would make Numba compile them all again)."""
    return penalty._replace(**{name: kernel_array(np.ascontiguousarray(getattr(penalty, name),
                                                                       dtype=np.float64))
                               for name in ("factor", "lower", "upper")})


@dataclass
class FitResult:
    coef: np.ndarray
    dual_gap: float
    n_iter: int
    n_outer: int = 0  # full-problem gap evaluations (working-set rounds), for diagnostics
    converged: bool = True


@interruptible
@claims_threads
def solve_enet(problem: Problem, y_centred: np.ndarray, coef: np.ndarray, alpha: float,
               l1_ratio: float, *, positive: bool = False,
               penalty: FeaturePenalty | None = None, max_iter: int = 1000,
               tol: float = 1e-4, random: bool = False, seed: int = 0,
               gram: np.ndarray | None = None, xty: np.ndarray | None = None,
               working_sets: bool = True, screening: bool = True, anderson: int = 5,
               support_sweeps: bool = True, ws_start: int = 100, parallel: bool | None = None,
               warn: bool = True, reference: GradientReference | None = None) -> FitResult:
    """Fit one target at one ``alpha``, starting from ``coef`` (overwritten).

    ``penalty`` holds per-feature penalty factors and bounds (default: factors 1, no bounds,
    or lower bound 0 with ``positive``).

    Returns the solution, the duality gap in the estimator's scale (scikit-learn's
    ``dual_gap_``, i.e. divided by ``n_samples``) and the number of epochs. Warns with a
    :class:`~sklearn.exceptions.ConvergenceWarning` stating the gap when ``max_iter`` epochs
    did not bring it below ``tol``.

    Engine options (all reach the same certified solution): ``working_sets`` (solve on
    growing sets of candidate features, starting at ``ws_start``), ``screening`` (Gap Safe
    rules), ``anderson`` (extrapolate every ``anderson + 1`` epochs; 0 disables),
    ``support_sweeps`` (each epoch with residual updates, not Gram epochs, ends with a pass
    over the set's non-zero coefficients: glmnet's active-set cycling). All off is
    scikit-learn's algorithm.
    ``parallel`` computes each round's full gradient on Numba's threads (default: when more
    than one is available and this thread may use them: :mod:`fastl1._threads`).
    ``warn=False`` leaves the convergence warning to the caller (``FitResult.converged``).
    ``reference`` carries the last exact gradient and its residual from one fit to the next
    (a path): the next fit then computes only the correlations it cannot bound.
    """
    n = problem.n_samples
    # Python floats: NumPy scalars (np.float32 alpha) would change the arithmetic and make
    # Numba compile another specialisation.
    alpha, l1_ratio, tol = float(alpha), float(l1_ratio), float(tol)
    l1_reg = alpha * l1_ratio * n
    l2_reg = alpha * (1.0 - l1_ratio) * n
    dtype = problem.dtype
    if penalty is None:
        penalty = FeaturePenalty.default(problem.n_features, positive)
    kernel_penalty = _kernel_penalty(penalty.in_dtype(dtype).kernel(l1_reg, l2_reg))
    free = unpenalised_data(problem, penalty, y_centred, gram)
    # None where a fit needs no Gram matrix or has no unpenalised feature: the kernels then
    # know it when they compile, and a plain fit compiles neither (see fastl1._kernels.cd).
    if free.index.shape[0] == 0:
        free = None
    if gram is None:
        xty = np.empty(0, dtype=dtype)
        if reference is None and not coef.any():
            reference = GradientReference.at_zero(problem, y_centred, parallel)
        norms2 = problem.known_column_norms2()
    else:
        norms2 = np.empty(0, dtype=dtype)
    if reference is None or gram is not None:
        reference = GradientReference.empty(problem)
    n_iter = n_outer = 0
    while True:
        # None (resolved when Numba compiles: dense and CSC fits never compile the row
        # kernels), or the row chunks of a CSR design read in place.
        rows = row_chunks_for(problem.design[3]) if problem.transposed else None
        options = CDOptions(int(max_iter) - n_iter, tol, bool(random), int(seed),
                            bool(working_sets), bool(screening), int(anderson),
                            bool(support_sweeps), int(ws_start), bool(parallel))
        target = Target(y_centred, problem.sample_weight, problem.x_mean, xty, norms2)
        gap, scaled_tol, epochs, rounds, reference.valid, handoff, used_norms2 = enet_cd(
            *problem.design, rows, gram, free, target, coef,
            Reference(reference.grad, reference.residual, reference.valid),
            kernel_penalty, options, STOP,
        )
        raise_if_stopped()
        n_iter += epochs
        n_outer += rounds
        if problem.is_sparse and problem._norms2 is None and used_norms2.shape[0]:
            problem._norms2 = norms2 = used_norms2
        if not handoff:
            break
        # The working sets outgrew copies from the rows: go on from here on a CSC copy,
        # with the set the CSR fit was about to solve and the gradient it just computed.
        problem.to_columns(parallel)
        ws_start = handoff
        n_outer -= 1  # that gradient is not computed again
    if not (np.isfinite(gap) and np.isfinite(scaled_tol)):
        raise ValueError(_non_finite_message(problem, y_centred, coef, gram is not None, gap))
    converged = gap <= scaled_tol
    if not converged and warn:
        message = (
            f"Objective did not converge after {n_iter} epochs. Duality gap: {gap:.3e} "
            f"(in the objective's 1/(2n) scale: {gap / n:.3e}), tolerance: {scaled_tol:.3e}. "
            "Increase max_iter, scale the features, or increase regularisation."
        )
        if alpha == 0:
            message += (" With alpha=0 the problem is least squares, which coordinate "
                        "descent solves slowly; prefer LinearRegression.")
        warn_user(message, ConvergenceWarning)
    return FitResult(coef, gap / n, n_iter, n_outer, converged)
