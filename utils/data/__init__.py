"""Loaders for the course data: the `uuml` toy weights and the aclImdb reviews.

Files are read from ``$COURSE_DATA_DIR`` when that variable is set (the layout of
``shared/data``: ``uuml/*.rda`` and ``aclImdb_v1.tar.gz``); otherwise they are
downloaded once from their public homes with ``keras.utils.get_file`` (the aclImdb
download is checked against its published SHA-256).

Every file is checked before use, and a damaged one raises :class:`DataError` naming
the file and how to get a good copy: ``.rda`` files are size-bounded, inflated with a
bound and validated against the structure of each example (:mod:`utils.data.uuml`);
the archive is read to the end of its gzip stream, so its CRC is verified, and must
hold exactly 12,500 positive and 12,500 negative UTF-8 reviews per split, each with its
movie in the split's URL files (:mod:`utils.data.archive`). The token cache proves its
content with a digest and heals itself (:mod:`utils.data.cache`).

Each review's movie (:func:`load_imdb_movies`) gives validation splits that keep a movie's
reviews on one side, as train and test do (:func:`movie_disjoint_split`).

Nothing here unpickles: ``.rda`` files are parsed by the ``rdata`` package, the
archive is read member by member with :mod:`tarfile`, and the token cache is a
``.npz`` file opened with ``allow_pickle=False``.

Modules: ``files`` (where files come from), ``uuml``, ``archive``, ``cache``, ``imdb``,
``splits``.
"""

from utils.data.archive import ImdbSplit, read_imdb_archive
from utils.data.cache import CacheWarning
from utils.data.files import (
    IMDB_ARCHIVE,
    IMDB_SHA256,
    IMDB_URL,
    UUML_URL,
    DataError,
    DataWarning,
    data_file,
)
from utils.data.imdb import (
    INDEX_FROM,
    OOV,
    PAD,
    SHUFFLE_SEED,
    START,
    TOKENIZER_VERSION,
    decode_review,
    encode_reviews,
    load_imdb,
    load_imdb_movies,
    load_imdb_texts,
    standardize,
    word_index,
)
from utils.data.splits import movie_disjoint_split
from utils.data.uuml import (
    RNNExample,
    TransformerExample,
    load_rnn_example,
    load_transformer_example,
)

__all__ = [
    "CacheWarning",
    "DataError",
    "DataWarning",
    "IMDB_ARCHIVE",
    "IMDB_SHA256",
    "IMDB_URL",
    "INDEX_FROM",
    "ImdbSplit",
    "OOV",
    "PAD",
    "RNNExample",
    "SHUFFLE_SEED",
    "START",
    "TOKENIZER_VERSION",
    "TransformerExample",
    "UUML_URL",
    "data_file",
    "decode_review",
    "encode_reviews",
    "load_imdb",
    "load_imdb_movies",
    "load_imdb_texts",
    "load_rnn_example",
    "load_transformer_example",
    "movie_disjoint_split",
    "read_imdb_archive",
    "standardize",
    "word_index",
]
