"""Text -> unit vectors through onnxruntime and the tokenizers library: no torch on the question path.

Importing sentence-transformers (and with it torch and transformers) costs about 5 s of a cold
`advisor-bot ask`, while encoding a ten-word question with MiniLM is a few milliseconds of
arithmetic. So the model is exported to ONNX once, at index-build time, into
index/encoders/<fingerprint>/model.onnx (the fingerprint is a hash of the weights), and
queries (and, when it is faster, whole builds) run it with onnxruntime: the same tokenizer
file, the same truncation, mean pooling and normalisation as sentence-transformers, checked to
agree within 1e-4 cosine by tests/index/test_onnx_encoder.py.

The export is traced with eager attention and then fused by onnxruntime's transformer optimizer
(one Attention node per layer, embedding + LayerNorm, Skip-LayerNorm, Bias-GELU): 46 nodes
instead of about 400, so a question spends its time in the matrix products, not between nodes,
and each layer's heads run on both threads. The dev questions with two threads: 5.3 ms against
5.9 ms unfused (sleeping threads, idle), 4.3 against 4.8 spinning; the corpus's chunks and
sentences encode in 0.78x the time (bench/query_encoding.py --unfused, docs/PERFORMANCE.md). An
encoder exported before (model.onnx, unfused, the same vectors) still serves until the next build
exports the fused one.

Only models made of a BERT-style Transformer, mean or CLS pooling and an optional Normalize
(sentence-transformers' modules.json says so) are exported; anything else stays on
sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import tempfile
import threading
import time
import warnings
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelLoadError
from ..files import make_readable
from ..settings import EmbeddingSettings
from .cpu_load import (
    CGROUP,
    LOADAVG,
    TASKS,
    cores_free,
    cpu_quota,
    running_among,
    running_tasks,
    thread_ids,
    usable_cores,
)
from .query_cache import QueryVectors

log = logging.getLogger("advisor_bot")

ENCODERS_DIR = "encoders"
ONNX_FILE = "model.fused-ln.onnx"
# older exports, newest first: the same vectors, slower; each serves until a build exports anew
LEGACY_ONNX_FILES = (
    "model.fused.onnx",  # with onnxruntime's SkipLayerNormalization, 3x slower since onnxruntime 1.30
    "model.onnx",  # unfused, before 2026-12-07
)
# onnxruntime's own graph pass that would fuse the export's Add + LayerNormalization back into
# SkipLayerNormalization when a session opens (see _fuse)
UNFUSED_PASSES = ["SkipLayerNormFusion"]
OPSET = 17


LOAD_READINGS = 3  # "auto" spinning: readings in a row that must see another process's task
# "auto" spinning reads the load at most this often (seconds). Load worth sleeping for lasts
# longer than that, and after an idle pause every /proc read costs 0.2-0.3 ms, ~5% of a question.
LOAD_TTL = 0.5

SAMPLE = 1 << 20  # bytes hashed at each end of a weights file: cheap at every start, unique enough


def fingerprint(model_dir: Path) -> str:
    """A short hash of a model folder's weights, tokenizer and config: equal fingerprints, equal
    vectors. Weights are sampled (size, first and last MiB) so a cold start does not read 90 MB."""
    h = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if not path.is_file():
            continue
        size = path.stat().st_size
        h.update(f"{name}:{size}".encode())
        with open(path, "rb") as fh:
            if size <= 2 * SAMPLE:
                h.update(fh.read())
            else:
                h.update(fh.read(SAMPLE))
                fh.seek(size - SAMPLE)
                h.update(fh.read(SAMPLE))
    return h.hexdigest()[:16]


def pipeline_of(model_dir: Path) -> tuple[str, bool, int] | None:
    """(pooling, normalize, max_seq_length) when the model can run as ONNX here, else None."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or any(
            k not in ("Transformer", "Pooling", "Normalize") for k in kinds
        ):
            return None
        pooling_dir = model_dir / next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((pooling_dir / "config.json").read_text())
        mode = "mean" if pool.get("pooling_mode_mean_tokens") else "cls" if pool.get("pooling_mode_cls_token") else ""
        if not mode or not (model_dir / "tokenizer.json").is_file():
            return None
        max_len = int(json.loads((model_dir / "sentence_bert_config.json").read_text()).get("max_seq_length", 512))
        return mode, "Normalize" in kinds, max_len
    except (OSError, ValueError, KeyError, StopIteration):
        return None


def encoder_path(index_dir: Path, model_dir: Path, name: str = ONNX_FILE) -> Path:
    return index_dir / ENCODERS_DIR / fingerprint(model_dir) / name


def export(model_dir: Path, target: Path, *, fused: bool = True) -> None:
    """Write the model's transformer as ONNX (needs torch and transformers, once per model).
    `fused=False` writes it as exported before 2026-12-07 (SDPA attention, traced as is), which
    bench/query_encoding.py --unfused times beside the fused one."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    # tracing warnings and a weights-loading bar say nothing a user can act on: the export is
    # checked against sentence-transformers by tests/index/test_onnx_encoder.py
    hf_logging.disable_progress_bar()
    # eager attention traces to the plain MatMul/Softmax pattern the optimizer fuses (SDPA does not)
    model = AutoModel.from_pretrained(
        str(model_dir), local_files_only=True, attn_implementation="eager" if fused else None
    )
    model.eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = torch.ones((1, 8), dtype=torch.int64)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".export-", suffix=".onnx")
    os.close(fd)
    try:
        axes = {0: "batch", 1: "tokens"}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Encoder(),
                (example, example, torch.zeros_like(example)),
                tmp,
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "last_hidden_state": axes,
                },
                opset_version=OPSET,
                dynamo=False,
            )
        if fused:
            _fuse(tmp, model.config)
        make_readable(tmp)  # a service running as another user can read it
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _fuse(path: str, config: Any) -> None:
    """Fuse the traced graph in place with onnxruntime's transformer optimizer (a BERT-style
    model's attention, embeddings, LayerNorms and GELUs); a model it cannot fuse is left as traced.
    Each residual Add stays beside its LayerNormalization: onnxruntime 1.30-1.32 run the fused
    SkipLayerNormalization about 3x slower than 1.28 did (0.59 against 0.19 ms a question on one
    thread), and the two plain nodes take 0.25 ms (docs/PERFORMANCE.md)."""
    heads, hidden = getattr(config, "num_attention_heads", 0), getattr(config, "hidden_size", 0)
    try:
        from onnxruntime.transformers.fusion_options import FusionOptions
        from onnxruntime.transformers.optimizer import optimize_model

        options = FusionOptions("bert")
        options.enable_skip_layer_norm = False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fused = optimize_model(
                path, model_type="bert", num_heads=heads, hidden_size=hidden, optimization_options=options
            )
        if not fused.get_fused_operator_statistics().get("Attention"):
            return  # nothing fused that matters: keep the traced graph
        fused.save_model_to_file(path)
    except Exception as exc:  # the traced graph gives the same vectors, a little slower
        log.warning("could not fuse the exported encoder (%s); using it unfused", exc)


class OnnxEmbedder:
    """An exported sentence-transformers model behind the Embedder protocol; sessions open on first use."""

    def __init__(self, name: str, model_dir: Path, onnx_path: Path, settings: EmbeddingSettings | None = None) -> None:
        layout = pipeline_of(model_dir)
        if layout is None:
            raise ModelLoadError(f"{model_dir} is not a model this encoder can run; use embedding.backend = 'torch'.")
        self._name = name
        self.settings = settings or EmbeddingSettings()
        self.model_dir = model_dir
        self.onnx_path = onnx_path
        self.pooling, self.normalize, self.max_length = layout
        self.fingerprint = fingerprint(model_dir)
        self.query_threads = self.settings.query_threads
        self._queries = QueryVectors(self.settings.query_cache_size)
        self._sessions: dict[tuple[int, bool], Any] = {}
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._dimension: int | None = None
        self._workers: set[int] = set()  # the thread ids onnxruntime started for our spinning sessions
        self._quota: bool | None = None  # whether a cgroup CPU quota applies (read on first use)
        self._cores = (1, 1)  # usable by this process, on the machine (read on first use)
        self._free: deque[int] = deque(maxlen=LOAD_READINGS)  # free cores the last readings saw
        self._decided: tuple[float, bool] | None = None  # (when, spins) of the last reading
        self._reading = threading.Lock()  # one question at a time reads the load; the others reuse
        self._preloaded = threading.Event()  # set unless preload() is building the question session
        self._preloaded.set()
        self.load_ttl = LOAD_TTL
        self.loadavg = LOADAVG  # where "auto" spinning reads the machine's running tasks
        self.cgroup = CGROUP  # and whether a CPU quota makes them meaningless
        self.tasks = TASKS  # and which of this process's threads run
        self.calls = 0

    @property
    def cache_hits(self) -> int:
        """Questions answered from the query cache, without encoding."""
        return self._queries.hits

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.encode(["dimension"]).shape[1])
        return self._dimension

    backend = "onnx"

    def prepare_build(self, index_dir: Path) -> None:
        """Nothing to prepare: the model is exported already."""

    def _session(self, threads: int, *, spinning: bool = True) -> Any:
        """One session per (threads, spinning): builds always spin, questions as
        `embedding.query_spinning` says (bench/query_encoding.py measures both, idle and busy)."""
        key = (threads, spinning)
        with self._lock:
            if key not in self._sessions:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                if not spinning:
                    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                before = thread_ids(self.tasks)
                try:
                    self._sessions[key] = ort.InferenceSession(
                        str(self.onnx_path),
                        options,
                        providers=["CPUExecutionProvider"],
                        disabled_optimizers=UNFUSED_PASSES,
                    )
                except Exception as exc:  # onnxruntime raises its own exception types
                    raise ModelLoadError(
                        f"Could not load the exported encoder {self.onnx_path}: {exc}. "
                        "Run `advisor-bot index --rebuild` to export it again."
                    ) from exc
                # its intra-op workers, which "auto" does not count as load (a thread another part
                # of the process starts meanwhile would be counted with them: rare, and at worst
                # one question spins beside it)
                if spinning:  # a sleeping session's workers sleep once a question is done
                    self._workers |= thread_ids(self.tasks) - before
            self._tokenizer_ready()
            return self._sessions[key]

    def _tokenizer_ready(self) -> Any:
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            tok.enable_truncation(max_length=self.max_length)
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def preload(self) -> None:
        """Build the question session on a background thread (onnxruntime builds it outside the
        GIL), overlapping the index opening: ~0.25 s off a cold `ask`. Not a daemon: a script
        that exits right after `Advisor.load()` must wait for the session, or onnxruntime aborts
        the process mid-construction (exit code 134).

        A question asked meanwhile waits for the preload before it reads the machine's load:
        read during the build, the building thread looked like another process's task, and the
        question built a second session beside the first (~0.3 s and ~120 MB more on a cold
        `ask` that opened its index quickly). And when the preloaded session is the spinning
        one, the idle machine it was built for counts as one of the LOAD_READINGS readings a
        load must be seen by, so a task running at the instant of the first question's reading
        (a kernel thread) does not build a second session either. Nothing to do when a session
        for questions exists or a preload is under way."""
        threads = self._query_threads()
        with self._lock:
            if not self._preloaded.is_set() or any(key[0] == threads for key in self._sessions):
                return
            self._preloaded.clear()

        def build() -> None:
            try:
                session = self.query_session()
                if session is self._sessions.get((threads, True)) and self.settings.query_spinning == "auto":
                    self._free.append(threads)
            except Exception as exc:  # the first question builds it again and reports the error
                log.debug("preloading the question session failed: %s", exc)
            finally:
                self._preloaded.set()

        try:
            threading.Thread(target=build, name="encoder-preload").start()
        except BaseException:  # no thread ("can't start new thread"): questions must not wait for one
            self._preloaded.set()
            raise

    def query_session(self) -> Any:
        """The session questions run on when the machine is idle (built on first use; preload()
        builds it early, while the process's own start-up is the machine's load). With
        query_spinning "auto" the other one is built when the load first calls for it (0.12 s
        once, and a second copy of the weights, ~90 MB, only then)."""
        threads = self._query_threads()
        return self._session(threads, spinning=self._spins_now(threads, idle=True))

    def _query_threads(self) -> int:
        return self.query_threads or os.cpu_count() or 1

    def _spins_now(self, threads: int, *, idle: bool = False) -> bool:
        """Whether this question's threads spin: as `embedding.query_spinning` says, or with
        "auto" when every thread has a core that no other process is using (cpu_load.py), read
        at most every `load_ttl` seconds (`idle`: were the machine idle)."""
        mode = self.settings.query_spinning
        if mode != "auto":
            return mode
        if threads < 2:
            return False  # no worker threads: nothing spins or sleeps
        if self._quota is None:  # read once (60 us); so are the cores (a syscall: 40 us after a pause)
            self._quota = cpu_quota(self.cgroup) is not None
            self._cores = (usable_cores(), os.cpu_count() or 1)
        if self._quota:
            return False
        now = time.monotonic()
        decided = self._decided
        if idle or decided is None:
            return self._read_load(threads, now, idle=idle)
        if now - decided[0] < self.load_ttl or not self._reading.acquire(blocking=False):
            return decided[1]  # fresh enough, or another question is reading the load right now
        try:
            return self._read_load(threads, now)
        finally:
            self._reading.release()

    def _read_load(self, threads: int, now: float, *, idle: bool = False) -> bool:
        """Read the load and decide; remember the decision unless `idle` asks what an idle
        machine would call for. An unknown load means sleep."""
        running = running_tasks(self.loadavg)  # ~0.2 ms after a pause: every /proc read is slow then
        if idle:
            return running is not None and self._cores[0] >= threads
        spins = running is not None and self._spins_for_load(running, threads)
        self._decided = (now, spins)
        return spins

    def _spins_for_load(self, running: int, threads: int) -> bool:
        usable, machine = self._cores
        # only the asking thread runs: no worker of ours to look for (another 0.3 ms after a pause)
        ours = 1 + (running_among(self._workers, self.tasks) if running > 1 else 0)
        free = cores_free(running, own_running=ours, usable=usable, machine=machine)
        # a task seen running once may be a blip (a kernel thread, the read racing our worker's
        # state); load is what the last LOAD_READINGS readings all saw
        self._free.append(free)
        return max(self._free) >= threads

    def _forward(self, session: Any, encodings: Sequence[Any]) -> np.ndarray:
        """Pad one batch of tokenised texts to its longest, run the model, pool and normalise."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
            types[row, : len(e.ids)] = e.type_ids
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        if self.normalize:
            pooled = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return np.ascontiguousarray(pooled, dtype=np.float32)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text.

        Texts are tokenised once and run shortest first, in batches of at most `batch_size` texts
        and `batch_tokens` padded tokens: long passages in small batches, sentences in large ones
        (bench/encode_batches.py: 512 tokens took 0.75-0.78x the time of 32 texts on SciFact abstracts).
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session = self._session(self.settings.threads or os.cpu_count() or 1, spinning=True)
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out: np.ndarray | None = None
        bar = _bar(len(texts)) if show_progress else None
        lengths = [len(e.ids) for e in encodings]
        for rows in _batches(order, lengths, self.settings.batch_size, self.settings.batch_tokens):
            vectors = self._forward(session, [encodings[i] for i in rows])
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        self.calls += len(texts)
        assert out is not None
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One unit vector, cached: the chat asks the same question again more than you'd think."""
        return self._queries.get_or_encode(text, self._encode_one)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            tokenizer = self._tokenizer_ready()
        encodings = tokenizer.encode_batch(list(texts)) if texts else []
        return np.array([len(e.ids) - sum(e.special_tokens_mask) for e in encodings], dtype=np.int64)

    def _encode_one(self, text: str) -> np.ndarray:
        """One question, unpadded: what `encode` does for a batch of one, less its padding, masks
        and sort. After an idle pause every first call is slow (the tokenizer alone takes 0.22 ms,
        against 0.06 ms straight after another), so the path makes as few as it can:
        `Tokenizer.encode` (`encode_batch` hands one text to its thread pool), one array for the
        three inputs, and a sum and a dot product for the pooling (bench/query_encoding.py)."""
        self.calls += 1
        threads = self._query_threads()
        self._preloaded.wait()  # see preload()
        session = self._session(threads, spinning=self._spins_now(threads))
        tokens = self._tokenizer.encode(text)
        rows = np.array([tokens.ids, tokens.attention_mask, tokens.type_ids], dtype=np.int64)
        feed = {"input_ids": rows[0:1], "attention_mask": rows[1:2], "token_type_ids": rows[2:3]}
        hidden = session.run(None, feed)[0][0]
        if self.pooling == "cls":
            pooled = hidden[0]
        elif self.normalize:
            pooled = hidden.sum(axis=0)  # the mean's direction: normalised below, the 1/n goes
        else:
            pooled = hidden.mean(axis=0)
        if not self.normalize:
            return np.array(pooled, dtype=np.float32)
        return pooled * np.float32(1.0 / max(math.sqrt(float(pooled.dot(pooled))), 1e-12))


def _batches(order: Sequence[int], lengths: Sequence[int], max_texts: int, max_tokens: int) -> list[list[int]]:
    """Consecutive runs of `order` (shortest first) whose padded size stays within both limits."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # sorted by length, so row i is the widest yet: the padded size is len(current + [i]) * lengths[i]
        if current and (len(current) + 1 > max_texts or (len(current) + 1) * lengths[i] > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def _bar(total: int) -> Any:
    """A terminal progress bar for a long encode (tqdm: what sentence-transformers draws too)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="embedding", unit="text", leave=False)
