"""The result of a path fit: arrays with documented shapes, saved as npz + JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.atomic import atomic_dir
from core.data.types import Preprocessing
from core.sparse_layers.glm.families import get_family
from core.sparse_layers.glm.solvers import objective

#: Per-λ diagnostics, each an array of shape (K,).
DIAGNOSTICS = (
    "objective",
    "gap",
    "kkt",
    "epochs",
    "rounds",
    "converged",
    "seconds",
    "train_loss",
    "train_accuracy",
    "val_loss",
    "val_accuracy",
)


@dataclass
class ElasticNetPath:
    """An elastic-net GLM regularisation path.

    Attributes
    ----------
    lambdas : array of shape (K,)
        Decreasing; ``lambdas[0]`` is λ_max unless λ were given.
    coef : array of shape (K, n_outputs, n_features)
        On the standardised feature scale.
    intercept : array of shape (K, n_outputs)
    alpha : float
    family, solver : str
    tol : float
        The solver's tolerance, in the units of ``stop``.
    classes : array of shape (n_classes,) or None
        The original class labels (output ``j`` of a multinomial fit is
        ``classes[j]``; a binomial fit's single output scores ``classes[1]``).
    feature_names : tuple of str
    center, scale : array of shape (n_features,)
        The standardisation ``(X − center) / scale`` fitted on the training rows.
    diagnostics : dict of str to array of shape (K,)
        ``objective`` (the penalised training objective), ``gap`` (relative
        duality gap reached, NaN for SAGA), ``kkt`` (largest KKT violation,
        the proximal-gradient mapping, relative to ``max |Xᵀ(Y − Ȳ)| / n``;
        NaN for SAGA), ``epochs`` (passes over the data),
        ``rounds`` (working-set rounds), ``converged``, ``seconds``,
        ``train_loss``/``train_accuracy`` and ``val_loss``/``val_accuracy``
        (NaN without validation data; accuracy NaN for ``gaussian``).
    n_train : int
    stop : {"objective", "kkt", "duality_gap"}
        FISTA's stopping rule (what ``tol`` bounded).
    """

    lambdas: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    alpha: float
    family: str
    solver: str
    tol: float
    classes: np.ndarray | None
    feature_names: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    diagnostics: dict[str, np.ndarray] = field(default_factory=dict)
    n_train: int = 0
    stop: str = "objective"

    @classmethod
    def from_records(
        cls,
        records: list[dict],
        *,
        preprocessing: Preprocessing,
        **meta,
    ) -> ElasticNetPath:
        diag = {key: np.array([r[key] for r in records]) for key in DIAGNOSTICS}
        diag["gap"] = diag["gap"] / np.abs(diag["objective"])
        return cls(
            coef=np.stack([r["coef"] for r in records]).astype(np.float32),
            intercept=np.stack([r["intercept"] for r in records]).astype(np.float32),
            center=np.asarray(preprocessing.center, dtype=np.float64),
            scale=np.asarray(preprocessing.scale, dtype=np.float64),
            diagnostics=diag,
            **meta,
        )

    def __len__(self) -> int:
        return len(self.lambdas)

    @property
    def nonzeros(self) -> np.ndarray:
        """Non-zero coefficients per λ and output, shape (K, n_outputs)."""
        return (self.coef != 0).sum(axis=2)

    @property
    def active_features(self) -> np.ndarray:
        """Features used by any output, per λ, shape (K,)."""
        return (self.coef != 0).any(axis=1).sum(axis=1)

    def coef_original(self) -> np.ndarray:
        """Coefficients per original feature unit, shape (K, n_outputs, n_features)."""
        return self.coef / self.scale

    def intercept_original(self) -> np.ndarray:
        """Intercepts for original units, shape (K, n_outputs)."""
        return self.intercept - (self.coef * (self.center / self.scale)).sum(axis=2)

    def decision_function(self, X: np.ndarray, index: int) -> np.ndarray:
        """Linear predictions of the ``index``-th model, shape (n, n_outputs)."""
        Xs = (np.asarray(X, dtype=np.float64) - self.center) / self.scale
        return Xs @ self.coef[index].T.astype(np.float64) + self.intercept[index]

    def predict(self, X: np.ndarray, index: int) -> np.ndarray:
        """Predicted labels (classification) or values (gaussian), shape (n,) or
        (n, n_outputs)."""
        Z = self.decision_function(X, index)
        if self.classes is None:
            return Z
        if self.family == "binomial":
            return self.classes[(Z[:, 0] > 0).astype(int)]
        return self.classes[Z.argmax(axis=1)]

    def standardized(self, X: np.ndarray) -> np.ndarray:
        """Features on the path's standardised scale, float32."""
        return ((np.asarray(X, dtype=np.float64) - self.center) / self.scale).astype(
            np.float32
        )

    def objective(self, X: np.ndarray, y: np.ndarray, index: int) -> float:
        """The penalised objective of the ``index``-th model on ``(X, y)``
        (original units; labels as given to the fit)."""
        fam = get_family(self.family)
        if self.classes is not None:
            y = np.searchsorted(self.classes, np.asarray(y))
        # In float64, so that solvers are compared on their coefficients only.
        Xt = torch.as_tensor((np.asarray(X, np.float64) - self.center) / self.scale)
        Y = fam.targets(torch.as_tensor(y), self.coef.shape[1]).double()
        return objective(
            fam,
            Xt,
            Y,
            torch.as_tensor(self.coef[index], dtype=torch.float64),
            torch.as_tensor(self.intercept[index], dtype=torch.float64),
            float(self.lambdas[index]),
            self.alpha,
        )

    # ----------------------------------------------------------------- storage
    def save(self, folder: Path) -> Path:
        """Write ``path.npz`` and ``path.json`` into ``folder`` atomically."""
        folder = Path(folder)
        arrays = dict(
            lambdas=self.lambdas,
            coef=self.coef,
            intercept=self.intercept,
            center=self.center,
            scale=self.scale,
            **{f"diag_{k}": v for k, v in self.diagnostics.items()},
        )
        if self.classes is not None:
            arrays["classes"] = np.asarray(self.classes)
        meta = dict(
            alpha=self.alpha,
            family=self.family,
            solver=self.solver,
            tol=self.tol,
            stop=self.stop,
            feature_names=list(self.feature_names),
            n_train=self.n_train,
        )
        with atomic_dir(folder) as tmp:
            np.savez_compressed(tmp / "path.npz", **arrays)
            (tmp / "path.json").write_text(json.dumps(meta, indent=1))
        return folder

    @classmethod
    def load(cls, folder: Path) -> ElasticNetPath:
        folder = Path(folder)
        meta = json.loads((folder / "path.json").read_text())
        with np.load(folder / "path.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        diag = {
            k.removeprefix("diag_"): v
            for k, v in arrays.items()
            if k.startswith("diag_")
        }
        return cls(
            lambdas=arrays["lambdas"],
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            center=arrays["center"],
            scale=arrays["scale"],
            classes=arrays.get("classes"),
            diagnostics=diag,
            alpha=meta["alpha"],
            family=meta["family"],
            solver=meta["solver"],
            tol=meta["tol"],
            # Paths saved before the KKT stop existed were stopped on the gap.
            stop=meta.get("stop", "duality_gap"),
            feature_names=tuple(meta["feature_names"]),
            n_train=meta["n_train"],
        )
