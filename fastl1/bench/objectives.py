"""Reference objectives: the primal and dual values the harness computes itself, in float64,
for every solver's coefficients, so that no solver is judged by its own stopping rule."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from .problems import BenchProblem

__all__ = ["coef_at", "duality_gap", "logistic_primal_dual", "objective", "primal_dual",
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


def coef_at(result, j: int) -> np.ndarray:
    """Coefficients at the j-th alpha of a solver's normalised result: a fit's coefficients
    (1-D) or a path's (CSC, one column per alpha of the grid)."""
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
        if problem.task == "logistic":
            primal[j], dual[j] = logistic_primal_dual(problem.X, problem.y, result, alpha)
        else:
            primal[j], dual[j] = primal_dual(problem.X, problem.y, coef_at(result, j), alpha,
                                             problem.l1_ratio)
    return primal, dual
