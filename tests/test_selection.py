"""Stability selection finds the true features, bounds false selections, and behaves as a
scikit-learn transformer."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import ElasticNet, Lasso, StabilitySelection


def _problem(n=120, p=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = 2 * X[:, 0] - 3 * X[:, 1] + 1.5 * X[:, 2] + rng.standard_normal(n)
    return X, y


# Random subsamples of repeated rows are not subsamples of weighted rows: resampling
# estimators cannot pass the weights-as-repetitions checks (scikit-learn's Bagging neither).
_RESAMPLING = "subsamples of repeated rows differ from subsamples of weighted rows"


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
    ({"estimator": LinearRegression()}, TypeError, "fastl1.Lasso, fastl1.ElasticNet or"),
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
    from fastl1 import LogisticRegression

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
