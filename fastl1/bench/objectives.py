"""Reference objectives: the primal and dual values the harness computes itself, in float64,
for every solver's coefficients, so that no solver is judged by its own stopping rule."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from .problems import BenchProblem

__all__ = ["PathSolution", "coef_at", "duality_gap", "glm_objective", "glm_primal_dual",
           "logistic_intercept", "logistic_primal_dual", "objective", "primal_dual",
           "primal_dual_grid"]


def _residual(X, y, coef) -> np.ndarray:
    return np.asarray(y, dtype=np.float64) - np.asarray(X @ coef, dtype=np.float64).ravel()


def objective(X, y, coef, alpha: float, l1_ratio: float = 1.0) -> float:
    """scikit-learn's elastic-net objective (no intercept), in float64."""
    coef = np.asarray(coef, dtype=np.float64).ravel()
    r = _residual(X, y, coef)
    n = r.shape[0]
    return float(0.5 * (r @ r) / n + alpha * l1_ratio * np.abs(coef).sum()
                 + 0.5 * alpha * (1.0 - l1_ratio) * (coef @ coef))


def primal_dual(X, y, coef, alpha: float, l1_ratio: float = 1.0) -> tuple[float, float]:
    """Primal objective of ``coef`` and dual objective of the dual point built from its
    residual, both in the objective's scale (no intercept), in float64.

    scikit-learn's "formulation A" (``sklearn/linear_model/_cd_fast.pyx``): with
    ``R = y - X w``, ``a = n alpha l1_ratio``, ``b = n alpha (1 - l1_ratio)``,
    ``XtA = X^T R - b w`` and the dual point ``v = s R``, ``s = min(1, a / ||XtA||_inf)``,

        P = (1/2 (||R||^2 + b ||w||^2) + a ||w||_1) / n,
        D = (-s^2/2 (||R||^2 + b ||w||^2) + s R^T y) / n.

    For the lasso (``l1_ratio = 1``) the dual point is the usual ``theta = R / max(1,
    ||X^T R||_inf / (n alpha))``. Any dual value is a lower bound on the minimum.
    """
    if alpha <= 0 or l1_ratio <= 0:
        raise ValueError("the duality gap needs alpha > 0 and l1_ratio > 0")
    y = np.asarray(y, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64).ravel()
    R = _residual(X, y, coef)
    n = R.shape[0]
    a = n * alpha * l1_ratio
    b = n * alpha * (1.0 - l1_ratio)
    XtA = np.asarray(X.T @ R, dtype=np.float64).ravel() - b * coef
    dual_norm = float(np.max(np.abs(XtA), initial=0.0))
    scale = a / dual_norm if dual_norm > a else 1.0
    quad = float(R @ R) + b * float(coef @ coef)
    primal = 0.5 * quad + a * float(np.abs(coef).sum())
    dual = -0.5 * scale * scale * quad + scale * float(R @ y)
    return primal / n, dual / n


def duality_gap(X, y, coef, alpha: float, l1_ratio: float = 1.0) -> float:
    """Duality gap of ``coef`` (see :func:`primal_dual`), in the objective's scale.

    It bounds the suboptimality: ``objective(w) - min <= duality_gap(w)``.
    """
    primal, dual = primal_dual(X, y, coef, alpha, l1_ratio)
    return primal - dual


def logistic_primal_dual(X, y, coef, alpha: float) -> tuple[float, float]:
    """Primal and dual objective of binary L1 logistic regression without intercept, in the
    averaged scale ``P(w) = mean_i log(1 + exp(-y_i x_i w)) + alpha ||w||_1`` (labels
    ``+-1``), in float64.

    The dual (Fenchel; e.g. Massias et al., JMLR 2020, section 5) is, with ``t in [0, 1]^n``,
    ``D(t) = mean_i H(t_i)``, ``H(t) = -t log t - (1 - t) log(1 - t)``, subject to
    ``||X^T (y * t)||_inf <= n alpha``. The dual point is built from the loss gradient at
    ``w``: ``t_i = s sigmoid(-y_i x_i w)`` with ``s = min(1, n alpha / ||X^T (y *
    sigmoid(-y X w))||_inf)`` (exact at the optimum). Any dual value bounds the minimum from
    below.
    """
    from scipy.special import entr, expit

    if alpha <= 0:
        raise ValueError("the duality gap needs alpha > 0")
    y = np.asarray(y, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64).ravel()
    margin = y * np.asarray(X @ coef, dtype=np.float64).ravel()
    n = margin.shape[0]
    primal = float(np.mean(np.logaddexp(0.0, -margin)) + alpha * np.abs(coef).sum())
    t = expit(-margin)
    dual_norm = float(np.max(np.abs(np.asarray(X.T @ (y * t), dtype=np.float64)),
                             initial=0.0))
    if dual_norm > n * alpha:
        t *= n * alpha / dual_norm
    dual = float(np.mean(entr(t) + entr(1.0 - t)))
    return primal, dual


@dataclasses.dataclass
class PathSolution:
    """A path with intercepts (glmpath problems): ``coefs`` CSC of shape (n_features,
    n_alphas) and ``intercepts`` of shape (n_alphas,), both in the order of the grid."""

    coefs: sp.csc_array
    intercepts: np.ndarray


def _penalty(coef: np.ndarray, alpha: float, l1_ratio: float) -> float:
    return alpha * (l1_ratio * float(np.abs(coef).sum())
                    + 0.5 * (1.0 - l1_ratio) * float(coef @ coef))


def glm_objective(X, y, coef, intercept: float, alpha: float, l1_ratio: float = 1.0,
                  loss: str = "squared") -> float:
    """glmnet's objective with an unpenalised intercept, in float64: ``loss="squared"``:
    ``1/(2n) ||y - X w - b||^2``, ``"logistic"`` (labels ``+-1``): ``mean_i log(1 +
    exp(-y_i (x_i w + b)))``; plus ``alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``.
    """
    coef = np.asarray(coef, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64)
    xw = np.asarray(X @ coef, dtype=np.float64).ravel() + float(intercept)
    if loss == "logistic":
        data = float(np.mean(np.logaddexp(0.0, -y * xw)))
    elif loss == "squared":
        r = y - xw
        data = 0.5 * float(r @ r) / r.shape[0]
    else:
        raise ValueError(f"loss must be 'squared' or 'logistic', got {loss!r}")
    return data + _penalty(coef, alpha, l1_ratio)


def logistic_intercept(margin: np.ndarray, y: np.ndarray, start: float = 0.0) -> float:
    """The intercept ``b`` minimising ``mean_i log(1 + exp(-y_i (margin_i + b)))`` (labels
    ``+-1``; both classes present): the root of the increasing derivative ``-mean(y
    sigmoid(-y (margin + b)))``, bracketed from ``start`` and found by Brent's method."""
    from scipy.optimize import brentq
    from scipy.special import expit

    def slope(b: float) -> float:
        return -float(np.mean(y * expit(-y * (margin + b))))

    if not (np.any(y > 0) and np.any(y < 0)):
        raise ValueError("the logistic intercept needs both classes")
    start = float(start) if math.isfinite(start) else 0.0
    lo, hi, step = start - 1.0, start + 1.0, 1.0
    while slope(lo) > 0:
        step *= 2.0
        lo = start - step
    while slope(hi) < 0:
        step *= 2.0
        hi = start + step
    return float(brentq(slope, lo, hi, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                        maxiter=500))


def glm_primal_dual(X, y, coef, intercept: float, alpha: float, l1_ratio: float = 1.0,
                    loss: str = "squared") -> tuple[float, float]:
    """Primal objective (:func:`glm_objective`, with the solver's own intercept) and the
    dual objective of a feasible dual point built from ``coef``, in float64.

    With an intercept the dual points must satisfy ``sum_i theta_i = 0`` (squared loss) or
    ``sum_i y_i t_i = 0`` (logistic); both are built at the intercept that is optimal for
    ``coef``, where these hold (for the squared loss: the centred residual ``R = y_c - X_c
    w``; for the logistic loss: ``t_i = sigmoid(-y_i (x_i w + b*))``, ``b*`` from
    :func:`logistic_intercept`). ``X^T`` of such a point equals ``X_c^T`` of it, so sparse
    ``X`` is never centred. The dual is then that of the centred problem without intercept
    (whose minimum is the same): for the squared loss :func:`primal_dual`'s formula; for the
    logistic loss ``D(t) = mean_i H(t_i) - g*(X^T (y t) / n)``, ``H`` the binary entropy and
    ``g*`` the conjugate of the penalty (for ``l1_ratio = 1``: t scaled by ``min(1, alpha /
    ||X^T (y t) / n||_inf)`` into the feasible set, ``g* = 0``; otherwise
    ``||S(u, alpha l1_ratio)||^2 / (2 alpha (1 - l1_ratio))``, S soft-thresholding). Any
    dual value is a lower bound on the minimum.
    """
    if alpha <= 0 or l1_ratio <= 0:
        raise ValueError("the duality gap needs alpha > 0 and l1_ratio > 0")
    y = np.asarray(y, dtype=np.float64)
    coef = np.asarray(coef, dtype=np.float64).ravel()
    n = y.shape[0]
    xw = np.asarray(X @ coef, dtype=np.float64).ravel()
    primal = glm_objective(X, y, coef, intercept, alpha, l1_ratio, loss)
    if loss == "squared":
        yc = y - y.mean()
        R = yc - (xw - xw.mean())
        a, b = n * alpha * l1_ratio, n * alpha * (1.0 - l1_ratio)
        XtA = np.asarray(X.T @ R, dtype=np.float64).ravel() - b * coef
        dual_norm = float(np.max(np.abs(XtA), initial=0.0))
        s = a / dual_norm if dual_norm > a else 1.0
        quad = float(R @ R) + b * float(coef @ coef)
        return primal, (-0.5 * s * s * quad + s * float(R @ yc)) / n
    from scipy.special import entr, expit

    b_star = logistic_intercept(xw, y, start=float(intercept))
    t = expit(-y * (xw + b_star))
    u = np.asarray(X.T @ (y * t), dtype=np.float64).ravel() / n
    conjugate = 0.0
    if l1_ratio == 1.0:
        dual_norm = float(np.max(np.abs(u), initial=0.0))
        if dual_norm > alpha:
            t *= alpha / dual_norm
    else:
        excess = np.maximum(np.abs(u) - alpha * l1_ratio, 0.0)
        conjugate = float(excess @ excess) / (2.0 * alpha * (1.0 - l1_ratio))
    return primal, float(np.mean(entr(t) + entr(1.0 - t))) - conjugate


def coef_at(result, j: int) -> np.ndarray:
    """Coefficients at the j-th alpha of a solver's normalised result: a fit's coefficients
    (1-D) or a path's (CSC, one column per alpha of the grid, or a :class:`PathSolution`)."""
    if isinstance(result, PathSolution):
        result = result.coefs
    if not sp.issparse(result):
        return result
    col = np.zeros(result.shape[0])
    lo, hi = result.indptr[j], result.indptr[j + 1]
    col[result.indices[lo:hi]] = result.data[lo:hi]
    return col


def primal_dual_grid(problem: BenchProblem, result) -> tuple[np.ndarray, np.ndarray]:
    """:func:`primal_dual` at every alpha of the problem's grid (one for a fit)."""
    grid = problem.grid
    primal, dual = np.empty(grid.size), np.empty(grid.size)
    for j, alpha in enumerate(grid):
        if problem.task == "glmpath":
            primal[j], dual[j] = glm_primal_dual(
                problem.X, problem.y, coef_at(result, j), result.intercepts[j], alpha,
                problem.l1_ratio, problem.loss)
        elif problem.task == "logistic":
            primal[j], dual[j] = logistic_primal_dual(problem.X, problem.y, result, alpha)
        else:
            primal[j], dual[j] = primal_dual(problem.X, problem.y, coef_at(result, j), alpha,
                                             problem.l1_ratio)
    return primal, dual
