"""Tests for the fastl1 command-line interface."""

import subprocess
import sys

import numpy as np
import pytest

import fastl1
from fastl1.cli import _alpha_max, main


def test_demo_runs(capsys):
    assert main(["demo", "--n-samples", "40", "--n-features", "200"]) == 0
    out = capsys.readouterr().out
    assert "40 samples x 200 genes" in out
    assert "alpha_max" in out
    assert "selected features:" in out
    assert "gene_" in out
    assert "causal" in out
    assert "dual_gap_" in out
    assert "tol" in out
    assert "first fit" in out and "steady state" in out
    assert "recovery:" in out
    assert "true causal genes selected" in out
    assert len(out.splitlines()) <= 35


def test_demo_large_alpha_selects_nothing(capsys):
    assert main(["demo", "--n-samples", "20", "--n-features", "50", "--alpha-ratio", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "selected features: 0 of 50" in out
    assert "0/10 true causal genes selected" in out


def test_alpha_max_gives_zero_model():
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 15)) + 5.0
    y = X[:, 0] - 2 * X[:, 3] + rng.standard_normal(30)
    amax = _alpha_max(X, y)
    assert np.all(Lasso(alpha=amax * 1.001, tol=1e-12).fit(X, y).coef_ == 0)
    assert np.any(Lasso(alpha=amax * 0.95, tol=1e-12).fit(X, y).coef_ != 0)


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help_exits_zero(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_version(capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(["--version"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("fastl1 ")
    expected = getattr(fastl1, "__version__", None)
    if expected:
        assert expected in out


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--n-samples", "0"],
        ["demo", "--n-features", "abc"],
        ["demo", "--alpha-ratio", "-1"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2


def test_no_command_returns_2(capsys):
    assert main([]) == 2
    assert "usage:" in capsys.readouterr().err


def test_python_m_fastl1():
    result = subprocess.run(
        [sys.executable, "-m", "fastl1", "demo", "--n-samples", "30", "--n-features", "100"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "recovery:" in result.stdout
