"""The query encoder without torch: the embedding model exported once to ONNX, run by onnxruntime.

Importing torch and sentence-transformers costs seconds and one query through them ~14 ms;
the same model as an ONNX graph (transformer, mean pooling and L2 normalisation inside the
graph) answers in a few milliseconds from a process that never imports torch, with vectors
equal to sentence-transformers' to ~1e-7. The export runs once (it needs torch) and is
cached in ``cache_dir/<key>/``, where the key is a hash of the model folder's files, so a
changed model gets a new export and never a stale one.

Only models that are a transformer with mean pooling (and optionally normalisation) are
exported; anything else (a Dense layer, CLS pooling, a custom module) stays with
sentence-transformers, because the graph would not reproduce it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from onnxruntime import InferenceSession
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)
#: the first start's progress (``knowledge.PROGRESS_LOG``: the web app and the CLI show it)
progress = logging.getLogger("assistant.progress")

#: part of the cache key: bump it when the exported graph or its metadata change
EXPORT_VERSION = "1"
MODEL_FILE = "model.onnx"
META_FILE = "meta.json"
#: batches up to this size run on one thread: a question is as fast on one thread as on
#: two, and stays fast when another process busies the other core
SMALL_BATCH = 8
#: the largest gap allowed between the export and sentence-transformers on the probe texts
MAX_EXPORT_ERROR = 1e-4
_PROBES = [
    "What did Orban say?",
    "North Korean troops were seen near Kursk, according to Ukrainian intelligence.",
    "short",
]
_SUPPORTED_MODULES = {
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
    "sentence_transformers.base.modules.Transformer",
    "sentence_transformers.sentence_transformer.modules.Pooling",
    "sentence_transformers.sentence_transformer.modules.Normalize",
}


def model_key(model_dir: Path) -> str:
    """A short hash of the model folder's files (relative path, size, modification time).

    Sizes and times rather than contents: hashing 90 MB of weights would cost a quarter
    of a second on every start, and any rewrite of a file changes its time.
    """
    digest = hashlib.sha256(f"v{EXPORT_VERSION}\n".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(
            f"{path.relative_to(model_dir)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()[:16]


def embedding_dimension(model: SentenceTransformer) -> int:
    """The length of the model's vectors (the method's name changed in sentence-transformers 6)."""
    method = getattr(model, "get_embedding_dimension", None)
    if method is None:
        method = model.get_sentence_embedding_dimension
    return int(method() or 0)


def export_path(model_dir: Path, cache_dir: Path) -> Path:
    """Where the export of this model (as its files are now) lives."""
    return cache_dir / model_key(model_dir) / MODEL_FILE


def unsupported_reason(model_dir: Path) -> str | None:
    """Why the model cannot be exported faithfully, or ``None`` when it can (no torch needed)."""
    if not (model_dir / "tokenizer.json").is_file():
        return "it has no tokenizer.json (a fast tokenizer)"
    try:
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith(".Pooling"))
        pooling = json.loads((model_dir / pooling_dir / "config.json").read_text("utf-8"))
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return "its modules.json does not describe a transformer with a pooling layer"
    others = sorted({m["type"] for m in modules} - _SUPPORTED_MODULES)
    if others:
        return f"it has modules the export does not reproduce: {', '.join(others)}"
    modes = sorted(k for k, on in pooling.items() if k.startswith("pooling_mode") and on)
    if modes != ["pooling_mode_mean_tokens"]:
        return f"its pooling is {', '.join(modes) or 'unset'}, not the mean of tokens"
    return None


class OnnxEncoder:
    """Unit-length sentence vectors from the exported graph and the model's fast tokenizer."""

    def __init__(self, model_path: Path, tokenizer_file: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((model_path.parent / META_FILE).read_text(encoding="utf-8"))
        self.dimension = int(meta["dimension"])
        self.path = model_path
        self._tokenizer: Tokenizer = Tokenizer.from_file(str(tokenizer_file))
        # the same truncation and padding as sentence-transformers: tokenizer.json of
        # this model says 128 tokens, padded to a fixed width; sentence-transformers cuts
        # at max_seq_length and pads to the longest text of the batch
        self._tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
        self._tokenizer.enable_padding(pad_id=int(meta["pad_id"]), pad_token=str(meta["pad_token"]))
        self._sessions: dict[int, InferenceSession] = {}
        self._onnxruntime = onnxruntime
        self._inputs = [i.name for i in self._session(1).get_inputs()]

    def _session(self, threads: int) -> InferenceSession:
        session = self._sessions.get(threads)
        if session is None:
            options = self._onnxruntime.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            session = self._onnxruntime.InferenceSession(
                str(self.path), options, providers=["CPUExecutionProvider"]
            )
            self._sessions[threads] = session
        return session

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit vectors for ``texts``, one float32 row each."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        threads = 1 if len(texts) <= SMALL_BATCH else (os.cpu_count() or 1)
        if len(texts) <= batch_size:
            return self._run(list(texts), threads)
        # as sentence-transformers does: batches of texts of similar length waste little
        # work on padding (half again as many passages a second on news paragraphs)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            vectors[chosen] = self._run([texts[i] for i in chosen], threads)
        return vectors

    def _run(self, texts: list[str], threads: int) -> np.ndarray:
        batch = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
        }
        (vectors,) = self._session(threads).run(None, {k: feeds[k] for k in self._inputs})
        return np.asarray(vectors, dtype=np.float32)


def _meta(model: SentenceTransformer) -> dict[str, object]:
    """What the ONNX runtime needs beside the graph: the tokenizer's padding, the length."""
    pad_token = model.tokenizer.pad_token or "[PAD]"
    return {
        "dimension": embedding_dimension(model),
        "max_seq_length": int(model.max_seq_length or model.tokenizer.model_max_length),
        "pad_id": int(model.tokenizer.convert_tokens_to_ids(pad_token)),
        "pad_token": pad_token,
    }


def export_onnx(model_dir: Path, cache_dir: Path, model: SentenceTransformer | None = None) -> Path:
    """Export the model to ``cache_dir/<key>/model.onnx`` (kept when already there).

    Needs torch (and onnx, onnxscript); ``model`` is the model already loaded from
    ``model_dir``, to spare loading it twice. Raises ``ConfigError`` when the model cannot
    be exported faithfully.
    """
    target = export_path(model_dir, cache_dir)
    if target.is_file():
        return target
    reason = unsupported_reason(model_dir)
    if reason:
        raise ConfigError(f"the embedding model in {model_dir} is not exported to ONNX: {reason}")
    progress.info("exporting the embedding model to ONNX (once: later starts reuse it) ...")
    started = time.perf_counter()
    import torch

    if model is None:
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    graph = _pooled_encoder(model[0].auto_model).eval()
    sample = model.tokenizer(_PROBES, padding=True, truncation=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
    target.parent.mkdir(parents=True, exist_ok=True)
    # a unique temporary name, renamed into place when complete: a killed export, or two
    # processes exporting at once, never leave a half-written model.onnx behind
    tmp = target.with_name(f".{MODEL_FILE}.{os.getpid()}.tmp")
    # the exporter logs a line for every optional operator it skips (torchvision's) and
    # warns about axis names: noise to a user building the index
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    exporter_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                graph,
                tuple(sample[n] for n in names),
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_shapes={n: {0: batch, 1: seq} for n in names},
                dynamo=True,
                verbose=False,
            )
            if program is None:
                raise ConfigError("torch.onnx.export returned no program")
            program.save(tmp, external_data=False)
        _write_atomically(target.parent / META_FILE, json.dumps(_meta(model), indent=2))
        _check(tmp, model_dir, model)
        os.replace(tmp, target)
    finally:
        exporter_log.setLevel(level)
        tmp.unlink(missing_ok=True)
    progress.info("exported the model in %.0f s to %s", time.perf_counter() - started, target)
    return target


def announce_export(model_dir: Path, cache_dir: Path) -> None:
    """Say that this start loads the model to export it (the first start: seconds), before
    it does; nothing when an export is cached or the model cannot be exported."""
    if not export_path(model_dir, cache_dir).is_file() and unsupported_reason(model_dir) is None:
        progress.info("first start: loading the embedding model (sentence-transformers) ...")


def _check(path: Path, model_dir: Path, model: SentenceTransformer) -> None:
    """Refuse an export whose vectors differ from sentence-transformers' on the probes."""
    long_text = " ".join(_PROBES * 80)  # beyond max_seq_length: truncation must agree too
    texts = [*_PROBES, long_text]
    got = OnnxEncoder(path, model_dir / "tokenizer.json").encode(texts)
    want = model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    error = float(np.max(np.abs(got - want)))
    if error > MAX_EXPORT_ERROR:
        raise ConfigError(f"the ONNX export differs from the model by {error:.2g}")


def load_onnx(
    model_dir: Path, cache_dir: Path, model: SentenceTransformer | None = None
) -> OnnxEncoder | None:
    """The ONNX encoder of the model, exporting it first when no export is cached.

    ``None`` (after one warning) when the model cannot be exported or onnxruntime fails;
    the caller then embeds with sentence-transformers.
    """
    try:
        path = export_path(model_dir, cache_dir)
        if not path.is_file():
            path = export_onnx(model_dir, cache_dir, model)
        return OnnxEncoder(path, model_dir / "tokenizer.json")
    except Exception as exc:  # noqa: BLE001 - torch's exporter raises many kinds; all mean "no"
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        logger.warning("embedding with sentence-transformers, not ONNX: %s", detail)
        return None


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _pooled_encoder(transformer: Any) -> Any:
    """The transformer, then the mean of its token vectors, then L2 normalisation."""
    # defined here because a torch.nn.Module subclass needs torch imported, which this
    # module must not do at import time
    import torch

    class PooledEncoder(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor | None = None,
        ) -> torch.Tensor:
            tokens = self.transformer(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    return PooledEncoder(transformer)
