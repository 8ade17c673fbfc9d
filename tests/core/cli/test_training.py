"""``python -m core models``: the Models page's table, one line per model."""

from __future__ import annotations

import json

from core.cli.main import main
from core.training.models import build_model
from core.training.store import save_model


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
