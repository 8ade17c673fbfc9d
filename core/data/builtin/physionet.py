"""PhysioNet/CinC Challenge 2012: in-hospital mortality from 48 h of ICU data.

Each ICU stay is one text file of ``Time,Parameter,Value`` rows (Silva et al.,
Computing in Cardiology 2012). Rows at ``00:00`` whose parameter is one of
:data:`STATIC` are general descriptors; every other row is one measurement of
a vital sign or lab. Set a (4,000 stays; 3,996 files in the offline mirror)
has public outcomes; set c (4,000 stays) is used as extra training data when
present.

Features per time-series variable: first, last, min, max and mean of the
valid measurements, their count, and a ``<var>_missing`` indicator (no valid
measurement in 48 h). The admission weight (the ``00:00`` Weight descriptor)
is the first observation of the Weight series, so it is ``Weight_first``.
Static: Age, Gender (1 = male), Height, each with a missing indicator, and
ICUType one-hot (dropped when no stay of set a has it, as in the offline
mirror, whose set a lacks the ICUType rows). ``MechVent`` (only ever charted
as 1) becomes "ventilated at any time".

Cleaning: a negative value (``-1`` marks a missing descriptor) or a value
outside :data:`PLAUSIBLE` (e.g. HR 0, Temp -17.8 °C, pH 735, Age 200) is
treated as missing and counted in ``info["cleaning"]``. Where a stay repeats
a descriptor (some set-a stays list Age two to six times) the first row
counts. Scaling is median / IQR of the observed training values; missing
summaries are imputed with the training median (0 after scaling).
"""

from __future__ import annotations

import io
import re
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from core.data.clinical import units_and_ranges
from core.data.featurize import (
    encode_columns,
    fill_values,
    make_splits,
    scale_and_impute,
)
from core.data.fetch import RemoteFile
from core.data.registry import DatasetSpec, register
from core.data.splits import split_indices
from core.data.types import Dataset, Preprocessing
from core.errors import DataCorruptError

SEED = 0
_BASE = "https://physionet.org/files/challenge-2012/1.0.0"
# The outcome tables are pinned to their recorded sha256. The team's mirror of the
# archives was rebuilt from public copies, so its digests are not PhysioNet's: the
# archives are verified against the digest recorded on their first download.
SET_A = RemoteFile("physionet2012/set-a.tar.gz", f"{_BASE}/set-a.tar.gz")
OUTCOMES_A = RemoteFile(
    "physionet2012/Outcomes-a.txt",
    f"{_BASE}/Outcomes-a.txt",
    sha256=("2613ea60ccda29f87571a7d6b09ad130858a8ccd66325bd073365925026883c2",),
)
SET_C = RemoteFile("physionet2012/set-c.tar.gz", f"{_BASE}/set-c.tar.gz")
OUTCOMES_C = RemoteFile(
    "physionet2012/Outcomes-c.txt",
    f"{_BASE}/Outcomes-c.txt",
    sha256=("0b32dcb7753c0f18f2f5fde498a28618b8879c5e527ce0dae8ad120dd7e205c9",),
)

#: General descriptors, charted at 00:00. Weight is also a time series: its
#: 00:00 value is the first observation of the Weight series.
STATIC = ("RecordID", "Age", "Gender", "Height", "ICUType", "Weight")
_DESCRIPTORS = STATIC[:5]
#: Time-series variables summarised per stay (MechVent is handled apart).
TIME_SERIES = (
    "HR", "MAP", "SysABP", "DiasABP", "NIMAP", "NISysABP", "NIDiasABP", "Temp",
    "RespRate", "SaO2", "Urine", "GCS", "FiO2", "pH", "PaCO2", "PaO2", "HCO3",
    "Lactate", "Na", "K", "Mg", "Glucose", "BUN", "Creatinine", "Bilirubin",
    "Albumin", "ALP", "ALT", "AST", "Cholesterol", "TroponinI", "TroponinT",
    "HCT", "WBC", "Platelets", "Weight",
)  # fmt: skip
SUMMARIES = ("first", "last", "min", "max", "mean", "count")
ICU_TYPES = {
    1: "Coronary care",
    2: "Cardiac surgery recovery",
    3: "Medical",
    4: "Surgical",
}

#: Physiologically possible values (inclusive); anything else is an entry or
#: device error and is treated as missing. Deliberately wide: only impossible
#: values go (HR 0 is an unplugged monitor, pH 735 a lost decimal point).
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "Age": (15, 120),
    "Height": (100, 250),
    "HR": (1, 300),
    "MAP": (1, 300),
    "SysABP": (1, 300),
    "DiasABP": (1, 300),
    "NIMAP": (1, 300),
    "NISysABP": (1, 300),
    "NIDiasABP": (1, 300),
    "Temp": (20, 45),
    "RespRate": (1, 100),
    "SaO2": (1, 100),
    "Urine": (0, 15000),
    "GCS": (3, 15),
    "FiO2": (0.21, 1),
    "pH": (6.5, 8.0),
    "PaCO2": (5, 200),
    "PaO2": (1, 800),
    "HCO3": (1, 60),
    "Lactate": (0.1, 40),
    "Na": (90, 200),
    "K": (1, 15),
    "Mg": (0.2, 15),
    "Glucose": (5, 2500),
    "BUN": (0, 300),
    "Creatinine": (0.05, 30),
    "Bilirubin": (0, 80),
    "Albumin": (0.5, 7),
    "ALP": (1, 10000),
    "ALT": (1, 30000),
    "AST": (1, 30000),
    "Cholesterol": (10, 1000),
    "TroponinI": (0, 100),
    "TroponinT": (0, 50),
    "HCT": (5, 80),
    "WBC": (0.05, 250),
    "Platelets": (1, 2500),
    "Weight": (20, 350),
}

_HEADER = b"Time,Parameter,Value"
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


def read_stays(path: Path) -> tuple[pd.DataFrame, int, np.ndarray]:
    """Read every stay file of a PhysioNet 2012 archive into one long table.

    Parameters
    ----------
    path : Path
        ``set-a.tar.gz`` or ``set-c.tar.gz``: one ``<RecordID>.txt`` per stay.

    Returns
    -------
    rows : DataFrame
        Columns ``stay`` (int, position of the file in the archive),
        ``record`` (int64 RecordID from the file name), ``minutes`` (int),
        ``parameter`` (str) and ``value`` (float).
    n_stays : int
        Number of stay files.
    records : array of shape (n_stays,), int64
        RecordID of each stay file, from its name.

    Raises
    ------
    DataCorruptError
        The archive is truncated or corrupt, has no stay files, or a file is
        not a ``Time,Parameter,Value`` table; the message names the file.
    """
    bodies, records, lines = _stay_files(path)
    rows = _parse_rows(path, bodies, records, lines)
    minutes = (rows["hours"] * 60 + rows["mins"]).to_numpy(np.int64)
    rows = rows.drop(columns=["hours", "mins"])
    rows.insert(2, "minutes", minutes)
    return rows.reset_index(drop=True), len(records), np.asarray(records, np.int64)


def _stay_files(path: Path) -> tuple[list[bytes], list[int], list[int]]:
    """Each stay file's rows without its header, its RecordID and line count."""
    bodies, records, lines = [], [], []
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in tqdm(archive, desc=path.name, unit=" stays", leave=False):
                if not (member.isfile() and member.name.endswith(".txt")):
                    continue
                stem = Path(member.name).stem
                handle = archive.extractfile(member)
                raw = handle.read() if handle is not None else b""
                header, _, body = raw.partition(b"\n")
                if header.strip() != _HEADER or not stem.isdigit():
                    raise DataCorruptError(
                        f"{path}: member {member.name} is not a PhysioNet 2012 stay "
                        f"(expected <RecordID>.txt starting with {_HEADER.decode()})."
                    )
                if body and not body.endswith(b"\n"):
                    body += b"\n"
                bodies.append(body)
                records.append(int(stem))
                lines.append(body.count(b"\n"))
    except _READ_ERRORS as exc:
        raise DataCorruptError(
            f"{path} is truncated or corrupt ({exc}); delete it and download "
            f"{path.name} again."
        ) from exc
    if not bodies:
        raise DataCorruptError(f"{path} contains no PhysioNet 2012 stay files.")
    if len(set(records)) != len(records):
        raise DataCorruptError(f"{path} holds two stay files with the same RecordID.")
    return bodies, records, lines


def _parse_rows(
    path: Path, bodies: list[bytes], records: list[int], lines: list[int]
) -> pd.DataFrame:
    """The stays' rows as one table: stay, record, hours, mins, parameter, value.

    Blank rows are dropped; a row without an ``HH:MM`` time raises.
    """
    # One parse for all stays: "HH:MM" becomes two numeric columns.
    text = b"".join(bodies).replace(b":", b",")
    try:
        rows = pd.read_csv(
            io.BytesIO(text),
            header=None,
            names=["hours", "mins", "parameter", "value"],
            dtype={
                "hours": np.float64,
                "mins": np.float64,
                "parameter": "category",
                "value": np.float64,
            },
            skip_blank_lines=False,
        )
    except (ValueError, pd.errors.ParserError) as exc:
        where = "a stay file"
        found = re.search(r"line (\d+)", str(exc))
        if found:  # name the member that holds the bad line
            member = np.searchsorted(np.cumsum(lines), int(found.group(1)))
            where = f"member {records[min(member, len(records) - 1)]}.txt"
        raise DataCorruptError(f"{path}: {where} has malformed rows ({exc}).") from exc
    if len(rows) != sum(lines):
        raise DataCorruptError(f"{path}: stay files have unexpected line breaks.")
    stay = np.repeat(np.arange(len(records)), lines)
    rows.insert(0, "stay", stay)
    rows.insert(1, "record", np.asarray(records, np.int64)[stay])
    blank = rows[["hours", "mins", "parameter", "value"]].isna().all(axis=1)
    rows = rows[~blank]
    bad_time = rows["hours"].isna() | rows["mins"].isna()
    if bad_time.any():
        record = rows.loc[bad_time, "record"].iloc[0]
        raise DataCorruptError(
            f"{path}: member {record}.txt has a row without an HH:MM time."
        )
    return rows


def read_outcomes(path: Path) -> pd.DataFrame:
    """Read ``Outcomes-<set>.txt``, indexed by RecordID.

    Returns
    -------
    DataFrame
        Columns ``death`` (0/1 ``In-hospital_death``), ``saps_i`` and ``sofa``
        (float, NaN where ``-1``), index ``RecordID`` (int64).

    Raises
    ------
    DataCorruptError
        Missing columns, non-numeric values, repeated RecordIDs or a label
        other than 0/1; the message names the file.
    """
    try:
        table = pd.read_csv(path)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataCorruptError(
            f"{path} is not a readable outcomes table ({exc})."
        ) from exc
    needed = ["RecordID", "In-hospital_death"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise DataCorruptError(
            f"{path} lacks the column(s) {', '.join(missing)}; expected a header "
            "RecordID,SAPS-I,SOFA,Length_of_stay,Survival,In-hospital_death."
        )
    numeric = table.apply(pd.to_numeric, errors="coerce")
    ids, death = numeric["RecordID"], numeric["In-hospital_death"]
    if ids.isna().any() or ids.duplicated().any() or not death.isin([0, 1]).all():
        raise DataCorruptError(
            f"{path} has missing or repeated RecordIDs or an In-hospital_death "
            "value other than 0/1."
        )
    out = pd.DataFrame(
        {
            "death": death.to_numpy(np.int64),
            "saps_i": numeric.get("SAPS-I", pd.Series(np.nan, index=table.index)),
            "sofa": numeric.get("SOFA", pd.Series(np.nan, index=table.index)),
        },
    )
    out[["saps_i", "sofa"]] = out[["saps_i", "sofa"]].where(
        out[["saps_i", "sofa"]] >= 0
    )
    out.index = pd.Index(ids.to_numpy(np.int64), name="RecordID")
    return out


def summarise(rows: pd.DataFrame, n_stays: int) -> tuple[pd.DataFrame, dict]:
    """Per-stay static descriptors and time-series summaries.

    Parameters
    ----------
    rows : DataFrame
        As returned by :func:`read_stays`.
    n_stays : int

    Returns
    -------
    wide : DataFrame of shape (n_stays, ...)
        ``Age``, ``Gender``, ``Height``, ``ICUType`` (NaN where missing or
        invalid), ``MechVent`` (0/1) and ``<var>_<summary>`` for every
        variable in :data:`TIME_SERIES` and summary in :data:`SUMMARIES`
        (NaN where the variable has no valid measurement; count 0).
    report : dict
        Counts of dropped and invalid rows, JSON-serialisable.
    """
    report: dict = {}
    unnamed = rows["parameter"].isna()
    report["rows_without_parameter"] = int(unnamed.sum())
    rows = rows[~unnamed]
    descriptor = rows["parameter"].isin(_DESCRIPTORS)
    static, series = rows[descriptor & (rows["minutes"] == 0)], rows[~descriptor]

    # Static descriptors: the first row of each (some stays repeat Age).
    repeats = static.duplicated(["stay", "parameter"])
    report["repeated_descriptor_rows"] = _counts(static.loc[repeats, "parameter"])
    wide, invalid = _descriptors(static[~repeats], n_stays)

    # Time series: drop impossible values, then summarise what is left.
    known = series["parameter"].isin((*TIME_SERIES, "MechVent"))
    report["unknown_parameters"] = _counts(series.loc[~known, "parameter"])
    series = series[known]
    wide["MechVent"] = 0.0
    wide.loc[
        series.loc[series["parameter"] == "MechVent", "stay"].unique(), "MechVent"
    ] = 1.0
    series = series[series["parameter"] != "MechVent"]
    low = series["parameter"].map({k: v[0] for k, v in PLAUSIBLE.items()})
    high = series["parameter"].map({k: v[1] for k, v in PLAUSIBLE.items()})
    low, high = low.to_numpy(np.float64), high.to_numpy(np.float64)
    value = series["value"].to_numpy()
    ok = np.isfinite(value) & (value >= low) & (value <= high)
    invalid.update(_counts(series.loc[~ok & (value != -1), "parameter"]))
    report["invalid_values"] = {k: v for k, v in invalid.items() if v}
    wide = pd.concat([wide, _series_summaries(series[ok], wide.index)], axis=1)
    return wide, report


def _descriptors(
    static: pd.DataFrame, n_stays: int
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Age, Gender, Height, ICUType per stay (NaN where missing or invalid),
    and how many invalid values of each were set to missing."""
    first = static.pivot(index="stay", columns="parameter", values="value")
    wide = pd.DataFrame(index=pd.RangeIndex(n_stays, name="stay"))
    invalid: dict[str, int] = {}
    for var in ("Age", "Gender", "Height", "ICUType"):
        values = (
            first[var].reindex(wide.index)
            if var in first
            else pd.Series(np.nan, wide.index)
        )
        if var == "Gender":
            bad = values.notna() & ~values.isin([0, 1])
        elif var == "ICUType":
            bad = values.notna() & ~values.isin(list(ICU_TYPES))
        else:
            low, high = PLAUSIBLE[var]
            bad = values.notna() & ((values < low) | (values > high))
        bad &= values != -1  # -1 is the documented "missing", not an error
        invalid[var] = int(bad.sum())
        wide[var] = values.where((values >= 0) & ~bad)
    return wide, invalid


def _series_summaries(series: pd.DataFrame, stays: pd.Index) -> pd.DataFrame:
    """``<var>_<summary>`` of the valid measurements, one row per stay.

    NaN where a variable was never measured (its count is 0); columns ordered
    by variable of :data:`TIME_SERIES`, then summary of :data:`SUMMARIES`.
    """
    series = series.sort_values(["stay", "minutes"], kind="stable")
    grouped = series.groupby(["stay", "parameter"], sort=False)["value"]
    stats = grouped.agg(["first", "last", "min", "max", "mean", "count"]).unstack(
        "parameter"
    )
    # Every (summary, variable) pair, NaN where a variable was never measured.
    wanted = pd.MultiIndex.from_product([SUMMARIES, TIME_SERIES])
    stats = stats.reindex(index=stays, columns=wanted)
    stats["count"] = stats["count"].fillna(0)
    stats.columns = [f"{var}_{summary}" for summary, var in stats.columns]
    return stats[[f"{var}_{summary}" for var in TIME_SERIES for summary in SUMMARIES]]


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values.value_counts()
    return {str(k): int(v) for k, v in counts.items() if v > 0}


def _load_set(
    archive: Path, outcomes_path: Path, name: str
) -> tuple[pd.DataFrame, dict]:
    outcomes = read_outcomes(outcomes_path)  # first: it is quick to reject
    rows, n_stays, records = read_stays(archive)
    wide, report = summarise(rows, n_stays)
    wide.insert(0, "record", records)
    has_outcome = wide["record"].isin(outcomes.index)
    if not has_outcome.any():
        raise DataCorruptError(
            f"No stay in {archive} has an outcome in {outcomes_path}; are they from "
            "the same set?"
        )
    report["stays_without_outcome"] = int((~has_outcome).sum())
    report["outcomes_without_stay"] = sorted(
        int(r) for r in set(outcomes.index) - set(wide["record"])
    )
    wide = wide[has_outcome].reset_index(drop=True)
    wide = wide.join(outcomes, on="record")
    wide.insert(1, "set", name)
    return wide, report


def _load_sets(files: dict, include_set_c: bool) -> tuple[pd.DataFrame, int, dict]:
    """Set a, then the stays of set c not in set a when asked for and present.

    Returns the stays, how many come from set a, and each set's cleaning report.
    """
    frame, report_a = _load_set(files[SET_A.path], files[OUTCOMES_A.path], "a")
    reports = {"a": report_a}
    n_a = len(frame)
    if include_set_c and SET_C.path in files and OUTCOMES_C.path in files:
        frame_c, reports["c"] = _load_set(
            files[SET_C.path], files[OUTCOMES_C.path], "c"
        )
        overlap = frame_c["record"].isin(frame["record"])
        reports["c"]["dropped_records_also_in_a"] = int(overlap.sum())
        frame = pd.concat([frame, frame_c[~overlap]], ignore_index=True)
    return frame, n_a, reports


def _feature_matrix(
    frame: pd.DataFrame, icu_type: bool
) -> tuple[np.ndarray, list[str], dict[str, tuple[int, ...]], dict[str, str]]:
    """Features in original units (NaN where missing), grouped by variable.

    Age, Gender, Height each with a missing indicator; ``ICUType`` one-hot
    when ``icu_type``; MechVent; then per time-series variable its summaries
    and a missing indicator.

    Returns
    -------
    X_raw : array of shape (n_stays, n_features), float64
    names : list of str
    groups : dict of str to tuple of int
        One group per variable.
    codes : dict of str to str
        Feature name to clinical code, for the features in original units.
    """
    columns, groups, codes = {}, {}, {}

    def add(group: str, name: str, values, code: str | None = None) -> None:
        groups.setdefault(group, []).append(len(columns))
        columns[name] = np.asarray(values, dtype=np.float64)
        if code is not None:
            codes[name] = code

    for var in ("Age", "Gender", "Height"):
        add(var, var, frame[var], var)
        add(var, f"{var}_missing", frame[var].isna())
    if icu_type:
        icu = frame["ICUType"].map(ICU_TYPES).to_frame("ICUType")
        X_icu, icu_names, _ = encode_columns(icu, ["ICUType"])
        for name, values in zip(icu_names, X_icu.T, strict=True):
            add("ICUType", name, values)
    add("MechVent", "MechVent", frame["MechVent"], "MechVent")
    for var in TIME_SERIES:
        for summary in SUMMARIES:
            add(
                var,
                f"{var}_{summary}",
                frame[f"{var}_{summary}"],
                var if summary != "count" else None,
            )
        add(var, f"{var}_missing", frame[f"{var}_count"] == 0)
    X_raw = np.stack(list(columns.values()), axis=1)
    return X_raw, list(columns), {g: tuple(i) for g, i in groups.items()}, codes


def _undersample(tr: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The training rows with the majority class cut to the minority's count."""
    counts = np.bincount(y[tr], minlength=2)
    minority = int(np.argmin(counts))
    keep_major = np.random.default_rng(SEED).choice(
        tr[y[tr] != minority], size=int(counts.min()), replace=False
    )
    return np.sort(np.concatenate([tr[y[tr] == minority], keep_major]))


def _missingness(frame: pd.DataFrame) -> dict[str, object]:
    """The missing-value rule and each variable's share of stays without a value."""
    rates = {
        var: round(float((frame[f"{var}_count"] == 0).mean()), 4) for var in TIME_SERIES
    }
    rates.update(
        {
            var: round(float(frame[var].isna().mean()), 4)
            for var in ("Age", "Gender", "Height")
        }
    )
    return {
        "rule": (
            "negative values (-1 marks a missing descriptor) and values outside "
            "the plausible range are missing; a variable with no valid "
            "measurement in 48 h has <var>_missing = 1, count 0 and its "
            "summaries imputed with the training median (computed before "
            "balancing); Age, Gender, Height likewise"
        ),
        "missing_rate": rates,
    }


#: How the stays are split, as recorded in ``info["split"]``.
_SPLIT = {
    "seed": SEED,
    "val": 0.1,
    "test": 0.2,
    "of": "set a, grouped by RecordID; set c (if used) all in train",
}


def _split(frame: pd.DataFrame, n_a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Set a (the first ``n_a`` stays) split by :data:`_SPLIT`, stratified on
    the label and grouped by RecordID; every stay of set c goes to train."""
    y_a = frame["death"].to_numpy(np.int64)[:n_a]
    records_a = frame["record"].to_numpy(np.int64)[:n_a]
    tr, va, te = split_indices(
        y_a, val=_SPLIT["val"], test=_SPLIT["test"], seed=SEED, groups=records_a
    )
    return np.concatenate([tr, np.arange(n_a, len(frame))]), va, te


def _model_inputs(
    X_raw: np.ndarray, tr: np.ndarray
) -> tuple[np.ndarray, Preprocessing, np.ndarray]:
    """Robust scaling and median imputation fitted on the training rows ``tr``.

    Raises
    ------
    DataCorruptError
        A feature has no valid value in the training split.
    """
    if np.isnan(X_raw[tr]).all(axis=0).any():
        raise DataCorruptError(
            "PhysioNet 2012: a variable has no valid value in the training split."
        )
    return scale_and_impute(
        X_raw,
        tr,
        scaling="robust",
        fill=fill_values(X_raw[tr], "median"),
        description=(
            "impossible values set to missing; per-variable first/last/min/max/mean/"
            "count over 48 h; median/IQR scaling fitted on the observed training "
            "values; missing summaries imputed with the training median (0 after "
            "scaling) plus a <var>_missing indicator"
        ),
    )


def _units(
    names: list[str], codes: dict[str, str]
) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """Units and normal ranges of the clinical features; counts and indicators."""
    units, ranges = units_and_ranges(codes)
    units.update({n: "count" for n in names if n.endswith("_count")})
    units.update({n: "indicator" for n in names if n not in units})
    return units, ranges


def _build(files: dict, *, include_set_c: bool, balance: bool) -> Dataset:
    frame, n_a, reports = _load_sets(files, bool(include_set_c))
    use_c = len(reports) == 2
    y = frame["death"].to_numpy(np.int64)
    records = frame["record"].to_numpy(np.int64)
    tr, va, te = _split(frame, n_a)
    icu_in_a = bool(frame["ICUType"].iloc[:n_a].notna().any())
    X_raw, names, groups, codes = _feature_matrix(frame, icu_in_a)
    # Scale and impute with the training split before any balancing.
    X, prep, absent = _model_inputs(X_raw, tr)
    train_counts = np.bincount(y[tr], minlength=2).tolist()
    if balance:
        tr = _undersample(tr, y)
    units, ranges = _units(names, codes)
    splits = make_splits(
        (tr, va, te),
        y=y,
        ids=records,
        X=X,
        imputed=absent,
        meta={
            "set": frame["set"].to_numpy(str),
            "saps_i": frame["saps_i"].to_numpy(float),
            "sofa": frame["sofa"].to_numpy(float),
        },
    )
    return Dataset(
        name="icu_physionet2012",
        task="binary",
        modality="tabular",
        class_names=("survived", "in-hospital death"),
        feature_names=tuple(names),
        feature_groups=groups,
        units=units,
        normal_ranges=ranges,
        preprocessing=prep,
        description=(
            "PhysioNet/CinC Challenge 2012: summaries (first, last, min, max, mean, "
            "count) of 36 vitals and labs over the first 48 h of ICU stays plus age, "
            "sex and height; label = in-hospital death."
            + (" Set c is extra training data." if use_c else "")
        ),
        source="PhysioNet/CinC Challenge 2012 (https://physionet.org/content/challenge-2012/1.0.0/)",
        info={
            "label": "In-hospital_death from Outcomes-<set>.txt",
            "sets": {"a": n_a, "c": len(frame) - n_a},
            "set_c_used": use_c,
            "split": dict(_SPLIT),
            "balance": bool(balance),
            "train_class_counts_before_balance": train_counts,
            "icu_type": (
                "one-hot"
                if icu_in_a
                else "dropped: no stay of set a has an ICUType descriptor in these files"
            ),
            "missingness": _missingness(frame),
            "plausible_ranges": {k: list(v) for k, v in PLAUSIBLE.items()},
            "cleaning": reports,
            "clinical_variable": codes,
        },
        **splits,
    )


register(
    DatasetSpec(
        name="icu_physionet2012",
        task="binary",
        modality="tabular",
        summary="PhysioNet 2012 ICU in-hospital mortality (48 h of vitals and labs)",
        source="physionet.org/content/challenge-2012/1.0.0/",
        build=_build,
        # Set c is optional: the canonical download fetches both sets, a data
        # home with set a alone still loads.
        alternatives=(
            (SET_A, OUTCOMES_A, SET_C, OUTCOMES_C),
            (SET_A, OUTCOMES_A),
        ),
        options={"include_set_c": True, "balance": False},
    )
)
