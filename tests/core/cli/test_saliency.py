"""``python -m core hessian-study`` writes its table and figure."""

from __future__ import annotations

import pandas as pd
import pytest

from core.cli.main import main
from tests.core.threads import one_torch_thread  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_hessian_study_on_a_synthetic_net(tmp_path, capsys):
    code = main(
        [
            "hessian-study",
            "--models",
            "--classes",
            "12",
            "--synthetic-examples",
            "30",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    stats = pd.read_csv(tmp_path / "hessian_study.csv")
    assert len(stats) == 30 and set(stats["n_classes"]) == {12}
    assert stats["rank1_error"].between(0, 1).all()
    assert (tmp_path / "hessian_study.html").stat().st_size > 10_000
    assert "rank1_error" in capsys.readouterr().out


def test_hessian_study_names_a_missing_model(tmp_path, capsys):
    code = main(["hessian-study", "--models", "no-such-model", "--out", str(tmp_path)])
    assert code == 1
    assert "No stored model 'no-such-model'" in capsys.readouterr().err
