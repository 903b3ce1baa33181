"""The offline answerer: pick the article sentences that answer, cite them, or abstain.

Each sentence of the retrieved passages gets one score from three signals:

- how close its embedding is to the question's (paraphrases, "Moscow" for Russia),
- how much of the question's content (weighted by rarity) it contains (names, numbers),
- how well its passage was retrieved (context), plus a small bonus when its form fits
  the question (a number for "how many", a quotation for "what did X say").

The best sentence answers; a neighbour joins it only when it scores almost as well, or
when it continues the same quotation. The answerer abstains when the question names
someone or something the article never mentions, or when no sentence scores well enough.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.aliases import expand
from assistant.answering.names import unknown_names
from assistant.retrieval import Hit, LexicalIndex
from assistant.schemas import Citation, Passage, RetrievedPassage, Sentence
from assistant.text import terms, word_count

# Weights of the three signals and of the form bonus (sum of weights is 1).
W_DENSE, W_LEXICAL, W_PASSAGE, FORM_BONUS = 0.5, 0.3, 0.2, 0.08

#: below this score no sentence answers the question
MIN_SCORE = 0.36
#: a question whose best sentence shares little of its content and is not close in
#: meaning either is about something else
MIN_DENSE_WHEN_NO_OVERLAP = 0.45
#: a second sentence joins the answer when it scores at least this share of the best
JOIN_RATIO = 0.92
#: most sentences in an answer (list questions may use all of them)
MAX_SENTENCES, MAX_LIST_SENTENCES = 2, 3
#: after "What is X?", a next sentence that refers back with a pronoun joins when it scores
#: this share of the best (it rarely repeats the question's words, so it scores low)
FOLLOWER_RATIO = 0.35
#: a best sentence shorter than this (in words) is too thin on its own; add its neighbour
MIN_ANSWER_WORDS = 7

_NUMBER_Q = re.compile(r"\bhow (many|much|long|old|far|big)\b|\bwhat (number|percentage|share)\b")
_TIME_Q = re.compile(r"\bwhen\b|\bwhat (year|month|day|date|time)\b|\bhow soon\b")
_QUOTE_Q = re.compile(r"\b(say|said|says|tell|told|quote|word|words|warn|warned|claim|claimed)\b")
_LIST_Q = re.compile(
    r"\b(which|what) (are|were) (the )?\w+s\b|\blist\b|\bname (the|all)\b|\bwhat .*\bneeds?\b"
)
_NUMBERISH = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion|dozen)\b",
    re.IGNORECASE,
)
_TIMEISH = re.compile(
    r"\b(19|20)\d\d\b|\b(january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|"
    r"today|tomorrow|week|month|year|winter|summer|spring|autumn|fall)\b",
    re.IGNORECASE,
)
#: "What is the Victory Plan?", "Who is Mark Rutte?": a short subject and nothing else
_DEFINITION_Q = re.compile(r"^\s*(what|who)('s|\s+(is|are|was|were))(\s+[\w'’.-]+){1,4}\s*\??\s*$")
_PRONOUN_START = re.compile(r"^[“\"]?(he|she|they|it|this|these|his|her|their)\b", re.IGNORECASE)
_QUOTE_MARK = re.compile(r"[“”\"]")


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage with its score."""

    passage: Passage
    index: int
    sentence: Sentence
    score: float
    dense: float
    lexical: float
    #: the question's terms this sentence contains
    covered: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Refusal:
    """Why the answerer abstained, for the wording in ``prompts/``."""

    reason: str  # "unknown_names" or "no_match"
    names: tuple[str, ...] = ()


def _form_bonus(question: str, sentence: str) -> float:
    q = question.lower()
    if _NUMBER_Q.search(q) and _NUMBERISH.search(sentence):
        return FORM_BONUS
    if _TIME_Q.search(q) and _TIMEISH.search(sentence):
        return FORM_BONUS
    if _QUOTE_Q.search(q) and _QUOTE_MARK.search(sentence):
        return FORM_BONUS
    return 0.0


def _coverage(query_terms: set[str], sentence_terms: set[str], idf: dict[str, float]) -> float:
    total = sum(idf[t] for t in query_terms)
    if total <= 0:
        return 0.0
    return sum(idf[t] for t in query_terms & sentence_terms) / total


def score_sentences(
    question: str,
    query: str,
    hits: Sequence[Hit],
    query_vector: np.ndarray,
    sentence_vectors: dict[str, np.ndarray],
    lexical: LexicalIndex,
    article_id: str | None,
) -> list[Candidate]:
    """Every sentence of the retrieved passages, best first."""
    query_terms = set(terms(expand(query)))
    idf = {t: lexical.idf(t, article_id) for t in query_terms}
    candidates: list[Candidate] = []
    for hit in hits:
        for j, sentence in enumerate(hit.passage.sentences):
            vector = sentence_vectors.get(f"{hit.passage.passage_id}:{j}")
            dense = float(vector @ query_vector) if vector is not None else hit.dense
            sentence_terms = set(terms(sentence.text))
            cover = _coverage(query_terms, sentence_terms, idf)
            score = (
                W_DENSE * dense
                + W_LEXICAL * cover
                + W_PASSAGE * hit.score
                + _form_bonus(question, sentence.text)
            )
            covered = frozenset(query_terms & sentence_terms)
            candidates.append(Candidate(hit.passage, j, sentence, score, dense, cover, covered))
    candidates.sort(key=lambda c: c.score, reverse=True)
    return candidates


def _opens_quote(text: str) -> bool:
    return text.lstrip()[:1] in '“"' and not text.rstrip().endswith(("”", '"'))


def _needs(question: str, best: Candidate, follower: Candidate) -> bool:
    """Whether the best sentence needs the one after it to make sense as an answer.

    A thin sentence ("The conflict has global implications."), a quotation that goes on
    in the next sentence, or, for a "what is X?" question, a next sentence that goes on
    about X with a pronoun ("... his “Victory Plan.” He wants Ukraine to join NATO ...").
    """
    text, after = best.sentence.text, follower.sentence.text
    if word_count(text) < MIN_ANSWER_WORDS:
        return True
    if _QUOTE_MARK.search(text) and _opens_quote(after):
        return True
    # "What is the Victory Plan?": the sentence naming it is followed by the one saying it
    return (
        bool(_DEFINITION_Q.search(question.lower()))
        and bool(_PRONOUN_START.match(after))
        and follower.score >= FOLLOWER_RATIO * best.score
    )


def choose(question: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The best sentence and the neighbours that belong with it, in reading order."""
    best = candidates[0]
    limit = MAX_LIST_SENTENCES if _LIST_Q.search(question.lower()) else MAX_SENTENCES
    chosen = [best]
    covered = set(best.covered)
    for other in candidates[1:]:
        if len(chosen) >= limit or other.score < JOIN_RATIO * best.score:
            break
        # a second sentence must bring something of the question the first lacks
        if other.covered - covered:
            chosen.append(other)
            covered |= other.covered
    by_position = {(c.passage.passage_id, c.index): c for c in candidates}
    if len(chosen) < limit:
        follower = by_position.get((best.passage.passage_id, best.index + 1))
        if follower is not None and follower not in chosen and _needs(question, best, follower):
            chosen.append(follower)
    return sorted(chosen, key=lambda c: (c.passage.article_id, c.passage.index, c.index))


def refusal_reason(
    question: str,
    candidates: Sequence[Candidate],
    lexical: LexicalIndex,
    article_id: str | None,
) -> Refusal | None:
    """Why the article cannot answer, or ``None`` when it can."""
    missing = unknown_names(question, lexical.vocabulary(article_id))
    if missing:
        return Refusal("unknown_names", tuple(dict.fromkeys(missing)))
    if not candidates:
        return Refusal("no_match")
    best = candidates[0]
    if best.score < MIN_SCORE:
        return Refusal("no_match")
    if best.lexical == 0 and best.dense < MIN_DENSE_WHEN_NO_OVERLAP:
        return Refusal("no_match")
    return None


def cite(
    chosen: Sequence[Candidate], articles: dict[str, tuple[str, str | None]]
) -> tuple[str, list[Citation]]:
    """The answer text with ``[n]`` markers and its citations.

    Sentences next to each other in one passage form one citation: their quote is the
    contiguous span of the article body from the first sentence's start to the last's end.
    """
    groups: list[list[Candidate]] = []
    for c in chosen:
        last = groups[-1][-1] if groups else None
        if last and last.passage.passage_id == c.passage.passage_id and last.index + 1 == c.index:
            groups[-1].append(c)
        else:
            groups.append([c])
    parts: list[str] = []
    citations: list[Citation] = []
    for n, group in enumerate(groups, start=1):
        passage = group[0].passage
        start, end = group[0].sentence.start, group[-1].sentence.end
        quote = passage.text[start - passage.start : end - passage.start]
        title, url = articles.get(passage.article_id, (passage.article_title, None))
        citations.append(
            Citation(
                n=n,
                article_id=passage.article_id,
                article_title=title,
                passage_id=passage.passage_id,
                quote=quote,
                start=start,
                end=end,
                score=round(max(c.score for c in group), 4),
                url=url,
            )
        )
        parts.append(f"{quote} [{n}]")
    return " ".join(parts), citations


def retrieved(hits: Sequence[Hit]) -> list[RetrievedPassage]:
    """The ranked retrieval result as the answer reports it."""
    return [
        RetrievedPassage(
            passage_id=h.passage.passage_id,
            article_id=h.passage.article_id,
            text=h.passage.text,
            score=round(h.score, 4),
        )
        for h in hits
    ]
