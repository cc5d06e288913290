"""Squared-loss fits on Dask arrays chunked by rows, from blockwise sufficient statistics.

A least-squares elastic net needs X only through its centred Gram matrix ``X_c^T S X_c``,
``X_c^T S y_c``, ``y_c^T S y_c`` and the (weighted) means, which the Gram (covariance-update)
kernels take in place of X. Each row block of a Dask array gives these statistics of its own
rows on the worker that holds it; the blocks' statistics merge pairwise on the cluster
(Chan, Golub & LeVeque's update for centred sums: no cancellation between uncentred sums and
squared means), and only the merged ``p x p`` arrays come back to the client. The fits then
run on them, on the client, with the same kernels as an in-memory fit with
``precompute=True``.

Cross-validation needs no fold's rows either: each block splits its statistics by fold (the
test rows of KFold's contiguous folds, or fold numbers computed on the cluster for other
splitters), a fold's training statistics are the total minus its test rows', and the test
error of a solution ``(w, b)`` expands into the test rows' statistics::

    sum_i s_i (y_i - x_i w - b)^2 = yy_t - 2 w . xy_t + w^T XX_t w + S_t (ym_t - xm_t . w - b)^2

(centred ``XX_t``, ``xy_t``, ``yy_t``). The jobs then hold ``p x p`` arrays only.

Dask is imported only here, and only when an input is a Dask collection
(:func:`dask_input`), so it stays an optional dependency.
"""

from __future__ import annotations

import functools
import numbers
import os
import sys
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import KFold, check_cv
from sklearn.utils import check_random_state

from ._solver import _EMPTY_INDEX, Problem, _placeholder_matrix, solve_enet
from ._warn import warn_user

__all__ = ["dask_input", "enet_path", "fit_elastic_net", "fit_elastic_net_cv",
           "refuse_dask"]

# Rows per sub-block of a block's products, so that its float64 temporaries stay ~32 MB.
_SUB_BLOCK_ELEMENTS = 4_000_000
# Statistics merged per task of the reduction tree.
_SPLIT_EVERY = 8
# Share of the machine's memory the Gram matrices of a fit may take on the client.
_GRAM_MEMORY_SHARE = 0.25


def dask_input(*values) -> bool:
    """Whether any of ``values`` is a Dask collection (array, DataFrame, Series, ...).

    Nothing is imported: a program that has not imported Dask holds no Dask collection."""
    if "dask" not in sys.modules:
        return False
    from dask import is_dask_collection

    return any(is_dask_collection(value) for value in values)


def refuse_dask(what: str, *values) -> None:
    """Raise a TypeError if any of ``values`` is a Dask collection: ``what`` does not take
    them (its fits need X itself, not statistics of it)."""
    if dask_input(*values):
        raise TypeError(
            f"{what} does not accept Dask arrays or DataFrames yet: Lasso, ElasticNet, "
            "LassoCV, ElasticNetCV, LogisticRegression, LogisticRegressionCV, "
            "PoissonRegression, the paths and StabilitySelection of the lasso fit on them. "
            "Compute the data into memory first (X.compute()) if it fits.")


# ---------------------------------------------------------------------------------------
# Statistics of a set of rows (run on the workers)


@dataclass
class _Stats:
    """Weighted statistics of a set of rows, with centred second moments.

    ``weight`` is the sum of the (raw) sample weights, ``count`` the number of rows;
    ``xx = X_c^T S X_c``, ``xy = X_c^T S y_c``, ``yy = diag(y_c^T S y_c)`` with columns
    centred at the weighted means ``x_mean`` and ``y_mean`` (zero where ``weight`` is 0).
    The flags record non-finite values seen and the smallest weight, checked on the client.
    """

    count: int
    weight: float
    x_mean: np.ndarray  # (p,)
    y_mean: np.ndarray  # (t,)
    xx: np.ndarray  # (p, p)
    xy: np.ndarray  # (p, t)
    yy: np.ndarray  # (t,)
    x_finite: bool = True
    y_finite: bool = True
    w_finite: bool = True
    w_min: float = np.inf


def _row_statistics(x: np.ndarray, y: np.ndarray, s: np.ndarray | None) -> _Stats:
    """:class:`_Stats` of rows ``x`` (any float or int dtype), targets ``y`` (rows x t) and
    weights ``s`` (None: all 1), computed in float64 by sub-blocks of rows (two passes: the
    means, then the centred products; the rows are in memory already)."""
    m, p = x.shape
    t = y.shape[1]
    step = max(1, _SUB_BLOCK_ELEMENTS // max(p, 1))
    w_finite, w_min = True, np.inf
    if s is None:
        weight = float(m)
    else:
        w_finite = bool(np.isfinite(s).all())
        w_min = float(s.min()) if m else np.inf
        weight = float(s.sum())
    x_sum = np.zeros(p)
    y_sum = np.zeros(t)
    x_finite = True
    for start in range(0, m, step):
        xs = x[start:start + step]
        ss = None if s is None else s[start:start + step]
        x_finite = x_finite and bool(np.isfinite(xs).all())
        x_sum += xs.sum(axis=0, dtype=np.float64) if ss is None else ss @ xs
        y_sum += y[start:start + step].sum(axis=0) if ss is None else ss @ y[start:start + step]
    y_finite = bool(np.isfinite(y_sum).all()) and bool(np.isfinite(y).all())
    x_mean = x_sum / weight if weight > 0 else np.zeros(p)
    y_mean = y_sum / weight if weight > 0 else np.zeros(t)
    xx = np.zeros((p, p))
    xy = np.zeros((p, t))
    yy = np.zeros(t)
    # (Without a positive total, or with a negative or non-finite weight, which the client
    # refuses, there is nothing to centre at.)
    usable = weight > 0 and w_finite and not w_min < 0
    for start in range(0, m if usable else 0, step):
        xc = x[start:start + step] - x_mean  # float64 (x_mean is)
        yc = y[start:start + step] - y_mean
        if s is not None:
            # sqrt(s) on both sides: X_c^T S X_c as a symmetric product (BLAS syrk)
            root = np.sqrt(s[start:start + step])[:, None]
            xc *= root
            yc *= root
        xx += xc.T @ xc
        xy += xc.T @ yc
        yy += np.einsum("ij,ij->j", yc, yc)
    return _Stats(m, weight, x_mean, y_mean, xx, xy, yy, x_finite, y_finite, w_finite, w_min)


def _merge(a: _Stats, b: _Stats) -> _Stats:
    """Statistics of the union of two disjoint row sets (Chan et al.'s pairwise update)."""
    total = a.weight + b.weight
    flags = {"x_finite": a.x_finite and b.x_finite, "y_finite": a.y_finite and b.y_finite,
             "w_finite": a.w_finite and b.w_finite, "w_min": min(a.w_min, b.w_min)}
    if not (a.weight > 0 and b.weight > 0):  # a side of zero weight adds rows only
        keep = a if a.weight > 0 or not b.weight > 0 else b
        return _Stats(a.count + b.count, total, keep.x_mean, keep.y_mean, keep.xx, keep.xy,
                      keep.yy, **flags)
    dx = b.x_mean - a.x_mean
    dy = b.y_mean - a.y_mean
    share = b.weight / total
    factor = a.weight * share
    return _Stats(a.count + b.count, total, a.x_mean + dx * share, a.y_mean + dy * share,
                  a.xx + b.xx + factor * np.outer(dx, dx),
                  a.xy + b.xy + factor * np.outer(dx, dy),
                  a.yy + b.yy + factor * dy * dy, **flags)


def _remove(total: _Stats, part: _Stats) -> _Stats:
    """Statistics of ``total``'s rows outside ``part`` (a subset of them): the inverse of
    :func:`_merge`. The caller ensures the rest has weight > 0."""
    rest = total.weight - part.weight
    if not part.weight > 0:
        return _Stats(total.count - part.count, total.weight, total.x_mean, total.y_mean,
                      total.xx, total.xy, total.yy)
    share = part.weight / rest
    x_mean = total.x_mean + (total.x_mean - part.x_mean) * share
    y_mean = total.y_mean + (total.y_mean - part.y_mean) * share
    dx = part.x_mean - x_mean
    dy = part.y_mean - y_mean
    factor = rest * part.weight / total.weight
    return _Stats(total.count - part.count, rest, x_mean, y_mean,
                  total.xx - part.xx - factor * np.outer(dx, dx),
                  total.xy - part.xy - factor * np.outer(dx, dy),
                  total.yy - part.yy - factor * dy * dy)


def _block_statistics(x, y, s, groups) -> dict:
    """``{fold: _Stats}`` of one row block. ``groups`` is None (one group, 0), a list of
    ``(fold, start, stop)`` row ranges of the block, or the block's fold number per row."""
    if sp.issparse(x):  # a chunk that was not sparse in the array's metadata
        raise TypeError("Dask arrays with sparse chunks are not supported: use an "
                        "in-memory scipy sparse matrix, or dense chunks.")
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64).reshape(x.shape[0], -1)
    s = None if s is None else np.asarray(s, dtype=np.float64)
    if groups is None:
        parts = [(0, slice(None))]
    elif isinstance(groups, list):
        parts = [(fold, slice(start, stop)) for fold, start, stop in groups]
    else:
        ids = np.asarray(groups)
        parts = [(int(fold), ids == fold) for fold in np.unique(ids)]
    return {fold: _row_statistics(x[rows], y[rows], None if s is None else s[rows])
            for fold, rows in parts}


def _merge_groups(*parts: dict) -> dict:
    """Merge ``{fold: _Stats}`` dictionaries fold by fold (in the order given)."""
    merged: dict = {}
    for part in parts:
        for fold, stats in part.items():
            merged[fold] = _merge(merged[fold], stats) if fold in merged else stats
    return merged


def _fold_numbers(splitter, n_samples: int, y, split_params: dict) -> np.ndarray:
    """Each row's test fold under ``splitter`` (computed on a worker), after checking that
    the test sets partition the rows and each fold trains on all the other rows."""
    ids = np.full(n_samples, -1, dtype=np.int32)
    for k, (train, test) in enumerate(splitter.split(np.empty((n_samples, 0)), y,
                                                     **split_params)):
        test = np.arange(n_samples)[test]  # indices or a mask, as scikit-learn accepts
        train = np.arange(n_samples)[train]
        if np.any(ids[test] >= 0) or train.shape[0] + test.shape[0] != n_samples \
                or np.intersect1d(train, test).shape[0]:
            raise ValueError(
                "Cross-validation on Dask arrays needs folds whose test sets partition the "
                "rows and whose training rows are all the other rows (as KFold's); fold "
                f"{k} of {splitter!r} is not.")
        ids[test] = k
    if np.any(ids < 0):
        raise ValueError("Cross-validation on Dask arrays needs folds whose test sets "
                         f"cover every row; {splitter!r} leaves rows out of every test set.")
    return ids


# ---------------------------------------------------------------------------------------
# Inputs


@dataclass
class _Data:
    """Validated Dask inputs: X (rows x p, one chunk of columns, known row chunks), y
    (rows x t, float64, X's row chunks), weights (X's row chunks, float64) or None."""

    X: object
    y: object
    sample_weight: object
    dtype: np.dtype
    n_samples: int
    n_features: int
    y_ndim: int


def _as_dask_array(value, name: str, lengths=True):
    """A Dask array from a Dask array, DataFrame or Series (rows counted on the cluster)."""
    import dask.array as da

    if isinstance(value, da.Array):
        return value
    if hasattr(value, "to_dask_array"):
        return value.to_dask_array(lengths=lengths)
    raise TypeError(f"{name} is a Dask collection of type {type(value).__name__}; fits "
                    "take Dask arrays, DataFrames and Series.")


def _memory_bytes() -> float:
    """This machine's physical memory (inf where unknown)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return np.inf


def _check_gram_size(p: int, copies: int) -> None:
    need = 8.0 * p * p * copies
    limit = _GRAM_MEMORY_SHARE * _memory_bytes()
    if need > limit:
        raise ValueError(
            f"X has {p} features: a fit on a Dask array holds {copies} float64 {p} x {p} "
            f"Gram matrices ({8.0 * p * p / 1e9:.3g} GB each, {need / 1e9:.3g} GB in all) on "
            f"the client, more than {_GRAM_MEMORY_SHARE:.0%} of this machine's memory "
            f"({limit / _GRAM_MEMORY_SHARE / 1e9:.3g} GB). Fits on Dask arrays need the "
            "features' Gram matrix in memory: select fewer features, or fit in memory "
            "(a scipy sparse X, or X.compute() if it fits).")


def check_design(X, rows_like, what: str):
    """``(X, n_samples, n_features, dtype)``: a Dask X (or an in-memory one, chunked like
    ``rows_like``) checked for a fit by row blocks without computing it; refuses what such a
    fit cannot read, with the remedy. ``dtype`` is the fit's: X's float dtype, or float64."""
    import dask.array as da

    if sp.issparse(X):
        raise TypeError(f"{what}: X is a scipy sparse matrix but y or sample_weight is a "
                        "Dask collection; pass them all in memory, or X as a dense Dask "
                        "array.")
    if not dask_input(X):
        X = np.asarray(X)  # in memory already (y or the weights are Dask): chunked like y
        X = da.from_array(X, chunks=(_rows_like(rows_like, X.shape[0]), X.shape[1:] or (1,)))
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D X (rows x features), got a Dask array of shape "
                         f"{X.shape}.")
    meta = getattr(X, "_meta", None)
    if sp.issparse(meta) or (meta is not None and not isinstance(meta, np.ndarray)):
        raise TypeError(f"{what}: Dask arrays with sparse (or other non-NumPy) chunks "
                        f"({type(meta).__name__}) are not supported: use an in-memory scipy "
                        "sparse matrix, or dense NumPy chunks.")
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError("X has chunks of unknown size: call X.compute_chunk_sizes() first "
                         "(a DataFrame's to_dask_array(lengths=True) knows them).")
    if X.numblocks[1] != 1:
        raise ValueError(
            f"X is chunked along its features (column chunks {X.chunks[1]}): fits on Dask "
            "arrays read whole rows, so every feature of a row must be in one chunk. "
            "Rechunk by rows only: X = X.rechunk({1: -1}) (and fewer rows per chunk if the "
            "chunks grow too large).")
    n, p = (int(d) for d in X.shape)
    if n == 0 or p == 0:
        raise ValueError(f"Found array with shape {X.shape}: a fit needs at least one "
                         "sample and one feature.")
    if X.dtype.kind not in "biuf":
        raise TypeError(f"X must hold numbers, got a Dask array of dtype {X.dtype}.")
    dtype = np.dtype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64)
    return X, n, p, dtype


def _prepare(X, y, sample_weight, *, what: str, gram_copies: int) -> _Data:
    """Validate Dask (or in-memory) X, y and weights without computing X; refuse what a
    statistics fit cannot do, with the remedy."""
    import dask.array as da

    X, n, p, dtype = check_design(X, y, what)
    _check_gram_size(p, gram_copies)

    if dask_input(y):
        y = _as_dask_array(y, "y", lengths=_lengths_like(y, X))
    else:
        y = np.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y has shape {y.shape}, expected ({n},) or ({n}, n_targets) for X "
                         f"with {n} rows.")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric, got dtype {y.dtype}.")
    y_ndim = y.ndim
    y = y.reshape(n, -1) if y.ndim == 1 else y
    if y.shape[1] == 0:
        raise ValueError("y has no target column.")
    y = da.asarray(y) if isinstance(y, da.Array) else da.from_array(y, chunks=(X.chunks[0],
                                                                             y.shape[1]))
    y = y.astype(np.float64).rechunk((X.chunks[0], y.shape[1]))

    weights = _prepare_weights(sample_weight, X, n)
    return _Data(X, y, weights, dtype, n, p, y_ndim)


def _rows_like(y, n: int):
    """Row chunks for an in-memory X that goes with a Dask y (or weights): y's."""
    chunks = getattr(y, "chunks", None)
    if chunks and not any(np.isnan(c) for c in chunks[0]):
        return chunks[0]
    return n


def _lengths_like(value, X):
    """Lengths for a DataFrame or Series's ``to_dask_array``: X's row chunks when the
    partitions match them in number (they then came from the same frame), else counted."""
    n_parts = getattr(value, "npartitions", None)
    return tuple(int(c) for c in X.chunks[0]) if n_parts == X.numblocks[0] else True


def _prepare_weights(sample_weight, X, n: int):
    """Weights as float64 with X's row chunks, or None (no weights, or one number > 0)."""
    import dask.array as da

    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not dask_input(sample_weight):
        if isinstance(sample_weight, bool) or not np.isfinite(sample_weight) \
                or sample_weight < 0:
            raise ValueError(f"sample_weight must be finite and >= 0, got {sample_weight!r}.")
        if sample_weight == 0:
            raise ValueError("sample_weight sums to zero: at least one sample needs "
                             "weight > 0.")
        return None  # the same weight for every row: the fit is the unweighted one
    if dask_input(sample_weight):
        weights = _as_dask_array(sample_weight, "sample_weight",
                                 lengths=_lengths_like(sample_weight, X))
    else:
        weights = np.asarray(sample_weight)
        if weights.ndim == 1 and weights.shape[0] == n and weights.dtype.kind in "biuf":
            if not np.all(np.isfinite(weights)):
                raise ValueError("sample_weight contains NaN or infinity.")
            if np.any(weights < 0):
                raise ValueError("Negative values in data passed to sample_weight")
            if not weights.sum() > 0:
                raise ValueError("sample_weight sums to zero: at least one sample needs "
                                 "weight > 0.")
    if weights.ndim != 1 or weights.shape[0] != n:
        raise ValueError(f"sample_weight.shape == {weights.shape}, expected ({n},).")
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {weights.dtype}.")
    if not isinstance(weights, da.Array):
        weights = da.from_array(weights, chunks=(X.chunks[0],))
    return weights.astype(np.float64).rechunk((X.chunks[0],))


# ---------------------------------------------------------------------------------------
# Statistics on the cluster


def _statistics(data: _Data, groups=None) -> dict:
    """``{fold: _Stats}`` over all rows (one group, 0, without ``groups``), computed block by
    block where the blocks are and merged on the cluster; only the result comes back.

    ``groups`` is the bounds of contiguous folds (an int array of ``k + 1`` row numbers) or
    a Dask array of each row's fold number with X's row chunks."""
    import dask

    X, y, weights = data.X, data.y, data.sample_weight
    x_blocks = X.to_delayed().ravel()
    y_blocks = y.to_delayed().ravel()
    w_blocks = [None] * len(x_blocks) if weights is None else weights.to_delayed().ravel()
    if groups is None:
        block_groups = [None] * len(x_blocks)
    elif isinstance(groups, np.ndarray):  # fold bounds: each block's row ranges
        offsets = np.concatenate([[0], np.cumsum(X.chunks[0])])
        block_groups = []
        for start, stop in zip(offsets[:-1], offsets[1:], strict=True):
            ranges = []
            for fold in range(groups.shape[0] - 1):
                low, high = max(groups[fold], start), min(groups[fold + 1], stop)
                if low < high:
                    ranges.append((fold, int(low - start), int(high - start)))
            block_groups.append(ranges)
    else:
        block_groups = list(groups.to_delayed().ravel())
    statistics = dask.delayed(_block_statistics, pure=True)
    merge = dask.delayed(_merge_groups, pure=True)
    level = [statistics(xb, yb, wb, gb)
             for xb, yb, wb, gb in zip(x_blocks, y_blocks, w_blocks, block_groups, strict=True)]
    while len(level) > 1:
        level = [merge(*level[i:i + _SPLIT_EVERY]) for i in range(0, len(level),
                                                                   _SPLIT_EVERY)]
    (merged,) = dask.compute(level[0])
    _check_flags(merged)
    return merged


def _check_flags(groups: dict) -> None:
    """Refuse non-finite X, y or weights, and negative weights, seen by the blocks."""
    stats = list(groups.values())
    if not all(s.x_finite for s in stats):
        raise ValueError("Input X contains NaN or infinity.")
    if not all(s.y_finite for s in stats):
        raise ValueError("Input y contains NaN or infinity.")
    if not all(s.w_finite for s in stats):
        raise ValueError("sample_weight contains NaN or infinity.")
    if min(s.w_min for s in stats) < 0:
        raise ValueError("Negative values in data passed to sample_weight")
    if not sum(s.weight for s in stats) > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs weight > 0.")
    for s in stats:
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(s.xx).all() and np.isfinite(s.xy).all() \
                and np.isfinite(s.yy).all()
        if not finite:
            raise ValueError("The sums of squares of X or y overflow float64: rescale X and "
                             "y (for example standardise them) before fitting.")


def _total(groups: dict) -> _Stats:
    folds = sorted(groups)
    total = groups[folds[0]]
    for fold in folds[1:]:
        total = _merge(total, groups[fold])
    return total


# ---------------------------------------------------------------------------------------
# Problems known by their statistics


class _GramProblem(Problem):
    """A :class:`~fastl1._solver.Problem` known by its statistics: the Gram kernels get its
    Gram matrix and ``X_c^T S y_c`` and never read a design.

    The problem is posed on ``rows = min(n, 4 p)`` rows: the weights are normalised to sum to
    ``rows`` (in-memory fits normalise them to ``n``), which multiplies the objective, the
    duality gap and its tolerance by ``rows / n`` and leaves the solution as it is (the
    gap the fits report, divided by ``n_samples``, is the in-memory one). The kernels read
    the number of rows only to size working sets (``min(4 * support, max(2 * support, n))``,
    the same for ``rows``), and a fit allocates a residual of that length, never read with a
    Gram matrix: with all ``n`` rows, each alpha of a path would zero ``8 n`` bytes twice.
    Each target stands in as a vector of ``rows`` zeros but for ``sqrt(||y_c||^2_S)`` first,
    from which the kernels compute ``||y_c||^2_S``."""

    def __init__(self, stats: _Stats, dtype, fit_intercept: bool) -> None:
        # Start Numba's threading layer before any kernel loads from the cache: the cached
        # machine code links to the layer's functions, and loaded before it starts it calls
        # a null address (a segmentation fault). In-memory fits start it in make_problem.
        numba.get_num_threads()
        dtype = np.dtype(dtype)
        p = stats.x_mean.shape[0]
        rows = min(stats.count, 4 * p)
        scale = rows / stats.weight
        if fit_intercept:
            xx, xy, yy = stats.xx, stats.xy, stats.yy
            x_mean, y_mean = stats.x_mean, stats.y_mean
        else:  # uncentred moments
            w = stats.weight
            xx = stats.xx + w * np.outer(stats.x_mean, stats.x_mean)
            xy = stats.xy + w * np.outer(stats.x_mean, stats.y_mean)
            yy = stats.yy + w * stats.y_mean ** 2
            x_mean, y_mean = np.zeros(p), np.zeros_like(stats.y_mean)
        placeholder = _placeholder_matrix(dtype)
        design = (placeholder, np.empty(0, dtype=dtype), _EMPTY_INDEX, _EMPTY_INDEX)
        super().__init__(design, rows, p, dtype, np.empty(0, dtype=dtype), bool(fit_intercept),
                         placeholder, _x_mean=np.asarray(x_mean, dtype=dtype))
        self.gram_matrix = np.ascontiguousarray(xx * scale, dtype=dtype)
        self.xty = np.asarray(xy * scale, dtype=dtype)
        self.y_norm2 = yy * scale
        self.y_mean = np.asarray(y_mean, dtype=dtype)
        self.targets = []
        for k in range(yy.shape[0]):
            target = np.zeros(rows, dtype=dtype)
            target[0] = np.sqrt(max(self.y_norm2[k], 0.0))
            self.targets.append(target)
        with np.errstate(over="ignore", invalid="ignore"):
            finite = np.isfinite(self.gram_matrix).all() and np.isfinite(self.xty).all() \
                and all(np.isfinite(np.dot(t, t)) for t in self.targets)
        if not finite:
            raise ValueError(f"The sums of squares of X or y overflow {dtype}: rescale X and "
                             "y (for example standardise them) before fitting.")

    def xt_weighted(self, v: np.ndarray) -> np.ndarray:
        for k, target in enumerate(self.targets):
            if v is target:
                return self.xty[:, k].copy()
        raise RuntimeError("A statistics problem knows X^T y for its own targets only.")

    def gram(self) -> np.ndarray:
        return self.gram_matrix


def _user_gram(precompute, problem: _GramProblem) -> np.ndarray:
    """The Gram matrix for ``precompute``: the statistics' one, or a user's matrix where an
    in-memory fit would use it (checked as :func:`fastl1._solver.resolve_gram` does)."""
    if not hasattr(precompute, "__array__"):
        return problem.gram_matrix  # True, False or 'auto': the statistics are the fit
    if dask_input(precompute):
        raise TypeError("precompute must be True, False, 'auto' or an in-memory Gram "
                        "matrix, got a Dask collection.")
    gram = np.asarray(precompute, dtype=problem.dtype)
    p = problem.n_features
    if gram.shape != (p, p):
        raise ValueError(f"precompute Gram matrix has shape {gram.shape}, expected {(p, p)}.")
    if not np.isfinite(gram).all():
        raise ValueError("precompute Gram matrix contains NaN or infinity.")
    if problem.fit_intercept:  # (weighted fits never get here: see the callers)
        warn_user("Gram matrix was provided but X is centred (fit_intercept) or weighted: "
                  "recomputing the Gram matrix.", UserWarning)
        return problem.gram_matrix
    j = int(np.argmax(gram.diagonal()))
    expected = float(problem.gram_matrix[j, j])
    if not np.isclose(gram[j, j], expected, rtol=1e-4, atol=1e-10):
        raise ValueError("precompute Gram matrix does not match X: "
                         f"G[{j},{j}] = {gram[j, j]:.6g} but ||X[:, {j}]||^2 = "
                         f"{expected:.6g}.")
    return np.ascontiguousarray(gram)


def _resolve_user_gram(precompute, problem: _GramProblem, weighted: bool) -> np.ndarray:
    if weighted and hasattr(precompute, "__array__") and not dask_input(precompute):
        warn_user("Gram matrix was provided but X is centred (fit_intercept) or weighted: "
                  "recomputing the Gram matrix.", UserWarning)
        return problem.gram_matrix
    return _user_gram(precompute, problem)


def _n_features_in(estimator, X) -> None:
    """Set ``n_features_in_`` (and ``feature_names_in_`` for a DataFrame) without
    converting X."""
    from sklearn.utils.validation import validate_data

    validate_data(estimator, X, skip_check_array=True, reset=True)
    # scikit-learn reads the column names of eager DataFrames only: a Dask DataFrame's
    # string column names become feature_names_in_ here, as a pandas DataFrame's would.
    columns = getattr(X, "columns", None)
    if columns is not None and dask_input(X):
        names = np.asarray(list(columns), dtype=object)
        kinds = {isinstance(name, str) for name in names}
        if kinds == {True, False}:
            raise TypeError("Feature names are only supported if all input features have "
                            "string names, but X has string and non-string column names.")
        if kinds == {True}:
            estimator.feature_names_in_ = names


# ---------------------------------------------------------------------------------------
# Single fits and paths


def fit_elastic_net(estimator, X, y, sample_weight):
    """:meth:`fastl1.ElasticNet.fit` (its parameters checked) on Dask inputs."""
    from ._blas import blas_on_one_thread

    data = _prepare(X, y, sample_weight, what=type(estimator).__name__, gram_copies=3)
    _n_features_in(estimator, X)
    stats = _statistics(data)[0]
    problem = _GramProblem(stats, data.dtype, estimator.fit_intercept)
    gram = _resolve_user_gram(estimator.precompute, problem, data.sample_weight is not None)
    n_targets, p = problem.xty.shape[1], problem.n_features
    coef = np.zeros((n_targets, p), dtype=problem.dtype)
    if estimator.warm_start and hasattr(estimator, "coef_"):
        previous = np.asarray(estimator.coef_, dtype=problem.dtype).reshape(-1, p)
        if previous.shape == coef.shape:
            coef[:] = previous
    rng = check_random_state(estimator.random_state)
    gaps = np.zeros(n_targets, dtype=problem.dtype)
    n_iters = []
    with blas_on_one_thread():
        for k in range(n_targets):
            result = solve_enet(
                problem, problem.targets[k], coef[k], estimator.alpha, estimator.l1_ratio,
                positive=estimator.positive, max_iter=estimator.max_iter, tol=estimator.tol,
                random=estimator.selection == "random",
                seed=int(rng.randint(np.iinfo(np.int32).max)), gram=gram,
                xty=np.ascontiguousarray(problem.xty[:, k]))
            gaps[k] = result.dual_gap
            n_iters.append(result.n_iter)
    from .linear_model import store_solution

    return store_solution(estimator, problem, coef, problem.y_mean, gaps, n_iters)


def enet_path(X, y, *, l1_ratio, eps, alphas, precompute, Xy, coef_init, verbose,
              return_n_iter, positive, fit_intercept, sample_weight, tol, max_iter,
              random_state, selection):
    """:func:`fastl1.enet_path` (its parameters checked) on Dask inputs."""
    from .path import alpha_grid, check_alpha_array, check_feature_vector, fit_path

    data = _prepare(X, y, sample_weight, what="enet_path", gram_copies=3)
    if data.y.shape[1] != 1:
        raise ValueError(
            "enet_path fits one target; for several targets call it once per column of y "
            f"(got y of shape {(data.n_samples, data.y.shape[1])}). The multi-task (group) "
            "lasso is not implemented in fastl1.")
    problem = _GramProblem(_statistics(data)[0], data.dtype, fit_intercept)
    weighted = data.sample_weight is not None
    target = problem.targets[0]
    if isinstance(alphas, int):
        grid = alpha_grid(problem, target, l1_ratio=l1_ratio, n_alphas=alphas, eps=eps,
                          positive=positive)
    else:
        grid = check_alpha_array(alphas)
    gram = _resolve_user_gram(precompute, problem, weighted)
    xty = np.ascontiguousarray(problem.xty[:, 0])
    if Xy is not None and not (fit_intercept or weighted):
        if dask_input(Xy):
            raise TypeError("Xy must be an in-memory array, got a Dask collection.")
        xty = check_feature_vector("Xy", Xy, problem)
    if coef_init is not None:
        coef_init = check_feature_vector("coef_init", coef_init, problem)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    result = fit_path(problem, target, grid, l1_ratio, coef_init=coef_init,
                      positive=positive, max_iter=max_iter, tol=tol,
                      random=selection == "random", seed=seed, gram=gram, xty=xty,
                      verbose=int(verbose))
    coefs = result.coefs.toarray()
    if data.y_ndim == 2:
        coefs = coefs[np.newaxis]
    if return_n_iter:
        return grid, coefs, result.dual_gaps, result.n_iters
    return grid, coefs, result.dual_gaps


# ---------------------------------------------------------------------------------------
# Cross-validation


def _fold_groups(cv, data: _Data, split_params: dict):
    """The folds of ``cv`` as :func:`_statistics` takes them, and their number: KFold's
    contiguous folds by their bounds (nothing computed), other splitters' by each row's
    fold number, computed on a worker (the splitter sees an empty X with the rows' count)."""
    import dask
    import dask.array as da

    splitter = check_cv(cv)
    n = data.n_samples
    if type(splitter) is KFold and not splitter.shuffle and not split_params:
        k = splitter.n_splits
        if k > n:
            raise ValueError(f"Cannot have number of splits n_splits={k} greater than the "
                             f"number of samples: n_samples={n}.")
        sizes = np.full(k, n // k, dtype=np.int64)
        sizes[:n % k] += 1
        return np.concatenate([[0], np.cumsum(sizes)]), k
    y = data.y[:, 0]
    ids = dask.delayed(_fold_numbers, pure=True)(splitter, n, y, split_params)
    ids = da.from_delayed(ids, shape=(n,), dtype=np.int32).rechunk((data.X.chunks[0],))
    k = splitter.get_n_splits(None, None, split_params.get("groups"))
    return ids, k


def _path_job(stats: _Stats, dtype, fit_intercept: bool, alphas: np.ndarray,
              l1_ratio: float, options: dict):
    """The path on all rows (the final models) with the target's mean, as the path plan's
    full-data job gives it (:class:`fastl1._path_plan.PathOutcome`)."""
    from ._path_plan import PathOutcome
    from .path import fit_path

    problem = _GramProblem(stats, dtype, fit_intercept)
    result = fit_path(problem, problem.targets[0], alphas, l1_ratio, parallel=False,
                      gram=problem.gram_matrix, xty=np.ascontiguousarray(problem.xty[:, 0]),
                      **options)
    return PathOutcome(result.coefs, None, result.dual_gaps, result.n_iters,
                       y_mean=problem.y_mean[0])


def _fold_job(train: _Stats, test: _Stats, dtype, fit_intercept: bool, alphas: np.ndarray,
              l1_ratio: float, options: dict) -> np.ndarray:
    """The test fold's (weighted) mean squared error at each alpha, from the statistics of
    the training rows (the path) and of the test rows (the errors)."""
    from .path import fit_path

    problem = _GramProblem(train, dtype, fit_intercept)
    mse = np.empty(alphas.shape[0])
    x_mean, y_mean = problem.x_mean, problem.y_mean[0]
    xy_test, yy_test = test.xy[:, 0], float(test.yy[0])

    def score(i, coef):
        intercept = float(y_mean) - float(x_mean @ coef)
        support = np.flatnonzero(coef)
        w = coef[support].astype(np.float64)
        centred = yy_test - 2.0 * float(w @ xy_test[support]) \
            + float(w @ test.xx[np.ix_(support, support)] @ w)
        offset = float(test.y_mean[0]) - float(test.x_mean[support] @ w) - intercept
        mse[i] = max(centred, 0.0) / test.weight + offset * offset

    fit_path(problem, problem.targets[0], alphas, l1_ratio, parallel=False, store_coefs=False,
             on_solution=score, gram=problem.gram_matrix,
             xty=np.ascontiguousarray(problem.xty[:, 0]), **options)
    return mse


def fit_elastic_net_cv(estimator, X, y, sample_weight, alphas, l1_ratios, split_params):
    """:meth:`fastl1.ElasticNetCV.fit` (its parameters checked, ``alphas`` resolved) on
    Dask inputs: one pass over the data for every fold's statistics, then the jobs on
    ``p x p`` arrays (:func:`fastl1.cv.run_jobs`)."""
    from .cv import run_jobs

    name = type(estimator).__name__
    if hasattr(estimator.precompute, "__array__"):
        raise TypeError(f"{name} on Dask arrays computes its Gram matrices from the data: "
                        "precompute must be True, False or 'auto', not a matrix.")
    data = _prepare(X, y, sample_weight, what=name, gram_copies=8)
    if data.y.shape[1] != 1:
        raise ValueError(f"{name} fits one target, got y of shape "
                         f"{(data.n_samples, data.y.shape[1])}; fit one model per column.")
    if data.y_ndim == 2:
        warn_user("A column-vector y was passed when a 1d array was expected; using "
                  "y.ravel().", DataConversionWarning)
    _n_features_in(estimator, X)
    groups, k = _fold_groups(estimator.cv, data, split_params)
    by_fold = _statistics(data, groups)
    for fold in range(k):
        if fold not in by_fold or by_fold[fold].count == data.n_samples:
            raise ValueError(f"Cross-validation fold {fold} has an empty training or test "
                             "set.")
    total = _total(by_fold)
    folds = []
    for fold in range(k):
        test = by_fold[fold]
        train = _remove(total, test)
        for stats, part in ((train, "training"), (test, "test")):
            if data.sample_weight is not None and not stats.weight > 0:
                raise ValueError(f"Cross-validation fold {fold}'s {part} rows all have zero "
                                 "sample weight; use fewer zero weights or other folds.")
        folds.append((train, test))
    problem = _GramProblem(total, data.dtype, estimator.fit_intercept)
    from .linear_model import cv_grids_and_options

    grids, options = cv_grids_and_options(estimator, problem, problem.targets[0], alphas,
                                          l1_ratios)
    jobs = []
    for ratio, grid in zip(l1_ratios, grids, strict=True):
        jobs.append(functools.partial(_path_job, total, data.dtype, estimator.fit_intercept,
                                      grid, ratio, options))
        jobs.extend(functools.partial(_fold_job, train, test, data.dtype,
                                      estimator.fit_intercept, grid, ratio, options)
                    for train, test in folds)
    results = run_jobs(jobs, estimator.n_jobs, verbose=int(estimator.verbose))
    per_ratio = k + 1
    paths = [results[r * per_ratio] for r in range(len(l1_ratios))]
    mse = np.array([np.column_stack(results[r * per_ratio + 1:(r + 1) * per_ratio])
                    for r in range(len(l1_ratios))])
    estimator._store_selection(l1_ratios, grids, mse, paths, problem,
                               isinstance(alphas, int))
    return estimator
