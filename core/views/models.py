"""Tables about stored models: cards side by side, Table 1 view, training choices.

Pure pandas / numpy over model cards (no torch import needed to read them), so
the dashboard's model tables can be computed and tested without Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.data.types import Dataset
from core.training.penalties import PENALTIES

if TYPE_CHECKING:  # the store imports torch; these tables only read cards
    from core.neural_lasso.table1 import Row
    from core.training.store import ModelCard, StoredModel


def models_table(models: Sequence[StoredModel]) -> pd.DataFrame:
    """One row per stored model, read from its card.

    Returns
    -------
    DataFrame
        Columns ``model_id``, ``architecture``, ``penalty``, ``strength``,
        ``seed``, one column per metric found on any card (prefixed
        ``metric: ``), ``created`` and ``shipped``.
    """
    metric_names: list[str] = []
    for m in models:
        metric_names += [k for k in m.card.metrics if k not in metric_names]
    rows = []
    for m in models:
        c = m.card
        row: dict[str, object] = {
            "model_id": c.model_id,
            "architecture": c.architecture,
            "penalty": c.penalty,
            "strength": c.strength,
            "seed": c.seed,
        }
        row.update({f"metric: {k}": c.metrics.get(k, np.nan) for k in metric_names})
        row.update(created=c.created, shipped=m.shipped)
        rows.append(row)
    columns = ["model_id", "architecture", "penalty", "strength", "seed"]
    columns += [f"metric: {k}" for k in metric_names] + ["created", "shipped"]
    return pd.DataFrame(rows, columns=columns)


#: Penalties the trainer composes (:func:`core.training.penalties.make_penalty` names).
PENALTY_NAMES = tuple(PENALTIES)
PENALTY_LABELS = {
    "none": "none",
    "l1_weights": "L1 on the weights",
    "grad_l1": "L1 on input gradients",
    "group_l1": "group LASSO on the first layer",
}
#: Architectures that read a dataset's flat feature matrix.
FEATURE_ARCHITECTURES = ("linear", "mlp")
#: Image sets and the architectures the paper (or this workbench) trains on them.
IMAGE_ARCHITECTURES = {
    "digits": ("linear", "mlp", "cnn_digits"),
    "mnist": ("cnn6",),
    "cifar10": ("cnn9",),
}


def trainable_architectures(ds: Dataset) -> list[str]:
    """The architectures that can be trained on ``ds``, in display order.

    ``linear`` and ``mlp`` for sets with a feature matrix (tabular, bag-of-words
    text, small images), the matching CNN for the image sets of
    :data:`IMAGE_ARCHITECTURES`, nothing for raw text without features.
    """
    if ds.name in IMAGE_ARCHITECTURES:
        return list(IMAGE_ARCHITECTURES[ds.name])
    if ds.train.X is None:
        return []
    return list(FEATURE_ARCHITECTURES)


def no_training_reason(ds: Dataset) -> str | None:
    """Why no model can be trained on ``ds`` here, or None when one can."""
    if trainable_architectures(ds):
        return None
    if ds.modality == "text":
        return (
            f"{ds.name} holds raw text without a feature matrix, so the linear, "
            "MLP and CNN models trained here cannot read it. Models for text sets "
            "come from the sparse-decision-layer workflow: a sentence encoder's "
            "features with a sparse linear head on top."
        )
    return f"{ds.name} has no inputs the architectures here can read."


def penalties_for(architecture: str) -> list[str]:
    """The penalties that fit ``architecture``.

    Group LASSO acts on the first layer's per-feature weight columns, which
    only models that start with a fully connected layer have.
    """
    if architecture in FEATURE_ARCHITECTURES:
        return list(PENALTY_NAMES)
    return [p for p in PENALTY_NAMES if p != "group_l1"]


def table1_strength(
    rows: Mapping[str, Sequence[Row]], dataset: str, architecture: str, penalty: str
) -> tuple[float, str]:
    """A default strength for a penalty, taken from the Table 1 rows.

    Parameters
    ----------
    rows : mapping of str to sequence of Row
        Table 1 rows per dataset (:data:`core.neural_lasso.table1.ROWS`).
    dataset, architecture, penalty : str

    Returns
    -------
    strength : float
        The row's strength for this dataset, architecture and penalty; failing
        that, the first row with the same architecture and penalty on another
        dataset, then the same penalty on any architecture; 0 for ``"none"`` or
        when no row uses the penalty.
    source : str
        Where the strength came from, in words.
    """
    if penalty == "none":
        return 0.0, "no penalty"
    same = [(d, r) for d, rs in rows.items() for r in rs if r.penalty == penalty]
    for d, r in same:
        if (d, r.architecture) == (dataset, architecture):
            return r.strength, f"the Table 1 strength for {dataset} · {architecture}"
    similar = [(d, r) for d, r in same if r.architecture == architecture] or same
    if similar:
        d, r = similar[0]
        return r.strength, (
            f"no Table 1 row for {dataset} · {architecture}; this is the strength "
            f"of {d} · {r.architecture}"
        )
    return 0.0, f"no Table 1 row uses {penalty}"


#: Metrics averaged over the models of a :func:`table1_view` row.
TABLE1_METRICS = ("auc", "accuracy", "theta_l1", "d_eff")


def _row_label(
    rows: Sequence[Row], architecture: str, penalty: str, strength: float
) -> tuple[int, str]:
    for i, r in enumerate(rows):
        same = (r.architecture, r.penalty) == (architecture, penalty)
        if same and math.isclose(r.strength, strength, rel_tol=1e-9, abs_tol=1e-15):
            return i, r.label
    return len(rows), f"{architecture} · {penalty}"


def table1_view(
    models: Sequence[StoredModel], rows: Sequence[Row] = ()
) -> pd.DataFrame:
    """Stored models grouped like the paper's Table 1, metrics averaged over seeds.

    Parameters
    ----------
    models : sequence of StoredModel
        Usually every stored model of one dataset.
    rows : sequence of Row
        That dataset's Table 1 rows (:func:`core.neural_lasso.table1.rows_for`); a group
        matching a row (architecture, penalty, strength) takes its label and
        its place, other groups follow sorted.

    Returns
    -------
    DataFrame
        One row per (architecture, penalty, strength, epochs): ``model``
        (label), ``architecture``, ``penalty``, ``strength``, ``epochs`` (the
        configured maximum, from ``card.training["config"]``; NaN when the
        card does not say), ``n_models``, ``seeds``,
        the mean of each of :data:`TABLE1_METRICS` over the group's cards and
        its sample standard deviation (``<metric>_sd``, NaN for one model),
        then ``n_surviving_features`` (mean) and ``surviving_features`` (the
        features every group-LASSO model of the group kept, joined by ``", "``;
        empty for other penalties).

    References
    ----------
    Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity
    for Interpretable Explanations", Table 1.
    """
    records = []
    for key, cards in _configurations(models).items():
        arch, penalty, strength, epochs = key
        order, name = _row_label(rows, arch, penalty, strength)
        record = _table1_record(name, key, cards)
        records.append((order, arch, penalty, strength, epochs, record))
    records.sort(key=lambda r: r[:5])
    columns = ["model", "architecture", "penalty", "strength", "epochs"]
    columns += ["n_models", "seeds"]
    columns += [x for m in TABLE1_METRICS for x in (m, f"{m}_sd")]
    columns += ["n_surviving_features", "surviving_features"]
    table = pd.DataFrame([r[-1] for r in records], columns=columns)
    table["surviving_features"] = table["surviving_features"].astype(object)
    return table.fillna({"surviving_features": ""})


#: A training configuration: architecture, penalty, strength, epochs (0: unknown).
Configuration = tuple[str, str, float, int]


def _configurations(
    models: Sequence[StoredModel],
) -> dict[Configuration, list[ModelCard]]:
    """The models' cards grouped by training configuration, in first-seen order."""
    groups: dict[Configuration, list[ModelCard]] = {}
    for m in models:
        c = m.card
        epochs = int(c.training.get("config", {}).get("epochs") or 0)  # 0: unknown
        key = (c.architecture, c.penalty, float(c.strength), epochs)
        groups.setdefault(key, []).append(c)
    return groups


def _table1_record(
    name: str, key: Configuration, cards: Sequence[ModelCard]
) -> dict[str, object]:
    """One row of :func:`table1_view`: a configuration, its seeds, mean metrics."""
    arch, penalty, strength, epochs = key
    record: dict[str, object] = {
        "model": name,
        "architecture": arch,
        "penalty": penalty,
        "strength": strength,
        "epochs": epochs or np.nan,
        "n_models": len(cards),
        "seeds": ", ".join(str(s) for s in sorted({c.seed for c in cards})),
    }
    for metric in TABLE1_METRICS:
        values = np.array([c.metrics.get(metric, np.nan) for c in cards], float)
        ok = values[~np.isnan(values)]
        record[metric] = ok.mean() if ok.size else np.nan
        record[f"{metric}_sd"] = ok.std(ddof=1) if ok.size > 1 else np.nan
    if penalty == "group_l1":
        record.update(_common_surviving_features(cards))
    return record


def surviving_features_on_card(card: ModelCard) -> list[str] | None:
    """The input features a group-LASSO model kept, as its card records them.

    None when the card does not record them (other penalties, older cards).
    :func:`core.training.metrics.surviving_features` computes them from a
    model's weights at training time.
    """
    kept = card.training.get("surviving_features")
    return None if kept is None else [str(f) for f in kept]


def _common_surviving_features(cards: Sequence[ModelCard]) -> dict[str, object]:
    """Mean number of surviving features, and those every card kept."""
    kept = [k for c in cards if (k := surviving_features_on_card(c)) is not None]
    if not kept:
        return {}
    common = set.intersection(*(set(k) for k in kept))
    return {
        "n_surviving_features": float(np.mean([len(k) for k in kept])),
        "surviving_features": ", ".join(f for f in kept[0] if f in common),
    }
