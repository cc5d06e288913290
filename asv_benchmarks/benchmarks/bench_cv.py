"""LassoCV on the ``fastl1 bench`` CV problem: 5-fold KFold, 100 alphas, with intercept, on
one and on two threads (``n_jobs``); the time includes the final refit at ``alpha_``."""

from fastl1 import ElasticNetCV, LassoCV
from fastl1.bench import make_cv_model

from ._common import MAX_ITER, TOL, problem, scales

CV_PROBLEMS = ["cv-wide-dense"]


class CrossValidation:
    params = [CV_PROBLEMS, [1, 2], scales(0.25)]
    param_names = ["problem", "n_jobs", "scale"]
    timeout = 900

    def setup(self, name, n_jobs, scale):
        self.problem = problem(name, scale)
        self.fit(n_jobs)  # compile outside the timing

    def fit(self, n_jobs):
        model = make_cv_model(LassoCV, ElasticNetCV, self.problem, n_jobs=n_jobs, tol=TOL,
                              max_iter=MAX_ITER)
        return model.fit(self.problem.X, self.problem.y)

    def time_fit(self, name, n_jobs, scale):
        self.fit(n_jobs)

    def peakmem_fit(self, name, n_jobs, scale):
        self.fit(n_jobs)


class JobOverhead:
    """What running jobs costs beyond the jobs: six that return at once, on one and on two
    threads (the pool, its start and join, and the BLAS thread limit; a cross-validation has
    ``k + 1`` jobs per l1_ratio)."""

    params = [[1, 2]]
    param_names = ["n_jobs"]

    def setup(self, n_jobs):
        from fastl1.cv import run_jobs

        self.run_jobs = run_jobs
        self.jobs = [int] * 6
        run_jobs(self.jobs, n_jobs)  # the pool and the BLAS controller, outside the timing

    def time_run_jobs(self, n_jobs):
        self.run_jobs(self.jobs, n_jobs)
