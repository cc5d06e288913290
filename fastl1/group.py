"""Group lasso: whole groups of features enter or leave the model together.

The objective::

    1 / (2 n) ||y - X w - b||^2
        + alpha sum_g v_g (l1_ratio ||w_g||_2 + (1 - l1_ratio) / 2 ||w_g||_2^2)

with ``w_g`` the coefficients of group ``g`` and ``v_g`` its weight (``sqrt(|g|)`` by
default, Yuan & Lin, JRSS-B 2006). Gene sets or pathways, or the dummy columns of a
categorical variable, are selected as units. It is the block coordinate-descent kernel
(:mod:`fastl1._kernels.block_cd`) with one block per group and one task; a 2-D ``y`` gives
the multi-task group lasso (one block per group across all tasks). A within-group L1
(``within_l1``) gives the sparse group lasso; :class:`GroupLogisticRegression` fits the binary
logistic loss by proximal Newton steps over the same kernel; :func:`plot_group_path` draws
each group's norm along a path.
"""

from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import validate_data

from . import _path_plan as plan
from ._blas import blas_on_one_thread
from ._deprecation import resolve_alphas
from ._groups import (
    block_alpha_grid,
    block_free,
    block_path,
    block_reference,
    group_structure,
    solve_block,
    task_major,
)
from ._solver import make_problem, to_csc
from ._validation import (
    _check_bool,
    _check_choice,
    _check_int,
    _check_real,
    check_design,
    check_sparse_structure,
    check_target_scale,
    check_weights,
)
from ._warn import warn_user
from .cv import fold_rows, fold_std_error, one_standard_error_index, split
from .linear_model import _LinearPredictor
from .logistic import _refit_intercept
from .multitask import cross_validate_blocks, fit_blocks
from .path import check_alpha_array

__all__ = ["GroupLasso", "GroupLassoCV", "GroupLogisticRegression",
           "GroupLogisticRegressionCV", "group_lasso_path", "group_logistic_path",
           "plot_group_path"]

_GROUPS_DOC = """groups : int, list or array-like, default=None
        The partition of the features: an int (contiguous groups of that size), a list of
        group sizes (contiguous groups in order: ``[3, 2]`` is features 0-2 and 3-4), a list
        of index arrays (``[[0, 4], [1, 2, 3]]``), or one label per feature (groups sorted by
        label). Every feature must be in exactly one group. None: each feature its own
        group (the lasso)."""


def _check_within(within_l1, l1_ratios) -> None:
    _check_real("within_l1", within_l1, low=0.0)
    if within_l1 > 0 and min(l1_ratios) == 0:
        raise ValueError("within_l1 > 0 (the sparse group lasso) needs l1_ratio > 0.")


def _structure(estimator, n_features: int):
    groups = estimator.groups
    if groups is None:
        groups = 1
    return group_structure(groups, estimator.group_weights, n_features)


def _single_task(estimator, W, intercept, y):
    """Store ``coef_`` and ``intercept_`` as 1-D and scalar for a 1-D ``y``."""
    if y.ndim == 1:
        estimator.coef_ = W[0]
        estimator.intercept_ = W.dtype.type(intercept[0])
    else:
        estimator.coef_ = W
        estimator.intercept_ = intercept


class GroupLasso(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    __doc__ = f"""Linear regression with a group-lasso penalty (sparse in whole groups).

    Minimises ``1 / (2 n) ||y - X w - b||^2 + alpha sum_g v_g (l1_ratio ||w_g||_2 + (1 -
    l1_ratio) / 2 ||w_g||_2^2)`` by block coordinate descent (a proximal step per group with
    its Lipschitz constant) on working sets of groups ranked by ``||X_g^T r|| / v_g``, with
    Anderson extrapolation, stopping on the duality gap of the full problem (below ``tol *
    ||y_c||^2 / n``). Dense, CSC and CSR ``X``, sample weights.

    Parameters
    ----------
    {_GROUPS_DOC}
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``.
    l1_ratio : float, default=1.0
        Mix of the group norm (1.0) and its square (0.0), in ``[0, 1]``.
    group_weights : float or array-like of shape (n_groups,), default=None
        Non-negative weight ``v_g`` of each group's penalty (0 leaves a group unpenalised);
        None: ``sqrt(group size)``.
    within_l1 : float, default=0.0
        Adds ``alpha * within_l1 * ||w||_1`` to the penalty: the sparse group lasso (Simon,
        Friedman, Hastie & Tibshirani, JCGS 2013), sparse within the selected groups too.
        Needs ``l1_ratio > 0``.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept (implicit centring).
    max_iter : int, default=1000
        Maximum number of epochs in all (an epoch is one pass over the working set).
    tol : float, default=1e-4
    warm_start : bool, default=False
    random_state : int, RandomState instance or None, default=None
        Seed for ``selection='random'``.
    selection : {{'cyclic', 'random'}}, default='cyclic'

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_tasks, n_features)
    intercept_ : float or ndarray of shape (n_tasks,)
    n_iter_ : int
    dual_gap_ : float
        Duality gap at the solution, in the objective's scale.
    groups_ : list of ndarray
        The features of each group.
    group_weights_ : ndarray of shape (n_groups,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import GroupLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 9))
    >>> y = X[:, 0] + X[:, 1] - X[:, 2] + 0.1 * rng.standard_normal(80)
    >>> model = GroupLasso(groups=3, alpha=0.1).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist()
    [0, 1, 2]
    """

    def __init__(self, groups=None, alpha=1.0, *, l1_ratio=1.0, group_weights=None,
                 within_l1=0.0, fit_intercept=True, max_iter=1000, tol=1e-4,
                 warm_start=False, random_state=None, selection="cyclic"):
        self.groups = groups
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.within_l1 = within_l1
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.selection = selection

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_within(self.within_l1, [self.l1_ratio])
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        for name in ("fit_intercept", "warm_start"):
            _check_bool(name, getattr(self, name))

    def _path_spec(self) -> GroupPath:
        """The group lasso's side of the path plan (:mod:`fastl1._path_plan`), with this
        model's options (validated): :class:`fastl1.StabilitySelection` selects whole groups
        through it."""
        self._check_params()
        return GroupPath(self.groups, self.group_weights, self.fit_intercept,
                         float(self.l1_ratio), float(self.within_l1), tol=float(self.tol),
                         max_iter=int(self.max_iter))

    def fit(self, X, y, sample_weight=None):
        """Fit the model by block coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to ``n_samples``.

        Returns
        -------
        self
        """
        self._check_params()
        X, y = check_design(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        structure = _structure(self, X.shape[1])
        Y = y.reshape(y.shape[0], -1)
        W, intercept, result = fit_blocks(self, X, Y, sample_weight, structure, self.l1_ratio)
        _single_task(self, W, intercept, y)
        self.dual_gap_ = float(result.dual_gap)
        self.n_iter_ = int(result.n_iter)
        self.groups_ = [structure.members(g).copy() for g in range(structure.n_groups)]
        self.group_weights_ = structure.weight.copy()
        return self


def group_lasso_path(X, y, groups=None, *, l1_ratio: float = 1.0, group_weights=None,
                     within_l1: float = 0.0, eps: float = 1e-3, alphas=100,
                     fit_intercept: bool = False, sample_weight=None, tol: float = 1e-4,
                     max_iter: int = 1000, coef_init=None, return_n_iter: bool = False,
                     verbose: bool | int = False):
    """Group-lasso regularisation path by warm-started block coordinate descent.

    The objective of :class:`GroupLasso` at each alpha of a grid (largest first), as
    :func:`fastl1.lasso_path` for the lasso.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Dense, CSC or CSR; never copied or modified (CSR is converted once to CSC).
    y : array-like of shape (n_samples,) or (n_samples, n_tasks)
    groups : int, list of int, list of array-like or array-like of labels, default=None
        The partition of the features, as in :class:`GroupLasso` (None: each feature its
        own group).
    l1_ratio : float, default=1.0
    group_weights : float or array-like of shape (n_groups,), default=None
        As in :class:`GroupLasso` (None: ``sqrt(group size)``).
    within_l1 : float, default=0.0
        The sparse group lasso's L1 share, as in :class:`GroupLasso`.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``.
    alphas : int or array-like, default=100
        Grid size, or the alphas themselves.
    fit_intercept : bool, default=False
        Fit an unpenalised intercept by implicit centring (as :func:`fastl1.lasso_path`).
    sample_weight : array-like of shape (n_samples,), default=None
    tol, max_iter
        As in :class:`GroupLasso`, at each alpha.
    coef_init : array-like of shape (n_features,) or (n_tasks, n_features), default=None
        Starting point for the first alpha.
    return_n_iter : bool, default=False
    verbose : bool or int, default=False

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas), or (n_tasks, n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
    n_iters : list of int
        Only with ``return_n_iter=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import group_lasso_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 6))
    >>> y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(50)
    >>> alphas, coefs, gaps = group_lasso_path(X, y, groups=[2, 2, 2], alphas=5)
    >>> coefs.shape
    (6, 5)
    """
    _check_real("eps", eps, low=0.0)
    _check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    _check_within(within_l1, [l1_ratio])
    _check_real("tol", tol, low=0.0)
    _check_int("max_iter", max_iter, low=1)
    _check_bool("fit_intercept", fit_intercept)
    X, y = check_design(None, X, y)
    sample_weight = check_weights(sample_weight, X)
    structure = group_structure(1 if groups is None else groups, group_weights, X.shape[1])
    problem = make_problem(X, sample_weight, fit_intercept)
    Y_centred, _ = problem.centre_target(y.reshape(y.shape[0], -1))
    check_target_scale(Y_centred)
    Yk = task_major(Y_centred)
    alphas = resolve_alphas(alphas, "deprecated")
    if isinstance(alphas, int):
        grid = block_alpha_grid(problem, Yk, structure, l1_ratio=l1_ratio, n_alphas=alphas,
                                eps=eps, within_l1=within_l1)
    else:
        grid = check_alpha_array(alphas)
    if coef_init is not None:
        coef_init = np.asarray(coef_init, dtype=problem.dtype).reshape(Yk.shape[0], -1)
        if coef_init.shape[1] != problem.n_features or not np.isfinite(coef_init).all():
            raise ValueError(f"coef_init must hold {problem.n_features} finite coefficients "
                             "per task.")
    path = block_path(problem, Yk, grid, l1_ratio, structure, coef_init=coef_init,
                      max_iter=max_iter, tol=tol, verbose=int(verbose), within_l1=within_l1)
    coefs = np.stack([path.coef(i) for i in range(grid.shape[0])], axis=-1)
    if y.ndim == 1:
        coefs = coefs[0]
    if return_n_iter:
        return grid, coefs, path.dual_gaps, path.n_iters
    return grid, coefs, path.dual_gaps


class GroupPath(plan.PathSpec):
    """The group lasso in the path plan (:mod:`fastl1._path_plan`): warm-started block
    coordinate-descent paths (the fits of :func:`group_lasso_path`), scored by the test rows'
    (weighted) mean squared error over the tasks.

    ``data`` is ``(X, Y, sample_weight)``: X kernel-ready (F-ordered or CSC, one object for
    every job) and the targets as ``(n_samples, n_tasks)``. ``partition`` and
    ``group_weights`` are the user's; :meth:`prepare` parses them into ``structure`` and
    ``feature_groups`` (the features of each group), which make stability selection count a
    group as selected when any of its coefficients is non-zero.
    """

    def __init__(self, partition, group_weights, fit_intercept: bool, l1_ratio: float,
                 within_l1: float = 0.0, *, tol: float = 1e-4, max_iter: int = 1000):
        self.partition, self.group_weights = partition, group_weights
        self.fit_intercept, self.l1_ratio = bool(fit_intercept), float(l1_ratio)
        self.within_l1, self.tol, self.max_iter = float(within_l1), float(tol), int(max_iter)
        self.structure = None

    def prepare(self, owner, X, y, sample_weight=None, groups=None):
        X, y = check_design(owner, X, y)
        sample_weight = check_weights(sample_weight, X)
        spec = copy.copy(self)
        spec.structure = group_structure(1 if self.partition is None else self.partition,
                                         self.group_weights, X.shape[1])
        spec.feature_groups = [spec.structure.members(g).copy()
                               for g in range(spec.structure.n_groups)]
        problem = make_problem(X, sample_weight, self.fit_intercept)
        Y = y.reshape(y.shape[0], -1)
        check_target_scale(problem.centre_target(Y)[0])
        return spec, (problem.X, Y, sample_weight)

    def row_weights(self, data):
        return data[2]

    def grid(self, data, alphas, eps):
        if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
            _check_int("alphas", alphas, low=1)
            problem, Yk, _ = self.rows(data, None)
            grid = block_alpha_grid(problem, Yk, self.structure, l1_ratio=self.l1_ratio,
                                    n_alphas=int(alphas), eps=eps, within_l1=self.within_l1)
        else:
            grid = check_alpha_array(alphas)
        return grid, grid

    def rows(self, data, rows):
        X, Y, sample_weight = data
        if rows is not None:
            X, Y = fold_rows(X, rows), Y[rows]
            sample_weight = None if sample_weight is None else sample_weight[rows]
        problem = make_problem(X, sample_weight, self.fit_intercept, parallel=False)
        Y_centred, y_mean = problem.centre_target(Y)
        return problem, task_major(Y_centred), np.asarray(y_mean, dtype=np.float64).reshape(-1)

    def path(self, fold, grid, on_point=None, store=True):
        """The fits of :func:`fastl1._groups.block_path` on the plan's loop: coefficients
        ``(n_tasks, n_features, n_points)`` and intercepts ``(n_tasks, n_points)``."""
        problem, Yk, y_mean = fold
        W = np.zeros((Yk.shape[0], problem.n_features), dtype=problem.dtype)
        free = block_free(problem, self.structure, Yk)
        reference = block_reference(problem, Yk.shape[0])
        coefs = np.zeros(W.shape + grid.shape) if store else None
        x_mean = np.asarray(problem.x_mean, dtype=np.float64)

        def fit_point(i, alpha):
            result = solve_block(problem, Yk, W, alpha, self.l1_ratio, self.structure,
                                 max_iter=self.max_iter, tol=self.tol, seed=i, parallel=False,
                                 warn=False, free=free, within_l1=self.within_l1,
                                 reference=reference)
            if store:
                coefs[..., i] = W
            return plan.Point(W, y_mean - W @ x_mean, result.dual_gap, result.n_iter,
                              result.converged)

        with blas_on_one_thread():
            trace = plan.trace_path(fit_point, grid, on_point)
        intercepts = None if coefs is None else \
            y_mean[:, None] - np.einsum("tpk,p->tk", coefs, x_mean)
        return plan.PathOutcome(coefs, intercepts, trace.gaps, trace.n_iters,
                                len(trace.failures), y_mean)

    def fold_scorer(self, data, fold, test, grid):
        return _GroupTestError(data, test, grid.shape[0])


class _GroupTestError(plan.FoldScorer):
    """The test rows' mean squared error (over tasks, rows weighted by their sample weights)
    of each solution, as :class:`GroupLassoCV` scores its folds."""

    def __init__(self, data, test, n_points):
        X, Y, sample_weight = data
        self.X_test, self.Y_test = X[test], np.asarray(Y[test], dtype=np.float64)
        self.weights = np.ones(test.shape[0]) if sample_weight is None else \
            np.asarray(sample_weight[test], dtype=np.float64)
        self.errors = np.empty(n_points)

    def __call__(self, i, point):
        prediction = np.asarray(self.X_test @ np.asarray(point.coef, dtype=np.float64).T,
                                dtype=np.float64) + point.intercept
        errors = ((self.Y_test - prediction) ** 2).mean(axis=1)
        self.errors[i] = float(np.sum(self.weights * errors) / np.sum(self.weights))

    def finish(self, path):
        return plan.FoldOutcome(self.errors, failures=path.failures)


class GroupLassoCV(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    __doc__ = f"""Group lasso with alpha (and l1_ratio) chosen by cross-validation, on threads.

    The plan of :class:`fastl1.ElasticNetCV` (one job per fold and one for the full-data
    path, through :func:`fastl1.cv.run_jobs`; results do not depend on ``n_jobs``) for the
    objective of :class:`GroupLasso`.

    Parameters
    ----------
    {_GROUPS_DOC}
    l1_ratio : float or list of float, default=1.0
        Penalty mix(es) to try, in ``(0, 1]`` with an automatic grid.
    group_weights : float or array-like of shape (n_groups,), default=None
    within_l1 : float, default=0.0
        The sparse group lasso's L1 share, as in :class:`GroupLasso`.
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    fit_intercept : bool, default=True
    max_iter : int, default=1000
    tol : float, default=1e-4
    cv : int, cross-validation generator or iterable, default=None
    verbose : bool or int, default=0
    n_jobs : int, default=None
    random_state : int, RandomState instance or None, default=None
    selection : {{'cyclic', 'random'}}, default='cyclic'
    alpha_rule : {{'min', '1se'}}, default='min'

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_, l1_ratio_ : float
    alphas_ : ndarray
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    coef_ : ndarray of shape (n_features,) or (n_tasks, n_features)
    intercept_ : float or ndarray of shape (n_tasks,)
    dual_gap_ : float
    n_iter_ : int
    groups_ : list of ndarray
    group_weights_ : ndarray of shape (n_groups,)

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import GroupLassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 12))
    >>> y = X[:, 0] - X[:, 1] + 0.1 * rng.standard_normal(80)
    >>> model = GroupLassoCV(groups=3, cv=3, alphas=10, alpha_rule="1se").fit(X, y)
    >>> [round(float(np.linalg.norm(model.coef_[g])), 2) for g in model.groups_]
    [1.38, 0.0, 0.01, 0.0]
    """

    def __init__(self, groups=None, *, l1_ratio=1.0, group_weights=None, within_l1=0.0,
                 eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000, tol=1e-4, cv=None,
                 verbose=0, n_jobs=None, random_state=None, selection="cyclic",
                 alpha_rule="min"):
        self.groups = groups
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.within_l1 = within_l1
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule

    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then keep the full-data model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_tasks)
        sample_weight : float or array-like of shape (n_samples,), default=None
        **params
            Passed to the splitter's ``split``.

        Returns
        -------
        self
        """
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=object))
        if ratios.ndim != 1 or ratios.shape[0] == 0:
            raise ValueError("l1_ratio must be a float or a non-empty list of floats.")
        for ratio in ratios:
            _check_real("l1_ratio", ratio, low=0.0, high=1.0)
        ratios = ratios.astype(np.float64)
        _check_within(self.within_l1, ratios)
        _check_real("eps", self.eps, low=0.0)
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}.")
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        _check_choice("alpha_rule", self.alpha_rule, ("min", "1se"))
        _check_bool("fit_intercept", self.fit_intercept)
        alphas = resolve_alphas(self.alphas, "deprecated")
        X, y = check_design(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        structure = _structure(self, X.shape[1])
        cross_validate_blocks(self, X, y, sample_weight, structure, alphas, ratios, params)
        _single_task(self, self.coef_, self.intercept_, y)
        self.groups_ = [structure.members(g).copy() for g in range(structure.n_groups)]
        self.group_weights_ = structure.weight.copy()
        return self


# Curvatures below this fraction of the largest are floored there (as fastl1._irls).
_CURVATURE_FLOOR = 1e-12
_LINE_SEARCH_STEPS = 30


def _log_loss(eta: np.ndarray, y: np.ndarray, sw: np.ndarray) -> float:
    """``sum_i sw_i (log(1 + exp(eta_i)) - y_i eta_i) / n``."""
    return float(np.sum(sw * (np.logaddexp(0.0, eta) - y * eta)) / y.shape[0])


def _group_penalty(coef: np.ndarray, structure, alpha: float, l1_ratio: float,
                   within_l1: float) -> float:
    norms = structure.block_norms(coef.reshape(1, -1))
    return float(alpha * (np.sum(structure.weight * (l1_ratio * norms
                                                     + 0.5 * (1 - l1_ratio) * norms ** 2))
                          + within_l1 * np.abs(coef).sum()))


def group_kkt_violation(grad: np.ndarray, coef: np.ndarray, structure, alpha: float,
                        l1_ratio: float, within_l1: float) -> float:
    """Largest distance of the datafit's negative gradient ``grad`` (objective's scale) to
    the group penalty's subdifferential, group by group: ``||S_{alpha within_l1}(g_g)|| -
    alpha l1_ratio v_g`` for a zero group, the distance to the subgradient for the others."""
    worst = 0.0
    for g in range(structure.n_groups):
        members = structure.members(g)
        w = coef[members]
        v = structure.weight[g]
        G = grad[members] - alpha * (1 - l1_ratio) * v * w
        norm = np.linalg.norm(w)
        if norm == 0.0:
            shrunk = np.maximum(np.abs(G) - alpha * within_l1, 0.0)
            worst = max(worst, np.linalg.norm(shrunk) - alpha * l1_ratio * v)
            continue
        target = alpha * l1_ratio * v * w / norm + alpha * within_l1 * np.sign(w)
        on = w != 0.0
        worst = max(worst, np.abs(G[on] - target[on]).max(initial=0.0),
                    (np.abs(G[~on]) - alpha * within_l1).max(initial=0.0))
    return worst


class GroupLogisticRegression(LinearClassifierMixin, BaseEstimator):
    __doc__ = f"""Binary logistic regression with a group-lasso penalty.

    Minimises ``1/n sum_i s_i (log(1 + exp(eta_i)) - y_i eta_i) + alpha sum_g v_g (l1_ratio
    ||w_g||_2 + (1 - l1_ratio) / 2 ||w_g||_2^2) + alpha within_l1 ||w||_1`` (``eta = X w +
    b``, ``y`` in {{0, 1}}, weights ``s`` rescaled to sum to ``n``) by proximal Newton steps
    (glmnet's iteratively reweighted least squares: Friedman, Hastie & Tibshirani, JSS 2010,
    sec. 3; Lee, Sun & Saunders, SIAM J. Optim. 2014): each quadratic model is a weighted
    group lasso solved by the block coordinate-descent kernel, followed by a backtracking line
    search on the true objective. Stops when the optimality conditions' largest violation
    (the block KKT violation, objective's scale) is below ``tol``. Dense, CSC and CSR ``X``.

    Parameters
    ----------
    {_GROUPS_DOC}
    alpha : float, default=1.0
    l1_ratio : float, default=1.0
    group_weights : float or array-like of shape (n_groups,), default=None
        None: ``sqrt(group size)``.
    within_l1 : float, default=0.0
        The sparse group lasso's L1 share, as in :class:`GroupLasso`.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Coordinate-descent epochs of all Newton steps together.
    tol : float, default=1e-6
    max_newton : int, default=100

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    n_iter_ : int
        Newton steps.
    kkt_violation_ : float
        The certificate the fit stopped on (of the returned coefficients and intercept).
    dual_gap_ : float
        Duality gap of the returned coefficients and intercept (objective's scale): the
        objective is within ``dual_gap_`` of its minimum. With an intercept, the intercept is
        first refitted exactly for the coefficients (the dual point's residuals then sum to
        zero), as :class:`fastl1.LogisticRegression` does. NaN when the gap is no certificate:
        an unpenalised group (``group_weights`` 0) without a within-group L1, whose dual
        constraint ``X_g^T theta = 0`` no scaled residual meets, or ``alpha == 0``; the fit
        then stands on ``kkt_violation_``.
    groups_ : list of ndarray
    group_weights_ : ndarray of shape (n_groups,)

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import GroupLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 12))
    >>> y = (X[:, 0] + X[:, 1] - X[:, 2] + 0.3 * rng.standard_normal(200) > 0).astype(int)
    >>> model = GroupLogisticRegression(groups=3, alpha=0.02).fit(X, y)
    >>> [bool(np.any(model.coef_[0, g] != 0)) for g in model.groups_]
    [True, False, False, False]
    """

    def __init__(self, groups=None, alpha=1.0, *, l1_ratio=1.0, group_weights=None,
                 within_l1=0.0, fit_intercept=True, max_iter=1000, tol=1e-6,
                 max_newton=100):
        self.groups = groups
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.group_weights = group_weights
        self.within_l1 = within_l1
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.max_newton = max_newton

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the model by proximal Newton steps.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two classes.
        sample_weight : float or array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        self._check_params()
        X, target, sw, self.classes_ = _binary_input(self, X, y, sample_weight)
        structure = _structure(self, X.shape[1])
        fit = _group_newton(X, target, sw, structure, self._strengths(), self.fit_intercept,
                            float(self.tol), int(self.max_iter), int(self.max_newton))
        self.coef_ = fit.coef.reshape(1, -1).astype(X.dtype)
        self.intercept_ = np.array([fit.intercept], dtype=X.dtype)
        self.n_iter_ = fit.steps
        self.kkt_violation_ = fit.violation
        self.dual_gap_ = fit.gap
        self.groups_ = [structure.members(g).copy() for g in range(structure.n_groups)]
        self.group_weights_ = structure.weight.copy()
        return self

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_within(self.within_l1, [self.l1_ratio])
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_int("max_newton", self.max_newton, low=1)
        _check_bool("fit_intercept", self.fit_intercept)

    def _strengths(self) -> tuple[float, float, float]:
        return float(self.alpha), float(self.l1_ratio), float(self.within_l1)

    def _path_spec(self) -> GroupLogisticPath:
        """The group logistic loss's side of the path plan (:mod:`fastl1._path_plan`), with
        this model's options (validated)."""
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_within(self.within_l1, [self.l1_ratio])
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_int("max_newton", self.max_newton, low=1)
        _check_bool("fit_intercept", self.fit_intercept)
        return GroupLogisticPath(self.groups, self.group_weights, self.fit_intercept,
                                 float(self.l1_ratio), float(self.within_l1),
                                 tol=float(self.tol), max_iter=int(self.max_iter),
                                 max_newton=int(self.max_newton))

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        from scipy.special import expit

        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict_log_proba(self, X):
        """Logarithms of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, 2)
        """
        from scipy.special import log_expit

        z = self.decision_function(X)
        return np.column_stack([log_expit(-z), log_expit(z)])


class GroupLogisticRegressionCV(GroupLogisticRegression):
    __doc__ = f"""Binary group logistic regression with alpha chosen by cross-validated
    deviance, on threads.

    The plan of :class:`fastl1.PoissonRegressionCV` (:func:`fastl1._path_plan.
    cross_validate`: one job per fold, which fits a warm-started path on its training rows
    and scores each alpha by the mean binomial deviance of its test rows, glmnet's
    ``cv.glmnet(family="binomial")``, and one job for the path on all rows, which supplies
    the final model) for the objective of :class:`GroupLogisticRegression`. Results do not
    depend on ``n_jobs``. Folds are stratified by class for an integer ``cv``.

    Parameters
    ----------
    {_GROUPS_DOC}
    l1_ratio, group_weights, within_l1, fit_intercept, max_iter, tol, max_newton
        As in :class:`GroupLogisticRegression`.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``.
    alphas : int or array-like, default=100
        Grid size (log-spaced from the alpha at which every penalised group is zero) or the
        alphas themselves.
    cv : int, cross-validation generator or iterable, default=None
        Folds (5 stratified folds by default).
    n_jobs : int, default=None
        Threads (-1: all cores), or the workers of the active joblib backend.
    alpha_rule : {{'min', '1se'}}, default='min'
        The alpha of least mean deviance, or the largest within one standard error of it.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_ : float
    alphas_ : ndarray of shape (n_alphas,)
    deviance_path_ : ndarray of shape (n_alphas, n_folds)
        Mean test deviance of each fold at each alpha.
    classes_, coef_, intercept_, dual_gap_, groups_, group_weights_
        As :class:`GroupLogisticRegression`, of the full-data model at ``alpha_``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import GroupLogisticRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((150, 9))
    >>> y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(150) > 0).astype(int)
    >>> model = GroupLogisticRegressionCV(groups=3, alphas=8, cv=3).fit(X, y)
    >>> [bool(np.any(model.coef_[0, g] != 0)) for g in model.groups_][0]
    True
    """

    def __init__(self, groups=None, *, l1_ratio=1.0, group_weights=None, within_l1=0.0,
                 eps=1e-3, alphas=100, fit_intercept=True, max_iter=1000, tol=1e-6,
                 max_newton=100, cv=None, n_jobs=None, alpha_rule="min"):
        super().__init__(groups, l1_ratio=l1_ratio, group_weights=group_weights,
                         within_l1=within_l1, fit_intercept=fit_intercept, max_iter=max_iter,
                         tol=tol, max_newton=max_newton)
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.n_jobs = n_jobs
        self.alpha_rule = alpha_rule

    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha by cross-validation, then keep the full-data model at it.

        Parameters
        ----------
        X : {{array-like, sparse matrix}} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Two classes.
        sample_weight : float or array-like of shape (n_samples,), default=None
        **params
            Passed to the splitter's ``split`` (e.g. ``groups`` of a group splitter).

        Returns
        -------
        self
        """
        _check_choice("alpha_rule", self.alpha_rule, ("min", "1se"))
        _check_real("eps", self.eps, low=0.0)
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}.")
        spec, data = self._path_spec().prepare(self, X, y, sample_weight)
        X, target, sw = data
        alphas, grid = spec.grid(data, resolve_alphas(self.alphas, "deprecated"), self.eps)
        folds = split(self.cv, X, target, classifier=True, weights=sw, **params)
        (run,) = plan.cross_validate([(spec, grid)], data, folds, self.n_jobs)
        if run.failures:
            warn_user(f"{run.failures} path fits did not converge within max_iter or "
                      "max_newton; increase them.", ConvergenceWarning)
        deviance = run.scores
        mean = deviance.mean(axis=1)
        best = int(np.argmin(mean))
        index_1se = one_standard_error_index(mean, fold_std_error(deviance))
        index = best if self.alpha_rule == "min" else index_1se
        full = run.full
        self.classes_ = spec.classes
        self.alphas_ = alphas
        self.deviance_path_ = deviance
        self.alpha_min_, self.alpha_1se_ = float(grid[best]), float(grid[index_1se])
        self.alpha_ = float(grid[index])
        self.coef_ = full.coefs[:, index].reshape(1, -1).astype(X.dtype)
        self.intercept_ = np.array([full.intercepts[index]], dtype=X.dtype)
        self.dual_gap_ = float(full.gaps[index])
        self.n_iter_ = int(full.n_iters[index])
        structure = spec.structure
        self.groups_ = [structure.members(g).copy() for g in range(structure.n_groups)]
        self.group_weights_ = structure.weight.copy()
        return self


@dataclass
class _NewtonFit:
    """A :func:`_group_newton` fit: the solution, its Newton steps and coordinate-descent
    epochs, and its certificates (objective's scale)."""

    coef: np.ndarray
    intercept: float
    steps: int
    epochs: int
    violation: float
    gap: float
    converged: bool


def _group_newton(X, y, sw, structure, strengths, fit_intercept: bool, tol: float,
                  max_iter: int, max_newton: int, coef=None, intercept=None,
                  warn: bool = True) -> _NewtonFit:
    """Proximal Newton for :class:`GroupLogisticRegression` from ``(coef, intercept)`` (None:
    the null model), ``strengths = (alpha, l1_ratio, within_l1)``; stops on the KKT
    violation, then certifies the solution (:func:`group_logistic_certificate`)."""
    n, p = X.shape
    alpha, l1_ratio, within = strengths
    if coef is None:
        coef = np.zeros(p)
        intercept = 0.0
        if fit_intercept:  # the null model
            mean = float(np.sum(sw * y) / n)
            intercept = float(np.log(max(mean, 1e-300) / max(1.0 - mean, 1e-300)))
    coef, intercept = np.array(coef, dtype=np.float64), float(intercept)
    eta = np.asarray(X @ coef, dtype=np.float64).ravel() + intercept
    objective = _log_loss(eta, y, sw)
    epochs = 0
    violation = np.inf
    steps = 0
    with blas_on_one_thread():
        for steps in range(1, max_newton + 1):  # noqa: B007 (reported)
            prob = 1.0 / (1.0 + np.exp(-eta))
            d2 = np.maximum(sw * prob * (1.0 - prob), 0.0)
            d2 = np.maximum(d2, _CURVATURE_FLOOR * max(float(d2.max()), 1e-300))
            total = float(d2.sum())
            working = eta - sw * (prob - y) / d2
            problem = make_problem(X, (d2 * (n / total)).astype(X.dtype), fit_intercept)
            centred, mean = problem.centre_target(working.astype(X.dtype))
            W = coef.astype(X.dtype).reshape(1, -1)
            inner_tol = min(1e-3, max(0.1 * violation if np.isfinite(violation) else 1e-3,
                                      tol * 1e-2, 1e-13))
            # The block solver's tol is relative to the working response's weighted norm,
            # which grows without bound as the fitted probabilities approach 0 or 1; the
            # quadratic model must be solved to an absolute accuracy in the objective's
            # scale (times n / total, the model's own scale), else it stops where it began.
            spread = float(np.sum((d2 * (n / total)) * centred.astype(np.float64) ** 2))
            relative = inner_tol * 0.1 * (n / total) / max(spread / n, 1e-300)
            result = solve_block(problem, task_major(centred), W, alpha * n / total, l1_ratio,
                                 structure, tol=min(max(relative, 1e-15), 1e-3), warn=False,
                                 within_l1=within, max_iter=max(max_iter - epochs, 1))
            epochs += result.n_iter
            trial = W[0].astype(np.float64)
            trial_intercept = float(mean - problem.x_mean.astype(np.float64) @ trial) \
                if fit_intercept else 0.0
            coef, intercept, eta, objective = _logistic_line_search(
                X, y, sw, structure, strengths, coef, intercept, objective, trial,
                trial_intercept)
            residual = sw * (y - 1.0 / (1.0 + np.exp(-eta)))
            grad = np.asarray(X.T @ residual, dtype=np.float64).ravel() / n
            violation = group_kkt_violation(grad, coef, structure, alpha, l1_ratio, within)
            if fit_intercept:
                violation = max(violation, abs(float(residual.sum())) / n)
            if violation <= tol or epochs >= max_iter:
                break
    converged = violation <= tol
    if not converged and warn:
        warn_user(f"GroupLogisticRegression did not converge: KKT violation {violation:.3e} "
                  f"after {steps} Newton steps (tol {tol:g}). Increase max_iter or "
                  "max_newton.", ConvergenceWarning)
    intercept, violation, gap = group_logistic_certificate(
        X, y, sw, coef, intercept, structure, strengths, fit_intercept)
    return _NewtonFit(coef, intercept, steps, epochs, violation, gap, converged)


def _xlogx(a: np.ndarray) -> np.ndarray:
    return np.where(a > 0.0, a * np.log(np.where(a > 0.0, a, 1.0)), 0.0)


def _dual_scale(Z: np.ndarray, structure, alpha: float, l1_ratio: float,
                within_l1: float) -> float:
    """The largest ``c <= 1`` for which ``c Z`` is in the domain of the group penalty's
    conjugate: ``||S_{alpha within_l1}(c Z_g)|| <= alpha l1_ratio v_g`` for each group
    without a ridge term (``S`` the soft thresholding; by bisection with a within-group
    L1). 0 when no positive ``c`` is feasible (an unpenalised group, no within-group L1 and
    a non-zero gradient)."""
    ridge = alpha * (1.0 - l1_ratio) * structure.weight
    limit = alpha * l1_ratio * structure.weight
    magnitude = np.abs(Z)
    group_of = np.repeat(np.arange(structure.n_groups), structure.sizes)
    label = np.empty(Z.shape[0], dtype=np.int64)
    label[structure.features] = group_of

    def feasible(c):
        shrunk = np.maximum(c[label] * magnitude - alpha * within_l1, 0.0)
        norms = np.sqrt(np.bincount(label, weights=shrunk ** 2,
                                    minlength=structure.n_groups))
        return (norms <= limit) | (ridge > 0.0)

    ones = np.ones(structure.n_groups)
    if feasible(ones).all():
        return 1.0
    if within_l1 == 0.0:
        norms = structure.block_norms(Z.reshape(1, -1))
        scale = np.divide(limit, norms, out=np.ones_like(norms), where=norms > 0.0)
        return float(np.min(np.where(ridge > 0.0, 1.0, np.minimum(scale, 1.0))))
    low, high = np.zeros(structure.n_groups), ones
    for _ in range(60):
        middle = 0.5 * (low + high)
        ok = feasible(middle)
        low, high = np.where(ok, middle, low), np.where(ok, high, middle)
    return float(np.min(low))


def _group_conjugate(Z: np.ndarray, structure, alpha: float, l1_ratio: float,
                     within_l1: float) -> float:
    """The group penalty's conjugate at ``Z`` (inside its domain: :func:`_dual_scale`):
    ``sum_g (||S_{alpha within_l1}(Z_g)|| - alpha l1_ratio v_g)_+^2 / (2 alpha (1 -
    l1_ratio) v_g)`` over the groups with a ridge term, 0 for the others."""
    shrunk = np.maximum(np.abs(Z) - alpha * within_l1, 0.0)
    norms = structure.block_norms(shrunk.reshape(1, -1))
    ridge = alpha * (1.0 - l1_ratio) * structure.weight
    excess = np.maximum(norms - alpha * l1_ratio * structure.weight, 0.0)
    terms = np.divide(excess ** 2, 2.0 * ridge, out=np.zeros_like(excess), where=ridge > 0.0)
    return float(terms.sum())


def group_logistic_certificate(X, y, sw, coef, intercept, structure, strengths,
                               fit_intercept: bool) -> tuple[float, float, float]:
    """``(intercept, KKT violation, duality gap)`` of ``coef``, objective's scale.

    With an intercept, it is first refitted exactly for ``coef`` (as
    :func:`fastl1.logistic._certificate`): the residuals then sum to zero, the dual
    constraint of an unpenalised intercept. The dual point is the residual scaled by ``c``
    (:func:`_dual_scale`), so that ``a_i = (1 - c) y_i + c p_i`` and the dual value is
    ``-1/n sum_i s_i (a_i log a_i + (1 - a_i) log(1 - a_i)) - Omega*(-c G)`` (``G`` the
    mean loss's gradient, ``Omega*`` the group penalty's conjugate: Ndiaye et al., JMLR
    2017). NaN when no positive ``c`` is feasible (an unpenalised group whose gradient is
    not zero, and no within-group L1) or ``alpha == 0``."""
    alpha, l1_ratio, within = strengths
    n = X.shape[0]
    offsets = np.asarray(X @ coef, dtype=np.float64).ravel()
    if fit_intercept:
        intercept = float(_refit_intercept(offsets[None], y, sw, np.array([intercept]))[0])
    eta = offsets + intercept
    prob = expit(eta)
    residual = sw * (y - prob)
    G = -np.asarray(X.T @ residual, dtype=np.float64).ravel() / n
    violation = group_kkt_violation(-G, coef, structure, alpha, l1_ratio, within)
    if fit_intercept:
        violation = max(violation, abs(float(residual.sum())) / n)
    c = _dual_scale(-G, structure, alpha, l1_ratio, within) if alpha > 0 else 0.0
    if c <= 0.0:
        return intercept, float(violation), np.nan
    primal = _log_loss(eta, y, sw) + _group_penalty(coef, structure, alpha, l1_ratio, within)
    a = (1.0 - c) * y + c * prob
    entropy = float(np.sum(sw * (_xlogx(a) + _xlogx(1.0 - a))) / n)
    dual = -entropy - _group_conjugate(-c * G, structure, alpha, l1_ratio, within)
    return intercept, float(violation), max(float(primal - dual), 0.0)


def _binary_input(owner, X, y, sample_weight):
    """Validated ``(X, target, sw, classes)`` of a binary group logistic fit: X dense
    F-ordered or CSC (what the block kernel reads, so that no Newton step converts it), the
    target in {0, 1} and the weights rescaled to sum to ``n_samples``."""
    name = type(owner).__name__
    check_sparse_structure(X)
    X, y = validate_data(owner, X, y, accept_sparse=["csc", "csr"],
                         accept_large_sparse=True, dtype=[np.float64, np.float32])
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    if y_type != "binary":
        raise ValueError("Only binary classification is supported. The type of the target "
                         f"is {y_type}.")
    classes = np.unique(y)
    if classes.shape[0] < 2:
        raise ValueError(f"{name} needs two classes; y has one class only "
                         f"({classes[0]!r}).")
    target = (y == classes[1]).astype(np.float64)
    sample_weight = check_weights(sample_weight, X)
    if sample_weight is not None and np.unique(y[sample_weight > 0]).shape[0] < 2:
        raise ValueError(f"{name} needs samples of both classes with positive "
                         "sample_weight; only one class has any.")
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else \
        np.asarray(sample_weight, dtype=np.float64) * (n / float(np.sum(sample_weight)))
    X = to_csc(X) if sp.issparse(X) else np.asfortranarray(X)
    return X, target, sw, classes


def _binomial_deviance(eta: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    """Mean binomial deviance ``2 sum_i w_i (log(1 + exp(eta_i)) - y_i eta_i) / sum w``."""
    return float(2.0 * np.sum(weights * (np.logaddexp(0.0, eta) - y * eta))
                 / np.sum(weights))


class GroupLogisticPath(plan.PathSpec):
    """The binary logistic loss with the group penalty in the path plan
    (:mod:`fastl1._path_plan`): paths of warm-started proximal Newton fits
    (:func:`_group_newton`), scored by the test rows' mean binomial deviance (glmnet's
    ``cv.glmnet(family="binomial")``).

    ``data`` is ``(X, target, sw)``: X dense F-ordered or CSC, the target in {0, 1} and the
    weights (rescaled to sum to ``n_samples``). :meth:`prepare` parses ``partition`` and
    ``group_weights`` into ``structure`` and ``feature_groups``.
    """

    def __init__(self, partition, group_weights, fit_intercept: bool, l1_ratio: float,
                 within_l1: float = 0.0, *, tol: float = 1e-6, max_iter: int = 1000,
                 max_newton: int = 100):
        self.partition, self.group_weights = partition, group_weights
        self.fit_intercept, self.l1_ratio = bool(fit_intercept), float(l1_ratio)
        self.within_l1, self.tol, self.max_iter = float(within_l1), float(tol), int(max_iter)
        self.max_newton = int(max_newton)
        self.structure = self.classes = None

    def prepare(self, owner, X, y, sample_weight=None, groups=None):
        X, target, sw, classes = _binary_input(owner, X, y, sample_weight)
        spec = copy.copy(self)
        spec.structure = group_structure(1 if self.partition is None else self.partition,
                                         self.group_weights, X.shape[1])
        spec.feature_groups = [spec.structure.members(g).copy()
                               for g in range(spec.structure.n_groups)]
        spec.classes = classes
        return spec, (X, target, sw)

    def row_weights(self, data):
        return data[2]

    def grid(self, data, alphas, eps):
        """From the smallest alpha at which the null model (intercept only) is the solution
        (the unpenalised groups, if any, fitted by least squares there) down to ``eps``
        times it."""
        if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
            _check_int("alphas", alphas, low=1)
            X, target, sw = data
            problem = make_problem(X, sw.astype(X.dtype), self.fit_intercept, parallel=False)
            # The null model's residual y - p: the intercept's centring gives the weighted
            # mean's; without one p = 1/2.
            shift = 0.0 if self.fit_intercept else 0.5
            residual, _ = problem.centre_target((target - shift).astype(X.dtype))
            grid = block_alpha_grid(problem, task_major(residual[:, None]), self.structure,
                                    l1_ratio=self.l1_ratio, n_alphas=int(alphas), eps=eps,
                                    within_l1=self.within_l1)
        else:
            grid = check_alpha_array(alphas)
        return grid, grid

    def rows(self, data, rows):
        X, target, sw = data
        if rows is None:
            return data
        weights = sw[rows]
        return fold_rows(X, rows), target[rows], weights * (rows.shape[0] / weights.sum())

    def path(self, fold, grid, on_point=None, store=True):
        """Fits along ``grid``, each from the previous solution: coefficients
        ``(n_features, n_points)``, intercepts ``(n_points,)``, duality gaps."""
        X, target, sw = fold
        coefs = np.zeros((X.shape[1], grid.shape[0]))
        intercepts = np.zeros(grid.shape[0])
        state = {"coef": None, "intercept": None}

        def fit_point(i, alpha):
            fit = _group_newton(X, target, sw, self.structure,
                                (float(alpha), self.l1_ratio, self.within_l1),
                                self.fit_intercept, self.tol, self.max_iter, self.max_newton,
                                coef=state["coef"], intercept=state["intercept"], warn=False)
            state["coef"], state["intercept"] = fit.coef, fit.intercept
            coefs[:, i], intercepts[i] = fit.coef, fit.intercept
            return plan.Point(fit.coef, fit.intercept, fit.gap, fit.steps, fit.converged)

        trace = plan.trace_path(fit_point, grid, on_point)
        return plan.PathOutcome(coefs, intercepts, trace.gaps, trace.n_iters,
                                len(trace.failures))

    def fold_scorer(self, data, fold, test, grid):
        return _GroupTestDeviance(data, test)


class _GroupTestDeviance(plan.FoldScorer):
    """The test rows' mean binomial deviance at each point of the training path."""

    def __init__(self, data, test):
        self.data, self.test = data, test

    def finish(self, path):
        X, target, sw = self.data
        test = self.test
        eta = np.asarray(X[test] @ path.coefs, dtype=np.float64) + path.intercepts
        scores = np.array([_binomial_deviance(eta[:, k], target[test], sw[test])
                           for k in range(path.coefs.shape[1])])
        return plan.FoldOutcome(scores, failures=path.failures)


def group_logistic_path(X, y, groups=None, *, l1_ratio: float = 1.0, group_weights=None,
                        within_l1: float = 0.0, eps: float = 1e-3, alphas=100,
                        fit_intercept: bool = True, sample_weight=None, tol: float = 1e-6,
                        max_iter: int = 1000, max_newton: int = 100):
    """Binary group logistic regression along a grid of alphas, warm-started.

    The objective of :class:`GroupLogisticRegression` at each alpha of a grid (largest
    first), each fit starting from the previous solution.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Two classes; the second of the sorted labels is the positive one.
    groups : int, list of int, list of array-like or array-like of labels, default=None
        As in :class:`GroupLasso` (None: each feature its own group).
    l1_ratio, group_weights, within_l1, fit_intercept, tol, max_iter, max_newton
        As in :class:`GroupLogisticRegression`, at each alpha.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``, ``alpha_max`` the smallest alpha at
        which every penalised group is zero.
    alphas : int or array-like, default=100
        Grid size, or the alphas themselves.
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,)
    dual_gaps : ndarray of shape (n_alphas,)
        The duality gap at each alpha (see ``dual_gap_`` of
        :class:`GroupLogisticRegression`).

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import group_logistic_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 6))
    >>> y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(100) > 0).astype(int)
    >>> alphas, coefs, intercepts, gaps = group_logistic_path(X, y, groups=[2, 2, 2],
    ...                                                        alphas=5)
    >>> coefs.shape
    (6, 5)
    """
    _check_real("eps", eps, low=0.0)
    estimator = GroupLogisticRegression(groups, l1_ratio=l1_ratio, group_weights=group_weights,
                                        within_l1=within_l1, fit_intercept=fit_intercept,
                                        tol=tol, max_iter=max_iter, max_newton=max_newton)
    spec, data = estimator._path_spec().prepare(estimator, X, y, sample_weight)
    alphas, grid = spec.grid(data, resolve_alphas(alphas, "deprecated"), eps)
    outcome = spec.path(spec.rows(data, None), grid)
    if outcome.failures:
        warn_user(f"Group logistic path: {outcome.failures} of {grid.shape[0]} alphas did not "
                  "converge within max_iter or max_newton; increase them.",
                  ConvergenceWarning)
    return alphas, outcome.coefs, outcome.intercepts, outcome.gaps


def _logistic_line_search(X, y, sw, structure, strengths, coef, intercept, objective, trial,
                          trial_intercept):
    """The largest step ``2^-k`` towards the Newton point that does not raise the objective
    (as :func:`fastl1._irls._line_search`)."""
    alpha, l1_ratio, within = strengths
    current = objective + _group_penalty(coef, structure, alpha, l1_ratio, within)
    step = 1.0
    for _ in range(_LINE_SEARCH_STEPS):
        w = coef + step * (trial - coef)
        b = intercept + step * (trial_intercept - intercept)
        eta = np.asarray(X @ w, dtype=np.float64).ravel() + b
        loss = _log_loss(eta, y, sw)
        if loss + _group_penalty(w, structure, alpha, l1_ratio, within) \
                <= current + 1e-12 * abs(current):
            return w, b, eta, loss
        step *= 0.5
    return coef, intercept, np.asarray(X @ coef, dtype=np.float64).ravel() + intercept, \
        objective


def plot_group_path(alphas, coefs, groups, *, group_names=None, max_labels: int = 10,
                    ax=None):
    """The norm of each group's coefficients along a regularisation path.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas) or (n_tasks, n_features, n_alphas)
        As :func:`group_lasso_path` returns them.
    groups : int, list or array-like
        The groups, in any form :class:`GroupLasso` takes.
    group_names : sequence of str, default=None
        Legend names (default ``g<k>``).
    max_labels : int, default=10
        Label the groups with the largest norms at the end of the path; the others are grey.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    import matplotlib.pyplot as plt

    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.asarray(coefs, dtype=np.float64)
    if coefs.ndim == 2:
        coefs = coefs[None]
    structure = group_structure(groups, None, coefs.shape[1])
    norms = np.array([structure.block_norms(coefs[:, :, i]) for i in range(alphas.shape[0])])
    if ax is None:
        _, ax = plt.subplots()
    order = np.argsort(-norms[-1])
    labelled = set(order[:max_labels][norms[-1, order[:max_labels]] > 0].tolist())
    for g in range(structure.n_groups):
        if g in labelled:
            name = group_names[g] if group_names is not None else f"g{g}"
            ax.plot(alphas, norms[:, g], label=name)
        else:
            ax.plot(alphas, norms[:, g], color="0.75", linewidth=0.8)
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha")
    ax.set_ylabel("group norm ||w_g||")
    if labelled:
        ax.legend(fontsize="small")
    return ax
