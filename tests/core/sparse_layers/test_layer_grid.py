"""Several sparse layers at once: one task per dataset × features × α, the same
layers on Ray as fitted one after another, each stored as it finishes so that
a rerun fits only the missing ones."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.cli.main import main
from core.executor import Executor
from core.paths import layers_dir
from core.sparse_layers.debugging.workbench import workbench
from core.sparse_layers.deep_features import extractor_id
from core.sparse_layers.layer_grid import LayerJob, fit_layers, layer_jobs
from core.sparse_layers.sparse_layer import compute_sparse_layer, load_layer
from core.training.store import find_model
from tests.core.local_ray import local_ray  # noqa: F401
from tests.core.threads import one_torch_thread  # noqa: F401
from tests.dashboard.apptest import require

pytestmark = pytest.mark.usefixtures("one_torch_thread")

FIT = ["--n-lambdas", "6", "--eps", "0.05"]


class Recording(Executor):
    """Runs tasks in this process and records which ones it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def imap(self, fn, tasks, common=()):
        self.keys += [t.key for t in tasks]
        yield from super().imap(fn, tasks, common)


def test_names_carry_alpha_only_when_several_are_given():
    assert layer_jobs(["a", "b"], ["raw"], [0.9]) == [
        LayerJob("a-raw", "a", "raw", 0.9),
        LayerJob("b-raw", "b", "raw", 0.9),
    ]
    jobs = layer_jobs(["a"], ["raw", "penultimate:m"], [0.5, 0.99, 0.5])
    assert [j.name for j in jobs] == [
        "a-raw-alpha0.5",
        "a-raw-alpha0.99",
        "a-penultimate-m-alpha0.5",
        "a-penultimate-m-alpha0.99",
    ]
    with pytest.raises(ValueError, match=r"in \(0, 1\]; got \[0.0, 1.5\]"):
        layer_jobs(["a"], ["raw"], [0.0, 0.5, 1.5])


@pytest.fixture(scope="module")
def sequential():
    """Two single-α layers on digits, fitted one after the other."""
    require("digits")
    return {
        a: compute_sparse_layer("digits", "raw", alpha=a, n_lambdas=6, eps=0.05)[0]
        for a in (0.5, 0.99)
    }


@pytest.mark.usefixtures("local_ray")
def test_two_alphas_on_ray_equal_two_sequential_runs(sequential, capsys):
    argv = ["sparse-layer", "--dataset", "digits", "--features", "raw"]
    assert main([*argv, "--alpha", "0.5", "0.99", *FIT, "--ray"]) == 0
    out = capsys.readouterr().out
    for a, before in sequential.items():
        layer = load_layer(f"digits-raw-alpha{a:g}")
        assert f"digits-raw-alpha{a:g}: 6 λ" in out
        assert layer.path.alpha == a and layer.selected == before.selected
        for got, want in ((layer.path, before.path), (layer.dense, before.dense)):
            np.testing.assert_array_equal(got.lambdas, want.lambdas)
            np.testing.assert_array_equal(got.coef, want.coef)
            np.testing.assert_array_equal(got.intercept, want.intercept)
        np.testing.assert_array_equal(layer.test_accuracy, before.test_accuracy)
        assert layer.topk == before.topk


def test_a_rerun_fits_only_what_is_missing_or_changed(capsys):
    require("digits")
    jobs = layer_jobs(["digits"], ["raw"], [0.5, 0.99])
    settings = dict(n_lambdas=5, eps=0.05)
    first = Recording()
    fit_layers(jobs[:1], executor=first, **settings)
    assert first.keys == ["digits-raw-alpha0.5"]
    again = Recording()
    done = fit_layers(jobs, executor=again, **settings)
    assert again.keys == ["digits-raw-alpha0.99"]  # the stored one is kept
    assert [kept for _, kept in done] == [True, False]
    # Other settings, or --no-resume, fit it again.
    other = Recording()
    fit_layers(jobs, executor=other, n_lambdas=4, eps=0.05)
    assert other.keys == [j.name for j in jobs]
    forced = Recording()
    fit_layers(jobs, executor=forced, resume=False, n_lambdas=4, eps=0.05)
    assert forced.keys == [j.name for j in jobs]
    assert sorted(p.name for p in layers_dir().iterdir()) == [j.name for j in jobs]


def test_a_failing_layer_is_reported_and_the_others_stored(capsys):
    require("digits")
    argv = ["sparse-layer", "--dataset", "digits", "no-such-data"]
    code = main([*argv, "--features", "raw", *FIT, "--max-retries", "0"])
    err = capsys.readouterr().err
    assert code == 1
    assert "1 of 2 tasks failed" in err and "no-such-data-raw:" in err
    assert load_layer("digits-raw").dataset == "digits"


def test_a_model_trained_again_under_its_id_is_not_resumed(capsys):
    require("breast_cancer")
    train = ["train", "--dataset", "breast_cancer", "--model", "mlp", "--epochs", "1"]
    assert main([*train, "--seed", "0", "--id", "bc"]) == 0
    jobs = layer_jobs(["breast_cancer"], ["penultimate:bc"], [0.99])
    settings = dict(n_lambdas=4, eps=0.05)
    ((layer, _),) = fit_layers(jobs, **settings)
    assert layer.encoder == extractor_id("penultimate:bc")
    assert layer.encoder.startswith("model-")
    kept = Recording()
    fit_layers(jobs, executor=kept, **settings)
    assert kept.keys == []
    # The same id trained again (another seed): other weights, other features.
    shutil.rmtree(find_model("bc").path)
    assert main([*train, "--seed", "1", "--id", "bc"]) == 0
    with pytest.raises(ValueError, match=r"trained again since\)\. Refit the layer"):
        workbench(load_layer(jobs[0].name))
    refit = Recording()
    fit_layers(jobs, executor=refit, **settings)
    assert refit.keys == [jobs[0].name]
    workbench(load_layer(jobs[0].name))  # the refitted layer opens
