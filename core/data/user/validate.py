"""Checks every file a user brings passes before anything is parsed or stored.

One home for the rules: the size limit, how undeclared text encodings are
decoded (and mixed ones refused), what a dataset or column name may be, and how
spreadsheet formulas are neutralised on the way back out to CSV.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

from core.errors import InvalidDataError

#: Environment variable with the largest file accepted, in megabytes.
MAX_MB_ENV = "SPARSELENS_MAX_UPLOAD_MB"
DEFAULT_MAX_MB = 200.0

#: The most columns read from a table or text corpus: each one is profiled,
#: and 10,000 columns took 20 s to refuse. From a table of precomputed
#: features (numbers only, read without profiling) more are read; a wider
#: matrix fits a .npy/.npz, bounded by the size limit alone.
MAX_COLUMNS = 2_000
MAX_FEATURE_COLUMNS = 5_000

#: Dataset names: what the folder, the model IDs and the URL can all carry.
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,47}")

#: Leading characters that make a spreadsheet run a cell as a formula (OWASP
#: "CSV injection"): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Form feed and vertical tab occur in real text (page breaks); other C0
# controls do not.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


def max_upload_mb() -> float:
    """The size limit in megabytes: ``SPARSELENS_MAX_UPLOAD_MB`` or 200.

    Raises
    ------
    InvalidDataError
        The variable is set but is not a positive number.
    """
    raw = os.environ.get(MAX_MB_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_MB
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise InvalidDataError(
            f"{MAX_MB_ENV} must be a positive number of megabytes, found {raw!r}."
        )
    return value


def check_size(n_bytes: int, what: str) -> None:
    """Refuse an empty file or one over :func:`max_upload_mb`."""
    if n_bytes == 0:
        raise InvalidDataError(f"{what} is empty (0 bytes); choose the file again.")
    limit = max_upload_mb()
    if n_bytes > limit * 1e6:
        raise InvalidDataError(
            f"{what} is {n_bytes / 1e6:.1f} MB, over the {limit:g} MB limit. "
            f"Raise the limit with the {MAX_MB_ENV} environment variable, or "
            "drop columns or rows you do not need."
        )


def read_source(
    source: str | os.PathLike | bytes, filename: str | None
) -> tuple[bytes, str, str]:
    """``(bytes, display name, suffix)`` of a path or of uploaded bytes.

    The size is checked before the file is read.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        name = filename or "the uploaded file"
        check_size(len(raw), name)
    else:
        path = Path(source).expanduser()
        name = filename or str(path)
        if not path.is_file():
            raise InvalidDataError(f"{path} is not a file; check the path.")
        check_size(path.stat().st_size, name)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InvalidDataError(
                f"Cannot read {path}: {exc.strerror or exc}."
            ) from exc
    ref = filename or (None if isinstance(source, bytes) else str(source))
    return raw, name, Path(ref).suffix.lower() if ref else ""


def check_column_count(n_columns: int, limit: int, what: str) -> None:
    """Refuse more than ``limit`` columns, before any of them is read."""
    if n_columns > limit:
        raise InvalidDataError(
            f"{what} has {n_columns:,} columns, over the {limit:,} read from a "
            "table of this kind. Keep the columns you need, or save a wide numeric "
            "matrix as a .npy/.npz and add it as precomputed features."
        )


def check_cells(n_rows: int, n_columns: int, what: str) -> None:
    """Refuse a table whose cells, at 8 bytes each once read (a float64 or a
    pointer to a string), would pass :func:`max_upload_mb`."""
    limit = max_upload_mb()
    n_bytes = 8 * n_rows * n_columns
    if n_bytes > limit * 1e6:
        raise InvalidDataError(
            f"{what} declares {n_rows:,} rows × {n_columns:,} columns, at least "
            f"{n_bytes / 1e6:,.1f} MB once read, over the {limit:g} MB limit. "
            f"Raise {MAX_MB_ENV}, or keep the rows and columns you need."
        )


def check_expanded(n_bytes: int, what: str, how: str) -> None:
    """Refuse a file that expands to more than :func:`max_upload_mb` once read.

    Parameters
    ----------
    n_bytes : int
        What the file expands to, counted before it is read in full.
    what : str
        The file, for messages.
    how : str
        Where the expansion comes from, for messages.

    Raises
    ------
    InvalidDataError
    """
    limit = max_upload_mb()
    if n_bytes > limit * 1e6:
        raise InvalidDataError(
            f"{what} expands to {n_bytes / 1e6:,.1f} MB once read ({how}), over "
            f"the {limit:g} MB limit. Raise {MAX_MB_ENV}, or keep the rows and "
            "columns you need."
        )


def line_of(raw: bytes, offset: int) -> int:
    """The 1-based line number of byte ``offset``."""
    return raw.count(b"\n", 0, offset) + 1


def sniff_container(raw: bytes, what: str) -> None:
    """Refuse files that are a known binary format under a text name."""
    if raw.startswith(b"PAR1"):
        raise InvalidDataError(
            f"{what} is a Parquet file; give it the .parquet extension."
        )
    if raw.startswith(b"PK\x03\x04"):
        raise InvalidDataError(
            f"{what} is a zip archive (an Excel workbook?); export the sheet as "
            "CSV (UTF-8) and add that."
        )
    if raw.startswith(b"\x93NUMPY"):
        raise InvalidDataError(
            f"{what} is a NumPy .npy file; add it as precomputed features."
        )


def decode(raw: bytes, what: str) -> tuple[str, str]:
    """Decode a text file whose encoding is not declared.

    UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark
    are read as such. A file that is not UTF-8 is read as Windows-1252 (then
    latin-1) only when it holds no UTF-8 multi-byte sequence at all: one that
    mixes the two would be silently garbled either way, so it is refused with
    the first line that is not UTF-8. NUL bytes and other control characters
    mean binary data, refused with their line.

    Returns
    -------
    text : str
    encoding : str
        ``"utf-8"``, ``"utf-16"``, ``"cp1252"`` or ``"latin-1"``.

    Raises
    ------
    InvalidDataError
    """
    sniff_container(raw, what)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, encoding = raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise InvalidDataError(
                f"{what} starts like UTF-16 but is not valid UTF-16 ({exc.reason}); "
                "save it as UTF-8."
            ) from exc
    else:
        nul = raw.find(b"\x00")
        if nul >= 0:
            raise InvalidDataError(
                f"{what}, line {line_of(raw, nul)}: a NUL byte, so this is binary "
                "data, not a text table. Export the data as CSV (UTF-8)."
            )
        try:
            text, encoding = raw.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError as exc:
            if _UTF8_MULTIBYTE.search(raw):
                raise InvalidDataError(
                    f"{what}, line {line_of(raw, exc.start)}: byte "
                    f"0x{raw[exc.start]:02x} is not UTF-8 while other lines are "
                    "UTF-8: the file mixes text encodings. Re-save the whole file "
                    "as UTF-8."
                ) from exc
            try:
                text, encoding = raw.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                text, encoding = raw.decode("latin-1"), "latin-1"
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise InvalidDataError(
            f"{what}, line {line}: control character U+{ord(bad.group()):04X}, so "
            "this looks like binary data, not a text table. Export the data as "
            "CSV (UTF-8)."
        )
    return text, encoding


def _is_hidden(char: str) -> bool:
    """A control or invisible format character, bar the joiners U+200C/U+200D."""
    return unicodedata.category(char) in ("Cc", "Cf") and char not in "\u200c\u200d"


def hidden_character(text: str) -> str | None:
    """The first control or invisible format character of ``text``, or None.

    Format characters (Unicode category Cf: bidirectional overrides such as
    U+202E, zero-width spaces, soft hyphens) change how a name displays
    without being seen, so ``"txt.exe"`` can show as ``"exe.txt"`` or two
    different names look alike. The zero-width (non-)joiners U+200C and U+200D
    are allowed: scripts such as Persian and emoji sequences need them.
    """
    return next((char for char in text if _is_hidden(char)), None)


def shown_visibly(text: str) -> str:
    """``text`` with each character :func:`hidden_character` finds written as
    its code point, ``"[U+202E]"``: for names that are kept, such as a file's."""
    return "".join(f"[U+{ord(c):04X}]" if _is_hidden(c) else c for c in text)


def describe_character(char: str) -> str:
    """``"U+202E (RIGHT-TO-LEFT OVERRIDE)"``."""
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'a control character')})"


def check_dataset_name(name: object) -> str:
    """A valid name for a new dataset, or an error saying what one looks like."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InvalidDataError(
            f"Dataset name {name!r} is not allowed: use 1 to 48 lower-case letters, "
            "digits, '_' or '-', starting with a letter or digit (e.g. 'my_cohort')."
        )
    return name


def check_column_names(names: list[object], what: str) -> list[str]:
    """Column names, stripped; blank, duplicate or formula-like ones are refused.

    Parameters
    ----------
    names : list
        The header, as read.
    what : str
        The file, for messages.

    Raises
    ------
    InvalidDataError
        Naming the column position (1-based) and what to do.
    """
    clean: list[str] = []
    seen: dict[str, int] = {}
    for position, raw in enumerate(names, start=1):
        name = unicodedata.normalize("NFC", str(raw if raw is not None else ""))
        name = name.strip()
        if not name or name.lower() in ("nan", "none", "unnamed"):
            raise InvalidDataError(
                f"{what}: column {position} has a blank name; give every column a "
                "name in the header row."
            )
        if _CONTROL.search(name) or "\n" in name or "\r" in name:
            raise InvalidDataError(
                f"{what}: column {position}'s name {name[:40]!r} holds a line break "
                "or control character; rename it."
            )
        hidden = hidden_character(name)
        if hidden is not None:
            raise InvalidDataError(
                f"{what}: column {position}'s name {name[:40]!r} holds "
                f"{describe_character(hidden)}, an invisible character that changes "
                "how the name displays; rename it."
            )
        if name.startswith(FORMULA_PREFIXES[:4]) and not _is_number(name):
            raise InvalidDataError(
                f"{what}: column {position}'s name {name[:40]!r} starts with "
                f"{name[0]!r}, which spreadsheets run as a formula; rename it."
            )
        if len(name) > 200:
            raise InvalidDataError(
                f"{what}: column {position}'s name is {len(name)} characters long; "
                "keep names under 200 characters."
            )
        if name in seen:
            raise InvalidDataError(
                f"{what}: columns {seen[name]} and {position} are both named "
                f"{name!r}; column names must be unique."
            )
        seen[name] = position
        clean.append(name)
    return clean


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def looks_like_data(header: list[str]) -> bool:
    """True when every header cell is a number: the file has no header row."""
    return bool(header) and all(_is_number(h.strip()) for h in header if h.strip())


def is_formula(value: object) -> bool:
    """Whether a cell would run as a spreadsheet formula (a number would not)."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_PREFIXES)
        and not _is_number(value)
    )


def neutralise_formula(value: object) -> object:
    """``value``, with a leading ``'`` when a spreadsheet would run it as a formula.

    Applied to every text cell written back out to CSV (OWASP's advice for CSV
    injection). Numbers, including negative ones, are left alone.
    """
    return "'" + value if is_formula(value) else value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and column names cannot run as formulas.

    Every CSV the dashboard offers for download goes through this.
    """
    safe = frame.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col].dtype):
            safe[col] = safe[col].map(neutralise_formula, na_action="ignore")
    safe.columns = [neutralise_formula(str(c)) for c in safe.columns]
    return safe


def suggest_name(filename: str) -> str:
    """A valid dataset name from a file name (``"My Cohort 2024.csv"`` → ``"my_cohort_2024"``)."""
    stem = Path(str(filename)).name.split(".")[0].lower()
    name = re.sub(r"[^a-z0-9_-]+", "_", stem).strip("_-")[:48]
    return name or "my_data"
