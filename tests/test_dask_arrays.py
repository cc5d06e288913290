"""Squared-loss fits on Dask arrays chunked by rows: the same coefficients as the in-memory
Gram fits, from statistics computed where the blocks are (X never comes to the client), and
clear refusals of what a statistics fit cannot do."""

import os

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import KFold, ShuffleSplit

from fastl1 import (
    ElasticNet,
    ElasticNetCV,
    Lasso,
    LassoCV,
    _dask,
    enet_path,
    lasso_path,
)
from fastl1.logistic_cv import l1_min_c

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")

N, P, CHUNK = 240, 8, 50  # row chunks of 50, 50, 50, 50, 40


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _problem(seed=0, n=N, p=P):
    rng = np.random.default_rng(seed)
    # Columns of non-zero, unequal means: the centring matters.
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.uniform(-3, 3, p)
    y = X[:, :3] @ np.array([1.5, -2.0, 0.7]) + 4.0 + 0.5 * rng.standard_normal(n)
    weights = rng.uniform(0.0, 2.0, n)
    return X, y, weights


def _chunked(a, chunk=CHUNK):
    return da.from_array(a, chunks=(chunk,) + a.shape[1:])


def _close(actual, expected, rtol):
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    assert np.max(np.abs(actual - expected)) <= rtol * scale, (actual, expected)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [None, "numpy", "dask"])
@pytest.mark.parametrize("model", [Lasso(alpha=0.05), ElasticNet(alpha=0.1, l1_ratio=0.4)])
def test_single_fits_match_in_memory(model, fit_intercept, weights):
    X, y, w = _problem()
    fit_kw = {} if weights is None else {"sample_weight": w}
    dask_kw = {} if weights is None else \
        {"sample_weight": w if weights == "numpy" else _chunked(w, 30)}  # other chunks
    params = {**model.get_params(), "fit_intercept": fit_intercept}
    reference = type(model)(**{**params, "precompute": True}).fit(X, y, **fit_kw)
    fitted = type(model)(**params).fit(_chunked(X), _chunked(y), **dask_kw)
    _close(fitted.coef_, reference.coef_, 1e-8)
    _close(fitted.intercept_, reference.intercept_, 1e-8)
    assert fitted.n_iter_ == reference.n_iter_
    assert fitted.dual_gap_ == pytest.approx(reference.dual_gap_, rel=1e-6, abs=1e-12)
    assert fitted.n_features_in_ == P
    assert isinstance(fitted.intercept_, np.float64)


def test_converged_fit_matches_residual_update_fit():
    # The default in-memory Lasso updates residuals, not the Gram matrix: both converge to
    # the same solution.
    X, y, w = _problem(1)
    reference = Lasso(alpha=0.02, tol=1e-12, max_iter=100_000).fit(X, y, sample_weight=w)
    fitted = Lasso(alpha=0.02, tol=1e-12, max_iter=100_000).fit(_chunked(X), _chunked(y),
                                                                sample_weight=_chunked(w))
    _close(fitted.coef_, reference.coef_, 1e-8)
    _close(fitted.intercept_, reference.intercept_, 1e-8)


def test_wide_problem():
    # Fewer rows than 4 x features: the statistics problem keeps all its rows.
    X, y, w = _problem(10, n=40, p=30)
    reference = ElasticNet(alpha=0.02, precompute=True).fit(X, y, sample_weight=w)
    fitted = ElasticNet(alpha=0.02).fit(_chunked(X, 15), y, sample_weight=w)
    _close(fitted.coef_, reference.coef_, 1e-8)
    assert fitted.n_iter_ == reference.n_iter_


def test_float32_stays_float32():
    # The statistics are summed in float64, the in-memory Gram matrix in float32: the fits
    # agree to float32's resolution.
    X, y, _ = _problem(2)
    X32 = X.astype(np.float32)
    reference = ElasticNet(alpha=0.05, precompute=True).fit(X32, y)
    fitted = ElasticNet(alpha=0.05).fit(_chunked(X32), _chunked(y))
    assert fitted.coef_.dtype == np.float32 and isinstance(fitted.intercept_, np.float32)
    _close(fitted.coef_, reference.coef_, 1e-5)
    exact = ElasticNet(alpha=0.05, precompute=True).fit(X32.astype(np.float64), y)
    _close(fitted.coef_, exact.coef_, 1e-5)


def test_several_targets_and_random_selection():
    X, y, _ = _problem(3)
    Y = np.column_stack([y, X[:, 4] - y])
    reference = ElasticNet(alpha=0.05, precompute=True, selection="random",
                           random_state=0).fit(X, Y)
    fitted = ElasticNet(alpha=0.05, selection="random", random_state=0).fit(_chunked(X), Y)
    assert fitted.coef_.shape == (2, P)
    _close(fitted.coef_, reference.coef_, 1e-8)
    _close(fitted.intercept_, reference.intercept_, 1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_lasso_cv_matches_in_memory(fit_intercept, weighted):
    X, y, w = _problem(4)
    fit_kw = {"sample_weight": w} if weighted else {}
    dask_kw = {"sample_weight": _chunked(w)} if weighted else {}
    reference = LassoCV(cv=4, precompute=True, fit_intercept=fit_intercept).fit(X, y, **fit_kw)
    fitted = LassoCV(cv=4, fit_intercept=fit_intercept, n_jobs=2).fit(_chunked(X),
                                                                     _chunked(y), **dask_kw)
    assert fitted.alpha_ == pytest.approx(reference.alpha_, rel=1e-12)
    _close(fitted.alphas_, reference.alphas_, 1e-12)
    _close(fitted.mse_path_, reference.mse_path_, 1e-8)
    _close(fitted.coef_, reference.coef_, 1e-8)
    _close(fitted.intercept_, reference.intercept_, 1e-8)
    assert fitted.n_iter_ == reference.n_iter_
    assert not hasattr(fitted, "l1_ratio_")


def test_elastic_net_cv_shuffled_folds_and_l1_ratios():
    # Shuffled KFold: each row's fold is computed on the cluster from the splitter.
    X, y, w = _problem(5)
    cv = KFold(3, shuffle=True, random_state=0)
    reference = ElasticNetCV(l1_ratio=[0.3, 0.9], alphas=15, cv=cv, alpha_rule="1se",
                             precompute=True).fit(X, y, sample_weight=w)
    fitted = ElasticNetCV(l1_ratio=[0.3, 0.9], alphas=15, cv=cv, alpha_rule="1se") \
        .fit(_chunked(X), y, sample_weight=w)
    assert fitted.l1_ratio_ == reference.l1_ratio_
    assert fitted.alpha_ == pytest.approx(reference.alpha_, rel=1e-12)
    assert fitted.mse_path_.shape == (2, 15, 3)
    _close(fitted.mse_path_, reference.mse_path_, 1e-8)
    _close(fitted.coef_, reference.coef_, 1e-8)
    _close(fitted.coef_path_.toarray(), reference.coef_path_.toarray(), 1e-8)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_paths_match_in_memory(fit_intercept):
    X, y, w = _problem(6)
    reference = enet_path(X, y, l1_ratio=0.7, alphas=12, fit_intercept=fit_intercept,
                          sample_weight=w, precompute=True, return_n_iter=True)
    fitted = enet_path(_chunked(X), _chunked(y), l1_ratio=0.7, alphas=12,
                       fit_intercept=fit_intercept, sample_weight=_chunked(w),
                       return_n_iter=True)
    _close(fitted[0], reference[0], 1e-12)
    _close(fitted[1], reference[1], 1e-8)
    assert fitted[3] == reference[3]
    alphas, coefs, _ = lasso_path(_chunked(X), _chunked(y[:, None]), alphas=[0.5, 0.1])
    expected = lasso_path(X, y[:, None], alphas=[0.5, 0.1], precompute=True)[1]
    assert coefs.shape == (1, P, 2)
    _close(coefs, expected, 1e-8)


class _RecordingScheduler:
    """A synchronous scheduler that records the size of every result it hands back."""

    def __init__(self):
        self.sizes = []

    def __call__(self, graph, keys, **kwargs):
        result = dask.get(graph, keys, **kwargs)
        self.sizes.append(_nbytes(result))
        return result

    def __reduce__(self):  # pragma: no cover
        raise TypeError


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    if hasattr(value, "__dict__"):
        return sum(_nbytes(v) for v in vars(value).values())
    return 8


def test_the_client_never_materialises_x(monkeypatch):
    X, y, w = _problem(7, n=4000, p=5)
    Xd, yd, wd = _chunked(X, 500), _chunked(y, 500), _chunked(w, 500)

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was converted to NumPy on the client")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    with pytest.raises(AssertionError):
        np.asarray(Xd)  # the trap works
    scheduler = _RecordingScheduler()
    with dask.config.set(scheduler=scheduler):
        LassoCV(cv=5).fit(Xd, yd, sample_weight=wd)
        Lasso(alpha=0.1).fit(Xd, yd)
        lasso_path(Xd, yd, alphas=5)
    assert len(scheduler.sizes) == 3  # one pass over the data per fit
    assert max(scheduler.sizes) < X.nbytes / 20, scheduler.sizes


def test_dask_dataframe():
    pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, y, _ = _problem(8)
    frame = pd.DataFrame(X, columns=[f"g{j}" for j in range(P)])
    reference = Lasso(alpha=0.05, precompute=True).fit(frame, y)
    fitted = Lasso(alpha=0.05).fit(dd.from_pandas(frame, npartitions=3),
                                   dd.from_pandas(pd.Series(y), npartitions=3))
    _close(fitted.coef_, reference.coef_, 1e-8)
    assert list(fitted.feature_names_in_) == list(frame.columns)
    np.testing.assert_allclose(fitted.predict(frame), reference.predict(frame), rtol=1e-8)


def test_refuses_feature_chunks_with_rechunk_advice():
    X, y, _ = _problem()
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        Lasso().fit(da.from_array(X, chunks=(50, 4)), y)


def test_refuses_sparse_chunks():
    X, y, _ = _problem()
    Xs = _chunked(X).map_blocks(sp.csr_matrix, dtype=X.dtype)
    with pytest.raises(TypeError, match="sparse"):
        Lasso().fit(Xs, y)


def test_refuses_a_gram_matrix_too_large_for_memory(monkeypatch):
    X, y, _ = _problem()
    monkeypatch.setattr(_dask, "_memory_bytes", lambda: 1000.0)
    with pytest.raises(ValueError, match=r"8 features.*GB"):
        LassoCV().fit(_chunked(X), y)


def test_refuses_unknown_chunk_sizes():
    X, y, _ = _problem()
    Xd = _chunked(X)
    unknown = Xd[Xd[:, 0] > -np.inf]
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        Lasso().fit(unknown, y)


def test_refuses_bad_values_found_by_the_blocks():
    X, y, w = _problem()
    X_nan = X.copy()
    X_nan[201, 3] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        Lasso().fit(_chunked(X_nan), y)
    with pytest.raises(ValueError, match="y contains NaN"):
        Lasso().fit(_chunked(X), _chunked(np.where(np.arange(N) == 7, np.nan, y)))
    with pytest.raises(ValueError, match="Negative values"):
        Lasso().fit(_chunked(X), y, sample_weight=_chunked(w - 1.0))
    with pytest.raises(ValueError, match="sums to zero"):
        Lasso().fit(_chunked(X), y, sample_weight=_chunked(np.zeros(N)))
    with pytest.raises(ValueError, match="shape"):
        Lasso().fit(_chunked(X), y[:-1])


def test_refuses_folds_that_do_not_partition_the_rows():
    X, y, _ = _problem()
    with pytest.raises(ValueError, match="partition the rows"):
        LassoCV(cv=ShuffleSplit(3, test_size=0.2, random_state=0)).fit(_chunked(X), y)
    with pytest.raises(TypeError, match="precompute"):
        LassoCV(precompute=np.eye(P)).fit(_chunked(X), y)


def test_l1_min_c_refuses_dask_arrays():
    # (LogisticRegression, l1_logistic_path and LogisticRegressionCV fit on them:
    # tests/test_dask_logistic.py, tests/test_dask_logistic_cv.py.)
    X, y, _ = _problem()
    labels = _chunked((y > np.median(y)).astype(np.int64))
    with pytest.raises(TypeError, match="l1_min_c does not accept Dask arrays"):
        l1_min_c(_chunked(X), labels)


@pytest.mark.skipif(os.name == "nt", reason="process spawning")
def test_lasso_cv_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X, y, w = _problem(9)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            distributed.get_task_stream(client) as stream:
        fitted = LassoCV(cv=4).fit(_chunked(X), _chunked(y), sample_weight=_chunked(w))
        addresses = set(client.scheduler_info()["workers"])
        # The path jobs on the statistics, on the workers too: a worker's first kernel call
        # (loaded from Numba's cache before its threading layer started) must not crash it.
        with joblib.parallel_config(backend="dask"):
            on_workers = LassoCV(cv=4).fit(_chunked(X), _chunked(y),
                                           sample_weight=_chunked(w))
    assert any("_run_remote" in str(task["key"]) for task in stream.data)
    np.testing.assert_array_equal(on_workers.coef_, fitted.coef_)
    np.testing.assert_array_equal(on_workers.mse_path_, fitted.mse_path_)
    workers = {task["worker"] for task in stream.data
               if "_block_statistics" in str(task["key"])}
    assert workers and workers <= addresses
    reference = LassoCV(cv=4, precompute=True).fit(X, y, sample_weight=w)
    _close(fitted.coef_, reference.coef_, 1e-8)
    _close(fitted.mse_path_, reference.mse_path_, 1e-8)
