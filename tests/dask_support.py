"""What the tests of fits on Dask arrays share: the skip when dask is absent, a synchronous
scheduler for every test, row chunking and a relative comparison."""

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")


@pytest.fixture(autouse=True)
def synchronous():
    """Run every graph in the test's thread (a cluster test sets its own scheduler)."""
    with dask.config.set(scheduler="synchronous"):
        yield


def chunked(a, chunk=150):
    """``a`` as a Dask array in blocks of ``chunk`` rows."""
    return da.from_array(a, chunks=(chunk,) + a.shape[1:])


def close(actual, expected, rtol=1e-8):
    """Max-norm agreement relative to the largest entry of ``expected``."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    scale = max(float(np.max(np.abs(expected))), 1e-300)
    assert np.max(np.abs(actual - expected)) <= rtol * scale, (actual, expected)
