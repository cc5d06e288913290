"""The multi-task and group lasso problems of the bench (fastl1.bench.blocks): data,
objective, the calibration protocol, solver selection and the peers' conventions."""

import numpy as np
import pytest

from fastl1 import bench
from fastl1.bench import blocks
from fastl1.bench.peers import Solver

SCALE = 0.02  # 30 x 400 (x 10 tasks): a run takes well under a second


def test_problems_and_groups():
    assert bench.PROBLEM_GROUPS["groups"] == list(blocks.BLOCK_SPECS)
    assert bench.PROBLEM_GROUPS["multitask"] == ["multitask-fit", "multitask-path"]
    path = blocks.make_block_problem("multitask-path", scale=SCALE)
    assert path.shape == (30, 400) and path.n_tasks == 10 and path.grid.shape == (100,)
    assert path.grid[-1] == pytest.approx(path.grid[0] / 100)
    group = blocks.make_block_problem("grouplasso-fit", scale=SCALE)
    assert group.shape[1] % 10 == 0 and group.grid.shape == (1,)
    np.testing.assert_allclose(group.weights, np.sqrt(10))
    assert "grouplasso-path" in dict(bench.list_problems())


def test_objective_by_hand_and_alpha_max():
    problem = blocks.make_block_problem("grouplasso-path", scale=SCALE)
    X, y, top = problem.X, problem.y, problem.grid[0]
    rng = np.random.default_rng(0)
    w = rng.standard_normal(X.shape[1])
    r = y - X @ w
    norms = np.linalg.norm(w.reshape(-1, 10), axis=1)
    expected = 0.5 * r @ r / X.shape[0] + 0.3 * np.sqrt(10) * norms.sum()
    assert problem.objective(w, 0.3) == pytest.approx(expected, rel=1e-13)
    # alpha_max: zero is optimal there, not just below
    corr = np.linalg.norm((X.T @ y).reshape(-1, 10), axis=1) / np.sqrt(10) / X.shape[0]
    assert corr.max() == pytest.approx(top, rel=1e-12)
    mt = blocks.make_block_problem("multitask-fit", scale=SCALE)
    W = rng.standard_normal((10, mt.shape[1]))
    R = mt.y - mt.X @ W.T
    expected = 0.5 * np.sum(R * R) / 30 + 0.2 * np.linalg.norm(W, axis=0).sum()
    assert mt.objective(W, 0.2) == pytest.approx(expected, rel=1e-13)


def _sloppy(tolerance_met: float):
    """A fake peer: fastl1's solution, perturbed unless its tol is at most
    ``tolerance_met`` (so the calibration must tighten it)."""
    def fit(problem, tol):
        coefs, intercepts = blocks._blocks_fastl1(problem, 1e-10)
        return (coefs * 1.01 if tol > tolerance_met else coefs), intercepts

    return Solver("sloppy", "numpy", fit, "test", calibrate=True, default_tol=1e-2)


def test_protocol_calibrates_and_reports():
    rows = bench.run(["grouplasso-fit", "multitask-fit"], ["fastl1", _sloppy(1e-4)],
                     repeats=2, tol=1e-6, scale=SCALE)
    assert [(r["problem"], r["solver"]) for r in rows] == [
        ("grouplasso-fit", "fastl1"), ("grouplasso-fit", "sloppy"),
        ("multitask-fit", "fastl1"), ("multitask-fit", "sloppy")]
    for row in rows:
        assert row["status"] == "ok" and row["task"] == "blocks"
        assert row["within_target"] and row["rel_error"] <= 1e-6
        assert len(row["times"]) == 2 and row["median"] > 0
    assert [r["tol"] for r in rows if r["solver"] == "sloppy"] == [1e-4, 1e-4]
    assert all(r["best_peer"] == "sloppy" for r in rows if r["solver"] == "fastl1")
    table = bench.format_table(rows)
    assert "multi-task and group lasso problems" in table
    assert "fastl1 / best peer within the target" in table


def test_solver_selection():
    assert {"adelie", "glmnet-R", "celer"} <= set(bench.solver_names())
    picked = [s.name for s in bench.peers.solvers_for("blocks", ["fastl1", "adelie", "glum"])]
    assert picked == ["fastl1", "adelie"]
    assert blocks.BLOCK_SOLVERS["sklearn"].availability("group") == "no group lasso"
    assert "mgaussian" in blocks.BLOCK_SOLVERS["glmnet-R"].availability("group")


@pytest.mark.peers
@pytest.mark.parametrize("name", list(blocks.BLOCK_SPECS))
def test_peers_solve_the_same_problem(name):
    """Every peer's conventions (adelie's multigaussian scaling, glmnet's mgaussian lambda,
    celer's and skglm's layouts) give the objective's minimiser: each reaches the target."""
    rows = bench.run([name], ["fastl1", "sklearn", "celer", "skglm", "adelie", "glmnet-R"],
                     repeats=1, tol=1e-6, scale=SCALE)
    ran = [row for row in rows if row["status"] == "ok"]
    assert len(ran) >= 3, [(r["solver"], r["note"]) for r in rows]
    assert all(row["within_target"] for row in ran), [(r["solver"], r["rel_error"]) for r in ran]
