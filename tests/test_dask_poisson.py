"""Poisson regression on Dask arrays chunked by rows: the in-memory coefficients (to 1e-8
relative) from the blockwise proximal Newton, offsets as Dask arrays, X never on the
client, and clear refusals."""

import os
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastl1 import CoxRegression, PoissonRegression, PoissonRegressionCV, poisson_path

from .dask_support import chunked, da, dask, synchronous  # noqa: F401 (autouse fixture)
from .dask_support import close as _close

# The in-memory solver's certificate at tol 1e-10 leaves ~1e-8 of relative error on an
# elastic-net fit: both fits are asked for the optimum to rounding.
TIGHT = {"tol": 1e-14, "max_iter": 100_000}



def _counts(seed=0, n=600, p=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 1.5, p) + rng.uniform(-1, 1, p)
    offset = rng.uniform(-0.5, 0.5, n)
    y = rng.poisson(np.exp(0.4 * X[:, 0] - 0.3 * X[:, 1] + 0.2 + offset)).astype(np.float64)
    return X, y, rng.uniform(0.0, 2.0, n), offset


def _chunked(a, chunk=150):
    return chunked(a, chunk)



def _assert_same_fit(fitted, reference):
    _close(fitted.coef_, reference.coef_)
    assert fitted.intercept_ == pytest.approx(reference.intercept_, rel=1e-8, abs=1e-12)
    assert fitted.coef_.dtype == reference.coef_.dtype
    assert isinstance(fitted.intercept_, float)
    assert fitted.dual_gap_ <= 1e-12


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("extras", [None, "numpy", "dask"])
@pytest.mark.parametrize("params", [{"alpha": 0.05}, {"alpha": 0.06, "l1_ratio": 0.5}])
def test_fits_match_in_memory(params, extras, fit_intercept):
    X, y, w, offset = _counts()
    fit_kw = {} if extras is None else {"sample_weight": w, "offset": offset}
    dask_kw = {} if extras != "dask" else \
        {"sample_weight": _chunked(w, 100), "offset": _chunked(offset, 200)}  # other chunks
    if extras == "numpy":
        dask_kw = fit_kw
    model = PoissonRegression(**params, fit_intercept=fit_intercept, **TIGHT)
    reference = PoissonRegression(**model.get_params()).fit(X, y, **fit_kw)
    fitted = model.fit(_chunked(X), _chunked(y), **dask_kw)
    _assert_same_fit(fitted, reference)
    if fit_intercept:  # the L1 penalty is active
        assert np.count_nonzero(fitted.coef_) < X.shape[1]
    assert fitted.n_features_in_ == X.shape[1]
    assert fitted.n_newton_ >= 1


def test_path_float32_warm_start_and_predictions():
    X, y, w, offset = _counts(1)
    reference = poisson_path(X, y, alphas=4, sample_weight=w, offset=offset, **TIGHT)
    fitted = poisson_path(_chunked(X), _chunked(y), alphas=4, sample_weight=_chunked(w),
                          offset=_chunked(offset), **TIGHT)
    _close(fitted[0], reference[0], 1e-12)  # the grid from alpha_max
    _close(fitted[1], reference[1])
    _close(fitted[2], reference[2])
    # A float32 design: float32 coefficients (the in-memory float64 fit of the same values
    # as the reference: an in-memory float32 fit stops at float32's precision).
    X32 = X.astype(np.float32)
    reference = PoissonRegression(alpha=0.02, **TIGHT).fit(X32.astype(np.float64), y)
    model = PoissonRegression(alpha=0.02, warm_start=True, **TIGHT)
    model.fit(_chunked(X32), y)
    assert model.coef_.dtype == np.float32
    _close(model.coef_, reference.coef_.astype(np.float32), 1e-7)
    passes = model.n_iter_
    model.fit(_chunked(X32), y)  # starts at its solution
    assert model.n_iter_ <= passes
    predictions = model.predict(_chunked(X32))
    assert isinstance(predictions, da.Array)
    np.testing.assert_allclose(predictions.compute(), model.predict(X32), rtol=1e-12)


def test_the_client_never_materialises_x(monkeypatch):
    X, y, w, offset = _counts(2, n=4000, p=5)
    sizes = []

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was converted to NumPy on the client")

    def scheduler(graph, keys, **kwargs):
        result = dask.get(graph, keys, **kwargs)
        sizes.append(sum(np.asarray(v).nbytes for v in _leaves(result)))
        return result

    monkeypatch.setattr(da.Array, "__array__", refuse)
    with dask.config.set(scheduler=scheduler):
        fitted = PoissonRegression(alpha=0.01).fit(_chunked(X, 500), _chunked(y, 500),
                                                   sample_weight=_chunked(w, 500),
                                                   offset=_chunked(offset, 500))
    assert 3 <= len(sizes) < 80 and max(sizes) < X.nbytes / 50, sizes
    monkeypatch.undo()
    reference = PoissonRegression(alpha=0.01).fit(X, y, sample_weight=w, offset=offset)
    _close(fitted.coef_, reference.coef_, 1e-3)


def _leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield value


def test_refusals_name_the_problem():
    X, y, w, offset = _counts(3, n=200)
    Xd = _chunked(X, 50)
    bad = y.copy()
    bad[7] = -1.0
    with pytest.raises(ValueError, match="non-negative y"):
        PoissonRegression().fit(Xd, _chunked(bad, 50))
    bad[7] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        PoissonRegression().fit(Xd, bad)
    with pytest.raises(ValueError, match="y is zero for every sample"):
        PoissonRegression().fit(Xd, np.zeros(200))
    bad_offset = offset.copy()
    bad_offset[3] = np.inf
    with pytest.raises(ValueError, match="offset contains NaN"):
        PoissonRegression().fit(Xd, y, offset=_chunked(bad_offset, 50))
    with pytest.raises(ValueError, match="offset has shape"):
        PoissonRegression().fit(Xd, y, offset=offset[:-1])
    with pytest.raises(ValueError, match="sample_weight must hold"):
        PoissonRegression().fit(Xd, y, sample_weight=_chunked(w - 1.0, 50))
    with pytest.raises(ValueError, match="sample_weight must hold"):
        PoissonRegression().fit(Xd, y, sample_weight=2.0)
    X_nan = X.copy()
    X_nan[5, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        PoissonRegression().fit(_chunked(X_nan, 50), y)
    with pytest.raises(ValueError, match="penalty_factor"):
        PoissonRegression(penalty_factor=np.ones(X.shape[1])).fit(Xd, y)
    with pytest.raises(ValueError, match=r"rechunk\(\{1: -1\}\)"):
        PoissonRegression().fit(da.from_array(X, chunks=(50, 3)), y)
    with pytest.raises(ValueError, match="PoissonRegressionCV does not take Dask arrays"):
        PoissonRegressionCV().fit(Xd, y, offset=_chunked(offset, 50))
    # Cox's risk sets are not separable by rows: its fits keep refusing Dask input.
    with pytest.raises(ValueError, match="does not take Dask arrays"):
        CoxRegression().fit(Xd, np.c_[np.abs(y) + 1.0, np.ones(200)])


def test_convergence_warning():
    X, y, _, _ = _counts(4, n=300)
    with pytest.warns(ConvergenceWarning, match="Poisson regression .*Dask array"):
        PoissonRegression(alpha=1e-3, tol=1e-16, max_iter=1).fit(_chunked(X), y)


@pytest.mark.skipif(os.name == "nt", reason="process spawning")
def test_fit_on_a_local_cluster():
    distributed = pytest.importorskip("distributed")
    X, y, w, offset = _counts(5, n=400)
    with distributed.LocalCluster(processes=True, n_workers=2, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            dask.config.set(scheduler=client), \
            distributed.get_task_stream(client) as stream, warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fitted = PoissonRegression(alpha=0.02, **TIGHT).fit(
            _chunked(X, 100), _chunked(y, 100), sample_weight=_chunked(w, 100),
            offset=_chunked(offset, 100))
        addresses = set(client.scheduler_info()["workers"])
    workers = {task["worker"] for task in stream.data if "_block_pass" in str(task["key"])}
    assert workers == addresses  # both workers computed blocks' sums
    reference = PoissonRegression(alpha=0.02, **TIGHT).fit(X, y, sample_weight=w,
                                                           offset=offset)
    _assert_same_fit(fitted, reference)
