"""The embedding model: sentence-transformers for bulk documents, its ONNX export for questions.

With ``onnx_embedder`` these are the only modules that import sentence-transformers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from sentence_transformers import SentenceTransformer

    from assistant.config import Settings
    from assistant.onnx_embedder import OnnxEncoder
else:
    # LangChain's interface, by its methods (embed_documents, embed_query): importing
    # langchain_core costs a new process a third of a second, and a question never uses it
    Embeddings = object


#: batches larger than this are embedded with every core; smaller ones (questions) with one
BULK_TEXTS = 8
#: query vectors kept (questions asked again, by other readers of the same article)
QUERY_CACHE = 1024


@contextmanager
def _torch_threads(count: int) -> Iterator[None]:
    """Run torch with ``count`` threads, then restore the count it had.

    One question is as fast on one thread as on two, and stays fast when another
    process busies a core; two threads then wait on each other (14 ms became 170 ms at
    p95 on this 2-core machine). Bulk indexing gains from every core.
    """
    import torch

    before = torch.get_num_threads()
    if before != count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        if before != count:
            torch.set_num_threads(before)


class LocalEmbeddings(Embeddings):
    """The local embedding model; unit-length vectors.

    Questions and other small batches go through the ONNX export of the model
    (``onnx_embedder``) when there is one: no torch in the process, a few milliseconds a
    question. sentence-transformers is loaded only when bulk documents are embedded
    (building the index, adding an article) or when there is no ONNX encoder.

    Normalised vectors make the dot product the cosine similarity, which is what the
    Chroma collection (``space: cosine``) and the sentence scorer both use.
    """

    def __init__(
        self,
        model: SentenceTransformer | None = None,
        batch_size: int = 32,
        *,
        model_dir: Path | None = None,
        onnx: OnnxEncoder | None = None,
        onnx_bulk: bool = False,
    ) -> None:
        if model is None and model_dir is None:
            raise ValueError("LocalEmbeddings needs a loaded model or the folder to load it from")
        self._st_model = model
        self.model_dir = model_dir
        self.onnx = onnx
        #: bulk documents through onnxruntime too (same vectors to ~1e-7, about 1.7 times
        #: the passages a second here); off by default: the issue keeps
        #: sentence-transformers for building the index
        self.onnx_bulk = onnx_bulk
        self._batch_size = batch_size
        self._cache: dict[str, np.ndarray] = {}
        #: the web app asks from several threads: the cache's evictions must not race
        self._caching = threading.Lock()
        self._loading = threading.Lock()

    @property
    def _model(self) -> SentenceTransformer:
        """The sentence-transformers model, loaded on first use."""
        if self._st_model is None:
            with self._loading:
                if self._st_model is None:
                    assert self.model_dir is not None
                    self._st_model = _load_sentence_transformer(self.model_dir)
        return self._st_model

    @property
    def runtime(self) -> str:
        """What embeds questions: ``onnxruntime`` or ``sentence-transformers``."""
        return "onnxruntime" if self.onnx is not None else "sentence-transformers"

    @property
    def dimension(self) -> int:
        if self.onnx is not None:
            return self.onnx.dimension
        from assistant.onnx_embedder import embedding_dimension

        return embedding_dimension(self._model)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for ``texts``, one row each (float32)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.onnx is not None and (self.onnx_bulk or len(texts) <= BULK_TEXTS):
            return self.onnx.encode(texts, self._batch_size)
        return self.encode_with_sentence_transformers(texts)

    def encode_with_sentence_transformers(self, texts: list[str]) -> np.ndarray:
        """Unit vectors from the sentence-transformers model (the reference the export matches)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        threads = (os.cpu_count() or 1) if len(texts) > BULK_TEXTS else 1
        with _torch_threads(threads):
            vectors = self._model.encode(
                texts,
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        """One query's unit vector; repeated questions are served from a small cache."""
        vector = self._cache.get(text)
        if vector is None:
            vector = self.encode([text])[0]
            with self._caching:
                while len(self._cache) >= QUERY_CACHE:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[text] = vector
        return vector

    def clear_cache(self) -> None:
        """Forget cached query vectors (benchmarks measure the model, not the cache)."""
        with self._caching:
            self._cache.clear()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()

    # what langchain_core's Embeddings would have added (LangChain calls them by name)
    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        return self.embed_query(text)


def _load_sentence_transformer(folder: Path) -> SentenceTransformer:
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # a progress bar per model load is noise on a terminal and in logs
        transformers_logging.disable_progress_bar()
        kwargs: dict[str, Any] = {"device": "cpu", "local_files_only": True}
        return SentenceTransformer(str(folder), **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the embedding model from {folder}: {exc}") from exc


def export_is_cached(settings: Settings) -> bool:
    """Whether ``load_embeddings`` only opens a cached ONNX export: no torch, no export to
    log, nothing but onnxruntime's native loading (which a thread can do at start-up)."""
    if not settings.onnx:
        return False
    from assistant.onnx_embedder import export_path

    return export_path(settings.model_dir(), settings.onnx_cache()).is_file()


def load_embeddings(settings: Settings) -> LocalEmbeddings:
    """The configured model from its folder, never from a hub.

    With a cached ONNX export nothing heavy is imported here; without one the model is
    exported now (this imports torch, once) unless ``settings.onnx`` is off.
    """
    folder: Path = settings.model_dir()
    if not settings.onnx:
        return LocalEmbeddings(_load_sentence_transformer(folder), model_dir=folder)
    from assistant.onnx_embedder import export_path, load_onnx

    cache = settings.onnx_cache()
    model = None
    if not export_path(folder, cache).is_file():
        model = _load_sentence_transformer(folder)  # the export needs it; keep it for bulk
    return LocalEmbeddings(model, model_dir=folder, onnx=load_onnx(folder, cache, model))
