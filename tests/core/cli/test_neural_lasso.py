"""``python -m core smoothness`` on stored models."""

from __future__ import annotations

from core.cli.main import main


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
