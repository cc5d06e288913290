"""Proximal Newton for smooth datafits of a linear predictor, over the squared-loss engine.

A datafit ``F(eta) = sum_i f_i(eta_i)`` of the linear predictor ``eta = X w + b + offset``
(Poisson, and any other whose per-sample derivatives are cheap) is minimised with the
elastic-net penalty (factors and bounds included) by proximal Newton steps, glmnet's
iteratively reweighted least squares (Friedman, Hastie & Tibshirani, JSS 2010, sec. 3): the
second-order model of ``F`` at ``eta_0`` is the weighted least-squares problem

    1/2 sum_i h_i (z_i - eta_i)^2,   h_i = f_i''(eta_0,i),   z_i = eta_0,i - f_i'(eta_0,i) / h_i,

which :func:`._solver.solve_enet` solves with sample weights ``h`` (rescaled to sum to ``n``:
alpha is rescaled by ``n / sum(h)`` to keep the same minimiser), on the design as given (dense,
CSC or CSR, never copied), warm-started. A backtracking line search on the true objective makes
every step a descent step (Lee, Sun & Saunders, SIAM J. Optim. 2014). The loop stops when the
datafit's certificate (its duality gap, or the KKT violation where the datafit has none) is
below the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from ._blas import blas_on_one_thread
from ._feature_penalty import FeaturePenalty
from ._solver import make_problem, solve_enet

# Curvatures below this fraction of the largest are floored there: a sample whose mean is
# ~0 carries no information, and a zero weight would make its working response undefined.
_CURVATURE_FLOOR = 1e-12
# The smallest relative duality gap a squared-loss subproblem is asked for, by the design's
# bytes per value (float32 gaps stall near 1e-7 of the objective).
_PRECISION_FLOOR = {4: 1e-6, 8: 1e-12}
# Epochs of a subproblem run past the precision floor (without a gap test).
_BLIND_EPOCHS = 10
# Backtracking halvings before a Newton step is declared stalled.
_LINE_SEARCH_STEPS = 30


class Datafit(Protocol):
    """What the Newton loop asks of a datafit ``F(eta) = sum_i f_i(eta_i)``."""

    def value(self, eta: np.ndarray) -> float:
        """``F(eta)``."""

    def derivatives(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(f_i'(eta_i), f_i''(eta_i))`` for every sample."""

    def certificate(self, X, coef: np.ndarray, eta: np.ndarray, penalty_value: float,
                    strengths: tuple[float, float], penalty: FeaturePenalty) -> float:
        """A bound on ``objective - min objective`` in ``n`` times the objective's scale."""

    def intercept_step(self, eta: np.ndarray) -> float:
        """The change of the intercept that minimises ``F`` along it, exactly."""


@dataclass
class NewtonResult:
    coef: np.ndarray
    intercept: float
    certificate: float  # in the objective's scale (divided by n_samples)
    n_iter: int  # coordinate-descent epochs, all Newton steps together
    n_newton: int
    converged: bool


def linear_predictor(X, coef: np.ndarray, intercept: float, offset: np.ndarray | None
                     ) -> np.ndarray:
    """``X w + b (+ offset)`` in float64 (sparse products stay sparse)."""
    eta = np.asarray(X @ coef, dtype=np.float64) + intercept
    if offset is not None:
        eta += offset
    return eta


def penalty_value(coef: np.ndarray, alpha: float, l1_ratio: float,
                  penalty: FeaturePenalty) -> float:
    """``alpha * sum_j f_j (l1_ratio |w_j| + (1 - l1_ratio)/2 w_j^2)``."""
    w = np.asarray(coef, dtype=np.float64)
    return float(alpha * np.sum(penalty.factor * (l1_ratio * np.abs(w)
                                                  + 0.5 * (1.0 - l1_ratio) * w * w)))


def prox_newton(X, datafit: Datafit, alpha: float, l1_ratio: float, penalty: FeaturePenalty,
                *, coef: np.ndarray, intercept: float, fit_intercept: bool,
                offset: np.ndarray | None, tol: float, tol_scale: float, max_iter: int,
                max_newton: int = 100, solver_options: dict | None = None) -> NewtonResult:
    """Minimise ``F(X w + b + offset) / n + penalty(w)`` from ``(coef, intercept)``.

    ``tol_scale`` sets the stopping rule's scale (the null model's deviance over two, say):
    the loop ends once the certificate is at most ``tol * tol_scale`` (objective's scale).
    ``max_iter`` bounds the coordinate-descent epochs of all Newton steps together.
    ``solver_options`` go to every :func:`._solver.solve_enet` call (``anderson=0``, say).
    BLAS is held to one thread: an idle OpenBLAS worker spins ~0.1 s after a threaded product
    (even a dot product over 20000 coefficients), a core the next kernel needs.
    """
    with blas_on_one_thread():
        return _prox_newton(X, datafit, alpha, l1_ratio, penalty, coef, intercept,
                            fit_intercept, offset, tol, tol_scale, max_iter, max_newton,
                            solver_options)


def _prox_newton(X, datafit, alpha, l1_ratio, penalty, coef, intercept, fit_intercept, offset,
                 tol, tol_scale, max_iter, max_newton, solver_options):
    n = X.shape[0]
    coef = np.array(coef, dtype=np.float64)
    eta = linear_predictor(X, coef, intercept, offset)
    objective = datafit.value(eta) / n + penalty_value(coef, alpha, l1_ratio, penalty)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    n_iter = 0
    certificate = np.inf
    steps = 0
    floor = _PRECISION_FLOOR[np.dtype(dtype).itemsize]
    tight = np.inf  # the subproblems' tolerance once tightened (see below)
    for steps in range(1, max_newton + 1):  # noqa: B007 (reported)
        d1, d2 = datafit.derivatives(eta)
        d2 = np.maximum(d2, _CURVATURE_FLOOR * max(float(d2.max()), 1e-300))
        target = eta - d1 / d2 - (0.0 if offset is None else offset)
        total = float(d2.sum())
        problem = make_problem(X, (d2 * (n / total)).astype(dtype), fit_intercept)
        centred, mean = problem.centre_target(target.astype(dtype))
        trial = coef.astype(dtype)
        # Inexact Newton: each subproblem to a fraction of the outer certificate's relative
        # size (its gap is relative to its own target's scale), down to a hundredth of the
        # tolerance, never below what the design's precision can certify; a hundred times
        # tighter whenever a subproblem is solved before its first epoch while the certificate
        # is not met (a KKT certificate can need more than its gap suggests), and past the
        # floor a few epochs without a gap test (the gap's rounding hides a gradient of about
        # the square root of the precision).
        relative = certificate / tol_scale if np.isfinite(certificate) else 1.0
        inner_tol = min(1e-3, max(0.1 * relative, tol * 1e-2, floor), tight)
        result = solve_enet(problem, np.ascontiguousarray(centred), trial,
                            alpha * n / total, l1_ratio, penalty=penalty,
                            tol=inner_tol, warn=False, **(solver_options or {}),
                            ws_start=max(100, 2 * int(np.count_nonzero(coef))),
                            max_iter=max(min(max_iter - n_iter,
                                             _BLIND_EPOCHS if inner_tol == 0 else max_iter), 1))
        n_iter += result.n_iter
        trial = trial.astype(np.float64)
        trial_intercept = float(mean - problem.x_mean.astype(np.float64) @ trial) \
            if fit_intercept else 0.0
        previous = objective
        coef, intercept, eta, objective = _line_search(
            X, datafit, alpha, l1_ratio, penalty, offset, coef, intercept, objective,
            trial, trial_intercept)
        stalled = (result.n_iter == 0 or inner_tol == 0) and objective >= previous
        if fit_intercept:  # the dual point needs the intercept's condition to hold exactly
            shift = datafit.intercept_step(eta)
            intercept += shift
            eta = eta + shift
            objective = datafit.value(eta) / n + penalty_value(coef, alpha, l1_ratio, penalty)
        certificate = datafit.certificate(X, coef, eta, penalty_value(coef, alpha, l1_ratio,
                                                                      penalty),
                                          (alpha, l1_ratio), penalty) / n
        if certificate <= tol * tol_scale or n_iter >= max_iter:
            break
        if stalled and inner_tol == 0:
            break  # the subproblem is solved to rounding, and nothing moves
        if result.n_iter == 0:
            tight = max(inner_tol * 1e-2, floor) if inner_tol > floor else 0.0
    return NewtonResult(coef, intercept, certificate, n_iter, steps,
                        certificate <= tol * tol_scale)


def _line_search(X, datafit, alpha, l1_ratio, penalty, offset, coef, intercept, objective,
                 trial, trial_intercept):
    """The largest step ``t = 2^-k`` towards ``(trial, trial_intercept)`` that does not raise
    the objective (the objective is convex along the segment, so one exists unless the
    current point is optimal to rounding). Returns the new point, its ``eta`` and objective."""
    n = X.shape[0]
    step = 1.0
    for _ in range(_LINE_SEARCH_STEPS):
        w = coef + step * (trial - coef)
        b = intercept + step * (trial_intercept - intercept)
        eta = linear_predictor(X, w, b, offset)
        value = datafit.value(eta) / n + penalty_value(w, alpha, l1_ratio, penalty)
        if value <= objective + 1e-12 * abs(objective):
            return w, b, eta, value
        step *= 0.5
    return coef, intercept, linear_predictor(X, coef, intercept, offset), objective


def design_correlations(X, v: np.ndarray) -> np.ndarray:
    """``X^T v`` in float64 (sparse designs are not densified)."""
    if sp.issparse(X):
        return np.asarray(X.T @ v, dtype=np.float64).ravel()
    return np.asarray(X.T @ v.astype(X.dtype, copy=False), dtype=np.float64)


def penalty_conjugate_gap(grad: np.ndarray, coef: np.ndarray, penalty_value_n: float,
                          strengths: tuple[float, float], penalty: FeaturePenalty,
                          n: int) -> tuple[float, float]:
    """The penalty's share of the duality gap for the dual point ``theta`` with correlations
    ``grad = X^T theta``: returns ``(scale, conjugate)`` where ``scale <= 1`` makes the
    scaled point feasible (pure L1; 1 with a ridge term) and ``conjugate`` is the penalty's
    conjugate at ``scale * grad`` (``n`` times the objective's scale). Unbounded features
    with positive factors only (the callers fall back to the KKT violation otherwise)."""
    alpha, l1_ratio = strengths
    l1 = n * alpha * l1_ratio * penalty.factor
    l2 = n * alpha * (1.0 - l1_ratio) * penalty.factor
    if l1_ratio == 1.0:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(l1 > 0, np.abs(grad) / l1, np.where(grad == 0, 0.0, np.inf))
        scale = 1.0 / max(1.0, float(ratio.max(initial=0.0)))
        return scale, 0.0
    excess = np.maximum(np.abs(grad) - l1, 0.0)
    return 1.0, float(np.sum(excess * excess / (2.0 * l2)))


def kkt_violation(grad: np.ndarray, coef: np.ndarray, strengths: tuple[float, float],
                  penalty: FeaturePenalty, n: int) -> float:
    """Largest distance (``n`` times the objective's scale) from the datafit's negative
    gradient ``grad`` to the penalty's subdifferential and the bounds' normal cone."""
    alpha, l1_ratio = strengths
    l1 = n * alpha * l1_ratio * penalty.factor
    g = grad - n * alpha * (1.0 - l1_ratio) * penalty.factor * coef
    inside = (coef > penalty.lower) & (coef < penalty.upper)
    at_zero = coef == 0.0
    up = np.where(penalty.upper > 0.0, np.maximum(g - l1, 0.0), 0.0)
    down = np.where(penalty.lower < 0.0, np.maximum(-g - l1, 0.0), 0.0)
    violation = np.where(at_zero, np.maximum(up, down), np.abs(g - l1 * np.sign(coef)))
    # At a bound, only a pull further outwards may remain.
    at_upper = (coef >= penalty.upper) & ~at_zero
    at_lower = (coef <= penalty.lower) & ~at_zero
    violation = np.where(at_upper & ~inside, np.maximum(-(g - l1), 0.0), violation)
    violation = np.where(at_lower & ~inside, np.maximum(g + l1, 0.0), violation)
    return float(violation.max(initial=0.0))
