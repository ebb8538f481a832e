"""Put the course data files into a folder laid out for COURSE_DATA_DIR.

Usage: .venv/bin/python .ci/fetch_data.py FOLDER

The GitHub workflow runs this with COURSE_DATA_DIR unset, so the course's own loaders
(utils.data.data_file) download each file from its public home and check it; then it sets
COURSE_DATA_DIR=FOLDER for the later steps, so the tests that need the data run there as
they do under .ci/run. With COURSE_DATA_DIR set, the files are copied from that folder.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.data import IMDB_ARCHIVE, IMDB_SHA256, IMDB_URL, UUML_URL, data_file  # noqa: E402

# Each file: its path below COURSE_DATA_DIR, its public home and its SHA-256 (if published).
FILES = [
    ("uuml/transformer_example.rda", UUML_URL + "transformer_example.rda", None),
    ("uuml/rnn_example.rda", UUML_URL + "rnn_example.rda", None),
    (IMDB_ARCHIVE, IMDB_URL, IMDB_SHA256),
]


def fetch(target: Path) -> list[Path]:
    """Copy every course data file into ``target`` (layout of COURSE_DATA_DIR); return them."""
    written = []
    for relative, url, sha256 in FILES:
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        source = data_file(relative, url, sha256)
        if source.resolve() != destination.resolve():
            shutil.copyfile(source, destination)
        written.append(destination)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: fetch_data.py FOLDER  (the folder to point COURSE_DATA_DIR at)")
        return 2
    for path in fetch(Path(argv[0])):
        print(f"{path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
