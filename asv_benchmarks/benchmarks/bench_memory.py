"""Memory: fastl1 never densifies or copies X beyond what the input format needs.

Two measures per fit:

* ``peakmem_*`` (asv): the process's maximum resident set size. It includes the data built in
  ``setup`` and, with a cold Numba cache, JIT compilation (LLVM); compare it with the size of
  X, not across cache states.
* ``track_extra_bytes``: bytes allocated during the fit at its peak, beyond what existed
  before (X included), measured with :mod:`tracemalloc`, which sees Python objects, NumPy
  buffers and arrays allocated inside Numba kernels. ``track_extra_per_x`` divides it by the
  bytes of X (``data + indices + indptr`` for sparse input).

What a fit may allocate besides X (docs/benchmarking.md): O(n + p) vectors (residual,
gradient, reference gradient, norms, screening mask, ...); for CSR input, one CSC copy of X
(``nnz * (itemsize + index size)``); for C-ordered dense input, one F-ordered copy. With an
intercept nothing more: columns are centred implicitly. ``tests/test_asv_benchmarks.py``
checks these bounds on problems where they are sharp. A path additionally returns its
dense ``(p, n_alphas)`` coefficients; cross-validation holds one training-fold copy of X per
running job.
"""

from fastl1 import ElasticNetCV, Lasso, LassoCV, enet_path, lasso_path
from fastl1.bench import make_cv_model, make_path

from ._common import MAX_ITER, TOL, problem, scales, traced_peak, x_nbytes


class _Memory:
    def measure(self):
        extra = traced_peak(self.run)
        return extra, extra / x_nbytes(self.X)


class FitMemory(_Memory):
    """One Lasso fit, with and without intercept, dense (F-ordered) / CSC / CSR."""

    params = [["wide-dense-a10", "sparse-csc-a20", "sparse-csr-a20"], [False, True],
              scales(1.0)]
    param_names = ["problem", "fit_intercept", "scale"]
    timeout = 300

    def setup(self, name, fit_intercept, scale):
        prob = problem(name, scale)
        self.X, self.y = prob.X, prob.y
        self.model = Lasso(alpha=prob.alpha, fit_intercept=fit_intercept, tol=TOL,
                           max_iter=MAX_ITER)
        self.run()  # compile outside the measure

    def run(self):
        self.model.fit(self.X, self.y)

    def track_extra_bytes(self, name, fit_intercept, scale):
        return self.measure()[0]

    track_extra_bytes.unit = "bytes"

    def track_extra_per_x(self, name, fit_intercept, scale):
        return self.measure()[1]

    track_extra_per_x.unit = "X"

    def peakmem_fit(self, name, fit_intercept, scale):
        self.run()


class PathMemory(_Memory):
    """A 100-alpha path; its output alone is a dense (p, 100) coefficient array."""

    params = [["path-wide-dense", "path-sparse-csc", "path-sparse-csr"], scales(0.25)]
    param_names = ["problem", "scale"]
    timeout = 600
    smoke_params = [["path-sparse-csr"], [None]]  # bench_path.Path smoke-tests every problem

    def setup(self, name, scale):
        self.problem = problem(name, scale)
        self.X = self.problem.X
        self.run()

    def run(self):
        make_path(lasso_path, enet_path, self.problem, tol=TOL, max_iter=MAX_ITER)

    def track_extra_bytes(self, name, scale):
        return self.measure()[0]

    track_extra_bytes.unit = "bytes"

    def track_extra_per_x(self, name, scale):
        return self.measure()[1]

    track_extra_per_x.unit = "X"


class CVMemory(_Memory):
    """LassoCV: each running fold job holds a copy of its training rows."""

    params = [["cv-wide-dense"], [1, 2], scales(0.25)]
    param_names = ["problem", "n_jobs", "scale"]
    timeout = 900

    def setup(self, name, n_jobs, scale):
        self.problem = problem(name, scale)
        self.X = self.problem.X
        self.n_jobs = n_jobs
        self.run()

    def run(self):
        make_cv_model(LassoCV, ElasticNetCV, self.problem, n_jobs=self.n_jobs, tol=TOL,
                      max_iter=MAX_ITER).fit(self.problem.X, self.problem.y)

    def track_extra_bytes(self, name, n_jobs, scale):
        return self.measure()[0]

    track_extra_bytes.unit = "bytes"

    def track_extra_per_x(self, name, n_jobs, scale):
        return self.measure()[1]

    track_extra_per_x.unit = "X"

    def peakmem_fit(self, name, n_jobs, scale):
        self.run()
