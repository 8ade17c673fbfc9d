"""``python -m core counterfactuals / bias-probe / errors / word-clouds`` on the
shipped SST-2 layer with tiny word clouds (3 sentences, 20 LIME samples)."""

from __future__ import annotations

import json
import math
import re
import shutil
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

import core.sparse_layers.debugging.lime_clouds as lime_clouds
from core.cli.main import main
from core.paths import ASSETS_DIR, layers_dir
from core.sparse_layers.debugging.misclassifications import misclassifications
from core.sparse_layers.debugging.workbench import workbench
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


def _tokens(text: str) -> list[str]:
    """``text`` split as LIME splits it: runs of word and of other characters."""
    return [s for s in re.split(r"(\W+)", text) if s]


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's 95 % score interval, written out here rather than imported from
    the code under test: (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    z = NormalDist().inv_cdf(0.975)
    p = k / n
    centre = p + z**2 / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return (centre - half) / (1 + z**2 / n), (centre + half) / (1 + z**2 / n)


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
    # Every count, rate and interval is recomputed from the per-sentence table.
    rows = pd.read_csv(out.with_suffix(".csv"))
    layers = {
        name: t.set_index("sentence").sort_index() for name, t in rows.groupby("layer")
    }
    assert sorted(layers) == ["dense", "sparse"]
    for t in layers.values():
        assert list(t.index) == list(range(8))
        drawn = t.counterfactual.notna()
        # A counterfactual is its sentence with one token, the word, replaced.
        for text, cf, word, replacement in t[drawn][
            ["text", "counterfactual", "word", "replacement"]
        ].itertuples(index=False):
            changed = [
                (a.lower(), b)
                for a, b in zip(_tokens(text), _tokens(cf), strict=True)
                if a != b
            ]
            assert changed == [(word, replacement)]
        # A flip is a changed prediction; a sentence without one never flips.
        assert t.flipped.equals(drawn & (t.prediction_after != t.prediction_before))
    in_both = layers["sparse"].counterfactual.notna() & (
        layers["dense"].counterfactual.notna()
    )
    assert result["n_with_candidate_in_all"] == in_both.sum() > 0
    for name, t in layers.items():
        drawn = t.counterfactual.notna()
        assert result[f"{name}_n_with_candidate"] == drawn.sum()
        everyone = pd.Series(True, index=t.index)
        for suffix, sel in {"": in_both, "_own": drawn, "_all": everyone}.items():
            n, k = int(sel.sum()), int(t.flipped[sel].sum())
            assert (result[f"{name}_n{suffix}"], result[f"{name}_flips{suffix}"]) == (
                n,
                k,
            )
            assert result[f"{name}_flip_rate{suffix}"] == pytest.approx(k / n)
            assert result[f"{name}_flip_rate{suffix}_ci"] == pytest.approx(
                _wilson(k, n), abs=1e-12
            )
    # A flip and a layer without one: the intervals are checked inside and at 0.
    assert rows.flipped.any() and not rows.flipped.all()
    printed = capsys.readouterr().out
    assert "paper: 0.731" in printed
    assert "on the sentences with a candidate in both layers" in printed
    assert "over all 8" in printed


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
                "--word",
                "muslim",
                "--limit",
                "10",
                "--out",
                str(out),
                *TINY,
            ]
        )
        == 0
    )
    result = json.loads(out.read_text())
    assert result["words"] == ["christianity", "muslim"]
    rows = result["rows"]
    assert {(r["word"], r["layer"], r["class"]) for r in rows} == {
        (w, la, c)
        for w in ("christianity", "muslim")
        for la in ("sparse", "dense")
        for c in ("negative", "positive")
    }
    # Both layers are probed on one set per class: the texts both get right.
    assert {(r["class"], r["n"]) for r in rows} == set(result["common_set"].items())
    assert sum(result["common_set"].values()) <= 10
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
    # Both layers' fixes on the errors they share: one denominator.
    wb = workbench("digits-raw")
    H, y = wb.features("test"), wb.labels("test")
    tables = {n: misclassifications(lay, H, y)[0] for n, lay in wb.layers.items()}
    common = set(tables["sparse"]["index"]) & set(tables["dense"]["index"])
    assert result["common_errors"] == {
        "errors": len(common),
        **{
            f"fixed_{n}": len(common & set(t["index"][t.fixed]))
            for n, t in tables.items()
        },
    }
    lo, hi = result["sparse"]["share_fixed_95ci"]
    assert lo <= result["sparse"]["share_fixed"] <= hi
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


def test_dataset_picks_its_fine_tuned_layer_first_then_minilm():
    from argparse import Namespace

    from core.cli.sparse_layers import _layer_name

    args = Namespace(layer=None, dataset="sst2")
    with pytest.raises(ValueError, match="No text layer of 'sst2' is stored"):
        _layer_name(args)
    for name in ("sst2-minilm", "sst2-finetuned-sst2"):
        shutil.copytree(ASSETS_DIR / "sparse_layers" / name, layers_dir() / name)
    assert _layer_name(args) == "sst2-finetuned-sst2"
    shutil.rmtree(layers_dir() / "sst2-finetuned-sst2")
    assert _layer_name(args) == "sst2-minilm"
    assert _layer_name(Namespace(layer="x", dataset="sst2")) == "x"
