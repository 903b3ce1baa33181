"""The embedded store's raw Chroma collections, opened with chromadb's public API.

Tests that must see or damage records behind the store's back (an interrupted write,
orphan records) use this, so they never reach into ``Store``'s private attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from assistant.config import Settings


def raw_collection(settings: Settings, name: str) -> Collection:
    """The collection ``name`` (``store.PASSAGES``, ``store.SENTENCES``) of the embedded store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    # the same path and settings as the store's client: chromadb hands back the same system
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    return client.get_collection(name)
