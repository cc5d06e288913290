"""L1-regularised logistic regression, binary and multinomial (scikit-learn drop-in).

Objective
---------
Exactly scikit-learn's (1.9, ``sklearn.linear_model._logistic``: liblinear and saga minimise it
in this form, lbfgs/newton-cg divide it by ``C * sum(s)``)::

    C * sum_i s_i loss(x_i, y_i; W, b) + l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_F^2

where ``s_i = sample_weight_i * class_weight[y_i]`` (not rescaled: doubling every weight is
doubling ``C``), the intercept ``b`` is not penalised and the L1 norm is element-wise. With two
classes ``W`` is one row and the loss is the binary log-loss ``log(1 + exp(-y_i (w x_i + b)))``
(``y_i = +-1``, ``classes_[1]`` positive); with ``K > 2`` classes ``W`` is ``(K, p)`` and the loss
is the multinomial ``-log softmax(W x_i + b)[y_i]`` (scikit-learn's ``HalfMultinomialLoss``, as
saga minimises it). ``C`` scales the loss: in scikit-learn's source the penalty strength passed
to the L-BFGS loss is ``1 / (C * sum(s))`` and saga's ``beta = 1 / C`` with an unscaled sum.

Stopping rule
-------------
``tol`` bounds the largest violation of the optimality conditions of the averaged problem
(the objective divided by ``C * sum(s)``, i.e. ``mean_s(loss) + penalty / (C sum(s))``):
with ``g`` its gradient in one coefficient ``w``, ``|g + sign(w) l1|`` for ``w != 0`` and
``max(|g| - l1, 0)`` for ``w == 0`` (``l1 = l1_ratio / (C sum(s))``, the l2 term inside
``g``), and ``|g|`` for the intercepts. This is skglm's rule, and scikit-learn's lbfgs
``gtol`` in the same scale. Without intercept the duality gap (same scale) is reported too.

Algorithm: proximal Newton with working sets and a line search (``solver="prox_newton"``),
or FISTA (``solver="fista"``); see :mod:`fastl1._kernels.logistic`. Dense C- or F-ordered,
CSC and CSR input are all read in place (nothing is converted or densified).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import softmax
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._kernels.logistic import fista, lipschitz_estimate, prox_newton
from ._solver import _EMPTY_INDEX, _placeholder_matrix, canonical_sparse, kernel_array
from ._validation import _check_choice, _check_int, _check_real, check_weights

__all__ = ["LogisticDesign", "LogisticFit", "LogisticRegression", "logistic_design",
           "solve_logistic"]

_SOLVERS = ("auto", "prox_newton", "fista")

# Engine settings (measured on the DESIGN.md problems, see the module notes of the kernels).
_WS_START = 100  # first working-set size
_INNER_FRACTION = 0.01  # a working set is solved to this fraction of the outer violation
_MAX_NEWTON = 100  # proximal Newton steps per working set
_POWER_ITERATIONS = 10  # for FISTA's first step size
_FISTA_CHECK_EVERY = 10  # FISTA: full optimality check every this many steps


@dataclass
class LogisticDesign:
    """A validated X in the form the logistic kernels read it.

    Attributes
    ----------
    arrays : tuple
        ``(A, data, indices, indptr, transposed)``: see :mod:`fastl1._kernels.logistic`.
    n_samples, n_features : int
    """

    arrays: tuple
    n_samples: int
    n_features: int


def logistic_design(X) -> LogisticDesign:
    """The kernels' view of a validated ``X``, without copying it.

    F-ordered dense ``X`` is passed as is, C-ordered dense ``X`` as its (F-ordered) transpose
    view, CSC as its arrays, CSR as its arrays flagged ``transposed`` (the CSR arrays of X are
    the CSC arrays of X.T). Copies only dense arrays that are neither C- nor F-contiguous and
    sparse matrices with duplicate entries; other sparse formats are converted to CSC.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of float32 or float64
        Already validated (finite, 2-D).

    Returns
    -------
    LogisticDesign
    """
    n, p = X.shape
    dtype = X.dtype
    if sp.issparse(X):
        X = canonical_sparse(X, ("csc", "csr"))
        indices = X.indices
        if indices.dtype not in (np.int32, np.int64):
            raise TypeError(f"sparse index arrays must be int32 or int64, got {indices.dtype}.")
        indptr = X.indptr.astype(indices.dtype, copy=False)
        arrays = (_placeholder_matrix(dtype), kernel_array(X.data), kernel_array(indices),
                  kernel_array(indptr), X.format == "csr")
    else:
        empty = np.empty(0, dtype=dtype)
        X = kernel_array(X)
        if X.flags.f_contiguous:
            arrays = (X, empty, _EMPTY_INDEX, _EMPTY_INDEX, False)
        elif X.flags.c_contiguous:
            arrays = (X.T, empty, _EMPTY_INDEX, _EMPTY_INDEX, True)
        else:
            arrays = (np.asfortranarray(X), empty, _EMPTY_INDEX, _EMPTY_INDEX, False)
    return LogisticDesign(arrays, n, p)


@dataclass
class LogisticFit:
    """Result of :func:`solve_logistic` (float64 arrays).

    Attributes
    ----------
    coef : ndarray of shape (K, n_features)
        ``K = 1`` for two classes.
    intercept : ndarray of shape (K,)
    n_iter : int
        Outer iterations (prox_newton: full-gradient evaluations, each followed by a working
        set solve unless it certified convergence; fista: gradient steps).
    n_newton : int
        Proximal Newton steps in all (0 for fista).
    violation : float
        Largest optimality violation at the solution, in the averaged scale (module docstring).
    dual_gap : float
        Duality gap in the same scale; NaN with an intercept.
    converged : bool
    """

    coef: np.ndarray
    intercept: np.ndarray
    n_iter: int
    n_newton: int
    violation: float
    dual_gap: float
    converged: bool


def _initial_intercept(y_codes: np.ndarray, s: np.ndarray, n_classes: int) -> np.ndarray:
    """The intercept minimising the loss at ``W = 0``: the log-odds of the weighted class
    frequencies (clipped so a class with zero total weight gives a finite start)."""
    freq = np.bincount(y_codes, weights=s, minlength=n_classes) / s.sum()
    freq = np.clip(freq, 1e-12, 1.0)
    if n_classes == 2:
        return np.array([np.log(freq[1]) - np.log(freq[0])])
    logs = np.log(freq)
    return logs - logs.mean()


def solve_logistic(design: LogisticDesign, y_codes: np.ndarray, sample_weight: np.ndarray,
                   n_classes: int, C: float, l1_ratio: float, *, fit_intercept: bool = True,
                   tol: float = 1e-4, max_iter: int = 100, solver: str = "prox_newton",
                   coef: np.ndarray | None = None, intercept: np.ndarray | None = None,
                   parallel: bool | None = None, warn: bool = True) -> LogisticFit:
    """Fit L1 / elastic-net logistic regression at one ``C`` (scikit-learn's objective).

    Parameters
    ----------
    design : LogisticDesign
        From :func:`logistic_design`.
    y_codes : ndarray of int of shape (n_samples,)
        Class codes ``0 .. n_classes - 1`` (two classes: 1 is the positive class).
    sample_weight : ndarray of shape (n_samples,)
        Per-sample weights ``s_i`` (class weights included), not rescaled.
    n_classes : int
        ``>= 2``; two classes use the binary loss, more the multinomial loss.
    C, l1_ratio : float
        As in :class:`LogisticRegression`.
    fit_intercept, tol, max_iter : optional
        As in :class:`LogisticRegression`.
    solver : {"prox_newton", "fista"}
    coef, intercept : ndarray, optional
        Starting point (shape ``(K, p)`` and ``(K,)``, ``K = 1`` for two classes); not
        modified. Default: zero coefficients and the optimal intercept for them.
    parallel : bool or None
        Compute full gradients on Numba's threads (default: when more than one is
        available). Callers that run fits in concurrent Python threads must pass False.
    warn : bool
        Emit a :class:`~sklearn.exceptions.ConvergenceWarning` when ``tol`` was not reached.

    Returns
    -------
    LogisticFit
    """
    A, data, indices, indptr, transposed = design.arrays
    p = design.n_features
    K = 1 if n_classes == 2 else n_classes
    s = kernel_array(np.ascontiguousarray(sample_weight, dtype=np.float64))
    s_sum = float(s.sum())
    y = kernel_array(np.ascontiguousarray(y_codes, dtype=np.float64))
    W = np.zeros((K, p)) if coef is None else np.array(coef, dtype=np.float64, order="C")
    if intercept is not None and fit_intercept:
        b = np.array(intercept, dtype=np.float64).reshape(K)
    elif fit_intercept:
        b = _initial_intercept(np.asarray(y_codes, dtype=np.intp), s, n_classes)
    else:
        b = np.zeros(K)
    C, l1_ratio, tol = float(C), float(l1_ratio), float(tol)
    lam1 = l1_ratio / C
    lam2 = (1.0 - l1_ratio) / C
    tol_sum = tol * s_sum
    if parallel is None:
        parallel = numba.get_num_threads() > 1
    if solver == "fista":
        eig = lipschitz_estimate(A, data, indices, indptr, bool(transposed), s, p,
                                 bool(fit_intercept), _POWER_ITERATIONS, bool(parallel))
        lipschitz = (0.25 if K == 1 else 0.5) * eig
        n_iter, violation, _, gap = fista(
            A, data, indices, indptr, bool(transposed), y, s, W, b, lam1, lam2,
            bool(fit_intercept), tol_sum, int(max_iter), lipschitz, _FISTA_CHECK_EVERY,
            bool(parallel))
        n_newton = 0
    else:
        n_iter, n_newton, violation, _, gap = prox_newton(
            A, data, indices, indptr, bool(transposed), y, s, W, b, lam1, lam2,
            bool(fit_intercept), tol_sum, int(max_iter), _WS_START, _INNER_FRACTION,
            _MAX_NEWTON, bool(parallel))
    violation = float(violation) / s_sum
    gap = float(gap) / s_sum
    converged = violation <= tol
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
        raise ValueError("The solver produced non-finite coefficients; the input may contain "
                         "values too large for its dtype.")
    if warn and not converged:
        warnings.warn(
            f"LogisticRegression ({solver}) did not converge after {n_iter} iterations: "
            f"largest optimality (KKT) violation {violation:.3e} > tol={tol:.3e} (in the scale "
            "of the objective divided by C * sum(sample_weight))"
            + (f", duality gap {gap:.3e}" if np.isfinite(gap) else "")
            + ". Increase max_iter or tol, scale the features, or decrease C.",
            ConvergenceWarning, stacklevel=3)
    if K > 1 and fit_intercept:
        b -= b.mean()  # the multinomial loss is invariant to a common shift of intercepts
    return LogisticFit(W, b, int(n_iter), int(n_newton), violation, gap, converged)


class LogisticRegression(LinearClassifierMixin, BaseEstimator):
    """Logistic regression with L1 (or elastic-net) penalty, binary or multinomial.

    A drop-in for :class:`sklearn.linear_model.LogisticRegression` (1.9 parametrisation) that
    minimises the same objective (module docstring)::

        C * sum_i s_i loss_i + l1_ratio ||W||_1 + (1 - l1_ratio) / 2 ||W||_F^2

    by proximal Newton on working sets (or FISTA), with an unpenalised intercept. Two classes
    use the binary log-loss, more classes the multinomial loss with element-wise L1 (as
    scikit-learn's saga).

    Parameters
    ----------
    penalty : {"deprecated", "l1", "elasticnet", "l2"}, default="deprecated"
        Deprecated as in scikit-learn 1.8+: the penalty is chosen by ``l1_ratio``. ``"l1"``
        means ``l1_ratio=1``, ``"elasticnet"`` uses ``l1_ratio``, ``"l2"`` means
        ``l1_ratio=0`` (a pure ridge penalty: supported but not what this library is fast
        at); each emits a FutureWarning. ``None`` (no penalty) is rejected.
    C : float, default=1.0
        Inverse regularisation strength, ``> 0`` and finite.
    l1_ratio : float, default=1.0
        Elastic-net mix in ``[0, 1]``: 1 is pure L1 (the default here; scikit-learn's is 0).
    fit_intercept : bool, default=True
        Fit an unpenalised intercept per class.
    tol : float, default=1e-4
        Stop when the largest optimality (KKT) violation of the objective divided by
        ``C * sum(sample_weight)`` is below ``tol`` (module docstring).
    max_iter : int, default=100
        ``prox_newton``: maximum outer iterations (full-gradient evaluations, each followed
        by a proximal-Newton solve on the working set). ``fista``: maximum gradient steps
        (one pass over X each; FISTA typically needs thousands).
    warm_start : bool, default=False
        Start from the previous solution when the classes and shapes match.
    class_weight : dict, "balanced" or None, default=None
        Weights per class, multiplied with ``sample_weight``.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility; the solvers are deterministic.
    solver : {"auto", "prox_newton", "fista"}, default="auto"
        ``"auto"`` is ``"prox_newton"``.
    verbose : int, default=0
        ``> 0`` prints a one-line summary of the fit.
    n_jobs : None
        Accepted for compatibility, unused (scikit-learn ignores it too since 1.8). The full
        gradient runs on Numba's threads (``numba.set_num_threads``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In the dtype of X (float32 stays float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Multinomial intercepts are centred to sum to zero (the loss does not depend on a
        common shift).
    n_iter_ : ndarray of shape (1,)
        Iterations run (see ``max_iter``).
    kkt_violation_ : float
        Largest optimality violation at the solution (see ``tol``).
    dual_gap_ : float
        Duality gap in the same scale when ``fit_intercept=False`` (a certificate: the
        averaged objective is within ``dual_gap_`` of its minimum); NaN with an intercept.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has string feature names.

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1.logistic import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 30))
    >>> y = (X[:, 0] - X[:, 3] + 0.3 * rng.standard_normal(100) > 0).astype(int)
    >>> clf = LogisticRegression(C=0.1).fit(X, y)
    >>> np.flatnonzero(clf.coef_[0]).tolist()
    [0, 3]
    >>> clf.predict_proba(X[:2]).sum(axis=1).round(12).tolist()
    [1.0, 1.0]
    """

    def __init__(self, penalty="deprecated", *, C=1.0, l1_ratio=1.0, fit_intercept=True,
                 tol=1e-4, max_iter=100, warm_start=False, class_weight=None,
                 random_state=None, solver="auto", verbose=0, n_jobs=None):
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.class_weight = class_weight
        self.random_state = random_state
        self.solver = solver
        self.verbose = verbose
        self.n_jobs = n_jobs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _effective_l1_ratio(self) -> float:
        """Validate ``penalty``/``l1_ratio`` and return the l1_ratio to use."""
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        penalty = self.penalty
        if isinstance(penalty, str) and penalty == "deprecated":
            return float(self.l1_ratio)
        if penalty is None:
            raise ValueError(
                "penalty=None (an unpenalised fit) is not supported: fastl1 fits L1 / "
                "elastic-net penalised models. Use sklearn.linear_model.LogisticRegression "
                "with C=np.inf for an unpenalised fit.")
        _check_choice("penalty", penalty, ("deprecated", "l1", "elasticnet", "l2"))
        warnings.warn(
            "'penalty' is deprecated (as in scikit-learn 1.8+): leave it at its default and "
            "use l1_ratio instead (l1_ratio=1 for 'l1', 0 < l1_ratio < 1 for 'elasticnet', "
            "l1_ratio=0 for 'l2').", FutureWarning, stacklevel=3)
        if penalty == "l1":
            return 1.0
        if penalty == "l2":
            return 0.0
        return float(self.l1_ratio)

    def _check_params(self) -> float:
        l1_ratio = self._effective_l1_ratio()
        C = self.C
        if isinstance(C, bool) or not isinstance(C, numbers.Real):
            raise TypeError(f"C must be a real number, got {C!r} ({type(C).__name__}).")
        if not (np.isfinite(C) and C > 0):
            raise ValueError(
                f"C must be a positive finite number, got {C!r} (C=inf, an unpenalised fit, "
                "is not supported by fastl1).")
        _check_real("tol", self.tol, low=0.0)
        _check_int("max_iter", self.max_iter, low=1)
        _check_choice("solver", self.solver, _SOLVERS)
        _check_int("verbose", self.verbose, low=0)
        cw = self.class_weight
        if not (cw is None or isinstance(cw, dict) or (isinstance(cw, str)
                                                        and cw == "balanced")):
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {cw!r}.")
        return l1_ratio

    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Dense (C or F order), CSC or CSR; float32 stays float32. Read in place.
        y : array-like of shape (n_samples,)
            Class labels of any type (at least two distinct classes).
        sample_weight : float or array-like of shape (n_samples,), default=None
            Non-negative weights (not rescaled: they multiply the loss terms, so doubling
            them all is doubling ``C``, as in scikit-learn).

        Returns
        -------
        self : LogisticRegression
        """
        l1_ratio = self._check_params()
        X, y = validate_data(self, X, y, accept_sparse=["csc", "csr"],
                             accept_large_sparse=True, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        encoder = LabelEncoder()
        y_codes = encoder.fit_transform(y)
        classes = encoder.classes_
        if classes.shape[0] < 2:
            raise ValueError(
                "This solver needs samples of at least 2 classes in the data, but the data "
                f"contains only one class: {classes.tolist()[0]!r}.")
        sample_weight = check_weights(sample_weight, X)
        s = (np.ones(X.shape[0]) if sample_weight is None
             else np.asarray(sample_weight, dtype=np.float64))
        if self.class_weight is not None:
            cw = compute_class_weight(self.class_weight, classes=classes, y=y,
                                      sample_weight=sample_weight)
            s = s * cw[y_codes]
        if not s.sum() > 0:
            raise ValueError("The sample weights (times the class weights) sum to zero.")
        n_classes = classes.shape[0]
        K = 1 if n_classes == 2 else n_classes
        p = X.shape[1]
        coef0 = np.zeros((K, p))
        intercept0 = None
        if (self.warm_start and hasattr(self, "coef_") and hasattr(self, "classes_")
                and np.shape(self.coef_) == (K, p)
                and np.array_equal(self.classes_, classes)):
            coef0 = np.asarray(self.coef_, dtype=np.float64)
            intercept0 = np.asarray(self.intercept_, dtype=np.float64)
        solver = "prox_newton" if self.solver == "auto" else self.solver
        result = solve_logistic(
            logistic_design(X), y_codes, s, n_classes, self.C, l1_ratio,
            fit_intercept=bool(self.fit_intercept), tol=self.tol, max_iter=self.max_iter,
            solver=solver, coef=coef0, intercept=intercept0)
        dtype = X.dtype
        self.classes_ = classes
        self.coef_ = result.coef.astype(dtype)
        self.intercept_ = (result.intercept.astype(dtype) if self.fit_intercept
                           else np.zeros(K, dtype=dtype))
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.kkt_violation_ = result.violation
        self.dual_gap_ = result.dual_gap
        if self.verbose:
            print(f"[fastl1.LogisticRegression] {solver}: {result.n_iter} iterations, "
                  f"{result.n_newton} Newton steps, KKT violation {result.violation:.3e}, "
                  f"duality gap {result.dual_gap:.3e}, "
                  f"{int(np.count_nonzero(self.coef_))} non-zero coefficients")
        return self

    def decision_function(self, X):
        """Confidence scores ``X W^T + b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (score of ``classes_[1]``), else
        (n_samples, n_classes)
        """
        return super().decision_function(X)

    def predict_proba(self, X):
        """Class probabilities: sigmoid (two classes) or softmax of the scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            pos = expit(scores)
            return np.stack([1.0 - pos, pos], axis=1)
        return softmax(scores, copy=False)

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably from the scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.stack([log_expit(-scores), log_expit(scores)], axis=1)
        shifted = scores - scores.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
