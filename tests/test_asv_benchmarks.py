"""Every asv benchmark imports and runs once on a tiny problem, so none can rot silently; and
the memory accounting the memory benchmarks report holds where it is sharp.

The suites follow the conventions of ``asv_benchmarks/benchmarks/_common.py``: a ``scale``
parameter (replaced here by a tiny value), optional ``smoke_params`` (the parameter values run
here) and ``smoke_skip`` (not run here: the cold-cache compile benchmark), and ``setup``
raising ``NotImplementedError`` when a feature is unavailable (asv skips; so do we).
"""

import importlib
import importlib.util
import inspect
import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from fastl1._kernels.cd import COMPACT_SHARE

BENCH_DIR = Path(__file__).resolve().parents[1] / "asv_benchmarks" / "benchmarks"
PACKAGE = "fastl1_asv_benchmarks"  # imported as a package, so relative imports work as in asv
PREFIXES = ("time_", "timeraw_", "track_", "peakmem_", "mem_")
TINY_SCALE = 0.001


def _package():
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, BENCH_DIR / "__init__.py", submodule_search_locations=[str(BENCH_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    return sys.modules[PACKAGE]


def _load(stem):
    _package()
    return importlib.import_module(f"{PACKAGE}.{stem}")


def _suites(module):
    """Benchmark classes as asv discovers them: public classes with benchmark methods."""
    return [obj for name, obj in vars(module).items()
            if not name.startswith("_") and inspect.isclass(obj)
            and any(m.startswith(PREFIXES) for m in dir(obj))]


def _combinations(suite):
    params = [list(values) for values in getattr(suite, "smoke_params", suite.params)]
    names = list(suite.param_names)
    if "scale" in names:
        params[names.index("scale")] = [TINY_SCALE]
    return list(itertools.product(*params))


MODULES = sorted(path.stem for path in BENCH_DIR.glob("bench_*.py"))
CASES = [(stem, suite.__name__) for stem in MODULES for suite in _suites(_load(stem))]


def test_every_module_has_suites():
    assert MODULES
    assert {stem for stem, _ in CASES} == set(MODULES)


@pytest.mark.parametrize(("stem", "suite_name"), CASES, ids=[f"{s}.{c}" for s, c in CASES])
def test_asv_benchmark_runs_once(stem, suite_name):
    suite = getattr(_load(stem), suite_name)
    assert len(suite.params) == len(suite.param_names), "one name per parameter"
    if getattr(suite, "smoke_skip", False):
        pytest.skip(f"{suite_name} is too slow for the smoke test (smoke_skip)")
    methods = sorted(m for m in dir(suite) if m.startswith(PREFIXES))
    assert methods
    ran = 0
    for combination in _combinations(suite):
        bench = suite()
        try:
            bench.setup(*combination)
        except NotImplementedError:  # asv's "skipped"
            continue
        for name in methods:
            result = getattr(bench, name)(*combination)
            if name.startswith("track_"):
                assert isinstance(result, (int, float, np.integer, np.floating)), name
                assert math.isfinite(result) and result >= 0, (name, combination, result)
                if name in ("track_epochs", "track_iterations"):
                    assert result >= 1, (name, combination)
        if hasattr(bench, "teardown"):
            bench.teardown(*combination)
        ran += 1
    if not ran:
        pytest.skip(f"{suite_name}: not available in this version (NotImplementedError)")


# --------------------------------------------------------------------------------------------
# Memory accounting: what a fit allocates besides X, per input format
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def memory_data():
    rng = np.random.default_rng(0)
    n, p = 1000, 5000
    X = sp.random_array((n, p), density=0.05, format="csc", rng=rng,
                        data_sampler=rng.standard_normal)
    X = sp.csc_matrix(X)
    coef = np.zeros(p)
    coef[:20] = 1.0
    y = X @ coef + rng.standard_normal(n)
    Xd = np.asfortranarray(rng.standard_normal((200, 5000)))
    yd = Xd[:, :10].sum(axis=1) + rng.standard_normal(200)
    return X, y, Xd, yd


def _fit_coef(X, y, fit_intercept):
    from fastl1 import Lasso
    from fastl1.bench import bench_alpha_max

    return Lasso(alpha=bench_alpha_max(X, y) / 20, fit_intercept=fit_intercept, tol=1e-8,
                 max_iter=100_000).fit(X, y).coef_


def _extra(X, y, fit_intercept, sample_weight=None, fraction=20):
    from fastl1 import Lasso
    from fastl1.bench import bench_alpha_max

    common = _load("_common")
    model = Lasso(alpha=bench_alpha_max(X, y) / fraction, fit_intercept=fit_intercept, tol=1e-8,
                  max_iter=100_000)
    model.fit(X, y, sample_weight=sample_weight)  # compile outside the measure
    return common.traced_peak(lambda: model.fit(X, y, sample_weight=sample_weight))


@pytest.mark.parametrize("fit_intercept", [False, True])
def test_memory_beyond_x(memory_data, fit_intercept, monkeypatch):
    import fastl1._solver

    X, y, Xd, yd = memory_data
    csc = _extra(X, y, fit_intercept)
    assert X.nnz >= fastl1._solver.CSR_IN_PLACE_MIN_NNZ
    csr_in_place = _extra(X.tocsr(), y, fit_intercept)
    # At alpha_max/4 the working sets stay small: the whole fit runs on the rows.
    sparse_small_sets = {"csc": _extra(X, y, fit_intercept, fraction=4),
                         "csr": _extra(X.tocsr(), y, fit_intercept, fraction=4)}
    monkeypatch.setattr(fastl1._solver, "CSR_IN_PLACE_MIN_NNZ", X.nnz + 1)
    csr = _extra(X.tocsr(), y, fit_intercept)
    dense = _extra(Xd, yd, fit_intercept)
    c_ordered = _extra(np.ascontiguousarray(Xd), yd, fit_intercept)
    data_bytes = X.data.nbytes
    csc_copy = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    # CSC: used in place, no densification (that would be 20x data_bytes), no copy of all of
    # X's non-zeros. Beyond O(n + p) working vectors (about 10 of length p here): the compact
    # copy of a working set's columns (at most COMPACT_SHARE of the non-zeros, see
    # fastl1._kernels.design.take_columns) and the support steps' row copy of the support's
    # columns (12 bytes per non-zero of the support, see fastl1._kernels.support_step).
    support = np.flatnonzero(_fit_coef(X, y, fit_intercept))
    support_copy = 12 * int(np.diff(X.indptr)[support].sum())
    temporaries = COMPACT_SHARE * csc_copy + support_copy
    assert temporaries < csc_copy  # together, less than one copy of X
    assert csc < 0.3 * data_bytes + temporaries, (csc, data_bytes, temporaries)
    assert csc < 12 * 8 * (X.shape[0] + X.shape[1]) + temporaries
    # CSR converted: exactly one CSC copy of the non-zeros more (tracemalloc sees it: the
    # measure works). Read in place (a single fit on 200,000 non-zeros or more): no copy of X
    # while the working sets are copied out of the rows (see fastl1._kernels.csr), at most
    # the converted fit's memory once they outgrow that (here at alpha_max/20: support 667).
    assert csc_copy <= csr - csc <= csc_copy * 1.05 + 64 * 1024, (csr, csc, csc_copy)
    assert csr_in_place <= csr + 64 * 1024, (csr_in_place, csr)
    assert sparse_small_sets["csr"] < sparse_small_sets["csc"] + 0.2 * csc_copy, \
        sparse_small_sets
    # F-ordered dense: used in place; the vectors and the support's small blocks stay well
    # under a copy of X. C-ordered dense: one F-ordered copy.
    assert dense < 0.25 * Xd.nbytes, (dense, Xd.nbytes)
    # Sample weights add no copy either (weighted column means without an sw * X temporary).
    weights = np.random.default_rng(0).uniform(0.5, 2.0, Xd.shape[0])
    assert _extra(Xd, yd, fit_intercept, weights) < 0.25 * Xd.nbytes
    assert Xd.nbytes <= c_ordered <= Xd.nbytes + 1.5 * dense + 64 * 1024, (c_ordered, dense)
