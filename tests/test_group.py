"""Group lasso: KKT conditions computed here in NumPy, layouts, group forms, the path and
cross-validation, agreement with the lasso (singleton groups) and with skglm (peers)."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import (
    GroupLasso,
    GroupLassoCV,
    GroupLogisticRegression,
    GroupLogisticRegressionCV,
    Lasso,
    StabilitySelection,
    group_lasso_path,
    group_logistic_path,
)

from .conftest import as_format


def _grouped(n=80, p=60, size=5, seed=0, density=0.7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 0.5
    X[rng.random((n, p)) > density] = 0.0
    w = np.zeros(p)
    w[:size] = rng.standard_normal(size)
    w[3 * size:4 * size] = rng.standard_normal(size)
    y = X @ w + 0.3 * rng.standard_normal(n) + 1.0
    return X, y


def group_kkt(X, y, coef, intercept, alpha, l1_ratio, groups, weights, sample_weight=None):
    """Largest violation of the group elastic net's optimality conditions, from scratch:
    with ``G_g = X_g^T S r / n - alpha (1 - l1_ratio) v_g w_g``, a non-zero group needs
    ``G_g = alpha l1_ratio v_g w_g / ||w_g||``, a zero one ``||G_g|| <= alpha l1_ratio v_g``;
    the intercept ``sum S r = 0``."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw * n / sw.sum()
    r = y - X @ coef - intercept
    worst = abs(np.sum(sw * r)) / n
    for members, v in zip(groups, weights, strict=True):
        members = np.asarray(members)
        w_g = coef[members]
        G = X[:, members].T @ (sw * r) / n - alpha * (1 - l1_ratio) * v * w_g
        norm = np.linalg.norm(w_g)
        if norm > 0:
            worst = max(worst, np.abs(G - alpha * l1_ratio * v * w_g / norm).max())
        else:
            worst = max(worst, np.linalg.norm(G) - alpha * l1_ratio * v)
    return worst


def test_kkt_with_weights_and_an_unpenalised_group():
    X, y = _grouped()
    rng = np.random.default_rng(1)
    groups = np.array_split(rng.permutation(X.shape[1]), 12)  # not contiguous
    weights = rng.uniform(0.5, 3.0, 12)
    weights[4] = 0.0
    sw = rng.uniform(0.2, 2.0, X.shape[0])
    model = GroupLasso(groups=[g.tolist() for g in groups], alpha=0.1, l1_ratio=0.7,
                       group_weights=weights, tol=1e-12).fit(X, y, sample_weight=sw)
    assert group_kkt(X, y, model.coef_, model.intercept_, 0.1, 0.7, groups, weights,
                     sw) < 1e-7
    assert np.all(model.coef_[groups[4]] != 0)
    assert 0 <= model.dual_gap_ < 1e-10
    assert [g.tolist() for g in model.groups_] == [g.tolist() for g in groups]
    # zero groups are zero as a whole, non-zero groups are dense
    for g in groups:
        assert np.all(model.coef_[g] == 0) or np.all(model.coef_[g] != 0)


def test_group_forms_give_one_model():
    X, y = _grouped()
    labels = np.repeat(np.arange(12), 5)
    by_size = GroupLasso(groups=5, alpha=0.1, tol=1e-12).fit(X, y)
    for groups in ([5] * 12, labels, [list(range(5 * g, 5 * g + 5)) for g in range(12)]):
        other = GroupLasso(groups=groups, alpha=0.1, tol=1e-12).fit(X, y)
        np.testing.assert_allclose(other.coef_, by_size.coef_, atol=1e-12)
    assert np.flatnonzero(by_size.coef_).tolist() == list(range(5)) + list(range(15, 20))


def test_singletons_are_the_lasso():
    X, y = _grouped(seed=2)
    ours = GroupLasso(alpha=0.05, tol=1e-12).fit(X, y)
    lasso = Lasso(alpha=0.05, tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_, lasso.coef_, atol=1e-9)
    assert ours.intercept_ == pytest.approx(lasso.intercept_, abs=1e-9)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_sparse_layouts_agree_with_dense(fmt):
    X, y = _grouped(seed=3)
    sw = np.random.default_rng(3).uniform(0.5, 2.0, X.shape[0])
    dense = GroupLasso(groups=5, alpha=0.05, l1_ratio=0.8, tol=1e-12).fit(X, y, sw)
    sparse = GroupLasso(groups=5, alpha=0.05, l1_ratio=0.8, tol=1e-12).fit(
        as_format(X, fmt), y, sw)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-9)
    assert sparse.intercept_ == pytest.approx(dense.intercept_, abs=1e-9)


def test_multitask_group_lasso_kkt():
    X, y = _grouped(seed=4)
    Y = np.column_stack([y, 0.5 * y + np.random.default_rng(4).standard_normal(y.shape[0])])
    model = GroupLasso(groups=5, alpha=0.1, tol=1e-12).fit(X, Y)
    assert model.coef_.shape == (2, X.shape[1]) and model.intercept_.shape == (2,)
    # the conditions on the stacked blocks: vectorise the tasks as one problem
    norms = np.sqrt((model.coef_ ** 2).sum(axis=0).reshape(12, 5).sum(axis=1))
    R = Y - X @ model.coef_.T - model.intercept_
    G = (X.T @ R / X.shape[0]).T  # (T, p)
    for g in range(12):
        block = G[:, 5 * g:5 * g + 5]
        if norms[g] > 0:
            target = 0.1 * np.sqrt(5) * model.coef_[:, 5 * g:5 * g + 5] / norms[g]
            assert np.abs(block - target).max() < 1e-7
        else:
            assert np.linalg.norm(block) <= 0.1 * np.sqrt(5) + 1e-9


def test_path_matches_single_fits_and_alpha_max():
    X, y = _grouped(seed=5)
    alphas, coefs, gaps, n_iters = group_lasso_path(X, y, groups=5, alphas=8, tol=1e-12,
                                                    fit_intercept=True, return_n_iter=True)
    assert coefs.shape == (X.shape[1], 8) and len(n_iters) == 8
    assert not coefs[:, 0].any() and coefs[:, -1].any()
    for i in (2, 7):
        single = GroupLasso(groups=5, alpha=alphas[i], tol=1e-12).fit(X, y)
        np.testing.assert_allclose(coefs[:, i], single.coef_, atol=1e-8)
    # just below alpha_max the first group enters
    assert GroupLasso(groups=5, alpha=alphas[0] * 0.99, tol=1e-12).fit(X, y).coef_.any()


def test_cv_is_identical_for_any_n_jobs():
    X, y = _grouped(seed=6)
    folds = KFold(4)
    one = GroupLassoCV(groups=5, cv=folds, alphas=10, n_jobs=1, tol=1e-10).fit(X, y)
    two = GroupLassoCV(groups=5, cv=folds, alphas=10, n_jobs=2, tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(one.mse_path_, two.mse_path_)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    assert one.mse_path_.shape == (10, 4) and one.coef_.shape == (X.shape[1],)
    assert set(np.flatnonzero(one.coef_)) >= set(range(5)) | set(range(15, 20))
    refit = GroupLasso(groups=5, alpha=one.alpha_, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(one.coef_, refit.coef_, atol=1e-6)


@pytest.mark.peers
def test_agrees_with_skglm():
    skglm = pytest.importorskip("skglm")
    X, y = _grouped(n=100, p=200, seed=7)
    for fit_intercept in (False, True):
        ours = GroupLasso(groups=5, alpha=0.05, tol=1e-12, fit_intercept=fit_intercept).fit(X, y)
        ref = skglm.GroupLasso(groups=5, alpha=0.05, weights=np.full(40, np.sqrt(5)),
                               tol=1e-12, fit_intercept=fit_intercept, max_iter=1000).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
        assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-8)


@parametrize_with_checks([GroupLasso(alpha=0.01), GroupLogisticRegression(alpha=0.01)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def sparse_group_kkt(X, y, coef, intercept, alpha, within, groups, weights):
    """The sparse group lasso's optimality conditions, from scratch (no weights, l1_ratio 1):
    with ``G_g = X_g^T r / n``, in a non-zero group ``G_j = alpha within sign(w_j) + alpha
    v_g w_j / ||w_g||`` where ``w_j != 0`` and ``|G_j| <= alpha within`` where ``w_j = 0``; a
    zero group needs ``||S_{alpha within}(G_g)|| <= alpha v_g``."""
    n = X.shape[0]
    r = y - X @ coef - intercept
    worst = abs(r.sum()) / n
    for members, v in zip(groups, weights, strict=True):
        w_g = coef[members]
        G = X[:, members].T @ r / n
        norm = np.linalg.norm(w_g)
        if norm == 0:
            shrunk = np.maximum(np.abs(G) - alpha * within, 0.0)
            worst = max(worst, np.linalg.norm(shrunk) - alpha * v)
            continue
        target = alpha * within * np.sign(w_g) + alpha * v * w_g / norm
        on = w_g != 0
        worst = max(worst, np.abs(G[on] - target[on]).max(initial=0.0),
                    (np.abs(G[~on]) - alpha * within).max(initial=0.0))
    return worst


def test_sparse_group_lasso_kkt_and_alpha_max():
    X, y = _grouped(seed=8)
    groups = [np.arange(5 * g, 5 * g + 5) for g in range(12)]
    weights = np.full(12, np.sqrt(5))
    model = GroupLasso(groups=5, alpha=0.05, within_l1=1.0, tol=1e-12).fit(X, y)
    assert sparse_group_kkt(X, y, model.coef_, model.intercept_, 0.05, 1.0, groups,
                            weights) < 1e-7
    plain = GroupLasso(groups=5, alpha=0.05, tol=1e-12).fit(X, y)
    assert np.count_nonzero(model.coef_) < np.count_nonzero(plain.coef_)
    alphas, coefs, _ = group_lasso_path(X, y, groups=5, within_l1=1.0, alphas=4,
                                        fit_intercept=True, tol=1e-12)
    assert not coefs[:, 0].any()
    assert GroupLasso(groups=5, alpha=alphas[0] * 0.99, within_l1=1.0,
                      tol=1e-12).fit(X, y).coef_.any()
    with pytest.raises(ValueError, match="within_l1"):
        GroupLasso(groups=5, l1_ratio=0.0, within_l1=1.0).fit(X, y)


def _binary(n=200, p=12, seed=9):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    eta = X[:, 0] + X[:, 1] - X[:, 2] + 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
    return X, y


def test_group_logistic_kkt_in_numpy():
    X, y = _binary()
    sw = np.random.default_rng(10).uniform(0.5, 2.0, X.shape[0])
    model = GroupLogisticRegression(groups=3, alpha=0.02, l1_ratio=0.8, tol=1e-10).fit(
        X, y, sample_weight=sw)
    n = X.shape[0]
    s = sw * n / sw.sum()
    eta = X @ model.coef_[0] + model.intercept_[0]
    r = s * (y - 1 / (1 + np.exp(-eta)))
    assert abs(r.sum()) / n < 1e-9
    for g in [np.arange(3 * g, 3 * g + 3) for g in range(4)]:
        w = model.coef_[0, g]
        G = X[:, g].T @ r / n - 0.02 * 0.2 * np.sqrt(3) * w
        norm = np.linalg.norm(w)
        if norm > 0:
            assert np.abs(G - 0.02 * 0.8 * np.sqrt(3) * w / norm).max() < 1e-8
        else:
            assert np.linalg.norm(G) <= 0.02 * 0.8 * np.sqrt(3) + 1e-9
    assert model.coef_[0, :3].all() and model.kkt_violation_ <= 1e-10
    assert model.score(X, y) > 0.7
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_group_logistic_singletons_match_l1_logistic():
    from sklearn.linear_model import LogisticRegression as SK
    X, y = _binary(seed=11)
    alpha = 0.01
    ours = GroupLogisticRegression(alpha=alpha, tol=1e-10).fit(X, y)
    ref = SK(l1_ratio=1.0, C=1 / (alpha * X.shape[0]), solver="saga", tol=1e-12,
             max_iter=100000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    with pytest.raises(ValueError, match="Only binary"):
        GroupLogisticRegression().fit(X, np.arange(X.shape[0]) % 3)


def test_plot_group_path():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from fastl1 import plot_group_path

    X, y = _grouped(seed=12)
    alphas, coefs, _ = group_lasso_path(X, y, groups=5, alphas=6)
    ax = plot_group_path(alphas, coefs, groups=5, max_labels=2)
    assert len(ax.lines) == 12
    assert len(ax.get_legend().get_texts()) == 2


def test_group_logistic_probabilities():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 12))
    y = np.where(X[:, 0] - X[:, 1] + 0.3 * rng.standard_normal(80) > 0, "yes", "no")
    model = GroupLogisticRegression(groups=[4, 4, 4], alpha=0.01).fit(X, y)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    z = model.decision_function(X)
    np.testing.assert_allclose(proba[:, 1], 1.0 / (1.0 + np.exp(-z)), rtol=1e-12)
    # (log of 1 - p near 1 in the reference loses digits: log_expit keeps them)
    np.testing.assert_allclose(model.predict_log_proba(X), np.log(proba), rtol=1e-8)
    assert np.array_equal(model.classes_[proba.argmax(axis=1)], model.predict(X))


@pytest.mark.peers
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_agrees_with_adelie(fit_intercept):
    """adelie's grpnet (gaussian, default penalty factors sqrt(group size), lambda = alpha)
    solves GroupLasso's objective: same coefficients (to adelie's precision), ours at least
    as good by the objective; groups of unequal sizes."""
    ad = pytest.importorskip("adelie")
    X, y = _grouped(n=100, p=200, seed=3)
    sizes = np.array([5, 3, 7, 10, 5] * 6 + [10, 10])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    ours = GroupLasso(groups=sizes.tolist(), alpha=0.05, tol=1e-12, max_iter=100_000,
                      fit_intercept=fit_intercept).fit(X, y)
    state = ad.grpnet(X=np.asfortranarray(X), glm=ad.glm.gaussian(y=y), groups=starts,
                      alpha=1.0, lmda_path=np.array([0.5, 0.05]), intercept=fit_intercept,
                      early_exit=False, progress_bar=False, tol=1e-14)
    coef = np.asarray(state.betas.todense())[-1]
    intercept = state.intercepts[-1] if fit_intercept else 0.0
    assert np.count_nonzero(coef) >= 10
    np.testing.assert_allclose(ours.coef_, coef, atol=1e-5)
    assert ours.intercept_ == pytest.approx(intercept, abs=1e-5)

    def objective(w, b):
        r = y - X @ w - b
        norms = np.array([np.linalg.norm(w[g]) for g in ours.groups_])
        return 0.5 * r @ r / X.shape[0] + 0.05 * np.sqrt(sizes) @ norms

    assert objective(ours.coef_, ours.intercept_) <= objective(coef, intercept) + 1e-14


# --- stability selection of groups, group logistic certificate, path and CV -------------


def _path_groups_selected(X, y, alphas):
    """Features selected (their pair's group non-zero) at each alpha by group_lasso_path."""
    coefs = group_lasso_path(X, y, groups=2, alphas=alphas, fit_intercept=True)[1]
    per_group = (coefs != 0).reshape(-1, 2, alphas.shape[0]).any(axis=1)
    return np.repeat(per_group, 2, axis=0)


def test_stability_selection_selects_groups_as_group_lasso_path_does():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 8))
    y = X[:, 0] - X[:, 3] + 0.5 * rng.standard_normal(40)
    groups = [2, 2, 2, 2]
    selector = StabilitySelection(GroupLasso(groups=groups), alphas=4, n_resamples=2,
                                  random_state=1).fit(X, y)
    rng_draw = np.random.RandomState(1)
    expected = 0
    for _ in range(2):
        order = rng_draw.permutation(40)
        for rows in (np.sort(order[:20]), np.sort(order[20:40])):
            expected = expected + _path_groups_selected(np.asfortranarray(X[rows]), y[rows],
                                                        selector.alphas_)
    np.testing.assert_array_equal(selector.stability_scores_, expected / 4)
    np.testing.assert_array_equal(selector.group_scores_, selector.scores_[::2])
    assert [g.tolist() for g in selector.feature_groups_] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert selector.group_scores_[[0, 1]].min() == 1.0  # the two true groups


def _logistic_objective(model, X, y, alpha):
    eta = X @ model.coef_[0] + model.intercept_[0]
    norms = [np.linalg.norm(model.coef_[0, g]) for g in model.groups_]
    return float(np.mean(np.logaddexp(0.0, eta) - y * eta)
                 + alpha * np.dot(model.group_weights_, norms))


def _binary_data(seed=0, n=100, p=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    y = (X[:, 0] - X[:, 1] + 0.5 * X[:, 4] + 0.7 * rng.standard_normal(n) > 0).astype(int)
    return X, y


def test_group_logistic_gap_bounds_the_suboptimality():
    X, y = _binary_data()
    alpha = 0.02
    exact = GroupLogisticRegression(groups=2, alpha=alpha, tol=1e-10).fit(X, y)
    best = _logistic_objective(exact, X, y, alpha)
    assert 0.0 <= exact.dual_gap_ < 1e-9
    for tol in (1e-1, 1e-2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            loose = GroupLogisticRegression(groups=2, alpha=alpha, tol=tol, max_newton=1) \
                .fit(X, y)
        gap = _logistic_objective(loose, X, y, alpha) - best
        assert gap > 1e-8  # (a fit that is not exact)
        assert loose.dual_gap_ >= gap - 1e-12
    free = GroupLogisticRegression(groups=2, alpha=alpha, group_weights=[0, 1, 1, 1]).fit(X, y)
    assert np.isnan(free.dual_gap_)  # an unpenalised group: no dual point


def test_group_logistic_path_warm_starts_to_the_independent_fits():
    X, y = _binary_data(seed=1)
    alphas, coefs, intercepts, gaps = group_logistic_path(X, y, groups=2, alphas=4, eps=0.05,
                                                          tol=1e-8)
    assert np.all(coefs[:, 0] == 0) and alphas[0] > alphas[-1]
    for k, alpha in enumerate(alphas):
        model = GroupLogisticRegression(groups=2, alpha=alpha, tol=1e-8).fit(X, y)
        np.testing.assert_allclose(coefs[:, k], model.coef_[0], atol=1e-5)
        assert intercepts[k] == pytest.approx(model.intercept_[0], abs=1e-5)
    assert np.all(gaps < 1e-8)


# (the Newton steps' stall at large alphas, docs/groups.md "Not yet", does not change the check)
@pytest.mark.filterwarnings("ignore:.*path fits did not converge")
def test_group_logistic_cv_is_identical_for_any_n_jobs():
    X, y = _binary_data(seed=2)
    fits = [GroupLogisticRegressionCV(groups=2, alphas=5, eps=0.05, cv=3, tol=1e-4,
                                      alpha_rule="1se", n_jobs=n_jobs).fit(X, y)
            for n_jobs in (1, 2)]
    np.testing.assert_array_equal(fits[0].deviance_path_, fits[1].deviance_path_)
    np.testing.assert_array_equal(fits[0].coef_, fits[1].coef_)
    model = fits[0]
    assert model.deviance_path_.shape == (5, 3)
    assert model.alpha_1se_ >= model.alpha_min_ and model.alpha_ == model.alpha_1se_
    k = int(np.flatnonzero(model.alphas_ == model.alpha_)[0])
    reference = group_logistic_path(X, y, groups=2, alphas=model.alphas_, tol=1e-4)[1][:, k]
    np.testing.assert_array_equal(model.coef_[0], reference)
    assert model.predict(X).shape == (100,)
