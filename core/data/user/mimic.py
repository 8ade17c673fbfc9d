"""The Neural LASSO sepsis cohort from a user's own MIMIC-III extract.

MIMIC-III cannot be shipped (its licence requires credentialed access), so
this loader takes a local extract in the layout of Raghu et al.'s
preprocessing (github.com/aniruddhraghu/sepsisrl, after Komorowski et al.'s
AI Clinician cohort): a CSV or Parquet table with one row per 4-hour slice
(``bloc``) of an ICU stay (``icustayid``), the in-hospital mortality label
``died_in_hosp``, and the 47 state features of :data:`FEATURES` in original
units (before that repository's own normalisation). Other columns
(``charttime``, ``mortality_90d``, treatments, ...) are ignored. With a
``subject_id`` column, stays of one patient are grouped too.

As in the Neural LASSO paper (Ross, Lage & Doshi-Velez 2017, §4): robust
standardisation (median / IQR of the training split), classes balanced (the
training split is undersampled to equal counts; validation and test keep the
cohort's prevalence, so their AUC is honest), and the test split held out by
patient (70 / 10 / 20, stratified, grouped by patient or stay). Missing values
(rare in that layout) get the training median and a ``<feature>_missing``
indicator. An ``age`` whose median is over 150 is read as days (the AI
Clinician table stores days) and converted to years.

References
----------
Raghu, Komorowski, Celi, Szolovits & Ghassemi (2017), "Continuous State-Space
Models for Optimal Sepsis Treatment: a Deep Reinforcement Learning Approach",
MLHC. Ross, Lage & Doshi-Velez (2017), "The Neural LASSO", NIPS workshop.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pandas as pd

from core.data.clinical import units_and_ranges
from core.data.types import Dataset
from core.data.user import manifest, profile
from core.data.user.tables import Progress, RawTable, part_of, read_table
from core.data.user.tabular_import import TABLE_FORMATS, TableOptions, build_table
from core.data.user.validate import check_dataset_name
from core.errors import InvalidDataError

LABEL = "died_in_hosp"
STAY = "icustayid"
PATIENT = "subject_id"
CLASS_NAMES = ("survived", "died in hospital")

#: The 47 state features (``data/state_features.txt`` of Raghu et al.'s
#: repository, less ``bloc``) and each one's code in :mod:`core.data.clinical`.
FEATURE_CODES: dict[str, str] = {
    "Albumin": "Albumin",
    "Arterial_BE": "BE",
    "Arterial_lactate": "Lactate",
    "Arterial_pH": "pH",
    "BUN": "BUN",
    "CO2_mEqL": "CO2",
    "Calcium": "Ca",
    "Chloride": "Cl",
    "Creatinine": "Creatinine",
    "DiaBP": "DiasABP",
    "FiO2_1": "FiO2",
    "GCS": "GCS",
    "Glucose": "Glucose",
    "HCO3": "HCO3",
    "HR": "HR",
    "Hb": "Hb",
    "INR": "INR",
    "Ionised_Ca": "IonCa",
    "Magnesium": "Mg",
    "MeanBP": "MAP",
    "PT": "PT",
    "PTT": "PTT",
    "PaO2_FiO2": "PaFiO2",
    "Platelets_count": "Platelets",
    "Potassium": "K",
    "RR": "RespRate",
    "SGOT": "AST",
    "SGPT": "ALT",
    "SIRS": "SIRS",
    "SOFA": "SOFA",
    "Shock_Index": "ShockIndex",
    "Sodium": "Na",
    "SpO2": "SpO2",
    "SysBP": "SysABP",
    "Temp_C": "Temp",
    "Total_bili": "Bilirubin",
    "WBC_count": "WBC",
    "Weight_kg": "Weight",
    "age": "Age",
    "elixhauser": "Elixhauser",
    "gender": "Gender",
    "mechvent": "MechVent",
    "output_4hourly": "Urine4h",
    "output_total": "UrineTotal",
    "paCO2": "PaCO2",
    "paO2": "PaO2",
    "re_admission": "Readmission",
}
FEATURES = tuple(FEATURE_CODES)


def build_mimic(
    raw: RawTable, name: str, *, balance: bool = True, seed: int = 0
) -> tuple[Dataset, list[str]]:
    """The sepsis dataset from a read extract (nothing stored).

    Raises
    ------
    InvalidDataError
        Missing columns, a label other than 0/1, a stay with two labels, or
        any error of :func:`~core.data.user.tabular_import.build_table`.
    """
    _check_extract(raw)
    raw, warnings = _age_in_years(raw)
    frame = raw.frame
    group = PATIENT if PATIENT in frame.columns else STAY
    roles = {c: ("numeric" if c in FEATURE_CODES else "ignore") for c in frame.columns}
    roles.pop(LABEL)
    roles.pop(group)
    options = TableOptions(
        target=LABEL,
        id_column=group,
        roles=roles,
        impute="median",
        indicators=True,
        scaling="robust",
        balance=balance,
        seed=seed,
    )
    ds, more = build_table(raw, name, options)
    units, ranges = units_and_ranges(FEATURE_CODES)
    units.update({n: "indicator" for n in ds.feature_names if n.endswith("_missing")})
    if ds.class_names != ("0", "1"):
        raise InvalidDataError(
            f"{raw.name}: {LABEL} must hold both 0 and 1, found {ds.class_names}."
        )
    info = dict(ds.info)
    info.update(
        layout="Raghu et al. (2017) sepsis extract (MIMIC-III v1.4)",
        label=f"{LABEL} (in-hospital mortality)",
        unit_of_analysis="one 4-hour slice (bloc) of an ICU stay per row",
        clinical_variable=dict(FEATURE_CODES),
        grouped_by=group,
        warnings=[*warnings, *more],
    )
    ds = dataclasses.replace(
        ds,
        class_names=CLASS_NAMES,
        units=units,
        normal_ranges=ranges,
        description=(
            "MIMIC-III sepsis cohort from your extract in the Raghu et al. (2017) "
            "layout: in-hospital mortality from the 47 demographic and 4-hourly "
            "ICU features; robust (median/IQR) scaling, training split balanced "
            f"by undersampling, split by {'patient' if group == PATIENT else 'stay'}."
            if balance
            else "MIMIC-III sepsis cohort from your extract (Raghu et al. layout), "
            "robust scaling, unbalanced training split."
        ),
        info=info,
    )
    return ds, [*warnings, *more]


def _check_extract(raw: RawTable) -> None:
    """Refuse missing columns, a label other than 0/1, a stay with two labels."""
    frame = raw.frame
    missing = [c for c in (STAY, LABEL, *FEATURES) if c not in frame.columns]
    if missing:
        raise InvalidDataError(
            f"{raw.name} lacks {len(missing)} column(s) of the Raghu et al. layout: "
            f"{', '.join(missing[:12])}{' …' if len(missing) > 12 else ''}. Expected "
            f"{STAY}, {LABEL} and the 47 features listed in the README."
        )
    label, _, bad = profile.numbers(frame[LABEL])
    odd = np.flatnonzero(bad | ~np.isin(label, (0.0, 1.0)))
    if odd.size:
        raise InvalidDataError(
            f"{raw.where(int(odd[0]))}: {LABEL} is {frame[LABEL].iloc[odd[0]]!r}; "
            "expected 0 (survived) or 1 (died in hospital)."
        )
    stays = profile.strings(frame[STAY])
    per_stay = pd.Series(label).groupby(stays.to_numpy()).nunique()
    mixed = per_stay.index[per_stay.to_numpy() > 1]
    if len(mixed):
        raise InvalidDataError(
            f"{raw.name}: stay {mixed[0]} has rows with {LABEL} 0 and 1; the label "
            "is per stay, so every row of a stay must carry the same value."
        )


def _age_in_years(raw: RawTable) -> tuple[RawTable, list[str]]:
    """``raw`` with ``age`` in years, and a warning when it was given in days."""
    age, _, _ = profile.numbers(raw.frame["age"])
    if np.nanmedian(age) <= 150:
        return raw, []
    frame = raw.frame.assign(age=pd.Series(age / 365.25))
    warning = "age read as days (median over 150) and converted to years."
    return dataclasses.replace(raw, frame=frame), [warning]


def add_mimic(
    source: str | os.PathLike | bytes,
    *,
    name: str = "mimic_sepsis",
    balance: bool = True,
    filename: str | None = None,
    replace: bool = False,
    progress: Progress | None = None,
) -> manifest.Registered:
    """Read, validate and register a MIMIC-III sepsis extract (see module docs)."""
    check_dataset_name(name)
    raw = read_table(
        source, filename, progress=part_of(progress, 0, 0.6), formats=TABLE_FORMATS
    )
    dataset, warnings = build_mimic(raw, name, balance=balance)
    return manifest.register(
        dataset,
        kind="mimic",
        source=raw.source_record(),
        options={"balance": balance, "layout": "raghu2017"},
        warnings=warnings,
        replace=replace,
        progress=progress,
    )


def synthetic_extract(
    n_stays: int = 60, *, seed: int = 0, age_in_days: bool = False
) -> pd.DataFrame:
    """A made-up table in the extract's layout, for tests and for trying the loader.

    Values are drawn around each variable's normal range (wider for sicker
    stays); mortality rises with lactate, SOFA and age. No real patient is in
    it.

    Returns
    -------
    DataFrame
        ``bloc``, ``icustayid``, ``charttime``, ``died_in_hosp``,
        ``mortality_90d`` and the 47 features, 2 to 6 slices per stay.
    """
    from core.data.clinical import clinical_variable

    rng = np.random.default_rng(seed)
    rows = []
    for stay in range(n_stays):
        severity = rng.uniform(0, 1)
        n_blocs = int(rng.integers(2, 7))
        age = rng.uniform(20, 90)
        gender = int(rng.integers(0, 2))
        risk = -3 + 4 * severity + (age - 55) / 30
        died = int(rng.uniform() < 1 / (1 + np.exp(-risk)))
        for bloc in range(1, n_blocs + 1):
            row: dict[str, object] = {
                "bloc": bloc,
                "icustayid": 200000 + stay,
                "charttime": 7245052800 + 14400 * bloc,
                "died_in_hosp": died,
                "mortality_90d": died,
            }
            for feature, code in FEATURE_CODES.items():
                var = clinical_variable(code)
                if var.normal is not None and var.normal[1] > var.normal[0]:
                    low, high = var.normal
                    mid, half = (low + high) / 2, (high - low) / 2
                    value = mid + half * rng.normal(0, 1 + 2 * severity)
                else:
                    value = rng.normal(5, 2)
                row[feature] = round(float(value), 3)
            row.update(
                age=round(age * (365.25 if age_in_days else 1), 2),
                gender=gender,
                mechvent=int(rng.uniform() < severity),
                re_admission=int(rng.uniform() < 0.1),
                SOFA=int(np.clip(rng.normal(2 + 10 * severity, 2), 0, 24)),
                SIRS=int(rng.integers(0, 5)),
                GCS=int(np.clip(rng.normal(15 - 8 * severity, 2), 3, 15)),
                FiO2_1=round(
                    float(np.clip(0.21 + severity * rng.uniform(), 0.21, 1)), 2
                ),
                Arterial_lactate=round(float(rng.gamma(2, 0.6 + 2 * severity)), 2),
                elixhauser=int(rng.integers(0, 10)),
                output_total=round(float(rng.uniform(0, 4000)), 1),
            )
            rows.append(row)
    order = ["bloc", "icustayid", "charttime", "died_in_hosp", "mortality_90d"]
    frame = pd.DataFrame(rows)
    return frame[order + list(FEATURES)]
