"""Support steps (restricted least squares on the support and signs): the direct and the
conjugate-gradient directions solve the support's system on dense and CSC designs, a step
from near the solution lands on it, steps never flip signs, and fits whose supports take the
conjugate-gradient branch reach the certified solution on every layout."""

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1._kernels import support_step
from fastl1._kernels.penalty import plain_penalty
from fastl1._kernels.support_step import (
    _cg_direction,
    _direct_affordable,
    _support_gram,
    support_rows,
    try_support_step,
)
from fastl1._solver import alpha_max, make_problem, solve_enet

from .conftest import duality_gap, make_regression


def _state(X, y, sw, fmt, l1_ratio, factor=0.05):
    """Problem in ``fmt``, centred target, regularisation and the certified solution."""
    problem = make_problem(X if fmt == "dense" else sp.csc_matrix(X), sw, True)
    yc, _ = problem.centre_target(y)
    alpha = factor * alpha_max(problem, yc, l1_ratio)
    n = X.shape[0]
    solution = np.zeros(X.shape[1])
    solve_enet(problem, yc, solution, alpha, l1_ratio, tol=1e-14, max_iter=100_000)
    return problem, yc, alpha * l1_ratio * n, alpha * (1 - l1_ratio) * n, solution


def _residual(problem, yc, w):
    """The residual in the design's convention (dense: centred; sparse: without the means,
    see :mod:`fastl1._kernels.design`) and its weighted sum."""
    if problem.is_sparse:
        r = yc - problem.X @ w
    else:
        r = yc - (problem.X - problem.x_mean) @ w
    return r, float(problem.weights_or_ones @ r)


def _step(problem, yc, w, l1, l2, hard=False):
    r, r_sum = _residual(problem, yc, w)
    sw = problem.sample_weight
    sw_sum = float(sw.sum()) if sw.shape[0] else float(problem.n_samples)
    kept, r_sum = try_support_step(*problem.design, sw, sw_sum, problem.x_mean,
                                   problem.column_norms2(), w, r, r_sum,
                                   plain_penalty(l1, l2, problem.n_features),
                                   np.arange(problem.n_features), np.zeros(problem.n_features),
                                   hard)
    return kept, r, r_sum


def _objective(problem, yc, w, l1, l2):
    r, _ = _residual(problem, yc, w)
    if problem.is_sparse:
        r = r + problem.x_mean @ w
    return 0.5 * problem.weights_or_ones @ r**2 + l1 * np.abs(w).sum() + 0.5 * l2 * w @ w


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("weighted", [False, True])
def test_step_from_the_right_signs_lands_on_the_solution(fmt, l1_ratio, weighted):
    X, y = make_regression(n=40, p=25, density=0.6, seed=11)
    sw = np.random.default_rng(12).uniform(0.5, 2.0, 40) if weighted else None
    problem, yc, l1, l2, solution = _state(X, y, sw, fmt, l1_ratio)
    assert 3 < np.count_nonzero(solution) <= support_step.DIRECT_MAX
    w = solution * (1 + 0.05 * np.random.default_rng(13).standard_normal(X.shape[1]))
    kept, r, r_sum = _step(problem, yc, w, l1, l2)
    assert kept
    np.testing.assert_allclose(w, solution, atol=1e-9)
    expected, expected_sum = _residual(problem, yc, w)  # r and r_sum were kept up to date
    np.testing.assert_allclose(r, expected, atol=1e-9)
    assert r_sum == pytest.approx(expected_sum, abs=1e-8)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
@pytest.mark.parametrize("positive", [False, True])
def test_step_never_flips_a_sign_and_only_lowers_the_objective(fmt, positive):
    X, y = make_regression(n=40, p=25, density=0.6, seed=14)
    problem, yc, l1, l2, solution = _state(X, y, None, fmt, 1.0)
    rng = np.random.default_rng(15)
    for trial in range(5):
        w = solution + 0.5 * rng.standard_normal(X.shape[1]) * (solution != 0)
        w[rng.random(X.shape[1]) < 0.3] = 0.0
        if positive:
            w = np.abs(w)
        before = w.copy()
        f_before = _objective(problem, yc, w, l1, l2)
        kept, _, _ = _step(problem, yc, w, l1, l2)
        assert np.all(w * before >= 0), trial  # coefficients stop at zero, never cross it
        assert np.all(w[before == 0] == 0)  # the support never grows
        if kept:
            assert _objective(problem, yc, w, l1, l2) < f_before
        else:
            np.testing.assert_array_equal(w, before)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 3.0])
def test_directions_solve_the_support_system(weighted, l2):
    X, _ = make_regression(n=30, p=20, density=0.7, seed=16)
    sw = np.random.default_rng(17).uniform(0.5, 2.0, 30) if weighted else None
    support = np.array([1, 4, 5, 9, 12, 13, 17, 19])  # fewer columns than CG iterations
    rhs = np.random.default_rng(18).standard_normal(support.shape[0])
    for fmt in ("dense", "csc"):
        problem = make_problem(X if fmt == "dense" else sp.csc_matrix(X), sw, True)
        s = problem.weights_or_ones
        Xc = X[:, support] - problem.x_mean[support]
        expected = np.linalg.solve(Xc.T @ (s[:, None] * Xc) + l2 * np.eye(support.shape[0]),
                                   rhs)
        sw_sum = float(s.sum())
        args = (*problem.design, problem.sample_weight, sw_sum, problem.x_mean)
        ridge = np.full(support.shape[0], l2)
        direct = np.linalg.solve(_support_gram(*args, ridge, support, rhs, 30), rhs)
        cg = _cg_direction(*args, problem.column_norms2(), ridge, support, rhs, 30)
        np.testing.assert_allclose(direct, expected, rtol=1e-9, err_msg=fmt)
        # Conjugate gradients are exact after as many iterations as unknowns (up to rounding).
        np.testing.assert_allclose(cg, expected, rtol=1e-6, atol=1e-9, err_msg=fmt)


def test_direct_solve_of_a_large_support_only_when_affordable():
    # dense: n m^2 against 30 n m, so supports up to ~1500 qualify; sparse columns of 20
    # non-zeros: m nnz / 2 + m^3 / 3 against 30 nnz, so 600 of them do not
    support = np.arange(600)
    assert _direct_affordable(np.empty(0, np.int32), support, 1000)
    assert not _direct_affordable(np.empty(0, np.int32), np.arange(3000), 5000)
    indptr = np.arange(0, 20 * 1001, 20, dtype=np.int32)
    assert not _direct_affordable(indptr, support, 1000)
    assert _direct_affordable(indptr, np.arange(129), 1000)


def test_hard_inner_solves_step_exactly_on_large_dense_supports():
    # A support above DIRECT_MAX: the conjugate-gradient step is approximate, while after
    # HARD_EPOCHS epochs the (affordable) direct solve lands on the solution.
    rng = np.random.default_rng(21)
    n, p = 400, 220
    X = rng.standard_normal((n, p)) + 0.8 * rng.standard_normal((n, 1))
    y = X @ rng.uniform(0.5, 1.5, p) + 0.1 * rng.standard_normal(n)
    problem, yc, l1, l2, solution = _state(X, y, None, "dense", 1.0, factor=1e-3)
    assert support_step.DIRECT_MAX < np.count_nonzero(solution) < n
    start = solution * (1 + 0.3 * rng.standard_normal(p))
    w_cg, w_direct = start.copy(), start.copy()
    assert _step(problem, yc, w_cg, l1, l2)[0] and _step(problem, yc, w_direct, l1, l2, True)[0]
    np.testing.assert_allclose(w_direct, solution, atol=1e-9)
    assert np.abs(w_cg - solution).max() > 1e-6


def test_support_rows_are_the_csr_form_of_the_support():
    X = sp.random(50, 40, density=0.2, format="csc", random_state=19)
    support = np.array([0, 3, 7, 8, 21, 39])
    row_ptr, slots, values = support_rows(X.data, X.indices, X.indptr, support, 50)
    expected = X[:, support].tocsr()
    expected.sort_indices()
    np.testing.assert_array_equal(row_ptr, expected.indptr)
    np.testing.assert_array_equal(slots, expected.indices)
    np.testing.assert_array_equal(values, expected.data)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_fits_with_large_supports_take_cg_steps_and_are_certified(fmt):
    # Near saturation: the support exceeds DIRECT_MAX, so the solver's support steps use
    # conjugate gradients; the result is the certified solution, as plain CD finds it.
    rng = np.random.default_rng(20)
    n, p = 200, 400
    X = rng.standard_normal((n, p)) * (rng.random((n, p)) < 0.1)
    y = X[:, :150] @ rng.uniform(0.5, 1.5, 150) + 0.1 * rng.standard_normal(n)
    Xf = X if fmt == "dense" else sp.csc_matrix(X)
    problem = make_problem(Xf, None, True)
    yc, _ = problem.centre_target(y)
    alpha = 1e-3 * alpha_max(problem, yc)
    engine = np.zeros(p)
    solve_enet(problem, yc, engine, alpha, 1.0, tol=1e-12, max_iter=200_000)
    plain = np.zeros(p)
    solve_enet(problem, yc, plain, alpha, 1.0, tol=1e-12, max_iter=200_000,
               working_sets=False, screening=False, anderson=0, support_sweeps=False)
    assert np.count_nonzero(engine) > support_step.DIRECT_MAX
    assert duality_gap(X, y, engine, alpha, 1.0) <= 1e-12 * np.var(y) * 1.01
    np.testing.assert_allclose(engine, plain, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fmt", ["dense", "csc"])
def test_a_support_larger_than_the_data_holds_is_pared_down(fmt):
    # n non-zeros of centred columns without a ridge term: X_S^T S X_S has rank < n, so a
    # step first moves in its null space (the fit unchanged, the l1 norm lower) until
    # coefficients reach zero, then solves on what is left: fewer than n - 1 non-zeros, no
    # sign flipped, a lower objective, and the residual kept up to date.
    X, y = make_regression(n=10, p=30, density=0.8, seed=22)
    problem, yc, l1, _, _ = _state(X, y, None, fmt, 1.0)
    w = np.zeros(30)
    w[:10] = np.random.default_rng(23).uniform(0.5, 1.0, 10)
    before = w.copy()
    # Only once the inner solve has been slow (``hard``): before, no step and no change.
    kept, _, _ = _step(problem, yc, w, l1, 0.0)
    assert not kept
    np.testing.assert_array_equal(w, before)
    kept, r, r_sum = _step(problem, yc, w, l1, 0.0, hard=True)
    assert kept
    assert np.count_nonzero(w) < 10 - 1
    assert np.all(w * before >= 0) and np.all(w[10:] == 0)
    assert _objective(problem, yc, w, l1, 0.0) < _objective(problem, yc, before, l1, 0.0)
    expected, expected_sum = _residual(problem, yc, w)
    np.testing.assert_allclose(r, expected, atol=1e-9)
    assert r_sum == pytest.approx(expected_sum, abs=1e-8)


@pytest.mark.parametrize("positive", [False, True])
def test_face_minimiser_is_the_sign_constrained_least_squares_solution(positive):
    # The active-set descent ends at the minimiser of the restricted objective over the
    # orthant of the starting signs: checked against the KKT conditions of that problem.
    # Three starting signs are wrong for the data: those coefficients must leave (within
    # FACE_PASSES passes).
    rng = np.random.default_rng(24)
    A = rng.standard_normal((30, 12))
    gram = A.T @ A
    signs = np.ones(12) if positive else rng.choice([-1.0, 1.0], 12)
    truth = rng.uniform(0.5, 1.5, 12) * signs
    truth[[2, 5, 9]] *= -1.0
    b = A @ truth + 0.1 * rng.standard_normal(30)
    w_s = rng.uniform(0.2, 1.0, 12) * signs
    l1 = 0.5
    # The Newton right-hand side at w_s: A^T (b - A w_s) - l1 sign(w_s).
    rhs = A.T @ (b - A @ w_s) - l1 * np.sign(w_s)
    w = support_step._face_minimiser(gram, rhs, w_s, 13)
    assert np.all(w * w_s >= 0)
    assert 0 < np.count_nonzero(w) < 12  # some coefficients were fixed at zero on the way
    free = w != 0
    grad = A.T @ (b - A @ w) - l1 * np.sign(w_s)  # minus the gradient on the orthant
    np.testing.assert_allclose(grad[free], 0.0, atol=1e-9)
    # Zeroed coordinates: moving them into their sign's direction does not help.
    assert np.all(grad[~free] * np.sign(w_s[~free]) <= 1e-9)
