"""Poisson regression on Dask arrays chunked by rows, without bringing X to the client.

The fit is the blockwise proximal Newton of :mod:`fastl1._dask_logistic` (working sets, the
quadratic model minimised on the client, gradients and working-set Hessian blocks computed
where the row blocks are) with the Poisson datafit's per-sample derivatives
(:class:`fastl1._dask_logistic_blocks.PoissonRows`: ``s_i (mu_i - y_i)`` and curvatures
``s_i mu_i``, ``mu = exp(X w + b + offset)``). Its objective is
:class:`fastl1.PoissonRegression`'s, ``1/n sum_i s_i (mu_i - y_i eta_i) + alpha pen(w)``
with the weights rescaled to sum to ``n``, written as the loop's sum-scale problem with
``lam1 = n alpha l1_ratio`` and ``lam2 = n alpha (1 - l1_ratio)``. The stopping rule is the
in-memory one: the duality gap (the same dual point: an exact intercept step, then the
scaling of :func:`fastl1._irls.penalty_conjugate_gap`) below ``tol`` times the null model's
deviance over two, per sample. The offsets (log exposures) are a Dask array with X's row
chunks, or an in-memory one chunked like X.

A first pass checks the values (counts non-negative and finite, weights and offsets
finite) and sums what the null model needs (:func:`fastl1.poisson._null_model`): its
intercept starts the fit, its deviance scales the tolerance.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._dask import check_design
from ._dask_logistic import Model, _as_rows, _Passes, merge_tree, solve_penalised
from ._dask_logistic_blocks import PoissonRows, _block_counts, _merge_counts
from ._warn import warn_user

__all__ = ["fit_poisson", "poisson_path"]


@dataclass
class _Counts:
    """The first pass's summary: the null model's intercept and deviance scale."""

    intercept: float
    tol_scale: float
    x_max: float
    dtype: np.dtype


def _check_counts(info: dict) -> None:
    if not info["x_finite"]:
        raise ValueError("Input X contains NaN or infinity.")
    if not info["y_finite"]:
        raise ValueError("y contains NaN or infinity; Poisson regression needs counts.")
    if info["y_negative"]:
        raise ValueError("Poisson regression needs non-negative y (counts); got "
                         f"{info['y_negative']} negative value(s).")
    if not info["w_finite"] or info["w_min"] < 0:
        raise ValueError("sample_weight must hold one finite, non-negative weight per "
                         "sample.")
    if not info["o_finite"]:
        raise ValueError("offset contains NaN or infinity (it is a log exposure).")
    w_sum, wy = info["sums"][:2]
    if not w_sum > 0:
        raise ValueError("sample_weight sums to zero.")
    if not wy > 0:
        raise ValueError("y is zero for every sample (with positive weight): the Poisson "
                         "mean would be 0 and its log-linear model has no solution.")


def _null_model(info: dict, n: int) -> tuple[float, float, float]:
    """``(intercept, tol_scale, scale)``: the intercept-only fit's intercept, the per-sample
    deviance over two of the null model (:func:`fastl1.poisson._null_model`, from the sums
    of the first pass) and the factor taking the weights to a sum of ``n``."""
    w_sum, wy, w_exposure, wylogy, wyo = info["sums"]
    scale = n / w_sum
    intercept = float(np.log(wy / w_exposure))
    # sum_i w_i (y_i log(y_i / mu_i) - (y_i - mu_i)), mu_i = exp(o_i + intercept)
    deviance = wylogy - wyo - intercept * wy - wy + np.exp(intercept) * w_exposure
    tol_scale = float(scale * deviance) / n
    return intercept, (tol_scale if tol_scale > 0 else 1.0), scale


def _prepare(X, y, sample_weight, offset, what: str):
    """Check the inputs without computing X, run the pass that checks the values and sums
    the null model's, and return the passes and the :class:`_Counts`."""
    import dask

    X, n, p, dtype = check_design(X, y, what)
    y = _as_rows(y, X, "y")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y must be numeric (counts), got dtype {y.dtype}.")
    if sample_weight is not None:
        if isinstance(sample_weight, numbers.Number):
            raise ValueError("sample_weight must hold one finite, non-negative weight per "
                             "sample.")
        sample_weight = _as_rows(sample_weight, X, "sample_weight")
        if sample_weight.dtype.kind not in "biuf":
            raise ValueError(f"sample_weight must be numeric, got dtype "
                             f"{sample_weight.dtype}.")
    if offset is not None:
        offset = _as_rows(offset, X, "offset")
        if offset.dtype.kind not in "biuf":
            raise ValueError(f"offset must be numeric, got dtype {offset.dtype}.")

    def blocks(array):
        return [None] * X.numblocks[0] if array is None else list(array.to_delayed().ravel())

    parts = list(zip(blocks(X), blocks(y), blocks(sample_weight), blocks(offset),
                     strict=True))
    count = dask.delayed(_block_counts, pure=True)
    (info,) = dask.compute(merge_tree([count(*part) for part in parts], _merge_counts))
    _check_counts(info)
    intercept, tol_scale, scale = _null_model(info, n)
    passes = _Passes([(*part, None) for part in parts], PoissonRows(scale), n, p, float(n),
                     row_chunks=tuple(int(c) for c in X.chunks[0]))
    return passes, _Counts(intercept, tol_scale, info["x_max"], dtype)


def _poisson_failure(n_iter, gap, target, violation) -> str:
    return (f"Poisson regression (prox_newton on a Dask array) did not converge after "
            f"{n_iter} iterations: duality gap {gap:.3e} > tol * the null model's deviance "
            f"over two ({target:.3e}), largest optimality (KKT) violation {violation:.3e} "
            "(per sample). Increase max_iter or alpha.")


def _solve(passes, counts, alpha, l1_ratio, *, fit_intercept, tol, max_iter, coef=None,
           intercept=None, warn=True):
    n = passes.n_samples
    model = Model(np.array([counts.intercept if fit_intercept else 0.0]), counts.x_max,
                  1.0, counts.tol_scale * n, _poisson_failure)
    return solve_penalised(passes, model, n * alpha * l1_ratio, n * alpha * (1.0 - l1_ratio),
                           fit_intercept=fit_intercept, tol=tol, max_iter=max_iter,
                           coef=None if coef is None else np.reshape(coef, (1, -1)),
                           intercept=intercept, warn=warn)


def _refuse_feature_penalty(estimator) -> None:
    from .linear_model import refuse_feature_penalty_on_dask

    refuse_feature_penalty_on_dask(estimator)


def fit_poisson(estimator, X, y, sample_weight, offset):
    """:meth:`fastl1.PoissonRegression.fit` (its parameters checked) on Dask inputs."""
    from ._dask import _n_features_in

    _refuse_feature_penalty(estimator)
    passes, counts = _prepare(X, y, sample_weight, offset, "PoissonRegression")
    _n_features_in(estimator, X)
    coef = intercept = None
    if estimator.warm_start and hasattr(estimator, "coef_") \
            and np.shape(estimator.coef_) == (passes.n_features,):
        coef, intercept = np.asarray(estimator.coef_, np.float64), float(estimator.intercept_)
    result = _solve(passes, counts, float(estimator.alpha), float(estimator.l1_ratio),
                    fit_intercept=bool(estimator.fit_intercept), tol=float(estimator.tol),
                    max_iter=int(estimator.max_iter), coef=coef, intercept=intercept)
    estimator.coef_ = result.coef[0].astype(counts.dtype)
    estimator.intercept_ = float(result.intercept[0]) if estimator.fit_intercept else 0.0
    estimator.dual_gap_ = float(result.dual_gap)
    estimator.n_iter_ = int(result.n_iter)
    estimator.n_newton_ = int(result.n_newton)
    return estimator


def poisson_path(X, y, estimator, alphas, eps, sample_weight, offset):
    """:func:`fastl1.poisson_path` on Dask inputs (``estimator`` carries the checked
    options): warm-started fits from the largest alpha; an int ``alphas`` is a grid from
    ``alpha_max``, the largest gradient at the null model (one pass)."""
    from .poisson import _check_grid

    _refuse_feature_penalty(estimator)
    l1_ratio = float(estimator.l1_ratio)
    fit_intercept = bool(estimator.fit_intercept)
    passes, counts = _prepare(X, y, sample_weight, offset, "poisson_path")
    grid = _check_grid(alphas, eps)
    if isinstance(grid, int):
        n, p = passes.n_samples, passes.n_features
        b = np.array([counts.intercept if fit_intercept else 0.0])
        top = float(np.abs(passes.run(np.zeros((1, p)), b)["G"]).max()) \
            / (n * max(l1_ratio, 1e-3))
        top = top if top > 0 else np.finfo(np.float64).resolution
        grid = np.geomspace(top, top * eps, num=grid)
    coefs = np.zeros((passes.n_features, grid.shape[0]))
    intercepts, gaps = np.zeros(grid.shape[0]), np.zeros(grid.shape[0])
    coef = intercept = None
    failures = 0
    for k, alpha in enumerate(grid):
        result = _solve(passes, counts, float(alpha), l1_ratio, fit_intercept=fit_intercept,
                        tol=float(estimator.tol), max_iter=int(estimator.max_iter),
                        coef=coef, intercept=intercept, warn=False)
        coef, intercept = result.coef, result.intercept
        coefs[:, k], intercepts[k], gaps[k] = coef[0], intercept[0], result.dual_gap
        failures += not result.converged
    if failures:
        warn_user(f"Poisson path: {failures} of {grid.shape[0]} alphas did not converge "
                  "within max_iter; increase max_iter.", ConvergenceWarning)
    return grid, coefs, intercepts, gaps
