"""LassoCV / ElasticNetCV agree with scikit-learn, select by the 1-SE rule on request, and give
bit-identical results for any number of threads."""

import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.model_selection import GroupKFold, KFold
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import ThreadpoolController

from fastl1 import ElasticNetCV, Lasso, LassoCV
from fastl1.cv import (
    fold_rows,
    fold_std_error,
    one_standard_error_index,
    report_progress,
    run_jobs,
)

from .conftest import as_format, make_regression

TIGHT = {"tol": 1e-12, "max_iter": 100_000}


# tol=1e-12: the weighted-vs-repeated-rows checks compare predictions to atol 1e-9, which
# needs solutions, not stopping points (at tol=1e-8 they differed by 1.2e-8).
@parametrize_with_checks([LassoCV(cv=3, alphas=5, tol=1e-12),
                          ElasticNetCV(cv=3, alphas=5, l1_ratio=[0.5, 1], tol=1e-12)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lasso_cv_agrees_with_sklearn(fmt, weighted):
    X, y = make_regression(n=50, p=30, seed=20)
    sw = np.random.default_rng(21).uniform(0.3, 3.0, X.shape[0]) if weighted else None
    Xf = as_format(X, fmt)
    cv = KFold(4, shuffle=True, random_state=0)
    ours = LassoCV(cv=cv, alphas=30, **TIGHT).fit(Xf, y, sample_weight=sw)
    ref = sk.LassoCV(cv=cv, alphas=30, **TIGHT).fit(Xf, y, sample_weight=sw)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    # Same grid point (weighted column means are summed in another order: last-bit changes).
    assert ours.alpha_ == pytest.approx(ref.alpha_, rel=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)
    assert ours.intercept_ == pytest.approx(ref.intercept_, abs=1e-7)
    assert ours.mse_path_.shape == (30, 4)
    assert not hasattr(ours, "l1_ratio_")


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_elastic_net_cv_agrees_with_sklearn(fmt):
    X, y = make_regression(n=50, p=30, seed=22)
    Xf = as_format(X, fmt)
    cv = KFold(3)
    kwargs = {"l1_ratio": [0.2, 0.6, 1.0], "alphas": 20, "cv": cv, **TIGHT}
    ours = ElasticNetCV(**kwargs).fit(Xf, y)
    ref = sk.ElasticNetCV(**kwargs).fit(Xf, y)
    assert ours.mse_path_.shape == ref.mse_path_.shape == (3, 20, 3)
    assert ours.alphas_.shape == ref.alphas_.shape == (3, 20)
    np.testing.assert_allclose(ours.alphas_, ref.alphas_, rtol=1e-12)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)
    assert (ours.alpha_, ours.l1_ratio_) == (ref.alpha_, ref.l1_ratio_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-7)


def test_user_alphas_array():
    X, y = make_regression(seed=23)
    alphas = [0.5, 0.01, 0.1, 0.05]
    ours = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=alphas, cv=3, **TIGHT).fit(X, y)
    ref = sk.ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=alphas, cv=3, **TIGHT).fit(X, y)
    np.testing.assert_array_equal(ours.alphas_, ref.alphas_)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)


def test_one_standard_error_rule():
    X, y = make_regression(n=60, p=40, seed=24)
    model = LassoCV(cv=5, alphas=40, **TIGHT).fit(X, y)
    mean = model.mse_path_.mean(axis=1)
    se = model.mse_path_.std(axis=1, ddof=1) / np.sqrt(5)
    best = np.argmin(mean)
    within = np.flatnonzero(mean <= mean[best] + se[best])
    expected = model.alphas_[within.min()]  # grid is largest first
    assert model.alpha_1se_ == expected
    assert model.alpha_1se_ >= model.alpha_ == model.alpha_min_
    sparse_model = LassoCV(cv=5, alphas=40, alpha_rule="1se", **TIGHT).fit(X, y)
    assert sparse_model.alpha_ == expected
    refit = Lasso(alpha=expected, **TIGHT).fit(X, y)
    np.testing.assert_allclose(sparse_model.coef_, refit.coef_, atol=1e-8)
    assert sparse_model.intercept_ == pytest.approx(refit.intercept_, abs=1e-8)
    assert np.count_nonzero(sparse_model.coef_) <= np.count_nonzero(model.coef_)


def test_one_standard_error_helpers():
    mean = np.array([5.0, 3.0, 2.0, 1.9, 2.5])
    assert one_standard_error_index(mean, np.full(5, 0.2)) == 2
    assert one_standard_error_index(mean, np.zeros(5)) == 3
    scores = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(fold_std_error(scores), [1.0 / np.sqrt(3)])


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
def test_results_do_not_depend_on_n_jobs(fmt):
    X, y = make_regression(n=60, p=50, seed=25)
    Xf = as_format(X, fmt)
    models = [ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=15, cv=4, n_jobs=n_jobs,
                           selection="random", random_state=3).fit(Xf, y)
              for n_jobs in (1, 2, -1)]
    for other in models[1:]:
        np.testing.assert_array_equal(models[0].mse_path_, other.mse_path_)
        np.testing.assert_array_equal(models[0].coef_, other.coef_)
        assert models[0].intercept_ == other.intercept_


def test_formats_and_dtypes_agree():
    X, y = make_regression(n=50, p=30, seed=26)
    # eps=0.02: at the grid's far end float32 solutions of this near-singular problem are
    # only accurate to its precision, which says nothing about the formats.
    def fit(fmt, dtype):
        tol = 1e-12 if dtype == np.float64 else 1e-7
        model = LassoCV(alphas=10, eps=0.02, cv=3, tol=tol, max_iter=100_000)
        return model.fit(as_format(X, fmt, dtype), y)

    models = {(fmt, dtype): fit(fmt, dtype)
              for fmt in ("dense", "csc", "csr") for dtype in (np.float64, np.float32)}
    base = models[("dense", np.float64)]
    for (_, dtype), model in models.items():
        assert model.coef_.dtype == dtype
        tol = 1e-8 if dtype == np.float64 else 1e-3
        np.testing.assert_allclose(model.mse_path_, base.mse_path_, rtol=tol)
        np.testing.assert_allclose(model.coef_, base.coef_, atol=tol)


def test_groups_reach_the_splitter():
    X, y = make_regression(n=40, p=20, seed=27)
    groups = np.repeat(np.arange(4), 10)
    ours = LassoCV(cv=GroupKFold(4), alphas=10, **TIGHT).fit(X, y, groups=groups)
    ref = sk.LassoCV(cv=list(GroupKFold(4).split(X, y, groups)), alphas=10, **TIGHT).fit(X, y)
    np.testing.assert_allclose(ours.mse_path_, ref.mse_path_, rtol=1e-6)


def test_final_model_is_certified():
    X, y = make_regression(n=50, p=30, seed=28)
    model = ElasticNetCV(l1_ratio=0.5, alphas=10, cv=3, tol=1e-8).fit(X, y)
    yc_norm2 = np.sum((y - y.mean()) ** 2) / X.shape[0]
    assert 0 <= model.dual_gap_ <= 1e-8 * yc_norm2
    assert model.coef_path_.shape == (30, 10) and sp.issparse(model.coef_path_)
    index = int(np.flatnonzero(model.alphas_ == model.alpha_)[0])
    np.testing.assert_array_equal(model.coef_path_[:, [index]].toarray().ravel(), model.coef_)
    np.testing.assert_allclose(model.predict(X), X @ model.coef_ + model.intercept_)


def test_deprecated_n_alphas():
    X, y = make_regression(seed=29)
    with pytest.warns(DeprecationWarning, match="n_alphas"):
        model = LassoCV(n_alphas=6, cv=3).fit(X, y)
    assert model.alphas_.shape == (6,)


@pytest.mark.parametrize("params, error, match", [
    ({"alpha_rule": "best"}, ValueError, "alpha_rule"),
    ({"l1_ratio": [0.5, 2.0]}, ValueError, "l1_ratio"),
    ({"l1_ratio": 0.0}, ValueError, "l1_ratio > 0"),
    ({"eps": -1.0}, ValueError, "eps"),
    ({"cv": 1}, ValueError, "split"),
])
def test_bad_parameters(params, error, match):
    X, y = make_regression(seed=30)
    with pytest.raises(error, match=match):
        ElasticNetCV(**params).fit(X, y)


@pytest.mark.parametrize("zero_rows, part", [(slice(0, 10), "test"), (slice(10, None),
                                                                       "training")])
def test_a_fold_of_zero_weights_is_refused(zero_rows, part):
    """Its model or test error is undefined: a clear error, not a crash or a NaN curve."""
    X, y = make_regression(n=50, p=20, seed=32)
    sample_weight = np.ones(50)
    sample_weight[zero_rows] = 0.0  # KFold(5): the first test fold holds rows 0-9
    with pytest.raises(ValueError, match=f"{part} rows all have zero sample weight"):
        LassoCV(cv=KFold(5), alphas=5).fit(X, y, sample_weight=sample_weight)


def test_multi_target_is_refused_and_inputs_untouched():
    X, y = make_regression(seed=31)
    with pytest.raises(ValueError, match="one target"):
        LassoCV(cv=3).fit(X, np.column_stack([y, y]))
    Xs = sp.csr_matrix(X)
    X0, y0, data0 = X.copy(), y.copy(), Xs.data.copy()
    X.setflags(write=False)
    LassoCV(cv=3, alphas=5, n_jobs=2).fit(X, y)
    LassoCV(cv=3, alphas=5, n_jobs=2).fit(Xs, y)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(Xs.data, data0)


def test_fold_rows_gathers_without_densifying():
    X, _ = make_regression(n=20, p=7, seed=32)
    rows = np.array([3, 0, 11, 19])
    dense = fold_rows(np.asfortranarray(X), rows)
    assert dense.flags.f_contiguous
    np.testing.assert_array_equal(dense, X[rows])
    sparse = fold_rows(sp.csc_matrix(X), rows)
    assert sparse.format == "csc"
    np.testing.assert_array_equal(sparse.toarray(), X[rows])


def test_verbose_reports_progress(capsys):
    X, y = make_regression(seed=33)
    LassoCV(cv=3, alphas=4, verbose=3).fit(X, y)
    captured = capsys.readouterr()
    assert captured.out.count("Path: ") == 4 * 4  # three folds and the full-data path
    assert "Parallel" in captured.err + captured.out


def test_run_jobs_runs_concurrently_and_keeps_order():
    both_running = threading.Barrier(2, timeout=10)  # breaks unless two jobs overlap

    def job(k):
        def run():
            if k < 2:
                both_running.wait()
            time.sleep(0.002 * (5 - k))  # later jobs finish first
            return k, threading.current_thread().name
        return run

    progress = []
    with report_progress(lambda done, total: progress.append((done, total))):
        results = run_jobs([job(k) for k in range(5)], n_jobs=2)
    assert [k for k, _ in results] == list(range(5))
    assert all(name.startswith("fastl1") for _, name in results)
    assert progress == [(done, 5) for done in range(1, 6)]
    # n_jobs=1 runs in the calling thread.
    assert {name for _, name in run_jobs([job(k) for k in (2, 3)], n_jobs=1)} == \
        {threading.current_thread().name}


def test_run_jobs_nested_in_a_job_runs_in_place():
    def inner():
        return threading.current_thread().name

    def outer():
        return threading.current_thread().name, run_jobs([inner, inner], n_jobs=2)

    for name, inner_names in run_jobs([outer, outer], n_jobs=2):  # no deadlock
        assert inner_names == [name, name]


def test_run_jobs_raises_the_first_failure_and_skips_jobs_not_started():
    started = []

    def job(k):
        def run():
            started.append(k)
            if k == 0:
                raise RuntimeError("job 0 failed")
            time.sleep(0.05)
            return k
        return run

    with pytest.raises(RuntimeError, match="job 0 failed"):
        run_jobs([job(k) for k in range(20)], n_jobs=2)
    count = len(started)
    time.sleep(0.1)
    assert len(started) == count < 20  # nothing runs on after the error


@pytest.mark.parametrize("estimator", ["LassoCV", "ElasticNetCV", "LogisticRegressionCV",
                                       "StabilitySelection"])
def test_blas_holds_one_thread_for_the_whole_fit(estimator, monkeypatch):
    # OpenBLAS workers spin ~0.1 s after a multi-threaded call and take a core from the jobs,
    # so the limit must already hold before the jobs start (and after they end).
    import fastl1
    from fastl1 import _path_plan

    controller = ThreadpoolController()
    if not controller.select(user_api="blas").lib_controllers:
        pytest.skip("no BLAS library found by threadpoolctl")
    seen = []

    def recording_run_jobs(jobs, n_jobs, verbose=0):
        seen.append({lib["num_threads"] for lib in controller.select(user_api="blas").info()})
        return run_jobs(jobs, n_jobs, verbose)

    monkeypatch.setattr(_path_plan, "run_jobs", recording_run_jobs)  # (every model's plan)
    X, y = make_regression(n=40, p=10, seed=31)
    model = {"LassoCV": lambda: LassoCV(cv=3, alphas=4),
             "ElasticNetCV": lambda: ElasticNetCV(cv=3, alphas=4),
             "LogisticRegressionCV": lambda: fastl1.LogisticRegressionCV(Cs=3, cv=3,
                                                                        l1_ratios=[1.0]),
             "StabilitySelection": lambda: fastl1.StabilitySelection(alphas=3,
                                                                    n_resamples=2)}[estimator]()
    target = (y > np.median(y)).astype(int) if estimator == "LogisticRegressionCV" else y
    with controller.limit(limits=2, user_api="blas"):
        before = {lib["num_threads"] for lib in controller.select(user_api="blas").info()}
        model.fit(X, target)
        after = {lib["num_threads"] for lib in controller.select(user_api="blas").info()}
    assert seen == [{1}]
    assert before == after == {2}  # the caller's setting comes back


def test_threading_and_sequential_backends_run_jobs_in_this_process():
    import joblib

    def name():
        return threading.current_thread().name

    with joblib.parallel_config(backend="threading"):
        names = run_jobs([name] * 4, n_jobs=2)
    assert all(n.startswith("fastl1") for n in names)  # the persistent pool, not joblib's
    with joblib.parallel_config(backend="sequential"):
        assert run_jobs([name] * 3, n_jobs=-1) == [threading.current_thread().name] * 3


def test_a_process_backend_runs_the_jobs_elsewhere_with_the_threaded_results():
    # Jobs sent to other processes carry their data as arguments and bring their warnings
    # back: replayed here, at the line of the user's fit.
    import functools
    import os
    import warnings

    import joblib
    from sklearn.exceptions import ConvergenceWarning

    X, y = make_regression(n=60, p=30, seed=41)
    sw = np.random.default_rng(41).uniform(0.5, 2.0, 60)
    make = functools.partial(LassoCV, cv=3, alphas=5, max_iter=2, tol=1e-12, n_jobs=2)
    with warnings.catch_warnings(record=True) as threaded_warnings:
        warnings.simplefilter("always")
        threaded = make().fit(X, y, sample_weight=sw)
    with joblib.parallel_config(backend="loky"):
        pids = run_jobs([os.getpid] * 4, n_jobs=2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            elsewhere = make().fit(X, y, sample_weight=sw)
    assert os.getpid() not in pids
    for name in ("coef_", "intercept_", "alpha_", "mse_path_"):
        assert np.array_equal(getattr(elsewhere, name), getattr(threaded, name)), name
    converge = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert converge and {w.filename for w in converge} == {__file__}
    assert [str(w.message) for w in converge] == \
        [str(w.message) for w in threaded_warnings if issubclass(w.category, ConvergenceWarning)]
