"""The report of :mod:`fastl1.bench.report`: the text table and the figures."""

import pytest

from fastl1 import bench


def test_format_table(fit_results):
    text = bench.format_table(fit_results)
    for word in ("wide-dense-a10", "enet-wide-a10", "sparse-csr-a20", "median (s)",
                 "first fit (s)", "objective", "rel. subopt", "duality gap", "nnz",
                 "fastl1/solver", "sklearn"):
        assert word in text


def test_figures_render(tmp_path):
    pytest.importorskip("matplotlib")
    results = bench.run(["wide-dense-a10"], ["fastl1", "sklearn"], repeats=1, scale=0.01)
    bench.plot_times(results, tmp_path / "times.png")
    rows = bench.accuracy_curves("wide-dense-a10", ["fastl1", "sklearn"],
                                     tols=(1e-3, 1e-8), repeats=1, scale=0.01)
    assert [r["requested_tol"] for r in rows] == [1e-3, 1e-3, 1e-8, 1e-8]
    assert all(r["certified_suboptimality"] <= 2 * r["gap_target"] for r in rows)
    bench.plot_curves(rows, tmp_path / "curves.png")
    assert (tmp_path / "times.png").stat().st_size > 1000
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_environment_names_the_versions():
    env = bench.environment()
    assert {"python", "platform", "cpu_count", "fastl1", "numpy", "sklearn"} <= set(env)
    assert env["fastl1"] is not None and env["numpy"] is not None
