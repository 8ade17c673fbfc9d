"""Training with composable penalties, early stopping and progress reporting.

References
----------
Ross, Lage & Doshi-Velez (2017): Adam (lr 1e-3), batch 128; 100 epochs on the
sparse synthetic set, 5 on MNIST, 25 on CIFAR-10 (SGD, momentum 0.9, lr 0.01
halved every epoch after the 10th), 32 on the others.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch import nn

from core.data import Dataset, Split
from core.data.builtin.images import pixels
from core.errors import SparseLensError
from core.training.gradients import evaluating
from core.training.metrics import (
    auc_and_accuracy,
    evaluate,
    predict_proba,
    surviving_features,
)
from core.training.models import build_model
from core.training.penalties import GroupLasso, Penalty
from core.training.store import StoredModel, save_model

#: ``progress(epoch, epochs, record)`` after every epoch (``record``: that
#: epoch's losses, validation metrics and seconds).
Progress = Callable[[int, int, dict], None]


class TrainingDivergedError(SparseLensError):
    """The loss became NaN or infinite; nothing was stored."""


@dataclass(frozen=True)
class TrainConfig:
    """How to train. ``None`` fields take the paper's default for the setting.

    Attributes
    ----------
    epochs : int, optional
        100 on ``synthetic``, 5 for ``cnn6``, 25 for ``cnn9``, else 32.
    optimizer : {"adam", "sgd"}, optional
        SGD with momentum 0.9 and the halving schedule for ``cnn9``, else Adam.
    lr : float, optional
        1e-3 for Adam, 1e-2 for SGD.
    patience : int, optional
        Stop after this many epochs without a lower validation objective
        (cross-entropy plus the penalties, i.e. what training minimises) and
        keep the best epoch; None trains every epoch and keeps the best.
        Monitoring the regularised objective, not AUC, keeps a sparsity
        penalty from being undone by restoring an early, dense epoch.
    """

    epochs: int | None = None
    batch_size: int = 128
    lr: float | None = None
    optimizer: str | None = None
    patience: int | None = 10
    seed: int = 0

    def resolved(self, dataset: str, architecture: str) -> TrainConfig:
        epochs = self.epochs or default_epochs(dataset, architecture)
        optimizer = self.optimizer or ("sgd" if architecture == "cnn9" else "adam")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        lr = self.lr or (1e-2 if optimizer == "sgd" else 1e-3)
        if epochs < 1 or self.batch_size < 2 or lr <= 0:
            raise ValueError(
                f"Need epochs ≥ 1, batch_size ≥ 2 and lr > 0; got {epochs}, "
                f"{self.batch_size}, {lr}"
            )
        return replace(self, epochs=epochs, optimizer=optimizer, lr=lr)


def default_epochs(dataset: str, architecture: str) -> int:
    if architecture == "cnn6":
        return 5
    if architecture == "cnn9":
        return 25
    return 100 if dataset == "synthetic" else 32


def model_inputs(split: Split) -> np.ndarray:
    """The flat float32 inputs models take: ``X``, or the pixels of ``images``."""
    if split.X is not None:
        return split.X
    if split.images is not None:
        return pixels(split.images)
    raise ValueError(
        "This dataset has raw text but no feature matrix: its features come from "
        "a sentence encoder (sparse decision layers), not from these models."
    )


@dataclass
class TrainResult:
    model: nn.Module
    architecture: str
    arch_kwargs: dict
    penalties: Sequence[Penalty]
    config: TrainConfig
    history: list[dict]
    best_epoch: int
    val_metrics: dict[str, float]
    test_metrics: dict[str, float]
    extras: dict = field(default_factory=dict)


def step_sizes(
    opt: torch.optim.Optimizer,
) -> Callable[[torch.Tensor], float | torch.Tensor]:
    """The step size the optimizer's last step used on each entry of a parameter.

    SGD: the learning rate. Adam: ``lr / (√v̂ + ε)`` per entry, with v̂ the
    bias-corrected second moment (the update was that times the first moment).
    """

    def step(param: torch.Tensor) -> float | torch.Tensor:
        group = next(
            g for g in opt.param_groups if any(p is param for p in g["params"])
        )
        state = opt.state.get(param, {})
        if not isinstance(opt, torch.optim.Adam) or "exp_avg_sq" not in state:
            return group["lr"]
        beta2 = group["betas"][1]
        v_hat = state["exp_avg_sq"] / (1 - beta2 ** float(state["step"]))
        return group["lr"] / (v_hat.sqrt() + group["eps"])

    return step


def validation_objective(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    penalties: Sequence[Penalty],
    batch_size: int = 1024,
) -> float:
    """Mean cross-entropy plus every penalty's value, in eval mode."""
    needs_grad = any(p.needs_input_grad for p in penalties)
    total = 0.0
    with evaluating(model), torch.set_grad_enabled(needs_grad):
        for start in range(0, len(X), batch_size):
            x = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32)
            x.requires_grad_(needs_grad)
            logits = model(x)
            target = torch.as_tensor(y[start : start + batch_size], dtype=torch.long)
            loss = nn.functional.cross_entropy(logits, target)
            loss = loss + sum(p.value(model, x, logits) for p in penalties)
            total += loss.item() * len(x)
    return total / len(X)


def train(
    ds: Dataset,
    architecture: str,
    penalties: Sequence[Penalty] = (),
    config: TrainConfig = TrainConfig(),
    *,
    progress: Progress | None = None,
) -> TrainResult:
    """Train ``architecture`` on ``ds`` with ``penalties``; keep the best epoch.

    Returns
    -------
    TrainResult
        The model in eval mode (best validation epoch), per-epoch history and
        validation / test metrics (AUC, accuracy, ‖θ‖₁, D_eff).

    Raises
    ------
    TrainingDivergedError
        The loss became non-finite (the message says when and what to try).
    ValueError
        Bad configuration, a text dataset without features, or a penalty that
        does not fit the architecture.
    """
    cfg = config.resolved(ds.name, architecture)
    X_tr, X_va = model_inputs(ds.train), model_inputs(ds.val)
    arch_kwargs = {"n_features": int(X_tr.shape[1]), "n_classes": ds.n_classes}
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = build_model(architecture, **arch_kwargs)
    opt, schedule = _optimizer(model, cfg)
    Xt = torch.as_tensor(X_tr, dtype=torch.float32)
    yt = torch.as_tensor(ds.train.y, dtype=torch.long)

    first = torch.as_tensor(rng.permutation(len(Xt))[: cfg.batch_size])
    _calibrate(model, penalties, Xt[first], yt[first])

    history: list[dict] = []
    best = (math.inf, 0, copy.deepcopy(model.state_dict()))
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        order = torch.as_tensor(rng.permutation(len(Xt)))
        ce, loss = _train_epoch(model, opt, penalties, Xt, yt, order, cfg, epoch)
        if schedule is not None:
            schedule.step()
        val_auc, val_acc = auc_and_accuracy(predict_proba(model, X_va), ds.val.y)
        objective = validation_objective(model, X_va, ds.val.y, penalties)
        record = {
            "epoch": epoch,
            "train_ce": ce,
            "train_loss": loss,
            "val_objective": objective,
            "val_auc": val_auc,
            "val_accuracy": val_acc,
            "seconds": time.perf_counter() - start,
        }
        history.append(record)
        if progress is not None:
            progress(epoch, cfg.epochs, record)
        if objective < best[0]:
            best = (objective, epoch, copy.deepcopy(model.state_dict()))
        elif cfg.patience is not None and epoch - best[1] >= cfg.patience:
            break

    model.load_state_dict(best[2])
    model.eval()
    result = TrainResult(
        model=model,
        architecture=architecture,
        arch_kwargs=arch_kwargs,
        penalties=list(penalties),
        config=cfg,
        history=history,
        best_epoch=best[1],
        val_metrics=evaluate(model, X_va, ds.val.y),
        test_metrics=evaluate(model, model_inputs(ds.test), ds.test.y),
    )
    if any(isinstance(p, GroupLasso) for p in penalties):
        alive = surviving_features(model, ds.feature_names)
        result.extras["surviving_features"] = alive
        result.test_metrics["n_surviving_features"] = float(len(alive))
    return result


def _calibrate(
    model: nn.Module, penalties: Sequence[Penalty], x0: torch.Tensor, y0: torch.Tensor
) -> None:
    """Let each penalty set its scale on the first batch (e.g. λ_∇ = r·CE₀/G₀)."""
    model.train()
    x0 = x0.requires_grad_(any(p.needs_input_grad for p in penalties))
    ce0 = nn.functional.cross_entropy(model(x0), y0).detach()
    for p in penalties:
        p.calibrate(model, x0, ce0)


def _optimizer(
    model: nn.Module, cfg: TrainConfig
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """Adam, or SGD with momentum and the paper's CIFAR schedule (``cfg`` resolved)."""
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9)
        # The paper's CIFAR schedule: constant for 10 epochs, then halved each epoch.
        schedule = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda e: 0.5 ** max(0, e - 9)
        )
        return opt, schedule
    return torch.optim.Adam(model.parameters(), lr=cfg.lr), None


def _train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    penalties: Sequence[Penalty],
    Xt: torch.Tensor,
    yt: torch.Tensor,
    order: torch.Tensor,
    cfg: TrainConfig,
    epoch: int,
) -> tuple[float, float]:
    """One pass over the training set in ``order``: a step and the proximal steps
    per batch.

    Returns
    -------
    train_ce, train_loss : float
        Mean cross-entropy and mean penalised loss over the epoch's examples.

    Raises
    ------
    TrainingDivergedError
        The loss of a batch is not finite.
    """
    model.train()
    needs_grad = any(p.needs_input_grad for p in penalties)
    sums = np.zeros(2)
    for b, idx in enumerate(order.split(cfg.batch_size)):
        if len(idx) < 2:
            continue  # batch norm cannot train on a single example
        x = Xt[idx].requires_grad_(needs_grad)
        logits = model(x)
        ce = nn.functional.cross_entropy(logits, yt[idx])
        terms = [t for p in penalties if (t := p.term(model, x, logits)) is not None]
        loss = ce + sum(terms) if terms else ce
        if not torch.isfinite(loss):
            raise TrainingDivergedError(
                f"Training diverged at epoch {epoch}, batch {b + 1}: the loss is "
                f"{loss.item()}. Lower the penalty strength or the learning rate; "
                "nothing was stored."
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        for p in penalties:
            p.prox(model, step_sizes(opt))
        sums += (ce.item() * len(idx), loss.item() * len(idx))
    return sums[0] / len(Xt), sums[1] / len(Xt)


def store_result(
    result: TrainResult, ds: Dataset, *, model_id: str | None = None, store=None
) -> StoredModel:
    """Store a trained model with its card (metrics, penalty, configuration)."""
    main = next((p for p in result.penalties if p.name != "none"), None)
    return save_model(
        result.model,
        dataset=ds.name,
        architecture=result.architecture,
        arch_kwargs=result.arch_kwargs,
        penalty=main.name if main else "none",
        strength=main.strength if main else 0.0,
        seed=result.config.seed,
        metrics={
            **result.test_metrics,
            **{f"val_{k}": v for k, v in result.val_metrics.items()},
        },
        training={
            "config": asdict(result.config),
            "penalties": [p.describe() for p in result.penalties],
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "seconds": round(sum(h["seconds"] for h in result.history), 2),
            **result.extras,
        },
        model_id=model_id,
        store=store,
    )
