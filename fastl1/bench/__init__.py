"""Comparison harness: fastl1 against its peers on the same problems, at equal accuracy.

``fastl1 bench`` (see :mod:`fastl1.cli`) is a thin front end to :func:`run` and
:func:`format_table`. The package holds, one concern per module:

* :mod:`~fastl1.bench.problems`: the problems (fixed-seed generators, the real-data loader,
  :class:`BenchProblem`, :func:`make_bench_problem`, the groups of :data:`PROBLEM_GROUPS`);
* :mod:`~fastl1.bench.objectives`: the reference objectives and duality gaps the harness
  computes itself, in float64;
* :mod:`~fastl1.bench.peers`: the solver adapters (fastl1, scikit-learn, celer, skglm,
  python-glmnet, adelie, R's glmnet through ``Rscript``) behind one calling convention
  (:class:`Solver`);
* :mod:`~fastl1.bench.protocol`: warm-up, calibration, timed rounds and certification
  (:func:`run`);
* :mod:`~fastl1.bench.report`: the text tables, the environment record and the figures.

The protocol:

* every solver sees the same data in one process; the objective is scikit-learn's
  ``1/(2n) ||y - X w||^2 + alpha (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)`` without an
  intercept;
* per problem, each solver gets one warm-up fit (timed, reported as "first fit": for Numba
  solvers it includes JIT compilation or loading from the cache), then ``repeats`` timed fits,
  round-robin over the solvers (the starting solver rotates each round) so that drift of the
  machine affects every solver alike; the median is reported;
* the harness itself computes, in float64, the objective, the duality gap and the number of
  non-zeros of every solver's coefficients, and the suboptimality against the best objective
  any solver reached, so that a fast inexact answer is visible;
* solvers are compared at equal accuracy: each must reach a suboptimality of at most
  ``tol * ||y||^2 / n``. fastl1, scikit-learn and celer stop on the duality gap with exactly
  this bound (same scaling in all three), so they get ``tol`` as is. skglm's ``tol`` bounds a
  KKT violation and python-glmnet's a change of the objective relative to the null deviance,
  which are not comparable: for those the harness *calibrates* the tolerance during the
  warm-up, starting at ``tol`` and dividing it by sqrt(10) (half a decade) until
  ``objective(w) - D`` is within the
  bound, ``D`` being the best dual value known (from the dual points the harness builds from
  the residuals of this and earlier solvers; any dual value is a lower bound on the minimum).
  The loosest half-decade that passes is used, and reported; calibration also stops
  when a fit warns that it hit its iteration cap (a tighter tol cannot help it).
* after the timed fits, ``certified_suboptimality = objective - max over solvers of the dual
  value`` is checked against the bound for every solver (``gap_ok``). A solver's own
  residual-based duality gap can be looser than its true suboptimality (celer certifies with
  an extrapolated dual point, which the harness does not rebuild), hence the pooled bound.

Five kinds of problem (``task``; groups ``fits``, ``paths``, ``cv``, ``logistic`` of
:data:`PROBLEM_GROUPS`; ``paths`` holds the ``path`` and the ``glmpath`` problems, the latter
also in the group ``glmpaths``):

* ``fit``: one fit at one alpha, as above.
* ``path``: a regularisation path without intercept over ``n_alphas = 100`` alphas,
  ``np.geomspace(alpha_max, 1e-3 * alpha_max, 100)``. The harness computes the grid once and
  gives the same array to every solver (fastl1 :func:`~fastl1.lasso_path`, scikit-learn
  ``lasso_path``, ``celer.celer_path``, skglm's estimator ``.path``, python-glmnet's
  ``lambda_path``), so all solve the same 100 problems; a "fit" is the whole path. Accuracy is
  judged per alpha exactly as for one fit: the harness computes each alpha's objective and
  dual value from the returned coefficients, pools the best dual value at each alpha over
  all solvers, and reports per solver the *worst* certified suboptimality over the alphas;
  ``gap_ok`` holds only if every alpha is within ``tol * ||y||^2 / n``. The reported
  ``objective`` (and ``dual_objective``) is the sum over the grid, ``duality_gap``,
  ``suboptimality`` and ``rel_suboptimality`` are the worst over the grid and ``nnz`` is at
  the smallest alpha. Calibration (skglm, glmnet) tightens the tolerance of the whole path
  until its worst alpha passes.
* ``cv``: ``LassoCV``-style K-fold cross-validation (``KFold(5)``, no shuffle) with an
  intercept over the 100-alpha grid LassoCV itself would build (alpha_max of the centred
  data, down to 1e-3 alpha_max), passed explicitly to every solver. fastl1 and scikit-learn
  run twice, with ``n_jobs=2`` (rows ``fastl1``, ``sklearn``; ``fastl1`` is the reference of
  the ratio column) and ``n_jobs=1`` (rows ``fastl1-n_jobs=1``, ``sklearn-n_jobs=1``); the
  time includes the final refit at ``alpha_``, as in every LassoCV. Each solver returns
  ``alpha_`` and its CV error curve (``mse_path_``); accuracy is whether ``alpha_`` is the
  grid point scikit-learn chose (``same_alpha``) and the largest relative difference of the
  mean CV error curve against scikit-learn's (``cv_rel_diff``). There is no single objective,
  so no calibration: peers whose ``tol`` is not a gap get ``tol`` as is (noted).
* ``logistic``: one binary L1 logistic regression fit without intercept (labels ``+-1``) at
  ``alpha = alpha_max / 10``, in the averaged scale ``mean_i log(1 + exp(-y_i x_i w)) +
  alpha ||w||_1`` (scikit-learn's objective divided by ``C n``, ``C = 1 / (alpha n)``). The
  solvers are those of :data:`LOGISTIC_SOLVERS`: fastl1's LogisticRegression, scikit-learn's
  liblinear and saga, celer's LogisticRegression, skglm's SparseLogisticRegression. The
  harness builds the dual point from the loss gradient (:func:`logistic_primal_dual`); the
  common bound is ``tol * log 2`` (the objective at ``w = 0``), which is celer's duality-gap
  stop, so celer gets ``tol`` as is and every solver whose ``tol`` is not a gap (fastl1's
  too: a KKT violation) is calibrated as above.

* ``glmpath``: glmnet's own setting, a 100-alpha path from alpha_max (with an intercept) to
  1e-3 alpha_max with an unpenalised intercept and no standardisation, for the lasso
  (``loss="squared"``) and L1 logistic regression (``"logistic"``, labels ``+-1``), on real
  data (leukemia 72 x 7129, riboflavin 71 x 4088, the rcv1 subset 1000 x 47117 CSR; read
  from the folder given as ``data_dir`` / ``--data-dir`` or the environment variable
  ``FASTL1_BENCH_DATA``, and skipped with a note without it) and a synthetic 500 x 20000
  design. The solvers are those of :data:`GLMPATH_SOLVERS` (fastl1, python-glmnet, R's
  glmnet, adelie; see :mod:`~fastl1.bench.peers` for the conventions), each in two rows:
  ``"<name>-default"`` at the package's default tolerance, and ``"<name>"`` at matched
  accuracy, its tolerance tightened by decades from the default until ``(objective - best
  dual value) / objective <= tol`` at every alpha. Before them an untimed fastl1 solve at
  ``tol=1e-13`` provides near-exact dual values (lower bounds), so each certificate measures
  the row's own error. Reported per row: the time and the worst over the path of the
  relative objective error against the best objective reached at each alpha (the reference
  included), all objectives computed by :mod:`~fastl1.bench.objectives`; on fastl1's rows
  ``ratio_best_peer``, its time over the fastest peer's of the same accuracy mode.

Peers that are not installed, or have no such estimator (skglm has no LassoCV), are skipped
with a note; a failing peer gives a note, not a crash.
"""

from .objectives import (
    PathSolution,
    duality_gap,
    glm_objective,
    glm_primal_dual,
    logistic_intercept,
    logistic_primal_dual,
    objective,
    primal_dual,
)
from .peers import (
    GLMPATH_SOLVERS,
    LOGISTIC_SOLVERS,
    SOLVERS,
    Solver,
    Timed,
    available_solvers,
    make_cv_model,
    make_model,
    make_path,
    solver_names,
)
from .problems import (
    DATA_DIR_VARIABLE,
    PROBLEM_GROUPS,
    PROBLEMS,
    TASKS,
    BenchProblem,
    MissingDataError,
    bench_alpha_max,
    bench_glm_alpha_max,
    bench_logistic_alpha_max,
    expand_problems,
    list_problems,
    make_bench_problem,
    resolve_data_dir,
)
from .protocol import accuracy_curves, run
from .report import environment, format_table, plot_curves, plot_times

__all__ = [
    "DATA_DIR_VARIABLE",
    "GLMPATH_SOLVERS",
    "LOGISTIC_SOLVERS",
    "PROBLEMS",
    "PROBLEM_GROUPS",
    "SOLVERS",
    "TASKS",
    "BenchProblem",
    "MissingDataError",
    "PathSolution",
    "Solver",
    "Timed",
    "accuracy_curves",
    "available_solvers",
    "bench_alpha_max",
    "bench_glm_alpha_max",
    "bench_logistic_alpha_max",
    "duality_gap",
    "environment",
    "expand_problems",
    "format_table",
    "glm_objective",
    "glm_primal_dual",
    "list_problems",
    "logistic_intercept",
    "logistic_primal_dual",
    "make_bench_problem",
    "make_cv_model",
    "make_model",
    "make_path",
    "objective",
    "plot_curves",
    "plot_times",
    "primal_dual",
    "resolve_data_dir",
    "run",
    "solver_names",
]
