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

Per-feature penalty factors and bounds (glmnet's ``penalty.factor``, ``lower.limits`` and
``upper.limits``) make the penalty ``sum_j f_j (l1_ratio sum_k |W_kj| + (1 - l1_ratio) / 2
sum_k W_kj^2)`` subject to ``lower_j <= W_kj <= upper_j`` (a feature's factor and bounds hold
for each of its class coefficients; the intercept is never penalised nor bounded). Factors
are used as given (glmnet rescales them to sum to ``p``:
:func:`fastl1._feature_penalty.glmnet_factors`); ``f_j = 0`` leaves a feature unpenalised.
glmnet's binomial objective is ``mean_s(loss) + lambda * penalty`` (weights normalised to sum
to 1), so its ``lambda`` is ``1 / (C * sum(s))`` here.

Stopping rule
-------------
A fit stops when its **duality gap is below** ``tol * GAP_FRACTION`` (``1e-2``) **times the
objective**: a certificate, whatever the scale of X, C or the weights, that the objective is
within that fraction of its minimum (``1e-6`` at the default ``tol=1e-4``, scikit-learn's
level of accuracy). The gap is the Fenchel gap of the dual point built from the residuals
(:func:`fastl1._kernels.logistic.dual_gap`); with an intercept, the intercept is first
refitted exactly for the coefficients, so the residuals sum to zero per class, which is the
dual constraint of an unpenalised intercept.

The solvers themselves steer by the optimality (KKT) violation of the averaged problem (the
objective divided by ``C * sum(s)``, i.e. ``mean_s(loss) + penalty / (C sum(s))``): with
``g`` its gradient in one coefficient ``w``, ``|g + sign(w) l1|`` for ``w != 0`` and
``max(|g| - l1, 0)`` for ``w == 0`` (``l1 = l1_ratio / (C sum(s))``, the l2 term inside
``g``), and ``|g|`` for the intercepts (skglm's rule; scikit-learn's lbfgs ``gtol`` in the same
scale). A fit first runs to a violation of ``tol / 1000``; while the gap is above its bound it
resumes with a smaller bound (chosen from the gap, which near the optimum shrinks like the
square of the violation), within the same ``max_iter``. When the bound it would need is below
the rounding error of the gradient (``||R|| max |X| sqrt(n)`` times a few ulps) the gap cannot
shrink further and the KKT rule ``violation <= tol`` decides. The reported ``dual_gap_`` and
``kkt_violation_`` are those of the returned coefficients and intercept (averaged scale).

The gap needs a dual point: scaled residuals whose correlations meet every feature's
constraint. An unpenalised feature (factor 0) unbounded on a side has the constraint
``x_j^T theta = 0``, which no scaled residual meets; a fit with one stops when its KKT
violation is below ``tol / 1000`` (the first bound above) instead, and reports ``dual_gap_ =
nan``. Such a fit starting with every penalised coefficient at zero first fits the intercept
and the unpenalised features alone (as glmnet does); when no penalised feature passes its
threshold there, that is the solution.

Algorithm: proximal Newton with working sets and a line search (``solver="prox_newton"``),
or FISTA (``solver="fista"``); see :mod:`fastl1._kernels.logistic`. Dense C- or F-ordered,
CSC and CSR input are all read in place (nothing is converted or densified).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.extmath import softmax
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._dask import dask_input
from ._dask_predict import blockwise
from ._dask_predict import score as dask_score
from ._feature_penalty import FeaturePenalty, check_feature_penalty
from ._interrupt import STOP, interruptible, raise_if_stopped
from ._kernels.logistic import (
    column_counts,
    dual_gap,
    extract_columns,
    fista,
    full_gradient,
    linear_predictor,
    link,
    lipschitz_estimate,
    penalty_value,
    prox_newton,
    violations,
)
from ._kernels.penalty import entering_correlation
from ._solver import _EMPTY_INDEX, _placeholder_matrix, canonical_sparse, kernel_array
from ._threads import claims_threads
from ._validation import (
    _check_choice,
    _check_int,
    _check_real,
    check_sparse_structure,
    check_weights,
)
from ._warn import warn_user

__all__ = ["LogisticDesign", "LogisticFit", "LogisticRegression", "class_weights",
           "logistic_design", "solve_logistic"]

_SOLVERS = ("auto", "prox_newton", "fista")

# Engine settings (chosen on the bench's logistic problems; see the kernels' module notes).
_WS_START = 100  # first working-set size
_INNER_FRACTION = 0.01  # a working set is solved to this fraction of the outer violation
_MAX_NEWTON = 100  # proximal Newton steps per working set
_POWER_ITERATIONS = 10  # for FISTA's first step size
_FISTA_CHECK_EVERY = 10  # FISTA: full optimality check every this many steps
# The duality gap must be below tol * GAP_FRACTION times the objective (module docstring):
# at the default tol=1e-4, within 1e-6 of the minimum relatively.
GAP_FRACTION = 1e-2
_FIRST_KKT_FRACTION = 1e-3
_ROUNDING_ULPS = 8.0  # ulps of ||R|| max ||x_j|| taken as a gradient entry's rounding error
_GAP_FLOOR = 1e-13  # rounding of the objective's sums: no gap below this is measurable
_NO_CURVATURE = np.empty((0, 0))
# The fit of the unpenalised features alone is the solution while no penalised feature's
# gradient passes its threshold by more than this relative rounding margin.
_NULL_SLACK = 1e-9


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
        Outer iterations (prox_newton: working-set solves plus the final check, at most
        ``max_iter``; fista: gradient steps).
    n_newton : int
        Proximal Newton steps in all (0 for fista).
    violation : float
        Largest optimality violation at the solution, in the averaged scale (module docstring).
    dual_gap : float
        Duality gap in the same scale (of the returned coefficients and intercept).
    converged : bool
        Whether the stopping rule (module docstring) holds.
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


def _refit_intercept(offsets: np.ndarray, y_codes: np.ndarray, s: np.ndarray,
                     b: np.ndarray) -> np.ndarray:
    """The intercept minimising the loss for fixed coefficients, by damped Newton steps.

    ``offsets`` is ``W X^T`` (shape ``(K, n)``, ``K = 1`` binary). At the exact minimiser the
    residuals ``R`` sum to zero per class, which is the constraint the duality gap's dual
    point must satisfy when the intercept is unpenalised (see :func:`_certificate`).
    """
    K = offsets.shape[0]
    s_sum = s.sum()
    b = b.astype(np.float64).copy()

    def loss_grad_hess(bb):
        Z = offsets + bb[:, None]
        if K == 1:
            z = Z[0]
            p = expit(z)
            loss = float(s @ (np.logaddexp(0.0, z) - (y_codes == 1) * z))
            g = np.array([s @ (p - (y_codes == 1))])
            h = np.array([[s @ (p * (1.0 - p))]])
            return loss, g, h
        Zt = Z.T
        P = softmax(Zt.copy(), copy=False)
        lse = np.logaddexp.reduce(Zt, axis=1)
        rows = np.arange(Zt.shape[0])
        loss = float(s @ (lse - Zt[rows, y_codes]))
        onehot = np.zeros_like(P)
        onehot[rows, y_codes] = 1.0
        g = s @ (P - onehot)
        sp_ = P * s[:, None]
        # The multinomial Hessian in b is singular along (1, ..., 1) (a common shift changes
        # nothing): adding that direction makes it invertible without changing the step.
        h = np.diag(sp_.sum(axis=0)) - P.T @ sp_ + np.full((K, K), s_sum / K)
        return loss, g, h

    loss, g, h = loss_grad_hess(b)
    for _ in range(50):
        if not np.max(np.abs(g)) > 1e-13 * s_sum:
            break
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _ in range(30):
            trial = b - t * step
            loss_t, g_t, h_t = loss_grad_hess(trial)
            if loss_t <= loss - 1e-4 * t * float(g @ step) or np.max(np.abs(g_t)) < np.max(
                    np.abs(g)):
                break
            t *= 0.5
        else:
            break
        b, loss, g, h = trial, loss_t, g_t, h_t
    return b


def _certificate(design: LogisticDesign, y_codes, y, s, W, b, penalty, fit_intercept,
                 parallel, has_dual=True):
    """``(b, violation, gap, primal, ||R||)`` of ``(W, b)`` in the sum scale, for the
    kernels' ``penalty`` (:class:`fastl1._kernels.penalty.Penalty`).

    With an intercept, ``b`` is first refitted exactly for ``W`` (:func:`_refit_intercept`):
    the residuals then sum to zero, so the dual point of :func:`fastl1._kernels.logistic.
    dual_gap` is feasible for the problem with an unpenalised intercept and its gap is a
    certificate (the objective at ``(W, b)`` is within ``gap`` of its minimum). Without a
    dual point (``has_dual`` False: :func:`_has_dual`) the gap is NaN.
    """
    A, data, indices, indptr, transposed = design.arrays
    K, p = W.shape
    n = design.n_samples
    Z = np.empty((K, n))
    zero = np.zeros(K)
    linear_predictor(A, data, indices, indptr, bool(transposed), W, zero, Z)
    if fit_intercept:
        b = _refit_intercept(Z, y_codes, s, b)
        Z += b[:, None]
    R = np.empty((K, n))
    loss = link(Z, y, s, R, _NO_CURVATURE, False)
    G = np.empty((K, p))
    full_gradient(A, data, indices, indptr, bool(transposed), R, G, bool(parallel))
    violation, _ = violations(W, G, R, penalty, bool(fit_intercept), np.empty(p), np.empty(p))
    gap = max(float(dual_gap(Z, y, s, W, G, loss, penalty)), 0.0) if has_dual else np.nan
    primal = float(loss + penalty_value(W, penalty))
    return b, float(violation), gap, primal, float(np.linalg.norm(R))


def _has_dual(penalty: FeaturePenalty) -> bool:
    """Whether the duality gap is a certificate: no unpenalised feature is unbounded on a
    side (its dual constraint ``x_j^T theta = 0`` is one no scaled residual satisfies; the
    intercept's is met by refitting it exactly, :func:`_certificate`)."""
    free = penalty.factor == 0.0
    return not bool(np.any(free & ((penalty.lower == -np.inf) | (penalty.upper == np.inf))))


@claims_threads
def _null_model(design: LogisticDesign, y_codes, s, n_classes, penalty: FeaturePenalty, *,
                fit_intercept, tol, max_iter, coef=None, intercept=None, parallel=None):
    """The model with every penalised coefficient at zero: the intercept and the unpenalised
    features fitted alone (glmnet fits them first), and the entering threshold it leaves.

    Returns ``(fit, strength)``: ``fit`` a :class:`LogisticFit` of shape ``(K, p)`` (its
    ``n_iter`` and ``converged`` those of the unpenalised fit) and ``strength`` the largest
    ``|G_kj| / f_j`` over the penalised features on the sides their bounds let them move
    (``G`` the loss gradient in the sum scale). Zero is then optimal for every penalised
    coefficient if and only if ``l1_ratio / C >= strength``.
    """
    A, data, indices, indptr, transposed = design.arrays
    n, p = design.n_samples, design.n_features
    K = 1 if n_classes == 2 else n_classes
    free = penalty.unpenalised
    W = np.zeros((K, p))
    if free.size:
        counts = column_counts(indices, p) if transposed and indptr.size else \
            np.empty(0, dtype=np.int64)
        columns = extract_columns(A, data, indices, indptr, bool(transposed), free, n, p,
                                  counts)
        sub = LogisticDesign((*columns, False), n, free.size)
        start = None if coef is None else np.asarray(coef, dtype=np.float64)[:, free]
        # C and l1_ratio play no part: every factor of the sub-problem is zero.
        fit = solve_logistic(sub, y_codes, s, n_classes, 1.0, 1.0, fit_intercept=fit_intercept,
                             tol=tol, max_iter=max_iter, coef=start, intercept=intercept,
                             parallel=parallel, warn=False, penalty=penalty.take(free))
        W[:, free] = fit.coef
        b, n_iter, n_newton, converged = fit.intercept, fit.n_iter, fit.n_newton, fit.converged
    else:
        b = (_initial_intercept(np.asarray(y_codes, dtype=np.intp), s, n_classes)
             if fit_intercept else np.zeros(K))
        n_iter, n_newton, converged = 0, 0, True
    Z = np.empty((K, n))
    linear_predictor(A, data, indices, indptr, bool(transposed), W, b, Z)
    R = np.empty((K, n))
    link(Z, np.asarray(y_codes, dtype=np.float64), np.asarray(s, dtype=np.float64), R,
         _NO_CURVATURE, False)
    G = np.empty((K, p))
    full_gradient(A, data, indices, indptr, bool(transposed), R, G, bool(parallel))
    kernel = penalty.kernel(1.0, 0.0)
    strength = 0.0
    for j in np.flatnonzero(penalty.factor):
        entering = max(entering_correlation(kernel, j, -G[k, j]) for k in range(K))
        strength = max(strength, entering / penalty.factor[j])
    fit = LogisticFit(W, b, int(n_iter), int(n_newton), np.nan, np.nan, converged)
    return fit, strength


def _gradient_rounding(design: LogisticDesign, r_norm: float) -> float:
    """An estimate of the rounding error of a gradient entry ``x_j . R`` (sum scale): a few
    ulps of ``||R|| max ||x_j||``, with ``max ||x_j|| <= sqrt(n) max |X|`` (no pass over X
    beyond its extreme values, and only when a fit asks for more than its first bound)."""
    A, data, *_ = design.arrays
    values = data if data.size else A
    if values.size == 0:
        return 0.0
    x_max = max(float(values.max()), -float(values.min()))
    return _ROUNDING_ULPS * np.finfo(np.float64).eps * r_norm * x_max * np.sqrt(design.n_samples)


@interruptible
@claims_threads
def solve_logistic(design: LogisticDesign, y_codes: np.ndarray, sample_weight: np.ndarray,
                   n_classes: int, C: float, l1_ratio: float, *, fit_intercept: bool = True,
                   tol: float = 1e-4, max_iter: int = 100, solver: str = "prox_newton",
                   coef: np.ndarray | None = None, intercept: np.ndarray | None = None,
                   parallel: bool | None = None, warn: bool = True,
                   penalty: FeaturePenalty | None = None,
                   previous_C: float | None = None) -> LogisticFit:
    """Fit L1 / elastic-net logistic regression at one ``C`` (scikit-learn's objective).

    The stopping rule is the module docstring's: the kernels first bring the largest KKT
    violation below ``tol``; the duality gap of the result (with an exactly refitted
    intercept) must then be below ``tol * GAP_FRACTION`` times the objective, otherwise the
    kernel resumes from there with a tighter KKT bound, within the same ``max_iter``.
    Without a dual point (an unpenalised feature unbounded on a side) the KKT violation must
    be below ``tol * 1e-3`` instead and the gap is NaN.

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
        modified (``coef`` is clipped to the bounds). Default: zero coefficients and the
        optimal intercept for them.
    parallel : bool or None
        Compute full gradients on Numba's threads (default: when more than one is
        available). Callers that run fits in concurrent Python threads must pass False.
    warn : bool
        Emit a :class:`~sklearn.exceptions.ConvergenceWarning` when ``tol`` was not reached.
    penalty : FeaturePenalty, optional
        Validated per-feature factors and bounds (:func:`fastl1._feature_penalty.
        check_feature_penalty`); default: every factor 1, no bounds. When it has
        unpenalised features and the start has every penalised coefficient at zero, the
        intercept and the unpenalised features are fitted first (:func:`_null_model`); that
        fit is the solution when no penalised feature passes its threshold there.
    previous_C : float, optional
        On a path: the ``C`` whose solution ``coef`` is. The first working set is then the
        sequential strong rule's (the support and the features whose gradient passes
        ``2 l1 - l1_previous``), solved to the final optimality violation at once.

    Returns
    -------
    LogisticFit
    """
    p = design.n_features
    K = 1 if n_classes == 2 else n_classes
    s = kernel_array(np.ascontiguousarray(sample_weight, dtype=np.float64))
    y_codes = np.asarray(y_codes, dtype=np.intp)
    penalty = FeaturePenalty.default(p) if penalty is None else penalty
    W = np.zeros((K, p)) if coef is None else np.array(coef, dtype=np.float64, order="C")
    np.clip(W, penalty.lower, penalty.upper, out=W)
    if intercept is not None and fit_intercept:
        b = np.array(intercept, dtype=np.float64).reshape(K)
    elif fit_intercept:
        b = _initial_intercept(y_codes, s, n_classes)
    else:
        b = np.zeros(K)
    C, l1_ratio, tol = float(C), float(l1_ratio), float(tol)
    lam1 = l1_ratio / C
    kernel_penalty = penalty.kernel(lam1, (1.0 - l1_ratio) / C)
    free = penalty.unpenalised
    null_only = False
    n_newton = 0
    if 0 < free.size < p and not W[:, penalty.factor > 0.0].any():
        null, strength = _null_model(design, y_codes, s, n_classes, penalty,
                                     fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                                     coef=W, intercept=b, parallel=parallel)
        W, b, n_newton = null.coef, null.intercept, null.n_newton
        # Zero is optimal for every penalised coefficient (up to the rounding of G).
        null_only = strength <= lam1 * (1.0 + _NULL_SLACK)
    if null_only:
        y = kernel_array(np.ascontiguousarray(y_codes, dtype=np.float64))
        b, violation, gap, primal, _ = _certificate(
            design, y_codes, y, s, W, b, kernel_penalty, fit_intercept, parallel,
            _has_dual(penalty))
        n_iter, converged = null.n_iter, null.converged
    else:
        W, b, n_iter, steps, violation, gap, primal, converged = _solve_rounds(
            design, y_codes, s, n_classes, kernel_penalty, _has_dual(penalty), W, b,
            fit_intercept=fit_intercept, tol=tol, max_iter=max_iter, solver=solver,
            parallel=parallel,
            l1_previous=0.0 if previous_C is None else l1_ratio / float(previous_C))
        n_newton += steps
    s_sum = float(s.sum())
    violation /= s_sum
    gap /= s_sum
    if warn and not converged:
        _warn_not_converged(solver, n_iter, gap, violation, tol, primal / s_sum)
    if K > 1 and fit_intercept:
        b -= b.mean()  # the multinomial loss is invariant to a common shift of intercepts
    if K > 1:
        # So are the class coefficients of an unpenalised, unbounded feature: centred too.
        shiftable = free[(penalty.lower[free] == -np.inf) & (penalty.upper[free] == np.inf)]
        W[:, shiftable] -= W[:, shiftable].mean(axis=0)
    return LogisticFit(W, b, int(n_iter), int(n_newton), violation, gap, converged)


def _warn_not_converged(solver, n_iter, gap, violation, tol, objective):
    """The ConvergenceWarning of a fit that missed its stopping rule (averaged scale)."""
    if np.isnan(gap):
        rule = (f"largest optimality (KKT) violation {violation:.3e} > tol * "
                f"{_FIRST_KKT_FRACTION:g} (no duality gap: an unpenalised feature has no "
                "bound on a side)")
    else:
        rule = (f"duality gap {gap:.3e} > tol * {GAP_FRACTION:g} * objective "
                f"({tol * GAP_FRACTION * objective:.3e}), largest optimality (KKT) violation "
                f"{violation:.3e}")
    warn_user(
        f"LogisticRegression ({solver}) did not converge after {n_iter} iterations: "
        f"{rule} (in the scale of the objective divided by C * sum(sample_weight)). "
        "Increase max_iter or tol, scale the features, or decrease C.", ConvergenceWarning)


def _solve_rounds(design: LogisticDesign, y_codes, s, n_classes, penalty, has_dual, W, b, *,
                  fit_intercept, tol, max_iter, solver, parallel, l1_previous=0.0):
    """The kernel runs of :func:`solve_logistic` from ``(W, b)`` (updated in place), each
    followed by a certificate, until the stopping rule holds (sum scale). On a path,
    ``l1_previous`` is the previous point's ``l1_reg`` (the strong rule's; 0 otherwise).

    Returns ``(W, b, n_iter, n_newton, violation, gap, primal, converged)``."""
    A, data, indices, indptr, transposed = design.arrays
    p = design.n_features
    K = W.shape[0]
    s_sum = float(s.sum())
    y = kernel_array(np.ascontiguousarray(y_codes, dtype=np.float64))
    gap_tol = tol * GAP_FRACTION
    if solver == "fista":
        eig = lipschitz_estimate(A, data, indices, indptr, bool(transposed), s, p,
                                 bool(fit_intercept), _POWER_ITERATIONS, bool(parallel))
        lipschitz = (0.25 if K == 1 else 0.5) * eig
    # The first KKT bound is well below tol: near the optimum (proximal Newton converges
    # quadratically there) an outer iteration more costs less than a second round, which
    # restarts the working sets and computes another certificate (docs/benchmarks.md).
    # Without a dual point it is the stopping rule itself.
    kkt_tol = kernel_tol = tol * s_sum * _FIRST_KKT_FRACTION
    n_iter = n_newton = 0
    floor = None
    while True:
        budget = int(max_iter) - n_iter
        if solver == "fista":
            done, violation, _, _ = fista(
                A, data, indices, indptr, bool(transposed), y, s, W, b, penalty,
                bool(fit_intercept), kernel_tol, budget, lipschitz, _FISTA_CHECK_EVERY,
                bool(parallel), STOP)
            stalled = False
        else:
            # The kernel's last outer iteration only evaluates the full gradient (the check
            # that certifies convergence or ends the fit): ``budget + 1`` of them solve
            # ``budget`` working sets.
            outer, steps, violation, _, _ = prox_newton(
                A, data, indices, indptr, bool(transposed), y, s, W, b, penalty,
                bool(fit_intercept), kernel_tol, budget + 1, _WS_START, _INNER_FRACTION
                if l1_previous == 0.0 else 0.0, _MAX_NEWTON, l1_previous, bool(parallel),
                STOP)
            done = outer - 1
            # It returns early above its bound only when no step decreases the objective.
            stalled = violation > kernel_tol and done < budget
            n_newton += steps
            if stalled:
                done += 1
        raise_if_stopped()
        n_iter += done
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError("The solver produced non-finite coefficients; the input may "
                             "contain values too large for its dtype.")
        b, violation, gap, primal, r_norm = _certificate(design, y_codes, y, s, W, b, penalty,
                                                         fit_intercept, parallel, has_dual)
        if has_dual:
            converged = gap <= max(gap_tol, _GAP_FLOOR) * primal
        else:
            converged = violation <= kkt_tol
        if converged or stalled or n_iter >= max_iter:
            break
        # Near the optimum the gap is dominated by the scaling of the dual point, about the
        # violation times the weighted L1 norm: ask the kernel for the violation that would
        # bring the gap to half its bound (at least 10 and at most 1000 times smaller).
        kernel_tol = min(kernel_tol, violation) * (min(
            0.1, max(1e-3, 0.5 * gap_tol * primal / max(gap, 1e-300))) if has_dual
            else 0.1)
        if floor is None and kernel_tol < _ROUNDING_ULPS * np.finfo(np.float64).eps * r_norm \
                * np.sqrt(design.n_samples) * 1e6:
            # Within reach of the rounding error for entries of X up to 1e6: measure it (a
            # pass over X's extreme values, which most fits never need).
            floor = _gradient_rounding(design, r_norm)
        if floor is not None and kernel_tol < floor:
            # No smaller violation is measurable: the gradient's rounding error decides.
            converged = violation <= max(tol * s_sum, 2.0 * floor)
            break
    if solver != "fista":
        # Iterations are working-set solves plus the evaluation that ends the fit (so a fit
        # started at its solution counts 1, as scikit-learn's checks expect), at most max_iter.
        n_iter = min(n_iter + 1, int(max_iter))
    return W, b, n_iter, n_newton, violation, gap, primal, converged


def store_fit(estimator, classes, coef: np.ndarray, result, dtype, solver: str) -> None:
    """Set a fitted logistic model's attributes from a solver's result (``coef`` already in
    ``dtype``); with ``verbose``, print what the solver did (``solver`` names it)."""
    K = coef.shape[0]
    estimator.classes_ = classes
    estimator.coef_ = coef
    estimator.intercept_ = (result.intercept.astype(dtype) if estimator.fit_intercept
                            else np.zeros(K, dtype=dtype))
    estimator.n_iter_ = np.array([result.n_iter], dtype=np.int32)
    estimator.kkt_violation_ = result.violation
    estimator.dual_gap_ = result.dual_gap
    if estimator.verbose:
        print(f"[fastl1.LogisticRegression] {solver}: {result.n_iter} iterations, "
              f"{result.n_newton} Newton steps, KKT violation {result.violation:.3e}, "
              f"duality gap {result.dual_gap:.3e}, "
              f"{int(np.count_nonzero(coef))} non-zero coefficients")


def cast_within_bounds(coef: np.ndarray, penalty: FeaturePenalty, dtype) -> np.ndarray:
    """``coef`` (float64, last axis the features) in ``dtype``, each value that rounding took
    past its bound moved one ulp towards zero (a float32 bound such as -0.3 is rounded away
    from zero): the returned coefficients satisfy the bounds as float64 numbers."""
    out = coef.astype(dtype)
    if out.dtype != coef.dtype:
        past = (out < penalty.lower) | (out > penalty.upper)
        if past.any():
            out[past] = np.nextafter(out[past], out.dtype.type(0))
    return out


def l1_ratio_of_penalty(penalty, estimator: str, unpenalised: str, parameter: str,
                        use: str) -> float | None:
    """The l1_ratio that scikit-learn's deprecated ``penalty`` stands for: 1 for 'l1', 0 for
    'l2', None when left at its default or 'elasticnet' (``parameter`` decides). Warns
    (FutureWarning, as scikit-learn 1.8+, saying how to ``use`` ``parameter``) when it is
    set; ``penalty=None`` is refused, pointing at scikit-learn's ``estimator`` with
    ``unpenalised``."""
    if isinstance(penalty, str) and penalty == "deprecated":
        return None
    if penalty is None:
        raise ValueError(
            "penalty=None (an unpenalised fit) is not supported: fastl1 fits L1 / "
            f"elastic-net penalised models. Use sklearn.linear_model.{estimator} with "
            f"{unpenalised} for an unpenalised fit.")
    _check_choice("penalty", penalty, ("deprecated", "l1", "elasticnet", "l2"))
    warn_user("'penalty' is deprecated (as in scikit-learn 1.8+): leave it at its default and "
              f"use {parameter} instead ({use}).", FutureWarning)
    return {"l1": 1.0, "l2": 0.0}.get(penalty)


def class_weights(class_weight, classes, y, sample_weight) -> np.ndarray:
    """The weight of each class (scikit-learn's ``compute_class_weight``), refused unless
    finite and non-negative: a negative weight makes the loss concave in that class's
    samples, so the objective has no minimum (the solvers would diverge)."""
    weights = np.asarray(compute_class_weight(class_weight, classes=classes, y=y,
                                              sample_weight=sample_weight), dtype=np.float64)
    bad = ~(np.isfinite(weights) & (weights >= 0))
    if bad.any():
        raise ValueError(
            "class_weight must give every class a finite non-negative weight, got "
            + ", ".join(f"{c!r}: {w!r}" for c, w in zip(
                classes[bad].tolist(), weights[bad].tolist(), strict=True)) + ".")
    return weights


class LogisticRegression(LinearClassifierMixin, SparseCoefMixin, BaseEstimator):
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
        Stop when the duality gap is below ``tol / 100`` times the objective: the objective
        is then within a relative ``tol / 100`` of its minimum, whatever the scale of the
        data (module docstring, "Stopping rule").
    max_iter : int, default=100
        ``prox_newton``: maximum outer iterations, each a full-gradient evaluation followed
        by a proximal-Newton solve on the working set (``max_iter=k`` performs up to ``k``
        solves). ``fista``: maximum gradient steps (one pass over X each; FISTA typically
        needs thousands).
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
    penalty_factor : array-like of shape (n_features,), default=None
        Non-negative multiplier of each feature's penalty (glmnet's ``penalty.factor``): the
        penalty is ``sum_j penalty_factor[j] * (l1_ratio ||W[:, j]||_1 + (1 - l1_ratio) / 2
        ||W[:, j]||^2)``, the factors used as given (glmnet rescales them to sum to
        ``n_features``: pass :func:`fastl1._feature_penalty.glmnet_factors` of them to match
        it). 0 leaves a feature unpenalised (e.g. age or sex beside genes); not all may be 0
        when ``l1_ratio > 0``. None: every factor 1.
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
        Bounds on each feature's coefficients (of every class), ``lower_bounds <= 0 <=
        upper_bounds`` (glmnet's ``lower.limits`` and ``upper.limits``; ``lower_bounds=0``
        gives non-negative coefficients). None: unbounded. The intercept is never bounded.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        In the dtype of X (float32 stays float32).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Multinomial intercepts are centred to sum to zero (the loss does not depend on a
        common shift).
    n_iter_ : ndarray of shape (1,)
        Iterations run (``prox_newton``: working-set solves plus the final check, at most
        ``max_iter``; a fit started at its solution counts 1).
    kkt_violation_ : float
        Largest optimality violation at the solution, in the scale of the objective divided
        by ``C * sum(sample_weight)``.
    dual_gap_ : float
        Duality gap in the same scale (a certificate: that objective is within
        ``dual_gap_`` of its minimum). NaN when an unpenalised feature (``penalty_factor``
        0) is unbounded on a side: no dual point exists, and the fit stops when
        ``kkt_violation_`` is below ``tol / 1000`` (module docstring, "Stopping rule").
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
                 random_state=None, solver="auto", verbose=0, n_jobs=None,
                 penalty_factor=None, lower_bounds=None, upper_bounds=None):
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
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _effective_l1_ratio(self) -> float:
        """Validate ``penalty``/``l1_ratio`` and return the l1_ratio to use."""
        _check_real("l1_ratio", self.l1_ratio, low=0.0, high=1.0)
        ratio = l1_ratio_of_penalty(self.penalty, "LogisticRegression", "C=np.inf", "l1_ratio",
                                    "l1_ratio=1 for 'l1', 0 < l1_ratio < 1 for "
                                    "'elasticnet', l1_ratio=0 for 'l2'")
        return float(self.l1_ratio) if ratio is None else ratio

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

    def _path_spec(self):
        """The logistic losses' side of the path plan (:class:`fastl1.logistic_cv.
        LogisticPath`), with this model's options (validated; the deprecated ``penalty``
        resolved into the l1_ratio)."""
        from ._path_plan import feature_options
        from .logistic_cv import LogisticPath

        return LogisticPath(bool(self.fit_intercept), self._check_params(), self.tol,
                            self.max_iter, class_weight=self.class_weight,
                            features=feature_options(self))

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
        if dask_input(X, y, sample_weight):  # passes over the row blocks, X stays on the cluster
            from ._dask_logistic import fit_logistic
            from .linear_model import refuse_feature_penalty_on_dask
            refuse_feature_penalty_on_dask(self)
            return fit_logistic(self, X, y, sample_weight, l1_ratio)
        check_sparse_structure(X)
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
            s = s * class_weights(self.class_weight, classes, y, sample_weight)[y_codes]
        if not s.sum() > 0:
            raise ValueError("The sample weights (times the class weights) sum to zero.")
        n_classes = classes.shape[0]
        K = 1 if n_classes == 2 else n_classes
        p = X.shape[1]
        penalty = check_feature_penalty(self.penalty_factor, self.lower_bounds,
                                        self.upper_bounds, p, l1_ratio=l1_ratio)
        coef0 = np.zeros((K, p))
        intercept0 = None
        if (self.warm_start and hasattr(self, "coef_") and hasattr(self, "classes_")
                and np.shape(self.coef_) == (K, p)
                and np.array_equal(self.classes_, classes)):
            coef0 = (self.coef_.toarray() if sp.issparse(self.coef_)
                     else np.asarray(self.coef_)).astype(np.float64)
            intercept0 = np.asarray(self.intercept_, dtype=np.float64)
        solver = "prox_newton" if self.solver == "auto" else self.solver
        result = solve_logistic(
            logistic_design(X), y_codes, s, n_classes, self.C, l1_ratio,
            fit_intercept=bool(self.fit_intercept), tol=self.tol, max_iter=self.max_iter,
            solver=solver, coef=coef0, intercept=intercept0, penalty=penalty)
        store_fit(self, classes, cast_within_bounds(result.coef, penalty, X.dtype), result,
                  X.dtype, solver)
        return self

    def decision_function(self, X):
        """Confidence scores ``X W^T + b``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,) for two classes (score of ``classes_[1]``), else
        (n_samples, n_classes); a lazy Dask array with X's row chunks for a Dask X
        """
        if dask_input(X):  # blockwise, lazily: X stays on the cluster
            return blockwise(self, X, "decision_function")
        check_sparse_structure(X)
        return LinearClassifierMixin.decision_function(self, X)

    def predict(self, X):
        """Class labels: ``classes_[1]`` where the score is positive (two classes), else the
        class of the largest score.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
            A lazy Dask array with X's row chunks for a Dask X.
        """
        if dask_input(X):
            return blockwise(self, X, "predict")
        return LinearClassifierMixin.predict(self, X)  # (LogisticRegressionCV shares it)

    def score(self, X, y, sample_weight=None):
        """Mean (weighted) accuracy of :meth:`predict`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        float
            A lazy 0-d Dask array for Dask input.
        """
        if dask_input(X, y, sample_weight):
            return dask_score(self, X, y, sample_weight)
        return super().score(X, y, sample_weight=sample_weight)

    def predict_proba(self, X):
        """Class probabilities: sigmoid (two classes) or softmax of the scores.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1. A lazy Dask array with X's
            row chunks for a Dask X.
        """
        if dask_input(X):
            return blockwise(self, X, "predict_proba")
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
            A lazy Dask array for a Dask X.
        """
        if dask_input(X):
            return blockwise(self, X, "predict_log_proba")
        check_is_fitted(self)
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.stack([log_expit(-scores), log_expit(scores)], axis=1)
        shifted = scores - scores.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
