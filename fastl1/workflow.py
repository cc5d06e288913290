"""Feature selection end to end: cross-validated fit, optional stability selection, outputs.

:func:`select_features` is what ``fastl1 fit`` and ``fastl1 demo`` run; it is usable from
Python as well. :func:`write_outputs` writes the selected features (CSV), the CV curve and the
coefficient path (PNG, when matplotlib is installed) and a JSON summary.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import KFold, StratifiedKFold

from .cox import CoxRegression
from .cv import report_progress
from .linear_model import ElasticNetCV, Lasso, LassoCV
from .logistic import LogisticRegression
from .poisson import PoissonRegression
from .selection import StabilitySelection

__all__ = ["SelectionResult", "check_output_dir", "event_indicator", "select_features",
           "write_outputs"]


#: The files :func:`write_outputs` may write; a previous run's are removed before writing.
OUTPUT_FILES = ("selected_features.csv", "stability.csv", "risk_groups.csv", "cv_curve.png",
                "path.png", "stability.png", "kaplan_meier.png", "summary.json")

#: The single-fit model whose selections :class:`fastl1.StabilitySelection` counts, by task
#: (Cox: ``_select_cox``).
_SELECTION_MODELS = {"regression": Lasso, "classification": LogisticRegression,
                     "poisson": PoissonRegression}

#: Classification measures (glmnet's ``type.measure``) and the scikit-learn scorer of each.
CLASSIFICATION_MEASURES = {"deviance": "neg_log_loss", "class": "accuracy", "auc": "roc_auc"}


@dataclass
class SelectionResult:
    """What :func:`select_features` found (coefficients on the original feature scale).

    ``curve`` and ``path`` hold what the plots draw: the per-fold CV values along the grid and
    the full-data coefficient path (on the standardised scale; divide by ``scale``), with the
    grid's parameter (``"alpha"`` or ``"C"``) and the chosen values. ``details`` holds the
    task's entries of :meth:`summary` computed at fit time. ``survival`` (Cox) holds the
    times, events and high-risk mask of the Kaplan-Meier plot.
    """

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
    curve: dict | None = None
    path: dict | None = None
    details: dict = field(default_factory=dict)
    # Cox: time, event, risk score and high-risk mask (the KM plot, risk_groups.csv)
    survival: dict | None = None

    def summary(self) -> dict:
        """A JSON-serialisable summary (the chosen penalty, CV performance, certificate,
        timing, selection).

        ``n_iter_at_alpha`` (regression) and ``n_iter_at_C`` (classification) count the
        iterations of the full-data fit at the chosen value only: along the path each fit
        starts from the previous value's solution, so they are small; ``n_iter_path``
        (classification) is the total over the full-data path.
        """
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
                "cv_folds": int(mse.shape[1]), "measure": "mse",
                "cv_mse_at_alpha": float(mean[index]),
                "cv_mse_min": float(mean.min()),
                "intercept": float(model.intercept_),
                "dual_gap": float(model.dual_gap_),
                "gap_certified_below": self.gap_threshold,
                "n_iter_at_alpha": int(model.n_iter_),
            })
        else:
            out.update(self.details)
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
                    alphas: int = 100, eps: float | None = None, standardize: bool = True,
                    measure: str | None = None, stability: bool = False,
                    n_resamples: int = 50, threshold: float = 0.6, n_jobs: int | None = -1,
                    tol: float = 1e-4, random_state: int = 0,
                    unpenalized: Sequence[str] = (),
                    progress: Callable[[int, int], None] | None = None,
                    stability_progress: Callable[[int, int], None] | None = None
                    ) -> SelectionResult:
    """Select features by cross-validated L1 regression (or classification).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), or survival data
        Continuous target (regression), labels (classification), counts (Poisson), or for
        ``task='cox'`` scikit-survival's structured array (event, time) or an
        ``(n_samples, 2)`` array of columns time, event (see :func:`event_indicator` for
        event columns of labels).
    feature_names : sequence of str, default=None
    task : {'auto', 'regression', 'classification', 'poisson', 'cox'}, default='auto'
        ``'auto'``: Cox regression for a structured survival array, else classification when
        ``y`` is not numeric or has at most 10 distinct integer values, else regression.
        ``'poisson'``: counts, by :class:`fastl1.PoissonRegressionCV` (cross-validated
        Poisson deviance). ``'cox'``: survival times with censoring, by
        :class:`fastl1.CoxRegressionCV` (cross-validated partial-likelihood deviance, folds
        stratified on the event), reporting Harrell's concordance index (on the training
        data and cross-validated) and the Kaplan-Meier curves of the high- and low-risk
        halves of the samples (split at the median risk score ``X w`` of the selected model)
        with their log-rank test.
    cv : int, default=5
        Folds (shuffled with ``random_state``; stratified for classification).
    l1_ratio : sequence of float, default=(1.0,)
        Penalty mixes to try (1.0 = lasso).
    alpha_rule : {'min', '1se'}, default='min'
        The penalty with the best mean CV measure, or the strongest one within one standard
        error of it (glmnet's ``lambda.1se``): the largest alpha, or for classification the
        smallest ``C``.
    alphas, eps : grid size and end of the alpha grid (``eps=None``: 1e-3, and for Cox
        glmnet's ``lambda.min.ratio``, 0.01 with more features than samples, else 1e-4).
        Classification uses a grid of
        ``min(alphas, 30)`` values of ``C`` from :func:`sklearn.svm.l1_min_c` (where the
        first feature enters) up three decades.
    standardize : bool, default=True
        Divide each feature by its standard deviation before fitting (as glmnet does), so
        the penalty treats them alike; coefficients are reported on the original scale.
    measure : {'mse', 'deviance', 'class', 'auc'}, default=None
        The cross-validated measure that chooses the penalty (glmnet's ``type.measure``):
        mean squared error for regression (the only one); for classification ``'deviance'``
        (log-loss, the default), ``'class'`` (misclassification error) or ``'auc'`` (ROC AUC,
        two classes). Classification reports all three at the chosen ``C``.
    stability : bool, default=False
        Also run :class:`fastl1.StabilitySelection` (with ``n_resamples`` and ``threshold``).
    n_jobs : int, default=-1
        Threads.
    tol : float, default=1e-4
        The estimators' ``tol``: a duality-gap tolerance for regression (scikit-learn's rule),
        a KKT-violation tolerance for classification and Cox (see
        :class:`fastl1.LogisticRegression`, :class:`fastl1.CoxRegression`).
    random_state : int, default=0
    unpenalized : sequence of str, default=()
        Names of features left unpenalised (penalty factor 0, glmnet's ``penalty.factor``):
        covariates such as age or sex fitted beside the selected features, in every model
        and every fold.
    progress : callable(done, total), default=None
        Called as cross-validation jobs finish.
    stability_progress : callable(done, total), default=None
        Called as the stability selection's jobs finish (default: ``progress``).

    Returns
    -------
    SelectionResult

    Raises
    ------
    ValueError
        A bad ``task`` or ``measure``, or a classification target that is not class labels
        (many distinct numbers) or has a class with fewer samples than folds.
    """
    y = np.asarray(y)
    if task == "auto" and y.dtype.names is not None:
        task = "cox"
    if task == "cox":
        return _select_cox(X, y, feature_names=feature_names, cv=cv, l1_ratio=l1_ratio,
                           alpha_rule=alpha_rule, alphas=alphas, eps=eps,
                           standardize=standardize, measure=measure, stability=stability,
                           n_resamples=n_resamples, threshold=threshold, n_jobs=n_jobs,
                           tol=tol, random_state=random_state, unpenalized=unpenalized,
                           progress=progress, stability_progress=stability_progress)
    eps = 1e-3 if eps is None else eps
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must be 1-D with one value per row of X, got shape {y.shape} for "
                         f"{X.shape[0]} rows.")
    if np.iscomplexobj(y) or (not sp.issparse(X) and np.iscomplexobj(X)) or (
            sp.issparse(X) and np.iscomplexobj(X.data)):
        raise ValueError("X and y must be real: complex values are not supported.")
    names, factor = _named_features(X, feature_names, unpenalized)
    if task == "auto":
        task = _guess_task(y)
    if task not in ("regression", "classification", "poisson"):
        raise ValueError("task must be 'auto', 'regression', 'classification', 'poisson' or "
                         f"'cox', got {task!r}")
    if task == "regression" and measure not in (None, "mse"):
        raise ValueError(f"measure {measure!r} is for classification; regression uses 'mse'.")
    if task == "poisson" and measure not in (None, "deviance"):
        raise ValueError(f"measure {measure!r} is not for counts; Poisson uses 'deviance'.")
    if task == "classification":
        measure = "deviance" if measure is None else measure
        if measure not in CLASSIFICATION_MEASURES:
            raise ValueError("measure must be 'deviance', 'class' or 'auc' for "
                             f"classification, got {measure!r}.")
        _check_class_target(y, cv)
        if y.dtype.kind == "f":  # whole-number labels stored as floats: name them "-1", "1"
            y = y.astype(np.int64)
        if measure == "auc" and np.unique(y).size != 2:
            raise ValueError("measure 'auc' needs two classes; use 'deviance' or 'class'.")
    X, scale, notes = _scaled(X, standardize)
    hook = report_progress(progress) if progress is not None else nullcontext()
    start = time.perf_counter()
    curve = path = None
    details: dict = {}
    if task == "regression":
        y = y.astype(np.float64)
        splitter = KFold(cv, shuffle=True, random_state=random_state)
        ratios = list(l1_ratio)
        model_class = LassoCV if ratios == [1.0] else ElasticNetCV
        params = {} if model_class is LassoCV else {"l1_ratio": ratios}
        model = model_class(cv=splitter, alphas=alphas, eps=eps, alpha_rule=alpha_rule,
                            n_jobs=n_jobs, tol=tol, penalty_factor=factor, **params)
        with hook:
            model.fit(X, y)
        coef = np.asarray(model.coef_) / scale
        y_centred = y - y.mean()
        gap_threshold = tol * float(y_centred @ y_centred) / y.shape[0]
    elif task == "poisson":
        model, coef, curve, path, details = _fit_poisson(
            X, y, cv=cv, l1_ratio=l1_ratio, alphas=alphas, eps=eps, alpha_rule=alpha_rule,
            n_jobs=n_jobs, tol=tol, random_state=random_state, hook=hook,
            penalty_factor=factor)
        coef = coef / scale
        gap_threshold = float("nan")
    else:
        model, coef, curve, path, details = _fit_classification(
            X, y, cv=cv, l1_ratio=l1_ratio, alphas=alphas, alpha_rule=alpha_rule,
            measure=measure, n_jobs=n_jobs, tol=tol, random_state=random_state, hook=hook,
            penalty_factor=factor)
        coef = coef / scale
        gap_threshold = float("nan")
    fit_seconds = time.perf_counter() - start
    strength = np.abs(coef) if coef.ndim == 1 else np.abs(coef).max(axis=0)
    selected = np.flatnonzero(strength)
    selected = selected[np.argsort(-strength[selected], kind="stable")]
    selector = None
    if stability:  # the CV model's single-fit counterpart, default settings
        unpenalised = {} if factor is None else {"penalty_factor": factor}
        selector = _stability_selection(
            _SELECTION_MODELS[task](**unpenalised), X, y, n_resamples=n_resamples,
            threshold=threshold, n_jobs=n_jobs, random_state=random_state,
            progress=progress if stability_progress is None else stability_progress)
    if factor is not None:
        notes.append("left unpenalised (in every model): " + ", ".join(unpenalized))
    return SelectionResult(task, model, names, coef, scale, selected, fit_seconds,
                           int(y.shape[0]), gap_threshold, selector, notes, curve, path,
                           details)


def _named_features(X, feature_names, unpenalized) -> tuple[list, np.ndarray | None]:
    """The feature names (``x0, x1, ...`` by default) and the penalty factors leaving the
    ``unpenalized`` ones out of the penalty."""
    names = [f"x{j}" for j in range(X.shape[1])] if feature_names is None \
        else list(feature_names)
    if len(names) != X.shape[1]:
        raise ValueError(f"{len(names)} feature names for {X.shape[1]} features.")
    return names, _unpenalized_factor(names, unpenalized)


def _scaled(X, standardize: bool) -> tuple[object, np.ndarray, list]:
    """X divided by its columns' standard deviations if ``standardize``, the divisors, and
    the note saying so."""
    if not standardize:
        return X, np.ones(X.shape[1]), []
    X, scale = _standardise(X)
    return X, scale, ["features divided by their standard deviation before fitting "
                      "(coefficients reported on the original scale)"]


def _stability_selection(base, X, y, *, n_resamples, threshold, n_jobs, random_state,
                         progress) -> StabilitySelection:
    """:class:`fastl1.StabilitySelection` of ``base`` (any model: the selector runs its side
    of the path plan), reporting its jobs to ``progress``."""
    selector = StabilitySelection(base, n_resamples=n_resamples, threshold=threshold,
                                  n_jobs=n_jobs, random_state=random_state)
    with report_progress(progress) if progress is not None else nullcontext():
        return selector.fit(X, y)


def _unpenalized_factor(names: list, unpenalized: Sequence[str]) -> np.ndarray | None:
    """Penalty factors with 0 for the features named in ``unpenalized`` (None if empty)."""
    if not unpenalized:
        return None
    position = {name: j for j, name in enumerate(names)}
    missing = [name for name in unpenalized if name not in position]
    if missing:
        raise ValueError(f"unpenalized feature(s) not found: {', '.join(missing)} (the "
                         f"features are named like {', '.join(names[:3])}, ...)")
    if len(set(unpenalized)) == len(names):
        raise ValueError("every feature is unpenalized: nothing is left to select")
    factor = np.ones(len(names))
    factor[[position[name] for name in unpenalized]] = 0.0
    return factor


def _check_class_target(y: np.ndarray, cv: int) -> None:
    """Class labels, each with at least ``cv`` samples (stratified folds need them)."""
    classes, counts = np.unique(y, return_counts=True)
    if y.dtype.kind in "fiu":
        integral = bool(np.all(np.mod(classes, 1) == 0))
        if not integral or (classes.size > 10 and counts.min() < cv):
            raise ValueError(f"the target has {classes.size} distinct values, not class "
                             "labels; use --task regression (task='regression').")
    if classes.size < 2:
        raise ValueError(f"classification needs two classes or more; the target has only "
                         f"{classes[0]!r}.")
    if counts.min() < cv:
        rare = classes[int(np.argmin(counts))]
        raise ValueError(f"class {str(rare)!r} has {int(counts.min())} sample(s), fewer than "
                         f"the {cv} cross-validation folds; use fewer folds (--cv) or merge "
                         "rare classes.")


def _fold_measures(X, codes, folds, paths, n_classes) -> dict[str, np.ndarray]:
    """Per-fold test accuracy, log-loss and (two classes) ROC AUC of the fold paths
    ``(n_folds, n_cs, K, n_features + 1)``, each of shape (n_cs, n_folds)."""
    from scipy.special import expit, softmax
    from sklearn.metrics import log_loss, roc_auc_score

    n_folds, n_cs = paths.shape[:2]
    out = {name: np.empty((n_cs, n_folds)) for name in ("accuracy", "log_loss")}
    if n_classes == 2:
        out["roc_auc"] = np.empty((n_cs, n_folds))
    labels = np.arange(n_classes)
    for f, (_, test) in enumerate(folds):
        X_test, truth = X[test], codes[test]
        for i in range(n_cs):
            weights = paths[f, i]
            z = np.asarray(X_test @ weights[:, :-1].T) + weights[:, -1]
            if n_classes == 2:
                p1 = expit(z[:, 0])
                proba = np.column_stack([1.0 - p1, p1])
            else:
                proba = softmax(z, axis=1)
            out["accuracy"][i, f] = np.mean(proba.argmax(axis=1) == truth)
            out["log_loss"][i, f] = log_loss(truth, proba, labels=labels)
            if n_classes == 2:
                out["roc_auc"][i, f] = roc_auc_score(truth, proba[:, 1])
    return out


def _fit_poisson(X, y, *, cv, l1_ratio, alphas, eps, alpha_rule, n_jobs, tol, random_state,
                 hook, penalty_factor=None):
    """Cross-validated L1 Poisson regression: the model at the chosen alpha, the per-fold
    deviances along the grid and the full-data path for the plots, the summary entries."""
    from .poisson import PoissonRegressionCV, poisson_path

    ratio = float(list(l1_ratio)[0])
    if len(list(l1_ratio)) > 1:
        raise ValueError("Poisson fits take one --l1-ratio.")
    splitter = KFold(cv, shuffle=True, random_state=random_state)
    model = PoissonRegressionCV(l1_ratio=ratio, eps=eps, alphas=alphas, cv=splitter,
                                n_jobs=n_jobs, tol=tol, alpha_rule=alpha_rule,
                                penalty_factor=penalty_factor)
    with hook:
        model.fit(X, y)
    grid = model.alphas_
    _, coefs, _, _ = poisson_path(X, y, alphas=grid, l1_ratio=ratio, tol=tol,
                                  penalty_factor=penalty_factor)
    marks = {"alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_}
    if alpha_rule == "1se":
        marks = {"alpha_1se": model.alpha_1se_, "alpha_min": model.alpha_min_}
    n_nonzero = np.count_nonzero(coefs, axis=0)
    curve = {"parameter": "alpha", "grid": grid, "scores": model.deviance_path_,
             "measure": "Poisson deviance", "marks": marks, "n_nonzero": n_nonzero}
    path = {"parameter": "alpha", "grid": grid, "coefs": coefs, "marks": marks,
            "ylabel": None}
    index = int(np.flatnonzero(grid == model.alpha_)[0])
    mean = model.deviance_path_.mean(axis=1)
    details = {
        "model": type(model).__name__, "measure": "deviance", "alpha_rule": alpha_rule,
        "alpha": model.alpha_, "alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_,
        "l1_ratio": ratio, "cv_folds": int(model.deviance_path_.shape[1]),
        "cv_deviance_at_alpha": float(mean[index]), "cv_deviance_min": float(mean.min()),
        "intercept": float(model.intercept_), "dual_gap": float(model.dual_gap_),
    }
    return model, np.asarray(model.coef_, dtype=np.float64), curve, path, details


#: Event-column labels read as an event / as censored (case-insensitive), for two-level
#: string columns such as R's and cBioPortal's vital status.
EVENT_LABELS = frozenset({"1", "true", "yes", "y", "event", "dead", "deceased", "died",
                          "death", "relapse", "relapsed", "recurred", "recurrence",
                          "progressed", "progression"})
CENSORED_LABELS = frozenset({"0", "false", "no", "n", "censored", "alive", "living",
                             "disease-free", "diseasefree", "none"})


def _label_code(label: str) -> str:
    """cBioPortal's ``"1:DECEASED"`` / ``"0:LIVING"``: the code before the colon."""
    text = label.strip().lower()
    head, colon, _ = text.partition(":")
    return head.strip() if colon and head.strip() in ("0", "1") else text


def event_indicator(values, *, event_value=None, name: str = "event") -> np.ndarray:
    """Event indicators (bool) from an event column: 0/1, False/True, or two labels.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
        Numbers 0/1, booleans, or strings: ``"0"``/``"1"``, ``"true"``/``"false"``,
        cBioPortal's ``"1:DECEASED"``/``"0:LIVING"``, or any two labels of which one is a
        known event word (dead, deceased, died, death, event, yes, relapse(d), recurred,
        recurrence, progressed, progression) and the other not, or which ``event_value``
        names.
    event_value : str or number, default=None
        The label that marks an event (the other label marks a censored time).
    name : str, default="event"
        The column's name, for the error messages.

    Returns
    -------
    ndarray of bool of shape (n_samples,)

    Raises
    ------
    ValueError
        Numbers other than 0 and 1, more than two labels, ``event_value`` not among them,
        or two labels of which neither (or both) reads as an event.
    """
    values = np.asarray(values).ravel()
    if event_value is not None:
        labels = values.astype(str)
        wanted = str(event_value)
        if values.dtype.kind in "fiu":  # numbers: compare as numbers ("1" == 1.0)
            try:
                return values.astype(np.float64) == float(event_value)
            except ValueError:
                raise ValueError(f"event value {wanted!r} is not a number, but the {name} "
                                 "column holds numbers.") from None
        levels = np.unique(labels)
        if wanted not in levels:
            raise ValueError(f"event value {wanted!r} is not in the {name} column (its "
                             f"values: {', '.join(map(repr, levels[:5].tolist()))}).")
        if levels.size > 2:
            raise ValueError(f"the {name} column has {levels.size} distinct values "
                             f"({', '.join(map(repr, levels[:5].tolist()))}); an event column "
                             "has two.")
        return labels == wanted
    if values.dtype.kind == "b":
        return values.copy()
    if values.dtype.kind in "fiu":
        bad = ~np.isin(values, (0, 1))
        if np.any(bad):
            raise ValueError(f"the {name} column must hold 0/1 (1 = event), True/False or two "
                             f"labels; got {np.unique(values[bad])[:5].tolist()}.")
        return values == 1
    codes = np.array([_label_code(str(v)) for v in values])
    levels = np.unique(codes)
    shown = ", ".join(repr(v) for v in np.unique(values.astype(str))[:5])
    if levels.size > 2:
        raise ValueError(f"the {name} column has {levels.size} distinct values ({shown}); an "
                         "event column has two (1 = event, 0 = censored).")
    events = [level for level in levels if level in EVENT_LABELS]
    censored = [level for level in levels if level in CENSORED_LABELS]
    if len(events) == 1 and (levels.size == 1 or len(censored) == 1 or
                             levels.size - len(events) == 1):
        return codes == events[0]
    if not events and len(censored) == levels.size:
        return np.zeros(values.shape[0], dtype=bool)  # all censored (refused by the fit)
    raise ValueError(f"cannot tell which value of the {name} column ({shown}) marks an event: "
                     "recode it as 1 = event, 0 = censored, or name the event value "
                     "(--event-value, event_value=).")


def _select_cox(X, y, *, feature_names, cv, l1_ratio, alpha_rule, alphas, eps, standardize,
                measure, stability, n_resamples, threshold, n_jobs, tol, random_state,
                unpenalized, progress, stability_progress) -> SelectionResult:
    """:func:`select_features` for survival data (``task='cox'``)."""
    from ._cox_data import check_survival

    times, event = check_survival(y, X.shape[0])
    if measure not in (None, "deviance"):
        raise ValueError(f"measure {measure!r} is not for survival data; Cox regression uses "
                         "'deviance' (the partial-likelihood deviance).")
    if sp.issparse(X) and np.iscomplexobj(X.data) or not sp.issparse(X) and \
            np.iscomplexobj(X):
        raise ValueError("X must be real: complex values are not supported.")
    names, factor = _named_features(X, feature_names, unpenalized)
    X, scale, notes = _scaled(X, standardize)
    hook = report_progress(progress) if progress is not None else nullcontext()
    start = time.perf_counter()
    model, coef, curve, path, details, survival = _fit_cox(
        X, times, event, cv=cv, l1_ratio=l1_ratio, alphas=alphas, eps=eps,
        alpha_rule=alpha_rule, n_jobs=n_jobs, tol=tol, random_state=random_state, hook=hook,
        penalty_factor=factor)
    coef = coef / scale
    fit_seconds = time.perf_counter() - start
    selected = np.flatnonzero(coef)
    selected = selected[np.argsort(-np.abs(coef[selected]), kind="stable")]
    selector = None
    if stability:
        selector = _stability_selection(
            CoxRegression(l1_ratio=float(list(l1_ratio)[0]), tol=tol, penalty_factor=factor),
            X, np.column_stack([times, event]), n_resamples=n_resamples, threshold=threshold,
            n_jobs=n_jobs, random_state=random_state,
            progress=progress if stability_progress is None else stability_progress)
    if factor is not None:
        notes.append("left unpenalised (in every model): " + ", ".join(unpenalized))
    return SelectionResult("cox", model, names, coef, scale, selected, fit_seconds,
                           int(times.shape[0]), float("nan"), selector, notes, curve, path,
                           details, survival)


def _fold_concordance(X, time, event, train, test, params) -> float:
    """Harrell's C of a fold's test rows, by the model fitted on its training rows."""
    from ._cox_metrics import concordance_index
    from .cox import CoxRegression

    y = np.column_stack([time, event])
    model = CoxRegression(**params).fit(X[train], y[train])
    try:
        return concordance_index(event[test], time[test], model.predict(X[test]))
    except ValueError:  # no comparable pair among the fold's test rows
        return float("nan")


def _fit_cox(X, time, event, *, cv, l1_ratio, alphas, eps, alpha_rule, n_jobs, tol,
             random_state, hook, penalty_factor=None):
    """Cross-validated L1 Cox regression: the model at the chosen alpha, the per-fold
    deviances and the full-data path for the plots, the summary entries (with the
    concordance indices and the risk groups) and the Kaplan-Meier plot's data."""
    import functools

    from ._cox_metrics import concordance_index
    from .cox import CoxRegressionCV, cox_path
    from .cv import run_jobs

    ratios = list(l1_ratio)
    if len(ratios) > 1:
        raise ValueError("Cox fits take one --l1-ratio.")
    ratio = float(ratios[0])
    y = np.column_stack([time, event])
    splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    folds = list(splitter.split(np.zeros((time.shape[0], 1)), event))
    model = CoxRegressionCV(l1_ratio=ratio, eps=eps, alphas=alphas, cv=folds, n_jobs=n_jobs,
                            tol=tol, alpha_rule=alpha_rule, penalty_factor=penalty_factor)
    with hook:
        model.fit(X, y)
    grid = model.alphas_
    _, coefs, _ = cox_path(X, y, alphas=grid, l1_ratio=ratio, tol=tol,
                           penalty_factor=penalty_factor)
    params = {"alpha": model.alpha_, "l1_ratio": ratio, "tol": tol,
              "penalty_factor": penalty_factor}
    fold_c = np.array(run_jobs([functools.partial(_fold_concordance, X, time, event, train,
                                                  test, params) for train, test in folds],
                               n_jobs))
    score = model.predict(X)
    marks = {"alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_}
    if alpha_rule == "1se":
        marks = {"alpha_1se": model.alpha_1se_, "alpha_min": model.alpha_min_}
    curve = {"parameter": "alpha", "grid": grid, "scores": model.deviance_path_,
             "measure": "partial-likelihood deviance per event", "marks": marks,
             "n_nonzero": np.count_nonzero(coefs, axis=0)}
    path = {"parameter": "alpha", "grid": grid, "coefs": coefs, "marks": marks,
            "ylabel": "log hazard ratio"}
    index = int(np.flatnonzero(grid == model.alpha_)[0])
    valid = fold_c[np.isfinite(fold_c)]
    details = {
        "model": type(model).__name__, "measure": "deviance", "alpha_rule": alpha_rule,
        "alpha": model.alpha_, "alpha_min": model.alpha_min_, "alpha_1se": model.alpha_1se_,
        "l1_ratio": ratio, "ties": model.ties, "cv_folds": len(folds),
        "n_events": int(event.sum()), "n_censored": int((~event).sum()),
        "cv_deviance_at_alpha": float(model.deviance_mean_[index]),
        "cv_deviance_min": float(model.deviance_mean_.min()),
        "kkt_violation": float(model.dual_gap_),
        "c_index_train": _concordance_or_nan(concordance_index, event, time, score),
        "c_index_cv": float(valid.mean()) if valid.size else None,
        "c_index_cv_se": float(valid.std(ddof=1) / np.sqrt(valid.size))
        if valid.size > 1 else None,
    }
    high, groups = _risk_groups(time, event, score)
    details["risk_groups"] = groups
    survival = {"time": time, "event": event, "high_risk": high, "score": score}
    return model, np.asarray(model.coef_, dtype=np.float64), curve, path, details, survival


def _concordance_or_nan(concordance_index, event, time, score):
    try:
        return concordance_index(event, time, score)
    except ValueError:
        return None


def _risk_groups(time, event, score) -> tuple[np.ndarray | None, dict]:
    """The high-risk mask (score above its median) and the groups' summary: sizes, events,
    Kaplan-Meier median survival and the log-rank test; no split when the scores are all
    equal (no feature selected)."""
    from ._cox_metrics import kaplan_meier, logrank_test

    split = float(np.median(score))
    high = score > split
    if not 0 < high.sum() < high.shape[0]:
        return None, {"split_at_score": split, "note": "no split: every sample has the same "
                      "risk score (no feature selected)"}
    out: dict = {"split_at_score": split}
    for label, rows in (("high", high), ("low", ~high)):
        km = kaplan_meier(time[rows], event[rows])
        median = km.median()
        out[label] = {"n": int(rows.sum()), "events": int(event[rows].sum()),
                      "median_survival": None if np.isnan(median) else median}
    statistic, p_value, _ = logrank_test(time, event, high)
    out.update(logrank_chi2=statistic, logrank_p=p_value)
    return high, out


def _fit_classification(X, y, *, cv, l1_ratio, alphas, alpha_rule, measure, n_jobs, tol,
                        random_state, hook, penalty_factor=None):
    """Cross-validated L1 logistic regression over a ``C`` grid from ``l1_min_c``: the fold
    paths scored with every measure, ``C`` chosen by ``measure`` and ``alpha_rule``, the
    coefficients taken from the full-data path at that ``C``."""
    from sklearn.svm import l1_min_c

    from .logistic_cv import LogisticRegressionCV, l1_logistic_path
    from .logistic_cv import l1_min_c as null_model_min_c

    splitter = StratifiedKFold(cv, shuffle=True, random_state=random_state)
    folds = list(splitter.split(np.zeros((y.shape[0], 1)), y))
    # From the C where the first feature enters up three decades (as the alpha grid
    # goes from alpha_max down): scikit-learn's default logspace(-4, 4) wastes most
    # of its points on all-zero or unpenalised models for L1.
    c_min = l1_min_c(X, y, loss="log") if penalty_factor is None else \
        null_model_min_c(X, y, penalty_factor=penalty_factor)  # (covariates fitted first)
    grid = c_min * np.logspace(0, 3, min(alphas, 30))
    model = LogisticRegressionCV(cv=folds, Cs=grid, l1_ratios=list(l1_ratio),
                                        n_jobs=n_jobs, tol=tol,
                                        scoring=CLASSIFICATION_MEASURES[measure],
                                        use_legacy_attributes=False,
                                        penalty_factor=penalty_factor)
    with hook:
        model.fit(X, y)
    classes = model.classes_
    grid = np.asarray(model.Cs_)
    k = int(np.argmin(np.abs(np.asarray(model.l1_ratios_) - float(model.l1_ratio_))))
    ratio = float(model.l1_ratios_[k])
    codes = np.searchsorted(classes, y)
    measures = _fold_measures(X, codes, folds, np.asarray(model.coefs_paths_)[:, k],
                              classes.size)
    loss = {"deviance": measures["log_loss"], "class": 1.0 - measures["accuracy"],
            "auc": -measures.get("roc_auc", measures["accuracy"])}[measure]
    mean = loss.mean(axis=1)
    std_error = loss.std(axis=1, ddof=1) / np.sqrt(loss.shape[1])
    best = int(np.argmin(mean))  # the smallest C (sparsest model) of equals
    index_1se = int(np.flatnonzero(mean <= mean[best] + std_error[best])[0])
    index = best if alpha_rule == "min" else index_1se
    _, coefs, intercepts, n_iter = l1_logistic_path(X, y, Cs=grid, l1_ratio=ratio, tol=tol,
                                                    penalty_factor=penalty_factor)
    coef = coefs[index]
    coef = coef[0] if coef.shape[0] == 1 else coef
    intercept = intercepts[index]
    path_coefs = coefs[:, 0, :].T if coefs.shape[1] == 1 else np.abs(coefs).max(axis=1).T
    marks = {"C_min": float(grid[best]), "C_1se": float(grid[index_1se])}
    if alpha_rule == "1se":
        marks = {"C_1se": marks["C_1se"], "C_min": marks["C_min"]}
    labels = {"deviance": "log-loss (deviance / 2)", "class": "misclassification error",
              "auc": "ROC AUC"}
    shown = {"deviance": measures["log_loss"], "class": 1.0 - measures["accuracy"],
             "auc": measures.get("roc_auc")}[measure]
    n_nonzero = np.count_nonzero(np.abs(coefs).max(axis=1), axis=1)
    curve = {"parameter": "C", "grid": grid, "scores": shown, "measure": labels[measure],
             "marks": marks, "n_nonzero": n_nonzero}
    path = {"parameter": "C", "grid": grid, "coefs": path_coefs, "marks": marks,
            "ylabel": None if coefs.shape[1] == 1 else "largest |coefficient| over classes"}
    n_folds = loss.shape[1]
    cv_at_C = {}
    for name, values in measures.items():
        cv_at_C[name] = float(values[index].mean())
        cv_at_C[f"{name}_se"] = float(values[index].std(ddof=1) / np.sqrt(n_folds))
    details = {
        "model": type(model).__name__, "measure": measure, "alpha_rule": alpha_rule,
        "C": float(grid[index]), "C_min": float(grid[best]), "C_1se": float(grid[index_1se]),
        "Cs": [float(c) for c in grid], "l1_ratio": ratio, "cv_folds": n_folds,
        "cv_at_C": cv_at_C, "classes": [str(c) for c in classes],
        "intercept": float(intercept[0]) if intercept.shape[0] == 1
        else [float(b) for b in intercept],
        "n_iter_at_C": int(n_iter[index]), "n_iter_path": int(np.sum(n_iter)),
    }
    if classes.size == 2:
        details["positive_class"] = str(classes[1])
    return model, coef, curve, path, details


def _guess_task(y: np.ndarray) -> str:
    if y.dtype.kind in "OUSb":
        return "classification"
    values = np.unique(y)
    integral = np.all(np.mod(values, 1) == 0)
    return "classification" if integral and values.size <= 10 else "regression"


def check_output_dir(out_dir, *, overwrite: bool = False) -> Path:
    """Check that ``out_dir`` can receive the outputs, before anything is fitted.

    Parameters
    ----------
    out_dir : str or path-like
    overwrite : bool, default=False
        Accept a non-empty folder; :func:`write_outputs` then replaces the files of a
        previous run (``selected_features.csv``, ``stability.csv``, ``cv_curve.png``,
        ``path.png``, ``stability.png``, ``kaplan_meier.png``, ``summary.json``) and leaves
        other files alone.

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        ``out_dir`` is a file (or a device such as ``/dev/null``), lies under a file, cannot
        be created or written, or is a non-empty folder without ``overwrite``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output folder {str(out)!r} exists and is not a folder.")
    if not out.exists():
        for parent in out.absolute().parents:
            if parent.exists():
                if not parent.is_dir():
                    raise ValueError(f"output folder {str(out)!r} cannot be created: "
                                     f"{str(parent)!r} is a file.")
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise ValueError(f"output folder {str(out)!r} cannot be created: "
                                     f"{str(parent)!r} is not writable.")
                break
        return out
    if not os.access(out, os.W_OK | os.X_OK):
        raise ValueError(f"output folder {str(out)!r} is not writable.")
    entries = sorted(p.name for p in out.iterdir())
    if entries and not overwrite:
        shown = ", ".join(entries[:3]) + (" ..." if len(entries) > 3 else "")
        raise ValueError(f"output folder {str(out)!r} is not empty ({shown}); choose another "
                         "folder, or pass --overwrite (overwrite=True) to replace a previous "
                         "run's outputs.")
    return out


def write_outputs(result: SelectionResult, out_dir, *, extra_summary: dict | None = None,
                  sample_ids: Sequence[str] | None = None) -> list[Path]:
    """Write the outputs of :func:`select_features` to a folder.

    ``selected_features.csv``, ``summary.json`` and, with matplotlib installed,
    ``cv_curve.png`` and ``path.png`` (and ``stability.csv`` / ``stability.png`` with
    stability selection; ``risk_groups.csv`` and ``kaplan_meier.png`` for Cox regression).
    The files of a previous run (these eight names) are removed first, so that none is left
    beside the new ones; other files are left alone.

    Parameters
    ----------
    result : SelectionResult
    out_dir : str or path-like
        Created if missing (see :func:`check_output_dir` to check it before fitting).
    extra_summary : dict, default=None
        Entries added to ``summary.json``.
    sample_ids : sequence of str, default=None
        The samples' names in ``risk_groups.csv`` (default: their row numbers from 0).

    Returns
    -------
    list of Path
        The files written.
    """
    import csv

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES:
        previous = out / name
        if previous.is_file() or previous.is_symlink():
            previous.unlink()
    written = []
    path = out / "selected_features.csv"
    scores = None if result.stability is None else result.stability.scores_
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        coef = result.coef
        cox = result.task == "cox"
        if coef.ndim == 1:
            header = ["rank", "feature", "coefficient", "abs_coefficient"]
            header += ["hazard_ratio"] if cox else []
        else:
            header = ["rank", "feature", *[f"coef_{c}" for c in result.model.classes_],
                      "max_abs_coefficient"]
        writer.writerow(header + (["stability_score"] if scores is not None else []))
        for rank, j in enumerate(result.selected, start=1):
            values = [f"{coef[j]:.10g}", f"{abs(coef[j]):.10g}"] if coef.ndim == 1 else \
                [*(f"{c:.10g}" for c in coef[:, j]), f"{np.abs(coef[:, j]).max():.10g}"]
            values += [f"{np.exp(coef[j]):.10g}"] if cox else []
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
    if result.survival is not None:
        written.append(_write_risk_groups(result.survival, out / "risk_groups.csv",
                                          sample_ids))
    summary = result.summary()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        plots = _plots(result)
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


def _write_risk_groups(survival: dict, path: Path, sample_ids) -> Path:
    """One row per sample: its time, event, risk score ``X w`` of the selected model and
    group (``high`` above the median score, ``low`` otherwise; empty when every score is the
    same), the groups of the Kaplan-Meier plot."""
    import csv

    score, high = survival["score"], survival["high_risk"]
    n = score.shape[0]
    ids = [str(i) for i in range(n)] if sample_ids is None else [str(s) for s in sample_ids]
    if len(ids) != n:
        raise ValueError(f"sample_ids has {len(ids)} names for {n} samples.")
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sample", "time", "event", "risk_score", "risk_group"])
        for i in range(n):
            group = "" if high is None else ("high" if high[i] else "low")
            writer.writerow([ids[i], f"{survival['time'][i]:.10g}",
                             int(survival["event"][i]), f"{score[i]:.10g}", group])
    return path


def _plots(result: SelectionResult) -> list:
    """(file name, drawing function) of the plots of ``result``."""
    from .plotting import plot_cv, plot_path, plot_stability

    names = result.feature_names
    plots = []
    if result.task == "regression":
        plots += [("cv_curve.png", lambda: plot_cv(result.model)),
                  ("path.png", lambda: plot_path(result.model, feature_names=names,
                                                 scale=result.scale))]
    elif result.curve is not None:
        curve, path = result.curve, result.path

        def draw_path():
            ax = plot_path((path["grid"], path["coefs"]), feature_names=names,
                           scale=result.scale, parameter=path["parameter"], marks=path["marks"])
            if path["ylabel"]:
                ax.set_ylabel(f"{path['ylabel']} (original scale)")
            return ax

        plots += [("cv_curve.png", lambda: plot_cv(
                      (curve["grid"], curve["scores"]), parameter=curve["parameter"],
                      measure=curve["measure"], marks=curve["marks"],
                      n_nonzero=curve["n_nonzero"])),
                  ("path.png", draw_path)]
    if result.survival is not None and result.survival["high_risk"] is not None:
        plots.append(("kaplan_meier.png", lambda: _plot_risk_groups(result)))
    if result.stability is not None:
        plots.append(("stability.png", lambda: plot_stability(result.stability,
                                                              feature_names=names)))
    return plots


def _plot_risk_groups(result: SelectionResult):
    """Kaplan-Meier curves of the high- and low-risk halves (split at the median score)."""
    from .plotting import plot_kaplan_meier

    data = result.survival
    groups = np.where(data["high_risk"], "high", "low")
    split = result.details["risk_groups"]["split_at_score"]
    ax = plot_kaplan_meier(data["time"], data["event"], groups, labels={
        "high": f"high risk (score > {split:.3g})", "low": f"low risk (score <= {split:.3g})"})
    ax.set_title(f"Risk groups of the selected model ({result.selected.size} features; "
                 "training data)")
    return ax
