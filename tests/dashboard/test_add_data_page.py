"""The Add data page under AppTest: good files, bad files, fuzzed files, and a
registered CSV carried through training to the Input gradients page."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from core.data import dataset_names, load_dataset
from core.data.user import add_table, mimic, registered
from core.training.penalties import make_penalty
from core.training.train import TrainConfig, store_result, train
from dashboard.common import state
from tests.core.data.test_user import SCRIPT, _corpus, cohort_frame
from tests.core.data.test_user_validation import BAD_TABLES
from tests.dashboard.apptest import assert_ok, run_app

PAGE = "app_pages/data/add_data.py"
GRADIENTS_PAGE = "app_pages/neural_lasso/gradients.py"


def _open() -> AppTest:
    at = run_app(None, PAGE)
    assert_ok(at, errors=True)
    return at


def _upload(at: AppTest, kind: str, name: str, data: bytes) -> AppTest:
    if at.radio(key=state.ADD_KIND).value != kind:
        at.radio(key=state.ADD_KIND).set_value(kind).run()
    at.file_uploader(key=state.for_dataset(state.ADD_UPLOAD, kind)).set_value(
        (name, data, "application/octet-stream")
    ).run()
    assert_ok(at)
    return at


def _per_file(key: str, data: bytes) -> str:
    return state.for_setting(key, hashlib.sha256(data).hexdigest()[:12])


def _roles(key: str, data: bytes, target: str, id_column: str) -> str:
    sha = hashlib.sha256(data).hexdigest()[:12]
    return state.for_setting(key, sha, target, id_column)


def _rendered(at: AppTest) -> list[str]:
    out = [m.value for m in at.markdown] + [c.value for c in at.caption]
    out += [e.value for e in at.error] + [s.value for s in at.success]
    return out


def test_good_csv_is_previewed_registered_chosen_and_deleted():
    data = cohort_frame().to_csv(index=False).encode()
    at = _upload(_open(), "table", "Ward Cohort.csv", data)
    assert "limit" in at.caption[0].value and "SPARSELENS_MAX_UPLOAD_MB" in (
        at.caption[0].value
    )
    rows, profile = (d.value for d in at.dataframe[:2])
    assert len(rows) == 20 and list(profile["column"]) == list(cohort_frame().columns)
    assert at.selectbox(key=_per_file(state.ADD_TARGET, data)).value == "outcome"
    ignored = at.multiselect(key=_roles(state.ADD_IGNORE, data, "outcome", "(none)"))
    assert ignored.value == ["patient"]  # mostly distinct: looks like an ID
    at.selectbox(key=_per_file(state.ADD_ID, data)).set_value("patient").run()
    categorical = _roles(state.ADD_CATEGORICAL, data, "outcome", "patient")
    assert at.multiselect(key=categorical).value == ["ward"]
    at.multiselect(key=_roles(state.ADD_IGNORE, data, "outcome", "patient")).set_value(
        ["visit"]
    )
    at.radio(key=state.ADD_SCALING).set_value("zscore")
    name_key = state.for_setting(state.ADD_NAME, "table", "Ward Cohort.csv")
    assert at.text_input(key=name_key).value == "ward_cohort"
    at.button(key=state.ADD_SUBMIT).click().run()
    assert_ok(at, errors=True)
    assert "Registered ward_cohort" in at.success[0].value
    assert at.selectbox(key=state.DATASET).value == "ward_cohort"
    assert "ward_cohort" in at.selectbox(key=state.DATASET).options[-1]
    ds = load_dataset("ward_cohort")
    assert "visit" not in ds.feature_names and ds.preprocessing.method == "zscore"
    assert ds.info["id_column"] == "patient"
    assert list(at.dataframe[-1].value["name"]) == ["ward_cohort"]

    # The Data page shows it like any other dataset.
    at.switch_page("app_pages/data/data.py").run()
    assert_ok(at, errors=True)
    assert "ward_cohort" in at.title[0].value

    at.switch_page(PAGE).run()
    at.checkbox(key=state.ADD_DELETE_CONFIRM).check().run()
    at.button(key=state.ADD_DELETE).click().run()
    assert_ok(at, errors=True)
    assert "Deleted ward_cohort" in at.success[0].value
    assert "ward_cohort" not in dataset_names() and not registered()


def test_bad_file_shows_a_precise_error_and_registers_nothing():
    at = _upload(_open(), "table", "bad.csv", b"a,b,y\n1,u,0\n2,v,1,9\n")
    assert "line 3: 4 fields, but the header has 3" in at.error[0].value.replace(
        "\\", ""
    )
    at.text_input(key=state.for_dataset(state.ADD_PATH, "table")).set_value(
        "/nonexistent/file.csv"
    )
    at.file_uploader(key=state.for_dataset(state.ADD_UPLOAD, "table")).clear().run()
    assert_ok(at)
    assert "is not a file" in at.error[0].value.replace("\\", "")
    assert not registered()


def test_a_file_that_reads_but_cannot_register_says_why():
    data = cohort_frame().to_csv(index=False).encode()
    at = _upload(_open(), "table", "c.csv", data)
    at.selectbox(key=_per_file(state.ADD_TARGET, data)).set_value("HR")
    at.button(key=state.ADD_SUBMIT).click().run()
    assert_ok(at)
    message = at.error[0].value.replace("\\", "")
    assert "the label 'HR' is missing on line(s)" in message
    assert not registered()


def test_every_bad_file_of_the_corpus_is_an_error_not_a_traceback():
    at = _open()
    for filename, data, options, _ in BAD_TABLES:
        if options or filename.endswith(".xlsx"):
            continue  # role-dependent cases; .xlsx is not offered by the uploader
        _upload(at, "table", filename, data)
        # Either the preview already refuses it, or registering does.
        if not at.error:
            at.button(key=state.ADD_SUBMIT).click().run()
            assert_ok(at)
        assert at.error, filename
        assert not registered(), filename


_APP: dict[str, AppTest] = {}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    data=st.binary(max_size=300),
    ext=st.sampled_from(["csv", "parquet", "jsonl", "npz"]),
)
def test_fuzzed_uploads_never_crash_the_page(data, ext):
    kind = {"csv": "table", "parquet": "table", "jsonl": "texts", "npz": "features"}
    at = _APP.setdefault("at", _open())  # one app for every example: faster
    _upload(at, kind[ext], f"fuzz.{ext}", data)
    if not at.error:  # the preview accepted it (or there is none): register
        at.button(key=state.ADD_SUBMIT).click().run()
        assert_ok(at)
    assert at.error and not registered()


def _npy_header(shape: tuple[int, ...]) -> bytes:
    buf = io.BytesIO()
    header = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue()


#: (kind, file name, bytes, message): uploads built to exhaust the server.
HOSTILE = [
    (
        "features",
        "huge.npy",
        _npy_header((10_000_000, 10_000)) + bytes(16),
        "array 'X' declares shape (10000000, 10000) of float64, 800 GB once read",
    ),
    (
        "texts",
        "deep.jsonl",
        b'{"text": "a", "label": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n",
        "deep.jsonl, line 1: JSON that cannot be read as a table",
    ),
]


def test_hostile_uploads_are_errors_not_tracebacks():
    at = _open()
    for kind, filename, data, message in HOSTILE:
        _upload(at, kind, filename, data)
        if not at.error:  # a NumPy file is read when registered
            at.button(key=state.ADD_SUBMIT).click().run()
            assert_ok(at)
        assert message in at.error[0].value.replace("\\", ""), filename
    assert not registered()


def test_out_of_memory_and_unexpected_errors_are_shown_not_raised(monkeypatch):
    from dashboard.app_pages.data import adding

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    def a_bug(*args, **kwargs):
        raise KeyError("surprise")

    at = _open()
    for fail, data, message in (
        (out_of_memory, b"a,y\n1,0\n", "Not enough memory for reading oom.csv"),
        (a_bug, b"a,y\n2,0\n", "Reading oom.csv failed with an unexpected KeyError"),
    ):
        monkeypatch.setattr(adding, "read_table", fail)
        _upload(at, "table", "oom.csv", data)
        assert message in at.error[0].value.replace("\\", "")


def test_texts_with_html_are_shown_as_text_and_registered():
    data = pd.DataFrame(_corpus()).to_csv(index=False).encode()
    at = _upload(_open(), "texts", "reviews.csv", data)
    assert at.selectbox(key=_per_file(state.ADD_TEXT, data)).value == "text"
    at.button(key=state.ADD_SUBMIT).click().run()
    assert_ok(at, errors=True)
    assert load_dataset("reviews").modality == "text"
    at.switch_page("app_pages/data/data.py").run()
    assert_ok(at, errors=True)
    assert not any("<script" in r for r in _rendered(at))
    assert SCRIPT not in "".join(_rendered(at))


def test_features_and_mimic_through_the_page(tmp_path):
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    np.savez(buf, X=rng.normal(size=(40, 3)), y=np.arange(40) % 2)
    at = _upload(_open(), "features", "emb.npz", buf.getvalue())
    at.button(key=state.ADD_SUBMIT).click().run()
    assert_ok(at, errors=True)
    assert load_dataset("emb").n_features == 3

    path = tmp_path / "extract.csv"
    mimic.synthetic_extract(50, seed=5).to_csv(path, index=False)
    at.radio(key=state.ADD_KIND).set_value("mimic").run()
    at.text_input(key=state.for_dataset(state.ADD_PATH, "mimic")).set_value(
        str(path)
    ).run()
    assert_ok(at, errors=True)
    name_key = state.for_setting(state.ADD_NAME, "mimic", "extract.csv")
    assert at.text_input(key=name_key).value == "mimic_sepsis"
    at.button(key=state.ADD_SUBMIT).click().run()
    assert_ok(at, errors=True)
    assert load_dataset("mimic_sepsis").n_features == 47


def test_registered_csv_trains_a_gradient_l1_mlp_and_opens_input_gradients():
    """End to end: register a CSV, train a gradient-L1 MLP, inspect it."""
    frame = cohort_frame(80)
    add_table(
        frame.to_csv(index=False).encode(),
        filename="e2e.csv",
        name="e2e",
        target="outcome",
        id_column="patient",
        ranges=b"feature,unit,low,high\nHR,bpm,60,100\n",
        ranges_filename="ranges.csv",
    )
    ds = load_dataset("e2e")
    result = train(ds, "mlp", [make_penalty("grad_l1", 0.1)], TrainConfig(epochs=2))
    store_result(result, ds, model_id="e2e-grad")
    at = run_app("e2e", GRADIENTS_PAGE)
    assert_ok(at, errors=True)
    models = state.for_dataset(state.INSPECT_MODELS, "e2e")
    assert at.multiselect(key=models).value == ["e2e-grad"]
    (chart,) = at.get("plotly_chart")
    assert "HR" in chart.proto.spec
