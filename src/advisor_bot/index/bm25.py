"""Lexical search with bm25s: English stop words, Snowball stemming, saved beside the vectors.

Dense embeddings miss exact names ("URECA", "Mario RL", "@rolandgvc"); BM25 catches them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..text.bm25s_import import bm25s_module
from ..text.words import WORD, stem_word, stopwords

if TYPE_CHECKING:
    import numpy as np

PARAMS_FILE = "advisor_bm25.json"


# bm25s' default build backend since 0.3, named so that a change of default cannot bring SciPy
# back (text/bm25s_import.py): it builds the same matrix as the SciPy one (tests/index/test_bm25.py)
CSC_BACKEND = "numpy"


def _tokenizer() -> Any:  # a bm25s.tokenization.Tokenizer
    """bm25s' tokenizer with the text toolkit's word pattern, stop words and stemmer."""
    bm25s = bm25s_module()
    return bm25s.tokenization.Tokenizer(splitter=WORD.pattern, stemmer=stem_word, stopwords=sorted(stopwords()))


class BM25Index:
    """A bm25s model plus the tokenizer vocabulary it was built with."""

    def __init__(self, model: Any, tokenizer: Any, size: int, k1: float, b: float) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self.size = size
        self.k1 = k1
        self.b = b
        self._prefixes: set[str] | None = None
        # the indexed texts' words, taken before any search: bm25s adds every word it is asked
        # about to the same table, as another thread iterates it
        self._words = tuple((word, stem) for word, stem in tokenizer.word_to_stem.items() if word)

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float, b: float) -> BM25Index:
        bm25s = bm25s_module()
        tokenizer = _tokenizer()
        ids = tokenizer.tokenize(list(texts), update_vocab=True, return_as="tuple", show_progress=False)
        model = bm25s.BM25(k1=k1, b=b, csc_backend=CSC_BACKEND)
        if texts:
            model.index(ids, show_progress=False)
        return cls(model, tokenizer, len(texts), k1, b)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._model.save(str(folder), show_progress=False)
        self._tokenizer.save_vocab(str(folder))
        (folder / PARAMS_FILE).write_text(json.dumps({"size": self.size, "k1": self.k1, "b": self.b}))

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        bm25s = bm25s_module()
        params = json.loads((folder / PARAMS_FILE).read_text())
        tokenizer = _tokenizer()
        tokenizer.load_vocab(str(folder))
        model = bm25s.BM25.load(str(folder), show_progress=False, verbosity=0) if params["size"] else None
        return cls(model, tokenizer, int(params["size"]), float(params["k1"]), float(params["b"]))

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

        if self._model is None:
            return []
        stop = stopwords()
        indptr = np.asarray(self._model.scores["indptr"])
        known = self._tokenizer.stem_to_sid
        out: dict[str, int] = {}
        for word in WORD.findall(text.lower()):
            if word in stop:
                continue
            stem = stem_word(word)
            sid = known.get(stem)
            out[stem] = int(indptr[sid + 1] - indptr[sid]) if sid is not None and sid + 1 < len(indptr) else 0
        return list(out.items())

    def word_counts(self) -> dict[str, int]:
        """Every word the indexed texts use, as written (lower case, stop words apart), with the
        number of texts using its stem: the vocabulary a typo is corrected against."""
        import numpy as np

        if self._model is None:
            return {}
        indptr = np.asarray(self._model.scores["indptr"])
        sid = self._tokenizer.stem_to_sid
        out: dict[str, int] = {}
        for word, stem in self._words:
            i = sid.get(stem)
            if i is not None and i + 1 < len(indptr):
                out[word] = int(indptr[i + 1] - indptr[i])
        return out

    def knows_prefix(self, stem: str, length: int) -> bool:
        """Whether an indexed stem starts with the first `length` letters of `stem` (for stems at
        least that long): "intern" is known when "internship" is indexed."""
        if len(stem) < length:
            return False
        if self._prefixes is None:
            self._prefixes = {s[:length] for s in self._tokenizer.stem_to_sid if len(s) >= length}
        return stem[:length] in self._prefixes

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


def bm25_files(folder: Path) -> list[Path]:
    """Files making up a saved BM25 index, for checksums."""
    return sorted(p for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
