"""LogisticRegressionCV on Dask arrays chunked by rows: the in-memory choice of C, scores
and coefficients, from fold paths and test scores computed by passes over the row blocks
(X never comes to the client)."""

import os
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GroupKFold, KFold, ShuffleSplit

from fastl1 import LogisticRegressionCV

from .dask_support import chunked, da, dask, synchronous  # noqa: F401 (autouse fixture)
from .dask_support import close as _close

TIGHT = {"tol": 1e-10, "max_iter": 1000}



def _binary(seed=0, n=600, p=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.uniform(-2, 2, p)
    y = (X[:, :3] @ np.array([1.5, -2.0, 1.0]) + 0.3 + rng.standard_normal(n) > 0)
    return X, y.astype(np.int64), rng.uniform(0.0, 2.0, n)


def _chunked(a, chunk=150):
    return chunked(a, chunk)



def _assert_same(fitted, reference):
    np.testing.assert_array_equal(fitted.C_, reference.C_)
    np.testing.assert_array_equal(fitted.l1_ratio_, reference.l1_ratio_)
    np.testing.assert_array_equal(fitted.classes_, reference.classes_)
    _close(fitted.coef_, reference.coef_)
    _close(fitted.intercept_, reference.intercept_ if np.any(reference.intercept_) else 0.0)
    assert fitted.coef_.dtype == reference.coef_.dtype
    for name in ("scores_", "coefs_paths_"):
        got, want = getattr(fitted, name), getattr(reference, name)
        if isinstance(want, dict):
            assert got.keys() == want.keys()
            got, want = np.array(list(got.values())), np.array(list(want.values()))
        assert got.shape == want.shape
        _close(got, want, 1e-7)
    # The in-memory paths start each point from the strong rule's working set: fewer
    # iterations than the blockwise fits, which start every point afresh; both converge.
    assert fitted.n_iter_.shape == reference.n_iter_.shape
    assert np.all(fitted.n_iter_ < TIGHT["max_iter"])
    assert np.all(reference.n_iter_ < TIGHT["max_iter"])


@pytest.mark.parametrize("weighted", [False, True])
def test_default_folds_and_accuracy_match_in_memory(weighted):
    # cv=None: stratified 5-fold, its folds computed on the labels alone.
    X, y, w = _binary()
    kw = {"sample_weight": w} if weighted else {}
    model = LogisticRegressionCV(Cs=[0.01, 0.1, 1.0], **TIGHT)
    reference = LogisticRegressionCV(**model.get_params()).fit(X, y, **kw)
    fitted = model.fit(_chunked(X), _chunked(y),
                       **({"sample_weight": _chunked(w, 100)} if weighted else {}))
    _assert_same(fitted, reference)
    assert fitted.n_features_in_ == X.shape[1]


def test_scorer_l1_ratios_and_new_attributes():
    # A scorer other than accuracy runs on the test rows' decision values on a worker.
    X, y, w = _binary(1)
    model = LogisticRegressionCV(Cs=[0.05, 0.5], l1_ratios=(0.5, 1.0), cv=KFold(3),
                                 scoring="neg_log_loss", use_legacy_attributes=False,
                                 class_weight="balanced", **TIGHT)
    reference = LogisticRegressionCV(**model.get_params()).fit(X, y, sample_weight=w)
    _assert_same(model.fit(_chunked(X), y, sample_weight=_chunked(w)), reference)
    assert model.scores_.shape == (3, 2, 2)


def test_multinomial_with_string_labels_and_no_refit():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((450, 6)) + rng.uniform(-1, 1, 6)
    y = np.array(["ant", "bee", "cat"])[np.argmax(X[:, :3] + 0.5 * rng.standard_normal(
        (450, 3)), axis=1)]
    model = LogisticRegressionCV(Cs=[0.1, 1.0], cv=3, refit=False, **TIGHT)
    reference = LogisticRegressionCV(**model.get_params()).fit(X, y)
    fitted = model.fit(_chunked(X), _chunked(y))
    assert fitted.coef_.shape == (3, X.shape[1])
    # The exact multinomial Hessian takes other Newton steps than the in-memory kernels.
    np.testing.assert_array_equal(fitted.C_, reference.C_)
    _close(fitted.coef_, reference.coef_, 1e-7)
    _close(fitted.intercept_, reference.intercept_, 1e-7)
    for key in reference.scores_:
        np.testing.assert_allclose(fitted.scores_[key], reference.scores_[key], atol=1e-12)


def test_splitters_that_do_not_partition_the_rows_and_groups():
    X, y, _ = _binary(3, n=300)
    for cv, params in ((ShuffleSplit(3, test_size=0.3, random_state=0), {}),
                       (GroupKFold(3), {"groups": np.arange(300) % 7}),
                       (list(KFold(3, shuffle=True, random_state=1).split(X)), {})):
        model = LogisticRegressionCV(Cs=[0.05, 1.0], cv=cv, **TIGHT)
        reference = LogisticRegressionCV(**model.get_params()).fit(X, y, **params)
        _assert_same(model.fit(_chunked(X, 70), _chunked(y, 70), **params), reference)


def test_float32_design_and_threads():
    X, y, _ = _binary(4, n=300)
    X32 = X.astype(np.float32)
    model = LogisticRegressionCV(Cs=[0.05, 1.0], cv=3, n_jobs=2, **TIGHT)
    reference = LogisticRegressionCV(**model.get_params()).fit(X32, y)
    fitted = model.fit(_chunked(X32, 100), y)
    assert fitted.coef_.dtype == np.float32
    _assert_same(fitted, reference)


def test_the_client_never_materialises_x(monkeypatch):
    X, y, w = _binary(5, n=3000, p=5)
    sizes = []

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was converted to NumPy on the client")

    def scheduler(graph, keys, **kwargs):
        result = dask.get(graph, keys, **kwargs)
        sizes.append(_nbytes(result))
        return result

    monkeypatch.setattr(da.Array, "__array__", refuse)
    with dask.config.set(scheduler=scheduler):
        fitted = LogisticRegressionCV(Cs=[0.1, 1.0], cv=3).fit(
            _chunked(X, 500), _chunked(y, 500), sample_weight=_chunked(w, 500))
    # The fold memberships (a byte per row and fold) are persisted: kept on the workers of a
    # cluster, in this process under a local scheduler. Everything else is coefficient-sized.
    assert sorted(sizes)[-1] == X.shape[0] * 3
    assert sorted(sizes)[-2] < X.nbytes / 50, sorted(sizes)
    monkeypatch.undo()
    reference = LogisticRegressionCV(Cs=[0.1, 1.0], cv=3).fit(X, y, sample_weight=w)
    np.testing.assert_array_equal(fitted.C_, reference.C_)
    _close(fitted.coef_, reference.coef_, 1e-3)


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 8


def test_refusals_name_the_problem():
    X, y, w = _binary(6, n=200)
    Xd, yd = _chunked(X, 50), _chunked(y, 50)
    with pytest.raises(ValueError, match="penalty_factor"):
        LogisticRegressionCV(penalty_factor=np.ones(X.shape[1])).fit(Xd, yd)
    with pytest.raises(ValueError, match="prox_newton"):
        LogisticRegressionCV(solver="fista").fit(Xd, yd)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegressionCV().fit(Xd, _chunked(np.zeros(200, dtype=int), 50))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegressionCV().fit(Xd, _chunked(np.linspace(0, 1, 200), 50))
    zero_fold = w.copy()
    zero_fold[:40] = 0.0  # KFold(5)'s first test fold
    with pytest.raises(ValueError, match="fold 0's test rows all have zero sample weight"):
        LogisticRegressionCV(cv=KFold(5)).fit(Xd, yd, sample_weight=_chunked(zero_fold, 50))
    with pytest.raises(ValueError, match="empty training or test set"):
        LogisticRegressionCV(cv=[(np.arange(200), np.array([], dtype=int))]).fit(Xd, yd)
    with pytest.raises(ValueError, match="out of"):
        LogisticRegressionCV(cv=[(np.arange(100), np.arange(150, 250))]).fit(Xd, yd)
    with pytest.raises(ValueError, match="shape"):
        LogisticRegressionCV().fit(Xd, y[:-1])


def test_convergence_warning_counts_the_fits():
    X, y, _ = _binary(7, n=200)
    with pytest.warns(ConvergenceWarning, match=r"for \d+ of 8 values of C"):
        LogisticRegressionCV(Cs=[10.0, 100.0], cv=3, tol=1e-14, max_iter=1).fit(
            _chunked(X, 50), y)


@pytest.mark.skipif(os.name == "nt", reason="process spawning")
def test_cross_validation_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    X, y, w = _binary(8, n=400)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            dask.config.set(scheduler=client), \
            distributed.get_task_stream(client) as stream, warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = LogisticRegressionCV(Cs=[0.05, 1.0], cv=3, n_jobs=2, **TIGHT).fit(
            _chunked(X, 100), _chunked(y, 100), sample_weight=_chunked(w, 100))
        addresses = set(client.scheduler_info()["workers"])
    keys = [str(task["key"]) for task in stream.data]
    for name in ("_memberships", "_block_pass", "_accuracy_sums"):
        assert any(name in key for key in keys), name
    workers = {task["worker"] for task in stream.data if "_block_pass" in str(task["key"])}
    assert workers == addresses  # both workers computed blocks' sums
    reference = LogisticRegressionCV(Cs=[0.05, 1.0], cv=3, **TIGHT).fit(X, y, sample_weight=w)
    _assert_same(fitted, reference)
