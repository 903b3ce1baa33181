"""Which sentences of an article answer a question: the signals, their weights, the pick.

Every weight here was chosen by cross-validation grouped by article (``python -m
benchmarks.crossval``; its ablation table in docs/evaluation.md shows what each signal
adds on articles left out of the tuning), not fitted to one article's wording. The
signals are general: the sentence's meaning (embedding cosine, on a question whose typos
are corrected against the article's own words), read alone and after the sentence before
it (so "It includes £4.2 million for flood defences" is about the capital programme the
sentence before names), and whether it is where a thing the question names is first
mentioned (news introduces a person or a plan with who or what it is). A heading
("What happens next") is never quoted: it matches a question's topic and holds no fact
(+0.005 held-out at equal words once pages with subheadings joined the pool). Others we
measured added nothing on held-out articles, so they were removed or never kept: the
meaning of the sentence's paragraph (nothing in three rounds), a bonus for the best
sentence's neighbour, whether a sentence holds the kind of thing asked for (a number, a
date, a quotation, an entity of spaCy's kind), who is speaking, whether it is an
editor's note, embedding the lede without its wire dateline, BM25 over sentences, the
article's title prepended to each sentence, first mentions weighted by how rare the word
is, and a second sentence chosen for what it adds to the first (maximal marginal
relevance).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.text import term_set


@dataclass(frozen=True)
class Weights:
    """How the signals add up, and when a second sentence joins the first."""

    #: the share of the sentence's meaning taken from it read in context (after the
    #: sentence before it); the rest from the sentence alone
    context: float = 0.6
    #: the sentence first mentions one of the question's terms
    first: float = 0.05
    #: a second sentence joins when it scores within this much of the best
    second_within: float = 0.13
    #: 1: a heading is never quoted (0 only to measure what that adds; a number, so the
    #: cross-validation's grid searches it like the weights)
    skip_headings: float = 1.0


DEFAULT = Weights()


@dataclass(frozen=True)
class Signals:
    """Per-sentence signals for one question, sentences in reading order."""

    #: cosine similarity to the question (and its conversation context)
    dense: np.ndarray
    #: ... of the sentence read after the one before it
    in_context: np.ndarray
    first: np.ndarray
    #: 1 for a heading ("What happens next"): it names what follows and is never quoted
    heading: np.ndarray


def first_mentions(sentences: Sequence[str], question: str) -> np.ndarray:
    """1 for each sentence that is the first to use one of the question's terms."""
    wanted = term_set(question)
    seen: set[str] = set()
    marks = np.zeros(len(sentences))
    for i, text in enumerate(sentences):
        found = term_set(text) & wanted
        if found - seen:
            marks[i] = 1.0
        seen |= found
    return marks


def signals(
    question: str,
    sentences: Sequence[str],
    *,
    dense: np.ndarray,
    in_context: np.ndarray,
    heading: np.ndarray,
) -> Signals:
    """The signals of every sentence, given their cosine similarities to the question (of
    the sentence alone and of the sentence in context) and which are headings."""
    return Signals(
        dense=dense,
        in_context=in_context,
        first=first_mentions(sentences, question),
        heading=heading,
    )


def combined(s: Signals, w: Weights = DEFAULT) -> np.ndarray:
    """One score per sentence."""
    meaning = (1 - w.context) * s.dense + w.context * s.in_context
    return meaning + w.first * s.first


def pick(s: Signals, w: Weights = DEFAULT, most: int = 2) -> list[int]:
    """Indices (reading order) of the sentences to quote: the best, and the runner-up
    when it scores close to it; headings only when the article has nothing else."""
    scores = combined(s, w)
    if not len(scores):
        return []
    order = [int(i) for i in np.argsort(-scores, kind="stable")]
    if w.skip_headings:
        order = [i for i in order if not s.heading[i]] or order
    chosen = order[:1]
    if most >= 2 and len(order) > 1 and scores[order[1]] >= scores[order[0]] - w.second_within:
        chosen.append(order[1])
    return sorted(chosen)
