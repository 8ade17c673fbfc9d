"""The Neural LASSO Table 1 comparison: which rows, at which strengths, averaged over seeds.

Strengths are on this implementation's scale (mean cross-entropy per batch; ‖θ‖₁
summed over weight matrices; λ_∇ as the ratio r of the calibration; group LASSO
λ per √|g|), chosen per dataset so that each penalty does visible work at an
AUC close to the best row. The paper's values (e.g. λ_θ = 5e-4) were set on
another loss scale and are not comparable digit for digit.

Scales, as measured on this trainer (docs/table1.md): λ_θ of 1e-4 to 3e-3 for
the MLPs (3e-4 already collapses the synthetic MLP; its row takes 2e-4, the
weakest at which its ‖θ‖₁ is reliably the lowest of the MLPs, at a cost in
AUC); gradient ratios r of
3e-3 to 3e-2 (the paper's r = 0.1 costs 0.1-0.2 AUC on the clinical sets);
group LASSO λ of 1e-3 to 3e-2, compared with Adam's preconditioned step, with a
steep switch from "all features kept" to "none" within a factor of 2-4 (on
``digits`` every λ ≥ 1e-5 switches every pixel off, hence 1e-6 there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.data import Dataset
from core.training.penalties import make_penalty
from core.training.train import TrainConfig, TrainResult, train

COLUMNS = (
    "dataset",
    "model",
    "penalty",
    "strength",
    "auc",
    "accuracy",
    "theta_l1",
    "d_eff",
)
METRICS = ("auc", "accuracy", "theta_l1", "d_eff")


@dataclass(frozen=True)
class Row:
    label: str
    architecture: str
    penalty: str
    strength: float = 0.0


def _tabular_rows(
    lin_l1: float, mlp_l1: float, grad_ratio: float, group: float
) -> tuple[Row, ...]:
    return (
        Row("Linear", "linear", "none"),
        Row("Linear + L1", "linear", "l1_weights", lin_l1),
        Row("MLP normal", "mlp", "none"),
        Row("MLP L1 weights", "mlp", "l1_weights", mlp_l1),
        Row("MLP gradient L1", "mlp", "grad_l1", grad_ratio),
        Row("MLP group LASSO", "mlp", "group_l1", group),
    )


#: Rows per dataset: (linear λ_θ, MLP λ_θ, MLP gradient ratio r, MLP group λ),
#: chosen on validation AUC / sparsity from sweeps of one to three seeds and
#: checked with three-seed ``table1`` runs (docs/table1.md).
ROWS: dict[str, tuple[Row, ...]] = {
    "synthetic": _tabular_rows(1e-2, 2e-4, 3e-2, 1e-3),
    "adult": _tabular_rows(1e-2, 1e-3, 3e-3, 3e-3),
    "icu_rhc": _tabular_rows(1e-2, 1e-3, 2e-2, 1e-2),
    "icu_physionet2012": _tabular_rows(1e-3, 1e-3, 5e-3, 4e-3),
    "breast_cancer": _tabular_rows(1e-1, 3e-3, 1e-2, 3e-2),
    "newsgroups": _tabular_rows(1e-3, 1e-4, 3e-3, 5e-4),
    "digits": _tabular_rows(1e-2, 1e-3, 1e-2, 1e-6),
    "mnist": (
        Row("CNN6 normal", "cnn6", "none"),
        Row("CNN6 gradient L1", "cnn6", "grad_l1", 0.1),
    ),
    "cifar10": (
        Row("CNN9 normal", "cnn9", "none"),
        Row("CNN9 gradient L1", "cnn9", "grad_l1", 0.1),
    ),
}


def rows_for(dataset: str) -> tuple[Row, ...]:
    if dataset not in ROWS:
        raise ValueError(
            f"No Table 1 rows for dataset {dataset!r}; available: {', '.join(ROWS)}"
        )
    return ROWS[dataset]


def train_row(
    ds: Dataset, row: Row, seed: int, epochs: int | None = None, progress=None
) -> TrainResult:
    """Train one Table 1 model (group LASSO uses the dataset's feature groups)."""
    groups = ds.feature_groups if row.penalty == "group_l1" else None
    penalty = make_penalty(row.penalty, row.strength, groups=groups)
    return train(
        ds,
        row.architecture,
        [penalty],
        TrainConfig(epochs=epochs, seed=seed),
        progress=progress,
    )


def table1(
    ds: Dataset,
    seeds: int = 3,
    *,
    epochs: int | None = None,
    rows: tuple[Row, ...] | None = None,
    on_result: Callable[[Row, int, TrainResult], None] | None = None,
) -> pd.DataFrame:
    """Train every row for seeds 0..seeds-1 and average the test metrics.

    Returns
    -------
    DataFrame
        One row per model: :data:`COLUMNS` as means over seeds, plus ``*_sd``
        (sample standard deviation; NaN with one seed) and ``n_seeds``.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1, got {seeds}")
    records = []
    for row in rows or rows_for(ds.name):
        runs = []
        for seed in range(seeds):
            result = train_row(ds, row, seed, epochs)
            runs.append([result.test_metrics[m] for m in METRICS])
            if on_result is not None:
                on_result(row, seed, result)
        values = np.asarray(runs, dtype=float)
        sd = values.std(axis=0, ddof=1) if seeds > 1 else np.full(len(METRICS), np.nan)
        records.append(
            {
                "dataset": ds.name,
                "model": row.label,
                "penalty": row.penalty,
                "strength": row.strength,
                **dict(zip(METRICS, values.mean(axis=0), strict=True)),
                **{f"{m}_sd": s for m, s in zip(METRICS, sd, strict=True)},
                "n_seeds": seeds,
            }
        )
    return pd.DataFrame.from_records(records)


def _mean_sd(record: dict, metric: str, fmt: str) -> str:
    sd = record[f"{metric}_sd"]
    mean = f"{record[metric]:{fmt}}"
    return mean if np.isnan(sd) else f"{mean} ± {sd:{fmt}}"


def to_markdown(table: pd.DataFrame) -> str:
    """The table as Markdown, each metric as ``mean ± sd``."""
    lines = [
        "| dataset | model | penalty | strength | AUC | accuracy | ‖θ‖₁ | D_eff |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.to_dict("records"):
        cells = [
            _mean_sd(r, m, f)
            for m, f in zip(METRICS, (".3f", ".3f", ".1f", ".1f"), strict=True)
        ]
        lines.append(
            f"| {r['dataset']} | {r['model']} | {r['penalty']} | {r['strength']:g} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


def write_table(table: pd.DataFrame, out: Path) -> tuple[Path, Path]:
    """Write ``out`` (CSV) and the same table as Markdown beside it (``.md``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    md = out.with_suffix(".md")
    md.write_text(to_markdown(table))
    return out, md
