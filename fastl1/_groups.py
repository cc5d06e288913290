"""Groups of features and the block solver's driver (multi-task and group lasso).

:func:`parse_groups` and :func:`check_group_weights` turn a user's ``groups`` and
``group_weights`` into a :class:`GroupStructure` (or a clear error); :func:`solve_block` fits
one alpha with the block coordinate-descent kernel (:mod:`fastl1._kernels.block_cd`) on a
:class:`fastl1._solver.Problem`, :func:`block_path` a warm-started grid, and the CV jobs score
a fold's path on its test rows, for :func:`fastl1.cv.run_jobs`.

Targets are held as ``Y`` of shape ``(T, n)``, C-ordered (each task's centred target
contiguous) and coefficients as ``W`` of shape ``(T, p)`` (scikit-learn's multi-task
``coef_``); the group lasso is the case ``T = 1``.
"""

from __future__ import annotations

import functools
import numbers
import sys
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._blas import blas_on_one_thread
from ._feature_penalty import FeaturePenalty
from ._interrupt import STOP, interruptible, raise_if_stopped
from ._kernels.block_cd import (
    BlockFree,
    BlockOptions,
    BlockPenalty,
    BlockReference,
    Groups,
    block_cd,
)
from ._solver import FitResult, Problem, _unpenalised_fit, make_problem
from ._threads import claims_threads
from ._warn import warn_user
from .cv import fold_rows

_RESOLUTION = np.finfo(np.float64).resolution


@dataclass(frozen=True)
class GroupStructure:
    """Groups of features and their penalty factors.

    Attributes
    ----------
    ptr : ndarray of shape (n_groups + 1,)
        Group ``g`` holds ``features[ptr[g]:ptr[g + 1]]``.
    features : ndarray of shape (n_features,)
        Every feature once, group by group (int64).
    weight : ndarray of shape (n_groups,)
        Non-negative factor of each group's penalty (0: unpenalised).
    """

    ptr: np.ndarray
    features: np.ndarray
    weight: np.ndarray

    @property
    def n_groups(self) -> int:
        return self.weight.shape[0]

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.ptr)

    @classmethod
    def singletons(cls, weight: np.ndarray) -> GroupStructure:
        """One group per feature (the multi-task lasso), with factors ``weight``."""
        p = weight.shape[0]
        return cls(np.arange(p + 1, dtype=np.int64), np.arange(p, dtype=np.int64),
                   np.ascontiguousarray(weight, dtype=np.float64))

    def members(self, g: int) -> np.ndarray:
        return self.features[self.ptr[g]:self.ptr[g + 1]]

    def block_norms(self, W: np.ndarray) -> np.ndarray:
        """``||W_g||_F`` of every group (``W`` of shape (T, p))."""
        squares = np.asarray(W, dtype=np.float64) ** 2
        per_feature = squares.sum(axis=0)[self.features]
        return np.sqrt(np.add.reduceat(per_feature, self.ptr[:-1])) if self.n_groups else \
            np.empty(0)


def _is_integer_array(values: np.ndarray) -> bool:
    return values.dtype.kind in "iu" or (
        values.dtype.kind == "f" and np.all(np.isfinite(values))
        and np.all(values == np.round(values)))


def parse_groups(groups, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    """``groups`` as ``(ptr, features)`` (int64; see :class:`GroupStructure`).

    ``groups`` is an int (contiguous groups of that size), a list of group sizes (contiguous
    groups, in order: ``[3, 2]`` is features 0-2 and 3-4), a list of index arrays (``[[0,
    4], [1, 2, 3]]``), or one label per feature (an array of length ``n_features``; groups
    sorted by label). A list of ``n_features`` numbers is read as labels. Every feature must
    be in exactly one group and no group may be empty: anything else is a ValueError naming
    the problem.
    """
    if groups is None:
        raise ValueError("groups is required: a list of group sizes, a list of index arrays "
                         "or one label per feature.")
    if isinstance(groups, numbers.Integral) and not isinstance(groups, bool):
        if groups <= 0 or n_features % groups:
            raise ValueError(f"groups={groups} (contiguous groups of that size) must be a "
                             f"positive divisor of the number of features ({n_features}).")
        return _from_sizes(np.full(n_features // groups, groups, dtype=np.int64), n_features)
    if isinstance(groups, (str, bytes)) or not hasattr(groups, "__iter__") or \
            (isinstance(groups, np.ndarray) and groups.ndim != 1):
        raise TypeError(f"groups must be a list of group sizes, a list of index arrays or "
                        f"one label per feature; got {groups!r}.")
    items = list(groups)
    if len(items) == 0:
        raise ValueError("groups is empty: give at least one group.")
    if all(isinstance(item, numbers.Integral) and not isinstance(item, bool) for item in items) \
            and len(items) != n_features:
        return _from_sizes(np.asarray(items, dtype=np.int64), n_features)
    if all(np.ndim(item) == 0 for item in items):
        if len(items) != n_features:
            raise ValueError(f"groups has {len(items)} entries for {n_features} features: "
                             "give one label per feature, or group sizes summing to "
                             f"{n_features}.")
        return _from_labels(np.asarray(items), n_features)
    return _from_index_lists(items, n_features)


def _from_sizes(sizes: np.ndarray, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    if (sizes <= 0).any():
        bad = int(np.flatnonzero(sizes <= 0)[0])
        raise ValueError(f"group {bad} is empty (size {int(sizes[bad])}); every group needs "
                         "at least one feature.")
    if sizes.sum() != n_features:
        raise ValueError(f"the group sizes sum to {int(sizes.sum())} but X has {n_features} "
                         "features: every feature must be in exactly one group (one label "
                         f"per feature needs {n_features} entries).")
    ptr = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return ptr, np.arange(n_features, dtype=np.int64)


def _from_labels(labels: np.ndarray, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError("groups (one label per feature) contains NaN at feature(s) "
                         f"{np.flatnonzero(np.isnan(labels))[:5].tolist()}.")
    _, codes = np.unique(labels, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return ptr, order.astype(np.int64)


def _from_index_lists(items: list, n_features: int) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for g, item in enumerate(items):
        values = np.asarray(item).reshape(-1) if np.ndim(item) else np.asarray([item])
        if values.shape[0] == 0:
            raise ValueError(f"group {g} is empty; every group needs at least one feature.")
        if values.dtype.kind == "b" or not _is_integer_array(values):
            raise TypeError(f"group {g} must hold integer feature indices, got {item!r}.")
        values = values.astype(np.int64)
        if values.min() < 0 or values.max() >= n_features:
            raise ValueError(f"group {g} has feature index {int(values.max())}"
                             f"{'' if values.min() >= 0 else ' or a negative one'}, out of "
                             f"range for {n_features} features.")
        arrays.append(values)
    features = np.concatenate(arrays)
    counts = np.bincount(features, minlength=n_features)
    if (counts > 1).any():
        shared = np.flatnonzero(counts > 1)
        raise ValueError(f"groups overlap: feature(s) {shared[:5].tolist()} are in more than "
                         "one group; every feature must be in exactly one group.")
    if (counts == 0).any():
        missing = np.flatnonzero(counts == 0)
        raise ValueError(f"groups are incomplete: feature(s) {missing[:5].tolist()} "
                         f"({missing.shape[0]} in all) are in no group; every feature must be "
                         "in exactly one group (a group of its own for a lone feature).")
    ptr = np.concatenate([[0], np.cumsum([a.shape[0] for a in arrays])]).astype(np.int64)
    return ptr, features


def check_group_weights(group_weights, sizes: np.ndarray) -> np.ndarray:
    """The groups' penalty factors: ``sqrt(|g|)`` by default (Yuan & Lin 2006), else the
    user's, non-negative and finite, one per group, not all zero."""
    n_groups = sizes.shape[0]
    if group_weights is None:
        return np.sqrt(sizes.astype(np.float64))
    try:
        weights = np.array(group_weights, dtype=np.float64).reshape(-1) \
            if np.ndim(group_weights) else np.full(n_groups, float(group_weights))
    except (TypeError, ValueError) as exc:
        raise TypeError("group_weights must be a number or an array of numbers.") from exc
    if weights.shape[0] != n_groups:
        raise ValueError(f"group_weights has {weights.shape[0]} entries for {n_groups} "
                         "groups.")
    if not np.isfinite(weights).all():
        raise ValueError("group_weights must be finite (0 leaves a group unpenalised).")
    if (weights < 0).any():
        raise ValueError("group_weights must be non-negative; negative for group(s) "
                         f"{np.flatnonzero(weights < 0)[:5].tolist()}.")
    if not weights.any():
        raise ValueError("group_weights is zero for every group: nothing is penalised, so "
                         "alpha has no effect.")
    return weights


def group_structure(groups, group_weights, n_features: int) -> GroupStructure:
    """Parse and validate ``groups`` and ``group_weights`` for ``n_features`` features."""
    ptr, features = parse_groups(groups, n_features)
    weights = check_group_weights(group_weights, np.diff(ptr))
    return GroupStructure(ptr, features, weights)


# --- the driver --------------------------------------------------------------------------


def task_major(Y_centred: np.ndarray) -> np.ndarray:
    """Centred targets ``(n, T)`` as the kernel's ``(T, n)``, C-ordered."""
    return np.ascontiguousarray(np.asarray(Y_centred).reshape(Y_centred.shape[0], -1).T)


def xt_weighted_tasks(problem: Problem, Y: np.ndarray) -> np.ndarray:
    """``X_c^T S y_t`` for each task (``Y`` (T, n)), float64 of shape (p, T)."""
    return np.column_stack([np.asarray(problem.xt_weighted(y), dtype=np.float64) for y in Y])


def lipschitz_constants(problem: Problem, structure: GroupStructure) -> Groups:
    """The kernel's groups (:data:`._kernels.block_cd.Groups`) with their Lipschitz
    constants: a singleton's is its centred column norm, a constant group's 0, the others'
    are computed by the kernel when the group first enters a working set, in the array kept
    on the problem, so that a path or a later fit on the same problem reuses them."""
    cache = getattr(problem, "_block_lipschitz", None)
    if cache is not None and cache[0] is structure:
        return cache[1]
    norms2 = np.asarray(problem.column_norms2(), dtype=np.float64)
    trace = np.add.reduceat(norms2[structure.features], structure.ptr[:-1]) \
        if structure.n_groups else np.empty(0)
    lipschitz = np.where(structure.sizes == 1, trace, -1.0)
    lipschitz[trace == 0.0] = 0.0
    groups = Groups(structure.ptr, structure.features, lipschitz, trace)
    problem._block_lipschitz = (structure, groups)
    return groups


def block_reference(problem: Problem, n_tasks: int) -> BlockReference:
    """An empty gradient reference (:data:`._kernels.block_cd.BlockReference`) for
    :func:`solve_block`; a path passes one to every alpha."""
    return BlockReference(np.zeros((n_tasks, problem.n_features)),
                          np.zeros((n_tasks, problem.n_samples)), np.zeros(4, dtype=np.int64))


def _unpenalised_features(structure: GroupStructure) -> np.ndarray:
    free = [structure.members(g) for g in np.flatnonzero(structure.weight == 0.0)]
    return np.sort(np.concatenate(free)) if free else np.empty(0, dtype=np.int64)


def block_free(problem: Problem, structure: GroupStructure, Y: np.ndarray) -> BlockFree | None:
    """The unpenalised groups' data for the dual point (:data:`.block_cd.BlockFree`), or
    None when every group is penalised; constant columns are left out."""
    free = _unpenalised_features(structure)
    if free.shape[0] == 0:
        return None
    cross = problem.columns_cross(free)
    keep = cross[free, np.arange(free.shape[0])] > 0.0
    free, cross = free[keep], cross[:, keep]
    if free.shape[0] == 0:
        return None
    cross_y = np.ascontiguousarray(xt_weighted_tasks(problem, Y)[free].T)
    return BlockFree(free.astype(np.int64), np.ascontiguousarray(cross), cross_y)


def block_alpha_max(problem: Problem, Y: np.ndarray, structure: GroupStructure,
                    l1_ratio: float = 1.0, within_l1: float = 0.0) -> float:
    """Smallest ``alpha`` at which every penalised block is zero: ``max_g ||X_g,c^T S R||_F
    / (n l1_ratio f_g)``, ``R`` the centred targets with the unpenalised groups fitted first
    (as glmnet); ``inf`` for ``l1_ratio == 0``. With a within-group L1 (``within_l1 > 0``)
    a block stays zero while ``||S_{alpha within_l1}(c_g)|| <= alpha l1_ratio f_g`` (``c_g =
    X_g,c^T S R / n``, ``S`` the soft thresholding), found per group by bisection."""
    free = _unpenalised_features(structure)
    R = Y
    if free.shape[0]:
        factor = np.ones(problem.n_features)
        factor[free] = 0.0
        penalty = FeaturePenalty(factor, np.full(problem.n_features, -np.inf),
                                 np.full(problem.n_features, np.inf))
        R = np.array([y - _unpenalised_fit(problem, y, penalty) for y in Y])
    corr = xt_weighted_tasks(problem, R)
    norms = structure.block_norms(corr.T)
    penalised = structure.weight > 0.0
    top = float(np.max(norms[penalised] / structure.weight[penalised], initial=0.0))
    if l1_ratio == 0:
        return np.inf if top > 0 else 0.0
    top /= problem.n_samples * l1_ratio
    if within_l1 > 0.0 and top > 0.0:
        top = _sparse_group_alpha_max(corr.T / problem.n_samples, structure, l1_ratio,
                                      within_l1, top)
    return top


def _sparse_group_alpha_max(C: np.ndarray, structure: GroupStructure, l1_ratio: float,
                            within_l1: float, high: float) -> float:
    """:func:`block_alpha_max` with a within-group L1, by bisection on ``alpha`` for all
    groups at once (``C`` (T, p) the correlations over ``n``; ``high`` is feasible)."""
    low = np.zeros(structure.n_groups)
    high = np.full(structure.n_groups, high)
    magnitude = np.abs(C)
    group_of = np.empty(structure.features.shape[0], dtype=np.int64)
    group_of[structure.features] = np.repeat(np.arange(structure.n_groups), structure.sizes)
    for _ in range(60):
        middle = 0.5 * (low + high)
        thresholded = np.maximum(magnitude - within_l1 * middle[group_of], 0.0)
        feasible = structure.block_norms(thresholded) <= middle * l1_ratio * structure.weight
        high = np.where(feasible, middle, high)
        low = np.where(feasible, low, middle)
    penalised = structure.weight > 0.0
    return float(np.max(high[penalised], initial=0.0))


def block_alpha_grid(problem: Problem, Y: np.ndarray, structure: GroupStructure, *,
                     l1_ratio: float = 1.0, n_alphas: int = 100, eps: float = 1e-3,
                     within_l1: float = 0.0) -> np.ndarray:
    """Log-spaced grid from :func:`block_alpha_max` down to ``eps`` times it (largest first),
    as :func:`fastl1.path.alpha_grid`."""
    if l1_ratio == 0:
        raise ValueError("An automatic alpha grid needs l1_ratio > 0 (alpha_max is infinite "
                         "for ridge); pass an explicit array of alphas.")
    top = block_alpha_max(problem, Y, structure, l1_ratio, within_l1)
    if top <= _RESOLUTION:
        return np.full(n_alphas, _RESOLUTION)
    return np.geomspace(top, top * eps, num=n_alphas)


def _default_ws_start(structure: GroupStructure) -> int:
    """About 100 features' worth of groups (the squared-loss engine's first set), >= 10."""
    mean_size = structure.features.shape[0] / max(structure.n_groups, 1)
    return max(10, int(100 / max(mean_size, 1.0)))


@interruptible
@claims_threads
def solve_block(problem: Problem, Y: np.ndarray, W: np.ndarray, alpha: float,
                l1_ratio: float, structure: GroupStructure, *, max_iter: int = 1000,
                tol: float = 1e-4, random: bool = False, seed: int = 0,
                working_sets: bool = True, ws_start: int | None = None, anderson: int = 5,
                parallel: bool | None = None, warn: bool = True,
                free: BlockFree | None | str = "auto", within_l1: float = 0.0,
                reference: BlockReference | None = None) -> FitResult:
    """Fit one ``alpha`` from ``W`` ((T, p), overwritten), ``Y`` the centred targets (T, n).

    Returns the solution, the duality gap in the estimator's scale (divided by
    ``n_samples``) and the epochs; warns with a ConvergenceWarning when ``max_iter`` epochs
    did not bring the gap below ``tol`` (unless ``warn=False``). ``free``: the unpenalised
    groups' data (computed when ``"auto"``; a path computes it once). ``within_l1`` adds
    ``alpha * within_l1 * sum |W|`` to the penalty (the sparse group lasso)."""
    if within_l1 > 0.0 and l1_ratio == 0.0:
        raise ValueError("A within-group L1 (within_l1 > 0) needs l1_ratio > 0.")
    n = problem.n_samples
    alpha, l1_ratio, tol = float(alpha), float(l1_ratio), float(tol)
    groups = lipschitz_constants(problem, structure)
    if reference is None:
        reference = block_reference(problem, Y.shape[0])
    penalty = BlockPenalty(alpha * l1_ratio * n, alpha * (1.0 - l1_ratio) * n,
                           structure.weight, alpha * float(within_l1) * n)
    if isinstance(free, str):
        free = block_free(problem, structure, Y)
    options = BlockOptions(int(max_iter), tol, bool(random), int(seed), bool(working_sets),
                           int(ws_start or _default_ws_start(structure)), int(anderson),
                           bool(parallel))
    gap, scaled_tol, epochs, rounds = block_cd(
        *problem.design, Y, problem.sample_weight, problem.x_mean, groups, penalty, free, W,
        options, reference, STOP)
    raise_if_stopped()
    if not (np.isfinite(gap) and np.isfinite(scaled_tol)):
        raise ValueError(f"The fit's duality gap is {gap} (not a finite number), so it cannot "
                         "be certified: X or Y is too large for floating point. Rescale X "
                         "and Y (for example standardise them).")
    converged = gap <= scaled_tol
    if not converged and warn:
        warn_user(f"Objective did not converge after {epochs} epochs. Duality gap: "
                  f"{gap:.3e} (in the objective's 1/(2n) scale: {gap / n:.3e}), tolerance: "
                  f"{scaled_tol:.3e}. Increase max_iter, scale the features, or increase "
                  "regularisation.", ConvergenceWarning)
    result = FitResult(W, gap / n, int(epochs), int(rounds), converged)
    result.scaled_tol = scaled_tol
    return result


@dataclass
class BlockPath:
    """Solutions along a grid (largest alpha first): ``supports[i]`` the features with a
    non-zero block at ``alphas[i]`` and ``values[i]`` their coefficients (T, k)."""

    alphas: np.ndarray
    supports: list
    values: list
    dual_gaps: np.ndarray
    n_iters: list
    n_features: int

    def coef(self, i: int) -> np.ndarray:
        """The dense coefficients (T, p) at ``alphas[i]``."""
        values = self.values[i]
        W = np.zeros((values.shape[0], self.n_features), dtype=values.dtype)
        W[:, self.supports[i]] = values
        return W


@interruptible
@claims_threads
def block_path(problem: Problem, Y: np.ndarray, alphas: np.ndarray, l1_ratio: float,
               structure: GroupStructure, *, coef_init: np.ndarray | None = None,
               max_iter: int = 1000, tol: float = 1e-4, random: bool = False, seed: int = 0,
               parallel: bool | None = None, store_coefs: bool = True, on_solution=None,
               verbose: int = 0, within_l1: float = 0.0) -> BlockPath:
    """Warm-started fits at each of ``alphas`` (largest first), as
    :func:`fastl1.path.fit_path`: ``on_solution(i, W)`` sees each solution; one
    ConvergenceWarning sums up the alphas that did not converge."""
    W = np.zeros((Y.shape[0], problem.n_features), dtype=problem.dtype)
    if coef_init is not None:
        W[:] = coef_init
    free = block_free(problem, structure, Y)
    reference = block_reference(problem, Y.shape[0])
    dual_gaps = np.empty(alphas.shape[0])
    n_iters, supports, values, failures = [], [], [], []
    with blas_on_one_thread():
        for i, alpha in enumerate(alphas):
            result = solve_block(problem, Y, W, alpha, l1_ratio, structure, max_iter=max_iter,
                                 tol=tol, random=random, seed=seed + i, parallel=parallel,
                                 warn=False, free=free, within_l1=within_l1,
                                 reference=reference)
            dual_gaps[i] = result.dual_gap
            n_iters.append(result.n_iter)
            if not result.converged:
                failures.append((alpha, result.dual_gap))
            if store_coefs:
                support = np.flatnonzero(np.any(W != 0.0, axis=0))
                supports.append(support)
                values.append(W[:, support].copy())
            if on_solution is not None:
                on_solution(i, W)
            if verbose > 1:
                print(f"Path: {i + 1:03d} out of {alphas.shape[0]:03d}, alpha={alpha:.4g}, "
                      f"gap={result.dual_gap:.2e}")
            elif verbose:
                sys.stderr.write(".")
    if failures:
        worst_alpha, worst_gap = max(failures, key=lambda item: item[1])
        warn_user(f"Objective did not converge for {len(failures)} of {alphas.shape[0]} "
                  f"alphas within max_iter={max_iter} epochs each; the largest duality gap is "
                  f"{worst_gap:.3e} at alpha={worst_alpha:.4g}. Increase max_iter or tol, or "
                  "stop the grid at a larger alpha (eps).", ConvergenceWarning)
    return BlockPath(alphas, supports, values, dual_gaps, n_iters, problem.n_features)


# --- cross-validation jobs ---------------------------------------------------------------


def block_path_job(X, Y, sample_weight, fit_intercept: bool, alphas: np.ndarray,
                   l1_ratio: float, structure: GroupStructure, options: dict):
    """A job computing the path on all rows (the final models) and the targets' means."""
    return functools.partial(_block_path_all, X, Y, sample_weight, fit_intercept, alphas,
                             l1_ratio, structure, options)


def _block_path_all(X, Y, sample_weight, fit_intercept, alphas, l1_ratio, structure, options):
    problem = make_problem(X, sample_weight, fit_intercept, parallel=False)
    Y_centred, y_mean = problem.centre_target(Y)
    path = block_path(problem, task_major(Y_centred), alphas, l1_ratio, structure,
                      parallel=False, **options)
    return path, y_mean, problem.x_mean


def block_fold_job(X, Y, sample_weight, train: np.ndarray, test: np.ndarray,
                   fit_intercept: bool, alphas: np.ndarray, l1_ratio: float,
                   structure: GroupStructure, options: dict):
    """A job returning the test fold's mean squared error (over rows, weighted by their
    sample weights, and tasks) at each alpha; ``X`` kernel-ready (F-ordered or CSC)."""
    return functools.partial(_block_fold, X, Y, sample_weight, train, test, fit_intercept,
                             alphas, l1_ratio, structure, options)


def _block_fold(X, Y, sample_weight, train, test, fit_intercept, alphas, l1_ratio, structure,
                options) -> np.ndarray:
    sw_train = None if sample_weight is None else sample_weight[train]
    problem = make_problem(fold_rows(X, train), sw_train, fit_intercept, parallel=False)
    Y_centred, y_mean = problem.centre_target(Y[train])
    X_test = X[test]
    if sp.issparse(X_test):
        X_test = X_test.tocsc()
    Y_test = np.asarray(Y[test], dtype=np.float64).reshape(test.shape[0], -1)
    sw_test = np.ones(test.shape[0]) if sample_weight is None else \
        np.asarray(sample_weight[test], dtype=np.float64)
    mse = np.empty(alphas.shape[0])
    x_mean = np.asarray(problem.x_mean, dtype=np.float64)

    def score(i, W):
        support = np.flatnonzero(np.any(W != 0.0, axis=0))
        coef = np.asarray(W[:, support], dtype=np.float64)
        intercept = np.asarray(y_mean, dtype=np.float64).reshape(-1) - coef @ x_mean[support]
        prediction = np.asarray(X_test[:, support] @ coef.T, dtype=np.float64) + intercept
        errors = ((Y_test - prediction) ** 2).mean(axis=1)
        mse[i] = float(np.sum(sw_test * errors) / np.sum(sw_test))

    block_path(problem, task_major(Y_centred), alphas, l1_ratio, structure, parallel=False,
               store_coefs=False, on_solution=score, **options)
    return mse
