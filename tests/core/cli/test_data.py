"""The datasets listing and the add-data / add-texts / add-features / add-mimic /
remove-data commands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from core.cli.main import main
from core.data import dataset_names, load_dataset
from core.data.user import mimic
from tests.core.data.test_user import RANGES, _corpus, cohort_frame

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


def test_add_data_registers_a_table_and_it_is_listed(tmp_path, capsys):
    path = tmp_path / "cohort.csv"
    cohort_frame().to_csv(path, index=False)
    (tmp_path / "ranges.csv").write_text(RANGES.replace("visit,,,\n", ""))
    argv = ["add-data", str(path), "--target", "outcome", "--id", "patient"]
    argv += ["--ranges", str(tmp_path / "ranges.csv"), "--name", "cohort"]
    assert main([*argv, "--categorical", "visit", "--scaling", "zscore"]) == 0
    out = capsys.readouterr().out
    assert "registered cohort in" in out and "content sha256" in out
    ds = load_dataset("cohort")
    assert "visit=0" in ds.feature_names and ds.normal_ranges["HR"] == (60.0, 100.0)
    assert main(["datasets", "--json", "--no-load"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["cohort"]["available"] and "registered in" in rows["cohort"]["where"]
    assert rows["cohort"]["summary"].startswith("Your data from cohort.csv")
    # The same name again is refused with a message and exit status 1.
    assert main(argv) == 1
    assert "already registered" in capsys.readouterr().err
    assert main(["remove-data", "cohort"]) == 0
    assert "cohort" not in dataset_names()


def test_add_texts_features_and_mimic(tmp_path, capsys):
    pd.DataFrame(_corpus()).to_json(tmp_path / "c.jsonl", orient="records", lines=True)
    argv = ["add-texts", str(tmp_path / "c.jsonl"), "--text", "text"]
    assert main([*argv, "--target", "label", "--name", "texts", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "texts"

    rng = np.random.default_rng(0)
    np.save(tmp_path / "X.npy", rng.normal(size=(40, 4)))
    np.save(tmp_path / "y.npy", np.arange(40) % 2)
    (tmp_path / "names.txt").write_text("a\nb\nc\nd\n")
    argv = [
        "add-features",
        str(tmp_path / "X.npy"),
        "--labels",
        str(tmp_path / "y.npy"),
    ]
    argv += ["--feature-names", str(tmp_path / "names.txt"), "--name", "feats"]
    assert main(argv) == 0
    assert load_dataset("feats").feature_names == ("a", "b", "c", "d")

    mimic.synthetic_extract(50, seed=4).to_csv(tmp_path / "m.csv", index=False)
    assert main(["add-mimic", str(tmp_path / "m.csv")]) == 0
    assert load_dataset("mimic_sepsis").n_features == 47


def test_bad_input_exits_1_with_the_message(tmp_path, capsys):
    (tmp_path / "bad.csv").write_bytes(b"a,a,y\n1,2,0\n")
    assert (
        main(["add-data", str(tmp_path / "bad.csv"), "--target", "y", "--name", "b"])
        == 1
    )
    err = capsys.readouterr().err
    assert "\rerror: " in err and "both named 'a'" in err
    assert "Traceback" not in err
    assert (
        main(["add-data", str(tmp_path / "nope.csv"), "--target", "y", "--name", "b"])
        == 1
    )
    assert "is not a file" in capsys.readouterr().err
