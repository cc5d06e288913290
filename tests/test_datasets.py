"""Tests for fastl1.datasets."""

import numpy as np
import pytest
from sklearn.utils import Bunch

from fastl1.datasets import load_demo, make_expression_data


def test_shapes_and_dtypes():
    X, y, coef = make_expression_data(n_samples=30, n_features=150, random_state=0)
    assert X.shape == (30, 150)
    assert y.shape == (30,)
    assert coef.shape == (150,)
    for arr in (X, y, coef):
        assert arr.dtype == np.float64
    assert X.flags["C_CONTIGUOUS"]
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(y))


def test_log_expression_like_values():
    X, _, _ = make_expression_data(n_samples=200, n_features=300, random_state=0)
    means = X.mean(axis=0)
    assert 7.0 < means.mean() < 9.0
    assert means.std() > 0.5  # per-gene baselines differ
    np.testing.assert_allclose(X.std(axis=0).mean(), 1.0, atol=0.1)


def test_return_names():
    X, y, coef, names = make_expression_data(n_samples=10, n_features=25, return_names=True)
    assert len(names) == 25
    assert names[0] == "gene_0000"
    assert names[-1] == "gene_0024"
    assert len(set(names)) == 25
    _, _, _, names = make_expression_data(n_samples=5, n_features=12000, return_names=True)
    assert names[-1] == "gene_11999"
    assert len(set(names)) == 12000


def test_reproducible_with_same_seed():
    a = make_expression_data(n_samples=20, n_features=80, random_state=42)
    b = make_expression_data(n_samples=20, n_features=80, random_state=42)
    c = make_expression_data(n_samples=20, n_features=80, random_state=43)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])


def test_generator_random_state():
    X1, _, _ = make_expression_data(
        n_samples=5, n_features=10, random_state=np.random.default_rng(3)
    )
    X2, _, _ = make_expression_data(n_samples=5, n_features=10, random_state=3)
    np.testing.assert_array_equal(X1, X2)


def test_block_correlation():
    block_size = 20
    X, _, _ = make_expression_data(
        n_samples=1000, n_features=100, block_size=block_size, correlation=0.7, random_state=0
    )
    corr = np.corrcoef(X, rowvar=False)
    block = np.arange(100) // block_size
    off_diag = ~np.eye(100, dtype=bool)
    same_block = (block[:, None] == block[None, :]) & off_diag
    other_block = block[:, None] != block[None, :]
    assert corr[same_block].mean() > 0.6
    assert corr[same_block].min() > 0.5
    assert abs(corr[other_block].mean()) < 0.05


def test_zero_correlation_is_independent():
    X, _, _ = make_expression_data(n_samples=1000, n_features=40, correlation=0.0, random_state=0)
    corr = np.corrcoef(X, rowvar=False)
    assert np.abs(corr[~np.eye(40, dtype=bool)]).max() < 0.15


def test_informative_genes():
    X, y, coef = make_expression_data(
        n_samples=50, n_features=400, n_informative=7, block_size=20, random_state=1
    )
    support = np.flatnonzero(coef)
    assert support.size == 7
    magnitudes = np.abs(coef[support])
    assert np.all((magnitudes >= 1.0) & (magnitudes <= 3.0))
    # spread over different blocks
    assert np.unique(support // 20).size == 7


def test_informative_more_than_blocks():
    _, _, coef = make_expression_data(
        n_samples=10, n_features=50, n_informative=12, block_size=20, random_state=0
    )
    support = np.flatnonzero(coef)
    assert support.size == 12
    assert np.unique(support // 20).size == 3  # all blocks used
    _, _, coef = make_expression_data(n_samples=5, n_features=7, n_informative=7)
    assert np.count_nonzero(coef) == 7


def test_no_informative_genes():
    _, _, coef = make_expression_data(n_samples=10, n_features=30, n_informative=0)
    assert not np.any(coef)


def test_regression_target_is_linear_model():
    X, y, coef = make_expression_data(n_samples=500, n_features=60, noise=0.0, random_state=2)
    _, _, coef_noisy = make_expression_data(n_samples=500, n_features=60, random_state=2)
    np.testing.assert_array_equal(coef, coef_noisy)
    # noiseless: y is exactly linear in X (up to the intercept from the gene means)
    A = np.column_stack([X[:, coef != 0], np.ones(len(y))])
    sol, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(A @ sol, y, atol=1e-8)
    np.testing.assert_allclose(sol[:-1], coef[coef != 0], rtol=1e-8)


def test_classification_labels():
    X, y, coef = make_expression_data(
        n_samples=100, n_features=200, task="classification", random_state=0
    )
    assert y.dtype == np.float64
    assert set(np.unique(y).tolist()) == {-1.0, 1.0}
    # labels follow the sign of the causal signal more often than not
    signal = (X - X.mean(axis=0)) @ coef
    assert np.mean(np.sign(signal) == y) > 0.7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_samples": 0},
        {"n_samples": 2.5},
        {"n_features": 0},
        {"n_features": True},
        {"n_informative": -1},
        {"n_informative": 11, "n_features": 10},
        {"block_size": 0},
        {"correlation": 1.0},
        {"correlation": -0.1},
        {"correlation": float("nan")},
        {"correlation": "high"},
        {"task": "survival"},
        {"noise": -1.0},
        {"noise": float("inf")},
        {"random_state": "seed"},
        {"return_names": "yes"},
    ],
)
def test_bad_arguments(kwargs):
    params = {"n_samples": 10, "n_features": 20, "n_informative": 2} | kwargs
    with pytest.raises(ValueError):
        make_expression_data(**params)


def test_load_demo():
    demo = load_demo()
    assert isinstance(demo, Bunch)
    assert demo.data.shape == (100, 5000)
    assert demo.target.shape == (100,)
    assert demo.coef.shape == (5000,)
    assert np.count_nonzero(demo.coef) == 10
    assert len(demo.feature_names) == 5000
    assert isinstance(demo.description, str) and "gene" in demo.description
    X, y, coef = make_expression_data(n_samples=100, n_features=5000, random_state=0)
    np.testing.assert_array_equal(demo.data, X)
    np.testing.assert_array_equal(demo.target, y)
    np.testing.assert_array_equal(demo.coef, coef)


def test_load_demo_small():
    demo = load_demo(n_samples=20, n_features=50, random_state=1)
    assert demo.data.shape == (20, 50)
    assert np.count_nonzero(demo.coef) == 10


# --- load_table -------------------------------------------------------------------------


def _write(path, text: str, gz: bool = False) -> None:
    import gzip

    opener = gzip.open if gz else open
    with opener(path, "wt", newline="") as handle:
        handle.write(text)


def test_load_table_delimiters_and_r_layout(tmp_path):
    from fastl1.datasets import load_table

    _write(tmp_path / "semi.txt", "id;y;a;b\nr1;1;2;3\nr2;2;5;4\nr3;0;1;1\n")
    data = load_table(tmp_path / "semi.txt", "y")
    assert data.feature_names == ["a", "b"] and data.sample_ids == ["r1", "r2", "r3"]
    # Whitespace (several spaces) and R's write.table header without the row-name cell.
    _write(tmp_path / "r.txt", "y  a   b\nr1 1  2 3\nr2 2 5  4\nr3 0 1 1\n")
    data = load_table(tmp_path / "r.txt", "y")
    assert data.feature_names == ["a", "b"] and data.sample_ids == ["r1", "r2", "r3"]
    np.testing.assert_array_equal(data.data, [[2, 3], [5, 4], [1, 1]])
    assert any("whitespace" in note for note in data.notes)
    assert any("write.table" in note for note in data.notes)


def test_load_table_drops_annotation_columns(tmp_path):
    from fastl1.datasets import load_table

    _write(tmp_path / "a.csv", "id,y,Description,a,b\nr1,1,x,2,3\nr2,2,y,5,4\nr3,0,z,1,1\n")
    data = load_table(tmp_path / "a.csv", "y")
    assert data.feature_names == ["a", "b"]
    assert "dropped non-numeric annotation column(s): Description" in data.notes
    # A column with some text cells is an error naming them, not an annotation.
    _write(tmp_path / "b.csv", "id,y,a,b\nr1,1,x,3\nr2,2,5,4\nr3,0,1,1\n")
    with pytest.raises(ValueError, match="1 non-numeric cell.*sample 'r1' / column 'a'"):
        load_table(tmp_path / "b.csv", "y")


def test_load_table_sparse_npz(tmp_path):
    import scipy.sparse as sp

    from fastl1.datasets import load_table

    rng = np.random.default_rng(0)
    X = sp.random(30, 12, density=0.3, random_state=0, format="csr")
    y = rng.standard_normal(30)
    # The layout of scipy.sparse.save_npz's arrays, saved with a y beside them.
    for fmt in ("csr", "csc", "coo"):
        M = X.asformat(fmt)
        arrays = {"format": np.array(fmt), "shape": np.array(M.shape), "data": M.data}
        arrays.update({"row": M.row, "col": M.col} if fmt == "coo" else
                      {"indices": M.indices, "indptr": M.indptr})
        np.savez(tmp_path / f"{fmt}.npz", y=y, **arrays)
        data = load_table(tmp_path / f"{fmt}.npz", drop_constant=False)
        assert sp.issparse(data.data) and data.data.format == "csr"
        np.testing.assert_array_equal(data.data.toarray(), X.toarray())
        np.testing.assert_array_equal(data.target, y)
    bad = X.copy()
    bad.indices = bad.indices.copy()
    bad.indices[0] = 99  # out of range: refused, not passed on to the solvers
    np.savez(tmp_path / "bad.npz", y=y, format=np.array("csr"), shape=np.array(X.shape),
             data=bad.data, indices=bad.indices, indptr=bad.indptr)
    with pytest.raises(ValueError, match="not a valid sparse matrix"):
        load_table(tmp_path / "bad.npz")
    sp.save_npz(tmp_path / "no_y.npz", X)
    with pytest.raises(ValueError, match="sparse matrix .* and 'y'"):
        load_table(tmp_path / "no_y.npz")


def test_load_table_rejects_a_truncated_gzip_while_streaming(tmp_path):
    """The rows are parsed as they are decompressed: a truncated gzip is rejected at its end
    with only the numbers read so far in memory, not the table as text."""
    import gzip
    import tracemalloc

    from fastl1.datasets import load_table

    rng = np.random.default_rng(0)
    values = rng.uniform(1000, 9999, (3000, 50))
    lines = ["y," + ",".join(f"g{j}" for j in range(49))]
    lines += [",".join(f"{v:.14f}" for v in row) for row in values]
    text = "\n".join(lines) + "\n"
    blob = gzip.compress(text.encode())
    path = tmp_path / "t.csv.gz"
    path.write_bytes(blob[: len(blob) - 200])
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="truncated"):
            load_table(path, "y")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 0.8 * len(text), (peak, len(text))
