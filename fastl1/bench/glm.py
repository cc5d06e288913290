"""Cox and Poisson problems of ``fastl1 bench`` (task ``"glm"``): data, reference objectives,
solver adapters and their protocol.

Problems (:data:`GLM_SPECS`): a 100-alpha path (from ``alpha_max``, where every coefficient
is zero, down to glmnet's ``lambda.min.ratio``: 0.01 with more features than samples, else
1e-4) or one fit at the path's 31st alpha, for

* Cox regression (Breslow ties, no intercept): a simulated 500 x 20000 survival problem
  (standard normal X, 10 non-zero coefficients, Weibull event times of shape 1.5, 30 % of
  the samples censored at a uniform time before their event; seed 5) and scikit-survival's
  ``load_breast_cancer`` (198 x 82 after one-hot encoding its two categorical columns; the
  problems are skipped without scikit-survival);
* Poisson regression (log link, unpenalised intercept): 5000 x 20000 sparse CSC counts
  (density 0.01, N(0, 1) entries, 20 non-zero coefficients; seed 6) and a tall dense
  100000 x 200 design (standard normal, 20 non-zeros; seed 7).

Objectives, computed here in float64 from each solver's coefficients (never from a solver's
own report): Cox ``-1/n log PL(X w) + alpha ||w||_1`` with Breslow's ties (the
:func:`cox_objective`), Poisson ``1/(2n) deviance(y, exp(X w + b)) + alpha ||w||_1``
(:func:`poisson_objective`; the negative log-likelihood up to a constant, so that relative
errors are against a positive scale).

Protocol (:func:`run_glm_problem`): every solver is calibrated to the same accuracy. Starting
from its package's default tolerance, a fit at ``tol`` is accepted when the fit at
``tol / 10`` does not lower the objective at any alpha by more than ``target`` relative to
the best objective known there (any solver's fits count); otherwise the tolerance is divided
by ten and the test repeated. Each solver first fits a small slice of the problem (its JIT
compile or cache load, reported as ``first_fit``). The accepted tolerance is then timed
(``repeats`` fits, round robin over the solvers, median reported; a solver whose fit took
longer than the time limit is not calibrated further nor fitted again: that fit is its
time), and each row reports the worst relative objective
error over the grid against the best objective any fit of any solver reached at that alpha
(``rel_error``; ``within_target`` when it is at most ``target``). fastl1's rows get
``ratio_best_peer``: fastl1's median over the fastest peer's that is within the target.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from .peers import Solver, Timed, _r_glmnet_probe

__all__ = ["GLM_SOLVERS", "GLM_SPECS", "cox_alpha_max", "cox_objective", "make_glm_problem",
           "poisson_alpha_max", "poisson_objective", "run_glm_problem"]

_CALIBRATION_STEPS = 8  # decades below the package's default tolerance
_FIT_INDEX = 30  # single fits: at the path's 31st alpha
# skglm's path is a loop over the alphas here: it stops (the other alphas unfitted) once it
# has run this long, as its Cox fits on unscaled columns can take minutes each.
_PATH_BUDGET = 120.0
_GLUM_MAX_FEATURES = 5000


@dataclasses.dataclass(frozen=True)
class GLMSpec:
    data: str  # "survival", "breast_cancer", "counts-sparse", "counts-tall"
    loss: str  # "cox" or "poisson"
    kind: str  # "path" (100 alphas) or "fit" (the path's 31st alpha)


GLM_SPECS: dict[str, GLMSpec] = {
    "cox-path-simulated": GLMSpec("survival", "cox", "path"),
    "cox-fit-simulated": GLMSpec("survival", "cox", "fit"),
    "cox-path-breast-cancer": GLMSpec("breast_cancer", "cox", "path"),
    "cox-fit-breast-cancer": GLMSpec("breast_cancer", "cox", "fit"),
    "poisson-path-sparse": GLMSpec("counts-sparse", "poisson", "path"),
    "poisson-fit-sparse": GLMSpec("counts-sparse", "poisson", "fit"),
    "poisson-path-tall": GLMSpec("counts-tall", "poisson", "path"),
    "poisson-fit-tall": GLMSpec("counts-tall", "poisson", "fit"),
}

_SHAPES = {"survival": (500, 20_000, 5, 10), "counts-sparse": (5000, 20_000, 6, 20),
           "counts-tall": (100_000, 200, 7, 20)}
_DESCRIPTIONS = {
    "survival": "simulated survival {n} x {p} (N(0,1) X, {k} non-zeros, Weibull times, "
                "30 % censored)",
    "breast_cancer": "scikit-survival's breast_cancer {n} x {p} (categoricals one-hot)",
    "counts-sparse": "sparse counts {n} x {p} CSC, density 0.01, {k} non-zeros",
    "counts-tall": "tall dense counts {n} x {p}, {k} non-zeros",
}


def _scaled(value: int, scale: float, minimum: int) -> int:
    return max(minimum, int(round(value * scale)))


@functools.lru_cache(maxsize=2)
def _glm_data(kind: str, scale: float) -> tuple[object, np.ndarray, str]:
    """(X, y, description): y is ``(n, 2)`` columns time, event for survival data, else
    counts."""
    from .problems import MissingDataError

    if kind == "breast_cancer":
        try:
            from sksurv.column import encode_categorical
            from sksurv.datasets import load_breast_cancer
        except ImportError:
            raise MissingDataError("needs scikit-survival (its load_breast_cancer)") from None
        frame, target = load_breast_cancer()
        X = np.asfortranarray(encode_categorical(frame).to_numpy(dtype=np.float64))
        names = target.dtype.names
        y = np.column_stack([target[names[1]], target[names[0]]]).astype(np.float64)
        n, p = X.shape
        return X, y, _DESCRIPTIONS[kind].format(n=n, p=p)
    n, p, seed, k = _SHAPES[kind]
    n, p = _scaled(n, scale, 60), _scaled(p, scale, 20)
    k = min(k, p)
    rng = np.random.default_rng(seed)
    support = rng.choice(p, size=k, replace=False)
    if kind == "survival":
        X = np.asfortranarray(rng.standard_normal((n, p)))
        coef = np.zeros(p)
        coef[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 1.0, k)
        event_time = rng.weibull(1.5, n) * np.exp(-(X @ coef) / 1.5)
        censored = rng.random(n) < 0.3
        time_ = np.where(censored, rng.uniform(0.0, event_time), event_time)
        y = np.column_stack([time_, (~censored).astype(np.float64)])
    else:
        if kind == "counts-sparse":
            X = sp.csc_matrix(sp.random_array((n, p), density=0.01, format="csc", rng=rng,
                                              data_sampler=rng.standard_normal))
            size = 0.5
        else:
            X = np.asfortranarray(rng.standard_normal((n, p)))
            size = 0.15
        coef = np.zeros(p)
        coef[support] = rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 1.0, k) * size
        y = rng.poisson(np.exp(np.asarray(X @ coef).ravel() + 0.5)).astype(np.float64)
    return X, y, _DESCRIPTIONS[kind].format(n=n, p=p, k=k)


def _breslow_terms(time_: np.ndarray, event: np.ndarray):
    """Samples sorted by decreasing time, and for each distinct event time its number of
    events and the position where its risk set (times >= t) ends in that order."""
    order = np.argsort(-time_, kind="stable")
    t = time_[order]
    distinct, first = np.unique(-t, return_index=True)  # groups in decreasing time
    last = np.append(first[1:], t.shape[0])  # risk set of group g: positions < last[g]
    deaths = np.add.reduceat(event[order], first)
    keep = deaths > 0
    return order, last[keep], deaths[keep]


def cox_objective(X, y: np.ndarray, coef, alpha: float) -> float:
    """``-1/n log PL(X w) + alpha ||w||_1``, Breslow's ties, in float64:
    ``log PL = sum_i d_i eta_i - sum_k D_k log sum_{t_j >= t_k} exp(eta_j)``."""
    time_, event = y[:, 0], y[:, 1]
    coef = np.asarray(coef, dtype=np.float64).ravel()
    eta = np.asarray(X @ coef, dtype=np.float64).ravel()
    order, ends, deaths = _breslow_terms(time_, event)
    # position q: log of the sum over the q + 1 longest times, without over- or underflow
    # (NaN coefficients: an alpha a path did not reach, NaN objective)
    with np.errstate(invalid="ignore"):
        log_risk = np.logaddexp.accumulate(eta[order])
    loglik = float(event @ eta - deaths @ log_risk[ends - 1])
    return -loglik / eta.shape[0] + alpha * float(np.abs(coef).sum())


def cox_alpha_max(X, y: np.ndarray) -> float:
    """``||X^T grad||_inf / n`` at ``w = 0``: the smallest alpha with an all-zero solution."""
    time_, event = y[:, 0], y[:, 1]
    order, ends, deaths = _breslow_terms(time_, event)
    n = time_.shape[0]
    # sample at sorted position q is at risk at every event time k with ends[k] > q
    share = np.zeros(n)
    np.add.at(share, ends - 1, deaths / ends)  # D_k / |R_k|, accumulated to the longer times
    at_risk = np.cumsum(share[::-1])[::-1]
    gradient = np.empty(n)
    gradient[order] = at_risk - event[order]
    return float(np.max(np.abs(X.T @ gradient))) / n


def poisson_objective(X, y: np.ndarray, coef, intercept: float, alpha: float) -> float:
    """``1/(2n) deviance + alpha ||w||_1``: ``1/n sum(y log(y / mu) - (y - mu))``,
    ``mu = exp(X w + b)``, in float64."""
    coef = np.asarray(coef, dtype=np.float64).ravel()
    eta = np.asarray(X @ coef, dtype=np.float64).ravel() + float(intercept)
    mu = np.exp(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        y_log_y = np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0)
    deviance = float(np.sum(y_log_y - y * eta - (y - mu)))
    return deviance / y.shape[0] + alpha * float(np.abs(coef).sum())


def poisson_alpha_max(X, y: np.ndarray) -> float:
    """With an intercept the null model's mean is ``mean(y)``: ``||X^T (y - mean y)||_inf /
    n``."""
    return float(np.max(np.abs(X.T @ (y - y.mean())))) / y.shape[0]


@dataclasses.dataclass
class GLMProblem:
    """A Cox or Poisson bench problem: the grid (one alpha for a single fit)."""

    name: str
    X: object
    y: np.ndarray
    loss: str
    grid: np.ndarray
    description: str
    task: str = "glm"
    cache: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    @property
    def fit_intercept(self) -> bool:
        return self.loss == "poisson"

    def objectives(self, coefs, intercepts) -> np.ndarray:
        """The reference objective at every alpha of the grid."""
        coefs = sp.csc_array(coefs) if sp.issparse(coefs) else np.asarray(coefs)
        out = np.empty(self.grid.shape[0])
        for j, alpha in enumerate(self.grid):
            column = coefs[:, [j]].toarray().ravel() if sp.issparse(coefs) else coefs[:, j]
            out[j] = (cox_objective(self.X, self.y, column, alpha) if self.loss == "cox" else
                      poisson_objective(self.X, self.y, column, intercepts[j], alpha))
        return out


def make_glm_problem(name: str, scale: float = 1.0) -> GLMProblem:
    """The problem ``name`` of :data:`GLM_SPECS` (``scale`` shrinks the simulated ones)."""
    spec = GLM_SPECS[name]
    X, y, what = _glm_data(spec.data, float(scale))
    n, p = X.shape
    top = cox_alpha_max(X, y) if spec.loss == "cox" else poisson_alpha_max(X, y)
    eps = 1e-2 if n < p else 1e-4
    path = np.geomspace(top, top * eps, 100)
    grid = path if spec.kind == "path" else path[[_FIT_INDEX]]
    model = ("L1 Cox regression (Breslow ties)" if spec.loss == "cox" else
             "L1 Poisson regression (log link, intercept)")
    span = (f"100 alphas from alpha_max = {top:.4g} down to {eps:g} alpha_max" if
            spec.kind == "path" else f"one fit at alpha = {grid[0]:.4g} (the path's 31st)")
    return GLMProblem(name, X, y, spec.loss, grid, f"{model}, {what}, {span}")


# ---------------------------------------------------------------------------------------
# Adapters: fit(problem, tol) -> (coefs (p, k), intercepts (k,)) in grid order, or Timed.

def _glm_fastl1(problem: GLMProblem, tol: float):
    import fastl1

    X, y, grid = problem.X, problem.y, problem.grid
    options = dict(tol=tol, max_iter=1_000_000)
    if problem.loss == "cox":
        if grid.shape[0] == 1:
            model = fastl1.CoxRegression(alpha=float(grid[0]), **options).fit(X, y)
            return model.coef_[:, None], np.zeros(1)
        _, coefs, _ = fastl1.cox_path(X, y, alphas=grid, **options)
        return coefs, np.zeros(grid.shape[0])
    if grid.shape[0] == 1:
        model = fastl1.PoissonRegression(alpha=float(grid[0]), **options).fit(X, y)
        return model.coef_[:, None], np.array([model.intercept_])
    _, coefs, intercepts, _ = fastl1.poisson_path(X, y, alphas=grid, **options)
    return coefs, intercepts


def _glm_sksurv(problem: GLMProblem, tol: float):
    from sksurv.linear_model import CoxnetSurvivalAnalysis
    from sksurv.util import Surv

    target = Surv.from_arrays(problem.y[:, 1] > 0, problem.y[:, 0])
    model = CoxnetSurvivalAnalysis(alphas=problem.grid, l1_ratio=1.0, tol=tol,
                                   max_iter=1_000_000, normalize=False)
    model.fit(problem.X, target)
    coefs = np.zeros((problem.shape[1], problem.grid.shape[0]))
    k = model.coef_.shape[1]
    coefs[:, :k] = model.coef_  # it may stop early along the path: the rest stays unfitted
    if k < problem.grid.shape[0]:
        coefs[:, k:] = np.nan
        warnings.warn(f"scikit-survival stopped its path after {k} of "
                      f"{problem.grid.shape[0]} alphas", UserWarning, stacklevel=2)
    return coefs, np.zeros(problem.grid.shape[0])


def _glm_skglm(problem: GLMProblem, tol: float):
    from skglm.datafits import Cox, Poisson
    from skglm.penalties import L1
    from skglm.solvers import ProxNewton

    X, grid = problem.X, problem.grid
    intercept = problem.fit_intercept
    datafit = Cox() if problem.loss == "cox" else Poisson()
    y = np.asfortranarray(problem.y) if problem.loss == "cox" else problem.y
    solver = ProxNewton(tol=tol, max_iter=1000, max_pn_iter=10_000,
                        fit_intercept=intercept, warm_start=True)
    p = problem.shape[1]
    coefs = np.zeros((p, grid.shape[0]))
    intercepts = np.zeros(grid.shape[0])
    w = np.zeros(p + intercept)
    start = time.perf_counter()
    for j, alpha in enumerate(grid):  # warm-started along the grid
        if time.perf_counter() - start > _PATH_BUDGET:
            coefs[:, j:] = np.nan
            warnings.warn(f"skglm stopped its path after {j} of {grid.shape[0]} alphas: "
                          f"{_PATH_BUDGET:g} s budget", UserWarning, stacklevel=2)
            break
        # skglm takes X w (+ intercept) of the start as given: zeros unless passed
        start_xw = np.asarray(X @ w[:p], dtype=np.float64).ravel() + (w[p] if intercept
                                                                       else 0.0)
        w = solver.solve(X, y, datafit, L1(float(alpha)), w_init=w.copy(),
                         Xw_init=start_xw)[0]
        coefs[:, j] = w[:p]
        intercepts[j] = w[p] if intercept else 0.0
    return coefs, intercepts


def _glm_glum(problem: GLMProblem, tol: float):
    if problem.shape[1] > _GLUM_MAX_FEATURES:  # (its fit on 20000 features took 20 GB)
        raise RuntimeError(f"not run: glum's solver forms a dense n_features x n_features "
                           f"Hessian ({problem.shape[1]} features: "
                           f"{8 * problem.shape[1] ** 2 / 1e9:.1f} GB)")
    from glum import GeneralizedLinearRegressor

    grid = problem.grid
    options = dict(family="poisson", l1_ratio=1.0, fit_intercept=True, gradient_tol=tol,
                   max_iter=10_000)
    if grid.shape[0] == 1:
        model = GeneralizedLinearRegressor(alpha=float(grid[0]), **options)
        model.fit(problem.X, problem.y)
        return np.asarray(model.coef_)[:, None], np.array([model.intercept_])
    model = GeneralizedLinearRegressor(alpha_search=True, alphas=grid, **options)
    model.fit(problem.X, problem.y)
    return np.asarray(model.coef_path_).T, np.asarray(model.intercept_path_)


_R_GLM_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
d <- args[1]; family <- args[2]; thresh <- as.numeric(args[3]); out <- args[4]
suppressPackageStartupMessages({library(glmnet); library(survival)})
rd <- function(name) {
  f <- file.path(d, name); con <- file(f, "rb"); on.exit(close(con))
  readBin(con, "double", n = file.info(f)$size / 8, size = 8)
}
dims <- rd("dims.bin"); n <- as.integer(dims[1]); p <- as.integer(dims[2])
if (dims[3] > 0) {
  X <- Matrix::sparseMatrix(i = as.integer(rd("Xi.bin")), p = as.integer(rd("Xp.bin")),
                            x = rd("Xx.bin"), dims = c(n, p), index1 = FALSE)
} else {
  X <- matrix(rd("X.bin"), n, p)
}
y <- rd("y.bin"); lambda <- rd("lambda.bin")
if (family == "cox") y <- Surv(y[1:n], y[(n + 1):(2 * n)])
glmnet.control(fdev = 0, devmax = 1)
messages <- character(0)
keep <- function(w) {
  messages <<- c(messages, conditionMessage(w)); invokeRestart("muffleWarning")
}
withCallingHandlers({
  start <- proc.time()[["elapsed"]]
  fit <- glmnet(X, y, family = family, alpha = 1, lambda = lambda, standardize = FALSE,
                intercept = (family != "cox"), thresh = thresh, maxit = 1e7)
  seconds <- proc.time()[["elapsed"]] - start
}, warning = keep)
beta <- as.matrix(fit$beta)
a0 <- if (family == "cox") rep(0, length(fit$lambda)) else as.double(fit$a0)
con <- file(out, "wb")
writeBin(c(seconds, length(fit$lambda)), con, size = 8)
writeBin(as.double(fit$lambda), con, size = 8)
writeBin(a0, con, size = 8)
writeBin(as.double(beta), con, size = 8)
close(con)
writeLines(messages, paste0(out, ".warnings"))
"""


def _r_folder(problem: GLMProblem) -> str:
    """The problem's data in binary files for R, written once per problem."""
    if "r_data" not in problem.cache:
        folder = tempfile.TemporaryDirectory(prefix="fastl1-bench-glm-r-")
        d = folder.name
        X = problem.X
        if sp.issparse(X):
            X = sp.csc_matrix(X)
            X.sort_indices()
            for name, values in (("Xi", X.indices), ("Xp", X.indptr), ("Xx", X.data)):
                np.asarray(values, dtype=np.float64).tofile(os.path.join(d, f"{name}.bin"))
        else:
            np.asarray(X, dtype=np.float64).ravel(order="F").tofile(os.path.join(d, "X.bin"))
        n, p = problem.shape
        np.array([n, p, float(sp.issparse(X))]).tofile(os.path.join(d, "dims.bin"))
        np.asarray(problem.y, dtype=np.float64).ravel(order="F").tofile(
            os.path.join(d, "y.bin"))
        problem.grid.astype(np.float64).tofile(os.path.join(d, "lambda.bin"))
        with open(os.path.join(d, "fit.R"), "w", encoding="utf-8") as f:
            f.write(_R_GLM_SCRIPT)
        problem.cache["r_data"] = folder
    return problem.cache["r_data"].name


def _glm_r_glmnet(problem: GLMProblem, tol: float) -> Timed:
    from sklearn.exceptions import ConvergenceWarning

    d = _r_folder(problem)
    out = os.path.join(d, "result.bin")
    done = subprocess.run(
        [shutil.which("Rscript") or "Rscript", "--vanilla", os.path.join(d, "fit.R"), d,
         problem.loss, repr(float(tol)), out],
        capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"Rscript failed: {done.stderr.strip()[-300:]}")
    raw = np.fromfile(out, dtype=np.float64)
    seconds, k = raw[0], int(raw[1])
    lambdas, a0 = raw[2:2 + k], raw[2 + k:2 + 2 * k]
    beta = raw[2 + 2 * k:].reshape((problem.shape[1], k), order="F")
    with open(out + ".warnings", encoding="utf-8") as f:
        for message in filter(None, (line.strip() for line in f)):
            category = ConvergenceWarning if "onverge" in message else UserWarning
            warnings.warn(f"R glmnet: {message}", category, stacklevel=2)
    if k != problem.grid.shape[0] or not np.allclose(lambdas, problem.grid, rtol=1e-12):
        raise RuntimeError(f"glmnet returned {k} lambdas, not the {problem.grid.shape[0]} "
                           "given")
    return Timed((beta, a0), float(seconds))


def _sksurv_probe() -> str | None:
    try:
        import sksurv.linear_model  # noqa: F401
    except ImportError:
        return "not installed"
    return None


_MATCHED = ("; calibrated from its default by decades until a ten times tighter tol lowers "
            "no alpha's objective by more than the target")

#: Solvers of the Cox and Poisson problems (``unsupported_tasks`` names the loss they skip).
GLM_SOLVERS: dict[str, Solver] = {
    "fastl1": Solver("fastl1", "fastl1", _glm_fastl1,
                     "largest KKT violation (Cox) / duality gap (Poisson) relative to the "
                     "null model's" + _MATCHED, calibrate=True, default_tol=1e-4),
    "sksurv": Solver("sksurv", "sksurv", _glm_sksurv,
                     "CoxnetSurvivalAnalysis tol (coordinate change)" + _MATCHED,
                     calibrate=True, default_tol=1e-7, probe=_sksurv_probe,
                     unsupported_tasks=(("poisson", "Cox only"),)),
    "skglm": Solver("skglm", "skglm", _glm_skglm,
                    "ProxNewton tol (KKT violation), warm-started along the grid" + _MATCHED,
                    calibrate=True, default_tol=1e-4),
    "glmnet-R": Solver("glmnet-R", "glmnet (R)", _glm_r_glmnet,
                       "R glmnet thresh (weighted coefficient change relative to the null "
                       "deviance), timed inside R" + _MATCHED, calibrate=True,
                       default_tol=1e-7, probe=_r_glmnet_probe),
    "glum": Solver("glum", "glum", _glm_glum,
                   "GeneralizedLinearRegressor gradient_tol (alpha_search path)" + _MATCHED,
                   calibrate=True, default_tol=1e-4,
                   unsupported_tasks=(("cox", "Poisson only (no Cox family)"),)),
}


# ---------------------------------------------------------------------------------------
# Protocol

def _fit(problem: GLMProblem, solver: Solver, tol: float) -> tuple[np.ndarray, float, list]:
    """One fit: the reference objectives at every alpha, the seconds, the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        raw = solver.fit(problem, tol)
        elapsed = time.perf_counter() - start
    if isinstance(raw, Timed):
        raw, elapsed = raw.value, raw.seconds
    coefs, intercepts = raw
    notes = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:100]}"
                    for w in caught if "onvergence" in w.category.__name__
                    or "stopped its path" in str(w.message)})
    return problem.objectives(coefs, np.asarray(intercepts, dtype=np.float64)), elapsed, notes


def _relative(objective: np.ndarray, best: np.ndarray) -> float:
    """Worst relative excess over the alphas the fit reached (a path stopped early leaves
    the others NaN: see :func:`_fitted`)."""
    reached = np.isfinite(objective)
    if not np.any(reached):
        return math.inf
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = (objective[reached] - best[reached]) / np.abs(best[reached])
    return float(np.max(np.where(np.isnan(excess), np.inf, excess)))


def _fitted(objective: np.ndarray) -> int:
    return int(np.count_nonzero(np.isfinite(objective)))


def _small(problem: GLMProblem) -> GLMProblem:
    """A slice of the problem (at most 60 rows and 40 columns, three alphas) whose fit
    compiles or loads what the full fits run (the warm-up of JIT-compiled solvers)."""
    n, p = problem.shape
    X = problem.X[: min(n, 60)][:, : min(p, 40)]
    X = sp.csc_matrix(X) if sp.issparse(X) else np.asfortranarray(X)
    y = problem.y[: min(n, 60)]
    if problem.loss == "cox" and not np.any(y[:, 1] > 0):
        y = y.copy()
        y[0, 1] = 1.0
    top = cox_alpha_max(X, y) if problem.loss == "cox" else poisson_alpha_max(X, y)
    top = top if top > 0 else 1.0
    grid = np.geomspace(top, top / 10, 3) if problem.grid.shape[0] > 1 else np.array([top / 3])
    return GLMProblem(problem.name, X, y, problem.loss, grid, "warm-up")


def _calibrate(problem, solver, row, target, best, time_limit, say):
    """Tighten ``solver``'s tolerance by decades (see the module docstring): ``row`` gets
    the accepted tolerance, and that fit's time and objectives (what is reported when it
    took longer than ``time_limit``: no timed round follows); returns the best objectives
    known after the calibration's fits."""
    tol = solver.default_tol
    current, seconds, notes = _fit(problem, solver, tol)
    say(f"  {problem.name} {solver.name}: tol={tol:.0e} {seconds:.3g} s")
    best = np.fmin(best, current)
    for _ in range(_CALIBRATION_STEPS):
        if seconds > time_limit:
            row["note"] = (f"not calibrated: its fit at tol {tol:.0e} took {seconds:.1f} s > "
                           f"{time_limit:g} s")
            break
        if _fitted(current) < current.shape[0]:  # a tighter tol does not finish the path
            break
        tighter, t_seconds, t_notes = _fit(problem, solver, tol / 10)
        best = np.fmin(best, tighter)
        err = _relative(current, best)
        say(f"  {problem.name} {solver.name}: tol={tol / 10:.0e} {t_seconds:.3g} s; "
            f"tol={tol:.0e} relative error {err:.2g}")
        if err <= target:
            break
        tol, current, seconds, notes = tol / 10, tighter, t_seconds, t_notes
    row.update(tol=tol, times=[seconds], _notes=notes, _objective=current)
    return best


def run_glm_problem(problem: GLMProblem, solvers: Sequence[Solver], repeats: int,
                    target: float, time_limit: float, say: Callable[[str], None], *,
                    task: str = "glm", shrink: Callable | None = None) -> list[dict]:
    """Warm up, calibrate, time and evaluate every solver on one Cox or Poisson problem; one
    row per solver (see the module docstring). Any problem with the same fields and a
    ``shrink`` (its small warm-up copy; default :func:`_small`) runs the same protocol, its
    rows marked ``task``."""
    n, p = problem.shape
    base = dict(problem=problem.name, description=problem.description, task=task,
                loss=problem.loss, n_samples=n, n_features=p, n_alphas=int(problem.grid.size),
                alpha=float(problem.grid[0]), alpha_min=float(problem.grid[-1]),
                format=problem.X.format if sp.issparse(problem.X) else "dense",
                gap_target=target)
    rows, runs = [], []
    best = np.full(problem.grid.shape[0], np.inf)
    small = (shrink or _small)(problem)
    for solver in solvers:
        row = dict(base, solver=solver.name, status="ok", note="",
                   tol_meaning=solver.tol_meaning, tol=None, first_fit=None, times=[],
                   median=None, rel_error=None, within_target=None, objective=None,
                   ratio=None, ratio_best_peer=None, best_peer=None)
        reason = solver.availability(problem.loss)
        if reason is not None:
            row.update(status="skipped", note=reason)
        else:
            try:
                row["first_fit"] = _fit(small, solver, solver.default_tol)[1]
                best = _calibrate(problem, solver, row, target, best, time_limit, say)
                runs.append((solver, row))
            except Exception as exc:  # noqa: BLE001 - a peer failure is a note, not a crash
                row.update(status="failed", note=f"{type(exc).__name__}: {str(exc)[:200]}")
                say(f"  {problem.name} {solver.name}: failed ({row['note']})")
        rows.append(row)
    for r in range(repeats):
        k = r % len(runs) if runs else 0
        for solver, row in runs[k:] + runs[:k]:
            if row["status"] != "ok" or max(row["times"]) > time_limit:
                continue  # one fit past the time limit: its calibration fit is the timing
            if r == 0:  # the calibration's fits: the first at full size may include a JIT
                row["times"] = []
            try:
                objective, seconds, notes = _fit(problem, solver, row["tol"])
            except Exception as exc:  # noqa: BLE001
                row.update(status="failed", note=f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            row["times"].append(seconds)
            row.update(_notes=notes, _objective=objective)
            best = np.fmin(best, objective)
            say(f"  {problem.name} {solver.name}: round {r + 1}/{repeats} {seconds:.3g} s")
    _evaluate(rows, best, target)
    return rows


def _evaluate(rows: list[dict], best: np.ndarray, target: float) -> None:
    """Medians, the worst relative error of each row's last fit against the best objectives
    of all fits, the ratios."""
    for row in rows:
        notes = row.pop("_notes", [])
        objective = row.pop("_objective", None)
        for note in notes:
            row["note"] = "; ".join(filter(None, [row["note"], note]))
        if row["times"]:
            row["median"] = float(np.median(row["times"]))
        if objective is not None and row["status"] == "ok":
            row["objective"] = float(np.nansum(objective))
            row["rel_error"] = _relative(objective, best)
            reached = _fitted(objective)
            row["within_target"] = bool(row["rel_error"] <= target
                                        and reached == objective.shape[0])
            if reached < objective.shape[0]:
                row["note"] = "; ".join(filter(None, [row["note"], f"fitted {reached} of "
                                                      f"{objective.shape[0]} alphas"]))
            if not math.isfinite(row["rel_error"]):
                row["rel_error"] = None
    reference = next((r for r in rows if r["solver"] == "fastl1" and r["median"]), None)
    if reference is None:
        return
    for row in rows:
        if row["median"]:
            row["ratio"] = reference["median"] / row["median"]
    peers = [r for r in rows if r["solver"] != "fastl1" and r["median"] and r["within_target"]]
    if peers:
        fastest = min(peers, key=lambda r: r["median"])
        reference["ratio_best_peer"] = reference["median"] / fastest["median"]
        reference["best_peer"] = fastest["solver"]
