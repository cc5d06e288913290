"""Stability selection of the lasso and the elastic net on Dask arrays chunked by rows.

A subsample's squared-loss path needs its rows only through their statistics (centred
``X^T S X``, ``X^T S y``, ``y^T S y`` and the means: :mod:`fastl1._dask`). One pass over the
data computes them for every subsample at once: each row block gets one bit per row and
subsample (the in-memory draws, so the same subsamples for the same ``random_state``) and
returns the statistics of its rows in each subsample; the cluster adds them up, and the
subsamples' paths then run on ``p x p`` arrays, as jobs of :func:`fastl1.cv.run_jobs`
(threads, or the cluster's workers under joblib's Dask backend). The path on a subsample's
statistics is the Gram (covariance-update) path of in-memory fits with ``precompute=True``.

Logistic models are refused: their loss has no statistics, and each subsample's path would
take passes over the data for every Newton step.
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
from sklearn.utils import check_random_state

from ._dask import (
    _SPLIT_EVERY,
    _check_flags,
    _GramProblem,
    _merge_groups,
    _n_features_in,
    _prepare,
    _remove,
    _row_statistics,
)
from ._validation import _check_int

__all__ = ["fit_stability"]

_ALL_ROWS = -1  # the statistics of all the rows (for the grid), beside the subsamples'


def _draw(selector, n: int) -> list[np.ndarray]:
    """The subsamples of :meth:`fastl1.StabilitySelection.fit` (sorted row numbers), drawn
    from ``random_state`` in the same order."""
    size = max(1, int(selector.sample_fraction * n))
    if size < 2 or n - size < (size if selector.complementary_pairs else 0):
        raise ValueError(f"{n} samples are too few to draw subsamples of {size}.")
    rng = check_random_state(selector.random_state)
    subsamples = []
    for _ in range(selector.n_resamples):
        order = rng.permutation(n)
        subsamples.append(np.sort(order[:size]))
        if selector.complementary_pairs:
            subsamples.append(np.sort(order[size:2 * size]))
    return subsamples


def _membership(subsamples: list[np.ndarray], n: int) -> np.ndarray:
    """One bit per row and subsample, packed by rows (``n x ceil(n_subsamples / 8)``)."""
    bits = np.zeros((n, len(subsamples)), dtype=bool)
    for k, rows in enumerate(subsamples):
        bits[rows, k] = True
    return np.packbits(bits, axis=1, bitorder="little")


def _block_subsample_statistics(x, y, s, packed, n_subsamples: int, stride: int) -> dict:
    """``{subsample: _Stats}`` of the block's rows in every ``stride``-th subsample, and of
    all its rows."""
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64).reshape(x.shape[0], -1)
    s = None if s is None else np.asarray(s, dtype=np.float64)
    member = np.unpackbits(np.asarray(packed), axis=1, count=n_subsamples,
                           bitorder="little").astype(bool)
    out = {_ALL_ROWS: _row_statistics(x, y, s)}
    for k in range(0, n_subsamples, stride):
        rows = member[:, k]
        out[k] = _row_statistics(x[rows], y[rows], None if s is None else s[rows])
    return out


def _statistics(data, packed, n_subsamples: int, stride: int) -> dict:
    """One pass over the blocks for every ``stride``-th subsample's statistics, merged on the
    cluster."""
    import dask

    x_blocks = data.X.to_delayed().ravel()
    y_blocks = data.y.to_delayed().ravel()
    w_blocks = [None] * len(x_blocks) if data.sample_weight is None \
        else data.sample_weight.to_delayed().ravel()
    bits = packed.to_delayed().ravel()
    task = dask.delayed(_block_subsample_statistics, pure=True)
    level = [task(xb, yb, wb, bb, n_subsamples, stride)
             for xb, yb, wb, bb in zip(x_blocks, y_blocks, w_blocks, bits, strict=True)]
    merge = dask.delayed(_merge_groups, pure=True)
    while len(level) > 1:
        level = [merge(*level[i:i + _SPLIT_EVERY]) for i in range(0, len(level),
                                                                   _SPLIT_EVERY)]
    (merged,) = dask.compute(level[0])
    _check_flags(merged)
    return merged


def _subsample_job(stats, dtype, fit_intercept: bool, alphas: np.ndarray, l1_ratio: float,
                   options: dict):
    """The path on a subsample's statistics: the (n_features, n_alphas) table of selected
    features, and no failures (fit_path warns of its own)."""
    from .path import fit_path

    problem = _GramProblem(stats, dtype, fit_intercept)
    selected = np.zeros((problem.n_features, alphas.shape[0]), dtype=bool)

    def record(i, coef):
        selected[:, i] = coef != 0

    fit_path(problem, problem.targets[0], alphas, l1_ratio, parallel=False, store_coefs=False,
             on_solution=record, gram=problem.gram_matrix,
             xty=np.ascontiguousarray(problem.xty[:, 0]), **options)
    return selected, 0


def fit_stability(selector, model, l1_ratio: float, X, y, sample_weight):
    """:meth:`fastl1.StabilitySelection.fit` (its parameters checked) on Dask inputs."""
    import dask.array as da

    from .cv import run_jobs
    from .linear_model import ElasticNet
    from .path import alpha_grid, check_alpha_array

    if not isinstance(model, ElasticNet):
        raise TypeError(
            f"StabilitySelection of {type(model).__name__} does not accept Dask arrays: only "
            "the lasso and the elastic net fit subsamples from statistics of the rows. "
            "Compute the data into memory first (X.compute()) if it fits.")
    data = _prepare(X, y, sample_weight, what="StabilitySelection",
                    gram_copies=2 * selector.n_resamples + 3)
    if data.y.shape[1] != 1:
        raise ValueError(f"StabilitySelection needs one target, got y of shape "
                         f"{(data.n_samples, data.y.shape[1])}.")
    _n_features_in(selector, X)
    subsamples = _draw(selector, data.n_samples)
    n_sub = len(subsamples)
    packed = da.from_array(_membership(subsamples, data.n_samples),
                           chunks=(data.X.chunks[0], -1))
    # Complementary halves that hold every row: the second half's statistics are the total
    # minus the first's (Chan et al.'s update reversed), which halves the pass's products.
    pairs = selector.complementary_pairs and 2 * subsamples[0].shape[0] == data.n_samples
    stats = _statistics(data, packed, n_sub, 2 if pairs else 1)
    total = stats[_ALL_ROWS]
    for k in range(1, n_sub, 2) if pairs else ():
        if total.weight - stats[k - 1].weight > 1e-12 * total.weight:  # (else zero weights)
            stats[k] = _remove(total, stats[k - 1])
    for k in range(n_sub):
        if data.sample_weight is not None and not (k in stats and stats[k].weight > 0):
            raise ValueError(f"Subsample {k} ({subsamples[k].shape[0]} of {data.n_samples} "
                             "rows) has only zero weights; use fewer zero weights or a "
                             "larger sample_fraction.")
    problem = _GramProblem(total, data.dtype, model.fit_intercept)
    if isinstance(selector.alphas, numbers.Integral) and not isinstance(selector.alphas, bool):
        _check_int("alphas", selector.alphas, low=1)
        grid = alpha_grid(problem, problem.targets[0], l1_ratio=l1_ratio,
                          n_alphas=int(selector.alphas), eps=selector.eps,
                          positive=model.positive)
    else:
        grid = check_alpha_array(selector.alphas)
    options = {"positive": model.positive, "max_iter": model.max_iter, "tol": model.tol}
    jobs = [functools.partial(_subsample_job, stats[k], data.dtype, model.fit_intercept, grid,
                              l1_ratio, options) for k in range(n_sub)]
    results = run_jobs(jobs, selector.n_jobs, verbose=int(selector.verbose))
    counts = sum(selected.astype(np.float64) for selected, _ in results)
    union_sizes = [np.count_nonzero(selected.any(axis=1)) for selected, _ in results]
    selector.alphas_ = grid
    selector.stability_scores_ = counts / n_sub
    selector.scores_ = selector.stability_scores_.max(axis=1)
    selector.support_ = selector.scores_ >= selector.threshold
    selector.average_selected_ = float(np.mean(union_sizes))
    selector.expected_false_selections_bound_ = float(
        selector.average_selected_ ** 2 / ((2 * selector.threshold - 1) * data.n_features))
    return selector
