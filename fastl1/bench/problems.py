"""The benchmark problems: fixed-seed data generators, the real-data loader and the problem
definitions of ``fastl1 bench`` (single fits, paths, cross-validation, logistic fits).

The names say *bench* (:class:`BenchProblem`, :func:`make_bench_problem`,
:func:`bench_alpha_max`) so that they are never mistaken for the solver's own
``fastl1._solver.Problem``, ``make_problem`` and ``alpha_max``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import scipy.sparse as sp

__all__ = [
    "PROBLEMS",
    "PROBLEM_GROUPS",
    "TASKS",
    "BenchProblem",
    "bench_alpha_max",
    "bench_logistic_alpha_max",
    "expand_problems",
    "list_problems",
    "make_bench_problem",
]

TASKS = ("fit", "path", "cv", "logistic")
_RHO = 0.5  # AR(1) correlation of neighbouring columns of the dense problems


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
class BenchProblem:
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


def expand_problems(names: Iterable[str | BenchProblem]) -> list[str | BenchProblem]:
    """Problem names with the groups of :data:`PROBLEM_GROUPS` replaced by their members
    (order kept, duplicates dropped); :class:`BenchProblem` objects pass through."""
    out: list[str | BenchProblem] = []
    for name in names:
        if isinstance(name, BenchProblem):
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


def bench_alpha_max(X, y: np.ndarray, l1_ratio: float = 1.0) -> float:
    """Smallest alpha with an all-zero solution (no intercept):
    ``||X^T y||_inf / (n l1_ratio)``. With an intercept, pass the centred ``y``: since
    ``sum(y - mean(y)) = 0``, ``X^T (y - mean(y))`` equals the centred ``Xc^T yc``."""
    return float(np.max(np.abs(X.T @ y))) / (X.shape[0] * l1_ratio)


def bench_logistic_alpha_max(X, y: np.ndarray) -> float:
    """Smallest alpha with an all-zero L1 logistic solution (labels ``+-1``, no intercept):
    the gradient of the mean log-loss at 0 is ``-X^T y / (2n)``; ``C_min = 1 / (alpha_max n)``
    is scikit-learn's ``l1_min_c(X, y, loss="log", fit_intercept=False)``."""
    return float(np.max(np.abs(X.T @ y))) / (2.0 * X.shape[0])


def make_bench_problem(name: str, scale: float = 1.0,
                       data_dir: str | os.PathLike | None = None) -> BenchProblem:
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
        amax = bench_logistic_alpha_max(X, y)
        alpha = amax / spec.alpha_div
        n = X.shape[0]
        description = (f"binary L1 logistic regression, {what} ({fmt}), labels sign(X w + "
                       f"noise) ({int(np.sum(y > 0))} of {n} positive), no intercept, alpha = "
                       f"alpha_max/{spec.alpha_div:g} = {alpha:.4g} (C = {1 / (alpha * n):.4g})")
        return BenchProblem(name=name, X=X, y=y, alpha=alpha, description=description,
                       task="logistic")
    kind = f"ElasticNet l1_ratio={spec.l1_ratio:g}" if spec.l1_ratio < 1 else "Lasso"
    if spec.task == "fit":
        amax = bench_alpha_max(X, y, spec.l1_ratio)
        alpha = amax / spec.alpha_div
        description = (f"{kind}, {what} ({fmt}), no intercept, "
                       f"alpha = alpha_max/{spec.alpha_div:g} = {alpha:.4g}")
        return BenchProblem(name=name, X=X, y=y, alpha=alpha, l1_ratio=spec.l1_ratio,
                       description=description)
    cv = spec.task == "cv"
    # LassoCV's own grid (with an intercept: alpha_max of the centred data), given explicitly
    amax = bench_alpha_max(X, y - y.mean() if cv else y, spec.l1_ratio)
    grid = np.geomspace(amax, amax * spec.eps, num=spec.n_alphas)
    span = (f"{spec.n_alphas} alphas from alpha_max = {amax:.4g} down to "
            f"{spec.eps:g} alpha_max (geometric)")
    if cv:
        model = "LassoCV" if spec.l1_ratio == 1 else f"ElasticNetCV l1_ratio={spec.l1_ratio:g}"
        description = (f"{model}, {what} ({fmt}), with intercept, KFold({spec.n_folds}) "
                       f"without shuffle, {span}")
    else:
        description = f"{kind} path, {what} ({fmt}), no intercept, {span}"
    return BenchProblem(name=name, X=X, y=y, alpha=float(grid[0]), l1_ratio=spec.l1_ratio,
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

