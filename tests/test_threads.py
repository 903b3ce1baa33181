"""What the web app's worker threads share while answering: stemming and the query-vector
cache give each thread the same results as one thread alone, and never raise.

A load run (16 clients) once got a 500 from a stemmer shared by every thread; these tests
make the threads switch as often as Python allows, so a shared state shows at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from assistant import embeddings as embeddings_module
from assistant.text import stem, terms

WORDS = [
    f"{root}{suffix}"
    for root in ("nation", "relate", "conditional", "happy", "general", "troop", "accuse")
    for suffix in ("", "s", "ing", "ed", "ly", "ness", "ization", "ational")
]


@pytest.fixture
def switching() -> Iterator[None]:
    """Threads switch after every few bytecodes instead of every 5 ms."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def in_threads(work: Callable[[], Any], threads: int = 8) -> list[BaseException]:
    """Run ``work`` in ``threads`` threads at once; the exceptions they raised."""
    raised: list[BaseException] = []
    start = threading.Barrier(threads)

    def run() -> None:
        start.wait()
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            raised.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return raised


def test_stemming_from_many_threads_gives_one_threads_stems(switching: None) -> None:
    expected = {word: stem(word) for word in WORDS}
    sentence = "The nations related conditionally to the accused troops' generalization"
    expected_terms = terms(sentence)
    got: list[tuple[str, str]] = []

    def work() -> None:
        for _ in range(20):
            stem.cache_clear()  # every call stems again, as new words in new questions do
            got.extend((word, stem(word)) for word in WORDS)
            assert terms(sentence) == expected_terms

    raised = in_threads(work)
    assert not raised, raised[:3]
    wrong = [(word, found) for word, found in got if found != expected[word]]
    assert not wrong, wrong[:5]
    assert len(got) == 8 * 20 * len(WORDS)


def test_query_vector_cache_evicts_safely_from_many_threads(
    switching: None, embeddings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embeddings_module, "QUERY_CACHE", 4)
    questions = [f"What did {name} say about the troops?" for name in ("Orban", "Zelensky")]
    questions += ["Who sent the soldiers?", "Where are they fighting?", "When did it begin?"]
    expected = {q: embeddings.encode([q])[0] for q in questions}
    embeddings.clear_cache()

    def work() -> None:
        for _ in range(6):
            for question in questions:
                vector = embeddings.query_vector(question)
                assert np.allclose(vector, expected[question], atol=1e-5)

    raised = in_threads(work, threads=6)
    assert not raised, raised[:3]
    assert len(embeddings._cache) <= 4
