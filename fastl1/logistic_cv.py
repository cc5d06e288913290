"""Paths and cross-validation for L1 logistic regression.

:func:`l1_logistic_path` fits :class:`fastl1.LogisticRegression`'s objective along a grid of
``C`` (weakest penalty last), each fit warm-started from the previous one.
:class:`LogisticRegressionCV` runs it on every fold and on all rows as threaded jobs (the plan
of :mod:`fastl1.cv`, shared with :class:`fastl1.LassoCV`): the fold paths are scored on their
test rows, the full-data path supplies the final model at the chosen ``C``. :func:`l1_min_c`
is the smallest ``C`` at which a penalised coefficient leaves zero, per-feature penalty
factors and bounds included: the start of a grid whose first model is the null model.
"""

from __future__ import annotations

import copy
import inspect
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.metrics import get_scorer, make_scorer
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import l1_min_c as sklearn_l1_min_c
from sklearn.utils._metadata_requests import _routing_enabled
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from . import _path_plan as plan
from ._dask import dask_input, refuse_dask
from ._feature_penalty import check_feature_penalty
from ._solver import to_csc
from ._validation import (
    _check_choice,
    _check_int,
    _check_real,
    check_sparse_structure,
    check_weights,
)
from ._warn import warn_user
from .cv import fold_rows, one_blas_thread, split
from .logistic import (
    LogisticRegression,
    _null_model,
    cast_within_bounds,
    class_weights,
    l1_ratio_of_penalty,
    logistic_design,
    solve_logistic,
)
from .path import check_alpha_array

__all__ = ["LogisticRegressionCV", "l1_logistic_path", "l1_min_c"]


def _check_grid(Cs) -> np.ndarray:
    """scikit-learn's grid: an int gives ``logspace(-4, 4, Cs)``; values must be > 0."""
    if isinstance(Cs, (int, np.integer)) and not isinstance(Cs, bool):
        _check_int("Cs", Cs, low=1)
        return np.logspace(-4, 4, int(Cs))
    values = np.atleast_1d(np.asarray(Cs, dtype=np.float64))
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)) \
            or np.any(values <= 0):
        raise ValueError("Cs must be an int or a non-empty list of positive finite numbers.")
    return values


def _encode(y, sample_weight, class_weight, X):
    """Class codes, classes and the per-sample weights (class weights included)."""
    check_classification_targets(y)
    encoder = LabelEncoder()
    codes = encoder.fit_transform(y)
    classes = encoder.classes_
    if classes.shape[0] < 2:
        raise ValueError("This solver needs samples of at least 2 classes in the data, but "
                         f"the data contains only one class: {classes[0]!r}.")
    sample_weight = check_weights(sample_weight, X)
    s = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    if class_weight is not None:
        s = s * class_weights(class_weight, classes, y, sample_weight)[codes]
    return codes, classes, s


def _fit_path(X, codes, s, n_classes, Cs, l1_ratio, fit_intercept, tol, max_iter, solver,
              parallel, penalty=None, on_point=None):
    """Warm-started fits over ``Cs`` in the given order on the plan's loop
    (:func:`fastl1._path_plan.trace_path`; ``penalty``: the validated
    :class:`~fastl1._feature_penalty.FeaturePenalty`, None for the plain one); returns coefs
    (n_cs, K, p), intercepts (n_cs, K), n_iter (n_cs,) and the number of fits that did not
    converge."""
    design = logistic_design(X)
    K = 1 if n_classes == 2 else n_classes
    coefs = np.zeros((Cs.shape[0], K, X.shape[1]))
    intercepts = np.zeros((Cs.shape[0], K))
    state = {"coef": None, "intercept": None}

    def fit_point(i, C):
        result = solve_logistic(design, codes, s, n_classes, C, l1_ratio,
                                fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                                solver=solver, coef=state["coef"],
                                intercept=state["intercept"], parallel=parallel, warn=False,
                                penalty=penalty, previous_C=None if i == 0 else Cs[i - 1])
        state["coef"], state["intercept"] = result.coef, result.intercept
        coefs[i], intercepts[i] = result.coef, result.intercept
        return plan.Point(result.coef, result.intercept, result.dual_gap, result.n_iter,
                     result.converged)

    trace = plan.trace_path(fit_point, Cs, on_point)
    return coefs, intercepts, np.asarray(trace.n_iters, dtype=np.int32), len(trace.failures)


class LogisticPath(plan.PathSpec):
    """The binary and multinomial logistic losses in the path plan
    (:mod:`fastl1._path_plan`): paths over ``C`` (increasing: the penalty decreases) by
    :func:`fastl1.logistic.solve_logistic`, scored by ``scorer`` (accuracy when None).

    ``data`` is ``(X, y, codes, s, sample_weight)``: X validated (CSC when sparse), the
    labels, their class codes, the fits' weights (class weights included) and the user's
    sample weights (the scorer's). ``features`` are the per-feature penalty's parameters
    (:func:`fastl1._path_plan.feature_options`); ``classes``, ``n_features_in`` and the
    scorer are what the test folds' scoring model needs.
    """

    def __init__(self, fit_intercept: bool, l1_ratio: float, tol: float, max_iter: int,
                 solver: str = "prox_newton", *, class_weight=None, features=None,
                 scorer=None, scorer_weights: bool = True):
        self.fit_intercept, self.l1_ratio, self.tol, self.max_iter = (fit_intercept, l1_ratio,
                                                                      tol, max_iter)
        self.solver, self.class_weight, self.features = solver, class_weight, features
        self.scorer, self.scorer_weights = scorer, scorer_weights
        self.classes = self.n_features_in = None

    def prepare(self, owner, X, y, sample_weight=None, groups=None):
        check_sparse_structure(X)
        X, y = validate_data(owner, X, y, accept_sparse=["csc", "csr"],
                             accept_large_sparse=True, dtype=[np.float64, np.float32])
        codes, classes, s = _encode(y, sample_weight, self.class_weight, X)
        spec = copy.copy(self)
        spec.penalty = self.feature_penalty(X.shape[1])
        spec.classes, spec.n_features_in = classes, X.shape[1]
        if sp.issparse(X):
            X = to_csc(X)  # folds are row subsets of one CSC copy
        weights = None if sample_weight is None else np.asarray(sample_weight)
        return spec, (X, y, codes, s, weights)

    def with_l1_ratio(self, l1_ratio: float) -> LogisticPath:
        """This spec at another penalty mix."""
        spec = copy.copy(self)
        spec.l1_ratio = float(l1_ratio)
        return spec

    def row_weights(self, data):
        return data[3]

    def grid(self, data, alphas, eps):
        """``alphas_ = 1 / C`` with ``C`` from :func:`sklearn.svm.l1_min_c` (the first
        feature enters; :func:`l1_min_c` with per-feature penalties) up to ``1 / eps``
        times it; the path runs over ``1 / alphas_``."""
        if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
            _check_int("alphas", alphas, low=1)
            X, y = data[:2]
            bounds = {name: (self.features or {}).get(name)
                      for name in ("penalty_factor", "lower_bounds", "upper_bounds")}
            if any(value is not None for value in bounds.values()):
                # the null model with its unpenalised features
                c_min = l1_min_c(X, y, l1_ratio=1.0, fit_intercept=self.fit_intercept,
                                 **bounds)
            else:
                c_min = sklearn_l1_min_c(X, y, loss="log", fit_intercept=self.fit_intercept)
            grid = 1.0 / (c_min * np.logspace(0, np.log10(1.0 / eps), int(alphas)))
        else:
            grid = check_alpha_array(alphas)
        return grid, 1.0 / grid

    def rows(self, data, rows):
        X, _, codes, s, _ = data
        if rows is None:
            return X, codes, s
        return fold_rows(X, rows), codes[rows], s[rows]

    def path(self, fold, grid, on_point=None, store=True):
        X, codes, s = fold
        coefs, intercepts, n_iter, failures = _fit_path(
            X, codes, s, self.classes.shape[0], grid, self.l1_ratio, self.fit_intercept,
            self.tol, self.max_iter, self.solver, False, self.penalty, on_point=on_point)
        return plan.PathOutcome(coefs, intercepts, None, n_iter, failures)

    def fold_scorer(self, data, fold, test, grid):
        return _TestScore(self, data, test, grid.shape[0])


class _TestScore(plan.FoldScorer):
    """The test rows' score of each solution (``spec.scorer``, accuracy when None, given the
    test rows' sample weights when it takes them: :func:`_scorer_takes_weights`), through
    this fold's own scoring model."""

    def __init__(self, spec, data, test, n_points):
        X, y, _, _, sample_weight = data
        self.spec, self.X_test, self.y_test = spec, X[test], y[test]
        self.weights = None if sample_weight is None else sample_weight[test]
        self.model = LogisticRegression(fit_intercept=spec.fit_intercept)
        self.model.classes_, self.model.n_features_in_ = spec.classes, spec.n_features_in
        self.scores = np.empty(n_points)

    def __call__(self, i, point):
        model, scorer = self.model, self.spec.scorer
        model.coef_, model.intercept_ = point.coef, point.intercept
        if scorer is None:
            self.scores[i] = np.average(model.predict(self.X_test) == self.y_test,
                                        weights=self.weights)
        elif self.weights is not None and self.spec.scorer_weights:
            self.scores[i] = scorer(model, self.X_test, self.y_test,
                                    sample_weight=self.weights)
        else:
            self.scores[i] = scorer(model, self.X_test, self.y_test)

    def finish(self, path):
        return plan.FoldOutcome(self.scores, None, path, path.failures)


def l1_logistic_path(X, y, *, Cs=10, l1_ratio: float = 1.0, fit_intercept: bool = True,
                     sample_weight=None, class_weight=None, tol: float = 1e-4,
                     max_iter: int = 100, solver: str = "prox_newton", penalty_factor=None,
                     lower_bounds=None, upper_bounds=None):
    """L1 (elastic-net) logistic regression along a grid of ``C``, warm-started.

    The objective is :class:`fastl1.LogisticRegression`'s; fits run from the strongest
    penalty (smallest ``C``) to the weakest, each starting from the previous solution.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Class labels (two classes: binary loss; more: multinomial).
    Cs : int or array-like, default=10
        Grid size (scikit-learn's ``logspace(-4, 4, Cs)``) or the values. For a grid that
        starts at the null model (every penalised coefficient zero) use ``l1_min_c(X, y,
        ...) * np.logspace(0, 3, n)`` (:func:`l1_min_c`, with the same options).
    l1_ratio, fit_intercept, tol, max_iter, solver
        As in :class:`fastl1.LogisticRegression`.
    sample_weight, class_weight : optional
        As in :meth:`fastl1.LogisticRegression.fit`.
    penalty_factor, lower_bounds, upper_bounds : optional
        Per-feature penalty factors and bounds, as in :class:`fastl1.LogisticRegression`.

    Returns
    -------
    Cs : ndarray of shape (n_cs,)
        Sorted increasingly.
    coefs : ndarray of shape (n_cs, K, n_features)
        ``K = 1`` for two classes, else the number of classes; in the dtype of X (float32
        stays float32).
    intercepts : ndarray of shape (n_cs, K)
    n_iter : ndarray of shape (n_cs,)
    """
    Cs = np.sort(_check_grid(Cs))
    _check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    _check_real("tol", tol, low=0.0)
    _check_int("max_iter", max_iter, low=1)
    _check_choice("solver", solver, ("auto", "prox_newton", "fista"))
    solver = "prox_newton" if solver == "auto" else solver
    if dask_input(X, y, sample_weight):  # passes over the row blocks, X stays on the cluster
        from ._dask_logistic import logistic_path
        if not (penalty_factor is None and lower_bounds is None and upper_bounds is None):
            raise ValueError("penalty_factor, lower_bounds and upper_bounds are not "
                             "supported with Dask arrays; compute X first.")
        return logistic_path(X, y, Cs, l1_ratio, fit_intercept, sample_weight, class_weight,
                             tol, max_iter, solver)
    check_sparse_structure(X)
    X, y = validate_data(LogisticRegression(), X, y, accept_sparse=["csc", "csr"],
                         accept_large_sparse=True, dtype=[np.float64, np.float32],
                         reset=True)
    codes, classes, s = _encode(y, sample_weight, class_weight, X)
    penalty = check_feature_penalty(penalty_factor, lower_bounds, upper_bounds, X.shape[1],
                                    l1_ratio=l1_ratio)
    coefs, intercepts, n_iter, failures = _fit_path(
        X, codes, s, classes.shape[0], Cs, l1_ratio, fit_intercept, tol, max_iter, solver,
        None, penalty)
    _warn_failures(failures, Cs.shape[0], max_iter)
    # In X's dtype, as the estimators' coef_ (the solvers work in float64 throughout).
    return (Cs, cast_within_bounds(coefs, penalty, X.dtype),
            intercepts.astype(X.dtype, copy=False), n_iter)


def l1_min_c(X, y, *, l1_ratio: float = 1.0, fit_intercept: bool = True, sample_weight=None,
             class_weight=None, penalty_factor=None, lower_bounds=None, upper_bounds=None,
             tol: float = 1e-4, max_iter: int = 100) -> float:
    """The smallest ``C`` at which a penalised coefficient of
    :class:`fastl1.LogisticRegression` leaves zero (glmnet's ``lambda_max``, as a ``C``).

    The intercept and the unpenalised features (``penalty_factor`` 0) are fitted first with
    every penalised coefficient at zero (the null model, as glmnet does); then ``C_min =
    l1_ratio / max_j (|g_j| / f_j)`` with ``g`` the loss gradient there (in the scale of
    ``sum_i s_i loss_i``), over the penalised features and only the sides their bounds let
    them move to (a feature with ``lower_bounds=0`` enters only on a negative gradient). For
    ``C <= C_min`` the null model is the solution, so ``l1_min_c(...) * np.logspace(0, 3, n)``
    is a grid whose first model is the null model. Unlike :func:`sklearn.svm.l1_min_c`, the
    intercept is fitted (unpenalised), sample and class weights count, and more than two
    classes use the multinomial loss (the largest gradient over the classes).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    l1_ratio : float, default=1.0
        In ``(0, 1]``: ``C_min`` scales with it (the ridge term is zero at zero).
    fit_intercept, sample_weight, class_weight, penalty_factor, lower_bounds, upper_bounds
        As in :class:`fastl1.LogisticRegression` and its ``fit``.
    tol, max_iter : optional
        Of the fit of the unpenalised features (as in :class:`fastl1.LogisticRegression`).

    Returns
    -------
    float
        ``C_min``.

    Raises
    ------
    ValueError
        When no penalised feature can leave zero at any ``C`` (every gradient zero or
        pointing into a bound of 0).
    """
    _check_real("l1_ratio", l1_ratio, low=0.0, high=1.0)
    if not l1_ratio > 0.0:
        raise ValueError("l1_ratio must be > 0: without an L1 term every penalised "
                         "coefficient is non-zero at any C > 0.")
    _check_real("tol", tol, low=0.0)
    _check_int("max_iter", max_iter, low=1)
    refuse_dask("l1_min_c", X, y, sample_weight)
    check_sparse_structure(X)
    X, y = validate_data(LogisticRegression(), X, y, accept_sparse=["csc", "csr"],
                         accept_large_sparse=True, dtype=[np.float64, np.float32],
                         reset=True)
    codes, classes, s = _encode(y, sample_weight, class_weight, X)
    penalty = check_feature_penalty(penalty_factor, lower_bounds, upper_bounds, X.shape[1],
                                    l1_ratio=l1_ratio)
    _, strength = _null_model(logistic_design(X), codes, s, classes.shape[0], penalty,
                              fit_intercept=bool(fit_intercept), tol=tol, max_iter=max_iter)
    if not strength > 0.0:
        raise ValueError("No penalised feature can leave zero at any C: their gradients at "
                         "the null model are zero or point into a bound of 0.")
    return float(l1_ratio) / strength


def _warn_failures(failures, total, max_iter):
    """One ConvergenceWarning for the fits of a path or a cross-validation, at the user's
    call (:func:`fastl1._warn.warn_user`)."""
    if failures:
        warn_user(f"LogisticRegression did not converge for {failures} of {total} values "
                  f"of C within max_iter={max_iter}; increase max_iter or tol.",
                  ConvergenceWarning)


def _scorer_takes_weights(scoring) -> bool:
    """Whether the scorer gets ``sample_weight``, as in scikit-learn: always, unless metadata
    routing is enabled; then only if the scorer requested it (``set_score_request``)."""
    if not _routing_enabled():
        return True
    scorer = get_scorer(scoring or "accuracy")
    request = getattr(scorer, "get_metadata_routing", None)
    return request is not None and request().score.requests.get("sample_weight") is True


def _fold_scorer(scoring, classes):
    """The scorer of the test folds: ``scoring`` given the classes as ``labels`` when its
    metric takes them (and the positive class for two classes), as scikit-learn's
    ``_log_reg_scoring_path`` does, since a test fold may miss a class."""
    scorer = get_scorer(scoring)
    score_func = getattr(scorer, "_score_func", None)
    if score_func is None:
        return scorer
    signature = inspect.signature(score_func).parameters
    if "labels" not in signature:
        return scorer
    pos_label = {}
    if classes.shape[0] <= 2 and "pos_label" in signature:
        pos_label["pos_label"] = classes[-1]
    return make_scorer(score_func, greater_is_better=scorer._sign == 1,
                       response_method=scorer._response_method, labels=classes,
                       **pos_label, **getattr(scorer, "_kwargs", {}))


class LogisticRegressionCV(LinearClassifierMixin, BaseEstimator):
    """L1 / elastic-net logistic regression with ``C`` (and ``l1_ratio``) chosen by
    cross-validation, on threads.

    scikit-learn's :class:`~sklearn.linear_model.LogisticRegressionCV` (1.9 parameters and
    attributes) for the L1 penalties, with :class:`fastl1.LogisticRegression`'s solver. Each
    (l1_ratio, fold) job fits a warm-started path over ``Cs`` and scores it on the test rows;
    one more job per l1_ratio fits the path on all rows, which gives the final model at the
    best ``C`` (the "refit"). Results do not depend on ``n_jobs``.

    Parameters
    ----------
    Cs : int or list of float, default=10
        Grid size (``logspace(-4, 4, Cs)``, as scikit-learn) or the values.
    l1_ratios : list of float, default=(1.0,)
        Penalty mixes to try (1.0 = L1; this library's default).
    fit_intercept : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
        None: 5-fold stratified.
    penalty : {"deprecated", "l1", "elasticnet", "l2"}, default="deprecated"
        Deprecated as in scikit-learn 1.8+ (FutureWarning): the penalty is chosen by
        ``l1_ratios``. ``"l1"`` means ``l1_ratios=(1,)``, ``"l2"`` means ``l1_ratios=(0,)``
        (a pure ridge penalty: supported but not what this library is fast at),
        ``"elasticnet"`` uses ``l1_ratios``. ``None`` (no penalty) is rejected.
    scoring : str or callable, default=None
        A scikit-learn scorer name or callable; None is accuracy (scikit-learn 1.9's default).
        Used to choose ``C`` and by :meth:`score`. Metrics that take ``labels`` (log-loss,
        Brier score) are given the classes, so a test fold may miss a class.
    tol : float, default=1e-4
    max_iter : int, default=100
    class_weight : dict, "balanced" or None, default=None
    n_jobs : int, default=None
        Threads (``-1``: all cores), or the workers of the active joblib backend when one is
        chosen (``joblib.parallel_config(backend="dask")``).
    verbose : int, default=0
    refit : bool, default=True
        True: the final model is fitted on all rows at the best ``C``. False: the fold
        models at each fold's best ``C`` are averaged (scikit-learn's meaning).
    random_state : None
        Accepted for compatibility (the solvers are deterministic).
    solver : {"auto", "prox_newton", "fista"}, default="auto"
    use_legacy_attributes : bool, default=True
        As scikit-learn 1.9: dict-valued ``scores_`` / ``coefs_paths_`` keyed by class and
        array-valued ``C_`` / ``l1_ratio_`` (legacy), or plain arrays and floats (False).
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative per-feature penalty factors (0: unpenalised), used as given; see
        :class:`fastl1.LogisticRegression`. The ``Cs`` grid does not depend on them: for a
        grid that starts at the null model pass ``Cs=l1_min_c(X, y, penalty_factor=...) *
        np.logspace(0, 3, n)`` (:func:`l1_min_c`).
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
        Bounds on each feature's coefficients, ``lower_bounds <= 0 <= upper_bounds``; see
        :class:`fastl1.LogisticRegression`.

    Attributes
    ----------
    classes_, coef_, intercept_, n_features_in_
    Cs_ : ndarray of shape (n_cs,)
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
    C_, l1_ratio_ : the chosen values (see ``use_legacy_attributes``)
    scores_ : test-fold scores, ``(n_folds, n_l1_ratios, n_cs)`` (new layout; legacy: dict
        of ``(n_folds, n_cs, n_l1_ratios)`` per class, scikit-learn's layout when
        ``l1_ratios`` are given)
    coefs_paths_ : fold coefficients (and intercepts as the last column when fitted),
        ``(n_folds, n_l1_ratios, n_cs, K, n_dof)`` (new layout; legacy: dict per class of
        ``(n_folds, n_cs, n_l1_ratios, n_dof)``)
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs) (new layout) or
        (1, n_folds, n_cs, n_l1_ratios) (legacy)

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import LogisticRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((120, 40))
    >>> y = (X[:, 0] - 2 * X[:, 1] + 0.5 * rng.standard_normal(120) > 0).astype(int)
    >>> clf = LogisticRegressionCV(Cs=8, cv=3, use_legacy_attributes=False).fit(X, y)
    >>> clf.scores_.shape, bool(clf.score(X, y) > 0.9)
    ((3, 1, 8), True)
    """

    def __init__(self, *, Cs=10, l1_ratios=(1.0,), fit_intercept=True, cv=None,
                 penalty="deprecated", scoring=None, tol=1e-4, max_iter=100,
                 class_weight=None, n_jobs=None, verbose=0, refit=True, random_state=None,
                 solver="auto", use_legacy_attributes=True, penalty_factor=None,
                 lower_bounds=None, upper_bounds=None):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.penalty = penalty
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.random_state = random_state
        self.solver = solver
        self.use_legacy_attributes = use_legacy_attributes
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    @one_blas_thread
    def fit(self, X, y, sample_weight=None, **params):
        """Choose ``C`` (and ``l1_ratio``) by cross-validation and fit the final model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        **params
            Passed to the splitter's ``split`` (e.g. ``groups``).

        Returns
        -------
        self
        """
        Cs = _check_grid(self.Cs)
        ratios = self._effective_l1_ratios()
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        solver = "prox_newton" if self.solver == "auto" else self.solver
        if solver not in ("prox_newton", "fista"):
            raise ValueError(f"solver must be 'auto', 'prox_newton' or 'fista', got "
                             f"{self.solver!r}.")
        if dask_input(X, y, sample_weight):  # passes over the row blocks, X stays there
            from ._dask_logistic_cv import fit_logistic_cv
            return fit_logistic_cv(self, X, y, sample_weight, Cs, ratios, solver, params)
        spec = LogisticPath(self.fit_intercept, float(ratios.max()), self.tol, self.max_iter,
                            solver, class_weight=self.class_weight,
                            features=plan.feature_options(self))
        spec, data = spec.prepare(self, X, y, sample_weight)
        (X, y), classes = data[:2], spec.classes
        folds = split(self.cv, X, y, classifier=True, weights=data[3], **params)
        spec.scorer = _fold_scorer(self.scoring, classes) if self.scoring is not None \
            else None
        spec.scorer_weights = _scorer_takes_weights(self.scoring)
        runs = plan.cross_validate([(spec.with_l1_ratio(ratio), Cs) for ratio in ratios], data,
                              folds, self.n_jobs, verbose=int(self.verbose))
        failures = sum(run.failures for run in runs)
        _warn_failures(failures, (len(folds) + 1) * ratios.size * Cs.size, self.max_iter)
        penalty = spec.penalty
        # scores: (n_folds, n_l1, n_cs); coefs: (n_folds, n_l1, n_cs, K, p)
        fold_paths = [[run.folds[f] for run in runs] for f in range(len(folds))]
        scores = np.array([[fold.scores for fold in row] for row in fold_paths])
        fold_coefs = np.array([[fold.path.coefs for fold in row] for row in fold_paths])
        fold_intercepts = np.array([[fold.path.intercepts for fold in row]
                                    for row in fold_paths])
        n_iter = np.array([[fold.path.n_iters for fold in row] for row in fold_paths])
        full = [run.full for run in runs]
        mean = scores.mean(axis=0)  # (n_l1, n_cs)
        best_ratio, best_c = np.unravel_index(int(np.argmax(mean)), mean.shape)
        if self.refit:
            coef = full[best_ratio].coefs[best_c]
            intercept = full[best_ratio].intercepts[best_c]
            C, l1_ratio = float(Cs[best_c]), float(ratios[best_ratio])
        else:  # scikit-learn: average the folds' models at each fold's best C
            best = [np.unravel_index(int(np.argmax(scores[f])), mean.shape)
                    for f in range(len(folds))]
            coef = np.mean([fold_coefs[f][b] for f, b in enumerate(best)], axis=0)
            intercept = np.mean([fold_intercepts[f][b] for f, b in enumerate(best)], axis=0)
            C = float(np.mean([Cs[b[1]] for b in best]))
            l1_ratio = float(np.mean([ratios[b[0]] for b in best]))
        self.classes_ = classes
        self.coef_ = cast_within_bounds(coef, penalty, X.dtype)
        self.intercept_ = (intercept if self.fit_intercept else np.zeros_like(intercept)
                           ).astype(X.dtype)
        self.Cs_ = Cs
        self.l1_ratios_ = ratios
        self._store_attributes(C, l1_ratio, scores, fold_coefs, fold_intercepts, n_iter)
        return self

    def _effective_l1_ratios(self) -> np.ndarray:
        """Validate ``penalty``/``l1_ratios`` and return the l1_ratios to use."""
        ratios = self.l1_ratios
        if isinstance(ratios, (str, bytes)) or any(
                isinstance(r, bool) or not isinstance(r, numbers.Real)
                for r in np.atleast_1d(np.asarray(ratios, dtype=object))):
            raise ValueError(f"l1_ratios must be a non-empty list of numbers in [0, 1], got "
                             f"{ratios!r}.")
        ratios = np.atleast_1d(np.asarray(ratios, dtype=np.float64))
        if ratios.ndim != 1 or ratios.size == 0:
            raise ValueError("l1_ratios must be a non-empty list of numbers in [0, 1].")
        for ratio in ratios:
            _check_real("l1_ratios", float(ratio), low=0.0, high=1.0)
        ratio = l1_ratio_of_penalty(self.penalty, "LogisticRegressionCV", "Cs=(np.inf,)",
                                    "l1_ratios", "l1_ratios=(1,) for 'l1', values between 0 "
                                    "and 1 for 'elasticnet', l1_ratios=(0,) for 'l2'")
        return ratios if ratio is None else np.array([ratio])

    def score(self, X, y, sample_weight=None):
        """Score with the ``scoring`` option (accuracy when None), as scikit-learn's
        :class:`~sklearn.linear_model.LogisticRegressionCV`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
            For example ``-log_loss`` with ``scoring="neg_log_loss"``.
        """
        scorer = get_scorer(self.scoring or "accuracy")
        params = {}
        if sample_weight is not None:
            if not _scorer_takes_weights(self.scoring):
                raise TypeError(f"{type(self).__name__}.score got unexpected argument(s) "
                                "{'sample_weight'}, which are not routed to any object.")
            params["sample_weight"] = sample_weight
        return scorer(self, X, y, **params)

    def _scoring_model(self, classes, dtype) -> LogisticRegression:
        model = LogisticRegression(fit_intercept=self.fit_intercept)
        model.classes_ = classes
        model.n_features_in_ = self.n_features_in_
        return model

    def _store_attributes(self, C, l1_ratio, scores, fold_coefs, fold_intercepts, n_iter):
        paths = fold_coefs
        if self.fit_intercept:
            paths = np.concatenate([fold_coefs, fold_intercepts[..., None]], axis=-1)
        if not self.use_legacy_attributes:
            self.C_, self.l1_ratio_ = C, l1_ratio
            self.scores_, self.coefs_paths_ = scores, paths
            self.n_iter_ = n_iter
            return
        keys = self.classes_[1:] if self.classes_.size == 2 else self.classes_
        repeat = len(keys)
        self.C_ = np.full(repeat, C)
        self.l1_ratio_ = np.full(repeat, l1_ratio)
        # scikit-learn's layout when l1_ratios are given: the l1_ratio axis comes after Cs.
        legacy_scores = np.moveaxis(scores, 1, 2)  # (n_folds, n_cs, n_l1)
        self.scores_ = {key: legacy_scores.copy() for key in keys}
        self.coefs_paths_ = {key: np.moveaxis(paths[:, :, :, k, :], 1, 2)
                             for k, key in enumerate(keys)}  # (n_folds, n_cs, n_l1, n_dof)
        self.n_iter_ = np.moveaxis(n_iter, 1, 2)[None]  # (1, n_folds, n_cs, n_l1)

    decision_function = LogisticRegression.decision_function
    predict = LogisticRegression.predict

    def predict_proba(self, X):
        """Class probabilities (see :meth:`fastl1.LogisticRegression.predict_proba`)."""
        return LogisticRegression.predict_proba(self, X)

    def predict_log_proba(self, X):
        """Log class probabilities (see :meth:`fastl1.LogisticRegression.predict_log_proba`)."""
        return LogisticRegression.predict_log_proba(self, X)
