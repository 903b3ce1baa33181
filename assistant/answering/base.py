"""What every answerer shares: the checked request, what retrieval hands the answerer, the
``Answerer`` protocol, and the wording of a refusal.

An answerer turns a question and its retrieved passages into a stream of events: the
draft as it is written (``Delta``s, language models only), then one ``Final`` holding the
``Answer``. ``Assistant.ask`` is the last event of ``Assistant.stream``, so the two
cannot answer differently.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from assistant import prompts
from assistant.schemas import Answer, Final, StreamEvent, Turn

if TYPE_CHECKING:
    import numpy as np

    from assistant.knowledge import Snapshot
    from assistant.retrieval import Hit


@dataclass(frozen=True)
class Request:
    """A checked question, ready for retrieval."""

    question: str
    history: tuple[Turn, ...]
    article: str | None


@dataclass(frozen=True)
class Retrieved:
    """What the retrieval step hands the answerer."""

    request: Request
    query: str
    vector: np.ndarray
    #: the question's own vector; differs from ``vector`` for a follow-up, whose search
    #: query includes the previous question but whose answer must fit the new one
    question_vector: np.ndarray
    hits: list[Hit]
    #: the index as the question saw it: the answer names and links articles from it
    knowledge: Snapshot
    #: the question as the language model rewrote it to stand alone (follow-ups only)
    standalone: str | None = None
    #: why the language model failed while rewriting; the answer then skips it
    llm_failure: str | None = None


class Answerer(Protocol):
    """Turns a question and its retrieved passages into events ending in the answer."""

    def answer(self, retrieved: Retrieved) -> Iterator[StreamEvent]:
        """``Delta``s of a draft (none for an answerer that drafts nothing), then one
        ``Final``; never raises for a failing model (it falls back instead)."""
        ...


def final_answer(events: Iterable[StreamEvent]) -> Answer:
    """The answer a stream of events ends with."""
    final = None
    for event in events:
        final = event
    if not isinstance(final, Final):
        raise RuntimeError("an answer's events must end with its Final event")
    return final.answer


def refusal_text(
    reason: str, names: tuple[str, ...], knowledge: Snapshot, article: str | None
) -> str:
    """The refusal in the project's words (``refusal_*`` templates), naming what the
    articles in scope cover."""
    info = knowledge.catalog.get(article) if article else None
    scope = [info] if info else knowledge.articles()
    covers = ", ".join(f"“{a.title}”" for a in scope[:3]) + (" and more" if len(scope) > 3 else "")
    if names:
        return prompts.render(f"refusal_{reason}", names=" or ".join(names), covers=covers)
    return prompts.render("refusal_no_match", covers=covers)
