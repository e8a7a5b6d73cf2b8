"""Generators write the answer text from the evidence. One written contract, found by entry points.

A generator is a class registered under the entry-point group `advisor_bot.generators`
(built-ins too, in this package's pyproject.toml), the way simonw/llm models are plug-ins:

    [project.entry-points."advisor_bot.generators"]
    mine = "my_package.module:MyGenerator"

The class declares:
- `name`: the name users choose it by;
- `Options`: a pydantic model of its settings, read from `[generators.<name>]` in
  advisor-bot.toml, `ADVISOR_BOT_GENERATORS__<NAME>__<KEY>` or `--set generators.<name>.<key>=...`,
  validated when the settings load;
- `can_condense`: whether it offers `condense(query)` (rewriting a follow-up as a
  standalone query); the pipeline calls it only when this is true;
- `missing(setup)`: what is missing on this machine to run it (empty = available), all at once;
- `generate(query, evidence)`: the answer text as it is written, with `[n]` citing
  evidence.passages[n-1]. The pipeline checks every marker, so only real passages survive.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from ..errors import GeneratorError, GeneratorUnavailableError, UnknownGeneratorError
from ..settings import GENERATOR_GROUP

if TYPE_CHECKING:
    from ..records import Evidence, Query
    from ..settings import Settings


class NoOptions(BaseModel):
    """For a generator without settings of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Setup:
    """What a generator is built from: its validated options and the project root (relative
    paths in the options are taken from it)."""

    options: Any
    root: Path


@runtime_checkable
class Generator(Protocol):
    name: ClassVar[str]
    Options: ClassVar[type[BaseModel]]
    can_condense: ClassVar[bool]

    def generate(self, query: Query, evidence: Evidence) -> Iterator[str]: ...

    def condense(self, query: Query) -> str: ...


class BaseGenerator:
    """Defaults for the optional parts of the contract."""

    name: ClassVar[str] = ""
    Options: ClassVar[type[BaseModel]] = NoOptions
    can_condense: ClassVar[bool] = False

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.options = setup.options

    @classmethod
    def missing(cls, setup: Setup) -> list[str]:
        return []

    def condense(self, query: Query) -> str:
        raise NotImplementedError(f"{self.name} does not condense follow-ups")


def entry_points() -> dict[str, metadata.EntryPoint]:
    """name -> entry point of every installed generator."""
    return {ep.name: ep for ep in metadata.entry_points(group=GENERATOR_GROUP)}


@functools.cache
def _load_class(name: str, value: str) -> type[BaseGenerator]:
    ep = metadata.EntryPoint(name=name, value=value, group=GENERATOR_GROUP)
    try:
        cls = ep.load()
    except (ImportError, AttributeError) as exc:
        raise GeneratorUnavailableError(name, [f"its entry point {value} cannot be loaded ({exc})"]) from exc
    if not isinstance(cls, type) or not hasattr(cls, "generate") or not hasattr(cls, "Options"):
        raise GeneratorUnavailableError(name, [f"{value} is not a generator class (no Options or generate)"])
    return cls


class GeneratorRegistry:
    """The generators installed here, their options from the settings, and one instance each."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._instances: dict[str, Generator] = {}

    def names(self) -> list[str]:
        return sorted(entry_points())

    def generator_class(self, name: str) -> type[BaseGenerator]:
        found = entry_points()
        if name not in found:
            available = ", ".join(sorted(found)) or "none (is advisor-bot installed? run `pip install -e .`)"
            raise UnknownGeneratorError(
                f"No generator named {name!r}. Available: {available} (installed; GET /v1/models lists those "
                f"that can answer here). Third-party generators register under the entry-point group "
                f"{GENERATOR_GROUP!r}."
            )
        return _load_class(name, found[name].value)

    def setup(self, name: str) -> Setup:
        cls = self.generator_class(name)
        return Setup(options=self.settings.generator_options(name, cls.Options), root=self.settings.root)

    def missing(self, name: str) -> list[str]:
        """Everything missing here to run generator `name` (empty when it can run)."""
        try:
            cls = self.generator_class(name)
            return list(cls.missing(self.setup(name)))
        except GeneratorUnavailableError as exc:
            return list(exc.missing)

    def availability(self) -> dict[str, list[str]]:
        return {name: self.missing(name) for name in self.names()}

    def options_classes(self) -> dict[str, type[BaseModel]]:
        out: dict[str, type[BaseModel]] = {}
        for name in self.names():
            try:
                out[name] = self.generator_class(name).Options
            except GeneratorError:
                continue
        return out

    def get(self, name: str) -> Generator:
        """The ready generator, or GeneratorUnavailableError listing every missing piece."""
        if name not in self._instances:
            cls = self.generator_class(name)
            setup = self.setup(name)
            missing = cls.missing(setup)
            if missing:
                raise GeneratorUnavailableError(name, missing)
            instance = cls(setup)
            if not isinstance(instance, Generator):
                raise GeneratorUnavailableError(
                    name, ["it does not provide name, Options, can_condense, generate and condense"]
                )
            self._instances[name] = instance
        return self._instances[name]
