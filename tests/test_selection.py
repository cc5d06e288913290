"""Stability selection finds the true features, bounds false selections, and behaves as a
scikit-learn transformer."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import (
    CoxRegression,
    CoxRegressionCV,
    ElasticNet,
    Lasso,
    LogisticRegression,
    PoissonRegression,
    StabilitySelection,
)


def _problem(n=120, p=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = 2 * X[:, 0] - 3 * X[:, 1] + 1.5 * X[:, 2] + rng.standard_normal(n)
    return X, y


# The reason StabilitySelection's docstring (Notes) gives check_estimator users.
_RESAMPLING = ("subsampling draws rows, so repeating a row is not the same as weighting it: "
               "a repeated row's copies are drawn independently and the data set has more "
               "rows to split, while a weight only scales the row inside each subsample's fit "
               "(any estimator that resamples rows fails this check)")


@parametrize_with_checks(
    [StabilitySelection(n_resamples=3, alphas=4)],
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": _RESAMPLING,
        "check_sample_weight_equivalence_on_sparse_data": _RESAMPLING,
    })
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_finds_the_true_features_and_reports_the_bound():
    X, y = _problem()
    selector = StabilitySelection(n_resamples=25, random_state=0).fit(X, y)
    assert selector.get_support(indices=True).tolist() == [0, 1, 2]
    assert selector.stability_scores_.shape == (60, 20)
    # 2 * 25 subsamples with complementary pairs: frequencies are multiples of 1/50
    np.testing.assert_allclose(selector.stability_scores_ * 50,
                               np.round(selector.stability_scores_ * 50), atol=1e-12)
    np.testing.assert_array_equal(selector.scores_, selector.stability_scores_.max(axis=1))
    q = selector.average_selected_
    assert selector.expected_false_selections_bound_ == pytest.approx(q * q / (0.2 * 60))
    # the scores at the largest alpha are 0 (the grid starts at alpha_max of the full data,
    # and subsamples rarely select anything there)
    assert selector.stability_scores_[:, 0].max() <= 0.5


def test_same_result_for_any_format_and_n_jobs():
    X, y = _problem(seed=1)
    base = StabilitySelection(n_resamples=6, random_state=3).fit(X, y)
    for Xf, n_jobs in [(sp.csr_matrix(X), 1), (sp.csc_matrix(X), 2), (X, -1)]:
        other = StabilitySelection(n_resamples=6, random_state=3, n_jobs=n_jobs).fit(Xf, y)
        np.testing.assert_array_equal(other.stability_scores_, base.stability_scores_)


def test_subsample_fits_match_the_estimator():
    X, y = _problem(seed=2)
    selector = StabilitySelection(ElasticNet(l1_ratio=0.5, tol=1e-10), alphas=[0.5],
                                  n_resamples=1, complementary_pairs=False,
                                  sample_fraction=0.5, random_state=4).fit(X, y)
    rows = np.sort(np.random.RandomState(4).permutation(120)[:60])
    coef = ElasticNet(alpha=0.5, l1_ratio=0.5, tol=1e-10).fit(X[rows], y[rows]).coef_
    np.testing.assert_array_equal(selector.stability_scores_[:, 0], (coef != 0).astype(float))


def test_works_in_a_pipeline():
    X, y = _problem(seed=5)
    selector = StabilitySelection(n_resamples=10, threshold=0.9, random_state=0)
    pipe = make_pipeline(selector, LinearRegression())
    pipe.fit(X, y)
    support = pipe[0].get_support(indices=True)
    assert {0, 1, 2} <= set(support.tolist())
    assert pipe[0].transform(X).shape == (120, support.shape[0])
    assert pipe.score(X, y) > 0.9


@pytest.mark.parametrize("params, error, match", [
    ({"threshold": 0.5}, ValueError, "threshold"),
    ({"threshold": 1.5}, ValueError, "threshold"),
    ({"sample_fraction": 0.8}, ValueError, "complementary_pairs"),
    ({"sample_fraction": 0.0}, ValueError, "sample_fraction"),
    ({"n_resamples": 0}, ValueError, "n_resamples"),
    ({"estimator": LinearRegression()}, TypeError, "fastl1.Lasso, fastl1.ElasticNet,"),
    ({"alphas": [0.1, -1.0]}, ValueError, "alphas"),
])
def test_bad_parameters(params, error, match):
    X, y = _problem()
    with pytest.raises(error, match=match):
        StabilitySelection(**params).fit(X, y)


def test_inputs_are_not_modified():
    X, y = _problem(seed=6)
    X0, y0 = X.copy(), y.copy()
    X.setflags(write=False)
    StabilitySelection(Lasso(fit_intercept=False), n_resamples=2).fit(X, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_logistic_stability_selection():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((160, 40))
    labels = np.where(2 * X[:, 3] - 2 * X[:, 9] + 0.5 * rng.standard_normal(160) > 0,
                      "AML", "ALL")
    selector = StabilitySelection(LogisticRegression(), n_resamples=10, alphas=10,
                                  random_state=0).fit(X, labels)
    assert {3, 9} <= set(selector.get_support(indices=True).tolist())
    assert selector.scores_[3] == selector.scores_[9] == 1.0
    assert np.sort(selector.scores_)[-3] < 1.0  # the true pair stands out
    assert np.all(np.diff(selector.alphas_) < 0)  # alphas_ = 1 / C, strongest first
    same = StabilitySelection(LogisticRegression(), n_resamples=10, alphas=10, random_state=0,
                              n_jobs=2).fit(sp.csr_matrix(X), labels)
    np.testing.assert_array_equal(same.stability_scores_, selector.stability_scores_)


def test_docstring_explains_the_expected_check_failures():
    notes = StabilitySelection.__doc__
    for check in ("check_sample_weight_equivalence_on_dense_data",
                  "check_sample_weight_equivalence_on_sparse_data", "expected_failed_checks"):
        assert check in notes
    assert "not the same as repeating the row" in notes


def _labels(n=60, seed=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 10))
    return X, (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(int)


_BAD_ESTIMATORS = [
    Lasso(alpha=-1), Lasso(alpha="1"), Lasso(tol=-1), Lasso(max_iter=0), Lasso(positive="no"),
    Lasso(fit_intercept="yes"), ElasticNet(l1_ratio=1.5), ElasticNet(selection="best"),
    LogisticRegression(C=0), LogisticRegression(C="1"), LogisticRegression(tol=-1),
    LogisticRegression(max_iter=0), LogisticRegression(l1_ratio=1.5),
    LogisticRegression(class_weight="none"),
]


@pytest.mark.parametrize("estimator", _BAD_ESTIMATORS, ids=repr)
def test_invalid_estimator_parameters_raise_the_estimators_own_error(estimator):
    """Validated before any subsample is fitted, by the estimator's own checks: the same
    exception and message as fitting the estimator."""
    X, y = _labels() if isinstance(estimator, LogisticRegression) else _problem(n=40, p=8)
    with pytest.raises((TypeError, ValueError)) as expected:
        clone(estimator).fit(X, y)
    selector = StabilitySelection(estimator, n_resamples=2)
    with pytest.raises(expected.type) as raised:
        selector.fit(X, y)
    assert str(raised.value) == str(expected.value)
    assert not hasattr(selector, "support_")


@pytest.mark.parametrize("estimator", [Lasso(), LogisticRegression()], ids=repr)
@pytest.mark.parametrize("params, error, match", [
    ({"alphas": True}, TypeError, "alphas must be an int"),
    ({"alphas": 2.5}, TypeError, "alphas must be an int"),
    ({"alphas": "1"}, TypeError, "alphas must be an int"),
    ({"alphas": [True, 0.5]}, TypeError, r"alphas must be real numbers.*True \(bool\)"),
    ({"alphas": (1, 1.0, "1")}, TypeError, r"alphas must be real numbers.*'1' \(str\)"),
    ({"alphas": 0}, ValueError, "alphas must be >= 1"),
    ({"eps": 0.0}, ValueError, "eps must be > 0"),
    ({"complementary_pairs": "no"}, TypeError, "complementary_pairs must be a bool"),
])
def test_bad_selection_parameters(estimator, params, error, match):
    X, y = _labels() if isinstance(estimator, LogisticRegression) else _problem(n=40, p=8)
    with pytest.raises(error, match=match):
        StabilitySelection(estimator, n_resamples=2, **params).fit(X, y)


@pytest.mark.parametrize("estimator", [Lasso(), LogisticRegression()], ids=repr)
def test_a_subsample_of_zero_weights_is_a_clear_error(estimator):
    """Valid weights (some zero) can leave a small subsample without weight: its fit is
    undefined (it divided by the total weight), so say which subsample and why."""
    X, y = _labels(n=20) if isinstance(estimator, LogisticRegression) else _problem(n=20, p=8)
    weights = np.ones(20)
    weights[:15] = 0.0
    selector = StabilitySelection(estimator, n_resamples=5, sample_fraction=0.2,
                                  random_state=0)
    with pytest.raises(ValueError, match=r"Subsample \d+ \(4 of 20 rows\) has only zero "
                                         r"weights \(15 of the 20 samples weigh zero"):
        selector.fit(X, y, sample_weight=weights)


def test_logistic_selection_with_some_zero_weights():
    X, y = _labels(n=60)
    weights = np.ones(60)
    weights[::6] = 0.0
    selector = StabilitySelection(LogisticRegression(), n_resamples=4, alphas=5,
                                  random_state=0).fit(X, y, sample_weight=weights)
    assert selector.support_[0]
    assert np.all(np.isfinite(selector.stability_scores_))


def test_logistic_fits_stopped_at_max_iter_warn(monkeypatch):
    # Along a path each point converges in one working-set solve (the strong rule's set,
    # solved to the final tolerance), even with max_iter=1: a path whose fits stopped at
    # max_iter is simulated, and the warning that sums them up is checked.
    from fastl1 import logistic_cv

    real = logistic_cv._fit_path

    def stopped(*args, **kwargs):
        coefs, intercepts, n_iter, _ = real(*args, **kwargs)
        return coefs, intercepts, n_iter, 1

    monkeypatch.setattr(logistic_cv, "_fit_path", stopped)
    X, y = _labels()
    with pytest.warns(ConvergenceWarning,
                      match=r"LogisticRegression did not converge within max_iter=1 for "
                            r"\d+ of the 20 subsample fits") as record:
        StabilitySelection(LogisticRegression(max_iter=1, tol=1e-10), alphas=5,
                           n_resamples=2, random_state=0).fit(X, y)
    assert record[0].filename == __file__  # points at the caller's fit
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        StabilitySelection(LogisticRegression(), alphas=5, n_resamples=2,
                           random_state=0).fit(X, y)


def test_deprecated_penalty_sets_the_logistic_l1_ratio():
    X, y = _labels()
    reference = StabilitySelection(LogisticRegression(l1_ratio=1.0), alphas=5, n_resamples=2,
                                   random_state=0).fit(X, y)
    with pytest.warns(FutureWarning, match="'penalty' is deprecated"):
        selector = StabilitySelection(LogisticRegression(penalty="l1", l1_ratio=0.5),
                                      alphas=5, n_resamples=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(selector.stability_scores_, reference.stability_scores_)


def test_target_whose_sum_of_squares_overflows_is_refused():
    X, y = _problem(n=40, p=8)
    with pytest.raises(ValueError, match="target's scale overflows float64"):
        StabilitySelection(n_resamples=2).fit(X, y * 1e200)


def test_poisson_model_selects_the_count_signal():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((120, 25))
    y = rng.poisson(np.exp(0.8 * X[:, 2] - 0.7 * X[:, 11] + 0.5)).astype(float)
    selector = StabilitySelection(PoissonRegression(tol=1e-6), alphas=6, eps=0.1,
                                  n_resamples=8, random_state=0).fit(X, y)
    assert selector.stability_scores_.shape == (25, 6)
    assert {2, 11} <= set(np.flatnonzero(selector.get_support()))
    assert selector.get_support().sum() <= 6
    again = StabilitySelection(PoissonRegression(tol=1e-6), alphas=6, eps=0.1,
                               n_resamples=8, random_state=0, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(selector.stability_scores_, again.stability_scores_)


def _survival(n=100, p=15, seed=4):  # features 3 and 8 drive the hazard
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    event_time = rng.weibull(1.5, n) * np.exp(-(1.2 * X[:, 3] - 1.0 * X[:, 8]) / 1.5)
    censored = rng.random(n) < 0.3
    time = np.where(censored, rng.uniform(0, event_time), event_time)
    return X, time, ~censored


def test_cox_model_selects_the_survival_signal():
    X, time, event = _survival()
    y = np.column_stack([time, event])
    selector = StabilitySelection(CoxRegression(tol=1e-6), alphas=5, eps=0.3, n_resamples=4,
                                  random_state=0).fit(X, y)
    assert selector.stability_scores_.shape == (15, 5)
    assert selector.alphas_[0] > selector.alphas_[-1]
    assert set(np.flatnonzero(selector.get_support())) == {3, 8}
    # scikit-survival's structured array (event field first) gives the same selections
    structured = np.empty(time.shape[0], dtype=[("status", bool), ("days", float)])
    structured["status"], structured["days"] = event, time
    again = StabilitySelection(CoxRegression(tol=1e-6), alphas=5, eps=0.3, n_resamples=4,
                               random_state=0, n_jobs=2).fit(X, structured)
    np.testing.assert_array_equal(selector.stability_scores_, again.stability_scores_)


def test_cox_cv_settings_and_strata_are_used():
    X, time, event = _survival(seed=5)
    y = np.column_stack([time, event])
    strata = np.repeat([0, 1], 50)
    selector = StabilitySelection(CoxRegressionCV(ties="efron", tol=1e-6), alphas=4, eps=0.3,
                                  n_resamples=3, random_state=0)
    selector.fit(X, y, groups=strata)
    assert {3, 8} <= set(np.flatnonzero(selector.get_support()))
    plain = StabilitySelection(CoxRegressionCV(ties="efron", tol=1e-6), alphas=4, eps=0.3,
                               n_resamples=3, random_state=0).fit(X, y)
    # strata change the partial likelihood, hence the grid's top and the selections' scale
    assert selector.alphas_[0] != plain.alphas_[0]


def test_cox_input_is_checked():
    X, time, event = _survival(n=40, p=10)
    with pytest.raises(ValueError, match="Event indicators must be 0/1"):
        StabilitySelection(CoxRegression(), n_resamples=2).fit(
            X, np.column_stack([time, np.where(event, 2.0, 0.0)]))
    with pytest.raises(ValueError, match="No events"):
        StabilitySelection(CoxRegression(), n_resamples=2).fit(
            X, np.column_stack([time, np.zeros(40)]))
    with pytest.raises(ValueError, match="groups .strata. are for a Cox model"):
        StabilitySelection(Lasso(), n_resamples=2).fit(X, time, groups=np.zeros(40))
    with pytest.raises(ValueError, match="l1_ratio"):
        StabilitySelection(CoxRegression(l1_ratio=2.0), n_resamples=2).fit(
            X, np.column_stack([time, event]))
