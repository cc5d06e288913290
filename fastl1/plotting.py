"""Plots of regularisation paths, cross-validation curves, stability paths and Kaplan-Meier
survival curves.

matplotlib is an optional dependency (``pip install "fastl1[plot]"``); it is imported when a
plot is drawn. Every function draws on ``ax`` (a new figure's axes by default) and returns it.

Paths and CV curves are drawn as glmnet draws them: strong regularisation on the left (large
``alpha``, small ``C``), and a top axis with the number of non-zero coefficients.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["plot_cv", "plot_kaplan_meier", "plot_path", "plot_stability"]

_MARK_STYLES = (("k", "--"), ("0.4", ":"), ("0.6", "-."))


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("fastl1.plotting needs matplotlib: pip install 'fastl1[plot]'"
                          ) from error
    _, ax = plt.subplots(figsize=(7.5, 4.8))
    return ax


def _dense(coefs) -> np.ndarray:
    coefs = coefs.toarray() if sp.issparse(coefs) else np.asarray(coefs)
    if coefs.ndim == 3:  # (1, n_features, n_alphas) from a column y
        coefs = coefs[0]
    return coefs


def _best_ratio_index(model) -> int:
    return list(np.atleast_1d(model.l1_ratio)).index(model.l1_ratio_)


def _x_axis(ax, grid, parameter: str) -> np.ndarray:
    """log10 of the grid; alpha decreases to the right, C increases (glmnet's orientation:
    the sparsest models on the left)."""
    ax.set_xlabel(f"log10({parameter})")
    if parameter == "alpha":
        ax.invert_xaxis()
    return np.log10(grid)


def _nonzero_axis(ax, x, counts, n_ticks: int = 8) -> None:
    """glmnet's top axis: the number of non-zero coefficients at some of the grid points."""
    counts = np.asarray(counts)
    if counts.shape != np.shape(x) or counts.size == 0:
        return
    top = ax.secondary_xaxis("top")
    index = np.unique(np.linspace(0, counts.size - 1, min(n_ticks, counts.size)).round()
                      .astype(int))
    top.set_xticks(np.asarray(x)[index], labels=[str(int(c)) for c in counts[index]])
    top.tick_params(labelsize="small")
    top.set_xlabel("non-zero coefficients", fontsize="small")


def _marks(ax, marks: dict) -> None:
    for (name, value), (color, style) in zip(marks.items(), _MARK_STYLES, strict=False):
        ax.axvline(np.log10(value), color=color, ls=style, lw=1, label=f"{name} = {value:.3g}")


def plot_path(model_or_path, *, feature_names=None, max_labels: int = 10, scale=None,
              parameter: str = "alpha", marks: dict | None = None, ax=None):
    """Coefficients along the regularisation path, the chosen value(s) marked.

    Parameters
    ----------
    model_or_path : fitted LassoCV / ElasticNetCV, or ``(grid, coefs[, ...])``
        A cross-validated model (its full-data path ``coef_path_`` along ``alphas_``) or a
        path: the return value of :func:`fastl1.lasso_path` / :func:`fastl1.enet_path`, or
        any ``(grid, coefs)`` with ``coefs`` of shape (n_features, n_grid), such as a
        :func:`fastl1.l1_logistic_path` over ``C`` (with ``parameter="C"``).
    feature_names : sequence of str, default=None
        Names for the legend (default: the model's ``feature_names_in_`` or ``x<j>``).
    max_labels : int, default=10
        Label the features with the largest coefficients at the first of ``marks`` (the
        model's chosen ``alpha_``; the end of the path without marks), each in its own colour;
        the other features are drawn in grey.
    scale : array-like of shape (n_features,), default=None
        Divide each feature's coefficients by this (e.g. the standard deviations the features
        were divided by before fitting) to draw them on the original scale of the data.
    parameter : {"alpha", "C"}, default="alpha"
        What the grid holds: a penalty ``alpha`` (drawn decreasing) or an inverse penalty
        ``C`` (drawn increasing).
    marks : dict of str to float, default=None
        Grid values to mark with vertical lines (default for a CV model: its ``alpha_min_``
        and ``alpha_1se_``, or ``alpha_`` first when it is neither).
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    if parameter not in ("alpha", "C"):
        raise ValueError(f"parameter must be 'alpha' or 'C', got {parameter!r}.")
    ax = _axes(ax)
    if hasattr(model_or_path, "coef_path_"):
        model = model_or_path
        grid = np.asarray(model.alphas_)
        if grid.ndim == 2:
            grid = grid[_best_ratio_index(model)]
        coefs = _dense(model.coef_path_)
        if marks is None:
            marks = {"alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_}
            if model.alpha_ == model.alpha_1se_:
                marks = {"alpha_1se": model.alpha_1se_, "alpha_min": model.alpha_min_}
        if feature_names is None:
            feature_names = getattr(model, "feature_names_in_", None)
    else:
        grid, coefs = np.asarray(model_or_path[0], dtype=float), _dense(model_or_path[1])
    marks = dict(marks or {})
    if coefs.ndim != 2 or coefs.shape[1] != grid.shape[0]:
        raise ValueError(f"{coefs.shape[-1]} solutions for {grid.shape[0]} values of "
                         f"{parameter}.")
    if scale is not None:
        scale = np.asarray(scale, dtype=float)
        if scale.shape != (coefs.shape[0],):
            raise ValueError(f"scale has shape {scale.shape}, expected ({coefs.shape[0]},).")
        coefs = coefs / scale[:, None]
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(coefs.shape[0])]
    x = _x_axis(ax, grid, parameter)
    at = int(np.argmin(np.abs(x - np.log10(next(iter(marks.values())))))) if marks else \
        int(np.argmax(x) if parameter == "C" else np.argmin(x))
    active = np.flatnonzero(np.any(coefs != 0, axis=1))
    order = active[np.argsort(-np.abs(coefs[active, at]), kind="stable")]
    labelled = [j for j in order[:max_labels] if coefs[j, at] != 0]
    for j in np.setdiff1d(active, labelled):
        ax.plot(x, coefs[j], color="0.78", lw=0.6)
    colours = _qualitative(len(labelled))
    for j, colour in zip(labelled, colours, strict=True):
        ax.plot(x, coefs[j], color=colour, lw=1.6, label=str(feature_names[j]))
    _marks(ax, marks)
    ax.axhline(0.0, color="0.5", lw=0.5)
    ax.set_ylabel("coefficient (original scale)" if scale is not None else "coefficient")
    _nonzero_axis(ax, x, np.count_nonzero(coefs, axis=0))
    ax.set_title(f"Regularisation path ({active.shape[0]} features enter)", pad=24)
    if labelled or marks:
        ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5),
                  frameon=False)
    return ax


def _qualitative(n: int) -> list:
    """``n`` distinct colours: tab10 with black for its grey (grey is for the unlabelled
    features), then tab20's lighter shades, then a cycle."""
    import matplotlib

    base = list(matplotlib.colormaps["tab10"].colors)
    base[7] = (0.0, 0.0, 0.0)
    lighter = [c for k, c in enumerate(matplotlib.colormaps["tab20"].colors) if k % 2 and k != 15]
    palette = base + lighter
    return [palette[k % len(palette)] for k in range(n)]


def _cv_from_model(cv_model):
    """(grid, scores of shape (n_grid, n_folds), parameter, measure, marks, n_nonzero) of a
    fitted LassoCV / ElasticNetCV / LogisticRegressionCV."""
    if hasattr(cv_model, "mse_path_"):
        mse = np.asarray(cv_model.mse_path_)
        grid = np.asarray(cv_model.alphas_)
        if mse.ndim == 3:  # several l1_ratios: show the best one's curve
            k = _best_ratio_index(cv_model)
            mse = mse[k]
            grid = grid[k] if grid.ndim == 2 else grid
        counts = None
        if hasattr(cv_model, "coef_path_"):
            counts = np.count_nonzero(_dense(cv_model.coef_path_), axis=0)
        marks = {"alpha_min": cv_model.alpha_min_, "alpha_1se": cv_model.alpha_1se_}
        return grid, mse, "alpha", "mean squared error", marks, counts
    if hasattr(cv_model, "Cs_") and hasattr(cv_model, "scores_"):
        scores = cv_model.scores_
        ratio = float(np.ravel(cv_model.l1_ratio_)[0])
        k = int(np.argmin(np.abs(np.asarray(cv_model.l1_ratios_) - ratio)))
        if isinstance(scores, dict):  # legacy layout: (n_folds, n_cs, n_l1) per class
            scores = np.asarray(next(iter(scores.values())))[:, :, k]
        else:  # (n_folds, n_l1, n_cs)
            scores = np.asarray(scores)[:, k, :]
        measure = cv_model.scoring if isinstance(cv_model.scoring, str) else "accuracy"
        marks = {"C": float(np.ravel(cv_model.C_)[0])}
        return np.asarray(cv_model.Cs_), scores.T, "C", measure, marks, None
    raise TypeError("plot_cv needs a fitted LassoCV, ElasticNetCV or LogisticRegressionCV, or "
                    f"a (grid, scores) pair; got {type(cv_model).__name__}.")


def plot_cv(cv_model, *, parameter: str = "alpha", measure: str | None = None,
            marks: dict | None = None, n_nonzero=None, ax=None):
    """Mean cross-validation error (or score) against the regularisation, with
    one-standard-error bars and the chosen value(s) marked.

    Parameters
    ----------
    cv_model : fitted LassoCV / ElasticNetCV / LogisticRegressionCV, or ``(grid, scores)``
        A fitted model (its ``mse_path_`` along ``alphas_``, for the best ``l1_ratio``; or its
        ``scores_`` along ``Cs_``), or a grid of shape (n_grid,) with the per-fold values of
        shape (n_grid, n_folds).
    parameter : {"alpha", "C"}, default="alpha"
        What the grid holds (ignored for a model: set by its type).
    measure : str, default=None
        The y-axis label (default for a model: "mean squared error" or its ``scoring``).
    marks : dict of str to float, default=None
        Grid values to mark (default for a model: ``alpha_min_`` and ``alpha_1se_``, or
        ``C_``).
    n_nonzero : array-like of shape (n_grid,), default=None
        Non-zero coefficients of the full-data fit at each grid value, shown on a top axis
        (default for LassoCV / ElasticNetCV: counted on ``coef_path_``).
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    if isinstance(cv_model, tuple):
        grid, scores = np.asarray(cv_model[0], dtype=float), np.asarray(cv_model[1], float)
        model_measure, model_marks, counts = "mean CV error", {}, None
    else:
        grid, scores, parameter, model_measure, model_marks, counts = _cv_from_model(cv_model)
    if parameter not in ("alpha", "C"):
        raise ValueError(f"parameter must be 'alpha' or 'C', got {parameter!r}.")
    if scores.ndim != 2 or scores.shape[0] != grid.shape[0]:
        raise ValueError(f"scores must have shape (n_grid, n_folds) = ({grid.shape[0]}, ...), "
                         f"got {scores.shape}.")
    measure = model_measure if measure is None else measure
    marks = model_marks if marks is None else marks
    counts = counts if n_nonzero is None else n_nonzero
    ax = _axes(ax)
    mean = scores.mean(axis=1)
    n_folds = scores.shape[1]
    std_error = scores.std(axis=1, ddof=1) / np.sqrt(n_folds) if n_folds > 1 \
        else np.zeros_like(mean)
    x = _x_axis(ax, grid, parameter)
    ax.errorbar(x, mean, yerr=std_error, fmt="o", ms=3, color="tab:red", ecolor="0.6",
                elinewidth=0.8, capsize=1.5, label="mean over folds +- 1 s.e.")
    _marks(ax, marks)
    ax.set_ylabel(measure)
    if counts is not None:
        _nonzero_axis(ax, x, counts)
    ax.set_title(f"{n_folds}-fold cross-validation", pad=24 if counts is not None else 6)
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_stability(selector, *, feature_names=None, max_labels: int = 10, ax=None):
    """Stability paths: selection frequency of each feature against ``log10(alpha)`` (or
    ``log10(C)`` for a logistic base estimator), the stable features highlighted and the
    threshold drawn.

    Parameters
    ----------
    selector : fitted fastl1.StabilitySelection
    feature_names : sequence of str, default=None
    max_labels : int, default=10
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    scores = np.asarray(selector.stability_scores_)
    if feature_names is None:
        feature_names = getattr(selector, "feature_names_in_", None)
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(scores.shape[0])]
    # A logistic base estimator's grid is over C; its alphas_ hold 1 / C.
    over_c = hasattr(getattr(selector, "estimator", None), "C")
    grid = 1.0 / np.asarray(selector.alphas_) if over_c else selector.alphas_
    x = _x_axis(ax, grid, "C" if over_c else "alpha")
    stable = np.flatnonzero(selector.support_)
    stable = stable[np.argsort(-selector.scores_[stable], kind="stable")]
    others = np.flatnonzero(~selector.support_ & (selector.scores_ > 0))
    for j in others:
        ax.plot(x, scores[j], color="0.75", lw=0.6)
    labelled = stable[:max_labels]
    for j, colour in zip(labelled, _qualitative(len(labelled)), strict=True):
        ax.plot(x, scores[j], lw=1.5, color=colour, label=str(feature_names[j]))
    for j in stable[max_labels:]:
        ax.plot(x, scores[j], lw=1.0, color="0.35")
    ax.axhline(selector.threshold, color="k", ls="--", lw=1,
               label=f"threshold {selector.threshold:g}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("selection frequency")
    ax.set_title(f"Stability paths: {stable.shape[0]} stable features, E[false] <= "
                 f"{selector.expected_false_selections_bound_:.2g}")
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return ax


def plot_kaplan_meier(time, event, groups=None, *, labels=None, logrank: bool = True,
                      xlabel: str = "time", ax=None):
    """Kaplan-Meier survival curves, one per group, as step functions with a tick at each
    censored time, and the log-rank test's p-value in the legend.

    Parameters
    ----------
    time : array-like of shape (n_samples,)
    event : array-like of shape (n_samples,)
        1/True for an event, 0/False for a censored time.
    groups : array-like of shape (n_samples,), default=None
        Group labels (one curve per distinct label, in sorted order); None: one curve.
    labels : dict, default=None
        Legend text of each group label (default: the label itself).
    logrank : bool, default=True
        Add the log-rank test of equal survival (``fastl1._cox_metrics.logrank_test``)
        to the legend when there are several groups.
    xlabel : str, default="time"
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    from ._cox_metrics import kaplan_meier, logrank_test

    time = np.asarray(time, dtype=np.float64).ravel()
    event = np.asarray(event).ravel()
    groups = np.zeros(time.shape[0], dtype=np.int64) if groups is None \
        else np.asarray(groups).ravel()
    if groups.shape != time.shape:
        raise ValueError(f"{time.shape[0]} times but {groups.shape[0]} group labels.")
    ax = _axes(ax)
    names = labels or {}
    levels = np.unique(groups)
    for level, colour in zip(levels, _qualitative(levels.size), strict=True):
        rows = groups == level
        km = kaplan_meier(time[rows], event[rows])
        # from (0, 1): a right-continuous step at every distinct time
        x = np.concatenate([[0.0], km.time])
        y = np.concatenate([[1.0], km.survival])
        text = names.get(level, str(level)) if levels.size > 1 else "all samples"
        ax.step(x, y, where="post", color=colour, lw=1.6,
                label=f"{text} (n = {int(rows.sum())}, {int(km.events.sum())} events)")
        censored = km.censored > 0
        ax.plot(km.time[censored], km.survival[censored], ls="none", marker="|", ms=7,
                color=colour)
    if logrank and levels.size > 1:
        statistic, p_value, dof = logrank_test(time, event, groups)
        ax.plot([], [], ls="none", label=f"log-rank p = {p_value:.2g} "
                f"(chi2 = {statistic:.3g}, {dof} df)")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(left=0.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("survival probability (Kaplan-Meier)")
    ax.set_title("Kaplan-Meier estimate, ticks: censored")
    ax.legend(fontsize="small", loc="best")
    return ax
