"""Loaders of the tabular (Adult, breast cancer) and image (digits, MNIST, CIFAR-10) sets."""

from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from core.data import get_spec, load_dataset
from core.data.builtin import images as images_mod
from core.data.builtin import tabular
from core.data.builtin.images import pixels, read_idx
from core.errors import DataCorruptError

ADULT_ROW = (
    "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, "
    "Not-in-family, White, Male, 2174, 0, 40, United-States, {label}"
)


@pytest.fixture
def tmp_home(tmp_path, monkeypatch) -> Path:
    """An empty data home and parsed cache of this test's own."""
    home = tmp_path / "data"
    home.mkdir()
    monkeypatch.setenv("SPARSELENS_DATA", str(home))
    monkeypatch.setenv("SPARSELENS_CACHE", str(tmp_path / "cache"))
    return home


def _check_splits(ds, n_total: int | None = None) -> None:
    ids = [s.ids for s in ds.splits.values()]
    joined = np.concatenate(ids)
    assert len(np.unique(joined)) == len(joined), "an id is in two splits"
    if n_total is not None:
        assert np.array_equal(np.sort(joined), np.arange(n_total))
    for split in ds.splits.values():
        assert split.y.dtype == np.int64 and split.ids.dtype == np.int64
        assert len(split.ids) == len(split)
        if split.X is not None:
            assert split.X.dtype == np.float32
            assert split.X.shape == (len(split), ds.n_features)
            assert np.isfinite(split.X).all()
    cols = sorted(i for g in ds.feature_groups.values() for i in g)
    assert cols == list(range(ds.n_features)), "groups must partition the features"


# ---------------------------------------------------------------------- Adult


@pytest.fixture(scope="module")
def adult():
    return load_dataset("adult")


def test_adult_shapes_and_features(adult):
    assert len(adult.train) + len(adult.val) == 32_561
    assert len(adult.test) == 16_281
    assert len(adult.val) == pytest.approx(3_256, abs=1)
    _check_splits(adult, n_total=32_561 + 16_281)
    # Every row is kept; the test split is exactly adult.test.
    assert np.array_equal(adult.test.ids, np.arange(32_561, 32_561 + 16_281))
    # Paper: 89 = 6 numeric + 83 levels; plus 3 'missing' levels here.
    assert adult.n_features == 92
    assert adult.info["paper_n_features"] == 89
    assert "education" not in adult.feature_groups
    assert {"fnlwgt", "education-num", "workclass=missing"} <= set(adult.feature_names)
    assert adult.units["age"] == "years"
    assert adult.class_names == ("<=50K", ">50K")
    positive = np.mean(np.concatenate([adult.train.y, adult.val.y]))
    assert positive == pytest.approx(0.2408, abs=1e-3)  # 7,841 of 32,561


def test_adult_one_hot_groups_sum_to_one(adult):
    for split in adult.splits.values():
        raw = adult.preprocessing.inverse_transform(split.X)
        for col in tabular.ADULT_CATEGORICAL:
            block = raw[:, list(adult.feature_groups[col])]
            np.testing.assert_allclose(block.sum(axis=1), 1.0, atol=1e-4)
            assert np.all(
                np.isclose(block, 0, atol=1e-4) | np.isclose(block, 1, atol=1e-4)
            )


def test_adult_zscore_on_train_and_inverse(adult):
    np.testing.assert_allclose(adult.train.X.mean(axis=0), 0, atol=1e-4)
    # First raw row of adult.data: 39, State-gov, ..., hours 40.
    split = next(s for s in adult.splits.values() if 0 in s.ids)
    row = split.X[np.flatnonzero(split.ids == 0)[0]]
    raw = adult.preprocessing.inverse_transform(row[None])[0]
    name = adult.feature_names
    assert raw[name.index("age")] == pytest.approx(39, abs=1e-3)
    assert raw[name.index("hours-per-week")] == pytest.approx(40, abs=1e-3)
    assert raw[name.index("capital-gain")] == pytest.approx(2174, abs=0.05)
    assert raw[name.index("workclass=State-gov")] == pytest.approx(1, abs=1e-4)


def test_adult_second_load_comes_from_cache(adult, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("adult was parsed again")

    monkeypatch.setattr(tabular, "read_adult", fail)
    again = load_dataset("adult")
    np.testing.assert_array_equal(again.train.X, adult.train.X)
    assert again.feature_groups == adult.feature_groups


def test_read_adult_test_file_format(tmp_path):
    path = tmp_path / "adult.test"
    path.write_text(
        "|1x3 Cross validator\n"
        + ADULT_ROW.format(label="<=50K.")
        + "\n"
        + ADULT_ROW.format(label=">50K.").replace("State-gov", "?")
        + "\n\n"
    )
    frame, y = tabular.read_adult(path)
    assert list(y) == [0, 1]
    assert frame["age"].tolist() == [39.0, 39.0]
    assert frame["workclass"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("39, State-gov, 77516, Bachelors, 13", "line 3: expected 15"),
        (ADULT_ROW.format(label="maybe"), "line 3: unknown label"),
        (
            ADULT_ROW.format(label=">50K").replace("77516", "lots"),
            "line 3: non-numeric",
        ),
    ],
)
def test_adult_bad_row_names_file_and_line(tmp_home, bad_row, message):
    (tmp_home / "adult").mkdir()
    good = ADULT_ROW.format(label="<=50K")
    (tmp_home / "adult" / "adult.data").write_text(f"{good}\n{good}\n{bad_row}\n")
    (tmp_home / "adult" / "adult.test").write_text(f"|1x3 Cross validator\n{good}.\n")
    with pytest.raises(DataCorruptError, match=rf"adult\.data, {message}"):
        load_dataset("adult", download=False)


# -------------------------------------------------------------- Breast cancer


def test_breast_cancer():
    ds = load_dataset("breast_cancer")
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    assert ds.class_names == ("malignant", "benign")
    assert (len(ds.train), len(ds.val), len(ds.test)) == (398, 57, 114)
    _check_splits(ds, n_total=569)
    for split in ds.splits.values():
        np.testing.assert_array_equal(split.y, bunch.target[split.ids])
        np.testing.assert_allclose(
            ds.preprocessing.inverse_transform(split.X),
            bunch.data[split.ids],
            rtol=1e-5,
            atol=1e-6,
        )
        assert split.y.mean() == pytest.approx(357 / 569, abs=0.02)
    assert len(ds.feature_groups) == 10
    assert ds.feature_groups["radius"] == (0, 10, 20)
    assert ds.units["worst area"] == "image units²"
    assert get_spec("breast_cancer").alternatives == ()


# --------------------------------------------------------------------- Digits


def test_digits():
    ds = load_dataset("digits")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    _check_splits(ds, n_total=1_797)
    assert ds.feature_names[:2] == ("px_0_0", "px_0_1") and ds.n_features == 64
    for split in ds.splits.values():
        assert split.images.dtype == np.uint8 and split.images.shape[1:] == (8, 8)
        assert set(split.y) == set(range(10))
        raw = ds.preprocessing.inverse_transform(split.X)
        np.testing.assert_allclose(raw, bunch.data[split.ids], atol=1e-5)
        # Display images are the same counts scaled to 0-255.
        np.testing.assert_allclose(pixels(split.images), split.X, atol=0.5 / 255 + 1e-6)


# ---------------------------------------------------------------------- MNIST


def test_mnist_uses_the_10k_mirror():
    ds = load_dataset("mnist")
    assert ds.info["source_files"] == "mnist-10k.npz"
    assert (len(ds.train), len(ds.val), len(ds.test)) == (7_000, 1_000, 2_000)
    _check_splits(ds, n_total=10_000)
    assert ds.n_features == 784 and ds.feature_names[29] == "px_1_1"
    for split in ds.splits.values():
        assert split.images.dtype == np.uint8
        assert split.images.shape == (len(split), 28, 28)
        assert set(split.y) == set(range(10))
        np.testing.assert_array_equal(pixels(split.images), split.X)
        assert split.X.min() >= 0 and split.X.max() <= 1
    back = ds.preprocessing.inverse_transform(ds.test.X[:5]).reshape(5, 28, 28)
    np.testing.assert_allclose(back, ds.test.images[:5], atol=1e-3)


def _idx_bytes(array: np.ndarray) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return header + array.tobytes()


def _write_idx(
    home: Path, n_train: int = 200, n_test: int = 50
) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte.gz": np.arange(n_train) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte.gz": np.arange(n_test) % 10,
    }
    (home / "mnist").mkdir(exist_ok=True)
    for name, array in arrays.items():
        (home / "mnist" / name).write_bytes(gzip.compress(_idx_bytes(array)))
    return arrays


def test_mnist_idx_files_are_canonical(tmp_home):
    arrays = _write_idx(tmp_home)
    # A mirror next to the IDX files is ignored: the first complete alternative wins.
    np.savez(
        tmp_home / "mnist" / "mnist-10k.npz",
        images=np.zeros((10, 28, 28), np.uint8),
        labels=np.arange(10, dtype=np.uint8),
    )
    ds = load_dataset("mnist", download=False)
    assert ds.info["source_files"] == "idx"
    assert len(ds.train) + len(ds.val) == 200 and len(ds.val) == 20
    np.testing.assert_array_equal(ds.test.ids, np.arange(200, 250))
    _check_splits(ds, n_total=250)
    np.testing.assert_array_equal(ds.test.images, arrays["t10k-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(ds.test.y, arrays["t10k-labels-idx1-ubyte.gz"])
    first = ds.train.ids[0]
    np.testing.assert_array_equal(
        ds.train.images[0], arrays["train-images-idx3-ubyte.gz"][first]
    )


def test_mnist_truncated_idx_names_the_file(tmp_home):
    _write_idx(tmp_home)
    path = tmp_home / "mnist" / "train-images-idx3-ubyte.gz"
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(
        DataCorruptError, match=r"train-images-idx3-ubyte\.gz.*truncated"
    ):
        load_dataset("mnist", download=False)
    # A cut-off gzip stream is reported the same way.
    path.write_bytes(gzip.compress(data)[:-50])
    with pytest.raises(DataCorruptError, match=r"train-images-idx3-ubyte\.gz"):
        load_dataset("mnist", download=False)


def test_read_idx_checks_magic_and_labels(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.arange(5))))
    with pytest.raises(DataCorruptError, match="magic number 0x00000803"):
        read_idx(path, 3)
    assert read_idx(path, 1).tolist() == [0, 1, 2, 3, 4]
    images = tmp_path / "images.gz"
    images.write_bytes(gzip.compress(_idx_bytes(np.zeros((5, 28, 28)))))
    path.write_bytes(gzip.compress(_idx_bytes(np.arange(5) + 8)))
    with pytest.raises(DataCorruptError, match="label 12"):
        images_mod._mnist_pair(images, path)


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (
            {
                "images": np.zeros((10, 28, 27), np.uint8),
                "labels": np.zeros(10, np.uint8),
            },
            "28, 28",
        ),
        (
            {
                "images": np.zeros((10, 28, 28), np.float32),
                "labels": np.zeros(10, np.uint8),
            },
            "uint8",
        ),
        (
            {
                "images": np.zeros((10, 28, 28), np.uint8),
                "labels": np.zeros(9, np.uint8),
            },
            "labels",
        ),
        (
            {"images": np.zeros((10, 28, 28), np.uint8), "labels": np.full(10, 11)},
            "0..9",
        ),
        ({"pictures": np.zeros((10, 28, 28), np.uint8)}, "lacks"),
    ],
)
def test_mnist_npz_bad_arrays_name_the_file(tmp_home, arrays, message):
    (tmp_home / "mnist").mkdir()
    np.savez(tmp_home / "mnist" / "mnist-10k.npz", **arrays)
    with pytest.raises(DataCorruptError, match=rf"mnist-10k\.npz.*{message}"):
        load_dataset("mnist", download=False)


def test_mnist_npz_with_pickles_is_refused(tmp_home):
    (tmp_home / "mnist").mkdir()
    np.savez(
        tmp_home / "mnist" / "mnist-10k.npz",
        images=np.array([{"not": "an image"}], dtype=object),
        labels=np.zeros(1, np.uint8),
    )
    with pytest.raises(DataCorruptError, match=r"mnist-10k\.npz"):
        load_dataset("mnist", download=False)


def test_pixels_validates():
    with pytest.raises(ValueError, match="uint8"):
        pixels(np.zeros((2, 4, 4), np.float32))
    with pytest.raises(ValueError, match="uint8"):
        pixels(np.zeros((4, 4), np.uint8))
    out = pixels(np.full((2, 2, 2, 3), 255, np.uint8))
    assert out.shape == (2, 12) and out.dtype == np.float32 and np.all(out == 1)


# ------------------------------------------------------------------- CIFAR-10


@pytest.mark.slow
def test_cifar10_jpeg_mirror():
    # First load decodes 60,000 JPEGs (~10-15 s on 2 cores); cached afterwards.
    ds = load_dataset("cifar10")
    assert ds.info["source_files"] == "cifar10-jpg.tar.gz"
    assert (len(ds.train), len(ds.val), len(ds.test)) == (45_000, 5_000, 10_000)
    _check_splits(ds, n_total=60_000)
    assert ds.n_features == 3_072 and ds.feature_names[:4] == (
        "c0_0_0",
        "c1_0_0",
        "c2_0_0",
        "c0_0_1",
    )
    assert ds.feature_groups["px_0_1"] == (3, 4, 5)
    for split in ds.splits.values():
        assert split.X is None
        assert split.images.dtype == np.uint8
        assert split.images.shape == (len(split), 32, 32, 3)
        assert np.array_equal(np.bincount(split.y), np.full(10, len(split) // 10))
    X = pixels(ds.test.images[:8])
    assert X.shape == (8, 3_072) and X.dtype == np.float32
    np.testing.assert_allclose(
        ds.preprocessing.inverse_transform(X).reshape(8, 32, 32, 3), ds.test.images[:8]
    )
    # Not all black: the JPEGs really were decoded.
    assert 60 < ds.test.images.mean() < 200


def _jpeg_tar(path: Path, per_class: dict[str, int], extra: str | None = None) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        for part, count in per_class.items():
            for cls in images_mod.CIFAR10_CLASSES:
                for k in range(count):
                    buf = io.BytesIO()
                    colour = rng.integers(0, 256, 3)
                    img = np.broadcast_to(colour, (32, 32, 3)).astype(np.uint8)
                    Image.fromarray(img).save(buf, format="JPEG", quality=95)
                    add(f"{part}/{cls}/{k:04d}.jpg", buf.getvalue())
        if extra:
            add(extra, b"\xff\xd8 not really a jpeg")


def test_cifar10_small_jpeg_archive(tmp_home):
    (tmp_home / "cifar10").mkdir()
    _jpeg_tar(tmp_home / "cifar10" / "cifar10-jpg.tar.gz", {"train": 10, "test": 2})
    ds = load_dataset("cifar10", download=False)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (90, 10, 20)
    _check_splits(ds, n_total=120)
    # ids follow (class, file name) order: train/airplane/0000.jpg is id 0.
    assert ds.test.y.tolist() == [k // 2 for k in range(20)]
    # Flat colours survive JPEG almost exactly.
    assert np.ptp(ds.test.images[0].reshape(-1, 3), axis=0).max() <= 4


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("train/kangaroo/0000.jpg", "unknown class folder 'kangaroo'"),
        ("test/cat/9999.jpg", "cannot decode test/cat/9999.jpg"),
    ],
)
def test_cifar10_bad_jpeg_archive_names_the_member(tmp_home, extra, message):
    (tmp_home / "cifar10").mkdir()
    _jpeg_tar(
        tmp_home / "cifar10" / "cifar10-jpg.tar.gz", {"train": 1, "test": 1}, extra
    )
    with pytest.raises(DataCorruptError, match=rf"cifar10-jpg\.tar\.gz.*{message}"):
        load_dataset("cifar10", download=False)


def _python_tar(path: Path, payload: dict[str, object] | None = None) -> str:
    rng = np.random.default_rng(1)
    with tarfile.open(path, "w:gz") as tar:
        for name in (*images_mod._CIFAR_BATCHES, "test_batch"):
            batch = payload or {
                b"batch_label": name.encode(),
                b"labels": [k % 10 for k in range(20)],
                b"data": rng.integers(0, 256, (20, 3072)).astype(np.uint8),
            }
            data = pickle.dumps(batch, protocol=4)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_cifar10_python_archive_is_only_unpickled_when_verified(tmp_home, monkeypatch):
    (tmp_home / "cifar10").mkdir()
    archive = tmp_home / "cifar10" / "cifar-10-python.tar.gz"
    md5 = _python_tar(archive)
    with pytest.raises(DataCorruptError, match=r"cifar-10-python\.tar\.gz has MD5"):
        load_dataset("cifar10", download=False)

    monkeypatch.setattr(images_mod, "CIFAR10_PY_MD5", md5)
    ds = load_dataset("cifar10", download=False)
    assert ds.info["source_files"] == "cifar-10-python.tar.gz"
    assert (len(ds.train) + len(ds.val), len(ds.test)) == (100, 20)
    _check_splits(ds, n_total=120)
    # Row layout: 1024 red, then green, then blue values.
    with tarfile.open(archive) as tar:
        batch = pickle.load(tar.extractfile("cifar-10-batches-py/test_batch"))  # noqa: S301 - written by this test
    first = batch[b"data"][0]
    np.testing.assert_array_equal(ds.test.images[0][..., 0].ravel(), first[:1024])
    np.testing.assert_array_equal(ds.test.images[0][..., 2].ravel(), first[2048:])


class _Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_cifar10_unpickler_refuses_other_globals(tmp_home, monkeypatch):
    (tmp_home / "cifar10").mkdir()
    archive = tmp_home / "cifar10" / "cifar-10-python.tar.gz"
    md5 = _python_tar(archive, payload={b"data": _Evil()})
    monkeypatch.setattr(images_mod, "CIFAR10_PY_MD5", md5)
    with pytest.raises(DataCorruptError, match="refusing to unpickle builtins.print"):
        load_dataset("cifar10", download=False)
