"""Shared fixtures: a clean environment, real assistants on real Chroma stores in tmp folders."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_ID = "north-korean-troops-in-ukraine"
SEED_FILE = ROOT / "index" / "articles" / f"{SEED_ID}.txt"
FIXTURES = ROOT / "tests" / "fixtures"
#: the export cache the repo's own index uses (git-ignored), shared by tests and runs
ONNX_CACHE = ROOT / "index" / "onnx"

# a hidden download must fail loudly, not quietly succeed or hang
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ASSISTANT_* variable of the developer's shell leaks into a test."""
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    # one ONNX export of the model for every test's store (exporting costs many seconds);
    # tests of the export itself give their own folder
    monkeypatch.setenv("ASSISTANT_ONNX_DIR", str(ONNX_CACHE))


def seed_articles(folder: Path) -> Path:
    """A fresh articles folder holding the seed article."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED_FILE, folder / SEED_FILE.name)
    return folder


@pytest.fixture(scope="session")
def seed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder with the seed article and its built store (read-only for tests)."""
    root = tmp_path_factory.mktemp("seed")
    seed_articles(root / "articles")
    return root


@pytest.fixture(scope="session")
def seed_settings(seed_dir: Path):  # type: ignore[no-untyped-def]
    from assistant import Settings

    return Settings(
        articles_dir=seed_dir / "articles",
        chroma_dir=seed_dir / "chroma",
        feedback_file=seed_dir / "feedback.jsonl",
        _env_file=None,
    )


@pytest.fixture(scope="session")
def assistant(seed_settings):  # type: ignore[no-untyped-def]
    """The real assistant (real model, real embedded Chroma) on the seed article."""
    from assistant import Assistant

    return Assistant.from_settings(seed_settings)


@pytest.fixture
def fresh_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings for a store of a test's own, in its tmp folder (seed article included)."""
    from assistant import Settings

    seed_articles(tmp_path / "articles")
    return Settings(
        articles_dir=tmp_path / "articles",
        chroma_dir=tmp_path / "chroma",
        feedback_file=tmp_path / "feedback.jsonl",
        _env_file=None,
    )


@pytest.fixture(scope="session")
def embeddings(assistant):  # type: ignore[no-untyped-def]
    """The loaded model, shared (loading it costs a second or two)."""
    return assistant.embeddings


@pytest.fixture
def clean_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Run in an empty folder so no .env or index of the repo is picked up."""
    monkeypatch.chdir(tmp_path)
    yield tmp_path


_SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Say where the widget's browser tests left their screenshots."""
    shots = ROOT / "test-artifacts" / "widget"
    if any(p.stat().st_mtime >= _SESSION_START for p in shots.glob("*.png")):
        terminalreporter.write_line(f"widget screenshots: {shots}")
