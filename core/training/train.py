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
        100 on ``synthetic``, else the architecture's recipe (:data:`RECIPES`),
        else 32.
    batch_size : int, optional
        128 unless the recipe says otherwise.
    optimizer : {"adam", "sgd"}, optional
        SGD with momentum 0.9 for ``cnn9`` and ``airbench``, else Adam.
    lr : float, optional
        The recipe's, else 1e-3 for Adam, 1e-2 for SGD (the peak of a one-cycle
        schedule).
    patience : int, optional
        Stop after this many epochs without a lower validation objective
        (cross-entropy plus the penalties, i.e. what training minimises) and
        keep the best epoch; None trains every epoch and keeps the best.
        Monitoring the regularised objective, not AUC, keeps a sparsity
        penalty from being undone by restoring an early, dense epoch.
    seed : int
        Seeds the weights, the batch order and the augmentation.
    schedule : {"constant", "halving", "onecycle"}, optional
        The learning rate over training: constant (Adam's default), the
        paper's CIFAR halving (SGD's default: constant for 10 epochs, then
        halved each epoch), or one cycle stepped every batch (Smith & Topin
        2019: a warm-up over the first 25 %, then a cosine decay).
    augment : bool, optional
        Random horizontal flips and translations by up to 4 pixels (reflected
        edges) of every training batch; image datasets only.
    label_smoothing : float, optional
        Of the training cross-entropy (0 unless the recipe says otherwise).
    weight_decay : float, optional
        SGD's L2 weight decay (0 unless the recipe says otherwise).
    """

    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    optimizer: str | None = None
    patience: int | None = 10
    seed: int = 0
    schedule: str | None = None
    augment: bool | None = None
    label_smoothing: float | None = None
    weight_decay: float | None = None

    def resolved(self, dataset: str, architecture: str) -> TrainConfig:
        recipe = RECIPES.get(architecture, {})

        def pick(name: str, default: object) -> object:
            value = getattr(self, name)
            return value if value is not None else recipe.get(name, default)

        epochs = self.epochs or default_epochs(dataset, architecture)
        optimizer = pick("optimizer", "adam")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        lr = self.lr or recipe.get("lr") or (1e-2 if optimizer == "sgd" else 1e-3)
        schedule = pick("schedule", "halving" if optimizer == "sgd" else "constant")
        if schedule not in SCHEDULES:
            raise ValueError(
                f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}"
            )
        batch_size = pick("batch_size", 128)
        smoothing, decay = pick("label_smoothing", 0.0), pick("weight_decay", 0.0)
        if epochs < 1 or batch_size < 2 or lr <= 0:
            raise ValueError(
                f"Need epochs ≥ 1, batch_size ≥ 2 and lr > 0; got {epochs}, "
                f"{batch_size}, {lr}"
            )
        if decay and optimizer != "sgd":
            raise ValueError(
                f"weight_decay applies to SGD; the optimizer is {optimizer!r}"
            )
        if not 0 <= smoothing < 1 or decay < 0:
            raise ValueError(
                "Need 0 ≤ label_smoothing < 1 and weight_decay ≥ 0; got "
                f"{smoothing}, {decay}"
            )
        return replace(
            self,
            epochs=epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            lr=lr,
            schedule=schedule,
            augment=bool(pick("augment", False)),
            label_smoothing=smoothing,
            weight_decay=decay,
        )


SCHEDULES = ("constant", "halving", "onecycle")

#: Each architecture's training recipe: what the ``None`` fields of
#: :class:`TrainConfig` resolve to (the others fall back to the defaults there).
#: ``airbench``'s fits 2 CPU cores in under an hour; docs/feature_views.md
#: gives its measured epoch time and the command.
RECIPES: dict[str, dict] = {
    "cnn6": {"epochs": 5},
    "cnn9": {"epochs": 25, "optimizer": "sgd"},
    "airbench": {
        "epochs": 24,
        "batch_size": 512,
        "optimizer": "sgd",
        "lr": 0.4,
        "schedule": "onecycle",
        "augment": True,
        "label_smoothing": 0.2,
        "weight_decay": 5e-4,
    },
}


def default_epochs(dataset: str, architecture: str) -> int:
    if dataset == "synthetic" and architecture not in RECIPES:
        return 100
    return RECIPES.get(architecture, {}).get("epochs", 32)


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
    Xt = torch.as_tensor(X_tr, dtype=torch.float32)
    yt = torch.as_tensor(ds.train.y, dtype=torch.long)
    opt, schedule = _optimizer(model, cfg, math.ceil(len(Xt) / cfg.batch_size))
    augment = _augmenter(ds, cfg) if cfg.augment else None

    first = torch.as_tensor(rng.permutation(len(Xt))[: cfg.batch_size])
    _calibrate(model, penalties, Xt[first], yt[first])

    history: list[dict] = []
    best = (math.inf, 0, copy.deepcopy(model.state_dict()))
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        order = torch.as_tensor(rng.permutation(len(Xt)))
        ce, loss = _train_epoch(
            model, opt, schedule, penalties, Xt, yt, order, cfg, epoch, augment
        )
        if schedule is not None and cfg.schedule == "halving":
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
    model: nn.Module, cfg: TrainConfig, steps_per_epoch: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler | None]:
    """Adam, or SGD with momentum (Nesterov's under a one-cycle schedule), and
    the schedule (``cfg`` resolved): the halving one steps every epoch, the
    one-cycle one every batch."""
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(
            model.parameters(),
            lr=cfg.lr,
            momentum=0.9,
            nesterov=cfg.schedule == "onecycle",
            weight_decay=cfg.weight_decay,
        )
    else:
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    if cfg.schedule == "halving":
        # The paper's CIFAR schedule: constant for 10 epochs, then halved each epoch.
        return opt, torch.optim.lr_scheduler.LambdaLR(
            opt, lambda e: 0.5 ** max(0, e - 9)
        )
    if cfg.schedule == "onecycle":
        return opt, torch.optim.lr_scheduler.OneCycleLR(
            opt,
            max_lr=cfg.lr,
            total_steps=cfg.epochs * steps_per_epoch,
            pct_start=0.25,
            # SGD's momentum stays at 0.9; Adam has no momentum to cycle.
            cycle_momentum=False,
        )
    return opt, None


def _augmenter(ds: Dataset, cfg: TrainConfig) -> Callable[[torch.Tensor], torch.Tensor]:
    """Random flips and translations of flat image batches, seeded by ``cfg``."""
    if ds.train.images is None:
        raise ValueError(
            f"augment flips and shifts images; {ds.name!r} has no images. Train "
            "without it."
        )
    shape = ds.train.images.shape[1:]
    h, w, c = shape if len(shape) == 3 else (*shape, 1)
    gen = torch.Generator().manual_seed(cfg.seed)
    return lambda x: augment_images(x, (h, w, c), gen)


def augment_images(
    x: torch.Tensor, shape: tuple[int, int, int], gen: torch.Generator, pad: int = 4
) -> torch.Tensor:
    """Each image flipped left–right with probability 1/2 and translated by up to
    ``pad`` pixels each way (edges reflected).

    Parameters
    ----------
    x : tensor of shape (n, H * W * C)
        Flat images in the datasets' (H, W, C) order.
    shape : tuple of int
        ``(H, W, C)``.
    gen : torch.Generator
    pad : int

    Returns
    -------
    tensor of shape (n, H * W * C)
    """
    h, w, c = shape
    n = len(x)
    images = x.reshape(n, h, w, c).permute(0, 3, 1, 2)
    flip = torch.rand(n, generator=gen) < 0.5
    images = torch.where(flip[:, None, None, None], images.flip(3), images)
    padded = nn.functional.pad(images, (pad, pad, pad, pad), mode="reflect")
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    shifted = padded[
        torch.arange(n)[:, None, None, None], torch.arange(c)[:, None, None], rows, cols
    ]
    return shifted.permute(0, 2, 3, 1).reshape(n, -1)


def _train_epoch(
    model: nn.Module,
    opt: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler | None,
    penalties: Sequence[Penalty],
    Xt: torch.Tensor,
    yt: torch.Tensor,
    order: torch.Tensor,
    cfg: TrainConfig,
    epoch: int,
    augment: Callable[[torch.Tensor], torch.Tensor] | None,
) -> tuple[float, float]:
    """One pass over the training set in ``order``: a step and the proximal steps
    per batch (and a step of a one-cycle schedule).

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
        x = Xt[idx] if augment is None else augment(Xt[idx])
        x = x.requires_grad_(needs_grad)
        logits = model(x)
        ce = nn.functional.cross_entropy(
            logits, yt[idx], label_smoothing=cfg.label_smoothing
        )
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
        if schedule is not None and cfg.schedule == "onecycle":
            schedule.step()  # after the prox steps, which use this step's rate
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
