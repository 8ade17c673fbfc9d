"""Read a user's table (CSV, TSV, Parquet, JSON Lines) strictly, row by row.

Nothing is guessed silently: every row must have the header's number of
fields, the header must name every column once, and each row remembers the
line (text files) or row (Parquet) it came from, so that a later check can
say exactly where a bad value is. Cells of text files stay text; which columns
are numbers is decided later (:mod:`core.data.user.profile`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.user import validate
from core.errors import InvalidDataError

#: ``progress(fraction, message)``: how far reading (or registering) has got.
Progress = Callable[[float, str], None]


def part_of(progress: Progress | None, start: float, stop: float) -> Progress | None:
    """``progress`` for one stage: its 0..1 mapped onto ``start``..``stop``."""
    if progress is None:
        return None
    return lambda fraction, message: progress(
        start + (stop - start) * fraction, message
    )


TEXT_SUFFIXES = {".csv": None, ".txt": None, ".tsv": "\t", ".tab": "\t"}
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUFFIXES = (*TEXT_SUFFIXES, *PARQUET_SUFFIXES, *JSONL_SUFFIXES)
_CHUNK = 50_000  # rows converted to a frame at a time (bounds memory)
_PARQUET_BATCH = 8_192  # Parquet rows whose text is measured at a time
_DELIMITERS = (",", ";", "\t", "|")
# JSON's \u escapes can make lone surrogates, which no text encoding accepts.
_SURROGATE = re.compile("[\ud800-\udfff]")

csv.field_size_limit(16 * 1024 * 1024)  # long texts are legitimate cells


@dataclass(frozen=True)
class RawTable:
    """A table as read, before any column is interpreted.

    Attributes
    ----------
    frame : DataFrame of shape (n_rows, n_columns)
        Text files: every column of pandas' ``str`` dtype, missing fields
        impossible (a short row is an error). Parquet: numeric columns as
        float64, the others as ``str``.
    rows : array of shape (n_rows,), int64
        The line (text files, the header being line 1) or row (Parquet,
        counted from 1) each row came from.
    unit : {"line", "row"}
    name : str
        The file, as messages name it.
    format : {"csv", "tsv", "parquet", "jsonl"}
    encoding : str or None
    delimiter : str or None
    sha256 : str
        Digest of the file's bytes.
    n_bytes : int
    """

    frame: pd.DataFrame
    rows: np.ndarray
    unit: str
    name: str
    format: str
    encoding: str | None
    delimiter: str | None
    sha256: str
    n_bytes: int

    def where(self, i: int) -> str:
        """``"<file>, line 7"``: where row ``i`` (0-based) of the frame came from."""
        return f"{self.name}, {self.unit} {int(self.rows[i])}"

    def source_record(self) -> dict[str, object]:
        """What a manifest records about the file."""
        return {
            "file": os.path.basename(self.name),
            "format": self.format,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "sha256": self.sha256,
            "bytes": self.n_bytes,
            "rows": len(self.frame),
            "columns": len(self.frame.columns),
        }


def read_table(
    source: str | os.PathLike | bytes,
    filename: str | None = None,
    *,
    progress: Progress | None = None,
    formats: tuple[str, ...] = SUFFIXES,
    max_columns: int = validate.MAX_COLUMNS,
) -> RawTable:
    """Read a CSV, TSV, Parquet or JSON Lines file from a path or uploaded bytes.

    Parameters
    ----------
    source : path or bytes
    filename : str, optional
        The uploaded file's name (its extension picks the format); defaults
        to the path.
    progress : callable, optional
        ``progress(fraction, message)`` while rows are read.
    formats : tuple of str
        Extensions accepted here.
    max_columns : int
        More columns are refused from the header, before any row is read
        (:data:`~core.data.user.validate.MAX_COLUMNS`).

    Raises
    ------
    InvalidDataError
        Naming the file, the line or column, and what to do.
    """
    raw, name, suffix = validate.read_source(source, filename)
    if suffix not in formats:
        raise InvalidDataError(
            f"{name}: unsupported file type {suffix or '(no extension)'!r}; "
            f"expected one of {', '.join(formats)}."
        )
    digest = hashlib.sha256(raw).hexdigest()
    if suffix in PARQUET_SUFFIXES:
        frame, rows = _read_parquet(raw, name, max_columns)
        return RawTable(
            frame, rows, "row", name, "parquet", None, None, digest, len(raw)
        )
    text, encoding = validate.decode(raw, name)
    if suffix in JSONL_SUFFIXES:
        frame, rows = _read_jsonl(text, name, progress, max_columns)
        return RawTable(
            frame, rows, "line", name, "jsonl", encoding, None, digest, len(raw)
        )
    delimiter = TEXT_SUFFIXES[suffix] or _sniff_delimiter(text)
    frame, rows = _read_delimited(text, name, delimiter, progress, max_columns)
    fmt = "tsv" if delimiter == "\t" else "csv"
    return RawTable(
        frame, rows, "line", name, fmt, encoding, delimiter, digest, len(raw)
    )


def _sniff_delimiter(text: str) -> str:
    """The candidate that occurs most in the first line (comma on a tie)."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    counts = {d: first.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


def _header(names: list[str], name: str, max_columns: int) -> list[str]:
    validate.check_column_count(len(names), max_columns, name)
    if validate.looks_like_data(names):
        shown = ", ".join(n.strip() for n in names[:5])
        raise InvalidDataError(
            f"{name}, line 1: the first row holds only numbers ({shown}…), so the "
            "file has no header. Add a first row naming the columns."
        )
    return validate.check_column_names(names, name)


def _read_delimited(
    text: str, name: str, delimiter: str, progress: Progress | None, max_columns: int
) -> tuple[pd.DataFrame, np.ndarray]:
    if not text.strip():
        raise InvalidDataError(
            f"{name} holds only blank lines; expected a header row and data rows."
        )
    total_lines = text.count("\n") + 1
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    chunks: list[pd.DataFrame] = []
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for record in reader:
            here, start = start, reader.line_num + 1
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # a blank line
            if header is None:
                header = _header(record, name, max_columns)
                continue
            if len(record) != len(header):
                raise InvalidDataError(
                    f"{name}, line {here}: {len(record)} fields, but the header has "
                    f"{len(header)}; check for a missing or extra "
                    f"{'tab' if delimiter == chr(9) else repr(delimiter)} or an "
                    "unclosed quote."
                )
            rows.append(record)
            lines.append(here)
            if len(rows) == _CHUNK:
                chunks.append(pd.DataFrame(rows, dtype="str"))
                rows = []
                if progress is not None:
                    progress(min(reader.line_num / total_lines, 1.0), "reading rows")
    except csv.Error as exc:
        raise InvalidDataError(
            f"{name}, line {reader.line_num}: not valid "
            f"{'TSV' if delimiter == chr(9) else 'CSV'} ({exc}); check the quotes "
            "on that line."
        ) from exc
    if header is None:  # pragma: no cover - text.strip() was non-empty
        raise InvalidDataError(f"{name} has no header row.")
    if rows or not chunks:
        chunks.append(pd.DataFrame(rows, columns=range(len(header)), dtype="str"))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    frame.columns = header
    if frame.empty:
        raise InvalidDataError(
            f"{name} has a header but no data rows; add one row per example."
        )
    if progress is not None:
        progress(1.0, f"read {len(frame):,} rows")
    return frame, np.asarray(lines, dtype=np.int64)


def _read_jsonl(
    text: str, name: str, progress: Progress | None, max_columns: int
) -> tuple[pd.DataFrame, np.ndarray]:
    records: list[dict] = []
    lines: list[int] = []
    keys: dict[str, None] = {}
    all_lines = text.split("\n")
    for number, line in enumerate(all_lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidDataError(
                f"{name}, line {number}: not valid JSON ({exc.msg}, column "
                f"{exc.colno}); each line must be one JSON object."
            ) from exc
        except (RecursionError, ValueError) as exc:
            # Arrays nested thousands deep, or an integer of over 4,300 digits.
            raise InvalidDataError(
                f"{name}, line {number}: JSON that cannot be read as a table ({exc}); "
                "each line must be one flat object of strings and numbers."
            ) from exc
        if not isinstance(record, dict):
            raise InvalidDataError(
                f"{name}, line {number}: a JSON {type(record).__name__}, expected "
                'an object such as {"text": "...", "label": "..."}.'
            )
        for key, value in record.items():
            if isinstance(value, dict | list):
                raise InvalidDataError(
                    f"{name}, line {number}, key {key!r}: a nested "
                    f"{type(value).__name__}; expected a string or a number."
                )
            if _SURROGATE.search(key) or (
                isinstance(value, str) and _SURROGATE.search(value)
            ):
                raise InvalidDataError(
                    f"{name}, line {number}, key {key[:40]!r}: a \\u escape of a lone "
                    "UTF-16 surrogate (\\ud800-\\udfff), which is not text; write "
                    "the character itself, or the escaped pair."
                )
            keys.setdefault(key, None)
        validate.check_column_count(len(keys), max_columns, name)
        records.append(record)
        lines.append(number)
        if progress is not None and len(records) % _CHUNK == 0:
            progress(number / len(all_lines), "reading lines")
    if not records:
        raise InvalidDataError(f"{name} holds no JSON lines.")
    columns = validate.check_column_names(list(keys), name)
    frame = pd.DataFrame(
        {
            new: pd.array(
                [None if (v := r.get(old)) is None else str(v) for r in records],
                dtype="str",
            )
            for old, new in zip(keys, columns, strict=True)
        }
    )
    return frame, np.asarray(lines, dtype=np.int64)


def _read_parquet(
    raw: bytes, name: str, max_columns: int
) -> tuple[pd.DataFrame, np.ndarray]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not raw.startswith(b"PAR1"):
        raise InvalidDataError(
            f"{name} is not a Parquet file (it does not start with 'PAR1'); "
            "check the file or its extension."
        )
    try:
        # What the footer declares is checked before any column is decoded:
        # compressed pages can expand far past the file's size.
        parquet = pq.ParquetFile(pa.BufferReader(raw))
        meta = parquet.metadata
        validate.check_column_count(meta.num_columns, max_columns, name)
        validate.check_cells(meta.num_rows, meta.num_columns, name)
        decompressed = sum(
            meta.row_group(g).column(c).total_uncompressed_size
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        )
        validate.check_expanded(decompressed, name, "its pages, decompressed")
        fields = list(parquet.schema_arrow)
        columns = validate.check_column_names([f.name for f in fields], name)
        kinds = [
            _parquet_kind(field.type, col, name)
            for field, col in zip(fields, columns, strict=True)
        ]
        text = {
            field.name: col
            for field, col, kind in zip(fields, columns, kinds, strict=True)
            if kind == "text"
        }
        if text:
            cells = 8 * meta.num_rows * meta.num_columns
            _check_parquet_text(raw, text, name, cells)
        table = pq.read_table(pa.BufferReader(raw))
    except InvalidDataError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidDataError(
            f"{name} is not a readable Parquet file ({exc}); write it again."
        ) from exc
    data = {}
    for i, (col, kind) in enumerate(zip(columns, kinds, strict=True)):
        values = table.column(i)
        if pa.types.is_dictionary(values.type):
            values = values.cast(values.type.value_type)
        if kind == "number":
            data[col] = values.cast(pa.float64()).to_numpy(zero_copy_only=False)
        elif kind == "text":
            data[col] = pd.array(values.to_pylist(), dtype="str")
        else:
            data[col] = np.full(table.num_rows, np.nan)
    frame = pd.DataFrame(data, columns=columns)
    if frame.empty or not len(columns):
        raise InvalidDataError(f"{name} holds no rows; add one row per example.")
    return frame, np.arange(1, len(frame) + 1, dtype=np.int64)


def _parquet_kind(kind, col: str, name: str) -> str:
    """``"number"``, ``"text"`` or ``"null"``: how a column of Arrow type
    ``kind`` is read; any other type is refused before the file is read."""
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_decimal(kind)
    ):
        return "number"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "text"
    if pa.types.is_null(kind):
        return "null"
    raise InvalidDataError(
        f"{name}: column {col!r} has type {kind}; SparseLens reads numbers "
        "and text. Convert it (e.g. dates to numbers) or drop it."
    )


def _check_parquet_text(
    raw: bytes, text: dict[str, str], name: str, n_cells_bytes: int
) -> None:
    """Refuse a file whose text columns expand past the size limit once read.

    A dictionary-encoded column stores each distinct value once, so one long
    value repeated in every row is tiny on disk and in the footer's sizes,
    yet reading it as text copies the value into every row. Read as
    dictionary arrays, a batch of rows at a time, each row's length is
    counted without the value being copied.

    Parameters
    ----------
    raw : bytes
        The Parquet file.
    text : dict
        The text columns: their name in the file → their name in messages.
    name : str
        The file, for messages.
    n_cells_bytes : int
        What the table's cells take besides their text
        (:func:`~core.data.user.validate.check_cells`).
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(pa.BufferReader(raw), read_dictionary=list(text))
    held = dict.fromkeys(text, 0)
    for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH, columns=list(text)):
        for column, values in zip(text, batch.columns, strict=True):
            lengths = pc.take(pc.binary_length(values.dictionary), values.indices)
            held[column] += pc.sum(lengths).as_py() or 0
    largest = max(held, key=held.__getitem__)
    validate.check_expanded(
        n_cells_bytes + sum(held.values()),
        name,
        f"column {text[largest]!r} alone holds {held[largest] / 1e6:,.1f} MB of text",
    )
