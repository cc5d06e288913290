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
from ._kernels.logistic import linear_predictor as _support_product
from ._solver import kernel_array, make_problem, solve_enet

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
# Features in the first working set of the Newton loop; problems with at most this many are
# solved on all of them at once (the squared-loss engine has working sets of its own).
_WS_START = 100
# A working set is solved to this fraction of the full problem's certificate (celer's 0.3)
# while violated conditions remain outside it.
_WS_SHARE = 0.3
# A Newton step's subproblem is solved to this fraction of the certificate's relative size,
# at most _INNER_MAX.
_INNER_SHARE = 0.1
_INNER_MAX = 1e-3
# Largest dense block (samples x support features) a support Newton step takes out of X.
_SUPPORT_BLOCK = 20_000_000
# Step sizes a support Newton step tries (1, 1/2, ...) before it is given up: a step that
# needs more is not in its quadratic convergence region, and each costs a datafit value.
_SUPPORT_HALVINGS = 8
# A working set holding at least this fraction of the features is the full problem (no copy
# of its columns, no separate full-problem round).
_WS_WHOLE_NUM, _WS_WHOLE_DEN = 3, 4
# Newton iterates per Anderson extrapolation window, minus one.
_ANDERSON = 5


class Datafit(Protocol):
    """What the Newton loop asks of a datafit ``F(eta) = sum_i f_i(eta_i)``."""

    def value(self, eta: np.ndarray) -> float:
        """``F(eta)``."""

    def derivatives(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(f_i'(eta_i), f_i''(eta_i))`` for every sample."""

    def certificate(self, X, coef: np.ndarray, eta: np.ndarray, penalty_value: float,
                    strengths: tuple[float, float], penalty: FeaturePenalty,
                    grad: np.ndarray | None = None) -> float:
        """A bound on ``objective - min objective`` in ``n`` times the objective's scale;
        ``grad`` is ``X^T (-f'(eta))`` when the caller has it (else computed)."""

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
    eta: np.ndarray | None = None  # the linear predictor at the solution
    n_rounds: int = 1  # working-set rounds (full-problem certificates)
    # X^T (-f'(eta)) at the solution when the last round computed it (working sets), else
    # None: with ``eta``, the next fit's start along a path (see prox_newton's ``start``)
    grad: np.ndarray | None = None


def linear_predictor(X, coef: np.ndarray, intercept: float, offset: np.ndarray | None
                     ) -> np.ndarray:
    """``X w + b (+ offset)`` in float64 (sparse products stay sparse; a sparse ``w`` reads
    only its non-zeros' columns)."""
    if isinstance(X, np.ndarray) and X.flags.f_contiguous:
        # The logistic kernels' product over the non-zeros' columns, read in place: NumPy's
        # X[:, support] copies them first (100000 x 100: 28 ms against 9 for all of X @ w).
        eta = np.empty((1, X.shape[0]))
        _support_product(kernel_array(X), _NO_DATA[X.dtype.itemsize], _NO_INDEX, _NO_INDEX,
                         False, np.asarray(coef, dtype=np.float64).reshape(1, -1),
                         np.array([float(intercept)]), eta)
        eta = eta[0]
    else:
        support = np.flatnonzero(coef)
        if support.shape[0] * 2 < coef.shape[0]:
            eta = np.asarray(X[:, support] @ coef[support], dtype=np.float64).reshape(-1)
            eta = eta + intercept
        else:
            eta = np.asarray(X @ coef, dtype=np.float64) + intercept
    if offset is not None:
        eta += offset
    return eta


# A dense design's empty sparse arrays (the logistic kernels' dense specialisation).
_NO_DATA = {4: np.empty(0, dtype=np.float32), 8: np.empty(0, dtype=np.float64)}
_NO_INDEX = np.empty(0, dtype=np.int32)


def penalty_value(coef: np.ndarray, alpha: float, l1_ratio: float,
                  penalty: FeaturePenalty) -> float:
    """``alpha * sum_j f_j (l1_ratio |w_j| + (1 - l1_ratio)/2 w_j^2)``."""
    w = np.asarray(coef, dtype=np.float64)
    return float(alpha * np.sum(penalty.factor * (l1_ratio * np.abs(w)
                                                  + 0.5 * (1.0 - l1_ratio) * w * w)))


def prox_newton(X, datafit: Datafit, alpha: float, l1_ratio: float, penalty: FeaturePenalty,
                *, coef: np.ndarray, intercept: float, fit_intercept: bool,
                offset: np.ndarray | None, tol: float, tol_scale: float, max_iter: int,
                max_newton: int = 100, solver_options: dict | None = None,
                start: tuple[np.ndarray, np.ndarray] | None = None) -> NewtonResult:
    """Minimise ``F(X w + b + offset) / n + penalty(w)`` from ``(coef, intercept)``.

    ``tol_scale`` sets the stopping rule's scale (the null model's deviance over two, say):
    the loop ends once the certificate is at most ``tol * tol_scale`` (objective's scale).
    ``max_iter`` bounds the coordinate-descent epochs of all Newton steps together;
    ``max_newton`` the Newton steps of each working-set round.
    ``solver_options`` go to every :func:`._solver.solve_enet` call (``anderson=0``, say).
    ``start`` is ``(eta, grad)`` at ``(coef, intercept)`` when the caller has them: the linear
    predictor and ``X^T (-f'(eta))``, with the intercept already optimal for ``eta`` (the
    previous fit of a path: its ``NewtonResult.eta`` and ``grad``; a fit from zero: the null
    model's gradient). The first working-set round then reads X no more.
    BLAS is held to one thread: an idle OpenBLAS worker spins ~0.1 s after a threaded product
    (even a dot product over 20000 coefficients), a core the next kernel needs.
    """
    with blas_on_one_thread():
        settings = _Settings(fit_intercept, offset, tol, tol_scale, max_iter, max_newton,
                             solver_options or {})
        coef = np.array(coef, dtype=np.float64)
        if X.shape[1] <= _WS_START:
            eta = None if start is None else start[0]
            return _newton_steps(X, datafit, alpha, l1_ratio, penalty, coef, intercept,
                                 settings, eta)
        return _working_sets(X, datafit, alpha, l1_ratio, penalty, coef, intercept, settings,
                             start)


@dataclass
class _Settings:
    fit_intercept: bool
    offset: np.ndarray | None
    tol: float  # relative to tol_scale
    tol_scale: float
    max_iter: int
    max_newton: int
    solver_options: dict
    certificate: float = np.inf  # a bound on the starting point's (the restricted problem's)


def _working_sets(X, datafit, alpha, l1_ratio, penalty, coef, intercept, settings,
                  start=None):
    """Newton steps on growing working sets of features (celer's and skglm's outer loop,
    Massias, Gramfort & Salmon, ICML 2018; Bertrand et al., NeurIPS 2022): each round
    certifies the full problem from one product ``X^T f'(eta)``, then solves the problem
    restricted to the support and the features that violate their optimality condition most
    (:func:`_newton_steps` on a copy of those columns). A step's weighted subproblem is then
    prepared on the set's columns only, not on all of X's (a 500 x 20000 Cox fit: 20000
    weighted column means and norms at every step otherwise)."""
    n, p = X.shape
    if sp.issparse(X) and X.format != "csc":
        X = X.tocsc()  # (column subsets; the engine read CSR as CSC too)
    strengths = (alpha, l1_ratio)
    if start is None:
        eta = linear_predictor(X, coef, intercept, settings.offset)
    else:
        eta, grad = start
    always = penalty.factor == 0.0  # unpenalised features are in every set
    ws_size = _WS_START
    n_iter = n_newton = rounds = 0
    certificate = np.inf
    last = None
    while True:
        rounds += 1
        if rounds > 1 or start is None:
            if settings.fit_intercept:  # (the dual point needs the intercept's condition)
                shift = datafit.intercept_step(eta)
                intercept += shift
                eta = eta + shift
            grad = design_correlations(X, -datafit.derivatives(eta)[0])
        certificate = datafit.certificate(
            X, coef, eta, penalty_value(coef, alpha, l1_ratio, penalty), strengths, penalty,
            grad=grad) / n
        target = settings.tol * settings.tol_scale
        if certificate <= target or n_iter >= settings.max_iter:
            break
        scores = kkt_violations(grad, coef, strengths, penalty, n)
        violated = scores > 0.0
        if rounds == 1:  # (a quarter of the violated conditions: fewer doublings)
            ws_size = max(ws_size, int(np.count_nonzero(violated)) // 4)
        ws = _working_set(scores, (coef != 0.0) | always, ws_size)
        if ws.shape[0] * _WS_WHOLE_DEN >= _WS_WHOLE_NUM * p:
            # Most features: Newton steps on the full problem, without a copy of the columns
            # (a tall dense path near its end: 190 of 200 columns of 100000 rows).
            full = _Settings(settings.fit_intercept, settings.offset, settings.tol,
                             settings.tol_scale, settings.max_iter - n_iter,
                             settings.max_newton, settings.solver_options, certificate)
            result = _newton_steps(X, datafit, alpha, l1_ratio, penalty, coef, intercept,
                                   full, eta)
            return NewtonResult(result.coef, result.intercept, result.certificate,
                                n_iter + result.n_iter, n_newton + result.n_newton,
                                result.converged, result.eta, rounds, result.grad)
        ws_size = min(max(2 * ws_size, 2 * int(np.count_nonzero(coef))), p)
        # Solve the set to a fraction of the full certificate (celer's 0.3), to the
        # tolerance itself once it holds every violated condition.
        inside = np.zeros(p, dtype=bool)
        inside[ws] = True
        settled = not np.any(violated & ~inside)
        if settled and last is not None and np.array_equal(ws, last):
            break  # the set is solved to the tolerance and nothing outside it moves
        relative = settings.tol if settled and rounds > 1 else max(
            settings.tol, _WS_SHARE * certificate / settings.tol_scale)
        last = ws if relative == settings.tol else None
        sub = _Settings(settings.fit_intercept, settings.offset, relative, settings.tol_scale,
                        settings.max_iter - n_iter, settings.max_newton,
                        settings.solver_options, certificate)
        result = _newton_steps(_columns(X, ws), datafit, alpha, l1_ratio, penalty.take(ws),
                               coef[ws], intercept, sub, eta)
        coef[:] = 0.0
        coef[ws] = result.coef
        intercept, eta = result.intercept, result.eta
        n_iter += result.n_iter
        n_newton += result.n_newton
        if np.count_nonzero(result.coef) * 10 >= 9 * ws.shape[0]:
            ws_size = min(2 * ws_size, p)  # every feature of the set entered: grow faster
    return NewtonResult(coef, intercept, certificate, n_iter, n_newton,
                        certificate <= settings.tol * settings.tol_scale, eta, rounds, grad)


def _columns(X, ws: np.ndarray):
    """The columns ``ws`` of X as a new matrix in the layout the engine reads (F-ordered
    dense, CSC)."""
    if sp.issparse(X):
        return X[:, ws]
    # (rows of the C-ordered transpose: NumPy's X[:, ws] of an F-ordered X is two to three
    # times slower, 100000 x 100 of 200: 28 against 12 ms)
    return np.ascontiguousarray(X.T[ws]).T


def _working_set(scores: np.ndarray, keep: np.ndarray, size: int) -> np.ndarray:
    """The features of ``keep`` (the support and the unpenalised ones) and the largest
    positive ``scores`` among the others, up to ``size`` features in all (sorted)."""
    kept = np.flatnonzero(keep)
    room = size - kept.shape[0]
    candidates = np.flatnonzero((scores > 0.0) & ~keep)
    if room > 0 and candidates.shape[0] > room:
        top = np.argpartition(scores[candidates], -room)[-room:]
        candidates = candidates[top]
    elif room <= 0:
        candidates = candidates[:0]
    return np.sort(np.concatenate([kept, candidates]))


def _newton_steps(X, datafit, alpha, l1_ratio, penalty, coef, intercept, settings,
                  eta=None):
    """Proximal Newton steps on all of X's columns until the certificate is at most
    ``settings.tol * settings.tol_scale`` (``eta``: the linear predictor at the start, if
    known)."""
    fit_intercept, offset, tol_scale = (settings.fit_intercept, settings.offset,
                                        settings.tol_scale)
    tol, max_iter, solver_options = settings.tol, settings.max_iter, settings.solver_options
    n = X.shape[0]
    coef = np.array(coef, dtype=np.float64)
    if eta is None:
        eta = linear_predictor(X, coef, intercept, offset)
    objective = datafit.value(eta) / n + penalty_value(coef, alpha, l1_ratio, penalty)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    n_iter = 0
    certificate = settings.certificate
    steps = 0
    grad = None
    floor = _PRECISION_FLOOR[np.dtype(dtype).itemsize]
    tight = np.inf  # the subproblems' tolerance once tightened (see below)
    history = []  # the last Newton iterates (coefficients, then the intercept)
    previous_coef = coef
    for steps in range(1, settings.max_newton + 1):  # noqa: B007 (reported)
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
        inner_tol = min(_INNER_MAX, max(_INNER_SHARE * relative, tol * 1e-2, floor), tight)
        result = solve_enet(problem, np.ascontiguousarray(centred), trial,
                            alpha * n / total, l1_ratio, penalty=penalty,
                            tol=inner_tol, warn=False, **solver_options,
                            ws_start=max(100, 2 * int(np.count_nonzero(coef))),
                            max_iter=max(min(max_iter - n_iter,
                                             _BLIND_EPOCHS if inner_tol == 0 else max_iter), 1))
        n_iter += result.n_iter
        trial = trial.astype(np.float64)
        trial_intercept = float(mean - problem.x_mean.astype(np.float64) @ trial) \
            if fit_intercept else 0.0
        previous = objective
        coef, intercept, eta, objective = _line_search(
            X, datafit, alpha, l1_ratio, penalty, coef, intercept, eta, objective, trial,
            trial_intercept)
        stalled = (result.n_iter == 0 or inner_tol == 0) and objective >= previous
        if fit_intercept:  # the dual point needs the intercept's condition to hold exactly
            intercept, eta = _intercept_step(datafit, intercept, eta)
            objective = datafit.value(eta) / n + penalty_value(coef, alpha, l1_ratio, penalty)
        if hasattr(datafit, "hessian_gram") and _same_orthant(coef, previous_coef):
            coef, intercept, eta, objective = _support_newton(
                X, datafit, (alpha, l1_ratio), penalty, (coef, intercept, eta, objective))
        previous_coef = coef
        history.append(np.append(coef, intercept))
        if len(history) == _ANDERSON + 1:
            coef, intercept, eta, objective = _extrapolate(
                X, datafit, (alpha, l1_ratio), penalty, settings, np.array(history),
                (coef, intercept, eta, objective))
            history = []
        grad = design_correlations(X, -datafit.derivatives(eta)[0])
        certificate = datafit.certificate(X, coef, eta, penalty_value(coef, alpha, l1_ratio,
                                                                      penalty),
                                          (alpha, l1_ratio), penalty, grad=grad) / n
        if certificate <= tol * tol_scale or n_iter >= max_iter:
            break
        if stalled and inner_tol == 0:
            break  # the subproblem is solved to rounding, and nothing moves
        if result.n_iter == 0:
            tight = max(inner_tol * 1e-2, floor) if inner_tol > floor else 0.0
    return NewtonResult(coef, intercept, certificate, n_iter, steps,
                        certificate <= tol * tol_scale, eta, grad=grad)


def _same_orthant(coef: np.ndarray, previous: np.ndarray) -> bool:
    """Whether ``coef`` has a support and its signs as ``previous``'s (not empty)."""
    signs = np.sign(coef)
    return bool(signs.any() and np.array_equal(signs, np.sign(previous)))


def _support_newton(X, datafit, strengths, penalty, current):
    """A Newton step with the datafit's exact Hessian on the support, its signs fixed (the
    objective is smooth there), projected on the orthant and line-searched on the true
    objective; ``current`` (``(coef, intercept, eta, objective)``) if it does not lower it.

    With the Hessian's diagonal as curvature (Cox, glmnet's coxnet) the Newton loop converges
    linearly, slowly once the support holds hundreds of correlated features (a 500 x 20000
    Cox path near saturation: a few hundred steps per alpha); once the support and its signs
    settle, this step converges quadratically (the active-set Newton step of Osborne,
    Presnell & Turlach, IMA J. Numer. Anal. 2000, applied to the smooth datafit). Needs
    ``datafit.hessian_gram``; the support's columns are taken out as a dense block, so
    only while that block is small."""
    coef, intercept, eta, objective = current
    support = np.flatnonzero(coef)
    n, m = X.shape[0], support.shape[0]
    bounded = np.isfinite(penalty.lower[support]).any() or np.isfinite(
        penalty.upper[support]).any()
    if bounded or m == 0 or n * m > _SUPPORT_BLOCK or m >= n:
        return current
    alpha, l1_ratio = strengths
    block = X[:, support]
    block = np.asarray(block.toarray() if sp.issparse(block) else block, dtype=np.float64)
    factor, signs = penalty.factor[support], np.sign(coef[support])
    d1 = datafit.derivatives(eta)[0]
    gradient = block.T @ d1 / n + alpha * factor * (l1_ratio * signs
                                                    + (1.0 - l1_ratio) * coef[support])
    hessian = datafit.hessian_gram(eta, block) / n
    hessian[np.diag_indices(m)] += alpha * (1.0 - l1_ratio) * factor
    try:
        step = -np.linalg.solve(hessian, gradient)
    except np.linalg.LinAlgError:
        return current
    if not np.all(np.isfinite(step)):
        return current
    trial = coef.copy()
    values = coef[support] + step
    values[values * signs <= 0.0] = 0.0  # orthant-wise: a crossing stops at zero
    trial[support] = values
    new = _line_search(X, datafit, alpha, l1_ratio, penalty, coef, intercept, eta, objective,
                       trial, intercept, _SUPPORT_HALVINGS)
    return new if new[3] < objective else current


def _intercept_step(datafit, intercept, eta):
    shift = datafit.intercept_step(eta)
    return intercept + shift, eta + shift


def _extrapolate(X, datafit, strengths, penalty, settings, iterates, current):
    """Anderson extrapolation of the Newton iterates (rows of ``iterates``), kept only if it
    lowers the objective: with the Hessian's diagonal as curvature (Cox) or inexact steps the
    iterates converge linearly, and their extrapolation (Anderson, J. ACM 1965; as the
    engine's for coordinate descent, Bertrand & Massias, AISTATS 2021) skips many steps.
    Returns the new ``(coef, intercept, eta, objective)`` or ``current``."""
    diffs = np.diff(iterates, axis=0)
    gram = diffs @ diffs.T
    scale = float(np.trace(gram))
    if not scale > 0.0:
        return current
    try:
        z = np.linalg.solve(gram / scale, np.ones(gram.shape[0]))
    except np.linalg.LinAlgError:
        return current
    if not (np.all(np.isfinite(z)) and z.sum() != 0.0):
        return current
    point = (z / z.sum()) @ iterates[1:]
    coef = np.clip(point[:-1], penalty.lower, penalty.upper)
    intercept = float(point[-1]) if settings.fit_intercept else current[1]
    eta = linear_predictor(X, coef, intercept, settings.offset)
    if settings.fit_intercept:
        intercept, eta = _intercept_step(datafit, intercept, eta)
    alpha, l1_ratio = strengths
    objective = datafit.value(eta) / X.shape[0] + penalty_value(coef, alpha, l1_ratio, penalty)
    if objective < current[3]:
        return coef, intercept, eta, objective
    return current


def _line_search(X, datafit, alpha, l1_ratio, penalty, coef, intercept, eta, objective,
                 trial, trial_intercept, halvings=_LINE_SEARCH_STEPS):
    """The largest step ``t = 2^-k`` towards ``(trial, trial_intercept)`` that does not raise
    the objective (the objective is convex along the segment, so one exists unless the
    current point is optimal to rounding). Returns the new point, its ``eta`` and objective.
    The direction's ``X d`` is formed once (on the columns that move): each step size then
    costs O(n)."""
    n = X.shape[0]
    direction = trial - coef
    moved = np.flatnonzero(direction)
    if moved.shape[0] == direction.shape[0] or not sp.issparse(X):
        change = linear_predictor(X, direction, trial_intercept - intercept, None)
    else:
        change = linear_predictor(X[:, moved], direction[moved], trial_intercept - intercept,
                                  None)
    step = 1.0
    for _ in range(halvings):
        w = coef + step * direction
        b = intercept + step * (trial_intercept - intercept)
        new_eta = eta + step * change
        value = datafit.value(new_eta) / n + penalty_value(w, alpha, l1_ratio, penalty)
        if value <= objective + 1e-12 * abs(objective):
            return w, b, new_eta, value
        step *= 0.5
    return coef, intercept, eta, objective


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
    return float(kkt_violations(grad, coef, strengths, penalty, n).max(initial=0.0))


def kkt_violations(grad: np.ndarray, coef: np.ndarray, strengths: tuple[float, float],
                   penalty: FeaturePenalty, n: int) -> np.ndarray:
    """Each feature's distance in :func:`kkt_violation`."""
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
    return np.where(at_lower & ~inside, np.maximum(g + l1, 0.0), violation)
