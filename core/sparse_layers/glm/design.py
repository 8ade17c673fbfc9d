"""The design matrix of a GLM fit: in memory, or streamed from a file in row blocks.

The solvers touch the standardised features ``X`` (n × p) only through the
products of :class:`Design`: ``X Bᵀ + b``, ``Rᵀ X``, ``Xᵀ(X v)``, a column
subset, and the fused pass that computes the predictions, the residual and the
loss gradient together. :class:`InMemoryDesign` holds ``X`` as one tensor
(``X Bᵀ + b`` by :func:`affine`, ``Rᵀ X`` by :func:`transpose_product`);
:class:`StreamedDesign` reads a memory-mapped ``.npy`` file in blocks of rows
sized from a memory budget, standardises each block as it comes and sends it to
the solver's device, so a pass over ``X`` holds one block at a time whatever
the number of rows.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from core.data.types import Preprocessing
from core.sparse_layers.glm.families import Family

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")

#: Bytes held per row besides the block: the labels (int64) and the loss of
#: each row in float64, and per output the targets, predictions of the
#: iterate, of its extrapolation and of the candidate, the residual and the
#: softmax temporaries (float32, ten copies at most at once) and the duality
#: gap's float64 copies of the residual and targets (seven at most).
_ROW_FIXED, _ROW_PER_OUTPUT = 16, 10 * 4 + 7 * 8
#: Coefficient-sized (k × p, float32) arrays FISTA and the path keep besides
#: one per λ: iterates, gradients, warm starts, the working set's copies.
_MODEL_COPIES = 16


def _onednn_linear():
    """torch's oneDNN fully-connected kernel, or None where this build lacks it."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        return torch.ops.mkldnn._linear_pointwise
    except (AttributeError, RuntimeError):
        return None


#: ``X Wᵀ + b`` by oneDNN, the kernel torch.compile's CPU code calls for a
#: linear layer. With one output or ten and more it beats the BLAS matmul
#: ``X @ Wᵀ`` at the same float32 rounding: on this project's AVX-512 CPU, one
#: thread, 36.7 against 96.7 ms at 50,000 × 2,048 × 10 (P2) and 1.95 against
#: 3.74 ms at 10,000 × 512 × 10 (P1); with 2 or 3 outputs it was slower
#: (SST-2's 6,920 × 384 × 2: 0.81 against 0.50 ms), and with 5 to 8 it was
#: 1.1–1.5× faster, too thin a margin to rely on (``python -m
#: benchmarks.glm_products``). oneDNN compiles and caches a kernel per shape
#: (about 0.6 MB each), so the path keeps the widths of its working sets to a
#: few (:data:`core.sparse_layers.glm.path.WIDTH_STEP`). A streamed design's
#: blocks keep the matmul: their memory budget counts every megabyte, and
#: standardising a block costs more than its product.
_ONEDNN_LINEAR = _onednn_linear()
#: The numbers of outputs :func:`affine` gives to oneDNN: one, or at least this.
ONEDNN_MIN_OUTPUTS = 10


def affine(X: torch.Tensor, B: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``X Bᵀ + b`` for ``X`` (n × p), ``B`` (k × p), ``b`` (k,): by oneDNN
    (:data:`_ONEDNN_LINEAR`) for float32 on the CPU with one output or at
    least :data:`ONEDNN_MIN_OUTPUTS`, else the matmul."""
    k = B.shape[0]
    if (
        _ONEDNN_LINEAR is not None
        and (k == 1 or k >= ONEDNN_MIN_OUTPUTS)
        and X.device.type == "cpu"
        and X.dtype == B.dtype == b.dtype == torch.float32
        and X.dim() == 2
        and X.is_contiguous()
        and X.numel() > 0
        and b.shape == (k,)
        and not (X.requires_grad or B.requires_grad or b.requires_grad)
    ):
        return _ONEDNN_LINEAR(X, B.contiguous(), b.contiguous(), "none", [], "")
    return X @ B.T + b


def transpose_product(R: torch.Tensor, X: torch.Tensor) -> torch.Tensor:
    """``Rᵀ X`` for ``R`` (n × k), ``X`` (n × p), shape (k, p).

    On the CPU with several threads, one block of rows per thread (a batched
    product, summed): the BLAS product with a few outputs runs on one core
    whatever the threads (P2's shape on two threads: 71.6 against 34.9 ms,
    ``python -m benchmarks.glm_products``).
    """
    threads = torch.get_num_threads()
    n = len(X)
    if not (
        X.device.type == "cpu"
        and threads >= 2
        and n >= 2 * threads
        and X.is_contiguous()
        and R.is_contiguous()
    ):
        return R.T @ X
    rows = n // threads
    head = threads * rows
    out = torch.bmm(
        R[:head].reshape(threads, rows, -1).transpose(1, 2),
        X[:head].reshape(threads, rows, -1),
    ).sum(dim=0)
    if head < n:
        out += R[head:].T @ X[head:]
    return out


def parse_memory(size: str | int) -> int:
    """A memory size in bytes: an int, or a string such as ``"2GB"``, ``"512 MiB"``.

    Units: B, kB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB, TiB (powers
    of 1024), any case; a bare number is bytes.

    Raises
    ------
    ValueError
        A string that is not a positive number with one of those units.
    """
    if isinstance(size, bool) or not isinstance(size, (int, str)):
        raise TypeError(
            f"max_memory must be bytes (int) or a string such as '2GB', "
            f"got {type(size).__name__}"
        )
    if isinstance(size, int):
        value = size
    else:
        match = _SIZE.fullmatch(size)
        unit = match.group(2).lower() if match else None
        if match is None or unit not in _UNITS:
            raise ValueError(
                f"max_memory {size!r} is not a size: expected a number and a unit "
                "such as '2GB', '500MB' or '1.5GiB' (B, kB, MB, GB, TB, KiB, MiB, "
                "GiB, TiB)"
            )
        value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"max_memory must be positive, got {size!r}")
    return value


class InMemoryDesign:
    """``X`` as one tensor (n × p) on its device."""

    def __init__(self, X: torch.Tensor):
        self.X = X

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.X.shape)

    @property
    def device(self) -> torch.device:
        return self.X.device

    def __len__(self) -> int:
        return len(self.X)

    @property
    def dtype(self) -> torch.dtype:
        return self.X.dtype

    def linear(self, B: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``X Bᵀ + b``, shape (n, k) (:func:`affine`)."""
        return affine(self.X, B, b)

    def transpose_times(self, R: torch.Tensor) -> torch.Tensor:
        """``Rᵀ X`` in ``R``'s dtype, shape (k, p)."""
        X = self.X if self.X.dtype == R.dtype else self.X.to(R.dtype)
        return transpose_product(R, X)

    def gram_times(self, v: torch.Tensor) -> torch.Tensor:
        """``Xᵀ (X v)``, shape (p,)."""
        return self.X.T @ (self.X @ v)

    def columns(self, idx: torch.Tensor) -> InMemoryDesign:
        """The columns ``idx`` (all of them: this design itself)."""
        if len(idx) == self.X.shape[1]:
            return self
        return InMemoryDesign(self.X[:, idx].contiguous())

    def predict_and_gradient(
        self,
        work: InMemoryDesign,
        B: torch.Tensor,
        b: torch.Tensor,
        family: Family,
        Y: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictions ``Z = X_w Bᵀ + b`` from the columns ``work`` and the mean
        loss gradient over all columns, ``R(Z)ᵀ X / n``."""
        Z = work.linear(B, b)
        return Z, self.transpose_times(family.residual(Z, Y)) / len(self.X)


@dataclass(frozen=True)
class ColumnStats:
    """What one pass over a streamed matrix learns about its columns (float64)."""

    mean: np.ndarray
    std: np.ndarray
    spread: np.ndarray


class StreamedDesign:
    """A memory-mapped ``.npy`` matrix read in blocks of ``block_rows`` rows.

    Each block is read from the file with ordinary reads (pages of a memory
    map, once touched, would count in the process's resident memory),
    standardised with ``prep`` in float64 and rounded to float32 exactly as
    :meth:`core.data.types.Preprocessing.transform` does for an in-memory
    matrix, then moved to ``device``. float16 files are widened on the way.

    Parameters
    ----------
    source : numpy.memmap of shape (n, p)
        From ``np.load(path, mmap_mode="r")``.
    prep : Preprocessing
        The scaling applied to each block.
    block_rows : int
    device : torch.device
    idx : array of int, optional
        Only these columns (a working set); all of them when None.
    """

    def __init__(
        self,
        source: np.memmap,
        prep: Preprocessing,
        block_rows: int,
        device: torch.device,
        idx: np.ndarray | None = None,
        buffers: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ):
        self.source, self.prep, self.block_rows = source, prep, block_rows
        self.device, self.idx = device, idx
        n, p = source.shape
        self._shape = (n, p if idx is None else len(idx))
        rows = min(block_rows, n)
        # One set of buffers (file bytes, float64, float32; flat, of a full
        # block) shared by every column subset: the budget counts them once.
        self._buffers = buffers or (
            np.empty((rows, p), dtype=source.dtype),
            np.empty(rows * p, dtype=np.float64),
            np.empty(rows * p, dtype=np.float32),
        )
        self._center = prep.center if idx is None else prep.center[idx]
        self._scale = prep.scale if idx is None else prep.scale[idx]

    @property
    def shape(self) -> tuple[int, int]:
        return self._shape

    @property
    def dtype(self) -> torch.dtype:
        return torch.float32

    def __len__(self) -> int:
        return self._shape[0]

    def blocks(self) -> Iterator[tuple[slice, torch.Tensor]]:
        """``(rows, X[rows])`` for each block of rows in turn, standardised.

        The tensor is a view of a buffer the next block overwrites: use it
        before asking for the next one.
        """
        raw_buffer, wide_flat, narrow_flat = self._buffers
        width = self._shape[1]
        for rows, raw in _row_blocks(self.source, raw_buffer):
            cols = raw if self.idx is None else raw[:, self.idx]
            wide = wide_flat[: len(raw) * width].reshape(len(raw), width)
            np.subtract(cols, self._center, out=wide)
            np.divide(wide, self._scale, out=wide)
            narrow = narrow_flat[: len(raw) * width].reshape(len(raw), width)
            narrow[...] = wide
            yield rows, torch.from_numpy(narrow).to(self.device)

    def linear(self, B: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``X Bᵀ + b``, shape (n, k), one block at a time."""
        Z = torch.empty(len(self), B.shape[0], dtype=B.dtype, device=B.device)
        for rows, Xb in self.blocks():
            Z[rows] = Xb @ B.T + b
        return Z

    def transpose_times(self, R: torch.Tensor) -> torch.Tensor:
        """``Rᵀ X`` in ``R``'s dtype, shape (k, p), summed over the blocks."""
        out = torch.zeros(R.shape[1], self._shape[1], dtype=R.dtype, device=R.device)
        for rows, Xb in self.blocks():
            out += R[rows].T @ Xb.to(R.dtype)
        return out

    def gram_times(self, v: torch.Tensor) -> torch.Tensor:
        """``Xᵀ (X v)``, shape (p,), summed over the blocks."""
        out = torch.zeros_like(v)
        for _, Xb in self.blocks():
            out += Xb.T @ (Xb @ v)
        return out

    def columns(self, idx: torch.Tensor) -> StreamedDesign:
        """The columns ``idx``, read from the same file (blocks as large: a
        subset of columns never needs more memory)."""
        if len(idx) == self._shape[1] and self.idx is None:
            return self
        chosen = idx.cpu().numpy()
        if self.idx is not None:
            chosen = self.idx[chosen]
        return StreamedDesign(
            self.source, self.prep, self.block_rows, self.device, chosen, self._buffers
        )

    def predict_and_gradient(
        self,
        work: StreamedDesign,
        B: torch.Tensor,
        b: torch.Tensor,
        family: Family,
        Y: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predictions from the columns of ``work`` and the mean loss gradient
        over all columns, in one read of the file: each block gives its
        predictions, its residual and its share of ``Rᵀ X``."""
        Z = torch.empty(len(self), B.shape[0], dtype=B.dtype, device=B.device)
        G = torch.zeros(B.shape[0], self._shape[1], dtype=B.dtype, device=B.device)
        chosen = None
        if work is not self:
            chosen = torch.as_tensor(work.idx, device=self.device)
        for rows, Xb in self.blocks():
            Xw = Xb if chosen is None else Xb[:, chosen]
            Z[rows] = Xw @ B.T + b
            G += family.residual(Z[rows], Y[rows]).T @ Xb
        return Z, G / len(self)


#: Either kind of design matrix; the solvers use only what both define.
Design = InMemoryDesign | StreamedDesign


def as_design(X: torch.Tensor | Design) -> Design:
    """``X`` itself if it is a design, else the tensor held in memory."""
    return InMemoryDesign(X) if isinstance(X, torch.Tensor) else X


def column_stats(source: np.memmap, block_rows: int) -> ColumnStats:
    """Mean, standard deviation and max − min of every column of ``source``, in
    one pass of ``block_rows`` rows at a time (per-block moments merged as Chan,
    Golub & LeVeque 1979 do, in float64).

    Raises
    ------
    ValueError
        A non-finite value, naming the file, its row and column.
    """
    n, p = source.shape
    count, mean, m2 = 0, np.zeros(p), np.zeros(p)
    low, high = np.full(p, np.inf), np.full(p, -np.inf)
    buffer = np.empty((min(block_rows, n), p), dtype=source.dtype)
    for rows, raw in _row_blocks(source, buffer):
        block = raw.astype(np.float64)
        if not np.isfinite(block).all():
            r, c = np.argwhere(~np.isfinite(block))[0]
            raise ValueError(
                f"{source.filename}: non-finite value (NaN or ±inf) at row "
                f"{rows.start + r}, column {c}; impute or drop it before fitting"
            )
        np.minimum(low, block.min(axis=0), out=low)
        np.maximum(high, block.max(axis=0), out=high)
        m = len(block)
        b_mean = block.mean(axis=0)
        # In place: the block's squared deviations need no second copy of it.
        block -= b_mean
        np.square(block, out=block)
        b_m2 = block.sum(axis=0)
        delta = b_mean - mean
        total = count + m
        mean = mean + delta * (m / total)
        m2 = m2 + b_m2 + delta**2 * (count * m / total)
        count = total
    return ColumnStats(mean, np.sqrt(m2 / count), high - low)


def _row_blocks(
    source: np.memmap, buffer: np.ndarray
) -> Iterator[tuple[slice, np.ndarray]]:
    """``(rows, source[rows])`` for blocks of ``len(buffer)`` rows, each read
    into ``buffer`` (overwritten by the next)."""
    n, p = source.shape
    row_bytes = p * source.dtype.itemsize
    with open(source.filename, "rb", buffering=0) as fh:
        for start in range(0, n, len(buffer)):
            stop = min(n, start + len(buffer))
            raw = buffer[: stop - start]
            _read_exactly(fh, source.offset + start * row_bytes, raw)
            yield slice(start, stop), raw


def _read_exactly(fh, offset: int, out: np.ndarray) -> None:
    """Fill ``out`` (C-contiguous) with the bytes of the file from ``offset``."""
    view = memoryview(out).cast("B")
    done = 0
    while done < len(view):
        got = os.preadv(fh.fileno(), [view[done:]], offset + done)
        if got == 0:
            raise ValueError(
                f"{fh.name}: the file ends at byte {offset + done}, before the "
                f"rows its header declares; it was truncated or is still being "
                "written"
            )
        done += got


def stream_costs(
    shape: tuple[int, int], itemsize: int, n_outputs: int, n_lambdas: int
) -> tuple[int, int]:
    """Bytes a streamed fit holds whatever its blocks, and bytes per block row.

    The model's own arrays: per row, the labels, the losses and the (n, k)
    targets, predictions, residuals and the duality gap's copies; per
    feature, the coefficients kept for every λ and the solver's working
    copies. A block row costs the file's bytes, a copy of them for a column
    subset, and its float64 and float32 copies once standardised, plus a
    float64 copy for λ_max.
    """
    n, p = shape
    own = n * (_ROW_FIXED + _ROW_PER_OUTPUT * n_outputs)
    own += 4 * n_outputs * p * (n_lambdas + _MODEL_COPIES) + 8 * 8 * p
    return own, p * (2 * itemsize + 8 + 4 + 8)


def stream_plan(
    source: np.memmap,
    n_outputs: int,
    n_lambdas: int,
    max_memory: int,
) -> int:
    """Rows per block so that a streamed fit stays within ``max_memory`` bytes
    (what :func:`stream_costs` leaves for the block, at most every row).

    Raises
    ------
    ValueError
        ``max_memory`` does not hold the model's arrays and one row.
    """
    n, p = source.shape
    own, per_row = stream_costs(
        source.shape, source.dtype.itemsize, n_outputs, n_lambdas
    )
    rows = (max_memory - own) // per_row
    if rows < 1:
        raise ValueError(
            f"{source.filename}: max_memory={_size(max_memory)} is smaller than one "
            f"block: the model's own arrays need {_size(own)} ({n} rows × "
            f"{n_outputs} outputs, {p} features × {n_lambdas} λ) and one row of the "
            f"file {_size(per_row)}; give at least {_size(own + per_row)}"
        )
    return int(min(rows, n))


def _size(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{math.ceil(n_bytes)} B"
