"""Tests for the fastl1 command-line interface."""

import csv
import gzip
import json
import subprocess
import sys

import numpy as np
import pytest

import fastl1
import fastl1.datasets
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


def _one_error_line(err: str, *fragments: str) -> None:
    """A single line on stderr naming the problem, no traceback."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _classes_table(path, n=80, p=20, n_classes=2, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    if n_classes == 2:
        labels = np.where(X[:, 0] - X[:, 4] + 0.3 * rng.standard_normal(n) > 0, "AML", "ALL")
    else:
        labels = np.array(["A", "B", "C"])[np.argmax(
            np.column_stack([X[:, 0], X[:, 4], -X[:, 0] - X[:, 4]])
            + 0.3 * rng.standard_normal((n, 3)), axis=1)]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient", "type"] + [f"g{j}" for j in range(p)])
        for i in range(n):
            writer.writerow([f"p{i}", labels[i]] + [f"{v:.6f}" for v in X[i]])
    return labels


def test_fit_classification_reports_cv_performance_and_plots(tmp_path, capsys):
    path = tmp_path / "leukemia.csv"
    _classes_table(path)
    out_dir = tmp_path / "o"
    assert main(["fit", str(path), "--target", "type", "--out", str(out_dir), "--cv", "4",
                 "--alphas", "12"]) == 0
    out = capsys.readouterr().out
    assert "measure=deviance (log-loss)" in out and "C_min =" in out and "C_1se =" in out
    assert "C grid:    12 values from" in out
    assert "accuracy" in out and "ROC AUC" in out and "log-loss" in out
    assert "positive coefficients favour 'AML' (classes ALL, AML)" in out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["measure"] == "deviance" and summary["positive_class"] == "AML"
    assert len(summary["Cs"]) == 12 and summary["Cs"] == sorted(summary["Cs"])
    assert summary["C"] == summary["C_min"] and summary["C"] in summary["Cs"]
    cv = summary["cv_at_C"]
    assert 0.8 < cv["accuracy"] <= 1 and 0.8 < cv["roc_auc"] <= 1 and 0 < cv["log_loss"] < 0.6
    assert isinstance(summary["intercept"], float)
    assert 1 <= summary["n_iter_at_C"] <= summary["n_iter_path"]
    for png in ("cv_curve.png", "path.png"):
        assert (out_dir / png).stat().st_size > 1000
    # The positive coefficient belongs to the gene that raises the odds of AML.
    rows = {r[1]: float(r[2]) for r in list(csv.reader(open(out_dir / "selected_features.csv")))
            [1:]}
    assert rows["g0"] > 0 > rows["g4"]


def test_fit_classification_measures_and_rule(tmp_path, capsys):
    path = tmp_path / "leukemia.csv"
    _classes_table(path)
    for measure in ("class", "auc"):
        out_dir = tmp_path / measure
        assert main(["fit", str(path), "--target", "type", "--out", str(out_dir), "--cv", "4",
                     "--alphas", "12", "--measure", measure, "--alpha-rule", "1se",
                     "--quiet"]) == 0
        summary = json.loads((out_dir / "summary.json").read_text())
        assert summary["measure"] == measure and summary["alpha_rule"] == "1se"
        assert summary["C"] == summary["C_1se"] <= summary["C_min"]
    multi = tmp_path / "three.csv"
    _classes_table(multi, n=90, n_classes=3)
    assert main(["fit", str(multi), "--target", "type", "--out", str(tmp_path / "m"), "--cv",
                 "3", "--alphas", "10", "--measure", "auc"]) == 1
    _one_error_line(capsys.readouterr().err, "needs two classes")
    assert main(["fit", str(multi), "--target", "type", "--out", str(tmp_path / "m"), "--cv",
                 "3", "--alphas", "10"]) == 0
    out = capsys.readouterr().out
    assert "intercept: A " in out and "coef_<class>" in out and "ROC AUC" not in out
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert len(summary["intercept"]) == 3 and "positive_class" not in summary
    assert (tmp_path / "m" / "path.png").exists()


def test_fit_classification_of_a_continuous_target_is_one_line(tmp_path, capsys):
    X, y, names = _expression(n=71, p=8, seed=4)
    path = tmp_path / "riboflavin.csv"
    _write_table(path, X, y, names)
    assert main(["fit", str(path), "--target", "outcome", "--task", "classification",
                 "--out", str(tmp_path / "o")]) == 1
    _one_error_line(capsys.readouterr().err, "71 distinct values", "use --task regression")


def test_fit_regression_summary_has_intercept_and_documented_iterations(tmp_path, capsys):
    X, y, names = _expression(n=40, p=8, seed=5)
    path = tmp_path / "d.csv"
    _write_table(path, X, y, names)
    assert main(["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "o"),
                 "--cv", "3", "--alphas", "10"]) == 0
    assert "intercept:" in capsys.readouterr().out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert "n_iter" not in summary and summary["n_iter_at_alpha"] >= 1
    assert summary["measure"] == "mse" and isinstance(summary["intercept"], float)


def test_fit_reads_scipy_sparse_npz_and_stays_sparse(tmp_path, capsys, monkeypatch):
    import zipfile

    import scipy.sparse as sp

    import fastl1.workflow

    X, y, _ = _expression(n=50, p=12, seed=6)
    X[X < 5.5] = 0.0
    y = 3 * X[:, 1] - 2 * X[:, 8] + 0.1 * np.random.default_rng(0).standard_normal(50)
    path = tmp_path / "sparse.npz"
    sp.save_npz(path, sp.csr_matrix(X), compressed=False)
    with zipfile.ZipFile(path, "a") as archive:  # add y beside the save_npz arrays
        with archive.open("y.npy", "w") as handle:
            np.lib.format.write_array(handle, y)
    seen = []
    fit = fastl1.workflow.LassoCV.fit

    def spy(self, X, y, *args, **kwargs):
        seen.append(type(X).__name__)
        return fit(self, X, y, *args, **kwargs)

    monkeypatch.setattr(fastl1.workflow.LassoCV, "fit", spy)
    assert main(["fit", str(path), "--out", str(tmp_path / "o"), "--cv", "3", "--alphas",
                 "10"]) == 0
    assert "50 samples x 12 features" in capsys.readouterr().out
    assert seen and all("csc" in name or "csr" in name for name in seen)
    rows = list(csv.reader(open(tmp_path / "o" / "selected_features.csv")))
    assert {rows[1][1], rows[2][1]} == {"f1", "f8"}


def test_fit_target_in_the_other_orientation_gets_a_hint(tmp_path, capsys):
    X, y, names = _expression(n=20, p=8, seed=7)
    rows_path, cols_path = tmp_path / "genes_by_rows.tsv", tmp_path / "samples.tsv"
    _write_table(rows_path, X, y, names, transpose=True, sep="\t")
    _write_table(cols_path, X, y, names, sep="\t")
    assert main(["fit", str(rows_path), "--target", "outcome", "--out",
                 str(tmp_path / "o")]) == 1
    _one_error_line(capsys.readouterr().err, "'outcome' is a row name", "add --transpose")
    assert main(["fit", str(cols_path), "--target", "outcome", "--transpose", "--out",
                 str(tmp_path / "o")]) == 1
    _one_error_line(capsys.readouterr().err, "'outcome' is a column name", "drop --transpose")


def test_fit_duplicate_names(tmp_path, capsys):
    X, y, names = _expression(n=40, p=8, seed=8)
    names[3] = names[5] = "g1"
    path = tmp_path / "dup.csv"
    _write_table(path, X, y, names)
    assert main(["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "o"),
                 "--cv", "3", "--alphas", "10"]) == 0
    captured = capsys.readouterr()
    _one_error_line(captured.err, "warning", "'g1' (3x)", "name.1")
    assert "duplicated feature name" in captured.out  # and a note in the report
    with pytest.warns(UserWarning, match="duplicated feature name"):
        data = fastl1.datasets.load_table(path, "outcome")
    assert [data.feature_names[k] for k in (1, 3, 5)] == ["g1", "g1.1", "g1.2"]


@pytest.mark.parametrize("transpose", [False, True])
def test_fit_duplicated_target_is_an_error_not_a_feature(tmp_path, capsys, transpose):
    X, y, names = _expression(n=40, p=8, seed=9)
    X[:, 2] = y  # a copy of the target under the target's name
    names[2] = "outcome"
    path = tmp_path / "leak.tsv"
    _write_table(path, X, y, names, transpose=transpose, sep="\t")
    argv = ["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "o"), "--cv", "3"]
    assert main(argv + (["--transpose"] if transpose else [])) == 1
    _one_error_line(capsys.readouterr().err, "named 'outcome'", "copies")
    assert not (tmp_path / "o").exists()


def test_fit_space_delimited_and_gct_files(tmp_path, capsys):
    X, y, names = _expression(n=40, p=8, seed=10)
    path = tmp_path / "spaces.txt"
    _write_table(path, X, y, names, sep=" ")
    assert main(["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "a"),
                 "--cv", "3", "--alphas", "10"]) == 0
    out = capsys.readouterr().out
    assert "40 samples x 8 features" in out and "whitespace-delimited" in out
    # GCT: two header lines, Name and Description columns, genes as rows; a target row added.
    gct = tmp_path / "expression.gct"
    with open(gct, "w") as handle:
        handle.write(f"#1.2\n{len(names)}\t{X.shape[0]}\n")
        handle.write("\t".join(["Name", "Description", *(f"s{i}" for i in range(40))]) + "\n")
        handle.write("\t".join(["outcome", "na", *(f"{v:.6g}" for v in y)]) + "\n")
        for j, name in enumerate(names):
            handle.write("\t".join([name, f"gene {name}", *(f"{v:.6g}" for v in X[:, j])])
                         + "\n")
    assert main(["fit", str(gct), "--target", "outcome", "--transpose", "--out",
                 str(tmp_path / "b"), "--cv", "3", "--alphas", "10"]) == 0
    out = capsys.readouterr().out
    assert "40 samples x 8 features" in out
    assert "dropped non-numeric annotation column(s): Description" in out
    rows = list(csv.reader(open(tmp_path / "b" / "selected_features.csv")))
    assert {rows[1][1], rows[2][1]} == {"g0", "g7"}


def test_progress_bars_name_their_stage(tmp_path, capsys, monkeypatch):
    X, y, names = _expression(n=40, p=8, seed=11)
    path = tmp_path / "d.csv"
    _write_table(path, X, y, names)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "o"),
                 "--cv", "3", "--alphas", "10", "--stability", "--n-resamples", "3"]) == 0
    err = capsys.readouterr().err
    assert "cross-validation [" in err and "stability selection [" in err
    assert err.count("cross-validation [##############################] 4/4") == 1


def _small_table(tmp_path):
    X, y, names = _expression(n=30, p=8, seed=12)
    path = tmp_path / "d.csv"
    _write_table(path, X, y, names)
    return path


@pytest.mark.parametrize("where", ["file", "under_file", "devnull"])
def test_fit_bad_out_is_one_line_before_fitting(tmp_path, capsys, monkeypatch, where):
    import fastl1.workflow

    def no_fit(*args, **kwargs):
        raise AssertionError("fitted before checking --out")

    monkeypatch.setattr(fastl1.workflow, "select_features", no_fit)
    (tmp_path / "a_file").write_text("x")
    out = {"file": tmp_path / "a_file", "under_file": tmp_path / "a_file" / "out",
           "devnull": "/dev/null"}[where]
    assert main(["fit", str(_small_table(tmp_path)), "--target", "outcome", "--out",
                 str(out)]) == 1
    _one_error_line(capsys.readouterr().err, "output folder")


def test_fit_refuses_a_non_empty_out_unless_overwrite(tmp_path, capsys):
    path = _small_table(tmp_path)
    out_dir = tmp_path / "o"
    argv = ["fit", str(path), "--target", "outcome", "--out", str(out_dir), "--cv", "3",
            "--alphas", "10", "--quiet"]
    assert main(argv + ["--stability", "--n-resamples", "3"]) == 0
    assert (out_dir / "stability.csv").exists()
    (out_dir / "my_notes.txt").write_text("keep me")
    assert main(argv) == 1
    _one_error_line(capsys.readouterr().err, "is not empty", "--overwrite")
    assert main(argv + ["--overwrite"]) == 0
    # No stale stability files beside the new results; the user's file stays.
    assert not (out_dir / "stability.csv").exists() and not (out_dir / "stability.png").exists()
    assert (out_dir / "my_notes.txt").read_text() == "keep me"
    summary = json.loads((out_dir / "summary.json").read_text())
    assert "stability" not in summary and "stability.csv" not in summary["outputs"]
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "x").write_text("")
    assert main(["demo", "--n-samples", "20", "--n-features", "30", "--out", str(demo)]) == 1
    _one_error_line(capsys.readouterr().err, "is not empty")


def test_fit_bad_files_are_one_line(tmp_path, capsys):
    X, y, names = _expression(n=20, p=8, seed=13)
    cases = {}
    np.savez(tmp_path / "whole.npz", X=X, y=y)
    blob = (tmp_path / "whole.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(blob[: len(blob) // 2])
    cases["truncated.npz"] = "truncated"
    with open(tmp_path / "long_cell.csv", "w") as handle:
        handle.write("outcome,g0\n1," + "9" * 140_000 + "\n2,3\n")
    cases["long_cell.csv"] = "131072"
    np.savez(tmp_path / "names.npz", X=X, y=y, feature_names=np.array(names[:3]))
    cases["names.npz"] = "feature_names has 3 names for the 8 columns"
    np.savez(tmp_path / "complex.npz", X=X + 1j, y=y)
    cases["complex.npz"] = "complex"
    np.savez(tmp_path / "complex_y.npz", X=X, y=y + 1j)
    cases["complex_y.npz"] = "complex"
    _write_table(tmp_path / "whole.csv.gz", X, y, names)
    blob = (tmp_path / "whole.csv.gz").read_bytes()
    (tmp_path / "truncated.csv.gz").write_bytes(blob[: len(blob) - 40])
    cases["truncated.csv.gz"] = "truncated"
    for name, fragment in cases.items():
        assert main(["fit", str(tmp_path / name), "--target", "outcome", "--out",
                     str(tmp_path / "o")]) == 1, name
        _one_error_line(capsys.readouterr().err, "fastl1 fit: error:", fragment)
        assert not (tmp_path / "o").exists()


def test_bench_json_to_a_folder_is_one_line(tmp_path, capsys):
    assert main(["bench", "--json", str(tmp_path), "--problems", "fits"]) == 2
    _one_error_line(capsys.readouterr().err, "--json", "is a folder")
    assert main(["bench", "--json", str(tmp_path / "no" / "r.json")]) == 2
    _one_error_line(capsys.readouterr().err, "does not exist")


def test_fit_whole_number_float_labels_are_named_as_integers(tmp_path, capsys):
    rng = np.random.default_rng(14)
    X = rng.standard_normal((60, 6))
    y = np.where(X[:, 0] + 0.3 * rng.standard_normal(60) > 0, 1.0, -1.0)
    np.savez(tmp_path / "pm.npz", X=X, y=y)
    assert main(["fit", str(tmp_path / "pm.npz"), "--out", str(tmp_path / "o"), "--cv", "3",
                 "--alphas", "8"]) == 0
    assert "positive coefficients favour '1' (classes -1, 1)" in capsys.readouterr().out
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["classes"] == ["-1", "1"] and summary["positive_class"] == "1"


def test_fit_keeps_unpenalized_covariates_in_every_model(tmp_path, capsys):
    X, y, names = _expression(n=50, p=12, seed=8)
    rng = np.random.default_rng(9)
    X[:, 3] = rng.standard_normal(50)  # a covariate unrelated to y: penalised, it drops out
    path = tmp_path / "d.csv"
    _write_table(path, X, y, names)
    assert main(["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "o"),
                 "--cv", "3", "--alphas", "10", "--alpha-rule", "1se",
                 "--unpenalized", "g3, g5", "--quiet"]) == 0
    rows = list(csv.reader(open(tmp_path / "o" / "selected_features.csv")))
    assert {"g3", "g5"} <= {row[1] for row in rows[1:]}
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert any("left unpenalised" in note for note in summary["notes"])
    assert main(["fit", str(path), "--target", "outcome", "--out", str(tmp_path / "p"),
                 "--unpenalized", "age"]) == 1
    _one_error_line(capsys.readouterr().err, "not found: age")


def test_fit_counts_with_the_poisson_family(tmp_path, capsys):
    rng = np.random.default_rng(12)
    X = rng.standard_normal((80, 10))
    y = rng.poisson(np.exp(0.9 * X[:, 1] - 0.6 * X[:, 4] + 1.0)).astype(float)
    path = tmp_path / "counts.csv"
    _write_table(path, X, y, [f"g{j}" for j in range(10)])
    out_dir = tmp_path / "o"
    assert main(["fit", str(path), "--target", "outcome", "--family", "poisson", "--out",
                 str(out_dir), "--cv", "3", "--alphas", "12"]) == 0
    out = capsys.readouterr().out
    assert "PoissonRegressionCV (log link)" in out and "Poisson deviance" in out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["task"] == "poisson" and summary["measure"] == "deviance"
    rows = list(csv.reader(open(out_dir / "selected_features.csv")))
    assert {"g1", "g4"} <= {row[1] for row in rows[1:]}
    assert main(["fit", str(path), "--target", "outcome", "--family", "poisson", "--task",
                 "classification", "--out", str(tmp_path / "p")]) == 2  # a bad command line
    _one_error_line(capsys.readouterr().err, "contradicts")


def test_fit_classification_keeps_unpenalized_covariates(tmp_path, capsys):
    rng = np.random.default_rng(13)
    X = rng.standard_normal((90, 8))
    labels = np.where(X[:, 0] - X[:, 2] + 0.5 * rng.standard_normal(90) > 0, "a", "b")
    path = tmp_path / "c.csv"
    header = ["sample", "type"] + [f"g{j}" for j in range(8)]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i in range(90):
            writer.writerow([f"s{i}", labels[i]] + [f"{v:.6g}" for v in X[i]])
    assert main(["fit", str(path), "--target", "type", "--out", str(tmp_path / "o"),
                 "--cv", "3", "--alphas", "8", "--alpha-rule", "1se", "--unpenalized", "g5",
                 "--quiet"]) == 0
    rows = list(csv.reader(open(tmp_path / "o" / "selected_features.csv")))
    assert "g5" in {row[1] for row in rows[1:]}


def _survival_table(path, n=80, p=12, seed=21, event_labels=("0:LIVING", "1:DECEASED"),
                    transpose=False):
    """Samples x (os_months, os_status, genes): genes g2 and g5 drive the hazard."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p)) * 2.0 + 3.0
    risk = 0.9 * (X[:, 2] - 3.0) - 0.7 * (X[:, 5] - 3.0)
    event_time = 20 * rng.weibull(1.5, n) * np.exp(-risk / 1.5)
    censored = rng.random(n) < 0.3
    time = np.where(censored, rng.uniform(0, event_time), event_time)
    header = ["sample", "os_months", "os_status"] + [f"g{j}" for j in range(p)]
    rows = [[f"s{i}", f"{time[i]:.4f}", event_labels[int(not censored[i])]]
            + [f"{v:.5f}" for v in X[i]] for i in range(n)]
    table = [header, *rows]
    if transpose:
        table = [list(col) for col in zip(*table, strict=True)]
    with open(path, "w", newline="") as handle:
        csv.writer(handle, delimiter="\t").writerows(table)
    return time, ~censored


@pytest.mark.parametrize("transpose", [False, True])
def test_fit_survival_time_and_event(tmp_path, capsys, transpose):
    path = tmp_path / "survival.tsv"
    time, event = _survival_table(path, transpose=transpose)
    out_dir = tmp_path / "o"
    argv = ["fit", str(path), "--time", "os_months", "--event", "os_status", "--out",
            str(out_dir), "--cv", "3", "--alphas", "12"] + (["--transpose"] if transpose else [])
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "80 samples x 12 features (cox)" in out  # time and event are not features
    assert "CoxRegressionCV (Breslow ties)" in out and "C-index:" in out
    assert "log-rank p = " in out
    summary = json.loads((out_dir / "summary.json").read_text())
    assert summary["task"] == "cox" and summary["measure"] == "deviance"
    assert summary["n_events"] == int(event.sum())
    assert summary["c_index_train"] > 0.7 and summary["c_index_cv"] > 0.6
    groups = summary["risk_groups"]
    assert groups["high"]["n"] + groups["low"]["n"] == 80 and groups["logrank_p"] < 0.01
    rows = list(csv.reader(open(out_dir / "selected_features.csv")))
    assert rows[0][-1] == "hazard_ratio"
    assert {"g2", "g5"} <= {row[1] for row in rows[1:]}
    positive = {row[1]: float(row[2]) for row in rows[1:]}
    assert positive["g2"] > 0 > positive["g5"]
    assert float(rows[1][4]) == pytest.approx(np.exp(float(rows[1][2])), rel=1e-8)
    for name in ("cv_curve.png", "path.png", "kaplan_meier.png"):
        assert (out_dir / name).stat().st_size > 1000
    # one row per sample, in the table's order, split at the median score
    risk = list(csv.DictReader(open(out_dir / "risk_groups.csv")))
    assert [row["sample"] for row in risk] == [f"s{i}" for i in range(80)]
    assert [int(row["event"]) for row in risk] == event.astype(int).tolist()
    np.testing.assert_allclose([float(row["time"]) for row in risk], time, atol=6e-5)  # (%.4f)
    score = np.array([float(row["risk_score"]) for row in risk])
    high = [row["risk_group"] == "high" for row in risk]
    assert high == (score > groups["split_at_score"]).tolist()
    assert sum(high) == groups["high"]["n"]
    assert {row["risk_group"] for row in risk} == {"high", "low"}


@pytest.mark.parametrize("argv, message", [
    (["--time", "os_months"], "--time needs --event"),
    (["--event", "os_status"], "--event needs --time"),
    (["--time", "os_months", "--event", "os_status", "--target", "g1"], "--target cannot"),
    (["--time", "os_months", "--event", "os_months"], "same column"),
    (["--family", "cox", "--target", "g1"], "--family cox needs --time and --event"),
    (["--time", "os_months", "--event", "os_status", "--family", "poisson"],
     "not --family poisson"),
    (["--time", "os_months", "--event", "os_status", "--task", "regression"],
     "not --task regression"),
    (["--target", "g1", "--event-value", "dead"], "--event-value goes with"),
])
def test_survival_options_are_checked(tmp_path, capsys, argv, message):
    path = tmp_path / "survival.tsv"
    _survival_table(path, n=10, p=6)
    assert main(["fit", str(path), "--out", str(tmp_path / "o"), *argv]) == 2
    _one_error_line(capsys.readouterr().err, message)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("labels, extra, message", [
    (("alive", "maybe", "dead"), [], "3 distinct values"),
    (("A", "B"), [], "cannot tell which value"),
    (("A", "B"), ["--event-value", "C"], "'C' is not in the event column"),
    (("0", "2"), [], "must hold 0/1"),
])
def test_bad_event_columns_are_refused(tmp_path, capsys, labels, extra, message):
    path = tmp_path / "survival.tsv"
    _survival_table(path, n=12, p=6, event_labels=labels[:2])
    if len(labels) == 3:  # a third label in the last row
        text = path.read_text().splitlines()
        cells = text[-1].split("\t")
        cells[2] = labels[2]
        text[-1] = "\t".join(cells)
        path.write_text("\n".join(text) + "\n")
    assert main(["fit", str(path), "--time", "os_months", "--event", "os_status", "--out",
                 str(tmp_path / "o"), *extra]) == 1
    _one_error_line(capsys.readouterr().err, message)


def test_missing_time_column_is_named(tmp_path, capsys):
    path = tmp_path / "survival.tsv"
    _survival_table(path, n=12, p=6)
    assert main(["fit", str(path), "--time", "os_month", "--event", "os_status", "--out",
                 str(tmp_path / "o")]) == 1
    _one_error_line(capsys.readouterr().err, "no time column named 'os_month'",
                    "'os_months'")


def test_event_labels_are_read():
    from fastl1.workflow import event_indicator

    np.testing.assert_array_equal(event_indicator(np.array([0.0, 1.0, 1.0])), [0, 1, 1])
    np.testing.assert_array_equal(event_indicator(np.array([True, False])), [1, 0])
    np.testing.assert_array_equal(
        event_indicator(np.array(["Dead", "Alive", "dead"])), [1, 0, 1])
    np.testing.assert_array_equal(
        event_indicator(np.array(["1:DECEASED", "0:LIVING"])), [1, 0])
    np.testing.assert_array_equal(event_indicator(np.array(["TRUE", "FALSE"])), [1, 0])
    np.testing.assert_array_equal(
        event_indicator(np.array(["relapse", "remission"])), [1, 0])
    np.testing.assert_array_equal(
        event_indicator(np.array(["x", "y", "x"]), event_value="y"), [0, 1, 0])
    np.testing.assert_array_equal(event_indicator(np.array([2.0, 0.0]), event_value=2), [1, 0])
    with pytest.raises(ValueError, match="cannot tell"):
        event_indicator(np.array(["dead", "died"]))


def test_survival_time_as_a_regression_target_gets_a_warning(tmp_path, capsys):
    path = tmp_path / "survival.tsv"
    _survival_table(path, n=40, p=6, event_labels=("0", "1"))
    assert main(["fit", str(path), "--target", "os_months", "--out", str(tmp_path / "o"),
                 "--cv", "3", "--alphas", "5", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "looks like a survival time" in err
    assert "--time os_months --event os_status" in err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert any("looks like a survival time" in note for note in summary["notes"])
