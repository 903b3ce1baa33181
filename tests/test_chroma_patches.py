"""The patches of chromadb's private state (``assistant/chroma_patches.py``), pinned to the
chromadb version they were checked against. The HTTP timeout is checked against a real
``chroma run`` server in ``test_chroma_server.py``."""

from __future__ import annotations

import shutil
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from assistant.chroma_patches import CHECKED_CHROMADB, forget_client


def test_chromadb_is_the_version_the_patches_were_checked_against() -> None:
    assert chromadb.__version__ == CHECKED_CHROMADB, (
        f"chromadb is now {chromadb.__version__}, but assistant/chroma_patches.py was checked "
        f"against {CHECKED_CHROMADB}: it reaches into chromadb's private state, so recheck "
        "both patches there (and their tests), then set CHECKED_CHROMADB to the new version"
    )


def _client(folder: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(
        path=str(folder), settings=ChromaSettings(anonymized_telemetry=False)
    )


def test_forget_client_lets_a_replaced_store_be_opened_afresh(tmp_path: Path) -> None:
    folder = tmp_path / "chroma"
    _client(folder).create_collection("old")
    shutil.rmtree(folder)  # e.g. rebuilt by another process, or damaged and set aside
    # chromadb hands back its cached client of the path, which still sees the old store
    assert [c.name for c in _client(folder).list_collections()] == ["old"]
    forget_client(folder)
    assert _client(folder).list_collections() == []
    forget_client(tmp_path / "never-opened")  # nothing cached: nothing to do
