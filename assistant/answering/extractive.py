"""The offline answerer: pick the article sentences that answer, cite them, or abstain.

Each sentence of the retrieved passages gets one score from three signals:

- how close its embedding is to the question's (paraphrases, "Moscow" for Russia),
- how much of the question's content (weighted by rarity) it contains (names, numbers),
- how well its passage was retrieved (context), plus a bonus when it has the form of
  answer the question asks for (``forms.py``: a number for "how many", a quotation for
  "what did X say").

The best sentence answers (the best of the form asked for, when the top one lacks it);
another joins only when it adds to the answer: a close second with more of the
question, the quotation's continuation, the reason after a "why?". "What did X say?"
is answered with X's own words. The answerer abstains when the question names someone
or something the article never mentions, asks for a form no matching sentence has,
reads as instructions to the assistant, or when no sentence scores well enough.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from assistant.aliases import expand
from assistant.answering.base import Retrieved, refusal_text
from assistant.answering.forms import REASON, SPEECH, AnswerForm, expected_form, speaker
from assistant.answering.injection import looks_like_instructions
from assistant.answering.names import is_known_phrase, question_names, unknown_names
from assistant.citations import cite as cite_span
from assistant.citations import markers
from assistant.retrieval import Hit, LexicalIndex
from assistant.schemas import (
    Answer,
    Citation,
    Final,
    Passage,
    RetrievedPassage,
    Sentence,
    StreamEvent,
)
from assistant.text import stem, term_set, terms, word_count, words

if TYPE_CHECKING:
    from assistant.embeddings import LocalEmbeddings

# Weights of the three signals and of the form bonus (sum of weights is 1).
W_DENSE, W_LEXICAL, W_PASSAGE, FORM_BONUS = 0.5, 0.3, 0.2, 0.08

#: share of a word's weight kept when it comes from the previous turn, not the question
CONTEXT_WEIGHT = 0.3
#: a best sentence this far in meaning from the question does not answer it; off-topic
#: questions and injections stay well below, paraphrases of the article above
MIN_DENSE = 0.35
#: ... unless it holds most of the question's words ("Who is Raj Menon?": a name means
#: little to the embedding model)
MIN_LEXICAL_ALONE = 0.5
#: and no sentence scoring below this answers, however close its meaning
MIN_SCORE = 0.2
#: a second sentence joins the answer when it scores at least this share of the best and
#: adds a word of the question (two-part questions are split, see ``split_question``)
JOIN_RATIO = 0.85
#: most sentences in an answer (list questions may use all of them)
MAX_SENTENCES, MAX_LIST_SENTENCES = 2, 3
#: after "What is X?", a next sentence that refers back with a pronoun joins when it scores
#: this share of the best (it rarely repeats the question's words, so it scores low)
FOLLOWER_RATIO = 0.35
#: after "Why ...?", the next sentence joins when it scores this share of the best
REASON_FOLLOWER_RATIO = 0.5
#: a best sentence shorter than this (in words) is too thin on its own; add its neighbour
MIN_ANSWER_WORDS = 7

_LIST_Q = re.compile(
    r"\b(which|what) (are|were) (the )?\w+s\b|\blist\b|\bname (the|all)\b|\bwhat .*\bneeds?\b"
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

    reason: str  # "unknown_names", "not_quoted" or "no_match"
    names: tuple[str, ...] = ()


def _form_bonus(form: AnswerForm | None, sentence: str, question: str) -> float:
    if form is None or not form.fits(sentence, question):
        return 0.0
    # "What did X say?" asks for the quotation itself, not a sentence about X
    return 2 * FORM_BONUS if form is SPEECH else FORM_BONUS


def _coverage(weights: dict[str, float], sentence_terms: frozenset[str]) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(w for t, w in weights.items() if t in sentence_terms) / total


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
    # words of the question itself count fully; words brought in from the earlier turn
    # (a follow-up's context) only help, so that "Have his allies agreed?" finds the
    # sentence about allies, not the one about him
    asked = set(terms(expand(question)))
    context = set(terms(expand(query))) - asked
    weights = {t: lexical.idf(t, article_id) for t in asked}
    weights.update({t: CONTEXT_WEIGHT * lexical.idf(t, article_id) for t in context})
    query_terms = asked | context
    form = expected_form(question)
    candidates: list[Candidate] = []
    for hit in hits:
        for j, sentence in enumerate(hit.passage.sentences):
            vector = sentence_vectors.get(f"{hit.passage.passage_id}:{j}")
            dense = float(vector @ query_vector) if vector is not None else hit.dense
            sentence_terms = term_set(sentence.text)
            cover = _coverage(weights, sentence_terms)
            score = (
                W_DENSE * dense
                + W_LEXICAL * cover
                + W_PASSAGE * hit.score
                + _form_bonus(form, sentence.text, question)
            )
            covered = frozenset(query_terms & sentence_terms)
            candidates.append(Candidate(hit.passage, j, sentence, score, dense, cover, covered))
    candidates.sort(key=lambda c: c.score, reverse=True)
    return candidates


_SECOND_QUESTION = re.compile(
    r"(?:,\s*|;\s*|\s+)(?:and|but)\s+(?:(?:on|in|at|for|from|by|with|to)\s+)?"
    r"(?=(?:what|who|whom|whose|when|where|why|how|which)\b)"
    r"|;\s*(?=(?:what|who|whom|whose|when|where|why|how|which|does|did|is|are|was|were)\b)",
    re.IGNORECASE,
)


def split_question(question: str) -> list[str]:
    """A question that asks two things ("Where did he speak, and why was he there?") as two.

    Only a second question word after "and" or a semicolon splits; "What did Rutte and
    Orban say?" stays whole.
    """
    parts = [p.strip(" ,;") for p in _SECOND_QUESTION.split(question, maxsplit=1)]
    return [p for p in parts if p] or [question]


def _starts_open_quotation(text: str) -> bool:
    """A sentence that opens a quotation and does not close it: the quotation goes on."""
    return text.lstrip()[:1] in '“"' and not text.rstrip().endswith(("”", '"'))


def _needs(question: str, best: Candidate, follower: Candidate) -> bool:
    """Whether the best sentence needs the one after it to make sense as an answer.

    A thin sentence ("The conflict has global implications."), a quotation that goes on
    in the next sentence, the reason for a "why?" that the next sentence gives, or, for a
    "what is X?" question, a next sentence that goes on about X with a pronoun ("... his
    “Victory Plan.” He wants Ukraine to join NATO ...").
    """
    text, after = best.sentence.text, follower.sentence.text
    if word_count(text) < MIN_ANSWER_WORDS:
        return True
    if _QUOTE_MARK.search(text) and _starts_open_quotation(after):
        return True
    if expected_form(question) is REASON:
        # "Why did the judge reject it?": the ruling, then the reason in the next sentence
        return follower.score >= REASON_FOLLOWER_RATIO * best.score
    # "What is the Victory Plan?": the sentence naming it is followed by the one saying it
    return (
        bool(_DEFINITION_Q.search(question.lower()))
        and bool(_PRONOUN_START.match(after))
        and follower.score >= FOLLOWER_RATIO * best.score
    )


def choose(
    question: str, candidates: Sequence[Candidate], best: Candidate, previous: str = ""
) -> list[Candidate]:
    """The best sentence and the neighbours that belong with it, in reading order.

    ``previous`` is the conversation's previous question, where "she" in "What did she
    say?" is found.
    """
    limit = MAX_LIST_SENTENCES if _LIST_Q.search(question.lower()) else MAX_SENTENCES
    who = speaker(question)
    if who and who.lower() in _PRONOUN_TERMS and question_names(previous):
        who = question_names(previous)[0]
    quotes = quotes_of(who, candidates) if who else []
    if quotes:
        # "What did X say?": X's own words; a second quotation when it goes on from the
        # first or scores almost as well
        first, rest = quotes[0], quotes[1:]
        goes_on = [
            q for q in rest if q.passage is first.passage and abs(q.index - first.index) == 1
        ]
        close = [q for q in rest[:1] if q.score >= JOIN_RATIO * first.score]
        return sorted([first, *(goes_on or close)[:1]], key=position)
    chosen = [best]
    covered = set(best.covered)
    form = expected_form(question)
    for other in candidates:
        if len(chosen) >= limit or other.score < JOIN_RATIO * best.score:
            break
        if other is best or (
            form and form.required and not form.fits(other.sentence.text, question)
        ):
            continue  # "How much did it cost?": only sentences with a sum join the answer
        # a second sentence must bring something of the question the first lacks
        if set(other.covered) - covered:
            chosen.append(other)
            covered |= set(other.covered)
    byposition = {(c.passage.passage_id, c.index): c for c in candidates}
    if len(chosen) < limit:
        follower = byposition.get((best.passage.passage_id, best.index + 1))
        if follower is not None and follower not in chosen and _needs(question, best, follower):
            chosen.append(follower)
    return sorted(chosen, key=position)


def position(c: Candidate) -> tuple[str, int, int]:
    """Where a candidate stands in its article, for putting sentences in reading order."""
    return (c.passage.article_id, c.passage.index, c.index)


def quotes_of(who: str, candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidate sentences quoting ``who``, best first.

    A quotation is theirs when its sentence names them ("... ,” Natarajan said.") or
    follows a sentence that does ("Frank Dutton, 67, ... “My brother found out ...”").
    """
    head = terms(who)[-1:]
    if not head or head[0] in _PRONOUN_TERMS:
        return []
    keys = set(head)
    if not any(w[:1].isupper() for w in who.split()):
        # "the entomologist": quoted under the name given beside the title
        for c in candidates:
            if head[0] in terms(c.sentence.text):
                keys.update(stem(w) for w in _surnames(c.sentence.text))
    found: list[Candidate] = []
    theirs: set[tuple[str, int]] = set()  # (passage, sentence) already known to be theirs
    for c in sorted(candidates, key=position):
        text = c.sentence.text
        before = c.passage.sentences[c.index - 1].text if c.index > 0 else ""
        names_them = bool(before) and bool(keys & set(terms(before)))
        goes_on = (c.passage.passage_id, c.index - 1) in theirs
        if _QUOTE_MARK.search(text) and (
            _attributed(text, keys) or ((names_them or goes_on) and _opens_with_quote(text))
        ):
            found.append(c)
        elif (goes_on or (names_them and _leads(before, keys))) and _PRONOUN_SAYS.match(text):
            found.append(c)  # reported speech: "He warned that ..."
        else:
            continue
        theirs.add((c.passage.passage_id, c.index))
    return sorted(found, key=lambda c: c.score, reverse=True)


_SAYING = frozenset(
    "said says told tells warned warns added adds wrote writes argued argues insisted "
    "claimed claims stated stressed urged asked explained recalled".split()
)


_PRONOUN_SAYS = re.compile(
    r"^(he|she|they)\s+(\w+\s+)?(said|says|told|tells|warned|warns|added|adds|wrote|argued|"
    r"insisted|claimed|stated|stressed|urged|explained|emphasi[sz]ed)\b",
    re.IGNORECASE,
)


def _leads(text: str, keys: set[str]) -> bool:
    """Whether one of ``keys`` is what the sentence is about: it speaks in it, or it
    comes in the first few words (the subject), so a following "he" or "they" is them."""
    return _attributed(text, keys) or bool(keys & {stem(w) for w in words(text)[:6]})


def _attributed(text: str, keys: set[str]) -> bool:
    """Whether the sentence says one of ``keys`` spoke: "Rutte said", "said Ana Ruiz"."""
    tokens = words(text)
    for i, token in enumerate(tokens):
        if stem(token) in keys:
            around = tokens[max(0, i - 3) : i] + tokens[i + 1 : i + 4]
            if _SAYING.intersection(around):
                return True
    return False


def _opens_with_quote(text: str) -> bool:
    return text.lstrip()[:1] in '“"'


_PRONOUN_TERMS = frozenset({"he", "she", "they", "him", "her", "them"})


#: a run of two or more capitalised words ("Dr. Tomasz Wierzbicki"): a person's full name
_FULL_NAME = re.compile(r"\b[A-Z][\w’'-]*\.?(?:\s+[A-Z][\w’'-]+)+")


def is_quoted(who: str, passages: Sequence[Passage]) -> bool:
    """Whether the article reports anything said by ``who`` ("the state governor").

    A sentence must say they spoke ("Lenz said", "said Ana Ruiz"), or name them and be
    followed by a quotation or a "he said" (the same rules as ``quotes_of``). A title
    ("the entomologist") also stands for the name given beside it.
    """
    head = terms(who)[-1:]
    if not head:
        return True
    keys = set(head)
    if not any(w[:1].isupper() for w in who.split()):
        for p in passages:
            for s in p.sentences:
                if head[0] in terms(s.text):
                    keys.update(stem(w) for w in _surnames(s.text))
    for p in passages:
        texts = [s.text for s in p.sentences]
        for i, text in enumerate(texts):
            after = texts[i + 1] if i + 1 < len(texts) else ""
            if _attributed(text, keys):  # with or without quotation marks
                return True
            if keys & set(terms(text)) and (
                _opens_with_quote(after) or (_leads(text, keys) and _PRONOUN_SAYS.match(after))
            ):
                return True
    return False


def _surnames(text: str) -> list[str]:
    return [m.group().split()[-1].lower() for m in _FULL_NAME.finditer(text)]


def pick_best(question: str, candidates: Sequence[Candidate]) -> Candidate | None:
    """The sentence that answers best: the top one, or the top one of the form asked for.

    "How much did the plant cost?" is answered by the best sentence with a sum of money
    in it, if one scores near enough the top; when the form is required and no sentence
    has it, nothing answers (``None``).
    """
    if not candidates:
        return None
    form = expected_form(question)
    if form is None or form.fits(candidates[0].sentence.text, question):
        return candidates[0]
    floor = form.fallback_ratio * candidates[0].score
    fitting = [c for c in candidates if c.score >= floor and form.fits(c.sentence.text, question)]
    if fitting:
        return fitting[0]
    return None if form.required else candidates[0]


def refusal_reason(
    question: str,
    candidates: Sequence[Candidate],
    lexical: LexicalIndex,
    article_id: str | None,
) -> Refusal | None:
    """Why the article cannot answer, or ``None`` when it can."""
    if looks_like_instructions(question):
        return Refusal("no_match")
    vocabulary = lexical.vocabulary(article_id)
    missing = unknown_names(question, vocabulary)
    who = speaker(question)
    if not missing and who and not is_known_phrase(who, vocabulary):
        missing = [who]  # "What did the state governor say?" when the article has no governor
    if missing:
        return Refusal("unknown_names", tuple(dict.fromkeys(missing)))
    # across the whole archive, the articles the question was matched to stand for it
    scopes = [article_id] if article_id else sorted({c.passage.article_id for c in candidates})
    if who and not is_quoted(who, [p for a in scopes for p in lexical.scope(a)]):
        return Refusal("not_quoted", (who,))
    best = candidates[0] if candidates else None
    if best is None or best.score < MIN_SCORE:
        return Refusal("no_match")
    if best.dense < MIN_DENSE and best.lexical < MIN_LEXICAL_ALONE:
        return Refusal("no_match")
    if pick_best(question, candidates) is None:
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


class ExtractiveAnswerer:
    """The offline answerer (the default): quotes the sentences that answer, or abstains."""

    def __init__(self, embeddings: LocalEmbeddings) -> None:
        #: embeds the later parts of a two-part question (the first part's vector is given)
        self.embeddings = embeddings

    def answer(self, retrieved: Retrieved) -> Iterator[StreamEvent]:
        """One ``Final``: the answer arrives whole, with no draft before it."""
        yield Final(self.compose(retrieved))

    def compose(self, state: Retrieved) -> Answer:
        """The cited answer, or the refusal saying why the article cannot give one."""
        request, knowledge = state.request, state.knowledge
        chosen, refusals = self._choose(state)
        passages = retrieved(state.hits)
        if not chosen:
            refusal = refusals[0]
            text = refusal_text(refusal.reason, refusal.names, knowledge, request.article)
            return Answer(question=request.question, answer=text, abstained=True, passages=passages)
        # only the cited articles: the catalog may hold thousands
        links = knowledge.links({c.passage.article_id for c in chosen})
        text, citations = cite(sorted(chosen, key=position), links)
        return Answer(
            question=request.question,
            answer=text,
            abstained=False,
            citations=citations,
            passages=passages,
        )

    def _choose(self, state: Retrieved) -> tuple[list[Candidate], list[Refusal]]:
        """The sentences that answer each part of the question, and why parts had none."""
        request, knowledge = state.request, state.knowledge
        sentence_vectors = knowledge.store.sentence_vectors([h.passage for h in state.hits])
        previous = next((t.content for t in reversed(request.history) if t.role == "user"), "")
        # "Where did he say it, and why was he there?": each part gets its own sentence;
        # a later part is read with the first, where its "he" and "there" are found
        parts = split_question(request.question)
        contexts = [state.query] + [f"{parts[0]} {part}" for part in parts[1:]]
        vectors = [state.question_vector]
        if len(parts) > 1:
            vectors += list(self.embeddings.encode(contexts[1:]))
        chosen: dict[tuple[str, int], Candidate] = {}
        refusals: list[Refusal] = []
        lexical, article = knowledge.lexical, request.article
        for part, context, vector in zip(parts, contexts, vectors, strict=True):
            candidates = score_sentences(
                part, context, state.hits, vector, sentence_vectors, lexical, article
            )
            refusal = refusal_reason(part, candidates, lexical, article)
            best = pick_best(part, candidates)
            if refusal is not None or best is None:
                refusals.append(refusal or Refusal("no_match"))
                continue
            for c in choose(part, candidates, best, previous or parts[0]):
                chosen.setdefault((c.passage.passage_id, c.index), c)
        return list(chosen.values()), refusals
