"""Group lasso: whole groups of features enter or leave the model together.

The objective::

    1 / (2 n) ||y - X w - b||^2
        + alpha sum_g v_g (l1_ratio ||w_g||_2 + (1 - l1_ratio) / 2 ||w_g||_2^2)

with ``w_g`` the coefficients of group ``g`` and ``v_g`` its weight (``sqrt(|g|)`` by
default, Yuan & Lin, JRSS-B 2006). Gene sets or pathways, or the dummy columns of a
categorical variable, are selected as units. It is the block coordinate-descent kernel
(:mod:`fastl1._kernels.block_cd`) with one block per group and one task; a 2-D ``y`` gives
the multi-task group lasso (one block per group across all tasks).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin

from ._deprecation import resolve_alphas
from ._groups import block_alpha_grid, block_path, group_structure, task_major
from ._solver import make_problem
from ._validation import (
    _check_bool,
    _check_choice,
    _check_int,
    _check_real,
    check_design,
    check_target_scale,
    check_weights,
)
from .linear_model import _LinearPredictor
from .multitask import cross_validate_blocks, fit_blocks
from .path import check_alpha_array

__all__ = ["GroupLasso", "GroupLassoCV", "group_lasso_path"]

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
