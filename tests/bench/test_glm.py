"""The Cox and Poisson problems of the bench (fastl1.bench.glm): data, reference objectives,
the calibration protocol and the report."""

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

import fastl1
from fastl1 import bench
from fastl1.bench import glm
from fastl1.bench.peers import Solver

from .conftest import SCALE


def test_problems_are_built_with_fixed_seeds():
    problem = glm.make_glm_problem("cox-path-simulated", scale=SCALE)
    assert problem.shape == (60, 200) and problem.grid.shape == (100,)
    assert problem.grid[-1] == pytest.approx(0.01 * problem.grid[0])
    time, event = problem.y[:, 0], problem.y[:, 1]
    assert np.all(time >= 0) and set(np.unique(event)) == {0.0, 1.0}
    single = glm.make_glm_problem("cox-fit-simulated", scale=SCALE)
    assert single.grid.tolist() == [problem.grid[30]]
    counts = glm.make_glm_problem("poisson-path-sparse", scale=SCALE)
    assert sp.issparse(counts.X) and counts.X.format == "csc"
    assert np.all(counts.y == np.round(counts.y)) and counts.fit_intercept
    tall = glm.make_glm_problem("poisson-path-tall", scale=SCALE)
    assert tall.shape == (1000, 20) and tall.grid[-1] == pytest.approx(1e-4 * tall.grid[0])
    again = glm.make_glm_problem("poisson-path-tall", scale=SCALE)
    np.testing.assert_array_equal(again.y, tall.y)
    assert "cox-path-simulated" in dict(bench.list_problems())


def test_cox_objective_and_alpha_max_by_hand():
    # times 3, 1, 2, 2 (one censored at 2), events at 1, 2 and 3
    X = np.array([[1.0], [0.5], [-1.0], [2.0]])
    y = np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 1.0], [2.0, 0.0]])
    w = np.array([0.3])
    eta = X[:, 0] * 0.3
    loglik = (eta[1] - np.log(np.exp(eta).sum())
              + eta[2] - np.log(np.exp(eta[[0, 2, 3]]).sum())
              + eta[0] - eta[0])
    assert glm.cox_objective(X, y, w, 0.1) == pytest.approx(-loglik / 4 + 0.03, rel=1e-14)
    # the gradient at zero: -d_j + sum over the event times <= t_j of 1 / |risk set|
    gradient = np.array([-1 + 1 / 4 + 1 / 3 + 1, 1 / 4 - 1, 1 / 4 + 1 / 3 - 1, 1 / 4 + 1 / 3])
    assert glm.cox_alpha_max(X, y) == pytest.approx(abs(X[:, 0] @ gradient) / 4, rel=1e-14)
    # no overflow or underflow far from zero
    assert np.isfinite(glm.cox_objective(X, y, np.array([800.0]), 0.0))


def test_alpha_max_is_where_fastl1_leaves_zero():
    problem = glm.make_glm_problem("cox-fit-simulated", scale=SCALE)
    top = glm.cox_alpha_max(problem.X, problem.y)
    assert not np.any(fastl1.CoxRegression(alpha=top * 1.001).fit(problem.X, problem.y).coef_)
    assert np.any(fastl1.CoxRegression(alpha=top * 0.9).fit(problem.X, problem.y).coef_)
    counts = glm.make_glm_problem("poisson-fit-tall", scale=SCALE)
    top = glm.poisson_alpha_max(counts.X, counts.y)
    assert not np.any(fastl1.PoissonRegression(alpha=top * 1.001).fit(counts.X, counts.y).coef_)
    assert np.any(fastl1.PoissonRegression(alpha=top * 0.9).fit(counts.X, counts.y).coef_)


def test_poisson_objective_is_the_likelihood_up_to_a_constant():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = rng.poisson(2.0, 50).astype(float)
    objectives = []
    for w, b in ((np.zeros(3), 0.0), (np.array([0.1, -0.2, 0.0]), 0.4)):
        eta = X @ w + b
        likelihood = np.mean(np.exp(eta) - y * eta)
        objectives.append(glm.poisson_objective(X, y, w, b, 0.0) - likelihood)
    assert objectives[0] == pytest.approx(objectives[1], rel=1e-12)
    # at the saturated fit the deviance part is 0, so the objective is >= 0
    assert glm.poisson_objective(X, y, np.zeros(3), np.log(y.mean()), 0.0) > 0


def _sloppy(tolerance_met: float):
    """A fake peer: fastl1's solution, perturbed unless its tol is at most
    ``tolerance_met`` (so the calibration must tighten it)."""
    def fit(problem, tol):
        coefs, intercepts = glm._glm_fastl1(problem, 1e-8)
        if tol > tolerance_met:
            coefs = coefs * 1.01
        return coefs, intercepts

    return Solver("sloppy", "numpy", fit, "test", calibrate=True, default_tol=1e-2)


def test_protocol_calibrates_and_certifies():
    rows = bench.run(["cox-fit-simulated", "poisson-path-tall"],
                     ["fastl1", _sloppy(1e-4)], repeats=2, tol=1e-6, scale=SCALE)
    assert [(r["problem"], r["solver"]) for r in rows] == [
        ("cox-fit-simulated", "fastl1"), ("cox-fit-simulated", "sloppy"),
        ("poisson-path-tall", "fastl1"), ("poisson-path-tall", "sloppy")]
    for row in rows:
        assert row["status"] == "ok" and row["task"] == "glm"
        assert row["within_target"] and row["rel_error"] <= 1e-6
        assert len(row["times"]) == 2 and row["median"] > 0 and row["first_fit"] > 0
    assert [r["tol"] for r in rows if r["solver"] == "sloppy"] == [1e-4, 1e-4]
    fastl1_rows = [r for r in rows if r["solver"] == "fastl1"]
    assert all(r["best_peer"] == "sloppy" and r["ratio_best_peer"] > 0 for r in fastl1_rows)
    table = bench.format_table(rows)
    assert "rel. error (max)" in table and "fastl1 / best peer within the target" in table


def test_failures_and_incomplete_paths_are_reported():
    def stops_early(problem, tol):
        coefs, intercepts = glm._glm_fastl1(problem, 1e-8)
        coefs = np.array(coefs, dtype=float)
        coefs[:, 50:] = np.nan
        return coefs, intercepts

    def broken(problem, tol):
        raise RuntimeError("no convergence at all")

    short = Solver("short", "numpy", stops_early, "test", calibrate=True, default_tol=1e-2)
    failing = Solver("broken", "numpy", broken, "test", calibrate=True, default_tol=1e-2)
    missing = dataclasses.replace(short, name="absent", module="no_such_module_here")
    rows = bench.run(["poisson-path-tall"], ["fastl1", short, failing, missing],
                     repeats=1, tol=1e-6, scale=SCALE)
    by = {row["solver"]: row for row in rows}
    assert by["short"]["within_target"] is False and "fitted 50 of 100" in by["short"]["note"]
    assert by["broken"]["status"] == "failed" and "no convergence" in by["broken"]["note"]
    assert by["absent"]["status"] == "skipped"
    assert by["fastl1"]["best_peer"] is None  # no peer within the target
    table = bench.format_table(rows)
    assert "broken: failed" in table and "absent: skipped" in table


def test_solver_selection():
    assert {"sksurv", "glum", "glmnet-R", "skglm"} <= set(bench.solver_names())
    picked = [s.name for s in bench.peers.solvers_for("glm", ["fastl1", "glum", "sklearn"])]
    assert picked == ["fastl1", "glum"]
    assert glm.GLM_SOLVERS["glum"].availability("cox") is not None
    assert glm.GLM_SOLVERS["sksurv"].availability("poisson") == "Cox only"


@pytest.mark.peers
@pytest.mark.parametrize("name", ["cox-fit-simulated", "poisson-fit-sparse", "poisson-path-tall"])
def test_peers_reach_the_target(name):
    rows = bench.run([name], ["fastl1", "sksurv", "skglm", "glmnet-R", "glum"], repeats=1,
                     tol=1e-7, scale=SCALE)
    ran = [row for row in rows if row["status"] == "ok"]
    assert len(ran) >= 2
    assert all(row["within_target"] for row in ran), [(r["solver"], r["rel_error"]) for r in ran]


def test_glum_is_not_run_on_wide_problems():
    wide = glm.GLMProblem("wide", sp.csc_matrix((10, 6000)), np.ones(10), "poisson",
                          np.array([1.0]), "wide")
    with pytest.raises(RuntimeError, match="dense n_features x n_features Hessian"):
        glm._glm_glum(wide, 1e-4)
