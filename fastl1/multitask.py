"""Multi-task elastic net and lasso (scikit-learn drop-ins) on the block solver.

The objective is scikit-learn's ``MultiTaskElasticNet``'s::

    1 / (2 n) ||Y - X W^T - b||_F^2 + alpha l1_ratio sum_j f_j ||W_j||_2
        + alpha (1 - l1_ratio) / 2 sum_j f_j ||W_j||_2^2

(``W`` the ``(n_tasks, n_features)`` ``coef_``, ``W_j`` its column for feature ``j``,
``f_j`` the ``penalty_factor``, 1 by default): one feature's coefficients on every task enter
or leave the model together. It is the block coordinate-descent kernel
(:mod:`fastl1._kernels.block_cd`) with one group per feature; dense, CSC and CSR ``X``, sample
weights (rescaled to sum to ``n``), working sets and a duality-gap certificate.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils import check_random_state

from ._blas import blas_on_one_thread
from ._deprecation import resolve_alphas
from ._feature_penalty import check_feature_penalty
from ._groups import (
    GroupStructure,
    block_alpha_grid,
    block_fold_job,
    block_path_job,
    solve_block,
    task_major,
)
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
from .cv import fold_std_error, one_blas_thread, one_standard_error_index, run_jobs, split
from .linear_model import _LinearPredictor
from .path import check_alpha_array

__all__ = ["MultiTaskElasticNet", "MultiTaskElasticNetCV", "MultiTaskLasso",
           "MultiTaskLassoCV"]


def check_multitask_target(estimator, X, y):
    """Validated ``(X, Y)`` with a 2-D ``Y`` of X's dtype; a 1-D ``y`` is a ValueError
    (scikit-learn's message, naming the single-task model)."""
    X, y = check_design(estimator, X, y)
    if y.ndim == 1:
        single = "ElasticNet" if getattr(estimator, "_mixes_ridge", True) else "Lasso"
        raise ValueError(f"For mono-task outputs, use {single}: {type(estimator).__name__} "
                         "needs y of shape (n_samples, n_tasks).")
    return X, y


def fit_blocks(estimator, X, Y, sample_weight, structure: GroupStructure, l1_ratio: float):
    """Fit ``estimator`` (``alpha``, ``fit_intercept``, ``max_iter``, ``tol``,
    ``selection``, ``random_state``, ``warm_start``) on validated ``X`` and 2-D ``Y``.
    Returns ``(W (T, p), intercept (T,), result)``."""
    problem = make_problem(X, sample_weight, estimator.fit_intercept)
    Y_centred, y_mean = problem.centre_target(Y)
    check_target_scale(Y_centred)
    Yk = task_major(Y_centred)
    W = np.zeros((Yk.shape[0], problem.n_features), dtype=problem.dtype)
    previous = getattr(estimator, "coef_", None)
    if estimator.warm_start and previous is not None:
        previous = np.asarray(previous, dtype=problem.dtype).reshape(-1, problem.n_features)
        if previous.shape == W.shape:
            W[:] = previous
    rng = check_random_state(estimator.random_state)
    with blas_on_one_thread():
        result = solve_block(problem, Yk, W, estimator.alpha, l1_ratio, structure,
                             max_iter=estimator.max_iter, tol=estimator.tol,
                             random=estimator.selection == "random",
                             seed=int(rng.randint(np.iinfo(np.int32).max)),
                             within_l1=float(getattr(estimator, "within_l1", 0.0)))
    intercept = np.asarray(y_mean, dtype=np.float64).reshape(-1) - W @ problem.x_mean \
        if estimator.fit_intercept else np.zeros(W.shape[0])
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(intercept))):
        raise ValueError("Coordinate descent produced non-finite coefficients; the input may "
                         "contain values too large to square in its dtype.")
    return W, intercept.astype(problem.dtype), result


class MultiTaskElasticNet(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Multi-task elastic net: an L2,1 penalty selects features jointly for every task
    (scikit-learn drop-in).

    Minimises ``1 / (2 n) ||Y - X W^T - b||_F^2 + alpha l1_ratio sum_j f_j ||W_j||_2 + alpha
    (1 - l1_ratio) / 2 sum_j f_j ||W_j||_2^2`` by block coordinate descent on working sets
    with Anderson extrapolation, stopping on the duality gap of the full problem as
    :class:`sklearn.linear_model.MultiTaskElasticNet` does. Dense, CSC and CSR ``X``.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``.
    l1_ratio : float, default=0.5
        Mix of the L2,1 (1.0) and squared L2 (0.0) penalties, in ``[0, 1]``.
    fit_intercept : bool, default=True
        Fit one unpenalised intercept per task (implicit centring: X is never centred in
        memory).
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    max_iter : int, default=1000
        Maximum number of epochs in all (an epoch is one pass over the working set).
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol * ||Y_c||_F^2 / n``.
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    random_state : int, RandomState instance or None, default=None
        Seed for ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
        Visit features in order, or draw them at random.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative multiplier of each feature's penalty (glmnet's ``penalty.factor``);
        0 leaves a feature unpenalised. None: every factor 1.

    Attributes
    ----------
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    n_iter_ : int
        Epochs run.
    dual_gap_ : float
        Duality gap at the solution, in the objective's scale.
    eps_ : float
        The tolerance on the gap, in ``n`` times the objective's scale (scikit-learn's).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import MultiTaskElasticNet
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> Y = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> model = MultiTaskElasticNet(alpha=0.1, tol=1e-8).fit(X, Y)
    >>> np.round(model.coef_, 3).tolist()
    [[0.456, 0.456], [0.456, 0.456]]
    """

    _mixes_ridge = True

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, random_state=None,
                 selection="cyclic", penalty_factor=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.random_state = random_state
        self.selection = selection
        self.penalty_factor = penalty_factor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        for name in ("fit_intercept", "warm_start", "copy_X"):
            _check_bool(name, getattr(self, name))

    def fit(self, X, y, sample_weight=None):
        """Fit the model by block coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense (C or F order), CSC or CSR; float32 stays float32.
        y : array-like of shape (n_samples, n_tasks)
            A 1-D ``y`` is an error (use :class:`fastl1.ElasticNet`).
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to ``n_samples``.

        Returns
        -------
        self
        """
        self._check_params()
        X, Y = check_multitask_target(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        factor = check_feature_penalty(self.penalty_factor, None, None, X.shape[1],
                                       l1_ratio=float(self.l1_ratio)).factor
        structure = GroupStructure.singletons(factor)
        W, intercept, result = fit_blocks(self, X, Y, sample_weight, structure,
                                          self.l1_ratio)
        self.coef_ = W
        self.intercept_ = intercept
        self.dual_gap_ = float(result.dual_gap)
        self.eps_ = float(result.scaled_tol)
        self.n_iter_ = int(result.n_iter)
        return self


class MultiTaskLasso(MultiTaskElasticNet):
    """Multi-task lasso: :class:`MultiTaskElasticNet` with ``l1_ratio=1`` (scikit-learn
    drop-in); see it for the parameters and attributes.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import MultiTaskLasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20))
    >>> Y = np.column_stack([X[:, 0] - X[:, 3], 2 * X[:, 0] + X[:, 3]])
    >>> model = MultiTaskLasso(alpha=0.1).fit(X, Y)
    >>> np.flatnonzero(np.any(model.coef_ != 0, axis=0)).tolist()
    [0, 3]
    """

    _mixes_ridge = False

    def __init__(self, alpha=1.0, *, fit_intercept=True, copy_X=True, max_iter=1000,
                 tol=1e-4, warm_start=False, random_state=None, selection="cyclic",
                 penalty_factor=None):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         copy_X=copy_X, max_iter=max_iter, tol=tol, warm_start=warm_start,
                         random_state=random_state, selection=selection,
                         penalty_factor=penalty_factor)


class MultiTaskElasticNetCV(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Multi-task elastic net with alpha (and l1_ratio) chosen by cross-validation, on
    threads (scikit-learn drop-in).

    The plan of :class:`fastl1.ElasticNetCV`: one job per (l1_ratio, fold) computes a
    warm-started path on the fold's training rows and scores it on its test rows; one more
    per l1_ratio computes the path on all rows, which gives the final model. Results do not
    depend on ``n_jobs``.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Penalty mix(es) to try, in ``(0, 1]`` with an automatic grid.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``.
    alphas : int or array-like, default=100
        Grid size, or the alphas to try.
    n_alphas : int, deprecated
        Old spelling of ``alphas=<int>``.
    fit_intercept : bool, default=True
    max_iter : int, default=1000
        Epochs allowed per alpha.
    tol : float, default=1e-4
    cv : int, cross-validation generator or iterable, default=None
        As scikit-learn (None: 5-fold ``KFold``).
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    verbose : bool or int, default=0
    n_jobs : int, default=None
        Threads (``-1``: all cores), or the workers of the active joblib backend.
    random_state : int, RandomState instance or None, default=None
    selection : {'cyclic', 'random'}, default='cyclic'
    alpha_rule : {'min', '1se'}, default='min'
        The alpha of the final model: the minimum of the mean CV error, or the largest
        alpha within one standard error of it (glmnet's ``lambda.1se``).
    penalty_factor : array-like of shape (n_features,), default=None
        As in :class:`MultiTaskElasticNet`.

    Attributes
    ----------
    alpha_ : float
    alpha_min_, alpha_1se_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Test-fold mean squared errors (over rows and tasks).
    coef_ : ndarray of shape (n_tasks, n_features)
    intercept_ : ndarray of shape (n_tasks,)
    dual_gap_ : float
    n_iter_ : int
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import MultiTaskLassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 30))
    >>> Y = np.column_stack([X[:, 0], X[:, 0] - X[:, 1]]) + 0.1 * rng.standard_normal((60, 2))
    >>> model = MultiTaskLassoCV(cv=3, alphas=20).fit(X, Y)
    >>> model.mse_path_.shape, np.flatnonzero(np.any(model.coef_ != 0, axis=0))[:2].tolist()
    ((20, 3), [0, 1])
    """

    _mixes_ridge = True

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, n_alphas="deprecated",
                 fit_intercept=True, max_iter=1000, tol=1e-4, cv=None, copy_X=True,
                 verbose=0, n_jobs=None, random_state=None, selection="cyclic",
                 alpha_rule="min", penalty_factor=None):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule
        self.penalty_factor = penalty_factor

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags

    def _l1_ratios(self) -> np.ndarray:
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=object))
        if ratios.ndim != 1 or ratios.shape[0] == 0:
            raise ValueError("l1_ratio must be a float or a non-empty list of floats.")
        for ratio in ratios:
            _check_real("l1_ratio", ratio, low=0.0, high=1.0)
        return ratios.astype(np.float64)

    def _check_params(self):
        _check_real("eps", self.eps, low=0.0)
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}.")
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        _check_choice("alpha_rule", self.alpha_rule, ("min", "1se"))
        for name in ("fit_intercept", "copy_X"):
            _check_bool(name, getattr(self, name))

    def _structure(self, n_features: int, l1_ratios: np.ndarray) -> GroupStructure:
        factor = check_feature_penalty(self.penalty_factor, None, None, n_features,
                                       l1_ratio=float(np.max(l1_ratios))).factor
        return GroupStructure.singletons(factor)

    @one_blas_thread
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then keep the full-data model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples, n_tasks)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Weights for the fits (rescaled per fold) and for the test-fold errors.
        **params
            Passed to the splitter's ``split`` (e.g. ``groups``).

        Returns
        -------
        self
        """
        alphas = resolve_alphas(self.alphas, self.n_alphas)
        l1_ratios = self._l1_ratios()
        self._check_params()
        X, Y = check_multitask_target(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        structure = self._structure(X.shape[1], l1_ratios)
        return cross_validate_blocks(self, X, Y, sample_weight, structure, alphas, l1_ratios,
                                     params)


def cross_validate_blocks(estimator, X, Y, sample_weight, structure, alphas, l1_ratios,
                          split_params: dict):
    """The CV plan of a block-penalised estimator (multi-task or group): grids, jobs on
    :func:`fastl1.cv.run_jobs`, selection; stores the attributes and returns
    ``estimator``."""
    problem = make_problem(X, sample_weight, estimator.fit_intercept)
    Y_centred, _ = problem.centre_target(Y)
    check_target_scale(Y_centred)
    Yk = task_major(Y_centred)
    within_l1 = float(getattr(estimator, "within_l1", 0.0))
    if isinstance(alphas, int):
        if np.any(l1_ratios == 0):
            raise ValueError("An automatic alpha grid needs l1_ratio > 0; pass an explicit "
                             "array of alphas for l1_ratio=0 (ridge).")
        grids = [block_alpha_grid(problem, Yk, structure, l1_ratio=ratio, n_alphas=alphas,
                                  eps=estimator.eps, within_l1=within_l1)
                 for ratio in l1_ratios]
    else:
        grids = [check_alpha_array(alphas)] * len(l1_ratios)
    rng = check_random_state(estimator.random_state)
    options = {"max_iter": estimator.max_iter, "tol": estimator.tol,
               "random": estimator.selection == "random",
               "seed": int(rng.randint(np.iinfo(np.int32).max)), "within_l1": within_l1}
    folds = split(estimator.cv, X, Y, weights=sample_weight, **split_params)
    jobs = []
    for ratio, grid in zip(l1_ratios, grids, strict=True):
        jobs.append(block_path_job(problem.X, Y, sample_weight, estimator.fit_intercept, grid,
                                   ratio, structure, options))
        jobs.extend(block_fold_job(problem.X, Y, sample_weight, train, test,
                                   estimator.fit_intercept, grid, ratio, structure, options)
                    for train, test in folds)
    results = run_jobs(jobs, estimator.n_jobs, verbose=int(estimator.verbose))
    per_ratio = len(folds) + 1
    mse = np.array([np.column_stack(results[k * per_ratio + 1:(k + 1) * per_ratio])
                    for k in range(len(l1_ratios))])
    if not np.all(np.isfinite(mse)):
        raise ValueError("The cross-validation errors are not finite (the predictions "
                         "overflow): rescale X and y before fitting.")
    mean = mse.mean(axis=2)
    best_ratio = int(np.argmin(mean.min(axis=1)))
    best = int(np.argmin(mean[best_ratio]))
    index_1se = one_standard_error_index(mean[best_ratio], fold_std_error(mse[best_ratio]))
    index = best if estimator.alpha_rule == "min" else index_1se
    grid = grids[best_ratio]
    path, y_mean, x_mean = results[best_ratio * per_ratio]
    W = path.coef(index)
    estimator.alpha_min_ = float(grid[best])
    estimator.alpha_1se_ = float(grid[index_1se])
    estimator.alpha_ = float(grid[index])
    estimator.l1_ratio_ = float(l1_ratios[best_ratio])
    estimator.alphas_ = np.asarray(grids) if len(grids) > 1 else grids[0]
    estimator.mse_path_ = np.squeeze(mse, axis=0) if len(l1_ratios) == 1 else mse
    intercept = np.asarray(y_mean, dtype=np.float64).reshape(-1) - W @ x_mean \
        if estimator.fit_intercept else np.zeros(W.shape[0])
    estimator.coef_ = W
    estimator.intercept_ = intercept.astype(problem.dtype)
    estimator.dual_gap_ = float(path.dual_gaps[index])
    estimator.n_iter_ = int(path.n_iters[index])
    estimator.coef_path_ = path
    return estimator


class MultiTaskLassoCV(MultiTaskElasticNetCV):
    """Multi-task lasso with alpha chosen by cross-validation, on threads:
    :class:`MultiTaskElasticNetCV` with ``l1_ratio=1`` (see it for parameters and
    attributes, ``l1_ratio_`` excepted).

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import MultiTaskLassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 30))
    >>> Y = np.column_stack([X[:, 0], -X[:, 0]]) + 0.1 * rng.standard_normal((60, 2))
    >>> MultiTaskLassoCV(cv=3, alphas=10, n_jobs=2).fit(X, Y).coef_.shape
    (2, 30)
    """

    _mixes_ridge = False

    def __init__(self, *, eps=1e-3, alphas=100, n_alphas="deprecated", fit_intercept=True,
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False, n_jobs=None,
                 random_state=None, selection="cyclic", alpha_rule="min",
                 penalty_factor=None):
        super().__init__(l1_ratio=1.0, eps=eps, alphas=alphas, n_alphas=n_alphas,
                         fit_intercept=fit_intercept, max_iter=max_iter, tol=tol, cv=cv,
                         copy_X=copy_X, verbose=verbose, n_jobs=n_jobs,
                         random_state=random_state, selection=selection,
                         alpha_rule=alpha_rule, penalty_factor=penalty_factor)

    def _l1_ratios(self) -> np.ndarray:
        return np.ones(1)

    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha by cross-validation (see :meth:`MultiTaskElasticNetCV.fit`)."""
        super().fit(X, y, sample_weight=sample_weight, **params)
        del self.l1_ratio_
        return self
