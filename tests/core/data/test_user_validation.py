"""Bad files are refused with a message naming where and what to do; fuzzed too.

The corpus below is also fed to the Add data page (tests/dashboard).
"""

from __future__ import annotations

import csv
import io
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.data import dataset_names, load_dataset
from core.data.user import add_features, add_table, add_texts, delete, registered
from core.data.user.validate import max_upload_mb, neutralise_formula
from core.errors import InvalidDataError
from core.paths import user_data_dir

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def rows(n: int, *, y=lambda i: i % 2, extra=lambda i: "") -> bytes:
    """``a,b,y`` with ``n`` rows: a numeric, b categorical."""
    lines = ["a,b,y"] + [f"{i * 1.5},{'uv'[i % 2]}{extra(i)},{y(i)}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


#: (file name, bytes, options, expected message): every kind of bad input.
BAD_TABLES = [
    ("empty.csv", b"", {}, r"is empty \(0 bytes\)"),
    ("blank.csv", b"\n \n\n", {}, "only blank lines"),
    ("noheader.csv", b"1,2,3\n4,5,6\n", {}, "line 1: the first row holds only numbers"),
    ("dup.csv", b"a,a,y\n1,2,0\n", {}, "columns 1 and 2 are both named 'a'"),
    ("blankname.csv", b"a,,y\n1,2,0\n", {}, "column 2 has a blank name"),
    ("headeronly.csv", b"a,b,y\n", {}, "a header but no data rows"),
    ("onerow.csv", b"a,b,y\n1,u,0\n", {}, r"has 1 usable row\(s\)"),
    ("oneclass.csv", rows(20, y=lambda i: "x"), {}, "one class only"),
    (
        "nan_target.csv",
        rows(20, y=lambda i: "" if i in (2, 7) else i % 2),
        {},
        r"the label 'y' is missing on line\(s\) 4, 9",
    ),
    (
        "nonnumeric.csv",
        b"a,b,y\n"
        + b"".join(f"{i},u,{i % 2}\n".encode() for i in range(30))
        + b"oops,u,1\n",
        {},
        r"line 32, column 'a': 'oops' is not a number",
    ),
    (
        "allnan.csv",
        rows(20, extra=lambda i: "")
        .replace(b"a,b,y", b"a,b,y,z")
        .replace(b"\n", b",\n")
        .replace(b"a,b,y,z,\n", b"a,b,y,z\n"),
        {"roles": {"z": "numeric"}},
        "column 'z' has no values",
    ),
    (
        "constant.csv",
        rows(20, extra=lambda i: ""),
        {"roles": {"b": "categorical"}},
        None,
    ),
    (
        "mixed.csv",
        b"a,b,y\n" + "1,é,0\n".encode() + "2,é,1\n".encode("latin-1"),
        {},
        r"line 3: byte 0xe9 is not UTF-8 .* mixes text encodings",
    ),
    ("garbage.csv", bytes(range(256)) * 4, {}, "NUL byte"),
    ("control.csv", b"a,b,y\n1,\x01,0\n", {}, r"line 2: control character U\+0001"),
    ("parquet.csv", b"PAR1\x00\x00garbage", {}, "is a Parquet file"),
    ("excel.csv", b"PK\x03\x04\x14\x00", {}, "zip archive"),
    ("bad.parquet", b"PAR1 not really parquet PAR1", {}, "not a readable Parquet"),
    ("data.xlsx", b"a,b,y\n", {}, "unsupported file type '.xlsx'"),
    (
        "formula.csv",
        b"a,=cmd|' /C calc'!A0,y\n1,2,0\n",
        {},
        "column 2's name \"=cmd|' /C calc'!A0\" starts with '='",
    ),
    (
        "ragged.csv",
        b"a,b,y\n1,u,0\n2,v,1,9\n",
        {},
        "line 3: 4 fields, but the header has 3",
    ),
    ("quote.csv", b'a,b,y\n1,"u,0\n', {}, "not valid CSV"),
    ("target.csv", rows(20), {"target": "label"}, "no column 'label' for the label"),
    (
        "continuous.csv",
        rows(80, y=lambda i: i * 0.37),
        {},
        "80 distinct values, more than the 50 classes",
    ),
    (
        "rare.csv",
        rows(20, y=lambda i: "r" if i == 4 else i % 2),
        {},
        r"class 'r' of 'y' has 1 row\(s\) \(line 6\)",
    ),
    (
        "wide.csv",
        (
            ",".join([f"c{j}" for j in range(15)] + ["y"])
            + "\n"
            + "".join(
                ",".join(str((i * 7 + j * 3) % 11) for j in range(15)) + f",{i % 2}\n"
                for i in range(12)
            )
        ).encode(),
        {},
        "15 columns but only 12 rows",
    ),
]
# constant.csv: column b is "u"/"v"; make it constant instead.
BAD_TABLES[11] = (
    "constant.csv",
    rows(20).replace(b",u,", b",k,").replace(b",v,", b",k,"),
    {"roles": {"b": "categorical"}},
    "column 'b' is constant",
)


def _nothing_registered() -> None:
    assert not registered()
    home = user_data_dir()
    assert not home.exists() or not list(home.iterdir())


@pytest.mark.parametrize(
    "filename,data,options,message", BAD_TABLES, ids=[c[0] for c in BAD_TABLES]
)
def test_bad_tables_are_refused_with_a_precise_message(
    filename, data, options, message
):
    options = {"target": "y", **options}
    with pytest.raises(InvalidDataError, match=message):
        add_table(data, filename=filename, name="bad", **options)
    _nothing_registered()


def test_the_size_limit_is_configurable(monkeypatch):
    monkeypatch.setenv("SPARSELENS_MAX_UPLOAD_MB", "0.0001")
    assert max_upload_mb() == 0.0001
    with pytest.raises(
        InvalidDataError, match="over the 0.0001 MB limit.*SPARSELENS_MAX"
    ):
        add_table(rows(50), filename="big.csv", name="big", target="y")
    monkeypatch.setenv("SPARSELENS_MAX_UPLOAD_MB", "lots")
    with pytest.raises(InvalidDataError, match="must be a positive number"):
        max_upload_mb()
    monkeypatch.delenv("SPARSELENS_MAX_UPLOAD_MB")
    assert max_upload_mb() == 200
    _nothing_registered()


def test_accepted_oddities_cp1252_semicolons_formula_cells_and_missing_tokens():
    text = "a;b;y\n" + "".join(
        f"{'NA' if i == 3 else i};{'=HYPERLINK(1)' if i == 5 else 'café'[i % 4]};{i % 2}\n"
        for i in range(30)
    )
    reg = add_table(text.encode("cp1252"), filename="w.csv", name="ok", target="y")
    src = reg.manifest["source"]
    assert src["encoding"] == "cp1252" and src["delimiter"] == ";"
    assert any(
        "line 7, column 'b'" in w and "formula" in w for w in reg.manifest["warnings"]
    )
    ds = load_dataset("ok")
    assert "b==HYPERLINK(1)" in ds.feature_names and "b=é" in ds.feature_names
    assert ds.info["missingness"]["missing_counts"] == {"a": 1}


def test_formula_cells_are_neutralised_for_csv_export():
    assert neutralise_formula("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0"
    for prefix in "=+-@\t\r":
        assert neutralise_formula(prefix + "x").startswith("'")
    assert neutralise_formula("-1.5") == "-1.5" and neutralise_formula(3) == 3


@pytest.mark.parametrize(
    "ranges,message",
    [
        (b"feature,unit,low,high\nnope,mg,1,2\n", "line 2: 'nope' is not a numeric"),
        (b"feature,unit,low,high\na,mg,3,2\n", "low 3 is above high 2"),
        (b"feature,unit,low,high\na,mg,x,2\n", "low 'x' is not a number"),
        (b"feature,unit,low,high\na,mg,1,\n", "give both low and high"),
        (b"feature,unit,low,high\na,,1,2\na,,1,2\n", "line 3: 'a' is listed twice"),
        (b"name,unit\na,mg\n", "no column feature, low, high"),
    ],
)
def test_bad_ranges_files(ranges, message):
    with pytest.raises(InvalidDataError, match=message):
        add_table(
            rows(20),
            filename="t.csv",
            name="r",
            target="y",
            ranges=ranges,
            ranges_filename="ranges.csv",
        )
    _nothing_registered()


def test_bad_texts():
    base = "text,label\n" + "".join(f"word{i} here,{i % 2}\n" for i in range(20))
    with pytest.raises(InvalidDataError, match="no column 'body' for the text"):
        add_texts(base.encode(), filename="t.csv", name="t", text_column="body")
    blank = base.replace("word3 here", " ")
    with pytest.raises(
        InvalidDataError, match=r"the text 'text' is missing on line\(s\) 5"
    ):
        add_texts(blank.encode(), filename="t.csv", name="t")
    reg = add_texts(blank.encode(), filename="t.csv", name="t", drop_missing=True)
    assert len(load_dataset("t").train) + 1 < 20 and reg.manifest["warnings"]
    with pytest.raises(InvalidDataError, match="line 2: not valid JSON"):
        add_texts(b'{"text": "a", "label": 1}\n{oops\n', filename="t.jsonl", name="j")
    with pytest.raises(InvalidDataError, match="line 1: a JSON list"):
        add_texts(b"[1, 2]\n", filename="t.jsonl", name="j")


# ------------------------------------------------------------------- fuzz

_CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "NA",
            "nan",
            "inf",
            "-1",
            "1e308",
            "=cmd|' /C calc'!A0",
            "@SUM(1)",
            "<script>alert(1)</script>",
            '"',
            "a,b",
            "line\nbreak",
            "é",
            "\t",
            "0",
            "1",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-5, 5).map(str),
    st.text(alphabet=string.printable, max_size=8),
)


@st.composite
def tables_(draw):
    """Near-valid tables (a few poisoned cells) half the time, anything otherwise."""
    near_valid = draw(st.booleans())
    if near_valid:
        header = ["a", "b", "y"]
        n_rows = draw(st.integers(9, 40))
        body = [
            [
                repr(draw(st.floats(-1e3, 1e3))),
                draw(st.sampled_from(["u", "v"])),
                str(i % 2),
            ]
            for i in range(n_rows)
        ]
        for _ in range(draw(st.integers(0, 3))):  # poison a few cells
            body[draw(st.integers(0, n_rows - 1))][draw(st.integers(0, 2))] = draw(
                _CELLS
            )
    else:
        n_cols = draw(st.integers(1, 5))
        header = draw(
            st.lists(
                st.sampled_from(["a", "b", "y", "", " ", "y ", "=x", "c"]),
                min_size=n_cols,
                max_size=n_cols,
            )
        )
        n_rows = draw(st.integers(0, 30))
        body = [[draw(_CELLS) for _ in range(n_cols)] for _ in range(n_rows)]
        if draw(st.booleans()) and body:  # a ragged row
            body[draw(st.integers(0, len(body) - 1))].append("extra")
    out = io.StringIO()
    csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t"]))).writerows(
        [header, *body]
    )
    encoding = (
        "utf-8" if near_valid else draw(st.sampled_from(["utf-8", "utf-16", "latin-1"]))
    )
    data = out.getvalue().encode(encoding, errors="replace")
    if not near_valid and draw(st.booleans()):  # corrupt a few bytes
        cut = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:cut] + draw(st.binary(max_size=4)) + data[cut + 1 :]
    return data


def _registered_or_refused(call, name: str) -> None:
    """``call()`` registers a loadable dataset or raises InvalidDataError."""
    try:
        call()
    except InvalidDataError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        assert name not in dataset_names()
        event("refused")
    else:
        event("registered")
        ds = load_dataset(name)
        assert ds.train.X is None or np.isfinite(ds.train.X).all()
        delete(name)
    home = user_data_dir()
    assert not home.exists() or not list(home.iterdir())


@FUZZ
@given(
    data=tables_(),
    target=st.sampled_from(["y", "a"]),
    ext=st.sampled_from([".csv", ".tsv"]),
)
def test_fuzzed_tables_register_cleanly_or_say_why(data, target, ext):
    _registered_or_refused(
        lambda: add_table(data, filename=f"f{ext}", name="fz", target=target), "fz"
    )


@FUZZ
@given(
    data=st.binary(max_size=600),
    ext=st.sampled_from([".csv", ".parquet", ".jsonl", ".npz", ".npy"]),
)
def test_fuzzed_bytes_of_every_format_are_refused_cleanly(data, ext):
    if ext in (".npz", ".npy"):
        call = lambda: add_features(data, filename="f" + ext, name="fb")  # noqa: E731
    elif ext == ".jsonl":
        call = lambda: add_texts(data, filename="f.jsonl", name="fb")  # noqa: E731
    else:
        call = lambda: add_table(data, filename="f" + ext, name="fb", target="y")  # noqa: E731
    _registered_or_refused(call, "fb")


@FUZZ
@given(
    n=st.integers(0, 40),
    d=st.integers(0, 6),
    n_labels=st.integers(0, 42),
    classes=st.integers(1, 4),
    poison=st.sampled_from([None, np.nan, np.inf]),
)
def test_fuzzed_feature_matrices(n, d, n_labels, classes, poison):
    rng = np.random.default_rng(n * 100 + d)
    X = rng.normal(size=(n, d))
    if poison is not None and X.size:
        X.flat[0] = poison
    buf = io.BytesIO()
    labels = n if n_labels % 2 else n_labels  # half the time the lengths match
    np.savez(buf, X=X, y=np.arange(labels) % classes)
    _registered_or_refused(
        lambda: add_features(buf.getvalue(), filename="m.npz", name="fm"), "fm"
    )
