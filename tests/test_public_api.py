"""The package's public face: what users import from `advisor_bot` must stay importable from there."""

from __future__ import annotations

import inspect

import advisor_bot
from advisor_bot import errors


def test_the_documented_names_import_from_the_package() -> None:
    from advisor_bot import (  # noqa: F401 - importing is the test
        Advisor,
        Answer,
        AnswerStream,
        Citation,
        CorpusError,
        Coverage,
        DocumentError,
        GeneratorError,
        GeneratorUnavailableError,
        IndexCorruptError,
        IndexLockedError,
        IndexMismatchError,
        IndexMissingError,
        IndexWriteError,
        InvalidQuestionError,
        Message,
        ModelLoadError,
        Outcome,
        Passage,
        Query,
        Settings,
        SettingsError,
        UnknownGeneratorError,
        Upload,
        UploadError,
    )


def test_every_error_type_is_exported() -> None:
    """Users catch our errors by type; one defined in errors.py but not exported is unreachable."""
    defined = {
        name
        for name, obj in vars(errors).items()
        if inspect.isclass(obj) and issubclass(obj, errors.AdvisorError) and obj.__module__ == errors.__name__
    }
    assert {"AdvisorError", "SettingsError", "IndexCorruptError"} <= defined
    missing = sorted(name for name in defined if getattr(advisor_bot, name, None) is not getattr(errors, name))
    assert missing == []
    assert defined <= set(advisor_bot.__all__)


def test_all_names_exist() -> None:
    assert [name for name in advisor_bot.__all__ if not hasattr(advisor_bot, name)] == []
    assert len(advisor_bot.__all__) == len(set(advisor_bot.__all__))


def test_the_generator_contract_of_contributing_imports_from_the_package() -> None:
    """CONTRIBUTING's example generator starts with `from advisor_bot import BaseGenerator, Evidence, Query`."""
    from advisor_bot import BaseGenerator, Evidence, Query, Setup

    assert {"Options", "can_condense", "missing", "condense"} <= set(dir(BaseGenerator))
    assert Evidence(passages=[]).points == [] and Query("why?").text == "why?"
    assert Setup is advisor_bot.generators.Setup


def test_outcome_and_coverage_values() -> None:
    """Answer.to_dict() carries these as strings; the UI and the eval compare against them."""
    from advisor_bot import Coverage, Outcome

    assert {c.value for c in Coverage} == {"answered", "partial", "refused"}
    assert {o.value for o in Outcome} == {"answered", "partial", "refused", "fell_back"}
    assert all(Outcome(c.value) for c in Coverage)  # every coverage is also an outcome
