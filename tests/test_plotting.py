"""The plots render (to files, with the Agg backend) from paths, CV models and selectors."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastl1 import ElasticNetCV, LassoCV, StabilitySelection, lasso_path  # noqa: E402
from fastl1.plotting import plot_cv, plot_path, plot_stability  # noqa: E402

from .conftest import make_regression  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _rendered(ax, path):
    ax.figure.savefig(path)
    return path.stat().st_size > 1000


def test_plot_path_from_lasso_path(tmp_path):
    X, y = make_regression(seed=40)
    alphas, coefs, _ = lasso_path(X, y, alphas=20)
    ax = plot_path((alphas, coefs), max_labels=3)
    drawn = np.count_nonzero(np.any(coefs != 0, axis=1))
    assert len(ax.get_lines()) == drawn + 1  # one line per feature that enters, plus y=0
    assert len(ax.get_legend().get_texts()) == 3
    assert _rendered(ax, tmp_path / "path.png")


def test_plot_path_and_cv_from_a_cv_model(tmp_path):
    X, y = make_regression(seed=41)
    model = ElasticNetCV(l1_ratio=[0.5, 1.0], alphas=15, cv=3).fit(X, y)
    ax = plot_path(model)
    labels = [t.get_text().split(" =")[0] for t in ax.get_legend().get_texts()]
    assert "alpha_min" in labels and "alpha_1se" in labels
    assert _rendered(ax, tmp_path / "path_cv.png")
    ax = plot_cv(model)
    assert ax.get_xlabel() == "log10(alpha)"
    assert _rendered(ax, tmp_path / "cv.png")
    ax = plot_cv(LassoCV(alphas=10, cv=3).fit(X, y))
    assert _rendered(ax, tmp_path / "cv_lasso.png")


def test_plot_stability(tmp_path):
    X, y = make_regression(n=60, p=30, seed=42)
    selector = StabilitySelection(n_resamples=5, alphas=8, random_state=0).fit(X, y)
    ax = plot_stability(selector, feature_names=[f"gene{j}" for j in range(30)])
    assert "threshold" in ax.get_legend().get_texts()[-1].get_text()
    assert _rendered(ax, tmp_path / "stability.png")


def test_plot_path_shape_mismatch():
    with pytest.raises(ValueError, match="solutions"):
        plot_path((np.ones(3), np.ones((4, 2))))
