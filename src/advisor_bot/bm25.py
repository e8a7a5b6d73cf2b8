"""Lexical search with bm25s: English stop words, Snowball stemming, saved beside the vectors.

Dense embeddings miss exact names ("URECA", "Mario RL", "@rolandgvc"); BM25 catches them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

STOPWORDS = "en"
STEMMER_LANGUAGE = "english"
PARAMS_FILE = "advisor_bm25.json"


@dataclass(frozen=True)
class BM25Config:
    k1: float = 1.2
    b: float = 0.75


def _bm25s():  # -> module
    """bm25s sets its logger to DEBUG on import; keep its chatter out of our console."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _tokenizer():  # -> bm25s.tokenization.Tokenizer
    import Stemmer

    bm25s = _bm25s()

    return bm25s.tokenization.Tokenizer(stemmer=Stemmer.Stemmer(STEMMER_LANGUAGE), stopwords=STOPWORDS)


class BM25Index:
    """A bm25s model plus the tokenizer vocabulary it was built with."""

    def __init__(self, model: Any, tokenizer: Any, size: int, config: BM25Config) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self.size = size
        self.config = config

    @classmethod
    def build(cls, texts: Sequence[str], config: BM25Config | None = None) -> BM25Index:
        bm25s = _bm25s()
        config = config or BM25Config()
        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(list(texts), update_vocab=True, return_as="tuple", show_progress=False)
        model = bm25s.BM25(k1=config.k1, b=config.b)
        if texts:
            model.index(ids, show_progress=False)
        return cls(model, tokenizer, len(texts), config)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._model.save(str(folder), show_progress=False)
        self._tokenizer.save_vocab(str(folder))
        (folder / PARAMS_FILE).write_text(json.dumps({"size": self.size, "k1": self.config.k1, "b": self.config.b}))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        bm25s = _bm25s()
        params = json.loads((folder / PARAMS_FILE).read_text())
        config = BM25Config(k1=params["k1"], b=params["b"])
        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0) if params["size"] else None
        return cls(model, tokenizer, int(params["size"]), config)

    def query_tokens(self, query: str) -> list[int]:
        """Token ids of the query that the corpus knows; unknown words cannot score."""
        ids = self._tokenizer.tokenize([query], update_vocab=False, return_as="ids", show_progress=False)[0]
        empty = self._tokenizer.word_to_id.get("", None)
        return [i for i in ids if i != empty]

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed text for the query (zeros when nothing matches)."""
        import numpy as np

        tokens = self.query_tokens(query)
        if not tokens or self._model is None:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._model.get_scores(tokens), dtype=np.float32)

    def term_stats(self, text: str) -> list[tuple[str, int]]:
        """(stem, number of indexed texts containing it) for each distinct non-stop word of
        `text`; 0 means the corpus never uses the word."""
        import numpy as np
        import Stemmer

        if self._model is None:
            return []
        stop = set(self._tokenizer.stopwords or ())
        stemmer = Stemmer.Stemmer(STEMMER_LANGUAGE)
        indptr = np.asarray(self._model.scores["indptr"])
        known = self._tokenizer.stem_to_sid
        out: dict[str, int] = {}
        for word in _WORDS.findall(text.lower()):
            if word in stop:
                continue
            stem = stemmer.stemWord(word)
            sid = known.get(stem)
            out[stem] = int(indptr[sid + 1] - indptr[sid]) if sid is not None and sid + 1 < len(indptr) else 0
        return list(out.items())

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(row ids, scores) of the k best texts with a positive score, best first."""
        import numpy as np

        tokens = self.query_tokens(query)
        k = min(k, self.size)
        if not tokens or self._model is None or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        rows, scores = self._model.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        rows, scores = np.asarray(rows[0], dtype=np.int64), np.asarray(scores[0], dtype=np.float32)
        keep = scores > 0
        return rows[keep], scores[keep]


_WORDS = re.compile(r"(?u)\b\w\w+\b")  # bm25s' own token pattern


def bm25_files(folder: Path) -> list[Path]:
    """Files making up a saved BM25 index, for checksums."""
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []

