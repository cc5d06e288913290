"""scikit-learn compatible estimators: :class:`ElasticNet` and :class:`Lasso`.

Thin classes: they validate, build a :class:`fastl1._solver.Problem`, call the solver once per
target and store results. The objective is scikit-learn's::

    1 / (2 n) ||y - X w - b||^2 + alpha * (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||^2)

with sample weights rescaled to sum to ``n`` (so the squared loss is a weighted average).
"""

from __future__ import annotations

import copy
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _dask, _dask_predict
from . import _path_plan as plan
from ._blas import blas_on_one_thread
from ._deprecation import resolve_alphas
from ._feature_penalty import FeaturePenalty, check_feature_penalty
from ._kernels.design import test_mse
from ._solver import _EMPTY_INDEX, make_problem, resolve_gram, solve_enet
from ._validation import (
    _check_bool,
    _check_choice,
    _check_int,
    _check_real,
    check_design,
    check_precompute,
    check_sparse_structure,
    check_target_scale,
    check_weights,
)
from .cv import (
    fold_rows,
    fold_std_error,
    one_blas_thread,
    one_standard_error_index,
    split,
)
from .path import alpha_grid, check_alpha_array, fit_path

__all__ = ["ElasticNet", "ElasticNetCV", "Lasso", "LassoCV"]


class _LinearPredictor:
    """Prediction from ``coef_`` and ``intercept_``, shared by every regressor here."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @property
    def sparse_coef_(self):
        """Sparse (CSR) representation of ``coef_``."""
        coef = sp.csr_matrix(np.atleast_2d(self.coef_))
        if get_config().get("sparse_interface") == "sparray":
            return sp.csr_array(coef)
        return coef

    def _decision_function(self, X):
        check_is_fitted(self)
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          accept_large_sparse=True, reset=False)
        return safe_sparse_dot(X, np.asarray(self.coef_).T, dense_output=True) + self.intercept_

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_targets)
            A lazy Dask array with X's row chunks when X is a Dask array or DataFrame.
        """
        if _dask.dask_input(X):  # blockwise, lazily: X stays on the cluster
            return _dask_predict.blockwise(self, X, "predict")
        return self._decision_function(X)

    def score(self, X, y, sample_weight=None):
        """R^2 of :meth:`predict` (scikit-learn's ``RegressorMixin.score``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
            A lazy 0-d Dask array, computed by row blocks, for Dask input.
        """
        if _dask.dask_input(X, y, sample_weight):
            return _dask_predict.score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)


class ElasticNet(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Linear regression with combined L1 and L2 penalties (scikit-learn drop-in).

    Minimises ``1 / (2 n) ||y - X w - b||^2 + alpha * l1_ratio * ||w||_1
    + alpha * (1 - l1_ratio) / 2 * ||w||^2`` by coordinate descent on working sets with Gap
    Safe screening and Anderson acceleration, stopping on the duality gap of the full problem
    exactly as :class:`sklearn.linear_model.ElasticNet` does.

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``.
    l1_ratio : float, default=0.5
        Mix of L1 (1.0) and L2 (0.0) penalties, in ``[0, 1]``.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept. Handled by implicit centring: neither dense nor sparse
        X is centred in memory.
    precompute : bool, 'auto' or array of shape (n_features, n_features), default=False
        Use covariance updates with the Gram matrix ``X_c^T X_c`` (faster when
        ``n_samples >> n_features``). ``'auto'`` means ``n_samples > n_features``. Ignored
        for sparse X, as in scikit-learn.
    copy_X : bool, default=True
        Accepted for compatibility. fastl1 never modifies X, so no defensive copy is made.
    max_iter : int, default=1000
        Maximum number of epochs in all. An epoch is one pass over the current working set
        (the candidate features; all non-screened features when the set has grown to them).
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol * ||y_c||^2 / n`` (checked once the
        largest coefficient change of an epoch is below ``tol`` times the largest
        coefficient).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Seed for ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
        Visit coordinates in order, or draw them at random.
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative multiplier of each feature's penalty (glmnet's ``penalty.factor``): the
        penalty is ``alpha * sum_j penalty_factor[j] * (l1_ratio |w_j| + (1 - l1_ratio) / 2
        w_j^2)``. 0 leaves a feature unpenalised (e.g. age or sex beside genes). Used as
        given; glmnet rescales its factors to sum to ``n_features``, which
        :func:`fastl1.glmnet_factors` reproduces. None: every factor 1.
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
        Bounds on the coefficients (glmnet's ``lower.limits`` and ``upper.limits``); a lower
        bound must be <= 0 and an upper bound >= 0. ``positive=True`` means
        ``lower_bounds=0``. None: no bound.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int or list of int
        Epochs run (per target), each over the working set of its round.
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap at the solution, in the objective's scale: a certificate that the
        objective is within ``dual_gap_`` of its minimum.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> y = np.array([0.0, 1.0, 2.0, 3.0])
    >>> model = ElasticNet(alpha=0.1, l1_ratio=0.5).fit(X, y)
    >>> np.round(model.coef_, 3).tolist()
    [0.923, 0.0]
    >>> bool(model.dual_gap_ < 1e-4 * np.var(y))
    True
    """

    _l1_ratio_default = 0.5

    def __init__(self, alpha=1.0, *, l1_ratio=0.5, fit_intercept=True, precompute=False,
                 max_iter=1000, copy_X=True, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", penalty_factor=None,
                 lower_bounds=None, upper_bounds=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        for name in ("fit_intercept", "positive", "warm_start", "copy_X"):
            _check_bool(name, getattr(self, name))
        check_precompute(self.precompute)

    def _path_spec(self) -> SquaredPath:
        """The squared loss's side of the path plan, with this model's options (validated)."""
        self._check_params()
        return SquaredPath(self.fit_intercept, float(self.l1_ratio), max_iter=self.max_iter,
                           tol=self.tol, features=plan.feature_options(self))

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model by coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense (C or F order), CSC or CSR; float32 stays float32.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights, rescaled internally to sum to ``n_samples``.
        check_input : bool, default=True
            Accepted for compatibility; input is always validated.

        Returns
        -------
        self : ElasticNet
        """
        self._check_params()
        if self.alpha == 0:
            warnings.warn("With alpha=0 the problem is least squares, which coordinate "
                          "descent solves slowly; prefer LinearRegression.", UserWarning,
                          stacklevel=2)
        if _dask.dask_input(X, y, sample_weight):  # fit from statistics, X stays on the cluster
            refuse_feature_penalty_on_dask(self)
            return _dask.fit_elastic_net(self, X, y, sample_weight)
        X, y = check_design(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        penalty = feature_penalty_of(self, X.shape[1], self.l1_ratio)
        problem = make_problem(X, sample_weight, self.fit_intercept, keep_csr=True)
        y_2d = y.reshape(y.shape[0], -1)
        y_centred, y_mean = problem.centre_target(y_2d)
        for k in range(y_centred.shape[1]):
            check_target_scale(y_centred[:, k])
        n_targets = y_2d.shape[1]
        p = problem.n_features

        coef = np.zeros((n_targets, p), dtype=problem.dtype)
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.asarray(self.coef_, dtype=problem.dtype).reshape(-1, p)
            if previous.shape == coef.shape:
                coef[:] = previous
        gram = resolve_gram(self.precompute, problem)
        rng = check_random_state(self.random_state)
        gaps = np.zeros(n_targets, dtype=problem.dtype)
        n_iters = []
        # BLAS on one thread while the solver runs (its support steps' small solves): an
        # idle OpenBLAS worker would spin on a core its parallel gradients need.
        with blas_on_one_thread():
            for k in range(n_targets):
                yk = np.ascontiguousarray(y_centred[:, k])
                xty = problem.xt_weighted(yk) if gram is not None else None
                result = solve_enet(
                    problem, yk, coef[k], self.alpha, self.l1_ratio, penalty=penalty,
                    max_iter=self.max_iter, tol=self.tol, random=self.selection == "random",
                    seed=int(rng.randint(np.iinfo(np.int32).max)), gram=gram, xty=xty,
                )
                gaps[k] = result.dual_gap
                n_iters.append(result.n_iter)
        return store_solution(self, problem, coef, y_mean, gaps, n_iters)


def store_solution(estimator, problem, coef: np.ndarray, y_mean, gaps: np.ndarray,
                   n_iters: list):
    """Set ``coef_``, ``intercept_`` (from the means: implicit centring), ``dual_gap_`` and
    ``n_iter_`` of a fitted single-fit estimator, one target as 1-D attributes (``(n,)`` and
    ``(n, 1)`` targets alike, as scikit-learn); non-finite coefficients are an error."""
    n_targets = coef.shape[0]
    # Not ``coef @ x_mean``: OpenBLAS threads a dot product over 20000 or more features, and
    # its idle worker then spins for ~0.1 s, a core taken from whatever runs next.
    intercept = y_mean - np.einsum("tp,p->t", coef, problem.x_mean) \
        if estimator.fit_intercept else np.zeros(n_targets, dtype=problem.dtype)
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise ValueError("Coordinate descent produced non-finite coefficients; the input may "
                         "contain values too large to square in its dtype.")
    if n_targets == 1:
        estimator.coef_ = coef[0]
        estimator.intercept_ = problem.dtype.type(intercept[0])
        estimator.dual_gap_ = float(gaps[0])
        estimator.n_iter_ = n_iters[0]
    else:
        estimator.coef_ = coef
        estimator.intercept_ = np.asarray(intercept, dtype=problem.dtype)
        estimator.dual_gap_ = gaps
        estimator.n_iter_ = n_iters
    return estimator


def feature_penalty_of(estimator, n_features: int, l1_ratio) -> FeaturePenalty:
    """An estimator's validated ``penalty_factor``, ``lower_bounds``, ``upper_bounds`` and
    ``positive`` (the largest of its ``l1_ratio`` values decides whether all-zero factors
    are an error)."""
    return check_feature_penalty(
        getattr(estimator, "penalty_factor", None), getattr(estimator, "lower_bounds", None),
        getattr(estimator, "upper_bounds", None), n_features,
        positive=bool(getattr(estimator, "positive", False)),
        l1_ratio=float(np.max(l1_ratio)))


def refuse_feature_penalty_on_dask(estimator) -> None:
    """Per-feature penalties are not part of the fits from Dask statistics yet."""
    if any(getattr(estimator, name, None) is not None
           for name in ("penalty_factor", "lower_bounds", "upper_bounds")):
        raise ValueError("penalty_factor, lower_bounds and upper_bounds are not supported "
                         "with Dask arrays; compute X first.")


def cv_grids_and_options(estimator, problem, y_centred: np.ndarray, alphas,
                         l1_ratios: np.ndarray,
                         penalty: FeaturePenalty | None = None) -> tuple[list, dict]:
    """A CV estimator's alpha grid for each l1_ratio (``alphas`` an int: computed from the
    problem, largest first; else the array given) and the path options of every job.
    ``penalty``: the per-feature factors and bounds (default: the estimator's ``positive``
    alone)."""
    if penalty is None:
        penalty = FeaturePenalty.default(problem.n_features, estimator.positive)
    if isinstance(alphas, int):
        if np.any(l1_ratios == 0):
            raise ValueError("An automatic alpha grid needs l1_ratio > 0; pass an explicit "
                             "array of alphas for l1_ratio=0 (ridge).")
        grids = [alpha_grid(problem, y_centred, l1_ratio=ratio, n_alphas=alphas,
                            eps=estimator.eps, penalty=penalty)
                 for ratio in l1_ratios]
    else:
        grids = [check_alpha_array(alphas)] * len(l1_ratios)
    rng = check_random_state(estimator.random_state)
    options = {
        "penalty": penalty, "max_iter": estimator.max_iter, "tol": estimator.tol,
        "random": estimator.selection == "random",
        "seed": int(rng.randint(np.iinfo(np.int32).max)),
        "verbose": max(int(estimator.verbose) - 1, 0),
    }
    return grids, options


_EMPTY_2D = np.zeros((1, 1))  # stands in for a dense test block when it is sparse


class SquaredPath(plan.PathSpec):
    """The squared loss in the path plan (:mod:`fastl1._path_plan`): elastic-net paths by
    :func:`fastl1.path.fit_path`, scored by the test rows' (weighted) mean squared error.

    ``data`` is ``(X, y, sample_weight)`` with X kernel-ready (F-ordered or CSC: a problem's
    ``X``, so every job shares the one object); ``precompute`` serves the path on all rows,
    ``fold_precompute`` the folds' (a user's Gram matrix is of all rows); ``random``,
    ``seed`` and ``verbose`` go to every path; ``features`` are the per-feature penalty's
    parameters that :meth:`prepare` validates.
    """

    def __init__(self, fit_intercept: bool, l1_ratio: float, *, penalty=None,
                 max_iter: int = 1000, tol: float = 1e-4, random: bool = False, seed: int = 0,
                 verbose: int = 0, precompute=False, fold_precompute=False, features=None):
        self.fit_intercept, self.l1_ratio, self.penalty = fit_intercept, l1_ratio, penalty
        self.max_iter, self.tol, self.random, self.seed = max_iter, tol, random, seed
        self.verbose, self.precompute, self.fold_precompute = verbose, precompute, \
            fold_precompute
        self.features = features

    def prepare(self, owner, X, y, sample_weight=None, groups=None):
        X, y = check_design(owner, X, y)
        if y.ndim == 2:
            if y.shape[1] != 1:
                raise ValueError(f"{type(owner).__name__} needs one target, got y of shape "
                                 f"{y.shape}.")
            y = y[:, 0]
        sample_weight = check_weights(sample_weight, X)
        spec = copy.copy(self)
        spec.penalty = self.feature_penalty(X.shape[1])
        problem = make_problem(X, sample_weight, self.fit_intercept)
        y_centred, _ = problem.centre_target(y)
        check_target_scale(y_centred)
        return spec, (problem.X, y, sample_weight)

    def row_weights(self, data):
        return data[2]

    def grid(self, data, alphas, eps):
        if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
            _check_int("alphas", alphas, low=1)
            X, y, sample_weight = data
            problem = make_problem(X, sample_weight, self.fit_intercept)
            y_centred, _ = problem.centre_target(y)
            grid = alpha_grid(problem, y_centred, l1_ratio=self.l1_ratio,
                              n_alphas=int(alphas), eps=eps, penalty=self.penalty)
        else:
            grid = check_alpha_array(alphas)
        return grid, grid

    def rows(self, data, rows):
        X, y, sample_weight = data
        if rows is None:
            problem = make_problem(X, sample_weight, self.fit_intercept, parallel=False)
            target, precompute = y, self.precompute
        else:
            weights = None if sample_weight is None else sample_weight[rows]
            problem = make_problem(fold_rows(X, rows), weights, self.fit_intercept,
                                   parallel=False)
            target, precompute = y[rows], self.fold_precompute
        y_centred, y_mean = problem.centre_target(target)
        gram = resolve_gram(precompute, problem)
        xty = None if gram is None else problem.xt_weighted(y_centred)
        return problem, y_centred, y_mean, gram, xty

    def path(self, fold, grid, on_point=None, store=True):
        problem, y_centred, y_mean, gram, xty = fold
        result = fit_path(problem, y_centred, grid, self.l1_ratio, penalty=self.penalty,
                          max_iter=self.max_iter, tol=self.tol, random=self.random,
                          seed=self.seed, gram=gram, xty=xty, parallel=False,
                          store_coefs=store, on_point=on_point, verbose=self.verbose)
        # (fit_path warns of its own points that did not converge)
        return plan.PathOutcome(result.coefs, None, result.dual_gaps, result.n_iters, 0, y_mean)

    def fold_scorer(self, data, fold, test, grid):
        return _MeanSquaredError(data, fold, test, grid.shape[0])


class _MeanSquaredError(plan.FoldScorer):
    """The test rows' (weighted) mean squared error of each solution, as scikit-learn."""

    def __init__(self, data, fold, test, n_points):
        X, y, sample_weight = data
        problem, _, self.y_mean, _, _ = fold
        self.x_mean = problem.x_mean
        X_test = X[test]
        if sp.issparse(X_test):  # row-major: fast products with each solution
            X_test = X_test.tocsr()
            self.design = (_EMPTY_2D.astype(X.dtype), X_test.data, X_test.indices,
                           X_test.indptr.astype(X_test.indices.dtype))
        else:
            self.design = (np.ascontiguousarray(X_test), np.empty(0, X.dtype), _EMPTY_INDEX,
                           _EMPTY_INDEX)
        self.y_test = np.ascontiguousarray(y[test], dtype=np.float64)
        self.sw_test = np.empty(0) if sample_weight is None else \
            np.ascontiguousarray(sample_weight[test], dtype=np.float64)
        self.mse = np.empty(n_points)

    def __call__(self, i, point):
        coef = point.coef
        intercept = float(self.y_mean) - float(self.x_mean @ coef)
        self.mse[i] = test_mse(*self.design, self.y_test, self.sw_test, coef, intercept)

    def finish(self, path):
        return plan.FoldOutcome(self.mse)


class Lasso(ElasticNet):
    """Linear regression with an L1 penalty (scikit-learn drop-in).

    Minimises ``1 / (2 n) ||y - X w - b||^2 + alpha * ||w||_1``; :class:`ElasticNet` with
    ``l1_ratio=1``. Parameters and attributes are those of :class:`ElasticNet`.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import Lasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 20))
    >>> y = 3 * X[:, 0] - 2 * X[:, 5] + 0.1 * rng.standard_normal(50)
    >>> model = Lasso(alpha=0.1).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist()
    [0, 5]
    """

    def __init__(self, alpha=1.0, *, fit_intercept=True, precompute=False, copy_X=True,
                 max_iter=1000, tol=1e-4, warm_start=False, positive=False,
                 random_state=None, selection="cyclic", penalty_factor=None,
                 lower_bounds=None, upper_bounds=None):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                         warm_start=warm_start, positive=positive,
                         random_state=random_state, selection=selection,
                         penalty_factor=penalty_factor, lower_bounds=lower_bounds,
                         upper_bounds=upper_bounds)


class ElasticNetCV(_LinearPredictor, RegressorMixin, BaseEstimator):
    """Elastic net with alpha (and l1_ratio) chosen by cross-validation, on threads.

    scikit-learn's :class:`~sklearn.linear_model.ElasticNetCV` (1.9 parameters, attributes
    and selection rule), plus glmnet's one-standard-error rule. Folds and l1_ratios run
    concurrently on ``n_jobs`` threads, or on the workers of the active joblib backend when one
    is chosen (such as a Dask cluster); results do not depend on either. The final model at
    the chosen alpha comes from the warm-started path on all rows (computed alongside the
    folds, as glmnet does), not from a separate refit.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Penalty mix(es) to try, in ``(0, 1]`` with an automatic grid.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``.
    alphas : int or array-like, default=100
        Grid size, or the alphas to try.
    n_alphas : int, deprecated
        Old spelling of ``alphas=<int>``; accepted with a warning.
    fit_intercept : bool, default=True
    precompute : bool, 'auto' or array, default='auto'
        Gram-matrix updates (``'auto'``: when a fold has more rows than features; dense only).
        A user's matrix serves the full-data path; each fold computes its own.
    max_iter : int, default=1000
        Epochs allowed per alpha.
    tol : float, default=1e-4
        Duality-gap tolerance per alpha: below ``tol`` times the smaller of ``||y_c||^2 / n``
        and five times the previous alpha's objective (:func:`fastl1.enet_path`), on the folds
        and on the path of all rows that gives the final model.
    cv : int, cross-validation generator or iterable, default=None
        As scikit-learn (None: 5-fold ``KFold``).
    copy_X : bool, default=True
        Accepted for compatibility: X is never modified.
    verbose : bool or int, default=0
        Progress per job (fold) as joblib reports it; ``2`` adds a dot per alpha, ``>= 3`` a
        line per alpha.
    n_jobs : int, default=None
        Threads (``-1``: all cores; None: 1). Under a joblib backend other than threads, passed
        to it (``joblib.parallel_config(backend="dask")`` uses every worker of the cluster).
    positive : bool, default=False
    random_state : int, RandomState instance or None, default=None
        Seed for ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
    alpha_rule : {'min', '1se'}, default='min'
        Which alpha the final model uses: the minimum of the mean CV error (scikit-learn), or
        the largest alpha within one standard error of it (glmnet's ``lambda.1se``, a sparser
        model).
    penalty_factor, lower_bounds, upper_bounds : array-like, default=None
        Per-feature penalty factors and coefficient bounds, as in :class:`ElasticNet`; the
        automatic grid starts at the ``alpha_max`` they give, and every fold uses them.

    Attributes
    ----------
    alpha_ : float
        The alpha chosen by ``alpha_rule``.
    alpha_min_ : float
        The alpha minimising the mean CV error.
    alpha_1se_ : float
        The largest alpha whose mean CV error is within one standard error (over folds) of
        the minimum, for the ``l1_ratio_`` that attains the minimum.
    l1_ratio_ : float
        The best l1_ratio (ElasticNetCV only).
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
        Test-fold mean squared errors.
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
    n_iter_ : int
    coef_path_ : scipy.sparse.csc_matrix of shape (n_features, n_alphas)
        Full-data solutions along ``alphas_`` for ``l1_ratio_`` (for plots).
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import ElasticNetCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 30))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(60)
    >>> model = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=20, cv=3).fit(X, y)
    >>> float(model.l1_ratio_), model.mse_path_.shape
    (1.0, (2, 20, 3))
    """

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, n_alphas="deprecated",
                 fit_intercept=True, precompute="auto", max_iter=1000, tol=1e-4, cv=None,
                 copy_X=True, verbose=0, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", alpha_rule="min", penalty_factor=None,
                 lower_bounds=None, upper_bounds=None):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    def _l1_ratios(self) -> np.ndarray:
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=object))
        if ratios.ndim != 1 or ratios.shape[0] == 0:
            raise ValueError("l1_ratio must be a float or a non-empty list of floats.")
        for ratio in ratios:
            _check_real("l1_ratio", ratio, low=0.0, high=1.0)
        return ratios.astype(np.float64)

    @one_blas_thread
    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha by cross-validation, then keep the full-data model at it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense, CSC or CSR (CSR is converted once to CSC; folds are row subsets).
        y : array-like of shape (n_samples,)
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
        _check_real("eps", self.eps, low=0.0)
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}.")
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        _check_choice("alpha_rule", self.alpha_rule, ("min", "1se"))
        for name in ("fit_intercept", "positive", "copy_X"):
            _check_bool(name, getattr(self, name))
        check_precompute(self.precompute)
        if _dask.dask_input(X, y, sample_weight):  # fit from statistics, X stays on the cluster
            refuse_feature_penalty_on_dask(self)
            return _dask.fit_elastic_net_cv(self, X, y, sample_weight, alphas, l1_ratios,
                                            params)
        X, y = check_design(self, X, y)
        if y.ndim == 2:
            if y.shape[1] != 1:
                raise ValueError(f"{type(self).__name__} fits one target, got y of shape "
                                 f"{y.shape}; fit one model per column.")
            warnings.warn("A column-vector y was passed when a 1d array was expected; "
                          "using y.ravel().", DataConversionWarning, stacklevel=2)
            y = y[:, 0]
        sample_weight = check_weights(sample_weight, X)
        penalty = feature_penalty_of(self, X.shape[1], l1_ratios)
        problem = make_problem(X, sample_weight, self.fit_intercept)
        y_centred, _ = problem.centre_target(y)
        check_target_scale(y_centred)
        grids, options = cv_grids_and_options(self, problem, y_centred, alphas, l1_ratios,
                                              penalty)
        folds = split(self.cv, X, y, weights=sample_weight, **params)
        fold_precompute = self.precompute
        if hasattr(fold_precompute, "__array__"):
            fold_precompute = True
        runs = [(SquaredPath(self.fit_intercept, ratio, **options, precompute=self.precompute,
                             fold_precompute=fold_precompute), grid)
                for ratio, grid in zip(l1_ratios, grids, strict=True)]
        runs = plan.cross_validate(runs, (problem.X, y, sample_weight), folds, self.n_jobs,
                              verbose=int(self.verbose))
        mse = np.array([run.scores for run in runs])  # (n_l1_ratio, n_alphas, n_folds)
        self._store_selection(l1_ratios, grids, mse, [run.full for run in runs], problem,
                              isinstance(alphas, int))
        return self

    def _store_selection(self, l1_ratios, grids, mse, paths, problem, automatic_grid):
        if not np.all(np.isfinite(mse)):
            # An overflowing prediction (X or y near the top of the dtype's range) makes
            # every comparison of errors meaningless: say so rather than pick an alpha.
            raise ValueError("The cross-validation errors are not finite (the predictions "
                             "overflow): rescale X and y before fitting.")
        mean = mse.mean(axis=2)
        best_ratio = int(np.argmin(mean.min(axis=1)))  # first of equals, as scikit-learn
        best = int(np.argmin(mean[best_ratio]))
        std_error = fold_std_error(mse[best_ratio])
        index_1se = one_standard_error_index(mean[best_ratio], std_error)
        grid = grids[best_ratio]
        index = best if self.alpha_rule == "min" else index_1se
        path = paths[best_ratio]
        y_mean = path.y_mean
        coef = path.coefs[:, [index]].toarray().ravel()
        self.alpha_min_ = float(grid[best])
        self.alpha_1se_ = float(grid[index_1se])
        self.alpha_ = float(grid[index])
        self.l1_ratio_ = float(l1_ratios[best_ratio])
        if automatic_grid:
            self.alphas_ = np.asarray(grids) if len(grids) > 1 else grids[0]
        else:
            self.alphas_ = grids[0]
        self.mse_path_ = np.squeeze(mse)
        self.coef_ = coef
        intercept = y_mean - coef @ problem.x_mean if self.fit_intercept else 0.0
        self.intercept_ = problem.dtype.type(intercept)
        self.dual_gap_ = float(path.gaps[index])
        self.n_iter_ = path.n_iters[index]
        self.coef_path_ = path.coefs


class LassoCV(ElasticNetCV):
    """Lasso with alpha chosen by cross-validation, on threads.

    scikit-learn's :class:`~sklearn.linear_model.LassoCV`; :class:`ElasticNetCV` with
    ``l1_ratio=1`` (see it for parameters and attributes, ``l1_ratio_`` excepted).

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import LassoCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((60, 30))
    >>> y = X[:, 0] - 2 * X[:, 1] + 0.1 * rng.standard_normal(60)
    >>> model = LassoCV(cv=3, n_jobs=2).fit(X, y)
    >>> np.flatnonzero(model.coef_)[:2].tolist(), model.mse_path_.shape
    ([0, 1], (100, 3))
    """

    def __init__(self, *, eps=1e-3, alphas=100, n_alphas="deprecated", fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, copy_X=True, cv=None,
                 verbose=False, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", alpha_rule="min", penalty_factor=None,
                 lower_bounds=None, upper_bounds=None):
        super().__init__(l1_ratio=1.0, eps=eps, alphas=alphas, n_alphas=n_alphas,
                         fit_intercept=fit_intercept, precompute=precompute,
                         max_iter=max_iter, tol=tol, cv=cv, copy_X=copy_X, verbose=verbose,
                         n_jobs=n_jobs, positive=positive, random_state=random_state,
                         selection=selection, alpha_rule=alpha_rule,
                         penalty_factor=penalty_factor, lower_bounds=lower_bounds,
                         upper_bounds=upper_bounds)

    def _l1_ratios(self) -> np.ndarray:
        return np.ones(1)

    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha by cross-validation (see :meth:`ElasticNetCV.fit`)."""
        super().fit(X, y, sample_weight=sample_weight, **params)
        del self.l1_ratio_
        return self
