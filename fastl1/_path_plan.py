"""The one path loop and the one job plan of cross-validation and stability selection.

Every model plugs in through a *path spec*: one module-level class per datafit (the squared
loss in :mod:`fastl1.path`, the logistic losses in :mod:`fastl1.logistic_cv`, Poisson in
:mod:`fastl1.poisson`, Cox in :mod:`fastl1.cox`), whose instances an estimator returns from
``_path_spec()`` and which holds the fit's options, never its data (:class:`PathSpec` names
what the plan asks of it). The plan does the rest the same way for every model:

- :func:`trace_path` is the warm-started loop along a penalty grid (each point starts from
  the previous solution): the spec gives the fit of one point;
- :func:`cross_validate` runs one job per (spec, fold), which computes the path on the fold's
  training rows and scores it on its test rows, and one job per spec on all rows (the final
  model at the chosen penalty comes from it, as glmnet's ``cv.glmnet``);
- :func:`stability_paths` runs one job per subsample, which records the features selected at
  each point of the grid.

Jobs are ``functools.partial`` of this module's functions whose data (the spec's ``data``
tuple: X, y, weights, ...) are top-level arguments, so :func:`fastl1.cv.run_jobs` runs them on
threads or sends them to a joblib backend such as Dask, where data shared by several jobs go
to the cluster once per fit. Nothing here looks at the model's type.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ._feature_penalty import FeaturePenalty, check_feature_penalty
from .cv import run_jobs

__all__ = ["FoldOutcome", "PathOutcome", "PathSpec", "Point", "cross_validate",
           "feature_options", "stability_paths", "trace_path"]

_FEATURE_OPTIONS = ("penalty_factor", "lower_bounds", "upper_bounds", "positive")


def feature_options(estimator) -> dict:
    """An estimator's per-feature penalty parameters (``penalty_factor``, ``lower_bounds``,
    ``upper_bounds``, ``positive``; None or False where it has none), for a spec to validate
    once it sees the design."""
    return {name: getattr(estimator, name, False if name == "positive" else None)
            for name in _FEATURE_OPTIONS}


@dataclass
class Point:
    """One solution of a path: ``coef`` (the spec's layout, ``(n_features,)`` or ``(K,
    n_features)``; a live array the next point overwrites: copy to keep it), its intercept
    (None where the spec computes none), certificate, iterations and convergence."""

    coef: np.ndarray
    intercept: object
    gap: float
    n_iter: int
    converged: bool


@dataclass
class Trace:
    """What :func:`trace_path` records of every point: certificates, iterations, and the
    ``(grid value, certificate)`` of the points that did not converge."""

    gaps: np.ndarray
    n_iters: list
    failures: list


def trace_path(fit_point: Callable[[int, float], Point], grid: np.ndarray,
               on_point: Callable[[int, Point], None] | None = None) -> Trace:
    """The path loop: ``fit_point(i, grid[i])`` for each point in order (the spec's fit,
    warm-started from its previous solution), then ``on_point(i, point)``."""
    gaps = np.empty(grid.shape[0])
    n_iters = []
    failures = []
    for i, value in enumerate(grid):
        point = fit_point(i, value)
        gaps[i] = point.gap
        n_iters.append(point.n_iter)
        if not point.converged:
            failures.append((value, point.gap))
        if on_point is not None:
            on_point(i, point)
    return Trace(gaps, n_iters, failures)


@dataclass
class PathOutcome:
    """A spec's path: ``coefs`` (its layout: a sparse ``(n_features, n_points)`` for the
    squared loss, ``(n_points, K, n_features)`` for the logistic losses, ``(n_features,
    n_points)`` otherwise; None when not stored), ``intercepts`` (None where the spec has
    none), ``gaps`` and ``n_iters`` per point, ``failures`` (points that did not converge and
    have not been warned about yet), ``y_mean`` (squared loss: the target's weighted mean,
    the intercepts' base)."""

    coefs: object
    intercepts: object
    gaps: np.ndarray
    n_iters: object
    failures: int = 0
    y_mean: object = None


@dataclass
class FoldOutcome:
    """A fold job's result: the test score at each grid point (lower is better or higher,
    as the spec defines), the fold's weight in the mean over folds (None: equal weights),
    the training path when the spec keeps it (``path``), and the failures of its fits."""

    scores: np.ndarray
    weight: float | None = None
    path: PathOutcome | None = None
    failures: int = 0


class PathSpec:
    """What the plan asks of a datafit: subclass it once per datafit, at module level (jobs
    pickle the instance for other processes), holding options only (the data travel apart).

    ``data`` is the tuple of arrays a fit works on (each a top-level argument of every job,
    so a cluster receives it once); ``fold`` is whatever :meth:`rows` makes of some rows
    (problem, centred target, ...), which :meth:`path` and the scorers read.
    """

    #: Whether ``fit``'s ``groups`` mean something to the datafit (Cox strata).
    takes_groups = False
    #: Features that enter and leave the model together (a list of index arrays, each
    #: feature in one), set by ``prepare``; None: each feature on its own. Stability
    #: selection counts such a group as selected when any of its coefficients is non-zero.
    feature_groups: list | None = None
    #: The penalty mix; the per-feature penalty (validated) and its parameters
    #: (:func:`feature_options`; ``prepare`` validates them into ``penalty``).
    l1_ratio: float = 1.0
    penalty: FeaturePenalty | None = None
    features: dict | None = None

    def feature_penalty(self, n_features: int) -> FeaturePenalty:
        """``features`` validated for ``n_features`` columns (all-zero factors are an error
        only with an L1 term)."""
        options = self.features or {}
        return check_feature_penalty(
            options.get("penalty_factor"), options.get("lower_bounds"),
            options.get("upper_bounds"), n_features,
            positive=bool(options.get("positive", False)), l1_ratio=float(self.l1_ratio))

    def prepare(self, owner, X, y, sample_weight=None, groups=None) -> tuple[PathSpec, tuple]:
        """Validate the input (``owner``: the estimator that records ``n_features_in_``) and
        return the spec completed with what depends on it (the per-feature penalty) and the
        ``data`` tuple."""
        raise NotImplementedError

    def n_samples(self, data: tuple) -> int:
        return data[0].shape[0]

    def n_features(self, data: tuple) -> int:
        return data[0].shape[1]

    def row_weights(self, data: tuple) -> np.ndarray | None:
        """Each row's weight in the fits (None: all equal), to refuse a subsample whose
        rows all weigh zero."""
        raise NotImplementedError

    def grid(self, data: tuple, alphas, eps: float) -> tuple[np.ndarray, np.ndarray]:
        """The penalty grid for ``alphas`` (a size, from the largest useful penalty down to
        ``eps`` times it, or the values) as ``(alphas_, path grid)``: the strengths reported
        (decreasing) and the values :meth:`path` takes, in its own units."""
        raise NotImplementedError

    def rows(self, data: tuple, rows: np.ndarray | None):
        """The fit's input on ``rows`` (None: all rows)."""
        raise NotImplementedError

    def path(self, fold, grid: np.ndarray, on_point: Callable[[int, Point], None] | None = None,
             store: bool = True) -> PathOutcome:
        """Warm-started fits along ``grid`` by :func:`trace_path`; ``store=False`` lets a
        spec drop the coefficients (the callers read them in ``on_point``)."""
        raise NotImplementedError

    def fold_scorer(self, data: tuple, fold, test: np.ndarray, grid: np.ndarray):
        """A :class:`FoldScorer` of the path on ``fold`` (the training rows), scored on the
        ``test`` rows of ``data``."""
        raise NotImplementedError


class FoldScorer:
    """Scores a training path on test rows: called with each point (``on_point``), then
    :meth:`finish` with the path; the default scores nothing per point."""

    def __call__(self, i: int, point: Point) -> None:
        pass

    def finish(self, path: PathOutcome) -> FoldOutcome:
        raise NotImplementedError


def _full_job(spec: PathSpec, grid: np.ndarray, *data) -> PathOutcome:
    """The path on all rows."""
    return spec.path(spec.rows(data, None), grid)


def _fold_job(spec: PathSpec, grid: np.ndarray, train: np.ndarray, test: np.ndarray,
              *data) -> FoldOutcome:
    """The path on the ``train`` rows, scored on the ``test`` rows."""
    fold = spec.rows(data, train)
    scorer = spec.fold_scorer(data, fold, test, grid)
    return scorer.finish(spec.path(fold, grid, on_point=scorer, store=False))


@dataclass
class CVRun:
    """One spec's cross-validation: the path on all rows and each fold's outcome."""

    full: PathOutcome
    folds: list = field(default_factory=list)

    @property
    def scores(self) -> np.ndarray:
        """Test scores, ``(n_points, n_folds)``."""
        return np.column_stack([fold.scores for fold in self.folds])

    @property
    def failures(self) -> int:
        return self.full.failures + sum(fold.failures for fold in self.folds)


def cross_validate(runs: Sequence[tuple[PathSpec, np.ndarray]], data: tuple, folds: list,
                   n_jobs: int | None, verbose: int = 0) -> list[CVRun]:
    """For each ``(spec, grid)`` of ``runs`` (one per penalty mix, say), the path on all
    rows and on each fold's training rows, scored on its test rows: ``(len(folds) + 1)``
    jobs per run, all run together (:func:`fastl1.cv.run_jobs`)."""
    jobs = []
    for spec, grid in runs:
        jobs.append(functools.partial(_full_job, spec, grid, *data))
        jobs.extend(functools.partial(_fold_job, spec, grid, train, test, *data)
                    for train, test in folds)
    results = run_jobs(jobs, n_jobs, verbose=verbose)
    per = len(folds) + 1
    return [CVRun(results[k * per], results[k * per + 1:(k + 1) * per])
            for k in range(len(runs))]


def _selection_job(spec: PathSpec, grid: np.ndarray, rows: np.ndarray, *data
                   ) -> tuple[np.ndarray, int]:
    """The path on ``rows``: the ``(n_features, n_points)`` table of the features with a
    non-zero coefficient (for some class or task; for every feature of a group of
    ``spec.feature_groups``, a non-zero coefficient in the group) at each point, and the
    failures of its fits."""
    p = spec.n_features(data)
    selected = np.zeros((p, grid.shape[0]), dtype=bool)
    label = None
    if spec.feature_groups is not None:  # a group's features share its selection
        label = np.empty(p, dtype=np.int64)
        for g, members in enumerate(spec.feature_groups):
            label[members] = g

    def record(i: int, point: Point) -> None:
        nonzero = np.any(np.reshape(point.coef, (-1, p)) != 0, axis=0)
        if label is not None:
            nonzero = np.bincount(label, weights=nonzero)[label] > 0
        selected[:, i] = nonzero

    outcome = spec.path(spec.rows(data, rows), grid, on_point=record, store=False)
    return selected, outcome.failures


def stability_paths(spec: PathSpec, grid: np.ndarray, data: tuple, subsamples: list,
                    n_jobs: int | None, verbose: int = 0) -> list[tuple[np.ndarray, int]]:
    """One job per subsample of rows (:func:`_selection_job`); results in order."""
    jobs = [functools.partial(_selection_job, spec, grid, rows, *data) for rows in subsamples]
    return run_jobs(jobs, n_jobs, verbose=verbose)
