"""l1_logistic_path and LogisticRegressionCV: agreement with single fits and scikit-learn,
attribute layouts, n_jobs invariance."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import LogisticRegression, LogisticRegressionCV, l1_logistic_path

CS = np.logspace(-2, 1, 6)


def _data(n=150, p=30, seed=0, n_classes=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    score = X[:, 0] - 2 * X[:, 1] + 0.8 * rng.standard_normal(n)
    if n_classes == 2:
        return X, (score > 0).astype(int)
    return X, np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))


@parametrize_with_checks([LogisticRegressionCV(Cs=3, cv=3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_path_points_are_single_fits(n_classes):
    X, y = _data(seed=1, n_classes=n_classes)
    Cs, coefs, intercepts, n_iter = l1_logistic_path(X, y, Cs=CS[::-1], tol=1e-10,
                                                     max_iter=500)
    np.testing.assert_array_equal(Cs, CS)  # sorted, strongest penalty first
    assert coefs.shape == (6, 1 if n_classes == 2 else 3, 30)
    for k, C in enumerate(Cs):
        single = LogisticRegression(C=C, tol=1e-10, max_iter=500).fit(X, y)
        np.testing.assert_allclose(coefs[k], single.coef_, atol=1e-7)
        np.testing.assert_allclose(intercepts[k], single.intercept_, atol=1e-7)


def test_agrees_with_sklearn_saga():
    X, y = _data(seed=2)
    cv = StratifiedKFold(3)
    ours = LogisticRegressionCV(Cs=CS, cv=cv, tol=1e-10, max_iter=1000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk.LogisticRegressionCV(Cs=CS, cv=cv, l1_ratios=(1.0,), solver="saga",
                                      tol=1e-12, max_iter=100_000,
                                      use_legacy_attributes=True).fit(X, y)
    np.testing.assert_array_equal(ours.C_, ref.C_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.scores_[1][:, 1:], ref.scores_[1][:, 1:])  # see below
    assert ours.coefs_paths_[1].shape == ref.coefs_paths_[1].shape
    # At the smallest C saga moves the unpenalised intercept too slowly to converge (its
    # gradient is scaled by C); the coefficients (all zero there) still agree.
    np.testing.assert_allclose(ours.coefs_paths_[1][:, 1:], ref.coefs_paths_[1][:, 1:],
                               atol=1e-6)
    np.testing.assert_allclose(ours.coefs_paths_[1][:, 0, :, :-1],
                               ref.coefs_paths_[1][:, 0, :, :-1], atol=1e-6)
    assert ours.n_iter_.shape == ref.n_iter_.shape


def test_new_attribute_layout_and_multiclass():
    X, y = _data(seed=3, n_classes=3)
    clf = LogisticRegressionCV(Cs=5, l1_ratios=[0.5, 1.0], cv=3,
                               use_legacy_attributes=False).fit(X, y)
    assert isinstance(clf.C_, float) and clf.l1_ratio_ in (0.5, 1.0)
    assert clf.scores_.shape == (3, 2, 5)
    assert clf.coefs_paths_.shape == (3, 2, 5, 3, 31)
    assert clf.coef_.shape == (3, 30)
    best = np.unravel_index(np.argmax(clf.scores_.mean(axis=0)), (2, 5))
    assert (clf.l1_ratio_, clf.C_) == (clf.l1_ratios_[best[0]], clf.Cs_[best[1]])
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_same_results_for_any_n_jobs_and_format():
    X, y = _data(seed=4)
    base = LogisticRegressionCV(Cs=5, cv=3, n_jobs=1).fit(X, y)
    for Xf, n_jobs in [(X, 2), (sp.csr_matrix(X), -1), (sp.csc_matrix(X), 2)]:
        other = LogisticRegressionCV(Cs=5, cv=3, n_jobs=n_jobs).fit(Xf, y)
        np.testing.assert_allclose(other.coef_, base.coef_, atol=1e-10)
        np.testing.assert_array_equal(other.scores_[1], base.scores_[1])


def test_scoring_refit_false_and_string_labels():
    X, y = _data(seed=5)
    labels = np.array(["healthy", "tumour"])[y]
    clf = LogisticRegressionCV(Cs=5, cv=3, scoring="neg_log_loss", refit=False).fit(X, labels)
    assert list(clf.classes_) == ["healthy", "tumour"]
    assert np.all(clf.scores_["tumour"] <= 0)
    assert clf.Cs_.min() <= clf.C_[0] <= clf.Cs_.max()
    assert set(clf.predict(X)) <= {"healthy", "tumour"}


@pytest.mark.parametrize("params, match", [
    ({"Cs": 0}, "Cs"), ({"Cs": [1.0, -1.0]}, "Cs"), ({"l1_ratios": [1.5]}, "l1_ratios"),
    ({"solver": "lbfgs"}, "solver"),
])
def test_bad_parameters(params, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        LogisticRegressionCV(**params).fit(X, y)


def test_single_class_is_an_error():
    X, _ = _data()
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegressionCV(cv=3).fit(X, np.zeros(X.shape[0]))


def test_a_test_fold_of_zero_weights_is_refused():
    X, y = _data(n=60, seed=5)
    folds = [(np.arange(12, 60), np.arange(12)), (np.arange(12), np.arange(12, 60))]
    sample_weight = np.ones(60)
    sample_weight[:12] = 0.0
    with pytest.raises(ValueError, match="test rows all have zero sample weight"):
        LogisticRegressionCV(Cs=3, cv=folds).fit(X, y, sample_weight=sample_weight)


def _missing_class_folds(y):
    """Two folds, the first test fold without class 2."""
    rest = np.flatnonzero(y != 2)
    first_test = rest[: rest.size // 2]
    second_test = np.setdiff1d(np.arange(y.size), first_test)
    return [(second_test, first_test), (first_test, second_test)]


def test_score_uses_scoring():
    from sklearn.metrics import log_loss

    X, y = _data(seed=5, n_classes=3)
    model = LogisticRegressionCV(Cs=CS, cv=3, scoring="neg_log_loss").fit(X, y)
    assert model.score(X, y) == pytest.approx(-log_loss(y, model.predict_proba(X)))
    weights = np.linspace(0.5, 2.0, y.size)
    assert model.score(X, y, sample_weight=weights) == pytest.approx(
        -log_loss(y, model.predict_proba(X), sample_weight=weights))
    plain = LogisticRegressionCV(Cs=CS, cv=3).fit(X, y)
    assert plain.score(X, y) == pytest.approx(np.mean(plain.predict(X) == y))


@pytest.mark.parametrize("scoring", ["neg_log_loss", "neg_brier_score"])
def test_scorers_get_the_classes_when_a_fold_misses_one(scoring):
    X, y = _data(n=90, seed=6, n_classes=3)
    model = LogisticRegressionCV(Cs=3, cv=_missing_class_folds(y), scoring=scoring,
                                 use_legacy_attributes=False).fit(X, y)
    assert np.all(np.isfinite(model.scores_))


def test_penalty_is_deprecated_but_accepted():
    X, y = _data(seed=7)
    with pytest.warns(FutureWarning, match="'penalty' is deprecated") as record:
        model = LogisticRegressionCV(Cs=3, cv=3, penalty="l1", l1_ratios=(0.5,),
                                     use_legacy_attributes=False).fit(X, y)
    assert record[0].filename == __file__
    np.testing.assert_array_equal(model.l1_ratios_, [1.0])
    reference = LogisticRegressionCV(Cs=3, cv=3, use_legacy_attributes=False).fit(X, y)
    np.testing.assert_array_equal(model.coef_, reference.coef_)
    with pytest.warns(FutureWarning):
        model = LogisticRegressionCV(Cs=3, cv=3, penalty="elasticnet", l1_ratios=(0.5,),
                                     use_legacy_attributes=False).fit(X, y)
    np.testing.assert_array_equal(model.l1_ratios_, [0.5])
    with pytest.raises(ValueError, match="penalty=None"):
        LogisticRegressionCV(penalty=None).fit(X, y)
    with pytest.raises(ValueError, match="penalty must be one of"):
        LogisticRegressionCV(penalty="l3").fit(X, y)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_convergence_warning_points_at_the_caller(n_jobs):
    X, y = _data(seed=8, n_classes=3)
    with pytest.warns(ConvergenceWarning) as record:
        LogisticRegressionCV(Cs=3, cv=3, max_iter=1, n_jobs=n_jobs).fit(X, y)
    assert all(r.filename == __file__ for r in record)
    with pytest.warns(ConvergenceWarning) as record:
        l1_logistic_path(X, y, Cs=3, max_iter=1)
    assert all(r.filename == __file__ for r in record)


def test_negative_class_weight_is_an_error():
    X, y = _data(seed=9)
    with pytest.raises(ValueError, match="class_weight must give every class"):
        LogisticRegressionCV(Cs=3, cv=3, class_weight={0: 1.0, 1: -2.0}).fit(X, y)
    with pytest.raises(ValueError, match="class_weight must give every class"):
        l1_logistic_path(X, y, Cs=3, class_weight={0: -1.0, 1: 1.0})


@pytest.mark.parametrize("routing", [False, True])
def test_fold_scorers_get_the_sample_weights_as_in_scikit_learn(routing):
    # Without metadata routing the scorer always gets the weights; with it, only on request.
    import re

    import sklearn
    from sklearn.datasets import make_classification
    from sklearn.metrics import get_scorer

    X, y = make_classification(n_samples=200, random_state=0)
    X_t, y_t = make_classification(n_samples=200, random_state=1)
    weights = np.ones(200)
    weights[:100] = 2.0
    with sklearn.config_context(enable_metadata_routing=routing):
        scores = {}
        for requested in (False, True):
            scorer = get_scorer("accuracy")
            if routing:
                scorer = scorer.set_score_request(sample_weight=requested)
            model = LogisticRegressionCV(Cs=3, cv=3, scoring=scorer, tol=1e-6)
            model.fit(X, y, sample_weight=weights)
            scores[requested] = model.scores_[1]
            if routing and not requested:
                with pytest.raises(TypeError, match=re.escape("got unexpected argument(s)")):
                    model.score(X_t, y_t, sample_weight=weights)
            else:
                weighted = model.score(X_t, y_t, sample_weight=weights)
                assert weighted != model.score(X_t, y_t)
    if routing:
        assert not np.allclose(scores[False], scores[True])
    else:
        np.testing.assert_allclose(scores[False], scores[True])
