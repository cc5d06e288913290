"""Command-line interface: ``fastl1 <command>`` (also ``python -m fastl1``).

Commands
--------
fit
    Select features from a data file (CSV/TSV/.npz/svmlight) by cross-validated L1
    regression or classification, optionally with stability selection; writes a table of
    the selected features, plots and a JSON summary (see :mod:`fastl1.workflow`).
demo
    ``fit`` on the built-in gene-expression example, reporting the causal genes found.
bench
    Time fastl1 against the installed peers (scikit-learn, celer, skglm, ...) on
    the benchmark problems at equal accuracy: single fits, 100-alpha regularisation
    paths and 5-fold cross-validation (``--problems fits|paths|cv|all`` or names);
    see :mod:`fastl1.bench`.
compile
    Compile every kernel specialisation into the on-disk cache ahead of time, in parallel
    processes (see :mod:`fastl1.precompile`).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["main"]

_DEMO_N_INFORMATIVE = 10
_DEMO_BLOCK_SIZE = 20  # block size used by fastl1.datasets.load_demo
_DEMO_MAX_ROWS = 15  # longest table of selected features printed


def _version() -> str:
    try:
        import fastl1

        version = getattr(fastl1, "__version__", None)
        if version:
            return str(version)
    except ImportError:  # pragma: no cover - the CLI lives inside fastl1
        pass
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("fastl1")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value

    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastl1",
        description="fastl1: fast L1-regularised models (Lasso, ElasticNet) with Numba.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")

    fit = subparsers.add_parser(
        "fit",
        help="select features from a data file by cross-validated L1 regression or "
        "classification",
        description=(
            "Read a samples x features table (CSV/TSV/whitespace-delimited text or GCT, "
            "optionally gzipped; .npz, dense or scipy.sparse; svmlight/libsvm), fit a "
            "cross-validated lasso / elastic net, an L1 logistic regression for a class "
            "target, an L1 Poisson regression for counts (--family poisson) or an L1 Cox "
            "model for survival data (--time and --event; with the Kaplan-Meier curves of "
            "the high- and low-risk halves), "
            "and write to --out: the selected features with their coefficients (CSV, "
            "sorted by |coef|, on the original scale of the data), the CV curve and the "
            "coefficient path (PNG, with matplotlib installed) and a JSON summary (alpha or C "
            "chosen, cross-validated performance, intercept, duality-gap certificate for "
            "regression, timing)."
        ),
    )
    fit.add_argument("data", metavar="DATA", help="data file (.csv, .tsv, .txt, .gct, .gz, "
                     ".npz, .svm/.svmlight/.libsvm)")
    fit.add_argument("--target", metavar="NAME",
                     help="target column (a row with --transpose); required for text tables")
    fit.add_argument("--time", metavar="NAME",
                     help="survival time column (a row with --transpose): fit a Cox model "
                     "(L1 Cox regression chosen by cross-validated partial-likelihood "
                     "deviance) with --event; both columns are removed from the features")
    fit.add_argument("--event", metavar="NAME",
                     help="event column for --time: 1/0, True/False, or two labels such as "
                     "dead/alive or cBioPortal's 1:DECEASED/0:LIVING (1 = event, 0 = censored)")
    fit.add_argument("--event-value", metavar="LABEL",
                     help="the --event label that marks an event, when the labels are not "
                     "self-explanatory")
    fit.add_argument("--family", choices=["gaussian", "binomial", "poisson", "cox"],
                     help="glmnet's name for the model: gaussian = --task regression, "
                     "binomial = --task classification, poisson = counts (L1 Poisson "
                     "regression chosen by cross-validated deviance), cox = survival (needs "
                     "--time and --event)")
    fit.add_argument("--task", choices=["auto", "regression", "classification"],
                     default="auto", help="default: classification if the target is labels "
                     "or has <= 10 integer values, else regression")
    fit.add_argument("--cv", type=_int_at_least(2), default=5, metavar="K",
                     help="cross-validation folds (default: %(default)s)")
    fit.add_argument("--l1-ratio", type=_positive_float, nargs="+", default=[1.0],
                     metavar="R", help="penalty mix(es) to try, 1 = lasso (default: 1)")
    fit.add_argument("--alpha-rule", choices=["min", "1se"], default="min",
                     help="penalty with the best CV measure, or the strongest within one "
                     "standard error of it (the largest alpha or smallest C: sparser; glmnet's "
                     "lambda.1se) (default: %(default)s)")
    fit.add_argument("--alphas", type=_int_at_least(2), default=100, metavar="N",
                     help="alpha grid size (default: %(default)s)")
    fit.add_argument("--tol", type=_positive_float, default=1e-4, metavar="TOL",
                     help="the estimators' tol: regression fits stop when their duality gap "
                     "is below TOL * ||y||^2 / n (scikit-learn's rule), classification fits "
                     "when their largest KKT violation is below TOL (default: %(default)s)")
    fit.add_argument("--transpose", action="store_true",
                     help="the table has features as rows and samples as columns")
    fit.add_argument("--id-column", metavar="NAME",
                     help="sample-id column (default: the first column if not numeric)")
    fit.add_argument("--no-standardize", action="store_true",
                     help="fit on the raw features (default: divide by their std)")
    fit.add_argument("--unpenalized", metavar="NAMES", default="",
                     help="comma-separated features left unpenalised, fitted beside the "
                     "selected ones in every model (covariates such as age,sex; glmnet's "
                     "penalty.factor = 0)")
    fit.add_argument("--stability", action="store_true",
                     help="also run stability selection (complementary pairs)")
    fit.add_argument("--n-resamples", type=_int_at_least(1), default=50, metavar="B",
                     help="stability selection: random half-splits (default: %(default)s)")
    fit.add_argument("--threshold", type=_positive_float, default=0.6, metavar="T",
                     help="stability selection: frequency threshold (default: %(default)s)")
    fit.add_argument("--n-jobs", type=int, default=-1, metavar="J",
                     help="threads (default: all cores)")
    fit.add_argument("--seed", type=int, default=0, metavar="S",
                     help="seed of the fold shuffling and subsampling (default: %(default)s)")
    fit.add_argument("--measure", choices=["mse", "deviance", "class", "auc"],
                     help="cross-validated measure that chooses the penalty (glmnet's "
                     "type.measure): regression uses mse, Poisson and Cox deviance; "
                     "classification deviance (log-loss, "
                     "default), class (misclassification error) or auc (two classes); "
                     "classification reports accuracy, ROC AUC and log-loss in any case")
    fit.add_argument("--out", metavar="DIR", default="fastl1-output",
                     help="output folder (default: %(default)s); must be new or empty unless "
                     "--overwrite is given")
    fit.add_argument("--overwrite", action="store_true",
                     help="write into a non-empty --out folder: the files of a previous run "
                     "(selected_features.csv, stability.csv, cv_curve.png, path.png, "
                     "stability.png, kaplan_meier.png, summary.json) are removed first, other "
                     "files are left alone")
    fit.add_argument("--quiet", action="store_true", help="no progress bar or report")
    fit.set_defaults(func=_run_fit)

    demo = subparsers.add_parser(
        "demo",
        help="run the feature-selection workflow on the built-in gene-expression example",
        description=(
            "Run `fastl1 fit` on the built-in synthetic gene-expression data "
            "(fastl1.datasets.load_demo: 100 samples x 5000 genes, 10 causal): 5-fold "
            "LassoCV over 100 alphas, writing the selected genes, plots and a JSON summary "
            "to --out, and report how many causal genes were recovered."
        ),
    )
    demo.add_argument("--n-samples", type=_int_at_least(10), default=100, metavar="N",
                      help="number of samples (default: %(default)s)")
    demo.add_argument("--n-features", type=_int_at_least(1), default=5000, metavar="P",
                      help="number of genes (default: %(default)s)")
    demo.add_argument("--alpha-rule", choices=["min", "1se"], default="1se",
                      help="alpha rule (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, metavar="S",
                      help="random seed of the data generator (default: %(default)s)")
    demo.add_argument("--out", metavar="DIR", default="fastl1-demo",
                      help="output folder (default: %(default)s); must be new or empty unless "
                      "--overwrite is given")
    demo.add_argument("--overwrite", action="store_true",
                      help="write into a non-empty --out folder, replacing a previous run's "
                      "files")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_run_demo)

    # light: imports no solver
    from fastl1.bench import PROBLEM_GROUPS, PROBLEMS, solver_names

    bench = subparsers.add_parser(
        "bench",
        help="time fastl1 against the installed peers at equal accuracy",
        description=(
            "Run fastl1 and every installed peer (scikit-learn, celer, skglm, adelie, "
            "python-glmnet, R's glmnet through Rscript) on the same problems, alternating "
            "solvers, "
            "and print a table per problem: median steady-state time after a warm-up "
            "fit (first fit, incl. JIT compile, in its own column), objective, "
            "suboptimality, duality gap, non-zeros and the ratio fastl1/solver. Every "
            "solver must reach suboptimality <= tol * ||y||^2 / n. Path problems solve "
            "the same 100-alpha grid with every solver and are certified at every alpha; "
            "CV problems (5-fold LassoCV, n_jobs=2 and 1) compare the chosen alpha_ and "
            "the CV error curve. Logistic problems (binary L1 logistic regression) run "
            "fastl1, scikit-learn liblinear and saga, celer and skglm to suboptimality "
            "<= tol * log 2."
        ),
    )
    bench.add_argument(
        "--problems",
        nargs="+",
        choices=[*PROBLEMS, *PROBLEM_GROUPS],
        metavar="NAME",
        help="problems to run, or groups of them: "
        f"{', '.join(PROBLEM_GROUPS)} (default: all; see --list)",
    )
    bench.add_argument(
        "--solvers",
        nargs="+",
        choices=solver_names(),
        metavar="NAME",
        help=f"solvers to run, from {', '.join(solver_names())} (a library name such as "
        "sklearn selects all its solvers; default: all installed)",
    )
    bench.add_argument(
        "--repeats",
        type=_int_at_least(1),
        default=3,
        metavar="R",
        help="timed fits per solver after the warm-up fit (default: %(default)s)",
    )
    bench.add_argument(
        "--tol",
        type=_positive_float,
        default=1e-8,
        metavar="TOL",
        help="accuracy: suboptimality <= TOL * ||y||^2 / n (default: %(default)s)",
    )
    bench.add_argument(
        "--scale",
        type=_positive_float,
        default=1.0,
        metavar="S",
        help="shrink n and p by S, e.g. 0.01 for a smoke test (default: %(default)s)",
    )
    bench.add_argument(
        "--json", metavar="PATH", help="also write the results to PATH as JSON"
    )
    bench.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder with the real data sets (leukemia.npz, riboflavin.npz, "
        "rcv1_small_train.npz); default: $FASTL1_BENCH_DATA; problems that need them are "
        "skipped without it",
    )
    bench.add_argument("--plot", metavar="PNG",
                       help="also draw the median times per problem and solver to PNG")
    bench.add_argument("--curves", metavar="PNG",
                       help="instead of the table: time against certified suboptimality for "
                       "tolerances 1e-2 ... 1e-10 on the first problem given, drawn to PNG")
    bench.add_argument("--list", action="store_true", help="list the problems and exit")
    bench.set_defaults(func=_run_bench)

    compile_ = subparsers.add_parser(
        "compile",
        help="compile every solver specialisation now (for images and cluster nodes)",
        description=(
            "Compile the Numba kernels of every model (squared loss, logistic), layout "
            "(dense, CSC and CSR with int32 or int64 indices) and dtype (float64, float32) "
            "into the on-disk cache, in parallel processes, so that no later fit on this "
            "machine compiles. Set NUMBA_CACHE_DIR first if the package folder is "
            "read-only; the fits must then run with the same NUMBA_CACHE_DIR."
        ),
    )
    compile_.add_argument(
        "--jobs", type=_int_at_least(1), default=None, metavar="N",
        help="processes at once (default: one per core)")
    compile_.set_defaults(func=_run_compile)
    return parser


class _ProgressBar:
    """A one-line progress bar on stderr, shown only on a terminal."""

    def __init__(self, label: str, enabled: bool):
        self.label = label
        self.enabled = enabled and sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] "
                         f"{done}/{total}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def _report(result, written, out_dir, max_rows: int = _DEMO_MAX_ROWS) -> list[str]:
    summary = result.summary()
    lines = [f"data:      {summary['n_samples']} samples x {summary['n_features']} features "
             f"({result.task})"]
    if result.task == "poisson":
        lines.extend(_poisson_lines(summary))
    elif result.task == "cox":
        lines.extend(_cox_lines(summary))
    elif result.task == "regression":
        lines.append(f"model:     {summary['model']}, {summary['cv_folds']}-fold CV, alpha_rule="
                     f"{summary['alpha_rule']}: alpha = {summary['alpha']:.4g} (alpha_min = "
                     f"{summary['alpha_min']:.4g}, alpha_1se = {summary['alpha_1se']:.4g})")
        lines.append(f"CV error:  {summary['cv_mse_at_alpha']:.4g} at alpha (minimum "
                     f"{summary['cv_mse_min']:.4g}); duality gap {summary['dual_gap']:.2e} <= "
                     f"{summary['gap_certified_below']:.2e}")
        lines.append(f"intercept: {summary['intercept']:.5g}")
    else:
        lines.extend(_classification_lines(summary))
    lines.append(f"selected:  {summary['n_selected']} features in {result.fit_seconds:.2f} s")
    coef = result.coef
    for rank, j in enumerate(result.selected[:max_rows], start=1):
        value = coef[j] if coef.ndim == 1 else np.abs(coef[:, j]).max()
        lines.append(f"  {rank:>3}  {result.feature_names[j]:<20} {value:>12.5g}")
    if result.selected.size > max_rows:
        lines.append(f"  ... {result.selected.size - max_rows} more in selected_features.csv")
    if result.stability is not None:
        stable = summary["stability"]
        lines.append(f"stability: {len(stable['stable_features'])} stable features (threshold "
                     f"{stable['threshold']:g}), expected false selections <= "
                     f"{stable['expected_false_selections_bound']:.2g}")
    for note in summary["notes"]:
        lines.append(f"note:      {note}")
    lines.append(f"outputs:   {str(out_dir).rstrip('/')}/ ({', '.join(p.name for p in written)})")
    return lines


def _task(args: argparse.Namespace) -> str:
    """The task from ``--task``, ``--family`` (glmnet's names) and ``--time``/``--event``,
    which must agree."""
    survival = args.time is not None
    if args.family is None:
        if survival and args.task != "auto":
            raise ValueError(f"--time and --event fit a Cox model, not --task {args.task}")
        return "cox" if survival else args.task
    task = {"gaussian": "regression", "binomial": "classification",
            "poisson": "poisson", "cox": "cox"}[args.family]
    if args.task not in ("auto", task):
        raise ValueError(f"--family {args.family} contradicts --task {args.task}")
    if survival != (task == "cox"):
        raise ValueError("--family cox needs --time and --event" if not survival else
                         f"--time and --event fit a Cox model, not --family {args.family}")
    return task


def _check_survival_options(args: argparse.Namespace) -> str | None:
    """Why the survival options do not go together (None if they do)."""
    if (args.time is None) != (args.event is None):
        given, missing = ("--time", "--event") if args.event is None else ("--event", "--time")
        return (f"{given} needs {missing}: a Cox model reads the survival time and the event "
                "indicator (1 = event, 0 = censored) from two columns")
    if args.time is None:
        if args.event_value is not None:
            return "--event-value goes with --time and --event"
        return None
    if args.target is not None:
        return ("--target cannot be combined with --time/--event (the Cox model's target is "
                "the pair of them)")
    if args.time == args.event:
        return "--time and --event name the same column"
    return None


def _cox_lines(summary: dict) -> list[str]:
    lines = [
        f"model:     {summary['model']} ({summary['ties'].capitalize()} ties), "
        f"{summary['cv_folds']}-fold CV stratified on the event, alpha_rule="
        f"{summary['alpha_rule']}: alpha = {summary['alpha']:.4g} (alpha_min = "
        f"{summary['alpha_min']:.4g}, alpha_1se = {summary['alpha_1se']:.4g})",
        f"events:    {summary['n_events']} events, {summary['n_censored']} censored",
        f"CV error:  partial-likelihood deviance {summary['cv_deviance_at_alpha']:.4g} per "
        f"event at alpha (minimum {summary['cv_deviance_min']:.4g}); KKT violation "
        f"{summary['kkt_violation']:.2e}",
    ]
    cv = summary["c_index_cv"]
    train = summary["c_index_train"]
    parts = [] if train is None else [f"{train:.3f} on the training data (optimistic)"]
    if cv is not None:
        se = summary["c_index_cv_se"]
        parts.append(f"{cv:.3f}{'' if se is None else f' +- {se:.3f}'} cross-validated "
                     "(folds refitted at alpha)")
    lines.append(f"C-index:   {', '.join(parts) or 'undefined (no comparable pairs)'}")
    groups = summary["risk_groups"]
    if "high" in groups:
        def median(group):
            value = group["median_survival"]
            return "not reached" if value is None else f"{value:.4g}"

        high, low = groups["high"], groups["low"]
        lines.append(f"risk:      high (score > {groups['split_at_score']:.3g}) {high['n']} "
                     f"samples, {high['events']} events, median survival {median(high)}; low "
                     f"{low['n']}, {low['events']} events, median {median(low)}; log-rank "
                     f"p = {groups['logrank_p']:.2g}")
    else:
        lines.append(f"risk:      {groups['note']}")
    return lines


def _poisson_lines(summary: dict) -> list[str]:
    return [
        f"model:     {summary['model']} (log link), {summary['cv_folds']}-fold CV, "
        f"alpha_rule={summary['alpha_rule']}: alpha = {summary['alpha']:.4g} (alpha_min = "
        f"{summary['alpha_min']:.4g}, alpha_1se = {summary['alpha_1se']:.4g})",
        f"CV error:  Poisson deviance {summary['cv_deviance_at_alpha']:.4g} at alpha (minimum "
        f"{summary['cv_deviance_min']:.4g}); duality gap {summary['dual_gap']:.2e}",
        f"intercept: {summary['intercept']:.5g} (log of the mean count at zero features)",
    ]


_MEASURE_NAMES = {"deviance": "deviance (log-loss)", "class": "misclassification error",
                  "auc": "ROC AUC"}


def _classification_lines(summary: dict) -> list[str]:
    grid = summary["Cs"]
    cv = summary["cv_at_C"]
    lines = [
        f"model:     {summary['model']} (L1{'' if summary['l1_ratio'] == 1 else ' + L2'}), "
        f"{summary['cv_folds']}-fold CV, measure={_MEASURE_NAMES[summary['measure']]}, "
        f"alpha_rule={summary['alpha_rule']}: C = {summary['C']:.4g} (C_min = "
        f"{summary['C_min']:.4g}, C_1se = {summary['C_1se']:.4g})",
        f"C grid:    {len(grid)} values from {grid[0]:.4g} (l1_min_c: the first feature "
        f"enters) to {grid[-1]:.4g}",
    ]
    parts = [f"accuracy {cv['accuracy']:.3f} +- {cv['accuracy_se']:.3f}"]
    if "roc_auc" in cv:
        parts.append(f"ROC AUC {cv['roc_auc']:.3f} +- {cv['roc_auc_se']:.3f}")
    parts.append(f"log-loss {cv['log_loss']:.3f} +- {cv['log_loss_se']:.3f}")
    lines.append(f"CV at C:   {', '.join(parts)} (mean over test folds +- 1 s.e.)")
    classes = summary["classes"]
    if "positive_class" in summary:
        lines.append(f"intercept: {summary['intercept']:.4g}; positive coefficients favour "
                     f"{summary['positive_class']!r} (classes {', '.join(classes)})")
    else:
        intercepts = ", ".join(f"{c} {b:.4g}" for c, b in zip(classes, summary["intercept"],
                                                                strict=True))
        lines.append(f"intercept: {intercepts}; a positive coefficient in column coef_<class> "
                     "of selected_features.csv favours that class (the table below: the "
                     "largest |coefficient| over classes)")
    return lines


def _load_data(args: argparse.Namespace):
    """The table, with the loader's warnings (duplicate names ...) printed as one line each;
    with ``--time``/``--event`` the target is the survival pair, both columns taken out of
    the features."""
    import warnings

    from fastl1.datasets import load_table

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        target = args.event if args.time is not None else args.target
        data = load_table(args.data, target, transpose=args.transpose,
                          id_column=args.id_column)
    for warning in caught:
        print(f"fastl1 fit: warning: {warning.message}", file=sys.stderr)
    if args.time is not None:
        return _survival_data(args, data)
    dropped = [name.strip() for note in data.notes
               if note.startswith("dropped non-numeric annotation")
               for name in note.partition(": ")[2].split(",")]
    hint = _survival_hint(args.target, [*data.feature_names, *dropped])
    if hint is not None and _task(args) in ("auto", "regression"):
        print(f"fastl1 fit: warning: {hint}", file=sys.stderr)
        data.notes.append(hint)
    return data


def _survival_data(args: argparse.Namespace, data):
    """``data`` with the time column taken out of the features and the target the
    ``(n, 2)`` array of columns time, event."""
    import difflib
    import os

    import scipy.sparse as sp

    from fastl1.workflow import event_indicator

    names = list(data.feature_names)
    where = "row" if args.transpose else "column"
    if args.time not in names:
        close = difflib.get_close_matches(args.time, names, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"{os.path.basename(args.data)}: no time {where} named "
                         f"{args.time!r} (it must hold numbers).{hint}")
    j = names.index(args.time)
    X = data.data
    column = X[:, [j]].toarray().ravel() if sp.issparse(X) else np.asarray(X[:, j]).copy()
    keep = np.delete(np.arange(X.shape[1]), j)
    if keep.size == 0:
        raise ValueError(f"{os.path.basename(args.data)}: no features besides the time and "
                         "the event.")
    event = event_indicator(data.target, event_value=args.event_value,
                            name=f"event {where} {args.event!r}")
    data.data = X[:, keep]
    data.feature_names = [names[k] for k in keep]
    data.target = np.column_stack([column, event])
    return data


_TIME_NAME = re.compile(r"(^|[^a-z])(os|pfs|dfs|rfs|efs|dss|ttp)([^a-z]|$)|surviv|time|"
                        r"month|day|year|week|follow", re.IGNORECASE)
_EVENT_NAME = re.compile(r"status|event|censor|vital|dead|death|deceased|died",
                         re.IGNORECASE)


def _survival_hint(target: str | None, feature_names) -> str | None:
    """A warning when a regression target looks like a survival time beside an event
    column: a Gaussian fit ignores censoring (and would select the event column)."""
    if target is None or not _TIME_NAME.search(str(target)):
        return None
    events = [name for name in feature_names if _EVENT_NAME.search(str(name))]
    if not events:
        return None
    return (f"the target {target!r} looks like a survival time and {events[0]!r} like its "
            "event indicator: a regression of the time ignores censoring (and may select the "
            "event column); for a Cox model use --time "
            f"{target} --event {events[0]} instead of --target")


def _error(command: str, error: Exception) -> int:
    print(f"fastl1 {command}: error: {error}", file=sys.stderr)
    return 1


def _run_fit(args: argparse.Namespace) -> int:
    from fastl1.workflow import check_output_dir, select_features, write_outputs

    problem = _check_survival_options(args)
    if problem is None:
        try:
            _task(args)
        except ValueError as error:
            problem = str(error)
    if problem is not None:
        print(f"fastl1 fit: error: {problem}", file=sys.stderr)
        return 2
    try:
        check_output_dir(args.out, overwrite=args.overwrite)
        data = _load_data(args)
    except (OSError, ValueError) as error:
        return _error("fit", error)
    try:
        result = select_features(
            data.data, data.target, feature_names=data.feature_names, task=_task(args),
            cv=args.cv, l1_ratio=args.l1_ratio, alpha_rule=args.alpha_rule, alphas=args.alphas,
            tol=args.tol, standardize=not args.no_standardize, measure=args.measure,
            stability=args.stability, n_resamples=args.n_resamples, threshold=args.threshold,
            n_jobs=args.n_jobs, random_state=args.seed,
            unpenalized=[name.strip() for name in args.unpenalized.split(",") if name.strip()],
            progress=_ProgressBar("cross-validation", not args.quiet),
            stability_progress=_ProgressBar("stability selection", not args.quiet))
    except (ValueError, NotImplementedError) as error:
        return _error("fit", error)
    result.notes[:0] = data.notes
    try:
        written = write_outputs(result, args.out, extra_summary={"data": str(args.data)},
                                sample_ids=getattr(data, "sample_ids", None))
    except OSError as error:
        return _error("fit", f"cannot write the outputs: {error}")
    if not args.quiet:
        print("\n".join(_report(result, written, args.out)))
    return 0


def _run_demo(args: argparse.Namespace) -> int:
    from fastl1.datasets import load_demo
    from fastl1.workflow import check_output_dir, select_features, write_outputs

    try:
        check_output_dir(args.out, overwrite=args.overwrite)
    except ValueError as error:
        return _error("demo", error)
    demo = load_demo(n_samples=args.n_samples, n_features=args.n_features, random_state=args.seed)
    start = time.perf_counter()
    result = select_features(demo.data, demo.target, feature_names=demo.feature_names,
                             task="regression", alpha_rule=args.alpha_rule,
                             progress=_ProgressBar("cross-validation", not args.quiet))
    elapsed = time.perf_counter() - start
    causal = np.flatnonzero(demo.coef)
    found = np.intersect1d(result.selected, causal)
    recovery = {"causal_genes": int(causal.size), "causal_genes_selected": int(found.size)}
    try:
        written = write_outputs(result, args.out, extra_summary={"data": "fastl1 demo",
                                                                 "recovery": recovery})
    except OSError as error:
        return _error("demo", f"cannot write the outputs: {error}")
    print("fastl1 demo: gene selection on synthetic expression data (fastl1.datasets.load_demo)")
    print("\n".join(_report(result, written, args.out)))
    print(f"recovery:  {found.size}/{causal.size} causal genes selected "
          f"({result.selected.size - found.size} others)")
    print(f"time:      {elapsed:.2f} s in all, first run in a process includes loading the "
          "compiled kernels (or compiling them once per machine)")
    return 0


def _run_compile(args: argparse.Namespace) -> int:
    from fastl1.precompile import SPECIALISATIONS, precompile

    total = len(SPECIALISATIONS)
    import os

    processes = args.jobs or os.cpu_count() or 1
    print(f"fastl1: compiling {total} solver specialisations into the cache "
          f"({processes} processes at once) ...", flush=True)
    start = time.perf_counter()

    def progress(done: int, total: int, group: str, seconds: float) -> None:
        width = 30
        bar = "#" * (width * done // total) + "." * (width - width * done // total)
        print(f"[{bar}] {done:2d}/{total} {group:<28s} {seconds:6.1f} s", flush=True)

    precompile(n_jobs=args.jobs, progress=progress)
    print(f"done in {time.perf_counter() - start:.0f} s; fits on this machine now load "
          "their kernels from the cache.")
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    import json

    from fastl1 import bench

    if args.list:
        for name, description in bench.list_problems():
            print(f"{name:<18} {description}")
        print("\ngroups (also accepted by --problems):")
        for name, members in bench.PROBLEM_GROUPS.items():
            print(f"{name:<18} {' '.join(members) if name != 'all' else 'every problem'}")
        return 0
    if args.solvers is None:  # all: the ones not installed are reported as skipped
        solvers = bench.solver_names()
    else:
        solvers = list(dict.fromkeys(args.solvers))
    problems = None if args.problems is None else bench.expand_problems(args.problems)
    if args.curves:
        first = (problems or list(bench.PROBLEMS))[0]
        rows = bench.accuracy_curves(first, solvers, repeats=args.repeats,
                                     scale=args.scale, data_dir=args.data_dir)
        bench.plot_curves(rows, args.curves)
        for row in rows:
            print(f"{row['requested_tol']:>8.0e}  {row['solver']:<8} "
                  f"{row['median'] or float('nan'):>9.4f} s  certified suboptimality "
                  f"{row['certified_suboptimality'] or float('nan'):.2e}")
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump({"environment": bench.environment(), "curves": rows}, f,
                          indent=1)
        return 0
    results = bench.run(
        problems, solvers, repeats=args.repeats, tol=args.tol, scale=args.scale,
        data_dir=args.data_dir, progress=lambda line: print(line, file=sys.stderr),
    )
    print(bench.format_table(results))
    if args.plot:
        bench.plot_times(results, args.plot)
    if args.json:
        settings = {"problems": problems, "solvers": solvers, "repeats": args.repeats,
                    "tol": args.tol, "scale": args.scale, "data_dir": args.data_dir}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"environment": bench.environment(), "settings": settings,
                       "results": results}, f, indent=1)
            f.write("\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``fastl1`` command-line interface.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments without the program name; defaults to
        ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 1 for an error in the data, the fit or the outputs
        (reported in one line on stderr), 2 for a bad command line.
    """
    parser = _build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    if args.command in ("fit", "demo"):
        from fastl1.precompile import announce_compilation

        announce_compilation()
    if args.command == "bench":
        for option in ("json", "plot", "curves"):
            problem = _unwritable_file(getattr(args, option, None))
            if problem:
                print(f"fastl1 bench: error: --{option} {problem}", file=sys.stderr)
                return 2
    return int(args.func(args))


def _unwritable_file(path: str | None) -> str | None:
    """Why ``path`` cannot be written as a file (checked before a long run), or None."""
    import os

    if not path:
        return None
    if os.path.isdir(path):
        return f"{path!r} is a folder; give a file name"
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        return f"{path!r}: the folder {parent!r} does not exist"
    if not os.access(parent, os.W_OK):
        return f"{path!r}: the folder {parent!r} is not writable"
    return None
