"""The ICU loaders (SurvSet rhc, PhysioNet 2012) on the real data in ../shared/data."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import tarfile

import numpy as np
import pytest

from core.data import clinical, load_dataset, registry
from core.data.builtin import physionet
from core.errors import DataCorruptError

KINDS_WITH_RANGES = {"lab", "vital"}


@pytest.fixture(scope="module")
def rhc():
    return load_dataset("icu_rhc")


@pytest.fixture(scope="module")
def rhc_sepsis():
    return load_dataset("icu_rhc", cohort="sepsis")


@pytest.fixture(scope="module")
def pn():
    return load_dataset("icu_physionet2012")


@pytest.fixture(scope="module")
def rhc_raw():
    from core.data.builtin.icu import load_rhc_frame

    return load_rhc_frame().set_index("pid")


def _all_ids(ds) -> np.ndarray:
    return np.concatenate([s.ids for s in ds.splits.values()])


def _check_common(ds) -> None:
    n = ds.n_features
    for split in ds.splits.values():
        assert split.X.shape == (len(split), n)
        assert split.X.dtype == np.float32
        assert np.isfinite(split.X).all()
        assert split.ids.dtype == np.int64
        assert set(np.unique(split.y)) <= {0, 1}
    ids = [set(s.ids) for s in ds.splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert len(set(_all_ids(ds))) == len(_all_ids(ds))
    columns = sorted(i for group in ds.feature_groups.values() for i in group)
    assert columns == list(range(n))
    assert set(ds.units) == set(ds.feature_names)
    prep = ds.preprocessing
    assert prep.method == "robust"
    assert prep.center.shape == prep.scale.shape == (n,)


def _check_clinical(ds) -> None:
    codes = ds.info["clinical_variable"]
    checked = 0
    for feature, code in codes.items():
        var = clinical.clinical_variable(code)
        assert ds.units[feature] == var.unit
        if var.kind in KINDS_WITH_RANGES:
            low, high = ds.normal_ranges[feature]
            assert low < high, feature
            assert ds.units[feature], feature
            checked += 1
    assert checked >= 15
    for feature, (low, high) in ds.normal_ranges.items():
        assert low <= high
        assert feature in codes  # counts and indicators carry no range
    for name in ds.feature_names:
        if name.endswith("_missing"):
            assert ds.units[name] == "indicator"
            assert name not in ds.normal_ranges


def test_clinical_table_ranges():
    for var in clinical.CLINICAL_VARIABLES.values():
        assert var.unit
        if var.kind in KINDS_WITH_RANGES:
            assert var.normal is not None and var.normal[0] < var.normal[1], var.code
        elif var.normal is not None:
            assert var.normal[0] <= var.normal[1]
    assert clinical.clinical_variable("HR").normal == (60.0, 100.0)
    with pytest.raises(KeyError, match="Unknown clinical variable"):
        clinical.clinical_variable("Heartrate")


# --- SurvSet rhc ----------------------------------------------------------


def test_rhc_shapes_splits_and_labels(rhc, rhc_raw):
    _check_common(rhc)
    assert rhc.n_classes == 2
    assert sorted(_all_ids(rhc)) == sorted(rhc_raw.index)  # every patient once
    sizes = np.array([len(s) for s in rhc.splits.values()]) / len(rhc_raw)
    np.testing.assert_allclose(sizes, [0.7, 0.1, 0.2], atol=0.02)
    y = np.concatenate([s.y for s in rhc.splits.values()])
    assert 0.30 < y.mean() < 0.37  # 30-day mortality in SUPPORT rhc: 33.4 %
    for split in rhc.splits.values():
        died = (split.meta["event"] == 1) & (split.meta["time"] <= 30)
        np.testing.assert_array_equal(split.y, died.astype(np.int64))


def test_rhc_features_groups_and_units(rhc):
    _check_clinical(rhc)
    names = rhc.feature_names
    assert "meanbp1" in names and "wtkilo1_missing" in names
    assert not any(n.startswith(("num_", "fac_")) for n in names)
    assert rhc.feature_groups["wtkilo1"] == (
        names.index("wtkilo1"),
        names.index("wtkilo1_missing"),
    )
    cat1 = rhc.feature_groups["cat1"]
    assert len(cat1) == 9 and all(names[i].startswith("cat1=") for i in cat1)
    assert rhc.normal_ranges["meanbp1"] == (70.0, 100.0)
    assert rhc.units["crea1"] == "mg/dL"
    miss = rhc.info["missingness"]
    assert miss["wtkilo1_zero_as_missing"] == miss["missing_counts"]["wtkilo1"] > 0
    assert set(miss["missing_counts"]) == {"adld3p", "urin1", "wtkilo1"}


def test_rhc_inverse_transform_recovers_raw_values(rhc, rhc_raw):
    split = rhc.test
    raw = rhc.preprocessing.inverse_transform(split.X)
    row = 3
    patient = rhc_raw.loc[split.ids[row]]
    for column in ("meanbp1", "crea1", "age", "sod1"):
        j = rhc.feature_names.index(column)
        assert raw[row, j] == pytest.approx(patient[f"num_{column}"], rel=1e-4)
    # A one-hot column comes back as exactly 0 or 1.
    j = rhc.feature_names.index(f"sex={patient['fac_sex']}")
    assert raw[row, j] == pytest.approx(1.0, abs=1e-5)


def test_rhc_imputed_weight_is_train_median(rhc):
    j = rhc.feature_names.index("wtkilo1")
    k = rhc.feature_names.index("wtkilo1_missing")
    raw = rhc.preprocessing.inverse_transform(rhc.train.X)
    imputed = raw[:, k] > 0.5
    assert imputed.any()
    np.testing.assert_allclose(raw[imputed, j], np.median(raw[~imputed, j]), rtol=1e-4)
    # The scaler was fitted on observed values, so an imputed value is 0.
    np.testing.assert_array_equal(rhc.train.X[imputed, j], 0.0)


def test_rhc_sepsis_cohort_is_strict_subset(rhc, rhc_sepsis):
    _check_common(rhc_sepsis)
    assert rhc_sepsis.info["cohort"] == "sepsis"
    for name, split in rhc_sepsis.splits.items():
        assert split.meta["sepsis"].all()
        assert set(split.ids) < set(rhc.splits[name].ids)
    full = rhc.splits["train"]
    assert full.meta["sepsis"].sum() == len(rhc_sepsis.train)
    assert 0.15 < len(_all_ids(rhc_sepsis)) / len(_all_ids(rhc)) < 0.3


def test_rhc_rejects_unknown_cohort():
    with pytest.raises(ValueError, match="cohort must be one of"):
        load_dataset("icu_rhc", cohort="cardiac", use_cache=False)


# --- PhysioNet 2012 -------------------------------------------------------


def _raw_stay(shared_data, record: int) -> list[tuple[str, str, float]]:
    path = shared_data / "physionet2012" / "set-a.tar.gz"
    with tarfile.open(path, "r:gz") as archive:
        text = archive.extractfile(f"set-a/{record}.txt").read().decode()
    reader = csv.reader(io.StringIO(text))
    next(reader)
    return [(t, p, float(v)) for t, p, v in reader]


@pytest.mark.slow
def test_physionet_shapes_splits_and_labels(pn):
    _check_common(pn)
    assert pn.info["sets"] == {"a": 3996, "c": 4000}
    assert len(_all_ids(pn)) == 7996
    for name in ("val", "test"):  # evaluation on set a only
        assert (pn.splits[name].meta["set"] == "a").all()
    assert (pn.train.meta["set"] == "c").sum() == 4000
    in_a = np.concatenate([s.y[s.meta["set"] == "a"] for s in pn.splits.values()])
    assert 0.13 < in_a.mean() < 0.15  # 13.9 % in-hospital deaths in set a
    n_a = len(in_a)
    np.testing.assert_allclose(
        [len(pn.val) / n_a, len(pn.test) / n_a], [0.1, 0.2], atol=0.01
    )
    # ~7 features per variable: first, last, min, max, mean, count, missing.
    assert len(pn.feature_groups["HR"]) == 7
    assert pn.n_features > 250


@pytest.mark.slow
def test_physionet_units_ranges_and_missingness(pn):
    _check_clinical(pn)
    for var in physionet.TIME_SERIES:
        assert pn.units[f"{var}_count"] == "count"
        assert f"{var}_count" not in pn.normal_ranges
        code = clinical.clinical_variable(var)
        for summary in ("first", "last", "min", "max", "mean"):
            assert pn.units[f"{var}_{summary}"] == code.unit
            if code.kind in KINDS_WITH_RANGES:
                assert pn.normal_ranges[f"{var}_{summary}"] == code.normal
    rates = pn.info["missingness"]["missing_rate"]
    assert set(physionet.TIME_SERIES) <= set(rates)
    assert rates["HR"] < 0.05 < 0.8 < rates["Cholesterol"]
    assert 0 < rates["Height"] < 1
    # The missing indicator agrees with a zero count, in original units.
    raw = pn.preprocessing.inverse_transform(pn.train.X)
    count = raw[:, pn.feature_names.index("Lactate_count")]
    missing = raw[:, pn.feature_names.index("Lactate_missing")]
    np.testing.assert_array_equal(np.round(missing), np.round(count) == 0)
    # Imputed summaries are the training median, 0 after scaling; the IQR is
    # that of the observed values, not shrunk by imputation.
    j = pn.feature_names.index("Lactate_last")
    assert (pn.train.X[missing > 0.5, j] == 0).all()
    assert pn.preprocessing.scale[j] > 0.5


@pytest.mark.slow
def test_physionet_inverse_transform_matches_raw_file(pn, shared_data):
    split = pn.test
    raw = pn.preprocessing.inverse_transform(split.X)
    name = pn.feature_names.index
    observed = (raw[:, name("HR_missing")] < 0.5) & (
        raw[:, name("Gender_missing")] < 0.5
    )
    row = int(np.flatnonzero(observed)[3])
    record = int(split.ids[row])
    rows = _raw_stay(shared_data, record)
    hr = [v for t, p, v in rows if p == "HR" and v > 0]
    assert hr
    assert raw[row, name("HR_max")] == pytest.approx(max(hr), rel=1e-4)
    assert raw[row, name("HR_first")] == pytest.approx(hr[0], rel=1e-4)
    assert raw[row, name("HR_count")] == pytest.approx(len(hr), abs=1e-3)
    gender = next(v for t, p, v in rows if p == "Gender")
    assert raw[row, name("Gender")] == pytest.approx(gender, abs=1e-5)


@pytest.mark.slow
def test_physionet_balance_only_changes_train(pn):
    bal = load_dataset("icu_physionet2012", balance=True)
    assert np.bincount(bal.train.y).tolist() == [bal.train.y.sum()] * 2
    assert set(bal.train.ids) < set(pn.train.ids)
    for name in ("val", "test"):
        np.testing.assert_array_equal(bal.splits[name].ids, pn.splits[name].ids)
        np.testing.assert_array_equal(bal.splits[name].X, pn.splits[name].X)
        assert 0.1 < bal.splits[name].y.mean() < 0.2


@pytest.mark.slow
def test_physionet_without_set_c_keeps_evaluation_splits(pn):
    only_a = load_dataset("icu_physionet2012", include_set_c=False)
    assert (only_a.train.meta["set"] == "a").all()
    assert only_a.info["sets"]["c"] == 0
    np.testing.assert_array_equal(only_a.test.ids, pn.test.ids)
    np.testing.assert_array_equal(
        only_a.train.ids, pn.train.ids[pn.train.meta["set"] == "a"]
    )


def test_physionet_canonical_download_includes_set_c():
    spec = registry.get_spec("icu_physionet2012")
    canonical = {f.path for f in spec.alternatives[0]}
    assert canonical == {
        "physionet2012/set-a.tar.gz",
        "physionet2012/Outcomes-a.txt",
        "physionet2012/set-c.tar.gz",
        "physionet2012/Outcomes-c.txt",
    }
    for f in spec.alternatives[0]:
        assert f.url.startswith("https://physionet.org/files/challenge-2012/1.0.0/")
        # Outcome tables are pinned; the archives are checked against the digest
        # recorded on first download (the team mirror's copies were rebuilt).
        if f.path.endswith(".txt"):
            assert len(f.sha256) == 1 and len(f.sha256[0]) == 64
        else:
            assert f.sha256 == ()


# --- cache and corrupt files ----------------------------------------------


@pytest.mark.parametrize("name", ["icu_rhc", "icu_physionet2012"])
def test_second_load_comes_from_cache(name, monkeypatch):
    first = load_dataset(name)
    spec = registry.get_spec(name)

    def no_parsing(*args, **kwargs):
        raise AssertionError("parsed again instead of reading the cache")

    monkeypatch.setitem(
        registry._REGISTRY, name, dataclasses.replace(spec, build=no_parsing)
    )
    second = load_dataset(name)
    np.testing.assert_array_equal(first.test.X, second.test.X)
    np.testing.assert_array_equal(first.train.ids, second.train.ids)
    assert second.units == first.units
    assert second.info == first.info


@pytest.fixture
def tmp_home(tmp_path, monkeypatch):
    home = tmp_path / "data"
    (home / "physionet2012").mkdir(parents=True)
    monkeypatch.setenv("SPARSELENS_DATA", str(home))
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path / "cache"))
    return home / "physionet2012"


def test_truncated_archive_raises_corrupt(tmp_home, shared_data):
    source = shared_data / "physionet2012"
    data = (source / "set-a.tar.gz").read_bytes()
    (tmp_home / "set-a.tar.gz").write_bytes(data[: len(data) // 2])
    shutil.copy(source / "Outcomes-a.txt", tmp_home / "Outcomes-a.txt")
    with pytest.raises(DataCorruptError, match=r"set-a\.tar\.gz"):
        load_dataset("icu_physionet2012", download=False)


def test_malformed_outcomes_raise_corrupt(tmp_home, shared_data):
    (tmp_home / "set-a.tar.gz").symlink_to(
        shared_data / "physionet2012" / "set-a.tar.gz"
    )
    (tmp_home / "Outcomes-a.txt").write_text("RecordID,SAPS-I\n132539,6\n")
    with pytest.raises(DataCorruptError, match=r"Outcomes-a\.txt.*In-hospital_death"):
        load_dataset("icu_physionet2012", download=False)


def test_malformed_stay_file_names_member(tmp_home, shared_data):
    archive = tmp_home / "set-a.tar.gz"
    body = b"Time,Parameter,Value\n00:00,RecordID,1\n00:05,HR,80,extra\n"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo("set-a/1.txt")
        info.size = len(body)
        tf.addfile(info, io.BytesIO(body))
    (tmp_home / "Outcomes-a.txt").write_text("RecordID,In-hospital_death\n1,0\n")
    with pytest.raises(DataCorruptError, match=r"set-a\.tar\.gz: member 1\.txt"):
        load_dataset("icu_physionet2012", download=False)


@pytest.mark.parametrize("name", ["icu_rhc", "icu_physionet2012"])
def test_imputed_mask_marks_exactly_the_missing_values(name):
    ds = load_dataset(name)
    names = list(ds.feature_names)
    for split in ds.splits.values():
        assert split.imputed is not None and split.imputed.shape == split.X.shape
        flags = ds.preprocessing.inverse_transform(split.X)
        expected = np.zeros_like(split.imputed)
        for group, cols in ds.feature_groups.items():
            if f"{group}_missing" not in names:
                continue  # one-hot groups and complete variables: nothing imputed
            missing = flags[:, names.index(f"{group}_missing")] == 1
            for j in cols:
                if not names[j].endswith(("_missing", "_count")):
                    expected[:, j] = missing
        np.testing.assert_array_equal(split.imputed, expected)
