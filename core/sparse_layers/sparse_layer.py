"""Sparse decision layers on deep features: fit, select, compare, store.

A *sparse layer* is the selected model of an elastic-net path fitted on a
dataset's deep features (Wong et al. 2021); the *dense layer* is a lightly
ridge-regularised fit on the same features, for comparison. Both are stored
with the whole path, so the λ sweep never recomputes it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.atomic import atomic_dir
from core.data import load_dataset
from core.errors import SparseLensError
from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers.deep_features import (
    PENULTIMATE,
    FeatureSet,
    Progress,
    extractor_id,
    feature_set,
)
from core.sparse_layers.glm import ElasticNetPath, elastic_net_path
from core.sparse_layers.glm.design import parse_memory
from core.sparse_layers.glm.selection import select_sparse
from core.sparse_layers.layer_scores import path_scores, score_block_rows, topk_scores

#: Sparse layers shipped with the repository (opened read-only).
SHIPPED_DIR = ASSETS_DIR / "sparse_layers"
#: λ of the dense (ridge) layer, relative to nothing: a light ridge on
#: standardised features, enough to keep separable data finite.
DENSE_LAMBDA = 1e-4


@dataclass
class SparseLayer:
    """A path on one dataset's deep features, its selection and a dense layer.

    Attributes
    ----------
    name : str
        ``<dataset>-<features>`` (``:`` replaced by ``-``).
    dataset, features : str
    path : ElasticNetPath
    dense : ElasticNetPath
        One λ (``DENSE_LAMBDA``), α = 0.
    selected : int
        Index of the sparse layer on the path.
    tolerance : float
        The selection rule's accuracy tolerance.
    test_accuracy : array of shape (K,)
        Each λ's test accuracy (train/validation are in the path's diagnostics).
    dense_accuracy : dict
        ``train``, ``val`` and ``test`` accuracy of the dense layer.
    topk : list of dict
        Test accuracy of the dense and the sparse layer with all features, each
        class's top-k only, and the rest (:func:`topk_table`).
    encoder : str or None
        Content id of the sentence encoder or model the features came from
        (:func:`~core.sparse_layers.deep_features.extractor_id`); None for a
        dataset's own features and for layers stored before it was recorded.
    """

    name: str
    dataset: str
    features: str
    path: ElasticNetPath
    dense: ElasticNetPath
    selected: int
    tolerance: float
    test_accuracy: np.ndarray
    dense_accuracy: dict
    topk: list[dict]
    encoder: str | None = None

    def save(self, folder: Path) -> Path:
        with atomic_dir(folder) as tmp:
            self.path.save(tmp / "path")
            self.dense.save(tmp / "dense")
            np.save(tmp / "test_accuracy.npy", self.test_accuracy, allow_pickle=False)
            meta = dict(
                name=self.name,
                dataset=self.dataset,
                features=self.features,
                selected=self.selected,
                tolerance=self.tolerance,
                dense_accuracy=self.dense_accuracy,
                topk=self.topk,
                encoder=self.encoder,
            )
            (tmp / "layer.json").write_text(json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: Path) -> SparseLayer:
        folder = Path(folder)
        try:
            meta = json.loads((folder / "layer.json").read_text())
            return cls(
                path=ElasticNetPath.load(folder / "path"),
                dense=ElasticNetPath.load(folder / "dense"),
                test_accuracy=np.load(folder / "test_accuracy.npy", allow_pickle=False),
                **meta,
            )
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise ValueError(f"{folder} is not a readable sparse layer: {exc}") from exc


def topk_table(
    path: ElasticNetPath,
    selected: int,
    dense: ElasticNetPath,
    fs: FeatureSet,
    ks: tuple[int, ...] = (5, 10),
    block_rows: int = 0,
) -> list[dict]:
    """All / top-k / rest test accuracy of the dense and the sparse layer
    (Wong et al. 2021, Table 2), one row per layer and k; a memory-mapped
    test split is read ``block_rows`` rows at a time."""
    rows = []
    for k in ks:
        for label, p, i in (("dense", dense, 0), ("sparse", path, selected)):
            acc = topk_scores(p, i, fs.X_test, fs.y_test, k, block_rows)
            rows.append({"layer": label, "k": k, **acc})
    return rows


def layer_name(dataset: str, features: str) -> str:
    return f"{dataset}-{features}".replace(":", "-")


def fit_sparse_layer(
    fs: FeatureSet,
    *,
    alpha: float = 0.99,
    n_lambdas: int = 100,
    eps: float = 1e-3,
    tol: float | None = None,
    stop: str = "objective",
    tolerance: float = 0.05,
    max_memory: str | int | None = None,
    progress: Progress | None = None,
) -> SparseLayer:
    """Fit the path (multinomial, validation-scored), select, fit the dense layer.

    With ``max_memory`` (e.g. ``"2GB"``), ``fs`` holds memory-mapped matrices
    (:func:`core.sparse_layers.deep_features.mapped_feature_set`): both paths
    stream the training rows and every split is scored block by block, within
    that budget.
    """
    # The solver would hold the validation pair in memory: a streamed fit is
    # scored on it afterwards, block by block.
    validation = (fs.X_val, fs.y_val) if max_memory is None else None
    fit = dict(
        tol=tol,
        stop=stop,
        validation=validation,
        feature_names=fs.feature_names,
        max_memory=max_memory,
    )
    path = elastic_net_path(
        fs.X_train,
        fs.y_train,
        alpha=alpha,
        n_lambdas=n_lambdas,
        eps=eps,
        progress=progress,
        **fit,
    )
    dense = elastic_net_path(
        fs.X_train, fs.y_train, alpha=0.0, lambdas=[DENSE_LAMBDA], **fit
    )
    block_rows = 0
    if max_memory is not None:
        held = path.coef.nbytes + dense.coef.nbytes + 8 * len(fs.y_test)
        block_rows = score_block_rows(fs.X_test, parse_memory(max_memory), held)
        for p in (path, dense):
            acc, loss = path_scores(p, fs.X_val, fs.y_val, block_rows, loss=True)
            p.diagnostics["val_accuracy"], p.diagnostics["val_loss"] = acc, loss
    test_acc, _ = path_scores(path, fs.X_test, fs.y_test, block_rows)
    dense_acc = {
        "train": float(dense.diagnostics["train_accuracy"][0]),
        "val": float(dense.diagnostics["val_accuracy"][0]),
        "test": float(path_scores(dense, fs.X_test, fs.y_test, block_rows)[0][0]),
    }
    selected = select_sparse(path, tolerance)
    return SparseLayer(
        name=layer_name(fs.dataset, fs.extractor),
        dataset=fs.dataset,
        features=fs.extractor,
        path=path,
        dense=dense,
        selected=selected,
        tolerance=tolerance,
        test_accuracy=test_acc,
        dense_accuracy=dense_acc,
        topk=topk_table(path, selected, dense, fs, block_rows=block_rows),
        encoder=extractor_id(fs.extractor),
    )


def check_encoder(layer: SparseLayer) -> None:
    """Refuse a layer whose sentence encoder or model changed since it was fitted.

    A fine-tuned encoder stored again under the same name (a new
    ``finetune-encoder`` run), or a model trained again under its id, gives
    other features: the layer's weights would then be read against features
    they were never fitted on.

    Raises
    ------
    ValueError
        When the encoder or model found now is not the one the layer recorded.
    """
    if layer.encoder is None:
        return
    now = extractor_id(layer.features)
    if now != layer.encoder:
        kind = "model" if layer.features.startswith(PENULTIMATE) else "encoder"
        again = "trained" if kind == "model" else "fine-tuned"
        raise ValueError(
            f"The sparse layer {layer.name!r} was fitted on the features of {kind} "
            f"{layer.encoder}, but {layer.features!r} is now {kind} {now} (it was "
            f"{again} again since). Refit the layer: python -m core sparse-layer "
            f"--dataset {layer.dataset} --features {layer.features}"
        )


def compute_sparse_layer(
    dataset: str,
    features: str,
    *,
    progress_features: Progress | None = None,
    **kwargs,
) -> tuple[SparseLayer, FeatureSet]:
    """Extract the features, fit, and store under :func:`layers_dir` (replacing
    an earlier layer of the same name)."""
    fs = feature_set(dataset, features, progress=progress_features)
    layer = fit_sparse_layer(fs, **kwargs)
    target = layers_dir() / layer.name
    if target.exists():
        shutil.rmtree(target)
    layer.save(target)
    return layer, fs


def list_layers() -> dict[str, Path]:
    """Stored layers by name; the user's replace shipped ones of the same name."""
    found: dict[str, Path] = {}
    for base in (SHIPPED_DIR, layers_dir()):
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if (folder / "layer.json").is_file():
                    found[folder.name] = folder
    return found


def load_layer(name: str) -> SparseLayer:
    layers = list_layers()
    if name not in layers:
        raise ValueError(
            f"No sparse layer {name!r}; stored: {', '.join(layers) or 'none'}. "
            "Compute one with `python -m core sparse-layer --dataset D --features F`."
        )
    return SparseLayer.load(layers[name])


def class_names(layer: SparseLayer) -> tuple[str, ...]:
    """The names of ``layer``'s classes, from the dataset it was fitted on.

    The dataset may be gone or unreadable (a registered dataset deleted since):
    the path's own class codes are used then, so a layer always has labels.
    """
    from core.data.user.mapped import is_mapped, mapped_features

    try:
        if is_mapped(layer.dataset):
            return mapped_features(layer.dataset).class_names
        return tuple(load_dataset(layer.dataset).class_names)
    except (SparseLensError, ValueError, OSError):
        return tuple(str(c) for c in layer.path.classes)
