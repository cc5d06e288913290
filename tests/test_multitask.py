"""Multi-task elastic net and lasso: scikit-learn agreement, layouts, weights, penalty factors
(KKT conditions computed here in NumPy), cross-validation and bad input."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from fastl1 import MultiTaskElasticNet, MultiTaskElasticNetCV, MultiTaskLasso, MultiTaskLassoCV

from .conftest import as_format


def _tasks(n=60, p=40, T=3, seed=0, density=0.6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + 1.0
    X[rng.random((n, p)) > density] = 0.0
    W = np.zeros((p, T))
    W[rng.choice(p, 5, replace=False)] = rng.standard_normal((5, T))
    Y = X @ W + 0.3 * rng.standard_normal((n, T)) + 2.0
    return X, Y


def multitask_kkt(X, Y, coef, intercept, alpha, l1_ratio, sample_weight=None, factor=None):
    """Largest violation of the optimality conditions of the weighted multi-task elastic net,
    computed from scratch: with ``G_j = X_j^T S R / n - alpha (1 - l1_ratio) f_j W_j``, a
    non-zero ``W_j`` needs ``G_j = alpha l1_ratio f_j W_j / ||W_j||``, a zero one ``||G_j|| <=
    alpha l1_ratio f_j``; the intercepts need ``sum S R = 0``."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    n, p = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw * n / sw.sum()
    f = np.ones(p) if factor is None else np.asarray(factor, float)
    W = np.asarray(coef, np.float64).T  # (p, T)
    R = Y - X @ W - intercept
    G = X.T @ (sw[:, None] * R) / n - alpha * (1 - l1_ratio) * f[:, None] * W
    lam = alpha * l1_ratio * f
    norms = np.linalg.norm(W, axis=1)
    worst = np.abs((sw[:, None] * R).sum(axis=0)).max() / n
    for j in range(p):
        if norms[j] > 0:
            worst = max(worst, np.abs(G[j] - lam[j] * W[j] / norms[j]).max())
        else:
            worst = max(worst, np.linalg.norm(G[j]) - lam[j])
    return worst


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_multitask_lasso_matches_scikit_learn(fit_intercept):
    X, Y = _tasks()
    ours = MultiTaskLasso(alpha=0.1, tol=1e-12, fit_intercept=fit_intercept).fit(X, Y)
    ref = sk.MultiTaskLasso(alpha=0.1, tol=1e-12, max_iter=100000,
                            fit_intercept=fit_intercept).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    assert ours.coef_.shape == (3, 40) and ours.intercept_.shape == (3,)
    assert 0 <= ours.dual_gap_ <= ours.eps_ / X.shape[0]
    assert isinstance(ours.n_iter_, int)


def test_multitask_elastic_net_matches_scikit_learn_with_weights():
    X, Y = _tasks(seed=1)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, X.shape[0])
    ours = MultiTaskElasticNet(alpha=0.05, l1_ratio=0.4, tol=1e-12).fit(X, Y, sample_weight=sw)
    ref = sk.MultiTaskElasticNet(alpha=0.05, l1_ratio=0.4, tol=1e-12, max_iter=100000).fit(
        X, Y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-8)
    assert multitask_kkt(X, Y, ours.coef_, ours.intercept_, 0.05, 0.4, sw) < 1e-7


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_sparse_layouts_agree_with_dense(fmt):
    X, Y = _tasks(seed=2)
    sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    dense = MultiTaskElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-12).fit(X, Y, sw)
    sparse = MultiTaskElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-12).fit(
        as_format(X, fmt), Y, sw)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-9)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-9)
    np.testing.assert_allclose(sparse.predict(as_format(X, fmt)), dense.predict(X), atol=1e-8)


def test_penalty_factors_kkt():
    X, Y = _tasks(seed=3)
    p = X.shape[1]
    factor = np.random.default_rng(3).uniform(0.5, 2.0, p)
    factor[[0, 7]] = 0.0  # unpenalised: always in the model
    sw = np.random.default_rng(4).uniform(0.2, 2.0, X.shape[0])
    model = MultiTaskElasticNet(alpha=0.2, l1_ratio=0.8, tol=1e-12,
                                penalty_factor=factor).fit(X, Y, sample_weight=sw)
    assert np.all(model.coef_[:, [0, 7]] != 0)
    assert multitask_kkt(X, Y, model.coef_, model.intercept_, 0.2, 0.8, sw, factor) < 1e-7
    assert 0 <= model.dual_gap_ <= model.eps_ / X.shape[0]
    # factor 1 everywhere is the plain model
    plain = MultiTaskElasticNet(alpha=0.2, l1_ratio=0.8, tol=1e-12).fit(X, Y)
    ones = MultiTaskElasticNet(alpha=0.2, l1_ratio=0.8, tol=1e-12,
                               penalty_factor=np.ones(p)).fit(X, Y)
    np.testing.assert_allclose(ones.coef_, plain.coef_, atol=1e-12)


def test_float32_stays_float32():
    X, Y = _tasks(seed=5)
    model = MultiTaskLasso(alpha=0.1, tol=1e-6).fit(X.astype(np.float32), Y.astype(np.float32))
    assert model.coef_.dtype == np.float32
    ref = MultiTaskLasso(alpha=0.1, tol=1e-10).fit(X, Y)
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-3)


def test_random_selection_and_warm_start():
    X, Y = _tasks(seed=6)
    cyclic = MultiTaskLasso(alpha=0.1, tol=1e-12).fit(X, Y)
    shuffled = MultiTaskLasso(alpha=0.1, tol=1e-12, selection="random", random_state=0).fit(X, Y)
    np.testing.assert_allclose(shuffled.coef_, cyclic.coef_, atol=1e-7)
    warm = MultiTaskLasso(alpha=0.1, tol=1e-12, warm_start=True)
    warm.fit(X, Y)
    first = warm.n_iter_
    warm.fit(X, Y)
    assert warm.n_iter_ <= first


def test_no_penalty_above_alpha_max_and_ridge():
    X, Y = _tasks(seed=7)
    Yc = Y - Y.mean(axis=0)
    top = np.linalg.norm((X - X.mean(axis=0)).T @ Yc, axis=1).max() / X.shape[0]
    assert not MultiTaskLasso(alpha=top * 1.001, tol=1e-12).fit(X, Y).coef_.any()
    assert MultiTaskLasso(alpha=top * 0.99, tol=1e-12).fit(X, Y).coef_.any()
    ridge = MultiTaskElasticNet(alpha=0.5, l1_ratio=0.0, tol=1e-12).fit(X, Y)
    assert multitask_kkt(X, Y, ridge.coef_, ridge.intercept_, 0.5, 0.0) < 1e-7


@pytest.mark.parametrize("bad, message", [
    (lambda X, Y: (X, Y[:, 0]), "mono-task"),
    (lambda X, Y: (X[:, :3], Y), None),
])
def test_bad_input(bad, message):
    X, Y = _tasks()
    X2, Y2 = bad(X, Y)
    if message is None:  # wrong shapes are scikit-learn's check
        return
    with pytest.raises(ValueError, match=message):
        MultiTaskLasso().fit(X2, Y2)
    with pytest.raises(ValueError, match="mono-task"):
        MultiTaskElasticNetCV().fit(X2, Y2)
    with pytest.raises(ValueError, match="penalty_factor"):
        MultiTaskLasso(penalty_factor=-np.ones(X.shape[1])).fit(X, Y)
    with pytest.raises(ValueError, match="penalty_factor"):
        MultiTaskLasso(penalty_factor=np.ones(3)).fit(X, Y)


def test_never_mutates_input():
    X, Y = _tasks()
    X0, Y0 = X.copy(), Y.copy()
    MultiTaskLasso(alpha=0.1).fit(X, Y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(Y, Y0)


def test_cv_matches_scikit_learn_and_any_n_jobs():
    X, Y = _tasks(n=80, seed=8)
    folds = KFold(4)
    one = MultiTaskLassoCV(cv=folds, alphas=15, tol=1e-10, n_jobs=1).fit(X, Y)
    two = MultiTaskLassoCV(cv=folds, alphas=15, tol=1e-10, n_jobs=2).fit(X, Y)
    np.testing.assert_array_equal(one.mse_path_, two.mse_path_)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sk.MultiTaskLassoCV(cv=folds, alphas=15, tol=1e-10, max_iter=100000).fit(X, Y)
    np.testing.assert_allclose(one.alphas_, ref.alphas_, rtol=1e-10)
    np.testing.assert_allclose(one.mse_path_, ref.mse_path_, rtol=1e-5)
    assert one.alpha_ == pytest.approx(ref.alpha_)
    np.testing.assert_allclose(one.coef_, ref.coef_, atol=1e-6)
    assert not hasattr(one, "l1_ratio_")


def test_elastic_net_cv_picks_l1_ratio():
    X, Y = _tasks(n=80, seed=9)
    model = MultiTaskElasticNetCV(l1_ratio=[0.5, 1.0], cv=3, alphas=10).fit(X, Y)
    assert model.mse_path_.shape == (2, 10, 3)
    assert model.l1_ratio_ in (0.5, 1.0)
    assert model.coef_.shape == (3, X.shape[1])
    np.testing.assert_allclose(model.predict(X).shape, Y.shape)


@parametrize_with_checks([MultiTaskElasticNet(alpha=0.01), MultiTaskLasso(alpha=0.01)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


_R_MGAUSSIAN = """
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(glmnet))
X <- as.matrix(read.table(args[1])); Y <- as.matrix(read.table(args[2]))
lambda <- as.numeric(args[3]); intercept <- args[4] == "TRUE"
fit <- glmnet(X, Y, family = "mgaussian", alpha = 1, lambda = c(10 * lambda, lambda),
              standardize = FALSE, intercept = intercept, thresh = 1e-14, maxit = 1e7)
coef <- do.call(cbind, lapply(fit$beta, function(b) as.matrix(b)[, 2]))
write.table(rbind(as.matrix(fit$a0)[, 2], coef), args[5], row.names = FALSE,
            col.names = FALSE)
"""


def _r_glmnet_mgaussian(tmp_path, X, Y, alpha, fit_intercept):
    """glmnet's ``family="mgaussian"`` lasso at ``lambda = alpha`` (``standardize=FALSE``),
    run through Rscript: ``(coef (T, p), intercept (T,))``, or a skip without R's glmnet."""
    import shutil
    import subprocess

    if shutil.which("Rscript") is None:
        pytest.skip("no Rscript on PATH")
    np.savetxt(tmp_path / "X.txt", X)
    np.savetxt(tmp_path / "Y.txt", Y)
    (tmp_path / "fit.R").write_text(_R_MGAUSSIAN)
    done = subprocess.run(
        ["Rscript", "--vanilla", str(tmp_path / "fit.R"), str(tmp_path / "X.txt"),
         str(tmp_path / "Y.txt"), repr(alpha), "TRUE" if fit_intercept else "FALSE",
         str(tmp_path / "out.txt")], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"R glmnet unavailable: {done.stderr.strip()[-200:]}")
    out = np.loadtxt(tmp_path / "out.txt")
    return out[1:].T, out[0]


@pytest.mark.peers
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_multitask_lasso_matches_r_glmnet_mgaussian(tmp_path, fit_intercept):
    """glmnet's mgaussian objective is ours (1/(2n) ||Y - X B - 1 b^T||_F^2 + lambda sum_j
    ||B_j||_2 for its lasso, without standardisation): same coefficients and intercepts (to
    glmnet's precision: its stop is on coefficient changes), and ours at least as good by
    the objective."""
    X, Y = _tasks(n=80, p=50, T=4, seed=11, density=1.0)
    coef, intercept = _r_glmnet_mgaussian(tmp_path, X, Y, 0.05, fit_intercept)
    ours = MultiTaskLasso(alpha=0.05, fit_intercept=fit_intercept, tol=1e-12,
                          max_iter=100_000).fit(X, Y)
    assert np.count_nonzero(np.any(coef != 0, axis=0)) >= 5
    np.testing.assert_allclose(ours.coef_, coef, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, intercept if fit_intercept else 0.0, atol=1e-5)

    def objective(W, b):
        R = Y - X @ W.T - b
        return 0.5 * np.sum(R * R) / X.shape[0] + 0.05 * np.linalg.norm(W, axis=0).sum()

    assert objective(ours.coef_, ours.intercept_) <= objective(coef, intercept) + 1e-14
