"""Logistic regression on Dask arrays chunked by rows, without bringing X to the client.

The loss has no sufficient statistics, so the fit is the in-memory proximal Newton
(:mod:`fastl1._kernels.logistic`: working sets, a quadratic model per step, skglm's line
search) with every sum over the rows computed where the row blocks are: each *pass* over the
data sends the current coefficients ``(W, b)`` to the blocks, each block returns sums over
its own rows, the sums are added up on the cluster, and only arrays of the size of the
coefficients (or of the working set's Hessian) come back. A pass computes, at the point it
is given (the blocks use the kernels of in-memory fits: ``linear_predictor``, ``link``,
``full_gradient``):

- the weighted loss, its gradient ``G = R X`` (all features), the residual sums
  ``sum_i R_ik`` (the intercepts' gradient) and ``||R||^2``;
- on request, the loss's Hessian in the working set's coefficients and the intercepts (for
  two classes ``[X_ws, 1]^T diag(h) [X_ws, 1]``; for more, the exact multinomial Hessian,
  whose Newton steps converge much faster than the kernels' per-class model), the
  intercepts' exact Hessian, or the conjugate term of the dual at a given scaling (the
  entropy of the logistic losses);
- for a Newton direction ``(D, Db)``, the loss and the slope ``grad(W + t D) . D`` at a few
  step sizes ``t`` (the line search), and everything above at the first of them.

The quadratic model on the working set is then minimised on the client, by coordinate
descent on its Hessian (``m x m`` per class, or ``K m x K m`` for the exact multinomial one)
with the intercepts eliminated (:func:`_quadratic_cd`), which costs no pass. A Newton step
whose full step is accepted (the rule near the optimum) costs one pass: that pass has also
computed the gradient and the Hessian blocks at the new point. The stopping rule is
:func:`fastl1.logistic.solve_logistic`'s: a KKT bound, then a duality-gap certificate with
the intercepts refitted exactly for the coefficients.

Sample weights and class weights are applied in the blocks (``s_i = w_i cw[y_i]``); the
classes and the weighted class counts come from a first pass that also checks the values.
The blocks' side of the passes is :mod:`fastl1._dask_logistic_blocks`.

Nothing in the loop (:func:`solve_penalised`) depends on the loss beyond the per-sample
derivatives the blocks compute: a *datafit* object sent with every pass gives them
(:class:`fastl1._dask_logistic_blocks.LogisticRows`, ``PoissonRows``), and a
:class:`Model` gives the starting intercepts and the stopping rule's scale. Poisson
regression (:mod:`fastl1._dask_poisson`) runs on the same loop. A fit on a
cross-validation fold's training rows (:mod:`fastl1._dask_logistic_cv`) is a fit on all
rows whose other rows get weight 0 in the blocks (:meth:`_Passes.for_fold`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numba
import numpy as np
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets

from ._dask import (
    _SPLIT_EVERY,
    _as_dask_array,
    _lengths_like,
    check_design,
    dask_input,
)
from ._dask_logistic_blocks import (
    LogisticRows,
    _add,
    _block_labels,
    _block_pass,
    _merge_labels,
)
from ._kernels.logistic import MAX_BACKTRACK, _penalty_change, dual_gap, violations
from ._kernels.penalty import plain_penalty
from ._kernels.prox import soft_threshold
from ._kernels.working_set import select_working_set, working_set_growth
from ._warn import warn_user

__all__ = ["fit_logistic", "logistic_path"]

_STEPS_PER_PASS = 4  # step sizes of a line search evaluated by one pass
_MAX_CD_EPOCHS = 1000  # on the client a CD epoch costs m^2 flops: solve the model well


# ---------------------------------------------------------------------------------------
# On the client: the data and the passes


def merge_tree(tasks, merge):
    """The Dask delayed ``merge`` of ``tasks``, as a tree of merges of ``_SPLIT_EVERY``."""
    import dask

    task = dask.delayed(merge, pure=True)
    level = list(tasks)
    while len(level) > 1:
        level = [task(*level[i:i + _SPLIT_EVERY]) for i in range(0, len(level), _SPLIT_EVERY)]
    return level[0]


@dataclass
class _Passes:
    """The row blocks (as Dask delayed objects: tuples ``(x, y, w, offset, folds)``, None
    for an absent part; ``folds`` the rows' fold membership), the datafit the blocks apply
    (:mod:`fastl1._dask_logistic_blocks`), the fold whose training rows a fit is on (None:
    all rows), and a count of the passes run. ``n_samples`` counts the fit's rows,
    ``s_sum`` their total weight."""

    blocks: list
    datafit: object
    n_samples: int
    n_features: int
    s_sum: float = 0.0
    fold: int | None = None
    count: int = 0
    row_chunks: tuple = ()  # the blocks' numbers of rows

    def run(self, W, b, **request):
        """One pass at ``(W, b)`` (:func:`_block_pass`); returns the summed dictionary."""
        import dask

        point = dask.delayed((np.array(W), np.array(b)), pure=True, traverse=False)
        request = {key: value for key, value in request.items() if value is not None}
        task = dask.delayed(_block_pass, pure=True)
        self.count += 1
        return dask.compute(merge_tree([task(block, self.datafit, self.fold, point, request)
                                        for block in self.blocks], _add))[0]

    def for_fold(self, blocks, fold, n_samples, s_sum):
        """The passes of a fit on the training rows of ``fold`` (the others get weight 0),
        over ``blocks``: these blocks with their fold membership."""
        return _Passes(blocks, self.datafit, n_samples, self.n_features, s_sum, fold,
                       row_chunks=self.row_chunks)


@dataclass
class _Labels:
    classes: np.ndarray
    class_weight: np.ndarray  # per class
    totals: np.ndarray  # weighted count of each class, class weights included
    x_max: float
    dtype: np.dtype


def _as_rows(value, X, name):
    """A 1-D Dask array with X's row chunks (from a Dask or in-memory array, Series, ...)."""
    import dask.array as da

    if dask_input(value):
        value = _as_dask_array(value, name, lengths=_lengths_like(value, X))
    else:
        value = np.asarray(value)
    n = X.shape[0]
    if value.ndim == 2 and value.shape[1] == 1 and name == "y":
        warn_user("A column-vector y was passed when a 1d array was expected; using "
                  "y.ravel().", DataConversionWarning)
        value = value.reshape(-1)
    if value.ndim != 1 or value.shape[0] != n:
        raise ValueError(f"{name} has shape {value.shape}, expected ({n},) for X with {n} "
                         "rows.")
    if not isinstance(value, da.Array):
        value = da.from_array(value, chunks=(X.chunks[0],))
    return value.rechunk((X.chunks[0],))


def _weights(sample_weight, X, dtype):
    """``(weights, scale)``: a Dask array of weights with X's row chunks (or None) and a
    number multiplying them; in-memory fits round the weights to X's dtype first."""
    if sample_weight is None:
        return None, 1.0
    if isinstance(sample_weight, numbers.Number) and not dask_input(sample_weight):
        if isinstance(sample_weight, bool) or not np.isfinite(sample_weight) \
                or sample_weight < 0:
            raise ValueError(f"sample_weight must be finite and >= 0, got {sample_weight!r}.")
        return None, float(dtype.type(sample_weight))
    weights = _as_rows(sample_weight, X, "sample_weight")
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {weights.dtype}.")
    return weights.astype(dtype).astype(np.float64), 1.0


def _check_labels(info: dict) -> None:
    if not info["x_finite"]:
        raise ValueError("Input X contains NaN or infinity.")
    if not info["y_finite"]:
        raise ValueError("Input y contains NaN or infinity.")
    if not info["w_finite"]:
        raise ValueError("sample_weight contains NaN or infinity.")
    if info["w_min"] < 0:
        raise ValueError("Negative values in data passed to sample_weight")
    if not info["weights"].sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one sample needs weight > 0.")


def _prepare(X, y, sample_weight, class_weight, what: str):
    """Check the inputs without computing X, run the pass that finds the classes and checks
    the values, and return the passes' data and the labels' summary."""
    import dask

    from .logistic import class_weights

    X, n, p, dtype = check_design(X, y, what)
    y = _as_rows(y, X, "y")
    weights, scale = _weights(sample_weight, X, dtype)
    x_blocks = list(X.to_delayed().ravel())
    y_blocks = list(y.to_delayed().ravel())
    w_blocks = [None] * len(x_blocks) if weights is None else list(weights.to_delayed().ravel())
    label_task = dask.delayed(_block_labels, pure=True)
    (info,) = dask.compute(merge_tree([label_task(xb, yb, wb, scale) for xb, yb, wb in
                                       zip(x_blocks, y_blocks, w_blocks, strict=True)],
                                      _merge_labels))
    _check_labels(info)
    classes = info["labels"]
    check_classification_targets(classes)
    if classes.shape[0] < 2:
        raise ValueError(
            "This solver needs samples of at least 2 classes in the data, but the data "
            f"contains only one class: {classes.tolist()[0]!r}.")
    per_class = np.ones(classes.shape[0])
    if class_weight is not None:
        # The weighted class counts stand for y and the weights ('balanced' needs no more).
        per_class = class_weights(class_weight, classes, classes, info["weights"])
    totals = info["weights"] * per_class
    if not totals.sum() > 0:
        raise ValueError("The sample weights (times the class weights) sum to zero.")
    blocks = [(xb, yb, wb, None, None)
              for xb, yb, wb in zip(x_blocks, y_blocks, w_blocks, strict=True)]
    passes = _Passes(blocks, LogisticRows(classes, per_class, scale), n, p,
                     float(totals.sum()), row_chunks=tuple(int(c) for c in X.chunks[0]))
    return passes, _Labels(classes, per_class, totals, info["x_max"], dtype)


# ---------------------------------------------------------------------------------------
# On the client: the quadratic model and the Newton steps


@numba.njit(cache=True, nogil=True)
def _cd_epoch(Q, g, w, curvature, lam1, lam2, d, Qd, active_only):
    """One coordinate-descent pass on ``g . d + 1/2 d^T Q d + pen(w + d)`` (``Qd = Q d``
    kept up to date); the update of :func:`fastl1._kernels.logistic._cd_pass`. Returns the
    largest change of a coordinate's model gradient."""
    change = 0.0
    for c in range(g.shape[0]):
        curv = curvature[c] + lam2
        if curv <= 0.0:
            continue
        old = w[c] + d[c]
        if active_only and old == 0.0:
            continue
        new = soft_threshold(curvature[c] * old - (g[c] + Qd[c]), lam1) / curv
        diff = new - old
        if diff != 0.0:
            d[c] = new - w[c]
            for j in range(Qd.shape[0]):
                Qd[j] += diff * Q[c, j]
            change = max(change, abs(diff) * curv)
    return change


@numba.njit(cache=True, nogil=True)
def _quadratic_cd(Q, g, w, curvature, lam1, lam2, tol, max_epochs):
    """Minimise ``g . d + 1/2 d^T Q d + pen(w + d)`` (``Q`` symmetric) by glmnet's scheme:
    a pass over all coordinates, then passes over the non-zeros until they settle, until a
    whole pass moves no model gradient by more than ``tol``."""
    d = np.zeros(g.shape[0])
    Qd = np.zeros(g.shape[0])
    epochs = 0
    while epochs < max_epochs:
        change = _cd_epoch(Q, g, w, curvature, lam1, lam2, d, Qd, False)
        epochs += 1
        if change <= tol:
            break
        while epochs < max_epochs:
            change = _cd_epoch(Q, g, w, curvature, lam1, lam2, d, Qd, True)
            epochs += 1
            if change <= tol:
                break
    return d


def _pseudo_inverse(B):
    """The pseudo-inverse of the intercepts' Hessian (symmetric, PSD): the multinomial one is
    singular along ``(1, ..., 1)`` (a common shift of the intercepts changes nothing), along
    which the intercepts' gradient and coupling to the coefficients vanish."""
    values, vectors = np.linalg.eigh(B)
    keep = values > 1e-12 * max(values.max(), 0.0)
    return (vectors[:, keep] / values[keep]) @ vectors[:, keep].T


def _direction(Wl, Gl, rsum, M, lam1, lam2, fit_intercept, cd_tol):
    """The Newton direction ``(D, Db)`` on the working set (:func:`_model_minimiser`), one
    class at a time when ``M`` holds per-class Hessians (binary, or the block-diagonal
    multinomial model)."""
    if M.ndim == 2:
        return _model_minimiser(Wl, Gl, rsum, M, lam1, lam2, fit_intercept, cd_tol)
    parts = [_model_minimiser(Wl[k:k + 1], Gl[k:k + 1], rsum[k:k + 1], M[k], lam1, lam2,
                              fit_intercept, cd_tol) for k in range(Wl.shape[0])]
    return np.vstack([d for d, _ in parts]), np.concatenate([db for _, db in parts])


def _model_minimiser(Wl, Gl, rsum, M, lam1, lam2, fit_intercept, cd_tol):
    """The Newton direction ``(D, Db)`` on the working set: the minimiser of the quadratic
    model ``g . d + gb . db + 1/2 [d, db]^T M [d, db] + pen(Wl + d)`` (``M`` from
    :func:`fastl1._dask_logistic_blocks._hessian_blocks`), the intercepts minimised out
    exactly: ``db = -B^+ (gb + C^T d)`` leaves the model ``(g - C B^+ gb) . d + 1/2 d^T
    (Q - C B^+ C^T) d`` (for two classes: the columns centred by their curvature-weighted
    means, as the kernels' model), minimised by
    coordinate descent."""
    K, m = Wl.shape
    M = M.reshape(K * (m + 1), K * (m + 1))
    coef = (np.arange(K)[:, None] * (m + 1) + np.arange(m)).ravel()
    icpt = np.arange(K) * (m + 1) + m
    Q, g = M[np.ix_(coef, coef)], Gl.ravel()
    if fit_intercept:
        coupling = M[np.ix_(coef, icpt)]
        inverse = _pseudo_inverse(M[np.ix_(icpt, icpt)])
        Q = Q - coupling @ inverse @ coupling.T
        g = g - coupling @ (inverse @ rsum)
    d = _quadratic_cd(np.ascontiguousarray(Q), np.ascontiguousarray(g), Wl.ravel().copy(),
                      np.maximum(np.diag(Q), 0.0), lam1, lam2, cd_tol, _MAX_CD_EPOCHS)
    Db = -inverse @ (rsum + coupling.T @ d) if fit_intercept else np.zeros(K)
    return d.reshape(K, m), Db


def _ws_violation(W, state, ws, lam1, lam2, fit_intercept):
    """Largest violation on the working set (and the intercepts)."""
    Wl, Gl = W[:, ws], state["G"][:, ws]
    violation, _ = violations(Wl, Gl, state["rsum"][:, None],
                              plain_penalty(lam1, lam2, ws.shape[0]), fit_intercept,
                              np.empty(ws.shape[0]), np.empty(ws.shape[0]))
    return violation


def _line_search(passes, W, b, ws, D, Db, lam1, lam2):
    """skglm's backtracking test over ``1, 1/2, 1/4, ...``, a few steps per pass; returns
    the accepted step and the pass's state at its first step (or None, None)."""
    Wl = W[:, ws]
    for first in range(0, MAX_BACKTRACK, _STEPS_PER_PASS):
        steps = 0.5 ** np.arange(first, min(first + _STEPS_PER_PASS, MAX_BACKTRACK))
        state = passes.run(W, b, direction=(ws, D, Db, steps), hessian=ws)
        for i, step in enumerate(steps):
            if _penalty_change(Wl, Wl + step * D, D, step,
                               plain_penalty(lam1, lam2, Wl.shape[1])) \
                    + step * state["slopes"][i] < 0.0:
                return step, (state if i == 0 else None)
    return None, None


def _solve_working_set(passes, W, b, ws, state, lam1, lam2, fit_intercept, inner_tol,
                       max_newton):
    """Proximal Newton steps on the working set ``ws`` (in place in ``W, b``) until its
    violation is below ``inner_tol``; returns the state at ``(W, b)`` and the steps taken
    (0: no step decreases the objective)."""
    from .logistic import _MAX_NEWTON

    n_steps = 0
    violation = _ws_violation(W, state, ws, lam1, lam2, fit_intercept)
    for _ in range(min(max_newton, _MAX_NEWTON)):
        D, Db = _direction(W[:, ws], state["G"][:, ws], state["rsum"], state["M"], lam1,
                           lam2, fit_intercept, max(0.3 * inner_tol, 0.1 * violation))
        step, new_state = _line_search(passes, W, b, ws, D, Db, lam1, lam2)
        if step is None:
            break
        n_steps += 1
        W[:, ws] += step * D
        b += step * Db
        state = new_state if new_state is not None else passes.run(W, b, hessian=ws)
        violation = _ws_violation(W, state, ws, lam1, lam2, fit_intercept)
        if violation <= inner_tol:
            break
    return state, n_steps


def _working_set(W, state, lam1, lam2, fit_intercept, last_size, n):
    """``(violation, ws)``: the largest violation and the next working set, sorted (the
    kernel's choice: the support, then the zero features by violation; all features when
    it would hold them all)."""
    from .logistic import _WS_START

    K, p = W.shape
    w_max, g_max = np.empty(p), np.empty(p)
    violation, support = violations(W, state["G"], state["rsum"][:, None],
                                    plain_penalty(lam1, lam2, W.shape[1]), fit_intercept,
                                    w_max, g_max)
    size = min(max(_WS_START, working_set_growth(support, last_size, n, p)), p)
    if size == p:
        return violation, np.arange(p)
    scale = max(lam1, g_max.max())
    ws = select_working_set(w_max, g_max, np.ones(p), lam1, 0.0, scale if scale > 0 else 1.0,
                            False, np.ones(p, dtype=np.bool_), size)
    return violation, np.sort(ws)


def _prox_newton(passes, W, b, state, lam1, lam2, fit_intercept, tol, max_iter):
    """:func:`fastl1._kernels.logistic.prox_newton` with its sums over rows as passes:
    returns ``(n_outer, n_newton, violation, state)``, ``state`` the last pass at
    ``(W, b)``."""
    from .logistic import _INNER_FRACTION, _MAX_NEWTON

    n_outer = n_newton = 0
    last_size = passes.n_features + 1
    while True:
        n_outer += 1
        violation, ws = _working_set(W, state, lam1, lam2, fit_intercept, last_size,
                                     passes.n_samples)
        if violation <= tol or n_outer >= max_iter:
            break
        last_size = ws.shape[0]
        if state.get("ws") is None or not np.array_equal(state["ws"], ws):
            state = passes.run(W, b, hessian=ws)
        state["ws"] = ws
        inner_tol = max(_INNER_FRACTION * violation, 0.5 * tol)
        state, steps = _solve_working_set(passes, W, b, ws, state, lam1, lam2, fit_intercept,
                                          inner_tol, _MAX_NEWTON)
        state["ws"] = ws
        n_newton += steps
        if steps == 0:
            violation, _ = _working_set(W, state, lam1, lam2, fit_intercept, last_size,
                                        passes.n_samples)
            break
    return n_outer, n_newton, violation, state


def _refit_intercept(passes, W, b, state):
    """:func:`fastl1.logistic._refit_intercept`, each evaluation a pass; returns ``b`` and
    the state there."""
    s_sum = passes.s_sum
    K = b.shape[0]
    g = state["rsum"]
    if not np.max(np.abs(g)) > 1e-13 * s_sum:
        return b, state
    state = passes.run(W, b, intercept_hessian=True)
    for _ in range(50):
        loss, g = state["loss"], state["rsum"]
        if not np.max(np.abs(g)) > 1e-13 * s_sum:
            break
        h = state["bh"] + (np.full((K, K), s_sum / K) if K > 1 else 0.0)
        try:
            step = np.linalg.solve(h, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        for _ in range(30):
            trial = b - t * step
            trial_state = passes.run(W, trial, intercept_hessian=True)
            if trial_state["loss"] <= loss - 1e-4 * t * float(g @ step) or np.max(
                    np.abs(trial_state["rsum"])) < np.max(np.abs(g)):
                break
            t *= 0.5
        else:
            break
        b, state = trial, trial_state
    return b, state


def _certificate(passes, W, b, state, lam1, lam2, fit_intercept):
    """:func:`fastl1.logistic._certificate` from passes: ``(b, violation, gap, primal,
    ||R||, state)``; the dual's conjugate term of the rows takes one pass more."""
    from ._kernels.logistic import penalty_value

    if fit_intercept:
        b, state = _refit_intercept(passes, W, b, state)
    K, p = W.shape
    G, loss = state["G"], state["loss"]
    violation, _ = violations(W, G, state["rsum"][:, None], plain_penalty(lam1, lam2, p),
                              fit_intercept, np.empty(p), np.empty(p))
    # The kernel's dual scaling c and conjugate term, from a gap of no rows: that gap is
    # loss + pen(W) + pen*(-c G), to which the rows' conjugate term adds (the logistic
    # entropy; the Poisson sum of q log q - q, as PoissonDatafit.certificate).
    no_rows = np.empty((K, 0))
    partial = dual_gap(no_rows, np.empty(0), np.empty(0), W, G, loss,
                       plain_penalty(lam1, lam2, W.shape[1]))
    g_max = float(np.abs(G).max()) if G.size else 0.0
    c = lam1 / g_max if lam2 == 0.0 and g_max > lam1 else 1.0
    conjugate = passes.run(W, b, conjugate=c)["conjugate"]
    gap = float(partial + conjugate)
    primal = float(loss + penalty_value(W, plain_penalty(lam1, lam2, p)))
    return b, violation, max(gap, 0.0), primal, float(np.sqrt(state["r2"])), state


@dataclass
class Model:
    """What the loop needs of a datafit besides its passes.

    ``intercept`` starts the intercepts (``K`` of them: ``K = 1`` for one linear predictor);
    ``x_max`` is ``max |x_ij|`` (the rounding floor of a gradient); the fit has converged
    when its duality gap is below ``gap_fraction * tol`` times ``reference`` (None: the
    objective, as the logistic fits' relative gap); ``failure(n_iter, gap, target,
    violation)`` words a ConvergenceWarning (in the scale of the objective divided by the
    weights' sum)."""

    intercept: np.ndarray
    x_max: float
    gap_fraction: float
    reference: float | None
    failure: object


def _start(passes, model, coef, intercept, fit_intercept):
    """The starting point (:func:`fastl1.logistic.solve_logistic`'s) and its first pass
    (with the Hessian of all features when they make one working set)."""
    from .logistic import _WS_START

    K = model.intercept.shape[0]
    p = passes.n_features
    W = np.zeros((K, p)) if coef is None else np.array(coef, dtype=np.float64, order="C")
    if intercept is not None and fit_intercept:
        b = np.array(intercept, dtype=np.float64).reshape(K)
    elif fit_intercept:
        b = np.array(model.intercept, dtype=np.float64)
    else:
        b = np.zeros(K)
    everything = np.arange(p) if p <= _WS_START else None
    state = passes.run(W, b, hessian=everything)
    state["ws"] = everything
    return W, b, state


def solve_penalised(passes, model, lam1, lam2, *, fit_intercept=True, tol=1e-4,
                    max_iter=100, coef=None, intercept=None, warn=True):
    """Minimise ``loss(X W^T + b) + lam1 |W|_1 + lam2/2 |W|^2`` (the loss summed over the
    rows with their weights) by :func:`fastl1.logistic.solve_logistic`'s loop (its stopping
    rule and iteration count) on the row blocks of ``passes``; returns a
    :class:`fastl1.logistic.LogisticFit`."""
    from sklearn.exceptions import ConvergenceWarning

    from .logistic import _FIRST_KKT_FRACTION, _GAP_FLOOR, _ROUNDING_ULPS, LogisticFit

    numba.get_num_threads()  # the threading layer before cached kernels run (fastl1._dask)
    K = model.intercept.shape[0]
    s_sum, n = passes.s_sum, passes.n_samples
    W, b, state = _start(passes, model, coef, intercept, fit_intercept)
    tol = float(tol)
    gap_tol = tol * model.gap_fraction
    eps = np.finfo(np.float64).eps
    # Never below the gradient's rounding at the start: a tolerance under it (tol 1e-14,
    # say) would have the working sets take rounding-sized steps, a pass each, for ever.
    kernel_tol = max(tol * s_sum * _FIRST_KKT_FRACTION,
                     _ROUNDING_ULPS * eps * np.sqrt(state["r2"]) * model.x_max * np.sqrt(n))
    n_iter = n_newton = 0
    floor = None
    while True:
        budget = int(max_iter) - n_iter
        outer, steps, violation, state = _prox_newton(passes, W, b, state, lam1, lam2,
                                                      fit_intercept, kernel_tol, budget + 1)
        done = outer - 1
        stalled = violation > kernel_tol and done < budget
        n_newton += steps
        n_iter += done + (1 if stalled else 0)
        if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
            raise ValueError("The solver produced non-finite coefficients; the input may "
                             "contain values too large for its dtype.")
        b, violation, gap, primal, r_norm, state = _certificate(passes, W, b, state, lam1,
                                                                lam2, fit_intercept)
        reference = primal if model.reference is None else model.reference
        converged = gap <= max(gap_tol, _GAP_FLOOR) * reference
        if converged or stalled or n_iter >= max_iter:
            break
        # As the in-memory fits (fastl1.logistic._solve_rounds): the gap is about linear in
        # the violation near the optimum.
        kernel_tol = min(kernel_tol, violation) * min(
            0.1, max(1e-3, 0.5 * gap_tol * reference / max(gap, 1e-300)))
        if floor is None and kernel_tol < _ROUNDING_ULPS * eps * r_norm * np.sqrt(n) * 1e6:
            floor = _ROUNDING_ULPS * eps * r_norm * model.x_max * np.sqrt(n)
        if floor is not None and kernel_tol < floor:
            converged = violation <= max(tol * s_sum, 2.0 * floor)
            break
    violation /= s_sum
    gap /= s_sum
    n_iter = min(n_iter + 1, int(max_iter))
    if warn and not converged:
        warn_user(model.failure(n_iter, gap, gap_tol * reference / s_sum, violation),
                  ConvergenceWarning)
    if K > 1 and fit_intercept:
        b -= b.mean()
    return LogisticFit(W, b, int(n_iter), int(n_newton), violation, gap, converged)


def _logistic_failure(n_iter, gap, target, violation) -> str:
    from .logistic import GAP_FRACTION

    return (f"LogisticRegression (prox_newton on a Dask array) did not converge after "
            f"{n_iter} iterations: duality gap {gap:.3e} > tol * {GAP_FRACTION:g} * objective "
            f"({target:.3e}), largest optimality (KKT) violation {violation:.3e} (in the "
            "scale of the objective divided by C * sum(sample_weight)). Increase max_iter or "
            "tol, scale the features, or decrease C.")


def logistic_model(totals, x_max) -> Model:
    """The logistic loss's :class:`Model`: the intercepts start at the log-odds of the
    weighted class totals (:func:`fastl1.logistic._initial_intercept`)."""
    from .logistic import GAP_FRACTION

    freq = np.clip(totals / totals.sum(), 1e-12, 1.0)
    start = np.array([np.log(freq[1]) - np.log(freq[0])]) if totals.shape[0] == 2 \
        else np.log(freq) - np.log(freq).mean()
    return Model(start, x_max, GAP_FRACTION, None, _logistic_failure)


def solve(passes, labels, C, l1_ratio, *, fit_intercept=True, tol=1e-4, max_iter=100,
          coef=None, intercept=None, warn=True):
    """:func:`fastl1.logistic.solve_logistic` on the row blocks of ``passes``
    (:func:`solve_penalised` with ``lam1 = l1_ratio / C``, ``lam2 = (1 - l1_ratio) / C``)."""
    C, l1_ratio = float(C), float(l1_ratio)
    return solve_penalised(passes, logistic_model(labels.totals, labels.x_max),
                           l1_ratio / C, (1.0 - l1_ratio) / C, fit_intercept=fit_intercept,
                           tol=tol, max_iter=max_iter, coef=coef, intercept=intercept,
                           warn=warn)


# ---------------------------------------------------------------------------------------
# Estimators


def _check_solver(solver: str, what: str) -> None:
    if solver == "fista":
        raise ValueError(f"{what} on Dask arrays uses solver='prox_newton' (each FISTA step "
                         "would be a pass over the data); use solver='auto' or "
                         "'prox_newton'.")


def fit_logistic(estimator, X, y, sample_weight, l1_ratio: float):
    """:meth:`fastl1.LogisticRegression.fit` (its parameters checked, ``l1_ratio``
    resolved) on Dask inputs."""
    import scipy.sparse as sp

    from ._dask import _n_features_in

    _check_solver(estimator.solver, "LogisticRegression")
    passes, labels = _prepare(X, y, sample_weight, estimator.class_weight,
                              "LogisticRegression")
    _n_features_in(estimator, X)
    classes = labels.classes
    K = 1 if classes.shape[0] == 2 else classes.shape[0]
    p = passes.n_features
    coef0, intercept0 = None, None
    if (estimator.warm_start and hasattr(estimator, "coef_") and hasattr(estimator, "classes_")
            and np.shape(estimator.coef_) == (K, p)
            and np.array_equal(estimator.classes_, classes)):
        coef0 = (estimator.coef_.toarray() if sp.issparse(estimator.coef_)
                 else np.asarray(estimator.coef_)).astype(np.float64)
        intercept0 = np.asarray(estimator.intercept_, dtype=np.float64)
    result = solve(passes, labels, estimator.C, l1_ratio,
                   fit_intercept=bool(estimator.fit_intercept), tol=estimator.tol,
                   max_iter=estimator.max_iter, coef=coef0, intercept=intercept0)
    from .logistic import store_fit

    dtype = labels.dtype
    store_fit(estimator, classes, result.coef.astype(dtype), result, dtype,
              f"prox_newton on a Dask array ({passes.count} passes over the data)")
    return estimator


def logistic_path(X, y, Cs, l1_ratio, fit_intercept, sample_weight, class_weight, tol,
                  max_iter, solver):
    """:func:`fastl1.l1_logistic_path` (its parameters checked, ``Cs`` sorted) on Dask
    inputs: warm-started fits from the smallest ``C``."""
    from sklearn.exceptions import ConvergenceWarning

    _check_solver(solver, "l1_logistic_path")
    passes, labels = _prepare(X, y, sample_weight, class_weight, "l1_logistic_path")
    n_classes = labels.classes.shape[0]
    K = 1 if n_classes == 2 else n_classes
    coefs = np.zeros((Cs.shape[0], K, passes.n_features))
    intercepts = np.zeros((Cs.shape[0], K))
    n_iter = np.zeros(Cs.shape[0], dtype=np.int32)
    coef, intercept, failures = None, None, 0
    for i, C in enumerate(Cs):
        result = solve(passes, labels, C, l1_ratio, fit_intercept=fit_intercept, tol=tol,
                       max_iter=max_iter, coef=coef, intercept=intercept, warn=False)
        coefs[i], intercepts[i], n_iter[i] = result.coef, result.intercept, result.n_iter
        coef, intercept = result.coef, result.intercept
        failures += not result.converged
    if failures:
        warn_user(f"LogisticRegression did not converge for {failures} of {Cs.shape[0]} "
                  f"values of C within max_iter={max_iter}; increase max_iter or tol.",
                  ConvergenceWarning)
    dtype = labels.dtype
    return Cs, coefs.astype(dtype, copy=False), intercepts.astype(dtype, copy=False), n_iter
