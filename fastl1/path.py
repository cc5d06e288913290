"""Regularisation paths: the alpha grid and warm-started fits along it.

:func:`fit_path` is the squared loss's path, on the plan's loop
(:func:`fastl1._path_plan.trace_path`): every alpha starts from the previous solution, and the
working-set solver carries the support forward (the first round of each alpha ranks every
feature by its KKT violation at the new alpha, which is the sequential strong rule of Tibshirani
et al., JRSS-B 2012, followed by the full KKT/gap check it needs). Paths of the public API
(:func:`lasso_path`, :func:`enet_path`) and every cross-validated estimator go through it.
"""

from __future__ import annotations

import functools
import numbers
import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from . import _dask
from ._blas import blas_on_one_thread
from ._deprecation import resolve_alphas
from ._feature_penalty import FeaturePenalty, check_feature_penalty
from ._interrupt import interruptible
from ._kernels.working_set import nonzero_entries
from ._path_plan import Point, trace_path
from ._solver import (
    GradientReference,
    Problem,
    alpha_max,
    make_problem,
    resolve_gram,
    solve_enet,
)
from ._threads import claims_threads
from ._validation import (
    _check_bool,
    _check_choice,
    _check_int,
    _check_real,
    check_design,
    check_precompute,
    check_target_scale,
    check_weights,
)
from ._warn import warn_user

__all__ = ["enet_path", "lasso_path"]

_RESOLUTION = np.finfo(np.float64).resolution


def alpha_grid(problem: Problem, y_centred: np.ndarray, *, l1_ratio: float = 1.0,
               n_alphas: int = 100, eps: float = 1e-3, positive: bool = False,
               penalty: FeaturePenalty | None = None) -> np.ndarray:
    """Log-spaced grid from ``alpha_max`` down to ``eps * alpha_max`` (largest first).

    scikit-learn's grid, with ``alpha_max`` computed from the weighted, centred problem (so
    sample weights count, unlike older scikit-learn releases). A problem whose correlations
    all vanish gets a grid of ``finfo(float64).resolution`` as scikit-learn does.
    ``penalty`` (factors and bounds) enters ``alpha_max`` (:func:`._solver.alpha_max`).
    """
    if l1_ratio == 0:
        raise ValueError("An automatic alpha grid needs l1_ratio > 0 (alpha_max is infinite "
                         "for ridge); pass an explicit array of alphas.")
    top = alpha_max(problem, y_centred, l1_ratio, positive, penalty)
    if top <= _RESOLUTION:
        return np.full(n_alphas, _RESOLUTION)
    return np.geomspace(top, top * eps, num=n_alphas)


def check_alpha_array(alphas) -> np.ndarray:
    """A user's alphas as a 1-D float64 array sorted largest first; finite and >= 0.

    Only real numbers count: strings (``"1"``), booleans and complex values are refused even
    where NumPy would convert them, and a scalar is not an array of alphas (an int is a grid
    size, handled before this)."""
    if isinstance(alphas, (str, bytes)) or np.ndim(alphas) == 0:
        raise TypeError(f"alphas must be an int (grid size) or an array of alphas, got "
                        f"{alphas!r} ({type(alphas).__name__}).")
    raw = np.asarray(alphas) if hasattr(alphas, "__array__") else \
        np.asarray(alphas, dtype=object)
    if raw.dtype.kind == "O":  # a list or tuple: look at each value's own type
        bad = [value for value in raw.ravel()
               if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)]
        if bad:
            raise TypeError("alphas must be real numbers (not strings or booleans), got "
                            f"{bad[0]!r} ({type(bad[0]).__name__}) in {alphas!r}.")
    elif raw.dtype.kind not in "iuf":
        raise TypeError("alphas must be real numbers (not strings or booleans), got an "
                        f"array of dtype {raw.dtype}.")
    values = np.atleast_1d(np.asarray(raw, dtype=np.float64))
    if values.ndim != 1 or values.shape[0] == 0:
        raise ValueError(f"alphas must be a non-empty 1-D array, got shape {values.shape}.")
    if not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("alphas must be finite and >= 0.")
    return np.sort(values)[::-1].copy()


@dataclass
class PathResult:
    """Solutions along a path: ``coefs`` has one column per alpha (largest alpha first)."""

    alphas: np.ndarray
    coefs: sp.csc_matrix | None  # (n_features, n_alphas), None when not stored
    dual_gaps: np.ndarray  # in the estimator's scale (divided by n_samples)
    n_iters: list


def check_feature_vector(name: str, values, problem) -> np.ndarray:
    """A user's per-feature vector (``Xy``, ``coef_init``) as a flat array of the problem's
    dtype: one finite entry per feature, or a clear error."""
    values = np.asarray(values, dtype=problem.dtype).reshape(-1)
    if values.shape[0] != problem.n_features:
        raise ValueError(f"{name} has {values.shape[0]} entries, expected "
                         f"{problem.n_features}.")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinity.")
    return values


def _weighted_norm2(v: np.ndarray, sample_weight: np.ndarray) -> float:
    """``sum_i s_i v_i^2`` in float64 (``s`` empty: unit weights)."""
    v = np.asarray(v, dtype=np.float64)
    if sample_weight.shape[0] == 0:
        return float(v @ v)
    return float(sample_weight @ (v * v))


def _objective_share(problem: Problem, y_centred: np.ndarray, coef: np.ndarray, alpha: float,
                     l1_ratio: float, penalty: FeaturePenalty | None, gram, xty,
                     y_norm2: float) -> float:
    """``_OBJECTIVE_MULTIPLE`` times the objective at ``coef`` over ``||y_c||^2 / n``, at
    most 1: the share of scikit-learn's bound ``tol ||y_c||^2 / n`` that the next path
    point's duality gap must be below.

    scikit-learn's bound is relative to the objective at ``alpha_max`` (half of
    ``||y_c||^2 / n``) and, at the small-alpha end where the objective is a small fraction
    of it, lets the solutions be percents above the optimum (glmnet's default stops within a
    few tenths of a percent there). The objective decreases along the path, so the previous
    point's bounds the next one's: deep in the path each point's gap is below ``tol`` times
    five times its predecessor's objective, a relative rule (``5e-4`` at the default
    ``tol``). The residual comes from the Gram matrix, or from the product of the support's
    columns of X.
    """
    if not y_norm2 > 0.0:
        return 1.0
    if gram is not None:
        support = np.flatnonzero(coef)
        w = coef[support].astype(np.float64)
        fit = float(w @ xty[support])
        residual2 = y_norm2 - 2.0 * fit + float(w @ (gram[np.ix_(support, support)] @ w))
    else:  # the support's columns only (the reference's residual may be some alphas old)
        support = np.flatnonzero(coef)
        w = coef[support].astype(np.float64)
        fitted = np.asarray(problem.X[:, support] @ w, dtype=np.float64).ravel() - float(
            problem.x_mean[support] @ w)
        residual2 = _weighted_norm2(y_centred - fitted, problem.sample_weight)
    factor = 1.0 if penalty is None else penalty.factor
    w = coef.astype(np.float64)
    n = problem.n_samples
    penalised = alpha * n * float(np.sum(factor * (l1_ratio * np.abs(w)
                                                   + 0.5 * (1.0 - l1_ratio) * w * w)))
    objective_share = 0.5 * (max(residual2, 0.0) + 2.0 * penalised) / y_norm2
    return min(1.0, max(_OBJECTIVE_MULTIPLE * objective_share, 1e-12))


_ROUNDING_ULPS = 16  # the smallest gap a path point is asked for, in ulps of ||y_c||^2
# A path point's gap bound, relative to the previous point's objective (times tol): 5 keeps
# the default tol=1e-4 paths within 1e-3 of the optimum relatively (the previous objective
# is above the point's own), below glmnet's default errors on the bench's paths.
_OBJECTIVE_MULTIPLE = 5.0


@interruptible
@claims_threads
def fit_path(problem: Problem, y_centred: np.ndarray, alphas: np.ndarray, l1_ratio: float, *,
             coef_init: np.ndarray | None = None, positive: bool = False,
             penalty: FeaturePenalty | None = None, max_iter: int = 1000,
             tol: float = 1e-4, random: bool = False, seed: int = 0,
             gram: np.ndarray | None = None, xty: np.ndarray | None = None,
             parallel: bool | None = None, store_coefs: bool = True,
             on_solution: Callable[[int, np.ndarray], None] | None = None,
             on_point: Callable[[int, Point], None] | None = None,
             verbose: int = 0) -> PathResult:
    """Warm-started elastic-net fits at each of ``alphas`` (largest first).

    ``on_solution(i, coef)`` is called with each solution (cross-validation scores the test
    fold there, so folds need not keep their coefficients: ``store_coefs=False``). One
    :class:`~sklearn.exceptions.ConvergenceWarning` sums up the alphas that did not converge.
    Each point's duality gap is below ``tol`` times the smaller of ``||y_c||^2 / n`` and ten
    times the previous point's objective (:func:`_objective_share`). The loop is the plan's
    (:func:`fastl1._path_plan.trace_path`); :class:`_EnetPoints` fits each point.
    """
    n_alphas = alphas.shape[0]
    points = _EnetPoints(problem, y_centred, l1_ratio, coef_init, positive, penalty, max_iter,
                         tol, random, seed, gram, xty, parallel)
    stored = _SparseColumns(problem.dtype) if store_coefs else None
    callbacks = [stored] if store_coefs else []
    callbacks += [lambda i, point: on_solution(i, point.coef)] if on_solution else []
    callbacks += [on_point] if on_point is not None else []
    if verbose:
        callbacks.append(functools.partial(_report_point, alphas, verbose))

    def each_point(i: int, point: Point) -> None:
        for call in callbacks:
            call(i, point)

    with blas_on_one_thread():  # small BLAS solves only (see ElasticNet.fit)
        trace = trace_path(points, alphas, each_point)
    if verbose == 1:
        sys.stderr.write("\n")
    if trace.failures:
        worst_alpha, worst_gap = max(trace.failures, key=lambda item: item[1])
        warn_user(
            f"Objective did not converge for {len(trace.failures)} of {n_alphas} alphas "
            f"within max_iter={max_iter} epochs each; the largest duality gap is "
            f"{worst_gap:.3e} at alpha={worst_alpha:.4g} (tolerance {tol:g} relative to the "
            "smaller of ||y_c||^2/n and five times the previous alpha's objective). Increase "
            "max_iter or tol, or stop the grid at a larger alpha (eps).",
            ConvergenceWarning)
    coefs = None if stored is None else stored.matrix(problem.n_features)
    return PathResult(alphas, coefs, trace.gaps, trace.n_iters)


class _SparseColumns:
    """Collects each point's non-zero coefficients into one CSC matrix (a column a point)."""

    def __init__(self, dtype):
        self.dtype = dtype
        self.indices, self.values, self.indptr = [], [], [0]

    def __call__(self, i: int, point: Point) -> None:
        support, nonzeros = nonzero_entries(point.coef)
        self.indices.append(support)
        self.values.append(nonzeros)
        self.indptr.append(self.indptr[-1] + support.shape[0])

    def matrix(self, n_features: int) -> sp.csc_matrix:
        values = np.concatenate(self.values) if self.values else np.empty(0, self.dtype)
        indices = np.concatenate(self.indices) if self.indices else np.empty(0, np.int64)
        return sp.csc_matrix((values, indices, self.indptr),
                             shape=(n_features, len(self.indptr) - 1))


def _report_point(alphas: np.ndarray, verbose: int, i: int, point: Point) -> None:
    """A dot per point (``verbose=1``) or a line (``verbose > 1``)."""
    if verbose > 1:
        print(f"Path: {i + 1:03d} out of {alphas.shape[0]:03d}, alpha={alphas[i]:.4g}, "
              f"non-zeros={np.count_nonzero(point.coef)}, gap={point.gap:.2e}")
    else:
        sys.stderr.write(".")


class _EnetPoints:
    """The elastic-net fit of each path point, warm-started: the previous solution, the last
    exact gradient (an alpha computes only the correlations it cannot bound from it) and a
    gap bound relative to the previous point's objective carry over."""

    def __init__(self, problem, y_centred, l1_ratio, coef_init, positive, penalty, max_iter,
                 tol, random, seed, gram, xty, parallel):
        self.problem, self.y_centred, self.l1_ratio = problem, y_centred, l1_ratio
        self.positive, self.penalty, self.max_iter, self.tol = positive, penalty, max_iter, tol
        self.random, self.seed, self.gram, self.xty = random, seed, gram, xty
        self.parallel = parallel
        self.coef = np.zeros(problem.n_features, dtype=problem.dtype)
        if coef_init is not None:  # (validated by the callers: check_feature_vector)
            self.coef[:] = coef_init
        self.y_norm2 = _weighted_norm2(y_centred, problem.sample_weight)
        self.point_tol = tol
        self.reference = GradientReference.at_zero(problem, y_centred, parallel) \
            if gram is None and not self.coef.any() else GradientReference.empty(problem)

    def __call__(self, i: int, alpha: float) -> Point:
        problem, coef, tol = self.problem, self.coef, self.tol
        result = solve_enet(problem, self.y_centred, coef, alpha, self.l1_ratio,
                            positive=self.positive, penalty=self.penalty,
                            max_iter=self.max_iter, tol=self.point_tol, random=self.random,
                            seed=self.seed + i, gram=self.gram, xty=self.xty,
                            parallel=self.parallel, warn=False, reference=self.reference)
        # (not below the dtype's rounding of the gap, which no fit could reach)
        self.point_tol = max(tol * _objective_share(problem, self.y_centred, coef, alpha,
                                                    self.l1_ratio, self.penalty, self.gram,
                                                    self.xty, self.y_norm2),
                             min(tol, _ROUNDING_ULPS * np.finfo(problem.dtype).eps))
        return Point(coef, None, result.dual_gap, result.n_iter, result.converged)


def enet_path(X, y, *, l1_ratio: float = 0.5, eps: float = 1e-3, n_alphas="deprecated",
              alphas=100, precompute="auto", Xy=None, copy_X: bool = True, coef_init=None,
              verbose: bool | int = False, return_n_iter: bool = False,
              positive: bool = False, check_input: bool = True, fit_intercept: bool = False,
              sample_weight=None, tol: float = 1e-4, max_iter: int = 1000,
              random_state=None, selection: str = "cyclic", penalty_factor=None,
              lower_bounds=None, upper_bounds=None):
    """Elastic-net regularisation path by warm-started coordinate descent.

    scikit-learn's :func:`~sklearn.linear_model.enet_path`: the same objective, grid,
    arguments and return values, for dense, CSC and CSR ``X`` in float32 or float64.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Not centred unless ``fit_intercept=True`` (as scikit-learn, which fits no intercept
        here). Never copied or modified (CSR is converted once to CSC).
    y : array-like of shape (n_samples,) or (n_samples, 1)
    l1_ratio : float, default=0.5
        Mix of L1 (1.0) and L2 penalties, in ``(0, 1]`` for an automatic grid.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``.
    n_alphas : int, deprecated
        Old spelling of ``alphas=<int>``; still accepted with a warning.
    alphas : int or array-like, default=100
        Grid size, or the alphas themselves (sorted largest first in the output).
    precompute : bool, 'auto' or array of shape (n_features, n_features), default='auto'
        Gram-matrix (covariance) updates; ``'auto'`` uses them when ``n_samples >
        n_features``. Ignored for sparse X.
    Xy : array-like of shape (n_features,), default=None
        ``X^T y``, used with a precomputed Gram matrix.
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    coef_init : array-like of shape (n_features,), default=None
        Starting point for the first alpha.
    verbose : bool or int, default=False
        ``1`` prints a dot per alpha, ``2`` a line per alpha.
    return_n_iter : bool, default=False
        Also return the epochs used at each alpha.
    positive : bool, default=False
        Constrain coefficients to be non-negative.
    check_input : bool, default=True
        Accepted for compatibility; input is always validated.
    fit_intercept : bool, default=False
        fastl1 extension: fit an unpenalised intercept by implicit centring (the intercepts
        are ``y_mean - X_mean @ coefs``).
    sample_weight : array-like of shape (n_samples,), default=None
        Weights, rescaled to sum to ``n_samples`` as in the estimators.
    tol : float, default=1e-4
        Duality-gap tolerance at each alpha, relative to the objective: each point's gap is
        below ``tol`` times the smaller of ``||y_c||^2 / n`` (scikit-learn's bound, twice the
        objective at ``alpha_max``) and five times the previous point's objective, so the
        solutions at the small-alpha end stay within about ``5 tol`` of the optimum
        relatively (scikit-learn's rule lets them be percents above it).
    max_iter, random_state, selection
        As in :class:`fastl1.ElasticNet`, applied at each alpha.
    penalty_factor, lower_bounds, upper_bounds
        Per-feature penalty factors and coefficient bounds, as in
        :class:`fastl1.ElasticNet`; the automatic grid starts at the ``alpha_max`` they give
        (unpenalised features fitted first, as glmnet).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas), or (1, n_features, n_alphas) for 2-D y
    dual_gaps : ndarray of shape (n_alphas,)
        Duality gap at each alpha, in the objective's scale.
    n_iters : list of int
        Only with ``return_n_iter=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import lasso_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((30, 8))
    >>> y = X[:, 0] - 2 * X[:, 3]
    >>> alphas, coefs, gaps = lasso_path(X, y, alphas=5)
    >>> coefs.shape
    (8, 5)
    >>> [int(np.count_nonzero(coefs[:, k])) for k in range(5)]
    [0, 2, 2, 2, 2]
    """
    alphas = resolve_alphas(alphas, n_alphas)
    _check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    _check_real("eps", eps, low=0.0)
    if eps <= 0:
        raise ValueError(f"eps must be > 0, got {eps!r}.")
    _check_real("tol", tol, low=0.0)
    _check_int("max_iter", max_iter, low=1)
    _check_choice("selection", selection, ("cyclic", "random"))
    for name, flag in (("positive", positive), ("fit_intercept", fit_intercept),
                       ("copy_X", copy_X), ("return_n_iter", return_n_iter),
                       ("check_input", check_input)):
        _check_bool(name, flag)
    check_precompute(precompute)
    feature_penalty_given = not (penalty_factor is None and lower_bounds is None
                                 and upper_bounds is None)
    if _dask.dask_input(X, y, sample_weight):
        if feature_penalty_given:
            raise ValueError("penalty_factor, lower_bounds and upper_bounds are not "
                             "supported with Dask arrays; compute X first.")
        # (fit from statistics: X stays on the cluster)
        return _dask.enet_path(
            X, y, l1_ratio=l1_ratio, eps=eps, alphas=alphas, precompute=precompute, Xy=Xy,
            coef_init=coef_init, verbose=verbose, return_n_iter=return_n_iter,
            positive=positive, fit_intercept=fit_intercept, sample_weight=sample_weight,
            tol=tol, max_iter=max_iter, random_state=random_state, selection=selection)
    X, y = check_design(None, X, y)
    multi_output = y.ndim == 2
    if multi_output:
        if y.shape[1] != 1:
            raise ValueError(
                "enet_path fits one target; for several targets call it once per column "
                f"of y (got y of shape {y.shape}). The multi-task (group) lasso is not "
                "implemented in fastl1.")
        y = y[:, 0]
    sample_weight = check_weights(sample_weight, X)
    penalty = check_feature_penalty(penalty_factor, lower_bounds, upper_bounds, X.shape[1],
                                    positive=positive, l1_ratio=l1_ratio)
    problem = make_problem(X, sample_weight, fit_intercept)
    y_centred, _ = problem.centre_target(y)
    check_target_scale(y_centred)
    if isinstance(alphas, int):
        grid = alpha_grid(problem, y_centred, l1_ratio=l1_ratio, n_alphas=alphas, eps=eps,
                          penalty=penalty)
    else:
        grid = check_alpha_array(alphas)
    gram = resolve_gram(precompute, problem)
    xty = None
    if gram is not None:
        xty = problem.xt_weighted(y_centred)
        if Xy is not None and not (fit_intercept or problem.sample_weight.shape[0]):
            xty = check_feature_vector("Xy", Xy, problem)
    if coef_init is not None:
        coef_init = check_feature_vector("coef_init", coef_init, problem)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    result = fit_path(problem, y_centred, grid, l1_ratio, coef_init=coef_init,
                      penalty=penalty, max_iter=max_iter, tol=tol,
                      random=selection == "random", seed=seed, gram=gram, xty=xty,
                      verbose=int(verbose))
    coefs = result.coefs.toarray()
    if multi_output:
        coefs = coefs[np.newaxis]
    if return_n_iter:
        return grid, coefs, result.dual_gaps, result.n_iters
    return grid, coefs, result.dual_gaps


def lasso_path(X, y, *, eps: float = 1e-3, n_alphas="deprecated", alphas=100,
               precompute="auto", Xy=None, copy_X: bool = True, coef_init=None,
               verbose: bool | int = False, return_n_iter: bool = False,
               positive: bool = False, **params):
    """Lasso regularisation path: :func:`enet_path` with ``l1_ratio=1``.

    scikit-learn's :func:`~sklearn.linear_model.lasso_path`; ``params`` are passed on to
    :func:`enet_path` (``fit_intercept``, ``sample_weight``, ``tol``, ``max_iter``,
    ``random_state``, ``selection``, ``check_input``).

    Returns
    -------
    alphas, coefs, dual_gaps[, n_iters]
        As :func:`enet_path`.
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                     **params)
