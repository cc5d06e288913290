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

__all__ = ["load_demo", "load_table", "make_expression_data"]

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


_MISSING = {"", "na", "nan", "null", "none", "n/a", "?"}
_SVMLIGHT_SUFFIXES = {".svm", ".svmlight", ".libsvm"}
_MAX_REPORTED = 5


def _suffixes(path) -> tuple[str, bool]:
    """The data suffix of ``path`` (``.csv``, ``.tsv``, ...) and whether it is gzipped."""
    from pathlib import Path

    parts = [s.lower() for s in Path(path).suffixes]
    gzipped = bool(parts) and parts[-1] == ".gz"
    if gzipped:
        parts = parts[:-1]
    return (parts[-1] if parts else ""), gzipped


def _read_rows(path, delimiter: str | None, gzipped: bool) -> list[list[str]]:
    import csv
    import gzip

    opener = gzip.open if gzipped else open
    with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
        if delimiter is None:
            sample = handle.read(65536)
            handle.seek(0)
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",\t;").delimiter
            except csv.Error:
                delimiter = ","
        return [row for row in csv.reader(handle, delimiter=delimiter) if row]


def _as_float(cell: str) -> float:
    text = cell.strip()
    if text.lower() in _MISSING:
        return np.nan
    return float(text)


def _numeric_or_none(cells) -> bool:
    try:
        for cell in cells:
            _as_float(cell)
    except ValueError:
        return False
    return True


def _describe(positions: list[tuple[str, str]], what: str) -> str:
    shown = ", ".join(f"sample {row!r} / column {col!r}" for row, col in positions[:_MAX_REPORTED])
    more = f" and {len(positions) - _MAX_REPORTED} more" if len(positions) > _MAX_REPORTED else ""
    return f"{len(positions)} {what}: {shown}{more}"


def load_table(path, target: str | None = None, *, transpose: bool = False,
               id_column: str | None = None, drop_constant: bool = True) -> Bunch:
    """Load a samples x features matrix and a target from a user's file.

    Formats (by suffix, optionally ``.gz``): delimited text (``.csv``, ``.tsv``, ``.txt``;
    the delimiter is sniffed), NumPy ``.npz`` (dense arrays ``X`` and ``y``, optional
    ``feature_names``), and svmlight / libsvm (``.svm``, ``.svmlight``, ``.libsvm``; read as
    a sparse matrix and kept sparse).

    Delimited text has a header row. By default rows are samples and columns are features
    (plus the target column and an optional sample-id column, detected as a first column
    that is not numeric or has an empty header). With ``transpose=True`` rows are features
    (genes) and columns are samples, as expression matrices are often stored; the target is
    then the row named ``target``.

    Parameters
    ----------
    path : str or path-like
    target : str, default=None
        Name of the target column (or row with ``transpose``); required for text files.
    transpose : bool, default=False
    id_column : str, default=None
        Name of the sample-id column (default: detected).
    drop_constant : bool, default=True
        Drop features that are constant over the samples (they can never be selected), with
        a note.

    Returns
    -------
    Bunch with ``data`` (float64 ndarray, or CSR matrix for svmlight), ``target`` (ndarray:
    float if every value is numeric, else str), ``feature_names`` (list of str),
    ``sample_ids`` (list of str) and ``notes`` (list of str: what was dropped or assumed).

    Raises
    ------
    ValueError
        A missing target, non-numeric or missing values (naming the first few samples and
        columns), no features left, or a file that cannot be parsed; ``OSError`` if the
        file cannot be read.
    """
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such data file: {path}")
    suffix, gzipped = _suffixes(path)
    notes: list[str] = []
    if suffix == ".npz":
        X, y, names = _load_npz(path)
        ids = [str(i) for i in range(X.shape[0])]
    elif suffix in _SVMLIGHT_SUFFIXES:
        from sklearn.datasets import load_svmlight_file

        try:
            X, y = load_svmlight_file(str(path))
        except ValueError as error:
            raise ValueError(f"Cannot parse {path.name} as svmlight/libsvm: {error}") from None
        names = [f"f{j}" for j in range(X.shape[1])]
        ids = [str(i) for i in range(X.shape[0])]
    else:
        delimiter = {".csv": ",", ".tsv": "\t", ".tab": "\t"}.get(suffix)
        try:
            rows = _read_rows(path, delimiter, gzipped)
        except (UnicodeDecodeError, OSError, EOFError) as error:
            raise ValueError(f"Cannot read {path.name} as a text table: {error}") from None
        X, y, names, ids = _parse_table(rows, target, transpose, id_column, notes, path.name)
    if drop_constant and X.shape[0] > 1:
        if hasattr(X, "tocsc"):
            X = X.tocsr()
            squares = np.asarray(X.multiply(X).mean(axis=0)).ravel()
            means = np.asarray(X.mean(axis=0)).ravel()
            constant = squares - means * means <= 0.0
        else:
            constant = np.all(X == X[:1], axis=0)
        if np.any(constant):
            dropped = [names[j] for j in np.flatnonzero(constant)]
            keep = np.flatnonzero(~constant)
            X = X[:, keep]
            names = [names[j] for j in keep]
            shown = ", ".join(dropped[:_MAX_REPORTED])
            more = f" and {len(dropped) - _MAX_REPORTED} more" if len(dropped) > 5 else ""
            notes.append(f"dropped {len(dropped)} constant feature(s): {shown}{more}")
    if X.shape[1] == 0:
        raise ValueError(f"{path.name}: no features left (all constant or none given).")
    return Bunch(data=X, target=y, feature_names=names, sample_ids=ids, notes=notes)


def _load_npz(path):
    with np.load(path, allow_pickle=False) as archive:
        keys = set(archive.files)
        x_key = next((k for k in ("X", "data", "x") if k in keys), None)
        y_key = next((k for k in ("y", "target", "Y") if k in keys), None)
        if x_key is None or y_key is None:
            raise ValueError(f"{path.name} must hold arrays 'X' and 'y' (found: "
                             f"{', '.join(sorted(keys))}).")
        X = np.asarray(archive[x_key], dtype=np.float64)
        y = np.asarray(archive[y_key])
        names = ([str(n) for n in archive["feature_names"]] if "feature_names" in keys
                 else [f"f{j}" for j in range(X.shape[1] if X.ndim == 2 else 0)])
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"{path.name}: X must be 2-D and y 1-D with one value per row of X, "
                         f"got X {X.shape} and y {y.shape}.")
    return X, y, names


def _parse_table(rows, target, transpose, id_column, notes, filename):
    import difflib

    if len(rows) < 2:
        raise ValueError(f"{filename}: expected a header row and at least one data row.")
    width = len(rows[0])
    ragged = [i + 1 for i, row in enumerate(rows) if len(row) != width]
    if ragged:
        raise ValueError(f"{filename}: rows have different numbers of cells (header has "
                         f"{width}; line(s) {ragged[:_MAX_REPORTED]} differ).")
    if target is None:
        raise ValueError("Name the target with --target (a column of the table, or a row with "
                         "--transpose).")
    if transpose:  # features x samples: first column = feature names, header = sample ids
        table = [list(col) for col in zip(*rows, strict=True)]
        table[0][0] = table[0][0] or "id"
        rows = table
        id_column = rows[0][0]
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    if target not in header:
        close = difflib.get_close_matches(target, header, n=3)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        where = "row" if transpose else "column"
        raise ValueError(f"{filename}: no target {where} named {target!r}.{hint} "
                         f"Available: {', '.join(header[:8])}{' ...' if len(header) > 8 else ''}")
    t = header.index(target)
    if id_column is None and t != 0 and (header[0] == "" or not _numeric_or_none(
            row[0] for row in body)):
        id_column = header[0]
        notes.append(f"using the first column {header[0]!r} as sample ids")
    if id_column is not None and id_column not in header:
        raise ValueError(f"{filename}: no sample-id column named {id_column!r}.")
    i_id = header.index(id_column) if id_column is not None else None
    ids = [row[i_id] for row in body] if i_id is not None else [str(i) for i in range(len(body))]
    features = [j for j in range(len(header)) if j not in (t, i_id)]
    names = [header[j] or f"column{j}" for j in features]
    X = np.empty((len(body), len(features)))
    bad, missing = [], []
    for i, row in enumerate(body):
        for k, j in enumerate(features):
            try:
                X[i, k] = value = _as_float(row[j])
            except ValueError:
                bad.append((ids[i], names[k]))
                continue
            if not np.isfinite(value):
                missing.append((ids[i], names[k]))
    if bad:
        raise ValueError(f"{filename}: {_describe(bad, 'non-numeric cell(s)')}.")
    if missing:
        rows_with = sorted({r for r, _ in missing})
        cols_with = sorted({c for _, c in missing})
        raise ValueError(
            f"{filename}: {_describe(missing, 'missing or infinite value(s)')}. Samples "
            f"affected: {', '.join(rows_with[:_MAX_REPORTED])}; features affected: "
            f"{', '.join(cols_with[:_MAX_REPORTED])}. Impute or drop them first.")
    labels = [row[t].strip() for row in body]
    if any(label.lower() in _MISSING for label in labels):
        empty = [ids[i] for i, label in enumerate(labels) if label.lower() in _MISSING]
        raise ValueError(f"{filename}: the target is missing for sample(s) "
                         f"{', '.join(empty[:_MAX_REPORTED])}.")
    y = np.array([_as_float(v) for v in labels]) if _numeric_or_none(labels) \
        else np.array(labels)
    return X, y, names, ids
