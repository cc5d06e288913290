"""scikit-learn compatible estimators: :class:`ElasticNet` and :class:`Lasso`.

Thin classes: they validate, build a :class:`fastl1._solver.Problem`, call the solver once per
target and store results. The objective is scikit-learn's::

    1 / (2 n) ||y - X w - b||^2 + alpha * (l1_ratio ||w||_1 + (1 - l1_ratio) / 2 ||w||^2)

with sample weights rescaled to sum to ``n`` (so the squared loss is a weighted average).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._solver import make_problem, solve_enet

__all__ = ["ElasticNet", "Lasso"]


def _check_real(name: str, value, low: float | None = None, high: float | None = None):
    """Validate a real scalar parameter, naming it in the error."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__}).")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value!r}.")


def _check_int(name: str, value, low: int):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__}).")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")


def _check_choice(name: str, value, choices: tuple):
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}.")


def check_design(estimator, X, y, reset: bool = True):
    """Validate ``(X, y)`` for the linear models: float32/float64, dense or CSC/CSR,
    finite, non-empty, int32 or int64 sparse indices. Never copies or modifies X beyond
    the dtype conversion of non-float input; y becomes a float array of X's dtype."""
    X, y = validate_data(
        estimator, X, y,
        reset=reset,
        accept_sparse=["csc", "csr"],
        accept_large_sparse=True,
        dtype=[np.float64, np.float32],
        multi_output=True,
        y_numeric=True,
    )
    y = np.asarray(y, dtype=X.dtype)
    if sp.issparse(X) and X.indices.dtype not in (np.int32, np.int64):
        raise TypeError(f"sparse index arrays must be int32 or int64, got {X.indices.dtype}.")
    return X, y


def check_weights(sample_weight, X) -> np.ndarray | None:
    """Validate sample weights: finite, non-negative, one per sample, not all zero."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(X.shape[0], sample_weight, dtype=X.dtype)
    sample_weight = _check_sample_weight(sample_weight, X, dtype=X.dtype,
                                         ensure_non_negative=True)
    if not np.all(np.isfinite(sample_weight)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if sample_weight.sum() <= 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs weight > 0.")
    return sample_weight


class ElasticNet(MultiOutputMixin, RegressorMixin, BaseEstimator):
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
                 random_state=None, selection="cyclic"):
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _check_params(self):
        _check_real("alpha", self.alpha, low=0.0)
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("selection", self.selection, ("cyclic", "random"))
        precompute = self.precompute
        if not (isinstance(precompute, (bool, np.bool_)) or hasattr(precompute, "__array__")
                or (isinstance(precompute, str) and precompute == "auto")):
            raise ValueError(
                f"precompute must be True, False, 'auto' or a Gram matrix, got {precompute!r}.")

    def _gram(self, problem):
        """The Gram matrix to use, or None for residual updates."""
        precompute = self.precompute
        if problem.is_sparse:
            return None
        if hasattr(precompute, "__array__"):
            gram = np.asarray(precompute, dtype=problem.dtype)
            p = problem.n_features
            if gram.shape != (p, p):
                raise ValueError(
                    f"precompute Gram matrix has shape {gram.shape}, expected {(p, p)}.")
            if problem.fit_intercept or problem.sample_weight.shape[0]:
                warnings.warn("Gram matrix was provided but X is centred (fit_intercept) "
                              "or weighted: recomputing the Gram matrix.", UserWarning,
                              stacklevel=3)
                return problem.gram()
            # A cheap consistency check of one diagonal entry (as scikit-learn does).
            X = problem.X
            j = int(np.argmax(gram.diagonal()))
            expected = float(X[:, j] @ X[:, j])
            if not np.isclose(gram[j, j], expected, rtol=1e-4, atol=1e-10):
                raise ValueError(
                    "precompute Gram matrix does not match X: "
                    f"G[{j},{j}] = {gram[j, j]:.6g} but ||X[:, {j}]||^2 = {expected:.6g}.")
            return np.ascontiguousarray(gram)
        if isinstance(precompute, str):  # "auto"
            precompute = problem.n_samples > problem.n_features
        return problem.gram() if precompute else None

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
        X, y = check_design(self, X, y)
        sample_weight = check_weights(sample_weight, X)
        problem = make_problem(X, sample_weight, self.fit_intercept)
        y_2d = y.reshape(y.shape[0], -1)
        y_centred, y_mean = problem.centre_target(y_2d)
        n_targets = y_2d.shape[1]
        p = problem.n_features

        coef = np.zeros((n_targets, p), dtype=problem.dtype)
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.asarray(self.coef_, dtype=problem.dtype).reshape(-1, p)
            if previous.shape == coef.shape:
                coef[:] = previous
        gram = self._gram(problem)
        rng = check_random_state(self.random_state)
        gaps = np.zeros(n_targets, dtype=problem.dtype)
        n_iters = []
        for k in range(n_targets):
            yk = np.ascontiguousarray(y_centred[:, k])
            xty = problem.xt_weighted(yk) if gram is not None else None
            result = solve_enet(
                problem, yk, coef[k], self.alpha, self.l1_ratio, positive=self.positive,
                max_iter=self.max_iter, tol=self.tol, random=self.selection == "random",
                seed=int(rng.randint(np.iinfo(np.int32).max)), gram=gram, xty=xty,
            )
            gaps[k] = result.dual_gap
            n_iters.append(result.n_iter)

        intercept = y_mean - coef @ problem.x_mean if self.fit_intercept else \
            np.zeros(n_targets, dtype=problem.dtype)
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise ValueError("Coordinate descent produced non-finite coefficients; the input "
                             "may contain values too large to square in its dtype.")
        if n_targets == 1:  # (n,) and (n, 1) targets alike, as scikit-learn
            self.coef_ = coef[0]
            self.intercept_ = problem.dtype.type(intercept[0])
            self.dual_gap_ = float(gaps[0])
            self.n_iter_ = n_iters[0]
        else:
            self.coef_ = coef
            self.intercept_ = np.asarray(intercept, dtype=problem.dtype)
            self.dual_gap_ = gaps
            self.n_iter_ = n_iters
        return self

    @property
    def sparse_coef_(self):
        """Sparse (CSR) representation of ``coef_``."""
        coef = sp.csr_matrix(np.atleast_2d(self.coef_))
        if get_config().get("sparse_interface") == "sparray":
            return sp.csr_array(coef)
        return coef

    def _decision_function(self, X):
        check_is_fitted(self)
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
        """
        return self._decision_function(X)


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
                 random_state=None, selection="cyclic"):
        super().__init__(alpha=alpha, l1_ratio=1.0, fit_intercept=fit_intercept,
                         precompute=precompute, max_iter=max_iter, copy_X=copy_X, tol=tol,
                         warm_start=warm_start, positive=positive,
                         random_state=random_state, selection=selection)
