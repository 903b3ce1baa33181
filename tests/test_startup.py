"""A start's two helpers (``assistant/startup.py``): the collector paused over the imports
and then given back as it was, with what the start made frozen; and a function run on a
thread meanwhile, its value or error handed over, never left running."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.startup import collector_paused, in_background


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()  # the objects frozen here go back to the collector
    if enabled:
        gc.enable()


def test_the_collector_is_off_inside_and_back_on_after() -> None:
    gc.enable()
    frozen = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        made = [[n] for n in range(1000)]  # what a start makes (modules, classes)
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(made)  # out of later collections


def test_nested_pauses_turn_it_on_only_at_the_outermost_end() -> None:
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_the_collector_comes_back_after_an_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("an import failed")
    assert gc.isenabled()


def test_the_background_value_and_error_reach_the_caller() -> None:
    with in_background(lambda a, b: a + b, 2, b=3) as pending:
        assert pending.result() == 5
    # the thread's exception is the caller's, where it asks for the value
    with pytest.raises(TypeError), in_background(int, "x", base=[]) as pending:
        pending.result()


def test_the_block_ends_only_when_the_thread_has() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.2)
        finished.set()

    with pytest.raises(RuntimeError), in_background(slow):
        raise RuntimeError("the main thread's work failed")
    assert finished.is_set()  # not left running while the process exits


def test_the_model_loads_beside_chromadb_with_a_cached_export(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``Assistant.opened`` opens the model on a thread only when the export is
    cached (the first start exports with torch, and logs it, in the main thread)."""
    from assistant import chain, embeddings, store

    threads: list[str] = []

    def fake_load(settings: object) -> str:
        threads.append(threading.current_thread().name)
        return "embeddings"

    monkeypatch.setattr(embeddings, "load_embeddings", fake_load)
    monkeypatch.setattr(store, "open_store", lambda settings, found: ("store", found))
    monkeypatch.setattr(chain.Assistant, "__init__", lambda self, s, e, st: None)
    monkeypatch.setattr(chain.prompts, "use", lambda folder: None)
    settings = SimpleNamespace(prompts_dir=None)
    for cached in (True, False):
        monkeypatch.setattr(embeddings, "export_is_cached", lambda settings, c=cached: c)
        chain.Assistant.opened(settings)  # type: ignore[arg-type]
    main = threading.main_thread().name
    assert threads[0].startswith("startup") and threads[1] == main
