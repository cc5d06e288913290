"""L1 / elastic-net Cox proportional-hazards regression: estimator, path, cross-validation.

The objective is glmnet's (``family="cox"``) and scikit-survival's
(``CoxnetSurvivalAnalysis``)::

    - 1/n log PL(X w) + alpha * sum_j f_j (l1_ratio |w_j| + (1 - l1_ratio)/2 w_j^2)

with the (weighted, stratified) log partial likelihood ``PL`` of :mod:`._cox_data`, Breslow's
or Efron's ties, sample weights rescaled to sum to ``n``, penalty factors ``f`` and optional
bounds. There is no intercept (the partial likelihood does not see one). It is fitted by
proximal Newton steps over the squared-loss engine (:mod:`._irls`) with the curvature taken
as the Hessian's diagonal, as glmnet's coxnet does (Simon et al., J. Stat. Softw. 2011), and a
line search on the true objective.

The certificate is the largest KKT violation (the distance from the negative gradient to the
penalty's subdifferential), reported in ``dual_gap_``: the partial likelihood has no cheap
dual. A fit stops once it is at most ``tol`` times the largest gradient entry of the null model
``w = 0`` (per sample), a scale-free rule.
"""

from __future__ import annotations

import copy

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _path_plan as plan
from ._cox_data import CoxDatafit, RiskSets, check_strata, check_survival
from ._cox_metrics import StepFunction, breslow_baseline, concordance_index
from ._dask import dask_input
from ._irls import design_correlations, linear_predictor, prox_newton
from ._validation import _check_bool, _check_int, _check_real, check_sparse_structure
from ._warn import warn_user
from .cv import one_standard_error_index, split
from .linear_model import feature_penalty_of
from .poisson import _check_grid

__all__ = ["CoxRegression", "CoxRegressionCV", "cox_path"]

# The Newton subproblems' engine options: its defaults. With Anderson extrapolation (and the
# support steps it enables) breast_cancer's 100-alpha path at tol=1e-4 takes 5,000
# coordinate-descent epochs, without it 26,000 (three fits stopping at max_iter=1000);
# 2026-12-07, 2-core machine, docs/survival.md.
_SOLVER_OPTIONS: dict = {}


class _Survival:
    """One data set's design, validated survival target, weights (summing to ``n``),
    strata, datafit and stopping scale."""

    def __init__(self, X, time, event, weights, strata, ties):
        # In the layout the engine reads (every Newton step builds a problem on X: a C-ordered
        # or CSR design would be converted at each one); a copy only when needed.
        X = X.tocsc() if sp.issparse(X) else np.asfortranarray(X)
        self.X, self.time, self.event, self.weights, self.strata = (X, time, event, weights,
                                                                     strata)
        self.datafit = CoxDatafit(RiskSets.build(time, event, weights, strata, ties))
        n = X.shape[0]
        # X^T (-F'(0)): the stopping rule's scale, and the first working-set round's
        # gradient of a fit from zero
        self.null_gradient = design_correlations(X, -self.datafit.derivatives(np.zeros(n))[0])
        top = float(np.max(np.abs(self.null_gradient), initial=0.0)) / n
        self.scale = top if top > 0 else 1.0

    def rows(self, rows: np.ndarray, ties: str) -> _Survival:
        """The data set of ``rows``, its weights rescaled to sum to their number (glmnet
        normalises every fit's weights)."""
        weights = self.weights[rows]
        return _Survival(self.X[rows], self.time[rows], self.event[rows],
                         weights * (rows.shape[0] / weights.sum()),
                         None if self.strata is None else self.strata[rows], ties)


def _check_weights(sample_weight, n: int) -> np.ndarray:
    if sample_weight is None:
        return np.ones(n)
    weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if weights.shape[0] != n or not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("sample_weight must hold one finite, non-negative weight per sample.")
    if not weights.sum() > 0:
        raise ValueError("sample_weight sums to zero.")
    return weights * (n / weights.sum())


def _prepare(estimator, X, y, sample_weight, groups, ties=None) -> _Survival:
    """The validated data set (``estimator`` records the features; ``ties``: its own by
    default); X keeps its format (CSR, CSC or dense) and dtype."""
    ties = estimator.ties if ties is None else ties
    if dask_input(X, y, sample_weight):
        raise ValueError("Cox regression does not take Dask arrays (its risk sets span the "
                         "row blocks); compute X and y first.")
    if ties not in ("breslow", "efron"):
        raise ValueError(f"ties must be 'breslow' or 'efron', got {ties!r}.")
    check_sparse_structure(X)
    X = validate_data(estimator, X, accept_sparse=["csc", "csr"],
                      dtype=[np.float64, np.float32], accept_large_sparse=True)
    time, event = check_survival(y, X.shape[0])
    weights = _check_weights(sample_weight, X.shape[0])
    if not np.any(event & (weights > 0)):
        raise ValueError("No events (with positive weight): every sample is censored, so the "
                         "partial likelihood is constant and the Cox model undefined.")
    return _Survival(X, time, event, weights, check_strata(groups, X.shape[0]), ties)


def _fit(data: _Survival, alpha, l1_ratio, penalty, tol, max_iter, coef=None, start=None):
    """A proximal Newton fit from ``coef`` (zeros by default); ``start``: ``(eta, grad)``
    at ``coef`` (see :func:`._irls.prox_newton`), known at zero."""
    if coef is None or not np.any(coef):
        coef = np.zeros(data.X.shape[1])
        start = (np.zeros(data.X.shape[0]), data.null_gradient)
    return prox_newton(data.X, data.datafit, alpha, l1_ratio, penalty, coef=coef,
                       intercept=0.0, fit_intercept=True, offset=None, tol=tol,
                       tol_scale=data.scale, max_iter=max_iter, solver_options=_SOLVER_OPTIONS,
                       start=start)


def cox_alpha_max(data: _Survival, l1_ratio, penalty) -> float:
    """Smallest alpha at which every penalised coefficient is zero (the unpenalised features
    fitted first)."""
    n = data.X.shape[0]
    coef = np.zeros(data.X.shape[1])
    if np.any(penalty.factor == 0):
        coef = _fit(data, 1e12, l1_ratio, penalty, 1e-10, 10_000).coef
    eta = linear_predictor(data.X, coef, 0.0, None)
    grad = np.abs(design_correlations(data.X, data.datafit.derivatives(eta)[0]))
    penalised = penalty.factor > 0
    top = float(np.max(grad[penalised] / penalty.factor[penalised], initial=0.0))
    return top / (n * max(l1_ratio, 1e-3))


def _grid(data, alphas, eps, l1_ratio, penalty):
    if eps is None:  # glmnet's lambda.min.ratio
        eps = 1e-2 if data.X.shape[0] < data.X.shape[1] else 1e-4
    alphas = _check_grid(alphas, eps)
    if not isinstance(alphas, int):
        return alphas
    top = cox_alpha_max(data, l1_ratio, penalty)
    top = top if top > 0 else np.finfo(np.float64).resolution
    return np.geomspace(top, top * eps, num=alphas)


def _path(data: _Survival, alphas, l1_ratio, penalty, tol, max_iter, on_point=None):
    """Warm-started fits along ``alphas`` (largest first) on the plan's loop
    (:func:`fastl1._path_plan.trace_path`): coefficients (p, k), certificates and how many
    fits did not converge."""
    coefs = np.zeros((data.X.shape[1], alphas.shape[0]))
    state = {"coef": None, "start": None}

    def fit_point(k, alpha):
        result = _fit(data, float(alpha), l1_ratio, penalty, tol, max_iter, state["coef"],
                      state["start"])
        state["coef"] = coefs[:, k] = result.coef
        # The next fit starts at intercept 0 (the partial likelihood ignores it, but the
        # Newton loop's eta must be X w + intercept): eta without the loop's intercept.
        state["start"] = None if result.grad is None else (result.eta - result.intercept,
                                                           result.grad)
        return plan.Point(result.coef, None, result.certificate, result.n_iter, result.converged)

    trace = plan.trace_path(fit_point, alphas, on_point)
    return coefs, trace.gaps, len(trace.failures)


class CoxPath(plan.PathSpec):
    """The Cox partial likelihood in the path plan (:mod:`fastl1._path_plan`): paths by
    proximal Newton fits, each fold scored by glmnet's grouped cross-validated deviance
    (``cv.glmnet(family="cox")``; :class:`_GroupedDeviance`), weighted by its events.

    ``data`` is ``(survival,)``: the :class:`_Survival` data set of all rows (strata
    included); ``weight_scale`` is the user's mean sample weight (the fold weights' scale);
    ``features`` are the per-feature penalty's parameters.
    """

    takes_groups = True

    def __init__(self, l1_ratio: float, tol: float, max_iter: int, ties: str = "breslow", *,
                 penalty=None, features=None):
        self.l1_ratio, self.tol, self.max_iter = float(l1_ratio), float(tol), int(max_iter)
        self.ties, self.penalty, self.features = ties, penalty, features
        self.weight_scale = 1.0

    def prepare(self, owner, X, y, sample_weight=None, groups=None):
        survival = _prepare(owner, X, y, sample_weight, groups, self.ties)
        spec = copy.copy(self)
        spec.penalty = self.feature_penalty(survival.X.shape[1])
        if sample_weight is not None:
            spec.weight_scale = float(np.sum(sample_weight)) / survival.X.shape[0]
        return spec, (survival,)

    def n_samples(self, data):
        return data[0].X.shape[0]

    def n_features(self, data):
        return data[0].X.shape[1]

    def row_weights(self, data):
        return data[0].weights

    def grid(self, data, alphas, eps):
        grid = _grid(data[0], alphas, eps, self.l1_ratio, self.penalty)
        return grid, grid

    def rows(self, data, rows):
        return data[0] if rows is None else data[0].rows(rows, self.ties)

    def path(self, fold, grid, on_point=None, store=True):
        if not np.any(fold.event & (fold.weights > 0)):  # (a subsample without events)
            coefs = np.zeros((fold.X.shape[1], grid.shape[0]))
            return plan.PathOutcome(coefs, None, np.zeros(grid.shape[0]), None, 0)
        coefs, gaps, failures = _path(fold, grid, self.l1_ratio, self.penalty, self.tol,
                                      self.max_iter, on_point)
        return plan.PathOutcome(coefs, None, gaps, None, failures)

    def fold_scorer(self, data, fold, test, grid):
        return _GroupedDeviance(data[0], fold, test, self.weight_scale)


class _GroupedDeviance(plan.FoldScorer):
    """glmnet's grouped cross-validated deviance of fold ``test`` at each alpha: the
    deviance on all rows minus that on the training rows, of the training rows' path, over
    the fold's event weight (``buildPredmat.coxnetlist`` and ``cv.coxnet``)."""

    def __init__(self, data: _Survival, rows: _Survival, test, weight_scale: float):
        self.data, self.training, self.test = data, rows, test
        self.weight_scale = weight_scale

    def finish(self, path):
        data, rows, test = self.data, self.training, self.test
        full = data.datafit.deviance(np.asarray(data.X @ path.coefs, dtype=np.float64))
        training = rows.datafit.deviance(np.asarray(rows.X @ path.coefs, dtype=np.float64))
        fold_events = self.weight_scale * float(np.sum(data.weights[test] * data.event[test]))
        return plan.FoldOutcome((full - training) / fold_events, fold_events,
                           failures=path.failures)


class CoxRegression(BaseEstimator):
    """Cox proportional-hazards regression with an L1 or elastic-net penalty.

    Minimises ``-1/n log PL(X w) + alpha * penalty(w)``: glmnet's ``family="cox"`` and
    scikit-survival's ``CoxnetSurvivalAnalysis`` objective (weighted and stratified partial
    likelihood, Breslow or Efron ties), by proximal Newton steps over fastl1's
    coordinate-descent engine (dense, CSC or CSR X, never densified; float32 stays float32).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``.
    l1_ratio : float, default=1.0
        Mix of L1 (1.0) and L2 (0.0) penalties.
    ties : {'breslow', 'efron'}, default='breslow'
        Approximation of the partial likelihood at tied event times (glmnet: Breslow; R's
        ``coxph`` default: Efron).
    penalty_factor, lower_bounds, upper_bounds : array-like, default=None
        Per-feature penalty factors and coefficient bounds, as in :class:`fastl1.ElasticNet`.
    tol : float, default=1e-4
        Stop when the largest KKT violation is below ``tol`` times the largest gradient entry
        of the null model (both per sample).
    max_iter : int, default=1000
        Coordinate-descent epochs, all Newton steps together.
    warm_start : bool, default=False
        Start from the previous solution.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    dual_gap_ : float
        The largest KKT violation at the solution (objective's scale).
    n_iter_ : int
        Coordinate-descent epochs, all Newton steps together.
    n_newton_ : int
        Proximal Newton steps.
    unique_times_ : ndarray
        The distinct times of the training samples (where the predicted step functions jump).
    cum_baseline_hazard_ : list of (times, values)
        Breslow's cumulative baseline hazard of each stratum (one entry without strata).

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import CoxRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 10))
    >>> time = rng.exponential(np.exp(-(X[:, 0] - 0.5 * X[:, 1])))
    >>> y = np.column_stack([time, rng.random(200) < 0.8])  # columns time, event
    >>> model = CoxRegression(alpha=0.1).fit(X, y)
    >>> np.flatnonzero(model.coef_).tolist()
    [0, 1]
    """

    def __init__(self, alpha=1.0, *, l1_ratio=1.0, ties="breslow", penalty_factor=None,
                 lower_bounds=None, upper_bounds=None, tol=1e-4, max_iter=1000,
                 warm_start=False):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.ties = ties
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_bool("warm_start", self.warm_start)
        self._check_shared_params()

    def _check_shared_params(self):
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)

    def _path_spec(self) -> CoxPath:
        """The Cox datafit's side of the path plan, with this model's options (validated;
        a :class:`CoxRegressionCV` has no alpha to check)."""
        self._check_shared_params()
        return CoxPath(self.l1_ratio, self.tol, self.max_iter, self.ties,
                       features=plan.feature_options(self))

    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : structured array of shape (n_samples,) or array-like of shape (n_samples, 2)
            scikit-survival's structured array (a boolean event field and a float time
            field, any names) or columns ``time, event`` (event 0/1 or False/True).
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Strata: each has its own risk sets and baseline hazard.

        Returns
        -------
        self
        """
        self._check_params()
        data = _prepare(self, X, y, sample_weight, groups)
        penalty = feature_penalty_of(self, data.X.shape[1], self.l1_ratio)
        coef = None
        if (self.warm_start and hasattr(self, "coef_")
                and self.coef_.shape[0] == data.X.shape[1]):
            coef = self.coef_.astype(np.float64)
        result = _fit(data, float(self.alpha), float(self.l1_ratio), penalty, float(self.tol),
                      int(self.max_iter), coef)
        if not result.converged:
            warn_user(f"Cox regression did not converge after {result.n_iter} epochs "
                      f"({result.n_newton} Newton steps): KKT violation "
                      f"{result.certificate:.3e}. Increase max_iter or alpha.",
                      ConvergenceWarning)
        self.coef_ = result.coef.astype(data.X.dtype)
        self.dual_gap_ = float(result.certificate)
        self.n_iter_ = int(result.n_iter)
        self.n_newton_ = int(result.n_newton)
        self._set_baseline(data, groups)
        return self

    def _set_baseline(self, data: _Survival, groups) -> None:
        eta = linear_predictor(data.X, self.coef_.astype(np.float64), 0.0, None)
        self.cum_baseline_hazard_ = breslow_baseline(data.time, data.event, data.weights,
                                                     data.strata, eta)
        self.unique_times_ = np.unique(data.time)
        self._strata = None if groups is None else np.unique(np.asarray(groups))

    def _linear(self, X):
        check_is_fitted(self)
        check_sparse_structure(X)
        X = validate_data(self, X, reset=False, accept_sparse=["csc", "csr"],
                          dtype=[np.float64, np.float32], accept_large_sparse=True)
        return linear_predictor(X, self.coef_.astype(np.float64), 0.0, None)

    def predict(self, X):
        """The linear risk score ``X w`` (higher: higher hazard, shorter survival)."""
        return self._linear(X)

    def score(self, X, y):
        """Harrell's concordance index of :meth:`predict` (as scikit-survival's
        ``concordance_index_censored``; y as in :meth:`fit`)."""
        estimate = self.predict(X)
        time, event = check_survival(y, estimate.shape[0])
        return concordance_index(event, time, estimate)

    def _step_functions(self, X, groups, survival: bool, return_array: bool):
        eta = self._linear(X)
        if self._strata is None:
            if groups is not None:
                raise ValueError("groups given, but the model was fitted without strata.")
            codes = np.zeros(eta.shape[0], dtype=np.int64)
        else:
            if groups is None:
                raise ValueError("The model was fitted with strata: pass each sample's "
                                 "stratum as groups.")
            labels = np.asarray(groups)
            codes = np.searchsorted(self._strata, labels)
            known = (codes < self._strata.shape[0]) & (
                self._strata[np.minimum(codes, self._strata.shape[0] - 1)] == labels)
            if labels.shape != eta.shape or not np.all(known):
                raise ValueError("groups must give one stratum seen in fit per sample.")
        if return_array:
            values = np.empty((eta.shape[0], self.unique_times_.shape[0]))
            for code, (times, hazard) in enumerate(self.cum_baseline_hazard_):
                index = np.searchsorted(times, self.unique_times_, side="right") - 1
                base = np.where(index >= 0, hazard[np.maximum(index, 0)], 0.0)
                values[codes == code] = np.exp(eta[codes == code])[:, None] * base
            return np.exp(-values) if survival else values
        functions = np.empty(eta.shape[0], dtype=object)
        for i, (code, scale) in enumerate(zip(codes, np.exp(eta), strict=True)):
            times, hazard = self.cum_baseline_hazard_[code]
            functions[i] = (StepFunction(times, np.exp(-scale * hazard), initial=1.0)
                            if survival else StepFunction(times, hazard, a=scale))
        return functions

    def predict_cumulative_hazard_function(self, X, groups=None, return_array=False):
        """Each sample's cumulative hazard ``H_0(t) exp(x w)`` (Breslow's baseline).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        groups : array-like of shape (n_samples,), default=None
            The samples' strata (required when fitted with strata).
        return_array : bool, default=False
            Return the values at :attr:`unique_times_` instead of functions.

        Returns
        -------
        ndarray of :class:`~fastl1._cox_metrics.StepFunction` of shape (n_samples,), or
        ndarray of shape (n_samples, n_unique_times)
            Step functions with scikit-survival's interface (``.x``, ``.y``, ``.a``,
            ``.domain``, called on times), or their values (held after a stratum's last
            time).
        """
        return self._step_functions(X, groups, False, return_array)

    def predict_survival_function(self, X, groups=None, return_array=False):
        """Each sample's survival ``exp(-H_0(t) exp(x w))`` (Breslow's baseline); parameters
        and returns as :meth:`predict_cumulative_hazard_function`."""
        return self._step_functions(X, groups, True, return_array)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags


def cox_path(X, y, *, l1_ratio=1.0, ties="breslow", eps=None, alphas=100,
             sample_weight=None, groups=None, tol=1e-4, max_iter=1000, penalty_factor=None,
             lower_bounds=None, upper_bounds=None):
    """Cox regularisation path by warm-started proximal Newton fits.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : structured array or array-like of shape (n_samples, 2)
        As in :meth:`CoxRegression.fit`.
    l1_ratio, ties, tol, max_iter, penalty_factor, lower_bounds, upper_bounds
        As in :class:`CoxRegression`.
    eps : float, default=None
        Grid end: ``alpha_min = eps * alpha_max``; None: glmnet's ``lambda.min.ratio``
        (0.01 when ``n_samples < n_features``, else 1e-4).
    alphas : int or array-like, default=100
        Grid size (log-spaced from ``alpha_max``, where every penalised coefficient is 0) or
        the alphas themselves.
    sample_weight, groups : array-like of shape (n_samples,), default=None
        Sample weights and strata.

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    dual_gaps : ndarray of shape (n_alphas,)
        The KKT violation at each alpha (see :class:`CoxRegression`).
    """
    estimator = CoxRegression(l1_ratio=l1_ratio, ties=ties, tol=tol, max_iter=max_iter,
                              penalty_factor=penalty_factor, lower_bounds=lower_bounds,
                              upper_bounds=upper_bounds)
    estimator._check_params()
    data = _prepare(estimator, X, y, sample_weight, groups)
    penalty = feature_penalty_of(estimator, data.X.shape[1], l1_ratio)
    grid = _grid(data, alphas, eps, float(l1_ratio), penalty)
    coefs, gaps, failures = _path(data, grid, float(l1_ratio), penalty, float(tol),
                                  int(max_iter))
    if failures:
        warn_user(f"Cox path: {failures} of {grid.shape[0]} alphas did not converge within "
                  "max_iter; increase max_iter.", ConvergenceWarning)
    return grid, coefs, gaps


def _check_folds(data: _Survival, folds) -> None:
    for k, (train, test) in enumerate(folds):
        for rows, part in ((train, "training"), (test, "test")):
            if not np.any(data.event[rows] & (data.weights[rows] > 0)):
                raise ValueError(f"Cross-validation fold {k}'s {part} rows have no events; "
                                 "use fewer folds or folds stratified on the event.")


class CoxRegressionCV(CoxRegression):
    """Cox regression with alpha chosen by cross-validated partial-likelihood deviance.

    Each fold computes a warm-started path on its training rows; its score at each alpha is
    glmnet's grouped cross-validated deviance (Verweij & van Houwelingen, Stat. Med. 1993;
    ``cv.glmnet(family="cox")``): the partial-likelihood deviance of all rows minus that of
    the training rows, divided by the test rows' event weight. The folds' mean and standard
    error are weighted by their event weights, as glmnet's. The path on all rows runs
    alongside (on threads, :func:`fastl1.cv.run_jobs`) and supplies the final model; the
    result is identical for any ``n_jobs``.

    Parameters
    ----------
    l1_ratio, ties, tol, max_iter, penalty_factor, lower_bounds, upper_bounds
        As in :class:`CoxRegression`.
    eps : float, default=None
        As in :func:`cox_path`.
    alphas : int or array-like, default=100
    cv : int, cross-validation generator or iterable, default=None
        Folds (5 by default). The event indicator is the splitter's ``y`` (so
        ``StratifiedKFold`` balances events); ``groups`` are strata, not split groups.
    n_jobs : int, default=None
        Threads (-1: all cores).
    alpha_rule : {'min', '1se'}, default='min'
        The alpha of least mean deviance, or the largest within one standard error of it.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_ : float
    alphas_ : ndarray of shape (n_alphas,)
    deviance_path_ : ndarray of shape (n_alphas, n_folds)
        Each fold's deviance per event (glmnet's ``cvraw``, transposed).
    deviance_mean_, deviance_std_error_ : ndarray of shape (n_alphas,)
        glmnet's ``cvm`` and ``cvsd``.
    coef_, dual_gap_ : as :class:`CoxRegression`
    """

    def __init__(self, *, l1_ratio=1.0, ties="breslow", eps=None, alphas=100, max_iter=1000,
                 tol=1e-4, cv=None, n_jobs=None, alpha_rule="min", penalty_factor=None,
                 lower_bounds=None, upper_bounds=None):
        super().__init__(l1_ratio=l1_ratio, ties=ties, max_iter=max_iter, tol=tol,
                         penalty_factor=penalty_factor, lower_bounds=lower_bounds,
                         upper_bounds=upper_bounds)
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.n_jobs = n_jobs
        self.alpha_rule = alpha_rule

    def _check_params(self):
        self._check_shared_params()
        if self.alpha_rule not in ("min", "1se"):
            raise ValueError(f"alpha_rule must be 'min' or '1se', got {self.alpha_rule!r}.")

    def fit(self, X, y, sample_weight=None, groups=None, **params):
        """Choose alpha by cross-validation, then keep the full-data model at it.

        Parameters
        ----------
        X, y, sample_weight, groups
            As in :meth:`CoxRegression.fit`.
        **params
            Passed to the splitter's ``split``.

        Returns
        -------
        self
        """
        self._check_params()
        spec, (data,) = self._path_spec().prepare(self, X, y, sample_weight, groups)
        _, grid = spec.grid((data,), self.alphas, self.eps)
        folds = split(self.cv, data.X, data.event, weights=data.weights, **params)
        _check_folds(data, folds)
        (run,) = plan.cross_validate([(spec, grid)], (data,), folds, self.n_jobs)
        coefs, gaps = run.full.coefs, run.full.gaps
        if run.failures:
            warn_user(f"{run.failures} path fits did not converge within max_iter; increase "
                      "max_iter.", ConvergenceWarning)
        self._choose(grid, run.scores, np.array([fold.weight for fold in run.folds]))
        index = int(np.flatnonzero(grid == self.alpha_)[0])
        self.coef_ = coefs[:, index].astype(data.X.dtype)
        self.dual_gap_ = float(gaps[index])
        self._set_baseline(data, groups)
        return self

    def _choose(self, grid, deviance, fold_weights) -> None:
        """glmnet's ``cvstats``: event-weighted mean over folds, and its standard error
        ``sqrt(weighted mean of squared deviations / (k - 1))``."""
        mean = deviance @ fold_weights / fold_weights.sum()
        k = deviance.shape[1]
        spread = ((deviance - mean[:, None]) ** 2) @ fold_weights / fold_weights.sum()
        std_error = np.sqrt(spread / (k - 1)) if k > 1 else np.zeros_like(mean)
        best = int(np.argmin(mean))
        index_1se = one_standard_error_index(mean, std_error)
        self.alphas_ = grid
        self.deviance_path_ = deviance
        self.deviance_mean_ = mean
        self.deviance_std_error_ = std_error
        self.alpha_min_ = float(grid[best])
        self.alpha_1se_ = float(grid[index_1se])
        self.alpha_ = float(grid[best if self.alpha_rule == "min" else index_1se])
