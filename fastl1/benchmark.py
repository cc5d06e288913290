"""Comparison harness: fastl1 against its peers on the same problems, at equal accuracy.

``fastl1 bench`` (see :mod:`fastl1.cli`) is a thin front end to :func:`run` and
:func:`format_table`. The protocol (DESIGN.md section 4):

* every solver sees the same data in one process; the objective is scikit-learn's
  ``1/(2n) ||y - X w||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)`` without an
  intercept;
* per problem, each solver gets one warm-up fit (timed, reported as "first fit": for Numba
  solvers it includes JIT compilation or loading from the cache), then ``repeats`` timed fits,
  round-robin over the solvers (the starting solver rotates each round) so that drift of the
  machine affects every solver alike; the median is reported;
* the harness itself computes, in float64, the objective, the duality gap and the number of
  non-zeros of every solver's coefficients, and the suboptimality against the best objective
  any solver reached, so that a fast inexact answer is visible;
* solvers are compared at equal accuracy: each must reach a suboptimality of at most
  ``tol * ||y||^2 / n``. fastl1, scikit-learn and celer stop on the duality gap with exactly
  this bound (same scaling in all three), so they get ``tol`` as is. skglm's ``tol`` bounds a
  KKT violation and python-glmnet's a change of the objective relative to the null deviance,
  which are not comparable: for those the harness *calibrates* the tolerance during the
  warm-up, starting at ``tol`` and dividing it by sqrt(10) (half a decade) until
  ``objective(w) - D`` is within the
  bound, ``D`` being the best dual value known (from the dual points the harness builds from
  the residuals of this and earlier solvers; any dual value is a lower bound on the minimum).
  The loosest half-decade that passes is used, and reported; calibration also stops
  when a fit warns that it hit its iteration cap (a tighter tol cannot help it).
* after the timed fits, ``certified_suboptimality = objective - max over solvers of the dual
  value`` is checked against the bound for every solver (``gap_ok``). A solver's own
  residual-based duality gap can be looser than its true suboptimality (celer certifies with
  an extrapolated dual point, which the harness does not rebuild), hence the pooled bound.

Four kinds of problem (``task``; groups ``fits``, ``paths``, ``cv``, ``logistic`` of
:data:`PROBLEM_GROUPS`):

* ``fit``: one fit at one alpha, as above.
* ``path``: a regularisation path without intercept over ``n_alphas = 100`` alphas,
  ``np.geomspace(alpha_max, 1e-3 * alpha_max, 100)``. The harness computes the grid once and
  gives the same array to every solver (fastl1 :func:`~fastl1.lasso_path`, scikit-learn
  ``lasso_path``, ``celer.celer_path``, skglm's estimator ``.path``, python-glmnet's
  ``lambda_path``), so all solve the same 100 problems; a "fit" is the whole path. Accuracy is
  judged per alpha exactly as for one fit: the harness computes each alpha's objective and
  dual value from the returned coefficients, pools the best dual value at each alpha over
  all solvers, and reports per solver the *worst* certified suboptimality over the alphas;
  ``gap_ok`` holds only if every alpha is within ``tol * ||y||^2 / n``. The reported
  ``objective`` (and ``dual_objective``) is the sum over the grid, ``duality_gap``,
  ``suboptimality`` and ``rel_suboptimality`` are the worst over the grid and ``nnz`` is at
  the smallest alpha. Calibration (skglm, glmnet) tightens the tolerance of the whole path
  until its worst alpha passes.
* ``cv``: ``LassoCV``-style K-fold cross-validation (``KFold(5)``, no shuffle) with an
  intercept over the 100-alpha grid LassoCV itself would build (alpha_max of the centred
  data, down to 1e-3 alpha_max), passed explicitly to every solver. fastl1 and scikit-learn
  run twice, with ``n_jobs=2`` (rows ``fastl1``, ``sklearn``; ``fastl1`` is the reference of
  the ratio column) and ``n_jobs=1`` (rows ``fastl1-n_jobs=1``, ``sklearn-n_jobs=1``); the
  time includes the final refit at ``alpha_``, as in every LassoCV. Each solver returns
  ``alpha_`` and its CV error curve (``mse_path_``); accuracy is whether ``alpha_`` is the
  grid point scikit-learn chose (``same_alpha``) and the largest relative difference of the
  mean CV error curve against scikit-learn's (``cv_rel_diff``). There is no single objective,
  so no calibration: peers whose ``tol`` is not a gap get ``tol`` as is (noted).
* ``logistic``: one binary L1 logistic regression fit without intercept (labels ``+-1``) at
  ``alpha = alpha_max / 10``, in the averaged scale ``mean_i log(1 + exp(-y_i x_i w)) +
  alpha ||w||_1`` (scikit-learn's objective divided by ``C n``, ``C = 1 / (alpha n)``). The
  solvers are those of :data:`LOGISTIC_SOLVERS`: fastl1's LogisticRegression, scikit-learn's
  liblinear and saga, celer's LogisticRegression, skglm's SparseLogisticRegression. The
  harness builds the dual point from the loss gradient (:func:`logistic_primal_dual`); the
  common bound is ``tol * log 2`` (the objective at ``w = 0``), which is celer's duality-gap
  stop, so celer gets ``tol`` as is and every solver whose ``tol`` is not a gap (fastl1's
  too: a KKT violation) is calibrated as above.

Peers that are not installed, or have no such estimator (skglm has no LassoCV), are skipped
with a note; a failing peer gives a note, not a crash.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import os
import platform
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "LOGISTIC_SOLVERS",
    "PROBLEMS",
    "PROBLEM_GROUPS",
    "SOLVERS",
    "Problem",
    "Solver",
    "alpha_max",
    "available_solvers",
    "duality_gap",
    "environment",
    "expand_problems",
    "format_table",
    "list_problems",
    "logistic_alpha_max",
    "logistic_primal_dual",
    "make_cv_model",
    "make_model",
    "make_path",
    "make_problem",
    "objective",
    "run",
    "solver_names",
]

_RHO = 0.5  # AR(1) correlation of neighbouring columns of the dense problems
_MAX_ITER = 100_000  # epochs for the CD solvers: never the binding stop
_CALIBRATION_FACTOR = 10.0 ** 0.5  # half a decade per calibration step
_CALIBRATION_STEPS = 12  # at most 10^-6 tighter than the starting tolerance
_TIME_LIMIT = 60.0  # seconds per fit before a solver is stopped on a problem
# Pause before each timed fit: after a multi-threaded BLAS call OpenBLAS's idle workers spin
# for about 0.1 s (measured here after a 2000 x 2000 product), so a solver that ends with one
# would take a core from the next solver's first 0.1 s (a 0.5 s LassoCV on two threads).
_SETTLE_SECONDS = 0.2
_CV_JOBS = (2, 1)  # n_jobs of the CV rows of fastl1 and scikit-learn; the first is the main row
TASKS = ("fit", "path", "cv", "logistic")
_SAGA_EPOCHS = 100  # scikit-learn saga: epochs cap (1.5 s per epoch on the sparse problem)


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Spec:
    data: str  # key of the data generator
    alpha_div: float  # alpha = alpha_max / alpha_div ("fit"); the grid starts at alpha_max
    l1_ratio: float = 1.0
    fmt: str = "dense"  # "dense" (Fortran-ordered), "csc" or "csr"
    task: str = "fit"  # "fit" (one alpha), "path" (a grid, no intercept), "cv" (K-fold CV),
    # "logistic" (binary L1 logistic regression at one alpha = 1 / (C n), no intercept)
    n_alphas: int = 100  # grid size ("path", "cv")
    eps: float = 1e-3  # grid end: eps * alpha_max ("path", "cv")
    n_folds: int = 5  # KFold(n_folds), no shuffle ("cv")


# Problems sharing ``data`` share the same (X, y); keep them adjacent so the cache hits.
PROBLEMS: dict[str, _Spec] = {
    "wide-dense-a10": _Spec("wide", 10),
    "wide-dense-a100": _Spec("wide", 100),
    "enet-wide-a10": _Spec("wide", 10, l1_ratio=0.5),
    "leukemia-a10": _Spec("leukemia", 10),
    "leukemia-a100": _Spec("leukemia", 100),
    "tall-dense-a100": _Spec("tall", 100),
    "sparse-csc-a20": _Spec("sparse", 20, fmt="csc"),
    "sparse-csr-a20": _Spec("sparse", 20, fmt="csr"),
    "sparse-csc-a100": _Spec("sparse", 100, fmt="csc"),
    "sparse-csr-a100": _Spec("sparse", 100, fmt="csr"),
    "path-wide-dense": _Spec("wide", 1, task="path"),
    "path-sparse-csc": _Spec("sparse", 1, fmt="csc", task="path"),
    "path-sparse-csr": _Spec("sparse", 1, fmt="csr", task="path"),
    "cv-wide-dense": _Spec("wide", 1, task="cv"),
    "logistic-dense-a10": _Spec("logistic", 10, task="logistic"),
    "logistic-sparse-csr-a10": _Spec("sparse", 10, fmt="csr", task="logistic"),
}

# Names accepted wherever problem names are (``run``, ``fastl1 bench --problems``).
PROBLEM_GROUPS: dict[str, list[str]] = {
    "fits": [name for name, spec in PROBLEMS.items() if spec.task == "fit"],
    "paths": [name for name, spec in PROBLEMS.items() if spec.task == "path"],
    "cv": [name for name, spec in PROBLEMS.items() if spec.task == "cv"],
    "logistic": [name for name, spec in PROBLEMS.items() if spec.task == "logistic"],
    "all": list(PROBLEMS),
}

# (n, p, seed, number of true non-zeros); AR(0.5) dense unless said otherwise.
_SHAPES = {
    "wide": (100, 20_000, 0, 10),
    "leukemia": (72, 7129, 1, 10),
    "tall": (50_000, 500, 2, 50),
    "sparse": (20_000, 100_000, 3, 100),
    "logistic": (500, 20_000, 4, 10),
}
_SPARSE_DENSITY = 1e-3


@dataclasses.dataclass
class Problem:
    """One benchmark problem: data, regularisation and a one-line description.

    ``task`` is ``"fit"`` (one fit at ``alpha``), ``"path"`` (every alpha of ``alphas``,
    largest first; ``alpha = alphas[0]``), ``"cv"`` (``n_folds``-fold cross-validation over
    ``alphas``) or ``"logistic"`` (binary L1 logistic regression, labels ``y = +-1``, at
    ``alpha``: the averaged objective ``mean_i log(1 + exp(-y_i x_i w)) + alpha ||w||_1``,
    i.e. scikit-learn's ``C = 1 / (alpha n)``; see :attr:`C`).
    """

    name: str
    X: np.ndarray | sp.spmatrix
    y: np.ndarray
    alpha: float
    l1_ratio: float = 1.0
    fit_intercept: bool = False
    description: str = ""
    task: str = "fit"
    alphas: np.ndarray | None = None
    n_folds: int = 0
    cache: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    @property
    def grid(self) -> np.ndarray:
        """The alphas solved: ``alphas`` for a path or CV, ``[alpha]`` for one fit."""
        return np.array([self.alpha]) if self.alphas is None else np.asarray(self.alphas)

    @property
    def C(self) -> float:
        """scikit-learn's inverse regularisation ``C = 1 / (alpha n)`` (logistic problems)."""
        return 1.0 / (self.alpha * self.shape[0])

    @property
    def gap_target(self) -> float:
        """The duality-gap bound the gap-based solvers certify at ``tol = 1``:
        ``||y||^2 / n`` (multiply by ``tol``; y centred when there is an intercept); for a
        logistic problem ``log 2``, the averaged objective at ``w = 0`` (celer's scaling)."""
        if self.task == "logistic":
            return math.log(2.0)
        y = self.y - self.y.mean() if self.fit_intercept else self.y
        return float(y @ y) / self.y.shape[0]


def expand_problems(names: Iterable[str | Problem]) -> list[str | Problem]:
    """Problem names with the groups of :data:`PROBLEM_GROUPS` replaced by their members
    (order kept, duplicates dropped); :class:`Problem` objects pass through."""
    out: list[str | Problem] = []
    for name in names:
        if isinstance(name, Problem):
            out.append(name)
            continue
        for member in PROBLEM_GROUPS.get(name, [name]):
            if member not in PROBLEMS:
                raise ValueError(f"unknown problem {member!r}; choose from: "
                                 f"{', '.join([*PROBLEMS, *PROBLEM_GROUPS])}")
            if member not in out:
                out.append(member)
    return out


def _scaled(value: int, scale: float, minimum: int) -> int:
    return max(minimum, int(round(value * scale)))


def _ar_design(n: int, p: int, rng: np.random.Generator, rho: float = _RHO) -> np.ndarray:
    """Dense (n, p) Fortran-ordered design with Toeplitz column correlation rho^|i-j|.

    Column recursion ``x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j`` (each column N(0, 1)),
    vectorised over the rows.
    """
    Z = rng.standard_normal((p, n))  # row j of Z is column j of X: X = Z.T is F-ordered
    c = math.sqrt(1.0 - rho * rho)
    for j in range(1, p):
        Z[j] *= c
        Z[j] += rho * Z[j - 1]
    return Z.T


def _response(X, rng: np.random.Generator, k: int, snr: float = 5.0) -> np.ndarray:
    p = X.shape[1]
    k = min(k, p)
    w = np.zeros(p)
    support = rng.choice(p, size=k, replace=False)
    w[support] = rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.5, 2.0, size=k)
    signal = np.asarray(X @ w).ravel()
    sigma = float(np.linalg.norm(signal)) / math.sqrt(X.shape[0] * snr)
    if sigma == 0.0:
        sigma = 1.0
    return signal + sigma * rng.standard_normal(X.shape[0])


@functools.lru_cache(maxsize=2)
def _data(kind: str, scale: float, data_dir: str | None) -> tuple[object, np.ndarray, str]:
    """(X, y, description) of one data set; X dense F-ordered or CSC."""
    if kind == "leukemia" and data_dir is not None:
        path = Path(data_dir) / "leukemia.npz"
        if path.is_file():
            with np.load(path, allow_pickle=False) as z:
                X = np.asfortranarray(z["X"], dtype=np.float64)
                y = np.asarray(z["y"], dtype=np.float64)
            n, p = X.shape
            return X, y, f"real leukemia (Golub 1999) {n} x {p}, y = +-1"
    n, p, seed, k = _SHAPES[kind]
    rng = np.random.default_rng(seed)
    if kind == "sparse":
        n, p = _scaled(n, scale, 50), _scaled(p, scale, 100)
        # keep a few non-zeros per row when shrunk
        density = min(0.05, _SPARSE_DENSITY / math.sqrt(min(scale, 1.0)))
        X = sp.random_array((n, p), density=density, format="csc", rng=rng,
                            data_sampler=rng.standard_normal)
        X = sp.csc_matrix(X)
        y = _response(X, rng, _scaled(k, scale, 5))
        return X, y, f"sparse {n} x {p}, density {density:g}, N(0,1) entries"
    if kind == "tall":
        n, p = _scaled(n, scale, 200), _scaled(p, scale, 10)
    else:
        n, p = _scaled(n, scale, 20), _scaled(p, scale, 50)
    X = _ar_design(n, p, rng)
    y = _response(X, rng, _scaled(k, scale, 3))
    label = {"wide": "wide", "leukemia": "leukemia-shaped", "tall": "tall",
             "logistic": "wide"}[kind]
    return X, y, f"{label} dense {n} x {p}, AR({_RHO:g}) correlated columns"


def alpha_max(X, y: np.ndarray, l1_ratio: float = 1.0) -> float:
    """Smallest alpha with an all-zero solution (no intercept):
    ``||X^T y||_inf / (n l1_ratio)``. With an intercept, pass the centred ``y``: since
    ``sum(y - mean(y)) = 0``, ``X^T (y - mean(y))`` equals the centred ``Xc^T yc``."""
    return float(np.max(np.abs(X.T @ y))) / (X.shape[0] * l1_ratio)


def logistic_alpha_max(X, y: np.ndarray) -> float:
    """Smallest alpha with an all-zero L1 logistic solution (labels ``+-1``, no intercept):
    the gradient of the mean log-loss at 0 is ``-X^T y / (2n)``; ``C_min = 1 / (alpha_max n)``
    is scikit-learn's ``l1_min_c(X, y, loss="log", fit_intercept=False)``."""
    return float(np.max(np.abs(X.T @ y))) / (2.0 * X.shape[0])


def make_problem(name: str, scale: float = 1.0, data_dir: str | os.PathLike | None = None
                 ) -> Problem:
    """Build the benchmark problem ``name`` (see :data:`PROBLEMS`) with fixed seeds.

    ``scale`` shrinks n and p (``scale=0.01`` gives tiny problems for smoke tests);
    ``data_dir`` is a folder with the real data sets (``leukemia.npz``), used when present.
    """
    if name not in PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; choose from: {', '.join(PROBLEMS)}")
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    spec = PROBLEMS[name]
    X, y, what = _data(spec.data, float(scale), None if data_dir is None else str(data_dir))
    if spec.fmt == "csr":
        X = X.tocsr()
    fmt = {"dense": "Fortran-ordered", "csc": "CSC", "csr": "CSR"}[spec.fmt]
    if spec.task == "logistic":
        # labels: the sign of the linear response (same X as the regression problems)
        y = np.where(y > 0, 1.0, -1.0)
        amax = logistic_alpha_max(X, y)
        alpha = amax / spec.alpha_div
        n = X.shape[0]
        description = (f"binary L1 logistic regression, {what} ({fmt}), labels sign(X w + "
                       f"noise) ({int(np.sum(y > 0))} of {n} positive), no intercept, alpha = "
                       f"alpha_max/{spec.alpha_div:g} = {alpha:.4g} (C = {1 / (alpha * n):.4g})")
        return Problem(name=name, X=X, y=y, alpha=alpha, description=description,
                       task="logistic")
    kind = f"ElasticNet l1_ratio={spec.l1_ratio:g}" if spec.l1_ratio < 1 else "Lasso"
    if spec.task == "fit":
        amax = alpha_max(X, y, spec.l1_ratio)
        alpha = amax / spec.alpha_div
        description = (f"{kind}, {what} ({fmt}), no intercept, "
                       f"alpha = alpha_max/{spec.alpha_div:g} = {alpha:.4g}")
        return Problem(name=name, X=X, y=y, alpha=alpha, l1_ratio=spec.l1_ratio,
                       description=description)
    cv = spec.task == "cv"
    # LassoCV's own grid (with an intercept: alpha_max of the centred data), given explicitly
    amax = alpha_max(X, y - y.mean() if cv else y, spec.l1_ratio)
    grid = np.geomspace(amax, amax * spec.eps, num=spec.n_alphas)
    span = (f"{spec.n_alphas} alphas from alpha_max = {amax:.4g} down to "
            f"{spec.eps:g} alpha_max (geometric)")
    if cv:
        model = "LassoCV" if spec.l1_ratio == 1 else f"ElasticNetCV l1_ratio={spec.l1_ratio:g}"
        description = (f"{model}, {what} ({fmt}), with intercept, KFold({spec.n_folds}) "
                       f"without shuffle, {span}")
    else:
        description = f"{kind} path, {what} ({fmt}), no intercept, {span}"
    return Problem(name=name, X=X, y=y, alpha=float(grid[0]), l1_ratio=spec.l1_ratio,
                   fit_intercept=cv, description=description, task=spec.task, alphas=grid,
                   n_folds=spec.n_folds if cv else 0)


def list_problems() -> list[tuple[str, str]]:
    """(name, short description) of every problem, without generating data."""
    what = {"wide": "wide dense AR(0.5) 100 x 20000",
            "leukemia": "leukemia 72 x 7129 (real with --data-dir, else synthetic AR(0.5))",
            "tall": "tall dense AR(0.5) 50000 x 500",
            "sparse": "sparse 20000 x 100000, density 1e-3",
            "logistic": "wide dense AR(0.5) 500 x 20000"}
    out = []
    for name, spec in PROBLEMS.items():
        model = "Lasso" if spec.l1_ratio == 1 else f"ElasticNet l1_ratio={spec.l1_ratio:g}"
        fmt = "" if spec.fmt == "dense" else f" as {spec.fmt.upper()}"
        grid = f"{spec.n_alphas} alphas down to {spec.eps:g} alpha_max"
        if spec.task == "path":
            text = f"{model} path, {what[spec.data]}{fmt}, {grid}, no intercept"
        elif spec.task == "logistic":
            text = (f"binary L1 logistic, {what[spec.data]}{fmt}, labels +-1, "
                    f"alpha_max/{spec.alpha_div:g}, no intercept")
        elif spec.task == "cv":
            text = (f"{model}CV, {spec.n_folds}-fold KFold, {what[spec.data]}{fmt}, {grid}, "
                    "intercept, n_jobs=2 and 1")
        else:
            text = f"{model}, {what[spec.data]}{fmt}, alpha_max/{spec.alpha_div:g}"
        out.append((name, text))
    return out


# --------------------------------------------------------------------------------------------
# Objective and duality gap (computed by the harness for every solver, in float64)
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# Solver adapters: (problem, tol) -> coef (fit), (alphas, coefs) (path), CV result (cv)
# --------------------------------------------------------------------------------------------


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

    def availability(self, task: str = "fit") -> str | None:
        """None if usable on ``task``, else the reason it is skipped."""
        try:
            importlib.import_module(self.module)
        except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
            if isinstance(exc, ImportError):
                return "not installed"
            return f"import failed: {type(exc).__name__}: {exc}"
        return self.unsupported or dict(self.unsupported_tasks).get(task)


def make_model(lasso_class, enet_class, problem: Problem, **params):
    """The problem's estimator from a library: its Lasso when ``l1_ratio == 1``, else its
    ElasticNet, with the problem's alpha and intercept setting plus ``params``."""
    params = dict(alpha=problem.alpha, fit_intercept=problem.fit_intercept, **params)
    if problem.l1_ratio == 1.0:
        return lasso_class(**params)
    return enet_class(l1_ratio=problem.l1_ratio, **params)


def make_path(lasso_path, enet_path, problem: Problem, *, X=None, **params):
    """The problem's path from a library's scikit-learn-style path functions:
    ``lasso_path(X, y, alphas=grid, **params)`` when ``l1_ratio == 1``, else
    ``enet_path(X, y, l1_ratio=..., alphas=grid, **params)``; ``X`` replaces ``problem.X``."""
    X = problem.X if X is None else X
    if problem.l1_ratio == 1.0:
        return lasso_path(X, problem.y, alphas=problem.alphas, **params)
    return enet_path(X, problem.y, l1_ratio=problem.l1_ratio, alphas=problem.alphas, **params)


def make_cv_model(lasso_cv, enet_cv, problem: Problem, **params):
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


def _kfold_rows(problem: Problem, seed: int = 0):
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


def _fit_fastl1(problem: Problem, tol: float, n_jobs: int | None = None):
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


def _fit_sklearn(problem: Problem, tol: float, n_jobs: int | None = None):
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


def _fit_celer(problem: Problem, tol: float, n_jobs: int | None = None):
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


def _fit_skglm(problem: Problem, tol: float, n_jobs: int | None = None):
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


def _fit_glmnet(problem: Problem, tol: float, n_jobs: int | None = None):
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


def _fit_unsupported(problem: Problem, tol: float) -> np.ndarray:  # pragma: no cover
    raise NotImplementedError("no adapter")


# Logistic adapters: binary labels +-1, no intercept, C = 1 / (alpha n) (Problem.C).


def _logistic_fastl1(problem: Problem, tol: float) -> np.ndarray:
    import fastl1

    model = fastl1.LogisticRegression(C=problem.C, fit_intercept=False, tol=tol,
                                      max_iter=10_000)
    return model.fit(problem.X, problem.y).coef_


def _logistic_sklearn(problem: Problem, tol: float, solver: str = "liblinear") -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    # l1_ratio=1.0 is scikit-learn 1.9's spelling of the L1 penalty (penalty is deprecated)
    model = LogisticRegression(C=problem.C, l1_ratio=1.0, solver=solver, fit_intercept=False,
                               tol=tol, max_iter=_SAGA_EPOCHS if solver == "saga" else _MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _logistic_celer(problem: Problem, tol: float) -> np.ndarray:
    import celer

    model = celer.LogisticRegression(C=problem.C, tol=tol, fit_intercept=False,
                                     max_iter=10_000, max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _logistic_skglm(problem: Problem, tol: float) -> np.ndarray:
    import skglm

    model = skglm.SparseLogisticRegression(alpha=problem.alpha, tol=tol, fit_intercept=False,
                                           max_iter=1000, max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


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


def _solvers_for(task: str, requested: Sequence[str | Solver]) -> list[Solver]:
    """The solvers run on a problem of ``task``: by name from :data:`SOLVERS`, or on the
    logistic task from :data:`LOGISTIC_SOLVERS` by name or family; Solver objects as given."""
    out: list[Solver] = []
    for s in requested:
        if isinstance(s, Solver):
            out.append(s)
        elif task == "logistic":
            out.extend(v for k, v in LOGISTIC_SOLVERS.items() if s in (k, v.family))
        elif s in SOLVERS:
            out.append(SOLVERS[s])
    return list(dict.fromkeys(out))


def solver_names() -> list[str]:
    """Every name accepted as a solver: the regression solvers, the logistic ones and their
    families."""
    names = [*SOLVERS, *LOGISTIC_SOLVERS]
    names += [s.family for s in LOGISTIC_SOLVERS.values() if s.family]
    return list(dict.fromkeys(names))


def available_solvers() -> list[str]:
    """Names of the solvers that can run here."""
    return [name for name, s in SOLVERS.items() if s.availability() is None]


def environment() -> dict:
    """Versions and machine facts to store next to the results."""
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "cpu_count": os.cpu_count()}
    for mod in ("fastl1", "numpy", "scipy", "numba", "sklearn", "celer", "skglm", "glmnet",
                "adelie"):
        try:
            env[mod] = str(getattr(importlib.import_module(mod), "__version__", "?"))
        except Exception:  # noqa: BLE001
            env[mod] = None
    return env


# --------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------


def _grid_order(grid: np.ndarray, alphas) -> np.ndarray:
    """Indices putting a solver's ``alphas`` in the order of ``grid`` (checked to be equal)."""
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.shape != grid.shape:
        raise ValueError(f"{alphas.size} alphas returned, expected the {grid.size} given")
    order = np.argsort(-alphas, kind="stable")
    if not np.allclose(alphas[order], grid, rtol=1e-9, atol=0.0):
        raise ValueError("the alphas returned differ from the grid given")
    return order


def _normalise(problem: Problem, raw) -> object:
    """A solver's answer in the harness's form (see :class:`Solver`): ``"fit"``: coef
    (n_features,); ``"path"``: CSC array (n_features, n_alphas), columns in grid order;
    ``"cv"``: ``{"alpha_": float, "mse_path": (n_alphas, n_folds) in grid order}``."""
    if problem.task in ("fit", "logistic"):
        return np.asarray(raw, dtype=np.float64).ravel()
    grid = problem.grid
    if problem.task == "path":
        alphas, coefs = raw if isinstance(raw, tuple) else (grid, raw)
        order = _grid_order(grid, alphas)
        coefs = coefs.toarray() if sp.issparse(coefs) else np.asarray(coefs)
        if coefs.shape != (problem.shape[1], grid.size):
            raise ValueError(f"coefs of shape {coefs.shape}, expected (n_features, n_alphas) "
                             f"= {(problem.shape[1], grid.size)}")
        return sp.csc_array(coefs[:, order].astype(np.float64, copy=False))
    alpha, alphas, mse = raw
    order = _grid_order(grid, alphas)
    mse = np.asarray(mse, dtype=np.float64)
    mse = mse.reshape(mse.shape[0], -1)
    if mse.shape[0] != grid.size:
        raise ValueError(f"mse_path has {mse.shape[0]} rows, expected {grid.size}")
    return {"alpha_": float(alpha), "mse_path": mse[order]}


def _column(result, j: int) -> np.ndarray:
    """Coefficients at the j-th alpha of a normalised fit (1-D) or path (CSC) result."""
    if not sp.issparse(result):
        return result
    col = np.zeros(result.shape[0])
    lo, hi = result.indptr[j], result.indptr[j + 1]
    col[result.indices[lo:hi]] = result.data[lo:hi]
    return col


def _primal_dual_grid(problem: Problem, result) -> tuple[np.ndarray, np.ndarray]:
    """:func:`primal_dual` at every alpha of the problem's grid (one for a fit)."""
    grid = problem.grid
    primal, dual = np.empty(grid.size), np.empty(grid.size)
    for j, alpha in enumerate(grid):
        if problem.task == "logistic":
            primal[j], dual[j] = logistic_primal_dual(problem.X, problem.y, result, alpha)
        else:
            primal[j], dual[j] = primal_dual(problem.X, problem.y, _column(result, j), alpha,
                                             problem.l1_ratio)
    return primal, dual


def _timed(solver: Solver, problem: Problem, tol: float) -> tuple[object, float, list[str]]:
    time.sleep(_SETTLE_SECONDS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        raw = solver.fit(problem, tol)
        elapsed = time.perf_counter() - start
    notes = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
                    for w in caught if issubclass(w.category, Warning)
                    and "onvergence" in w.category.__name__})
    return _normalise(problem, raw), elapsed, notes


def _as_problem(p, scale, data_dir) -> Problem:
    return p if isinstance(p, Problem) else make_problem(p, scale=scale, data_dir=data_dir)


def _check_solver(s) -> str | Solver:
    if not isinstance(s, Solver) and s not in solver_names():
        raise ValueError(f"unknown solver {s!r}; choose from: {', '.join(solver_names())}")
    return s


def _variants(solver: Solver, problem: Problem) -> list[tuple[Solver, int | None]]:
    """The rows a solver gives on a problem: one, or one per ``cv_jobs`` on a CV problem."""
    if problem.task != "cv" or not solver.cv_jobs:
        return [(solver, None)]
    return [(dataclasses.replace(solver, name=solver.name if i == 0 else
                                 f"{solver.name}-n_jobs={jobs}",
                                 fit=functools.partial(solver.fit, n_jobs=jobs)), jobs)
            for i, jobs in enumerate(solver.cv_jobs)]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def run(problems: Iterable[str | Problem] | None = None,
        solvers: Iterable[str | Solver] | None = None,
        repeats: int = 3, tol: float = 1e-8, *, scale: float = 1.0,
        data_dir: str | os.PathLike | None = None, time_limit: float = _TIME_LIMIT,
        progress: Callable[[str], None] | None = None) -> list[dict]:
    """Run every solver on every problem; one json-serialisable dict per (problem, solver).

    Parameters
    ----------
    problems : names (see :data:`PROBLEMS`), group names (see :data:`PROBLEM_GROUPS`) or
        :class:`Problem` objects; default all.
    solvers : names (see :data:`SOLVERS`) or :class:`Solver` objects; default all (those not
        installed are reported with ``status="skipped"``). On CV problems fastl1 and
        scikit-learn give two rows each (``n_jobs=2`` and ``"<name>-n_jobs=1"``).
    repeats : timed fits per solver after the warm-up fit; the median is reported.
    tol : accuracy: every solver must reach a suboptimality ``<= tol * ||y||^2 / n`` (the
        duality-gap stop of scikit-learn, celer and fastl1 at this ``tol``), on a path at
        every alpha.
    scale, data_dir : passed to :func:`make_problem` for problems given by name.
    time_limit : a solver whose fit takes longer than this many seconds gets no further fits
        on that problem (``status="timeout"`` if no timed fit completed).
    progress : called with one line of text per fit (e.g. ``print``), for long runs.

    Each result has: ``problem, description, task`` (``fit``, ``path``, ``cv``), ``n_samples,
    n_features, format, alpha`` (the largest alpha of a path or CV grid), ``l1_ratio, solver,
    status`` (``ok``, ``timeout``, ``failed``, ``skipped``), ``note``, ``tol_meaning, tol``
    (the solver's own tolerance used), ``gap_target``, ``first_fit`` (seconds, warm-up fit
    incl. JIT), ``times`` (timed fits), ``median``, ``objective``, ``dual_objective`` and
    ``duality_gap`` (of the dual point built from this solver's residual),
    ``certified_suboptimality`` (objective - best dual value of any solver), ``gap_ok`` (that
    is <= ``gap_target``), ``suboptimality`` and ``rel_suboptimality`` (against the best
    objective on that problem), ``nnz`` and ``ratio`` (fastl1 median / this median: < 1 means
    fastl1 is faster).

    Path rows: ``objective`` and ``dual_objective`` are sums over the grid; ``duality_gap``,
    ``certified_suboptimality``, ``suboptimality`` and ``rel_suboptimality`` the worst over
    the grid, ``gap_ok`` holds at every alpha, ``nnz`` is at the smallest alpha; plus
    ``n_alphas, alpha_min, objectives, certified_suboptimalities`` (per alpha),
    ``n_over_target`` (alphas above ``gap_target``) and ``worst_alpha``.

    CV rows: the objective fields are None; ``n_alphas, alpha_min, n_folds, n_jobs``,
    ``alpha_`` (chosen) and ``alpha_index`` (its position in the grid), ``cv_mean_mse`` (mean
    CV error per alpha) and ``cv_mse_min``, ``reference`` (the solver compared against:
    scikit-learn when it ran), ``same_alpha`` (same grid point as the reference) and
    ``cv_rel_diff`` (largest relative difference of the mean CV error curves), and
    ``speedup_n_jobs`` (on the main row of a solver run with several ``n_jobs``: median with
    ``n_jobs=1`` / this median).
    """
    if isinstance(repeats, bool) or int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    requested = [_check_solver(s) for s in (solver_names() if solvers is None else solvers)]
    # fails early on an unknown name, before any long computation
    names = list(PROBLEMS) if problems is None else expand_problems(problems)
    say = progress or (lambda line: None)
    results: list[dict] = []
    for p in names:
        problem = _as_problem(p, scale, data_dir)
        if problem.task not in TASKS:
            raise ValueError(f"unknown task {problem.task!r}; choose from: {', '.join(TASKS)}")
        results.extend(_run_problem(problem, _solvers_for(problem.task, requested),
                                    int(repeats), float(tol),
                                    float(time_limit), say))
    return results


def _add_note(row: dict, note: str, first: bool = False) -> None:
    if note and note not in row["note"]:
        parts = [note, row["note"]] if first else [row["note"], note]
        row["note"] = "; ".join(p for p in parts if p)


# Fields only the rows of a path or CV problem have (besides the common ones).
_TASK_FIELDS = {
    "fit": (),
    "logistic": (),
    "path": ("n_alphas", "alpha_min", "objectives", "certified_suboptimalities",
             "n_over_target", "worst_alpha"),
    "cv": ("n_alphas", "alpha_min", "n_folds", "n_jobs", "alpha_", "alpha_index",
           "cv_mean_mse", "cv_mse_min", "reference", "same_alpha", "cv_rel_diff",
           "speedup_n_jobs"),
}


def _run_problem(problem: Problem, solvers: Sequence[Solver], repeats: int, tol: float,
                 time_limit: float, say: Callable[[str], None]) -> list[dict]:
    X, task, grid = problem.X, problem.task, problem.grid
    n, p = problem.shape
    fmt = X.format if sp.issparse(X) else ("dense-F" if X.flags.f_contiguous else "dense-C")
    gap_target = tol * problem.gap_target
    base = dict(problem=problem.name, description=problem.description, task=task,
                n_samples=n, n_features=p, format=fmt, alpha=float(problem.alpha),
                l1_ratio=problem.l1_ratio)
    base.update(dict.fromkeys(_TASK_FIELDS[task]))
    if task in ("path", "cv"):
        base.update(n_alphas=int(grid.size), alpha_min=float(grid[-1]))
    if task == "cv":
        base.update(n_folds=problem.n_folds)
    runs: list[Solver] = []
    rows = []
    for solver in solvers:
        for s, n_jobs in _variants(solver, problem):
            row = dict(base, solver=s.name, status="ok", note="", tol_meaning=s.tol_meaning,
                       tol=None, gap_target=gap_target, first_fit=None, times=[],
                       median=None, objective=None, dual_objective=None, duality_gap=None,
                       certified_suboptimality=None, gap_ok=None, suboptimality=None,
                       rel_suboptimality=None, nnz=None, ratio=None, _result=None,
                       _family=solver.name)
            if task == "cv":
                row["n_jobs"] = n_jobs
            reason = s.availability(task)
            if reason is not None:
                row.update(status="skipped", note=reason)
            runs.append(s)
            rows.append(row)
    best_dual = np.full(grid.size, -np.inf)  # best lower bound on each minimum seen so far

    def fit(row, s, solver_tol):
        result, elapsed, notes = _timed(s, problem, solver_tol)
        row["_result"] = result
        row["_capped"] = bool(notes)  # it warned that it stopped at its iteration cap
        for note in notes:
            _add_note(row, note)
        return result, elapsed

    def fail(row, exc):
        row.update(status="failed", note=f"{type(exc).__name__}: {str(exc)[:200]}")
        say(f"  {problem.name} {row['solver']}: failed ({row['note']})")

    # Warm-up (first fit, incl. JIT compile) and, for tolerances that are not a duality-gap
    # bound, calibration: tighten by half decades until objective - (best dual value) <=
    # gap_target, at every alpha of a path. CV has no single objective: no calibration.
    for s, row in zip(runs, rows, strict=True):
        if row["status"] != "ok":
            continue
        solver_tol = tol * s.tol_factor
        try:
            result, first = fit(row, s, solver_tol)
            row["first_fit"] = spent = first
            say(f"  {problem.name} {s.name}: first fit {first:.3g} s")
            if task == "cv":
                if s.calibrate:
                    _add_note(row, "tol not calibrated on CV (no single objective): its own "
                              "tol as is", first=True)
            else:
                primal, dual = _primal_dual_grid(problem, result)
                steps = 0
                # a fit stopped by its iteration cap would not improve with a tighter tol
                while (s.calibrate and np.max(primal - np.fmax(dual, best_dual)) > gap_target
                       and steps < _CALIBRATION_STEPS and spent <= time_limit
                       and not row["_capped"]):
                    solver_tol /= _CALIBRATION_FACTOR
                    steps += 1
                    result, elapsed = fit(row, s, solver_tol)
                    spent += elapsed
                    primal, dual = _primal_dual_grid(problem, result)
                    say(f"  {problem.name} {s.name}: calibrating, tol={solver_tol:.2g} "
                        f"({elapsed:.3g} s)")
                if steps:
                    _add_note(row, f"calibrated from tol {tol * s.tol_factor:.0e}",
                              first=True)
                best_dual = np.fmax(best_dual, dual)
            row["tol"] = solver_tol
            if spent > time_limit:
                row["status"] = "timeout"
                _add_note(row, f"stopped: warm-up took {spent:.1f} s > {time_limit:g} s",
                          first=True)
        except Exception as exc:  # noqa: BLE001 - a peer failure is a note, not a crash
            fail(row, exc)

    # Timed rounds, round-robin; the solver that starts a round rotates.
    pairs = [(s, row) for s, row in zip(runs, rows, strict=True) if row["status"] == "ok"]
    stopped: set[str] = set()
    for r in range(repeats):
        k = r % len(pairs) if pairs else 0
        for s, row in pairs[k:] + pairs[:k]:
            if row["status"] != "ok" or s.name in stopped:
                continue
            try:
                _, elapsed = fit(row, s, row["tol"])
            except Exception as exc:  # noqa: BLE001
                fail(row, exc)
                continue
            row["times"].append(elapsed)
            say(f"  {problem.name} {s.name}: round {r + 1}/{repeats} {elapsed:.3g} s")
            if elapsed > time_limit and r + 1 < repeats:
                stopped.add(s.name)
                _add_note(row, f"stopped after {len(row['times'])} timed fit(s): "
                          f"{elapsed:.1f} s > {time_limit:g} s", first=True)

    # Accuracy, measured by the harness on the last result of each solver.
    for row in rows:
        if row["times"]:
            row["median"] = float(np.median(row["times"]))
    evaluated = [row for row in rows if row["_result"] is not None
                 and row["status"] not in ("skipped", "failed")]
    if task == "cv":
        _accuracy_cv(problem, rows, evaluated)
    else:
        _accuracy_objective(problem, evaluated, best_dual, gap_target)
    ref = next((r["median"] for r in rows if r["solver"] == "fastl1" and r["median"]), None)
    for row in rows:
        del row["_result"], row["_family"]
        row.pop("_capped", None)
        if ref is not None and row["median"]:
            row["ratio"] = ref / row["median"]
        for key in ("objective", "dual_objective", "duality_gap", "certified_suboptimality",
                    "suboptimality", "rel_suboptimality", "cv_rel_diff", "cv_mse_min"):
            if key in row:
                row[key] = _finite(row[key])
        row["times"] = [float(t) for t in row["times"]]
        for key in ("alpha", "gap_target", "first_fit", "median", "ratio", "tol"):
            row[key] = None if row[key] is None else float(row[key])
    return rows


def _accuracy_objective(problem: Problem, rows: Sequence[dict], best_dual: np.ndarray,
                        gap_target: float) -> None:
    """Objective, dual value and certificates of a fit (one alpha) or a path (every alpha,
    then the sum or the worst over the grid)."""
    grid = problem.grid
    done = []
    for row in rows:
        result = row["_result"]
        primal, dual = _primal_dual_grid(problem, result)
        row["objective"], row["dual_objective"] = float(primal.sum()), float(dual.sum())
        row["duality_gap"] = float(np.max(primal - dual))
        row["nnz"] = int(np.count_nonzero(_column(result, grid.size - 1)))
        if np.all(np.isfinite(primal)):
            done.append((row, primal, dual))
    if not done:
        return
    best = np.min([primal for _, primal, _ in done], axis=0)
    best_dual = functools.reduce(np.fmax, [dual for _, _, dual in done], best_dual)
    for row, primal, _ in done:
        sub = primal - best
        # objective - (best lower bound from any solver's dual point): a certificate
        cert = primal - best_dual
        row["suboptimality"] = float(sub.max())
        row["rel_suboptimality"] = float(np.max(sub / np.maximum(np.abs(best), 1e-300)))
        row["certified_suboptimality"] = float(cert.max())
        row["gap_ok"] = bool(np.all(cert <= gap_target))
        if problem.task == "path":
            row["objectives"] = primal.tolist()
            row["certified_suboptimalities"] = cert.tolist()
            row["n_over_target"] = int(np.sum(cert > gap_target))
            row["worst_alpha"] = float(grid[int(np.argmax(cert))])


def _grid_index(grid: np.ndarray, alpha: float) -> int | None:
    j = int(np.argmin(np.abs(grid - alpha)))
    return j if math.isclose(grid[j], alpha, rel_tol=1e-9) else None


_CV_REFERENCES = ("sklearn", "sklearn-n_jobs=1", "fastl1")  # first that ran is the reference


def _accuracy_cv(problem: Problem, rows: Sequence[dict], evaluated: Sequence[dict]) -> None:
    """alpha_ and the mean CV error curve of each solver, against the reference's; the
    n_jobs speed-up of solvers run with several n_jobs."""
    grid = problem.grid
    means = {}
    for row in evaluated:
        result = row["_result"]
        mean = result["mse_path"].mean(axis=1)
        means[row["solver"]] = mean
        row.update(alpha_=result["alpha_"], alpha_index=_grid_index(grid, result["alpha_"]),
                   cv_mean_mse=mean.tolist(), cv_mse_min=float(np.min(mean)))
        if row["alpha_index"] is None:
            _add_note(row, "alpha_ is not a point of the grid")
    ref = next((r for name in _CV_REFERENCES for r in evaluated if r["solver"] == name),
               evaluated[0] if evaluated else None)
    if ref is not None:
        ref_mean = means[ref["solver"]]
        for row in evaluated:
            diff = np.abs(means[row["solver"]] - ref_mean)
            row["reference"] = ref["solver"]
            row["cv_rel_diff"] = float(np.max(diff / np.maximum(np.abs(ref_mean), 1e-300)))
            row["same_alpha"] = (row["alpha_index"] is not None
                                 and row["alpha_index"] == ref["alpha_index"])
    families: dict[str, list[dict]] = {}
    for row in rows:
        families.setdefault(row["_family"], []).append(row)
    for family in families.values():
        main = family[0]
        single = next((r for r in family[1:] if r["n_jobs"] == 1), None)
        if single is not None and main["median"] and single["median"]:
            main["speedup_n_jobs"] = single["median"] / main["median"]


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def _grid_lines(table: list[tuple]) -> list[str]:
    widths = [max(len(str(r[i])) for r in table) for i in range(len(table[0]))]
    lines = []
    for k, r in enumerate(table):
        cells = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])
                 for i, c in enumerate(r)]
        lines.append("  " + "  ".join(cells))
        if k == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def _row_note(row: dict, text: str = "") -> str:
    if row["note"]:
        text += f" ({row['note']})" if text else row["note"]
    if row["status"] != "ok":
        text = f"{row['status']}* {text}"
    return f"{row['solver']}: {text}"


def _tol_text(row: dict) -> str:
    return f"tol {row['tol']:.2g}" if row["tol"] is not None else ""


def _objective_rows(rows: Sequence[dict], gap_key: str) -> list[tuple]:
    """Table cells of fit and path rows (``gap_key``: the gap column's field)."""
    return [(
        row["solver"] + ("" if row["status"] == "ok" else "*"),
        _fmt(row["median"], ".4f"),
        _fmt(row["first_fit"], ".3f"),
        _fmt(row["objective"], ".10e"),
        _fmt(row["rel_suboptimality"], ".1e"),
        _fmt(row[gap_key], ".1e") + (" !" if row["gap_ok"] is False else ""),
        _fmt(row["nnz"], "d"),
        _fmt(row["ratio"], ".2f"),
    ) for row in rows]


def _fit_block(rows: Sequence[dict]) -> tuple[list[tuple], list[str], list[str]]:
    header = ("solver", "median (s)", "first fit (s)", "objective", "rel. subopt",
              "duality gap", "nnz", "fastl1/solver")
    notes = []
    for row in rows:
        text = _tol_text(row)
        if row["gap_ok"] is False:
            text += (f", certified suboptimality {row['certified_suboptimality']:.1e}"
                     " above target")
        notes.append(_row_note(row, text))
    bound = "tol * log 2" if rows[0]["task"] == "logistic" else "tol * ||y||^2 / n"
    after = [f"target: suboptimality <= {bound} = {rows[0]['gap_target']:.2e}; "
             "'!' = not certified (objective minus best dual value above it)"]
    return [header, *_objective_rows(rows, "duality_gap")], after, notes


def _path_block(rows: Sequence[dict]) -> tuple[list[tuple], list[str], list[str]]:
    header = ("solver", "median (s)", "first fit (s)", "objective (sum)", "rel. subopt (max)",
              "cert. subopt (max)", "nnz (last)", "fastl1/solver")
    notes = []
    for row in rows:
        text = _tol_text(row)
        if row["gap_ok"] is False:
            text += (f", above target at {row['n_over_target']} of {row['n_alphas']} alphas "
                     f"(worst at alpha = {row['worst_alpha']:.3g})")
        notes.append(_row_note(row, text))
    after = [f"target at every alpha: suboptimality <= tol * ||y||^2 / n = "
             f"{rows[0]['gap_target']:.2e}; '!' = not certified at some alpha"]
    return [header, *_objective_rows(rows, "certified_suboptimality")], after, notes


def _cv_block(rows: Sequence[dict]) -> tuple[list[tuple], list[str], list[str]]:
    header = ("solver", "n_jobs", "median (s)", "first fit (s)", "alpha_", "index",
              "same alpha_", "min CV MSE", "CV curve rel. diff", "fastl1/solver")
    table, notes = [header], []
    for row in rows:
        same = {None: "-", True: "yes", False: "no !"}[row["same_alpha"]]
        table.append((
            row["solver"] + ("" if row["status"] == "ok" else "*"),
            _fmt(row["n_jobs"], "d"),
            _fmt(row["median"], ".4f"),
            _fmt(row["first_fit"], ".3f"),
            _fmt(row["alpha_"], ".6g"),
            _fmt(row["alpha_index"], "d"),
            same,
            _fmt(row["cv_mse_min"], ".6e"),
            _fmt(row["cv_rel_diff"], ".1e"),
            _fmt(row["ratio"], ".2f"),
        ))
        notes.append(_row_note(row, _tol_text(row)))
    reference = next((r["reference"] for r in rows if r["reference"]), None)
    after = []
    if reference:
        after.append(f"alpha_ and the mean CV error curve compared with {reference}'s; "
                     "'!' = another grid point chosen")
    for row in rows:
        if row["speedup_n_jobs"] is not None:
            after.append(f"{row['solver']} n_jobs=1 / n_jobs={row['n_jobs']} speed-up: "
                         f"{row['speedup_n_jobs']:.2f}x")
    return table, after, notes


_BLOCKS = {"fit": _fit_block, "path": _path_block, "cv": _cv_block, "logistic": _fit_block}

_LEGENDS = {
    "fit": ("median: of the timed fits after one warm-up fit ('first fit', incl. JIT "
            "compile); fastl1/solver < 1 means fastl1 is faster.\nobjective, duality gap "
            "(residual-based dual point) and nnz computed by the harness in float64; rel. "
            "subopt against the best objective found."),
    "path": ("path problems: one 'fit' is the whole path over the grid given to every solver. "
             "objective (sum) = sum over the alphas of the objectives; rel. subopt (max) = "
             "worst over the alphas against the best objective found at that alpha; cert. "
             "subopt (max) = worst over the alphas of objective minus the best dual value any "
             "solver reached at that alpha; nnz at the smallest alpha."),
    "logistic": ("logistic problems: objective = mean log-loss + alpha ||w||_1 (scikit-learn's "
                 "objective divided by C n), duality gap from the dual point the harness builds "
                 "from the loss gradient (scaled into the dual feasible set)."),
    "cv": ("cv problems: one 'fit' is the whole cross-validation, final refit included; "
           "fastl1/solver is against fastl1 with n_jobs=2. alpha_ = the alpha chosen (index "
           "in the grid, 0 = alpha_max); CV curve rel. diff = max over the alphas of |mean CV "
           "error - reference's| / reference's."),
}


def format_table(results: Sequence[dict]) -> str:
    """A text table per problem (in the order of ``results``) with notes below it."""
    by_problem: dict[str, list[dict]] = {}
    for row in results:
        by_problem.setdefault(row["problem"], []).append(row)
    blocks, tasks = [], []
    for name, rows in by_problem.items():
        task = rows[0].get("task", "fit")
        if task not in tasks:
            tasks.append(task)
        shown = [r for r in rows if r["status"] not in ("skipped", "failed")]
        left = [f"{r['solver']}: {r['status']} ({r['note']})" for r in rows
                if r["status"] in ("skipped", "failed")]
        lines = [f"{name}: {rows[0]['description']}"]
        after, notes = [], []
        if shown:
            table, after, notes = _BLOCKS[task](shown)
            lines.extend(_grid_lines(table))
        lines.extend(f"  {line}" for line in after + left + notes)
        blocks.append("\n".join(lines))
    legend = "\n".join(_LEGENDS[task] for task in TASKS if task in tasks)
    return "\n\n".join(blocks + [legend])


# --------------------------------------------------------------------------------------------
# Figures (matplotlib, the `plot` extra)
# --------------------------------------------------------------------------------------------


def plot_times(results: Sequence[dict], path) -> None:
    """Bar chart of the median time of every solver on every problem (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problems = list(dict.fromkeys(r["problem"] for r in results))
    solvers = list(dict.fromkeys(r["solver"] for r in results if r["median"]))
    width = 0.8 / max(len(solvers), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(problems) + 2), 4.5))
    for k, solver in enumerate(solvers):
        times = [next((r["median"] for r in results if r["problem"] == p
                       and r["solver"] == solver and r["median"]), np.nan) for p in problems]
        ax.bar(np.arange(len(problems)) + k * width, times, width, label=solver)
    ax.set_xticks(np.arange(len(problems)) + 0.4 - width / 2, problems, rotation=30,
                  ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("median time (s), log scale")
    ax.set_title("Time to the same certified accuracy (lower is better)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def accuracy_curves(problem: str | Problem, solvers: Iterable[str] | None = None,
                    tols: Sequence[float] = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-10),
                    repeats: int = 3, **kwargs) -> list[dict]:
    """Time against certified suboptimality: :func:`run` on one single-fit problem at each
    tolerance (skglm's and glmnet's tolerances calibrated to it as usual). One row per
    (tol, solver)."""
    rows = []
    problem = _as_problem(problem, kwargs.pop("scale", 1.0), kwargs.pop("data_dir", None))
    for tol in tols:
        for row in run([problem], solvers, repeats=repeats, tol=tol, **kwargs):
            row["requested_tol"] = tol
            rows.append(row)
    return rows


def plot_curves(rows: Sequence[dict], path) -> None:
    """Suboptimality (objective minus the best dual value found) against median time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for solver in dict.fromkeys(r["solver"] for r in rows):
        points = sorted((r["median"], r["certified_suboptimality"]) for r in rows
                        if r["solver"] == solver and r["median"]
                        and r["certified_suboptimality"] is not None)
        if points:
            t, s = zip(*points, strict=True)
            ax.plot(t, np.maximum(s, 1e-16), "o-", label=solver)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("median time (s)")
    ax.set_ylabel("objective - best dual value")
    ax.set_title(rows[0]["problem"] if rows else "")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
