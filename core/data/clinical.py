"""Units and adult normal ranges of the ICU variables the loaders use.

One table, keyed by a short canonical code (the PhysioNet 2012 parameter name
where one exists). Loaders map their own column names onto these codes, so a
lab value gets the same unit and normal range in every dataset, and a plot can
shade the normal band (Neural LASSO, Fig. 2).

Normal ranges are conventional adult reference intervals in the variable's
original unit, taken from standard references: MedlinePlus (U.S. National
Library of Medicine) lab test pages, Harrison's Principles of Internal
Medicine (reference values appendix) and the AHA blood-pressure categories.
Laboratories differ slightly; these bands are for display, not for diagnosis.
Demographics, scores and interventions carry a unit but, except where a
single "normal" value is conventional (GCS 15, room-air FiO2), no range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.errors import UnknownNameError

Kind = Literal["vital", "lab", "score", "demographic", "intervention"]


@dataclass(frozen=True)
class ClinicalVariable:
    """One clinical variable.

    Parameters
    ----------
    code : str
        Canonical short code, e.g. ``"HR"``.
    name : str
        Display name, e.g. ``"Heart rate"``.
    unit : str
        Original unit, e.g. ``"bpm"``.
    kind : {"vital", "lab", "score", "demographic", "intervention"}
        Every vital and lab has a normal range with ``low < high``.
    normal : tuple of float, or None
        Adult normal range ``(low, high)`` in ``unit``.
    """

    code: str
    name: str
    unit: str
    kind: Kind
    normal: tuple[float, float] | None = None


def _v(code, name, unit, kind, low=None, high=None) -> ClinicalVariable:
    normal = None if low is None else (float(low), float(high))
    return ClinicalVariable(code, name, unit, kind, normal)


_TABLE = (
    # Vital signs. Heart rate, respiratory rate, temperature: MedlinePlus "Vital
    # signs"; blood pressure: AHA normal/elevated bounds (systolic 90-120,
    # diastolic 60-80 mmHg); MAP 70-100 mmHg (adequate organ perfusion).
    _v("HR", "Heart rate", "bpm", "vital", 60, 100),
    _v("MAP", "Mean arterial pressure (invasive)", "mmHg", "vital", 70, 100),
    _v("SysABP", "Systolic arterial pressure (invasive)", "mmHg", "vital", 90, 120),
    _v("DiasABP", "Diastolic arterial pressure (invasive)", "mmHg", "vital", 60, 80),
    _v("NIMAP", "Mean arterial pressure (cuff)", "mmHg", "vital", 70, 100),
    _v("NISysABP", "Systolic arterial pressure (cuff)", "mmHg", "vital", 90, 120),
    _v("NIDiasABP", "Diastolic arterial pressure (cuff)", "mmHg", "vital", 60, 80),
    _v("Temp", "Temperature", "°C", "vital", 36.1, 37.8),
    _v("RespRate", "Respiratory rate", "/min", "vital", 12, 20),
    # Urine output: oliguria is < 0.5 mL/kg/h (KDIGO); for a 60-100 kg adult
    # that is about 30-100 mL per hour. PhysioNet charts the volume since the
    # last entry (usually hourly); SUPPORT records the day-1 total (0.8-2 L/day).
    _v("Urine", "Urine output (per charting interval)", "mL", "vital", 30, 100),
    _v("Urine24h", "Urine output (24 h)", "mL/day", "vital", 800, 2000),
    _v("SaO2", "Arterial O2 saturation", "%", "vital", 95, 100),
    # Blood gases (MedlinePlus "Blood gases").
    _v("pH", "Arterial pH", "unitless", "lab", 7.35, 7.45),
    _v("PaCO2", "Arterial CO2 partial pressure", "mmHg", "lab", 35, 45),
    _v("PaO2", "Arterial O2 partial pressure", "mmHg", "lab", 75, 100),
    # Berlin ARDS definition: P/F > 300 is not ARDS; healthy lungs on room air
    # give about 400-500 mmHg.
    _v("PaFiO2", "PaO2/FiO2 ratio", "mmHg", "lab", 400, 500),
    _v("HCO3", "Bicarbonate", "mmol/L", "lab", 22, 28),
    _v("Lactate", "Lactate", "mmol/L", "lab", 0.5, 2.2),
    # Chemistry (MedlinePlus: BMP / CMP, liver function tests, lipid panel).
    _v("Na", "Sodium", "mmol/L", "lab", 135, 145),
    _v("K", "Potassium", "mmol/L", "lab", 3.5, 5.0),
    _v("Mg", "Magnesium", "mg/dL", "lab", 1.7, 2.2),
    _v("Glucose", "Glucose", "mg/dL", "lab", 70, 140),
    _v("BUN", "Blood urea nitrogen", "mg/dL", "lab", 7, 20),
    _v("Creatinine", "Creatinine", "mg/dL", "lab", 0.6, 1.2),
    _v("Bilirubin", "Total bilirubin", "mg/dL", "lab", 0.1, 1.2),
    _v("Albumin", "Albumin", "g/dL", "lab", 3.5, 5.0),
    _v("ALP", "Alkaline phosphatase", "IU/L", "lab", 44, 147),
    _v("ALT", "Alanine transaminase", "IU/L", "lab", 4, 36),
    _v("AST", "Aspartate transaminase", "IU/L", "lab", 8, 33),
    _v("Cholesterol", "Total cholesterol", "mg/dL", "lab", 125, 200),
    # Cardiac troponins: at or below the assay's 99th percentile upper
    # reference limit (conventional assays: cTnI 0.04, cTnT 0.01 ng/mL).
    _v("TroponinI", "Troponin I", "ng/mL", "lab", 0, 0.04),
    _v("TroponinT", "Troponin T", "ng/mL", "lab", 0, 0.01),
    # Haematology (MedlinePlus "CBC").
    _v("HCT", "Hematocrit", "%", "lab", 36, 50),
    _v("WBC", "White blood cell count", "×10³/µL", "lab", 4.5, 11),
    _v("Platelets", "Platelet count", "×10³/µL", "lab", 150, 400),
    # Scores. GCS 15 is fully conscious; the band has zero width by design.
    _v("GCS", "Glasgow coma scale", "points (3-15)", "score", 15, 15),
    _v("APS", "APACHE III acute physiology score", "points", "score"),
    _v("ComaScore", "SUPPORT coma score (from GCS)", "points (0-100)", "score"),
    _v("SurvEst2m", "SUPPORT model 2-month survival estimate", "probability", "score"),
    _v("ADL", "Activities of daily living impaired", "count (0-7)", "score"),
    # Interventions. Room air is FiO2 0.21; anything above is supplemental O2.
    _v("FiO2", "Fraction of inspired O2", "fraction", "intervention", 0.21, 0.21),
    _v("MechVent", "Mechanical ventilation", "indicator", "intervention"),
    # Demographics and anthropometrics: a normal weight depends on height.
    _v("Age", "Age", "years", "demographic"),
    _v("Gender", "Sex (1 = male)", "indicator", "demographic"),
    _v("Height", "Height", "cm", "demographic"),
    _v("Weight", "Weight", "kg", "demographic"),
    _v("ICUType", "ICU type", "category", "demographic"),
    _v("Education", "Years of education", "years", "demographic"),
    # Added for the MIMIC-III sepsis layout of Raghu et al. (2017), whose 47
    # features include these. Chemistry and coagulation: MedlinePlus (chloride,
    # calcium, ionized calcium, CO2, hemoglobin, PT/INR, PTT); base excess
    # -2..+2 mmol/L (Harrison's). Urine: about 0.5-1 mL/kg/h for a 60-100 kg
    # adult over a 4-hour slice. Shock index: HR / systolic BP, 0.5-0.7 normal.
    _v("SpO2", "Peripheral O2 saturation (pulse oximetry)", "%", "vital", 95, 100),
    _v("Urine4h", "Urine output (4-hour slice)", "mL", "vital", 120, 400),
    _v("Cl", "Chloride", "mmol/L", "lab", 98, 106),
    _v("Ca", "Calcium (total)", "mg/dL", "lab", 8.5, 10.2),
    _v("IonCa", "Ionized calcium", "mmol/L", "lab", 1.12, 1.32),
    _v("CO2", "Total CO2 (serum bicarbonate)", "mmol/L", "lab", 23, 29),
    _v("Hb", "Hemoglobin", "g/dL", "lab", 12, 17.5),
    _v("PT", "Prothrombin time", "s", "lab", 11, 13.5),
    _v("PTT", "Partial thromboplastin time", "s", "lab", 25, 35),
    _v("INR", "International normalized ratio", "ratio", "lab", 0.8, 1.1),
    _v("BE", "Arterial base excess", "mmol/L", "lab", -2, 2),
    _v("SOFA", "Sequential organ failure assessment", "points (0-24)", "score"),
    _v("SIRS", "SIRS criteria met", "count (0-4)", "score"),
    _v("ShockIndex", "Shock index (HR / systolic BP)", "bpm/mmHg", "score", 0.5, 0.7),
    _v("Elixhauser", "Elixhauser comorbidity score", "points", "score"),
    _v("Readmission", "ICU readmission", "indicator", "demographic"),
    # A running total charted with the fluid balance: no normal value.
    _v("UrineTotal", "Urine output (cumulative)", "mL", "intervention"),
)

#: Every clinical variable, keyed by its code.
CLINICAL_VARIABLES: Mapping[str, ClinicalVariable] = {v.code: v for v in _TABLE}


def clinical_variable(code: str) -> ClinicalVariable:
    """The clinical variable with this code.

    Raises
    ------
    UnknownNameError
        The code is not in :data:`CLINICAL_VARIABLES`.
    """
    try:
        return CLINICAL_VARIABLES[code]
    except KeyError:
        raise UnknownNameError(
            f"Unknown clinical variable {code!r}; known: {', '.join(CLINICAL_VARIABLES)}."
        ) from None


def units_and_ranges(
    codes: Mapping[str, str],
) -> tuple[dict[str, str], dict[str, tuple[float, float]]]:
    """Units and normal ranges of features, from each feature's clinical code.

    Parameters
    ----------
    codes : mapping of str to str
        Feature name to clinical code (e.g. ``{"HR_mean": "HR"}``).

    Returns
    -------
    units : dict of str to str
        Every feature's unit.
    normal_ranges : dict of str to tuple of float
        ``(low, high)`` for the features whose variable has a normal range.
    """
    units, ranges = {}, {}
    for feature, code in codes.items():
        var = clinical_variable(code)
        units[feature] = var.unit
        if var.normal is not None:
            ranges[feature] = var.normal
    return units, ranges
