"""The knowledge as files: essays and curated resources -> Documents, and new essays into corpus/.

`loading` reads corpus/ (front matter, mojibake repair, hashes; a bad file is reported and
skipped); `ingest` checks and writes new essays (uploads, HTML converted to markdown).
"""

from .ingest import Added, AddReport, Upload, add_uploads
from .loading import CorpusLoad, Problem, load_corpus

__all__ = ["AddReport", "Added", "CorpusLoad", "Problem", "Upload", "add_uploads", "load_corpus"]
