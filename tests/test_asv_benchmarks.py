"""Every asv benchmark imports and runs once on a tiny problem, so none can rot silently."""

import importlib.util
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "asv_benchmarks" / "benchmarks"


def _load(path):
    spec = importlib.util.spec_from_file_location(f"asv_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted(BENCH_DIR.glob("bench_*.py")), ids=lambda p: p.stem)
def test_asv_benchmarks_run_once(path):
    module = _load(path)
    suites = [obj for obj in vars(module).values()
              if isinstance(obj, type) and hasattr(obj, "params")]
    assert suites, f"no benchmark classes in {path.name}"
    for suite in suites:
        bench = suite()
        first = [values[0] for values in suite.params]
        first[-1] = 0.01  # scale: tiny
        bench.setup(*first)
        methods = [m for m in dir(bench) if m.startswith(("time_", "track_", "peakmem_"))]
        assert methods
        for name in methods:
            result = getattr(bench, name)(*first)
            if name.startswith("track_"):
                assert result >= 1
