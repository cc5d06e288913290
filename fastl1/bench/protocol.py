"""The measuring protocol: warm-up, calibration of tolerances that are not a duality gap,
timed rounds, and the accuracy certificates the harness computes for every solver (see
:mod:`fastl1.bench` for the protocol in full)."""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import scipy.sparse as sp

from .blocks import run_block_problem
from .glm import run_glm_problem
from .objectives import PathSolution, coef_at, primal_dual_grid
from .peers import GLMPATH_SOLVERS, Solver, Timed, solver_names, solvers_for
from .problems import (
    PROBLEMS,
    TASKS,
    BenchProblem,
    MissingDataError,
    expand_problems,
    make_bench_problem,
)

__all__ = ["accuracy_curves", "run"]

_CALIBRATION_FACTOR = 10.0 ** 0.5  # half a decade per calibration step
_CALIBRATION_STEPS = 12  # at most 10^-6 tighter than the starting tolerance
_TIME_LIMIT = 60.0  # seconds per fit before a solver is stopped on a problem
# Pause before each timed fit: after a multi-threaded BLAS call OpenBLAS's idle workers spin
# for about 0.1 s, so a solver that ends with one would take a core from the next solver's
# first 0.1 s (a 0.5 s LassoCV on two threads).
_SETTLE_SECONDS = 0.2
# glmpath problems: the untimed reference solve that gives every alpha a near-exact lower
# bound (so a peer's certificate measures its own error, not the reference's), and the
# accuracy modes, each a row per solver.
_REFERENCE_TOL = 1e-13
_ACCURACY_MODES = ("matched", "default")
_GLMPATH_CALIBRATION_STEPS = 12  # decades below the package's default tolerance


def _grid_order(grid: np.ndarray, alphas) -> np.ndarray:
    """Indices putting a solver's ``alphas`` in the order of ``grid`` (checked to be equal)."""
    alphas = np.asarray(alphas, dtype=np.float64).ravel()
    if alphas.shape != grid.shape:
        raise ValueError(f"{alphas.size} alphas returned, expected the {grid.size} given")
    order = np.argsort(-alphas, kind="stable")
    if not np.allclose(alphas[order], grid, rtol=1e-9, atol=0.0):
        raise ValueError("the alphas returned differ from the grid given")
    return order


def _normalise(problem: BenchProblem, raw) -> object:
    """A solver's answer in the harness's form (see :class:`Solver`): ``"fit"``: coef
    (n_features,); ``"path"``: CSC array (n_features, n_alphas), columns in grid order;
    ``"cv"``: ``{"alpha_": float, "mse_path": (n_alphas, n_folds) in grid order}``."""
    if problem.task in ("fit", "logistic"):
        return np.asarray(raw, dtype=np.float64).ravel()
    grid = problem.grid
    if problem.task == "glmpath":
        alphas, coefs, intercepts = raw
        order = _grid_order(grid, alphas)
        coefs = sp.csc_array(coefs) if sp.issparse(coefs) else np.asarray(coefs)
        intercepts = np.asarray(intercepts, dtype=np.float64).ravel()
        if coefs.shape != (problem.shape[1], grid.size) or intercepts.shape != (grid.size,):
            raise ValueError(f"coefs of shape {coefs.shape} and {intercepts.shape[0]} "
                             f"intercepts, expected {(problem.shape[1], grid.size)} and "
                             f"{grid.size}")
        coefs = sp.csc_array(coefs[:, order], dtype=np.float64)
        return PathSolution(coefs, intercepts[order])
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


def _timed(solver: Solver, problem: BenchProblem, tol: float) -> tuple[object, float, list[str]]:
    time.sleep(_SETTLE_SECONDS)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        raw = solver.fit(problem, tol)
        elapsed = time.perf_counter() - start
    if isinstance(raw, Timed):  # the solver's own clock (R: around the fit only)
        raw, elapsed = raw.value, raw.seconds
    notes = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:120]}"
                    for w in caught if issubclass(w.category, Warning)
                    and "onvergence" in w.category.__name__})
    return _normalise(problem, raw), elapsed, notes


def _as_problem(p, scale, data_dir) -> BenchProblem:
    if isinstance(p, BenchProblem):
        return p
    return make_bench_problem(p, scale=scale, data_dir=data_dir)


def _check_solver(s) -> str | Solver:
    if not isinstance(s, Solver) and s not in solver_names():
        raise ValueError(f"unknown solver {s!r}; choose from: {', '.join(solver_names())}")
    return s


def _variants(solver: Solver, problem: BenchProblem) -> list[tuple[Solver, int | None]]:
    """The rows a solver gives on a problem: one, one per ``cv_jobs`` on a CV problem, or one
    per accuracy mode on a glmpath problem (``"<name>"`` matched, ``"<name>-default"`` at the
    package's defaults)."""
    if problem.task == "glmpath":
        return [(dataclasses.replace(solver, accuracy=mode, name=solver.name if
                                     mode == "matched" else f"{solver.name}-{mode}"), None)
                for mode in _ACCURACY_MODES]
    if problem.task != "cv" or not solver.cv_jobs:
        return [(solver, None)]
    return [(dataclasses.replace(solver, name=solver.name if i == 0 else
                                 f"{solver.name}-n_jobs={jobs}",
                                 fit=functools.partial(solver.fit, n_jobs=jobs)), jobs)
            for i, jobs in enumerate(solver.cv_jobs)]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def run(problems: Iterable[str | BenchProblem] | None = None,
        solvers: Iterable[str | Solver] | None = None,
        repeats: int = 3, tol: float = 1e-8, *, scale: float = 1.0,
        data_dir: str | os.PathLike | None = None, time_limit: float = _TIME_LIMIT,
        progress: Callable[[str], None] | None = None) -> list[dict]:
    """Run every solver on every problem; one json-serialisable dict per (problem, solver).

    Parameters
    ----------
    problems : names (see :data:`PROBLEMS`), group names (see :data:`PROBLEM_GROUPS`) or
        :class:`BenchProblem` objects; default all.
    solvers : names (see :data:`SOLVERS`) or :class:`Solver` objects; default all (those not
        installed are reported with ``status="skipped"``). On CV problems fastl1 and
        scikit-learn give two rows each (``n_jobs=2`` and ``"<name>-n_jobs=1"``).
    repeats : timed fits per solver after the warm-up fit; the median is reported.
    tol : accuracy: every solver must reach a suboptimality ``<= tol * ||y||^2 / n`` (the
        duality-gap stop of scikit-learn, celer and fastl1 at this ``tol``), on a path at
        every alpha.
    scale, data_dir : passed to :func:`make_bench_problem` for problems given by name.
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
        try:
            problem = _as_problem(p, scale, data_dir)
        except MissingDataError as exc:
            say(f"  {p}: skipped ({exc})")
            results.append(_missing_data_row(p, str(exc)))
            continue
        if problem.task not in TASKS:
            raise ValueError(f"unknown task {problem.task!r}; choose from: {', '.join(TASKS)}")
        if problem.task == "glm":  # Cox and Poisson: relative objective errors
            results.extend(run_glm_problem(problem, solvers_for("glm", requested),
                                           int(repeats), float(tol), float(time_limit), say))
            continue
        if problem.task == "blocks":  # multi-task and group lasso: relative objective errors
            results.extend(run_block_problem(problem, solvers_for("blocks", requested),
                                             int(repeats), float(tol), float(time_limit),
                                             say))
            continue
        results.extend(_run_problem(problem, solvers_for(problem.task, requested),
                                    int(repeats), float(tol),
                                    float(time_limit), say))
    return results


def _missing_data_row(name: str, reason: str) -> dict:
    """The one row of a problem whose real data are not there: every solver skipped."""
    spec = PROBLEMS[name]
    row = dict(problem=name, description=f"{name}: real data not found", task=spec.task,
               solver="(all)", status="skipped", note=reason, median=None, ratio=None,
               times=[])
    row.update(dict.fromkeys(_TASK_FIELDS[spec.task]))
    return row


def _add_note(row: dict, note: str, first: bool = False) -> None:
    if note and note not in row["note"]:
        parts = [note, row["note"]] if first else [row["note"], note]
        row["note"] = "; ".join(p for p in parts if p)


# Fields only the rows of a path or CV problem have (besides the common ones).
_TASK_FIELDS = {
    "glm": ("loss", "n_alphas", "alpha_min", "rel_error", "within_target", "ratio_best_peer",
            "best_peer"),
    "blocks": ("loss", "n_alphas", "alpha_min", "rel_error", "within_target",
               "ratio_best_peer", "best_peer"),
    "fit": (),
    "logistic": (),
    "glmpath": ("n_alphas", "alpha_min", "loss", "accuracy", "objectives",
                "rel_suboptimalities", "certified_suboptimalities", "n_over_target",
                "worst_alpha", "reference_rel_gap", "ratio_best_peer", "best_peer"),
    "path": ("n_alphas", "alpha_min", "objectives", "certified_suboptimalities",
             "n_over_target", "worst_alpha"),
    "cv": ("n_alphas", "alpha_min", "n_folds", "n_jobs", "alpha_", "alpha_index",
           "cv_mean_mse", "cv_mse_min", "reference", "same_alpha", "cv_rel_diff",
           "speedup_n_jobs"),
}


def _run_problem(problem: BenchProblem, solvers: Sequence[Solver], repeats: int, tol: float,
                 time_limit: float, say: Callable[[str], None]) -> list[dict]:
    gap_target = tol * problem.gap_target
    runs, rows = _rows(problem, solvers, gap_target)
    best_dual = np.full(problem.grid.size, -np.inf)  # best lower bound on each minimum so far
    reference = None
    if problem.task == "glmpath" and any(row["status"] == "ok" for row in rows):
        reference = _reference(problem, say)
        if reference is not None:
            best_dual = reference[1]
            for row in rows:
                row["reference_rel_gap"] = float(np.max((reference[0] - reference[1])
                                                        / np.abs(reference[0])))
    for s, row in zip(runs, rows, strict=True):
        if row["status"] == "ok":
            best_dual = _warm_up(problem, s, row, tol, gap_target, best_dual, time_limit, say)
    _timed_rounds(problem, runs, rows, repeats, time_limit, say)
    return _evaluate(problem, rows, best_dual, gap_target,
                     None if reference is None else reference[0])


def _reference(problem: BenchProblem, say: Callable[[str], None]
               ) -> tuple[np.ndarray, np.ndarray] | None:
    """Primal and dual values along the path of an untimed fastl1 solve at
    ``_REFERENCE_TOL`` (glmpath problems): the dual values are near-exact lower bounds, so
    that every row's certificate ``objective - best dual value`` is its true error to within
    the reference's own gap (reported as ``reference_rel_gap``). None if it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result, elapsed, _ = _timed(GLMPATH_SOLVERS["fastl1"], problem, _REFERENCE_TOL)
    except Exception as exc:  # noqa: BLE001 - the peers' duals still bound the minimum
        say(f"  {problem.name}: no reference solve ({type(exc).__name__}: {exc})")
        return None
    say(f"  {problem.name}: reference solve (fastl1, tol={_REFERENCE_TOL:g}) {elapsed:.3g} s")
    return primal_dual_grid(problem, result)


def _rows(problem: BenchProblem, solvers: Sequence[Solver], gap_target: float
          ) -> tuple[list[Solver], list[dict]]:
    """One result row per solver variant (see :func:`_variants`), and the variants."""
    X, task, grid = problem.X, problem.task, problem.grid
    n, p = problem.shape
    fmt = X.format if sp.issparse(X) else ("dense-F" if X.flags.f_contiguous else "dense-C")
    base = dict(problem=problem.name, description=problem.description, task=task,
                n_samples=n, n_features=p, format=fmt, alpha=float(problem.alpha),
                l1_ratio=problem.l1_ratio)
    base.update(dict.fromkeys(_TASK_FIELDS[task]))
    if task in ("path", "cv", "glmpath"):
        base.update(n_alphas=int(grid.size), alpha_min=float(grid[-1]))
    if task == "glmpath":
        base.update(loss=problem.loss)
    if task == "cv":
        base.update(n_folds=problem.n_folds)
    runs: list[Solver] = []
    rows = []
    variants = [(solver, *v) for solver in solvers for v in _variants(solver, problem)]
    if task == "glmpath":  # the matched rows first, then the defaults
        variants.sort(key=lambda v: _ACCURACY_MODES.index(v[1].accuracy))
    for solver, s, n_jobs in variants:
        row = dict(base, solver=s.name, status="ok", note="", tol_meaning=s.tol_meaning,
                   tol=None, gap_target=gap_target, first_fit=None, times=[],
                   median=None, objective=None, dual_objective=None, duality_gap=None,
                   certified_suboptimality=None, gap_ok=None, suboptimality=None,
                   rel_suboptimality=None, nnz=None, ratio=None, _result=None,
                   _family=solver.name)
        if task == "cv":
            row["n_jobs"] = n_jobs
        if task == "glmpath":
            row["accuracy"] = s.accuracy
        reason = s.availability(task)
        if reason is not None:
            row.update(status="skipped", note=reason)
        runs.append(s)
        rows.append(row)
    return runs, rows


def _fit_row(problem: BenchProblem, row: dict, s: Solver, solver_tol: float
             ) -> tuple[object, float]:
    """One timed fit; its result and convergence warnings go into ``row``."""
    result, elapsed, notes = _timed(s, problem, solver_tol)
    row["_result"] = result
    row["_capped"] = bool(notes)  # it warned that it stopped at its iteration cap
    for note in notes:
        _add_note(row, note)
    return result, elapsed


def _fail(problem: BenchProblem, row: dict, exc: Exception, say: Callable[[str], None]) -> None:
    row.update(status="failed", note=f"{type(exc).__name__}: {str(exc)[:200]}")
    say(f"  {problem.name} {row['solver']}: failed ({row['note']})")


def _warm_up(problem: BenchProblem, s: Solver, row: dict, tol: float, gap_target: float,
             best_dual: np.ndarray, time_limit: float, say: Callable[[str], None]
             ) -> np.ndarray:
    """The first fit (JIT compile included) and, for a tolerance that is not a duality-gap
    bound, its calibration (see :func:`_calibrate`). Returns the best dual values known,
    this solver's included. CV has no single objective: no calibration. glmpath rows:
    ``"default"`` rows run at the package's defaults (``tol=None``), ``"matched"`` ones are
    calibrated from the package's default tolerance (:func:`_calibrate_glmpath`)."""
    if problem.task == "glmpath":
        return _warm_up_glmpath(problem, s, row, gap_target, best_dual, time_limit, say)
    solver_tol = tol * s.tol_factor
    try:
        result, first = _fit_row(problem, row, s, solver_tol)
        row["first_fit"] = first
        say(f"  {problem.name} {s.name}: first fit {first:.3g} s")
        spent = _first_fit_charge(first, time_limit)
        if problem.task == "cv":
            if s.calibrate:
                _add_note(row, "tol not calibrated on CV (no single objective): its own "
                          "tol as is", first=True)
        else:
            solver_tol, spent, dual = _calibrate(problem, s, row, result, solver_tol, spent,
                                                 gap_target, best_dual, time_limit, say)
            best_dual = np.fmax(best_dual, dual)
        _end_warm_up(row, solver_tol, spent, time_limit)
    except Exception as exc:  # noqa: BLE001 - a peer failure is a note, not a crash
        _fail(problem, row, exc, say)
    return best_dual


def _end_warm_up(row: dict, solver_tol, spent: float, time_limit: float) -> None:
    """Record the tolerance the warm-up settled on; past the time limit, stop the solver."""
    row["tol"] = solver_tol
    if spent > time_limit:
        row["status"] = "timeout"
        _add_note(row, f"stopped: warm-up took {spent:.1f} s > {time_limit:g} s", first=True)


def _first_fit_charge(first: float, time_limit: float) -> float:
    """The part of a first fit's time charged to the time limit: none, unless it is beyond
    anything a JIT compile takes (ten limits). The first fit, reported on its own, includes
    the compile, which on an empty Numba cache takes longer than a limit meant for fits."""
    return first if first > 10 * time_limit else 0.0


def _warm_up_glmpath(problem: BenchProblem, s: Solver, row: dict, gap_target: float,
                     best_dual: np.ndarray, time_limit: float, say: Callable[[str], None]
                     ) -> np.ndarray:
    solver_tol = None if s.accuracy == "default" else s.default_tol
    try:
        result, first = _fit_row(problem, row, s, solver_tol)
        row["first_fit"] = first
        say(f"  {problem.name} {s.name}: first fit {first:.3g} s")
        spent = _first_fit_charge(first, time_limit)
        if s.accuracy == "default":
            dual = primal_dual_grid(problem, result)[1]
        else:
            solver_tol, spent, dual = _calibrate_glmpath(problem, s, row, result, solver_tol,
                                                         spent, gap_target, best_dual,
                                                         time_limit, say)
        best_dual = np.fmax(best_dual, dual)
        _end_warm_up(row, solver_tol, spent, time_limit)
    except Exception as exc:  # noqa: BLE001 - a peer failure is a note, not a crash
        _fail(problem, row, exc, say)
    return best_dual


def _calibrate_glmpath(problem: BenchProblem, s: Solver, row: dict, result,
                       solver_tol: float, spent: float, gap_target: float,
                       best_dual: np.ndarray, time_limit: float, say: Callable[[str], None]
                       ) -> tuple[float, float, np.ndarray]:
    """Tighten a matched glmpath row's tolerance by decades from the package's default until
    ``(objective - best dual value) / objective <= gap_target`` at every alpha, then try half
    a decade looser and keep it if it passes too: the loosest half-decade that passes, in
    fewer fits than half-decade steps (the tolerances differ by up to ten decades between
    packages). Returns the tolerance, the seconds of the last fit and its dual values."""
    def excess(result) -> tuple[float, np.ndarray]:
        primal, dual = primal_dual_grid(problem, result)
        return float(np.max((primal - np.fmax(dual, best_dual)) / np.abs(primal))), dual

    start = solver_tol
    err, dual = excess(result)
    steps = 0
    while (err > gap_target and steps < _GLMPATH_CALIBRATION_STEPS and spent <= time_limit
           and not row["_capped"]):
        solver_tol /= 10.0
        steps += 1
        result, spent = _fit_row(problem, row, s, solver_tol)
        err, dual = excess(result)
        say(f"  {problem.name} {s.name}: calibrating, tol={solver_tol:.2g} ({spent:.3g} s), "
            f"relative error {err:.2g}")
    if steps and err <= gap_target and spent <= time_limit:
        looser = solver_tol * _CALIBRATION_FACTOR
        result, elapsed = _fit_row(problem, row, s, looser)
        err_looser, dual_looser = excess(result)
        say(f"  {problem.name} {s.name}: calibrating, tol={looser:.2g} ({elapsed:.3g} s), "
            f"relative error {err_looser:.2g}")
        dual = np.fmax(dual, dual_looser)
        if err_looser <= gap_target:
            solver_tol, spent = looser, elapsed
    if steps:
        _add_note(row, f"calibrated from its default tol {start:.0e}", first=True)
    return solver_tol, spent, dual


def _calibrate(problem: BenchProblem, s: Solver, row: dict, result, solver_tol: float,
               spent: float, gap_target: float, best_dual: np.ndarray, time_limit: float,
               say: Callable[[str], None]) -> tuple[float, float, np.ndarray]:
    """Tighten a calibrated solver's tolerance by half decades until objective minus the best
    dual value is within ``gap_target`` (at every alpha of a path). Returns the tolerance,
    the seconds spent and the dual values of the last fit."""
    start = solver_tol
    primal, dual = primal_dual_grid(problem, result)
    steps = 0
    # a fit stopped by its iteration cap would not improve with a tighter tol
    while (s.calibrate and np.max(primal - np.fmax(dual, best_dual)) > gap_target
           and steps < _CALIBRATION_STEPS and spent <= time_limit and not row["_capped"]):
        solver_tol /= _CALIBRATION_FACTOR
        steps += 1
        result, elapsed = _fit_row(problem, row, s, solver_tol)
        spent += elapsed
        primal, dual = primal_dual_grid(problem, result)
        say(f"  {problem.name} {s.name}: calibrating, tol={solver_tol:.2g} ({elapsed:.3g} s)")
    if steps:
        _add_note(row, f"calibrated from tol {start:.0e}", first=True)
    return solver_tol, spent, dual


def _timed_rounds(problem: BenchProblem, runs: Sequence[Solver], rows: Sequence[dict],
                  repeats: int, time_limit: float, say: Callable[[str], None]) -> None:
    """The timed fits, round-robin; the solver that starts a round rotates, so that drift of
    the machine affects every solver alike."""
    pairs = [(s, row) for s, row in zip(runs, rows, strict=True) if row["status"] == "ok"]
    stopped: set[str] = set()
    for r in range(repeats):
        k = r % len(pairs) if pairs else 0
        for s, row in pairs[k:] + pairs[:k]:
            if row["status"] != "ok" or s.name in stopped:
                continue
            try:
                _, elapsed = _fit_row(problem, row, s, row["tol"])
            except Exception as exc:  # noqa: BLE001
                _fail(problem, row, exc, say)
                continue
            row["times"].append(elapsed)
            say(f"  {problem.name} {s.name}: round {r + 1}/{repeats} {elapsed:.3g} s")
            if elapsed > time_limit and r + 1 < repeats:
                stopped.add(s.name)
                _add_note(row, f"stopped after {len(row['times'])} timed fit(s): "
                          f"{elapsed:.1f} s > {time_limit:g} s", first=True)


def _evaluate(problem: BenchProblem, rows: list[dict], best_dual: np.ndarray,
              gap_target: float, reference_primal: np.ndarray | None = None) -> list[dict]:
    """Medians, the accuracy measured by the harness on the last result of each solver, the
    ratio column; the rows made json-serialisable."""
    for row in rows:
        if row["times"]:
            row["median"] = float(np.median(row["times"]))
    evaluated = [row for row in rows if row["_result"] is not None
                 and row["status"] not in ("skipped", "failed")]
    if problem.task == "cv":
        _accuracy_cv(problem, rows, evaluated)
    elif problem.task == "glmpath":
        _accuracy_glmpath(problem, evaluated, best_dual, gap_target, reference_primal)
        _ratio_best_peer(rows)
    else:
        _accuracy_objective(problem, evaluated, best_dual, gap_target)
    for row in rows:
        # against fastl1's row (of the same accuracy mode on glmpath problems)
        ref = next((r["median"] for r in rows if r["_family"] == "fastl1" and r["median"]
                    and r.get("accuracy") == row.get("accuracy")
                    and (r.get("n_jobs") is None or r["solver"] == "fastl1")), None)
        if ref is not None and row["median"]:
            row["ratio"] = ref / row["median"]
    for row in rows:
        del row["_result"], row["_family"]
        row.pop("_capped", None)
        for key in ("objective", "dual_objective", "duality_gap", "certified_suboptimality",
                    "suboptimality", "rel_suboptimality", "cv_rel_diff", "cv_mse_min"):
            if key in row:
                row[key] = _finite(row[key])
        row["times"] = [float(t) for t in row["times"]]
        for key in ("alpha", "gap_target", "first_fit", "median", "ratio", "tol"):
            row[key] = None if row[key] is None else float(row[key])
    return rows


def _evaluate_rows(problem: BenchProblem, rows: Sequence[dict]) -> list:
    """Fill each row's objective, dual objective, duality gap and last non-zero count from its
    fit; return ``(row, primal, dual)`` (per alpha) for the rows whose objective is finite."""
    done = []
    for row in rows:
        result = row["_result"]
        primal, dual = primal_dual_grid(problem, result)
        row["objective"], row["dual_objective"] = float(primal.sum()), float(dual.sum())
        row["duality_gap"] = float(np.max(primal - dual))
        row["nnz"] = int(np.count_nonzero(coef_at(result, problem.grid.size - 1)))
        if np.all(np.isfinite(primal)):
            done.append((row, primal, dual))
    return done


def _accuracy_objective(problem: BenchProblem, rows: Sequence[dict], best_dual: np.ndarray,
                        gap_target: float) -> None:
    """Objective, dual value and certificates of a fit (one alpha) or a path (every alpha,
    then the sum or the worst over the grid)."""
    done = _evaluate_rows(problem, rows)
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
            row["worst_alpha"] = float(problem.grid[int(np.argmax(cert))])


def _accuracy_glmpath(problem: BenchProblem, rows: Sequence[dict], best_dual: np.ndarray,
                      gap_target: float, reference_primal: np.ndarray | None) -> None:
    """glmpath rows: per alpha, the relative error ``(objective - best) / best`` against the
    best objective any row (or the reference solve) reached, and the relative certificate
    ``(objective - best dual value) / objective``; then the worst over the grid. Only the
    matched rows have a target (``gap_ok``)."""
    done = [(row, primal) for row, primal, _ in _evaluate_rows(problem, rows)]
    if not done:
        return
    candidates = [primal for _, primal in done]
    if reference_primal is not None:
        candidates.append(reference_primal)
    best = np.min(candidates, axis=0)
    for row, primal in done:
        rel = (primal - best) / np.abs(best)
        cert = (primal - best_dual) / np.abs(primal)
        row["suboptimality"] = float(np.max(primal - best))
        row["rel_suboptimality"] = float(rel.max())
        row["certified_suboptimality"] = float(cert.max())
        row["objectives"] = primal.tolist()
        row["rel_suboptimalities"] = rel.tolist()
        row["certified_suboptimalities"] = cert.tolist()
        row["worst_alpha"] = float(problem.grid[int(np.argmax(rel))])
        if row["accuracy"] == "matched":
            row["gap_ok"] = bool(np.all(cert <= gap_target))
            row["n_over_target"] = int(np.sum(cert > gap_target))


def _ratio_best_peer(rows: Sequence[dict]) -> None:
    """On fastl1's glmpath rows: its median over the fastest peer's of the same accuracy
    mode (``ratio_best_peer``, < 1: fastl1 is faster) and that peer (``best_peer``)."""
    for row in rows:
        if row["_family"] != "fastl1" or not row["median"]:
            continue
        peers = [r for r in rows if r["_family"] != "fastl1" and r["median"]
                 and r["status"] == "ok" and r["accuracy"] == row["accuracy"]]
        if peers:
            fastest = min(peers, key=lambda r: r["median"])
            row["ratio_best_peer"] = row["median"] / fastest["median"]
            row["best_peer"] = fastest["solver"]


def _grid_index(grid: np.ndarray, alpha: float) -> int | None:
    j = int(np.argmin(np.abs(grid - alpha)))
    return j if math.isclose(grid[j], alpha, rel_tol=1e-9) else None


_CV_REFERENCES = ("sklearn", "sklearn-n_jobs=1", "fastl1")  # first that ran is the reference


def _accuracy_cv(problem: BenchProblem, rows: Sequence[dict], evaluated: Sequence[dict]) -> None:
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



def accuracy_curves(problem: str | BenchProblem, solvers: Iterable[str] | None = None,
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

