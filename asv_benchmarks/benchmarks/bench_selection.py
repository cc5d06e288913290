"""StabilitySelection (complementary pairs) on the leukemia-shaped problem: 10 random splits
(20 subsample paths of 20 alphas), on one and on two threads."""

from fastl1 import Lasso, StabilitySelection

from ._common import problem, scales


class Stability:
    params = [["leukemia-a10"], [1, 2], scales(1.0)]
    param_names = ["problem", "n_jobs", "scale"]
    timeout = 300

    def setup(self, name, n_jobs, scale):
        self.problem = problem(name, scale)
        self.fit(n_jobs)  # compile outside the timing

    def fit(self, n_jobs):
        model = StabilitySelection(Lasso(fit_intercept=False, tol=1e-6), alphas=20,
                                   n_resamples=10, n_jobs=n_jobs, random_state=0)
        return model.fit(self.problem.X, self.problem.y)

    def time_fit(self, name, n_jobs, scale):
        self.fit(n_jobs)

    def track_selected(self, name, n_jobs, scale):
        """Features in the stable set (a result check: it must not depend on n_jobs)."""
        return int(self.fit(n_jobs).support_.sum())

    track_selected.unit = "features"
