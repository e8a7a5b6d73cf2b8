"""generators/__init__.py: generators are classes found by entry points (built-ins too), each
with its own validated Options and a list of everything missing to run it here."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TINY
from helpers import write_tiny_corpus

from advisor_bot import (
    Advisor,
    BaseGenerator,
    Generator,
    GeneratorUnavailableError,
    Outcome,
    Settings,
    SettingsError,
    UnknownGeneratorError,
)
from advisor_bot.generators import GeneratorRegistry, entry_points
from advisor_bot.generators.extractive import ExtractiveGenerator
from advisor_bot.generators.local import LocalGenerator
from advisor_bot.generators.openai_compat import OpenAICompatGenerator
from advisor_bot.index.embedding import Embedder

BUILT_INS = {"extractive": ExtractiveGenerator, "local": LocalGenerator, "openai_compat": OpenAICompatGenerator}

# The generator of CONTRIBUTING.md, "Adding a generator", installed the way a plug-in would be.
ECHO_MODULE = """
from collections.abc import Iterator
from pydantic import BaseModel, ConfigDict, Field

from advisor_bot import BaseGenerator, Evidence, Query


class EchoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    prefix: str = Field("Sources say:", description="Printed before the first point.")


class EchoGenerator(BaseGenerator):
    name = "echo"
    Options = EchoOptions
    can_condense = False

    @classmethod
    def missing(cls, setup) -> list[str]:
        return []

    def generate(self, query: Query, evidence: Evidence) -> Iterator[str]:
        yield self.options.prefix
        for point in evidence.points:
            yield f" {point.text} [{point.passage}]"
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(tmp_path, env={})


@pytest.fixture
def echo_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A third-party package with an advisor_bot.generators entry point, on sys.path for one test."""
    site = tmp_path / "site"
    module = f"echo_plugin_{tmp_path.name.replace('-', '_')}"
    (site / f"{module}-0.1.dist-info").mkdir(parents=True)
    (site / f"{module}.py").write_text(ECHO_MODULE, encoding="utf-8")
    info = site / f"{module}-0.1.dist-info"
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[advisor_bot.generators]\necho = {module}:EchoGenerator\n")
    monkeypatch.syspath_prepend(str(site))
    yield module
    sys.modules.pop(module, None)


def test_built_ins_come_from_entry_points(settings: Settings) -> None:
    found = entry_points()
    assert {name: found[name].value for name in BUILT_INS} == {
        "extractive": "advisor_bot.generators.extractive:ExtractiveGenerator",
        "local": "advisor_bot.generators.local:LocalGenerator",
        "openai_compat": "advisor_bot.generators.openai_compat:OpenAICompatGenerator",
    }
    registry = GeneratorRegistry(settings)
    assert registry.names() == sorted(BUILT_INS)
    for name, cls in BUILT_INS.items():
        assert registry.generator_class(name) is cls and cls.name == name
    assert set(registry.options_classes()) == set(BUILT_INS)


def test_a_ready_generator_is_built_once(settings: Settings) -> None:
    registry = GeneratorRegistry(settings)
    gen = registry.get("extractive")
    assert isinstance(gen, Generator) and isinstance(gen, ExtractiveGenerator)
    assert registry.get("extractive") is gen
    assert ExtractiveGenerator.can_condense is False and OpenAICompatGenerator.can_condense is True


def test_unknown_names_list_the_available_ones(settings: Settings) -> None:
    with pytest.raises(UnknownGeneratorError, match="Available: extractive, local, openai_compat") as caught:
        GeneratorRegistry(settings).generator_class("gpt-17")
    assert "advisor_bot.generators" in str(caught.value)  # where a plug-in would register
    assert isinstance(caught.value, LookupError)


def test_availability_of_the_built_ins(settings: Settings) -> None:
    availability = GeneratorRegistry(settings).availability()
    assert availability["extractive"] == [] and availability["openai_compat"] == []
    assert set(availability) == set(BUILT_INS)


def test_missing_lists_every_missing_piece_at_once(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as on a machine without llama-cpp-python
    broken = settings.with_overrides(**{"generators.local.model_path": str(tmp_path / "nope.gguf")})
    registry = GeneratorRegistry(broken)
    missing = registry.missing("local")
    assert len(missing) == 2
    assert "llama-cpp-python is not installed" in missing[0] and "pip install 'advisor-bot[local]'" in missing[0]
    assert "nope.gguf is not a file" in missing[1]
    with pytest.raises(GeneratorUnavailableError) as caught:
        registry.get("local")
    assert caught.value.missing == missing and caught.value.kind == "unavailable"
    assert all(piece in str(caught.value) for piece in missing)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("generators.local.threads", -1),
        ("generators.local.context", "everything"),
        ("generators.openai_compat.temperature", 5),
        ("generators.openai_compat.max_retries", 99),
    ],
)
def test_options_reject_bad_values_naming_the_key(settings: Settings, key: str, value: object) -> None:
    with pytest.raises(SettingsError, match=key.replace(".", r"\.")) as caught:
        settings.with_overrides(**{key: value})
    assert repr(value) in str(caught.value) and "keyword" in str(caught.value)  # the value and where it came from


def test_unknown_option_keys_and_generators_are_refused(settings: Settings) -> None:
    with pytest.raises(SettingsError, match=r"generators\.local\.bogus"):
        settings.with_overrides(**{"generators.local.bogus": 1})
    with pytest.raises(SettingsError, match=r"names no generator\. Available: extractive, local, openai_compat"):
        settings.with_overrides(**{"generators.nope.x": 1})


def test_options_from_the_environment_are_validated_too(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"generators\.openai_compat\.max_tokens.*environment"):
        Settings.load(tmp_path, env={"ADVISOR_BOT_GENERATORS__OPENAI_COMPAT__MAX_TOKENS": "0"})
    ok = Settings.load(tmp_path, env={"ADVISOR_BOT_GENERATORS__OPENAI_COMPAT__MAX_TOKENS": "64"})
    assert GeneratorRegistry(ok).setup("openai_compat").options.max_tokens == 64


def test_old_flat_option_names_still_work_with_a_deprecation(tmp_path: Path) -> None:
    with pytest.warns(FutureWarning, match="generators.local.max_tokens"):
        settings = Settings.load(tmp_path, env={}, local_max_tokens=32)
    assert GeneratorRegistry(settings).setup("local").options.max_tokens == 32


def test_a_plug_in_generator_is_found_configured_and_used(echo_plugin: str, tmp_path: Path, embedder: Embedder) -> None:
    write_tiny_corpus(tmp_path)
    settings = Settings.load(tmp_path, env={}, **TINY, **{"generators.echo.prefix": "Echo:"})
    registry = GeneratorRegistry(settings)
    assert "echo" in registry.names() and registry.missing("echo") == []
    assert issubclass(registry.generator_class("echo"), BaseGenerator)
    with pytest.raises(SettingsError, match=r"generators\.echo\.nope"):
        settings.with_overrides(**{"generators.echo.nope": 1})
    advisor = Advisor(settings, embedder=embedder)
    advisor.build_index()
    answer = advisor.ask("How do I prepare for coding interviews?", generator="echo")
    # not the extractive generator, so its sentences were grounded like any LLM's
    assert answer.generator == "echo" and answer.outcome is Outcome.ANSWERED and answer.citations
    assert answer.supported_sentences >= 1
