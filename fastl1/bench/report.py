"""The report: a text table per problem with its notes and legend, the environment stored
beside the JSON results, and the figures (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

import importlib
import os
import platform
from collections.abc import Sequence

import numpy as np

from .problems import TASKS

__all__ = ["environment", "format_table", "plot_curves", "plot_times"]


def environment() -> dict:
    """Versions and machine facts to store next to the results."""
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "cpu_count": os.cpu_count()}
    for mod in ("fastl1", "numpy", "scipy", "numba", "sklearn", "celer", "skglm", "glmnet",
                "adelie", "sksurv", "glum"):
        try:
            env[mod] = str(getattr(importlib.import_module(mod), "__version__", "?"))
        except Exception:  # noqa: BLE001
            env[mod] = None
    return env



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


def _glmpath_block(rows: Sequence[dict]) -> tuple[list[tuple], list[str], list[str]]:
    header = ("solver", "accuracy", "tol", "median (s)", "first fit (s)", "rel. error (max)",
              "cert. rel. error (max)", "nnz (last)", "fastl1/solver")
    table, notes = [header], []
    for row in rows:
        table.append((
            row["solver"] + ("" if row["status"] == "ok" else "*"),
            row["accuracy"],
            "default" if row["tol"] is None else f"{row['tol']:.0e}",
            _fmt(row["median"], ".4f"),
            _fmt(row["first_fit"], ".3f"),
            _fmt(row["rel_suboptimality"], ".1e"),
            _fmt(row["certified_suboptimality"], ".1e") + (" !" if row["gap_ok"] is False
                                                           else ""),
            _fmt(row["nnz"], "d"),
            _fmt(row["ratio"], ".2f"),
        ))
        text = ""
        if row["gap_ok"] is False:
            text = f"above target at {row['n_over_target']} of {row['n_alphas']} alphas"
        if row["note"] or row["status"] != "ok" or text:
            notes.append(_row_note(row, text))
    after = [f"matched target at every alpha: (objective - best dual value) / objective <= "
             f"{rows[0]['gap_target']:.0e}; '!' = not reached"]
    gap = next((r["reference_rel_gap"] for r in rows if r.get("reference_rel_gap") is not None),
               None)
    if gap is not None:
        after.append(f"reference solve (fastl1, untimed): relative duality gap <= {gap:.1e} "
                     "at every alpha")
    for row in rows:
        if row.get("ratio_best_peer") is not None:
            after.append(f"fastl1 / best peer, {row['accuracy']} accuracy: "
                         f"{row['ratio_best_peer']:.2f} ({row['best_peer']})")
    return table, after, notes


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


def _glm_block(rows: Sequence[dict]) -> tuple[list[tuple], list[str], list[str]]:
    header = ("solver", "tol", "median (s)", "first fit (s)", "rel. error (max)",
              "fastl1/solver")
    table, notes = [header], []
    for row in rows:
        table.append((
            row["solver"] + ("" if row["status"] == "ok" else "*"),
            _fmt(row["tol"], ".0e"),
            _fmt(row["median"], ".4f"),
            _fmt(row["first_fit"], ".3f"),
            ("inf" if row["rel_error"] is None and row["median"] else
             _fmt(row["rel_error"], ".1e")) + (" !" if row["within_target"] is False else ""),
            _fmt(row["ratio"], ".2f"),
        ))
        if row["note"] or row["status"] != "ok":
            notes.append(_row_note(row))
    after = [f"target at every alpha: (objective - best objective of any fit) / best <= "
             f"{rows[0]['gap_target']:.0e}; '!' = not reached"]
    for row in rows:
        if row.get("ratio_best_peer") is not None:
            after.append(f"fastl1 / best peer within the target: {row['ratio_best_peer']:.2f} "
                         f"({row['best_peer']})")
    return table, after, notes


_BLOCKS = {"fit": _fit_block, "path": _path_block, "cv": _cv_block, "logistic": _fit_block,
           "glmpath": _glmpath_block, "glm": _glm_block, "blocks": _glm_block}

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
    "glmpath": ("glmpath problems (glmnet's setting: intercept, no standardisation): one 'fit' "
                "is the whole path. Each package runs twice: at its default tolerance "
                "(accuracy 'default') and calibrated from it by decades until its relative "
                "certificate meets the target at every alpha ('matched'). rel. error (max) = "
                "worst over the alphas of (objective - best objective any solver reached) / "
                "best; cert. rel. error = (objective - best dual value) / objective, the dual "
                "values including the reference solve's; R's glmnet is timed inside R around "
                "glmnet() only; fastl1/solver compares rows of the same accuracy."),
    "glm": ("Cox and Poisson problems: one 'fit' is the whole path (or the single fit). "
            "Objectives computed by the harness in float64 (Cox: -1/n log partial likelihood, "
            "Breslow ties; Poisson: deviance / (2n)) plus alpha ||w||_1; each solver's tol is "
            "calibrated from its default by decades until ten times tighter lowers no alpha's "
            "objective by more than the target; rel. error (max) = worst over the alphas of "
            "(objective - best objective any fit reached) / best. R's glmnet is timed inside "
            "R; 'first fit' is a small warm-up (JIT compile or cache load)."),
    "blocks": ("multi-task and group lasso problems: one 'fit' is the whole path (or the "
               "single fit). Objectives computed by the harness in float64 (1/(2n) ||Y - X "
               "W^T||_F^2 + alpha sum of the blocks' weighted norms); each solver's tol is "
               "calibrated as for the Cox and Poisson problems; rel. error (max) = worst over "
               "the alphas of (objective - best objective any fit reached) / best. R's glmnet "
               "is timed inside R; 'first fit' is a small warm-up (JIT compile or cache "
               "load)."),
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
