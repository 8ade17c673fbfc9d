"""A fitted path's scores on a split, read block of rows by block of rows.

For a memory-mapped split (:mod:`core.data.user.mapped`) each block is read
from the file in turn, so scoring a layer holds one block whatever the number
of rows; an in-memory split is one block, scored exactly as before.
"""

from __future__ import annotations

import numpy as np
import torch

from core.data.user.mapped import row_blocks
from core.sparse_layers.glm import ElasticNetPath
from core.sparse_layers.glm.families import get_family
from core.sparse_layers.glm.selection import topk_accuracy

#: Bytes a scored row holds per feature besides its stored bytes: its float64
#: copy, the centred and the scaled temporaries, and the float32 and float64
#: copies top-k scoring makes.
_PER_FEATURE = 8 + 8 + 8 + 4 + 8


def score_block_rows(X: np.ndarray, max_memory: int, held: int) -> int:
    """Rows per block so that scoring ``X`` stays within ``max_memory`` bytes
    besides the ``held`` bytes of the fitted paths.

    Raises
    ------
    ValueError
        The budget does not hold the paths and one row.
    """
    per_row = X.shape[1] * (X.dtype.itemsize + _PER_FEATURE)
    rows = (max_memory - held) // per_row
    if rows < 1:
        raise ValueError(
            f"{getattr(X, 'filename', 'the split')}: max_memory={max_memory:,} bytes "
            f"is smaller than one block of scoring: the fitted paths hold "
            f"{held:,} bytes and a row takes {per_row:,}; give at least "
            f"{held + per_row:,}"
        )
    return int(min(rows, len(X)))


def path_scores(
    path: ElasticNetPath,
    X: np.ndarray,
    y: np.ndarray,
    block_rows: int,
    *,
    loss: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Accuracy of every λ of ``path`` on ``(X, y)``, and its mean loss.

    Parameters
    ----------
    X : array of shape (n, p)
        Original units; a memory map is read in blocks of ``block_rows``.
    y : array of shape (n,)
        Labels as given to the fit.
    loss : bool
        Also the family's mean loss (what the solver records as ``val_loss``).

    Returns
    -------
    accuracy : array of shape (K,)
    loss : array of shape (K,), or None without ``loss``
    """
    K, n = len(path), len(y)
    correct = np.zeros(K)
    total = np.zeros(K)
    fam = get_family(path.family)
    for rows, block in row_blocks(X, block_rows):
        yb = np.asarray(y[rows])
        codes = torch.as_tensor(np.searchsorted(path.classes, yb))
        Y = fam.targets(codes, path.coef.shape[1]).double()
        for i in range(K):
            correct[i] += np.sum(path.predict(block, i) == yb)
            if loss:
                Z = torch.as_tensor(path.decision_function(block, i))
                total[i] += fam.losses(Z, Y).double().sum().item()
    return correct / n, (total / n if loss else None)


def topk_scores(
    path: ElasticNetPath,
    index: int,
    X: np.ndarray,
    y: np.ndarray,
    k: int,
    block_rows: int,
) -> dict[str, float]:
    """:func:`core.sparse_layers.glm.selection.topk_accuracy` of the
    ``index``-th model on ``(X, y)`` in original units, block by block."""
    correct = dict.fromkeys(("all", "top_k", "rest"), 0)
    for rows, block in row_blocks(X, block_rows):
        codes = np.searchsorted(path.classes, np.asarray(y[rows]))
        acc = topk_accuracy(
            path.coef[index], path.intercept[index], path.standardized(block), codes, k
        )
        for key in correct:
            # Each accuracy is a count over the block's rows.
            correct[key] += round(acc[key] * len(codes))
    return {key: c / len(y) for key, c in correct.items()}
