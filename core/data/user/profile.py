"""What each column of a user's table holds, and the role it is given.

A column is *numeric* when its values are numbers, *categorical* when they are
a few distinct strings (one-hot encoded later), or *ignored* (all missing,
constant, or too many distinct strings to one-hot). The inference is only a
proposal: the user corrects it, and a role that does not fit the values (a
word in a numeric column, a constant column kept) is an error that names the
column, the line and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.user import validate
from core.data.user.tables import RawTable
from core.errors import InvalidDataError

ROLES = ("numeric", "categorical", "ignore")
#: Cells read as missing (compared case-insensitively, after stripping).
MISSING_TOKENS = frozenset(
    {"", "na", "n/a", "nan", "null", "none", "?", "#n/a", "missing"}
)
#: A string column with more distinct values is inferred "ignore" (an ID or
#: free text); a column declared categorical may have up to MAX_LEVELS.
MAX_INFERRED_LEVELS = 50
MAX_LEVELS = 500
#: Share of numbers among the observed values above which a column is
#: inferred numeric (its few words are then reported as errors, not one-hot).
NUMERIC_SHARE = 0.9


@dataclass(frozen=True)
class ColumnProfile:
    """One column as read: counts, examples and the proposed role.

    Attributes
    ----------
    name : str
    role : {"numeric", "categorical", "ignore"}
        The proposal.
    n_missing, n_distinct, n_not_numeric : int
        Over all rows; ``n_distinct`` counts observed values.
    examples : str
        A few distinct values, comma-separated.
    note : str
        Why the role was proposed when it is not obvious.
    """

    name: str
    role: str
    n_missing: int
    n_distinct: int
    n_not_numeric: int
    examples: str
    note: str = ""


def missing_mask(values: pd.Series) -> np.ndarray:
    """True where a cell is missing (NaN, or a token of :data:`MISSING_TOKENS`)."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.isna().to_numpy()
    text = values.str.strip().str.lower()
    return (values.isna() | text.isin(MISSING_TOKENS)).to_numpy(dtype=bool)


def numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A column as float64.

    Returns
    -------
    x : array of shape (n_rows,), float64
        NaN where missing or not a finite number.
    missing : array of shape (n_rows,), bool
    bad : array of shape (n_rows,), bool
        Observed cells that are not finite numbers.
    """
    missing = missing_mask(values)
    if pd.api.types.is_numeric_dtype(values.dtype):
        x = values.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        x = pd.to_numeric(values.str.strip(), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    bad = ~missing & ~np.isfinite(x)
    x = np.where(np.isfinite(x) & ~missing, x, np.nan)
    return x, missing, bad


def strings(values: pd.Series) -> pd.Series:
    """A column as stripped strings, missing cells as NA."""
    missing = missing_mask(values)
    if pd.api.types.is_numeric_dtype(values.dtype):
        text = pd.Series(
            [_number_text(v) for v in values.to_numpy(dtype=np.float64)], dtype="str"
        )
    else:
        text = values.str.strip().astype("str")
    return text.mask(missing)


def _number_text(v: float) -> str | None:
    if not np.isfinite(v):
        return None
    return str(int(v)) if float(v).is_integer() and abs(v) < 2**53 else repr(v)


def profile_columns(raw: RawTable) -> list[ColumnProfile]:
    """Counts, examples and a proposed role for every column of ``raw``."""
    return [_profile(raw, col) for col in raw.frame.columns]


def _profile(raw: RawTable, col: str) -> ColumnProfile:
    values = raw.frame[col]
    x, missing, bad = numbers(values)
    text = strings(values)
    distinct = text.dropna().unique()
    n_obs = int((~missing).sum())
    examples = ", ".join(str(v)[:30] for v in distinct[:4])
    counts = dict(
        n_missing=int(missing.sum()),
        n_distinct=len(distinct),
        n_not_numeric=int(bad.sum()),
        examples=examples,
    )
    if n_obs == 0:
        return ColumnProfile(col, "ignore", **counts, note="every value is missing")
    if len(distinct) == 1:
        return ColumnProfile(
            col, "ignore", **counts, note=f"constant: every value is {distinct[0]!r}"
        )
    if not bad.any():
        return ColumnProfile(col, "numeric", **counts)
    if 1 - bad.sum() / n_obs >= NUMERIC_SHARE:
        first = int(np.flatnonzero(bad)[0])
        return ColumnProfile(
            col,
            "numeric",
            **counts,
            note=f"{int(bad.sum())} value(s) are not numbers, e.g. "
            f"{values.iloc[first]!r} on {raw.where(first).split(', ')[-1]}: fix "
            "them, or make the column categorical",
        )
    if len(distinct) > 20 and len(distinct) >= n_obs / 2:
        return ColumnProfile(
            col,
            "ignore",
            **counts,
            note=f"{len(distinct)} distinct values in {n_obs} rows: an ID? Choose it "
            "as the ID column",
        )
    if len(distinct) <= MAX_INFERRED_LEVELS:
        return ColumnProfile(col, "categorical", **counts)
    return ColumnProfile(
        col,
        "ignore",
        **counts,
        note=f"{len(distinct)} distinct text values, too many to one-hot (an ID "
        "or free text?)",
    )


def profile_frame(profiles: list[ColumnProfile]) -> pd.DataFrame:
    """The profiles as a table: one row per column, for a preview."""
    return pd.DataFrame(
        {
            "column": [p.name for p in profiles],
            "role": [p.role for p in profiles],
            "missing": [p.n_missing for p in profiles],
            "distinct": [p.n_distinct for p in profiles],
            "not numeric": [p.n_not_numeric for p in profiles],
            "examples": [p.examples for p in profiles],
            "note": [p.note for p in profiles],
        }
    )


def resolve_roles(
    raw: RawTable,
    overrides: Mapping[str, str],
    exclude: tuple[str, ...],
    profiles: list[ColumnProfile] | None = None,
) -> dict[str, str]:
    """Every column's role: the proposal, with the user's ``overrides`` applied.

    Columns in ``exclude`` (target, ID) get no feature role. A role that does
    not fit the values raises, naming the column and where. ``profiles`` are
    :func:`profile_columns` of ``raw`` when the caller has them already.

    Raises
    ------
    InvalidDataError
    """
    columns = list(raw.frame.columns)
    for col, role in overrides.items():
        if col not in columns:
            raise InvalidDataError(
                f"{raw.name}: there is no column {col!r} to give the role {role!r}; "
                f"columns: {', '.join(columns)}."
            )
        if role not in ROLES:
            raise InvalidDataError(
                f"Column {col!r}: unknown role {role!r}; expected one of "
                f"{', '.join(ROLES)}."
            )
    roles = {}
    for profile in profiles if profiles is not None else profile_columns(raw):
        if profile.name in exclude:
            continue
        role = overrides.get(profile.name, profile.role)
        if role != "ignore":
            check_role(raw, profile, role)
        roles[profile.name] = role
    return roles


def check_role(raw: RawTable, profile: ColumnProfile, role: str) -> None:
    """Refuse a feature role the column's values do not support."""
    col = profile.name
    if profile.n_distinct == 0:
        raise InvalidDataError(
            f"{raw.name}: column {col!r} has no values (every cell is missing); "
            "set its role to ignore or fill it in."
        )
    if profile.n_distinct == 1:
        raise InvalidDataError(
            f"{raw.name}: column {col!r} is constant (every value is "
            f"{profile.examples!r}), so it cannot inform a model; set its role to "
            "ignore."
        )
    if role == "numeric" and profile.n_not_numeric:
        _, _, bad = numbers(raw.frame[col])
        where = np.flatnonzero(bad)
        first = int(where[0])
        raise InvalidDataError(
            f"{raw.where(first)}, column {col!r}: {raw.frame[col].iloc[first]!r} is "
            f"not a number ({len(where)} such value(s) in the column). Fix the "
            "value, leave the cell empty to mark it missing, or make the column "
            "categorical."
        )
    if role == "categorical" and profile.n_distinct > MAX_LEVELS:
        raise InvalidDataError(
            f"{raw.name}: column {col!r} has {profile.n_distinct} distinct values, "
            f"over the {MAX_LEVELS} a categorical column may have; make it numeric "
            "or ignore it."
        )


def formula_warnings(raw: RawTable, columns: list[str]) -> list[str]:
    """One warning per text column holding a spreadsheet formula (first line)."""
    out = []
    for col in columns:
        values = raw.frame[col]
        if pd.api.types.is_numeric_dtype(values.dtype):
            continue
        hits = np.flatnonzero(
            values.map(validate.is_formula, na_action="ignore").fillna(False)
        )
        if hits.size:
            out.append(
                f"{raw.where(int(hits[0]))}, column {col!r}: {hits.size} value(s) "
                "start like a spreadsheet formula (e.g. '='); kept as text, and "
                "prefixed with ' in every CSV the dashboard exports."
            )
    return out
