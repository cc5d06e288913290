"""The path plan: one path loop, one cross-validation plan and one stability-selection plan for
every datafit; a model plugs in with a spec and nothing in the plan looks at its type."""

import functools
import pickle

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import fastl1
from fastl1 import CoxRegression, Lasso, LogisticRegression, PoissonRegression, StabilitySelection
from fastl1 import _path_plan as plan
from fastl1.cv import split


def _data(seed=0, n=60, p=12):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    eta = X[:, 0] - 0.8 * X[:, 1] + 0.5 * X[:, 2]
    y = eta + 0.5 * rng.standard_normal(n)
    labels = (eta + 0.5 * rng.standard_normal(n) > 0).astype(int)
    counts = rng.poisson(np.exp(0.5 * eta)).astype(float)
    time = rng.exponential(np.exp(-eta))
    survival = np.column_stack([time, rng.random(n) < 0.8])
    return X, {"squared": y, "logistic": labels, "poisson": counts, "cox": survival}


def test_trace_path_fits_the_points_in_order_and_reports_failures():
    calls, seen = [], []

    def fit_point(i, value):
        calls.append((i, value))
        return plan.Point(np.full(2, value), None, 0.1 * i, i + 1, converged=i != 1)

    trace = plan.trace_path(fit_point, np.array([3.0, 2.0, 1.0]),
                       lambda i, point: seen.append((i, point.coef[0])))
    assert calls == [(0, 3.0), (1, 2.0), (2, 1.0)]
    assert seen == [(0, 3.0), (1, 2.0), (2, 1.0)]
    np.testing.assert_array_equal(trace.gaps, [0.0, 0.1, 0.2])
    assert trace.n_iters == [1, 2, 3]
    assert trace.failures == [(2.0, 0.1)]


def test_feature_options_reads_any_estimator():
    assert plan.feature_options(Lasso(positive=True, penalty_factor=[1, 0])) == {
        "penalty_factor": [1, 0], "lower_bounds": None, "upper_bounds": None,
        "positive": True}
    assert plan.feature_options(PoissonRegression())["positive"] is False


# The numbers below are those of the per-model jobs the plan replaced (cross-validation
# scores summed over folds and grid, |coef_| summed; stability scores and the grid summed).
BEFORE_CV = {
    "squared": (11.297089238707985, 1.9689964699107543),
    "logistic": (-34.392252738807244, 13.21760040210659),
    "poisson": (29.51143479114176, 0.7161191359615673),
    "cox": (135.0728129046098, 1.4383786133041712),
}
BEFORE_SELECTION = {
    "squared": (20.166666666666664, 1.6398311537827666),
    "logistic": (16.0, 27.76358935452607),
    "poisson": (30.33333333333333, 1.1969396098723872),
    "cox": (28.333333333333336, 0.8659810758672671),
}
CV_MODELS = {
    "squared": (lambda: fastl1.LassoCV(cv=3, alphas=6), "mse_path_"),
    "logistic": (lambda: fastl1.LogisticRegressionCV(Cs=6, cv=3, scoring="neg_log_loss"),
                 "scores_"),
    "poisson": (lambda: fastl1.PoissonRegressionCV(cv=3, alphas=6), "deviance_path_"),
    "cox": (lambda: fastl1.CoxRegressionCV(cv=3, alphas=6, eps=0.05), "deviance_path_"),
}
MODELS = {"squared": Lasso, "logistic": LogisticRegression, "poisson": PoissonRegression,
          "cox": CoxRegression}


@pytest.mark.parametrize("datafit", list(BEFORE_CV))
def test_cross_validation_gives_the_results_of_the_jobs_it_replaced(datafit):
    X, targets = _data()
    make, attribute = CV_MODELS[datafit]
    model = make().fit(X, targets[datafit])
    scores = getattr(model, attribute)
    scores = next(iter(scores.values())) if isinstance(scores, dict) else scores
    assert float(np.sum(scores)) == pytest.approx(BEFORE_CV[datafit][0], rel=1e-9)
    assert float(np.sum(np.abs(model.coef_))) == pytest.approx(BEFORE_CV[datafit][1],
                                                               rel=1e-7)


@pytest.mark.parametrize("datafit", list(BEFORE_SELECTION))
def test_stability_selection_gives_the_results_of_the_jobs_it_replaced(datafit):
    X, targets = _data()
    selector = StabilitySelection(MODELS[datafit](), alphas=5, n_resamples=3,
                                  random_state=0).fit(X, targets[datafit])
    assert float(selector.stability_scores_.sum()) == pytest.approx(
        BEFORE_SELECTION[datafit][0], abs=1e-12)
    assert float(selector.alphas_.sum()) == pytest.approx(BEFORE_SELECTION[datafit][1],
                                                          rel=1e-9)


def _subsamples(n, n_resamples, seed):
    rng = np.random.RandomState(seed)
    rows = []
    for _ in range(n_resamples):
        order = rng.permutation(n)
        rows += [np.sort(order[:n // 2]), np.sort(order[n // 2:2 * (n // 2)])]
    return rows


def _path_selection(datafit, X, y, alphas):
    """The features each public path function selects at each of ``alphas``."""
    X = np.asfortranarray(X)  # (the layout the plan's fold rows have)
    if datafit == "squared":
        return fastl1.lasso_path(X, y, alphas=alphas, fit_intercept=True, precompute=False)[1] != 0
    if datafit == "logistic":
        coefs = fastl1.l1_logistic_path(X, y, Cs=1.0 / alphas)[1]
        return np.any(coefs != 0, axis=1).T
    if datafit == "poisson":
        return fastl1.poisson_path(X, y, alphas=alphas)[1] != 0
    return fastl1.cox_path(X, y, alphas=alphas)[1] != 0


@pytest.mark.parametrize("datafit", list(MODELS))
def test_stability_selection_counts_the_public_paths_selections(datafit):
    X, targets = _data(seed=1)
    y = targets[datafit]
    selector = StabilitySelection(MODELS[datafit](), alphas=4, n_resamples=2,
                                  random_state=5).fit(X, y)
    counts = sum(_path_selection(datafit, X[rows], y[rows], selector.alphas_)
                 for rows in _subsamples(X.shape[0], 2, 5))
    np.testing.assert_array_equal(selector.stability_scores_, counts / 4)


# A datafit the library does not have, plugged in from outside: least squares on an
# orthogonal-like design solved coordinate-wise in closed form (each coefficient its own
# soft-thresholded correlation). Nothing in the plan, StabilitySelection or the job runner
# knows it: a branch on the model's type would refuse it or run another model's code.


class ThresholdSpec(plan.PathSpec):
    def __init__(self, scale=1.0):
        self.scale = scale

    def prepare(self, owner, X, y, sample_weight=None, groups=None):
        owner.n_features_in_ = X.shape[1]
        return self, (np.asarray(X, dtype=float), np.asarray(y, dtype=float))

    def row_weights(self, data):
        return None

    def grid(self, data, alphas, eps):
        X, y = data
        top = float(np.max(np.abs(X.T @ y))) / X.shape[0]
        grid = np.geomspace(top, top * eps, alphas)
        return grid, grid * self.scale

    def rows(self, data, rows):
        X, y = data
        return data if rows is None else (X[rows], y[rows])

    def path(self, fold, grid, on_point=None, store=True):
        X, y = fold
        n = X.shape[0]
        correlations, norms = X.T @ y / n, np.sum(X * X, axis=0) / n
        coefs = np.zeros((X.shape[1], grid.shape[0]))

        def fit_point(k, alpha):
            coefs[:, k] = np.sign(correlations) * np.maximum(
                np.abs(correlations) - alpha, 0.0) / norms
            return plan.Point(coefs[:, k], 0.0, 0.0, 1, alpha > 0.05)

        trace = plan.trace_path(fit_point, grid, on_point)
        return plan.PathOutcome(coefs, None, trace.gaps, trace.n_iters, len(trace.failures))

    def fold_scorer(self, data, fold, test, grid):
        return _TestError(data, test)


class _TestError(plan.FoldScorer):
    def __init__(self, data, test):
        self.X, self.y = data[0][test], data[1][test]
        self.errors = []

    def __call__(self, i, point):
        self.errors.append(float(np.mean((self.y - self.X @ point.coef) ** 2)))

    def finish(self, path):
        return plan.FoldOutcome(np.array(self.errors), float(self.y.shape[0]), path,
                           path.failures)


class ThresholdModel(BaseEstimator):
    def __init__(self, scale=1.0, max_iter=1, tol=0.0):
        self.scale, self.max_iter, self.tol = scale, max_iter, tol

    def _path_spec(self):
        return ThresholdSpec(self.scale)


def _closed_form(X, y, alphas):
    n = X.shape[0]
    correlations, norms = X.T @ y / n, np.sum(X * X, axis=0) / n
    return np.sign(correlations)[:, None] * np.maximum(
        np.abs(correlations)[:, None] - alphas[None, :], 0.0) / norms[:, None]


def test_a_new_datafit_plugs_into_stability_selection_with_a_spec():
    X, targets = _data(seed=2)
    y = targets["squared"]
    with pytest.warns(Warning, match="ThresholdModel did not converge"):  # alphas <= 0.05
        selector = StabilitySelection(ThresholdModel(scale=0.5), alphas=6, eps=0.01,
                                      n_resamples=3, random_state=1, n_jobs=2).fit(X, y)
    expected = sum(_closed_form(X[rows], y[rows], selector.alphas_ * 0.5) != 0
                   for rows in _subsamples(X.shape[0], 3, 1))
    np.testing.assert_array_equal(selector.stability_scores_, expected / 6)
    assert selector.n_features_in_ == X.shape[1]


def test_a_new_datafit_plugs_into_cross_validation_with_a_spec():
    X, targets = _data(seed=3)
    y = targets["squared"]
    spec, data = ThresholdSpec().prepare(ThresholdModel(), X, y)
    folds = split(3, X, y)
    grids = [spec.grid(data, 5, 0.1)[1], np.array([0.2, 0.01])]  # (0.01: not converged)
    runs = plan.cross_validate([(spec, grid) for grid in grids], data, folds, n_jobs=2)
    for run, grid in zip(runs, grids, strict=True):
        np.testing.assert_array_equal(run.full.coefs, _closed_form(X, y, grid))
        for (train, test), fold in zip(folds, run.folds, strict=True):
            errors = np.mean((y[test][:, None]
                              - X[test] @ _closed_form(X[train], y[train], grid)) ** 2, axis=0)
            np.testing.assert_allclose(fold.scores, errors, rtol=1e-12)
            assert fold.weight == test.shape[0]
        assert run.scores.shape == (grid.shape[0], 3)
    assert runs[0].failures == 0 and runs[1].failures == 4  # all rows and 3 folds


def test_jobs_are_module_level_partials_with_the_data_as_top_level_arguments(monkeypatch):
    # What joblib's Dask backend needs: picklable jobs whose shared data (each array of the
    # spec's data tuple) are top-level arguments, scattered once per fit.
    X, targets = _data(seed=4)
    spec, data = ThresholdSpec().prepare(ThresholdModel(), X, targets["squared"])
    grid = spec.grid(data, 3, 0.1)[1]
    recorded = []

    def recording_run_jobs(jobs, n_jobs, verbose=0):
        recorded.extend(jobs)
        return [job() for job in jobs]

    monkeypatch.setattr(plan, "run_jobs", recording_run_jobs)
    plan.cross_validate([(spec, grid)], data, split(2, X, targets["squared"]), n_jobs=1)
    plan.stability_paths(spec, grid, data, [np.arange(10), np.arange(10, 20)], n_jobs=1)
    assert len(recorded) == 5
    for job in recorded:
        assert isinstance(job, functools.partial)
        assert job.func.__module__ == "fastl1._path_plan"
        assert all(any(arg is array for arg in job.args) for array in data)
        assert pickle.loads(pickle.dumps(job)).func is job.func


@pytest.mark.parametrize("model", [Lasso(), LogisticRegression(), PoissonRegression(),
                                   CoxRegression(), fastl1.PoissonRegressionCV(),
                                   fastl1.CoxRegressionCV()])
def test_every_model_gives_a_picklable_spec(model):
    spec = model._path_spec()
    assert isinstance(spec, plan.PathSpec)
    assert pickle.loads(pickle.dumps(spec)).l1_ratio == spec.l1_ratio


def test_a_model_without_a_spec_is_refused():
    with pytest.raises(TypeError, match="StabilitySelection works with"):
        StabilitySelection(BaseEstimator()).fit(np.ones((10, 2)), np.arange(10.0))
