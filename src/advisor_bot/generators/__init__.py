"""Generators write the answer from numbered passages. One protocol, many implementations.

Built-ins and third-party generators are found the same way: through the entry-point group
`advisor_bot.generators`, whose entries name a factory `f(context) -> Generator`. A package
adds one with, in its pyproject.toml:

    [project.entry-points."advisor_bot.generators"]
    mine = "my_package.module:make_generator"
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Protocol, TypedDict, runtime_checkable

from ..errors import GeneratorError, UnknownGeneratorError

if TYPE_CHECKING:
    import numpy as np

    from ..embedding import Embedder
    from ..records import Chunk, Passage
    from ..settings import Settings

ENTRY_POINT_GROUP = "advisor_bot.generators"


class Message(TypedDict):
    role: str  # "user" | "assistant"
    content: str


@runtime_checkable
class Generator(Protocol):
    """Streams answer text. `[n]` in the text cites passages[n-1]; the Advisor checks every
    marker afterwards, so a generator may cite freely but only real passages survive."""

    name: str

    def generate(self, question: str, passages: Sequence[Passage], history: Sequence[Message]) -> Iterator[str]: ...


@dataclass(frozen=True)
class GeneratorContext:
    """What a factory may use to build its generator."""

    settings: Settings
    embedder: Embedder
    # unit text -> vector for a chunk of the live index (the Advisor provides it), so that a
    # generator scoring sentences need not embed them again.
    stored_unit_vectors: Callable[[Chunk], dict[str, np.ndarray]] | None = None


GeneratorFactory = Callable[[GeneratorContext], Generator]

# Built-ins, also declared as entry points; listed here so a source checkout that was never
# pip-installed still finds them.
BUILTINS: dict[str, str] = {
    "extractive": "advisor_bot.generators.extractive:make_generator",
    "local": "advisor_bot.generators.local:make_generator",
    "openai_compat": "advisor_bot.generators.openai_compat:make_generator",
}


def registered() -> dict[str, str]:
    """name -> "module:attr" for every known generator (entry points override built-ins)."""
    found = dict(BUILTINS)
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.value
    return found


def load_factory(name: str) -> GeneratorFactory:
    targets = registered()
    if name not in targets:
        raise UnknownGeneratorError(
            f"No generator named {name!r}. Available: {', '.join(sorted(targets))}. "
            "Third-party generators register under the entry-point group 'advisor_bot.generators'."
        )
    module_name, _, attr = targets[name].partition(":")
    import importlib

    try:
        module = importlib.import_module(module_name)
        factory = getattr(module, attr)
    except (ImportError, AttributeError) as exc:
        raise GeneratorError(f"Generator {name!r} ({targets[name]}) cannot be loaded: {exc}", kind="unavailable",
                             where=name) from exc
    return factory


def create(name: str, context: GeneratorContext) -> Generator:
    """A ready generator, or GeneratorError saying why it is not available here."""
    generator = load_factory(name)(context)
    if not isinstance(generator, Generator):
        raise GeneratorError(f"Generator {name!r} does not provide name and generate().", kind="invalid", where=name)
    return generator


def availability(context: GeneratorContext) -> dict[str, str | None]:
    """name -> None when usable here, else the reason it is not (for the UI and `--help`)."""
    out: dict[str, str | None] = {}
    for name in sorted(registered()):
        try:
            factory = load_factory(name)
            check = getattr(factory, "unavailable_reason", None)
            out[name] = check(context) if callable(check) else None
        except GeneratorError as exc:
            out[name] = str(exc)
    return out
