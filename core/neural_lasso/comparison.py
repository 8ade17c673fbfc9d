"""Which stored models the Neural LASSO pages compare by default.

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS TML workshop: Fig. 2 compares a plain MLP
with one penalised by L1 on its weights (λ_θ) and one by L1 on its input
gradients (λ_∇).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store imports torch; selection only reads cards
    from core.training.store import StoredModel

#: Penalties of the default comparison (paper's Fig. 2: normal, λ_θ, λ_∇).
COMPARED_PENALTIES = ("none", "l1_weights", "grad_l1")


def default_models(
    stored: Sequence[StoredModel],
    chosen: Sequence[str] = (),
    max_models: int = 3,
) -> list[str]:
    """The models compared by default.

    The newest ``mlp`` for each of :data:`COMPARED_PENALTIES` (plain, L1 on the
    weights, L1 on input gradients), the paper's Fig. 2 comparison, when any is
    stored; else the models chosen in the sidebar; else the first stored one.
    ``stored`` is in :func:`core.training.store.list_models` order (yours, then shipped).
    """
    picks = []
    for penalty in COMPARED_PENALTIES:
        match = next(
            (
                m.card.model_id
                for m in stored
                if (m.card.architecture, m.card.penalty) == ("mlp", penalty)
            ),
            None,
        )
        if match is not None:
            picks.append(match)
    if not picks:
        ids = {m.card.model_id for m in stored}
        picks = [i for i in chosen if i in ids]
    if not picks and stored:
        picks = [stored[0].card.model_id]
    return picks[:max_models]
