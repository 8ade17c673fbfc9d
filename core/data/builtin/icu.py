"""The SUPPORT right-heart-catheterization ICU cohort (SurvSet ``rhc``).

5,735 adult ICU patients of the SUPPORT study (Connors et al., JAMA 1996), as
shipped by the SurvSet package: demographics, comorbidities, admission
diagnoses and day-1 vitals and labs, with survival time in days. This is the
public stand-in for the Neural LASSO paper's MIMIC-III sepsis cohort (Ross,
Lage & Doshi-Velez 2017): the label is death within 30 days, and the sepsis
subgroup is available as its own cohort.

Preprocessing, all fitted on the training split only:

- ``num_wtkilo1 == 0`` (515 patients) means "weight not recorded": set to NaN.
- A numeric column with any missing value gets a ``<column>_missing``
  indicator; its missing values are imputed with the training median.
- ``fac_*`` columns are one-hot encoded (one feature group per column).
- Robust scaling: median / inter-quartile range of the observed training
  values, so an imputed value scales to 0.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from core.data.clinical import units_and_ranges
from core.data.featurize import (
    encode_columns,
    fill_values,
    make_splits,
    scale_and_impute,
)
from core.data.registry import DatasetSpec, register
from core.data.splits import split_indices
from core.data.types import Dataset, Preprocessing
from core.errors import DataCorruptError

SEED = 0
HORIZON_DAYS = 30
#: The primary disease category (``cat1``) that defines the sepsis subgroup.
SEPSIS_CATEGORY = "MOSF w/Sepsis"
COHORTS = ("all", "sepsis")

#: Numeric columns (``num_`` prefix stripped): clinical code, long name.
NUMERIC: dict[str, tuple[str, str]] = {
    "age": ("Age", "Age"),
    "edu": ("Education", "Years of education"),
    "adld3p": ("ADL", "Activities of daily living impaired (ADL index)"),
    "surv2md1": ("SurvEst2m", "SUPPORT model estimate of 2-month survival"),
    "aps1": ("APS", "APACHE III acute physiology score (day 1)"),
    "scoma1": ("ComaScore", "SUPPORT coma score, from Glasgow (day 1)"),
    "meanbp1": ("MAP", "Mean blood pressure (day 1)"),
    "wblc1": ("WBC", "White blood cell count (day 1)"),
    "hrt1": ("HR", "Heart rate (day 1)"),
    "resp1": ("RespRate", "Respiratory rate (day 1)"),
    "temp1": ("Temp", "Temperature (day 1)"),
    "pafi1": ("PaFiO2", "PaO2/FiO2 ratio (day 1)"),
    "alb1": ("Albumin", "Albumin (day 1)"),
    "hema1": ("HCT", "Hematocrit (day 1)"),
    "bili1": ("Bilirubin", "Bilirubin (day 1)"),
    "crea1": ("Creatinine", "Creatinine (day 1)"),
    "sod1": ("Na", "Sodium (day 1)"),
    "pot1": ("K", "Potassium (day 1)"),
    "paco21": ("PaCO2", "PaCO2 (day 1)"),
    "ph1": ("pH", "Arterial pH (day 1)"),
    "wtkilo1": ("Weight", "Weight (day 1)"),
    "urin1": ("Urine24h", "Urine output (day 1, 24 h)"),
}

#: Categorical columns (``fac_`` prefix stripped): long name.
FACTORS: dict[str, str] = {
    "amihx": "Definite myocardial infarction (history)",
    "ca": "Cancer (no / yes / metastatic)",
    "card": "Cardiovascular admission diagnosis",
    "cardiohx": "Cardiovascular symptoms (history)",
    "cat1": "Primary disease category",
    "cat2": "Secondary disease category",
    "chfhx": "Congestive heart failure (history)",
    "chrpulhx": "Chronic pulmonary disease (history)",
    "dementhx": "Dementia, stroke or cerebral infarct, Parkinson's (history)",
    "dnr1": "Do-not-resuscitate status (day 1)",
    "gastr": "Gastrointestinal admission diagnosis",
    "gibledhx": "Upper GI bleeding (history)",
    "hema": "Hematologic admission diagnosis",
    "immunhx": "Immunosuppression, organ transplant, HIV, diabetes... (history)",
    "income": "Income",
    "liverhx": "Cirrhosis or hepatic failure (history)",
    "malighx": "Solid tumour, metastatic disease, leukaemia or lymphoma (history)",
    "meta": "Metabolic admission diagnosis",
    "neuro": "Neurological admission diagnosis",
    "ninsclas": "Medical insurance",
    "ortho": "Orthopedic admission diagnosis",
    "psychhx": "Psychiatric history, active psychosis or severe depression",
    "race": "Race",
    "renal": "Renal admission diagnosis",
    "renalhx": "Chronic renal disease (history)",
    "resp": "Respiratory admission diagnosis",
    "seps": "Sepsis admission diagnosis",
    "sex": "Sex",
    "swang1": "Right heart catheterization in the first 24 h",
    "transhx": "Transfer from another hospital",
    "trauma": "Trauma admission diagnosis",
}


def load_rhc_frame() -> pd.DataFrame:
    """The raw ``rhc`` table from SurvSet, with its columns checked.

    Returns
    -------
    DataFrame
        One row per patient: ``pid``, ``event``, ``time`` (days) and the
        ``num_*`` / ``fac_*`` columns.

    Raises
    ------
    DataCorruptError
        The installed SurvSet's table lacks expected columns.
    """
    from SurvSet.data import SurvLoader

    with warnings.catch_warnings():
        # SurvSet unpickles with a numpy.core path that numpy 2 deprecates.
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        frame = SurvLoader().load_dataset("rhc")["df"]
    expected = (
        ["pid", "event", "time"]
        + [f"num_{c}" for c in NUMERIC]
        + [f"fac_{c}" for c in FACTORS]
    )
    missing = [c for c in expected if c not in frame.columns]
    if missing:
        raise DataCorruptError(
            f"SurvSet's rhc table lacks the columns {', '.join(missing)}; "
            "install the SurvSet version in the project's requirements.txt."
        )
    if not frame["pid"].is_unique:
        raise DataCorruptError("SurvSet's rhc table has repeated patient IDs (pid).")
    return frame


#: How the patients are split, as recorded in ``info["split"]``.
_SPLIT = {
    "seed": SEED,
    "val": 0.1,
    "test": 0.2,
    "stratified_on": "label and sepsis flag, whole cohort",
    "grouped_by": "pid",
}


def _cohort_split(
    frame: pd.DataFrame, cohort: str
) -> tuple[pd.DataFrame, tuple[np.ndarray, ...]]:
    """The cohort's rows and their train / validation / test positions.

    The whole cohort is split by :data:`_SPLIT`, stratified on label and
    sepsis, then restricted: a sepsis patient lands in the same split under
    both cohorts.
    """
    y = _label(frame)
    sepsis = _sepsis(frame)
    pid = frame["pid"].to_numpy(np.int64)
    parts = split_indices(
        y + 2 * sepsis, val=_SPLIT["val"], test=_SPLIT["test"], seed=SEED, groups=pid
    )
    if cohort == "sepsis":
        parts = tuple(idx[sepsis[idx]] for idx in parts)
    rows = np.sort(np.concatenate(parts))
    position = np.full(len(frame), -1)
    position[rows] = np.arange(rows.size)
    return (
        frame.iloc[rows].reset_index(drop=True),
        tuple(position[idx] for idx in parts),
    )


def _label(frame: pd.DataFrame) -> np.ndarray:
    event = frame["event"].to_numpy(np.int64)
    time = frame["time"].to_numpy(np.int64)
    return ((event == 1) & (time <= HORIZON_DAYS)).astype(np.int64)


def _sepsis(frame: pd.DataFrame) -> np.ndarray:
    return frame["fac_cat1"].astype("string").str.contains("Sepsis").to_numpy(bool)


def _feature_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Numeric then categorical columns, prefixes stripped, weight 0 as missing.

    Returns the frame and how many weights of 0 were set to missing.
    """
    numeric = frame[[f"num_{c}" for c in NUMERIC]].rename(columns=lambda c: c[4:])
    numeric = numeric.astype(np.float64)
    zero_weight = int((numeric["wtkilo1"] == 0).sum())
    numeric.loc[numeric["wtkilo1"] == 0, "wtkilo1"] = np.nan
    factors = frame[[f"fac_{c}" for c in FACTORS]].rename(columns=lambda c: c[4:])
    return pd.concat([numeric, factors], axis=1), zero_weight


def _model_inputs(
    features: pd.DataFrame, tr: np.ndarray
) -> tuple[
    np.ndarray,
    Preprocessing,
    np.ndarray,
    list[str],
    dict[str, tuple[int, ...]],
    np.ndarray,
]:
    """Encode, fill and scale ``features``, fitted on the training rows ``tr``.

    Returns
    -------
    X : array of shape (n_patients, n_features), float32
    preprocessing : Preprocessing
    imputed : array of shape (n_patients, n_features), bool
    names : list of str
    groups : dict of str to tuple of int
    fill : array of shape (n_features,)
        The training median each feature's missing values were filled with.
    """
    X_raw, names, groups = encode_columns(
        features, list(FACTORS), missing_indicators=True
    )
    fill = fill_values(X_raw[tr], "median")
    X, prep, imputed = scale_and_impute(
        X_raw,
        tr,
        scaling="robust",
        fill=fill,
        description=(
            "num_wtkilo1 == 0 set to missing; median/IQR scaling fitted on the "
            "observed training values; missing numeric values imputed with the "
            "training median (0 after scaling) plus a <column>_missing indicator; "
            "fac_* one-hot"
        ),
    )
    return X, prep, imputed, names, groups, fill


def _missingness(
    features: pd.DataFrame, names: list[str], fill: np.ndarray, zero_weight: int
) -> dict[str, object]:
    """The missing-value rule, counts per numeric column and their fill values.

    Parameters
    ----------
    features : DataFrame
        As returned by :func:`_feature_frame`.
    names : list of str
        Feature names, one per entry of ``fill``.
    fill : array of shape (n_features,)
        The training medians missing values were filled with.
    zero_weight : int
        How many weights of 0 were set to missing.
    """
    missing_counts = {
        col: int(features[col].isna().sum())
        for col in NUMERIC
        if features[col].isna().any()
    }
    return {
        "rule": (
            "num_wtkilo1 == 0 means not recorded and is set to missing; "
            "every numeric column with a missing value gets a "
            "<column>_missing indicator and its missing values are "
            "imputed with the training median"
        ),
        "missing_counts": missing_counts,
        "train_medians": {col: float(fill[names.index(col)]) for col in missing_counts},
        "wtkilo1_zero_as_missing": zero_weight,
    }


def _build(files: dict, *, cohort: str) -> Dataset:
    if cohort not in COHORTS:
        raise ValueError(f"cohort must be one of {', '.join(COHORTS)}, got {cohort!r}")
    frame, (tr, va, te) = _cohort_split(load_rhc_frame(), cohort)
    pid = frame["pid"].to_numpy(np.int64)
    event = frame["event"].to_numpy(np.int64)
    time = frame["time"].to_numpy(np.int64)
    y, sepsis = _label(frame), _sepsis(frame)

    features, zero_weight = _feature_frame(frame)
    X, prep, imputed, names, groups, fill = _model_inputs(features, tr)
    codes = {col: NUMERIC[col][0] for col in NUMERIC}
    units, ranges = units_and_ranges(codes)
    units.update({n: "indicator" for n in names if n not in units})
    splits = make_splits(
        (tr, va, te),
        y=y,
        ids=pid,
        X=X,
        imputed=imputed,
        meta={"sepsis": sepsis, "time": time, "event": event},
    )
    return Dataset(
        name="icu_rhc",
        task="binary",
        modality="tabular",
        class_names=("survived 30 days", "died within 30 days"),
        feature_names=tuple(names),
        feature_groups=groups,
        units=units,
        normal_ranges=ranges,
        preprocessing=prep,
        description=(
            "SUPPORT right-heart-catheterization cohort (5,735 ICU patients): "
            "day-1 vitals and labs, demographics, comorbidities and admission "
            "diagnoses; label = death within 30 days"
            + (
                " (sepsis subgroup: primary category MOSF w/Sepsis)."
                if cohort == "sepsis"
                else "."
            )
        ),
        source="SurvSet package, dataset rhc (https://hbiostat.org/data/repo/rhc.html)",
        info={
            "cohort": cohort,
            "label": f"event == 1 and time <= {HORIZON_DAYS} days",
            "censored_before_horizon": int(
                ((event == 0) & (time <= HORIZON_DAYS)).sum()
            ),
            "sepsis_definition": f"primary disease category cat1 == {SEPSIS_CATEGORY!r}",
            "split": dict(_SPLIT),
            "missingness": _missingness(features, names, fill, zero_weight),
            "long_names": {
                **{c: NUMERIC[c][1] for c in NUMERIC},
                **{c: FACTORS[c] for c in FACTORS},
            },
            "clinical_variable": codes,
        },
        **splits,
    )


register(
    DatasetSpec(
        name="icu_rhc",
        task="binary",
        modality="tabular",
        summary="SUPPORT RHC ICU cohort, 30-day mortality (5,735 patients)",
        source="SurvSet package (rhc)",
        build=_build,
        packages=("SurvSet",),
        options={"cohort": "all"},
    )
)
