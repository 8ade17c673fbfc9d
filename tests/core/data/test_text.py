"""The text datasets: newsgroups, sst2, mr and toxic."""

from __future__ import annotations

import csv
import io
import tarfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.data import load_dataset, registry
from core.data.builtin.text import (
    decode_text,
    read_newsgroups_archive,
    restore_line_breaks,
    select_tfidf_words,
    word_presence,
)
from core.errors import DataCorruptError

NAMES = ("newsgroups", "sst2", "mr", "toxic")
TOTALS = {
    "newsgroups": 480 + 599 + 319 + 398,
    "sst2": 6920 + 872 + 1821,
    "mr": 10662,
    "toxic": 24783,
}


@pytest.fixture(scope="module")
def loaded(shared_data):
    """Each dataset loaded once (parsed the first time, from the cache after)."""
    return {name: load_dataset(name) for name in NAMES}


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    """An empty data home and cache, for malformed copies of the raw files."""
    home = tmp_path / "data"
    monkeypatch.setenv("SPARSELENS_DATA", str(home))
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path / "cache"))
    return home


def _place(home: Path, rel: str, content: bytes) -> Path:
    path = home / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


# --------------------------------------------------------------------------- shared


@pytest.mark.parametrize("name", NAMES)
def test_labels_are_binary_with_both_classes_in_every_split(loaded, name):
    ds = loaded[name]
    assert ds.task == "binary" and ds.modality == "text" and ds.n_classes == 2
    for split in ds.splits.values():
        assert split.y.dtype == np.int64 and split.ids.dtype == np.int64
        assert set(np.unique(split.y)) == {0, 1}


@pytest.mark.parametrize("name", NAMES)
def test_splits_are_disjoint_and_cover_every_example(loaded, name):
    ids = [s.ids for s in loaded[name].splits.values()]
    every = np.concatenate(ids)
    assert len(np.unique(every)) == len(every) == TOTALS[name]
    assert set(every) == set(range(TOTALS[name]))


@pytest.mark.parametrize("name", NAMES)
def test_texts_are_non_empty_strings(loaded, name):
    ds = loaded[name]
    for split_name, split in ds.splits.items():
        assert len(split.texts) == len(split)
        assert all(isinstance(t, str) for t in split.texts)
        empty = sum(not t.strip() for t in split.texts)
        # Only newsgroup messages can be empty (all quotes); they are counted.
        expected = ds.info["empty_texts"][split_name] if name == "newsgroups" else 0
        assert empty == expected


@pytest.mark.parametrize("name", NAMES)
def test_second_load_hits_the_cache(loaded, name, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("parsed again instead of read from the cache")

    spec = registry.get_spec(name)
    monkeypatch.setitem(registry._REGISTRY, name, replace(spec, build=boom))
    again = load_dataset(name)
    for split_name, split in again.splits.items():
        np.testing.assert_array_equal(split.ids, loaded[name].splits[split_name].ids)
        assert split.texts == loaded[name].splits[split_name].texts


def test_decode_text_prefers_utf8_then_windows_1252():
    assert decode_text("béart".encode()) == ("béart", "utf-8")
    assert decode_text(b"clich\xe9s \x85 end") == ("clichés … end", "cp1252")
    assert decode_text(b"\x81")[1] == "latin-1"  # undefined in cp1252


# --------------------------------------------------------------------------- newsgroups


def test_newsgroups_sizes_and_features(loaded):
    ds = loaded["newsgroups"]
    assert ds.class_names == ("alt.atheism", "soc.religion.christian")
    counts = ds.info["counts"]
    train_val = {c: counts["train"][c] + counts["val"][c] for c in ds.class_names}
    assert train_val == {"alt.atheism": 480, "soc.religion.christian": 599}
    assert {c: counts["test"][c] for c in ds.class_names} == {
        "alt.atheism": 319,
        "soc.religion.christian": 398,
    }
    assert len(ds.val) == round(0.1 * 1079)
    assert ds.info["skipped_files"] == ["20news-bydate-train/alt.atheism/54473-o"]
    assert len(ds.feature_names) == len(set(ds.feature_names)) == 5000
    assert ds.preprocessing.method == "identity"
    for split in ds.splits.values():
        assert split.X.shape == (len(split), 5000) and split.X.dtype == np.float32
        assert not np.isnan(split.X).any()
        assert set(np.unique(split.X)) <= {0.0, 1.0}
    # Empty messages have no features; most others have many.
    empty = np.array([not t.strip() for t in ds.train.texts])
    assert not ds.train.X[empty].any()
    assert np.median(ds.train.X.sum(axis=1)) > 20


def test_newsgroups_headers_are_removed(loaded, shared_data):
    ds = loaded["newsgroups"]
    texts = [t for s in ds.splits.values() for t in s.texts]
    starts = ("From:", "Subject:", "Organization:", "Lines:")
    header_led = sum(t.lstrip().startswith(starts) for t in texts)
    # A handful of messages quote a header block in their body; sklearn keeps it.
    assert header_led <= 0.01 * len(texts)
    # No text keeps its own message's first header line (its sender). Other
    # header lines can recur legitimately: replies quote the Subject.
    messages, _ = read_newsgroups_archive(shared_data / "20news/20news-bydate.tar.gz")
    by_article = {
        (m["split"] == "test", int(m["article"])): m["text"] for m in messages
    }
    for split_name, split in ds.splits.items():
        for article, text in zip(split.meta["article"], split.texts, strict=True):
            raw = by_article[(split_name == "test", int(article))]
            sender = raw.split("\n", 1)[0]
            assert sender not in text.split("\n"), article


def _news_tar(
    tmp_path: Path,
    *,
    groups=("alt.atheism", "soc.religion.christian"),
    body: str | None = None,
) -> bytes:
    def message(i: int, group: str, flatten: bool) -> bytes:
        lines = [
            f"From: user{i}@example.org",
            f"Subject: post {i}",
            "Lines: 3",
            "",
            "In article <x> someone writes:",
            "> quoted line",
            body or f"body {group.split('.')[-1]} word{i % 3} shared text",
            "",
            "-- signature",
        ]
        text = ("\t" if flatten else "\n").join(lines) + "\n"
        return text.encode("latin-1")

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for split in ("train", "test"):
            for group in groups:
                names = [str(100 + i) for i in range(10)]
                if split == "train" and group == "alt.atheism":
                    names.append("109-o")
                for i, name in enumerate(names):
                    data = message(i, group, flatten=split == "train")
                    info = tarfile.TarInfo(f"20news-bydate-{split}/{group}/{name}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_newsgroups_parses_a_small_archive(tmp_home, tmp_path):
    _place(tmp_home, "20news/20news-bydate.tar.gz", _news_tar(tmp_path))
    ds = load_dataset("newsgroups", n_features=4)
    assert len(ds.train) + len(ds.val) == 20 and len(ds.test) == 20
    assert ds.info["skipped_files"] == ["20news-bydate-train/alt.atheism/109-o"]
    assert ds.info["line_breaks_restored"] == 20
    assert ds.train.X.shape[1] == len(ds.feature_names) == 4
    for text in ds.train.texts + ds.test.texts:
        assert text.startswith("body ")
        assert "From:" not in text and "quoted" not in text and "signature" not in text


def test_newsgroups_truncated_archive_is_corrupt(tmp_home, tmp_path):
    whole = _news_tar(tmp_path)
    _place(tmp_home, "20news/20news-bydate.tar.gz", whole[: len(whole) // 2])
    with pytest.raises(DataCorruptError, match="20news-bydate.tar.gz"):
        load_dataset("newsgroups")


def test_newsgroups_archive_without_a_group_is_corrupt(tmp_home, tmp_path):
    _place(
        tmp_home,
        "20news/20news-bydate.tar.gz",
        _news_tar(tmp_path, groups=("alt.atheism",)),
    )
    with pytest.raises(
        DataCorruptError, match=r"20news-bydate.tar.gz.*soc\.religion\.christian"
    ):
        load_dataset("newsgroups")


def test_newsgroups_without_training_words_is_corrupt(tmp_home, tmp_path):
    # Single letters are no words to TfidfVectorizer: the vocabulary is empty.
    _place(tmp_home, "20news/20news-bydate.tar.gz", _news_tar(tmp_path, body="a b c"))
    with pytest.raises(
        DataCorruptError, match=r"20news-bydate.tar.gz: no words are left"
    ):
        load_dataset("newsgroups")


def test_word_presence_marks_the_top_training_words_in_every_text():
    texts = [
        "Apple pie and apple juice",
        "pie crust",
        "juice box",
        "unseen words only here",  # not a training text
    ]
    train = np.array([0, 1, 2])
    X, words, prep = word_presence(texts, train, 3, cleaning="lower-cased")
    _, _, expected = select_tfidf_words(texts[:3], 3)
    assert words == expected and len(words) == 3
    assert "unseen" not in words  # chosen from the training texts only
    assert X.dtype == np.float32 and X.shape == (4, 3)
    tokens = [set(t.lower().split()) for t in texts]
    np.testing.assert_array_equal(
        X, [[float(w in seen) for w in words] for seen in tokens]
    )
    assert prep.method == "identity"
    assert prep.description == (
        "lower-cased; the 3 words with the largest summed TF-IDF weight over the "
        "training split; X = 1 where the word occurs in the text, else 0"
    )


def test_word_presence_without_words_raises_value_error():
    with pytest.raises(ValueError, match="empty vocabulary"):
        word_presence(["a b", "c"], np.array([0, 1]), 5)


def test_restore_line_breaks_leaves_multiline_messages_alone():
    assert restore_line_breaks("From: a\tSubject: b\t\tbody\n") == (
        "From: a\nSubject: b\n\nbody\n",
        True,
    )
    assert restore_line_breaks("From: a\n\nbody\twith tab\n") == (
        "From: a\n\nbody\twith tab\n",
        False,
    )


# --------------------------------------------------------------------------- sst2


def test_sst2_official_splits(loaded):
    ds = loaded["sst2"]
    assert (len(ds.train), len(ds.val), len(ds.test)) == (6920, 872, 1821)
    assert ds.class_names == ("negative", "positive")
    assert ds.train.X is None and ds.preprocessing is None
    # The files are UTF-8: decoding them as latin-1 would give "bÃ©art".
    assert any("béart" in t for t in ds.train.texts)
    assert not any("Ã" in t for s in ds.splits.values() for t in s.texts)


def _copy_sst2(home: Path, shared: Path) -> None:
    for part in ("train", "dev", "test"):
        _place(
            home,
            f"sst2/stsa.binary.{part}",
            (shared / f"sst2/stsa.binary.{part}").read_bytes(),
        )


@pytest.mark.parametrize(
    ("bad_line", "part"),
    [("no label here", "train"), ("2 a label outside 0 and 1", "dev"), ("1", "test")],
)
def test_sst2_malformed_line_is_corrupt(tmp_home, shared_data, bad_line, part):
    _copy_sst2(tmp_home, shared_data)
    path = tmp_home / f"sst2/stsa.binary.{part}"
    lines = path.read_bytes().split(b"\n")
    lines[2] = bad_line.encode()
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(
        DataCorruptError, match=rf"stsa\.binary\.{part}, line 3: expected"
    ):
        load_dataset("sst2")


# --------------------------------------------------------------------------- mr


def test_mr_split_80_10_10(loaded):
    ds = loaded["mr"]
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8528, 1067, 1067)
    assert ds.info["encoding"] == "cp1252"
    counts = ds.info["counts"]
    assert sum(counts[s]["negative"] for s in counts) == 5331
    texts = [t for s in ds.splits.values() for t in s.texts]
    # Windows-1252 ellipses and dashes, not latin-1 control characters.
    assert any("…" in t for t in texts) and not any("\x85" in t for t in texts)


def test_mr_bad_label_is_corrupt(tmp_home, shared_data):
    lines = (shared_data / "mr/rt-polarity.all").read_bytes().split(b"\n")
    lines[4] = b"7" + lines[4][1:]
    _place(tmp_home, "mr/rt-polarity.all", b"\n".join(lines))
    with pytest.raises(DataCorruptError, match=r"rt-polarity\.all, line 5: expected"):
        load_dataset("mr")


def _mr_archive(neg: list[bytes], pos: list[bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, lines in (("neg", neg), ("pos", pos)):
            data = b"\n".join(lines) + b"\n"
            info = tarfile.TarInfo(f"rt-polaritydata/rt-polarity.{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_mr_reads_the_canonical_archive_like_the_combined_file(tmp_home, shared_data):
    lines = (shared_data / "mr/rt-polarity.all").read_bytes().split(b"\n")[:-1]
    neg = [line[2:] for line in lines if line.startswith(b"0 ")]
    pos = [line[2:] for line in lines if line.startswith(b"1 ")]
    _place(tmp_home, "mr/rt-polaritydata.tar.gz", _mr_archive(neg, pos))
    from_archive = load_dataset("mr")
    from_combined = load_dataset("mr", data_dir=shared_data)
    for name, split in from_archive.splits.items():
        np.testing.assert_array_equal(split.ids, from_combined.splits[name].ids)
        np.testing.assert_array_equal(split.y, from_combined.splits[name].y)
        assert split.texts == from_combined.splits[name].texts


def test_mr_truncated_archive_is_corrupt(tmp_home):
    whole = _mr_archive([b"bad film ."] * 2000, [b"good film ."] * 2000)
    _place(tmp_home, "mr/rt-polaritydata.tar.gz", whole[: len(whole) // 2])
    with pytest.raises(DataCorruptError, match=r"rt-polaritydata\.tar\.gz"):
        load_dataset("mr")


# --------------------------------------------------------------------------- toxic


def test_toxic_labels_and_meta(loaded):
    ds = loaded["toxic"]
    assert ds.class_names == ("neither", "toxic")
    assert ds.info["davidson_counts"] == {
        "hate speech": 1430,
        "offensive language": 19190,
        "neither": 4163,
    }
    n = TOTALS["toxic"]
    assert [len(s) for s in ds.splits.values()] == [
        pytest.approx(0.7 * n, abs=2),
        pytest.approx(0.1 * n, abs=2),
        pytest.approx(0.2 * n, abs=2),
    ]
    for split in ds.splits.values():
        davidson = split.meta["davidson_class"]
        np.testing.assert_array_equal(split.y, (davidson != 2).astype(np.int64))
        assert not any("&amp;" in t for t in split.texts)
    assert any(" & " in t for t in ds.train.texts)


def test_toxic_balanced_test_changes_only_the_test_split(loaded):
    default = loaded["toxic"]
    balanced = load_dataset("toxic", balanced_test=True)
    for name in ("train", "val"):
        np.testing.assert_array_equal(
            balanced.splits[name].ids, default.splits[name].ids
        )
    counts = np.bincount(balanced.test.y)
    assert counts[0] == counts[1] == np.sum(default.test.y == 0)
    assert set(balanced.test.ids) <= set(default.test.ids)
    assert balanced.info["test_rows_dropped_for_balance"] == len(default.test) - len(
        balanced.test
    )


def _toxic_rows(shared: Path, n: int = 50) -> list[list[str]]:
    with open(shared / "toxic/labeled_data.csv", newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))[: n + 1]


def _write_csv(home: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    _place(home, "toxic/labeled_data.csv", out.getvalue().encode())


def test_toxic_missing_column_is_corrupt(tmp_home, shared_data):
    rows = _toxic_rows(shared_data)
    column = rows[0].index("class")
    _write_csv(tmp_home, [r[:column] + r[column + 1 :] for r in rows])
    with pytest.raises(
        DataCorruptError, match=r"labeled_data\.csv, line 1: missing column\(s\) class"
    ):
        load_dataset("toxic")


def test_toxic_class_outside_range_is_corrupt(tmp_home, shared_data):
    rows = _toxic_rows(shared_data)
    rows[7][rows[0].index("class")] = "5"
    _write_csv(tmp_home, rows)
    with pytest.raises(
        DataCorruptError, match=r"labeled_data\.csv, line \d+, column 'class'"
    ):
        load_dataset("toxic")


def test_toxic_short_row_is_corrupt(tmp_home, shared_data):
    rows = _toxic_rows(shared_data)
    rows[3] = rows[3][:4]
    _write_csv(tmp_home, rows)
    with pytest.raises(DataCorruptError, match=r"labeled_data\.csv, line 4: 4 fields"):
        load_dataset("toxic")
