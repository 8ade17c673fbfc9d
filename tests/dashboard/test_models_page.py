"""The Train and Models pages: training from the browser, comparing, deleting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

import core.training.store
from core.neural_lasso.table1 import ROWS
from core.paths import models_dir
from core.training.models import build_model
from core.training.store import CARD, list_models, save_model
from core.training.train import default_epochs
from core.views import models as models_view
from dashboard.common import markdown, state
from tests.dashboard.apptest import APP, TIMEOUT, assert_ok, require, run_app

TRAIN_PAGE = "app_pages/data/train.py"
MODELS_PAGE = "app_pages/data/models.py"
BC = "breast_cancer"  # 569 rows: two epochs take a second or two


def _open(dataset: str, page: str) -> AppTest:
    at = run_app(dataset, page)
    _check(at)
    return at


def _check(at: AppTest) -> None:
    assert_ok(at)


def _choose(at: AppTest, dataset: str, architecture: str, penalty: str) -> None:
    arch_key = state.for_dataset(state.TRAIN_ARCHITECTURE, dataset)
    at.selectbox(key=arch_key).set_value(architecture).run()
    penalty_key = state.for_setting(state.TRAIN_PENALTY, dataset, architecture)
    at.selectbox(key=penalty_key).set_value(penalty).run()
    _check(at)


def _submit(at: AppTest, dataset: str, architecture: str, epochs: int = 2) -> None:
    epochs_key = state.for_setting(state.TRAIN_EPOCHS, dataset, architecture)
    at.number_input(key=epochs_key).set_value(epochs)
    at.button(key=state.TRAIN_SUBMIT).click().run()
    _check(at)


def _dataset(name: str):
    from core.data import load_dataset

    return load_dataset(name, download=False)


def _chosen_key(dataset: str) -> str:
    return state.for_dataset(state.MODELS, dataset)


def _save(model_id: str, dataset: str = BC, store: Path | None = None, **card):
    kw = {"n_features": 30, "n_classes": 2}
    torch.manual_seed(0)
    return save_model(
        build_model("mlp", **kw),
        dataset=dataset,
        architecture="mlp",
        arch_kwargs=kw,
        model_id=model_id,
        store=store,
        **card,
    )


@pytest.mark.parametrize(
    "name",
    [
        "synthetic",
        BC,
        "adult",
        "sst2",
        "newsgroups",
        "mnist",
        pytest.param("cifar10", marks=pytest.mark.slow),
    ],
)
def test_train_page_runs_for_each_dataset(name):
    require(name)
    at = _open(name, TRAIN_PAGE)
    assert not at.error
    archs = models_view.trainable_architectures(_dataset(name))
    if not archs:
        assert any("sparse-decision-layer" in i.value for i in at.info)
        return
    key = state.for_dataset(state.TRAIN_ARCHITECTURE, name)
    assert at.selectbox(key=key).options == archs
    epochs_key = state.for_setting(state.TRAIN_EPOCHS, name, archs[0])
    assert at.number_input(key=epochs_key).value == default_epochs(name, archs[0])
    assert at.button(key=state.TRAIN_SUBMIT)


def test_train_a_model_from_the_page():
    require(BC)
    at = _open(BC, TRAIN_PAGE)
    _choose(at, BC, "mlp", "grad_l1")
    strength_key = state.for_setting(state.TRAIN_STRENGTH, BC, "mlp", "grad_l1")
    expected, _ = models_view.table1_strength(ROWS, BC, "mlp", "grad_l1")
    assert at.number_input(key=strength_key).value == expected
    _submit(at, BC, "mlp")
    assert not at.error
    (model,) = list_models(BC)
    card = model.card
    assert (card.architecture, card.penalty, card.strength) == (
        "mlp",
        "grad_l1",
        expected,
    )
    assert card.training["epochs_run"] == 2
    assert any(card.model_id in s.value for s in at.success)
    assert {m.label for m in at.metric} >= {"AUC", "accuracy", "‖θ‖₁", "D_eff"}
    # The sidebar lists the new model and has chosen it.
    assert at.multiselect(key=_chosen_key(BC)).value == [card.model_id]
    at.switch_page(MODELS_PAGE).run()
    _check(at)
    assert card.model_id in set(at.dataframe[0].value["model_id"])
    assert at.get("plotly_chart")  # the comparison of the chosen model


def test_group_lasso_with_the_datasets_groups_and_an_id():
    require(BC)
    at = _open(BC, TRAIN_PAGE)
    _choose(at, BC, "mlp", "group_l1")
    at.radio(key=state.for_dataset(state.TRAIN_GROUPS, BC)).set_value("dataset")
    key = state.for_setting(state.TRAIN_STRENGTH, BC, "mlp", "group_l1")
    at.number_input(key=key).set_value(1e-4)
    at.text_input(key=state.TRAIN_MODEL_ID).input("bc-group")
    _submit(at, BC, "mlp")
    assert not at.error
    card = core.training.store.find_model("bc-group").card
    assert (card.strength, card.training["penalties"][0]["groups"]) == (1e-4, "dataset")
    assert set(card.training["surviving_features"]) <= set(_dataset(BC).feature_names)
    assert "surviving features" in {m.label for m in at.metric}
    # The same ID again is refused before any training.
    at.button(key=state.TRAIN_SUBMIT).click().run()
    _check(at)
    assert any("already exists" in e.value for e in at.error)
    assert len(list_models(BC)) == 1
    # A malformed ID is refused before any training too.
    at.text_input(key=state.TRAIN_MODEL_ID).input("../escape")
    at.button(key=state.TRAIN_SUBMIT).click().run()
    assert any("must start with a letter" in e.value for e in at.error)
    assert len(list_models(BC)) == 1


def test_diverging_training_is_an_error_and_stores_nothing():
    require(BC)
    at = _open(BC, TRAIN_PAGE)
    _choose(at, BC, "linear", "l1_weights")
    key = state.for_setting(state.TRAIN_STRENGTH, BC, "linear", "l1_weights")
    at.number_input(key=key).set_value(1e38)  # λ‖θ‖₁ overflows float32
    _submit(at, BC, "linear")
    assert any("diverged" in e.value for e in at.error)
    assert not at.success
    assert list_models() == []


def test_a_core_error_during_training_is_shown(monkeypatch):
    require(BC)

    def refuse(*args, **kwargs):
        raise ValueError("penalty does not fit")

    monkeypatch.setattr("core.training.train.train", refuse)
    at = _open(BC, TRAIN_PAGE)
    _submit(at, BC, "linear")
    assert [e.value for e in at.error] == ["penalty does not fit"]
    assert list_models() == []


def test_text_set_without_features_is_explained():
    require("sst2")
    at = _open("sst2", TRAIN_PAGE)
    assert any("sparse-decision-layer" in i.value for i in at.info)
    assert not at.button


def test_image_sets_offer_their_cnn():
    require("digits")
    at = _open("digits", TRAIN_PAGE)
    arch = at.selectbox(key=state.for_dataset(state.TRAIN_ARCHITECTURE, "digits"))
    assert arch.options == ["linear", "mlp", "cnn_digits"]
    assert not at.warning
    arch.set_value("cnn_digits").run()
    _check(at)
    assert any("CPU" in w.value for w in at.warning)
    penalty_key = state.for_setting(state.TRAIN_PENALTY, "digits", "cnn_digits")
    assert "group_l1" not in at.selectbox(key=penalty_key).options
    epochs_key = state.for_setting(state.TRAIN_EPOCHS, "digits", "cnn_digits")
    assert at.number_input(key=epochs_key).value == 32


def test_compare_two_models_and_the_table1_view():
    _save("bc-plain", metrics={"auc": 0.95, "theta_l1": 120.0, "d_eff": 20.0})
    _save(
        "bc-group",
        penalty="group_l1",
        strength=1.0,
        metrics={"auc": 0.9, "theta_l1": 40.0, "d_eff": 5.0},
        training={"surviving_features": ["mean radius", "worst area"]},
    )
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.selectbox(key=state.DATASET).set_value(BC).run()
    at.multiselect(key=_chosen_key(BC)).set_value(["bc-plain", "bc-group"]).run()
    at.switch_page(MODELS_PAGE).run()
    _check(at)
    (chart,) = at.get("plotly_chart")
    assert "bc-plain" in chart.proto.spec and "bc-group" in chart.proto.spec
    keys = {b.key for b in at.download_button}
    assert {state.DOWNLOAD_COMPARISON, state.DOWNLOAD_TABLE1} <= keys
    surviving = next(d.value for d in at.dataframe if "surviving feature" in d.value)
    assert list(surviving["surviving feature"]) == ["mean radius", "worst area"]
    view = at.dataframe[-1].value.set_index("penalty")
    assert list(view.index) == ["none", "group_l1"]  # in Table 1 order
    assert view.loc["group_l1", "surviving_features"] == "mean radius, worst area"
    assert view.loc["none", "auc"] == 0.95


def test_delete_needs_a_confirmation_and_updates_the_list():
    _save("bc-doomed")
    _save("bc-kept")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    at.selectbox(key=state.DATASET).set_value(BC).run()
    at.multiselect(key=_chosen_key(BC)).set_value(["bc-doomed", "bc-kept"]).run()
    at.switch_page(MODELS_PAGE).run()
    assert (
        at.selectbox(key=state.for_dataset(state.CARD_MODEL, BC)).value == "bc-doomed"
    )
    assert at.button(key=state.DELETE).disabled
    at.checkbox(key=state.for_dataset(state.DELETE_CONFIRM, "bc-doomed")).check().run()
    at.button(key=state.DELETE).click().run()
    _check(at)
    assert [m.card.model_id for m in list_models(BC)] == ["bc-kept"]
    assert any("bc-doomed" in s.value for s in at.success)
    assert set(at.dataframe[0].value["model_id"]) == {"bc-kept"}
    assert at.multiselect(key=_chosen_key(BC)).value == ["bc-kept"]
    assert at.selectbox(key=state.for_dataset(state.CARD_MODEL, BC)).value == "bc-kept"


def test_shipped_models_cannot_be_deleted(tmp_path, monkeypatch):
    monkeypatch.setattr(core.training.store, "SHIPPED_DIR", tmp_path)
    _save("bc-shipped", store=tmp_path)
    at = _open(BC, MODELS_PAGE)
    (row,) = at.dataframe[0].value.to_dict("records")
    assert row["model_id"] == "bc-shipped" and row["shipped"]
    assert at.button(key=state.DELETE).disabled
    assert any("read-only" in c.value for c in at.caption)
    assert not at.checkbox
    assert (tmp_path / "bc-shipped").is_dir()


LINK = "[x](http://e.example)"
IMG = "<img src=x onerror=alert(1)>"


def _edit_card(path: Path, **fields) -> None:
    card = json.loads((path / CARD).read_text())
    card.update(fields)
    (path / CARD).write_text(json.dumps(card))


def _shown(at: AppTest) -> list[str]:
    """Every Markdown text on the page and in the sidebar, expander labels too."""
    kinds = ("markdown", "caption", "warning", "error", "info", "success")
    texts = [e.value for kind in kinds for e in getattr(at, kind)]
    return texts + [e.label for e in at.expander]


def test_hostile_cards_never_break_the_models_page_or_the_sidebar():
    _save("bc-good", metrics={"auc": 0.9, LINK: 1.0})
    odd = _save("bc-odd", penalty="group_l1", strength=1.0).path
    _edit_card(odd, arch_kwargs={"n_features": IMG, "n_classes": 2})
    _edit_card(odd, training={"surviving_features": [LINK, IMG]})
    _edit_card(_save("bc-format").path, format="2")  # once a TypeError everywhere
    for name in (IMG, "[x](https:e.example)"):  # folders named with HTML/Markdown
        folder = models_dir() / name
        folder.mkdir()
        (folder / CARD).write_text((odd / CARD).read_text())

    at = run_app(BC)
    at.multiselect(key=_chosen_key(BC)).set_value(["bc-good", "bc-odd"]).run()
    at.switch_page(MODELS_PAGE).run()
    _check(at)
    warnings = [w.value for w in at.sidebar.warning]
    assert len(warnings) == 3
    for name in ("bc-format", IMG, "[x](https:e.example)"):
        assert any(markdown.escape(repr(name)) in w for w in warnings), name
    assert set(at.dataframe[0].value["model_id"]) == {"bc-good", "bc-odd"}
    # Data-derived text is shown escaped: never as a link, a picture or HTML.
    shown = _shown(at)
    assert not [t for t in shown if LINK in t or IMG in t or "https:e.example)" in t]
    assert any(markdown.escape(IMG) in label for label in _shown(at))
    # Only the weights are hashed: the card view does not vouch for the metrics.
    at.selectbox(key=state.for_dataset(state.CARD_MODEL, BC)).set_value("bc-good")
    at.run()
    assert any("not covered by a hash" in c.value for c in at.caption)


def test_train_checks_the_store_and_a_generated_id_before_training(
    monkeypatch, tmp_path
):
    require(BC)
    trained = []
    monkeypatch.setattr(
        "core.training.train.train", lambda *a, **k: trained.append(a) or 1 / 0
    )
    _save("bc-taken")
    monkeypatch.setattr("core.training.store.default_model_id", lambda *a: "bc-taken")
    at = _open(BC, TRAIN_PAGE)
    _submit(at, BC, "linear")
    assert any("already exists" in e.value for e in at.error)
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("SPARSELENS_MODELS", str(tmp_path / "file" / "models"))
    _submit(at, BC, "linear")
    assert any("is not writable" in e.value for e in at.error)
    assert trained == []
