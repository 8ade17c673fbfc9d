"""``python -m core counterfactuals / bias-probe / errors / word-clouds`` on the
shipped SST-2 layer with tiny word clouds (3 sentences, 20 LIME samples)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import core.sparse_layers.debugging.lime_clouds as lime_clouds
from core.cli.main import main
from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers.sparse_layer import compute_sparse_layer
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import require

TINY = ["--cloud-limit", "3", "--samples", "20"]

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def sst2(tmp_path, monkeypatch):
    require("sst2")
    shutil.copytree(
        ASSETS_DIR / "sparse_layers" / "sst2-minilm", layers_dir() / "sst2-minilm"
    )
    monkeypatch.setattr(lime_clouds, "cache_dir", lambda: tmp_path / "cache")
    return tmp_path


def test_counterfactuals_command_writes_rates_with_intervals(sst2, capsys):
    out = sst2 / "cf.json"
    assert (
        main(
            [
                "counterfactuals",
                "--dataset",
                "sst2",
                "--limit",
                "8",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["n_sentences"] == 8 and result["split"] == "test"
    for name in ("sparse", "dense"):
        rate, (lo, hi) = result[f"{name}_flip_rate"], result[f"{name}_flip_rate_ci"]
        if result[f"{name}_n"]:
            assert lo <= rate <= hi
        assert result[f"{name}_n"] == result["n_with_candidate_in_all"]
        assert result[f"{name}_flip_rate_all"] <= result[f"{name}_flip_rate_own"] or (
            result[f"{name}_n_own"] == 0
        )
    assert result["paper"] == {"sparse_flip_rate": 0.731, "dense_flip_rate": 0.522}
    assert out.with_suffix(".csv").is_file()
    assert "paper: 0.731" in capsys.readouterr().out


def test_bias_probe_and_word_cloud_commands(sst2, capsys):
    out = sst2 / "bias.json"
    assert (
        main(
            [
                "bias-probe",
                "--dataset",
                "sst2",
                "--word",
                "christianity",
                "--limit",
                "10",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    rows = json.loads(out.read_text())["rows"]
    assert {(r["layer"], r["class"]) for r in rows} == {
        ("sparse", "negative"),
        ("sparse", "positive"),
        ("dense", "negative"),
        ("dense", "positive"),
    }
    assert (
        main(["word-clouds", "--layer", "sst2-minilm", "--show", "2", "--ship", *TINY])
        == 0
    )
    printed = capsys.readouterr().out
    assert "LIME word clouds of 384 features over 3 val sentences" in printed
    # --ship writes the pruned clouds where a fresh machine finds them.
    [entry] = lime_clouds.cached_corpora()  # the cache's and the shipped: one name
    shipped = lime_clouds.SHIPPED_DIR / entry["file"]
    assert f"shipped {shipped}" in printed
    assert lime_clouds.CloudCorpus.load(shipped).complete_top == lime_clouds.TOP_WORDS


def test_errors_command_on_a_multiclass_layer(tmp_path, capsys):
    require("digits")
    compute_sparse_layer("digits", "raw", n_lambdas=8)
    out = tmp_path / "errors.json"
    assert main(["errors", "--layer", "digits-raw", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["sparse"]["errors"] >= result["dense"]["errors"] >= 0
    assert set(result["sparse"]["confusion_vs_shared"]) == {
        "pearson",
        "pearson_p",
        "spearman",
        "spearman_p",
    }
    assert main(["errors", "--layer", "digits-raw", "--index", "99"]) == 1
    assert "λ index must be in" in capsys.readouterr().err
    assert main(["word-clouds", "--layer", "digits-raw"]) == 1
    assert "not computed from text" in capsys.readouterr().err


def test_encode_sentences_returns_rows_in_the_order_given():
    from core.sparse_layers.deep_features import _encoder, encode_sentences

    texts = ["a much longer sentence than the other two here", "b", "medium one"]
    together = encode_sentences(texts, batch_size=2)  # encoded fewest tokens first
    for row, text in zip(together, texts, strict=True):
        np.testing.assert_allclose(row, encode_sentences([text])[0], atol=1e-5)
    # The same embeddings as the model's own encode (pooling, normalisation).
    np.testing.assert_allclose(together, _encoder().encode(texts), atol=1e-5)
