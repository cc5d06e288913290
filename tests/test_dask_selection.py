"""Stability selection on Dask arrays chunked by rows: every subsample's statistics in one
pass over the blocks, the in-memory subsamples and selection frequencies."""

import os

import numpy as np
import pytest

from fastl1 import ElasticNet, Lasso, LogisticRegression, StabilitySelection

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _problem(seed=0, n=400, p=25):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    y = X[:, :4] @ np.array([2.0, -1.5, 1.0, 0.5]) + rng.standard_normal(n)
    return X, y, rng.uniform(0.2, 2.0, n)


def _chunked(a, chunk=90):
    return da.from_array(a, chunks=(chunk,) + a.shape[1:])


def _assert_same_selection(fitted, reference):
    np.testing.assert_allclose(fitted.alphas_, reference.alphas_, rtol=1e-12)
    np.testing.assert_array_equal(fitted.stability_scores_, reference.stability_scores_)
    np.testing.assert_array_equal(fitted.support_, reference.support_)
    assert fitted.average_selected_ == reference.average_selected_
    assert fitted.n_features_in_ == reference.n_features_in_


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("estimator", [None, ElasticNet(l1_ratio=0.5, tol=1e-8)])
def test_matches_in_memory(estimator, weighted):
    X, y, w = _problem()
    fit_kw = {"sample_weight": w} if weighted else {}
    make = lambda: StabilitySelection(estimator, n_resamples=8, random_state=0)  # noqa: E731
    reference = make().fit(X, y, **fit_kw)
    fitted = make().fit(_chunked(X), _chunked(y),
                        **({"sample_weight": _chunked(w, 70)} if weighted else {}))
    _assert_same_selection(fitted, reference)
    assert {0, 1, 2, 3} <= set(fitted.get_support(indices=True).tolist())


def test_subsamples_without_pairs_and_given_alphas():
    X, y, _ = _problem(1)
    make = lambda: StabilitySelection(  # noqa: E731
        Lasso(fit_intercept=False, tol=1e-8), alphas=[0.5, 0.2, 0.05], n_resamples=6,
        sample_fraction=0.3, complementary_pairs=False, random_state=3)
    _assert_same_selection(make().fit(_chunked(X), y), make().fit(X, y))


def test_one_pass_and_x_never_on_the_client(monkeypatch):
    X, y, _ = _problem(2, n=3000, p=6)

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was converted to NumPy on the client")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    computes = []

    def scheduler(graph, keys, **kwargs):
        computes.append(keys)
        return dask.get(graph, keys, **kwargs)

    with dask.config.set(scheduler=scheduler):
        fitted = StabilitySelection(n_resamples=5, random_state=0).fit(_chunked(X, 500),
                                                                       _chunked(y, 500))
    assert len(computes) == 1
    monkeypatch.undo()
    _assert_same_selection(fitted, StabilitySelection(n_resamples=5, random_state=0).fit(X, y))


def test_refusals():
    X, y, w = _problem(3)
    labels = (y > 0).astype(int)
    with pytest.raises(TypeError, match="LogisticRegression does not accept Dask"):
        StabilitySelection(LogisticRegression()).fit(_chunked(X), _chunked(labels))
    mostly_zero = np.where(np.arange(X.shape[0]) < 5, w, 0.0)
    with pytest.raises(ValueError, match="only zero weights"):
        StabilitySelection(n_resamples=50, sample_fraction=0.05, complementary_pairs=False,
                           random_state=0).fit(_chunked(X), y,
                                               sample_weight=_chunked(mostly_zero))
    # The first subsample holds the only weighted row: its complement, derived by
    # subtraction, has none.
    row = np.random.RandomState(0).permutation(X.shape[0])[0]  # in the first subsample
    first_rows = np.where(np.arange(X.shape[0]) == row, w, 0.0)
    with pytest.raises(ValueError, match="Subsample 1 .* only zero weights"):
        StabilitySelection(n_resamples=5, random_state=0).fit(
            _chunked(X), y, sample_weight=_chunked(first_rows))
    with pytest.raises(ValueError, match="one target"):
        StabilitySelection().fit(_chunked(X), np.column_stack([y, y]))


@pytest.mark.skipif(os.name == "nt", reason="process spawning")
def test_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    joblib = pytest.importorskip("joblib")
    X, y, w = _problem(4)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, dask.config.set(scheduler=client), \
            distributed.get_task_stream(client) as stream, \
            joblib.parallel_config(backend="dask"):
        fitted = StabilitySelection(n_resamples=4, random_state=0).fit(
            _chunked(X), _chunked(y), sample_weight=_chunked(w))
        addresses = set(client.scheduler_info()["workers"])
    keys = [str(task["key"]) for task in stream.data]
    workers = {task["worker"] for task in stream.data
               if "_block_subsample_statistics" in str(task["key"])}
    assert workers and workers <= addresses
    assert any("_run_remote" in key for key in keys)  # the paths ran on the workers too
    reference = StabilitySelection(n_resamples=4, random_state=0).fit(X, y, sample_weight=w)
    _assert_same_selection(fitted, reference)
