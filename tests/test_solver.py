"""The engine's paths (working sets, screening, Anderson, support sweeps, Gram) reach the same
certified solution; screening never discards a feature of the solution."""

import itertools
import types

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1._kernels.cd import design_epoch
from fastl1._kernels.design import (
    bounded_gradient,
    column_sq_norms,
    dense_norms_and_gradient,
    dense_norms_and_gradient_parallel,
    dense_update_then_dot,
    gradient,
    take_columns,
    weighted_sum,
)
from fastl1._kernels.penalty import plain_penalty
from fastl1._kernels.working_set import (
    FIRST_SET_SHARE,
    anderson_weights,
    gap_safe_screen,
    inverse_norms,
    kth_smallest,
    nonzero_entries,
    screen_and_score,
    select_working_set,
    violated_first_set,
    violations_inside,
    working_set_from_scores,
    working_set_growth,
)
from fastl1._solver import (
    GradientReference,
    alpha_max,
    kernel_array,
    make_problem,
    solve_enet,
)

from .conftest import duality_gap, make_regression

ENGINES = list(itertools.product([True, False], [True, False], [0, 5], [True, False]))


def _fit(X, y, alpha, l1_ratio=1.0, sample_weight=None, fit_intercept=True, positive=False,
         tol=1e-12, **engine):
    problem = make_problem(X, sample_weight, fit_intercept)
    yc, _ = problem.centre_target(y)
    coef = np.zeros(X.shape[1])
    result = solve_enet(problem, yc, coef, alpha, l1_ratio, positive=positive, tol=tol,
                        max_iter=200_000, **engine)
    return result


def _wide(seed=0, n=40, p=300):
    X, y = make_regression(n=n, p=p, density=0.3, n_informative=8, seed=seed)
    return X, y


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("positive", [False, True])
def test_every_engine_reaches_the_same_solution(fmt, weighted, positive):
    X, y = _wide(seed=1)
    sw = np.random.default_rng(3).uniform(0.3, 2.0, X.shape[0]) if weighted else None
    Xf = X if fmt == "dense" else sp.csc_matrix(X)
    problem = make_problem(X, sw, True)
    alpha = 0.05 * alpha_max(problem, problem.centre_target(y)[0], 0.8, positive)
    results = {}
    for working_sets, screening, anderson, support_sweeps in ENGINES:
        res = _fit(Xf, y, alpha, 0.8, sw, positive=positive, working_sets=working_sets,
                   screening=screening, anderson=anderson, support_sweeps=support_sweeps)
        results[(working_sets, screening, anderson, support_sweeps)] = res
        # The reported gap is the true gap of the full problem, below tol.
        true_gap = duality_gap(X, y, res.coef, alpha, 0.8, sw, positive=positive)
        np.testing.assert_allclose(res.dual_gap, true_gap, rtol=1e-4, atol=1e-11)
        assert true_gap <= 1e-12 * np.var(y) * 1.01 + 1e-15
    reference = results[(False, False, 0, False)].coef  # scikit-learn's algorithm
    assert np.count_nonzero(reference) > 5
    for key, res in results.items():
        np.testing.assert_allclose(res.coef, reference, rtol=1e-7, atol=1e-9, err_msg=str(key))


def test_working_sets_use_fewer_coordinate_updates_on_wide_data():
    X, y = _wide(seed=2, n=50, p=2000)
    problem = make_problem(X, None, True)
    alpha = 0.05 * alpha_max(problem, problem.centre_target(y)[0])
    plain = _fit(X, y, alpha, working_sets=False, screening=False, anderson=0,
                 support_sweeps=False)
    engine = _fit(X, y, alpha)
    np.testing.assert_allclose(engine.coef, plain.coef, rtol=1e-7, atol=1e-9)
    # The engine certified the full problem in a few rounds, not one per epoch.
    assert 1 < engine.n_outer < 30 and engine.n_outer < engine.n_iter
    assert plain.n_outer <= 2  # plain CD: one certified solve (plus the initial check)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # early stops
@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_gap_safe_screening_never_discards_the_solution(fmt, l1_ratio):
    X, y = _wide(seed=4)
    Xf = X if fmt == "dense" else sp.csc_matrix(X)
    problem = make_problem(Xf, None, True)
    yc, _ = problem.centre_target(y)
    n, p = X.shape
    alpha = 0.1 * alpha_max(problem, yc, l1_ratio)
    solution = _fit(Xf, y, alpha, l1_ratio).coef
    support = solution != 0
    l1, l2 = alpha * l1_ratio * n, alpha * (1 - l1_ratio) * n
    norms2 = np.empty(p)
    column_sq_norms(*problem.design, np.empty(0), float(n), problem.x_mean, norms2)
    # Screen from points along the way: zero, a crude solve, and a good one.
    for max_iter in [1, 3, 10, 50]:
        w = np.zeros(p)
        solve_enet(problem, yc, w, alpha, l1_ratio, tol=1e-12, max_iter=max_iter,
                   working_sets=False, screening=False, anderson=0) if max_iter > 1 else None
        Xc = X - X.mean(axis=0)
        r = yc - Xc @ w
        grad = Xc.T @ r
        primal = 0.5 * r @ r + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w
        dual_norm = np.abs(grad - l2 * w).max()
        scale = min(1.0, l1 / dual_norm)
        dual = -0.5 * scale**2 * (r @ r + l2 * w @ w) + scale * r @ yc
        active = norms2 > 0
        w_zero = np.where(support, w, 0.0) * 0.0  # screen as if every coefficient were 0
        kept = gap_safe_screen(w_zero, grad - l2 * (w - w_zero), norms2,
                               plain_penalty(l1, l2, p), primal - dual, dual_norm, active)
        assert kept == active.sum()
        assert np.all(active[support]), f"screened out a solution feature at max_iter={max_iter}"
    assert not np.all(active), "screening never discarded anything: the test is vacuous"


def test_working_set_selection_ranks_violations():
    p = 8
    w = np.zeros(p)
    w[6] = 0.5
    grad = np.array([0.1, 0.95, 0.3, -1.2, 0.0, 0.5, 0.2, 0.99])
    norms2 = np.ones(p)
    active = np.ones(p, dtype=bool)
    ws = select_working_set(w, grad, norms2, 1.0, 0.0, 1.2, False, active, 3)
    assert ws.tolist() == [3, 6, 7]  # the non-zero, then the largest |correlations|
    ws = select_working_set(w, grad, norms2, 1.0, 0.0, 1.2, True, active, 3)
    assert ws.tolist() == [1, 6, 7]  # positive: negative correlations cannot enter
    active[7] = False
    assert select_working_set(w, grad, norms2, 1.0, 0.0, 1.2, False, active, 3).tolist() == \
        [1, 3, 6]


def test_working_set_selection_ties_and_order():
    # ties at the threshold are taken in index order, and the set comes out sorted
    p = 10
    w = np.zeros(p)
    w[[8, 2]] = 1.0
    grad = np.array([0.5, 0.9, 0.0, 0.9, 0.1, 0.9, 0.2, 0.9, 0.0, 0.3])
    active = np.ones(p, dtype=bool)
    ws = select_working_set(w, grad, np.ones(p), 1.0, 0.0, 1.0, False, active, 4)
    assert ws.tolist() == [1, 2, 3, 8]  # support, then the first two of the four ties
    rng = np.random.default_rng(0)
    grad = rng.standard_normal(5000)
    w = np.where(rng.random(5000) < 0.05, 1.0, 0.0)
    ws = select_working_set(w, grad, np.ones(5000), 3.0, 0.0, 3.0, False,
                            np.ones(5000, dtype=bool), 600)
    assert np.all(np.diff(ws) > 0) and ws.shape == (600,)
    assert set(np.flatnonzero(w)) <= set(ws)
    rest = np.setdiff1d(np.arange(5000), ws)
    chosen_zero = np.setdiff1d(ws, np.flatnonzero(w))
    assert np.abs(grad[chosen_zero]).min() >= np.abs(grad[rest]).max()


@pytest.mark.parametrize("p", [1, 7, 64, 65, 300, 5000])
def test_kth_smallest_matches_partition(p):
    # both branches (heap for k <= p / 64, np.partition above), with ties and infinities
    rng = np.random.default_rng(p)
    for _ in range(40):
        values = np.round(rng.standard_normal(p), 1)
        values[rng.random(p) < 0.2] = np.inf
        values[rng.random(p) < 0.1] = -np.inf
        for k in {min(2, p), 1, max(1, p // 64), p // 64 + 1, max(1, p // 2), p}:
            assert kth_smallest(values, k) == np.partition(values, k - 1)[k - 1]


def test_working_set_growth():
    p = 10**5
    assert working_set_growth(50, 200, 1000, p) == 100  # not saturated: twice the support
    assert working_set_growth(180, 200, 1000, p) == 720  # saturated: four times ...
    assert working_set_growth(400, 500, 1000, p) == 1000  # ... but not past n_samples
    assert working_set_growth(600, 700, 1000, p) == 1200  # nor below twice the support
    assert working_set_growth(0, 10**6, 1000, p) == 0
    # Supports that are a sizeable share of the features (tall data) only double.
    assert working_set_growth(87, 106, 50000, 500) == 174
    assert working_set_growth(25, 30, 50000, 500) == 100


def test_violations_inside():
    scores = np.array([-np.inf, 0.0, 0.3, np.inf, -0.2])
    inside = np.array([True, True, False, False, True])
    assert violations_inside(scores, inside)  # 0.3 and inf: constraints that hold
    inside[4] = False
    assert not violations_inside(scores, inside)  # a violated constraint left out
    inside[4], inside[1] = True, False
    assert not violations_inside(scores, inside)  # a tight one too


def _scored(w, grad, norms2, l1_reg, positive=False):
    p = w.shape[0]
    active = np.ones(p, dtype=np.bool_)
    scores = np.empty(p)
    dual_norm = np.max(grad if positive else np.abs(grad))
    penalty = plain_penalty(l1_reg, 0.0, p, positive)
    n_active, support = screen_and_score(w, grad, inverse_norms(norms2, penalty), penalty,
                                         dual_norm, 0.0, False, active, scores)
    return active, scores, n_active, support


def test_the_violated_set_holds_every_violated_constraint_when_few():
    p = 200
    rng = np.random.default_rng(0)
    w = np.zeros(p)
    w[[3, 50]] = [0.5, -1.0]
    grad = rng.uniform(-0.9, 0.9, p)  # l1_reg = 1: constraints that hold ...
    violated = np.array([7, 20, 90, 91, 150, 199])  # ... and six that do not
    grad[violated] = [1.01, -1.5, 1.2, -3.0, 1.3, 1.05]
    norms2 = rng.uniform(0.5, 2.0, p)
    norms2[[0, 1, 2]] = 400.0  # long columns near the threshold rank first by distance
    grad[[0, 1, 2]] = 0.9
    active, scores, n_active, support = _scored(w, grad, norms2, 1.0)
    assert support == 2
    by_scores = working_set_from_scores(scores, n_active, 5)
    assert not set(violated) <= set(by_scores)  # the distance ranking leaves some out
    for size in (0, 5):
        ws = violated_first_set(w, grad, plain_penalty(1.0, 0.0, p), active, size)
        np.testing.assert_array_equal(ws, np.sort(np.r_[3, 50, violated]))
    # A set by scores large enough for them all, or too many of them: none (rank instead).
    for size in (8, 20):
        assert violated_first_set(w, grad, plain_penalty(1.0, 0.0, p), active,
                                  size).shape[0] == 0
    many = grad.copy()
    many[:int(FIRST_SET_SHARE * p) + 1] = 2.0
    assert violated_first_set(w, many, plain_penalty(1.0, 0.0, p), active, 0).shape[0] == 0
    # With positive, only positive correlations violate; inactive features never enter.
    active, scores, n_active, support = _scored(w, grad, norms2, 1.0, positive=True)
    active[199] = False
    ws = violated_first_set(w, grad, plain_penalty(1.0, 0.0, p, True), active, 3)
    np.testing.assert_array_equal(ws, [3, 7, 50, 90, 150])
    # Nothing violated and no support: none.
    assert violated_first_set(np.zeros(p), np.zeros(p), plain_penalty(1.0, 0.0, p),
                              np.ones(p, bool), 0).shape[0] == 0


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_few_violated_constraints_make_few_rounds(fmt):
    # The benchmark's sparse problem shrunk to 2000 x 10000 at alpha_max / 20: 5.5 % of the
    # constraints are violated at zero. Solved together, two more rounds certify the fit;
    # ranked by distance from a set of 100, it takes six.
    from fastl1.bench import make_bench_problem

    bench = make_bench_problem("sparse-csc-a20", scale=0.1)
    X = bench.X.asformat(fmt)
    y, alpha = bench.y, bench.alpha
    n, p = X.shape
    violated = np.sum(np.abs(X.T @ y) > alpha * n)
    assert 100 < violated <= FIRST_SET_SHARE * p
    result = solve_enet(make_problem(X, None, False, keep_csr=True), y, np.zeros(p), alpha,
                        1.0, tol=1e-10)
    assert result.n_outer <= 3
    assert duality_gap(X, y, result.coef, alpha, 1.0, fit_intercept=False) <= \
        1e-10 * (y @ y) / n * 1.01


@pytest.mark.parametrize(("n", "p", "density", "informative", "seed", "fraction", "tol",
                          "max_rounds"), [
    (80, 600, 1.0, 20, 3, 0.02, 1e-8, 6),  # 10 rounds when every set is solved to a fraction
    (200, 2000, 0.02, 30, 1, 0.01, 1e-12, 10),  # sparse: 17 rounds        of the gap
])
def test_a_settled_working_set_is_solved_to_tol_at_once(n, p, density, informative, seed,
                                                        fraction, tol, max_rounds):
    X, y = make_regression(n=n, p=p, density=density, n_informative=informative, seed=seed)
    problem = make_problem(X, None, True)
    alpha = fraction * alpha_max(problem, problem.centre_target(y)[0])
    engine = _fit(X, y, alpha, tol=tol)
    plain = _fit(X, y, alpha, working_sets=False, screening=False, anderson=0,
                 support_sweeps=False)
    np.testing.assert_allclose(engine.coef, plain.coef, rtol=1e-6, atol=1e-8)
    assert duality_gap(X, y, engine.coef, alpha, 1.0) <= tol * np.var(y) * 1.01
    assert engine.n_outer <= max_rounds


def test_anderson_weights_recover_the_limit_of_a_linear_iteration():
    # Iterates of x_{k+1} = A x_k + b converge slowly (eigenvalue 0.99) to
    # x* = (I - A)^{-1} b; extrapolating 6 iterates (K = 5 differences in R^4) recovers x*.
    rng = np.random.default_rng(0)
    A = np.diag([0.99, 0.2, 0.1, 0.05])
    b = rng.standard_normal(4)
    x = np.zeros(4)
    iterates = []
    for _ in range(6):
        iterates.append(x.copy())
        x = A @ x + b
    iterates = np.array(iterates)
    limit = np.linalg.solve(np.eye(4) - A, b)
    c = anderson_weights(iterates)
    assert c.shape == (5,)
    np.testing.assert_allclose(c.sum(), 1.0)
    assert np.linalg.norm(iterates[-1] - limit) > 1.0  # the plain iterates are far off
    np.testing.assert_allclose(c @ iterates[1:], limit, atol=1e-6)
    # Identical iterates: singular system, no extrapolation.
    assert anderson_weights(np.ones((6, 3))).shape == (0,)


def test_working_set_from_scores_takes_every_active_feature_when_it_must():
    rng = np.random.default_rng(12)
    scores = rng.uniform(0.0, 1.0, 500)
    scores[rng.choice(500, 40, replace=False)] = -np.inf  # the support
    scores[rng.choice(500, 300, replace=False)] = np.inf  # screened out
    active = np.flatnonzero(scores != np.inf)
    n_active = active.shape[0]
    for size in (n_active, n_active + 7):  # the fast path: no threshold
        np.testing.assert_array_equal(working_set_from_scores(scores, n_active, size), active)
    smaller = working_set_from_scores(scores, n_active, n_active - 1)  # the general path
    dropped = active[np.argmax(scores[active])]  # the one farthest from entering goes
    np.testing.assert_array_equal(smaller, active[active != dropped])

@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_bounded_gradient_is_exact_where_it_matters(fmt, positive, weighted):
    X, y = _wide(seed=7)
    n, p = X.shape
    sw = np.random.default_rng(8).uniform(0.5, 2.0, n) if weighted else None
    problem = make_problem(X if fmt == "dense" else sp.csc_matrix(X), sw, True)
    sw_n = problem.weights_or_ones
    Xc = X - problem.x_mean
    yc, _ = problem.centre_target(y)
    norms = np.sqrt(problem.column_norms2())
    rng = np.random.default_rng(9)
    w_ref = np.zeros(p)
    w_ref[rng.choice(p, 5, replace=False)] = rng.standard_normal(5)
    w = w_ref.copy()
    w[rng.choice(p, 3, replace=False)] += 0.05 * rng.standard_normal(3)
    grad_ref, r_ref = np.zeros(p), np.zeros(n)
    grad = np.zeros(p)
    # First call: no reference, so everything is computed and becomes the reference.
    r0 = yc - Xc @ w_ref
    stored0 = r0 if fmt == "dense" else r0 - problem.x_mean @ w_ref  # sparse: uncentred form
    l1 = 0.5 * np.abs(Xc.T @ (sw_n * r0)).max()
    _, count = bounded_gradient(*problem.design, problem.sample_weight, problem.x_mean,
                                stored0, float(sw_n @ stored0), r0[0] - stored0[0], w_ref,
                                norms, plain_penalty(l1, 0.0, p, positive), grad_ref, r_ref,
                                False, grad,
                                np.zeros(0, dtype=bool), False)
    assert count == p
    np.testing.assert_allclose(grad_ref, Xc.T @ (sw_n * r0), atol=1e-10)
    # Second call from a nearby point: exact where computed, an upper bound elsewhere.
    r1 = yc - Xc @ w
    stored1 = r1 if fmt == "dense" else r1 - problem.x_mean @ w
    _, count = bounded_gradient(*problem.design, problem.sample_weight, problem.x_mean,
                                stored1, float(sw_n @ stored1), r1[0] - stored1[0], w, norms,
                                plain_penalty(l1, 0.0, p, positive), grad_ref, r_ref, True,
                                grad,
                                np.zeros(0, dtype=bool), False)
    exact = Xc.T @ (sw_n * r1)
    signed = exact if positive else np.abs(exact)
    delta = np.sqrt(sw_n @ (r1 - r0) ** 2)
    bound = (grad_ref if positive else np.abs(grad_ref)) + norms * delta
    computed = (w != 0) | (bound >= l1 * (1 - 1e-9))
    assert 0 < count == computed.sum() < p
    np.testing.assert_allclose(grad[computed], exact[computed], atol=1e-10)
    assert np.all(grad[~computed] >= signed[~computed] - 1e-12)
    assert np.all(signed[~computed] < l1)  # so the dual point's scale is exact


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("intercept", [False, True])
def test_dense_norms_and_gradient_in_one_pass(dtype, weighted, intercept):
    # Column norms and X_c^T S v from one pass, serial and on threads alike, equal to NumPy's
    # and to the norms-only kernel (a column of 3.0s: large mean, zero centred norm).
    X, y = _wide(seed=12, n=37, p=23)
    X[:, 5] = 3.0
    X = X.astype(dtype)
    n, p = X.shape
    sw = np.random.default_rng(13).uniform(0.3, 2.0, n) if weighted else None
    problem = make_problem(X, sw, intercept)
    yc, _ = problem.centre_target(y)
    sw_n = problem.weights_or_ones.astype(np.float64)
    Xc = X.astype(np.float64) - problem.x_mean
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    expected_norms = (sw_n[:, None] * Xc**2).sum(axis=0)
    expected_grad = Xc.T @ (sw_n * yc)
    reference_norms = np.empty(p, dtype=dtype)
    column_sq_norms(*problem.design, problem.sample_weight, float(sw_n.sum()), problem.x_mean,
                    reference_norms)
    results = []
    for kernel in (dense_norms_and_gradient, dense_norms_and_gradient_parallel):
        norms2, grad = np.full(p, np.nan, dtype=dtype), np.full(p, np.nan, dtype=dtype)
        kernel(problem.design[0], problem.sample_weight, problem.x_mean, yc, norms2, grad)
        scale = np.abs(expected_grad).max()
        np.testing.assert_allclose(norms2, expected_norms, rtol=rtol, atol=rtol * n)
        np.testing.assert_allclose(grad, expected_grad, rtol=rtol, atol=rtol * scale)
        np.testing.assert_allclose(norms2, reference_norms, rtol=rtol)
        results.append((norms2, grad))
    # Threads split the columns, not the sums: the same bits.
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("weighted", [False, True])
def test_dense_update_then_dot(weighted):
    rng = np.random.default_rng(15)
    X = np.asfortranarray(rng.standard_normal((29, 6)))
    r = rng.standard_normal(29)
    sw = rng.uniform(0.5, 2.0, 29) if weighted else np.empty(0)
    updated = r - 0.3 * (X[:, 2] - 0.7)
    expected = X[:, 4] @ (updated * (sw if weighted else 1.0))
    got = dense_update_then_dot(X, 2, 0.3, 0.7, 4, r, sw)
    np.testing.assert_allclose(r, updated, rtol=1e-14)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    # The same column on both sides: the correlation is taken after the update.
    again = dense_update_then_dot(X, 4, -0.1, 0.0, 4, r, sw)
    np.testing.assert_allclose(again, X[:, 4] @ ((updated + 0.1 * X[:, 4])
                                                 * (sw if weighted else 1.0)), rtol=1e-12)


@pytest.mark.parametrize("random", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_dense_epoch_applies_every_deferred_update(random, weighted):
    # The dense epoch defers each residual update into the next coordinate's correlation;
    # after the epoch the residual is the centred residual of the new coefficients, and the
    # coefficients are those of the sparse-layout epoch (no deferral) on the same data.
    X, y = _wide(seed=16, n=30, p=40)
    n, p = X.shape
    sw = np.random.default_rng(17).uniform(0.5, 2.0, n) if weighted else None
    dense = make_problem(X, sw, True)
    sparse = make_problem(sp.csc_matrix(X), sw, True)
    yc, _ = dense.centre_target(y)
    l1 = 0.1 * np.abs(dense.xt_weighted(yc)).max()
    features = np.arange(p)
    outcomes = []
    for problem in (dense, sparse):
        w = np.zeros(p)
        r = yc.copy()
        r_sum = float(problem.weights_or_ones @ r)
        norms2 = problem.column_norms2()
        np.random.seed(0)  # noqa: NPY002
        for _ in range(3):
            *_, r_sum = design_epoch(*problem.design, problem.sample_weight,
                                     float(problem.weights_or_ones.sum()), problem.x_mean,
                                     norms2, w, r, r_sum, plain_penalty(l1, 0.0, p), features,
                                     random)
        outcomes.append((w, r + (problem.x_mean @ w if problem is sparse else 0.0)))
    (w_dense, r_dense), (w_sparse, r_sparse) = outcomes
    assert np.count_nonzero(w_dense) > 3
    np.testing.assert_allclose(r_dense, yc - (X - dense.x_mean) @ w_dense, atol=1e-12)
    if not random:  # (Numba's RNG is per compiled function: the draws may differ)
        np.testing.assert_allclose(w_dense, w_sparse, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(r_dense, r_sparse, atol=1e-10)


@pytest.mark.parametrize("fmt", ["dense", "csc", "csr"])
@pytest.mark.parametrize("weighted", [False, True])
def test_a_fit_from_zero_starts_from_an_exact_reference(fmt, weighted):
    # A fit from zero takes its first gradient from the pass that computes the column norms
    # (dense), or the column means and norms (sparse, when nothing asked for them before);
    # the first round then computes no correlation. The solution is the one without it.
    X, y = _wide(seed=14)
    Xf = {"dense": X, "csc": sp.csc_matrix(X), "csr": sp.csr_matrix(X)}[fmt]
    sw = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    problem = make_problem(Xf, sw, True)
    yc, _ = problem.centre_target(y)
    reference = GradientReference.at_zero(problem, yc, parallel=False)
    assert reference.valid
    s = np.ones(X.shape[0]) if sw is None else sw * X.shape[0] / sw.sum()
    mean = s @ X / s.sum()
    np.testing.assert_allclose(reference.grad, (X - mean).T @ (s * yc), atol=1e-10)
    np.testing.assert_array_equal(reference.residual, yc)
    assert not np.shares_memory(reference.residual, yc)
    assert problem._norms2 is not None  # cached by the same pass
    np.testing.assert_allclose(problem.x_mean, mean, atol=1e-12)
    np.testing.assert_allclose(problem.column_norms2(), s @ (X - mean) ** 2, rtol=1e-12)
    # The same numbers as the solver's own gradient kernel at that residual, bit for bit.
    exact = np.empty(X.shape[1])
    gradient(*problem.design, problem.sample_weight, problem.x_mean, reference.residual,
             weighted_sum(reference.residual, problem.sample_weight), np.arange(X.shape[1]),
             exact)
    np.testing.assert_array_equal(reference.grad, exact)
    if fmt != "dense":  # statistics known already: the first round computes the gradient
        again = make_problem(Xf, sw, True)
        assert again.x_mean is not None
        assert not GradientReference.at_zero(again, yc, parallel=False).valid
    alpha = 0.05 * alpha_max(problem, yc)
    with_ref = solve_enet(problem, yc, np.zeros(X.shape[1]), alpha, 1.0, tol=1e-12,
                          max_iter=100_000)
    without = solve_enet(make_problem(Xf, sw, True), yc, np.zeros(X.shape[1]), alpha, 1.0,
                         tol=1e-12, max_iter=100_000,
                         reference=GradientReference.empty(problem))
    np.testing.assert_allclose(with_ref.coef, without.coef, rtol=1e-8, atol=1e-11)
    assert with_ref.dual_gap <= 1e-12 * np.average(yc ** 2, weights=s) * 1.01


@pytest.mark.parametrize("has_ref", [False, True])
def test_bounded_gradient_keeps_fresh_correlations(has_ref):
    # Features marked fresh already hold their exact correlation: they are neither computed
    # again nor counted, with or without a reference; the others are as without the mark.
    X, y = _wide(seed=11)
    n, p = X.shape
    problem = make_problem(X, None, True)
    yc, _ = problem.centre_target(y)
    Xc = X - problem.x_mean
    norms = np.sqrt(problem.column_norms2())
    w = np.zeros(p)
    w[[3, 40]] = [0.5, -0.2]
    r = yc - Xc @ w
    exact = Xc.T @ r
    l1 = 0.5 * np.abs(exact).max()
    fresh = np.zeros(p, dtype=bool)
    fresh[[3, 7, 100]] = True

    def call(mark):
        grad_ref = exact + (1e-3 if has_ref else 0.0)  # a reference at a nearby residual
        r_ref = r + (1e-6 if has_ref else 0.0)
        grad = np.full(p, 123.0)  # a sentinel: what is not computed stays
        _, count = bounded_gradient(*problem.design, problem.sample_weight, problem.x_mean,
                                    r, float(r.sum()), 0.0, w, norms,
                                    plain_penalty(l1, 0.0, p), grad_ref, r_ref, has_ref, grad,
                                    mark, False)
        return grad, count

    plain, plain_count = call(np.zeros(0, dtype=bool))
    marked, marked_count = call(fresh)
    assert np.all(marked[fresh] == 123.0)
    np.testing.assert_array_equal(marked[~fresh], plain[~fresh])
    computed = (plain != 123.0) & (np.abs(plain - exact) < 1e-9)
    assert marked_count == plain_count - np.count_nonzero(fresh & computed)
    if has_ref:
        assert 0 < plain_count <= p // 4  # the bounded branch was taken
    else:
        assert plain_count == p


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_take_columns_is_the_compact_csc_of_the_columns(index_dtype):
    X = sp.random(30, 50, density=0.2, format="csc", random_state=21)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    columns = np.array([0, 2, 3, 17, 18, 49])
    data, indices, indptr = take_columns(X.data, X.indices, X.indptr, columns)
    assert indices.dtype == index_dtype and indptr.dtype == index_dtype
    expected = X[:, columns]
    np.testing.assert_array_equal(indptr, expected.indptr)
    np.testing.assert_array_equal(indices, expected.indices)
    np.testing.assert_array_equal(data, expected.data)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("parallel", [True, False])
def test_sparse_problem_column_statistics(fmt, dtype, weighted, fit_intercept, parallel):
    rng = np.random.default_rng(3)
    dense = rng.normal(size=(30, 50)) * (rng.random((30, 50)) < 0.2)
    dense[:, 7] = 0.0  # an empty column
    dense = dense.astype(dtype).astype(np.float64)
    X = sp.csr_matrix(dense.astype(dtype)) if fmt == "csr" else sp.csc_matrix(dense.astype(dtype))
    sw = rng.uniform(0.5, 2.0, size=30) if weighted else None
    problem = make_problem(X, sw, fit_intercept, parallel=parallel)
    w = np.ones(30) if sw is None else sw * 30 / sw.sum()
    mean = w @ dense / w.sum() if fit_intercept else np.zeros(50)
    norms2 = w @ (dense - mean) ** 2
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert problem.x_mean.dtype == dtype and problem.column_norms2().dtype == dtype
    np.testing.assert_allclose(problem.x_mean, mean, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(problem.column_norms2(), norms2, rtol=rtol, atol=rtol)
    assert problem.column_norms2()[7] == 0.0
    assert sp.isspmatrix_csc(problem.X) and problem.X.has_canonical_format


def test_to_csc_canonicalises_without_touching_the_input():
    from fastl1._solver import to_csc

    X = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2]), np.array([0, 3, 3])),
                      shape=(2, 3))  # row 0 unsorted, with a duplicate of column 2
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    C = to_csc(X)
    assert C.format == "csc" and C.has_canonical_format
    np.testing.assert_array_equal(C.toarray(), [[2.0, 0.0, 4.0], [0.0, 0.0, 0.0]])
    for a, b in zip(before, (X.data, X.indices, X.indptr), strict=True):
        np.testing.assert_array_equal(a, b)
    Cc = sp.csc_matrix(np.eye(3))
    assert to_csc(Cc) is Cc


def test_canonical_sparse_keeps_an_allowed_format_and_copies_only_to_mend():
    from fastl1._solver import canonical_sparse

    dense = [[2.0, 0.0, 4.0], [0.0, 0.0, 0.0]]
    X = sp.csr_matrix((np.array([1.0, 2.0, 3.0]), np.array([2, 0, 2]), np.array([0, 3, 3])),
                      shape=(2, 3))  # row 0 unsorted, with a duplicate of column 2
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    R = canonical_sparse(X, ("csc", "csr"))
    assert R is not X and R.format == "csr" and R.has_canonical_format
    np.testing.assert_array_equal(R.toarray(), dense)
    for a, b in zip(before, (X.data, X.indices, X.indptr), strict=True):
        np.testing.assert_array_equal(a, b)
    assert canonical_sparse(R, ("csc", "csr")) is R
    C = canonical_sparse(sp.coo_matrix(X), ("csc", "csr"))  # other formats: the first allowed
    assert C.format == "csc" and C.has_canonical_format
    np.testing.assert_array_equal(C.toarray(), dense)


def _random_csr(n, p, density, seed, dtype=np.float64, index_dtype=np.int32):
    rng = np.random.default_rng(seed)
    X = sp.random(n, p, density=density, format="csr", random_state=rng, dtype=dtype)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("n_chunks", [1, 2, 3])
@pytest.mark.parametrize("shift", [4, 9])
def test_parallel_csr_to_csc_is_scipys_transpose(dtype, index_dtype, n_chunks, shift):
    from fastl1._kernels.design import csr_bucket_counts, csr_to_csc_parallel, row_chunks

    # Empty rows and columns, a last bucket narrower than the others, a dense column (a
    # bucket much larger than the rest), and rows cut unevenly into chunks.
    X = _random_csr(300, 1000 + 37, 0.02, seed=shift + n_chunks, dtype=dtype,
                    index_dtype=index_dtype).tolil()
    X[:, 5] = 1.5
    X[40:60, :] = 0.0
    X[:, 700:760] = 0.0
    X = X.tocsr()
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    reference = X.tocsc()
    data = np.empty(X.nnz, dtype=dtype)
    indices = np.empty(X.nnz, dtype=index_dtype)
    indptr = np.empty(X.shape[1] + 1, dtype=index_dtype)
    bounds = row_chunks(X.indptr, n_chunks)
    assert bounds[0] == 0 and bounds[-1] == X.shape[0] and np.all(np.diff(bounds) >= 0)
    n_buckets = (X.shape[1] + (1 << shift) - 1) >> shift
    counts = csr_bucket_counts(X.indices, X.indptr, bounds, shift, n_buckets)
    assert counts.shape == (n_chunks, n_buckets) and counts.sum() == X.nnz
    csr_to_csc_parallel(X.data, X.indices, X.indptr, bounds, shift, counts, data, indices,
                        indptr)
    np.testing.assert_array_equal(indptr, reference.indptr)
    np.testing.assert_array_equal(indices, reference.indices)
    np.testing.assert_array_equal(data, reference.data)  # same values, bit for bit


def test_to_csc_transposes_large_csr_on_threads_and_small_or_mended_by_scipy(monkeypatch):
    from fastl1 import _solver

    X = _random_csr(400, 9000, 0.005, seed=3)  # 18 buckets of 512 columns
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    calls = []
    kernel = _solver.csr_to_csc_parallel
    monkeypatch.setattr(_solver, "csr_to_csc_parallel",
                        lambda *args: calls.append(1) or kernel(*args))
    monkeypatch.setattr(_solver, "_PARALLEL_TRANSPOSE_MIN_NNZ", 1000)
    for parallel, expected_calls in ((True, 1), (False, 1)):
        C = _solver.to_csc(X, parallel=parallel)
        assert C.format == "csc" and C.has_canonical_format and len(calls) == expected_calls
        assert isinstance(C, sp.csc_matrix)
        assert (C != X.tocsc()).nnz == 0
    for a, b in zip(before, (X.data, X.indices, X.indptr), strict=True):
        np.testing.assert_array_equal(a, b)  # the caller's matrix is untouched
    assert isinstance(_solver.to_csc(sp.csr_array(X), parallel=True), sp.csc_array)
    # SciPy converts: duplicates (not canonical; it sums them), a small matrix, too few
    # columns for 16 buckets, and a bucket with more than 1/16 of the non-zeros.
    calls.clear()
    monkeypatch.setattr(_solver, "_PARALLEL_TRANSPOSE_MIN_NNZ", 1)
    first = X.indptr[0]  # X with its first stored entry repeated: not canonical
    duplicated = sp.csr_matrix(
        (np.insert(X.data, first, X.data[first]), np.insert(X.indices, first, X.indices[first]),
         np.concatenate([[0], X.indptr[1:] + 1])), shape=X.shape)
    assert not duplicated.has_canonical_format
    C = _solver.to_csc(duplicated, parallel=True)
    assert C.has_canonical_format and C.nnz == X.nnz
    assert C[0, X.indices[first]] == 2 * X.data[first]
    narrow = _random_csr(400, 7000, 0.01, seed=4)  # 14 buckets
    skewed = X.tolil()
    skewed[:, :200] = 1.0  # 80,000 of the ~98,000 non-zeros in the first bucket
    for Y in (narrow, sp.csr_matrix(skewed)):
        assert (_solver.to_csc(Y, parallel=True) != Y.tocsc()).nnz == 0
    assert calls == []
    monkeypatch.setattr(_solver, "_PARALLEL_TRANSPOSE_MIN_NNZ", 10**9)
    _solver.to_csc(X, parallel=True)
    assert calls == []
    # Row numbers that leave no room for a bucket's column offset in 32 bits: SciPy.
    tall = types.SimpleNamespace(shape=(2**28, 3), nnz=1)  # decided before any array is read
    assert _solver._csr_to_csc_parallel(tall) is None


def test_support_sweeps_save_epochs_and_reach_the_same_solution():
    # Wide, correlated, small alpha: many epochs, most of them spent on the support.
    X, y = make_regression(n=60, p=1500, density=1.0, n_informative=40, seed=9)
    problem = make_problem(X, None, True)
    alpha = 0.01 * alpha_max(problem, problem.centre_target(y)[0])
    swept = _fit(X, y, alpha)
    plain = _fit(X, y, alpha, support_sweeps=False)
    np.testing.assert_allclose(swept.coef, plain.coef, rtol=1e-7, atol=1e-9)
    assert duality_gap(X, y, swept.coef, alpha, 1.0) <= 1e-12 * np.var(y) * 1.01
    assert swept.n_iter < plain.n_iter


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nonzero_entries(dtype):
    w = np.zeros(50, dtype=dtype)
    support, values = nonzero_entries(w)
    assert support.shape == (0,) and values.shape == (0,)
    w[[0, 7, 49]] = [1.5, -2.0, 3.0]
    support, values = nonzero_entries(w)
    np.testing.assert_array_equal(support, np.flatnonzero(w))
    np.testing.assert_array_equal(values, w[np.flatnonzero(w)])
    assert values.dtype == dtype
    values[0] = 9.0  # a copy: the path keeps it while w moves on
    assert w[0] == 1.5


@pytest.mark.parametrize("order", ["C", "F"])
def test_kernel_array_is_a_writeable_alias_of_read_only_memory(order):
    a = np.asarray(np.arange(12.0).reshape(3, 4), order=order)
    assert kernel_array(a) is a  # writeable: as is
    a.flags.writeable = False
    alias = kernel_array(a)
    assert alias.flags.writeable and not a.flags.writeable
    assert np.shares_memory(alias, a)
    assert alias.shape == a.shape and alias.strides == a.strides and alias.dtype == a.dtype
    np.testing.assert_array_equal(alias, a)
    view = a[:, 1:3]  # a strided view keeps its offset and strides
    np.testing.assert_array_equal(kernel_array(view), view)
    del a, view
    np.testing.assert_array_equal(alias, np.arange(12.0).reshape(3, 4))  # a kept alive


# --- fits without a finite certificate are errors, not silent "convergence" -------------------

def _small_problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, 10))
    return X, X[:, 0] + 0.1 * rng.standard_normal(30)


@pytest.mark.parametrize("fit", ["lasso_path", "LassoCV"])
def test_a_design_that_overflows_is_an_error_not_a_nan_gap(fit):
    from fastl1 import LassoCV, lasso_path

    X, y = _small_problem()
    X = X * 1e160  # the Gram matrix and the gap overflow float64
    run = {"lasso_path": lambda: lasso_path(X, y, alphas=5),
           "LassoCV": lambda: LassoCV(alphas=5, cv=3).fit(X, y)}[fit]
    with pytest.raises(ValueError, match="not a finite number.*too large for floating point"):
        run()


def test_a_nan_coef_init_or_xy_or_gram_is_refused():
    from fastl1 import Lasso, enet_path

    X, y = _small_problem()
    with pytest.raises(ValueError, match="coef_init contains NaN"):
        enet_path(X, y, coef_init=np.full(10, np.nan))
    with pytest.raises(ValueError, match="Xy contains NaN"):
        enet_path(X, y, precompute=X.T @ X, Xy=np.full(10, np.nan))
    with pytest.raises(ValueError, match="Gram matrix contains NaN"):
        Lasso(alpha=0.1, fit_intercept=False, precompute=np.full((10, 10), np.nan)).fit(X, y)


def test_an_inconsistent_xy_gives_an_error_not_a_nan_gap():
    from fastl1 import enet_path

    X, y = _small_problem()
    with pytest.raises(ValueError, match="inconsistent"):
        enet_path(X, y, precompute=X.T @ X, Xy=np.full(10, 1e308), alphas=[1.0, 0.1])


# --- warnings point at the user's call ---------------------------------------------------------

@pytest.mark.parametrize("n_jobs", [1, 2])
def test_convergence_warnings_point_at_the_callers_line(n_jobs):
    from sklearn.exceptions import ConvergenceWarning

    from fastl1 import Lasso, LassoCV, lasso_path

    X, y = _small_problem()
    for fit in (lambda: Lasso(alpha=1e-4, max_iter=2, tol=1e-14).fit(X, y),
                lambda: lasso_path(X, y, alphas=3, max_iter=2, tol=1e-14),
                lambda: LassoCV(alphas=3, cv=2, max_iter=2, tol=1e-14,
                                n_jobs=n_jobs).fit(X, y)):
        with pytest.warns(ConvergenceWarning) as record:
            fit()
        assert {w.filename for w in record} == {__file__}


def _compiled_in_fresh_process(script, tmp_path):
    """Run ``script`` in a new process with an empty Numba cache; its printed JSON."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache"),
           "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True, cwd=root)
    return json.loads(result.stdout.strip().splitlines()[-1])


_DENSE_KERNELS_SCRIPT = """
import json
import numpy as np
from fastl1._kernels import cd, design, support_step
from fastl1._kernels.penalty import plain_penalty
rng = np.random.default_rng(0)
X = np.asfortranarray(rng.standard_normal((20, 6)))
none = np.empty(0)
empty = np.empty(0, dtype=np.int32)
w = np.zeros(6)
r = rng.standard_normal(20)
norms2 = (X ** 2).sum(axis=0)
features = np.arange(6)
design.gradient(X, none, empty, None, none, np.zeros(6), r, 0.0, features, np.empty(6))
cd.design_epoch(X, none, empty, None, none, 20.0, np.zeros(6), norms2, w, r, 0.0,
                plain_penalty(1.0, 0.0, 6), features, False)
design.column_sq_norms(X, none, empty, None, none, 20.0, np.zeros(6), np.empty(6))
support_step._cg_direction(X, none, empty, None, none, 20.0, np.zeros(6), norms2,
                           np.zeros(2), features[:2], np.ones(2), 20)
print(json.dumps({name: len(getattr(module, name).signatures) for module, name in [
    (cd, "_design_epoch"), (cd, "_dense_epoch"), (design, "_gradient"),
    (design, "_sparse_sq_norms"), (support_step, "support_rows"),
    (support_step, "_sparse_gram_product"), (support_step, "_dense_gram_product")]}))
"""


def test_a_dense_design_compiles_no_sparse_code(tmp_path):
    # indptr=None is resolved when Numba compiles: the dense path alone, one variant of the
    # literal-dispatched loops (the sparse and weighted ones are never compiled).
    counts = _compiled_in_fresh_process(_DENSE_KERNELS_SCRIPT, tmp_path)
    assert counts == {"_design_epoch": 0, "_dense_epoch": 1, "_gradient": 1,
                      "_sparse_sq_norms": 0, "support_rows": 0, "_sparse_gram_product": 0,
                      "_dense_gram_product": 1}


_DENSE_FIT_SCRIPT = """
import json
import numpy as np
from fastl1 import Lasso
from fastl1._kernels import cd, csr, design, gap, support_step
rng = np.random.default_rng(0)
X = rng.standard_normal((60, 300))
Lasso(alpha=0.05).fit(X, X[:, :4].sum(axis=1) + rng.standard_normal(60))
print(json.dumps(sorted(
    f"{module.__name__}.{name}" for module, name in [
        (cd, "_design_epoch"), (cd, "_restricted"), (cd, "_gradient_from_rows"),
        (design, "take_columns"), (design, "_sparse_sq_norms"), (csr, "scatter"),
        (csr, "take_columns_from_rows"), (gap, "_free_projection"),
        (support_step, "support_rows"), (support_step, "_sparse_support_gram")]
    if getattr(module, name).signatures)))
"""


@pytest.mark.slow
def test_a_plain_dense_fit_compiles_no_sparse_row_or_projection_code(tmp_path):
    assert _compiled_in_fresh_process(_DENSE_FIT_SCRIPT, tmp_path) == []


@pytest.mark.parametrize("seed", range(5))
def test_solve_small_matches_numpy_and_reports_singular_systems(seed):
    from fastl1._kernels.working_set import solve_small

    rng = np.random.default_rng(seed)
    A = rng.standard_normal((6, 6))
    b = rng.standard_normal(6)
    before = A.copy(), b.copy()
    np.testing.assert_allclose(solve_small(A, b), np.linalg.solve(A, b), rtol=1e-10)
    np.testing.assert_array_equal(A, before[0])  # inputs untouched
    np.testing.assert_array_equal(b, before[1])
    # singular or not finite: an empty result, never an exception
    assert solve_small(np.zeros((3, 3)), np.ones(3)).shape == (0,)
    assert solve_small(np.array([[1.0, np.nan], [0.0, 1.0]]), np.ones(2)).shape == (0,)
