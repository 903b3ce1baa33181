"""The patches of chromadb's private state (``assistant/chroma_patches.py``), pinned to the
chromadb version they were checked against. The HTTP timeout is checked against a real
``chroma run`` server in ``test_chroma_server.py``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from assistant.chroma_patches import CHECKED_CHROMADB, forget_client, overrides_as_markers


def test_chromadb_is_the_version_the_patches_were_checked_against() -> None:
    assert chromadb.__version__ == CHECKED_CHROMADB, (
        f"chromadb is now {chromadb.__version__}, but assistant/chroma_patches.py was checked "
        f"against {CHECKED_CHROMADB}: it reaches into chromadb's private state, so recheck "
        "every patch there (and its tests), then set CHECKED_CHROMADB to the new version"
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


def test_chromadb_runs_with_its_override_markers_unchecked(tmp_path: Path) -> None:
    """A new process's store (as ``assistant ask`` opens it) imports chromadb with the
    markers of ``overrides_as_markers``: classes defined, a collection written and
    queried, and ``overrides`` not the checking package."""
    script = textwrap.dedent(
        f"""
        import sys
        from assistant.chroma_patches import overrides_as_markers
        overrides_as_markers()
        import chromadb
        from chromadb.config import Settings
        assert not hasattr(sys.modules["overrides"], "__VERSION__"), "the checking package"
        client = chromadb.PersistentClient(
            path={str(tmp_path / "chroma")!r}, settings=Settings(anonymized_telemetry=False))
        rows = client.get_or_create_collection("rows", embedding_function=None,
                                               metadata={{"hnsw:space": "cosine"}})
        rows.add(ids=["a", "b"], embeddings=[[1.0, 0.0], [0.0, 1.0]], documents=["x", "y"])
        found = rows.query(query_embeddings=[[0.9, 0.1]], n_results=1)
        print(found["ids"][0][0])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "a"


def test_the_markers_keep_out_once_chromadb_is_imported() -> None:
    # chromadb, imported at the top of this module, brought the checking package
    checking = sys.modules["overrides"]
    overrides_as_markers()
    assert sys.modules["overrides"] is checking
    assert hasattr(checking, "__VERSION__")
