"""bm25s without SciPy, whichever part of the package imports it first."""

from __future__ import annotations

import pytest
from helpers import in_a_fresh_process


@pytest.mark.parametrize(
    "first",
    [
        "from advisor_bot.index.bm25 import BM25Index; BM25Index.build(['a text'], k1=1.2, b=0.75)",
        "from advisor_bot.text.words import stopwords; stopwords()",  # bm25s ships the stop-word list
        "from advisor_bot.text.needs import needed_words; needed_words('do i need a phd?')",
    ],
)
def test_bm25s_is_imported_without_scipy_and_scipy_still_imports_after(first: str) -> None:
    """bm25s imports scipy.sparse for a build backend we do not use, and SciPy every numpy
    submodule: 0.28 s of a cold `advisor-bot ask`. Only bm25s' own import is turned down, and
    the finder that does so is gone afterwards."""
    script = (
        "import json, sys\n"
        f"{first}\n"
        "loaded = 'bm25s' in sys.modules, 'scipy' in sys.modules\n"
        "left = [type(f).__name__ for f in sys.meta_path if type(f).__name__ == '_NoSciPyForBm25s']\n"
        "import scipy.sparse\n"
        "print(json.dumps({'loaded': loaded, 'left': left, 'csr': scipy.sparse.csr_matrix.__name__}))\n"
    )
    _, out = in_a_fresh_process(script)
    assert out == {"loaded": [True, False], "left": [], "csr": "csr_matrix"}
