"""Start-up costs in a fresh interpreter: ``import fastl1`` and the first fit.

Both classes run :data:`._common.FIRST_FIT_CODE` (a tiny problem, so the time is start-up
cost, not solving) in a new Python process and track

* ``track_import``: seconds to ``import fastl1`` (NumPy, SciPy, scikit-learn and Numba
  included);
* ``track_first_fit``: seconds for the first fit after the import: with a warm Numba cache
  this is loading the compiled kernels; with a cold cache it is JIT compilation.

:class:`ColdCompile` points ``NUMBA_CACHE_DIR`` at a new empty folder, so every kernel the fit
needs is compiled (about 20-30 s for Lasso on two cores): it has a long timeout and is
skipped by the CI smoke test (``smoke_skip``). :class:`WarmFirstFit` first fits in the
benchmark process, which fills the environment's cache, then measures the probe.
"""

from ._common import (
    FIRST_FIT_ESTIMATORS,
    check_estimator_available,
    first_fit_in_process,
    first_fit_in_subprocess,
)


class _FirstFit:
    params = [FIRST_FIT_ESTIMATORS]
    param_names = ["estimator"]
    cold = False
    number = 1
    repeat = 1

    def probe(self, name):
        # One subprocess serves every track of this instance (asv runs each track in its own
        # process anyway; the smoke test calls them in turn on one instance).
        cached = getattr(self, "_probe", None)
        if cached is None or cached[0] != name:
            self._probe = (name, first_fit_in_subprocess(name, cold=self.cold))
        return self._probe[1]

    def track_import(self, name):
        return self.probe(name)["import"]

    track_import.unit = "seconds"

    def track_first_fit(self, name):
        return self.probe(name)["first_fit"]

    track_first_fit.unit = "seconds"


class WarmFirstFit(_FirstFit):
    """Import and first-fit latency with a warm Numba cache."""

    timeout = 300
    smoke_params = [["Lasso"]]

    def setup(self, name):
        check_estimator_available(name)
        first_fit_in_process(name)  # compiles or loads, and fills the cache


class ColdCompile(_FirstFit):
    """Import and first fit with a cold Numba cache: the JIT compile cost users pay once."""

    cold = True
    timeout = 900
    smoke_skip = True

    def setup(self, name):
        check_estimator_available(name)
