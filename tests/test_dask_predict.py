"""Predictions and scores on Dask arrays: lazy Dask arrays with X's row chunks, equal to the
in-memory results, computed without bringing X to the client."""

import numpy as np
import pytest

from fastl1 import ElasticNet, Lasso, LassoCV, LogisticRegression, LogisticRegressionCV

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def _data(seed=0, n=500, p=7):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) + rng.uniform(-1, 1, p)
    y = X[:, :3] @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(n)
    return X, y, rng.uniform(0.1, 2.0, n)


def _chunked(a, chunk=120):
    return da.from_array(a, chunks=(chunk,) + a.shape[1:])


def _lazy(result, X_dask, trailing=()):
    assert isinstance(result, da.Array)
    assert result.chunks[0] == X_dask.chunks[0]
    assert result.shape[1:] == trailing
    return result.compute()


@pytest.mark.parametrize("labels", ["binary", "strings"])
def test_classifier_methods_are_lazy_and_equal_in_memory(labels):
    X, y, w = _data()
    if labels == "binary":
        target = (y > 0).astype(int)
    else:
        target = np.array(["low", "mid", "top"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    model = LogisticRegression(C=0.5).fit(X, target)
    Xd = _chunked(X)
    n_classes = model.classes_.shape[0]
    trailing = () if n_classes == 2 else (n_classes,)
    np.testing.assert_allclose(_lazy(model.decision_function(Xd), Xd, trailing),
                               model.decision_function(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_lazy(model.predict_proba(Xd), Xd, (n_classes,)),
                               model.predict_proba(X), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_lazy(model.predict_log_proba(Xd), Xd, (n_classes,)),
                               model.predict_log_proba(X), rtol=1e-12, atol=1e-12)
    predicted = model.predict(Xd)
    assert predicted.dtype == model.predict(X).dtype
    np.testing.assert_array_equal(_lazy(predicted, Xd), model.predict(X))
    score = model.score(Xd, _chunked(target), sample_weight=w)
    assert isinstance(score, da.Array) and score.ndim == 0
    assert float(score) == pytest.approx(model.score(X, target, sample_weight=w), rel=1e-12)
    assert float(model.score(Xd, target)) == pytest.approx(model.score(X, target), rel=1e-12)


@pytest.mark.parametrize("model", [Lasso(alpha=0.05), LassoCV(cv=3)])
def test_regressor_predict_and_score(model):
    X, y, w = _data(1)
    model.fit(X, y)
    Xd = _chunked(X)
    np.testing.assert_allclose(_lazy(model.predict(Xd), Xd), model.predict(X), rtol=1e-12)
    for weights in (None, w, _chunked(w, 100)):
        score = model.score(Xd, _chunked(y), sample_weight=weights)
        assert isinstance(score, da.Array)
        assert float(score) == pytest.approx(
            model.score(X, y, sample_weight=None if weights is None else w), rel=1e-10)


def test_several_targets_and_constant_targets():
    X, y, _ = _data(2)
    Y = np.column_stack([y, 2.0 * X[:, 1] - y])
    model = ElasticNet(alpha=0.1).fit(X, Y)
    Xd = _chunked(X)
    np.testing.assert_allclose(_lazy(model.predict(Xd), Xd, (2,)), model.predict(X),
                               rtol=1e-12)
    assert float(model.score(Xd, Y)) == pytest.approx(model.score(X, Y), rel=1e-10)
    # scikit-learn's r2 of a constant target: 1.0 if predicted exactly, else 0.0.
    constant = np.full(X.shape[0], 3.0)
    flat = Lasso(alpha=1.0).fit(X, constant)
    assert float(flat.score(Xd, constant)) == flat.score(X, constant) == 1.0


def test_predictions_follow_the_fit_they_were_made_from():
    # The lazy result holds a copy of the fitted model: refitting changes nothing in it.
    X, y, _ = _data(3)
    model = Lasso(alpha=0.05).fit(X, y)
    expected = model.predict(X)
    lazy = model.predict(_chunked(X))
    model.fit(X, -y)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12)


def test_predict_does_not_materialise_x(monkeypatch):
    X, y, _ = _data(4, n=3000)
    model = LogisticRegression(C=0.5).fit(X, y > 0)
    Xd = _chunked(X, 400)
    expected = model.predict_proba(X)

    def refuse(self, *args, **kwargs):
        raise AssertionError("a Dask array was converted to NumPy on the client")

    monkeypatch.setattr(da.Array, "__array__", refuse)
    lazy = model.predict_proba(Xd)
    (computed,) = dask.compute(lazy)
    monkeypatch.undo()
    np.testing.assert_allclose(computed, expected, rtol=1e-12, atol=1e-15)


def test_column_chunks_and_wrong_widths():
    X, y, _ = _data(5)
    model = Lasso(alpha=0.05).fit(X, y)
    by_columns = da.from_array(X, chunks=(100, 3))
    np.testing.assert_allclose(model.predict(by_columns).compute(), model.predict(X),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="7 features"):
        model.predict(_chunked(X[:, :5]))
    with pytest.raises(ValueError, match="rows"):
        model.score(_chunked(X), y[:-1])


def test_dask_dataframe_names_are_checked():
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y, _ = _data(6)
    frame = pd.DataFrame(X, columns=[f"g{j}" for j in range(X.shape[1])])
    model = Lasso(alpha=0.05).fit(frame, y)
    lazy = model.predict(dd.from_pandas(frame, npartitions=3))
    np.testing.assert_allclose(lazy.compute(), model.predict(frame), rtol=1e-12)
    with pytest.raises(ValueError, match="feature names"):
        model.predict(dd.from_pandas(frame[frame.columns[::-1]], npartitions=3))


def test_logistic_cross_validation_predicts_blockwise():
    X, y, _ = _data(7)
    labels = np.array(["a", "b", "c"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    model = LogisticRegressionCV(Cs=[0.01, 0.1, 1.0], cv=3).fit(X, labels)
    Xd = _chunked(X)
    np.testing.assert_array_equal(_lazy(model.predict(Xd), Xd), model.predict(X))
    np.testing.assert_allclose(_lazy(model.predict_proba(Xd), Xd, (3,)),
                               model.predict_proba(X), rtol=1e-12, atol=1e-15)
