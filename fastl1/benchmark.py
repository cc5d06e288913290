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
  warm-up, starting at ``tol`` and dividing it by 10 until ``objective(w) - D`` is within the
  bound, ``D`` being the best dual value known (from the dual points the harness builds from
  the residuals of this and earlier solvers; any dual value is a lower bound on the minimum).
  The loosest decade that passes is used, and reported.
* after the timed fits, ``certified_suboptimality = objective - max over solvers of the dual
  value`` is checked against the bound for every solver (``gap_ok``). A solver's own
  residual-based duality gap can be looser than its true suboptimality (celer certifies with
  an extrapolated dual point, which the harness does not rebuild), hence the pooled bound.

Peers that are not installed are skipped with a note; a failing peer gives a note, not a crash.
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
    "PROBLEMS",
    "SOLVERS",
    "Problem",
    "Solver",
    "alpha_max",
    "available_solvers",
    "duality_gap",
    "environment",
    "format_table",
    "list_problems",
    "make_problem",
    "objective",
    "run",
]

_RHO = 0.5  # AR(1) correlation of neighbouring columns of the dense problems
_MAX_ITER = 100_000  # epochs for the CD solvers: never the binding stop
_CALIBRATION_STEPS = 6  # at most 10^-6 tighter than the starting tolerance
_TIME_LIMIT = 60.0  # seconds per fit before a solver is stopped on a problem


# --------------------------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Spec:
    data: str  # key of the data generator
    alpha_div: float  # alpha = alpha_max / alpha_div
    l1_ratio: float = 1.0
    fmt: str = "dense"  # "dense" (Fortran-ordered), "csc" or "csr"


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
}

# (n, p, seed, number of true non-zeros); AR(0.5) dense unless said otherwise.
_SHAPES = {
    "wide": (100, 20_000, 0, 10),
    "leukemia": (72, 7129, 1, 10),
    "tall": (50_000, 500, 2, 50),
    "sparse": (20_000, 100_000, 3, 100),
}
_SPARSE_DENSITY = 1e-3


@dataclasses.dataclass
class Problem:
    """One benchmark problem: data, regularisation and a one-line description."""

    name: str
    X: np.ndarray | sp.spmatrix
    y: np.ndarray
    alpha: float
    l1_ratio: float = 1.0
    fit_intercept: bool = False
    description: str = ""

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    @property
    def gap_target(self) -> float:
        """The duality-gap bound the gap-based solvers certify at ``tol = 1``:
        ``||y||^2 / n`` (multiply by ``tol``)."""
        return float(self.y @ self.y) / self.y.shape[0]


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
    label = {"wide": "wide", "leukemia": "leukemia-shaped", "tall": "tall"}[kind]
    return X, y, f"{label} dense {n} x {p}, AR({_RHO:g}) correlated columns"


def alpha_max(X, y: np.ndarray, l1_ratio: float = 1.0) -> float:
    """Smallest alpha with an all-zero solution (no intercept):
    ``||X^T y||_inf / (n l1_ratio)``."""
    return float(np.max(np.abs(X.T @ y))) / (X.shape[0] * l1_ratio)


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
    amax = alpha_max(X, y, spec.l1_ratio)
    alpha = amax / spec.alpha_div
    kind = f"ElasticNet l1_ratio={spec.l1_ratio:g}" if spec.l1_ratio < 1 else "Lasso"
    fmt = {"dense": "Fortran-ordered", "csc": "CSC", "csr": "CSR"}[spec.fmt]
    description = (f"{kind}, {what} ({fmt}), no intercept, "
                   f"alpha = alpha_max/{spec.alpha_div:g} = {alpha:.4g}")
    return Problem(name=name, X=X, y=y, alpha=alpha, l1_ratio=spec.l1_ratio,
                   description=description)


def list_problems() -> list[tuple[str, str]]:
    """(name, short description) of every problem, without generating data."""
    what = {"wide": "wide dense AR(0.5) 100 x 20000",
            "leukemia": "leukemia 72 x 7129 (real with --data-dir, else synthetic AR(0.5))",
            "tall": "tall dense AR(0.5) 50000 x 500",
            "sparse": "sparse 20000 x 100000, density 1e-3"}
    out = []
    for name, spec in PROBLEMS.items():
        model = "Lasso" if spec.l1_ratio == 1 else f"ElasticNet l1_ratio={spec.l1_ratio:g}"
        fmt = "" if spec.fmt == "dense" else f" as {spec.fmt.upper()}"
        out.append((name, f"{model}, {what[spec.data]}{fmt}, alpha_max/{spec.alpha_div:g}"))
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


# --------------------------------------------------------------------------------------------
# Solver adapters: (problem, tol) -> coef
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Solver:
    """A solver adapter. ``fit(problem, tol)`` returns the coefficients.

    ``calibrate``: the solver's ``tol`` is not a duality-gap bound; the harness tightens it
    (starting at ``tol * tol_factor``) until the duality gap meets the common bound.
    """

    name: str
    module: str  # import name, to test availability
    fit: Callable[[Problem, float], np.ndarray]
    tol_meaning: str
    calibrate: bool = False
    tol_factor: float = 1.0
    unsupported: str | None = None  # set when an installed peer has no usable adapter

    def availability(self) -> str | None:
        """None if usable, else the reason it is skipped."""
        try:
            importlib.import_module(self.module)
        except Exception as exc:  # noqa: BLE001 - any import failure means "skip"
            if isinstance(exc, ImportError):
                return "not installed"
            return f"import failed: {type(exc).__name__}: {exc}"
        return self.unsupported


def make_model(lasso_class, enet_class, problem: Problem, **params):
    """The problem's estimator from a library: its Lasso when ``l1_ratio == 1``, else its
    ElasticNet, with the problem's alpha and intercept setting plus ``params``."""
    params = dict(alpha=problem.alpha, fit_intercept=problem.fit_intercept, **params)
    if problem.l1_ratio == 1.0:
        return lasso_class(**params)
    return enet_class(l1_ratio=problem.l1_ratio, **params)


def _fit_fastl1(problem: Problem, tol: float) -> np.ndarray:
    import fastl1

    model = make_model(fastl1.Lasso, fastl1.ElasticNet, problem, tol=tol, max_iter=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _fit_sklearn(problem: Problem, tol: float) -> np.ndarray:
    from sklearn.linear_model import ElasticNet, Lasso

    model = make_model(Lasso, ElasticNet, problem, tol=tol, max_iter=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _fit_celer(problem: Problem, tol: float) -> np.ndarray:
    import celer

    # celer's objective is scikit-learn's (1/(2n) datafit); its stop is
    # gap <= tol * ||y||^2 / n, like scikit-learn's.
    model = make_model(celer.Lasso, celer.ElasticNet, problem, tol=tol, max_iter=10_000,
                       max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _fit_skglm(problem: Problem, tol: float) -> np.ndarray:
    import skglm

    model = make_model(skglm.Lasso, skglm.ElasticNet, problem, tol=tol, max_iter=1000,
                       max_epochs=_MAX_ITER)
    return model.fit(problem.X, problem.y).coef_


def _fit_glmnet(problem: Problem, tol: float) -> np.ndarray:
    import glmnet

    # glmnet (gaussian, no intercept) rescales y internally by s = sqrt(mean(y^2)), which
    # changes the ridge part of the elastic net unless y already has s = 1: fit y / s at
    # lambda = alpha / s and scale the coefficients back (exact for lasso and elastic net).
    y = np.asarray(problem.y, dtype=np.float64)
    s = float(np.sqrt(np.mean(y * y))) or 1.0
    model = glmnet.ElasticNet(alpha=problem.l1_ratio, lambda_path=np.array([problem.alpha / s]),
                              standardize=False, fit_intercept=problem.fit_intercept,
                              n_splits=0, tol=tol, max_iter=_MAX_ITER)
    X = problem.X.tocsr() if sp.issparse(problem.X) else problem.X
    model.fit(X, y / s)
    return np.asarray(model.coef_path_)[:, 0] * s


def _fit_unsupported(problem: Problem, tol: float) -> np.ndarray:  # pragma: no cover
    raise NotImplementedError("no adapter")


SOLVERS: dict[str, Solver] = {
    "fastl1": Solver(
        "fastl1", "fastl1", _fit_fastl1,
        "duality gap: stops when gap <= tol * ||y||^2 / n (as scikit-learn)"),
    "sklearn": Solver(
        "sklearn", "sklearn", _fit_sklearn,
        "duality gap: stops when gap <= tol * ||y||^2 / n"),
    "celer": Solver(
        "celer", "celer", _fit_celer,
        "duality gap: stops when gap <= tol * ||y||^2 / n (same scaling as scikit-learn)"),
    "skglm": Solver(
        "skglm", "skglm", _fit_skglm,
        "max KKT violation (gradient units), not a gap: calibrated from tol down by 10x "
        "until objective - best dual value <= tol * ||y||^2 / n",
        calibrate=True),
    "glmnet": Solver(
        "glmnet", "glmnet", _fit_glmnet,
        "python-glmnet thresh (objective change relative to null deviance), not a gap: "
        "calibrated from tol down by 10x until objective - best dual value <= "
        "tol * ||y||^2 / n",
        calibrate=True),
    "adelie": Solver(
        "adelie", "adelie", _fit_unsupported,
        "no adapter",
        unsupported="installed, but no adapter: its grpnet path/state API with its own "
        "matrix wrappers and early-exit rules does not map onto one fit at one alpha simply"),
}


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


def _timed(solver: Solver, problem: Problem, tol: float) -> tuple[np.ndarray, float, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        coef = solver.fit(problem, tol)
        elapsed = time.perf_counter() - start
    notes = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
                    for w in caught if issubclass(w.category, Warning)
                    and "onvergence" in w.category.__name__})
    return np.asarray(coef, dtype=np.float64).ravel(), elapsed, notes


def _as_problem(p, scale, data_dir) -> Problem:
    return p if isinstance(p, Problem) else make_problem(p, scale=scale, data_dir=data_dir)


def _as_solver(s) -> Solver:
    if isinstance(s, Solver):
        return s
    if s not in SOLVERS:
        raise ValueError(f"unknown solver {s!r}; choose from: {', '.join(SOLVERS)}")
    return SOLVERS[s]


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
    problems : names (see :data:`PROBLEMS`) or :class:`Problem` objects; default all.
    solvers : names (see :data:`SOLVERS`) or :class:`Solver` objects; default all (those not
        installed are reported with ``status="skipped"``).
    repeats : timed fits per solver after the warm-up fit; the median is reported.
    tol : accuracy: every solver must reach a suboptimality ``<= tol * ||y||^2 / n`` (the
        duality-gap stop of scikit-learn, celer and fastl1 at this ``tol``).
    scale, data_dir : passed to :func:`make_problem` for problems given by name.
    time_limit : a solver whose fit takes longer than this many seconds gets no further fits
        on that problem (``status="timeout"`` if no timed fit completed).
    progress : called with one line of text per fit (e.g. ``print``), for long runs.

    Each result has: ``problem, description, n_samples, n_features, format, alpha, l1_ratio,
    solver, status`` (``ok``, ``timeout``, ``failed``, ``skipped``), ``note``,
    ``tol_meaning, tol`` (the solver's own tolerance used), ``gap_target``, ``first_fit``
    (seconds, warm-up fit incl. JIT), ``times`` (timed fits), ``median``, ``objective``,
    ``dual_objective`` and ``duality_gap`` (of the dual point built from this solver's
    residual), ``certified_suboptimality`` (objective - best dual value of any solver),
    ``gap_ok`` (that is <= ``gap_target``), ``suboptimality`` and ``rel_suboptimality``
    (against the best objective on that problem), ``nnz`` and ``ratio`` (fastl1 median / this
    median: < 1 means fastl1 is faster).
    """
    if isinstance(repeats, bool) or int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if not (tol > 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a positive number, got {tol!r}")
    solver_list = [_as_solver(s) for s in (SOLVERS if solvers is None else solvers)]
    names = list(PROBLEMS) if problems is None else list(problems)
    for p in names:  # fail early, before any long computation
        if not isinstance(p, Problem) and p not in PROBLEMS:
            raise ValueError(f"unknown problem {p!r}; choose from: {', '.join(PROBLEMS)}")
    say = progress or (lambda line: None)
    results: list[dict] = []
    for p in names:
        problem = _as_problem(p, scale, data_dir)
        results.extend(_run_problem(problem, solver_list, int(repeats), float(tol),
                                    float(time_limit), say))
    return results


def _add_note(row: dict, note: str, first: bool = False) -> None:
    if note and note not in row["note"]:
        parts = [note, row["note"]] if first else [row["note"], note]
        row["note"] = "; ".join(p for p in parts if p)


def _run_problem(problem: Problem, solvers: Sequence[Solver], repeats: int, tol: float,
                 time_limit: float, say: Callable[[str], None]) -> list[dict]:
    X, y, alpha, l1_ratio = problem.X, problem.y, problem.alpha, problem.l1_ratio
    n, p = problem.shape
    fmt = X.format if sp.issparse(X) else ("dense-F" if X.flags.f_contiguous else "dense-C")
    gap_target = tol * problem.gap_target
    base = dict(problem=problem.name, description=problem.description, n_samples=n,
                n_features=p, format=fmt, alpha=alpha, l1_ratio=l1_ratio)
    rows = []
    for s in solvers:
        row = dict(base, solver=s.name, status="ok", note="", tol_meaning=s.tol_meaning,
                   tol=None, gap_target=gap_target, first_fit=None, times=[], median=None,
                   objective=None, dual_objective=None, duality_gap=None,
                   certified_suboptimality=None, gap_ok=None, suboptimality=None,
                   rel_suboptimality=None, nnz=None, ratio=None, _coef=None)
        reason = s.availability()
        if reason is not None:
            row.update(status="skipped", note=reason)
        rows.append(row)
    best_dual = -math.inf  # best lower bound on the minimum seen so far

    def fit(row, s, solver_tol):
        coef, elapsed, notes = _timed(s, problem, solver_tol)
        row["_coef"] = coef
        for note in notes:
            _add_note(row, note)
        return coef, elapsed

    def fail(row, exc):
        row.update(status="failed", note=f"{type(exc).__name__}: {str(exc)[:200]}")
        say(f"  {problem.name} {row['solver']}: failed ({row['note']})")

    # Warm-up (first fit, incl. JIT compile) and, for tolerances that are not a duality-gap
    # bound, calibration: tighten 10x until objective - (best dual value) <= gap_target.
    for s, row in zip(solvers, rows, strict=True):
        if row["status"] != "ok":
            continue
        solver_tol = tol * s.tol_factor
        try:
            coef, first = fit(row, s, solver_tol)
            row["first_fit"] = spent = first
            say(f"  {problem.name} {s.name}: first fit {first:.3g} s")
            primal, dual = primal_dual(X, y, coef, alpha, l1_ratio)
            steps = 0
            while (s.calibrate and primal - max(dual, best_dual) > gap_target
                   and steps < _CALIBRATION_STEPS and spent <= time_limit):
                solver_tol /= 10.0
                steps += 1
                coef, elapsed = fit(row, s, solver_tol)
                spent += elapsed
                primal, dual = primal_dual(X, y, coef, alpha, l1_ratio)
                say(f"  {problem.name} {s.name}: calibrating, tol={solver_tol:.0e} "
                    f"({elapsed:.3g} s)")
            if steps:
                _add_note(row, f"calibrated from tol {tol * s.tol_factor:.0e}", first=True)
            best_dual = max(best_dual, dual)
            row["tol"] = solver_tol
            if spent > time_limit:
                row["status"] = "timeout"
                _add_note(row, f"stopped: warm-up took {spent:.1f} s > {time_limit:g} s",
                          first=True)
        except Exception as exc:  # noqa: BLE001 - a peer failure is a note, not a crash
            fail(row, exc)

    # Timed rounds, round-robin; the solver that starts a round rotates.
    pairs = [(s, row) for s, row in zip(solvers, rows, strict=True) if row["status"] == "ok"]
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

    # Accuracy, measured by the harness on the last coefficients of each solver.
    for row in rows:
        coef = row.pop("_coef")
        if row["times"]:
            row["median"] = float(np.median(row["times"]))
        if coef is None or row["status"] in ("skipped", "failed"):
            continue
        row["objective"], row["dual_objective"] = primal_dual(X, y, coef, alpha, l1_ratio)
        row["duality_gap"] = row["objective"] - row["dual_objective"]
        row["nnz"] = int(np.count_nonzero(coef))
    done = [r for r in rows if r["objective"] is not None and math.isfinite(r["objective"])]
    best = min((r["objective"] for r in done), default=None)
    best_dual = max([best_dual] + [r["dual_objective"] for r in done])
    ref = next((r["median"] for r in rows if r["solver"] == "fastl1" and r["median"]), None)
    for row in rows:
        if row in done:
            row["suboptimality"] = row["objective"] - best
            row["rel_suboptimality"] = row["suboptimality"] / max(abs(best), 1e-300)
            # objective - (best lower bound from any solver's dual point): a certificate
            row["certified_suboptimality"] = row["objective"] - best_dual
            row["gap_ok"] = bool(row["certified_suboptimality"] <= gap_target)
        if ref is not None and row["median"]:
            row["ratio"] = ref / row["median"]
        for key in ("objective", "dual_objective", "duality_gap", "certified_suboptimality",
                    "suboptimality", "rel_suboptimality"):
            row[key] = _finite(row[key])
        row["times"] = [float(t) for t in row["times"]]
        for key in ("alpha", "gap_target", "first_fit", "median", "ratio", "tol"):
            row[key] = None if row[key] is None else float(row[key])
    return rows


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def _fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)


def format_table(results: Sequence[dict]) -> str:
    """A text table per problem (in the order of ``results``) with notes below it."""
    by_problem: dict[str, list[dict]] = {}
    for row in results:
        by_problem.setdefault(row["problem"], []).append(row)
    header = ("solver", "median (s)", "first fit (s)", "objective", "rel. subopt",
              "duality gap", "nnz", "fastl1/solver")
    blocks = []
    for name, rows in by_problem.items():
        first = rows[0]
        lines = [f"{name}: {first['description']}"]
        table = [header]
        notes = []
        for row in rows:
            if row["status"] in ("skipped", "failed"):
                notes.append(f"{row['solver']}: {row['status']} ({row['note']})")
                continue
            table.append((
                row["solver"] + ("" if row["status"] == "ok" else "*"),
                _fmt(row["median"], ".4f"),
                _fmt(row["first_fit"], ".3f"),
                _fmt(row["objective"], ".10e"),
                _fmt(row["rel_suboptimality"], ".1e"),
                _fmt(row["duality_gap"], ".1e") + (" !" if row["gap_ok"] is False else ""),
                _fmt(row["nnz"], "d"),
                _fmt(row["ratio"], ".2f"),
            ))
            text = f"tol {row['tol']:.0e}" if row["tol"] is not None else ""
            if row["gap_ok"] is False:
                text += (f", certified suboptimality {row['certified_suboptimality']:.1e}"
                         " above target")
            if row["note"]:
                text += f" ({row['note']})"
            if row["status"] != "ok":
                text = f"{row['status']}* {text}"
            notes.append(f"{row['solver']}: {text}")
        widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
        for k, r in enumerate(table):
            cells = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i])
                     for i, c in enumerate(r)]
            lines.append("  " + "  ".join(cells))
            if k == 0:
                lines.append("  " + "  ".join("-" * w for w in widths))
        lines.append(f"  target: suboptimality <= tol * ||y||^2 / n = "
                     f"{first['gap_target']:.2e}; '!' = not certified (objective minus best "
                     "dual value above it)")
        lines.extend(f"  {note}" for note in notes)
        blocks.append("\n".join(lines))
    legend = ("median: of the timed fits after one warm-up fit ('first fit', incl. JIT "
              "compile); fastl1/solver < 1 means fastl1 is faster.\nobjective, duality gap "
              "(residual-based dual point) and nnz computed by the harness in float64; rel. "
              "subopt against the best objective found.")
    return "\n\n".join(blocks + [legend])
