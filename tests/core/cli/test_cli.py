"""The command line: help, the dataset listing, the model listing, errors."""

from __future__ import annotations

import json
import subprocess
import sys

from core.cli.main import main
from core.data import dataset_names
from core.training.models import build_model
from core.training.store import save_model

EXPECTED = {
    "synthetic",
    "icu_rhc",
    "icu_physionet2012",
    "adult",
    "newsgroups",
    "sst2",
    "mr",
    "toxic",
    "digits",
    "mnist",
    "cifar10",
    "breast_cancer",
}


def test_help_runs_as_a_module():
    out = subprocess.run(
        [sys.executable, "-m", "core", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "datasets" in out and "models" in out


def test_every_dataset_is_registered():
    assert set(dataset_names()) == EXPECTED


def test_datasets_json_lists_all_twelve_as_available(capsys):
    assert main(["datasets", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == EXPECTED
    for row in rows:
        assert row["available"], row
        assert row["task"] in {"binary", "multiclass"} and row["source"]
        sizes = row["sizes"]
        assert set(sizes) == {"train", "val", "test"} and min(sizes.values()) > 0
        assert row["n_features"] > 0 or row["modality"] == "text"


def test_datasets_table_without_loading(capsys, tmp_path):
    assert main(["--data-dir", str(tmp_path), "datasets", "--no-load"]) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out and "no: missing in" in out


def test_models_listing(capsys):
    kw = {"n_features": 3, "n_classes": 2}
    save_model(
        build_model("linear", **kw),
        dataset="synthetic",
        architecture="linear",
        arch_kwargs=kw,
        model_id="lin",
    )
    assert main(["models", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["model_id"] == "lin" and not row["shipped"]
    assert main(["models"]) == 0
    assert "lin" in capsys.readouterr().out


def test_bad_input_is_an_error_message_not_a_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "core", "models", "--dataset"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_smoothness_report_for_stored_models(capsys, tmp_path):
    from core.data import load_dataset
    from core.training.penalties import make_penalty
    from core.training.train import TrainConfig, store_result, train

    ds = load_dataset("breast_cancer")
    for penalty, strength in (("none", 0.0), ("grad_l1", 0.1)):
        result = train(
            ds, "mlp", [make_penalty(penalty, strength)], TrainConfig(epochs=2)
        )
        store_result(
            result, ds, model_id=f"breast_cancer-mlp-{penalty}", store=tmp_path
        )
    argv = ["smoothness", "--datasets", "breast_cancer", "--store", str(tmp_path)]
    assert main([*argv, "--penalties", "none", "grad_l1"]) == 0
    out = capsys.readouterr().out
    assert out.count("breast_cancer-mlp-grad_l1") == 2 and "Σₖ log pₖ" in out
