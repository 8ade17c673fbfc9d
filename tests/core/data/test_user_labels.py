"""Class labels and column names as a user's file gives them: many small classes,
look-alike Unicode, invisible characters, and tables far too wide."""

from __future__ import annotations

import io
import unicodedata
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data import load_dataset
from core.data.user import add_table, add_texts, profile, registered
from core.data.user.manifest import summary_of
from core.data.user.tables import read_table
from core.data.user.validate import MAX_COLUMNS
from core.errors import InvalidDataError


def _table(labels: list[str]) -> bytes:
    """``a,b,y``: two numeric columns and the labels."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"a": rng.normal(size=len(labels)), "b": rng.normal(size=len(labels))}
    )
    frame["y"] = labels
    return frame.to_csv(index=False).encode()


def test_49_classes_of_3_rows_split_as_the_readme_promises():
    labels = [f"class{k:02d}" for k in range(49) for _ in range(3)]
    done = add_table(_table(labels), filename="many.csv", name="many", target="y")
    ds = load_dataset("many")
    for part in ("train", "val", "test"):
        assert len(np.unique(ds.splits[part].y)) == 49, part
    assert done.manifest["sizes"] == {"train": 49, "val": 49, "test": 49}
    (warning,) = [w for w in done.manifest["warnings"] if "classes are too" in w]
    assert warning.startswith("many.csv: 49 classes are too many for a 70%/10%/20%")
    assert warning.endswith(
        "at least one row to validation and to test: 49/49/49 rows."
    )


def test_the_usual_split_is_kept_when_the_fractions_allow_it():
    labels = [f"c{k}" for k in range(3) for _ in range(20)]
    done = add_table(_table(labels), filename="few.csv", name="few", target="y")
    assert done.manifest["sizes"] == {"train": 42, "val": 6, "test": 12}
    assert not any("classes are too" in w for w in done.manifest["warnings"])


def test_labels_differing_only_by_normalisation_are_one_class():
    nfc, nfd = "café", unicodedata.normalize("NFD", "café")
    assert nfc != nfd
    labels = [nfc, nfd, "thé"] * 6
    add_table(_table(labels), filename="cafe.csv", name="cafe", target="y")
    assert load_dataset("cafe").class_names == ("café", "thé")


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("txt\u202eexe", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("ok\u200bok", "U+200B (ZERO WIDTH SPACE)"),
        ("a\u2066b", "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ("a\x85b", "U+0085 (a control character)"),
    ],
)
def test_a_class_name_with_an_invisible_character_is_refused(label, shown):
    labels = ["plain", label] * 6
    with pytest.raises(InvalidDataError) as info:
        add_table(_table(labels), filename="bidi.csv", name="bidi", target="y")
    message = str(info.value)
    assert message.startswith(f"bidi.csv, line 3: the label {label!r} of 'y' holds")
    assert shown in message
    assert not registered()


def test_joiners_that_scripts_need_are_kept_in_class_names():
    coder = "\U0001f469\u200d\U0001f4bb"  # woman technologist: an emoji ZWJ sequence
    persian = "می\u200cخواهم"  # a zero-width non-joiner inside a Persian word
    texts = [{"text": f"t{i}", "label": [coder, persian][i % 2]} for i in range(20)]
    data = pd.DataFrame(texts).to_json(orient="records", lines=True).encode()
    add_texts(data, filename="t.jsonl", name="scripts", n_words=0)
    assert set(load_dataset("scripts").class_names) == {coder, persian}


def test_a_column_name_with_a_bidi_override_is_refused():
    data = b"a,b\xe2\x80\xaec,y\n" + b"1,2,0\n" * 12
    with pytest.raises(InvalidDataError, match=r"column 2's name .* holds U\+202E"):
        read_table(data, "cols.csv")


def _wide_csv(n_columns: int) -> bytes:
    header = ",".join(f"c{j}" for j in range(n_columns))
    return (header + "\n" + "\n".join([",".join(["1"] * n_columns)] * 3)).encode()


def test_a_table_too_wide_is_refused_from_its_header_before_profiling(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("profiled a table that is refused by its width")

    monkeypatch.setattr(profile, "profile_columns", never)
    data = _wide_csv(10_000)
    with pytest.raises(InvalidDataError) as info:
        add_table(data, filename="wide.csv", name="wide", target="c0")
    assert str(info.value).startswith(
        f"wide.csv has 10,000 columns, over the {MAX_COLUMNS:,} read from a table"
    )
    frame = pd.DataFrame({f"c{j}": [1.0] for j in range(MAX_COLUMNS + 1)})
    buf = io.BytesIO()
    frame.to_parquet(buf)
    with pytest.raises(InvalidDataError, match="2,001 columns, over the 2,000"):
        add_table(buf.getvalue(), filename="w.parquet", name="wide", target="c0")


def test_the_column_limit_is_the_readers_argument():
    assert list(read_table(_wide_csv(3), "t.csv", max_columns=3).frame.columns) == [
        "c0",
        "c1",
        "c2",
    ]
    with pytest.raises(InvalidDataError, match="t.csv has 3 columns, over the 2 "):
        read_table(_wide_csv(3), "t.csv", max_columns=2)
    line = b'{"a": 1, "b": 2, "c": 3}\n'
    with pytest.raises(InvalidDataError, match="t.jsonl has 3 columns, over the 2 "):
        read_table(line, "t.jsonl", max_columns=2)


def test_a_parquet_file_that_expands_past_the_limit_is_refused_unread(monkeypatch):
    monkeypatch.setenv("SPARSELENS_MAX_UPLOAD_MB", "1")
    table = pa.table({"a": np.ones(70_000), "y": np.arange(70_000) % 2})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    assert len(buf.getvalue()) < 50_000
    with pytest.raises(InvalidDataError) as info:
        add_table(buf.getvalue(), filename="big.parquet", name="big", target="y")
    assert str(info.value).startswith(
        "big.parquet declares 70,000 rows × 2 columns, at least 1.1 MB once read, "
        "over the 1 MB limit."
    )


def test_parquet_pages_that_decompress_past_the_limit_are_refused_from_the_footer(
    monkeypatch,
):
    def never(*args, **kwargs):
        raise AssertionError("read the columns of a file refused by its footer")

    monkeypatch.setenv("SPARSELENS_MAX_UPLOAD_MB", "1")
    # 200 rows × 10 kB of text, written as plain pages: 2 MB once decompressed,
    # a few kB on disk, far under the 8 bytes a cell that check_cells counts.
    table = pa.table({"note": ["x" * 10_000] * 200, "y": np.arange(200) % 2})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=False)
    assert len(buf.getvalue()) < 10_000
    monkeypatch.setattr(pq, "read_table", never)
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", never)
    with pytest.raises(InvalidDataError) as info:
        add_table(buf.getvalue(), filename="notes.parquet", name="n", target="y")
    assert str(info.value).startswith(
        "notes.parquet expands to 2.0 MB once read (its pages, decompressed), over "
        "the 1 MB limit."
    )


def test_a_file_name_with_a_hidden_character_is_summarised_visibly():
    # The file name is kept (it is only shown), so its override is made visible.
    ds = SimpleNamespace(splits={"train": [0] * 3}, n_features=2, n_classes=2)
    line = summary_of(ds, {"file": "report\u202etxt.csv"})
    assert "\u202e" not in line
    assert "report[U+202E]txt.csv" in line
