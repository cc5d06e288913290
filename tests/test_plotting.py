"""The plots render (to files, with the Agg backend) from paths, CV models and selectors."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fastl1 import ElasticNetCV, LassoCV, StabilitySelection, lasso_path  # noqa: E402
from fastl1.plotting import (  # noqa: E402
    plot_cv,
    plot_kaplan_meier,
    plot_path,
    plot_stability,
)

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


def _top_axis_labels(ax):
    tops = [child for child in ax.child_axes if type(child).__name__ == "SecondaryAxis"]
    assert len(tops) == 1, "no top axis with the number of non-zero coefficients"
    ax.figure.canvas.draw()
    return tops[0].get_xlabel(), [t.get_text() for t in tops[0].get_xticklabels()]


def test_plot_path_colours_scale_and_top_axis():
    X, y = make_regression(seed=43)
    alphas, coefs, _ = lasso_path(X, y, alphas=20)
    scale = np.linspace(0.5, 2.0, X.shape[1])
    ax = plot_path((alphas, coefs), scale=scale, max_labels=4)
    labelled = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    colours = [matplotlib.colors.to_hex(line.get_color()) for line in labelled]
    assert len(labelled) == 4 and len(set(colours)) == 4
    j = int(labelled[0].get_label()[1:])
    np.testing.assert_allclose(labelled[0].get_ydata(), coefs[j] / scale[j])
    assert ax.get_ylabel() == "coefficient (original scale)"
    title, labels = _top_axis_labels(ax)
    assert title == "non-zero coefficients"
    counts = {str(c) for c in np.count_nonzero(coefs, axis=0)}
    assert labels and set(labels) <= counts
    with pytest.raises(ValueError, match="scale"):
        plot_path((alphas, coefs), scale=scale[:-1])


def test_plot_cv_top_axis_and_c_grids():
    X, y = make_regression(seed=44)
    ax = plot_cv(LassoCV(alphas=10, cv=3).fit(X, y))
    assert _top_axis_labels(ax)[0] == "non-zero coefficients"
    grid = np.logspace(-2, 1, 6)
    scores = np.random.default_rng(0).uniform(0.4, 0.7, (6, 4))
    ax = plot_cv((grid, scores), parameter="C", measure="log-loss", marks={"C_min": grid[2]},
                 n_nonzero=[0, 1, 3, 5, 8, 9])
    assert ax.get_xlabel() == "log10(C)" and ax.get_ylabel() == "log-loss"
    assert not ax.xaxis_inverted()  # C grows to the right: the sparsest models on the left
    assert set(_top_axis_labels(ax)[1]) <= {"0", "1", "3", "5", "8", "9"}
    ax = plot_path((grid, np.outer(np.arange(3), np.log(grid / grid[0]))), parameter="C")
    assert ax.get_xlabel() == "log10(C)" and not ax.xaxis_inverted()


@pytest.mark.parametrize("legacy", [True, False])
def test_plot_cv_of_a_logistic_cv_model(legacy):
    from fastl1 import LogisticRegressionCV

    rng = np.random.default_rng(1)
    X = rng.standard_normal((90, 8))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(90) > 0).astype(int)
    model = LogisticRegressionCV(Cs=6, cv=3, use_legacy_attributes=legacy).fit(X, y)
    ax = plot_cv(model)
    assert ax.get_xlabel() == "log10(C)" and ax.get_ylabel() == "accuracy"
    assert len(ax.lines[0].get_xdata()) == 6


def test_plot_stability_over_c_for_a_logistic_base():
    from fastl1 import LogisticRegression

    rng = np.random.default_rng(2)
    X = rng.standard_normal((60, 10))
    y = (X[:, 0] + 0.3 * rng.standard_normal(60) > 0).astype(int)
    selector = StabilitySelection(LogisticRegression(), n_resamples=3, alphas=5,
                                  random_state=0).fit(X, y)
    ax = plot_stability(selector)
    assert ax.get_xlabel() == "log10(C)"


def test_plot_kaplan_meier_draws_steps_ticks_and_the_logrank_test(tmp_path):
    rng = np.random.default_rng(2)
    time = rng.exponential(1.0, 60)
    event = rng.random(60) < 0.7
    groups = np.where(np.arange(60) < 30, "high", "low")
    ax = plot_kaplan_meier(time, event, groups, labels={"high": "high risk"})
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts[0].startswith("high risk (n = 30") and texts[1].startswith("low (n = 30")
    assert texts[2].startswith("log-rank p = ")
    steps = [line for line in ax.get_lines() if line.get_drawstyle() == "steps-post"]
    assert len(steps) == 2
    assert steps[0].get_ydata()[0] == 1.0 and steps[0].get_xdata()[0] == 0.0
    ticks = [line for line in ax.get_lines() if line.get_marker() == "|"]
    n_censored = sum(np.unique(time[(groups == g) & ~event]).size for g in ("high", "low"))
    assert sum(line.get_xdata().size for line in ticks) == n_censored
    assert _rendered(ax, tmp_path / "km.png")
    single = plot_kaplan_meier(time, event)
    assert [t.get_text() for t in single.get_legend().get_texts()][0].startswith("all samples")
    with pytest.raises(ValueError, match="group labels"):
        plot_kaplan_meier(time, event, groups[:10])
