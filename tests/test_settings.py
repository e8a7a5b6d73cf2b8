"""The one settings tree: layers, origins, validation, old flat keys, and what the CLI says about them.

A bad value must stop the program before any work with one line naming the key and the
value; old flat names keep working for a release, with a note naming the new key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor_bot import Settings, SettingsError
from advisor_bot.cli import main
from advisor_bot.generators import GeneratorRegistry
from advisor_bot.settings import SECTIONS, find_root

GENERATORS = ("extractive", "local", "openai_compat")
# CliRunner reads os.environ: unset this shell's ADVISOR_BOT_* so they cannot change a result
WITHOUT_OUR_VARIABLES: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ADVISOR_BOT_")}


def run_cli(root: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real `python -m advisor_bot` in a subprocess: what a user sees, tracebacks included."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    full = {**clean, "ADVISOR_BOT_ROOT": str(root), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "advisor_bot", *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=root,
        timeout=120,
    )


def every_key(settings: Settings) -> set[str]:
    """Every leaf the settings command must list: sections, then each generator's options."""
    keys = {f"{name}.{field}" for name, section in SECTIONS.items() for field in section.model_fields}
    for name, options in GeneratorRegistry(settings).options_classes().items():
        keys |= {f"generators.{name}.{field}" for field in options.model_fields}
    return keys


# ---------- layers ----------


def test_defaults_resolve_paths_against_root(tmp_path: Path) -> None:
    s = Settings.load(tmp_path, env={})
    assert s.root == tmp_path.resolve()
    assert s.corpus_path == tmp_path.resolve() / "corpus"
    assert s.index_path == tmp_path.resolve() / "index"
    assert s.data_path == tmp_path.resolve() / "data"
    assert s.embedding.model == "all-MiniLM-L6-v2"
    assert s.answer.generator == "extractive"
    assert s.ui.host == "127.0.0.1"
    assert s.origins == {} and s.deprecations == ()


def test_toml_then_env_then_overrides(tmp_path: Path) -> None:
    (tmp_path / "advisor-bot.toml").write_text(
        '[retrieval]\ntop_k = 7\nrrf_k = 12\n[index]\ndir = "idx"\n', encoding="utf-8"
    )
    env = {"ADVISOR_BOT_RETRIEVAL__TOP_K": "9", "ADVISOR_BOT_RETRIEVAL__MMR": "no"}
    s = Settings.load(tmp_path, env=env)
    assert s.retrieval.top_k == 9  # the environment beats the file
    assert s.retrieval.rrf_k == 12  # the file beats the default
    assert s.retrieval.mmr is False
    assert s.index_path == tmp_path.resolve() / "idx"
    assert Settings.load(tmp_path, env=env, **{"retrieval.top_k": 3}).retrieval.top_k == 3  # keywords beat both
    assert Settings.load(tmp_path, env={}, retrieval={"top_k": 4}).retrieval.top_k == 4  # a section as a dict


def test_origins_name_the_layer_each_value_came_from(tmp_path: Path) -> None:
    (tmp_path / "advisor-bot.toml").write_text("[retrieval]\nrrf_k = 12\n", encoding="utf-8")
    s = Settings.load(
        tmp_path,
        env={"ADVISOR_BOT_ANSWER__MAX_STATEMENTS": "4"},
        overrides_from="--set",
        **{"chunking.chunk_size": 500},
    )
    explained = {key: origin for key, _, origin in s.explain()}
    assert explained["retrieval.rrf_k"] == "advisor-bot.toml"
    assert explained["answer.max_statements"] == "environment"
    assert explained["chunking.chunk_size"] == "--set"
    assert explained["retrieval.top_k"] == "default"


def test_with_overrides_keeps_origins(tmp_path: Path) -> None:
    base = Settings.load(tmp_path, env={"ADVISOR_BOT_RETRIEVAL__TOP_K": "9"}, **{"chunking.chunk_size": 400})
    changed = base.with_overrides(**{"retrieval.rrf_k": 3})
    assert (changed.retrieval.top_k, changed.chunking.chunk_size, changed.retrieval.rrf_k) == (9, 400, 3)
    assert changed.origins == {
        "retrieval.top_k": "environment",
        "chunking.chunk_size": "keyword",
        "retrieval.rrf_k": "keyword",
    }
    assert base.retrieval.rrf_k != 3  # settings are immutable: the original is untouched
    with pytest.raises(SettingsError, match=r"retrieval\.top_k = 0"):
        base.with_overrides(**{"retrieval.top_k": 0})


# ---------- bad values ----------


@pytest.mark.parametrize(
    ("written", "value"), [("auto", "auto"), ("AUTO", "auto"), ("false", False), ("0", False), ("true", True)]
)
def test_query_spinning_is_true_false_or_auto_however_written(tmp_path: Path, written: str, value: object) -> None:
    env = {"ADVISOR_BOT_EMBEDDING__QUERY_SPINNING": written}
    assert Settings.load(tmp_path, env=env).embedding.query_spinning == value
    assert Settings.load(tmp_path, env={}, **{"embedding.query_spinning": written}).embedding.query_spinning == value
    assert Settings.load(tmp_path, env={}).embedding.query_spinning == "auto"


def test_a_bad_query_spinning_is_named_once_with_its_source(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.load(tmp_path, env={}, **{"embedding.query_spinning": "maybe"})
    assert "embedding.query_spinning = 'maybe' (from keyword)" in str(err.value)
    assert "true, false or 'auto'" in str(err.value) and "literal" not in str(err.value)


def test_bad_values_say_which_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"retrieval\.top_k = 'many' \(from environment\)"):
        Settings.load(tmp_path, env={"ADVISOR_BOT_RETRIEVAL__TOP_K": "many"})
    with pytest.raises(SettingsError, match="Unknown setting 'colour'"):
        Settings.load(tmp_path, env={}, colour="blue")
    with pytest.raises(SettingsError, match=r"Unknown setting 'retrieval.colour'.*Known keys in retrieval:.*top_k"):
        Settings.load(tmp_path, env={}, **{"retrieval.colour": "blue"})
    with pytest.raises(
        SettingsError, match=r"chunking \(from keyword\).*overlap \(300\) must be smaller than chunk_size"
    ):
        Settings.load(tmp_path, env={}, **{"chunking.chunk_size": 300, "chunking.chunk_overlap": 300})
    with pytest.raises(SettingsError, match=r"chunking \(from environment\).*overlap \(5000\)"):  # not "default"
        Settings.load(tmp_path, env={"ADVISOR_BOT_CHUNKING__CHUNK_OVERLAP": "5000"})
    (tmp_path / "advisor-bot.toml").write_text("[retrieval]\ntop_k = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load(tmp_path, env={})


def test_generator_sections_are_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"generators\.local\.threads"):
        Settings.load(tmp_path, env={}, **{"generators.local.threads": -1})
    with pytest.raises(SettingsError, match=r"generators\.nothere.*Available: extractive, local, openai_compat"):
        Settings.load(tmp_path, env={}, **{"generators.nothere.x": 1})
    with pytest.raises(SettingsError, match=r"generators\.openai_compat\.colour"):
        Settings.load(tmp_path, env={"ADVISOR_BOT_GENERATORS__OPENAI_COMPAT__COLOUR": "blue"})
    (tmp_path / "advisor-bot.toml").write_text("[generators.local]\nthreads = 2\n", encoding="utf-8")
    s = Settings.load(tmp_path, env={})
    assert s.generators["local"]["threads"] == 2
    assert s.origins["generators.local.threads"] == "advisor-bot.toml"


# ---------- old flat keys ----------


def test_flat_keys_still_work_with_a_deprecation_naming_the_new_key(tmp_path: Path) -> None:
    with pytest.warns(FutureWarning, match="'top_k'.*use 'retrieval.top_k'"):
        assert Settings.load(tmp_path, env={}, top_k=8).retrieval.top_k == 8
    with pytest.warns(FutureWarning, match="'ADVISOR_BOT_TOP_K'.*use 'ADVISOR_BOT_RETRIEVAL__TOP_K'"):
        from_env = Settings.load(tmp_path, env={"ADVISOR_BOT_TOP_K": "8"})
    assert from_env.retrieval.top_k == 8 and from_env.origins["retrieval.top_k"] == "environment"
    (tmp_path / "advisor-bot.toml").write_text("top_k = 8\nlocal_threads = 2\n", encoding="utf-8")
    with pytest.warns(FutureWarning) as caught:
        from_file = Settings.load(tmp_path, env={})
    assert from_file.retrieval.top_k == 8 and from_file.generators["local"]["threads"] == 2
    messages = sorted(str(w.message) for w in caught)
    assert messages == sorted(from_file.deprecations)  # what the CLI prints as warnings
    assert "'local_threads' (advisor-bot.toml)" in messages[0] and "use 'generators.local.threads'" in messages[0]
    assert "'top_k' (advisor-bot.toml)" in messages[1] and "use 'retrieval.top_k'" in messages[1]


def test_flat_set_on_the_command_line_warns_once_and_works(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--root", str(tmp_path), "--set", "top_k=8", "settings", "--json"], env=WITHOUT_OUR_VARIABLES
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["retrieval.top_k"] == {"value": 8, "from": "--set"}
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "'top_k'" in warnings[0] and "use 'retrieval.top_k'" in warnings[0]


def test_flat_env_and_toml_keys_warn_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "advisor-bot.toml").write_text("top_k = 7\n", encoding="utf-8")
    result = run_cli(tmp_path, "settings", "--json", env={"ADVISOR_BOT_MMR": "no"})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["retrieval.top_k"] == {"value": 7, "from": "advisor-bot.toml"}
    assert data["retrieval.mmr"] == {"value": False, "from": "environment"}
    assert "use 'retrieval.top_k'" in result.stderr and "use 'ADVISOR_BOT_RETRIEVAL__MMR'" in result.stderr


# ---------- the CLI: one line, exit status 2 ----------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--set", "chunking.chunk_size=10", "settings"), ("chunking.chunk_size", "10", "200")),
        (("--set", "retrieval.mode=bogus", "settings"), ("retrieval.mode", "bogus", "hybrid")),
        (("--set", "retrieval.top_k=-3", "settings"), ("retrieval.top_k", "-3")),
        (("--set", "retrieval.mmr_lambda=7", "settings"), ("retrieval.mmr_lambda", "7")),
        (("--set", "generators.local.threads=-1", "settings"), ("generators.local.threads", "-1")),
        (("--set", "generators.nothere.x=1", "settings"), ("generators.nothere", *GENERATORS)),
        (("--set", "nonsense", "settings"), ("nonsense", "KEY=VALUE")),
        (("ask", "--generator", "nonexistent", "how do I prepare?"), ("nonexistent", *GENERATORS)),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_status_2(tmp_path: Path, args: tuple[str, ...], named: tuple[str]) -> None:
    (tmp_path / "corpus").mkdir()
    result = run_cli(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in named:
        assert word in lines[0], (word, lines[0])
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "index").exists()  # stopped before any work


# ---------- advisor-bot settings ----------


def test_settings_command_lists_every_key_with_value_and_origin(tmp_path: Path) -> None:
    (tmp_path / "advisor-bot.toml").write_text("[retrieval]\nrrf_k = 12\n", encoding="utf-8")
    env = {"ADVISOR_BOT_ANSWER__MAX_STATEMENTS": "4"}
    args = ("--set", "chunking.chunk_size=500", "settings")
    as_json = run_cli(tmp_path, *args, "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert set(data) == every_key(Settings.load(tmp_path, env={})) | {"root"}
    assert data["retrieval.rrf_k"] == {"value": 12, "from": "advisor-bot.toml"}
    assert data["answer.max_statements"] == {"value": 4, "from": "environment"}
    assert data["chunking.chunk_size"] == {"value": 500, "from": "--set"}
    assert data["retrieval.top_k"] == {"value": 5, "from": "default"}
    assert data["generators.local.threads"] == {"value": 0, "from": "default"}

    table = run_cli(tmp_path, *args, env={**env, "COLUMNS": "200"})
    assert table.returncode == 0, table.stderr
    rows = {line.split("│")[1].strip(): line for line in table.stdout.splitlines() if line.count("│") >= 3}
    assert set(rows) >= set(data) - {"root"}
    for key, origin in [
        ("retrieval.rrf_k", "advisor-bot.toml"),
        ("answer.max_statements", "environment"),
        ("chunking.chunk_size", "--set"),
        ("retrieval.top_k", "default"),
    ]:
        assert origin in rows[key] and str(data[key]["value"]) in rows[key]


def test_find_root_walks_up_to_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "corpus").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_root({}) == tmp_path
    assert find_root({"ADVISOR_BOT_ROOT": "/elsewhere"}) == Path("/elsewhere")
    (deep / "advisor-bot.toml").write_text("", encoding="utf-8")
    assert find_root({}) == deep  # a config file marks a root too
