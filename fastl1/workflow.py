"""Feature selection end to end: cross-validated fit, optional stability selection, outputs.

:func:`select_features` is what ``fastl1 fit`` and ``fastl1 demo`` run; it is usable from
Python as well. :func:`write_outputs` writes the selected features (CSV), the CV curve and the
coefficient path (PNG, when matplotlib is installed) and a JSON summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, StratifiedKFold

from .cv import report_progress
from .linear_model import ElasticNetCV, LassoCV
from .selection import StabilitySelection

__all__ = ["SelectionResult", "select_features", "write_outputs"]


@dataclass
class SelectionResult:
    """What :func:`select_features` found (coefficients on the original feature scale)."""

    task: str
    model: object
    feature_names: list
    coef: np.ndarray  # (n_features,) regression / binary, (n_classes, n_features) multiclass
    scale: np.ndarray  # per-feature divisor applied before fitting (1 without standardising)
    selected: np.ndarray  # indices, by decreasing |coef|
    fit_seconds: float
    n_samples: int = 0
    gap_threshold: float = float("nan")  # tol * ||y_c||^2 / n: what dual_gap_ is certified below
    stability: StabilitySelection | None = None
    notes: list = field(default_factory=list)

    def summary(self) -> dict:
        """A JSON-serialisable summary (alpha, CV score, certificate, timing, selection)."""
        model = self.model
        out = {"task": self.task, "n_samples": self.n_samples,
               "n_features": len(self.feature_names), "n_selected": int(self.selected.size),
               "fit_seconds": round(self.fit_seconds, 4), "notes": list(self.notes)}
        if self.task == "regression":
            mse = np.asarray(model.mse_path_)
            alphas = np.asarray(model.alphas_)
            if mse.ndim == 3:
                k = list(np.atleast_1d(model.l1_ratio)).index(model.l1_ratio_)
                mse, alphas = mse[k], alphas[k] if alphas.ndim == 2 else alphas
            index = int(np.flatnonzero(alphas == model.alpha_)[0])
            mean = mse.mean(axis=1)
            out.update({
                "model": type(model).__name__, "alpha_rule": model.alpha_rule,
                "alpha": model.alpha_, "alpha_min": model.alpha_min_,
                "alpha_1se": model.alpha_1se_,
                "l1_ratio": float(getattr(model, "l1_ratio_", 1.0)),
                "cv_folds": int(mse.shape[1]), "cv_mse_at_alpha": float(mean[index]),
                "cv_mse_min": float(mean.min()),
                "dual_gap": float(model.dual_gap_),
                "gap_certified_below": self.gap_threshold,
                "n_iter": int(model.n_iter_),
            })
        else:
            out.update({"model": type(model).__name__, "C": float(np.ravel(model.C_)[0]),
                        "classes": [str(c) for c in model.classes_]})
        if self.stability is not None:
            s = self.stability
            out["stability"] = {
                "n_resamples": s.n_resamples, "threshold": s.threshold,
                "stable_features": [self.feature_names[j] for j in np.flatnonzero(s.support_)],
                "expected_false_selections_bound": s.expected_false_selections_bound_,
            }
        return out


def _standardise(X) -> tuple[object, np.ndarray]:
    """Columns divided by their standard deviation (not centred: sparse stays sparse)."""
    if sp.issparse(X):
        X = sp.csc_matrix(X)
        mean = np.asarray(X.mean(axis=0)).ravel()
        square = np.asarray(X.multiply(X).mean(axis=0)).ravel()
        std = np.sqrt(np.maximum(square - mean * mean, 0.0))
    else:
        std = np.asarray(X).std(axis=0)
    scale = np.where(std > 0, std, 1.0)
    if sp.issparse(X):
        return X @ sp.diags(1.0 / scale), scale
    return np.asarray(X) / scale, scale


def select_features(X, y, *, feature_names: Sequence[str] | None = None, task: str = "auto",
                    cv: int = 5, l1_ratio: Sequence[float] = (1.0,), alpha_rule: str = "min",
                    alphas: int = 100, eps: float = 1e-3, standardize: bool = True,
                    stability: bool = False, n_resamples: int = 50, threshold: float = 0.6,
                    n_jobs: int | None = -1, tol: float = 1e-4, random_state: int = 0,
                    progress: Callable[[int, int], None] | None = None) -> SelectionResult:
    """Select features by cross-validated L1 regression (or classification).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Continuous target (regression) or labels (classification).
    feature_names : sequence of str, default=None
    task : {'auto', 'regression', 'classification'}, default='auto'
        ``'auto'``: classification when ``y`` is not numeric or has at most 10 distinct
        integer values.
    cv : int, default=5
        Folds (shuffled with ``random_state``; stratified for classification).
    l1_ratio : sequence of float, default=(1.0,)
        Penalty mixes to try (1.0 = lasso).
    alpha_rule : {'min', '1se'}, default='min'
    alphas, eps : grid size and end of the alpha grid.
    standardize : bool, default=True
        Divide each feature by its standard deviation before fitting (as glmnet does), so
        the penalty treats them alike; coefficients are reported on the original scale.
    stability : bool, default=False
        Also run :class:`fastl1.StabilitySelection` (with ``n_resamples`` and ``threshold``).
    n_jobs : int, default=-1
        Threads.
    tol : float, default=1e-4
        The estimators' ``tol``: a duality-gap tolerance for regression (scikit-learn's rule),
        a KKT-violation tolerance for classification (see :class:`fastl1.LogisticRegression`).
    random_state : int, default=0
    progress : callable(done, total), default=None
        Called as cross-validation jobs finish.

    Returns
    -------
    SelectionResult
    """
    y = np.asarray(y)
    names = [f"x{j}" for j in range(X.shape[1])] if feature_names is None \
        else list(feature_names)
    if task == "auto":
        task = _guess_task(y)
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'auto', 'regression' or 'classification', got {task!r}")
    notes = []
    scale = np.ones(X.shape[1])
    if standardize:
        X, scale = _standardise(X)
        notes.append("features divided by their standard deviation before fitting "
                     "(coefficients reported on the original scale)")
    hook = report_progress(progress) if progress is not None else nullcontext()
    start = time.perf_counter()
    if task == "regression":
        y = y.astype(np.float64)
        splitter = KFold(cv, shuffle=True, random_state=random_state)
        ratios = list(l1_ratio)
        model_class = LassoCV if ratios == [1.0] else ElasticNetCV
        params = {} if model_class is LassoCV else {"l1_ratio": ratios}
        model = model_class(cv=splitter, alphas=alphas, eps=eps, alpha_rule=alpha_rule,
                            n_jobs=n_jobs, tol=tol, **params)
        with hook:
            model.fit(X, y)
        coef = np.asarray(model.coef_) / scale
        y_centred = y - y.mean()
        gap_threshold = tol * float(y_centred @ y_centred) / y.shape[0]
    else:
        import fastl1

        if not hasattr(fastl1, "LogisticRegressionCV"):
            raise NotImplementedError("classification needs fastl1.LogisticRegressionCV, "
                                      "which this installation does not have.")
        splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        from sklearn.svm import l1_min_c

        # From the C where the first feature enters up three decades (as the alpha grid
        # goes from alpha_max down): scikit-learn's default logspace(-4, 4) wastes most
        # of its points on all-zero or unpenalised models for L1.
        c_min = l1_min_c(X, y, loss="log")
        grid = c_min * np.logspace(0, 3, min(alphas, 30))
        model = fastl1.LogisticRegressionCV(cv=splitter, Cs=grid, l1_ratios=list(l1_ratio),
                                            n_jobs=n_jobs, tol=tol)
        with hook:
            model.fit(X, y)
        coef = np.asarray(model.coef_) / scale
        coef = coef[0] if coef.shape[0] == 1 else coef
        gap_threshold = float("nan")
    fit_seconds = time.perf_counter() - start
    strength = np.abs(coef) if coef.ndim == 1 else np.abs(coef).max(axis=0)
    selected = np.flatnonzero(strength)
    selected = selected[np.argsort(-strength[selected], kind="stable")]
    selector = None
    if stability:
        import fastl1

        base = fastl1.Lasso() if task == "regression" else fastl1.LogisticRegression()
        selector = StabilitySelection(base, n_resamples=n_resamples, threshold=threshold,
                                      n_jobs=n_jobs, random_state=random_state)
        with (report_progress(progress) if progress is not None else nullcontext()):
            selector.fit(X, y)
    return SelectionResult(task, model, names, coef, scale, selected, fit_seconds,
                           int(y.shape[0]), gap_threshold, selector, notes)


def _guess_task(y: np.ndarray) -> str:
    if y.dtype.kind in "OUSb":
        return "classification"
    values = np.unique(y)
    integral = np.all(np.mod(values, 1) == 0)
    return "classification" if integral and values.size <= 10 else "regression"


def write_outputs(result: SelectionResult, out_dir, *, extra_summary: dict | None = None
                  ) -> list[Path]:
    """Write ``selected_features.csv``, ``summary.json`` and, with matplotlib installed,
    ``cv_curve.png``, ``path.png`` (and ``stability.csv`` / ``stability.png``) to
    ``out_dir``. Returns the paths written."""
    import csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    path = out / "selected_features.csv"
    scores = None if result.stability is None else result.stability.scores_
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        coef = result.coef
        if coef.ndim == 1:
            header = ["rank", "feature", "coefficient", "abs_coefficient"]
        else:
            header = ["rank", "feature", *[f"coef_{c}" for c in result.model.classes_],
                      "max_abs_coefficient"]
        writer.writerow(header + (["stability_score"] if scores is not None else []))
        for rank, j in enumerate(result.selected, start=1):
            values = [f"{coef[j]:.10g}", f"{abs(coef[j]):.10g}"] if coef.ndim == 1 else \
                [*(f"{c:.10g}" for c in coef[:, j]), f"{np.abs(coef[:, j]).max():.10g}"]
            row = [rank, result.feature_names[j], *values]
            writer.writerow(row + ([f"{scores[j]:.4g}"] if scores is not None else []))
    written.append(path)
    if result.stability is not None:
        path = out / "stability.csv"
        order = np.argsort(-result.stability.scores_, kind="stable")
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["feature", "stability_score", "stable"])
            for j in order[: max(50, int(result.stability.support_.sum()))]:
                writer.writerow([result.feature_names[j], f"{result.stability.scores_[j]:.4g}",
                                 bool(result.stability.support_[j])])
        written.append(path)
    summary = result.summary()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plotting import plot_cv, plot_path, plot_stability

        plots = []
        if result.task == "regression":
            plots += [("cv_curve.png", lambda: plot_cv(result.model)),
                      ("path.png", lambda: plot_path(result.model,
                                                     feature_names=result.feature_names))]
        if result.stability is not None:
            plots.append(("stability.png", lambda: plot_stability(
                result.stability, feature_names=result.feature_names)))
        for name, draw in plots:
            ax = draw()
            ax.figure.tight_layout()
            ax.figure.savefig(out / name, dpi=120)
            plt.close(ax.figure)
            written.append(out / name)
    except ImportError:
        summary["notes"].append("plots skipped: matplotlib is not installed "
                                "(pip install 'fastl1[plot]')")
    summary["outputs"] = [p.name for p in written] + ["summary.json"]
    if extra_summary:
        summary.update(extra_summary)
    path = out / "summary.json"
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(summary, handle, indent=1, default=float)
        handle.write("\n")
    written.append(path)
    return written
