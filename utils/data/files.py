"""Where the course data files come from: ``$COURSE_DATA_DIR`` or a checked download."""

from __future__ import annotations

import os
import sys
from pathlib import Path

UUML_URL = "https://raw.githubusercontent.com/MansMeg/IntroML/master/rpackage/data/"
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_ARCHIVE = "aclImdb_v1.tar.gz"
# SHA-256 of the official aclImdb_v1.tar.gz (84,125,825 bytes) as published in
# TensorFlow Datasets' checksum list for `imdb_reviews`
# (tensorflow_datasets/datasets/imdb_reviews/checksums.tsv). Only downloads are checked
# against it: copies in COURSE_DATA_DIR may be repacked (the course's shared copy omits
# the .feat files), so they are verified by their structure instead.
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


class DataError(RuntimeError):
    """A data file is missing, truncated, corrupt, unsafe or not what the loader expects."""


class DataWarning(UserWarning):
    """A data file holds something the dataset does not have, which the loader ignored."""


def data_file(relative_path: str, url: str, sha256: str | None = None) -> Path:
    """Return the local path of a course data file, downloading it if needed.

    Args:
        relative_path: path below ``$COURSE_DATA_DIR``, e.g. ``"uuml/rnn_example.rda"``.
        url: the file's public home, used when ``COURSE_DATA_DIR`` is not set.
        sha256: the published SHA-256 of the file at ``url``; a download (never a
            ``COURSE_DATA_DIR`` copy) that does not match it is refused.

    Raises:
        DataError: the file is not in ``COURSE_DATA_DIR``, or the download failed or
            does not match ``sha256``; the message names the file, the variable and the URL.
    """
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir:
        path = Path(data_dir).expanduser() / relative_path
        if not path.is_file():
            raise DataError(
                f"Course data file {relative_path!r} not found at {path}. "
                f"COURSE_DATA_DIR is set to {data_dir!r}; put the file there "
                f"(it can be downloaded from {url}) or unset COURSE_DATA_DIR "
                "to download it automatically."
            )
        return path
    import keras

    checks = {"file_hash": sha256, "hash_algorithm": "sha256"} if sha256 else {}
    try:
        fetched = keras.utils.get_file(
            fname=Path(relative_path).name, origin=url, cache_subdir="course_data", **checks
        )
    except Exception as error:  # network errors come in many types
        raise DataError(
            f"Could not download {relative_path!r} from {url} ({error}). "
            "If this machine is offline, or the download keeps failing its checksum, "
            "download the file elsewhere and set COURSE_DATA_DIR to the folder that holds "
            f"it (expected at $COURSE_DATA_DIR/{relative_path})."
        ) from error
    return Path(fetched)


def caller_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` in the calling function that makes the
    warning point at the first frame outside ``utils.data`` (the user's code), however deep
    inside the package it was raised."""
    package = Path(__file__).resolve().parent
    level, frame = 1, sys._getframe(1)
    while frame.f_back is not None and Path(frame.f_code.co_filename).resolve().parent == package:
        level, frame = level + 1, frame.f_back
    return level


def good_copy_hint(path: Path, url: str) -> str:
    """The sentence every damaged-file error ends with: how to get a good copy of ``path``."""
    return (
        f"Get a good copy: download it from {url} (into COURSE_DATA_DIR if you use that "
        f"folder), or, if the loader downloaded it, delete {path} and it is fetched again."
    )
