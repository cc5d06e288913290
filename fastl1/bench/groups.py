"""Speed of the multi-task and group lasso against scikit-learn, skglm and celer, at matched
objective, in one process (CPU time; ``fastl1 bench --problems groups`` runs the same problems
in the harness, with adelie and R's glmnet too: :mod:`fastl1.bench.blocks`).

Problems (dense, Gaussian, centred, no intercept for any solver):

* multi-task: 100 samples x 20000 features x 10 tasks, 20 active features;
* group: 500 samples x 20000 features in 2000 groups of 10, 20 active groups, weights
  ``sqrt(10)``.

Each is fitted at ``alpha_max / 10`` (single fit) and along 100 alphas from ``alpha_max`` to
``alpha_max / 100`` (warm-started path). A solver's time is the CPU time of its first run, in
a ladder of tightening tolerances, whose objective is within ``1e-6`` (relative) of the best
objective any run reached (at every alpha, for paths). Run with one Numba thread so that CPU
time is comparable on a shared machine (it sets one Numba thread itself)::

    PYTHONPATH=/path/to/skglm-and-celer python -m fastl1.bench.groups

(``multitask`` or ``group`` as an argument runs one of the two problems.)

Paths: fastl1's is the warm-started block path that its CV estimators run
(``fastl1._groups.block_path``; for the group lasso the public ``group_lasso_path``),
scikit-learn's ``lasso_path`` with a 2-D target, celer's ``mtl_path`` and ``celer_path``, and
skglm's estimators with ``warm_start=True`` along the grid (skglm has no path function for
these penalties).
"""

from __future__ import annotations

import time
import warnings

import numpy as np

MATCH = 1e-6  # relative suboptimality accepted as "the same objective"
CAP = 300.0  # CPU seconds: a solver whose run takes longer stops its ladder there


def multitask_problem(seed=0):
    rng = np.random.default_rng(seed)
    n, p, T = 100, 20000, 10
    X = rng.standard_normal((n, p))
    W = np.zeros((p, T))
    W[rng.choice(p, 20, replace=False)] = rng.standard_normal((20, T))
    Y = X @ W + rng.standard_normal((n, T))
    X = np.asfortranarray(X - X.mean(axis=0))
    Y = Y - Y.mean(axis=0)
    alpha_max = np.linalg.norm(X.T @ Y, axis=1).max() / n
    return X, Y, alpha_max


def group_problem(seed=0):
    rng = np.random.default_rng(seed)
    n, p, size = 500, 20000, 10
    X = rng.standard_normal((n, p))
    w = np.zeros(p)
    for g in rng.choice(p // size, 20, replace=False):
        w[g * size:(g + 1) * size] = rng.standard_normal(size)
    y = X @ w + rng.standard_normal(n)
    X = np.asfortranarray(X - X.mean(axis=0))
    y = y - y.mean()
    weights = np.full(p // size, np.sqrt(size))
    corr = (X.T @ y).reshape(-1, size)
    alpha_max = (np.linalg.norm(corr, axis=1) / weights).max() / n
    return X, y, weights, alpha_max


def mtl_objective(X, Y, alpha, W):  # W (T, p)
    R = Y - X @ W.T
    return 0.5 * np.sum(R * R) / X.shape[0] + alpha * np.linalg.norm(W, axis=0).sum()


def group_objective(X, y, weights, alpha, w):
    r = y - X @ w
    norms = np.linalg.norm(w.reshape(weights.shape[0], -1), axis=1)
    return 0.5 * r @ r / X.shape[0] + alpha * weights @ norms


def _timed(run):
    start = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run()
    return time.process_time() - start, out


# --- solvers: each returns the coefficients at every alpha of ``alphas`` ----------------


def mtl_solvers(X, Y):
    from fastl1 import MultiTaskLasso
    from fastl1._groups import GroupStructure, block_path, task_major
    from fastl1._solver import make_problem

    def fastl1(alphas, tol):
        if len(alphas) == 1:
            return [MultiTaskLasso(alpha=alphas[0], tol=tol, fit_intercept=False,
                                   max_iter=100000).fit(X, Y).coef_]
        problem = make_problem(X, None, False)
        path = block_path(problem, task_major(Y), np.asarray(alphas), 1.0,
                          GroupStructure.singletons(np.ones(X.shape[1])), tol=tol,
                          max_iter=100000)
        return [path.coef(i) for i in range(len(alphas))]

    def sklearn(alphas, tol):
        from sklearn.linear_model import MultiTaskLasso as SK
        from sklearn.linear_model import lasso_path
        if len(alphas) == 1:
            return [SK(alpha=alphas[0], tol=tol, fit_intercept=False,
                       max_iter=100000).fit(X, Y).coef_]
        _, coefs, _ = lasso_path(X, Y, alphas=alphas, tol=tol, max_iter=100000)
        return [coefs[:, :, i] for i in range(len(alphas))]

    def skglm(alphas, tol):
        from skglm import MultiTaskLasso as SG
        model = SG(alpha=alphas[0], tol=tol, fit_intercept=False, warm_start=True)
        out = []
        for alpha in alphas:
            model.alpha = alpha
            out.append(model.fit(X, Y).coef_.copy())
        return out

    def celer(alphas, tol):
        from celer.homotopy import mtl_path
        _, coefs, _ = mtl_path(X, Y, alphas=np.asarray(alphas), tol=tol)
        return [coefs[:, :, i] for i in range(len(alphas))]

    return {"fastl1": fastl1, "scikit-learn": sklearn, "skglm": skglm, "celer": celer}


def group_solvers(X, y, weights):
    from fastl1 import GroupLasso, group_lasso_path
    size = X.shape[1] // weights.shape[0]

    def fastl1(alphas, tol):
        if len(alphas) == 1:
            return [GroupLasso(groups=size, alpha=alphas[0], tol=tol, fit_intercept=False,
                               max_iter=100000).fit(X, y).coef_]
        _, coefs, _ = group_lasso_path(X, y, groups=size, alphas=alphas, tol=tol,
                                       max_iter=100000)
        return [coefs[:, i] for i in range(len(alphas))]

    def skglm(alphas, tol):
        from skglm import GroupLasso as SG
        model = SG(groups=size, alpha=alphas[0], weights=weights, tol=tol,
                   fit_intercept=False, warm_start=True)
        out = []
        for alpha in alphas:
            model.alpha = alpha
            out.append(model.fit(X, y).coef_.copy())
        return out

    def celer(alphas, tol):
        from celer.homotopy import celer_path
        _, coefs, _ = celer_path(X, y, "grouplasso", alphas=np.asarray(alphas), groups=size,
                                 weights=weights, tol=tol)
        return [coefs[:, i] for i in range(len(alphas))]

    return {"fastl1": fastl1, "skglm": skglm, "celer": celer}


# --- protocol -------------------------------------------------------------------------


LADDER = [1e-3, 1e-4, 1e-6, 1e-8, 1e-10]


def compare(solvers, objective, alphas, label):
    """Every solver down its ladder until it matches the best objective seen; prints and
    returns ``{solver: (cpu seconds, tol) or None}``."""
    for run in solvers.values():  # compile / import outside the timings
        _timed(lambda run=run: run(alphas[:1], 1e-2))
    _, reference = _timed(lambda: solvers["fastl1"](alphas, 1e-12))
    best = np.array([objective(a, c) for a, c in zip(alphas, reference, strict=True)])
    runs = {name: [] for name in solvers}
    for name, run in solvers.items():
        for tol in LADDER:
            seconds, coefs = _timed(lambda run=run, tol=tol: run(alphas, tol))
            values = np.array([objective(a, c) for a, c in zip(alphas, coefs, strict=True)])
            runs[name].append((tol, seconds, values))
            best = np.minimum(best, values)
            if np.all((values - best) / best <= MATCH) or seconds > CAP:
                break
    result = {}
    for name, ladder in runs.items():
        result[name] = None
        for tol, seconds, values in ladder:
            if np.all((values - best) / best <= MATCH):
                result[name] = (seconds, tol)
                break
        shown = "not matched" if result[name] is None else \
            f"{result[name][0]:8.3f} s  (tol {result[name][1]:g})"
        print(f"{label:28s} {name:13s} {shown}")
    return result


def main(parts=("multitask", "group")):
    if "multitask" in parts:
        _multitask()
    if "group" in parts:
        _group()


def _multitask():
    X, Y, alpha_max = multitask_problem()
    objective = (lambda a, W: mtl_objective(X, Y, a, W))  # noqa: E731
    grid = list(np.geomspace(alpha_max, alpha_max / 100, 100))
    compare(mtl_solvers(X, Y), objective, [alpha_max / 10], "multi-task single fit")
    compare(mtl_solvers(X, Y), objective, grid, "multi-task 100-alpha path")


def _group():
    X, y, weights, alpha_max = group_problem()
    objective = (lambda a, w: group_objective(X, y, weights, a, w))  # noqa: E731
    grid = list(np.geomspace(alpha_max, alpha_max / 100, 100))
    compare(group_solvers(X, y, weights), objective, [alpha_max / 10], "group single fit")
    compare(group_solvers(X, y, weights), objective, grid, "group 100-alpha path")


if __name__ == "__main__":
    import numba

    numba.set_num_threads(1)
    import sys

    main(tuple(sys.argv[1:]) or ("multitask", "group"))
