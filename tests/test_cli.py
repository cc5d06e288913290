"""Tests for the fastl1 command-line interface."""

import csv
import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

import fastl1
from fastl1.cli import main


def test_demo_runs_the_workflow(capsys, tmp_path):
    out_dir = tmp_path / "demo"
    assert main(["demo", "--n-samples", "40", "--n-features", "200", "--out", str(out_dir),
                 "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "40 samples x 200 features" in out
    assert "alpha_1se" in out and "duality gap" in out
    assert "recovery:" in out and "causal genes selected" in out
    assert str(out_dir) in out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["alpha_rule"] == "1se" and summary["alpha"] == summary["alpha_1se"]
    assert summary["dual_gap"] <= summary["gap_certified_below"]
    assert summary["recovery"]["causal_genes"] == 10
    rows = list(csv.reader(open(out_dir / "selected_features.csv")))
    assert rows[0] == ["rank", "feature", "coefficient", "abs_coefficient"]
    assert len(rows) - 1 == summary["n_selected"]
    assert (out_dir / "cv_curve.png").stat().st_size > 1000
    assert (out_dir / "path.png").stat().st_size > 1000


def _write_table(path, X, y, names, ids=True, transpose=False, sep=","):
    header = (["sample"] if ids else []) + ["outcome"] + names
    rows = [([f"s{i}"] if ids else []) + [f"{y[i]:.6g}"] + [f"{v:.6g}" for v in X[i]]
            for i in range(X.shape[0])]
    table = [header] + rows
    if transpose:
        table = [list(col) for col in zip(*table, strict=True)]
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", newline="") as handle:
        csv.writer(handle, delimiter=sep).writerows(table)


def _expression(n=60, p=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 3.0, p) + 5.0
    y = 3 * X[:, 0] - 2 * X[:, 7] + rng.standard_normal(n)
    return X, y, [f"g{j}" for j in range(p)]


@pytest.mark.parametrize("name, transpose, sep", [
    ("data.csv", False, ","), ("data.tsv.gz", False, "\t"), ("genes_by_rows.tsv", True, "\t")])
def test_fit_reads_tables_and_writes_outputs(tmp_path, capsys, name, transpose, sep):
    X, y, names = _expression()
    X[:, 5] = 1.0  # a constant gene: dropped with a note
    path = tmp_path / name
    _write_table(path, X, y, names, transpose=transpose, sep=sep)
    out_dir = tmp_path / "out"
    argv = ["fit", str(path), "--target", "outcome", "--out", str(out_dir), "--cv", "3",
            "--alphas", "20", "--stability", "--n-resamples", "5"]
    assert main(argv + (["--transpose"] if transpose else [])) == 0
    out = capsys.readouterr().out
    assert "60 samples x 39 features" in out
    assert "dropped 1 constant feature(s): g5" in out
    if not transpose:  # with --transpose the header row holds the sample ids
        assert "using the first column 'sample' as sample ids" in out
    rows = list(csv.reader(open(out_dir / "selected_features.csv")))
    assert {rows[1][1], rows[2][1]} == {"g0", "g7"}
    assert rows[0][-1] == "stability_score"
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["cv_folds"] == 3 and summary["task"] == "regression"
    assert {"g0", "g7"} <= set(summary["stability"]["stable_features"])
    for png in ("cv_curve.png", "path.png", "stability.png"):
        assert (out_dir / png).exists()


def test_fit_npz_and_svmlight_agree(tmp_path, capsys):
    from sklearn.datasets import dump_svmlight_file

    X, y, _ = _expression(seed=1)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    dump_svmlight_file(X, y, str(tmp_path / "d.svm"))
    coefs = []
    for name in ("d.npz", "d.svm"):
        # A tight tol: dense and sparse arithmetic stop at different points within a loose one.
        assert main(["fit", str(tmp_path / name), "--out", str(tmp_path / name[-3:]),
                     "--cv", "3", "--alphas", "10", "--tol", "1e-9", "--quiet"]) == 0
        rows = list(csv.reader(open(tmp_path / name[-3:] / "selected_features.csv")))
        coefs.append({r[1].lstrip("xf"): float(r[2]) for r in rows[1:]})
    assert coefs[0].keys() == coefs[1].keys()
    for key, value in coefs[0].items():
        assert coefs[1][key] == pytest.approx(value, rel=1e-4)


@pytest.mark.parametrize("edit, message", [
    (lambda rows: rows, "no target column named 'outcom'"),
    (lambda rows: rows[:3] + [rows[3][:2] + ["abc"] + rows[3][3:]] + rows[4:],
     "non-numeric cell(s): sample 's2' / column 'g0'"),
    (lambda rows: rows[:3] + [rows[3][:2] + ["NA"] + rows[3][3:]] + rows[4:],
     "missing or infinite value(s)"),
    (lambda rows: rows[:2] + [rows[2][:-1]] + rows[3:], "different numbers of cells"),
])
def test_fit_reports_bad_files(tmp_path, capsys, edit, message):
    X, y, names = _expression(n=20, p=8, seed=2)
    path = tmp_path / "bad.csv"
    _write_table(path, X, y, names)
    rows = list(csv.reader(open(path)))
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(edit(rows))
    target = "outcom" if "target" in message else "outcome"
    assert main(["fit", str(path), "--target", target, "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert not (tmp_path / "o").exists()


def test_fit_unreadable_and_missing_files(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "nope.csv"), "--target", "y"]) == 1
    assert "No such data file" in capsys.readouterr().err
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    assert main(["fit", str(tmp_path / "binary.csv"), "--target", "y"]) == 1
    assert "error" in capsys.readouterr().err


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
        ["demo", "--alpha-rule", "max"],
        ["fit"],
        ["fit", "x.csv", "--cv", "1"],
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


def test_python_m_fastl1(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "fastl1", "demo", "--n-samples", "30", "--n-features", "100",
         "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "recovery:" in result.stdout


def test_fit_classification_with_string_labels(tmp_path, capsys):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((80, 20))
    labels = np.where(X[:, 0] - X[:, 4] + 0.3 * rng.standard_normal(80) > 0, "AML", "ALL")
    path = tmp_path / "leukemia.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient", "type"] + [f"g{j}" for j in range(20)])
        for i in range(80):
            writer.writerow([f"p{i}", labels[i]] + [f"{v:.6f}" for v in X[i]])
    assert main(["fit", str(path), "--target", "type", "--out", str(tmp_path / "o"),
                 "--cv", "4", "--stability", "--n-resamples", "5"]) == 0
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["task"] == "classification" and summary["classes"] == ["ALL", "AML"]
    assert {"g0", "g4"} <= set(summary["stability"]["stable_features"])
    rows = list(csv.reader(open(tmp_path / "o" / "selected_features.csv")))
    assert {rows[1][1], rows[2][1]} == {"g0", "g4"}
