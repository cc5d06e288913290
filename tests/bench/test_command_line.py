"""``fastl1 bench``: the command line's front end to :mod:`fastl1.bench`."""

import json
import subprocess
import sys

import pytest

from fastl1 import bench
from fastl1.cli import main


def test_cli_bench(capsys, tmp_path):
    path = tmp_path / "bench.json"
    argv = ["bench", "--problems", "wide-dense-a10", "--scale", "0.01", "--solvers", "fastl1",
            "--repeats", "1", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "wide-dense-a10" in out and "fastl1/solver" in out and "fastl1 " in out
    data = json.loads(path.read_text())
    assert set(data) == {"environment", "settings", "results"}
    (row,) = data["results"]
    assert row["solver"] == "fastl1" and row["status"] == "ok"
    assert data["settings"]["repeats"] == 1


def test_cli_bench_list(capsys):
    assert main(["bench", "--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in bench.PROBLEMS)
    assert "groups" in out and all(name in out for name in bench.PROBLEM_GROUPS)


def test_cli_bench_groups(capsys, tmp_path, monkeypatch):
    monkeypatch.delenv(bench.DATA_DIR_VARIABLE, raising=False)
    path = tmp_path / "bench.json"
    argv = ["bench", "--problems", "paths", "cv", "--scale", "0.005", "--solvers", "fastl1",
            "--repeats", "1", "--json", str(path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    groups = bench.PROBLEM_GROUPS
    for word in (*groups["paths"], *groups["cv"], "objective (sum)", "cert. subopt (max)",
                 "same alpha_", "fastl1-n_jobs=1", "fastl1 n_jobs=1 / n_jobs=2 speed-up"):
        assert word in out
    data = json.loads(path.read_text())
    assert data["settings"]["problems"] == groups["paths"] + groups["cv"]
    # without a data folder the glmpath problems on real data give one skipped row each
    skipped = [r for r in data["results"] if r["status"] == "skipped"]
    assert [r["problem"] for r in skipped] == [
        name for name in groups["glmpaths"] if "synthetic" not in name]
    assert all(r["solver"] == "(all)" and "--data-dir" in r["note"] for r in skipped)
    glm = [r for r in data["results"] if r["task"] == "glmpath" and r["status"] == "ok"]
    assert [r["solver"] for r in glm] == ["fastl1", "fastl1-default"] * 2
    assert all(r["gap_ok"] for r in glm if r["accuracy"] == "matched")
    rows = [r for r in data["results"] if r["task"] != "glmpath"]
    assert [r["solver"] for r in rows] == ["fastl1"] * 3 + ["fastl1", "fastl1-n_jobs=1"]
    assert all(r["status"] == "ok" for r in rows)
    assert all(r["gap_ok"] for r in rows if r["task"] == "path")
    assert all(r["same_alpha"] for r in rows if r["task"] == "cv")
    assert rows[3]["speedup_n_jobs"] > 0 and len(rows[0]["objectives"]) == 100
    assert "real data not found" in out and "glmpath problems" in out


@pytest.mark.parametrize("argv", [
    ["bench", "--problems", "no-such-problem"],
    ["bench", "--problems", "paths", "no-such-group"],
    ["bench", "--solvers", "no-such-solver"],
    ["bench", "--repeats", "0"],
    ["bench", "--tol", "-1"],
])
def test_cli_bench_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert "invalid choice" in capsys.readouterr().err or argv[1] in ("--repeats", "--tol")


def test_python_m_fastl1_bench_list():
    result = subprocess.run([sys.executable, "-m", "fastl1", "bench", "--list"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "sparse-csr-a100" in result.stdout
