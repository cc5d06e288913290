"""Property-based tests (hypothesis) of Lasso / ElasticNet on small random problems.

Each example draws the problem's structure (shape, density, column offsets, intercept, sample
weights, l1_ratio) and a seed for its values, and ``alpha`` as a fraction of ``alpha_max``.
The properties are the optimality conditions, invariances of the objective (sparse layout,
scaling, sample repetition, column permutation) and the duality-gap stopping rule.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from fastl1 import ElasticNet
from fastl1._solver import alpha_max, make_problem

from .conftest import objective

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-12
MAX_ITER = 20_000  # converged fits here take < 1000 epochs


@dataclass
class Case:
    X: np.ndarray  # dense float64, C-ordered
    y: np.ndarray
    sample_weight: np.ndarray | None
    fit_intercept: bool
    l1_ratio: float
    alpha: float
    alpha_max: float

    @property
    def n(self):
        return self.X.shape[0]

    def params(self, **overrides):
        params = dict(alpha=self.alpha, l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept,
                      tol=TOL, max_iter=MAX_ITER)
        params.update(overrides)
        return params

    def weights(self):
        """Weights rescaled to sum to n (ones when unweighted)."""
        sw = np.ones(self.n) if self.sample_weight is None else self.sample_weight
        return sw * (self.n / sw.sum())


def _alpha_max(X, y, sample_weight, fit_intercept, l1_ratio, positive=False):
    """``max_j |x_j,c^T S y_c| / (n l1_ratio)`` in plain numpy (only positive correlations
    with ``positive``), checked against :func:`fastl1._solver.alpha_max`."""
    n = X.shape[0]
    sw = np.ones(n) if sample_weight is None else sample_weight * (n / sample_weight.sum())
    Xc = X - np.average(X, axis=0, weights=sw) if fit_intercept else X
    yc = y - np.average(y, weights=sw) if fit_intercept else y
    corr = Xc.T @ (sw * yc)
    top = max(corr.max(), 0.0) if positive else np.abs(corr).max()
    expected = top / (n * l1_ratio)
    problem = make_problem(np.asarray(X, dtype=np.float64), sample_weight, fit_intercept)
    y_centred, _ = problem.centre_target(np.asarray(y, dtype=np.float64))
    assert alpha_max(problem, y_centred, l1_ratio, positive) == pytest.approx(
        expected, rel=1e-12, abs=1e-300)
    return expected


@st.composite
def cases(draw, l1_ratio=None, alpha_fraction=None, positive=False, weighted=None,
          max_p=40):
    n = draw(st.integers(3, 30), label="n")
    p = draw(st.integers(1, max_p), label="p")
    seed = draw(st.integers(0, 2**32 - 1), label="seed")
    density = draw(st.sampled_from([1.0, 0.6, 0.2]), label="density")
    offset = draw(st.sampled_from([0.0, 3.0]), label="column offset")
    fit_intercept = draw(st.booleans(), label="fit_intercept")
    if weighted is None:
        weighted = draw(st.booleans(), label="weighted")
    if l1_ratio is None:
        l1_ratio = draw(st.sampled_from([1.0, 0.7, 0.3]), label="l1_ratio")
    if alpha_fraction is None:
        alpha_fraction = draw(st.floats(0.05, 0.95), label="alpha / alpha_max")

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + offset * rng.random(p)
    X[rng.random((n, p)) > density] = 0.0
    coef = np.where(rng.random(p) < 0.3, rng.uniform(-3, 3, p), 0.0)
    y = X @ coef + rng.standard_normal(n) + 2.0
    sample_weight = None
    if weighted:
        sample_weight = rng.uniform(0.1, 3.0, n)
        sample_weight[rng.random(n) < 0.15] = 0.0  # some zero weights
        if np.count_nonzero(sample_weight) < 2:
            sample_weight[:2] = 1.0
    amax = _alpha_max(X, y, sample_weight, fit_intercept, l1_ratio, positive)
    if amax == 0:  # every column zero (or constant, with intercept): add a random column
        X[:, 0] = rng.standard_normal(n)
        amax = _alpha_max(X, y, sample_weight, fit_intercept, l1_ratio, positive)
    if amax == 0:  # with positive=True: no feature correlates positively with y
        y = -y
        amax = _alpha_max(X, y, sample_weight, fit_intercept, l1_ratio, positive)
    assert amax > 0
    return Case(X, y, sample_weight, fit_intercept, l1_ratio, alpha_fraction * amax, amax)


def _fit(case, X=None, y=None, sample_weight="case", **overrides):
    """Fit ElasticNet on the case (or on replacement X / y / weights); must converge."""
    X = case.X if X is None else X
    y = case.y if y is None else y
    sw = case.sample_weight if isinstance(sample_weight, str) else sample_weight
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return ElasticNet(**case.params(**overrides)).fit(X, y, sample_weight=sw)


def _coef_atol(case):
    """Absolute tolerance for comparing two solutions of the case (at tol=1e-12)."""
    return 1e-8 * max(1.0, np.abs(case.y).max())


def _assert_same_solution(a, b, case, factor=1.0):
    atol = factor * _coef_atol(case)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-8, atol=atol)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-8, atol=atol)


# --------------------------------------------------------------------------------------------
# (a) optimality (KKT) conditions


def _kkt_terms(case, model):
    """Return ``g = X_c^T S r / n - alpha (1 - l1_ratio) w`` and the per-feature tolerance.

    At the optimum: ``g_j = alpha l1_ratio sign(w_j)`` for ``w_j != 0`` and
    ``|g_j| <= alpha l1_ratio`` for ``w_j == 0``. The tolerance is derived from ``tol``:

    * any ``w`` with duality gap ``G`` satisfies ``P(w) - P* >= 1/(2n) ||X_c (w - w*)||_S^2
      + alpha (1 - l1_ratio)/2 ||w - w*||^2``, so by Cauchy-Schwarz ``|g_j(w) - g_j(w*)|
      <= ||x_j,c||_S sqrt(2G/n) + sqrt(2G alpha (1 - l1_ratio))``; this bounds the violation
      of ``|g_j| <= alpha l1_ratio`` for every j.
    * the equality for ``w_j != 0`` holds exactly right after coordinate j's update; the later
      updates of the last epoch (each ``|dw_k| <= tol * max|w|``, the stopping rule) move
      ``g_j`` by at most ``||x_j,c||_S sum_k ||x_k,c||_S tol max|w| / n``.
    """
    X, y, n = case.X, case.y, case.n
    sw = case.weights()
    x_mean = np.average(X, axis=0, weights=sw) if case.fit_intercept else np.zeros(X.shape[1])
    Xc = X - x_mean
    w = model.coef_
    r = y - X @ w - model.intercept_
    l2 = case.alpha * (1 - case.l1_ratio)
    g = Xc.T @ (sw * r) / n - l2 * w
    col_norms = np.sqrt(sw @ Xc**2)
    gap = max(model.dual_gap_, 0.0)
    eps_gap = col_norms * np.sqrt(2 * gap / n) + np.sqrt(2 * gap * l2)
    eps_cd = col_norms * col_norms.sum() * TOL * np.abs(w).max(initial=0.0) / n
    # floating-point floor: a relative 1e-10 of the largest possible |g_j|
    y_c = y - (np.average(y, weights=sw) if case.fit_intercept else 0.0)
    eps_fp = 1e-10 * col_norms * np.sqrt(sw @ y_c**2) / n + 1e-14
    return g, eps_gap + eps_fp, eps_cd + eps_gap + eps_fp


def _assert_kkt(case, model, positive=False):
    g, eps_zero, eps_nonzero = _kkt_terms(case, model)
    lam = case.alpha * case.l1_ratio
    w = model.coef_
    nz = w != 0
    if positive:
        assert np.all(w >= 0)
        assert np.all(g[~nz] <= lam + eps_zero[~nz]), (g[~nz] - lam, eps_zero[~nz])
    else:
        assert np.all(np.abs(g) <= lam + eps_zero), (np.abs(g) - lam, eps_zero)
    violation = np.abs(g[nz] - lam * np.sign(w[nz]))
    assert np.all(violation <= eps_nonzero[nz]), (violation, eps_nonzero[nz])
    if case.fit_intercept:  # the intercept's condition: weighted residuals sum to zero
        r = case.y - case.X @ w - model.intercept_
        assert abs(case.weights() @ r) / case.n <= 1e-10 * max(1.0, np.abs(case.y).max())


@SETTINGS
@given(case=cases(), precompute=st.booleans())
def test_kkt_conditions_hold(case, precompute):
    model = _fit(case, precompute=precompute)
    assert model.n_iter_ < MAX_ITER
    _assert_kkt(case, model)


@SETTINGS
@given(case=cases(positive=True), precompute=st.booleans())
def test_kkt_conditions_hold_with_positive(case, precompute):
    model = _fit(case, positive=True, precompute=precompute)
    _assert_kkt(case, model, positive=True)


def test_kkt_check_detects_a_wrong_solution():
    """The KKT check itself fails on a perturbed solution (guards against a vacuous test)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 6))
    y = X[:, 0] * 2 + rng.standard_normal(20)
    amax = _alpha_max(X, y, None, True, 1.0)
    case = Case(X, y, None, True, 1.0, 0.2 * amax, amax)
    model = _fit(case)
    _assert_kkt(case, model)
    model.coef_ = model.coef_ * (1 + 1e-6)
    with pytest.raises(AssertionError):
        _assert_kkt(case, model)


# --------------------------------------------------------------------------------------------
# (b) layouts


@SETTINGS
@given(case=cases())
def test_dense_csc_csr_give_the_same_solution(case):
    dense = _fit(case)
    for fmt in (sp.csc_matrix, sp.csr_matrix, sp.csc_array, np.asfortranarray):
        _assert_same_solution(_fit(case, X=fmt(case.X)), dense, case)


# --------------------------------------------------------------------------------------------
# (c) scaling


@SETTINGS
@given(case=cases(), c=st.sampled_from([0.01, 0.3, 2.0, 7.5, 100.0]))
def test_scaling_y(case, c):
    """``(X, c y)`` with ``alpha' l1_ratio' = c alpha l1_ratio`` and ``alpha' (1 - l1_ratio')
    = alpha (1 - l1_ratio)`` has solution ``c w`` (for Lasso: ``alpha' = c alpha``): the
    objective in ``v = w / c`` is ``c^2`` times the original one."""
    base = _fit(case)
    l1 = c * case.alpha * case.l1_ratio
    l2 = case.alpha * (1 - case.l1_ratio)
    scaled = _fit(case, y=c * case.y, alpha=l1 + l2, l1_ratio=l1 / (l1 + l2))
    np.testing.assert_allclose(scaled.coef_, c * base.coef_, rtol=1e-7,
                               atol=c * _coef_atol(case))
    np.testing.assert_allclose(scaled.intercept_, c * base.intercept_, rtol=1e-7,
                               atol=c * _coef_atol(case))


@SETTINGS
@given(case=cases(l1_ratio=1.0), c=st.sampled_from([0.01, 0.3, 2.0, 7.5, 100.0]))
def test_scaling_x_lasso(case, c):
    """Lasso on ``(c X, y)`` with ``alpha c`` has solution ``w / c``, same intercept:
    ``1/(2n)||y - c X v||^2 + c alpha ||v||_1`` at ``v = w / c`` is the original objective."""
    base = _fit(case)
    scaled = _fit(case, X=c * case.X, alpha=c * case.alpha)
    np.testing.assert_allclose(scaled.coef_, base.coef_ / c, rtol=1e-7,
                               atol=_coef_atol(case) / c)
    np.testing.assert_allclose(scaled.intercept_, base.intercept_, rtol=1e-7,
                               atol=_coef_atol(case))


@SETTINGS
@given(case=cases(), c=st.sampled_from([0.01, 0.3, 2.0, 7.5, 100.0]))
def test_scaling_x_elastic_net(case, c):
    """ElasticNet on ``(c X, y)``: ``alpha' l1_ratio' = c alpha l1_ratio`` and
    ``alpha' (1 - l1_ratio') = c^2 alpha (1 - l1_ratio)`` give ``w / c``."""
    base = _fit(case)
    l1 = c * case.alpha * case.l1_ratio
    l2 = c**2 * case.alpha * (1 - case.l1_ratio)
    scaled = _fit(case, X=c * case.X, alpha=l1 + l2, l1_ratio=l1 / (l1 + l2))
    np.testing.assert_allclose(scaled.coef_, base.coef_ / c, rtol=1e-7,
                               atol=_coef_atol(case) / c)
    np.testing.assert_allclose(scaled.intercept_, base.intercept_, rtol=1e-7,
                               atol=_coef_atol(case))


# --------------------------------------------------------------------------------------------
# (d) sample weights versus repetition


@SETTINGS
@given(case=cases(weighted=False), sparse=st.booleans())
def test_duplicating_samples_equals_weight_two_equals_unweighted(case, sparse):
    fmt = sp.csc_matrix if sparse else np.asarray
    plain = _fit(case, X=fmt(case.X))
    doubled = _fit(case, X=fmt(np.vstack([case.X, case.X])), y=np.r_[case.y, case.y])
    weight_two = _fit(case, X=fmt(case.X), sample_weight=np.full(case.n, 2.0))
    _assert_same_solution(doubled, plain, case)
    _assert_same_solution(weight_two, plain, case)


@SETTINGS
@given(case=cases(weighted=False), repeats_seed=st.integers(0, 2**32 - 1),
       sparse=st.booleans())
def test_integer_weights_equal_row_repetition(case, repeats_seed, sparse):
    fmt = sp.csr_matrix if sparse else np.asarray
    repeats = np.random.default_rng(repeats_seed).integers(0, 4, case.n)
    repeats[np.argmax(repeats)] = 3  # at least one sample kept
    weighted = _fit(case, X=fmt(case.X), sample_weight=repeats)
    repeated = _fit(case, X=fmt(np.repeat(case.X, repeats, axis=0)),
                    y=np.repeat(case.y, repeats), sample_weight=None)
    _assert_same_solution(weighted, repeated, case)


# --------------------------------------------------------------------------------------------
# (e) above alpha_max


@SETTINGS
@given(case=cases(alpha_fraction=1.0), factor=st.floats(1.0, 10.0), sparse=st.booleans())
def test_alpha_above_alpha_max_gives_zero_coef_and_mean_intercept(case, factor, sparse):
    X = sp.csc_matrix(case.X) if sparse else case.X
    model = _fit(case, X=X, alpha=factor * case.alpha_max, tol=1e-4)
    np.testing.assert_array_equal(model.coef_, np.zeros(case.X.shape[1]))
    expected = np.average(case.y, weights=case.weights()) if case.fit_intercept else 0.0
    assert model.intercept_ == pytest.approx(expected, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(model.predict(X), np.full(case.n, expected), rtol=1e-12)


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_alpha_exactly_alpha_max_gives_zero_coef(fmt, weighted, l1_ratio):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((10, 4)) + 1.0
    y = X @ [1.0, 0, -2.0, 0] + 0.3
    sw = rng.uniform(0.5, 2, 10) if weighted else None
    amax = _alpha_max(X, y, sw, True, l1_ratio)
    Xf = {"dense": np.asarray, "csc": sp.csc_matrix, "csr": sp.csr_matrix}[fmt](X)
    at = ElasticNet(alpha=amax, l1_ratio=l1_ratio, tol=1e-12).fit(Xf, y, sample_weight=sw)
    np.testing.assert_array_equal(at.coef_, np.zeros(4))
    assert at.intercept_ == pytest.approx(np.average(y, weights=sw), rel=1e-12)
    below = ElasticNet(alpha=amax * (1 - 1e-3), l1_ratio=l1_ratio, tol=1e-12).fit(
        Xf, y, sample_weight=sw)
    assert np.count_nonzero(below.coef_) == 1


@SETTINGS
@given(case=cases(alpha_fraction=0.9))
def test_alpha_just_below_alpha_max_gives_non_zero_coef(case):
    model = _fit(case)
    assert np.count_nonzero(model.coef_) >= 1


# --------------------------------------------------------------------------------------------
# (f) the duality gap and the stopping rule


@SETTINGS
@given(case=cases(), tol=st.sampled_from([1e-2, 1e-4, 1e-6, 1e-9]),
       max_iter=st.sampled_from([1, 2, 5, 1000]),
       fmt=st.sampled_from(["dense", "csc"]), precompute=st.booleans())
def test_dual_gap_below_tol_unless_convergence_warning(case, tol, max_iter, fmt, precompute):
    X = sp.csc_matrix(case.X) if fmt == "csc" else case.X
    model = ElasticNet(**case.params(tol=tol, max_iter=max_iter, precompute=precompute))
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model.fit(X, case.y, sample_weight=case.sample_weight)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in record)
    sw = case.weights()
    y_c = case.y - (np.average(case.y, weights=sw) if case.fit_intercept else 0.0)
    bound = tol * (sw @ y_c**2) / case.n
    assert model.dual_gap_ >= -1e-12 * (sw @ y_c**2) / case.n
    if warned:
        assert model.n_iter_ == max_iter
        assert model.dual_gap_ > bound
    else:
        assert model.dual_gap_ <= bound
        assert model.n_iter_ <= max_iter

    # dual_gap_ is a certificate: no point has an objective lower by more than the gap.
    reference = _fit(case)
    f = objective(case.X, case.y, model.coef_, model.intercept_, case.alpha, case.l1_ratio,
                  case.sample_weight)
    f_ref = objective(case.X, case.y, reference.coef_, reference.intercept_, case.alpha,
                      case.l1_ratio, case.sample_weight)
    assert f - f_ref <= model.dual_gap_ * (1 + 1e-6) + 1e-12 * max(1.0, f_ref)


# --------------------------------------------------------------------------------------------
# (g) column permutation


@SETTINGS
@given(case=cases(), perm_seed=st.integers(0, 2**32 - 1), sparse=st.booleans())
def test_permuting_columns_permutes_coef(case, perm_seed, sparse):
    perm = np.random.default_rng(perm_seed).permutation(case.X.shape[1])
    fmt = sp.csc_matrix if sparse else np.asarray
    base = _fit(case, X=fmt(case.X))
    permuted = _fit(case, X=fmt(case.X[:, perm]))
    np.testing.assert_allclose(permuted.coef_, base.coef_[perm], rtol=1e-8,
                               atol=_coef_atol(case))
    np.testing.assert_allclose(permuted.intercept_, base.intercept_, rtol=1e-8,
                               atol=_coef_atol(case))
