"""The offline answerer: quotes the one or two sentences of the article that answer best.

It refuses only what has nothing to do with the article: instructions instead of a
question, a name the article never uses (after typo and abbreviation matching), or a
question that shares neither meaning nor words with it. Everything else gets the best
sentences (``ranking``); when even the best is a weak match, the answer says so ("The
article does not say exactly; the closest it comes is: ...") and still cites it, since a
reader is better served by a cited near miss than by a refusal. Telling a tempting near
miss (the right kind of fact about the wrong subject) from an answer needs reading, which
is the language-model mode's job (``generative``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from assistant import prompts
from assistant.answering import ranking, spelling
from assistant.answering.base import Retrieved, refusal_text
from assistant.answering.injection import looks_like_instructions
from assistant.answering.names import is_known, question_names
from assistant.chunking import has_words, is_heading
from assistant.citations import cite as cite_span
from assistant.citations import markers
from assistant.retrieval import Hit, contextualize
from assistant.schemas import (
    Answer,
    Citation,
    Final,
    Passage,
    RetrievedPassage,
    Sentence,
    StreamEvent,
)
from assistant.store import sentence_id
from assistant.text import STOPWORDS, stem, words

if TYPE_CHECKING:
    from assistant.embeddings import LocalEmbeddings
    from assistant.knowledge import Snapshot

#: below this cosine similarity for every sentence, and with a word that is neither in
#: the article nor common in English ("sourdough", "Bundesliga"), a question may be about
#: something else: it gets at best the closest the article comes, never a plain answer
#: (both chosen by grouped cross-validation)
OFF_TOPIC_DENSE = 0.32
#: ... "common": wordfreq's Zipf frequency at least this (4.5: about 30 per million words)
OFF_TOPIC_ZIPF = 4.5
#: below this, the best sentence is shown as the closest the article comes, not an answer;
#: a question about something else this far from every sentence is refused. Between the
#: two, a reader's paraphrase in words the article does not use ("where can I go if I've
#: got nowhere to stay") is as likely as a question about something else, and a cited
#: near miss serves the reader better than a refusal would
WEAK_DENSE = 0.2


@dataclass(frozen=True)
class Candidate:
    """A sentence of the article, where it stands (passage and index) and its score."""

    passage: Passage
    index: int
    sentence: Sentence
    score: float = 0.0
    dense: float = 0.0
    lexical: float = 0.0


@dataclass(frozen=True)
class _Sentences:
    """The sentences an answer is chosen from, in reading order, with their vectors."""

    candidates: list[Candidate]
    texts: list[str]
    vectors: np.ndarray
    #: each sentence's vector in context (after the sentence before it, ``store``)
    in_context: np.ndarray


@dataclass(frozen=True)
class Refusal:
    """Why a question gets no answer: a ``refusal_*`` template and the names it quotes."""

    reason: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """A question read against its article: each sentence's signals, and whether even the
    best match is weak."""

    sentences: _Sentences
    signals: ranking.Signals
    weak: bool


class ExtractiveAnswerer:
    """Quotes the best sentences, cited; refuses only unrelated questions."""

    def __init__(
        self,
        embeddings: LocalEmbeddings,
        weights: ranking.Weights = ranking.DEFAULT,
        *,
        correct_typos: bool = True,
    ) -> None:
        self.embeddings = embeddings
        self.weights = weights
        #: on in the product; off only to measure what it adds (benchmarks/crossval.py)
        self.correct_typos = correct_typos

    def answer(self, state: Retrieved) -> Iterator[StreamEvent]:
        """One ``Final``: the answer arrives whole, with no draft before it."""
        yield Final(self.compose(state))

    def compose(self, state: Retrieved) -> Answer:
        """The cited answer, the closest the article comes, or a refusal saying why."""
        request, knowledge = state.request, state.knowledge
        reading = self.read(state)
        if isinstance(reading, Refusal):
            return Answer(
                question=request.question,
                answer=refusal_text(reading.reason, reading.names, knowledge, request.article),
                abstained=True,
                passages=retrieved(state.hits),
            )
        scores = ranking.combined(reading.signals, self.weights)
        passages = reranked(reading.sentences.candidates, scores, len(state.hits))
        chosen = [
            _scored(reading.sentences.candidates[i], float(scores[i]))
            for i in ranking.pick(reading.signals, self.weights)
        ]
        links = knowledge.links({c.passage.article_id for c in chosen})
        text, citations = cite(chosen, links)
        if reading.weak:
            text = prompts.render("closest_match", quotes=text)
        return Answer(
            question=request.question,
            answer=text,
            abstained=reading.weak,
            citations=citations,
            passages=passages,
        )

    def read(self, state: Retrieved) -> Reading | Refusal:
        """The question read against the article: why it is refused, or the signals of
        every sentence that could answer it (``benchmarks/crossval.py`` reuses these)."""
        request, knowledge = state.request, state.knowledge
        if looks_like_instructions(request.question):
            return Refusal("no_match")
        sentences = self._sentences(state)
        if not sentences.candidates:
            return Refusal("no_match")
        question = request.question
        if self.correct_typos:
            question = spelling.corrected(question, spelling.words_of(sentences.texts))
        vocabulary = knowledge.lexical.vocabulary(request.article)
        initials = _initials(tuple(sentences.texts))
        pairs = _repeated_pairs(tuple(sentences.texts))
        names = question_names(question)
        missing = [
            n
            for n in names
            if not is_known(n, vocabulary) and not _abbreviates(n, initials, vocabulary, pairs)
        ]
        # refused when every name is unknown: "What did Orban say, and what did Macron
        # say?" is answered for Orban
        if missing and len(missing) == len(names):
            return Refusal("unknown_names", tuple(dict.fromkeys(missing)))
        alone, in_talk = self._question_vectors(state, question)
        closest = float(max((sentences.vectors @ alone).max(), (sentences.vectors @ in_talk).max()))
        elsewhere = closest < OFF_TOPIC_DENSE and _off_topic_words(question, vocabulary)
        if elsewhere and closest < WEAK_DENSE:
            return Refusal("no_match")
        signals = ranking.signals(
            question,
            sentences.texts,
            dense=_similarity(sentences.vectors, alone, in_talk),
            in_context=_similarity(sentences.in_context, alone, in_talk),
            heading=np.array([is_heading(c.passage) for c in sentences.candidates], dtype=float),
        )
        return Reading(sentences, signals, weak=elsewhere or closest < WEAK_DENSE)

    def _sentences(self, state: Retrieved) -> _Sentences:
        """Every sentence of the article asked about (or, across the archive, of the
        articles retrieval found), with its stored vector."""
        store = state.knowledge.store
        passages = _passages_in_scope(state, state.knowledge)
        stored = store.sentence_vectors(passages)
        in_context = store.context_vectors(passages)
        candidates: list[Candidate] = []
        rows: list[tuple[np.ndarray, np.ndarray]] = []
        for p in passages:
            for j, s in enumerate(p.sentences):
                key = sentence_id(p.passage_id, j)
                vector = stored.get(key)
                # a separator line ("***", "—") is a sentence to the splitter, never an answer
                if vector is None or not has_words(s.text):
                    continue
                candidates.append(Candidate(p, j, s))
                # a record another process is writing right now may lack its companions
                rows.append((vector, in_context.get(key, vector)))
        columns = [np.stack(c) for c in zip(*rows, strict=True)] if rows else []
        empty = np.zeros((0, 1), dtype=np.float32)
        return _Sentences(
            candidates=candidates,
            texts=[c.sentence.text for c in candidates],
            vectors=columns[0] if rows else empty,
            in_context=columns[1] if rows else empty,
        )

    def _question_vectors(self, state: Retrieved, question: str) -> tuple[np.ndarray, np.ndarray]:
        """Vectors of the question alone and in its conversation (typos corrected)."""
        if question == state.request.question:
            return state.question_vector, state.vector
        query = contextualize(question, state.request.history)
        if query == question:
            vector = self.embeddings.query_vector(question)
            return vector, vector
        own, in_context = self.embeddings.encode([question, query])
        return own, in_context


def _similarity(vectors: np.ndarray, alone: np.ndarray, in_talk: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row to the question, half to it alone and half to it in
    its conversation (a follow-up's "he" gets its referent from the history)."""
    return 0.5 * (vectors @ alone) + 0.5 * (vectors @ in_talk)


def _passages_in_scope(state: Retrieved, knowledge: Snapshot) -> list[Passage]:
    """The scoped article's passages, or those of the articles the retrieved passages
    belong to (in reading order): an answer is read in its article, not in a fragment."""
    article = state.request.article
    if article is not None:
        return knowledge.lexical.scope(article)
    found = dict.fromkeys(h.passage.article_id for h in state.hits)
    return [p for a in found for p in knowledge.lexical.scope(a)]


def _scored(c: Candidate, score: float) -> Candidate:
    return Candidate(c.passage, c.index, c.sentence, score, c.dense, c.lexical)


def _off_topic_words(question: str, vocabulary: frozenset[str]) -> bool:
    """Whether the question is made of words about something else: most of its content
    words are not in the article, and one of those is not common in English either."""
    content = [w for w in words(question) if w not in STOPWORDS and len(w) > 2]
    foreign = [w for w in content if w not in vocabulary and stem(w) not in vocabulary]
    if not content or len(foreign) * 2 <= len(content):
        return False
    return any(not w.isdigit() and spelling.zipf(w) < OFF_TOPIC_ZIPF for w in foreign)


@lru_cache(maxsize=256)
def _initials(texts: tuple[str, ...]) -> str:
    """The first letters of the article's words in order (hyphenated parts count), where
    an abbreviation the article never writes can still be found spelt out; then, after a
    space, the same without short function words, which abbreviations skip ("CEE" for
    "Centre for Education Economics"). Remembered per article, like the spelling
    dictionary."""
    found = [w for t in texts for w in re.findall(r"[A-Za-z]+", t)]
    content = [w for w in found if not (w.lower() in STOPWORDS and len(w) <= 3)]
    return " ".join("".join(w[0] for w in ws).lower() for ws in (found, content))


@lru_cache(maxsize=256)
def _repeated_pairs(texts: tuple[str, ...]) -> frozenset[str]:
    """The initials of each pair of adjacent content words that the article uses more than
    once ("requires improvement", "time trial"): the terms a reader shortens to two
    letters ("RI", "TT"). Remembered per article, like ``_initials``."""
    seen: set[tuple[str, str]] = set()
    repeated: set[str] = set()
    for text in texts:
        found = [w.lower() for w in re.findall(r"[A-Za-z]+", text)]
        for pair in zip(found, found[1:], strict=False):
            if any(w in STOPWORDS for w in pair):
                continue
            if pair in seen:
                repeated.add(pair[0][0] + pair[1][0])
            seen.add(pair)
    return frozenset(repeated)


def _abbreviates(
    name: str, initials: str, vocabulary: frozenset[str], pairs: frozenset[str] = frozenset()
) -> bool:
    """Whether a name in capitals ("CFO") abbreviates words of the article ("chief
    financial officer"), or a spelt-out name's initials are an abbreviation the article
    uses: the two forms a news article mixes."""
    letters = name.replace(".", "")
    if letters.isalpha() and (letters.isupper() or _capitals(letters) >= 2) and " " not in name:
        # capitals ("CFO") or mostly ("DfT": Department for Transport). Two letters begin
        # some pair of words in any long article, so two match only a term the article
        # repeats (``_repeated_pairs``)
        if len(letters) == 2:
            return letters.lower() in pairs
        return 3 <= len(letters) <= 6 and letters.lower() in initials
    spelt = "".join(w[0] for w in name.split() if w[:1].isupper()).lower()
    return len(spelt) >= 2 and spelt in vocabulary


def _capitals(word: str) -> int:
    return sum(c.isupper() for c in word)


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
    citations = [
        cite_span(
            n,
            group[0].passage,
            group[0].sentence.start,
            group[-1].sentence.end,
            max(c.score for c in group),
            articles,
        )
        for n, group in enumerate(groups, start=1)
    ]
    parts = [f"{c.quote} {markers([c.n])}" for c in citations]
    return " ".join(parts), citations


def reranked(candidates: Sequence[Candidate], scores: np.ndarray, k: int) -> list[RetrievedPassage]:
    """The ``k`` passages holding the best-scoring sentences, each scored by its best one:
    the answerer reads every passage in scope, so its sentence ranking is a finer
    retrieval than the passage search that found the article (what ``passages`` reports,
    and evidence_recall_at_k measures)."""
    best: dict[str, tuple[float, Passage]] = {}
    for c, score in zip(candidates, scores, strict=True):
        pid = c.passage.passage_id
        if pid not in best or score > best[pid][0]:
            best[pid] = (float(score), c.passage)
    ranked = sorted(best.values(), key=lambda item: -item[0])[:k]
    return [
        RetrievedPassage(
            passage_id=p.passage_id, article_id=p.article_id, text=p.text, score=round(score, 4)
        )
        for score, p in ranked
    ]


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
