"""Shared settings of the tests of :mod:`fastl1.bench`: tiny problems, no settling pause."""

import pytest

from fastl1.bench import protocol

SCALE = 0.01  # problems shrunk a hundredfold: each run takes well under a second


@pytest.fixture(autouse=True, scope="session")
def _no_settle_pause():
    """The pause before each timed fit only matters for timings; these tests check results.
    Session-scoped so that the session-scoped runs below are made without it too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(protocol, "_SETTLE_SECONDS", 0.0)
        yield


@pytest.fixture(scope="session")
def fit_results(_no_settle_pause):
    """Single fits of fastl1 and scikit-learn on three problems (dense lasso, dense elastic
    net, CSR lasso), shared by the protocol and report tests."""
    return protocol.run(["wide-dense-a10", "enet-wide-a10", "sparse-csr-a20"],
                        ["fastl1", "sklearn"], repeats=2, tol=1e-10, scale=SCALE)
