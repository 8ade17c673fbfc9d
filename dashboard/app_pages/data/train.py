"""Train: fit a model on the chosen dataset from the browser and store it.

Architecture and penalty sit outside the form because they decide its defaults
(the Table 1 strength, the paper's epochs); the rest is submitted at once.
Training runs in this script run and reports every epoch; the stored model is
then chosen in the sidebar.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import SparseLensError
from core.neural_lasso.table1 import ROWS
from core.training.metrics import METRIC_LABELS
from core.training.penalties import PENALTIES, make_penalty
from core.training.store import check_can_store, default_model_id
from core.training.train import TrainConfig, default_epochs, store_result, train
from core.views import data as data_view
from core.views import models as models_view
from dashboard.common import downloads, loaders, markdown, state

name = st.session_state[state.DATASET]
st.title(f"Train · {name}")
ds = loaders.require_dataset(name)
architectures = models_view.trainable_architectures(ds)
if not architectures:
    st.info(models_view.no_training_reason(ds))
    st.stop()

left, right = st.columns(2)
arch = left.selectbox(
    "Architecture", architectures, key=state.for_dataset(state.TRAIN_ARCHITECTURE, name)
)
penalty = right.selectbox(
    "Penalty",
    models_view.penalties_for(arch),
    format_func=models_view.PENALTY_LABELS.get,
    key=state.for_setting(state.TRAIN_PENALTY, name, arch),
)
if arch.startswith("cnn"):
    st.warning(
        "Training runs on the server's CPU while this page waits: a CNN takes "
        "minutes per epoch on mnist and much longer on cifar10. For the paper's "
        "epochs, `python -m core train` in a terminal is the better place."
    )

default_strength, source = models_view.table1_strength(ROWS, name, arch, penalty)
with st.form(state.TRAIN_FORM):
    strength, groups = 0.0, "features"
    if penalty != "none":
        strength = st.number_input(
            "Strength",
            min_value=0.0,
            value=default_strength,
            step=default_strength / 10 or 0.01,
            format="%g",
            key=state.for_setting(state.TRAIN_STRENGTH, name, arch, penalty),
            help=f"{PENALTIES[penalty].strength_meaning}. Default: {source}.",
        )
    if penalty == "group_l1":
        has_groups = not data_view.feature_groups_table(ds).empty
        groups = st.radio(
            "Groups",
            ["dataset", "features"] if has_groups else ["features"],
            format_func={
                "dataset": "the dataset's feature groups (one-hot levels together)",
                "features": "one group per input feature",
            }.get,
            key=state.for_dataset(state.TRAIN_GROUPS, name),
        )
    left, right = st.columns(2)
    epochs = left.number_input(
        "Epochs",
        min_value=1,
        max_value=1000,
        value=default_epochs(name, arch),
        key=state.for_setting(state.TRAIN_EPOCHS, name, arch),
        help="Default: the paper's. Training keeps the best epoch on the "
        "validation set and stops after 10 epochs without improvement.",
    )
    seed = right.number_input("Seed", min_value=0, value=0, key=state.TRAIN_SEED)
    model_id = st.text_input(
        "Model ID (optional)",
        max_chars=128,
        placeholder=f"{name}-{arch}-{penalty}-s{seed}-<time>",
        key=state.TRAIN_MODEL_ID,
        help="Letters, digits, '_', '.' and '-'; empty for an automatic ID.",
    ).strip()
    submitted = st.form_submit_button(
        "Train and store",
        type="primary",
        icon=":material/play_arrow:",
        key=state.TRAIN_SUBMIT,
    )


def train_and_store() -> None:
    """Train with the form's settings, store the model, rerun to list it.

    The ID (typed or generated) and the store are checked first, so that a
    taken ID or a read-only store is refused before the training, not after.
    """
    new_id = model_id or default_model_id(name, arch, penalty, int(seed))
    store = loaders.guarded(check_can_store, new_id)
    status = st.status(f"Training {arch} on {name}…", expanded=True)
    bar = status.progress(0.0, text="Calibrating the penalty on the first batch…")

    def progress(epoch: int, epochs: int, record: dict) -> None:
        bar.progress(epoch / epochs, text=f"Epoch {epoch} of {epochs}")
        status.text(
            f"epoch {epoch:>3}/{epochs}  loss {record['train_loss']:.4f}  "
            f"val AUC {record['val_auc']:.3f}  ({record['seconds']:.1f} s)"
        )

    try:
        pen = make_penalty(
            penalty, strength, groups=ds.feature_groups if groups == "dataset" else None
        )
        config = TrainConfig(epochs=int(epochs), seed=int(seed))
        result = train(ds, arch, [pen], config, progress=progress)
        stored = store_result(result, ds, model_id=new_id, store=store)
    except (SparseLensError, ValueError, OSError) as exc:
        status.update(label="Training failed; nothing was stored.", state="error")
        st.error(markdown.escape(exc))
        return
    status.update(label=f"Trained {arch} on {name}.", state="complete")
    st.session_state[state.LAST_TRAINED] = {
        "dataset": name,
        "model_id": stored.card.model_id,
        "test": result.test_metrics,
        "best_epoch": result.best_epoch,
        "history": result.history,
    }
    st.session_state[state.NEW_MODEL] = stored.card.model_id
    st.rerun()  # the sidebar lists (and chooses) the new model


if submitted:
    train_and_store()

last = st.session_state.get(state.LAST_TRAINED)
if last and last["dataset"] == name:
    st.success(
        f"Stored `{last['model_id']}` (best epoch {last['best_epoch']} of "
        f"{len(last['history'])}); it is chosen in the sidebar. Test metrics:"
    )
    for col, (key, value) in zip(
        st.columns(len(last["test"])), last["test"].items(), strict=True
    ):
        col.metric(METRIC_LABELS.get(key, key), f"{value:.4g}")
    st.page_link("app_pages/data/models.py", label="Compare it on the Models page")
    history = pd.DataFrame(last["history"])
    with st.expander("Every epoch"):
        st.dataframe(history, hide_index=True, key="train.history")
        downloads.table(
            history,
            downloads.file_name(last["model_id"], "history", suffix="csv"),
            key=state.DOWNLOAD_HISTORY,
        )
