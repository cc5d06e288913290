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
_MAX_RECORDED = 1000  # bad cells remembered for the error message (all are counted)
_DELIMITERS = ("\t", ",", ";")


def _suffixes(path) -> tuple[str, bool]:
    """The data suffix of ``path`` (``.csv``, ``.tsv``, ...) and whether it is gzipped."""
    from pathlib import Path

    parts = [s.lower() for s in Path(path).suffixes]
    gzipped = bool(parts) and parts[-1] == ".gz"
    if gzipped:
        parts = parts[:-1]
    return (parts[-1] if parts else ""), gzipped


def _as_float(cell: str) -> float:
    text = cell.strip()
    if text.lower() in _MISSING:
        return np.nan
    return float(text)


def _is_numeric_or_missing(cell: str) -> bool:
    try:
        _as_float(cell)
    except ValueError:
        return False
    return True


def _describe(positions: list[tuple[str, str]], what: str, total: int | None = None) -> str:
    total = len(positions) if total is None else total
    shown = ", ".join(f"sample {row!r} / column {col!r}" for row, col in positions[:_MAX_REPORTED])
    more = f" and {total - _MAX_REPORTED} more" if total > _MAX_REPORTED else ""
    return f"{total} {what}: {shown}{more}"


def _text_rows(handle, delimiter: str | None, notes: list[str]):
    """Numbered rows (lists of str) of an open text table, read lazily.

    Skips blank lines and the two header lines of GCT files (``#1.2`` and the dimensions).
    The delimiter is the suffix's when the header line holds it, else the most frequent of
    tab, comma and semicolon in the header line, else runs of whitespace (as R's
    ``read.table``).
    """
    import csv
    import itertools

    line_number = 0

    def next_line() -> str:
        nonlocal line_number
        line_number += 1
        return handle.readline()

    header = next_line()
    if header.startswith("#1."):  # GCT: version line, then "n_rows n_columns"
        next_line()
        header = next_line()
        notes.append("skipped the two GCT header lines (#1.x and the dimensions)")
    while header and not header.strip():
        header = next_line()
    first = line_number
    if delimiter is None or delimiter not in header:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        if counts[best]:
            delimiter = best
        elif len(header.split()) > 1:
            delimiter = None
            notes.append("read as whitespace-delimited (no tab, comma or semicolon in the "
                         "header line)")
        else:
            delimiter = delimiter or ","
    lines = itertools.chain([header], handle)
    if delimiter is None:
        for number, line in enumerate(lines, start=first):
            cells = line.split()
            if cells:
                yield number, cells
        return
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            limit = csv.field_size_limit()
            hint = (f" (a cell longer than {limit} characters: is this a text table with "
                    "one of tab, comma or semicolon as delimiter?)"
                    if "field larger" in str(error) else "")
            raise ValueError(f"line {reader.line_num + first - 1}: {error}{hint}") from None
        if cells:
            yield reader.line_num + first - 1, cells


class _FloatRows:
    """Rows of numbers parsed as they stream in, with the non-numeric cells counted per
    column (annotation columns are entirely non-numeric) and the first ones recorded."""

    def __init__(self, width: int):
        self.rows: list[np.ndarray] = []
        self.bad_per_column = np.zeros(width, dtype=np.int64)
        self.bad: list[tuple[int, int]] = []  # (row, column), the first _MAX_RECORDED

    def add(self, cells) -> None:
        try:  # fast path: numpy parses the whole row (and "nan", "inf")
            row = np.array(cells, dtype=np.float64)
        except ValueError:
            row = np.empty(len(cells))
            for k, cell in enumerate(cells):
                try:
                    row[k] = _as_float(cell)
                except ValueError:
                    row[k] = np.nan
                    self.bad_per_column[k] += 1
                    if len(self.bad) < _MAX_RECORDED:
                        self.bad.append((len(self.rows), k))
        self.rows.append(row)

    def matrix(self, width: int) -> np.ndarray:
        return np.vstack(self.rows) if self.rows else np.empty((0, width))


def _missing_target_message(filename, target, where, candidates, other_place) -> str:
    import difflib

    if other_place:
        return other_place
    close = difflib.get_close_matches(target, candidates, n=3)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(candidates[:8])
    return (f"{filename}: no target {where} named {target!r}.{hint} Available: {shown}"
            f"{' ...' if len(candidates) > 8 else ''}")


def _parse_rows(rows, target, transpose, id_column, notes, filename):
    """samples x features matrix, target, feature names and sample ids of a text table, parsed
    row by row (the table is never held as text)."""
    header_row = next(rows, None)
    if header_row is None:
        raise ValueError(f"{filename}: the file is empty.")
    header = [h.strip() for h in header_row[1]]
    if target is None:
        raise ValueError("Name the target with --target (a column of the table, or a row with "
                         "--transpose).")
    first_row = next(rows, None)
    if first_row is None:
        raise ValueError(f"{filename}: expected a header row and at least one data row.")
    if len(first_row[1]) == len(header) + 1:
        header = ["", *header]
        notes.append("the header row has one cell fewer than the data rows: the first column "
                     "holds row names (R's write.table layout)")
    width = len(header)

    def body():
        for line, cells in _chain_one(first_row, rows):
            if len(cells) != width:
                raise ValueError(f"{filename}: rows have different numbers of cells (header "
                                 f"has {width}; line {line} has {len(cells)}).")
            yield cells

    if transpose:
        return _parse_features_as_rows(header, body(), target, notes, filename)
    return _parse_samples_as_rows(header, body(), target, id_column, notes, filename)


def _chain_one(first, rest):
    yield first
    yield from rest


def _parse_samples_as_rows(header, body, target, id_column, notes, filename):
    from operator import itemgetter

    matches = [j for j, name in enumerate(header) if name == target]
    if not matches:
        row_names = {cells[0].strip() for cells in body}
        other = (f"{filename}: {target!r} is a row name (in the first column), not a column "
                 "name: if the rows are features and the columns samples, add --transpose."
                 if target in row_names else None)
        raise ValueError(_missing_target_message(filename, target, "column", header, other))
    if len(matches) > 1:
        raise ValueError(f"{filename}: {len(matches)} columns are named {target!r} (columns "
                         f"{', '.join(str(j + 1) for j in matches)}): rename or drop the "
                         "copies (a copy of the target would be selected as a feature).")
    t = matches[0]
    i_id = None
    if id_column is not None:
        if header.count(id_column) != 1:
            raise ValueError(f"{filename}: no sample-id column named {id_column!r}"
                             if id_column not in header else
                             f"{filename}: several columns are named {id_column!r}.")
        i_id = header.index(id_column)
    # The first column may hold sample ids (decided once it is read: any non-numeric cell).
    maybe_ids = i_id is None and t != 0
    columns = [j for j in range(len(header)) if j not in (t, i_id) and not (maybe_ids and j == 0)]
    pick = itemgetter(*columns) if len(columns) > 1 else (
        (lambda cells: (cells[columns[0]],)) if columns else (lambda cells: ()))
    numbers = _FloatRows(len(columns))
    labels, first_cells, ids = [], [], []
    for cells in body:
        labels.append(cells[t].strip())
        if maybe_ids:
            first_cells.append(cells[0].strip())
        if i_id is not None:
            ids.append(cells[i_id].strip())
        numbers.add(pick(cells))
    X = numbers.matrix(len(columns))
    if maybe_ids:
        if header[0] == "" or not all(_is_numeric_or_missing(c) for c in first_cells):
            i_id, ids = 0, first_cells
            notes.append(f"using the first column {header[0]!r} as sample ids")
        else:  # a numeric first column is a feature
            first = _FloatRows(1)
            for cell in first_cells:
                first.add((cell,))
            X = np.hstack([first.matrix(1), X])
            numbers.bad = [(i, k + 1) for i, k in numbers.bad] + [(i, 0) for i, _ in first.bad]
            numbers.bad_per_column = np.concatenate([first.bad_per_column,
                                                     numbers.bad_per_column])
            columns = [0, *columns]
    if not ids:
        ids = [str(i) for i in range(X.shape[0])]
    names = [header[j] or f"column{j}" for j in columns]
    X, names = _drop_annotations(X, names, numbers, ids, notes, filename, "column")
    return X, _target(labels, ids, filename), names, ids


def _parse_features_as_rows(header, body, target, notes, filename):
    """Rows are features (the first cell names them), columns samples; the target is the
    row named ``target``."""
    numbers = _FloatRows(len(header) - 1)
    names, target_cells = [], None
    for cells in body:
        name = cells[0].strip()
        if name == target:
            if target_cells is not None:
                raise ValueError(f"{filename}: several rows are named {target!r}: rename or "
                                 "drop the copies (a copy of the target would be selected "
                                 "as a feature).")
            target_cells = [c.strip() for c in cells[1:]]
            continue
        names.append(name)
        numbers.add(cells[1:])
    if target_cells is None:
        other = (f"{filename}: {target!r} is a column name (in the header row), not a row "
                 "name: if the rows are samples and the columns features, drop --transpose."
                 if target in header[1:] else None)
        candidates = [header[0] or "id", *names]
        raise ValueError(_missing_target_message(filename, target, "row", candidates, other))
    ids = header[1:]
    # Per sample column: entirely non-numeric over the features = an annotation column
    # (GCT's Description); dropped with the matching cells of the target row.
    matrix = numbers.matrix(len(ids)).T
    keep = numbers.bad_per_column < max(len(names), 1)
    if not np.all(keep) and len(names) > 0:
        dropped = [ids[j] or f"column{j + 2}" for j in np.flatnonzero(~keep)]
        notes.append(f"dropped non-numeric annotation column(s): {', '.join(dropped)}")
        index = np.flatnonzero(keep)
        remap = {old: new for new, old in enumerate(index)}
        numbers.bad = [(remap[k], i) for i, k in numbers.bad if k in remap]
        matrix = matrix[index]
        ids = [ids[j] for j in index]
        target_cells = [target_cells[j] for j in index]
    else:
        numbers.bad = [(k, i) for i, k in numbers.bad]
    names = [name or f"row{i + 2}" for i, name in enumerate(names)]
    _report_bad_cells(matrix, numbers.bad, ids, names, filename)
    return matrix, _target(target_cells, ids, filename), names, ids


def _drop_annotations(X, names, numbers, ids, notes, filename, what):
    """Drop entirely non-numeric feature columns (annotations such as a Description column)
    with a note, then report any other non-numeric or missing cell."""
    n_rows = X.shape[0]
    annotation = (numbers.bad_per_column == n_rows) if n_rows else \
        np.zeros(len(names), dtype=bool)
    bad = numbers.bad
    if np.any(annotation):
        dropped = [names[k] for k in np.flatnonzero(annotation)]
        notes.append(f"dropped non-numeric annotation {what}(s): {', '.join(dropped)}")
        keep = np.flatnonzero(~annotation)
        remap = {old: new for new, old in enumerate(keep)}
        bad = [(i, remap[k]) for i, k in bad if k in remap]
        X = X[:, keep]
        names = [names[k] for k in keep]
    _report_bad_cells(X, bad, ids, names, filename)
    return X, names


def _report_bad_cells(X, bad, ids, names, filename):
    if bad:
        positions = [(ids[i], names[k]) for i, k in bad]
        raise ValueError(f"{filename}: {_describe(positions, 'non-numeric cell(s)')}.")
    missing = np.argwhere(~np.isfinite(X))
    if missing.size:
        positions = [(ids[i], names[k]) for i, k in missing[:_MAX_RECORDED]]
        rows_with = sorted({ids[i] for i in np.unique(missing[:, 0])})
        cols_with = sorted({names[k] for k in np.unique(missing[:, 1])})
        raise ValueError(
            f"{filename}: {_describe(positions, 'missing or infinite value(s)', len(missing))}."
            f" Samples affected: {', '.join(rows_with[:_MAX_REPORTED])}; features affected: "
            f"{', '.join(cols_with[:_MAX_REPORTED])}. Impute or drop them first.")


def _target(labels, ids, filename) -> np.ndarray:
    empty = [ids[i] for i, label in enumerate(labels) if label.lower() in _MISSING]
    if empty:
        raise ValueError(f"{filename}: the target is missing for sample(s) "
                         f"{', '.join(empty[:_MAX_REPORTED])}.")
    if all(_is_numeric_or_missing(v) for v in labels):
        return np.array([_as_float(v) for v in labels])
    return np.array(labels)


def _read_text_table(path, delimiter, gzipped, target, transpose, id_column, notes):
    import gzip
    import zlib

    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            rows = _text_rows(handle, delimiter, notes)
            return _parse_rows(rows, target, transpose, id_column, notes, path.name)
    except EOFError as error:  # raised where the stream ends, before the table is complete
        raise ValueError(f"Cannot read {path.name}: truncated file ({error}).") from None
    except (UnicodeDecodeError, OSError, zlib.error) as error:
        raise ValueError(f"Cannot read {path.name} as a text table: {error}") from None
    except ValueError as error:
        if not str(error).startswith("line "):
            raise
        raise ValueError(f"{path.name}, {error}") from None


def _unique_names(names: list[str], filename: str, notes: list[str]) -> list[str]:
    """Duplicate names made unique as pandas does (``name``, ``name.1``, ...), with a
    warning: features are reported and selected by name."""
    import warnings
    from collections import Counter

    counts = Counter(names)
    repeated = [name for name, count in counts.items() if count > 1]
    if not repeated:
        return names
    taken = set(names)
    seen: dict[str, int] = {}
    unique = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        if k == 0:
            unique.append(name)
            continue
        candidate = f"{name}.{k}"
        while candidate in taken:
            k += 1
            candidate = f"{name}.{k}"
        seen[name] = k + 1
        taken.add(candidate)
        unique.append(candidate)
    shown = ", ".join(f"{name!r} ({counts[name]}x)" for name in repeated[:_MAX_REPORTED])
    more = f" and {len(repeated) - _MAX_REPORTED} more" if len(repeated) > _MAX_REPORTED else ""
    message = (f"{filename}: {len(repeated)} duplicated feature name(s): {shown}{more}; "
               "renamed to name.1, name.2, ...")
    warnings.warn(message, UserWarning, stacklevel=3)
    notes.append(message)
    return unique


def load_table(path, target: str | None = None, *, transpose: bool = False,
               id_column: str | None = None, drop_constant: bool = True) -> Bunch:
    """Load a samples x features matrix and a target from a user's file.

    Formats (by suffix, optionally ``.gz``): delimited text (``.csv``, ``.tsv``, ``.txt``,
    ``.gct``, ...), NumPy ``.npz`` (dense arrays ``X`` and ``y``, optional
    ``feature_names``; or a sparse matrix written by :func:`scipy.sparse.save_npz` with an
    array ``y`` added), and svmlight / libsvm (``.svm``, ``.svmlight``, ``.libsvm``). Sparse
    matrices are kept sparse (CSR).

    Delimited text has a header row. The delimiter is the suffix's (comma for ``.csv``, tab
    for ``.tsv``) when the header holds it, else the most frequent of tab, comma and
    semicolon in the header, else runs of whitespace. The two header lines of GCT files
    (``#1.2`` and the dimensions) are skipped, and a header one cell shorter than the rows
    (R's ``write.table``) is taken to omit the row-name column. By default rows are samples
    and columns are features (plus the target column and an optional sample-id column,
    detected as a first column that is not numeric or has an empty header). With
    ``transpose=True`` rows are features (genes) and columns are samples, as expression
    matrices are often stored; the target is then the row named ``target``. Annotation
    columns (entirely non-numeric, such as GCT's ``Description``) are dropped with a note.
    The file is parsed as it is read (gzip included), so a truncated file is rejected when
    its end is reached, with only the numbers read so far in memory.

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
    Bunch with ``data`` (float64 ndarray, or CSR matrix for sparse files), ``target``
    (ndarray: float if every value is numeric, else str), ``feature_names`` (list of str,
    unique), ``sample_ids`` (list of str) and ``notes`` (list of str: what was dropped,
    renamed or assumed).

    Raises
    ------
    ValueError
        A missing or duplicated target, non-numeric, complex or missing values (naming the
        first few samples and columns), no features left, or a file that cannot be parsed
        (truncated, malformed, a cell over the CSV field limit); ``OSError`` if the file
        cannot be opened.

    Warns
    -----
    UserWarning
        Duplicated feature names, made unique as ``name``, ``name.1``, ...
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
        except (ValueError, EOFError, OSError) as error:
            raise ValueError(f"Cannot parse {path.name} as svmlight/libsvm: {error}") from None
        names = [f"f{j}" for j in range(X.shape[1])]
        ids = [str(i) for i in range(X.shape[0])]
    else:
        delimiter = {".csv": ",", ".tsv": "\t", ".tab": "\t", ".gct": "\t"}.get(suffix)
        X, y, names, ids = _read_text_table(path, delimiter, gzipped, target, transpose,
                                            id_column, notes)
    if X.shape[0] == 0:
        raise ValueError(f"{path.name}: no samples.")
    names = _unique_names([str(n) for n in names], path.name, notes)
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


def _npz_array(archive, key, filename):
    """One array of an open archive, refusing complex and non-numeric values (a cast to
    float64 would drop the imaginary part silently)."""
    value = archive[key]
    if np.iscomplexobj(value):
        raise ValueError(f"{filename}: array {key!r} holds complex numbers; fastl1 fits real "
                         "data (split real and imaginary parts into features if both matter).")
    return value


def _sparse_from_npz(archive, filename):
    """The matrix of a :func:`scipy.sparse.save_npz` archive (CSR, CSC or COO), checked."""
    import scipy.sparse as sp

    fmt = archive["format"].item()
    fmt = fmt.decode("ascii") if isinstance(fmt, bytes) else str(fmt)
    shape = tuple(int(s) for s in archive["shape"])
    data = np.asarray(_npz_array(archive, "data", filename), dtype=np.float64)
    try:
        if fmt in ("csr", "csc"):
            make = sp.csr_matrix if fmt == "csr" else sp.csc_matrix
            X = make((data, archive["indices"], archive["indptr"]), shape=shape)
        elif fmt == "coo":
            X = sp.coo_matrix((data, (archive["row"], archive["col"])), shape=shape)
        else:
            raise ValueError(f"sparse format {fmt!r} is not supported (save CSR, CSC or COO)")
        if fmt != "coo":
            X.check_format(full_check=True)  # out-of-range or unsorted index arrays
    except (ValueError, KeyError) as error:
        raise ValueError(f"{filename}: not a valid sparse matrix: {error}") from None
    return X.tocsr()


def _load_npz(path):
    import zipfile
    import zlib

    bad_archive = (zipfile.BadZipFile, EOFError, OSError, zlib.error)
    try:
        archive = np.load(path, allow_pickle=False)
    except (*bad_archive, ValueError) as error:
        raise ValueError(f"Cannot read {path.name} as a NumPy .npz archive (truncated or not "
                         f"an .npz file): {error}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{path.name} holds a single array, not an .npz archive of arrays "
                         "'X' and 'y'.")
    with archive:
        keys = set(archive.files)
        sparse = {"format", "shape", "data"} <= keys
        x_key = None if sparse else next((k for k in ("X", "data", "x") if k in keys), None)
        y_key = next((k for k in ("y", "target", "Y") if k in keys), None)
        if (x_key is None and not sparse) or y_key is None:
            what = "a sparse matrix (scipy.sparse.save_npz) and" if sparse else "arrays 'X' and"
            raise ValueError(f"{path.name} must hold {what} 'y' (found: "
                             f"{', '.join(sorted(keys))}).")
        try:
            if sparse:
                X = _sparse_from_npz(archive, path.name)
            else:
                X = _npz_array(archive, x_key, path.name)
                if X.dtype.kind not in "biuf":
                    raise ValueError(f"{path.name}: array {x_key!r} is not numeric "
                                     f"(dtype {X.dtype}).")
                X = np.asarray(X, dtype=np.float64)
            y = _npz_array(archive, y_key, path.name)
            names = ([str(n) for n in archive["feature_names"]] if "feature_names" in keys
                     else None)
        except bad_archive as error:
            raise ValueError(f"Cannot read {path.name}: truncated or corrupt archive "
                             f"({error}).") from None
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise ValueError(f"{path.name}: X must be 2-D and y 1-D with one value per row of X, "
                         f"got X {X.shape} and y {y.shape}.")
    if names is None:
        names = [f"f{j}" for j in range(X.shape[1])]
    elif len(names) != X.shape[1]:
        raise ValueError(f"{path.name}: feature_names has {len(names)} names for the "
                         f"{X.shape[1]} columns of X.")
    values = X.data if hasattr(X, "tocsr") else X
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{path.name}: X holds {int(np.sum(~np.isfinite(values)))} missing "
                         "or infinite value(s); impute or drop them first.")
    return X, y, names
