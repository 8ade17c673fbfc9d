"""Exceptions raised by :mod:`core`, each carrying a message meant for a person."""

from __future__ import annotations


class SparseLensError(Exception):
    """Base class of every error :mod:`core` raises on purpose."""


class UnknownNameError(SparseLensError, KeyError):
    """A dataset, model or method name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataUnavailableError(SparseLensError):
    """A file a loader needs is missing and could not be downloaded."""


class DataCorruptError(SparseLensError):
    """A file exists but its contents are not what the loader expects."""


class DataHomeError(SparseLensError):
    """The data home (or cache) folder cannot be created or written."""


class ModelStoreError(SparseLensError):
    """A stored model is missing, tampered with, truncated or incompatible."""


class InvalidDataError(SparseLensError, ValueError):
    """A user's file cannot become a dataset; the message names where and why.

    Raised by :mod:`core.data.user` for every problem with a file someone brings
    (empty, no header, a non-numeric value in a numeric column, ...). It is a
    ``ValueError`` too, so callers that catch bad input keep working.
    """
