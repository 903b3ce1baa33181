"""The embedding model: the only module that imports sentence-transformers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.errors import ConfigError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from assistant.config import Settings


#: batches larger than this are embedded with every core; smaller ones (questions) with one
BULK_TEXTS = 8


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
    """A sentence-transformers model loaded from a local folder; unit-length vectors.

    Normalised vectors make the dot product the cosine similarity, which is what the
    Chroma collection (``space: cosine``) and the sentence scorer both use.
    """

    def __init__(self, model: SentenceTransformer, batch_size: int = 32) -> None:
        self._model = model
        self._batch_size = batch_size
        self._cache: dict[str, np.ndarray] = {}

    @property
    def dimension(self) -> int:
        return int(self._model.get_sentence_embedding_dimension() or 0)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit vectors for ``texts``, one row each (float32)."""
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
            if len(self._cache) >= 1024:
                self._cache.pop(next(iter(self._cache)))
            self._cache[text] = vector
        return vector

    def clear_cache(self) -> None:
        """Forget cached query vectors (benchmarks measure the model, not the cache)."""
        self._cache.clear()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.query_vector(text).tolist()


def load_embeddings(settings: Settings) -> LocalEmbeddings:
    """Load the configured model from its folder, never from a hub."""
    folder: Path = settings.model_dir()
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        # a progress bar per model load is noise on a terminal and in logs
        transformers_logging.disable_progress_bar()
        kwargs: dict[str, Any] = {"device": "cpu", "local_files_only": True}
        model = SentenceTransformer(str(folder), **kwargs)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the embedding model from {folder}: {exc}") from exc
    return LocalEmbeddings(model)
