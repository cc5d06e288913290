"""Logistic fits on Dask arrays chunked by rows: the in-memory coefficients (to 1e-8
relative) from passes over the row blocks that never bring X to the client."""

import os
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastl1 import LogisticRegression
from fastl1.logistic_cv import l1_logistic_path

from .dask_support import chunked, da, dask, synchronous  # noqa: F401 (autouse fixture)
from .dask_support import close as _close

TIGHT = {"tol": 1e-10, "max_iter": 1000}



def _binary(seed=0, n=900, p=12):
    rng = np.random.default_rng(seed)
    # Columns of unequal scales and non-zero means: the intercept matters.
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.uniform(-2, 2, p)
    beta = np.r_[1.5, -2.0, 1.0, np.zeros(p - 3)]
    y = (X @ beta + 0.3 + rng.standard_normal(n) > 0).astype(np.int64)
    return X, y, rng.uniform(0.0, 2.0, n)


def _multiclass(seed=1, n=800, p=10):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    y = np.array(["ant", "bee", "cat"])[np.argmax(X[:, :3] + 0.5 * rng.standard_normal((n, 3)),
                                                  axis=1)]
    return X, y, rng.uniform(0.5, 1.5, n)


def _chunked(a, chunk=200):
    return chunked(a, chunk)



def _assert_same_fit(fitted, reference, same_iterations=True):
    _close(fitted.coef_, reference.coef_)
    _close(fitted.intercept_, reference.intercept_ if np.any(reference.intercept_) else 0.0)
    np.testing.assert_array_equal(fitted.classes_, reference.classes_)
    assert fitted.coef_.dtype == reference.coef_.dtype
    if same_iterations:  # the same steps: the same certificate at the end
        assert fitted.n_iter_ == reference.n_iter_
        assert fitted.dual_gap_ == pytest.approx(reference.dual_gap_, rel=0.5, abs=1e-14)
    else:  # both certified (tol 1e-10: gap below 1e-12 of an objective below 1)
        assert fitted.dual_gap_ <= 1e-12


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", [None, "numpy", "dask"])
@pytest.mark.parametrize("params", [{"C": 0.1}, {"C": 0.05, "l1_ratio": 0.5}])
def test_binary_fits_match_in_memory(params, weights, fit_intercept):
    X, y, w = _binary()
    fit_kw = {} if weights is None else {"sample_weight": w}
    dask_kw = {} if weights is None else \
        {"sample_weight": w if weights == "numpy" else _chunked(w, 150)}  # other chunks
    model = LogisticRegression(**params, fit_intercept=fit_intercept, **TIGHT)
    reference = LogisticRegression(**model.get_params()).fit(X, y, **fit_kw)
    fitted = model.fit(_chunked(X), _chunked(y), **dask_kw)
    _assert_same_fit(fitted, reference)
    assert np.count_nonzero(fitted.coef_) < X.shape[1]  # the L1 penalty is active
    assert fitted.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0, 1: 0.5}])
def test_class_weights_and_a_number_as_sample_weight(class_weight):
    X, y, w = _binary(2)
    model = LogisticRegression(C=0.2, class_weight=class_weight, **TIGHT)
    reference = LogisticRegression(**model.get_params()).fit(X, y, sample_weight=w)
    # (the in-memory line search also takes steps just past the minimum along a direction,
    # the blockwise one does not: the same solution, not always the same last step)
    _assert_same_fit(model.fit(_chunked(X), _chunked(y), sample_weight=_chunked(w)),
                     reference, same_iterations=False)
    # A number weighs every sample alike: 2.0 is twice C (not the unweighted fit).
    reference = LogisticRegression(C=0.2, class_weight=class_weight, **TIGHT).fit(
        X, y, sample_weight=2.0)
    _assert_same_fit(model.fit(_chunked(X), y, sample_weight=2.0), reference,
                     same_iterations=False)


@pytest.mark.parametrize("weighted", [False, True])
def test_multinomial_with_string_labels(weighted):
    X, y, w = _multiclass()
    fit_kw = {"sample_weight": w} if weighted else {}
    model = LogisticRegression(C=0.1, l1_ratio=0.8, **TIGHT)
    reference = LogisticRegression(**model.get_params()).fit(X, y, **fit_kw)
    fitted = model.fit(_chunked(X, 250), _chunked(y, 250),
                       **({"sample_weight": _chunked(w, 250)} if weighted else {}))
    assert fitted.coef_.shape == (3, X.shape[1])
    # The exact multinomial Hessian takes fewer Newton steps than the kernels' per-class one.
    _assert_same_fit(fitted, reference, same_iterations=False)
    assert fitted.n_iter_ <= reference.n_iter_


def test_per_class_model_of_many_classes_takes_the_kernels_steps(monkeypatch):
    # Above its size limit the exact multinomial Hessian gives way to the kernels' per-class
    # (block-diagonal) model: the same Newton steps as in memory.
    from fastl1 import _dask_logistic_blocks

    monkeypatch.setattr(_dask_logistic_blocks, "_EXACT_MULTINOMIAL", 0)
    X, y, _ = _multiclass(12)
    model = LogisticRegression(C=0.1, fit_intercept=False, **TIGHT)
    reference = LogisticRegression(**model.get_params()).fit(X, y)
    _assert_same_fit(model.fit(_chunked(X, 250), y), reference)


def test_wide_problem_uses_working_sets():
    # More features than a first working set holds (100): the sets grow from the support.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 250))
    y = (X[:, :5].sum(axis=1) + rng.standard_normal(300) > 0).astype(int)
    for C in (0.05, 1.0):
        reference = LogisticRegression(C=C, **TIGHT).fit(X, y)
        _assert_same_fit(LogisticRegression(C=C, **TIGHT).fit(_chunked(X, 70), y), reference)
    labels = np.argmax(X[:, :3] + 0.5 * rng.standard_normal((300, 3)), axis=1)
    reference = LogisticRegression(C=0.05, **TIGHT).fit(X, labels)
    _assert_same_fit(LogisticRegression(C=0.05, **TIGHT).fit(_chunked(X, 70), labels),
                     reference, same_iterations=False)


def test_float32_and_integer_designs():
    X, y, _ = _binary(4)
    X32 = X.astype(np.float32)
    reference = LogisticRegression(C=0.1, **TIGHT).fit(X32, y)
    fitted = LogisticRegression(C=0.1, **TIGHT).fit(_chunked(X32), _chunked(y))
    assert fitted.coef_.dtype == np.float32
    _assert_same_fit(fitted, reference)
    Xi = np.rint(X * 3).astype(np.int32)
    reference = LogisticRegression(C=0.1, **TIGHT).fit(Xi.astype(np.float64), y)
    _assert_same_fit(LogisticRegression(C=0.1, **TIGHT).fit(_chunked(Xi), y), reference)


def test_default_tolerance_and_warm_start():
    X, y, _ = _binary(5)
    reference = LogisticRegression(C=0.1).fit(X, y)
    fitted = LogisticRegression(C=0.1, warm_start=True).fit(_chunked(X), _chunked(y))
    assert fitted.n_iter_ == reference.n_iter_
    _close(fitted.coef_, reference.coef_, 1e-3)
    assert fitted.dual_gap_ <= 1e-6 * 1.0  # tol / 100 of an objective below one per sample
    fitted.fit(_chunked(X), _chunked(y))  # starts at its solution
    assert fitted.n_iter_[0] == 1


def test_path_matches_in_memory():
    X, y, w = _binary(6)
    Cs = [0.02, 0.1, 1.0]
    reference = l1_logistic_path(X, y, Cs=Cs, sample_weight=w, **TIGHT)
    fitted = l1_logistic_path(_chunked(X), _chunked(y), Cs=Cs, sample_weight=_chunked(w),
                              **TIGHT)
    np.testing.assert_array_equal(fitted[0], reference[0])
    _close(fitted[1], reference[1])
    _close(fitted[2], reference[2])
    # The in-memory path starts each point from the strong rule's working set: fewer
    # iterations than the blockwise fits, which start every point afresh; both converge.
    assert fitted[3].shape == reference[3].shape
    assert np.all(fitted[3] < TIGHT["max_iter"]) and np.all(reference[3] < TIGHT["max_iter"])


def test_convergence_warning_when_max_iter_is_reached():
    X, y, _ = _binary(7)
    with pytest.warns(ConvergenceWarning, match="Dask array"):
        LogisticRegression(C=10.0, tol=1e-12, max_iter=2).fit(_chunked(X), y)


class _RecordingScheduler:
    """A synchronous scheduler that records the size of every result it hands back."""

    def __init__(self):
        self.sizes = []

    def __call__(self, graph, keys, **kwargs):
        result = dask.get(graph, keys, **kwargs)
        self.sizes.append(_nbytes(result))
        return result


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 8


def test_the_client_never_materialises_x(monkeypatch):
    X, y, w = _binary(8, n=6000, p=6)

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was converted to NumPy on the client")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    scheduler = _RecordingScheduler()
    with dask.config.set(scheduler=scheduler):
        fitted = LogisticRegression(C=0.05, verbose=0).fit(
            _chunked(X, 500), _chunked(y, 500), sample_weight=_chunked(w, 500))
    # A pass for the labels, then a handful per Newton step: results of the coefficients'
    # size, never of the rows'.
    assert 3 <= len(scheduler.sizes) < 60, scheduler.sizes
    assert max(scheduler.sizes) < X.nbytes / 50, scheduler.sizes
    monkeypatch.undo()
    reference = LogisticRegression(C=0.05).fit(X, y, sample_weight=w)
    _close(fitted.coef_, reference.coef_, 1e-3)


def test_dask_dataframe_and_series():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = _binary(9)
    frame = pd.DataFrame(X, columns=[f"g{j}" for j in range(X.shape[1])])
    reference = LogisticRegression(C=0.1, **TIGHT).fit(frame, y)
    fitted = LogisticRegression(C=0.1, **TIGHT).fit(dd.from_pandas(frame, npartitions=3),
                                                    dd.from_pandas(pd.Series(y), npartitions=3))
    _close(fitted.coef_, reference.coef_)
    assert list(fitted.feature_names_in_) == list(frame.columns)


def test_refusals_name_the_problem():
    X, y, w = _binary(10)
    Xd = _chunked(X)
    X_nan = X.copy()
    X_nan[333, 2] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        LogisticRegression().fit(_chunked(X_nan), y)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(Xd, _chunked(np.zeros(X.shape[0], dtype=int)))
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(Xd, _chunked(np.linspace(0, 1, X.shape[0])))
    with pytest.raises(ValueError, match="Negative values"):
        LogisticRegression().fit(Xd, y, sample_weight=_chunked(w - 1.0))
    with pytest.raises(ValueError, match="shape"):
        LogisticRegression().fit(Xd, y[:-1])
    with pytest.raises(ValueError, match="prox_newton"):
        LogisticRegression(solver="fista").fit(Xd, y)
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        LogisticRegression().fit(da.from_array(X, chunks=(200, 5)), y)
    with pytest.raises(ValueError, match="penalty_factor"):
        LogisticRegression(penalty_factor=np.ones(X.shape[1])).fit(Xd, y)


@pytest.mark.skipif(os.name == "nt", reason="process spawning")
def test_fit_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    X, y, w = _multiclass(11, n=600)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            dask.config.set(scheduler=client), \
            distributed.get_task_stream(client) as stream, warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = LogisticRegression(C=0.2, **TIGHT).fit(_chunked(X, 100), _chunked(y, 100),
                                                         sample_weight=_chunked(w, 100))
        addresses = set(client.scheduler_info()["workers"])
    workers = {task["worker"] for task in stream.data if "_block_pass" in str(task["key"])}
    assert workers == addresses  # both workers computed blocks' sums
    reference = LogisticRegression(C=0.2, **TIGHT).fit(X, y, sample_weight=w)
    _assert_same_fit(fitted, reference, same_iterations=False)
