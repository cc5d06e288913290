"""Plots of regularisation paths, cross-validation curves and stability paths.

matplotlib is an optional dependency (``pip install "fastl1[plot]"``); it is imported when a
plot is drawn. Every function draws on ``ax`` (a new figure's axes by default) and returns it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["plot_cv", "plot_path", "plot_stability"]


def _axes(ax):
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("fastl1.plotting needs matplotlib: pip install 'fastl1[plot]'"
                          ) from error
    _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def _dense(coefs) -> np.ndarray:
    coefs = coefs.toarray() if sp.issparse(coefs) else np.asarray(coefs)
    if coefs.ndim == 3:  # (1, n_features, n_alphas) from a column y
        coefs = coefs[0]
    return coefs


def plot_path(model_or_path, *, feature_names=None, max_labels: int = 10, ax=None):
    """Coefficients against ``log10(alpha)``, with the chosen alpha(s) marked.

    Parameters
    ----------
    model_or_path : fitted LassoCV / ElasticNetCV, or ``(alphas, coefs[, ...])``
        A cross-validated model (its full-data path ``coef_path_`` along ``alphas_``) or the
        return value of :func:`fastl1.lasso_path` / :func:`fastl1.enet_path`.
    feature_names : sequence of str, default=None
        Names for the legend (default: the model's ``feature_names_in_`` or ``x<j>``).
    max_labels : int, default=10
        Label the features with the largest coefficients at the end of the path.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    chosen = {}
    if hasattr(model_or_path, "coef_path_"):
        model = model_or_path
        alphas = np.asarray(model.alphas_)
        if alphas.ndim == 2:
            alphas = alphas[list(np.atleast_1d(model.l1_ratio)).index(model.l1_ratio_)]
        coefs = _dense(model.coef_path_)
        chosen = {"alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_}
        if feature_names is None:
            feature_names = getattr(model, "feature_names_in_", None)
    else:
        alphas, coefs = np.asarray(model_or_path[0]), _dense(model_or_path[1])
    if coefs.shape[1] != alphas.shape[0]:
        raise ValueError(f"{coefs.shape[1]} solutions for {alphas.shape[0]} alphas.")
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(coefs.shape[0])]
    log_alphas = np.log10(alphas)
    active = np.flatnonzero(np.any(coefs != 0, axis=1))
    order = active[np.argsort(-np.abs(coefs[active, -1]))]
    labelled = set(order[:max_labels].tolist())
    for j in active:
        ax.plot(log_alphas, coefs[j], lw=1.2 if j in labelled else 0.6,
                label=str(feature_names[j]) if j in labelled else None)
    styles = {"alpha_min": ("k", "--"), "alpha_1se": ("0.4", ":")}
    for name, value in chosen.items():
        color, style = styles[name]
        ax.axvline(np.log10(value), color=color, ls=style, lw=1, label=name)
    ax.axhline(0.0, color="0.8", lw=0.5)
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("coefficient")
    ax.set_title(f"Regularisation path ({active.shape[0]} features enter)")
    ax.invert_xaxis()  # strong regularisation on the left, as glmnet draws it
    if labelled or chosen:
        ax.legend(fontsize="small", loc="best")
    return ax


def plot_cv(cv_model, *, ax=None):
    """Mean cross-validation error against ``log10(alpha)`` with one-standard-error bars, and
    ``alpha_min`` / ``alpha_1se`` marked (for the best ``l1_ratio``).

    Parameters
    ----------
    cv_model : fitted fastl1.LassoCV or fastl1.ElasticNetCV
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    mse = np.asarray(cv_model.mse_path_)
    alphas = np.asarray(cv_model.alphas_)
    if mse.ndim == 3:  # several l1_ratios: show the best one's curve
        k = list(np.atleast_1d(cv_model.l1_ratio)).index(cv_model.l1_ratio_)
        mse = mse[k]
        alphas = alphas[k] if alphas.ndim == 2 else alphas
    mean = mse.mean(axis=1)
    std_error = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1]) if mse.shape[1] > 1 \
        else np.zeros_like(mean)
    log_alphas = np.log10(alphas)
    ax.errorbar(log_alphas, mean, yerr=std_error, fmt="o", ms=3, color="tab:red",
                ecolor="0.6", elinewidth=0.8, capsize=1.5, label="mean CV error +- 1 s.e.")
    ax.axvline(np.log10(cv_model.alpha_min_), color="k", ls="--", lw=1,
               label=f"alpha_min = {cv_model.alpha_min_:.3g}")
    ax.axvline(np.log10(cv_model.alpha_1se_), color="0.4", ls=":", lw=1,
               label=f"alpha_1se = {cv_model.alpha_1se_:.3g}")
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("mean squared error")
    ax.set_title(f"{mse.shape[1]}-fold cross-validation")
    ax.invert_xaxis()
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_stability(selector, *, feature_names=None, max_labels: int = 10, ax=None):
    """Stability paths: selection frequency of each feature against ``log10(alpha)``, the
    stable features highlighted and the threshold drawn.

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
    log_alphas = np.log10(selector.alphas_)
    if feature_names is None:
        feature_names = getattr(selector, "feature_names_in_", None)
    if feature_names is None:
        feature_names = [f"x{j}" for j in range(scores.shape[0])]
    stable = np.flatnonzero(selector.support_)
    stable = stable[np.argsort(-selector.scores_[stable])]
    others = np.flatnonzero(~selector.support_ & (selector.scores_ > 0))
    for j in others:
        ax.plot(log_alphas, scores[j], color="0.75", lw=0.6)
    for rank, j in enumerate(stable):
        ax.plot(log_alphas, scores[j], lw=1.5,
                label=str(feature_names[j]) if rank < max_labels else None)
    ax.axhline(selector.threshold, color="k", ls="--", lw=1,
               label=f"threshold {selector.threshold:g}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("log10(alpha)")
    ax.set_ylabel("selection frequency")
    ax.set_title(f"Stability paths: {stable.shape[0]} stable features, E[false] <= "
                 f"{selector.expected_false_selections_bound_:.2g}")
    ax.invert_xaxis()
    ax.legend(fontsize="small", loc="best")
    return ax
