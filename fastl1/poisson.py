"""L1 / elastic-net Poisson regression (log link): estimator, path and cross-validation.

The objective is glmnet's and scikit-learn's::

    1/n sum_i s_i (exp(eta_i) - y_i eta_i)
        + alpha * sum_j f_j (l1_ratio |w_j| + (1 - l1_ratio)/2 w_j^2)

with ``eta = X w + b + offset`` (``offset``: log exposure), sample weights ``s`` (rescaled to
sum to ``n``), penalty factors ``f`` and optional bounds. It is fitted by proximal Newton steps
over the squared-loss engine (:mod:`._irls`). Non-integer counts are accepted: the fit is then
the quasi-Poisson one (the same estimating equations; only the likelihood's interpretation
changes).

The certificate is the duality gap: for ``theta = s (y - mu)`` (after an exact intercept
step, so that ``sum(theta) = 0``) and the datafit's conjugate
``f_i*(u) = (u + s_i y_i) (log((u + s_i y_i) / s_i) - 1)``, rescaled into the dual feasible set
as for the lasso. With unpenalised features or bounds, ``dual_gap_`` holds the largest KKT
violation instead.
"""

from __future__ import annotations

import copy
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import d2_tweedie_score
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _path_plan as plan
from ._dask import dask_input
from ._irls import (
    design_correlations,
    kkt_violation,
    linear_predictor,
    penalty_conjugate_gap,
    prox_newton,
)
from ._validation import _check_bool, _check_int, _check_real, check_sparse_structure
from ._warn import warn_user
from .cv import fold_std_error, one_standard_error_index, split
from .linear_model import feature_penalty_of

__all__ = ["PoissonRegression", "PoissonRegressionCV", "poisson_path"]


class PoissonDatafit:
    """``F(eta) = sum_i s_i (exp(eta_i) - y_i eta_i)`` and its certificate."""

    def __init__(self, y: np.ndarray, weights: np.ndarray, offset: np.ndarray | None):
        self.y = y
        self.weights = weights
        self.offset = offset

    def value(self, eta: np.ndarray) -> float:
        with np.errstate(over="ignore"):
            return float(np.sum(self.weights * (np.exp(eta) - self.y * eta)))

    def derivatives(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = np.exp(np.minimum(eta, 700.0))  # (exp overflows past 709)
        return self.weights * (mu - self.y), self.weights * mu

    def intercept_step(self, eta: np.ndarray) -> float:
        # d/db sum s (exp(eta + b) - y (eta + b)) = 0  <=>  b = log(sum s y / sum s mu)
        mu_total = float(np.sum(self.weights * np.exp(np.minimum(eta, 700.0))))
        return float(np.log(np.sum(self.weights * self.y) / mu_total))

    def certificate(self, X, coef, eta, penalty_value, strengths, penalty,
                    grad=None) -> float:
        n = X.shape[0]
        mu = np.exp(np.minimum(eta, 700.0))
        theta = self.weights * (self.y - mu)
        if grad is None:
            grad = design_correlations(X, theta)
        simple = bool(np.all(penalty.factor > 0) and np.all(np.isinf(penalty.lower))
                      and np.all(np.isinf(penalty.upper)))
        if not simple:
            return kkt_violation(grad, coef, strengths, penalty, n)
        scale, conjugate = penalty_conjugate_gap(grad, coef, penalty_value, strengths, penalty,
                                                 n)
        q = (1.0 - scale) * self.y + scale * mu
        with np.errstate(divide="ignore", invalid="ignore"):
            q_log_q = np.where(q > 0.0, q * np.log(q), 0.0)
        conj = np.sum(self.weights * (q_log_q - q))
        shift = 0.0 if self.offset is None else float(np.sum(scale * theta * self.offset))
        primal = self.value(eta) + n * penalty_value
        dual = -conj - shift - conjugate
        # (eta's own offset term: the datafit is f(x w + o), whose conjugate adds -u o)
        return max(primal - dual, 0.0)


def _check_counts(y, weights) -> None:
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or infinity; Poisson regression needs counts.")
    if np.any(y < 0):
        raise ValueError("Poisson regression needs non-negative y (counts); got "
                         f"{int(np.sum(y < 0))} negative value(s).")
    if not np.sum(weights * y) > 0:
        raise ValueError("y is zero for every sample (with positive weight): the Poisson "
                         "mean would be 0 and its log-linear model has no solution.")


def _check_offset(offset, n: int) -> np.ndarray | None:
    if offset is None:
        return None
    offset = np.asarray(offset, dtype=np.float64).reshape(-1)
    if offset.shape[0] != n:
        raise ValueError(f"offset has {offset.shape[0]} entries for {n} samples.")
    if not np.all(np.isfinite(offset)):
        raise ValueError("offset contains NaN or infinity (it is a log exposure).")
    return offset


def _prepare(estimator, X, y, sample_weight, offset, reset=True):
    """Validated ``(X, y, weights summing to n, offset)``; X keeps its format (CSR, CSC or
    dense) and dtype (float32 stays float32)."""
    if dask_input(X, y, sample_weight, offset):  # PoissonRegressionCV: the others dispatch
        raise ValueError(f"{type(estimator).__name__} does not take Dask arrays yet "
                         "(PoissonRegression and poisson_path do); compute X and y first.")
    check_sparse_structure(X)
    X, y = validate_data(estimator, X, y, reset=reset, accept_sparse=["csc", "csr"],
                         dtype=[np.float64, np.float32], y_numeric=True,
                         accept_large_sparse=True)
    y = np.asarray(y, dtype=np.float64)
    if not sp.issparse(X):
        X = np.asfortranarray(X)  # once: every Newton step's solver reads columns
    n = X.shape[0]
    if sample_weight is None:
        weights = np.ones(n)
    else:
        weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if weights.shape[0] != n or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError("sample_weight must hold one finite, non-negative weight per "
                             "sample.")
        if not weights.sum() > 0:
            raise ValueError("sample_weight sums to zero.")
        weights = weights * (n / weights.sum())
    _check_counts(y, weights)
    return X, y, weights, _check_offset(offset, n)


def _null_model(y, weights, offset) -> tuple[float, float]:
    """The intercept-only fit's intercept and the per-sample deviance over two of the null
    model (the stopping rule's scale)."""
    exposure = np.ones_like(y) if offset is None else np.exp(offset)
    intercept = float(np.log(np.sum(weights * y) / np.sum(weights * exposure)))
    mu = exposure * np.exp(intercept)
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
    scale = float(np.sum(weights * term)) / y.shape[0]
    return intercept, scale if scale > 0 else 1.0


def _fit(X, y, weights, offset, alpha, l1_ratio, penalty, *, fit_intercept, tol, max_iter,
         coef=None, intercept=None, start=None):
    """A proximal Newton fit from ``(coef, intercept)`` (the null model by default);
    ``start``: ``(eta, grad)`` there (see :func:`._irls.prox_newton`)."""
    datafit = PoissonDatafit(y, weights, offset)
    null_intercept, scale = _null_model(y, weights, offset)
    if not fit_intercept:
        null_intercept = 0.0
    coef = np.zeros(X.shape[1]) if coef is None else coef
    intercept = null_intercept if intercept is None else intercept
    return prox_newton(X, datafit, alpha, l1_ratio, penalty, coef=coef, intercept=intercept,
                       fit_intercept=fit_intercept, offset=offset, tol=tol, tol_scale=scale,
                       max_iter=max_iter, start=start)


def poisson_alpha_max(X, y, weights, offset, l1_ratio, penalty, fit_intercept) -> float:
    """Smallest alpha at which every penalised coefficient is zero (the unpenalised features
    and the intercept fitted first)."""
    n = X.shape[0]
    intercept, _ = _null_model(y, weights, offset)
    if not fit_intercept:
        intercept = 0.0
    coef = np.zeros(X.shape[1])
    if np.any(penalty.factor == 0):
        fitted = _fit(X, y, weights, offset, 1e12, l1_ratio, penalty,
                      fit_intercept=fit_intercept, tol=1e-10, max_iter=10_000)
        coef, intercept = fitted.coef, fitted.intercept
    mu = np.exp(np.minimum(linear_predictor(X, coef, intercept, offset), 700.0))
    grad = np.abs(design_correlations(X, weights * (y - mu)))
    penalised = penalty.factor > 0
    top = float(np.max(grad[penalised] / penalty.factor[penalised], initial=0.0))
    return top / (n * max(l1_ratio, 1e-3))


class PoissonRegression(RegressorMixin, BaseEstimator):
    """Poisson regression (log link) with an L1 or elastic-net penalty.

    Minimises ``1/n sum_i s_i (exp(eta_i) - y_i eta_i) + alpha * penalty(w)`` with
    ``eta = X w + b + offset`` (glmnet's ``family="poisson"`` and scikit-learn's
    :class:`~sklearn.linear_model.PoissonRegressor` objective, with an L1 term), by proximal
    Newton steps over fastl1's coordinate-descent engine (dense, CSC or CSR X, never
    densified).

    Parameters
    ----------
    alpha : float, default=1.0
        Regularisation strength, ``>= 0``.
    l1_ratio : float, default=1.0
        Mix of L1 (1.0) and L2 (0.0) penalties.
    fit_intercept : bool, default=True
        Fit an unpenalised intercept.
    max_iter : int, default=1000
        Coordinate-descent epochs, all Newton steps together.
    tol : float, default=1e-4
        Stop when the duality gap is below ``tol`` times the null model's deviance over two
        (per sample): a scale-free rule.
    warm_start : bool, default=False
        Start from the previous solution.
    penalty_factor, lower_bounds, upper_bounds : array-like, default=None
        Per-feature penalty factors and coefficient bounds, as in :class:`fastl1.ElasticNet`.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
        The duality gap at the solution (objective's scale); with unpenalised features or
        bounds, the largest KKT violation (``n`` times smaller than a gradient entry).
    n_iter_ : int
        Coordinate-descent epochs, all Newton steps together.
    n_newton_ : int
        Proximal Newton steps.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import PoissonRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 10))
    >>> y = rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1]))
    >>> model = PoissonRegression(alpha=0.01).fit(X, y)
    >>> np.flatnonzero(np.abs(model.coef_) > 0.1).tolist()
    [0, 1]
    """

    def __init__(self, alpha=1.0, *, l1_ratio=1.0, fit_intercept=True, max_iter=1000,
                 tol=1e-4, warm_start=False, penalty_factor=None, lower_bounds=None,
                 upper_bounds=None):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.warm_start = warm_start
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        for name in ("fit_intercept", "warm_start"):
            _check_bool(name, getattr(self, name))

    def _path_spec(self) -> PoissonPath:
        """The Poisson datafit's side of the path plan, with this model's options
        (validated)."""
        self._check_params()
        return PoissonPath(self.fit_intercept, self.l1_ratio, self.tol, self.max_iter,
                           features=plan.feature_options(self))

    def fit(self, X, y, sample_weight=None, offset=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Non-negative counts (non-integers allowed: quasi-Poisson).
        sample_weight : array-like of shape (n_samples,), default=None
        offset : array-like of shape (n_samples,), default=None
            Added to the linear predictor (log exposure).

        Returns
        -------
        self
        """
        self._check_params()
        if dask_input(X, y, sample_weight, offset):  # passes over the row blocks
            from ._dask_poisson import fit_poisson
            return fit_poisson(self, X, y, sample_weight, offset)
        X, y, weights, offset = _prepare(self, X, y, sample_weight, offset)
        penalty = feature_penalty_of(self, X.shape[1], self.l1_ratio)
        coef = intercept = None
        if self.warm_start and hasattr(self, "coef_") and self.coef_.shape[0] == X.shape[1]:
            coef, intercept = self.coef_.astype(np.float64), float(self.intercept_)
        result = _fit(X, y, weights, offset, float(self.alpha), float(self.l1_ratio), penalty,
                      fit_intercept=self.fit_intercept, tol=float(self.tol),
                      max_iter=int(self.max_iter), coef=coef, intercept=intercept)
        if not result.converged:
            warn_user(f"Poisson regression did not converge after {result.n_iter} epochs "
                      f"({result.n_newton} Newton steps): certificate {result.certificate:.3e}. "
                      "Increase max_iter or alpha.", ConvergenceWarning)
        self.coef_ = result.coef.astype(X.dtype)
        self.intercept_ = float(result.intercept)
        self.dual_gap_ = float(result.certificate)
        self.n_iter_ = int(result.n_iter)
        self.n_newton_ = int(result.n_newton)
        return self

    def _linear(self, X):
        check_is_fitted(self)
        check_sparse_structure(X)
        X = validate_data(self, X, reset=False, accept_sparse=["csc", "csr"],
                          dtype=[np.float64, np.float32], accept_large_sparse=True)
        return linear_predictor(X, self.coef_.astype(np.float64), self.intercept_, None)

    def predict(self, X):
        """Expected counts ``exp(X w + b)`` (multiply by the exposure for an offset); a lazy
        Dask array with X's row chunks for a Dask X."""
        if dask_input(X):  # blockwise, lazily: X stays on the cluster
            from ._dask_predict import blockwise
            return blockwise(self, X, "predict")
        return np.exp(np.minimum(self._linear(X), 700.0))

    def score(self, X, y, sample_weight=None):
        """D^2: the fraction of Poisson deviance explained (as scikit-learn's
        :class:`~sklearn.linear_model.PoissonRegressor`)."""
        return float(d2_tweedie_score(y, self.predict(X), sample_weight=sample_weight,
                                      power=1))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.positive_only = True
        return tags


def _check_grid(alphas, eps):
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        _check_int("alphas", alphas, low=1)
        _check_real("eps", eps, low=0.0)
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps!r}.")
        return int(alphas)
    values = np.sort(np.asarray(alphas, dtype=np.float64).reshape(-1))[::-1]
    if values.shape[0] == 0 or not np.all(np.isfinite(values)) or np.any(values < 0):
        raise ValueError("alphas must be a non-empty array of finite values >= 0.")
    return values.copy()


def _path(X, y, weights, offset, alphas, l1_ratio, penalty, fit_intercept, tol, max_iter,
          on_point=None):
    """Warm-started fits along ``alphas`` (largest first) on the plan's loop
    (:func:`fastl1._path_plan.trace_path`): coefficients (p, k), intercepts, certificates
    and how many did not converge."""
    coefs = np.zeros((X.shape[1], alphas.shape[0]))
    intercepts = np.zeros(alphas.shape[0])
    state = {"coef": None, "intercept": None, "start": None}

    def fit_point(k, alpha):
        result = _fit(X, y, weights, offset, float(alpha), l1_ratio, penalty,
                      fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                      coef=state["coef"], intercept=state["intercept"], start=state["start"])
        state["coef"], state["intercept"] = result.coef, result.intercept
        # (the last round's gradient at the solution: the next alpha's first round)
        state["start"] = None if result.grad is None else (result.eta, result.grad)
        coefs[:, k], intercepts[k] = result.coef, result.intercept
        return plan.Point(result.coef, result.intercept, result.certificate, result.n_iter,
                     result.converged)

    trace = plan.trace_path(fit_point, alphas, on_point)
    return coefs, intercepts, trace.gaps, len(trace.failures)


class PoissonPath(plan.PathSpec):
    """The Poisson datafit in the path plan (:mod:`fastl1._path_plan`): paths by proximal
    Newton fits, scored by the test rows' mean Poisson deviance (glmnet's
    ``cv.glmnet(family="poisson")``).

    ``data`` is ``(X, y, weights, offset)`` as :func:`_prepare` gives them (CSR when
    sparse: folds are row subsets); ``features`` are the per-feature penalty's parameters.
    """

    def __init__(self, fit_intercept: bool, l1_ratio: float, tol: float, max_iter: int, *,
                 penalty=None, features=None):
        self.fit_intercept, self.l1_ratio = bool(fit_intercept), float(l1_ratio)
        self.tol, self.max_iter = float(tol), int(max_iter)
        self.penalty, self.features = penalty, features

    def prepare(self, owner, X, y, sample_weight=None, groups=None, offset=None):
        X, y, weights, offset = _prepare(owner, X, y, sample_weight, offset)
        if sp.issparse(X):
            X = X.tocsr()  # folds are row subsets
        spec = copy.copy(self)
        spec.penalty = self.feature_penalty(X.shape[1])
        return spec, (X, y, weights, offset)

    def row_weights(self, data):
        return data[2]

    def grid(self, data, alphas, eps):
        grid = _grid(*data, alphas, eps, self.l1_ratio, self.penalty, self.fit_intercept)
        return grid, grid

    def rows(self, data, rows):
        X, y, weights, offset = data
        if rows is None:
            return data
        return (X[rows], y[rows], weights[rows] * (rows.shape[0] / weights[rows].sum()),
                None if offset is None else offset[rows])

    def path(self, fold, grid, on_point=None, store=True):
        coefs, intercepts, gaps, failures = _path(
            *fold, grid, self.l1_ratio, self.penalty, self.fit_intercept, self.tol,
            self.max_iter, on_point)
        return plan.PathOutcome(coefs, intercepts, gaps, None, failures)

    def fold_scorer(self, data, fold, test, grid):
        return _TestDeviance(data, test)


class _TestDeviance(plan.FoldScorer):
    """The test rows' mean Poisson deviance at each point of the training path."""

    def __init__(self, data, test):
        self.data, self.test = data, test

    def finish(self, path):
        X, y, weights, offset = self.data
        test = self.test
        eta = np.asarray(X[test] @ path.coefs, dtype=np.float64) + path.intercepts
        if offset is not None:
            eta += offset[test][:, None]
        mu = np.exp(np.minimum(eta, 700.0))
        scores = np.array([_poisson_deviance(y[test], mu[:, k], weights[test])
                           for k in range(path.coefs.shape[1])])
        return plan.FoldOutcome(scores, failures=path.failures)


def poisson_path(X, y, *, l1_ratio=1.0, eps=1e-3, alphas=100, fit_intercept=True,
                 sample_weight=None, offset=None, tol=1e-4, max_iter=1000,
                 penalty_factor=None, lower_bounds=None, upper_bounds=None):
    """Poisson regularisation path by warm-started proximal Newton fits.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    l1_ratio, fit_intercept, tol, max_iter, penalty_factor, lower_bounds, upper_bounds
        As in :class:`PoissonRegression`.
    eps : float, default=1e-3
        Grid end: ``alpha_min = eps * alpha_max``.
    alphas : int or array-like, default=100
        Grid size (log-spaced from ``alpha_max``, where only the unpenalised features and
        the intercept are non-zero) or the alphas themselves.
    sample_weight, offset : array-like of shape (n_samples,), default=None

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas)
    intercepts : ndarray of shape (n_alphas,)
    dual_gaps : ndarray of shape (n_alphas,)
        The certificate at each alpha (see :class:`PoissonRegression`).
    """
    estimator = PoissonRegression(l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=tol,
                                  max_iter=max_iter, penalty_factor=penalty_factor,
                                  lower_bounds=lower_bounds, upper_bounds=upper_bounds)
    estimator._check_params()
    if dask_input(X, y, sample_weight, offset):  # passes over the row blocks
        from ._dask_poisson import poisson_path as dask_path
        return dask_path(X, y, estimator, alphas, eps, sample_weight, offset)
    X, y, weights, offset = _prepare(estimator, X, y, sample_weight, offset)
    penalty = feature_penalty_of(estimator, X.shape[1], l1_ratio)
    grid = _grid(X, y, weights, offset, alphas, eps, float(l1_ratio), penalty, fit_intercept)
    coefs, intercepts, gaps, failures = _path(X, y, weights, offset, grid, float(l1_ratio),
                                              penalty, fit_intercept, float(tol),
                                              int(max_iter))
    if failures:
        warn_user(f"Poisson path: {failures} of {grid.shape[0]} alphas did not converge "
                  "within max_iter; increase max_iter.", ConvergenceWarning)
    return grid, coefs, intercepts, gaps


def _grid(X, y, weights, offset, alphas, eps, l1_ratio, penalty, fit_intercept):
    alphas = _check_grid(alphas, eps)
    if not isinstance(alphas, int):
        return alphas
    top = poisson_alpha_max(X, y, weights, offset, l1_ratio, penalty, fit_intercept)
    top = top if top > 0 else np.finfo(np.float64).resolution
    return np.geomspace(top, top * eps, num=alphas)


def _poisson_deviance(y, mu, weights) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0) - (y - mu)
    return float(2.0 * np.sum(weights * term) / np.sum(weights))


class PoissonRegressionCV(PoissonRegression):
    """Poisson regression with alpha chosen by cross-validated deviance, on threads.

    Every fold computes a warm-started path on its training rows and scores each alpha by the
    mean Poisson deviance of its test rows (glmnet's ``cv.glmnet(family="poisson")``); the
    path on all rows runs alongside and supplies the final model.

    Parameters
    ----------
    l1_ratio, fit_intercept, max_iter, tol, penalty_factor, lower_bounds, upper_bounds
        As in :class:`PoissonRegression`.
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    cv : int, cross-validation generator or iterable, default=None
        Folds (5 by default).
    n_jobs : int, default=None
        Threads (-1: all cores).
    alpha_rule : {'min', '1se'}, default='min'
        The alpha of least mean deviance, or the largest within one standard error of it.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_ : float
    alphas_ : ndarray of shape (n_alphas,)
    deviance_path_ : ndarray of shape (n_alphas, n_folds)
    coef_, intercept_, dual_gap_ : as :class:`PoissonRegression`
    """

    def __init__(self, *, l1_ratio=1.0, eps=1e-3, alphas=100, fit_intercept=True,
                 max_iter=1000, tol=1e-4, cv=None, n_jobs=None, alpha_rule="min",
                 penalty_factor=None, lower_bounds=None, upper_bounds=None):
        super().__init__(l1_ratio=l1_ratio, fit_intercept=fit_intercept, max_iter=max_iter,
                         tol=tol, penalty_factor=penalty_factor, lower_bounds=lower_bounds,
                         upper_bounds=upper_bounds)
        self.eps = eps
        self.alphas = alphas
        self.cv = cv
        self.n_jobs = n_jobs
        self.alpha_rule = alpha_rule

    def _check_params(self):
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_bool("fit_intercept", self.fit_intercept)
        if self.alpha_rule not in ("min", "1se"):
            raise ValueError(f"alpha_rule must be 'min' or '1se', got {self.alpha_rule!r}.")

    def fit(self, X, y, sample_weight=None, offset=None, **params):
        """Choose alpha by cross-validation, then keep the full-data model at it.

        Parameters
        ----------
        X, y, sample_weight, offset
            As in :meth:`PoissonRegression.fit`.
        **params
            Passed to the splitter's ``split`` (e.g. ``groups``).

        Returns
        -------
        self
        """
        spec, data = self._path_spec().prepare(self, X, y, sample_weight, offset=offset)
        X, y, weights, _ = data
        _, grid = spec.grid(data, self.alphas, self.eps)
        folds = split(self.cv, X, y, weights=weights, **params)
        (run,) = plan.cross_validate([(spec, grid)], data, folds, self.n_jobs)
        full = run.full
        coefs, intercepts, gaps = full.coefs, full.intercepts, full.gaps
        deviance = run.scores
        if run.failures:
            warn_user(f"{run.failures} path fits did not converge within max_iter; increase "
                      "max_iter.", ConvergenceWarning)
        mean = deviance.mean(axis=1)
        best = int(np.argmin(mean))
        index_1se = one_standard_error_index(mean, fold_std_error(deviance))
        index = best if self.alpha_rule == "min" else index_1se
        self.alphas_ = grid
        self.deviance_path_ = deviance
        self.alpha_min_ = float(grid[best])
        self.alpha_1se_ = float(grid[index_1se])
        self.alpha_ = float(grid[index])
        self.coef_ = coefs[:, index].astype(X.dtype)
        self.intercept_ = float(intercepts[index])
        self.dual_gap_ = float(gaps[index])
        return self

