"""Tests for fastl1.penalty (L1 / elastic-net penalty helpers)."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastl1.penalty import (
    elastic_net_penalty,
    l1_penalty,
    l1_subgradient,
    prox_elastic_net,
    soft_threshold,
)

# Hypothesis settings: no deadline (first NumPy calls can be slow), fixed budget.
# Derandomized (fixed examples for a given test) like tests/test_properties.py: a CI run must not
# depend on the draw.
HYP = settings(deadline=None, max_examples=100, derandomize=True, database=None)

SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
FINITE = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
THRESHOLDS = st.floats(0.0, 1e3, allow_nan=False, allow_infinity=False)


def f64_arrays(elements=FINITE, shape=SHAPES):
    return hnp.arrays(np.float64, shape, elements=elements)


def weight_lists(min_size=0):
    return st.lists(
        f64_arrays(shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)),
        min_size=min_size,
        max_size=4,
    )


def _assert_l1_optimality(x, z, l1, l2=0.0):
    """Check 0 in z - x + l2 * z + l1 * d|z| (optimality of the elastic-net prox)."""
    x = np.asarray(x, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64)
    residual = x - z - l2 * z
    nz = z != 0
    tol = 1e-9 * (1.0 + np.abs(x[nz]) + l1)
    # Off zero, the subdifferential of |z| is {sign(z)}.
    np.testing.assert_array_less(np.abs(residual[nz] - l1 * np.sign(z[nz])), tol)
    # At zero, it is [-1, 1]: |x| <= l1, unless (|x| - l1) / (1 + l2) underflows to zero.
    underflow = (1.0 + l2) * np.finfo(np.float64).smallest_subnormal
    assert np.all(np.abs(x[~nz]) <= l1 * (1 + 1e-12) + underflow)


# --------------------------------------------------------------------------- soft_threshold


def test_soft_threshold_known_values():
    x = np.array([-3.0, -1.0, -0.25, 0.0, 0.25, 1.0, 3.0])
    out = soft_threshold(x, 1.0)
    np.testing.assert_array_equal(out, [-2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    # Thresholded entries are +0.0, never -0.0.
    assert not np.any(np.signbit(out[1:6]))


def test_soft_threshold_matches_sign_formula():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 7)) * 3
    t = 1.3
    expected = np.sign(x) * np.maximum(np.abs(x) - t, 0.0)
    np.testing.assert_array_equal(soft_threshold(x, t), expected)


@HYP
@given(x=f64_arrays(), t=THRESHOLDS)
def test_soft_threshold_optimality_condition(x, t):
    z = soft_threshold(x, t)
    _assert_l1_optimality(x, z, t)


@HYP
@given(
    x=st.floats(-5.0, 5.0, allow_nan=False),
    t=st.floats(0.0, 3.0, allow_nan=False),
)
def test_soft_threshold_minimises_objective_on_grid(x, t):
    def objective(z):
        return 0.5 * (z - x) ** 2 + t * np.abs(z)

    z = float(soft_threshold(x, t))
    grid = np.linspace(-6.0, 6.0, 24001)
    assert objective(z) <= objective(grid).min() + 1e-12
    # And no small perturbation does better.
    deltas = np.array([-1e-3, -1e-6, 1e-6, 1e-3])
    assert np.all(objective(z) <= objective(z + deltas) + 1e-15)


@HYP
@given(
    x=f64_arrays(elements=st.floats(allow_nan=True, allow_infinity=True)),
)
def test_soft_threshold_zero_is_identity(x):
    out = soft_threshold(x, 0.0)
    np.testing.assert_array_equal(out, x)  # NaNs compare equal here; -0.0 == 0.0
    assert np.asarray(out).dtype == x.dtype
    nonzero = np.asarray(x != 0)
    np.testing.assert_array_equal(np.signbit(out)[nonzero], np.signbit(x)[nonzero])


@HYP
@given(x=f64_arrays(), t=THRESHOLDS, t2=THRESHOLDS)
def test_soft_threshold_shrinks_and_keeps_sign(x, t, t2):
    z = np.asarray(soft_threshold(x, t))
    assert np.all(np.abs(z) <= np.abs(x))
    assert np.all(z * x >= 0)
    nz = z != 0
    np.testing.assert_array_equal(np.sign(z[nz]), np.sign(x[nz]))
    # A larger threshold shrinks at least as much.
    lo, hi = sorted((t, t2))
    assert np.all(np.abs(soft_threshold(x, hi)) <= np.abs(soft_threshold(x, lo)))


NONEXP_SHAPE = st.shared(SHAPES, key="nonexpansive")


@HYP
@given(x=f64_arrays(shape=NONEXP_SHAPE), y=f64_arrays(shape=NONEXP_SHAPE), t=THRESHOLDS)
def test_soft_threshold_is_nonexpansive(x, y, t):
    diff = np.abs(soft_threshold(x, t) - soft_threshold(y, t))
    assert np.all(diff <= np.abs(x - y) * (1 + 1e-12) + 1e-9)


@HYP
@given(
    x=hnp.arrays(
        st.sampled_from([np.float16, np.float32, np.float64]),
        SHAPES,
        elements=st.floats(-100, 100, width=16),
    ),
    t=st.floats(0.0, 10.0, width=16),
)
def test_soft_threshold_preserves_shape_and_dtype(x, t):
    out = np.asarray(soft_threshold(x, t))
    assert out.shape == x.shape
    assert out.dtype == x.dtype


def test_soft_threshold_float32_with_float64_threshold_array():
    x = np.array([[1.0, -3.0], [0.2, 5.0]], dtype=np.float32)
    out = soft_threshold(x, np.array([0.5, 1.0], dtype=np.float64))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[0.5, -2.0], [0.0, 4.0]], dtype=np.float32))
    out = soft_threshold(x, np.float64(1.0))
    assert out.dtype == np.float32


def test_soft_threshold_integer_input_promoted_to_float64():
    out = soft_threshold(np.array([-3, 1, 4]), 2)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [-1.0, 0.0, 2.0])
    out = soft_threshold([True, False], 0.5)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.5, 0.0])


def test_soft_threshold_scalar_returns_numpy_scalar():
    out = soft_threshold(-2.5, 1.0)
    assert not isinstance(out, np.ndarray)
    assert isinstance(out, np.floating)
    assert out == -1.5
    out32 = soft_threshold(np.float32(3.0), 1.0)
    assert isinstance(out32, np.float32)
    assert out32 == 2.0


def test_soft_threshold_list_input_is_array_like():
    np.testing.assert_array_equal(
        soft_threshold([[2.0, -2.0], [0.5, 0.0]], 1.0), [[1, -1], [0, 0]]
    )


@HYP
@given(x=f64_arrays(), t=THRESHOLDS)
def test_soft_threshold_does_not_modify_input(x, t):
    original = x.copy()
    out = soft_threshold(x, t)
    np.testing.assert_array_equal(x, original)
    assert not np.shares_memory(out, x)


def test_soft_threshold_zero_threshold_returns_copy():
    x = np.array([1.0, -2.0])
    out = soft_threshold(x, 0.0)
    out[0] = 99.0
    assert x[0] == 1.0


def test_soft_threshold_per_column_threshold():
    x = np.array([[1.0, 1.0, -1.0], [3.0, -3.0, 3.0]])
    t = np.array([0.5, 2.0, 0.0])
    expected = np.array([[0.5, 0.0, -1.0], [2.5, -1.0, 3.0]])
    np.testing.assert_array_equal(soft_threshold(x, t), expected)


def test_soft_threshold_infinite_threshold_and_nan_input():
    out = soft_threshold(np.array([1e300, -5.0, np.nan]), np.inf)
    np.testing.assert_array_equal(out[:2], [0.0, 0.0])
    assert np.isnan(out[2])
    out = soft_threshold(np.array([np.nan, np.inf, -np.inf]), 1.0)
    assert np.isnan(out[0])
    assert out[1] == np.inf
    assert out[2] == -np.inf


@pytest.mark.parametrize(
    "threshold, match",
    [
        (-0.1, "non-negative"),
        (np.array([0.5, -1.0]), "non-negative"),
        (np.nan, "NaN"),
        (np.array([0.5, np.nan]), "NaN"),
        (np.array([0.5, 1.0, 2.0]), "broadcastable"),
        (np.ones((3, 2)), "broadcastable"),
    ],
)
def test_soft_threshold_invalid_threshold(threshold, match):
    with pytest.raises(ValueError, match=match):
        soft_threshold(np.zeros(2), threshold)


def test_soft_threshold_threshold_larger_than_scalar_x():
    with pytest.raises(ValueError, match="broadcastable"):
        soft_threshold(1.0, np.array([0.5, 1.0]))


@pytest.mark.parametrize(
    "x",
    [
        "abc",
        b"abc",
        ["a", "b"],
        np.array(["1.0", "2.0"]),
        np.array([1.0, None], dtype=object),
        np.array([1 + 2j]),
        None,
        {"w": 1.0},
        [[1.0, 2.0], [3.0]],  # ragged
    ],
)
def test_soft_threshold_non_numeric_x_raises_type_error(x):
    with pytest.raises(TypeError, match="x"):
        soft_threshold(x, 1.0)


@pytest.mark.parametrize("threshold", ["1.0", None, np.array([1j])])
def test_soft_threshold_non_numeric_threshold_raises_type_error(threshold):
    with pytest.raises(TypeError, match="threshold"):
        soft_threshold(np.ones(2), threshold)


# ------------------------------------------------------------------------------- l1_penalty


def test_l1_penalty_known_values():
    w = np.array([[1.0, -2.0], [0.0, 0.5]])
    result = l1_penalty(w)
    assert type(result) is float
    assert result == 3.5
    assert l1_penalty(w, alpha=0.5) == 1.75
    assert l1_penalty(w, alpha=0.0) == 0.0
    assert l1_penalty(-4.0) == 4.0
    assert l1_penalty(np.array([-3, 2], dtype=np.int8)) == 5.0


def test_l1_penalty_integer_extremes_do_not_overflow():
    w = np.array([np.iinfo(np.int64).min, -1], dtype=np.int64)
    assert l1_penalty(w) == pytest.approx(2.0**63 + 1)


def test_l1_penalty_list_and_tuple_of_arrays():
    layers = [np.array([[1.0, -1.0], [0.0, 2.0]]), np.array([-0.5]), np.float32(1.5)]
    assert l1_penalty(layers) == 6.0
    assert l1_penalty(tuple(layers), alpha=2.0) == 12.0
    assert l1_penalty([]) == 0.0
    # A list of lists is a list of arrays (one level of nesting).
    assert l1_penalty([[1.0, -2.0], [3.0]]) == 6.0


@HYP
@given(ws=weight_lists(), alpha=st.floats(0.0, 10.0))
def test_l1_penalty_list_equals_concatenation(ws, alpha):
    flat = np.concatenate([w.ravel() for w in ws]) if ws else np.zeros(0)
    expected = alpha * np.abs(flat).sum()
    assert l1_penalty(ws, alpha=alpha) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    assert l1_penalty(flat, alpha=alpha) == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_l1_penalty_float32_accumulates_in_float64():
    w = np.full(10**6, 0.1, dtype=np.float32)
    expected = float(np.float32(0.1)) * 10**6
    assert l1_penalty(w) == pytest.approx(expected, rel=1e-12)


def test_l1_penalty_non_finite_weights_propagate():
    assert np.isnan(l1_penalty(np.array([1.0, np.nan])))
    assert l1_penalty([np.array([1.0]), np.array([-np.inf])]) == np.inf


@pytest.mark.parametrize("alpha", [-1.0, -1e-12, np.nan, np.inf])
def test_l1_penalty_invalid_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        l1_penalty(np.ones(3), alpha=alpha)


@pytest.mark.parametrize("alpha", ["1.0", None, np.array([1.0, 2.0])])
def test_l1_penalty_non_scalar_alpha(alpha):
    with pytest.raises(TypeError, match="alpha"):
        l1_penalty(np.ones(3), alpha=alpha)


@pytest.mark.parametrize(
    "weights, match",
    [
        ("abc", "weights"),
        ([np.ones(2), "abc"], r"weights\[1\]"),
        ([np.ones(2), [np.ones(2), np.ones(3)]], r"weights\[1\]"),  # nested too deep
        ([np.array(["x"])], r"weights\[0\]"),
        (np.array([1j]), "weights"),
    ],
)
def test_l1_penalty_non_numeric_raises_type_error(weights, match):
    with pytest.raises(TypeError, match=match):
        l1_penalty(weights)


# --------------------------------------------------------------------------- l1_subgradient


def test_l1_subgradient_values_and_dtype():
    w = np.array([[-2.0, 0.0], [-0.0, 3.0]], dtype=np.float32)
    g = l1_subgradient(w)
    assert isinstance(g, np.ndarray)
    assert g.dtype == np.float32
    assert g.shape == w.shape
    np.testing.assert_array_equal(g, [[-1.0, 0.0], [0.0, 1.0]])
    assert not np.any(np.signbit(g[w == 0]))


def test_l1_subgradient_integer_and_scalar_input():
    g = l1_subgradient(np.array([-5, 0, 7]))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [-1.0, 0.0, 1.0])
    s = l1_subgradient(-3.0)
    assert isinstance(s, np.floating)
    assert s == -1.0


def test_l1_subgradient_list_returns_list():
    ws = [np.array([0.5, -0.5]), np.array([[0.0]], dtype=np.float32)]
    gs = l1_subgradient(ws)
    assert isinstance(gs, list)
    assert len(gs) == 2
    np.testing.assert_array_equal(gs[0], [1.0, -1.0])
    assert gs[1].shape == (1, 1)
    assert gs[1].dtype == np.float32
    assert gs[1][0, 0] == 0.0
    assert isinstance(l1_subgradient(tuple(ws)), list)
    assert l1_subgradient([]) == []


def test_l1_subgradient_nan_and_no_modification():
    w = np.array([np.nan, -np.inf, 2.0])
    original = w.copy()
    g = l1_subgradient(w)
    assert np.isnan(g[0])
    np.testing.assert_array_equal(g[1:], [-1.0, 1.0])
    np.testing.assert_array_equal(w, original)


@HYP
@given(w=f64_arrays())
def test_l1_subgradient_is_a_subgradient(w):
    g = l1_subgradient(w)
    assert np.all(np.abs(g) <= 1)
    # <g, w> = ||w||_1 and ||g||_inf <= 1 characterise the subdifferential of the L1 norm.
    assert float(np.sum(g * w)) == pytest.approx(float(np.abs(w).sum()), rel=1e-12)
    # Minimum norm: zero exactly where w is zero.
    np.testing.assert_array_equal(g == 0, w == 0)


def test_l1_subgradient_non_numeric():
    with pytest.raises(TypeError, match="w"):
        l1_subgradient(["a", "b"])
    with pytest.raises(TypeError, match=r"w\[0\]"):
        l1_subgradient([np.array(["a"])])


# ---------------------------------------------------------------------- elastic_net_penalty


def test_elastic_net_penalty_known_values():
    w = np.array([3.0, -4.0])
    # l1 = 7, l2^2 = 25
    assert elastic_net_penalty(w) == 0.5 * 7 + 0.25 * 25
    assert elastic_net_penalty(w, alpha=2.0, l1_ratio=0.0) == 25.0
    assert elastic_net_penalty(w, alpha=2.0, l1_ratio=1.0) == 14.0
    assert elastic_net_penalty(w, alpha=0.1, l1_ratio=0.3) == pytest.approx(
        0.1 * (0.3 * 7 + 0.35 * 25), rel=1e-15
    )
    assert type(elastic_net_penalty(w)) is float


def test_elastic_net_penalty_matches_sklearn_objective():
    # sklearn's ElasticNet objective is 1/(2n)||y - Xw||^2 + this penalty.
    from sklearn.linear_model import ElasticNet

    rng = np.random.default_rng(42)
    X = rng.standard_normal((30, 5))
    y = X @ np.array([1.0, 0.0, -2.0, 0.0, 0.5]) + 0.1 * rng.standard_normal(30)
    alpha, l1_ratio = 0.1, 0.7
    model = ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=False, tol=1e-12).fit(X, y)

    def objective(w):
        resid = y - X @ w
        return resid @ resid / (2 * len(y)) + elastic_net_penalty(w, alpha, l1_ratio)

    best = objective(model.coef_)
    rng2 = np.random.default_rng(1)
    for _ in range(20):
        assert best <= objective(model.coef_ + 1e-3 * rng2.standard_normal(5))


@HYP
@given(ws=weight_lists(), alpha=st.floats(0.0, 10.0), l1_ratio=st.floats(0.0, 1.0))
def test_elastic_net_penalty_list_equals_concatenation(ws, alpha, l1_ratio):
    flat = np.concatenate([w.ravel() for w in ws]) if ws else np.zeros(0)
    expected = alpha * (l1_ratio * np.abs(flat).sum() + (1 - l1_ratio) / 2 * np.sum(flat**2))
    result = elastic_net_penalty(ws, alpha=alpha, l1_ratio=l1_ratio)
    assert result == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert elastic_net_penalty(flat, alpha=alpha, l1_ratio=l1_ratio) == pytest.approx(
        expected, rel=1e-10, abs=1e-12
    )


@HYP
@given(ws=weight_lists(), alpha=st.floats(0.0, 10.0))
def test_elastic_net_penalty_l1_ratio_one_equals_l1_penalty(ws, alpha):
    assert elastic_net_penalty(ws, alpha=alpha, l1_ratio=1.0) == l1_penalty(ws, alpha=alpha)


def test_elastic_net_penalty_l1_ratio_one_with_huge_weights_is_finite():
    # The (zero-weighted) squared L2 term would overflow; it must not turn into nan.
    w = np.array([1e200, -1e200])
    assert elastic_net_penalty(w, l1_ratio=1.0) == l1_penalty(w) == 2e200


def test_elastic_net_penalty_non_finite_weights_propagate():
    assert np.isnan(elastic_net_penalty(np.array([np.nan, 1.0])))
    assert elastic_net_penalty([np.array([np.inf])], l1_ratio=0.2) == np.inf


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"l1_ratio": -0.1}, "l1_ratio"),
        ({"l1_ratio": 1.1}, "l1_ratio"),
        ({"l1_ratio": np.nan}, "l1_ratio"),
    ],
)
def test_elastic_net_penalty_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        elastic_net_penalty(np.ones(2), **kwargs)


def test_elastic_net_penalty_non_numeric():
    with pytest.raises(TypeError, match="weights"):
        elastic_net_penalty("abc")
    with pytest.raises(TypeError, match="l1_ratio"):
        elastic_net_penalty(np.ones(2), l1_ratio="0.5")


# ------------------------------------------------------------------------- prox_elastic_net


def test_prox_elastic_net_known_values():
    x = np.array([-3.0, 0.5, 2.0])
    np.testing.assert_array_equal(prox_elastic_net(x, alpha=1.0), [-2.0, 0.0, 1.0])
    # step*alpha*l1_ratio = 1, denominator 1 + 2*1*0.5 = 2
    np.testing.assert_array_equal(
        prox_elastic_net(x, alpha=1.0, l1_ratio=0.5, step=2.0), [-1.0, 0.0, 0.5]
    )
    # pure ridge: x / (1 + step * alpha)
    np.testing.assert_allclose(prox_elastic_net(x, alpha=3.0, l1_ratio=0.0), x / 4, rtol=1e-15)


@HYP
@given(
    x=f64_arrays(),
    alpha=st.floats(0.0, 100.0),
    l1_ratio=st.floats(0.0, 1.0),
    step=st.floats(0.0, 10.0),
)
# The smallest subnormal halves to zero under pure ridge: found by hypothesis in CI.
@example(x=np.array(5e-324), alpha=1.0, l1_ratio=0.0, step=1.0)
def test_prox_elastic_net_optimality_condition(x, alpha, l1_ratio, step):
    z = prox_elastic_net(x, alpha, l1_ratio=l1_ratio, step=step)
    l1 = step * alpha * l1_ratio
    l2 = step * alpha * (1 - l1_ratio)
    _assert_l1_optimality(x, z, l1, l2)


@HYP
@given(
    x=st.floats(-5.0, 5.0),
    alpha=st.floats(0.0, 3.0),
    l1_ratio=st.floats(0.0, 1.0),
    step=st.floats(0.0, 2.0),
)
def test_prox_elastic_net_minimises_objective_on_grid(x, alpha, l1_ratio, step):
    def objective(z):
        penalty = alpha * (l1_ratio * np.abs(z) + (1 - l1_ratio) / 2 * z**2)
        return 0.5 * (z - x) ** 2 + step * penalty

    z = float(prox_elastic_net(x, alpha, l1_ratio, step))
    # The closed-form objective above agrees with elastic_net_penalty ...
    assert objective(z) == pytest.approx(
        0.5 * (z - x) ** 2 + step * elastic_net_penalty(z, alpha, l1_ratio), rel=1e-12, abs=1e-15
    )
    # ... and z beats every point of a fine grid.
    grid = np.linspace(-6.0, 6.0, 24001)
    assert objective(z) <= objective(grid).min() + 1e-12


@HYP
@given(x=f64_arrays(), alpha=st.floats(0.0, 100.0), step=st.floats(0.0, 10.0))
def test_prox_elastic_net_l1_ratio_one_is_soft_threshold(x, alpha, step):
    np.testing.assert_array_equal(
        prox_elastic_net(x, alpha, l1_ratio=1.0, step=step), soft_threshold(x, step * alpha)
    )


def test_prox_elastic_net_step_zero_is_identity_copy():
    x = np.array([1.5, -2.0, 0.0])
    out = prox_elastic_net(x, alpha=5.0, l1_ratio=0.3, step=0.0)
    np.testing.assert_array_equal(out, x)
    assert not np.shares_memory(out, x)


def test_prox_elastic_net_dtype_shape_scalar_and_no_modification():
    x = np.array([[4.0, -1.0], [0.1, -6.0]], dtype=np.float32)
    original = x.copy()
    out = prox_elastic_net(x, alpha=1.0, l1_ratio=0.5, step=1.0)
    assert out.dtype == np.float32
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[3.5 / 1.5, -0.5 / 1.5], [0.0, -5.5 / 1.5]], rtol=1e-6)
    np.testing.assert_array_equal(x, original)
    s = prox_elastic_net(np.float32(4.0), alpha=1.0, l1_ratio=0.5)
    assert isinstance(s, np.float32)
    assert s == pytest.approx(3.5 / 1.5, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": -0.5}, "alpha"),
        ({"alpha": 1.0, "l1_ratio": 1.5}, "l1_ratio"),
        ({"alpha": 1.0, "l1_ratio": -0.5}, "l1_ratio"),
        ({"alpha": 1.0, "step": -1.0}, "step"),
        ({"alpha": 1.0, "step": np.inf}, "step"),
    ],
)
def test_prox_elastic_net_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        prox_elastic_net(np.ones(2), **kwargs)


def test_prox_elastic_net_non_numeric():
    with pytest.raises(TypeError, match="x"):
        prox_elastic_net(["a"], alpha=1.0)
    with pytest.raises(TypeError, match="alpha"):
        prox_elastic_net(np.ones(2), alpha="1")
