"""Command-line interface: ``fastl1 <command>`` (also ``python -m fastl1``).

Commands
--------
demo
    Fit :class:`fastl1.Lasso` on the built-in gene-expression demo data and
    print the selected features, the duality-gap certificate and the fit times.
bench
    Time fastl1 against the installed peers (scikit-learn, celer, skglm, ...) on
    the benchmark problems at equal accuracy: single fits, 100-alpha regularisation
    paths and 5-fold cross-validation (``--problems fits|paths|cv|all`` or names);
    see :mod:`fastl1.benchmark`.
"""

from __future__ import annotations

import argparse
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


def _alpha_max(X: np.ndarray, y: np.ndarray) -> float:
    """Smallest alpha for which Lasso (with intercept) has all-zero coefficients.

    Dense X only: ``max_j |Xc[:, j] @ yc| / n_samples`` with centred X and y.
    """
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    return float(np.max(np.abs(Xc.T @ yc)) / X.shape[0])


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastl1",
        description="fastl1: fast L1-regularised models (Lasso, ElasticNet) with Numba.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="<command>")

    demo = subparsers.add_parser(
        "demo",
        help="fit a Lasso on built-in gene-expression data and report the result",
        description=(
            "Fit fastl1.Lasso on the built-in synthetic gene-expression data "
            "(fastl1.datasets.load_demo) and print the selected features, the "
            "duality-gap certificate, the fit times (first fit including JIT "
            "compilation, then steady state) and how many true causal genes were "
            "recovered."
        ),
    )
    demo.add_argument(
        "--n-samples",
        type=_int_at_least(2),
        default=100,
        metavar="N",
        help="number of samples (default: %(default)s)",
    )
    demo.add_argument(
        "--n-features",
        type=_int_at_least(1),
        default=5000,
        metavar="P",
        help="number of genes (default: %(default)s)",
    )
    demo.add_argument(
        "--alpha-ratio",
        type=_positive_float,
        default=0.1,
        metavar="R",
        help="regularisation as a fraction of alpha_max: alpha = R * alpha_max "
        "(default: %(default)s)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        metavar="S",
        help="random seed of the data generator (default: %(default)s)",
    )
    demo.set_defaults(func=_run_demo)

    from fastl1.benchmark import PROBLEM_GROUPS, PROBLEMS, SOLVERS  # light: no solver imported

    bench = subparsers.add_parser(
        "bench",
        help="time fastl1 against the installed peers at equal accuracy",
        description=(
            "Run fastl1 and every installed peer (scikit-learn, celer, skglm, "
            "python-glmnet) on the same problems in one process, alternating solvers, "
            "and print a table per problem: median steady-state time after a warm-up "
            "fit (first fit, incl. JIT compile, in its own column), objective, "
            "suboptimality, duality gap, non-zeros and the ratio fastl1/solver. Every "
            "solver must reach suboptimality <= tol * ||y||^2 / n. Path problems solve "
            "the same 100-alpha grid with every solver and are certified at every alpha; "
            "CV problems (5-fold LassoCV, n_jobs=2 and 1) compare the chosen alpha_ and "
            "the CV error curve."
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
        choices=list(SOLVERS),
        metavar="NAME",
        help=f"solvers to run, from {', '.join(SOLVERS)} (default: all installed)",
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
        help="folder with real data (leukemia.npz), used instead of synthetic data",
    )
    bench.add_argument("--list", action="store_true", help="list the problems and exit")
    bench.set_defaults(func=_run_bench)
    return parser


def _run_demo(args: argparse.Namespace) -> int:
    from fastl1 import Lasso  # lazy: importing the estimator may be slow (numba)
    from fastl1.datasets import load_demo

    demo = load_demo(n_samples=args.n_samples, n_features=args.n_features, random_state=args.seed)
    X, y, true_coef, names = demo.data, demo.target, demo.coef, demo.feature_names
    n_samples, n_features = X.shape
    alpha_max = _alpha_max(X, y)
    alpha = args.alpha_ratio * alpha_max
    tol, max_iter = 1e-8, 100_000

    def fit() -> tuple[object, float]:
        model = Lasso(alpha=alpha, tol=tol, max_iter=max_iter)
        start = time.perf_counter()
        model.fit(X, y)
        return model, time.perf_counter() - start

    _, t_first = fit()  # includes numba JIT compilation on a fresh process
    model, t_steady = fit()

    coef = np.asarray(model.coef_, dtype=np.float64).ravel()
    selected = np.flatnonzero(coef)
    selected = selected[np.argsort(-np.abs(coef[selected]), kind="stable")]
    causal = np.flatnonzero(true_coef)
    found = np.intersect1d(selected, causal)
    false_pos = np.setdiff1d(selected, causal)
    causal_blocks = set((causal // _DEMO_BLOCK_SIZE).tolist())
    near_miss = sum(int(j // _DEMO_BLOCK_SIZE) in causal_blocks for j in false_pos)

    out: list[str] = []
    out.append("fastl1 demo: Lasso on synthetic gene-expression data")
    out.append(
        f"data:     {n_samples} samples x {n_features} genes, {causal.size} causal "
        f"(blocks of {_DEMO_BLOCK_SIZE}, within-block correlation 0.7, seed {args.seed})"
    )
    out.append(
        f"alpha:    {alpha:.6g} = {args.alpha_ratio:g} x alpha_max (alpha_max = {alpha_max:.6g})"
    )
    out.append("")
    out.append(f"selected features: {selected.size} of {n_features}")
    if selected.size:
        width = max(len("feature"), *(len(names[j]) for j in selected[:_DEMO_MAX_ROWS]))
        out.append(
            f"  {'rank':>4}  {'feature':<{width}}  {'coefficient':>12}  {'true coef':>10}  causal"
        )
        for rank, j in enumerate(selected[:_DEMO_MAX_ROWS], start=1):
            is_causal = "yes" if true_coef[j] != 0 else "no"
            out.append(
                f"  {rank:>4}  {names[j]:<{width}}  {coef[j]:>12.4f}  {true_coef[j]:>10.4f}  "
                f"{is_causal}"
            )
        if selected.size > _DEMO_MAX_ROWS:
            out.append(f"  ... and {selected.size - _DEMO_MAX_ROWS} more with smaller |coef|")
    out.append("")

    # sklearn convention: dual_gap_ is the gap of the objective
    # 1/(2n)||y - Xw||^2 + alpha||w||_1 and is checked against tol * ||y_c||^2 / n.
    gap = float(np.max(np.asarray(model.dual_gap_, dtype=np.float64)))
    yc = y - y.mean()
    gap_tol = tol * float(yc @ yc) / n_samples
    n_iter = int(np.max(np.asarray(model.n_iter_)))
    verdict = "<=" if gap <= gap_tol else ">"
    status = "certified optimal" if gap <= gap_tol else "NOT certified (gap above threshold)"
    out.append(f"duality gap: dual_gap_ = {gap:.3e} {verdict} {gap_tol:.3e} = tol * ||y_c||^2 / n")
    out.append(f"             (tol = {tol:g}, y_c = y - mean(y)): {status}")
    out.append(f"iterations:  n_iter_ = {n_iter} (max_iter = {max_iter})")
    out.append(
        f"fit time:    first fit {t_first * 1e3:.1f} ms (incl. JIT compilation), "
        f"steady state {t_steady * 1e3:.1f} ms"
    )
    out.append("")
    out.append(f"recovery:    {found.size}/{causal.size} true causal genes selected")
    if false_pos.size:
        out.append(
            f"             {false_pos.size} selected genes are not causal "
            f"({near_miss} of them in the block of a causal gene)"
        )
    print("\n".join(out))
    return 0


def _run_bench(args: argparse.Namespace) -> int:
    import json

    from fastl1 import benchmark

    if args.list:
        for name, description in benchmark.list_problems():
            print(f"{name:<18} {description}")
        print("\ngroups (also accepted by --problems):")
        for name, members in benchmark.PROBLEM_GROUPS.items():
            print(f"{name:<18} {' '.join(members) if name != 'all' else 'every problem'}")
        return 0
    if args.solvers is None:  # all: the ones not installed are reported as skipped
        solvers = list(benchmark.SOLVERS)
    else:
        solvers = list(dict.fromkeys(args.solvers))
    problems = None if args.problems is None else benchmark.expand_problems(args.problems)
    results = benchmark.run(
        problems, solvers, repeats=args.repeats, tol=args.tol, scale=args.scale,
        data_dir=args.data_dir, progress=lambda line: print(line, file=sys.stderr),
    )
    print(benchmark.format_table(results))
    if args.json:
        settings = {"problems": problems, "solvers": solvers, "repeats": args.repeats,
                    "tol": args.tol, "scale": args.scale, "data_dir": args.data_dir}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"environment": benchmark.environment(), "settings": settings,
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
        Exit status: 0 on success, 2 if no command was given.
    """
    parser = _build_parser()
    args = parser.parse_args(None if argv is None else list(argv))
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args))
