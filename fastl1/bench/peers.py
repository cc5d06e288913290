"""Solver adapters: fastl1 and its peers (scikit-learn, celer, skglm, python-glmnet, adelie,
R's glmnet) behind one calling convention, ``fit(problem, tol) -> coef | (alphas, coefs) |
(alphas, coefs, intercepts) | CV result``, possibly wrapped in :class:`Timed`.

Each adapter imports its library when called, so listing the solvers (``fastl1 bench
--list``, the command line's choices) imports none of them.

The glmpath adapters (:data:`GLMPATH_SOLVERS`) solve glmnet's problem, the objective of
:func:`fastl1.bench.objectives.glm_objective`, on the grid they are given. Conventions:

* glmnet's lambda is the harness's alpha for both losses: its gaussian objective is ``1/(2n)
  RSS + lambda * penalty`` (unit weights sum to n), its binomial one the mean negative
  log-likelihood ``+ lambda * penalty`` (scikit-learn's ``C = 1 / (alpha n)``);
  ``alpha=l1_ratio``, ``standardize=FALSE``, ``intercept=TRUE``.
* glmnet divides a gaussian y by its standard deviation ``s`` (1/n, after centring) before
  the fit, ``lambda`` by ``s`` too, and multiplies the solution back: the lasso is
  unchanged, but the ridge part of an elastic net ends up divided by ``s``, whatever the
  scale of the y it is given (prescaling y does not help: s is recomputed). Its gaussian
  objective is ``1/(2n) RSS + lambda (a ||w||_1 + (1 - a) / (2 s) ||w||^2)``. The glmnet
  adapters therefore pass ``a = l1_ratio / (l1_ratio + (1 - l1_ratio) s)`` and ``lambda =
  alpha (l1_ratio + (1 - l1_ratio) s)``, which give both parts their weight in the harness's
  objective (``a`` does not depend on alpha, so one path serves). adelie does not rescale
  y: it gets ``alpha`` and ``l1_ratio`` as they are. Checked on R's glmnet 4.1 and adelie
  1.1 against fastl1's certified solutions (``tests/bench/test_glmpath.py``).
* ``tol=None`` runs a package at its defaults (``accuracy="default"`` rows); a number sets
  its own tolerance (glmnet's ``thresh``, adelie's ``tol`` and ``irls_tol``, fastl1's
  ``tol``), which the harness calibrates for the matched rows.
* glmnet's early ends of a path (``fdev``, ``devmax``: stop when the deviance explained
  changes little or exceeds 0.999) are turned off, so that every package solves all the
  alphas given; adelie likewise runs with ``early_exit=False``.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from .problems import BenchProblem

__all__ = [
    "GLMPATH_SOLVERS",
    "LOGISTIC_SOLVERS",
    "SOLVERS",
    "Solver",
    "Timed",
    "available_solvers",
    "make_cv_model",
    "make_model",
    "make_path",
    "solver_names",
    "solvers_for",
]

_MAX_ITER = 100_000  # epochs for the CD solvers: never the binding stop
_CV_JOBS = (2, 1)  # n_jobs of the CV rows of fastl1 and scikit-learn; the first is the main row
_SAGA_EPOCHS = 100  # scikit-learn saga: epochs cap (1.5 s per epoch on the sparse problem)


@dataclasses.dataclass(frozen=True)
class Solver:
    """A solver adapter. ``fit(problem, tol)`` solves ``problem.task`` and returns

    * ``"fit"``: the coefficients, shape (n_features,);
    * ``"path"``: ``(alphas, coefs)``, coefs of shape (n_features, n_alphas) with columns in
      the order of ``alphas`` (which must be ``problem.alphas``, in any order); or ``coefs``
      alone, in the order of ``problem.alphas``;
    * ``"cv"``: ``(alpha_, alphas, mse_path)``, the chosen alpha and the CV errors of shape
      (n_alphas, n_folds) (or their mean over the folds, (n_alphas,)), rows in the order of
      ``alphas``.

    ``calibrate``: the solver's ``tol`` is not a duality-gap bound; the harness tightens it
    (starting at ``tol * tol_factor``) until the duality gap meets the common bound.
    ``cv_jobs``: on CV problems the adapter is called as ``fit(problem, tol, n_jobs=J)``, one
    result row per ``J``: the first keeps the solver's name, the others are named
    ``"<name>-n_jobs=<J>"``. Empty: called without ``n_jobs``.
    ``unsupported_tasks``: ``(task, reason)`` pairs: skipped on that task, with the reason.
    ``family``: the library, when several solvers of one library run on a task (the logistic
    problems: ``sklearn-liblinear`` and ``sklearn-saga`` are both selected by ``"sklearn"``).
    """

    name: str
    module: str  # import name, to test availability
    fit: Callable[..., object]
    tol_meaning: str
    calibrate: bool = False
    tol_factor: float = 1.0
    unsupported: str | None = None  # set when an installed peer has no usable adapter
    cv_jobs: tuple[int, ...] = ()
    unsupported_tasks: tuple[tuple[str, str], ...] = ()
    family: str = ""
    default_tol: float | None = None  # glmpath: the package's default, where calibration starts
    accuracy: str = ""  # glmpath rows: "matched" (calibrated tol) or "default" (tol=None)
    probe: Callable[[], str | None] | None = None  # availability check replacing the import

    def availability(self, task: str = "fit") -> str | None:
        """None if usable on ``task``, else the reason it is skipped."""
        if self.probe is not None:
            reason = self.probe()
            if reason is not None:
                return reason
        else:
            try:
                importlib.import_module(self.module)
            except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
                if isinstance(exc, ImportError):
                    return "not installed"
                return f"import failed: {type(exc).__name__}: {exc}"
        return self.unsupported or dict(self.unsupported_tasks).get(task)


class Timed(NamedTuple):
    """An adapter's result with the seconds the solver measured itself, reported instead of
    the call's wall time (R's glmnet: its time inside R around the fit only, without the
    start of R and the transfer of the data)."""

    value: object
    seconds: float


def make_model(lasso_class, enet_class, problem: BenchProblem, **params):
    """The problem's estimator from a library: its Lasso when ``l1_ratio == 1``, else its
    ElasticNet, with the problem's alpha and intercept setting plus ``params``."""
    params = dict(alpha=problem.alpha, fit_intercept=problem.fit_intercept, **params)
    if problem.l1_ratio == 1.0:
        return lasso_class(**params)
    return enet_class(l1_ratio=problem.l1_ratio, **params)


def make_path(lasso_path, enet_path, problem: BenchProblem, *, X=None, **params):
    """The problem's path from a library's scikit-learn-style path functions:
    ``lasso_path(X, y, alphas=grid, **params)`` when ``l1_ratio == 1``, else
    ``enet_path(X, y, l1_ratio=..., alphas=grid, **params)``; ``X`` replaces ``problem.X``."""
    X = problem.X if X is None else X
    if problem.l1_ratio == 1.0:
        return lasso_path(X, problem.y, alphas=problem.alphas, **params)
    return enet_path(X, problem.y, l1_ratio=problem.l1_ratio, alphas=problem.alphas, **params)


def make_cv_model(lasso_cv, enet_cv, problem: BenchProblem, **params):
    """The problem's CV estimator from a library (its LassoCV, or its ElasticNetCV when
    ``l1_ratio < 1``), on the problem's grid with ``cv=KFold(n_folds)`` (no shuffle) and the
    problem's intercept setting, plus ``params``."""
    from sklearn.model_selection import KFold

    params = dict(alphas=problem.alphas, cv=KFold(problem.n_folds),
                  fit_intercept=problem.fit_intercept, **params)
    if problem.l1_ratio == 1.0:
        return lasso_cv(**params)
    return enet_cv(l1_ratio=problem.l1_ratio, **params)


def _cv_output(model) -> tuple[float, np.ndarray, np.ndarray]:
    return model.alpha_, model.alphas_, model.mse_path_


def _kfold_rows(problem: BenchProblem, seed: int = 0):
    """``(X, y)`` with the rows permuted so that ``KFold(n_folds, shuffle=True,
    random_state=seed)`` (the fixed splitter of skglm's and python-glmnet's CV) yields on it
    exactly the test folds of ``KFold(n_folds)`` on the original rows, in the same order:
    every CV solver then sees the same folds. Cached on the problem (built in the warm-up)."""
    key = ("kfold_rows", seed)
    if key not in problem.cache:
        from sklearn.model_selection import KFold

        n = problem.shape[0]
        splitter = KFold(problem.n_folds, shuffle=True, random_state=seed)
        shuffled = np.concatenate([test for _, test in splitter.split(np.zeros((n, 1)))])
        rows = np.argsort(shuffled)  # X'[shuffled[j]] = X[j]
        X = problem.X[rows]
        if not sp.issparse(X):
            X = np.asfortranarray(X)
        problem.cache[key] = (X, problem.y[rows])
    return problem.cache[key]


def _fit_fastl1(problem: BenchProblem, tol: float, n_jobs: int | None = None):
    import fastl1

    if problem.task == "path":
        alphas, coefs, _ = make_path(fastl1.lasso_path, fastl1.enet_path, problem, tol=tol,
                                     max_iter=_MAX_ITER)
        return alphas, coefs
    if problem.task == "cv":
        model = make_cv_model(fastl1.LassoCV, fastl1.ElasticNetCV, problem, n_jobs=n_jobs,
                              tol=tol, max_iter=_MAX_ITER)
        return _cv_output(model.fit(problem.X, problem.y))
    model = make_model(fastl1.Lasso, fastl1.ElasticNet, problem, tol=tol, max_iter=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _fit_sklearn(problem: BenchProblem, tol: float, n_jobs: int | None = None):
    from sklearn.linear_model import (
        ElasticNet,
        ElasticNetCV,
        Lasso,
        LassoCV,
        enet_path,
        lasso_path,
    )

    if problem.task == "path":
        # enet_path wants CSC (its check_array would convert CSR itself): part of its time,
        # as the conversion inside Lasso.fit is for one fit
        X = problem.X.tocsc() if sp.issparse(problem.X) else problem.X
        alphas, coefs, _ = make_path(lasso_path, enet_path, problem, X=X, tol=tol,
                                     max_iter=_MAX_ITER)
        return alphas, coefs
    if problem.task == "cv":
        model = make_cv_model(LassoCV, ElasticNetCV, problem, n_jobs=n_jobs, tol=tol,
                              max_iter=_MAX_ITER)
        return _cv_output(model.fit(problem.X, problem.y))
    model = make_model(Lasso, ElasticNet, problem, tol=tol, max_iter=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _fit_celer(problem: BenchProblem, tol: float, n_jobs: int | None = None):
    import celer

    # celer's objective is scikit-learn's (1/(2n) datafit); its stop is
    # gap <= tol * ||y||^2 / n, like scikit-learn's (celer_path too: its estimators pass
    # their tol on unchanged). max_iter counts working-set iterations, max_epochs CD epochs.
    if problem.task == "path":
        alphas, coefs, _ = celer.celer_path(
            problem.X, problem.y, "lasso", alphas=problem.alphas, l1_ratio=problem.l1_ratio,
            tol=tol, max_iter=10_000, max_epochs=_MAX_ITER, prune=1)
        return alphas, coefs
    if problem.task == "cv":
        model = make_cv_model(*_celer_cv_classes(), problem, n_jobs=n_jobs,
                              tol=tol, max_iter=10_000, max_epochs=_MAX_ITER)
        return _cv_output(model.fit(problem.X, problem.y))
    model = make_model(celer.Lasso, celer.ElasticNet, problem, tol=tol, max_iter=10_000,
                       max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _celer_cv_classes() -> tuple[type, type]:
    """celer's ``LassoCV`` and ``ElasticNetCV``, with a constructor that scikit-learn 1.9
    accepts: celer 0.7 passes ``n_alphas`` to ``LinearModelCV.__init__``, which no longer
    takes it. Only the constructor changes; the fit is celer's own (its path inside
    scikit-learn's cross-validation loop)."""
    import inspect

    import celer
    from sklearn.linear_model._coordinate_descent import LinearModelCV

    if "n_alphas" in inspect.signature(LinearModelCV.__init__).parameters:
        return celer.LassoCV, celer.ElasticNetCV

    def init(model, eps, alphas, fit_intercept, max_iter, tol, cv, verbose, max_epochs, p0,
             prune, precompute, positive, n_jobs):
        LinearModelCV.__init__(model, eps=eps, alphas=alphas, fit_intercept=fit_intercept,
                               precompute=precompute, max_iter=max_iter, tol=tol, cv=cv,
                               verbose=verbose, n_jobs=n_jobs, positive=positive)
        model.max_epochs, model.p0, model.prune = max_epochs, p0, prune

    class LassoCV(celer.LassoCV):
        def __init__(self, eps=1e-3, alphas=100, fit_intercept=True, max_iter=100, tol=1e-4,
                     cv=None, verbose=0, max_epochs=50000, p0=10, prune=True,
                     precompute="auto", positive=False, n_jobs=None):
            init(self, eps, alphas, fit_intercept, max_iter, tol, cv, verbose, max_epochs, p0,
                 prune, precompute, positive, n_jobs)

    class ElasticNetCV(celer.ElasticNetCV):
        def __init__(self, l1_ratio=1.0, eps=1e-3, alphas=100, fit_intercept=True,
                     max_iter=100, tol=1e-4, cv=None, verbose=0, max_epochs=50000, p0=10,
                     prune=True, precompute="auto", positive=False, n_jobs=None):
            init(self, eps, alphas, fit_intercept, max_iter, tol, cv, verbose, max_epochs, p0,
                 prune, precompute, positive, n_jobs)
            self.l1_ratio = l1_ratio

    return LassoCV, ElasticNetCV


def _fit_skglm(problem: BenchProblem, tol: float, n_jobs: int | None = None):
    import skglm

    if problem.task == "cv":
        # skglm 0.5 has no LassoCV but a generic GeneralizedLinearEstimatorCV: quadratic
        # datafit, L1 (or L1 + L2) penalty, AndersonCD warm-started along the grid. Its cv is
        # an int (KFold with shuffle): the rows are permuted so its folds are KFold(n_folds)'s.
        from skglm.datafits import Quadratic
        from skglm.penalties import L1, L1_plus_L2
        from skglm.solvers import AndersonCD

        X, y = _kfold_rows(problem)
        alpha = float(problem.alphas[0])
        penalty = (L1(alpha) if problem.l1_ratio == 1.0
                   else L1_plus_L2(alpha, l1_ratio=problem.l1_ratio))
        solver = AndersonCD(max_iter=1000, max_epochs=_MAX_ITER, tol=tol,
                            fit_intercept=problem.fit_intercept, warm_start=True)
        # skglm compiles the datafit and penalty classes on first use (cached per class). Its
        # CV pickles them for the workers first, which leaves ``__slotnames__`` on the classes,
        # and Numba then refuses to compile them for the refit (skglm 0.5, Numba 0.68). Any
        # earlier skglm fit in the process compiles them; this does so explicitly.
        from skglm.utils.jit_compilation import compiled_clone

        compiled_clone(Quadratic(), to_float32=X.dtype == np.float32)
        compiled_clone(penalty, to_float32=X.dtype == np.float32)
        model = skglm.GeneralizedLinearEstimatorCV(
            Quadratic(), penalty, solver, alphas=problem.alphas,
            l1_ratio=None if problem.l1_ratio == 1.0 else problem.l1_ratio,
            cv=problem.n_folds, n_jobs=n_jobs, random_state=0)
        model.fit(X, y)
        return model.alpha_, model.alphas_, -np.asarray(model.scores_path_)
    model = make_model(skglm.Lasso, skglm.ElasticNet, problem, tol=tol, max_iter=1000,
                       max_epochs=_MAX_ITER)
    if problem.task == "path":  # the estimators' .path: warm-started working-set CD
        alphas, coefs, _ = model.path(problem.X, problem.y, problem.alphas,
                                      return_n_iter=False)
        return alphas, coefs
    return model.fit(problem.X, problem.y).coef_


def _fit_glmnet(problem: BenchProblem, tol: float, n_jobs: int | None = None):
    import glmnet

    # glmnet (gaussian) rescales y internally by s = sqrt(mean(y^2)), which changes the
    # ridge part of the elastic net unless y already has s = 1: fit y / s at lambda = alpha / s
    # and scale the coefficients back (exact for lasso and elastic net without intercept, and
    # for the lasso with one).
    X, y = problem.X, np.asarray(problem.y, dtype=np.float64)
    cv = problem.task == "cv"
    if cv:  # its CV splits with KFold(n_splits, shuffle=True, random_state): same folds
        X, y = _kfold_rows(problem)
    s = float(np.sqrt(np.mean(y * y))) or 1.0
    grid = problem.grid
    model = glmnet.ElasticNet(alpha=problem.l1_ratio, lambda_path=grid / s, standardize=False,
                              fit_intercept=problem.fit_intercept,
                              n_splits=problem.n_folds if cv else 0,
                              scoring="mean_squared_error" if cv else None,
                              n_jobs=n_jobs or 1, random_state=0, tol=tol, max_iter=_MAX_ITER)
    model.fit(X.tocsr() if sp.issparse(X) else X, y / s)
    coefs = np.asarray(model.coef_path_) * s
    if coefs.shape[1] != grid.shape[0]:
        raise RuntimeError(f"glmnet stopped its path after {coefs.shape[1]} of "
                           f"{grid.shape[0]} alphas (its deviance-ratio stop)")
    if cv:  # scores are -MSE of y / s; the mean over the folds only
        mse = -np.asarray(model.cv_mean_score_, dtype=np.float64) * s * s
        return float(grid[int(model.lambda_max_inx_)]), grid, mse
    if problem.task == "path":
        return grid, coefs
    return coefs[:, 0]


def _fit_unsupported(problem: BenchProblem, tol: float) -> np.ndarray:  # pragma: no cover
    raise NotImplementedError("no adapter")


# Logistic adapters: binary labels +-1, no intercept, C = 1 / (alpha n) (BenchProblem.C).


def _logistic_fastl1(problem: BenchProblem, tol: float) -> np.ndarray:
    import fastl1

    model = fastl1.LogisticRegression(C=problem.C, fit_intercept=False, tol=tol,
                                      max_iter=10_000)
    return model.fit(problem.X, problem.y).coef_


def _logistic_sklearn(problem: BenchProblem, tol: float, solver: str = "liblinear") -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    # l1_ratio=1.0 is scikit-learn 1.9's spelling of the L1 penalty (penalty is deprecated)
    model = LogisticRegression(C=problem.C, l1_ratio=1.0, solver=solver, fit_intercept=False,
                               tol=tol, max_iter=_SAGA_EPOCHS if solver == "saga" else _MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _logistic_celer(problem: BenchProblem, tol: float) -> np.ndarray:
    import celer

    model = celer.LogisticRegression(C=problem.C, tol=tol, fit_intercept=False,
                                     max_iter=10_000, max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _logistic_skglm(problem: BenchProblem, tol: float) -> np.ndarray:
    import skglm

    model = skglm.SparseLogisticRegression(alpha=problem.alpha, tol=tol, fit_intercept=False,
                                           max_iter=1000, max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


# glmpath adapters: glmnet's problem (intercept, no standardisation) along problem.alphas;
# each returns (alphas, coefs (n_features, n_alphas), intercepts (n_alphas,)).

_GLMPATH_MAX_ITER = 100_000  # fastl1's matched rows: epochs per alpha, never the binding stop


def _glmnet_parameters(problem: BenchProblem) -> tuple[float, np.ndarray]:
    """glmnet's mixing parameter ``a`` and lambdas for the problem's objective (the module
    docstring): ``l1_ratio`` and the grid, except for a gaussian elastic net."""
    ratio, grid = problem.l1_ratio, problem.grid
    if problem.loss == "logistic" or ratio == 1.0:
        return ratio, grid
    s = float(np.std(problem.y))  # glmnet's (1/n, centred: with an intercept)
    s = s if s > 0 else 1.0
    weight = ratio + (1.0 - ratio) * s
    return ratio / weight, grid * weight


def _glmpath_fastl1(problem: BenchProblem, tol: float | None):
    import fastl1

    X, y, grid, n = problem.X, problem.y, problem.grid, problem.shape[0]
    if problem.loss == "logistic":
        # C = 1 / (alpha n); l1_logistic_path returns the Cs increasingly (alphas decreasing)
        options = {} if tol is None else dict(tol=tol, max_iter=10_000)
        Cs, coefs, intercepts, _ = fastl1.l1_logistic_path(
            X, y, Cs=1.0 / (grid * n), l1_ratio=problem.l1_ratio, fit_intercept=True,
            **options)
        return 1.0 / (Cs * n), coefs[:, 0, :].T, intercepts[:, 0]
    # The path loop LassoCV and ElasticNetCV refit with (lasso_path and enet_path have no
    # intercept, as scikit-learn's): X is centred implicitly, so sparse X stays sparse.
    from fastl1._solver import make_problem
    from fastl1.path import fit_path

    options = {} if tol is None else dict(tol=tol, max_iter=_GLMPATH_MAX_ITER)
    core = make_problem(X, None, True)
    y_centred, y_mean = core.centre_target(np.asarray(y, dtype=np.float64))
    result = fit_path(core, y_centred, grid, problem.l1_ratio, **options)
    x_mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
    intercepts = float(y_mean) - np.asarray(result.coefs.T @ x_mean).ravel()
    return grid, result.coefs, intercepts


def _glmpath_adelie(problem: BenchProblem, tol: float | None):
    import adelie as ad

    X, y, grid = problem.X, np.asarray(problem.y, dtype=np.float64), problem.grid
    # its own wrappers: dense as is (F order), sparse viewed as CSC
    matrix = ad.matrix.sparse(sp.csc_matrix(X), method="naive") if sp.issparse(X) else X
    # adelie's gaussian objective is glmnet's without the rescaling of y: lambda = alpha
    glm = (ad.glm.binomial(y=(y > 0).astype(np.float64)) if problem.loss == "logistic"
           else ad.glm.gaussian(y=y))
    options = {} if tol is None else dict(tol=tol, irls_tol=tol)
    state = ad.grpnet(X=matrix, glm=glm, alpha=problem.l1_ratio, lmda_path=grid,
                      intercept=True, early_exit=False, progress_bar=False, **options)
    return np.asarray(state.lmdas), sp.csc_matrix(state.betas.T), np.asarray(state.intercepts)


def _glmpath_python_glmnet(problem: BenchProblem, tol: float | None):
    import glmnet

    X, y, grid = problem.X, np.asarray(problem.y, dtype=np.float64), problem.grid
    options = {} if tol is None else dict(tol=tol, max_iter=_MAX_ITER)
    X = X.tocsr() if sp.issparse(X) else X
    mix, lambdas = _glmnet_parameters(problem)
    if problem.loss == "logistic":
        model = glmnet.LogitNet(alpha=mix, lambda_path=lambdas, standardize=False,
                                fit_intercept=True, n_splits=0, **options)
        model.fit(X, (y > 0).astype(np.int64))
        coefs = np.asarray(model.coef_path_)[0]
    else:
        model = glmnet.ElasticNet(alpha=mix, lambda_path=lambdas, standardize=False,
                                  fit_intercept=True, n_splits=0, **options)
        model.fit(X, y)
        coefs = np.asarray(model.coef_path_)
    intercepts = np.asarray(model.intercept_path_).reshape(-1)
    if coefs.shape[1] != grid.shape[0]:
        raise RuntimeError(f"glmnet stopped its path after {coefs.shape[1]} of "
                           f"{grid.shape[0]} alphas")
    return grid, coefs, intercepts


# R's glmnet through Rscript: the data go through binary files written once per problem, the
# time is measured inside R around glmnet() only (R's start, reading and writing excluded).
_R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]; family <- args[2]; mix <- as.numeric(args[3]); thresh <- args[4]
out <- args[5]
suppressPackageStartupMessages(library(glmnet))
rd <- function(name) {
  f <- file.path(d, name); con <- file(f, "rb"); on.exit(close(con))
  readBin(con, "double", n = file.info(f)$size / 8, size = 8)
}
dims <- rd("dims.bin")
n <- as.integer(dims[1]); p <- as.integer(dims[2])
if (dims[3] > 0) {
  X <- Matrix::sparseMatrix(i = as.integer(rd("Xi.bin")), p = as.integer(rd("Xp.bin")),
                            x = rd("Xx.bin"), dims = c(n, p), index1 = FALSE)
} else {
  X <- matrix(rd("X.bin"), n, p)
}
y <- rd("y.bin"); lambda <- rd("lambda.bin")
if (family == "binomial") y <- as.numeric(y > 0)
glmnet.control(fdev = 0, devmax = 1)
messages <- character(0)
keep <- function(w) {
  messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning")
}
withCallingHandlers({
  if (thresh == "default") {
    start <- proc.time()[["elapsed"]]
    fit <- glmnet(X, y, family = family, alpha = mix, lambda = lambda,
                  standardize = FALSE, intercept = TRUE)
    seconds <- proc.time()[["elapsed"]] - start
  } else {
    tol <- as.numeric(thresh)
    start <- proc.time()[["elapsed"]]
    fit <- glmnet(X, y, family = family, alpha = mix, lambda = lambda,
                  standardize = FALSE, intercept = TRUE, thresh = tol, maxit = 1e7)
    seconds <- proc.time()[["elapsed"]] - start
  }
}, warning = keep)
beta <- methods::as(fit$beta, "CsparseMatrix")
con <- file(out, "wb")
writeBin(c(seconds, length(fit$lambda), length(beta@x)), con, size = 8)
writeBin(as.double(fit$lambda), con, size = 8)
writeBin(as.double(fit$a0), con, size = 8)
writeBin(as.double(beta@p), con, size = 8)
writeBin(as.double(beta@i), con, size = 8)
writeBin(as.double(beta@x), con, size = 8)
close(con)
writeLines(messages, paste0(out, ".warnings"))
"""


@functools.lru_cache(maxsize=1)
def _r_glmnet_version() -> str | None:
    """glmnet's version in R, or None when Rscript or the package is missing."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    try:
        done = subprocess.run(
            [rscript, "-e", 'cat(as.character(packageVersion("glmnet")))'],
            capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _r_glmnet_probe() -> str | None:
    if shutil.which("Rscript") is None:
        return "not installed (no Rscript on PATH)"
    if _r_glmnet_version() is None:
        return "not installed (R has no glmnet package)"
    return None


def _r_data_folder(problem: BenchProblem) -> str:
    """A temporary folder with the problem's data in the files the R script reads, written
    once per problem (cached on it; removed with the problem)."""
    if "r_data" not in problem.cache:
        folder = tempfile.TemporaryDirectory(prefix="fastl1-bench-r-")
        d = folder.name
        X = problem.X
        n, p = problem.shape
        y = np.asarray(problem.y, dtype=np.float64)
        mix, lambdas = _glmnet_parameters(problem)
        if sp.issparse(X):
            X = sp.csc_matrix(X)
            X.sort_indices()
            for name, values in (("Xi", X.indices), ("Xp", X.indptr), ("Xx", X.data)):
                np.asarray(values, dtype=np.float64).tofile(os.path.join(d, f"{name}.bin"))
        else:
            np.asarray(X, dtype=np.float64).ravel(order="F").tofile(os.path.join(d, "X.bin"))
        np.array([n, p, float(sp.issparse(X))]).tofile(os.path.join(d, "dims.bin"))
        y.tofile(os.path.join(d, "y.bin"))
        np.asarray(lambdas, dtype=np.float64).tofile(os.path.join(d, "lambda.bin"))
        with open(os.path.join(d, "fit.R"), "w", encoding="utf-8") as f:
            f.write(_R_SCRIPT)
        problem.cache["r_data"] = (folder, mix)
    return problem.cache["r_data"][0].name


def _glmpath_r_glmnet(problem: BenchProblem, tol: float | None) -> Timed:
    d = _r_data_folder(problem)
    mix = problem.cache["r_data"][1]
    family = "binomial" if problem.loss == "logistic" else "gaussian"
    out = os.path.join(d, "result.bin")
    thresh = "default" if tol is None else repr(float(tol))
    done = subprocess.run(
        ["Rscript", "--vanilla", os.path.join(d, "fit.R"), d, family,
         repr(float(mix)), thresh, out],
        capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed: {done.stderr.strip()[-300:]}")
    raw = np.fromfile(out, dtype=np.float64)
    seconds, k, nnz = raw[0], int(raw[1]), int(raw[2])
    pos = 3
    parts = []
    for size in (k, k, k + 1, nnz, nnz):
        parts.append(raw[pos:pos + size])
        pos += size
    lambdas, a0, indptr, indices, values = parts
    with open(out + ".warnings", encoding="utf-8") as f:
        for message in filter(None, (line.strip() for line in f)):
            from sklearn.exceptions import ConvergenceWarning

            category = ConvergenceWarning if "onverge" in message else UserWarning
            warnings.warn(f"R glmnet: {message}", category, stacklevel=2)
    grid = problem.grid
    if k != grid.shape[0]:
        raise RuntimeError(f"glmnet stopped its path after {k} of {grid.shape[0]} alphas")
    if not np.allclose(lambdas, _glmnet_parameters(problem)[1], rtol=1e-12, atol=0.0):
        raise RuntimeError("glmnet returned other lambdas than those given")
    coefs = sp.csc_matrix((values, indices.astype(np.int64), indptr.astype(np.int64)),
                          shape=(problem.shape[1], k))
    return Timed((grid, coefs, a0), float(seconds))


SOLVERS: dict[str, Solver] = {
    "fastl1": Solver(
        "fastl1", "fastl1", _fit_fastl1,
        "duality gap: stops when gap <= tol * ||y||^2 / n (as scikit-learn)",
        cv_jobs=_CV_JOBS),
    "sklearn": Solver(
        "sklearn", "sklearn", _fit_sklearn,
        "duality gap: stops when gap <= tol * ||y||^2 / n",
        cv_jobs=_CV_JOBS),
    "celer": Solver(
        "celer", "celer", _fit_celer,
        "duality gap: stops when gap <= tol * ||y||^2 / n (same scaling as scikit-learn)",
        cv_jobs=_CV_JOBS[:1]),
    "skglm": Solver(
        "skglm", "skglm", _fit_skglm,
        "max KKT violation (gradient units), not a gap: calibrated from tol down by half "
        "decades until objective - best dual value <= tol * ||y||^2 / n",
        calibrate=True, cv_jobs=_CV_JOBS[:1]),
    "glmnet": Solver(
        "glmnet", "glmnet", _fit_glmnet,
        "python-glmnet thresh (objective change relative to null deviance), not a gap: "
        "calibrated from tol down by half decades until objective - best dual value <= "
        "tol * ||y||^2 / n",
        calibrate=True, cv_jobs=_CV_JOBS[:1]),
    "adelie": Solver(
        "adelie", "adelie", _fit_unsupported,
        "no adapter",
        unsupported="installed, but no adapter: its grpnet path/state API with its own "
        "matrix wrappers and early-exit rules does not map onto one fit at one alpha simply"),
}


_CALIBRATED = ("not a duality gap: calibrated from tol down by half decades until objective "
               "- best dual value <= tol * log 2")

# The solvers of the "logistic" task (binary L1 logistic regression); selected by name or by
# family, so that ``solvers=["sklearn"]`` runs both scikit-learn solvers.
LOGISTIC_SOLVERS: dict[str, Solver] = {
    "fastl1": Solver(
        "fastl1", "fastl1", _logistic_fastl1,
        f"max KKT violation of the averaged objective (as skglm), {_CALIBRATED}",
        calibrate=True),
    "sklearn-liblinear": Solver(
        "sklearn-liblinear", "sklearn", _logistic_sklearn,
        f"liblinear's stopping rule on its projected gradient, {_CALIBRATED}",
        calibrate=True, family="sklearn"),
    "sklearn-saga": Solver(
        "sklearn-saga", "sklearn", functools.partial(_logistic_sklearn, solver="saga"),
        f"largest coefficient change per epoch, at most {_SAGA_EPOCHS} epochs; {_CALIBRATED}",
        calibrate=True, family="sklearn"),
    "celer": Solver(
        "celer", "celer", _logistic_celer,
        "duality gap: stops when gap <= tol * log 2 (averaged objective; tol * n log 2 in "
        "its summed scale)"),
    "skglm": Solver(
        "skglm", "skglm", _logistic_skglm,
        f"max KKT violation (SparseLogisticRegression), {_CALIBRATED}", calibrate=True),
    "glmnet": Solver(
        "glmnet", "glmnet", _fit_unsupported, "no adapter",
        unsupported="no adapter for python-glmnet's LogitNet yet"),
    "adelie": Solver(
        "adelie", "adelie", _fit_unsupported, "no adapter",
        unsupported="installed, but no adapter (see the regression problems)"),
}


_GLMNET_TOL = "glmnet's thresh: stops when no coefficient moves the weighted objective by "
_GLMPATH_CALIBRATED = ("; matched rows: calibrated from its default down by decades (then half "
                       "a decade back when that suffices) until objective - best dual value "
                       "<= tol * objective at every alpha")

# The solvers of the "glmpath" task: glmnet's setting, with an intercept. Each gives two rows
# per problem, at its default tolerance ("<name>-default") and calibrated ("<name>").
GLMPATH_SOLVERS: dict[str, Solver] = {
    "fastl1": Solver(
        "fastl1", "fastl1", _glmpath_fastl1,
        "lasso: duality gap <= tol * ||y_c||^2 / n per alpha; logistic: relative duality gap "
        "(LogisticRegression's rule) per alpha" + _GLMPATH_CALIBRATED,
        calibrate=True, default_tol=1e-4),
    "glmnet": Solver(
        "glmnet", "glmnet", _glmpath_python_glmnet,
        "python-glmnet: " + _GLMNET_TOL + "more than tol times the null deviance"
        + _GLMPATH_CALIBRATED, calibrate=True, default_tol=1e-7),
    "glmnet-R": Solver(
        "glmnet-R", "glmnet (R)", _glmpath_r_glmnet,
        "R glmnet through Rscript, timed inside R: " + _GLMNET_TOL + "more than thresh "
        "times the null deviance" + _GLMPATH_CALIBRATED,
        calibrate=True, default_tol=1e-7, probe=_r_glmnet_probe),
    "adelie": Solver(
        "adelie", "adelie", _glmpath_adelie,
        "adelie grpnet: tol (coordinate descent) and irls_tol (IRLS, logistic)"
        + _GLMPATH_CALIBRATED, calibrate=True, default_tol=1e-7),
}


def solvers_for(task: str, requested: Sequence[str | Solver]) -> list[Solver]:
    """The solvers run on a problem of ``task``: by name from :data:`SOLVERS`, on the
    logistic task from :data:`LOGISTIC_SOLVERS` by name or family, on the glmpath task from
    :data:`GLMPATH_SOLVERS` by name, on the glm task (Cox, Poisson) from
    :data:`fastl1.bench.glm.GLM_SOLVERS` by name, on the blocks task (multi-task and group
    lasso) from :data:`fastl1.bench.blocks.BLOCK_SOLVERS` by name; Solver objects as given."""
    out: list[Solver] = []
    for s in requested:
        if isinstance(s, Solver):
            out.append(s)
        elif task == "glmpath":
            if s in GLMPATH_SOLVERS:
                out.append(GLMPATH_SOLVERS[s])
        elif task == "glm":
            from .glm import GLM_SOLVERS

            if s in GLM_SOLVERS:
                out.append(GLM_SOLVERS[s])
        elif task == "blocks":
            from .blocks import BLOCK_SOLVERS

            if s in BLOCK_SOLVERS:
                out.append(BLOCK_SOLVERS[s])
        elif task == "logistic":
            out.extend(v for k, v in LOGISTIC_SOLVERS.items() if s in (k, v.family))
        elif s in SOLVERS:
            out.append(SOLVERS[s])
    return list(dict.fromkeys(out))


def solver_names() -> list[str]:
    """Every name accepted as a solver: the regression solvers, the logistic ones and their
    families, the glmpath ones."""
    from .blocks import BLOCK_SOLVERS
    from .glm import GLM_SOLVERS

    names = [*SOLVERS, *LOGISTIC_SOLVERS, *GLMPATH_SOLVERS, *GLM_SOLVERS, *BLOCK_SOLVERS]
    names += [s.family for s in LOGISTIC_SOLVERS.values() if s.family]
    return list(dict.fromkeys(names))


def available_solvers() -> list[str]:
    """Names of the solvers that can run here."""
    return [name for name, s in SOLVERS.items() if s.availability() is None]

