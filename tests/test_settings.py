from pathlib import Path

import pytest

from advisor_bot.errors import SettingsError
from advisor_bot.settings import Settings, find_root


def test_defaults_resolve_paths_against_root(tmp_path: Path) -> None:
    s = Settings.load(tmp_path, env={})
    assert s.corpus_path == tmp_path.resolve() / "corpus"
    assert s.index_path == tmp_path.resolve() / "index"
    assert s.embedding_model == "all-MiniLM-L6-v2"
    assert s.generator == "extractive"
    assert s.host == "127.0.0.1"


def test_toml_then_env_then_overrides(tmp_path: Path) -> None:
    (tmp_path / "advisor-bot.toml").write_text('top_k = 7\n[retrieval]\nrrf_k = 10\n[paths]\nindex_dir = "idx"\n')
    s = Settings.load(tmp_path, env={"ADVISOR_BOT_TOP_K": "9", "ADVISOR_BOT_MMR": "yes"})
    assert s.top_k == 9  # env beats the file
    assert s.rrf_k == 10  # tables only group keys
    assert s.mmr is True
    assert s.index_path == tmp_path.resolve() / "idx"
    assert Settings.load(tmp_path, env={"ADVISOR_BOT_TOP_K": "9"}, top_k=3).top_k == 3


def test_bad_values_say_which_setting(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="top_k"):
        Settings.load(tmp_path, env={"ADVISOR_BOT_TOP_K": "many"})
    with pytest.raises(SettingsError, match="Unknown setting 'colour'"):
        Settings.load(tmp_path, env={}, colour="blue")
    (tmp_path / "advisor-bot.toml").write_text("top_k = [")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Settings.load(tmp_path, env={})


def test_find_root_walks_up_to_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "corpus").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_root({}) == tmp_path
    assert find_root({"ADVISOR_BOT_ROOT": "/elsewhere"}) == Path("/elsewhere")
