"""Synthetic data sets shaped like gene-expression studies.

The typical L1 use case in genomics has few samples (tens to hundreds of
patients), many features (thousands of genes), strong correlation between
co-regulated genes, and a handful of genes that actually drive the outcome.
:func:`make_expression_data` generates data with exactly that structure, and
:func:`load_demo` returns a fixed instance of it for examples and the
``fastl1 demo`` command.
"""

from __future__ import annotations

import numbers
from typing import Literal

import numpy as np
from sklearn.utils import Bunch

__all__ = ["load_demo", "make_expression_data"]

#: Mean and standard deviation of the per-gene baseline log-expression level.
_MEAN_LOG_EXPRESSION = 8.0
_SD_LOG_EXPRESSION = 1.5


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}.")
    return int(value)


def _check_float(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}.")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    return value


def make_expression_data(
    n_samples: int = 100,
    n_features: int = 2000,
    n_informative: int = 10,
    block_size: int = 20,
    correlation: float = 0.7,
    task: Literal["regression", "classification"] = "regression",
    noise: float = 1.0,
    random_state: int | np.random.Generator | None = 0,
    return_names: bool = False,
) -> (
    tuple[np.ndarray, np.ndarray, np.ndarray]
    | tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]
):
    """Generate gene-expression-like data with correlated blocks of genes.

    Genes are split into consecutive blocks of ``block_size`` (the last block
    may be smaller). Every block models a co-regulated module: each sample has
    one latent factor per block, and gene ``j`` in block ``b`` is::

        X[:, j] = mu_j + sqrt(correlation) * factor_b + sqrt(1 - correlation) * eps_j

    with independent standard normal ``factor_b`` and ``eps_j``. Each gene thus
    has unit variance, two genes of the same block have correlation
    ``correlation``, and genes of different blocks are independent. The
    baseline ``mu_j`` is drawn from ``N(8, 1.5**2)`` so that values look like
    log2 expression levels (positive, non-zero means), which makes the
    intercept matter.

    ``n_informative`` causal genes are placed in different blocks (when there
    are more causal genes than blocks, blocks are reused round-robin with
    distinct genes). Their coefficients have random sign and magnitude drawn
    uniformly in ``[1, 3]``; all other coefficients are exactly zero.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples (rows), at least 1.
    n_features : int, default=2000
        Number of genes (columns), at least 1.
    n_informative : int, default=10
        Number of causal genes, between 0 and ``n_features``.
    block_size : int, default=20
        Number of genes per correlated block, at least 1.
    correlation : float, default=0.7
        Correlation between two genes of the same block, in ``[0, 1)``.
    task : {"regression", "classification"}, default="regression"
        ``"regression"``: ``y = (X - mu) @ coef + noise * N(0, 1)``.
        ``"classification"``: labels in ``{-1.0, 1.0}`` drawn from the
        logistic model ``P(y = 1) = 1 / (1 + exp(-(X - mu) @ coef))``.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise added to the regression
        target, at least 0. Ignored when ``task="classification"`` (the
        logistic model is already random).
    random_state : int, numpy.random.Generator or None, default=0
        Seed or generator passed to :func:`numpy.random.default_rng`. The same
        integer seed always gives the same data.
    return_names : bool, default=False
        If True, also return the gene names.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Expression matrix, float64, C-contiguous.
    y : ndarray of shape (n_samples,)
        Continuous target (regression) or labels in ``{-1.0, 1.0}``
        (classification), float64.
    coef : ndarray of shape (n_features,)
        True coefficients, float64; exactly ``n_informative`` are non-zero.
    feature_names : list of str
        ``["gene_0000", "gene_0001", ...]`` (zero-padded to at least four
        digits). Only returned if ``return_names`` is True.

    Raises
    ------
    ValueError
        If an argument has the wrong type or is out of range.

    See Also
    --------
    load_demo : A fixed instance of this data set, as a Bunch.

    Examples
    --------
    >>> from fastl1.datasets import make_expression_data
    >>> X, y, coef = make_expression_data(n_samples=50, n_features=300, random_state=0)
    >>> X.shape, y.shape, coef.shape
    ((50, 300), (50,), (300,))
    >>> int((coef != 0).sum())
    10
    >>> X, y, coef, names = make_expression_data(
    ...     n_samples=40, n_features=100, task="classification", return_names=True
    ... )
    >>> names[:2]
    ['gene_0000', 'gene_0001']
    >>> sorted(set(y.tolist()))
    [-1.0, 1.0]
    """
    n_samples = _check_int("n_samples", n_samples, 1)
    n_features = _check_int("n_features", n_features, 1)
    n_informative = _check_int("n_informative", n_informative, 0)
    if n_informative > n_features:
        raise ValueError(
            f"n_informative must be <= n_features, got n_informative={n_informative} "
            f"and n_features={n_features}."
        )
    block_size = _check_int("block_size", block_size, 1)
    correlation = _check_float("correlation", correlation)
    if not 0.0 <= correlation < 1.0:
        raise ValueError(f"correlation must be in [0, 1), got {correlation}.")
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}.")
    noise = _check_float("noise", noise)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}.")
    if not isinstance(random_state, (type(None), numbers.Integral, np.random.Generator)) or (
        isinstance(random_state, bool)
    ):
        raise ValueError(
            f"random_state must be None, an int or a numpy.random.Generator, got {random_state!r}."
        )
    if not isinstance(return_names, (bool, np.bool_)):
        raise ValueError(f"return_names must be a bool, got {return_names!r}.")

    rng = np.random.default_rng(random_state)
    n_blocks = -(-n_features // block_size)  # ceil division
    block_of = np.arange(n_features) // block_size

    # Expression matrix: shared block factor + independent gene noise + baseline.
    X = rng.standard_normal((n_samples, n_features))
    X *= np.sqrt(1.0 - correlation)
    factors = rng.standard_normal((n_samples, n_blocks))
    X += np.sqrt(correlation) * factors[:, block_of]
    means = rng.normal(_MEAN_LOG_EXPRESSION, _SD_LOG_EXPRESSION, size=n_features)

    # Causal genes: one per block in random block order, round-robin if needed.
    coef = np.zeros(n_features)
    if n_informative:
        block_order = rng.permutation(n_blocks)
        genes_in_block = [rng.permutation(np.flatnonzero(block_of == b)) for b in block_order]
        informative: list[int] = []
        depth = 0
        while len(informative) < n_informative:
            for genes in genes_in_block:
                if depth < genes.size and len(informative) < n_informative:
                    informative.append(int(genes[depth]))
            depth += 1
        idx = np.asarray(informative)
        signs = rng.choice(np.array([-1.0, 1.0]), size=n_informative)
        coef[idx] = signs * rng.uniform(1.0, 3.0, size=n_informative)

    # X currently holds the centred signal; the target uses it before adding means.
    signal = X @ coef
    if task == "regression":
        y = signal + noise * rng.standard_normal(n_samples)
    else:
        proba = 1.0 / (1.0 + np.exp(-signal))
        y = np.where(rng.uniform(size=n_samples) < proba, 1.0, -1.0)
    X += means
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)

    if return_names:
        width = max(4, len(str(n_features - 1)))
        names = [f"gene_{j:0{width}d}" for j in range(n_features)]
        return X, y, coef, names
    return X, y, coef


_DEMO_DESCRIPTION = """\
fastl1 demo data: synthetic gene expression
-------------------------------------------
{n_samples} samples x {n_features} genes of log-expression-like values (per-gene
baseline ~ N(8, 1.5^2), unit variance). Genes come in co-regulated blocks of 20
with within-block correlation 0.7 and are independent across blocks. The
continuous target is a linear function of {n_informative} causal genes spread over
different blocks, with coefficients of random sign and magnitude in [1, 3], plus
N(0, 1) noise. ``coef`` holds the true coefficients, so a sparse model's
selected genes can be checked against the truth. Generated by
``make_expression_data(n_samples={n_samples}, n_features={n_features},
n_informative={n_informative}, random_state={random_state})``.
"""


def load_demo(*, n_samples: int = 100, n_features: int = 5000, random_state: int = 0) -> Bunch:
    """Load the demo gene-expression regression data set.

    A fixed instance of :func:`make_expression_data` with 10 causal genes,
    blocks of 20 genes and within-block correlation 0.7. The keyword
    arguments exist for quick smaller runs (e.g. ``fastl1 demo``); the
    defaults give the reference data set.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples.
    n_features : int, default=5000
        Number of genes. If fewer than 10, all genes are causal.
    random_state : int, default=0
        Seed of the generator.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with attributes

        - ``data``: ndarray of shape (n_samples, n_features), the expression
          matrix (float64, C-contiguous);
        - ``target``: ndarray of shape (n_samples,), the continuous outcome;
        - ``coef``: ndarray of shape (n_features,), the true coefficients;
        - ``feature_names``: list of str, the gene names;
        - ``description``: str, a description of the data set.

    See Also
    --------
    make_expression_data : The generator, with all parameters.

    Examples
    --------
    >>> from fastl1.datasets import load_demo
    >>> demo = load_demo()
    >>> demo.data.shape, demo.target.shape
    ((100, 5000), (100,))
    >>> int((demo.coef != 0).sum())
    10
    """
    n_informative = min(10, n_features) if isinstance(n_features, numbers.Integral) else 10
    X, y, coef, names = make_expression_data(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        random_state=random_state,
        return_names=True,
    )
    description = _DEMO_DESCRIPTION.format(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        random_state=random_state,
    )
    return Bunch(data=X, target=y, coef=coef, feature_names=names, description=description)
