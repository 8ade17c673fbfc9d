"""Fuzzing the model store's listing with malformed and hostile cards.

Whatever a store folder's name and its ``card.json`` hold, listing never raises:
a folder is either listed with a card of the documented types, or skipped with
a message naming it. The tables and the CLI that read listed cards never fail.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.cli.main import main
from core.paths import models_dir
from core.training.store import CARD, scan_models
from core.views.models import models_table, table1_view

#: Names holding Markdown, HTML and URLs (folder names cannot hold "/").
HOSTILE_NAMES = (
    "[x](https:e.example)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)<\u2215script>",
    "**bold** :smile: $x^2$ www.e.example",
    "mlp -> <= --",
)
#: Text that card fields may hold: Markdown, HTML, bare URLs.
HOSTILE_TEXT = (
    "[x](http://e.example)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "http://e.example/a?b=c",
    ":red[red] **bold** `code`",
)

VALID = {
    "dataset": "synthetic",
    "architecture": "mlp",
    "arch_kwargs": {"n_features": 7, "n_classes": 2},
    "penalty": "grad_l1",
    "strength": 0.5,
    "seed": 0,
    "metrics": {"auc": 0.9},
    "training": {"config": {"epochs": 3}, "surviving_features": ["age"]},
    "versions": {"sparselens": "0.1.0"},
    "created": "2024-01-01T00:00:00+00:00",
    "sha256": "0" * 64,
    "format": 1,
}
REQUIRED = ("model_id", "dataset", "architecture", "arch_kwargs", "sha256")
TEXT_FIELDS = ("model_id", "dataset", "architecture", "penalty", "created", "sha256")
INT_FIELDS = ("seed", "format")
DICT_FIELDS = ("arch_kwargs", "metrics", "training", "versions")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(HOSTILE_TEXT),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _wrong_for(field: str):
    """JSON values whose type ``field`` never accepts."""
    if field in TEXT_FIELDS:
        return json_values.filter(lambda v: not isinstance(v, str))
    if field in INT_FIELDS:
        return json_values.filter(
            lambda v: not isinstance(v, int) or v is True or v is False
        )
    if field == "strength":
        return json_values.filter(
            lambda v: isinstance(v, bool) or not isinstance(v, int | float)
        )
    return json_values.filter(lambda v: not isinstance(v, dict))


valid_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,20}", fullmatch=True)
odd_names = st.text(
    st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=30,
).filter(lambda s: not s.startswith(".") and len(s.encode()) < 200)


@st.composite
def entries(draw):
    """(folder name, card text, whether the card must be refused)."""
    hostile_folder = draw(st.booleans())
    folder = draw(
        st.sampled_from(HOSTILE_NAMES) | odd_names if hostile_folder else valid_ids
    )
    card = {"model_id": folder, **VALID}
    # The card's model_id is its folder's name, which must be a well-formed ID.
    must_refuse = not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}", folder)
    for field in draw(st.lists(st.sampled_from(sorted(card)), unique=True, max_size=3)):
        how = draw(st.sampled_from(["wrong type", "missing", "hostile text", "any"]))
        if how == "any":  # maybe right, maybe wrong: huge integers, NaN, ...
            card[field] = draw(json_values)
        elif how == "wrong type":
            card[field] = draw(_wrong_for(field))
            must_refuse = True
        elif how == "missing":
            del card[field]
            must_refuse = must_refuse or field in REQUIRED
        elif field in ("dataset", "architecture", "penalty"):
            card[field] = draw(st.sampled_from(HOSTILE_TEXT))
    if draw(st.booleans()):  # a field this version does not know, or a hostile key
        card[draw(st.sampled_from(HOSTILE_TEXT))] = draw(json_values)
    if draw(st.booleans()):
        card.setdefault("metrics", {})
        if isinstance(card["metrics"], dict):
            card["metrics"][draw(st.sampled_from(HOSTILE_TEXT))] = 1.0
    text = draw(
        st.sampled_from(["json", "truncated", "not an object"]).map(
            lambda how: {
                "json": json.dumps(card),
                "truncated": json.dumps(card)[:-1],
                "not an object": json.dumps([card]),
            }[how]
        )
    )
    return folder, text, must_refuse or not text.endswith("}")


def _types_ok(card) -> bool:
    return (
        all(isinstance(getattr(card, f), str) for f in TEXT_FIELDS)
        and all(type(getattr(card, f)) is int for f in INT_FIELDS)
        and all(isinstance(getattr(card, f), dict) for f in DICT_FIELDS)
        and math.isfinite(card.strength)
        and all(type(v) in (int, float) for v in card.metrics.values())
    )


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(entries(), min_size=1, max_size=4, unique_by=lambda e: e[0]))
def test_listing_never_raises_and_names_every_skipped_folder(
    tmp_path, monkeypatch, capsys, found
):
    # One fresh store per example (the fixtures are set up once per test).
    monkeypatch.setenv("SPARSELENS_MODELS", tempfile.mkdtemp(dir=tmp_path))
    for folder, text, _ in found:
        os.mkdir(models_dir() / folder)
        (models_dir() / folder / CARD).write_text(text)

    listing = scan_models()

    listed = {m.path.name: m for m in listing.models}
    for folder, _, must_refuse in found:
        skipped = [s for s in listing.skipped if repr(folder) in s]
        assert (folder in listed) != bool(skipped), (folder, listing.skipped)
        if must_refuse:
            assert skipped, folder
        if folder in listed:
            card = listed[folder].card
            assert card.model_id == folder and _types_ok(card)
    models_table(listing.models)
    table1_view(listing.models)
    assert main(["models"]) == 0  # prints the table, warns on stderr
    err = capsys.readouterr().err
    assert err.count("warning: Skipping stored model") == len(listing.skipped)
