"""Stability selection: which features does the lasso pick again and again?

:class:`StabilitySelection` (Meinshausen & Buhlmann, JRSS-B 2010), by default in the
complementary-pairs variant of Shah & Samworth (JRSS-B 2013): fit the regularisation path on many
random halves of the rows (each half with its complement), record at each alpha which features
are selected, and keep the features whose selection frequency reaches a threshold at some alpha
of the grid. Subsamples run as jobs of the path plan (:func:`fastl1._path_plan.stability_paths`
on threads, or the workers of the active joblib backend such as a Dask cluster), each computing
a warm-started path on its rows only with the estimator's side of the plan (its
``_path_spec()``): the same code for every model.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._dask import dask_input
from ._path_plan import stability_paths
from ._validation import _check_bool, _check_int, _check_real
from .cv import one_blas_thread
from .linear_model import Lasso, refuse_feature_penalty_on_dask

__all__ = ["StabilitySelection"]


class StabilitySelection(SelectorMixin, BaseEstimator):
    """Stability selection of features with the lasso, the elastic net or L1 logistic
    regression.

    For each of ``n_resamples`` random splits of the rows into two halves (or only one half
    when ``complementary_pairs=False``), the path of ``estimator`` is fitted on each half
    over a grid of alphas, and a feature counts as selected at an alpha when its coefficient
    is non-zero. ``stability_scores_[j, k]`` is the fraction of subsamples selecting feature
    ``j`` at ``alphas_[k]``; the stable set holds the features whose best score over the grid
    reaches ``threshold``. Usable as a transformer in a :class:`~sklearn.pipeline.Pipeline`.

    Parameters
    ----------
    estimator : fastl1.Lasso, fastl1.ElasticNet, fastl1.LogisticRegression, \
            fastl1.PoissonRegression, fastl1.CoxRegression or fastl1.GroupLasso, default=None
        The model whose selections are counted (default ``Lasso()``); its ``l1_ratio``,
        ``fit_intercept``, ``positive``, ``penalty_factor``, ``lower_bounds``,
        ``upper_bounds``, ``tol`` and ``max_iter`` (and ``class_weight``, ``ties``) are used;
        the cross-validated models (``PoissonRegressionCV``, ``CoxRegressionCV``) give their
        settings the same way, their own alpha grid aside (a feature
        with penalty factor 0 is in every fit, so its score is 1). For logistic regression
        the grid is over ``C``: ``alphas_`` holds ``1 / C``,
        from :func:`sklearn.svm.l1_min_c` (where the first feature enters) to ``1 / eps``
        times that ``C``; a feature counts as selected if any class uses it. A
        :class:`fastl1.GroupLasso` selects whole groups (its ``groups``, ``group_weights``
        and ``within_l1`` are used): a group counts as selected when any of its coefficients
        is non-zero, and its features share its score.
    alphas : int or array-like, default=20
        Grid size (log-spaced from ``alpha_max`` of the full data down to ``eps * alpha_max``)
        or the alphas themselves.
    eps : float, default=0.05
        Grid end relative to ``alpha_max``. Stability selection needs sparse fits: the error
        bound grows with the number of features selected per subsample.
    n_resamples : int, default=50
        Random splits (so ``2 * n_resamples`` subsample fits with complementary pairs).
    sample_fraction : float, default=0.5
        Fraction of the rows in a subsample (0.5 with complementary pairs).
    threshold : float, default=0.6
        Selection-frequency threshold in ``(0.5, 1]`` for the stable set.
    complementary_pairs : bool, default=True
        Also fit each subsample's complement (Shah & Samworth 2013).
    n_jobs : int, default=None
        Threads (``-1``: all cores), or the workers of the active joblib backend when one is
        chosen (``joblib.parallel_config(backend="dask")`` runs the subsamples on a Dask
        cluster); results do not depend on it.
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        joblib's progress messages per subsample.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
    stability_scores_ : ndarray of shape (n_features, n_alphas)
        Selection frequencies.
    scores_ : ndarray of shape (n_features,)
        Best frequency over the grid (the stability path's maximum).
    support_ : ndarray of bool, shape (n_features,)
        ``scores_ >= threshold``.
    average_selected_ : float
        ``q``: average number of features selected at some alpha of the grid per subsample.
    expected_false_selections_bound_ : float
        Meinshausen & Buhlmann's bound on the expected number of falsely selected features,
        ``q^2 / ((2 * threshold - 1) * n_features)`` (Theorem 1, under their exchangeability
        and better-than-random assumptions; Shah & Samworth 2013 bound, without assumptions,
        the number of selected low-selection-probability features by the same quantity).
    feature_groups_ : list of ndarray
        Only for a model selecting groups of features (:class:`fastl1.GroupLasso`): the
        features of each group.
    group_scores_ : ndarray of shape (n_groups,)
        Only with ``feature_groups_``: each group's best frequency over the grid (the
        ``scores_`` its features share).
    n_features_in_ : int

    Notes
    -----
    Sample weights weight the rows inside each subsample's fits; they do not change which
    rows are drawn. So an integer weight is not the same as repeating the row: repeated copies
    are drawn (or left out) independently, and a data set with repeated rows has more rows to
    split, hence other subsamples. scikit-learn's ``check_estimator`` tests exactly that
    equivalence, so ``check_sample_weight_equivalence_on_dense_data`` and
    ``check_sample_weight_equivalence_on_sparse_data`` are expected to fail (as they would for
    any estimator that resamples rows); pass them in ``expected_failed_checks``::

        reason = "subsampling draws rows: a repeated row is not a weighted row"
        check_estimator(StabilitySelection(), expected_failed_checks={
            "check_sample_weight_equivalence_on_dense_data": reason,
            "check_sample_weight_equivalence_on_sparse_data": reason})

    Examples
    --------
    >>> import numpy as np
    >>> from fastl1 import StabilitySelection
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 50))
    >>> y = 2 * X[:, 0] - 3 * X[:, 1] + rng.standard_normal(100)
    >>> selector = StabilitySelection(n_resamples=20, random_state=0).fit(X, y)
    >>> selector.get_support(indices=True).tolist()
    [0, 1]
    """

    def __init__(self, estimator=None, *, alphas=20, eps=0.05, n_resamples=50,
                 sample_fraction=0.5, threshold=0.6, complementary_pairs=True, n_jobs=None,
                 random_state=None, verbose=0):
        self.estimator = estimator
        self.alphas = alphas
        self.eps = eps
        self.n_resamples = n_resamples
        self.sample_fraction = sample_fraction
        self.threshold = threshold
        self.complementary_pairs = complementary_pairs
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags

    def _model(self):
        """A clone of the estimator and its side of the path plan (:mod:`fastl1._path_plan`),
        with its parameters validated by the estimator's own checks (before any subsample is
        drawn)."""
        model = Lasso() if self.estimator is None else clone(self.estimator)
        if not hasattr(model, "_path_spec"):
            raise TypeError("StabilitySelection works with fastl1.Lasso, fastl1.ElasticNet, "
                            "fastl1.LogisticRegression, fastl1.PoissonRegression, "
                            "fastl1.GroupLasso or "
                            f"fastl1.CoxRegression, got {type(model).__name__}.")
        return model, model._path_spec()

    @one_blas_thread
    def fit(self, X, y, sample_weight=None, groups=None):
        """Fit the paths on the subsamples and compute the selection frequencies.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), or survival data
            The target; for a Cox model scikit-survival's structured array (event, time) or
            an ``(n_samples, 2)`` array of columns time, event.
        sample_weight : array-like of shape (n_samples,), default=None
        groups : array-like of shape (n_samples,), default=None
            Strata of a Cox model (each subsample keeps its rows' strata); other models take
            none.

        Returns
        -------
        self
        """
        model, spec = self._model()
        if groups is not None and not spec.takes_groups:
            raise ValueError("groups (strata) are for a Cox model; "
                             f"{type(model).__name__} takes none.")
        _check_int("n_resamples", self.n_resamples, low=1)
        _check_real("threshold", self.threshold, low=0.0, high=1.0)
        if self.threshold <= 0.5:
            raise ValueError(f"threshold must be in (0.5, 1], got {self.threshold!r}: the "
                             "error bound needs a frequency above one half.")
        _check_real("sample_fraction", self.sample_fraction, low=0.0, high=1.0)
        if not 0 < self.sample_fraction < 1:
            raise ValueError(f"sample_fraction must be in (0, 1), got {self.sample_fraction!r}.")
        if self.complementary_pairs and self.sample_fraction > 0.5:
            raise ValueError("complementary_pairs needs sample_fraction <= 0.5.")
        _check_bool("complementary_pairs", self.complementary_pairs)
        _check_real("eps", self.eps, low=0.0)
        if self.eps <= 0:
            raise ValueError(f"eps must be > 0, got {self.eps!r}: the grid ends at eps times "
                             "its largest penalty.")
        if dask_input(X, y, sample_weight):  # subsamples' statistics by row blocks
            from ._dask_selection import fit_stability
            refuse_feature_penalty_on_dask(model)
            return fit_stability(self, model, spec.l1_ratio, X, y, sample_weight)
        spec, data = spec.prepare(self, X, y, sample_weight, groups)
        alphas, grid = spec.grid(data, self.alphas, self.eps)
        weights = spec.row_weights(data)
        n, p = spec.n_samples(data), spec.n_features(data)
        size = max(1, int(self.sample_fraction * n))
        if size < 2 or n - size < (size if self.complementary_pairs else 0):
            raise ValueError(f"{n} samples are too few to draw subsamples of {size}.")
        rng = check_random_state(self.random_state)
        subsamples = []
        for _ in range(self.n_resamples):
            order = rng.permutation(n)
            subsamples.append(np.sort(order[:size]))
            if self.complementary_pairs:
                subsamples.append(np.sort(order[size:2 * size]))
        if weights is not None:
            for k, rows in enumerate(subsamples):
                if not weights[rows].sum() > 0:
                    raise ValueError(
                        f"Subsample {k} ({size} of {n} rows) has only zero weights "
                        f"({np.count_nonzero(weights == 0)} of the {n} samples weigh zero, "
                        "class weights included); use fewer zero weights or a larger "
                        "sample_fraction.")
        # One job per subsample, the data as its arguments: on a cluster they are sent once
        # (fastl1.cv.run_jobs).
        results = stability_paths(spec, grid, data, subsamples, self.n_jobs,
                                  verbose=int(self.verbose))
        counts = np.zeros((p, grid.shape[0]))
        union_sizes = []
        unconverged = 0
        for selected, failures in results:
            counts += selected
            union_sizes.append(np.count_nonzero(selected.any(axis=1)))
            unconverged += failures
        if unconverged:
            # The squared-loss paths warn per subsample (fit_path); the others only count,
            # so their fits are summed up here, in the caller's thread.
            warnings.warn(
                f"{type(model).__name__} did not converge within max_iter={model.max_iter} "
                f"for {unconverged} of the {len(subsamples) * grid.shape[0]} subsample fits "
                f"(tol={model.tol:g}); the selections of those fits may be inexact. "
                "Increase max_iter or tol.", ConvergenceWarning, stacklevel=3)
        self.alphas_ = alphas
        self.stability_scores_ = counts / len(subsamples)
        self.scores_ = self.stability_scores_.max(axis=1)
        self.support_ = self.scores_ >= self.threshold
        self.average_selected_ = float(np.mean(union_sizes))
        self.expected_false_selections_bound_ = float(
            self.average_selected_ ** 2 / ((2 * self.threshold - 1) * p))
        if spec.feature_groups is not None:  # features selected together share a score
            self.feature_groups_ = spec.feature_groups
            self.group_scores_ = np.array([self.scores_[members[0]]
                                           for members in spec.feature_groups])
        return self

    def _get_support_mask(self):
        check_is_fitted(self)
        return self.support_

