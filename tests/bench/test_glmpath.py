"""glmpath problems (glmnet's setting, with an intercept): the objectives and certificates on
problems whose answer is known, the relative errors the harness reports, the data folder, and
the peer adapters (each skipped when its package is not installed)."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1 import bench
from fastl1.bench import peers, protocol


def _orthogonal_problem(alphas=(2.0, 1.0, 0.5)) -> bench.BenchProblem:
    """One centred column with ||x||^2 = n and y = 3 x + 2: for alpha < 3 the lasso with an
    intercept has w = 3 - alpha, b = 2 and the objective alpha^2 / 2 + alpha (3 - alpha)."""
    x = np.array([1.0, -1.0, 1.0, -1.0])
    X = np.asfortranarray(x[:, None])
    return bench.BenchProblem(name="orthogonal", X=X, y=3 * x + 2, alpha=alphas[0],
                              fit_intercept=True, task="glmpath",
                              alphas=np.asarray(alphas, dtype=float))


@pytest.mark.parametrize("sparse", [False, True])
def test_squared_objective_and_gap_known_answer(sparse):
    problem = _orthogonal_problem()
    X = sp.csc_matrix(problem.X) if sparse else problem.X
    for alpha in problem.alphas:
        w = np.array([3.0 - alpha])
        expected = alpha ** 2 / 2 + alpha * (3 - alpha)
        assert bench.glm_objective(X, problem.y, w, 2.0, alpha) == pytest.approx(expected)
        primal, dual = bench.glm_primal_dual(X, problem.y, w, 2.0, alpha)
        assert primal == pytest.approx(expected) and dual == pytest.approx(expected)
        # a wrong intercept costs its square over 2 (the residuals sum to zero at b = 2)
        assert bench.glm_objective(X, problem.y, w, 2.5, alpha) == pytest.approx(
            expected + 0.125)
        # the dual bound does not depend on the intercept given: a lower bound still
        assert bench.glm_primal_dual(X, problem.y, w, 2.5, alpha)[1] == pytest.approx(dual)
        # at w = 0 the gap is positive and bounds the suboptimality
        p0, d0 = bench.glm_primal_dual(X, problem.y, np.zeros(1), 2.0, alpha)
        assert d0 <= expected + 1e-12 < p0
    # elastic net: w = (3 - alpha l1_ratio) / (1 + alpha (1 - l1_ratio)), gap zero
    alpha, ratio = 1.0, 0.5
    w = np.array([(3 - alpha * ratio) / (1 + alpha * (1 - ratio))])
    primal, dual = bench.glm_primal_dual(X, problem.y, w, 2.0, alpha, ratio)
    assert primal - dual == pytest.approx(0.0, abs=1e-12)


def test_logistic_objective_known_answer():
    """Labels 3:1 and a feature orthogonal to them: w = 0 at every alpha, the intercept is
    log 3 and the objective the binary entropy of 3/4."""
    X = np.array([[1.0], [-1.0], [0.0], [0.0]])
    y = np.array([1.0, 1.0, 1.0, -1.0])
    assert bench.logistic_intercept(np.zeros(4), y) == pytest.approx(math.log(3), rel=1e-12)
    entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    for alpha in (0.1, 1e-3):
        primal, dual = bench.glm_primal_dual(X, y, np.zeros(1), math.log(3), alpha,
                                             loss="logistic")
        assert primal == pytest.approx(entropy, rel=1e-12)
        assert dual == pytest.approx(entropy, rel=1e-12)
    with pytest.raises(ValueError, match="both classes"):
        bench.logistic_intercept(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="loss"):
        bench.glm_objective(X, y, np.zeros(1), 0.0, 0.1, loss="poisson")


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_logistic_gap_vanishes_at_the_optimum(l1_ratio):
    """Against fastl1's LogisticRegression (C = 1 / (alpha n)) fitted tightly: the harness's
    dual point, built at the refitted intercept, closes the gap; a poor point has a gap that
    bounds its suboptimality."""
    import fastl1

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 15))
    y = np.where(X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(40) > 0, 1.0, -1.0)
    alpha = 0.3 * bench.bench_glm_alpha_max(X, y, "logistic", l1_ratio)
    model = fastl1.LogisticRegression(C=1 / (alpha * 40), l1_ratio=l1_ratio, tol=1e-12,
                                      max_iter=1000).fit(X, y)
    w, b = model.coef_.ravel(), float(model.intercept_[0])
    primal, dual = bench.glm_primal_dual(X, y, w, b, alpha, l1_ratio, "logistic")
    assert 0 <= primal - dual < 1e-9 * primal
    p2, d2 = bench.glm_primal_dual(X, y, 0.5 * w, 0.0, alpha, l1_ratio, "logistic")
    assert d2 <= primal + 1e-12 < p2


def _solver(name, fit, accuracy_tol=1e-6) -> peers.Solver:
    return peers.Solver(name, "numpy", fit, "test", calibrate=True, default_tol=accuracy_tol)


def test_relative_errors_reported_against_the_best_objective():
    """An exact solver and one whose intercept is off by 0.5 (objective + 1/8 at every
    alpha): the harness reports the second's worst relative error as 0.125 / (smallest
    objective), certified by the reference's dual values; the exact one is within 1e-12."""
    problem = _orthogonal_problem()

    def exact(problem, tol):
        return problem.alphas, (3 - problem.alphas)[None, :], np.full(3, 2.0)

    def shifted(problem, tol):
        return problem.alphas[::-1], (3 - problem.alphas[::-1])[None, :], np.full(3, 2.5)

    rows = protocol.run([problem], [_solver("exact", exact), _solver("shifted", shifted),
                                    peers.GLMPATH_SOLVERS["fastl1"]], repeats=1, tol=1e-8)
    by = {row["solver"]: row for row in rows}
    assert set(by) == {"exact", "exact-default", "shifted", "shifted-default", "fastl1",
                       "fastl1-default"}
    objectives = np.array([a * a / 2 + a * (3 - a) for a in problem.alphas])
    worst = np.max(0.125 / objectives)
    assert by["exact"]["rel_suboptimality"] < 1e-12 and by["exact"]["gap_ok"]
    assert by["shifted"]["rel_suboptimality"] == pytest.approx(worst, rel=1e-9)
    assert by["shifted"]["rel_suboptimalities"] == pytest.approx(0.125 / objectives, rel=1e-9)
    assert by["shifted"]["worst_alpha"] == problem.alphas[-1]
    # the matched row could not reach the target: noted, not certified
    assert by["shifted"]["gap_ok"] is False and by["shifted"]["n_over_target"] == 3
    assert by["shifted-default"]["gap_ok"] is None  # no target at the defaults
    assert by["shifted-default"]["tol"] is None and by["shifted"]["tol"] < 1e-6
    assert by["fastl1"]["rel_suboptimality"] < 1e-9 and by["fastl1"]["gap_ok"]
    assert by["fastl1"]["reference_rel_gap"] < 1e-9
    assert by["fastl1"]["best_peer"] in ("exact", "shifted")
    assert by["fastl1-default"]["best_peer"].endswith("-default")
    table = bench.format_table(rows)
    assert "fastl1 / best peer, matched accuracy" in table and "cert. rel. error" in table


def _write_data_folder(folder, rng):
    """Tiny stand-ins of the real data sets, in the layouts the loader reads."""
    n, p = 12, 30
    X = rng.standard_normal((n, p))
    labels = np.where(X[:, 0] > 0, 1.0, -1.0)
    np.savez(folder / "leukemia.npz", X=X, y=labels)
    np.savez(folder / "riboflavin.npz", X=X, y=X[:, 1] + rng.standard_normal(n))
    csr = sp.random(n, 50, density=0.3, format="csr", random_state=0)
    sp.save_npz(folder / "rcv1_small_train.npz", csr)
    with np.load(folder / "rcv1_small_train.npz") as z:  # y beside the sparse arrays
        arrays = dict(z)
    np.savez(folder / "rcv1_small_train.npz", **arrays, y=labels)


def test_real_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(bench.DATA_DIR_VARIABLE, raising=False)
    with pytest.raises(bench.MissingDataError, match="--data-dir"):
        bench.make_bench_problem("glmpath-riboflavin-lasso")
    with pytest.raises(bench.MissingDataError, match="not in the data folder"):
        bench.make_bench_problem("glmpath-riboflavin-lasso", data_dir=tmp_path)
    _write_data_folder(tmp_path, np.random.default_rng(0))
    monkeypatch.setenv(bench.DATA_DIR_VARIABLE, str(tmp_path))
    assert bench.resolve_data_dir(None) == str(tmp_path)
    for name in bench.PROBLEM_GROUPS["glmpaths"]:
        if "synthetic" in name:
            continue
        problem = bench.make_bench_problem(name)
        assert problem.task == "glmpath" and problem.fit_intercept
        assert problem.grid.size == 100
        assert problem.grid[-1] == pytest.approx(1e-3 * problem.grid[0])
        assert (problem.X.format == "csr") if "rcv1" in name else problem.X.flags.f_contiguous
        if problem.loss == "logistic":
            assert set(np.unique(problem.y)) == {-1.0, 1.0}
        # alpha_max: the all-zero solution is optimal there and not below it
        alphas, coefs, _ = peers._glmpath_fastl1(
            bench.BenchProblem(**{**problem.__dict__, "cache": {},
                                  "alphas": problem.grid[:1] * np.array([1.0, 0.9])}),
            1e-10)
        assert not np.any(sp.csc_matrix(coefs)[:, 0].toarray())
        assert np.any(sp.csc_matrix(coefs)[:, 1].toarray())
    problem = bench.make_bench_problem("glmpath-synthetic-logistic", scale=0.01)
    assert problem.shape == (20, 200) and set(np.unique(problem.y)) == {-1.0, 1.0}


def _tiny(loss, l1_ratio=1.0, sparse=False, seed=0) -> bench.BenchProblem:
    rng = np.random.default_rng(seed)
    n, p = 30, 60
    X = rng.standard_normal((n, p))
    if sparse:
        X = sp.csr_matrix(X * (rng.random((n, p)) < 0.3))
    signal = np.asarray(X[:, :3] @ np.array([2.0, -1.5, 1.0])).ravel()
    y = 5.0 + signal + rng.standard_normal(n)  # an intercept and y far from unit scale
    if loss == "logistic":
        y = np.where(signal + 0.5 * rng.standard_normal(n) > 0, 1.0, -1.0)
    amax = bench.bench_glm_alpha_max(X, y, loss, l1_ratio)
    return bench.BenchProblem(name="tiny", X=X, y=y, alpha=amax, l1_ratio=l1_ratio,
                              fit_intercept=True, task="glmpath",
                              alphas=np.geomspace(amax, 0.05 * amax, 8), loss=loss)


def _path_objectives(problem, raw):
    if isinstance(raw, peers.Timed):
        assert raw.seconds >= 0
        raw = raw.value
    solution = protocol._normalise(problem, raw)
    return bench.objectives.primal_dual_grid(problem, solution)


def _available(name):
    reason = peers.GLMPATH_SOLVERS[name].availability("glmpath")
    if reason is not None:
        pytest.skip(f"{name}: {reason}")


@pytest.mark.parametrize("name", ["adelie", "glmnet-R", "glmnet"])
@pytest.mark.parametrize("loss, l1_ratio, sparse", [
    ("squared", 1.0, False), ("squared", 0.5, True), ("logistic", 1.0, True)])
def test_peer_adapters_solve_the_same_problem(name, loss, l1_ratio, sparse):
    """Run tight, each peer reaches fastl1's objective at every alpha (the conventions:
    lambda = alpha, y's scale, C = 1 / (alpha n), 0/1 labels, intercept); at its defaults it
    returns the whole path, less accurately."""
    _available(name)
    if name == "glmnet-R" and (loss, sparse) == ("squared", False):
        pytest.skip("one dense and one sparse R call keep the test short")
    problem = _tiny(loss, l1_ratio, sparse)
    ours, _ = _path_objectives(problem, peers._glmpath_fastl1(problem, 1e-12))
    theirs, dual = _path_objectives(problem, peers.GLMPATH_SOLVERS[name].fit(problem, 1e-14))
    np.testing.assert_allclose(theirs, ours, rtol=1e-7)
    assert np.all(dual <= ours * (1 + 1e-9))
    loose, _ = _path_objectives(problem, peers.GLMPATH_SOLVERS[name].fit(problem, None))
    assert np.all(loose >= ours * (1 - 1e-9)) and np.all(loose <= ours * 1.05)


def test_r_glmnet_reports_its_own_time():
    _available("glmnet-R")
    problem = _tiny("squared", sparse=False, seed=1)
    raw = peers._glmpath_r_glmnet(problem, 1e-10)
    assert isinstance(raw, peers.Timed) and raw.seconds < 5
    result, elapsed, _ = protocol._timed(peers.GLMPATH_SOLVERS["glmnet-R"], problem, 1e-10)
    assert elapsed < 5 and isinstance(result, bench.PathSolution)
    assert "r_data" in problem.cache  # the data are written once per problem


def test_unavailable_peer_is_skipped(monkeypatch):
    monkeypatch.setattr(peers.shutil, "which", lambda name: None)
    peers._r_glmnet_version.cache_clear()
    try:
        reason = peers.GLMPATH_SOLVERS["glmnet-R"].availability("glmpath")
    finally:
        peers._r_glmnet_version.cache_clear()
    assert reason.startswith("not installed")
    assert peers.solvers_for("glmpath", ["glmnet-R", "sklearn", "adelie"]) == [
        peers.GLMPATH_SOLVERS["glmnet-R"], peers.GLMPATH_SOLVERS["adelie"]]
