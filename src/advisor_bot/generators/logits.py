"""What a local model may say next: the copy bias and, within a line, no repeated n-gram.

One llama-cpp-python logits processor does both, because that library drops a caller's
processors when it is also given a `logit_bias` (0.3.x: `LogitsProcessorList.extend` returns
None). The n-gram rule is the one of Hugging Face's `no_repeat_ngram_size`, kept to the line
being written: SmolLM2-135M, greedy and lifted towards the sources' tokens, can fall into
"The researcher in the 11.1.1.1.1 ..." and never leave it; refusing the token that would say a
few tokens again (unless the sources say them: a copy must stay whole) sends it back to the
source's words. Across lines nothing is refused: every line starts with the same "[1] ", a
line said twice is shown once, and refusing a line's words again (after its marker) made
SmolLM2 write worse ones: 27 of 33 dev answers cited, 0.82 of the sentences supported,
against 30 and 0.90 within lines.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt


class SourceCopying:
    """A llama-cpp-python logits processor (`(input_ids, scores) -> scores`) for one answer."""

    def __init__(
        self,
        bias: Mapping[int, float],
        *,
        ngram: int,
        breaks_line: Callable[[int], bool],
        source: Sequence[int] = (),
    ) -> None:
        self._ids = np.fromiter(bias.keys(), dtype=np.intc, count=len(bias))
        self._lift = np.fromiter(bias.values(), dtype=np.single, count=len(bias))
        self._ngram = ngram
        self._breaks_line = breaks_line
        # the sources' own n-grams may be said twice: "you're not just designing models, you're
        # helping ship them" repeats ", you're"
        self._said = {tuple(source[i : i + ngram]) for i in range(len(source) - ngram + 1)} if ngram else set()
        self._start: int | None = None  # where the answer's tokens begin in input_ids

    def __call__(self, input_ids: npt.NDArray[np.intc], scores: npt.NDArray[np.single]) -> npt.NDArray[np.single]:
        if self._start is None:
            self._start = len(input_ids)
        out = np.array(scores, copy=True)
        if len(self._ids):
            out[self._ids] += self._lift
        if self._ngram:
            line = self._line(input_ids)
            start = tuple(line[len(line) - self._ngram + 1 :])
            banned = {t for t in repeated_next(line, self._ngram) if (*start, t) not in self._said}
            if banned:
                out[list(banned)] = -np.inf
        return out

    def _line(self, input_ids: npt.NDArray[np.intc]) -> list[int]:
        """The tokens of the line being written."""
        answer = [int(t) for t in input_ids[self._start :]]
        for i in range(len(answer) - 1, -1, -1):
            if self._breaks_line(answer[i]):
                return answer[i + 1 :]
        return answer


def repeated_next(tokens: list[int], n: int) -> set[int]:
    """Tokens that would say again an n-gram of `tokens`: those that followed its last n - 1
    tokens where these were said before."""
    if n < 2 or len(tokens) < n:
        return set()
    start = tokens[len(tokens) - n + 1 :]
    return {tokens[i + n - 1] for i in range(len(tokens) - n + 1) if tokens[i : i + n - 1] == start}
