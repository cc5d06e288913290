"""Multi-task and group lasso problems of ``fastl1 bench`` (task ``"blocks"``): data,
objectives, solver adapters and their protocol.

Problems (:data:`BLOCK_SPECS`; the group ``groups`` holds all four), dense Gaussian data,
centred, no intercept for any solver (the data of :mod:`fastl1.bench.groups`):

* multi-task lasso, 100 samples x 20000 features x 10 tasks, 20 active features: one fit at
  ``alpha_max / 10`` (``multitask-fit``) and 100 alphas from ``alpha_max`` to ``alpha_max /
  100`` (``multitask-path``); objective ``1/(2n) ||Y - X W^T||_F^2 + alpha sum_j ||W_j||_2``;
* group lasso, 500 x 20000 in 2000 groups of 10, 20 active groups, weights ``sqrt(10)``:
  ``grouplasso-fit`` and ``grouplasso-path`` likewise; objective ``1/(2n) ||y - X w||^2 +
  alpha sum_g sqrt(10) ||w_g||_2``.

Objectives are computed here in float64 from each solver's coefficients. Peers and their
conventions (each checked against fastl1's certified solutions, ``tests/bench``):

* scikit-learn (multi-task): ``MultiTaskLasso`` and ``lasso_path`` with a 2-D target;
* celer: ``MultiTaskLasso`` and ``mtl_path``; ``celer_path(..., "grouplasso")``;
* skglm: ``MultiTaskLasso`` and ``GroupLasso`` with ``warm_start=True`` along the grid (it
  has no path function for these penalties);
* adelie (``grpnet``): the group lasso with ``groups`` (the groups' first features) and its
  default penalty factors ``sqrt(size)``, ``lambda = alpha``; the multi-task lasso as its
  ``multigaussian`` family, whose loss is divided by the number of tasks ``K`` too: penalty
  factors 1 and ``lambda = alpha / K``; ``intercept=False``, ``early_exit=False``;
* R's glmnet (multi-task) through ``Rscript``: ``family="mgaussian"``, ``alpha=1``,
  ``standardize=FALSE``, ``intercept=FALSE``, ``lambda = alpha``; timed inside R.

Protocol: that of the Cox and Poisson problems (:func:`fastl1.bench.glm.run_glm_problem`):
every solver is calibrated from its package's default tolerance by decades until a ten times
tighter one lowers no alpha's objective by more than ``target`` relative, then timed
(``repeats`` fits round robin, median); ``rel_error`` is the worst relative excess over the
best objective any fit reached, and fastl1's row gets ``ratio_best_peer``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from .glm import run_glm_problem
from .groups import group_problem, multitask_problem
from .peers import Solver, Timed, _r_glmnet_probe

__all__ = ["BLOCK_SOLVERS", "BLOCK_SPECS", "make_block_problem", "run_block_problem"]

_MAX_ITER = 1_000_000


@dataclasses.dataclass(frozen=True)
class BlockSpec:
    kind: str  # "multitask" or "group"
    task: str  # "fit" (alpha_max / 10) or "path" (100 alphas down to alpha_max / 100)


BLOCK_SPECS: dict[str, BlockSpec] = {
    "multitask-fit": BlockSpec("multitask", "fit"),
    "multitask-path": BlockSpec("multitask", "path"),
    "grouplasso-fit": BlockSpec("group", "fit"),
    "grouplasso-path": BlockSpec("group", "path"),
}


@functools.lru_cache(maxsize=2)
def _block_data(kind: str) -> tuple:
    """``(X, Y (n, T) or y (n,), group size, weights, alpha_max)``."""
    if kind == "multitask":
        X, Y, top = multitask_problem()
        return X, Y, 1, np.ones(X.shape[1]), top
    X, y, weights, top = group_problem()
    return X, y, X.shape[1] // weights.shape[0], weights, top


def _scaled(X, y, size: int, scale: float):
    """The first rows and columns (whole groups) of the data, for a smaller problem."""
    n = max(30, int(round(X.shape[0] * scale)))
    p = max(4 * size, int(round(X.shape[1] * scale)) // size * size)
    X = np.asfortranarray(X[:n, :p])
    X = X - X.mean(axis=0)
    y = y[:n] - y[:n].mean(axis=0)
    return np.asfortranarray(X), y


@dataclasses.dataclass
class BlockProblem:
    """A multi-task or group lasso bench problem; ``loss`` is ``"multitask"`` or
    ``"group"`` (the name :class:`~fastl1.bench.peers.Solver` skips a solver by)."""

    name: str
    X: np.ndarray
    y: np.ndarray
    loss: str
    group_size: int
    weights: np.ndarray
    grid: np.ndarray
    description: str
    task: str = "blocks"
    cache: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    @property
    def n_tasks(self) -> int:
        return self.y.shape[1] if self.y.ndim == 2 else 1

    def objective(self, coef: np.ndarray, alpha: float) -> float:
        """The objective at ``coef`` ((T, p) multi-task, (p,) group lasso), in float64."""
        W = np.asarray(coef, dtype=np.float64).reshape(self.n_tasks, -1)
        R = self.y.reshape(self.shape[0], -1) - self.X @ W.T
        norms = np.linalg.norm(W.reshape(self.n_tasks, -1, self.group_size), axis=(0, 2))
        return float(0.5 * np.sum(R * R) / self.shape[0] + alpha * self.weights @ norms)

    def objectives(self, coefs, intercepts=None) -> np.ndarray:
        """The objective at every alpha of the grid; ``coefs`` (p, k) or (T, p, k), NaN
        columns for alphas a solver did not reach."""
        coefs = np.asarray(coefs, dtype=np.float64)
        return np.array([self.objective(coefs[..., j], alpha) if np.all(np.isfinite(
            coefs[..., j])) else np.nan for j, alpha in enumerate(self.grid)])


def make_block_problem(name: str, scale: float = 1.0) -> BlockProblem:
    """The problem ``name`` of :data:`BLOCK_SPECS` (``scale`` < 1 keeps the first rows and
    columns of its data, for quick runs and tests)."""
    spec = BLOCK_SPECS[name]
    X, y, size, weights, top = _block_data(spec.kind)
    if scale != 1.0:
        X, y = _scaled(X, y, size, float(scale))
        weights = weights[:X.shape[1] // size]
        corr = np.linalg.norm((X.T @ y.reshape(X.shape[0], -1)).reshape(
            X.shape[1] // size, -1), axis=1)
        top = float(np.max(corr / weights)) / X.shape[0]
    grid = np.geomspace(top, top / 100, 100) if spec.task == "path" else np.array([top / 10])
    n, p = X.shape
    what = (f"multi-task lasso, {n} x {p} x {y.shape[1]} tasks" if spec.kind == "multitask"
            else f"group lasso, {n} x {p} in {p // size} groups of {size} (weights "
                 f"sqrt({size}))")
    span = (f"100 alphas from alpha_max = {top:.4g} down to alpha_max/100" if
            spec.task == "path" else f"one fit at alpha_max/10 = {grid[0]:.4g}")
    return BlockProblem(name, X, y, spec.kind, size, weights, grid,
                        f"{what}, dense Gaussian, centred, no intercept, {span}")


def _small(problem: BlockProblem) -> BlockProblem:
    """A slice of the problem (at most 60 rows and 40 columns, three alphas) whose fit
    compiles or loads what the full fits run (the warm-up of JIT-compiled solvers)."""
    size = problem.group_size
    X = np.asfortranarray(problem.X[:60, :max(40 // size, 2) * size])
    y = problem.y[:60]
    weights = problem.weights[:X.shape[1] // size]
    corr = np.linalg.norm((X.T @ y.reshape(X.shape[0], -1)).reshape(X.shape[1] // size, -1),
                          axis=1)
    top = float(np.max(corr / weights)) / X.shape[0]
    grid = np.geomspace(top, top / 10, 3) if problem.grid.shape[0] > 1 else \
        np.array([top / 3])
    return BlockProblem(problem.name, X, y, problem.loss, size, weights, grid, "warm-up")


# ---------------------------------------------------------------------------------------
# Adapters: fit(problem, tol) -> (coefs (p, k) or (T, p, k), intercepts (k,)), grid order.

def _stacked(coefs: list, problem: BlockProblem):
    return np.stack(coefs, axis=-1), np.zeros(problem.grid.shape[0])


def _blocks_fastl1(problem: BlockProblem, tol: float):
    import fastl1

    X, y, grid = problem.X, problem.y, problem.grid
    options = dict(tol=tol, max_iter=_MAX_ITER, fit_intercept=False)
    groups = None if problem.loss == "multitask" else problem.group_size
    if grid.shape[0] == 1:
        model = (fastl1.MultiTaskLasso(alpha=float(grid[0]), **options) if groups is None
                 else fastl1.GroupLasso(groups=groups, alpha=float(grid[0]), **options))
        return _stacked([model.fit(X, y).coef_], problem)
    # the multi-task lasso is the group lasso of singletons on a 2-D target
    _, coefs, _ = fastl1.group_lasso_path(X, y, groups=groups, alphas=grid, **options)
    return coefs, np.zeros(grid.shape[0])


def _blocks_sklearn(problem: BlockProblem, tol: float):
    from sklearn.linear_model import MultiTaskLasso, lasso_path

    X, y, grid = problem.X, problem.y, problem.grid
    if grid.shape[0] == 1:
        model = MultiTaskLasso(alpha=float(grid[0]), tol=tol, fit_intercept=False,
                               max_iter=_MAX_ITER)
        return _stacked([model.fit(X, y).coef_], problem)
    _, coefs, _ = lasso_path(X, y, alphas=grid, tol=tol, max_iter=_MAX_ITER)
    return coefs, np.zeros(grid.shape[0])


def _blocks_skglm(problem: BlockProblem, tol: float):
    import skglm

    X, y, grid = problem.X, problem.y, problem.grid
    if problem.loss == "multitask":
        model = skglm.MultiTaskLasso(alpha=float(grid[0]), tol=tol, fit_intercept=False,
                                     warm_start=True)
    else:
        model = skglm.GroupLasso(groups=problem.group_size, alpha=float(grid[0]),
                                 weights=problem.weights, tol=tol, fit_intercept=False,
                                 warm_start=True)
    out = []
    for alpha in grid:  # warm-started along the grid
        model.alpha = float(alpha)
        out.append(np.asarray(model.fit(X, y).coef_, dtype=np.float64).copy())
    return _stacked(out, problem)


def _blocks_celer(problem: BlockProblem, tol: float):
    from celer.homotopy import celer_path, mtl_path

    X, y, grid = problem.X, problem.y, problem.grid
    if problem.loss == "multitask":
        _, coefs, _ = mtl_path(X, y, alphas=grid, tol=tol)  # (T, p, k)
        return coefs, np.zeros(grid.shape[0])
    _, coefs, _ = celer_path(X, y, "grouplasso", alphas=grid, groups=problem.group_size,
                             weights=problem.weights, tol=tol)
    return coefs, np.zeros(grid.shape[0])


def _blocks_adelie(problem: BlockProblem, tol: float):
    import adelie as ad

    X, y, grid = problem.X, problem.y, problem.grid
    options = dict(alpha=1.0, intercept=False, early_exit=False, progress_bar=False, tol=tol,
                   max_iters=_MAX_ITER)
    if problem.loss == "multitask":
        K = problem.n_tasks
        state = ad.grpnet(X=X, glm=ad.glm.multigaussian(y=np.asarray(y, dtype=np.float64)),
                          penalty=np.ones(problem.shape[1]), lmda_path=grid / K, **options)
        betas = np.asarray(state.betas.todense())  # (k, p * K), feature-major
        coefs = betas.reshape(-1, problem.shape[1], K).transpose(2, 1, 0)
    else:
        groups = np.arange(0, problem.shape[1], problem.group_size)
        state = ad.grpnet(X=X, glm=ad.glm.gaussian(y=np.asarray(y, dtype=np.float64)),
                          groups=groups, lmda_path=grid, **options)
        coefs = np.asarray(state.betas.todense()).T
    if coefs.shape[-1] != grid.shape[0]:
        raise RuntimeError(f"adelie fitted {coefs.shape[-1]} of {grid.shape[0]} alphas")
    return coefs, np.zeros(grid.shape[0])


_R_MGAUSSIAN_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]; thresh <- as.numeric(args[2]); out <- args[3]
suppressPackageStartupMessages(library(glmnet))
rd <- function(name) {
  f <- file.path(d, name); con <- file(f, "rb"); on.exit(close(con))
  readBin(con, "double", n = file.info(f)$size / 8, size = 8)
}
dims <- rd("dims.bin"); n <- as.integer(dims[1]); p <- as.integer(dims[2])
K <- as.integer(dims[3])
X <- matrix(rd("X.bin"), n, p); Y <- matrix(rd("Y.bin"), n, K); lambda <- rd("lambda.bin")
glmnet.control(fdev = 0, devmax = 1)
messages <- character(0)
keep <- function(w) {
  messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning")
}
withCallingHandlers({
  start <- proc.time()[["elapsed"]]
  fit <- glmnet(X, Y, family = "mgaussian", alpha = 1, lambda = lambda,
                standardize = FALSE, intercept = FALSE, thresh = thresh, maxit = 1e7)
  seconds <- proc.time()[["elapsed"]] - start
}, warning = keep)
con <- file(out, "wb")
writeBin(c(seconds, length(fit$lambda)), con, size = 8)
writeBin(as.double(fit$lambda), con, size = 8)
for (beta in fit$beta) writeBin(as.double(as.matrix(beta)), con, size = 8)
close(con)
writeLines(messages, paste0(out, ".warnings"))
"""


def _r_folder(problem: BlockProblem) -> str:
    """The problem's data in binary files for R, written once per problem."""
    if "r_data" not in problem.cache:
        folder = tempfile.TemporaryDirectory(prefix="fastl1-bench-blocks-r-")
        d = folder.name
        n, p = problem.shape
        Y = np.asarray(problem.y, dtype=np.float64).reshape(n, -1)
        np.array([n, p, Y.shape[1]], dtype=np.float64).tofile(os.path.join(d, "dims.bin"))
        np.asarray(problem.X, dtype=np.float64).ravel(order="F").tofile(
            os.path.join(d, "X.bin"))
        Y.ravel(order="F").tofile(os.path.join(d, "Y.bin"))
        problem.grid.astype(np.float64).tofile(os.path.join(d, "lambda.bin"))
        with open(os.path.join(d, "fit.R"), "w", encoding="utf-8") as f:
            f.write(_R_MGAUSSIAN_SCRIPT)
        problem.cache["r_data"] = folder
    return problem.cache["r_data"].name


def _blocks_r_glmnet(problem: BlockProblem, tol: float) -> Timed:
    from sklearn.exceptions import ConvergenceWarning

    d = _r_folder(problem)
    out = os.path.join(d, "result.bin")
    done = subprocess.run(
        [shutil.which("Rscript") or "Rscript", "--vanilla", os.path.join(d, "fit.R"), d,
         repr(float(tol)), out], capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed: {done.stderr.strip()[-300:]}")
    raw = np.fromfile(out, dtype=np.float64)
    seconds, k = raw[0], int(raw[1])
    lambdas = raw[2:2 + k]
    n, p = problem.shape
    coefs = raw[2 + k:].reshape((problem.n_tasks, k, p)).transpose(0, 2, 1)
    with open(out + ".warnings", encoding="utf-8") as f:
        for message in filter(None, (line.strip() for line in f)):
            category = ConvergenceWarning if "onverge" in message else UserWarning
            warnings.warn(f"R glmnet: {message}", category, stacklevel=2)
    if k != problem.grid.shape[0] or not np.allclose(lambdas, problem.grid, rtol=1e-12):
        raise RuntimeError(f"glmnet returned {k} lambdas, not the {problem.grid.shape[0]} "
                           "given")
    return Timed((coefs, np.zeros(k)), float(seconds))


_MATCHED = ("; calibrated from its default by decades until a ten times tighter tol lowers "
            "no alpha's objective by more than the target")

#: Solvers of the multi-task and group lasso problems (``unsupported_tasks`` names the
#: problem kind they skip).
BLOCK_SOLVERS: dict[str, Solver] = {
    "fastl1": Solver("fastl1", "fastl1", _blocks_fastl1,
                     "duality gap <= tol * ||Y||_F^2 / n (scikit-learn's rule)" + _MATCHED,
                     calibrate=True, default_tol=1e-4),
    "sklearn": Solver("sklearn", "sklearn", _blocks_sklearn,
                      "duality gap <= tol * ||Y||_F^2 / n" + _MATCHED, calibrate=True,
                      default_tol=1e-4,
                      unsupported_tasks=(("group", "no group lasso"),)),
    "celer": Solver("celer", "celer", _blocks_celer,
                    "duality gap (extrapolated dual point)" + _MATCHED, calibrate=True,
                    default_tol=1e-4),
    "skglm": Solver("skglm", "skglm", _blocks_skglm,
                    "KKT violation, warm-started along the grid" + _MATCHED, calibrate=True,
                    default_tol=1e-4),
    "adelie": Solver("adelie", "adelie", _blocks_adelie,
                     "grpnet tol (coordinate descent)" + _MATCHED, calibrate=True,
                     default_tol=1e-7),
    "glmnet-R": Solver("glmnet-R", "glmnet (R)", _blocks_r_glmnet,
                       "R glmnet thresh (coefficient change relative to the null deviance), "
                       "timed inside R" + _MATCHED, calibrate=True, default_tol=1e-7,
                       probe=_r_glmnet_probe,
                       unsupported_tasks=(("group", "no group lasso (mgaussian only)"),)),
}


def run_block_problem(problem: BlockProblem, solvers: Sequence[Solver], repeats: int,
                      target: float, time_limit: float, say: Callable[[str], None]
                      ) -> list[dict]:
    """Warm up, calibrate, time and evaluate every solver on one multi-task or group lasso
    problem; one row per solver (the protocol of :func:`fastl1.bench.glm.run_glm_problem`)."""
    return run_glm_problem(problem, solvers, repeats, target, time_limit, say,
                           task="blocks", shrink=_small)
