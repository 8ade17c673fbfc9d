"""``python -m core models``: the Models page's table, one line per model."""

from __future__ import annotations

import json
from pathlib import Path

import core.data
from core.cli.main import main
from core.paths import models_dir
from core.training.models import build_model
from core.training.store import CARD, save_model


def test_models_listing(capsys):
    kw = {"n_features": 3, "n_classes": 2}
    for model_id, metrics in (
        ("lin", {"auc": 0.8}),
        ("lin2", {"auc": 0.9, "d_eff": 2}),
    ):
        save_model(
            build_model("linear", **kw),
            dataset="synthetic",
            architecture="linear",
            arch_kwargs=kw,
            metrics=metrics,
            model_id=model_id,
        )
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["model_id"] for r in rows} == {"lin", "lin2"}
    assert not any(r["shipped"] for r in rows)
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()[2:]
    by_id = {line.split()[0]: line for line in lines}
    # A metric only another card has is left out, not printed as "nan".
    assert "auc=0.8" in by_id["lin"] and "d_eff" not in by_id["lin"]
    assert by_id["lin2"].endswith("auc=0.9 d_eff=2") and " synthetic " in by_id["lin2"]


def _save_linear(model_id: str) -> Path:
    kw = {"n_features": 3, "n_classes": 2}
    return save_model(
        build_model("linear", **kw),
        dataset="synthetic",
        architecture="linear",
        arch_kwargs=kw,
        model_id=model_id,
    ).path


def test_models_listing_survives_a_malformed_card(capsys):
    _save_linear("good")
    bad = _save_linear("bad")
    card = json.loads((bad / CARD).read_text())
    card["format"] = "2"  # a string: once a TypeError on every listing
    (bad / CARD).write_text(json.dumps(card))
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    assert "good" in out and "bad" not in out
    assert err.startswith("warning: Skipping stored model 'bad': Model card ")
    assert "'format' must be an integer" in err and "Traceback" not in err


def _never_load(monkeypatch):
    def load_dataset(*args, **kwargs):
        raise AssertionError("the dataset was loaded before the store was checked")

    monkeypatch.setattr(core.data, "load_dataset", load_dataset)


TRAIN = ["train", "--dataset", "synthetic", "--model", "linear", "--epochs", "1"]


def test_train_refuses_a_taken_id_before_loading_anything(monkeypatch, capsys):
    _save_linear("taken")
    _never_load(monkeypatch)
    assert main([*TRAIN, "--id", "taken"]) == 1
    err = capsys.readouterr().err
    assert err == f"error: A model named 'taken' already exists in {models_dir()}\n"


def test_train_refuses_a_store_it_cannot_write_and_a_bad_generated_id(
    monkeypatch, capsys, tmp_path
):
    _never_load(monkeypatch)
    (tmp_path / "file").write_text("")
    store = tmp_path / "file" / "models"
    assert main([*TRAIN, "--store", str(store)]) == 1
    assert "The model store" in capsys.readouterr().err
    # The generated ID holds the seed: one too long for an ID is refused too.
    assert main([*TRAIN, "--seed", "9" * 130]) == 1
    assert "must start with a letter or digit" in capsys.readouterr().err


def test_a_failing_command_is_one_line_and_exit_status_1(monkeypatch, capsys):
    import core.training.store

    def unreadable(dataset=None):
        raise PermissionError(13, "Permission denied\nsecond line", "/srv/models")

    monkeypatch.setattr(core.training.store, "scan_models", unreadable)
    assert main(["models"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: [Errno 13] Permission denied second line")
    assert err.count("\n") == 1
