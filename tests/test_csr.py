"""A CSR design read in place (fastl1._kernels.csr and the solver's row path)."""

import numpy as np
import pytest
import scipy.sparse as sp

import fastl1._solver as solver
from fastl1 import ElasticNet, Lasso
from fastl1._kernels.csr import (
    column_sq_norms_from_rows,
    column_stats_from_rows,
    gradient_from_rows,
    row_chunks_for,
    take_columns_from_rows,
)
from fastl1._kernels.design import sparse_column_stats
from fastl1._solver import make_problem, solve_enet
from fastl1.bench import make_bench_problem

from .conftest import (
    duality_gap,
    kkt_violation,
    make_regression,
    objective,
    on_each_thread_count,
)


def _random_csr(n, p, density, seed, index_dtype=np.int32, dtype=np.float64):
    X = sp.random_array((n, p), density=density, format="csr", dtype=dtype,
                        rng=np.random.default_rng(seed))
    X = sp.csr_matrix(X)
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    return X


@pytest.fixture
def rows_from_zero_nnz(monkeypatch):
    """Every CSR matrix a single fit sees is read in place, however small."""
    monkeypatch.setattr(solver, "CSR_IN_PLACE_MIN_NNZ", 0)


def test_row_chunks_depend_on_the_matrix_only():
    for nnz, expected in [(10, 1), (2**20 - 1, 1), (2**20, 2), (5 * 2**19, 4),
                          (100 * 2**19, 8)]:
        indptr = np.linspace(0, nnz, 1001).astype(np.int64)
        chunks = row_chunks_for(indptr)
        assert chunks.shape[0] - 1 == expected
        assert chunks[0] == 0 and chunks[-1] == 1000 and np.all(np.diff(chunks) > 0)


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_take_columns_from_rows_is_the_compact_csc_of_the_columns(index_dtype, dtype):
    X = _random_csr(300, 500, 0.05, 0, index_dtype, dtype)
    indptr = X.indptr.astype(X.indices.dtype)
    csc = X.tocsc()
    chunks = np.array([0, 97, 180, 300])  # several chunks, as large matrices have
    rng = np.random.default_rng(1)
    nothing = (np.empty(0, np.int64), X.data[:0].copy(), X.indices[:0].copy(),
               np.zeros(1, X.indices.dtype))
    before = (X.data.copy(), X.indices.copy(), X.indptr.copy())
    first = np.sort(rng.choice(500, 40, replace=False))
    # Grown (some columns kept, some new), the same set (no pass), and a set sharing nothing.
    second = np.union1d(first[::2], rng.choice(500, 30, replace=False))
    for parallel in (False, True):
        copy = take_columns_from_rows(X.data, X.indices, indptr, chunks, 500, first,
                                      *nothing, parallel)
        for columns, kept in [(first, (first, *copy)), (second, (first, *copy)),
                              (np.array([3, 499]), (first, *copy)), (first, nothing)]:
            data, indices, out_indptr = take_columns_from_rows(
                X.data, X.indices, indptr, chunks, 500, columns, *kept, parallel)
            expected = csc[:, columns]
            assert data.dtype == dtype and indices.dtype == index_dtype
            assert out_indptr.dtype == index_dtype
            np.testing.assert_array_equal(out_indptr, expected.indptr)
            np.testing.assert_array_equal(indices, expected.indices)
            np.testing.assert_array_equal(data, expected.data)
    for got, was in zip((X.data, X.indices, X.indptr), before, strict=True):
        np.testing.assert_array_equal(got, was)


@pytest.mark.parametrize("parallel", [False, True])
def test_take_columns_from_rows_makes_room_for_long_columns(parallel):
    # Twenty full columns in a sparse matrix: far more entries than columns of average
    # length would hold, so the pass is made again with room for them all.
    X = _random_csr(3000, 500, 0.01, 13).tolil()
    dense = np.arange(0, 500, 25)
    X[:, dense] = np.random.default_rng(14).standard_normal((3000, dense.shape[0]))
    X = X.tocsr()
    nothing = (np.empty(0, np.int64), X.data[:0].copy(), X.indices[:0].copy(),
               np.zeros(1, X.indices.dtype))
    columns = np.union1d(dense, [1, 2, 499])
    data, indices, indptr = take_columns_from_rows(
        X.data, X.indices, X.indptr, np.array([0, 1000, 2000, 3000]), 500, columns, *nothing,
        parallel)
    expected = X.tocsc()[:, columns]
    np.testing.assert_array_equal(indptr, expected.indptr)
    np.testing.assert_array_equal(indices, expected.indices)
    np.testing.assert_array_equal(data, expected.data)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("centred", [False, True])
def test_a_round_gradient_from_a_reference_is_the_gradient(weighted, centred):
    # A residual that changed on a few rows since the reference: without centring the
    # change's scatter is added to the reference; with it the whole residual is scattered.
    from fastl1._kernels.cd import DELTA_ROWS_SHARE, _gradient_from_rows

    n, p = 200, 300
    X = _random_csr(n, p, 0.1, 4)
    rng = np.random.default_rng(5)
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.empty(0)
    s = sw if weighted else np.ones(n)
    x_mean = rng.standard_normal(p) if centred else np.zeros(p)
    w = np.zeros(p)
    w[[3, 17]] = [0.5, -0.2]
    offset = float(x_mean @ w)
    chunks = np.array([0, 70, 130, 200])
    buffers = np.empty((3, p))

    def exact(r):
        r_sum = float((s * r).sum())
        return X.T @ (s * r) - x_mean * r_sum

    r_ref = rng.standard_normal(n)  # the centred residual of the reference ...
    grad_ref = exact(r_ref - offset)  # ... and its gradient
    for n_changed in (0, 7, int(DELTA_ROWS_SHARE * n), n):
        r = r_ref - offset  # the current residual, in the sparse convention
        rows = rng.choice(n, n_changed, replace=False)
        r[rows] += rng.standard_normal(n_changed)
        expected = exact(r)
        grad = np.empty(p)
        ref, residual = grad_ref.copy(), r_ref.copy()
        assert _gradient_from_rows(X.data, X.indices, X.indptr, chunks, buffers, sw, x_mean, r,
                                   float((s * r).sum()), w, np.arange(p), ref, residual, True,
                                   grad, True)
        np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(ref, grad)  # the new reference ...
        np.testing.assert_allclose(residual, r + offset, rtol=0, atol=1e-15)  # ... and its r


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("parallel", [False, True])
def test_gradient_from_rows_is_the_centred_weighted_gradient(weighted, parallel):
    n, p = 200, 300
    X = _random_csr(n, p, 0.1, 2)
    rng = np.random.default_rng(3)
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.empty(0)
    x_mean = rng.standard_normal(p)
    r = rng.standard_normal(n)
    r_sum = float((sw * r).sum() if weighted else r.sum())
    out = np.empty(p)
    chunks = np.array([0, 70, 130, 200])
    gradient_from_rows(X.data, X.indices, X.indptr, chunks, np.empty((3, p)), sw, x_mean, r,
                       r_sum, out, parallel)
    s = sw if weighted else np.ones(n)
    np.testing.assert_allclose(out, X.T @ (s * r) - x_mean * r_sum, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("centre", [False, True])
@pytest.mark.parametrize("p", [300, 50_000])
def test_column_stats_from_rows_match_the_columns(weighted, centre, p):
    n = 40
    X = _random_csr(n, p, min(0.3, 3000 / p), 4)
    rng = np.random.default_rng(5)
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.empty(0)
    sw_sum = float(sw.sum()) if weighted else float(n)
    v = rng.standard_normal(n)
    got = [np.empty(p) for _ in range(3)]
    expected = [np.empty(p) for _ in range(3)]
    column_stats_from_rows(X.data, X.indices, X.indptr, sw, sw_sum, centre, v, *got, True)
    csc = X.tocsc()
    sparse_column_stats(csc.data, csc.indices, csc.indptr.astype(csc.indices.dtype), sw,
                        sw_sum, centre, v, *expected)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    # Without a gradient: the same means and norms.
    means, norms2 = np.empty(p), np.empty(p)
    column_stats_from_rows(X.data, X.indices, X.indptr, sw, sw_sum, centre, v, means,
                           norms2, np.empty(0), False)
    np.testing.assert_allclose(means, expected[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(norms2, expected[1], rtol=1e-12)
    # Without the norms (a fit from zero): the same means and gradient.
    means, grad = np.empty(p), np.empty(p)
    column_stats_from_rows(X.data, X.indices, X.indptr, sw, sw_sum, centre, v, means,
                           np.empty(0), grad, True)
    np.testing.assert_allclose(means, expected[0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, expected[2], rtol=1e-12, atol=1e-12)
    # The norms on their own, from the means.
    norms2 = np.empty(p)
    column_sq_norms_from_rows(X.data, X.indices, X.indptr, np.array([0, 13, 40]),
                              np.empty((2, p)), sw, sw_sum, expected[0], norms2, True)
    np.testing.assert_allclose(norms2, expected[1], rtol=1e-12)


@pytest.mark.usefixtures("rows_from_zero_nnz")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_a_csr_fit_in_place_matches_the_csc_fit(dtype, weighted, fit_intercept, l1_ratio):
    # 100 x 3000 with 2 % of the constraints violated at w = 0: working sets stay far below
    # the hand-over sizes, so the whole fit runs on the rows.
    X, y = make_regression(n=100, p=3000, density=0.05, n_informative=10, seed=6)
    sw = np.random.default_rng(7).uniform(0.3, 2.0, 100) if weighted else None
    s = np.ones(100) if sw is None else sw * 100 / sw.sum()
    Xc, yc = X, y
    if fit_intercept:
        Xc, yc = X - s @ X / 100, y - s @ y / 100
    alpha = np.quantile(np.abs(Xc.T @ (s * yc)) / 100, 0.98) / l1_ratio
    csr = sp.csr_matrix(X.astype(dtype))
    problem = make_problem(csr, sw, fit_intercept, keep_csr=True)
    assert problem.transposed and problem.X is csr  # read in place, not copied
    tol = 1e-10 if dtype == np.float64 else 1e-5
    params = dict(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept, tol=tol)
    handovers = []
    original = solver.Problem.to_columns
    try:
        solver.Problem.to_columns = lambda self, parallel: handovers.append(1) or \
            original(self, parallel)
        rows = ElasticNet(**params).fit(csr, y, sample_weight=sw)
    finally:
        solver.Problem.to_columns = original
    assert not handovers
    columns = ElasticNet(**params).fit(csr.tocsc(), y, sample_weight=sw)
    assert np.count_nonzero(rows.coef_) > 5
    # float32 fits stop anywhere within their (loose) tolerance: compare objectives too.
    atol = 1e-8 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(rows.coef_, columns.coef_, atol=atol)
    np.testing.assert_allclose(rows.intercept_, columns.intercept_, atol=atol)
    objectives = [objective(csr, y, m.coef_, m.intercept_, alpha, l1_ratio, sw)
                  for m in (rows, columns)]
    np.testing.assert_allclose(*objectives, rtol=1e-12 if dtype == np.float64 else 1e-5)
    if dtype == np.float64:  # the reported gap is the true one, and the solution optimal
        true_gap = duality_gap(csr, y, rows.coef_, alpha, l1_ratio, sw, fit_intercept)
        np.testing.assert_allclose(rows.dual_gap_, true_gap, rtol=1e-4, atol=1e-11)
        assert kkt_violation(csr, y, rows.coef_, rows.intercept_, alpha, l1_ratio, sw,
                             fit_intercept=fit_intercept) < 1e-6


@pytest.mark.usefixtures("rows_from_zero_nnz")
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_a_csr_fit_from_zero_computes_the_column_norms_only_to_rank_features(fit_intercept):
    # The benchmark's sparse problem shrunk to 2000 x 10000: at alpha_max/20 the 546
    # violated constraints and then the support and the violated ones form every set (no
    # norms); at alpha_max/2, 23 violated ones are fewer than a first set holds, and at
    # alpha_max/40, 1,397 more than 1/8 of the features: both ranked by the scores.
    bench = make_bench_problem("sparse-csc-a20", scale=0.1)
    csr = bench.X.tocsr()
    n, p = csr.shape
    for factor, ranked in ((1.0, False), (10.0, True), (0.5, True)):
        alpha = bench.alpha * factor
        fits = {}
        for name, X in (("rows", csr), ("columns", csr.tocsc())):
            problem = make_problem(X, None, fit_intercept, keep_csr=True)
            y_centred = np.ascontiguousarray(problem.centre_target(bench.y[:, None])[0][:, 0])
            fits[name] = solve_enet(problem, y_centred, np.zeros(p), alpha, 1.0, tol=1e-10)
            if name == "rows":
                assert problem.transposed
                assert (problem._norms2 is not None) == ranked
                if ranked:  # kept for the next fit, and the true ones
                    Xc = X.toarray() - (X.mean(axis=0).A1 if fit_intercept else 0.0)
                    np.testing.assert_allclose(problem._norms2, (Xc ** 2).sum(axis=0),
                                               rtol=1e-10, atol=1e-12)
        assert np.count_nonzero(fits["rows"].coef) >= 3
        np.testing.assert_allclose(fits["rows"].coef, fits["columns"].coef, atol=1e-8)
        assert duality_gap(csr, bench.y, fits["rows"].coef, alpha, 1.0,
                           fit_intercept=fit_intercept) <= 1e-10 * (bench.y @ bench.y) / n


@pytest.mark.usefixtures("rows_from_zero_nnz")
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_a_csr_fit_hands_over_to_a_csc_copy_when_the_working_set_outgrows_the_rows(
        index_dtype, monkeypatch):
    # 60 x 150 at alpha_max/50: the first working set is most of the features.
    X, y = make_regression(n=60, p=150, density=0.3, n_informative=30, seed=8)
    csr = sp.csr_matrix(X)
    csr.indices = csr.indices.astype(index_dtype)
    csr.indptr = csr.indptr.astype(index_dtype)
    alpha = np.abs(X.T @ (y - y.mean())).max() / 60 / 50
    handovers = []
    original = solver.Problem.to_columns
    monkeypatch.setattr(solver.Problem, "to_columns",
                        lambda self, parallel: handovers.append(1) or original(self, parallel))
    before = (csr.data.copy(), csr.indices.copy(), csr.indptr.copy())
    rows = Lasso(alpha=alpha, tol=1e-10).fit(csr, y)
    columns = Lasso(alpha=alpha, tol=1e-10).fit(csr.tocsc(), y)
    assert handovers == [1]
    np.testing.assert_allclose(rows.coef_, columns.coef_, atol=1e-8)
    assert kkt_violation(X, y, rows.coef_, rows.intercept_, alpha, 1.0,
                         fit_intercept=True) < 1e-6
    for got, was in zip((csr.data, csr.indices, csr.indptr), before, strict=True):
        np.testing.assert_array_equal(got, was)  # the caller's matrix is untouched


@pytest.mark.usefixtures("rows_from_zero_nnz")
def test_a_non_canonical_csr_matrix_is_mended_in_a_copy():
    X, y = make_regression(n=50, p=400, density=0.2, seed=9)
    csr = sp.csr_matrix(X)
    expected = Lasso(alpha=0.05, tol=1e-10).fit(csr, y).coef_
    # Reverse the order of the entries within each row: same matrix, unsorted indices.
    messy = csr.copy()
    for i in range(messy.shape[0]):
        lo, hi = messy.indptr[i], messy.indptr[i + 1]
        messy.indices[lo:hi] = messy.indices[lo:hi][::-1].copy()
        messy.data[lo:hi] = messy.data[lo:hi][::-1].copy()
    messy.has_sorted_indices = False
    kept = (messy.data.copy(), messy.indices.copy())
    np.testing.assert_allclose(Lasso(alpha=0.05, tol=1e-10).fit(messy, y).coef_, expected,
                               atol=1e-9)
    np.testing.assert_array_equal(messy.data, kept[0])
    np.testing.assert_array_equal(messy.indices, kept[1])


def test_only_large_csr_matrices_are_read_in_place():
    X, y = make_regression(n=50, p=400, density=0.2, seed=10)
    assert not make_problem(sp.csr_matrix(X), None, True, keep_csr=True).transposed
    assert not make_problem(sp.csr_matrix(X), None, True).transposed


def test_a_csr_fit_in_place_does_not_depend_on_the_number_of_threads():
    # 1.2M non-zeros: two scatter chunks, so one thread and two take different schedules.
    X = _random_csr(2000, 6000, 0.1, 11)
    assert row_chunks_for(X.indptr).shape[0] - 1 == 2
    rng = np.random.default_rng(12)
    coef = np.zeros(6000)
    coef[rng.choice(6000, 30, replace=False)] = rng.uniform(1, 2, 30)
    y = X @ coef + 0.1 * rng.standard_normal(2000)
    assert make_problem(X, None, True, keep_csr=True).transposed
    alpha = np.abs(X.T @ (y - y.mean())).max() / 2000 / 20

    def fit():
        model = Lasso(alpha=alpha, tol=1e-8).fit(X, y)
        return model.coef_, model.intercept_, model.n_iter_

    fits = on_each_thread_count(fit)
    assert np.count_nonzero(fits[0][0]) > 10
    np.testing.assert_array_equal(fits[0][0], fits[1][0])
    assert fits[0][1] == fits[1][1] and fits[0][2] == fits[1][2]


@pytest.mark.usefixtures("rows_from_zero_nnz")
def test_warm_starts_and_several_targets_on_the_rows(monkeypatch):
    # A warm start computes its residual from the rows; a second target reuses the problem.
    # At these alphas no fit hands over (244 of 2000 constraints violated at w = 0 for 0.2).
    X, y = make_regression(n=80, p=2000, density=0.05, n_informative=8, seed=15)
    Y = np.column_stack([y, y[::-1]])
    csr, csc = sp.csr_matrix(X), sp.csc_matrix(X)
    handovers = []
    original = solver.Problem.to_columns
    monkeypatch.setattr(solver.Problem, "to_columns",
                        lambda self, parallel: handovers.append(1) or original(self, parallel))
    fits = {}
    for name, data in (("csr", csr), ("csc", csc)):
        model = Lasso(alpha=0.5, tol=1e-10, warm_start=True).fit(data, y)
        model.set_params(alpha=0.2).fit(data, y)
        fits[name] = (model.coef_, Lasso(alpha=0.2, tol=1e-10).fit(data, Y).coef_)
    assert not handovers
    assert np.count_nonzero(fits["csr"][0]) > 5
    for got, expected in zip(fits["csr"], fits["csc"], strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-8)
