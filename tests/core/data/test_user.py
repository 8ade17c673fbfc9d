"""Bring your own data: round trips of each kind, the registry, the store."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from core.data import availability, cache, dataset_names, get_spec, load_dataset
from core.data.user import (
    add_features,
    add_mimic,
    add_table,
    add_texts,
    content_stamp,
    delete,
    feature_arrays,
    find,
    mimic,
    registered,
    tables,
)
from core.data.user import manifest as user_manifest
from core.errors import DataCorruptError, InvalidDataError, UnknownNameError
from core.paths import user_data_dir

SCRIPT = "<script>alert('x')</script>"


def cohort_frame(n_patients: int = 40, seed: int = 0) -> pd.DataFrame:
    """Patients with 1-3 rows each: numeric, categorical and missing values."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        ward = ["icu", "ward", "er"][p % 3]
        for visit in range(1 + p % 3):
            hr = rng.normal(80, 15)
            lactate = rng.gamma(2, 1)
            rows.append(
                {
                    "patient": f"P{p:03d}",
                    "visit": visit,
                    "HR": round(hr, 1) if rng.uniform() > 0.1 else "",
                    "lactate": round(lactate, 2),
                    "ward": ward if rng.uniform() > 0.05 else "NA",
                    "outcome": "died" if lactate + rng.normal() > 2.5 else "alive",
                }
            )
    return pd.DataFrame(rows)


RANGES = "feature,unit,low,high\nHR,bpm,60,100\nlactate,mmol/L,0.5,2.2\nvisit,,,\n"


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_table_round_trip_with_ids_ranges_groups_and_imputation(tmp_path):
    path = tmp_path / "cohort.csv"
    frame = cohort_frame()
    path.write_bytes(_csv(frame))
    ranges = tmp_path / "ranges.csv"
    ranges.write_text(RANGES)
    reg = add_table(
        path, name="cohort", target="outcome", id_column="patient", ranges=ranges
    )
    assert reg.folder == user_data_dir() / "cohort"
    assert sorted(p.name for p in reg.folder.iterdir()) == [
        "arrays.npz",
        "manifest.json",
        "meta.json",
    ]
    m = json.loads((reg.folder / "manifest.json").read_text())
    assert m["kind"] == "table" and len(m["content_sha256"]) == 64
    assert m["source"]["file"] == "cohort.csv" and m["source"]["rows"] == len(frame)
    assert "cohort" in dataset_names() and dataset_names()[0] == "synthetic"
    assert availability("cohort").available
    assert get_spec("cohort").stored == reg.folder

    ds = load_dataset("cohort")
    assert ds.class_names == ("alive", "died") and ds.task == "binary"
    names = list(ds.feature_names)
    assert names == [
        "visit",
        "HR",
        "HR_missing",
        "lactate",
        "ward=er",
        "ward=icu",
        "ward=missing",
        "ward=ward",
    ]
    assert ds.feature_groups["HR"] == (1, 2)
    assert ds.feature_groups["ward"] == (4, 5, 6, 7)
    assert ds.units["HR"] == "bpm" and ds.units["HR_missing"] == "indicator"
    assert ds.normal_ranges == {"HR": (60.0, 100.0), "lactate": (0.5, 2.2)}
    assert ds.preprocessing.method == "robust"
    # A patient's rows never span two splits; every row is in exactly one.
    parts = [set(s.ids.tolist()) for s in ds.splits.values()]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert sum(len(s) for s in ds.splits.values()) == len(frame)
    # Imputed cells are flagged and sit at the training median (0 after scaling).
    hr = names.index("HR")
    imputed = ds.train.imputed[:, hr]
    assert imputed.any() and np.allclose(ds.train.X[imputed, hr], 0.0, atol=1e-6)
    assert np.array_equal(ds.train.X[:, hr + 1] > 0, imputed)
    raw = ds.preprocessing.inverse_transform(ds.train.X)
    hr_values = pd.to_numeric(frame["HR"], errors="coerce")
    assert np.isclose(
        ds.info["missingness"]["fill_values"]["HR"], np.median(raw[~imputed, hr])
    )
    assert set(np.round(raw[~imputed, hr], 1)) <= set(hr_values.dropna().round(1))


def test_reload_never_reparses_and_checks_the_content_hash(tmp_path, monkeypatch):
    add_table(_csv(cohort_frame()), filename="c.csv", name="c1", target="outcome")
    first = load_dataset("c1")

    def boom(*a, **k):
        raise AssertionError("re-parsed")

    monkeypatch.setattr(tables, "read_table", boom)
    monkeypatch.setattr(cache, "read", boom)  # the parsed cache is not used either
    again = load_dataset("c1")
    assert np.array_equal(first.train.X, again.train.X)
    folder = find("c1").folder
    with open(folder / "arrays.npz", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(DataCorruptError, match="SHA-256"):
        load_dataset("c1")


def test_parquet_table_round_trip(tmp_path):
    frame = cohort_frame()
    frame["HR"] = pd.to_numeric(frame["HR"], errors="coerce")
    frame["flag"] = frame["visit"] > 0
    path = tmp_path / "cohort.parquet"
    frame.to_parquet(path)
    add_table(path, name="pq", target="outcome", id_column="patient", scaling="zscore")
    ds = load_dataset("pq")
    assert "flag" in ds.feature_names and "HR_missing" in ds.feature_names
    assert ds.preprocessing.method == "zscore"
    assert ds.train.ids.dtype.kind == "U"


def test_roles_can_be_corrected_and_multiclass_works():
    frame = cohort_frame(60)
    frame["grade"] = np.arange(len(frame)) % 3 + 1
    data = _csv(frame)
    reg = add_table(
        data,
        filename="c.csv",
        name="multi",
        target="ward",
        roles={"visit": "categorical", "grade": "ignore", "outcome": "categorical"},
        indicators=False,
        impute="mean",
        drop_missing_target=True,
    )
    ds = load_dataset("multi")
    assert ds.task == "multiclass" and ds.class_names == ("er", "icu", "ward")
    assert "visit=0" in ds.feature_names and "grade" not in ds.feature_names
    assert "HR_missing" not in ds.feature_names
    assert any("dropped" in w for w in reg.manifest["warnings"])
    assert ds.info["ignored_columns"]["grade"] == "set to ignore"


def test_names_replace_and_delete():
    data = _csv(cohort_frame())
    with pytest.raises(InvalidDataError, match="built-in dataset"):
        add_table(data, filename="c.csv", name="adult", target="outcome")
    with pytest.raises(InvalidDataError, match="not allowed"):
        add_table(data, filename="c.csv", name="Bad Name", target="outcome")
    first = add_table(data, filename="c.csv", name="dup", target="outcome")
    with pytest.raises(InvalidDataError, match="already registered"):
        add_table(data, filename="c.csv", name="dup", target="outcome")
    other = _csv(cohort_frame(seed=3))
    second = add_table(
        other, filename="c.csv", name="dup", target="outcome", replace=True
    )
    assert second.content_sha256 != first.content_sha256
    assert content_stamp("dup") == second.content_sha256
    assert content_stamp("adult") is None
    assert [r.name for r in registered()] == ["dup"]
    delete("dup")
    assert "dup" not in dataset_names() and not registered()
    assert not list(user_data_dir().iterdir())  # no trace left
    with pytest.raises(UnknownNameError):
        delete("dup")


def test_a_failed_registration_leaves_nothing(monkeypatch):
    def half_written(dataset, folder):
        (folder / "arrays.npz").write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(cache, "dump", half_written)
    with pytest.raises(OSError, match="disk full"):
        add_table(_csv(cohort_frame()), filename="c.csv", name="half", target="outcome")
    assert "half" not in dataset_names()
    assert not list(user_data_dir().iterdir())


def test_an_unreadable_manifest_is_listed_and_explained():
    folder = user_data_dir() / "broken"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{not json")
    assert "broken" in dataset_names()
    assert "Unreadable" in get_spec("broken").summary
    with pytest.raises(DataCorruptError, match="delete 'broken'"):
        load_dataset("broken")
    delete("broken")
    assert "broken" not in dataset_names()


# ------------------------------------------------------------------ texts


def _corpus(n: int = 40) -> list[dict]:
    good = ["a wonderful film", "great acting and story", "loved every minute"]
    bad = ["a dull film", "terrible acting, weak story", "hated every minute"]
    return [
        {
            "id": i,
            "text": (good if i % 2 else bad)[i % 3] + (f" {SCRIPT}" if i == 5 else ""),
            "label": "pos" if i % 2 else "neg",
        }
        for i in range(n)
    ]


def test_text_csv_round_trip_keeps_html_verbatim(tmp_path):
    path = tmp_path / "reviews.tsv"
    pd.DataFrame(_corpus()).to_csv(path, sep="\t", index=False)
    add_texts(path, name="reviews", text_column="text", label_column="label")
    ds = load_dataset("reviews")
    assert ds.modality == "text" and ds.class_names == ("neg", "pos")
    texts = [t for s in ds.splits.values() for t in s.texts]
    assert sum(SCRIPT in t for t in texts) == 1 and len(texts) == 40
    assert "film" in ds.feature_names and ds.train.X.shape[1] == ds.n_features
    assert set(np.unique(ds.train.X)) <= {0.0, 1.0}
    word = ds.feature_names.index("film")
    assert all(
        ("film" in t) == bool(x)
        for t, x in zip(ds.train.texts, ds.train.X[:, word], strict=True)
    )


def test_text_jsonl_round_trip_without_word_features():
    lines = "\n".join(json.dumps(r) for r in _corpus()) + "\n"
    add_texts(lines.encode(), filename="c.jsonl", name="jl", n_words=0, id_column="id")
    ds = load_dataset("jl")
    assert ds.train.X is None and ds.n_features == 0
    assert ds.train.ids.dtype == np.int64 and len(ds.train.texts) == len(ds.train)


# --------------------------------------------------------------- features


def _features(n: int = 60, d: int = 8, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.1 * rng.normal(size=n) > 0).astype(int)
    return X, y


def test_npz_features_round_trip_and_elastic_net_inputs():
    X, y = _features()
    names = np.asarray([f"unit_{j}" for j in range(X.shape[1])])
    texts = np.asarray([f"sentence {i}" for i in range(len(y))])
    buf = io.BytesIO()
    np.savez(buf, X=X, y=np.where(y, "cat", "dog"), feature_names=names, texts=texts)
    add_features(buf.getvalue(), filename="feats.npz", name="feats")
    ds = load_dataset("feats")
    assert ds.modality == "text" and ds.feature_names[0] == "unit_0"
    a = feature_arrays("feats")
    assert a.X_train.shape == (len(ds.train), 8) and a.X_val.shape[1] == 8
    assert a.class_names == ("cat", "dog") and a.y_train.dtype == np.int64
    assert np.allclose(a.X_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(a.X_train.std(axis=0), 1, atol=1e-4)
    # The scaling maps back to the given features exactly (float32 precision).
    back = ds.preprocessing.inverse_transform(a.X_test)
    assert np.allclose(back, X[ds.test.ids], atol=1e-4)


def test_npy_features_with_a_labels_file_and_a_given_split(tmp_path):
    X, y = _features(80)
    np.save(tmp_path / "X.npy", X)
    (tmp_path / "y.txt").write_text("\n".join(map(str, y)) + "\n")
    add_features(tmp_path / "X.npy", name="npy", labels_source=tmp_path / "y.txt")
    assert load_dataset("npy").feature_names[0] == "f0"
    split = np.array(["train"] * 60 + ["test"] * 20)
    buf = io.BytesIO()
    np.savez(buf, X=X, y=y, split=split)
    add_features(buf.getvalue(), filename="s.npz", name="given")
    ds = load_dataset("given")
    assert len(ds.test) == 20 and len(ds.train) + len(ds.val) == 60
    assert set(ds.test.ids.tolist()) == set(range(60, 80))


def test_parquet_features_with_text_column(tmp_path):
    X, y = _features(50, 5)
    frame = pd.DataFrame(X, columns=[f"d{j}" for j in range(5)])
    frame["label"] = y
    frame["sentence"] = [f"text {i}" for i in range(50)]
    frame.to_parquet(tmp_path / "f.parquet")
    add_features(
        tmp_path / "f.parquet", name="pqf", target="label", text_column="sentence"
    )
    ds = load_dataset("pqf")
    assert ds.feature_names == ("d0", "d1", "d2", "d3", "d4")
    assert ds.train.texts[0].startswith("text ")


def test_features_refuse_pickles_and_mismatched_lengths(tmp_path):
    X, y = _features()
    buf = io.BytesIO()
    np.savez(buf, X=X, y=np.asarray([object()] * len(y), dtype=object))
    with pytest.raises(InvalidDataError, match="never loaded"):
        add_features(buf.getvalue(), filename="p.npz", name="pk")
    buf = io.BytesIO()
    np.savez(buf, X=X, y=y[:-1])
    with pytest.raises(InvalidDataError, match="60 rows but the labels has 59"):
        add_features(buf.getvalue(), filename="m.npz", name="mm")
    X[3, 2] = np.nan
    buf = io.BytesIO()
    np.savez(buf, X=X, y=y)
    with pytest.raises(InvalidDataError, match=r"X\[3, 2\] is nan"):
        add_features(buf.getvalue(), filename="n.npz", name="nn")
    assert not registered()


# ------------------------------------------------------------------ MIMIC


def test_mimic_extract_round_trip(tmp_path):
    path = tmp_path / "sepsis_final_data_withTimes.csv"
    extract = mimic.synthetic_extract(80, seed=2, age_in_days=True)
    extract.to_csv(path, index=False)
    reg = add_mimic(path)
    assert reg.name == "mimic_sepsis" and "days" in reg.manifest["warnings"][0]
    ds = load_dataset("mimic_sepsis")
    assert ds.feature_names == mimic.FEATURES and ds.n_features == 47
    assert ds.class_names == ("survived", "died in hospital")
    assert ds.preprocessing.method == "robust"
    # Robust standardisation: training medians map to 0.
    assert np.allclose(np.median(ds.train.X, axis=0), 0, atol=1e-5)
    # Balanced training classes; validation and test keep the prevalence.
    assert np.bincount(ds.train.y).tolist()[0] == np.bincount(ds.train.y).tolist()[1]
    stays = [set(s.ids.tolist()) for s in ds.splits.values()]
    assert not (stays[0] & stays[2] or stays[1] & stays[2] or stays[0] & stays[1])
    age = ds.preprocessing.inverse_transform(ds.test.X)[
        :, ds.feature_names.index("age")
    ]
    assert age.min() > 18 and age.max() < 95  # days converted to years
    assert ds.units["Arterial_lactate"] == "mmol/L"
    assert ds.normal_ranges["HR"] == (60.0, 100.0)
    assert ds.info["clinical_variable"]["SGOT"] == "AST"


def test_mimic_layout_errors(tmp_path):
    extract = mimic.synthetic_extract(30, seed=1)
    data = _csv(extract.drop(columns=["Arterial_lactate", "SOFA"]))
    with pytest.raises(InvalidDataError, match="Arterial_lactate, SOFA"):
        add_mimic(data, filename="x.csv")
    bad = extract.copy()
    bad.loc[bad.index[bad.icustayid == bad.icustayid.iloc[0]][0], "died_in_hosp"] = (
        1 - bad.died_in_hosp.iloc[0]
    )
    with pytest.raises(InvalidDataError, match="every row of a stay"):
        add_mimic(_csv(bad), filename="x.csv")
    bad = extract.astype({"died_in_hosp": object})
    bad.loc[4, "died_in_hosp"] = "yes"
    with pytest.raises(InvalidDataError, match="line 6: died_in_hosp is 'yes'"):
        add_mimic(_csv(bad), filename="x.csv")
    assert not registered()


def test_registered_summary_is_listed_first_by_name():
    add_table(_csv(cohort_frame()), filename="b.csv", name="b_set", target="outcome")
    add_table(_csv(cohort_frame()), filename="a.csv", name="a_set", target="outcome")
    assert dataset_names()[-2:] == ["a_set", "b_set"]
    summary = get_spec("a_set").summary
    assert "a.csv" in summary and "rows" in summary and "2 classes" in summary
    assert user_manifest.find("a_set").manifest["source"]["file"] == "a.csv"


def test_group_split_keeps_groups_whole_and_stratifies_them():
    from core.data.splits import group_split_indices

    rng = np.random.default_rng(0)
    groups = rng.integers(0, 3000, size=10_000)
    y = (groups % 5 == 0).astype(int)  # one label per group, 20 % positive
    tr, va, te = group_split_indices(y, groups, val=0.1, test=0.2, seed=0)
    assert np.array_equal(np.sort(np.concatenate([tr, va, te])), np.arange(len(y)))
    sets = [set(groups[p].tolist()) for p in (tr, va, te)]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    n_groups = len(np.unique(groups))
    assert abs(len(sets[2]) / n_groups - 0.2) < 0.01
    assert abs(len(sets[1]) / n_groups - 0.1) < 0.01
    for part in (tr, va, te):
        assert abs(y[part].mean() - 0.2) < 0.03
    again = group_split_indices(y, groups, val=0.1, test=0.2, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again, strict=True))


def test_a_bad_user_data_folder_never_breaks_the_dataset_list(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    monkeypatch.setenv("SPARSELENS_USER_DATA", str(not_a_folder))
    assert "adult" in dataset_names() and not registered()
    monkeypatch.setenv("SPARSELENS_USER_DATA", str(tmp_path))
    (tmp_path / "Not A Name").mkdir()
    (tmp_path / ".half.1234.staged").mkdir()
    assert not registered()
