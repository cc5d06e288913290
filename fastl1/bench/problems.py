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

from .blocks import BLOCK_SPECS, make_block_problem
from .glm import GLM_SPECS, make_glm_problem

__all__ = [
    "DATA_DIR_VARIABLE",
    "PROBLEMS",
    "PROBLEM_GROUPS",
    "TASKS",
    "BenchProblem",
    "MissingDataError",
    "bench_alpha_max",
    "bench_glm_alpha_max",
    "bench_logistic_alpha_max",
    "expand_problems",
    "list_problems",
    "make_bench_problem",
    "resolve_data_dir",
]

TASKS = ("fit", "path", "cv", "logistic", "glmpath", "glm", "blocks")
LOSSES = ("squared", "logistic")
# The folder of the real data sets when neither ``data_dir`` nor ``--data-dir`` names one.
DATA_DIR_VARIABLE = "FASTL1_BENCH_DATA"


class MissingDataError(FileNotFoundError):
    """A problem needs a real data set that is not in the data folder (or no folder was
    given): the harness skips it with this message."""
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
    loss: str = "squared"  # "squared" or "logistic" ("glmpath")


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
    # glmnet's setting: 100-lambda paths with an intercept, no standardisation, real data (in
    # the data folder; skipped without it) and one synthetic design; the logistic ones last
    "glmpath-leukemia-lasso": _Spec("real:leukemia", 1, task="glmpath"),
    "glmpath-riboflavin-lasso": _Spec("real:riboflavin", 1, task="glmpath"),
    "glmpath-rcv1-lasso": _Spec("real:rcv1", 1, fmt="csr", task="glmpath"),
    "glmpath-synthetic-lasso": _Spec("logistic", 1, task="glmpath"),
    "glmpath-leukemia-logistic": _Spec("real:leukemia", 1, task="glmpath", loss="logistic"),
    "glmpath-rcv1-logistic": _Spec("real:rcv1", 1, fmt="csr", task="glmpath",
                                   loss="logistic"),
    "glmpath-synthetic-logistic": _Spec("logistic", 1, task="glmpath", loss="logistic"),
    # Cox and Poisson regression (fastl1.bench.glm): paths and single fits
    **{name: _Spec(spec.data, 1, task="glm", loss=spec.loss)
       for name, spec in GLM_SPECS.items()},
    # multi-task and group lasso (fastl1.bench.blocks): single fits and paths
    **{name: _Spec(spec.kind, 1, task="blocks", loss=spec.kind)
       for name, spec in BLOCK_SPECS.items()},
}

# Names accepted wherever problem names are (``run``, ``fastl1 bench --problems``).
PROBLEM_GROUPS: dict[str, list[str]] = {
    "fits": [name for name, spec in PROBLEMS.items() if spec.task == "fit"],
    "paths": [name for name, spec in PROBLEMS.items() if spec.task in ("path", "glmpath")],
    "glmpaths": [name for name, spec in PROBLEMS.items() if spec.task == "glmpath"],
    "cv": [name for name, spec in PROBLEMS.items() if spec.task == "cv"],
    "logistic": [name for name, spec in PROBLEMS.items() if spec.task == "logistic"],
    "glm": [name for name, spec in PROBLEMS.items() if spec.task == "glm"],
    "cox": [name for name, spec in PROBLEMS.items() if spec.task == "glm"
            and spec.loss == "cox"],
    "poisson": [name for name, spec in PROBLEMS.items() if spec.task == "glm"
                and spec.loss == "poisson"],
    "groups": [name for name, spec in PROBLEMS.items() if spec.task == "blocks"],
    "multitask": [name for name, spec in PROBLEMS.items() if spec.task == "blocks"
                  and spec.loss == "multitask"],
    "grouplasso": [name for name, spec in PROBLEMS.items() if spec.task == "blocks"
                   and spec.loss == "group"],
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
# The real data sets of the glmpath problems: file in the data folder, sparse or dense.
_REAL = {"leukemia": ("leukemia.npz", "real leukemia (Golub 1999)"),
         "riboflavin": ("riboflavin.npz", "real riboflavin (Buhlmann 2014)"),
         "rcv1": ("rcv1_small_train.npz", "real rcv1 subset (tf-idf)")}
_SPARSE_DENSITY = 1e-3


@dataclasses.dataclass
class BenchProblem:
    """One benchmark problem: data, regularisation and a one-line description.

    ``task`` is ``"fit"`` (one fit at ``alpha``), ``"path"`` (every alpha of ``alphas``,
    largest first; ``alpha = alphas[0]``), ``"cv"`` (``n_folds``-fold cross-validation over
    ``alphas``) or ``"logistic"`` (binary L1 logistic regression, labels ``y = +-1``, at
    ``alpha``: the averaged objective ``mean_i log(1 + exp(-y_i x_i w)) + alpha ||w||_1``,
    i.e. scikit-learn's ``C = 1 / (alpha n)``; see :attr:`C`) or ``"glmpath"`` (glmnet's
    setting: a path over ``alphas`` with an unpenalised intercept, no standardisation, of
    ``loss`` ``"squared"``, ``1/(2n) ||y - X w - b||^2 + alpha (l1_ratio ||w||_1 + (1 -
    l1_ratio)/2 ||w||^2)``, or ``"logistic"``, labels ``+-1``, ``mean_i log(1 + exp(-y_i (x_i
    w + b))) +`` the same penalty; glmnet's lambda is ``alpha`` in both).
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
    loss: str = "squared"
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
        logistic problem ``log 2``, the averaged objective at ``w = 0`` (celer's scaling); for
        a glmpath problem 1: its target is relative, ``tol`` times the objective."""
        if self.task == "glmpath":
            return 1.0
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


def resolve_data_dir(data_dir: str | os.PathLike | None) -> str | None:
    """The folder of the real data sets: ``data_dir`` if given, else the environment
    variable ``FASTL1_BENCH_DATA`` (:data:`DATA_DIR_VARIABLE`) if set and not empty, else
    None (the problems that need real data are skipped)."""
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_VARIABLE) or None
    return None if data_dir is None else str(data_dir)


def _real_data(name: str, data_dir: str | None) -> tuple[object, np.ndarray, str]:
    """(X, y, description) of a real data set of the data folder: X dense F-ordered or CSR,
    as stored. Raises :class:`MissingDataError` when it is not there."""
    file, label = _REAL[name]
    if data_dir is None:
        raise MissingDataError(f"needs {file} from a data folder (--data-dir, or the "
                               f"environment variable {DATA_DIR_VARIABLE})")
    path = Path(data_dir) / file
    if not path.is_file():
        raise MissingDataError(f"needs {file}, which is not in the data folder {data_dir!r}")
    with np.load(path, allow_pickle=False) as z:
        y = np.asarray(z["y"], dtype=np.float64).ravel()
        if "X" in z.files:
            X = np.asfortranarray(z["X"], dtype=np.float64)
        else:  # scipy.sparse.save_npz's layout
            X = sp.csr_matrix(sp.load_npz(path), dtype=np.float64)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{path}: X has {X.shape[0]} rows but y has {y.shape[0]} values")
    n, p = X.shape
    kind = "sparse" if sp.issparse(X) else "dense"
    return X, y, f"{label} {kind} {n} x {p}"


@functools.lru_cache(maxsize=2)
def _data(kind: str, scale: float, data_dir: str | None) -> tuple[object, np.ndarray, str]:
    """(X, y, description) of one data set; X dense F-ordered or CSC (CSR as stored for the
    real sparse data)."""
    if kind.startswith("real:"):
        return _real_data(kind[len("real:"):], data_dir)
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
    ``data_dir`` is a folder with the real data sets (``leukemia.npz``, ``riboflavin.npz``,
    ``rcv1_small_train.npz``; default: the environment variable ``FASTL1_BENCH_DATA``).
    ``leukemia-*`` problems fall back to synthetic data of the same shape without it; the
    glmpath problems on real data raise :class:`MissingDataError` (the harness skips them).
    ``scale`` does not change real data sets.
    """
    if name not in PROBLEMS:
        raise ValueError(f"unknown problem {name!r}; choose from: {', '.join(PROBLEMS)}")
    if not (scale > 0 and math.isfinite(scale)):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    spec = PROBLEMS[name]
    if spec.task == "glm":  # Cox and Poisson: their own problem type (fastl1.bench.glm)
        return make_glm_problem(name, scale)
    if spec.task == "blocks":  # multi-task and group lasso (fastl1.bench.blocks)
        return make_block_problem(name, scale)
    X, y, what = _data(spec.data, float(scale), resolve_data_dir(data_dir))
    if spec.fmt == "csr":
        X = X.tocsr()
    fmt = {"dense": "Fortran-ordered", "csc": "CSC", "csr": "CSR"}[spec.fmt]
    if spec.task == "glmpath":
        return _glmpath_problem(name, spec, X, y, what, fmt)
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


def bench_glm_alpha_max(X, y: np.ndarray, loss: str = "squared",
                        l1_ratio: float = 1.0) -> float:
    """Smallest alpha with an all-zero solution of a glmpath problem (with an intercept):
    ``||X^T (y - mean(y))||_inf / (n l1_ratio)``, for the logistic loss on the 0/1 labels
    ``(y + 1) / 2`` (the gradient at ``w = 0`` and the optimal intercept). It is glmnet's
    lambda_max without standardisation."""
    if loss == "logistic":
        y = (np.asarray(y) > 0).astype(np.float64)
    yc = y - np.mean(y)
    return float(np.max(np.abs(X.T @ yc))) / (X.shape[0] * l1_ratio)


def _glmpath_problem(name: str, spec: _Spec, X, y: np.ndarray, what: str,
                     fmt: str) -> BenchProblem:
    """A glmpath problem: the lasso on ``y`` as a continuous target, or L1 logistic
    regression on its labels (``+-1`` as stored, or the sign of a synthetic response)."""
    if spec.loss == "logistic":
        labels = np.unique(y)
        if labels.size > 2 or not set(labels) <= {-1.0, 1.0}:
            if spec.data.startswith("real:"):
                raise ValueError(f"{name}: a logistic path needs labels +-1, got "
                                 f"{labels.size} distinct values")
            y = np.where(y > 0, 1.0, -1.0)
        model = "L1 logistic regression" if spec.l1_ratio == 1 else \
            f"elastic-net logistic regression l1_ratio={spec.l1_ratio:g}"
        target = f"labels +-1 ({int(np.sum(y > 0))} of {y.shape[0]} positive)"
    else:
        model = "Lasso" if spec.l1_ratio == 1 else f"ElasticNet l1_ratio={spec.l1_ratio:g}"
        target = "continuous target" if np.unique(y).size > 2 else "labels +-1 as the target"
    amax = bench_glm_alpha_max(X, y, spec.loss, spec.l1_ratio)
    grid = np.geomspace(amax, amax * spec.eps, num=spec.n_alphas)
    description = (f"{model} path, {what} ({fmt}), {target}, with intercept, no "
                   f"standardisation, {spec.n_alphas} alphas from alpha_max = {amax:.4g} "
                   f"down to {spec.eps:g} alpha_max (geometric)")
    return BenchProblem(name=name, X=X, y=y, alpha=float(grid[0]), l1_ratio=spec.l1_ratio,
                        fit_intercept=True, description=description, task="glmpath",
                        alphas=grid, loss=spec.loss)


def list_problems() -> list[tuple[str, str]]:
    """(name, short description) of every problem, without generating data."""
    what = {"wide": "wide dense AR(0.5) 100 x 20000",
            "leukemia": "leukemia 72 x 7129 (real with --data-dir, else synthetic AR(0.5))",
            "tall": "tall dense AR(0.5) 50000 x 500",
            "sparse": "sparse 20000 x 100000, density 1e-3",
            "logistic": "wide dense AR(0.5) 500 x 20000",
            "real:leukemia": "real leukemia 72 x 7129 (data folder)",
            "real:riboflavin": "real riboflavin 71 x 4088 (data folder)",
            "real:rcv1": "real rcv1 subset 1000 x 47117 (data folder)"}
    what.update({"survival": "simulated survival 500 x 20000",
                 "breast_cancer": "scikit-survival's breast_cancer 198 x 82",
                 "counts-sparse": "sparse counts 5000 x 20000 CSC",
                 "counts-tall": "tall dense counts 100000 x 200"})
    out = []
    for name, spec in PROBLEMS.items():
        model = "Lasso" if spec.l1_ratio == 1 else f"ElasticNet l1_ratio={spec.l1_ratio:g}"
        if spec.task == "glm":
            kind = GLM_SPECS[name].kind
            loss = "Cox (Breslow)" if spec.loss == "cox" else "Poisson (intercept)"
            text = (f"L1 {loss} {'100-alpha path' if kind == 'path' else 'fit at the 31st'}"
                    f"{'' if kind == 'path' else ' alpha'}, {what[spec.data]}")
            out.append((name, text))
            continue
        if spec.task == "blocks":
            kind = BLOCK_SPECS[name].task
            model = ("multi-task lasso 100 x 20000 x 10 tasks" if spec.loss == "multitask"
                     else "group lasso 500 x 20000, groups of 10")
            span = "100-alpha path" if kind == "path" else "fit at alpha_max/10"
            out.append((name, f"{model}, dense, no intercept, {span}"))
            continue
        fmt = "" if spec.fmt == "dense" else f" as {spec.fmt.upper()}"
        grid = f"{spec.n_alphas} alphas down to {spec.eps:g} alpha_max"
        if spec.task == "glmpath":
            loss = "L1 logistic" if spec.loss == "logistic" else model
            text = (f"{loss} path, {what[spec.data]}{fmt}, {grid}, intercept, glmnet's "
                    "setting")
        elif spec.task == "path":
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

